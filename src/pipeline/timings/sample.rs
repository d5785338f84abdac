//! The `/proc` sampler of `build --timings`: a thread that reads the descendants of this
//! process every [`INTERVAL`] and turns what it sees into a [`Timeline`]. The only part of
//! the timings that does I/O, and the only part that depends on the machine's timing.
//!
//! A compile unit is a `rustc` process; its crate, kind and target come from its command
//! line (`--crate-name`, `--crate-type`, `--target`; none means host), its start from the
//! kernel's start time (exact), its end from the last sample that saw it. Build-script runs
//! are `build-script-*` processes, their target from their `TARGET` variable. CPU use is
//! the CPU time all descendants gained between two samples. Without `/proc` (not Linux)
//! the timeline is empty and says so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::model::{Timeline, Unit};

/// Time between two samples of `/proc`.
pub const INTERVAL: Duration = Duration::from_millis(50);

/// Linux reports process times in ticks of 1/100 s (`USER_HZ`) on every architecture.
const TICKS_PER_SECOND: f64 = 100.0;

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
}
