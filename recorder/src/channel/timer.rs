//! Timer channels: `after`, `at`, `tick`, `never`, with crossbeam's
//! semantics (`after`/`at`: one message at the deadline, then empty forever
//! but never disconnected; `tick`: a message every period, missed ticks
//! dropped; `never`: never ready, never disconnected).
//!
//! Which instant a receive got, or that it got none, is recorded
//! ([`Outcome::TimerRecv`]); a replay gives it back without waiting (time
//! is compressed, as for sleeps); the explorer runs timers on its virtual
//! clock, so an `after(1h)` costs no real time. Off and in record mode a
//! timer is crossbeam's own, over std's `Instant`: [`Timer::crossbeam`]
//! hands it to a `Select`, which can register it as crossbeam's select
//! does. Not under loom (no time there).

use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel as cb;

use super::flavor::{ends_of, Flavor, Shared};
use super::wait::{NoMessage, Wait};
use super::Receiver;
use crate::rt::context;
use crate::rt::coop;
use crate::rt::gated;
use crate::rt::mode::{self, Mode};
use crate::time::Instant;
use crate::trace::model::{Op, Outcome};

/// Turns a timer's std instant into the channel's message type (`None`
/// for `never`, which has no message).
type Make<T> = Option<fn(std::time::Instant) -> T>;

/// A timer channel's receiving end.
pub(super) struct Timer<T> {
    kind: Kind,
    make: Make<T>,
    /// Made outside any execution: passes through in every mode, as a
    /// channel made there does ([`Flavor::outside`](super::flavor::Flavor::outside)).
    outside: bool,
}

/// The clock a timer runs on, fixed by the mode that made it.
enum Kind {
    /// Off and record mode: crossbeam's timer.
    Crossbeam(cb::Receiver<std::time::Instant>),
    /// The explorer: deadlines in virtual nanoseconds.
    Virtual(Arc<Virtual>),
    /// A replay: each receive gives back its recorded outcome.
    Replayed,
}

/// A timer on the explorer's virtual clock.
struct Virtual {
    /// The next delivery, in virtual nanoseconds.
    next: AtomicU64,
    /// `Some(period)` for a tick; `None` for a one-shot (`after`, `at`).
    period: Option<u64>,
    /// A one-shot that delivered: empty forever after.
    spent: AtomicBool,
    /// `never`: nothing is ever delivered.
    never: bool,
}

impl<T> Timer<T> {
    /// Off and in record mode, the crossbeam receiver of std instants behind
    /// this timer, for a `Select` to register as crossbeam's select does
    /// (the select then records the receive itself); `None` in other
    /// modes, where the select asks [`Timer::ready_at`].
    pub(super) fn crossbeam(&self) -> Option<&cb::Receiver<std::time::Instant>> {
        match &self.kind {
            Kind::Crossbeam(rx) => Some(rx),
            _ => None,
        }
    }

    /// Under the explorer, the virtual time at which a receive would get a
    /// message (`None`: never again): a `Select` blocks until the earliest
    /// of its timer arms.
    pub(super) fn ready_at(&self) -> Option<u64> {
        match &self.kind {
            Kind::Virtual(v) if !v.never && !v.spent.load(Ordering::Relaxed) => {
                Some(v.next.load(Ordering::Relaxed))
            }
            _ => None,
        }
    }

    /// Completes `op`, an operation crossbeam's select chose on this
    /// timer's [`crossbeam`](Self::crossbeam) receiver (off and in record
    /// mode), recording the receive as [`receive`] does: a select that takes
    /// a timer arm records its own event, then this one. In a replay the
    /// select's timer arm is completed by [`receive`] with `Wait::No`, which
    /// gives back that recorded event; under the explorer likewise, once
    /// [`ready_at`](Self::ready_at) has passed.
    pub(super) fn complete(
        &self,
        op: cb::SelectedOperation<'_>,
        location: &'static Location<'static>,
    ) -> Result<T, NoMessage> {
        let Kind::Crossbeam(rx) = &self.kind else { return Err(NoMessage::Empty) };
        let result = op.recv(rx).map_err(|_| NoMessage::Empty);
        if self.mode() == Mode::Record {
            context::with(|ctx| {
                let nanos = result.map(|at| nanos(at.saturating_duration_since(ctx.exec.start)));
                ctx.record_outcome(outcome(&nanos), 0, location);
            });
        }
        result.and_then(|at| self.make.map(|make| make(at)).ok_or(NoMessage::Empty))
    }

