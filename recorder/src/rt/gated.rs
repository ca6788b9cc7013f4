//! Gated (replay) mode: check each call against the thread's next recorded
//! event, wait for what its outcome depends on, and tell the gate what it did.

use std::panic::Location;
use std::sync::Arc;

use crate::rt::context::{self, Role, ThreadCtx};
use crate::rt::gate::{carries_blob, Aborted, Call, Gate, Happened, WaitFor};
use crate::rt::object::ObjectSlot;
use crate::trace::model::{Event, ObjectIndex, ObjectKind, Op, Outcome, SiteIndex, ThreadIndex};

/// The unwind payload of a thread stopped by its gate. It is not a panic of
/// the program: the replay driver recognizes and swallows it.
#[derive(Debug, PartialEq, Eq)]
pub struct ReplayStopped;

impl Drop for ReplayStopped {
    /// Dropped by the program, which caught the stop (a loop catching every
    /// panic), on a replayed thread: see `caught_stop`.
    fn drop(&mut self) {
        if !std::thread::panicking() {
            caught_stop();
        }
    }
}

/// The current thread, stopped by its replay, caught the stop and runs on.
/// Its calls would pass through from now on, and a loop that retries
/// them (a lock the stop's unwind poisoned, panicking each time) would spin
/// for ever beside the replay's caller: its next reprise call, if it makes
/// one while not unwinding, parks it for good instead ([`begin`]), as a
/// coroutine replay leaves such a thread. A thread with no stopped replay
/// (the payload dropped by the replay's caller) is left as it is.
fn caught_stop() {
    let stopped = context::try_with(|ctx| matches!(ctx.role, Role::Gated { aborting: true, .. }));
    if stopped == Some(true) {
        context::set_mode(context::Mode::Gated);
    }
}

/// Parks the current thread for good: it caught its replay's stop (see
/// [`caught_stop`]).
#[cold]
fn park_for_good() -> ! {
    loop {
        std::thread::park();
    }
}

/// A gated call in progress: its recorded event and where to report. It
/// holds no handle on the gate: the gate is borrowed from the thread's
/// context when needed, so a call clones no `Arc` (whose count every
/// replayed thread would write).
#[derive(Debug)]
pub(crate) struct GatedCall {
    pub(crate) event: Event,
    /// Copied only for the operations whose events carry bytes.
    pub(crate) blob: Option<Vec<u8>>,
    pub(crate) thread: ThreadIndex,
    /// The event's index in the thread's log.
    pub(crate) cursor: usize,
    pub(crate) call: Call,
}

/// Runs `f` on the gate of this thread's execution. `None`: the thread has
/// no gate (its context is gone or no longer gated).
fn with_gate<R>(f: impl FnOnce(&dyn Gate) -> R) -> Option<R> {
    context::try_with(|ctx| match &ctx.role {
        Role::Gated { gate, .. } => Some(f(&**gate)),
        Role::Record { .. } => None,
    })
    .flatten()
}

impl GatedCall {
    /// Blocks until `until` holds. `false`: the replay stopped while this thread
    /// was already unwinding; the caller must pass through.
    pub(crate) fn wait(&self, until: WaitFor) -> bool {
        match with_gate(|gate| gate.wait(self.thread, until, self.call)) {
            Some(Ok(())) => true,
            Some(Err(Aborted)) | None => stop(),
        }
    }

    pub(crate) fn happened(&self, what: Happened) {
        with_gate(|gate| gate.happened(what));
    }

    /// Replay of an atomic: this run's store number `store` of the call's
    /// atomic wrote `bits` (see [`Gate::stored`]).
    pub(crate) fn stored(&self, store: u64, bits: u64) {
        with_gate(|gate| gate.stored(self.event.object, store, bits));
    }

