//! `parbuild init` starting from what a provider repository already has: wash's
//! `wasmcloud.toml` (found beside `par.toml`, or `--from`) and a Makefile on wasmCloud's
//! `provider.mk`, run on real (tiny) cargo packages; what is taken lands in a `par.toml`
//! that loads, what is not is said, and bad files are refused with their location and
//! nothing written.

#![allow(clippy::disallowed_methods)] // reads the written par.toml back with the library

mod support;

use std::path::Path;

use parbuild::manifest;
use support::Project;

/// A package `fakepay-provider` whose binary is `fakepay` (and a second one, so the
/// artifact has to come from the imported file).
fn provider(p: &Project) {
    p.file(
        "Cargo.toml",
        "[package]\nname = \"fakepay-provider\"\nversion = \"0.7.0\"\nedition = \"2021\"\nauthors = [\"Cargo Author <c@example.com>\"]\n\n[[bin]]\nname = \"fakepay\"\npath = \"src/main.rs\"\n\n[[bin]]\nname = \"fakepay-admin\"\npath = \"src/admin.rs\"\n\n[workspace]\n",
    );
    p.file("src/main.rs", "fn main() {}\n");
    p.file("src/admin.rs", "fn main() {}\n");
}

fn load(p: &Project) -> manifest::Manifest {
    manifest::load(&p.path("par.toml")).unwrap_or_else(|e| {
        panic!(
            "{e}\n{}",
            std::fs::read_to_string(p.path("par.toml")).unwrap()
        )
    })
}

/// What a wash 1.x provider repository has (wasmCloud's own providers look like this).
const WASMCLOUD_TOML: &str = r#"name = "Fake Pay"
language = "rust"
type = "provider"
version = "1.0.0"
revision = 2

[provider]
vendor = "Acme Payments"
capability_id = "wasmcloud:fakepay"
bin_name = "fakepay"
wit_world = "fakepay-provider"

[registry]
url = "ghcr.io/acme"
push_insecure = false
"#;

#[test]
fn init_takes_a_wasmcloud_toml_found_beside_it() {
    let p = Project::new();
    provider(&p);
    p.file("wasmcloud.toml", WASMCLOUD_TOML);
    let out = p.parbuild(["init"]).success();
    assert!(
        out.stderr.contains("reading") && out.stderr.contains("wasmcloud.toml"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("from wasmcloud.toml"), "{}", out.stderr);
    // What was not used is said, not dropped.
    assert!(out.stderr.contains("wit_world"), "{}", out.stderr);
    assert!(out.stderr.contains("check it"), "{}", out.stderr);

    let m = load(&p);
    assert_eq!(m.provider.name, "Fake Pay");
    assert_eq!(m.provider.vendor, "Acme Payments");
    assert_eq!(m.provider.version.as_deref(), Some("1.0.0"));
    assert_eq!(m.provider.revision, Some(2));
    assert_eq!(m.provider.capid.as_deref(), Some("wasmcloud:fakepay"));
    assert_eq!(m.provider.package.as_deref(), Some("fakepay-provider"));
    assert_eq!(
        m.provider.artifact,
        Some(manifest::ArtifactSelector::Bin(Some("fakepay".to_owned())))
    );
    let labels: Vec<&str> = m.targets.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "x86_64-linux",
            "aarch64-linux",
            "arm-linux",
            "x86_64-macos",
            "aarch64-macos"
        ]
    );
    assert_eq!(m.publish.registry.as_deref(), Some("ghcr.io"));
    assert_eq!(
        m.publish.repository.as_deref(),
        Some("acme/fakepay-provider")
    );
    assert!(!m.publish.insecure);
    let text = std::fs::read_to_string(p.path("par.toml")).unwrap();
    assert!(
        text.contains("capid = \"wasmcloud:fakepay\"  # from wasmcloud.toml"),
        "{text}"
    );
    // The plan sees the same provider: par.toml is usable as written.
    let plan = p
        .parbuild(["plan", "--json", "--target", "x86_64-linux"])
        .success()
        .json();
    assert_eq!(plan["version"], "1.0.0", "{plan}");
    assert_eq!(plan["package"]["artifact"]["name"], "fakepay", "{plan}");
}

/// The shape of wasmCloud's capability-providers Makefiles (httpclient's, 0.8).
const PROVIDER_MAKEFILE: &str = r#"# Makefile for wasmcloud:fakepay

