//! What an existing provider repository already says about itself, read from wash's project
//! file (`wasmcloud.toml`) or from a Makefile built on wasmCloud's `provider.mk`, so that
//! `parbuild init` starts from it instead of asking for it again.
//!
//! Pure: the caller reads the file; nothing here starts a process or touches the disk.
//! Every value that is taken says where it came from; every one that parbuild does not use
//! becomes a [`Imported::notes`] line that says why, so nothing is dropped silently. A file
//! that cannot be read as what it claims to be is a [`ManifestError`] located at
//! `file:line:column`, like an error in `par.toml`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::diagnostic::{Location, ManifestError};

/// wash's project file.
pub const WASMCLOUD_TOML: &str = "wasmcloud.toml";
/// The Makefile names GNU make looks for, in its order.
pub const MAKEFILES: [&str; 3] = ["GNUmakefile", "makefile", "Makefile"];

/// Which kind of file was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// `wasmcloud.toml`.
    WasmcloudToml,
    /// A Makefile that includes `provider.mk`.
    ProviderMk,
}

impl SourceKind {
    /// What the file is guessed to be from its name: `*.toml` is wash's project file,
    /// anything else a Makefile.
    pub fn of(path: &Path) -> Self {
        if path.extension().is_some_and(|e| e == "toml") {
            Self::WasmcloudToml
        } else {
            Self::ProviderMk
        }
    }
}

/// The settings found, each `None` when the file does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    /// `wascap.name`.
    pub name: Option<String>,
    /// `wascap.vendor`.
    pub vendor: Option<String>,
    /// `wascap.ver`.
    pub version: Option<String>,
    /// `wascap.rev`.
    pub revision: Option<i32>,
    /// `wascap.capid` (wash before 0.20 and provider.mk's `CAPABILITY_ID`).
    pub capid: Option<String>,
    /// The cargo package's directory, relative to the file (wasmcloud.toml's `path`).
    pub package_dir: Option<PathBuf>,
    /// The provider binary's name (`bin_name`, provider.mk's `PROJECT`).
    pub bin: Option<String>,
    /// The targets to build, as `[targets]` entries; `None`: parbuild's default five.
    pub targets: Option<Vec<TargetEntry>>,
    /// The cargo profile (`[rust] debug = true` is `dev`).
    pub profile: Option<String>,
    /// The directory of the archive (wasmcloud.toml's `build`), relative to the file.
    pub output_dir: Option<String>,
    /// Where wash pushed it.
    pub publish: ImportedPublish,
    /// What was read but not used, or used with a caveat: one sentence each.
    pub notes: Vec<String>,
}

/// One `[targets]` entry: its key and, when the key is a label, a triple override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetEntry {
    /// A label (`x86_64-linux`) or a triple.
    pub key: String,
    /// `triple = "…"` for a label key whose default triple is not the one asked for.
    pub triple: Option<String>,
}

/// `[publish]` as the file gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportedPublish {
    /// `host[:port]`.
    pub registry: Option<String>,
    /// The repository, when the file names one.
    pub repository: Option<String>,
    /// A path the repository starts with (wasmcloud.toml's `url = "ghcr.io/acme"`); the
    /// caller appends the package name.
    pub repository_prefix: Option<String>,
    /// A tag other than the version.
    pub tag: Option<String>,
    /// Plain HTTP.
    pub insecure: bool,
    /// wash's registry credentials file, relative to the file.
    pub credentials: Option<String>,
}

/// Reads `text`, the contents of `path`, as `kind`.
pub fn import(kind: SourceKind, text: &str, path: &Path) -> Result<Imported, ManifestError> {
    match kind {
        SourceKind::WasmcloudToml => wasmcloud_toml(text, path),
        SourceKind::ProviderMk => provider_mk(text, path),
    }
}

// --- wasmcloud.toml -------------------------------------------------------------------

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

