//! Calibration against the real Docker engine and registry that `scripts/calibration-env.sh
//! up` starts (scripts/test.sh and CI do): a quick calibration writes a profile with its
//! held-out error; that profile predicts the pull of an image it was not fitted on within
//! 25%; `--image` measures an image and prints lines that make a valid scenario; a server
//! that listens on 127.0.0.1 only, or on another port, is FunctionNotStarted; `--shape`
//! slows the pull and goes away; Ctrl-C cleans up; bad input exits 2 naming what is wrong.
//! After every test no container or image with the calibration label remains.
//!
//! These tests take one lock (they share an engine, and timings must not be disturbed by
//! each other). Without an engine they fail and say how to start one; set
//! COLDCOST_SKIP_CALIBRATION=1 to skip them on a machine that cannot run Docker.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use coldcost::calibrate::registry::Registry;
use coldcost::calibrate::runtime::Engine;
use coldcost::calibrate::suite::{self, ProbeImage};
use coldcost::calibrate::{cleanup, ContainerRuntime};

use crate::util::{Csv, Dir};

const REGISTRY: &str = "127.0.0.1:5000";
const MIB: u64 = 1 << 20;

static LOCK: Mutex<()> = Mutex::new(());

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

fn engine() -> Engine {
    block(Engine::connect("unix:///var/run/docker.sock")).unwrap_or_else(|e| panic!("{e}"))
}

/// The engine and the registry are up (or the tests are skipped); returns the lock.
fn ready() -> Option<MutexGuard<'static, ()>> {
    if std::env::var_os("COLDCOST_SKIP_CALIBRATION").is_some() {
        eprintln!("COLDCOST_SKIP_CALIBRATION is set: skipping a calibration test");
        return None;
    }
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let hint = "the calibration tests need a Docker engine and a registry on 127.0.0.1:5000: run `scripts/calibration-env.sh up` (scripts/test.sh does), or set COLDCOST_SKIP_CALIBRATION=1 to skip them";
    if let Err(e) = Registry::connect(REGISTRY) {
        panic!("{e}\n{hint}");
    }
    if let Err(e) = block(Engine::connect("unix:///var/run/docker.sock")) {
        panic!("{e}\n{hint}");
    }
    Some(guard)
}

/// Containers and images with the calibration label on the engine.
fn labelled_left() -> (usize, usize) {
    let e = engine();
    block(async { (e.labelled_containers().await.unwrap().len(), e.labelled_images().await.unwrap().len()) })
}

fn assert_nothing_left() {
    assert_eq!(labelled_left(), (0, 0), "(containers, images) with the calibration label left on the engine");
}

fn probe_path() -> &'static PathBuf {
    static PROBE: OnceLock<PathBuf> = OnceLock::new();
    PROBE.get_or_init(|| suite::find_probe(None).expect("the probe builds"))
}

/// Builds and pushes a probe image (if the registry does not have it) and returns its
/// reference; leaves no local copy.
fn push(image: ProbeImage) -> String {
    let probe = Arc::new(std::fs::read(probe_path()).unwrap());
    let registry = Registry::connect(REGISTRY).unwrap();
    let e = engine();
    block(async {
        suite::ensure_pushed(&e, &registry, &image, &probe).await.unwrap();
        cleanup(&e, &[]).await.unwrap();
    });
    image.reference(REGISTRY, &probe).full()
}

fn probe_arg() -> String {
    probe_path().display().to_string()
}

/// `--image` trials as written to `<report>/image-*.csv`: pull seconds per trial and the
/// layers (compressed, uncompressed) of the first trial.
fn image_csv(report: &Path) -> (Vec<f64>, Vec<(u64, u64)>) {
    let file = std::fs::read_dir(report)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("image-"))
        .expect("an image-*.csv");
    let csv = Csv::parse(&std::fs::read_to_string(file).unwrap());
    let mut pulls = vec![];
    let mut layers = vec![];
    for r in &csv.rows {
        if r[csv.col("layer")] == "0" {
            pulls.push(csv.num(r, "pull_s"));
        }
        if r[csv.col("trial")] == "1" {
            layers.push((csv.num(r, "layer_compressed") as u64, csv.num(r, "layer_uncompressed") as u64));
        }
    }
    (pulls, layers)
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.len() % 2 == 1 {
        s[s.len() / 2]
    } else {
        (s[s.len() / 2 - 1] + s[s.len() / 2]) / 2.0
    }
}

