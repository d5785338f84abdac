//! The one table that maps archive labels to Rust target triples, and back.
//!
//! A host picks its binary by `format!("{ARCH}-{OS}")` of `std::env::consts`, so the label
//! of a triple is what Rust's `ARCH`/`OS` would be on it: `arm-linux` for every 32-bit ARM
//! Linux triple (spec §2.3), never `armv7-linux`.

/// Well-known labels and the triple parbuild builds for each by default.
/// `armv7-linux` is accepted as an alias of `arm-linux` (the label written).
const LABEL_TO_TRIPLE: &[(&str, &str)] = &[
    ("x86_64-linux", "x86_64-unknown-linux-gnu"),
    ("aarch64-linux", "aarch64-unknown-linux-gnu"),
    ("arm-linux", "armv7-unknown-linux-gnueabihf"),
    ("armv7-linux", "armv7-unknown-linux-gnueabihf"),
    ("x86_64-macos", "x86_64-apple-darwin"),
    ("aarch64-macos", "aarch64-apple-darwin"),
    ("x86_64-windows", "x86_64-pc-windows-gnu"),
    ("aarch64-windows", "aarch64-pc-windows-msvc"),
    ("x86-linux", "i686-unknown-linux-gnu"),
    ("riscv64-linux", "riscv64gc-unknown-linux-gnu"),
    ("x86_64-freebsd", "x86_64-unknown-freebsd"),
];

/// The default triple for a well-known label (or its alias).
pub fn triple_for_label(label: &str) -> Option<&'static str> {
    LABEL_TO_TRIPLE
        .iter()
        .find(|(l, _)| *l == label)
        .map(|(_, t)| *t)
}

/// Every label accepted as a `[targets]` key, in table order (`armv7-linux` included,
/// as the alias of `arm-linux`).
pub fn known_labels() -> impl Iterator<Item = &'static str> {
    LABEL_TO_TRIPLE.iter().map(|(l, _)| *l)
}

/// Whether `text` looks like a Rust target triple rather than a label (at least three parts).
pub fn looks_like_triple(text: &str) -> bool {
    text.split('-').count() >= 3
}

/// The archive label a host running `triple` looks up: Rust's `ARCH-OS` for it.
/// `None` when the triple's architecture or OS is not one parbuild knows.
pub fn label_for_triple(triple: &str) -> Option<String> {
    let mut parts = triple.split('-');
    let arch_part = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    let arch = rust_arch(arch_part)?;
    let os = rust_os(&rest)?;
    Some(format!("{arch}-{os}"))
}

/// `std::env::consts::ARCH` for the first component of a triple.
fn rust_arch(arch: &str) -> Option<&'static str> {
    Some(match arch {
        "x86_64" => "x86_64",
        "aarch64" | "arm64" => "aarch64",
        a if a.starts_with("armv") || a == "arm" || a.starts_with("thumbv") => "arm",
        "i386" | "i586" | "i686" => "x86",
        "riscv64gc" | "riscv64" => "riscv64",
        "powerpc64le" | "powerpc64" => "powerpc64",
        "s390x" => "s390x",
        "mips" | "mipsel" => "mips",
        "mips64" | "mips64el" => "mips64",
        "loongarch64" => "loongarch64",
        _ => return None,
    })
}

/// `std::env::consts::OS` for the rest of a triple.
fn rust_os(rest: &[&str]) -> Option<&'static str> {
    let has = |s: &str| rest.contains(&s);
    Some(if has("linux") {
        if has("android") || rest.iter().any(|p| p.starts_with("android")) {
            "android"
        } else {
            "linux"
        }
    } else if has("darwin") {
        "macos"
    } else if has("windows") {
        "windows"
    } else if has("freebsd") {
        "freebsd"
    } else if has("netbsd") {
        "netbsd"
    } else if has("ios") {
        "ios"
    } else {
        return None;
    })
}

/// The Debian cross gcc that links `triple`, as (program, package).
pub fn debian_linker(triple: &str) -> Option<(&'static str, &'static str)> {
    Some(match triple {
        "aarch64-unknown-linux-gnu" => ("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"),
        "armv7-unknown-linux-gnueabihf" | "arm-unknown-linux-gnueabihf" => {
            ("arm-linux-gnueabihf-gcc", "gcc-arm-linux-gnueabihf")
        }
        "arm-unknown-linux-gnueabi" => ("arm-linux-gnueabi-gcc", "gcc-arm-linux-gnueabi"),
        "x86_64-unknown-linux-gnu" => ("x86_64-linux-gnu-gcc", "gcc-x86-64-linux-gnu"),
        "i686-unknown-linux-gnu" => ("i686-linux-gnu-gcc", "gcc-i686-linux-gnu"),
        "riscv64gc-unknown-linux-gnu" => ("riscv64-linux-gnu-gcc", "gcc-riscv64-linux-gnu"),
        "x86_64-pc-windows-gnu" => ("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64-posix"),
        _ => return None,
    })
}

/// The upper-case form cargo uses in `CARGO_TARGET_<TRIPLE>_*` variables.
pub fn env_key(triple: &str) -> String {
    triple.to_ascii_uppercase().replace(['-', '.'], "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_key_is_cargos_spelling() {
        assert_eq!(
            env_key("aarch64-unknown-linux-gnu"),
            "AARCH64_UNKNOWN_LINUX_GNU"
        );
        assert_eq!(
            env_key("thumbv7em-none-eabihf.2"),
            "THUMBV7EM_NONE_EABIHF_2"
        );
    }

    #[test]
    fn table_and_derivation_agree() {
        for (label, triple) in LABEL_TO_TRIPLE {
            let derived = label_for_triple(triple).unwrap();
            let expected = if *label == "armv7-linux" {
                "arm-linux"
            } else {
                label
            };
            assert_eq!(derived, expected, "{triple}");
        }
    }

    #[test]
    fn spec_examples() {
        for (triple, label) in [
            ("x86_64-unknown-linux-musl", "x86_64-linux"),
            ("aarch64-unknown-linux-musl", "aarch64-linux"),
            ("armv7-unknown-linux-musleabihf", "arm-linux"),
            ("arm-unknown-linux-gnueabi", "arm-linux"),
            ("x86_64-pc-windows-msvc", "x86_64-windows"),
            ("i686-unknown-linux-gnu", "x86-linux"),
        ] {
            assert_eq!(label_for_triple(triple).as_deref(), Some(label), "{triple}");
        }
        assert_eq!(label_for_triple("wasm32-unknown-unknown"), None);
    }
}
