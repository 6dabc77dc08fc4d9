//! Billing: a pure function from a run's exact usage to money, driven by a price sheet.
//! It never changes the simulation. The run's meters collect, besides exact usage, the
//! billed time each of the sheet's rounding rules gives ([`meters`]); [`bill`] turns that
//! into lines the way a cloud bill reads; the sheet prices one function-hour for the hourly
//! minimum ([`HourTopup`], summed by the meters); [`rate_cost`] prices a slice of usage at
//! first-tier rates (time series, instances). A function's usage carries its GPU card and
//! idle mode ([`crate::usage::GpuUse`]) and the part of it made by instances that never
//! started, so per-card rates, `[phases.gpu]` and `never_started` stay functions of usage.

pub mod model;
pub mod sheet;

use model::{Instances, Item, NeverStartedBilling, PhaseBilling, Resource, Sheet, State};

use std::sync::Arc;

use crate::usage::{FnUsage, GpuUse, HourTopup, Meters, Phase, RunUsage, Spec, Usage};

/// The meter rules (and hourly records) a sheet needs from a run: the sheet's rounding rules
/// as they are ([`crate::usage::meters`] applies them).
pub fn meters(sheet: &Sheet) -> Meters {
    let rules = sheet.roundings.iter().map(|r| r.rule).collect();
    let hourly = (sheet.minimum_per_function_hour > 0.0).then(|| Arc::new(sheet.clone()) as Arc<dyn HourTopup>);
    Meters::new(rules, hourly)
}

/// The hourly minimum: an active function-hour's top-up to `[minimum] per_function_hour`,
/// the hour priced at first-tier rates ([`rate_cost`]); the meters sum it per function. A
/// GPU function has none under `applies_to = "cpu"` (FC's minimum is for CPU functions).
impl HourTopup for Sheet {
    fn topup(&self, spec: &Spec, usage: &[Usage; 2], started: [u64; 2]) -> f64 {
        if self.minimum_cpu_only && spec.gpu.is_some() {
            return 0.0;
        }
        (self.minimum_per_function_hour - cost(self, None, spec.gpu, usage, started)).max(0.0)
    }
}

/// How `phase` of a function with `gpu` is billed: GPU functions by `[phases.gpu]`; a
/// reserved GPU instance's idle time at the active rates unless its idle mode is on.
pub fn phase_billing(sheet: &Sheet, gpu: Option<GpuUse>, phase: Phase) -> PhaseBilling {
    let Some(g) = gpu else {
        return sheet.phases[phase.index()];
    };
    match sheet.gpu_phases[phase.index()] {
        PhaseBilling::Idle if phase == Phase::IdleReserved && !g.idle_mode => PhaseBilling::Active,
        b => b,
    }
}

/// The phases an item counts for a function with `gpu`.
fn phases(sheet: &Sheet, gpu: Option<GpuUse>, state: State) -> impl Iterator<Item = Phase> + '_ {
    Phase::ALL.into_iter().filter(move |&p| match state {
        State::Life => true,
        State::Active => phase_billing(sheet, gpu, p) == PhaseBilling::Active,
        State::Idle => phase_billing(sheet, gpu, p) == PhaseBilling::Idle,
    })
}

fn kinds(i: Instances) -> &'static [usize] {
    match i {
        Instances::All => &[0, 1],
        Instances::OnDemand => &[0],
        Instances::Reserved => &[1],
    }
}

/// Units of `resource` one instance of `spec` holds (vCPU, GB, or 0 for requests).
fn size(resource: Resource, spec: &Spec) -> f64 {
    match resource {
        Resource::Vcpu => spec.milli_vcpu as f64 / 1000.0,
        Resource::Memory => spec.memory_mb as f64 / 1024.0,
        Resource::Disk => spec.disk_mb as f64 / 1024.0,
        Resource::Gpu => spec.gpu_mb as f64 / 1024.0,
        Resource::Requests => 0.0,
    }
}

