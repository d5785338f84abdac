//! Fuzzes the `par.toml` reader (`parbuild::manifest::parse`) and the rendering of its
//! errors, as every command that reads a manifest does.
//!
//! The input is the file's text (not UTF-8: converted lossily). Properties, beyond "never
//! panics": an error's location lies inside the text (its line exists, its column is on
//! that line, at least one character is underlined, the snippet is that line), its
//! snippet shows no seed-shaped word, and it renders as `error: FILE:LINE:COLUMN: …`;
//! a manifest that is accepted has unique target labels, each a valid label, and
//! serializes (as `parbuild plan --json` shows it).

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use parbuild::archive::Label;
use parbuild::manifest::{self, ManifestError};

fuzz_target!(|data: &[u8]| {
    let text = parbuild_fuzz::text(data);
    match manifest::parse(&text, Path::new("fuzz/par.toml")) {
        Ok(m) => {
            let mut labels: Vec<&Label> = m.targets.iter().map(|t| &t.label).collect();
            for l in &labels {
                assert_eq!(Label::parse(l.as_str()).as_ref(), Ok(*l));
            }
            labels.sort();
            labels.dedup();
            assert_eq!(labels.len(), m.targets.len(), "duplicate labels accepted");
            serde_json::to_string(&m).expect("a manifest serializes");
        }
        Err(e) => {
            if let ManifestError::Parse { at, .. } | ManifestError::Invalid { at, .. } = &e
                && let Some(pos) = &at.pos
            {
                let seed = pos
                    .text
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .find(|w| manifest::diagnostic::looks_like_seed(w));
                assert!(seed.is_none(), "the snippet shows a seed: {}", pos.text);
            }
            parbuild_fuzz::check_location(&text, e);
        }
    }
});