fn wasmcloud_toml(text: &str, path: &Path) -> Result<Imported, ManifestError> {
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

// --- provider.mk ----------------------------------------------------------------------

/// What wasmCloud's `provider.mk` sets when the including Makefile does not (its `?=`
/// lines), as far as they matter for the archive.
const PROVIDER_MK_DEFAULTS: [(&str, &str); 4] = [
    ("bin_name", "$(PROJECT)"),
    ("NAME", "$(PROJECT)"),
    ("oci_url_base", "localhost:5000/v2"),
    ("oci_url", "$(oci_url_base)/$(bin_name):$(VERSION)"),
];

/// One variable: its raw value and the line it was set on (from 1).
#[derive(Debug, Clone)]
struct MakeVar {
    value: String,
    line: usize,
}

fn provider_mk(text: &str, path: &Path) -> Result<Imported, ManifestError> {
    let parsed = parse_make(text);
    if !parsed
        .includes
        .iter()
        .any(|inc| inc.split_whitespace().any(|f| f.ends_with("provider.mk")))
    {
        return Err(ManifestError::Parse {
            at: Box::new(Location::new(path, text, None)),
            message: "this Makefile does not include wasmCloud's provider.mk".to_owned(),
            help: Some(
                "parbuild reads provider Makefiles built on provider.mk (PROJECT, NAME, VENDOR, CAPABILITY_ID, …); without one, run `parbuild init` without `--from`"
                    .to_owned(),
            ),
        });
    }
    let mut vars = parsed.vars;
    for (name, value) in PROVIDER_MK_DEFAULTS {
        vars.entry(name.to_owned()).or_insert(MakeVar {
            value: value.to_owned(),
            line: 0,
        });
    }
    let get = |name: &str| -> Option<String> {
        vars.get(name)
            .and_then(|v| expand(&v.value, &vars, 0))
            .map(|v| unquote(v.trim()).to_owned())
            .filter(|v| !v.is_empty())
    };
    let mut out = Imported::default();
    let span_of = |name: &str| -> Option<std::ops::Range<usize>> {
        let line = vars.get(name)?.line;
        line_span(text, line)
    };

    if !vars.contains_key("PROJECT") {
        return Err(ManifestError::Parse {
            at: Box::new(Location::new(path, text, None)),
            message: "this Makefile sets no `PROJECT`".to_owned(),
            help: Some(
                "provider.mk names the binary after `PROJECT` (or `bin_name`); set it to the provider's binary name"
                    .to_owned(),
            ),
        });
    }
    out.bin = get("bin_name");
    out.name = get("NAME");
    out.vendor = get("VENDOR");
    out.capid = get("CAPABILITY_ID");
    if let Some(rev) = get("REVISION") {
        out.revision = Some(rev.parse::<i32>().ok().filter(|r| *r >= 0).ok_or_else(|| {
            ManifestError::Parse {
                at: Box::new(Location::new(path, text, span_of("REVISION"))),
                message: format!("`REVISION = {rev}` is not a whole number from 0"),
                help: Some(
                    "wash and wasmCloud hosts take a revision from 0 to 2147483647".to_owned(),
                ),
            }
        })?);
    }
    match (vars.get("VERSION"), get("VERSION")) {
        (Some(_), Some(v)) => out.version = Some(v),
        (Some(raw), None) => out.notes.push(format!(
            "`VERSION = {}` is computed by make; parbuild uses the cargo package's version, as that command reads it",
            raw.value.trim()
        )),
        (None, _) => {}
    }
    for name in ["VENDOR", "NAME", "CAPABILITY_ID"] {
        if vars.contains_key(name) && get(name).is_none() {
            out.notes.push(format!(
                "`{name} = {}` is computed by make: set it in par.toml by hand",
                vars[name].value.trim()
            ));
        }
    }

    if let Some(list) = vars.get("par_targets") {
        let Some(list) = expand(&list.value, &vars, 0) else {
            return Err(ManifestError::Parse {
                at: Box::new(Location::new(path, text, span_of("par_targets"))),
                message: "`par_targets` is computed by make".to_owned(),
                help: Some("list the targets in par.toml's [targets] instead".to_owned()),
            });
        };
        let mut entries: Vec<TargetEntry> = Vec::new();
        for triple in list.split_whitespace() {
            let Some(label) = crate::target::label_for_triple(triple) else {
                return Err(ManifestError::Parse {
                    at: Box::new(Location::new(path, text, span_of("par_targets"))),
                    message: format!("no archive label is known for `{triple}` in `par_targets`"),
                    help: Some(
                        "remove it, or add it to par.toml's [targets] with `label = \"ARCH-OS\"`"
                            .to_owned(),
                    ),
                });
            };
            let entry = entry_for(&label, triple);
            if let Some(first) = entries
                .iter()
                .find(|e| label_of(e).as_deref() == Some(label.as_str()))
            {
                out.notes.push(format!(
                    "`{triple}` in `par_targets` is skipped: it is stored as {label} too, which `{}` already builds",
                    first.triple.as_deref().unwrap_or(&first.key)
                ));
                continue;
            }
            entries.push(entry);
        }
        out.targets = Some(entries);
    }

    // `oci_url` ends in `:$(VERSION)`, which is often a `$(shell …)`: expand it with the
    // version as a marker, so the tag can be recognised as "the version" either way.
    const VERSION_MARK: &str = "\u{1}VERSION\u{1}";
    let mut marked = vars.clone();
    marked.insert(
        "VERSION".to_owned(),
        MakeVar {
            value: VERSION_MARK.to_owned(),
            line: 0,
        },
    );
    let reference = marked
        .get("oci_url")
        .and_then(|v| expand(&v.value, &marked, 0))
        .map(|v| unquote(v.trim()).to_owned())
        .filter(|v| !v.is_empty());
    if let Some(reference) = reference {
        match split_reference(&reference)
            .filter(|(r, repo, _)| !r.contains(VERSION_MARK) && !repo.contains(VERSION_MARK))
        {
            Some((registry, repository, tag)) => {
                let version = out.version.as_deref();
                out.publish.insecure = is_loopback(registry);
                out.publish.registry = Some(registry.to_owned());
                out.publish.repository = Some(repository.to_owned());
                out.publish.tag = tag
                    .filter(|t| *t != VERSION_MARK && version != Some(*t))
                    .map(str::to_owned);
                if out.publish.insecure {
                    out.notes.push(format!(
                        "provider.mk pushes to {registry} with `--insecure` when `WASH_REG_USER` is unset: [publish] says `insecure = true`"
                    ));
                }
            }
            None => out.notes.push(
                "`oci_url` is not a `registry/repository:tag` reference: [publish] is left for you"
                    .to_owned(),
            ),
        }
    } else if vars.get("oci_url").is_some_and(|v| v.line > 0) {
        out.notes
            .push("`oci_url` is computed by make: [publish] is left for you".to_owned());
    }
    Ok(out)
}

/// The variables and `include` lines of a Makefile.
struct ParsedMake {
    vars: BTreeMap<String, MakeVar>,
    includes: Vec<String>,
}

/// Reads the variable assignments (`=`, `:=`, `::=`, `?=`, `+=`; `export`/`override`
/// prefixes; `\` continuations; `#` comments) and the `include` lines. Recipe lines (a
/// leading tab), rules and conditionals are skipped: every assignment counts, in order,
/// as make would see them with every condition true.
fn parse_make(text: &str) -> ParsedMake {
    let mut vars: BTreeMap<String, MakeVar> = BTreeMap::new();
    let mut includes = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((index, first)) = lines.next() {
        if first.starts_with('\t') {
            continue;
        }
        let mut logical = first.to_owned();
        while ends_with_continuation(&logical) {
            logical.pop();
            match lines.next() {
                Some((_, next)) => {
                    logical.push(' ');
                    logical.push_str(next.trim_start());
                }
                None => break,
            }
        }
        let line = strip_comment(&logical).trim();
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = ["include ", "-include ", "sinclude "]
            .iter()
            .find_map(|p| line.strip_prefix(p))
        {
            includes.push(rest.trim().to_owned());
            continue;
        }
        let Some((name, op, value)) = assignment(line) else {
            continue;
        };
        let value = value.trim().to_owned();
        let number = index + 1;
        match op {
            "?=" => {
                vars.entry(name).or_insert(MakeVar {
                    value,
                    line: number,
                });
            }
            "+=" => {
                let entry = vars.entry(name).or_insert(MakeVar {
                    value: String::new(),
                    line: number,
                });
                if !entry.value.is_empty() {
                    entry.value.push(' ');
                }
                entry.value.push_str(&value);
            }
            "!=" => {
                // The output of a shell command: unknown here.
                vars.insert(
                    name,
                    MakeVar {
                        value: format!("$(shell {value})"),
                        line: number,
                    },
                );
            }
            _ => {
                vars.insert(
                    name,
                    MakeVar {
                        value,
                        line: number,
                    },
                );
            }
        }
    }
    ParsedMake { vars, includes }
}

fn ends_with_continuation(line: &str) -> bool {
    line.bytes().rev().take_while(|b| *b == b'\\').count() % 2 == 1
}

/// `line` up to its first `#` that is not escaped as `\#`.
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && (i == 0 || bytes[i - 1] != b'\\') {
            return &line[..i];
        }
    }
    line
}

