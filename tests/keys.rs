//! `parbuild keys` and key handling in `pack` and `build`: generate/show, file modes, no
//! trailing newline, refusal under CI; every bad key (a directory, swapped roles, a
//! changed, cut or empty seed, a blank or wrong variable, a seed on the command line) a
//! clear exit-2 error that writes nothing; seeds in the environment as a seed or a path;
//! and no seed, nor any 20 characters of one, in stdout, stderr, the build's logs or the
//! archive's claims at `-vv`.

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
    assert!(out.stderr.contains("--generate-keys"), "{}", out.stderr);
    assert!(!p.path("home/.wash").exists());
    assert!(!p.path("n.par.gz").exists());
    // `--generate-keys` allows a throwaway pair under CI, announced as loudly as anywhere.
    let mut generate = args.clone();
    generate.extend([
        "--generate-keys".to_owned(),
        "-o".to_owned(),
        "ci.par.gz".to_owned(),
    ]);
    let out = p.parbuild(generate).env("CI", "true").success();
    for (role, file) in [
        ("issuer (account)", "user_account.nk"),
        ("subject (service)", "x86_service.nk"),
    ] {
        let key = p.path(&format!("home/.wash/keys/{file}"));
        let said = format!(
            "generated a new {role} key `{}` (public key ",
            key.display()
        );
        assert!(out.stderr.contains(&said), "{}", out.stderr);
        assert!(key.exists());
    }
    assert!(out.stderr.contains("back it up"), "{}", out.stderr);
    assert!(p.path("ci.par.gz").exists());
    std::fs::remove_dir_all(p.path("home/.wash")).unwrap();
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

// ---- Every bad key, through the real binary: a clear error, exit 2, nothing written.

