//! A snapshot of the process environment, taken once at start-up.
//!
//! This is the only module that reads `std::env`: everything else receives an [`Env`],
//! so tests can build one by hand and nothing downstream depends on ambient state.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

/// The environment variables and working directory parbuild was started with.
#[derive(Clone, Debug, Default)]
pub struct Env {
    vars: BTreeMap<OsString, OsString>,
    cwd: PathBuf,
}

impl Env {
    /// Reads the real process environment.
    #[allow(clippy::disallowed_methods)] // the one sanctioned reader of std::env
    pub fn capture() -> Self {
        Self {
            vars: std::env::vars_os().collect(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        }
    }

    /// An environment made by hand (tests).
    pub fn from_vars<I, K, V>(vars: I, cwd: impl Into<PathBuf>) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        Self {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            cwd: cwd.into(),
        }
    }

    /// The value of `name` when it is set and valid UTF-8 (empty counts as set).
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(std::ffi::OsStr::new(name))
            .and_then(|v| v.to_str())
    }

    /// The raw value of `name`.
    pub fn var_os(&self, name: &str) -> Option<&std::ffi::OsStr> {
        self.vars
            .get(std::ffi::OsStr::new(name))
            .map(OsString::as_os_str)
    }

    /// The value of `name` when set and non-empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.var(name).filter(|v| !v.is_empty())
    }

    /// True when running under CI (`CI` set to anything but `false`/`0`/empty).
    pub fn is_ci(&self) -> bool {
        self.non_empty("CI")
            .is_some_and(|v| v != "false" && v != "0")
    }

    /// The working directory at start-up (after `-C DIR` has been applied by the caller).
    pub fn cwd(&self) -> &std::path::Path {
        &self.cwd
    }

    /// The same environment with another working directory (`-C DIR`).
    #[must_use]
    pub fn with_cwd(mut self, cwd: PathBuf) -> Self {
        self.cwd = cwd;
        self
    }

    /// `$HOME`, if set.
    pub fn home(&self) -> Option<PathBuf> {
        self.non_empty("HOME").map(PathBuf::from)
    }

    /// `SOURCE_DATE_EPOCH` parsed as seconds, when set. An unparsable value is an error
    /// for the caller to report, so it is returned as `Err(raw)`.
    pub fn source_date_epoch(&self) -> Option<Result<u64, String>> {
        self.non_empty("SOURCE_DATE_EPOCH")
            .map(|raw| raw.trim().parse::<u64>().map_err(|_| raw.to_owned()))
    }

    /// The directory where parbuild keeps tools it installed itself (the zig venv):
    /// `$PARBUILD_TOOLS_DIR`, else `$XDG_DATA_HOME/parbuild`, else `~/.local/share/parbuild`.
    /// `scripts/setup` uses the same rule.
    pub fn tools_dir(&self) -> Option<PathBuf> {
        if let Some(dir) = self.non_empty("PARBUILD_TOOLS_DIR") {
            return Some(PathBuf::from(dir));
        }
        if let Some(xdg) = self.non_empty("XDG_DATA_HOME") {
            return Some(PathBuf::from(xdg).join("parbuild"));
        }
        self.home().map(|h| h.join(".local/share/parbuild"))
    }

    /// Every variable, for handing a full environment to a child or scanning prefixes.
    pub fn iter(&self) -> impl Iterator<Item = (&OsString, &OsString)> {
        self.vars.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_flag_and_epoch() {
        let env = Env::from_vars([("CI", "true"), ("SOURCE_DATE_EPOCH", "1700000000")], "/");
        assert!(env.is_ci());
        assert_eq!(env.source_date_epoch(), Some(Ok(1_700_000_000)));
        let env = Env::from_vars([("CI", "false"), ("SOURCE_DATE_EPOCH", "soon")], "/");
        assert!(!env.is_ci());
        assert_eq!(env.source_date_epoch(), Some(Err("soon".to_owned())));
    }

    #[test]
    fn tools_dir_rules() {
        let env = Env::from_vars([("HOME", "/h")], "/");
        assert_eq!(
            env.tools_dir(),
            Some(PathBuf::from("/h/.local/share/parbuild"))
        );
        let env = Env::from_vars([("HOME", "/h"), ("XDG_DATA_HOME", "/x")], "/");
        assert_eq!(env.tools_dir(), Some(PathBuf::from("/x/parbuild")));
    }
}
