//! Calibration with real containers: measure image pulls and container starts on a Docker
//! engine with a registry on loopback, fit the pull model to them, and write a profile that
//! scenarios use through `platform.pull.profile`.
//!
//! The pieces, each in its own file: [`runtime`] (the engine behind a trait, bollard for
//! real), [`registry`] and [`http`] (the registry's API, loopback only), [`suite`] (the
//! probe images and how they are built), [`measure`] (one trial, and `measurements.csv`),
//! [`model`] (an image as a one-host scenario, built as a value), [`estimates`] (what the
//! pull events say phase by phase; distributions), [`fit`] (least squares through the
//! simulator itself, cross-validation), [`analysis`] (all of it for a set of trials),
//! [`meta`] and [`numbers`] (provenance and number formats), [`profile`], [`report`] and
//! [`chart`] (the outputs), [`shape`] (`tc` on loopback), [`load`] and [`cpu_fit`] (request
//! times under concurrency on a CPU-limited container, and `cpu_fraction` fitted to them). This file runs them
//! in order and owns the cleanup: every container and image calibration makes carries the
//! label [`LABEL`] and is removed at the end, on error, on Ctrl-C and on SIGTERM.

pub mod analysis;
pub mod chart;
pub mod cpu_fit;
pub mod estimates;
pub mod fit;
pub mod http;
pub mod load;
pub mod measure;
pub mod meta;
pub mod model;
pub mod numbers;
pub mod profile;
pub mod registry;
pub mod report;
pub mod runtime;
pub mod shape;
pub mod suite;

#[cfg(test)]
mod fake;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::error::InputError;
use measure::{Trial, TrialSetup};
use registry::{ImageRef, Registry};
use runtime::Engine;
pub use runtime::{ContainerRuntime, LABEL};
use shape::Shaping;
use suite::{ProbeImage, Suite};

/// Where and how to measure (the flags of `coldcost calibrate`).
#[derive(Debug, Clone)]
pub struct Options {
    pub engine: String,
    pub registry: String,
    pub trials: u32,
    pub fail_after: Duration,
    pub shape: Option<String>,
    /// The container port the server listens on.
    pub port: u16,
    /// `--image --concurrency`: request times under concurrency to measure after the trials.
    pub load: Option<load::Plan>,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Measured {
    /// "Docker 20.10.24 (API 1.41)".
    pub engine: String,
    pub trials: Vec<Trial>,
    /// For `--image`: the image's layers as the registry lists them.
    pub manifest: Option<registry::Manifest>,
    /// For `--image --concurrency`: the request times at each level.
    pub load: Option<Vec<cpu_fit::Level>>,
    pub seconds: f64,
}

fn input(flag: &str, message: impl Into<String>) -> anyhow::Error {
    InputError::new(flag, "", message).into()
}

/// Removes every labelled container and image, and the `extra` images. Images that others
/// are built on (a build's intermediate images) go once their children are gone: the list is
/// walked again while it shrinks.
pub async fn cleanup<R: ContainerRuntime>(rt: &R, extra: &[String]) -> Result<()> {
    for c in rt.labelled_containers().await? {
        rt.remove_container(&c).await?;
    }
    for i in extra {
        rt.remove_image(i).await?;
    }
    let mut left = rt.labelled_images().await?;
    while !left.is_empty() {
        for i in &left {
            rt.remove_image(i).await?;
        }
        let now = rt.labelled_images().await?;
        if now.len() >= left.len() {
            anyhow::bail!("cannot remove the labelled images {}: other images are built on them", now.join(", "));
        }
        left = now;
    }
    Ok(())
}

/// Resolves when the user presses Ctrl-C or the process gets SIGTERM; says which.
async fn interrupted() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "interrupted (Ctrl-C)",
        _ = async {
            match term.as_mut() {
                Some(t) => { t.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => "terminated (SIGTERM)",
    }
}

/// Runs `work`, then [`cleanup`] — also when `work` fails or is interrupted. The first error
/// wins; a cleanup failure after a success is an error too.
pub async fn with_cleanup<R: ContainerRuntime, T>(
    rt: &R,
    extra: &[String],
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    let result = tokio::select! {
        biased;
        why = interrupted() => Err(anyhow::anyhow!("{why}; removed what calibration had made")),
        r = work => r,
    };
    let cleaned = cleanup(rt, extra).await;
    match (result, cleaned) {
        (Ok(v), Ok(())) => Ok(v),
        (Ok(_), Err(c)) => Err(c.context("cleaning up after calibration")),
        (Err(e), Ok(())) => Err(e),
        (Err(e), Err(c)) => {
            crate::error::say(&format!("warning: cleaning up after the failure also failed: {c:#}"));
            Err(e)
        }
    }
}

/// Measures every image `trials` times, round-robin (trial 1 of each image, then trial 2, …)
/// so that a slow spell of the machine spreads over all images. `progress` sees each trial.
pub async fn measure_all<R: ContainerRuntime>(
    rt: &R,
    setups: &mut [TrialSetup],
    trials: u32,
    progress: &mut dyn FnMut(&Trial),
) -> Result<Vec<Trial>> {
    let mut out = Vec::new();
    for n in 1..=trials {
        for s in setups.iter_mut() {
            let t = measure::trial(rt, s, n).await?;
            progress(&t);
            out.push(t);
        }
    }
    Ok(out)
}

fn tokio_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the async runtime")
}

fn shaping(opts: &Options, registry: &str) -> Result<Option<Shaping>> {
    let Some(rate) = &opts.shape else { return Ok(None) };
    let port = registry.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok()).unwrap_or(5000);
    let s = Shaping::apply(rate, port).map_err(|m| input("--shape", m))?;
    crate::error::say(&format!("shaping the registry's replies on lo to {rate} (removed at the end)"));
    Ok(Some(s))
}

