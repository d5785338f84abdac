//! What `push`, `pull`, `build --push` and `inspect`/`verify` of a reference share: the
//! connection to a registry (flags, `[publish]`, wash's variables, podman's and docker's
//! credential files and helpers), the references a push goes to, an archive's OCI
//! annotations, and fetching a reference into a verified temporary file.
//!
//! One file because connecting, naming references, annotating, pushing and fetching are the
//! steps of one round trip to a registry, and each registry command uses most of them.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::archive::{self, Inspection, ReadOptions, VerifyOptions};
use crate::cli::{PublishArgs, RegistryArgs};
use crate::error::{Error, Result};
use crate::manifest::PublishSettings;
use crate::process::Cmd;
use crate::registry::{self, Connection, Pulled, Pushed, Ref, Secret, auth};

use super::Context;

/// The connection to `registry`, with credentials from the first source that has some,
/// and a description of that source (never the secret) for errors and `-v`.
pub fn connection(
    args: &RegistryArgs,
    publish: &PublishSettings,
    registry: &str,
    ctx: &Context,
) -> Result<(Connection, String)> {
    let env = &ctx.env;
    let password = if args.password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|source| Error::Io {
                action: "cannot read the password from",
                path: PathBuf::from("<stdin>"),
                source,
            })?;
        let text = text.trim_end_matches(['\n', '\r']).to_owned();
        if text.is_empty() {
            return Err(Error::input(
                "`--password-stdin`: stdin held no password",
                Some("pipe it in, e.g. `printf %s \"$TOKEN\" | parbuild push … --user NAME --password-stdin`".to_owned()),
            ));
        }
        Some(Secret::new(text))
    } else {
        None
    };
    let env_password = env.non_empty("WASH_REG_PASSWORD").map(Secret::new);
    let same_registry = publish.registry.as_deref() == Some(registry);
    let mut inputs = auth::Inputs {
        user: args
            .user
            .clone()
            .map(|u| (u, password.clone().or_else(|| env_password.clone()))),
        wash_env: (
            env.non_empty("WASH_REG_USER").map(str::to_owned),
            env_password,
        ),
        wash_file: publish.credentials.clone().filter(|_| same_registry),
        files: Vec::new(),
    };
    if let Some(f) = env.non_empty("REGISTRY_AUTH_FILE") {
        inputs.files.push(ctx.path(Path::new(f)));
    }
    if let Some(dir) = env.non_empty("XDG_RUNTIME_DIR") {
        inputs
            .files
            .push(Path::new(dir).join("containers/auth.json"));
    }
    match (env.non_empty("DOCKER_CONFIG"), env.home()) {
        (Some(dir), _) => inputs
            .files
            .push(ctx.path(Path::new(dir)).join("config.json")),
        (None, Some(home)) => inputs.files.push(home.join(".docker/config.json")),
        (None, None) => {}
    }
    let cwd = env.cwd().to_owned();
    let helper = |name: &str, server: &str| -> std::result::Result<Secret, String> {
        let cmd = Cmd::new(format!("docker-credential-{name}"), &cwd).arg("get");
        match cmd.output_with_stdin(Some(server.as_bytes())) {
            Ok(out) => String::from_utf8(out.stdout)
                .map(Secret::new)
                .map_err(|_| "its answer is not UTF-8".to_owned()),
            Err(e) => Err(e.to_string()),
        }
    };
    let (credentials, source) =
        auth::resolve(registry, &inputs, &helper).map_err(registry::RegistryError::from)?;
    ctx.reporter
        .verbose(format!("registry `{registry}`: credentials from {source}"));
    Ok((
        Connection {
            insecure: args.insecure || (same_registry && publish.insecure),
            ca_file: args.ca_file.as_ref().map(|p| ctx.path(p)),
            credentials: Some(credentials),
        },
        source.to_string(),
    ))
}

