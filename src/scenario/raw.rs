//! The raw layer: serde structs that mirror the scenario TOML key for key and hold only what
//! the user wrote (style.md item 5). Scalars stay [`toml::Value`]s here so that
//! [`super::validate`] can say, with the key path, what was found and what is allowed
//! ("found integer 60; a duration is a string with a unit, e.g. \"60s\"") — serde's own
//! messages carry no path. Tables, arrays of tables and the `dist` / `kind` / `pick` choices
//! are typed (serde-tagged enums). [`super::schema`] has already checked every key and every
//! table's shape before these are deserialized, so deserialization itself does not fail on
//! user input; `deny_unknown_fields` is a second guard.
//!
//! # Defaults
//!
//! The source of each platform default is in the README's "Defaults and their sources".
//!
//! | key | default | allowed |
//! |---|---|---|
//! | `simulation.name` | file stem (`quickstart` for the built-in) | non-empty, no `/`, `\`, `..` |
//! | `simulation.horizon` | `"1d"` | > 0 |
//! | `simulation.seed` | `1` | integer ≥ 0 |
//! | `simulation.replications` | `1` | 1..=1000 |
//! | `simulation.bucket` | `"1m"` | > 0 and ≤ horizon |
//! | `simulation.start` | none (simulated time 0 is a Monday 00:00 of no date) | an RFC 3339 date-time with its UTC offset, e.g. `"2024-03-04T00:00:00+08:00"`; clock times (`peak_at`, hourly profiles, reserved `at`) are read in that offset |
//! | `platform.provider` | `"fc"` | a built-in provider profile (`fc`, `lambda`, `cloudrun`, `azure-flex`; [`crate::provider`]) or a file, relative as `platform.pricing`; its limits replace FC's below |
//! | `platform.pricing` | the provider's sheet (`"fc3"` for `fc`) | a built-in sheet ([`super::BUILTIN_PRICING`]) or an existing file, relative to the scenario's folder (to the current folder when from `--set`) |
//! | `platform.keep_alive` | the provider's (`"60s"` for `fc`) | ≥ 0 |
//! | `platform.pick` | `"mru"` | `mru`, `newest`, `least-loaded`, `random` |
//! | `platform.hosts` | `400` | ≥ 1 |
//! | `platform.host_memory` | `"128GB"` | whole MB, ≥ every function's memory |
//! | `platform.cache_capacity` | `"200GB"` | ≥ 0 |
//! | `platform.cache_ttl` | `"30m"` | ≥ 0 |
//! | `platform.ready_timeout` | the provider's start limit (FC: 120 s) | > 0 |
//! | `platform.container_create` | `"200ms"` | a duration or a distribution table |
//! | `platform.pull.host_bandwidth` | `"5Gbps"` | > 0 |
//! | `platform.pull.registry_bandwidth` | `"20Gbps"` | > 0 |
//! | `platform.pull.layer_overhead` | `"21ms"` | ≥ 0 |
//! | `platform.pull.manifest` | `"20ms"` | ≥ 0 |
//! | `platform.pull.extract_rate` | `"150MB/s"` | > 0 |
//! | `platform.pull.extract_per_file` | `"250us"` | ≥ 0 |
//! | `platform.pull.extract_overhead` | `"64ms"` | ≥ 0 |
//! | `platform.pull.parallel_layers` | `3` | 1..=64 |
//! | `platform.pull.mode` | the provider's (`"full"` for `fc`, `azure-flex`; `"lazy"` for `lambda`, `cloudrun`) | `full` (download, then extract), `lazy` (block-level lazy loading: no extraction) |
//! | `platform.pull.lazy.index_fraction` | `0.03` | 0..=1: share of each layer fetched before the container starts |
//! | `platform.pull.lazy.read_fraction` | `0.065` | 0..=1: share of each layer the app reads while it starts (stalling it) |
//! | `platform.pull.profile` | none | a calibration profile file, relative as `platform.pricing` |
//! | `platform.pull.distribution` | `"registry"` | `registry` (each host downloads each layer from the registry), `p2p` (a host takes a layer from a host holding it, FaaSNet's function trees) |
//! | `platform.pull.p2p.fanout` | `2` | 1..=64, the children a host serves at once per layer (p2p only) |
//! | `image.name` | required | unique, non-empty, no `.`, not all digits |
//! | `image.layers` | — (or `size`) | ≥ 1 layer of `{ compressed, uncompressed, files = 0, id = "<image>#<i>" }` |
//! | `image.size` | — (or `layers`) | compressed total, split evenly over `layer_count` |
//! | `image.layer_count` | `1` | 1..=1000, only with `size` |
//! | `image.uncompressed_ratio` | `2.5` | > 0, only with `size` |
//! | `image.acceleration` | `false` | `true`: FC image acceleration, the image is pulled lazily once its accelerated copy is ready (ignored on providers without per-image acceleration) |
//! | `image.accelerated_from` | `"0s"` | ≥ 0: simulated time the accelerated copy is ready (FC: about 5 minutes after a deploy, e.g. `"5m"` for a deploy at time 0); only with `acceleration = true` |
//! | `function.name` | required | unique, non-empty, no `.`, not all digits |
//! | `function.image` | the image named like the function | an image name |
//! | `function.memory` | `"512MB"` | the provider's rule (FC: 128MB..=32GB in 64MB steps) |
//! | `function.vcpu` | the provider's (FC: memory GB / 2, to 0.05) | the provider's rule (FC: 0.05..=16 in 0.05 steps, vCPU:GB from 1:1 to 1:4; Lambda, Azure Flex: not settable) |
//! | `function.disk` | `"512MB"` | the provider's rule (FC: `"512MB"` or `"10GB"`) |
//! | `function.gpu` | none | `{ kind, memory, idle_mode }`, a kind the provider offers (FC: tesla, ada) that the price sheet rates, memory a multiple of 1GB |
//! | `function.gpu.idle_mode` | `false` | `true`: idle reserved (minimum) GPU instances are billed at the idle rates; `false`: at the active rates (FC's idle mode) |
//! | `function.concurrency` | `1` | the provider's (FC: 1..=200, Lambda: 1) |
//! | `function.max_instances` | `100` | ≥ 1 and ≥ the largest reserved count |
//! | `function.reserved` | `0` | a count, or `[{ at = "HH:MM", count }, ...]` with distinct times |
//! | `function.queue` | `0` | ≥ 0 |
//! | `function.queue_timeout` | `"60s"` | ≥ 0 |
//! | `function.timeout` | `"60s"` | > 0, ≤ 1d and ≤ the provider's limit |
//! | `function.startup` | required (`"0s"` when `cold_service` is set) | a distribution |
//! | `function.exec` | required | a distribution |
//! | `function.keep_alive` | `platform.keep_alive` | ≥ 0 |
//! | `function.cold_service` | none | a distribution |
//! | `function.cpu_fraction` | `0` | 0..=1, the share of `exec` that is CPU work |
//! | `function.threads` | `1` | 1..=256, vCPUs one request can use at once |
//! | `function.exec_vcpu` | the function's vCPU | > 0, the vCPU at which `exec` was measured |
//! | `workload.function` | the only function, when there is one | a function name |
//! | `workload.arrivals` | required | `poisson`, `diurnal`, `hourly`, `counts`, `bursty`, `constant`, `trace` (keys in [`super::trace`]) |
//! | `arrivals.mean` (diurnal) | required unless `peak` and `trough` | a rate > 0 |
//! | `arrivals.peak_ratio` (diurnal) | `4` | ≥ 1; not with `peak`/`trough` |
//! | `arrivals.peak`, `arrivals.trough` (diurnal) | — | the top and bottom rates, peak > 0, 0 ≤ trough ≤ peak; in place of `mean`/`peak_ratio` |
//! | `arrivals.period` (diurnal) | `"1d"` | > 0 |
//! | `arrivals.phase` (diurnal) | period / 2 | ≥ 0, simulated time of the first peak |
//! | `arrivals.peak_at` (diurnal) | — | a clock time `"HH:MM"` of the peak, in place of `phase` |
//! | `arrivals.rates` (hourly) | required | 24 rates (00:00-01:00 first) or 168 (Monday 00:00 first) |
//! | `arrivals.path` (counts) | required | a CSV `timestamp,count` of per-bucket counts, relative as `platform.pricing` |
//! | `arrivals.bucket` (counts) | the smallest step between timestamps | > 0; each row counts the requests of `[timestamp, timestamp + bucket)` |
//! | `goals.p50`, `p90`, `p95`, `p99`, `p999`, `cold_p99` | none | a duration, e.g. `"800ms"`: the mean over replications of that latency (all requests; cold requests for `cold_p99`) must be at most it |
//! | `goals.cold_ratio`, `goals.error_ratio` | none | a fraction 0..=1: cold starts (throttled, failed and timed-out requests) over requests |
//! | `workload.from` | `"0s"` | < until |
//! | `workload.until` | the horizon | clamped to the horizon |
//!
//! Image size limits are the provider's (FC: at most 10 GB uncompressed for CPU functions, 15 GB with a GPU).

