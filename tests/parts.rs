//! Split builds end to end: two targets built into parts by two invocations with separate
//! target directories (two machines), driven by the exact commands of the generated
//! GitHub workflow, then assembled into an archive byte-identical to `parbuild pack` and
//! `parbuild build` of the same binaries; and every bad set of parts (tampered, edited,
//! mismatched, duplicate, missing, garbage, a decompression bomb) rejected with nothing
//! written. Along the way: `RUSTC_WRAPPER` reaches every backend, and part builds never
//! touch keys.

mod support;

use std::path::{Path, PathBuf};

use object::{Architecture, BinaryFormat};
use sha2::Digest as _;
use support::{
    ACCOUNT_SEED, Project, Run, SERVICE_SEED, binary_info, load_with_wasmcloud, requires_tool,
};

const EPOCH: &str = "1700000000";

/// Signing keys from the environment, as the assemble job has them, and a fixed epoch.
fn keyed(run: Run) -> Run {
    run.env("WASH_ISSUER_KEY", ACCOUNT_SEED)
        .env("WASH_SUBJECT_KEY", SERVICE_SEED)
        .env("SOURCE_DATE_EPOCH", EPOCH)
}

/// A zero-dependency binary crate that compiles for every target.
fn twin(p: &Project) -> PathBuf {
    p.file(
        "twin/Cargo.toml",
        "[package]\nname = \"twin\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    );
    p.file(
        "twin/src/main.rs",
        "fn main() { println!(\"twin on {}\", std::env::consts::ARCH); }\n",
    );
    p.file(
        "twin/par.toml",
        "[provider]\nname = \"Twin\"\nvendor = \"tests\"\n\n[targets]\nx86_64-linux = {}\naarch64-linux = {}\n\n[output]\npath = \"build/twin.par.gz\"\n",
    );
    p.path("twin")
}

/// A `RUSTC_WRAPPER` (what sccache is) that logs each rustc command line, then runs it.
fn wrapper(p: &Project) -> (PathBuf, PathBuf) {
    let log = p.path("wrapper.log");
    let script = p.file(
        "wrap.sh",
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec \"$@\"\n",
            log.display()
        ),
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    (script, log)
}

/// The workflow `parbuild ci github --split` writes, parsed.
fn split_workflow(p: &Project, dir: &Path) -> serde_norway::Value {
    p.parbuild([
        "ci",
        "github",
        "--split",
        "--parbuild-git",
        "https://example.com/parbuild.git",
    ])
    .current_dir(dir)
    .success();
    let text = std::fs::read_to_string(dir.join(".github/workflows/par.yml")).unwrap();
    serde_norway::from_str(&text).unwrap()
}

/// The `run:` line of `job` that starts with `prefix`.
fn run_line(job: &serde_norway::Value, prefix: &str) -> String {
    job["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|s| s["run"].as_str())
        .find(|r| r.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` step"))
        .to_owned()
}

/// A run line as the arguments of `parbuild`, with `parts/*` expanded as a shell would.
fn argv(line: &str, dir: &Path) -> Vec<String> {
    let mut words = line.split_whitespace();
    assert_eq!(words.next(), Some("parbuild"), "{line}");
    let mut args = Vec::new();
    for w in words {
        if let Some(sub) = w.strip_suffix("/*") {
            let mut names: Vec<String> = std::fs::read_dir(dir.join(sub))
                .unwrap()
                .map(|e| format!("{sub}/{}", e.unwrap().file_name().to_string_lossy()))
                .collect();
            names.sort();
            args.extend(names);
        } else {
            args.push(w.to_owned());
        }
    }
    args
}

/// The binary cargo wrote for `triple` somewhere under `target_dir`.
fn built_binary(target_dir: &Path, triple: &str) -> PathBuf {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let path = e.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.file_name().is_some_and(|n| n == "twin") {
                out.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(target_dir, &mut found);
    found.retain(|p| p.to_string_lossy().contains(&format!("/{triple}/release/")));
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

#[test]
fn parts_from_two_machines_assemble_to_the_archive_pack_and_build_write() {
    if !requires_tool("cargo-zigbuild") {
        return;
    }
    let p = Project::new();
    let dir = twin(&p);
    let (wrap, wrap_log) = wrapper(&p);
    let workflow = split_workflow(&p, &dir);
    let build_job = &workflow["jobs"]["build"];
    let assemble_job = &workflow["jobs"]["assemble"];

    // Each matrix entry on its own "machine": its own target directory, no keys.
    let build_line = run_line(build_job, "parbuild build");
    let matrix = build_job["strategy"]["matrix"]["include"]
        .as_sequence()
        .unwrap();
    assert_eq!(matrix.len(), 2);
    let mut machines = Vec::new();
    for entry in matrix {
        let target = entry["target"].as_str().unwrap();
        let line = build_line.replace("${{ matrix.target }}", target);
        let target_dir = p.path(&format!("machine-{target}"));
        p.parbuild(argv(&line, &dir))
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", &target_dir)
            .env("RUSTC_WRAPPER", &wrap)
            .success();
        machines.push((target.to_owned(), target_dir));
    }
    assert!(
        !p.path("home/.wash").exists(),
        "building parts neither reads nor generates keys"
    );
    let log = std::fs::read_to_string(&wrap_log).unwrap();
    for triple in ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] {
        assert!(
            log.lines()
                .any(|l| l.contains("--crate-name twin") && l.contains(triple)),
            "RUSTC_WRAPPER ran rustc for {triple} (cargo and zig backends):\n{log}"
        );
    }

    // The assemble job: the exact commands of the workflow.
    let assemble = argv(&run_line(assemble_job, "parbuild assemble"), &dir);
    let archive = dir.join(&assemble[assemble.iter().position(|a| a == "-o").unwrap() + 1]);
    let out = keyed(p.parbuild(&assemble)).current_dir(&dir).success();
    assert!(out.stdout.contains("— verified"), "{}", out.stdout);
    p.parbuild(argv(&run_line(assemble_job, "parbuild verify"), &dir))
        .current_dir(&dir)
        .success();

    let bytes = std::fs::read(&archive).unwrap();
    let par = load_with_wasmcloud(&bytes);
    let mut targets = par.targets();
    targets.sort();
    assert_eq!(targets, ["aarch64-linux", "x86_64-linux"]);
    for (label, arch) in [
        ("x86_64-linux", Architecture::X86_64),
        ("aarch64-linux", Architecture::Aarch64),
    ] {
        let info = binary_info(&par.target_bytes(label).unwrap());
        assert_eq!(
            (info.format, info.arch, info.executable),
            (BinaryFormat::Elf, arch, true),
            "{label}"
        );
    }

    // `parbuild pack` of the same binaries with the same keys and epoch: the same bytes.
    let mut pack: Vec<String> = [
        "pack",
        "--name",
        "Twin",
        "--vendor",
        "tests",
        "--version",
        "0.1.0",
        "--revision",
        "0",
        "-o",
        "packed.par.gz",
    ]
    .map(str::to_owned)
    .to_vec();
    for (label, target_dir) in &machines {
        let triple = if label == "x86_64-linux" {
            "x86_64-unknown-linux-gnu"
        } else {
            "aarch64-unknown-linux-gnu"
        };
        let bin = built_binary(target_dir, triple);
        pack.extend(["--target".to_owned(), format!("{label}={}", bin.display())]);
    }
    keyed(p.parbuild(&pack)).current_dir(&dir).success();
    assert!(
        std::fs::read(dir.join("packed.par.gz")).unwrap() == bytes,
        "assemble and pack of the same binaries differ"
    );

    // And a one-machine `parbuild build` writes the same bytes too.
    keyed(p.parbuild(["build", "-o", "one.par.gz"]))
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", p.path("one-machine"))
        .success();
    assert!(
        std::fs::read(dir.join("one.par.gz")).unwrap() == bytes,
        "a split build and a one-machine build differ"
    );
}

// ---- Bad parts, made by rewriting a good one.

/// A part's files: its manifest as JSON and each other entry by name.
struct Unpacked {
    manifest: serde_json::Value,
    files: Vec<(String, Vec<u8>)>,
}

fn unpack(part: &Path) -> Unpacked {
    let tar = zstd::decode_all(std::fs::read(part).unwrap().as_slice()).unwrap();
    let mut archive = tar::Archive::new(tar.as_slice());
    let mut manifest = None;
    let mut files = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        if name == "part.json" {
            manifest = Some(serde_json::from_slice(&data).unwrap());
        } else {
            files.push((name, data));
        }
    }
    Unpacked {
        manifest: manifest.expect("part.json"),
        files,
    }
}

fn repack(u: &Unpacked, dest: &Path) {
    let mut builder = tar::Builder::new(Vec::new());
    let json = serde_json::to_vec_pretty(&u.manifest).unwrap();
    let entries = std::iter::once(("part.json".to_owned(), json)).chain(u.files.iter().cloned());
    for (name, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        builder
            .append_data(&mut header, name, data.as_slice())
            .unwrap();
    }
    let tar = builder.into_inner().unwrap();
    std::fs::write(dest, zstd::encode_all(tar.as_slice(), 3).unwrap()).unwrap();
}

/// Writes `parts/<name>` from the good part, edited.
fn rewrite(p: &Project, good: &Path, name: &str, edit: impl FnOnce(&mut Unpacked)) -> String {
    let mut u = unpack(good);
    edit(&mut u);
    let rel = format!("bad/{name}.part.tar.zst");
    std::fs::create_dir_all(p.path("twin/bad")).unwrap();
    repack(&u, &p.path(&format!("twin/{rel}")));
    rel
}

fn sha256_upper(data: &[u8]) -> String {
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// Sets the binary (and its size and hash in the manifest).
fn set_binary(u: &mut Unpacked, data: Vec<u8>) {
    u.manifest["binary"]["size"] = data.len().into();
    u.manifest["binary"]["sha256"] = sha256_upper(&data).into();
    u.files[0].1 = data;
}

#[test]
fn parts_that_do_not_fit_are_rejected_and_nothing_is_written() {
    let p = Project::new();
    let dir = twin(&p);
    let (wrap, wrap_log) = wrapper(&p);
    // The host target only (cargo backend): no cross tool needed.
    p.parbuild(["build", "--target", "x86_64-linux", "--part-out", "parts/"])
        .current_dir(&dir)
        .env("RUSTC_WRAPPER", &wrap)
        .success();
    assert!(!p.path("home/.wash").exists(), "no key read or generated");
    assert!(
        std::fs::read_to_string(&wrap_log)
            .unwrap()
            .contains("--crate-name twin"),
        "RUSTC_WRAPPER reaches the cargo backend"
    );
    let good = dir.join("parts/twin-x86_64-linux.part.tar.zst");
    let good_rel = "parts/twin-x86_64-linux.part.tar.zst";
    // An aarch64 part made from the x86 one: consistent, but the wrong CPU for its label.
    let arm = rewrite(&p, &good, "arm", |u| {
        u.manifest["label"] = "aarch64-linux".into();
        u.manifest["triple"] = "aarch64-unknown-linux-gnu".into();
        u.files[0].0 = "aarch64-linux.bin".to_owned();
    });
    let flipped = rewrite(&p, &good, "flipped", |u| u.files[0].1[1000] ^= 0x01);
    let edited_hash = rewrite(&p, &good, "edited-hash", |u| {
        u.manifest["binary"]["sha256"] = "00".repeat(32).into();
    });
    let edited_size = rewrite(&p, &good, "edited-size", |u| {
        u.manifest["binary"]["size"] = 12.into();
    });
    let edited_field = rewrite(&p, &good, "edited-field", |u| {
        u.manifest["signed_by"] = "nobody".into();
    });
    let renamed = rewrite(&p, &good, "renamed", |u| {
        u.manifest["provider"]["name"] = "Twin2".into();
    });
    let other_version = rewrite(&p, &good, "other-version", |u| {
        u.manifest["provider"]["version"] = "0.2.0".into();
    });
    let other_lock = rewrite(&p, &good, "other-lock", |u| {
        u.manifest["source"]["lockfile_sha256"] = "AB".repeat(32).into();
    });
    let other_commit = rewrite(&p, &good, "other-commit", |u| {
        u.manifest["source"]["revision"] = "1234567890abcdef1234567890abcdef12345678".into();
    });
    let future = rewrite(&p, &good, "future", |u| u.manifest["format"] = 2.into());
    let bomb = rewrite(&p, &good, "bomb", |u| set_binary(u, vec![0u8; 8 << 20]));
    p.file("twin/bad/garbage.part.tar.zst", b"\x28\xb5\x2f\xfdgarbage");
    let garbage = "bad/garbage.part.tar.zst".to_owned();
    let dup = "bad/dup.part.tar.zst".to_owned();
    std::fs::copy(&good, dir.join(&dup)).unwrap();

    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec![&arm, &flipped],
            vec!["flipped.part.tar.zst", "binary.sha256"],
        ),
        (
            vec![&edited_hash, &arm],
            vec!["edited-hash.part.tar.zst", "binary.sha256", "0000"],
        ),
        (
            vec![&edited_size, &arm],
            vec!["edited-size.part.tar.zst", "binary.size"],
        ),
        (
            vec![&edited_field, &arm],
            vec!["edited-field.part.tar.zst", "unknown field `signed_by`"],
        ),
        (
            vec![&arm, &renamed],
            vec![
                "renamed.part.tar.zst` does not belong with `",
                "`provider.name` is \"Twin2\" there but \"Twin\"",
            ],
        ),
        (
            vec![&arm, &other_version],
            vec![
                "other-version.part.tar.zst",
                "`provider.version`",
                "\"0.2.0\"",
            ],
        ),
        (
            vec![&arm, &other_lock],
            vec!["other-lock.part.tar.zst", "`source.lockfile_sha256`"],
        ),
        (
            vec![&arm, &other_commit],
            vec!["other-commit.part.tar.zst", "`source.revision`"],
        ),
        (
            vec![good_rel, &dup],
            vec!["dup.part.tar.zst", "are both the part for `x86_64-linux`"],
        ),
        (
            vec![good_rel],
            vec!["no part for `aarch64-linux`", "--allow-missing"],
        ),
        (vec!["parts"], vec!["/parts` is a directory", "parts/*"]),
        (
            vec![&garbage, good_rel],
            vec!["garbage.part.tar.zst` is not a valid part"],
        ),
        (
            vec![&future, &arm],
            vec!["future.part.tar.zst` is a format 2 part"],
        ),
        (
            vec![&bomb, &arm],
            vec!["bomb.part.tar.zst` decompresses to more than 1000000 bytes"],
        ),
    ];
    let tmp = p.path("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    for (parts, expected) in cases {
        let mut args = vec![
            "assemble",
            "-o",
            "out/twin.par.gz",
            "--max-unpacked",
            "1000000",
        ];
        args.extend(parts.iter().copied());
        let out = keyed(p.parbuild(&args))
            .current_dir(&dir)
            .env("TMPDIR", &tmp)
            .code(2);
        for e in expected {
            assert!(
                out.stderr.contains(e),
                "{parts:?}: expected `{e}` in:\n{}",
                out.stderr
            );
        }
        assert!(!dir.join("out").exists(), "{parts:?}: nothing written");
        assert_eq!(
            std::fs::read_dir(&tmp).unwrap().count(),
            0,
            "{parts:?}: no temp left"
        );
    }

    // Consistent parts whose binary is not for its label: verification refuses the archive.
    let out = keyed(p.parbuild(["assemble", "-o", "out/twin.par.gz", good_rel, &arm]))
        .current_dir(&dir)
        .env("TMPDIR", &tmp)
        .failure();
    assert!(out.stderr.contains("aarch64-linux"), "{}", out.stderr);
    assert!(!dir.join("out/twin.par.gz").exists());
    assert_eq!(
        std::fs::read_dir(dir.join("out")).unwrap().count(),
        0,
        "no temp archive left"
    );
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);

    // The good part alone, with --allow-missing: a partial archive that loads.
    let out = keyed(p.parbuild(["assemble", "--allow-missing", good_rel]))
        .current_dir(&dir)
        .env("TMPDIR", &tmp)
        .success();
    assert!(out.stderr.contains("partial"), "{}", out.stderr);
    let archive = dir.join("build/twin.par.gz");
    let par = load_with_wasmcloud(&std::fs::read(&archive).unwrap());
    assert_eq!(par.targets(), ["x86_64-linux"]);
    p.parbuild(["verify", archive.to_str().unwrap()]).success();
}
