//! Framework stubs proven on the real crates and the real linker: `parbuild::stubs` reads
//! the sources `cargo metadata` resolves for `examples/messaging-provider` on macOS
//! (security-framework 2 and 3, core-foundation, system-configuration) and places each
//! symbol in its framework; zig then links a program against the generated stubs for
//! both Apple CPUs, binding every symbol to the right framework's install name, and fails
//! with its own words when a symbol or a framework has no stub.

#![allow(clippy::disallowed_methods, clippy::print_stderr)] // tests run cargo and zig, and say why they skip

mod support;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use object::Object as _;
use object::read::macho::MachOFile64;
use object::{Endianness, macho};
use parbuild::archive::frameworks::install_name;
use parbuild::stubs::{self, StubReport};

const SECURITY: &str = "/System/Library/Frameworks/Security.framework/Versions/A/Security";
const CORE_FOUNDATION: &str =
    "/System/Library/Frameworks/CoreFoundation.framework/Versions/A/CoreFoundation";

/// `cargo metadata` of the example for aarch64-apple-darwin, run once.
fn metadata() -> &'static cargo_metadata::Metadata {
    static METADATA: OnceLock<cargo_metadata::Metadata> = OnceLock::new();
    METADATA.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let manifest = support::repo_root().join("examples/messaging-provider/Cargo.toml");
        let out = Command::new(cargo)
            .args([
                "metadata",
                "--format-version",
                "1",
                "--locked",
                "--filter-platform",
                "aarch64-apple-darwin",
                "--manifest-path",
            ])
            .arg(&manifest)
            .output()
            .expect("run cargo metadata");
        assert!(
            out.status.success(),
            "cargo metadata failed (run `cargo fetch` in examples/messaging-provider):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        cargo_metadata::MetadataCommand::parse(String::from_utf8(out.stdout).unwrap()).unwrap()
    })
}

/// The example's stubs, generated once into a directory kept for the whole run.
fn generated() -> &'static (tempfile::TempDir, StubReport) {
    static GENERATED: OnceLock<(tempfile::TempDir, StubReport)> = OnceLock::new();
    GENERATED.get_or_init(|| {
        let tmp = tempfile::Builder::new()
            .prefix("parbuild-stubs-")
            .tempdir()
            .unwrap();
        let report = stubs::generate(metadata(), &BTreeMap::new(), &tmp.path().join("sdk"))
            .expect("generate the stubs");
        (tmp, report)
    })
}

