//! A real two-target build with `--timings` (the page has a lane per target and a bar for
//! each crate), then the same build again: it must rebuild nothing and leave the archive
//! untouched, bytes and mtime.

mod support;

use support::{ACCOUNT_SEED, Project, SERVICE_SEED, requires_tool};

#[test]
fn timings_page_then_a_no_op_rebuild_leaves_the_archive_untouched() {
    if !requires_tool("cargo-zigbuild") {
        return;
    }
    let p = Project::new();
    let dir = p.copy_from_repo("examples/hello-provider", "hello");
    let build = |extra: &[&str]| {
        let mut args = vec![
            "build",
            "--jobs",
            "2",
            "--target",
            "x86_64-linux",
            "--target",
            "aarch64-linux",
        ];
        args.extend_from_slice(extra);
        p.parbuild(args)
            .current_dir(&dir)
            .env("WASH_ISSUER_KEY", ACCOUNT_SEED)
            .env("WASH_SUBJECT_KEY", SERVICE_SEED)
            .success()
    };

    let out = build(&["--timings"]);
    let page_path = dir.join("target/parbuild/timings.html");
    assert!(
        out.stderr
            .contains(&format!("timings: {}", page_path.display())),
        "{}",
        out.stderr
    );
    let page = std::fs::read_to_string(&page_path).unwrap();
    for lane in ["x86_64-linux (zig)", "aarch64-linux (zig)"] {
        assert!(page.contains(lane), "no lane {lane}");
    }
    for krate in ["serde_json", "itoa", "hello_provider"] {
        for triple in ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] {
            assert!(
                page.contains(&format!("<title>{krate} (")) && page.contains(triple),
                "no bar for {krate} on {triple}"
            );
        }
    }
    assert!(page.contains("CPUs busy"));

    let archive = dir.join("build/hello-provider.par.gz");
    let before = (
        std::fs::read(&archive).unwrap(),
        std::fs::metadata(&archive).unwrap().modified().unwrap(),
    );
    let again = build(&[]);
    assert!(again.stdout.contains("up to date:"), "{}", again.stdout);
    let log = std::fs::read_to_string(dir.join("target/parbuild/logs/zig.log")).unwrap();
    assert!(
        !log.contains("Compiling"),
        "a no-op build compiles nothing:\n{log}"
    );
    let after = (
        std::fs::read(&archive).unwrap(),
        std::fs::metadata(&archive).unwrap().modified().unwrap(),
    );
    assert!(before == after, "the archive was rewritten");
}
