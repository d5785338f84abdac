//! The tamper suite: archives edited in every way wasmCloud's loader would not notice (or
//! would crash on), each rejected by `parbuild verify` with the failed check named; and
//! legitimate variants (PAX/ustar headers, another order, no compression, unknown claim
//! fields) accepted; and binaries that are properly signed but would not load on their
//! OS (a Mach-O loading a build machine's library, an unknown framework, a symbol bound
//! to the wrong framework; an ELF above a glibc floor) rejected by the `loads` check.
//! Nothing here may make parbuild panic.

mod forge;
mod macho;
#[path = "../support/mod.rs"]
mod support;

use std::io::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use forge::*;
use support::*;

#[test]
fn legitimate_variants_are_accepted() {
    let p = Project::new();
    let e = base(&p);
    accepts(&p, "gnu.par", &tar(&e, Style::Gnu));
    accepts(&p, "ustar.par", &tar(&e, Style::Ustar));
    accepts(&p, "pax.par.gz", &gzip(&tar(&e, Style::Pax)));
    let mut reordered = e.clone();
    reordered.rotate_left(1);
    accepts(&p, "claims-last.par", &tar(&reordered, Style::Gnu));
    let extra = resigned(&e, |c| {
        c["future_field"] = serde_json::json!({"x": 1});
        c["wascap"]["another"] = serde_json::json!(true);
    });
    accepts(&p, "unknown-fields.par.gz", &gzip(&tar(&extra, Style::Gnu)));
    let mut padded = tar(&e, Style::Gnu);
    padded.resize(10240, 0);
    accepts(&p, "record-padded.par", &padded);
}

#[test]
fn edits_to_claims_and_signature_are_rejected() {
    let p = Project::new();
    let e = base(&p);
    let mut edited = e.clone();
    let mut c = payload(&e[0].data);
    c["wascap"]["vendor"] = "mallory".into();
    let old = std::str::from_utf8(&e[0].data).unwrap().to_owned();
    let parts: Vec<&str> = old.split('.').collect();
    edited[0].data = format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(serde_json::to_string(&c).unwrap()),
        parts[2]
    )
    .into_bytes();
    rejects(
        &p,
        "edited.par",
        &tar(&edited, Style::Gnu),
        "signature",
        "does not verify",
    );

    let golden: serde_json::Value =
        serde_json::from_slice(&std::fs::read(vector("vector.json")).unwrap()).unwrap();
    let mut swapped = e.clone();
    swapped[0].data = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        golden["sig_b64"].as_str().unwrap()
    )
    .into_bytes();
    rejects(
        &p,
        "swapped-sig.par",
        &tar(&swapped, Style::Gnu),
        "signature",
        "does not verify",
    );

    let mut empty = e.clone();
    empty[0].data = format!("{}.{}.", parts[0], parts[1]).into_bytes();
    rejects(
        &p,
        "empty-sig.par",
        &tar(&empty, Style::Gnu),
        "signature",
        "empty",
    );

    let mut none = e.clone();
    none[0].data = format!(
        "{}.{}.",
        B64.encode(r#"{"alg":"none","typ":"jwt"}"#),
        parts[1]
    )
    .into_bytes();
    rejects(
        &p,
        "alg-none.par",
        &tar(&none, Style::Gnu),
        "header",
        "\"alg\":\"none\"",
    );
    rejects(
        &p,
        "alg-none2.par",
        &tar(&none, Style::Gnu),
        "signature",
        "empty",
    );

    let mut eddsa = e.clone();
    eddsa[0].data = sign_with(
        r#"{"typ":"jwt","alg":"EdDSA"}"#,
        &payload(&e[0].data),
        ACCOUNT_SEED,
    );
    rejects(
        &p,
        "eddsa.par",
        &tar(&eddsa, Style::Gnu),
        "header",
        "expected exactly",
    );

    let mut padded = e.clone();
    padded[0].data = [e[0].data.clone(), b"==".to_vec()].concat();
    rejects(
        &p,
        "padded.par",
        &tar(&padded, Style::Gnu),
        "signature",
        "base64url",
    );

    let lower = resigned(&e, |c| {
        let h = c["wascap"]["target_hashes"]["x86_64-linux"]
            .as_str()
            .unwrap()
            .to_lowercase();
        c["wascap"]["target_hashes"]["x86_64-linux"] = h.into();
    });
    rejects(
        &p,
        "lowercase-hash.par",
        &tar(&lower, Style::Gnu),
        "hashes",
        "x86_64-linux.bin",
    );

    let expired = resigned(&e, |c| c["exp"] = 1_000_000.into());
    rejects(
        &p,
        "expired.par",
        &tar(&expired, Style::Gnu),
        "validity",
        "expired",
    );
    let early = resigned(&e, |c| c["nbf"] = 99_999_999_999u64.into());
    rejects(
        &p,
        "not-yet.par",
        &tar(&early, Style::Gnu),
        "validity",
        "not valid before",
    );

    let mut wrong_role = resigned(&e, |c| c["sub"] = ACCOUNT_PUB.into());
    rejects(
        &p,
        "subject-account.par",
        &tar(&wrong_role, Style::Gnu),
        "key-types",
        "not a service key",
    );
    let mut c = payload(&e[0].data);
    c["iss"] = SERVICE_PUB.into();
    wrong_role[0].data = sign_with(HEADER, &c, SERVICE_SEED);
    let bytes = tar(&wrong_role, Style::Gnu);
    rejects(
        &p,
        "issuer-service.par",
        &bytes,
        "key-types",
        "not an account key",
    );

    let no_wascap = resigned(&e, |c| {
        c.as_object_mut().unwrap().remove("wascap");
    });
    rejects(
        &p,
        "no-wascap.par",
        &tar(&no_wascap, Style::Gnu),
        "claims",
        "no `wascap`",
    );

    p.file("ok.par", tar(&e, Style::Gnu));
    let out = p
        .parbuild([
            "verify",
            "ok.par",
            "--issuer",
            SERVICE_PUB.replace('V', "A").as_str(),
        ])
        .code(1);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("FAIL") && l.contains("issuer-pin")),
        "{}",
        out.stdout
    );
    let out = p
        .parbuild(["verify", "ok.par", "--subject", "VXYZ", "--json"])
        .code(1);
    let json = out.json();
    assert_eq!(json["ok"], false);
    assert!(
        json["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "subject-pin" && c["ok"] == false)
    );
}

