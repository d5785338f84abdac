//! Tidy checks on the tree itself, so ARCHITECTURE.md's invariants are checked, not hoped:
//! every Rust file says why it exists in a `//!` line at its top, no stub is left in the
//! product's code, the top-level modules form a DAG in the layers of [`LAYERS`] (and
//! `pipeline`'s submodules a DAG), the leaf modules (`archive`, `target`, `manifest`)
//! import nothing of a higher layer, and only the process module starts programs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "tests", "examples", "benches", "fuzz"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 30, "found the sources ({})", files.len());
    let missing: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .map(|f| f.strip_prefix(root).unwrap_or(f).display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a `//!` line saying why they exist: {missing:#?}"
    );
}

#[test]
fn no_stubs_in_the_product() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let stubs: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            ["todo!(", "unimplemented!(", "dbg!("]
                .iter()
                .any(|s| text.contains(s))
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(stubs.is_empty(), "{stubs:#?}");
}

/// The product's code in `path`: without comments, and without its `#[cfg(test)]` items
/// (tests may use anything); `None` for a test-only file.
fn product_code(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy();
    if name == "tests.rs" || name.ends_with("_tests.rs") {
        return None;
    }
    Some(without_tests(&std::fs::read_to_string(path).ok()?))
}

/// `text` without comment lines and `#[cfg(test)]` items.
fn without_tests(text: &str) -> String {
    let mut rest = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut code = String::new();
    while let Some(at) = rest.find("#[cfg(test)]") {
        code.push_str(&rest[..at]);
        let item = &rest[at + "#[cfg(test)]".len()..];
        rest = item[item_len(item)..].to_owned();
    }
    code.push_str(&rest);
    code
}

/// The length of the item that starts `code`: through its `;` (`mod tests;`) or through the
/// brace that closes its body (`mod tests { … }`, a `fn`), skipping strings and characters.
fn item_len(code: &str) -> usize {
    let bytes = code.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            // '{' or '\'' is a character; 'a (a lifetime) is not.
            b'\'' if bytes.get(i + 1) == Some(&b'\\') => {
                i += 2;
                while i < bytes.len() && bytes[i] != b'\'' {
                    i += 1;
                }
            }
            b'\'' if bytes.get(i + 2) == Some(&b'\'') => i += 2,
            b';' if depth == 0 => return i + 1,
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    code.len()
}

/// The first segment of every `crate::…` path in `code` (`crate::{a, b::c}` gives a, b).
fn crate_modules(code: &str) -> Vec<String> {
    path_heads(code, "crate::")
}

