//! `parbuild pack`.

use crate::cli::PackArgs;
use crate::error::{Error, Result};

use super::Context;

/// Runs `parbuild pack`.
pub fn run(_args: &PackArgs, _ctx: &Context) -> Result<()> {
    Err(Error::Internal {
        message: "`pack` is not written yet".to_owned(),
    })
}
