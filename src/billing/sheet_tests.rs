//! Tests of price sheet parsing ([`super::sheet`]).

use super::*;
use proptest::prelude::*;

const MIN: &str = r#"title = "t"
currency = "USD"
source = "s"
as_of = "2025-01-02"

[phases]
pull = "none"
create = "none"
startup = "active"
busy = "active"
idle_keepalive = "none"
idle_reserved = "idle"

[rounding.ondemand]
period = "interval"
quantum = "1ms"

[rounding.reserved]
period = "instance"
quantum = "10s"

[[item]]
name = "Duration"
resource = "memory"
state = "active"
rounding = "ondemand"
rate = 0.1

[[item]]
name = "Requests"
resource = "requests"
rate = 0.2
"#;

fn builtin(name: &str) -> Sheet {
    load(name).unwrap_or_else(|e| panic!("{e}"))
}

fn item<'s>(s: &'s Sheet, name: &str) -> &'s Item {
    s.items.iter().find(|i| i.name == name).unwrap_or_else(|| panic!("no item {name:?} in {}", s.name))
}

/// MIN with `from` replaced by `to` (once; `from` must be there).
fn edit(from: &str, to: &str) -> String {
    assert!(MIN.contains(from), "MIN has {from:?}");
    MIN.replacen(from, to, 1)
}

/// The error for `text`, which must have `path` and a message containing `fragment`.
fn fails(text: &str, path: &str, fragment: &str) -> InputError {
    let e = match parse_str(text, "mine.toml", "mine") {
        Ok(_) => panic!("expected an error at {path}"),
        Err(e) => e,
    };
    assert_eq!(e.path, path, "{e}");
    assert!(e.message.contains(fragment), "{fragment:?} not in: {e}");
    assert_eq!(e.source, "mine.toml");
    e
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-300)
}

// ---------------------------------------------------------------- the built-in sheets

#[test]
fn every_built_in_sheet_parses_validates_and_is_named_like_its_file() {
    for (name, text) in BUILTIN {
        let s = parse_str(text, name, "other").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.name, *name);
        assert!(!s.items.is_empty() && !s.title.is_empty() && !s.source.is_empty());
        assert!(!s.free_tier_enabled, "{name}: the free tier is off by default");
        assert!(text.starts_with(&format!("# {name} — ")), "{name} opens with its comment block");
        assert!(text.contains("[INF] switches in this sheet"), "{name} lists its switches");
    }
}

#[test]
fn fc3_has_the_documented_cu_factors_tiers_rounding_and_minimum() {
    let s = builtin("fc3");
    assert_eq!(s.currency, "CNY");
    assert_eq!(item(&s, "vCPU active (on-demand)").tiers, Tiers::flat(1.0));
    assert_eq!(item(&s, "vCPU idle").tiers, Tiers::flat(0.0));
    for name in
        ["Memory active (on-demand)", "Memory idle (on-demand)", "Memory active (reserved)", "Memory idle (reserved)"]
    {
        assert_eq!(item(&s, name).tiers.first_price(), 0.15, "{name}");
    }
    assert_eq!(item(&s, "Disk idle (reserved)").tiers.first_price(), 0.05);
    // R-FC-1: GPU memory per card, Tesla 2.1 active / 0.5 idle, Ada 1.5 / 0.25
    for name in ["GPU active (on-demand)", "GPU active (reserved)"] {
        assert_eq!(item(&s, name).kind_rates, [("ada".to_string(), 1.5), ("tesla".to_string(), 2.1)], "{name}");
    }
    for name in ["GPU idle (on-demand)", "GPU idle (reserved)"] {
        assert_eq!(item(&s, name).kind_rates, [("ada".to_string(), 0.25), ("tesla".to_string(), 0.5)], "{name}");
    }
    assert_eq!(s.gpu_kinds(), Some(vec!["ada", "tesla"]));
    // the notice's tail and minimum are for CPU functions only
    assert_eq!(s.gpu_phases[Phase::IdleKeepalive.index()], PhaseBilling::None);
    assert!(s.minimum_cpu_only);
    assert_eq!(item(&s, "Invocations").tiers.first_price(), 0.0075);
    let cu = s.compute_units.as_ref().unwrap();
    assert_eq!(cu.steps, vec![(2e8, 0.00011), (1e9, 0.00010), (f64::INFINITY, 0.00009)]);
    assert_eq!(s.free_cu, 150_000.0);
    assert_eq!(s.minimum_per_function_hour, 0.01);
    let names: Vec<&str> = s.roundings.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["ondemand", "reserved", "gpu_ondemand", "gpu_reserved"], "file order");
    assert_eq!((s.roundings[0].rule.period, s.roundings[0].rule.quantum), (Period::Interval, 1_000));
    assert_eq!((s.roundings[1].rule.period, s.roundings[1].rule.quantum), (Period::Instance, 10_000_000));
    let reserved = item(&s, "Memory idle (reserved)");
    assert_eq!((reserved.instances, reserved.rounding), (Instances::Reserved, Some(1)));
    assert_eq!(s.phases[Phase::Pull.index()], PhaseBilling::Active);
    assert_eq!(s.phases[Phase::Create.index()], PhaseBilling::None);
    assert_eq!(s.phases[Phase::IdleKeepalive.index()], PhaseBilling::Idle);
    // billing-rules §1.6: 10 s pull of 1 vCPU + 1 GB + 0.5 GB disk = 11.75 CU = CNY 0.0012925
    let cu_used = 10.0 * 1.0 + 10.0 * 0.15 + 5.0 * 0.05;
    assert!(close(cu.amount(cu_used), 0.0012925));
}

