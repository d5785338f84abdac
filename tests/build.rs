//! End-to-end builds, for real: the example providers built for the four mission targets
//! (x86_64-linux, aarch64-linux, arm-linux, x86_64-macos) with cargo and zig, each binary
//! checked by its header and, where qemu-user can, run; the archive loaded by the real
//! wasmCloud crates and verified; the CPU budget paid for, as the runner's own account
//! says (never sampled: exact on a busy machine); failures and Ctrl-C handled.

#![allow(clippy::disallowed_methods)] // tests run the built binaries and qemu directly

mod support;

use std::time::{Duration, Instant};

use object::{Architecture, BinaryFormat};
use support::{
    ACCOUNT_SEED, Project, Run, SERVICE_SEED, binary_info, load_with_wasmcloud, requires_tool,
};

/// Signing keys from the environment, as CI would provide them.
fn keyed(run: Run) -> Run {
    run.env("WASH_ISSUER_KEY", ACCOUNT_SEED)
        .env("WASH_SUBJECT_KEY", SERVICE_SEED)
}

fn cross_tools() -> bool {
    ["cargo-zigbuild", "qemu-aarch64", "qemu-arm"]
        .iter()
        .all(|t| requires_tool(t))
}

const FOUR: [(&str, Architecture, BinaryFormat); 4] = [
    ("x86_64-linux", Architecture::X86_64, BinaryFormat::Elf),
    ("aarch64-linux", Architecture::Aarch64, BinaryFormat::Elf),
    ("arm-linux", Architecture::Arm, BinaryFormat::Elf),
    ("x86_64-macos", Architecture::X86_64, BinaryFormat::MachO),
];

/// Compiler jobs of the project in `marker` (see `support::compiler_jobs`).
fn compiling_rustcs(marker: &str) -> usize {
    support::compiler_jobs(|cmdline, _| cmdline.contains(marker)).len()
}

