//! Which framework's stub each declared C symbol goes into: the user's table first, then
//! parbuild's framework rules; a symbol neither places is left out of every stub.
//!
//! Pure. A two-level namespace binary binds each symbol to one library, so a symbol in the
//! wrong stub links and then fails on a Mac at load time: the block a symbol is declared
//! in never decides (security-framework declares `CFErrorCreate` next to Security's
//! functions; it is CoreFoundation's). A symbol no rule places but whose block links a
//! framework is reported as unattributed (the user can place it in `par.toml`); one whose
//! block links none is libSystem's or another system library's and is left to zig.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::decls::Declaration;
use super::tbd::Stub;
use crate::archive::frameworks;

/// A declaration and the file it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The source file.
    pub file: PathBuf,
    /// What it declares.
    pub declaration: Declaration,
}

/// A symbol declared in a block that links a framework, which no rule and no user entry
/// places: it is in no stub.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unattributed {
    /// The C name.
    pub symbol: String,
    /// The framework its block links.
    pub framework: String,
    /// The first file (in scan order) declaring it.
    pub file: PathBuf,
}

/// The stubs to write and what was left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    /// One stub per framework with rules, plus one per framework of the user's table;
    /// sorted by name.
    pub stubs: Vec<Stub>,
    /// Symbols nobody places, sorted by symbol, each once per framework.
    pub unattributed: Vec<Unattributed>,
    /// How many distinct names were left to libSystem (no rule, no framework link).
    pub left_to_system: usize,
}

