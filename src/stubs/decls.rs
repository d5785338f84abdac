//! Which C symbols a Rust source file declares in its `extern` blocks, and which Apple
//! frameworks those blocks link: the raw material of the framework stubs, read with `syn`.
//!
//! [`parse`] is pure (file text in, declarations out); [`rust_files`] lists the `.rs` files
//! of a directory to feed it. A foreign item's names are its identifier plus every
//! `link_name` in its attributes, inside `cfg_attr(…)` too (`SecCertificateCopyPublicKey`
//! and, for aarch64, `SecCertificateCopyPublicKey$LEGACYMAC`): exporting a name nobody
//! references costs nothing, a missing one breaks the link. `cfg` predicates are evaluated
//! for an Apple target of either CPU (`target_os = "macos"` holds, `windows` and `test` do
//! not, `target_arch` is unknown) and against the package's enabled features when known;
//! an item is dropped only when its predicate is certainly false.
//!
//! Also read: `extern` blocks in inline modules, in function, method and trait-default
//! bodies, and in macro invocations whose body parses as items (`cfg_if! { … }`); and the
//! arguments of a macro defined in the same file whose body declares an `extern` block
//! (security-framework-sys declares `kSecKeyAlgorithm…` statics through `names! { … }`):
//! every identifier passed to it is a candidate name, placed by the framework rules only.
//!
//! One file because all of it is one walk of a `syn` tree by one `Walker`, run twice (the
//! `extern`-declaring macros first, then the declarations), evaluating `cfg` on the way
//! down.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use syn::buffer::{Cursor, TokenBuffer};
use syn::ext::IdentExt as _;
use syn::parse::{ParseStream, Parser as _};
use syn::punctuated::Punctuated;
use syn::{
    Attribute, Block, Expr, ExprLit, File, ForeignItem, Ident, ImplItem, Item, ItemForeignMod, Lit,
    Macro, Meta, Stmt, Token, TraitItem,
};

/// One foreign item (or one candidate name from an `extern`-declaring macro).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// Its C names: the identifier, then every `link_name` (no Mach-O underscore).
    pub names: Vec<String>,
    /// The frameworks its block links (`#[link(name = "X", kind = "framework")]`).
    pub frameworks: Vec<String>,
    /// What declared it.
    pub origin: Origin,
}

/// What kind of declaration a [`Declaration`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A foreign `fn`.
    Fn,
    /// A foreign `static`.
    Static,
    /// An identifier passed to a macro whose body declares an `extern` block.
    MacroArgument,
}

/// What one file declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileDecls {
    /// Its foreign items, in source order.
    pub declarations: Vec<Declaration>,
    /// Every framework any of its blocks links, empty blocks included (crates often link
    /// their framework on an empty `extern "C" {}` at the crate root).
    pub links: BTreeSet<String>,
}

/// What `cfg` predicates are evaluated against: an Apple target of either CPU, and the
/// package's features when known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cfg {
    /// The enabled features; `None`: unknown (a `feature = "…"` predicate may hold).
    pub features: Option<BTreeSet<String>>,
}

/// A file `syn` could not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// syn's message.
    pub message: String,
}

/// The declarations of one Rust source file; `Ok(None)` when it does not contain
/// `extern` (not parsed at all).
pub fn parse(text: &str, cfg: &Cfg) -> Result<Option<FileDecls>, ParseError> {
    if !text.contains("extern") {
        return Ok(None);
    }
    let file = syn::parse_file(text).map_err(|e| ParseError {
        message: e.to_string(),
    })?;
    let mut extern_macros = BTreeSet::new();
    if text.contains("macro_rules") {
        let mut defs = Walker::new(cfg, Pass::MacroDefinitions, BTreeSet::new());
        defs.file(&file);
        extern_macros = defs.extern_macros;
    }
    let mut walker = Walker::new(cfg, Pass::Declarations, extern_macros);
    walker.file(&file);
    Ok(Some(walker.out))
}

