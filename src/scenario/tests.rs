//! Scenario parsing and validation, as a user meets it: the examples load, defaults apply,
//! every rule's error names its source, path and line, `--set` and profiles take effect, and
//! no input makes the parser panic.

use std::path::{Path, PathBuf};

use super::*;
use crate::error::InputError;
use crate::units::MICROS_PER_SECOND;

const MIN: &str = r#"
[[image]]
name = "api"
size = "100MB"

[[function]]
name = "api"
startup = "1s"
exec = "100ms"
"#;

fn parse(text: &str) -> Result<Scenario, InputError> {
    parse_str(text, "test.toml", Path::new("."), &[])
}

fn parse_set(text: &str, sets: &[&str]) -> Result<Scenario, InputError> {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    parse_str(text, "test.toml", Path::new("."), &sets)
}

fn ok(text: &str) -> Scenario {
    match parse(text) {
        Ok(s) => s,
        Err(e) => panic!("expected a valid scenario, got: {e}\n--- text ---\n{text}"),
    }
}

/// The error for `text`, checked to name `path` and to contain `fragment`.
fn fails(text: &str, path: &str, fragment: &str) -> InputError {
    let e = match parse(text) {
        Ok(_) => panic!("expected an error at {path}, the scenario was accepted:\n{text}"),
        Err(e) => e,
    };
    assert_eq!(e.path, path, "wrong path in: {e}");
    assert!(e.message.contains(fragment), "message lacks {fragment:?}: {e}");
    assert_eq!(e.source, "test.toml", "{e}");
    e
}

/// MIN with `line` added to the function.
fn function_with(line: &str) -> String {
    MIN.replace("exec = \"100ms\"", &format!("exec = \"100ms\"\n{line}"))
}

/// MIN with the image's `size` replaced by `lines`.
fn image_with(lines: &str) -> String {
    MIN.replace("size = \"100MB\"", lines)
}

/// MIN with a `[section]` holding `lines` appended.
fn section(name: &str, lines: &str) -> String {
    format!("{MIN}\n[{name}]\n{lines}\n")
}

fn workload(lines: &str) -> String {
    format!("{MIN}\n[[workload]]\n{lines}\n")
}

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

// ---------------------------------------------------------------- examples

#[test]
fn every_example_scenario_loads() {
    let mut n = 0;
    for entry in std::fs::read_dir(examples_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
            n += 1;
        }
    }
    assert!(n >= 3, "expected the three examples, found {n}");
}

#[test]
fn the_quickstart_is_the_documented_fc_api() {
    let s = quickstart(&[]).unwrap();
    assert_eq!(s.simulation.name, "quickstart");
    assert_eq!(s.simulation.horizon, 86_400 * MICROS_PER_SECOND);
    assert_eq!((s.simulation.seed, s.simulation.replications), (42, 3));
    assert_eq!(s.simulation.bucket, 300 * MICROS_PER_SECOND);
    assert_eq!(s.platform.hosts, 50);
    assert_eq!(s.images.len(), 1);
    assert_eq!(s.images[0].layers.len(), 3);
    assert_eq!(s.images[0].uncompressed_bytes(), 1 << 30);
    assert_eq!(s.images[0].compressed_bytes(), 380 << 20);
    let f = &s.functions[0];
    assert_eq!((f.memory_mb, f.milli_vcpu, f.concurrency, f.max_instances), (1024, 1000, 10, 100));
    assert_eq!(f.reserved, Reserved::Fixed(2));
    assert_eq!(f.keep_alive, 60 * MICROS_PER_SECOND);
    match f.startup {
        Dist::LogNormal { mu, sigma } => {
            assert!((mu - 0.8f64.ln()).abs() < 1e-12);
            assert!((sigma - (3.0f64 / 0.8).ln() / 2.326_347_874_040_840_8).abs() < 1e-12);
        }
        ref d => panic!("{d:?}"),
    }
    assert!(matches!(
        s.workloads[0].arrivals,
        Arrivals::Diurnal { mean, peak_ratio, period, peak }
            if mean == 20.0 && peak_ratio == 4.0 && period == 86_400 * MICROS_PER_SECOND && peak == period / 2
    ));
}

#[test]
fn the_built_in_quickstart_is_the_file_in_scenarios() {
    let from_file = load(&examples_dir().join("quickstart.toml"), &[]).unwrap();
    assert_eq!(quickstart(&[]).unwrap(), from_file);
}

#[test]
fn the_simfaas_example_uses_cold_service_semantics() {
    let s = load(&examples_dir().join("simfaas-readme.toml"), &[]).unwrap();
    assert_eq!(s.simulation.horizon, 1_000_000 * MICROS_PER_SECOND);
    assert_eq!(s.platform.pick, Pick::Newest);
    assert_eq!(s.platform.keep_alive, 600 * MICROS_PER_SECOND);
    let f = &s.functions[0];
    assert_eq!(f.exec, Dist::Exp { mean: 1_991_000 });
    assert_eq!(f.cold_service, Some(Dist::Exp { mean: 2_244_000 }));
    assert_eq!(f.startup, Dist::Fixed(0));
    assert_eq!((f.concurrency, f.max_instances), (1, 1000));
    assert_eq!(s.workloads[0].arrivals, Arrivals::Poisson { rate: 0.9 });
}

#[test]
fn the_python_example_shares_its_base_layers_and_has_a_reserved_schedule() {
    let s = load(&examples_dir().join("fc-python-api.toml"), &[]).unwrap();
    let base: Vec<&str> = s.images[0].layers[..4].iter().map(|l| l.id.as_str()).collect();
    let other: Vec<&str> = s.images[1].layers[..4].iter().map(|l| l.id.as_str()).collect();
    assert_eq!(base, other);
    let base_bytes: u64 = s.images[0].layers[..4].iter().map(|l| l.compressed).sum();
    assert!((42 << 20..45 << 20).contains(&base_bytes), "{base_bytes}");
    let api = &s.functions[0];
    assert_eq!(
        api.reserved,
        Reserved::Daily(vec![
            ReservedStep { at: 8 * 3600 * MICROS_PER_SECOND, count: 4 },
            ReservedStep { at: 20 * 3600 * MICROS_PER_SECOND, count: 1 },
        ])
    );
    assert!(matches!(s.workloads[0].arrivals, Arrivals::Bursty { .. }));
}

// ---------------------------------------------------------------- defaults

#[test]
fn a_minimal_scenario_gets_every_default() {
    let s = ok(MIN);
    let sec = MICROS_PER_SECOND;
    assert_eq!(
        s.simulation,
        Simulation {
            name: "test".into(),
            horizon: 86_400 * sec,
            seed: 1,
            replications: 1,
            bucket: 60 * sec,
            warm_start: true,
            warmup: 0,
            start: None
        }
    );
    let p = &s.platform;
    assert_eq!(p.pricing, "fc3");
    assert_eq!(p.keep_alive, 60 * sec);
    assert_eq!(p.pick, Pick::Mru);
    assert_eq!(p.hosts, 400);
    assert_eq!(p.host_memory_mb, 128 * 1024);
    assert_eq!(p.cache_capacity, 200 << 30);
    assert_eq!(p.cache_ttl, 1800 * sec);
    assert_eq!(p.ready_timeout, 120 * sec);
    assert_eq!(p.container_create, Dist::Fixed(200_000));
    assert_eq!(
        p.pull,
        Pull {
            host_bandwidth: 625e6,
            registry_bandwidth: 2.5e9,
            layer_overhead: 21_000,
            manifest: 20_000,
            extract_rate: 150.0 * 1048576.0,
            extract_per_file: 250,
            extract_overhead: 64_000,
            parallel_layers: 3,
            mode: PullMode::Full,
            lazy: Lazy { index_fraction: 0.03, read_fraction: 0.065 },
            profile: None,
            distribution: crate::scenario::Distribution::Registry,
        }
    );
    let f = &s.functions[0];
    assert_eq!(f.image, 0);
    assert_eq!((f.memory_mb, f.milli_vcpu, f.disk_mb), (512, 250, 512));
    assert_eq!(f.gpu, None);
    assert_eq!((f.concurrency, f.max_instances, f.queue), (1, 100, 0));
    assert_eq!(f.reserved, Reserved::Fixed(0));
    assert_eq!((f.queue_timeout, f.timeout, f.keep_alive), (60 * sec, 60 * sec, 60 * sec));
    assert_eq!(f.cold_service, None);
    assert!(s.workloads.is_empty());
}

#[test]
fn a_size_image_is_split_evenly_with_the_remainder_on_the_first_layer() {
    let s = ok(&image_with("size = \"10B\"\nlayer_count = 3\nuncompressed_ratio = 2"));
    let l = &s.images[0].layers;
    assert_eq!(l.iter().map(|l| l.compressed).collect::<Vec<_>>(), [4, 3, 3]);
    assert_eq!(l.iter().map(|l| l.uncompressed).collect::<Vec<_>>(), [8, 6, 6]);
    assert_eq!(l.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(), ["api#0", "api#1", "api#2"]);
}

