//! Just enough of DEFLATE (RFC 1951) to walk a stream's blocks without producing any
//! output: [`continue_after`] finds the final block of a complete raw deflate stream,
//! clears its BFINAL bit and appends an empty stored block, so another stream can
//! follow it inside the same gzip member. Any malformed input is an error, never a panic.

/// Bit reader over a byte slice, least significant bit first (as DEFLATE packs bits).
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    /// The next 32 bits without consuming them (zeros past the end).
    fn peek32(&self) -> u32 {
        let byte = self.pos / 8;
        let mut word = [0u8; 8];
        let end = (byte + 8).min(self.data.len());
        if byte < end {
            word[..end - byte].copy_from_slice(&self.data[byte..end]);
        }
        #[allow(clippy::cast_possible_truncation)] // 32 of the 64 bits are wanted
        let bits = (u64::from_le_bytes(word) >> (self.pos % 8)) as u32;
        bits
    }

    fn take(&mut self, n: u32) -> Result<u32, String> {
        if self.pos + n as usize > self.data.len() * 8 {
            return Err("the stream ends inside a block".to_owned());
        }
        let v = if n == 0 {
            0
        } else {
            self.peek32() & (u32::MAX >> (32 - n))
        };
        self.pos += n as usize;
        Ok(v)
    }
}

/// A canonical Huffman code as a lookup table indexed by the next `max` bits.
struct Huffman {
    max: u32,
    /// `(symbol, length)`; length 0 marks a bit pattern no code starts with.
    table: Vec<(u16, u8)>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Result<Self, String> {
        let max = u32::from(lengths.iter().copied().max().unwrap_or(0));
        if max > 15 {
            return Err("a code longer than 15 bits".to_owned());
        }
        let mut count = [0u32; 16];
        for &l in lengths {
            count[usize::from(l)] += 1;
        }
        count[0] = 0;
        let mut next = [0u32; 16];
        let mut code = 0u32;
        for bits in 1..16 {
            code = (code + count[bits - 1]) << 1;
            next[bits] = code;
        }
        let mut table = vec![(0u16, 0u8); 1 << max];
        for (symbol, &len) in lengths.iter().enumerate() {
            if len == 0 {
                continue;
            }
            let len32 = u32::from(len);
            let code = next[usize::from(len)];
            next[usize::from(len)] += 1;
            if code >= 1 << len32 {
                return Err("an over-subscribed Huffman code".to_owned());
            }
            let reversed = (code.reverse_bits() >> (32 - len32)) as usize;
            let symbol = u16::try_from(symbol).map_err(|_| "too many symbols".to_owned())?;
            let mut i = reversed;
            while i < table.len() {
                table[i] = (symbol, len);
                i += 1 << len32;
            }
        }
        Ok(Self { max, table })
    }

    fn decode(&self, bits: &mut Bits<'_>) -> Result<u16, String> {
        if self.max == 0 {
            return Err("a symbol from an empty Huffman code".to_owned());
        }
        let index = (bits.peek32() & ((1 << self.max) - 1)) as usize;
        let (symbol, len) = self.table[index];
        if len == 0 {
            return Err("a bit pattern that is no Huffman code".to_owned());
        }
        bits.take(u32::from(len))?;
        Ok(symbol)
    }
}

/// Extra bits of length symbols 257..=285 and of distance symbols 0..=29.
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// Skips a Huffman-coded block's symbols up to and including end-of-block.
fn skip_symbols(bits: &mut Bits<'_>, lit: &Huffman, dist: &Huffman) -> Result<(), String> {
    loop {
        let sym = lit.decode(bits)?;
        match sym {
            0..=255 => {}
            256 => return Ok(()),
            257..=285 => {
                bits.take(u32::from(LENGTH_EXTRA[usize::from(sym - 257)]))?;
                let d = dist.decode(bits)?;
                let extra = DIST_EXTRA
                    .get(usize::from(d))
                    .ok_or_else(|| format!("distance symbol {d}"))?;
                bits.take(u32::from(*extra))?;
            }
            _ => return Err(format!("literal/length symbol {sym}")),
        }
    }
}

fn fixed_codes() -> Result<(Huffman, Huffman), String> {
    let mut lit = [8u8; 288];
    lit[144..256].fill(9);
    lit[256..280].fill(7);
    Ok((Huffman::new(&lit)?, Huffman::new(&[5u8; 30])?))
}

