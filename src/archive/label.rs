//! Archive labels: the `ARCH-OS` names (`x86_64-linux`, `arm-linux`) under which a host
//! looks up its binary, as `<label>.bin` in the tar and as keys of `target_hashes`.

use std::fmt;

/// A validated archive label.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Label(String);

/// Why a string is not a label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    /// Not of the form `ARCH-OS`.
    #[error(
        "`{0}` is not an archive label: expected `ARCH-OS` in lowercase letters, digits and `_`, such as `x86_64-linux` or `aarch64-macos`"
    )]
    Malformed(String),
    /// `claims` and `world` are taken by the claims and WIT entries.
    #[error("`{0}` is reserved: `claims.jwt` and `world.wasm` are not targets")]
    Reserved(String),
}

impl Label {
    /// Checks `text` and wraps it.
    pub fn parse(text: &str) -> Result<Self, LabelError> {
        if text == "claims" || text == "world" {
            return Err(LabelError::Reserved(text.to_owned()));
        }
        let valid_part = |p: &str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        match text.split_once('-') {
            Some((arch, os)) if valid_part(arch) && valid_part(os) => Ok(Self(text.to_owned())),
            _ => Err(LabelError::Malformed(text.to_owned())),
        }
    }

    /// The label text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `ARCH` part.
    pub fn arch(&self) -> &str {
        self.0.split_once('-').map_or(&self.0, |(a, _)| a)
    }

    /// The `OS` part.
    pub fn os(&self) -> &str {
        self.0.split_once('-').map_or("", |(_, o)| o)
    }

    /// The tar entry name, `<label>.bin`.
    pub fn entry_name(&self) -> String {
        format!("{}.bin", self.0)
    }

    /// A warning for labels no host looks up: 32-bit ARM hosts compute `arm-<os>`
    /// from `std::env::consts::ARCH`, never `armv7-<os>`.
    pub fn lookup_warning(&self) -> Option<String> {
        let arch = self.arch();
        (arch.starts_with("armv") || arch == "armhf").then(|| {
            format!(
                "label `{}`: 32-bit ARM hosts look up `arm-{}` (Rust's ARCH is `arm`), so no host will load this binary; use `arm-{}`",
                self.0,
                self.os(),
                self.os()
            )
        })
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_rejects() {
        for ok in [
            "x86_64-linux",
            "aarch64-macos",
            "arm-linux",
            "x86_64-windows",
            "riscv64-linux",
        ] {
            assert_eq!(Label::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "x86_64",
            "X86_64-linux",
            "x86_64-linux.bin",
            "a/b-linux",
            "-linux",
            "x86_64-",
            "",
        ] {
            assert!(
                matches!(Label::parse(bad), Err(LabelError::Malformed(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            Label::parse("claims"),
            Err(LabelError::Reserved(_))
        ));
        assert!(matches!(
            Label::parse("world"),
            Err(LabelError::Reserved(_))
        ));
    }

    #[test]
    fn armv7_warns() {
        assert!(
            Label::parse("armv7-linux")
                .unwrap()
                .lookup_warning()
                .unwrap()
                .contains("arm-linux")
        );
        assert!(
            Label::parse("arm-linux")
                .unwrap()
                .lookup_warning()
                .is_none()
        );
    }
}
