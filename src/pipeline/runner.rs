//! Executes a plan: every cargo invocation on its own thread, all sharing one GNU make
//! jobserver of `jobs` tokens, each output line streamed into the target's lane, its log
//! file and (for cargo's JSON) the artifact table.
//!
//! The CPU budget: cargo runs its first job on the implicit token every jobserver client
//! owns, so a parent that starts several cargo processes must pay that token for each of
//! them, as make does for every recipe. The runner acquires one token per invocation
//! before starting it and holds it until the child exits; with `jobs = 2` no more than two
//! compiler jobs run at once however many invocations there are.
//!
//! Containers: the jobserver's pipe does not reach a cargo inside a container (`cross`,
//! `container`), so such a child is not handed the jobserver; the plan gives it `-j N`,
//! its share of the budget, and the runner holds N tokens while it runs, so containers and
//! jobserver clients together still never exceed `jobs`. Its container is stopped by name
//! on Ctrl-C or `--fail-fast` (signalling the engine's client does not stop it), and the
//! container paths in its messages are mapped back to the host's.
//!
//! One file because every step of one invocation (prepare, pay tokens, stream, collect
//! artifacts, judge each target) shares the invocation's `Progress` state and its scoped
//! threads; splitting the steps would only pass that state around.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cargo_metadata::Message;

use super::BuildError;
use super::outcome::{Outcome, Status};
use super::tokens::Ledger;
use super::ui::Ui;
use crate::archive::Label;
use crate::metadata::{Artifact, ArtifactKind};
use crate::plan::{InvocationPlan, Plan};
use crate::process::{self, ProcessError, interrupt};

/// Runs every invocation of `plan`; returns one outcome per target, in plan order, and
/// records in `ledger` the jobserver's tokens and what was paid for each child.
/// Fails only when interrupted (after every child has been waited for) or when the
/// jobserver cannot be created.
pub fn run(
    plan: &Plan,
    ui: &Ui,
    fail_fast: bool,
    ledger: &Ledger,
) -> Result<Vec<Outcome>, BuildError> {
    interrupt::install();
    let jobserver =
        jobserver::Client::new(plan.jobs).map_err(|source| BuildError::Jobserver { source })?;
    ledger.created(plan.jobs);
    let failed = AtomicBool::new(false);
    let results: Vec<Vec<Outcome>> = std::thread::scope(|s| {
        let handles: Vec<_> = plan
            .invocations
            .iter()
            .map(|inv| {
                let (js, failed) = (&jobserver, &failed);
                s.spawn(move || run_invocation(plan, inv, js, ledger, ui, failed, fail_fast))
            })
            .collect();
        handles
            .into_iter()
            .zip(&plan.invocations)
            .map(|(h, inv)| {
                h.join().unwrap_or_else(|_| {
                    inv.labels
                        .iter()
                        .map(|l| cancelled(plan, inv, l, Duration::ZERO))
                        .collect()
                })
            })
            .collect()
    });
    if interrupt::requested() {
        return Err(BuildError::Interrupted);
    }
    let mut by_label: BTreeMap<Label, Outcome> = results
        .into_iter()
        .flatten()
        .map(|o| (o.label.clone(), o))
        .collect();
    Ok(plan
        .targets
        .iter()
        .filter_map(|t| by_label.remove(&t.label))
        .collect())
}

fn cancelled(plan: &Plan, inv: &InvocationPlan, label: &Label, elapsed: Duration) -> Outcome {
    let triple = plan
        .targets
        .iter()
        .find(|t| &t.label == label)
        .map(|t| t.triple.clone())
        .unwrap_or_default();
    Outcome {
        label: label.clone(),
        triple,
        backend: inv.backend,
        status: Status::Cancelled,
        seconds: elapsed.as_secs_f64(),
        log: inv.log.clone(),
    }
}

/// What the output of one invocation has told us so far.
struct Progress {
    log: Option<std::fs::File>,
    tail: Vec<String>,
    artifacts: BTreeMap<String, PathBuf>,
}

