//! `parbuild plan`.

use crate::cli::PlanArgs;
use crate::error::{Error, Result};

use super::Context;

/// Runs `parbuild plan`.
pub fn run(_args: &PlanArgs, _ctx: &Context) -> Result<()> {
    Err(Error::Internal { message: "`plan` is not written yet".to_owned() })
}
