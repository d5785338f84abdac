//! `parbuild init`.

use crate::cli::InitArgs;
use crate::error::{Error, Result};

use super::Context;

/// Runs `parbuild init`.
pub fn run(_args: &InitArgs, _ctx: &Context) -> Result<()> {
    Err(Error::Internal { message: "`init` is not written yet".to_owned() })
}