/// The `.rs` files under `dir`, sorted, skipping `target/` and hidden directories (and
/// symlinked directories, which could loop).
pub fn rust_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    walk(dir, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<fs::DirEntry> = fs::read_dir(dir)?.collect::<io::Result<_>>()?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if name != "target" {
                walk(&path, out)?;
            }
        } else if name.ends_with(".rs") && (kind.is_file() || path.is_file()) {
            out.push(path);
        }
    }
    Ok(())
}

/// A three-valued truth: `cfg` predicates about the CPU or custom cfgs are unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    fn of(b: bool) -> Self {
        if b { Truth::True } else { Truth::False }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// Find the macros defined in the file whose body declares an `extern` block.
    MacroDefinitions,
    /// Collect the declarations.
    Declarations,
}

struct Walker<'a> {
    cfg: &'a Cfg,
    pass: Pass,
    extern_macros: BTreeSet<String>,
    out: FileDecls,
}

impl<'a> Walker<'a> {
    fn new(cfg: &'a Cfg, pass: Pass, extern_macros: BTreeSet<String>) -> Self {
        Self {
            cfg,
            pass,
            extern_macros,
            out: FileDecls::default(),
        }
    }

    fn file(&mut self, file: &File) {
        if self.enabled(&file.attrs) {
            self.items(&file.items);
        }
    }

    fn items(&mut self, items: &[Item]) {
        for item in items {
            self.item(item);
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::ForeignMod(m) if self.enabled(&m.attrs) => self.foreign_mod(m),
            Item::Mod(m) if self.enabled(&m.attrs) => {
                if let Some((_, items)) = &m.content {
                    self.items(items);
                }
            }
            Item::Fn(f) if self.enabled(&f.attrs) => self.block(&f.block),
            Item::Impl(i) if self.enabled(&i.attrs) => {
                for ii in &i.items {
                    match ii {
                        ImplItem::Fn(f) if self.enabled(&f.attrs) => self.block(&f.block),
                        ImplItem::Macro(m) if self.enabled(&m.attrs) => self.mac(&m.mac, None),
                        _ => {}
                    }
                }
            }
            Item::Trait(t) if self.enabled(&t.attrs) => {
                for ti in &t.items {
                    match ti {
                        TraitItem::Fn(f) if self.enabled(&f.attrs) => {
                            if let Some(block) = &f.default {
                                self.block(block);
                            }
                        }
                        TraitItem::Macro(m) if self.enabled(&m.attrs) => self.mac(&m.mac, None),
                        _ => {}
                    }
                }
            }
            Item::Macro(m) if self.enabled(&m.attrs) => self.mac(&m.mac, m.ident.as_ref()),
            _ => {}
        }
    }

    fn block(&mut self, block: &Block) {
        for stmt in &block.stmts {
            match stmt {
                Stmt::Item(item) => self.item(item),
                Stmt::Macro(m) if self.enabled(&m.attrs) => self.mac(&m.mac, None),
                Stmt::Expr(Expr::Block(b), _) if self.enabled(&b.attrs) => self.block(&b.block),
                Stmt::Expr(Expr::Unsafe(b), _) if self.enabled(&b.attrs) => self.block(&b.block),
                _ => {}
            }
        }
    }

