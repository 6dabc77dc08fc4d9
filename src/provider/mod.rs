//! Provider profiles: each platform's own configuration limits, start limits, keep-alive,
//! scale-out rate and default price sheet, written as data (TOML) with every value's source
//! and date, so that a scenario run "on Lambda" is held to Lambda's rules and not FC's.
//!
//! The four built-in profiles are `scenarios/providers/*.toml`, compiled in ([`BUILTIN`]); a
//! path to a file of your own works wherever a built-in name does (`platform.provider`,
//! `coldcost providers show`). [`limits`] checks a function's configuration against a profile
//! and says which rule of which provider refused it.
//!
//! # Format
//!
//! ```toml
//! name = "lambda"          # optional, default: file stem
//! title = "AWS Lambda, container images (x86)"   # required
//! pricing = "lambda"       # required: the default price sheet (built-in name or path)
//! as_of = "2026-12-01"     # required, YYYY-MM-DD
//!
//! # every section below has `source` and `as_of` (required)
//! [memory]                 # required: min/max/step, or options = ["512MB", ...]
//! [vcpu]                   # required: rule = "ratio" (min, max, step, gb_per_vcpu = [lo, hi]?)
//!                          #         | "memory" (mb_per_vcpu: vCPU follows memory, not settable)
//!                          #         | "pairs" (fractional_min, fractional_step, whole = [...],
//!                          #                    pairs = [{ vcpu, min_memory, max_memory }, ...])
//! [concurrency]            # required: max
//! [timeout]                # optional: max (absent = no limit of the provider's)
//! [image]                  # optional: max_cpu, max_gpu (uncompressed; absent = no limit)
//! [disk]                   # optional: min/max/step or options (absent = no disk setting)
//! [gpu]                    # optional: kinds = [...], memory_step (absent or empty = no GPUs)
//! [start]                  # required: ready_timeout, on_timeout = "fail" | "retry"
//! [keep_alive]             # required: idle
//! [scale]                  # optional: burst, rate, per (absent = no scale-out rate limit)
//! [pull]                   # optional: mode = "full" | "lazy" (how images reach a host),
//!                          #   acceleration = true | false (per-image lazy copies, FC's
//!                          #   `image.acceleration`); absent = full, no acceleration
//! ```

pub mod limits;
mod parse;

use std::path::Path;

use crate::error::InputError;
use crate::input::choices;
use crate::units::Micros;

pub use parse::parse_str;

/// The built-in profiles, by name, in the order `coldcost providers list` shows them.
pub const BUILTIN: &[(&str, &str)] = &[
    ("fc", include_str!("../../scenarios/providers/fc.toml")),
    ("lambda", include_str!("../../scenarios/providers/lambda.toml")),
    ("cloudrun", include_str!("../../scenarios/providers/cloudrun.toml")),
    ("azure-flex", include_str!("../../scenarios/providers/azure-flex.toml")),
];

/// The names of the built-in profiles.
pub fn builtin_names() -> impl Iterator<Item = &'static str> + Clone {
    BUILTIN.iter().map(|(n, _)| *n)
}

/// Where a value comes from: the page (or paper) and its date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub source: String,
    pub as_of: String,
}

