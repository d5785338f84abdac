//! The compile cache of a plan (`[build] cache`, `cache-url`): whether sccache wraps rustc,
//! why, and the variables that point it at a shared backend. Pure, like the rest of the
//! plan: the facts (is sccache installed, did the user set a wrapper) come from the
//! probed [`Machine`].
//!
//! sccache runs one server per port and a server keeps the backend it started with, so a
//! build with a `cache-url` talks to a server of its own: its port is derived from the URL
//! ([`server_port`]), and a server already running for the local disk cache is not reused
//! with the wrong backend.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::env::Env;
use crate::machine::Machine;
use crate::manifest::{BackendKind, CacheKind, Manifest};
use crate::tools::{self, Missing};

/// What wraps rustc in the plan's cargo invocations.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CachePlan {
    /// `sccache` when parbuild sets `RUSTC_WRAPPER`; `none` otherwise (no cache, or the
    /// user's own wrapper, left as it is).
    pub kind: &'static str,
    /// The sccache binary.
    pub wrapper: Option<PathBuf>,
    /// The shared backend, as written in `cache-url`.
    pub url: Option<String>,
    /// Why: what was asked and what was found.
    pub reason: String,
    /// The variables parbuild adds to every host-side cargo invocation (`RUSTC_WRAPPER`,
    /// and `SCCACHE_*` for the backend), none the user set already.
    pub env: BTreeMap<String, String>,
    /// sccache when `cache = "sccache"` asks for it and it is not installed.
    #[serde(skip)]
    pub missing: Option<Missing>,
}

impl CachePlan {
    /// Whether an invocation of `backend` gets the cache: not in a container, where the
    /// host's sccache does not exist.
    pub fn applies_to(&self, backend: BackendKind) -> bool {
        !self.env.is_empty() && !crate::backend::containerized(backend)
    }
}

/// Decides the cache from `[build]`, the environment and what is installed.
pub fn decide(manifest: &Manifest, env: &Env, machine: &Machine) -> CachePlan {
    let asked = manifest.build.cache;
    let url = manifest.build.cache_url.clone();
    let none = |reason: String, missing: Option<Missing>| CachePlan {
        kind: "none",
        wrapper: None,
        url: None,
        reason,
        env: BTreeMap::new(),
        missing,
    };
    if asked == CacheKind::None {
        return none("`[build] cache = \"none\"`".to_owned(), None);
    }
    if let Some((wrapper, origin)) = &machine.user_wrapper {
        return none(
            if wrapper.is_empty() {
                format!("turned off by an empty {origin}")
            } else {
                format!("your rustc wrapper `{wrapper}` ({origin}) is used as it is")
            },
            None,
        );
    }
    let Some(sccache) = machine.which("sccache") else {
        return match asked {
            CacheKind::Sccache => none(
                "`[build] cache = \"sccache\"`, but sccache is not installed".to_owned(),
                Some(tools::sccache_missing(machine)),
            ),
            _ => none(
                "no sccache on PATH (`[build] cache = \"sccache\"` and `parbuild doctor --fix` install it)"
                    .to_owned(),
                None,
            ),
        };
    };
    let mut vars = BTreeMap::new();
    vars.insert("RUSTC_WRAPPER".to_owned(), sccache.display().to_string());
    if let Some(url) = &url {
        vars.extend(backend_vars(url));
        vars.insert(
            "SCCACHE_SERVER_PORT".to_owned(),
            server_port(url).to_string(),
        );
    }
    vars.retain(|k, _| env.var_os(k).is_none());
    let reason = match (asked, &url) {
        (CacheKind::Sccache, None) => "`[build] cache = \"sccache\"`, local disk cache".to_owned(),
        (CacheKind::Sccache, Some(url)) => {
            format!("`[build] cache = \"sccache\"`, shared at {url}")
        }
        (_, None) => {
            "sccache is installed (`[build] cache = \"auto\"`), local disk cache".to_owned()
        }
        (_, Some(url)) => {
            format!("sccache is installed (`[build] cache = \"auto\"`), shared at {url}")
        }
    };
    CachePlan {
        kind: "sccache",
        wrapper: Some(sccache),
        url,
        reason,
        env: vars,
        missing: None,
    }
}

/// sccache's own variables for a checked `cache-url`.
fn backend_vars(url: &str) -> Vec<(String, String)> {
    match url.split_once("://") {
        Some(("s3", rest)) => {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let mut vars = vec![("SCCACHE_BUCKET".to_owned(), bucket.to_owned())];
            let prefix = prefix.trim_matches('/');
            if !prefix.is_empty() {
                vars.push(("SCCACHE_S3_KEY_PREFIX".to_owned(), prefix.to_owned()));
            }
            vars
        }
        _ => vec![("SCCACHE_REDIS".to_owned(), url.to_owned())],
    }
}

/// The sccache server port of a shared backend: 42300–43299, from a hash of the URL, so
/// each backend has its server and the default one (4226, the local disk) is left alone.
pub fn server_port(url: &str) -> u16 {
    // FNV-1a: stable across versions and platforms, unlike std's hasher.
    let hash = url.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    42_300 + u16::try_from(hash % 1000).unwrap_or(0)
}
