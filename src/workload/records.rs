//! Fast reading of row traces: [`Records`] splits plain lines on commas itself and hands a
//! line with a quote (with the lines a quoted field runs on to) to the `csv` crate, so a
//! trace of plain rows costs a newline search and a comma split per row; [`KeyIndex`] finds a
//! function id's number with one hash and a comparison against a contiguous arena (a
//! `HashMap<Box<[u8]>, _>` costs a cache miss per lookup on each key's own allocation).
//! Blank lines are skipped and counted, as the `csv` crate does; line numbers are those of a
//! record's first line.

use std::hash::Hasher;
use std::io::{self, BufRead, BufReader, Read};

use csv::ByteRecord;

use super::trace::{FxHasher, FxMap};

/// The fields of one row.
pub trait Fields {
    fn count(&self) -> usize;
    fn field(&self, i: usize) -> &[u8];
}

impl Fields for ByteRecord {
    fn count(&self) -> usize {
        self.len()
    }
    fn field(&self, i: usize) -> &[u8] {
        self.get(i).unwrap_or_default()
    }
}

/// Records of a CSV file, one at a time, reusing its buffers.
pub struct Records<R: Read> {
    r: BufReader<R>,
    /// Lines read so far.
    lines: u64,
    /// First line of the current record.
    line: u64,
    buf: Vec<u8>,
    /// Field spans in `buf` (plain records).
    spans: Vec<(u32, u32)>,
    /// The current record, when it had a quote.
    quoted: Option<ByteRecord>,
}

impl<R: Read> Records<R> {
    pub fn new(r: R) -> Self {
        Records {
            r: BufReader::with_capacity(1 << 16, r),
            lines: 0,
            line: 0,
            buf: Vec::new(),
            spans: Vec::new(),
            quoted: None,
        }
    }

    /// Read the next record; `false` at the end of the file.
    pub fn next_record(&mut self) -> io::Result<bool> {
        loop {
            self.buf.clear();
            if self.r.read_until(b'\n', &mut self.buf)? == 0 {
                return Ok(false);
            }
            self.lines += 1;
            self.line = self.lines;
            trim_eol(&mut self.buf);
            if self.buf.is_empty() {
                continue;
            }
            if !self.buf.contains(&b'"') {
                self.quoted = None;
                self.spans.clear();
                let mut start = 0;
                for (k, &b) in self.buf.iter().enumerate() {
                    if b == b',' {
                        self.spans.push((start as u32, k as u32));
                        start = k + 1;
                    }
                }
                self.spans.push((start as u32, self.buf.len() as u32));
                return Ok(true);
            }
            // a quoted field may hold commas and line breaks: let the csv crate read the
            // record, taking more lines while a quote is open
            while self.buf.iter().filter(|&&b| b == b'"').count() % 2 == 1 {
                self.buf.push(b'\n');
                let before = self.buf.len();
                if self.r.read_until(b'\n', &mut self.buf)? == 0 {
                    break;
                }
                self.lines += 1;
                let mut tail = self.buf.split_off(before);
                trim_eol(&mut tail);
                self.buf.extend(tail);
            }
            let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(&self.buf[..]);
            let mut rec = ByteRecord::new();
            match rdr.read_byte_record(&mut rec) {
                Ok(true) => {
                    self.quoted = Some(rec);
                    return Ok(true);
                }
                Ok(false) => continue,
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
        }
    }

    /// First line of the current record (1-based).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The current record as a `ByteRecord` (for headers).
    pub fn to_record(&self) -> ByteRecord {
        let mut r = ByteRecord::new();
        for i in 0..self.count() {
            r.push_field(self.field(i));
        }
        r
    }
}

impl<R: Read> Fields for Records<R> {
    #[inline]
    fn count(&self) -> usize {
        match &self.quoted {
            Some(q) => q.len(),
            None => self.spans.len(),
        }
    }
    #[inline]
    fn field(&self, i: usize) -> &[u8] {
        match &self.quoted {
            Some(q) => q.get(i).unwrap_or_default(),
            None => self.spans.get(i).map_or(&[], |&(a, b)| &self.buf[a as usize..b as usize]),
        }
    }
}

fn trim_eol(buf: &mut Vec<u8>) {
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
}

/// Function ids → numbers 0, 1, 2, … in order of insertion.
#[derive(Debug, Default)]
pub struct KeyIndex {
    /// Hash → the first id inserted with it.
    first: FxMap<u64, u32>,
    /// Ids whose hash an earlier id already had (vanishingly rare with 64 bits).
    collided: FxMap<Box<[u8]>, u32>,
    arena: Vec<u8>,
    spans: Vec<(u32, u32)>,
}

fn hash(key: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(key);
    h.write_usize(key.len());
    h.finish()
}

impl KeyIndex {
    #[inline]
    pub fn get(&self, key: &[u8]) -> Option<u32> {
        let &i = self.first.get(&hash(key))?;
        if self.key(i) == key {
            return Some(i);
        }
        self.collided.get(key).copied()
    }

