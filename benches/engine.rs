//! Engine throughput on SimFaaS's README model (Poisson 0.9/s, exp service 1.991 s warm and
//! 2.244 s cold, 600 s expiration, newest instance first), loaded from
//! `scenarios/simfaas-readme.toml`: simulated requests per second of one thread, and of one
//! thread with its arrivals made on a helper thread (`Maker::Helper`, what `run` does with a
//! core to spare).

use std::path::Path;

use coldcost::platform::{simulate, simulate_with, Maker, NullSink};
use coldcost::scenario;
use coldcost::usage::Meters;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn simfaas_readme(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/simfaas-readme.toml");
    let sc = scenario::load(&path, &["simulation.horizon=100000s".to_string()]).expect("example scenario loads");
    // count the requests once, for the throughput figure
    let requests: u64 = simulate(&sc, 0, &mut NullSink, &Meters::default(), |_| {})
        .unwrap()
        .functions
        .iter()
        .map(|(_, s)| s.requests)
        .sum();
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(requests));
    g.sample_size(20);
    g.bench_function("simfaas_readme_1e5s", |b| {
        b.iter(|| simulate(&sc, 0, &mut NullSink, &Meters::default(), |_| {}).unwrap())
    });
    g.bench_function("simfaas_readme_1e5s_helper", |b| {
        b.iter(|| simulate_with(&sc, 0, &mut NullSink, &Meters::default(), Maker::Helper, |_| {}).unwrap())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    // numbers only: criterion's charts need a system font that a bare machine lacks
    config = Criterion::default().without_plots();
    targets = simfaas_readme
}
criterion_main!(benches);
