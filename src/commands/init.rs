//! `parbuild init`: write a commented `par.toml` for the cargo package in this directory,
//! filled from `cargo metadata`, from `templates/par.toml` (which doubles as the schema
//! reference, so a test keeps the two in step), and from what the repository already says
//! about itself: wash's `wasmcloud.toml` or a Makefile on wasmCloud's `provider.mk`
//! (`--from FILE`, else whichever is beside `par.toml`), read by [`manifest::import`].
//!
//! One file because `apply_import` edits the very text `render` makes from the template, by
//! its table and key layout, so the two change together.

use std::path::{Component, Path, PathBuf};

use crate::archive::staged::Staged;
use crate::cli::InitArgs;
use crate::error::{Error, Result};
use crate::manifest;
use crate::manifest::import::{self, Imported, SourceKind};
use crate::metadata::{self, Artifact, MetadataError};

use super::Context;

/// The template, with `{{placeholders}}` for the values taken from cargo.
pub const TEMPLATE: &str = include_str!("../../templates/par.toml");

/// The values `init` fills in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitValues {
    /// `provider.name` (the package name).
    pub name: String,
    /// `provider.vendor`.
    pub vendor: String,
    /// The package's version (written commented: it is the default).
    pub version: String,
    /// `provider.package`.
    pub package: String,
    /// `provider.artifact`, as a selector.
    pub artifact: String,
}

/// The file `init` started from, and what it said.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file, absolute.
    pub path: PathBuf,
    /// What was read from it.
    pub imported: Imported,
}