fn stub_text(report: &StubReport, framework: &str) -> String {
    let path = report.dir.join(format!(
        "System/Library/Frameworks/{framework}.framework/{framework}.tbd"
    ));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn quoted(symbol: &str) -> String {
    format!("'_{symbol}'")
}

#[test]
fn the_real_dependency_tree_gives_the_frameworks_their_symbols() {
    let (_, report) = generated();
    eprintln!("{report}");
    eprintln!("frameworks: {:?}", report.frameworks);
    eprintln!("linked by the sources: {:?}", report.linked);
    eprintln!(
        "{} dirs, {} files read, {} parsed, {} left to libSystem, parse failures: {:?}",
        report.dirs,
        report.files_scanned,
        report.files_parsed,
        report.left_to_system,
        report.parse_failures
    );
    for u in &report.unattributed {
        eprintln!(
            "unattributed: {} ({}) in {}",
            u.symbol,
            u.framework,
            u.file.display()
        );
    }

    let security = stub_text(report, "Security");
    let core_foundation = stub_text(report, "CoreFoundation");
    let system_configuration = stub_text(report, "SystemConfiguration");
    for symbol in [
        "SecTrustSettingsCopyCertificates",
        // security-framework-sys renames it on aarch64 only, through `cfg_attr`.
        "SecCertificateCopyPublicKey$LEGACYMAC",
        "SecCertificateCopyPublicKey",
        "SecTrustEvaluateWithError",
        "kSecClass",
    ] {
        assert!(
            security.contains(&quoted(symbol)),
            "Security lacks {symbol}"
        );
    }
    // security-framework declares CFErrorCreate itself; it is CoreFoundation's all the same.
    for symbol in ["CFErrorCreate", "CFRelease", "kCFAllocatorDefault"] {
        assert!(
            core_foundation.contains(&quoted(symbol)),
            "CoreFoundation lacks {symbol}"
        );
        assert!(
            !security.contains(&quoted(symbol)),
            "{symbol} must not be in Security's stub"
        );
    }
    for symbol in ["SCDynamicStoreCopyProxies", "kSCPropNetProxiesHTTPEnable"] {
        assert!(
            system_configuration.contains(&quoted(symbol)),
            "SystemConfiguration lacks {symbol}"
        );
    }
    assert!(security.contains(&format!("install-name:    '{SECURITY}'")));
    assert!(core_foundation.contains(&format!("install-name:    '{CORE_FOUNDATION}'")));
    assert!(report.unattributed.is_empty(), "{:?}", report.unattributed);
    // Security and CoreFoundation are linked from the sources' own `#[link]` attributes
    // (SystemConfiguration from a build script, which is not read); each has its stub.
    for framework in ["Security", "CoreFoundation"] {
        assert!(report.linked.contains(framework), "{:?}", report.linked);
    }
    assert!(report.unstubbed().is_empty(), "{:?}", report.unstubbed());
    for framework in parbuild::archive::frameworks::with_rules() {
        assert!(report.frameworks.contains_key(framework.name));
    }
    assert!(report.files_parsed > 50, "{report:?}");
    assert!(
        report.parse_failures.is_empty(),
        "{:?}",
        report.parse_failures
    );
    assert!(report.dir.join(stubs::MARKER).is_file());
    assert!(report.dir.join("usr/lib").is_dir());

    // The same inputs give the same bytes.
    let again = tempfile::tempdir().unwrap();
    let second = stubs::generate(metadata(), &BTreeMap::new(), &again.path().join("sdk")).unwrap();
    for framework in report.frameworks.keys() {
        assert_eq!(
            stub_text(report, framework),
            stub_text(&second, framework),
            "{framework}"
        );
    }
}

/// How to run zig: `zig` on `PATH`, else the `ziglang` package of parbuild's tool venv.
/// `None` (after saying why) to skip; panics under `PARBUILD_TEST_REQUIRE_TOOLS=1`.
fn zig() -> Option<Vec<OsString>> {
    if let Some(zig) = support::find_tool("zig") {
        return Some(vec![zig.into()]);
    }
    let venv = support::real_tools_dir().join("venv");
    let python = venv.join("bin/python3");
    let has_ziglang = std::fs::read_dir(venv.join("lib")).is_ok_and(|mut libs| {
        libs.any(|py| py.is_ok_and(|py| py.path().join("site-packages/ziglang").is_dir()))
    });
    if python.is_file() && has_ziglang {
        return Some(vec![python.into(), "-m".into(), "ziglang".into()]);
    }
    if std::env::var_os("PARBUILD_TEST_REQUIRE_TOOLS").is_some_and(|v| v == "1") {
        panic!("zig is required (PARBUILD_TEST_REQUIRE_TOOLS=1); run scripts/setup");
    }
    eprintln!("skipped: zig not installed (run scripts/setup)");
    None
}

const PROGRAM: &str = r#"
extern int SecTrustSettingsCopyCertificates(int domain, void **certificates);
extern void CFRelease(const void *cf);
extern void *SecCertificateCopyPublicKeyLegacy(void *certificate)
    __asm__("_SecCertificateCopyPublicKey$LEGACYMAC");

int main(void) {
    void *certificates = 0;
    int status = SecTrustSettingsCopyCertificates(0, &certificates);
    CFRelease(SecCertificateCopyPublicKeyLegacy(certificates));
    return status;
}
"#;

/// `zig cc` for `target` against the stubs at `sdk`, with `extra` arguments.
fn zig_cc(
    zig: &[OsString],
    target: &str,
    sdk: &Path,
    source: &Path,
    out: &Path,
    extra: &[&str],
) -> std::process::Output {
    Command::new(&zig[0])
        .args(&zig[1..])
        .args(["cc", "-target", target, "-mmacosx-version-min=11.0", "-F"])
        .arg(sdk.join("System/Library/Frameworks"))
        .args(["-framework", "Security", "-framework", "CoreFoundation"])
        .args(extra)
        .arg(source)
        .arg("-o")
        .arg(out)
        .output()
        .expect("run zig")
}

/// `(dylibs loaded, symbol → the library it is bound to)` of a thin 64-bit Mach-O.
fn bindings(bytes: &[u8]) -> (Vec<String>, BTreeMap<String, String>) {
    let file = MachOFile64::<Endianness>::parse(bytes).expect("a thin 64-bit Mach-O");
    let endian = file.endian();
    let mut dylibs = Vec::new();
    let mut commands = file.macho_load_commands().unwrap();
    while let Some(cmd) = commands.next().unwrap() {
        if cmd.cmd() == macho::LC_LOAD_DYLIB {
            let dylib = cmd.dylib().unwrap().unwrap();
            let name = cmd.string(endian, dylib.dylib.name).unwrap();
            dylibs.push(String::from_utf8_lossy(name).into_owned());
        }
    }
    let imports = file
        .imports()
        .unwrap()
        .iter()
        .map(|i| {
            (
                String::from_utf8_lossy(i.name()).into_owned(),
                String::from_utf8_lossy(i.library()).into_owned(),
            )
        })
        .collect();
    (dylibs, imports)
}

#[test]
fn zig_links_against_the_stubs_and_binds_each_symbol_to_its_framework() {
    let Some(zig) = zig() else { return };
    let (_, report) = generated();
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("tls.c");
    std::fs::write(&source, PROGRAM).unwrap();
    for target in ["aarch64-macos", "x86_64-macos"] {
        let out = work.path().join(format!("tls-{target}"));
        let run = zig_cc(&zig, target, &report.dir, &source, &out, &[]);
        assert!(
            run.status.success(),
            "zig cc -target {target} failed:\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let (dylibs, imports) = bindings(&std::fs::read(&out).unwrap());
        for path in [SECURITY, CORE_FOUNDATION, "/usr/lib/libSystem.B.dylib"] {
            assert!(dylibs.iter().any(|d| d == path), "{target}: {dylibs:?}");
        }
        for dylib in &dylibs {
            assert!(
                dylib.starts_with("/usr/lib/") || dylib.starts_with("/System/Library/Frameworks/"),
                "{target} loads {dylib}"
            );
        }
        // Two-level namespace: each symbol is bound to the framework that exports it.
        for (symbol, library) in [
            ("_SecTrustSettingsCopyCertificates", SECURITY),
            ("_SecCertificateCopyPublicKey$LEGACYMAC", SECURITY),
            ("_CFRelease", CORE_FOUNDATION),
        ] {
            assert_eq!(
                imports.get(symbol).map(String::as_str),
                Some(library),
                "{target}: {imports:?}"
            );
        }
        assert_eq!(install_name("Security"), SECURITY);
    }
}

#[test]
fn zig_names_a_symbol_no_stub_exports_and_a_framework_without_stub() {
    let Some(zig) = zig() else { return };
    let (_, report) = generated();
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("missing.c");
    std::fs::write(
        &source,
        "extern void CFRelease(const void *);\n\
         extern void SecNotInAnyStub(void);\n\
         int main(void) { CFRelease(0); SecNotInAnyStub(); return 0; }\n",
    )
    .unwrap();
    let out = work.path().join("missing");
    let run = zig_cc(&zig, "aarch64-macos", &report.dir, &source, &out, &[]);
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    eprintln!("undefined symbol, zig says:\n{stderr}");
    assert!(!run.status.success());
    assert!(
        stderr.contains("error: undefined symbol: _SecNotInAnyStub"),
        "{stderr}"
    );
    let lines: Vec<String> = stderr.lines().map(str::to_owned).collect();
    let failure = stubs::diagnose::LinkFailure::from_log(&lines).expect("recognized");
    assert!(
        failure.undefined.contains("_SecNotInAnyStub"),
        "{failure:?}"
    );

    // A framework no stub exists for.
    let run = zig_cc(
        &zig,
        "aarch64-macos",
        &report.dir,
        &source,
        &out,
        &["-framework", "Metal"],
    );
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    eprintln!("missing framework, zig says:\n{stderr}");
    assert!(!run.status.success());
    assert!(
        stderr.contains("error: unable to find system framework \"Metal\""),
        "{stderr}"
    );
    let lines: Vec<String> = stderr.lines().map(str::to_owned).collect();
    let failure = stubs::diagnose::LinkFailure::from_log(&lines).expect("recognized");
    assert!(failure.missing_frameworks.contains("Metal"), "{failure:?}");
}
