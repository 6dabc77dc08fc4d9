//! Image references and the registry's HTTP API (distribution v2, plain HTTP on loopback):
//! is the registry there, does an image exist, what are its layers (digest and compressed
//! size, in order) and which history entries made them. The engine does the pulling; this is
//! only what the engine's pull events do not say.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::http::{self, loopback};

const TIMEOUT: Duration = Duration::from_secs(10);
const ACCEPT: &str = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json";

/// `host:port/repository[:tag|@digest]`, with the registry part required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub registry: String,
    pub repository: String,
    /// A tag, or a digest (`sha256:...`).
    pub reference: String,
}

impl ImageRef {
    /// Parses a reference; the registry must be named (and be loopback, checked on use).
    pub fn parse(s: &str) -> Result<ImageRef, String> {
        let example = "e.g. 127.0.0.1:5000/app:1";
        let (registry, rest) = s.split_once('/').ok_or_else(|| {
            format!("`{s}` names no registry; calibration pulls only from a registry on this machine, {example}")
        })?;
        if !(registry.contains(':') || registry.contains('.') || registry == "localhost") {
            return Err(format!(
                "`{s}` would be pulled from Docker Hub; calibration pulls only from a registry on this machine, {example}"
            ));
        }
        let (repository, reference) = if let Some((r, d)) = rest.split_once('@') {
            (r, d.to_string())
        } else {
            match rest.rsplit_once(':') {
                Some((r, t)) if !t.contains('/') => (r, t.to_string()),
                _ => (rest, "latest".to_string()),
            }
        };
        let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c);
        if repository.is_empty() || !repository.chars().all(valid) || reference.is_empty() {
            return Err(format!("`{s}` is not an image reference, {example}"));
        }
        Ok(ImageRef { registry: registry.to_string(), repository: repository.to_string(), reference })
    }

    /// The repository part as the engine names it (`127.0.0.1:5000/app`).
    pub fn repo_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The whole reference as the engine names it.
    pub fn full(&self) -> String {
        if self.reference.contains(':') {
            format!("{}@{}", self.repo_name(), self.reference)
        } else {
            format!("{}:{}", self.repo_name(), self.reference)
        }
    }
}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.full())
    }
}

/// A layer as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestLayer {
    pub digest: String,
    /// Compressed bytes.
    pub size: u64,
}

impl ManifestLayer {
    /// The 12-hex-digit id the engine's pull events use for this layer.
    pub fn short_id(&self) -> &str {
        let hex = self.digest.split_once(':').map_or(self.digest.as_str(), |(_, h)| h);
        &hex[..hex.len().min(12)]
    }
}

/// What the registry knows of an image.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub layers: Vec<ManifestLayer>,
    /// For each history entry of the image config (oldest first): whether it made a layer.
    pub history_makes_layer: Vec<bool>,
}

/// A registry on loopback.
#[derive(Debug, Clone)]
pub struct Registry {
    pub authority: String,
    addr: SocketAddr,
}

impl Registry {
    /// Resolves `host:port` (loopback only) and checks that a v2 registry answers there.
    pub fn connect(authority: &str) -> Result<Registry, String> {
        let addr = loopback(authority)?;
        let r = Registry { authority: authority.to_string(), addr };
        let resp = http::request("GET", addr, authority, "/v2/", &[], TIMEOUT)
            .map_err(|e| format!("cannot reach the registry at {authority}: {e:#}"))?;
        match resp.status {
            200 if resp.header("docker-distribution-api-version").is_some_and(|v| v.starts_with("registry/2")) => Ok(r),
            200 => Err(format!(
                "{authority} answers HTTP but is not a Docker registry (no Docker-Distribution-Api-Version header)"
            )),
            401 => Err(format!(
                "the registry at {authority} asks for credentials; calibration uses registries without authentication"
            )),
            s => Err(format!("the registry at {authority} answered /v2/ with HTTP {s}")),
        }
    }

    fn get(&self, method: &str, path: &str, accept: &str) -> Result<http::Response> {
        http::request(method, self.addr, &self.authority, path, &[("Accept", accept)], TIMEOUT)
            .with_context(|| format!("registry {}: {method} {path}", self.authority))
    }

