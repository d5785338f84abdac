//! `parbuild ci github [--split] [--macos-runner] [--force]` and
//! `parbuild ci gitlab [--split] [--force]`: write a GitHub Actions workflow or a GitLab CI
//! pipeline from the templates embedded from `templates/github/` and `templates/gitlab/`,
//! filled from `par.toml` (its targets, output path and `[publish]`). The commands in the
//! templates are exactly those the integration tests run, so a generated pipeline does
//! what the tests prove. Each ends, on a tag only, with `parbuild push` to an OCI
//! registry: `[publish]`, else the CI service's own registry.
//!
//! One file for both forges because they share `generate`, `Install`, `Push` and the words
//! taken from `par.toml`, and differ only in their templates and render functions.

use std::fmt::Write as _;
use std::path::Path;

use crate::archive::staged::Staged;
use crate::cli::{CiCommand, CiGithubArgs, CiGitlabArgs, CiInstallArgs};
use crate::error::{Error, Result};
use crate::manifest::Manifest;

use super::Context;

/// One job builds every target, signs and packs.
pub const GITHUB_TEMPLATE: &str = include_str!("../../templates/github/par.yml");
/// One build job per target writing parts, then one assemble job with the keys.
pub const GITHUB_SPLIT_TEMPLATE: &str = include_str!("../../templates/github/par-split.yml");
/// Where the workflow goes, relative to the directory of `par.toml`.
pub const GITHUB_WORKFLOW: &str = ".github/workflows/par.yml";

/// One job builds every target, signs and packs; a push job on tags.
pub const GITLAB_TEMPLATE: &str = include_str!("../../templates/gitlab/par.yml");
/// One build job per target writing parts, one assemble job with the keys, a push job.
pub const GITLAB_SPLIT_TEMPLATE: &str = include_str!("../../templates/gitlab/par-split.yml");
/// Where the pipeline goes, relative to the directory of `par.toml`.
pub const GITLAB_PIPELINE: &str = ".gitlab-ci.yml";

/// The runner of Linux jobs (and of macOS targets cross-built with zig).
const LINUX_RUNNER: &str = "ubuntu-latest";
/// The native macOS runner (`--macos-runner`).
const MACOS_RUNNER: &str = "macos-latest";

/// GitHub's registry: the workflow's own token pushes there.
const GHCR: &str = "ghcr.io";
/// GitLab.com's registry: the job's own token pushes there.
const GITLAB_REGISTRY: &str = "registry.gitlab.com";
/// The GitLab environment the split pipeline's signing keys are scoped to.
pub const GITLAB_KEYS_ENVIRONMENT: &str = "provider-release";
/// The GitLab environment another registry's credentials are scoped to.
pub const GITLAB_REGISTRY_ENVIRONMENT: &str = "provider-publish";

/// Runs `parbuild ci …`.
pub fn run(cmd: &CiCommand, ctx: &Context) -> Result<()> {
    match cmd {
        CiCommand::Github(args) => github(args, ctx),
        CiCommand::Gitlab(args) => gitlab(args, ctx),
    }
}

/// What both generators do first: load `par.toml`, refuse to overwrite `file` (beside it)
/// without `--force`, resolve where parbuild is installed from, render and write.
fn generate(
    ctx: &Context,
    file: &str,
    force: bool,
    install: &CiInstallArgs,
    render: impl FnOnce(&Manifest, &Install) -> String,
) -> Result<(Manifest, std::path::PathBuf)> {
    let manifest = crate::manifest::load(&ctx.manifest_path())?;
    let dest = manifest.dir.join(file);
    refuse_existing(&dest, force)?;
    let install = Install::resolve(install, ctx)?;
    let text = render(&manifest, &install);
    write_pipeline(&dest, &text, force)?;
    Ok((manifest, dest))
}