#[test]
fn fc3_usd_has_the_usd_tiers_and_no_hourly_minimum() {
    let s = builtin("fc3-usd");
    assert_eq!(s.currency, "USD");
    assert_eq!(
        s.compute_units.as_ref().unwrap().steps,
        vec![(1e8, 0.000020), (5e8, 0.000017), (f64::INFINITY, 0.000014)]
    );
    assert_eq!(s.minimum_per_function_hour, 0.0);
    assert_eq!(item(&s, "Memory active (on-demand)").tiers.first_price(), 0.15);
}

#[test]
fn fc2_bills_memory_invocations_and_provisioned_life() {
    let s = builtin("fc2");
    assert!(s.compute_units.is_none());
    assert_eq!(item(&s, "Memory (on-demand)").tiers.first_price(), 0.000110592);
    assert!(close(item(&s, "Invocations").tiers.first_price() * 10_000.0, 0.0133));
    let p = item(&s, "Provisioned instances");
    assert_eq!((p.state, p.instances), (State::Life, Instances::Reserved));
    assert_eq!(s.phases[Phase::Pull.index()], PhaseBilling::Active);
    assert_eq!(s.phases[Phase::IdleKeepalive.index()], PhaseBilling::None);
    assert_eq!((item(&s, "Invocations").free, item(&s, "Memory (on-demand)").free), (1e6, 4e5));
}

#[test]
fn lambda_has_tiered_duration_requests_and_provisioned_concurrency() {
    let s = builtin("lambda");
    let d = item(&s, "Duration");
    assert_eq!(d.tiers.steps, vec![(6e9, 0.0000166667), (15e9, 0.000015), (f64::INFINITY, 0.0000133334)]);
    assert_eq!(d.free, 400_000.0);
    assert_eq!(item(&s, "Requests").tiers.first_price(), 2e-7);
    let pc = item(&s, "Provisioned concurrency");
    assert_eq!((pc.state, pc.instances, pc.tiers.first_price()), (State::Life, Instances::Reserved, 0.0000041667));
    assert_eq!(s.roundings[pc.rounding.unwrap()].rule.quantum, 300_000_000);
    let rule = &s.roundings[d.rounding.unwrap()].rule;
    assert_eq!((rule.period, rule.quantum, rule.init_into_first_request), (Period::Request, 1_000, true));
    assert_eq!(item(&s, "Duration (provisioned)").tiers.first_price(), 0.0000097222);
    assert_eq!(s.phases[Phase::Pull.index()], PhaseBilling::None);
    assert_eq!(s.phases[Phase::Startup.index()], PhaseBilling::Active);
    // billing-rules §2.3: 1024 MB, init 1300 ms + handler 1050 ms → 2.35 GB·s → USD 0.0000392
    assert!((d.tiers.amount(2.35) - 0.0000392).abs() < 1e-7);
}

