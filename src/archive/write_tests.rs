//! Tests of the writer: the golden vector byte for byte, round trips through every
//! codec, refused specs, and the atomic, verified `write_file`.

use super::*;
use crate::archive::scan::scan_reader;
use crate::archive::verify::verify_scan;
use crate::archive::{ReadOptions, jwt};

const ACCOUNT_SEED: &str = "SAABCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEN4YE";
const SERVICE_PUB: &str = "VCQJVJPUPJTVTABP7FK7RXBNFIKKLSM5EO7JP6DECJ77SOBUKWSPAVJZ";

fn vector(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/spec/vectors")
        .join(name)
}

fn vector_inputs(dir: &Path) -> (ProviderMeta, Vec<(Label, PathBuf)>) {
    let mut binaries = Vec::new();
    // Given in reverse order: the writer sorts.
    for label in ["x86_64-linux", "aarch64-linux"] {
        let path = dir.join(label);
        std::fs::write(&path, format!("example {label} provider binary\n")).unwrap();
        binaries.push((Label::parse(label).unwrap(), path));
    }
    let meta = ProviderMeta {
        name: "Example Provider".into(),
        vendor: "acme".into(),
        version: Some("1.2.3".into()),
        revision: Some(7),
        capid: None,
        config_schema: None,
    };
    (meta, binaries)
}

#[test]
fn reproduces_the_golden_vector() {
    let dir = tempfile::tempdir().unwrap();
    let (meta, binaries) = vector_inputs(dir.path());
    let issuer = nkeys::KeyPair::from_seed(ACCOUNT_SEED).unwrap();
    let spec = WriteSpec {
        meta: &meta,
        binaries: &binaries,
        world: None,
        compression: Compression::None,
        issuer: &issuer,
        subject: SERVICE_PUB,
        iat: 1_700_000_000,
        jti: Jti::Given("Kq3vX9ZbT1mN8pLw2RcY4d".into()),
    };
    let (bytes, written) = write_to(Vec::new(), &spec).unwrap();
    let golden: serde_json::Value =
        serde_json::from_slice(&std::fs::read(vector("vector.json")).unwrap()).unwrap();
    assert_eq!(written.token, golden["jwt"].as_str().unwrap());
    assert_eq!(
        written.claims.to_json(),
        golden["payload_json"].as_str().unwrap()
    );
    assert_eq!(
        bytes,
        std::fs::read(vector("vector.par")).unwrap(),
        "tar differs from vector.par"
    );
    assert_eq!(written.size, 4608);

    // The capid variant.
    let capid_meta = ProviderMeta {
        capid: Some("wasmcloud:example".into()),
        ..meta.clone()
    };
    let (_, written) = write_to(
        Vec::new(),
        &WriteSpec {
            meta: &capid_meta,
            ..spec
        },
    )
    .unwrap();
    assert_eq!(written.token, golden["capid_jwt"].as_str().unwrap());
}

#[test]
fn round_trip_every_compression_and_deterministic_jti() {
    let dir = tempfile::tempdir().unwrap();
    let (meta, binaries) = vector_inputs(dir.path());
    let issuer = nkeys::KeyPair::from_seed(ACCOUNT_SEED).unwrap();
    for compression in [Compression::Gzip, Compression::None, Compression::Zstd] {
        let spec = WriteSpec {
            meta: &meta,
            binaries: &binaries,
            world: None,
            compression,
            issuer: &issuer,
            subject: SERVICE_PUB,
            iat: 1,
            jti: Jti::FromContent,
        };
        let (a, wa) = write_to(Vec::new(), &spec).unwrap();
        let (b, _) = write_to(Vec::new(), &spec).unwrap();
        assert_eq!(a, b, "{compression:?}: same inputs, same bytes");
        assert_eq!(wa.claims.jti.len(), 22);
        let scan = scan_reader(
            &a[..],
            &ReadOptions {
                max_unpacked: 1 << 20,
            },
        );
        assert_eq!(scan.compression, compression);
        let report = verify_scan(
            &scan,
            &VerifyOptions {
                max_unpacked: 1 << 20,
                issuer: Some(issuer.public_key()),
                subject: Some(SERVICE_PUB.into()),
                now: 2,
                ..VerifyOptions::default()
            },
        );
        // Text "binaries": only the CPU check fails.
        assert_eq!(report.failed_names(), ["binaries"], "{report:#?}");
        let decoded = jwt::decode(&wa.token);
        assert!(decoded.signature.is_ok());
    }
}