/// The pipeline's shape, for the line saying what was written.
fn shape(split: bool) -> &'static str {
    if split {
        "one build job per target writing parts, then one assemble job that signs"
    } else {
        "one job builds, signs and packs every target"
    }
}

fn github(args: &CiGithubArgs, ctx: &Context) -> Result<()> {
    let (manifest, dest) = generate(ctx, GITHUB_WORKFLOW, args.force, &args.install, |m, i| {
        render_github(m, args.split, args.macos_runner, i)
    })?;
    if args.macos_runner && !manifest.targets.iter().any(|t| is_macos(&t.triple)) {
        ctx.reporter
            .warn("`--macos-runner`: par.toml has no macOS target, so no job runs on macOS");
    }
    let push = Push::of(&manifest, GHCR);
    let secrets = match push.publish {
        Some(registry) if !push.own => format!(
            "WASH_ISSUER_KEY, WASH_SUBJECT_KEY, and WASH_REG_USER and WASH_REG_PASSWORD (for `{registry}`)"
        ),
        _ => "WASH_ISSUER_KEY and WASH_SUBJECT_KEY".to_owned(),
    };
    ctx.reporter.out(format!(
        "wrote {} ({}; a tag push then pushes it); add the secrets {secrets} to the repository",
        dest.display(),
        shape(args.split)
    ));
    if push.publish.is_none() {
        ctx.reporter.note(format!(
            "{}on a tag push the workflow pushes the archive to ghcr.io/<owner>/<repo>, tagged with the git tag less a leading `v`; to push elsewhere, set `[publish] registry` and `repository` in par.toml, then regenerate with `parbuild ci github{} --force`",
            push.partial,
            if args.split { " --split" } else { "" }
        ));
    }
    Ok(())
}

fn gitlab(args: &CiGitlabArgs, ctx: &Context) -> Result<()> {
    let (manifest, dest) = generate(ctx, GITLAB_PIPELINE, args.force, &args.install, |m, i| {
        render_gitlab(m, args.split, i)
    })?;
    let push = Push::of(&manifest, GITLAB_REGISTRY);
    let keys = if args.split {
        format!(
            "WASH_ISSUER_KEY and WASH_SUBJECT_KEY scoped to the environment `{GITLAB_KEYS_ENVIRONMENT}`"
        )
    } else {
        "WASH_ISSUER_KEY and WASH_SUBJECT_KEY".to_owned()
    };
    let registry = match push.publish {
        Some(registry) if !push.own => format!(
            ", and WASH_REG_USER and WASH_REG_PASSWORD (for `{registry}`) scoped to the environment `{GITLAB_REGISTRY_ENVIRONMENT}`"
        ),
        _ => String::new(),
    };
    ctx.reporter.out(format!(
        "wrote {} ({}; a tag pipeline then pushes it); add the CI/CD variables {keys}{registry}, masked and protected",
        dest.display(),
        shape(args.split)
    ));
    if push.publish.is_none() {
        ctx.reporter.note(format!(
            "{}in a tag pipeline the push job pushes the archive to the project's own container registry ($CI_REGISTRY_IMAGE), tagged with the git tag less a leading `v`; to push elsewhere, set `[publish] registry` and `repository` in par.toml, then regenerate with `parbuild ci gitlab{} --force`",
            push.partial,
            if args.split { " --split" } else { "" }
        ));
    }
    Ok(())
}

/// Where runners install parbuild from: its git repository (parbuild is not on crates.io),
/// optionally pinned to a revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Install {
    /// The repository URL (or path) `cargo install --git` takes.
    pub git: String,
    /// A commit, tag or branch; `None`: the default branch.
    pub rev: Option<String>,
}

