//! The `--timings` page: one self-contained HTML file with a header of totals, the table of
//! where each target's time went (the [`Breakdown`]), an SVG of the model's lanes and CPU
//! strip, and a table of the slowest units. Pure text out of a [`Timeline`], its breakdown
//! and the plan; writing it is [`super::write`]'s.

use std::fmt::Write as _;

use super::model::{Breakdown, LINK, Lane, Timeline, Unit, bins, cpu_summary, lanes, rows};
use super::table::lines;
use crate::plan::Plan;

/// What the header says about the build.
struct Build<'a> {
    name: &'a str,
    version: &'a str,
    targets: usize,
    invocations: usize,
    jobs: usize,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn colour(kind: &str) -> &'static str {
    match kind {
        "proc-macro" => "#9b59b6",
        "build-script" => "#e67e22",
        "build-script-run" => "#f1c40f",
        "bin" | "cdylib" => "#27ae60",
        LINK => "#c0392b",
        _ => "#3b82c4",
    }
}

/// The self-contained HTML page: where the time went, a lane per target of `plan`, then
/// the host work.
pub fn render(plan: &Plan, timeline: &Timeline, breakdown: &Breakdown) -> String {
    let targets: Vec<(String, &str)> = plan
        .targets
        .iter()
        .map(|t| {
            let title = format!("{} ({})", t.label.as_str(), t.backend.as_str());
            (title, t.triple.as_str())
        })
        .collect();
    let build = Build {
        name: &plan.package.name,
        version: &plan.version,
        targets: plan.targets.len(),
        invocations: plan.invocations.len(),
        jobs: plan.jobs,
    };
    page(&build, &lanes(&targets, timeline), timeline, breakdown)
}

/// The breakdown as an HTML table, the same rows as the text table.
fn breakdown_table(b: &Breakdown) -> String {
    let mut out = String::from(
        "<table class=\"b\"><tr><th>where the time went</th><th>wait</th><th>compile</th><th>link</th><th>pack</th><th>verify</th><th>total</th><th>mostly</th></tr>",
    );
    for (label, c, dominant) in &lines(b) {
        let _ = write!(out, "<tr><td>{}</td>", escape(label));
        for cell in c {
            let _ = write!(out, "<td>{}</td>", escape(cell));
        }
        let _ = write!(out, "<td>{}</td></tr>", escape(dominant));
    }
    out.push_str("</table>");
    out
}

