//! Channels under `--cfg reprise_loom`: loom has none, so these are a queue
//! behind one loom `Mutex` and two loom `Condvar`s, with crossbeam-channel's
//! API and error types, so loom explores every order in which messages,
//! senders and receivers interleave.
//!
//! - A `bounded(n)` channel holds at most `n` messages; a send waits for room.
//!   `bounded(0)` is a rendezvous: a send waits until a receiver took its
//!   message, and `try_send` succeeds only when a receiver is waiting.
//! - When every sender is gone, receives drain the queue and then report
//!   disconnection; when every receiver is gone, sends fail.
//! - **Timeouts fire at once.** loom has no time, so `recv_timeout` and
//!   `select_timeout` return a message if one is ready, and otherwise let the
//!   other threads run (a loom yield) and report a timeout. Every outcome a
//!   real timed receive can have is still explored (a message that arrives
//!   "during the wait" is a schedule in which it was sent first), and no model
//!   deadlocks on a timeout that would have fired; a loop that retries after a
//!   timeout behaves as a polling loop.
//! - `select` blocks until an arm is ready; when several are, the lowest
//!   index wins (crossbeam picks at random; loom explores schedules, not
//!   random choices).

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

pub use crossbeam_channel::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};

use loom::sync::{Condvar, Mutex, MutexGuard};

/// A blocked `select`'s wake-up call: set by a send or a disconnection on any
/// of its channels.
struct Signal {
    fired: Mutex<bool>,
    cv: Condvar,
}

impl Signal {
    fn fire(&self) {
        *self.fired.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.cv.notify_one();
    }

    fn wait(&self) {
        let mut fired = self.fired.lock().unwrap_or_else(PoisonError::into_inner);
        while !*fired {
            fired = self.cv.wait(fired).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// What the channel's lock guards.
struct State<T> {
    /// Messages with their number (for a rendezvous sender to know when its
    /// message was taken).
    queue: VecDeque<(u64, T)>,
    /// Messages pushed so far.
    pushed: u64,
    /// Messages taken so far.
    taken: u64,
    senders: usize,
    receivers: usize,
    /// Receivers blocked in `recv` (a rendezvous `try_send` needs one).
    waiting_receivers: usize,
    /// Senders blocked in `send`.
    waiting_senders: usize,
    /// Blocked `select`s to wake on the next send or disconnection.
    selects: Vec<Arc<Signal>>,
}

struct Chan<T> {
    /// `None` when unbounded.
    cap: Option<usize>,
    state: Mutex<State<T>>,
    /// Receivers wait here for a message or disconnection.
    not_empty: Condvar,
    /// Senders wait here for room (or, on a rendezvous, for their message
    /// to be taken) or disconnection.
    not_full: Condvar,
}

impl<T> Chan<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a send may push now (a rendezvous send always pushes, then waits).
    fn has_room(&self, s: &State<T>) -> bool {
        match self.cap {
            Some(cap) if cap > 0 => s.queue.len() < cap,
            _ => true,
        }
    }

    /// Pushes and wakes a receiver; returns the message's number.
    fn push(&self, s: &mut State<T>, value: T) -> u64 {
        s.pushed += 1;
        s.queue.push_back((s.pushed, value));
        self.wake_receivers(s, false);
        s.pushed
    }

    fn wake_receivers(&self, s: &mut State<T>, all: bool) {
        if s.waiting_receivers > 0 {
            if all {
                self.not_empty.notify_all();
            } else {
                self.not_empty.notify_one();
            }
        }
        for signal in s.selects.drain(..) {
            signal.fire();
        }
    }

    fn wake_senders(&self, all: bool, s: &State<T>) {
        if s.waiting_senders > 0 {
            // A rendezvous sender waits for its own message: wake them all.
            if all || self.cap == Some(0) {
                self.not_full.notify_all();
            } else {
                self.not_full.notify_one();
            }
        }
    }

    /// Takes the next message, or says the channel is disconnected; `None`
    /// when it is empty and senders remain.
    fn take(&self, s: &mut State<T>) -> Option<Result<T, RecvError>> {
        match s.queue.pop_front() {
            Some((_, value)) => {
                s.taken += 1;
                self.wake_senders(false, s);
                Some(Ok(value))
            }
            None if s.senders == 0 => Some(Err(RecvError)),
            None => None,
        }
    }

    fn wait_not_empty<'a>(&self, mut s: MutexGuard<'a, State<T>>) -> MutexGuard<'a, State<T>> {
        s.waiting_receivers += 1;
        let mut s = self.not_empty.wait(s).unwrap_or_else(PoisonError::into_inner);
        s.waiting_receivers -= 1;
        s
    }