    /// Replay of an atomic: the call reads store number `store`, whose
    /// value the recording read as `recorded` (and replay hands back).
    /// Diverges when this run's store wrote other bits: the program
    /// computed another value than when recorded, and a load given the
    /// recorded one would hide it (a coroutine replay, which runs the
    /// real atomic, stops there too). `false`: stopped while unwinding.
    pub(crate) fn check_read(&self, store: u64, recorded: u64) -> bool {
        match with_gate(|gate| gate.stored_bits(self.event.object, store)).flatten() {
            Some(bits) if bits != recorded => self.diverge(format!(
                "this replay's store {store} of atomic #{} wrote {bits}, the recording's wrote {recorded}: \
                 the program computed another value than when recorded (from an input reprise does not capture?)",
                self.event.object
            )),
            _ => true,
        }
    }

    /// Reports that the program did not do what the recorded outcome says.
    pub(crate) fn diverge(&self, detail: String) -> bool {
        with_gate(|gate| gate.diverged(self.thread, self.cursor, self.call, detail));
        stop()
    }
}

/// Takes the real lock `object` (a mutex, or an RwLock's read or write
/// side) once its recorded turn came: `try_take` is its `try_lock` (`None`:
/// held), `take` its blocking `lock`. Held by the replay's threads before it
/// in the recorded order, the lock waits on the gate for a release, so that
/// a holder that never lets go is a stall the watchdog proves; held by
/// nobody in the replay (a thread outside it, through a static), it blocks
/// in the OS as the recording did.
pub(crate) fn take_lock<G>(
    object: ObjectIndex,
    call: &GatedCall,
    mut try_take: impl FnMut() -> Option<G>,
    take: impl FnOnce() -> G,
) -> G {
    loop {
        if let Some(taken) = try_take() {
            return taken;
        }
        // Read before trying again: a release between the two ends the wait.
        let releases = with_gate(|gate| gate.holder_releases(object)).flatten();
        if let Some(taken) = try_take() {
            return taken;
        }
        match releases {
            Some(releases) if call.wait(WaitFor::Released { object, releases }) => {}
            _ => return take(),
        }
    }
}

/// A `try_lock`'s result as [`take_lock`]'s `try_take` gives it: `None`
/// when the lock is held.
pub(crate) fn attempt<G>(result: std::sync::TryLockResult<G>) -> Option<std::sync::LockResult<G>> {
    match result {
        Ok(guard) => Some(Ok(guard)),
        Err(std::sync::TryLockError::Poisoned(p)) => Some(Err(p)),
        Err(std::sync::TryLockError::WouldBlock) => None,
    }
}

/// The replayed thread lets go of the mutex `object` (an unlock, a condvar
/// wait giving it up), before the real guard drops.
pub(crate) fn released(object: ObjectIndex) {
    with_gate(|gate| gate.happened(Happened::Released(object)));
}

/// Unwinds the current thread because its replay stopped, or, if it is already
/// unwinding, switches it to passthrough and returns `false`.
pub(crate) fn stop() -> bool {
    context::try_with(|ctx| {
        if let Role::Gated { aborting, .. } = &mut ctx.role {
            *aborting = true;
        }
    });
    context::refresh_mode();
    if std::thread::panicking() {
        return false;
    }
    std::panic::resume_unwind(Box::new(ReplayStopped))
}

/// Begins a gated call of `op` on `object` at `location`. `None`: pass through
/// (the thread is unwinding after the replay stopped, or it left the replay:
/// a thread-local's destructor after its body returned, whose calls the
/// recording did not see either; a panic there would abort the process).
#[inline]
pub(crate) fn begin(
    op: Op,
    object: Option<(&ObjectSlot, ObjectKind)>,
    location: &'static Location<'static>,
) -> Option<GatedCall> {
    if context::has_left() {
        return None;
    }
    let outcome = match context::try_with(|ctx| {
        let aborting = matches!(ctx.role, Role::Gated { aborting: true, .. });
        (!aborting).then(|| begin_in(ctx, op, object, location))
    }) {
        // Stopped: unwinding, its calls pass through; having caught the
        // stop, it is parked (it reaches here only then: see `caught_stop`).
        Some(None) if std::thread::panicking() => return None,
        Some(None) => park_for_good(),
        Some(Some(outcome)) => outcome,
        // No context: a thread outside the replay on an object made inside
        // it. While it unwinds (a coroutine replay's teardown dropping what
        // a stopped coroutine held), it passes through: the panic below
        // would be a second one, which aborts the process.
        None if std::thread::panicking() => return None,
        None => context::outside_the_replay(),
    };
    match outcome {
        Ok(call) => Some(call),
        Err(()) => {
            stop();
            None
        }
    }
}

