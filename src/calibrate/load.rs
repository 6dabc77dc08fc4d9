//! `--concurrency`: an image's request time with 1, 2, 4, … requests at once, measured on a
//! container with a CPU limit — what [`cpu_fit`](super::cpu_fit) fits `cpu_fraction` to.
//!
//! One container of the image runs with `cpus` vCPUs (a CFS quota, see
//! [`CPU_PERIOD_US`](super::runtime::CPU_PERIOD_US)). A round sends, for each level `k` in
//! turn, `k` requests `GET /` at once (threads released together by a barrier, each timing its
//! own request on loopback) and waits for all of them: a batch that starts together is what
//! the model's `T(k)` describes. Rounds take the levels round-robin, so a slow spell of the
//! machine spreads over all of them; one batch at the largest level first warms the server
//! up and is not counted.

use std::net::SocketAddr;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::cpu_fit::Level;
use super::http;
use super::measure::{free_port, run_until_ready, TrialSetup};
use super::runtime::{ContainerRuntime, ContainerSpec};

/// What to measure.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Requests at once, each level once a round.
    pub levels: Vec<u32>,
    pub rounds: u32,
    /// The container's CPU limit, vCPUs.
    pub cpus: f64,
}

/// Starts a container of the image with the plan's CPU limit, waits for its first 200, runs
/// the rounds and removes the container (also on failure).
pub async fn measure<R: ContainerRuntime>(rt: &R, setup: &TrialSetup, plan: &Plan) -> Result<Vec<Level>> {
    let host_port = free_port()?;
    let spec = ContainerSpec {
        image: setup.reference.full(),
        container_port: setup.container_port,
        host_port,
        cpus: Some(plan.cpus),
    };
    let id = rt.create(&spec).await?;
    let result = async {
        run_until_ready(rt, &id, setup, host_port, Instant::now()).await?;
        let addr = SocketAddr::from(([127, 0, 0, 1], host_port));
        let (plan, timeout) = (plan.clone(), setup.fail_after);
        // the batches block on sockets and threads: off the async runtime, so Ctrl-C is heard
        tokio::task::spawn_blocking(move || rounds(addr, &plan, timeout)).await.context("the request batches")?
    }
    .await;
    let removed = rt.remove_container(&id).await;
    let levels = result?;
    removed?;
    Ok(levels)
}

/// The warm-up batch, then `plan.rounds` rounds over the levels.
fn rounds(addr: SocketAddr, plan: &Plan, timeout: Duration) -> Result<Vec<Level>> {
    let top = plan.levels.iter().copied().max().unwrap_or(1);
    batch(addr, top, timeout)?;
    let mut out: Vec<Level> = plan.levels.iter().map(|&k| Level { k, seconds: Vec::new() }).collect();
    for _ in 0..plan.rounds {
        for l in &mut out {
            l.seconds.extend(batch(addr, l.k, timeout)?);
        }
    }
    Ok(out)
}

/// `k` requests released together; each one's time from its connect to the end of the
/// response, seconds. A request that fails or answers other than 200 fails the batch.
pub fn batch(addr: SocketAddr, k: u32, timeout: Duration) -> Result<Vec<f64>> {
    let go = Arc::new(Barrier::new(k as usize));
    let threads: Vec<_> = (0..k)
        .map(|_| {
            let go = go.clone();
            std::thread::spawn(move || {
                go.wait();
                let t = Instant::now();
                let r = http::request("GET", addr, "127.0.0.1", "/", &[], timeout);
                (t.elapsed().as_secs_f64(), r)
            })
        })
        .collect();
    let mut times = Vec::with_capacity(k as usize);
    for t in threads {
        let (s, r) = t.join().map_err(|_| anyhow::anyhow!("a request thread panicked"))?;
        match r {
            Ok(resp) if resp.status == 200 => times.push(s),
            Ok(resp) => bail!("GET / answered HTTP {} with {k} requests at once (it must answer 200)", resp.status),
            Err(e) => return Err(e.context(format!("GET / with {k} requests at once"))),
        }
    }
    Ok(times)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    /// A server on loopback whose requests each hold a lock for `ms` (one at a time: all
    /// "CPU" on one CPU), answering 200.
    fn serial_server(ms: u64) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let cpu = Arc::new(std::sync::Mutex::new(()));
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let cpu = cpu.clone();
                std::thread::spawn(move || {
                    let mut r = BufReader::new(&s);
                    let mut line = String::new();
                    while r.read_line(&mut line).is_ok_and(|n| n > 2) {
                        line.clear();
                    }
                    let g = cpu.lock().unwrap();
                    std::thread::sleep(Duration::from_millis(ms));
                    drop(g);
                    let _ = (&s).write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                });
            }
        });
        addr
    }

    #[test]
    fn a_batch_times_each_of_k_requests_sent_together() {
        let addr = serial_server(20);
        let t = batch(addr, 3, Duration::from_secs(5)).unwrap();
        let mut t = t.clone();
        t.sort_by(f64::total_cmp);
        // served one after another: about 20, 40 and 60 ms after the first arrived (the last
        // thread may have connected a few ms after the first)
        assert!(t[0] >= 0.019 && t[1] >= 0.035 && t[2] >= 0.045 && t[2] < 0.5, "{t:?}");
    }

    #[test]
    fn rounds_measure_every_level_each_round() {
        let addr = serial_server(1);
        let plan = Plan { levels: vec![1, 2], rounds: 3, cpus: 1.0 };
        let l = rounds(addr, &plan, Duration::from_secs(5)).unwrap();
        assert_eq!(l.iter().map(|l| (l.k, l.seconds.len())).collect::<Vec<_>>(), [(1, 3), (2, 6)]);
    }

    #[test]
    fn a_server_that_answers_other_than_200_fails_the_batch() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let mut r = BufReader::new(&s);
                let mut line = String::new();
                while r.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let _ = (&s).write_all(b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            }
        });
        let e = batch(addr, 2, Duration::from_secs(5)).unwrap_err();
        assert!(e.to_string().contains("answered HTTP 503 with 2 requests at once"), "{e}");
    }
}
