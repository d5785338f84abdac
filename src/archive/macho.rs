//! Mach-O load facts: which libraries a macOS binary loads, which library each imported
//! symbol is bound to, its minimum macOS and whether it is signed, read from its load
//! commands and symbol table and judged against the [`frameworks`] table, so a binary
//! that links fine but would fail on a Mac ("Library not loaded", "Symbol not found")
//! fails `verify` instead.
//!
//! Only thin 64-bit little-endian binaries (x86_64, arm64) are read; the
//! [`Collector`](super::binary::Collector) keeps their load commands and, from the end of
//! the file, the symbol and string tables `LC_SYMTAB` points at.
//!
//! One file because the load-command walk, the symbol-table binding check and the judgement
//! share the `Commands` and `MachoLoads` records; over half of it is the tests and their
//! Mach-O `Builder`.

use object::LittleEndian as LE;
use object::macho;
use object::read::macho::{LoadCommandVariant, MachHeader as _};

use super::Label;
use super::binary::{Captured, LoadFacts, Version};
use super::frameworks::{self, DylibPath};

/// How many wrongly bound symbols are described; the rest are counted.
pub const MAX_LISTED: usize = 10;

/// The size of one `nlist_64`.
const NLIST_SIZE: u64 = 16;

/// The oldest macOS that runs on Apple silicon.
const ARM64_MIN: Version = Version {
    major: 11,
    minor: 0,
    patch: 0,
};

type Header = macho::MachHeader64<LE>;

/// What dyld will need to load a Mach-O binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachoLoads {
    /// The CPU type of the header.
    pub cputype: u32,
    /// Whether `MH_TWOLEVEL` is set (imports are bound to one library each).
    pub two_level: bool,
    /// The platform of `LC_BUILD_VERSION` (`LC_VERSION_MIN_*` mapped to one), if any.
    pub platform: Option<u32>,
    /// The minimum OS version, if any.
    pub minos: Option<Version>,
    /// The paths of the dylib load commands, in order: ordinal `k` binds to `dylibs[k - 1]`.
    pub dylibs: Vec<String>,
    /// The `LC_RPATH` entries.
    pub rpaths: Vec<String>,
    /// Whether it has an `LC_CODE_SIGNATURE`.
    pub code_signature: bool,
    /// Whether it has an `LC_SYMTAB`.
    pub symtab: bool,
    /// How many undefined external symbols it imports.
    pub imports: usize,
    /// The first [`MAX_LISTED`] imports bound where they would not be found.
    pub binding: Vec<String>,
    /// How many imports are bound wrongly in all.
    pub binding_count: usize,
}

/// The load commands parbuild reads.
struct Commands {
    cputype: u32,
    flags: u32,
    dylibs: Vec<String>,
    rpaths: Vec<String>,
    /// `symoff`, `nsyms`, `stroff`, `strsize`.
    symtab: Option<(u32, u32, u32, u32)>,
    code_signature: bool,
    platform: Option<u32>,
    minos: Option<Version>,
}

/// How many leading bytes hold the header and all load commands.
pub(super) fn headers_len(head: &[u8]) -> Result<(usize, &'static str), String> {
    let header = Header::parse(head, 0).map_err(|_| "a truncated Mach-O header".to_owned())?;
    let len = usize::try_from(header.sizeofcmds(LE))
        .ok()
        .and_then(|n| n.checked_add(size_of::<Header>()))
        .ok_or("its load commands do not fit in memory")?;
    Ok((len, "load commands"))
}

/// The byte ranges to keep beyond the load commands: the symbol and string tables.
pub(super) fn spans(prefix: &[u8], size: u64) -> Result<Vec<(u64, u64)>, String> {
    let Some((symoff, nsyms, stroff, strsize)) = commands(prefix)?.symtab else {
        return Ok(Vec::new());
    };
    let mut spans = Vec::new();
    for (what, start, len) in [
        ("symbol table", symoff, u64::from(nsyms) * NLIST_SIZE),
        ("string table", stroff, u64::from(strsize)),
    ] {
        let start = u64::from(start);
        // Both below 2^37: no overflow.
        let end = start + len;
        if end > size {
            return Err(format!(
                "its {what} (bytes {start}..{end}) lies past the end of the file ({size} bytes)"
            ));
        }
        if len > 0 {
            spans.push((start, end));
        }
    }
    Ok(spans)
}