/// One way to hand parbuild a bad key: its flags and environment, and what the error
/// must say (the file or variable, what is wrong; every case also has a `help:` line).
struct BadKey {
    name: &'static str,
    flags: Vec<String>,
    env: Vec<(&'static str, String)>,
    says: Vec<&'static str>,
}

/// `ACCOUNT_SEED` with its 21st character changed: the CRC no longer matches.
fn changed_seed() -> String {
    let mut seed = ACCOUNT_SEED.to_owned();
    assert_eq!(&seed[20..21], "C");
    seed.replace_range(20..21, "D");
    seed
}

/// Writes the key files the cases use into `dir` and returns the cases.
fn bad_keys(dir: &std::path::Path) -> Vec<BadKey> {
    let write = |rel: &str, text: &str| {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        #[cfg(unix)]
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
    };
    write("acct.nk", ACCOUNT_SEED);
    write("svc.nk", SERVICE_SEED);
    write("changed.nk", &changed_seed());
    write("last.nk", &format!("{}B", &ACCOUNT_SEED[..57]));
    write("short.nk", &ACCOUNT_SEED[..50]);
    write("short_svc.nk", &SERVICE_SEED[..57]);
    write("empty.nk", "");
    write("pub.nk", ACCOUNT_PUB);
    std::fs::create_dir_all(dir.join("keys.d")).unwrap();
    std::fs::create_dir_all(dir.join("kd/user_account.nk")).unwrap();
    let flags = |issuer: &str, subject: &str| {
        vec![
            "--issuer".to_owned(),
            issuer.to_owned(),
            "--subject".to_owned(),
            subject.to_owned(),
        ]
    };
    let env = |issuer: &str, subject: &str| {
        vec![
            ("WASH_ISSUER_KEY", issuer.to_owned()),
            ("WASH_SUBJECT_KEY", subject.to_owned()),
        ]
    };
    vec![
        BadKey {
            name: "a directory as --issuer",
            flags: flags("keys.d", "svc.nk"),
            env: vec![],
            says: vec!["issuer", "keys.d", "is a directory, not a key file"],
        },
        BadKey {
            name: "a directory in WASH_SUBJECT_KEY",
            flags: vec![],
            env: env("acct.nk", "keys.d"),
            says: vec!["keys.d", "$WASH_SUBJECT_KEY", "is a directory"],
        },
        BadKey {
            name: "a directory where the key directory's account file belongs",
            flags: vec!["--keys-dir".to_owned(), "kd".to_owned()],
            env: vec![("USER", "user".to_owned())],
            says: vec!["user_account.nk", "is a directory"],
        },
        BadKey {
            name: "issuer and subject files swapped",
            flags: flags("svc.nk", "acct.nk"),
            env: vec![],
            says: vec!["svc.nk", "must be an account key", "swapped"],
        },
        BadKey {
            name: "an account key as the subject",
            flags: flags("acct.nk", "acct.nk"),
            env: vec![],
            says: vec!["acct.nk", "must be a service key", "swapped"],
        },
        BadKey {
            name: "issuer and subject seeds swapped in the environment",
            flags: vec![],
            env: env(SERVICE_SEED, ACCOUNT_SEED),
            says: vec!["$WASH_ISSUER_KEY", "must be an account key", "swapped"],
        },
        BadKey {
            name: "one character of the seed file changed",
            flags: flags("changed.nk", "svc.nk"),
            env: vec![],
            says: vec!["changed.nk", "checksum does not match"],
        },
        BadKey {
            name: "the last character of the seed file changed",
            flags: flags("last.nk", "svc.nk"),
            env: vec![],
            says: vec!["last.nk", "not valid base32"],
        },
        BadKey {
            name: "a truncated seed file",
            flags: flags("short.nk", "svc.nk"),
            env: vec![],
            says: vec!["short.nk", "50 characters long"],
        },
        BadKey {
            name: "an empty key file",
            flags: flags("acct.nk", "empty.nk"),
            env: vec![],
            says: vec!["subject", "empty.nk", "is empty"],
        },
        BadKey {
            name: "a public key where the seed belongs",
            flags: flags("pub.nk", "svc.nk"),
            env: vec![],
            says: vec!["pub.nk", "is a public key", ACCOUNT_PUB],
        },
        BadKey {
            name: "a changed seed in WASH_ISSUER_KEY",
            flags: vec![],
            env: env(&changed_seed(), SERVICE_SEED),
            says: vec!["$WASH_ISSUER_KEY", "checksum does not match"],
        },
        BadKey {
            name: "a truncated seed in WASH_SUBJECT_KEY",
            flags: vec![],
            env: env(ACCOUNT_SEED, &SERVICE_SEED[..50]),
            says: vec!["$WASH_SUBJECT_KEY", "50 characters long"],
        },
        BadKey {
            name: "a quoted seed in WASH_ISSUER_KEY",
            flags: vec![],
            env: env(&format!("\"{ACCOUNT_SEED}\""), SERVICE_SEED),
            says: vec!["$WASH_ISSUER_KEY", "neither a seed nor the path", "quotes"],
        },
        BadKey {
            name: "a blank WASH_ISSUER_KEY",
            flags: vec![],
            env: env("  ", SERVICE_SEED),
            says: vec!["$WASH_ISSUER_KEY", "blank"],
        },
        BadKey {
            name: "WASH_ISSUER_KEY names a file that does not exist",
            flags: vec![],
            env: env("nosuch.nk", SERVICE_SEED),
            says: vec!["$WASH_ISSUER_KEY", "nosuch.nk` does not exist"],
        },
        BadKey {
            name: "WASH_SUBJECT_KEY names a truncated seed file",
            flags: vec![],
            env: env(ACCOUNT_SEED, "short_svc.nk"),
            says: vec![
                "short_svc.nk",
                "(from `$WASH_SUBJECT_KEY`)",
                "57 characters long",
            ],
        },
        BadKey {
            name: "a seed as --issuer",
            flags: flags(ACCOUNT_SEED, "svc.nk"),
            env: vec![],
            says: vec!["`--issuer` takes a key file, not a seed", "never accepted"],
        },
        BadKey {
            name: "a seed as --subject=…",
            flags: vec![
                "--issuer".to_owned(),
                "acct.nk".to_owned(),
                format!("--subject={SERVICE_SEED}"),
            ],
            env: vec![],
            says: vec!["`--subject` takes a key file, not a seed"],
        },
        BadKey {
            name: "a truncated seed as --issuer",
            flags: flags(&ACCOUNT_SEED[..40], "svc.nk"),
            env: vec![],
            says: vec!["`--issuer` takes a key file, not a seed"],
        },
    ]
}

/// The names in `dir`, sorted.
fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs every bad key through `run` (a command in `dir` writing `archive`, where a good
/// archive is): each must exit 2 with its message and a hint, show no seed at `-vv`, and
/// leave the archive's directory exactly as it was.
fn every_bad_key_is_refused(
    p: &Project,
    dir: &std::path::Path,
    archive: &std::path::Path,
    run: impl Fn(&[String]) -> Run,
) {
    let good = std::fs::read(archive).unwrap();
    let before = listing(archive.parent().unwrap());
    for case in bad_keys(dir) {
        let mut args = vec!["-vv".to_owned()];
        args.extend(case.flags.iter().cloned());
        let mut cmd = run(&args).current_dir(dir);
        for (k, v) in &case.env {
            cmd = cmd.env(k, v);
        }
        let out = cmd.output();
        let name = case.name;
        assert_eq!(
            out.code,
            Some(2),
            "{name}: exit code\n{}\n{}",
            out.stdout,
            out.stderr
        );
        for needle in &case.says {
            assert!(
                out.stderr.contains(needle),
                "{name}: no `{needle}` in\n{}",
                out.stderr
            );
        }
        assert!(
            out.stderr.contains("help: "),
            "{name}: no hint\n{}",
            out.stderr
        );
        for seed in [ACCOUNT_SEED, SERVICE_SEED] {
            assert_no_seed_in(&format!("{name}: stderr"), out.stderr.as_bytes(), seed);
            assert_no_seed_in(&format!("{name}: stdout"), out.stdout.as_bytes(), seed);
        }
        assert_eq!(
            std::fs::read(archive).unwrap(),
            good,
            "{name}: archive changed"
        );
        assert_eq!(
            listing(archive.parent().unwrap()),
            before,
            "{name}: something was written beside the archive"
        );
        // Nothing generated in place of a bad key.
        assert!(
            !p.path("home/.wash").exists(),
            "{name}: a key was generated"
        );
    }
}

/// `args`, then `extra`.
fn then(args: &[&str], extra: &[String]) -> Vec<String> {
    args.iter()
        .map(|a| (*a).to_owned())
        .chain(extra.iter().cloned())
        .collect()
}

#[test]
fn pack_refuses_every_bad_key_clearly_and_writes_nothing() {
    let p = Project::new();
    std::fs::create_dir(p.path("out")).unwrap();
    p.pack(&["-o", "out/good.par.gz"]).success();
    let archive = p.path("out/good.par.gz");
    every_bad_key_is_refused(&p, p.root(), &archive, |extra| {
        p.parbuild(then(
            &[
                "pack",
                "--name",
                "Example",
                "--vendor",
                "acme",
                "--target",
                "x86_64-linux=bin/x86",
                "-o",
                "out/good.par.gz",
            ],
            extra,
        ))
    });
}

#[test]
fn build_and_assemble_refuse_every_bad_key_before_compiling_and_write_nothing() {
    let p = Project::new();
    let dir = tiny_crate(&p, "tiny");
    p.parbuild(["build", "-q"])
        .current_dir(&dir)
        .env("WASH_ISSUER_KEY", ACCOUNT_SEED)
        .env("WASH_SUBJECT_KEY", SERVICE_SEED)
        .success();
    let archive = dir.join("build/tiny.par.gz");
    let logs = dir.join("target/parbuild/logs");
    let logs_before = listing(&logs);
    every_bad_key_is_refused(&p, &dir, &archive, |extra| {
        p.parbuild(std::iter::once("build".to_owned()).chain(extra.iter().cloned()))
    });
    // Keys are checked before any compiler starts: no new log, none rewritten with a seed.
    assert_eq!(listing(&logs), logs_before);
    for seed in [ACCOUNT_SEED, SERVICE_SEED] {
        assert_no_seed_under(&logs, seed);
    }
    // `assemble` reads its keys the same way, and writes nothing either.
    p.parbuild(["build", "-q", "--part-out", "parts"])
        .current_dir(&dir)
        .success();
    every_bad_key_is_refused(&p, &dir, &archive, |extra| {
        p.parbuild(then(
            &[
                "assemble",
                "parts/tiny-x86_64-linux.part.tar.zst",
                "-o",
                "build/tiny.par.gz",
            ],
            extra,
        ))
    });
}

// ---- Seeds in the environment: a seed or a path, both work, neither shows.

#[test]
fn environment_variables_hold_a_seed_or_a_path_and_neither_shows() {
    let p = Project::new();
    p.test_keys();
    p.two_binaries();
    std::fs::create_dir(p.path("sub")).unwrap();
    std::fs::rename(p.path("svc.nk"), p.path("sub/svc.nk")).unwrap();
    let pack = |out: &str| {
        p.parbuild([
            "pack",
            "-vv",
            "--name",
            "n",
            "--vendor",
            "v",
            "--target",
            "x86_64-linux=bin/x86",
            "-o",
            out,
        ])
    };
    // A seed for the issuer, a path for the subject (relative to the working directory)…
    let a = pack("a.par.gz")
        .env("WASH_ISSUER_KEY", ACCOUNT_SEED)
        .env("WASH_SUBJECT_KEY", "sub/svc.nk")
        .success();
    // …and the other way round, the path absolute and the seed with a newline (as
    // `$(cat file)` or a CI secret may give it).
    let b = pack("b.par.gz")
        .env("WASH_ISSUER_KEY", p.path("acct.nk"))
        .env("WASH_SUBJECT_KEY", format!("{SERVICE_SEED}\n"))
        .success();
    for (out, archive) in [(a, "a.par.gz"), (b, "b.par.gz")] {
        let inspect = p.parbuild(["inspect", archive, "--json"]).success().json();
        assert_eq!(inspect["issuer"], ACCOUNT_PUB, "{inspect}");
        assert_eq!(inspect["service"], SERVICE_PUB, "{inspect}");
        for seed in [ACCOUNT_SEED, SERVICE_SEED] {
            assert_no_seed_in("stdout", out.stdout.as_bytes(), seed);
            assert_no_seed_in("stderr", out.stderr.as_bytes(), seed);
            assert_no_seed_in(archive, &archive_claims(&p.path(archive)), seed);
            assert_no_seed_in("inspect", inspect.to_string().as_bytes(), seed);
        }
    }
    // `-C DIR`: a relative path in the variable is relative to DIR, as every path is.
    p.parbuild([
        "pack",
        "-C",
        "sub",
        "--name",
        "n",
        "--vendor",
        "v",
        "--target",
        "x86_64-linux=../bin/x86",
        "-o",
        "c.par.gz",
    ])
    .env("WASH_ISSUER_KEY", ACCOUNT_SEED)
    .env("WASH_SUBJECT_KEY", "svc.nk")
    .success();
    assert!(p.path("sub/c.par.gz").is_file());
}

/// A successful build at `-vv`, with fresh random keys (one from a file other users can
/// read, one from the environment): no seed in stdout, stderr, the build's logs or the
/// archive's claims; the loose file is warned about with `chmod 600`.
#[test]
fn a_verbose_build_shows_no_seed_anywhere() {
    let p = Project::new();
    let dir = tiny_crate(&p, "tiny");
    p.parbuild([
        "keys",
        "generate",
        "--type",
        "account",
        "-o",
        "tiny/acct.nk",
    ])
    .success();
    p.parbuild(["keys", "generate", "--type", "service", "-o", "tiny/svc.nk"])
        .success();
    let account = std::fs::read_to_string(dir.join("acct.nk")).unwrap();
    let service = std::fs::read_to_string(dir.join("svc.nk")).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(
        dir.join("acct.nk"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    let out = p
        .parbuild(["build", "-vv", "--issuer", "acct.nk"])
        .current_dir(&dir)
        .env("WASH_SUBJECT_KEY", &service)
        .success();
    #[cfg(unix)]
    assert!(
        out.stderr.contains("acct.nk")
            && out.stderr.contains("mode 644")
            && out.stderr.contains("chmod 600"),
        "{}",
        out.stderr
    );
    let archive = dir.join("build/tiny.par.gz");
    let logs = dir.join("target/parbuild/logs");
    assert!(!listing(&logs).is_empty(), "the build wrote no log");
    for seed in [account.as_str(), service.as_str()] {
        assert_no_seed_in("stdout", out.stdout.as_bytes(), seed);
        assert_no_seed_in("stderr", out.stderr.as_bytes(), seed);
        assert_no_seed_under(&logs, seed);
        assert_no_seed_in("claims", &archive_claims(&archive), seed);
        assert_no_seed_under(&dir.join("build"), seed);
    }
}

/// The signing seeds are parbuild's, not the build's: a build script (any dependency's)
/// must not find them in its environment, or it could print them into the log, or send
/// them anywhere. The plan removes them from every command it spells (`plan::spell`).
#[test]
fn build_scripts_never_see_the_signing_seeds() {
    let p = Project::new();
    let dir = tiny_crate(&p, "tiny");
    // A build script that records the names (never the values) of the WASH_ variables
    // it can read.
    p.file(
        "tiny/build.rs",
        "fn main() {\n    let seen: Vec<String> = std::env::vars().map(|(k, _)| k).filter(|k| k.starts_with(\"WASH_\") || k == \"MY_SIGNING_SEED\").collect();\n    std::fs::write(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/seen\"), seen.join(\",\")).unwrap();\n}\n",
    );
    // Both ways a seed reaches parbuild through the environment: wash's variables, and a
    // variable that `par.toml` names.
    let par = std::fs::read_to_string(dir.join("par.toml")).unwrap();
    p.file(
        "tiny/par.toml",
        format!("{par}\n[sign]\nsubject = \"$MY_SIGNING_SEED\"\n"),
    );
    p.parbuild(["build", "-q"])
        .current_dir(&dir)
        .env("WASH_ISSUER_KEY", ACCOUNT_SEED)
        .env("MY_SIGNING_SEED", SERVICE_SEED)
        .success();
    let seen = std::fs::read_to_string(dir.join("seen")).unwrap();
    assert_eq!(seen, "", "the build script could read these variables");
}