#[test]
fn a_size_image_defaults_to_one_layer_two_and_a_half_times_larger_uncompressed() {
    let s = ok(MIN);
    assert_eq!(s.images[0].layers.len(), 1);
    assert_eq!(s.images[0].uncompressed_bytes(), 250 << 20);
}

#[test]
fn the_default_vcpu_is_half_the_memory_in_gb_to_the_nearest_twentieth() {
    for (mem, milli) in [("128MB", 50), ("192MB", 100), ("512MB", 250), ("1GB", 500), ("3GB", 1500), ("32GB", 16000)] {
        let s = ok(&function_with(&format!("memory = \"{mem}\"")));
        assert_eq!(s.functions[0].milli_vcpu, milli, "{mem}");
    }
}

#[test]
fn a_function_keep_alive_defaults_to_the_platform_one() {
    let s = ok(&section("platform", "keep_alive = \"5m\""));
    assert_eq!(s.functions[0].keep_alive, 300 * MICROS_PER_SECOND);
}

#[test]
fn the_name_defaults_to_the_file_stem() {
    let s = parse_str(MIN, "dir/api-prod.toml", Path::new("."), &[]).unwrap();
    assert_eq!(s.simulation.name, "api-prod");
    let s = parse_str(MIN, "<stdin>", Path::new("."), &[]).unwrap();
    assert_eq!(s.simulation.name, "scenario");
    let s = parse_str(QUICKSTART, "quickstart (built-in)", Path::new("."), &[]).unwrap();
    assert_eq!(s.simulation.name, "quickstart");
}

// ---------------------------------------------------------------- syntax and keys

#[test]
fn malformed_toml_gives_the_parsers_message_and_line() {
    let e = parse("[simulation]\nhorizon = \"1d\"\nseed = = 3\n").unwrap_err();
    assert_eq!(e.line, Some(3), "{e}");
    assert_eq!(e.source, "test.toml");
    assert!(!e.message.is_empty() && !e.message.contains('\n'), "{e}");
}

#[test]
fn an_unknown_key_gets_a_did_you_mean_and_its_line() {
    let e = fails(
        &section("platform", "hots = 3"),
        "platform.hots",
        "unknown key `hots` in [platform]; did you mean `hosts`?",
    );
    assert!(e.message.contains("allowed: provider, pricing"), "{e}");
    assert_eq!(e.line, Some(MIN.lines().count() + 3), "{e}");
    assert!(e.to_string().starts_with(&format!("test.toml:{}: platform.hots: unknown key", MIN.lines().count() + 3)));
}

#[test]
fn an_unknown_key_in_a_function_is_found_by_the_functions_name() {
    let e = fails(&function_with("memroy = \"1GB\""), "function.api.memroy", "did you mean `memory`?");
    assert_eq!(e.line, Some(10));
}

#[test]
fn an_unknown_distribution_is_named_with_a_suggestion() {
    fails(
        &function_with("startup = { dist = \"lognorm\" }").replace("startup = \"1s\"\n", ""),
        "function.api.startup.dist",
        "did you mean `lognormal`?",
    );
}

#[test]
fn a_number_where_a_duration_is_expected_shows_the_string_form() {
    fails(&section("simulation", "horizon = 600"), "simulation.horizon", "e.g. \"600s\"");
}

#[test]
fn a_string_where_a_number_is_expected_says_to_drop_the_quotes() {
    fails(&section("simulation", "replications = \"3\""), "simulation.replications", "without quotes");
}

#[test]
fn a_single_bracket_function_table_says_to_double_the_brackets() {
    fails("[function]\nname = \"api\"\n", "function", "[[function]]");
}

// ---------------------------------------------------------------- simulation

#[test]
fn simulation_values_are_checked() {
    fails(&section("simulation", "horizon = \"0s\""), "simulation.horizon", "more than 0s");
    fails(&section("simulation", "horizon = \"600\""), "simulation.horizon", "needs a unit");
    fails(&section("simulation", "seed = -1"), "simulation.seed", "at least 0");
    fails(&section("simulation", "replications = 0"), "simulation.replications", "1..=1000");
    fails(&section("simulation", "replications = 1001"), "simulation.replications", "1..=1000");
    // a bucket longer than the horizon is cut to it
    let s = ok(&section("simulation", "horizon = \"1h\"\nbucket = \"2h\""));
    assert_eq!(s.simulation.bucket, 3600 * MICROS_PER_SECOND);
    fails(&section("simulation", "bucket = \"0s\""), "simulation.bucket", "more than 0s");
    fails(&section("simulation", "name = \"a/b\""), "simulation.name", "report folder");
    fails(&section("simulation", "name = 3"), "simulation.name", "is a string");
}

// ---------------------------------------------------------------- platform

#[test]
fn an_unknown_pricing_sheet_lists_the_built_ins() {
    let e = fails(&section("platform", "pricing = \"fc33\""), "platform.pricing", "did you mean `fc3`?");
    assert!(e.message.contains("fc3, fc3-usd, fc2, lambda"), "{e}");
}

#[test]
fn a_pricing_file_is_found_relative_to_the_scenario() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mine.toml"), crate::billing::sheet::BUILTIN[0].1).unwrap();
    let s = parse_str(&section("platform", "pricing = \"mine.toml\""), "x.toml", dir.path(), &[]).unwrap();
    assert_eq!(s.platform.pricing, dir.path().join("mine.toml").display().to_string());
    let s = parse_str(&section("platform", "pricing = \"lambda\""), "x.toml", dir.path(), &[]).unwrap();
    assert_eq!(s.platform.pricing, "lambda");
}

#[test]
fn a_pricing_file_given_with_set_is_not_looked_for_beside_the_scenario() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mine-beside-the-scenario.toml"), "").unwrap();
    let sets = ["platform.pricing=mine-beside-the-scenario.toml".to_string()];
    let e = parse_str(MIN, "x.toml", dir.path(), &sets).unwrap_err();
    assert_eq!((e.source.as_str(), e.path.as_str()), ("--set", "platform.pricing"));
    assert!(e.message.contains("relative to the current folder"), "{e}");
}

#[test]
fn platform_values_are_checked() {
    fails(&section("platform", "pick = \"newset\""), "platform.pick", "did you mean `newest`?");
    fails(&section("platform", "hosts = 0"), "platform.hosts", "out of range");
    fails(&section("platform", "keep_alive = 60"), "platform.keep_alive", "\"60s\"");
    fails(&section("platform", "host_memory = \"1.5KB\""), "platform.host_memory", "whole number of MB");
    fails(&section("platform", "ready_timeout = \"0s\""), "platform.ready_timeout", "more than 0s");
    fails(&section("platform", "cache_capacity = \"lots\""), "platform.cache_capacity", "does not start with a number");
    fails(&section("platform", "container_create = { dist = \"exp\" }"), "platform.container_create.mean", "missing");
}

#[test]
fn pull_values_are_checked() {
    fails(&section("platform.pull", "host_bandwidth = \"100MB/s\""), "platform.pull.host_bandwidth", "bits per second");
    fails(&section("platform.pull", "host_bandwidth = \"0Gbps\""), "platform.pull.host_bandwidth", "more than 0");
    fails(&section("platform.pull", "extract_rate = \"1Gbps\""), "platform.pull.extract_rate", "bits per second");
    fails(&section("platform.pull", "parallel_layers = 65"), "platform.pull.parallel_layers", "1..=64");
    fails(
        &section("platform.pull", "lazy = { index_fraction = 1.5 }"),
        "platform.pull.lazy.index_fraction",
        "from 0 to 1",
    );
    fails(
        &section("platform.pull", "lazy = { read_fraction = -0.1 }"),
        "platform.pull.lazy.read_fraction",
        "from 0 to 1",
    );
    fails(&section("platform.pull", "mode = \"stream\""), "platform.pull.mode", "full");
}

#[test]
fn the_platform_wide_acceleration_switch_says_what_replaced_it() {
    fails(
        &section("platform.pull", "acceleration = { enabled = true }"),
        "platform.pull.acceleration",
        "set `acceleration = true` on each [[image]]",
    );
}

#[test]
fn the_pull_mode_defaults_to_the_providers_and_can_be_set() {
    let s = ok(&section("platform", "provider = \"fc\""));
    assert_eq!(s.platform.pull.mode, PullMode::Full);
    assert_eq!(s.platform.pull.lazy, Lazy { index_fraction: 0.03, read_fraction: 0.065 });
    for lazy in ["lambda", "cloudrun"] {
        let s = ok(&section("platform", &format!("provider = \"{lazy}\"")));
        assert_eq!(s.platform.pull.mode, PullMode::Lazy, "{lazy}");
        let s = ok(&format!(
            "{}\n[platform.pull]\nmode = \"full\"\n",
            section("platform", &format!("provider = \"{lazy}\""))
        ));
        assert_eq!(s.platform.pull.mode, PullMode::Full, "{lazy}");
    }
    let s = ok(&section("platform.pull", "mode = \"lazy\"\nlazy = { index_fraction = 0, read_fraction = 1 }"));
    assert_eq!((s.platform.pull.mode, s.platform.pull.lazy.read_fraction), (PullMode::Lazy, 1.0));
}

