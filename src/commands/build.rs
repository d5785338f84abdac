//! `parbuild build`.

use crate::cli::BuildArgs;
use crate::error::{Error, Result};

use super::Context;

/// Runs `parbuild build`.
pub fn run(_args: &BuildArgs, _ctx: &Context) -> Result<()> {
    Err(Error::Internal { message: "`build` is not written yet".to_owned() })
}