#[test]
fn rejects_bad_specs() {
    let dir = tempfile::tempdir().unwrap();
    let (meta, binaries) = vector_inputs(dir.path());
    let issuer = nkeys::KeyPair::from_seed(ACCOUNT_SEED).unwrap();
    let service = nkeys::KeyPair::new_service();
    let spec = WriteSpec {
        meta: &meta,
        binaries: &binaries,
        world: None,
        compression: Compression::None,
        issuer: &issuer,
        subject: SERVICE_PUB,
        iat: 1,
        jti: Jti::FromContent,
    };
    let err = write_to(
        Vec::new(),
        &WriteSpec {
            issuer: &service,
            ..spec.clone()
        },
    )
    .unwrap_err();
    assert!(
        matches!(err, ArchiveError::WrongKeyType { role: "issuer", .. }),
        "{err}"
    );
    let err = write_to(
        Vec::new(),
        &WriteSpec {
            subject: &issuer.public_key(),
            ..spec.clone()
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ArchiveError::WrongKeyType {
                role: "subject",
                ..
            }
        ),
        "{err}"
    );
    let err = write_to(
        Vec::new(),
        &WriteSpec {
            binaries: &[],
            ..spec.clone()
        },
    )
    .unwrap_err();
    assert!(matches!(err, ArchiveError::NoTargets));
    let twice = [binaries[0].clone(), binaries[0].clone()];
    let err = write_to(
        Vec::new(),
        &WriteSpec {
            binaries: &twice,
            ..spec.clone()
        },
    )
    .unwrap_err();
    assert!(matches!(err, ArchiveError::DuplicateLabel { .. }), "{err}");
    let missing = [(
        Label::parse("x86_64-linux").unwrap(),
        dir.path().join("nope"),
    )];
    let err = write_to(
        Vec::new(),
        &WriteSpec {
            binaries: &missing,
            ..spec.clone()
        },
    )
    .unwrap_err();
    assert!(matches!(err, ArchiveError::ReadInput { .. }), "{err}");
    // write_file: the CPU check runs before anything is written.
    let dest = dir.path().join("out.par");
    let opts = VerifyOptions {
        max_unpacked: 1 << 20,
        issuer: None,
        subject: None,
        now: 2,
        ..VerifyOptions::default()
    };
    let err = write_file(&dest, &spec, &opts).unwrap_err();
    assert!(matches!(err, ArchiveError::BinaryMismatch { .. }), "{err}");
    let err = write_file(&dir.path().join("no/such/dir/out.par"), &spec, &opts).unwrap_err();
    assert!(matches!(err, ArchiveError::OutputDir { .. }), "{err}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "nothing left behind"
    );
}

#[test]
fn write_file_is_atomic_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("provider");
    std::fs::write(
        &exe,
        crate::archive::binary::tests::elf(object::elf::EM_X86_64, true),
    )
    .unwrap();
    let binaries = [(Label::parse("x86_64-linux").unwrap(), exe)];
    let (meta, _) = vector_inputs(dir.path());
    let issuer = nkeys::KeyPair::from_seed(ACCOUNT_SEED).unwrap();
    let spec = WriteSpec {
        meta: &meta,
        binaries: &binaries,
        world: None,
        compression: Compression::Gzip,
        issuer: &issuer,
        subject: SERVICE_PUB,
        iat: 1,
        jti: Jti::FromContent,
    };
    let dest = dir.path().join("p.par.gz");
    std::fs::write(&dest, b"previous").unwrap();
    // A pin that does not match: the self-check fails and the old file survives.
    let pinned = VerifyOptions {
        max_unpacked: 1 << 30,
        issuer: None,
        subject: Some("VOTHER".into()),
        now: 2,
        ..VerifyOptions::default()
    };
    let err = write_file(&dest, &spec, &pinned).unwrap_err();
    assert!(matches!(err, ArchiveError::SelfCheck { .. }), "{err}");
    assert_eq!(std::fs::read(&dest).unwrap(), b"previous");
    let (w, report) = write_file(
        &dest,
        &spec,
        &VerifyOptions {
            subject: None,
            ..pinned
        },
    )
    .unwrap();
    assert!(report.ok());
    assert_eq!(w.size, std::fs::metadata(&dest).unwrap().len());
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        names.iter().all(|n| !n.to_string_lossy().ends_with(".tmp")),
        "{names:?}"
    );
}

