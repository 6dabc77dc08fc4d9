//! One trial of one image, measured: remove every local copy, pull through the engine and
//! time each layer from the pull's progress events, create and start a container with the
//! port published on 127.0.0.1, poll `GET /` until it answers 200, remove the container.
//! Also the rows of `measurements.csv` (one per layer of each trial) and reading them back.

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::http;
use super::registry::{ImageRef, Manifest};
use super::runtime::{ContainerRuntime, ContainerSpec, ContainerStatus, PullEvent};
use crate::error::InputError;

/// One layer of one pulled image: sizes, and when each stage ended (seconds after the pull
/// was requested).
#[derive(Debug, Clone, PartialEq)]
pub struct LayerTiming {
    pub digest: String,
    pub compressed: u64,
    pub uncompressed: u64,
    /// Files in the layer, when known (probe layers: 1).
    pub files: u64,
    /// The first `Downloading` event (tiny layers may have none).
    pub download_start: Option<f64>,
    pub download_done: Option<f64>,
    /// The first `Extracting` event.
    pub extract_start: Option<f64>,
    /// `Pull complete`: extracted and registered.
    pub done: Option<f64>,
    /// `Already exists`: the engine had it, nothing was pulled.
    pub cached: bool,
}

/// One trial of one image.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    /// The image's name in the suite (or the reference for `--image`).
    pub image: String,
    pub reference: String,
    /// 1-based.
    pub trial: u32,
    /// From the pull request to the first layer event: manifest and config fetched.
    pub manifest_s: f64,
    /// From the pull request to the end of the pull stream.
    pub pull_s: f64,
    /// `create` call.
    pub create_s: f64,
    /// `start` call.
    pub start_s: f64,
    /// From `start` returning to the first `200` from `GET /`.
    pub ready_s: f64,
    pub layers: Vec<LayerTiming>,
}

impl Trial {
    pub fn compressed(&self) -> u64 {
        self.layers.iter().map(|l| l.compressed).sum()
    }
    pub fn uncompressed(&self) -> u64 {
        self.layers.iter().map(|l| l.uncompressed).sum()
    }
    pub fn cached_layers(&self) -> usize {
        self.layers.iter().filter(|l| l.cached).count()
    }
    /// What the model calls container create: the engine's create plus start.
    pub fn container_create_s(&self) -> f64 {
        self.create_s + self.start_s
    }
}

/// How a trial runs.
#[derive(Debug, Clone)]
pub struct TrialSetup {
    pub image: String,
    pub reference: ImageRef,
    pub manifest: Manifest,
    /// Uncompressed bytes per layer (from the image history), once known.
    pub uncompressed: Option<Vec<u64>>,
    /// Files per layer, when known.
    pub files: Option<Vec<u64>>,
    pub container_port: u16,
    /// The server must answer within this time of the pull's start (FC: 120 s).
    pub fail_after: Duration,
}

/// Removes every local copy of the image (and every labelled container and image).
pub async fn clear<R: ContainerRuntime>(rt: &R, image: &str) -> Result<()> {
    super::cleanup(rt, &[image.to_string()]).await?;
    anyhow::ensure!(rt.image_id(image).await?.is_none(), "{image} is still on the engine after removing it");
    Ok(())
}

/// Runs one trial. A server that never answers is a FunctionNotStarted [`InputError`]; the
/// container is removed whatever happens.
pub async fn trial<R: ContainerRuntime>(rt: &R, setup: &mut TrialSetup, n: u32) -> Result<Trial> {
    let image = setup.reference.full();
    clear(rt, &image).await?;

    let t0 = Instant::now();
    let mut events: Vec<PullEvent> = Vec::new();
    rt.pull(&image, &mut |e| events.push(e)).await?;
    let pull_s = t0.elapsed().as_secs_f64();

    if setup.uncompressed.is_none() {
        setup.uncompressed = Some(uncompressed_sizes(rt, &image, &setup.manifest).await?);
    }
    let mut layers = layer_timings(&setup.manifest, &events, t0);
    for (k, l) in layers.iter_mut().enumerate() {
        l.uncompressed = setup.uncompressed.as_ref().map_or(0, |u| u[k]);
        l.files = setup.files.as_ref().map_or(0, |f| f[k]);
    }
    let manifest_s = events
        .iter()
        .filter(|e| e.id.as_deref().is_some_and(|id| layers.iter().any(|l| short(&l.digest) == id)))
        .map(|e| since(e.at, t0))
        .next()
        .unwrap_or(0.0);

    let host_port = free_port()?;
    let spec = ContainerSpec { image: image.clone(), container_port: setup.container_port, host_port, cpus: None };
    let t = Instant::now();
    let id = rt.create(&spec).await?;
    let create_s = t.elapsed().as_secs_f64();
    let started = run_until_ready(rt, &id, setup, host_port, t0).await;
    let removed = rt.remove_container(&id).await;
    let (start_s, ready_s) = started?;
    removed?;
    Ok(Trial {
        image: setup.image.clone(),
        reference: image,
        trial: n,
        manifest_s,
        pull_s,
        create_s,
        start_s,
        ready_s,
        layers,
    })
}

