//! The strict verifier: every property a sound archive has, checked by name, stricter
//! than wasmCloud's own loader (which ignores the signature and header, accepts edited
//! claims and a second claims entry, and panics on directory or unlisted entries), down to
//! whether each binary will load on its OS (`loads`: Mach-O libraries and symbol
//! bindings, ELF glibc versions).
//!
//! One file because every check reads the same [`Scan`] and lands, by name, in one
//! [`VerifyReport`].

use std::collections::BTreeMap;
use std::path::Path;

use super::scan::{Entry, Role, Scan, scan_file};
use super::tar::EntryKind;
use super::{ArchiveError, Claims, Compression, ReadOptions, WORLD_ENTRY, binary, jwt};

/// What to check besides the archive itself.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Refuse to decompress more than this many bytes.
    pub max_unpacked: u64,
    /// Require this issuer public key.
    pub issuer: Option<String>,
    /// Require this subject public key.
    pub subject: Option<String>,
    /// The current time (Unix seconds) for `exp` and `nbf`.
    pub now: u64,
    /// Fail an ELF binary that needs a newer `GLIBC_` version than this (`2.17`), or
    /// whose requirement cannot be told.
    pub glibc_floor: Option<String>,
    /// Require every Mach-O binary's minimum macOS to be this deployment target (`11.0`);
    /// for arm64 at least 11.0, which the linker raises lower targets to.
    pub macos_min: Option<String>,
}

impl Default for VerifyOptions {
    /// No cap on decompressed bytes, no pins, no floor, at time 0 (so `exp` never fails).
    fn default() -> Self {
        Self {
            max_unpacked: u64::MAX,
            issuer: None,
            subject: None,
            now: 0,
            glibc_floor: None,
            macos_min: None,
        }
    }
}

/// How many problems the `loads` check names; the rest are counted.
const MAX_LOAD_PROBLEMS: usize = 10;

/// One named check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    /// Its name, e.g. `signature`.
    pub name: &'static str,
    /// Whether it passed.
    pub ok: bool,
    /// What was found, or what failed.
    pub detail: String,
}

/// Every check, in a fixed order.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyReport {
    /// The codec found.
    pub compression: Compression,
    /// The checks.
    pub checks: Vec<Check>,
}

impl VerifyReport {
    /// Whether every check passed.
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    /// The names of the checks that failed.
    pub fn failed_names(&self) -> Vec<&'static str> {
        self.checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| c.name)
            .collect()
    }

    /// The failed checks as `name: detail; …`.
    pub fn failures(&self) -> String {
        let failed: Vec<String> = self
            .checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect();
        failed.join("; ")
    }
}

/// Verifies the archive at `path`. `Err` only when the file cannot be opened; everything
/// else is a failed check in the report.
pub fn verify_file(path: &Path, opts: &VerifyOptions) -> Result<VerifyReport, ArchiveError> {
    let scan = scan_file(
        path,
        &ReadOptions {
            max_unpacked: opts.max_unpacked,
        },
    )?;
    Ok(verify_scan(&scan, opts))
}

fn check(name: &'static str, result: Result<String, String>) -> Check {
    match result {
        Ok(detail) => Check {
            name,
            ok: true,
            detail,
        },
        Err(detail) => Check {
            name,
            ok: false,
            detail,
        },
    }
}

