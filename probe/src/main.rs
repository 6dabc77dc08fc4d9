//! The probe: the HTTP server that calibration's probe images run. Standard library only, so
//! it builds as one static binary for a `FROM scratch` image:
//!
//! ```sh
//! RUSTFLAGS='-C target-feature=+crt-static' cargo build --release \
//!     --target x86_64-unknown-linux-gnu --manifest-path probe/Cargo.toml
//! ```
//!
//! It listens on `0.0.0.0:$PORT` (default 9000) and answers `GET /` with `200 ok`, anything
//! else with 404. `PROBE_BIND=127.0.0.1` (or `--bind 127.0.0.1`) listens on loopback only:
//! inside a container nothing outside it can reach that, which is how calibration's tests make
//! a server that never answers (FunctionNotStarted). `--port N` overrides `$PORT`.
//!
//! `PROBE_CPU_MS=c` and `PROBE_SLEEP_MS=w` (or `--cpu-ms`, `--sleep-ms`) make each `GET /`
//! do work first: `c` ms of this thread's CPU time (a fixed amount of work, so requests that
//! share a CPU stretch it, as they would real work), then a `w` ms sleep (an I/O wait that
//! sharing does not slow). `coldcost calibrate --concurrency` fits `cpu_fraction` from such
//! requests; its tests check that `c = w` gives about 0.5.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

fn main() {
    let mut bind = std::env::var("PROBE_BIND").unwrap_or_else(|_| "0.0.0.0".to_string());
    let mut port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(9000);
    let ms = |name: &str, v: &str| -> u64 {
        v.parse().unwrap_or_else(|_| fail(&format!("{name} {v}: not a whole number of milliseconds")))
    };
    let mut work = Work {
        cpu_ms: std::env::var("PROBE_CPU_MS").map_or(0, |v| ms("PROBE_CPU_MS", &v)),
        sleep_ms: std::env::var("PROBE_SLEEP_MS").map_or(0, |v| ms("PROBE_SLEEP_MS", &v)),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--bind", Some(v)) => bind = v,
            ("--port", Some(v)) => match v.parse() {
                Ok(p) => port = p,
                Err(_) => fail(&format!("--port {v}: not a port number")),
            },
            ("--cpu-ms", Some(v)) => work.cpu_ms = ms("--cpu-ms", &v),
            ("--sleep-ms", Some(v)) => work.sleep_ms = ms("--sleep-ms", &v),
            _ => fail(
                "usage: probe [--bind ADDR] [--port N] [--cpu-ms C] [--sleep-ms W]   (env: PROBE_BIND, PORT, PROBE_CPU_MS, PROBE_SLEEP_MS)",
            ),
        }
    }
    let listener =
        TcpListener::bind((bind.as_str(), port)).unwrap_or_else(|e| fail(&format!("bind {bind}:{port}: {e}")));
    eprintln!("probe: listening on {bind}:{port}");
    for stream in listener.incoming() {
        match stream {
            Ok(s) => {
                std::thread::spawn(move || serve(s, work));
            }
            Err(e) => eprintln!("probe: accept: {e}"),
        }
    }
}

/// What each `GET /` does before it answers.
#[derive(Debug, Clone, Copy)]
struct Work {
    cpu_ms: u64,
    sleep_ms: u64,
}

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}

/// Linux's CLOCK_THREAD_CPUTIME_ID: the CPU time of the calling thread.
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;

/// This thread's CPU time, in nanoseconds.
fn thread_cpu_ns() -> u64 {
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec through a valid pointer
    let r = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if r != 0 {
        fail("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Computes until this thread has used `ms` of CPU time: a fixed amount of work whose wall
/// time grows when the thread gets a share of a CPU only.
fn burn(ms: u64) {
    let end = thread_cpu_ns() + ms * 1_000_000;
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while thread_cpu_ns() < end {
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        std::hint::black_box(x);
    }
}

/// One request per connection: read the request line and the headers, answer, close.
fn serve(stream: TcpStream, work: Work) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut header = String::new();
    loop {
        header.clear();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" || header == "\n" => break,
            Ok(_) => {}
        }
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let root = method == "GET" && path == "/";
    if root {
        burn(work.cpu_ms);
        if work.sleep_ms > 0 {
            std::thread::sleep(Duration::from_millis(work.sleep_ms));
        }
    }
    let (status, body) = if root { ("200 OK", "ok\n") } else { ("404 Not Found", "not found\n") };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = (&stream).write_all(response.as_bytes());
}

fn fail(message: &str) -> ! {
    eprintln!("probe: {message}");
    std::process::exit(2)
}
