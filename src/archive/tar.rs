//! The tar layer. Headers come from the `tar` crate: `Header::new_gnu()` with only the
//! path and size set is exactly what wash writes (spec §1.3: mode, uid and gid all NUL,
//! mtime 0, a 7-digit checksum), so archives are byte-identical to provider-archive's for
//! the same entries.
//!
//! Reading is a strict, bounded block reader written here rather than `tar::Archive`,
//! because the verifier must see the raw sequence (a PAX or GNU long-name header that
//! renames the next entry, each entry's real type, the end-of-archive marker, trailing
//! data), which `tar::Archive` folds away. It accepts GNU, ustar and PAX headers, reports
//! every entry with its real type (directories and links are surfaced, not skipped) and
//! never allocates more than [`MAX_META`] bytes for any extended header, whatever the
//! input says.
//!
//! One file because the writer and the strict reader share the block layout ([`BLOCK`],
//! [`padding`], the end marker), and the tests read back what the writer emits.

use std::io::{self, Read, Write};

/// The tar block size.
pub const BLOCK: usize = 512;

/// Largest PAX or GNU long-name record the reader accepts.
pub const MAX_META: u64 = 64 * 1024;

/// The 512-byte GNU header wash writes for a regular file `name` of `size` bytes: the
/// `tar` crate's `Header::new_gnu()` with only the path and size set, which is exactly
/// what provider-archive writes (spec §1.3).
pub fn gnu_header(name: &str, size: u64) -> io::Result<[u8; BLOCK]> {
    if name.is_empty() || name.len() > 100 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("entry name `{name}` must be 1 to 100 bytes"),
        ));
    }
    if size >= 0o100_000_000_000 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "entry larger than 8 GiB",
        ));
    }
    let mut header = ::tar::Header::new_gnu();
    header.set_path(name)?;
    header.set_size(size);
    header.set_cksum();
    Ok(*header.as_bytes())
}

/// Zero padding after `size` bytes of data.
pub fn padding(size: u64) -> usize {
    let rem = usize::try_from(size % BLOCK as u64).unwrap_or(0);
    if rem == 0 { 0 } else { BLOCK - rem }
}

/// Writes one regular-file entry whose data comes from `data`; exactly `size` bytes are
/// copied and `on_chunk` sees each of them (for hashing). Fails if `data` is shorter.
pub fn write_entry(
    out: &mut impl Write,
    name: &str,
    size: u64,
    data: &mut impl Read,
    mut on_chunk: impl FnMut(&[u8]),
) -> io::Result<()> {
    out.write_all(&gnu_header(name, size)?)?;
    let mut left = size;
    let mut buf = vec![0u8; 64 * 1024];
    while left > 0 {
        let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
        let n = data.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("`{name}` became shorter while it was being written"),
            ));
        }
        on_chunk(&buf[..n]);
        out.write_all(&buf[..n])?;
        left -= n as u64;
    }
    out.write_all(&[0u8; BLOCK][..padding(size)])
}

/// The end-of-archive marker: two zero blocks.
pub fn write_end(out: &mut impl Write) -> io::Result<()> {
    out.write_all(&[0u8; 2 * BLOCK])
}

/// What kind of entry a header describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A regular file (`0` or NUL, or `7` contiguous).
    File,
    /// A directory (`5`).
    Directory,
    /// A hard link (`1`).
    HardLink,
    /// A symbolic link (`2`).
    Symlink,
    /// Anything else (devices, FIFOs, sparse files, unknown types).
    Other(u8),
}

/// One entry's header, after PAX and GNU long-name records were applied.
#[derive(Debug, Clone)]
pub struct EntryHeader {
    /// The path as stored (PAX `path`, GNU long name, or ustar prefix + name).
    pub name: String,
    /// The entry type.
    pub kind: EntryKind,
    /// The data size.
    pub size: u64,
}

/// Why the tar stream is not valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarError(pub String);

impl std::fmt::Display for TarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A streaming tar reader: call [`TarReader::next_header`], then read exactly the entry's
/// data with [`TarReader::read_data`] (or skip it), until `None`.
pub struct TarReader<R> {
    inner: R,
    /// Data bytes of the current entry not yet consumed.
    left: u64,
    /// Padding after the current entry.
    pad: usize,
    /// Headers read so far.
    headers: u64,
}

/// Reading failed: either the bytes are not tar, or the stream below failed.
#[derive(Debug)]
pub enum ReadFailure {
    /// The stream below (decompression, cap, I/O) failed.
    Io(io::Error),
    /// The bytes are not a valid tar.
    Tar(TarError),
}

