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
        matches!(e, KeyError::SwappedRole { role: "issuer", .. }),
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

#[test]
fn seed_like_text_is_recognised_in_pieces_too() {
    assert!(holds_seed_like(ACCOUNT_SEED));
    assert!(
        holds_seed_like(&ACCOUNT_SEED[2..22]),
        "20 characters of a body"
    );
    assert!(holds_seed_like(&format!("/keys/{}", &SERVICE_SEED[5..40])));
    assert!(holds_seed_like(&ACCOUNT_SEED.to_lowercase()));
    assert!(!holds_seed_like(&ACCOUNT_SEED[2..21]), "19 are not enough");
    for path in [
        "/tmp/parbuild-test-Ab12Cd/home/.wash/keys/user_account.nk",
        "keys/fakepay-provider_service.nk",
        "C:\\keys\\acct.nk",
    ] {
        assert!(!holds_seed_like(path), "{path}");
    }
}

/// Every kind of broken seed names its file or variable and what is wrong, never the seed.
#[test]
fn a_broken_seed_says_what_is_wrong_without_quoting_it() {
    let dir = tempfile::tempdir().unwrap();
    let changed = {
        let mut s = ACCOUNT_SEED.to_owned();
        s.replace_range(20..21, if &s[20..21] == "X" { "Y" } else { "X" });
        s
    };
    let last = format!("{}B", &ACCOUNT_SEED[..57]);
    let cases: [(&str, &str, &str); 6] = [
        ("changed.nk", &changed, "checksum does not match"),
        ("last.nk", &last, "not valid base32"),
        ("short.nk", &ACCOUNT_SEED[..30], "30 characters long"),
        ("empty.nk", "", "it is empty"),
        ("blank.nk", " \n\t\n", "it is empty"),
        ("public.nk", ACCOUNT_PUB, "is a public key"),
    ];
    for (name, text, reason) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let e = read_seed_file(&file, "issuer").unwrap_err();
        let shown = render(&e);
        assert!(matches!(e, KeyError::Malformed { .. }), "{name}: {shown}");
        assert!(
            shown.contains(reason) && shown.contains(name),
            "{name}: {shown}"
        );
        no_seed(&shown);
        if text.trim().len() >= 20 && name != "public.nk" {
            assert!(!shown.contains(&text.trim()[2..22]), "{name}: {shown}");
        }
    }
    // A huge file is not read whole.
    let big = dir.path().join("big.nk");
    std::fs::write(&big, vec![b'A'; 1 << 20]).unwrap();
    let e = read_seed_file(&big, "issuer").unwrap_err();
    assert!(e.to_string().contains("more than 4096 bytes"), "{e}");
}

#[test]
fn a_directory_a_blank_variable_and_a_missing_path_are_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("keys.d")).unwrap();
    let quoted = format!("'{ACCOUNT_SEED}'");
    let cases = [
        (vec![("WASH_ISSUER_KEY", "keys.d")], "is a directory"),
        (vec![("WASH_ISSUER_KEY", "  ")], "blank"),
        (
            vec![("WASH_ISSUER_KEY", "nosuch.nk")],
            "nosuch.nk` does not exist",
        ),
        (
            vec![("WASH_ISSUER_KEY", quoted.as_str())],
            "the value is not shown",
        ),
    ];
    for (vars, needle) in cases {
        let e = resolve(&KeyOptions::default(), &env(dir.path(), &vars), "p").unwrap_err();
        let shown = render(&e);
        assert!(shown.contains(needle), "{shown}");
        assert!(shown.contains("WASH_ISSUER_KEY"), "{shown}");
        assert!(e.hint().is_some(), "{shown}");
        no_seed(&shown);
    }
    let opts = KeyOptions {
        issuer: Some(KeyRef::Path("keys.d".into())),
        ..KeyOptions::default()
    };
    let e = resolve(&opts, &env(dir.path(), &[]), "p").unwrap_err();
    assert!(matches!(e, KeyError::Directory { .. }), "{e}");
    assert!(e.to_string().contains("keys.d"), "{e}");
}

#[test]
fn swapped_roles_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let swapped = env(
        dir.path(),
        &[
            ("WASH_ISSUER_KEY", ACCOUNT_SEED),
            ("WASH_SUBJECT_KEY", ACCOUNT_SEED),
        ],
    );
    let e = resolve(&KeyOptions::default(), &swapped, "p").unwrap_err();
    assert!(
        matches!(
            e,
            KeyError::SwappedRole {
                role: "subject",
                ..
            }
        ),
        "{e}"
    );
    let shown = render(&e);
    assert!(
        shown.contains("must be a service key") && shown.contains("swapped"),
        "{shown}"
    );
    no_seed(&shown);
    // Another kind of nkey is a wrong type, not a swap.
    let operator = KeyPair::new_operator().seed().unwrap();
    let e = resolve(
        &KeyOptions::default(),
        &env(dir.path(), &[("WASH_ISSUER_KEY", &operator)]),
        "p",
    )
    .unwrap_err();
    assert!(matches!(e, KeyError::WrongType { .. }), "{e}");
    assert!(!render(&e).contains(&operator[2..22]));
}

