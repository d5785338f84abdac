//! What a build of one target came to ([`Outcome`], [`Status`]): the runner produces it,
//! the lanes and the summary show it, the commands pack it. Its own module so that the
//! runner and the view both depend on it and not on each other's code.

use std::path::PathBuf;

use crate::archive::Label;
use crate::manifest::BackendKind;

/// How a target ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Status {
    /// Built: the artifact cargo reported.
    Built {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
    },
    /// cargo failed for it.
    Failed {
        /// The error lines from its log.
        excerpt: String,
    },
    /// Stopped because another target failed (`--fail-fast`) or Ctrl-C.
    Cancelled,
}

/// One target's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    /// The label.
    pub label: Label,
    /// The triple.
    pub triple: String,
    /// The backend.
    pub backend: BackendKind,
    /// How it ended.
    #[serde(flatten)]
    pub status: Status,
    /// Wall time of its invocation.
    pub seconds: f64,
    /// The log of its invocation.
    pub log: PathBuf,
}
