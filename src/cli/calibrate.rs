//! `coldcost calibrate`: measure pulls and starts on a Docker engine with a registry on
//! loopback, fit the pull model, and write the profile (`--out`), `measurements.csv`,
//! `calibration.md` and `fit.png` (`--report`). `--image REF` measures a user's image and
//! prints what to paste into a scenario; `--refit FILE` fits again from a measurements.csv.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;

use crate::app::stdout;
use crate::calibrate::estimates::DOCKER_PARALLEL_DOWNLOADS;
use crate::calibrate::measure::{from_csv, to_csv, write_atomic, Trial};
use crate::calibrate::meta::{today, Meta};
use crate::calibrate::report;
use crate::calibrate::suite::Suite;
use crate::calibrate::{cpu_fit, load};
use crate::calibrate::{fit_and_write, run_image, run_suite, Options};
use crate::error::InputError;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Docker engine: unix:///path/to/docker.sock or tcp://127.0.0.1:PORT [default:
    /// $DOCKER_HOST, else unix:///var/run/docker.sock].
    #[arg(long)]
    pub engine: Option<String>,
    /// The registry the probe images are pushed to and pulled from (loopback only).
    #[arg(long, default_value = "127.0.0.1:5000")]
    pub registry: String,
    /// Probe images to measure: quick (8 images, about a minute) or standard (12 images,
    /// 1 MB to 1 GB, 1 to 33 layers; several minutes).
    #[arg(long, value_enum, default_value = "standard")]
    pub suite: Suite,
    /// Trials of each image.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub trials: u32,
    /// The profile to write.
    #[arg(long, default_value = DEFAULT_OUT)]
    pub out: PathBuf,
    /// Folder for measurements.csv, calibration.md and fit.png [default: reports/calibration
    /// with the default --out; beside any other profile, as <profile stem>-calibration/].
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// `--report` resolved.
    #[arg(skip)]
    pub report_dir: PathBuf,
    /// Measure this image (in a registry on loopback) instead of the probe suite, and print
    /// its startup distribution and layers for a scenario.
    #[arg(long, value_name = "REF")]
    pub image: Option<String>,
    /// The port the image's server listens on inside the container (with --image).
    #[arg(long, default_value_t = 9000)]
    pub port: u16,
    /// FunctionNotStarted when the server has not answered GET / this long after the pull
    /// began (FC's limit is 120 s).
    #[arg(long, default_value = "120s")]
    pub fail_after: String,
    /// Shape the registry's replies on loopback to this rate with tc (e.g. 100Mbps) to
    /// emulate a slower link; removed afterwards.
    #[arg(long, value_name = "RATE")]
    pub shape: Option<String>,
    /// The probe server binary [default: probe/target/…/probe, built if missing].
    #[arg(long)]
    pub probe: Option<PathBuf>,
    /// With --image: also time GET / with these numbers of requests at once (e.g. 1,2,4,8; must
    /// hold 1 and a level above --cpus) on a container limited to --cpus, and fit the
    /// function's cpu_fraction to the times.
    #[arg(long, value_name = "K,K,...", requires = "image", value_parser = parse_levels)]
    pub concurrency: Option<Levels>,
    /// With --concurrency: the container's CPU limit in vCPUs (the exec_vcpu of the fit).
    #[arg(long, default_value_t = 1.0, requires = "concurrency")]
    pub cpus: f64,
    /// With --concurrency: rounds of every level.
    #[arg(long, default_value_t = 10, requires = "concurrency", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub rounds: u32,
    /// Fit again from a measurements.csv instead of measuring.
    #[arg(long, value_name = "FILE", conflicts_with = "image")]
    pub refit: Option<PathBuf>,
    /// `parallel_layers` of the fitted model: the engine's max-concurrent-downloads (Docker's
    /// default is 3), or `auto` for the one of 1..=4 whose fit predicts left-out images best.
    #[arg(long, value_name = "N|auto", default_value_t = ParallelLayers(Some(DOCKER_PARALLEL_DOWNLOADS)), value_parser = parse_parallel_layers)]
    pub parallel_layers: ParallelLayers,
}

/// Where the report goes: `--report`, else `reports/calibration` for the default profile,
/// else a folder beside the profile (never over another profile's report).
fn report_dir(report: Option<&Path>, out: &Path) -> PathBuf {
    match report {
        Some(r) => r.to_path_buf(),
        None if out == Path::new(DEFAULT_OUT) => PathBuf::from("reports/calibration"),
        None => {
            let stem = out.file_stem().map_or_else(|| "profile".into(), |s| s.to_string_lossy().into_owned());
            out.with_file_name(format!("{stem}-calibration"))
        }
    }
}

const DEFAULT_OUT: &str = "profiles/local.toml";