/// The quantity of `item` one function used, split by phase (requests in the last slot),
/// in the item's unit (unit·s or requests).
pub fn item_quantity(sheet: &Sheet, item: &Item, st: &FnUsage) -> [f64; Phase::COUNT + 1] {
    let mut q = [0.0; Phase::COUNT + 1];
    if item.resource == Resource::Requests {
        q[Phase::COUNT] = kinds(item.instances).iter().map(|&k| st.started[k] as f64).sum();
        return q;
    }
    let per_s = size(item.resource, &st.spec) / 1e6;
    let free = sheet.never_started == NeverStartedBilling::Free;
    let ns = &st.never_started;
    for &k in kinds(item.instances) {
        for p in phases(sheet, st.spec.gpu, item.state) {
            let i = p.index();
            let us = match item.rounding {
                Some(r) => {
                    let all = st.billed.get(r).map_or(0, |b| b[k][i]);
                    all.saturating_sub(if free { ns.billed(r, k, i) } else { 0 })
                }
                None => st.usage[k].inst_us[i].saturating_sub(if free { ns.inst_us(k, i) } else { 0 }),
            };
            q[i] += us as f64 * per_s;
        }
    }
    q
}

/// The rate a bill line shows for an item rated per GPU kind: the card's when one card was
/// billed, the mean by quantity when several were, else the lowest (where the price starts).
fn kind_line_rate(item: &Item, per_fn: &[[f64; Phase::COUNT + 1]], run: &RunUsage, amount: f64, qty: f64) -> f64 {
    let mut used: Vec<f64> = Vec::new();
    for (q, f) in per_fn.iter().zip(&run.functions) {
        if q.iter().sum::<f64>() > 0.0 {
            let r = item.rate_for(f.spec.gpu.map(|g| g.kind));
            if !used.contains(&r) {
                used.push(r);
            }
        }
    }
    match used.as_slice() {
        [one] => *one,
        [] => item.tiers.first_price(),
        _ => amount / qty,
    }
}

/// One line of a bill.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub item: String,
    pub quantity: f64,
    pub unit: String,
    /// Price per unit: the first tier's (the effective one is `amount / quantity`).
    pub rate: f64,
    /// `CU/<unit>` or `<currency>/<unit>`.
    pub rate_unit: String,
    /// Compute units (sheets priced in CU).
    pub cu: Option<f64>,
    pub amount: f64,
}

/// A bill for one replication.
#[derive(Debug, Clone, PartialEq)]
pub struct Bill {
    pub currency: String,
    pub lines: Vec<Line>,
    /// Compute units in total (CU sheets).
    pub cu: Option<f64>,
    /// Hourly-minimum top-ups.
    pub minimum: f64,
    pub minimum_hours: u64,
    pub total: f64,
    /// Per function: money by phase (pull..idle_reserved), requests, minimum; and CU.
    pub functions: Vec<FnCost>,
    /// The bill of a 30-day month of this usage ([`with_month`]).
    pub month: Option<Box<Bill>>,
}

/// Days in the month the monthly figure is billed for.
pub const MONTH_DAYS: u64 = 30;

/// The bill of a run that covered `covered_us` µs, with the bill of a 30-day month beside it:
/// the run's usage scaled to 30 days ([`RunUsage::into_scaled`]) and billed as a month, so
/// monthly tiers, free grants and minimums apply to the month's usage (not to the run's,
/// scaled afterwards). Still a pure function of usage.
pub fn with_month(sheet: &Sheet, run: RunUsage, covered_us: u64) -> Bill {
    let mut b = bill(sheet, &run);
    let k = (MONTH_DAYS * crate::units::MICROS_PER_DAY) as f64 / covered_us.max(1) as f64;
    b.month = Some(Box::new(bill(sheet, &run.into_scaled(k))));
    b
}

/// What one function costs, its share of each line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FnCost {
    /// Money by phase, then requests.
    pub by_phase: [f64; Phase::COUNT + 1],
    pub minimum: f64,
    pub cu: f64,
    pub total: f64,
}

