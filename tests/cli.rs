//! The command line as a user meets it: the main job with no file, validation, init, and
//! every kind of bad input (exit 2, one clear message, nothing left behind).

use crate::util::{example, Csv, Dir};

#[test]
fn run_with_no_file_runs_the_built_in_quickstart_and_writes_its_reports() {
    let d = Dir::new();
    // a short horizon keeps the debug-build test quick; the scenario is the built-in one
    let o = d.ok(&["run", "--set", "simulation.horizon=2h"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("quickstart:"), "{out}");
    for f in ["summary.csv", "timeseries.csv", "instances.csv"] {
        assert!(d.path().join("reports/quickstart").join(f).is_file(), "{f}");
    }
    assert!(!d.path().join("reports/quickstart/requests.csv").exists());
    let csv = Csv::parse(&d.read("reports/quickstart/summary.csv"));
    // 3 replications × (api + ALL); the statistics over replications are in summary_stats.csv
    assert_eq!(csv.rows.len(), 3 * 2);
    assert!(csv.rows.iter().all(|r| r[csv.col("replication")].parse::<u32>().is_ok()));
    let stats = Csv::parse(&d.read("reports/quickstart/summary_stats.csv"));
    // `replications` counts the replications with a value (no cold request: none)
    assert!(stats.rows.iter().all(|r| r[stats.col("replications")] == "3"
        || (r[stats.col("replications")] == "0" && r[stats.col("mean")].is_empty())));
    assert_eq!(csv.rows[0][csv.col("scenario")], "quickstart");
}

#[test]
fn every_example_scenario_validates() {
    let d = Dir::new();
    let dir = crate::util::repo().join("scenarios");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert!(files.len() >= 3);
    let mut args = vec!["validate"];
    args.extend(files.iter().map(|s| s.as_str()));
    let o = d.ok(&args);
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().filter(|l| l.starts_with("ok ")).count(), files.len());
}

#[test]
fn init_writes_the_commented_quickstart_and_never_overwrites_without_force() {
    let d = Dir::new();
    d.ok(&["init", "mine.toml"]);
    let text = d.read("mine.toml");
    assert_eq!(text, std::fs::read_to_string(example("quickstart.toml")).unwrap());
    assert!(text.contains('#'), "commented");
    d.ok(&["validate", "mine.toml"]);
    let err = d.bad(&["init", "mine.toml"]);
    assert!(err.contains("--force"), "{err}");
    d.ok(&["init", "mine.toml", "--force"]);
}

fn quickstart_with(d: &Dir, from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(example("quickstart.toml")).unwrap();
    assert!(text.contains(from), "quickstart has {from:?}");
    d.write("s.toml", &text.replacen(from, to, 1));
    "s.toml".into()
}

/// Exit 2, the message names what it must, and no report folder appears.
fn rejected(d: &Dir, args: &[&str], must: &[&str]) {
    let mut full = args.to_vec();
    full.extend(["--out", "out"]);
    let err = d.bad(&full);
    for m in must {
        assert!(err.contains(m), "message lacks {m:?}:\n{err}");
    }
    assert_eq!(err.trim().lines().count(), 1, "one message:\n{err}");
    assert!(!d.path().join("out").exists(), "nothing written for bad input");
}

#[test]
fn malformed_toml_is_rejected_with_its_line() {
    let d = Dir::new();
    d.write("s.toml", "[simulation]\nname = \"x\"\n[platform\n");
    rejected(&d, &["run", "s.toml"], &["s.toml:3"]);
}

#[test]
fn an_unknown_key_is_rejected_with_a_did_you_mean() {
    let d = Dir::new();
    let f = quickstart_with(&d, "hosts = 50", "hots = 50");
    rejected(&d, &["run", &f], &["s.toml:", "platform.hots", "did you mean `hosts`"]);
}