/// The first segment after every `prefix` (`crate::`, `super::`, …) in `code`, groups
/// included; a `prefix` inside a longer path or name (`my_crate::`, `$crate::`,
/// `super::super::`) is not one.
fn path_heads(code: &str, prefix: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    for (i, _) in code.match_indices(prefix) {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == ':') {
            continue;
        }
        let rest = &code[i + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && (c.is_alphanumeric() || c == '_') => {
                        out.push(ident(&group[j..]));
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            out.push(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty()); // `use super::*;`
    out
}

#[test]
fn leaf_modules_import_no_higher_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // A leaf, and the crate modules it may use (itself and lower leaves).
    let rules: [(&str, &[&str]); 3] = [
        ("src/target.rs", &["target"]),
        ("src/archive", &["archive"]),
        ("src/manifest", &["manifest", "archive", "target"]),
    ];
    let mut wrong = Vec::new();
    for (leaf, allowed) in rules {
        let path = root.join(leaf);
        let mut files = Vec::new();
        if path.is_dir() {
            rust_files(&path, &mut files);
        } else {
            files.push(path);
        }
        assert!(!files.is_empty(), "{leaf} has no files");
        for f in files {
            let Some(code) = product_code(&f) else {
                continue;
            };
            for m in crate_modules(&code) {
                if !allowed.contains(&m.as_str()) {
                    wrong.push(format!(
                        "{} uses crate::{m}",
                        f.strip_prefix(root).unwrap().display()
                    ));
                }
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "leaf modules must not reach up a layer (ARCHITECTURE.md): {wrong:#?}"
    );
}

#[test]
fn only_the_process_module_starts_programs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let starts = [
        "process::Command",
        "Command::new(",
        "duct::",
        "cmd!(",
        "MetadataCommand::new",
    ];
    let mut wrong = Vec::new();
    for f in &files {
        if f.ends_with("src/process.rs") || f.starts_with(root.join("src/process")) {
            continue;
        }
        let Some(code) = product_code(f) else {
            continue;
        };
        for s in starts.iter().filter(|s| code.contains(*s)) {
            wrong.push(format!("{}: {s}", f.strip_prefix(root).unwrap().display()));
        }
    }
    assert!(
        wrong.is_empty(),
        "only src/process.rs starts programs (through process::Cmd): {wrong:#?}"
    );
}

#[test]
fn product_code_drops_only_the_test_items() {
    let code = without_tests(
        "use crate::a;\n#[cfg(test)]\n#[path = \"x_tests.rs\"]\nmod tests;\nuse crate::b;\n\
         #[cfg(test)]\nfn helper(x: bool) -> char { if x { '{' } else { '\\'' } }\nuse crate::c;\n\
         #[cfg(test)]\nmod tests {\n    use crate::d;\n    const S: &str = \"}\";\n}\n\
         // use crate::e;\nuse crate::f;",
    );
    assert_eq!(crate_modules(&code), ["a", "b", "c", "f"]);
}

#[test]
fn the_import_scanner_sees_every_form() {
    assert_eq!(
        crate_modules(
            "use crate::a::B;\nuse crate::{c, d::{e, f}, g};\nlet x = crate::h::i();\nmy_crate::j; $crate::k"
        ),
        ["a", "c", "d", "g", "h"]
    );
}

/// The layers of the crate's top-level modules, lowest first. A module may use only
/// itself and modules of a strictly lower layer (ARCHITECTURE.md, issue 12), so the
/// module graph is a DAG and a layer can be read, tested and replaced without the ones
/// above it. Types a lower layer needs (its options, its results) are defined in that
/// layer, and the layer above converts into them (`cli.rs` turns `SignArgs` into
/// `keystore::KeyFlags`, `--color` into `progress::ColorChoice`).
const LAYERS: &[&[&str]] = &[
    // The formats: the label table and the archive, no other module of the crate.
    &["target", "archive"],
    // `par.toml` (on the formats only) and the environment snapshot (on nothing).
    &["manifest", "env"],
    // The one way to start a program.
    &["process"],
    // One job each, none using another: cargo metadata, keys, the part format,
    // registries, macOS stubs, and the one probe of the machine.
    &[
        "metadata", "keystore", "part", "registry", "stubs", "machine",
    ],
    // What a target lacks, from the machine's facts, and how to install it.
    &["tools"],
    // How each backend builds a target: descriptions only.
    &["backend"],
    // Manifest + package + machine → the plan.
    &["plan"],
    // The line writer: above everything that must never print (backends, plan, formats).
    &["progress"],
    // Runs a plan and shows it.
    &["pipeline"],
    // The edge: clap's types (converted into each lower layer's own options), and
    // `error`, which wraps every module's error to decide exit codes; nothing below the
    // commands may import either.
    &["cli", "error"],
    // One file per subcommand: glue. Only the crate root (`lib.rs`) is above it.
    &["commands"],
];

/// Edges (from, to) that break [`LAYERS`] today and are being removed, each with a comment
/// naming its issue; an edge listed here that is no longer in the code fails the test, so
/// the list only shrinks. Empty: when issue 12 was split, `plan`, `backend` and `tools`
/// (left to the `machine` rewrite) already fit the table.
const KNOWN_EXCEPTIONS: &[(&str, &str)] = &[];

/// The crate's top-level modules, as `lib.rs` declares them.
fn top_level_modules(root: &Path) -> Vec<String> {
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    lib.lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("pub ").unwrap_or(l);
            l.strip_prefix("mod ")?.strip_suffix(';').map(str::to_owned)
        })
        .collect()
}

/// The items `lib.rs` re-exports, each with the module it comes from
/// (`pub use error::{Error, Result};` gives Error → error, Result → error).
fn root_reexports(root: &Path) -> BTreeMap<String, String> {
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    let mut out = BTreeMap::new();
    for l in lib.lines() {
        let Some(path) = l.trim().strip_prefix("pub use ") else {
            continue;
        };
        let path = path.trim_end_matches(';');
        let Some((module, items)) = path.split_once("::") else {
            continue;
        };
        let items = items.trim_start_matches('{').trim_end_matches('}');
        for item in items.split(',') {
            let name = item.rsplit([':', ' ']).next().unwrap_or("").trim();
            if !name.is_empty() {
                out.insert(name.to_owned(), module.to_owned());
            }
        }
    }
    out
}