/// Reads the facts from the kept bytes.
pub(super) fn read(captured: &Captured) -> Result<MachoLoads, String> {
    let c = commands(captured.prefix())?;
    let mut loads = MachoLoads {
        cputype: c.cputype,
        two_level: c.flags & macho::MH_TWOLEVEL != 0,
        platform: c.platform,
        minos: c.minos,
        dylibs: c.dylibs,
        rpaths: c.rpaths,
        code_signature: c.code_signature,
        symtab: c.symtab.is_some(),
        imports: 0,
        binding: Vec::new(),
        binding_count: 0,
    };
    let Some((symoff, nsyms, stroff, strsize)) = c.symtab else {
        return Ok(loads);
    };
    let not_kept = |what: &str| format!("its {what} was not kept while reading (internal error)");
    let symbols = captured
        .get(u64::from(symoff), u64::from(nsyms) * NLIST_SIZE)
        .ok_or_else(|| not_kept("symbol table"))?;
    let strings = captured
        .get(u64::from(stroff), u64::from(strsize))
        .ok_or_else(|| not_kept("string table"))?;
    let (nlists, _) = object::pod::slice_from_bytes::<macho::Nlist64<LE>>(symbols, nsyms as usize)
        .map_err(|()| not_kept("symbol table"))?;
    let classes: Vec<DylibPath> = loads
        .dylibs
        .iter()
        .map(|p| frameworks::classify(p))
        .collect();
    for (index, n) in nlists.iter().enumerate() {
        let undefined_external = n.n_type & macho::N_STAB == 0
            && n.n_type & macho::N_TYPE == macho::N_UNDF
            && n.n_type & macho::N_EXT != 0
            && n.n_value.get(LE) == 0;
        if !undefined_external {
            continue;
        }
        loads.imports += 1;
        let problem = match name_at(strings, n.n_strx.get(LE)) {
            None => Some(format!(
                "symbol {index} has its name outside the string table"
            )),
            // In a flat-namespace binary the ordinals mean nothing; that fails on its own.
            Some(_) if !loads.two_level => None,
            Some(name) => {
                let ordinal = ((n.n_desc.get(LE) >> 8) & 0xff) as u8;
                binding_problem(&name, ordinal, &loads.dylibs, &classes)
            }
        };
        if let Some(problem) = problem {
            loads.binding_count += 1;
            if loads.binding.len() < MAX_LISTED {
                loads.binding.push(problem);
            }
        }
    }
    Ok(loads)
}

/// Walks the load commands in `prefix` (the header and all of them).
fn commands(prefix: &[u8]) -> Result<Commands, String> {
    let corrupt = |e: object::read::Error| format!("its load commands are corrupt ({e})");
    let header = Header::parse(prefix, 0).map_err(|_| "a truncated Mach-O header".to_owned())?;
    let mut c = Commands {
        cputype: header.cputype(LE),
        flags: header.flags(LE),
        dylibs: Vec::new(),
        rpaths: Vec::new(),
        symtab: None,
        code_signature: false,
        platform: None,
        minos: None,
    };
    let mut build_version = None;
    let mut version_min = None;
    let mut iter = header.load_commands(LE, prefix, 0).map_err(corrupt)?;
    while let Some(cmd) = iter.next().map_err(corrupt)? {
        let string = |s| {
            cmd.string(LE, s)
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .map_err(corrupt)
        };
        match cmd.variant().map_err(corrupt)? {
            LoadCommandVariant::Dylib(d) => c.dylibs.push(string(d.dylib.name)?),
            LoadCommandVariant::Rpath(r) => c.rpaths.push(string(r.path)?),
            LoadCommandVariant::Symtab(s) => {
                if c.symtab.is_some() {
                    return Err("it has two `LC_SYMTAB` commands".to_owned());
                }
                c.symtab = Some((
                    s.symoff.get(LE),
                    s.nsyms.get(LE),
                    s.stroff.get(LE),
                    s.strsize.get(LE),
                ));
            }
            LoadCommandVariant::LinkeditData(l) if cmd.cmd() == macho::LC_CODE_SIGNATURE => {
                c.code_signature |= l.datasize.get(LE) > 0;
            }
            LoadCommandVariant::BuildVersion(b) if build_version.is_none() => {
                build_version = Some((b.platform.get(LE), Version::from_macho(b.minos.get(LE))));
            }
            LoadCommandVariant::VersionMin(v) if version_min.is_none() => {
                let platform = match cmd.cmd() {
                    macho::LC_VERSION_MIN_MACOSX => macho::PLATFORM_MACOS,
                    macho::LC_VERSION_MIN_IPHONEOS => macho::PLATFORM_IOS,
                    macho::LC_VERSION_MIN_TVOS => macho::PLATFORM_TVOS,
                    _ => macho::PLATFORM_WATCHOS,
                };
                version_min = Some((platform, Version::from_macho(v.version.get(LE))));
            }
            _ => {}
        }
    }
    if let Some((platform, minos)) = build_version.or(version_min) {
        c.platform = Some(platform);
        c.minos = Some(minos);
    }
    Ok(c)
}

/// The NUL-terminated name at `offset` of a string table.
fn name_at(strings: &[u8], offset: u32) -> Option<String> {
    let rest = strings.get(usize::try_from(offset).ok()?..)?;
    let end = rest.iter().position(|&b| b == 0)?;
    Some(String::from_utf8_lossy(&rest[..end]).into_owned())
}