/// Runs `parbuild init`.
pub fn run(args: &InitArgs, ctx: &Context) -> Result<()> {
    let path = ctx.manifest_path();
    if path.exists() && !args.force {
        return Err(Error::input(
            format!("`{}` already exists", path.display()),
            Some("pass `--force` to overwrite it".to_owned()),
        ));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let source = match &args.from {
        Some(from) => Some(read_source(&ctx.path(from))?),
        None => detect(dir)
            .map(|found| {
                ctx.reporter.status(format!(
                    "reading {} (found beside par.toml)",
                    found.display()
                ));
                read_source(&found)
            })
            .transpose()?,
    };
    let imported = source.as_ref().map(|s| &s.imported);
    let source_dir = source
        .as_ref()
        .and_then(|s| s.path.parent())
        .unwrap_or(dir)
        .to_owned();
    let package_dir = match imported.and_then(|i| i.package_dir.as_ref()) {
        Some(rel) => source_dir.join(rel),
        None => dir.to_owned(),
    };
    let meta = metadata::metadata(&package_dir, &ctx.env)?;
    let package = metadata::select_package(&meta, &package_dir, None)?;
    if package_dir != dir {
        // par.toml names the package; it must be one cargo finds from par.toml's directory.
        let here = metadata::metadata(dir, &ctx.env)?;
        if metadata::select_package(&here, dir, Some(package.name.as_str())).is_err() {
            return Err(Error::input(
                format!(
                    "package `{}` (in `{}`) is not in the cargo workspace of `{}`",
                    package.name,
                    package_dir.display(),
                    dir.display()
                ),
                Some(format!(
                    "run `parbuild init` in `{}`, where par.toml belongs",
                    package_dir.display()
                )),
            ));
        }
    }
    let candidates = metadata::candidates(package);
    let wanted = imported.and_then(|i| i.bin.as_deref());
    let artifact = match wanted {
        Some(bin) => candidates
            .iter()
            .find(|a| a.selector() == format!("bin:{bin}"))
            .cloned()
            .ok_or_else(|| {
                Error::input(
                    format!(
                        "`{}` names the provider binary `{bin}`, but package `{}` has no such binary",
                        source.as_ref().map_or(path.clone(), |s| s.path.clone()).display(),
                        package.name
                    ),
                    Some(format!(
                        "its targets are: {}; fix the name there, or run `parbuild init` without `--from`",
                        candidates.iter().map(Artifact::selector).collect::<Vec<_>>().join(", ")
                    )),
                )
            })?,
        None => match metadata::pick_artifact(package.name.as_str(), &candidates, None) {
            Ok(artifact) => artifact,
            Err(MetadataError::AmbiguousArtifact { .. }) => {
                let first = candidates[0].clone();
                ctx.reporter.warn(format!(
                    "package `{}` has several targets that could be the provider ({}); wrote `artifact = \"{}\"`, change it if another is meant",
                    package.name,
                    candidates.iter().map(Artifact::selector).collect::<Vec<_>>().join(", "),
                    first.selector()
                ));
                first
            }
            Err(e) => return Err(e.into()),
        },
    };
    let values = InitValues {
        name: imported
            .and_then(|i| i.name.clone())
            .unwrap_or_else(|| package.name.to_string()),
        vendor: imported
            .and_then(|i| i.vendor.clone())
            .unwrap_or_else(|| vendor_from_authors(&package.authors)),
        version: package.version.to_string(),
        package: package.name.to_string(),
        artifact: artifact.selector(),
    };
    let mut text = render(&values);
    let mut notes = Vec::new();
    if let Some(source) = &source {
        let (edited, more) = apply_import(&text, source, dir, &values)?;
        text = edited;
        notes = more;
    }
    write(&path, &text)?;
    // The file must load as written; if it does not, the template is broken.
    let written = manifest::load(&path).map_err(|e| Error::Internal {
        message: format!("`parbuild init` wrote a par.toml that does not load: {e}"),
    })?;
    let labels: Vec<&str> = written.targets.iter().map(|t| t.label.as_str()).collect();
    ctx.reporter.status(format!(
        "wrote {} for package `{}` ({}) with targets {}{}",
        path.display(),
        values.package,
        values.artifact,
        labels.join(", "),
        source
            .as_ref()
            .map(|s| format!(", from {}", file_name(&s.path)))
            .unwrap_or_default()
    ));
    for note in notes {
        ctx.reporter.warn(note);
    }
    ctx.reporter
        .note("next: `parbuild doctor` checks the tools each target needs, `parbuild plan` shows the build");
    Ok(())
}

/// `wasmcloud.toml` beside `par.toml`, else a Makefile there that includes `provider.mk`.
fn detect(dir: &Path) -> Option<PathBuf> {
    let toml = dir.join(import::WASMCLOUD_TOML);
    if toml.is_file() {
        return Some(toml);
    }
    import::MAKEFILES
        .iter()
        .map(|name| dir.join(name))
        .find(|mk| std::fs::read_to_string(mk).is_ok_and(|text| text.contains("provider.mk")))
}

fn read_source(path: &Path) -> Result<Source> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::input(
                format!("`{}` does not exist", path.display()),
                Some(
                    "`--from` takes wash's `wasmcloud.toml` or a Makefile that includes `provider.mk`"
                        .to_owned(),
                ),
            )
        } else {
            Error::Io {
                action: "cannot read",
                path: path.to_owned(),
                source,
            }
        }
    })?;
    let imported = import::import(SourceKind::of(path), &text, path)?;
    Ok(Source {
        path: path.to_owned(),
        imported,
    })
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// `text` (the rendered template) with what `source` says set in it, each line marked
/// with where it came from, and the notes for the user (what was not used, what to check).
pub fn apply_import(
    text: &str,
    source: &Source,
    par_dir: &Path,
    values: &InitValues,
) -> Result<(String, Vec<String>)> {
    let imp = &source.imported;
    let from = format!("  # from {}", file_name(&source.path));
    let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let source_dir = source.path.parent().unwrap_or(par_dir);
    // Paths in the source are relative to it; in par.toml, to par.toml.
    let rebase = |p: &str| {
        relative(&source_dir.join(p), par_dir)
            .to_string_lossy()
            .into_owned()
    };
    let mut text = text.to_owned();
    let mut notes = imp.notes.clone();
    let mut set = |table: &str, key: &str, value: String| -> Result<()> {
        text = set_key(&text, table, key, &format!("{value}{from}")).ok_or_else(|| {
            Error::Internal {
                message: format!("templates/par.toml has no `{key}` line in [{table}]"),
            }
        })?;
        Ok(())
    };
    if let Some(v) = &imp.version {
        set("provider", "version", quote(v))?;
    }
    if let Some(r) = imp.revision {
        set("provider", "revision", r.to_string())?;
    }
    if let Some(c) = &imp.capid {
        set("provider", "capid", quote(c))?;
    }
    if let Some(p) = &imp.profile {
        set("build", "profile", quote(p))?;
    }
    if let Some(d) = &imp.output_dir {
        let output = format!(
            "{}/{}.{}",
            rebase(d),
            values.package,
            manifest::validate::archive_extension(crate::archive::Compression::Gzip)
        );
        set("output", "path", quote(&output))?;
    }
    let publish = &imp.publish;
    if let Some(r) = &publish.registry {
        set("publish", "registry", quote(r))?;
        let repository = publish.repository.clone().or_else(|| {
            publish
                .repository_prefix
                .as_ref()
                .map(|prefix| format!("{prefix}/{}", values.package.to_lowercase()))
        });
        match repository {
            Some(repo) => {
                if publish.repository.is_none() {
                    notes.push(format!(
                        "[publish] repository `{repo}` is the registry path of {} with the package name: check it",
                        file_name(&source.path)
                    ));
                }
                set("publish", "repository", quote(&repo))?;
            }
            None => notes.push(format!(
                "{} names the registry `{r}` but no repository: set `repository` in [publish] (e.g. `acme/{}`), or pass a whole reference to `--push`",
                file_name(&source.path),
                values.package.to_lowercase()
            )),
        }
    }
    if let Some(tag) = &publish.tag {
        set("publish", "tags", format!("[{}]", quote(tag)))?;
    }
    if publish.insecure {
        set("publish", "insecure", "true".to_owned())?;
    }
    if let Some(c) = &publish.credentials {
        set("publish", "credentials", quote(&rebase(c)))?;
    }
    if let Some(targets) = &imp.targets {
        let lines: Vec<String> = targets
            .iter()
            .map(|t| match &t.triple {
                Some(triple) => format!("{} = {{ triple = {} }}{from}", t.key, quote(triple)),
                None => format!("{} = {{}}{from}", t.key),
            })
            .collect();
        text = set_targets(&text, &lines).ok_or_else(|| Error::Internal {
            message: "templates/par.toml has no [targets] entries".to_owned(),
        })?;
    }
    Ok((text, notes))
}

