//! The output folder: it holds exactly one complete run. While writing, the folder is locked
//! (`.coldcost.lock`, an advisory `flock`, so a second coldcost writing into it is refused and
//! a crashed one never leaves a stale lock) and every file goes into a fresh temporary folder
//! inside it (`.coldcost-tmp.<pid>/`). Commit moves the files into place, removes the files
//! an earlier coldcost run wrote there that this run does not write (as listed in that run's
//! `.coldcost-files`; a user's own files are never touched), and writes the new list. A
//! failure, a drop without commit, Ctrl-C or SIGTERM ([`crate::signals`]) removes the
//! temporary folder, leaving the folder as it was.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::error::WriteError;

/// The list of files the last committed run wrote (one name a line).
pub const MANIFEST: &str = ".coldcost-files";
/// The lock file.
pub const LOCK: &str = ".coldcost.lock";
/// Prefix of the temporary folders.
const TMP_PREFIX: &str = ".coldcost-tmp.";

pub struct OutputDir {
    dir: PathBuf,
    tmp: PathBuf,
    /// Held (locked) until dropped.
    _lock: File,
    /// Final names, in creation order.
    files: Vec<String>,
    committed: bool,
    /// This run made the folder: a run that fails removes it again (with its lock), so a
    /// failed first run leaves nothing behind.
    created: bool,
}

/// A second writer into a locked folder.
#[derive(Debug)]
pub struct Busy(pub PathBuf);

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "another coldcost run is writing into {} (it holds {}); wait for it to finish or choose another --out",
            self.0.display(),
            self.0.join(LOCK).display()
        )
    }
}

impl std::error::Error for Busy {}

impl OutputDir {
    /// Create (if needed) and lock the folder, and make the temporary folder. A folder
    /// another coldcost is writing into is a [`Busy`] error.
    pub fn create(dir: &Path) -> Result<Self> {
        let created = !dir.exists();
        fs::create_dir_all(dir).with_context(|| format!("cannot create output folder {}", dir.display()))?;
        let lock_path = dir.join(LOCK);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("cannot write {}", lock_path.display()))?;
        if !try_lock(&lock) {
            return Err(Busy(dir.to_path_buf()).into());
        }
        // temporary folders left by runs that were killed outright (we hold the lock: no live
        // run owns one)
        if let Ok(entries) = fs::read_dir(dir) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(TMP_PREFIX) {
                    let _ = fs::remove_dir_all(e.path());
                }
            }
        }
        let tmp = dir.join(format!("{TMP_PREFIX}{}", std::process::id()));
        crate::signals::remove_on_signal(&tmp);
        let made = OutputDir { dir: dir.to_path_buf(), tmp, _lock: lock, files: Vec::new(), committed: false, created };
        fs::create_dir(&made.tmp).with_context(|| format!("cannot write {}", made.tmp.display()))?;
        Ok(made)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A temporary file that becomes `name` on commit.
    pub fn file(&mut self, name: &str) -> Result<BufWriter<File>> {
        let tmp = self.tmp.join(name);
        let f = File::create(&tmp).with_context(|| format!("cannot write {}", self.dir.join(name).display()))?;
        self.files.push(name.to_string());
        Ok(BufWriter::with_capacity(1 << 16, f))
    }

    /// A scratch file (removed at the end, never moved), e.g. one replication's rows.
    pub fn scratch(&mut self, name: &str) -> Result<(PathBuf, BufWriter<File>)> {
        let tmp = self.tmp.join(format!("{name}.scratch"));
        let f = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        Ok((tmp, BufWriter::with_capacity(1 << 16, f)))
    }

    /// A scratch file made `name` (on commit) as it is: moved, not copied.
    pub fn adopt(&mut self, name: &str, scratch: &Path) -> Result<()> {
        fs::rename(scratch, self.tmp.join(name))
            .with_context(|| format!("cannot write {}", self.dir.join(name).display()))?;
        self.files.push(name.to_string());
        Ok(())
    }

    /// Write `bytes` as `name` (on commit).
    pub fn write_all(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let mut w = self.file(name)?;
        w.write_all(bytes)
            .and_then(|()| w.flush())
            .map_err(|e| WriteError::new(self.dir.join(name).display().to_string(), e))?;
        Ok(())
    }

    /// Write `name` (on commit) through `write`, streamed.
    pub fn write_with(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
    ) -> Result<()> {
        let mut w = self.file(name)?;
        write(&mut w)
            .and_then(|()| w.flush())
            .map_err(|e| WriteError::new(self.dir.join(name).display().to_string(), e))?;
        Ok(())
    }

    /// Move every file into place, remove what an earlier coldcost run left that this one
    /// does not write, record what this run wrote, and drop the temporary folder.
    pub fn commit(mut self) -> Result<Vec<PathBuf>> {
        let (dir, tmp, files) = (self.dir.clone(), self.tmp.clone(), self.files.clone());
        let done = crate::signals::commit(&tmp, || -> Result<Vec<PathBuf>> {
            // the new list first (beside the files), so an interrupted commit is finished
            // by the next run's clean-up
            let old = fs::read_to_string(dir.join(MANIFEST)).unwrap_or_default();
            let list: String = files.iter().map(|f| format!("{f}\n")).collect();
            fs::write(tmp.join(MANIFEST), list).with_context(|| format!("cannot write {}", dir.display()))?;
            let mut done = Vec::new();
            for name in &files {
                let fin = dir.join(name);
                fs::rename(tmp.join(name), &fin)
                    .with_context(|| format!("cannot move {} into place", fin.display()))?;
                done.push(fin);
            }
            for name in old.lines().map(str::trim).filter(|n| is_plain_name(n)) {
                if !files.iter().any(|f| f == name) {
                    let p = dir.join(name);
                    if p.is_file() {
                        let _ = fs::remove_file(p);
                    }
                }
            }
            fs::rename(tmp.join(MANIFEST), dir.join(MANIFEST))
                .with_context(|| format!("cannot write {}", dir.join(MANIFEST).display()))?;
            let _ = fs::remove_dir_all(&tmp);
            Ok(done)
        })?;
        self.committed = true;
        Ok(done)
    }
}

