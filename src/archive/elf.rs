//! ELF load facts: the libraries a Linux binary needs (`DT_NEEDED`) and the newest glibc
//! symbol version it requires (`.gnu.version_r`), so a binary that would not start on an
//! older distribution fails `verify` against a glibc floor.
//!
//! The program headers are at the start of the file; the dynamic section they point at
//! lies later, and the `.dynstr` and `.gnu.version_r` its entries point at usually lie in
//! the first `PT_LOAD` segment (before `.text`, with GNU ld, lld and zig). The
//! [`Collector`](super::binary::Collector) keeps the dynamic section and the start of the
//! first segment as they stream past; what was not kept makes the requirement "unknown".
//!
//! One file because the program-header walk (`Layout`), the `.gnu.version_r` walk and the
//! glibc judgement read one set of kept bytes in that order; half of it is the tests and
//! their ELF `Builder`.

use object::read::elf::{FileHeader, ProgramHeader as _};
use object::{Endian as _, Endianness, FileKind, ReadRef as _, elf};

use super::binary::{Captured, LoadFacts, Version};

/// How much of the first `PT_LOAD` segment is kept (`.dynstr`, `.gnu.version_r`).
pub const FIRST_LOAD_KEPT: u64 = 16 << 20;
/// How much of `PT_INTERP` is kept.
const INTERP_KEPT: u64 = 4096;
/// The most version-need records walked.
const MAX_VERSIONS: usize = 4096;

/// What the dynamic loader will need for an ELF binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfLoads {
    /// `PT_INTERP`, if any.
    pub interpreter: Option<String>,
    /// The `DT_NEEDED` libraries in order; `None` when `.dynstr` was not kept.
    pub needed: Option<Vec<String>>,
    /// What it needs of glibc.
    pub glibc: Glibc,
}

/// What a binary needs of glibc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Glibc {
    /// Statically linked (no `PT_DYNAMIC`, or static-pie): needs no libc at all.
    Static,
    /// Linked against musl: no glibc.
    Musl,
    /// Dynamically linked, but requiring no `GLIBC_` version.
    Unversioned,
    /// The newest `GLIBC_x.y` it requires.
    Requires(Version),
    /// Could not be told: why.
    Unknown(String),
}

/// The segments that matter, from the program headers.
struct Layout {
    endian: Endianness,
    is64: bool,
    /// `(p_type, p_offset, p_vaddr, p_filesz)`.
    segments: Vec<(u32, u64, u64, u64)>,
}

impl Layout {
    fn first(&self, p_type: u32) -> Option<(u64, u64)> {
        self.segments
            .iter()
            .find(|s| s.0 == p_type)
            .map(|s| (s.1, s.3))
    }

    /// The file offset of virtual address `vaddr`, through the `PT_LOAD` holding it.
    fn offset_of(&self, vaddr: u64) -> Option<u64> {
        self.segments
            .iter()
            .filter(|s| s.0 == elf::PT_LOAD)
            .find(|s| vaddr >= s.2 && vaddr - s.2 < s.3)
            .and_then(|s| s.1.checked_add(vaddr - s.2))
    }
}

/// How many leading bytes hold the ELF header and the program headers.
pub(super) fn headers_len(head: &[u8]) -> Result<(usize, &'static str), String> {
    match FileKind::parse(head) {
        Ok(FileKind::Elf64) => headers_len_of::<elf::FileHeader64<Endianness>>(head),
        Ok(FileKind::Elf32) => headers_len_of::<elf::FileHeader32<Endianness>>(head),
        _ => Err("not an ELF file".to_owned()),
    }
}

fn headers_len_of<Elf: FileHeader<Endian = Endianness>>(
    head: &[u8],
) -> Result<(usize, &'static str), String> {
    let (header, endian) = parse_header::<Elf>(head)?;
    let what = "program headers";
    let phoff: u64 = header.e_phoff(endian).into();
    let phnum = header.e_phnum(endian);
    if phoff == 0 || phnum == 0 {
        return Ok((size_of::<Elf>(), what));
    }
    if phnum == elf::PN_XNUM {
        return Err("it has more than 65534 program headers".to_owned());
    }
    let entry = size_of::<Elf::ProgramHeader>();
    if usize::from(header.e_phentsize(endian)) != entry {
        return Err(format!(
            "its program headers are {} bytes each, not {entry}",
            header.e_phentsize(endian)
        ));
    }
    let end = phoff
        .checked_add(u64::from(phnum) * entry as u64)
        .and_then(|e| usize::try_from(e).ok())
        .ok_or("its program headers lie at an impossible offset")?;
    Ok((end.max(size_of::<Elf>()), what))
}

