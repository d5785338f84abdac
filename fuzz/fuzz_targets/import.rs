//! Fuzzes `parbuild init --from`: `manifest::import::import` on a hostile wasmcloud.toml
//! or provider.mk Makefile, then what `init` does with the result.
//!
//! The first byte picks the reader (even: wasmcloud.toml, odd: Makefile); the rest is the
//! file's text (not UTF-8: converted lossily). Properties, beyond "never panics, never
//! hangs": an error's location lies inside the text, as for `par.toml`; an import that is
//! accepted can be applied to the rendered `templates/par.toml` (`init`'s own steps), and
//! the `par.toml` that comes out is still valid TOML of par.toml's schema whatever the
//! source said (`manifest::parse` may reject a value, never the file's syntax or shape).
//! `/p` is a made-up absolute directory: `init` rebases the source's relative paths.

#![no_main]

use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use parbuild::commands::init::{InitValues, Source, apply_import, render};
use parbuild::manifest::import::{SourceKind, import};
use parbuild::manifest::{self, ManifestError};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (kind, path) = if selector % 2 == 0 {
        (SourceKind::WasmcloudToml, "/p/wasmcloud.toml")
    } else {
        (SourceKind::ProviderMk, "/p/Makefile")
    };
    let text = parbuild_fuzz::text(rest);
    match import(kind, &text, Path::new(path)) {
        Err(e) => parbuild_fuzz::check_location(&text, e),
        Ok(imported) => {
            let values = InitValues {
                name: "fuzz".to_owned(),
                vendor: "acme".to_owned(),
                version: "0.1.0".to_owned(),
                package: "fuzz-provider".to_owned(),
                artifact: "bin".to_owned(),
            };
            let source = Source {
                path: PathBuf::from(path),
                imported,
            };
            let (par, _notes) = apply_import(&render(&values), &source, Path::new("/p"), &values)
                .unwrap_or_else(|e| panic!("init cannot apply an import: {}", e.render()));
            if let Err(e) = toml::from_str::<toml::Table>(&par) {
                panic!("init would write a par.toml that is not TOML: {e}\n{par}");
            }
            let written = Path::new("/p/par.toml");
            if let Err(e @ ManifestError::Parse { .. }) = manifest::parse(&par, written) {
                panic!("init would write a par.toml it cannot read: {}\n{par}", e);
            }
        }
    }
});
