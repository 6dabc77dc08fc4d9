//! The container engine behind one small trait, [`ContainerRuntime`]: what calibration asks
//! of an engine (build, push, pull with its progress events, list and remove labelled
//! things, create, start, inspect and remove a container). [`Engine`] is the real one, a
//! Docker engine through bollard; `super::fake::Fake` (tests only) is an in-memory one for
//! fast unit tests of the orchestration. Everything this module creates carries [`LABEL`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use bollard::errors::Error as BollardError;
use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateContainerOptionsBuilder, CreateImageOptionsBuilder, ListContainersOptionsBuilder,
    ListImagesOptionsBuilder, PushImageOptionsBuilder, RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder,
};
use bollard::{Docker, API_DEFAULT_VERSION};
use futures_util::StreamExt;

use super::http::loopback;

/// The label on every image and container calibration creates (value `1`).
pub const LABEL: &str = "coldcost.calibration";

/// One progress event of a pull, stamped when it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullEvent {
    pub at: Instant,
    /// The layer's short id (12 hex digits), or the tag for image-wide events.
    pub id: Option<String>,
    pub status: String,
    /// `progressDetail.total` (a layer's compressed bytes), when given.
    pub total: Option<i64>,
}

/// What to run: an image with its port published on 127.0.0.1, optionally with a CPU limit.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSpec {
    pub image: String,
    pub container_port: u16,
    pub host_port: u16,
    /// vCPUs the container may use (a CFS quota of [`CPU_PERIOD_US`] periods), or no limit.
    pub cpus: Option<f64>,
}

/// The CFS period of a CPU limit: 10 ms. Docker's `--cpus` uses 100 ms, which lets a few
/// threads on a multi-core host run side by side for a whole period before the quota stops
/// them — a burst as long as a short request. With 10 ms the limit throttles in slices short
/// against a request's CPU work, so requests share the limit close to evenly.
pub const CPU_PERIOD_US: i64 = 10_000;

/// The cores a whole-number CPU limit pins the container to (`1` → `"0"`, `2` → `"0-1"`): a
/// quota alone overruns on an idle multi-core host (measured here: 50 ms of CPU + 50 ms asleep
/// fitted f = 0.40 at 1 vCPU, the container getting ~1.2 cores), pinned cores cannot.
/// Fractional limits keep the quota alone.
pub fn cpuset(cpus: f64) -> Option<String> {
    if cpus < 1.0 || cpus.fract() != 0.0 {
        return None;
    }
    let n = cpus as u64;
    Some(if n == 1 { "0".to_string() } else { format!("0-{}", n - 1) })
}

/// A container's state as the engine reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerStatus {
    Running,
    Exited(i64),
    Other(String),
}

/// A build context: the tar stream, chunk by chunk (generated lazily: it may be a gigabyte).
pub type BuildContext = Box<dyn Iterator<Item = Vec<u8>> + Send>;

/// What calibration needs from a container engine.
#[allow(async_fn_in_trait)]
pub trait ContainerRuntime {
    /// Builds an image from a tar context (with its `Dockerfile`) and tags it.
    async fn build(&self, tag: &str, context: BuildContext) -> Result<()>;
    /// Pushes a tagged image to its registry.
    async fn push(&self, image: &str) -> Result<()>;
    /// Pulls an image, handing each progress event to `on_event` as it arrives.
    async fn pull(&self, image: &str, on_event: &mut (dyn FnMut(PullEvent) + Send)) -> Result<()>;
    /// The id of the image if the engine holds it.
    async fn image_id(&self, image: &str) -> Result<Option<String>>;
    /// The image's history sizes (bytes each step added), oldest first.
    async fn history_sizes(&self, image: &str) -> Result<Vec<i64>>;
    /// Removes an image by name or id, forcibly; an image that is not there is fine. False
    /// when it cannot go yet because other images are built on it (remove those first).
    async fn remove_image(&self, image: &str) -> Result<bool>;
    /// Ids of every image that carries [`LABEL`], intermediate ones included.
    async fn labelled_images(&self) -> Result<Vec<String>>;
    /// Creates a container (labelled) and returns its id.
    async fn create(&self, spec: &ContainerSpec) -> Result<String>;
    async fn start(&self, id: &str) -> Result<()>;
    async fn status(&self, id: &str) -> Result<ContainerStatus>;
    /// Removes a container forcibly (killing it); one that is not there is fine.
    async fn remove_container(&self, id: &str) -> Result<()>;
    /// Ids of every container that carries [`LABEL`], stopped ones included.
    async fn labelled_containers(&self) -> Result<Vec<String>>;
}

