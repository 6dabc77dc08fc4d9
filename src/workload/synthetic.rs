//! TEMPORARY stand-in until the workload branch lands.
use crate::scenario::model::{Arrivals, Micros};
use rand::Rng;
use rand_distr::{Distribution, Exp1};
#[derive(Debug, Clone)]
pub struct ArrivalGen {
    a: Arrivals,
    t: f64,
    until: Micros,
    first: bool,
}
impl ArrivalGen {
    pub fn new(arrivals: &Arrivals, from: Micros, until: Micros) -> ArrivalGen {
        ArrivalGen {
            a: arrivals.clone(),
            t: from as f64,
            until,
            first: true,
        }
    }
    pub fn next<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Option<Micros> {
        match &self.a {
            Arrivals::Poisson { rate } => {
                let e: f64 = Exp1.sample(rng);
                self.t += e * 1e6 / rate;
            }
            Arrivals::Constant { interval } => {
                if !self.first {
                    self.t += *interval as f64;
                }
            }
            _ => unimplemented!(),
        }
        self.first = false;
        let t = self.t as u64;
        if t >= self.until {
            None
        } else {
            Some(t)
        }
    }
}
