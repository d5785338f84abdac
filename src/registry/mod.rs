//! OCI registries: push a provider archive exactly as `wash push` does, pull one back with
//! every byte checked against its digest and a size limit. The only module that speaks
//! HTTP; it runs no program (credential helpers are run by the caller, see [`auth`]).
//!
//! The client is `oci-client`, the OCI distribution crate wash itself uses (formerly
//! `oci-distribution`, from the same wasmCloud/Krustlet line), so registries see the same
//! requests from parbuild as from wash. Its API is async; each call here runs on a
//! current-thread tokio runtime of its own, so nothing else in parbuild is async.
//!
//! One file because push and pull share the client, its runtime and `classify`, which turns
//! every failure of either into one [`RegistryError`].

pub mod auth;
pub mod image;

use std::io::Write as _;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

pub use auth::{Credentials, Secret};
pub use image::{Blob, Image, ManifestProblem};

/// A checked `registry/repository[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    inner: Reference,
    /// The text named a tag (or a digest): no implicit `latest`.
    explicit: bool,
}

impl Ref {
    /// Parses `text` by the distribution grammar. A reference without a registry host
    /// means Docker Hub, as with docker and wash.
    pub fn parse(text: &str) -> Result<Self, RegistryError> {
        let text = text.trim();
        let bad = |reason: String| RegistryError::BadReference {
            text: text.to_owned(),
            reason,
        };
        if text.contains("://") {
            return Err(bad(
                "write it without a scheme, as `registry/repository:tag` (`--insecure` selects plain HTTP)".to_owned(),
            ));
        }
        let inner: Reference = text
            .parse()
            .map_err(|e: oci_client::ParseError| bad(e.to_string()))?;
        let last = text.rsplit('/').next().unwrap_or(text);
        let explicit = last.contains(':') || last.contains('@');
        Ok(Self { inner, explicit })
    }

    /// `registry/repository:tag` from parts (`[publish]`).
    pub fn from_parts(registry: &str, repository: &str, tag: &str) -> Result<Self, RegistryError> {
        Self::parse(&format!("{registry}/{repository}:{tag}"))
    }

    /// The registry host (`host[:port]`).
    pub fn registry(&self) -> &str {
        self.inner.registry()
    }

    /// The repository.
    pub fn repository(&self) -> &str {
        self.inner.repository()
    }

    /// The tag, `latest` when the text named none (and no digest).
    pub fn tag(&self) -> Option<&str> {
        self.inner.tag()
    }

    /// The digest, if the text named one.
    pub fn digest(&self) -> Option<&str> {
        self.inner.digest()
    }

    /// True when the tag is `latest`, written or implied.
    pub fn is_latest(&self) -> bool {
        self.inner.digest().is_none() && (!self.explicit || self.inner.tag() == Some("latest"))
    }

    /// The same repository at `digest`: `registry/repository@sha256:…`.
    pub fn at_digest(&self, digest: &str) -> String {
        format!("{}/{}@{digest}", self.registry(), self.repository())
    }
}

impl std::fmt::Display for Ref {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry(), self.repository())?;
        if let Some(tag) = self.tag() {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = self.digest() {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// True when `text` reads as a registry reference rather than a file name: it has a
/// registry host (a dot, a port or `localhost` before the first `/`) and a repository.
pub fn looks_like_reference(text: &str) -> bool {
    let Some((host, rest)) = text.split_once('/') else {
        return false;
    };
    !rest.is_empty()
        && (host.contains('.') || host.contains(':') || host == "localhost")
        && !host.starts_with('.')
        && Ref::parse(text).is_ok()
}

/// How to reach a registry.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// Plain HTTP.
    pub insecure: bool,
    /// An extra trusted CA (PEM file).
    pub ca_file: Option<PathBuf>,
    /// The credentials.
    pub credentials: Option<Credentials>,
}

/// What [`push`] did for one reference.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Pushed {
    /// `registry/repository:tag`.
    pub reference: String,
    /// `registry/repository@sha256:…`: what to deploy.
    pub pinned: String,
    /// The manifest digest.
    pub digest: String,
    /// The tag already held this very manifest: nothing was uploaded.
    pub unchanged: bool,
}

/// What [`pull`] fetched.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Pulled {
    /// The reference pulled.
    pub reference: String,
    /// `registry/repository@sha256:…`.
    pub pinned: String,
    /// The manifest digest.
    pub digest: String,
    /// The archive layer.
    pub layer: Blob,
    /// The manifest's annotations.
    pub annotations: std::collections::BTreeMap<String, String>,
}

