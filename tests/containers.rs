//! The containerized backends, for real, with podman and the images `scripts/setup-containers`
//! builds locally: hello-provider for aarch64-linux through `cross` and through the
//! `container` backend (ELF header checked, run under qemu-user, archive verified and
//! loaded by wasmCloud's own crates), a mixed build (cargo, cross and zig in one
//! `parbuild build`, one archive, the CPU budget paid for as the runner's account says),
//! Ctrl-C stopping a container, and what `plan` and `doctor` say.
//!
//! Skipped, saying why, when podman cannot run a container here; failing instead when
//! `PARBUILD_REQUIRE_CONTAINERS=1` (CI sets it after the setup succeeded).

// Tests read their own environment, run podman and qemu directly and say why they skip.
#![allow(clippy::disallowed_methods, clippy::print_stderr)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use object::{Architecture, BinaryFormat};
use support::{
    ACCOUNT_SEED, Project, Run, SERVICE_SEED, binary_info, load_with_wasmcloud, requires_tool,
};

/// The images `scripts/setup-containers` builds.
const CROSS_IMAGE: &str = "localhost/parbuild-cross-aarch64:bookworm";
const RUST_IMAGE: &str = "localhost/parbuild-rust:bookworm";

/// podman's configuration for this machine: the caller's `CONTAINERS_CONF`, else the one
/// `scripts/setup-containers` wrote under parbuild's tools directory.
fn podman_env() -> Vec<(&'static str, PathBuf)> {
    let dir = support::real_tools_dir().join("containers");
    [
        ("CONTAINERS_CONF", "containers.conf"),
        ("CONTAINERS_STORAGE_CONF", "storage.conf"),
    ]
    .into_iter()
    .filter_map(|(var, file)| match std::env::var_os(var) {
        Some(v) => Some((var, PathBuf::from(v))),
        None => Some((var, dir.join(file))).filter(|(_, p)| p.is_file()),
    })
    .collect()
}

fn podman(args: &[&str]) -> std::process::Output {
    Command::new("podman")
        .args(args)
        .envs(podman_env())
        .output()
        .expect("podman runs")
}

/// Why the container tests cannot run here, if they cannot.
fn unavailable() -> Option<String> {
    for tool in ["podman", "cross", "qemu-aarch64"] {
        if !support::have_tool(tool) {
            return Some(format!("`{tool}` is not installed"));
        }
    }
    let run = podman(&["run", "--rm", "--network=none", RUST_IMAGE, "true"]);
    if !run.status.success() {
        return Some(format!(
            "podman cannot run `{RUST_IMAGE}`: {}",
            String::from_utf8_lossy(&run.stderr).trim()
        ));
    }
    if !podman(&["image", "exists", CROSS_IMAGE]).status.success() {
        return Some(format!("the image `{CROSS_IMAGE}` is missing"));
    }
    None
}

/// The gate: `true` to go on; `false` (after saying why) to skip; a failure instead of a
/// skip under `PARBUILD_REQUIRE_CONTAINERS=1`.
fn containers() -> bool {
    static WHY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let Some(why) = WHY.get_or_init(unavailable) else {
        return true;
    };
    assert!(
        std::env::var_os("PARBUILD_REQUIRE_CONTAINERS").is_none_or(|v| v != "1"),
        "the container tests must run (PARBUILD_REQUIRE_CONTAINERS=1), but {why}; run scripts/setup-containers"
    );
    eprintln!("skipped: {why} (run scripts/setup-containers)");
    false
}

/// A `parbuild` run with podman's configuration and the test keys.
fn parbuild(p: &Project, dir: &Path, args: &[&str]) -> Run {
    let mut run = p
        .parbuild(args)
        .current_dir(dir)
        .env("WASH_ISSUER_KEY", ACCOUNT_SEED)
        .env("WASH_SUBJECT_KEY", SERVICE_SEED);
    for (var, value) in podman_env() {
        run = run.env(var, value);
    }
    run
}

