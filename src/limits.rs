//! Bounds on what a user can make coldcost read, hold or echo. Every file a user names is
//! read through here: whole-file reads stop at a size far above any real file, line-read
//! files (traces and their tables) stop at a line far longer than any real row, so
//! `/dev/zero` or a file without a newline is a clear error instead of memory running out.
//! Messages cut what they echo with [`clip`].

use std::borrow::Cow;
use std::io::{self, Read};
use std::path::Path;

/// Largest TOML file read (scenario, price sheet, calibration profile, sweep meta): real ones
/// are a few kB.
pub const MAX_TOML_BYTES: u64 = 16 << 20;
/// Largest whole table read at once (a sweep shard's `points.csv`: the largest grid,
/// [`MAX_SETUPS`] setups, is about 50 MB).
pub const MAX_TABLE_BYTES: u64 = 512 << 20;
/// Longest line of a line-read file (traces, image maps, size tables, durations and memory
/// files): a real row is under 20 kB (an Azure 2019 row of 1,440 minutes).
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Most setups a sweep grid may have (each one is a full simulation).
pub const MAX_SETUPS: u128 = 100_000;
/// Most characters of a user's value repeated in a message.
pub const ECHO_CHARS: usize = 100;

/// `s` cut at [`ECHO_CHARS`] characters, with an ellipsis and the full length when cut.
pub fn clip(s: &str) -> Cow<'_, str> {
    clip_to(s, ECHO_CHARS)
}

/// `s` cut at `max` characters.
pub fn clip_to(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => Cow::Borrowed(s),
        Some((at, _)) => Cow::Owned(format!("{}… ({} bytes in all)", &s[..at], s.len())),
    }
}

/// Bytes as text for a message: lossy UTF-8, clipped.
pub fn clip_bytes(b: &[u8]) -> String {
    let head = &b[..b.len().min(ECHO_CHARS * 4)];
    let s = String::from_utf8_lossy(head);
    match s.char_indices().nth(ECHO_CHARS) {
        None if head.len() == b.len() => s.into_owned(),
        None => format!("{s}… ({} bytes in all)", b.len()),
        Some((at, _)) => format!("{}… ({} bytes in all)", &s[..at], b.len()),
    }
}

/// `1 MiB`, `16 MiB`: a limit for a message.
pub fn size_text(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes % (1 << 30) == 0 {
        format!("{} GiB", bytes >> 30)
    } else if bytes >= 1 << 20 && bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// Like `std::fs::read_to_string`, but a file longer than `limit` bytes (or an endless one
/// such as `/dev/zero`) is an [`io::ErrorKind::InvalidData`] error saying so, and invalid
/// UTF-8 names its line and byte. Callers keep their own message around the error.
pub fn read_to_string(path: &Path, limit: u64) -> io::Result<String> {
    let f = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    f.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the file is longer than {}, far beyond any real one; is this the right file?", size_text(limit)),
        ));
    }
    text_of(bytes).map_err(|(line, byte)| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not UTF-8 text: an invalid byte at line {line}, byte {byte} of the file"),
        )
    })
}

/// The text of `bytes`, or the 1-based line and byte of the first invalid UTF-8 sequence.
pub fn text_of(bytes: Vec<u8>) -> Result<String, (usize, usize)> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let b = e.as_bytes();
        let line = b[..at].iter().filter(|&&c| c == b'\n').count() + 1;
        (line, at + 1)
    })
}

/// A reader that fails with [`io::ErrorKind::InvalidData`] once a line runs past `max`
/// bytes, so whatever reads lines from it (a `BufRead`, the `csv` crate) never holds more.
/// Checking costs a search back from each chunk's end to its last newline.
pub struct LineLimit<R> {
    inner: R,
    max: usize,
    /// Bytes since the last newline.
    run: usize,
    /// Bytes passed on so far.
    total: u64,
}

impl<R: Read> LineLimit<R> {
    pub fn new(inner: R, max: usize) -> Self {
        LineLimit { inner, max, run: 0, total: 0 }
    }
}

