//! The integration-test harness: runs the real `parbuild` binary in a fresh temporary
//! directory with a cleaned environment, and checks its status, stdout and stderr.
//!
//! Also holds the gate for tests that need external tools: without the tool the test
//! says why it skips; with `PARBUILD_TEST_REQUIRE_TOOLS=1` (CI) a missing tool fails it.

#![allow(dead_code, clippy::disallowed_methods, clippy::print_stderr)] // each test binary uses part of it; tests may read env

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The fixed test keys of the spec's golden vector (never use them for anything real).
pub const ACCOUNT_SEED: &str = "SAABCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEN4YE";
/// Public key of [`ACCOUNT_SEED`].
pub const ACCOUNT_PUB: &str = "ADIEVMRSOQV3JKZ2CNUL2RQV4TTNAISKW4NAC25PQUQKGMWJO6DTOWD2";
/// The fixed test service seed.
pub const SERVICE_SEED: &str = "SVACEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIU7CU";
/// Public key of [`SERVICE_SEED`].
pub const SERVICE_PUB: &str = "VCQJVJPUPJTVTABP7FK7RXBNFIKKLSM5EO7JP6DECJ77SOBUKWSPAVJZ";

/// Variables removed from every test run so the developer's machine does not leak in.
const CLEARED: &[&str] = &[
    "CARGO",
    "CARGO_TARGET_DIR",
    "RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "SOURCE_DATE_EPOCH",
    "WASH_ISSUER_KEY",
    "WASH_SUBJECT_KEY",
    "WASH_KEYS",
    "NO_COLOR",
    "CI",
    "SDKROOT",
    "MACOSX_DEPLOYMENT_TARGET",
    "WASH_REG_USER",
    "WASH_REG_PASSWORD",
    "DOCKER_CONFIG",
    "REGISTRY_AUTH_FILE",
    "XDG_RUNTIME_DIR",
    "SSL_CERT_FILE",
];

/// A temporary project directory and a `parbuild` invocation in it.
pub struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    /// A fresh empty directory.
    pub fn new() -> Self {
        Self {
            dir: tempfile::Builder::new()
                .prefix("parbuild-test-")
                .tempdir()
                .expect("tempdir"),
        }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `root/rel`.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `contents` to `root/rel`, creating directories.
    pub fn file(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Copies a directory of the repository (e.g. `examples/hello-provider`) to `root/rel`.
    pub fn copy_from_repo(&self, repo_rel: &str, rel: &str) -> PathBuf {
        let src = repo_root().join(repo_rel);
        let dst = self.path(rel);
        copy_dir(&src, &dst);
        dst
    }

    /// A `parbuild` command running in the project directory with a clean environment:
    /// `HOME` points into the project so no real keys are touched.
    pub fn parbuild<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_parbuild"));
        cmd.current_dir(self.root());
        for var in CLEARED {
            cmd.env_remove(var);
        }
        cmd.env("HOME", self.path("home"));
        // The tools scripts/setup installed live under the real home: keep using them.
        cmd.env("PARBUILD_TOOLS_DIR", real_tools_dir());
        // No compile cache unless a test asks for one (tests/cache.rs): with sccache, rustc
        // runs under sccache's server, outside the build's process tree, which the kill
        // and jobserver tests observe. An empty RUSTC_WRAPPER is cargo's own "none".
        cmd.env("RUSTC_WRAPPER", "");
        cmd.args(args.into_iter().map(Into::into));
        Run {
            cmd,
            ran: false,
            stdin: None,
        }
    }
}

impl Project {
    /// `parbuild COMMAND` in `dir` (a copied example) for x86_64-linux and aarch64-linux
    /// through zig, with two compiler jobs and the test keys: the small real two-target
    /// build that the fingerprint and incremental tests repeat.
    pub fn two_zig_targets(&self, dir: &Path, command: &str) -> Run {
        self.parbuild([
            command,
            "--jobs",
            "2",
            "--backend",
            "zig",
            "--target",
            "x86_64-linux",
            "--target",
            "aarch64-linux",
        ])
        .current_dir(dir)
        .env("WASH_ISSUER_KEY", ACCOUNT_SEED)
        .env("WASH_SUBJECT_KEY", SERVICE_SEED)
    }
}

