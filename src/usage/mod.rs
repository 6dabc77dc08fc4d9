//! Exact usage meters. The platform records how long each instance spent in each phase, in
//! integer microseconds; resources × time are kept as integers (MB·µs, milli-vCPU·µs) in
//! u128, so a month of 10,000 instances at 32 GB cannot overflow or drift. Conversion to
//! GB·s and vCPU·s happens once, when a report is written.
//!
//! Besides exact usage, the run keeps billed time under the price sheet's rounding rules:
//! the one set of rounding types and the hooks that apply them are in [`meters`].

pub mod meters;

pub use meters::{Billed, HourTopup, Meters, Period, Rounding, Topups};

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
/// `Meters::rules` order), and its hourly-minimum top-ups.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FnUsage {
    pub spec: Spec,
    pub started: [u64; 2],
    pub usage: [Usage; 2],
    pub billed: Vec<Billed>,
    pub topups: Topups,
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
    pub fn scaled(&self, k: f64) -> RunUsage {
        RunUsage {
            functions: self
                .functions
                .iter()
                .map(|f| FnUsage {
                    spec: f.spec,
                    started: f.started.map(|n| (n as f64 * k).round() as u64),
                    usage: [f.usage[0].scaled(k), f.usage[1].scaled(k)],
                    billed: f.billed.iter().map(|b| b.map(|kind| kind.map(|x| scale(x, k)))).collect(),
                    topups: meters::Topups {
                        amount: f.topups.amount * k,
                        hours: (f.topups.hours as f64 * k).round() as u64,
                    },
                })
                .collect(),
        }
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
        let spec = Spec { memory_mb: 1024, milli_vcpu: 1000, disk_mb: 512, gpu_mb: 0 };
        u.add(Phase::Pull, &spec, 10_000_000);
        assert_eq!(u.gbs(Phase::Pull), 10.0);
        assert_eq!(u.vcpu_s(Phase::Pull), 10.0);
        assert_eq!(u.gbs(Phase::Busy), 0.0);
    }

    #[test]
    fn a_month_of_ten_thousand_32_gb_instances_does_not_overflow() {
        let mut u = Usage::default();
        let spec = Spec { memory_mb: 32 * 1024, milli_vcpu: 16_000, disk_mb: 10 * 1024, gpu_mb: 0 };
        let month: Micros = 31 * 86_400 * 1_000_000;
        for _ in 0..10_000 {
            u.add(Phase::Busy, &spec, month);
        }
        let expect = 32.0 * 31.0 * 86_400.0 * 10_000.0;
        assert_eq!(u.gbs(Phase::Busy), expect);
    }
}
