//! `parbuild plan`: snapshot tests of backend choice, grouping and the exact commands
//! and environment, including a user's own linker setting winning over parbuild's choice.
//! Update the snapshots with `SNAPSHOTS=overwrite cargo test --test plan`.

mod support;

use support::{Project, check_snapshot, requires_tool};

/// A cdylib provider package with the four mission targets.
fn project(extra_par: &str) -> Project {
    let p = Project::new();
    p.file(
        "Cargo.toml",
        "[package]\nname = \"snap-provider\"\nversion = \"0.4.2\"\nedition = \"2021\"\n\n[lib]\ncrate-type = [\"cdylib\"]\n\n[workspace]\n",
    );
    p.file(
        "src/lib.rs",
        "#[no_mangle]\npub extern \"C\" fn snap() -> u32 { 7 }\n",
    );
    p.file(
        "par.toml",
        format!(
            "[provider]\nname = \"Snap\"\nvendor = \"tests\"\n\n[targets]\nx86_64-linux = {{}}\naarch64-linux = {{}}\narmv7-linux = {{}}\nx86_64-macos = {{}}\n{extra_par}"
        ),
    );
    p
}

/// The `argv` of a command in a JSON plan.
fn argv(command: &serde_json::Value) -> Vec<&str> {
    command["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect()
}

/// The plan as JSON with this machine's paths replaced by placeholders.
fn plan_json(p: &Project, run: support::Run) -> String {
    let out = run.success();
    let mut text = out
        .stdout
        .replace(&p.root().display().to_string(), "[ROOT]");
    if let Some(zb) = support::find_tool("cargo-zigbuild") {
        text = text.replace(&zb.display().to_string(), "[CARGO_ZIGBUILD]");
        if let Some(venv) = zb.parent().and_then(|b| b.parent()) {
            text = text.replace(&venv.display().to_string(), "[VENV]");
        }
    }
    text
}

#[test]
fn four_targets_host_joins_the_zig_invocation() {
    if !requires_tool("cargo-zigbuild") {
        return;
    }
    let p = project("");
    let json = plan_json(&p, p.parbuild(["plan", "--json", "--jobs", "2"]));
    check_snapshot("plan_four_targets.json", &json);
    let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
    let backends: Vec<&str> = plan["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["backend"].as_str().unwrap())
        .collect();
    // The host target joins zig's invocation: host build scripts and proc-macros compile once.
    assert_eq!(backends, ["zig", "zig", "zig", "zig"]);
    assert_eq!(plan["invocations"].as_array().unwrap().len(), 1);
    assert_eq!(plan["targets"][0]["glibc"], "2.17");
    // arm-linux is the label hosts look up; macOS gets 11.0, not zig's newest.
    assert_eq!(plan["targets"][2]["label"], "arm-linux");
    assert_eq!(plan["targets"][3]["env"][0]["value"], "11.0");
}

/// The SDK of every macOS target in a plan: (label, source, path).
fn sdks(plan: &serde_json::Value) -> Vec<(String, String, String)> {
    plan["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| !t["sdk"].is_null())
        .map(|t| {
            (
                t["label"].as_str().unwrap().to_owned(),
                t["sdk"]["source"].as_str().unwrap().to_owned(),
                t["sdk"]["path"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[test]
fn both_apple_cpus_share_one_invocation_with_generated_framework_stubs() {
    if !requires_tool("cargo-zigbuild") {
        return;
    }
    let p = project("aarch64-macos = {}\n");
    let out = p.parbuild(["plan", "--json", "--jobs", "2"]).success();
    let plan = out.json();
    let invocations = plan["invocations"].as_array().unwrap();
    // One cargo for all five: host work once, both Apple CPUs at the same deployment target.
    assert_eq!(invocations.len(), 1, "{plan:#}");
    let env = &invocations[0]["command"]["env"];
    assert_eq!(env["MACOSX_DEPLOYMENT_TARGET"], "11.0");
    let stubs_dir = p.root().join("target/parbuild/zig/apple-stubs");
    assert_eq!(env["SDKROOT"], stubs_dir.display().to_string());
    let stubs = &invocations[0]["stubs"];
    assert_eq!(
        stubs["triples"],
        serde_json::json!(["x86_64-apple-darwin", "aarch64-apple-darwin"])
    );
    let argv = argv(&stubs["metadata"]);
    assert!(
        argv.windows(2)
            .any(|w| w == ["--filter-platform", "aarch64-apple-darwin"]),
        "{argv:?}"
    );
    let stubs_path = stubs_dir.display().to_string();
    assert_eq!(
        sdks(&plan),
        [
            (
                "x86_64-macos".to_owned(),
                "stubs".to_owned(),
                stubs_path.clone()
            ),
            ("aarch64-macos".to_owned(), "stubs".to_owned(), stubs_path),
        ]
    );
    // The text plan says which SDK and why.
    let text = p.parbuild(["plan"]).success().stdout;
    assert!(
        text.contains("sdk:    none: framework stubs generated into"),
        "{text}"
    );
    assert!(
        text.contains("framework stubs for x86_64-apple-darwin, aarch64-apple-darwin"),
        "{text}"
    );
}

#[test]
fn a_users_sdk_wins_over_stubs_and_splits_only_what_differs() {
    if !requires_tool("cargo-zigbuild") {
        return;
    }
    // `sdk` in par.toml for one Apple CPU: that target links against it, the other against
    // stubs, so they need two invocations (one SDKROOT each).
    let p = project("aarch64-macos = { sdk = \"sdks/MacOSX14.sdk\" }\n");
    let plan = p.parbuild(["plan", "--json"]).success().json();
    let sdk_dir = p.root().join("sdks/MacOSX14.sdk").display().to_string();
    let found = sdks(&plan);
    assert_eq!(found[0].1, "stubs");
    assert_eq!(
        (found[1].1.as_str(), found[1].2.as_str()),
        ("manifest", sdk_dir.as_str())
    );
    let invocations = plan["invocations"].as_array().unwrap();
    assert_eq!(invocations.len(), 2, "{plan:#}");
    let with_sdk = invocations
        .iter()
        .find(|i| i["labels"] == serde_json::json!(["aarch64-macos"]))
        .unwrap();
    assert_eq!(with_sdk["command"]["env"]["SDKROOT"], sdk_dir.as_str());
    assert!(with_sdk["stubs"].is_null(), "no stubs with a real SDK");
    // SDKROOT in the environment wins over everything, for both.
    let plan = p
        .parbuild(["plan", "--json"])
        .env("SDKROOT", "/opt/MacOSX15.sdk")
        .success()
        .json();
    assert!(
        sdks(&plan)
            .iter()
            .all(|(_, source, path)| source == "environment" && path == "/opt/MacOSX15.sdk"),
        "{plan:#}"
    );
    assert_eq!(plan["invocations"].as_array().unwrap().len(), 1);
    assert!(plan["invocations"][0]["stubs"].is_null());
    // A target that is no macOS one cannot name an SDK.
    let bad = project("x86-linux = { sdk = \"sdks/MacOSX14.sdk\" }\n");
    let out = bad.parbuild(["plan"]).code(2);
    assert!(
        out.stderr
            .contains("`sdk` is a macOS SDK, but `i686-unknown-linux-gnu` is not a macOS target"),
        "{}",
        out.stderr
    );
}

#[test]
fn host_target_stays_on_cargo_when_asked_or_alone_and_never_depends_on_the_selection() {
    if !requires_tool("cargo-zigbuild") {
        return;
    }
    // Narrowing with --target changes nothing about how a target is built: a split build
    // (`--target T --part-out`) must produce the binary a full build does.
    let p = project("");
    let narrowed = p
        .parbuild(["plan", "--json", "--target", "x86_64-linux"])
        .success()
        .json();
    assert_eq!(narrowed["targets"][0]["backend"], "zig");
    assert_eq!(narrowed["targets"][0]["glibc"], "2.17");

    // A manifest whose only target is the host: the host's own cargo.
    let alone = Project::new();
    alone.file(
        "Cargo.toml",
        std::fs::read_to_string(p.path("Cargo.toml")).unwrap(),
    );
    alone.file(
        "src/lib.rs",
        "#[no_mangle]\npub extern \"C\" fn snap() -> u32 { 7 }\n",
    );
    alone.file(
        "par.toml",
        "[provider]\nname = \"Snap\"\nvendor = \"tests\"\n\n[targets]\nx86_64-linux = {}\n",
    );
    let plan = alone.parbuild(["plan", "--json"]).success().json();
    assert_eq!(plan["targets"][0]["backend"], "cargo");

    // `backend = "cargo"` keeps the host on its toolchain beside zig targets.
    let text = std::fs::read_to_string(p.root().join("par.toml"))
        .unwrap()
        .replace(
            "x86_64-linux = {}",
            "x86_64-linux = { backend = \"cargo\" }",
        );
    p.file("par.toml", text);
    let plan = p.parbuild(["plan", "--json"]).success().json();
    assert_eq!(plan["targets"][0]["backend"], "cargo");
    assert_eq!(plan["invocations"].as_array().unwrap().len(), 2);
}

#[test]
fn a_linker_in_the_users_cargo_config_wins() {
    if !requires_tool("cargo-zigbuild") {
        return;
    }
    let p = project("");
    p.file(
        ".cargo/config.toml",
        "[target.aarch64-unknown-linux-gnu]\nlinker = \"aarch64-linux-gnu-gcc\"\n",
    );
    let json = plan_json(
        &p,
        p.parbuild(["plan", "--json", "--jobs", "2", "--target", "aarch64-linux"]),
    );
    check_snapshot("plan_user_linker_config.json", &json);
    let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(plan["targets"][0]["backend"], "cargo");
    assert!(
        plan["targets"][0]["env"].as_array().unwrap().is_empty(),
        "parbuild adds no linker of its own"
    );
}

#[test]
fn a_linker_in_the_users_environment_wins() {
    let p = project("");
    let out = p
        .parbuild(["plan", "--json", "--target", "aarch64-linux"])
        .env(
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER",
            "/opt/my-gcc",
        )
        .success();
    let plan = out.json();
    let t = &plan["targets"][0];
    assert_eq!(t["backend"], "cargo");
    assert!(
        t["reason"]
            .as_str()
            .unwrap()
            .contains("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER"),
        "{t}"
    );
    let argv = plan["invocations"][0]["command"]["argv"]
        .as_array()
        .unwrap();
    assert_eq!(argv[0], "cargo");
    assert!(argv.iter().any(|a| a == "aarch64-unknown-linux-gnu"));
}

#[test]
fn text_plan_explains_itself() {
    let p = project("");
    let out = p.parbuild(["plan", "--jobs", "2"]).success();
    for needle in [
        "plan: snap-provider 0.4.2 (cdylib `snap_provider`)",
        "2 compiler jobs shared by all targets",
        "arm-linux",
        "stored as `arm-linux.bin`",
        "--message-format=json-render-diagnostics",
        "invocations (",
    ] {
        assert!(
            out.stdout.contains(needle),
            "missing {needle:?} in:\n{}",
            out.stdout
        );
    }
}

#[test]
fn unknown_target_on_the_command_line_is_bad_input() {
    let p = project("");
    let out = p.parbuild(["plan", "--target", "sparc-solaris"]).code(2);
    assert!(
        out.stderr
            .contains("`--target sparc-solaris` is not a target"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("x86_64-linux, aarch64-linux, arm-linux, x86_64-macos"),
        "{}",
        out.stderr
    );
}

#[test]
fn per_target_overrides_split_invocations() {
    let p = project("[targets.x86_64-linux]\n");
    // (the table form above is a duplicate key: check that it is reported, not merged)
    let out = p.parbuild(["plan"]).code(2);
    assert!(out.stderr.contains("par.toml:"), "{}", out.stderr);

    let p = project("");
    let text = std::fs::read_to_string(p.path("par.toml"))
        .unwrap()
        .replace(
            "aarch64-linux = {}",
            "aarch64-linux = { features = [\"extra\"] }",
        );
    p.file("par.toml", text);
    p.file(
        "Cargo.toml",
        "[package]\nname = \"snap-provider\"\nversion = \"0.4.2\"\nedition = \"2021\"\n\n[lib]\ncrate-type = [\"cdylib\"]\n\n[features]\nextra = []\n\n[workspace]\n",
    );
    let plan = p
        .parbuild(["plan", "--json", "--backend", "zig"])
        .success()
        .json();
    let invocations = plan["invocations"].as_array().unwrap();
    let labels: Vec<Vec<&str>> = invocations
        .iter()
        .map(|i| {
            i["labels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(
        labels,
        [
            vec!["x86_64-linux", "arm-linux", "x86_64-macos"],
            vec!["aarch64-linux"]
        ],
        "features split aarch64 into its own invocation"
    );
    assert_eq!(
        plan["targets"][1]["target_dir"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next(),
        Some("zig-2")
    );
}

#[test]
fn cargo_target_dir_and_custom_profiles_are_honoured() {
    let p = project("");
    let mut manifest = std::fs::read_to_string(p.path("Cargo.toml")).unwrap();
    manifest.push_str("\n[profile.dist]\ninherits = \"release\"\nlto = true\n");
    p.file("Cargo.toml", manifest);
    let elsewhere = p.path("elsewhere/target");
    let plan = p
        .parbuild([
            "plan",
            "--json",
            "--profile",
            "dist",
            "--target",
            "x86_64-linux",
        ])
        .env("CARGO_TARGET_DIR", &elsewhere)
        .success()
        .json();
    let t = &plan["targets"][0];
    let backend = t["backend"].as_str().unwrap();
    assert_eq!(
        t["expected_output"].as_str().unwrap(),
        elsewhere
            .join(format!(
                "parbuild/{backend}/x86_64-unknown-linux-gnu/dist/libsnap_provider.so"
            ))
            .to_str()
            .unwrap()
    );
    let argv = argv(&plan["invocations"][0]["command"]);
    assert!(
        argv.windows(2).any(|w| w == ["--profile", "dist"]),
        "{argv:?}"
    );
}
