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
