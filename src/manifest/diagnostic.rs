//! Manifest errors, rendered as `file:line:column: message`, the offending line with a
//! caret under the span, and (through [`ManifestError::hint`]) a `help:` line.
//!
//! Every error about the file's contents carries a [`Location`], computed once from the
//! byte span TOML or [`super::validate`] reports. The snippet never shows a seed: anything
//! that looks like one is masked before it is rendered. TOML's own errors (syntax, unknown
//! or missing keys, wrong types) are reworded here, with a "did you mean" for typos.
//!
//! One file because it is one error type: `ManifestError`'s `Display` and `hint` need every
//! `Problem`, the `Location` snippet and the seed mask, and TOML's own errors are reworded
//! into the same shape.

use std::fmt;
use std::fmt::Write as _;
use std::path::PathBuf;

use crate::archive::LabelError;

/// Anything wrong with `par.toml`.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// TOML syntax, an unknown key, a missing key or a value of the wrong type.
    #[error("{at}: {message}{}", .at.snippet())]
    Parse {
        /// Where.
        at: Box<Location>,
        /// What the TOML reader said, reworded.
        message: String,
        /// How to fix it.
        help: Option<String>,
    },
    /// A well-formed value that parbuild cannot use.
    #[error("{at}: {problem}{}", .at.snippet())]
    Invalid {
        /// Where.
        at: Box<Location>,
        /// What is wrong.
        problem: Problem,
    },
}

/// What is wrong with a value (the semantic errors of [`super::validate`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// A `[targets]` key that is neither a known label nor a triple.
    #[error("unknown target `{key}`")]
    UnknownTarget {
        /// The key.
        key: String,
    },
    /// A triple whose host label parbuild cannot derive.
    #[error("no archive label is known for triple `{triple}`")]
    NoLabelForTriple {
        /// The triple.
        triple: String,
    },
    /// A `triple = "…"` that is not one.
    #[error("`{value}` is not a Rust target triple")]
    NotATriple {
        /// The value.
        value: String,
    },
    /// A label key whose `triple` runs on other hosts.
    #[error("triple `{triple}` runs on `{runs_on}` hosts, not on `{key}`")]
    TripleLabelMismatch {
        /// The key.
        key: String,
        /// The triple.
        triple: String,
        /// Its label.
        runs_on: String,
    },
    /// A triple key with a `triple` override.
    #[error("`{key}` is a triple already: `triple` only overrides the default of a label")]
    TripleOnTriple {
        /// The key.
        key: String,
    },
    /// Two targets stored under one label.
    #[error("label `{label}` is already used by target `{first_key}` (line {first_line})")]
    DuplicateLabel {
        /// The label.
        label: String,
        /// The earlier key.
        first_key: String,
        /// Its line.
        first_line: usize,
    },
    /// A label that is not `ARCH-OS`.
    #[error(transparent)]
    BadLabel(#[from] LabelError),
    /// A backend name parbuild does not know.
    #[error("unknown backend `{value}`")]
    UnknownBackend {
        /// The value.
        value: String,
    },
    /// A compression parbuild does not know.
    #[error("unknown compression `{value}`")]
    UnknownCompression {
        /// The value.
        value: String,
    },
    /// `provider.artifact` not of the form `cdylib`, `bin` or `bin:NAME`.
    #[error("`{value}` is not an artifact selector")]
    BadArtifact {
        /// The value.
        value: String,
    },
    /// A `[publish]` value the OCI reference grammar refuses.
    #[error("`{key} = \"{value}\"` is not valid in an OCI reference")]
    BadPublish {
        /// The key.
        key: String,
        /// The value.
        value: String,
        /// The rule, as the hint.
        reason: String,
    },
    /// A seed written into the file.
    #[error("`{key}` holds a seed: secret keys never belong in `par.toml`")]
    LiteralSeed {
        /// The key.
        key: String,
    },
    /// `"$NAME"` with an invalid name.
    #[error("`{value}` is not an environment variable reference")]
    BadEnvRef {
        /// The value.
        value: String,
    },
    /// A key path starting with `~`.
    #[error("`~` is not expanded in `{key}`")]
    TildePath {
        /// The key.
        key: String,
    },
    /// A pinned public key that is not one.
    #[error("`{key}` is not {kind} public key")]
    BadPublicKey {
        /// The key.
        key: String,
        /// "an account" or "a service".
        kind: &'static str,
        /// `A` or `V`.
        prefix: char,
    },
    /// A string that must not be empty.
    #[error("`{key}` is empty")]
    Empty {
        /// The key.
        key: String,
    },
    /// A version-like value (`glibc`, `macos-deployment-target`) that is not one.
    #[error("`{value}` is not a version for `{key}`")]
    BadVersion {
        /// The key.
        key: String,
        /// The value.
        value: String,
        /// An example.
        example: &'static str,
    },
    /// `glibc` on a target that does not link glibc.
    #[error("`glibc` applies to Linux gnu targets only, not to `{triple}`")]
    GlibcNotGnu {
        /// The triple.
        triple: String,
    },
    /// `sdk` on a target that is not macOS.
    #[error("`sdk` is a macOS SDK, but `{triple}` is not a macOS target")]
    SdkNotApple {
        /// The triple.
        triple: String,
    },
    /// A `[macos-stubs]` key that is no framework name.
    #[error("`{value}` is not a framework name")]
    BadFrameworkName {
        /// The key.
        value: String,
    },
    /// A `[macos-stubs]` symbol that is no C name.
    #[error("`{value}` is not a C symbol name")]
    BadStubSymbol {
        /// The value.
        value: String,
    },
    /// A profile name cargo would reject.
    #[error("`{value}` is not a cargo profile name")]
    BadProfile {
        /// The value.
        value: String,
    },
    /// A negative `revision`.
    #[error("`revision` must not be negative")]
    NegativeRevision,
    /// No `[targets]`, or an empty one.
    #[error("no targets: `[targets]` is missing or empty")]
    NoTargets,
    /// A compile cache parbuild does not know.
    #[error("unknown cache `{value}`")]
    UnknownCache {
        /// The value.
        value: String,
    },
    /// A `cache-url` parbuild cannot hand to sccache.
    #[error("`{value}` is not a cache URL parbuild can use")]
    BadCacheUrl {
        /// The value.
        value: String,
        /// Why, and what to write.
        reason: String,
    },
    /// `cache-url` with `cache = "none"`.
    #[error("`cache-url` is set but `cache = \"none\"` turns the cache off")]
    CacheUrlWithoutCache,
}