#[test]
fn an_image_is_accelerated_from_when_its_copy_is_ready_on_providers_that_offer_it() {
    let accelerate = |extra: &str| image_with(&format!("size = \"100MB\"\n{extra}"));
    let s = ok(&accelerate("acceleration = true"));
    assert_eq!(s.images[0].accelerated_from, Some(0));
    let s = ok(&accelerate("acceleration = true\naccelerated_from = \"5m\""));
    assert_eq!(s.images[0].accelerated_from, Some(300 * MICROS_PER_SECOND));
    assert_eq!(ok(MIN).images[0].accelerated_from, None);
    fails(&accelerate("accelerated_from = \"5m\""), "image.api.accelerated_from", "goes with `acceleration = true`");
    fails(&accelerate("acceleration = \"yes\""), "image.api.acceleration", "true or false");
    // a provider without per-image acceleration accepts the key and pulls as it always does
    let text = format!("{}\n[platform]\nprovider = \"azure-flex\"\n", accelerate("acceleration = true"));
    assert_eq!(ok(&text).images[0].accelerated_from, None);
}

#[test]
fn distribution_is_the_registry_unless_p2p_is_asked_for_with_binary_trees_by_default() {
    use crate::scenario::Distribution;
    assert_eq!(ok(MIN).platform.pull.distribution, Distribution::Registry);
    let s = ok(&section("platform.pull", "distribution = \"p2p\""));
    assert_eq!(s.platform.pull.distribution, Distribution::P2p { fanout: 2 });
    let s = ok(&section("platform.pull", "distribution = \"p2p\"\np2p = { fanout = 3 }"));
    assert_eq!(s.platform.pull.distribution, Distribution::P2p { fanout: 3 });
    // the fanout of an unused p2p table is still checked, and ignored
    let s = ok(&section("platform.pull", "distribution = \"registry\"\np2p = { fanout = 3 }"));
    assert_eq!(s.platform.pull.distribution, Distribution::Registry);
}

#[test]
fn distribution_values_are_checked() {
    let e = fails(&section("platform.pull", "distribution = \"torrent\""), "platform.pull.distribution", "torrent");
    assert!(e.message.contains("registry") && e.message.contains("p2p"), "{e}");
    fails(
        &section("platform.pull", "distribution = \"p2p\"\np2p = { fanout = 0 }"),
        "platform.pull.p2p.fanout",
        "1..=64",
    );
    fails(&section("platform.pull", "p2p = { fanout = 65 }"), "platform.pull.p2p.fanout", "1..=64");
    fails(&section("platform.pull", "p2p = { fanout = \"2\" }"), "platform.pull.p2p.fanout", "without quotes");
    fails(&section("platform.pull", "p2p = { fanouts = 2 }"), "platform.pull.p2p.fanouts", "fanout");
}

#[test]
fn a_scenario_can_set_the_new_pull_keys() {
    let s = ok(&section("platform.pull", "manifest = \"15ms\"\nextract_per_file = \"0.3ms\""));
    assert_eq!((s.platform.pull.manifest, s.platform.pull.extract_per_file), (15_000, 300));
}

// ---------------------------------------------------------------- images

#[test]
fn image_rules_are_checked() {
    fails("[[image]]\nsize = \"1MB\"\n", "image[0].name", "`name` is missing");
    fails("[[image]]\nname = \"a.b\"\nsize = \"1MB\"\n", "image[0].name", "not usable");
    fails(&format!("{MIN}\n[[image]]\nname = \"api\"\nsize = \"1MB\"\n"), "image.api.name", "used twice");
    fails(
        &image_with("size = \"1MB\"\nlayers = [{ compressed = \"1MB\", uncompressed = \"2MB\" }]"),
        "image.api.size",
        "not both",
    );
    fails(&image_with(""), "image.api", "needs `layers");
    fails(&image_with("layers = []"), "image.api.layers", "at least one layer");
    fails(&image_with("layers = [{ compressed = \"1MB\" }]"), "image.api.layers[0].uncompressed", "missing");
    fails(
        &image_with("layers = [{ compressed = 1, uncompressed = \"2MB\" }]"),
        "image.api.layers[0].compressed",
        "\"1MB\"",
    );
    fails(
        &image_with("layers = [{ compressed = \"1MB\", uncompressed = \"2MB\", files = -1 }]"),
        "image.api.layers[0].files",
        "0..=1000000000",
    );
    // a count that times a per-file cost would overflow the model's arithmetic
    fails(
        &image_with("layers = [{ compressed = \"1MB\", uncompressed = \"2MB\", files = 4000000000000 }]"),
        "image.api.layers[0].files",
        "files 4000000000000 is out of range; allowed: 0..=1000000000",
    );
    fails(
        &image_with("layers = [{ compressed = \"1MB\", uncompressed = \"2MB\" }]\nlayer_count = 2"),
        "image.api.layer_count",
        "goes with `size`",
    );
    fails(&image_with("size = \"1MB\"\nlayer_count = 0"), "image.api.layer_count", "out of range");
    fails(&image_with("size = \"1MB\"\nuncompressed_ratio = 0"), "image.api.uncompressed_ratio", "more than 0");
    fails(
        &image_with("layers = [{ id = \"x\", compressed = \"1MB\", uncompressed = \"2MB\" }, { id = \"x\", compressed = \"1MB\", uncompressed = \"2MB\" }]"),
        "image.api.layers[1].id",
        "ids must differ",
    );
}

#[test]
fn explicit_layers_keep_their_sizes_files_and_default_ids() {
    let s = ok(&image_with("layers = [{ compressed = \"1MB\", uncompressed = \"0.5MB\", files = 7 }, { id = \"base\", compressed = \"0B\", uncompressed = \"0B\" }]"));
    let l = &s.images[0].layers;
    assert_eq!(l[0], Layer { id: "api#0".into(), compressed: 1 << 20, uncompressed: 1 << 19, files: 7 });
    assert_eq!(l[1].id, "base");
}

#[test]
fn a_layer_shared_by_two_images_must_have_the_same_sizes() {
    let two = |size: &str| {
        format!(
            "{MIN}\n[[image]]\nname = \"b\"\nlayers = [{{ id = \"api#0\", compressed = \"{size}\", uncompressed = \"250MB\" }}]\n"
        )
    };
    ok(&two("100MB"));
    let e = fails(&two("99MB"), "image.b.layers[0].id", "shared with image api");
    assert!(e.message.contains("compressed 100MB"), "{e}");
}

// ---------------------------------------------------------------- functions

#[test]
fn function_names_and_images_are_checked() {
    fails("[[function]]\nexec = \"1s\"\n", "function[0].name", "`name` is missing");
    fails(
        &format!("{MIN}\n[[function]]\nname = \"api\"\nstartup = \"1s\"\nexec = \"1s\"\n"),
        "function.api.name",
        "used twice",
    );
    let e =
        fails(&function_with("image = \"apx\""), "function.api.image", "no image named \"apx\"; did you mean `api`?");
    assert!(e.message.contains("images: api"), "{e}");
    fails(
        &MIN.replace("name = \"api\"\nstartup", "name = \"web\"\nstartup"),
        "function.web.image",
        "defaults to the function's name",
    );
    fails("[simulation]\n", "function", "no [[function]]");
}

#[test]
fn memory_follows_fc_limits() {
    fails(
        &function_with("memory = \"100MB\""),
        "function.api.memory",
        "memory 100MB is below the minimum 128MB (fc allows 128MB..32GB in 64MB steps)",
    );
    fails(&function_with("memory = \"33GB\""), "function.api.memory", "above the maximum 32GB");
    fails(&function_with("memory = \"1000MB\""), "function.api.memory", "not a multiple of 64MB");
    fails(&function_with("memory = \"1000MB\""), "function.api.memory", "nearest: 960MB or 1GB");
    fails(&function_with("memory = 1024"), "function.api.memory", "\"1024MB\"");
    let text = function_with("memory = \"2GB\"") + "\n[platform]\nhost_memory = \"1GB\"\n";
    fails(&text, "function.api.memory", "more than platform.host_memory 1GB");
}

