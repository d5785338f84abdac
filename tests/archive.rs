//! `parbuild pack`, `inspect` and `verify` end to end: interop both ways with the real
//! wasmCloud crates (provider-archive 0.16.2 and 0.6.0, wascap 0.16.2), reproducible
//! output, and every bad input refused with nothing written.

#[path = "archive_tamper/macho.rs"]
mod macho;
mod support;

use support::*;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn packed_archive_loads_in_provider_archive_0_16_and_validates_in_wascap() {
    let p = Project::new();
    p.file(
        "schema.json",
        r#"{"type":"object","properties":{"url":{"type":"string"}}}"#,
    );
    p.pack(&[
        "--version",
        "1.2.3",
        "--revision",
        "7",
        "--schema",
        "schema.json",
        "-o",
        "out.par.gz",
    ])
    .success();
    let bytes = std::fs::read(p.path("out.par.gz")).unwrap();
    assert_eq!(
        &bytes[..10],
        &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255],
        "wash's gzip header"
    );

    let par = rt()
        .block_on(provider_archive::ProviderArchive::try_load(&bytes))
        .unwrap();
    let mut targets = par.targets();
    targets.sort();
    assert_eq!(targets, ["aarch64-linux", "x86_64-linux"]);
    assert_eq!(
        par.target_bytes("x86_64-linux").unwrap(),
        elf_binary(EM_X86_64, true)
    );
    let claims = par.claims().unwrap();
    assert_eq!(claims.issuer, ACCOUNT_PUB);
    assert_eq!(claims.subject, SERVICE_PUB);
    let meta = claims.metadata.unwrap();
    assert_eq!(
        (meta.vendor.as_str(), meta.rev, meta.ver.as_deref()),
        ("acme", Some(7), Some("1.2.3"))
    );
    assert_eq!(par.schema().unwrap()["properties"]["url"]["type"], "string");
    let token = par.claims_token().unwrap().jwt;
    let v = wascap::jwt::validate_token::<wascap::jwt::CapabilityProvider>(&token).unwrap();
    assert!(v.signature_valid && !v.expired && !v.cannot_use_yet);

    // The host's own path: one target straight from the file.
    let one = rt()
        .block_on(
            provider_archive::ProviderArchive::try_load_target_from_file(
                p.path("out.par.gz"),
                "aarch64-linux",
            ),
        )
        .unwrap();
    assert_eq!(one.targets(), ["aarch64-linux"]);

    // Plain tar loads too.
    p.pack(&["--compression", "none", "-o", "out.par"])
        .success();
    let bytes = std::fs::read(p.path("out.par")).unwrap();
    rt().block_on(provider_archive::ProviderArchive::try_load(&bytes))
        .unwrap();
}

#[test]
fn with_capid_it_loads_in_provider_archive_0_6() {
    let p = Project::new();
    p.pack(&["--capid", "wasmcloud:example", "-o", "old.par.gz"])
        .success();
    let bytes = std::fs::read(p.path("old.par.gz")).unwrap();
    let par = rt()
        .block_on(provider_archive_legacy::ProviderArchive::try_load(&bytes))
        .unwrap();
    let meta = par.claims().unwrap().metadata.unwrap();
    assert_eq!(meta.capid, "wasmcloud:example");
    assert_eq!(par.targets().len(), 2);
    let out = p.parbuild(["inspect", "old.par.gz"]).success();
    assert!(
        out.stdout.contains("contract     wasmcloud:example"),
        "{}",
        out.stdout
    );
}

#[test]
fn archives_written_by_provider_archive_inspect_and_verify() {
    let p = Project::new();
    let issuer = nkeys::KeyPair::from_seed(ACCOUNT_SEED).unwrap();
    let subject = nkeys::KeyPair::from_seed(SERVICE_SEED).unwrap();
    for (file, compress) in [("wash.par.gz", true), ("wash.par", false)] {
        let mut par = provider_archive::ProviderArchive::new(
            "Wash Made",
            "wasmcloud",
            Some(3),
            Some("0.1.0".into()),
        );
        par.add_library("x86_64-linux", &elf_binary(EM_X86_64, true))
            .unwrap();
        par.add_library("x86_64-macos", &macho::sound(macho::CPU_X86_64))
            .unwrap();
        par.add_library("x86_64-windows", &pe64_binary(0x8664))
            .unwrap();
        rt().block_on(par.write(p.path(file), &issuer, &subject, compress))
            .unwrap();
        let out = p
            .parbuild([
                "verify",
                file,
                "--issuer",
                ACCOUNT_PUB,
                "--subject",
                SERVICE_PUB,
            ])
            .success();
        assert_eq!(
            out.stdout.lines().filter(|l| l.starts_with("ok")).count(),
            13,
            "{}",
            out.stdout
        );
        let json = p.parbuild(["inspect", file, "--json"]).success().json();
        assert_eq!(json["name"], "Wash Made");
        assert_eq!(json["revision"], 3);
        assert_eq!(json["signature_valid"], true);
        assert_eq!(json["targets"].as_array().unwrap().len(), 3);
        assert_eq!(json["compression"], if compress { "gzip" } else { "none" });
    }
}