/// A Docker engine, through bollard.
pub struct Engine {
    docker: Docker,
    /// "Docker 20.10.24 (API 1.41)".
    pub version: String,
}

fn label_filter() -> HashMap<&'static str, Vec<String>> {
    HashMap::from([("label", vec![format!("{LABEL}=1")])])
}

fn not_found(e: &BollardError) -> bool {
    matches!(e, BollardError::DockerResponseServerError { status_code: 404, .. })
}

impl Engine {
    /// Connects to `unix:///path` (or `/path`) or `tcp://127.0.0.1:PORT`, negotiates the API
    /// version (the engine here accepts at most 1.41) and asks for its version. The error is a
    /// message for the user.
    pub async fn connect(uri: &str) -> Result<Engine, String> {
        let fail = |e: &dyn std::fmt::Display| {
            format!("cannot reach the Docker engine at {uri}: {e}; start one with `scripts/calibration-env.sh up` or name another with --engine")
        };
        // long enough for a gigabyte pull over a shaped link
        const TIMEOUT_S: u64 = 3600;
        let docker = if let Some(rest) = uri.strip_prefix("tcp://").or_else(|| uri.strip_prefix("http://")) {
            loopback(rest.trim_end_matches('/'))?;
            Docker::connect_with_http(uri, TIMEOUT_S, API_DEFAULT_VERSION)
        } else if uri.starts_with("unix://") || uri.starts_with('/') {
            let path = uri.trim_start_matches("unix://");
            if !std::path::Path::new(path).exists() {
                return Err(fail(&format!("{path} does not exist")));
            }
            Docker::connect_with_unix(path, TIMEOUT_S, API_DEFAULT_VERSION)
        } else {
            return Err(format!("--engine {uri}: expected unix:///path/to/docker.sock or tcp://127.0.0.1:PORT"));
        }
        .map_err(|e| fail(&e))?;
        let docker = tokio::time::timeout(Duration::from_secs(10), docker.negotiate_version())
            .await
            .map_err(|_| fail(&"no answer within 10 s"))?
            .map_err(|e| fail(&e))?;
        let v = tokio::time::timeout(Duration::from_secs(10), docker.version())
            .await
            .map_err(|_| fail(&"no answer within 10 s"))?
            .map_err(|e| fail(&e))?;
        let version = format!(
            "Docker {} (API {})",
            v.version.unwrap_or_else(|| "?".into()),
            v.api_version.unwrap_or_else(|| "?".into())
        );
        Ok(Engine { docker, version })
    }
}

