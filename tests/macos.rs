//! macOS for real providers, proven without a Mac: `examples/messaging-provider` (async-nats
//! with TLS, reqwest with rustls and native roots, `lto = true`, `strip = true`) built for
//! five targets in one run, both Apple CPUs linked against the framework stubs parbuild
//! generates (no SDK). Each binary is checked by its headers: the Mach-O ones load
//! Security, CoreFoundation and SystemConfiguration by their real install names and
//! nothing but system paths, at macOS 11.0, arm64 signed; the Linux ones run under
//! qemu-user. A symbol no stub can export fails the build with a clear error, and
//! `[macos-stubs]` fixes it.
//!
//! The example is built once per test run and shared by the tests here (it is the heaviest
//! build of the suite); its target directory lives under this repository's `target/`, so a
//! second run only relinks.

#![allow(clippy::disallowed_methods)] // tests run the built binaries and qemu directly

mod support;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use object::read::macho::{MachHeader as _, MachOFile64};
use object::{Architecture, BinaryFormat, Endianness, macho};
use support::{ACCOUNT_SEED, Project, Run, SERVICE_SEED, binary_info, requires_tool};

const FIVE: [(&str, Architecture, BinaryFormat); 5] = [
    ("x86_64-linux", Architecture::X86_64, BinaryFormat::Elf),
    ("aarch64-linux", Architecture::Aarch64, BinaryFormat::Elf),
    ("arm-linux", Architecture::Arm, BinaryFormat::Elf),
    ("x86_64-macos", Architecture::X86_64, BinaryFormat::MachO),
    ("aarch64-macos", Architecture::Aarch64, BinaryFormat::MachO),
];

fn keyed(run: Run) -> Run {
    run.env("WASH_ISSUER_KEY", ACCOUNT_SEED)
        .env("WASH_SUBJECT_KEY", SERVICE_SEED)
        .env("SOURCE_DATE_EPOCH", "1700000000")
}

fn tools() -> bool {
    ["cargo-zigbuild", "qemu-aarch64", "qemu-arm"]
        .iter()
        .all(|t| requires_tool(t))
}

/// The one build of the example, shared by every test of this file.
struct Built {
    /// Keeps the copy of the example alive.
    project: Project,
    /// The example's directory in it.
    dir: PathBuf,
    /// The archive.
    archive: PathBuf,
    /// What `parbuild build` printed.
    stdout: String,
    /// Its progress and summary.
    stderr: String,
}

fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let project = Project::new();
        let dir = project.copy_from_repo("examples/messaging-provider", "messaging");
        let target_dir = support::repo_root().join("target/examples/messaging-provider");
        let archive = project.path("out/messaging-provider.par.gz");
        let out = keyed(
            project
                .parbuild(["build", "--locked", "--output", archive.to_str().unwrap()])
                .current_dir(&dir)
                .env("CARGO_TARGET_DIR", &target_dir),
        )
        .success();
        Built {
            project,
            dir,
            archive,
            stdout: out.stdout,
            stderr: out.stderr,
        }
    })
}

/// The load commands that matter of a thin 64-bit Mach-O.
#[derive(Debug, Default)]
struct MachoFacts {
    dylibs: Vec<String>,
    minos: Option<(u32, u32)>,
    code_signature: bool,
    two_level: bool,
}

fn macho_facts(bytes: &[u8]) -> MachoFacts {
    let file = MachOFile64::<Endianness>::parse(bytes).expect("a thin 64-bit Mach-O");
    let header = file.macho_header();
    let endian = file.endian();
    let mut facts = MachoFacts {
        two_level: header.flags(endian) & macho::MH_TWOLEVEL != 0,
        ..MachoFacts::default()
    };
    let mut commands = file.macho_load_commands().unwrap();
    while let Some(cmd) = commands.next().unwrap() {
        if let Some(dylib) = cmd.dylib().unwrap() {
            let name = cmd.string(endian, dylib.dylib.name).unwrap();
            facts
                .dylibs
                .push(String::from_utf8_lossy(name).into_owned());
        } else if let Some(build) = cmd.build_version().unwrap() {
            let minos = build.minos.get(endian);
            facts.minos = Some((minos >> 16, (minos >> 8) & 0xff));
        } else if cmd.cmd() == macho::LC_CODE_SIGNATURE {
            facts.code_signature = true;
        }
    }
    facts
}