#[test]
fn same_inputs_with_source_date_epoch_are_byte_identical() {
    let p = Project::new();
    p.pack(&["-o", "a.par.gz"]).success();
    p.pack(&["-o", "b.par.gz"]).success();
    let a = std::fs::read(p.path("a.par.gz")).unwrap();
    assert_eq!(a, std::fs::read(p.path("b.par.gz")).unwrap());
    let json = p
        .parbuild(["inspect", "a.par.gz", "--json"])
        .success()
        .json();
    assert_eq!(json["iat"], 1_700_000_000);
    assert_eq!(json["jti"].as_str().unwrap().len(), 22);
    // Without it: `iat` is now and the `jti` differs on every run.
    let run = |out: &str| {
        let mut args: Vec<String> = vec![
            "pack".into(),
            "--name".into(),
            "E".into(),
            "--vendor".into(),
            "v".into(),
        ];
        args.extend(p.two_binaries());
        args.extend(p.test_keys());
        args.extend(["-o".into(), out.into()]);
        p.parbuild(args).success();
        p.parbuild(["inspect", out, "--json"]).success().json()
    };
    let (x, y) = (run("x.par.gz"), run("y.par.gz"));
    assert_ne!(x["jti"], y["jti"]);
    assert!(x["iat"].as_u64().unwrap() > 1_700_000_000);
}

#[test]
fn pack_summary_json_and_zstd() {
    let p = Project::new();
    let out = p.pack(&["--json", "--compression", "zstd"]).success();
    assert!(out.stderr.contains("only by parbuild"), "{}", out.stderr);
    let json = out.json();
    assert_eq!(json["compression"], "zstd");
    assert!(json["path"].as_str().unwrap().ends_with("example.par.zst"));
    assert_eq!(json["targets"][0]["label"], "aarch64-linux");
    assert_eq!(json["targets"][0]["sha256"].as_str().unwrap().len(), 64);
    p.parbuild(["verify", "example.par.zst"]).success();
}

#[test]
fn from_adds_and_replaces_targets_keeping_metadata() {
    let p = Project::new();
    p.pack(&["--version", "2.0.0", "--capid", "x:y", "-o", "base.par.gz"])
        .success();
    p.file("bin/mac", macho::sound(macho::CPU_ARM64));
    p.file(
        "bin/x86-new",
        elf_binary(EM_X86_64, true)
            .into_iter()
            .chain([1, 2, 3])
            .collect::<Vec<u8>>(),
    );
    let mut args: Vec<String> = [
        "pack",
        "--from",
        "base.par.gz",
        "--target",
        "aarch64-macos=bin/mac",
        "--target",
    ]
    .map(String::from)
    .to_vec();
    args.push("x86_64-linux=bin/x86-new".into());
    args.extend(p.test_keys());
    args.extend(["-o".into(), "next.par.gz".into()]);
    p.parbuild(args)
        .env("SOURCE_DATE_EPOCH", "1700000001")
        .success();
    let json = p
        .parbuild(["inspect", "next.par.gz", "--json"])
        .success()
        .json();
    assert_eq!(json["version"], "2.0.0");
    assert_eq!(json["capid"], "x:y");
    assert_eq!(json["service"], SERVICE_PUB);
    let labels: Vec<&str> = json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["aarch64-linux", "aarch64-macos", "x86_64-linux"]);
    assert_eq!(json["targets"][2]["size"], 64 + 300 + 3);
    p.parbuild(["verify", "next.par.gz"]).success();
}

#[test]
fn armv7_labels_warn() {
    let p = Project::new();
    p.file("bin/arm", elf_binary(EM_ARM, false));
    let mut args: Vec<String> = [
        "pack",
        "--name",
        "n",
        "--vendor",
        "v",
        "--target",
        "armv7-linux=bin/arm",
    ]
    .map(String::from)
    .to_vec();
    args.extend(p.test_keys());
    let out = p.parbuild(args).success();
    assert!(
        out.stderr.contains("warning:") && out.stderr.contains("arm-linux"),
        "{}",
        out.stderr
    );
}