/// One progress line per trial, on stderr.
fn print_trial(t: &Trial) {
    crate::error::say(&format!(
        "  {:<10} trial {}: pull {:>7.3} s ({} layer{}{}), create+start {:.3} s, ready {:.1} ms",
        t.image,
        t.trial,
        t.pull_s,
        t.layers.len(),
        if t.layers.len() == 1 { "" } else { "s" },
        if t.cached_layers() > 0 { format!(", {} already there", t.cached_layers()) } else { String::new() },
        t.container_create_s(),
        t.ready_s * 1e3
    ));
}

/// `coldcost calibrate [--suite]`: builds and pushes the probe images that are not in the
/// registry yet, then measures each `trials` times.
pub fn run_suite(opts: &Options, suite: Suite, probe: Option<&std::path::Path>) -> Result<Measured> {
    let started = Instant::now();
    let registry = Registry::connect(&opts.registry).map_err(|m| input("--registry", m))?;
    let rt = tokio_runtime()?;
    rt.block_on(async {
        let engine = Engine::connect(&opts.engine).await.map_err(|m| input("--engine", m))?;
        let probe_path = suite::find_probe(probe)?;
        let probe_bin =
            Arc::new(std::fs::read(&probe_path).with_context(|| format!("reading {}", probe_path.display()))?);
        let _shaping = shaping(opts, &registry.authority)?;
        let name = format!("{suite:?}").to_lowercase();
        crate::error::say(&format!(
            "calibrating {} with registry {} (suite {name}, {} trials)",
            engine.version, registry.authority, opts.trials
        ));
        let images = suite::images(suite);
        let trials = with_cleanup(&engine, &[], async {
            cleanup(&engine, &[]).await?;
            let mut setups = prepare(&engine, &registry, &images, &probe_bin, opts).await?;
            crate::error::say(&format!("measuring {} images × {} trials", setups.len(), opts.trials));
            measure_all(&engine, &mut setups, opts.trials, &mut print_trial).await
        })
        .await?;
        Ok(Measured {
            engine: engine.version.clone(),
            trials,
            manifest: None,
            load: None,
            seconds: started.elapsed().as_secs_f64(),
        })
    })
}

/// Pushes what is missing and reads each image's manifest.
async fn prepare(
    engine: &Engine,
    registry: &Registry,
    images: &[ProbeImage],
    probe: &Arc<Vec<u8>>,
    opts: &Options,
) -> Result<Vec<TrialSetup>> {
    let mut setups = Vec::new();
    for img in images {
        let t = Instant::now();
        if suite::ensure_pushed(engine, registry, img, probe).await? {
            let mb = img.layers.iter().sum::<u64>() as f64 / 1048576.0;
            crate::error::say(&format!(
                "  built and pushed {} ({mb:.0} MB in {} layers) in {:.1} s",
                img.name,
                img.layers.len() + 1,
                t.elapsed().as_secs_f64()
            ));
        }
        let r = img.reference(&registry.authority, probe);
        let manifest = registry.manifest(&r)?.with_context(|| format!("{r} vanished from the registry"))?;
        let n = manifest.layers.len();
        setups.push(TrialSetup {
            image: img.name.clone(),
            reference: r,
            manifest,
            uncompressed: None,
            files: Some(vec![1; n]),
            container_port: 9000,
            fail_after: opts.fail_after,
        });
    }
    // the build left labelled local copies: the trials start from none
    cleanup(engine, &[]).await?;
    Ok(setups)
}

