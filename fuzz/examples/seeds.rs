//! Writes the seed corpora of the fuzz targets (`scripts/fuzz` runs it; the output is
//! generated, never committed) from the repository's own inputs: archives and parts
//! written by parbuild's own writers (signed with the spec's test keys) around the host's
//! small ELF programs, the tamper suite's Mach-O images and tiny PE/ELF headers; the
//! `par.toml` files of the repository and the TOML, wasmcloud.toml and Makefile texts in
//! its tests; the tokens, payloads and keys of those archives.
//!
//! `cargo run --example seeds -- REPO OUT [ELF…]`: `OUT/<target>/` is emptied and refilled,
//! deterministically (fixed `iat` and `jti`), so running it twice gives the same files.

#[path = "../../tests/archive_tamper/macho.rs"]
mod macho;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use parbuild::archive::scan::scan_reader;
use parbuild::archive::verify::verify_scan;
use parbuild::archive::{
    Compression, Jti, Label, ProviderMeta, ReadOptions, VerifyOptions, WriteSpec, binary, write_to,
};
use parbuild::commands::init::{InitValues, render};
use parbuild::part;
use parbuild_fuzz::{ACCOUNT_PUB, ACCOUNT_SEED, CAP, SERVICE_PUB, SERVICE_SEED};

struct Out {
    root: PathBuf,
    counts: BTreeMap<&'static str, usize>,
}

impl Out {
    fn put(&mut self, target: &'static str, name: &str, bytes: &[u8]) {
        let dir = self.root.join(target);
        std::fs::create_dir_all(&dir).expect("create a seed directory");
        std::fs::write(dir.join(name), bytes).expect("write a seed");
        *self.counts.entry(target).or_default() += 1;
    }
}

/// A minimal ELF executable header for `machine` (as the repository's tests build them).
fn elf(machine: u16, is64: bool) -> Vec<u8> {
    let mut h = vec![0u8; 64];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = if is64 { 2 } else { 1 };
    h[5] = 1;
    h[6] = 1;
    h[16] = 2;
    h[18..20].copy_from_slice(&machine.to_le_bytes());
    h[20] = 1;
    h.extend(std::iter::repeat_n(0xAB, 300));
    h
}

