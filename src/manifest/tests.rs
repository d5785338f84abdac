//! `par.toml` text in, `Manifest` or the exact rendered error out: the data-driven checks
//! of the manifest module (no files, no processes).
//!
//! One file because it is one table of examples: inputs to `manifest::parse` (and two of
//! its helpers) with their exact outputs.

use std::path::{Path, PathBuf};

use super::{ArtifactSelector, BackendKind, KeyRef, Manifest, parse};
use crate::archive::Compression;

const PROVIDER: &str = "[provider]\nname = \"Fake Payments\"\nvendor = \"wasmCloud\"\n";
const SEED: &str = "SAABCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEN4YE";
const ACCOUNT: &str = "ADIEVMRSOQV3JKZ2CNUL2RQV4TTNAISKW4NAC25PQUQKGMWJO6DTOWD2";
const SERVICE: &str = "VCQJVJPUPJTVTABP7FK7RXBNFIKKLSM5EO7JP6DECJ77SOBUKWSPAVJZ";

/// `input` (after the `[provider]` table) must fail with exactly `expected`, as the user sees it.
#[track_caller]
fn check(input: &str, expected: &str) {
    let text = format!("{PROVIDER}{input}");
    let err = parse(&text, Path::new("par.toml")).expect_err("expected an error");
    let err = crate::Error::from(err);
    assert_eq!(err.exit_code(), 2);
    let rendered = err.render();
    assert_eq!(
        rendered,
        expected.trim_start_matches('\n'),
        "\n{rendered}\n"
    );
}

#[track_caller]
fn ok(input: &str) -> Manifest {
    let text = format!("{PROVIDER}{input}");
    parse(&text, Path::new("/work/p/par.toml"))
        .unwrap_or_else(|e| panic!("{}", crate::Error::from(e).render()))
}

#[test]
fn unknown_keys() {
    check(
        "bogus = 1\n[targets]\nx86_64-linux = {}\n",
        r"
error: par.toml:4:1: unknown key `bogus`
  |
4 | bogus = 1
  | ^^^^^
help: expected one of `name`, `vendor`, `version`, `revision`, `capid`, `package`, `artifact`, `schema`, `world`",
    );
    check(
        "[targets]\nx86_64-linux = {}\n[build]\njbos = 2\n",
        r"
error: par.toml:7:1: unknown key `jbos`
  |
7 | jbos = 2
  | ^^^^
help: did you mean `jobs`?",
    );
    check(
        "[targets]\nx86_64-linux = { feature = [\"tls\"] }\n",
        r#"
error: par.toml:5:18: unknown key `feature`
  |
5 | x86_64-linux = { feature = ["tls"] }
  |                  ^^^^^^^
help: did you mean `features`?"#,
    );
    check(
        "[targets]\nx86_64-linux = {}\n[buidl]\n",
        r"
error: par.toml:6:2: unknown key `buidl`
  |
6 | [buidl]
  |  ^^^^^
help: did you mean `build`?",
    );
}

