//! Compression around the tar: gzip with wash's header (single member, level 9, mtime 0,
//! OS 255), deflated on every core by [`super::gzip`], none, or zstd (parbuild only); and the reading side, which detects
//! the codec from the magic bytes like wasmCloud does, caps the decompressed size and
//! afterwards checks that nothing follows the one compressed stream.

use std::io::{self, BufRead, Read, Write};

use super::Compression;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// The zstd level: a good ratio without minutes of CPU for a 50 MB provider.
const ZSTD_LEVEL: i32 = 12;

impl Compression {
    /// The name used in flags, `par.toml` and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::None => "none",
            Self::Zstd => "zstd",
        }
    }

    /// The usual file extension (`par.gz`, `par`, `par.zst`).
    pub fn extension(self) -> &'static str {
        match self {
            Self::Gzip => "par.gz",
            Self::None => "par",
            Self::Zstd => "par.zst",
        }
    }

    /// Detects the codec from the first bytes, as wasmCloud's loader does for gzip.
    pub fn detect(head: &[u8]) -> Self {
        if head.starts_with(&GZIP_MAGIC) {
            Self::Gzip
        } else if head.starts_with(&ZSTD_MAGIC) {
            Self::Zstd
        } else {
            Self::None
        }
    }
}

/// A writer that compresses into `W`; call [`Encoder::finish`] to complete the stream.
pub enum Encoder<W: Write> {
    /// gzip, deflated in parallel into one member.
    Gzip(super::gzip::ParallelGzip<W>),
    /// Plain.
    None(W),
    /// zstd.
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Encoder<W> {
    /// Starts a stream.
    pub fn new(out: W, compression: Compression) -> io::Result<Self> {
        Ok(match compression {
            // Header `1F 8B 08 00 00000000 02 FF`: no name, mtime 0, best level, OS unknown.
            Compression::Gzip => Self::Gzip(super::gzip::ParallelGzip::new(
                out,
                super::gzip::LEVEL,
                super::gzip::ParallelGzip::<W>::default_threads(),
            )?),
            Compression::None => Self::None(out),
            Compression::Zstd => {
                let mut enc = zstd::stream::write::Encoder::new(out, ZSTD_LEVEL)?;
                enc.include_checksum(true)?;
                Self::Zstd(enc)
            }
        })
    }

    /// Ends the stream and returns the writer below.
    pub fn finish(self) -> io::Result<W> {
        match self {
            Self::Gzip(e) => e.finish(),
            Self::None(w) => Ok(w),
            Self::Zstd(e) => e.finish(),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Gzip(e) => e.write(buf),
            Self::None(w) => w.write(buf),
            Self::Zstd(e) => e.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Gzip(e) => e.flush(),
            Self::None(w) => w.flush(),
            Self::Zstd(e) => e.flush(),
        }
    }
}

/// Error kind used for "more than the cap"; recognised by [`is_cap_error`].
const CAP_MESSAGE: &str = "decompressed size exceeds the limit";

/// Whether `e` came from the decompression cap.
pub fn is_cap_error(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Other && e.to_string().starts_with(CAP_MESSAGE)
}

/// A decompressing reader over `R` that fails once more than `cap` bytes came out.
pub struct Decoder<R: BufRead> {
    inner: DecoderInner<R>,
    produced: u64,
    cap: u64,
}

enum DecoderInner<R: BufRead> {
    // Boxed: zlib-rs's inflate state is large.
    Gzip(Box<flate2::bufread::GzDecoder<R>>),
    None(R),
    Zstd(zstd::stream::read::Decoder<'static, R>),
}

impl<R: BufRead> Decoder<R> {
    /// Detects the codec from `input`'s first bytes and wraps it.
    pub fn new(mut input: R, cap: u64) -> io::Result<(Self, Compression)> {
        let compression = Compression::detect(input.fill_buf()?);
        let inner = match compression {
            Compression::Gzip => {
                DecoderInner::Gzip(Box::new(flate2::bufread::GzDecoder::new(input)))
            }
            Compression::None => DecoderInner::None(input),
            Compression::Zstd => {
                DecoderInner::Zstd(zstd::stream::read::Decoder::with_buffer(input)?.single_frame())
            }
        };
        Ok((
            Self {
                inner,
                produced: 0,
                cap,
            },
            compression,
        ))
    }

