//! Packs binaries with provider-archive 0.16.2 exactly as wash does (`ProviderArchive::new`,
//! `add_library` per target, `write` with gzip), then loads the archive back (which checks
//! the signature and every hash), so the work matches `parbuild pack`'s write + verify.
//!
//! Usage: `pack-baseline OUT.par.gz LABEL=PATH...` with `WASH_ISSUER_KEY` and
//! `WASH_SUBJECT_KEY` holding seeds. Prints one JSON line: seconds for write and load,
//! peak RSS (VmHWM) and the archive size.

use std::time::Instant;

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (out, targets) = args.split_first().expect("usage: pack-baseline OUT LABEL=PATH...");
    let seed = |var: &str| {
        let v = std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set"));
        let v = std::fs::read_to_string(&v).map_or(v, |s| s.trim().to_owned());
        nkeys::KeyPair::from_seed(&v).expect("a seed")
    };
    let (issuer, subject) = (seed("WASH_ISSUER_KEY"), seed("WASH_SUBJECT_KEY"));
    let start = Instant::now();
    let mut par = provider_archive::ProviderArchive::new(
        "Bench Provider",
        "parbuild benchmarks",
        Some(1),
        Some("0.1.0".to_owned()),
    );
    for t in targets {
        let (label, path) = t.split_once('=').expect("LABEL=PATH");
        let bytes = std::fs::read(path).expect("read a binary");
        par.add_library(label, &bytes).expect("add_library");
    }
    par.write(out, &issuer, &subject, true).await.expect("write");
    let written = start.elapsed().as_secs_f64();
    let loaded = provider_archive::ProviderArchive::try_load_file(out)
        .await
        .expect("load back");
    assert_eq!(loaded.targets().len(), targets.len());
    let total = start.elapsed().as_secs_f64();
    let size = std::fs::metadata(out).expect("archive").len();
    println!(
        "{{\"write_s\": {written:.3}, \"total_s\": {total:.3}, \"vm_hwm_kib\": {}, \"size\": {size}}}",
        vm_hwm_kib()
    );
}