#[test]
fn current_archive_is_recognised_and_changes_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("provider");
    std::fs::write(
        &exe,
        crate::archive::binary::tests::elf(object::elf::EM_X86_64, true),
    )
    .unwrap();
    let binaries = [(Label::parse("x86_64-linux").unwrap(), exe.clone())];
    let (meta, _) = vector_inputs(dir.path());
    let issuer = nkeys::KeyPair::from_seed(ACCOUNT_SEED).unwrap();
    let spec = WriteSpec {
        meta: &meta,
        binaries: &binaries,
        world: None,
        compression: Compression::Gzip,
        issuer: &issuer,
        subject: SERVICE_PUB,
        iat: 10,
        jti: Jti::FromContent,
    };
    let opts = VerifyOptions {
        max_unpacked: 1 << 30,
        issuer: None,
        subject: None,
        now: 20,
        ..VerifyOptions::default()
    };
    let dest = dir.path().join("p.par.gz");
    assert!(current(&dest, &spec, &opts).unwrap().is_none(), "absent");
    let (w, _) = write_file(&dest, &spec, &opts).unwrap();
    let (found, report) = current(&dest, &spec, &opts).unwrap().expect("current");
    assert!(report.ok());
    assert_eq!((found.size, &found.token), (w.size, &w.token));
    // Reproducible: another epoch is another archive.
    assert!(
        current(
            &dest,
            &WriteSpec {
                iat: 11,
                ..spec.clone()
            },
            &opts
        )
        .unwrap()
        .is_none()
    );
    // From the clock: a later build of the same inputs keeps the archive.
    let later = WriteSpec {
        iat: 15,
        jti: Jti::Given("AnotherRandomJti000000".into()),
        ..spec.clone()
    };
    assert!(current(&dest, &later, &opts).unwrap().is_some());
    let other_service = nkeys::KeyPair::new_service().public_key();
    let other_meta = ProviderMeta {
        revision: Some(8),
        ..meta.clone()
    };
    let changed = [
        WriteSpec {
            meta: &other_meta,
            ..later.clone()
        },
        WriteSpec {
            compression: Compression::Zstd,
            ..later.clone()
        },
        WriteSpec {
            subject: &other_service,
            ..later.clone()
        },
    ];
    for spec in &changed {
        assert!(current(&dest, spec, &opts).unwrap().is_none(), "{spec:?}");
    }
    // A rebuilt binary with other bytes.
    let mut bytes = std::fs::read(&exe).unwrap();
    bytes.push(0);
    std::fs::write(&exe, bytes).unwrap();
    assert!(current(&dest, &later, &opts).unwrap().is_none());
}

/// A minimal x86_64 ELF header followed by `len` bytes of noise and runs, so a big input
/// spans several gzip pieces.
fn big_elf(path: &Path, len: usize, seed: u64) {
    let mut bytes = crate::archive::binary::tests::elf(object::elf::EM_X86_64, true);
    let mut x = seed | 1;
    while bytes.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if x.is_multiple_of(4) {
            bytes.extend(std::iter::repeat_n((x >> 8) as u8, (x % 200) as usize));
        } else {
            bytes.extend_from_slice(&x.to_le_bytes()[..4]);
        }
    }
    bytes.truncate(len);
    std::fs::write(path, bytes).unwrap();
}

