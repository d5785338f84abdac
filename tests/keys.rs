//! `parbuild keys` and key handling in `pack`: generate/show, file modes, no trailing
//! newline, refusal under CI, wrong types and malformed seeds, seeds never printed.

mod support;

use support::*;

#[test]
fn generate_then_show() {
    let p = Project::new();
    let out = p
        .parbuild([
            "keys",
            "generate",
            "--type",
            "account",
            "-o",
            "keys/acct.nk",
        ])
        .success();
    let public = out.stdout.trim().to_owned();
    assert!(public.starts_with('A') && public.len() == 56, "{public}");
    let seed = std::fs::read_to_string(p.path("keys/acct.nk")).unwrap();
    assert!(
        seed.starts_with("SA") && seed.len() == 58,
        "no trailing newline"
    );
    assert!(!out.stdout.contains(&seed) && !out.stderr.contains(&seed));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |rel: &str| std::fs::metadata(p.path(rel)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("keys/acct.nk"), 0o600);
        assert_eq!(mode("keys"), 0o700);
    }
    let shown = p.parbuild(["keys", "show", "keys/acct.nk"]).success();
    assert_eq!(shown.stdout.trim(), public);
    let json = p
        .parbuild(["keys", "show", "keys/acct.nk", "--json"])
        .success()
        .json();
    assert_eq!(json["type"], "account");
    assert_eq!(json["public_key"], public.as_str());
    let again = p
        .parbuild([
            "keys",
            "generate",
            "--type",
            "service",
            "-o",
            "keys/acct.nk",
        ])
        .code(2);
    assert!(
        again.stderr.contains("refusing to overwrite"),
        "{}",
        again.stderr
    );
    assert_eq!(
        std::fs::read_to_string(p.path("keys/acct.nk")).unwrap(),
        seed
    );

    let json = p
        .parbuild(["keys", "generate", "--type", "service", "--json"])
        .success()
        .json();
    assert!(json["public_key"].as_str().unwrap().starts_with('V'));
    assert!(json["path"].is_null());
}

