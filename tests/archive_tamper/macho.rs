//! Small but loadable-looking thin Mach-O images for the archive tests: a header, dylib
//! load commands, `LC_BUILD_VERSION`, `LC_SYMTAB` with imports bound by ordinal, and for
//! arm64 an `LC_CODE_SIGNATURE`, so `parbuild verify`'s `loads` check has something real
//! to read (a bare header fails it).

#![allow(dead_code)] // each test binary uses part of it

/// x86_64.
pub const CPU_X86_64: u32 = 0x0100_0007;
/// arm64.
pub const CPU_ARM64: u32 = 0x0100_000C;

/// libSystem's install name.
pub const LIBSYSTEM: &str = "/usr/lib/libSystem.B.dylib";

/// A system framework's install name.
pub fn framework(name: &str) -> String {
    format!("/System/Library/Frameworks/{name}.framework/Versions/A/{name}")
}

/// A sound binary for `cpu` (macOS 11.0, two-level, arm64 signed) loading libSystem,
/// CoreFoundation and Security, importing a few of their symbols.
pub fn sound(cpu: u32) -> Vec<u8> {
    image(
        cpu,
        &[
            LIBSYSTEM,
            &framework("CoreFoundation"),
            &framework("Security"),
        ],
        &[
            ("_malloc", 1),
            ("dyld_stub_binder", 1),
            ("_CFRelease", 2),
            ("_SecTrustSettingsCopyCertificates", 3),
        ],
    )
}

/// A binary for `cpu` loading `dylibs` (in ordinal order) and importing `imports`
/// (`(symbol, library ordinal)`), signed when it is arm64.
pub fn image(cpu: u32, dylibs: &[&str], imports: &[(&str, u8)]) -> Vec<u8> {
    image_signed(cpu, dylibs, imports, cpu == CPU_ARM64)
}

/// [`image`], with an `LC_CODE_SIGNATURE` or without.
pub fn image_signed(cpu: u32, dylibs: &[&str], imports: &[(&str, u8)], signed: bool) -> Vec<u8> {
    fn u32s(out: &mut Vec<u8>, values: &[u32]) {
        for v in values {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    fn cmd(cmds: &mut Vec<u8>, n: &mut u32, kind: u32, body: &[u8]) {
        let size = (8 + body.len()).div_ceil(8) * 8;
        u32s(cmds, &[kind, size as u32]);
        cmds.extend_from_slice(body);
        cmds.resize(cmds.len() + size - 8 - body.len(), 0);
        *n += 1;
    }
    let mut cmds = Vec::new();
    let mut n = 0;
    for path in dylibs {
        let mut body = Vec::new();
        u32s(&mut body, &[24, 2, 0x0001_0000, 0x0001_0000]);
        body.extend_from_slice(path.as_bytes());
        body.push(0);
        cmd(&mut cmds, &mut n, 0xc, &body); // LC_LOAD_DYLIB
    }
    let mut body = Vec::new();
    u32s(&mut body, &[1, 11 << 16, 14 << 16, 0]); // macOS, minos 11.0, sdk 14.0
    cmd(&mut cmds, &mut n, 0x32, &body); // LC_BUILD_VERSION
    let mut strings = vec![b' ', 0];
    let mut nlists = Vec::new();
    for (name, ordinal) in imports {
        nlists.extend_from_slice(&(strings.len() as u32).to_le_bytes());
        strings.extend_from_slice(name.as_bytes());
        strings.push(0);
        nlists.extend_from_slice(&[0x01, 0]); // N_UNDF | N_EXT, NO_SECT
        nlists.extend_from_slice(&(u16::from(*ordinal) << 8).to_le_bytes());
        nlists.extend_from_slice(&0u64.to_le_bytes());
    }
    let fixed = 24 + if signed { 16 } else { 0 };
    let code = 512;
    let symoff = 32 + cmds.len() + fixed + code;
    let stroff = symoff + nlists.len();
    let sigoff = stroff + strings.len();
    let mut body = Vec::new();
    u32s(
        &mut body,
        &[
            symoff as u32,
            imports.len() as u32,
            stroff as u32,
            strings.len() as u32,
        ],
    );
    cmd(&mut cmds, &mut n, 0x2, &body); // LC_SYMTAB
    if signed {
        let mut body = Vec::new();
        u32s(&mut body, &[sigoff as u32, 16]);
        cmd(&mut cmds, &mut n, 0x1d, &body); // LC_CODE_SIGNATURE
    }
    let mut out = Vec::new();
    // MH_MAGIC_64, cpu, subtype, MH_EXECUTE, ncmds, sizeofcmds,
    // MH_NOUNDEFS | MH_DYLDLINK | MH_TWOLEVEL | MH_PIE, reserved
    u32s(
        &mut out,
        &[0xfeed_facf, cpu, 3, 2, n, cmds.len() as u32, 0x0020_0085, 0],
    );
    out.extend(cmds);
    out.resize(out.len() + code, 0x90);
    assert_eq!(out.len(), symoff);
    out.extend(nlists);
    out.extend(strings);
    if signed {
        out.extend_from_slice(&[0xfa, 0xde, 0x0c, 0xc0]);
        out.resize(out.len() + 12, 0);
    }
    out
}