/// A name coldcost itself could have written: one path component, not hidden.
fn is_plain_name(n: &str) -> bool {
    !n.is_empty() && !n.starts_with('.') && !n.contains(['/', '\\'])
}

/// Take the folder's lock without waiting; `false` when another process holds it.
fn try_lock(f: &File) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a file descriptor we own; no memory is passed
        unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
    }
    #[cfg(not(unix))]
    {
        let _ = f;
        true
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.tmp);
            crate::signals::forget(&self.tmp);
            if self.created {
                // only if nothing else appeared in it meanwhile (`remove_dir` of a folder
                // that is not empty fails)
                let _ = fs::remove_file(self.dir.join(LOCK));
                let _ = fs::remove_dir(&self.dir);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(d: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn nothing_appears_until_commit_and_nothing_stays_without_it() {
        let d = tempfile::tempdir().unwrap();
        {
            let mut out = OutputDir::create(d.path()).unwrap();
            out.write_all("a.csv", b"x\n").unwrap();
            assert!(!d.path().join("a.csv").exists());
        }
        assert_eq!(names(d.path()), vec![LOCK], "dropped: temporary files removed");
        let mut out = OutputDir::create(d.path()).unwrap();
        out.write_all("a.csv", b"x\n").unwrap();
        let (_, mut w) = out.scratch("rep1").unwrap();
        w.write_all(b"y").unwrap();
        drop(w);
        out.commit().unwrap();
        assert_eq!(names(d.path()), vec![MANIFEST, LOCK, "a.csv"]);
    }

    #[test]
    fn a_failed_first_run_removes_the_folder_it_made_and_a_failed_later_run_keeps_it() {
        let d = tempfile::tempdir().unwrap();
        let new = d.path().join("new");
        {
            let mut out = OutputDir::create(&new).unwrap();
            out.write_all("a.csv", b"x\n").unwrap();
        }
        assert!(!new.exists(), "a folder this run made is gone with its lock");
        fs::create_dir(&new).unwrap();
        drop(OutputDir::create(&new).unwrap());
        assert_eq!(names(&new), vec![LOCK], "a folder that was there stays");
    }

    #[test]
    fn a_second_writer_is_refused_while_the_first_holds_the_folder() {
        let d = tempfile::tempdir().unwrap();
        let first = OutputDir::create(d.path()).unwrap();
        // flock locks belong to the open file: a second open in this process conflicts too
        let e = OutputDir::create(d.path()).err().expect("refused");
        assert!(e.to_string().contains("another coldcost run is writing into"), "{e}");
        drop(first);
        OutputDir::create(d.path()).unwrap();
    }

    #[test]
    fn a_new_run_removes_what_the_last_run_wrote_and_it_does_not_but_keeps_foreign_files() {
        let d = tempfile::tempdir().unwrap();
        let mut out = OutputDir::create(d.path()).unwrap();
        out.write_all("summary.csv", b"1\n").unwrap();
        out.write_all("requests.csv", b"1\n").unwrap();
        out.commit().unwrap();
        fs::write(d.path().join("notes.txt"), "mine").unwrap();
        let mut out = OutputDir::create(d.path()).unwrap();
        out.write_all("summary.csv", b"2\n").unwrap();
        out.commit().unwrap();
        assert_eq!(names(d.path()), vec![MANIFEST, LOCK, "notes.txt", "summary.csv"]);
        assert_eq!(fs::read_to_string(d.path().join("summary.csv")).unwrap(), "2\n");
        assert_eq!(fs::read_to_string(d.path().join(MANIFEST)).unwrap(), "summary.csv\n");
    }
}
