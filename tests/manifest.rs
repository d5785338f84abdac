//! `parbuild init` end to end, and `metadata::resolve` on real (tiny, dependency-free)
//! cargo packages: the parts of the manifest work that need cargo and a file system.

// Tests may read the real environment; the shared harness prints why a test skips.
#![allow(clippy::disallowed_methods, clippy::print_stderr)]

mod support;

use std::path::Path;

use parbuild::env::Env;
use parbuild::manifest::{self, ArtifactSelector};
use parbuild::metadata::{self, ArtifactKind, MetadataError};
use support::Project;

/// A package `name` in `dir` of the project, with a cdylib and/or a bin.
fn package(p: &Project, dir: &str, name: &str, cdylib: bool, bins: &[&str], extra: &str) {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let mut toml =
        format!("[package]\nname = \"{name}\"\nversion = \"0.3.1\"\nedition = \"2021\"\n{extra}\n");
    if cdylib {
        toml.push_str("[lib]\ncrate-type = [\"cdylib\"]\n");
        p.file(&format!("{prefix}src/lib.rs"), "pub fn f() {}\n");
    }
    for bin in bins {
        toml.push_str(&format!(
            "[[bin]]\nname = \"{bin}\"\npath = \"src/bin/{bin}.rs\"\n"
        ));
        p.file(&format!("{prefix}src/bin/{bin}.rs"), "fn main() {}\n");
    }
    p.file(&format!("{prefix}Cargo.toml"), toml);
}

/// An environment for library calls: the cargo running the tests, nothing else.
fn env(cwd: &Path, extra: &[(&str, &str)]) -> Env {
    let mut vars: Vec<(String, String)> = ["CARGO", "PATH", "HOME", "RUSTUP_HOME", "CARGO_HOME"]
        .into_iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_owned(), v)))
        .collect();
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    Env::from_vars(vars, cwd)
}

#[test]
fn init_writes_a_par_toml_that_loads() {
    let p = Project::new();
    package(
        &p,
        "",
        "fakepay-provider",
        true,
        &[],
        "authors = [\"Jane Doe <jane@example.com>\"]",
    );
    let out = p.parbuild(["init"]).success();
    assert!(out.stderr.contains("par.toml"), "{}", out.stderr);

    let m = manifest::load(&p.path("par.toml")).expect("the written par.toml loads");
    assert_eq!(m.provider.name, "fakepay-provider");
    assert_eq!(m.provider.vendor, "Jane Doe");
    assert_eq!(m.provider.package.as_deref(), Some("fakepay-provider"));
    assert_eq!(m.provider.artifact, Some(ArtifactSelector::Cdylib));
    assert_eq!(
        m.provider.version, None,
        "the version is left to cargo, only shown"
    );
    let text = std::fs::read_to_string(p.path("par.toml")).unwrap();
    assert!(text.contains("# version = \"0.3.1\""), "{text}");
    let rows: Vec<(&str, &str, &str)> = m
        .targets
        .iter()
        .map(|t| (t.key.as_str(), t.triple.as_str(), t.label.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("x86_64-linux", "x86_64-unknown-linux-gnu", "x86_64-linux"),
            (
                "aarch64-linux",
                "aarch64-unknown-linux-gnu",
                "aarch64-linux"
            ),
            ("armv7-linux", "armv7-unknown-linux-gnueabihf", "arm-linux"),
            ("x86_64-macos", "x86_64-apple-darwin", "x86_64-macos"),
            ("aarch64-macos", "aarch64-apple-darwin", "aarch64-macos"),
        ]
    );
    assert_eq!(m.output.path, p.path("build/fakepay-provider.par.gz"));

    // And cargo agrees on the package and artifact.
    let pkg = metadata::resolve(&m, &env(p.root(), &[])).unwrap();
    assert_eq!(
        (pkg.name.as_str(), pkg.version.as_str()),
        ("fakepay-provider", "0.3.1")
    );
    assert_eq!(pkg.artifact.kind, ArtifactKind::Cdylib);
    assert_eq!(pkg.artifact.name, "fakepay_provider");
}