/// `coldcost calibrate --image REF`: measures a user's image that is in a registry on
/// loopback. An image the engine already holds (and calibration did not make) is refused:
/// measuring removes local copies, and that copy may exist nowhere else.
pub fn run_image(opts: &Options, image: &str) -> Result<Measured> {
    let started = Instant::now();
    let r = ImageRef::parse(image).map_err(|m| input("--image", m))?;
    let registry = Registry::connect(&r.registry).map_err(|m| input("--image", m))?;
    let manifest = registry.manifest(&r)?.ok_or_else(|| {
        input(
            "--image",
            format!(
                "{r} is not in the registry at {} (no manifest for `{}`); push it there first",
                r.registry, r.reference
            ),
        )
    })?;
    let rt = tokio_runtime()?;
    rt.block_on(async {
        let engine = Engine::connect(&opts.engine).await.map_err(|m| input("--engine", m))?;
        if let Some(id) = engine.image_id(&r.full()).await? {
            if !engine.labelled_images().await?.contains(&id) {
                return Err(input(
                    "--image",
                    format!("{r} is already on the engine; measuring removes local copies to pull them cold, so remove it first (`docker rmi {r}`) if the registry holds the same image"),
                ));
            }
        }
        let _shaping = shaping(opts, &r.registry)?;
        crate::error::say(&format!("measuring {r} on {} ({} trials)", engine.version, opts.trials));
        let mut setups = vec![TrialSetup {
            image: r.repository.rsplit('/').next().unwrap_or("image").to_string(),
            reference: r.clone(),
            manifest: manifest.clone(),
            uncompressed: None,
            files: None,
            container_port: opts.port,
            fail_after: opts.fail_after,
        }];
        let (trials, load) = with_cleanup(&engine, &[r.full()], async {
            let trials = measure_all(&engine, &mut setups, opts.trials, &mut print_trial).await?;
            let Some(plan) = &opts.load else { return Ok((trials, None)) };
            let levels: Vec<String> = plan.levels.iter().map(u32::to_string).collect();
            crate::error::say(&format!(
                "measuring request time with {} requests at once on {} vCPU ({} rounds)",
                levels.join(", "),
                numbers::sig4(plan.cpus),
                plan.rounds
            ));
            // the last trial left the image on the engine: no pull
            let load = load::measure(&engine, &setups[0], plan).await?;
            Ok((trials, Some(load)))
        })
        .await?;
        Ok(Measured {
            engine: engine.version.clone(),
            trials,
            load,
            manifest: Some(manifest),
            seconds: started.elapsed().as_secs_f64(),
        })
    })
}

/// Fit `trials` and write the profile (`profile`) and `calibration.md` and `fit.png` (into
/// `report_dir`); the analysis, for the caller's headline. `parallel_layers`: as
/// [`analysis::analyse`] takes it.
pub fn fit_and_write(
    trials: &[Trial],
    meta: &meta::Meta,
    parallel_layers: Option<u32>,
    profile: &std::path::Path,
    report_dir: &std::path::Path,
) -> Result<analysis::Analysis> {
    let Some(analysis) = analysis::analyse(trials, parallel_layers) else {
        anyhow::bail!("a fit needs complete pulls of at least two images; these measurements have fewer");
    };
    fit::sizes_vary(&analysis.obs).map_err(anyhow::Error::msg)?;
    let profile_path = profile.display().to_string();
    measure::write_atomic(profile, profile::render(&analysis, meta, &profile_path).as_bytes())?;
    measure::write_atomic(
        &report_dir.join("calibration.md"),
        report::markdown(&analysis, meta, &profile_path).as_bytes(),
    )?;
    let title = format!("coldcost calibrate: {} · {} · {}", meta.engine, meta.date, meta.what);
    chart::render(&analysis, &title, &report_dir.join("fit.png"))?;
    Ok(analysis)
}

/// The folder of the calibration outputs, for messages.
pub fn default_report_dir() -> PathBuf {
    PathBuf::from("reports/calibration")
}

#[cfg(test)]
mod tests {
    use super::fake::Fake;
    use super::registry::{Manifest, ManifestLayer};
    use super::*;

    fn setup(name: &str, ids: &[&str], fail_after_ms: u64) -> TrialSetup {
        TrialSetup {
            image: name.into(),
            reference: ImageRef::parse(&format!("127.0.0.1:5000/coldcost-probe:{name}")).unwrap(),
            manifest: Manifest {
                layers: ids.iter().map(|i| ManifestLayer { digest: format!("sha256:{i}0000"), size: 100 }).collect(),
                history_makes_layer: vec![true; ids.len()],
            },
            uncompressed: None,
            files: Some(vec![1; ids.len()]),
            container_port: 9000,
            fail_after: Duration::from_millis(fail_after_ms),
        }
    }