/// Why `symbol`, bound to library `ordinal`, would not be found at load time.
fn binding_problem(
    symbol: &str,
    ordinal: u8,
    dylibs: &[String],
    classes: &[DylibPath],
) -> Option<String> {
    let c_name = symbol.strip_prefix('_').unwrap_or(symbol);
    let owner = frameworks::attribute(c_name);
    let wrong = |bound: &str, owner: &frameworks::Framework| {
        format!(
            "`{symbol}` is bound to {bound}, but it is {}'s: on a Mac the binary would fail to load (Symbol not found)",
            owner.name
        )
    };
    match ordinal {
        macho::SELF_LIBRARY_ORDINAL | macho::EXECUTABLE_ORDINAL => None,
        macho::DYNAMIC_LOOKUP_ORDINAL => Some(format!(
            "`{symbol}` is looked up in the flat namespace (dynamic lookup): no library is named for it, so on a Mac it may not be found"
        )),
        k => {
            let index = usize::from(k) - 1;
            let (Some(path), Some(class)) = (dylibs.get(index), classes.get(index)) else {
                return Some(format!(
                    "`{symbol}` is bound to library ordinal {k}, but the binary loads only {} libraries",
                    dylibs.len()
                ));
            };
            match (class, owner) {
                // The library itself is reported.
                (DylibPath::NotSystem | DylibPath::UnknownFramework(_), _) => None,
                (DylibPath::SystemLibrary, Some(owner)) => Some(wrong(&short_name(path), owner)),
                (DylibPath::SystemLibrary, None) => None,
                (DylibPath::Framework(bound), Some(owner)) => {
                    (!frameworks::binds_to(owner, bound)).then(|| wrong(bound.name, owner))
                }
                // The table places symbols by naming rules; it cannot list every export of a
                // framework, so only a contradiction fails. A symbol no rule places, bound to a
                // framework, is what `[macos-stubs]` or a real SDK put there.
                (DylibPath::Framework(_), None) => None,
            }
        }
    }
}

/// A dylib path as people say it: `libSystem.B`, `Security`; other paths in full.
pub fn short_name(path: &str) -> String {
    match frameworks::classify(path) {
        DylibPath::SystemLibrary => {
            let file = path.rsplit('/').next().unwrap_or(path);
            file.strip_suffix(".dylib").unwrap_or(file).to_owned()
        }
        DylibPath::Framework(f) => f.name.to_owned(),
        DylibPath::UnknownFramework(name) => name,
        DylibPath::NotSystem => path.to_owned(),
    }
}

/// A platform number of `LC_BUILD_VERSION`, by name.
fn platform_name(platform: u32) -> String {
    match platform {
        macho::PLATFORM_MACOS => "macOS",
        macho::PLATFORM_IOS => "iOS",
        macho::PLATFORM_TVOS => "tvOS",
        macho::PLATFORM_WATCHOS => "watchOS",
        macho::PLATFORM_BRIDGEOS => "bridgeOS",
        macho::PLATFORM_MACCATALYST => "Mac Catalyst",
        macho::PLATFORM_IOSSIMULATOR => "the iOS simulator",
        macho::PLATFORM_TVOSSIMULATOR => "the tvOS simulator",
        macho::PLATFORM_WATCHOSSIMULATOR => "the watchOS simulator",
        macho::PLATFORM_DRIVERKIT => "DriverKit",
        macho::PLATFORM_XROS => "visionOS",
        macho::PLATFORM_XROSSIMULATOR => "the visionOS simulator",
        other => return format!("platform {other}"),
    }
    .to_owned()
}

impl MachoLoads {
    fn arm64(&self) -> bool {
        self.cputype == macho::CPU_TYPE_ARM64
    }