#[test]
fn vcpu_follows_fc_steps_and_ratio() {
    let s = ok(&function_with("memory = \"2GB\"\nvcpu = 1.35"));
    assert_eq!(s.functions[0].milli_vcpu, 1350);
    let s = ok(&function_with("memory = \"2GB\"\nvcpu = 2"));
    assert_eq!(s.functions[0].milli_vcpu, 2000);
    fails(&function_with("vcpu = 0.33"), "function.api.vcpu", "not a multiple of 0.05");
    fails(&function_with("vcpu = 0"), "function.api.vcpu", "0.05..16");
    fails(&function_with("memory = \"32GB\"\nvcpu = 17"), "function.api.vcpu", "0.05..16");
    let e = fails(&function_with("memory = \"1GB\"\nvcpu = 2"), "function.api.vcpu", "between 1:1 and 1:4");
    assert!(e.message.contains("vcpu must be 0.25..1"), "{e}");
    fails(&function_with("memory = \"4GB\"\nvcpu = 0.5"), "function.api.vcpu", "between 1:1 and 1:4");
    fails(&function_with("vcpu = \"1\""), "function.api.vcpu", "without quotes");
}

#[test]
fn disk_is_one_of_fcs_two_sizes() {
    assert_eq!(ok(&function_with("disk = \"10GB\"")).functions[0].disk_mb, 10240);
    fails(&function_with("disk = \"1GB\""), "function.api.disk", "512MB or 10GB");
}

#[test]
fn gpu_memory_is_whole_gigabytes() {
    let s = ok(&function_with("gpu = { kind = \"ada\", memory = \"16GB\" }"));
    assert_eq!(s.functions[0].gpu, Some(Gpu { kind: "ada".into(), memory_mb: 16384, idle_mode: false }));
    fails(&function_with("gpu = { kind = \"ada\", memory = \"1.5GB\" }"), "function.api.gpu.memory", "multiple of 1GB");
    fails(&function_with("gpu = { memory = \"1GB\" }"), "function.api.gpu.kind", "missing");
}

#[test]
fn image_size_limits_depend_on_the_gpu() {
    let big = |size: &str, gpu: bool| {
        let text = image_with(&format!("size = \"{size}\"\nuncompressed_ratio = 1"));
        if gpu {
            text.replace("exec = \"100ms\"", "exec = \"100ms\"\ngpu = { kind = \"ada\", memory = \"16GB\" }")
        } else {
            text
        }
    };
    ok(&big("10GB", false));
    fails(&big("11GB", false), "function.api.image", "fc allows at most 10GB uncompressed for CPU functions");
    ok(&big("12GB", true));
    fails(&big("16GB", true), "function.api.image", "at most 15GB uncompressed for GPU functions");
}

#[test]
fn scaling_limits_are_checked() {
    fails(&function_with("concurrency = 0"), "function.api.concurrency", "fc allows 1..200");
    fails(&function_with("concurrency = 201"), "function.api.concurrency", "fc allows 1..200");
    fails(&function_with("max_instances = 0"), "function.api.max_instances", "out of range");
    fails(&function_with("max_instances = 2\nreserved = 3"), "function.api.reserved", "more than max_instances 2");
    fails(&function_with("queue = -1"), "function.api.queue", "out of range");
    fails(&function_with("timeout = \"0s\""), "function.api.timeout", "more than 0s");
    fails(&function_with("timeout = \"2d\""), "function.api.timeout", "fc's maximum execution time of 1d");
    fails(&function_with("reserved = 1.5"), "function.api.reserved", "whole number");
    fails(&function_with("reserved = \"two\""), "function.api.reserved", "daily schedule");
}

#[test]
fn a_reserved_schedule_is_sorted_by_time_of_day() {
    let s = ok(&function_with(
        "reserved = [{ at = \"20:00\", count = 1 }, { at = 08:00, count = 4 }, { at = \"12:30:15\", count = 2 }]",
    ));
    let h = 3600 * MICROS_PER_SECOND;
    assert_eq!(
        s.functions[0].reserved,
        Reserved::Daily(vec![
            ReservedStep { at: 8 * h, count: 4 },
            ReservedStep { at: 12 * h + 30 * 60 * MICROS_PER_SECOND + 15 * MICROS_PER_SECOND, count: 2 },
            ReservedStep { at: 20 * h, count: 1 },
        ])
    );
}

#[test]
fn reserved_schedule_steps_are_checked() {
    fails(&function_with("reserved = []"), "function.api.reserved", "empty");
    fails(&function_with("reserved = [{ at = \"8am\", count = 1 }]"), "function.api.reserved[0].at", "HH:MM");
    fails(&function_with("reserved = [{ at = \"25:00\", count = 1 }]"), "function.api.reserved[0].at", "out of range");
    fails(&function_with("reserved = [{ at = \"08:00\" }]"), "function.api.reserved[0].count", "missing");
    fails(
        &function_with("reserved = [{ at = \"08:00\", count = 1 }, { at = \"08:00\", count = 2 }]"),
        "function.api.reserved[1].at",
        "both at 08:00",
    );
    fails(
        &function_with("max_instances = 3\nreserved = [{ at = \"08:00\", count = 4 }]"),
        "function.api.reserved",
        "reserved 4 is more than max_instances 3",
    );
}

#[test]
fn startup_and_exec_are_required_unless_cold_service_stands_in() {
    fails(&MIN.replace("startup = \"1s\"\n", ""), "function.api.startup", "`startup` is missing");
    fails(&MIN.replace("exec = \"100ms\"", ""), "function.api.exec", "`exec` is missing");
    let s = ok(&MIN.replace("startup = \"1s\"", "cold_service = \"2s\""));
    assert_eq!(s.functions[0].startup, Dist::Fixed(0));
    assert_eq!(s.functions[0].cold_service, Some(Dist::Fixed(2_000_000)));
}

// ---------------------------------------------------------------- distributions

fn exec_dist(spec: &str) -> Result<Dist, InputError> {
    parse(&MIN.replace("exec = \"100ms\"", &format!("exec = {spec}"))).map(|s| s.functions[0].exec.clone())
}

#[test]
fn every_distribution_kind_converts_to_microseconds() {
    assert_eq!(exec_dist("\"200ms\"").unwrap(), Dist::Fixed(200_000));
    assert_eq!(exec_dist("{ dist = \"fixed\", value = \"1s\" }").unwrap(), Dist::Fixed(1_000_000));
    assert_eq!(exec_dist("{ dist = \"exp\", mean = \"2.244s\" }").unwrap(), Dist::Exp { mean: 2_244_000 });
    assert_eq!(
        exec_dist("{ dist = \"lognormal\", mu = -1, sigma = 0.5 }").unwrap(),
        Dist::LogNormal { mu: -1.0, sigma: 0.5 }
    );
    assert_eq!(
        exec_dist("{ dist = \"gamma\", shape = 2, scale = \"1s\" }").unwrap(),
        Dist::Gamma { shape: 2.0, scale: 1e6 }
    );
    assert_eq!(
        exec_dist("{ dist = \"gamma\", shape = 4, mean = \"2s\" }").unwrap(),
        Dist::Gamma { shape: 4.0, scale: 5e5 }
    );
    assert_eq!(
        exec_dist("{ dist = \"weibull\", shape = 1.5, scale = \"1s\" }").unwrap(),
        Dist::Weibull { shape: 1.5, scale: 1e6 }
    );
    assert_eq!(
        exec_dist("{ dist = \"pareto\", shape = 2.5, scale = \"100ms\" }").unwrap(),
        Dist::Pareto { shape: 2.5, scale: 1e5 }
    );
    assert_eq!(
        exec_dist("{ dist = \"empirical\", percentiles = [0, 50, 100], values = [\"10ms\", \"50ms\", \"2s\"] }")
            .unwrap(),
        Dist::Empirical { points: vec![(0.0, 1e4), (50.0, 5e4), (100.0, 2e6)] }
    );
}

#[test]
fn a_lognormal_from_median_and_p99_has_the_right_parameters() {
    let Dist::LogNormal { mu, sigma } = exec_dist("{ dist = \"lognormal\", median = \"1s\", p99 = \"2s\" }").unwrap()
    else {
        panic!()
    };
    assert_eq!(mu, 0.0);
    assert!((sigma - 2f64.ln() / 2.326_347_874_040_840_8).abs() < 1e-15);
}