/// The quick calibration, run once for the tests that need its profile: (folder, stdout).
fn quick_calibration() -> &'static (PathBuf, String) {
    static QUICK: OnceLock<(PathBuf, String)> = OnceLock::new();
    QUICK.get_or_init(|| {
        let d = Dir::new();
        let t = Instant::now();
        let o = d.ok(&["calibrate", "--suite", "quick", "--trials", "3", "--probe", &probe_arg()]);
        eprintln!("quick calibration: {:.0} s", t.elapsed().as_secs_f64());
        let dir = d.tmp.keep();
        (dir, String::from_utf8_lossy(&o.stdout).into_owned())
    })
}

#[test]
fn a_quick_calibration_writes_a_profile_measurements_a_report_and_a_chart() {
    let Some(_lock) = ready() else { return };
    let (dir, out) = quick_calibration();
    assert!(out.contains("held-out pull time error: mean "), "{out}");
    let profile = std::fs::read_to_string(dir.join("profiles/local.toml")).unwrap();
    for key in [
        "container_create = ",
        "[pull]",
        "manifest = ",
        "layer_overhead = ",
        "host_bandwidth = ",
        "extract_rate = ",
        "parallel_layers = ",
    ] {
        assert!(profile.contains(key), "{key} missing from the profile:\n{profile}");
    }
    assert!(profile.contains("predicted within") && profile.contains("# "), "{profile}");
    let md = std::fs::read_to_string(dir.join("reports/calibration/calibration.md")).unwrap();
    assert!(md.contains("**Held-out error**") && md.contains("**R² = "), "{md}");
    // 8 images × 3 trials, one row per layer
    let csv = Csv::parse(&std::fs::read_to_string(dir.join("reports/calibration/measurements.csv")).unwrap());
    let trials: std::collections::HashSet<(String, String)> =
        csv.rows.iter().map(|r| (r[csv.col("image")].clone(), r[csv.col("trial")].clone())).collect();
    assert_eq!(trials.len(), 8 * 3);
    assert!(csv.rows.iter().all(|r| r[csv.col("cached")] == "false"), "every layer was pulled cold");
    let png = std::fs::File::open(dir.join("reports/calibration/fit.png")).unwrap();
    let info = png::Decoder::new(std::io::BufReader::new(png)).read_info().unwrap().info().clone();
    assert_eq!((info.width, info.height), (1400, 700));
    assert_nothing_left();
}

