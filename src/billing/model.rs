//! A validated price sheet: which phases of an instance's life are billed and how, the
//! billable items with their rates, tiers and free allowances, rounding rules, minimums,
//! currency and provenance. Sheets are data (TOML under `scenarios/pricing/` or a user's
//! file); this is what they become after validation. See `sheet.rs` for the file format.

use crate::usage::{GpuKind, Phase, Rounding};

#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// Short name (`fc3`, `lambda`, ... or the file stem).
    pub name: String,
    /// One line saying what it prices.
    pub title: String,
    /// ISO 4217 code of every amount (`CNY`, `USD`).
    pub currency: String,
    /// Where the prices come from and when they were read.
    pub source: String,
    pub as_of: String,
    /// How each phase is billed, indexed by `Phase::index()`.
    pub phases: [PhaseBilling; Phase::COUNT],
    /// How each phase of a GPU function is billed (`[phases.gpu]`; as `phases` where unset).
    pub gpu_phases: [PhaseBilling; Phase::COUNT],
    /// What instances that never started (missed the start limit) cost.
    pub never_started: NeverStartedBilling,
    /// Named rounding rules; items refer to them by index.
    pub roundings: Vec<NamedRounding>,
    pub items: Vec<Item>,
    /// When present, item rates are in compute units (CU) and CU are priced by these tiers.
    pub compute_units: Option<Tiers>,
    /// Per function and clock hour with activity, the hour costs at least this (0 = off).
    pub minimum_per_function_hour: f64,
    /// The hourly minimum applies to CPU functions only (`[minimum] applies_to = "cpu"`).
    pub minimum_cpu_only: bool,
    /// Monthly free allowances are subtracted before pricing only when enabled.
    pub free_tier_enabled: bool,
    /// Free CU per month (when `compute_units`), applied to the CU total.
    pub free_cu: f64,
}

impl Sheet {
    /// The GPU cards this sheet rates when it rates GPU memory per card: the kinds every
    /// per-card item names. `None` when no item rates per card (every card is billed alike).
    pub fn gpu_kinds(&self) -> Option<Vec<&str>> {
        let mut per_kind = self.items.iter().filter(|i| !i.kind_rates.is_empty());
        let first = per_kind.next()?;
        let mut kinds: Vec<&str> = first.kind_rates.iter().map(|(k, _)| k.as_str()).collect();
        for it in per_kind {
            kinds.retain(|k| it.kind_rates.iter().any(|(n, _)| n == k));
        }
        Some(kinds)
    }
}

/// Whether instances released because they did not start in time are billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeverStartedBilling {
    /// Their phases are billed as the sheet's `[phases]` say, like any instance's.
    Bill,
    /// Nothing of their life is billed.
    Free,
}

/// Whether a phase is billed, and at the active or the idle rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseBilling {
    Active,
    Idle,
    None,
}

/// A `[rounding.NAME]` rule of the sheet: its name (items refer to it) and the rule the
/// run's meters apply ([`crate::usage::meters`], where every rounding rule is applied).
#[derive(Debug, Clone, PartialEq)]
pub struct NamedRounding {
    pub name: String,
    pub rule: Rounding,
}

/// Which instances an item applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instances {
    All,
    OnDemand,
    Reserved,
}

/// The resource an item measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// vCPU·s
    Vcpu,
    /// memory GB·s (GB = 1024 MB)
    Memory,
    /// disk GB·s
    Disk,
    /// GPU memory GB·s
    Gpu,
    /// requests that started executing
    Requests,
}

/// Which time of an instance an item counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Phases billed as active.
    Active,
    /// Phases billed as idle.
    Idle,
    /// Every phase of the instance's life, billed or not (provisioned / always-ready baselines).
    Life,
}

/// Price per unit by cumulative monthly quantity: `(up_to, price)` with the last `up_to`
/// infinite; thresholds strictly increasing.
#[derive(Debug, Clone, PartialEq)]
pub struct Tiers {
    pub steps: Vec<(f64, f64)>,
}

impl Tiers {
    pub fn flat(price: f64) -> Self {
        Tiers { steps: vec![(f64::INFINITY, price)] }
    }

    /// Price of `quantity` units counted from zero: each tier's part at its price.
    pub fn amount(&self, quantity: f64) -> f64 {
        let mut left = quantity;
        let mut from = 0.0;
        let mut total = 0.0;
        for &(up_to, price) in &self.steps {
            if left <= 0.0 {
                break;
            }
            let span = (up_to - from).min(left);
            total += span * price;
            left -= span;
            from = up_to;
        }
        total
    }

    /// The first tier's price (marginal price of the first unit).
    pub fn first_price(&self) -> f64 {
        self.steps.first().map_or(0.0, |s| s.1)
    }
}

/// One line of the bill.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub name: String,
    pub resource: Resource,
    pub state: State,
    pub instances: Instances,
    /// Index into `Sheet::roundings`; `None` = exact microseconds.
    pub rounding: Option<usize>,
    /// Per unit (in CU when the sheet has `compute_units`).
    pub tiers: Tiers,
    /// GPU items rated per card (`rate = { tesla = 2.1, ada = 1.5 }`): each card's flat rate,
    /// by name; empty = `tiers` price every card. When set, `tiers` holds the lowest rate.
    pub kind_rates: Vec<(String, f64)>,
    /// Free quantity per month (used only when the free tier is enabled).
    pub free: f64,
    /// Unit as printed on the bill, e.g. "vCPU·s", "GB·s", "requests".
    pub unit: String,
}

impl Item {
    /// The first-tier rate for a function with GPU `kind`: its card's rate on an item rated
    /// per card (0 for a card the item does not rate, which validation refuses, or for a CPU
    /// function, which has no GPU memory), else the first tier's.
    pub fn rate_for(&self, kind: Option<GpuKind>) -> f64 {
        if self.kind_rates.is_empty() {
            return self.tiers.first_price();
        }
        kind.and_then(|k| self.kind_rates.iter().find(|(n, _)| n == k.name())).map_or(0.0, |(_, r)| *r)
    }
}
