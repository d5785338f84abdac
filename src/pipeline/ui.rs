//! The live view of a build: one indicatif lane per target (backend, crates compiled,
//! current crate or phase, elapsed) when stderr is a terminal, plain `[label] …` lines
//! otherwise; and the summary table at the end.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::outcome::{Outcome, Status};
use crate::archive::Label;
use crate::plan::Plan;
use crate::progress::Reporter;

struct Lane {
    bar: Option<ProgressBar>,
    crates: u64,
}

/// The progress display of one build.
pub struct Ui<'a> {
    reporter: &'a Reporter,
    multi: Option<MultiProgress>,
    lanes: Mutex<BTreeMap<Label, Lane>>,
}

impl<'a> Ui<'a> {
    /// Lanes for every target of `plan`.
    pub fn new(plan: &Plan, reporter: &'a Reporter) -> Self {
        let multi = reporter
            .live_progress()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        let style = ProgressStyle::with_template(
            "{prefix:24} {spinner:12} {pos:>4} crates       {wide_msg} {elapsed:>5}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let lw = column_width(plan.targets.iter().map(|t| t.label.as_str()), 15);
        let lanes = plan
            .targets
            .iter()
            .map(|t| {
                let bar = multi.as_ref().map(|m| {
                    let bar = m.add(ProgressBar::new_spinner());
                    bar.set_style(style.clone());
                    bar.set_prefix(format!("{:lw$} {:8}", t.label.as_str(), t.backend.as_str()));
                    bar.set_message("waiting");
                    bar
                });
                (t.label.clone(), Lane { bar, crates: 0 })
            })
            .collect();
        Self {
            reporter,
            multi,
            lanes: Mutex::new(lanes),
        }
    }

    fn with_lane(&self, label: &Label, f: impl FnOnce(&mut Lane)) {
        let mut lanes = self
            .lanes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(lane) = lanes.get_mut(label) {
            f(lane);
        }
    }

    /// Whether lanes are drawn (and so worth a crate total).
    pub fn wants_totals(&self) -> bool {
        self.multi.is_some()
    }

    /// The number of crates the lane will compile.
    pub fn set_total(&self, label: &Label, total: u64) {
        self.with_lane(label, |l| {
            if let Some(bar) = &l.bar {
                bar.set_length(total);
                bar.set_style(counted_style());
            }
        });
    }

    /// Waiting for a CPU slot.
    pub fn waiting(&self, label: &Label) {
        self.with_lane(label, |l| {
            if let Some(bar) = &l.bar {
                bar.set_message("waiting for a CPU slot");
            }
        });
    }

    /// Its cargo started.
    pub fn started(&self, label: &Label) {
        let mut plain = false;
        self.with_lane(label, |l| match &l.bar {
            Some(bar) => {
                bar.reset_elapsed();
                bar.enable_steady_tick(Duration::from_millis(200));
                bar.set_message("starting");
            }
            None => plain = true,
        });
        if plain {
            self.reporter.status(format!("[{label}] started"));
        }
    }

    /// A crate finished compiling for it.
    pub fn crate_done(&self, label: &Label, _name: &str) {
        self.with_lane(label, |l| {
            l.crates += 1;
            if let Some(bar) = &l.bar {
                bar.set_position(l.crates);
            }
        });
    }

    /// What it is doing now.
    pub fn phase(&self, label: &Label, text: &str) {
        self.with_lane(label, |l| {
            if let Some(bar) = &l.bar {
                bar.set_message(text.to_owned());
            }
        });
        self.reporter.verbose(format!("[{label}] {text}"));
    }

    /// It ended.
    pub fn finished(&self, o: &Outcome) {
        let text = match &o.status {
            Status::Built { size, .. } => {
                format!("built in {:.1}s ({})", o.seconds, human_size(*size))
            }
            Status::Failed { .. } => {
                format!("FAILED after {:.1}s (log: {})", o.seconds, o.log.display())
            }
            Status::Cancelled => "cancelled".to_owned(),
        };
        let mut plain = false;
        self.with_lane(&o.label, |l| match &l.bar {
            Some(bar) => bar.finish_with_message(text.clone()),
            None => plain = true,
        });
        if plain {
            self.reporter.status(format!("[{}] {text}", o.label));
        }
    }
}

fn counted_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{prefix:24} {bar:12} {pos:>4}/{len:<4} crates  {wide_msg} {elapsed:>5}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("█▉▊▋▌▍▎▏ ")
}

/// `11.3 MiB`.
pub fn human_size(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)] // display only
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / 1024.0 / 1024.0)
    } else if b >= 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

/// The width of a column of `items` (custom labels and triples can be long), at least `min`.
pub fn column_width<'a>(items: impl IntoIterator<Item = &'a str>, min: usize) -> usize {
    items.into_iter().map(str::len).max().unwrap_or(0).max(min)
}

/// The summary table: target, backend, status, time, size, log; then each failure's excerpt.
pub fn summary(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    let lw = column_width(outcomes.iter().map(|o| o.label.as_str()), 15);
    let _ = writeln!(
        out,
        "{:<lw$} {:<8} {:<10} {:>8} {:>10}  log",
        "target", "backend", "status", "time", "size"
    );
    for o in outcomes {
        let (status, size) = match &o.status {
            Status::Built { size, .. } => ("ok", human_size(*size)),
            Status::Failed { .. } => ("FAILED", "-".to_owned()),
            Status::Cancelled => ("cancelled", "-".to_owned()),
        };
        let _ = writeln!(
            out,
            "{:<lw$} {:<8} {:<10} {:>7.1}s {:>10}  {}",
            o.label.as_str(),
            o.backend.as_str(),
            status,
            o.seconds,
            size,
            o.log.display()
        );
    }
    for o in outcomes {
        if let Status::Failed { excerpt } = &o.status {
            let _ = writeln!(out, "\n{} failed:", o.label);
            for line in excerpt.lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    out
}