fn spec_of<'a>(
    meta: &'a ProviderMeta,
    binaries: &'a [(Label, PathBuf)],
    world: Option<&'a Path>,
    issuer: &'a nkeys::KeyPair,
    compression: Compression,
) -> WriteSpec<'a> {
    WriteSpec {
        meta,
        binaries,
        world,
        compression,
        issuer,
        subject: SERVICE_PUB,
        iat: 1,
        jti: Jti::FromContent,
    }
}

fn opts() -> VerifyOptions {
    VerifyOptions {
        max_unpacked: 1 << 30,
        now: 2,
        ..VerifyOptions::default()
    }
}

#[test]
fn verified_while_written_and_timed_per_entry_for_every_codec() {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("provider");
    // Several 1 MiB gzip pieces, so the verifier follows many writes.
    big_elf(&exe, 5 << 20, 7);
    let world = dir.path().join("world.wasm");
    std::fs::write(&world, b"\0asm\x01\0\0\0").unwrap();
    let binaries = [(Label::parse("x86_64-linux").unwrap(), exe)];
    let (meta, _) = vector_inputs(dir.path());
    let issuer = nkeys::KeyPair::from_seed(ACCOUNT_SEED).unwrap();
    for compression in [Compression::Gzip, Compression::None, Compression::Zstd] {
        let spec = spec_of(&meta, &binaries, Some(&world), &issuer, compression);
        let dest = dir.path().join(format!("p.{}", compression.extension()));
        let (w, report) = write_file(&dest, &spec, &opts()).unwrap();
        assert!(report.ok(), "{compression:?}: {}", report.failures());
        // The same bytes as the plain writer's, which nothing reads back.
        let (plain, _) = write_to(Vec::new(), &spec).unwrap();
        assert!(std::fs::read(&dest).unwrap() == plain, "{compression:?}");
        let labels: Vec<&str> = w.times.keys().map(String::as_str).collect();
        assert_eq!(labels, ["world.wasm", "x86_64-linux"], "{compression:?}");
        for (label, t) in &w.times {
            for (what, s) in [("hash", t.hash), ("pack", t.pack), ("verify", t.verify)] {
                assert!(
                    s.is_finite() && s >= 0.0,
                    "{compression:?} {label} {what}: {s}"
                );
            }
        }
        // `current` finds it, and has nothing to pack.
        let (found, _) = current(&dest, &spec, &opts()).unwrap().expect("current");
        assert!(found.times.values().all(|t| t.pack == 0.0));
        assert_eq!(found.times.len(), 2);
    }
}

#[test]
fn an_input_that_changes_between_the_passes_is_named_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("provider");
    let binaries = [(Label::parse("x86_64-linux").unwrap(), exe.clone())];
    let (meta, _) = vector_inputs(dir.path());
    let issuer = nkeys::KeyPair::from_seed(ACCOUNT_SEED).unwrap();
    for compression in [Compression::Gzip, Compression::None, Compression::Zstd] {
        let spec = spec_of(&meta, &binaries, None, &issuer, compression);
        let dest = dir.path().join("p.par");
        // Same size, other bytes (only the hashes can tell), then another size.
        for change in [false, true] {
            big_elf(&exe, 3 << 20, 11);
            std::fs::write(&dest, b"previous").unwrap();
            let (inputs, claims, token) = prepare(&spec).unwrap();
            let mut bytes = std::fs::read(&exe).unwrap();
            if change {
                bytes.push(0);
            } else {
                let last = bytes.len() - 1;
                bytes[last] ^= 1;
            }
            std::fs::write(&exe, bytes).unwrap();
            let err = write_prepared(&dest, &spec, &opts(), inputs, claims, token).unwrap_err();
            assert!(
                matches!(&err, ArchiveError::InputChanged { path } if *path == exe),
                "{compression:?}, size changed {change}: {err}"
            );
            assert_eq!(std::fs::read(&dest).unwrap(), b"previous");
            let left: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".tmp"))
                .collect();
            assert!(left.is_empty(), "{left:?}");
        }
    }
}
