//! Lazy pulls by hand: an index fetched before the container starts, the app's reads stalling
//! its start-up, no extraction; accelerated images lazy only once their copy is ready.

use super::tests::{base, once, run};
use crate::scenario::*;
use crate::units::{Micros, MICROS_PER_SECOND as S};
use crate::usage::Phase;

const MB: u64 = 1 << 20;

/// `base()` with one 1000 MB (compressed) layer of 1500 MB: a full pull downloads it in
/// 1000 MB / 625 MB/s and extracts 1500 MB at 150 MB/s (10 s). Start-up 2 s, exec 1 s.
fn one_big_layer() -> Scenario {
    let mut sc = base();
    sc.images[0].layers[0].compressed = 1000 * MB;
    sc.platform.pull.lazy = Lazy { index_fraction: 0.1, read_fraction: 0.25 };
    sc.functions[0].startup = Dist::Fixed(2 * S);
    sc
}

/// Seconds of `bytes` on the 625 MB/s host link, in µs (rounded up as event times are).
fn on_link(bytes: f64) -> Micros {
    (bytes / 625e6 * 1e6).ceil() as Micros
}

fn close(a: u128, b: Micros, what: &str) {
    assert!(a.abs_diff(b as u128) <= 2, "{what}: {a} µs, expected {b} µs");
}

#[test]
fn a_lazy_pull_fetches_the_index_before_start_and_the_reads_stall_the_start_up() {
    let mut sc = one_big_layer();
    sc.platform.pull.mode = PullMode::Lazy;
    sc.workloads.push(once(0));
    let (st, _) = run(&sc);
    let index = on_link(0.1 * (1000 * MB) as f64);
    let reads = on_link(0.25 * (1000 * MB) as f64);
    // no extraction: the pull is the index alone; the reads are start-up time, before its 2 s
    close(st.pull_us, index, "pull");
    close(st.latency_sum_us, index + reads + 2 * S + S, "latency");
    let startup_us = (st.usage().gbs(Phase::Startup) * 1e6).round() as u128; // 1 GB function
    close(startup_us, reads + 2 * S, "start-up meter");
    assert_eq!((st.pulls, st.completed), (1, 1));

    // the same request with a full pull: download and extract the whole layer
    sc.platform.pull.mode = PullMode::Full;
    let (full, _) = run(&sc);
    let download = on_link((1000 * MB) as f64);
    close(full.pull_us, download + 10 * S, "full pull");
    close(full.latency_sum_us, download + 10 * S + 2 * S + S, "full latency");
}

#[test]
fn a_second_lazy_start_on_the_host_finds_index_and_reads_cached() {
    let mut sc = one_big_layer();
    sc.platform.pull.mode = PullMode::Lazy;
    sc.functions[0].keep_alive = 0;
    sc.workloads.push(once(0));
    sc.workloads.push(once(100 * S));
    let (st, _) = run(&sc);
    assert_eq!((st.instances_created, st.pulls, st.cache_hits), (2, 1, 1));
    let first = on_link(0.1 * (1000 * MB) as f64) + on_link(0.25 * (1000 * MB) as f64) + 3 * S;
    close(st.latency_sum_us, first + 3 * S, "the second start waits only for its own start-up");
}

#[test]
fn an_accelerated_image_is_pulled_whole_until_its_copy_is_ready() {
    let mut sc = one_big_layer();
    sc.images[0].accelerated_from = Some(30 * S);
    sc.functions[0].keep_alive = 0;
    sc.workloads.push(once(0));
    sc.workloads.push(once(100 * S));
    let (st, _) = run(&sc);
    // at 0 the plain image (download + 10 s extraction); at 100 s the accelerated copy, whose
    // pieces are not on the host yet: a second, lazy, pull
    assert_eq!((st.pulls, st.cache_hits), (2, 0));
    let full = on_link((1000 * MB) as f64) + 10 * S;
    let lazy = on_link(0.1 * (1000 * MB) as f64);
    close(st.pull_us, full + lazy, "pull meters");
}

#[test]
fn the_start_limit_counts_the_lazy_reads() {
    let mut sc = one_big_layer();
    sc.platform.pull.mode = PullMode::Lazy;
    sc.platform.pull.lazy.read_fraction = 1.0;
    // reads of 1000 MB take 1.68 s: with 2 s of start-up, 3 s is enough and 3.5 s is not
    sc.platform.ready_timeout = 3 * S;
    sc.workloads.push(once(0));
    let (st, _) = run(&sc);
    assert_eq!((st.completed, st.not_started), (0, 1), "FC: FunctionNotStarted");
    sc.platform.ready_timeout = 4 * S;
    let (st, _) = run(&sc);
    assert_eq!((st.completed, st.not_started), (1, 0));
}

#[test]
fn a_retrying_provider_lets_a_late_lazy_init_finish_its_reads_and_start_once() {
    let mut sc = one_big_layer();
    sc.platform.provider = crate::provider::load("lambda").unwrap();
    sc.platform.pull.mode = PullMode::Lazy;
    sc.platform.pull.lazy.read_fraction = 1.0;
    // the 1.68 s of reads outlast a 1 s limit: the init is retried while it still reads; its
    // 2 s start-up then runs once
    sc.platform.ready_timeout = S;
    sc.workloads.push(once(0));
    let (st, _) = run(&sc);
    assert_eq!((st.completed, st.not_started), (1, 0));
    let expect = on_link(0.1 * (1000 * MB) as f64) + on_link((1000 * MB) as f64) + 3 * S;
    close(st.latency_sum_us, expect, "latency");
}
