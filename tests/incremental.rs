//! `[build] incremental = true`, for real: `plan` shows the variable and why, a two-target
//! zig build of a real crate compiles incrementally (cargo's `incremental/` session of the
//! provider's crate exists for each target), and after an edit the rebuilt archive, loaded
//! by provider-archive, holds the edited code, which the host's binary prints when run.
//! How much faster that rebuild is, is measured by benches/run, never here.

#![allow(clippy::disallowed_methods)] // runs the built host binary itself

mod support;

use support::{Project, load_with_wasmcloud, requires_tool};

#[test]
fn an_incremental_build_reuses_its_session_and_an_edit_reaches_the_archive() {
    if !requires_tool("cargo-zigbuild") {
        return;
    }
    let p = Project::new();
    let dir = p.copy_from_repo("examples/hello-provider", "hello");
    let manifest = dir.join("par.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("[targets]", "[build]\nincremental = true\n\n[targets]"),
    )
    .unwrap();
    let run = |command: &str| p.two_zig_targets(&dir, command).success();

    let plan = run("plan");
    assert!(
        plan.stdout.contains(
            "incremental: CARGO_PROFILE_RELEASE_INCREMENTAL=true (`[build] incremental = true`"
        ),
        "{}",
        plan.stdout
    );
    run("build");
    let sessions = |triple: &str| -> usize {
        let dir = dir.join(format!("target/parbuild/zig/{triple}/release/incremental"));
        std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("hello_provider-")
            })
            .count()
    };
    for triple in ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] {
        assert!(sessions(triple) >= 1, "no incremental session for {triple}");
    }

    let main = dir.join("src/main.rs");
    let source = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        source.replace("hello-provider says", "hello-provider now says"),
    )
    .unwrap();
    run("build");
    let par = load_with_wasmcloud(&std::fs::read(dir.join("build/hello-provider.par.gz")).unwrap());
    let aarch64 = par.target_bytes("aarch64-linux").unwrap();
    assert!(aarch64.windows(23).any(|w| w == b"hello-provider now says"));
    let host = p.path("host.bin");
    std::fs::write(&host, par.target_bytes("x86_64-linux").unwrap()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&host, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = std::process::Command::new(&host).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("hello-provider now says"),
        "{stdout}"
    );
}