impl From<io::Error> for ReadFailure {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

fn bad(msg: impl Into<String>) -> ReadFailure {
    ReadFailure::Tar(TarError(msg.into()))
}

impl<R: Read> TarReader<R> {
    /// A reader over a decompressed tar stream.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            left: 0,
            pad: 0,
            headers: 0,
        }
    }

    /// The stream below (to check what follows the end marker).
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Reads the next entry's header; `Ok(None)` at the end-of-archive marker, which must
    /// be two zero blocks. Skips any unread data of the previous entry.
    pub fn next_header(&mut self) -> Result<Option<EntryHeader>, ReadFailure> {
        self.skip_rest()?;
        let mut long_name: Option<String> = None;
        let mut pax_path: Option<String> = None;
        let mut pax_size: Option<u64> = None;
        loop {
            let mut block = [0u8; BLOCK];
            let got = read_full(&mut self.inner, &mut block)?;
            if self.headers == 0 && got < BLOCK {
                return Err(bad(if got == 0 {
                    "the file is empty: not a tar archive"
                } else {
                    "not a tar archive (shorter than one 512-byte header)"
                }));
            }
            if got == 0 {
                return Err(bad(
                    "the archive ends without an end-of-archive marker (truncated?)",
                ));
            }
            if got < BLOCK {
                return Err(bad(
                    "the archive ends in the middle of a header (truncated)",
                ));
            }
            if block.iter().all(|&b| b == 0) {
                if long_name.is_some() || pax_path.is_some() || pax_size.is_some() {
                    return Err(bad("an extended header is not followed by an entry"));
                }
                let mut second = [0u8; BLOCK];
                let got = read_full(&mut self.inner, &mut second)?;
                if got < BLOCK || second.iter().any(|&b| b != 0) {
                    return Err(bad("the end-of-archive marker is not two zero blocks"));
                }
                return Ok(None);
            }
            if self.headers == 0 && check_checksum(&block).is_err() {
                return Err(bad(
                    "not a tar archive (the first block is not a valid tar header)",
                ));
            }
            check_checksum(&block)?;
            self.headers += 1;
            let size = parse_number(&block[124..136])
                .ok_or_else(|| bad("a header has an invalid size field"))?;
            let flag = block[156];
            match flag {
                b'x' | b'g' | b'L' | b'K' => {
                    if size > MAX_META {
                        return Err(bad(format!(
                            "an extended header of {size} bytes is larger than allowed"
                        )));
                    }
                    let data = self.read_meta(size)?;
                    match flag {
                        b'L' => long_name = Some(c_string(&data)),
                        b'x' => {
                            for (key, value) in parse_pax(&data)? {
                                match key.as_str() {
                                    "path" => pax_path = Some(value),
                                    "size" => {
                                        pax_size = Some(value.parse().map_err(|_| {
                                            bad("a PAX `size` record is not a number")
                                        })?);
                                    }
                                    _ => {}
                                }
                            }
                        }
                        // Global PAX headers and GNU long link names do not name this entry.
                        _ => {}
                    }
                }
                _ => {
                    let size = pax_size.unwrap_or(size);
                    let name = pax_path
                        .or(long_name)
                        .unwrap_or_else(|| header_name(&block));
                    let kind = match flag {
                        0 | b'0' | b'7' => EntryKind::File,
                        b'5' => EntryKind::Directory,
                        b'1' => EntryKind::HardLink,
                        b'2' => EntryKind::Symlink,
                        other => EntryKind::Other(other),
                    };
                    // Directories and links carry no data even if the size field says so,
                    // as GNU tar reads them; everything else has `size` bytes of data.
                    let data = if matches!(
                        kind,
                        EntryKind::Directory | EntryKind::HardLink | EntryKind::Symlink
                    ) {
                        0
                    } else {
                        size
                    };
                    self.left = data;
                    self.pad = padding(data);
                    return Ok(Some(EntryHeader { name, kind, size }));
                }
            }
        }
    }

    /// Reads up to `buf.len()` bytes of the current entry's data; 0 at its end. A stream
    /// that ends early is a truncation error.
    pub fn read_data(&mut self, buf: &mut [u8]) -> Result<usize, ReadFailure> {
        if self.left == 0 {
            return Ok(0);
        }
        let want = usize::try_from(self.left.min(buf.len() as u64)).unwrap_or(buf.len());
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(bad(
                "the archive ends in the middle of an entry (truncated)",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }

    fn skip_rest(&mut self) -> Result<(), ReadFailure> {
        let mut buf = [0u8; 8192];
        while self.read_data(&mut buf)? > 0 {}
        if self.pad > 0 {
            let pad = self.pad;
            self.pad = 0;
            if read_full(&mut self.inner, &mut buf[..pad])? < pad {
                return Err(bad(
                    "the archive ends in the padding of an entry (truncated)",
                ));
            }
        }
        Ok(())
    }

    fn read_meta(&mut self, size: u64) -> Result<Vec<u8>, ReadFailure> {
        self.left = size;
        self.pad = padding(size);
        let mut data = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            let n = self.read_data(&mut buf)?;
            if n == 0 {
                break;
            }
            data.extend_from_slice(&buf[..n]);
        }
        self.skip_rest()?;
        Ok(data)
    }
}