fn run_invocation(
    plan: &Plan,
    inv: &InvocationPlan,
    jobserver: &jobserver::Client,
    ledger: &Ledger,
    ui: &Ui,
    failed: &AtomicBool,
    fail_fast: bool,
) -> Vec<Outcome> {
    let triples: Vec<(Label, String)> = plan
        .targets
        .iter()
        .filter(|t| inv.labels.contains(&t.label))
        .map(|t| (t.label.clone(), t.triple.clone()))
        .collect();
    for (label, _) in &triples {
        ui.waiting(label);
    }
    // macOS without an SDK: the framework stubs first. A container's cargo runs outside
    // the jobserver: fetch on the host first, then make room for it.
    let notes = match prepare(inv) {
        Ok(notes) => notes,
        Err(failure) => {
            return triples
                .iter()
                .map(|(label, triple)| Outcome {
                    label: label.clone(),
                    triple: triple.clone(),
                    backend: inv.backend,
                    status: Status::Failed {
                        excerpt: failure.clone(),
                    },
                    seconds: 0.0,
                    log: inv.log.clone(),
                })
                .collect();
        }
    };
    // Pay cargo's implicit token, or a container's whole share (see the module docs).
    let tokens = ledger.hold(acquire_tokens(
        jobserver,
        inv.container.as_ref().map_or(1, |c| c.cpu_tokens),
    ));
    let start = Instant::now();
    if interrupt::requested() || (fail_fast && failed.load(Ordering::SeqCst)) {
        return inv
            .labels
            .iter()
            .map(|l| cancelled(plan, inv, l, start.elapsed()))
            .collect();
    }
    // A container's cargo cannot reach the jobserver's pipe: it runs on its `-j` share.
    let shared = inv.container.is_none().then_some(jobserver);
    tokens.pay_for(inv.backend, &inv.labels, shared.is_some());
    for (label, _) in &triples {
        ui.started(label);
    }
    let log = open_log(inv);
    let state = Mutex::new(Progress {
        log,
        tail: Vec::new(),
        artifacts: BTreeMap::new(),
    });
    let lock = || {
        state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    if let Some(f) = lock().log.as_mut() {
        for note in &notes {
            let _ = writeln!(f, "parbuild: {note}");
        }
        let _ = writeln!(f, "$ {}\n", inv.command);
    }
    let artifact = &plan.package.artifact;
    let paths = inv.container.as_ref().map_or(&[][..], |c| &c.paths[..]);
    let _stop = inv
        .container
        .as_ref()
        .map(|c| interrupt::StopHook::new(c.stop.clone()));
    let result = std::thread::scope(|s| {
        if ui.wants_totals() {
            for (label, triple) in &triples {
                let Some(target) = plan.targets.iter().find(|t| t.triple == *triple) else {
                    continue;
                };
                s.spawn(move || {
                    if let Some(n) =
                        super::totals::crate_count(&target.count_command, &plan.package.name)
                    {
                        ui.set_total(label, n);
                    }
                });
            }
        }
        inv.command.stream(
            shared,
            |line| {
                let Ok(msg) = serde_json::from_str::<Message>(line) else {
                    return;
                };
                if let Message::CompilerArtifact(a) = msg {
                    // A build script's own compilation is not a crate of the lane's count.
                    if !a.target.is_kind(cargo_metadata::TargetKind::CustomBuild) {
                        for label in &lanes_of(&triples, &a.filenames) {
                            ui.crate_done(label, &a.target.name);
                        }
                    }
                    if let Some((triple, path)) = provider_file(artifact, &a, &triples) {
                        let path = crate::backend::host_path(paths, &path);
                        lock().artifacts.insert(triple, path);
                    }
                }
            },
            |line| {
                let mut st = lock();
                if let Some(f) = st.log.as_mut() {
                    let _ = writeln!(f, "{line}");
                }
                st.tail.push(line.to_owned());
                if st.tail.len() > 400 {
                    st.tail.drain(..200);
                }
                drop(st);
                if let Some(rest) = line.trim_start().strip_prefix("Compiling ") {
                    let name = rest.split_whitespace().next().unwrap_or(rest);
                    for (label, _) in &triples {
                        ui.phase(label, &format!("compiling {name}"));
                    }
                }
            },
        )
    });
    drop(tokens);
    let elapsed = start.elapsed();
    let st = state
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let excerpt_of = |triple: &str, status_text: &str| {
        // A macOS link against generated framework stubs that lacked something: say what
        // and how to fix it, not only the linker's words. Only for an Apple target: a Linux
        // target of the same invocation fails for its own reasons (its glibc, say).
        if let Some(failure) = inv
            .stubs
            .as_ref()
            .filter(|_| triple.contains("-apple-"))
            .and_then(|_| crate::stubs::diagnose::LinkFailure::from_log(&st.tail))
        {
            return failure.message();
        }
        let errors = error_excerpt(&st.tail);
        if errors.is_empty() {
            format!(
                "{status_text}\n{}",
                process::last_lines(&st.tail.join("\n"), 12)
            )
        } else {
            errors
        }
    };
    let outcomes: Vec<Outcome> = triples
        .iter()
        .map(|(label, triple)| {
            let status = match (&result, st.artifacts.get(triple)) {
                (Err(ProcessError::Interrupted { .. }), _) => Status::Cancelled,
                (_, Some(path)) => Status::Built {
                    size: std::fs::metadata(path).map_or(0, |m| m.len()),
                    path: path.clone(),
                },
                (Ok(_), None) if fail_fast && failed.load(Ordering::SeqCst) => Status::Cancelled,
                (Ok(status), None) => Status::Failed {
                    excerpt: if status.success() {
                        format!(
                            "cargo reported no `{}` artifact for `{triple}`",
                            artifact.name
                        )
                    } else {
                        excerpt_of(
                            triple,
                            &format!("cargo failed ({})", process::describe_status(*status)),
                        )
                    },
                },
                (Err(e), None) => Status::Failed {
                    excerpt: e.to_string(),
                },
            };
            Outcome {
                label: label.clone(),
                triple: triple.clone(),
                backend: inv.backend,
                status,
                seconds: elapsed.as_secs_f64(),
                log: inv.log.clone(),
            }
        })
        .collect();
    if outcomes
        .iter()
        .any(|o| matches!(o.status, Status::Failed { .. }))
    {
        failed.store(true, Ordering::SeqCst);
        if fail_fast {
            interrupt::signal_all();
        }
    }
    for o in &outcomes {
        ui.finished(o);
    }
    outcomes
}

/// Takes `n` tokens: one pays a cargo child's implicit token; a containerized child
/// holds its whole `-j` share. Several tokens are taken by one thread at a time: two
/// invocations each holding part of the budget and waiting for the rest would wait forever.
fn acquire_tokens(jobserver: &jobserver::Client, n: usize) -> Vec<jobserver::Acquired> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    if n <= 1 {
        return jobserver.acquire().into_iter().collect();
    }
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    (0..n).filter_map(|_| jobserver.acquire().ok()).collect()
}

