//! The `/proc` sampler of `build --timings`: a thread that reads the descendants of this
//! process every [`INTERVAL`] and turns what it sees into a [`Timeline`]. The only part of
//! the timings that does I/O, and the only part that depends on the machine's timing; what
//! it makes of one sample ([`Tracker::observe`]) is pure and tested on hand-made process
//! tables.
//!
//! A compile unit is a `rustc` process; its crate, kind and target come from its command
//! line (`--crate-name`, `--crate-type`, `--target`; none means host), its start from the
//! kernel's start time (exact), its end from the last sample that saw it. Build-script runs
//! are `build-script-*` processes, their target from their `TARGET` variable.
//!
//! A **link** (`kind` `link`) is a child of a rustc unit that is not itself named `rustc`
//! (a child still named `rustc` is a fork not yet `exec`ed, and is looked at again when its
//! name changes): rustc starts no other program than its linker and, for some targets, a
//! post-link tool, which counts as part of the link. It gets the crate, target and target
//! directory of the rustc that started it; everything below it is part of it, not a unit
//! of its own. What that child is depends on the backend (seen with `/proc` on real
//! builds):
//! - `cargo`, host: `cc` → `collect2` → `ld.lld`/`rust-lld` (rustc's bundled lld);
//!   a Debian cross gcc: `aarch64-linux-gnu-gcc` → `collect2` → `ld` (bfd).
//! - `zig`: cargo-zigbuild's `zigcc-<triple>-<hash>.sh`, which `exec`s
//!   `cargo-zigbuild zig cc -- …` (same process), which runs `python3 -m ziglang cc`
//!   (the pip zig), which runs `zig cc`/`zig ld.lld`, and on first use `zig clang` to build
//!   libc's start files and libunwind into zig's cache. So a zig link is all of that wrapper
//!   tree, from the script's start to the end of `cargo-zigbuild`: the wrappers' start-up is
//!   part of what a zig link costs. For macOS rustc then runs `rust-objcopy --strip-debug`
//!   on the linked binary: a second link unit of the same crate, which the breakdown's link
//!   spans too.
//! - `cross`, `container`: cargo runs inside a container, whose processes are not this
//!   process's descendants: no unit at all is seen.
//!
//! A process is known by its (pid, start time); while it is no unit, it is described again
//! whenever its name changes (it `exec`ed: cargo's fork into rustc, rustc's into the
//! linker), so a unit first seen mid-`exec` is not missed. CPU use is the CPU time all
//! descendants gained between two samples. Without `/proc` (not Linux) the timeline is
//! empty and says so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::model::{LINK, Timeline, Unit};

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
#[derive(Debug, Clone)]
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

/// Reads `/proc/PID/<file>` (`cmdline`, `environ`) as NUL-separated strings.
fn read_proc(pid: u32, file: &str) -> Vec<String> {
    read_nul_separated(&PathBuf::from(format!("/proc/{pid}/{file}")))
}

/// Whether a unit of this kind is a rustc process (whose children are its links).
fn is_rustc_kind(kind: &str) -> bool {
    kind != LINK && kind != "build-script-run"
}