/// hello-provider in a fresh directory with `targets` as its `[targets]` table.
fn hello(p: &Project, targets: &str) -> PathBuf {
    let dir = p.copy_from_repo("examples/hello-provider", "hello");
    std::fs::write(
        dir.join("par.toml"),
        format!(
            "[provider]\nname = \"Hello Provider\"\nvendor = \"parbuild examples\"\nrevision = 3\n\n[targets]\n{targets}\n[output]\npath = \"build/hello-provider.par.gz\"\n"
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("build")).unwrap();
    dir
}

/// Checks the archive the way a host and `parbuild verify` would, and runs the aarch64
/// binary under qemu-user. Returns the loaded archive.
fn check_archive(p: &Project, dir: &Path, labels: &[&str]) -> provider_archive::ProviderArchive {
    let archive = dir.join("build/hello-provider.par.gz");
    parbuild(p, dir, &["verify", archive.to_str().unwrap()]).success();
    let par = load_with_wasmcloud(&std::fs::read(&archive).unwrap());
    let mut targets = par.targets();
    targets.sort();
    assert_eq!(targets, labels);

    let bin = par.target_bytes("aarch64-linux").unwrap();
    let info = binary_info(&bin);
    assert_eq!(
        (info.format, info.arch, info.is_64, info.executable),
        (BinaryFormat::Elf, Architecture::Aarch64, true, true)
    );
    let file = p.path("aarch64-linux.bin");
    std::fs::write(&file, &bin).unwrap();
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = Command::new("qemu-aarch64")
        .args(["-L", support::qemu_sysroot("aarch64")])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(r#"hello-provider says {"arch":"aarch64","os":"linux","provider":"hello"}"#),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    par
}

/// Containers parbuild (process `pid`) named and left behind.
fn leftover_containers(pid: u32) -> Vec<String> {
    let out = podman(&["ps", "--all", "--format", "{{.Names}}"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|n| n.starts_with(&format!("parbuild-{pid}-")))
        .map(str::to_owned)
        .collect()
}

/// Runs `run` to completion in the background; returns its pid and outcome.
fn spawn_and_wait(run: Run) -> (u32, std::process::Output) {
    let child = run.spawn();
    let pid = child.id();
    (pid, child.wait_with_output().unwrap())
}

fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "parbuild failed\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn cross_builds_aarch64_in_the_local_image() {
    if !containers() {
        return;
    }
    let p = Project::new();
    let dir = hello(
        &p,
        &format!("aarch64-linux = {{ backend = \"cross\", image = \"{CROSS_IMAGE}\" }}\n"),
    );

    let plan = parbuild(&p, &dir, &["plan", "--json", "--jobs", "2"])
        .success()
        .json();
    let target = &plan["targets"][0];
    assert_eq!(target["backend"], "cross");
    assert_eq!(target["image"], CROSS_IMAGE);
    let env: Vec<&str> = target["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    for key in [
        "CROSS_CONTAINER_ENGINE",
        "CROSS_TARGET_AARCH64_UNKNOWN_LINUX_GNU_IMAGE",
        "RUSTUP_TOOLCHAIN",
        "CROSS_CUSTOM_TOOLCHAIN",
    ] {
        assert!(env.contains(&key), "{key} in {env:?}");
    }
    assert_eq!(
        plan["invocations"][0]["container"]["cpu_tokens"], 2,
        "the whole budget: it is the only invocation"
    );

    let (pid, out) = spawn_and_wait(parbuild(&p, &dir, &["build", "--jobs", "2", "--json"]));
    assert_success(&out);
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["partial"], false, "{result}");
    // The only invocation, in a container: no jobserver for it, the whole budget held.
    assert_eq!(
        result["jobserver"],
        serde_json::json!({
            "tokens": 2,
            "max_held_by_parbuild": 2,
            "children": 1,
            "paid": [{"backend": "cross", "labels": ["aarch64-linux"], "jobserver": false, "tokens": 2}],
        })
    );
    // cross reported `/target/...`: the artifact was found on the host all the same.
    let log = std::fs::read_to_string(dir.join("target/parbuild/logs/cross.log")).unwrap();
    assert!(log.contains("cross build"), "{log}");
    assert_eq!(leftover_containers(pid), Vec::<String>::new());
    check_archive(&p, &dir, &["aarch64-linux"]);
}

#[test]
fn container_backend_builds_aarch64_inside_the_rust_image() {
    if !containers() {
        return;
    }
    let p = Project::new();
    // `auto` picks the container backend because the target names an image.
    let dir = hello(
        &p,
        &format!("aarch64-linux = {{ image = \"{RUST_IMAGE}\" }}\n"),
    );
    assert!(!dir.join("Cargo.lock").exists());

    let plan = parbuild(&p, &dir, &["plan", "--json"]).success().json();
    assert_eq!(plan["targets"][0]["backend"], "container");
    let argv: Vec<&str> = plan["invocations"][0]["command"]["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for expected in ["--rm", "--network=none", "--offline", RUST_IMAGE] {
        assert!(argv.contains(&expected), "{expected} in {argv:?}");
    }
    assert!(
        argv.contains(&format!("{0}:{0}:ro", dir.display()).as_str()),
        "{argv:?}"
    );

    let (pid, out) = spawn_and_wait(parbuild(&p, &dir, &["build", "--jobs", "2"]));
    assert_success(&out);
    assert!(
        dir.join("Cargo.lock").exists(),
        "cargo fetch ran on the host first"
    );
    assert_eq!(leftover_containers(pid), Vec::<String>::new());
    check_archive(&p, &dir, &["aarch64-linux"]);
}

/// Compilers of this build: on the host they name the project directory; inside a cross
/// container they see `/project`, but carry the marker variable cross passes through.
fn our_rustcs(dir: &str, marker: &str) -> Vec<String> {
    support::compiler_jobs(|cmdline, environ| cmdline.contains(dir) || environ.contains(marker))
}

#[test]
fn mixed_build_cargo_cross_and_zig_make_one_archive_within_the_budget() {
    if !containers() || !requires_tool("cargo-zigbuild") {
        return;
    }
    let p = Project::new();
    let dir = hello(
        &p,
        &format!(
            "x86_64-linux = {{ backend = \"cargo\" }}\naarch64-linux = {{ backend = \"cross\", image = \"{CROSS_IMAGE}\" }}\nx86_64-macos = {{ backend = \"zig\" }}\n"
        ),
    );
    let plan = parbuild(&p, &dir, &["plan", "--json", "--jobs", "2"])
        .success()
        .json();
    let backends: Vec<&str> = plan["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["backend"].as_str().unwrap())
        .collect();
    assert_eq!(backends, ["cargo", "cross", "zig"]);
    // Three invocations share two jobs: the container gets one token's worth (`-j 1`).
    assert_eq!(plan["invocations"][1]["container"]["cpu_tokens"], 1);
    let argv = plan["invocations"][1]["command"]["argv"]
        .as_array()
        .unwrap();
    assert!(
        argv.windows(2).any(|w| w[0] == "-j" && w[1] == "1"),
        "{argv:?}"
    );

    let (pid, out) = spawn_and_wait(parbuild(&p, &dir, &["build", "--jobs", "2", "--json"]));
    assert_success(&out);
    // The budget from the runner's own account, not from sampling: two tokens; each cargo
    // child paid one for its implicit token and got the jobserver; the container did not
    // get it and ran on its `-j 1`, one token held for it while it ran.
    let js = &serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["jobserver"];
    assert_eq!(
        (&js["tokens"], &js["children"]),
        (&2.into(), &3.into()),
        "{js}"
    );
    assert_eq!(
        js["paid"],
        serde_json::json!([
            {"backend": "cross", "labels": ["aarch64-linux"], "jobserver": false, "tokens": 1},
            {"backend": "cargo", "labels": ["x86_64-linux"], "jobserver": true, "tokens": 1},
            {"backend": "zig", "labels": ["x86_64-macos"], "jobserver": true, "tokens": 1},
        ]),
        "{js}"
    );
    let held = js["max_held_by_parbuild"].as_u64().unwrap();
    assert!((1..=2).contains(&held), "never more than the budget: {js}");
    assert_eq!(leftover_containers(pid), Vec::<String>::new());

    let par = check_archive(&p, &dir, &["aarch64-linux", "x86_64-linux", "x86_64-macos"]);
    let info = binary_info(&par.target_bytes("x86_64-linux").unwrap());
    assert_eq!(
        (info.format, info.arch, info.executable),
        (BinaryFormat::Elf, Architecture::X86_64, true)
    );
    // `parbuild verify` checked the Mach-O's format and CPU; the object crate rejects this
    // zig-linked file's section count, so its header is read by hand: 64-bit magic,
    // CPU_TYPE_X86_64, MH_EXECUTE.
    let macho = par.target_bytes("x86_64-macos").unwrap();
    let word = |at: usize| u32::from_le_bytes(macho[at..at + 4].try_into().unwrap());
    assert_eq!((word(0), word(4), word(12)), (0xfeed_facf, 0x0100_0007, 2));
}

/// A `build` of hello-provider whose aarch64 target runs in the Rust image, returned once
/// a compiler runs in its container (and the container is listed).
fn build_in_a_running_container() -> (Project, std::path::PathBuf, std::process::Child) {
    let p = Project::new();
    let dir = hello(
        &p,
        &format!("aarch64-linux = {{ image = \"{RUST_IMAGE}\" }}\n"),
    );
    let child = parbuild(&p, &dir, &["build", "--jobs", "1"]).spawn();
    let pid = child.id();
    let dir_text = dir.display().to_string();
    let deadline = Instant::now() + Duration::from_secs(120);
    while our_rustcs(&dir_text, "\0no-marker\0").is_empty() {
        assert!(
            Instant::now() < deadline,
            "no compiler started in the container"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(leftover_containers(pid).len(), 1, "the container runs");
    (p, dir, child)
}

#[test]
fn ctrl_c_stops_the_container_and_writes_nothing() {
    if !containers() {
        return;
    }
    let (_p, dir, child) = build_in_a_running_container();
    let pid = child.id();
    let dir_text = dir.display().to_string();
    support::interrupt(child);
    assert_eq!(
        leftover_containers(pid),
        Vec::<String>::new(),
        "the container was stopped and removed"
    );
    assert_eq!(
        our_rustcs(&dir_text, "\0no-marker\0"),
        Vec::<String>::new(),
        "no compiler left in or out of a container"
    );
    assert!(!dir.join("build/hello-provider.par.gz").exists());
}

/// A SIGKILL gives parbuild no chance to stop its container: the watchdog
/// (`process::watchdog`) ends the engine client's process group and runs the container's
/// stop command (`rm --force` by name) once parbuild is gone. With podman, ending the
/// client already stops the container (its signal proxy forwards SIGTERM to `--init`); the
/// stop command is what stops a docker container, whose client can die without it, and
/// no docker daemon runs here. The script's handling of stop commands is unit-tested in
/// `src/process/watchdog.rs`.
#[test]
fn sigkill_leaves_no_container_running() {
    if !containers() {
        return;
    }
    let (_p, dir, mut child) = build_in_a_running_container();
    let pid = child.id();
    let dir_text = dir.display().to_string();
    child.kill().unwrap();
    child.wait().unwrap();
    // The watchdog stops it after its grace period; `rm --force` takes a moment more.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !leftover_containers(pid).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        leftover_containers(pid),
        Vec::<String>::new(),
        "the container outlived parbuild"
    );
    assert_eq!(
        our_rustcs(&dir_text, "\0no-marker\0"),
        Vec::<String>::new(),
        "no compiler left in or out of a container"
    );
}

#[test]
fn plan_and_doctor_report_the_engine_and_missing_images() {
    if !containers() {
        return;
    }
    let p = Project::new();
    let dir = hello(
        &p,
        &format!(
            "aarch64-linux = {{ backend = \"cross\", image = \"{CROSS_IMAGE}\" }}\narmv7-linux = {{ backend = \"container\", image = \"localhost/parbuild-no-such-image:1\" }}\n"
        ),
    );
    let out = parbuild(&p, &dir, &["doctor"]).code(3);
    let text = out.stdout;
    assert!(
        text.contains("container engine") && text.contains("podman"),
        "{text}"
    );
    assert!(text.contains(&format!("{CROSS_IMAGE} (present)")), "{text}");
    assert!(
        text.contains("the image `localhost/parbuild-no-such-image:1` (podman has no such image)"),
        "{text}"
    );
    assert!(
        text.contains("podman pull localhost/parbuild-no-such-image:1"),
        "{text}"
    );

    // The plan says the same, and `build` refuses before starting anything.
    let plan = parbuild(&p, &dir, &["plan", "--json"]).success().json();
    let missing = plan["missing"].as_array().unwrap();
    assert_eq!(missing.len(), 1, "{missing:?}");
    let out = parbuild(&p, &dir, &["build"]).code(3);
    assert!(
        out.stderr.contains("parbuild-no-such-image"),
        "{}",
        out.stderr
    );

    // `[build] image` is the image of container targets that name none; a Cross.toml entry
    // makes `auto` pick cross, with the image cross will read from it.
    std::fs::write(
        dir.join("par.toml"),
        format!(
            "[provider]\nname = \"H\"\nvendor = \"v\"\n\n[build]\nimage = \"{RUST_IMAGE}\"\n\n[targets]\naarch64-linux = {{}}\narmv7-linux = {{ backend = \"container\" }}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("Cross.toml"),
        format!("[target.aarch64-unknown-linux-gnu]\nimage = \"{CROSS_IMAGE}\"\n"),
    )
    .unwrap();
    let plan = parbuild(&p, &dir, &["plan", "--json"]).success().json();
    let (aarch64, armv7) = (&plan["targets"][0], &plan["targets"][1]);
    assert_eq!(
        (aarch64["backend"].as_str(), aarch64["image"].as_str()),
        (Some("cross"), Some(CROSS_IMAGE))
    );
    assert!(
        aarch64["reason"].as_str().unwrap().contains("Cross.toml"),
        "{aarch64}"
    );
    assert_eq!(
        (armv7["backend"].as_str(), armv7["image"].as_str()),
        (Some("container"), Some(RUST_IMAGE))
    );
    assert_eq!(plan["missing"], serde_json::json!([]));

    // A container target needs an image.
    std::fs::write(
        dir.join("par.toml"),
        "[provider]\nname = \"H\"\nvendor = \"v\"\n\n[targets]\naarch64-linux = { backend = \"container\" }\n",
    )
    .unwrap();
    let out = parbuild(&p, &dir, &["plan"]).code(2);
    assert!(out.stderr.contains("needs an image"), "{}", out.stderr);
}