    /// A macro definition (`ident` is its name) or invocation.
    fn mac(&mut self, mac: &Macro, ident: Option<&Ident>) {
        let text = mac.tokens.to_string();
        if mac.path.is_ident("macro_rules") {
            if let (Pass::MacroDefinitions, Some(name)) = (self.pass, ident)
                && text.contains("extern")
            {
                self.extern_macros.insert(name.unraw().to_string());
            }
            return;
        }
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.unraw().to_string());
        if self.pass == Pass::Declarations && name.is_some_and(|n| self.extern_macros.contains(&n))
        {
            let buffer = TokenBuffer::new2(mac.tokens.clone());
            let mut names = Vec::new();
            idents(buffer.begin(), &mut names);
            let mut seen = BTreeSet::new();
            names.retain(|n| seen.insert(n.clone()));
            if !names.is_empty() {
                self.out.declarations.push(Declaration {
                    names,
                    frameworks: Vec::new(),
                    origin: Origin::MacroArgument,
                });
            }
        }
        if text.contains("extern") {
            match syn::parse2::<File>(mac.tokens.clone()) {
                Ok(file) => self.file(&file),
                Err(_) => {
                    let buffer = TokenBuffer::new2(mac.tokens.clone());
                    self.groups(buffer.begin());
                }
            }
        }
    }

    /// Every delimited group under `cursor` whose content parses as items (the branches of
    /// `cfg_if!`), walked; groups that do not parse are searched deeper.
    fn groups(&mut self, mut cursor: Cursor) {
        while let Some((_, rest)) = cursor.token_tree() {
            if let Some((inner, _, _, _)) = cursor.any_group() {
                let tokens = inner.token_stream();
                if tokens.to_string().contains("extern") {
                    match syn::parse2::<File>(tokens) {
                        Ok(file) => self.file(&file),
                        Err(_) => self.groups(inner),
                    }
                }
            }
            cursor = rest;
        }
    }

    fn foreign_mod(&mut self, m: &ItemForeignMod) {
        let abi = m.abi.name.as_ref().map(syn::LitStr::value);
        if !matches!(
            abi.as_deref(),
            None | Some("C" | "C-unwind" | "system" | "system-unwind")
        ) {
            return;
        }
        if self.pass == Pass::MacroDefinitions {
            // Nothing in a foreign block defines a macro.
            return;
        }
        let frameworks = self.frameworks(&m.attrs);
        self.out.links.extend(frameworks.iter().cloned());
        for item in &m.items {
            let (attrs, ident, origin) = match item {
                ForeignItem::Fn(f) => (
                    FnOrStatic::Borrowed(&f.attrs),
                    f.sig.ident.unraw().to_string(),
                    Origin::Fn,
                ),
                ForeignItem::Static(s) => (
                    FnOrStatic::Borrowed(&s.attrs),
                    s.ident.unraw().to_string(),
                    Origin::Static,
                ),
                // `safe fn` / `unsafe static` in an `unsafe extern` block.
                ForeignItem::Verbatim(tokens) => match verbatim_item.parse2(tokens.clone()) {
                    Ok(Some((attrs, ident, origin))) => {
                        (FnOrStatic::Owned(attrs), ident.unraw().to_string(), origin)
                    }
                    _ => continue,
                },
                _ => continue,
            };
            let attrs = attrs.get();
            if !self.enabled(attrs) {
                continue;
            }
            let mut names = vec![ident];
            for name in self.link_names(attrs) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            let names: Vec<String> = names.into_iter().filter_map(c_name).collect();
            if !names.is_empty() {
                self.out.declarations.push(Declaration {
                    names,
                    frameworks: frameworks.clone(),
                    origin,
                });
            }
        }
    }

    /// Calls `f` on every meta of `attrs`, those inside a `cfg_attr` whose predicate may
    /// hold included (nested `cfg_attr`s too).
    fn each_meta(&self, attrs: &[Attribute], f: &mut dyn FnMut(&Meta)) {
        for attr in attrs {
            self.meta(&attr.meta, f);
        }
    }

    fn meta(&self, meta: &Meta, f: &mut dyn FnMut(&Meta)) {
        let Meta::List(list) = meta else {
            return f(meta);
        };
        if !list.path.is_ident("cfg_attr") {
            return f(meta);
        }
        let Ok(parts) = list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
        else {
            return;
        };
        let mut parts = parts.into_iter();
        let Some(predicate) = parts.next() else {
            return;
        };
        if self.eval(&predicate) == Truth::False {
            return;
        }
        for part in parts {
            self.meta(&part, f);
        }
    }

    /// Whether no `cfg` of `attrs` is certainly false.
    fn enabled(&self, attrs: &[Attribute]) -> bool {
        let mut on = true;
        self.each_meta(attrs, &mut |meta| {
            if let Meta::List(list) = meta
                && list.path.is_ident("cfg")
                && let Ok(predicate) = list.parse_args::<Meta>()
                && self.eval(&predicate) == Truth::False
            {
                on = false;
            }
        });
        on
    }

    fn link_names(&self, attrs: &[Attribute]) -> Vec<String> {
        let mut names = Vec::new();
        self.each_meta(attrs, &mut |meta| {
            if let Meta::NameValue(nv) = meta
                && nv.path.is_ident("link_name")
                && let Some(name) = str_lit(&nv.value)
            {
                names.push(name);
            }
        });
        names
    }

    fn frameworks(&self, attrs: &[Attribute]) -> Vec<String> {
        let mut frameworks = Vec::new();
        self.each_meta(attrs, &mut |meta| {
            let Meta::List(list) = meta else { return };
            if !list.path.is_ident("link") {
                return;
            }
            let Ok(args) = list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            else {
                return;
            };
            let (mut name, mut kind) = (None, None);
            for arg in &args {
                if let Meta::NameValue(nv) = arg {
                    if nv.path.is_ident("name") {
                        name = str_lit(&nv.value);
                    } else if nv.path.is_ident("kind") {
                        kind = str_lit(&nv.value);
                    }
                }
            }
            if let (Some(name), Some("framework")) = (name, kind.as_deref())
                && !frameworks.contains(&name)
            {
                frameworks.push(name);
            }
        });
        frameworks
    }

    /// A `cfg` predicate on an Apple target of either CPU.
    fn eval(&self, predicate: &Meta) -> Truth {
        match predicate {
            Meta::Path(path) => match path.get_ident().map(Ident::to_string).as_deref() {
                Some("unix") => Truth::True,
                Some("windows" | "test" | "doc" | "docsrs" | "miri") => Truth::False,
                _ => Truth::Unknown,
            },
            Meta::NameValue(nv) => {
                let (Some(key), Some(value)) = (nv.path.get_ident(), str_lit(&nv.value)) else {
                    return Truth::Unknown;
                };
                let value = value.as_str();
                match key.to_string().as_str() {
                    "feature" => match &self.cfg.features {
                        Some(features) => Truth::of(features.contains(value)),
                        None => Truth::Unknown,
                    },
                    "target_os" => Truth::of(value == "macos"),
                    "target_vendor" => Truth::of(value == "apple"),
                    "target_family" => Truth::of(value == "unix"),
                    "target_env" => Truth::of(value.is_empty()),
                    "target_endian" => Truth::of(value == "little"),
                    "target_pointer_width" => Truth::of(value == "64"),
                    "target_arch" if matches!(value, "x86_64" | "aarch64") => Truth::Unknown,
                    "target_arch" => Truth::False,
                    _ => Truth::Unknown,
                }
            }
            Meta::List(list) => {
                let Ok(args) =
                    list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                else {
                    return Truth::Unknown;
                };
                let values: Vec<Truth> = args.iter().map(|a| self.eval(a)).collect();
                match list.path.get_ident().map(Ident::to_string).as_deref() {
                    Some("all") if values.contains(&Truth::False) => Truth::False,
                    Some("all") if values.iter().all(|v| *v == Truth::True) => Truth::True,
                    Some("any") if values.contains(&Truth::True) => Truth::True,
                    Some("any") if values.iter().all(|v| *v == Truth::False) => Truth::False,
                    Some("not") if values.len() == 1 => match values[0] {
                        Truth::True => Truth::False,
                        Truth::False => Truth::True,
                        Truth::Unknown => Truth::Unknown,
                    },
                    _ => Truth::Unknown,
                }
            }
        }
    }
}

