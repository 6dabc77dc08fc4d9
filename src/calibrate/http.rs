//! A minimal HTTP/1.1 client over a plain TCP socket, for the two things calibration asks
//! over HTTP besides the engine: the registry's API and a function's `GET /`. It refuses any
//! address that is not loopback, so calibration never sends a byte beyond this machine.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

/// An HTTP response: status code, headers (names lower-cased) and body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Resolves `host:port` and insists that every address it names is loopback.
pub fn loopback(authority: &str) -> Result<SocketAddr, String> {
    let addrs: Vec<SocketAddr> = authority
        .to_socket_addrs()
        .map_err(|e| format!("`{authority}` is not a host:port this machine can resolve ({e})"))?
        .collect();
    match addrs.iter().find(|a| !a.ip().is_loopback()) {
        Some(a) => Err(format!(
            "`{authority}` is {}, not a loopback address; calibration only talks to this machine (127.0.0.1, localhost, [::1])",
            a.ip()
        )),
        None => addrs.first().copied().ok_or_else(|| format!("`{authority}` resolves to no address")),
    }
}

/// `GET path` (or `HEAD`) with extra headers; `timeout` bounds the connect and each read.
pub fn request(
    method: &str,
    addr: SocketAddr,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    timeout: Duration,
) -> Result<Response> {
    assert!(addr.ip().is_loopback(), "calibration only contacts loopback addresses");
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.set_nodelay(true)?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes())?;
    read_response(BufReader::new(stream), method == "HEAD")
}

fn read_response(mut r: impl BufRead, head: bool) -> Result<Response> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        bail!("the connection closed before any response");
    }
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|_| line.starts_with("HTTP/"))
        .ok_or_else(|| anyhow!("not an HTTP response: {:?}", line.trim_end()))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            break;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let mut resp = Response { status, headers, body: Vec::new() };
    if head {
        return Ok(resp);
    }
    if resp.header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        loop {
            line.clear();
            r.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .with_context(|| format!("bad chunk size {:?}", line.trim()))?;
            if size == 0 {
                break;
            }
            let start = resp.body.len();
            resp.body.resize(start + size, 0);
            r.read_exact(&mut resp.body[start..])?;
            line.clear();
            r.read_line(&mut line)?;
        }
    } else if let Some(n) = resp.header("content-length").and_then(|n| n.parse::<usize>().ok()) {
        resp.body.resize(n, 0);
        r.read_exact(&mut resp.body)?;
    } else {
        r.read_to_end(&mut resp.body)?;
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_with_a_length_is_read_whole() {
        let raw =
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nDocker-Distribution-Api-Version: registry/2.0\r\n\r\n{}\nextra";
        let r = read_response(&raw[..], false).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"{}\n");
        assert_eq!(r.header("docker-distribution-api-version"), Some("registry/2.0"));
    }

    #[test]
    fn a_chunked_response_is_joined() {
        let raw = b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let r = read_response(&raw[..], false).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (404, &b"abcde"[..]));
    }

    #[test]
    fn only_loopback_addresses_are_accepted() {
        assert!(loopback("127.0.0.1:5000").is_ok());
        assert!(loopback("localhost:5000").unwrap().ip().is_loopback());
        let e = loopback("10.1.2.3:5000").unwrap_err();
        assert!(e.contains("not a loopback address"), "{e}");
        assert!(loopback("nonsense").is_err());
    }

    #[test]
    fn garbage_is_not_a_response() {
        assert!(read_response(&b"SSH-2.0-OpenSSH\r\n"[..], false).is_err());
        assert!(read_response(&b""[..], false).is_err());
    }
}