/// Judges a scan.
pub fn verify_scan(scan: &Scan, opts: &VerifyOptions) -> VerifyReport {
    let mut checks = Vec::new();
    checks.push(check(
        "stream",
        match &scan.stream_error {
            Some(e) => Err(e.clone()),
            None => Ok(match scan.compression {
                Compression::Gzip => "one gzip member, CRC and length intact".to_owned(),
                Compression::Zstd => {
                    "one zstd frame, checksum intact (parbuild-only; hosts load gzip or tar)"
                        .to_owned()
                }
                Compression::None => "plain tar".to_owned(),
            }),
        },
    ));
    checks.push(check(
        "tar",
        match (&scan.tar_error, &scan.stream_error) {
            (Some(e), _) => Err(e.clone()),
            (None, Some(_)) => Err("not read to the end: the stream below failed".to_owned()),
            (None, None) => Ok(format!(
                "{} entries, end-of-archive marker present",
                scan.entries.len()
            )),
        },
    ));

    let decoded = match &scan.token {
        Some(Ok(token)) => Ok(jwt::decode(token)),
        Some(Err(e)) => Err(e.clone()),
        None => Err("there is no `claims.jwt` entry".to_owned()),
    };
    let claims: Result<&Claims, String> = match &decoded {
        Ok(d) => d.claims.as_ref().map_err(Clone::clone),
        Err(e) => Err(e.clone()),
    };
    let no_claims = |_: &String| "no readable claims to check".to_owned();

    let claims_entries = scan
        .entries
        .iter()
        .filter(|e| e.looks_like_claims())
        .count();
    checks.push(check(
        "claims",
        if claims_entries > 1 {
            Err(format!("{claims_entries} claims entries; exactly one is allowed (wasmCloud would use the last)"))
        } else {
            match &claims {
                Err(e) => Err(e.clone()),
                Ok(c) if c.wascap.is_none() => Err("the claims have no `wascap` section".to_owned()),
                Ok(c) => Ok(format!("one `claims.jwt`, jti `{}`", c.jti)),
            }
        },
    ));
    checks.push(check(
        "header",
        match &decoded {
            Err(e) => Err(no_claims(e)),
            Ok(d) => match &d.header {
                Ok(h) if h == jwt::HEADER => Ok(h.clone()),
                Ok(h) => Err(format!(
                    "header is `{h}`, expected exactly `{}`",
                    jwt::HEADER
                )),
                Err(e) => Err(e.clone()),
            },
        },
    ));
    checks.push(check(
        "signature",
        match &decoded {
            Err(e) => Err(no_claims(e)),
            Ok(d) => d
                .signature
                .clone()
                .map(|()| "Ed25519 signature by the issuer is valid".to_owned()),
        },
    ));
    checks.push(check(
        "key-types",
        claims
            .as_ref()
            .map_err(no_claims)
            .and_then(|c| key_types(c)),
    ));
    checks.push(check(
        "validity",
        claims
            .as_ref()
            .map_err(no_claims)
            .and_then(|c| validity(c, opts.now)),
    ));
    let incomplete = (scan.stream_error.is_some() || scan.tar_error.is_some()).then(|| {
        "the archive could not be read to the end, so not every entry was seen".to_owned()
    });
    checks.push(check(
        "entries",
        match &incomplete {
            Some(why) => Err(why.clone()),
            None if scan.entries.is_empty() => Err("the archive has no entries".to_owned()),
            None => entries(&scan.entries),
        },
    ));
    let hashes = match &claims {
        Ok(c) => c
            .wascap
            .as_ref()
            .map(|w| &w.target_hashes)
            .ok_or_else(|| "no `wascap.target_hashes`".to_owned()),
        Err(e) => Err(no_claims(e)),
    };
    checks.push(check(
        "hashes",
        hashes.and_then(|h| hash_check(&scan.entries, h)),
    ));
    checks.push(check(
        "binaries",
        match &incomplete {
            Some(why) => Err(why.clone()),
            None => binaries(&scan.entries),
        },
    ));
    checks.push(check(
        "loads",
        match &incomplete {
            Some(why) => Err(why.clone()),
            None => loads(&scan.entries, opts),
        },
    ));
    for (name, pin, actual) in [
        (
            "issuer-pin",
            &opts.issuer,
            claims.as_ref().ok().map(|c| c.iss.as_str()),
        ),
        (
            "subject-pin",
            &opts.subject,
            claims.as_ref().ok().map(|c| c.sub.as_str()),
        ),
    ] {
        if let Some(pin) = pin {
            checks.push(check(
                name,
                match actual {
                    Some(a) if a == pin => Ok(format!("`{a}` as required")),
                    Some(a) => Err(format!("`{a}`, but `{pin}` is required")),
                    None => Err("no readable claims to check".to_owned()),
                },
            ));
        }
    }
    VerifyReport {
        compression: scan.compression,
        checks,
    }
}