fn parse_header<Elf: FileHeader<Endian = Endianness>>(
    head: &[u8],
) -> Result<(&Elf, Endianness), String> {
    let header = Elf::parse(head).map_err(|_| "a truncated or corrupt ELF header".to_owned())?;
    let endian = header
        .endian()
        .map_err(|_| "an ELF header of unknown byte order".to_owned())?;
    Ok((header, endian))
}

fn layout(prefix: &[u8]) -> Result<Layout, String> {
    match FileKind::parse(prefix) {
        Ok(FileKind::Elf64) => layout_of::<elf::FileHeader64<Endianness>>(prefix),
        Ok(FileKind::Elf32) => layout_of::<elf::FileHeader32<Endianness>>(prefix),
        _ => Err("not an ELF file".to_owned()),
    }
}

fn layout_of<Elf: FileHeader<Endian = Endianness>>(prefix: &[u8]) -> Result<Layout, String> {
    let (header, endian) = parse_header::<Elf>(prefix)?;
    let phdrs = header
        .program_headers(endian, prefix)
        .map_err(|e| format!("its program headers are corrupt ({e})"))?;
    Ok(Layout {
        endian,
        is64: header.is_type_64(),
        segments: phdrs
            .iter()
            .map(|p| {
                (
                    p.p_type(endian),
                    p.p_offset(endian).into(),
                    p.p_vaddr(endian).into(),
                    p.p_filesz(endian).into(),
                )
            })
            .collect(),
    })
}

/// The byte ranges to keep: the start of the first `PT_LOAD`, `PT_DYNAMIC`, `PT_INTERP`.
pub(super) fn spans(prefix: &[u8], size: u64) -> Result<Vec<(u64, u64)>, String> {
    let layout = layout(prefix)?;
    for &(p_type, offset, _, filesz) in &layout.segments {
        let what = match p_type {
            elf::PT_LOAD => "a `PT_LOAD` segment",
            elf::PT_DYNAMIC => "the `PT_DYNAMIC` segment",
            elf::PT_INTERP => "the `PT_INTERP` segment",
            _ => continue,
        };
        match offset.checked_add(filesz) {
            Some(end) if end <= size => {}
            end => {
                return Err(format!(
                    "{what} (bytes {offset}..{}) runs past the end of the file ({size} bytes)",
                    end.map_or_else(|| "2^64".to_owned(), |e| e.to_string())
                ));
            }
        }
    }
    let mut spans = Vec::new();
    for (p_type, kept) in [
        (elf::PT_LOAD, FIRST_LOAD_KEPT),
        (elf::PT_DYNAMIC, u64::MAX),
        (elf::PT_INTERP, INTERP_KEPT),
    ] {
        if let Some((offset, filesz)) = layout.first(p_type).filter(|s| s.1 > 0) {
            // In the file: checked above.
            spans.push((offset, offset + filesz.min(kept)));
        }
    }
    Ok(spans)
}