#[test]
fn lambda_tiers_price_each_part_at_its_own_rate() {
    let s = builtin("lambda");
    let got = item(&s, "Duration").tiers.amount(7e9);
    assert!(close(got, 6e9 * 0.0000166667 + 1e9 * 0.000015), "{got}");
    let got = item(&s, "Duration").tiers.amount(20e9);
    assert!(close(got, 6e9 * 0.0000166667 + 9e9 * 0.000015 + 5e9 * 0.0000133334), "{got}");
}

#[test]
fn lambda_arm_has_the_arm64_prices() {
    let s = builtin("lambda-arm");
    let d = item(&s, "Duration");
    assert_eq!(d.tiers.steps, vec![(7.5e9, 0.0000133334), (18.75e9, 0.0000120001), (f64::INFINITY, 0.0000106667)]);
    assert_eq!(item(&s, "Provisioned concurrency").tiers.first_price(), 0.0000033334);
    assert_eq!(item(&s, "Duration (provisioned)").tiers.first_price(), 0.0000077778);
}

#[test]
fn cloudrun_bills_start_up_and_requests_at_100ms_but_not_the_pull() {
    let s = builtin("cloudrun");
    assert_eq!(item(&s, "Requests").tiers.first_price(), 4e-7);
    assert_eq!(item(&s, "CPU").tiers.first_price(), 0.000024);
    assert_eq!(item(&s, "Memory").unit, "GiB·s");
    assert_eq!(item(&s, "CPU idle (min instances)").tiers.first_price(), 0.0000025);
    assert_eq!(s.roundings[0].rule.quantum, 100_000);
    let ph = |p: Phase| s.phases[p.index()];
    assert_eq!(ph(Phase::Pull), PhaseBilling::None);
    assert_eq!((ph(Phase::Create), ph(Phase::Startup)), (PhaseBilling::Active, PhaseBilling::Active));
    assert_eq!((ph(Phase::IdleKeepalive), ph(Phase::IdleReserved)), (PhaseBilling::None, PhaseBilling::Idle));
    // billing-rules §3.3: 2,000,000 vCPU·s + 1,000,000 GiB·s + 10 M requests = USD 54.50
    let total = item(&s, "CPU").tiers.amount(2e6)
        + item(&s, "Memory").tiers.amount(1e6)
        + item(&s, "Requests").tiers.amount(1e7);
    assert!(close(total, 54.5), "{total}");
}

#[test]
fn cloudrun_instance_bills_every_phase_but_the_pull_and_no_requests() {
    let s = builtin("cloudrun-instance");
    assert!(s.items.iter().all(|i| i.resource != Resource::Requests));
    assert_eq!(item(&s, "CPU").tiers.first_price(), 0.000018);
    assert_eq!(item(&s, "Memory").tiers.first_price(), 0.000002);
    for p in Phase::ALL {
        let want = if p == Phase::Pull { PhaseBilling::None } else { PhaseBilling::Active };
        assert_eq!(s.phases[p.index()], want, "{}", p.name());
    }
}

#[test]
fn azure_flex_rounds_executions_to_100ms_with_a_1s_minimum() {
    let s = builtin("azure-flex");
    let e = item(&s, "On demand execution time");
    let rule = &s.roundings[e.rounding.unwrap()].rule;
    assert_eq!((rule.period, rule.quantum, rule.minimum), (Period::Interval, 100_000, 1_000_000));
    assert_eq!((e.tiers.first_price(), e.free), (0.000026, 100_000.0));
    let b = item(&s, "Always ready baseline");
    assert_eq!((b.state, b.instances, b.tiers.first_price()), (State::Life, Instances::Reserved, 0.000004));
    assert_eq!(item(&s, "Always ready execution time").rounding, e.rounding);
    assert_eq!(item(&s, "On demand executions").free, 250_000.0);
    for p in [Phase::Pull, Phase::Create, Phase::Startup] {
        assert_eq!(s.phases[p.index()], PhaseBilling::None);
    }
}

// ---------------------------------------------------------------- the format

