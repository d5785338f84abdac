//! Faults during a real write, by real signals: `parbuild pack` of large binaries killed
//! with SIGKILL at many points, and two writers of the same archive at once. The previous
//! good archive must survive every kill and still verify, and whatever a killed writer
//! left beside it must be gone after the next run (`archive::staged`), while a live
//! writer's staging file is never taken from it. Also: output paths that are a
//! directory, a symlink (never written through), a dangling one, a read-only directory,
//! and a full disk (a tmpfs): each a clear error or a whole archive, never a half one.
//! And SIGKILL during `build` of a real crate (while a compiler runs, while the archive is
//! written, and at timed points) and during `assemble` of a real part of a few MB: the
//! same archive guarantees; plus what a killed build leaves running, observed in `/proc`.

// The test starts and kills parbuild itself, mounts a small disk, and reads whether the
// tools are required.
#![allow(clippy::disallowed_methods, clippy::print_stderr)]

mod support;

use std::path::{Path, PathBuf};
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

// ---- SIGKILL during `build` and `assemble`.

/// Bytes of noise compiled into the `noisy` crate's binary, so that packing it (and
/// assembling its part) takes long enough to be killed in.
const NOISE: usize = 8 << 20;

/// The tiny crate (`support::tiny_crate`) with `NOISE` bytes of noise in its binary
/// (`include_bytes!`), at generation 0. Signing keys come from the environment.
fn noisy_crate(p: &Project) -> PathBuf {
    let dir = support::tiny_crate(p, "noisy");
    let mut noise = Vec::with_capacity(NOISE);
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    while noise.len() < NOISE {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.extend_from_slice(&x.to_le_bytes());
    }
    p.file("noisy/noise.bin", noise);
    set_generation(&dir, 0);
    dir
}

/// Rewrites the crate's source with another constant, so the next build recompiles it
/// and writes a different archive.
fn set_generation(dir: &Path, generation: u32) {
    std::fs::write(
        dir.join("src/main.rs"),
        format!(
            "static NOISE: &[u8] = include_bytes!(\"../noise.bin\");\nconst GENERATION: u32 = {generation};\nfn main() {{\n    let i = std::env::args().count();\n    println!(\"{{GENERATION}} {{}}\", NOISE[i % NOISE.len()]);\n}}\n"
        ),
    )
    .unwrap();
}

/// Signing keys in the environment, as CI gives them.
fn keyed(run: support::Run) -> support::Run {
    run.env("WASH_ISSUER_KEY", support::ACCOUNT_SEED)
        .env("WASH_SUBJECT_KEY", support::SERVICE_SEED)
}

/// When to send SIGKILL to a run.
#[derive(Debug, Clone, Copy)]
enum KillAt {
    /// As soon as a compiler of the project runs.
    Compiling,
    /// As soon as a staging file of the output exists (the archive is being written).
    Writing,
    /// This long after the start.
    After(Duration),
}

/// What one kill did.
struct Killed {
    /// Whether the run had finished (successfully) before the signal.
    finished: bool,
    /// The processes of the project still alive right after parbuild was reaped.
    orphans: Vec<support::Seen>,
}

