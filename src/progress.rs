//! All user-visible output goes through [`Reporter`]: results on stdout, progress and
//! diagnostics on stderr, whole lines under one lock so parallel targets never interleave.
//!
//! The live per-target lanes (indicatif) live in [`crate::pipeline::ui`]; this module is the
//! plain line writer every command uses.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

/// How much to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Warnings, errors and results only.
    Quiet,
    /// The default.
    Normal,
    /// Also every command run.
    Verbose,
}

/// When to use colours and progress bars (the CLI's `--color` converts into it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ColorChoice {
    /// When stderr is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The one writer of stdout and stderr.
#[derive(Debug)]
pub struct Reporter {
    verbosity: Verbosity,
    color: bool,
    stderr_tty: bool,
    lock: Mutex<()>,
}

impl Reporter {
    /// A reporter for the real terminal.
    pub fn new(verbosity: Verbosity, color: ColorChoice, no_color_env: bool) -> Self {
        let stderr_tty = std::io::stderr().is_terminal();
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stderr_tty && !no_color_env,
        };
        Self {
            verbosity,
            color,
            stderr_tty,
            lock: Mutex::new(()),
        }
    }

    /// The verbosity.
    pub fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    /// Whether stderr is a terminal on which live progress may be drawn.
    pub fn live_progress(&self) -> bool {
        self.stderr_tty && self.verbosity != Verbosity::Quiet
    }

    /// Whether to use colour.
    pub fn color(&self) -> bool {
        self.color
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    #[allow(clippy::print_stderr)]
    fn err_line(&self, line: &str) {
        let _guard = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }

    /// A progress line on stderr (hidden with `-q`).
    pub fn status(&self, msg: impl std::fmt::Display) {
        if self.verbosity >= Verbosity::Normal {
            self.err_line(&msg.to_string());
        }
    }

    /// A line on stderr shown only with `-v`.
    pub fn verbose(&self, msg: impl std::fmt::Display) {
        if self.verbosity >= Verbosity::Verbose {
            self.err_line(&msg.to_string());
        }
    }

    /// `warning: …` on stderr (always shown).
    pub fn warn(&self, msg: impl std::fmt::Display) {
        let label = self.paint("1;33", "warning");
        self.err_line(&format!("{label}: {msg}"));
    }

    /// `note: …` on stderr (hidden with `-q`).
    pub fn note(&self, msg: impl std::fmt::Display) {
        if self.verbosity >= Verbosity::Normal {
            let label = self.paint("1;36", "note");
            self.err_line(&format!("{label}: {msg}"));
        }
    }

    /// A rendered error on stderr (always shown).
    pub fn error(&self, rendered: &str) {
        let text = if self.color {
            rendered.replacen("error", &self.paint("1;31", "error"), 1)
        } else {
            rendered.to_owned()
        };
        self.err_line(&text);
    }

    /// A result on stdout. A closed pipe (`parbuild inspect x | head`) is not an error.
    #[allow(clippy::print_stdout)]
    pub fn out(&self, text: impl std::fmt::Display) {
        let _guard = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }

    /// A JSON value on stdout, pretty-printed.
    pub fn json(&self, value: &impl serde::Serialize) {
        match serde_json::to_string_pretty(value) {
            Ok(text) => self.out(text),
            Err(e) => self.error(&format!("error: cannot encode JSON output: {e}")),
        }
    }

    /// Text on stderr with no prefix, e.g. a table (hidden with `-q`).
    pub fn block(&self, text: impl std::fmt::Display) {
        if self.verbosity >= Verbosity::Normal {
            self.err_line(text.to_string().trim_end_matches('\n'));
        }
    }

    /// A block on stderr at every verbosity, `--quiet` included: what an error refers to
    /// (the summary of a build whose targets failed, with their excerpts).
    pub fn error_block(&self, text: impl std::fmt::Display) {
        self.err_line(text.to_string().trim_end_matches('\n'));
    }

    /// Green `ok`, red `FAIL` and similar short labels.
    pub fn mark(&self, ok: bool, text: &str) -> String {
        self.paint(if ok { "32" } else { "31" }, text)
    }
}
