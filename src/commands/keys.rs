//! `parbuild keys generate|show`.

use crate::cli::KeysCommand;
use crate::error::{Error, Result};

use super::Context;

/// Runs `parbuild keys …`.
pub fn run(_cmd: &KeysCommand, _ctx: &Context) -> Result<()> {
    Err(Error::Internal {
        message: "`keys` is not written yet".to_owned(),
    })
}
