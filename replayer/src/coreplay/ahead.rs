//! Reading ahead for a coroutine replay: a second OS thread decodes each
//! replayed thread's next chunk, its events and their outcomes, while the
//! replay runs the chunk before. The replay's own OS thread then stops at a
//! chunk's end only to take the next one; a replay from a file does not wait
//! on reading and decoding there (a million-payment trace: about a fifth of
//! its replay). Each replayed thread has at most one chunk asked for at a
//! time, so what waits in the channels is bounded by the thread count.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use reprise_recorder::trace::model::{Outcome, ThreadIndex};

use crate::log::{ReplayLog, Window};

/// A chunk of one thread decoded for the replay: its events and their
/// outcomes (`None`: one no recorder writes).
#[derive(Debug, Default)]
pub(super) struct Filled {
    pub(super) thread: ThreadIndex,
    /// The event it was asked for: `window` holds it, unless `found` is false.
    pub(super) cursor: u64,
    pub(super) window: Window,
    pub(super) outcomes: Vec<Option<Outcome>>,
    /// Whether the log held the event (past its end, or a chunk that cannot
    /// be read back: an empty window).
    pub(super) found: bool,
}

impl Filled {
    /// Decodes `thread`'s chunk holding `cursor` into these buffers.
    pub(super) fn decode(&mut self, log: &ReplayLog, thread: ThreadIndex, cursor: u64) {
        self.thread = thread;
        self.cursor = cursor;
        self.found = log.window_into(thread, cursor, &mut self.window);
        if !self.found {
            self.window.first = cursor;
        }
        self.outcomes.clear();
        self.outcomes.extend(self.window.events.iter().map(|e| e.outcome().ok()));
    }
}

/// The reading thread and the channels to it.
#[derive(Debug)]
pub(super) struct ReadAhead {
    /// Chunks asked for, each with the buffers to decode it into.
    asks: Option<Sender<Filled>>,
    done: Receiver<Filled>,
    worker: Option<JoinHandle<()>>,
}

impl ReadAhead {
    /// A thread decoding `log`'s chunks as asked; `None` when no thread can
    /// be started (the replay then decodes each chunk itself).
    pub(super) fn start(log: Arc<ReplayLog>) -> Option<ReadAhead> {
        let (asks, asked) = channel::<Filled>();
        let (filled, done) = channel();
        let worker = std::thread::Builder::new()
            .name("reprise-read-ahead".into())
            .spawn(move || {
                for mut ask in asked {
                    let (thread, cursor) = (ask.thread, ask.cursor);
                    ask.decode(&log, thread, cursor);
                    if filled.send(ask).is_err() {
                        return;
                    }
                }
            })
            .ok()?;
        Some(ReadAhead { asks: Some(asks), done, worker: Some(worker) })
    }

    /// Asks for `thread`'s chunk holding `cursor`, decoded into `buffers`.
    /// `false` when the reading thread is gone (the caller decodes it).
    pub(super) fn ask(&self, thread: ThreadIndex, cursor: u64, mut buffers: Filled) -> bool {
        buffers.thread = thread;
        buffers.cursor = cursor;
        self.asks.as_ref().is_some_and(|asks| asks.send(buffers).is_ok())
    }

    /// The next chunk decoded, in the order asked; `None` when the reading
    /// thread is gone.
    pub(super) fn next(&self) -> Option<Filled> {
        self.done.recv().ok()
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        // Closing the asks ends the thread once its chunk in hand is done.
        self.asks = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