fn key_types(c: &Claims) -> Result<String, String> {
    let role = |key: &str, want: nkeys::KeyPairType, what: &str, letter: char| {
        match nkeys::KeyPair::from_public_key(key) {
            Ok(kp) if kp.key_pair_type() == want => Ok(()),
            Ok(_) => Err(format!("`{key}` is not {what} (`{letter}…`)")),
            Err(e) => Err(format!("`{key}` is not a valid public key: {e}")),
        }
    };
    let iss = role(&c.iss, nkeys::KeyPairType::Account, "an account key", 'A')
        .map_err(|e| format!("issuer {e}"));
    let sub = role(&c.sub, nkeys::KeyPairType::Service, "a service key", 'V')
        .map_err(|e| format!("subject {e}"));
    match (iss, sub) {
        (Ok(()), Ok(())) => Ok(format!(
            "issuer `{}` is an account, subject `{}` a service",
            c.iss, c.sub
        )),
        (Err(a), Err(b)) => Err(format!("{a}; {b}")),
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

fn validity(c: &Claims, now: u64) -> Result<String, String> {
    if let Some(exp) = c.exp.filter(|&exp| exp <= now) {
        return Err(format!("expired at {exp} (now {now}, Unix seconds)"));
    }
    if let Some(nbf) = c.nbf.filter(|&nbf| nbf > now) {
        return Err(format!("not valid before {nbf} (now {now}, Unix seconds)"));
    }
    Ok(match (c.exp, c.nbf) {
        (None, None) => "no expiry, no not-before".to_owned(),
        (exp, nbf) => format!("valid now (exp {exp:?}, nbf {nbf:?})"),
    })
}

fn entries(entries: &[Entry]) -> Result<String, String> {
    let mut problems = Vec::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for e in entries {
        *seen.entry(e.name.as_str()).or_default() += 1;
        let kind = match e.kind {
            EntryKind::File => None,
            EntryKind::Directory => Some("a directory"),
            EntryKind::HardLink => Some("a hard link"),
            EntryKind::Symlink => Some("a symbolic link"),
            EntryKind::Other(_) => Some("not a regular file"),
        };
        if let Some(kind) = kind {
            problems.push(format!("`{}` is {kind}", e.name));
        } else if e.role() == Role::Unlisted {
            problems.push(format!(
                "`{}` is unlisted: only `claims.jwt`, `world.wasm` and `<ARCH-OS>.bin` belong at the root",
                e.name
            ));
        }
    }
    for (name, n) in seen.into_iter().filter(|(_, n)| *n > 1) {
        problems.push(format!("`{name}` appears {n} times"));
    }
    if problems.is_empty() {
        Ok(format!("{} regular files, all expected", entries.len()))
    } else {
        Err(problems.join("; "))
    }
}

fn hash_check(entries: &[Entry], claimed: &BTreeMap<String, String>) -> Result<String, String> {
    let mut problems = Vec::new();
    let mut present = Vec::new();
    for e in entries.iter().filter(|e| e.kind == EntryKind::File) {
        let key = match e.role() {
            Role::Target(l) => l.to_string(),
            Role::World => WORLD_ENTRY.to_owned(),
            Role::Claims | Role::Unlisted => continue,
        };
        match claimed.get(&key) {
            None => problems.push(format!("`{}` has no hash in the claims", e.name)),
            Some(_) if !e.complete => {
                problems.push(format!("`{}` could not be read completely", e.name))
            }
            Some(h) if *h != e.sha256 => {
                problems.push(format!(
                    "`{}` has SHA-256 {} but the claims say {h}",
                    e.name, e.sha256
                ));
            }
            Some(_) => {}
        }
        present.push(key);
    }
    for key in claimed.keys().filter(|k| !present.contains(k)) {
        let entry = if key == WORLD_ENTRY {
            key.clone()
        } else {
            format!("{key}.bin")
        };
        problems.push(format!(
            "the claims list `{key}` but there is no `{entry}` entry"
        ));
    }
    if claimed.is_empty() {
        problems.push("the claims list no targets".to_owned());
    }
    if problems.is_empty() {
        Ok(format!("{} hashes match", claimed.len()))
    } else {
        Err(problems.join("; "))
    }
}

fn binaries(entries: &[Entry]) -> Result<String, String> {
    let mut problems = Vec::new();
    let mut checked = 0;
    for e in entries.iter().filter(|e| e.kind == EntryKind::File) {
        match e.role() {
            Role::Target(label) => {
                checked += 1;
                if let Err(why) = binary::check(&label, &e.head) {
                    problems.push(format!("`{}`: {why}", e.name));
                }
            }
            Role::World if !e.head.starts_with(b"\0asm") => {
                problems.push("`world.wasm` is not a wasm binary".to_owned());
            }
            _ => {}
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "{checked} binaries match the format and CPU of their labels"
        ))
    } else {
        Err(problems.join("; "))
    }
}

fn loads(entries: &[Entry], opts: &VerifyOptions) -> Result<String, String> {
    let mut problems = Vec::new();
    let mut found = Vec::new();
    let mut skipped = 0;
    for e in entries.iter().filter(|e| e.kind == EntryKind::File) {
        let Role::Target(label) = e.role() else {
            continue;
        };
        if binary::check(&label, &e.head).is_err() {
            // Not the format of its label: `binaries` says so, there is nothing to read.
            skipped += 1;
            continue;
        }
        match &e.loads {
            None => problems.push(format!("`{}` could not be read completely", e.name)),
            Some(Err(why)) => problems.push(format!("`{}`: {why}", e.name)),
            Some(Ok(info)) => {
                let found_here = info.problems(
                    &e.name,
                    &label,
                    opts.glibc_floor.as_deref(),
                    opts.macos_min.as_deref(),
                );
                if found_here.is_empty() {
                    found.push(info.summary(&e.name));
                } else {
                    problems.extend(found_here);
                }
            }
        }
    }
    if !problems.is_empty() {
        let more = problems.len().saturating_sub(MAX_LOAD_PROBLEMS);
        problems.truncate(MAX_LOAD_PROBLEMS);
        if more > 0 {
            problems.push(format!("and {more} more"));
        }
        return Err(problems.join("; "));
    }
    let mut detail = if found.is_empty() {
        "no binary to check".to_owned()
    } else {
        found.join("; ")
    };
    if skipped > 0 {
        detail.push_str(&format!(
            " ({skipped} not checked: not the format of their label)"
        ));
    }
    Ok(detail)
}