pub fn run(mut a: Args) -> Result<ExitCode> {
    a.report_dir = report_dir(a.report.as_deref(), &a.out);
    let fail_after = crate::units::parse_duration(&a.fail_after).ok().filter(|us| *us > 0).ok_or_else(|| {
        InputError::new("--fail-after", "", format!("\"{}\" is not a positive duration, e.g. 120s", a.fail_after))
    })?;
    if let Some(rate) = &a.shape {
        crate::units::parse_bandwidth(rate).map_err(|e| InputError::new("--shape", "", e))?;
    }
    let load = match &a.concurrency {
        Some(levels) => Some(plan(&levels.0, a.cpus, a.rounds)?),
        None => None,
    };
    let opts = Options {
        engine: a
            .engine
            .clone()
            .or_else(|| std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()))
            .unwrap_or_else(|| "unix:///var/run/docker.sock".into()),
        registry: a.registry.clone(),
        trials: a.trials,
        fail_after: Duration::from_micros(fail_after),
        shape: a.shape.clone(),
        port: a.port,
        load,
    };
    if let Some(image) = &a.image {
        let m = run_image(&opts, image)?;
        let manifest = m.manifest.as_ref().expect("an image run has its manifest");
        let name = image.rsplit('/').next().unwrap_or("image").replace([':', '@'], "-");
        let csv = a.report_dir.join(format!("image-{name}.csv"));
        write_atomic(&csv, &to_csv(&m.trials)?)?;
        let mut written = vec![csv.display().to_string()];
        let cpu = match (&m.load, &opts.load) {
            (Some(levels), Some(plan)) => {
                let load_csv = a.report_dir.join(format!("image-{name}-concurrency.csv"));
                write_atomic(&load_csv, &load_csv_text(levels, plan.rounds)?)?;
                written.push(load_csv.display().to_string());
                // the plan holds a level above the vCPUs, so the fit exists
                cpu_fit::fit(levels, plan.cpus).map(|f| (f, plan.rounds))
            }
            _ => None,
        };
        let cpu_ref = cpu.as_ref().map(|(f, r)| (f, *r));
        stdout::print(&report::image_summary(image, &m.trials, manifest, &m.engine, cpu_ref))?;
        crate::error::say(&format!("wrote {} ({:.0} s)", written.join(" and "), m.seconds));
        return Ok(ExitCode::SUCCESS);
    }
    let (trials, meta) = if let Some(file) = &a.refit {
        let trials = from_csv(file)?;
        // the file given is what is short or cannot be fitted: bad input, before anything is
        // written
        let obs = crate::calibrate::fit::observations(&trials);
        let bad = |m: String| InputError::new(file.display().to_string(), "", m);
        if obs.len() < 2 {
            return Err(bad(format!(
                "a fit needs complete pulls of at least two images; found {}; allowed: two or more images with a trial that pulled every layer",
                obs.len()
            ))
            .into());
        }
        crate::calibrate::fit::sizes_vary(&obs).map_err(bad)?;
        let meta = meta(&a, "refit".into(), &trials, format!("a refit of {}", file.display()));
        (trials, meta)
    } else {
        let m = run_suite(&opts, a.suite, a.probe.as_deref())?;
        let images = crate::calibrate::suite::images(a.suite).len();
        let what = format!(
            "suite {} ({images} probe images, {:.0} s in all)",
            format!("{:?}", a.suite).to_lowercase(),
            m.seconds
        );
        let meta = meta(&a, m.engine.clone(), &m.trials, what);
        write_atomic(&a.report_dir.join("measurements.csv"), &to_csv(&m.trials)?)?;
        (m.trials, meta)
    };
    let analysis = fit_and_write(&trials, &meta, a.parallel_layers.0, &a.out, &a.report_dir)?;
    stdout::print(&report::fit_headline(&analysis, &written(&a)))?;
    Ok(ExitCode::SUCCESS)
}

fn meta(a: &Args, engine: String, trials: &[Trial], what: String) -> Meta {
    Meta {
        date: today(),
        engine,
        registry: a.registry.clone(),
        shape: a.shape.clone(),
        what,
        trials: trials.len(),
        report_md: a.report_dir.join("calibration.md").display().to_string(),
    }
}

/// The profile, then the report files (`measurements.csv` unless refitting) as printed.
fn written(a: &Args) -> Vec<String> {
    let report: &[&str] = if a.refit.is_some() {
        &["calibration.md", "fit.png"]
    } else {
        &["measurements.csv", "calibration.md", "fit.png"]
    };
    let mut files = vec![a.out.display().to_string()];
    files.extend(report.iter().map(|f| a.report_dir.join(f).display().to_string()));
    files
}

/// `--concurrency`: the levels as given.
#[derive(Debug, Clone)]
pub struct Levels(pub Vec<u32>);

