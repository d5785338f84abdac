//! `parbuild verify`.

use crate::cli::VerifyArgs;
use crate::error::{Error, Result};

use super::Context;

/// Runs `parbuild verify`.
pub fn run(_args: &VerifyArgs, _ctx: &Context) -> Result<()> {
    Err(Error::Internal {
        message: "`verify` is not written yet".to_owned(),
    })
}