#[test]
fn the_minimal_sheet_maps_into_the_model() {
    let s = parse_str(MIN, "mine.toml", "mine").unwrap();
    assert_eq!(s.name, "mine", "the default name");
    assert_eq!(s.as_of, "2025-01-02");
    let r = &s.items[1];
    assert_eq!(
        (r.resource, r.state, r.instances, r.rounding),
        (Resource::Requests, State::Active, Instances::All, None)
    );
    assert_eq!((r.unit.as_str(), r.free), ("requests", 0.0));
    assert_eq!(s.items[0].unit, "GB·s");
    assert_eq!(s.items[0].tiers, Tiers { steps: vec![(f64::INFINITY, 0.1)] });
    assert_eq!(
        s.roundings[1],
        NamedRounding {
            name: "reserved".into(),
            rule: Rounding {
                period: Period::Instance,
                quantum: 10_000_000,
                minimum: 0,
                init_into_first_request: false,
            }
        }
    );
    assert_eq!((s.compute_units, s.minimum_per_function_hour, s.free_tier_enabled, s.free_cu), (None, 0.0, false, 0.0));
    let named = parse_str(&format!("name = \"x\"\n{MIN}"), "mine.toml", "mine").unwrap();
    assert_eq!(named.name, "x");
}

#[test]
fn rounding_rules_keep_file_order_and_items_refer_to_them_by_index() {
    let text = edit("[rounding.ondemand]", "[rounding.zeta]\nperiod = \"request\"\n\n[rounding.ondemand]");
    let s = parse_str(&text, "mine.toml", "mine").unwrap();
    let names: Vec<&str> = s.roundings.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["zeta", "ondemand", "reserved"]);
    assert_eq!(s.items[0].rounding, Some(1));
    assert_eq!(s.roundings[0].rule.quantum, 1, "default quantum is exact (1 µs)");
}

#[test]
fn a_toml_date_works_for_as_of() {
    let s = parse_str(&edit("as_of = \"2025-01-02\"", "as_of = 2025-01-02"), "mine.toml", "mine").unwrap();
    assert_eq!(s.as_of, "2025-01-02");
}

#[test]
fn compute_units_and_the_other_sections_are_read() {
    let text = format!(
            "{MIN}\n[compute_units]\ntiers = [{{ up_to = 10, price = 2 }}, {{ price = 1 }}]\nfree = 5\n[minimum]\nper_function_hour = 0.5\n[free_tier]\nenabled = true\n"
        );
    let s = parse_str(&text, "mine.toml", "mine").unwrap();
    assert_eq!(s.compute_units.unwrap().steps, vec![(10.0, 2.0), (f64::INFINITY, 1.0)]);
    assert_eq!((s.free_cu, s.minimum_per_function_hour, s.free_tier_enabled), (5.0, 0.5, true));
}

#[test]
fn a_syntax_error_gives_its_line() {
    let e = parse_str(&edit("rate = 0.1", "rate = = 0.1"), "mine.toml", "mine").unwrap_err();
    assert_eq!(e.line, Some(27), "{e}");
}

#[test]
fn unknown_keys_get_a_did_you_mean_and_their_line() {
    let e = fails(
        &edit("title = \"t\"", "titel = \"t\""),
        "titel",
        "unknown key `titel` in the top level; did you mean `title`?",
    );
    assert_eq!(e.line, Some(1));
    let e = fails(&edit("rate = 0.1", "ratte = 0.1"), "item[0].ratte", "did you mean `rate`?");
    assert_eq!(e.line, Some(27));
    assert!(e.message.contains("(allowed: name, resource, state"), "{e}");
    fails(&edit("[phases]", "[phase]"), "phase", "unknown section `phase` in the top level; did you mean `phases`?");
    fails(&edit("quantum = \"10s\"", "quantm = \"10s\""), "rounding.reserved.quantm", "did you mean `quantum`?");
    fails(&format!("{MIN}\n[free_tier]\nenable = true\n"), "free_tier.enable", "did you mean `enabled`?");
    fails(
        &format!("{MIN}\n[minimum]\nper_function_hours = 1\n"),
        "minimum.per_function_hours",
        "did you mean `per_function_hour`?",
    );
    fails(
        &format!("{MIN}\n[compute_units]\ntiers = [{{ up_to = 1, prize = 2 }}, {{ price = 1 }}]\n"),
        "compute_units.tiers[0].prize",
        "did you mean `price`?",
    );
}

