//! Reserved (provisioned) instances: the target in force (fixed, or daily schedule steps)
//! and the adjustment of live reserved instances towards it.

use crate::engine::EventQueue;
use crate::units::{Micros, MICROS_PER_DAY as DAY};

use super::instance::State;
use super::{Event, Platform};

impl Platform<'_> {
    /// Bring the live reserved instances to the target: create the missing ones; release
    /// idle surplus at once and mark busy or starting surplus to go when idle.
    pub(super) fn adjust_reserved(&mut self, f: u32, now: Micros, q: &mut EventQueue<Event>) {
        let fu = f as usize;
        while self.funcs[fu].reserved_live < self.funcs[fu].reserved_target {
            if self.create_instance(f, true, now, q).is_none() {
                break;
            }
        }
        while self.funcs[fu].reserved_live > self.funcs[fu].reserved_target {
            let idle = self.funcs[fu].avail_reserved.iter(&self.insts.items).find(|&i| self.insts.get(i).inflight == 0);
            let victim = match idle {
                Some(i) => Some(i),
                None => self.insts.live().find(|&i| {
                    let it = self.insts.get(i);
                    it.func == f && it.reserved && !it.release_when_idle
                }),
            };
            let Some(i) = victim else { break };
            self.funcs[fu].reserved_live -= 1;
            self.insts.get_mut(i).release_when_idle = true;
            if self.insts.get(i).state == State::Ready && self.insts.get(i).inflight == 0 {
                self.release(i, now, "scale_down", q);
            }
        }
    }

    pub(super) fn on_reserved_step(&mut self, f: u32, step: u32, now: Micros, q: &mut EventQueue<Event>) {
        let s = self.funcs[f as usize].steps[step as usize];
        self.funcs[f as usize].reserved_target = s.count;
        self.adjust_reserved(f, now, q);
        if now + DAY < self.horizon {
            q.push(now + DAY, Event::ReservedStep { func: f, step });
        }
    }
}
