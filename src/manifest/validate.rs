//! Turns the raw [`super::schema`] into a [`super::Manifest`]: labels and triples checked
//! against [`crate::target`], backends and compression parsed, key references checked
//! (never a literal seed), paths resolved against the manifest's directory, and defaults
//! applied once, at the end (`finish`).
//!
//! Every error points at the text that caused it ([`super::diagnostic`]).
//!
//! One file because every table's checks are methods of one `Cx`, which holds the text and
//! path each located error needs and the directory paths are resolved against.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::diagnostic::{Location, Problem, looks_like_seed};
use super::schema::{self, ParToml};
use super::{
    ArtifactSelector, BackendKind, BuildSettings, CacheKind, KeyRef, Manifest, ManifestError,
    OutputSettings, Provider, PublishSettings, SignSettings, TargetSpec,
};
use crate::archive::{Compression, Label};
use crate::target;

/// `[build] profile` when not set.
pub const DEFAULT_PROFILE: &str = "release";
/// `[build] glibc` when not set: the floor zig links Linux gnu targets against.
pub const DEFAULT_GLIBC: &str = "2.17";
/// `MACOSX_DEPLOYMENT_TARGET` when neither the user nor `par.toml` sets one: macOS 11.0,
/// the first release on Apple silicon, so one value serves both Apple CPUs and the two
/// macOS targets share one cargo invocation (rustc's own minimum would be 10.12 for
/// x86_64 and 11.0 for aarch64, which would split them).
pub const DEFAULT_MACOS_DEPLOYMENT_TARGET: &str = "11.0";
/// The directory of the default `[output] path`, relative to `par.toml`.
pub const DEFAULT_OUTPUT_DIR: &str = "build";

/// Parses and checks `text`, the contents of `path`.
pub fn validate(text: &str, path: &Path) -> Result<Manifest, ManifestError> {
    let raw: ParToml =
        toml::from_str(text).map_err(|e| ManifestError::from_toml(text, path, &e))?;
    let cx = Cx {
        text,
        path,
        dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let provider = cx.provider(raw.provider)?;
    let targets = cx.targets(raw.targets)?;
    let build = cx.build(raw.build.unwrap_or_default())?;
    let sign = cx.sign(raw.sign.unwrap_or_default())?;
    let output = cx.output(raw.output.unwrap_or_default())?;
    let macos_stubs = cx.macos_stubs(raw.macos_stubs.unwrap_or_default())?;
    let publish = cx.publish(raw.publish.unwrap_or_default())?;
    let mut manifest = finish(cx, provider, targets, build, sign, output);
    manifest.macos_stubs = macos_stubs;
    manifest.publish = publish;
    Ok(manifest)
}

/// `[build]` checked, nothing defaulted yet.
struct Build {
    profile: Option<String>,
    backend: Option<BackendKind>,
    jobs: Option<usize>,
    features: Option<Vec<String>>,
    no_default_features: Option<bool>,
    glibc: Option<String>,
    macos_deployment_target: Option<String>,
    image: Option<String>,
    cache: Option<CacheKind>,
    cache_url: Option<String>,
    incremental: Option<bool>,
}

/// `[output]` checked, nothing defaulted yet.
struct Output {
    path: Option<PathBuf>,
    compression: Option<Compression>,
}

/// The one place defaults are applied.
fn finish(
    cx: Cx<'_>,
    provider: Provider,
    targets: Vec<TargetSpec>,
    build: Build,
    sign: SignSettings,
    output: Output,
) -> Manifest {
    let compression = output.compression.unwrap_or_default();
    let output_path = output.path.unwrap_or_else(|| {
        let stem = provider
            .package
            .clone()
            .unwrap_or_else(|| slug(&provider.name));
        cx.dir
            .join(DEFAULT_OUTPUT_DIR)
            .join(format!("{stem}.{}", archive_extension(compression)))
    });
    Manifest {
        path: cx.path.to_owned(),
        dir: cx.dir,
        provider,
        targets,
        build: BuildSettings {
            profile: build.profile.unwrap_or_else(|| DEFAULT_PROFILE.to_owned()),
            backend: build.backend.unwrap_or(BackendKind::Auto),
            jobs: build.jobs.unwrap_or(0),
            features: build.features.unwrap_or_default(),
            no_default_features: build.no_default_features.unwrap_or(false),
            glibc: build.glibc.unwrap_or_else(|| DEFAULT_GLIBC.to_owned()),
            macos_deployment_target: build.macos_deployment_target,
            image: build.image,
            cache: build.cache.unwrap_or_default(),
            cache_url: build.cache_url,
            incremental: build.incremental.unwrap_or(false),
        },
        sign,
        output: OutputSettings {
            path: output_path,
            compression,
        },
        macos_stubs: BTreeMap::new(),
        publish: PublishSettings::default(),
    }
}

/// The file extension of an archive: `par.gz`, `par` or `par.zst`.
pub fn archive_extension(compression: Compression) -> &'static str {
    match compression {
        Compression::Gzip => "par.gz",
        Compression::None => "par",
        Compression::Zstd => "par.zst",
    }
}

