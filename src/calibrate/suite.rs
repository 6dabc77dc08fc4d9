//! The probe images calibration measures: the probe server (`probe/`, a static binary) in a
//! `FROM scratch` image, plus layers of random bytes (incompressible, so compressed ≈
//! uncompressed) of chosen sizes and counts. Each image is built by the engine from a tar
//! context made here (generated lazily, so a gigabyte of layers never sits in memory),
//! pushed to the registry, and tagged by a hash of everything that went into it, so an image
//! already in the registry is not built again.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use rand::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::registry::{ImageRef, Registry};
use super::runtime::{BuildContext, ContainerRuntime, LABEL};

/// The registry repository that holds the probe images.
pub const REPOSITORY: &str = "coldcost-probe";
const MIB: u64 = 1 << 20;
const KIB: u64 = 1 << 10;

/// One probe image: the probe binary, then one layer per entry of `layers` (bytes of random
/// data each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeImage {
    pub name: String,
    pub layers: Vec<u64>,
    /// Bake `PROBE_BIND` into the image (`127.0.0.1` makes a server nobody outside reaches).
    pub bind: Option<String>,
    /// Bake `PROBE_CPU_MS` and `PROBE_SLEEP_MS`: each `GET /` computes for this much CPU time,
    /// then sleeps (0: answers at once), for `--concurrency`.
    pub cpu_ms: u32,
    pub sleep_ms: u32,
}

impl ProbeImage {
    pub fn new(name: &str, layers: &[u64]) -> ProbeImage {
        ProbeImage { name: name.to_string(), layers: layers.to_vec(), bind: None, cpu_ms: 0, sleep_ms: 0 }
    }

    /// `count` layers of `each` bytes.
    fn uniform(name: &str, count: usize, each: u64) -> ProbeImage {
        ProbeImage::new(name, &vec![each; count])
    }

    pub fn dockerfile(&self) -> String {
        let mut d = format!("FROM scratch\nLABEL {LABEL}=1\nCOPY probe /probe\n");
        for i in 0..self.layers.len() {
            d.push_str(&format!("COPY layer-{i}.bin /data/layer-{i}.bin\n"));
        }
        if let Some(b) = &self.bind {
            d.push_str(&format!("ENV PROBE_BIND={b}\n"));
        }
        if self.cpu_ms > 0 {
            d.push_str(&format!("ENV PROBE_CPU_MS={}\n", self.cpu_ms));
        }
        if self.sleep_ms > 0 {
            d.push_str(&format!("ENV PROBE_SLEEP_MS={}\n", self.sleep_ms));
        }
        d.push_str("EXPOSE 9000\nENTRYPOINT [\"/probe\"]\n");
        d
    }

    /// The tag: the name and a hash of the probe binary, the Dockerfile and the layer sizes.
    pub fn tag(&self, probe: &[u8]) -> String {
        let mut h = Fnv::new();
        h.write(probe);
        h.write(self.dockerfile().as_bytes());
        for l in &self.layers {
            h.write(&l.to_le_bytes());
        }
        format!("{}-{:012x}", self.name, h.0 & 0xffff_ffff_ffff)
    }

    pub fn reference(&self, registry: &str, probe: &[u8]) -> ImageRef {
        ImageRef { registry: registry.to_string(), repository: REPOSITORY.to_string(), reference: self.tag(probe) }
    }

    /// The build context: `Dockerfile`, `probe`, and `layer-<i>.bin` of seeded random bytes.
    pub fn context(&self, probe: Arc<Vec<u8>>) -> BuildContext {
        let dockerfile = Arc::new(self.dockerfile().into_bytes());
        let mut entries: Vec<(String, u32, Content)> = vec![
            ("Dockerfile".into(), 0o644, Content::Bytes(dockerfile)),
            ("probe".into(), 0o755, Content::Bytes(probe)),
        ];
        for (i, &len) in self.layers.iter().enumerate() {
            let seed = Fnv::of(format!("{}#{i}", self.name).as_bytes());
            entries.push((format!("layer-{i}.bin"), 0o644, Content::Random { seed, len }));
        }
        Box::new(
            entries
                .into_iter()
                .flat_map(|(name, mode, content)| tar_entry(name, mode, content))
                .chain(std::iter::once(vec![0u8; 1024])),
        )
    }
}

/// The named suites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Suite {
    /// 8 images up to 96 MB and 17 layers: about a minute with 3 trials.
    Quick,
    /// 12 images from 1 MB to 1 GB, 1 to 33 layers: several minutes.
    Standard,
}

