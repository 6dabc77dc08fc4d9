//! Exact usage meters. The platform records how long each instance spent in each phase, in
//! integer microseconds; resources × time are kept as integers (MB·µs, milli-vCPU·µs) in
//! u128, so a month of 10,000 instances at 32 GB cannot overflow or drift. Conversion to
//! GB·s and vCPU·s happens once, when a report is written.
//!
//! Besides exact usage, the run keeps billed time under the price sheet's rounding rules:
//! the one set of rounding types and the hooks that apply them are in [`meters`].

pub mod meters;

pub use meters::{merge_billed, Billed, HourTopup, Meters, Period, Rounding, Topups};

use crate::units::Micros;

/// The phases of an instance's life that a price sheet can bill separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    /// Downloading and extracting image layers that were not in the host's cache.
    Pull,
    /// Container create + start (the runtime's part).
    Create,
    /// App start: runtime init and Initializer until the HTTP server answers.
    Startup,
    /// At least one request in flight (the union of request intervals).
    Busy,
    /// An on-demand instance with no request, waiting for keep-alive to expire.
    IdleKeepalive,
    /// A reserved instance with no request.
    IdleReserved,
}

impl Phase {
    pub const ALL: [Phase; 6] =
        [Phase::Pull, Phase::Create, Phase::Startup, Phase::Busy, Phase::IdleKeepalive, Phase::IdleReserved];
    pub const COUNT: usize = 6;

    /// The name used in files and price sheets.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Pull => "pull",
            Phase::Create => "create",
            Phase::Startup => "startup",
            Phase::Busy => "busy",
            Phase::IdleKeepalive => "idle_keepalive",
            Phase::IdleReserved => "idle_reserved",
        }
    }

    #[inline]
    pub fn index(self) -> usize {
        self as usize
    }

    /// Idle phases: no request in flight (FC bills vCPU at zero there).
    pub fn is_idle(self) -> bool {
        matches!(self, Phase::IdleKeepalive | Phase::IdleReserved)
    }
}

/// Time spent in each phase, µs.
pub type PhaseTimes = [Micros; Phase::COUNT];

/// Resource × time per phase, summed over instances.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// MB·µs per phase (memory as configured, never as measured).
    pub mb_us: [u128; Phase::COUNT],
    /// milli-vCPU·µs per phase.
    pub mvcpu_us: [u128; Phase::COUNT],
    /// Disk MB·µs per phase.
    pub disk_mb_us: [u128; Phase::COUNT],
    /// GPU memory MB·µs per phase.
    pub gpu_mb_us: [u128; Phase::COUNT],
    /// Instance·µs per phase.
    pub inst_us: [u128; Phase::COUNT],
}

/// The spec an instance is billed for (`scenario::Function::spec` gives a function's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spec {
    pub memory_mb: u64,
    pub milli_vcpu: u64,
    pub disk_mb: u64,
    pub gpu_mb: u64,
    /// The GPU's card and idle mode (`None` = a CPU function): a sheet may rate GPU memory
    /// per card and bill GPU functions' phases on their own.
    pub gpu: Option<GpuUse>,
}

/// What a bill needs to know of a function's GPU besides its memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GpuUse {
    pub kind: GpuKind,
    /// FC's idle mode for reserved (minimum) GPU instances: off, their idle time is billed at
    /// the active rates.
    pub idle_mode: bool,
}

/// A GPU card's name (lower case, as the provider profile lists it), interned so that
/// [`Spec`] stays `Copy`: the names are the few kinds provider profiles offer.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GpuKind(&'static str);

impl GpuKind {
    /// The kind named `name`; the same name gives the same kind.
    pub fn new(name: &str) -> GpuKind {
        static NAMES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
        let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = names.iter().find(|n| **n == name) {
            return GpuKind(n);
        }
        let n: &'static str = Box::leak(name.to_string().into_boxed_str());
        names.push(n);
        GpuKind(n)
    }