/// The lines of table `[table]` in `text`: (first line index, end index).
fn table_range(lines: &[&str], table: &str) -> Option<(usize, usize)> {
    let header = format!("[{table}]");
    let start = lines.iter().position(|l| l.trim() == header)? + 1;
    let end = lines[start..]
        .iter()
        .position(|l| l.starts_with('['))
        .map_or(lines.len(), |i| start + i);
    Some((start, end))
}

/// `text` with the first `key = …` or `# key = …` line of `[table]` replaced by
/// `key = value`; `None` when the table has no such line.
pub fn set_key(text: &str, table: &str, key: &str, value: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let (start, end) = table_range(&lines, table)?;
    let prefix = format!("{key} = ");
    let at = (start..end).find(|&i| {
        let l = lines[i];
        l.starts_with(&prefix) || l.strip_prefix("# ").is_some_and(|r| r.starts_with(&prefix))
    })?;
    let line = format!("{key} = {value}");
    let mut out: Vec<&str> = lines.clone();
    out[at] = &line;
    Some(out.join("\n") + "\n")
}

/// `text` with the entries of `[targets]` (its uncommented `key = …` lines) replaced by
/// `entries`; `None` when it has none.
fn set_targets(text: &str, entries: &[String]) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let (start, end) = table_range(&lines, "targets")?;
    let is_entry = |l: &str| {
        l.split_once(" = ").is_some_and(|(k, _)| {
            !k.is_empty()
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
    };
    let first = (start..end).find(|&i| is_entry(lines[i]))?;
    let mut out: Vec<String> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if i == first {
            out.extend(entries.iter().cloned());
        }
        if !((start..end).contains(&i) && is_entry(l)) {
            out.push((*l).to_owned());
        }
    }
    Some(out.join("\n") + "\n")
}

/// `path` relative to `base` (both absolute), with `..` where needed.
fn relative(path: &Path, base: &Path) -> PathBuf {
    fn normal(p: &Path) -> Vec<Component<'_>> {
        let mut out = Vec::new();
        for c in p.components() {
            match c {
                Component::CurDir => {}
                Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                    out.pop();
                }
                c => out.push(c),
            }
        }
        out
    }
    let (p, b) = (normal(path), normal(base));
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// The template with `values` filled in, each as a TOML string.
pub fn render(values: &InitValues) -> String {
    let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let output = format!(
        "{}/{}.{}",
        manifest::validate::DEFAULT_OUTPUT_DIR,
        values.package,
        manifest::validate::archive_extension(crate::archive::Compression::Gzip)
    );
    TEMPLATE
        .replace("{{name}}", &quote(&values.name))
        .replace("{{vendor}}", &quote(&values.vendor))
        .replace("{{version_plain}}", &values.version)
        .replace("{{version}}", &quote(&values.version))
        .replace("{{package}}", &quote(&values.package))
        .replace("{{artifact}}", &quote(&values.artifact))
        .replace("{{output}}", &quote(&output))
}