/// Errors talking to a registry. None holds a password.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Not a reference.
    #[error("`{text}` is not an OCI reference: {reason}")]
    BadReference {
        /// The text.
        text: String,
        /// Why.
        reason: String,
    },
    /// `latest` without `--allow-latest`.
    #[error("refusing to push `{reference}`: the tag `latest` moves under everyone who deploys it")]
    Latest {
        /// The reference.
        reference: String,
    },
    /// The tag holds another manifest.
    #[error("`{reference}` already holds another archive ({existing}); this one is {ours}")]
    TagExists {
        /// The reference.
        reference: String,
        /// Its current digest.
        existing: String,
        /// Ours.
        ours: String,
    },
    /// A credentials file or helper is unusable.
    #[error(transparent)]
    Auth(#[from] auth::AuthError),
    /// The CA file cannot be read.
    #[error("cannot read the CA certificate `{path}`")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The registry rejected the credentials (or their absence).
    #[error("`{registry}` refused the credentials ({source_desc}) for {action}")]
    Unauthorized {
        /// The registry.
        registry: String,
        /// Where the credentials came from.
        source_desc: String,
        /// `push` or `pull`.
        action: &'static str,
        /// The registry's words.
        #[source]
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
    /// DNS, refused connection, TLS: the registry could not be reached.
    #[error("cannot reach the registry `{registry}`")]
    Unreachable {
        /// The registry.
        registry: String,
        /// The cause.
        #[source]
        cause: Box<dyn std::error::Error + Send + Sync>,
        /// Plain HTTP answered a TLS handshake.
        speaks_http: bool,
    },
    /// No such repository, tag or digest.
    #[error("`{reference}` does not exist in the registry")]
    NotFound {
        /// The reference.
        reference: String,
    },
    /// The image is not a provider archive, or is too large.
    #[error("`{reference}`: {problem}")]
    Manifest {
        /// The reference.
        reference: String,
        /// What is wrong.
        problem: ManifestProblem,
    },
    /// Bytes that do not hash to their digest: a tampered or truncated download.
    #[error("`{reference}`: the downloaded {what} does not match its digest ({reason})")]
    Digest {
        /// The reference.
        reference: String,
        /// `manifest` or `archive layer`.
        what: &'static str,
        /// Details.
        reason: String,
    },
    /// The layer ran past its declared size.
    #[error("`{reference}`: the archive layer sent more than its declared {size} bytes")]
    Oversized {
        /// The reference.
        reference: String,
        /// Declared bytes.
        size: u64,
    },
    /// Writing the download.
    #[error("cannot write the download to `{path}`")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Any other answer the registry gave.
    #[error("the registry `{registry}` failed the {action}")]
    Protocol {
        /// The registry.
        registry: String,
        /// `push` or `pull`.
        action: &'static str,
        /// Its words.
        #[source]
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl RegistryError {
    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::BadReference { .. } => "a reference is `registry/repository:tag`, e.g. `ghcr.io/acme/fakepay:1.0.0` or `localhost:5000/fakepay:0.1.0`".to_owned(),
            Self::Latest { .. } => "tag a version (the default with `[publish]` is the provider version), or pass `--allow-latest`".to_owned(),
            Self::TagExists { .. } => "bump the provider version (tags should not move), or pass `--force-tag` to move the tag".to_owned(),
            Self::Unauthorized { .. } => "log in with `docker login`/`podman login`, set `WASH_REG_USER` and `WASH_REG_PASSWORD`, or pass `--user NAME --password-stdin`".to_owned(),
            Self::Unreachable { speaks_http: true, .. } => "the registry speaks plain HTTP: pass `--insecure` (or `insecure = true` in `[publish]`) if that is intended".to_owned(),
            Self::Unreachable { .. } => "check the host name and port, and for a private CA pass `--ca-file` (or set `SSL_CERT_FILE`)".to_owned(),
            Self::NotFound { .. } => "check the repository and tag (`skopeo list-tags docker://REPO` lists them)".to_owned(),
            Self::Digest { .. } | Self::Oversized { .. } => "nothing was written; pull again, and if it persists the registry holds a damaged or forged image".to_owned(),
            _ => return None,
        })
    }
}

