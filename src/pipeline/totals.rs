//! How many crates a target's build compiles, so the progress lanes can show
//! "n/total crates": the packages reachable from the provider through normal and build
//! dependencies on that platform (`cargo metadata --filter-platform`). An estimate for
//! display only; nothing else depends on it.

use std::collections::{BTreeMap, BTreeSet};

use cargo_metadata::{DependencyKind, Metadata, PackageId};

use crate::process::Cmd;

/// The number of crates `package` pulls in, from the output of `metadata` (the plan's
/// `cargo metadata --filter-platform <triple>` of the target), or `None` if cargo cannot
/// say.
pub fn crate_count(metadata: &Cmd, package: &str) -> Option<u64> {
    let out = metadata.output_checked().ok()?;
    let metadata: Metadata = serde_json::from_slice(&out.stdout).ok()?;
    count(&metadata, package)
}

fn count(metadata: &Metadata, package: &str) -> Option<u64> {
    let root = metadata
        .workspace_packages()
        .into_iter()
        .find(|p| p.name.as_str() == package)?
        .id
        .clone();
    let resolve = metadata.resolve.as_ref()?;
    let deps: BTreeMap<&PackageId, Vec<&PackageId>> = resolve
        .nodes
        .iter()
        .map(|n| {
            let kept = n
                .deps
                .iter()
                .filter(|d| {
                    d.dep_kinds
                        .iter()
                        .any(|k| matches!(k.kind, DependencyKind::Normal | DependencyKind::Build))
                })
                .map(|d| &d.pkg)
                .collect();
            (&n.id, kept)
        })
        .collect();
    let mut seen: BTreeSet<&PackageId> = BTreeSet::new();
    let mut stack = vec![&root];
    while let Some(id) = stack.pop() {
        if seen.insert(id) {
            stack.extend(deps.get(id).into_iter().flatten().copied());
        }
    }
    u64::try_from(seen.len()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_this_workspaces_hello_provider() {
        let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/hello-provider/Cargo.toml");
        let metadata = Cmd::new(env!("CARGO"), env!("CARGO_MANIFEST_DIR"))
            .args(["metadata", "--format-version", "1", "--filter-platform"])
            .arg("aarch64-unknown-linux-gnu")
            .arg("--manifest-path")
            .arg(&manifest);
        let n = crate_count(&metadata, "hello-provider").expect("cargo metadata answers");
        // hello-provider, serde_json and its few dependencies.
        assert!((3..20).contains(&n), "{n}");
    }
}
