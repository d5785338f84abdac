//! Compression around the tar: gzip with wash's header (single member, level 9, mtime 0,
//! OS 255), deflated on every core by [`super::gzip`], none, or zstd (parbuild only); and the reading side, which detects
//! the codec from the magic bytes like wasmCloud does, caps the decompressed size and
//! afterwards checks that nothing follows the one compressed stream. [`Decoder::ahead`]
//! decompresses on a thread of its own, ahead of a reader that hashes and parses.

use std::io::{self, BufRead, Read, Write};
use std::sync::mpsc::{Receiver, Sender, SyncSender};

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
        if nonzero {
            return Ok(Some(NONZERO_AFTER_END.to_owned()));
        }
        self.after_stream()
    }

    /// Once the decompressed stream has ended: what follows the compressed stream, if
    /// anything (nothing to check for plain tar, whose zeros [`Decoder::finish`] checks).
    fn after_stream(self) -> io::Result<Option<String>> {
        let (mut rest, what) = match self.inner {
            DecoderInner::Gzip(d) => (
                d.into_inner(),
                "a second gzip member or other data after the gzip stream",
            ),
            DecoderInner::Zstd(d) => (
                d.finish(),
                "a second zstd frame or other data after the zstd stream",
            ),
            DecoderInner::None(_) => return Ok(None),
        };
        Ok((!rest.fill_buf()?.is_empty()).then(|| what.to_owned()))
    }

    /// Runs `consume` on the decompressed stream while a thread of its own decompresses
    /// ahead of it (at most [`AHEAD_BLOCKS`] blocks of [`AHEAD_BLOCK`] bytes), so
    /// inflating overlaps whatever `consume` does with the bytes (hashing, parsing).
    /// [`Ahead`] reads and finishes like the decoder itself: the same bytes, the same
    /// error, the same trailing-data answer. (How many bytes come before an error
    /// depends, there as here, on the size of the reads: a failing call's output is
    /// dropped.)
    pub fn ahead<T>(self, consume: impl FnOnce(Ahead) -> T) -> T
    where
        R: Send,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(AHEAD_BLOCKS);
        let (spare_tx, spare_rx) = std::sync::mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(move || self.decompress_into(&tx, &spare_rx));
            consume(Ahead {
                blocks: rx,
                spare: spare_tx,
                current: Vec::new(),
                len: 0,
                at: 0,
                end: None,
            })
            // `Ahead` is dropped here: a producer still running sees the channel
            // closed at its next block and stops, and the scope joins it.
        })
    }

    /// The producer of [`Decoder::ahead`]: whole blocks, then the end or the error.
    fn decompress_into(mut self, tx: &SyncSender<Block>, spare: &Receiver<Vec<u8>>) {
        loop {
            let mut buf = spare.try_recv().unwrap_or_default();
            buf.resize(AHEAD_BLOCK, 0);
            let mut len = 0;
            let mut failed = None;
            while len < AHEAD_BLOCK {
                match self.read(&mut buf[len..]) {
                    Ok(0) => break,
                    Ok(n) => len += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            if len > 0 && tx.send(Block::Data(buf, len)).is_err() {
                return;
            }
            if let Some(e) = failed {
                let _ = tx.send(Block::Failed(e));
                return;
            }
            if len < AHEAD_BLOCK {
                let _ = tx.send(Block::End(self.after_stream()));
                return;
            }
        }
    }
}

/// A decompressed stream that can say, once read to its end, what follows it:
/// [`Decoder`] on the caller's thread, [`Ahead`] fed by a thread of its own.
pub trait Decompressed: Read {
    /// Reads the rest, then names anything after the compressed stream (see
    /// [`Decoder::finish`]).
    fn finish(self) -> io::Result<Option<String>>;
}

impl<R: BufRead> Decompressed for Decoder<R> {
    fn finish(self) -> io::Result<Option<String>> {
        Decoder::finish(self)
    }
}

impl Decompressed for Ahead {
    fn finish(self) -> io::Result<Option<String>> {
        Ahead::finish(self)
    }
}

/// What follows the end-of-archive marker when it is not only zeros.
const NONZERO_AFTER_END: &str = "non-zero data after the end-of-archive marker";

/// Decompressed bytes per block handed from [`Decoder::ahead`]'s thread.
pub const AHEAD_BLOCK: usize = 256 * 1024;
/// Blocks [`Decoder::ahead`]'s thread may be ahead of the reader.
pub const AHEAD_BLOCKS: usize = 4;

enum Block {
    /// A block and how many of its bytes are data.
    Data(Vec<u8>, usize),
    /// Decompressing failed here.
    Failed(io::Error),
    /// The stream ended; what follows it.
    End(io::Result<Option<String>>),
}

/// The reading end of [`Decoder::ahead`].
pub struct Ahead {
    blocks: Receiver<Block>,
    spare: Sender<Vec<u8>>,
    current: Vec<u8>,
    len: usize,
    at: usize,
    end: Option<io::Result<Option<String>>>,
}

impl Ahead {
    /// Like [`Decoder::finish`]: reads the rest, then says what follows the stream.
    pub fn finish(mut self) -> io::Result<Option<String>> {
        let mut nonzero = false;
        loop {
            nonzero |= self.current[self.at..self.len].iter().any(|&b| b != 0);
            self.at = self.len;
            if !self.next_block()? {
                break;
            }
        }
        if nonzero {
            return Ok(Some(NONZERO_AFTER_END.to_owned()));
        }
        self.end.take().unwrap_or(Ok(None))
    }

    /// Takes the next block; `Ok(false)` at the end of the stream.
    fn next_block(&mut self) -> io::Result<bool> {
        if self.end.is_some() {
            return Ok(false);
        }
        match self.blocks.recv() {
            Ok(Block::Data(buf, len)) => {
                let used = std::mem::replace(&mut self.current, buf);
                if used.capacity() > 0 {
                    let _ = self.spare.send(used);
                }
                (self.len, self.at) = (len, 0);
                Ok(true)
            }
            Ok(Block::Failed(e)) => Err(e),
            Ok(Block::End(after)) => {
                self.end = Some(after);
                Ok(false)
            }
            Err(_) => Err(io::Error::other(
                "the decompressing thread stopped before the end of the stream",
            )),
        }
    }
}

impl Read for Ahead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.at == self.len && !self.next_block()? {
            return Ok(0);
        }
        let n = (self.len - self.at).min(buf.len());
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
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

    /// Everything a reader gets from `d`: the bytes (read `step` at a time, like the tar
    /// reader's headers and data), then the error, or `finish`'s answer.
    fn drain(mut d: impl Decompressed, head: usize, step: usize) -> (Vec<u8>, String) {
        // Stop before the end, as a tar reader does at the end marker.
        let stop = 3 * AHEAD_BLOCK + 100;
        let mut out = Vec::new();
        let mut buf = vec![0u8; step];
        let mut want = head;
        while out.len() < stop {
            match d.read(&mut buf[..want.min(stop - out.len())]) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, format!("read: {e}")),
            }
            want = step;
        }
        let end = match d.finish() {
            Ok(x) => format!("finish: {x:?}"),
            Err(e) => format!("finish: {e}"),
        };
        (out, end)
    }

    #[test]
    fn reading_ahead_reads_and_finishes_like_the_decoder() {
        // More than the blocks in flight, so the producer waits for the reader.
        let mut data: Vec<u8> = (0..(AHEAD_BLOCK * (AHEAD_BLOCKS + 3)) as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        data.extend_from_slice(&[0u8; 2048]);
        for c in [Compression::Gzip, Compression::None, Compression::Zstd] {
            let good = encode(c, &data);
            let mut twice = good.clone();
            twice.extend_from_slice(&encode(c, b"\0"));
            let mut garbage = good.clone();
            garbage.push(b'x');
            let mut nonzero = encode(c, &data[..AHEAD_BLOCK + 7]);
            if c == Compression::None {
                nonzero.push(1);
            }
            let truncated = good[..good.len() - 9].to_vec();
            let empty = encode(c, b"");
            for (what, bytes) in [
                ("good", &good),
                ("two streams", &twice),
                ("trailing garbage", &garbage),
                ("non-zero after", &nonzero),
                ("truncated", &truncated),
                ("empty", &empty),
            ] {
                for (cap, head, step) in [(u64::MAX, 512, 65_536), (100_000, 512, 8192)] {
                    let (d, _) = Decoder::new(&bytes[..], cap).unwrap();
                    let plain = drain(d, head, step);
                    let (d, _) = Decoder::new(&bytes[..], cap).unwrap();
                    let ahead = d.ahead(|a| drain(a, head, step));
                    assert_eq!(plain.1, ahead.1, "{c:?} {what} cap {cap}");
                    if plain.1.starts_with("read:") {
                        // A failing decoder drops what the failing call produced, so how
                        // much comes before the error depends on the size of the reads:
                        // both must be the start of the same stream.
                        let n = plain.0.len().min(ahead.0.len());
                        assert!(plain.0[..n] == ahead.0[..n], "{c:?} {what} cap {cap}");
                    } else {
                        assert!(plain.0 == ahead.0, "{c:?} {what} cap {cap}: bytes differ");
                    }
                }
            }
        }
    }

    #[test]
    fn a_reader_that_stops_early_stops_the_thread() {
        let data = vec![7u8; AHEAD_BLOCK * (AHEAD_BLOCKS + 4)];
        let gz = encode(Compression::Gzip, &data);
        let (d, _) = Decoder::new(&gz[..], u64::MAX).unwrap();
        // Returning without reading to the end: the scope must still join the producer.
        let first = d.ahead(|mut a| {
            let mut b = [0u8; 16];
            a.read(&mut b).unwrap()
        });
        assert_eq!(first, 16);
    }

    #[test]
    fn cap_is_enforced() {
        let gz = encode(Compression::Gzip, &[0u8; 10_000]);
        let err = decode(&gz, 9_999).unwrap_err();
        assert!(is_cap_error(&err));
        assert!(decode(&gz, 10_000).is_ok());
    }
}
