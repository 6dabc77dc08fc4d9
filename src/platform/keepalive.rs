//! Keep-alive: an idle on-demand instance stays warm for `keep_alive`, then is reclaimed.
//! One function shares one keep-alive, so its deadlines form a FIFO with one timer.

use crate::engine::EventQueue;
use crate::units::Micros;

use super::instance::State;
use super::{Event, Platform};

impl Platform<'_> {
    /// An instance has no request left: release it if asked to; otherwise start (or keep)
    /// its keep-alive clock if it is on-demand. Keep-alive 0 releases at once.
    pub(super) fn went_idle(&mut self, i: u32, now: Micros, q: &mut EventQueue<Event>) {
        let it = self.insts.get(i);
        if it.release_when_idle {
            self.release(i, now, "scale_down", q);
            return;
        }
        if it.reserved {
            return;
        }
        let (f, gen) = (it.func, it.gen);
        let fr = &mut self.funcs[f as usize];
        let ka = fr.keep_alive;
        if ka == 0 {
            self.release(i, now, "keep_alive", q);
            return;
        }
        // one function shares one keep-alive, so deadlines arrive in order: a FIFO, and one
        // timer per function for its oldest entry, keep the event queue small
        fr.expiries.push_back((now + ka, i, gen));
        if !fr.expiry_timer_armed {
            fr.expiry_timer_armed = true;
            q.push(now + ka, Event::KeepAlive { func: f });
        }
    }

    /// Release every instance whose keep-alive ran out by `now`, then time the oldest entry
    /// still in force. An entry is in force while its instance is idle since that very idle
    /// transition; others (used since, or gone) are dropped here without an event of their own.
    pub(super) fn on_keepalive(&mut self, f: u32, now: Micros, q: &mut EventQueue<Event>) {
        let fu = f as usize;
        self.funcs[fu].expiry_timer_armed = false;
        let ka = self.funcs[fu].keep_alive;
        while let Some(&(deadline, i, gen)) = self.funcs[fu].expiries.front() {
            let it = self.insts.get(i);
            let in_force =
                it.gen == gen && it.state == State::Ready && it.inflight == 0 && it.idle_since + ka == deadline;
            if in_force && deadline > now {
                self.funcs[fu].expiry_timer_armed = true;
                q.push(deadline, Event::KeepAlive { func: f });
                return;
            }
            self.funcs[fu].expiries.pop_front();
            if in_force {
                self.release(i, now, "keep_alive", q);
            }
        }
    }
}
