//! Tests of key resolution: sources, generation, CI refusal, pins, hidden seeds.

use super::*;

const ACCOUNT_SEED: &str = "SAABCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEN4YE";
const ACCOUNT_PUB: &str = "ADIEVMRSOQV3JKZ2CNUL2RQV4TTNAISKW4NAC25PQUQKGMWJO6DTOWD2";
const SERVICE_SEED: &str = "SVACEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIU7CU";
const SERVICE_PUB: &str = "VCQJVJPUPJTVTABP7FK7RXBNFIKKLSM5EO7JP6DECJ77SOBUKWSPAVJZ";

fn env(dir: &Path, vars: &[(&str, &str)]) -> Env {
    let mut all = vec![("HOME".to_owned(), dir.join("home").display().to_string())];
    all.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    Env::from_vars(all, dir)
}

fn no_seed(text: &str) {
    for seed in [
        ACCOUNT_SEED,
        SERVICE_SEED,
        &ACCOUNT_SEED[..40],
        &SERVICE_SEED[2..50],
    ] {
        assert!(!text.contains(seed), "seed leaked: {text}");
    }
}

/// Everything an error can show: message, sources, `Debug` and hint.
fn render(e: &KeyError) -> String {
    let mut text = format!("{e} {e:?} {:?}", e.hint());
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[test]
fn from_environment_seeds_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("svc.nk");
    std::fs::write(&file, format!("  {SERVICE_SEED}\n")).unwrap();
    let env = env(
        dir.path(),
        &[
            ("WASH_ISSUER_KEY", ACCOUNT_SEED),
            ("WASH_SUBJECT_KEY", "svc.nk"),
        ],
    );
    let keys = resolve(&KeyOptions::default(), &env, "p").unwrap();
    assert_eq!(keys.issuer.public_key(), ACCOUNT_PUB);
    assert_eq!(keys.subject.public_key(), SERVICE_PUB);
    assert!(keys.generated.is_empty());
    let debug = format!("{keys:?}");
    no_seed(&debug);
    assert!(debug.contains("<hidden>"));
    assert_eq!(format!("{:?}", Seed(ACCOUNT_SEED.into())), "<hidden>");
}

#[test]
fn wrong_type_malformed_and_seed_on_cli_never_leak() {
    let dir = tempfile::tempdir().unwrap();
    let swapped = env(
        dir.path(),
        &[
            ("WASH_ISSUER_KEY", SERVICE_SEED),
            ("WASH_SUBJECT_KEY", SERVICE_SEED),
        ],
    );
    let e = resolve(&KeyOptions::default(), &swapped, "p").unwrap_err();
    assert!(
        matches!(e, KeyError::WrongType { role: "issuer", .. }),
        "{e}"
    );
    no_seed(&render(&e));
    let bad = &ACCOUNT_SEED[..57];
    let e = resolve(
        &KeyOptions::default(),
        &env(dir.path(), &[("WASH_ISSUER_KEY", bad)]),
        "p",
    )
    .unwrap_err();
    assert!(matches!(e, KeyError::Malformed { .. }), "{e}");
    no_seed(&render(&e));
    let flipped = format!("{}A", &ACCOUNT_SEED[..57]);
    let e = resolve(
        &KeyOptions::default(),
        &env(dir.path(), &[("WASH_ISSUER_KEY", &flipped)]),
        "p",
    )
    .unwrap_err();
    assert!(matches!(e, KeyError::Malformed { .. }), "{e}");
    no_seed(&render(&e));
    let opts = KeyOptions {
        issuer: Some(KeyRef::Path(ACCOUNT_SEED.into())),
        ..KeyOptions::default()
    };
    no_seed(&format!("{opts:?}"));
    let flags = KeyFlags {
        subject: Some(ACCOUNT_SEED.into()),
        ..KeyFlags::default()
    };
    no_seed(&format!("{flags:?}"));
    let e = resolve(&opts, &env(dir.path(), &[]), "p").unwrap_err();
    assert!(matches!(e, KeyError::SeedOnCommandLine { .. }), "{e}");
    no_seed(&render(&e));
    let file = dir.path().join("acct.nk");
    std::fs::write(&file, "not a seed").unwrap();
    let opts = KeyOptions {
        issuer: Some(KeyRef::Path(file)),
        ..KeyOptions::default()
    };
    assert!(matches!(
        resolve(&opts, &env(dir.path(), &[]), "p"),
        Err(KeyError::Malformed { .. })
    ));
}

