//! Just enough of DEFLATE (RFC 1951) to walk a stream's blocks without producing any
//! output: [`continue_after`] finds the final block of a complete raw deflate stream,
//! clears its BFINAL bit and appends an empty stored block, so another stream can
//! follow it inside the same gzip member. Any malformed input is an error, never a panic.
//!
//! The walk decodes every symbol of every piece, so it is written like an inflater's
//! inner loop: a 64-bit bit buffer refilled a word at a time, one refill per symbol and
//! its extra bits, a table of [`FAST_BITS`] bits that decodes all but the rare long codes
//! in one lookup. (A bit-at-a-time walk cost a sixth of `pack`'s CPU, over a quarter of
//! the deflating it follows.) The tests check it against that plain walk on every block
//! type.

/// A walk's error: malformed input (never expected of libdeflate's output).
type Walk<T> = Result<T, &'static str>;

const ENDS_INSIDE: &str = "the stream ends inside a block";

/// Bit reader over a byte slice, least significant bit first (as DEFLATE packs bits).
/// Past the end it reads zeros; [`Bits::past_end`] tells when bits beyond the slice were
/// consumed, which the walk checks after every symbol.
#[derive(Clone, Copy)]
struct Bits<'a> {
    data: &'a [u8],
    /// The next byte to load into `buf` (may run past `data`: virtual zero bytes).
    next: usize,
    /// Loaded bits, the next one lowest; bits above `count` are zeros or the real
    /// bits that follow, so loading them again changes nothing.
    buf: u64,
    /// How many bits of `buf` are loaded.
    count: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            next: 0,
            buf: 0,
            count: 0,
        }
    }

    /// The bit offset of the next unread bit.
    #[inline(always)]
    fn pos(&self) -> usize {
        self.next * 8 - self.count as usize
    }

    #[inline(always)]
    fn past_end(&self) -> bool {
        self.pos() > self.data.len() * 8
    }

    /// Loads bits until at least 56 are available.
    #[inline(always)]
    fn refill(&mut self) {
        if self.count >= 56 {
            return;
        }
        if let Some(word) = self.data.get(self.next..self.next + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            self.buf |= u64::from_le_bytes(w) << self.count;
            let bytes = (63 - self.count) / 8;
            self.next += bytes as usize;
            self.count += bytes * 8;
        } else {
            self.refill_at_end();
        }
    }

    #[cold]
    fn refill_at_end(&mut self) {
        while self.count < 56 {
            let byte = self.data.get(self.next).copied().unwrap_or(0);
            self.buf |= u64::from(byte) << self.count;
            self.next += 1;
            self.count += 8;
        }
    }

    /// Drops `n` bits (`n` at most what is loaded).
    #[inline(always)]
    fn consume(&mut self, n: u32) {
        self.buf >>= n;
        self.count -= n;
    }

    /// The next `n` bits (`n` ≤ 32, at most what is loaded), consumed.
    #[inline(always)]
    fn bits(&mut self, n: u32) -> u32 {
        #[allow(clippy::cast_possible_truncation)] // masked to n ≤ 32 bits
        let v = (self.buf & ((1u64 << n) - 1)) as u32;
        self.consume(n);
        v
    }

    /// The next `n` bits (`n` ≤ 32), refilling first.
    fn take(&mut self, n: u32) -> Walk<u32> {
        self.refill();
        let v = self.bits(n);
        if self.past_end() {
            return Err(ENDS_INSIDE);
        }
        Ok(v)
    }

    /// Moves to bit offset `pos`, a byte boundary.
    fn seek_byte(&mut self, pos: usize) {
        self.next = pos / 8;
        self.buf = 0;
        self.count = 0;
    }
}

/// Bits the lookup table of a [`Huffman`] code decodes at once; longer codes (at most 15
/// bits; about 0.15 % of a binary's symbols at level 6, 1 % with 10 bits) take the
/// canonical slow path.
const FAST_BITS: u32 = 11;

/// What a symbol means to the walk: `(payload, extra bits that follow its code)`.
type Meaning = fn(u16) -> (u16, u32);

/// Literal/length payloads; [`skip_symbols`] takes the ones above `LENGTH` as rare.
const LITERAL: u16 = 0;
const LENGTH: u16 = 1;
const END: u16 = 2;
const BAD: u16 = 3;

