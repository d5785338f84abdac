//! Unit tests of the part format: round trip, every kind of damage rejected without a
//! panic, the decompression cap, and the set checks with the field that differs named.

use std::path::{Path, PathBuf};

use super::*;
use crate::archive::tar as tarfmt;
use crate::archive::{Compression, ProviderMeta};

fn manifest(label: &str, binary: &Path) -> PartManifest {
    PartManifest {
        format: FORMAT,
        parbuild: "0.1.0".to_owned(),
        label: label.to_owned(),
        triple: format!("{label}-triple"),
        binary: digest_file(binary).unwrap(),
        rustc: Some("1.95.0".to_owned()),
        provider: ProviderMeta {
            name: "Example".to_owned(),
            vendor: "acme".to_owned(),
            version: Some("0.1.0".to_owned()),
            revision: Some(0),
            capid: None,
            config_schema: None,
        },
        package: "example".to_owned(),
        artifact: "example".to_owned(),
        targets: vec!["x86_64-linux".to_owned(), "aarch64-linux".to_owned()],
        world: None,
        compression: Compression::Gzip,
        output: "build/example.par.gz".to_owned(),
        issuer_public: None,
        subject_public: None,
        source: Source {
            revision: Some("0123456789abcdef0123456789abcdef01234567".to_owned()),
            lockfile_sha256: Some("AB".repeat(32)),
        },
    }
}

/// A directory with a binary and its part.
fn good_part(label: &str) -> (tempfile::TempDir, PathBuf, PartManifest) {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::write(&bin, format!("\x7fELF binary for {label}").repeat(100)).unwrap();
    let m = manifest(label, &bin);
    let part = dir
        .path()
        .join(file_name("example", &Label::parse(label).unwrap()));
    write(&part, &m, &bin, None).unwrap();
    (dir, part, m)
}

/// Decompresses a part to its tar bytes.
fn tar_of(part: &Path) -> Vec<u8> {
    zstd::decode_all(std::fs::read(part).unwrap().as_slice()).unwrap()
}

/// Writes tar bytes as a part.
fn save(path: &Path, tar: &[u8]) {
    std::fs::write(path, zstd::encode_all(tar, 3).unwrap()).unwrap();
}

fn extract_into(part: &Path, cap: u64) -> Result<Extracted, PartError> {
    let out = tempfile::tempdir().unwrap();
    let r = extract(part, cap, out.path());
    if let Ok(e) = &r {
        assert!(e.binary.is_file());
    }
    r
}

#[test]
fn round_trip() {
    let (dir, part, m) = good_part("x86_64-linux");
    assert_eq!(
        part.file_name().unwrap(),
        "example-x86_64-linux.part.tar.zst"
    );
    assert_eq!(read_manifest(&part, 1 << 20).unwrap(), m);
    let out = tempfile::tempdir().unwrap();
    let e = extract(&part, 1 << 20, out.path()).unwrap();
    assert_eq!(e.manifest, m);
    assert_eq!(e.label.as_str(), "x86_64-linux");
    assert_eq!(
        std::fs::read(&e.binary).unwrap(),
        std::fs::read(dir.path().join("bin")).unwrap()
    );
    // Deterministic: the same inputs give the same bytes.
    let again = dir.path().join("again.part.tar.zst");
    write(&again, &m, &dir.path().join("bin"), None).unwrap();
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(&part).unwrap()
    );
    // No temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn world_travels_with_the_part() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::write(&bin, b"\x7fELF...").unwrap();
    let world = dir.path().join("w.wasm");
    std::fs::write(&world, b"\0asm\x01\0\0\0").unwrap();
    let mut m = manifest("x86_64-linux", &bin);
    m.world = Some(digest_file(&world).unwrap());
    let part = dir.path().join("p.part.tar.zst");
    write(&part, &m, &bin, Some(&world)).unwrap();
    let e = extract_into(&part, 1 << 20).unwrap();
    assert!(e.world.is_some_and(|w| w.ends_with("world.wasm")));
}

