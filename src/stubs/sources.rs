//! Where the Rust code linked into a provider lives: the source directory of every
//! package's library in a `cargo metadata` resolve graph, with the features enabled on it.
//!
//! Pure: the caller runs `cargo metadata --format-version 1 --filter-platform <apple
//! triple>` (with dependencies) and hands the result over. Only what is linked into the
//! binary counts: the packages reached from the root (else from the workspace members)
//! through normal dependencies, not through build or dev dependencies and not into
//! proc-macros, which run on the build machine (`syn`, `cc` and the like are left out).
//! Of each, its library target; of a workspace member also its bins (a provider that is a
//! bin may declare `extern` items itself). Without a resolve graph, every package.

use std::collections::BTreeSet;
use std::path::PathBuf;

use cargo_metadata::{DependencyKind, Metadata, Node, Package, PackageId, Resolve, TargetKind};

/// One directory of Rust sources to scan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceDir {
    /// `name version` of its package.
    pub package: String,
    /// The parent directory of the target's `src_path`.
    pub dir: PathBuf,
    /// The features enabled on the package (`None` without a resolve graph).
    pub features: Option<BTreeSet<String>>,
}

/// The source directories of the packages linked into the binary, sorted by directory,
/// each once.
pub fn source_dirs(metadata: &Metadata) -> Vec<SourceDir> {
    let packages: Vec<(&Package, Option<BTreeSet<String>>)> = match &metadata.resolve {
        Some(resolve) => linked_nodes(metadata, resolve)
            .into_iter()
            .filter_map(|node| {
                let package = package(metadata, &node.id)?;
                let features = node.features.iter().map(|f| f.to_string()).collect();
                Some((package, Some(features)))
            })
            .collect(),
        None => metadata.packages.iter().map(|p| (p, None)).collect(),
    };
    let mut out: Vec<SourceDir> = Vec::new();
    for (package, features) in packages {
        let member = metadata.workspace_members.contains(&package.id);
        for target in &package.targets {
            if !linked(&target.kind, member) {
                continue;
            }
            let Some(dir) = target.src_path.parent() else {
                continue;
            };
            let dir = dir.as_std_path().to_path_buf();
            if out.iter().any(|s| s.dir == dir) {
                continue;
            }
            out.push(SourceDir {
                package: format!("{} {}", package.name, package.version),
                dir,
                features: features.clone(),
            });
        }
    }
    out.sort_by(|a, b| a.dir.cmp(&b.dir));
    out
}

fn package<'m>(metadata: &'m Metadata, id: &PackageId) -> Option<&'m Package> {
    metadata.packages.iter().find(|p| p.id == *id)
}

/// The nodes reached from the root (or the workspace members) through normal
/// dependencies, proc-macros excluded.
fn linked_nodes<'m>(metadata: &'m Metadata, resolve: &'m Resolve) -> Vec<&'m Node> {
    let node = |id: &PackageId| resolve.nodes.iter().find(|n| n.id == *id);
    let proc_macro = |id: &PackageId| {
        package(metadata, id).is_some_and(|p| {
            p.targets
                .iter()
                .any(|t| t.kind.contains(&TargetKind::ProcMacro))
        })
    };
    let mut todo: Vec<&PackageId> = match &resolve.root {
        Some(root) => vec![root],
        None => metadata.workspace_members.iter().collect(),
    };
    let mut seen: BTreeSet<&PackageId> = BTreeSet::new();
    let mut out = Vec::new();
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        let Some(n) = node(id) else { continue };
        out.push(n);
        for dep in &n.deps {
            let normal = dep.dep_kinds.is_empty()
                || dep
                    .dep_kinds
                    .iter()
                    .any(|k| k.kind == DependencyKind::Normal);
            if normal && !proc_macro(&dep.pkg) {
                todo.push(&dep.pkg);
            }
        }
    }
    out
}

