//! Fuzzes the Mach-O/ELF/PE header checks: `binary::check` (does the binary fit its
//! label's format and CPU) and the streaming `binary::Collector` with the ELF and Mach-O
//! load readers behind it (glibc versions, `DT_NEEDED`, dylibs, symbol bindings, minimum
//! macOS), as `verify` runs them on each `<label>.bin`.
//!
//! Input: byte 0 picks the label, byte 1 the chunk size the collector is fed in, byte 2
//! the glibc floor / macOS deployment target asked for; the rest is the binary. Properties,
//! beyond "never panics, bounded memory": the collector's verdict does not depend on how
//! the bytes are chunked (whole, or in chunks of 1 to 4096 bytes), and the facts, problems
//! and summary of whatever it read can be produced and serialized.

#![no_main]

use libfuzzer_sys::fuzz_target;
use parbuild::archive::Label;
use parbuild::archive::binary::{self, Collector, LoadInfo};
use parbuild_fuzz::LABELS;

/// (glibc floor, macOS deployment target) pairs, including ones that are not versions.
const FLOORS: &[(Option<&str>, Option<&str>)] = &[
    (None, None),
    (Some("2.17"), Some("11.0")),
    (Some("2.28"), Some("10.12")),
    (Some("2.39"), Some("14.5")),
    (Some("x"), Some("")),
    (Some("2.17.0.1"), Some("99999999999.1")),
];

fn collect(bytes: &[u8], chunk: usize) -> Result<LoadInfo, String> {
    let mut c = Collector::new(bytes.len() as u64);
    for piece in bytes.chunks(chunk.max(1)) {
        c.feed(piece);
    }
    c.finish()
}

fuzz_target!(|data: &[u8]| {
    let [label, chunk, floor, bytes @ ..] = data else {
        return;
    };
    let label = Label::parse(LABELS[usize::from(*label) % LABELS.len()]).expect("a label");
    let (glibc, macos) = FLOORS[usize::from(*floor) % FLOORS.len()];
    // `verify` hands `check` the first `HEAD_LEN` bytes.
    let head = &bytes[..bytes.len().min(binary::HEAD_LEN)];
    let _ = binary::check(&label, head);
    let whole = collect(bytes, bytes.len());
    // Chunks of 1 to 4096 bytes; 1-byte chunks only for small inputs, to keep it fast.
    let size = 1 + usize::from(*chunk) * 16 + usize::from(*chunk % 16);
    let size = if bytes.len() > 64 * 1024 {
        size.max(512)
    } else {
        size
    };
    assert_eq!(
        collect(bytes, size),
        whole,
        "chunks of {size} change the verdict"
    );
    if let Ok(info) = &whole {
        let facts = info.facts();
        serde_json::to_string(&facts).expect("facts serialize");
        let _ = info.problems("fuzz.bin", &label, glibc, macos);
        let _ = info.summary("fuzz.bin");
    }
    let _ = binary::Version::parse(&String::from_utf8_lossy(&bytes[..bytes.len().min(32)]));
});