    /// Whether a replay serves this timer: each receive gives back its
    /// recorded outcome.
    pub(super) fn replayed(&self) -> bool {
        matches!(self.kind, Kind::Replayed)
    }

    pub(super) fn clone_timer(&self) -> Timer<T> {
        let kind = match &self.kind {
            Kind::Crossbeam(rx) => Kind::Crossbeam(rx.clone()),
            Kind::Virtual(v) => Kind::Virtual(Arc::clone(v)),
            Kind::Replayed => Kind::Replayed,
        };
        Timer { kind, make: self.make, outside: self.outside }
    }

    /// Whether it was made outside any execution.
    pub(super) fn outside(&self) -> bool {
        self.outside
    }

    /// Whether both are ends of the same timer (two `never`s are, as
    /// crossbeam's).
    pub(super) fn same(&self, other: &Timer<T>) -> bool {
        match (&self.kind, &other.kind) {
            (Kind::Crossbeam(a), Kind::Crossbeam(b)) => a.same_channel(b),
            (Kind::Virtual(a), Kind::Virtual(b)) => Arc::ptr_eq(a, b) || (a.never && b.never),
            _ => false,
        }
    }

    /// crossbeam's capacity of a timer: 1, or 0 for `never`.
    pub(super) fn capacity(&self) -> Option<usize> {
        Some(usize::from(self.make.is_some()))
    }

    /// Messages ready now (0 or 1); a replay shows none.
    pub(super) fn len(&self) -> usize {
        match &self.kind {
            Kind::Crossbeam(rx) => rx.len(),
            Kind::Virtual(v) => usize::from(self.ready_at().is_some_and(|at| at <= coop::now()) && !v.never),
            Kind::Replayed => 0,
        }
    }

    /// Which backend serves a receive on this timer.
    pub(super) fn mode(&self) -> Mode {
        match &self.kind {
            Kind::Crossbeam(_) if self.outside => Mode::Off,
            Kind::Crossbeam(_) => super::flavor::crossbeam_mode(),
            Kind::Virtual(_) => Mode::Coop,
            Kind::Replayed if mode::mode() == Mode::Coop => Mode::Coop,
            Kind::Replayed => Mode::Gated,
        }
    }
}

/// A receiver of `make`'s messages from a timer of `kind`.
#[track_caller]
fn receiver<T>(kind: Kind, make: Make<T>) -> Receiver<T> {
    let outside = super::flavor::made_outside();
    let (sender, receiver) = ends_of(
        Flavor::Crossbeam { tx: None, rx: None, outside },
        Flavor::Timer(Timer { kind, make, outside }),
        Shared::new(),
    );
    drop(sender);
    receiver
}