impl Problem {
    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::UnknownTarget { .. } => format!(
                "use a label ({}) or a Rust triple such as `x86_64-unknown-linux-musl`",
                known_labels()
            ),
            Self::NoLabelForTriple { .. } => {
                "set `label = \"ARCH-OS\"`: the `std::env::consts` ARCH and OS of the hosts that run it"
                    .to_owned()
            }
            Self::NotATriple { value } if value.contains('.') => {
                "write the glibc floor separately, as `glibc = \"2.17\"`".to_owned()
            }
            Self::NotATriple { .. } => {
                "a triple has at least three parts, such as `aarch64-unknown-linux-musl`".to_owned()
            }
            Self::TripleLabelMismatch { runs_on, .. } => {
                format!("use the key `{runs_on}`, or set `label` if no host should look this binary up by its platform")
            }
            Self::TripleOnTriple { .. } => "remove `triple`, or use a label as the key".to_owned(),
            Self::DuplicateLabel { .. } => {
                "an archive holds one binary per label: remove one target, or give it another `label`".to_owned()
            }
            Self::UnknownCache { .. } => {
                "expected `auto` (sccache when installed), `sccache` (required) or `none`".to_owned()
            }
            Self::BadCacheUrl { reason, .. } => reason.clone(),
            Self::CacheUrlWithoutCache => {
                "remove `cache-url`, or set `cache = \"sccache\"`".to_owned()
            }
            Self::UnknownBackend { .. } => {
                "expected one of `auto`, `cargo`, `zig`, `cross`, `container`".to_owned()
            }
            Self::UnknownCompression { .. } => {
                "expected `gzip` (what wasmCloud hosts load), `none` or `zstd` (parbuild only)".to_owned()
            }
            Self::BadArtifact { .. } => "expected `cdylib`, `bin` or `bin:NAME`".to_owned(),
            Self::BadPublish { reason, .. } => reason.clone(),
            Self::LiteralSeed { .. } => {
                "move the seed to a file (mode 0600) and write its path here, or to an environment variable and write `\"$NAME\"`; then treat this seed as leaked and replace it"
                    .to_owned()
            }
            Self::BadEnvRef { .. } => {
                "`\"$NAME\"` names one environment variable (letters, digits, `_`) that holds a seed or a path".to_owned()
            }
            Self::TildePath { .. } => {
                "write a path relative to `par.toml`, an absolute path, or `\"$NAME\"` for a variable holding the path".to_owned()
            }
            Self::BadPublicKey { prefix, .. } => format!(
                "expected 56 characters starting with `{prefix}`, as `parbuild keys show` prints"
            ),
            Self::BadVersion { example, .. } => format!("write it like `{example}`"),
            Self::GlibcNotGnu { .. } => "remove `glibc` from this target".to_owned(),
            Self::SdkNotApple { .. } => "remove `sdk` from this target".to_owned(),
            Self::BadFrameworkName { .. } => {
                "keys are framework names as in `-framework NAME`, such as `Security`".to_owned()
            }
            Self::BadStubSymbol { .. } => {
                "write the C name without Mach-O's leading underscore, such as `SecTrustEvaluateWithError`".to_owned()
            }
            Self::BadProfile { .. } => {
                "profile names use letters, digits, `-` and `_`, such as `release`".to_owned()
            }
            Self::NoTargets => format!(
                "add targets such as `x86_64-linux = {{}}` under `[targets]`; known labels: {}",
                known_labels()
            ),
            Self::BadLabel(_) | Self::Empty { .. } | Self::NegativeRevision => return None,
        })
    }
}