fn dynamic_codes(bits: &mut Bits<'_>) -> Result<(Huffman, Huffman), String> {
    const ORDER: [usize; 19] = [
        16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
    ];
    let hlit = bits.take(5)? as usize + 257;
    let hdist = bits.take(5)? as usize + 1;
    let hclen = bits.take(4)? as usize + 4;
    let mut cl = [0u8; 19];
    for &i in &ORDER[..hclen] {
        cl[i] = u8::try_from(bits.take(3)?).unwrap_or(0);
    }
    let cl = Huffman::new(&cl)?;
    let mut lengths = Vec::with_capacity(hlit + hdist);
    while lengths.len() < hlit + hdist {
        let (value, repeat) = match cl.decode(bits)? {
            sym @ 0..=15 => (u8::try_from(sym).unwrap_or(0), 1),
            16 => (
                *lengths.last().ok_or("a repeat with nothing before it")?,
                3 + bits.take(2)?,
            ),
            17 => (0, 3 + bits.take(3)?),
            _ => (0, 11 + bits.take(7)?),
        };
        for _ in 0..repeat {
            lengths.push(value);
        }
    }
    if lengths.len() != hlit + hdist {
        return Err("code lengths run past the tables".to_owned());
    }
    Ok((
        Huffman::new(&lengths[..hlit])?,
        Huffman::new(&lengths[hlit..])?,
    ))
}

/// `(bit offset of the final block's header, bit offset just after the stream)`.
fn final_block(data: &[u8]) -> Result<(usize, usize), String> {
    let mut bits = Bits { data, pos: 0 };
    let mut fixed = None;
    loop {
        let header = bits.pos;
        let last = bits.take(1)? == 1;
        match bits.take(2)? {
            0 => {
                bits.pos = bits.pos.div_ceil(8) * 8;
                let len = bits.take(16)?;
                let nlen = bits.take(16)?;
                if len != !nlen & 0xffff {
                    return Err("a stored block's length check fails".to_owned());
                }
                bits.take(0)?;
                if bits.pos + 8 * len as usize > data.len() * 8 {
                    return Err("the stream ends inside a stored block".to_owned());
                }
                bits.pos += 8 * len as usize;
            }
            1 => {
                if fixed.is_none() {
                    fixed = Some(fixed_codes()?);
                }
                let (lit, dist) = fixed.as_ref().ok_or("fixed codes")?;
                skip_symbols(&mut bits, lit, dist)?;
            }
            2 => {
                let (lit, dist) = dynamic_codes(&mut bits)?;
                skip_symbols(&mut bits, &lit, &dist)?;
            }
            _ => return Err("a block of the reserved type 3".to_owned()),
        }
        if last {
            return Ok((header, bits.pos));
        }
    }
}

/// Turns the complete raw deflate stream in `data` into one another stream may follow:
/// its final block becomes non-final and an empty stored block (`000`, padding,
/// `00 00 FF FF`) byte-aligns the end, exactly what zlib's sync flush writes.
pub fn continue_after(data: &mut Vec<u8>) -> Result<(), String> {
    let (header, end) = final_block(data)?;
    if end.div_ceil(8) != data.len() {
        return Err(format!(
            "{} bytes follow the final block",
            data.len() - end.div_ceil(8)
        ));
    }
    data[header / 8] &= !(1 << (header % 8));
    // The three header bits of the stored block are zeros, like the padding after the
    // stream; clear whatever the last byte holds past `end`, then align.
    let bits_after = end + 3;
    if end % 8 != 0 {
        let last = end / 8;
        data[last] &= (1u8 << (end % 8)) - 1;
    }
    data.resize(bits_after.div_ceil(8), 0);
    data.extend_from_slice(&[0, 0, 0xff, 0xff]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    fn deflate(data: &[u8], level: i32) -> Vec<u8> {
        let mut c = libdeflater::Compressor::new(libdeflater::CompressionLvl::new(level).unwrap());
        let mut out = vec![0u8; c.deflate_compress_bound(data.len())];
        let n = c.deflate_compress(data, &mut out).unwrap();
        out.truncate(n);
        out
    }

    fn inflate(raw: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(raw)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn joined_streams_inflate_to_the_concatenation() {
        let mut noise = Vec::new();
        let mut x: u64 = 88_172_645_463_325_252;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            noise.push((x >> 24) as u8);
        }
        let text = b"parbuild packs providers; ".repeat(5000);
        // Stored blocks (noise at level 0 and 1), fixed codes (tiny input), dynamic codes.
        let parts: [(&[u8], i32); 6] = [
            (&noise, 0),
            (b"ab", 6),
            (&text, 6),
            (&noise, 1),
            (b"", 6),
            (&text, 12),
        ];
        for split in 0..parts.len() {
            let mut joined = Vec::new();
            let mut expected = Vec::new();
            for (i, (data, level)) in parts.iter().enumerate() {
                let mut d = deflate(data, *level);
                if i != split {
                    continue_after(&mut d).unwrap();
                    joined.extend_from_slice(&d);
                    expected.extend_from_slice(data);
                }
            }
            // Finish with a final empty stream.
            joined.extend_from_slice(&deflate(b"", 6));
            assert!(inflate(&joined) == expected, "split {split}");
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let good = deflate(&b"hello hello hello".repeat(100), 6);
        for cut in 0..good.len() {
            let mut v = good[..cut].to_vec();
            let _ = continue_after(&mut v);
        }
        let mut x: u32 = 7;
        for _ in 0..2000 {
            let bytes: Vec<u8> = (0..64)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (x >> 16) as u8
                })
                .collect();
            let _ = continue_after(&mut bytes.clone());
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(continue_after(&mut trailing).is_err());
    }
}