/// Reads the facts from the kept bytes.
pub(super) fn read(captured: &Captured) -> Result<ElfLoads, String> {
    let layout = layout(captured.prefix())?;
    let endian = layout.endian;
    let interpreter = layout.first(elf::PT_INTERP).map(|(offset, filesz)| {
        let bytes = captured
            .get(offset, filesz.min(INTERP_KEPT))
            .unwrap_or_default();
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        String::from_utf8_lossy(&bytes[..end]).into_owned()
    });
    let Some((dyn_offset, dyn_size)) = layout.first(elf::PT_DYNAMIC) else {
        return Ok(ElfLoads {
            interpreter,
            needed: Some(Vec::new()),
            glibc: Glibc::Static,
        });
    };
    let unknown = |interpreter, needed, why: String| {
        Ok(ElfLoads {
            interpreter,
            needed,
            glibc: Glibc::Unknown(why),
        })
    };
    let Some(dynamic) = captured.get(dyn_offset, dyn_size) else {
        return unknown(
            interpreter,
            None,
            "its dynamic section was not kept".to_owned(),
        );
    };
    let (mut needed_at, mut strtab, mut strsz, mut verneed, mut verneednum) =
        (Vec::new(), None, None, None, None);
    let entry = if layout.is64 { 16 } else { 8 };
    for d in dynamic.chunks_exact(entry) {
        let (tag, value) = if layout.is64 {
            let word =
                |at: usize| endian.read_u64_bytes(d[at..at + 8].try_into().unwrap_or([0; 8]));
            (word(0), word(8))
        } else {
            let word = |at: usize| {
                u64::from(endian.read_u32_bytes(d[at..at + 4].try_into().unwrap_or([0; 4])))
            };
            (word(0), word(4))
        };
        match u32::try_from(tag) {
            Ok(elf::DT_NULL) => break,
            Ok(elf::DT_NEEDED) => needed_at.push(value),
            Ok(elf::DT_STRTAB) => strtab = Some(value),
            Ok(elf::DT_STRSZ) => strsz = Some(value),
            Ok(elf::DT_VERNEED) => verneed = Some(value),
            Ok(elf::DT_VERNEEDNUM) => verneednum = Some(value),
            _ => {}
        }
    }
    if needed_at.is_empty() && interpreter.is_none() {
        // static-pie: relocates itself, loads nothing.
        return Ok(ElfLoads {
            interpreter,
            needed: Some(Vec::new()),
            glibc: Glibc::Static,
        });
    }
    let (Some(strtab), Some(strsz)) = (strtab, strsz) else {
        return Err("its dynamic section has no `DT_STRTAB` or `DT_STRSZ`".to_owned());
    };
    let strtab_offset = layout.offset_of(strtab).ok_or_else(|| {
        format!("its `DT_STRTAB` address {strtab:#x} lies in no `PT_LOAD` segment")
    })?;
    let Some(strings) = captured.get(strtab_offset, strsz) else {
        return unknown(
            interpreter,
            None,
            format!(
                "`.dynstr` (bytes {strtab_offset}..) lies beyond the first {FIRST_LOAD_KEPT} bytes of the first segment, which is all parbuild keeps"
            ),
        );
    };
    let needed = needed_at
        .iter()
        .map(|&at| name_at(strings, at))
        .collect::<Option<Vec<String>>>()
        .ok_or("a `DT_NEEDED` name lies outside `.dynstr`")?;
    let mut versions = Vec::new();
    if let Some(verneed) = verneed {
        let offset = layout.offset_of(verneed).ok_or_else(|| {
            format!("its `DT_VERNEED` address {verneed:#x} lies in no `PT_LOAD` segment")
        })?;
        let walked = captured
            .from(offset)
            .map(|data| walk_verneed(data, verneednum, endian, strings))
            .transpose()?
            .flatten();
        match walked {
            Some(v) => versions = v,
            None => {
                return unknown(
                    interpreter,
                    Some(needed),
                    format!(
                        "`.gnu.version_r` (bytes {offset}..) lies beyond the bytes parbuild keeps"
                    ),
                );
            }
        }
    }
    let newest = versions.iter().filter_map(|v| glibc_version(v)).max();
    let musl = interpreter
        .as_deref()
        .is_some_and(|i| i.contains("ld-musl"))
        || needed.iter().any(|n| n == "libc.so");
    let glibc = match newest {
        Some(v) => Glibc::Requires(v),
        None if musl => Glibc::Musl,
        None => Glibc::Unversioned,
    };
    Ok(ElfLoads {
        interpreter,
        needed: Some(needed),
        glibc,
    })
}