#[test]
fn a_wrong_unit_is_rejected_with_the_allowed_units() {
    let d = Dir::new();
    let f = quickstart_with(&d, "keep_alive = \"60s\"", "keep_alive = \"60 parsecs\"");
    rejected(&d, &["run", &f], &["platform.keep_alive", "parsecs", "allowed units"]);
}

#[test]
fn out_of_range_values_are_rejected_with_the_allowed_range() {
    let d = Dir::new();
    let f = quickstart_with(&d, "memory = \"1GB\"", "memory = \"100MB\"");
    rejected(&d, &["run", &f], &["function.api.memory", "128MB"]);
    let f = quickstart_with(&d, "concurrency = 10", "concurrency = 500");
    rejected(&d, &["run", &f], &["function.api.concurrency", "200"]);
}

#[test]
fn a_missing_image_is_rejected_with_the_images_there_are() {
    let d = Dir::new();
    let f = quickstart_with(&d, "image = \"api\"", "image = \"nope\"");
    rejected(&d, &["run", &f], &["function.api.image", "nope", "api"]);
}

#[test]
fn set_paths_that_do_not_exist_are_rejected() {
    let d = Dir::new();
    let q = example("quickstart.toml");
    let q = q.to_str().unwrap();
    rejected(&d, &["run", q, "--set", "function.api.resrved=3"], &["--set", "did you mean `reserved`"]);
    rejected(&d, &["run", q, "--set", "function.nope.reserved=3"], &["--set", "nope"]);
    rejected(&d, &["run", q, "--set", "simulation.horizon"], &["--set"]);
}

#[test]
fn a_trace_that_does_not_exist_is_bad_input_naming_its_path() {
    let d = Dir::new();
    let f = quickstart_with(
        &d,
        "arrivals = { kind = \"diurnal\"",
        "arrivals = { kind = \"trace\", format = \"csv\", path = \"x.csv\" }\n# was: { kind = \"diurnal\"",
    );
    rejected(&d, &["run", &f], &["workload[0].arrivals.path", "x.csv does not exist"]);
}

/// A scenario in `scen/` (the quickstart, its pricing `pricing`) and a working folder `work/`
/// beside it. Price sheets (copies of fc3 under other names): `theirs` beside the scenario,
/// `mine` in `work/sheets/`; a calibration profile in `work/profiles/`.
fn two_folders(pricing: &str) -> Dir {
    let d = Dir::new();
    std::fs::create_dir_all(d.path().join("scen")).unwrap();
    std::fs::create_dir_all(d.path().join("work/sheets")).unwrap();
    std::fs::create_dir_all(d.path().join("work/profiles")).unwrap();
    let fc3 = std::fs::read_to_string(crate::util::repo().join("scenarios/pricing/fc3.toml")).unwrap();
    assert!(fc3.contains("name = \"fc3\""));
    d.write("scen/theirs.toml", &fc3.replacen("name = \"fc3\"", "name = \"theirs\"", 1));
    d.write("work/sheets/mine.toml", &fc3.replacen("name = \"fc3\"", "name = \"mine\"", 1));
    d.write("work/profiles/local.toml", "[pull]\nhost_bandwidth = \"800Mbps\"\n");
    let q = std::fs::read_to_string(example("quickstart.toml")).unwrap();
    d.write("scen/s.toml", &q.replacen("pricing = \"fc3\"", &format!("pricing = \"{pricing}\""), 1));
    d
}

/// `run ../scen/s.toml` from `work/`, short, with `extra` arguments.
fn run_from_work<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["run", "../scen/s.toml", "--out", "out", "--quiet"];
    a.extend(["--set", "simulation.horizon=1h", "--set", "simulation.replications=1"]);
    a.extend_from_slice(extra);
    a
}

/// `dir` (below the test's folder) as the binary sees it: absolute, links resolved.
fn real(d: &Dir, dir: &str) -> std::path::PathBuf {
    d.path().join(dir).canonicalize().unwrap()
}