    pub fn name(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Debug for GpuKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl Usage {
    /// Add `dt` µs in `phase` of an instance with `spec`.
    #[inline]
    pub fn add(&mut self, phase: Phase, spec: &Spec, dt: Micros) {
        let i = phase.index();
        let dt = dt as u128;
        self.mb_us[i] += spec.memory_mb as u128 * dt;
        self.mvcpu_us[i] += spec.milli_vcpu as u128 * dt;
        self.disk_mb_us[i] += spec.disk_mb as u128 * dt;
        self.gpu_mb_us[i] += spec.gpu_mb as u128 * dt;
        self.inst_us[i] += dt;
    }

    /// Add all phases of one instance's life.
    pub fn add_times(&mut self, spec: &Spec, times: &PhaseTimes) {
        for p in Phase::ALL {
            self.add(p, spec, times[p.index()]);
        }
    }

    /// Take away `other` (a part of this usage, e.g. one group of functions').
    pub fn remove(&mut self, other: &Usage) {
        for i in 0..Phase::COUNT {
            self.mb_us[i] = self.mb_us[i].saturating_sub(other.mb_us[i]);
            self.mvcpu_us[i] = self.mvcpu_us[i].saturating_sub(other.mvcpu_us[i]);
            self.disk_mb_us[i] = self.disk_mb_us[i].saturating_sub(other.disk_mb_us[i]);
            self.gpu_mb_us[i] = self.gpu_mb_us[i].saturating_sub(other.gpu_mb_us[i]);
            self.inst_us[i] = self.inst_us[i].saturating_sub(other.inst_us[i]);
        }
    }

    /// The usage of both instance kinds together (on-demand and reserved, as kept apart by
    /// a function's statistics and a time-series bucket).
    pub fn of_both(kinds: &[Usage; 2]) -> Usage {
        let mut u = kinds[0].clone();
        u.merge(&kinds[1]);
        u
    }

    pub fn merge(&mut self, other: &Usage) {
        for i in 0..Phase::COUNT {
            self.mb_us[i] += other.mb_us[i];
            self.mvcpu_us[i] += other.mvcpu_us[i];
            self.disk_mb_us[i] += other.disk_mb_us[i];
            self.gpu_mb_us[i] += other.gpu_mb_us[i];
            self.inst_us[i] += other.inst_us[i];
        }
    }

    /// Memory GB·s in `phase` (GB = 1024 MB).
    pub fn gbs(&self, phase: Phase) -> f64 {
        mb_us_to_gbs(self.mb_us[phase.index()])
    }

    pub fn gbs_total(&self) -> f64 {
        mb_us_to_gbs(self.mb_us.iter().sum())
    }

    /// vCPU·s in `phase`.
    pub fn vcpu_s(&self, phase: Phase) -> f64 {
        self.mvcpu_us[phase.index()] as f64 / 1e9
    }

    pub fn vcpu_s_total(&self) -> f64 {
        self.mvcpu_us.iter().sum::<u128>() as f64 / 1e9
    }
}

/// What a bill needs of one function's run: its billed spec, exact usage and started requests
/// by instance kind (on-demand, reserved), rounded billed time under each meter rule (in
/// `Meters::rules` order), its hourly-minimum top-ups, and the part of its usage that
/// instances which never started made (a sheet may leave it unbilled).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FnUsage {
    pub spec: Spec,
    pub started: [u64; 2],
    pub usage: [Usage; 2],
    pub billed: Vec<Billed>,
    pub topups: Topups,
    pub never_started: NeverStarted,
}

/// The usage and billed time of instances released because they did not start within the
/// start limit (FC's FunctionNotStarted): a part of [`FnUsage::usage`] and
/// [`FnUsage::billed`], kept apart so a sheet can leave it unbilled. Boxed on first use: few
/// functions have such instances, and a 10,000-function fleet should not carry 1 KB of zeros
/// per function.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NeverStarted(Option<Box<NeverStartedUse>>);

/// What [`NeverStarted`] holds once an instance did not start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NeverStartedUse {
    pub usage: [Usage; 2],
    /// Under each meter rule, as [`FnUsage::billed`].
    pub billed: Vec<Billed>,
}

impl NeverStarted {
    /// Count an instance of kind `k` (0 on-demand, 1 reserved) with `spec` that ended without
    /// starting after `times`: its usage, and its billed time under `meters`' rules. Its
    /// phases (pull, create, start-up) are each one stretch, entered once and never again, so
    /// the meters' hooks applied to its whole phase times give what they gave during its life.
    pub fn add(&mut self, meters: &Meters, k: usize, spec: &Spec, times: &PhaseTimes) {
        let u = self.0.get_or_insert_with(Default::default);
        u.usage[k].add_times(spec, times);
        if u.billed.len() < meters.rules().len() {
            u.billed.resize(meters.rules().len(), Default::default());
        }
        for p in Phase::ALL {
            meters.stretch(&mut u.billed, k, p, times[p.index()]);
        }
        meters.instance_end(&mut u.billed, k, times, false);
    }

    /// Its usage and billed time, if any instance did not start.
    pub fn get(&self) -> Option<&NeverStartedUse> {
        self.0.as_deref()
    }

