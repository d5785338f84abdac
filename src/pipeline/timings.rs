//! `parbuild build --timings`: a timeline of the build, the picture to look at when a
//! build is slow. One lane per target (and one per invocation for host work: build
//! scripts and proc-macros), a bar per compile unit from when its rustc started to when
//! it ended, build-script runs, and a strip showing how many CPUs the build kept busy
//! against the `--jobs` budget, so idle CPU is visible at a glance.
//!
//! Where the data comes from: a sampler thread reads `/proc` every [`INTERVAL`] for the
//! descendants of this process. A compile unit is a `rustc` process; its crate, kind and
//! target come from its command line (`--crate-name`, `--crate-type`, `--target`; none
//! means host), its start from the kernel's start time (exact), its end from the last
//! sample that saw it. Build-script runs are `build-script-*` processes, their target
//! from their `TARGET` variable. CPU use is the CPU time all descendants gained between
//! two samples. cargo's own output cannot give this: it prints `Compiling x` once per
//! package, so in an invocation building four targets it never says when the other three
//! units of `x` start. Without `/proc` (not Linux) the report says so and is empty.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::plan::Plan;

/// Time between two samples of `/proc`.
pub const INTERVAL: Duration = Duration::from_millis(50);

/// Linux reports process times in ticks of 1/100 s (`USER_HZ`) on every architecture.
const TICKS_PER_SECOND: f64 = 100.0;

/// One compile unit or build-script run.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The crate (or package, for a build-script run).
    pub name: String,
    /// `lib`, `bin`, `proc-macro`, `build-script` (compiling it) or `build-script-run`.
    pub kind: String,
    /// The target triple; `None` for host units (build scripts, proc-macros).
    pub target: Option<String>,
    /// The `--target-dir` of the invocation it belongs to.
    pub target_dir: Option<PathBuf>,
    /// Seconds since the recorder started.
    pub start: f64,
    /// Seconds since the recorder started.
    pub end: f64,
}

/// Everything recorded.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// Whether `/proc` could be read at all.
    pub supported: bool,
    /// Units, by start.
    pub units: Vec<Unit>,
    /// `(seconds, CPUs busy since the previous sample)`.
    pub cpu: Vec<(f64, f64)>,
    /// Length of the recording in seconds.
    pub seconds: f64,
}

/// Samples `/proc` on a thread until [`Recorder::finish`].
pub struct Recorder {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Timeline>,
}

impl Recorder {
    /// Starts sampling the descendants of this process.
    pub fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || sample(&flag));
        Self { stop, handle }
    }

    /// Stops sampling and returns the timeline.
    pub fn finish(self) -> Timeline {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().unwrap_or_default()
    }
}

/// One line of `/proc/PID/stat`, the fields used here.
struct Stat {
    pid: u32,
    comm: String,
    ppid: u32,
    ticks: u64,
    start_ticks: u64,
}

fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text[..open].trim().parse().ok()?;
    let comm = text[open + 1..close].to_owned();
    // After the comm: state(0) ppid(1) … utime(11) stime(12) … starttime(19).
    let rest: Vec<&str> = text[close + 1..].split_whitespace().collect();
    let field = |i: usize| rest.get(i).and_then(|v| v.parse::<u64>().ok());
    Some(Stat {
        pid,
        comm,
        ppid: u32::try_from(field(1)?).ok()?,
        ticks: field(11)? + field(12)?,
        start_ticks: field(19)?,
    })
}

