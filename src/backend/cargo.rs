//! The `cargo` backend: the host's cargo with the target's std from rustup and a linker,
//! either the user's (`CARGO_TARGET_<T>_LINKER`, `.cargo/config.toml`) or a Debian cross
//! gcc found on `PATH` (`aarch64-linux-gnu-gcc`, `arm-linux-gnueabihf-gcc`, …).

use super::{EnvSetting, Invocation, TargetContext, cargo_args};
use crate::machine::Machine;
use crate::process::Cmd;
use crate::tools::{self, Missing};

/// `cargo build …` for `inv`.
pub fn command(inv: &Invocation, machine: &Machine) -> Cmd {
    let mut cmd = Cmd::new(&machine.cargo, &inv.cwd)
        .arg("build")
        .args(cargo_args(inv, |t| t.triple.clone()));
    for (k, v) in &inv.env {
        cmd = cmd.env(k, v);
    }
    cmd
}

/// A Debian cross gcc for `triple` that is on `PATH`.
pub fn found_linker(triple: &str, machine: &Machine) -> Option<&'static str> {
    let (program, _) = crate::target::debian_linker(triple)?;
    machine.which(program).map(|_| program)
}

/// `CARGO_TARGET_<T>_LINKER` = a found cross gcc, unless this is the host or the user
/// configured a linker.
pub fn target_env(triple: &str, cx: &TargetContext, machine: &Machine) -> Vec<EnvSetting> {
    if triple == cx.host || cx.user_linker.is_some() {
        return Vec::new();
    }
    found_linker(triple, machine)
        .map(|linker| EnvSetting {
            key: format!("CARGO_TARGET_{}_LINKER", crate::target::env_key(triple)),
            value: linker.to_owned(),
            reason: "the Debian cross linker found on PATH".to_owned(),
        })
        .into_iter()
        .collect()
}

/// The linker this target lacks, if any.
pub fn linker_missing(triple: &str, cx: &TargetContext, machine: &Machine) -> Option<Missing> {
    if triple == cx.host {
        return None;
    }
    if let Some(user) = &cx.user_linker {
        let program = user
            .linker
            .split_whitespace()
            .next()
            .unwrap_or(&user.linker);
        return (!user.found).then(|| Missing {
            what: format!(
                "the linker `{}` you configured ({})",
                user.linker, user.origin
            ),
            fix: format!("install `{program}` or change {}", user.origin),
            install: None,
        });
    }
    match crate::target::debian_linker(triple) {
        Some((program, package)) => tools::apt_missing(machine, program, package),
        None if triple.contains("musl") && triple.starts_with("x86_64") => None, // rust-lld, self-contained
        None => Some(Missing {
            what: format!("a linker for `{triple}`"),
            fix: format!(
                "set CARGO_TARGET_{}_LINKER, or use `backend = \"zig\"`",
                crate::target::env_key(triple)
            ),
            install: None,
        }),
    }
}
