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

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

fn main() {
    let mut bind = std::env::var("PROBE_BIND").unwrap_or_else(|_| "0.0.0.0".to_string());
    let mut port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(9000);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--bind", Some(v)) => bind = v,
            ("--port", Some(v)) => match v.parse() {
                Ok(p) => port = p,
                Err(_) => fail(&format!("--port {v}: not a port number")),
            },
            _ => fail("usage: probe [--bind ADDR] [--port N]   (env: PROBE_BIND, PORT)"),
        }
    }
    let listener =
        TcpListener::bind((bind.as_str(), port)).unwrap_or_else(|e| fail(&format!("bind {bind}:{port}: {e}")));
    eprintln!("probe: listening on {bind}:{port}");
    for stream in listener.incoming() {
        match stream {
            Ok(s) => {
                std::thread::spawn(move || serve(s));
            }
            Err(e) => eprintln!("probe: accept: {e}"),
        }
    }
}

/// One request per connection: read the request line and the headers, answer, close.
fn serve(stream: TcpStream) {
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
    let (status, body) =
        if method == "GET" && path == "/" { ("200 OK", "ok\n") } else { ("404 Not Found", "not found\n") };
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
