//! The meters: billed time under each rounding rule, and the hourly-minimum top-ups,
//! collected while the run goes. This is where every metering rule of a price sheet is
//! applied; the platform only calls the hooks ([`Meters::stretch`], [`Meters::request`],
//! [`Meters::instance_end`], [`Meters::hour`]) as instances change phase, serve requests and
//! end, and as each function's clock hour with activity closes.
//!
//! Following one rule end to end, e.g. FC's 10 s rounding of provisioned instances:
//! `scenarios/pricing/fc3.toml` `[rounding.reserved] period = "instance", quantum = "10s"`
//! → read by `billing/sheet.rs` (`roundings`) into a [`Rounding`] → handed to the run as
//! [`Meters::rules`] by `billing::meters` → applied here ([`Meters::instance_end`]: the whole
//! life rounded once, the remainder billed as idle) → priced per item by `billing::bill`.
//! The hourly minimum the same way: `[minimum] per_function_hour` → `billing/sheet.rs` →
//! [`Meters::hourly`] (the sheet prices an hour, [`HourTopup`]) → summed per function here
//! ([`Meters::hour`] into [`Topups`]) → carried by the usage into the bill's minimum lines.

use std::sync::Arc;

use super::{Phase, PhaseTimes, Spec, Usage};
use crate::units::Micros;

/// What one rounded billed period is (a price sheet's `[rounding.NAME] period`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Each contiguous stretch of one phase: a busy period (the union of overlapping
    /// requests), a pull, an idle stretch.
    Interval,
    /// Busy time: each request's execution on its own (no union); other phases as Interval.
    Request,
    /// The instance's whole life, rounded once; the rounding remainder is billed as the
    /// instance's idle phase (idle_reserved or idle_keepalive).
    Instance,
}

/// How billed time is rounded up (a price sheet's `[rounding.NAME]`; time only, no money).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rounding {
    pub period: Period,
    /// Round each period up to a multiple of this (µs, ≥ 1; 1 = exact).
    pub quantum: Micros,
    /// Each period bills at least this.
    pub minimum: Micros,
    /// Lambda: the instance's billed start-up time is added to its first request before
    /// rounding (and not billed on its own). Only with `Period::Request`.
    pub init_into_first_request: bool,
}

impl Rounding {
    /// `d` rounded up to the quantum, at least the minimum; an empty period counts nothing.
    #[inline]
    pub fn round(&self, d: Micros) -> Micros {
        if d == 0 {
            return 0;
        }
        let q = self.quantum.max(1);
        (d.div_ceil(q) * q).max(self.minimum)
    }

    /// Whether a closed stretch of `phase` is rounded on its own under this rule.
    #[inline]
    pub fn rounds_intervals_of(&self, phase: Phase) -> bool {
        match self.period {
            Period::Interval => true,
            Period::Instance => false,
            Period::Request => !(phase == Phase::Busy || (self.init_into_first_request && phase == Phase::Startup)),
        }
    }
}

/// Rounded billed µs per instance kind (0 on-demand, 1 reserved) and phase, under one rule.
pub type Billed = [[u128; Phase::COUNT]; 2];

/// Add `o`'s billed time to `into`, rule by rule.
pub fn merge_billed(into: &mut Vec<Billed>, o: &[Billed]) {
    if into.len() < o.len() {
        into.resize(o.len(), Default::default());
    }
    for (a, b) in into.iter_mut().zip(o) {
        for k in 0..2 {
            for p in 0..Phase::COUNT {
                a[k][p] += b[k][p];
            }
        }
    }
}

/// What the meters collect besides exact usage: rounded billed time under each rule, and
/// per-function clock hours with activity, topped up to the hourly minimum.
#[derive(Clone, Default)]
pub struct Meters {
    rules: Vec<Rounding>,
    /// Clock-hour records per function and how an hour is topped up (`None` = no hourly
    /// minimum, and no clock hours kept).
    hourly: Option<Arc<dyn HourTopup>>,
    /// Per phase, the rules that round its stretches on their own (worked out once from
    /// `rules`: the hook runs twice per request).
    stretch_plan: [Vec<(usize, Rounding)>; Phase::COUNT],
    /// The rules that round each request on its own (`Period::Request`).
    request_plan: Vec<(usize, Rounding)>,
}

impl std::fmt::Debug for Meters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Meters").field("rules", &self.rules).field("hourly", &self.hourly.is_some()).finish()
    }
}

impl Meters {
    /// Meters applying `rules` (billed time is kept per rule, in this order), with clock hours
    /// topped up by `hourly` when there is an hourly minimum.
    pub fn new(rules: Vec<Rounding>, hourly: Option<Arc<dyn HourTopup>>) -> Self {
        let stretch_plan = std::array::from_fn(|p| {
            let phase = Phase::ALL[p];
            rules.iter().enumerate().filter(|(_, r)| r.rounds_intervals_of(phase)).map(|(i, r)| (i, *r)).collect()
        });
        let request_plan =
            rules.iter().enumerate().filter(|(_, r)| r.period == Period::Request).map(|(i, r)| (i, *r)).collect();
        Meters { rules, hourly, stretch_plan, request_plan }
    }

    /// The same rules without the hourly minimum (no clock hours kept).
    pub fn without_hourly(&self) -> Self {
        Meters { hourly: None, ..self.clone() }
    }

    /// The rounding rules, in the order billed time is kept.
    pub fn rules(&self) -> &[Rounding] {
        &self.rules
    }

    /// Whether clock hours are kept (the sheet has an hourly minimum).
    pub fn keeps_hours(&self) -> bool {
        self.hourly.is_some()
    }