    /// Whether the image exists (a HEAD of its manifest).
    pub fn has(&self, image: &ImageRef) -> Result<bool> {
        let r = self.get("HEAD", &format!("/v2/{}/manifests/{}", image.repository, image.reference), ACCEPT)?;
        Ok(r.status == 200)
    }

    /// The image's layers and history, or `None` when the registry does not have it.
    pub fn manifest(&self, image: &ImageRef) -> Result<Option<Manifest>> {
        let path = format!("/v2/{}/manifests/{}", image.repository, image.reference);
        let r = self.get("GET", &path, ACCEPT)?;
        if r.status == 404 {
            return Ok(None);
        }
        if r.status != 200 {
            bail!("registry {}: GET {path}: HTTP {}", self.authority, r.status);
        }
        let mut doc: Value = serde_json::from_slice(&r.body).context("the manifest is not JSON")?;
        if let Some(list) = doc.get("manifests").and_then(Value::as_array) {
            // an index: take the linux/amd64 image, as the engine here does
            let digest = list
                .iter()
                .find(|m| {
                    let p = &m["platform"];
                    p["os"] == "linux" && p["architecture"] == "amd64"
                })
                .and_then(|m| m["digest"].as_str())
                .with_context(|| format!("{image} has no linux/amd64 image"))?;
            let r = self.get("GET", &format!("/v2/{}/manifests/{digest}", image.repository), ACCEPT)?;
            if r.status != 200 {
                bail!("registry {}: the linux/amd64 manifest of {image}: HTTP {}", self.authority, r.status);
            }
            doc = serde_json::from_slice(&r.body).context("the manifest is not JSON")?;
        }
        let layers = doc["layers"]
            .as_array()
            .with_context(|| format!("the manifest of {image} lists no layers (schema 1 manifests are not supported)"))?
            .iter()
            .map(|l| {
                Ok(ManifestLayer {
                    digest: l["digest"].as_str().context("a layer without a digest")?.to_string(),
                    size: l["size"].as_u64().context("a layer without a size")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let config = doc["config"]["digest"].as_str().context("the manifest has no config")?;
        let r = self.get("GET", &format!("/v2/{}/blobs/{config}", image.repository), "*/*")?;
        if r.status != 200 {
            bail!("registry {}: the config blob of {image}: HTTP {}", self.authority, r.status);
        }
        let cfg: Value = serde_json::from_slice(&r.body).context("the image config is not JSON")?;
        let history_makes_layer = cfg["history"]
            .as_array()
            .map(|h| h.iter().map(|e| !e["empty_layer"].as_bool().unwrap_or(false)).collect())
            .unwrap_or_default();
        Ok(Some(Manifest { layers, history_makes_layer }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_their_registry_repository_and_tag() {
        let r = ImageRef::parse("127.0.0.1:5000/coldcost-probe:q-1").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.reference.as_str()),
            ("127.0.0.1:5000", "coldcost-probe", "q-1")
        );
        assert_eq!(r.full(), "127.0.0.1:5000/coldcost-probe:q-1");
        let r = ImageRef::parse("localhost:5000/team/app").unwrap();
        assert_eq!((r.repository.as_str(), r.reference.as_str()), ("team/app", "latest"));
        let r = ImageRef::parse("127.0.0.1:5000/app@sha256:abcd").unwrap();
        assert_eq!(r.full(), "127.0.0.1:5000/app@sha256:abcd");
    }

    #[test]
    fn a_reference_without_a_local_registry_is_refused() {
        assert!(ImageRef::parse("nginx").unwrap_err().contains("names no registry"));
        assert!(ImageRef::parse("library/nginx:1").unwrap_err().contains("Docker Hub"));
        assert!(ImageRef::parse("127.0.0.1:5000/UPPER:1").is_err());
    }

    #[test]
    fn a_layers_short_id_is_the_digests_first_12_hex_digits() {
        let l = ManifestLayer { digest: "sha256:52688841f525aaaa".into(), size: 1 };
        assert_eq!(l.short_id(), "52688841f525");
    }
}