/// A seed, or any piece of one, typed where a path belongs is refused and never echoed.
#[test]
fn pieces_of_seeds_on_the_command_line_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for typed in [
        ACCOUNT_SEED.to_owned(),
        format!(" {ACCOUNT_SEED}\n"),
        ACCOUNT_SEED[..40].to_owned(),
        ACCOUNT_SEED.to_lowercase(),
        format!("{}X", &ACCOUNT_SEED[..57]),
    ] {
        let opts = KeyOptions {
            issuer: Some(KeyRef::Path(typed.clone().into())),
            ..KeyOptions::default()
        };
        no_seed(&format!("{opts:?}"));
        let e = resolve(&opts, &env(dir.path(), &[]), "p").unwrap_err();
        assert!(
            matches!(e, KeyError::SeedOnCommandLine { .. }),
            "{typed}: {e}"
        );
        no_seed(&render(&e));
        assert!(!render(&e).contains(&typed.trim()[..20]));
        // `keys show` reads through `read_seed_file`.
        let e = read_seed_file(&dir.path().join(typed.trim()), "key").unwrap_err();
        assert!(matches!(e, KeyError::SeedAsPath { .. }), "{e}");
        assert!(!render(&e).contains(&typed.trim()[..20]));
    }
}

/// `Debug` of every type that holds a seed (or may, like a path typed by the user) shows
/// none of it: the seed, its base32 body, or any 20 characters of either.
#[test]
fn debug_of_every_type_holding_a_seed_hides_it() {
    let body = |seed: &str| seed[2..].to_owned();
    let check = |text: &str| {
        for seed in [ACCOUNT_SEED, SERVICE_SEED] {
            assert!(!text.contains(seed), "seed in {text}");
            assert!(!text.contains(&body(seed)), "body in {text}");
            for i in 0..=seed.len() - super::seed::SEED_RUN {
                assert!(
                    !text.contains(&seed[i..i + super::seed::SEED_RUN]),
                    "piece in {text}"
                );
            }
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let env = env(
        dir.path(),
        &[
            ("WASH_ISSUER_KEY", ACCOUNT_SEED),
            ("WASH_SUBJECT_KEY", SERVICE_SEED),
        ],
    );
    let keys = resolve(&KeyOptions::default(), &env, "p").unwrap();
    check(&format!("{keys:?} {keys:#?}"));
    check(&format!("{:?} {:#?}", keys.issuer, keys.subject));
    let seed = Seed(ACCOUNT_SEED.to_owned());
    check(&format!("{seed:?} {seed:#?}"));
    let opts = KeyOptions {
        issuer: Some(KeyRef::Path(ACCOUNT_SEED.into())),
        subject: Some(KeyRef::Path(SERVICE_SEED[..30].into())),
        issuer_public: Some(ACCOUNT_SEED.to_owned()),
        ..KeyOptions::default()
    };
    check(&format!("{opts:?} {opts:#?}"));
    // Every error a seed can cause, with its sources and hint.
    let mut errors = vec![resolve(&opts, &env, "p").unwrap_err()];
    let pinned = KeyOptions {
        issuer_public: Some(ACCOUNT_SEED.to_owned()),
        ..KeyOptions::default()
    };
    errors.push(resolve(&pinned, &env, "p").unwrap_err());
    let flipped = format!("{}A", &ACCOUNT_SEED[..57]);
    let quoted = format!("\"{ACCOUNT_SEED}\"");
    for (issuer, subject) in [
        (SERVICE_SEED, SERVICE_SEED),
        (ACCOUNT_SEED, ACCOUNT_SEED),
        (&ACCOUNT_SEED[..57], SERVICE_SEED),
        (flipped.as_str(), SERVICE_SEED),
        (quoted.as_str(), SERVICE_SEED),
    ] {
        let vars = super::tests::env(
            dir.path(),
            &[("WASH_ISSUER_KEY", issuer), ("WASH_SUBJECT_KEY", subject)],
        );
        errors.push(resolve(&KeyOptions::default(), &vars, "p").unwrap_err());
    }
    for e in &errors {
        check(&render(e));
        check(&format!("{e:#?}"));
    }
}