fn literal_length(symbol: u16) -> (u16, u32) {
    match symbol {
        0..=255 => (LITERAL, 0),
        256 => (END, 0),
        257..=285 => (LENGTH, u32::from(LENGTH_EXTRA[usize::from(symbol - 257)])),
        _ => (BAD, 0),
    }
}

/// Distance payloads: 0, or 1 for the symbols 30 and 31 no stream may use.
fn distance(symbol: u16) -> (u16, u32) {
    DIST_EXTRA
        .get(usize::from(symbol))
        .map_or((1, 0), |&extra| (0, u32::from(extra)))
}

/// Code length code payloads: the symbol itself (its extra bits depend on it).
fn code_length(symbol: u16) -> (u16, u32) {
    (symbol, 0)
}

/// A canonical Huffman code whose decoding consumes a symbol's code and its extra bits
/// and yields what the symbol means to the walk ([`Meaning`]).
struct Huffman {
    /// By the next [`FAST_BITS`] bits: `payload << 5 | bits to consume` for a code of at
    /// most that many bits, 0 when the code is longer (or no code starts so).
    fast: Box<[u16; 1 << FAST_BITS]>,
    /// Codes of each length.
    count: [u16; 16],
    /// The symbols ordered by code length, then value (the canonical order).
    sorted: Vec<u16>,
    meaning: Meaning,
}

impl Huffman {
    fn new(lengths: &[u8], meaning: Meaning) -> Walk<Self> {
        let mut count = [0u16; 16];
        for &l in lengths {
            if l > 15 {
                return Err("a code longer than 15 bits");
            }
            count[usize::from(l)] += 1;
        }
        count[0] = 0;
        // Over-subscribed: more codes of some length than the shorter ones leave room for.
        let mut left: i32 = 1;
        for &c in &count[1..] {
            left = 2 * left - i32::from(c);
            if left < 0 {
                return Err("an over-subscribed Huffman code");
            }
        }
        let mut offsets = [0u16; 16];
        for len in 1..15 {
            offsets[len + 1] = offsets[len] + count[len];
        }
        let mut sorted = vec![0u16; usize::from(offsets[15] + count[15])];
        let mut next = [0u32; 16];
        let mut code = 0u32;
        for len in 1..16 {
            code = (code + u32::from(count[len - 1])) << 1;
            next[len] = code;
        }
        let mut fast = Box::new([0u16; 1 << FAST_BITS]);
        for (symbol, &len) in lengths.iter().enumerate() {
            if len == 0 {
                continue;
            }
            let symbol = u16::try_from(symbol).map_err(|_| "too many symbols")?;
            let l = usize::from(len);
            sorted[usize::from(offsets[l])] = symbol;
            offsets[l] += 1;
            let len32 = u32::from(len);
            let code = next[l];
            next[l] += 1;
            if len32 <= FAST_BITS {
                let (payload, extra) = meaning(symbol);
                // At most 15 + 13 bits, so never 0 and within 5 bits.
                #[allow(clippy::cast_possible_truncation)]
                let entry = payload << 5 | (len32 + extra) as u16;
                let mut i = (code.reverse_bits() >> (32 - len32)) as usize;
                while i < fast.len() {
                    fast[i] = entry;
                    i += 1 << len32;
                }
            }
        }
        Ok(Self {
            fast,
            count,
            sorted,
            meaning,
        })
    }

    /// The table entry for the next bits.
    #[inline(always)]
    fn entry(&self, buf: u64) -> u16 {
        #[allow(clippy::cast_possible_truncation)] // masked to FAST_BITS bits
        self.fast[(buf & ((1 << FAST_BITS) - 1)) as usize]
    }

    /// Decodes one symbol and its extra bits (at least 28 bits must be loaded).
    #[inline(always)]
    fn decode(&self, bits: &mut Bits<'_>) -> Walk<u16> {
        let entry = self.entry(bits.buf);
        if entry != 0 {
            bits.consume(u32::from(entry & 31));
            return Ok(entry >> 5);
        }
        self.decode_slow(bits)
    }