    /// What would stop the binary stored as `name` from loading on a Mac; `macos_min` is
    /// the deployment target its minimum macOS must equal (arm64: at least 11.0, which
    /// the linker raises lower targets to).
    pub fn problems(&self, name: &str, label: &Label, macos_min: Option<&str>) -> Vec<String> {
        let mut problems = Vec::new();
        let arm64 = self.arm64() || label.arch() == "aarch64";
        if !self.two_level {
            problems.push(format!(
                "`{name}` uses the flat namespace (`MH_TWOLEVEL` is not set): its imports are not bound to libraries"
            ));
        }
        match self.platform {
            None => problems.push(format!(
                "`{name}` has no `LC_BUILD_VERSION` or `LC_VERSION_MIN_MACOSX`: its minimum macOS is unknown"
            )),
            Some(macho::PLATFORM_MACOS) => {}
            Some(other) => problems.push(format!(
                "`{name}` is built for {}, not macOS",
                platform_name(other)
            )),
        }
        if let Some(minos) = self.minos.filter(|&v| arm64 && v < ARM64_MIN) {
            problems.push(format!(
                "`{name}` targets macOS {minos}, but arm64 Macs run nothing older than {ARM64_MIN}"
            ));
        }
        if arm64 && !self.code_signature {
            problems.push(format!(
                "`{name}` has no code signature (`LC_CODE_SIGNATURE`): Apple silicon refuses to run unsigned code"
            ));
        }
        if let Some(want) = macos_min {
            match Version::parse(want) {
                None => problems.push(format!(
                    "the required deployment target `{want}` is not a version such as 11.0"
                )),
                Some(want) => {
                    let want = if arm64 { want.max(ARM64_MIN) } else { want };
                    if let Some(minos) = self.minos.filter(|&v| v != want) {
                        problems.push(format!(
                            "`{name}` targets macOS {minos}, but the deployment target is {want}"
                        ));
                    }
                }
            }
        }
        if self.dylibs.is_empty() {
            problems.push(format!(
                "`{name}` loads no library: dyld requires every program to link at least libSystem"
            ));
        }
        for path in &self.dylibs {
            match frameworks::classify(path) {
                DylibPath::NotSystem => problems.push(format!(
                    "`{name}` loads `{path}`, which is not a system library: a Mac does not have it"
                )),
                DylibPath::UnknownFramework(framework) => problems.push(format!(
                    "`{name}` loads framework `{framework}`, which parbuild's framework table does not know"
                )),
                DylibPath::SystemLibrary | DylibPath::Framework(_) => {}
            }
        }
        if !self.symtab {
            problems.push(format!(
                "`{name}` has no symbol table (`LC_SYMTAB`): its imports cannot be checked"
            ));
        }
        problems.extend(self.binding.iter().map(|b| format!("`{name}`: {b}")));
        let unlisted = self.binding_count.saturating_sub(self.binding.len());
        if unlisted > 0 {
            problems.push(format!(
                "`{name}`: {unlisted} more imports bound where they would not be found"
            ));
        }
        problems
    }

    /// What was found, for a binary without problems.
    pub fn summary(&self, name: &str) -> String {
        let mut parts = Vec::new();
        if let Some(minos) = self.minos {
            parts.push(format!("macOS ≥ {minos}"));
        }
        if self.two_level {
            parts.push("two-level".to_owned());
        }
        if self.code_signature {
            parts.push("signed".to_owned());
        }
        parts.push(format!(
            "{} imports bound to the right library",
            self.imports
        ));
        if !self.rpaths.is_empty() {
            let rpaths: Vec<String> = self.rpaths.iter().map(|r| format!("`{r}`")).collect();
            parts.push(format!("rpath {}", rpaths.join(" ")));
        }
        let dylibs: Vec<String> = self.dylibs.iter().map(|d| short_name(d)).collect();
        parts.push(format!("loads {}", dylibs.join(", ")));
        format!("{name}: {}", parts.join(", "))
    }