/// The attributes of a foreign item: borrowed from syn's item, or parsed out of a
/// verbatim one.
enum FnOrStatic<'a> {
    Borrowed(&'a [Attribute]),
    Owned(Vec<Attribute>),
}

impl FnOrStatic<'_> {
    fn get(&self) -> &[Attribute] {
        match self {
            FnOrStatic::Borrowed(attrs) => attrs,
            FnOrStatic::Owned(attrs) => attrs,
        }
    }
}

/// Attributes and name of a foreign item syn keeps verbatim (`safe fn`, `unsafe static`).
fn verbatim_item(input: ParseStream) -> syn::Result<Option<(Vec<Attribute>, Ident, Origin)>> {
    let attrs = input.call(Attribute::parse_outer)?;
    let mut found = None;
    while !input.is_empty() {
        if input.peek(Token![fn]) {
            input.parse::<Token![fn]>()?;
            found = Some((input.call(Ident::parse_any)?, Origin::Fn));
            break;
        }
        if input.peek(Token![static]) {
            input.parse::<Token![static]>()?;
            if input.peek(Token![mut]) {
                input.parse::<Token![mut]>()?;
            }
            found = Some((input.call(Ident::parse_any)?, Origin::Static));
            break;
        }
        skip_token(input)?;
    }
    while !input.is_empty() {
        skip_token(input)?;
    }
    Ok(found.map(|(ident, origin)| (attrs, ident, origin)))
}