#[test]
#[allow(clippy::disallowed_methods)] // runs the built binaries themselves
fn hello_provider_builds_four_targets_that_run_within_a_two_job_budget() {
    if !cross_tools() {
        return;
    }
    let p = Project::new();
    let dir = p.copy_from_repo("examples/hello-provider", "hello");
    // The host's own cargo for x86_64-linux, zig for the rest: two invocations share the
    // budget of two jobs.
    let toml = std::fs::read_to_string(dir.join("par.toml")).unwrap();
    assert!(toml.contains("x86_64-linux = {}\n"), "{toml}");
    std::fs::write(
        dir.join("par.toml"),
        toml.replace(
            "x86_64-linux = {}\n",
            "x86_64-linux = { backend = \"cargo\" }\n",
        ),
    )
    .unwrap();

    let out = keyed(
        p.parbuild(["build", "--jobs", "2", "--json"])
            .current_dir(&dir),
    )
    .success();
    let result = out.json();
    // A summary is printed only for an archive verified before it was renamed into place.
    assert_eq!(
        (
            &result["partial"],
            result["archive"]["targets"].as_array().map(Vec::len)
        ),
        (&false.into(), Some(4)),
        "{result}"
    );
    // The budget from the runner's own account: a jobserver of two tokens, and for each
    // cargo child one token paid for its implicit one, held until it exited, the jobserver
    // handed to it. So at most two compiler jobs ran at once, whatever the machine's load.
    let js = &result["jobserver"];
    assert_eq!(
        (&js["tokens"], &js["children"]),
        (&2.into(), &2.into()),
        "{js}"
    );
    assert_eq!(
        js["paid"],
        serde_json::json!([
            {"backend": "zig", "labels": ["aarch64-linux", "arm-linux", "x86_64-macos"], "jobserver": true, "tokens": 1},
            {"backend": "cargo", "labels": ["x86_64-linux"], "jobserver": true, "tokens": 1},
        ]),
        "{js}"
    );
    // Whether both children held their token at the same moment depends on timing; that
    // parbuild never held more than the budget does not.
    let held = js["max_held_by_parbuild"].as_u64().unwrap();
    assert!((1..=2).contains(&held), "{js}");

    let archive = dir.join("build/hello-provider.par.gz");
    let bytes = std::fs::read(&archive).unwrap();
    let par = load_with_wasmcloud(&bytes);
    let mut targets = par.targets();
    targets.sort();
    assert_eq!(
        targets,
        ["aarch64-linux", "arm-linux", "x86_64-linux", "x86_64-macos"]
    );
    for (label, arch, format) in FOUR {
        let bin = par.target_bytes(label).unwrap();
        let info = binary_info(&bin);
        assert_eq!(
            (info.format, info.arch, info.executable),
            (format, arch, true),
            "{label}"
        );
    }

    // Run what this machine can run: natively, and under qemu-user.
    let unpack = p.path("unpacked");
    std::fs::create_dir_all(&unpack).unwrap();
    for (label, runner) in [
        ("x86_64-linux", None),
        ("aarch64-linux", Some("aarch64")),
        ("arm-linux", Some("arm")),
    ] {
        let file = unpack.join(label);
        std::fs::write(&file, par.target_bytes(label).unwrap()).unwrap();
        std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let output = match runner {
            None => std::process::Command::new(&file).output(),
            Some(arch) => std::process::Command::new(format!("qemu-{arch}"))
                .args(["-L", support::qemu_sysroot(arch)])
                .arg(&file)
                .output(),
        }
        .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        let arch = label.split('-').next().unwrap();
        assert!(
            text.contains(&format!(
                r#"hello-provider says {{"arch":"{arch}","os":"linux","provider":"hello"}}"#
            )),
            "{label}: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    p.parbuild(["verify", archive.to_str().unwrap()]).success();
}

#[test]
fn fakepay_builds_four_shared_libraries_that_old_and_new_hosts_load() {
    if !cross_tools() {
        return;
    }
    let p = Project::new();
    let dir = p.copy_from_repo("examples/fakepay-provider", "fakepay");
    std::fs::write(
        dir.join("par.toml"),
        std::fs::read_to_string(support::repo_root().join("par.toml")).unwrap(),
    )
    .unwrap();
    keyed(p.parbuild(["build"]).current_dir(&dir)).success();

    let bytes = std::fs::read(dir.join("build/fakepay.par.gz")).unwrap();
    let par = load_with_wasmcloud(&bytes);
    let claims = par.claims().unwrap();
    let meta = claims.metadata.unwrap();
    assert_eq!(meta.name.as_deref(), Some("Fake Payments"));
    assert_eq!(
        (meta.vendor.as_str(), meta.rev, meta.ver.as_deref()),
        ("wasmCloud", Some(1), Some("1.0"))
    );
    for (label, arch, format) in FOUR {
        let bin = par.target_bytes(label).unwrap();
        let info = binary_info(&bin);
        assert_eq!(
            (info.format, info.arch, info.executable),
            (format, arch, false),
            "{label}: a shared library"
        );
        // The dynamic export table, not just some string in the file (Mach-O prefixes `_`).
        let exports: Vec<String> = object::read::File::parse(&*bin)
            .and_then(|f| object::Object::exports(&f))
            .unwrap()
            .iter()
            .map(|e| {
                String::from_utf8_lossy(e.name())
                    .trim_start_matches('_')
                    .to_owned()
            })
            .collect();
        for symbol in [
            "fakepay_authorize",
            "fakepay_complete",
            "fakepay_contract_id",
        ] {
            assert!(
                exports.iter().any(|e| e == symbol),
                "{label} exports {symbol}: {exports:?}"
            );
        }
    }
    // Pre-1.0 hosts need the contract id: provider-archive 0.6 loads it too.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let legacy = rt
        .block_on(provider_archive_legacy::ProviderArchive::try_load(&bytes))
        .expect("provider-archive 0.6 loads it");
    assert_eq!(
        legacy.claims().unwrap().metadata.unwrap().capid,
        "examples:payments"
    );
}

/// A package that compiles everywhere but on 32-bit ARM.
fn half_broken(p: &Project) -> std::path::PathBuf {
    p.file(
        "hb/Cargo.toml",
        "[package]\nname = \"halfbroken\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    );
    p.file(
        "hb/src/main.rs",
        "#[cfg(target_arch = \"arm\")]\ncompile_error!(\"halfbroken does not support 32-bit ARM\");\nfn main() { println!(\"ok\"); }\n",
    );
    p.file(
        "hb/par.toml",
        "[provider]\nname = \"Half\"\nvendor = \"tests\"\n\n[targets]\nx86_64-linux = {}\naarch64-linux = {}\narmv7-linux = {}\n\n[output]\npath = \"build/hb.par.gz\"\n",
    );
    p.path("hb")
}

#[test]
fn a_failing_target_does_not_stop_the_others_and_nothing_is_overwritten() {
    if !requires_tool("cargo-zigbuild") {
        return;
    }
    let p = Project::new();
    let dir = half_broken(&p);
    let archive = dir.join("build/hb.par.gz");

    let out = keyed(p.parbuild(["build"]).current_dir(&dir)).code(1);
    assert!(
        out.stderr.contains("arm-linux") && out.stderr.contains("FAILED"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("halfbroken does not support 32-bit ARM"),
        "the excerpt shows the error:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("1 of 3 targets failed"),
        "{}",
        out.stderr
    );
    // aarch64-linux shares arm-linux's zig invocation (cargo --keep-going) and still built.
    assert!(
        out.stderr
            .lines()
            .any(|l| l.starts_with("aarch64-linux") && l.contains(" ok ")),
        "{}",
        out.stderr
    );
    assert!(!archive.exists(), "no archive when a target failed");

    // --allow-missing packs what built, and says the archive is partial.
    let out = keyed(p.parbuild(["build", "--allow-missing"]).current_dir(&dir)).success();
    assert!(out.stderr.contains("partial"), "{}", out.stderr);
    let good = std::fs::read(&archive).unwrap();
    let mut targets = load_with_wasmcloud(&good).targets();
    targets.sort();
    assert_eq!(targets, ["aarch64-linux", "x86_64-linux"]);

    // A later failing build leaves that archive exactly as it was.
    keyed(p.parbuild(["build"]).current_dir(&dir)).code(1);
    assert_eq!(std::fs::read(&archive).unwrap(), good);
}

#[test]
fn ctrl_c_stops_every_compiler_and_writes_nothing() {
    if !requires_tool("cargo-zigbuild") {
        return;
    }
    let p = Project::new();
    let dir = p.copy_from_repo("examples/hello-provider", "hello");
    let marker = dir.display().to_string();
    let child = keyed(p.parbuild(["build"]).current_dir(&dir)).spawn();
    let deadline = Instant::now() + Duration::from_secs(120);
    while compiling_rustcs(&marker) == 0 {
        assert!(Instant::now() < deadline, "no compiler started");
        std::thread::sleep(Duration::from_millis(20));
    }
    support::interrupt(child);
    assert_eq!(
        support::processes_mentioning(&marker),
        Vec::<String>::new(),
        "no stray compiler"
    );
    assert!(!dir.join("build/hello-provider.par.gz").exists());
    assert!(
        !dir.join("build").exists()
            || std::fs::read_dir(dir.join("build"))
                .unwrap()
                .next()
                .is_none()
    );
}
