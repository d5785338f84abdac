//! Does a binary fit its label, and will it load? The label's OS names the executable
//! format (ELF, Mach-O, PE) and its ARCH the CPU; [`check`] reads only the file headers
//! (the first [`HEAD_LEN`] bytes), through the `object` crate, so a 100 MB binary is never
//! held in memory.
//!
//! What the dynamic loader will need ([`LoadInfo`]: Mach-O dylibs, symbol bindings and
//! minimum macOS; ELF `DT_NEEDED` and glibc versions) lies partly far into the file, so a
//! [`Collector`] keeps, while the binary streams past once, its headers and the few byte
//! ranges those headers point at (bounded by [`MAX_PREFIX`] and [`MAX_CAPTURE`]);
//! [`elf`](super::elf) and [`macho`](super::macho) read them.
//!
//! One file because the label check and the [`Collector`] read the same first [`HEAD_LEN`]
//! bytes into the same `Format`, which then decides what the collector keeps.

use object::read::elf::FileHeader as _;
use object::read::macho::{FatArch as _, MachHeader as _};
use object::{Endianness, FileKind, ReadRef as _, elf, macho, pe};

use super::Label;

/// How many leading bytes of a binary the check needs.
pub const HEAD_LEN: usize = 4096;

/// Executable formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Elf,
    MachO,
    Pe,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Self::Elf => "ELF",
            Self::MachO => "Mach-O",
            Self::Pe => "PE",
        }
    }
}

/// The format an OS runs.
fn format_for_os(os: &str) -> Option<Format> {
    Some(match os {
        "linux" | "android" | "freebsd" | "netbsd" | "openbsd" | "dragonfly" | "solaris"
        | "illumos" => Format::Elf,
        "macos" | "ios" => Format::MachO,
        "windows" => Format::Pe,
        _ => return None,
    })
}

/// What the headers must say for an arch: (ELF machine, ELF 64-bit, Mach-O CPU, PE machine).
fn expected_cpu(arch: &str) -> Option<(u16, bool, Option<u32>, Option<u16>)> {
    Some(match arch {
        "x86_64" => (
            elf::EM_X86_64,
            true,
            Some(macho::CPU_TYPE_X86_64),
            Some(pe::IMAGE_FILE_MACHINE_AMD64),
        ),
        "aarch64" => (
            elf::EM_AARCH64,
            true,
            Some(macho::CPU_TYPE_ARM64),
            Some(pe::IMAGE_FILE_MACHINE_ARM64),
        ),
        "x86" => (
            elf::EM_386,
            false,
            Some(macho::CPU_TYPE_X86),
            Some(pe::IMAGE_FILE_MACHINE_I386),
        ),
        // `armv7` and friends are not what hosts look up (`Label::lookup_warning`), but the
        // binary is still a 32-bit ARM one.
        a if a == "arm" || a.starts_with("armv") || a == "armhf" => (
            elf::EM_ARM,
            false,
            Some(macho::CPU_TYPE_ARM),
            Some(pe::IMAGE_FILE_MACHINE_ARMNT),
        ),
        "riscv64" => (elf::EM_RISCV, true, None, None),
        "riscv32" => (elf::EM_RISCV, false, None, None),
        "powerpc64" => (elf::EM_PPC64, true, None, None),
        "powerpc" => (elf::EM_PPC, false, None, None),
        "s390x" => (elf::EM_S390, true, None, None),
        "mips" => (elf::EM_MIPS, false, None, None),
        "mips64" => (elf::EM_MIPS, true, None, None),
        "loongarch64" => (elf::EM_LOONGARCH, true, None, None),
        "sparc64" => (elf::EM_SPARCV9, true, None, None),
        _ => return None,
    })
}