#[test]
fn distribution_parameters_are_checked() {
    let at = |spec: &str, path: &str, fragment: &str| {
        fails(&MIN.replace("exec = \"100ms\"", &format!("exec = {spec}")), path, fragment);
    };
    at("200", "function.api.exec", "duration string such as \"200ms\"");
    at("{ dist = \"exp\", mean = \"0s\" }", "function.api.exec.mean", "more than 0s");
    at("{ dist = \"lognormal\", median = \"1s\", p99 = \"1s\" }", "function.api.exec.p99", "more than the median 1s");
    at("{ dist = \"lognormal\", median = \"1s\", sigma = 1 }", "function.api.exec", "not both");
    at("{ dist = \"lognormal\", median = \"1s\" }", "function.api.exec.p99", "missing");
    at("{ dist = \"lognormal\", mu = 0, sigma = -1 }", "function.api.exec.sigma", "negative");
    at("{ dist = \"gamma\", mean = \"1s\" }", "function.api.exec.shape", "missing");
    at("{ dist = \"gamma\", shape = 0, mean = \"1s\" }", "function.api.exec.shape", "more than 0");
    at("{ dist = \"gamma\", shape = 1, mean = \"1s\", scale = \"1s\" }", "function.api.exec", "not both");
    at("{ dist = \"weibull\", shape = 1 }", "function.api.exec.scale", "missing");
    at("{ dist = \"pareto\", shape = 1, scale = \"0s\" }", "function.api.exec.scale", "more than 0s");
    at(
        "{ dist = \"empirical\", percentiles = [10, 100], values = [\"1s\", \"2s\"] }",
        "function.api.exec.percentiles[0]",
        "start at 0",
    );
    at(
        "{ dist = \"empirical\", percentiles = [0, 90], values = [\"1s\", \"2s\"] }",
        "function.api.exec.percentiles[1]",
        "end at 100",
    );
    at(
        "{ dist = \"empirical\", percentiles = [0, 50, 50, 100], values = [\"1s\", \"2s\", \"2s\", \"3s\"] }",
        "function.api.exec.percentiles[2]",
        "strictly increasing",
    );
    at(
        "{ dist = \"empirical\", percentiles = [0, 100], values = [\"2s\", \"1s\"] }",
        "function.api.exec.values[1]",
        "must not decrease",
    );
    at(
        "{ dist = \"empirical\", percentiles = [0, 100], values = [\"1s\"] }",
        "function.api.exec.values",
        "one value per percentile",
    );
    at(
        "{ dist = \"empirical\", percentiles = [0, 100], values = [\"1s\", 2] }",
        "function.api.exec.values[1]",
        "\"2s\"",
    );
    at("{ dist = \"exp\", mean = \"1s\", median = \"1s\" }", "function.api.exec.median", "for dist \"exp\"");
}

// ---------------------------------------------------------------- workloads

#[test]
fn every_arrival_kind_converts_to_per_second_rates() {
    let arr = |spec: &str| ok(&workload(&format!("arrivals = {spec}"))).workloads[0].arrivals.clone();
    assert_eq!(arr("{ kind = \"poisson\", rate = \"3/m\" }"), Arrivals::Poisson { rate: 0.05 });
    let d = MICROS_PER_SECOND * 86_400;
    assert_eq!(
        arr("{ kind = \"diurnal\", mean = \"40/s\" }"),
        Arrivals::Diurnal { mean: 40.0, peak_ratio: 4.0, period: d, peak: d / 2 }
    );
    assert_eq!(
        arr("{ kind = \"diurnal\", mean = \"40/s\", peak_ratio = 2.5, period = \"12h\", phase = \"1h\" }"),
        Arrivals::Diurnal { mean: 40.0, peak_ratio: 2.5, period: d / 2, peak: d / 24 }
    );
    assert_eq!(
        arr("{ kind = \"bursty\", on_rate = \"200/s\", off_rate = \"1/s\", mean_on = \"2m\", mean_off = \"20m\" }"),
        Arrivals::Bursty {
            on_rate: 200.0,
            off_rate: 1.0,
            mean_on: 120 * MICROS_PER_SECOND,
            mean_off: 1200 * MICROS_PER_SECOND
        }
    );
    assert_eq!(
        arr("{ kind = \"constant\", interval = \"10s\" }"),
        Arrivals::Constant { interval: 10 * MICROS_PER_SECOND }
    );
}

#[test]
fn a_workload_names_its_function_unless_there_is_only_one() {
    let s = ok(&workload("arrivals = { kind = \"poisson\", rate = \"1/s\" }"));
    assert_eq!(s.workloads[0].function, 0);
    let two = format!("{MIN}\n[[function]]\nname = \"b\"\nimage = \"api\"\nstartup = \"1s\"\nexec = \"1s\"\n[[workload]]\narrivals = {{ kind = \"poisson\", rate = \"1/s\" }}\n");
    let e = fails(&two, "workload[0].function", "2 functions (api, b)");
    assert!(e.message.contains("say which"), "{e}");
    let s = ok(&two.replace("[[workload]]", "[[workload]]\nfunction = \"b\""));
    assert_eq!(s.workloads[0].function, 1);
    fails(
        &workload("function = \"apj\"\narrivals = { kind = \"poisson\", rate = \"1/s\" }"),
        "workload[0].function",
        "did you mean `api`?",
    );
}

#[test]
fn the_workload_window_defaults_to_the_horizon_and_is_clamped_to_it() {
    let s = ok(&workload("arrivals = { kind = \"poisson\", rate = \"1/s\" }\nfrom = \"1h\"\nuntil = \"9d\""));
    assert_eq!((s.workloads[0].from, s.workloads[0].until), (3600 * MICROS_PER_SECOND, 86_400 * MICROS_PER_SECOND));
    // a window past the horizon (e.g. after `--set simulation.horizon=...`) is just empty
    let s = ok(&workload("arrivals = { kind = \"poisson\", rate = \"1/s\" }\nfrom = \"2d\""));
    assert!(s.workloads[0].until <= s.workloads[0].from);
    // a window empty by its own bounds is a mistake
    fails(
        &workload("arrivals = { kind = \"poisson\", rate = \"1/s\" }\nuntil = \"0s\""),
        "workload[0].until",
        "not after from 0s",
    );
    fails(
        &workload("arrivals = { kind = \"poisson\", rate = \"1/s\" }\nfrom = \"2h\"\nuntil = \"1h\""),
        "workload[0].until",
        "not after from 2h",
    );
}

#[test]
fn arrival_parameters_are_checked() {
    let at = |spec: &str, path: &str, fragment: &str| {
        fails(&workload(&format!("arrivals = {spec}")), path, fragment);
    };
    at("{ kind = \"poisson\" }", "workload[0].arrivals.rate", "`rate` is missing");
    at("{ kind = \"poisson\", rate = 5 }", "workload[0].arrivals.rate", "\"5/s\"");
    at("{ kind = \"poisson\", rate = \"0/s\" }", "workload[0].arrivals.rate", "more than 0/s");
    at("{ kind = \"poisson\", rate = \"5\" }", "workload[0].arrivals.rate", "needs a unit, e.g. \"50/s\"");
    at("{ kind = \"diurnal\", mean = \"1/s\", peak_ratio = 0.5 }", "workload[0].arrivals.peak_ratio", "at least 1");
    at(
        "{ kind = \"bursty\", on_rate = \"1/s\", off_rate = \"1/s\", mean_on = \"1m\" }",
        "workload[0].arrivals.mean_off",
        "missing",
    );
    at("{ kind = \"constant\", interval = \"0s\" }", "workload[0].arrivals.interval", "more than 0s");
    at("{ kind = \"poison\", rate = \"1/s\" }", "workload[0].arrivals.kind", "did you mean `poisson`?");
    at("{ rate = \"1/s\" }", "workload[0].arrivals.kind", "needs `kind");
    at("\"poisson\"", "workload[0].arrivals", "must be a table");
    fails(&workload("function = \"api\""), "workload[0].arrivals", "`arrivals` is missing");
}

// ---------------------------------------------------------------- --set

#[test]
fn set_changes_existing_and_absent_but_valid_keys() {
    let s = parse_set(MIN, &["simulation.horizon=7d", "platform.pricing=lambda", "platform.pull.parallel_layers=6"])
        .unwrap();
    assert_eq!(s.simulation.horizon, 7 * 86_400 * MICROS_PER_SECOND);
    assert_eq!(s.platform.pricing, "lambda");
    assert_eq!(s.platform.pull.parallel_layers, 6);
}

#[test]
fn set_selects_functions_and_images_by_name_or_index() {
    let s = parse_set(
        MIN,
        &["function.api.reserved=3", "function.0.memory=1GB", "image.api.size=1GB", "image.0.layer_count=4"],
    )
    .unwrap();
    assert_eq!(s.functions[0].reserved, Reserved::Fixed(3));
    assert_eq!(s.functions[0].memory_mb, 1024);
    assert_eq!(s.images[0].layers.len(), 4);
    assert_eq!(s.images[0].compressed_bytes(), 1 << 30);
}

#[test]
fn set_selects_workloads_by_index_and_takes_toml_values() {
    let text = workload("arrivals = { kind = \"poisson\", rate = \"1/s\" }");
    let s = parse_set(&text, &["workload.0.arrivals.rate=5/s"]).unwrap();
    assert_eq!(s.workloads[0].arrivals, Arrivals::Poisson { rate: 5.0 });
    let s = parse_set(&text, &["workload.0.arrivals={ kind = \"constant\", interval = \"2s\" }"]).unwrap();
    assert_eq!(s.workloads[0].arrivals, Arrivals::Constant { interval: 2 * MICROS_PER_SECOND });
    let s = parse_set(MIN, &["function.api.reserved=[{ at = \"08:00\", count = 1 }]"]).unwrap();
    assert!(matches!(s.functions[0].reserved, Reserved::Daily(_)));
}