/// A file-name-safe form of a provider name: `Fake Payments` → `fake-payments`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "provider".to_owned()
    } else {
        out.to_owned()
    }
}

/// The file being checked.
struct Cx<'a> {
    text: &'a str,
    path: &'a Path,
    dir: PathBuf,
}

type Result<T, E = ManifestError> = std::result::Result<T, E>;

impl Cx<'_> {
    fn err(&self, span: Range<usize>, problem: Problem) -> ManifestError {
        ManifestError::Invalid {
            at: Box::new(Location::new(self.path, self.text, Some(span))),
            problem,
        }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }

    /// A string that must not be empty.
    fn non_empty(&self, key: &str, value: Spanned<String>) -> Result<String> {
        if value.get_ref().trim().is_empty() {
            return Err(self.err(
                value.span(),
                Problem::Empty {
                    key: key.to_owned(),
                },
            ));
        }
        Ok(value.into_inner())
    }

    fn path(&self, key: &str, value: Spanned<String>) -> Result<PathBuf> {
        let span = value.span();
        let text = self.non_empty(key, value)?;
        if text.starts_with('~') {
            return Err(self.err(
                span,
                Problem::TildePath {
                    key: key.to_owned(),
                },
            ));
        }
        Ok(self.dir.join(text))
    }

    fn provider(&self, p: schema::ProviderTable) -> Result<Provider> {
        let opt =
            |key: &str, v: Option<Spanned<String>>| v.map(|v| self.non_empty(key, v)).transpose();
        let revision = match p.revision {
            Some(r) if *r.get_ref() < 0 => {
                return Err(self.err(r.span(), Problem::NegativeRevision));
            }
            r => r.map(Spanned::into_inner),
        };
        let artifact = match p.artifact {
            None => None,
            Some(a) => Some(parse_artifact(a.get_ref()).ok_or_else(|| {
                self.err(
                    a.span(),
                    Problem::BadArtifact {
                        value: a.get_ref().clone(),
                    },
                )
            })?),
        };
        Ok(Provider {
            name: self.non_empty("name", p.name)?,
            vendor: self.non_empty("vendor", p.vendor)?,
            version: opt("version", p.version)?,
            revision,
            capid: opt("capid", p.capid)?,
            package: opt("package", p.package)?,
            artifact,
            schema: p.schema.map(|v| self.path("schema", v)).transpose()?,
            world: p.world.map(|v| self.path("world", v)).transpose()?,
        })
    }

    #[allow(clippy::type_complexity)]
    fn targets(
        &self,
        raw: Option<Spanned<BTreeMap<Spanned<String>, Spanned<schema::TargetTable>>>>,
    ) -> Result<Vec<TargetSpec>> {
        let Some(raw) = raw else {
            return Err(ManifestError::Invalid {
                at: Box::new(Location::new(self.path, self.text, None)),
                problem: Problem::NoTargets,
            });
        };
        let table_span = raw.span();
        let mut entries: Vec<_> = raw.into_inner().into_iter().collect();
        if entries.is_empty() {
            return Err(self.err(table_span, Problem::NoTargets));
        }
        // The map is sorted by key; the spans give back the order of the file.
        entries.sort_by_key(|(key, _)| key.span().start);
        let mut seen: BTreeMap<Label, (String, usize)> = BTreeMap::new();
        let mut out = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let (spec, label_span) = self.target(&key, value.into_inner())?;
            if let Some((first_key, first_line)) = seen.get(&spec.label) {
                return Err(self.err(
                    label_span,
                    Problem::DuplicateLabel {
                        label: spec.label.to_string(),
                        first_key: first_key.clone(),
                        first_line: *first_line,
                    },
                ));
            }
            seen.insert(
                spec.label.clone(),
                (spec.key.clone(), self.line_of(key.span().start)),
            );
            out.push(spec);
        }
        Ok(out)
    }

    /// One target, and the span to blame if its label turns out to be taken.
    fn target(
        &self,
        key: &Spanned<String>,
        t: schema::TargetTable,
    ) -> Result<(TargetSpec, Range<usize>)> {
        let k = key.get_ref();
        let (triple, derived) = if let Some(default) = target::triple_for_label(k) {
            let key_label = target::label_for_triple(default);
            match t.triple {
                None => (default.to_owned(), key_label),
                Some(tr) => {
                    let triple = self.triple(&tr)?;
                    match (target::label_for_triple(&triple), &key_label) {
                        (Some(runs_on), Some(key_label))
                            if t.label.is_none() && runs_on != *key_label =>
                        {
                            return Err(self.err(
                                tr.span(),
                                Problem::TripleLabelMismatch {
                                    key: k.clone(),
                                    triple,
                                    runs_on,
                                },
                            ));
                        }
                        _ => (triple, key_label),
                    }
                }
            }
        } else if target::looks_like_triple(k) {
            if let Some(tr) = &t.triple {
                return Err(self.err(tr.span(), Problem::TripleOnTriple { key: k.clone() }));
            }
            let triple = self.triple(key)?;
            let derived = target::label_for_triple(&triple);
            (triple, derived)
        } else {
            return Err(self.err(key.span(), Problem::UnknownTarget { key: k.clone() }));
        };
        let (label, label_span) = match (&t.label, derived) {
            (Some(l), _) => (
                Label::parse(l.get_ref()).map_err(|e| self.err(l.span(), e.into()))?,
                l.span(),
            ),
            (None, Some(d)) => (
                Label::parse(&d).map_err(|e| self.err(key.span(), e.into()))?,
                key.span(),
            ),
            (None, None) => {
                return Err(self.err(key.span(), Problem::NoLabelForTriple { triple }));
            }
        };
        let glibc = match t.glibc {
            None => None,
            Some(g) if !triple.contains("-linux-gnu") => {
                return Err(self.err(g.span(), Problem::GlibcNotGnu { triple }));
            }
            Some(g) => Some(self.version("glibc", g, is_glibc_version, "2.17")?),
        };
        let sdk = match t.sdk {
            None => None,
            Some(s) if !triple.contains("-apple-") => {
                return Err(self.err(s.span(), Problem::SdkNotApple { triple }));
            }
            Some(s) => Some(self.path("sdk", s)?),
        };
        let mut env = BTreeMap::new();
        for (name, value) in t.env.unwrap_or_default() {
            if looks_like_seed(value.get_ref().trim()) {
                return Err(self.err(
                    value.span(),
                    Problem::LiteralSeed {
                        key: format!("env.{name}"),
                    },
                ));
            }
            env.insert(name, value.into_inner());
        }
        let spec = TargetSpec {
            key: k.clone(),
            triple,
            label_explicit: t.label.is_some(),
            label,
            backend: t.backend.map(|b| self.backend(&b)).transpose()?,
            features: t.features.unwrap_or_default(),
            env,
            rustflags: t.rustflags.unwrap_or_default(),
            glibc,
            image: t.image.map(|i| self.non_empty("image", i)).transpose()?,
            sdk,
        };
        Ok((spec, label_span))
    }

    /// A triple written as a key or as `triple = "…"`.
    fn triple(&self, value: &Spanned<String>) -> Result<String> {
        let text = value.get_ref();
        let ok = target::looks_like_triple(text)
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok {
            return Err(self.err(
                value.span(),
                Problem::NotATriple {
                    value: text.clone(),
                },
            ));
        }
        Ok(text.clone())
    }

    fn backend(&self, value: &Spanned<String>) -> Result<BackendKind> {
        parse_backend(value.get_ref()).ok_or_else(|| {
            self.err(
                value.span(),
                Problem::UnknownBackend {
                    value: value.get_ref().clone(),
                },
            )
        })
    }

    fn version(
        &self,
        key: &str,
        value: Spanned<String>,
        valid: fn(&str) -> bool,
        example: &'static str,
    ) -> Result<String> {
        if !valid(value.get_ref()) {
            return Err(self.err(
                value.span(),
                Problem::BadVersion {
                    key: key.to_owned(),
                    value: value.get_ref().clone(),
                    example,
                },
            ));
        }
        Ok(value.into_inner())
    }

    fn build(&self, b: schema::BuildTable) -> Result<Build> {
        let profile = match b.profile {
            Some(p)
                if p.get_ref().is_empty()
                    || !p
                        .get_ref()
                        .bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_') =>
            {
                return Err(self.err(
                    p.span(),
                    Problem::BadProfile {
                        value: p.into_inner(),
                    },
                ));
            }
            p => p.map(Spanned::into_inner),
        };
        let cache = b.cache.as_ref().map(|v| self.cache(v)).transpose()?;
        let cache_url = match b.cache_url {
            Some(url) if cache == Some(CacheKind::None) => {
                return Err(self.err(url.span(), Problem::CacheUrlWithoutCache));
            }
            Some(url) => Some(self.cache_url(url)?),
            None => None,
        };
        Ok(Build {
            profile,
            backend: b.backend.map(|v| self.backend(&v)).transpose()?,
            jobs: b.jobs,
            features: b.features,
            no_default_features: b.no_default_features,
            glibc: b
                .glibc
                .map(|v| self.version("glibc", v, is_glibc_version, "2.17"))
                .transpose()?,
            macos_deployment_target: b
                .macos_deployment_target
                .map(|v| self.version("macos-deployment-target", v, is_macos_version, "11.0"))
                .transpose()?,
            image: b.image.map(|i| self.non_empty("image", i)).transpose()?,
            cache,
            cache_url,
            incremental: b.incremental,
        })
    }

    fn cache(&self, value: &Spanned<String>) -> Result<CacheKind> {
        Ok(match value.get_ref().as_str() {
            "auto" => CacheKind::Auto,
            "sccache" => CacheKind::Sccache,
            "none" => CacheKind::None,
            other => {
                return Err(self.err(
                    value.span(),
                    Problem::UnknownCache {
                        value: other.to_owned(),
                    },
                ));
            }
        })
    }

    /// `redis://host[:port][/db]`, `rediss://…` or `s3://bucket[/prefix]`, with no password:
    /// the URL is shown by `parbuild plan` and handed to every compiler process.
    fn cache_url(&self, value: Spanned<String>) -> Result<String> {
        let bad = |reason: &str| {
            Err(self.err(
                value.span(),
                Problem::BadCacheUrl {
                    value: value.get_ref().clone(),
                    reason: reason.to_owned(),
                },
            ))
        };
        let text = value.get_ref();
        let Some((scheme, rest)) = text.split_once("://") else {
            return bad(
                "expected `redis://HOST[:PORT][/DB]`, `rediss://…` or `s3://BUCKET[/PREFIX]`",
            );
        };
        let authority = rest.split('/').next().unwrap_or("");
        match scheme {
            "redis" | "rediss" | "s3" => {}
            _ => {
                return bad(
                    "sccache's shared backends parbuild can set up are `redis://`, `rediss://` and `s3://`",
                );
            }
        }
        if authority.contains('@') {
            return bad(
                "a password does not belong in par.toml (it is shown by `parbuild plan`): leave `cache-url` out and set sccache's own `SCCACHE_REDIS` (or AWS_* for S3) in the environment",
            );
        }
        if authority.is_empty() || text.chars().any(char::is_whitespace) {
            return bad(if scheme == "s3" {
                "no bucket"
            } else {
                "no host"
            });
        }
        Ok(text.clone())
    }

    fn sign(&self, s: schema::SignTable) -> Result<SignSettings> {
        Ok(SignSettings {
            issuer: s.issuer.map(|v| self.key_ref("issuer", v)).transpose()?,
            subject: s.subject.map(|v| self.key_ref("subject", v)).transpose()?,
            issuer_public: s
                .issuer_public
                .map(|v| self.public_key("issuer-public", v, 'A', "an account"))
                .transpose()?,
            subject_public: s
                .subject_public
                .map(|v| self.public_key("subject-public", v, 'V', "a service"))
                .transpose()?,
        })
    }

    /// `"$NAME"` or a path; never a seed.
    fn key_ref(&self, key: &str, value: Spanned<String>) -> Result<KeyRef> {
        let text = value.get_ref().trim();
        if looks_like_seed(text) {
            return Err(self.err(
                value.span(),
                Problem::LiteralSeed {
                    key: key.to_owned(),
                },
            ));
        }
        if let Some(name) = text.strip_prefix('$') {
            let valid = name
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid {
                return Err(self.err(
                    value.span(),
                    Problem::BadEnvRef {
                        value: text.to_owned(),
                    },
                ));
            }
            return Ok(KeyRef::Env(name.to_owned()));
        }
        Ok(KeyRef::Path(self.path(key, value)?))
    }

    fn public_key(
        &self,
        key: &str,
        value: Spanned<String>,
        prefix: char,
        kind: &'static str,
    ) -> Result<String> {
        let text = value.get_ref();
        if looks_like_seed(text.trim()) {
            return Err(self.err(
                value.span(),
                Problem::LiteralSeed {
                    key: key.to_owned(),
                },
            ));
        }
        let shaped = text.len() == 56
            && text.starts_with(prefix)
            && text
                .bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b));
        if !shaped || nkeys::KeyPair::from_public_key(text).is_err() {
            return Err(self.err(
                value.span(),
                Problem::BadPublicKey {
                    key: key.to_owned(),
                    kind,
                    prefix,
                },
            ));
        }
        Ok(value.into_inner())
    }

    /// `[macos-stubs]`: framework names and C symbol names, checked for shape.
    fn macos_stubs(
        &self,
        table: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
    ) -> Result<BTreeMap<String, Vec<String>>> {
        let mut out = BTreeMap::new();
        for (framework, symbols) in table {
            let name = framework.get_ref();
            let ok = name.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !ok {
                return Err(self.err(
                    framework.span(),
                    Problem::BadFrameworkName {
                        value: name.clone(),
                    },
                ));
            }
            let mut list = Vec::new();
            for s in symbols {
                let text = s.get_ref();
                let ok = !text.is_empty()
                    && !text.starts_with('_')
                    && text
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$');
                if !ok {
                    return Err(self.err(
                        s.span(),
                        Problem::BadStubSymbol {
                            value: text.clone(),
                        },
                    ));
                }
                list.push(s.into_inner());
            }
            list.sort();
            list.dedup();
            out.insert(framework.into_inner(), list);
        }
        Ok(out)
    }

    /// `[publish]`: each part checked by the OCI reference grammar, as the registry will.
    fn publish(&self, p: schema::PublishTable) -> Result<PublishSettings> {
        let bad = |value: &Spanned<String>, key: &str, reason: &str| {
            self.err(
                value.span(),
                Problem::BadPublish {
                    key: key.to_owned(),
                    value: value.get_ref().clone(),
                    reason: reason.to_owned(),
                },
            )
        };
        let registry = match p.registry {
            None => None,
            Some(r) => {
                let text = r.get_ref().trim();
                if text.contains("://") {
                    return Err(bad(
                        &r,
                        "registry",
                        "write the host alone, without a scheme (`--insecure` or `insecure = true` selects plain HTTP)",
                    ));
                }
                if text.is_empty() || text.contains('/') || !reference_parses(text, "x", "t") {
                    return Err(bad(
                        &r,
                        "registry",
                        "a registry is `host` or `host:port`, e.g. `ghcr.io` or `localhost:5000`",
                    ));
                }
                Some(text.to_owned())
            }
        };
        let repository = match p.repository {
            None => None,
            Some(r) => {
                let text = r.get_ref().trim();
                if text.is_empty() || !reference_parses("localhost:5000", text, "t") {
                    return Err(bad(
                        &r,
                        "repository",
                        "a repository is lowercase path components such as `acme/fakepay`",
                    ));
                }
                Some(text.to_owned())
            }
        };
        let mut tags = Vec::new();
        for t in p.tags.unwrap_or_default() {
            let text = t.get_ref().trim();
            if text.is_empty() || text.len() > 128 || !reference_parses("localhost:5000", "x", text)
            {
                return Err(bad(
                    &t,
                    "tags",
                    "a tag is up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`",
                ));
            }
            tags.push(text.to_owned());
        }
        Ok(PublishSettings {
            registry,
            repository,
            tags,
            insecure: p.insecure.unwrap_or(false),
            credentials: p
                .credentials
                .map(|c| self.path("credentials", c))
                .transpose()?,
        })
    }

    fn output(&self, o: schema::OutputTable) -> Result<Output> {
        let compression = match o.compression {
            None => None,
            Some(c) => Some(parse_compression(c.get_ref()).ok_or_else(|| {
                self.err(
                    c.span(),
                    Problem::UnknownCompression {
                        value: c.get_ref().clone(),
                    },
                )
            })?),
        };
        Ok(Output {
            path: o.path.map(|p| self.path("path", p)).transpose()?,
            compression,
        })
    }
}