impl ContainerRuntime for Engine {
    async fn build(&self, tag: &str, context: BuildContext) -> Result<()> {
        let opts = BuildImageOptionsBuilder::default().dockerfile("Dockerfile").t(tag).rm(true).forcerm(true).build();
        let body = bollard::body_stream(futures_util::stream::iter(context.map(bytes::Bytes::from)));
        let mut stream = self.docker.build_image(opts, None, Some(body));
        let mut log = String::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(e) = info.error_detail.and_then(|d| d.message) {
                        return Err(anyhow!("building {tag}: {e}\n{log}"));
                    }
                    if let Some(s) = info.stream {
                        log.push_str(&s);
                    }
                }
                Err(e) => return Err(anyhow!("building {tag}: {e}\n{log}")),
            }
        }
        Ok(())
    }

    async fn push(&self, image: &str) -> Result<()> {
        let (repo, tag) = image.rsplit_once(':').context("push needs repo:tag")?;
        let opts = PushImageOptionsBuilder::default().tag(tag).build();
        let mut stream = self.docker.push_image(repo, Some(opts), None);
        while let Some(item) = stream.next().await {
            item.with_context(|| format!("pushing {image}"))?;
        }
        Ok(())
    }

    async fn pull(&self, image: &str, on_event: &mut (dyn FnMut(PullEvent) + Send)) -> Result<()> {
        let opts = CreateImageOptionsBuilder::default().from_image(image).build();
        let mut stream = self.docker.create_image(Some(opts), None, None);
        while let Some(item) = stream.next().await {
            let at = Instant::now();
            let info = item.with_context(|| format!("pulling {image}"))?;
            on_event(PullEvent {
                at,
                id: info.id,
                status: info.status.unwrap_or_default(),
                total: info.progress_detail.and_then(|p| p.total),
            });
        }
        Ok(())
    }

    async fn image_id(&self, image: &str) -> Result<Option<String>> {
        match self.docker.inspect_image(image).await {
            Ok(i) => Ok(i.id),
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(e).with_context(|| format!("inspecting {image}")),
        }
    }

    async fn history_sizes(&self, image: &str) -> Result<Vec<i64>> {
        let h = self.docker.image_history(image).await.with_context(|| format!("history of {image}"))?;
        // the engine lists the newest step first
        Ok(h.iter().rev().map(|e| e.size).collect())
    }

    async fn remove_image(&self, image: &str) -> Result<bool> {
        let opts = RemoveImageOptionsBuilder::default().force(true).build();
        match self.docker.remove_image(image, Some(opts), None).await {
            Ok(_) => Ok(true),
            Err(e) if not_found(&e) => Ok(true),
            Err(BollardError::DockerResponseServerError { status_code: 409, message }) if message.contains("child") => {
                Ok(false)
            }
            Err(e) => Err(e).with_context(|| format!("removing image {image}")),
        }
    }

    async fn labelled_images(&self) -> Result<Vec<String>> {
        let opts = ListImagesOptionsBuilder::default().all(true).filters(&label_filter()).build();
        let list = self.docker.list_images(Some(opts)).await.context("listing labelled images")?;
        Ok(list.into_iter().map(|i| i.id).collect())
    }

    async fn create(&self, spec: &ContainerSpec) -> Result<String> {
        let port = format!("{}/tcp", spec.container_port);
        let binding = PortBinding { host_ip: Some("127.0.0.1".into()), host_port: Some(spec.host_port.to_string()) };
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            labels: Some(HashMap::from([(LABEL.to_string(), "1".to_string())])),
            exposed_ports: Some(vec![port.clone()]),
            host_config: Some(HostConfig {
                port_bindings: Some(HashMap::from([(port, Some(vec![binding]))])),
                cpu_period: spec.cpus.map(|_| CPU_PERIOD_US),
                cpu_quota: spec.cpus.map(|v| (v * CPU_PERIOD_US as f64).round() as i64),
                cpuset_cpus: spec.cpus.and_then(cpuset),
                ..Default::default()
            }),
            ..Default::default()
        };
        let opts = CreateContainerOptionsBuilder::default().build();
        let r = self
            .docker
            .create_container(Some(opts), body)
            .await
            .with_context(|| format!("creating a container of {}", spec.image))?;
        Ok(r.id)
    }

    async fn start(&self, id: &str) -> Result<()> {
        self.docker.start_container(id, None).await.with_context(|| format!("starting container {id}"))
    }

    async fn status(&self, id: &str) -> Result<ContainerStatus> {
        let c = self.docker.inspect_container(id, None).await.with_context(|| format!("inspecting container {id}"))?;
        let s = c.state.unwrap_or_default();
        Ok(if s.running == Some(true) {
            ContainerStatus::Running
        } else if let (Some(code), Some(_)) = (s.exit_code, s.finished_at.as_ref().filter(|f| !f.starts_with("0001"))) {
            ContainerStatus::Exited(code)
        } else {
            ContainerStatus::Other(s.status.map(|x| x.to_string()).unwrap_or_default())
        })
    }

    async fn remove_container(&self, id: &str) -> Result<()> {
        let opts = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
        match self.docker.remove_container(id, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("removing container {id}")),
        }
    }

    async fn labelled_containers(&self) -> Result<Vec<String>> {
        let opts = ListContainersOptionsBuilder::default().all(true).filters(&label_filter()).build();
        let list = self.docker.list_containers(Some(opts)).await.context("listing labelled containers")?;
        Ok(list.into_iter().filter_map(|c| c.id).collect())
    }
}

#[cfg(test)]
mod cpuset_tests {
    #[test]
    fn whole_cpu_limits_pin_cores_and_fractions_do_not() {
        assert_eq!(super::cpuset(1.0).as_deref(), Some("0"));
        assert_eq!(super::cpuset(2.0).as_deref(), Some("0-1"));
        assert_eq!(super::cpuset(1.5), None);
        assert_eq!(super::cpuset(0.5), None);
    }
}