    /// The number of `key`, inserting it if new; `(number, inserted)`.
    pub fn insert(&mut self, key: &[u8]) -> (u32, bool) {
        if let Some(i) = self.get(key) {
            return (i, false);
        }
        let i = self.spans.len() as u32;
        let start = self.arena.len() as u32;
        self.arena.extend_from_slice(key);
        self.spans.push((start, self.arena.len() as u32));
        match self.first.entry(hash(key)) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(i);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.collided.insert(key.into(), i);
            }
        }
        (i, true)
    }

    pub fn key(&self, i: u32) -> &[u8] {
        let (a, b) = self.spans[i as usize];
        &self.arena[a as usize..b as usize]
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// A new index of the ids at `keep` (in that order: `keep[k]` becomes `k`).
    pub fn select(&self, keep: &[usize]) -> KeyIndex {
        let mut out = KeyIndex::default();
        for &i in keep {
            out.insert(self.key(i as u32));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<(u64, Vec<String>)> {
        let mut r = Records::new(text.as_bytes());
        let mut out = Vec::new();
        while r.next_record().unwrap() {
            let fields = (0..r.count()).map(|i| String::from_utf8_lossy(r.field(i)).into_owned()).collect();
            out.push((r.line(), fields));
        }
        out
    }

    #[test]
    fn records_split_plain_lines_and_let_csv_read_quoted_ones_with_their_line_numbers() {
        let got = all("a,b,c\r\n\n1,,3\n\"x, y\",\"multi\nline\",z\nlast,row");
        let want = [
            (1, vec!["a", "b", "c"]),
            (3, vec!["1", "", "3"]),
            (4, vec!["x, y", "multi\nline", "z"]),
            (6, vec!["last", "row"]),
        ];
        let want: Vec<(u64, Vec<String>)> =
            want.iter().map(|(l, f)| (*l, f.iter().map(|s| s.to_string()).collect())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn records_agree_with_the_csv_crate_on_plain_rows() {
        let text = "t,f,d\n1.5,a,2\n,,\n3,b,\n";
        let mut ours = Records::new(text.as_bytes());
        let mut theirs = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
        let mut rec = ByteRecord::new();
        while theirs.read_byte_record(&mut rec).unwrap() {
            assert!(ours.next_record().unwrap());
            assert_eq!(ours.to_record(), rec);
            assert_eq!(ours.line(), rec.position().unwrap().line());
        }
        assert!(!ours.next_record().unwrap());
    }

    #[test]
    fn the_key_index_numbers_ids_in_order_and_finds_them() {
        let mut k = KeyIndex::default();
        assert_eq!(k.insert(b"f1"), (0, true));
        assert_eq!(k.insert(b"f2"), (1, true));
        assert_eq!(k.insert(b"f1"), (0, false));
        assert_eq!((k.get(b"f2"), k.get(b"f3"), k.len()), (Some(1), None, 2));
        let s = k.select(&[1]);
        assert_eq!((s.get(b"f2"), s.get(b"f1")), (Some(0), None));
    }
}
