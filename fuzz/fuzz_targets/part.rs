//! Fuzzes the part reader (`parbuild assemble` on a hostile `*.part.tar.zst`): reading the
//! manifest alone, extracting the whole part, and checking a one-part set, with a 4 MiB
//! decompression cap.
//!
//! An input that starts with the zstd magic is the part file itself; any other input is a
//! tar, zstd-compressed here first, so mutations reach the tar and `part.json` layers.
//! Properties, beyond "never panics, bounded memory":
//! - `extract` succeeding implies `read_manifest` gives the same manifest, the extracted
//!   binary (and WIT package) have exactly the size and SHA-256 `part.json` states, and
//!   nothing else was written;
//! - a single part with `--allow-missing` is accepted exactly when its label is one of its
//!   own `targets`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use parbuild::archive::Label;
use parbuild::part;
use parbuild_fuzz::CAP;

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

fuzz_target!(|data: &[u8]| {
    let bytes = if data.starts_with(&ZSTD_MAGIC) {
        data.to_vec()
    } else {
        parbuild_fuzz::zstd(data)
    };
    let path = parbuild_fuzz::scratch_file("x-x86_64-linux.part.tar.zst", &bytes);
    let manifest = part::read_manifest(&path, CAP);
    let dir = parbuild_fuzz::scratch_dir("part.out");
    let extracted = part::extract(&path, CAP, &dir);
    let listed = parbuild_fuzz::list(&dir);
    match extracted {
        Ok(x) => {
            let m = manifest.expect("an extracted part's manifest reads alone");
            assert_eq!(m, x.manifest);
            assert_eq!(Label::parse(&m.label).as_ref(), Ok(&x.label));
            let mut expected = vec![(x.label.entry_name(), &x.binary, &m.binary)];
            match (&x.world, &m.world) {
                (Some(path), Some(digest)) => {
                    expected.push((parbuild::archive::WORLD_ENTRY.to_owned(), path, digest));
                }
                (None, None) => {}
                (w, d) => panic!("extracted world {w:?} but the manifest says {d:?}"),
            }
            let mut names: Vec<(String, bool)> =
                expected.iter().map(|(n, _, _)| (n.clone(), true)).collect();
            names.sort();
            assert_eq!(listed, names, "extract wrote other files");
            for (name, file, digest) in expected {
                assert_eq!(*file, dir.join(&name));
                let content = std::fs::read(file).expect("read back an extracted file");
                assert_eq!(content.len() as u64, digest.size, "`{name}` size");
                assert!(
                    parbuild_fuzz::sha256(&content).eq_ignore_ascii_case(&digest.sha256),
                    "`{name}` does not hash to what part.json states"
                );
            }
            let set = [(path.clone(), m.clone())];
            let report = part::check_set(&set, true);
            assert_eq!(
                report.is_ok(),
                m.targets.contains(&m.label),
                "{report:?} for label {} and targets {:?}",
                m.label,
                m.targets
            );
            let _ = part::check_set(&set, false).map_err(|e| parbuild::Error::from(e).render());
        }
        Err(e) => {
            assert!(
                listed.iter().all(|(_, is_file)| *is_file),
                "extract made a non-file: {listed:?}"
            );
            let _ = parbuild::Error::from(e).render();
            if let Ok(m) = manifest {
                let _ = part::check_set(&[(path, m)], true)
                    .map_err(|e| parbuild::Error::from(e).render());
            }
        }
    }
});