    /// Canonical decoding a bit at a time: codes longer than [`FAST_BITS`], bad patterns.
    #[cold]
    #[inline(never)]
    fn decode_slow(&self, bits: &mut Bits<'_>) -> Walk<u16> {
        if self.sorted.is_empty() {
            return Err("a symbol from an empty Huffman code");
        }
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16u32 {
            code |= i32::from(((bits.buf >> (len - 1)) & 1) == 1);
            let count = i32::from(self.count[len as usize]);
            if code - count < first {
                let at = usize::try_from(index + code - first).unwrap_or(usize::MAX);
                let symbol = *self
                    .sorted
                    .get(at)
                    .ok_or("a bit pattern that is no Huffman code")?;
                let (payload, extra) = (self.meaning)(symbol);
                bits.consume(len + extra);
                return Ok(payload);
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Err("a bit pattern that is no Huffman code")
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
///
/// One refill covers a whole match (15 + 5 + 15 + 13 = 48 bits), and the bit state
/// lives in registers for the loop. Whether a symbol is a literal or a length is a coin
/// toss the branch predictor loses, so the common case does not branch on it: the
/// distance entry is looked up anyway and consumed only for a length (a mask). What
/// does branch is rare: a code longer than [`FAST_BITS`], the end of the block, a bad
/// symbol.
fn skip_symbols(bits: &mut Bits<'_>, lit: &Huffman, dist: &Huffman) -> Walk<()> {
    // Plain locals, not the struct: a `&mut` that the rare paths take would keep the
    // bit buffer in memory, a store and a load on every symbol's critical path.
    let Bits {
        data,
        mut next,
        mut buf,
        mut count,
    } = *bits;
    let limit = data.len() * 8;
    let result = loop {
        if count < 56 {
            if let Some(word) = data.get(next..next + 8) {
                let mut w = [0u8; 8];
                w.copy_from_slice(word);
                buf |= u64::from_le_bytes(w) << count;
                let bytes = (63 - count) / 8;
                next += bytes as usize;
                count += bytes * 8;
            } else {
                let mut b = Bits {
                    data,
                    next,
                    buf,
                    count,
                };
                b.refill_at_end();
                (next, buf, count) = (b.next, b.buf, b.count);
            }
        }
        let e = lit.entry(buf);
        if e == 0 || e >> 5 > LENGTH {
            let mut b = Bits {
                data,
                next,
                buf,
                count,
            };
            let rare = skip_rare(&mut b, lit, dist);
            (next, buf, count) = (b.next, b.buf, b.count);
            match rare {
                Ok(true) => {}
                Ok(false) => break Ok(()),
                Err(e) => break Err(e),
            }
        } else {
            let n = u32::from(e & 31);
            buf >>= n;
            count -= n;
            let is_length = e >> 5 == LENGTH;
            let d = dist.entry(buf);
            if is_length && (d == 0 || d >> 5 != 0) {
                // A long or bad distance code: the slow path decides.
                let mut b = Bits {
                    data,
                    next,
                    buf,
                    count,
                };
                let slow = dist.decode_slow(&mut b);
                (next, buf, count) = (b.next, b.buf, b.count);
                match slow {
                    Ok(0) => {}
                    Ok(_) => break Err("a distance symbol above 29"),
                    Err(e) => break Err(e),
                }
            } else {
                let n = u32::from(d & 31) & 0u32.wrapping_sub(u32::from(is_length));
                buf >>= n;
                count -= n;
            }
        }
        if next * 8 - count as usize > limit {
            break Err(ENDS_INSIDE);
        }
    };
    *bits = Bits {
        data,
        next,
        buf,
        count,
    };
    result
}

/// One symbol the fast path of [`skip_symbols`] does not take: `Ok(false)` at the end
/// of the block.
#[cold]
fn skip_rare(b: &mut Bits<'_>, lit: &Huffman, dist: &Huffman) -> Walk<bool> {
    match lit.decode(b)? {
        LITERAL => Ok(true),
        LENGTH => match dist.decode(b)? {
            0 => Ok(true),
            _ => Err("a distance symbol above 29"),
        },
        END if b.past_end() => Err(ENDS_INSIDE),
        END => Ok(false),
        _ => Err("a literal/length symbol above 285"),
    }
}

fn fixed_codes() -> Walk<(Huffman, Huffman)> {
    let mut lit = [8u8; 288];
    lit[144..256].fill(9);
    lit[256..280].fill(7);
    Ok((
        Huffman::new(&lit, literal_length)?,
        Huffman::new(&[5u8; 30], distance)?,
    ))
}

fn dynamic_codes(bits: &mut Bits<'_>) -> Walk<(Huffman, Huffman)> {
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
    let cl = Huffman::new(&cl, code_length)?;
    let mut lengths = Vec::with_capacity(hlit + hdist);
    while lengths.len() < hlit + hdist {
        bits.refill();
        let (value, repeat) = match cl.decode(bits)? {
            sym @ 0..=15 => (u8::try_from(sym).unwrap_or(0), 1),
            16 => (
                *lengths.last().ok_or("a repeat with nothing before it")?,
                3 + bits.bits(2),
            ),
            17 => (0, 3 + bits.bits(3)),
            _ => (0, 11 + bits.bits(7)),
        };
        if bits.past_end() {
            return Err(ENDS_INSIDE);
        }
        for _ in 0..repeat {
            lengths.push(value);
        }
    }
    if lengths.len() != hlit + hdist {
        return Err("code lengths run past the tables");
    }
    Ok((
        Huffman::new(&lengths[..hlit], literal_length)?,
        Huffman::new(&lengths[hlit..], distance)?,
    ))
}

/// `(bit offset of the final block's header, bit offset just after the stream)`.
fn final_block(data: &[u8]) -> Walk<(usize, usize)> {
    let mut bits = Bits::new(data);
    let mut fixed = None;
    loop {
        let header = bits.pos();
        let last = bits.take(1)? == 1;
        match bits.take(2)? {
            0 => {
                let aligned = bits.pos().div_ceil(8) * 8;
                bits.seek_byte(aligned);
                let len = bits.take(16)?;
                let nlen = bits.take(16)?;
                if len != !nlen & 0xffff {
                    return Err("a stored block's length check fails");
                }
                let end = bits.pos() + 8 * len as usize;
                if end > data.len() * 8 {
                    return Err("the stream ends inside a stored block");
                }
                bits.seek_byte(end);
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
            _ => return Err("a block of the reserved type 3"),
        }
        if last {
            return Ok((header, bits.pos()));
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

    /// The plain walk, a bit at a time, that the fast one replaced: the reference.
    mod reference {
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
                    let symbol =
                        u16::try_from(symbol).map_err(|_| "too many symbols".to_owned())?;
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
            0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12,
            12, 13, 13,
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
        pub(super) fn final_block(data: &[u8]) -> Result<(usize, usize), String> {
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
    }

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
    fn the_fast_walk_finds_what_the_plain_walk_finds() {
        // Real machine code (parts of this test binary), noise, text and runs, at levels
        // from 0 (stored blocks) to 12; tiny inputs get fixed codes, the rest dynamic ones.
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let mut noise = Vec::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..300_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            noise.push(if x.is_multiple_of(3) {
                0
            } else {
                (x >> 24) as u8
            });
        }
        let text = b"a provider archive holds one binary per platform. ".repeat(3000);
        let mut inputs: Vec<&[u8]> = vec![b"", b"a", b"ab", &noise, &text];
        let step = (exe.len() / 4).max(1);
        inputs.extend(exe.chunks(step).map(|c| &c[..c.len().min(256 << 10)]));
        for data in inputs {
            for level in [0, 1, 6, 9, 12] {
                let d = deflate(data, level);
                assert_eq!(
                    final_block(&d).ok(),
                    reference::final_block(&d).ok(),
                    "{} bytes at level {level}",
                    data.len()
                );
                // Cut short and damaged: the same answer or, if both fail, both fail.
                for cut in [d.len() / 2, d.len().saturating_sub(1)] {
                    assert_eq!(
                        final_block(&d[..cut]).is_ok(),
                        reference::final_block(&d[..cut]).is_ok(),
                        "cut at {cut} of {} at level {level}",
                        d.len()
                    );
                }
            }
        }
        // Garbage: both walks agree on whether it is a stream, and where it ends.
        let mut y: u32 = 11;
        for _ in 0..3000 {
            let bytes: Vec<u8> = (0..48)
                .map(|_| {
                    y = y.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (y >> 16) as u8
                })
                .collect();
            let fast = final_block(&bytes);
            let plain = reference::final_block(&bytes);
            assert_eq!(fast.ok(), plain.ok(), "{bytes:?}");
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
