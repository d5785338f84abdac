//! Parallel gzip, pigz-style, into ONE gzip member that every gzip reader (wasmCloud's
//! provider-archive 0.16 and 0.6 included) decodes as an ordinary single-member stream.
//!
//! The input is cut into fixed [`CHUNK`]-sized pieces. Each piece is deflated on its own
//! thread by libdeflate (about three times less CPU than zlib for the same size: level 6
//! compresses binaries as well as zlib's or miniz's level 9). libdeflate always ends its
//! output with a final block, so for every piece but the last, `blocks::final_block`
//! walks the piece's deflate blocks to find that block's header and the stream's end,
//! clears its BFINAL bit and appends an empty stored block (a sync flush), which
//! byte-aligns the piece so the next one can follow. The pieces are written in order
//! after the gzip header, followed by the CRC-32 (the pieces' CRCs combined) and the
//! length. The cut points depend only on the input, so the output is byte-identical
//! whatever the number of threads or their timing. At most `threads` pieces are in
//! flight, so memory stays bounded however large the input is.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::thread::JoinHandle;

#[path = "gzip_blocks.rs"]
mod blocks;

/// Input bytes per deflate job: large enough that starting each piece without the
/// previous 32 KiB as history costs almost nothing (under 0.3 % on binaries), small
/// enough to keep every core busy on a few MB.
pub const CHUNK: usize = 1 << 20;

/// libdeflate's level: as small as zlib's level 9 on binaries, at a third of the CPU.
pub const LEVEL: u32 = 6;

/// `1F 8B 08 00 00000000 02 FF`: deflate, no name, mtime 0, best compression, OS unknown.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255];

/// One deflated piece.
struct Piece {
    deflated: Vec<u8>,
    crc: crc32fast::Hasher,
    len: u64,
}

enum Job {
    Ready(io::Result<Piece>),
    Running(JoinHandle<io::Result<Piece>>),
}

/// A single-member gzip writer that deflates [`CHUNK`]-sized pieces on up to `threads`
/// threads; call [`ParallelGzip::finish`] to complete the stream.
pub struct ParallelGzip<W: Write> {
    out: W,
    level: u32,
    threads: usize,
    buf: Vec<u8>,
    jobs: VecDeque<Job>,
    crc: crc32fast::Hasher,
    len: u64,
}

impl<W: Write> ParallelGzip<W> {
    /// Writes the header and starts a stream at `level` on `threads` threads (1: all on
    /// the caller's thread; the bytes are the same either way).
    pub fn new(mut out: W, level: u32, threads: usize) -> io::Result<Self> {
        out.write_all(&HEADER)?;
        Ok(Self {
            out,
            level,
            threads: threads.max(1),
            buf: Vec::with_capacity(CHUNK),
            jobs: VecDeque::new(),
            crc: crc32fast::Hasher::new(),
            len: 0,
        })
    }

    /// The number of pieces worth deflating at once here: one per core, and one more, so
    /// no core waits while the oldest piece is awaited and written (pieces take unequal
    /// times; with exactly one per core a core idled whenever a younger piece was done
    /// first). Each costs about 2 MiB.
    pub fn default_threads() -> usize {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get) + 1
    }

    /// Hands the filled piece to a thread (or deflates it here with one thread).
    fn dispatch(&mut self, last: bool) -> io::Result<()> {
        let piece = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        let level = self.level;
        if self.threads == 1 {
            self.jobs
                .push_back(Job::Ready(deflate_piece(&piece, level, last)));
        } else {
            while self.jobs.len() >= self.threads {
                self.write_oldest()?;
            }
            let handle = std::thread::Builder::new()
                .name("parbuild-gzip".to_owned())
                .spawn(move || deflate_piece(&piece, level, last))?;
            self.jobs.push_back(Job::Running(handle));
        }
        if self.threads == 1 {
            self.write_oldest()?;
        }
        Ok(())
    }

    /// Waits for the oldest piece and writes it.
    fn write_oldest(&mut self) -> io::Result<()> {
        let Some(job) = self.jobs.pop_front() else {
            return Ok(());
        };
        let piece = match job {
            Job::Ready(r) => r?,
            Job::Running(h) => h
                .join()
                .map_err(|_| io::Error::other("a gzip thread panicked"))??,
        };
        self.out.write_all(&piece.deflated)?;
        self.len += piece.len;
        self.crc.combine(&piece.crc);
        Ok(())
    }

    /// Deflates what is left as the final piece, writes every piece and the trailer
    /// (CRC-32 and length modulo 2^32, little-endian) and returns the writer below.
    pub fn finish(mut self) -> io::Result<W> {
        self.dispatch(true)?;
        while !self.jobs.is_empty() {
            self.write_oldest()?;
        }
        let crc = self.crc.clone().finalize();
        self.out.write_all(&crc.to_le_bytes())?;
        #[allow(clippy::cast_possible_truncation)] // ISIZE is the length modulo 2^32
        self.out.write_all(&(self.len as u32).to_le_bytes())?;
        Ok(self.out)
    }
}