/// `NAME OP VALUE` of an assignment line, or `None` for anything else (rules, directives).
fn assignment(line: &str) -> Option<(String, &'static str, &str)> {
    let line = line
        .strip_prefix("export ")
        .or_else(|| line.strip_prefix("override "))
        .unwrap_or(line)
        .trim_start();
    let eq = line.find('=')?;
    let left = &line[..eq];
    let (name, op) = if let Some(n) = left.strip_suffix("::") {
        (n, ":=")
    } else if let Some(n) = left.strip_suffix(':') {
        (n, ":=")
    } else if let Some(n) = left.strip_suffix('?') {
        (n, "?=")
    } else if let Some(n) = left.strip_suffix('+') {
        (n, "+=")
    } else if let Some(n) = left.strip_suffix('!') {
        (n, "!=")
    } else {
        (left, "=")
    };
    let name = name.trim();
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
    valid.then(|| (name.to_owned(), op, &line[eq + 1..]))
}

/// At most this many variable references are followed, and at most this many bytes
/// produced, per value: a Makefile whose variables nest many references deep would
/// otherwise expand exponentially (found by fuzzing). No real provider value comes near.
const EXPAND_REFS: usize = 4096;
const EXPAND_BYTES: usize = 64 * 1024;

/// `value` with `$(VAR)`/`${VAR}` expanded from `vars` and `$$` as `$`; `None` when it
/// needs something make computes (`$(shell …)`, other functions, automatic variables) or
/// would expand past [`EXPAND_REFS`]/[`EXPAND_BYTES`].
fn expand(value: &str, vars: &BTreeMap<String, MakeVar>, depth: usize) -> Option<String> {
    let mut budget = EXPAND_REFS;
    let mut out = String::new();
    expand_into(value, vars, depth, &mut budget, &mut out)?;
    Some(out)
}