/// The well-known labels, as a backticked list.
fn known_labels() -> String {
    crate::target::known_labels()
        .map(|l| format!("`{l}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl ManifestError {
    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => Some(
                "run `parbuild init` to write one, or point at it with `--manifest-path`"
                    .to_owned(),
            ),
            Self::Read { .. } => None,
            Self::Parse { help, .. } => help.clone(),
            Self::Invalid { problem, .. } => problem.hint(),
        }
    }

    /// The semantic problem, if this is one (tests and callers that react to a kind).
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Self::Invalid { problem, .. } => Some(problem),
            _ => None,
        }
    }
}

/// A place in `par.toml`: the file, and the line with a span on it (absent when the
/// error is about the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file, as given to [`super::load`].
    pub path: PathBuf,
    /// The line and span.
    pub pos: Option<Pos>,
}

/// A line and column (both from 1) and the underlined part of that line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pos {
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
    /// The whole line, seeds masked, tabs as spaces.
    pub text: String,
    /// How many characters to underline (at least 1).
    pub width: usize,
}

impl Location {
    /// The location of the byte range `span` of `text`, the contents of `path`.
    pub fn new(path: impl Into<PathBuf>, text: &str, span: Option<std::ops::Range<usize>>) -> Self {
        Self {
            path: path.into(),
            pos: span.map(|span| Pos::new(text, span)),
        }
    }

    /// The snippet under the message (empty without a position).
    pub fn snippet(&self) -> String {
        let Some(pos) = &self.pos else {
            return String::new();
        };
        let number = pos.line.to_string();
        let gutter = " ".repeat(number.len());
        let mut out = String::new();
        let _ = write!(
            out,
            "\n{gutter} |\n{number} | {}\n{gutter} | {}{}",
            pos.text,
            " ".repeat(pos.column - 1),
            "^".repeat(pos.width)
        );
        out
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pos {
            Some(pos) => write!(f, "{}:{}:{}", self.path.display(), pos.line, pos.column),
            None => write!(f, "{}", self.path.display()),
        }
    }
}