/// Whether a target of these kinds is linked into the provider.
fn linked(kinds: &[TargetKind], member: bool) -> bool {
    let library = kinds.iter().any(|k| {
        matches!(
            k,
            TargetKind::Lib
                | TargetKind::RLib
                | TargetKind::DyLib
                | TargetKind::CDyLib
                | TargetKind::StaticLib
        )
    });
    let host_only = kinds
        .iter()
        .any(|k| matches!(k, TargetKind::ProcMacro | TargetKind::CustomBuild));
    (library || (member && kinds.contains(&TargetKind::Bin))) && !host_only
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(json: serde_json::Value) -> Metadata {
        serde_json::from_value(json).unwrap()
    }

    fn target(name: &str, kind: &str, src: &str) -> serde_json::Value {
        serde_json::json!({
            "name": name, "kind": [kind], "crate_types": [kind], "src_path": src,
            "edition": "2021", "doc": true, "doctest": true, "test": true,
            "required-features": []
        })
    }

    fn package(name: &str, targets: Vec<serde_json::Value>) -> serde_json::Value {
        serde_json::json!({
            "name": name, "version": "1.0.0", "id": format!("{name} 1.0.0"),
            "source": null, "dependencies": [], "targets": targets, "features": {},
            "manifest_path": format!("/reg/{name}/Cargo.toml"), "authors": [],
            "categories": [], "keywords": [], "edition": "2021", "metadata": null,
            "publish": null, "links": null, "default_run": null, "rust_version": null,
            "license": null, "license_file": null, "description": null, "readme": null,
            "repository": null, "homepage": null, "documentation": null
        })
    }

    fn dep(name: &str, kind: &str) -> serde_json::Value {
        serde_json::json!({
            "name": name.replace('-', "_"), "pkg": format!("{name} 1.0.0"),
            "dep_kinds": [{"kind": if kind == "normal" { serde_json::Value::Null } else { kind.into() }, "target": null}]
        })
    }

    fn node(name: &str, deps: Vec<serde_json::Value>, features: &[&str]) -> serde_json::Value {
        serde_json::json!({
            "id": format!("{name} 1.0.0"), "deps": deps, "dependencies": [], "features": features
        })
    }

    fn lib(name: &str) -> serde_json::Value {
        package(
            name,
            vec![target(name, "lib", &format!("/reg/{name}/src/lib.rs"))],
        )
    }

    #[test]
    fn libraries_linked_into_the_binary_only() {
        let mut json = serde_json::json!({
            "packages": [
                package("provider", vec![
                    target("provider", "bin", "/ws/src/main.rs"),
                    target("it", "test", "/ws/tests/it.rs"),
                ]),
                package("security-framework-sys", vec![
                    target("security_framework_sys", "lib", "/reg/sfs/src/lib.rs"),
                    target("build-script-build", "custom-build", "/reg/sfs/build.rs"),
                ]),
                package("serde_derive", vec![
                    target("serde_derive", "proc-macro", "/reg/serde_derive/src/lib.rs"),
                ]),
                package("odd", vec![target("odd", "rlib", "/reg/odd/lib.rs")]),
                lib("syn"), lib("cc"), lib("dev-only"), lib("both"), lib("not-resolved"),
            ],
            "workspace_members": ["provider 1.0.0"],
            "workspace_default_members": ["provider 1.0.0"],
            "resolve": {
                "nodes": [
                    node("provider", vec![
                        dep("security-framework-sys", "normal"),
                        dep("serde_derive", "normal"),
                        dep("cc", "build"),
                        dep("dev-only", "dev"),
                    ], &[]),
                    node("security-framework-sys", vec![dep("odd", "normal"), dep("both", "normal")], &["default", "OSX_10_13"]),
                    node("serde_derive", vec![dep("syn", "normal")], &[]),
                    node("syn", vec![], &[]),
                    node("cc", vec![dep("both", "normal")], &[]),
                    node("dev-only", vec![], &[]),
                    node("both", vec![], &[]),
                    node("odd", vec![], &[]),
                ],
                "root": "provider 1.0.0"
            },
            "target_directory": "/ws/target",
            "version": 1,
            "workspace_root": "/ws",
            "metadata": null
        });
        let dirs = source_dirs(&metadata(json.clone()));
        let got: Vec<(&str, &str)> = dirs
            .iter()
            .map(|d| (d.package.as_str(), d.dir.to_str().unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("both 1.0.0", "/reg/both/src"),
                ("odd 1.0.0", "/reg/odd"),
                ("security-framework-sys 1.0.0", "/reg/sfs/src"),
                ("provider 1.0.0", "/ws/src"),
            ]
        );
        assert_eq!(
            dirs[2].features,
            Some(BTreeSet::from([
                "OSX_10_13".to_owned(),
                "default".to_owned()
            ]))
        );
        // No root (a virtual workspace): from the members, the same.
        json["resolve"]["root"] = serde_json::Value::Null;
        assert_eq!(source_dirs(&metadata(json.clone())), dirs);
        // No resolve graph at all: every package's library, features unknown.
        json["resolve"] = serde_json::Value::Null;
        let all = source_dirs(&metadata(json));
        // (not the proc-macro)
        assert_eq!(all.len(), 8, "{all:?}");
        assert!(all.iter().all(|d| d.features.is_none()));
    }
}