/// Slots of [`SiteMatches`]: a power of two.
const MATCH_SLOTS: usize = 64;

/// Which call locations this thread has already matched against which
/// recorded sites: a direct-mapped cache, so a call at a known location costs
/// one comparison, no hashing and no string compare. A location evicted by
/// another that maps to the same slot is compared by text again, which is
/// only slower, never wrong.
#[derive(Debug)]
pub(crate) struct SiteMatches {
    slots: Box<[(usize, SiteIndex); MATCH_SLOTS]>,
}

impl SiteMatches {
    pub(crate) fn new() -> SiteMatches {
        // 0 is no location's address, so an empty slot never matches.
        SiteMatches { slots: Box::new([(0, 0); MATCH_SLOTS]) }
    }

    fn slot(key: usize) -> usize {
        (key >> 3).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (usize::BITS - MATCH_SLOTS.trailing_zeros())
    }

    /// Whether `location` was matched to `site` before.
    #[inline]
    fn known(&self, location: &'static Location<'static>, site: SiteIndex) -> bool {
        let key = location as *const Location<'static> as usize;
        self.slots[Self::slot(key)] == (key, site)
    }

    fn remember(&mut self, location: &'static Location<'static>, site: SiteIndex) {
        let key = location as *const Location<'static> as usize;
        self.slots[Self::slot(key)] = (key, site);
    }
}

fn begin_in(
    ctx: &mut ThreadCtx,
    op: Op,
    object: Option<(&ObjectSlot, ObjectKind)>,
    location: &'static Location<'static>,
) -> Result<GatedCall, ()> {
    let thread = ctx.index;
    let exec_id = ctx.exec.id;
    let Role::Gated { gate, cursor, matched_sites, .. } = &mut ctx.role else {
        unreachable!("gated call on a thread that is not gated")
    };
    let gate: &dyn Gate = &**gate;
    let actual_object = object.and_then(|(slot, _)| slot.get(exec_id));
    let call = Call { op, object: actual_object, location };
    let Some(event) = gate.event(thread, *cursor) else {
        gate.end_of_log(thread, *cursor, call);
        return Err(());
    };

    let mismatch = |what: String| -> Result<GatedCall, ()> {
        gate.diverged(thread, *cursor, call, what);
        Err(())
    };
    if event.op != op {
        let site = gate.site(thread, event.site).map(|s| s.to_string()).unwrap_or_default();
        return mismatch(format!("expected {} at {site}", event.op.name()));
    }
    // A thread's start and exit happen inside reprise, at a line that moves
    // with reprise's own source: their site says nothing about the program.
    let lifecycle = matches!(op, Op::ThreadStart | Op::ThreadExit);
    if !lifecycle && !matched_sites.known(location, event.site) {
        match gate.site(thread, event.site) {
            Some(site) if site.matches(location) => matched_sites.remember(location, event.site),
            Some(site) => return mismatch(format!("expected {} at {site}", op.name())),
            None => return mismatch(format!("recorded site #{} is not in the trace", event.site)),
        }
    }
    let mut call = call;
    if let Some((slot, _kind)) = object {
        let bound = bind(gate, exec_id, slot, event.object);
        if bound != Some(event.object) {
            let got = bound.map(|o| format!("object #{o}")).unwrap_or_else(|| "another object".into());
            return mismatch(format!("expected {} of object #{}, got {got}", op.name(), event.object));
        }
        call.object = Some(event.object);
    }
    let blob = if carries_blob(op) { gate.blob(thread, *cursor).map(<[u8]>::to_vec) } else { None };
    let at = *cursor;
    *cursor += 1;
    gate.advanced(thread, *cursor, &call);
    Ok(GatedCall { event, blob, thread, cursor: at, call })
}