/// Starts the container and polls `GET /` on its published port: (start call, time to ready).
pub(super) async fn run_until_ready<R: ContainerRuntime>(
    rt: &R,
    id: &str,
    setup: &TrialSetup,
    host_port: u16,
    t0: Instant,
) -> Result<(f64, f64)> {
    let t = Instant::now();
    rt.start(id).await?;
    let start_s = t.elapsed().as_secs_f64();
    let ready_from = Instant::now();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], host_port));
    let deadline = t0 + setup.fail_after;
    let mut last_check = Instant::now();
    let mut last_answer;
    loop {
        match http::request("GET", addr, "127.0.0.1", "/", &[], Duration::from_secs(1)) {
            Ok(r) if r.status == 200 => return Ok((start_s, ready_from.elapsed().as_secs_f64())),
            Ok(r) => last_answer = format!("HTTP {}", r.status),
            Err(e) => last_answer = format!("{e:#}"),
        }
        let now = Instant::now();
        let exited = if now.duration_since(last_check) > Duration::from_millis(250) {
            last_check = now;
            match rt.status(id).await? {
                ContainerStatus::Exited(code) => Some(code),
                _ => None,
            }
        } else {
            None
        };
        if exited.is_some() || now >= deadline {
            let why = match exited {
                Some(code) => format!("its container exited with code {code} before answering"),
                None => format!(
                    "no 200 from GET / on container port {} within {} of the pull's start (last try: {last_answer})",
                    setup.container_port,
                    crate::units::format_duration(setup.fail_after.as_micros() as u64)
                ),
            };
            return Err(InputError::new(
                setup.reference.full(),
                "",
                format!(
                    "FunctionNotStarted: {why}; the server must listen on 0.0.0.0:{} (not 127.0.0.1) and answer GET / (--port names another port, --fail-after a longer limit)",
                    setup.container_port
                ),
            )
            .into());
        }
        // 1 ms apart at first (the probe answers within a few), then up to 20 ms apart so a
        // slow server is not flooded with connections: about 2% resolution from 1 s on
        let wait = (ready_from.elapsed() / 50).clamp(Duration::from_millis(1), Duration::from_millis(20));
        tokio::time::sleep(wait).await;
    }
}

/// A port on 127.0.0.1 that nobody listens on now.
pub(super) fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn since(at: Instant, t0: Instant) -> f64 {
    at.saturating_duration_since(t0).as_secs_f64()
}

fn short(digest: &str) -> &str {
    let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
    &hex[..hex.len().min(12)]
}

/// Per-layer times from the pull events, in manifest order.
pub fn layer_timings(manifest: &Manifest, events: &[PullEvent], t0: Instant) -> Vec<LayerTiming> {
    manifest
        .layers
        .iter()
        .map(|m| {
            let id = m.short_id();
            let first = |status: &str| {
                events.iter().find(|e| e.id.as_deref() == Some(id) && e.status == status).map(|e| since(e.at, t0))
            };
            LayerTiming {
                digest: m.digest.clone(),
                compressed: m.size,
                uncompressed: 0,
                files: 0,
                download_start: first("Downloading"),
                download_done: first("Download complete"),
                extract_start: first("Extracting"),
                done: first("Pull complete"),
                cached: first("Already exists").is_some(),
            }
        })
        .collect()
}

