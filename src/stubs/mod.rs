//! Apple framework stubs, so zig can link a macOS provider without a macOS SDK.
//!
//! zig ships libSystem but no framework, so a provider that links Security or
//! CoreFoundation (TLS with the platform's roots does) fails with `unable to find system
//! framework "Security"`, and no SDK may be redistributed. A text stub per framework
//! (tapi-tbd v4) listing the symbols the build needs is enough for the linker; the binary
//! then loads the real framework by its install name on a Mac.
//!
//! The symbols come from the build itself: [`sources`] finds every linked package's
//! source directory in `cargo metadata`, [`decls`] reads their `extern` blocks,
//! [`attribute`] places each symbol in its framework by the user's table and parbuild's
//! rules ([`crate::archive::frameworks`], shared with `verify`), [`tbd`] renders each
//! stub, and [`write_tree`] lays them out as an SDK root for `SDKROOT`. [`generate`] does
//! all of it; [`diagnose`] explains a link that still lacks something.
//!
//! **Invariant:** no process, no environment, no printing; the caller runs `cargo
//! metadata` and reports.

pub mod attribute;
pub mod decls;
pub mod diagnose;
pub mod sources;
pub mod tbd;
mod tree;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use cargo_metadata::Metadata;
use rayon::iter::{IntoParallelIterator as _, ParallelIterator as _};

pub use attribute::{Attribution, Located, Unattributed};
pub use tbd::Stub;
pub use tree::write_tree;

/// The marker file of a stub tree, and what it says.
pub const MARKER: &str = "PARBUILD-STUBS.txt";

/// What can go wrong generating stubs.
#[derive(Debug, thiserror::Error)]
pub enum StubError {
    /// A source directory or file could not be read.
    #[error("cannot read `{}`", path.display())]
    Read {
        /// What was read.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The stub tree could not be written or put in place.
    #[error("cannot write `{}`", path.display())]
    Write {
        /// What was written.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The destination holds something else than a stub tree: it is never replaced.
    #[error(
        "`{}` exists and is not a stub directory parbuild wrote (no {MARKER} in it): not replacing it",
        path.display()
    )]
    NotStubTree {
        /// The destination.
        path: PathBuf,
    },
    /// A framework name of the user's table cannot be a framework (it becomes a path).
    #[error("`{name}` is not a framework name")]
    FrameworkName {
        /// The name.
        name: String,
    },
    /// A symbol of the user's table cannot be a C symbol.
    #[error("`{symbol}` (framework `{framework}`) is not a symbol name")]
    SymbolName {
        /// Its framework.
        framework: String,
        /// The symbol.
        symbol: String,
    },
}

/// What [`generate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StubReport {
    /// The stub tree (the `SDKROOT` to give cargo-zigbuild).
    pub dir: PathBuf,
    /// Every stub written: framework → how many symbols it exports.
    pub frameworks: BTreeMap<String, usize>,
    /// Symbols declared in a framework-linked block that nothing places (in no stub).
    pub unattributed: Vec<Unattributed>,
    /// Every framework an `extern` block of the sources links.
    pub linked: BTreeSet<String>,
    /// How many distinct names were left to libSystem.
    pub left_to_system: usize,
    /// How many source directories were scanned.
    pub dirs: usize,
    /// How many `.rs` files were read.
    pub files_scanned: usize,
    /// How many of those contained `extern` and were parsed.
    pub files_parsed: usize,
    /// The files that contain `extern` but do not parse (skipped).
    pub parse_failures: Vec<PathBuf>,
}

/// One line: the stubs that export something, what was scanned, what was left out.
impl std::fmt::Display for StubReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let exporting: Vec<String> = self
            .frameworks
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(name, n)| format!("{name} {n}"))
            .collect();
        let total: usize = self.frameworks.values().sum();
        write!(
            f,
            "{total} symbols ({}) from the `extern` blocks of {} files in {} source directories",
            if exporting.is_empty() {
                "none".to_owned()
            } else {
                exporting.join(", ")
            },
            self.files_parsed,
            self.dirs
        )?;
        if !self.parse_failures.is_empty() {
            write!(f, "; {} files did not parse", self.parse_failures.len())?;
        }
        if !self.unattributed.is_empty() {
            let names: Vec<String> = self
                .unattributed
                .iter()
                .map(|u| format!("{} ({})", u.symbol, u.framework))
                .collect();
            write!(f, "; no framework known for {}", names.join(", "))?;
        }
        Ok(())
    }
}

