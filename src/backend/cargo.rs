//! The `cargo` backend: the host's cargo with the target's std from rustup and a linker,
//! either the user's (`CARGO_TARGET_<T>_LINKER`, `.cargo/config.toml`) or a Debian cross
//! gcc found on `PATH` (`aarch64-linux-gnu-gcc`, `arm-linux-gnueabihf-gcc`, …).

use super::{EnvSetting, Invocation, TargetContext, cargo_args};
use crate::process::Cmd;
use crate::tools::{self, Missing, Toolbox};

/// `cargo build …` for `inv`.
pub fn command(inv: &Invocation, tools: &Toolbox) -> Cmd {
    let mut cmd = Cmd::new(tools.cargo(), &inv.cwd)
        .arg("build")
        .args(cargo_args(inv, |t| t.triple.clone()));
    for (k, v) in &inv.env {
        cmd = cmd.env(k, v);
    }
    cmd
}

/// A Debian cross gcc for `triple` that is on `PATH`.
pub fn found_linker(triple: &str, tools: &Toolbox) -> Option<&'static str> {
    let (program, _) = tools::debian_linker(triple)?;
    tools.which(program).map(|_| program)
}

/// `CARGO_TARGET_<T>_LINKER` = a found cross gcc, unless this is the host or the user
/// configured a linker.
pub fn target_env(triple: &str, cx: &TargetContext, tools: &Toolbox) -> Vec<EnvSetting> {
    if triple == cx.host || cx.user_linker.is_some() {
        return Vec::new();
    }
    found_linker(triple, tools)
        .map(|linker| EnvSetting {
            key: format!("CARGO_TARGET_{}_LINKER", tools::target_env_key(triple)),
            value: linker.to_owned(),
            reason: "the Debian cross linker found on PATH".to_owned(),
        })
        .into_iter()
        .collect()
}

/// The linker this target lacks, if any.
pub fn linker_missing(triple: &str, cx: &TargetContext, tools: &Toolbox) -> Option<Missing> {
    if triple == cx.host {
        return None;
    }
    if let Some((linker, origin)) = &cx.user_linker {
        let program = linker.split_whitespace().next().unwrap_or(linker);
        let found = std::path::Path::new(program).is_absolute()
            && std::path::Path::new(program).exists()
            || tools.which(program).is_some();
        return (!found).then(|| Missing {
            what: format!("the linker `{linker}` you configured ({origin})"),
            fix: format!("install `{program}` or change {origin}"),
            install: None,
        });
    }
    match tools::debian_linker(triple) {
        Some((program, package)) => tools.apt_missing(program, package),
        None if triple.contains("musl") && triple.starts_with("x86_64") => None, // rust-lld, self-contained
        None => Some(Missing {
            what: format!("a linker for `{triple}`"),
            fix: format!(
                "set CARGO_TARGET_{}_LINKER, or use `backend = \"zig\"`",
                tools::target_env_key(triple)
            ),
            install: None,
        }),
    }
}
