//! The pipeline on a fake backend: a plan made by the real planner, run by the real
//! runner (jobserver, process groups, streaming, logs, artifacts), but with a fake cargo
//! (`FAKE_CARGO` below, a shell script) that writes the files a real build would and
//! prints cargo's `compiler-artifact` messages for them, or fails, or sleeps, as the
//! target's `env` in `par.toml` tells it. So one target failing, `--fail-fast`, a build
//! without its artifact and Ctrl-C are each checked in well under a second, where the
//! real builds of `tests/build.rs` take minutes; those stay for the real compilers.
//!
//! The runner tests share one process's interrupt state (`--fail-fast` signals every
//! registered child group), so they run one at a time (`SERIAL`).

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use parbuild::env::Env;
use parbuild::machine::{Machine, UserLinker};
use parbuild::metadata::{Artifact, ArtifactKind, Package};
use parbuild::pipeline::outcome::{Outcome, Status};
use parbuild::pipeline::runner;
use parbuild::pipeline::tokens::Ledger;
use parbuild::pipeline::ui::Ui;
use parbuild::plan::{self, Overrides, Plan};
use parbuild::progress::{ColorChoice, Reporter, Verbosity};
use support::{ACCOUNT_SEED, EM_AARCH64, EM_X86_64, Project, SERVICE_SEED, elf_binary};

static SERIAL: Mutex<()> = Mutex::new(());

/// `cargo build …` as the runner spells it, faked: for each `--target T` it copies
/// `$FAKE_BINS/T` (or a few bytes) to `<target-dir>/T/release/<bin>` and prints the
/// artifact message; `FAKE_SLEEP` waits first (writing its pid to `<target-dir>.pid`),
/// `FAKE_WAIT_FOR` waits for a file to exist, `FAKE_FAIL` fails like rustc,
/// `FAKE_NO_ARTIFACT` succeeds without one. It insists on
/// the jobserver being handed to it. Anything but `build` goes to the real cargo.
const FAKE_CARGO: &str = r#"#!/bin/sh
if [ "$1" != build ]; then exec "$FAKE_REAL_CARGO" "$@"; fi
shift
name=; dir=; targets=
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) name=$2; shift ;;
    --target) targets="$targets $2"; shift ;;
    --target-dir) dir=$2; shift ;;
  esac
  shift
done
case "$CARGO_MAKEFLAGS" in
  *jobserver*) ;;
  *) echo "error: no jobserver in CARGO_MAKEFLAGS" >&2; exit 102 ;;
esac
if [ -n "$FAKE_SLEEP" ]; then
  echo $$ > "$dir.pid"
  echo "   Compiling $name v0.3.0 (sleeping)" >&2
  sleep "$FAKE_SLEEP"
fi
if [ -n "$FAKE_WAIT_FOR" ]; then
  while [ ! -f "$FAKE_WAIT_FOR" ]; do sleep 0.01; done
fi
if [ -n "$FAKE_FAIL" ]; then
  echo "   Compiling $name v0.3.0" >&2
  echo "error[E0425]: cannot find value \`$FAKE_FAIL\` in this scope" >&2
  echo " --> src/main.rs:1:1" >&2
  echo "" >&2
  echo "error: could not compile \`$name\` (bin \"$name\") due to 1 previous error" >&2
  exit 101
fi
[ -n "$FAKE_NO_ARTIFACT" ] && exit 0
for t in $targets; do
  t=${t%%.2.*}
  out="$dir/$t/release/$name"
  mkdir -p "${out%/*}"
  if [ -f "$FAKE_BINS/$t" ]; then cp "$FAKE_BINS/$t" "$out"; else printf 'built for %s' "$t" > "$out"; fi
  printf '{"reason":"compiler-artifact","package_id":"path+file:///p#fake@0.3.0","manifest_path":"/p/Cargo.toml","target":{"kind":["bin"],"crate_types":["bin"],"name":"%s","src_path":"/p/src/main.rs","edition":"2021","doc":true,"doctest":false,"test":true},"profile":{"opt_level":"3","debuginfo":0,"debug_assertions":false,"overflow_checks":false,"test":false},"features":[],"filenames":["%s"],"executable":"%s","fresh":false}\n' "$name" "$out" "$out"