/// `auto`, `cargo`, `zig`, `cross`, `container`.
pub fn parse_backend(text: &str) -> Option<BackendKind> {
    Some(match text {
        "auto" => BackendKind::Auto,
        "cargo" => BackendKind::Cargo,
        "zig" => BackendKind::Zig,
        "cross" => BackendKind::Cross,
        "container" => BackendKind::Container,
        _ => return None,
    })
}

fn parse_compression(text: &str) -> Option<Compression> {
    Some(match text {
        "gzip" => Compression::Gzip,
        "none" => Compression::None,
        "zstd" => Compression::Zstd,
        _ => return None,
    })
}

/// `cdylib`, `bin` or `bin:NAME`.
pub fn parse_artifact(text: &str) -> Option<ArtifactSelector> {
    match text {
        "cdylib" => Some(ArtifactSelector::Cdylib),
        "bin" => Some(ArtifactSelector::Bin(None)),
        _ => {
            let name = text.strip_prefix("bin:")?;
            (!name.is_empty() && !name.contains(char::is_whitespace))
                .then(|| ArtifactSelector::Bin(Some(name.to_owned())))
        }
    }
}

/// `MAJOR.MINOR`, as zig's glibc suffix wants it.
fn is_glibc_version(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 2 && parts.iter().all(|p| is_number(p))
}

/// `MAJOR`, `MAJOR.MINOR` or `MAJOR.MINOR.PATCH`.
fn is_macos_version(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    (1..=3).contains(&parts.len()) && parts.iter().all(|p| is_number(p))
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.len() <= 4 && text.bytes().all(|b| b.is_ascii_digit())
}

/// True when `registry/repository:tag` is a valid OCI reference (the distribution grammar
/// as oci-client implements it: the same check the push will face).
fn reference_parses(registry: &str, repository: &str, tag: &str) -> bool {
    format!("{registry}/{repository}:{tag}")
        .parse::<oci_client::Reference>()
        .is_ok_and(|r| r.registry() == registry && r.repository() == repository)
}
