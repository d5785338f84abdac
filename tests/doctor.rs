//! `parbuild doctor`, `parbuild init` and `cargo parbuild` on a fresh provider package: what
//! a new user runs first.

mod support;

use support::{Project, requires_tool};

fn provider() -> Project {
    let p = Project::new();
    p.file(
        "Cargo.toml",
        "[package]\nname = \"doc-provider\"\nversion = \"0.2.0\"\nedition = \"2021\"\n\n[lib]\ncrate-type = [\"cdylib\"]\n\n[workspace]\n",
    );
    p.file(
        "src/lib.rs",
        "#[no_mangle]\npub extern \"C\" fn doc() -> u32 { 1 }\n",
    );
    p
}

#[test]
fn init_then_doctor_finds_everything_for_the_five_targets() {
    if !requires_tool("cargo-zigbuild") {
        return;
    }
    let p = provider();
    p.parbuild(["init"]).success();
    let out = p.parbuild(["doctor", "--json"]).success();
    let report = out.json();
    let checks = report["checks"].as_array().unwrap();
    // rust std + a linker or zig for each of the five targets, the SDK of both macOS
    // targets, the compile cache, then the keys.
    assert_eq!(checks.len(), 14, "{report:#}");
    assert!(checks.iter().all(|c| c["ok"] == true), "{report:#}");
    // The tests run with RUSTC_WRAPPER empty (tests/support): cargo's own "no wrapper".
    let cache = checks
        .iter()
        .find(|c| c["target"] == "compile cache")
        .expect("a compile cache line");
    assert_eq!(cache["item"], "none", "{cache}");
    assert_eq!(
        cache["detail"], "turned off by an empty RUSTC_WRAPPER",
        "{cache}"
    );
    let sdks: Vec<&serde_json::Value> =
        checks.iter().filter(|c| c["item"] == "macOS SDK").collect();
    assert_eq!(sdks.len(), 2, "{report:#}");
    for c in sdks {
        assert!(
            c["detail"]
                .as_str()
                .unwrap()
                .contains("none: framework stubs generated into"),
            "{c}"
        );
    }
    let keys = checks.last().unwrap();
    assert!(
        keys["detail"].as_str().unwrap().contains("the first build"),
        "{keys}"
    );
    assert!(
        !p.path("home/.wash/keys").exists(),
        "doctor only looks: no key was generated"
    );
}

#[test]
fn doctor_in_ci_without_keys_says_how_to_provide_them() {
    let p = provider();
    p.parbuild(["init"]).success();
    let out = p
        .parbuild(["doctor", "--target", "x86_64-linux"])
        .env("CI", "true")
        .failure();
    assert!(out.stdout.contains("MISSING"), "{}", out.stdout);
    assert!(
        out.stdout.contains("WASH_ISSUER_KEY") || out.stderr.contains("WASH_ISSUER_KEY"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
}

#[test]
fn a_missing_tool_is_reported_with_its_fix_and_exit_code_3() {
    let p = provider();
    p.parbuild(["init"]).success();
    // An empty tool directory and no zig on PATH: the zig backend has nothing to run.
    let rust_bin = support::find_tool("rustc")
        .unwrap()
        .parent()
        .unwrap()
        .display()
        .to_string();
    let run = |cmd: &str| {
        p.parbuild([cmd, "--target", "aarch64-linux", "--backend", "zig"])
            .env("PARBUILD_TOOLS_DIR", p.path("no-tools"))
            .env("PATH", format!("{rust_bin}:/usr/bin:/bin"))
            .code(3)
    };
    let doctor = run("doctor");
    assert!(doctor.stdout.contains("MISSING"), "{}", doctor.stdout);
    assert!(
        doctor.stderr.contains("pip install cargo-zigbuild"),
        "{}",
        doctor.stderr
    );
    // `build` refuses up front, before any compiler runs, and points to doctor.
    let build = run("build");
    assert!(
        build.stderr.contains("missing for this build"),
        "{}",
        build.stderr
    );
    assert!(
        build.stderr.contains("parbuild doctor --fix"),
        "{}",
        build.stderr
    );
}

#[test]
fn cargo_parbuild_runs_as_a_cargo_subcommand() {
    let p = provider();
    p.parbuild(["init"]).success();
    let out = p
        .cargo_parbuild(["plan", "--json", "--target", "x86_64-linux"])
        .success();
    assert_eq!(out.json()["package"]["name"], "doc-provider");
}

#[test]
fn without_zig_auto_plans_zig_for_macos_and_doctor_fix_installs_it() {
    if !requires_tool("python3") {
        return;
    }
    let p = provider();
    p.parbuild(["init"]).success();
    let tools = p.path("tools");
    let plan = |p: &Project| {
        p.parbuild(["plan", "--json", "--target", "x86_64-macos"])
            .env("PARBUILD_TOOLS_DIR", &tools)
            .success()
            .json()
    };
    // Not cross, even where cross and an engine exist: no image builds macOS.
    let before = plan(&p);
    assert_eq!(before["targets"][0]["backend"], "zig", "{before:#}");
    assert!(
        before["missing"][0]["what"]
            .as_str()
            .unwrap()
            .contains("cargo-zigbuild"),
        "{before:#}"
    );

    let fixed = p
        .parbuild(["doctor", "--fix", "--target", "x86_64-macos"])
        .env("PARBUILD_TOOLS_DIR", &tools)
        .success();
    assert!(tools.join("venv/bin/cargo-zigbuild").is_file());
    // `--fix` also made the missing keys, and says so loudly: each path, each public key.
    for (role, file) in [
        ("issuer (account)", "_account.nk"),
        ("subject (service)", "_service.nk"),
    ] {
        assert!(
            fixed
                .stderr
                .lines()
                .any(|l| l.contains(&format!("generated a new {role} key"))
                    && l.contains(file)
                    && l.contains("public key")
                    && l.contains("back it up")),
            "{}",
            fixed.stderr
        );
    }
    let after = plan(&p);
    assert_eq!(after["missing"].as_array().unwrap().len(), 0, "{after:#}");
}
