//! Generate a synthetic trace for benchmarks (`benches/traces/run.sh`): `--functions` functions
//! whose popularity follows Zipf's law (exponent `--zipf`, default 1.3: with 10,000 functions
//! the busiest 1% make about 83% of the invocations, as in the Azure 2019 trace's 83.6%),
//! `--invocations` invocations spread over
//! `--hours` as Poisson processes, each function with its own log-normal execution time
//! (median log-uniform in 5 ms..2 s, σ = 1) and memory (128..1024 MB). Deterministic for a
//! seed. Formats: `csv` (one row per invocation, already in time order), `azure2019`
//! (per-minute counts, duration percentiles and memory of each function), or `poisson`: no
//! trace, but the same fleet as a scenario with one Poisson workload per function at its
//! rate (`fleet.toml`), the synthetic baseline the trace runs are compared with.
//!
//! cargo run --release --example gen_trace -- --format csv --functions 10000 \
//!     --invocations 100000000 --hours 24 --seed 1 --out /tmp/trace

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Exp1, LogNormal, Poisson};
use rand_xoshiro::Xoshiro256PlusPlus;

struct Args {
    format: String,
    functions: usize,
    invocations: u64,
    hours: f64,
    seed: u64,
    zipf: f64,
    out: PathBuf,
}