/// Runs `pack` with `args` replacing the defaults and expects `code`, a message, and no
/// archive written.
fn refused(p: &Project, args: &[&str], code: i32, needle: &str) {
    let mut all: Vec<String> = ["pack", "--name", "n", "--vendor", "v", "-o", "out.par.gz"]
        .map(String::from)
        .to_vec();
    all.extend(args.iter().map(|s| (*s).to_owned()));
    let out = p.parbuild(all).code(code);
    assert!(
        out.stderr.contains(needle),
        "expected `{needle}` in:\n{}",
        out.stderr
    );
    assert!(!p.path("out.par.gz").exists(), "nothing may be written");
    let leftovers: Vec<_> = std::fs::read_dir(p.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(!out.stderr.contains(ACCOUNT_SEED) && !out.stderr.contains(SERVICE_SEED));
}

#[test]
fn bad_inputs_are_refused_and_nothing_is_written() {
    let p = Project::new();
    p.test_keys();
    p.two_binaries();
    p.file("wrong.nk", SERVICE_SEED);
    p.file("bad.nk", &ACCOUNT_SEED[..50]);
    p.file("notes.txt", "just text\n");
    let keys = ["--issuer", "acct.nk", "--subject", "svc.nk"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        keys.iter().copied().chain(extra.iter().copied()).collect()
    };
    refused(
        &p,
        &with(&["--target", "x86_64-linux=bin/missing"]),
        2,
        "cannot read the binary for `x86_64-linux`",
    );
    refused(
        &p,
        &with(&["--target", "x86_64=bin/x86"]),
        2,
        "not an archive label",
    );
    refused(&p, &with(&["--target", "claims=bin/x86"]), 2, "reserved");
    refused(&p, &with(&["--target", "world=bin/x86"]), 2, "reserved");
    refused(
        &p,
        &with(&[
            "--target",
            "x86_64-linux=bin/x86",
            "--target",
            "x86_64-linux=bin/x86",
        ]),
        2,
        "given twice",
    );
    refused(
        &p,
        &with(&["--target", "x86_64-linux"]),
        2,
        "expected `LABEL=PATH`",
    );
    refused(
        &p,
        &with(&["--target", "x86_64-linux=bin/arm64"]),
        2,
        "another CPU",
    );
    refused(
        &p,
        &with(&["--target", "x86_64-linux=notes.txt"]),
        2,
        "not an executable",
    );
    refused(
        &p,
        &with(&["--target", "x86_64-macos=bin/x86"]),
        2,
        "Mach-O",
    );
    refused(&p, &with(&["--target", "x86_64-linux=bin"]), 2, "directory");
    refused(&p, &with(&[]), 2, "no targets");
    refused(
        &p,
        &[
            "--issuer",
            "wrong.nk",
            "--subject",
            "svc.nk",
            "--target",
            "x86_64-linux=bin/x86",
        ],
        2,
        "must be an account key",
    );
    refused(
        &p,
        &[
            "--issuer",
            "acct.nk",
            "--subject",
            "acct.nk",
            "--target",
            "x86_64-linux=bin/x86",
        ],
        2,
        "must be a service key",
    );
    refused(
        &p,
        &[
            "--issuer",
            "bad.nk",
            "--subject",
            "svc.nk",
            "--target",
            "x86_64-linux=bin/x86",
        ],
        2,
        "not a valid nkey seed",
    );
    refused(
        &p,
        &[
            "--issuer",
            ACCOUNT_SEED,
            "--subject",
            "svc.nk",
            "--target",
            "x86_64-linux=bin/x86",
        ],
        2,
        "never accepted on the command line",
    );
    refused(
        &p,
        &with(&["--target", "x86_64-linux=bin/x86", "--schema", "notes.txt"]),
        2,
        "is not JSON",
    );
    let out = p
        .parbuild([
            "pack",
            "--name",
            "n",
            "--vendor",
            "v",
            "--target",
            "x86_64-linux=bin/x86",
            "-o",
            "no/dir/x.par.gz",
        ])
        .args_from(&keys)
        .code(2);
    assert!(out.stderr.contains("does not exist"), "{}", out.stderr);
    let out = p
        .parbuild(["pack", "--vendor", "v", "--target", "x86_64-linux=bin/x86"])
        .args_from(&keys)
        .code(2);
    assert!(
        out.stderr.contains("`--name` is required"),
        "{}",
        out.stderr
    );
    let out = p.pack(&[]).env("SOURCE_DATE_EPOCH", "yesterday").code(2);
    assert!(out.stderr.contains("SOURCE_DATE_EPOCH"), "{}", out.stderr);
}

#[test]
fn a_failed_pack_keeps_the_previous_archive() {
    let p = Project::new();
    p.pack(&["-o", "keep.par.gz"]).success();
    let before = std::fs::read(p.path("keep.par.gz")).unwrap();
    p.file("bin/text", b"now a text file");
    p.parbuild([
        "pack",
        "--name",
        "n",
        "--vendor",
        "v",
        "--target",
        "x86_64-linux=bin/text",
        "-o",
        "keep.par.gz",
    ])
    .args_from(&p.test_keys())
    .code(2);
    assert_eq!(std::fs::read(p.path("keep.par.gz")).unwrap(), before);
}

#[test]
fn a_real_host_binary_passes_the_cpu_check() {
    let p = Project::new();
    let exe = std::env::current_exe().unwrap();
    let label = format!(
        "{}-{}={}",
        std::env::consts::ARCH,
        std::env::consts::OS,
        exe.display()
    );
    let mut args: Vec<String> = [
        "pack",
        "--name",
        "n",
        "--vendor",
        "v",
        "--compression",
        "none",
        "--target",
    ]
    .map(String::from)
    .to_vec();
    args.push(label);
    args.extend(p.test_keys());
    p.parbuild(args).success();
    let out = p.parbuild(["verify", "n.par"]).success();
    if cfg!(all(target_os = "linux", target_env = "gnu")) {
        let line = out
            .stdout
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some("loads"))
            .unwrap_or_else(|| panic!("{}", out.stdout));
        assert!(
            line.contains("needs glibc ≥ 2.") && line.contains("libc.so.6"),
            "{line}"
        );
    }
}