#[test]
fn set_works_on_the_built_in_quickstart() {
    let s = quickstart(&["function.api.reserved=0".into(), "simulation.replications=1".into()]).unwrap();
    assert_eq!(s.functions[0].reserved, Reserved::Fixed(0));
    assert_eq!(s.simulation.replications, 1);
}

#[test]
fn set_errors_come_from_set() {
    let cases: &[(&str, &str, &str)] = &[
        ("simulation.horizon", "", "has no `=`"),
        ("platform.hots=3", "platform.hots", "did you mean `hosts`?"),
        ("simulaton.horizon=1d", "simulaton", "unknown section"),
        ("function.apx.memory=1GB", "function.apx", "the file has: api"),
        ("function.1.memory=1GB", "function[1]", "index 1 is out of range"),
        ("workload.0.from=0s", "workload", "no [[workload]]"),
    ];
    for (set, path, fragment) in cases {
        let e = parse_set(MIN, &[set]).unwrap_err();
        assert_eq!(e.source, "--set", "{e}");
        assert_eq!(&e.path, path, "{e}");
        assert!(e.message.contains(fragment), "{set}: {e}");
    }
}

#[test]
fn a_bad_value_given_by_set_is_blamed_on_set() {
    let e = parse_set(MIN, &["function.api.memory=100MB"]).unwrap_err();
    assert_eq!((e.source.as_str(), e.path.as_str(), e.line), ("--set", "function.api.memory", None));
    assert!(e.message.contains("below the minimum 128MB"), "{e}");
    let e = parse_set(MIN, &["simulation.name=2024"]).unwrap_err();
    assert!(e.message.contains("quote it"), "{e}");
    let e = parse_set(MIN, &["function.api.exec={ dist = \"exp\", median = \"1s\" }"]).unwrap_err();
    assert_eq!((e.source.as_str(), e.path.as_str()), ("--set", "function.api.exec.median"));
}

// ---------------------------------------------------------------- profiles

fn with_profile(profile: &str, sets: &[&str]) -> (tempfile::TempDir, Result<Scenario, InputError>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("local.toml"), profile).unwrap();
    let text =
        section("platform.pull", "host_bandwidth = \"1Gbps\"\nlayer_overhead = \"50ms\"\nprofile = \"local.toml\"");
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let r = parse_str(&text, "s.toml", dir.path(), &sets);
    (dir, r)
}

#[test]
fn a_profile_overrides_the_scenarios_pull_values() {
    let (dir, r) = with_profile(
        "container_create = \"90ms\"\n\n[pull]\nhost_bandwidth = \"800Mbps\"\nextract_rate = \"200MB/s\"\n",
        &[],
    );
    let s = r.unwrap();
    assert_eq!(s.platform.pull.host_bandwidth, 1e8);
    assert_eq!(s.platform.pull.extract_rate, 200.0 * 1048576.0);
    assert_eq!(s.platform.pull.layer_overhead, 50_000);
    assert_eq!(s.platform.container_create, Dist::Fixed(90_000));
    assert_eq!(s.platform.pull.profile, Some(dir.path().join("local.toml").display().to_string()));
}

#[test]
fn set_overrides_a_profile() {
    let (_dir, r) = with_profile("[pull]\nhost_bandwidth = \"800Mbps\"\n", &["platform.pull.host_bandwidth=2Gbps"]);
    assert_eq!(r.unwrap().platform.pull.host_bandwidth, 2.5e8);
}

#[test]
fn profile_errors_name_the_profile_file_and_line() {
    let (dir, r) = with_profile("# measured\n[pull]\nhost_bandwidth = \"fast\"\n", &[]);
    let e = r.unwrap_err();
    assert_eq!(e.source, dir.path().join("local.toml").display().to_string());
    assert_eq!((e.path.as_str(), e.line), ("pull.host_bandwidth", Some(3)));
    let (_dir, r) = with_profile("[pull]\nmode = \"lazy\"\n", &[]);
    let e = r.unwrap_err();
    assert!(e.source.ends_with("local.toml") && e.message.contains("unknown key `mode`"), "{e}");
    let (_dir, r) = with_profile("[pull\n", &[]);
    assert_eq!(r.unwrap_err().line, Some(1));
}

#[test]
fn a_missing_profile_is_an_error_at_its_key() {
    let text = section("platform.pull", "profile = \"nope.toml\"");
    let e = parse(&text).unwrap_err();
    assert_eq!(e.path, "platform.pull.profile");
    assert!(e.message.contains("coldcost calibrate"), "{e}");
}

#[test]
fn a_missing_scenario_file_is_an_input_error() {
    let e = load(Path::new("/nonexistent/x.toml"), &[]).unwrap_err();
    assert_eq!(e.source, "/nonexistent/x.toml");
    assert!(e.message.contains("cannot read"), "{e}");
}

// ---------------------------------------------------------------- never panic

/// Small edits of quickstart.toml: (position, kind, text).
fn mutate(base: &str, edits: &[(usize, u8, String)]) -> String {
    let mut s: Vec<char> = base.chars().collect();
    for (pos, kind, text) in edits {
        if s.is_empty() {
            break;
        }
        let p = pos % s.len();
        match kind % 3 {
            0 => {
                s.remove(p);
            }
            1 => {
                for (i, c) in text.chars().enumerate() {
                    s.insert(p + i, c);
                }
            }
            _ => {
                let end = (p + text.len()).min(s.len());
                s.splice(p..end, text.chars());
            }
        }
    }
    s.into_iter().collect()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 300, ..Default::default() })]

    #[test]
    fn parsing_never_panics_on_arbitrary_text(text in "\\PC{0,200}") {
        let _ = parse(&text);
    }

    #[test]
    fn parsing_never_panics_on_mutations_of_the_quickstart(
        edits in proptest::collection::vec(
            (0usize..10_000, 0u8..3, "[-0-9a-z_.=\"\\[\\]{}, \n/:]{0,6}"),
            1..6,
        )
    ) {
        let _ = parse(&mutate(QUICKSTART, &edits));
    }

    #[test]
    fn set_never_panics(key in "[a-z_.0-9\\[\\]]{0,30}", value in "\\PC{0,20}") {
        let _ = quickstart(&[format!("{key}={value}")]);
    }

    #[test]
    fn numbers_anywhere_in_the_quickstart_never_panic(
        key in proptest::sample::select(vec![
            "simulation.horizon", "simulation.seed", "simulation.replications", "simulation.bucket",
            "platform.hosts", "platform.host_memory", "platform.pull.parallel_layers",
            "platform.pull.lazy.read_fraction", "function.api.memory", "function.api.vcpu",
            "function.api.concurrency", "function.api.max_instances", "function.api.reserved",
            "function.api.startup.median", "function.api.startup.p99", "image.api.layers.0.compressed",
            "workload.0.arrivals.mean", "workload.0.arrivals.peak_ratio", "workload.0.from",
        ]),
        value in proptest::prop_oneof![
            proptest::num::i64::ANY.prop_map(|n| n.to_string()),
            proptest::num::f64::ANY.prop_map(|f| f.to_string()),
            "[0-9]{1,25}(\\.[0-9]{0,25})?(us|ms|s|m|h|d|B|KB|MB|GB|TB|/s|Gbps)?",
            proptest::strategy::Just("inf".to_string()),
            proptest::strategy::Just("nan".to_string()),
            proptest::strategy::Just("-inf".to_string()),
        ],
    ) {
        let _ = quickstart(&[format!("{key}={value}")]);
    }
}

use proptest::strategy::Strategy as _;

// ---------------------------------------------------------------- provider limits
// One test per limit rule of each built-in provider: a configuration it accepts, one it
// refuses, and the refusal naming the provider's rule.

/// MIN on `provider` with `line` added to the function.
fn on(provider: &str, line: &str) -> String {
    format!("{}\n[platform]\nprovider = \"{provider}\"\n", function_with(line))
}

#[test]
fn the_provider_defaults_to_fc_and_sets_the_default_sheet_keep_alive_and_start_limit() {
    let s = ok(MIN);
    assert_eq!((s.platform.provider.name.as_str(), s.platform.pricing.as_str()), ("fc", "fc3"));
    assert_eq!((s.platform.keep_alive, s.platform.ready_timeout), (60 * MICROS_PER_SECOND, 120 * MICROS_PER_SECOND));
    let s = ok(&on("lambda", ""));
    assert_eq!((s.platform.pricing.as_str(), s.platform.ready_timeout), ("lambda", 10 * MICROS_PER_SECOND));
    assert_eq!(s.platform.keep_alive, 600 * MICROS_PER_SECOND);
    let s = ok(&on("cloudrun", ""));
    assert_eq!((s.platform.pricing.as_str(), s.platform.keep_alive), ("cloudrun", 900 * MICROS_PER_SECOND));
    assert_eq!(ok(&on("azure-flex", "memory = \"2GB\"")).platform.pricing, "azure-flex");
    // platform.pricing, keep_alive and ready_timeout still override the provider's
    let s = ok(&format!("{MIN}\n[platform]\nprovider = \"lambda\"\npricing = \"fc3\"\nkeep_alive = \"1s\"\n"));
    assert_eq!((s.platform.pricing.as_str(), s.platform.keep_alive), ("fc3", MICROS_PER_SECOND));
    fails(&on("lamda", ""), "platform.provider", "did you mean `lambda`?");
}

