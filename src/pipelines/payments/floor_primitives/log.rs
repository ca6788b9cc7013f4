//! The floor's per-thread event log: a ring of 8-byte words in thread-local
//! memory, appended to with no check beyond the thread-local access.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// Words per thread's ring: 32 KiB, so it stays in the cache the way a
/// recorder's block being filled does.
const RING: usize = 4096;

/// The op of a logged word, in its top byte.
#[derive(Clone, Copy)]
pub(super) enum Op {
    Send = 1,
    Receive = 2,
    ReceiveNone = 3,
    Lock = 4,
    Spawn = 5,
    Start = 6,
    Join = 7,
}

struct Ring {
    words: [Cell<u64>; RING],
    /// Words appended by this thread, ever.
    count: Cell<u64>,
    /// This thread's number, given at its start (0 for a thread the floor
    /// did not spawn).
    thread: Cell<u32>,
    /// Sends made by this thread: the second half of a message's stamp.
    sends: Cell<u32>,
}

thread_local! {
    // Const-initialized and without a destructor: an access is a
    // thread-pointer-relative address, with no lazy-initialization check.
    static RING_OF_THIS_THREAD: Ring = const {
        Ring {
            words: [const { Cell::new(0) }; RING],
            count: Cell::new(0),
            thread: Cell::new(0),
            sends: Cell::new(0),
        }
    };
}

/// Words appended by threads that have ended, summed at their end.
static ENDED_THREADS_WORDS: AtomicU64 = AtomicU64::new(0);

/// Thread numbers handed out so far.
static THREADS: AtomicU64 = AtomicU64::new(0);

/// Appends `op` with `payload` (its low 56 bits) to this thread's ring.
#[inline(always)]
pub(super) fn append(op: Op, payload: u64) {
    RING_OF_THIS_THREAD.with(|ring| {
        let count = ring.count.get();
        ring.words[count as usize % RING].set((op as u64) << 56 | (payload & ((1 << 56) - 1)));
        ring.count.set(count + 1);
    });
}

/// The stamp of this thread's next send: its number and its send count.
#[inline(always)]
pub(super) fn next_send_stamp() -> u64 {
    RING_OF_THIS_THREAD.with(|ring| {
        let sends = ring.sends.get().wrapping_add(1);
        ring.sends.set(sends);
        u64::from(ring.thread.get()) << 32 | u64::from(sends)
    })
}

/// Gives a thread the floor spawned its number; at its start.
pub(super) fn start_thread() {
    let number = THREADS.fetch_add(1, Ordering::Relaxed) + 1;
    RING_OF_THIS_THREAD.with(|ring| ring.thread.set(number as u32));
    append(Op::Start, number);
}

/// Adds this thread's words to the total; at its end.
pub(super) fn end_thread() {
    let count = RING_OF_THIS_THREAD.with(|ring| ring.count.replace(0));
    ENDED_THREADS_WORDS.fetch_add(count, Ordering::Relaxed);
}

/// How many words the floor has logged in this process: those of the
/// threads it spawned that have ended, and the calling thread's own. The
/// benchmark compares the difference over a run with a recording's events.
pub fn logged() -> u64 {
    ENDED_THREADS_WORDS.load(Ordering::Relaxed) + RING_OF_THIS_THREAD.with(|ring| ring.count.get())
}