/// A size setting: a range in steps, or a list of options (bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sizes {
    Range { min: u64, max: u64, step: u64 },
    Options(Vec<u64>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Memory {
    pub sizes: Sizes,
    pub source: Source,
}

/// How vCPU is set.
#[derive(Debug, Clone, PartialEq)]
pub enum VcpuRule {
    /// Chosen freely in steps (thousandths), optionally within a GB-per-vCPU band (FC).
    Ratio { min: u64, max: u64, step: u64, gb_per_vcpu: Option<(f64, f64)> },
    /// Follows memory: `memory_mb / mb_per_vcpu` vCPU; a given vcpu is refused (Lambda).
    Memory { mb_per_vcpu: u64 },
    /// Fractional vCPU (from `fractional_min` in `fractional_step`, thousandths) below one, with
    /// concurrency 1 only, or one of `whole`; memory within the row of the smallest pair whose
    /// vcpu is at least the chosen one (Cloud Run).
    Pairs { fractional_min: u64, fractional_step: u64, whole: Vec<u64>, pairs: Vec<Pair> },
}

/// One row of a memory/CPU pair table: up to `vcpu` (thousandths), memory in `[min_mb, max_mb]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    pub vcpu: u64,
    pub min_mb: u64,
    pub max_mb: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Vcpu {
    pub rule: VcpuRule,
    pub source: Source,
}

/// What happens when an instance is not ready within the start limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnTimeout {
    /// The instance fails and its requests with it (FC's FunctionNotStarted).
    Fail,
    /// The start is retried once during the first invoke, bounded by the function's timeout
    /// (Lambda: init limited to 10 s, then re-run inside the invoke).
    Retry,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Start {
    pub ready_timeout: Micros,
    pub on_timeout: OnTimeout,
    pub source: Source,
}

/// Scale-out rate: at most `burst` new instances at once, refilled by `rate` every `per`
/// (a token bucket per function). Requests beyond it are treated as at `max_instances`.
#[derive(Debug, Clone, PartialEq)]
pub struct Scale {
    pub burst: u32,
    pub rate: u32,
    pub per: Micros,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Gpu {
    /// Allowed kinds (lower case); empty = no GPUs.
    pub kinds: Vec<String>,
    /// GPU memory step in bytes.
    pub memory_step: u64,
    pub source: Source,
}

/// How an image reaches a host (`platform.pull.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullMode {
    /// Download every layer, then extract them one after another (Docker, containerd).
    Full,
    /// Block-level lazy loading (Lambda, Cloud Run's image streaming, FC's accelerated
    /// images): no extraction; an index is fetched before the container starts and the blocks
    /// the app reads are fetched while it starts, stalling the start-up.
    Lazy,
}

impl PullMode {
    pub fn name(self) -> &'static str {
        match self {
            PullMode::Full => "full",
            PullMode::Lazy => "lazy",
        }
    }
}

/// How the provider's platform brings an image to a host.
#[derive(Debug, Clone, PartialEq)]
pub struct Pull {
    pub mode: PullMode,
    /// Whether an image can be accelerated on its own (`image.acceleration`).
    pub acceleration: bool,
    pub source: Source,
}

/// One provider's profile, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub name: String,
    pub title: String,
    /// Default price sheet: a built-in name or a resolved path.
    pub pricing: String,
    pub as_of: String,
    pub memory: Memory,
    pub vcpu: Vcpu,
    pub concurrency: (u32, Source),
    pub timeout: Option<(Micros, Source)>,
    /// Uncompressed image limits (CPU, GPU) in bytes.
    pub image: Option<(Option<u64>, Option<u64>, Source)>,
    pub disk: Option<(Sizes, Source)>,
    pub gpu: Option<Gpu>,
    pub start: Start,
    pub keep_alive: (Micros, Source),
    pub scale: Option<Scale>,
    pub pull: Pull,
}

/// A built-in name, or a path (relative paths as given).
pub fn load(name_or_path: &str) -> Result<Profile, InputError> {
    if let Some((name, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
        return parse_str(text, &format!("built-in provider {name}"), name, Path::new(""));
    }
    let path = Path::new(name_or_path);
    let text = crate::limits::read_to_string(path, crate::limits::MAX_TOML_BYTES).map_err(|e| {
        InputError::new(
            name_or_path,
            "",
            format!(
                "\"{name_or_path}\" is not a built-in provider, and reading it as a file failed: {e}{}",
                choices(name_or_path, builtin_names(), "built-in providers")
            ),
        )
    })?;
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("provider").to_string();
    parse_str(&text, name_or_path, &stem, path.parent().unwrap_or(Path::new("")))
}