/// The object's index in this replay, adopting the recorded one on first use.
fn bind(gate: &dyn Gate, exec: u32, slot: &ObjectSlot, recorded: ObjectIndex) -> Option<ObjectIndex> {
    if let Some(index) = slot.get(exec) {
        return Some(index);
    }
    match slot.claim(exec, recorded) {
        Some(index) if index == recorded => gate.bind_object(recorded, slot.address()).then_some(recorded),
        Some(other) => Some(other),
        // Another execution named it (a shared static): go by address alone.
        None => gate.bind_object(recorded, slot.address()).then_some(recorded),
    }
}

/// Replay of an atomic whose value changed without an event: the gate
/// forgets its last store's bits (told as store 0, none), so no load
/// compares with them.
pub(crate) fn forget_stored(object: ObjectIndex) {
    with_gate(|gate| gate.stored(object, 0, 0));
}

/// The object index a gated thread knows for `slot`, if bound.
pub(crate) fn object_of(slot: &ObjectSlot) -> Option<ObjectIndex> {
    context::try_with(|ctx| slot.get(ctx.exec.id)).flatten()
}

/// A gated thread panicked: its next recorded event must be the same panic.
/// Returns `false` when it was not (the divergence is reported).
pub(crate) fn check_panic(message: &str, site: &(String, u32, u32)) -> bool {
    context::with(|ctx| {
        let thread = ctx.index;
        let Role::Gated { gate, cursor, .. } = &mut ctx.role else { return true };
        let gate: &dyn Gate = &**gate;
        let call = Call { op: Op::Panic, object: None, location: Location::caller() };
        let here = format!("{}:{}:{}", site.0, site.1, site.2);
        let Some(event) = gate.event(thread, *cursor) else {
            // As for any call past the end of its log: a divergence when
            // the recording says the thread had exited, else the trace
            // ended there (a dump taken while this thread was panicking,
            // in its panic hook, say).
            gate.end_of_log(thread, *cursor, call);
            return false;
        };
        let matches = event.op == Op::Panic
            && gate
                .site(thread, event.site)
                .is_some_and(|s| s.file == site.0 && s.line == site.1 && s.column == site.2)
            && gate.blob(thread, *cursor).is_some_and(|b| b == message.as_bytes());
        if !matches {
            let expected = gate.site(thread, event.site).map(|s| s.to_string()).unwrap_or_default();
            gate.diverged(
                thread,
                *cursor,
                call,
                format!(
                    "panicked at {here} ({message}); the recording has {} at {expected}",
                    event.op.name()
                ),
            );
            return false;
        }
        *cursor += 1;
        gate.advanced(thread, *cursor, &call);
        true
    })
}

/// Runs `f` on the current thread as the root (thread 0) of a new execution
/// whose primitives are gated by `gate`. The thread's start, panic and exit
/// go through the gate like any other event.
///
/// # Errors
///
/// The panic payload when `f` panicked ([`ReplayStopped`] when the gate
/// stopped the thread).
pub fn run_gated<F, R>(gate: Arc<dyn Gate>, f: F) -> std::thread::Result<R>
where
    F: FnOnce() -> R,
{
    run_gated_keyed(gate, None, f)
}