#[test]
fn a_profile_predicts_the_pull_of_an_image_it_was_not_fitted_on_within_25_percent() {
    let Some(_lock) = ready() else { return };
    let (dir, _) = quick_calibration();
    let profile = dir.join("profiles/local.toml");
    // not in the quick suite: three layers of different sizes on top of the probe
    let image = push(ProbeImage::new("holdout-3", &[48 * MIB, 16 * MIB, 24 * MIB]));
    let d = Dir::new();
    d.ok(&["calibrate", "--image", &image, "--trials", "5", "--report", "m"]);
    let (pulls, layers) = image_csv(&d.path().join("m"));
    assert_eq!((pulls.len(), layers.len()), (5, 4));
    let measured = median(&pulls);
    let layers: Vec<String> = layers
        .iter()
        .map(|(c, u)| format!("{{ compressed = \"{c}B\", uncompressed = \"{u}B\", files = 1 }}"))
        .collect();
    let scenario = format!(
        "[simulation]\nname = \"holdout\"\nhorizon = \"1h\"\n[platform]\nhosts = 1\n[[image]]\nname = \"holdout\"\nlayers = [{}]\n[[function]]\nname = \"holdout\"\nstartup = \"10ms\"\nexec = \"10ms\"\n[[workload]]\narrivals = {{ kind = \"constant\", interval = \"2h\" }}\n",
        layers.join(", ")
    );
    d.write("holdout.toml", &scenario);
    let profile_arg = format!("platform.pull.profile={}", profile.display());
    d.ok(&["run", "holdout.toml", "--set", &profile_arg, "--out", "out", "--quiet"]);
    let summary = Csv::parse(&d.read("out/summary.csv"));
    let row = summary.rows_where("function", "holdout").next().unwrap();
    let predicted = summary.num(row, "pull_seconds");
    let error = predicted / measured - 1.0;
    eprintln!("held-out image: measured median {measured:.3} s, predicted {predicted:.3} s ({:+.1}%)", error * 100.0);
    assert!(
        error.abs() <= 0.25,
        "predicted {predicted:.3} s vs measured median {measured:.3} s: {:+.1}%",
        error * 100.0
    );
    assert_nothing_left();
}

