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