fn uptime() -> Option<f64> {
    std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn read_nul_separated(path: &Path) -> Vec<String> {
    std::fs::read(path)
        .map(|b| {
            b.split(|&c| c == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// What a process is, read once when it is first seen.
fn describe(stat: &Stat) -> Option<Unit> {
    if stat.comm == "rustc" {
        let argv = read_nul_separated(&PathBuf::from(format!("/proc/{}/cmdline", stat.pid)));
        unit_of_rustc(&argv)
    } else if stat.comm.starts_with("build-script-") {
        let argv = read_nul_separated(&PathBuf::from(format!("/proc/{}/cmdline", stat.pid)));
        let environ = read_nul_separated(&PathBuf::from(format!("/proc/{}/environ", stat.pid)));
        let target = environ
            .iter()
            .find_map(|v| v.strip_prefix("TARGET=").map(str::to_owned));
        let dir = Path::new(argv.first()?)
            .parent()?
            .file_name()?
            .to_string_lossy();
        // `.../build/<package>-<hash>/build-script-build`
        let name = dir.rsplit_once('-').map_or(&*dir, |(n, _)| n).to_owned();
        Some(Unit {
            name,
            kind: "build-script-run".to_owned(),
            target,
            target_dir: None,
            start: 0.0,
            end: 0.0,
        })
    } else {
        None
    }
}

/// A compile unit from rustc's arguments; `None` for cargo's probes (`___`, `-vV`).
fn unit_of_rustc(argv: &[String]) -> Option<Unit> {
    let value = |flag: &str| {
        argv.iter()
            .position(|a| a == flag)
            .and_then(|i| argv.get(i + 1))
            .cloned()
    };
    let name = value("--crate-name")?;
    if name == "___" {
        return None;
    }
    let (name, kind) = if name == "build_script_build" {
        // `--out-dir .../build/<package>-<hash>`: name it after its package.
        let package = value("--out-dir").and_then(|d| {
            let dir = Path::new(&d).file_name()?.to_string_lossy().into_owned();
            dir.rsplit_once('-').map(|(p, _)| p.to_owned())
        });
        (package.unwrap_or(name), "build-script".to_owned())
    } else {
        let kind = value("--crate-type").unwrap_or_else(|| "lib".to_owned());
        (name, kind)
    };
    Some(Unit {
        name,
        kind,
        target: value("--target"),
        target_dir: None,
        start: 0.0,
        end: 0.0,
    })
}

/// The `--target-dir` of a cargo (or cargo-zigbuild) command line.
fn target_dir_of(pid: u32) -> Option<PathBuf> {
    let argv = read_nul_separated(&PathBuf::from(format!("/proc/{pid}/cmdline")));
    argv.iter()
        .position(|a| a == "--target-dir")
        .and_then(|i| argv.get(i + 1))
        .map(PathBuf::from)
}

fn sample(stop: &AtomicBool) -> Timeline {
    let me = std::process::id();
    let Some(t0) = uptime() else {
        return Timeline::default();
    };
    let mut timeline = Timeline {
        supported: true,
        ..Timeline::default()
    };
    // (pid, start) → index into units, or None for other processes; CPU ticks seen.
    let mut known: BTreeMap<(u32, u64), (Option<usize>, u64)> = BTreeMap::new();
    let mut dirs: BTreeMap<u32, Option<PathBuf>> = BTreeMap::new();
    let mut last = t0;
    loop {
        let finished = stop.load(Ordering::SeqCst);
        let Some(now) = uptime() else { break };
        let stats: Vec<Stat> = std::fs::read_dir("/proc")
            .map(|d| {
                d.flatten()
                    .filter(|e| {
                        e.file_name()
                            .to_string_lossy()
                            .bytes()
                            .all(|b| b.is_ascii_digit())
                    })
                    .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
                    .filter_map(|t| parse_stat(&t))
                    .collect()
            })
            .unwrap_or_default();
        let parent: BTreeMap<u32, u32> = stats.iter().map(|s| (s.pid, s.ppid)).collect();
        // The ancestor just below us (the invocation's cargo), if `pid` descends from us.
        let top = |mut pid: u32| -> Option<u32> {
            for _ in 0..64 {
                let p = *parent.get(&pid)?;
                if p == me {
                    return Some(pid);
                }
                pid = p;
            }
            None
        };
        let mut gained = 0u64;
        for s in &stats {
            let Some(top) = top(s.pid) else { continue };
            let entry = known.entry((s.pid, s.start_ticks)).or_insert_with(|| {
                let dir = dirs
                    .entry(top)
                    .or_insert_with(|| target_dir_of(top))
                    .clone();
                let unit = describe(s).map(|mut u| {
                    #[allow(clippy::cast_precision_loss)] // ticks since boot fit an f64
                    let started = s.start_ticks as f64 / TICKS_PER_SECOND;
                    u.start = (started - t0).max(0.0);
                    u.end = now - t0;
                    u.target_dir = dir;
                    timeline.units.push(u);
                    timeline.units.len() - 1
                });
                (unit, 0)
            });
            gained += s.ticks.saturating_sub(entry.1);
            entry.1 = s.ticks;
            if let Some(i) = entry.0 {
                timeline.units[i].end = now - t0;
            }
        }
        if now > last {
            #[allow(clippy::cast_precision_loss)] // CPU ticks of one interval
            let busy = gained as f64 / TICKS_PER_SECOND / (now - last);
            timeline.cpu.push((now - t0, busy));
        }
        last = now;
        if finished {
            break;
        }
        std::thread::sleep(INTERVAL);
    }
    timeline.seconds = last - t0;
    // A unit ended somewhere between the last sample that saw it and the next one.
    let half = INTERVAL.as_secs_f64() / 2.0;
    for u in &mut timeline.units {
        u.end = (u.end + half).min(timeline.seconds).max(u.start);
    }
    timeline.units.sort_by(|a, b| a.start.total_cmp(&b.start));
    timeline
}

/// A lane of the picture: a target, or the host work of one invocation.
struct Lane {
    title: String,
    units: Vec<Unit>,
}

fn lanes(plan: &Plan, timeline: &Timeline) -> Vec<Lane> {
    let mut lanes: Vec<Lane> = plan
        .targets
        .iter()
        .map(|t| Lane {
            title: format!("{} ({})", t.label.as_str(), t.backend.as_str()),
            units: timeline
                .units
                .iter()
                .filter(|u| u.target.as_deref() == Some(t.triple.as_str()))
                .cloned()
                .collect(),
        })
        .collect();
    let mut host: BTreeMap<String, Vec<Unit>> = BTreeMap::new();
    for u in timeline.units.iter().filter(|u| {
        u.target.is_none()
            || !plan
                .targets
                .iter()
                .any(|t| Some(&t.triple) == u.target.as_ref())
    }) {
        let dir = u
            .target_dir
            .as_ref()
            .and_then(|d| d.file_name())
            .map_or_else(|| "?".to_owned(), |d| d.to_string_lossy().into_owned());
        host.entry(format!("host work ({dir})"))
            .or_default()
            .push(u.clone());
    }
    lanes.extend(host.into_iter().map(|(title, units)| Lane { title, units }));
    lanes
}

/// Greedy rows: each unit goes into the first row where it does not overlap.
fn rows(units: &[Unit]) -> Vec<usize> {
    let mut ends: Vec<f64> = Vec::new();
    units
        .iter()
        .map(|u| {
            if let Some(r) = ends.iter().position(|&e| e <= u.start) {
                ends[r] = u.end;
                r
            } else {
                ends.push(u.end);
                ends.len() - 1
            }
        })
        .collect()
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
        _ => "#3b82c4",
    }
}

/// Average CPUs busy, idle CPU-seconds against `jobs`, and CPU-seconds used.
fn cpu_summary(timeline: &Timeline, jobs: usize) -> (f64, f64, f64) {
    #[allow(clippy::cast_precision_loss)] // a CPU count
    let jobs = jobs as f64;
    let (mut used, mut idle, mut prev) = (0.0, 0.0, 0.0);
    for &(t, busy) in &timeline.cpu {
        let dt = t - prev;
        used += busy * dt;
        idle += (jobs - busy).max(0.0) * dt;
        prev = t;
    }
    let avg = if timeline.seconds > 0.0 {
        used / timeline.seconds
    } else {
        0.0
    };
    (avg, idle, used)
}

/// One column of the CPU strip.
struct Bin {
    start: f64,
    end: f64,
    /// CPUs busy on average.
    busy: f64,
    /// Units running on average.
    units: f64,
}

/// The samples and units averaged over columns of `width` seconds (samples are 50 ms
/// apart and CPU times count in 10 ms ticks: too coarse to draw one by one).
fn bins(timeline: &Timeline, width: f64) -> Vec<Bin> {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // a few hundred
    let n = (timeline.seconds / width).ceil().max(1.0) as usize;
    #[allow(clippy::cast_precision_loss)] // a few hundred
    let mut bins: Vec<Bin> = (0..n)
        .map(|i| Bin {
            start: i as f64 * width,
            end: ((i + 1) as f64 * width).min(timeline.seconds),
            busy: 0.0,
            units: 0.0,
        })
        .collect();
    let overlap = |b: &Bin, from: f64, to: f64| (to.min(b.end) - from.max(b.start)).max(0.0);
    let mut prev = 0.0;
    for &(t, busy) in &timeline.cpu {
        for b in &mut bins {
            b.busy += busy * overlap(b, prev, t);
        }
        prev = t;
    }
    for u in &timeline.units {
        for b in &mut bins {
            b.units += overlap(b, u.start, u.end);
        }
    }
    for b in &mut bins {
        let len = (b.end - b.start).max(1e-9);
        b.busy /= len;
        b.units /= len;
    }
    bins
}

/// The self-contained HTML page.
pub fn render(plan: &Plan, timeline: &Timeline) -> String {
    const LEFT: f64 = 190.0;
    const WIDTH: f64 = 1000.0;
    const ROW: f64 = 13.0;
    const STRIP: f64 = 70.0;
    let secs = timeline.seconds.max(0.1);
    let x = |t: f64| LEFT + t / secs * WIDTH;
    let lanes = lanes(plan, timeline);
    let (avg, idle, used) = cpu_summary(timeline, plan.jobs);
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
    for lane in &lanes {
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
    let jobs = plan.jobs.max(1) as f64;
    let top = y + 10.0;
    let scale = |busy: f64| top + STRIP - (busy.min(jobs * 1.5) / (jobs * 1.5)) * STRIP;
    let _ = write!(
        body,
        r##"<text x="6" y="{:.1}" font-size="12" font-weight="bold">CPUs busy</text><text x="6" y="{:.1}" font-size="10" fill="#666">budget {} (dashed); line: units running</text><rect x="{LEFT}" y="{top:.1}" width="{WIDTH}" height="{STRIP}" fill="#fdecea"/>"##,
        top + 14.0,
        top + 26.0,
        plan.jobs
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
<style>body{{font-family:sans-serif;margin:16px}} rect.u:hover{{opacity:.7}} table{{border-collapse:collapse}} td,th{{padding:2px 10px;text-align:left;border-bottom:1px solid #eee}}</style>
</head><body>
<h2>parbuild build --timings: {name} {version}</h2>
<p>{targets} targets in {invocations} invocation(s), {jobs} compiler jobs, {secs:.1} s.
CPU time {used:.1} s; on average {avg:.2} of {jobs} CPUs busy ({pct:.0} %); {idle:.1} CPU-seconds of the budget sat idle.
Colours: <span style="color:#3b82c4">lib</span>, <span style="color:#27ae60">bin</span>, <span style="color:#9b59b6">proc-macro</span>, <span style="color:#e67e22">build script (compile)</span>, <span style="color:#f1c40f">build script (run)</span>. Hover a bar for details.</p>
{note}
<svg xmlns="http://www.w3.org/2000/svg" width="{svg_w:.0}" height="{height:.0}" font-family="sans-serif">{body}</svg>
<h3>Slowest units</h3>
<table><tr><th>crate</th><th>kind</th><th>target</th><th>time</th></tr>{slowest}</table>
</body></html>
"##,
        name = escape(&plan.package.name),
        version = escape(&plan.version),
        targets = plan.targets.len(),
        invocations = plan.invocations.len(),
        jobs = plan.jobs,
        pct = avg / jobs * 100.0,
        svg_w = LEFT + WIDTH + 20.0,
    )
}

/// Writes the page to `<target-dir>/parbuild/timings.html` and returns its path.
pub fn write(plan: &Plan, timeline: &Timeline) -> std::io::Result<PathBuf> {
    let dir = plan.package.target_dir.join("parbuild");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("timings.html");
    std::fs::write(&path, render(plan, timeline))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_spaces_in_comm() {
        let s =
            parse_stat("42 (build script) S 7 42 42 0 -1 0 0 0 0 0 150 25 0 0 20 0 1 0 9000 0 0")
                .unwrap();
        assert_eq!((s.pid, s.ppid, s.ticks, s.start_ticks), (42, 7, 175, 9000));
        assert_eq!(s.comm, "build script");
    }

    #[test]
    fn rustc_units_and_probes() {
        let argv = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        let u = unit_of_rustc(&argv(
            "rustc --crate-name serde --edition=2021 src/lib.rs --crate-type lib --target aarch64-unknown-linux-gnu",
        ))
        .unwrap();
        assert_eq!(
            (u.name.as_str(), u.kind.as_str(), u.target.as_deref()),
            ("serde", "lib", Some("aarch64-unknown-linux-gnu"))
        );
        let b = unit_of_rustc(&argv(
            "rustc --crate-name build_script_build build.rs --out-dir /t/release/build/serde-1a2b3c",
        ))
        .unwrap();
        assert_eq!(
            (b.name.as_str(), b.kind.as_str(), b.target),
            ("serde", "build-script", None)
        );
        assert!(unit_of_rustc(&argv("rustc - --crate-name ___ --print=file-names")).is_none());
        assert!(unit_of_rustc(&argv("rustc -vV")).is_none());
    }

    #[test]
    fn overlapping_units_get_rows() {
        let u = |start: f64, end: f64| Unit {
            name: "x".into(),
            kind: "lib".into(),
            target: None,
            target_dir: None,
            start,
            end,
        };
        assert_eq!(
            rows(&[u(0.0, 2.0), u(1.0, 3.0), u(2.0, 4.0), u(2.5, 3.0)]),
            [0, 1, 0, 2]
        );
    }
}