#[test]
fn missing_required_keys_are_named() {
    fails(&edit("title = \"t\"\n", ""), "title", "`title` is missing");
    fails(&edit("title = \"t\"", "title = \" \""), "title", "`title` is empty");
    fails(&edit("currency = \"USD\"\n", ""), "currency", "`currency` is missing");
    fails(&edit("source = \"s\"\n", ""), "source", "`source` is missing");
    fails(&edit("as_of = \"2025-01-02\"\n", ""), "as_of", "`as_of` is missing");
    let cut = MIN.find("[phases]").unwrap()..MIN.find("[rounding.ondemand]").unwrap();
    let mut no_phases = MIN.to_string();
    no_phases.replace_range(cut, "");
    fails(&no_phases, "", "[phases] is missing");
    fails(&MIN[..MIN.find("[[item]]").unwrap()], "item", "at least one [[item]]");
    fails(&edit("name = \"Duration\"\n", ""), "item[0].name", "`name` is missing");
    fails(&edit("resource = \"memory\"\n", ""), "item[0].resource", "`resource` is missing");
    fails(&edit("state = \"active\"\n", ""), "item[0].state", "`state` is missing");
    fails(&edit("period = \"interval\"\n", ""), "rounding.ondemand.period", "`period` is missing");
}

#[test]
fn every_phase_must_be_there_and_known() {
    let e = fails(&edit("create = \"none\"\n", ""), "phases.create", "`create` is missing");
    assert!(e.message.contains("pull, create, startup, busy, idle_keepalive, idle_reserved"), "{e}");
    fails(&edit("pull = \"none\"", "pulll = \"none\""), "phases.pulll", "did you mean `pull`?");
    let e = fails(
        &edit("pull = \"none\"", "pull = \"actve\""),
        "phases.pull",
        "unknown value \"actve\" for `pull`; did you mean `active`?",
    );
    assert!(e.message.contains("(allowed: active, idle, none)"), "{e}");
    assert_eq!(e.line, Some(7));
    fails(&edit("pull = \"none\"", "pull = true"), "phases.pull", "found boolean true");
}

#[test]
fn rates_and_prices_must_be_finite_and_not_negative() {
    let e = fails(&edit("rate = 0.1", "rate = -1"), "item[0].rate", "rate must be 0 or more; found -1");
    assert_eq!(e.line, Some(27));
    fails(&edit("rate = 0.1", "rate = inf"), "item[0].rate", "finite");
    fails(&edit("rate = 0.1", "rate = nan"), "item[0].rate", "finite");
    fails(&edit("rate = 0.1", "rate = \"0.1\""), "item[0].rate", "without quotes");
    fails(&edit("rate = 0.2", "rate = 0.2\nfree = -5"), "item[1].free", "0 or more");
    fails(
        &format!("{MIN}\n[compute_units]\ntiers = [{{ up_to = 10, price = 2 }}, {{ price = -1 }}]\n"),
        "compute_units.tiers[1].price",
        "0 or more",
    );
    fails(
        &format!("{MIN}\n[compute_units]\ntiers = [{{ price = 1 }}]\nfree = -1\n"),
        "compute_units.free",
        "0 or more",
    );
    fails(&format!("{MIN}\n[minimum]\nper_function_hour = -0.01\n"), "minimum.per_function_hour", "0 or more");
    fails(&format!("{MIN}\n[free_tier]\nenabled = 1\n"), "free_tier.enabled", "true or false");
}

#[test]
fn tiers_must_increase_strictly_and_end_open() {
    let tiers = |t: &str| edit("rate = 0.1", &format!("tiers = {t}"));
    let e = fails(
        &tiers("[{ up_to = 10, rate = 2 }, { up_to = 10, rate = 1 }, { rate = 0.5 }]"),
        "item[0].tiers[1].up_to",
        "strictly increasing; up_to = 10 is not above 10",
    );
    assert_eq!(e.line, Some(27));
    fails(
        &tiers("[{ up_to = 10, rate = 2 }, { up_to = 20, rate = 1 }]"),
        "item[0].tiers[1].up_to",
        "add a final open tier",
    );
    fails(&tiers("[{ rate = 2 }, { rate = 1 }]"), "item[0].tiers[0].up_to", "only the last tier may leave out `up_to`");
    fails(&tiers("[]"), "item[0].tiers", "`tiers` is empty");
    fails(&tiers("[{ up_to = 10 }, { rate = 1 }]"), "item[0].tiers[0].rate", "`rate` is missing");
    fails(&tiers("[{ up_to = 10, price = 1 }, { rate = 1 }]"), "item[0].tiers[0].price", "(allowed: up_to, rate)");
    fails(&tiers("0.1"), "item[0].tiers", "array of tables");
    fails(
            &format!("{MIN}\n[compute_units]\ntiers = [{{ up_to = 2e8, price = 2 }}, {{ up_to = 1e8, price = 1 }}, {{ price = 0.5 }}]\n"),
            "compute_units.tiers[1].up_to",
            "strictly increasing",
        );
    fails(&format!("{MIN}\n[compute_units]\nfree = 1\n"), "compute_units.tiers", "`tiers` is missing");
}