impl Pos {
    fn new(text: &str, span: std::ops::Range<usize>) -> Self {
        let start = floor_char_boundary(text, span.start.min(text.len()));
        let end = floor_char_boundary(text, span.end.clamp(start, text.len()));
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let raw = text[line_start..line_end].trim_end_matches('\r');
        let column = text[line_start..start].chars().count() + 1;
        let underlined = text[start..end.min(line_end).max(start)].chars().count();
        let line_chars = raw.chars().count();
        Self {
            line: text[..start].matches('\n').count() + 1,
            column,
            text: mask_seeds(&raw.replace('\t', " ")),
            width: underlined.clamp(1, (line_chars + 1).saturating_sub(column - 1).max(1)),
        }
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Whether `text` is shaped like an nkey seed: `S`, then 57 base32 characters.
pub fn looks_like_seed(text: &str) -> bool {
    text.len() == 58 && text.starts_with('S') && text.bytes().all(is_base32)
}

fn is_base32(b: u8) -> bool {
    b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)
}

/// `line` with every seed-shaped word replaced by `S` and asterisks of the same length,
/// so a snippet never leaks a secret into a terminal or a CI log.
fn mask_seeds(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if looks_like_seed(word) {
            out.push('S');
            out.push_str(&"*".repeat(word.len() - 1));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in line.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

impl ManifestError {
    /// A TOML or serde error, reworded for people who write `par.toml`.
    pub(super) fn from_toml(text: &str, path: &std::path::Path, e: &toml::de::Error) -> Self {
        let raw = e.message();
        let mut span = e.span();
        let (message, help) = if let Some(rest) = raw.strip_prefix("unknown field `") {
            let (key, expected) = rest.split_once('`').unwrap_or((rest, ""));
            let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            let help = match closest(key, &known) {
                Some(best) => format!("did you mean `{best}`?"),
                None if known.is_empty() => "this table takes no keys".to_owned(),
                None => format!(
                    "expected one of {}",
                    known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            (format!("unknown key `{key}`"), Some(help))
        } else if raw == "missing field `provider`" {
            span = None;
            (
                "missing table `[provider]`".to_owned(),
                Some(
                    "add `[provider]` with at least `name` and `vendor`, or run `parbuild init`"
                        .to_owned(),
                ),
            )
        } else if let Some(rest) = raw.strip_prefix("missing field `") {
            let key = rest.trim_end_matches('`');
            (
                format!("missing key `{key}`"),
                Some(format!("add `{key} = \"…\"` to this table")),
            )
        } else {
            let message = raw
                .replace("expected usize", "expected a non-negative integer")
                .replace("expected i32", "expected an integer")
                .replace("expected a sequence", "expected an array")
                .replace("expected a map", "expected a table");
            (message, None)
        };
        Self::Parse {
            at: Box::new(Location::new(path, text, span)),
            message,
            help,
        }
    }
}

/// The candidate nearest to `word`, if it is near enough to be a typo.
fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance in characters, counting a swap of neighbours as one edit (`jbos` → `jobs`).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, span: std::ops::Range<usize>, expected: &str) {
        let at = Location::new("par.toml", text, Some(span));
        assert_eq!(format!("{at}{}", at.snippet()), expected);
    }

    #[test]
    fn snippets() {
        check(
            "a = 1\nbogus = 2\n",
            6..11,
            "par.toml:2:1\n  |\n2 | bogus = 2\n  | ^^^^^",
        );
        // A span running past its line is cut at the line's end.
        check(
            "x = [\n 1,\n]\n",
            4..12,
            "par.toml:1:5\n  |\n1 | x = [\n  |     ^",
        );
        // An empty span at the end of the file still gets one caret.
        check("a = ", 4..4, "par.toml:1:5\n  |\n1 | a = \n  |     ^");
        // Columns count characters, not bytes.
        check(
            "n = \"é\" x",
            9..10,
            "par.toml:1:9\n  |\n1 | n = \"é\" x\n  |         ^",
        );
        let mut long = "\n".repeat(9);
        long.push_str("k = 1");
        check(&long, 9..10, "par.toml:10:1\n   |\n10 | k = 1\n   | ^");
    }

    #[test]
    fn seeds_are_masked() {
        let seed = "SAABCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEN4YE";
        assert!(looks_like_seed(seed));
        let line = format!("issuer = \"{seed}\"");
        let masked = mask_seeds(&line);
        assert!(!masked.contains(&seed[1..]));
        assert_eq!(masked.len(), line.len());
        assert_eq!(mask_seeds("path = \"keys/a.nk\""), "path = \"keys/a.nk\"");
    }
}