/// The page of `lanes`, drawn against the build's budget.
fn page(build: &Build, lanes: &[Lane], timeline: &Timeline, breakdown: &Breakdown) -> String {
    const LEFT: f64 = 190.0;
    const WIDTH: f64 = 1000.0;
    const ROW: f64 = 13.0;
    const STRIP: f64 = 70.0;
    let secs = timeline.seconds.max(0.1);
    let x = |t: f64| LEFT + t / secs * WIDTH;
    let (avg, idle, used) = cpu_summary(timeline, build.jobs);
    let mut body = String::new();
    let mut y = 30.0;
    // Time axis.
    let step = [1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0]
        .into_iter()
        .find(|s| secs / s <= 12.0)
        .unwrap_or(1200.0);
    let mut t = 0.0;
    while t <= secs {
        let _ = write!(
            body,
            r##"<line x1="{0:.1}" y1="20" x2="{0:.1}" y2="100%" stroke="#eee"/><text x="{0:.1}" y="14" font-size="10" text-anchor="middle">{1}s</text>"##,
            x(t),
            t
        );
        t += step;
    }
    for lane in lanes {
        let row_of = rows(&lane.units);
        let n_rows = row_of.iter().max().map_or(1, |m| m + 1);
        #[allow(clippy::cast_precision_loss)] // a handful of rows
        let height = (n_rows as f64 * ROW + 8.0).max(32.0);
        let _ = write!(
            body,
            r##"<rect x="0" y="{y:.1}" width="{w:.1}" height="{height:.1}" fill="#fafafa" stroke="#ddd"/><text x="6" y="{ty:.1}" font-size="12" font-weight="bold">{title}</text><text x="6" y="{ty2:.1}" font-size="10" fill="#666">{n} units</text>"##,
            w = LEFT + WIDTH + 10.0,
            ty = y + 14.0,
            ty2 = y + 26.0,
            title = escape(&lane.title),
            n = lane.units.len()
        );
        for (u, r) in lane.units.iter().zip(&row_of) {
            #[allow(clippy::cast_precision_loss)] // a row index
            let uy = y + 4.0 + *r as f64 * ROW;
            let w = (x(u.end) - x(u.start)).max(1.0);
            let _ = write!(
                body,
                r##"<rect class="u" x="{:.1}" y="{uy:.1}" width="{w:.1}" height="{:.1}" fill="{}"><title>{} ({}{}) {:.2}s–{:.2}s: {:.2}s</title></rect>"##,
                x(u.start),
                ROW - 2.0,
                colour(&u.kind),
                escape(&u.name),
                escape(&u.kind),
                u.target
                    .as_deref()
                    .map_or_else(|| ", host".to_owned(), |t| format!(", {t}")),
                u.start,
                u.end,
                u.end - u.start
            );
            if w > 8.0 * u.name.len() as f64 {
                let _ = write!(
                    body,
                    r##"<text x="{:.1}" y="{:.1}" font-size="10" fill="#fff" pointer-events="none">{}</text>"##,
                    x(u.start) + 2.0,
                    uy + ROW - 4.0,
                    escape(&u.name)
                );
            }
        }
        y += height + 4.0;
    }
    // CPU strip: busy CPUs (green) against the budget (idle in red).
    #[allow(clippy::cast_precision_loss)] // a CPU count
    let jobs = build.jobs.max(1) as f64;
    let top = y + 10.0;
    let scale = |busy: f64| top + STRIP - (busy.min(jobs * 1.5) / (jobs * 1.5)) * STRIP;
    let _ = write!(
        body,
        r##"<text x="6" y="{:.1}" font-size="12" font-weight="bold">CPUs busy</text><text x="6" y="{:.1}" font-size="10" fill="#666">budget {} (dashed); line: units running</text><rect x="{LEFT}" y="{top:.1}" width="{WIDTH}" height="{STRIP}" fill="#fdecea"/>"##,
        top + 14.0,
        top + 26.0,
        build.jobs
    );
    let bins = bins(timeline, (secs / 250.0).max(0.5));
    let mut points = format!("{LEFT:.1},{:.1}", top + STRIP);
    let mut running = String::new();
    for b in &bins {
        let _ = write!(
            points,
            " {:.1},{:.1} {:.1},{:.1}",
            x(b.start),
            scale(b.busy),
            x(b.end),
            scale(b.busy)
        );
        let _ = write!(
            running,
            " {:.1},{:.1} {:.1},{:.1}",
            x(b.start),
            scale(b.units),
            x(b.end),
            scale(b.units)
        );
    }
    let _ = write!(
        points,
        " {:.1},{:.1}",
        x(bins.last().map_or(0.0, |b| b.end)),
        top + STRIP
    );
    let _ = write!(
        body,
        r##"<polygon points="{points}" fill="#58b368"/><polyline points="{running}" fill="none" stroke="#1a237e" stroke-width="1.2"/><line x1="{LEFT}" x2="{0:.1}" y1="{1:.1}" y2="{1:.1}" stroke="#333" stroke-dasharray="4 3"/>"##,
        LEFT + WIDTH,
        scale(jobs)
    );
    let height = top + STRIP + 20.0;
    let slowest = {
        let mut all: Vec<&Unit> = timeline.units.iter().collect();
        all.sort_by(|a, b| (b.end - b.start).total_cmp(&(a.end - a.start)));
        all.into_iter()
            .take(15)
            .map(|u| {
                format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2}s</td></tr>",
                    escape(&u.name),
                    escape(&u.kind),
                    escape(u.target.as_deref().unwrap_or("host")),
                    u.end - u.start
                )
            })
            .collect::<String>()
    };
    let note = if timeline.supported {
        String::new()
    } else {
        "<p><b>No timeline:</b> recording needs Linux's <code>/proc</code>.</p>".to_owned()
    };
    format!(
        r##"<!doctype html>
<html><head><meta charset="utf-8"><title>parbuild timings: {name} {version}</title>
<style>body{{font-family:sans-serif;margin:16px}} rect.u:hover{{opacity:.7}} table{{border-collapse:collapse}} td,th{{padding:2px 10px;text-align:left;border-bottom:1px solid #eee}} table.b td+td{{text-align:right}}</style>
</head><body>
<h2>parbuild build --timings: {name} {version}</h2>
<p>{targets} targets in {invocations} invocation(s), {jobs} compiler jobs, {secs:.1} s.
CPU time {used:.1} s; on average {avg:.2} of {jobs} CPUs busy ({pct:.0} %); {idle:.1} CPU-seconds of the budget sat idle.
Colours: <span style="color:#3b82c4">lib</span>, <span style="color:#27ae60">bin</span>, <span style="color:#c0392b">link</span>, <span style="color:#9b59b6">proc-macro</span>, <span style="color:#e67e22">build script (compile)</span>, <span style="color:#f1c40f">build script (run)</span>. Hover a bar for details.</p>
{note}
<h3>Where the time went</h3>
{breakdown}
<p>Seconds from the start of the build. <b>wait</b>: until the target's first rustc started (cargo starting, host work it needs first); <b>compile</b>: from then to the start of its final binary's link; <b>link</b>: that link, the linker and every wrapper it runs through; <b>pack</b>, <b>verify</b>: its archive entry, when measured per entry; <b>total</b>: the sum. Host work: the seconds any of its units ran (<b>link</b>: while one was linking). The archive row is the whole archive.</p>
<svg xmlns="http://www.w3.org/2000/svg" width="{svg_w:.0}" height="{height:.0}" font-family="sans-serif">{body}</svg>
<h3>Slowest units</h3>
<table><tr><th>crate</th><th>kind</th><th>target</th><th>time</th></tr>{slowest}</table>
</body></html>
"##,
        name = escape(build.name),
        version = escape(build.version),
        targets = build.targets,
        invocations = build.invocations,
        jobs = build.jobs,
        pct = avg / jobs * 100.0,
        svg_w = LEFT + WIDTH + 20.0,
        breakdown = breakdown_table(breakdown),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::super::model::{ArchiveTime, Packing, breakdown};
    use super::*;

    const X86: &str = "x86_64-unknown-linux-gnu";
    const ARM: &str = "aarch64-unknown-linux-gnu";

    fn unit(name: &str, kind: &str, target: Option<&str>, start: f64, end: f64) -> Unit {
        Unit {
            name: name.into(),
            kind: kind.into(),
            target: target.map(Into::into),
            target_dir: Some(PathBuf::from("/t/parbuild/zig")),
            start,
            end,
        }
    }

    fn hello(timeline: &Timeline) -> String {
        let labels = [
            ("x86_64-linux".to_owned(), X86),
            ("aarch64-linux".to_owned(), ARM),
        ];
        let packing = Packing {
            entries: BTreeMap::new(),
            archive: Some(ArchiveTime {
                pack: 0.5,
                verify: None,
                unchanged: false,
            }),
        };
        let breakdown = breakdown(
            &labels,
            "hello_provider",
            &["zig".to_owned()],
            timeline,
            &packing,
        );
        let targets = [
            ("x86_64-linux (zig)".to_owned(), X86),
            ("aarch64-linux (zig)".to_owned(), ARM),
        ];
        let build = Build {
            name: "hello-provider",
            version: "0.3.0",
            targets: 2,
            invocations: 1,
            jobs: 2,
        };
        page(&build, &lanes(&targets, timeline), timeline, &breakdown)
    }

    #[test]
    fn the_page_draws_every_lane_and_bar_against_the_budget() {
        let timeline = Timeline {
            supported: true,
            units: vec![
                unit("<odd>&", "proc-macro", None, 0.0, 0.5),
                unit("serde", "lib", Some(ARM), 0.0, 1.0),
                unit("hello_provider", "bin", Some(X86), 1.0, 2.0),
                unit("hello_provider", LINK, Some(X86), 1.5, 2.0),
            ],
            cpu: vec![(1.0, 2.0), (2.0, 1.0)],
            seconds: 2.0,
        };
        let page = hello(&timeline);
        for lane in [
            "x86_64-linux (zig)",
            "aarch64-linux (zig)",
            "host work (zig)",
        ] {
            assert!(page.contains(&format!(">{lane}</text>")), "no lane {lane}");
        }
        for bar in [
            "<title>serde (lib, aarch64-unknown-linux-gnu) 0.00s–1.00s: 1.00s</title>",
            "<title>hello_provider (bin, x86_64-unknown-linux-gnu) 1.00s–2.00s: 1.00s</title>",
            "<title>&lt;odd&gt;&amp; (proc-macro, host) 0.00s–0.50s: 0.50s</title>",
            r##"fill="#c0392b"><title>hello_provider (link, x86_64-unknown-linux-gnu) 1.50s–2.00s: 0.50s</title>"##,
        ] {
            assert!(page.contains(bar), "no bar {bar}");
        }
        // The breakdown's rows, as the text table has them.
        for row in [
            "<tr><td>x86_64-linux</td><td>1.00s</td><td>0.50s</td><td>0.50s</td><td>-</td><td>-</td><td>2.00s</td><td>wait</td></tr>",
            "<tr><td>aarch64-linux</td><td>0.00s</td><td>1.00s</td><td>-</td><td>-</td><td>-</td><td>1.00s</td><td>compile</td></tr>",
            "<tr><td>host work (zig)</td><td>-</td><td>0.50s</td><td>0.00s</td><td>-</td><td>-</td><td>0.50s</td><td>compile</td></tr>",
            "<tr><td>archive</td><td>-</td><td>-</td><td>-</td><td>0.50s</td><td>in pack</td><td>0.50s</td><td>pack+verify</td></tr>",
        ] {
            assert!(page.contains(row), "no row {row}");
        }
        // CPU time 2·1 + 1·1 = 3 s over 2 s; idle against 2 CPUs: 0 + 1.
        assert!(
            page.contains("2 targets in 1 invocation(s), 2 compiler jobs, 2.0 s.\nCPU time 3.0 s; on average 1.50 of 2 CPUs busy (75 %); 1.0 CPU-seconds of the budget sat idle."),
            "{page}"
        );
        assert!(page.contains("budget 2 (dashed)"));
        assert!(!page.contains("No timeline"));
    }

    #[test]
    fn without_proc_the_page_says_why_it_is_empty() {
        let page = hello(&Timeline::default());
        assert!(page.contains("<b>No timeline:</b>"), "{page}");
        assert!(page.contains(">x86_64-linux (zig)</text>"));
    }
}
