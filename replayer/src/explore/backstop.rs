//! The explorer's backstop for blocking it cannot see.
//!
//! The explorer runs every logical thread on one OS thread and sees only
//! reprise's primitives. A std call that blocks (a std `Mutex` another logical
//! thread holds across a reprise call, a socket read, a `std::thread::sleep`
//! of hours) blocks that OS thread, and with it the whole exploration: no
//! other logical thread can run to end the wait. That is not a deadlock of
//! the program (reprise cannot know), so it must not be reported as one, and
//! the exploration must not hang forever either.
//!
//! The decision is taken from state: the scheduler counts every resume of a
//! logical thread and every return from one; an odd count means a
//! logical thread is running, not parked in the scheduler. When the count
//! stays the same and odd for the backstop's length, that thread is inside
//! something reprise does not see, and the caller is told so
//! ([`UninstrumentedBlocking`]). The backstop's length is only the trigger:
//! long by default (a thread may compute between two reprise calls), and
//! configurable ([`super::Config::backstop`], [`EXPLORE_BACKSTOP_ENV`]).
//!
//! The blocked OS thread cannot be woken from outside: the exploration runs
//! on a thread of its own, and that thread is abandoned (left blocked, with
//! the schedules' memory, until the process ends).

use std::cell::RefCell;
use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reprise_recorder::hook::coop::CoopCall;
use reprise_recorder::trace::model::{Op, ThreadIndex};

/// The backstop when nothing sets it: long enough for any computation a
/// thread does between two reprise calls.
pub const DEFAULT_EXPLORE_BACKSTOP: Duration = Duration::from_secs(60);

/// The environment variable that sets the explorer's backstop: seconds
/// (`90`, `2.5`), or `off` for none.
pub const EXPLORE_BACKSTOP_ENV: &str = "REPRISE_EXPLORE_BACKSTOP";

/// An explored logical thread stopped inside a call reprise does not see for
/// longer than the backstop: the exploration was abandoned there. Not a bug
/// found in the program.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct UninstrumentedBlocking {
    /// The logical thread that was running.
    pub thread: ThreadIndex,
    /// Its last reprise call (`None`: it blocked before its first one).
    pub call: Option<CoopCall>,
    /// The backstop that passed.
    pub backstop: Duration,
    /// Schedules finished before the one that blocked.
    pub schedules: u64,
}

impl fmt::Display for UninstrumentedBlocking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let since = match &self.call {
            Some(call) => {
                let op = call.op.map_or("yield", |o| o.name());
                let object = call.object.map(|o| format!(" #{o}")).unwrap_or_default();
                format!("its last reprise call, {op}{object} at {}", call.location)
            }
            None => "its start (it made no reprise call yet)".to_string(),
        };
        write!(
            f,
            "uninstrumented blocking: explored thread {} has been blocked for over {:.1}s in a call reprise \
             does not see, since {since} (a std lock, a socket or pipe read, a std sleep: use reprise's \
             primitives, or keep the call out of the explored program); schedule {} was abandoned, its OS \
             thread left blocked. This is not a bug found in the program. The backstop is set by \
             Config::backstop or {EXPLORE_BACKSTOP_ENV}=SECONDS|off",
            self.thread,
            self.backstop.as_secs_f64(),
            self.schedules + 1
        )
    }
}

impl std::error::Error for UninstrumentedBlocking {}

/// What the scheduler publishes for the backstop: a count of resumes and
/// returns (odd while a logical thread runs), and which thread runs since
/// which reprise call. Written at every scheduling point by the exploring
/// thread alone, so with plain stores: no lock and no read-modify-write,
/// which cost a tenth of a small schedule's time (perf, the 5-thread
/// pipeline of `benches/explore.rs`). The sampler reads the thread and call
/// only while the count stands still, and checks it still does after.
#[derive(Debug, Default)]
pub(crate) struct Watch {
    count: AtomicU64,
    /// Schedules run so far, for the caller's progress reports.
    schedules: AtomicU64,
    /// The running thread (low 32 bits), its call's op plus one (bits
    /// 32-39; 0: a yield), and bit 63 set when there is a call.
    thread_op: AtomicU64,
    /// The call's object (low 32 bits), bit 32 set when it has one.
    object: AtomicU64,
    /// The call's site: always from a `&'static Location<'static>`, or null.
    location: AtomicPtr<Location<'static>>,
}

thread_local! {
    /// The watch of the exploration running on this OS thread, if any.
    static CURRENT: RefCell<Option<Arc<Watch>>> = const { RefCell::new(None) };
}

impl Watch {
    /// Makes `watch` the one the scheduler of this OS thread publishes to.
    pub(crate) fn install(watch: Arc<Watch>) {
        CURRENT.with(|c| *c.borrow_mut() = Some(watch));
    }

    /// The watch of this OS thread's exploration.
    pub(crate) fn current() -> Option<Arc<Watch>> {
        CURRENT.with(|c| c.borrow().clone())
    }