/// Before an invocation starts: the framework stubs of its macOS targets; for a container,
/// its directories (bind mounts need them) and its host-side step (`cargo fetch`). What was
/// done, for the log, or the error text.
fn prepare(inv: &InvocationPlan) -> Result<Vec<String>, String> {
    let mut notes = Vec::new();
    if let Some(stubs) = &inv.stubs {
        notes.push(make_stubs(stubs)?);
    }
    let Some(c) = inv.container.as_ref() else {
        return Ok(notes);
    };
    for dir in &c.dirs {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    }
    if let Some(cmd) = c.prepare.as_ref().filter(|_| !interrupt::requested()) {
        cmd.output_checked().map_err(|e| e.to_string())?;
    }
    Ok(notes)
}

/// Generates the framework stubs of `plan` from the declarations of the packages `cargo
/// metadata` resolves for its macOS triples.
fn make_stubs(plan: &crate::plan::StubsPlan) -> Result<String, String> {
    let json = plan.metadata.read_stdout().map_err(|e| e.to_string())?;
    let metadata = cargo_metadata::MetadataCommand::parse(&json)
        .map_err(|e| format!("cannot read the output of `{}`: {e}", plan.metadata))?;
    // Scanning every linked package's sources is the cost; a rebuild with the same
    // packages reuses the tree it made.
    let key = crate::stubs::inputs_key(&json, &metadata, &plan.extra);
    if let Some(report) = crate::stubs::reusable(&plan.dir, &key) {
        return Ok(format!(
            "framework stubs for {} in {} (not an SDK), unchanged: {report}",
            plan.triples.join(", "),
            plan.dir.display()
        ));
    }
    let report = crate::stubs::generate(&metadata, &plan.extra, &plan.dir)
        .map_err(|e| format!("cannot make the framework stubs: {e}"))?;
    crate::stubs::remember(&plan.dir, &key, &report);
    Ok(format!(
        "framework stubs for {} in {} (not an SDK): {report}",
        plan.triples.join(", "),
        plan.dir.display()
    ))
}