/// Checks that `head` (the first bytes of the binary stored under `label`) is an
/// executable of the label's format and CPU. `Err` says what is wrong.
pub fn check(label: &Label, head: &[u8]) -> Result<(), String> {
    let want_format = format_for_os(label.os()).ok_or_else(|| {
        format!(
            "unknown OS `{}` in `{label}`: cannot tell which executable format it runs",
            label.os()
        )
    })?;
    let (em, elf64, mach_cpu, pe_machine) = expected_cpu(label.arch()).ok_or_else(|| {
        format!(
            "unknown architecture `{}` in `{label}`: cannot check the CPU",
            label.arch()
        )
    })?;
    let kind = FileKind::parse(head)
        .map_err(|_| "not an executable (no ELF, Mach-O or PE header)".to_owned())?;
    let (found_format, found_cpu) = match kind {
        FileKind::Elf32 | FileKind::Elf64 => {
            let machine = elf_machine(head, kind == FileKind::Elf64)
                .ok_or("a truncated or corrupt ELF header")?;
            let ok = machine == em && (kind == FileKind::Elf64) == elf64;
            let class = if kind == FileKind::Elf64 { "64" } else { "32" };
            (
                Format::Elf,
                ok.then_some(())
                    .ok_or(format!("ELF{class} machine {machine}")),
            )
        }
        FileKind::MachO32 | FileKind::MachO64 | FileKind::MachOFat32 | FileKind::MachOFat64 => {
            let cpus = macho_cpus(head, kind).ok_or("a truncated or corrupt Mach-O header")?;
            let ok = mach_cpu.is_some_and(|c| cpus.contains(&c));
            (
                Format::MachO,
                ok.then_some(())
                    .ok_or(format!("Mach-O CPU type(s) {cpus:?}")),
            )
        }
        FileKind::Pe32 | FileKind::Pe64 => {
            let machine = pe_machine_of(head).ok_or("a truncated or corrupt PE header")?;
            let ok = pe_machine == Some(machine);
            (
                Format::Pe,
                ok.then_some(()).ok_or(format!("PE machine {machine:#06x}")),
            )
        }
        _ => return Err("not an ELF, Mach-O or PE executable".to_owned()),
    };
    if found_format != want_format {
        return Err(format!(
            "a {} executable, but `{}` runs {}",
            found_format.name(),
            label.os(),
            want_format.name()
        ));
    }
    found_cpu.map_err(|found| format!("built for another CPU ({found}), not `{}`", label.arch()))
}

fn elf_machine(head: &[u8], is64: bool) -> Option<u16> {
    if is64 {
        let h = elf::FileHeader64::<Endianness>::parse(head).ok()?;
        Some(h.e_machine(h.endian().ok()?))
    } else {
        let h = elf::FileHeader32::<Endianness>::parse(head).ok()?;
        Some(h.e_machine(h.endian().ok()?))
    }
}

fn macho_cpus(head: &[u8], kind: FileKind) -> Option<Vec<u32>> {
    Some(match kind {
        FileKind::MachO32 => {
            let h = macho::MachHeader32::<Endianness>::parse(head, 0).ok()?;
            vec![h.cputype(h.endian().ok()?)]
        }
        FileKind::MachO64 => {
            let h = macho::MachHeader64::<Endianness>::parse(head, 0).ok()?;
            vec![h.cputype(h.endian().ok()?)]
        }
        FileKind::MachOFat32 => object::read::macho::MachOFatFile32::parse(head)
            .ok()?
            .arches()
            .iter()
            .map(|a| a.cputype())
            .collect(),
        _ => object::read::macho::MachOFatFile64::parse(head)
            .ok()?
            .arches()
            .iter()
            .map(|a| a.cputype())
            .collect(),
    })
}

fn pe_machine_of(head: &[u8]) -> Option<u16> {
    let dos = pe::ImageDosHeader::parse(head).ok()?;
    // The COFF file header follows the 4-byte `PE\0\0` signature.
    let offset = u64::from(dos.nt_headers_offset()) + 4;
    let file_header = head.read_at::<pe::ImageFileHeader>(offset).ok()?;
    Some(file_header.machine.get(object::LittleEndian))
}

/// The most leading bytes of a binary kept so that all of its Mach-O load commands or ELF
/// program headers are read (real binaries need a few KiB).
pub const MAX_PREFIX: usize = 1 << 20;

/// The most bytes of one binary kept beyond its leading bytes for the load check: the
/// Mach-O symbol and string tables, the ELF dynamic section and the start of the first
/// segment (`.dynstr`, `.gnu.version_r`).
pub const MAX_CAPTURE: u64 = 64 << 20;

/// A version number, `major.minor[.patch]` (a minimum macOS, a glibc symbol version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// The major number.
    pub major: u32,
    /// The minor number.
    pub minor: u32,
    /// The patch number (0 when absent).
    pub patch: u32,
}

