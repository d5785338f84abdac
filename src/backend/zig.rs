//! The `zig` backend: `cargo zigbuild`, with zig as the C compiler and linker. It links
//! Linux targets against an old glibc (a floor such as `.2.17`, so binaries run on old
//! distributions; zig's own default for armv7 needs glibc 2.34) and macOS targets
//! without an SDK (plain Rust code). parbuild sets `MACOSX_DEPLOYMENT_TARGET` to rustc's
//! own minimum for the target, because zig otherwise targets the newest macOS.

use super::{EnvSetting, Invocation, TargetContext, cargo_args};
use crate::process::Cmd;
use crate::tools::Toolbox;

/// Why `auto` picks zig.
pub const WHY: &str =
    "not the host: zig links it without a cross toolchain (glibc floor on Linux, no SDK for macOS)";

/// Whether cargo-zigbuild can link `triple`.
pub fn supports(triple: &str) -> bool {
    triple.contains("-linux-")
        || triple.contains("-apple-darwin")
        || triple.ends_with("-windows-gnu")
}

/// rustc's own minimum macOS version for a target: what binaries should require unless
/// the user says otherwise.
pub fn rustc_min_macos(triple: &str) -> &'static str {
    if triple.starts_with("aarch64") {
        "11.0"
    } else {
        "10.12"
    }
}

/// The triple as cargo-zigbuild takes it: `aarch64-unknown-linux-gnu.2.17` for a glibc floor.
pub fn triple_arg(triple: &str, glibc: Option<&str>) -> String {
    match glibc {
        Some(floor) if triple.contains("-linux-gnu") => format!("{triple}.{floor}"),
        _ => triple.to_owned(),
    }
}

/// `cargo-zigbuild zigbuild …` for `inv`.
pub fn command(inv: &Invocation, tools: &Toolbox) -> Cmd {
    let program = tools.zigbuild().map_or_else(
        || "cargo-zigbuild".into(),
        std::path::PathBuf::into_os_string,
    );
    let mut cmd = Cmd::new(program, &inv.cwd)
        .arg("zigbuild")
        .args(cargo_args(inv, |t| {
            triple_arg(&t.triple, t.glibc.as_deref())
        }));
    if let Some(python) = tools.zig_python() {
        cmd = cmd.env("CARGO_ZIGBUILD_PYTHON_PATH", python);
    }
    for (k, v) in &inv.env {
        cmd = cmd.env(k, v);
    }
    cmd
}

/// `MACOSX_DEPLOYMENT_TARGET` for macOS targets, unless the user set it.
pub fn target_env(triple: &str, cx: &TargetContext) -> Vec<EnvSetting> {
    if !triple.contains("-apple-darwin") || cx.user_macos_target.is_some() {
        return Vec::new();
    }
    let (value, reason) = match &cx.manifest_macos_target {
        Some(v) => (
            v.clone(),
            "[build] macos-deployment-target in par.toml".to_owned(),
        ),
        None => (
            rustc_min_macos(triple).to_owned(),
            "rustc's minimum for this target; zig would otherwise require the newest macOS"
                .to_owned(),
        ),
    };
    vec![EnvSetting {
        key: "MACOSX_DEPLOYMENT_TARGET".to_owned(),
        value,
        reason,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glibc_suffix_only_on_gnu_linux() {
        assert_eq!(
            triple_arg("aarch64-unknown-linux-gnu", Some("2.17")),
            "aarch64-unknown-linux-gnu.2.17"
        );
        assert_eq!(
            triple_arg("armv7-unknown-linux-gnueabihf", Some("2.17")),
            "armv7-unknown-linux-gnueabihf.2.17"
        );
        assert_eq!(
            triple_arg("x86_64-unknown-linux-musl", Some("2.17")),
            "x86_64-unknown-linux-musl"
        );
        assert_eq!(
            triple_arg("x86_64-apple-darwin", Some("2.17")),
            "x86_64-apple-darwin"
        );
    }

    #[test]
    fn macos_floor_is_rustc_minimum_unless_user_set() {
        let cx = TargetContext::default();
        assert_eq!(target_env("x86_64-apple-darwin", &cx)[0].value, "10.12");
        assert_eq!(target_env("aarch64-apple-darwin", &cx)[0].value, "11.0");
        assert!(target_env("aarch64-unknown-linux-gnu", &cx).is_empty());
        let cx = TargetContext {
            user_macos_target: Some("12.0".to_owned()),
            ..TargetContext::default()
        };
        assert!(target_env("x86_64-apple-darwin", &cx).is_empty());
    }
}
