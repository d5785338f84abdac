//! Fuzzes the archive reader and the strict verifier (`parbuild inspect`/`verify`/`pack
//! --from` on a hostile `.par.gz`, `.par` or `.par.zst`) with a 4 MiB decompression cap.
//!
//! The input is the archive file. Properties, beyond "never panics, bounded memory":
//! - the codec is transparent: a plain tar reads exactly the same (entries, hashes, loads,
//!   token, tar and stream errors) after it is gzipped or zstd-compressed, which also puts
//!   valid gzip/zstd streams around every tar the fuzzer invents;
//! - `extract_file` (the `--from` reader) agrees with the scan: it writes only
//!   `<label>.bin`/`world.wasm` into its directory, each with the bytes the scan hashed;
//! - an archive that verifies reads back identically: `inspect` accepts it with a valid
//!   signature and matching hashes, the extracted files hash to the claims' `target_hashes`,
//!   and re-collecting each extracted binary's load facts gives what the scan found.

#![no_main]

use std::collections::BTreeMap;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use parbuild::archive::binary::Collector;
use parbuild::archive::scan::{Role, Scan, extract_file, inspect_scan, role_of, scan_reader};
use parbuild::archive::tar::EntryKind;
use parbuild::archive::{Compression, ReadOptions, VerifyOptions, verify};
use parbuild_fuzz::{ACCOUNT_PUB, CAP, SERVICE_PUB};

/// What a scan found, minus the codec: equal across codecs for one tar.
fn content(scan: &Scan) -> String {
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}",
        scan.entries, scan.token, scan.tar_error, scan.stream_error
    )
}

fn options() -> [VerifyOptions; 2] {
    [
        VerifyOptions {
            max_unpacked: CAP,
            ..VerifyOptions::default()
        },
        VerifyOptions {
            max_unpacked: CAP,
            issuer: Some(ACCOUNT_PUB.to_owned()),
            subject: Some(SERVICE_PUB.to_owned()),
            now: 1_700_000_000,
            glibc_floor: Some("2.17".to_owned()),
            macos_min: Some("11.0".to_owned()),
        },
    ]
}

fuzz_target!(|data: &[u8]| {
    let read = ReadOptions { max_unpacked: CAP };
    let scan = scan_reader(data, &read);
    let fake = Path::new("fuzz.par.gz");
    let inspected = inspect_scan(fake, &scan);
    if let Ok(i) = &inspected {
        // What `inspect --json` prints.
        serde_json::to_string(i).expect("an inspection serializes");
    }
    let reports = options().map(|o| verify::verify_scan(&scan, &o));
    for r in &reports {
        let _ = (r.failures(), r.failed_names());
        serde_json::to_string(r).expect("a report serializes");
    }

    if scan.compression == Compression::None {
        let plain = content(&scan);
        for (codec, wrapped) in [
            (Compression::Gzip, parbuild_fuzz::gzip(data)),
            (Compression::Zstd, parbuild_fuzz::zstd(data)),
        ] {
            let again = scan_reader(wrapped.as_slice(), &read);
            assert_eq!(again.compression, codec);
            assert_eq!(content(&again), plain, "{codec:?} changes what is read");
        }
    }

    // `pack --from` / `extract_file`: only takes a path.
    let file = parbuild_fuzz::scratch_file("archive.in", data);
    let out = parbuild_fuzz::scratch_dir("archive.out");
    let extracted = extract_file(&file, &out, &read);
    let listed = parbuild_fuzz::list(&out);
    for (name, is_file) in &listed {
        assert!(*is_file, "extract made a non-file `{name}`");
        assert!(
            matches!(role_of(name), Role::World | Role::Target(_)),
            "extract wrote `{name}`"
        );
    }
    let clean = scan.stream_error.is_none() && scan.tar_error.is_none();
    let files = |name: &str| {
        scan.entries
            .iter()
            .filter(|e| e.kind == EntryKind::File && e.name == name)
            .count()
    };
    let duplicates = scan
        .entries
        .iter()
        .filter(|e| matches!(e.role(), Role::World | Role::Target(_)))
        .any(|e| files(&e.name) > 1);
    let mut written: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    match extracted {
        Ok(list) => {
            assert_eq!(
                list.len(),
                listed.len(),
                "extract's list is not what it wrote"
            );
            for (role, path) in list {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                assert_eq!(role, role_of(&name));
                let bytes = std::fs::read(&path).expect("read back an extracted file");
                if clean {
                    let entry = scan
                        .entries
                        .iter()
                        .find(|e| e.kind == EntryKind::File && e.name == name)
                        .expect("extract wrote an entry the scan did not see");
                    assert_eq!(entry.size, bytes.len() as u64, "`{name}` size");
                    assert_eq!(
                        entry.sha256,
                        parbuild_fuzz::sha256(&bytes),
                        "`{name}` bytes"
                    );
                }
                written.insert(name, bytes);
            }
        }
        Err(e) => {
            assert!(
                !clean || duplicates,
                "the scan read the archive cleanly but extract failed: {e}"
            );
            let _ = parbuild::Error::from(e).render();
        }
    }

    if !reports[0].ok() {
        return;
    }
    // It verifies: everything must read back the same.
    let i = inspected.expect("a verified archive is inspectable");
    assert!(i.signature_valid, "verified, yet {:?}", i.signature_error);
    assert!(
        i.targets.iter().all(|t| t.hash_ok),
        "verified, yet a hash differs"
    );
    assert!(i.world.as_ref().is_none_or(|w| w.hash_ok));
    let claims = parbuild::archive::jwt::decode(&i.token)
        .claims
        .expect("verified claims decode");
    let hashes = &claims
        .wascap
        .as_ref()
        .expect("verified claims have wascap")
        .target_hashes;
    assert_eq!(
        written.len(),
        hashes.len(),
        "extract wrote {:?}",
        written.keys()
    );
    for (name, bytes) in &written {
        let key = name.strip_suffix(".bin").unwrap_or(name);
        assert_eq!(
            hashes.get(key),
            Some(&parbuild_fuzz::sha256(bytes)),
            "`{name}`"
        );
        if let Role::Target(_) = role_of(name) {
            let entry = scan
                .entries
                .iter()
                .find(|e| e.name == *name)
                .expect("a scanned entry");
            let mut c = Collector::new(bytes.len() as u64);
            c.feed(bytes);
            assert_eq!(Some(c.finish()), entry.loads, "`{name}` load facts");
        }
    }
});