fn skip_token(input: ParseStream) -> syn::Result<()> {
    input.step(|cursor| match cursor.token_tree() {
        Some((_, rest)) => Ok(((), rest)),
        None => Err(cursor.error("unexpected end")),
    })
}

/// Every identifier under `cursor`, groups included.
fn idents(mut cursor: Cursor, out: &mut Vec<String>) {
    while !cursor.eof() {
        if let Some((ident, rest)) = cursor.ident() {
            out.push(ident.unraw().to_string());
            cursor = rest;
        } else if let Some((inner, _, _, rest)) = cursor.any_group() {
            idents(inner, out);
            cursor = rest;
        } else if let Some((_, rest)) = cursor.token_tree() {
            cursor = rest;
        } else {
            break;
        }
    }
}

fn str_lit(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.value()),
        _ => None,
    }
}

/// The C name of a link name: itself, or for `"\u{1}_x"` (a raw Mach-O name) `x`; a raw
/// name without the underscore is no C name and cannot be in a stub.
fn c_name(name: String) -> Option<String> {
    match name.strip_prefix('\u{1}') {
        Some(raw) => raw.strip_prefix('_').map(str::to_owned),
        None if name.is_empty() => None,
        None => Some(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decls(text: &str) -> FileDecls {
        parse(text, &Cfg::default()).unwrap().unwrap()
    }

    fn names(text: &str) -> Vec<(Vec<String>, Vec<String>)> {
        decls(text)
            .declarations
            .into_iter()
            .map(|d| (d.names, d.frameworks))
            .collect()
    }

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn block_link_attribute_names_the_framework() {
        let text = r#"
            #[link(name = "Security", kind = "framework")]
            extern "C" {
                pub fn SecTrustSettingsCopyCertificates(domain: u32, certs: *mut u8) -> i32;
                pub static kSecClass: *const u8;
            }
            #[link(name = "System")]
            extern "C" { fn getentropy(buf: *mut u8, len: usize) -> i32; }
        "#;
        assert_eq!(
            names(text),
            vec![
                (v(&["SecTrustSettingsCopyCertificates"]), v(&["Security"])),
                (v(&["kSecClass"]), v(&["Security"])),
                (v(&["getentropy"]), v(&[])),
            ]
        );
        assert_eq!(decls(text).links, BTreeSet::from(["Security".to_owned()]));
        let d = decls(text);
        assert_eq!(d.declarations[0].origin, Origin::Fn);
        assert_eq!(d.declarations[1].origin, Origin::Static);
    }

    #[test]
    fn cfg_attr_link_name_and_cfg_attr_link() {
        // security-framework-sys and core-foundation-sys, as they are written.
        let text = r#"
            #[cfg_attr(target_vendor = "apple", link(name = "Security", kind = "framework"))]
            extern "C" {}

            #[cfg_attr(
                all(any(target_os = "macos", target_os = "ios"), feature = "link"),
                link(name = "CoreFoundation", kind = "framework")
            )]
            extern "C" {
                #[cfg_attr(all(target_os = "macos", target_arch = "aarch64"), link_name = "SecCertificateCopyPublicKey$LEGACYMAC")]
                pub fn SecCertificateCopyPublicKey(c: *mut u8, key: *mut u8) -> i32;
                #[link_name = "\u{1}_raw_name"]
                fn renamed();
                #[cfg_attr(target_os = "ios", link_name = "OnlyOnIos")]
                fn plain();
            }
        "#;
        let d = decls(text);
        assert_eq!(
            d.links,
            BTreeSet::from(["CoreFoundation".to_owned(), "Security".to_owned()])
        );
        assert_eq!(
            names(text),
            vec![
                (
                    v(&[
                        "SecCertificateCopyPublicKey",
                        "SecCertificateCopyPublicKey$LEGACYMAC"
                    ]),
                    v(&["CoreFoundation"])
                ),
                (v(&["renamed", "raw_name"]), v(&["CoreFoundation"])),
                (v(&["plain"]), v(&["CoreFoundation"])),
            ]
        );
        // With the features known and `link` off, the block links nothing.
        let cfg = Cfg {
            features: Some(BTreeSet::new()),
        };
        let off = parse(text, &cfg).unwrap().unwrap();
        assert_eq!(off.links, BTreeSet::from(["Security".to_owned()]));
        assert!(off.declarations.iter().all(|d| d.frameworks.is_empty()));
    }

    #[test]
    fn abis_statics_unsafe_extern_and_safe_items() {
        let text = r#"
            extern { fn no_abi(); }
            extern "C-unwind" { fn unwinding(); static mut COUNTER: u32; }
            extern "system" { fn system_abi(); }
            extern "Rust" { fn rust_abi(); }
            unsafe extern "C" {
                pub safe fn safe_one() -> i32;
                pub unsafe static UNSAFE_STATIC: u8;
                #[link_name = "renamed_safe"]
                safe fn safe_two();
                fn r#type();
            }
        "#;
        let all: Vec<Vec<String>> = names(text).into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            all,
            vec![
                v(&["no_abi"]),
                v(&["unwinding"]),
                v(&["COUNTER"]),
                v(&["system_abi"]),
                v(&["safe_one"]),
                v(&["UNSAFE_STATIC"]),
                v(&["safe_two", "renamed_safe"]),
                v(&["type"]),
            ]
        );
    }

    #[test]
    fn nested_modules_functions_methods_and_cfg_if() {
        let text = r#"
            mod inner {
                pub mod deeper {
                    extern "C" { pub fn in_module(); }
                }
            }
            fn body() {
                #[link(name = "ServiceManagement", kind = "framework")]
                unsafe extern "C" { fn SMJobBless() -> u8; }
                unsafe { extern "C" { fn in_unsafe_block(); } }
            }
            impl Foo {
                fn method(&self) { extern "C" { fn in_method(); } }
            }
            trait T { fn default() { extern "C" { fn in_trait_default(); } } }
            cfg_if::cfg_if! {
                if #[cfg(target_os = "macos")] {
                    extern "C" { fn in_cfg_if(); }
                } else {
                    extern "C" { fn in_cfg_if_else(); }
                }
            }
        "#;
        let all: Vec<(Vec<String>, Vec<String>)> = names(text);
        assert_eq!(
            all,
            vec![
                (v(&["in_module"]), v(&[])),
                (v(&["SMJobBless"]), v(&["ServiceManagement"])),
                (v(&["in_unsafe_block"]), v(&[])),
                (v(&["in_method"]), v(&[])),
                (v(&["in_trait_default"]), v(&[])),
                (v(&["in_cfg_if"]), v(&[])),
                (v(&["in_cfg_if_else"]), v(&[])),
            ]
        );
    }

    #[test]
    fn certainly_false_cfgs_drop_items() {
        let text = r#"
            #[cfg(windows)]
            extern "C" { fn windows_only(); }
            #[cfg(test)]
            mod tests { extern "C" { fn test_only(); } }
            #[cfg(all(target_os = "macos", feature = "job-bless"))]
            fn job_bless() {
                #[link(name = "ServiceManagement", kind = "framework")]
                extern "C" { fn SMJobBless(); }
            }
            extern "C" {
                #[cfg(target_os = "linux")]
                fn linux_only();
                #[cfg(any(target_arch = "aarch64", target_arch = "x86_64"))]
                fn either_cpu();
                #[cfg(target_arch = "arm")]
                fn arm_only();
                #[cfg(not(target_vendor = "apple"))]
                fn not_apple();
                #[cfg(my_custom_cfg)]
                fn custom();
                #[cfg_attr(target_os = "linux", cfg(any()))]
                fn cfg_in_cfg_attr_not_applied();
                #[cfg_attr(target_os = "macos", cfg(windows))]
                fn cfg_in_cfg_attr_applied();
            }
        "#;
        let unknown_features: Vec<Vec<String>> = names(text).into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            unknown_features,
            vec![
                v(&["SMJobBless"]),
                v(&["either_cpu"]),
                v(&["custom"]),
                v(&["cfg_in_cfg_attr_not_applied"]),
            ]
        );
        let cfg = Cfg {
            features: Some(BTreeSet::from(["default".to_owned()])),
        };
        let known = parse(text, &cfg).unwrap().unwrap();
        assert!(
            !known
                .declarations
                .iter()
                .any(|d| d.names[0] == "SMJobBless"),
            "{known:?}"
        );
        assert!(known.links.is_empty());
    }

    #[test]
    fn arguments_of_an_extern_declaring_macro() {
        // security-framework-sys's key.rs.
        let text = r#"
            macro_rules! names {
                ($( $i:ident => $x:ident),*) => {
                    extern "C" { $(pub static $x: SecKeyAlgorithm;)* }
                    pub enum Algorithm { $( $i, )* }
                }
            }
            names! {
                ECDSASignatureRFC4754 => kSecKeyAlgorithmECDSASignatureRFC4754,
                RSAEncryptionRaw => kSecKeyAlgorithmRSAEncryptionRaw
            }
            macro_rules! other { () => { 1 } }
            other!();
        "#;
        let d = decls(text);
        assert_eq!(d.declarations.len(), 1, "{d:?}");
        assert_eq!(d.declarations[0].origin, Origin::MacroArgument);
        assert_eq!(
            d.declarations[0].names,
            v(&[
                "ECDSASignatureRFC4754",
                "kSecKeyAlgorithmECDSASignatureRFC4754",
                "RSAEncryptionRaw",
                "kSecKeyAlgorithmRSAEncryptionRaw"
            ])
        );
    }

    #[test]
    fn files_without_extern_are_not_parsed_and_syntax_errors_are_reported() {
        assert_eq!(parse("fn main( {", &Cfg::default()), Ok(None));
        let err = parse("extern \"C\" { fn broken( }", &Cfg::default()).unwrap_err();
        assert!(!err.message.is_empty());
        // A file mentioning `extern` only in a comment parses to nothing.
        assert_eq!(
            parse("// extern\nfn f() {}", &Cfg::default()),
            Ok(Some(FileDecls::default()))
        );
    }

    #[test]
    fn rust_files_are_sorted_and_skip_target_and_hidden() {
        let dir = tempfile::tempdir().unwrap();
        for rel in [
            "src/lib.rs",
            "src/b/mod.rs",
            "src/a.rs",
            "src/notes.txt",
            "target/debug/build/x.rs",
            ".git/hooks/y.rs",
            "src/.hidden.rs",
        ] {
            let path = dir.path().join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, "").unwrap();
        }
        let files: Vec<String> = rust_files(dir.path())
            .unwrap()
            .iter()
            .map(|p| {
                p.strip_prefix(dir.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(files, v(&["src/a.rs", "src/b/mod.rs", "src/lib.rs"]));
        assert!(rust_files(&dir.path().join("missing")).is_err());
    }
}
