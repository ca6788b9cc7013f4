//! Checking each event a coroutine replay's thread makes against its
//! recorded one (operation, call site, object, outcome) as it is made, and
//! counting it once it matches.

use reprise_recorder::hook::coop::{CoopCall, Site};
use reprise_recorder::trace::model::{
    Event, Happened, ObjectIndex, Op, Outcome, Received, ThreadIndex, TurnClass, OUTSIDE_MESSAGE,
};

use super::aside::Key;
use super::follow::Follow;
use super::state::State;
use crate::log::read_store;

impl State {
    /// Binds this run's object `actual` to the recording's `recorded`, or
    /// says why they cannot be the same object.
    #[inline]
    fn bind(&mut self, actual: ObjectIndex, recorded: ObjectIndex) -> Result<(), String> {
        match self.bound_to(actual) {
            Some(r) if r == recorded => Ok(()),
            Some(r) => Err(format!("this object is the recording's #{r}, not #{recorded}")),
            None if self.bound.contains(&recorded) => {
                Err(format!("the recording's object #{recorded} is another object in this run"))
            }
            None => {
                *self.objects.at(actual) = Some(recorded);
                self.bound.insert(recorded);
                Ok(())
            }
        }
    }

    /// The recording's object this run's `actual` is bound to.
    #[inline]
    pub(super) fn bound_to(&self, actual: ObjectIndex) -> Option<ObjectIndex> {
        self.objects.get(actual)
    }

    /// A call as reports show it, with this run's object in the recording's
    /// numbering when it is bound.
    pub(super) fn describe_call(&self, call: &CoopCall) -> String {
        let op = call.op.map_or("yield_now", Op::name);
        let object = match call.object {
            Some(o) => match self.bound_to(o) {
                Some(r) => format!(" of object #{r}"),
                None => " of an object the recording has not seen".into(),
            },
            None => String::new(),
        };
        format!("{op}{object} at {}", call.location)
    }

    /// Stops the replay at `thread`'s event `cursor`, where this run made
    /// `made` at `site`.
    fn fail(&mut self, thread: ThreadIndex, cursor: usize, made: &Event, site: Site<'_>, detail: String) {
        let object = match self.bound_to(made.object) {
            Some(r) if made.op.has_object() => format!(" of object #{r}"),
            None if made.op.has_object() => " of an object the recording has not seen".into(),
            _ => String::new(),
        };
        let actual = format!("{}{object} at {}:{}:{}", made.op.name(), site.file, site.line, site.column);
        Follow::diverge(self, thread, cursor, actual, detail);
    }

    /// Whether this run's outcome (`op`, `fields`) is the recorded `outcome`
    /// (of an event on the recording's `object`) but for its counter
    /// number, shifted by what the counter counted before this run: a
    /// primitive shared with earlier executions of the process (a `static`
    /// mutex a recording used, then its replay) goes on counting. A
    /// counter's shift is fixed at its first turn or reference in this run
    /// (none taken yet) and must hold for every later one, so a number
    /// that is off once still diverges.
    #[cold]
    fn shifted(&mut self, op: Op, fields: [u64; 3], outcome: &Outcome, object: ObjectIndex) -> bool {
        let (Ok(made), Some((counter, class, number))) =
            (Outcome::decode(op, fields), outcome.counter(object))
        else {
            return false;
        };
        let mut made_number = 0;
        let aligned = made.with_counter(object, |_, _, n| {
            made_number = n;
            number
        });
        if self.readers_aside(aligned, object) != self.readers_aside(*outcome, object) {
            return false;
        }
        let shift = made_number.wrapping_sub(number);
        match self.shifts.get(&(counter, class)) {
            Some(&fixed) => fixed == shift,
            None if self.counters.taken(counter, class) == 0 => {
                self.shifts.insert((counter, class), shift);
                true
            }
            None => false,
        }
    }