done
"#;

const HOST: &str = "x86_64-unknown-linux-gnu";
const AARCH64: &str = "aarch64-unknown-linux-gnu";

/// A project directory holding the fake cargo and a target directory.
struct Fake {
    dir: tempfile::TempDir,
}

impl Fake {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cargo = dir.path().join("fake-cargo");
        std::fs::write(&cargo, FAKE_CARGO).unwrap();
        std::fs::set_permissions(&cargo, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        Self { dir }
    }

    fn cargo(&self) -> PathBuf {
        self.dir.path().join("fake-cargo")
    }

    /// The two targets built by "cargo" (the aarch64 one with a linker the user set), in
    /// two invocations: their `env` differs.
    fn plan(&self, aarch64_env: &str, fail_fast: bool) -> Plan {
        let body = format!(
            "[provider]\nname = \"Fake\"\nvendor = \"tests\"\n\n[build]\nbackend = \"cargo\"\njobs = 2\n\n[targets]\nx86_64-linux = {{ env = {{ LANE = \"host\" }} }}\naarch64-linux = {{ env = {{ {aarch64_env} }} }}\n"
        );
        let root = self.dir.path();
        let manifest = parbuild::manifest::parse(&body, &root.join("par.toml")).unwrap();
        let package = Package {
            name: "fake".to_owned(),
            version: "0.3.0".to_owned(),
            authors: Vec::new(),
            manifest_path: root.join("Cargo.toml"),
            workspace_root: root.to_owned(),
            target_dir: root.join("target"),
            member_dirs: vec![root.to_owned()],
            artifact: Artifact {
                kind: ArtifactKind::Bin,
                name: "fake".to_owned(),
            },
        };
        let machine = Machine {
            host: Ok(HOST.to_owned()),
            cargo: self.cargo().into(),
            rustup: "rustup".into(),
            cwd: root.to_owned(),
            cpus: 2,
            pid: std::process::id(),
            user_ids: (0, 0),
            is_root: false,
            venv: None,
            programs: BTreeMap::new(),
            zig_available: false,
            zig_python: None,
            installed_targets: None,
            sysroot: None,
            user_linkers: BTreeMap::from([(
                AARCH64.to_owned(),
                UserLinker {
                    linker: "/bin/true".to_owned(),
                    origin: "a test".to_owned(),
                    found: true,
                },
            )]),
            cross_toml: None,
            user_wrapper: None,
            cargo_home: root.join("cargo-home"),
            cargo_caches: Vec::new(),
            containers: None,
        };
        let env = Env::from_vars(
            [("FAKE_REAL_CARGO", env!("CARGO"))].map(|(k, v)| (k.to_owned(), v.to_owned())),
            root,
        );
        let overrides = Overrides {
            fail_fast,
            ..Overrides::default()
        };
        let plan = plan::make(&manifest, &package, &overrides, &env, &machine).unwrap();
        assert_eq!(plan.invocations.len(), 2, "{:#?}", plan.invocations);
        assert!(plan.missing.is_empty(), "{:#?}", plan.missing);
        plan
    }
}

fn run(plan: &Plan, fail_fast: bool) -> Vec<Outcome> {
    run_with(plan, fail_fast, &Ledger::new())
}

fn run_with(plan: &Plan, fail_fast: bool, ledger: &Ledger) -> Vec<Outcome> {
    let reporter = Reporter::new(Verbosity::Quiet, ColorChoice::Never, true);
    let ui = Ui::new(plan, &reporter);
    runner::run(plan, &ui, fail_fast, ledger).unwrap()
}

fn status_of<'a>(outcomes: &'a [Outcome], label: &str) -> &'a Status {
    &outcomes
        .iter()
        .find(|o| o.label.as_str() == label)
        .unwrap_or_else(|| panic!("no {label} in {outcomes:#?}"))
        .status
}