    /// Exact instance·µs of instances of kind `k` in phase `p` (index) that did not start.
    pub fn inst_us(&self, k: usize, p: usize) -> u128 {
        self.get().map_or(0, |u| u.usage[k].inst_us[p])
    }

    /// Their billed µs under rule `r`, kind `k`, phase `p` (index).
    pub fn billed(&self, r: usize, k: usize, p: usize) -> u128 {
        self.get().and_then(|u| u.billed.get(r)).map_or(0, |b| b[k][p])
    }

    pub fn merge(&mut self, o: &NeverStarted) {
        let Some(o) = o.get() else { return };
        let u = self.0.get_or_insert_with(Default::default);
        for k in 0..2 {
            u.usage[k].merge(&o.usage[k]);
        }
        meters::merge_billed(&mut u.billed, &o.billed);
    }

    /// × `k`, in place (see [`RunUsage::into_scaled`]).
    fn scale(&mut self, k: f64) {
        if let Some(u) = &mut self.0 {
            scale_parts(&mut u.usage, &mut u.billed, k);
        }
    }
}

/// Usage by instance kind and billed time by rule, × `k`: what a function's usage and its
/// never-started part both hold.
fn scale_parts(usage: &mut [Usage; 2], billed: &mut [Billed], k: f64) {
    *usage = [usage[0].scaled(k), usage[1].scaled(k)];
    for b in billed {
        *b = b.map(|kind| kind.map(|x| scale(x, k)));
    }
}

/// The usage of one replication, per function in scenario order: all `billing::bill` reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunUsage {
    pub functions: Vec<FnUsage>,
}

impl Usage {
    /// This usage × `k` (each sum rounded to the nearest unit).
    pub fn scaled(&self, k: f64) -> Usage {
        let s = |a: &[u128; Phase::COUNT]| a.map(|x| scale(x, k));
        Usage {
            mb_us: s(&self.mb_us),
            mvcpu_us: s(&self.mvcpu_us),
            disk_mb_us: s(&self.disk_mb_us),
            gpu_mb_us: s(&self.gpu_mb_us),
            inst_us: s(&self.inst_us),
        }
    }
}

fn scale(x: u128, k: f64) -> u128 {
    (x as f64 * k).round() as u128
}

impl RunUsage {
    /// The usage of a run `k` times as long with the same behaviour: every quantity a bill
    /// reads (times, rounded times, requests, hourly top-ups) × `k`. With
    /// `k = 30 days / run length` this is the usage of a month, to be billed as a month.
    /// Scaled in place: a 10,000-function fleet's usage is some 20 MB, and a bill of the run
    /// and one of its month need not hold two copies.
    pub fn into_scaled(mut self, k: f64) -> RunUsage {
        for f in &mut self.functions {
            f.started = f.started.map(|n| (n as f64 * k).round() as u64);
            scale_parts(&mut f.usage, &mut f.billed, k);
            f.topups =
                meters::Topups { amount: f.topups.amount * k, hours: (f.topups.hours as f64 * k).round() as u64 };
            f.never_started.scale(k);
        }
        self
    }
}

/// MB·µs → GB·s, exactly divided once.
pub fn mb_us_to_gbs(mb_us: u128) -> f64 {
    // split to keep precision: whole GB·s plus remainder
    let denom: u128 = 1024 * 1_000_000;
    (mb_us / denom) as f64 + (mb_us % denom) as f64 / denom as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_1024_mb_instance_pulling_for_10_s_uses_10_gb_s() {
        let mut u = Usage::default();
        let spec = Spec { memory_mb: 1024, milli_vcpu: 1000, disk_mb: 512, gpu_mb: 0, gpu: None };
        u.add(Phase::Pull, &spec, 10_000_000);
        assert_eq!(u.gbs(Phase::Pull), 10.0);
        assert_eq!(u.vcpu_s(Phase::Pull), 10.0);
        assert_eq!(u.gbs(Phase::Busy), 0.0);
    }

    #[test]
    fn a_month_of_ten_thousand_32_gb_instances_does_not_overflow() {
        let mut u = Usage::default();
        let spec = Spec { memory_mb: 32 * 1024, milli_vcpu: 16_000, disk_mb: 10 * 1024, gpu_mb: 0, gpu: None };
        let month: Micros = 31 * 86_400 * 1_000_000;
        for _ in 0..10_000 {
            u.add(Phase::Busy, &spec, month);
        }
        let expect = 32.0 * 31.0 * 86_400.0 * 10_000.0;
        assert_eq!(u.gbs(Phase::Busy), expect);
    }
}