    fn wait_not_full<'a>(&self, mut s: MutexGuard<'a, State<T>>) -> MutexGuard<'a, State<T>> {
        s.waiting_senders += 1;
        let mut s = self.not_full.wait(s).unwrap_or_else(PoisonError::into_inner);
        s.waiting_senders -= 1;
        s
    }
}

/// The sending side. Like [`crossbeam_channel::Sender`].
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

/// The receiving side. Like [`crossbeam_channel::Receiver`].
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

fn make<T>(cap: Option<usize>) -> (Sender<T>, Receiver<T>) {
    let state = State {
        queue: VecDeque::new(),
        pushed: 0,
        taken: 0,
        senders: 1,
        receivers: 1,
        waiting_receivers: 0,
        waiting_senders: 0,
        selects: Vec::new(),
    };
    let chan =
        Arc::new(Chan { cap, state: Mutex::new(state), not_empty: Condvar::new(), not_full: Condvar::new() });
    (Sender { chan: Arc::clone(&chan) }, Receiver { chan })
}

/// A channel holding at most `cap` messages (`0`: a rendezvous). Like
/// [`crossbeam_channel::bounded`].
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    make(Some(cap))
}

/// A channel of unbounded capacity. Like [`crossbeam_channel::unbounded`].
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    make(None)
}

impl<T> Sender<T> {
    /// Sends, blocking while a bounded channel is full (on a rendezvous,
    /// until a receiver took the message). Like [`crossbeam_channel::Sender::send`].
    ///
    /// # Errors
    ///
    /// Gives the value back when every receiver is gone.
    #[track_caller]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let chan = &*self.chan;
        let mut s = chan.lock();
        loop {
            if s.receivers == 0 {
                return Err(SendError(value));
            }
            if chan.has_room(&s) {
                break;
            }
            s = chan.wait_not_full(s);
        }
        let number = chan.push(&mut s, value);
        if chan.cap != Some(0) {
            return Ok(());
        }
        while s.taken < number && s.receivers > 0 {
            s = chan.wait_not_full(s);
        }
        if s.taken >= number {
            return Ok(());
        }
        let at = s.queue.iter().position(|(n, _)| *n == number).expect("an untaken message is queued");
        let (_, value) = s.queue.remove(at).expect("position is in the queue");
        Err(SendError(value))
    }

    /// Sends if there is room (on a rendezvous, if a receiver is waiting).
    /// Like [`crossbeam_channel::Sender::try_send`].
    ///
    /// # Errors
    ///
    /// `Full` or `Disconnected`, with the value.
    #[track_caller]
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let chan = &*self.chan;
        let mut s = chan.lock();
        if s.receivers == 0 {
            return Err(TrySendError::Disconnected(value));
        }
        let room = match chan.cap {
            Some(0) => s.queue.len() < s.waiting_receivers,
            _ => chan.has_room(&s),
        };
        if !room {
            return Err(TrySendError::Full(value));
        }
        chan.push(&mut s, value);
        Ok(())
    }

    /// Whether the channel is empty.
    #[track_caller]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many messages are queued (always 0 on a rendezvous, as crossbeam's).
    #[track_caller]
    pub fn len(&self) -> usize {
        queued(&self.chan)
    }
}

fn queued<T>(chan: &Chan<T>) -> usize {
    if chan.cap == Some(0) {
        return 0;
    }
    chan.lock().queue.len()
}

