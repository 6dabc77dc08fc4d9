//! The validated scenario: every unit resolved to integers (µs, bytes, MB, milli-vCPU),
//! every default applied, every cross-reference (function → image, workload → function)
//! turned into an index. The simulator reads only these types, never the raw TOML.

use crate::units::Micros;
use crate::usage::Spec;
pub use crate::workload::model::{Arrivals, Dist, Profile, ProfileSource};

/// A whole scenario, ready to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub simulation: Simulation,
    pub platform: Platform,
    /// Images in file order; `Function::image` indexes this.
    pub images: Vec<Image>,
    /// Functions in file order; `Workload::function` indexes this.
    pub functions: Vec<Function>,
    pub workloads: Vec<Workload>,
    /// `[goals]`, in [`super::goals::NAMES`] order.
    pub goals: Vec<super::goals::Goal>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    pub name: String,
    pub horizon: Micros,
    pub seed: u64,
    pub replications: u32,
    /// Time-series resolution.
    pub bucket: Micros,
    /// Instances reserved at t = 0 exist ready, their image cached, their start unmetered
    /// (provisioned instances are ready before traffic).
    pub warm_start: bool,
    /// Statistics and the bill leave out `[0, warmup)`.
    pub warmup: Micros,
    /// The clock time at which simulated time 0 falls, when the scenario says.
    pub start: Option<Start>,
}

/// `simulation.start`: a date-time with its UTC offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Start {
    /// µs since 1970-01-01T00:00:00Z.
    pub epoch_us: i64,
    /// The zone's offset from UTC, seconds (clock times are read and shown in it).
    pub offset_s: i32,
}

impl Start {
    /// Local µs since the local midnight of 1970-01-01 (so `rem_euclid(DAY)` is the time of day).
    pub fn local_us(&self) -> i64 {
        self.epoch_us + self.offset_s as i64 * 1_000_000
    }

    /// The local time of day at simulated time 0, µs after midnight.
    pub fn time_of_day(&self) -> Micros {
        self.local_us().rem_euclid(crate::units::MICROS_PER_DAY as i64) as Micros
    }

    /// The local date-time of simulated time `t` with the zone's offset,
    /// `2024-03-04T10:00:00+08:00` (whole seconds): timeseries.csv's `time`.
    pub fn format(&self, t: Micros) -> String {
        let local = self.local_us() + t as i64;
        let text = crate::workload::timestamp::format_rfc3339(local);
        let o = self.offset_s;
        let zone = if o == 0 {
            "Z".to_string()
        } else {
            format!("{}{:02}:{:02}", if o < 0 { '-' } else { '+' }, o.abs() / 3600, o.abs() / 60 % 60)
        };
        format!("{}{zone}", text.trim_end_matches('Z'))
    }

    /// µs into the local ISO week (Monday 00:00 = 0) at simulated time 0.
    pub fn time_of_week(&self) -> Micros {
        // 1970-01-01 was a Thursday: three days after a Monday
        let week = 7 * crate::units::MICROS_PER_DAY as i64;
        (self.local_us() + 3 * crate::units::MICROS_PER_DAY as i64).rem_euclid(week) as Micros
    }
}

/// How a new request picks among ready instances with a free slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Most recently used first (the default): keeps the pool small and warm.
    Mru,
    /// Most recently created first (SimFaaS's rule).
    Newest,
    /// Fewest requests in flight first.
    LeastLoaded,
    /// Uniformly at random.
    Random,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Platform {
    /// The provider's profile: limits, start rule, keep-alive, scale-out rate, default sheet.
    pub provider: crate::provider::Profile,
    /// Built-in price sheet name (`fc3`, ...) or a path, as resolved.
    pub pricing: String,
    /// That price sheet, parsed and validated once with the scenario (what `run` bills by,
    /// so `validate` refuses a broken sheet as `run` would).
    pub sheet: crate::billing::model::Sheet,
    pub keep_alive: Micros,
    pub pick: Pick,
    pub hosts: u32,
    pub host_memory_mb: u64,
    /// Layer cache capacity per host, in (uncompressed) bytes.
    pub cache_capacity: u64,
    /// A cached layer unused for this long is dropped.
    pub cache_ttl: Micros,
    pub ready_timeout: Micros,
    pub container_create: Dist,
    pub pull: Pull,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pull {
    /// Bytes per second (the TOML gives decimal bits: `5Gbps` = 625e6 B/s).
    pub host_bandwidth: f64,
    pub registry_bandwidth: f64,
    /// Fixed cost of each layer download before bytes flow.
    pub layer_overhead: Micros,
    /// Manifest + config round trip before any layer starts.
    pub manifest: Micros,
    /// Uncompressed bytes per second of extraction.
    pub extract_rate: f64,
    /// Extra extraction cost per file, where a layer gives a file count.
    pub extract_per_file: Micros,
    /// Fixed cost of each layer's extraction, paid one layer after another (Docker registers
    /// each layer in turn: calibration measured ~85 ms a layer).
    pub extract_overhead: Micros,
    /// Layer downloads in flight per host at most (Docker's max-concurrent-downloads).
    pub parallel_layers: u32,
    /// How images reach a host: downloaded and extracted whole, or loaded lazily.
    pub mode: PullMode,
    /// What a lazy pull fetches (used in lazy mode and for accelerated images).
    pub lazy: Lazy,
    /// Path of the calibration profile that supplied values, if any (for the report).
    pub profile: Option<String>,
    /// Where a host gets a layer from.
    pub distribution: Distribution,
}

/// How layers reach hosts (`platform.pull.distribution`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distribution {
    /// Every host downloads every layer from the registry.
    Registry,
    /// FaaSNet's function trees (Wang et al., ATC '21): a host takes a layer from a host that
    /// holds it, which serves at most `fanout` children per layer at once; the registry serves
    /// a layer only when no host holds it (a tree's root).
    P2p { fanout: u32 },
}