impl Install {
    /// `--parbuild-git`, else `$PARBUILD_GIT`, else the repository parbuild was built from
    /// (Cargo.toml's `repository`); an error when none is known or a value could break
    /// the YAML or the shell line it goes into.
    pub fn resolve(args: &CiInstallArgs, ctx: &Context) -> Result<Self> {
        let git = args
            .parbuild_git
            .clone()
            .or_else(|| ctx.env.non_empty("PARBUILD_GIT").map(str::to_owned))
            .or_else(|| Some(env!("CARGO_PKG_REPOSITORY").to_owned()).filter(|r| !r.is_empty()))
            .ok_or_else(|| {
                Error::input(
                    "the pipeline installs parbuild from its git repository, and none is known",
                    Some(
                        "pass `--parbuild-git URL` (or set `PARBUILD_GIT`): runners then run `cargo install --locked --git URL parbuild`, as parbuild is not on crates.io"
                            .to_owned(),
                    ),
                )
            })?;
        let safe = |v: &str| {
            !v.is_empty()
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&()*+,;=%".contains(&b))
                && !v.contains('\'')
        };
        if !safe(&git) {
            return Err(Error::input(
                format!("`--parbuild-git {git}` is not a URL the pipeline can carry"),
                Some("give a git URL such as `https://github.com/OWNER/parbuild` (no spaces or quotes)".to_owned()),
            ));
        }
        let rev = args.parbuild_rev.clone();
        if let Some(r) = &rev
            && (!safe(r) || r.contains(['$', '&', ';', '(', ')', '*', '?', '[', ']', '#', '!']))
        {
            return Err(Error::input(
                format!("`--parbuild-rev {r}` is not a commit, tag or branch name"),
                None,
            ));
        }
        Ok(Self { git, rev })
    }

    /// The install command of the pipelines.
    pub fn command(&self) -> String {
        match &self.rev {
            Some(rev) => {
                format!("cargo install --locked --git \"$PARBUILD_GIT\" --rev {rev} parbuild")
            }
            None => "cargo install --locked --git \"$PARBUILD_GIT\" parbuild".to_owned(),
        }
    }
}

/// Exit 2 when `dest` exists and `--force` was not given.
fn refuse_existing(dest: &Path, force: bool) -> Result<()> {
    if dest.exists() && !force {
        return Err(exists(dest));
    }
    Ok(())
}

fn exists(dest: &Path) -> Error {
    Error::input(
        format!("`{}` already exists", dest.display()),
        Some("pass `--force` to overwrite it".to_owned()),
    )
}

/// Writes `text` to `dest` through a temporary file beside it, so a failure never leaves
/// half a file; without `force` a `dest` that appeared meanwhile is kept too.
fn write_pipeline(dest: &Path, text: &str, force: bool) -> Result<()> {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        action: "cannot create",
        path: dir.to_owned(),
        source,
    })?;
    let write_err = |source| Error::Io {
        action: "cannot write",
        path: dest.to_owned(),
        source,
    };
    let (temp, _cleaned) = Staged::beside(dest).map_err(write_err)?;
    let mut file = temp.file();
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(write_err)?;
    file.sync_all().map_err(write_err)?;
    // Staging files are 0600; a pipeline is not a secret.
    #[cfg(unix)]
    temp.set_mode(0o644).map_err(write_err)?;
    if force {
        temp.persist(dest).map_err(write_err)?;
    } else {
        temp.persist_noclobber(dest).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                exists(dest)
            } else {
                write_err(e)
            }
        })?;
    }
    Ok(())
}

fn is_macos(triple: &str) -> bool {
    triple.contains("-apple-")
}

/// Where a generated pipeline pushes the archive on a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Push<'a> {
    /// `[publish] registry` when `[publish]` names a registry and a repository (then a
    /// bare `parbuild push ARCHIVE` goes there); `None`: the CI service's own registry.
    publish: Option<&'a str>,
    /// `[publish] insecure`.
    insecure: bool,
    /// The registry is the CI service's own: the job's own token pushes there.
    own: bool,
    /// Why `[publish]` is not used although it is there ("" when it is absent or used).
    partial: &'static str,
}

