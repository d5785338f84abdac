//! The build's fingerprint, for real: a two-target zig build of a real crate (whose first
//! build writes its `Cargo.lock`, so is not recorded), built again with nothing changed,
//! starts no cargo (its logs stay as they were) and leaves the
//! archive alone; then each kind of change the fingerprint must see makes cargo run again:
//! a source edit (whose new bytes reach the archive), a variable in the environment, a
//! cargo configuration file that appeared, and an artifact replaced behind parbuild's back.
//! Nothing here measures a time; benches/run measures what the no-op costs.

mod support;

use std::path::Path;
use std::time::SystemTime;

use support::{Project, load_with_wasmcloud, requires_tool};

const SKIPPED: &str = "no cargo started";

#[test]
fn a_build_with_nothing_changed_starts_no_cargo_and_every_change_makes_it_run() {
    if !requires_tool("cargo-zigbuild") {
        return;
    }
    let p = Project::new();
    let dir = p.copy_from_repo("examples/hello-provider", "hello");
    let build = |extra_env: &[(&str, &str)]| {
        let mut run = p.two_zig_targets(&dir, "build");
        for (k, v) in extra_env {
            run = run.env(k, v);
        }
        run.success()
    };
    let archive = dir.join("build/hello-provider.par.gz");
    let log = dir.join("target/parbuild/logs/zig.log");
    let state = |path: &Path| -> (Vec<u8>, SystemTime) {
        (
            std::fs::read(path).unwrap(),
            std::fs::metadata(path).unwrap().modified().unwrap(),
        )
    };

    // The example has no `Cargo.lock`: the first build writes one, an input that changed
    // while it ran, so that build is not recorded and the second asks cargo again.
    assert!(!dir.join("Cargo.lock").exists());
    let first = build(&[]);
    assert!(!first.stderr.contains(SKIPPED), "{}", first.stderr);
    assert!(dir.join("Cargo.lock").is_file());
    let second = build(&[]);
    assert!(!second.stderr.contains(SKIPPED), "{}", second.stderr);
    let (archive_before, log_before) = (state(&archive), state(&log));

    // Nothing changed: no invocation ran (its log was not rewritten), the archive is
    // untouched, and the summary still names both targets and their binaries.
    let again = build(&[]);
    assert!(again.stderr.contains(SKIPPED), "{}", again.stderr);
    assert!(again.stdout.contains("up to date:"), "{}", again.stdout);
    assert!(
        state(&log) == log_before,
        "cargo ran: its log was rewritten"
    );
    assert!(
        state(&archive) == archive_before,
        "the archive was rewritten"
    );
    for label in ["x86_64-linux", "aarch64-linux"] {
        assert!(again.stderr.contains(label), "{}", again.stderr);
    }

    // A source edit: cargo runs, and the archive holds the new code.
    let main = dir.join("src/main.rs");
    let source = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        source.replace("hello-provider says", "hello-provider now says"),
    )
    .unwrap();
    let edited = build(&[]);
    assert!(!edited.stderr.contains(SKIPPED), "{}", edited.stderr);
    let par = load_with_wasmcloud(&std::fs::read(&archive).unwrap());
    for label in ["x86_64-linux", "aarch64-linux"] {
        let bin = par.target_bytes(label).unwrap();
        assert!(
            bin.windows(23).any(|w| w == b"hello-provider now says"),
            "{label} does not hold the edited string"
        );
    }
    assert!(build(&[]).stderr.contains(SKIPPED));

    // A variable a build script could read (rerun-if-env-changed): cargo is asked.
    let with_var = build(&[("HELLO_PROVIDER_FLAVOUR", "mint")]);
    assert!(!with_var.stderr.contains(SKIPPED), "{}", with_var.stderr);
    assert!(
        build(&[("HELLO_PROVIDER_FLAVOUR", "mint")])
            .stderr
            .contains(SKIPPED)
    );

    // A cargo configuration that did not exist before.
    std::fs::create_dir_all(dir.join(".cargo")).unwrap();
    std::fs::write(dir.join(".cargo/config.toml"), "[term]\nverbose = false\n").unwrap();
    let configured = build(&[("HELLO_PROVIDER_FLAVOUR", "mint")]);
    assert!(
        !configured.stderr.contains(SKIPPED),
        "{}",
        configured.stderr
    );

    // An artifact replaced behind parbuild's back (a `cargo build` of its own): cargo is
    // asked, and the archive is checked against what it finds.
    let artifact = dir.join("target/parbuild/zig/x86_64-unknown-linux-gnu/release/hello-provider");
    assert!(artifact.is_file(), "{}", artifact.display());
    let bytes = std::fs::read(&artifact).unwrap();
    std::fs::remove_file(&artifact).unwrap();
    std::fs::write(&artifact, &bytes).unwrap();
    let replaced = build(&[("HELLO_PROVIDER_FLAVOUR", "mint")]);
    assert!(!replaced.stderr.contains(SKIPPED), "{}", replaced.stderr);
}
