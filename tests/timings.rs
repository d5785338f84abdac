//! A real two-target build with `--timings` (the page is written, with a lane per target
//! and the build's totals; the jobserver account is exact), then the same build again: it
//! must rebuild nothing and leave the archive untouched, bytes and mtime.
//!
//! Nothing here depends on what the `/proc` sampler happened to see: which bars a page
//! draws from a timeline is pinned by the unit tests of `pipeline::timings`, on hand-made
//! timelines; a real build's bars depend on the machine's timing.

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

    let out = build(&["--timings", "--json"]);
    let page_path = dir.join("target/parbuild/timings.html");
    assert!(
        out.stderr
            .contains(&format!("timings: {}", page_path.display())),
        "{}",
        out.stderr
    );
    let page = std::fs::read_to_string(&page_path).unwrap();
    for lane in ["x86_64-linux (zig)", "aarch64-linux (zig)"] {
        assert!(page.contains(&format!(">{lane}</text>")), "no lane {lane}");
    }
    assert!(
        page.contains("2 targets in 1 invocation(s), 2 compiler jobs,"),
        "{page}"
    );
    assert!(page.contains("CPUs busy") && page.contains("budget 2 (dashed)"));
    assert!(!page.contains("No timeline"), "Linux has /proc");
    // One invocation, so one child: it held the one token parbuild paid for it, exactly.
    assert_eq!(
        out.json()["jobserver"],
        serde_json::json!({
            "tokens": 2,
            "max_held_by_parbuild": 1,
            "children": 1,
            "paid": [{"backend": "zig", "labels": ["x86_64-linux", "aarch64-linux"], "jobserver": true, "tokens": 1}],
        })
    );

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