/// Reads until `buf` is full or the stream ends; returns how much was read.
pub fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

fn check_checksum(block: &[u8; BLOCK]) -> Result<(), ReadFailure> {
    let stored = parse_number(&block[148..156])
        .ok_or_else(|| bad("a header has an invalid checksum field"))?;
    let sum: u64 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                u64::from(b' ')
            } else {
                u64::from(b)
            }
        })
        .sum();
    if stored == sum {
        Ok(())
    } else {
        Err(bad(
            "a header checksum does not match (corrupt or not a tar archive)",
        ))
    }
}

/// An octal field (spaces and NULs around it allowed) or GNU base-256.
fn parse_number(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        if field[0] != 0x80 {
            return None; // negative or absurdly large
        }
        let mut v: u64 = 0;
        for &b in &field[1..] {
            v = v.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(v);
    }
    let text = field
        .iter()
        .copied()
        .skip_while(|&b| b == b' ')
        .take_while(|&b| b != 0 && b != b' ');
    let mut v: u64 = 0;
    let mut any = false;
    for b in text {
        if !(b'0'..=b'7').contains(&b) {
            return None;
        }
        v = v.checked_mul(8)?.checked_add(u64::from(b - b'0'))?;
        any = true;
    }
    any.then_some(v)
}

fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// The name field, with the ustar prefix (offset 345) when the magic is POSIX ustar.
fn header_name(block: &[u8; BLOCK]) -> String {
    let name = c_string(&block[..100]);
    if &block[257..263] == b"ustar\0" {
        let prefix = c_string(&block[345..500]);
        if !prefix.is_empty() {
            return format!("{prefix}/{name}");
        }
    }
    name
}

/// `LEN KEY=VALUE\n` records.
fn parse_pax(mut data: &[u8]) -> Result<Vec<(String, String)>, ReadFailure> {
    let mut out = Vec::new();
    while !data.is_empty() && data[0] != 0 {
        let space = data
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| bad("a PAX record has no length"))?;
        let len: usize = std::str::from_utf8(&data[..space])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("a PAX record has an invalid length"))?;
        if len <= space + 1 || len > data.len() || data[len - 1] != b'\n' {
            return Err(bad("a PAX record is malformed"));
        }
        let record = &data[space + 1..len - 1];
        let eq = record
            .iter()
            .position(|&b| b == b'=')
            .ok_or_else(|| bad("a PAX record has no `=`"))?;
        out.push((
            String::from_utf8_lossy(&record[..eq]).into_owned(),
            String::from_utf8_lossy(&record[eq + 1..]).into_owned(),
        ));
        data = &data[len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_matches_spec_table() {
        let h = gnu_header("x86_64-linux.bin", 733).unwrap();
        assert_eq!(&h[..16], b"x86_64-linux.bin");
        assert!(h[100..124].iter().all(|&b| b == 0), "mode/uid/gid NUL");
        assert_eq!(&h[124..136], b"00000001335\0");
        assert_eq!(&h[136..148], b"00000000000\0");
        assert_eq!(h[155], 0, "7 digits then NUL");
        assert_eq!(h[156], 0);
        assert_eq!(&h[257..265], b"ustar  \0");
        let mut r = TarReader::new(&h[..]);
        assert_eq!(r.next_header().unwrap().unwrap().size, 733);
        assert!(
            matches!(r.read_data(&mut [0u8; 8]), Err(ReadFailure::Tar(_))),
            "no data: truncated"
        );
    }

    #[test]
    fn round_trip_and_end_marker() {
        let mut out = Vec::new();
        write_entry(&mut out, "a.bin", 3, &mut &b"abc"[..], |_| {}).unwrap();
        write_end(&mut out).unwrap();
        assert_eq!(out.len(), 4 * BLOCK);
        let mut r = TarReader::new(&out[..]);
        let h = r.next_header().unwrap().unwrap();
        assert_eq!(
            (h.name.as_str(), h.kind, h.size),
            ("a.bin", EntryKind::File, 3)
        );
        let mut buf = [0u8; 10];
        assert_eq!(r.read_data(&mut buf).unwrap(), 3);
        assert!(r.next_header().unwrap().is_none());
        // One zero block only: not a valid end.
        let mut r = TarReader::new(&out[..2 * BLOCK]);
        r.next_header().unwrap();
        assert!(r.next_header().is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number(b"0005627\0"), Some(0o5627));
        assert_eq!(parse_number(b"005627\0 "), Some(0o5627));
        assert_eq!(parse_number(b"\0\0\0\0"), None);
        assert_eq!(parse_number(&[0x80, 0, 0, 1, 0]), Some(256));
        assert_eq!(parse_number(b"9"), None);
        assert_eq!(
            parse_pax(b"13 path=a.bi\n").unwrap(),
            [("path".into(), "a.bi".into())]
        );
        assert!(parse_pax(b"99 path=x\n").is_err());
    }
}
