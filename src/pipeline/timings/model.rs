//! The model of a timeline: the units and CPU samples the sampler recorded, what the page
//! draws from them (lanes, rows, the CPU strip's columns, the budget's use), and the
//! [`breakdown`] of where each target's time went. Pure: nothing here reads the clock or
//! the machine, so every number is tested exactly.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// The kind of a link unit: the linker a rustc ran, with everything it ran in turn.
pub const LINK: &str = "link";

/// One compile unit, build-script run or link.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The crate (or package, for a build-script run).
    pub name: String,
    /// `lib`, `bin`, `proc-macro`, `build-script` (compiling it), `build-script-run`, or
    /// `link` (the linker a rustc ran, with that rustc's crate and target).
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

/// A lane of the picture: a target, or the host work of one invocation.
pub(super) struct Lane {
    pub(super) title: String,
    pub(super) units: Vec<Unit>,
}

/// One lane per target, given as `(title, triple)` in plan order, with the units built for
/// its triple; then one lane per target directory for the rest (host work: build scripts,
/// proc-macros, and anything built for a triple no target has).
pub(super) fn lanes(targets: &[(String, &str)], timeline: &Timeline) -> Vec<Lane> {
    let mut lanes: Vec<Lane> = targets
        .iter()
        .map(|(title, triple)| Lane {
            title: title.clone(),
            units: timeline
                .units
                .iter()
                .filter(|u| u.target.as_deref() == Some(*triple))
                .cloned()
                .collect(),
        })
        .collect();
    let mut host: BTreeMap<String, Vec<Unit>> = BTreeMap::new();
    for u in timeline.units.iter().filter(|u| {
        u.target
            .as_deref()
            .is_none_or(|t| !targets.iter().any(|(_, triple)| *triple == t))
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
pub(super) fn rows(units: &[Unit]) -> Vec<usize> {
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

/// Average CPUs busy, idle CPU-seconds against `jobs`, and CPU-seconds used.
pub(super) fn cpu_summary(timeline: &Timeline, jobs: usize) -> (f64, f64, f64) {
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
pub(super) struct Bin {
    pub(super) start: f64,
    pub(super) end: f64,
    /// CPUs busy on average.
    pub(super) busy: f64,
    /// Units running on average.
    pub(super) units: f64,
}

/// The samples and units averaged over columns of `width` seconds (samples are 50 ms
/// apart and CPU times count in 10 ms ticks: too coarse to draw one by one).
pub(super) fn bins(timeline: &Timeline, width: f64) -> Vec<Bin> {
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

/// Seconds in which at least one of `intervals` ran.
fn union(mut intervals: Vec<(f64, f64)>) -> f64 {
    intervals.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut total = 0.0;
    let mut current: Option<(f64, f64)> = None;
    for (start, end) in intervals {
        match &mut current {
            Some((_, e)) if start <= *e => *e = e.max(end),
            _ => {
                if let Some((s, e)) = current {
                    total += e - s;
                }
                current = Some((start, end));
            }
        }
    }
    total + current.map_or(0.0, |(s, e)| e - s)
}

/// What packing took, measured outside the timeline (the pipeline does not pack): where
/// `breakdown`'s `pack` and `verify` come from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Packing {
    /// Per archive label, `(pack, verify)` seconds of its entry, for when the packing code
    /// measures them; a target without an entry here has no pack or verify figure.
    pub entries: BTreeMap<String, (f64, f64)>,
    /// The archive as a whole, when that is what was measured.
    pub archive: Option<ArchiveTime>,
}

/// What writing the whole archive took.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ArchiveTime {
    /// Seconds packing it: claims, signing, tar, compression, the staging file.
    pub pack: f64,
    /// Seconds verifying it; `None` when verifying was measured together with packing
    /// (then `pack` holds both).
    pub verify: Option<f64>,
    /// The archive already held exactly this build and was only verified, not rewritten.
    pub unchanged: bool,
}

/// One row of the breakdown, in seconds; `None` where nothing was measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Row {
    /// The archive label, or `host work (<invocation>)`.
    #[serde(skip)]
    pub label: String,
    /// Before the row's first unit started.
    pub wait: Option<f64>,
    /// Compiling.
    pub compile: Option<f64>,
    /// Linking.
    pub link: Option<f64>,
    /// Packing its archive entry.
    pub pack: Option<f64>,
    /// Verifying its archive entry.
    pub verify: Option<f64>,
    /// The row's total.
    pub total: Option<f64>,
    /// The name of its largest part (`wait`, `compile`, `link`, `pack`, `verify`).
    pub dominant: Option<&'static str>,
}

/// Where the time went: a row per target, one per invocation for host work, and the
/// archive. See `model::breakdown` for what each figure is.
#[derive(Debug, Clone, PartialEq)]
pub struct Breakdown {
    /// Whether there was a timeline at all (`/proc`).
    pub supported: bool,
    /// One per target, in plan order.
    pub targets: Vec<Row>,
    /// One per invocation (and per other target directory units were seen in).
    pub host: Vec<Row>,
    /// The archive as a whole, when only that was measured.
    pub archive: Option<ArchiveTime>,
    /// Length of the recording.
    pub seconds: f64,
}

impl Breakdown {
    /// `{"seconds", "targets": {label: row}, "host": {lane: row}, "archive"}`, in seconds.
    pub fn json(&self) -> serde_json::Value {
        let rows = |rows: &[Row]| -> serde_json::Map<String, serde_json::Value> {
            rows.iter()
                .map(|r| (r.label.clone(), serde_json::json!(r)))
                .collect()
        };
        serde_json::json!({
            "supported": self.supported,
            "seconds": self.seconds,
            "targets": rows(&self.targets),
            "host": rows(&self.host),
            "archive": self.archive,
        })
    }
}

/// `seconds` to the millisecond: every figure of the breakdown is one, and each part is
/// the difference of two of them, so parts add up to totals exactly in milliseconds.
fn ms(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// The largest of the parts that were measured, if any is more than zero.
fn dominant(parts: &[(&'static str, Option<f64>)]) -> Option<&'static str> {
    parts
        .iter()
        .filter_map(|&(name, v)| Some((name, v?)))
        .filter(|&(_, v)| v > 0.0)
        .fold(None, |best: Option<(&str, f64)>, (name, v)| match best {
            Some((_, b)) if b >= v => best,
            _ => Some((name, v)),
        })
        .map(|(name, _)| name)
}

/// The row of one target from the units built for its triple. `crate_name` is the final
/// binary's crate (`--crate-name`: the artifact's name with `_` for `-`).
fn target_row(label: &str, units: &[Unit], crate_name: &str, pack: Option<(f64, f64)>) -> Row {
    let (pack, verify) = (pack.map(|p| ms(p.0)), pack.map(|p| ms(p.1)));
    let first = units.iter().map(|u| ms(u.start)).min_by(f64::total_cmp);
    let final_link: Vec<&Unit> = units
        .iter()
        .filter(|u| u.kind == LINK && u.name == crate_name)
        .collect();
    let link_span = final_link
        .iter()
        .map(|u| ms(u.start))
        .min_by(f64::total_cmp)
        .zip(final_link.iter().map(|u| ms(u.end)).max_by(f64::total_cmp));
    let (wait, compile, link, end) = match (first, link_span) {
        (None, _) => (None, None, None, None),
        (Some(first), Some((start, end))) => (
            Some(first),
            Some(ms(start - first)),
            Some(ms(end - start)),
            Some(end),
        ),
        (Some(first), None) => {
            let end = units.iter().map(|u| ms(u.end)).fold(first, f64::max);
            (Some(first), Some(ms(end - first)), None, Some(end))
        }
    };
    let total = end.map(|e| ms(e + pack.unwrap_or(0.0) + verify.unwrap_or(0.0)));
    Row {
        label: label.to_owned(),
        dominant: dominant(&[
            ("wait", wait),
            ("compile", compile),
            ("link", link),
            ("pack", pack),
            ("verify", verify),
        ]),
        wait,
        compile,
        link,
        pack,
        verify,
        total,
    }
}

/// The row of one invocation's host work.
fn host_row(label: &str, units: &[Unit]) -> Row {
    let span = |u: &Unit| (u.start, u.end);
    let total = ms(union(units.iter().map(span).collect()));
    let link = ms(union(
        units.iter().filter(|u| u.kind == LINK).map(span).collect(),
    ));
    let compile = ms(total - link);
    Row {
        label: label.to_owned(),
        wait: None,
        compile: Some(compile),
        link: Some(link),
        pack: None,
        verify: None,
        total: Some(total),
        dominant: dominant(&[("compile", Some(compile)), ("link", Some(link))]),
    }
}

/// Where the time went, per target given as `(label, triple)` in plan order; `crate_name`
/// is the final binary's `--crate-name`, `invocations` the target directories' names
/// (`zig`, `cargo`, …) of the plan's invocations, each of which gets a host row even
/// when it had no host work. All seconds count from the start of the recording (the
/// start of the build), to the millisecond; a target's row:
///
/// - `wait`: until the first unit built for its triple started (cargo and
///   cargo-zigbuild starting up, checking what is fresh, host work its crates need first).
/// - `compile`: from that first unit's start to the start of its final binary's link (the
///   earliest `link` unit of `crate_name` for its triple): the wall span of its rustc
///   work, including waiting for a CPU or for build scripts in between. Without a link
///   seen, to the end of its last unit.
/// - `link`: the final binary's link, from the earliest start to the latest end of those
///   `link` units (the linker and every wrapper it runs through).
/// - `pack`, `verify`: its entry's, from `packing.entries`, else none.
/// - `total`: `wait + compile + link + pack + verify`, i.e. when its binary was linked,
///   plus its own packing.
///
/// A target with no unit (nothing rebuilt, or built in a container the sampler cannot
/// see) has only `pack` and `verify`, and no total. A host row (the units of an
/// invocation's target directory built for no target's triple: build scripts, their
/// runs, proc-macros, and their links) has no `wait`: its `total` is the seconds in which
/// any of them ran, `link` the seconds in which one of them was linking, `compile` the
/// rest, so `compile + link = total` there too. `dominant` names the largest part of a row.
/// Build-script runs count for the target whose `TARGET` they ran with. Without a
/// timeline (no `/proc`) there are no host rows.
pub fn breakdown(
    targets: &[(String, &str)],
    crate_name: &str,
    invocations: &[String],
    timeline: &Timeline,
    packing: &Packing,
) -> Breakdown {
    let lanes = lanes(targets, timeline);
    let (target_lanes, host_lanes) = lanes.split_at(targets.len().min(lanes.len()));
    let target_rows = target_lanes
        .iter()
        .map(|lane| {
            let pack = packing.entries.get(&lane.title).copied();
            target_row(&lane.title, &lane.units, crate_name, pack)
        })
        .collect();
    let mut host: BTreeMap<String, &[Unit]> = invocations
        .iter()
        .map(|dir| (format!("host work ({dir})"), &[][..]))
        .collect();
    for lane in host_lanes {
        host.insert(lane.title.clone(), &lane.units);
    }
    if !timeline.supported {
        host.clear();
    }
    Breakdown {
        supported: timeline.supported,
        targets: target_rows,
        host: host
            .into_iter()
            .map(|(label, units)| host_row(&label, units))
            .collect(),
        archive: packing.archive.clone().map(|a| ArchiveTime {
            pack: ms(a.pack),
            verify: a.verify.map(ms),
            ..a
        }),
        seconds: timeline.seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(name: &str, target: Option<&str>, dir: Option<&str>, start: f64, end: f64) -> Unit {
        Unit {
            name: name.into(),
            kind: "lib".into(),
            target: target.map(Into::into),
            target_dir: dir.map(PathBuf::from),
            start,
            end,
        }
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

    #[test]
    fn units_go_to_their_target_or_to_their_invocations_host_lane() {
        let x86 = "x86_64-unknown-linux-gnu";
        let arm = "aarch64-unknown-linux-gnu";
        let timeline = Timeline {
            supported: true,
            units: vec![
                unit("serde", Some(x86), Some("/t/parbuild/zig"), 0.0, 1.0),
                unit("serde", Some(arm), Some("/t/parbuild/zig"), 0.0, 1.0),
                unit("serde_derive", None, Some("/t/parbuild/zig"), 0.0, 1.0),
                unit(
                    "wasm",
                    Some("wasm32-wasip2"),
                    Some("/t/parbuild/cargo"),
                    0.0,
                    1.0,
                ),
                unit("orphan", None, None, 0.0, 1.0),
            ],
            cpu: Vec::new(),
            seconds: 1.0,
        };
        let targets = [
            ("x86_64-linux (zig)".to_owned(), x86),
            ("aarch64-linux (zig)".to_owned(), arm),
        ];
        let got: Vec<(String, Vec<String>)> = lanes(&targets, &timeline)
            .into_iter()
            .map(|l| {
                let units = l
                    .units
                    .iter()
                    .map(|u| format!("{}@{}", u.name, u.target.as_deref().unwrap_or("host")))
                    .collect();
                (l.title, units)
            })
            .collect();
        let lane = |title: &str, units: &[&str]| {
            (
                title.to_owned(),
                units.iter().map(|u| (*u).to_owned()).collect::<Vec<_>>(),
            )
        };
        assert_eq!(
            got,
            [
                lane("x86_64-linux (zig)", &["serde@x86_64-unknown-linux-gnu"]),
                lane("aarch64-linux (zig)", &["serde@aarch64-unknown-linux-gnu"]),
                lane("host work (?)", &["orphan@host"]),
                lane("host work (cargo)", &["wasm@wasm32-wasip2"]),
                lane("host work (zig)", &["serde_derive@host"]),
            ]
        );
    }

    #[test]
    fn the_budget_used_and_left_idle() {
        let timeline = Timeline {
            supported: true,
            units: Vec::new(),
            cpu: vec![(1.0, 2.0), (2.0, 1.0), (4.0, 0.5)],
            seconds: 4.0,
        };
        // Used: 2·1 + 1·1 + 0.5·2 = 4 CPU-seconds; idle against 2: 0 + 1 + 1.5·2 = 4.
        assert_eq!(cpu_summary(&timeline, 2), (1.0, 4.0, 4.0));
        assert_eq!(cpu_summary(&Timeline::default(), 2), (0.0, 0.0, 0.0));
    }

    #[test]
    fn columns_average_the_samples_and_the_units_they_overlap() {
        let timeline = Timeline {
            supported: true,
            units: vec![unit("a", None, None, 0.0, 2.25)],
            cpu: vec![(0.5, 2.0), (2.5, 1.0)],
            seconds: 2.5,
        };
        let got: Vec<(f64, f64, f64, f64)> = bins(&timeline, 1.0)
            .iter()
            .map(|b| (b.start, b.end, b.busy, b.units))
            .collect();
        assert_eq!(
            got,
            [
                (0.0, 1.0, 1.5, 1.0),
                (1.0, 2.0, 1.0, 1.0),
                (2.0, 2.5, 1.0, 0.5)
            ]
        );
    }

    fn of(name: &str, kind: &str, target: Option<&str>, start: f64, end: f64) -> Unit {
        Unit {
            kind: kind.into(),
            ..unit(name, target, Some("/t/parbuild/zig"), start, end)
        }
    }

    const X86: &str = "x86_64-unknown-linux-gnu";
    const ARM: &str = "aarch64-unknown-linux-gnu";
    const ARMV7: &str = "armv7-unknown-linux-gnueabihf";

    fn row(label: &str, parts: [Option<f64>; 6], dominant: Option<&'static str>) -> Row {
        let [wait, compile, link, pack, verify, total] = parts;
        Row {
            label: label.into(),
            wait,
            compile,
            link,
            pack,
            verify,
            total,
            dominant,
        }
    }

    /// A fresh build of two targets, one invocation (`zig`) with host work, a second
    /// invocation (`cargo`) with none, and a third target nothing was seen of.
    #[test]
    fn each_target_waits_compiles_links_and_packs_and_host_work_has_its_row() {
        let timeline = Timeline {
            supported: true,
            units: vec![
                of("serde", "build-script", None, 0.5, 1.5),
                of("serde", LINK, None, 1.0, 1.5),
                of("serde_derive", "proc-macro", None, 1.0, 2.5),
                of("serde_derive", LINK, None, 2.0, 2.25),
                of("serde", "lib", Some(X86), 2.0, 4.0),
                of("serde", "lib", Some(ARM), 2.5, 4.5),
                of("hello_provider", "bin", Some(X86), 4.0, 7.5),
                of("hello_provider", LINK, Some(X86), 6.0, 7.25),
                of("hello_provider", "bin", Some(ARM), 4.5, 9.0),
                of("hello_provider", LINK, Some(ARM), 5.0, 9.0),
            ],
            cpu: Vec::new(),
            seconds: 10.0,
        };
        let targets = [
            ("x86_64-linux".to_owned(), X86),
            ("aarch64-linux".to_owned(), ARM),
            ("armv7-linux".to_owned(), ARMV7),
        ];
        let packing = Packing {
            entries: BTreeMap::from([
                ("x86_64-linux".to_owned(), (0.5, 0.25)),
                ("armv7-linux".to_owned(), (0.75, 0.5)),
            ]),
            archive: None,
        };
        let got = breakdown(
            &targets,
            "hello_provider",
            &["cargo".to_owned(), "zig".to_owned()],
            &timeline,
            &packing,
        );
        let s = Some;
        assert_eq!(
            got.targets,
            [
                // Linked at 7.25, then its entry: 7.25 + 0.5 + 0.25.
                row(
                    "x86_64-linux",
                    [s(2.0), s(4.0), s(1.25), s(0.5), s(0.25), s(8.0)],
                    Some("compile")
                ),
                row(
                    "aarch64-linux",
                    [s(2.5), s(2.5), s(4.0), None, None, s(9.0)],
                    Some("link")
                ),
                row(
                    "armv7-linux",
                    [None, None, None, s(0.75), s(0.5), None],
                    Some("pack")
                ),
            ]
        );
        // zig's host work ran from 0.5 to 2.5, linking in 1.0–1.5 and 2.0–2.25.
        assert_eq!(
            got.host,
            [
                row(
                    "host work (cargo)",
                    [None, s(0.0), s(0.0), None, None, s(0.0)],
                    None
                ),
                row(
                    "host work (zig)",
                    [None, s(1.25), s(0.75), None, None, s(2.0)],
                    Some("compile")
                ),
            ]
        );
        assert_eq!(
            (got.supported, got.seconds, got.archive),
            (true, 10.0, None)
        );
    }

    /// An edit-rebuild: only the binary is rebuilt, its link not seen for one target;
    /// the archive is measured as a whole.
    #[test]
    fn an_edit_rebuild_and_an_archive_measured_whole() {
        let timeline = Timeline {
            supported: true,
            units: vec![
                of("hello_provider", "bin", Some(X86), 3.0, 5.5),
                of("hello_provider", LINK, Some(X86), 5.0, 5.5),
                of("hello_provider", "bin", Some(ARM), 3.0, 4.5),
            ],
            cpu: Vec::new(),
            seconds: 6.0,
        };
        let targets = [
            ("x86_64-linux".to_owned(), X86),
            ("aarch64-linux".to_owned(), ARM),
        ];
        let archive = ArchiveTime {
            pack: 0.75,
            verify: None,
            unchanged: false,
        };
        let packing = Packing {
            entries: BTreeMap::new(),
            archive: Some(archive.clone()),
        };
        let got = breakdown(
            &targets,
            "hello_provider",
            &["zig".to_owned()],
            &timeline,
            &packing,
        );
        let s = Some;
        assert_eq!(
            got.targets,
            [
                row(
                    "x86_64-linux",
                    [s(3.0), s(2.0), s(0.5), None, None, s(5.5)],
                    Some("wait")
                ),
                row(
                    "aarch64-linux",
                    [s(3.0), s(1.5), None, None, None, s(4.5)],
                    Some("wait")
                ),
            ]
        );
        assert_eq!(
            got.host,
            [row(
                "host work (zig)",
                [None, s(0.0), s(0.0), None, None, s(0.0)],
                None
            )]
        );
        assert_eq!(got.archive, Some(archive));
        assert_eq!(
            got.json(),
            serde_json::json!({
                "supported": true,
                "seconds": 6.0,
                "targets": {
                    "x86_64-linux": {"wait": 3.0, "compile": 2.0, "link": 0.5, "pack": null, "verify": null, "total": 5.5, "dominant": "wait"},
                    "aarch64-linux": {"wait": 3.0, "compile": 1.5, "link": null, "pack": null, "verify": null, "total": 4.5, "dominant": "wait"},
                },
                "host": {
                    "host work (zig)": {"wait": null, "compile": 0.0, "link": 0.0, "pack": null, "verify": null, "total": 0.0, "dominant": null},
                },
                "archive": {"pack": 0.75, "verify": null, "unchanged": false},
            })
        );
    }

    /// Times read from `/proc/uptime` differences are not round: every figure is rounded
    /// to the millisecond before parts are taken, so they add up exactly.
    #[test]
    fn figures_are_milliseconds_that_add_up() {
        let timeline = Timeline {
            supported: true,
            units: vec![
                of(
                    "hello_provider",
                    "bin",
                    Some(X86),
                    0.970_000_000_000_027_3,
                    3.7,
                ),
                of(
                    "hello_provider",
                    LINK,
                    Some(X86),
                    2.609_999_999_999_8,
                    3.624_9,
                ),
            ],
            cpu: Vec::new(),
            seconds: 3.8,
        };
        let got = breakdown(
            &[("x86_64-linux".to_owned(), X86)],
            "hello_provider",
            &[],
            &timeline,
            &Packing::default(),
        );
        let r = &got.targets[0];
        assert_eq!(
            (r.wait, r.compile, r.link, r.total),
            (Some(0.97), Some(1.64), Some(1.015), Some(3.625))
        );
    }

    #[test]
    fn the_union_of_intervals() {
        assert_eq!(union(Vec::new()), 0.0);
        assert_eq!(
            union(vec![(2.0, 3.0), (0.0, 1.0), (0.5, 1.5), (1.5, 1.75)]),
            2.75
        );
    }
}