/// The bill of a run: each item's quantity over all functions, priced by its tiers (and CU
/// tiers); amounts shared among functions and phases in proportion to their quantities;
/// hourly-minimum top-ups (summed by the meters) added per function. A pure function of the
/// run's usage.
pub fn bill(sheet: &Sheet, run: &RunUsage) -> Bill {
    let nf = run.functions.len();
    let mut lines = Vec::new();
    // per item, per function, per phase quantities
    let mut shares: Vec<Vec<[f64; Phase::COUNT + 1]>> = Vec::new();
    let mut item_amounts = Vec::new();
    let mut item_cu = Vec::new();
    for item in &sheet.items {
        let per_fn: Vec<[f64; Phase::COUNT + 1]> =
            run.functions.iter().map(|f| item_quantity(sheet, item, f)).collect();
        let qty: f64 = per_fn.iter().flat_map(|q| q.iter()).sum();
        // an item rated per GPU card: each function's quantity at its card's rate, and the
        // amount shared by those weights (a Tesla function pays more than an Ada one)
        let (amount, weights, rate) = if item.kind_rates.is_empty() {
            let billable = if sheet.free_tier_enabled { (qty - item.free).max(0.0) } else { qty };
            (item.tiers.amount(billable), per_fn, item.tiers.first_price())
        } else {
            let w: Vec<[f64; Phase::COUNT + 1]> = per_fn
                .iter()
                .zip(&run.functions)
                .map(|(q, f)| q.map(|x| x * item.rate_for(f.spec.gpu.map(|g| g.kind))))
                .collect();
            let amount: f64 = w.iter().flat_map(|q| q.iter()).sum();
            let rate = kind_line_rate(item, &per_fn, run, amount, qty);
            (amount, w, rate)
        };
        shares.push(weights);
        item_amounts.push(amount);
        item_cu.push(amount);
        lines.push(Line {
            item: item.name.clone(),
            quantity: qty,
            unit: item.unit.clone(),
            rate,
            rate_unit: format!("{}/{}", if sheet.compute_units.is_some() { "CU" } else { &sheet.currency }, item.unit),
            cu: None,
            amount,
        });
    }
    // compute units → money
    let mut cu_total = None;
    if let Some(tiers) = &sheet.compute_units {
        let cu: f64 = item_cu.iter().sum();
        let billable = if sheet.free_tier_enabled { (cu - sheet.free_cu).max(0.0) } else { cu };
        let money = tiers.amount(billable);
        let per_cu = if cu > 0.0 { money / cu } else { 0.0 };
        for (line, a) in lines.iter_mut().zip(item_amounts.iter_mut()) {
            line.cu = Some(line.amount);
            line.amount *= per_cu;
            *a = line.amount;
        }
        cu_total = Some(cu);
        lines.push(Line {
            item: "compute units".into(),
            quantity: cu,
            unit: "CU".into(),
            rate: tiers.first_price(),
            rate_unit: format!("{}/CU", sheet.currency),
            cu: Some(cu),
            amount: money,
        });
    }
    // share each item's amount among functions and phases
    let mut functions = vec![FnCost::default(); nf];
    for (k, per_fn) in shares.iter().enumerate() {
        let qty: f64 = per_fn.iter().flat_map(|q| q.iter()).sum();
        if qty <= 0.0 {
            continue;
        }
        let cu_per_unit = item_cu[k] / qty;
        let money_per_unit = item_amounts[k] / qty;
        for (f, q) in per_fn.iter().enumerate() {
            for (slot, &x) in q.iter().enumerate() {
                functions[f].by_phase[slot] += x * money_per_unit;
                if sheet.compute_units.is_some() {
                    functions[f].cu += x * cu_per_unit;
                }
            }
        }
    }
    let mut minimum = 0.0;
    let mut minimum_hours = 0;
    for (fc, f) in functions.iter_mut().zip(&run.functions) {
        fc.minimum = f.topups.amount;
        minimum += f.topups.amount;
        minimum_hours += f.topups.hours;
        fc.total = fc.by_phase.iter().sum::<f64>() + fc.minimum;
    }
    if sheet.minimum_per_function_hour > 0.0 {
        lines.push(Line {
            item: "minimum charge per function-hour (top-up)".into(),
            quantity: minimum_hours as f64,
            unit: "function-hours".into(),
            rate: sheet.minimum_per_function_hour,
            rate_unit: format!("{}/function-hour (at least)", sheet.currency),
            cu: None,
            amount: minimum,
        });
    }
    let priced: f64 = if sheet.compute_units.is_some() {
        lines.iter().filter(|l| l.item == "compute units").map(|l| l.amount).sum()
    } else {
        item_amounts.iter().sum()
    };
    Bill {
        currency: sheet.currency.clone(),
        lines,
        cu: cu_total,
        minimum,
        minimum_hours,
        total: priced + minimum,
        functions,
        month: None,
    }
}