#[test]
fn a_file_that_does_not_match_its_digest_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::write(&bin, b"one").unwrap();
    let m = manifest("x86_64-linux", &bin);
    std::fs::write(&bin, b"two").unwrap();
    let part = dir.path().join("p.part.tar.zst");
    assert!(write(&part, &m, &bin, None).is_err());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only `bin`"
    );
}

#[test]
fn a_flipped_byte_is_a_hash_mismatch() {
    let (dir, part, m) = good_part("x86_64-linux");
    let mut tar = tar_of(&part);
    // The binary's data starts after the manifest entry and the binary's header.
    let json_blocks = (m_json_len(&tar) as usize).div_ceil(512);
    let data = 512 * (1 + json_blocks) + 512;
    tar[data + 10] ^= 0xff;
    let bad = dir.path().join("bad.part.tar.zst");
    save(&bad, &tar);
    let err = extract_into(&bad, 1 << 20).unwrap_err();
    assert!(
        matches!(&err, PartError::Tampered { field, .. } if field == "binary.sha256"),
        "{err}"
    );
    assert!(err.to_string().contains("bad.part.tar.zst"), "{err}");
    let _ = m;
}

fn m_json_len(tar: &[u8]) -> u64 {
    u64::from_str_radix(
        std::str::from_utf8(&tar[124..135])
            .unwrap()
            .trim_matches('\0')
            .trim(),
        8,
    )
    .unwrap()
}

#[test]
fn garbage_never_panics() {
    let (dir, part, _) = good_part("x86_64-linux");
    let bytes = std::fs::read(&part).unwrap();
    let tar = tar_of(&part);
    let probe = dir.path().join("probe");
    let mut inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"hello".to_vec(),
        vec![0u8; 4096],
        tar.clone(),                                     // not compressed
        zstd::encode_all(&b"not a tar"[..], 3).unwrap(), // zstd, not tar
        zstd::encode_all(&[0u8; 1024][..], 3).unwrap(),  // an empty tar
    ];
    // Truncated at many points, and with bytes flipped all over.
    for cut in (0..bytes.len()).step_by(7) {
        inputs.push(bytes[..cut].to_vec());
    }
    for at in (0..tar.len()).step_by(97) {
        let mut t = tar.clone();
        t[at] ^= 0x5a;
        inputs.push(zstd::encode_all(t.as_slice(), 1).unwrap());
    }
    let mut trailing = bytes.clone();
    trailing.extend_from_slice(&bytes);
    inputs.push(trailing);
    for input in inputs {
        std::fs::write(&probe, &input).unwrap();
        let _ = read_manifest(&probe, 1 << 20);
        let out = tempfile::tempdir().unwrap();
        let _ = extract(&probe, 1 << 20, out.path());
    }
    std::fs::write(&probe, b"").unwrap();
    assert!(matches!(
        read_manifest(&probe, 1 << 20),
        Err(PartError::Invalid { .. })
    ));
}

#[test]
fn a_bomb_stops_at_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    // A manifest that honestly states a 16 MiB binary of zeros: a few KiB compressed.
    let bin = dir.path().join("bin");
    std::fs::write(&bin, vec![0u8; 16 << 20]).unwrap();
    let m = manifest("x86_64-linux", &bin);
    let part = dir.path().join("bomb.part.tar.zst");
    write(&part, &m, &bin, None).unwrap();
    assert!(std::fs::metadata(&part).unwrap().len() < 1 << 20);
    let err = extract_into(&part, 1 << 20).unwrap_err();
    assert!(matches!(err, PartError::TooLarge { .. }), "{err}");
}