/// The version names `.gnu.version_r` requires; `Ok(None)` when it runs past `data`.
fn walk_verneed(
    data: &[u8],
    count: Option<u64>,
    endian: Endianness,
    strings: &[u8],
) -> Result<Option<Vec<String>>, String> {
    let mut names = Vec::new();
    let mut at = 0u64;
    let mut walked = 0usize;
    let count = count.unwrap_or(u64::MAX);
    let mut left = count;
    let too_many = || format!("`.gnu.version_r` has more than {MAX_VERSIONS} records");
    while left > 0 {
        left -= 1;
        let Ok(need) = data.read_at::<elf::Verneed<Endianness>>(at) else {
            return Ok(None);
        };
        let mut aux = at
            .checked_add(need.vn_aux.get(endian).into())
            .ok_or_else(too_many)?;
        for _ in 0..need.vn_cnt.get(endian) {
            walked += 1;
            if walked > MAX_VERSIONS {
                return Err(too_many());
            }
            let Ok(a) = data.read_at::<elf::Vernaux<Endianness>>(aux) else {
                return Ok(None);
            };
            let name = name_at(strings, a.vna_name.get(endian).into())
                .ok_or("a `.gnu.version_r` name lies outside `.dynstr`")?;
            names.push(name);
            match a.vna_next.get(endian) {
                0 => break,
                next => aux = aux.checked_add(next.into()).ok_or_else(too_many)?,
            }
        }
        match need.vn_next.get(endian) {
            0 => break,
            next => at = at.checked_add(next.into()).ok_or_else(too_many)?,
        }
        walked += 1;
        if walked > MAX_VERSIONS {
            return Err(too_many());
        }
    }
    Ok(Some(names))
}

/// The glibc release a version name stands for: `GLIBC_2.17` → 2.17;
/// `GLIBC_ABI_DT_RELR` (packed relative relocations) → 2.36.
fn glibc_version(name: &str) -> Option<Version> {
    match name {
        "GLIBC_ABI_DT_RELR" => Version::parse("2.36"),
        _ => Version::parse(name.strip_prefix("GLIBC_")?),
    }
}

/// The NUL-terminated name at `offset` of a string table.
fn name_at(strings: &[u8], offset: u64) -> Option<String> {
    let rest = strings.get(usize::try_from(offset).ok()?..)?;
    let end = rest.iter().position(|&b| b == 0)?;
    Some(String::from_utf8_lossy(&rest[..end]).into_owned())
}

impl ElfLoads {
    /// What would stop the binary stored as `name` from starting on a distribution with
    /// the glibc `floor`.
    pub fn problems(&self, name: &str, floor: Option<&str>) -> Vec<String> {
        let Some(floor) = floor else {
            return Vec::new();
        };
        let Some(floor) = Version::parse(floor) else {
            return vec![format!(
                "the glibc floor `{floor}` is not a version such as 2.17"
            )];
        };
        match &self.glibc {
            Glibc::Requires(v) if *v > floor => vec![format!(
                "`{name}` needs GLIBC_{v}, newer than the floor {floor}: it will not start on older distributions"
            )],
            Glibc::Unknown(why) => vec![format!(
                "`{name}`: its glibc requirement could not be determined ({why}), so the floor {floor} cannot be checked"
            )],
            _ => Vec::new(),
        }
    }

    /// What was found, for a binary without problems.
    pub fn summary(&self, name: &str) -> String {
        let what = match &self.glibc {
            Glibc::Static => return format!("{name}: static: needs no glibc"),
            Glibc::Musl => "musl: needs no glibc".to_owned(),
            Glibc::Unversioned => "requires no `GLIBC_` version".to_owned(),
            Glibc::Requires(v) => format!("needs glibc ≥ {v}"),
            Glibc::Unknown(why) => format!("glibc requirement unknown ({why})"),
        };
        match self.needed.as_deref() {
            Some(needed) if !needed.is_empty() => {
                format!("{name}: {what}, links {}", needed.join(", "))
            }
            _ => format!("{name}: {what}"),
        }
    }