impl Version {
    /// Parses `11`, `11.0`, `10.12.6`, `2.17`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('.');
        let mut next = |required: bool| match parts.next() {
            None if !required => Some(0),
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok(),
            _ => None,
        };
        let version = Self {
            major: next(true)?,
            minor: next(false)?,
            patch: next(false)?,
        };
        parts.next().is_none().then_some(version)
    }

    /// A Mach-O packed version: `xxxx.yy.zz` in nibbles.
    pub fn from_macho(packed: u32) -> Self {
        Self {
            major: packed >> 16,
            minor: (packed >> 8) & 0xff,
            patch: packed & 0xff,
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if self.patch != 0 {
            write!(f, ".{}", self.patch)?;
        }
        Ok(())
    }
}

/// What the dynamic loader needs for a binary, read from its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadInfo {
    /// An ELF binary.
    Elf(super::elf::ElfLoads),
    /// A thin 64-bit little-endian Mach-O binary.
    MachO(super::macho::MachoLoads),
    /// A format whose loading is not checked (PE, universal or 32-bit Mach-O): why.
    NotChecked(String),
}

/// What a target binary needs to load, as `inspect` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "format")]
pub enum LoadFacts {
    /// An ELF binary.
    #[serde(rename = "elf")]
    Elf {
        /// The newest glibc it needs (`2.17`), or `static`, `musl`, `unversioned` (dynamic
        /// but requiring no `GLIBC_` version) or `unknown`.
        glibc: String,
        /// Its `DT_NEEDED` libraries, in order (empty when static or unknown).
        needed: Vec<String>,
    },
    /// A thin Mach-O binary.
    #[serde(rename = "macho")]
    MachO {
        /// Its minimum macOS (`11.0`), if it says.
        macos_min: Option<String>,
        /// The libraries it loads, in ordinal order, by short name (`libSystem.B`,
        /// `Security`; other paths in full).
        dylibs: Vec<String>,
        /// How many symbols it imports.
        imports: usize,
    },
    /// A format whose loading is not checked.
    #[serde(rename = "not-checked")]
    NotChecked {
        /// Why.
        reason: String,
    },
    /// Headers that could not be read.
    #[serde(rename = "unreadable")]
    Unreadable {
        /// What is wrong.
        error: String,
    },
}

impl LoadInfo {
    /// The facts `inspect` shows.
    pub fn facts(&self) -> LoadFacts {
        match self {
            Self::Elf(e) => e.facts(),
            Self::MachO(m) => m.facts(),
            Self::NotChecked(reason) => LoadFacts::NotChecked {
                reason: reason.clone(),
            },
        }
    }

    /// What would stop the binary stored as `name` under `label` from loading, given a
    /// glibc floor and a macOS deployment target to require; empty when nothing.
    pub fn problems(
        &self,
        name: &str,
        label: &Label,
        glibc_floor: Option<&str>,
        macos_min: Option<&str>,
    ) -> Vec<String> {
        match self {
            Self::Elf(e) => e.problems(name, glibc_floor),
            Self::MachO(m) => m.problems(name, label, macos_min),
            Self::NotChecked(_) => Vec::new(),
        }
    }

    /// One line saying what was found, for a binary without problems.
    pub fn summary(&self, name: &str) -> String {
        match self {
            Self::Elf(e) => e.summary(name),
            Self::MachO(m) => m.summary(name),
            Self::NotChecked(reason) => format!("{name}: {reason}"),
        }
    }
}

/// The bytes of one binary a [`Collector`] kept: the leading bytes and a few ranges.
#[derive(Debug, Default)]
pub struct Captured {
    prefix: Vec<u8>,
    spans: Vec<(u64, Vec<u8>)>,
}

impl Captured {
    /// The leading bytes.
    pub fn prefix(&self) -> &[u8] {
        &self.prefix
    }

    /// The kept bytes from file offset `offset` to the end of the longest kept run
    /// holding it.
    pub fn from(&self, offset: u64) -> Option<&[u8]> {
        let prefix = usize::try_from(offset)
            .ok()
            .and_then(|at| self.prefix.get(at..))
            .filter(|rest| !rest.is_empty());
        let spans = self.spans.iter().filter_map(|(start, data)| {
            let at = usize::try_from(offset.checked_sub(*start)?).ok()?;
            data.get(at..).filter(|rest| !rest.is_empty())
        });
        prefix.into_iter().chain(spans).max_by_key(|s| s.len())
    }

