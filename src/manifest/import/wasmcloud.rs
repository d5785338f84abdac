//! wash's project file, `wasmcloud.toml`, read into [`Imported`]: the fields a provider's
//! file has from wash 0.x to 1.x, a located error for what is not a Rust provider, and a
//! note for every key parbuild does not use. One file, a little over 400 lines with its
//! tests: the raw tables and their mapping are one reading of one format.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::{Imported, WASMCLOUD_TOML, with_override};
use crate::manifest::diagnostic::{Location, ManifestError};

/// The part of wash's project file a provider uses (wash 0.x to 1.x: `capability_id` is the
/// older spelling, `[registry.push]` the newer one of `[registry]`).
#[derive(Debug, Deserialize)]
struct RawProject {
    language: Option<Spanned<String>>,
    #[serde(rename = "type")]
    kind: Option<Spanned<String>>,
    name: Option<String>,
    version: Option<String>,
    revision: Option<Spanned<i64>>,
    path: Option<String>,
    build: Option<String>,
    #[serde(default)]
    provider: RawProvider,
    #[serde(default)]
    rust: RawRust,
    #[serde(default)]
    registry: RawRegistry,
}

#[derive(Debug, Default, Deserialize)]
struct RawProvider {
    vendor: Option<String>,
    capability_id: Option<String>,
    wit_world: Option<String>,
    os: Option<String>,
    arch: Option<String>,
    rust_target: Option<Spanned<String>>,
    bin_name: Option<String>,
    key_directory: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct RawRust {
    cargo_path: Option<String>,
    target_path: Option<String>,
    debug: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
struct RawRegistry {
    url: Option<Spanned<String>>,
    credentials: Option<String>,
    push_insecure: Option<bool>,
    push: Option<RawRegistryPush>,
}

#[derive(Debug, Default, Deserialize)]
struct RawRegistryPush {
    url: Option<Spanned<String>>,
    credentials: Option<String>,
    push_insecure: Option<bool>,
}

/// Keys parbuild reads, per table (`""` is the top level); the rest become notes.
const KNOWN_KEYS: [(&str, &[&str]); 4] = [
    (
        "",
        &[
            "language", "type", "name", "version", "revision", "path", "build", "provider", "rust",
            "registry",
        ],
    ),
    (
        "provider",
        &[
            "vendor",
            "capability_id",
            "wit_world",
            "os",
            "arch",
            "rust_target",
            "bin_name",
            "key_directory",
        ],
    ),
    ("rust", &["cargo_path", "target_path", "debug"]),
    (
        "registry",
        &["url", "credentials", "push_insecure", "push", "pull"],
    ),
];

/// Reads `text`, the contents of `path`, as wash's project file.
pub(super) fn read(text: &str, path: &Path) -> Result<Imported, ManifestError> {
    let parse_error = |e: toml::de::Error| ManifestError::Parse {
        at: Box::new(Location::new(path, text, e.span())),
        message: format!("{WASMCLOUD_TOML} is not valid: {}", e.message().trim_end()),
        help: Some(
            "fix the file (wash reads it the same way), or run `parbuild init` without `--from`"
                .to_owned(),
        ),
    };
    let table: toml::Table = toml::from_str(text).map_err(parse_error)?;
    let raw: RawProject = toml::from_str(text).map_err(parse_error)?;
    let at =
        |span: Option<std::ops::Range<usize>>, message: String, help: &str| ManifestError::Parse {
            at: Box::new(Location::new(path, text, span)),
            message,
            help: Some(help.to_owned()),
        };

    match &raw.kind {
        None => {
            return Err(at(
                None,
                format!("{WASMCLOUD_TOML} has no `type`"),
                "a provider's wasmcloud.toml says `type = \"provider\"`",
            ));
        }
        Some(k) if !k.get_ref().trim().eq_ignore_ascii_case("provider") => {
            return Err(at(
                Some(k.span()),
                format!(
                    "this {WASMCLOUD_TOML} describes a `{}`, not a provider",
                    k.get_ref()
                ),
                "parbuild builds capability provider archives; components are built by wash",
            ));
        }
        Some(_) => {}
    }
    if let Some(lang) = &raw.language
        && !lang.get_ref().trim().eq_ignore_ascii_case("rust")
    {
        return Err(at(
            Some(lang.span()),
            format!(
                "this provider is written in `{}`; parbuild builds Rust providers with cargo",
                lang.get_ref()
            ),
            "build its binaries with their own toolchain and sign and pack them with `parbuild pack --target LABEL=PATH …`",
        ));
    }

    let mut out = Imported {
        name: raw.name.filter(|n| !n.trim().is_empty()),
        vendor: raw.provider.vendor,
        version: raw.version,
        capid: raw.provider.capability_id,
        package_dir: raw
            .path
            .filter(|p| !p.is_empty() && p != ".")
            .map(PathBuf::from),
        bin: raw.provider.bin_name,
        output_dir: raw.build,
        ..Imported::default()
    };
    if let Some(rev) = raw.revision {
        out.revision = Some(
            i32::try_from(*rev.get_ref())
                .ok()
                .filter(|r| *r >= 0)
                .ok_or_else(|| {
                    at(
                        Some(rev.span()),
                        format!(
                            "`revision = {}` is not a whole number from 0",
                            rev.get_ref()
                        ),
                        "wash and wasmCloud hosts take a revision from 0 to 2147483647",
                    )
                })?,
        );
    }
    if let Some(target) = &raw.provider.rust_target {
        let triple = target.get_ref().trim();
        let Some(label) = crate::target::label_for_triple(triple) else {
            return Err(at(
                Some(target.span()),
                format!("no archive label is known for `rust_target = \"{triple}\"`"),
                "use a triple of a platform wasmCloud hosts run on, e.g. `x86_64-unknown-linux-gnu`",
            ));
        };
        out.targets = Some(with_override(&label, triple));
        out.notes.push(format!(
            "`rust_target = \"{triple}\"`: wash built only that target; parbuild builds it for {label} and the other default platforms too (edit [targets] to drop them)"
        ));
    }
    if raw.rust.debug == Some(true) {
        out.profile = Some("dev".to_owned());
    }
    if let Some(world) = raw.provider.wit_world {
        out.notes.push(format!(
            "`wit_world = \"{world}\"` is not used: parbuild embeds a WIT world only from an encoded file (`world = \"wit/world.wasm\"` in [provider])"
        ));
    }
    for (key, value) in [("os", raw.provider.os), ("arch", raw.provider.arch)] {
        if let Some(v) = value {
            out.notes.push(format!(
                "`{key} = \"{v}\"` is not used: parbuild builds every platform in [targets]"
            ));
        }
    }
    if let Some(dir) = raw.provider.key_directory {
        out.notes.push(format!(
            "`key_directory = \"{dir}\"`: parbuild reads wash's key directory from `$WASH_KEYS` or `--keys-dir`; set `WASH_KEYS={dir}`, or point [sign] `issuer`/`subject` at the key files"
        ));
    }
    if let Some(cargo) = raw.rust.cargo_path {
        out.notes.push(format!(
            "`cargo_path = \"{cargo}\"` is not used: parbuild runs `$CARGO`, else `cargo` on PATH"
        ));
    }
    if let Some(dir) = raw.rust.target_path {
        out.notes.push(format!(
            "`target_path = \"{dir}\"` is not used: set `CARGO_TARGET_DIR={dir}` (or cargo's `build.target-dir`) if the build should go there"
        ));
    }

    let push = raw.registry.push.unwrap_or_default();
    let url = push.url.or(raw.registry.url);
    out.publish.credentials = push.credentials.or(raw.registry.credentials);
    out.publish.insecure = push
        .push_insecure
        .or(raw.registry.push_insecure)
        .unwrap_or(false);
    if let Some(url) = url {
        let text_url = url.get_ref().trim();
        let (plain_http, rest) = match text_url.split_once("://") {
            Some((scheme, rest)) => (scheme.eq_ignore_ascii_case("http"), rest),
            None => (false, text_url),
        };
        let rest = rest.trim_end_matches('/');
        let (host, prefix) = match rest.split_once('/') {
            Some((host, prefix)) => (host, Some(prefix)),
            None => (rest, None),
        };
        if host.is_empty() {
            return Err(at(
                Some(url.span()),
                format!("`url = \"{text_url}\"` names no registry"),
                "write the registry as `host[:port]`, e.g. `ghcr.io` or `localhost:5000`",
            ));
        }
        out.publish.registry = Some(host.to_owned());
        out.publish.repository_prefix = prefix.map(str::to_owned);
        out.publish.insecure |= plain_http;
    }

    for (table_name, keys) in KNOWN_KEYS {
        let table = if table_name.is_empty() {
            Some(&table)
        } else {
            table.get(table_name).and_then(toml::Value::as_table)
        };
        for key in table.into_iter().flat_map(|t| t.keys()) {
            if !keys.contains(&key.as_str()) {
                let name = if table_name.is_empty() {
                    format!("`{key}`")
                } else {
                    format!("`{table_name}.{key}`")
                };
                out.notes
                    .push(format!("{name} is not used: parbuild has no such setting"));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::{SourceKind, import, target_keys as keys};
    use super::*;

    fn toml(text: &str) -> Result<Imported, ManifestError> {
        import(
            SourceKind::WasmcloudToml,
            text,
            Path::new("repo/wasmcloud.toml"),
        )
    }

    #[test]
    fn a_full_wasmcloud_toml_maps_every_field() {
        let got = toml(
            r#"
name = "Fake Pay"
language = "rust"
type = "provider"
version = "1.2.3"
revision = 4
build = "dist"

[provider]
vendor = "Acme"
capability_id = "wasmcloud:fakepay"
bin_name = "fakepay"
rust_target = "x86_64-unknown-linux-musl"
key_directory = "./keys"
wit_world = "fakepay"

[rust]
debug = true
target_path = "../target"

[registry]
url = "ghcr.io/acme"
credentials = "./creds.json"
push_insecure = false
"#,
        )
        .unwrap();
        assert_eq!(got.name.as_deref(), Some("Fake Pay"));
        assert_eq!(got.vendor.as_deref(), Some("Acme"));
        assert_eq!(got.version.as_deref(), Some("1.2.3"));
        assert_eq!(got.revision, Some(4));
        assert_eq!(got.capid.as_deref(), Some("wasmcloud:fakepay"));
        assert_eq!(got.bin.as_deref(), Some("fakepay"));
        assert_eq!(got.profile.as_deref(), Some("dev"));
        assert_eq!(got.output_dir.as_deref(), Some("dist"));
        assert_eq!(
            keys(got.targets.as_ref().unwrap()),
            [
                (
                    "x86_64-linux".into(),
                    Some("x86_64-unknown-linux-musl".into())
                ),
                ("aarch64-linux".into(), None),
                ("armv7-linux".into(), None),
                ("x86_64-macos".into(), None),
                ("aarch64-macos".into(), None),
            ]
        );
        assert_eq!(got.publish.registry.as_deref(), Some("ghcr.io"));
        assert_eq!(got.publish.repository_prefix.as_deref(), Some("acme"));
        assert_eq!(got.publish.credentials.as_deref(), Some("./creds.json"));
        assert!(!got.publish.insecure);
        let notes = got.notes.join("\n");
        for word in [
            "rust_target",
            "key_directory",
            "WASH_KEYS",
            "wit_world",
            "target_path",
        ] {
            assert!(notes.contains(word), "{word} not in\n{notes}");
        }
    }

    #[test]
    fn the_smallest_provider_file_and_the_newer_registry_table() {
        let got = toml(
            "name = \"Ollama\"\nlanguage = \"rust\"\ntype = \"provider\"\n\n[provider]\nvendor = \"t\"\n\n[registry.push]\nurl = \"http://localhost:5000\"\n",
        )
        .unwrap();
        assert_eq!(got.name.as_deref(), Some("Ollama"));
        assert_eq!(got.version, None);
        assert_eq!(got.targets, None);
        assert_eq!(got.publish.registry.as_deref(), Some("localhost:5000"));
        assert_eq!(got.publish.repository_prefix, None);
        assert!(got.publish.insecure, "http:// means plain HTTP");
        assert!(got.notes.is_empty(), "{:?}", got.notes);
    }

    #[test]
    fn unknown_keys_become_notes_not_errors() {
        let got = toml(
            "language = \"rust\"\ntype = \"provider\"\nwit = \"wit\"\n[dev]\nx = 1\n[provider]\nvendor = \"v\"\nshiny = true\n",
        )
        .unwrap();
        let notes = got.notes.join("\n");
        assert!(notes.contains("`wit` is not used"), "{notes}");
        assert!(notes.contains("`dev` is not used"), "{notes}");
        assert!(notes.contains("`provider.shiny` is not used"), "{notes}");
    }

    #[test]
    fn what_is_not_a_rust_provider_is_refused_where_it_says_so() {
        let component = toml("language = \"rust\"\ntype = \"component\"\n").unwrap_err();
        let text = component.to_string();
        assert!(text.starts_with("repo/wasmcloud.toml:2:8: "), "{text}");
        assert!(text.contains("not a provider"), "{text}");

        let go = toml("name = \"c\"\nlanguage = \"go\"\ntype = \"provider\"\n").unwrap_err();
        assert!(
            go.to_string().starts_with("repo/wasmcloud.toml:2:12: "),
            "{go}"
        );
        assert!(go.hint().unwrap().contains("parbuild pack"));

        let untyped = toml("language = \"rust\"\n").unwrap_err();
        assert!(untyped.to_string().contains("no `type`"), "{untyped}");
    }

    #[test]
    fn malformed_toml_and_bad_values_are_located() {
        let syntax = toml("language = \"rust\"\ntype = \"provider\"\nname = \n").unwrap_err();
        assert!(
            syntax.to_string().starts_with("repo/wasmcloud.toml:3:"),
            "{syntax}"
        );
        let wrong_type =
            toml("language = \"rust\"\ntype = \"provider\"\nrevision = \"one\"\n").unwrap_err();
        assert!(
            wrong_type
                .to_string()
                .starts_with("repo/wasmcloud.toml:3:12: "),
            "{wrong_type}"
        );
        let negative =
            toml("language = \"rust\"\ntype = \"provider\"\nrevision = -1\n").unwrap_err();
        assert!(negative.to_string().contains("revision = -1"), "{negative}");
        let target = toml(
            "language = \"rust\"\ntype = \"provider\"\n[provider]\nrust_target = \"wasm32-wasip2\"\n",
        )
        .unwrap_err();
        assert!(
            target.to_string().starts_with("repo/wasmcloud.toml:4:15: "),
            "{target}"
        );
    }
}