#[test]
fn show_trims_whitespace_and_rejects_garbage_without_echoing() {
    let p = Project::new();
    p.file("svc.nk", format!("\n  {SERVICE_SEED}\r\n"));
    let out = p.parbuild(["keys", "show", "svc.nk"]).success();
    assert_eq!(out.stdout.trim(), SERVICE_PUB);
    let broken = format!("{}X", &SERVICE_SEED[..57]);
    p.file("broken.nk", &broken);
    let out = p.parbuild(["keys", "show", "broken.nk"]).code(2);
    assert!(
        out.stderr.contains("not a valid nkey seed"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(&broken[..40]));
    p.parbuild(["keys", "show", "missing.nk"]).code(2);
}

#[test]
fn pack_generates_missing_keys_outside_ci_and_announces_them() {
    let p = Project::new();
    let mut args: Vec<String> = ["pack", "--name", "n", "--vendor", "v"]
        .map(String::from)
        .to_vec();
    args.extend(p.two_binaries());
    let out = p.parbuild(args.clone()).env("USER", "ann").success();
    let keys = p.path("home/.wash/keys");
    assert!(keys.join("ann_account.nk").is_file(), "{}", out.stderr);
    assert!(
        keys.join("x86_service.nk").is_file(),
        "the subject is named after the binary, like wash"
    );
    assert!(
        out.stderr.contains("generated a new issuer") && out.stderr.contains("ann_account.nk"),
        "{}",
        out.stderr
    );
    let seed = std::fs::read_to_string(keys.join("ann_account.nk")).unwrap();
    assert!(!out.stderr.contains(&seed) && !out.stdout.contains(&seed));
    // The next run reuses them: same issuer, nothing announced.
    let out2 = p.parbuild(args).env("USER", "ann").success();
    assert!(!out2.stderr.contains("generated"), "{}", out2.stderr);
}

#[test]
fn under_ci_missing_keys_are_an_error_that_says_how_to_provide_them() {
    let p = Project::new();
    let mut args: Vec<String> = ["pack", "--name", "n", "--vendor", "v"]
        .map(String::from)
        .to_vec();
    args.extend(p.two_binaries());
    let out = p.parbuild(args.clone()).env("CI", "true").code(2);
    assert!(
        out.stderr.contains("never generated under CI"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("WASH_ISSUER_KEY"), "{}", out.stderr);
    assert!(!p.path("home/.wash").exists());
    assert!(!p.path("n.par.gz").exists());
    // Environment variables with seeds work under CI, and keys are checked for their role.
    p.parbuild(args.clone())
        .env("CI", "true")
        .env("WASH_ISSUER_KEY", ACCOUNT_SEED)
        .env("WASH_SUBJECT_KEY", SERVICE_SEED)
        .success();
    let out = p
        .parbuild(args.clone())
        .env("CI", "true")
        .env("WASH_ISSUER_KEY", SERVICE_SEED)
        .env("WASH_SUBJECT_KEY", SERVICE_SEED)
        .code(2);
    assert!(
        out.stderr.contains("must be an account key"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(SERVICE_SEED));
    let out = p
        .parbuild(args)
        .env("WASH_ISSUER_KEY", &ACCOUNT_SEED[..50])
        .env("WASH_SUBJECT_KEY", SERVICE_SEED)
        .code(2);
    assert!(
        out.stderr.contains("not a valid nkey seed"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(&ACCOUNT_SEED[..50]));
}

#[test]
fn disable_keygen_and_keys_dir() {
    let p = Project::new();
    let mut args: Vec<String> = ["pack", "--name", "n", "--vendor", "v", "--keys-dir", "k"]
        .map(String::from)
        .to_vec();
    args.extend(p.two_binaries());
    let out = p
        .parbuild(args.iter().cloned().chain(["--disable-keygen".to_owned()]))
        .code(2);
    assert!(out.stderr.contains("--disable-keygen"), "{}", out.stderr);
    p.file("k/user_account.nk", ACCOUNT_SEED);
    p.file("k/x86_service.nk", format!("{SERVICE_SEED}\n"));
    let json = p
        .parbuild(args.iter().cloned().chain(["--json".to_owned()]))
        .success()
        .json();
    assert_eq!(json["issuer"], ACCOUNT_PUB);
    assert_eq!(json["subject"], SERVICE_PUB);
    // WASH_KEYS is the default directory.
    let json = p
        .parbuild(
            args.into_iter()
                .filter(|a| a != "--keys-dir" && a != "k")
                .chain(["--json".to_owned()]),
        )
        .env("WASH_KEYS", p.path("k"))
        .success()
        .json();
    assert_eq!(json["issuer"], ACCOUNT_PUB);
}

#[test]
fn a_key_file_others_can_read_is_used_with_a_warning_that_says_how_to_fix_it() {
    let p = Project::new();
    p.pack(&["-o", "tight.par.gz"]).success();
    let quiet = p.pack(&["-o", "tight.par.gz"]).success();
    assert!(!quiet.stderr.contains("chmod"), "{}", quiet.stderr);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(p.path("svc.nk"), std::fs::Permissions::from_mode(0o644)).unwrap();
        // Not `p.pack`, which writes the keys afresh (0600).
        let loose = p
            .parbuild([
                "pack",
                "--name",
                "Example",
                "--vendor",
                "acme",
                "--target",
                "x86_64-linux=bin/x86",
                "--issuer",
                "acct.nk",
                "--subject",
                "svc.nk",
                "-o",
                "loose.par.gz",
            ])
            .success();
        assert!(
            loose.stderr.contains("svc.nk")
                && loose.stderr.contains("mode 644")
                && loose.stderr.contains("chmod 600"),
            "{}",
            loose.stderr
        );
        assert!(!loose.stderr.contains("acct.nk"), "{}", loose.stderr);
        // The warning names the file, never the seed.
        assert!(!loose.stderr.contains(support::SERVICE_SEED));
    }
}