    /// The `len` bytes at file offset `offset`, when they were kept in one run.
    pub fn get(&self, offset: u64, len: u64) -> Option<&[u8]> {
        let len = usize::try_from(len).ok()?;
        if len == 0 {
            return Some(&[]);
        }
        self.from(offset)?.get(..len)
    }
}

/// Where a [`Collector`] is.
#[derive(Debug)]
enum Stage {
    /// Reading the first [`HEAD_LEN`] bytes, to learn the format.
    Head,
    /// Reading the headers to their end.
    Prefix(Format),
    /// Keeping the ranges the headers point at.
    Spans(Format),
    /// Decided without more bytes.
    Done(Result<LoadInfo, String>),
}

/// Keeps what the load check needs of one binary while it streams past once: feed it
/// every chunk in order with [`Collector::feed`], then [`Collector::finish`].
///
/// It never panics and never keeps more than [`MAX_PREFIX`] + [`MAX_CAPTURE`] bytes; a
/// binary that would need more gets an error naming the size.
#[derive(Debug)]
pub struct Collector {
    size: u64,
    pos: u64,
    want: usize,
    captured: Captured,
    ends: Vec<u64>,
    stage: Stage,
}

impl Collector {
    /// A collector for a binary of `size` bytes (its tar header's size).
    pub fn new(size: u64) -> Self {
        Self {
            size,
            pos: 0,
            want: usize::try_from(size).map_or(HEAD_LEN, |s| s.min(HEAD_LEN)),
            captured: Captured::default(),
            ends: Vec::new(),
            stage: Stage::Head,
        }
    }

    /// Takes the next bytes of the binary.
    pub fn feed(&mut self, mut chunk: &[u8]) {
        while !chunk.is_empty() {
            match self.stage {
                Stage::Head | Stage::Prefix(_) => {
                    let have = self.captured.prefix.len();
                    let take = self.want.saturating_sub(have).min(chunk.len());
                    self.captured.prefix.extend_from_slice(&chunk[..take]);
                    self.pos += take as u64;
                    chunk = &chunk[take..];
                    if self.captured.prefix.len() >= self.want {
                        self.advance();
                    }
                }
                Stage::Spans(_) => {
                    self.keep(chunk);
                    self.pos = self.pos.saturating_add(chunk.len() as u64);
                    return;
                }
                Stage::Done(_) => return,
            }
        }
    }

    /// What was found, once every byte was fed.
    pub fn finish(mut self) -> Result<LoadInfo, String> {
        if matches!(self.stage, Stage::Head) {
            // A binary shorter than the head: judge what there is.
            self.advance();
        }
        match self.stage {
            Stage::Head | Stage::Prefix(_) => {
                Err("the file ends inside its headers (truncated)".to_owned())
            }
            Stage::Done(result) => result,
            Stage::Spans(format) => {
                let complete = self
                    .captured
                    .spans
                    .iter()
                    .zip(&self.ends)
                    .all(|((start, data), end)| start.checked_add(data.len() as u64) == Some(*end));
                if !complete {
                    return Err(
                        "the file ends before the tables its headers point at (truncated)"
                            .to_owned(),
                    );
                }
                match format {
                    Format::Elf => super::elf::read(&self.captured).map(LoadInfo::Elf),
                    Format::MachO => super::macho::read(&self.captured).map(LoadInfo::MachO),
                    Format::Pe => Ok(LoadInfo::NotChecked(
                        "a PE executable: its imports are not checked".to_owned(),
                    )),
                }
            }
        }
    }

    /// Moves on once the prefix is as long as wanted (or the file ended).
    fn advance(&mut self) {
        self.stage = match self.stage {
            Stage::Head => self.detect(),
            Stage::Prefix(format) => self.plan(format),
            Stage::Spans(_) | Stage::Done(_) => return,
        };
    }

