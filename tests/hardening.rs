//! Hostile input, signals and full disks (issue 13): every class of failure ends with a clear
//! one-line message and the exit code the README promises, never an abort, a panic, a mixed
//! output folder or a silently short run.

use std::io::Write;

use crate::util::{example, Dir};

/// A trace scenario around `arrivals` (one template function, a minute of simulated time).
fn trace_scenario(arrivals: &str) -> String {
    format!(
        r#"[simulation]
horizon = "60s"

[[image]]
name = "img"
size = "10MB"

[[function]]
name = "tpl"
image = "img"
memory = "256MB"
startup = "1s"

[[workload]]
function = "tpl"
arrivals = {arrivals}
"#
    )
}

/// Stderr of a refused command is one line (clap's usage errors aside), short, and says `want`.
fn one_clear_line(err: &str, want: &str) {
    assert!(err.contains(want), "expected {want:?} in: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.len() < 600, "a short message, not an echo: {} bytes", err.len());
}

// ---- class 1: unbounded reads ----------------------------------------------------------

#[test]
fn class1_an_endless_file_as_any_input_is_bad_input_not_an_abort() {
    let d = Dir::new();
    one_clear_line(&d.bad(&["validate", "/dev/zero"]), "longer than 16 MiB");
    // a regular file of 20 MB of zeros (sparse) stands in where only files are looked for
    std::fs::File::create(d.path().join("zeros")).unwrap().set_len(20 << 20).unwrap();
    one_clear_line(&d.bad(&["validate", "zeros"]), "longer than 16 MiB");
    one_clear_line(
        &d.bad(&["run", "--set", "platform.pricing=zeros", "--set", "simulation.horizon=1m"]),
        "longer than 16 MiB",
    );
    d.write("p.toml", &example_with_profile());
    one_clear_line(&d.bad(&["validate", "p.toml"]), "longer than 16 MiB");
    for format in ["csv", "azure2021"] {
        d.write(
            "s.toml",
            &trace_scenario(&format!(r#"{{ kind = "trace", format = "{format}", path = "/dev/zero" }}"#)),
        );
        one_clear_line(&d.bad(&["validate", "s.toml"]), "longer than 1 MiB");
    }
    one_clear_line(&d.bad(&["trace", "stats", "/dev/zero", "--format", "csv"]), "longer than 1 MiB");
}

#[test]
fn class1_a_line_without_end_is_refused_at_the_line_limit_and_messages_cut_what_they_echo() {
    let d = Dir::new();
    // a 3 MB line with no newline, after a good header
    let mut t = String::from("timestamp,function,duration_ms\n");
    t.push_str(&"9".repeat(3 << 20));
    d.write("t.csv", &t);
    d.write("s.toml", &trace_scenario(r#"{ kind = "trace", format = "csv", path = "t.csv" }"#));
    one_clear_line(&d.bad(&["validate", "s.toml"]), "is longer than 1 MiB");
    // an image map with an endless line
    d.write("ok.csv", "timestamp,function,duration_ms\n1,a,5\n");
    d.write("map.csv", &format!("function,image\n{}", "a".repeat(2 << 20)));
    d.write("s.toml", &trace_scenario(r#"{ kind = "trace", format = "csv", path = "ok.csv", image_map = "map.csv" }"#));
    one_clear_line(&d.bad(&["validate", "s.toml"]), "longer than 1 MiB");
    // a long field inside the limit: the message shows its start and its length, not all of it
    d.write("t.csv", &format!("timestamp,function,duration_ms\n1,a,{}\n", "7x".repeat(200_000)));
    d.write("s.toml", &trace_scenario(r#"{ kind = "trace", format = "csv", path = "t.csv" }"#));
    one_clear_line(&d.bad(&["validate", "s.toml"]), "bytes in all");
    // an Azure 2019 count of half a megabyte
    std::fs::create_dir(d.path().join("az")).unwrap();
    let mut inv = std::fs::File::create(d.path().join("az/invocations.csv")).unwrap();
    writeln!(inv, "HashOwner,HashApp,HashFunction,Trigger,1,2").unwrap();
    writeln!(inv, "o,a,f,http,1,{}", "5".repeat(500_000)).unwrap();
    drop(inv);
    d.write("az/durations.csv", "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100\n");
    d.write("az/memory.csv", "HashFunction,HashOwner,HashApp,SampleCount,AverageAllocatedMb\n");
    d.write("s.toml", &trace_scenario(r#"{ kind = "trace", format = "azure2019", path = "az" }"#));
    one_clear_line(&d.bad(&["validate", "s.toml"]), "bytes in all");
}

#[test]
fn class1_invalid_utf8_names_its_line_and_byte() {
    let d = Dir::new();
    let p = d.path().join("s.toml");
    std::fs::write(&p, b"[simulation]\nname = \"a\xffb\"\n").unwrap();
    one_clear_line(&d.bad(&["validate", "s.toml"]), "line 2, byte 23");
}

/// The quickstart with a calibration profile that is 20 MB of zeros.
fn example_with_profile() -> String {
    let q = std::fs::read_to_string(example("quickstart.toml")).unwrap();
    q.replacen("[platform.pull]", "[platform.pull]\nprofile = \"zeros\"", 1)
}

// ---- class 3: output folders -----------------------------------------------------------

/// Names in `dir`, sorted.
fn names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// A long run into `out` as a child process, returned once its temporary folder exists.
fn long_run(d: &Dir, out: &str) -> std::process::Child {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_coldcost"))
        // (without --requests: ten years of requests would not fit the disk, and the run is
        // refused before it starts)
        .args(["run", "--quiet", "--out", out, "--set", "simulation.horizon=3650d"])
        .current_dir(d.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let dir = d.path().join(out);
    for _ in 0..600 {
        if names(&dir).iter().any(|n| n.starts_with(".coldcost-tmp.")) {
            // let it write a little
            std::thread::sleep(std::time::Duration::from_millis(300));
            return child;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the run never started writing into {out}");
}

fn signal_ends_the_run_and_leaves_the_folder_as_it_was(sig: i32, code: i32) {
    let d = Dir::new();
    // an earlier complete run in the folder
    d.ok(&["run", "--quiet", "--out", "out", "--set", "simulation.horizon=10m"]);
    let before: Vec<(String, Vec<u8>)> = names(&d.path().join("out"))
        .into_iter()
        .map(|n| (n.clone(), std::fs::read(d.path().join("out").join(&n)).unwrap()))
        .collect();
    let mut child = long_run(&d, "out");
    // a second writer is refused while the first holds the folder
    let o = d.run_in(".", &["run", "--quiet", "--out", "out", "--set", "simulation.horizon=10m"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    one_clear_line(&err, "another coldcost run is writing into out");
    // SAFETY: signalling our own child by its id
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(code), "exit 128 + signal");
    let after: Vec<(String, Vec<u8>)> = names(&d.path().join("out"))
        .into_iter()
        .map(|n| (n.clone(), std::fs::read(d.path().join("out").join(&n)).unwrap()))
        .collect();
    assert!(after == before, "the folder holds the earlier run, byte for byte, and nothing else");
}

#[test]
fn class3_sigterm_removes_the_temporary_folder_and_exits_143() {
    signal_ends_the_run_and_leaves_the_folder_as_it_was(libc::SIGTERM, 143);
}

#[test]
fn class3_ctrl_c_removes_the_temporary_folder_and_exits_130() {
    signal_ends_the_run_and_leaves_the_folder_as_it_was(libc::SIGINT, 130);
}

#[test]
fn class3_a_new_run_replaces_the_last_runs_files_and_keeps_the_users() {
    let d = Dir::new();
    d.ok(&["run", "--quiet", "--out", "out", "--requests", "--set", "simulation.horizon=10m"]);
    assert!(d.path().join("out/requests.csv").is_file());
    d.write("out/my-notes.txt", "mine");
    d.ok(&["run", "--quiet", "--out", "out", "--set", "simulation.horizon=10m", "--seed", "7"]);
    let n = names(&d.path().join("out"));
    assert!(!n.contains(&"requests.csv".to_string()), "the old run's requests.csv is gone: {n:?}");
    assert!(n.contains(&"my-notes.txt".to_string()) && n.contains(&"summary.csv".to_string()), "{n:?}");
    assert!(n.iter().all(|f| !f.starts_with(".coldcost-tmp")), "{n:?}");
    // a sweep into the folder replaces the run's files with its own
    d.ok(&[
        "sweep",
        "--quiet",
        "--out",
        "out",
        "--vary",
        "function.api.reserved=0,1",
        "--set",
        "simulation.horizon=10m",
        "--replications",
        "1",
    ]);
    let n = names(&d.path().join("out"));
    assert!(!n.contains(&"summary.csv".to_string()) && n.contains(&"sweep.csv".to_string()), "{n:?}");
    assert!(n.contains(&"my-notes.txt".to_string()), "{n:?}");
}

// ---- class 6: values that pass checks but break results ---------------------------------

#[test]
fn class6_values_that_would_break_results_are_bad_input_before_anything_runs() {
    let d = Dir::new();
    let q = std::fs::read_to_string(example("quickstart.toml")).unwrap();
    // a price so large the bill is inf
    let sheet = std::fs::read_to_string(example("pricing/fc3.toml")).unwrap_or_default();
    if !sheet.is_empty() {
        let big = regex_free_replace_first_rate(&sheet, "1e308");
        d.write("big.toml", &big);
        one_clear_line(&d.bad(&["run", "--set", "platform.pricing=big.toml", "--out", "o1"]), "at most 1e15");
        assert!(!d.path().join("o1").exists(), "nothing written");
    }
    // a function named ALL, a 5,000-character name
    d.write(
        "all.toml",
        &q.replace("[[function]]\nname = \"api\"", "[[function]]\nname = \"ALL\"")
            .replace("function = \"api\"", "function = \"ALL\""),
    );
    one_clear_line(&d.bad(&["validate", "all.toml"]), "`ALL` names the every-function row");
    let long = "n".repeat(5000);
    one_clear_line(&d.bad(&["validate", "--set", &format!("simulation.name={long}"), "all.toml"]), "at most 100");
    let err = d.bad(&["run", "--set", &format!("simulation.name=\"{long}\""), "--out", "o2"]);
    one_clear_line(&err, "a name of 5000 characters");
    // --seed beyond a TOML integer blames --seed
    let o = d.run_in(".", &["run", "--seed", "9223372036854775808", "--out", "o3"]);
    assert_eq!(o.status.code(), Some(2));
    one_clear_line(&String::from_utf8_lossy(&o.stderr), "--seed: 9223372036854775808 is too large");
    // help about help is not an error
    d.ok(&["help", "--help"]);
    // a sweep: a key varied twice, a grid too large to run (refused before it is built)
    let sweep = |extra: &[&str]| {
        let mut a = vec!["sweep", "--out", "sw", "--set", "simulation.horizon=10m"];
        a.extend(extra);
        d.bad(&a)
    };
    one_clear_line(
        &sweep(&["--vary", "function.api.reserved=0,1", "--vary", "function.api.reserved=2"]),
        "function.api.reserved: this key is varied twice",
    );
    let started = std::time::Instant::now();
    one_clear_line(
        &sweep(&["--vary", "function.api.reserved=0..99999", "--vary", "function.api.max_instances=1..100000"]),
        "the grid has 10000000000 setups (100000 × 100000)",
    );
    assert!(started.elapsed().as_secs() < 30, "refused before allocating");
    assert!(!d.path().join("sw").exists());
    // an Azure 2019 trace with no invocation at all
    std::fs::create_dir(d.path().join("az")).unwrap();
    d.write("az/invocations.csv", "HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,http,0,0\n");
    d.write("az/durations.csv", "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100\no,a,f,10,0,1,20,1,1,5,10,15,20,20\n");
    d.write("az/memory.csv", "HashFunction,HashOwner,HashApp,SampleCount,AverageAllocatedMb\nf,o,a,1,100\n");
    d.write("s.toml", &trace_scenario(r#"{ kind = "trace", format = "azure2019", path = "az" }"#));
    one_clear_line(&d.bad(&["validate", "s.toml"]), "has no invocations");
}

#[test]
fn class6_a_shard_whose_points_are_not_its_grids_is_refused_by_sweep_merge() {
    let d = Dir::new();
    let args = |k: &str, out: &str| -> Vec<String> {
        [
            "sweep",
            "--quiet",
            "--out",
            out,
            "--shard",
            k,
            "--vary",
            "function.api.reserved=0,1",
            "--set",
            "simulation.horizon=10m",
            "--replications",
            "1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    for (k, out) in [("1/2", "s1"), ("2/2", "s2")] {
        let a = args(k, out);
        d.ok(&a.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    }
    d.ok(&["sweep-merge", "s1", "s2", "--out", "m"]);
    // a value outside the grid
    let p = d.read("s2/points.csv");
    let mut lines: Vec<String> = p.lines().map(String::from).collect();
    lines[1] = lines[1].replacen(",1,", ",7,", 1);
    d.write("s2/points.csv", &(lines.join("\n") + "\n"));
    one_clear_line(&d.bad(&["sweep-merge", "s1", "s2", "--out", "m2"]), "is not a setup of this sweep's grid");
    d.write("s2/points.csv", &p);
    // meta disagreeing with its grid
    let meta = d.read("s1/sweep.meta.toml");
    d.write("s1/sweep.meta.toml", &meta.replace("points = 2", "points = 3"));
    one_clear_line(&d.bad(&["sweep-merge", "s1", "s2", "--out", "m3"]), "3 points, but its grid");
}

/// `sheet` with its first `rate = ...` set to `value`.
fn regex_free_replace_first_rate(sheet: &str, value: &str) -> String {
    let mut out = String::new();
    let mut done = false;
    for line in sheet.lines() {
        if !done && line.trim_start().starts_with("rate =") {
            out.push_str(&format!("rate = {value}\n"));
            done = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

// ---- class 2: unbounded work from small inputs (the grid is in class 6's test) -----------

#[test]
fn class2_a_bucket_that_would_write_absurdly_many_rows_is_refused_with_the_count() {
    let d = Dir::new();
    let e = d.bad(&["run", "--out", "o", "--set", "simulation.bucket=1us", "--set", "simulation.horizon=30d"]);
    one_clear_line(&e, "2592000000000 buckets over the horizon");
    assert!(!d.path().join("o").exists());
}

// ---- class 5: inputs that change underfoot --------------------------------------------

/// Run a trace scenario, change the trace with `change` between its scan and the
/// simulation (the binary waits at `COLDCOST_TEST_PAUSE`), and return the run's output.
fn run_with_trace_changed(d: &Dir, change: impl FnOnce(&std::path::Path)) -> std::process::Output {
    let mut trace = String::from("timestamp,function,duration_ms\n");
    for k in 0..3000 {
        trace.push_str(&format!("{}.{:03},f{},50\n", k / 100, k % 100 * 10, k % 3));
    }
    let tp = d.write("t.csv", &trace);
    d.write("s.toml", &trace_scenario(r#"{ kind = "trace", format = "csv", path = "t.csv" }"#));
    let flag = d.path().join("paused");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_coldcost"))
        .args(["run", "s.toml", "--out", "o"])
        .current_dir(d.path())
        .env("COLDCOST_TEST_PAUSE", &flag)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("binary runs");
    let started = std::time::Instant::now();
    while !flag.exists() {
        assert!(started.elapsed().as_secs() < 60, "the run never reached its simulation");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    change(&tp);
    std::fs::remove_file(&flag).unwrap();
    child.wait_with_output().expect("binary ends")
}

#[test]
fn class5_a_trace_truncated_or_rewritten_while_read_fails_the_run_naming_the_file() {
    let truncate = |p: &std::path::Path| {
        let f = std::fs::OpenOptions::new().write(true).open(p).unwrap();
        f.set_len(1000).unwrap();
    };
    let rewrite = |p: &std::path::Path| {
        // the same length, other bytes: only the modification time tells
        let text = std::fs::read_to_string(p).unwrap().replace(",f1,", ",f2,");
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(p, text).unwrap();
    };
    type Change<'a> = &'a dyn Fn(&std::path::Path);
    let changes: [(Change, &str); 2] =
        [(&truncate, "bytes when opened and is 1000 bytes now"), (&rewrite, "the trace changed while it was read")];
    for (change, want) in changes {
        let d = Dir::new();
        let o = run_with_trace_changed(&d, change);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        one_clear_line(&err, want);
        assert!(err.contains("t.csv"), "{err}");
        assert!(o.stdout.is_empty(), "no headline of a shorter run");
        assert!(!d.path().join("o").join("summary.csv").exists(), "nothing written");
    }
    // unchanged, the same run succeeds
    let d = Dir::new();
    let o = run_with_trace_changed(&d, |_| {});
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

// ---- class 7: messages ------------------------------------------------------------------

#[test]
fn class7_messages_name_the_duplicate_key_and_stay_on_one_line() {
    let d = Dir::new();
    d.write("dup.toml", "[simulation]\nseed = 1\nseed = 2\n");
    one_clear_line(&d.bad(&["validate", "dup.toml"]), "dup.toml:3: duplicate key `seed`");
    let e = d.bad(&["run", "--out", "o", "--set", "simulation.replications=a\nb"]);
    one_clear_line(&e, "\\n");
}
