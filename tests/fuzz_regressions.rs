//! Every input the fuzzers ever failed on (`fuzz/regressions/<target>/`), replayed on the
//! stable toolchain through the same public readers the fuzz targets drive, so a crash, a
//! hang or a runaway allocation that was fixed stays fixed in every `scripts/test`, without
//! nightly or cargo-fuzz. (`scripts/fuzz --replay` replays them under libFuzzer too, with
//! the targets' full properties; FUZZING.md.)

use std::path::{Path, PathBuf};

use parbuild::archive::{self, Label, ReadOptions, VerifyOptions};
use parbuild::manifest::{self, import};

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "README"))
        .collect();
    files.sort();
    files
}

#[test]
fn text_readers_survive_their_regressions() {
    for path in inputs("import") {
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        for kind in [
            import::SourceKind::WasmcloudToml,
            import::SourceKind::ProviderMk,
        ] {
            // Ok or a located error; what matters is that it returns, and fast.
            let _ = import::import(kind, &text, Path::new("Makefile"));
        }
    }
    for path in inputs("manifest") {
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        if let Err(e) = manifest::parse(&text, Path::new("par.toml")) {
            let rendered = parbuild::Error::from(e).render();
            assert!(rendered.starts_with("error: "), "{}", path.display());
        }
    }
}

#[test]
fn byte_readers_survive_their_regressions() {
    let scratch = tempfile::tempdir().unwrap();
    let cap = 4 << 20;
    for (target, path) in ["archive", "part"]
        .into_iter()
        .flat_map(|t| inputs(t).into_iter().map(move |p| (t, p)))
    {
        let file = scratch.path().join("input");
        std::fs::copy(&path, &file).unwrap();
        if target == "archive" {
            let _ = archive::read_file(&file, &ReadOptions { max_unpacked: cap });
            let _ = archive::verify_file(
                &file,
                &VerifyOptions {
                    max_unpacked: cap,
                    ..VerifyOptions::default()
                },
            );
        } else {
            let _ = parbuild::part::read_manifest(&file, cap);
            let _ = parbuild::part::extract(&file, cap, &scratch.path().join("out"));
        }
    }
    for path in inputs("binary") {
        let bytes = std::fs::read(&path).unwrap();
        for label in [
            "x86_64-linux",
            "aarch64-macos",
            "x86_64-windows",
            "arm-linux",
        ] {
            let _ = archive::binary::check(&Label::parse(label).unwrap(), &bytes);
        }
    }
}
