//! A real two-target build with `--timings` (the page is written, with a lane per target
//! and the build's totals; the jobserver account is exact; the table of where each
//! target's time went is on stderr, on the page and in `--json`, and its figures agree),
//! then the same build again: it must rebuild nothing and leave the archive untouched,
//! bytes and mtime, and its table says nothing was compiled.
//!
//! Nothing here depends on how long anything took: which bars a page draws from a
//! timeline, and what the breakdown makes of it, are pinned by the unit tests of
//! `pipeline::timings` on hand-made timelines; here only that the figures exist and are
//! consistent with one another (each target's link was seen, its parts add up to its total,
//! the table shows the JSON's numbers).

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
    assert!(
        page.contains("<h3>Where the time went</h3>"),
        "no breakdown on the page"
    );

    // The breakdown, in milliseconds (its figures are, so parts add up exactly).
    let json = out.json();
    let timings = &json["timings"];
    assert_eq!(
        timings["page"].as_str(),
        Some(page_path.to_str().unwrap()),
        "{timings:#}"
    );
    let ms = |row: &serde_json::Value, part: &str| -> i64 {
        let seconds = row[part]
            .as_f64()
            .unwrap_or_else(|| panic!("no {part} in {row:#}"));
        #[allow(clippy::cast_possible_truncation)] // milliseconds of a test build
        let ms = (seconds * 1000.0).round() as i64;
        ms
    };
    let line_of = |label: &str| row_of(&out.stderr, label);
    for label in ["x86_64-linux", "aarch64-linux"] {
        let row = &timings["targets"][label];
        assert!(
            ms(row, "link") > 0,
            "the final link of {label} was seen: {row:#}"
        );
        assert!(ms(row, "wait") >= 0 && ms(row, "compile") >= 0, "{row:#}");
        assert!(
            ms(row, "compile") + ms(row, "link") <= ms(row, "total"),
            "{row:#}"
        );
        // Pack and verify are measured for the whole archive, not per target.
        assert!(row["pack"].is_null() && row["verify"].is_null(), "{row:#}");
        assert_eq!(
            ms(row, "wait") + ms(row, "compile") + ms(row, "link"),
            ms(row, "total"),
            "{row:#}"
        );
        assert!(
            ["wait", "compile", "link"].contains(&row["dominant"].as_str().unwrap_or("")),
            "{row:#}"
        );
        // The table shows the same figures.
        let line = line_of(label);
        for part in ["wait", "compile", "link", "total"] {
            let shown = format!("{:.2}s", row[part].as_f64().unwrap());
            assert!(
                line.contains(&shown),
                "{label} {part} {shown} not in: {line}"
            );
        }
        assert!(
            page.contains(&format!("<tr><td>{label}</td>")),
            "no page row {label}"
        );
    }
    let host = &timings["host"]["host work (zig)"];
    assert_eq!(
        ms(host, "compile") + ms(host, "link"),
        ms(host, "total"),
        "{host:#}"
    );
    line_of("host work (zig)");
    let archive = &timings["archive"];
    assert!(
        archive["pack"].as_f64().is_some() && archive["verify"].is_null(),
        "{archive:#}"
    );
    assert_eq!(archive["unchanged"], false);
    assert!(line_of("archive").contains("in pack"));
    // One invocation, so one child: it held the one token parbuild paid for it, exactly.
    assert_eq!(
        json["jobserver"],
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
    let again = build(&["--timings"]);
    assert!(again.stdout.contains("up to date:"), "{}", again.stdout);
    // Nothing was compiled: no figure for either target; the archive was only verified.
    for label in ["x86_64-linux", "aarch64-linux"] {
        let line = row_of(&again.stderr, label);
        assert!(
            line.split_whitespace().skip(1).all(|cell| cell == "-"),
            "{line}"
        );
    }
    row_of(&again.stderr, "archive (up to date)");
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

/// The row of the breakdown table named `label` (the lines after its header; the build's
/// summary table above it has rows named after the targets too).
fn row_of<'a>(stderr: &'a str, label: &str) -> &'a str {
    stderr
        .lines()
        .skip_while(|l| !(l.starts_with("where the time went") && l.ends_with("total  mostly")))
        .skip(1)
        .find(|l| l.split("  ").next() == Some(label))
        .unwrap_or_else(|| panic!("no row {label} in the breakdown:\n{stderr}"))
}