#[test]
fn entry_level_tampering_is_rejected() {
    let p = Project::new();
    let e = base(&p);
    let mut flipped = e.clone();
    flipped[2].data[100] ^= 1;
    rejects(
        &p,
        "flipped.par.gz",
        &gzip(&tar(&flipped, Style::Gnu)),
        "hashes",
        "x86_64-linux.bin",
    );

    let dup = [e.clone(), vec![e[2].clone()]].concat();
    rejects(
        &p,
        "dup.par",
        &tar(&dup, Style::Gnu),
        "entries",
        "appears 2 times",
    );

    let two_claims = [e.clone(), vec![e[0].clone()]].concat();
    rejects(
        &p,
        "two-claims.par",
        &tar(&two_claims, Style::Gnu),
        "claims",
        "2 claims entries",
    );
    let sneaky = [e.clone(), vec![file("extra/claims.jwt", e[0].data.clone())]].concat();
    rejects(
        &p,
        "claims-in-dir.par",
        &tar(&sneaky, Style::Gnu),
        "claims",
        "2 claims entries",
    );

    let dir = [
        vec![Ent {
            name: "./".into(),
            flag: b'5',
            data: vec![],
        }],
        e.clone(),
    ]
    .concat();
    rejects(
        &p,
        "dir.par",
        &tar(&dir, Style::Ustar),
        "entries",
        "is a directory",
    );
    let link = [
        e.clone(),
        vec![Ent {
            name: "arm-linux.bin".into(),
            flag: b'2',
            data: vec![],
        }],
    ]
    .concat();
    rejects(
        &p,
        "symlink.par",
        &tar(&link, Style::Gnu),
        "entries",
        "symbolic link",
    );
    let hard = [
        e.clone(),
        vec![Ent {
            name: "arm-linux.bin".into(),
            flag: b'1',
            data: vec![],
        }],
    ]
    .concat();
    rejects(
        &p,
        "hardlink.par",
        &tar(&hard, Style::Gnu),
        "entries",
        "hard link",
    );

    let readme = [e.clone(), vec![file("README.md", "hello")]].concat();
    rejects(
        &p,
        "readme.par",
        &tar(&readme, Style::Gnu),
        "entries",
        "unlisted",
    );
    let unlisted = [
        e.clone(),
        vec![file("riscv64-linux.bin", elf_binary(243, true))],
    ]
    .concat();
    rejects(
        &p,
        "unlisted-bin.par",
        &tar(&unlisted, Style::Gnu),
        "hashes",
        "no hash in the claims",
    );
    let missing = [e[0].clone(), e[1].clone()];
    rejects(
        &p,
        "missing-bin.par",
        &tar(&missing, Style::Gnu),
        "hashes",
        "no `x86_64-linux.bin` entry",
    );
    let dotted: Vec<Ent> = e
        .iter()
        .map(|x| file(&format!("./{}", x.name), x.data.clone()))
        .collect();
    rejects(
        &p,
        "dot-slash.par",
        &tar(&dotted, Style::Gnu),
        "entries",
        "unlisted",
    );

    // A binary for the wrong CPU or not a binary at all, properly hashed and signed.
    let mut wrong_cpu = e.clone();
    wrong_cpu[2].data = elf_binary(EM_AARCH64, true);
    let h = parbuild::archive::claims::hex_upper(&sha2_digest(&wrong_cpu[2].data));
    let wrong_cpu = resigned(&wrong_cpu, |c| {
        c["wascap"]["target_hashes"]["x86_64-linux"] = h.into()
    });
    rejects(
        &p,
        "wrong-cpu.par",
        &tar(&wrong_cpu, Style::Gnu),
        "binaries",
        "another CPU",
    );
    let mut text = e.clone();
    text[1].data = b"#!/bin/sh\necho not a provider\n".to_vec();
    let h = parbuild::archive::claims::hex_upper(&sha2_digest(&text[1].data));
    let text = resigned(&text, |c| {
        c["wascap"]["target_hashes"]["aarch64-linux"] = h.into()
    });
    rejects(
        &p,
        "text.par",
        &tar(&text, Style::Gnu),
        "binaries",
        "not an executable",
    );
}

