//! `parbuild doctor`.

use crate::cli::DoctorArgs;
use crate::error::{Error, Result};

use super::Context;

/// Runs `parbuild doctor`.
pub fn run(_args: &DoctorArgs, _ctx: &Context) -> Result<()> {
    Err(Error::Internal { message: "`doctor` is not written yet".to_owned() })
}