fn parse_levels(s: &str) -> Result<Levels, String> {
    let mut v = Vec::new();
    for part in s.split(',') {
        match part.trim().parse::<u32>() {
            Ok(k) if (1..=MAX_LEVEL).contains(&k) && !v.contains(&k) => v.push(k),
            _ => {
                return Err(format!(
                    "found {:?} in {s:?}; allowed: distinct whole numbers of requests from 1 to {MAX_LEVEL}, comma-separated (e.g. 1,2,4,8)",
                    crate::limits::clip(part)
                ))
            }
        }
    }
    Ok(Levels(v))
}

/// The most requests a level sends at once (one thread each).
const MAX_LEVEL: u32 = 256;

/// The measurement plan, or why the levels and `--cpus` cannot give a fit: they need 1 (the
/// time alone) and a level above the vCPUs (contention), and a CPU limit this machine has.
fn plan(levels: &[u32], cpus: f64, rounds: u32) -> Result<load::Plan> {
    let have = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    if !(cpus.is_finite() && (0.01..=have).contains(&cpus)) {
        return Err(InputError::new(
            "--cpus",
            "",
            format!("found {cpus}; allowed: 0.01 to {have} (the CPUs of this machine, where the engine runs)"),
        )
        .into());
    }
    let shown: Vec<String> = levels.iter().map(u32::to_string).collect();
    if !levels.contains(&1) || !levels.iter().any(|&k| cpu_fit::stretch(k, cpus) > 1.0) {
        return Err(InputError::new(
            "--concurrency",
            "",
            format!(
                "found {} with --cpus {cpus}; allowed: levels that include 1 (the time alone) and one above --cpus (contention), e.g. 1,2,4,8",
                shown.join(",")
            ),
        )
        .into());
    }
    let mut sorted = levels.to_vec();
    sorted.sort_unstable();
    Ok(load::Plan { levels: sorted, rounds, cpus })
}

/// `image-<name>-concurrency.csv`: one row per request (round numbers from 1).
fn load_csv_text(levels: &[cpu_fit::Level], rounds: u32) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["concurrency", "round", "request", "seconds"])?;
    for l in levels {
        let per = l.seconds.len() / rounds.max(1) as usize;
        for (i, s) in l.seconds.iter().enumerate() {
            w.write_record([
                l.k.to_string(),
                (i / per.max(1) + 1).to_string(),
                (i % per.max(1) + 1).to_string(),
                format!("{s:.6}"),
            ])?;
        }
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

/// `--parallel-layers`: a number of layers, or `None` for `auto`.
#[derive(Debug, Clone, Copy)]
pub struct ParallelLayers(pub Option<u32>);

impl std::fmt::Display for ParallelLayers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(n) => write!(f, "{n}"),
            None => f.write_str("auto"),
        }
    }
}

fn parse_parallel_layers(s: &str) -> Result<ParallelLayers, String> {
    if s == "auto" {
        return Ok(ParallelLayers(None));
    }
    match s.parse::<u32>() {
        Ok(n) if (1..=64).contains(&n) => Ok(ParallelLayers(Some(n))),
        _ => Err(format!("found {s:?}; allowed: a whole number of layers from 1 to 64, or auto")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_goes_beside_a_profile_written_elsewhere_unless_told() {
        let r = |rep: Option<&str>, out: &str| report_dir(rep.map(Path::new), Path::new(out));
        assert_eq!(r(None, DEFAULT_OUT), PathBuf::from("reports/calibration"));
        assert_eq!(r(None, "elsewhere/p.toml"), PathBuf::from("elsewhere/p-calibration"));
        assert_eq!(r(Some("x"), "elsewhere/p.toml"), PathBuf::from("x"));
    }

    #[test]
    fn concurrency_levels_need_1_and_one_above_the_cpus() {
        assert_eq!(parse_levels("1,2,4").unwrap().0, [1, 2, 4]);
        for bad in ["1,1", "0,2", "1,x", "", "1,300"] {
            assert!(parse_levels(bad).unwrap_err().contains("allowed: distinct whole numbers"), "{bad}");
        }
        let p = plan(&[4, 1, 2], 1.0, 3).unwrap();
        assert_eq!(p.levels, [1, 2, 4]);
        let e = plan(&[2, 4], 1.0, 3).unwrap_err().to_string();
        assert!(e.contains("--concurrency: found 2,4 with --cpus 1; allowed: levels that include 1"), "{e}");
        if std::thread::available_parallelism().unwrap().get() >= 2 {
            // two requests on two vCPUs do not contend
            assert!(plan(&[1, 2], 2.0, 3).unwrap_err().to_string().contains("one above --cpus"));
        }
        assert!(plan(&[1, 2], 0.0, 3).unwrap_err().to_string().contains("--cpus: found 0; allowed: 0.01 to"));
    }
}