#[test]
fn broken_streams_and_non_archives_are_rejected_without_panics() {
    let p = Project::new();
    let e = base(&p);
    let plain = tar(&e, Style::Gnu);
    let gz = gzip(&plain);
    for cut in [gz.len() - 1, gz.len() - 8, gz.len() / 2, 20] {
        rejects(&p, &format!("cut{cut}.par.gz"), &gz[..cut], "stream", "");
    }
    rejects(
        &p,
        "cut-tar.par",
        &plain[..plain.len() - 1024],
        "tar",
        "end-of-archive marker",
    );
    rejects(&p, "cut-tar2.par", &plain[..700], "tar", "truncated");
    let mut crc = gz.clone();
    let n = crc.len();
    crc[n - 8] ^= 0xff;
    rejects(&p, "bad-crc.par.gz", &crc, "stream", "corrupt");
    let mut isize = gz.clone();
    isize[n - 1] ^= 0x01;
    rejects(&p, "bad-isize.par.gz", &isize, "stream", "corrupt");
    let two = [gzip(&plain[..1024]), gzip(&plain[1024..])].concat();
    rejects(&p, "two-members.par.gz", &two, "stream", "");
    rejects(
        &p,
        "trailing.par.gz",
        &[gz.clone(), b"junk".to_vec()].concat(),
        "stream",
        "after the gzip stream",
    );
    rejects(
        &p,
        "trailing.par",
        &[plain.clone(), b"junk".to_vec()].concat(),
        "stream",
        "non-zero data",
    );

    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect();
    rejects(&p, "random.par", &random, "tar", "not a tar archive");
    rejects(&p, "empty.par", b"", "tar", "");
    rejects(
        &p,
        "zip.par",
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00rest of a zip file....",
        "tar",
        "not a tar archive",
    );
    rejects(
        &p,
        "gzip-garbage.par.gz",
        &gzip(&random),
        "tar",
        "not a tar archive",
    );
    rejects(&p, "gzip-magic-only.par.gz", &[0x1f, 0x8b], "stream", "");
    for (i, cut) in (0..gz.len()).step_by(37).enumerate() {
        p.file(&format!("fuzz{i}.par.gz"), &gz[..cut]);
        let out = p.parbuild(["verify", &format!("fuzz{i}.par.gz")]).code(1);
        assert!(!out.stderr.contains("panicked"));
        let out = p
            .parbuild(["inspect", &format!("fuzz{i}.par.gz")])
            .failure();
        assert!(!out.stderr.contains("panicked"));
    }

    // A bomb: 50 MB of zeros in a tar entry, compressed to ~50 KB, over a 1 MB cap.
    let bomb = {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&header("x86_64-linux.bin", 50 << 20, b'0', Style::Gnu))
            .unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..50 {
            enc.write_all(&zeros).unwrap();
        }
        enc.finish().unwrap()
    };
    assert!(bomb.len() < 200_000);
    rejects(&p, "bomb.par.gz", &bomb, "stream", "exceeds the limit");
    let out = p
        .parbuild(["inspect", "bomb.par.gz", "--max-unpacked", "1000000"])
        .code(1);
    assert!(out.stderr.contains("exceeds the limit"), "{}", out.stderr);

    let out = p.parbuild(["verify", "no-such-file.par.gz"]).code(2);
    assert!(out.stderr.contains("cannot read"), "{}", out.stderr);
    let out = p.parbuild(["verify", "."]).code(2);
    assert!(out.stderr.contains("directory"), "{}", out.stderr);
}