/// What a process is, from its name, its parent's unit and (through `read`) its command
/// line and environment.
fn describe(
    stat: &Stat,
    parent: Option<&Unit>,
    read: &dyn Fn(u32, &str) -> Vec<String>,
) -> Option<Unit> {
    if let Some(rustc) = parent.filter(|p| is_rustc_kind(&p.kind)) {
        // A child still named `rustc` is a fork not yet `exec`ed (it shows its parent's
        // name and command line): nothing until its name changes.
        return (stat.comm != "rustc").then(|| Unit {
            kind: LINK.to_owned(),
            ..rustc.clone()
        });
    }
    if stat.comm == "rustc" {
        unit_of_rustc(&read(stat.pid, "cmdline"))
    } else if stat.comm.starts_with("build-script-") {
        let argv = read(stat.pid, "cmdline");
        let environ = read(stat.pid, "environ");
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
fn target_dir_of(argv: &[String]) -> Option<PathBuf> {
    argv.iter()
        .position(|a| a == "--target-dir")
        .and_then(|i| argv.get(i + 1))
        .map(PathBuf::from)
}

/// What the tracker remembers of a process it has seen.
struct Seen {
    /// Index into [`Tracker::units`], if the process is a unit.
    unit: Option<usize>,
    /// CPU ticks at the last sample.
    ticks: u64,
    /// Its name when it was last described.
    comm: String,
}

/// The timeline so far, built one sample at a time.
struct Tracker {
    /// This process: units are its descendants.
    me: u32,
    /// Uptime when recording started.
    t0: f64,
    /// Uptime of the previous sample.
    last: f64,
    /// Units as found.
    units: Vec<Unit>,
    /// By (pid, start ticks).
    known: BTreeMap<(u32, u64), Seen>,
    /// The target directory of each invocation, by the pid of its top process.
    dirs: BTreeMap<u32, Option<PathBuf>>,
    cpu: Vec<(f64, f64)>,
}

impl Tracker {
    fn new(me: u32, t0: f64) -> Self {
        Self {
            me,
            t0,
            last: t0,
            units: Vec::new(),
            known: BTreeMap::new(),
            dirs: BTreeMap::new(),
            cpu: Vec::new(),
        }
    }

    /// One sample: every process of the machine at uptime `now`; `read` reads a process's
    /// `cmdline` or `environ`.
    fn observe(&mut self, now: f64, stats: &[Stat], read: &dyn Fn(u32, &str) -> Vec<String>) {
        let parent: BTreeMap<u32, u32> = stats.iter().map(|s| (s.pid, s.ppid)).collect();
        let started: BTreeMap<u32, u64> = stats.iter().map(|s| (s.pid, s.start_ticks)).collect();
        let me = self.me;
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
        // Parents before children, so a linker's rustc is known when the linker is seen.
        let mut order: Vec<&Stat> = stats.iter().collect();
        order.sort_by_key(|s| (s.start_ticks, s.pid));
        let mut gained = 0u64;
        for s in order {
            let Some(top) = top(s.pid) else { continue };
            let key = (s.pid, s.start_ticks);
            // Described when first seen, and again while it is no unit but changes its name.
            let fresh = self
                .known
                .get(&key)
                .is_none_or(|k| k.unit.is_none() && k.comm != s.comm);
            if fresh {
                let parent_unit = started
                    .get(&s.ppid)
                    .and_then(|&ps| self.known.get(&(s.ppid, ps)))
                    .and_then(|k| k.unit)
                    .map(|i| &self.units[i]);
                let unit = describe(s, parent_unit, read);
                let dir = self
                    .dirs
                    .entry(top)
                    .or_insert_with(|| target_dir_of(&read(top, "cmdline")))
                    .clone();
                let index = unit.map(|mut u| {
                    #[allow(clippy::cast_precision_loss)] // ticks since boot fit an f64
                    let since_boot = s.start_ticks as f64 / TICKS_PER_SECOND;
                    u.start = (since_boot - self.t0).max(0.0);
                    if u.kind != LINK {
                        u.target_dir = dir;
                    }
                    self.units.push(u);
                    self.units.len() - 1
                });
                let ticks = self.known.get(&key).map_or(0, |k| k.ticks);
                self.known.insert(
                    key,
                    Seen {
                        unit: index,
                        ticks,
                        comm: s.comm.clone(),
                    },
                );
            }
            if let Some(seen) = self.known.get_mut(&key) {
                gained += s.ticks.saturating_sub(seen.ticks);
                seen.ticks = s.ticks;
                if let Some(i) = seen.unit {
                    self.units[i].end = now - self.t0;
                }
            }
        }
        if now > self.last {
            #[allow(clippy::cast_precision_loss)] // CPU ticks of one interval
            let busy = gained as f64 / TICKS_PER_SECOND / (now - self.last);
            self.cpu.push((now - self.t0, busy));
        }
        self.last = now;
    }

    /// The timeline: each unit ended somewhere between the last sample that saw it and the
    /// next one, so half an interval is added to its end.
    fn finish(self) -> Timeline {
        let seconds = self.last - self.t0;
        let half = INTERVAL.as_secs_f64() / 2.0;
        let mut units: Vec<Unit> = self
            .units
            .into_iter()
            .map(|mut u| {
                u.end = (u.end + half).min(seconds).max(u.start);
                u
            })
            .collect();
        units.sort_by(|a, b| a.start.total_cmp(&b.start));
        Timeline {
            supported: true,
            units,
            cpu: self.cpu,
            seconds,
        }
    }
}

fn read_stats() -> Vec<Stat> {
    std::fs::read_dir("/proc")
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
        .unwrap_or_default()
}

fn sample(stop: &AtomicBool) -> Timeline {
    let Some(t0) = uptime() else {
        return Timeline::default();
    };
    let mut tracker = Tracker::new(std::process::id(), t0);
    loop {
        let finished = stop.load(Ordering::SeqCst);
        let Some(now) = uptime() else { break };
        tracker.observe(now, &read_stats(), &read_proc);
        if finished {
            break;
        }
        std::thread::sleep(INTERVAL);
    }
    tracker.finish()
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

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn rustc_units_and_probes() {
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

    fn stat(pid: u32, ppid: u32, comm: &str, start_ticks: u64, ticks: u64) -> Stat {
        Stat {
            pid,
            comm: comm.to_owned(),
            ppid,
            ticks,
            start_ticks,
        }
    }

    const X86: &str = "x86_64-unknown-linux-gnu";

    /// The command lines and environments of the hand-made processes.
    fn read(pid: u32, file: &str) -> Vec<String> {
        match (pid, file) {
            (10, "cmdline") => {
                argv("cargo build --target x86_64-unknown-linux-gnu --target-dir /t/parbuild/zig")
            }
            // Also what pid 30 shows while it is a fork of 20 not yet `exec`ed.
            (20 | 30, "cmdline") => argv(
                "rustc --crate-name hello_provider --crate-type bin --target x86_64-unknown-linux-gnu",
            ),
            (21, "cmdline") => argv("rustc -vV"),
            (22, "cmdline") => argv("/t/parbuild/zig/release/build/ring-0a1b/build-script-build"),
            (22, "environ") => vec![format!("TARGET={X86}")],
            (32, "cmdline") => argv("/venv/ziglang/zig ld.lld --error-limit=0"),
            _ => Vec::new(),
        }
    }

    /// parbuild (pid 1) runs cargo-zigbuild's cargo (10): a probe (21), a build script run
    /// that compiles C (22 → `cc` 23), and the final binary's rustc (20), which forks (30:
    /// still `rustc` at 0.5 s), `exec`s the wrapper script, which `exec`s `cargo-zigbuild`,
    /// which runs `python3 -m ziglang` (31) and `zig ld.lld` (32). Nothing else on the
    /// machine (99) is looked at.
    #[test]
    fn the_linker_is_the_rustcs_child_with_its_whole_wrapper_tree() {
        let mut tracker = Tracker::new(1, 100.0);
        let samples: [(f64, Vec<Stat>); 5] = [
            (
                100.5,
                vec![
                    stat(10, 1, "cargo", 10000, 10),
                    stat(21, 10, "rustc", 10000, 0),
                    stat(22, 10, "build-script-bu", 10000, 20),
                    stat(23, 22, "cc", 10025, 5),
                    stat(20, 10, "rustc", 10025, 15),
                    stat(30, 20, "rustc", 10050, 0),
                    stat(99, 98, "rustc", 10000, 50),
                ],
            ),
            (
                101.0,
                vec![
                    stat(10, 1, "cargo", 10000, 10),
                    stat(20, 10, "rustc", 10025, 60),
                    stat(30, 20, "zigcc-x86_64-un", 10050, 0),
                ],
            ),
            (
                101.5,
                vec![
                    stat(10, 1, "cargo", 10000, 10),
                    stat(20, 10, "rustc", 10025, 60),
                    stat(30, 20, "cargo-zigbuild", 10050, 10),
                    stat(31, 30, "python3", 10100, 5),
                    stat(32, 31, "zig", 10125, 20),
                ],
            ),
            (
                102.0,
                vec![
                    stat(10, 1, "cargo", 10000, 10),
                    stat(20, 10, "rustc", 10025, 70),
                ],
            ),
            (102.5, vec![stat(10, 1, "cargo", 10000, 10)]),
        ];
        for (now, stats) in &samples {
            tracker.observe(*now, stats, &read);
        }
        let timeline = tracker.finish();
        let half = INTERVAL.as_secs_f64() / 2.0;
        let unit = |name: &str, kind: &str, start: f64, end: f64| Unit {
            name: name.to_owned(),
            kind: kind.to_owned(),
            target: Some(X86.to_owned()),
            target_dir: Some(PathBuf::from("/t/parbuild/zig")),
            start,
            end,
        };
        assert_eq!(
            timeline.units,
            [
                unit("ring", "build-script-run", 0.0, 0.5 + half),
                unit("hello_provider", "bin", 0.25, 2.0 + half),
                unit("hello_provider", LINK, 0.5, 1.5 + half),
            ]
        );
        assert_eq!(timeline.seconds, 2.5);
        // CPU-seconds gained per sample, over its half second: (10+20+5+15)/100, then
        // 45/100, then (10+5+20)/100, then 10/100; nothing but cargo after that.
        assert_eq!(
            timeline.cpu,
            [(0.5, 1.0), (1.0, 0.9), (1.5, 0.7), (2.0, 0.2), (2.5, 0.0)]
        );
    }

    /// The host linker of a build script, as the cargo backend runs it: `cc` → `collect2` →
    /// `ld.lld`; the link has the build script's package and no target.
    #[test]
    fn a_build_scripts_link_is_host_work() {
        let read = |pid: u32, file: &str| match (pid, file) {
            (20, "cmdline") => argv(
                "rustc --crate-name build_script_build build.rs --out-dir /t/parbuild/cargo/release/build/serde-1a2b",
            ),
            _ => Vec::new(),
        };
        let mut tracker = Tracker::new(1, 100.0);
        tracker.observe(
            100.5,
            &[
                stat(10, 1, "cargo", 10000, 0),
                stat(20, 10, "rustc", 10000, 0),
            ],
            &read,
        );
        tracker.observe(
            101.0,
            &[
                stat(10, 1, "cargo", 10000, 0),
                stat(20, 10, "rustc", 10000, 0),
                stat(40, 20, "cc", 10075, 0),
                stat(41, 40, "collect2", 10075, 0),
                stat(42, 41, "ld.lld", 10075, 0),
            ],
            &read,
        );
        tracker.observe(101.5, &[stat(10, 1, "cargo", 10000, 0)], &read);
        let got: Vec<(String, String, Option<String>, f64)> = tracker
            .finish()
            .units
            .into_iter()
            .map(|u| (u.name, u.kind, u.target, u.start))
            .collect();
        assert_eq!(
            got,
            [
                ("serde".into(), "build-script".into(), None, 0.0),
                ("serde".into(), LINK.into(), None, 0.75),
            ]
        );
    }
}
