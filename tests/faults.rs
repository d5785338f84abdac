//! Faults during a real write, by real signals: `parbuild pack` of large binaries killed
//! with SIGKILL at many points, and two writers of the same archive at once. The previous
//! good archive must survive every kill and still verify, and whatever a killed writer
//! left beside it must be gone after the next run (`archive::staged`), while a live
//! writer's staging file is never taken from it. Also: output paths that are a
//! directory, a symlink (never written through), a dangling one, a read-only directory,
//! and a full disk (a tmpfs): each a clear error or a whole archive, never a half one.

// The test starts and kills parbuild itself, mounts a small disk, and reads whether the
// tools are required.
#![allow(clippy::disallowed_methods, clippy::print_stderr)]

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

/// The three binaries `pack_args` packs, each `SIZE` bytes, their noise from `seed`.
fn three_big_binaries(p: &Project, seed: u64) {
    big_binary(p, "bin/x86", support::EM_X86_64, seed);
    big_binary(p, "bin/arm64", support::EM_AARCH64, seed + 1);
    let mut win = support::pe64_binary(0x8664);
    win.resize(SIZE, 7);
    p.file("bin/win", win);
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
    three_big_binaries(&p, 1);
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
    three_big_binaries(&p, 3);
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

/// `pack` of the two small test binaries to `out` (relative to the project).
fn small_pack(p: &Project, out: &str) -> support::Outcome {
    p.pack(&["-o", out]).output()
}

#[test]
fn output_paths_that_are_not_plain_files() {
    let p = Project::new();
    // A directory where the archive should go: refused, the directory untouched.
    std::fs::create_dir(p.path("dir.par.gz")).unwrap();
    std::fs::write(p.path("dir.par.gz/keep"), b"k").unwrap();
    let out = small_pack(&p, "dir.par.gz");
    assert_ne!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("dir.par.gz"), "{}", out.stderr);
    assert!(p.path("dir.par.gz/keep").exists());
    assert_eq!(staging(p.root(), "dir.par.gz"), Vec::<String>::new());

    #[cfg(unix)]
    {
        use std::os::unix::fs::{PermissionsExt as _, symlink};
        // A symlink to a file elsewhere: replaced by the archive, never written through.
        std::fs::create_dir(p.path("elsewhere")).unwrap();
        std::fs::write(p.path("elsewhere/precious"), b"precious").unwrap();
        symlink(p.path("elsewhere/precious"), p.path("link.par.gz")).unwrap();
        small_pack(&p, "link.par.gz");
        assert_eq!(
            std::fs::read(p.path("elsewhere/precious")).unwrap(),
            b"precious"
        );
        assert!(
            !std::fs::symlink_metadata(p.path("link.par.gz"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        verifies(&p, "link.par.gz");
        // A dangling symlink: the same, and its target is not created.
        symlink(p.path("nowhere/x"), p.path("dangling.par.gz")).unwrap();
        small_pack(&p, "dangling.par.gz");
        assert!(!p.path("nowhere").exists());
        verifies(&p, "dangling.par.gz");

        // A read-only directory: a clear error naming it, nothing written there.
        std::fs::create_dir(p.path("ro")).unwrap();
        std::fs::set_permissions(p.path("ro"), std::fs::Permissions::from_mode(0o555)).unwrap();
        let root_can_write = std::fs::write(p.path("ro/probe"), b"").is_ok();
        if root_can_write {
            // Root ignores the mode bits: nothing to prove here about them.
            std::fs::remove_file(p.path("ro/probe")).unwrap();
        } else {
            let out = small_pack(&p, "ro/x.par.gz");
            assert_ne!(out.code, Some(0));
            assert!(out.stderr.contains("ro"), "{}", out.stderr);
            assert_eq!(std::fs::read_dir(p.path("ro")).unwrap().count(), 0);
        }
        std::fs::set_permissions(p.path("ro"), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// A tmpfs of `bytes` mounted on a fresh directory, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(bytes: u64) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            Some(Self { dir })
        } else {
            assert!(
                std::env::var_os("PARBUILD_TEST_REQUIRE_TOOLS").is_none(),
                "cannot mount a tmpfs (the disk-full test needs root)"
            );
            eprintln!("skipped: cannot mount a tmpfs (needs root)");
            None
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

#[test]
fn a_full_disk_is_a_clear_error_and_keeps_the_old_archive() {
    let Some(disk) = SmallDisk::mount(6 << 20) else {
        return;
    };
    let p = Project::new();
    let out_path = disk.dir.path().join("x.par.gz");
    let out = out_path.to_str().unwrap().to_owned();
    // A small good archive first.
    small_pack(&p, &out);
    let good = sha256(&out_path);
    // Then one that cannot fit: SIZE bytes of noise on a 6 MiB disk.
    big_binary(&p, "bin/x86", support::EM_X86_64, 5);
    let mut args: Vec<String> = [
        "pack",
        "--name",
        "Big",
        "--vendor",
        "acme",
        "--target",
        "x86_64-linux=bin/x86",
        "-o",
        &out,
    ]
    .map(String::from)
    .to_vec();
    args.extend(p.test_keys());
    let failed = p.parbuild(&args).output();
    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    assert!(
        failed.stderr.contains("No space left") && failed.stderr.contains("x.par.gz"),
        "{}",
        failed.stderr
    );
    assert_eq!(sha256(&out_path), good, "the old archive is intact");
    assert_eq!(staging(disk.dir.path(), "x.par.gz"), Vec::<String>::new());
}