impl<'a> Push<'a> {
    /// The push of `manifest` on a CI service whose own registry is `own_registry`.
    fn of(manifest: &'a Manifest, own_registry: &str) -> Self {
        let p = &manifest.publish;
        match (p.registry.as_deref(), p.repository.as_deref()) {
            (Some(registry), Some(_)) => Self {
                publish: Some(registry),
                insecure: p.insecure,
                own: registry == own_registry,
                partial: "",
            },
            (registry, repository) => Self {
                publish: None,
                insecure: false,
                own: true,
                partial: match (registry, repository) {
                    (Some(_), None) => "par.toml's `[publish]` has no `repository`, so ",
                    (None, Some(_)) => "par.toml's `[publish]` has no `registry`, so ",
                    _ => "",
                },
            },
        }
    }

    /// The push command: `default_ref` is the CI's own registry reference (shell words).
    fn command(&self, output: &str, default_ref: &str) -> String {
        match self.publish {
            Some(_) if self.insecure => format!("parbuild push {output} --insecure"),
            Some(_) => format!("parbuild push {output}"),
            None => format!("parbuild push {output} {default_ref}"),
        }
    }
}

/// `manifest`'s output path relative to its directory, as one shell word.
fn output_word(manifest: &Manifest) -> String {
    let output = manifest
        .output
        .path
        .strip_prefix(&manifest.dir)
        .unwrap_or(&manifest.output.path);
    shell_word(output)
}

/// `manifest`'s target triples, space-separated.
fn triples(manifest: &Manifest) -> String {
    let mut triples: Vec<&str> = manifest.targets.iter().map(|t| t.triple.as_str()).collect();
    triples.dedup();
    triples.join(" ")
}

/// `manifest`'s target labels, comma-separated.
fn labels(manifest: &Manifest) -> String {
    let labels: Vec<String> = manifest
        .targets
        .iter()
        .map(|t| t.label.to_string())
        .collect();
    labels.join(", ")
}

/// The workflow text for `manifest`.
pub fn render_github(
    manifest: &Manifest,
    split: bool,
    macos_runner: bool,
    install: &Install,
) -> String {
    let output = output_word(manifest);
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
    let push = Push::of(manifest, GHCR);
    let (permissions, user, password) = if push.own {
        (
            "    permissions:\n      contents: read\n      packages: write\n",
            "${{ github.actor }}",
            "${{ secrets.GITHUB_TOKEN }}",
        )
    } else {
        (
            "",
            "${{ secrets.WASH_REG_USER }}",
            "${{ secrets.WASH_REG_PASSWORD }}",
        )
    };
    let comment = match push.publish {
        Some(_) => format!(
            "      # To par.toml's `[publish]`: {}, under each of its tags\n      # (default: the provider version).\n",
            publish_reference(manifest)
        ),
        None => "      # To ghcr.io/<owner>/<repo> (lowercased), tagged with the git tag less a leading\n      # `v`. To push elsewhere, set `[publish]` in par.toml and regenerate with `--force`.\n".to_owned(),
    };
    let template = if split {
        GITHUB_SPLIT_TEMPLATE
    } else {
        GITHUB_TEMPLATE
    };
    template
        .replace("{{git}}", &install.git)
        .replace("{{install}}", &install.command())
        .replace("{{targets}}", &labels(manifest))
        .replace("{{triples}}", &triples(manifest))
        .replace(
            "{{push}}",
            &push.command(
                &output,
                r#""ghcr.io/${GITHUB_REPOSITORY,,}:${GITHUB_REF_NAME#v}""#,
            ),
        )
        .replace("{{output}}", &output)
        .replace("{{matrix}}\n", &matrix)
        .replace("{{permissions}}\n", permissions)
        .replace("{{push_comment}}\n", &comment)
        .replace("{{registry_user}}", user)
        .replace("{{registry_password}}", password)
}

