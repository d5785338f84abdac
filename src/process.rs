//! The one way parbuild runs programs.
//!
//! A [`Cmd`] is a described command (program, arguments, environment changes, working
//! directory) that prints as the shell line a user could paste. It runs either to
//! completion with both pipes captured ([`Cmd::output_checked`]) or as a streamed child
//! ([`Cmd::stream`]) in its own process group, optionally holding a jobserver, with stdout
//! and stderr read line by line on their own threads. Every child is registered so that
//! Ctrl-C reaches its whole process group ([`interrupt`]), and every child is waited for.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Output};

pub mod interrupt;
mod watchdog;

/// A program that could not run or did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The program could not be started.
    #[error("cannot run `{cmd}`")]
    Spawn {
        /// The command line.
        cmd: String,
        /// The cause (e.g. not found).
        source: std::io::Error,
    },
    /// The program exited unsuccessfully.
    #[error("`{cmd}` failed ({status}){}", tail_text(.stderr_tail))]
    Failed {
        /// The command line.
        cmd: String,
        /// How it ended.
        status: String,
        /// The last lines of its stderr.
        stderr_tail: String,
    },
    /// Stopped by Ctrl-C.
    #[error("`{cmd}` was interrupted")]
    Interrupted {
        /// The command line.
        cmd: String,
    },
}

fn tail_text(tail: &str) -> String {
    if tail.trim().is_empty() {
        String::new()
    } else {
        format!(":\n{}", tail.trim_end())
    }
}

impl ProcessError {
    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Spawn { source, .. } if source.kind() == std::io::ErrorKind::NotFound => Some(
                "run `parbuild doctor` to see what is missing and how to install it".to_owned(),
            ),
            _ => None,
        }
    }
}

/// A command to run: what it is, where, with which environment changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    /// Changes to the inherited environment: `Some` sets, `None` removes.
    env: BTreeMap<OsString, Option<OsString>>,
    cwd: PathBuf,
}

impl Cmd {
    /// `program` run in `cwd`, inheriting parbuild's environment.
    pub fn new(program: impl Into<OsString>, cwd: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: BTreeMap::new(),
            cwd: cwd.into(),
        }
    }

    /// Adds an argument.
    #[must_use]
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    #[must_use]
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for the child.
    #[must_use]
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.insert(key.into(), Some(value.into()));
        self
    }

    /// Removes an environment variable for the child.
    #[must_use]
    pub fn env_remove(mut self, key: impl Into<OsString>) -> Self {
        self.env.insert(key.into(), None);
        self
    }

    /// The program.
    pub fn program(&self) -> &OsStr {
        &self.program
    }

    /// The arguments.
    pub fn get_args(&self) -> &[OsString] {
        &self.args
    }

    /// The environment changes (`None`: removed).
    pub fn get_env(&self) -> &BTreeMap<OsString, Option<OsString>> {
        &self.env
    }

    /// The environment changes as text (lossy; `None`: removed), for JSON and tests.
    pub fn env_lossy(&self) -> BTreeMap<String, Option<String>> {
        self.env
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.as_ref().map(|v| v.to_string_lossy().into_owned()),
                )
            })
            .collect()
    }

    /// The working directory.
    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    /// The arguments as text (lossy), for tests and JSON output.
    pub fn argv_lossy(&self) -> Vec<String> {
        std::iter::once(&self.program)
            .chain(&self.args)
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    fn expression(&self) -> duct::Expression {
        let mut expr = duct::cmd(&self.program, &self.args)
            .dir(&self.cwd)
            .unchecked();
        for (key, value) in &self.env {
            expr = match value {
                Some(v) => expr.env(key, v),
                None => expr.env_remove(key),
            };
        }
        expr
    }

    /// Runs to completion with stdout and stderr captured; a non-zero exit is an error
    /// carrying the tail of stderr.
    pub fn output_checked(&self) -> Result<Output, ProcessError> {
        self.output_with_stdin(None)
    }

    /// [`Self::output_checked`] with `input` on stdin (e.g. a docker credential helper's
    /// server name). Its stdout may hold a secret: errors carry only stderr.
    pub fn output_with_stdin(&self, input: Option<&[u8]>) -> Result<Output, ProcessError> {
        let expr = self.expression();
        let expr = match input {
            Some(bytes) => expr.stdin_bytes(bytes.to_vec()),
            None => expr.stdin_null(),
        };
        let output = expr
            .stdout_capture()
            .stderr_capture()
            .run()
            .map_err(|source| ProcessError::Spawn {
                cmd: self.to_string(),
                source,
            })?;
        if output.status.success() {
            Ok(output)
        } else {
            Err(ProcessError::Failed {
                cmd: self.to_string(),
                status: describe_status(output.status),
                stderr_tail: last_lines(&String::from_utf8_lossy(&output.stderr), 20),
            })
        }
    }

    /// Runs to completion and returns trimmed stdout as text.
    pub fn read_stdout(&self) -> Result<String, ProcessError> {
        let out = self.output_checked()?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Starts the child in its own process group (so Ctrl-C is forwarded to all of it,
    /// compilers included), with the jobserver if given, and streams its output:
    /// `on_stdout` and `on_stderr` receive each line on their own threads. Returns when
    /// the child has exited and both pipes are drained.
    pub fn stream(
        &self,
        jobserver: Option<&jobserver::Client>,
        on_stdout: impl FnMut(&str) + Send,
        on_stderr: impl FnMut(&str) + Send,
    ) -> Result<ExitStatus, ProcessError> {
        let spawn_err = |source| ProcessError::Spawn {
            cmd: self.to_string(),
            source,
        };
        let (out_r, out_w) = os_pipe::pipe().map_err(spawn_err)?;
        let (err_r, err_w) = os_pipe::pipe().map_err(spawn_err)?;
        let js = jobserver.cloned();
        let expr = self
            .expression()
            .stdin_null()
            .stdout_file(out_w)
            .stderr_file(err_w)
            .before_spawn(move |cmd| {
                cmd.process_group(0);
                if let Some(js) = &js {
                    js.configure(cmd);
                }
                Ok(())
            });
        let guard = interrupt::Guard::new();
        if interrupt::requested() {
            return Err(ProcessError::Interrupted {
                cmd: self.to_string(),
            });
        }
        let handle = expr.start().map_err(spawn_err)?;
        // The write ends now live only in the child (duct dropped its copies after spawning),
        // so the readers see EOF when the child and its descendants exit.
        drop(expr);
        for pid in handle.pids() {
            guard.register(pid);
        }
        std::thread::scope(|s| {
            s.spawn(|| read_lines(out_r, on_stdout));
            s.spawn(|| read_lines(err_r, on_stderr));
        });
        let output = handle.wait().map_err(spawn_err)?;
        if interrupt::requested() {
            guard.await_groups();
        }
        drop(guard);
        if interrupt::requested() {
            return Err(ProcessError::Interrupted {
                cmd: self.to_string(),
            });
        }
        Ok(output.status)
    }
}

fn read_lines(pipe: os_pipe::PipeReader, mut on_line: impl FnMut(&str)) {
    let mut reader = BufReader::new(pipe);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf);
                on_line(line.trim_end_matches(['\n', '\r']));
            }
        }
    }
}