#[test]
fn an_item_has_either_rate_or_tiers() {
    fails(
        &edit("rate = 0.1", "rate = 0.1\ntiers = [{ rate = 1 }]"),
        "item[0].tiers",
        "either `rate` (one price) or `tiers`",
    );
    fails(&edit("rate = 0.1\n", ""), "item[0].rate", "`rate` is missing; give `rate = ");
}

#[test]
fn an_unknown_rounding_rule_lists_the_defined_ones() {
    let e = fails(
        &edit("rounding = \"ondemand\"", "rounding = \"ondemnd\""),
        "item[0].rounding",
        "unknown rounding rule \"ondemnd\"; did you mean `ondemand`?",
    );
    assert!(e.message.contains("(defined rules: ondemand, reserved)"), "{e}");
    let no_rules =
        format!("{}{}", &MIN[..MIN.find("[rounding.ondemand]").unwrap()], &MIN[MIN.find("[[item]]").unwrap()..]);
    fails(&no_rules, "item[0].rounding", "this sheet defines none; add a [rounding.ondemand] table");
    fails(&edit("rounding = \"ondemand\"", "rounding = 1"), "item[0].rounding", "found integer 1");
}

#[test]
fn requests_take_no_state_and_no_rounding() {
    fails(
        &edit("resource = \"requests\"", "resource = \"requests\"\nstate = \"active\""),
        "item[1].state",
        "not used with resource = \"requests\"",
    );
    fails(
        &edit("resource = \"requests\"", "resource = \"requests\"\nrounding = \"ondemand\""),
        "item[1].rounding",
        "not used with resource = \"requests\"",
    );
}

#[test]
fn item_choices_are_checked() {
    fails(&edit("resource = \"memory\"", "resource = \"mem\""), "item[0].resource", "did you mean `memory`?");
    fails(&edit("state = \"active\"", "state = \"busy\""), "item[0].state", "(allowed: active, idle, life)");
    fails(
        &edit("state = \"active\"", "state = \"active\"\ninstances = \"ondemand\""),
        "item[0].instances",
        "did you mean `on_demand`?",
    );
    fails(
        &edit("name = \"Requests\"", "name = \"Duration\""),
        "item[1].name",
        "\"Duration\" is used twice (also item[0])",
    );
    fails(&edit("rate = 0.2", "rate = 0.2\nunit = 5"), "item[1].unit", "found integer 5");
    let single = format!("{}[item]\nname = \"x\"\n", &MIN[..MIN.find("[[item]]").unwrap()]);
    fails(&single, "item", "double brackets");
}

#[test]
fn rounding_rules_are_checked() {
    fails(
        &edit("period = \"interval\"", "period = \"per-request\""),
        "rounding.ondemand.period",
        "(allowed: interval, request, instance)",
    );
    fails(&edit("quantum = \"1ms\"", "quantum = \"0s\""), "rounding.ondemand.quantum", "at least 1us");
    fails(&edit("quantum = \"1ms\"", "quantum = 1"), "rounding.ondemand.quantum", "a duration is a string with a unit");
    fails(&edit("quantum = \"1ms\"", "quantum = \"1\""), "rounding.ondemand.quantum", "has no unit");
    fails(
        &edit("quantum = \"1ms\"", "quantum = \"1ms\"\nminimum = \"1 fortnight\""),
        "rounding.ondemand.minimum",
        "unknown duration unit",
    );
    let e = fails(
        &edit("quantum = \"1ms\"", "quantum = \"1ms\"\ninit_into_first_request = true"),
        "rounding.ondemand.init_into_first_request",
        "only allowed with period = \"request\"; this rule has period = \"interval\"",
    );
    assert_eq!(e.line, Some(17));
    fails(
        &edit("[rounding.ondemand]\n", "[rounding]\nondemand = 3\n[rounding.x]\n"),
        "rounding.ondemand",
        "a rounding rule is a table",
    );
}