/// The images of a suite. Every image starts with the probe's own layer (about 0.6 MB
/// compressed), so "layers" below counts the random layers on top of it.
pub fn images(suite: Suite) -> Vec<ProbeImage> {
    match suite {
        Suite::Quick => vec![
            ProbeImage::new("probe", &[]),
            ProbeImage::new("1x8m", &[8 * MIB]),
            ProbeImage::new("1x32m", &[32 * MIB]),
            ProbeImage::new("1x96m", &[96 * MIB]),
            ProbeImage::uniform("4x8m", 4, 8 * MIB),
            ProbeImage::uniform("2x40m", 2, 40 * MIB),
            ProbeImage::uniform("8x64k", 8, 64 * KIB),
            ProbeImage::uniform("16x2m", 16, 2 * MIB),
        ],
        Suite::Standard => vec![
            ProbeImage::new("probe", &[]),
            ProbeImage::new("1x1m", &[MIB]),
            ProbeImage::new("1x16m", &[16 * MIB]),
            ProbeImage::new("1x64m", &[64 * MIB]),
            ProbeImage::new("1x256m", &[256 * MIB]),
            ProbeImage::new("1x1g", &[1024 * MIB]),
            ProbeImage::uniform("4x16m", 4, 16 * MIB),
            ProbeImage::uniform("4x64m", 4, 64 * MIB),
            ProbeImage::uniform("8x32m", 8, 32 * MIB),
            ProbeImage::uniform("16x4m", 16, 4 * MIB),
            ProbeImage::uniform("32x1m", 32, MIB),
            ProbeImage::uniform("32x16m", 32, 16 * MIB),
        ],
    }
}

/// Makes sure the image is in the registry: builds and pushes it unless it is there already.
/// Returns whether it was built. The local copies the build left are the caller's to remove
/// (they carry the label).
pub async fn ensure_pushed<R: ContainerRuntime>(
    rt: &R,
    registry: &Registry,
    image: &ProbeImage,
    probe: &Arc<Vec<u8>>,
) -> Result<bool> {
    let r = image.reference(&registry.authority, probe);
    if registry.has(&r)? {
        return Ok(false);
    }
    rt.build(&r.full(), image.context(probe.clone())).await?;
    rt.push(&r.full()).await?;
    if !registry.has(&r)? {
        bail!("pushed {r} but the registry does not list it");
    }
    Ok(true)
}

/// Where the probe binary is: `explicit`, else `probe/target/.../probe` under the current
/// folder or the source tree this binary was built from; built with cargo if only the
/// sources are there.
pub fn find_probe(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        if !p.is_file() {
            bail!("--probe {}: no such file", p.display());
        }
        return Ok(p.to_path_buf());
    }
    let roots = [std::env::current_dir().unwrap_or_default(), PathBuf::from(env!("CARGO_MANIFEST_DIR"))];
    // with the sources here, cargo builds (a no-op when up to date): a binary left by an older
    // checkout would otherwise be pushed under the current sources' tag
    let bin = |root: &Path| root.join("probe/target/x86_64-unknown-linux-gnu/release/probe");
    for root in &roots {
        let manifest = root.join("probe/Cargo.toml");
        if manifest.is_file() {
            build_probe(&manifest)?;
            if bin(root).is_file() {
                return Ok(bin(root));
            }
        }
    }
    if let Some(built) = roots.iter().map(|r| bin(r)).find(|b| b.is_file()) {
        return Ok(built);
    }
    bail!("the probe binary is not built and its sources (probe/Cargo.toml) are not here; build it with `RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --target x86_64-unknown-linux-gnu --manifest-path probe/Cargo.toml` or pass --probe PATH")
}

/// Builds the probe statically (`-C target-feature=+crt-static`), into `probe/target`.
fn build_probe(manifest: &Path) -> Result<()> {
    let dir = manifest.parent().unwrap_or(Path::new("."));
    if !dir.join("target/x86_64-unknown-linux-gnu/release/probe").is_file() {
        crate::error::say(&format!("building the probe server ({})", manifest.display()));
    }
    let status = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--quiet", "--target", "x86_64-unknown-linux-gnu", "--manifest-path"])
        .arg(manifest)
        .arg("--target-dir")
        .arg(dir.join("target"))
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .status()
        .context("running cargo to build the probe")?;
    if !status.success() {
        bail!("building the probe failed ({status})");
    }
    Ok(())
}

// ---- tar ------------------------------------------------------------------------------

enum Content {
    Bytes(Arc<Vec<u8>>),
    /// `len` bytes from a generator seeded with `seed`.
    Random {
        seed: u64,
        len: u64,
    },
}

const CHUNK: u64 = MIB;

/// One file of a tar stream: its ustar header, its data in chunks, its padding.
fn tar_entry(name: String, mode: u32, content: Content) -> impl Iterator<Item = Vec<u8>> {
    let len = match &content {
        Content::Bytes(b) => b.len() as u64,
        Content::Random { len, .. } => *len,
    };
    let header = ustar_header(&name, mode, len);
    let chunks = len.div_ceil(CHUNK);
    let data = (0..chunks).map(move |k| {
        let start = k * CHUNK;
        let n = CHUNK.min(len - start) as usize;
        match &content {
            Content::Bytes(b) => b[start as usize..start as usize + n].to_vec(),
            Content::Random { seed, .. } => {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ k.wrapping_mul(0x9e37_79b9_7f4a_7c15));
                let mut buf = vec![0u8; n];
                rng.fill_bytes(&mut buf);
                buf
            }
        }
    });
    let pad = ((512 - len % 512) % 512) as usize;
    std::iter::once(header).chain(data).chain((pad > 0).then(|| vec![0u8; pad]))
}