/// Uncompressed bytes of each layer: the engine's history sizes of the steps that made a
/// layer (the config's history says which did).
async fn uncompressed_sizes<R: ContainerRuntime>(rt: &R, image: &str, manifest: &Manifest) -> Result<Vec<u64>> {
    let sizes = rt.history_sizes(image).await?;
    let made = &manifest.history_makes_layer;
    let picked: Vec<u64> = if made.len() == sizes.len() {
        sizes.iter().zip(made).filter(|(_, m)| **m).map(|(s, _)| (*s).max(0) as u64).collect()
    } else {
        Vec::new()
    };
    if picked.len() == manifest.layers.len() {
        Ok(picked)
    } else {
        // unknown history: fall back to the compressed sizes (said so in the output)
        Ok(manifest.layers.iter().map(|l| l.size).collect())
    }
}

// ---- measurements.csv -------------------------------------------------------------------

pub const COLUMNS: &[&str] = &[
    "image",
    "reference",
    "trial",
    "layers",
    "compressed_bytes",
    "uncompressed_bytes",
    "manifest_s",
    "pull_s",
    "create_s",
    "start_s",
    "ready_s",
    "layer",
    "layer_digest",
    "layer_compressed",
    "layer_uncompressed",
    "layer_files",
    "download_start_s",
    "download_done_s",
    "extract_start_s",
    "layer_done_s",
    "cached",
];

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.6}")).unwrap_or_default()
}