impl StubReport {
    /// Frameworks the sources link that have no stub: linking them fails with zig's
    /// `unable to find system framework`.
    pub fn unstubbed(&self) -> Vec<&str> {
        self.linked
            .iter()
            .filter(|f| !self.frameworks.contains_key(*f))
            .map(String::as_str)
            .collect()
    }
}

/// Everything: the sources of `metadata` (from `cargo metadata --format-version 1
/// --filter-platform <apple triple>`), their declarations, placed by `extra` (framework →
/// C symbols, from `par.toml`) and the rules, written as a stub tree at `dir`.
pub fn generate(
    metadata: &Metadata,
    extra: &BTreeMap<String, Vec<String>>,
    dir: &Path,
) -> Result<StubReport, StubError> {
    check_extra(extra)?;
    let sources = sources::source_dirs(metadata);
    let mut files = Vec::new();
    for source in &sources {
        let cfg = decls::Cfg {
            features: source.features.clone(),
        };
        let found = decls::rust_files(&source.dir).map_err(|e| StubError::Read {
            path: source.dir.clone(),
            source: e,
        })?;
        files.extend(found.into_iter().map(|file| (file, cfg.clone())));
    }
    // Parsing is the cost (libc alone is a hundred files of `extern` blocks): in
    // parallel, in order.
    let scanned: Vec<Result<Scanned, StubError>> = files
        .into_par_iter()
        .map(|(file, cfg)| scan(file, &cfg))
        .collect();
    let mut declarations = Vec::new();
    let mut linked = BTreeSet::new();
    let (mut files_scanned, mut files_parsed) = (0, 0);
    let mut parse_failures = Vec::new();
    for scanned in scanned {
        files_scanned += 1;
        match scanned? {
            Scanned::NoExtern => {}
            Scanned::Failed(file) => parse_failures.push(file),
            Scanned::Parsed(file, found) => {
                files_parsed += 1;
                linked.extend(found.links);
                declarations.extend(found.declarations.into_iter().map(|declaration| Located {
                    file: file.clone(),
                    declaration,
                }));
            }
        }
    }
    let placed = attribute::attribute(&declarations, extra);
    write_tree(dir, &placed.stubs)?;
    Ok(StubReport {
        dir: dir.to_owned(),
        frameworks: placed
            .stubs
            .iter()
            .map(|s| (s.name.clone(), s.symbols.len()))
            .collect(),
        unattributed: placed.unattributed,
        linked,
        left_to_system: placed.left_to_system,
        dirs: sources.len(),
        files_scanned,
        files_parsed,
        parse_failures,
    })
}

/// The file beside a stub tree `dir` recording what it was generated from:
/// `<dir>.inputs`, holding [`inputs_key`] and the report of that generation.
fn inputs_file(dir: &Path) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(".inputs");
    dir.with_file_name(name)
}