fn expand_into(
    value: &str,
    vars: &BTreeMap<String, MakeVar>,
    depth: usize,
    refs: &mut usize,
    out: &mut String,
) -> Option<()> {
    if depth > 16 {
        return None;
    }
    let push =
        |out: &mut String, s: &str| (out.len() + s.len() <= EXPAND_BYTES).then(|| out.push_str(s));
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        push(out, &rest[..i])?;
        let after = &rest[i + 1..];
        let (close, body_start) = match after.chars().next() {
            Some('$') => {
                push(out, "$")?;
                rest = &after[1..];
                continue;
            }
            Some('(') => (')', 1),
            Some('{') => ('}', 1),
            _ => return None,
        };
        let end = after.find(close)?;
        let name = &after[body_start..end];
        if name.contains(|c: char| c.is_whitespace() || c == ',' || c == '$' || c == ':') {
            return None;
        }
        *refs = refs.checked_sub(1)?;
        let var = vars.get(name)?;
        expand_into(&var.value, vars, depth + 1, refs, out)?;
        rest = &after[end + 1..];
    }
    push(out, rest)
}

/// `"x"` or `'x'` as `x`: provider.mk hands these values to the shell, which strips them.
fn unquote(value: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner;
        }
    }
    value
}

/// The byte span of line `line` (from 1) of `text`, `None` for line 0 (a default).
fn line_span(text: &str, line: usize) -> Option<std::ops::Range<usize>> {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.checked_sub(1)?)
        .map(str::len)
        .sum();
    let len = text[start..].find('\n').unwrap_or(text.len() - start);
    Some(start..start + len)
}

/// `registry/repository[:tag]`, the registry being the first component when it has a
/// `.` or `:` or is `localhost`, as docker reads references.
fn split_reference(reference: &str) -> Option<(&str, &str, Option<&str>)> {
    let (registry, rest) = reference.split_once('/')?;
    if !(registry.contains('.') || registry.contains(':') || registry == "localhost") {
        return None;
    }
    let (repository, tag) = match rest.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag)),
        _ => (rest, None),
    };
    (!repository.is_empty()).then_some((registry, repository, tag.filter(|t| !t.is_empty())))
}