    fn block<T>(f: impl Future<Output = T>) -> T {
        tokio_runtime().unwrap().block_on(f)
    }

    fn fake_with_images() -> (Fake, Vec<TrialSetup>) {
        let f = Fake::new();
        f.offer("127.0.0.1:5000/coldcost-probe:a", &["aaaaaaaaaaaa"]);
        f.offer("127.0.0.1:5000/coldcost-probe:b", &["bbbbbbbbbbbb", "cccccccccccc"]);
        let setups = vec![setup("a", &["aaaaaaaaaaaa"], 5000), setup("b", &["bbbbbbbbbbbb", "cccccccccccc"], 5000)];
        (f, setups)
    }

    #[test]
    fn trials_run_round_robin_and_leave_nothing_behind() {
        let (f, mut setups) = fake_with_images();
        let mut seen = vec![];
        let trials = block(with_cleanup(
            &f,
            &[],
            measure_all(&f, &mut setups, 2, &mut |t| seen.push((t.image.clone(), t.trial))),
        ))
        .unwrap();
        assert_eq!(seen, [("a".into(), 1), ("b".into(), 1), ("a".into(), 2), ("b".into(), 2)]);
        let b = &trials[1];
        assert_eq!(b.layers.len(), 2);
        // the fake stamps its events a few µs after the trial started its clock
        let near = |x: Option<f64>, v: f64| (x.unwrap() - v).abs() < 0.002;
        assert!(near(b.layers[1].download_done, 0.02) && near(b.layers[1].done, 0.03), "{b:?}");
        assert!(near(Some(b.manifest_s), 0.005) && b.ready_s < 1.0, "{b:?}");
        assert_eq!(b.layers[1].uncompressed, 1000);
        assert_eq!(f.labelled_left(), (0, 0), "no container or image left");
    }

    #[test]
    fn a_failed_pull_still_removes_every_container_and_image() {
        let (mut f, mut setups) = fake_with_images();
        f.fail.insert("pull", 3);
        let r = block(with_cleanup(&f, &[], measure_all(&f, &mut setups, 2, &mut |_| {})));
        assert!(format!("{:#}", r.unwrap_err()).contains("injected failure of pull #3"));
        assert_eq!(f.labelled_left(), (0, 0));
    }

    #[test]
    fn a_failed_start_removes_the_container_it_created() {
        let (mut f, mut setups) = fake_with_images();
        f.fail.insert("start", 2);
        let r = block(measure_all(&f, &mut setups, 1, &mut |_| {}));
        assert!(r.is_err());
        assert_eq!(f.labelled_left().0, 0, "the trial removed its own container");
    }

    #[test]
    fn a_server_that_never_answers_is_function_not_started_after_the_limit() {
        let (mut f, _) = fake_with_images();
        f.serves = false;
        let mut setups = vec![setup("a", &["aaaaaaaaaaaa"], 300)];
        let t = Instant::now();
        let e = block(with_cleanup(&f, &[], measure_all(&f, &mut setups, 1, &mut |_| {}))).unwrap_err();
        let waited = t.elapsed();
        let ie = e.downcast_ref::<InputError>().expect("an input error: exit code 2");
        assert!(
            ie.message.starts_with("FunctionNotStarted: no 200 from GET / on container port 9000 within 300ms"),
            "{ie}"
        );
        assert!(waited >= Duration::from_millis(300) && waited < Duration::from_secs(3), "{waited:?}");
        assert_eq!(f.labelled_left(), (0, 0));
    }

    #[test]
    fn the_concurrency_container_has_the_cpu_limit_and_is_removed() {
        let (f, mut setups) = fake_with_images();
        let plan = load::Plan { levels: vec![1, 3], rounds: 2, cpus: 1.5 };
        let levels = block(with_cleanup(&f, &[], async {
            measure_all(&f, &mut setups[..1], 1, &mut |_| {}).await?;
            load::measure(&f, &setups[0], &plan).await
        }))
        .unwrap();
        assert_eq!(levels.iter().map(|l| (l.k, l.seconds.len())).collect::<Vec<_>>(), [(1, 2), (3, 6)]);
        // the trial's container has no limit, the load's has the plan's
        assert_eq!(f.state.lock().unwrap().cpus, [None, Some(1.5)]);
        assert_eq!(f.labelled_left(), (0, 0));
    }

    #[test]
    fn extra_images_are_removed_with_the_labelled_ones() {
        let f = Fake::new();
        f.state.lock().unwrap().images.insert("user/app:1".into(), false);
        block(cleanup(&f, &["user/app:1".to_string()])).unwrap();
        assert!(f.state.lock().unwrap().images.is_empty());
    }
}