/// What decides a stub tree: `cargo metadata`'s answer (every package, version, source
/// and feature), the user's `[macos-stubs]` table, this parbuild, and the size and mtime of
/// every `.rs` file of the local packages (registry and git sources never change in place).
pub fn inputs_key(
    metadata_json: &str,
    metadata: &Metadata,
    extra: &BTreeMap<String, Vec<String>>,
) -> String {
    use sha2::{Digest as _, Sha256};
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION"));
    h.update(metadata_json);
    h.update(format!("{extra:?}"));
    for package in metadata.packages.iter().filter(|p| p.source.is_none()) {
        let Some(dir) = package.manifest_path.parent() else {
            continue;
        };
        for file in decls::rust_files(dir.as_std_path()).unwrap_or_default() {
            let stat = fs::metadata(&file)
                .ok()
                .map(|m| (m.len(), m.modified().ok()));
            h.update(format!("{}:{stat:?}\n", file.display()));
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The report of the generation that made `dir` from `key`, if the tree is still there.
pub fn reusable(dir: &Path, key: &str) -> Option<String> {
    let text = fs::read_to_string(inputs_file(dir)).ok()?;
    let (found, report) = text.split_once('\n')?;
    (found == key && dir.join(MARKER).is_file()).then(|| report.to_owned())
}

/// Records that `dir` was generated from `key`, with its report. Best effort: without the
/// record, the next build generates the same tree again.
pub fn remember(dir: &Path, key: &str, report: &StubReport) {
    let _ = fs::write(inputs_file(dir), format!("{key}\n{report}"));
}

/// What one source file gave.
enum Scanned {
    NoExtern,
    Failed(PathBuf),
    Parsed(PathBuf, decls::FileDecls),
}

fn scan(file: PathBuf, cfg: &decls::Cfg) -> Result<Scanned, StubError> {
    let bytes = fs::read(&file).map_err(|source| StubError::Read {
        path: file.clone(),
        source,
    })?;
    let Ok(text) = String::from_utf8(bytes) else {
        return Ok(Scanned::Failed(file));
    };
    Ok(match decls::parse(&text, cfg) {
        Ok(None) => Scanned::NoExtern,
        Ok(Some(found)) => Scanned::Parsed(file, found),
        Err(_) => Scanned::Failed(file),
    })
}

fn check_extra(extra: &BTreeMap<String, Vec<String>>) -> Result<(), StubError> {
    for (framework, symbols) in extra {
        let mut chars = framework.chars();
        let well_formed = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '.'));
        if !well_formed {
            return Err(StubError::FrameworkName {
                name: framework.clone(),
            });
        }
        for symbol in symbols {
            if symbol.is_empty() || symbol.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(StubError::SymbolName {
                    framework: framework.clone(),
                    symbol: symbol.clone(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_is_reused_only_for_the_inputs_it_was_made_from() {
        let tmp = tempfile::tempdir().unwrap();
        let json = serde_json::json!({
            "packages": [], "workspace_members": [], "workspace_default_members": [],
            "resolve": null, "target_directory": "/t", "version": 1,
            "workspace_root": "/w", "metadata": null
        })
        .to_string();
        let metadata: Metadata = serde_json::from_str(&json).unwrap();
        let dir = tmp.path().join("apple-stubs");
        let extra = BTreeMap::from([("Mine".to_owned(), vec!["_my_symbol".to_owned()])]);
        let key = inputs_key(&json, &metadata, &extra);
        assert_ne!(key, inputs_key(&json, &metadata, &BTreeMap::new()));
        assert_ne!(
            key,
            inputs_key(&json.replace("/t", "/u"), &metadata, &extra)
        );
        assert_eq!(reusable(&dir, &key), None, "nothing made yet");
        let report = generate(&metadata, &extra, &dir).unwrap();
        remember(&dir, &key, &report);
        assert_eq!(reusable(&dir, &key), Some(report.to_string()));
        assert_eq!(reusable(&dir, "another key"), None);
        // The tree gone, the record is worth nothing.
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(reusable(&dir, &key), None);
    }

    #[test]
    fn the_users_table_is_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let metadata: Metadata = serde_json::from_value(serde_json::json!({
            "packages": [], "workspace_members": [], "workspace_default_members": [],
            "resolve": null, "target_directory": "/t", "version": 1,
            "workspace_root": "/w", "metadata": null
        }))
        .unwrap();
        for bad in ["../Evil", "", "A/B", ".hidden"] {
            let extra = BTreeMap::from([(bad.to_owned(), vec![])]);
            let err = generate(&metadata, &extra, &tmp.path().join("sdk")).unwrap_err();
            assert!(
                matches!(err, StubError::FrameworkName { .. }),
                "{bad}: {err:?}"
            );
        }
        let extra = BTreeMap::from([("Mine".to_owned(), vec!["two words".to_owned()])]);
        let err = generate(&metadata, &extra, &tmp.path().join("sdk")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`two words` (framework `Mine`) is not a symbol name"
        );
        assert!(!tmp.path().join("sdk").exists());
        // No sources at all: every framework with rules still gets its (empty) stub.
        let extra = BTreeMap::from([("Mine".to_owned(), vec!["MyThing".to_owned()])]);
        let report = generate(&metadata, &extra, &tmp.path().join("sdk")).unwrap();
        assert_eq!(report.frameworks["Mine"], 1);
        assert_eq!(report.frameworks["Security"], 0);
        assert_eq!(report.files_scanned, 0);
        assert!(
            tmp.path()
                .join("sdk/System/Library/Frameworks/Mine.framework/Mine.tbd")
                .is_file()
        );
    }
}