#[test]
fn init_refuses_to_overwrite_without_force() {
    let p = Project::new();
    package(&p, "", "hello", false, &["hello"], "");
    p.file("par.toml", "# mine\n");
    let out = p.parbuild(["init"]).code(2);
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    assert!(
        out.stderr.contains("help: pass `--force` to overwrite it"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(p.path("par.toml")).unwrap(),
        "# mine\n"
    );

    p.parbuild(["init", "--force"]).success();
    let m = manifest::load(&p.path("par.toml")).unwrap();
    assert_eq!(m.provider.vendor, "unknown");
    assert_eq!(
        m.provider.artifact,
        Some(ArtifactSelector::Bin(Some("hello".to_owned())))
    );
    assert!(!p.path("par.toml.tmp").exists());
}

#[test]
fn init_outside_a_package_says_where_to_run() {
    let p = Project::new();
    let out = p.parbuild(["init"]).code(2);
    assert!(
        out.stderr.starts_with("error: `cargo metadata` failed in "),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("help: run parbuild in the provider's package directory, or use `-C DIR`"),
        "{}",
        out.stderr
    );
    assert!(!p.path("par.toml").exists());
}

#[test]
fn init_without_an_artifact_explains_what_to_add() {
    let p = Project::new();
    p.file(
        "Cargo.toml",
        "[package]\nname = \"plain\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    p.file("src/lib.rs", "");
    let out = p.parbuild(["init"]).code(2);
    assert_eq!(
        out.stderr.trim_end(),
        "error: package `plain` has no cdylib or bin target\n\
         help: add `[lib] crate-type = [\"cdylib\"]` or a `[[bin]]` (e.g. `src/main.rs`) to the package"
    );
}

#[test]
fn a_bad_par_toml_is_reported_with_its_location() {
    let p = Project::new();
    let path = p.file(
        "par.toml",
        "[provider]\nname = \"x\"\nvendor = \"y\"\n[targets]\nx86_64-linux = {}\n[output]\ncompression = \"lz4\"\n",
    );
    let err = manifest::load(&path).unwrap_err();
    let rendered = parbuild::Error::from(err).render();
    assert_eq!(
        rendered,
        format!(
            "error: {}:7:15: unknown compression `lz4`\n  |\n7 | compression = \"lz4\"\n  |               ^^^^^\n\
             help: expected `gzip` (what wasmCloud hosts load), `none` or `zstd` (parbuild only)",
            path.display()
        )
    );
    let missing = manifest::load(&p.path("nope/par.toml")).unwrap_err();
    assert!(missing.hint().unwrap().contains("parbuild init"));
    assert_eq!(parbuild::Error::from(missing).exit_code(), 2);
}

fn workspace(p: &Project) {
    p.file(
        "Cargo.toml",
        "[workspace]\nmembers = [\"a\", \"b\"]\nresolver = \"2\"\n",
    );
    package(p, "a", "a", true, &[], "");
    package(p, "b", "b", true, &["b-cli", "b-provider"], "");
}

fn manifest_at(p: &Project, rel: &str, extra: &str) -> manifest::Manifest {
    let path = p.file(
        rel,
        format!(
            "[provider]\nname = \"x\"\nvendor = \"y\"\n{extra}[targets]\nx86_64-linux = {{}}\n"
        ),
    );
    manifest::load(&path).unwrap()
}

#[test]
fn resolve_picks_the_package_in_the_manifests_directory() {
    let p = Project::new();
    workspace(&p);
    let m = manifest_at(&p, "a/par.toml", "");
    let pkg = metadata::resolve(&m, &env(p.root(), &[])).unwrap();
    assert_eq!(pkg.name, "a");
    assert_eq!(pkg.artifact.selector(), "cdylib");
    assert_eq!(
        pkg.manifest_path,
        p.root().canonicalize().unwrap().join("a/Cargo.toml")
    );
    assert_eq!(pkg.workspace_root, p.root().canonicalize().unwrap());
    assert_eq!(
        pkg.target_dir,
        p.root().canonicalize().unwrap().join("target")
    );
}

#[test]
fn resolve_at_a_workspace_root_needs_a_package() {
    let p = Project::new();
    workspace(&p);
    let m = manifest_at(&p, "par.toml", "");
    let err = metadata::resolve(&m, &env(p.root(), &[])).unwrap_err();
    assert!(
        matches!(err, MetadataError::AmbiguousPackage { .. }),
        "{err}"
    );
    assert_eq!(
        err.hint().unwrap(),
        "set `package = \"…\"` in `[provider]` to one of `a`, `b`"
    );

    let m = manifest_at(&p, "par.toml", "package = \"c\"\n");
    let err = metadata::resolve(&m, &env(p.root(), &[])).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("no package `c` in the workspace at "),
        "{err}"
    );

    // `b` has a cdylib and two bins: the manifest must say which.
    let m = manifest_at(&p, "par.toml", "package = \"b\"\n");
    let err = metadata::resolve(&m, &env(p.root(), &[])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "package `b` has several targets that could be the provider: `cdylib`, `bin:b-cli`, `bin:b-provider`"
    );
    let m = manifest_at(
        &p,
        "par.toml",
        "package = \"b\"\nartifact = \"bin:b-provider\"\n",
    );
    let target_dir = p.path("elsewhere");
    let env = env(
        p.root(),
        &[("CARGO_TARGET_DIR", target_dir.to_str().unwrap())],
    );
    let pkg = metadata::resolve(&m, &env).unwrap();
    assert_eq!(
        (pkg.name.as_str(), pkg.artifact.kind),
        ("b", ArtifactKind::Bin)
    );
    assert_eq!(pkg.artifact.name, "b-provider");
    assert_eq!(
        pkg.target_dir, target_dir,
        "CARGO_TARGET_DIR from Env is honoured"
    );
}

#[test]
fn the_example_in_the_docs_loads() {
    let doc = std::fs::read_to_string(support::repo_root().join("docs/par-toml.md")).unwrap();
    let example = doc
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a toml block in docs/par-toml.md");
    let m = manifest::parse(example, Path::new("/p/par.toml"))
        .unwrap_or_else(|e| panic!("{}", parbuild::Error::from(e).render()));
    let labels: Vec<&str> = m.targets.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(
        labels,
        ["x86_64-linux", "aarch64-linux", "arm-linux", "x86_64-macos"]
    );
}
