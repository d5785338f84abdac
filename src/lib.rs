//! parbuild: one command from a provider repository to one signed, multi-platform
//! wasmCloud provider archive.
//!
//! The pipeline (see ARCHITECTURE.md): [`manifest`] (`par.toml`) and [`metadata`]
//! (cargo) → [`plan`] (one job per target, backend chosen) → [`pipeline`] (runs the
//! [`backend`] commands in parallel under one jobserver, through [`process`]) →
//! artifacts → [`keystore`] + [`archive`] (sign, pack, verify). A split build writes
//! [`part`]s instead and assembles them elsewhere.
//! [`commands`] glue each subcommand to the pipeline; [`cli`] holds the clap types.

pub mod archive;
pub mod backend;
pub mod cli;
pub mod commands;
pub mod env;
pub mod error;
pub mod keystore;
pub mod machine;
pub mod manifest;
pub mod metadata;
pub mod part;
pub mod pipeline;
pub mod plan;
pub mod process;
pub mod progress;
pub mod registry;
pub mod stubs;
pub mod target;
pub mod tools;

use std::ffi::OsString;
use std::process::ExitCode;

pub use error::{Error, Result};

/// Runs parbuild with these arguments (the first is the program name) and returns the
/// exit code. Nothing below this function exits the process.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let mut args: Vec<OsString> = args.into_iter().collect();
    // `cargo parbuild …` runs `cargo-parbuild parbuild …`.
    if args.get(1).is_some_and(|a| a == "parbuild") {
        args.remove(1);
    }
    let cli = match cli::parse(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                error::code::INPUT
            } else {
                error::code::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let env = env::Env::capture();
    let verbosity = if cli.global.quiet {
        progress::Verbosity::Quiet
    } else if cli.global.verbose > 0 {
        progress::Verbosity::Verbose
    } else {
        progress::Verbosity::Normal
    };
    let reporter = progress::Reporter::new(
        verbosity,
        cli.global.color.into(),
        env.var_os("NO_COLOR").is_some(),
    );
    let code = match commands::dispatch(cli, env, &reporter) {
        Ok(()) => error::code::OK,
        Err(e) => {
            reporter.error(&e.render());
            e.exit_code()
        }
    };
    ExitCode::from(code)
}