/// `exit status 101`, `killed by signal 9`.
pub fn describe_status(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        (None, None) => "unknown status".to_owned(),
    }
}

/// The last `n` non-empty lines of `text`.
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn quote(text: &str) -> String {
    let safe = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    if safe {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

impl fmt::Display for Cmd {
    /// The shell line: `KEY=value program args…` (removed variables as `env -u KEY`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let removed: Vec<_> = self.env.iter().filter(|(_, v)| v.is_none()).collect();
        if !removed.is_empty() {
            parts.push("env".to_owned());
            for (k, _) in removed {
                parts.push(format!("-u {}", quote(&k.to_string_lossy())));
            }
        }
        for (k, v) in &self.env {
            if let Some(v) = v {
                parts.push(format!(
                    "{}={}",
                    k.to_string_lossy(),
                    quote(&v.to_string_lossy())
                ));
            }
        }
        parts.extend(self.argv_lossy().iter().map(|a| quote(a)));
        f.write_str(&parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_a_shell_line() {
        let cmd = Cmd::new("cargo", "/tmp")
            .args(["build", "--target", "aarch64-unknown-linux-gnu"])
            .env("CARGO_TARGET_DIR", "/tmp/my target")
            .env_remove("RUSTC_WRAPPER");
        assert_eq!(
            cmd.to_string(),
            "env -u RUSTC_WRAPPER CARGO_TARGET_DIR='/tmp/my target' cargo build --target aarch64-unknown-linux-gnu"
        );
    }

    #[test]
    fn output_checked_reports_status_and_stderr() {
        let err = Cmd::new("sh", "/")
            .args(["-c", "echo first >&2; echo boom >&2; exit 7"])
            .output_checked()
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("exit status 7"), "{text}");
        assert!(text.ends_with("first\nboom"), "{text}");
        let missing = Cmd::new("parbuild-no-such-program", "/")
            .output_checked()
            .unwrap_err();
        assert_eq!(
            crate::Error::from(missing).exit_code(),
            crate::error::code::MISSING_TOOL
        );
    }

    #[test]
    fn stream_reads_both_pipes_and_hands_out_the_jobserver() {
        let js = jobserver::Client::new(3).unwrap();
        let mut out = Vec::new();
        let mut err = Vec::new();
        let status = Cmd::new("sh", "/")
            .args([
                "-c",
                "echo \"$CARGO_MAKEFLAGS\"; echo to-stderr >&2; echo second",
            ])
            .stream(
                Some(&js),
                |l| out.push(l.to_owned()),
                |l| err.push(l.to_owned()),
            )
            .unwrap();
        assert!(status.success());
        assert!(out[0].contains("--jobserver-auth="), "{out:?}");
        assert_eq!(out[1], "second");
        assert_eq!(err, ["to-stderr"]);
    }
}