    /// Reads the decompressed stream to its end (which checks the gzip CRC and length
    /// and the zstd checksum), then returns whether anything follows the compressed stream:
    /// `Ok(Some(what))` names the trailing data. For plain tar, the rest must be zeros.
    pub fn finish(mut self) -> io::Result<Option<String>> {
        let mut buf = [0u8; 8192];
        let mut nonzero = false;
        loop {
            let n = self.read(&mut buf)?;
            if n == 0 {
                break;
            }
            nonzero |= buf[..n].iter().any(|&b| b != 0);
        }
        let (mut rest, what) = match self.inner {
            DecoderInner::Gzip(d) => (
                d.into_inner(),
                "a second gzip member or other data after the gzip stream",
            ),
            DecoderInner::Zstd(d) => (
                d.finish(),
                "a second zstd frame or other data after the zstd stream",
            ),
            DecoderInner::None(_) => {
                return Ok(
                    nonzero.then(|| "non-zero data after the end-of-archive marker".to_owned())
                );
            }
        };
        if nonzero {
            return Ok(Some(
                "non-zero data after the end-of-archive marker".to_owned(),
            ));
        }
        Ok((!rest.fill_buf()?.is_empty()).then(|| what.to_owned()))
    }
}

impl<R: BufRead> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Ask for at most one byte more than the cap allows, so the cap is exact.
        let room = self.cap.saturating_sub(self.produced).saturating_add(1);
        let want = usize::try_from(room.min(buf.len() as u64)).unwrap_or(buf.len());
        let n = match &mut self.inner {
            DecoderInner::Gzip(d) => d.read(&mut buf[..want])?,
            DecoderInner::None(r) => r.read(&mut buf[..want])?,
            DecoderInner::Zstd(d) => d.read(&mut buf[..want])?,
        };
        self.produced += n as u64;
        if self.produced > self.cap {
            return Err(io::Error::other(format!(
                "{CAP_MESSAGE} of {} bytes",
                self.cap
            )));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(c: Compression, data: &[u8]) -> Vec<u8> {
        let mut e = Encoder::new(Vec::new(), c).unwrap();
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn decode(bytes: &[u8], cap: u64) -> io::Result<(Vec<u8>, Option<String>)> {
        let (mut d, _) = Decoder::new(bytes, cap)?;
        let mut out = vec![0u8; 4];
        let n = super::super::tar::read_full(&mut d, &mut out)?;
        out.truncate(n);
        Ok((out, d.finish()?))
    }

    #[test]
    fn gzip_header_like_wash() {
        let gz = encode(Compression::Gzip, b"data");
        assert_eq!(&gz[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
    }

    #[test]
    fn round_trips_and_trailing_data() {
        for c in [Compression::Gzip, Compression::None, Compression::Zstd] {
            let bytes = encode(c, b"abcd\0\0\0\0");
            assert_eq!(Compression::detect(&bytes), c);
            assert_eq!(
                decode(&bytes, 100).unwrap(),
                (b"abcd".to_vec(), None),
                "{c:?}"
            );
            let mut twice = bytes.clone();
            twice.extend_from_slice(&encode(c, b"\0"));
            let trailing = decode(&twice, 100).unwrap().1;
            assert_eq!(trailing.is_some(), c != Compression::None, "{c:?}");
            let mut garbage = bytes.clone();
            garbage.push(b'x');
            assert!(decode(&garbage, 100).unwrap().1.is_some(), "{c:?}");
        }
    }

    #[test]
    fn cap_is_enforced() {
        let gz = encode(Compression::Gzip, &[0u8; 10_000]);
        let err = decode(&gz, 9_999).unwrap_err();
        assert!(is_cap_error(&err));
        assert!(decode(&gz, 10_000).is_ok());
    }
}