#[test]
fn currency_and_date_are_checked() {
    fails(&edit("currency = \"USD\"", "currency = \"usd\""), "currency", "3 upper-case letters");
    fails(&edit("currency = \"USD\"", "currency = \"US\""), "currency", "not an ISO 4217 code");
    for bad in ["\"2025-13-01\"", "\"2025-02-29\"", "\"2025-1-02\"", "\"yesterday\"", "2025-01-02T10:00:00", "20250102"]
    {
        fails(&edit("as_of = \"2025-01-02\"", &format!("as_of = {bad}")), "as_of", "YYYY-MM-DD");
    }
    parse_str(&edit("as_of = \"2025-01-02\"", "as_of = \"2024-02-29\""), "mine.toml", "mine").unwrap();
}

#[test]
fn load_reads_a_file_named_by_its_stem_and_reports_an_unreadable_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("my-prices.toml");
    std::fs::write(&file, MIN).unwrap();
    let s = load(file.to_str().unwrap()).unwrap();
    assert_eq!(s.name, "my-prices");
    let missing = dir.path().join("nope.toml");
    let e = load(missing.to_str().unwrap()).unwrap_err();
    assert!(e.message.contains("not a built-in price sheet") && e.message.contains("built-in sheets: fc3"), "{e}");
    std::fs::write(&file, edit("rate = 0.1", "rate = -2")).unwrap();
    let e = load(file.to_str().unwrap()).unwrap_err();
    assert_eq!((e.source.as_str(), e.path.as_str(), e.line), (file.to_str().unwrap(), "item[0].rate", Some(27)));
}

// ---------------------------------------------------------------- never panics