#[test]
fn wrong_types_and_syntax() {
    check(
        "[targets]\nx86_64-linux = {}\n[build]\njobs = \"two\"\n",
        r#"
error: par.toml:7:8: invalid type: string "two", expected a non-negative integer
  |
7 | jobs = "two"
  |        ^^^^^"#,
    );
    check(
        "[targets]\nx86_64-linux = true\n",
        r#"
error: par.toml:5:16: invalid type: boolean `true`, expected a table of overrides, such as `{}` or `{ backend = "zig" }`
  |
5 | x86_64-linux = true
  |                ^^^^"#,
    );
    check(
        "[targets]\nx86_64-linux = { features = \"tls\" }\n",
        r#"
error: par.toml:5:29: invalid type: string "tls", expected an array
  |
5 | x86_64-linux = { features = "tls" }
  |                             ^^^^^"#,
    );
    check(
        "[targets]\nx86_64-linux = {\n",
        r"
error: par.toml:5:17: unclosed inline table, expected `}`
  |
5 | x86_64-linux = {
  |                 ^",
    );
}

#[test]
fn missing_tables_and_keys() {
    let err = parse("[build]\njobs = 2\n", Path::new("par.toml")).unwrap_err();
    assert_eq!(
        crate::Error::from(err).render(),
        "error: par.toml: missing table `[provider]`\n\
         help: add `[provider]` with at least `name` and `vendor`, or run `parbuild init`"
    );
    let err = parse("[provider]\nname = \"x\"\n", Path::new("par.toml")).unwrap_err();
    assert_eq!(
        crate::Error::from(err).render(),
        "error: par.toml:1:1: missing key `vendor`\n  |\n1 | [provider]\n  | ^^^^^^^^^^\nhelp: add `vendor = \"…\"` to this table"
    );
    check(
        "[targets]\n[build]\n",
        "
error: par.toml:4:1: no targets: `[targets]` is missing or empty
  |
4 | [targets]
  | ^^^^^^^^^
help: add targets such as `x86_64-linux = {}` under `[targets]`; known labels: `x86_64-linux`, `aarch64-linux`, `arm-linux`, `armv7-linux`, `x86_64-macos`, `aarch64-macos`, `x86_64-windows`, `aarch64-windows`, `x86-linux`, `riscv64-linux`, `x86_64-freebsd`",
    );
}

#[test]
fn bad_targets() {
    check(
        "[targets]\nx86_64-linux = {}\nsparc-solaris = {}\n",
        r"
error: par.toml:6:1: unknown target `sparc-solaris`
  |
6 | sparc-solaris = {}
  | ^^^^^^^^^^^^^
help: use a label (`x86_64-linux`, `aarch64-linux`, `arm-linux`, `armv7-linux`, `x86_64-macos`, `aarch64-macos`, `x86_64-windows`, `aarch64-windows`, `x86-linux`, `riscv64-linux`, `x86_64-freebsd`) or a Rust triple such as `x86_64-unknown-linux-musl`",
    );
    check(
        "[targets]\nwasm32-unknown-unknown = {}\n",
        r#"
error: par.toml:5:1: no archive label is known for triple `wasm32-unknown-unknown`
  |
5 | wasm32-unknown-unknown = {}
  | ^^^^^^^^^^^^^^^^^^^^^^
help: set `label = "ARCH-OS"`: the `std::env::consts` ARCH and OS of the hosts that run it"#,
    );
    check(
        "[targets]\nx86_64-linux = { triple = \"aarch64-unknown-linux-gnu\" }\n",
        r#"
error: par.toml:5:27: triple `aarch64-unknown-linux-gnu` runs on `aarch64-linux` hosts, not on `x86_64-linux`
  |
5 | x86_64-linux = { triple = "aarch64-unknown-linux-gnu" }
  |                           ^^^^^^^^^^^^^^^^^^^^^^^^^^^
help: use the key `aarch64-linux`, or set `label` if no host should look this binary up by its platform"#,
    );
    check(
        "[targets]\naarch64-linux = { triple = \"aarch64-unknown-linux-gnu.2.17\" }\n",
        r#"
error: par.toml:5:28: `aarch64-unknown-linux-gnu.2.17` is not a Rust target triple
  |
5 | aarch64-linux = { triple = "aarch64-unknown-linux-gnu.2.17" }
  |                            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
help: write the glibc floor separately, as `glibc = "2.17"`"#,
    );
    check(
        "[targets]\nx86_64-macos = { glibc = \"2.28\" }\n",
        r#"
error: par.toml:5:26: `glibc` applies to Linux gnu targets only, not to `x86_64-apple-darwin`
  |
5 | x86_64-macos = { glibc = "2.28" }
  |                          ^^^^^^
help: remove `glibc` from this target"#,
    );
    check(
        "[targets]\nx86_64-linux = { label = \"x86_64_linux\" }\n",
        r#"
error: par.toml:5:26: `x86_64_linux` is not an archive label: expected `ARCH-OS` in lowercase letters, digits and `_`, such as `x86_64-linux` or `aarch64-macos`
  |
5 | x86_64-linux = { label = "x86_64_linux" }
  |                          ^^^^^^^^^^^^^^"#,
    );
    check(
        "[targets]\nx86_64-linux = { backend = \"docker\" }\n",
        r#"
error: par.toml:5:28: unknown backend `docker`
  |
5 | x86_64-linux = { backend = "docker" }
  |                            ^^^^^^^^
help: expected one of `auto`, `cargo`, `zig`, `cross`, `container`"#,
    );
}

#[test]
fn duplicate_labels() {
    // `armv7-linux` is stored as `arm-linux`, so a later `arm-linux` collides with it.
    check(
        "[targets]\narmv7-linux = {}\nx86_64-linux = {}\narm-linux = { backend = \"zig\" }\n",
        r#"
error: par.toml:7:1: label `arm-linux` is already used by target `armv7-linux` (line 5)
  |
7 | arm-linux = { backend = "zig" }
  | ^^^^^^^^^
help: an archive holds one binary per label: remove one target, or give it another `label`"#,
    );
    // A triple and a label for the same platform; an explicit label is blamed where written.
    check(
        "[targets]\nx86_64-unknown-linux-musl = {}\nx86_64-linux = {}\n",
        r"
error: par.toml:6:1: label `x86_64-linux` is already used by target `x86_64-unknown-linux-musl` (line 5)
  |
6 | x86_64-linux = {}
  | ^^^^^^^^^^^^
help: an archive holds one binary per label: remove one target, or give it another `label`",
    );
    check(
        "[targets]\naarch64-linux = {}\nx86_64-linux = { label = \"aarch64-linux\" }\n",
        r#"
error: par.toml:6:26: label `aarch64-linux` is already used by target `aarch64-linux` (line 5)
  |
6 | x86_64-linux = { label = "aarch64-linux" }
  |                          ^^^^^^^^^^^^^^^
help: an archive holds one binary per label: remove one target, or give it another `label`"#,
    );
}

#[test]
fn seeds_are_refused_and_never_shown() {
    let cases = [
        (
            format!("[targets]\nx86_64-linux = {{}}\n[sign]\nissuer = \"{SEED}\"\n"),
            7,
            10,
            "issuer",
        ),
        (
            format!("[targets]\nx86_64-linux = {{}}\n[sign]\nissuer-public = \"{SEED}\"\n"),
            7,
            17,
            "issuer-public",
        ),
        (
            format!("[targets]\nx86_64-linux = {{ env = {{ KEY = \"{SEED}\" }} }}\n"),
            5,
            32,
            "env.KEY",
        ),
    ];
    for (input, line, column, key) in cases {
        let text = format!("{PROVIDER}{input}");
        let rendered =
            crate::Error::from(parse(&text, Path::new("par.toml")).unwrap_err()).render();
        assert!(!rendered.contains(&SEED[1..]), "{rendered}");
        assert!(rendered.starts_with(&format!(
            "error: par.toml:{line}:{column}: `{key}` holds a seed: secret keys never belong in `par.toml`\n"
        )), "{rendered}");
    }
    check(
        &format!("[targets]\nx86_64-linux = {{}}\n[sign]\nissuer = \"{SEED}\"\n"),
        r#"
error: par.toml:7:10: `issuer` holds a seed: secret keys never belong in `par.toml`
  |
7 | issuer = "S*********************************************************"
  |          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
help: move the seed to a file (mode 0600) and write its path here, or to an environment variable and write `"$NAME"`; then treat this seed as leaked and replace it"#,
    );
}

#[test]
fn bad_sign_and_output_values() {
    check(
        "[targets]\nx86_64-linux = {}\n[output]\ncompression = \"bzip2\"\n",
        r#"
error: par.toml:7:15: unknown compression `bzip2`
  |
7 | compression = "bzip2"
  |               ^^^^^^^
help: expected `gzip` (what wasmCloud hosts load), `none` or `zstd` (parbuild only)"#,
    );
    check(
        &format!("[targets]\nx86_64-linux = {{}}\n[sign]\nsubject-public = \"{ACCOUNT}\"\n"),
        &format!(
            r#"
error: par.toml:7:18: `subject-public` is not a service public key
  |
7 | subject-public = "{ACCOUNT}"
  |                  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
help: expected 56 characters starting with `V`, as `parbuild keys show` prints"#
        ),
    );
    check(
        "[targets]\nx86_64-linux = {}\n[sign]\nsubject = \"$HOME/keys/svc.nk\"\n",
        r#"
error: par.toml:7:11: `$HOME/keys/svc.nk` is not an environment variable reference
  |
7 | subject = "$HOME/keys/svc.nk"
  |           ^^^^^^^^^^^^^^^^^^^
help: `"$NAME"` names one environment variable (letters, digits, `_`) that holds a seed or a path"#,
    );
    check(
        "artifact = \"staticlib\"\n[targets]\nx86_64-linux = {}\n",
        r#"
error: par.toml:4:12: `staticlib` is not an artifact selector
  |
4 | artifact = "staticlib"
  |            ^^^^^^^^^^^
help: expected `cdylib`, `bin` or `bin:NAME`"#,
    );
}

#[test]
fn minimal_manifest_gets_every_default() {
    let m = ok("[targets]\nx86_64-linux = {}\n");
    assert_eq!(m.path, Path::new("/work/p/par.toml"));
    assert_eq!(m.dir, Path::new("/work/p"));
    assert_eq!(m.provider.name, "Fake Payments");
    assert_eq!(
        (m.provider.version, m.provider.revision, m.provider.package),
        (None, None, None)
    );
    assert_eq!(m.build.profile, "release");
    assert_eq!(m.build.backend, BackendKind::Auto);
    assert_eq!(m.build.jobs, 0);
    assert_eq!(m.build.glibc, "2.17");
    assert_eq!(m.build.macos_deployment_target, None);
    assert!(!m.build.no_default_features);
    assert_eq!(m.build.cache, super::CacheKind::Auto);
    assert_eq!(m.build.cache_url, None);
    assert!(!m.build.incremental, "incremental changes binaries: opt-in");
    assert_eq!(m.sign, super::SignSettings::default());
    assert_eq!(m.output.compression, Compression::Gzip);
    // No package named: the provider name, slugged.
    assert_eq!(
        m.output.path,
        Path::new("/work/p/build/fake-payments.par.gz")
    );
    let m = ok(
        "package = \"fakepay-provider\"\n[targets]\nx86_64-linux = {}\n[output]\ncompression = \"zstd\"\n",
    );
    assert_eq!(
        m.output.path,
        Path::new("/work/p/build/fakepay-provider.par.zst")
    );
}

#[test]
fn full_manifest() {
    let m = ok(&format!(
        r#"version = "1.0"
revision = 3
capid = "examples:payments"
package = "fakepay-provider"
artifact = "bin:fakepay"
schema = "schema.json"
world = "/abs/world.wasm"

[targets]
x86_64-linux = {{}}
aarch64-linux = {{ backend = "cross", triple = "aarch64-unknown-linux-musl", image = "ghcr.io/x/y:1" }}
armv7-linux = {{ glibc = "2.28", features = ["neon"], env = {{ A = "1" }}, rustflags = ["-Ctarget-cpu=cortex-a7"] }}
armv7-unknown-linux-musleabihf = {{ label = "armv7-linux" }}
x86_64-macos = {{}}

[build]
profile = "dist"
backend = "zig"
jobs = 4
features = ["tls"]
no-default-features = true
glibc = "2.31"
macos-deployment-target = "11.0"

[sign]
issuer = "keys/acct.nk"
subject = "$FAKEPAY_SUBJECT"
issuer-public = "{ACCOUNT}"
subject-public = "{SERVICE}"

[output]
path = "dist/fakepay.par"
compression = "none"
"#
    ));
    let p = &m.provider;
    assert_eq!(p.version.as_deref(), Some("1.0"));
    assert_eq!(p.revision, Some(3));
    assert_eq!(p.capid.as_deref(), Some("examples:payments"));
    assert_eq!(
        p.artifact,
        Some(ArtifactSelector::Bin(Some("fakepay".to_owned())))
    );
    assert_eq!(p.schema.as_deref(), Some(Path::new("/work/p/schema.json")));
    assert_eq!(p.world.as_deref(), Some(Path::new("/abs/world.wasm")));

    let rows: Vec<(&str, &str, &str, bool)> = m
        .targets
        .iter()
        .map(|t| {
            (
                t.key.as_str(),
                t.triple.as_str(),
                t.label.as_str(),
                t.label_explicit,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "x86_64-linux",
                "x86_64-unknown-linux-gnu",
                "x86_64-linux",
                false
            ),
            (
                "aarch64-linux",
                "aarch64-unknown-linux-musl",
                "aarch64-linux",
                false
            ),
            (
                "armv7-linux",
                "armv7-unknown-linux-gnueabihf",
                "arm-linux",
                false
            ),
            (
                "armv7-unknown-linux-musleabihf",
                "armv7-unknown-linux-musleabihf",
                "armv7-linux",
                true
            ),
            ("x86_64-macos", "x86_64-apple-darwin", "x86_64-macos", false),
        ]
    );
    let aarch64 = &m.targets[1];
    assert_eq!(aarch64.backend, Some(BackendKind::Cross));
    assert_eq!(aarch64.image.as_deref(), Some("ghcr.io/x/y:1"));
    let arm = &m.targets[2];
    assert_eq!((arm.backend, arm.glibc.as_deref()), (None, Some("2.28")));
    assert_eq!(arm.features, ["neon"]);
    assert_eq!(arm.env.get("A").map(String::as_str), Some("1"));
    assert_eq!(arm.rustflags, ["-Ctarget-cpu=cortex-a7"]);

    let b = &m.build;
    assert_eq!(
        (b.profile.as_str(), b.backend, b.jobs),
        ("dist", BackendKind::Zig, 4)
    );
    assert_eq!(
        (b.features.as_slice(), b.no_default_features),
        (&["tls".to_owned()][..], true)
    );
    assert_eq!(
        (b.glibc.as_str(), b.macos_deployment_target.as_deref()),
        ("2.31", Some("11.0"))
    );

    assert_eq!(
        m.sign.issuer,
        Some(KeyRef::Path(PathBuf::from("/work/p/keys/acct.nk")))
    );
    assert_eq!(
        m.sign.subject,
        Some(KeyRef::Env("FAKEPAY_SUBJECT".to_owned()))
    );
    assert_eq!(m.sign.issuer_public.as_deref(), Some(ACCOUNT));
    assert_eq!(m.sign.subject_public.as_deref(), Some(SERVICE));
    assert_eq!(m.output.path, Path::new("/work/p/dist/fakepay.par"));
    assert_eq!(m.output.compression, Compression::None);
}

#[test]
fn artifact_selectors() {
    for (text, expected) in [
        ("cdylib", Some(ArtifactSelector::Cdylib)),
        ("bin", Some(ArtifactSelector::Bin(None))),
        ("bin:x", Some(ArtifactSelector::Bin(Some("x".to_owned())))),
        ("bin:", None),
        ("lib", None),
    ] {
        assert_eq!(super::validate::parse_artifact(text), expected, "{text}");
    }
}

#[test]
fn slugs() {
    for (name, slug) in [
        ("Fake Payments", "fake-payments"),
        ("http_server", "http_server"),
        ("  --Ünïcode!! Provider ", "n-code-provider"),
        ("!!!", "provider"),
    ] {
        assert_eq!(super::validate::slug(name), slug, "{name}");
    }
}

#[test]
fn cache_settings() {
    let m = ok(
        "[build]\ncache = \"sccache\"\ncache-url = \"redis://10.0.0.5:6379/1\"\n[targets]\nx86_64-linux = {}\n",
    );
    assert_eq!(m.build.cache, super::CacheKind::Sccache);
    assert_eq!(
        m.build.cache_url.as_deref(),
        Some("redis://10.0.0.5:6379/1")
    );
    let m = ok("[build]\ncache = \"none\"\n[targets]\nx86_64-linux = {}\n");
    assert_eq!(m.build.cache, super::CacheKind::None);
    check(
        "[build]\ncache = \"ccache\"\n[targets]\nx86_64-linux = {}\n",
        r#"
error: par.toml:5:9: unknown cache `ccache`
  |
5 | cache = "ccache"
  |         ^^^^^^^^
help: expected `auto` (sccache when installed), `sccache` (required) or `none`"#,
    );
    check(
        "[build]\ncache-url = \"redis://:hunter2@cache:6379\"\n[targets]\nx86_64-linux = {}\n",
        r#"
error: par.toml:5:13: `redis://:hunter2@cache:6379` is not a cache URL parbuild can use
  |
5 | cache-url = "redis://:hunter2@cache:6379"
  |             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
help: a password does not belong in par.toml (it is shown by `parbuild plan`): leave `cache-url` out and set sccache's own `SCCACHE_REDIS` (or AWS_* for S3) in the environment"#,
    );
    check(
        "[build]\ncache-url = \"memcached://cache:11211\"\n[targets]\nx86_64-linux = {}\n",
        r#"
error: par.toml:5:13: `memcached://cache:11211` is not a cache URL parbuild can use
  |
5 | cache-url = "memcached://cache:11211"
  |             ^^^^^^^^^^^^^^^^^^^^^^^^^
help: sccache's shared backends parbuild can set up are `redis://`, `rediss://` and `s3://`"#,
    );
    check(
        "[build]\ncache = \"none\"\ncache-url = \"s3://bucket\"\n[targets]\nx86_64-linux = {}\n",
        r#"
error: par.toml:6:13: `cache-url` is set but `cache = "none"` turns the cache off
  |
6 | cache-url = "s3://bucket"
  |             ^^^^^^^^^^^^^
help: remove `cache-url`, or set `cache = "sccache"`"#,
    );
}