/// Money for exact `usage` (per instance kind) and `started` requests at first-tier rates,
/// no rounding, tiers, free tier or minimum: the marginal cost of a slice of a run. `spec`:
/// one function's usage (`None`: a mix of CPU functions).
pub fn rate_cost(sheet: &Sheet, spec: Option<&Spec>, usage: &[Usage; 2], started: [u64; 2]) -> f64 {
    cost(sheet, spec, spec.and_then(|s| s.gpu), usage, started)
}

/// Money for a time-series bucket at first-tier rates: its `usage` (all functions) with the
/// part GPU functions made, by card and idle mode (`gpu`), priced at their own rates.
pub fn bucket_cost(sheet: &Sheet, usage: &[Usage; 2], gpu: &[(GpuUse, [Usage; 2])], started: [u64; 2]) -> f64 {
    if gpu.is_empty() {
        return cost(sheet, None, None, usage, started);
    }
    let mut cpu = usage.clone();
    for (_, u) in gpu {
        cpu[0].remove(&u[0]);
        cpu[1].remove(&u[1]);
    }
    let mut total = cost(sheet, None, None, &cpu, started);
    for (g, u) in gpu {
        total += cost(sheet, None, Some(*g), u, [0, 0]);
    }
    total
}

/// [`rate_cost`] for usage of functions with `gpu` (one function's when `spec` is given).
fn cost(sheet: &Sheet, spec: Option<&Spec>, gpu: Option<GpuUse>, usage: &[Usage; 2], started: [u64; 2]) -> f64 {
    let cu_price = sheet.compute_units.as_ref().map_or(1.0, |t| t.first_price());
    let mut total = 0.0;
    for item in &sheet.items {
        let rate = item.rate_for(gpu.map(|g| g.kind));
        if rate == 0.0 {
            continue;
        }
        for &k in kinds(item.instances) {
            if item.resource == Resource::Requests {
                total += started[k] as f64 * rate;
                continue;
            }
            for p in phases(sheet, gpu, item.state) {
                let u = &usage[k];
                let unit_us = match (spec, item.resource) {
                    // a function's own usage: time × its size
                    (Some(s), r) => u.inst_us[p.index()] as f64 * size(r, s),
                    // a mix of functions: the usage already carries resource × time
                    (None, Resource::Vcpu) => u.mvcpu_us[p.index()] as f64 / 1000.0,
                    (None, Resource::Memory) => u.mb_us[p.index()] as f64 / 1024.0,
                    (None, Resource::Disk) => u.disk_mb_us[p.index()] as f64 / 1024.0,
                    (None, Resource::Gpu) => u.gpu_mb_us[p.index()] as f64 / 1024.0,
                    (None, Resource::Requests) => 0.0,
                };
                total += unit_us / 1e6 * rate;
            }
        }
    }
    total * cu_price
}

/// Money for one instance's exact phase times at first-tier rates (no requests); nothing
/// for an instance that never started when the sheet leaves those unbilled.
pub fn instance_cost(
    sheet: &Sheet,
    spec: &Spec,
    reserved: bool,
    never_started: bool,
    times: &crate::usage::PhaseTimes,
) -> f64 {
    if never_started && sheet.never_started == NeverStartedBilling::Free {
        return 0.0;
    }
    let mut u: [Usage; 2] = Default::default();
    let k = reserved as usize;
    for p in Phase::ALL {
        u[k].inst_us[p.index()] = times[p.index()] as u128;
    }
    rate_cost(sheet, Some(spec), &u, [0, 0])
}