impl<W: Write> Write for ParallelGzip<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = (CHUNK - self.buf.len()).min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.dispatch(false)?;
        }
        Ok(n)
    }

    /// Flushes the writer below. Bytes still in the current piece stay there: cutting a
    /// piece early would make the output depend on when `flush` was called.
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Raw deflate of one piece: a complete libdeflate stream for the last piece; for the
/// others, the same with its final block made non-final and a sync flush appended.
fn deflate_piece(piece: &[u8], level: u32, last: bool) -> io::Result<Piece> {
    let lvl = libdeflater::CompressionLvl::new(i32::try_from(level).unwrap_or(6))
        .map_err(|e| io::Error::other(format!("deflate level {level}: {e:?}")))?;
    let mut c = libdeflater::Compressor::new(lvl);
    let mut deflated = vec![0u8; c.deflate_compress_bound(piece.len())];
    let n = c
        .deflate_compress(piece, &mut deflated)
        .map_err(|e| io::Error::other(format!("deflate: {e:?}")))?;
    deflated.truncate(n);
    if !last {
        blocks::continue_after(&mut deflated)
            .map_err(|e| io::Error::other(format!("cannot join libdeflate's output: {e}")))?;
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(piece);
    Ok(Piece {
        deflated,
        crc,
        len: piece.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    /// Real-looking bytes: text, runs, and pseudo-random noise, so pieces have matches
    /// that reach back across the cuts.
    fn sample(len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len);
        let mut x: u32 = 0x1234_5678;
        while out.len() < len {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            match x % 4 {
                0 => out.extend_from_slice(b"provider archive, parallel deflate; "),
                1 => out.extend(std::iter::repeat_n((x >> 8) as u8, (x % 64) as usize)),
                _ => out.extend_from_slice(&x.to_le_bytes()),
            }
        }
        out.truncate(len);
        out
    }

    fn gzip(data: &[u8], threads: usize, write_size: usize) -> Vec<u8> {
        let mut e = ParallelGzip::new(Vec::new(), LEVEL, threads).unwrap();
        for part in data.chunks(write_size.max(1)) {
            e.write_all(part).unwrap();
        }
        e.finish().unwrap()
    }

    #[test]
    fn one_member_that_gzdecoder_reads_back() {
        for len in [
            0,
            1,
            32 * 1024,
            CHUNK - 1,
            CHUNK,
            CHUNK + 1,
            3 * CHUNK + 12_345,
        ] {
            let data = sample(len);
            let gz = gzip(&data, 2, 70_000);
            assert_eq!(gz[..10], HEADER);
            // MultiGzDecoder would hide a second member; GzDecoder stops after one, so
            // reading everything back through it proves there is exactly one.
            let mut d = flate2::read::GzDecoder::new(&gz[..]);
            let mut back = Vec::new();
            d.read_to_end(&mut back).unwrap();
            assert_eq!(back.len(), data.len(), "len {len}");
            assert!(back == data, "len {len}: content differs");
            let mut rest = Vec::new();
            d.into_inner().read_to_end(&mut rest).unwrap();
            assert!(
                rest.is_empty(),
                "len {len}: {} bytes after the member",
                rest.len()
            );
        }
    }

    #[test]
    fn trailer_holds_crc_and_length() {
        let data = sample(2 * CHUNK + 999);
        let gz = gzip(&data, 3, 4096);
        let n = gz.len();
        let crc = u32::from_le_bytes(gz[n - 8..n - 4].try_into().unwrap());
        let isize = u32::from_le_bytes(gz[n - 4..].try_into().unwrap());
        assert_eq!(crc, crc32fast::hash(&data));
        assert_eq!(isize as usize, data.len());
    }

    #[test]
    fn same_bytes_for_any_thread_count_and_write_pattern() {
        let data = sample(4 * CHUNK + 77);
        let one = gzip(&data, 1, 65_536);
        assert_eq!(one, gzip(&data, 2, 65_536));
        assert_eq!(one, gzip(&data, 4, 1_000_003));
        assert_eq!(one, gzip(&data, 2, 511));
    }

    #[test]
    fn size_close_to_one_stream() {
        let data = sample(4 * CHUNK);
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(&data).unwrap();
        let single = e.finish().unwrap().len();
        let parallel = gzip(&data, 2, 65_536).len();
        assert!(
            parallel * 100 <= single * 102,
            "parallel {parallel} vs single {single}"
        );
    }
}