PROJECT  = fakepay
CAPABILITY_ID = wasmcloud:fakepay
VENDOR   = "Acme Payments"
NAME     = "Fake Pay"
VERSION  = $(shell cargo metadata --no-deps --format-version 1 | jq -r '.packages[] .version' | head -1)
REVISION = 0
oci_url  = localhost:5000/v2/$(PROJECT):$(VERSION)
par_targets ?= \
	x86_64-unknown-linux-gnu \
	aarch64-unknown-linux-gnu \
	aarch64-apple-darwin

include ../build/makefiles/provider.mk

test::
	cargo test -- --nocapture
"#;

#[test]
fn init_from_a_makefile_on_provider_mk() {
    let p = Project::new();
    provider(&p);
    p.file("Makefile", PROVIDER_MAKEFILE);
    let out = p.parbuild(["init", "--from", "Makefile"]).success();
    assert!(out.stderr.contains("VERSION"), "{}", out.stderr);
    let m = load(&p);
    assert_eq!(m.provider.name, "Fake Pay");
    assert_eq!(m.provider.vendor, "Acme Payments");
    assert_eq!(
        m.provider.version, None,
        "the cargo version, as make computes it"
    );
    assert_eq!(m.provider.revision, Some(0));
    assert_eq!(m.provider.capid.as_deref(), Some("wasmcloud:fakepay"));
    let labels: Vec<&str> = m.targets.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(labels, ["x86_64-linux", "aarch64-linux", "aarch64-macos"]);
    assert_eq!(m.publish.registry.as_deref(), Some("localhost:5000"));
    assert_eq!(m.publish.repository.as_deref(), Some("v2/fakepay"));
    assert!(m.publish.tags.is_empty(), "the tag is the version");
    assert!(m.publish.insecure);

    // Found without `--from` too, when no wasmcloud.toml is there.
    p.parbuild(["init", "--force"]).success();
    assert_eq!(load(&p).provider.name, "Fake Pay");
}

/// Runs `init ARGS` expecting exit 2, and checks that no par.toml was written.
fn refused(p: &Project, args: &[&str]) -> String {
    let out = p.parbuild(args).code(2);
    assert!(
        !p.path("par.toml").exists(),
        "a par.toml was written:\n{}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    out.stderr
}

#[test]
fn bad_project_files_are_refused_where_they_are_wrong() {
    let p = Project::new();
    provider(&p);

    let err = refused(&p, &["init", "--from", "nowhere/wasmcloud.toml"]);
    assert!(err.contains("does not exist"), "{err}");

    p.file(
        "wasmcloud.toml",
        "name = \"x\"\nlanguage = \"rust\"\ntype = \"component\"\n",
    );
    let err = refused(&p, &["init"]);
    assert!(err.contains("wasmcloud.toml:3:8: "), "{err}");
    assert!(err.contains("not a provider"), "{err}");

    p.file(
        "wasmcloud.toml",
        "name = \"x\"\nlanguage = \"go\"\ntype = \"provider\"\n",
    );
    let err = refused(&p, &["init"]);
    assert!(err.contains("wasmcloud.toml:2:12: "), "{err}");
    assert!(err.contains("parbuild pack"), "{err}");

    p.file(
        "wasmcloud.toml",
        "language = \"rust\"\ntype = \"provider\"\n[provider\nvendor = \"v\"\n",
    );
    let err = refused(&p, &["init"]);
    assert!(err.contains("wasmcloud.toml:3:"), "{err}");
    assert!(err.contains("^"), "a snippet points at it: {err}");

    p.file(
        "wasmcloud.toml",
        "language = \"rust\"\ntype = \"provider\"\n[provider]\nbin_name = \"nope\"\n",
    );
    let err = refused(&p, &["init"]);
    assert!(
        err.contains("`nope`") && err.contains("bin:fakepay"),
        "{err}"
    );

    std::fs::remove_file(p.path("wasmcloud.toml")).unwrap();
    p.file("Makefile", "PROJECT = fakepay\nall:\n\tcargo build\n");
    let err = refused(&p, &["init", "--from", "Makefile"]);
    assert!(err.contains("provider.mk"), "{err}");
    // Without `--from`, a Makefile that is not a provider.mk one is simply not used.
    p.parbuild(["init"]).code(0);
    assert!(Path::new(&p.path("par.toml")).exists());
}
