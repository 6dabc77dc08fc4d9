//! Clean-up on Ctrl-C and SIGTERM: folders registered here (an output folder's temporary
//! twin) are removed before the process exits with 128 + the signal (130, 143), so an
//! interrupted run leaves nothing behind. The handler is installed by the first
//! registration; commands that write no output folder keep the default behaviour.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();

/// Remove `dir` (recursively) if a signal ends the process before [`forget`] is called.
pub fn remove_on_signal(dir: &Path) {
    INSTALL.call_once(install);
    PENDING.lock().unwrap_or_else(|e| e.into_inner()).push(dir.to_path_buf());
}

/// `dir` was removed: a signal no longer touches it.
pub fn forget(dir: &Path) {
    PENDING.lock().unwrap_or_else(|e| e.into_inner()).retain(|d| d != dir);
}

/// Run `f` (moving `dir`'s files into place) with signals held off, then forget `dir`: a
/// signal during a commit waits for it, so a folder is never left half swapped.
pub fn commit<T>(dir: &Path, f: impl FnOnce() -> T) -> T {
    let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
    let out = f();
    pending.retain(|d| d != dir);
    out
}

fn install() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return; // no handler: the default (termination without clean-up) stays
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            // hold the list while removing so no commit moves files meanwhile
            let pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
            for d in pending.iter() {
                let _ = std::fs::remove_dir_all(d);
            }
            let name = if sig == SIGINT { "interrupted" } else { "terminated" };
            if pending.is_empty() {
                crate::error::say(name);
            } else {
                crate::error::say(&format!(
                    "{name}: the run's temporary files are removed, its output folder is as it was"
                ));
            }
            std::process::exit(128 + sig);
        }
    });
}