    /// `thread` is about to run from `call`.
    pub(crate) fn resuming(&self, thread: ThreadIndex, call: Option<CoopCall>) {
        let (op, object, location) = match call {
            Some(c) => (
                1 << 63 | u64::from(c.op.map_or(0, |o| o as u8 + 1)) << 32,
                c.object.map_or(0, |o| 1 << 32 | u64::from(o)),
                std::ptr::from_ref(c.location).cast_mut(),
            ),
            None => (0, 0, std::ptr::null_mut()),
        };
        self.thread_op.store(op | u64::from(thread), Ordering::Relaxed);
        self.object.store(object, Ordering::Relaxed);
        self.location.store(location, Ordering::Relaxed);
        self.bump();
    }

    /// `n` schedules have run.
    pub(crate) fn schedules_done(&self, n: u64) {
        self.schedules.store(n, Ordering::Relaxed);
    }

    /// Schedules run so far.
    pub(crate) fn schedules(&self) -> u64 {
        self.schedules.load(Ordering::Relaxed)
    }

    /// The running thread is back in the scheduler.
    pub(crate) fn returned(&self) {
        self.bump();
    }

    /// Moves the count on; only the exploring thread writes it.
    fn bump(&self) {
        let count = self.count.load(Ordering::Relaxed);
        self.count.store(count + 1, Ordering::Release);
    }

    fn count(&self) -> u64 {
        self.count.load(Ordering::Acquire)
    }

    /// The running thread and its call as last published, if the count
    /// is still `count` once they are read.
    fn running(&self, count: u64) -> Option<(ThreadIndex, Option<CoopCall>)> {
        let thread_op = self.thread_op.load(Ordering::Relaxed);
        let object = self.object.load(Ordering::Relaxed);
        let location = self.location.load(Ordering::Relaxed);
        if self.count() != count {
            return None;
        }
        let thread = thread_op as ThreadIndex;
        let Some(location) = static_location(location).filter(|_| thread_op >> 63 == 1) else {
            return Some((thread, None));
        };
        let op = match (thread_op >> 32) as u8 {
            0 => None,
            code => Op::from_u8(code - 1),
        };
        let object = (object >> 32 & 1 == 1).then_some(object as u32);
        Some((thread, Some(CoopCall { op, object, location })))
    }
}

/// The location `ptr` points to (null: none).
#[allow(unsafe_code)]
fn static_location(ptr: *mut Location<'static>) -> Option<&'static Location<'static>> {
    // SAFETY: `Watch::location` only ever holds null or a pointer made from
    // a `&'static Location<'static>` (a call site), which stays valid and
    // unchanged for the whole program.
    unsafe { ptr.cast_const().as_ref() }
}

/// Samples a [`Watch`] from the caller's thread and says when a logical
/// thread has been running, without coming back, for the backstop's length.
#[derive(Debug)]
pub(crate) struct Sampler {
    backstop: Duration,
    last: u64,
    since: Instant,
}

impl Sampler {
    pub(crate) fn new(backstop: Duration) -> Sampler {
        Sampler { backstop, last: 0, since: Instant::now() }
    }

    /// How long to wait before the next sample.
    pub(crate) fn interval(&self) -> Duration {
        (self.backstop / 4).clamp(Duration::from_millis(10), Duration::from_secs(1))
    }

    /// The blocking, if the thread running at the last sample still is and
    /// the backstop has passed since it started.
    pub(crate) fn sample(&mut self, watch: &Watch, schedules: u64) -> Option<UninstrumentedBlocking> {
        let count = watch.count();
        if count != self.last {
            self.last = count;
            self.since = Instant::now();
            return None;
        }
        if count.is_multiple_of(2) || self.since.elapsed() < self.backstop {
            return None;
        }
        let (thread, call) = watch.running(count)?;
        Some(UninstrumentedBlocking { thread, call, backstop: self.backstop, schedules })
    }
}

/// Parses a backstop setting: seconds greater than 0 (at most a year), or
/// `off` (`None`).
///
/// # Errors
///
/// A message for anything else.
pub fn parse_explore_backstop(value: &str) -> Result<Option<Duration>, String> {
    crate::backstop::seconds_or_off(EXPLORE_BACKSTOP_ENV, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_is_seconds_or_off() {
        assert_eq!(parse_explore_backstop("2.5"), Ok(Some(Duration::from_millis(2500))));
        assert_eq!(parse_explore_backstop("off"), Ok(None));
        assert!(parse_explore_backstop("0").unwrap_err().contains(EXPLORE_BACKSTOP_ENV));
    }

    #[test]
    fn only_a_thread_that_is_running_and_has_not_come_back_is_blocked() {
        let watch = Watch::default();
        // A zero backstop: the decision rests on the count alone.
        let mut sampler = Sampler { backstop: Duration::ZERO, last: 0, since: Instant::now() };
        assert!(sampler.sample(&watch, 0).is_none(), "nothing ran: in the scheduler");
        watch.resuming(3, None);
        assert!(sampler.sample(&watch, 0).is_none(), "the count moved since the last sample");
        let blocked = sampler.sample(&watch, 5).expect("running, and the count did not move");
        assert_eq!((blocked.thread, blocked.schedules), (3, 5));
        watch.returned();
        assert!(sampler.sample(&watch, 5).is_none());
        assert!(sampler.sample(&watch, 5).is_none(), "back in the scheduler: not blocked");
    }
}