fn client(conn: &Connection) -> Result<Client, RegistryError> {
    // ring: no cmake/C++ toolchain needed to build parbuild (aws-lc needs both). A second
    // install (a second call) is refused harmlessly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut extra = Vec::new();
    if let Some(path) = &conn.ca_file {
        let data = std::fs::read(path).map_err(|source| RegistryError::CaFile {
            path: path.clone(),
            source,
        })?;
        extra.push(Certificate {
            encoding: CertificateEncoding::Pem,
            data,
        });
    }
    let config = ClientConfig {
        protocol: if conn.insecure {
            ClientProtocol::Http
        } else {
            ClientProtocol::Https
        },
        extra_root_certificates: extra,
        // The HEAD/GET/PUT a registry answers are small; blobs have no read timeout.
        connect_timeout: Some(std::time::Duration::from_secs(30)),
        // One monolithic PUT per blob: what every registry implements.
        use_monolithic_push: true,
        platform_resolver: None,
        user_agent: concat!("parbuild/", env!("CARGO_PKG_VERSION")),
        ..ClientConfig::default()
    };
    Client::try_from(config).map_err(|e| RegistryError::Protocol {
        registry: String::new(),
        action: "setup",
        cause: Box::new(e),
    })
}

fn registry_auth(conn: &Connection) -> RegistryAuth {
    match &conn.credentials {
        None | Some(Credentials::Anonymous) => RegistryAuth::Anonymous,
        Some(Credentials::Basic { user, password }) => {
            RegistryAuth::Basic(user.clone(), password.expose().to_owned())
        }
        Some(Credentials::Token(token)) => RegistryAuth::Bearer(token.expose().to_owned()),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    #[allow(clippy::expect_used)] // a current-thread runtime fails only without OS resources
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("cannot start the I/O runtime")
}

/// Turns oci-client's error into ours, with what was being done.
fn classify(
    e: OciDistributionError,
    r: &Ref,
    action: &'static str,
    source_desc: &str,
) -> RegistryError {
    let registry = r.registry().to_owned();
    let unauthorized = |e: OciDistributionError| RegistryError::Unauthorized {
        registry: registry.clone(),
        source_desc: source_desc.to_owned(),
        action,
        cause: Box::new(e),
    };
    match e {
        OciDistributionError::AuthenticationFailure(_)
        | OciDistributionError::UnauthorizedError { .. } => unauthorized(e),
        OciDistributionError::ServerError {
            code: 401 | 403, ..
        } => unauthorized(e),
        OciDistributionError::RegistryError { ref envelope, .. }
            if envelope
                .errors
                .iter()
                .any(|x| matches!(x.code, OciErrorCode::Unauthorized | OciErrorCode::Denied)) =>
        {
            unauthorized(e)
        }
        OciDistributionError::RegistryError { ref envelope, .. }
            if envelope.errors.iter().any(|x| {
                matches!(
                    x.code,
                    OciErrorCode::ManifestUnknown
                        | OciErrorCode::NameUnknown
                        | OciErrorCode::NotFound
                )
            }) =>
        {
            RegistryError::NotFound {
                reference: r.to_string(),
            }
        }
        OciDistributionError::ImageManifestNotFoundError(_)
        | OciDistributionError::ServerError { code: 404, .. } => RegistryError::NotFound {
            reference: r.to_string(),
        },
        OciDistributionError::DigestError(d) => RegistryError::Digest {
            reference: r.to_string(),
            what: "manifest",
            reason: d.to_string(),
        },
        OciDistributionError::RequestError(ref req) if req.is_connect() || req.is_timeout() => {
            let chain = error_chain(&e);
            RegistryError::Unreachable {
                registry,
                speaks_http: !chain.is_empty() && speaks_http(&chain),
                cause: Box::new(e),
            }
        }
        other => RegistryError::Protocol {
            registry,
            action,
            cause: Box::new(other),
        },
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// rustls' words when a TLS hello is answered by plain HTTP.
fn speaks_http(chain: &str) -> bool {
    [
        "InvalidContentType",
        "corrupt message",
        "wrong version number",
        "http response",
    ]
    .iter()
    .any(|w| chain.contains(w))
}

/// Uploads `archive` under every reference in `refs` (one image, one manifest, uploaded
/// once, tagged many times). A tag that holds another manifest is refused unless
/// `force_tag`; a tag that holds this one is left as it is.
pub fn push(
    archive: &[u8],
    image: &Image,
    refs: &[Ref],
    conn: &Connection,
    source_desc: &str,
    force_tag: bool,
) -> Result<Vec<Pushed>, RegistryError> {
    let client = client(conn)?;
    let auth = registry_auth(conn);
    runtime().block_on(async {
        // First every tag's current state, so a conflict on the third tag uploads nothing.
        let mut existing = Vec::new();
        for r in refs {
            let current = match client.fetch_manifest_digest(&r.inner, &auth).await {
                Ok(d) => Some(d),
                Err(e) => match classify(e, r, "push", source_desc) {
                    RegistryError::NotFound { .. } => None,
                    other => return Err(other),
                },
            };
            if let Some(d) = &current
                && *d != image.digest
                && !force_tag
            {
                return Err(RegistryError::TagExists {
                    reference: r.to_string(),
                    existing: d.clone(),
                    ours: image.digest.clone(),
                });
            }
            existing.push(current);
        }
        let mut out = Vec::new();
        let mut uploaded = false;
        for (r, current) in refs.iter().zip(existing) {
            let unchanged = current.as_deref() == Some(image.digest.as_str());
            if !unchanged {
                if !uploaded {
                    // Reads of the anonymous HEAD above may leave a pull-only token:
                    // ask for push scope before the first upload.
                    client
                        .auth(&r.inner, &auth, oci_client::RegistryOperation::Push)
                        .await
                        .map_err(|e| classify(e, r, "push", source_desc))?;
                    for (data, blob) in [(archive, &image.layer), (image::CONFIG, &image.config)] {
                        let present = client
                            .blob_exists(&r.inner, &blob.digest)
                            .await
                            .map_err(|e| classify(e, r, "push", source_desc))?;
                        if !present {
                            client
                                .push_blob(&r.inner, data.to_vec(), &blob.digest)
                                .await
                                .map_err(|e| classify(e, r, "push", source_desc))?;
                        }
                    }
                    uploaded = true;
                }
                client
                    .push_manifest_raw(
                        &r.inner,
                        image.manifest.clone(),
                        image::MANIFEST_MEDIA_TYPE.parse().map_err(|_| {
                            RegistryError::Protocol {
                                registry: r.registry().to_owned(),
                                action: "push",
                                cause: "bad media type header".into(),
                            }
                        })?,
                    )
                    .await
                    .map_err(|e| classify(e, r, "push", source_desc))?;
            }
            out.push(Pushed {
                reference: r.to_string(),
                pinned: r.at_digest(&image.digest),
                digest: image.digest.clone(),
                unchanged,
            });
        }
        Ok(out)
    })
}

/// Downloads the archive `r` names into `dest`, refusing anything that is not a provider
/// archive of at most `max` bytes, and checking the manifest and the layer against their
/// digests. `dest` holds garbage on error: the caller writes it to a temporary file.
pub fn pull(
    r: &Ref,
    conn: &Connection,
    source_desc: &str,
    max: u64,
    dest: &mut std::fs::File,
    dest_path: &std::path::Path,
) -> Result<Pulled, RegistryError> {
    let client = client(conn)?;
    let auth = registry_auth(conn);
    runtime().block_on(async {
        let (manifest, digest) = client
            .pull_manifest_raw(
                &r.inner,
                &auth,
                &[
                    image::MANIFEST_MEDIA_TYPE,
                    "application/vnd.docker.distribution.manifest.v2+json",
                ],
            )
            .await
            .map_err(|e| classify(e, r, "pull", source_desc))?;
        // oci-client checks a pinned digest against the body; check it ourselves as well,
        // for a tag, against the digest the registry named.
        let actual = image::digest(&manifest);
        if actual != digest || r.digest().is_some_and(|d| d != actual) {
            return Err(RegistryError::Digest {
                reference: r.to_string(),
                what: "manifest",
                reason: format!("expected {}, got {actual}", r.digest().unwrap_or(&digest)),
            });
        }
        let layer =
            image::archive_layer(&manifest, max).map_err(|problem| RegistryError::Manifest {
                reference: r.to_string(),
                problem,
            })?;
        let annotations = serde_json::from_slice::<serde_json::Value>(&manifest)
            .ok()
            .and_then(|v| v.get("annotations").cloned())
            .and_then(|a| serde_json::from_value(a).ok())
            .unwrap_or_default();
        let descriptor = oci_client::manifest::OciDescriptor {
            media_type: layer.media_type.clone(),
            digest: layer.digest.clone(),
            size: i64::try_from(layer.size).unwrap_or(i64::MAX),
            ..Default::default()
        };
        let mut sink = Bounded {
            file: dest,
            written: 0,
            limit: layer.size,
            overflow: false,
        };
        let result = client.pull_blob(&r.inner, &descriptor, &mut sink).await;
        if sink.overflow {
            return Err(RegistryError::Oversized {
                reference: r.to_string(),
                size: layer.size,
            });
        }
        match result {
            Ok(()) => {}
            Err(OciDistributionError::DigestError(d)) => {
                return Err(RegistryError::Digest {
                    reference: r.to_string(),
                    what: "archive layer",
                    reason: d.to_string(),
                });
            }
            Err(OciDistributionError::IoError(source)) => {
                return Err(RegistryError::Write {
                    path: dest_path.to_owned(),
                    source,
                });
            }
            Err(e) => return Err(classify(e, r, "pull", source_desc)),
        }
        if sink.written != layer.size {
            return Err(RegistryError::Digest {
                reference: r.to_string(),
                what: "archive layer",
                reason: format!("{} bytes received, {} declared", sink.written, layer.size),
            });
        }
        Ok(Pulled {
            reference: r.to_string(),
            pinned: r.at_digest(&actual),
            digest: actual,
            layer,
            annotations,
        })
    })
}

/// A file that refuses bytes beyond a limit (the layer's declared size), so a registry
/// cannot fill the disk.
struct Bounded<'a> {
    file: &'a mut std::fs::File,
    written: u64,
    limit: u64,
    overflow: bool,
}

impl tokio::io::AsyncWrite for Bounded<'_> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.written + buf.len() as u64 > self.limit {
            self.overflow = true;
            return Poll::Ready(Err(std::io::Error::other(
                "more bytes than the layer declares",
            )));
        }
        let this = &mut *self;
        Poll::Ready(this.file.write_all(buf).map(|()| {
            this.written += buf.len() as u64;
            buf.len()
        }))
    }

    fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(self.file.flush())
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.poll_flush(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        let r = Ref::parse("localhost:5000/acme/fakepay:1.0.0").unwrap();
        assert_eq!(
            (r.registry(), r.repository(), r.tag()),
            ("localhost:5000", "acme/fakepay", Some("1.0.0"))
        );
        assert!(!r.is_latest());
        assert_eq!(r.to_string(), "localhost:5000/acme/fakepay:1.0.0");
        assert_eq!(
            r.at_digest("sha256:ab"),
            "localhost:5000/acme/fakepay@sha256:ab"
        );
        assert!(
            Ref::parse("localhost:5000/acme/fakepay")
                .unwrap()
                .is_latest()
        );
        assert!(
            Ref::parse("ghcr.io/acme/fakepay:latest")
                .unwrap()
                .is_latest()
        );
        let pinned = format!("ghcr.io/a/b@sha256:{}", "0".repeat(64));
        assert!(!Ref::parse(&pinned).unwrap().is_latest());
        assert_eq!(Ref::parse("fakepay:1").unwrap().registry(), "docker.io");
        for bad in [
            "https://ghcr.io/a/b:1",
            "ghcr.io/A/b:1",
            "ghcr.io/a/b:bad tag",
            "",
        ] {
            assert!(Ref::parse(bad).is_err(), "{bad}");
        }
        assert!(looks_like_reference("localhost:5000/x:1"));
        assert!(looks_like_reference("ghcr.io/acme/x:1"));
        assert!(!looks_like_reference("build/x.par.gz"));
        assert!(!looks_like_reference("x.par.gz"));
        assert!(!looks_like_reference("./build/x.par.gz"));
    }

    #[test]
    fn exit_codes_are_distinct_per_kind() {
        let unreachable = RegistryError::Unreachable {
            registry: "r".into(),
            cause: "x".into(),
            speaks_http: true,
        };
        assert!(unreachable.hint().unwrap().contains("--insecure"));
        let errors: [RegistryError; 5] = [
            RegistryError::Latest {
                reference: "r".into(),
            },
            unreachable,
            RegistryError::Unauthorized {
                registry: "r".into(),
                source_desc: "s".into(),
                action: "push",
                cause: "x".into(),
            },
            RegistryError::TagExists {
                reference: "r".into(),
                existing: "a".into(),
                ours: "b".into(),
            },
            RegistryError::Oversized {
                reference: "r".into(),
                size: 1,
            },
        ];
        let codes = errors.map(|e| crate::Error::from(e).exit_code());
        let mut unique = codes.to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), codes.len(), "{codes:?}");
        assert!(speaks_http(
            "received corrupt message of type InvalidContentType"
        ));
    }
}