impl<T> Receiver<T> {
    /// Receives, blocking. Like [`crossbeam_channel::Receiver::recv`].
    ///
    /// # Errors
    ///
    /// When the channel is empty and every sender is gone.
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        let chan = &*self.chan;
        let mut s = chan.lock();
        loop {
            if let Some(result) = chan.take(&mut s) {
                return result;
            }
            s = chan.wait_not_empty(s);
        }
    }

    /// Receives if a message is ready. Like [`crossbeam_channel::Receiver::try_recv`].
    ///
    /// # Errors
    ///
    /// `Empty` or `Disconnected`.
    #[track_caller]
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let chan = &*self.chan;
        let mut s = chan.lock();
        match chan.take(&mut s) {
            Some(Ok(value)) => Ok(value),
            Some(Err(RecvError)) => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Receives if a message is ready; otherwise lets the other threads run
    /// and times out (see the module docs). Like
    /// [`crossbeam_channel::Receiver::recv_timeout`].
    ///
    /// # Errors
    ///
    /// `Timeout` or `Disconnected`.
    #[track_caller]
    pub fn recv_timeout(&self, _timeout: Duration) -> Result<T, RecvTimeoutError> {
        match self.try_recv() {
            Ok(value) => Ok(value),
            Err(TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
            Err(TryRecvError::Empty) => {
                loom::thread::yield_now();
                Err(RecvTimeoutError::Timeout)
            }
        }
    }

    /// A blocking iterator over messages, ending when every sender is gone.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { receiver: self }
    }

    /// A non-blocking iterator over the messages ready now.
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { receiver: self }
    }

    /// Whether the channel is empty.
    #[track_caller]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many messages are queued (always 0 on a rendezvous, as crossbeam's).
    #[track_caller]
    pub fn len(&self) -> usize {
        queued(&self.chan)
    }
}

/// Blocking iterator of [`Receiver::iter`].
#[derive(Debug)]
pub struct Iter<'a, T> {
    receiver: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.receiver.recv().ok()
    }
}

/// Non-blocking iterator of [`Receiver::try_iter`].
#[derive(Debug)]
pub struct TryIter<'a, T> {
    receiver: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.receiver.try_recv().ok()
    }
}

/// Owning blocking iterator.
#[derive(Debug)]
pub struct IntoIter<T> {
    receiver: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.receiver.recv().ok()
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { receiver: self }
    }
}

/// Waits until one of `receivers` has a message (or is disconnected) and
/// receives from it: the chosen arm and what it gave. Like a
/// `crossbeam_channel::select!` over `recv` arms; the lowest ready index wins.
///
/// # Panics
///
/// When `receivers` is empty.
#[track_caller]
pub fn select<T>(receivers: &[&Receiver<T>]) -> (usize, Result<T, RecvError>) {
    assert!(!receivers.is_empty(), "select over no receivers");
    loop {
        let signal = Arc::new(Signal { fired: Mutex::new(false), cv: Condvar::new() });
        let mut ready = None;
        let mut registered = 0;
        for (arm, receiver) in receivers.iter().enumerate() {
            let mut s = receiver.chan.lock();
            if let Some(result) = receiver.chan.take(&mut s) {
                ready = Some((arm, result));
                break;
            }
            // Registered under the lock that saw it empty: the next send
            // or disconnection on this channel fires the signal.
            s.selects.push(Arc::clone(&signal));
            registered += 1;
        }
        if ready.is_none() {
            signal.wait();
        }
        for receiver in &receivers[..registered] {
            receiver.chan.lock().selects.retain(|other| !Arc::ptr_eq(other, &signal));
        }
        if let Some(ready) = ready {
            return ready;
        }
    }
}

/// Like [`select`], but when no arm is ready it lets the other threads run
/// and times out (see the module docs).
///
/// # Errors
///
/// [`RecvTimeoutError::Timeout`] when no arm was ready.
///
/// # Panics
///
/// When `receivers` is empty.
#[track_caller]
pub fn select_timeout<T>(
    receivers: &[&Receiver<T>],
    _timeout: Duration,
) -> Result<(usize, Result<T, RecvError>), RecvTimeoutError> {
    assert!(!receivers.is_empty(), "select over no receivers");
    for (arm, receiver) in receivers.iter().enumerate() {
        if let Some(result) = receiver.chan.take(&mut receiver.chan.lock()) {
            return Ok((arm, result));
        }
    }
    loom::thread::yield_now();
    Err(RecvTimeoutError::Timeout)
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.lock().senders += 1;
        Sender { chan: Arc::clone(&self.chan) }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.chan.lock().receivers += 1;
        Receiver { chan: Arc::clone(&self.chan) }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The model is failing (an assertion, or loom's deadlock report,
            // after which no loom operation may run): leave the count alone.
            return;
        }
        let mut s = self.chan.lock();
        s.senders -= 1;
        if s.senders == 0 {
            self.chan.wake_receivers(&mut s, true);
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let mut s = self.chan.lock();
        s.receivers -= 1;
        if s.receivers == 0 {
            self.chan.wake_senders(true, &s);
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sender { .. }")
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Receiver { .. }")
    }
}