/// `entries` plus `name` holding `data`, hashed and signed into the claims as `label`.
fn with_target(entries: &[Ent], label: &str, data: Vec<u8>) -> Vec<Ent> {
    let h = parbuild::archive::claims::hex_upper(&sha2_digest(&data));
    let mut e = entries.to_vec();
    e.push(file(&format!("{label}.bin"), data));
    resigned(&e, |c| c["wascap"]["target_hashes"][label] = h.into())
}

#[test]
fn binaries_that_would_not_load_are_rejected() {
    use macho::*;
    let p = Project::new();
    let e = base(&p);
    let sound = with_target(&e, "x86_64-macos", sound(CPU_X86_64));
    accepts(&p, "mac-sound.par", &tar(&sound, Style::Gnu));
    let out = p.parbuild(["verify", "mac-sound.par"]).success();
    let line = out
        .stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("loads"))
        .unwrap_or_else(|| panic!("no `loads` check:\n{}", out.stdout));
    assert!(
        line.contains("x86_64-macos.bin: macOS ≥ 11.0, two-level")
            && line.contains("loads libSystem.B, CoreFoundation, Security"),
        "{line}"
    );
    let signed = with_target(&e, "aarch64-macos", macho::sound(CPU_ARM64));
    accepts(&p, "mac-arm64.par", &tar(&signed, Style::Gnu));

    let foreign = with_target(
        &e,
        "x86_64-macos",
        image(
            CPU_X86_64,
            &[LIBSYSTEM, "/Users/dev/lib/libfoo.dylib"],
            &[("_malloc", 1), ("_foo_init", 2)],
        ),
    );
    rejects(
        &p,
        "mac-libfoo.par.gz",
        &gzip(&tar(&foreign, Style::Gnu)),
        "loads",
        "`x86_64-macos.bin` loads `/Users/dev/lib/libfoo.dylib`, which is not a system library",
    );
    let bogus = with_target(
        &e,
        "x86_64-macos",
        image(
            CPU_X86_64,
            &[LIBSYSTEM, &framework("Bogus")],
            &[("_malloc", 1), ("_BogusInit", 2)],
        ),
    );
    rejects(
        &p,
        "mac-bogus.par",
        &tar(&bogus, Style::Gnu),
        "loads",
        "loads framework `Bogus`, which parbuild's framework table does not know",
    );
    let misbound = with_target(
        &e,
        "x86_64-macos",
        image(
            CPU_X86_64,
            &[
                LIBSYSTEM,
                &framework("CoreFoundation"),
                &framework("Security"),
            ],
            &[("_malloc", 1), ("_CFErrorCreate", 3)],
        ),
    );
    rejects(
        &p,
        "mac-misbound.par",
        &tar(&misbound, Style::Gnu),
        "loads",
        "`_CFErrorCreate` is bound to Security, but it is CoreFoundation's",
    );
    // arm64 without a signature; a bare header (no load commands at all).
    let unsigned = with_target(
        &e,
        "aarch64-macos",
        image_signed(CPU_ARM64, &[LIBSYSTEM], &[("_malloc", 1)], false),
    );
    rejects(
        &p,
        "mac-unsigned.par",
        &tar(&unsigned, Style::Gnu),
        "loads",
        "Apple silicon refuses to run unsigned code",
    );
    let bare = with_target(&e, "aarch64-macos", macho64_binary(CPU_ARM64));
    rejects(
        &p,
        "mac-bare.par",
        &tar(&bare, Style::Gnu),
        "loads",
        "flat namespace",
    );
    // A deployment target asked for on the command line.
    p.file("mac-ok.par", tar(&sound, Style::Gnu));
    p.parbuild(["verify", "mac-ok.par", "--macos-min", "11.0"])
        .success();
    let out = p
        .parbuild(["verify", "mac-ok.par", "--macos-min", "10.12"])
        .code(1);
    assert!(
        out.stdout
            .contains("targets macOS 11.0, but the deployment target is 10.12"),
        "{}",
        out.stdout
    );
    let out = p
        .parbuild(["verify", "mac-ok.par", "--macos-min", "eleven"])
        .code(2);
    assert!(out.stderr.contains("not a version"), "{}", out.stderr);
    let json = p
        .parbuild(["inspect", "mac-ok.par", "--json"])
        .success()
        .json();
    let mac = &json["targets"][2];
    assert_eq!(mac["label"], "x86_64-macos");
    assert_eq!(
        mac["loads"],
        serde_json::json!({
            "format": "macho",
            "macos_min": "11.0",
            "dylibs": ["libSystem.B", "CoreFoundation", "Security"],
            "imports": 4,
        })
    );
    assert_eq!(json["targets"][0]["loads"]["glibc"], "static");
    let text = p.parbuild(["inspect", "mac-ok.par"]).success().stdout;
    assert!(
        text.contains(
            "      macOS ≥ 11.0 · links libSystem.B, CoreFoundation, Security · 4 imports"
        ),
        "{text}"
    );
}