/// The CSV text of `trials`: one row per layer of each trial.
pub fn to_csv(trials: &[Trial]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS)?;
    for t in trials {
        for (k, l) in t.layers.iter().enumerate() {
            w.write_record([
                t.image.clone(),
                t.reference.clone(),
                t.trial.to_string(),
                t.layers.len().to_string(),
                t.compressed().to_string(),
                t.uncompressed().to_string(),
                format!("{:.6}", t.manifest_s),
                format!("{:.6}", t.pull_s),
                format!("{:.6}", t.create_s),
                format!("{:.6}", t.start_s),
                format!("{:.6}", t.ready_s),
                k.to_string(),
                l.digest.clone(),
                l.compressed.to_string(),
                l.uncompressed.to_string(),
                l.files.to_string(),
                opt(l.download_start),
                opt(l.download_done),
                opt(l.extract_start),
                opt(l.done),
                l.cached.to_string(),
            ])?;
        }
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

/// Reads `measurements.csv` back (for `--refit`). Errors name the file and the line.
pub fn from_csv(path: &Path) -> Result<Vec<Trial>, InputError> {
    let source = path.display().to_string();
    let bad = |line: Option<u64>, m: String| InputError::new(&source, "", m).with_line(line.map(|l| l as usize));
    let file = std::fs::File::open(path).map_err(|e| bad(None, format!("cannot read: {e}")))?;
    let mut r = csv::Reader::from_reader(crate::limits::LineLimit::new(file, crate::limits::MAX_LINE_BYTES));
    let header: Vec<String> = r.headers().map_err(|e| bad(Some(1), e.to_string()))?.iter().map(String::from).collect();
    if header != COLUMNS {
        return Err(bad(Some(1), format!("not a measurements.csv: expected the columns {}", COLUMNS.join(","))));
    }
    let mut trials: Vec<Trial> = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| bad(e.position().map(|p| p.line()), e.to_string()))?;
        let line = rec.position().map(|p| p.line());
        // timings are seconds since the trial began: finite and not negative, or the fit
        // would publish a profile of NaN and negative rates
        let f = |i: usize| -> Result<f64, InputError> {
            match rec[i].parse::<f64>() {
                Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
                Ok(x) => Err(bad(
                    line,
                    format!("{}: {x} is not a time; timings are seconds, finite and 0 or more", COLUMNS[i]),
                )),
                Err(_) => {
                    Err(bad(line, format!("{}: \"{}\" is not a number", COLUMNS[i], crate::limits::clip(&rec[i]))))
                }
            }
        };
        let o = |i: usize| -> Result<Option<f64>, InputError> {
            if rec[i].is_empty() {
                Ok(None)
            } else {
                f(i).map(Some)
            }
        };
        let u = |i: usize| -> Result<u64, InputError> {
            rec[i].parse::<u64>().map_err(|_| {
                bad(line, format!("{}: \"{}\" is not a whole number", COLUMNS[i], crate::limits::clip(&rec[i])))
            })
        };
        let layer = LayerTiming {
            digest: rec[12].to_string(),
            compressed: u(13)?,
            uncompressed: u(14)?,
            files: u(15)?,
            download_start: o(16)?,
            download_done: o(17)?,
            extract_start: o(18)?,
            done: o(19)?,
            cached: &rec[20] == "true",
        };
        let trial =
            u32::try_from(u(2)?).map_err(|_| bad(line, format!("{}: \"{}\" is too large", COLUMNS[2], &rec[2])))?;
        let image = rec[0].to_string();
        match trials.last_mut() {
            Some(t) if t.image == image && t.trial == trial => t.layers.push(layer),
            _ => trials.push(Trial {
                image,
                reference: rec[1].to_string(),
                trial,
                manifest_s: f(6)?,
                pull_s: f(7)?,
                create_s: f(8)?,
                start_s: f(9)?,
                ready_s: f(10)?,
                layers: vec![layer],
            }),
        }
    }
    if trials.is_empty() {
        return Err(bad(None, "has no measurements".into()));
    }
    Ok(trials)
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibrate::registry::ManifestLayer;

    fn ev(t0: Instant, ms: u64, id: &str, status: &str) -> PullEvent {
        PullEvent { at: t0 + Duration::from_millis(ms), id: Some(id.into()), status: status.into(), total: None }
    }

    #[test]
    fn layer_times_come_from_the_first_event_of_each_stage() {
        let t0 = Instant::now();
        let m = Manifest {
            layers: vec![
                ManifestLayer { digest: "sha256:aaaaaaaaaaaa1111".into(), size: 10 },
                ManifestLayer { digest: "sha256:bbbbbbbbbbbb2222".into(), size: 20 },
            ],
            history_makes_layer: vec![true, true],
        };
        let events = vec![
            ev(t0, 10, "q-1", "Pulling from coldcost-probe"),
            ev(t0, 20, "aaaaaaaaaaaa", "Pulling fs layer"),
            ev(t0, 20, "bbbbbbbbbbbb", "Already exists"),
            ev(t0, 30, "aaaaaaaaaaaa", "Downloading"),
            ev(t0, 40, "aaaaaaaaaaaa", "Downloading"),
            ev(t0, 50, "aaaaaaaaaaaa", "Download complete"),
            ev(t0, 60, "aaaaaaaaaaaa", "Extracting"),
            ev(t0, 90, "aaaaaaaaaaaa", "Pull complete"),
        ];
        let l = layer_timings(&m, &events, t0);
        assert_eq!(l[0].download_start, Some(0.03));
        assert_eq!(l[0].download_done, Some(0.05));
        assert_eq!(l[0].extract_start, Some(0.06));
        assert_eq!(l[0].done, Some(0.09));
        assert!(!l[0].cached && l[1].cached);
        assert_eq!(l[1].done, None);
    }

    #[test]
    fn measurements_survive_a_round_trip_through_the_csv() {
        let layer = |d: &str, done: Option<f64>| LayerTiming {
            digest: d.into(),
            compressed: 100,
            uncompressed: 200,
            files: 1,
            download_start: None,
            download_done: Some(0.5),
            extract_start: Some(0.6),
            done,
            cached: false,
        };
        let t = |image: &str, trial| Trial {
            image: image.into(),
            reference: format!("127.0.0.1:5000/coldcost-probe:{image}"),
            trial,
            manifest_s: 0.01,
            pull_s: 1.25,
            create_s: 0.02,
            start_s: 0.2,
            ready_s: 0.001,
            layers: vec![layer("sha256:a", Some(0.7)), layer("sha256:b", None)],
        };
        let trials = vec![t("x", 1), t("x", 2), t("y", 1)];
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.csv");
        write_atomic(&p, &to_csv(&trials).unwrap()).unwrap();
        assert_eq!(from_csv(&p).unwrap(), trials);
        std::fs::write(&p, "a,b\n1,2\n").unwrap();
        assert!(from_csv(&p).unwrap_err().to_string().contains("not a measurements.csv"));
    }
}