/// from → to → the files of `from` that use `to`.
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// A cycle in `graph` (from → the modules it uses), spelled as the path around it
/// (`[a, b, a]`), or `None` when it is a DAG.
fn find_cycle<V>(graph: &BTreeMap<String, BTreeMap<String, V>>) -> Option<Vec<String>> {
    fn visit<'a, V>(
        node: &'a str,
        graph: &'a BTreeMap<String, BTreeMap<String, V>>,
        done: &mut BTreeSet<&'a str>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = path[at..].iter().map(|n| (*n).to_owned()).collect();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for next in graph.get(node).into_iter().flat_map(BTreeMap::keys) {
            if let Some(cycle) = visit(next, graph, done, path) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}

/// `cycle` with the files behind each of its edges, for a failure message.
fn spell_cycle(graph: &Graph, cycle: &[String]) -> String {
    let mut out = cycle.join(" → ");
    for pair in cycle.windows(2) {
        let files = &graph[&pair[0]][&pair[1]];
        out.push_str(&format!("\n  {} → {}: {files:?}", pair[0], pair[1]));
    }
    out
}

/// The graph of the crate's top-level modules, from their product code. The crate root's
/// re-exports (`crate::Error`) count as the module they come from.
fn module_graph(root: &Path, modules: &[String]) -> Graph {
    let reexports = root_reexports(root);
    let mut graph = Graph::new();
    let mut unknown = Vec::new();
    for m in modules {
        graph.entry(m.clone()).or_default();
        let mut files = Vec::new();
        rust_files(&root.join("src").join(m), &mut files);
        files.push(root.join("src").join(format!("{m}.rs")));
        for f in files {
            let Some(code) = product_code(&f) else {
                continue;
            };
            let shown = f.strip_prefix(root).unwrap().display().to_string();
            for head in crate_modules(&code) {
                let to = if modules.contains(&head) {
                    head
                } else if let Some(module) = reexports.get(&head) {
                    module.clone()
                } else {
                    unknown.push(format!("{shown}: crate::{head}"));
                    continue;
                };
                if &to != m {
                    let uses = graph.entry(m.clone()).or_default();
                    uses.entry(to).or_default().insert(shown.clone());
                }
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "paths into the crate root that are neither a module nor a re-export of lib.rs: {unknown:#?}"
    );
    graph
}

#[test]
fn the_module_graph_is_a_dag_in_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let modules = top_level_modules(root);
    assert!(modules.len() > 10, "found the modules ({modules:?})");
    let unlisted: Vec<&String> = modules
        .iter()
        .filter(|m| !LAYERS.iter().any(|l| l.contains(&m.as_str())))
        .collect();
    assert!(
        unlisted.is_empty(),
        "top-level modules missing from LAYERS in tests/tidy.rs (decide their layer): {unlisted:?}"
    );
    let graph = module_graph(root, &modules);
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "the top-level modules import each other in a circle: {}",
            spell_cycle(&graph, &cycle)
        );
    }
    let layer = |m: &str| LAYERS.iter().position(|l| l.contains(&m)).unwrap_or(0);
    let mut wrong = Vec::new();
    for (from, uses) in &graph {
        for (to, files) in uses {
            let exception = KNOWN_EXCEPTIONS.contains(&(from.as_str(), to.as_str()));
            if layer(to) >= layer(from) && !exception {
                wrong.push(format!(
                    "{from} (layer {}) uses {to} (layer {}) in {files:?}",
                    layer(from),
                    layer(to)
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "a module may use only modules of a lower layer (LAYERS in tests/tidy.rs): {wrong:#?}"
    );
    let stale: Vec<_> = KNOWN_EXCEPTIONS
        .iter()
        .filter(|(from, to)| !graph.get(*from).is_some_and(|u| u.contains_key(*to)))
        .collect();
    assert!(
        stale.is_empty(),
        "KNOWN_EXCEPTIONS lists edges that are gone (remove them): {stale:?}"
    );
}

/// The graph of `src/<module>/`'s own submodules: a file uses a sibling through `super::`
/// or `crate::<module>::`, and `mod.rs` (the node `<module>`) uses a submodule through
/// `self::` or a bare `sub::` path (`pub use sub::Item`).
fn submodule_graph(root: &Path, module: &str) -> Graph {
    let dir = root.join("src").join(module);
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    let node = |f: &Path| -> String {
        let rel = f.strip_prefix(&dir).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        match first.strip_suffix(".rs") {
            Some("mod") => module.to_owned(),
            Some(stem) => stem.to_owned(),
            None => first.into_owned(),
        }
    };
    let subs: BTreeSet<String> = files.iter().map(|f| node(f)).collect();
    let mut graph = Graph::new();
    for f in &files {
        let Some(code) = product_code(f) else {
            continue;
        };
        let from = node(f);
        let mut heads = path_heads(&code, &format!("crate::{module}::"));
        if from == module {
            heads.extend(path_heads(&code, "self::"));
            heads.extend(
                subs.iter()
                    .filter(|s| !path_heads(&code, s).is_empty())
                    .cloned(),
            );
        } else {
            heads.extend(path_heads(&code, "super::"));
        }
        for head in heads {
            // An item of `mod.rs` (`super::BuildError`) is the module's own node.
            let to = if subs.contains(&head) {
                head
            } else {
                module.to_owned()
            };
            if to != from {
                let shown = f.strip_prefix(root).unwrap().display().to_string();
                graph
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_default()
                    .insert(shown);
            }
        }
    }
    graph
}

#[test]
fn the_pipeline_submodules_form_a_dag() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let graph = submodule_graph(root, "pipeline");
    assert!(
        graph.get("runner").is_some_and(|u| u.contains_key("ui")),
        "the scanner sees runner use ui: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "pipeline's submodules import each other in a circle: {}",
            spell_cycle(&graph, &cycle)
        );
    }
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeMap<String, ()>> = BTreeMap::new();
        for (from, to) in edges {
            g.entry((*from).to_owned()).or_default();
            g.entry((*to).to_owned()).or_default();
            g.get_mut(*from).unwrap().insert((*to).to_owned(), ());
        }
        g
    };
    let diamond = [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")];
    assert_eq!(find_cycle(&graph(&diamond)), None);
    let mut circle = diamond.to_vec();
    circle.extend([("d", "e"), ("e", "c")]);
    assert_eq!(
        find_cycle(&graph(&circle)),
        Some(vec!["d".into(), "e".into(), "c".into(), "d".into()])
    );
    assert_eq!(
        find_cycle(&graph(&[("x", "x")])),
        Some(vec!["x".into(), "x".into()])
    );
    // The same scanner as the real check: `super::` heads, groups included.
    assert_eq!(
        path_heads(
            "use super::{ui::Ui, BuildError};\nuse super::*;\nsuper::super::x;",
            "super::"
        ),
        ["ui", "BuildError", "super"]
    );
}

/// `plan` and `backend` are pure: the plan is a function of the manifest, the probed
/// machine and the options (ARCHITECTURE.md), so neither runs a command nor looks at the
/// file system; `machine` does that once, before.
#[test]
fn plan_and_backends_start_nothing_and_read_no_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let effects = [
        ".read_stdout(",
        ".output_checked(",
        ".spawn(",
        ".status(",
        "std::fs",
        "File::",
        ".exists()",
        ".is_dir()",
        ".is_file()",
        ".metadata()",
        "read_dir(",
        "std::thread::available_parallelism",
        "std::process::id",
        "nix::",
    ];
    let mut files = Vec::new();
    rust_files(&root.join("src/plan"), &mut files);
    rust_files(&root.join("src/backend"), &mut files);
    assert!(files.len() >= 6, "{files:?}");
    let mut wrong = Vec::new();
    for f in &files {
        let Some(code) = product_code(f) else {
            continue;
        };
        for e in effects.iter().filter(|e| code.contains(*e)) {
            wrong.push(format!("{}: {e}", f.strip_prefix(root).unwrap().display()));
        }
    }
    assert!(
        wrong.is_empty(),
        "plan and backends decide from data; src/machine.rs probes: {wrong:#?}"
    );
}