/// Starts `run`, kills it with SIGKILL at `at`, reaps it, and reports what was left.
fn kill_run(run: support::Run, at: KillAt, project: &Path, out_dir: &Path, out: &str) -> Killed {
    let marker = project.display().to_string();
    let mut child = run.spawn();
    let deadline = Instant::now() + Duration::from_secs(120);
    let started = Instant::now();
    loop {
        let now = match at {
            KillAt::Compiling => {
                !support::compiler_jobs(|cmdline, _| cmdline.contains(&marker)).is_empty()
            }
            KillAt::Writing => !staging(out_dir, out).is_empty(),
            KillAt::After(delay) => started.elapsed() >= delay,
        };
        if now || child.try_wait().unwrap().is_some() || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    // SIGKILL: no handler runs, no cleanup code gets a chance.
    let _ = child.kill();
    let status = child.wait().unwrap();
    Killed {
        finished: status.success(),
        orphans: support::processes_in(project),
    }
}

/// After a kill: the archive at `archive` is `good` (sha256), or the run finished and
/// wrote a whole new one, which becomes `good`.
fn check_after_kill(p: &Project, archive: &Path, good: &mut String, what: &str, killed: &Killed) {
    if killed.finished {
        verifies(p, archive.to_str().unwrap());
        *good = sha256(archive);
    } else {
        assert_eq!(
            &sha256(archive),
            good,
            "{what} changed the previous archive"
        );
    }
    // The previous (or new) archive verifies after every kill.
    verifies(p, archive.to_str().unwrap());
}

/// The orphans a kill left, one line each, for the test's output.
fn describe(orphans: &[support::Seen]) -> String {
    orphans
        .iter()
        .map(|s| format!("{} {}", s.pid, s.comm))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn sigkill_during_build_keeps_the_old_archive_and_the_next_run_cleans_up() {
    let p = Project::new();
    let dir = noisy_crate(&p);
    let out_dir = dir.join("build");
    let archive = out_dir.join("tiny.par.gz");
    keyed(p.parbuild(["build", "-q"]).current_dir(&dir)).success();
    verifies(&p, archive.to_str().unwrap());

    // How long a rebuild (compile, pack, verify) takes here, so timed kills land across it.
    set_generation(&dir, 1);
    let start = Instant::now();
    keyed(p.parbuild(["build", "-q"]).current_dir(&dir)).success();
    let whole = start.elapsed();
    let mut good = sha256(&archive);

    let mut points = vec![KillAt::Compiling, KillAt::Writing];
    points.extend([0.05, 0.3, 0.6, 0.9].map(|f| KillAt::After(whole.mul_f64(f))));
    let mut landed = (0, 0); // (while compiling, while writing)
    for (i, at) in points.into_iter().enumerate() {
        set_generation(&dir, 2 + u32::try_from(i).unwrap());
        let run = keyed(p.parbuild(["build", "-q"]).current_dir(&dir));
        let killed = kill_run(run, at, p.root(), &out_dir, "tiny.par.gz");
        let what = format!("kill {i} ({at:?})");
        check_after_kill(&p, &archive, &mut good, &what, &killed);
        if !killed.finished {
            landed.0 += usize::from(matches!(at, KillAt::Compiling));
            landed.1 += usize::from(!staging(&out_dir, "tiny.par.gz").is_empty());
        }
        if !killed.orphans.is_empty() {
            // parbuild's children run in their own process groups, so they outlive a
            // SIGKILL of parbuild (see `sigkill_during_build_leaves_no_compiler_running`);
            // let them end before the next kill.
            eprintln!("{what}: left running: {}", describe(&killed.orphans));
            let left = support::wait_for_no_processes_in(p.root(), Duration::from_secs(120));
            support::kill_each(&left);
        }
    }
    assert!(landed.0 > 0, "no kill landed while a compiler ran");
    assert!(
        landed.1 > 0,
        "no kill landed while the archive was written: the test did not test that"
    );

    // The next run writing the same output removes what the killed ones left, and writes.
    set_generation(&dir, 100);
    keyed(p.parbuild(["build", "-q"]).current_dir(&dir)).success();
    assert_eq!(staging(&out_dir, "tiny.par.gz"), Vec::<String>::new());
    assert_ne!(sha256(&archive), good, "the last build wrote a new archive");
    verifies(&p, archive.to_str().unwrap());
}

/// A crate whose build script sleeps for two minutes: while it sleeps, cargo waits for
/// it, so a SIGKILL of parbuild lands while its children run, for a long while.
fn sleepy_crate(p: &Project) -> PathBuf {
    let dir = support::tiny_crate(p, "sleepy");
    p.file(
        "sleepy/build.rs",
        "fn main() { std::thread::sleep(std::time::Duration::from_secs(120)); }\n",
    );
    dir
}

/// After parbuild is SIGKILLed, nothing it started may go on running: not cargo, not a
/// build script, not rustc or zig. Observed in `/proc`: every process whose working
/// directory or command line is in the test's directory, 10 seconds after the kill.
#[test]
fn sigkill_during_build_leaves_no_compiler_running() {
    let p = Project::new();
    let dir = sleepy_crate(&p);
    let mut backends = vec!["cargo"];
    if support::requires_tool("cargo-zigbuild") {
        backends.push("zig");
    }
    let mut survivors = Vec::new();
    for backend in backends {
        let run = keyed(
            p.parbuild(["build", "-q", "--backend", backend])
                .current_dir(&dir),
        );
        let mut child = run.spawn();
        // Kill parbuild while the build script sleeps under cargo.
        let deadline = Instant::now() + Duration::from_secs(120);
        while !support::processes_in(p.root())
            .iter()
            .any(|s| s.comm.starts_with("build-script"))
        {
            assert!(
                Instant::now() < deadline,
                "{backend}: the build script never ran"
            );
            assert!(
                child.try_wait().unwrap().is_none(),
                "{backend}: parbuild ended"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        child.wait().unwrap();
        let left = support::wait_for_no_processes_in(p.root(), Duration::from_secs(10));
        // Whatever the verdict, end what this test started.
        support::kill_each(&left);
        assert_eq!(
            support::wait_for_no_processes_in(p.root(), Duration::from_secs(10)),
            Vec::new(),
            "{backend}: the test could not end what its run left"
        );
        survivors.extend(
            left.into_iter()
                .map(|s| format!("{backend}: {} {}", s.comm, s.cmdline)),
        );
    }
    assert!(
        survivors.is_empty(),
        "still running 10 s after parbuild was killed:\n{}",
        survivors.join("\n")
    );
}

#[test]
fn sigkill_during_assemble_keeps_the_old_archive_and_the_next_run_cleans_up() {
    let p = Project::new();
    let dir = noisy_crate(&p);
    // A real part of a few MB: the noisy binary, built for the host.
    p.parbuild(["build", "-q", "--part-out", "parts"])
        .current_dir(&dir)
        .success();
    let part = "parts/tiny-x86_64-linux.part.tar.zst";
    assert!(
        std::fs::metadata(dir.join(part)).unwrap().len() > (NOISE as u64) / 2,
        "the part holds the noise"
    );
    let out_dir = dir.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let archive = out_dir.join("a.par.gz");
    let assemble = || {
        keyed(
            p.parbuild(["assemble", "-q", part, "-o", "out/a.par.gz"])
                .current_dir(&dir),
        )
    };
    assemble().success();
    // Without SOURCE_DATE_EPOCH each assembled archive differs (its claims' time and id),
    // so a killed run that replaced the archive would show.
    let start = Instant::now();
    assemble().success();
    let whole = start.elapsed();
    let mut good = sha256(&archive);

    let mut points = vec![KillAt::Writing];
    points.extend([0.1, 0.4, 0.7, 0.95].map(|f| KillAt::After(whole.mul_f64(f))));
    let mut landed = 0;
    for (i, at) in points.into_iter().enumerate() {
        // Keep the clock moving, so a finished run's archive differs from the last.
        std::thread::sleep(Duration::from_millis(1100));
        let killed = kill_run(assemble(), at, p.root(), &out_dir, "a.par.gz");
        let what = format!("kill {i} ({at:?})");
        check_after_kill(&p, &archive, &mut good, &what, &killed);
        if !killed.finished {
            landed += usize::from(!staging(&out_dir, "a.par.gz").is_empty());
        }
        // assemble starts no child: nothing may be left.
        assert_eq!(killed.orphans, Vec::new(), "{what}");
    }
    assert!(landed > 0, "no kill landed while the archive was written");

    assemble().success();
    assert_eq!(staging(&out_dir, "a.par.gz"), Vec::<String>::new());
    verifies(&p, archive.to_str().unwrap());
}