#[test]
fn lambda_memory_is_128_to_10240_mb_in_1_mb_steps() {
    assert_eq!(ok(&on("lambda", "memory = \"1000MB\"")).functions[0].memory_mb, 1000);
    assert_eq!(ok(&on("lambda", "memory = \"10240MB\"")).functions[0].memory_mb, 10240);
    fails(
        &on("lambda", "memory = \"32GB\""),
        "function.api.memory",
        "above the maximum 10GB (lambda allows 128MB..10GB in 1MB steps)",
    );
    fails(&on("lambda", "memory = \"100MB\""), "function.api.memory", "below the minimum 128MB (lambda");
    // the same 1000MB is refused on FC: 64 MB steps
    fails(&on("fc", "memory = \"1000MB\""), "function.api.memory", "not a multiple of 64MB (fc allows");
}

#[test]
fn lambda_runs_one_request_per_environment() {
    ok(&on("lambda", "concurrency = 1"));
    fails(&on("lambda", "concurrency = 50"), "function.api.concurrency", "lambda allows one request per instance");
    ok(&on("fc", "concurrency = 50"));
}

#[test]
fn lambda_vcpu_follows_memory_and_cannot_be_set() {
    assert_eq!(ok(&on("lambda", "memory = \"1769MB\"")).functions[0].milli_vcpu, 1000);
    fails(
        &on("lambda", "vcpu = 1"),
        "function.api.vcpu",
        "cannot be set on lambda: vCPU follows memory (1769 MB per vCPU)",
    );
}

#[test]
fn lambda_timeout_is_at_most_15_minutes_and_disk_512mb_to_10gb() {
    ok(&on("lambda", "timeout = \"15m\""));
    fails(&on("lambda", "timeout = \"16m\""), "function.api.timeout", "lambda's maximum execution time of 15m");
    assert_eq!(ok(&on("lambda", "disk = \"2000MB\"")).functions[0].disk_mb, 2000);
    fails(&on("lambda", "disk = \"11GB\""), "function.api.disk", "lambda allows 512MB..10GB in 1MB steps");
}

#[test]
fn lambda_and_cloudrun_and_azure_offer_no_gpus() {
    for p in ["lambda", "cloudrun", "azure-flex"] {
        let e = fails(
            &on(p, "gpu = { kind = \"ada\", memory = \"16GB\" }"),
            "function.api.gpu.kind",
            "offers no GPU functions",
        );
        assert!(e.message.starts_with(p), "{e}");
    }
}

#[test]
fn fc_gpu_kinds_are_its_cards() {
    ok(&on("fc", "gpu = { kind = \"tesla\", memory = \"16GB\" }"));
    fails(&on("fc", "gpu = { kind = \"h100\", memory = \"16GB\" }"), "function.api.gpu.kind", "fc offers tesla, ada");
}

#[test]
fn azure_flex_memory_is_512_2048_or_4096_mb() {
    for m in ["512MB", "2048MB", "4096MB"] {
        ok(&on("azure-flex", &format!("memory = \"{m}\"")));
    }
    fails(&on("azure-flex", "memory = \"1GB\""), "function.api.memory", "azure-flex allows only 512MB, 2GB or 4GB");
    fails(&on("azure-flex", "memory = \"2GB\"\nvcpu = 1"), "function.api.vcpu", "cannot be set on azure-flex");
    fails(
        &on("azure-flex", "memory = \"2GB\"\ndisk = \"10GB\""),
        "function.api.disk",
        "azure-flex: it has no disk setting",
    );
}

#[test]
fn cloudrun_memory_and_cpu_go_in_pairs() {
    // 1 vCPU by default; more memory needs more vCPU
    assert_eq!(ok(&on("cloudrun", "memory = \"4GB\"")).functions[0].milli_vcpu, 1000);
    assert_eq!(ok(&on("cloudrun", "memory = \"6GB\"")).functions[0].milli_vcpu, 2000);
    ok(&on("cloudrun", "memory = \"16GB\"\nvcpu = 4"));
    fails(
        &on("cloudrun", "memory = \"6GB\"\nvcpu = 1"),
        "function.api.vcpu",
        "memory 6GB with 1 vCPU is not a pair cloudrun offers: with up to 1 vCPU memory must be 128MB..4GB",
    );
    fails(
        &on("cloudrun", "memory = \"1GB\"\nvcpu = 4"),
        "function.api.vcpu",
        "with up to 4 vCPU memory must be 2GB..16GB",
    );
    fails(
        &on("cloudrun", "vcpu = 3"),
        "function.api.vcpu",
        "vcpu 3 is not offered (cloudrun allows 0.08..1 vCPU in 0.01 steps (concurrency 1 only) or 1, 2, 4, 6, 8 vCPU)",
    );
}

#[test]
fn cloudrun_fractional_vcpu_needs_concurrency_1() {
    assert_eq!(ok(&on("cloudrun", "vcpu = 0.5")).functions[0].milli_vcpu, 500);
    fails(
        &on("cloudrun", "vcpu = 0.5\nconcurrency = 80"),
        "function.api.vcpu",
        "cloudrun allows fractional vCPU only with concurrency 1",
    );
    ok(&on("cloudrun", "concurrency = 1000"));
    fails(&on("cloudrun", "concurrency = 1001"), "function.api.concurrency", "cloudrun allows 1..1000");
}

#[test]
fn fc_vcpu_gb_ratio_applies_on_fc_whatever_the_sheet() {
    // today's rule applied the ratio only under fc* sheets; now it is FC's rule, on FC
    let text =
        on("fc", "memory = \"1GB\"\nvcpu = 2").replace("provider = \"fc\"", "provider = \"fc\"\npricing = \"lambda\"");
    fails(&text, "function.api.vcpu", "fc requires between 1:1 and 1:4");
}

