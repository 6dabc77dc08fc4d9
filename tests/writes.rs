//! Output that cannot be written: a reader that went away (`coldcost pricing list | head -1`)
//! ends the command quietly with exit 0; a full disk is exit 1 with one line naming stdout.
//! Never a panic. Every subcommand that prints is driven once each way.

use std::process::{Command, Stdio};

use crate::util::{example, Dir};

/// Every printing command, with what it needs to run in `d`.
fn commands(d: &Dir) -> Vec<Vec<String>> {
    let quickstart = example("quickstart.toml").display().to_string();
    let out = |name: &str| d.path().join(name).display().to_string();
    let mut cmds: Vec<Vec<&str>> = vec![
        vec!["run", "--set", "simulation.horizon=1h", "--set", "simulation.replications=1", "--out"],
        vec!["validate", &quickstart],
        vec!["pricing", "list"],
        vec!["pricing", "show", "fc3"],
        vec!["sweep", &quickstart, "--vary", "function.api.reserved=0..1", "--set", "simulation.horizon=1h", "--set"],
        vec!["init", "--force"],
        vec!["trace", "stats", "--format", "csv"],
        vec!["providers", "list"],
        vec!["providers", "show", "fc"],
    ];
    cmds[4].push("simulation.replications=1");
    let mut owned: Vec<Vec<String>> = cmds.iter().map(|c| c.iter().map(|s| s.to_string()).collect()).collect();
    owned[0].push(out("run"));
    owned[4].extend(["--out".to_string(), out("sweep")]);
    owned[5].push(out("init.toml"));
    let trace = d.write("trace.csv", "timestamp,function,duration_ms\n0,a,10\n1,b,20\n2.5,a,10\n");
    owned[6].push(trace.display().to_string());
    owned
}

#[test]
fn a_closed_pipe_ends_every_command_quietly_with_exit_0() {
    let d = Dir::new();
    for args in commands(&d) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_coldcost"))
            .args(&args)
            .current_dir(d.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("binary runs");
        // the reader goes away before the command writes a byte
        drop(child.stdout.take());
        let o = child.wait_with_output().expect("binary ends");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_exit_1_with_one_line_naming_stdout() {
    let d = Dir::new();
    for args in commands(&d) {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
        let o = Command::new(env!("CARGO_BIN_EXE_coldcost"))
            .args(&args)
            .current_dir(d.path())
            .stdout(Stdio::from(full))
            .stderr(Stdio::piped())
            .output()
            .expect("binary runs");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: cannot write stdout: "), "{args:?}: {err}");
    }
}

/// Bad input with stderr on a full disk: the message is lost, the exit code is still 2 (a
/// panic writing the message would make it 101).
#[cfg(target_os = "linux")]
#[test]
fn bad_input_with_stderr_on_a_full_disk_is_still_exit_2() {
    let d = Dir::new();
    d.write("bad.toml", "[simulation]\nhorizon = \"forever\"\n");
    for args in [vec!["validate", "bad.toml"], vec!["run", "bad.toml", "--out", "o"], vec!["run", "--set", "x.y=1"]] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
        let o = Command::new(env!("CARGO_BIN_EXE_coldcost"))
            .args(&args)
            .current_dir(d.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(full))
            .output()
            .expect("binary runs");
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(!d.path().join("o").exists(), "{args:?}");
    }
}

/// Unmounts a test's small file system when the test ends, however it ends.
#[cfg(target_os = "linux")]
struct Mounted(std::path::PathBuf);

#[cfg(target_os = "linux")]
impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// A run into a file system too small for it: refused before it simulates when the
/// estimate of its rows does not fit, exit 1 with one line naming the file when a write
/// fails anyway; either way no folder is left. Needs root to mount a 64 kB tmpfs.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_during_a_run_is_exit_1_naming_the_file_and_leaves_no_folder() {
    let d = Dir::new();
    let mnt = d.path().join("small");
    std::fs::create_dir(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&mnt)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        println!("skipped: mounting a small tmpfs needs root");
        return;
    }
    let _guard = Mounted(mnt.clone());
    let run = |out: &str, extra: &[&str]| {
        let mut args = vec!["run", "--quiet", "--out", out, "--set", "simulation.replications=1"];
        args.extend(extra);
        let o = Command::new(env!("CARGO_BIN_EXE_coldcost")).args(&args).current_dir(d.path()).output().unwrap();
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
    };
    // an hour of requests is megabytes: refused up front, with the sizes
    let started = std::time::Instant::now();
    let (code, err) = run("small/a", &["--requests", "--set", "simulation.horizon=1h"]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("small/a: not enough free space") && err.contains("requests.csv: about"), "{err}");
    assert!(started.elapsed().as_secs() < 10, "refused before simulating");
    assert!(!mnt.join("a").exists());
    // a minute's rows fit the estimate, its charts do not fit the disk
    let (code, err) = run("small/b", &["--set", "simulation.horizon=1m"]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: cannot write ") && err.contains("small/b/"), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(!mnt.join("b").exists(), "no half-written folder");
    assert_eq!(std::fs::read_dir(&mnt).unwrap().count(), 0, "nothing left on the small disk");
}
