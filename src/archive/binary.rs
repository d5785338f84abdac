//! Does a binary fit its label? The label's OS names the executable format (ELF, Mach-O,
//! PE) and its ARCH the CPU; this reads only the file headers (the first [`HEAD_LEN`]
//! bytes), through the `object` crate, so a 100 MB binary is never held in memory.

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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

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
