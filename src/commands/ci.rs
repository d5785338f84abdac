//! `parbuild ci github [--split] [--macos-runner] [--force]`: writes a GitHub Actions
//! workflow from the templates embedded from `templates/github/`, filled from `par.toml`
//! (its targets and output path). The commands in the templates are exactly those the
//! integration tests run, so a generated workflow does what the tests prove.

use std::fmt::Write as _;
use std::path::Path;

use crate::cli::{CiCommand, CiGithubArgs};
use crate::error::{Error, Result};
use crate::manifest::Manifest;

use super::Context;

/// One job builds every target, signs and packs.
pub const GITHUB_TEMPLATE: &str = include_str!("../../templates/github/par.yml");
/// One build job per target writing parts, then one assemble job with the keys.
pub const GITHUB_SPLIT_TEMPLATE: &str = include_str!("../../templates/github/par-split.yml");
/// Where the workflow goes, relative to the directory of `par.toml`.
pub const GITHUB_WORKFLOW: &str = ".github/workflows/par.yml";

/// The runner of Linux jobs (and of macOS targets cross-built with zig).
const LINUX_RUNNER: &str = "ubuntu-latest";
/// The native macOS runner (`--macos-runner`).
const MACOS_RUNNER: &str = "macos-latest";

/// Runs `parbuild ci …`.
pub fn run(cmd: &CiCommand, ctx: &Context) -> Result<()> {
    match cmd {
        CiCommand::Github(args) => github(args, ctx),
        // Placeholder until the gitlab generator lands (being written in parallel).
        CiCommand::Gitlab(_) => Err(Error::input("`parbuild ci gitlab` is not built yet", None)),
    }
}

fn github(args: &CiGithubArgs, ctx: &Context) -> Result<()> {
    let manifest = crate::manifest::load(&ctx.manifest_path())?;
    let dest = manifest.dir.join(GITHUB_WORKFLOW);
    if dest.exists() && !args.force {
        return Err(Error::input(
            format!("`{}` already exists", dest.display()),
            Some("pass `--force` to overwrite it".to_owned()),
        ));
    }
    let text = render_github(&manifest, args.split, args.macos_runner);
    if args.macos_runner && !manifest.targets.iter().any(|t| is_macos(&t.triple)) {
        ctx.reporter
            .warn("`--macos-runner`: par.toml has no macOS target, so no job runs on macOS");
    }
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            action: "cannot create",
            path: dir.to_owned(),
            source,
        })?;
    }
    std::fs::write(&dest, text).map_err(|source| Error::Io {
        action: "cannot write",
        path: dest.clone(),
        source,
    })?;
    ctx.reporter.out(format!(
        "wrote {} ({}); add the secrets WASH_ISSUER_KEY and WASH_SUBJECT_KEY to the repository",
        dest.display(),
        if args.split {
            "one build job per target writing parts, then one assemble job that signs"
        } else {
            "one job builds, signs and packs every target"
        }
    ));
    Ok(())
}

fn is_macos(triple: &str) -> bool {
    triple.contains("-apple-")
}

/// The workflow text for `manifest`.
pub fn render_github(manifest: &Manifest, split: bool, macos_runner: bool) -> String {
    let labels: Vec<String> = manifest
        .targets
        .iter()
        .map(|t| t.label.to_string())
        .collect();
    let mut triples: Vec<&str> = manifest.targets.iter().map(|t| t.triple.as_str()).collect();
    triples.dedup();
    let output = manifest
        .output
        .path
        .strip_prefix(&manifest.dir)
        .unwrap_or(&manifest.output.path);
    let mut matrix = String::new();
    for t in &manifest.targets {
        let os = if macos_runner && is_macos(&t.triple) {
            MACOS_RUNNER
        } else {
            LINUX_RUNNER
        };
        let _ = writeln!(
            matrix,
            "          - target: {}\n            triple: {}\n            os: {os}",
            t.label, t.triple
        );
    }
    let template = if split {
        GITHUB_SPLIT_TEMPLATE
    } else {
        GITHUB_TEMPLATE
    };
    template
        .replace("{{version}}", env!("CARGO_PKG_VERSION"))
        .replace("{{targets}}", &labels.join(", "))
        .replace("{{triples}}", &triples.join(" "))
        .replace("{{output}}", &shell_word(output))
        .replace("{{matrix}}\n", &matrix)
}

/// `path` as one shell word (quoted unless it needs no quoting).
fn shell_word(path: &Path) -> String {
    let text = path.to_string_lossy();
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._/-+@%".contains(&b))
    {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_known() {
        for t in [GITHUB_TEMPLATE, GITHUB_SPLIT_TEMPLATE] {
            let rest = t
                .replace("{{version}}", "")
                .replace("{{targets}}", "")
                .replace("{{triples}}", "")
                .replace("{{output}}", "")
                .replace("{{matrix}}", "")
                .replace("${{", "");
            assert!(!rest.contains("{{"), "an unknown placeholder");
        }
    }

    #[test]
    fn paths_are_shell_words() {
        assert_eq!(shell_word(Path::new("build/a.par.gz")), "build/a.par.gz");
        assert_eq!(shell_word(Path::new("my dir/it's")), r"'my dir/it'\''s'");
    }
}
