//! A Makefile built on wasmCloud's `provider.mk`, read into [`Imported`]: which variables
//! name the provider (`PROJECT`, `NAME`, `VENDOR`, `CAPABILITY_ID`, `REVISION`,
//! `par_targets`), provider.mk's defaults for the rest, and where its `oci_url` pushes.
//! The Makefile syntax itself is [`super::makefile`]'s.

use std::path::Path;

use super::makefile::{MakeVar, expand, parse_make, unquote};
use super::{Imported, TargetEntry, entry_for, label_of};
use crate::manifest::diagnostic::{Location, ManifestError};

/// What wasmCloud's `provider.mk` sets when the including Makefile does not (its `?=`
/// lines), as far as they matter for the archive.
const PROVIDER_MK_DEFAULTS: [(&str, &str); 4] = [
    ("bin_name", "$(PROJECT)"),
    ("NAME", "$(PROJECT)"),
    ("oci_url_base", "localhost:5000/v2"),
    ("oci_url", "$(oci_url_base)/$(bin_name):$(VERSION)"),
];

/// Reads `text`, the contents of `path`, as a Makefile that includes provider.mk.
pub(super) fn read(text: &str, path: &Path) -> Result<Imported, ManifestError> {
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

#[cfg(test)]
mod tests {
    use super::super::{SourceKind, import, target_keys as keys};
    use super::*;

    fn make(text: &str) -> Result<Imported, ManifestError> {
        import(SourceKind::ProviderMk, text, Path::new("repo/Makefile"))
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
