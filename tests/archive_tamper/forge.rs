//! Forging archives for the tamper suite: a tar writer with GNU, ustar and PAX headers
//! and any entry type, gzip, and JWT re-signing with the test keys.

use std::io::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

use crate::support::*;

pub const HEADER: &str = r#"{"typ":"jwt","alg":"Ed25519"}"#;

#[derive(Clone, Debug)]
pub struct Ent {
    pub name: String,
    pub flag: u8,
    pub data: Vec<u8>,
}

pub fn file(name: &str, data: impl Into<Vec<u8>>) -> Ent {
    Ent {
        name: name.into(),
        flag: b'0',
        data: data.into(),
    }
}

#[derive(Clone, Copy, PartialEq)]
pub enum Style {
    Gnu,
    Ustar,
    Pax,
}

pub fn octal(field: &mut [u8], v: u64) {
    let d = field.len() - 1;
    field[..d].copy_from_slice(format!("{v:0d$o}").as_bytes());
    field[d] = 0;
}

pub fn header(name: &str, size: u64, flag: u8, style: Style) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    if style == Style::Gnu {
        h[257..265].copy_from_slice(b"ustar  \0");
    } else {
        octal(&mut h[100..108], 0o755);
        octal(&mut h[108..116], 1000);
        octal(&mut h[116..124], 1000);
        octal(&mut h[136..148], 1_700_000_000);
        h[257..265].copy_from_slice(b"ustar\x0000");
        h[265..270].copy_from_slice(b"alice");
    }
    octal(&mut h[124..136], size);
    h[156] = flag;
    h[148..156].fill(b' ');
    let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
    // GNU tar's own checksum habit: 6 digits, NUL, space.
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

pub fn push_entry(out: &mut Vec<u8>, name: &str, flag: u8, data: &[u8], style: Style) {
    out.extend_from_slice(&header(name, data.len() as u64, flag, style));
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

pub fn tar(entries: &[Ent], style: Style) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if style == Style::Pax {
            let record = format!("path={}\n", e.name);
            let mut len = record.len() + 3;
            len += format!("{len} ").len() - 3;
            let pax = format!("{len} {record}");
            assert_eq!(pax.len(), len);
            push_entry(
                &mut out,
                &format!("PaxHeaders/{i}"),
                b'x',
                pax.as_bytes(),
                style,
            );
            push_entry(&mut out, &format!("short{i}"), e.flag, &e.data, style);
        } else {
            push_entry(&mut out, &e.name, e.flag, &e.data, style);
        }
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// The entries of a plain GNU tar written by parbuild.
pub fn entries_of(bytes: &[u8]) -> Vec<Ent> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 512 <= bytes.len() && bytes[pos..pos + 512].iter().any(|&b| b != 0) {
        let h = &bytes[pos..pos + 512];
        let name =
            String::from_utf8(h[..100].iter().copied().take_while(|&b| b != 0).collect()).unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&h[124..135]).unwrap(), 8).unwrap();
        out.push(file(&name, &bytes[pos + 512..pos + 512 + size]));
        pos += 512 + size.div_ceil(512) * 512;
    }
    out
}

/// A packed archive's entries: claims, aarch64-linux, x86_64-linux.
pub fn base(p: &Project) -> Vec<Ent> {
    p.pack(&["--compression", "none", "-o", "base.par"])
        .success();
    let e = entries_of(&std::fs::read(p.path("base.par")).unwrap());
    assert_eq!(
        e.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["claims.jwt", "aarch64-linux.bin", "x86_64-linux.bin"]
    );
    e
}

pub fn payload(token: &[u8]) -> serde_json::Value {
    let token = std::str::from_utf8(token).unwrap();
    serde_json::from_slice(&B64.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap()
}

pub fn sign_with(header: &str, payload: &serde_json::Value, seed: &str) -> Vec<u8> {
    let input = format!(
        "{}.{}",
        B64.encode(header),
        B64.encode(serde_json::to_string(payload).unwrap())
    );
    let sig = nkeys::KeyPair::from_seed(seed)
        .unwrap()
        .sign(input.as_bytes())
        .unwrap();
    format!("{input}.{}", B64.encode(sig)).into_bytes()
}

/// The claims re-signed properly after `edit`.
pub fn resigned(entries: &[Ent], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<Ent> {
    let mut e = entries.to_vec();
    let mut p = payload(&e[0].data);
    edit(&mut p);
    e[0].data = sign_with(HEADER, &p, ACCOUNT_SEED);
    e
}

/// `verify` must exit 1 with `check` failed and its detail containing `needle`.
pub fn rejects(p: &Project, name: &str, bytes: &[u8], check: &str, needle: &str) {
    p.file(name, bytes);
    let out = p
        .parbuild(["verify", name, "--max-unpacked", "1000000"])
        .code(1);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("FAIL") && l.split_whitespace().nth(1) == Some(check))
        .unwrap_or_else(|| {
            panic!(
                "{name}: check `{check}` did not fail:\n{}\n{}",
                out.stdout, out.stderr
            )
        });
    assert!(line.contains(needle), "{name}: `{needle}` not in `{line}`");
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

pub fn accepts(p: &Project, name: &str, bytes: &[u8]) {
    p.file(name, bytes);
    let out = p.parbuild(["verify", name]).output();
    assert_eq!(out.code, Some(0), "{name} rejected:\n{}", out.stdout);
    p.parbuild(["inspect", name]).success();
}

pub fn sha2_digest(data: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).to_vec()
}