impl Project {
    /// `cargo parbuild …` for real: cargo finds `cargo-parbuild` on `PATH`.
    pub fn cargo_parbuild<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let bin_dir = Path::new(env!("CARGO_BIN_EXE_cargo-parbuild"))
            .parent()
            .unwrap()
            .to_owned();
        let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )))
        .unwrap();
        let mut run = self.parbuild(args).env("PATH", path);
        let mut cmd = Command::new("cargo");
        cmd.arg("parbuild");
        cmd.args(run.cmd.get_args());
        cmd.current_dir(self.root());
        for (k, v) in run.cmd.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        run.ran = true;
        Run {
            cmd,
            ran: false,
            stdin: None,
        }
    }
}

/// A command about to run; nothing happens until a terminal call.
#[must_use = "a Run does nothing until .success(), .failure() or .code() is called"]
pub struct Run {
    cmd: Command,
    ran: bool,
    stdin: Option<Vec<u8>>,
}

/// What a run produced.
#[derive(Debug)]
pub struct Outcome {
    /// Exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// stdout as text.
    pub stdout: String,
    /// stderr as text.
    pub stderr: String,
}

impl Outcome {
    /// stdout parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl Run {
    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// Removes an environment variable.
    pub fn env_remove(mut self, key: &str) -> Self {
        self.cmd.env_remove(key);
        self
    }

    /// Runs in another directory.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.cmd.current_dir(dir);
        self
    }

    /// Feeds `bytes` to its stdin (e.g. `--password-stdin`).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Runs and returns the outcome whatever the status.
    pub fn output(mut self) -> Outcome {
        self.ran = true;
        let Output {
            status,
            stdout,
            stderr,
        } = match self.stdin.take() {
            None => self.cmd.output().expect("spawn parbuild"),
            Some(bytes) => {
                use std::io::Write as _;
                let mut child = self
                    .cmd
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("spawn parbuild");
                child.stdin.take().unwrap().write_all(&bytes).unwrap();
                child.wait_with_output().expect("wait for parbuild")
            }
        };
        Outcome {
            code: status.code(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    /// Starts it in the background with stdout and stderr piped.
    pub fn spawn(mut self) -> std::process::Child {
        self.ran = true;
        self.cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn parbuild")
    }

    /// Runs and asserts exit code 0.
    pub fn success(self) -> Outcome {
        self.code(0)
    }

    /// Runs and asserts a non-zero exit code.
    pub fn failure(self) -> Outcome {
        let out = self.output();
        assert_ne!(out.code, Some(0), "expected failure, got success\n{out:#?}");
        out
    }

    /// Runs and asserts the exit code.
    pub fn code(self, code: i32) -> Outcome {
        let out = self.output();
        assert_eq!(
            out.code,
            Some(code),
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            out.stdout,
            out.stderr
        );
        out
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if !self.ran && !std::thread::panicking() {
            panic!("a parbuild command was built but never run");
        }
    }
}

/// Where scripts/setup put cargo-zigbuild (same rule as `Env::tools_dir`).
pub fn real_tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PARBUILD_TOOLS_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME") {
        return PathBuf::from(xdg).join("parbuild");
    }
    PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".local/share/parbuild")
}

/// Compares `actual` with `tests/snapshots/<name>`; `SNAPSHOTS=overwrite` rewrites it.
pub fn check_snapshot(name: &str, actual: &str) {
    let path = repo_root().join("tests/snapshots").join(name);
    if std::env::var_os("SNAPSHOTS").is_some_and(|v| v == "overwrite") {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}: run with SNAPSHOTS=overwrite",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "snapshot {name} differs (SNAPSHOTS=overwrite to accept)"
    );
}

/// The command lines of the compiler jobs running now for which `ours(cmdline, environ)`
/// holds. Not counted: cargo's `rustc -vV` and `--crate-name ___` probes (not compiler
/// jobs), and a rustc whose parent is a counted rustc (the instant between `fork` and `exec`
/// when rustc starts its linker, which shows its parent's name and command line). Each one
/// found is read again after the scan, so a compiler that exited meanwhile is not counted.
pub fn compiler_jobs(ours: impl Fn(&str, &str) -> bool) -> Vec<String> {
    let compiling = |pid: &Path| -> Option<String> {
        if std::fs::read_to_string(pid.join("comm")).ok()?.trim() != "rustc" {
            return None;
        }
        let cmdline =
            String::from_utf8_lossy(&std::fs::read(pid.join("cmdline")).ok()?).replace('\0', " ");
        if cmdline.contains("___") || cmdline.contains(" -vV") || !cmdline.contains("--crate-name")
        {
            return None;
        }
        let environ = std::fs::read(pid.join("environ")).unwrap_or_default();
        ours(&cmdline, &String::from_utf8_lossy(&environ)).then_some(cmdline)
    };
    let found: Vec<PathBuf> = process_dirs()
        .into_iter()
        .filter(|p| compiling(p).is_some())
        .collect();
    let parent = |pid: &Path| -> Option<PathBuf> {
        let stat = std::fs::read_to_string(pid.join("stat")).ok()?;
        // `pid (comm) state ppid …`: comm may hold spaces, so split after the last ')'.
        let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?;
        Some(Path::new("/proc").join(ppid))
    };
    found
        .iter()
        .filter(|p| parent(p).is_none_or(|pp| !found.contains(&pp)))
        .filter_map(|p| compiling(p))
        .collect()
}