#[test]
fn manifest_problems_are_named() {
    let (dir, part, _) = good_part("x86_64-linux");
    let tar = tar_of(&part);
    let len = m_json_len(&tar) as usize;
    let json = std::str::from_utf8(&tar[512..512 + len])
        .unwrap()
        .to_owned();
    let rewrite = |edit: &dyn Fn(&str) -> String| {
        let new = edit(&json);
        let mut t = Vec::new();
        t.extend_from_slice(&tarfmt::gnu_header(MANIFEST_ENTRY, new.len() as u64).unwrap());
        t.extend_from_slice(new.as_bytes());
        t.resize(t.len() + tarfmt::padding(new.len() as u64), 0);
        t.extend_from_slice(&tar[512 + len.div_ceil(512) * 512..]);
        let p = dir.path().join("edited.part.tar.zst");
        save(&p, &t);
        extract_into(&p, 1 << 20).unwrap_err().to_string()
    };
    let e = rewrite(&|j| j.replace("\"format\": 1", "\"format\": 2"));
    assert!(e.contains("format 2 part"), "{e}");
    let e = rewrite(&|j| j.replace("\"package\"", "\"surprise\": 1,\n  \"package\""));
    assert!(e.contains("unknown field `surprise`"), "{e}");
    let e = rewrite(&|j| j.replace("x86_64-linux\",\n  \"triple", "x86 linux\",\n  \"triple"));
    assert!(e.contains("bad `label`"), "{e}");
    let e = rewrite(&|j| j.replace("\"size\": ", "\"size\": 1"));
    assert!(e.contains("binary.size"), "{e}");
    for bad in ["/etc/passwd", "../up.par.gz", "build/../../up.par.gz", ""] {
        let e = rewrite(&|j| j.replace("build/example.par.gz", bad));
        assert!(
            e.contains("`output` that is not a relative path"),
            "{bad}: {e}"
        );
    }
    let e = rewrite(&|_| "{".to_owned());
    assert!(e.contains("is not JSON"), "{e}");
}

#[test]
fn set_checks_name_the_part_and_field() {
    let bin = tempfile::NamedTempFile::new().unwrap();
    let a = manifest("x86_64-linux", bin.path());
    let b = manifest("aarch64-linux", bin.path());
    let pa = PathBuf::from("a.part.tar.zst");
    let pb = PathBuf::from("b.part.tar.zst");
    let ok = check_set(&[(pa.clone(), a.clone()), (pb.clone(), b.clone())], false).unwrap();
    assert_eq!(ok.missing, Vec::<String>::new());

    let mut other = b.clone();
    other.provider.version = Some("0.2.0".to_owned());
    let e = check_set(&[(pa.clone(), a.clone()), (pb.clone(), other)], false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "`b.part.tar.zst` does not belong with `a.part.tar.zst`: `provider.version` is \"0.2.0\" there but \"0.1.0\" in `a.part.tar.zst`"
    );

    let mut other = b.clone();
    other.source.lockfile_sha256 = Some("CD".repeat(32));
    let e = check_set(&[(pa.clone(), a.clone()), (pb.clone(), other)], false).unwrap_err();
    assert!(e.to_string().contains("`source.lockfile_sha256`"), "{e}");

    let e = check_set(&[(pa.clone(), a.clone()), (pb.clone(), a.clone())], false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "`b.part.tar.zst` and `a.part.tar.zst` are both the part for `x86_64-linux`"
    );

    let e = check_set(&[(pa.clone(), a.clone())], false).unwrap_err();
    assert!(
        e.to_string().starts_with("no part for `aarch64-linux`"),
        "{e}"
    );
    assert_eq!(
        check_set(&[(pa.clone(), a.clone())], true).unwrap().missing,
        ["aarch64-linux"]
    );

    let mut stranger = b.clone();
    stranger.label = "x86_64-macos".to_owned();
    let e = check_set(&[(pa.clone(), a.clone()), (pb.clone(), stranger)], false).unwrap_err();
    assert!(matches!(e, PartError::NotListed { .. }), "{e}");

    let mut newer = b;
    newer.rustc = Some("1.96.0".to_owned());
    let ok = check_set(&[(pa, a), (pb, newer)], false).unwrap();
    assert_eq!(ok.warnings.len(), 1, "{:?}", ok.warnings);
    assert!(matches!(check_set(&[], false), Err(PartError::NoParts)));
}