#[test]
fn every_target_built_reports_the_file_cargo_named() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let fake = Fake::new();
    let plan = fake.plan("LANE = \"arm\"", false);
    let ledger = Ledger::new();
    let outcomes = run_with(&plan, false, &ledger);
    // Two cargo children under one budget of two: each got the jobserver (the fake
    // refuses to run without it) and had its implicit token paid.
    let account = ledger.account();
    assert_eq!((account.tokens, account.children), (2, 2), "{account:?}");
    assert!(
        account.paid.iter().all(|c| c.jobserver && c.tokens == 1),
        "{account:?}"
    );
    for (label, triple) in [("x86_64-linux", HOST), ("aarch64-linux", AARCH64)] {
        let Status::Built { path, size } = status_of(&outcomes, label) else {
            panic!("{outcomes:#?}");
        };
        let dir = if triple == HOST { "cargo" } else { "cargo-2" };
        assert_eq!(
            *path,
            fake.dir
                .path()
                .join(format!("target/parbuild/{dir}/{triple}/release/fake"))
        );
        assert_eq!(*size, std::fs::metadata(path).unwrap().len());
        assert_eq!(
            std::fs::read_to_string(path).unwrap(),
            format!("built for {triple}")
        );
    }
    // Each invocation's full output is in its log, after the command it ran.
    let log = std::fs::read_to_string(&plan.invocations[1].log).unwrap();
    assert!(log.starts_with("$ "), "{log}");
    assert!(log.contains("--target aarch64-unknown-linux-gnu"), "{log}");
}

#[test]
fn one_failing_target_fails_alone_with_the_compilers_words() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let fake = Fake::new();
    let plan = fake.plan("FAKE_FAIL = \"undefined_thing\"", false);
    let outcomes = run(&plan, false);
    assert!(matches!(
        status_of(&outcomes, "x86_64-linux"),
        Status::Built { .. }
    ));
    let Status::Failed { excerpt } = status_of(&outcomes, "aarch64-linux") else {
        panic!("{outcomes:#?}");
    };
    assert_eq!(
        excerpt,
        "error[E0425]: cannot find value `undefined_thing` in this scope\n --> src/main.rs:1:1\nerror: could not compile `fake` (bin \"fake\") due to 1 previous error"
    );
}

#[test]
fn fail_fast_cancels_the_targets_still_building() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let fake = Fake::new();
    // The host target sleeps for a minute; aarch64 fails as soon as the host's cargo
    // runs, so the host is cancelled while it builds, not before it starts.
    let mut plan = fake.plan("FAKE_FAIL = \"x\"", true);
    let host = plan.targets[0].invocation;
    let pid_file = PathBuf::from(format!("{}.pid", plan.targets[0].target_dir.display()));
    let command = plan.invocations[host]
        .command
        .clone()
        .env("FAKE_SLEEP", "60");
    plan.invocations[host].command = command;
    let arm = plan.targets[1].invocation;
    let command = plan.invocations[arm]
        .command
        .clone()
        .env("FAKE_WAIT_FOR", &pid_file);
    plan.invocations[arm].command = command;
    let outcomes = run(&plan, true);
    assert!(matches!(
        status_of(&outcomes, "aarch64-linux"),
        Status::Failed { .. }
    ));
    assert_eq!(
        *status_of(&outcomes, "x86_64-linux"),
        Status::Cancelled,
        "{outcomes:#?}"
    );
    assert_gone(&pid_file);
}

#[test]
fn a_success_without_the_artifact_is_a_failure_naming_it() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let fake = Fake::new();
    let outcomes = run(&fake.plan("FAKE_NO_ARTIFACT = \"1\"", false), false);
    assert_eq!(
        *status_of(&outcomes, "aarch64-linux"),
        Status::Failed {
            excerpt: "cargo reported no `fake` artifact for `aarch64-unknown-linux-gnu`".to_owned()
        }
    );
}

/// The process whose pid `pid_file` holds has exited (it was waited for: no zombie).
fn assert_gone(pid_file: &Path) {
    let pid =
        std::fs::read_to_string(pid_file).unwrap_or_else(|e| panic!("{}: {e}", pid_file.display()));
    let proc = PathBuf::from("/proc").join(pid.trim());
    assert!(
        !proc.exists(),
        "the fake cargo {} still runs: {:?}",
        pid.trim(),
        std::fs::read_to_string(proc.join("status")).ok()
    );
}