/// The error a [`LineLimit`] gives; its text says where and what the limit is.
pub fn line_too_long(start: u64, max: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "the line starting at byte {start} is longer than {}, far beyond any real row; is this the right file?",
            size_text(max as u64)
        ),
    )
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.run > self.max {
            return Err(line_too_long(self.total - self.run as u64, self.max));
        }
        // never hand out more than the rest of the allowance in one go (plus one byte to see
        // the newline or the overflow)
        let room = (self.max + 1 - self.run).max(1);
        let want = buf.len().min(room.max(1 << 12));
        let n = self.inner.read(&mut buf[..want])?;
        let chunk = &buf[..n];
        match chunk.iter().rposition(|&b| b == b'\n') {
            Some(p) => {
                // a line ending inside the chunk may itself be too long
                let first = chunk.iter().position(|&b| b == b'\n').unwrap_or(p);
                if self.run + first > self.max {
                    return Err(line_too_long(self.total - self.run as u64, self.max));
                }
                if p != first && p - first - 1 > self.max {
                    // lines wholly inside the chunk
                    let mut last = first;
                    for (k, &b) in chunk.iter().enumerate().skip(first + 1) {
                        if b == b'\n' {
                            if k - last - 1 > self.max {
                                return Err(line_too_long(self.total + last as u64 + 1, self.max));
                            }
                            last = k;
                        }
                    }
                }
                self.run = n - p - 1;
            }
            None => self.run += n,
        }
        self.total += n as u64;
        if self.run > self.max {
            return Err(line_too_long(self.total - self.run as u64, self.max));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn drain(data: &[u8], max: usize, chunk: usize) -> io::Result<Vec<u8>> {
        let mut r = LineLimit::new(data, max);
        let mut out = Vec::new();
        let mut buf = vec![0u8; chunk];
        loop {
            let n = r.read(&mut buf)?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn clip_cuts_long_values_and_keeps_short_ones() {
        assert_eq!(clip("abc"), "abc");
        let long = "x".repeat(5000);
        let c = clip(&long);
        assert!(c.starts_with(&"x".repeat(100)) && c.ends_with("… (5000 bytes in all)"), "{c}");
        assert!(c.chars().count() < 130);
        assert_eq!(clip_bytes(b"ok"), "ok");
        assert!(clip_bytes(&[b'y'; 10_000]).len() < 140);
    }

    #[test]
    fn an_endless_file_is_refused_at_the_limit() {
        let e = read_to_string(Path::new("/dev/zero"), 1 << 16).unwrap_err();
        assert!(e.to_string().contains("longer than"), "{e}");
        let e = drain(&vec![0u8; 1 << 20], 1000, 4096).unwrap_err();
        assert!(e.to_string().contains("byte 0"), "{e}");
    }

    #[test]
    fn invalid_utf8_names_its_line_and_byte() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.toml");
        std::fs::write(&p, b"a = 1\nb = \"\xff\"\n").unwrap();
        let e = read_to_string(&p, 1000).unwrap_err();
        assert!(e.to_string().contains("line 2, byte 12"), "{e}");
    }

    proptest! {
        /// Whatever the lines and however the reads are cut, the reader passes every byte of
        /// a file whose lines fit and refuses one whose longest line does not.
        #[test]
        fn passes_lines_that_fit_and_refuses_any_longer(
            lens in proptest::collection::vec(0usize..300, 0..30),
            tail in proptest::option::of(0usize..5000),
            max in 1usize..400,
            chunk in 1usize..9000,
        ) {
            let mut data = Vec::new();
            for (k, l) in lens.iter().enumerate() {
                data.extend(std::iter::repeat_n(b'a' + (k % 26) as u8, *l));
                data.push(b'\n');
            }
            if let Some(t) = tail {
                data.extend(std::iter::repeat_n(b'z', t));
            }
            let longest = lens.iter().copied().chain(tail).max().unwrap_or(0);
            match drain(&data, max, chunk) {
                Ok(out) => {
                    prop_assert!(longest <= max, "longest {longest} > max {max} passed");
                    prop_assert_eq!(out, data);
                }
                Err(e) => {
                    prop_assert!(longest > max, "refused although every line fits: {e}");
                    prop_assert_eq!(e.kind(), io::ErrorKind::InvalidData);
                }
            }
        }
    }
}