fn args() -> Args {
    let mut a = Args {
        format: "csv".into(),
        functions: 10_000,
        invocations: 100_000_000,
        hours: 24.0,
        seed: 1,
        zipf: 1.3,
        out: PathBuf::from("trace"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--format" => a.format = v,
            "--functions" => a.functions = v.parse().expect("--functions N"),
            "--invocations" => a.invocations = v.parse().expect("--invocations N"),
            "--hours" => a.hours = v.parse().expect("--hours H"),
            "--seed" => a.seed = v.parse().expect("--seed N"),
            "--zipf" => a.zipf = v.parse().expect("--zipf S"),
            "--out" => a.out = PathBuf::from(v),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

/// A function's traits.
struct Func {
    weight: f64,
    median_us: f64,
    memory_mb: u32,
}

const SIGMA: f64 = 1.0;

fn main() -> std::io::Result<()> {
    let a = args();
    std::fs::create_dir_all(&a.out)?;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(a.seed);
    let harmonic: f64 = (1..=a.functions).map(|k| (k as f64).powf(-a.zipf)).sum();
    let funcs: Vec<Func> = (1..=a.functions)
        .map(|k| Func {
            weight: (k as f64).powf(-a.zipf) / harmonic,
            median_us: (5_000f64.ln() + rng.random::<f64>() * (2_000_000f64 / 5_000.0).ln()).exp(),
            memory_mb: 128 + 64 * rng.random_range(0..15u32),
        })
        .collect();
    let span_us = a.hours * 3.6e9;
    match a.format.as_str() {
        "csv" => csv(&a, &funcs, span_us, &mut rng),
        "azure2019" => azure2019(&a, &funcs, &mut rng),
        "poisson" => poisson(&a, &funcs),
        other => panic!("unknown format {other}; csv, azure2019 or poisson"),
    }
}

/// One merged Poisson process at the total rate; each arrival picks its function by weight.
fn csv(a: &Args, funcs: &[Func], span_us: f64, rng: &mut Xoshiro256PlusPlus) -> std::io::Result<()> {
    let mut cdf = Vec::with_capacity(funcs.len());
    let mut acc = 0.0;
    for f in funcs {
        acc += f.weight;
        cdf.push(acc);
    }
    let dists: Vec<LogNormal<f64>> =
        funcs.iter().map(|f| LogNormal::new(f.median_us.ln(), SIGMA).expect("valid")).collect();
    let mut w = BufWriter::with_capacity(1 << 20, File::create(a.out.join("trace.csv"))?);
    w.write_all(b"timestamp,function,duration_ms,memory_mb\n")?;
    let mean_gap = span_us / a.invocations as f64;
    let mut t = 0.0f64;
    for _ in 0..a.invocations {
        t += rng.sample::<f64, _>(Exp1) * mean_gap;
        let u: f64 = rng.random::<f64>() * acc;
        let k = cdf.partition_point(|&c| c < u).min(funcs.len() - 1);
        let d = dists[k].sample(rng).min(600e6) as u64;
        let ts = t as u64;
        writeln!(
            w,
            "{}.{:06},f{k},{}.{:03},{}",
            ts / 1_000_000,
            ts % 1_000_000,
            d / 1000,
            d % 1000,
            funcs[k].memory_mb
        )?;
    }
    w.flush()
}

/// Per-minute Poisson counts per function, and the matching durations and memory files.
fn azure2019(a: &Args, funcs: &[Func], rng: &mut Xoshiro256PlusPlus) -> std::io::Result<()> {
    let minutes = (a.hours * 60.0).round() as usize;
    let mut w = BufWriter::with_capacity(1 << 20, File::create(a.out.join("invocations.csv"))?);
    write!(w, "HashOwner,HashApp,HashFunction,Trigger")?;
    for m in 1..=minutes {
        write!(w, ",{m}")?;
    }
    writeln!(w)?;
    let per_minute = a.invocations as f64 / minutes as f64;
    for (k, f) in funcs.iter().enumerate() {
        write!(w, "o{k},a{k},f{k},http")?;
        let lambda = f.weight * per_minute;
        let p = Poisson::new(lambda.max(1e-9)).expect("positive rate");
        for _ in 0..minutes {
            let c: f64 = p.sample(rng);
            write!(w, ",{}", c as u64)?;
        }
        writeln!(w)?;
    }
    w.flush()?;
    let mut d = BufWriter::new(File::create(a.out.join("durations.csv"))?);
    writeln!(d, "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100")?;
    // z-scores of the table's percentiles (0 and 100 cut at ±3.5σ)
    let z = [-3.5, -2.326_347_9, -0.674_489_75, 0.0, 0.674_489_75, 2.326_347_9, 3.5];
    for (k, f) in funcs.iter().enumerate() {
        let ms = |z: f64| f.median_us / 1e3 * (SIGMA * z).exp();
        let mean = f.median_us / 1e3 * (SIGMA * SIGMA / 2.0).exp();
        write!(d, "o{k},a{k},f{k},{mean:.3},0,{:.3},{:.3}", ms(z[0]), ms(z[6]))?;
        for zz in z {
            write!(d, ",{:.3}", ms(zz))?;
        }
        writeln!(d)?;
    }
    d.flush()?;
    let mut m = BufWriter::new(File::create(a.out.join("memory.csv"))?);
    writeln!(m, "HashFunction,HashOwner,HashApp,SampleCount,AverageAllocatedMb")?;
    for (k, f) in funcs.iter().enumerate() {
        writeln!(m, "f{k},o{k},a{k},1,{}", f.memory_mb)?;
    }
    m.flush()
}

/// The fleet as a scenario: each function a Poisson workload at its share of the rate, its
/// log-normal execution time and its memory; otherwise as `benches/traces/run.sh`'s template.
fn poisson(a: &Args, funcs: &[Func]) -> std::io::Result<()> {
    let mut w = BufWriter::new(File::create(a.out.join("fleet.toml"))?);
    let rate = a.invocations as f64 / (a.hours * 3600.0);
    writeln!(w, "[simulation]\nname = \"fleet\"\nhorizon = \"{}h\"\nseed = 1\n", a.hours)?;
    writeln!(w, "[platform]\npricing = \"fc3\"\nkeep_alive = \"10m\"\nhosts = 1000\n")?;
    writeln!(w, "[[image]]\nname = \"base\"\nsize = \"200MB\"\nlayer_count = 8\n")?;
    for (k, f) in funcs.iter().enumerate() {
        writeln!(
            w,
            "[[function]]\nname = \"f{k}\"\nimage = \"base\"\nmemory = \"{}MB\"\nmax_instances = 10000\ntimeout = \"15m\"\nstartup = {{ dist = \"lognormal\", median = \"500ms\", p99 = \"3s\" }}\nexec = {{ dist = \"lognormal\", mu = {}, sigma = {SIGMA} }}\n",
            f.memory_mb,
            (f.median_us / 1e6).ln()
        )?;
    }
    for (k, f) in funcs.iter().enumerate() {
        writeln!(
            w,
            "[[workload]]\nfunction = \"f{k}\"\narrivals = {{ kind = \"poisson\", rate = \"{:.9}/s\" }}\n",
            f.weight * rate
        )?;
    }
    w.flush()
}
