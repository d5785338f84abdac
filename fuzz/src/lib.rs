//! What the fuzz targets share: the decompression cap, the spec's published test keys, a
//! per-process scratch directory for the readers that only take a path, the codecs that
//! wrap a plain tar so mutations reach the tar and JSON layers, and the check that a
//! manifest error's location lies inside the text it is about.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use parbuild::manifest::ManifestError;

/// The fuzz targets, in the order `scripts/fuzz` runs them.
pub const TARGETS: [&str; 6] = ["archive", "part", "manifest", "binary", "jwt", "import"];

/// The labels the `binary` target picks from by its first byte: those `binary::check`
/// knows a format and CPU for, and a few it must refuse cleanly.
pub const LABELS: &[&str] = &[
    "x86_64-linux",
    "aarch64-linux",
    "x86_64-macos",
    "aarch64-macos",
    "x86_64-windows",
    "aarch64-windows",
    "arm-linux",
    "armv7-linux",
    "x86-linux",
    "x86-windows",
    "riscv64-linux",
    "riscv32-linux",
    "powerpc64-linux",
    "s390x-linux",
    "mips64-linux",
    "loongarch64-linux",
    "sparc64-linux",
    "aarch64-ios",
    "x86_64-freebsd",
    "aarch64-android",
    "x86_64-plan9",
    "m68k-linux",
];

/// The decompression cap every archive and part read uses: small, so a decompression
/// bomb costs at most a few MiB and milliseconds.
pub const CAP: u64 = 4 << 20;

/// The fixed account seed of the spec's golden vector (a published test key).
pub const ACCOUNT_SEED: &str = "SAABCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEN4YE";
/// Public key of [`ACCOUNT_SEED`].
pub const ACCOUNT_PUB: &str = "ADIEVMRSOQV3JKZ2CNUL2RQV4TTNAISKW4NAC25PQUQKGMWJO6DTOWD2";
/// The fixed test service seed.
pub const SERVICE_SEED: &str = "SVACEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIU7CU";
/// Public key of [`SERVICE_SEED`].
pub const SERVICE_PUB: &str = "VCQJVJPUPJTVTABP7FK7RXBNFIKKLSM5EO7JP6DECJ77SOBUKWSPAVJZ";

/// A directory of this process's own under `$TMPDIR` (which `scripts/fuzz` points at a
/// directory it removes afterwards: libFuzzer exits without running destructors).
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("parbuild-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the scratch directory");
        dir
    })
}

/// Writes `bytes` to `scratch()/name` and returns the path.
pub fn scratch_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch().join(name);
    std::fs::write(&path, bytes).expect("write the scratch file");
    path
}

/// An empty directory `scratch()/name` (emptied if it was there).
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = scratch().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the scratch directory");
    dir
}

/// The regular files directly in `dir`, sorted (anything else in it is reported too).
pub fn list(dir: &Path) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = std::fs::read_dir(dir)
        .expect("list the scratch directory")
        .map(|e| {
            let e = e.expect("read a directory entry");
            let is_file = e.file_type().is_ok_and(|t| t.is_file());
            (e.file_name().to_string_lossy().into_owned(), is_file)
        })
        .collect();
    out.sort();
    out
}

/// `data` as one gzip member (fast level: the codec, not the ratio, is under test).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip into memory");
    e.finish().expect("gzip into memory")
}

/// `data` as one zstd frame with a checksum, as parbuild writes.
pub fn zstd(data: &[u8]) -> Vec<u8> {
    let mut e = zstd::stream::write::Encoder::new(Vec::new(), 1).expect("zstd encoder");
    e.include_checksum(true).expect("zstd checksum flag");
    e.write_all(data).expect("zstd into memory");
    e.finish().expect("zstd into memory")
}

/// Uppercase hex SHA-256, as parbuild states hashes.
pub fn sha256(data: &[u8]) -> String {
    use sha2::Digest as _;
    parbuild::archive::claims::hex_upper(&sha2::Sha256::digest(data))
}

/// Asserts that a located error points inside `text`: its line exists, its column is on
/// that line (or just past its end, counting a CRLF line's `\r`), and it underlines at least one character; then that
/// rendering it (as the CLI does) works and names the location.
pub fn check_location(text: &str, err: ManifestError) {
    let at = match &err {
        ManifestError::Parse { at, .. } | ManifestError::Invalid { at, .. } => Some(at.clone()),
        ManifestError::Read { .. } => None,
    };
    if let Some(pos) = at.as_ref().and_then(|at| at.pos.as_ref()) {
        let lines: Vec<&str> = text.split('\n').collect();
        assert!(
            pos.line >= 1 && pos.line <= lines.len(),
            "line {} outside a text of {} lines",
            pos.line,
            lines.len()
        );
        // Columns count the line's characters as stored, a CRLF file's `\r` included
        // (the snippet does not show it); the end of the line is a place too.
        let raw = lines[pos.line - 1];
        let chars = raw.chars().count();
        assert!(
            pos.column >= 1 && pos.column <= chars + 1,
            "column {} outside line {} of {chars} characters",
            pos.column,
            pos.line
        );
        assert!(pos.width >= 1, "nothing underlined");
        assert_eq!(
            pos.text.chars().count(),
            raw.trim_end_matches('\r').chars().count(),
            "the snippet is not line {}",
            pos.line
        );
    }
    let shown = at.as_ref().map(ToString::to_string);
    let rendered = parbuild::Error::from(err).render();
    assert!(rendered.starts_with("error: "), "{rendered}");
    if let Some(shown) = shown {
        assert!(rendered.contains(&shown), "{shown} not in {rendered}");
    }
}

/// `bytes` as text: UTF-8 as it is, anything else through the lossy conversion (so no
/// input is wasted on the UTF-8 check the CLI does before parsing).
pub fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}
