//! The `zig` backend: `cargo zigbuild`, with zig as the C compiler and linker. It links
//! Linux targets against an old glibc (a floor such as `.2.17`, so binaries run on old
//! distributions; zig's own default for armv7 needs glibc 2.34) and macOS targets without
//! an SDK: zig brings libSystem, and the Apple frameworks a provider links (Security,
//! CoreFoundation, …) come from stubs parbuild generates ([`crate::stubs`]) unless the user
//! has an SDK ([`sdk`]). parbuild sets `MACOSX_DEPLOYMENT_TARGET` (11.0 unless the user
//! says otherwise), because zig otherwise targets the newest macOS.

use super::{EnvSetting, Invocation, TargetContext, cargo_args};
use crate::machine::Machine;
use crate::process::Cmd;

/// Why `auto` picks zig.
pub const WHY: &str =
    "not the host: zig links it without a cross toolchain (glibc floor on Linux, no SDK for macOS)";

/// Whether cargo-zigbuild can link `triple`.
pub fn supports(triple: &str) -> bool {
    triple.contains("-linux-")
        || triple.contains("-apple-darwin")
        || triple.ends_with("-windows-gnu")
}

/// Where a macOS target's frameworks come from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SdkSource {
    /// The user's `SDKROOT`: used as it is.
    Environment,
    /// `sdk = "…"` on the target in `par.toml`: parbuild sets `SDKROOT` to it.
    Manifest,
    /// No SDK: parbuild generates framework stubs into the invocation's target directory
    /// and sets `SDKROOT` to them.
    Stubs,
}

/// The SDK choice of one macOS target.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Sdk {
    /// Where it comes from.
    pub source: SdkSource,
    /// The SDK directory (`None` for stubs until the invocation's directory is known).
    pub path: Option<std::path::PathBuf>,
    /// Why.
    pub reason: String,
}

/// The SDK a macOS target links against: the user's `SDKROOT` wins, then `sdk` in
/// `par.toml`, else generated framework stubs. `None` for other targets.
pub fn sdk(triple: &str, cx: &TargetContext) -> Option<Sdk> {
    if !triple.contains("-apple-darwin") {
        return None;
    }
    Some(if let Some(root) = cx.env.non_empty("SDKROOT") {
        Sdk {
            source: SdkSource::Environment,
            path: Some(root.into()),
            reason: "SDKROOT is set: your SDK, no stubs".to_owned(),
        }
    } else if let Some(path) = &cx.manifest_sdk {
        Sdk {
            source: SdkSource::Manifest,
            path: Some(path.clone()),
            reason: "`sdk` in par.toml: that SDK, no stubs".to_owned(),
        }
    } else {
        Sdk {
            source: SdkSource::Stubs,
            path: None,
            reason: "no SDK (SDKROOT unset, no `sdk` in par.toml): parbuild generates stubs of the Apple frameworks the build links, from its dependencies' declarations and parbuild's framework table (not an SDK)".to_owned(),
        }
    })
}

/// Where an invocation's generated framework stubs go.
pub fn stubs_dir(target_dir: &std::path::Path) -> std::path::PathBuf {
    target_dir.join("apple-stubs")
}

/// The triple as cargo-zigbuild takes it: `aarch64-unknown-linux-gnu.2.17` for a glibc floor.
pub fn triple_arg(triple: &str, glibc: Option<&str>) -> String {
    match glibc {
        Some(floor) if triple.contains("-linux-gnu") => format!("{triple}.{floor}"),
        _ => triple.to_owned(),
    }
}

/// `cargo-zigbuild zigbuild …` for `inv`.
pub fn command(inv: &Invocation, machine: &Machine) -> Cmd {
    let program = machine.zigbuild().map_or_else(
        || "cargo-zigbuild".into(),
        std::path::PathBuf::into_os_string,
    );
    let mut cmd = Cmd::new(program, &inv.cwd)
        .arg("zigbuild")
        .args(cargo_args(inv, |t| {
            triple_arg(&t.triple, t.glibc.as_deref())
        }));
    if let Some(python) = &machine.zig_python {
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
            crate::manifest::validate::DEFAULT_MACOS_DEPLOYMENT_TARGET.to_owned(),
            "macOS 11, the first on Apple silicon: one value for both Apple CPUs, so they share one invocation; zig would otherwise require the newest macOS"
                .to_owned(),
        ),
    };
    let mut env = vec![EnvSetting {
        key: "MACOSX_DEPLOYMENT_TARGET".to_owned(),
        value,
        reason,
    }];
    if let Some(Sdk {
        source: SdkSource::Manifest,
        path: Some(path),
        reason,
    }) = sdk(triple, cx)
    {
        env.push(EnvSetting {
            key: "SDKROOT".to_owned(),
            value: path.display().to_string(),
            reason,
        });
    }
    env
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
    fn macos_floor_is_one_for_both_cpus_unless_user_set() {
        let cx = TargetContext::default();
        assert_eq!(target_env("x86_64-apple-darwin", &cx)[0].value, "11.0");
        assert_eq!(target_env("aarch64-apple-darwin", &cx)[0].value, "11.0");
        assert!(target_env("aarch64-unknown-linux-gnu", &cx).is_empty());
        let cx = TargetContext {
            user_macos_target: Some("12.0".to_owned()),
            ..TargetContext::default()
        };
        assert!(target_env("x86_64-apple-darwin", &cx).is_empty());
    }

    #[test]
    fn sdk_precedence_environment_then_manifest_then_stubs() {
        let cx = TargetContext::default();
        assert_eq!(sdk("x86_64-unknown-linux-gnu", &cx), None);
        let stubs = sdk("aarch64-apple-darwin", &cx).unwrap();
        assert_eq!((stubs.source, stubs.path), (SdkSource::Stubs, None));
        let cx = TargetContext {
            manifest_sdk: Some("/sdks/MacOSX14.sdk".into()),
            ..TargetContext::default()
        };
        let from_manifest = sdk("x86_64-apple-darwin", &cx).unwrap();
        assert_eq!(from_manifest.source, SdkSource::Manifest);
        let env = target_env("x86_64-apple-darwin", &cx);
        assert_eq!(
            env.iter()
                .find(|e| e.key == "SDKROOT")
                .map(|e| e.value.as_str()),
            Some("/sdks/MacOSX14.sdk")
        );
        let cx = TargetContext {
            env: crate::env::Env::from_vars([("SDKROOT", "/opt/sdk")], "/"),
            ..cx
        };
        let user = sdk("x86_64-apple-darwin", &cx).unwrap();
        assert_eq!(user.source, SdkSource::Environment);
        assert!(
            target_env("x86_64-apple-darwin", &cx)
                .iter()
                .all(|e| e.key != "SDKROOT"),
            "the user's SDKROOT is left alone"
        );
    }
}