/// The references a push goes to: `reference` if given, else `[publish]` with each of
/// its tags (default: the provider version). `latest` is refused unless allowed.
pub fn references(
    reference: Option<&str>,
    publish: &PublishSettings,
    version: Option<&str>,
    allow_latest: bool,
) -> Result<Vec<Ref>> {
    let refs = match reference.filter(|r| !r.trim().is_empty()) {
        Some(text) => vec![Ref::parse(text)?],
        None => {
            let (Some(registry), Some(repository)) = (&publish.registry, &publish.repository)
            else {
                return Err(Error::input(
                    "no registry reference: give one (`registry/repository:tag`) or set `[publish] registry` and `repository` in par.toml",
                    Some("e.g. `parbuild push build/x.par.gz ghcr.io/acme/x:1.0.0`, or in par.toml:\n  [publish]\n  registry = \"ghcr.io\"\n  repository = \"acme/x\"".to_owned()),
                ));
            };
            let tags: Vec<String> = if publish.tags.is_empty() {
                match version {
                    Some(v) => vec![tag_of_version(v)],
                    None => {
                        return Err(Error::input(
                            "`[publish]` lists no `tags` and the archive has no version to tag it with",
                            Some(
                                "set `[publish] tags = [\"1.0.0\"]`, or `[provider] version`"
                                    .to_owned(),
                            ),
                        ));
                    }
                }
            } else {
                publish.tags.clone()
            };
            tags.iter()
                .map(|t| Ref::from_parts(registry, repository, t))
                .collect::<std::result::Result<_, _>>()?
        }
    };
    if !allow_latest && let Some(r) = refs.iter().find(|r| r.is_latest()) {
        return Err(registry::RegistryError::Latest {
            reference: r.to_string(),
        }
        .into());
    }
    Ok(refs)
}

/// A version as a tag: `+` (semver build metadata) is not allowed in tags; `_` is the
/// usual stand-in (as Helm and wash do).
fn tag_of_version(version: &str) -> String {
    version.replace('+', "_")
}

/// The standard OCI annotations of an archive, from its claims and the git checkout it
/// was built from. Deterministic: `created` is `SOURCE_DATE_EPOCH`, else the claims'
/// issue time, so pushing the same archive twice gives the same manifest digest.
pub fn annotations(i: &Inspection, ctx: &Context) -> Result<BTreeMap<String, String>> {
    let created = match ctx.env.source_date_epoch() {
        Some(Ok(s)) => s,
        Some(Err(raw)) => {
            return Err(Error::input(
                format!("`SOURCE_DATE_EPOCH` is `{raw}`, not a number of seconds since 1970"),
                None,
            ));
        }
        None => i.iat,
    };
    let mut out = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        out.insert(format!("org.opencontainers.image.{k}"), v);
    };
    put("created", rfc3339(created));
    put("title", i.meta.name.clone());
    put("vendor", i.meta.vendor.clone());
    if let Some(v) = &i.meta.version {
        put("version", v.clone());
    }
    let git = |args: &[&str]| {
        Cmd::new("git", ctx.env.cwd())
            .args(args)
            .read_stdout()
            .ok()
            .filter(|s| !s.is_empty())
    };
    if let Some(url) = git(&["remote", "get-url", "origin"]) {
        put("source", strip_userinfo(&url));
    }
    if let Some(rev) = git(&["rev-parse", "HEAD"]) {
        put("revision", rev);
    }
    Ok(out)
}

/// A remote URL without `user:token@` (CI checkouts embed tokens there).
fn strip_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority.rsplit('@').next().unwrap_or(authority);
    format!("{scheme}://{host}{path}")
}

/// Seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Verifies the archive at `path` strictly, then pushes it to `refs`.
pub fn push_file(
    path: &Path,
    refs: &[Ref],
    args: &PublishArgs,
    publish: &PublishSettings,
    ctx: &Context,
) -> Result<Vec<Pushed>> {
    let report = archive::verify_file(path, &verify_options(archive_max(), None, None))?;
    let failed = report.failed_names();
    if !failed.is_empty() {
        return Err(Error::Failed {
            message: format!(
                "refusing to push `{}`: it fails {} (run `parbuild verify` on it)",
                path.display(),
                failed.join(", ")
            ),
        });
    }
    let inspection = archive::read_file(
        path,
        &ReadOptions {
            max_unpacked: archive_max(),
        },
    )?;
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        action: "cannot read",
        path: path.to_owned(),
        source,
    })?;
    let image = registry::image::image(&bytes, &annotations(&inspection, ctx)?);
    let mut pushed = Vec::new();
    // One connection per registry (refs from `[publish]` share one).
    let registries: Vec<&str> = {
        let mut r: Vec<&str> = refs.iter().map(Ref::registry).collect();
        r.dedup();
        r
    };
    for reg in registries {
        let (conn, source) = connection(&args.registry, publish, reg, ctx)?;
        let these: Vec<Ref> = refs
            .iter()
            .filter(|r| r.registry() == reg)
            .cloned()
            .collect();
        ctx.reporter.status(format!(
            "pushing `{}` ({} bytes) to {}",
            path.display(),
            bytes.len(),
            these
                .iter()
                .map(Ref::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        pushed.extend(registry::push(
            &bytes,
            &image,
            &these,
            &conn,
            &source,
            args.force_tag,
        )?);
    }
    Ok(pushed)
}

/// Prints what a push did: one line per reference on stderr, the pinned reference on
/// stdout (what a deploy step wants), or all of it as JSON.
pub fn report_pushed(pushed: &[Pushed], ctx: &Context) {
    for p in pushed {
        if p.unchanged {
            ctx.reporter.status(format!(
                "`{}` already holds this archive ({})",
                p.reference, p.digest
            ));
        } else {
            ctx.reporter
                .status(format!("pushed `{}` ({})", p.reference, p.digest));
        }
    }
    if let Some(p) = pushed.first() {
        ctx.reporter.out(&p.pinned);
    }
}

/// The cap on an archive's size for push and pull: parbuild's default unpacked cap.
fn archive_max() -> u64 {
    crate::cli::DEFAULT_MAX_UNPACKED
}

/// Strict verification options, with optional pinned keys.
pub fn verify_options(max: u64, issuer: Option<String>, subject: Option<String>) -> VerifyOptions {
    VerifyOptions {
        max_unpacked: max,
        issuer,
        subject,
        now: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        ..VerifyOptions::default()
    }
}

/// An archive named on the command line: a file, or a reference pulled into a
/// temporary directory (kept alive by the returned guard) for `inspect` and `verify`.
pub struct Fetched {
    /// The file to read.
    pub path: PathBuf,
    /// What was pulled, for a reference.
    pub pulled: Option<Pulled>,
    _dir: Option<tempfile::TempDir>,
}

/// `file` as is when it exists (or does not look like a reference), else pulled.
pub fn fetch(file: &Path, args: &RegistryArgs, max: u64, ctx: &Context) -> Result<Fetched> {
    let path = ctx.path(file);
    let text = file.to_string_lossy();
    if path.exists() || !registry::looks_like_reference(&text) {
        return Ok(Fetched {
            path,
            pulled: None,
            _dir: None,
        });
    }
    let r = Ref::parse(&text)?;
    let dir = tempfile::tempdir().map_err(|source| Error::Io {
        action: "cannot create a temporary directory for",
        path: PathBuf::from(text.as_ref()),
        source,
    })?;
    let dest = dir.path().join("pulled.par.gz");
    let pulled = download(&r, args, max, &dest, ctx)?;
    Ok(Fetched {
        path: dest,
        pulled: Some(pulled),
        _dir: Some(dir),
    })
}

/// Pulls `r` into the new file `dest`.
pub fn download(
    r: &Ref,
    args: &RegistryArgs,
    max: u64,
    dest: &Path,
    ctx: &Context,
) -> Result<Pulled> {
    let (conn, source) = connection(args, &PublishSettings::default(), r.registry(), ctx)?;
    ctx.reporter.status(format!("pulling `{r}`"));
    let mut file = std::fs::File::create(dest).map_err(|source| Error::Io {
        action: "cannot create",
        path: dest.to_owned(),
        source,
    })?;
    let pulled = registry::pull(r, &conn, &source, max, &mut file, dest)?;
    file.sync_all().map_err(|source| Error::Io {
        action: "cannot write",
        path: dest.to_owned(),
        source,
    })?;
    Ok(pulled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_urls() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(
            strip_userinfo("https://x-access-token:ghs_abc@github.com/acme/p.git"),
            "https://github.com/acme/p.git"
        );
        assert_eq!(
            strip_userinfo("git@github.com:acme/p.git"),
            "git@github.com:acme/p.git"
        );
        assert_eq!(tag_of_version("1.0.0+build.5"), "1.0.0_build.5");
    }

    #[test]
    fn references_from_publish() {
        let publish = PublishSettings {
            registry: Some("localhost:5000".into()),
            repository: Some("acme/fakepay".into()),
            ..PublishSettings::default()
        };
        let refs = references(None, &publish, Some("0.2.0"), false).unwrap();
        assert_eq!(refs[0].to_string(), "localhost:5000/acme/fakepay:0.2.0");
        assert!(references(None, &publish, None, false).is_err());
        assert!(references(None, &PublishSettings::default(), Some("1"), false).is_err());
        assert!(references(Some("localhost:5000/a/b"), &publish, None, false).is_err());
        assert!(references(Some("localhost:5000/a/b:latest"), &publish, None, true).is_ok());
        let tagged = PublishSettings {
            tags: vec!["1".into(), "1.0".into()],
            ..publish
        };
        assert_eq!(
            references(Some(""), &tagged, Some("9"), false)
                .unwrap()
                .len(),
            2
        );
    }
}