pub use crate::provider::PullMode;

/// What a lazy pull fetches, as fractions of each layer (compressed bytes fetched,
/// uncompressed bytes held in the host's cache).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lazy {
    /// Fetched before the container starts (the accelerated image's index).
    pub index_fraction: f64,
    /// Read by the app while it starts; each read that misses stalls the start-up.
    pub read_fraction: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub name: String,
    pub layers: Vec<Layer>,
    /// FC image acceleration (`image.acceleration`): from this simulated time on (the
    /// accelerated copy is ready some minutes after a deploy) the image is pulled lazily.
    /// `None` when off, or on a provider that offers no per-image acceleration.
    pub accelerated_from: Option<Micros>,
}

impl Image {
    pub fn compressed_bytes(&self) -> u64 {
        self.layers.iter().map(|l| l.compressed).sum()
    }
    pub fn uncompressed_bytes(&self) -> u64 {
        self.layers.iter().map(|l| l.uncompressed).sum()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Layers with the same id are the same blob, shared between images
    /// (default `"<image>#<index>"`).
    pub id: String,
    pub compressed: u64,
    pub uncompressed: u64,
    /// Number of files, when known (adds `extract_per_file` each).
    pub files: u64,
}

/// GPU attached to a function (billing only; the engine treats it as part of the spec).
#[derive(Debug, Clone, PartialEq)]
pub struct Gpu {
    pub kind: String,
    pub memory_mb: u64,
    /// FC's idle mode for reserved GPU instances (default off: their idle time is billed at
    /// the active rates).
    pub idle_mode: bool,
}

/// The reserved (provisioned / minimum) instance target.
#[derive(Debug, Clone, PartialEq)]
pub enum Reserved {
    /// This many for the whole run.
    Fixed(u32),
    /// Daily schedule: at each time of day (µs after midnight, sorted, distinct) the target
    /// becomes `count`; before the first step of a day the last step of the previous day holds.
    Daily(Vec<ReservedStep>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservedStep {
    pub at: Micros,
    pub count: u32,
}

impl Reserved {
    /// The largest target ever asked for.
    pub fn max(&self) -> u32 {
        match self {
            Reserved::Fixed(n) => *n,
            Reserved::Daily(steps) => steps.iter().map(|s| s.count).max().unwrap_or(0),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub name: String,
    /// Index into `Scenario::images`.
    pub image: usize,
    pub memory_mb: u64,
    /// vCPU in thousandths (1.0 vCPU = 1000).
    pub milli_vcpu: u64,
    pub disk_mb: u64,
    pub gpu: Option<Gpu>,
    pub concurrency: u32,
    pub max_instances: u32,
    pub reserved: Reserved,
    /// Queue length bound (0 = no queue: throttle at once).
    pub queue: u32,
    pub queue_timeout: Micros,
    /// A request running longer is cut at this time and fails.
    pub timeout: Micros,
    pub startup: Dist,
    pub exec: Dist,
    /// Per-function keep-alive (else the platform's).
    pub keep_alive: Micros,
    /// SimFaaS semantics: a request that starts an instance is served in this time in place of
    /// pull + create + startup + exec.
    pub cold_service: Option<Dist>,
    /// How a request's execution uses the instance's vCPUs (contention between requests).
    pub cpu: CpuUse,
}

/// The CPU side of `exec`: `exec` is one request alone on an instance of `exec_milli_vcpu`;
/// its CPU share is served under processor sharing, the rest is a fixed wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuUse {
    /// Share of `exec` that is CPU work, 0..=1 (0: nothing is slowed by contention).
    pub fraction: f64,
    /// vCPUs one request can use at once.
    pub threads: u32,
    /// The vCPU (thousandths) at which `exec` was measured.
    pub exec_milli_vcpu: u64,
}

impl CpuUse {
    /// No CPU work: the model before contention, for `milli_vcpu`.
    pub fn none(milli_vcpu: u64) -> Self {
        CpuUse { fraction: 0.0, threads: 1, exec_milli_vcpu: milli_vcpu }
    }
}

impl Function {
    /// What an instance of this function holds and is billed for.
    pub fn spec(&self) -> Spec {
        Spec {
            memory_mb: self.memory_mb,
            milli_vcpu: self.milli_vcpu,
            disk_mb: self.disk_mb,
            gpu_mb: self.gpu.as_ref().map_or(0, |g| g.memory_mb),
            gpu: self
                .gpu
                .as_ref()
                .map(|g| crate::usage::GpuUse { kind: crate::usage::GpuKind::new(&g.kind), idle_mode: g.idle_mode }),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// Index into `Scenario::functions` (for a trace workload, the first of its functions).
    pub function: usize,
    pub arrivals: Arrivals,
    /// Arrivals happen in `[from, until)`; `until` is at most the horizon.
    pub from: Micros,
    pub until: Micros,
}