/// The first author's name without the e-mail address, else `unknown`.
pub fn vendor_from_authors(authors: &[String]) -> String {
    authors
        .first()
        .map(|a| a.split('<').next().unwrap_or("").trim().to_owned())
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Writes `text` to `path` through a staging file beside it, so a failure leaves no half
/// file (and a killed `init`'s leftover is removed by the next one).
fn write(path: &Path, text: &str) -> Result<()> {
    let io = |source| Error::Io {
        action: "cannot write",
        path: path.to_owned(),
        source,
    };
    let (temp, _cleaned) = Staged::beside(path).map_err(io)?;
    let mut file = temp.file();
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    // Staging files are 0600; par.toml is not a secret.
    #[cfg(unix)]
    temp.set_mode(0o644).map_err(io)?;
    temp.persist(path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> InitValues {
        InitValues {
            name: "fakepay-provider".to_owned(),
            vendor: "Jane \"JD\" Doe".to_owned(),
            version: "0.3.1".to_owned(),
            package: "fakepay-provider".to_owned(),
            artifact: "bin:fakepay".to_owned(),
        }
    }

    /// Every `# key = value` line of the template, uncommented.
    fn uncomment_all(text: &str) -> String {
        text.lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest) if is_setting(rest) => rest,
                _ => line,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn is_setting(line: &str) -> bool {
        line.split_once(" = ").is_some_and(|(key, _)| {
            !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    }

    #[test]
    fn rendered_template_loads() {
        let text = render(&values());
        assert!(!text.contains("{{"), "a placeholder is left:\n{text}");
        let m = manifest::parse(&text, Path::new("/p/par.toml")).unwrap();
        assert_eq!(m.provider.name, "fakepay-provider");
        assert_eq!(m.provider.vendor, "Jane \"JD\" Doe");
        assert_eq!(m.provider.version, None);
        assert_eq!(m.provider.package.as_deref(), Some("fakepay-provider"));
        assert_eq!(
            m.provider.artifact,
            Some(manifest::ArtifactSelector::Bin(Some("fakepay".to_owned())))
        );
        let labels: Vec<&str> = m.targets.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "x86_64-linux",
                "aarch64-linux",
                "arm-linux",
                "x86_64-macos",
                "aarch64-macos"
            ]
        );
        assert_eq!(m.output.path, Path::new("/p/build/fakepay-provider.par.gz"));
    }

    #[test]
    fn every_key_the_template_mentions_is_accepted() {
        let text = uncomment_all(&render(&values()));
        let commented: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("# ") && is_setting(&l[2..]))
            .collect();
        assert!(commented.is_empty(), "{commented:?}");
        let m = manifest::parse(&text, Path::new("/p/par.toml"))
            .unwrap_or_else(|e| panic!("{}\n{text}", Error::from(e).render()));
        // The uncommented values are the ones written, not the defaults.
        assert_eq!(m.provider.version.as_deref(), Some("0.3.1"));
        assert_eq!(m.targets.len(), 8);
        assert!(m.sign.issuer_public.is_some() && m.build.macos_deployment_target.is_some());
        assert_eq!(
            m.macos_stubs.get("Security").map(Vec::as_slice),
            Some(&["SecSomethingNew".to_owned()][..])
        );
    }

    #[test]
    fn every_key_the_schema_accepts_is_in_the_template() {
        // The schema lists its keys in the error for an unknown one.
        let head = "[provider]\nname = \"n\"\nvendor = \"v\"\n";
        let probes = [
            ("", format!("{head}[zzz]\n")),
            ("[provider]", format!("{head}zzz = 1\n")),
            (
                "[targets]",
                format!("{head}[targets]\nx86_64-linux = {{ zzz = 1 }}\n"),
            ),
            ("[build]", format!("{head}[build]\nzzz = 1\n")),
            ("[sign]", format!("{head}[sign]\nzzz = 1\n")),
            ("[output]", format!("{head}[output]\nzzz = 1\n")),
        ];
        let template = render(&values());
        for (table, text) in probes {
            let err = manifest::parse(&text, Path::new("par.toml")).unwrap_err();
            let help = err.hint().unwrap_or_default();
            let keys: Vec<&str> = help.split('`').skip(1).step_by(2).collect();
            assert!(!keys.is_empty(), "{table}: {help}");
            for key in keys {
                let mentioned = if table.is_empty() {
                    template.contains(&format!("[{key}]"))
                } else {
                    template.contains(&format!("{key} = "))
                        || template.contains(&format!("#   {key} "))
                };
                assert!(
                    mentioned,
                    "`{key}` of `{table}` is not in templates/par.toml"
                );
            }
        }
    }

    #[test]
    fn everything_an_import_can_say_lands_in_a_par_toml_that_loads() {
        use crate::manifest::import::{ImportedPublish, TargetEntry};
        let source = Source {
            path: PathBuf::from("/p/wasmcloud.toml"),
            imported: Imported {
                version: Some("1.2.3".to_owned()),
                revision: Some(7),
                capid: Some("wasmcloud:fakepay".to_owned()),
                targets: Some(vec![
                    TargetEntry {
                        key: "x86_64-linux".to_owned(),
                        triple: Some("x86_64-unknown-linux-musl".to_owned()),
                    },
                    TargetEntry {
                        key: "aarch64-macos".to_owned(),
                        triple: None,
                    },
                ]),
                profile: Some("dev".to_owned()),
                output_dir: Some("dist".to_owned()),
                publish: ImportedPublish {
                    registry: Some("ghcr.io".to_owned()),
                    repository_prefix: Some("acme".to_owned()),
                    tag: Some("edge".to_owned()),
                    insecure: true,
                    credentials: Some("../creds.json".to_owned()),
                    ..ImportedPublish::default()
                },
                notes: vec!["a note".to_owned()],
                ..Imported::default()
            },
        };
        let (text, notes) =
            apply_import(&render(&values()), &source, Path::new("/p"), &values()).unwrap();
        assert!(
            text.contains("capid = \"wasmcloud:fakepay\"  # from wasmcloud.toml"),
            "{text}"
        );
        let m = manifest::parse(&text, Path::new("/p/par.toml"))
            .unwrap_or_else(|e| panic!("{}\n{text}", Error::from(e).render()));
        assert_eq!(m.provider.version.as_deref(), Some("1.2.3"));
        assert_eq!(m.provider.revision, Some(7));
        assert_eq!(m.provider.capid.as_deref(), Some("wasmcloud:fakepay"));
        let targets: Vec<(&str, &str)> = m
            .targets
            .iter()
            .map(|t| (t.label.as_str(), t.triple.as_str()))
            .collect();
        assert_eq!(
            targets,
            [
                ("x86_64-linux", "x86_64-unknown-linux-musl"),
                ("aarch64-macos", "aarch64-apple-darwin")
            ]
        );
        assert_eq!(m.build.profile, "dev");
        assert_eq!(m.output.path, Path::new("/p/dist/fakepay-provider.par.gz"));
        assert_eq!(m.publish.registry.as_deref(), Some("ghcr.io"));
        assert_eq!(
            m.publish.repository.as_deref(),
            Some("acme/fakepay-provider")
        );
        assert_eq!(m.publish.tags, ["edge"]);
        assert!(m.publish.insecure);
        assert_eq!(
            m.publish.credentials,
            Some(PathBuf::from("/p/../creds.json"))
        );
        assert_eq!(notes[0], "a note");
        assert!(notes[1].contains("check it"), "{notes:?}");
    }

    #[test]
    fn relative_paths() {
        for (path, base, want) in [
            ("/a/b/c", "/a", "b/c"),
            ("/a/x", "/a/b", "../x"),
            ("/a/./b/../c", "/a", "c"),
            ("/a", "/a", "."),
        ] {
            assert_eq!(relative(Path::new(path), Path::new(base)), Path::new(want));
        }
    }

    #[test]
    fn vendors() {
        for (authors, vendor) in [
            (vec![], "unknown"),
            (vec!["Jane Doe <jane@example.com>".to_owned()], "Jane Doe"),
            (vec!["<x@y>".to_owned()], "unknown"),
            (vec!["wasmCloud".to_owned(), "b".to_owned()], "wasmCloud"),
        ] {
            assert_eq!(vendor_from_authors(&authors), vendor);
        }
    }
}