/// Places every declared name. `extra` is the user's table: framework → C symbols.
pub fn attribute(declarations: &[Located], extra: &BTreeMap<String, Vec<String>>) -> Attribution {
    let mut stubs: BTreeMap<String, Stub> = frameworks::with_rules()
        .map(|f| f.name.to_owned())
        .chain(extra.keys().cloned())
        .map(|name| (name.clone(), Stub::new(&name)))
        .collect();
    let mut by_user: BTreeSet<&str> = BTreeSet::new();
    for (framework, symbols) in extra {
        let stub = stubs
            .get_mut(framework)
            .expect("every user framework has a stub");
        for symbol in symbols {
            stub.symbols.insert(symbol.clone());
            by_user.insert(symbol);
        }
    }
    let mut unattributed: BTreeMap<(String, String), PathBuf> = BTreeMap::new();
    let mut system: BTreeSet<&str> = BTreeSet::new();
    for located in declarations {
        let d = &located.declaration;
        let mut placed = false;
        let mut unplaced = Vec::new();
        for name in &d.names {
            if by_user.contains(name.as_str()) {
                placed = true;
            } else if let Some(f) = frameworks::attribute(name) {
                stubs
                    .get_mut(f.name)
                    .expect("a framework with rules has a stub")
                    .symbols
                    .insert(name.clone());
                placed = true;
            } else {
                unplaced.push(name);
            }
        }
        match d.frameworks.first() {
            // A renamed item's other name (its Rust identifier, usually) is not
            // reported when one of its names was placed.
            Some(framework) if !placed => {
                for name in unplaced {
                    unattributed
                        .entry((name.clone(), framework.clone()))
                        .or_insert_with(|| located.file.clone());
                }
            }
            Some(_) => {}
            None => system.extend(unplaced.iter().map(|n| n.as_str())),
        }
    }
    Attribution {
        stubs: stubs.into_values().collect(),
        unattributed: unattributed
            .into_iter()
            .map(|((symbol, framework), file)| Unattributed {
                symbol,
                framework,
                file,
            })
            .collect(),
        left_to_system: system.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::decls::Origin;
    use super::*;

    fn decl(file: &str, names: &[&str], frameworks: &[&str]) -> Located {
        Located {
            file: PathBuf::from(file),
            declaration: Declaration {
                names: names.iter().map(|s| (*s).to_owned()).collect(),
                frameworks: frameworks.iter().map(|s| (*s).to_owned()).collect(),
                origin: Origin::Fn,
            },
        }
    }

    fn symbols<'a>(a: &'a Attribution, framework: &str) -> Vec<&'a str> {
        a.stubs
            .iter()
            .find(|s| s.name == framework)
            .unwrap_or_else(|| panic!("no stub for {framework}"))
            .symbols
            .iter()
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn rules_beat_the_block_and_the_user_beats_the_rules() {
        let decls = [
            // security-framework declares CFErrorCreate in a Security-linked block.
            decl("sf/lib.rs", &["CFErrorCreate"], &["Security"]),
            decl(
                "sfs/certificate.rs",
                &[
                    "SecCertificateCopyPublicKey",
                    "SecCertificateCopyPublicKey$LEGACYMAC",
                ],
                &["Security"],
            ),
            decl("cfs/base.rs", &["CFRelease"], &[]),
            decl("scs/dynamic_store.rs", &["SCDynamicStoreCopyProxies"], &[]),
            // A rule says CoreFoundation; the user says CFNetwork: the user wins.
            decl("x/lib.rs", &["CFUserPlaced"], &["CoreFoundation"]),
        ];
        let extra = BTreeMap::from([(
            "CFNetwork".to_owned(),
            vec!["CFUserPlaced".to_owned(), "NotDeclaredAnywhere".to_owned()],
        )]);
        let a = attribute(&decls, &extra);
        assert_eq!(
            symbols(&a, "CoreFoundation"),
            ["CFErrorCreate", "CFRelease"]
        );
        assert_eq!(
            symbols(&a, "Security"),
            [
                "SecCertificateCopyPublicKey",
                "SecCertificateCopyPublicKey$LEGACYMAC"
            ]
        );
        assert_eq!(
            symbols(&a, "SystemConfiguration"),
            ["SCDynamicStoreCopyProxies"]
        );
        assert_eq!(
            symbols(&a, "CFNetwork"),
            ["CFUserPlaced", "NotDeclaredAnywhere"]
        );
        assert!(a.unattributed.is_empty(), "{:?}", a.unattributed);
        // Every framework with rules has a stub, even an empty one, sorted by name.
        let names: Vec<&str> = a.stubs.iter().map(|s| s.name.as_str()).collect();
        let mut expected: Vec<&str> = frameworks::with_rules().map(|f| f.name).collect();
        expected.sort_unstable();
        assert_eq!(names, expected);
        assert!(symbols(&a, "IOKit").is_empty());
    }

    #[test]
    fn unplaced_symbols_of_framework_blocks_are_reported_the_rest_left_to_libsystem() {
        let decls = [
            decl("sf/auth.rs", &["SMJobBless"], &["ServiceManagement"]),
            decl("other/auth.rs", &["SMJobBless"], &["ServiceManagement"]),
            decl("libc/unix.rs", &["malloc"], &[]),
            decl("libc/apple.rs", &["malloc"], &[]),
            decl("libc/apple.rs", &["getentropy"], &[]),
            // A renamed item: its identifier has no rule, its link name has.
            decl("x/lib.rs", &["release", "CFRelease"], &["CoreFoundation"]),
        ];
        let extra = BTreeMap::from([("Mine".to_owned(), vec!["MyThing".to_owned()])]);
        let a = attribute(&decls, &extra);
        assert_eq!(
            a.unattributed,
            vec![Unattributed {
                symbol: "SMJobBless".to_owned(),
                framework: "ServiceManagement".to_owned(),
                file: PathBuf::from("sf/auth.rs"),
            }]
        );
        assert_eq!(a.left_to_system, 2);
        assert_eq!(symbols(&a, "CoreFoundation"), ["CFRelease"]);
        // A user framework outside the table gets a stub too.
        assert_eq!(symbols(&a, "Mine"), ["MyThing"]);
        // The user's table places a symbol the rules cannot.
        let extra = BTreeMap::from([(
            "ServiceManagement".to_owned(),
            vec!["SMJobBless".to_owned()],
        )]);
        let a = attribute(&decls, &extra);
        assert!(a.unattributed.is_empty());
        assert_eq!(symbols(&a, "ServiceManagement"), ["SMJobBless"]);
    }
}
