//! `parbuild inspect`.

use crate::cli::InspectArgs;
use crate::error::{Error, Result};

use super::Context;

/// Runs `parbuild inspect`.
pub fn run(_args: &InspectArgs, _ctx: &Context) -> Result<()> {
    Err(Error::Internal {
        message: "`inspect` is not written yet".to_owned(),
    })
}