#[test]
fn generates_like_wash_outside_ci_only() {
    let dir = tempfile::tempdir().unwrap();
    let e = resolve(
        &KeyOptions::default(),
        &env(dir.path(), &[("CI", "true")]),
        "p",
    )
    .unwrap_err();
    assert!(
        matches!(e, KeyError::Missing { .. }) && e.to_string().contains("CI"),
        "{e}"
    );
    assert!(e.hint().unwrap().contains("WASH_ISSUER_KEY"));
    assert!(
        !dir.path().join("home").exists(),
        "nothing written under CI"
    );
    let disabled = KeyOptions {
        disable_keygen: true,
        ..KeyOptions::default()
    };
    assert!(matches!(
        resolve(&disabled, &env(dir.path(), &[]), "p"),
        Err(KeyError::Missing { .. })
    ));

    let env = env(dir.path(), &[("USER", "ann")]);
    let keys = resolve(&KeyOptions::default(), &env, "my-provider").unwrap();
    let keys_dir = dir.path().join("home/.wash/keys");
    let account = keys_dir.join("ann_account.nk");
    let service = keys_dir.join("my-provider_service.nk");
    assert_eq!(keys.generated.len(), 2);
    assert_eq!(keys.generated[0].path, account);
    let text = std::fs::read_to_string(&account).unwrap();
    assert_eq!(text.len(), 58, "no trailing newline");
    assert!(text.starts_with("SA"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&account), 0o600);
        assert_eq!(mode(&service), 0o600);
        assert_eq!(mode(&keys_dir), 0o700);
    }
    // Second run: the same keys are read back.
    let again = resolve(&KeyOptions::default(), &env, "my-provider").unwrap();
    assert!(again.generated.is_empty());
    assert_eq!(again.issuer.public_key(), keys.issuer.public_key());
    assert_eq!(again.subject.public_key(), keys.subject.public_key());
}

#[test]
fn pins() {
    let dir = tempfile::tempdir().unwrap();
    let env = env(
        dir.path(),
        &[
            ("WASH_ISSUER_KEY", ACCOUNT_SEED),
            ("WASH_SUBJECT_KEY", SERVICE_SEED),
        ],
    );
    let pinned = |issuer: &str, subject: &str| KeyOptions {
        issuer_public: Some(issuer.to_owned()),
        subject_public: Some(subject.to_owned()),
        ..KeyOptions::default()
    };
    assert!(resolve(&pinned(ACCOUNT_PUB, SERVICE_PUB), &env, "p").is_ok());
    let other = KeyPair::new_account().public_key();
    let e = resolve(&pinned(&other, SERVICE_PUB), &env, "p").unwrap_err();
    assert!(
        matches!(e, KeyError::PinMismatch { role: "issuer", .. }),
        "{e}"
    );
    let e = resolve(&pinned(SERVICE_PUB, SERVICE_PUB), &env, "p").unwrap_err();
    assert!(matches!(e, KeyError::BadPin { .. }), "{e}");
    // A pinned key that is missing is not generated.
    let bare = super::tests::env(dir.path(), &[]);
    let e = resolve(&pinned(ACCOUNT_PUB, SERVICE_PUB), &bare, "p").unwrap_err();
    assert!(
        matches!(e, KeyError::Missing { .. }) && e.to_string().contains("pinned"),
        "{e}"
    );
}

#[test]
fn options_from_cli_and_manifest() {
    let args = KeyFlags {
        issuer: Some("cli.nk".into()),
        ..KeyFlags::default()
    };
    let manifest = SignSettings {
        issuer: Some(KeyRef::Path("/m/acct.nk".into())),
        subject: Some(KeyRef::Env("SVC".into())),
        issuer_public: Some(ACCOUNT_PUB.into()),
        subject_public: None,
    };
    let o = KeyOptions::new(args, Some(&manifest));
    assert_eq!(o.issuer, Some(KeyRef::Path("cli.nk".into())));
    assert_eq!(o.subject, Some(KeyRef::Env("SVC".into())));
    assert_eq!(o.issuer_public.as_deref(), Some(ACCOUNT_PUB));
    let dir = tempfile::tempdir().unwrap();
    let e = resolve(
        &KeyOptions { issuer: None, ..o },
        &env(dir.path(), &[]),
        "p",
    )
    .unwrap_err();
    assert!(
        matches!(e, KeyError::Missing { .. } | KeyError::EnvUnset { .. }),
        "{e}"
    );
}