/// A minimal PE32+ image for `machine`.
fn pe64(machine: u16) -> Vec<u8> {
    let mut h = vec![0u8; 512];
    h[..2].copy_from_slice(b"MZ");
    h[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    h[0x80..0x84].copy_from_slice(b"PE\0\0");
    h[0x84..0x86].copy_from_slice(&machine.to_le_bytes());
    h[0x94..0x96].copy_from_slice(&240u16.to_le_bytes());
    h[0x98..0x9a].copy_from_slice(&0x20bu16.to_le_bytes());
    h
}

/// The first label of the binary target's list that `bytes` fits.
fn label_of(bytes: &[u8]) -> Option<usize> {
    parbuild_fuzz::LABELS.iter().position(|l| {
        binary::check(
            &Label::parse(l).expect("a label"),
            &bytes[..bytes.len().min(4096)],
        )
        .is_ok()
    })
}

/// Every string literal of a Rust source (plain with escapes, or raw), best effort.
fn literals(source: &str) -> Vec<String> {
    let b: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == '/' && b.get(i + 1) == Some(&'/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '\'' && b.get(i + 2) == Some(&'\'') {
            i += 3;
        } else if c == '\'' && b.get(i + 1) == Some(&'\\') && b.get(i + 3) == Some(&'\'') {
            i += 4;
        } else if c == 'r' && matches!(b.get(i + 1), Some('#' | '"')) && !prev_ident(&b, i) {
            let hashes = b[i + 1..].iter().take_while(|&&h| h == '#').count();
            if b.get(i + 1 + hashes) != Some(&'"') {
                i += 1;
                continue;
            }
            let start = i + 2 + hashes;
            let mut j = start;
            while j < b.len() {
                if b[j] == '"'
                    && b[j + 1..]
                        .iter()
                        .take(hashes)
                        .filter(|&&h| h == '#')
                        .count()
                        == hashes
                {
                    break;
                }
                j += 1;
            }
            out.push(b[start..j.min(b.len())].iter().collect());
            i = j + 1 + hashes;
        } else if c == '"' {
            let mut s = String::new();
            let mut j = i + 1;
            while j < b.len() && b[j] != '"' {
                if b[j] == '\\' && j + 1 < b.len() {
                    j += 1;
                    match b[j] {
                        'n' => s.push('\n'),
                        't' => s.push('\t'),
                        'r' => s.push('\r'),
                        '0' => s.push('\0'),
                        '\n' => {
                            while j + 1 < b.len() && b[j + 1].is_whitespace() {
                                j += 1;
                            }
                        }
                        other => s.push(other),
                    }
                } else {
                    s.push(b[j]);
                }
                j += 1;
            }
            out.push(s);
            i = j + 1;
        } else {
            i += 1;
        }
    }
    out
}

fn prev_ident(b: &[char], i: usize) -> bool {
    i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_')
}

/// A file of the repository the seeds come from. A missing one is an error, not an empty
/// seed set: a file moved by a refactor must be moved here too.
fn read(repo: &Path, rel: &str) -> Option<String> {
    match std::fs::read_to_string(repo.join(rel)) {
        Ok(text) => Some(text),
        Err(e) => panic!("seeds: cannot read `{rel}` ({e}); update fuzz/examples/seeds.rs"),
    }
}

/// An archive seed: its name, its binaries, whether it has a `world.wasm`, its metadata.
type Set<'a> = (&'a str, Vec<(Label, PathBuf)>, bool, &'a ProviderMeta);

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, repo, out, elves @ ..] = args.as_slice() else {
        eprintln!("usage: seeds REPO OUT [ELF…]");
        return std::process::ExitCode::from(2);
    };
    let repo = Path::new(repo);
    let mut out = Out {
        root: PathBuf::from(out),
        counts: BTreeMap::new(),
    };
    for t in parbuild_fuzz::TARGETS {
        let _ = std::fs::remove_dir_all(out.root.join(t));
    }
    let work = tempfile::tempdir().expect("a temporary directory");

    // --- binaries ---------------------------------------------------------------------
    let mut bins: Vec<(String, Vec<u8>)> = vec![
        ("elf-aarch64".into(), elf(183, true)),
        ("elf-arm".into(), elf(40, false)),
        ("elf-riscv64".into(), elf(243, true)),
        ("macho-x86_64".into(), macho::sound(macho::CPU_X86_64)),
        ("macho-arm64".into(), macho::sound(macho::CPU_ARM64)),
        (
            "macho-arm64-unsigned".into(),
            macho::image_signed(
                macho::CPU_ARM64,
                &[macho::LIBSYSTEM],
                &[("_malloc", 1)],
                false,
            ),
        ),
        ("pe-x86_64".into(), pe64(0x8664)),
        ("pe-aarch64".into(), pe64(0xaa64)),
    ];
    for (i, path) in elves.iter().enumerate() {
        match std::fs::read(path) {
            Ok(bytes) if bytes.len() <= 256 * 1024 => bins.push((format!("host-{i}"), bytes)),
            _ => eprintln!("seeds: skipping {path}"),
        }
    }
    for (name, bytes) in &bins {
        let fits = label_of(bytes);
        for (k, label) in fits.into_iter().chain([0, 2]).enumerate() {
            let mut seed = vec![label as u8, (k * 37) as u8, k as u8];
            seed.extend_from_slice(bytes);
            out.put("binary", &format!("{name}-{k}"), &seed);
        }
    }

    // --- archives ---------------------------------------------------------------------
    let issuer = nkeys::KeyPair::from_seed(ACCOUNT_SEED).expect("the test account seed");
    let files: Vec<(String, PathBuf, Option<usize>)> = bins
        .iter()
        .map(|(name, bytes)| {
            let p = work.path().join(name);
            std::fs::write(&p, bytes).expect("write a binary");
            (name.clone(), p, label_of(bytes))
        })
        .collect();
    let world = work.path().join("world.wasm");
    std::fs::write(&world, b"\0asm\x01\0\0\0\x00\x04name\x02\x01\x00").expect("write world.wasm");
    let labelled = |names: &[&str]| -> Vec<(Label, PathBuf)> {
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for (name, path, label) in &files {
            let Some(l) = label.filter(|_| names.iter().any(|n| name.starts_with(n))) else {
                continue;
            };
            if !seen.contains(&l) {
                seen.push(l);
                out.push((
                    Label::parse(parbuild_fuzz::LABELS[l]).expect("a label"),
                    path.clone(),
                ));
            }
        }
        out
    };
    let plain = ProviderMeta {
        name: "Fuzz Provider".into(),
        vendor: "acme".into(),
        version: Some("1.2.3".into()),
        revision: Some(7),
        capid: None,
        config_schema: None,
    };
    let rich = ProviderMeta {
        capid: Some("wasmcloud:example".into()),
        config_schema: Some(serde_json::json!({
            "type": "object",
            "properties": {"url": {"type": "string"}, "retries": {"type": "integer", "maximum": 1.5e3}},
        })),
        ..plain.clone()
    };
    let sets: [Set<'_>; 4] = [
        ("host", labelled(&["host"]), false, &plain),
        (
            "tiny",
            labelled(&["elf", "macho-x86_64", "macho-arm64", "pe"]),
            false,
            &plain,
        ),
        (
            "all",
            labelled(&["host", "elf", "macho", "pe"]),
            true,
            &rich,
        ),
        ("macos", labelled(&["macho"]), false, &rich),
    ];
    let mut tokens = Vec::new();
    for (set, binaries, with_world, meta) in &sets {
        if binaries.is_empty() {
            continue;
        }
        for compression in [Compression::Gzip, Compression::None, Compression::Zstd] {
            let spec = WriteSpec {
                meta,
                binaries,
                world: with_world.then_some(world.as_path()),
                compression,
                issuer: &issuer,
                subject: SERVICE_PUB,
                iat: 1_700_000_000,
                jti: Jti::Given(format!("fuzz-{set}")),
            };
            let (bytes, written) = write_to(Vec::new(), &spec).expect("write an archive");
            let scan = scan_reader(bytes.as_slice(), &ReadOptions { max_unpacked: CAP });
            let report = verify_scan(
                &scan,
                &VerifyOptions {
                    max_unpacked: CAP,
                    ..VerifyOptions::default()
                },
            );
            if !report.ok() {
                eprintln!(
                    "seeds: {set}.{} does not verify: {}",
                    compression.extension(),
                    report.failures()
                );
            }
            out.put(
                "archive",
                &format!("{set}.{}", compression.extension()),
                &bytes,
            );
            tokens.push(written.token);
        }
    }
    for (set, binaries, _, _) in &sets[1..2] {
        // The uncompressed archive with one byte changed in the claims: fails `signature`.
        let spec = WriteSpec {
            meta: &plain,
            binaries,
            world: None,
            compression: Compression::None,
            issuer: &issuer,
            subject: SERVICE_PUB,
            iat: 1_700_000_000,
            jti: Jti::FromContent,
        };
        let (mut bytes, _) = write_to(Vec::new(), &spec).expect("write an archive");
        if let Some(at) = bytes.windows(3).position(|w| w == b"eyJ") {
            bytes[at + 40] ^= 1;
        }
        out.put("archive", &format!("{set}-tampered.par"), &bytes);
    }

    // --- parts ------------------------------------------------------------------------
    let targets: Vec<String> = parbuild_fuzz::LABELS[..8]
        .iter()
        .map(|l| (*l).to_owned())
        .collect();
    for (name, path, label) in &files {
        let Some(label) = label.filter(|l| *l < 8) else {
            continue;
        };
        let label = parbuild_fuzz::LABELS[label];
        let with_world = name.starts_with("host");
        let manifest = part::PartManifest {
            format: part::FORMAT,
            parbuild: "0.1.0".into(),
            label: label.into(),
            triple: parbuild::target::triple_for_label(label)
                .unwrap_or("x-y-z")
                .into(),
            binary: part::digest_file(path).expect("digest a binary"),
            rustc: Some("1.95.0".into()),
            provider: plain.clone(),
            package: "fuzz-provider".into(),
            artifact: "fuzz-provider".into(),
            targets: targets.clone(),
            world: with_world.then(|| part::digest_file(&world).expect("digest world.wasm")),
            compression: Compression::Gzip,
            output: "build/fuzz.par.gz".into(),
            issuer_public: Some(ACCOUNT_PUB.into()),
            subject_public: None,
            source: part::Source {
                revision: Some("0123456789abcdef0123456789abcdef01234567".into()),
                lockfile_sha256: Some("AB".repeat(32)),
            },
        };
        let dest = work.path().join(part::file_name(
            "fuzz-provider",
            &Label::parse(label).expect("a label"),
        ));
        part::write(
            &dest,
            &manifest,
            path,
            with_world.then_some(world.as_path()),
        )
        .expect("write a part");
        let bytes = std::fs::read(&dest).expect("read a part");
        let tar = zstd::decode_all(bytes.as_slice()).expect("a part is zstd");
        out.put("part", &format!("{name}.part.tar.zst"), &bytes);
        out.put("part", &format!("{name}.part.tar"), &tar);
    }

    // --- par.toml -----------------------------------------------------------------------
    let values = InitValues {
        name: "Fuzz Provider".into(),
        vendor: "acme".into(),
        version: "0.1.0".into(),
        package: "fuzz-provider".into(),
        artifact: "bin".into(),
    };
    out.put("manifest", "init-rendered.toml", render(&values).as_bytes());
    for rel in [
        "par.toml",
        "templates/par.toml",
        "examples/hello-provider/par.toml",
        "examples/messaging-provider/par.toml",
        "examples/bench-provider/par.toml",
        "benches/load-targets.toml",
    ] {
        if let Some(text) = read(repo, rel) {
            out.put("manifest", &rel.replace('/', "_"), text.as_bytes());
        }
    }
    if let Some(doc) = read(repo, "docs/par-toml.md") {
        for (i, block) in doc.split("```toml\n").skip(1).enumerate() {
            let block = block.split("```").next().unwrap_or("");
            out.put("manifest", &format!("doc-{i}.toml"), block.as_bytes());
        }
    }
    const PROVIDER: &str = "[provider]\nname = \"Fake Payments\"\nvendor = \"wasmCloud\"\n";
    let mut n = 0;
    for rel in [
        "src/manifest/tests.rs",
        "tests/manifest.rs",
        "src/manifest/validate.rs",
    ] {
        for lit in read(repo, rel).map(|s| literals(&s)).unwrap_or_default() {
            if !lit.contains('=') || lit.starts_with("error:") || lit.contains("\n  |") {
                continue;
            }
            let text = if lit.contains("[provider]") {
                lit
            } else {
                format!("{PROVIDER}{lit}")
            };
            out.put("manifest", &format!("test-{n}.toml"), text.as_bytes());
            n += 1;
        }
    }

    // --- wasmcloud.toml and provider.mk ------------------------------------------------------
    let mut n = 0;
    for rel in [
        "tests/init.rs",
        "src/manifest/import/mod.rs",
        "src/manifest/import/wasmcloud.rs",
        "src/manifest/import/provider_mk.rs",
        "src/manifest/import/makefile.rs",
        "src/commands/init.rs",
    ] {
        for lit in read(repo, rel).map(|s| literals(&s)).unwrap_or_default() {
            let makefile = lit.contains("include ") && lit.contains("PROJECT");
            let toml =
                lit.contains("type = ") || lit.contains("[provider]") || lit.contains("[registry");
            if !(makefile || toml) {
                continue;
            }
            let mut seed = vec![u8::from(makefile)];
            seed.extend_from_slice(lit.as_bytes());
            out.put("import", &format!("test-{n}"), &seed);
            n += 1;
        }
    }

    // --- tokens, payloads, keys -------------------------------------------------------------
    use base64::Engine as _;
    for (i, token) in tokens.iter().enumerate() {
        let mut seed = vec![0u8];
        seed.extend_from_slice(token.as_bytes());
        out.put("jwt", &format!("token-{i}"), &seed);
        if let Some(payload) = token.split('.').nth(1) {
            let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .expect("a payload");
            for mode in [1u8, 2] {
                let mut seed = vec![mode];
                seed.extend_from_slice(&json);
                out.put("jwt", &format!("payload-{i}-{mode}"), &seed);
            }
        }
    }
    for (i, key) in [ACCOUNT_SEED, SERVICE_SEED, ACCOUNT_PUB, SERVICE_PUB]
        .iter()
        .enumerate()
    {
        for (j, text) in [key.to_string(), format!("{key}\n"), format!("  {key}\r\n")]
            .iter()
            .enumerate()
        {
            let mut seed = vec![3u8];
            seed.extend_from_slice(text.as_bytes());
            out.put("jwt", &format!("key-{i}-{j}"), &seed);
        }
    }

    for (target, n) in &out.counts {
        println!("{target}: {n} seeds");
    }
    std::process::ExitCode::SUCCESS
}