#[test]
fn image_mode_prints_layers_and_a_startup_that_make_a_valid_scenario() {
    let Some(_lock) = ready() else { return };
    let image = push(ProbeImage::new("image-mode", &[4 * MIB]));
    let d = Dir::new();
    let o = d.ok(&["calibrate", "--image", &image, "--trials", "2", "--report", "m"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("pull             median ") && out.contains("startup          median "), "{out}");
    let paste = &out[out.find("[platform]").expect("a [platform] line to paste")..];
    assert!(
        paste.contains("container_create = ") && paste.contains("[[image]]") && paste.contains("startup = "),
        "{out}"
    );
    assert_eq!(paste.matches("{ compressed = ").count(), 2, "the probe's layer and one more:\n{out}");
    // what it printed, plus the function's exec time and a workload, is a scenario
    d.write(
        "pasted.toml",
        &format!("{paste}exec = \"100ms\"\n\n[[workload]]\narrivals = {{ kind = \"poisson\", rate = \"1/s\" }}\n"),
    );
    d.ok(&["validate", "pasted.toml"]);
    assert_nothing_left();
}

#[test]
fn a_server_that_listens_on_127_0_0_1_only_is_function_not_started_after_the_limit() {
    let Some(_lock) = ready() else { return };
    let mut img = ProbeImage::new("loopback-only", &[]);
    img.bind = Some("127.0.0.1".into());
    let image = push(img);
    let d = Dir::new();
    let t = Instant::now();
    let err = d.bad(&["calibrate", "--image", &image, "--fail-after", "3s", "--trials", "1"]);
    let took = t.elapsed();
    assert!(err.contains("FunctionNotStarted") && err.contains(&image), "{err}");
    assert!(err.contains("within 3s of the pull's start"), "{err}");
    assert!(took >= Duration::from_secs(3) && took < Duration::from_secs(30), "{took:?}");
    assert!(!d.path().join("reports").exists(), "nothing written");
    assert_nothing_left();
}

#[test]
fn a_port_that_never_answers_is_function_not_started_naming_the_port() {
    let Some(_lock) = ready() else { return };
    let image = push(ProbeImage::new("image-mode", &[4 * MIB]));
    let d = Dir::new();
    let err = d.bad(&["calibrate", "--image", &image, "--port", "9999", "--fail-after", "2s", "--trials", "1"]);
    assert!(err.contains("FunctionNotStarted") && err.contains("container port 9999"), "{err}");
    assert_nothing_left();
}

fn lo_qdisc() -> String {
    String::from_utf8_lossy(&Command::new("tc").args(["qdisc", "show", "dev", "lo"]).output().unwrap().stdout)
        .into_owned()
}

#[test]
fn shaping_slows_the_pull_and_is_removed_afterwards_also_after_a_failure() {
    let Some(_lock) = ready() else { return };
    let image = push(ProbeImage::new("image-mode", &[4 * MIB]));
    let d = Dir::new();
    d.ok(&["calibrate", "--image", &image, "--trials", "1", "--shape", "40Mbps", "--report", "m"]);
    let (pulls, _) = image_csv(&d.path().join("m"));
    // 4.6 MB at 5 MB/s: at least 0.9 s (unshaped it takes about a quarter of that)
    assert!(pulls[0] > 0.85, "shaped pull took {:.3} s", pulls[0]);
    assert!(lo_qdisc().starts_with("qdisc noqueue"), "shaping left on lo: {}", lo_qdisc());
    let err = d.bad(&["calibrate", "--image", &image, "--port", "9999", "--fail-after", "1s", "--shape", "40Mbps"]);
    assert!(err.contains("FunctionNotStarted"), "{err}");
    assert!(lo_qdisc().starts_with("qdisc noqueue"), "shaping left on lo after a failure: {}", lo_qdisc());
    assert_nothing_left();
}

#[test]
fn ctrl_c_removes_what_calibration_made_and_exits_1() {
    let Some(_lock) = ready() else { return };
    let mut img = ProbeImage::new("loopback-only", &[]);
    img.bind = Some("127.0.0.1".into());
    let image = push(img);
    let d = Dir::new();
    let child = Command::new(env!("CARGO_BIN_EXE_coldcost"))
        .args(["calibrate", "--image", &image, "--fail-after", "60s", "--trials", "1"])
        .current_dir(d.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // wait until its container exists (it then polls a server that never answers)
    let t = Instant::now();
    while labelled_left().0 == 0 {
        assert!(t.elapsed() < Duration::from_secs(30), "no container appeared");
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("interrupted (Ctrl-C)"), "{err}");
    assert_nothing_left();
}

#[test]
fn bad_input_exits_2_saying_which_and_leaves_nothing_behind() {
    let Some(_lock) = ready() else { return };
    let d = Dir::new();
    let probe = probe_arg();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--engine", "unix:///nonexistent/docker.sock"],
            "--engine: cannot reach the Docker engine at unix:///nonexistent/docker.sock",
        ),
        (&["--engine", "tcp://10.1.2.3:2375"], "10.1.2.3, not a loopback address"),
        (&["--registry", "127.0.0.1:5999"], "--registry: cannot reach the registry at 127.0.0.1:5999"),
        (&["--registry", "192.168.1.1:5000"], "not a loopback address"),
        (&["--image", "127.0.0.1:5000/coldcost-probe:no-such-tag"], "is not in the registry at 127.0.0.1:5000"),
        (&["--image", "nginx:latest"], "names no registry"),
        (&["--image", "127.0.0.1:5999/app:1"], "cannot reach the registry at 127.0.0.1:5999"),
        (&["--fail-after", "soon"], "--fail-after"),
        (&["--shape", "fast"], "--shape"),
    ];
    for (args, expect) in cases {
        let mut a = vec!["calibrate", "--suite", "quick", "--probe", &probe];
        a.extend_from_slice(args);
        let err = d.bad(&a);
        assert!(err.contains(expect), "{args:?}: expected {expect:?} in\n{err}");
        assert_eq!(err.trim().lines().count(), 1, "one message: {err}");
    }
    assert!(!d.path().join("profiles").exists() && !d.path().join("reports").exists(), "nothing written");
    assert!(lo_qdisc().starts_with("qdisc noqueue"));
    assert_nothing_left();
}