fn is_loopback(registry: &str) -> bool {
    let host = registry
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(registry, |(h, _)| h);
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// The `[targets]` entry that builds `triple` for `label`: the label alone when the triple
/// is the label's default, else the label with a triple override.
fn entry_for(label: &str, triple: &str) -> TargetEntry {
    // `arm-linux` is written under its `armv7-linux` alias, as the template does.
    let key = if label == "arm-linux" {
        "armv7-linux"
    } else {
        label
    };
    let default = crate::target::triple_for_label(key);
    TargetEntry {
        key: key.to_owned(),
        triple: (default != Some(triple)).then(|| triple.to_owned()),
    }
}

fn label_of(entry: &TargetEntry) -> Option<String> {
    let triple = entry
        .triple
        .as_deref()
        .or_else(|| crate::target::triple_for_label(&entry.key))?;
    crate::target::label_for_triple(triple)
}

/// parbuild's default targets, with `label` built from `triple`.
fn with_override(label: &str, triple: &str) -> Vec<TargetEntry> {
    DEFAULT_TARGETS
        .iter()
        .map(|key| {
            let default = crate::target::triple_for_label(key).unwrap_or(key);
            let this = crate::target::label_for_triple(default);
            if this.as_deref() == Some(label) {
                entry_for(label, triple)
            } else {
                TargetEntry {
                    key: (*key).to_owned(),
                    triple: None,
                }
            }
        })
        .collect()
}

/// The targets `parbuild init` writes by default, as `[targets]` keys.
pub const DEFAULT_TARGETS: [&str; 5] = [
    "x86_64-linux",
    "aarch64-linux",
    "armv7-linux",
    "x86_64-macos",
    "aarch64-macos",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn toml(text: &str) -> Result<Imported, ManifestError> {
        import(
            SourceKind::WasmcloudToml,
            text,
            Path::new("repo/wasmcloud.toml"),
        )
    }

    fn make(text: &str) -> Result<Imported, ManifestError> {
        import(SourceKind::ProviderMk, text, Path::new("repo/Makefile"))
    }

    fn keys(targets: &[TargetEntry]) -> Vec<(String, Option<String>)> {
        targets
            .iter()
            .map(|t| (t.key.clone(), t.triple.clone()))
            .collect()
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

    /// The shape of wasmCloud's capability-providers Makefiles (httpclient's, 0.8).
    const HTTPCLIENT_MAKEFILE: &str = r#"# Makefile for wasmcloud:httpclient

PROJECT  = httpclient
CAPABILITY_ID = wasmcloud:httpclient
VENDOR   = "wasmCloud"
NAME     = "HTTP Client"
VERSION  = $(shell cargo metadata --no-deps --format-version 1 | jq -r '.packages[] .version' | head -1)
REVISION = 0
oci_url  = localhost:5000/v2/$(PROJECT):$(VERSION)

include ../build/makefiles/provider.mk

test::
	cargo clippy --all-targets --all-features
	cargo test -- --nocapture
"#;

    #[test]
    fn a_capability_providers_makefile() {
        let got = make(HTTPCLIENT_MAKEFILE).unwrap();
        assert_eq!(got.name.as_deref(), Some("HTTP Client"));
        assert_eq!(got.vendor.as_deref(), Some("wasmCloud"));
        assert_eq!(got.capid.as_deref(), Some("wasmcloud:httpclient"));
        assert_eq!(got.bin.as_deref(), Some("httpclient"));
        assert_eq!(got.revision, Some(0));
        assert_eq!(got.version, None, "VERSION is a $(shell …)");
        assert_eq!(got.targets, None);
        // oci_url ends in the version make computes: the tag is left to the version.
        assert_eq!(got.publish.registry.as_deref(), Some("localhost:5000"));
        assert_eq!(got.publish.repository.as_deref(), Some("v2/httpclient"));
        assert_eq!(got.publish.tag, None);
        assert!(got.publish.insecure);
        let notes = got.notes.join("\n");
        assert!(notes.contains("VERSION"), "{notes}");
    }

    #[test]
    fn makefile_syntax_assignments_continuations_and_defaults() {
        let got = make(
            "override PROJECT := fakepay # the binary\nVENDOR ?= acme\nVENDOR ?= ignored\nVERSION = 1.0.0\nREVISION=3\n\
par_targets = x86_64-unknown-linux-gnu \\\n\taarch64-unknown-linux-gnu \\\n   x86_64-pc-windows-gnu x86_64-pc-windows-msvc \\\n   armv7-unknown-linux-gnueabihf\n\
price = 5$$\n-include ../build/makefiles/provider.mk\nall: build\n\t@echo NAME = not-this\n",
        )
        .unwrap();
        assert_eq!(got.bin.as_deref(), Some("fakepay"));
        assert_eq!(got.name.as_deref(), Some("fakepay"), "NAME ?= $(PROJECT)");
        assert_eq!(got.vendor.as_deref(), Some("acme"));
        assert_eq!(got.version.as_deref(), Some("1.0.0"));
        assert_eq!(got.revision, Some(3));
        assert_eq!(
            keys(got.targets.as_ref().unwrap()),
            [
                ("x86_64-linux".into(), None),
                ("aarch64-linux".into(), None),
                ("x86_64-windows".into(), None),
                ("armv7-linux".into(), None),
            ]
        );
        assert!(
            got.notes
                .iter()
                .any(|n| n.contains("x86_64-pc-windows-msvc")),
            "{:?}",
            got.notes
        );
        // provider.mk's default oci_url: localhost:5000/v2/$(bin_name):$(VERSION).
        assert_eq!(got.publish.registry.as_deref(), Some("localhost:5000"));
        assert_eq!(got.publish.repository.as_deref(), Some("v2/fakepay"));
        assert_eq!(got.publish.tag, None, "the tag is the version");
        assert!(got.publish.insecure);
    }

    #[test]
    fn a_makefile_without_provider_mk_or_project_is_refused() {
        let plain = make("PROJECT = x\nall:\n\tcargo build\n").unwrap_err();
        assert!(plain.to_string().contains("provider.mk"), "{plain}");
        let nameless = make("include provider.mk\n").unwrap_err();
        assert!(nameless.to_string().contains("PROJECT"), "{nameless}");
        let bad_rev = make("PROJECT = x\nREVISION = two\ninclude provider.mk\n").unwrap_err();
        assert!(
            bad_rev.to_string().starts_with("repo/Makefile:2:1: "),
            "{bad_rev}"
        );
    }

    #[test]
    fn expansion_stops_at_what_make_computes() {
        let vars: BTreeMap<String, MakeVar> = [
            ("A", "a$(B)"),
            ("B", "${C}b"),
            ("C", "c"),
            ("S", "$(shell x)"),
            ("L", "$(L)"),
        ]
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_owned(),
                MakeVar {
                    value: v.to_owned(),
                    line: 1,
                },
            )
        })
        .collect();
        assert_eq!(expand("$(A)-$$", &vars, 0).as_deref(), Some("acb-$"));
        assert_eq!(expand("$(S)", &vars, 0), None);
        assert_eq!(expand("$(L)", &vars, 0), None, "a loop ends");
        assert_eq!(expand("$(UNSET)", &vars, 0), None);
        assert_eq!(expand("$@", &vars, 0), None);
        // Eight references per level, fifteen levels: 8^15 expansions unbounded (found by
        // fuzzing; without the budget this test does not end).
        let mut nested: BTreeMap<String, MakeVar> = BTreeMap::new();
        nested.insert(
            "V0".to_owned(),
            MakeVar {
                value: "x".repeat(100),
                line: 1,
            },
        );
        for level in 1..16 {
            nested.insert(
                format!("V{level}"),
                MakeVar {
                    value: format!("$(V{})", level - 1).repeat(8),
                    line: 1,
                },
            );
        }
        assert_eq!(expand("$(V15)", &nested, 0), None);
        assert_eq!(expand("$(V2)", &nested, 0).map(|v| v.len()), Some(6400));
    }

    #[test]
    fn references() {
        assert_eq!(
            split_reference("localhost:5000/v2/x:1.0"),
            Some(("localhost:5000", "v2/x", Some("1.0")))
        );
        assert_eq!(
            split_reference("ghcr.io/acme/x"),
            Some(("ghcr.io", "acme/x", None))
        );
        assert_eq!(split_reference("acme/x:1"), None, "no registry");
        assert!(is_loopback("127.0.0.1:5000") && is_loopback("localhost"));
        assert!(!is_loopback("ghcr.io"));
    }
}