/// The kind of timer this thread's mode makes: `crossbeam` off and in
/// record mode, `virtual_at` (given the virtual clock) under the explorer.
fn make_kind(
    crossbeam: impl FnOnce() -> cb::Receiver<std::time::Instant>,
    virtual_at: impl FnOnce(u64) -> Virtual,
) -> Kind {
    match mode::mode() {
        Mode::Gated => Kind::Replayed,
        Mode::Coop if coop::follows_trace() => Kind::Replayed,
        Mode::Coop => Kind::Virtual(Arc::new(virtual_at(coop::now()))),
        Mode::Off | Mode::Record => Kind::Crossbeam(crossbeam()),
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn one_shot(at: u64) -> Virtual {
    Virtual { next: AtomicU64::new(at), period: None, spent: AtomicBool::new(false), never: false }
}

/// A message at `now + duration`, once. Like [`crossbeam_channel::after`].
#[track_caller]
pub fn after(duration: Duration) -> Receiver<Instant> {
    let kind = make_kind(|| cb::after(duration), |now| one_shot(now.saturating_add(nanos(duration))));
    receiver(kind, Some(Instant::from_std))
}

/// A message at `when`, once. Like [`crossbeam_channel::at`].
#[track_caller]
pub fn at(when: Instant) -> Receiver<Instant> {
    let kind = make_kind(
        || cb::at(when.into_std()),
        // The explorer's clock reads `start + virtual nanoseconds`.
        |_| one_shot(nanos(when.into_std().saturating_duration_since(context::with(|ctx| ctx.exec.start)))),
    );
    receiver(kind, Some(Instant::from_std))
}

/// A message every `duration`; ticks missed while nobody received are
/// dropped. Like [`crossbeam_channel::tick`].
#[track_caller]
pub fn tick(duration: Duration) -> Receiver<Instant> {
    let kind = make_kind(
        || cb::tick(duration),
        |now| Virtual {
            next: AtomicU64::new(now.saturating_add(nanos(duration))),
            period: Some(nanos(duration)),
            spent: AtomicBool::new(false),
            never: false,
        },
    );
    receiver(kind, Some(Instant::from_std))
}

/// A channel that never delivers and never disconnects. Like
/// [`crossbeam_channel::never`].
#[track_caller]
pub fn never<T>() -> Receiver<T> {
    let kind = make_kind(cb::never, |_| Virtual {
        next: AtomicU64::new(u64::MAX),
        period: None,
        spent: AtomicBool::new(true),
        never: true,
    });
    receiver(kind, None)
}

/// What a receive from a timer records.
fn outcome(result: &Result<u64, NoMessage>) -> Outcome {
    match result {
        Ok(nanos) => Outcome::TimerRecv { fired: Some(*nanos), timed_out: false },
        Err(NoMessage::TimedOut) => Outcome::TimerRecv { fired: None, timed_out: true },
        Err(_) => Outcome::TimerRecv { fired: None, timed_out: false },
    }
}

/// The message of the instant `nanos` after the execution's start.
fn message<T>(make: Make<T>, nanos: u64) -> Option<T> {
    let start = context::with(|ctx| ctx.exec.start);
    make.map(|make| make(start + Duration::from_nanos(nanos)))
}

/// `recv`, `try_recv`, `recv_timeout` and `recv_deadline` on a timer.
#[inline(never)]
pub(super) fn receive<T>(
    timer: &Timer<T>,
    wait: Wait,
    location: &'static Location<'static>,
) -> Result<T, NoMessage> {
    match (&timer.kind, timer.mode()) {
        (Kind::Crossbeam(rx), Mode::Record) => {
            let result = crossbeam_receive(rx, wait);
            context::with(|ctx| {
                let nanos = result.map(|at| nanos(at.saturating_duration_since(ctx.exec.start)));
                ctx.record_outcome(outcome(&nanos), 0, location);
            });
            result.map(|at| timer.make.map(|make| make(at))).and_then(|m| m.ok_or(NoMessage::Empty))
        }
        (Kind::Crossbeam(rx), _) => {
            crossbeam_receive(rx, wait).and_then(|at| timer.make.map(|make| make(at)).ok_or(NoMessage::Empty))
        }
        (Kind::Virtual(v), _) => {
            let result = virtual_receive(v, wait, location);
            context::with(|ctx| ctx.record_outcome(outcome(&result), 0, location));
            result.and_then(|nanos| message(timer.make, nanos).ok_or(NoMessage::Empty))
        }
        (Kind::Replayed, Mode::Coop) => {
            coop::switch(Op::TimerRecv, None, location);
            let served =
                coop::served(Op::TimerRecv).unwrap_or(Outcome::TimerRecv { fired: None, timed_out: false });
            context::with(|ctx| ctx.record_outcome(served, 0, location));
            replayed(timer, served, wait)
        }
        (Kind::Replayed, _) => {
            let Some(call) = gated::begin(Op::TimerRecv, None, location) else {
                return Err(NoMessage::Empty);
            };
            let Some(outcome) = call.outcome() else { return Err(NoMessage::Empty) };
            if matches!(outcome, Outcome::TimerRecv { fired: Some(_), .. }) && timer.make.is_none() {
                call.diverge("`never` cannot deliver the instant the recording got".into());
                return Err(NoMessage::Empty);
            }
            replayed(timer, outcome, wait)
        }
    }
}

/// The recorded outcome `served` as a receive's result.
fn replayed<T>(timer: &Timer<T>, served: Outcome, wait: Wait) -> Result<T, NoMessage> {
    match served {
        Outcome::TimerRecv { fired: Some(nanos), .. } => message(timer.make, nanos).ok_or(NoMessage::Empty),
        Outcome::TimerRecv { fired: None, timed_out: true } => Err(NoMessage::TimedOut),
        _ if matches!(wait, Wait::Timeout(_)) => Err(NoMessage::TimedOut),
        _ => Err(NoMessage::Empty),
    }
}

fn crossbeam_receive(
    rx: &cb::Receiver<std::time::Instant>,
    wait: Wait,
) -> Result<std::time::Instant, NoMessage> {
    match wait {
        Wait::No => rx.try_recv().map_err(|_| NoMessage::Empty),
        // A timer never disconnects: a blocking receive waits for its
        // delivery (forever for a spent one, as crossbeam's).
        Wait::Forever => rx.recv().map_err(|_| NoMessage::Empty),
        Wait::Timeout(t) => rx.recv_timeout(t).map_err(|_| NoMessage::TimedOut),
    }
}

/// A receive on the virtual clock: the delivery's virtual instant.
fn virtual_receive(v: &Virtual, wait: Wait, location: &'static Location<'static>) -> Result<u64, NoMessage> {
    coop::switch(Op::TimerRecv, None, location);
    let start = coop::now();
    let until = match wait {
        Wait::Timeout(t) => Some(start.saturating_add(nanos(t))),
        Wait::No | Wait::Forever => None,
    };
    loop {
        let now = coop::now();
        let ready = !v.never && !v.spent.load(Ordering::Relaxed);
        let next = v.next.load(Ordering::Relaxed);
        if ready && next <= now {
            match v.period {
                Some(period) => v.next.store(now.saturating_add(period), Ordering::Relaxed),
                None => v.spent.store(true, Ordering::Relaxed),
            }
            return Ok(next);
        }
        if let Wait::No = wait {
            return Err(NoMessage::Empty);
        }
        let wake_at = match (ready.then_some(next), until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if until.is_some_and(|u| u <= now) {
            return Err(NoMessage::TimedOut);
        }
        // Nothing to wake a spent timer but a deadline: with none, the
        // explorer sees this thread blocked for good, as crossbeam's is.
        coop::block(&[], wake_at, Op::TimerRecv, None, location);
    }
}

#[cfg(test)]
mod tests {
    use std::panic::Location;
    use std::time::Duration;

    use crossbeam_channel as cb;

    use crate::channel::flavor::Flavor;

    #[test]
    fn off_a_timer_is_crossbeams_and_a_select_over_it_completes_through_it() {
        let after = super::after(Duration::from_millis(1));
        let Flavor::Timer(timer) = &after.flavor else { panic!("not a timer") };
        let rx = timer.crossbeam().expect("off, a timer is crossbeam's");
        assert_eq!(timer.ready_at(), None, "no virtual clock off");
        let mut select = cb::Select::new();
        select.recv(rx);
        let op = select.select();
        let fired = timer.complete(op, Location::caller()).expect("the deadline passed");
        assert!(fired.into_std() <= std::time::Instant::now());
        assert!(after.try_recv().is_err(), "one message only");
    }
}
