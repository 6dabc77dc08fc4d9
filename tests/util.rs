//! Helpers: run the binary in a temporary folder and read what it wrote.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (examples live there).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn example(name: &str) -> PathBuf {
    repo().join("scenarios").join(name)
}

/// A fresh folder for one test, and the binary run inside it.
pub struct Dir {
    pub tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Self {
        Dir { tmp: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, text).expect("write test file");
        p
    }

    /// Run with the current folder `sub` (relative to the test's folder).
    pub fn run_in(&self, sub: &str, args: &[&str]) -> Output {
        let cwd = self.path().join(sub);
        Command::new(env!("CARGO_BIN_EXE_coldcost")).args(args).current_dir(cwd).output().expect("binary runs")
    }

    /// Run and insist on success.
    pub fn ok(&self, args: &[&str]) -> Output {
        self.ok_in(".", args)
    }

    /// [`Dir::ok`], run with the current folder `sub`.
    pub fn ok_in(&self, sub: &str, args: &[&str]) -> Output {
        let o = self.run_in(sub, args);
        assert!(o.status.success(), "coldcost {args:?} in {sub} failed:\n{}", String::from_utf8_lossy(&o.stderr));
        o
    }

    /// Run and insist on exit code 2 with one message; returns stderr.
    pub fn bad(&self, args: &[&str]) -> String {
        self.bad_in(".", args)
    }

    /// [`Dir::bad`], run with the current folder `sub`.
    pub fn bad_in(&self, sub: &str, args: &[&str]) -> String {
        let o = self.run_in(sub, args);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "coldcost {args:?} should exit 2; stderr:\n{err}");
        assert!(!err.contains("panicked"), "{err}");
        err
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }
}

/// A parsed CSV: header and rows of strings.
pub struct Csv {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Csv {
    pub fn parse(text: &str) -> Csv {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let header = r.headers().expect("header").iter().map(String::from).collect();
        let rows = r.records().map(|x| x.expect("row").iter().map(String::from).collect()).collect();
        Csv { header, rows }
    }

    pub fn col(&self, name: &str) -> usize {
        self.header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"))
    }

    /// Rows where `column == value`.
    pub fn rows_where<'a>(&'a self, column: &str, value: &'a str) -> impl Iterator<Item = &'a Vec<String>> + 'a {
        let c = self.col(column);
        self.rows.iter().filter(move |r| r[c] == value)
    }

    pub fn num(&self, row: &[String], name: &str) -> f64 {
        let v = &row[self.col(name)];
        v.parse().unwrap_or_else(|_| panic!("{name} = {v:?} is not a number"))
    }
}

/// The most pixels of `color` in one column of a PNG: a dashed vertical line of that colour
/// across a chart gives a few hundred, a legend swatch a handful.
pub fn tallest_column_of(png: &[u8], color: (u8, u8, u8)) -> usize {
    let (w, _, rgb) = coldcost::report::charts::decode(png).unwrap();
    let mut cols = vec![0usize; w as usize];
    for (i, p) in rgb.chunks(3).enumerate() {
        if (p[0], p[1], p[2]) == color {
            cols[i % w as usize] += 1;
        }
    }
    cols.into_iter().max().unwrap_or(0)
}

/// The colour goal lines are drawn in.
pub fn goal_color() -> (u8, u8, u8) {
    let c = coldcost::report::charts::GOAL;
    (c.0, c.1, c.2)
}
