//! An in-memory container engine for unit tests of the orchestration: it keeps images and
//! containers in tables, emits pull events with made-up times, and "runs" a container by
//! serving `GET /` from a thread on the published port (or not, to test FunctionNotStarted).
//! Failures can be injected at the n-th call of an operation.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use super::runtime::{BuildContext, ContainerRuntime, ContainerSpec, ContainerStatus, PullEvent};

#[derive(Default)]
pub struct State {
    /// name → labelled?
    pub images: HashMap<String, bool>,
    /// id → (spec, running server's stop flag)
    pub containers: HashMap<String, (ContainerSpec, Option<Arc<AtomicBool>>)>,
    pub calls: Vec<String>,
    /// The CPU limit of every container created, in order.
    pub cpus: Vec<Option<f64>>,
    /// Layer short ids of each pullable image, in order.
    pub layers: HashMap<String, Vec<String>>,
    next: u32,
}

pub struct Fake {
    pub state: Mutex<State>,
    /// Whether started containers answer `GET /`.
    pub serves: bool,
    /// Fail the n-th (1-based) call of an operation ("pull", "create", "start", ...).
    pub fail: HashMap<&'static str, usize>,
}

impl Fake {
    pub fn new() -> Fake {
        Fake { state: Mutex::new(State::default()), serves: true, fail: HashMap::new() }
    }

    /// An image the fake "registry" can pull, with these layer short ids.
    pub fn offer(&self, image: &str, layers: &[&str]) {
        self.state.lock().unwrap().layers.insert(image.to_string(), layers.iter().map(|s| s.to_string()).collect());
    }

    fn call(&self, op: &'static str) -> Result<()> {
        let mut s = self.state.lock().unwrap();
        s.calls.push(op.to_string());
        let n = s.calls.iter().filter(|c| *c == op).count();
        if self.fail.get(op) == Some(&n) {
            bail!("injected failure of {op} #{n}");
        }
        Ok(())
    }

    pub fn labelled_left(&self) -> (usize, usize) {
        let s = self.state.lock().unwrap();
        (s.containers.len(), s.images.values().filter(|l| **l).count())
    }
}

/// Serves `GET /` with 200 on 127.0.0.1:port until `stop` is set.
fn serve(port: u16, stop: Arc<AtomicBool>) {
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("fake container port");
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((mut s, _)) => {
                    s.set_nonblocking(false).unwrap();
                    let mut buf = [0u8; 512];
                    let _ = s.read(&mut buf);
                    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n");
                }
                Err(_) => std::thread::sleep(Duration::from_millis(1)),
            }
        }
    });
}

impl ContainerRuntime for Fake {
    async fn build(&self, tag: &str, context: BuildContext) -> Result<()> {
        self.call("build")?;
        let bytes: usize = context.map(|c| c.len()).sum();
        assert!(bytes > 0);
        self.state.lock().unwrap().images.insert(tag.to_string(), true);
        Ok(())
    }

    async fn push(&self, image: &str) -> Result<()> {
        self.call("push")?;
        assert!(self.state.lock().unwrap().images.contains_key(image));
        Ok(())
    }

    async fn pull(&self, image: &str, on_event: &mut (dyn FnMut(PullEvent) + Send)) -> Result<()> {
        self.call("pull")?;
        let layers = self.state.lock().unwrap().layers.get(image).cloned();
        let Some(layers) = layers else { bail!("pulling {image}: manifest unknown") };
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        for (k, id) in layers.iter().enumerate() {
            let k = k as u64;
            let ev = |ms, status: &str| PullEvent {
                at: at(ms),
                id: Some(id.clone()),
                status: status.into(),
                total: Some(100),
            };
            on_event(ev(5, "Pulling fs layer"));
            on_event(ev(10 + 10 * k, "Download complete"));
            on_event(ev(20 + 10 * k, "Pull complete"));
        }
        self.state.lock().unwrap().images.insert(image.to_string(), true);
        Ok(())
    }

    async fn image_id(&self, image: &str) -> Result<Option<String>> {
        Ok(self.state.lock().unwrap().images.contains_key(image).then(|| format!("sha256:{image}")))
    }

    async fn history_sizes(&self, image: &str) -> Result<Vec<i64>> {
        let n = self.state.lock().unwrap().layers.get(image).map_or(0, |l| l.len());
        Ok(vec![1000; n])
    }

    async fn remove_image(&self, image: &str) -> Result<bool> {
        self.call("remove_image")?;
        let id = image.strip_prefix("sha256:").unwrap_or(image);
        self.state.lock().unwrap().images.remove(id);
        Ok(true)
    }

    async fn labelled_images(&self) -> Result<Vec<String>> {
        Ok(self.state.lock().unwrap().images.iter().filter(|(_, l)| **l).map(|(n, _)| format!("sha256:{n}")).collect())
    }

    async fn create(&self, spec: &ContainerSpec) -> Result<String> {
        self.call("create")?;
        let mut s = self.state.lock().unwrap();
        s.next += 1;
        let id = format!("c{}", s.next);
        s.cpus.push(spec.cpus);
        s.containers.insert(id.clone(), (spec.clone(), None));
        Ok(id)
    }

    async fn start(&self, id: &str) -> Result<()> {
        self.call("start")?;
        let mut s = self.state.lock().unwrap();
        let Some((spec, flag)) = s.containers.get_mut(id) else { bail!("no container {id}") };
        if self.serves {
            let stop = Arc::new(AtomicBool::new(false));
            serve(spec.host_port, stop.clone());
            *flag = Some(stop);
        }
        Ok(())
    }

    async fn status(&self, _id: &str) -> Result<ContainerStatus> {
        Ok(ContainerStatus::Running)
    }

    async fn remove_container(&self, id: &str) -> Result<()> {
        self.call("remove_container")?;
        if let Some((_, Some(stop))) = self.state.lock().unwrap().containers.remove(id) {
            stop.store(true, Ordering::SeqCst);
        }
        Ok(())
    }

    async fn labelled_containers(&self) -> Result<Vec<String>> {
        Ok(self.state.lock().unwrap().containers.keys().cloned().collect())
    }
}
