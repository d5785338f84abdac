//! Faults during a real write, by real signals: `parbuild pack` of large binaries killed
//! with SIGKILL at many points, and two writers of the same archive at once. The previous
//! good archive must survive every kill and still verify, and whatever a killed writer
//! left beside it must be gone after the next run (`archive::staged`), while a live
//! writer's staging file is never taken from it.

#![allow(clippy::disallowed_methods)] // the test starts and kills parbuild itself

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::Project;

/// Size of each binary: large enough that a pack takes a while to kill into.
const SIZE: usize = 24 << 20;

/// An ELF header of `machine` followed by `SIZE` bytes of noise (incompressible, so every
/// byte costs deflate time).
fn big_binary(p: &Project, rel: &str, machine: u16, seed: u64) {
    let mut bytes = support::elf_binary(machine, true);
    bytes.reserve(SIZE);
    let mut x = seed | 1;
    while bytes.len() < SIZE {
        // xorshift64: cheap noise.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    p.file(rel, bytes);
}

fn pack_args(p: &Project, out: &str, version: &str) -> Vec<String> {
    let mut args: Vec<String> = [
        "pack",
        "--name",
        "Big",
        "--vendor",
        "acme",
        "--version",
        version,
        "--target",
        "x86_64-linux=bin/x86",
        "--target",
        "aarch64-linux=bin/arm64",
        "--target",
        "x86_64-windows=bin/win",
        "-o",
        out,
    ]
    .map(String::from)
    .to_vec();
    args.extend(p.test_keys());
    args
}

/// The staging files of `name` in `dir`.
fn staging(dir: &Path, name: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!(".{name}.")) && n.ends_with(".tmp"))
        .collect()
}

fn sha256(path: &Path) -> String {
    use sha2::Digest as _;
    let mut file = std::fs::File::open(path).unwrap();
    let mut hasher = sha2::Sha256::new();
    std::io::copy(&mut file, &mut hasher).unwrap();
    format!("{:x}", hasher.finalize())
}

/// Checks that `archive` verifies and returns the version in its claims.
fn verifies(p: &Project, archive: &str) -> String {
    p.parbuild(["verify", archive]).success();
    let inspect = p.parbuild(["inspect", archive, "--json"]).success().json();
    inspect["version"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn sigkill_at_any_point_keeps_the_old_archive_and_the_next_run_cleans_up() {
    let p = Project::new();
    big_binary(&p, "bin/x86", support::EM_X86_64, 1);
    big_binary(&p, "bin/arm64", support::EM_AARCH64, 2);
    p.file("bin/win", {
        let mut b = support::pe64_binary(0x8664);
        b.resize(SIZE, 7);
        b
    });
    p.parbuild(pack_args(&p, "out.par.gz", "1.0.0")).success();
    let mut good = sha256(&p.path("out.par.gz"));
    let mut good_version = "1.0.0";

    // How long a whole pack takes here, so the kills land across all of it.
    let start = Instant::now();
    p.parbuild(pack_args(&p, "timing.par.gz", "1.0.0"))
        .success();
    let whole = start.elapsed();
    std::fs::remove_file(p.path("timing.par.gz")).unwrap();

    let mut left_behind = 0;
    for i in 0..5u32 {
        let delay = whole.mul_f64(f64::from(i) / 5.0) + Duration::from_millis(20);
        let mut child = p.parbuild(pack_args(&p, "out.par.gz", "2.0.0")).spawn();
        std::thread::sleep(delay);
        // SIGKILL: no handler runs, no cleanup code gets a chance.
        let _ = child.kill();
        let status = child.wait().unwrap();
        if status.success() {
            // It finished before the signal: then the new archive is there, whole.
            assert_eq!(verifies(&p, "out.par.gz"), "2.0.0");
            good = sha256(&p.path("out.par.gz"));
            good_version = "2.0.0";
        } else {
            assert_eq!(
                sha256(&p.path("out.par.gz")),
                good,
                "kill {i} after {delay:?} ({status}) changed the previous archive"
            );
        }
        left_behind += staging(p.root(), "out.par.gz").len();
    }
    assert!(
        left_behind > 0,
        "no kill landed during a write: the test did not test anything"
    );
    assert_eq!(verifies(&p, "out.par.gz"), good_version);

    // The next run of the same output removes what the killed ones left, and writes.
    p.parbuild(pack_args(&p, "out.par.gz", "3.0.0")).success();
    assert_eq!(staging(p.root(), "out.par.gz"), Vec::<String>::new());
    assert_eq!(verifies(&p, "out.par.gz"), "3.0.0");
}

#[test]
fn two_writers_of_one_archive_both_finish_whole() {
    let p = Project::new();
    big_binary(&p, "bin/x86", support::EM_X86_64, 3);
    big_binary(&p, "bin/arm64", support::EM_AARCH64, 4);
    p.file("bin/win", {
        let mut b = support::pe64_binary(0x8664);
        b.resize(SIZE, 9);
        b
    });
    let first = p.parbuild(pack_args(&p, "out.par.gz", "1.0.0")).spawn();
    // Let the first one be writing when the second one starts (and cleans up).
    let deadline = Instant::now() + Duration::from_secs(30);
    while staging(p.root(), "out.par.gz").is_empty() {
        assert!(
            Instant::now() < deadline,
            "the first pack never started writing"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let second = p.parbuild(pack_args(&p, "out.par.gz", "2.0.0")).spawn();
    for (name, child) in [("first", first), ("second", second)] {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "the {name} writer failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Last rename wins, with a whole archive; nothing is left beside it.
    let version = verifies(&p, "out.par.gz");
    assert!(version == "1.0.0" || version == "2.0.0", "{version}");
    assert_eq!(staging(p.root(), "out.par.gz"), Vec::<String>::new());
}
