//! TEMPORARY stand-in until the workload branch lands.
use crate::scenario::model::{Dist, Micros};
use rand::Rng;
use rand_distr::{Distribution, Exp1};
impl Dist {
    pub fn sampler(&self) -> Sampler {
        Sampler(self.clone())
    }
}
#[derive(Debug, Clone)]
pub struct Sampler(Dist);
impl Sampler {
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Micros {
        match &self.0 {
            Dist::Fixed(v) => *v,
            Dist::Exp { mean } => {
                let e: f64 = Exp1.sample(rng);
                (e * *mean as f64).round() as u64
            }
            _ => 0,
        }
    }
}
