//! How far the replays running in this process have got, for a report
//! written when the replayed program ends the process itself
//! (`std::process::exit` in a replayed thread, before the replay returns).
//! Kept in a static, not a thread-local: glibc's `exit` destroys the
//! exiting thread's thread-locals before it runs the exit handlers that
//! ask (a coroutine replay's progress kept in one read as gone).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use crate::gate::ReplayGate;

/// A replay's progress when it was asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Events the replay's threads have consumed.
    pub replayed: u64,
    /// Events the trace holds (after any cut).
    pub events: u64,
}

/// What tells how far a replay got.
#[derive(Debug)]
enum Source {
    /// A parallel replay's gate.
    Gate(Weak<ReplayGate>),
    /// A coroutine replay's count of the events its threads made.
    Made(Weak<AtomicU64>),
}

/// The replays running now: an id, how far each got, their trace's event
/// count.
static RUNNING: Mutex<Vec<(u64, Source, u64)>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Lists a replay while it runs; unlisted when dropped.
#[derive(Debug)]
pub(crate) struct Listed(u64);

/// Lists the replay of `gate`, whose trace holds `events` events.
pub(crate) fn list(gate: &Arc<ReplayGate>, events: u64) -> Listed {
    list_source(Source::Gate(Arc::downgrade(gate)), events)
}

/// Lists a coroutine replay whose threads have made `made` events so far,
/// of a trace holding `events`.
pub(crate) fn list_coroutines(made: &Arc<AtomicU64>, events: u64) -> Listed {
    list_source(Source::Made(Arc::downgrade(made)), events)
}

fn list_source(source: Source, events: u64) -> Listed {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    RUNNING.lock().unwrap_or_else(PoisonError::into_inner).push((id, source, events));
    Listed(id)
}

impl Drop for Listed {
    fn drop(&mut self) {
        RUNNING.lock().unwrap_or_else(PoisonError::into_inner).retain(|(id, _, _)| *id != self.0);
    }
}

/// A replayed thread is ending the process (`std::process::exit`, from an
/// `atexit` handler): waits until the other threads of the replay that
/// started first have replayed what the trace holds of them, or wait parked
/// with nothing running that could end their wait. The recording's exit
/// finished its trace with every thread's events up to then; without this
/// wait the replayed exit cut the others short, and how far they got (24 of
/// a trace's 77 events one run, 77 the next) depended on the machine's load.
pub fn settle_before_exit() {
    let gate = {
        let running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
        running.iter().find_map(|(_, source, _)| match source {
            Source::Gate(gate) => gate.upgrade(),
            // Its other threads are coroutines of the exiting one: they
            // cannot run on.
            Source::Made(_) => None,
        })
    };
    if let Some(gate) = gate {
        crate::replay::settle(&gate, 1);
    }
}

/// The progress of the replay that started first among those running now;
/// `None` when none runs.
pub fn running() -> Option<Progress> {
    let running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
    running.iter().find_map(|(_, source, events)| {
        let replayed = match source {
            Source::Gate(gate) => gate.upgrade()?.consumed(),
            Source::Made(made) => made.upgrade()?.load(Ordering::Relaxed).min(*events),
        };
        Some(Progress { replayed, events: *events })
    })
}