/// A package for the real binary to build with the fake cargo.
fn fake_package() -> Project {
    let p = Project::new();
    p.file(
        "Cargo.toml",
        "[package]\nname = \"fake\"\nversion = \"0.3.0\"\nedition = \"2021\"\n\n[workspace]\n",
    );
    p.file("src/main.rs", "fn main() {}\n");
    p
}

/// `parbuild ARGS` in `p` with the fake cargo, the aarch64 linker set and test keys.
fn fake_build(fake: &Fake, p: &Project, args: &[&str]) -> support::Run {
    p.parbuild(args)
        .env("CARGO", fake.cargo())
        .env("FAKE_REAL_CARGO", env!("CARGO"))
        .env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER", "/bin/true")
        .env("WASH_ISSUER_KEY", ACCOUNT_SEED)
        .env("WASH_SUBJECT_KEY", SERVICE_SEED)
}

/// The real binary with the fake cargo: `parbuild build` of a project whose targets
/// sleep, interrupted by SIGINT once both fake cargos run.
#[test]
fn ctrl_c_exits_130_stops_every_child_and_keeps_the_old_archive() {
    let fake = Fake::new();
    let p = fake_package();
    p.file("bins/x86_64-unknown-linux-gnu", elf_binary(EM_X86_64, true));
    p.file(
        "bins/aarch64-unknown-linux-gnu",
        elf_binary(EM_AARCH64, true),
    );
    let par = |sleep: &str| {
        format!(
            "[provider]\nname = \"Fake\"\nvendor = \"tests\"\n\n[build]\nbackend = \"cargo\"\n\n[targets]\nx86_64-linux = {{ env = {{ FAKE_SLEEP = \"{sleep}\" }} }}\naarch64-linux = {{ env = {{ FAKE_SLEEP = \"{sleep}\", LANE = \"arm\" }} }}\n"
        )
    };
    let build = |p: &Project| fake_build(&fake, p, &["build"]).env("FAKE_BINS", p.path("bins"));
    // A good archive first, from the same fake build without the sleep.
    p.file("par.toml", par(""));
    build(&p).success();
    let archive = p.path("build/fake.par.gz");
    let good = std::fs::read(&archive).unwrap();

    let pid_files = [
        p.path("target/parbuild/cargo.pid"),
        p.path("target/parbuild/cargo-2.pid"),
    ];
    assert!(
        pid_files.iter().all(|f| !f.exists()),
        "no sleeper in the first build"
    );
    p.file("par.toml", par("60"));
    let child = build(&p).spawn();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !pid_files.iter().all(|f| f.exists()) {
        assert!(
            std::time::Instant::now() < deadline,
            "the fake cargos never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let out = support::interrupt(child);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("interrupted"), "{stderr}");
    for f in &pid_files {
        assert_gone(f);
    }
    assert_eq!(
        std::fs::read(&archive).unwrap(),
        good,
        "the old archive is intact"
    );
    let leftovers: Vec<_> = std::fs::read_dir(p.path("build"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n != "fake.par.gz")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A failed build answers in JSON too, and shows its failures even with `--quiet`: the
/// error line ("see each failure above") must have something above it.
#[test]
fn a_failed_build_reports_each_target_in_json_and_shows_failures_when_quiet() {
    let fake = Fake::new();
    let p = fake_package();
    p.file(
        "par.toml",
        "[provider]\nname = \"Fake\"\nvendor = \"tests\"\n\n[build]\nbackend = \"cargo\"\n\n[targets]\nx86_64-linux = {}\naarch64-linux = { env = { FAKE_FAIL = \"oops\" } }\n",
    );
    let out = fake_build(&fake, &p, &["build", "-q", "--json"]).code(1);
    let json = out.json();
    assert_eq!(json["archive"], serde_json::Value::Null, "{json:#}");
    let statuses: Vec<(&str, &str)> = json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["label"].as_str().unwrap(), t["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [("x86_64-linux", "built"), ("aarch64-linux", "failed")]
    );
    assert!(
        out.stderr
            .contains("error[E0425]: cannot find value `oops` in this scope"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("1 of 2 targets failed"),
        "{}",
        out.stderr
    );
    assert!(!p.path("build/fake.par.gz").exists());
}
