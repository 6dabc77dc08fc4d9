use coldcost::platform::{simulate, NullSink};
use coldcost::scenario;
use coldcost::usage::Meters;
fn main() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/simfaas-readme.toml");
    let h = std::env::args().nth(1).unwrap_or("1000000s".into());
    let sc = scenario::load(&path, &[format!("simulation.horizon={h}")]).unwrap();
    let n: usize = std::env::args().nth(2).map(|x| x.parse().unwrap()).unwrap_or(1);
    let t = std::time::Instant::now();
    let mut req = 0;
    for _ in 0..n {
        let r = simulate(&sc, 0, &mut NullSink, &Meters::default(), |_| {}).unwrap();
        req += r.functions.iter().map(|(_, s)| s.requests).sum::<u64>();
    }
    let el = t.elapsed().as_secs_f64();
    println!("{req} requests, {:.2} M/s", req as f64 / el / 1e6);
}
