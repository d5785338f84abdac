//! Tidy checks on the tree itself, so ARCHITECTURE.md's invariants are checked, not hoped:
//! every Rust file says why it exists in a `//!` line at its top, no stub is left in the
//! product's code, the leaf modules (`archive`, `target`, `manifest`) import nothing of a
//! higher layer, and only the process module starts programs.

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
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue; // `my_crate::`, `$crate::`
        }
        let rest = &code[i + "crate::".len()..];
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
        if f.ends_with("src/process.rs") {
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