/// [`run_gated`] with the key that opens the trace's sensitive captures
/// (`None`: they cannot be replayed, and the replay says so).
///
/// # Errors
///
/// As [`run_gated`].
pub fn run_gated_keyed<F, R>(
    gate: Arc<dyn Gate>,
    key: Option<crate::trace::model::sensitive::SealKey>,
    f: F,
) -> std::thread::Result<R>
where
    F: FnOnce() -> R,
{
    let exec = crate::rt::exec::Execution::new(crate::rt::exec::ExecKind::Gated(gate));
    let _ = exec.sensitive_key.set(key);
    crate::rt::panic::install_hook();
    crate::thread::run_thread(context::root_seed(&exec, "main"), f)
}

#[cfg(all(test, not(reprise_loom)))]
mod tests {
    use std::panic::Location;

    use super::SiteMatches;
    use crate::rt::gate::carries_blob;
    use crate::trace::model::Op;

    #[track_caller]
    fn here() -> &'static Location<'static> {
        Location::caller()
    }

    #[test]
    fn a_matched_location_is_known_only_for_its_recorded_site() {
        let mut matches = SiteMatches::new();
        let at = here();
        assert!(!matches.known(at, 0), "nothing is known before a match");
        matches.remember(at, 7);
        assert!(matches.known(at, 7));
        assert!(!matches.known(at, 8), "the same location recorded as another site is checked again");
        assert!(!matches.known(here(), 7), "another location is checked by text");
    }

    #[test]
    fn a_location_evicted_by_another_in_its_slot_is_checked_again() {
        let mut matches = SiteMatches::new();
        // Copies of one location at distinct addresses, until two share a slot.
        let proto = *here();
        let leak = || -> &'static Location<'static> { Box::leak(Box::new(proto)) };
        let slot = |l: &'static Location<'static>| SiteMatches::slot(l as *const Location<'static> as usize);
        let first = leak();
        let rival = loop {
            let candidate = leak();
            if slot(candidate) == slot(first) {
                break candidate;
            }
        };
        matches.remember(first, 1);
        matches.remember(rival, 2);
        assert!(matches.known(rival, 2));
        assert!(!matches.known(first, 1), "evicted: compared by text again, never wrongly known");
    }

    #[test]
    fn only_captures_and_panics_carry_a_blob() {
        assert!(carries_blob(Op::Capture) && carries_blob(Op::Panic));
        for op in [Op::Lock, Op::Send, Op::Recv, Op::AtomicLoad, Op::Now, Op::Random, Op::Spawn] {
            assert!(!carries_blob(op), "{op:?}");
        }
    }
}

/// The thread the current thread's next recorded event joins, if it is a
/// join. A scope's end asks before replaying its implicit joins: a trace
/// written before those were recorded has none.
pub(crate) fn next_join() -> Option<ThreadIndex> {
    context::try_with(|ctx| match &ctx.role {
        Role::Gated { gate, cursor, aborting: false, .. } => {
            match gate.event(ctx.index, *cursor)?.outcome() {
                Ok(Outcome::Join { joined, .. }) => Some(joined),
                _ => None,
            }
        }
        _ => None,
    })
    .flatten()
}

/// A thread about to wait outside the gate (a scope's end, for its threads)
/// with `call`: if its log ends here, it is parked at its end as any call
/// past its log is, until the replay stops (a recorded deadlock that left
/// it waiting there is then reproduced). Never unwinds; `true`: it was
/// parked, and its replay is over.
pub(crate) fn park_if_log_ends(op: Op, location: &'static Location<'static>) -> bool {
    let ended = context::try_with(|ctx| {
        let thread = ctx.index;
        match &ctx.role {
            Role::Gated { gate, cursor, aborting: false, .. } if gate.event(thread, *cursor).is_none() => {
                Some((Arc::clone(gate), thread, *cursor))
            }
            _ => None,
        }
    })
    .flatten();
    let Some((gate, thread, cursor)) = ended else { return false };
    let _ = gate.end_of_log(thread, cursor, Call { op, object: None, location });
    true
}