    /// The rules (by index) that round stretches of `phase` on their own: the billed
    /// counters such a stretch adds to.
    pub fn rounding(&self, phase: Phase) -> impl Iterator<Item = usize> + '_ {
        self.stretch_plan[phase.index()].iter().map(|e| e.0)
    }

    /// Whether any rule rounds requests on their own.
    pub fn rounds_requests(&self) -> bool {
        !self.request_plan.is_empty()
    }
}

/// The top-up that brings one function's clock hour with activity to the hourly minimum,
/// from the function's spec and the hour's usage and started requests by instance kind
/// (on-demand, reserved). The price sheet implements it (`billing`); usage holds no prices.
pub trait HourTopup: Send + Sync {
    fn topup(&self, spec: &Spec, usage: &[Usage; 2], started: [u64; 2]) -> f64;
}

impl<F: Fn(&[Usage; 2], [u64; 2]) -> f64 + Send + Sync> HourTopup for F {
    fn topup(&self, _spec: &Spec, usage: &[Usage; 2], started: [u64; 2]) -> f64 {
        self(usage, started)
    }
}

/// One function's hourly-minimum top-ups: the money added and the hours it was added to.
/// The one accumulator of the hourly minimum: every output reads it from the bill.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Topups {
    pub amount: f64,
    pub hours: u64,
}

impl Topups {
    /// Count an hour's top-up (an hour already at the minimum adds nothing).
    #[inline]
    pub fn add(&mut self, top: f64) {
        if top > 0.0 {
            self.amount += top;
            self.hours += 1;
        }
    }

    pub fn merge(&mut self, o: &Topups) {
        self.amount += o.amount;
        self.hours += o.hours;
    }
}

impl Meters {
    /// Hook: a clock hour with activity of a function of `spec` closed with `usage` and
    /// `started` requests (by instance kind); its top-up to the hourly minimum goes into
    /// `topups`.
    pub fn hour(&self, topups: &mut Topups, spec: &Spec, usage: &[Usage; 2], started: [u64; 2]) {
        if let Some(h) = &self.hourly {
            topups.add(h.topup(spec, usage, started));
        }
    }

    /// Hook: an instance of kind `k` closed a stretch of `phase` lasting `dt`; the rules that
    /// round stretches add it, rounded, to `billed` (one entry per rule).
    #[inline]
    pub fn stretch(&self, billed: &mut [Billed], k: usize, phase: Phase, dt: Micros) {
        if dt == 0 {
            return;
        }
        for (r, rule) in &self.stretch_plan[phase.index()] {
            billed[*r][k][phase.index()] += rule.round(dt) as u128;
        }
    }

    /// Hook: a request ran for `busy` on an instance of kind `k`; `init` is the instance's
    /// start-up time when this is its first request (else 0), added under
    /// `init_into_first_request`.
    #[inline]
    pub fn request(&self, billed: &mut [Billed], k: usize, busy: Micros, init: Micros) {
        for (r, rule) in &self.request_plan {
            let extra = if rule.init_into_first_request { init } else { 0 };
            billed[*r][k][Phase::Busy.index()] += rule.round(busy + extra) as u128;
        }
    }

    /// Hook: an instance of kind `k` ended after `times` in each phase; `served` says whether
    /// it ran a request. Whole-life rules round its life once (the remainder is idle time);
    /// an instance that never served bills its start-up on its own under
    /// `init_into_first_request`.
    #[inline]
    pub fn instance_end(&self, billed: &mut [Billed], k: usize, times: &PhaseTimes, served: bool) {
        for (b, rule) in billed.iter_mut().zip(&self.rules) {
            let b = &mut b[k];
            match rule.period {
                Period::Instance => {
                    let total: u64 = times.iter().sum();
                    for p in Phase::ALL {
                        b[p.index()] += times[p.index()] as u128;
                    }
                    let idle = if k == 1 { Phase::IdleReserved } else { Phase::IdleKeepalive };
                    b[idle.index()] += (rule.round(total) - total) as u128;
                }
                Period::Request if rule.init_into_first_request && !served => {
                    b[Phase::Startup.index()] += rule.round(times[Phase::Startup.index()]) as u128;
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_goes_up_to_the_quantum_and_the_minimum() {
        let fc_reserved =
            Rounding { period: Period::Instance, quantum: 10_000_000, minimum: 0, init_into_first_request: false };
        assert_eq!(fc_reserved.round(51_000_000), 60_000_000);
        assert_eq!(fc_reserved.round(61_000_000), 70_000_000);
        assert_eq!(fc_reserved.round(60_000_000), 60_000_000);
        let azure =
            Rounding { period: Period::Interval, quantum: 100_000, minimum: 1_000_000, init_into_first_request: false };
        assert_eq!(azure.round(350_000), 1_000_000);
        assert_eq!(azure.round(1_234_567), 1_300_000);
        assert_eq!(azure.round(0), 0);
    }

    #[test]
    fn an_hour_at_the_minimum_adds_no_top_up_and_no_hour() {
        let m = Meters::new(vec![], Some(Arc::new(|u: &[Usage; 2], _: [u64; 2]| 1.0 - u[0].inst_us[0] as f64)));
        let mut t = Topups::default();
        let mut u: [Usage; 2] = Default::default();
        let spec = Spec::default();
        m.hour(&mut t, &spec, &u, [0, 0]);
        u[0].inst_us[0] = 2;
        m.hour(&mut t, &spec, &u, [0, 0]);
        assert_eq!(t, Topups { amount: 1.0, hours: 1 });
        Meters::default().hour(&mut t, &spec, &u, [0, 0]);
        assert_eq!(t.hours, 1);
    }
}