    /// `outcome` (of an event on the recording's `object`) without its
    /// readers when it is a write lock whose write before is not in the
    /// trace: those readers were another execution's (a `static` RwLock
    /// the process used before), in the recording and in this run alike.
    fn readers_aside(&self, outcome: Outcome, object: ObjectIndex) -> Outcome {
        let outside = |write: u64| write <= 1 || self.log.rank(object, TurnClass::Write, write - 1).is_none();
        match outcome {
            Outcome::WriteLock { write, .. } if outside(write) => Outcome::WriteLock { write, readers: 0 },
            Outcome::TryWriteLock { taken: Some((write, _)) } if outside(write) => {
                Outcome::TryWriteLock { taken: Some((write, 0)) }
            }
            _ => outcome,
        }
    }

    /// Checks `made` (this run's event, at `site`) against `thread`'s next
    /// recorded event; on a match, moves its cursor and counts it.
    pub(super) fn check(&mut self, thread: ThreadIndex, made: &Event, site: Site<'_>) {
        let Some(cursor) = self.slot(thread).map(|s| s.cursor) else { return };
        let Some((&recorded, outcome)) = self.recorded(thread) else {
            if self.complete && self.log.exited(thread) {
                let detail = "the recording says this thread had already exited".into();
                return self.fail(thread, cursor, made, site, detail);
            }
            self.overran(thread);
            return;
        };
        let outcome = outcome.copied();
        if recorded.op != made.op {
            let detail = format!("expected {}", self.log.describe(thread, &recorded));
            return self.fail(thread, cursor, made, site, detail);
        }
        let lifecycle = matches!(made.op, Op::ThreadStart | Op::ThreadExit);
        if !lifecycle && !self.log.site_matches(thread, recorded.site, site) {
            let detail =
                format!("expected {} at {}", made.op.name(), self.log.site_text(thread, recorded.site));
            return self.fail(thread, cursor, made, site, detail);
        }
        let Some(outcome) = outcome else {
            let detail = "the trace holds an outcome no recorder writes".into();
            return self.fail(thread, cursor, made, site, detail);
        };
        if let Some(why) = self.log.log.out_of_fifo(thread, cursor) {
            let detail = crate::log::no_run_gives(Some(&outcome), why);
            return self.fail(thread, cursor, made, site, detail);
        }
        let names_object = match outcome {
            Outcome::Select { received, .. } => {
                matches!(received, Received::Message { .. } | Received::Disconnected)
            }
            // A select's timer arm is recorded with object 0, a placeholder
            // (the timer's own receive follows): binding it would tie this
            // run's object 0, whatever it is, to the recording's.
            Outcome::SelectTimer { .. } => false,
            _ => made.op.has_object(),
        };
        if names_object {
            if let Err(why) = self.bind(made.object, recorded.object) {
                return self.fail(thread, cursor, made, site, why);
            }
        }
        let mut fields = [made.a, made.b, made.c];
        if let Outcome::CondWait { mutex, .. } = outcome {
            let this_run = made.c as ObjectIndex;
            if let Err(why) = self.bind(this_run, mutex) {
                return self.fail(thread, cursor, made, site, why);
            }
            fields[2] = u64::from(mutex);
        }
        if fields != [recorded.a, recorded.b, recorded.c]
            && !self.shifted(made.op, fields, &outcome, recorded.object)
        {
            let got = Outcome::decode(made.op, fields).map_or_else(|e| e.to_string(), |o| format!("{o:?}"));
            let detail = if outcome.received().is_some_and(|r| r.from_outside()) {
                OUTSIDE_MESSAGE.to_string()
            } else {
                format!("the recording's outcome was {outcome:?}; this run's is {got}")
            };
            return self.fail(thread, cursor, made, site, detail);
        }
        let happened = self.counters.apply(thread, &recorded, &outcome);
        self.note_backlog(recorded.object, &outcome, happened);
        if self.aside.any_waiting() {
            if let Some(happened) = happened {
                let taken = match happened {
                    Happened::Turn { object, class } => self.counters.taken(object, class),
                    _ => 0,
                };
                for key in Key::woken_by(happened, taken).into_iter().flatten() {
                    self.aside.wake(key);
                }
            }
            if read_store(&outcome).is_some() {
                self.aside.wake(Key::Loads(recorded.object));
            }
        }
        self.step(thread);
    }
}