/// Every process whose command line mentions `marker`.
pub fn processes_mentioning(marker: &str) -> Vec<String> {
    process_dirs()
        .into_iter()
        .filter_map(|p| std::fs::read(p.join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(marker))
        .collect()
}

/// `/proc/<pid>` of every process.
fn process_dirs() -> Vec<PathBuf> {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .flatten()
        .filter(|p| {
            p.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .map(|p| p.path())
        .collect()
}

/// Sends Ctrl-C (SIGINT) to a running parbuild and waits for it: it must exit 130.
pub fn interrupt(child: std::process::Child) -> std::process::Output {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/spec/vectors/<name>` (the golden vector).
pub fn vector(name: &str) -> PathBuf {
    repo_root().join("../shared/spec/vectors").join(name)
}

/// Whether `program` can be found on `PATH` (or at parbuild's own tool venv).
pub fn have_tool(program: &str) -> bool {
    find_tool(program).is_some()
}

/// Full path of `program` on `PATH`, else in parbuild's tool venv.
pub fn find_tool(program: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push(real_tools_dir().join("venv/bin"));
    dirs.into_iter()
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Gate for a test that needs `program`: `true` to go on; `false` (after saying why) to
/// skip; panics instead of skipping when `PARBUILD_TEST_REQUIRE_TOOLS=1`.
pub fn requires_tool(program: &str) -> bool {
    if have_tool(program) {
        return true;
    }
    if std::env::var_os("PARBUILD_TEST_REQUIRE_TOOLS").is_some_and(|v| v == "1") {
        panic!("`{program}` is required (PARBUILD_TEST_REQUIRE_TOOLS=1); run scripts/setup");
    }
    eprintln!("skipped: `{program}` not installed (run scripts/setup)");
    false
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" || name == "build" {
            continue;
        }
        let from = entry.path();
        let to = dst.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&from, &to);
        } else {
            std::fs::copy(&from, &to).unwrap();
        }
    }
}

/// What the `object` crate sees in a binary: format, CPU, and whether it is an
/// executable (has an interpreter / is `MH_EXECUTE`) or a shared library.
#[derive(Debug, PartialEq, Eq)]
pub struct BinaryInfo {
    /// ELF, Mach-O, PE.
    pub format: object::BinaryFormat,
    /// The CPU.
    pub arch: object::Architecture,
    /// 64-bit?
    pub is_64: bool,
    /// An executable (true) or a shared library (false).
    pub executable: bool,
}

/// Reads a binary's header with the `object` crate.
pub fn binary_info(bytes: &[u8]) -> BinaryInfo {
    use object::{Object as _, ObjectKind};
    let file = object::File::parse(bytes).expect("a binary the object crate can read");
    let executable = match file.format() {
        object::BinaryFormat::Elf => file.section_by_name(".interp").is_some(),
        _ => file.kind() == ObjectKind::Executable,
    };
    BinaryInfo {
        format: file.format(),
        arch: file.architecture(),
        is_64: file.is_64(),
        executable,
    }
}

/// Loads an archive's bytes with the real wasmCloud loader (provider-archive 0.16) and
/// checks its token with wascap; returns the loaded archive.
pub fn load_with_wasmcloud(bytes: &[u8]) -> provider_archive::ProviderArchive {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let par = rt
        .block_on(provider_archive::ProviderArchive::try_load(bytes))
        .expect("provider-archive 0.16 loads the archive");
    let token = par.claims_token().expect("a claims token");
    let validation = wascap::jwt::validate_token::<wascap::jwt::CapabilityProvider>(&token.jwt)
        .expect("wascap validates the token");
    assert!(validation.signature_valid, "signature must be valid");
    assert!(!validation.expired && !validation.cannot_use_yet);
    par
}

/// The sysroot `qemu-user` needs for a Debian cross libc (`-L`).
pub fn qemu_sysroot(arch: &str) -> &'static str {
    match arch {
        "aarch64" => "/usr/aarch64-linux-gnu",
        _ => "/usr/arm-linux-gnueabihf",
    }
}

// ---- Archive helpers (binaries small enough to pack in a debug build in milliseconds).

/// ELF `e_machine` values used by the tests.
pub const EM_X86_64: u16 = 62;
/// AArch64.
pub const EM_AARCH64: u16 = 183;
/// 32-bit ARM.
pub const EM_ARM: u16 = 40;

/// A tiny ELF executable image (a valid header plus some bytes) for `machine`.
pub fn elf_binary(machine: u16, is64: bool) -> Vec<u8> {
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

/// A tiny thin Mach-O 64 image for CPU type `cpu` (x86_64: `0x0100_0007`, arm64: `0x0100_000C`).
pub fn macho64_binary(cpu: u32) -> Vec<u8> {
    let mut h = vec![0u8; 32];
    h[..4].copy_from_slice(&0xfeed_facf_u32.to_le_bytes());
    h[4..8].copy_from_slice(&cpu.to_le_bytes());
    h[12..16].copy_from_slice(&2u32.to_le_bytes());
    h.extend(std::iter::repeat_n(0xCD, 200));
    h
}

/// A tiny PE32+ image for `machine` (x86_64: `0x8664`).
pub fn pe64_binary(machine: u16) -> Vec<u8> {
    let mut h = vec![0u8; 512];
    h[..2].copy_from_slice(b"MZ");
    h[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    h[0x80..0x84].copy_from_slice(b"PE\0\0");
    h[0x84..0x86].copy_from_slice(&machine.to_le_bytes());
    h[0x94..0x96].copy_from_slice(&240u16.to_le_bytes());
    h[0x98..0x9a].copy_from_slice(&0x20bu16.to_le_bytes());
    h
}

impl Project {
    /// Writes the test account and service seeds to `acct.nk` and `svc.nk` and returns
    /// the flags that use them.
    pub fn test_keys(&self) -> [String; 4] {
        for (name, seed) in [("acct.nk", ACCOUNT_SEED), ("svc.nk", SERVICE_SEED)] {
            let path = self.file(name, seed);
            // As `parbuild keys generate` writes them: parbuild warns about looser ones.
            #[cfg(unix)]
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .unwrap();
        }
        [
            "--issuer".into(),
            "acct.nk".into(),
            "--subject".into(),
            "svc.nk".into(),
        ]
    }

    /// Writes an x86_64-linux and an aarch64-linux binary and returns `--target` flags.
    pub fn two_binaries(&self) -> [String; 4] {
        self.file("bin/x86", elf_binary(EM_X86_64, true));
        self.file("bin/arm64", elf_binary(EM_AARCH64, true));
        [
            "--target".into(),
            "x86_64-linux=bin/x86".into(),
            "--target".into(),
            "aarch64-linux=bin/arm64".into(),
        ]
    }

    /// `parbuild pack` of [`Project::two_binaries`] with the test keys, reproducible,
    /// plus `extra` flags.
    pub fn pack(&self, extra: &[&str]) -> Run {
        let mut args: Vec<String> = vec![
            "pack".into(),
            "--name".into(),
            "Example".into(),
            "--vendor".into(),
            "acme".into(),
        ];
        args.extend(self.two_binaries());
        args.extend(self.test_keys());
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        self.parbuild(args).env("SOURCE_DATE_EPOCH", "1700000000")
    }
}

impl Run {
    /// Appends more arguments.
    pub fn args_from<S: AsRef<std::ffi::OsStr>>(mut self, args: &[S]) -> Self {
        self.cmd.args(args);
        self
    }
}

// ---- Seeds must never show: what "a seed" is when grepping output for one.

/// How many characters of a seed in a row count as leaking it (a piece of a seed is
/// still most of a secret).
pub const SEED_PIECE: usize = 20;

/// Panics if `text` holds `seed`, its base32 body (the seed minus its 2-character
/// prefix), or any [`SEED_PIECE`] characters of it in a row. `what` names the text.
pub fn assert_no_seed_in(what: &str, text: &[u8], seed: &str) {
    let text = String::from_utf8_lossy(text);
    assert!(!text.contains(seed), "{what} holds the seed");
    assert!(!text.contains(&seed[2..]), "{what} holds the seed's body");
    for i in 0..=seed.len().saturating_sub(SEED_PIECE) {
        let piece = &seed[i..i + SEED_PIECE];
        assert!(
            !text.contains(piece),
            "{what} holds the piece `{piece}` of a seed (at {i})"
        );
    }
}

/// [`assert_no_seed_in`] for every file under `dir` (recursively; nothing if it is absent).
pub fn assert_no_seed_under(dir: &Path, seed: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            assert_no_seed_under(&path, seed);
        } else if let Ok(bytes) = std::fs::read(&path) {
            assert_no_seed_in(&path.display().to_string(), &bytes, seed);
        }
    }
}

/// The claims of a gzip archive as text: the raw token and each of its segments decoded
/// (header, claims, signature), for grepping.
pub fn archive_claims(path: &Path) -> Vec<u8> {
    use base64::Engine as _;
    use std::io::Read as _;
    let file = std::fs::File::open(path).unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().to_string_lossy() == "claims.jwt" {
            let mut jwt = String::new();
            entry.read_to_string(&mut jwt).unwrap();
            let mut text = jwt.clone().into_bytes();
            for segment in jwt.trim().split('.') {
                text.push(b'\n');
                text.extend(
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(segment)
                        .unwrap(),
                );
            }
            return text;
        }
    }
    panic!("no claims.jwt in {}", path.display());
}

/// The smallest real crate parbuild builds: `tiny`, a binary with no dependencies, for
/// x86_64-linux alone (the host's cargo), in `root/rel`. Returns its directory.
pub fn tiny_crate(p: &Project, rel: &str) -> PathBuf {
    p.file(
        &format!("{rel}/Cargo.toml"),
        "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    );
    p.file(
        &format!("{rel}/src/main.rs"),
        "fn main() { println!(\"tiny\"); }\n",
    );
    p.file(
        &format!("{rel}/par.toml"),
        "[provider]\nname = \"Tiny\"\nvendor = \"tests\"\n\n[targets]\nx86_64-linux = {}\n\n[output]\npath = \"build/tiny.par.gz\"\n",
    );
    p.path(rel)
}

/// A process seen in `/proc`: its id, name and command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The process id.
    pub pid: i32,
    /// Its name (`comm`, at most 15 characters).
    pub comm: String,
    /// Its command line, arguments joined by spaces.
    pub cmdline: String,
}

/// Every live process (not a zombie) whose working directory is under `dir` or whose
/// command line mentions `dir`, but this test process: what a killed run left behind.
pub fn processes_in(dir: &Path) -> Vec<Seen> {
    let marker = dir.display().to_string();
    let me = std::process::id().to_string();
    process_dirs()
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy() != me))
        .filter_map(|p| {
            let stat = std::fs::read_to_string(p.join("stat")).ok()?;
            // `pid (comm) state …`: a zombie (Z) or a dead (X) process runs nothing.
            let state = stat.rsplit_once(')')?.1.split_whitespace().next()?;
            if state == "Z" || state == "X" {
                return None;
            }
            let cmdline = String::from_utf8_lossy(&std::fs::read(p.join("cmdline")).ok()?)
                .replace('\0', " ")
                .trim()
                .to_owned();
            let inside = std::fs::read_link(p.join("cwd")).is_ok_and(|cwd| cwd.starts_with(dir))
                || cmdline.contains(&marker);
            let pid = p.file_name()?.to_string_lossy().parse().ok()?;
            inside.then(|| Seen {
                pid,
                comm: std::fs::read_to_string(p.join("comm"))
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
                cmdline,
            })
        })
        .collect()
}

/// Waits up to `limit` for [`processes_in`]`(dir)` to be empty; returns what is left.
pub fn wait_for_no_processes_in(dir: &Path, limit: std::time::Duration) -> Vec<Seen> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let left = processes_in(dir);
        if left.is_empty() || std::time::Instant::now() >= deadline {
            return left;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// SIGKILLs each process of `seen` by its id (the processes a test's own run left), if
/// that id still runs the same command line (ids are reused).
pub fn kill_each(seen: &[Seen]) {
    for s in seen {
        let same = std::fs::read(format!("/proc/{}/cmdline", s.pid))
            .is_ok_and(|c| String::from_utf8_lossy(&c).replace('\0', " ").trim() == s.cmdline);
        if !same {
            continue;
        }
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(s.pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}