/// A random edit of a text: delete a span, insert a snippet, or replace a line.
fn mutate(text: &str, kind: u8, at: usize, len: usize, snippet: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let at = at % (chars.len() + 1);
    match kind % 3 {
        0 => {
            let end = (at + len % 40).min(chars.len());
            chars.drain(at..end);
        }
        1 => {
            chars.splice(at..at, snippet.chars());
        }
        _ => {
            let lines: Vec<&str> = text.lines().collect();
            let i = at % lines.len().max(1);
            let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            if let Some(l) = out.get_mut(i) {
                *l = snippet.to_string();
            }
            return out.join("\n");
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn parse_str_never_panics_on_arbitrary_text(text in any::<String>()) {
        let _ = parse_str(&text, "x.toml", "x");
    }

    #[test]
    fn parse_str_never_panics_on_random_edits_of_fc3(
        edits in proptest::collection::vec(
            (any::<u8>(), any::<usize>(), any::<usize>(),
             r#"[a-z_\[\]{}=.,"0-9 \-]{0,12}|up_to = -1|rate = nan|period = "request"|init_into_first_request = true|\[\[item\]\]|\[rounding\.x\]|quantum = "0s"|tiers = \[\]|state = "life"|resource = "requests""#),
            1..4,
        )
    ) {
        let mut text = BUILTIN[0].1.to_string();
        for (kind, at, len, snippet) in &edits {
            text = mutate(&text, *kind, *at, *len, snippet);
        }
        let _ = parse_str(&text, "fc3.toml", "fc3");
    }
}

// ---------------------------------------------------------------- GPU cards, GPU phases, never started

const GPU_ITEM: &str = "\n[[item]]\nname = \"GPU\"\nresource = \"gpu\"\nstate = \"active\"\n";

#[test]
fn a_gpu_item_may_rate_each_card_and_a_missing_card_is_named() {
    let s = parse_str(&format!("{MIN}{GPU_ITEM}rate = {{ tesla = 2.1, ada = 1.5 }}\n"), "m", "m").unwrap();
    let it = item(&s, "GPU");
    assert_eq!(it.kind_rates, [("ada".to_string(), 1.5), ("tesla".to_string(), 2.1)]);
    assert_eq!(it.rate_for(Some(crate::usage::GpuKind::new("tesla"))), 2.1);
    assert_eq!(it.rate_for(Some(crate::usage::GpuKind::new("ada"))), 1.5);
    assert_eq!(it.rate_for(Some(crate::usage::GpuKind::new("h100"))), 0.0);
    assert_eq!(it.tiers.first_price(), 1.5, "the lowest rate, where the price starts");
    assert_eq!(s.gpu_kinds(), Some(vec!["ada", "tesla"]));
    // a flat GPU rate prices every card
    let flat = parse_str(&format!("{MIN}{GPU_ITEM}rate = 1.5\n"), "m", "m").unwrap();
    assert_eq!(flat.gpu_kinds(), None);
    assert_eq!(item(&flat, "GPU").rate_for(Some(crate::usage::GpuKind::new("h100"))), 1.5);
    // two per-card items: the cards both rate
    let two = format!(
        "{MIN}{GPU_ITEM}rate = {{ tesla = 2.1, ada = 1.5 }}\n\n[[item]]\nname = \"GPU idle\"\nresource = \"gpu\"\nstate = \"idle\"\nrate = {{ ada = 0.25 }}\n"
    );
    assert_eq!(parse_str(&two, "m", "m").unwrap().gpu_kinds(), Some(vec!["ada"]));
}

#[test]
fn a_rate_per_card_is_refused_where_it_has_no_meaning() {
    let memory = edit("rate = 0.1", "rate = { ada = 0.1 }");
    fails(&memory, "item[0].rate", "only for resource = \"gpu\"");
    fails(&format!("{MIN}{GPU_ITEM}rate = {{}}\n"), "item[2].rate", "empty table");
    fails(&format!("{MIN}{GPU_ITEM}rate = {{ Ada = 1.5 }}\n"), "item[2].rate.Ada", "lower-case");
    fails(&format!("{MIN}{GPU_ITEM}rate = {{ ada = -1 }}\n"), "item[2].rate.ada", "0 or more");
    fails(&format!("{MIN}{GPU_ITEM}rate = {{ ada = \"1.5\" }}\n"), "item[2].rate.ada", "without quotes");
    fails(&format!("{MIN}{GPU_ITEM}rate = {{ ada = 1.5 }}\nfree = 10\n"), "item[2].free", "per GPU kind");
}

#[test]
fn gpu_phases_never_started_and_the_minimums_reach_are_read_and_checked() {
    let s = parse_str(MIN, "m", "m").unwrap();
    assert_eq!(s.gpu_phases, s.phases, "GPU functions are billed as CPU ones unless [phases.gpu] says");
    assert_eq!(s.never_started, NeverStartedBilling::Bill, "default: billed like any instance");
    assert!(!s.minimum_cpu_only);
    let text = edit(
        "idle_reserved = \"idle\"\n",
        "idle_reserved = \"idle\"\nnever_started = \"free\"\n\n[phases.gpu]\nbusy = \"idle\"\n",
    ) + "\n[minimum]\nper_function_hour = 0.01\napplies_to = \"cpu\"\n";
    let s = parse_str(&text, "m", "m").unwrap();
    assert_eq!(s.never_started, NeverStartedBilling::Free);
    assert_eq!(s.gpu_phases[Phase::Busy.index()], PhaseBilling::Idle);
    assert_eq!(s.phases[Phase::Busy.index()], PhaseBilling::Active);
    assert_eq!(s.gpu_phases[Phase::Startup.index()], PhaseBilling::Active, "unset: as [phases]");
    assert!(s.minimum_cpu_only);
    fails(
        &edit("idle_reserved = \"idle\"\n", "idle_reserved = \"idle\"\nnever_started = \"maybe\"\n"),
        "phases.never_started",
        "allowed: bill, free",
    );
    fails(
        &edit("idle_reserved = \"idle\"\n", "idle_reserved = \"idle\"\n[phases.gpu]\nbussy = \"idle\"\n"),
        "phases.gpu.bussy",
        "did you mean `busy`",
    );
    fails(
        &edit("idle_reserved = \"idle\"\n", "idle_reserved = \"idle\"\n[phases.gpu]\nbusy = \"half\"\n"),
        "phases.gpu.busy",
        "unknown value",
    );
    fails(&(MIN.to_string() + "\n[minimum]\napplies_to = \"gpu\"\n"), "minimum.applies_to", "allowed: all, cpu");
}
