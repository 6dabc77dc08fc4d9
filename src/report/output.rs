//! The output folder. Files are written as `.NAME.tmp` and renamed to `NAME` together at
//! the end; if anything fails (or the value is dropped uncommitted) the temporary files are
//! removed, so a folder never holds a half-written report next to complete ones.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::error::WriteError;

pub struct OutputDir {
    dir: PathBuf,
    /// (temporary, final) paths, in creation order.
    files: Vec<(PathBuf, PathBuf)>,
    committed: bool,
}

impl OutputDir {
    /// Create (if needed) the folder.
    pub fn create(dir: &Path) -> Result<Self> {
        fs::create_dir_all(dir).with_context(|| format!("cannot create output folder {}", dir.display()))?;
        Ok(OutputDir { dir: dir.to_path_buf(), files: Vec::new(), committed: false })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A temporary file that becomes `name` on commit.
    pub fn file(&mut self, name: &str) -> Result<BufWriter<File>> {
        let tmp = self.temp_path(name);
        let f = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        self.files.push((tmp, self.dir.join(name)));
        Ok(BufWriter::with_capacity(1 << 16, f))
    }

    /// A scratch file (removed at the end, never renamed), e.g. one replication's rows.
    pub fn scratch(&mut self, name: &str) -> Result<(PathBuf, BufWriter<File>)> {
        let tmp = self.temp_path(name);
        let f = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        self.files.push((tmp.clone(), PathBuf::new()));
        Ok((tmp, BufWriter::with_capacity(1 << 16, f)))
    }

    fn temp_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!(".{name}.tmp"))
    }

    /// Write `bytes` as `name` (on commit).
    pub fn write_all(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let mut w = self.file(name)?;
        w.write_all(bytes)
            .and_then(|()| w.flush())
            .map_err(|e| WriteError::new(self.dir.join(name).display().to_string(), e))?;
        Ok(())
    }

    /// Rename every file into place and drop the scratch files.
    pub fn commit(mut self) -> Result<Vec<PathBuf>> {
        let mut done = Vec::new();
        for (tmp, fin) in &self.files {
            if fin.as_os_str().is_empty() {
                let _ = fs::remove_file(tmp);
            } else {
                fs::rename(tmp, fin)
                    .with_context(|| format!("cannot rename {} to {}", tmp.display(), fin.display()))?;
                done.push(fin.clone());
            }
        }
        self.committed = true;
        Ok(done)
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            for (tmp, _) in &self.files {
                let _ = fs::remove_file(tmp);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_appears_until_commit_and_nothing_stays_without_it() {
        let d = tempfile::tempdir().unwrap();
        {
            let mut out = OutputDir::create(d.path()).unwrap();
            out.write_all("a.csv", b"x\n").unwrap();
            assert!(!d.path().join("a.csv").exists());
        }
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 0, "dropped: temporary files removed");
        let mut out = OutputDir::create(d.path()).unwrap();
        out.write_all("a.csv", b"x\n").unwrap();
        let (_, mut w) = out.scratch("rep1").unwrap();
        w.write_all(b"y").unwrap();
        drop(w);
        out.commit().unwrap();
        let names: Vec<_> = fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec!["a.csv"]);
    }
}
