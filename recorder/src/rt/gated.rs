//! Gated (replay) mode: check each call against the thread's next recorded
//! event, wait for what its outcome depends on, and tell the gate what it did.

use std::panic::Location;
use std::sync::Arc;

use crate::rt::context::{self, Role, ThreadCtx};
use crate::rt::gate::{Call, Gate, Happened, WaitFor};
use crate::rt::object::ObjectSlot;
use crate::trace::model::{Event, ObjectIndex, ObjectKind, Op, ThreadIndex};

/// The unwind payload of a thread stopped by its gate. It is not a panic of
/// the program: the replay driver recognizes and swallows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayStopped;

/// A gated call in progress: its recorded event and where to report.
#[derive(Debug)]
pub(crate) struct GatedCall {
    pub(crate) event: Event,
    pub(crate) blob: Option<Vec<u8>>,
    pub(crate) thread: ThreadIndex,
    /// The event's index in the thread's log.
    pub(crate) cursor: usize,
    pub(crate) gate: Arc<dyn Gate>,
    pub(crate) call: Call,
}

impl GatedCall {
    /// Blocks until `until` holds. `false`: the replay stopped while this thread
    /// was already unwinding; the caller must pass through.
    pub(crate) fn wait(&self, until: WaitFor) -> bool {
        match self.gate.wait(self.thread, until, self.call) {
            Ok(()) => true,
            Err(_) => stop(),
        }
    }

    pub(crate) fn happened(&self, what: Happened) {
        self.gate.happened(what);
    }

    /// Reports that the program did not do what the recorded outcome says.
    pub(crate) fn diverge(&self, detail: String) -> bool {
        self.gate.diverged(self.thread, self.cursor, self.call, detail);
        stop()
    }
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
/// (the thread is unwinding after the replay stopped).
#[inline]
pub(crate) fn begin(
    op: Op,
    object: Option<(&ObjectSlot, ObjectKind)>,
    location: &'static Location<'static>,
) -> Option<GatedCall> {
    let outcome = context::with(|ctx| begin_in(ctx, op, object, location));
    match outcome {
        Ok(call) => Some(call),
        Err(()) => {
            stop();
            None
        }
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
    let gate = Arc::clone(gate);
    let actual_object = object.and_then(|(slot, _)| slot.get(exec_id));
    let call = Call { op, object: actual_object, location };
    let Some(recorded) = gate.recorded(thread, *cursor) else {
        gate.end_of_log(thread, *cursor, call);
        return Err(());
    };
    let event = recorded.event;
    let blob = recorded.blob.map(<[u8]>::to_vec);

    let mismatch = |what: String| -> Result<GatedCall, ()> {
        gate.diverged(thread, *cursor, call, what);
        Err(())
    };
    if event.op != op {
        let site = gate.site(thread, event.site).map(|s| s.to_string()).unwrap_or_default();
        return mismatch(format!("expected {} at {site}", event.op.name()));
    }
    let key = location as *const Location<'static> as usize;
    // A thread's start and exit happen inside reprise, at a line that moves
    // with reprise's own source: their site says nothing about the program.
    let lifecycle = matches!(op, Op::ThreadStart | Op::ThreadExit);
    if !lifecycle && matched_sites.get(&key) != Some(&event.site) {
        match gate.site(thread, event.site) {
            Some(site) if site.matches(location) => {
                matched_sites.insert(key, event.site);
            }
            Some(site) => return mismatch(format!("expected {} at {site}", op.name())),
            None => return mismatch(format!("recorded site #{} is not in the trace", event.site)),
        }
    }
    let mut call = call;
    if let Some((slot, _kind)) = object {
        let bound = bind(&*gate, exec_id, slot, event.object);
        if bound != Some(event.object) {
            let got = bound.map(|o| format!("object #{o}")).unwrap_or_else(|| "another object".into());
            return mismatch(format!("expected {} of object #{}, got {got}", op.name(), event.object));
        }
        call.object = Some(event.object);
    }
    let at = *cursor;
    *cursor += 1;
    gate.advanced(thread, *cursor, &call);
    Ok(GatedCall { event, blob, thread, cursor: at, gate, call })
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
        let gate = Arc::clone(gate);
        let call = Call { op: Op::Panic, object: None, location: Location::caller() };
        let here = format!("{}:{}:{}", site.0, site.1, site.2);
        let Some(recorded) = gate.recorded(thread, *cursor) else {
            gate.diverged(
                thread,
                *cursor,
                call,
                format!("panicked at {here} ({message}), past the end of the recording"),
            );
            return false;
        };
        let matches = recorded.event.op == Op::Panic
            && gate
                .site(thread, recorded.event.site)
                .is_some_and(|s| s.file == site.0 && s.line == site.1 && s.column == site.2)
            && recorded.blob.is_some_and(|b| b == message.as_bytes());
        if !matches {
            let expected = gate.site(thread, recorded.event.site).map(|s| s.to_string()).unwrap_or_default();
            gate.diverged(
                thread,
                *cursor,
                call,
                format!(
                    "panicked at {here} ({message}); the recording has {} at {expected}",
                    recorded.event.op.name()
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
    let exec = crate::rt::exec::Execution::new(crate::rt::exec::ExecKind::Gated(gate));
    crate::rt::panic::install_hook();
    crate::thread::run_thread(context::root_seed(&exec, "main"), f)
}