    /// The facts `inspect` shows.
    pub fn facts(&self) -> LoadFacts {
        LoadFacts::Elf {
            glibc: match &self.glibc {
                Glibc::Static => "static".to_owned(),
                Glibc::Musl => "musl".to_owned(),
                Glibc::Unversioned => "unversioned".to_owned(),
                Glibc::Requires(v) => v.to_string(),
                Glibc::Unknown(_) => "unknown".to_owned(),
            },
            needed: self.needed.clone().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::archive::binary::LoadInfo;

    /// A little-endian ELF with program headers, a dynamic section and a verneed, laid out
    /// like GNU ld's: headers, `.interp`, `.dynstr`, `.gnu.version_r` in the first
    /// `PT_LOAD`; code; the dynamic section in a later one.
    #[derive(Debug, Clone)]
    pub(crate) struct Builder {
        pub is64: bool,
        pub machine: u16,
        pub interpreter: Option<String>,
        pub needed: Vec<String>,
        /// `(file, versions)`.
        pub verneed: Vec<(String, Vec<String>)>,
        /// No `PT_DYNAMIC` at all.
        pub static_: bool,
        /// Bytes of "code" between the first segment and the dynamic section.
        pub code: usize,
        /// Bytes of padding in the first segment before `.dynstr`.
        pub pad: usize,
    }

    impl Builder {
        pub(crate) fn x86_64() -> Self {
            Self {
                is64: true,
                machine: elf::EM_X86_64,
                interpreter: Some("/lib64/ld-linux-x86-64.so.2".to_owned()),
                needed: vec!["libgcc_s.so.1".to_owned(), "libc.so.6".to_owned()],
                verneed: vec![
                    ("libgcc_s.so.1".to_owned(), vec!["GCC_3.0".to_owned()]),
                    (
                        "libc.so.6".to_owned(),
                        vec![
                            "GLIBC_2.2.5".to_owned(),
                            "GLIBC_2.17".to_owned(),
                            "GLIBC_2.3.4".to_owned(),
                        ],
                    ),
                ],
                static_: false,
                code: 6000,
                pad: 0,
            }
        }

        pub(crate) fn build(&self) -> Vec<u8> {
            let (ehsize, phentsize) = if self.is64 { (64, 56) } else { (52, 32) };
            let phnum = if self.static_ { 1 } else { 4 };
            let base = 0x40_0000u64;
            // First segment: headers, interp, dynstr, verneed.
            let mut first = vec![0u8; ehsize + phentsize * phnum];
            let interp_at = first.len();
            if let Some(i) = &self.interpreter {
                first.extend_from_slice(i.as_bytes());
                first.push(0);
            }
            let interp_len = first.len() - interp_at;
            first.resize(first.len() + self.pad, 0);
            let dynstr_at = first.len();
            let mut dynstr = vec![0u8];
            let mut intern = |s: &str| {
                let at = dynstr.len() as u32;
                dynstr.extend_from_slice(s.as_bytes());
                dynstr.push(0);
                at
            };
            let needed: Vec<u32> = self.needed.iter().map(|n| intern(n)).collect();
            let mut verneed = Vec::new();
            for (i, (file, versions)) in self.verneed.iter().enumerate() {
                let file_at = intern(file);
                let last = i + 1 == self.verneed.len();
                let size = 16 + 16 * versions.len() as u32;
                verneed.extend_from_slice(&1u16.to_le_bytes());
                verneed.extend_from_slice(&(versions.len() as u16).to_le_bytes());
                verneed.extend_from_slice(&file_at.to_le_bytes());
                verneed.extend_from_slice(&16u32.to_le_bytes());
                verneed.extend_from_slice(&(if last { 0 } else { size }).to_le_bytes());
                for (j, v) in versions.iter().enumerate() {
                    let name_at = intern(v);
                    verneed.extend_from_slice(&0u32.to_le_bytes()); // hash
                    verneed.extend_from_slice(&0u16.to_le_bytes());
                    verneed.extend_from_slice(&(j as u16 + 2).to_le_bytes());
                    verneed.extend_from_slice(&name_at.to_le_bytes());
                    let next: u32 = if j + 1 == versions.len() { 0 } else { 16 };
                    verneed.extend_from_slice(&next.to_le_bytes());
                }
            }
            first.extend_from_slice(&dynstr);
            first.resize(first.len().div_ceil(8) * 8, 0);
            let verneed_at = first.len();
            first.extend_from_slice(&verneed);
            let first_len = first.len();
            // Code, then the dynamic section.
            let dyn_at = first_len + self.code;
            let mut dynamic = Vec::new();
            let mut entry = |tag: u32, value: u64| {
                if self.is64 {
                    dynamic.extend_from_slice(&u64::from(tag).to_le_bytes());
                    dynamic.extend_from_slice(&value.to_le_bytes());
                } else {
                    dynamic.extend_from_slice(&tag.to_le_bytes());
                    dynamic.extend_from_slice(&(value as u32).to_le_bytes());
                }
            };
            for n in &needed {
                entry(elf::DT_NEEDED, u64::from(*n));
            }
            entry(elf::DT_STRTAB, base + dynstr_at as u64);
            entry(elf::DT_STRSZ, dynstr.len() as u64);
            if !self.verneed.is_empty() {
                entry(elf::DT_VERNEED, base + verneed_at as u64);
                entry(elf::DT_VERNEEDNUM, self.verneed.len() as u64);
            }
            entry(elf::DT_NULL, 0);
            let total = dyn_at + dynamic.len();
            let mut out = first;
            out.resize(dyn_at, 0xcc);
            out.extend_from_slice(&dynamic);
            // The headers.
            out[..4].copy_from_slice(b"\x7fELF");
            out[4] = if self.is64 { 2 } else { 1 };
            out[5] = 1;
            out[6] = 1;
            let put16 = |out: &mut Vec<u8>, at: usize, v: u16| {
                out[at..at + 2].copy_from_slice(&v.to_le_bytes())
            };
            let put = |out: &mut Vec<u8>, at: usize, v: u64, wide: bool| {
                if wide {
                    out[at..at + 8].copy_from_slice(&v.to_le_bytes());
                } else {
                    out[at..at + 4].copy_from_slice(&(v as u32).to_le_bytes());
                }
            };
            put16(&mut out, 16, 3); // ET_DYN
            put16(&mut out, 18, self.machine);
            out[20] = 1;
            let w = self.is64;
            let (phoff_at, phentsize_at) = if w { (32, 54) } else { (28, 42) };
            put(&mut out, phoff_at, ehsize as u64, w);
            put16(&mut out, phentsize_at, phentsize as u16);
            put16(&mut out, phentsize_at + 2, phnum as u16);
            let ph = |out: &mut Vec<u8>, i: usize, p_type: u32, offset: u64, filesz: u64| {
                let at = ehsize + i * phentsize;
                out[at..at + 4].copy_from_slice(&p_type.to_le_bytes());
                let vaddr = base + offset;
                if w {
                    put(out, at + 8, offset, true);
                    put(out, at + 16, vaddr, true);
                    put(out, at + 24, vaddr, true);
                    put(out, at + 32, filesz, true);
                    put(out, at + 40, filesz, true);
                } else {
                    put(out, at + 4, offset, false);
                    put(out, at + 8, vaddr, false);
                    put(out, at + 12, vaddr, false);
                    put(out, at + 16, filesz, false);
                    put(out, at + 20, filesz, false);
                }
            };
            if self.static_ {
                out.truncate(first_len);
                ph(&mut out, 0, elf::PT_LOAD, 0, first_len as u64);
                return out;
            }
            ph(
                &mut out,
                0,
                elf::PT_INTERP,
                interp_at as u64,
                interp_len as u64,
            );
            ph(&mut out, 1, elf::PT_LOAD, 0, first_len as u64);
            ph(
                &mut out,
                2,
                elf::PT_LOAD,
                first_len as u64,
                (total - first_len) as u64,
            );
            ph(
                &mut out,
                3,
                elf::PT_DYNAMIC,
                dyn_at as u64,
                dynamic.len() as u64,
            );
            if self.interpreter.is_none() {
                // No interpreter: make that header a harmless PT_NOTE.
                let at = ehsize;
                out[at..at + 4].copy_from_slice(&elf::PT_NOTE.to_le_bytes());
            }
            out
        }
    }

    use crate::archive::binary::tests::collect;

    fn loads(bytes: &[u8]) -> ElfLoads {
        match collect(bytes, 4096) {
            Ok(LoadInfo::Elf(e)) => e,
            other => panic!("not ELF facts: {other:?}"),
        }
    }

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn needed_and_glibc_are_found_in_any_chunking() {
        let bytes = Builder::x86_64().build();
        let e = loads(&bytes);
        assert_eq!(e.glibc, Glibc::Requires(v("2.17")));
        assert_eq!(
            e.needed.as_deref(),
            Some(&["libgcc_s.so.1".to_owned(), "libc.so.6".to_owned()][..])
        );
        assert_eq!(
            e.interpreter.as_deref(),
            Some("/lib64/ld-linux-x86-64.so.2")
        );
        for chunk in [1, 5, 64, 511, 4096, 1 << 20] {
            assert_eq!(
                collect(&bytes, chunk),
                Ok(LoadInfo::Elf(e.clone())),
                "{chunk}"
            );
        }
        assert_eq!(
            e.summary("x86_64-linux.bin"),
            "x86_64-linux.bin: needs glibc ≥ 2.17, links libgcc_s.so.1, libc.so.6"
        );
        assert_eq!(
            e.facts(),
            LoadFacts::Elf {
                glibc: "2.17".into(),
                needed: vec!["libgcc_s.so.1".into(), "libc.so.6".into()]
            }
        );
        let mut b32 = Builder::x86_64();
        b32.is64 = false;
        b32.machine = elf::EM_ARM;
        assert_eq!(loads(&b32.build()), e);
    }

    #[test]
    fn the_glibc_floor() {
        let mut b = Builder::x86_64();
        b.verneed[1].1.push("GLIBC_2.34".into());
        let e = loads(&b.build());
        assert_eq!(e.glibc, Glibc::Requires(v("2.34")));
        assert_eq!(e.problems("aarch64-linux.bin", None), Vec::<String>::new());
        assert_eq!(
            e.problems("aarch64-linux.bin", Some("2.34")),
            Vec::<String>::new()
        );
        assert_eq!(
            e.problems("aarch64-linux.bin", Some("2.35")),
            Vec::<String>::new()
        );
        assert_eq!(
            e.problems("aarch64-linux.bin", Some("2.17")),
            [
                "`aarch64-linux.bin` needs GLIBC_2.34, newer than the floor 2.17: it will not start on older distributions"
            ]
        );
        assert_eq!(
            e.problems("x.bin", Some("two")),
            ["the glibc floor `two` is not a version such as 2.17"]
        );
        // 2.3.4 < 2.17 < 2.34: numeric, not textual.
        let mut old = Builder::x86_64();
        old.verneed[1].1 = vec![
            "GLIBC_2.3.4".into(),
            "GLIBC_2.2.5".into(),
            "GLIBC_PRIVATE".into(),
        ];
        assert_eq!(loads(&old.build()).glibc, Glibc::Requires(v("2.3.4")));
        let mut relr = Builder::x86_64();
        relr.verneed[1].1.push("GLIBC_ABI_DT_RELR".into());
        assert_eq!(loads(&relr.build()).glibc, Glibc::Requires(v("2.36")));
    }

    #[test]
    fn static_musl_and_unversioned() {
        let mut s = Builder::x86_64();
        s.static_ = true;
        let e = loads(&s.build());
        assert_eq!(e.glibc, Glibc::Static);
        assert_eq!(e.summary("x.bin"), "x.bin: static: needs no glibc");
        assert_eq!(e.problems("x.bin", Some("2.17")), Vec::<String>::new());
        // static-pie: a dynamic section, no interpreter, nothing needed.
        let mut pie = Builder::x86_64();
        pie.interpreter = None;
        pie.needed.clear();
        pie.verneed.clear();
        assert_eq!(loads(&pie.build()).glibc, Glibc::Static);
        let mut musl = Builder::x86_64();
        musl.interpreter = Some("/lib/ld-musl-aarch64.so.1".into());
        musl.needed = vec!["libc.so".into()];
        musl.verneed.clear();
        let e = loads(&musl.build());
        assert_eq!(e.glibc, Glibc::Musl);
        assert_eq!(
            e.summary("x.bin"),
            "x.bin: musl: needs no glibc, links libc.so"
        );
        let mut plain = Builder::x86_64();
        plain.verneed.clear();
        assert_eq!(loads(&plain.build()).glibc, Glibc::Unversioned);
        // The tiny ELF of the archive tests: no program headers at all.
        let tiny = crate::archive::binary::tests::elf(elf::EM_X86_64, true);
        assert_eq!(loads(&tiny).glibc, Glibc::Static);
    }

    #[test]
    fn tables_beyond_what_is_kept_make_the_requirement_unknown() {
        let mut b = Builder::x86_64();
        b.pad = (FIRST_LOAD_KEPT + 10) as usize;
        b.code = 10;
        let e = loads(&b.build());
        assert!(
            matches!(&e.glibc, Glibc::Unknown(why) if why.contains("`.dynstr`")),
            "{e:?}"
        );
        assert_eq!(e.needed, None);
        assert!(
            e.summary("x.bin")
                .starts_with("x.bin: glibc requirement unknown")
        );
        assert_eq!(e.problems("x.bin", None), Vec::<String>::new());
        let p = e.problems("x.bin", Some("2.17"));
        assert_eq!(p.len(), 1);
        assert!(
            p[0].contains("could not be determined") && p[0].contains("2.17"),
            "{p:?}"
        );
        assert_eq!(
            e.facts(),
            LoadFacts::Elf {
                glibc: "unknown".into(),
                needed: vec![]
            }
        );
    }

    #[test]
    fn truncated_and_hostile_binaries_fail_without_panics() {
        let good = Builder::x86_64().build();
        for cut in 0..good.len().min(400) {
            let _ = collect(&good[..cut], 64);
        }
        for cut in (400..good.len()).step_by(97) {
            let err = collect(&good[..cut], 4096).unwrap_err();
            assert!(err.contains("past the end of the file"), "{cut}: {err}");
        }
        // Huge counts and offsets in the header.
        let mut bad = good.clone();
        bad[32..40].copy_from_slice(&u64::MAX.to_le_bytes()); // e_phoff
        let err = collect(&bad, 4096).unwrap_err();
        assert!(
            err.contains("impossible offset") || err.contains("more than"),
            "{err}"
        );
        let mut bad = good.clone();
        bad[56..58].copy_from_slice(&0xffffu16.to_le_bytes()); // e_phnum = PN_XNUM
        assert!(collect(&bad, 4096).unwrap_err().contains("65534"));
        let mut bad = good.clone();
        bad[56..58].copy_from_slice(&0x100u16.to_le_bytes());
        assert!(
            collect(&bad, 4096)
                .unwrap_err()
                .contains("more than the whole file")
        );
        let mut bad = good.clone();
        bad[54..56].copy_from_slice(&20u16.to_le_bytes()); // e_phentsize
        assert!(collect(&bad, 4096).unwrap_err().contains("bytes each"));
        // A segment at a hostile offset or of a hostile size.
        for field in [8, 32] {
            let mut bad = good.clone();
            let at = 64 + 3 * 56 + field; // PT_DYNAMIC
            bad[at..at + 8].copy_from_slice(&(u64::MAX - 3).to_le_bytes());
            let err = collect(&bad, 4096).unwrap_err();
            assert!(
                err.contains("runs past the end of the file"),
                "{field}: {err}"
            );
        }
        // Random damage anywhere: never a panic.
        for bad in crate::archive::binary::tests::damaged(&good, 0x2545_f491_4f6c_dd1d, 300, 6) {
            if let Ok(LoadInfo::Elf(e)) = collect(&bad, 777) {
                let _ = e.problems("x.bin", Some("2.17"));
                let _ = e.summary("x.bin");
            }
        }
        // A name offset outside `.dynstr`.
        let mut b = Builder::x86_64();
        b.needed.push("libm.so.6".into());
        let mut bytes = b.build();
        let dyn_off =
            u64::from_le_bytes(bytes[64 + 3 * 56 + 8..64 + 3 * 56 + 16].try_into().unwrap())
                as usize;
        bytes[dyn_off + 8 * 5..dyn_off + 8 * 6].copy_from_slice(&1_000_000u64.to_le_bytes());
        let err = collect(&bytes, 4096).unwrap_err();
        assert!(err.contains("outside `.dynstr`"), "{err}");
    }

    #[test]
    fn this_test_binary_needs_a_glibc() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        if !(cfg!(target_os = "linux") && cfg!(target_env = "gnu")) {
            return;
        }
        let e = match collect(&exe, 64 * 1024) {
            Ok(LoadInfo::Elf(e)) => e,
            other => panic!("{other:?}"),
        };
        let Glibc::Requires(v) = e.glibc else {
            panic!("no glibc requirement found: {e:?}");
        };
        assert!(v >= Version::parse("2.2.5").unwrap(), "{v}");
        let needed = e.needed.unwrap();
        assert!(needed.iter().any(|n| n == "libc.so.6"), "{needed:?}");
    }
}