fn ustar_header(name: &str, mode: u32, size: u64) -> Vec<u8> {
    let mut h = vec![0u8; 512];
    let put = |h: &mut Vec<u8>, at: usize, s: &[u8]| h[at..at + s.len()].copy_from_slice(s);
    put(&mut h, 0, name.as_bytes());
    put(&mut h, 100, format!("{mode:07o}\0").as_bytes());
    put(&mut h, 108, b"0000000\0");
    put(&mut h, 116, b"0000000\0");
    put(&mut h, 124, format!("{size:011o}\0").as_bytes());
    put(&mut h, 136, b"00000000000\0");
    put(&mut h, 148, b"        ");
    h[156] = b'0';
    put(&mut h, 257, b"ustar\0");
    put(&mut h, 263, b"00");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    put(&mut h, 148, format!("{sum:06o}\0 ").as_bytes());
    h
}

/// FNV-1a, 64 bits: a stable hash (std's is not stable across releases).
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn of(bytes: &[u8]) -> u64 {
        let mut h = Fnv::new();
        h.write(bytes);
        h.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_is_a_tar_with_dockerfile_probe_and_layers_of_the_stated_sizes() {
        let img = ProbeImage::new("t", &[1000, 3 * MIB / 2]);
        let tar: Vec<u8> = img.context(Arc::new(vec![7u8; 600])).flatten().collect();
        assert_eq!(tar.len() % 512, 0);
        // walk the headers
        let mut at = 0;
        let mut files = vec![];
        while tar[at] != 0 {
            let h = &tar[at..at + 512];
            let name = String::from_utf8(h[..100].iter().take_while(|&&b| b != 0).copied().collect()).unwrap();
            let size = u64::from_str_radix(std::str::from_utf8(&h[124..135]).unwrap(), 8).unwrap();
            let sum: u32 =
                h.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { u32::from(b) }).sum();
            let stored = u32::from_str_radix(std::str::from_utf8(&h[148..154]).unwrap(), 8).unwrap();
            assert_eq!(sum, stored, "checksum of {name}");
            files.push((name, size));
            at += 512 + size.div_ceil(512) as usize * 512;
        }
        assert_eq!(tar.len(), at + 1024);
        let dockerfile_len = img.dockerfile().len() as u64;
        assert_eq!(
            files,
            vec![
                ("Dockerfile".into(), dockerfile_len),
                ("probe".into(), 600),
                ("layer-0.bin".into(), 1000),
                ("layer-1.bin".into(), 3 * MIB / 2)
            ]
        );
    }

    #[test]
    fn layers_are_random_distinct_and_reproducible() {
        let img = ProbeImage::new("r", &[MIB, MIB]);
        let a: Vec<u8> = img.context(Arc::new(vec![])).flatten().collect();
        let b: Vec<u8> = img.context(Arc::new(vec![])).flatten().collect();
        assert_eq!(a, b);
        let layer = |k: usize| {
            let start = 512 + img.dockerfile().len().div_ceil(512) * 512 + 512 + k * (512 + MIB as usize);
            a[start + 512..start + 512 + MIB as usize].to_vec()
        };
        assert_ne!(layer(0), layer(1));
        // incompressible: every byte value appears about equally often
        let mut counts = [0u32; 256];
        layer(0).iter().for_each(|&x| counts[x as usize] += 1);
        let expect = MIB as f64 / 256.0;
        assert!(counts.iter().all(|&c| (c as f64 - expect).abs() < expect * 0.1));
    }

    #[test]
    fn the_tag_changes_with_the_probe_and_the_layers() {
        let img = ProbeImage::new("x", &[MIB]);
        let t = img.tag(b"probe-1");
        assert!(t.starts_with("x-"));
        assert_ne!(t, img.tag(b"probe-2"));
        assert_ne!(t, ProbeImage::new("x", &[2 * MIB]).tag(b"probe-1"));
        let mut bound = img.clone();
        bound.bind = Some("127.0.0.1".into());
        assert_ne!(t, bound.tag(b"probe-1"));
        assert!(bound.dockerfile().contains("ENV PROBE_BIND=127.0.0.1"));
    }

    #[test]
    fn the_suites_span_what_the_issue_asks() {
        let std = images(Suite::Standard);
        let total = |i: &ProbeImage| i.layers.iter().sum::<u64>();
        assert!(std.iter().any(|i| total(i) <= MIB) && std.iter().any(|i| total(i) >= 1024 * MIB));
        assert!(std.iter().any(|i| i.layers.is_empty()) && std.iter().any(|i| i.layers.len() >= 32));
        let names: std::collections::HashSet<_> = std.iter().map(|i| &i.name).collect();
        assert_eq!(names.len(), std.len());
    }
}
