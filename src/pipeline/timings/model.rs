//! The model of a timeline: the units and CPU samples the sampler recorded, and what the
//! page draws from them (lanes, rows, the CPU strip's columns, the budget's use). Pure:
//! nothing here reads the clock or the machine, so every number is tested exactly.

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
}