    /// The facts `inspect` shows.
    pub fn facts(&self) -> LoadFacts {
        LoadFacts::MachO {
            macos_min: self.minos.map(|v| v.to_string()),
            dylibs: self.dylibs.iter().map(|d| short_name(d)).collect(),
            imports: self.imports,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::archive::binary::LoadInfo;

    /// A thin 64-bit Mach-O built from load commands and imports, for tests.
    #[derive(Debug, Clone)]
    pub(crate) struct Builder {
        pub cpu: u32,
        pub flags: u32,
        pub dylibs: Vec<(u32, String)>,
        pub rpaths: Vec<String>,
        /// `(platform, minos)` as `LC_BUILD_VERSION`.
        pub build_version: Option<(u32, u32)>,
        /// `minos` as `LC_VERSION_MIN_MACOSX`.
        pub version_min: Option<u32>,
        pub code_signature: bool,
        pub symtab: bool,
        /// `(name, library ordinal)` of undefined symbols.
        pub imports: Vec<(String, u8)>,
        /// Defined symbols (not imports).
        pub defined: Vec<String>,
        /// Bytes of "code" between the load commands and the link-edit data.
        pub body: usize,
    }

    pub(crate) const LIBSYSTEM: &str = "/usr/lib/libSystem.B.dylib";

    pub(crate) fn framework(name: &str) -> String {
        frameworks::install_name(name)
    }

    /// `0x000b0000`: 11.0.
    pub(crate) const V11: u32 = 11 << 16;

    impl Builder {
        /// A sound x86_64 binary loading libSystem, CoreFoundation and Security.
        pub(crate) fn x86_64() -> Self {
            Self {
                cpu: macho::CPU_TYPE_X86_64,
                flags: macho::MH_NOUNDEFS | macho::MH_DYLDLINK | macho::MH_TWOLEVEL | macho::MH_PIE,
                dylibs: vec![
                    (macho::LC_LOAD_DYLIB, LIBSYSTEM.to_owned()),
                    (macho::LC_LOAD_DYLIB, framework("CoreFoundation")),
                    (macho::LC_LOAD_DYLIB, framework("Security")),
                ],
                rpaths: Vec::new(),
                build_version: Some((macho::PLATFORM_MACOS, V11)),
                version_min: None,
                code_signature: false,
                symtab: true,
                imports: vec![
                    ("_malloc".to_owned(), 1),
                    ("dyld_stub_binder".to_owned(), 1),
                    ("___stack_chk_guard".to_owned(), 1),
                    ("_CFRelease".to_owned(), 2),
                    ("_CFErrorCreate".to_owned(), 2),
                    ("___CFConstantStringClassReference".to_owned(), 2),
                    ("_SecTrustSettingsCopyCertificates".to_owned(), 3),
                    ("_kSecClass".to_owned(), 3),
                ],
                defined: vec!["__mh_execute_header".to_owned(), "_main".to_owned()],
                body: 5000,
            }
        }

        /// A sound arm64 binary (signed, macOS 11.0).
        pub(crate) fn arm64() -> Self {
            Self {
                cpu: macho::CPU_TYPE_ARM64,
                code_signature: true,
                ..Self::x86_64()
            }
        }

        pub(crate) fn build(&self) -> Vec<u8> {
            fn u32s(out: &mut Vec<u8>, values: &[u32]) {
                for v in values {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
            fn padded(s: &str) -> Vec<u8> {
                let mut b = s.as_bytes().to_vec();
                b.push(0);
                b.resize(b.len().div_ceil(8) * 8, 0);
                b
            }
            let mut cmds: Vec<u8> = Vec::new();
            let mut ncmds = 0u32;
            // Strings and symbols: the link-edit data at the end.
            let mut strings = vec![b' ', 0];
            let mut nlists = Vec::new();
            for (name, ordinal) in &self.imports {
                let strx = strings.len() as u32;
                strings.extend_from_slice(name.as_bytes());
                strings.push(0);
                nlists.extend_from_slice(&strx.to_le_bytes());
                nlists.push(macho::N_UNDF | macho::N_EXT);
                nlists.push(0);
                nlists.extend_from_slice(&(u16::from(*ordinal) << 8).to_le_bytes());
                nlists.extend_from_slice(&0u64.to_le_bytes());
            }
            for name in &self.defined {
                let strx = strings.len() as u32;
                strings.extend_from_slice(name.as_bytes());
                strings.push(0);
                nlists.extend_from_slice(&strx.to_le_bytes());
                nlists.push(macho::N_SECT | macho::N_EXT);
                nlists.push(1);
                nlists.extend_from_slice(&0u16.to_le_bytes());
                nlists.extend_from_slice(&0x1_0000_0000u64.to_le_bytes());
            }
            fn cmd(cmds: &mut Vec<u8>, ncmds: &mut u32, cmd: u32, body: &[u8]) {
                let size = (8 + body.len()).div_ceil(8) * 8;
                u32s(cmds, &[cmd, size as u32]);
                cmds.extend_from_slice(body);
                cmds.resize(cmds.len() + size - 8 - body.len(), 0);
                *ncmds += 1;
            }
            for (kind, path) in &self.dylibs {
                let mut body = Vec::new();
                // name offset, timestamp, current, compatibility
                u32s(&mut body, &[24, 2, 0x0001_0000, 0x0001_0000]);
                body.extend(padded(path));
                cmd(&mut cmds, &mut ncmds, *kind, &body);
            }
            for path in &self.rpaths {
                let mut body = Vec::new();
                u32s(&mut body, &[12]);
                body.extend(padded(path));
                cmd(&mut cmds, &mut ncmds, macho::LC_RPATH, &body);
            }
            if let Some((platform, minos)) = self.build_version {
                let mut body = Vec::new();
                u32s(&mut body, &[platform, minos, 14 << 16, 0]);
                cmd(&mut cmds, &mut ncmds, macho::LC_BUILD_VERSION, &body);
            }
            if let Some(minos) = self.version_min {
                let mut body = Vec::new();
                u32s(&mut body, &[minos, 14 << 16]);
                cmd(&mut cmds, &mut ncmds, macho::LC_VERSION_MIN_MACOSX, &body);
            }
            // Fixed-size commands whose offsets depend on the total size: measure first.
            let fixed = if self.symtab { 24 } else { 0 } + if self.code_signature { 16 } else { 0 };
            let linkedit = 32 + cmds.len() + fixed + self.body;
            let symoff = linkedit;
            let stroff = symoff + nlists.len();
            let sigoff = stroff + strings.len();
            if self.symtab {
                let mut body = Vec::new();
                u32s(
                    &mut body,
                    &[
                        symoff as u32,
                        (nlists.len() / 16) as u32,
                        stroff as u32,
                        strings.len() as u32,
                    ],
                );
                cmd(&mut cmds, &mut ncmds, macho::LC_SYMTAB, &body);
            }
            if self.code_signature {
                let mut body = Vec::new();
                u32s(&mut body, &[sigoff as u32, 16]);
                cmd(&mut cmds, &mut ncmds, macho::LC_CODE_SIGNATURE, &body);
            }
            let mut out = Vec::new();
            u32s(
                &mut out,
                &[
                    macho::MH_MAGIC_64,
                    self.cpu,
                    3,
                    macho::MH_EXECUTE,
                    ncmds,
                    cmds.len() as u32,
                    self.flags,
                    0,
                ],
            );
            out.extend(cmds);
            out.resize(out.len() + self.body, 0x90);
            assert_eq!(out.len(), symoff);
            out.extend(nlists);
            out.extend(strings);
            if self.code_signature {
                out.extend_from_slice(&[0xfa, 0xde, 0x0c, 0xc0]);
                out.resize(out.len() + 12, 0);
            }
            out
        }
    }

    use crate::archive::binary::tests::collect;

    fn loads(b: &Builder) -> MachoLoads {
        match collect(&b.build(), 4096) {
            Ok(LoadInfo::MachO(m)) => m,
            other => panic!("not Mach-O facts: {other:?}"),
        }
    }

    fn problems(b: &Builder, label: &str, macos_min: Option<&str>) -> Vec<String> {
        loads(b).problems(
            &format!("{label}.bin"),
            &Label::parse(label).unwrap(),
            macos_min,
        )
    }

    #[test]
    fn a_sound_binary_passes_in_any_chunking() {
        let b = Builder::x86_64();
        let bytes = b.build();
        let first = collect(&bytes, 4096).unwrap();
        for chunk in [1, 7, 31, 32, 100, 4095, 4097, 1 << 20] {
            assert_eq!(collect(&bytes, chunk).unwrap(), first, "chunk {chunk}");
        }
        let m = loads(&b);
        assert_eq!(m.imports, 8);
        assert_eq!(m.minos, Version::parse("11.0"));
        assert!(m.two_level && m.symtab && !m.code_signature);
        assert_eq!(problems(&b, "x86_64-macos", None), Vec::<String>::new());
        assert_eq!(
            problems(&b, "x86_64-macos", Some("11.0")),
            Vec::<String>::new()
        );
        assert_eq!(
            m.summary("x86_64-macos.bin"),
            "x86_64-macos.bin: macOS ≥ 11.0, two-level, 8 imports bound to the right library, loads libSystem.B, CoreFoundation, Security"
        );
        assert_eq!(
            m.facts(),
            LoadFacts::MachO {
                macos_min: Some("11.0".into()),
                dylibs: vec![
                    "libSystem.B".into(),
                    "CoreFoundation".into(),
                    "Security".into()
                ],
                imports: 8
            }
        );
        assert_eq!(
            problems(&Builder::arm64(), "aarch64-macos", Some("11.0")),
            Vec::<String>::new()
        );
    }

    #[test]
    fn load_commands_beyond_the_head_are_read() {
        let mut b = Builder::x86_64();
        for i in 0..60 {
            b.rpaths.push(format!(
                "/some/long/rpath/directory/number/{i:03}/for/the/test"
            ));
        }
        let bytes = b.build();
        assert!(u32::from_le_bytes(bytes[20..24].try_into().unwrap()) > 4096);
        let m = loads(&b);
        assert_eq!(m.rpaths.len(), 60);
        assert_eq!(m.imports, 8);
        assert!(m.summary("x").contains("rpath `/some/long/rpath"));
    }

    #[test]
    fn non_system_and_unknown_libraries_fail() {
        let mut b = Builder::x86_64();
        b.dylibs
            .push((macho::LC_LOAD_DYLIB, "/root/target/libfoo.dylib".into()));
        b.dylibs
            .push((macho::LC_LOAD_WEAK_DYLIB, "@rpath/libbar.dylib".into()));
        b.dylibs.push((macho::LC_LOAD_DYLIB, framework("Bogus")));
        b.imports.push(("_foo".into(), 4));
        b.imports.push(("_BogusThing".into(), 6));
        assert_eq!(
            problems(&b, "x86_64-macos", None),
            [
                "`x86_64-macos.bin` loads `/root/target/libfoo.dylib`, which is not a system library: a Mac does not have it",
                "`x86_64-macos.bin` loads `@rpath/libbar.dylib`, which is not a system library: a Mac does not have it",
                "`x86_64-macos.bin` loads framework `Bogus`, which parbuild's framework table does not know",
            ]
        );
    }

    #[test]
    fn symbols_bound_to_the_wrong_library_fail() {
        let mut b = Builder::x86_64();
        b.imports.push(("_CFErrorCreate".into(), 3));
        b.imports.push(("_malloc".into(), 3));
        b.imports.push(("_SecRandomCopyBytes".into(), 1));
        b.imports
            .push(("_lookup_me".into(), macho::DYNAMIC_LOOKUP_ORDINAL));
        b.imports.push(("_far".into(), 9));
        b.imports
            .push(("_in_main".into(), macho::EXECUTABLE_ORDINAL));
        assert_eq!(
            problems(&b, "x86_64-macos", None),
            [
                "`x86_64-macos.bin`: `_CFErrorCreate` is bound to Security, but it is CoreFoundation's: on a Mac the binary would fail to load (Symbol not found)",
                "`x86_64-macos.bin`: `_SecRandomCopyBytes` is bound to libSystem.B, but it is Security's: on a Mac the binary would fail to load (Symbol not found)",
                "`x86_64-macos.bin`: `_lookup_me` is looked up in the flat namespace (dynamic lookup): no library is named for it, so on a Mac it may not be found",
                "`x86_64-macos.bin`: `_far` is bound to library ordinal 9, but the binary loads only 3 libraries",
            ]
        );
        // Many: the first ten are named, the rest counted.
        let mut many = Builder::x86_64();
        for i in 0..25 {
            many.imports.push((format!("_CFThing{i}"), 3));
        }
        let p = problems(&many, "x86_64-macos", None);
        assert_eq!(p.len(), MAX_LISTED + 1, "{p:#?}");
        assert_eq!(
            p[MAX_LISTED],
            "`x86_64-macos.bin`: 15 more imports bound where they would not be found"
        );
    }

    #[test]
    fn umbrellas_and_frameworks_without_rules() {
        let mut b = Builder::x86_64();
        b.dylibs
            .push((macho::LC_LOAD_DYLIB, framework("CoreServices")));
        b.dylibs.push((macho::LC_LOAD_DYLIB, framework("Metal")));
        b.imports.push(("_kCFProxyTypeKey".into(), 4)); // CFNetwork's, re-exported
        b.imports.push(("_FSEventStreamCreate".into(), 4));
        b.imports.push(("_MTLCreateSystemDefaultDevice".into(), 5));
        assert_eq!(problems(&b, "x86_64-macos", None), Vec::<String>::new());
    }

    #[test]
    fn flat_namespace_fails() {
        let mut b = Builder::x86_64();
        b.flags &= !macho::MH_TWOLEVEL;
        b.imports.push(("_CFErrorCreate".into(), 3));
        assert_eq!(
            problems(&b, "x86_64-macos", None),
            [
                "`x86_64-macos.bin` uses the flat namespace (`MH_TWOLEVEL` is not set): its imports are not bound to libraries"
            ]
        );
    }

    #[test]
    fn arm64_needs_a_signature_and_macos_11() {
        let mut b = Builder::arm64();
        b.code_signature = false;
        b.build_version = Some((macho::PLATFORM_MACOS, 10 << 16 | 15 << 8));
        assert_eq!(
            problems(&b, "aarch64-macos", None),
            [
                "`aarch64-macos.bin` targets macOS 10.15, but arm64 Macs run nothing older than 11.0",
                "`aarch64-macos.bin` has no code signature (`LC_CODE_SIGNATURE`): Apple silicon refuses to run unsigned code",
            ]
        );
        // x86_64 may be unsigned and older.
        let mut x = Builder::x86_64();
        x.build_version = Some((macho::PLATFORM_MACOS, 10 << 16 | 12 << 8));
        assert_eq!(problems(&x, "x86_64-macos", None), Vec::<String>::new());
    }

    #[test]
    fn the_deployment_target_must_match() {
        let mut b = Builder::x86_64();
        b.build_version = Some((macho::PLATFORM_MACOS, 10 << 16 | 12 << 8));
        assert_eq!(
            problems(&b, "x86_64-macos", Some("10.12")),
            Vec::<String>::new()
        );
        assert_eq!(
            problems(&b, "x86_64-macos", Some("11.0")),
            ["`x86_64-macos.bin` targets macOS 10.12, but the deployment target is 11.0"]
        );
        assert_eq!(
            problems(&b, "x86_64-macos", Some("eleven")),
            ["the required deployment target `eleven` is not a version such as 11.0"]
        );
        // arm64: a lower target is raised to 11.0 by the linker.
        assert_eq!(
            problems(&Builder::arm64(), "aarch64-macos", Some("10.12")),
            Vec::<String>::new()
        );
        let mut a = Builder::arm64();
        a.build_version = Some((macho::PLATFORM_MACOS, 12 << 16));
        assert_eq!(
            problems(&a, "aarch64-macos", Some("11.0")),
            ["`aarch64-macos.bin` targets macOS 12.0, but the deployment target is 11.0"]
        );
        // LC_VERSION_MIN_MACOSX counts; another platform does not.
        let mut old = Builder::x86_64();
        old.build_version = None;
        old.version_min = Some(10 << 16 | 12 << 8 | 6);
        assert_eq!(
            loads(&old).minos.map(|v| v.to_string()).as_deref(),
            Some("10.12.6")
        );
        assert_eq!(problems(&old, "x86_64-macos", None), Vec::<String>::new());
        let mut ios = Builder::x86_64();
        ios.build_version = Some((macho::PLATFORM_IOS, V11));
        assert_eq!(
            problems(&ios, "x86_64-macos", None),
            ["`x86_64-macos.bin` is built for iOS, not macOS"]
        );
        let mut none = Builder::x86_64();
        none.build_version = None;
        assert_eq!(
            problems(&none, "x86_64-macos", Some("11.0")),
            [
                "`x86_64-macos.bin` has no `LC_BUILD_VERSION` or `LC_VERSION_MIN_MACOSX`: its minimum macOS is unknown"
            ]
        );
    }

    #[test]
    fn a_bare_header_fails_cleanly() {
        let mut h = vec![0u8; 32];
        h[..4].copy_from_slice(&macho::MH_MAGIC_64.to_le_bytes());
        h[4..8].copy_from_slice(&macho::CPU_TYPE_X86_64.to_le_bytes());
        h[12..16].copy_from_slice(&macho::MH_EXECUTE.to_le_bytes());
        let Ok(LoadInfo::MachO(m)) = collect(&h, 4096) else {
            panic!("a bare header is still Mach-O");
        };
        let p = m.problems("x.bin", &Label::parse("x86_64-macos").unwrap(), None);
        assert!(p.iter().any(|p| p.contains("flat namespace")), "{p:?}");
        assert!(p.iter().any(|p| p.contains("loads no library")), "{p:?}");
        assert!(p.iter().any(|p| p.contains("no symbol table")), "{p:?}");
    }

    #[test]
    fn truncated_and_hostile_binaries_fail_without_panics() {
        let good = Builder::x86_64().build();
        // Every truncation, declared at its real size.
        for cut in (0..good.len()).step_by(13) {
            let _ = collect(&good[..cut], 100);
        }
        // Cut inside the symbol table: the offsets point past the end.
        let cut = &good[..good.len() - 20];
        let err = collect(cut, 4096).unwrap_err();
        assert!(err.contains("past the end of the file"), "{err}");
        // Huge `sizeofcmds`.
        let mut huge = good.clone();
        huge[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
        let err = collect(&huge, 4096).unwrap_err();
        assert!(
            err.contains("more than the 1048576 parbuild reads"),
            "{err}"
        );
        // `sizeofcmds` beyond the file but under the cap.
        let mut long = good.clone();
        long[20..24].copy_from_slice(&100_000u32.to_le_bytes());
        let err = collect(&long, 4096).unwrap_err();
        assert!(err.contains("more than the whole file"), "{err}");
        // A symbol table at a hostile offset, and one with a huge count.
        let symtab_at = find_cmd(&good, macho::LC_SYMTAB);
        for (field, value) in [
            (8, u32::MAX),
            (12, u32::MAX),
            (16, u32::MAX),
            (20, u32::MAX),
        ] {
            let mut bad = good.clone();
            bad[symtab_at + field..symtab_at + field + 4].copy_from_slice(&value.to_le_bytes());
            let err = collect(&bad, 4096).unwrap_err();
            assert!(err.contains("past the end of the file"), "{field}: {err}");
        }
        // A symbol name outside the string table.
        let mut bad = good.clone();
        let symoff =
            u32::from_le_bytes(bad[symtab_at + 8..symtab_at + 12].try_into().unwrap()) as usize;
        bad[symoff..symoff + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let p = match collect(&bad, 4096) {
            Ok(LoadInfo::MachO(m)) => {
                m.problems("x.bin", &Label::parse("x86_64-macos").unwrap(), None)
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(
            p,
            ["`x.bin`: symbol 0 has its name outside the string table"]
        );
        // A load command whose size runs past the others, and a zero-sized one.
        for size in [0u32, 4, 0xffff_fff0] {
            let mut bad = good.clone();
            bad[36..40].copy_from_slice(&size.to_le_bytes());
            let err = collect(&bad, 4096).unwrap_err();
            assert!(err.contains("load commands are corrupt"), "{size}: {err}");
        }
        // A dylib name offset outside its command.
        let mut bad = good.clone();
        bad[40..44].copy_from_slice(&5000u32.to_le_bytes());
        let err = collect(&bad, 4096).unwrap_err();
        assert!(err.contains("corrupt"), "{err}");
        // Random bytes after a valid magic.
        for bad in crate::archive::binary::tests::damaged(&good, 0x9e37_79b9_7f4a_7c15, 200, 8) {
            if let Ok(LoadInfo::MachO(m)) = collect(&bad, 333) {
                let _ = m.problems(
                    "x.bin",
                    &Label::parse("aarch64-macos").unwrap(),
                    Some("11.0"),
                );
                let _ = m.summary("x.bin");
            }
        }
    }

    fn find_cmd(bytes: &[u8], want: u32) -> usize {
        let mut at = 32;
        loop {
            let cmd = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
            if cmd == want {
                return at;
            }
            at += u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        }
    }

    #[test]
    fn other_mach_o_kinds_are_not_checked() {
        let mut fat = vec![0u8; 64];
        fat[..4].copy_from_slice(&macho::FAT_MAGIC.to_be_bytes());
        fat[4..8].copy_from_slice(&1u32.to_be_bytes());
        fat[8..12].copy_from_slice(&macho::CPU_TYPE_ARM64.to_be_bytes());
        assert_eq!(
            collect(&fat, 4096),
            Ok(LoadInfo::NotChecked(
                "universal binary: load commands not checked".into()
            ))
        );
    }
}
