//! `parbuild init`: write a commented `par.toml` for the cargo package in this directory,
//! filled from `cargo metadata`, from `templates/par.toml` (which doubles as the schema
//! reference, so a test keeps the two in step).

use std::path::Path;

use crate::cli::InitArgs;
use crate::error::{Error, Result};
use crate::manifest;
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
    let meta = metadata::metadata(dir, &ctx.env)?;
    let package = metadata::select_package(&meta, dir, None)?;
    let candidates = metadata::candidates(package);
    let artifact = match metadata::pick_artifact(package.name.as_str(), &candidates, None) {
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
    };
    let values = InitValues {
        name: package.name.to_string(),
        vendor: vendor_from_authors(&package.authors),
        version: package.version.to_string(),
        package: package.name.to_string(),
        artifact: artifact.selector(),
    };
    let text = render(&values);
    write(&path, &text)?;
    // The file must load as written; if it does not, the template is broken.
    if let Err(e) = manifest::load(&path) {
        return Err(Error::Internal {
            message: format!("`parbuild init` wrote a par.toml that does not load: {e}"),
        });
    }
    ctx.reporter.status(format!(
        "wrote {} for package `{}` ({}) with targets x86_64-linux, aarch64-linux, armv7-linux, x86_64-macos, aarch64-macos",
        path.display(),
        values.package,
        values.artifact
    ));
    ctx.reporter
        .note("next: `parbuild doctor` checks the tools each target needs, `parbuild plan` shows the build");
    Ok(())
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

/// Writes `text` to `path` through a temporary file, so a failure leaves no half file.
fn write(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("toml.tmp");
    let io = |action, path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    };
    std::fs::write(&tmp, text).map_err(io("cannot write", &tmp))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io("cannot write", path)(e)
    })
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