    /// The format, from the head.
    fn detect(&mut self) -> Stage {
        let prefix = self.captured.prefix.as_slice();
        let not_checked = |why: &str| Stage::Done(Ok(LoadInfo::NotChecked(why.to_owned())));
        let (format, len) = match FileKind::parse(prefix) {
            Ok(FileKind::Elf32 | FileKind::Elf64) => (Format::Elf, super::elf::headers_len(prefix)),
            Ok(FileKind::MachO64) if prefix.starts_with(&macho::MH_MAGIC_64.to_le_bytes()) => {
                (Format::MachO, super::macho::headers_len(prefix))
            }
            Ok(FileKind::MachO64) => {
                return not_checked("a big-endian Mach-O: load commands not checked");
            }
            Ok(FileKind::MachO32) => {
                return not_checked("a 32-bit Mach-O: load commands not checked");
            }
            Ok(FileKind::MachOFat32 | FileKind::MachOFat64) => {
                return not_checked("universal binary: load commands not checked");
            }
            Ok(FileKind::Pe32 | FileKind::Pe64) => {
                return not_checked("a PE executable: its imports are not checked");
            }
            _ => return Stage::Done(Err("not an ELF, Mach-O or PE executable".to_owned())),
        };
        self.headers(format, len)
    }

    /// The next stage once the headers are known to take `len` bytes.
    fn headers(&mut self, format: Format, len: Result<(usize, &'static str), String>) -> Stage {
        let (len, what) = match len {
            Ok(x) => x,
            Err(e) => return Stage::Done(Err(e)),
        };
        if len > MAX_PREFIX {
            return Stage::Done(Err(format!(
                "its {what} take {len} bytes, more than the {MAX_PREFIX} parbuild reads"
            )));
        }
        if len as u64 > self.size {
            return Stage::Done(Err(format!(
                "its {what} take {len} bytes, more than the whole file ({} bytes)",
                self.size
            )));
        }
        if len <= self.captured.prefix.len() {
            self.plan(format)
        } else {
            self.want = len;
            Stage::Prefix(format)
        }
    }

    /// Decides which ranges to keep, from the complete headers.
    fn plan(&mut self, format: Format) -> Stage {
        let prefix = &self.captured.prefix;
        let spans = match format {
            Format::Elf => super::elf::spans(prefix, self.size),
            Format::MachO => super::macho::spans(prefix, self.size),
            Format::Pe => Ok(Vec::new()),
        };
        let spans = match spans {
            Ok(s) => s,
            Err(e) => return Stage::Done(Err(e)),
        };
        let total = spans.iter().try_fold(0u64, |sum, (start, end)| {
            sum.checked_add(end.checked_sub(*start)?)
        });
        match total {
            None => {
                return Stage::Done(Err("its headers point at impossible byte ranges".to_owned()));
            }
            Some(total) if total > MAX_CAPTURE => {
                return Stage::Done(Err(format!(
                    "the tables the load check reads take {total} bytes, more than the {MAX_CAPTURE} parbuild keeps per binary"
                )));
            }
            Some(_) => {}
        }
        for (start, end) in spans {
            // What the prefix already holds of it (both bounds are below its length).
            let have = prefix.len() as u64;
            let data = prefix
                .get(start.min(have) as usize..end.min(have) as usize)
                .map(<[u8]>::to_vec)
                .unwrap_or_default();
            self.captured.spans.push((start, data));
            self.ends.push(end);
        }
        Stage::Spans(format)
    }

    /// Keeps the parts of `chunk` (at `self.pos`) that fall in a wanted range.
    fn keep(&mut self, chunk: &[u8]) {
        let chunk_end = self.pos.saturating_add(chunk.len() as u64);
        for ((start, data), end) in self.captured.spans.iter_mut().zip(&self.ends) {
            let Some(next) = start.checked_add(data.len() as u64) else {
                continue;
            };
            if next < self.pos || next >= chunk_end || next >= *end {
                continue;
            }
            let from = (next - self.pos) as usize;
            let to = ((*end).min(chunk_end) - self.pos) as usize;
            data.extend_from_slice(&chunk[from..to]);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The load facts of `bytes`, fed to a [`Collector`] in chunks of `chunk` bytes.
    pub(crate) fn collect(bytes: &[u8], chunk: usize) -> Result<LoadInfo, String> {
        let mut c = Collector::new(bytes.len() as u64);
        for piece in bytes.chunks(chunk.max(1)) {
            c.feed(piece);
        }
        c.finish()
    }

    /// `rounds` copies of `good`, each with `bytes` random bytes overwritten past its magic
    /// (xorshift from `seed`, so every run damages the same way).
    pub(crate) fn damaged(good: &[u8], mut seed: u64, rounds: usize, bytes: usize) -> Vec<Vec<u8>> {
        (0..rounds)
            .map(|_| {
                let mut bad = good.to_vec();
                for _ in 0..bytes {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let at = 4 + usize::try_from(seed % (bad.len() as u64 - 4)).unwrap_or(0);
                    bad[at] = seed.to_be_bytes()[2];
                }
                bad
            })
            .collect()
    }

    /// A minimal ELF header for `machine`.
    pub(crate) fn elf(machine: u16, is64: bool) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = if is64 { 2 } else { 1 };
        h[5] = 1; // little endian
        h[6] = 1; // version
        h[16] = 2; // ET_EXEC
        h[18..20].copy_from_slice(&machine.to_le_bytes());
        h[20] = 1;
        h
    }

    /// A minimal thin Mach-O 64 header for `cpu`.
    pub(crate) fn macho64(cpu: u32) -> Vec<u8> {
        let mut h = vec![0u8; 32];
        h[..4].copy_from_slice(&macho::MH_MAGIC_64.to_le_bytes());
        h[4..8].copy_from_slice(&cpu.to_le_bytes());
        h[12..16].copy_from_slice(&macho::MH_EXECUTE.to_le_bytes());
        h
    }

    /// A minimal PE32+ header for `machine`.
    pub(crate) fn pe64(machine: u16) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        h[..2].copy_from_slice(b"MZ");
        h[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        h[0x80..0x84].copy_from_slice(b"PE\0\0");
        h[0x84..0x86].copy_from_slice(&machine.to_le_bytes());
        h[0x94..0x96].copy_from_slice(&240u16.to_le_bytes()); // SizeOfOptionalHeader
        h[0x98..0x9a].copy_from_slice(&pe::IMAGE_NT_OPTIONAL_HDR64_MAGIC.to_le_bytes());
        h
    }

    fn label(s: &str) -> Label {
        Label::parse(s).unwrap()
    }

    #[test]
    fn matches_and_mismatches() {
        assert_eq!(
            check(&label("x86_64-linux"), &elf(elf::EM_X86_64, true)),
            Ok(())
        );
        assert_eq!(
            check(&label("aarch64-linux"), &elf(elf::EM_AARCH64, true)),
            Ok(())
        );
        assert_eq!(check(&label("arm-linux"), &elf(elf::EM_ARM, false)), Ok(()));
        assert_eq!(
            check(&label("armv7-linux"), &elf(elf::EM_ARM, false)),
            Ok(())
        );
        assert!(
            check(&label("x86_64-linux"), &elf(elf::EM_AARCH64, true))
                .unwrap_err()
                .contains("another CPU")
        );
        assert!(
            check(&label("x86_64-linux"), &elf(elf::EM_X86_64, false)).is_err(),
            "class matters"
        );
        assert_eq!(
            check(&label("aarch64-macos"), &macho64(macho::CPU_TYPE_ARM64)),
            Ok(())
        );
        assert!(check(&label("x86_64-macos"), &macho64(macho::CPU_TYPE_ARM64)).is_err());
        assert_eq!(
            check(
                &label("x86_64-windows"),
                &pe64(pe::IMAGE_FILE_MACHINE_AMD64)
            ),
            Ok(())
        );
        assert!(
            check(
                &label("aarch64-windows"),
                &pe64(pe::IMAGE_FILE_MACHINE_AMD64)
            )
            .is_err()
        );
        let e = check(&label("x86_64-macos"), &elf(elf::EM_X86_64, true)).unwrap_err();
        assert!(e.contains("ELF") && e.contains("Mach-O"), "{e}");
        assert!(
            check(&label("x86_64-linux"), b"#!/bin/sh\necho hi\n")
                .unwrap_err()
                .contains("not an executable")
        );
        assert!(
            check(&label("x86_64-plan9"), &elf(elf::EM_X86_64, true))
                .unwrap_err()
                .contains("unknown OS")
        );
        assert!(
            check(&label("vax-linux"), &elf(elf::EM_X86_64, true))
                .unwrap_err()
                .contains("unknown architecture")
        );
        for n in 0..70 {
            let _ = check(
                &label("x86_64-linux"),
                &elf(elf::EM_X86_64, true)[..n.min(64)],
            );
            let _ = check(
                &label("x86_64-windows"),
                &pe64(pe::IMAGE_FILE_MACHINE_AMD64)[..n.min(512)],
            );
        }
    }

    #[test]
    fn this_test_binary_is_host_native() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let host = format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS);
        assert_eq!(
            check(&label(&host), &exe[..HEAD_LEN.min(exe.len())]),
            Ok(())
        );
    }
}