fn write_executable(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn five_targets_of_a_real_provider_build_into_one_verified_archive() {
    if !tools() {
        return;
    }
    let b = built();
    assert!(b.stdout.contains("verified"), "{}", b.stdout);
    // Both Apple CPUs and the three Linux targets in one cargo invocation.
    assert!(
        b.stderr.contains("(1 invocation, "),
        "one invocation for five targets: {}",
        b.stderr
    );
    let bytes = std::fs::read(&b.archive).unwrap();
    let par = support::load_with_wasmcloud(&bytes);
    for (label, arch, format) in FIVE {
        let bin = par
            .target_bytes(label)
            .unwrap_or_else(|| panic!("no {label}"));
        let info = binary_info(&bin);
        assert_eq!((info.format, info.arch), (format, arch), "{label}");
        assert!(info.executable, "{label} is an executable");
    }
    // parbuild's own strict verify, with the floors the build used.
    let out = b
        .project
        .parbuild([
            "verify",
            b.archive.to_str().unwrap(),
            "--glibc",
            "2.17",
            "--macos-min",
            "11.0",
        ])
        .success();
    assert!(out.stdout.contains("loads"), "{}", out.stdout);
}

#[test]
fn macos_binaries_link_the_real_frameworks_by_install_name_and_nothing_else() {
    if !tools() {
        return;
    }
    let b = built();
    let bytes = std::fs::read(&b.archive).unwrap();
    let par = support::load_with_wasmcloud(&bytes);
    for label in ["x86_64-macos", "aarch64-macos"] {
        let facts = macho_facts(&par.target_bytes(label).unwrap());
        for framework in ["Security", "CoreFoundation", "SystemConfiguration"] {
            let install =
                format!("/System/Library/Frameworks/{framework}.framework/Versions/A/{framework}");
            assert!(
                facts.dylibs.contains(&install),
                "{label} loads {framework} by its install name: {:?}",
                facts.dylibs
            );
        }
        assert!(
            facts
                .dylibs
                .contains(&"/usr/lib/libSystem.B.dylib".to_owned()),
            "{label}: {:?}",
            facts.dylibs
        );
        for dylib in &facts.dylibs {
            assert!(
                dylib.starts_with("/usr/lib/") || dylib.starts_with("/System/Library/Frameworks/"),
                "{label} loads only system paths, not `{dylib}`"
            );
        }
        assert!(facts.two_level, "{label}: two-level namespace");
        assert_eq!(facts.minos, Some((11, 0)), "{label}: macOS 11.0");
        if label == "aarch64-macos" {
            assert!(facts.code_signature, "arm64 binaries must be signed");
        }
    }
    // The stub tree says what it is, and is no SDK.
    let stubs =
        support::repo_root().join("target/examples/messaging-provider/parbuild/zig/apple-stubs");
    let note = std::fs::read_to_string(stubs.join("PARBUILD-STUBS.txt")).unwrap();
    assert!(note.contains("NOT a macOS SDK"), "{note}");
    let security = std::fs::read_to_string(
        stubs.join("System/Library/Frameworks/Security.framework/Security.tbd"),
    )
    .unwrap();
    assert!(
        security.contains("'/System/Library/Frameworks/Security.framework/Versions/A/Security'"),
        "{security}"
    );
    assert!(
        security.contains("_SecTrustSettingsCopyCertificates"),
        "{security}"
    );
    assert!(
        !security.contains("'_CFRelease'"),
        "CoreFoundation's symbols are not Security's"
    );
    assert!(b.dir.exists());
}

#[test]
fn linux_binaries_of_the_real_provider_run() {
    if !tools() {
        return;
    }
    let b = built();
    let bytes = std::fs::read(&b.archive).unwrap();
    let par = support::load_with_wasmcloud(&bytes);
    let dir = b.project.path("run");
    std::fs::create_dir_all(&dir).unwrap();
    for (label, runner) in [
        ("x86_64-linux", None),
        ("aarch64-linux", Some(("qemu-aarch64", "aarch64"))),
        ("arm-linux", Some(("qemu-arm", "arm"))),
    ] {
        let exe = dir.join(label);
        write_executable(&exe, &par.target_bytes(label).unwrap());
        let mut cmd = match runner {
            None => std::process::Command::new(&exe),
            Some((qemu, arch)) => {
                let mut c = std::process::Command::new(qemu);
                c.args(["-L", support::qemu_sysroot(arch)]).arg(&exe);
                c
            }
        };
        let out = cmd.arg("--self-test").output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("self-test: ok"),
            "{label}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("tls roots: "), "{label}: {stdout}");
        assert!(stdout.contains("nats: not connected"), "{label}: {stdout}");
    }
}

/// A provider whose code calls a function declared in a Security-linked block that no
/// rule of parbuild's framework table places (as a new or private API would be).
fn unplaceable_provider(p: &Project, extra_par: &str) -> PathBuf {
    p.file(
        "odd/Cargo.toml",
        "[package]\nname = \"odd-provider\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    );
    p.file(
        "odd/src/main.rs",
        "#[link(name = \"Security\", kind = \"framework\")]\nextern \"C\" {\n    fn ParbuildUnplacedCall() -> i32;\n}\n\nfn main() {\n    if std::env::args().count() > 99 {\n        std::process::exit(unsafe { ParbuildUnplacedCall() });\n    }\n}\n",
    );
    p.file(
        "odd/par.toml",
        format!("[provider]\nname = \"Odd\"\nvendor = \"tests\"\n\n[targets]\naarch64-macos = {{}}\n{extra_par}"),
    );
    p.path("odd")
}

#[test]
fn a_symbol_no_stub_exports_fails_the_build_clearly_and_macos_stubs_fixes_it() {
    if !requires_tool("cargo-zigbuild") {
        return;
    }
    let p = Project::new();
    let dir = unplaceable_provider(&p, "");
    let out = keyed(p.parbuild(["build"]).current_dir(&dir)).code(1);
    for needle in [
        "`_ParbuildUnplacedCall`",
        "cannot attribute",
        "-framework Security",
        "[macos-stubs]",
        "FRAMEWORK = [\"ParbuildUnplacedCall\"]",
        "SDKROOT",
    ] {
        assert!(
            out.stderr.contains(needle),
            "`{needle}` in:\n{}",
            out.stderr
        );
    }
    assert!(
        !dir.join("build").join("odd.par.gz").exists(),
        "nothing written"
    );

    // Saying where it lives links it, into the framework named.
    let p = Project::new();
    let dir = unplaceable_provider(
        &p,
        "\n[macos-stubs]\nSecurity = [\"ParbuildUnplacedCall\"]\n",
    );
    keyed(p.parbuild(["build"]).current_dir(&dir)).success();
    let archive = std::fs::read(dir.join("build/odd.par.gz")).unwrap();
    let par = support::load_with_wasmcloud(&archive);
    let facts = macho_facts(&par.target_bytes("aarch64-macos").unwrap());
    assert!(
        facts.dylibs.contains(
            &"/System/Library/Frameworks/Security.framework/Versions/A/Security".to_owned()
        ),
        "{:?}",
        facts.dylibs
    );
}