#[test]
fn pack_refuses_a_mac_binary_that_would_not_load() {
    let p = Project::new();
    p.test_keys();
    p.file(
        "bin/mac",
        macho::image(
            macho::CPU_X86_64,
            &[macho::LIBSYSTEM, "/opt/homebrew/lib/libssl.3.dylib"],
            &[("_malloc", 1), ("_SSL_new", 2)],
        ),
    );
    refused(
        &p,
        &[
            "--issuer",
            "acct.nk",
            "--subject",
            "svc.nk",
            "--target",
            "x86_64-macos=bin/mac",
        ],
        1,
        "`x86_64-macos.bin` loads `/opt/homebrew/lib/libssl.3.dylib`, which is not a system library: a Mac does not have it",
    );
    p.file("bin/mac", macho::sound(macho::CPU_X86_64));
    let mut args: Vec<String> = ["pack", "--name", "n", "--vendor", "v", "--target"]
        .map(String::from)
        .to_vec();
    args.push("x86_64-macos=bin/mac".into());
    args.extend(p.test_keys());
    p.parbuild(args).success();
    let text = p.parbuild(["inspect", "n.par.gz"]).success().stdout;
    assert!(
        text.contains("macOS ≥ 11.0 · links libSystem.B, CoreFoundation, Security · 4 imports"),
        "{text}"
    );
}

/// Binaries of several MiB are deflated in 1 MiB pieces on several threads and joined into
/// one gzip member: both wasmCloud loaders read it, flate2 sees exactly one member, and
/// the bytes are the same on every run.
#[test]
fn multi_piece_gzip_is_one_member_that_both_loaders_read() {
    use std::io::Read as _;
    let p = Project::new();
    let mut big = elf_binary(EM_X86_64, true);
    let real = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    while big.len() < 5 << 20 {
        big.extend_from_slice(&real[..real.len().min((5 << 20) - big.len())]);
    }
    p.file("big", &big);
    let mut args: Vec<String> = [
        "pack",
        "--name",
        "Big",
        "--vendor",
        "acme",
        "--capid",
        "wasmcloud:example",
        "--target",
        "x86_64-linux=big",
    ]
    .map(String::from)
    .to_vec();
    args.extend(p.test_keys());
    for out in ["a.par.gz", "b.par.gz"] {
        p.parbuild(args.iter().chain(&["-o".to_owned(), out.to_owned()]))
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .success();
    }
    let bytes = std::fs::read(p.path("a.par.gz")).unwrap();
    assert!(
        bytes == std::fs::read(p.path("b.par.gz")).unwrap(),
        "reproducible"
    );
    let mut d = flate2::read::GzDecoder::new(&bytes[..]);
    let mut tar = Vec::new();
    d.read_to_end(&mut tar).unwrap();
    let mut rest = Vec::new();
    d.into_inner().read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "one gzip member");
    let new = rt()
        .block_on(provider_archive::ProviderArchive::try_load(&bytes))
        .unwrap();
    assert!(new.target_bytes("x86_64-linux").unwrap() == big);
    let old = rt()
        .block_on(provider_archive_legacy::ProviderArchive::try_load(&bytes))
        .unwrap();
    assert!(old.target_bytes("x86_64-linux").unwrap() == big);
    p.parbuild(["verify", "a.par.gz"]).success();
}