fn open_log(inv: &InvocationPlan) -> Option<std::fs::File> {
    let dir = inv.log.parent()?;
    std::fs::create_dir_all(dir).ok()?;
    std::fs::File::create(&inv.log).ok()
}

/// Which lanes an artifact counts for: the triple whose directory holds it, or every
/// lane of the invocation for host artifacts (build scripts, proc-macros).
fn lanes_of(
    triples: &[(Label, String)],
    files: &[cargo_metadata::camino::Utf8PathBuf],
) -> Vec<Label> {
    let owner = triples.iter().find(|(_, triple)| {
        files
            .iter()
            .any(|f| f.components().any(|c| c.as_str() == triple.as_str()))
    });
    match owner {
        Some((label, _)) => vec![label.clone()],
        None => triples.iter().map(|(l, _)| l.clone()).collect(),
    }
}

/// The provider's file in an artifact message, with the triple it was built for.
fn provider_file(
    artifact: &Artifact,
    a: &cargo_metadata::Artifact,
    triples: &[(Label, String)],
) -> Option<(String, PathBuf)> {
    if a.target.name != artifact.name {
        return None;
    }
    let kinds: Vec<String> = a.target.kind.iter().map(ToString::to_string).collect();
    let path = match artifact.kind {
        ArtifactKind::Bin => {
            if !kinds.iter().any(|k| k == "bin") {
                return None;
            }
            a.executable.clone()?
        }
        ArtifactKind::Cdylib => {
            if !kinds.iter().any(|k| k == "cdylib") {
                return None;
            }
            a.filenames
                .iter()
                .find(|f| matches!(f.extension(), Some("so" | "dylib" | "dll")))?
                .clone()
        }
    };
    let (_, triple) = triples
        .iter()
        .find(|(_, t)| path.components().any(|c| c.as_str() == t.as_str()))?;
    Some((triple.clone(), path.into_std_path_buf()))
}

/// The `error…` blocks of a log: each line starting with `error` and what follows it
/// up to the next blank line, at most 30 lines.
fn error_excerpt(lines: &[String]) -> String {
    let mut out = Vec::new();
    let mut inside = false;
    for line in lines {
        if line.starts_with("error") {
            inside = true;
        } else if line.trim().is_empty() {
            inside = false;
        }
        if inside {
            out.push(line.as_str());
        }
    }
    let start = out.len().saturating_sub(30);
    out[start..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_keeps_error_blocks() {
        let lines: Vec<String> = [
            "   Compiling foo v0.1.0",
            "warning: unused",
            "",
            "error: no arm here",
            " --> src/lib.rs:1:1",
            "",
            "error: could not compile `foo`",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        assert_eq!(
            error_excerpt(&lines),
            "error: no arm here\n --> src/lib.rs:1:1\nerror: could not compile `foo`"
        );
    }
}