#[test]
fn a_provider_profile_of_your_own_is_read_from_a_file() {
    let dir = std::env::temp_dir().join(format!("coldcost-provider-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = crate::provider::BUILTIN[1]
        .1
        .replace("max = 1\n", "max = 10\n")
        .replace("name = \"lambda\"", "name = \"lambda-10\"");
    std::fs::write(dir.join("mine.toml"), text).unwrap();
    let scen = function_with("concurrency = 10") + "\n[platform]\nprovider = \"mine.toml\"\n";
    let s = parse_str(&scen, "test.toml", &dir, &[]).unwrap();
    assert_eq!((s.platform.provider.name.as_str(), s.functions[0].concurrency), ("lambda-10", 10));
    std::fs::write(
        dir.join("bad.toml"),
        crate::provider::BUILTIN[1].1.replace("rule = \"memory\"", "rule = \"cores\""),
    )
    .unwrap();
    let scen = MIN.to_string() + "\n[platform]\nprovider = \"bad.toml\"\n";
    let e = parse_str(&scen, "test.toml", &dir, &[]).unwrap_err();
    assert_eq!(e.path, "vcpu.rule", "{e}");
    assert!(
        e.source.ends_with("bad.toml") && e.line.is_some() && e.message.contains("allowed: ratio, memory, pairs"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn warm_start_and_warmup_are_read_and_a_warmup_must_leave_time() {
    let s = ok(&section("simulation", "warm_start = false\nwarmup = \"10m\""));
    assert!(!s.simulation.warm_start);
    assert_eq!(s.simulation.warmup, 600 * MICROS_PER_SECOND);
    fails(
        &section("simulation", "horizon = \"1h\"\nwarmup = \"1h\""),
        "simulation.warmup",
        "not shorter than the horizon",
    );
    fails(&section("simulation", "warm_start = 3"), "simulation.warm_start", "");
}

#[test]
fn cpu_use_defaults_to_no_cpu_work_measured_at_the_functions_own_vcpu() {
    let f = &ok(MIN).functions[0];
    assert_eq!(f.cpu, CpuUse::none(f.milli_vcpu));
    let f = &ok(&function_with("cpu_fraction = 0.3\nthreads = 2\nexec_vcpu = 0.5")).functions[0];
    assert_eq!(f.cpu, CpuUse { fraction: 0.3, threads: 2, exec_milli_vcpu: 500 });
}

#[test]
fn cpu_use_keys_are_checked() {
    fails(&function_with("cpu_fraction = 1.5"), "function.api.cpu_fraction", "allowed: 0..=1");
    fails(&function_with("cpu_fraction = -0.1"), "function.api.cpu_fraction", "allowed: 0..=1");
    fails(&function_with("cpu_fraction = \"half\""), "function.api.cpu_fraction", "is a number");
    fails(&function_with("threads = 0"), "function.api.threads", "allowed: 1..=256");
    fails(&function_with("threads = 1.5"), "function.api.threads", "whole number");
    fails(&function_with("exec_vcpu = 0"), "function.api.exec_vcpu", "allowed: 0.001..=256");
    fails(&function_with("exec_vcpu = 0.0001"), "function.api.exec_vcpu", "allowed: 0.001..=256");
    fails(&function_with("cpu_fractoin = 0.5"), "function.api.cpu_fractoin", "cpu_fraction");
}

#[test]
fn lambda_memory_moves_the_vcpu_that_cpu_work_runs_on() {
    // vCPU follows memory on Lambda (1,769 MB = 1 vCPU); exec measured at 1 vCPU stays there
    let text = format!("{}\n[platform]\nprovider = \"lambda\"\n", function_with("cpu_fraction = 0.5\nexec_vcpu = 1"));
    let s = parse_set(&text, &["function.api.memory=3538MB"]).unwrap();
    assert_eq!((s.functions[0].milli_vcpu, s.functions[0].cpu.exec_milli_vcpu), (2000, 1000));
    let s = parse_set(&text, &["function.api.cpu_fraction=0.8", "function.api.threads=4"]).unwrap();
    assert_eq!((s.functions[0].cpu.fraction, s.functions[0].cpu.threads), (0.8, 4));
}

// ---------------------------------------------------------------- traffic as planners write it

#[test]
fn diurnal_peak_trough_and_peak_at_become_the_curve() {
    let arr = |sim: &str, spec: &str| {
        ok(&format!("{}\n[[workload]]\narrivals = {spec}\n", section("simulation", sim))).workloads[0].arrivals.clone()
    };
    let h = MICROS_PER_SECOND * 3600;
    let spec = "{ kind = \"diurnal\", peak = \"300/s\", trough = \"20/s\", peak_at = \"10:00\" }";
    assert_eq!(
        arr("seed = 1", spec),
        Arrivals::Diurnal { mean: 160.0, peak_ratio: 15.0, period: 24 * h, peak: 10 * h }
    );
    // a run starting at 08:00 local time meets the 10:00 peak two hours in
    assert_eq!(
        arr("start = \"2024-03-04T08:00:00+08:00\"", spec),
        Arrivals::Diurnal { mean: 160.0, peak_ratio: 15.0, period: 24 * h, peak: 2 * h }
    );
    // and one starting at 11:00 meets it 23 hours in
    let Arrivals::Diurnal { peak, .. } = arr("start = 2024-03-04T11:00:00Z", spec) else { unreachable!() };
    assert_eq!(peak, 23 * h);
    let Arrivals::Diurnal { peak_ratio, mean, .. } =
        arr("seed = 1", "{ kind = \"diurnal\", peak = \"10/s\", trough = \"0/s\" }")
    else {
        unreachable!()
    };
    assert_eq!((mean, peak_ratio), (5.0, f64::INFINITY));
}

#[test]
fn diurnal_pairs_may_not_be_mixed() {
    let at = |spec: &str, path: &str, fragment: &str| {
        fails(&workload(&format!("arrivals = {spec}")), path, fragment);
    };
    at("{ kind = \"diurnal\", peak = \"3/s\" }", "workload[0].arrivals.trough", "needs `trough`");
    at(
        "{ kind = \"diurnal\", peak = \"3/s\", trough = \"1/s\", mean = \"2/s\" }",
        "workload[0].arrivals.mean",
        "give one pair",
    );
    at("{ kind = \"diurnal\", peak = \"3/s\", trough = \"4/s\" }", "workload[0].arrivals.trough", "above peak");
    at(
        "{ kind = \"diurnal\", mean = \"3/s\", phase = \"1h\", peak_at = \"10:00\" }",
        "workload[0].arrivals.peak_at",
        "give one",
    );
    at("{ kind = \"diurnal\", mean = \"3/s\", peak_at = \"25:00\" }", "workload[0].arrivals.peak_at", "");
}

#[test]
fn an_hourly_profile_has_24_or_168_rates_read_from_the_start_clock() {
    let rates: Vec<String> = (0..24).map(|h| format!("\"{}/s\"", h + 1)).collect();
    let spec = format!("{{ kind = \"hourly\", rates = [{}] }}", rates.join(", "));
    let Arrivals::Profile(p) = ok(&workload(&format!("arrivals = {spec}"))).workloads[0].arrivals.clone() else {
        unreachable!()
    };
    assert_eq!((p.rates[0], p.rates[23], p.step, p.origin, p.repeat), (1.0, 24.0, 3600 * MICROS_PER_SECOND, 0, true));
    let text = format!(
        "{}\n[[workload]]\narrivals = {spec}\n",
        section("simulation", "start = \"2024-03-04T06:30:00-05:00\"")
    );
    let Arrivals::Profile(p) = ok(&text).workloads[0].arrivals.clone() else { unreachable!() };
    assert_eq!(p.origin, 6 * 3600 * MICROS_PER_SECOND as i64 + 1800 * MICROS_PER_SECOND as i64);
    // 2024-03-04 is a Monday: a weekly profile starts 06:30 into its first day
    let week: Vec<&str> = vec!["\"1/s\""; 168];
    let spec = format!("{{ kind = \"hourly\", rates = [{}] }}", week.join(", "));
    let text =
        format!("{}\n[[workload]]\narrivals = {spec}\n", section("simulation", "start = \"2024-03-06T06:30:00Z\""));
    let Arrivals::Profile(p) = ok(&text).workloads[0].arrivals.clone() else { unreachable!() };
    assert_eq!(
        (p.source.clone(), p.origin),
        (ProfileSource::Weekly, (2 * 24 * 3600 + 6 * 3600 + 1800) * MICROS_PER_SECOND as i64)
    );
    fails(
        &workload("arrivals = { kind = \"hourly\", rates = [\"1/s\"] }"),
        "workload[0].arrivals.rates",
        "found 1 rates",
    );
    let bad = format!("{{ kind = \"hourly\", rates = [5, {}] }}", vec!["\"1/s\""; 23].join(", "));
    fails(&workload(&format!("arrivals = {bad}")), "workload[0].arrivals.rates[0]", "\"5/s\"");
}

#[test]
fn a_counts_file_becomes_per_bucket_rates_aligned_to_the_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.csv"), "timestamp,count\n2024-03-04T10:00:00Z,120\n2024-03-04T10:01:00Z,60\n")
        .unwrap();
    let text = workload("arrivals = { kind = \"counts\", path = \"c.csv\" }");
    let s = parse_str(&text, "x.toml", dir.path(), &[]).unwrap();
    let Arrivals::Profile(p) = &s.workloads[0].arrivals else { unreachable!() };
    assert_eq!((p.rates.clone(), p.step, p.origin, p.repeat), (vec![2.0, 1.0], 60 * MICROS_PER_SECOND, 0, false));
    let text = format!(
        "{}\n[[workload]]\narrivals = {{ kind = \"counts\", path = \"c.csv\" }}\n",
        section("simulation", "start = \"2024-03-04T10:00:30Z\"")
    );
    let s = parse_str(&text, "x.toml", dir.path(), &[]).unwrap();
    let Arrivals::Profile(p) = &s.workloads[0].arrivals else { unreachable!() };
    assert_eq!(p.origin, 30 * MICROS_PER_SECOND as i64);
    let e = parse_str(&workload("arrivals = { kind = \"counts\", path = \"nope.csv\" }"), "x.toml", dir.path(), &[])
        .unwrap_err();
    assert!(e.path == "workload[0].arrivals.path" && e.message.contains("no file"), "{e}");
}

#[test]
fn simulation_start_needs_a_zone_and_moves_reserved_clock_times() {
    let s = ok(&section("simulation", "start = \"2024-03-04T08:00:00+08:00\""));
    assert_eq!(
        s.simulation.start.map(|s| (s.offset_s, s.time_of_day())),
        Some((8 * 3600, 8 * 3600 * MICROS_PER_SECOND))
    );
    fails(&section("simulation", "start = 2024-03-04T08:00:00"), "simulation.start", "UTC offset");
    fails(&section("simulation", "start = \"2024-03-04\""), "simulation.start", "UTC offset");
    let text = format!(
        "{}\n[simulation]\nstart = \"2024-03-04T06:00:00Z\"\n",
        function_with("reserved = [{ at = \"08:00\", count = 2 }, { at = \"20:00\", count = 1 }]")
    );
    let s = ok(&text);
    let h = 3600 * MICROS_PER_SECOND;
    assert_eq!(
        s.functions[0].reserved,
        Reserved::Daily(vec![ReservedStep { at: 2 * h, count: 2 }, ReservedStep { at: 14 * h, count: 1 }])
    );
}