#[test]
fn set_paths_are_relative_to_the_current_folder() {
    let d = two_folders("fc3");
    d.ok_in("work", &run_from_work(&["--set", "platform.pricing=sheets/mine.toml"]));
    let report = d.read("work/out/report.md");
    assert!(report.contains("Prices: `mine`"), "{report}");

    d.ok_in("work", &run_from_work(&["--set", "platform.pull.profile=profiles/local.toml"]));
    let report = d.read("work/out/report.md");
    assert!(report.contains("(measured: profile profiles/local.toml)"), "{report}");
    // the profile's 800 Mbps replaced the quickstart's host bandwidth
    assert!(report.contains("pulls at 800 Mbit/s per host"), "{report}");
}

#[test]
fn paths_in_the_scenario_file_are_relative_to_its_folder() {
    let d = two_folders("theirs.toml");
    d.ok_in("work", &run_from_work(&[]));
    let report = d.read("work/out/report.md");
    assert!(report.contains("Prices: `theirs`"), "{report}");
    // the same name given with --set is looked for in the current folder, not the scenario's
    let err = d.bad_in("work", &run_from_work(&["--set", "platform.pricing=theirs.toml"]));
    let want = format!("looked for {}", real(&d, "work").join("theirs.toml").display());
    assert!(err.contains("--set: platform.pricing") && err.contains(&want), "{err}");
}

#[test]
fn a_missing_file_names_the_path_as_given_and_where_it_was_looked_for() {
    let d = two_folders("nope.toml");
    // written in the file: looked for beside the scenario
    let err = d.bad_in("work", &run_from_work(&[]));
    let want = format!("looked for {}", real(&d, "scen").join("nope.toml").display());
    for m in ["s.toml:", "platform.pricing", "\"nope.toml\"", &want, "relative to the file's folder"] {
        assert!(err.contains(m), "message lacks {m:?}:\n{err}");
    }
    assert_eq!(err.trim().lines().count(), 1, "one message:\n{err}");

    // given with --set: looked for in the current folder
    let d = two_folders("fc3");
    let cases = [
        ("platform.pricing", "sheets/nope.toml", "work/sheets"),
        ("platform.pull.profile", "profiles/nope.toml", "work/profiles"),
    ];
    for (key, given, dir) in cases {
        let set = format!("{key}={given}");
        let err = d.bad_in("work", &run_from_work(&["--set", &set]));
        let want = format!("looked for {}", real(&d, dir).join("nope.toml").display());
        let quoted = format!("\"{given}\"");
        for m in [&format!("--set: {key}"), &quoted, &want, "relative to the current folder"] {
            assert!(err.contains(m), "message lacks {m:?}:\n{err}");
        }
        assert_eq!(err.trim().lines().count(), 1, "one message:\n{err}");
    }
    assert!(!d.path().join("work/out").exists(), "nothing written for bad input");
}

#[test]
fn a_missing_file_is_bad_input() {
    let d = Dir::new();
    rejected(&d, &["run", "nowhere.toml"], &["nowhere.toml"]);
}

#[test]
fn bad_flags_exit_2() {
    let d = Dir::new();
    d.bad(&["run", "--replications", "many"]);
    d.bad(&["frobnicate"]);
}

#[test]
fn pricing_lists_the_built_in_sheets_and_shows_one() {
    let d = Dir::new();
    let out = String::from_utf8_lossy(&d.ok(&["pricing", "list"]).stdout).into_owned();
    for name in ["fc3", "fc3-usd", "fc2", "lambda", "lambda-arm", "cloudrun", "cloudrun-instance", "azure-flex"] {
        assert!(out.lines().any(|l| l.starts_with(name)), "{name} missing from:\n{out}");
    }
    let show = String::from_utf8_lossy(&d.ok(&["pricing", "show", "lambda"]).stdout).into_owned();
    assert!(show.contains("Duration") && show.contains("USD"), "{show}");
    let err = d.bad(&["pricing", "show", "lamda"]);
    assert!(err.contains("lambda"), "did you mean: {err}");
}