use serde::de::{Deserializer, Error as _};
use serde::Deserialize;
use toml::Value;

/// A scalar exactly as written (string, number, boolean, date-time or array); validated later.
pub type Scalar = Option<Value>;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    #[serde(default)]
    pub simulation: RawSimulation,
    #[serde(default)]
    pub platform: RawPlatform,
    #[serde(default)]
    pub image: Vec<RawImage>,
    #[serde(default)]
    pub function: Vec<RawFunction>,
    #[serde(default)]
    pub workload: Vec<RawWorkload>,
    /// `[goals]`, read by [`super::goals`] (its keys checked by the schema).
    pub goals: Option<toml::Table>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSimulation {
    pub name: Scalar,
    pub horizon: Scalar,
    pub seed: Scalar,
    pub replications: Scalar,
    pub bucket: Scalar,
    pub warm_start: Scalar,
    pub warmup: Scalar,
    pub start: Scalar,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlatform {
    pub provider: Scalar,
    pub pricing: Scalar,
    pub keep_alive: Scalar,
    pub pick: Option<RawPick>,
    pub hosts: Scalar,
    pub host_memory: Scalar,
    pub cache_capacity: Scalar,
    pub cache_ttl: Scalar,
    pub ready_timeout: Scalar,
    pub container_create: Option<RawDist>,
    #[serde(default)]
    pub pull: RawPull,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawPick {
    Mru,
    Newest,
    LeastLoaded,
    Random,
}

/// `[platform.pull]`; a calibration profile's `[pull]` table has the same keys except
/// `acceleration`, `profile`, `distribution` and `p2p`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPull {
    pub host_bandwidth: Scalar,
    pub registry_bandwidth: Scalar,
    pub layer_overhead: Scalar,
    pub manifest: Scalar,
    pub extract_rate: Scalar,
    pub extract_per_file: Scalar,
    pub extract_overhead: Scalar,
    pub parallel_layers: Scalar,
    pub mode: Option<RawPullMode>,
    pub lazy: Option<RawLazy>,
    pub acceleration: Option<RawAcceleration>,
    pub profile: Scalar,
    pub distribution: Option<RawDistribution>,
    pub p2p: Option<RawP2p>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawDistribution {
    Registry,
    P2p,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawP2p {
    pub fanout: Scalar,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawPullMode {
    Full,
    Lazy,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLazy {
    pub index_fraction: Scalar,
    pub read_fraction: Scalar,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAcceleration {
    pub enabled: Scalar,
    pub fetch_fraction: Scalar,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImage {
    pub name: Scalar,
    pub layers: Option<Vec<RawLayer>>,
    pub size: Scalar,
    pub layer_count: Scalar,
    pub uncompressed_ratio: Scalar,
    pub acceleration: Scalar,
    pub accelerated_from: Scalar,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLayer {
    pub compressed: Scalar,
    pub uncompressed: Scalar,
    pub files: Scalar,
    pub id: Scalar,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFunction {
    pub name: Scalar,
    pub image: Scalar,
    pub memory: Scalar,
    pub vcpu: Scalar,
    pub disk: Scalar,
    pub gpu: Option<RawGpu>,
    pub concurrency: Scalar,
    pub max_instances: Scalar,
    pub reserved: Option<RawReserved>,
    pub queue: Scalar,
    pub queue_timeout: Scalar,
    pub timeout: Scalar,
    pub startup: Option<RawDist>,
    pub exec: Option<RawDist>,
    pub keep_alive: Scalar,
    pub cold_service: Option<RawDist>,
    pub cpu_fraction: Scalar,
    pub threads: Scalar,
    pub exec_vcpu: Scalar,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGpu {
    pub kind: Scalar,
    pub memory: Scalar,
    pub idle_mode: Scalar,
}

/// `reserved = 2` or `reserved = [{ at = "08:00", count = 6 }, ...]`.
#[derive(Debug, Clone)]
pub enum RawReserved {
    Count(Value),
    Steps(Vec<RawReservedStep>),
}

impl<'de> Deserialize<'de> for RawReserved {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Array(items) => Value::Array(items).try_into().map(RawReserved::Steps).map_err(D::Error::custom),
            other => Ok(RawReserved::Count(other)),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReservedStep {
    pub at: Scalar,
    pub count: Scalar,
}

/// A distribution: a plain duration (`"200ms"`, a fixed value) or a table tagged by `dist`.
#[derive(Debug, Clone)]
pub enum RawDist {
    Plain(Value),
    Table(RawDistTable),
}

impl<'de> Deserialize<'de> for RawDist {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Table(t) => Value::Table(t).try_into().map(RawDist::Table).map_err(D::Error::custom),
            other => Ok(RawDist::Plain(other)),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum RawDistTable {
    Fixed { value: Scalar },
    Exp { mean: Scalar },
    Lognormal { median: Scalar, p99: Scalar, mu: Scalar, sigma: Scalar },
    Gamma { shape: Scalar, mean: Scalar, scale: Scalar },
    Weibull { shape: Scalar, scale: Scalar },
    Pareto { shape: Scalar, scale: Scalar },
    Empirical { percentiles: Scalar, values: Scalar },
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub function: Scalar,
    pub arrivals: Option<RawArrivals>,
    pub from: Scalar,
    pub until: Scalar,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum RawArrivals {
    Poisson {
        rate: Scalar,
    },
    Diurnal {
        mean: Scalar,
        peak_ratio: Scalar,
        period: Scalar,
        phase: Scalar,
        peak: Scalar,
        trough: Scalar,
        peak_at: Scalar,
    },
    Hourly {
        rates: Scalar,
    },
    Counts {
        path: Scalar,
        bucket: Scalar,
    },
    Bursty {
        on_rate: Scalar,
        off_rate: Scalar,
        mean_on: Scalar,
        mean_off: Scalar,
    },
    Constant {
        interval: Scalar,
    },
    Trace(Box<RawTrace>),
}

/// `arrivals = { kind = "trace", ... }`; the keys are documented in [`super::trace`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrace {
    pub format: Scalar,
    pub path: Scalar,
    pub durations_path: Scalar,
    pub memory_path: Scalar,
    pub spread: Scalar,
    pub functions: Scalar,
    pub select: Scalar,
    pub seed: Scalar,
    pub only: Scalar,
    pub memory: Scalar,
    pub image: Scalar,
    pub image_map: Scalar,
    pub image_sizes: Scalar,
    pub origin: Scalar,
    pub reorder_window: Scalar,
    pub skip_bad_rows: Scalar,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, toml::de::Error> {
        toml::from_str(text)
    }

    #[derive(Debug, Deserialize)]
    struct Holder<T> {
        v: T,
    }

    #[test]
    fn a_plain_string_is_a_fixed_distribution_and_a_table_is_tagged_by_dist() {
        let h: Holder<RawDist> = parse("v = \"200ms\"").unwrap();
        assert!(matches!(h.v, RawDist::Plain(Value::String(ref s)) if s == "200ms"));
        let h: Holder<RawDist> = parse("v = { dist = \"exp\", mean = \"2s\" }").unwrap();
        assert!(matches!(h.v, RawDist::Table(RawDistTable::Exp { .. })));
    }

    #[test]
    fn distribution_tables_refuse_keys_of_other_kinds() {
        assert!(parse::<Holder<RawDist>>("v = { dist = \"exp\", median = \"2s\" }").is_err());
    }

    #[test]
    fn reserved_is_a_count_or_a_list_of_steps() {
        let h: Holder<RawReserved> = parse("v = 3").unwrap();
        assert!(matches!(h.v, RawReserved::Count(Value::Integer(3))));
        let h: Holder<RawReserved> = parse("v = [{ at = \"08:00\", count = 2 }]").unwrap();
        assert!(matches!(h.v, RawReserved::Steps(ref s) if s.len() == 1));
    }

    #[test]
    fn trace_arrivals_keep_their_keys() {
        let h: Holder<RawArrivals> = parse("v = { kind = \"trace\", format = \"azure2019\", path = \"x\" }").unwrap();
        match h.v {
            RawArrivals::Trace(t) => assert!(t.format.is_some() && t.path.is_some() && t.spread.is_none()),
            other => panic!("{other:?}"),
        }
        assert!(parse::<Holder<RawArrivals>>("v = { kind = \"trace\", nope = 1 }").is_err());
    }

    #[test]
    fn pick_names_are_kebab_case() {
        let h: Holder<RawPick> = parse("v = \"least-loaded\"").unwrap();
        assert_eq!(h.v, RawPick::LeastLoaded);
    }
}