/// The pipeline text for `manifest`.
pub fn render_gitlab(manifest: &Manifest, split: bool, install: &Install) -> String {
    let output = output_word(manifest);
    let mut matrix = String::new();
    for t in &manifest.targets {
        let _ = writeln!(
            matrix,
            "      - TARGET: {}\n        TRIPLE: {}",
            t.label, t.triple
        );
    }
    let push = Push::of(manifest, GITLAB_REGISTRY);
    let help = match push.publish {
        None => "#\n# Registry: a tag pipeline pushes the archive to this project's container registry\n# ($CI_REGISTRY_IMAGE), tagged with the git tag less a leading `v`, with the job's own\n# token. To push elsewhere, set `[publish]` in par.toml and regenerate with `--force`.\n".to_owned(),
        Some(_) if push.own => format!(
            "#\n# Registry: a tag pipeline pushes the archive to par.toml's `[publish]`,\n# {}, under each of its tags (default: the provider version), with the\n# job's own token.\n",
            publish_reference(manifest)
        ),
        Some(_) => format!(
            "#\n# Registry: a tag pipeline pushes the archive to par.toml's `[publish]`,\n# {}, under each of its tags (default: the provider version). Add\n# WASH_REG_USER and WASH_REG_PASSWORD under Settings > CI/CD > Variables scoped to the\n# environment `{GITLAB_REGISTRY_ENVIRONMENT}`, masked and protected: only the push job declares it.\n",
            publish_reference(manifest)
        ),
    };
    let credentials = if push.own {
        "  variables:\n    # parbuild reads WASH_REG_*: GitLab's registry token of this job, mapped here alone.\n    WASH_REG_USER: $CI_REGISTRY_USER\n    WASH_REG_PASSWORD: $CI_REGISTRY_PASSWORD\n".to_owned()
    } else {
        format!(
            "  # WASH_REG_USER and WASH_REG_PASSWORD: CI/CD variables scoped to this environment.\n  environment:\n    name: {GITLAB_REGISTRY_ENVIRONMENT}\n"
        )
    };
    let template = if split {
        GITLAB_SPLIT_TEMPLATE
    } else {
        GITLAB_TEMPLATE
    };
    template
        .replace("{{git}}", &install.git)
        .replace("{{install}}", &install.command())
        .replace("{{targets}}", &labels(manifest))
        .replace("{{triples}}", &triples(manifest))
        .replace(
            "{{push}}",
            &push.command(&output, r#""$CI_REGISTRY_IMAGE:${CI_COMMIT_TAG#v}""#),
        )
        .replace("{{output}}", &output)
        .replace("{{matrix}}\n", &matrix)
        .replace("{{registry_help}}\n", &help)
        .replace("{{push_credentials}}\n", &credentials)
}

/// `registry/repository` of `[publish]` (both set).
fn publish_reference(manifest: &Manifest) -> String {
    let p = &manifest.publish;
    format!(
        "{}/{}",
        p.registry.as_deref().unwrap_or_default(),
        p.repository.as_deref().unwrap_or_default()
    )
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
        for t in [
            GITHUB_TEMPLATE,
            GITHUB_SPLIT_TEMPLATE,
            GITLAB_TEMPLATE,
            GITLAB_SPLIT_TEMPLATE,
        ] {
            let rest = t
                .replace("{{git}}", "")
                .replace("{{install}}", "")
                .replace("{{targets}}", "")
                .replace("{{triples}}", "")
                .replace("{{output}}", "")
                .replace("{{matrix}}", "")
                .replace("{{permissions}}", "")
                .replace("{{push_comment}}", "")
                .replace("{{registry_user}}", "")
                .replace("{{registry_password}}", "")
                .replace("{{push}}", "")
                .replace("{{registry_help}}", "")
                .replace("{{push_credentials}}", "")
                .replace("${{", "");
            assert!(!rest.contains("{{"), "an unknown placeholder");
        }
    }

    fn install() -> Install {
        Install {
            git: "https://example.com/parbuild.git".to_owned(),
            rev: None,
        }
    }

    #[test]
    fn the_install_line_pins_a_revision_when_asked() {
        let pinned = Install {
            rev: Some("v1.2.0".to_owned()),
            ..install()
        };
        assert_eq!(
            pinned.command(),
            "cargo install --locked --git \"$PARBUILD_GIT\" --rev v1.2.0 parbuild"
        );
        let text = render_github(&manifest(""), false, false, &pinned);
        assert!(text.contains("PARBUILD_GIT: \"https://example.com/parbuild.git\""));
        assert!(text.contains("--rev v1.2.0 parbuild"));
    }

    fn manifest(publish: &str) -> Manifest {
        let text = format!(
            "[provider]\nname = \"P\"\nvendor = \"v\"\n\n[targets]\nx86_64-linux = {{}}\n\n[output]\npath = \"out/p.par.gz\"\n{publish}"
        );
        crate::manifest::parse(&text, Path::new("/p/par.toml")).unwrap()
    }

    #[test]
    fn the_push_follows_publish_else_the_ci_registry() {
        let none = manifest("");
        let push = Push::of(&none, GHCR);
        assert_eq!((push.publish, push.own, push.partial), (None, true, ""));
        assert_eq!(
            push.command("a.par.gz", "REF"),
            "parbuild push a.par.gz REF"
        );

        let half = manifest("[publish]\nregistry = \"ghcr.io\"\n");
        let push = Push::of(&half, GHCR);
        assert_eq!(push.publish, None);
        assert!(push.partial.contains("no `repository`"));

        let ghcr = manifest("[publish]\nregistry = \"ghcr.io\"\nrepository = \"acme/p\"\n");
        let push = Push::of(&ghcr, GHCR);
        assert_eq!((push.publish, push.own), (Some("ghcr.io"), true));
        assert_eq!(push.command("a.par.gz", "REF"), "parbuild push a.par.gz");
        assert!(!Push::of(&ghcr, GITLAB_REGISTRY).own);

        let other = manifest(
            "[publish]\nregistry = \"reg.example:5000\"\nrepository = \"acme/p\"\ninsecure = true\n",
        );
        let push = Push::of(&other, GHCR);
        assert_eq!((push.publish, push.own), (Some("reg.example:5000"), false));
        assert_eq!(
            push.command("a.par.gz", "REF"),
            "parbuild push a.par.gz --insecure"
        );
    }

    #[test]
    fn credentials_follow_the_registry() {
        let none = manifest("");
        let gh = render_github(&none, false, false, &install());
        assert!(gh.contains("packages: write"));
        assert!(gh.contains("WASH_REG_PASSWORD: ${{ secrets.GITHUB_TOKEN }}"));
        let gl = render_gitlab(&none, true, &install());
        assert!(gl.contains("WASH_REG_PASSWORD: $CI_REGISTRY_PASSWORD"));
        assert!(!gl.contains(GITLAB_REGISTRY_ENVIRONMENT));

        let other = manifest("[publish]\nregistry = \"reg.example\"\nrepository = \"acme/p\"\n");
        let gh = render_github(&other, true, false, &install());
        assert!(!gh.contains("packages: write"));
        assert!(!gh.contains("GITHUB_TOKEN"));
        assert!(gh.contains("WASH_REG_PASSWORD: ${{ secrets.WASH_REG_PASSWORD }}"));
        let gl = render_gitlab(&other, false, &install());
        assert!(!gl.contains("CI_REGISTRY_PASSWORD"));
        assert!(gl.contains(&format!("name: {GITLAB_REGISTRY_ENVIRONMENT}")));
    }

    #[test]
    fn paths_are_shell_words() {
        assert_eq!(shell_word(Path::new("build/a.par.gz")), "build/a.par.gz");
        assert_eq!(shell_word(Path::new("my dir/it's")), r"'my dir/it'\''s'");
    }
}