#[test]
fn a_refit_of_saved_measurements_writes_a_profile_that_a_scenario_uses_from_the_command_line() {
    // no engine needed: the measurements are from a real quick run on this kind of machine
    let d = Dir::new();
    let csv = crate::util::repo().join("tests/data/calibration-quick.csv");
    let o = d.ok(&["calibrate", "--refit", &csv.display().to_string()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("fit over 8 images") && out.contains("held-out pull time error"), "{out}");
    assert!(d.path().join("profiles/local.toml").is_file() && d.path().join("reports/calibration/fit.png").is_file());
    // the profile, given on the command line relative to the current folder, changes the pull
    std::fs::create_dir(d.path().join("scenarios")).unwrap();
    std::fs::copy(crate::util::example("quickstart.toml"), d.path().join("scenarios/quickstart.toml")).unwrap();
    let pull = |extra: &[&str]| {
        let mut a = vec![
            "run",
            "scenarios/quickstart.toml",
            "--set",
            "simulation.horizon=1h",
            "--set",
            "simulation.replications=1",
            // the reserved instances pull at t = 0 (warm_start would have them ready, cached)
            "--set",
            "simulation.warm_start=false",
            "--out",
            "r",
            "--quiet",
        ];
        a.extend_from_slice(extra);
        d.ok(&a);
        let s = Csv::parse(&d.read("r/summary.csv"));
        let row = s.rows_where("function", "api").next().unwrap().clone();
        s.num(&row, "pull_seconds")
    };
    let default = pull(&[]);
    let calibrated = pull(&["--set", "platform.pull.profile=profiles/local.toml"]);
    assert!(
        default > 0.0 && calibrated > 0.0 && (calibrated / default - 1.0).abs() > 0.05,
        "{default} vs {calibrated}"
    );
}

#[test]
fn a_refit_of_an_image_with_a_layer_over_10_gb_fits_it_rather_than_panicking() {
    // a scenario file may not declare a layer over 10 GB; a measured image may hold one, and
    // the fit builds its one-image scenarios as values, so the refit goes through
    let d = Dir::new();
    let src = crate::util::repo().join("tests/data/calibration-quick.csv");
    let mut r = csv::Reader::from_path(&src).unwrap();
    let head = r.headers().unwrap().clone();
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let (image, layer) = (col("image"), col("layer"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&head).unwrap();
    let factor = 120u64; // the 96 MB layer of 1x96m becomes about 11.5 GB
    for rec in r.records() {
        let mut rec: Vec<String> = rec.unwrap().iter().map(String::from).collect();
        if rec[image] == "1x96m" {
            let grown = |v: &str| (v.parse::<u64>().unwrap() * factor).to_string();
            if rec[layer] == "1" {
                for c in ["layer_compressed", "layer_uncompressed"] {
                    rec[col(c)] = grown(&rec[col(c)]);
                }
                assert!(rec[col("layer_compressed")].parse::<u64>().unwrap() > 10 << 30);
            }
            for c in ["compressed_bytes", "uncompressed_bytes"] {
                rec[col(c)] = grown(&rec[col(c)]);
            }
        }
        w.write_record(&rec).unwrap();
    }
    let csv_path = d.path().join("big.csv");
    std::fs::write(&csv_path, w.into_inner().unwrap()).unwrap();
    let o = d.ok(&["calibrate", "--refit", &csv_path.display().to_string()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("fit over 8 images"), "{out}");
    assert!(d.path().join("profiles/local.toml").is_file());
}

/// A measurements.csv of one-layer images: (name, compressed bytes, pull seconds per trial).
/// `pull` is written as given, so a test can put "NaN" or "-1" in it.
fn measurements(images: &[(&str, u64, &[&str])]) -> String {
    let mut s = String::from("image,reference,trial,layers,compressed_bytes,uncompressed_bytes,manifest_s,pull_s,create_s,start_s,ready_s,layer,layer_digest,layer_compressed,layer_uncompressed,layer_files,download_start_s,download_done_s,extract_start_s,layer_done_s,cached\n");
    for (name, bytes, pulls) in images {
        for (n, pull) in pulls.iter().enumerate() {
            s.push_str(&format!(
                "{name},127.0.0.1:5000/app:{name},{},1,{bytes},{bytes},0.010000,{pull},0.200000,0.100000,0.001000,0,sha256:{name},{bytes},{bytes},1,,,,,false\n",
                n + 1
            ));
        }
    }
    s
}

#[test]
fn a_refit_of_pulls_that_are_all_equal_writes_no_r_squared_and_no_nan() {
    // the sizes differ, so the fit is defined; the medians are equal, so R² is not
    let d = Dir::new();
    d.write(
        "m.csv",
        &measurements(&[("a", 1 << 20, &["0.5"; 3]), ("b", 8 << 20, &["0.5"; 3]), ("c", 64 << 20, &["0.5"; 3])]),
    );
    let o = d.ok(&["calibrate", "--refit", "m.csv"]);
    let out = String::from_utf8_lossy(&o.stdout);
    let profile = d.read("profiles/local.toml");
    let md = d.read("reports/calibration/calibration.md");
    for (what, text) in [("stdout", &*out), ("profile", &*profile), ("calibration.md", &*md)] {
        let lower = text.to_lowercase();
        assert!(!lower.contains("nan") && !lower.contains("inf "), "{what} holds a non-finite number:\n{text}");
        assert!(text.contains("no R² (every image's median pull time is 0.500 s"), "{what}:\n{text}");
    }
    // a rate the equal pulls cannot give (the fit runs to its bound) is left to the scenario
    assert!(!profile.lines().any(|l| l.starts_with("host_bandwidth") || l.starts_with("extract_rate")), "{profile}");
    assert!(profile.contains("# host_bandwidth: not determined by these measurements"), "{profile}");
    // the profile is one a scenario can use
    std::fs::create_dir(d.path().join("scenarios")).unwrap();
    std::fs::copy(crate::util::example("quickstart.toml"), d.path().join("scenarios/quickstart.toml")).unwrap();
    d.ok(&["validate", "scenarios/quickstart.toml", "--set", "platform.pull.profile=profiles/local.toml"]);
}

#[test]
fn a_refit_that_cannot_be_fitted_exits_2_naming_the_file_and_writes_nothing() {
    let d = Dir::new();
    let cases: &[(&str, String, &str)] = &[
        (
            "same-size.csv",
            measurements(&[("a", 8 << 20, &["0.4", "0.5"]), ("b", 8 << 20, &["0.6", "0.7"])]),
            "same-size.csv: every image with complete pulls has the same compressed size (8388608 bytes, 2 images), so the pull time's growth with size (host_bandwidth) is undefined; allowed: images of at least two different sizes",
        ),
        (
            "one-image.csv",
            measurements(&[("a", 8 << 20, &["0.4", "0.5"])]),
            "one-image.csv: a fit needs complete pulls of at least two images; found 1",
        ),
        (
            "nan.csv",
            measurements(&[("a", 1 << 20, &["0.4"]), ("b", 8 << 20, &["NaN"])]),
            "nan.csv:3: pull_s: NaN is not a time; timings are seconds, finite and 0 or more",
        ),
        (
            "negative.csv",
            measurements(&[("a", 1 << 20, &["-0.4"]), ("b", 8 << 20, &["0.5"])]),
            "negative.csv:2: pull_s: -0.4 is not a time",
        ),
        (
            "infinite.csv",
            measurements(&[("a", 1 << 20, &["inf"]), ("b", 8 << 20, &["0.5"])]),
            "infinite.csv:2: pull_s: inf is not a time",
        ),
    ];
    for (file, text, expect) in cases {
        d.write(file, text);
        let err = d.bad(&["calibrate", "--refit", file]);
        assert!(err.contains(expect), "{file}: expected {expect:?} in\n{err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    assert!(!d.path().join("profiles").exists() && !d.path().join("reports").exists(), "nothing written");
}

/// `--image REF --concurrency 1,2,4,8` on a probe image whose `GET /` computes for `cpu_ms`
/// of CPU time and then sleeps `sleep_ms`: the fitted cpu_fraction, and stdout.
fn fitted_cpu_fraction(name: &str, cpu_ms: u32, sleep_ms: u32) -> (f64, String) {
    let mut img = ProbeImage::new(name, &[]);
    (img.cpu_ms, img.sleep_ms) = (cpu_ms, sleep_ms);
    let image = push(img);
    let d = Dir::new();
    let o = d.ok(&[
        "calibrate",
        "--image",
        &image,
        "--trials",
        "1",
        "--concurrency",
        "1,2,4,8",
        "--cpus",
        "1",
        "--rounds",
        "5",
        "--report",
        "m",
    ]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    eprintln!("{out}");
    let line = out.lines().find(|l| l.starts_with("cpu_fraction = ")).unwrap_or_else(|| panic!("{out}"));
    let f: f64 = line["cpu_fraction = ".len()..].split_whitespace().next().unwrap().parse().unwrap();
    // every request is in the CSV: 5 rounds of 1 + 2 + 4 + 8
    let csv = Csv::parse(
        &d.read(&format!("m/image-{}-concurrency.csv", image.rsplit('/').next().unwrap().replace(':', "-"))),
    );
    assert_eq!(csv.rows.len(), 5 * 15);
    // what it printed, with a workload, is a scenario
    let paste = &out[out.find("[platform]").unwrap()..];
    d.write("pasted.toml", &format!("{paste}\n[[workload]]\narrivals = {{ kind = \"poisson\", rate = \"1/s\" }}\n"));
    d.ok(&["validate", "pasted.toml"]);
    assert_nothing_left();
    (f, out)
}

#[test]
fn concurrency_fits_half_cpu_to_requests_of_equal_cpu_work_and_sleep() {
    let Some(_lock) = ready() else { return };
    // 50 ms of CPU then 50 ms asleep: f = 0.5 (the HTTP round trip on loopback adds about
    // 1 ms of wait, 0.005 off); the tolerance is for what other processes on this shared
    // 2-core machine take from the container's CPU
    let (f, out) = fitted_cpu_fraction("cpu50-sleep50", 50, 50);
    assert!((f - 0.5).abs() <= 0.1, "cpu_fraction {f}:\n{out}");
    assert!(out.contains("exec_vcpu = 1") && out.contains("rms residual"), "{out}");
}

#[test]
fn concurrency_fits_no_cpu_to_requests_that_only_wait() {
    let Some(_lock) = ready() else { return };
    let (f, out) = fitted_cpu_fraction("sleep100", 0, 100);
    assert!(f <= 0.05, "cpu_fraction {f}:\n{out}");
}

#[test]
fn concurrency_levels_that_cannot_give_a_fit_exit_2_before_anything_runs() {
    // checked before the engine is asked anything: no engine needed
    let d = Dir::new();
    let image = "127.0.0.1:5000/app:1";
    let cases: &[(&[&str], &str)] = &[
        (&["--concurrency", "2,4"], "--concurrency: found 2,4 with --cpus 1; allowed: levels that include 1"),
        (&["--concurrency", "1"], "--concurrency: found 1 with --cpus 1; allowed: levels that include 1 (the time alone) and one above --cpus"),
        (&["--concurrency", "1,2,x"], "allowed: distinct whole numbers of requests from 1 to 256"),
        (&["--concurrency", "1,2", "--cpus", "0"], "--cpus: found 0; allowed: 0.01 to"),
        (&["--concurrency", "1,2", "--cpus", "4096"], "--cpus: found 4096; allowed: 0.01 to"),
    ];
    for (args, expect) in cases {
        let mut a = vec!["calibrate", "--image", image, "--engine", "unix:///nonexistent.sock"];
        a.extend_from_slice(args);
        let err = d.bad(&a);
        assert!(err.contains(expect), "{args:?}: expected {expect:?} in\n{err}");
    }
    // --concurrency measures an image: without --image it is a usage error
    let err = d.bad(&["calibrate", "--concurrency", "1,2"]);
    assert!(err.contains("--image"), "{err}");
    assert!(!d.path().join("reports").exists());
}
