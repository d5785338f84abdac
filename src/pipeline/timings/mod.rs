//! `parbuild build --timings`: a timeline of the build, the picture to look at when a
//! build is slow. One lane per target (and one per invocation for host work: build
//! scripts and proc-macros), a bar per compile unit from when its rustc started to when
//! it ended, build-script runs, and a strip showing how many CPUs the build kept busy
//! against the `--jobs` budget, so idle CPU is visible at a glance.
//!
//! And where each target's time went ([`breakdown`]): waiting, compiling, linking its
//! final binary, packing and verifying, with host work and the archive as rows of their
//! own, shown as a table on stderr (`table.rs`), on the page, and in `build --json`.
//!
//! Four parts: `sample` reads `/proc` while the build runs (the only I/O and the only
//! timing-dependent part), `model` is the pure timeline and what is drawn from it, `html`
//! renders the page, `table` the text table. cargo's own output cannot give this: it prints
//! `Compiling x` once per package, so in an invocation building four targets it never says
//! when the other three units of `x` start, nor when anything links.

use std::path::PathBuf;

use crate::plan::Plan;

mod html;
mod model;
mod sample;
mod table;

pub use html::render;
pub use model::{ArchiveTime, Breakdown, LINK, Packing, Row, Timeline, Unit};
pub use sample::{INTERVAL, Recorder};
pub use table::table;

/// The breakdown of `timeline` for the targets of `plan`, with `packing` measured after it.
pub fn breakdown(plan: &Plan, timeline: &Timeline, packing: &Packing) -> Breakdown {
    let targets: Vec<(String, &str)> = plan
        .targets
        .iter()
        .map(|t| (t.label.as_str().to_owned(), t.triple.as_str()))
        .collect();
    // A host row for every invocation the sampler can see into (not a container's).
    let invocations: Vec<String> = plan
        .targets
        .iter()
        .filter(|t| !crate::backend::containerized(t.backend))
        .filter_map(|t| t.target_dir.file_name())
        .map(|d| d.to_string_lossy().into_owned())
        .collect();
    // rustc's `--crate-name` is the cargo target's name with `_` for `-`.
    let crate_name = plan.package.artifact.name.replace('-', "_");
    model::breakdown(&targets, &crate_name, &invocations, timeline, packing)
}

/// Writes the page to `<target-dir>/parbuild/timings.html` and returns its path.
pub fn write(plan: &Plan, timeline: &Timeline, breakdown: &Breakdown) -> std::io::Result<PathBuf> {
    let dir = plan.package.target_dir.join("parbuild");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("timings.html");
    std::fs::write(&path, render(plan, timeline, breakdown))?;
    Ok(path)
}