#[test]
fn a_glibc_floor_rejects_newer_binaries() {
    // A real glibc binary of this machine.
    let real = std::path::Path::new("/usr/bin/true");
    let Ok(bytes) = std::fs::read(real) else {
        eprintln!("skipped: no /usr/bin/true");
        return;
    };
    if !(cfg!(all(
        target_arch = "x86_64",
        target_os = "linux",
        target_env = "gnu"
    ))) {
        eprintln!("skipped: not an x86_64 glibc host");
        return;
    }
    let p = Project::new();
    let e = base(&p);
    let with_true = with_target(&e[..2], "x86_64-linux", bytes);
    p.file("true.par", tar(&with_true, Style::Gnu));
    let out = p.parbuild(["verify", "true.par"]).success();
    assert!(
        out.stdout.contains("x86_64-linux.bin: needs glibc ≥ 2.")
            && out.stdout.contains("libc.so.6"),
        "{}",
        out.stdout
    );
    p.parbuild(["verify", "true.par", "--glibc", "99.0"])
        .success();
    let out = p.parbuild(["verify", "true.par", "--glibc", "2.0"]).code(1);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("FAIL") && l.contains("loads"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(
        line.contains("`x86_64-linux.bin` needs GLIBC_2.")
            && line.contains("newer than the floor 2.0: it will not start on older distributions"),
        "{line}"
    );
    let json = p
        .parbuild(["inspect", "true.par", "--json"])
        .success()
        .json();
    let t = &json["targets"][1];
    assert_eq!(t["label"], "x86_64-linux");
    assert!(
        t["loads"]["glibc"].as_str().unwrap().starts_with("2."),
        "{t}"
    );
    assert!(
        t["loads"]["needed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "libc.so.6"),
        "{t}"
    );
}
