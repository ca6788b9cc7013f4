//! Under `--cfg reprise_loom`, the passthrough backend: loom has no channels,
//! so a channel is a queue behind one loom `Mutex` and two loom `Condvar`s
//! (the rules it follows are in the module docs of [`channel`](super)).

use std::collections::VecDeque;
use std::sync::{Arc, PoisonError};

use loom::sync::{Condvar, Mutex, MutexGuard};

use super::flavor::Flavor;
use super::wait::{NoMessage, Wait};
use super::{Receiver, RecvError, SendError, SendTimeoutError, Sender, TrySendError};
use crate::sync::loom_failed::{self, Blocking};

/// A blocked `select`'s wake-up call: set by a send or a disconnection on any
/// of its channels.
pub(super) struct Signal {
    fired: Mutex<bool>,
    cv: Condvar,
}

impl Signal {
    pub(super) fn new() -> Signal {
        Signal { fired: Mutex::new(false), cv: Condvar::new() }
    }

    fn fire(&self) {
        *self.fired.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.cv.notify_one();
    }

    pub(super) fn wait(&self) {
        let _blocking = Blocking::enter();
        let mut fired = self.fired.lock().unwrap_or_else(PoisonError::into_inner);
        while !*fired {
            fired = self.cv.wait(fired).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// What the channel's lock guards.
pub(super) struct State<T> {
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
    /// Each is removed by its select (`unwatch`); `true` when the select
    /// blocks (a rendezvous send may go on, as to a blocked `recv`).
    pub(super) selects: Vec<(Arc<Signal>, bool)>,
    /// Receives a `Select` chose: taken when it chose them (crossbeam's
    /// chosen operation completes at once, whatever other threads do before
    /// `SelectedOperation::recv`), by ticket.
    claimed: Vec<(u64, Result<T, NoMessage>)>,
    /// Room a `Select` chose to send into (counted as queued), until its
    /// `SelectedOperation::send`.
    reserved_sends: usize,
    /// The last claim's ticket.
    tickets: u64,
    /// Blocked `Select`s with a send arm here, woken on each take, receiver
    /// disconnection or (on a rendezvous) receiver starting to wait; each
    /// removes its own signal.
    send_selects: Vec<Arc<Signal>>,
}

/// A loom channel.
pub(super) struct Chan<T> {
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
    pub(super) fn lock(&self) -> MutexGuard<'_, State<T>> {
        let _blocking = Blocking::enter();
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a send may push now (a rendezvous send always pushes, then
    /// waits); room a `Select` reserved counts as taken.
    fn has_room(&self, s: &State<T>) -> bool {
        match self.cap {
            Some(cap) if cap > 0 => s.queue.len() + s.reserved_sends < cap,
            _ => true,
        }
    }

    /// Whether a send that must not wait can go on: room, or on a rendezvous
    /// a blocked receiver for it (a `recv`, or a select blocked on a receive
    /// arm here, as crossbeam pairs them), not one another send already has.
    fn can_send_now(&self, s: &State<T>) -> bool {
        match self.cap {
            Some(0) => {
                let selecting = s.selects.iter().filter(|(_, blocking)| *blocking).count();
                s.queue.len() + s.reserved_sends < s.waiting_receivers + selecting
            }
            _ => self.has_room(s),
        }
    }

    /// Registers a select's receive arm (`blocking`: the select waits); on a
    /// rendezvous a blocked receive lets a send go on, so blocked send
    /// selects re-check.
    pub(super) fn watch_receive(&self, s: &mut State<T>, signal: &Arc<Signal>, blocking: bool) {
        s.selects.push((Arc::clone(signal), blocking));
        if blocking && self.cap == Some(0) {
            for signal in &s.send_selects {
                signal.fire();
            }
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
        for (signal, _) in &s.selects {
            signal.fire();
        }
    }

    fn wake_senders(&self, all: bool, s: &State<T>) {
        for signal in &s.send_selects {
            signal.fire();
        }
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
    pub(super) fn take(&self, s: &mut State<T>) -> Option<Result<T, NoMessage>> {
        match s.queue.pop_front() {
            Some((_, value)) => {
                s.taken += 1;
                self.wake_senders(false, s);
                Some(Ok(value))
            }
            None if s.senders == 0 => Some(Err(NoMessage::Disconnected)),
            None => None,
        }
    }

    fn wait_not_empty<'a>(&self, mut s: MutexGuard<'a, State<T>>) -> MutexGuard<'a, State<T>> {
        let _blocking = Blocking::enter();
        s.waiting_receivers += 1;
        if self.cap == Some(0) {
            // A rendezvous send can go on now.
            for signal in &s.send_selects {
                signal.fire();
            }
        }
        let mut s = self.not_empty.wait(s).unwrap_or_else(PoisonError::into_inner);
        s.waiting_receivers -= 1;
        s
    }

    fn wait_not_full<'a>(&self, mut s: MutexGuard<'a, State<T>>) -> MutexGuard<'a, State<T>> {
        let _blocking = Blocking::enter();
        s.waiting_senders += 1;
        let mut s = self.not_full.wait(s).unwrap_or_else(PoisonError::into_inner);
        s.waiting_senders -= 1;
        s
    }

    /// The capacity it was made with (`None`: unbounded).
    pub(super) fn capacity(&self) -> Option<usize> {
        self.cap
    }

    /// How many messages are queued (always 0 on a rendezvous, as crossbeam's).
    pub(super) fn len(&self) -> usize {
        if self.cap == Some(0) {
            return 0;
        }
        self.lock().queue.len()
    }

    /// Whether a select's arm (a send when `send`) can go on now: a message
    /// or room (on a rendezvous, a receiver waiting), or the other side is
    /// gone. If not, `signal` fires when that may change, until
    /// [`unwatch`](Self::unwatch).
    pub(super) fn watch(&self, send: bool, signal: &Arc<Signal>, blocking: bool) -> bool {
        let mut s = self.lock();
        let ready = if send {
            s.receivers == 0 || self.can_send_now(&s)
        } else {
            !s.queue.is_empty() || s.senders == 0
        };
        if !ready {
            self.register(&mut s, send, signal, blocking);
        }
        ready
    }

    /// As [`watch`](Self::watch), and if the arm can go on, claims it at
    /// once under the same lock: a receive takes its message (or the
    /// disconnection), a send reserves its room. The ticket completes it
    /// ([`take_claimed`], [`send_claimed`]; a send's is 1 when it reserved
    /// room, 0 when every receiver is gone).
    pub(super) fn claim(&self, send: bool, signal: &Arc<Signal>, blocking: bool) -> Option<u64> {
        let mut s = self.lock();
        if send {
            if s.receivers == 0 {
                return Some(0);
            }
            if self.can_send_now(&s) {
                s.reserved_sends += 1;
                return Some(1);
            }
        } else if let Some(result) = self.take(&mut s) {
            s.tickets += 1;
            let ticket = s.tickets;
            s.claimed.push((ticket, result));
            return Some(ticket);
        }
        self.register(&mut s, send, signal, blocking);
        None
    }

    /// Has `signal` fired when the arm may have become ready.
    fn register(&self, s: &mut State<T>, send: bool, signal: &Arc<Signal>, blocking: bool) {
        if send {
            s.send_selects.push(Arc::clone(signal));
        } else {
            self.watch_receive(s, signal, blocking);
        }
    }

    /// Stops `signal` from firing for this channel.
    pub(super) fn unwatch(&self, signal: &Arc<Signal>) {
        let mut s = self.lock();
        s.selects.retain(|(other, _)| !Arc::ptr_eq(other, signal));
        s.send_selects.retain(|other| !Arc::ptr_eq(other, signal));
    }

    /// Counts one more sender and gives its handle.
    pub(super) fn add_sender(self: &Arc<Self>) -> Arc<Self> {
        self.lock().senders += 1;
        Arc::clone(self)
    }

    /// Counts one more receiver and gives its handle.
    pub(super) fn add_receiver(self: &Arc<Self>) -> Arc<Self> {
        self.lock().receivers += 1;
        Arc::clone(self)
    }
}

fn make<T>(cap: Option<usize>) -> (Sender<T>, Receiver<T>) {
    loom_failed::fresh();
    let state = State {
        queue: VecDeque::new(),
        pushed: 0,
        taken: 0,
        senders: 1,
        receivers: 1,
        waiting_receivers: 0,
        waiting_senders: 0,
        claimed: Vec::new(),
        reserved_sends: 0,
        tickets: 0,
        selects: Vec::new(),
        send_selects: Vec::new(),
    };
    let chan =
        Arc::new(Chan { cap, state: Mutex::new(state), not_empty: Condvar::new(), not_full: Condvar::new() });
    (Sender { flavor: Flavor::Loom(Arc::clone(&chan)) }, Receiver { flavor: Flavor::Loom(chan) })
}

pub(super) fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    make(Some(cap))
}

pub(super) fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    make(None)
}

/// The loom channel behind an end.
pub(super) fn chan<T>(flavor: &Flavor<T>) -> &Chan<T> {
    let Flavor::Loom(chan) = flavor;
    chan
}

pub(super) fn send<T>(sender: &Sender<T>, value: T) -> Result<(), SendError<T>> {
    let chan = chan(&sender.flavor);
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
    push_and_hand_over(chan, s, value)
}

/// Completes a send a `Select` claimed with `ticket` (see [`Chan::claim`]):
/// into the room it reserved (ticket 1), or fails if every receiver is gone.
pub(super) fn send_claimed<T>(sender: &Sender<T>, value: T, ticket: u64) -> Result<(), SendError<T>> {
    let chan = chan(&sender.flavor);
    let mut s = chan.lock();
    if ticket == 1 {
        s.reserved_sends -= 1;
    }
    if s.receivers == 0 {
        return Err(SendError(value));
    }
    push_and_hand_over(chan, s, value)
}

/// Completes a receive a `Select` claimed (see [`Chan::claim`]).
pub(super) fn take_claimed<T>(receiver: &Receiver<T>, ticket: u64) -> Result<T, RecvError> {
    let chan = chan(&receiver.flavor);
    let mut s = chan.lock();
    let at = s.claimed.iter().position(|(t, _)| *t == ticket).expect("a claimed receive's ticket");
    s.claimed.swap_remove(at).1.map_err(|_| RecvError)
}

/// Pushes (room being there) and, on a rendezvous, waits until the message
/// was taken or every receiver left.
fn push_and_hand_over<T>(
    chan: &Chan<T>,
    mut s: MutexGuard<'_, State<T>>,
    value: T,
) -> Result<(), SendError<T>> {
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
    // Every receiver left before taking it: the message is still queued
    // (only receivers take, and a rendezvous queue holds no one else's
    // message numbered this one).
    match s.queue.iter().position(|(n, _)| *n == number).and_then(|at| s.queue.remove(at)) {
        Some((_, value)) => Err(SendError(value)),
        None => Ok(()),
    }
}

pub(super) fn try_send<T>(sender: &Sender<T>, value: T) -> Result<(), TrySendError<T>> {
    let chan = chan(&sender.flavor);
    let mut s = chan.lock();
    if s.receivers == 0 {
        return Err(TrySendError::Disconnected(value));
    }
    if !chan.can_send_now(&s) {
        return Err(TrySendError::Full(value));
    }
    chan.push(&mut s, value);
    Ok(())
}

/// A timed send: room now, or after the other threads ran once (a loom
/// yield), else a timeout (see the module docs).
pub(super) fn send_timeout<T>(
    sender: &Sender<T>,
    value: T,
    _timeout: std::time::Duration,
) -> Result<(), SendTimeoutError<T>> {
    let value = match try_send(sender, value) {
        Ok(()) => return Ok(()),
        Err(TrySendError::Disconnected(v)) => return Err(SendTimeoutError::Disconnected(v)),
        Err(TrySendError::Full(v)) => v,
    };
    loom::thread::yield_now();
    try_send(sender, value).map_err(|e| match e {
        TrySendError::Full(v) => SendTimeoutError::Timeout(v),
        TrySendError::Disconnected(v) => SendTimeoutError::Disconnected(v),
    })
}

pub(super) fn receive<T>(receiver: &Receiver<T>, wait: Wait) -> Result<T, NoMessage> {
    let chan = chan(&receiver.flavor);
    let mut s = chan.lock();
    match wait {
        Wait::Forever => loop {
            if let Some(result) = chan.take(&mut s) {
                return result;
            }
            s = chan.wait_not_empty(s);
        },
        Wait::No => chan.take(&mut s).unwrap_or(Err(NoMessage::Empty)),
        Wait::Timeout(_) => match chan.take(&mut s) {
            Some(result) => result,
            None => {
                drop(s);
                // Time is the other threads running (see the module docs).
                loom::thread::yield_now();
                Err(NoMessage::TimedOut)
            }
        },
    }
}

/// Counts a sender out. While unwinding, only if the execution still runs
/// (a panic caught inside the model): after loom's deadlock report no loom
/// operation may run (see `sync/loom_failed.rs`).
pub(super) fn drop_sender<T>(flavor: &Flavor<T>) {
    loom_failed::in_drop(|| {
        let chan = chan(flavor);
        let mut s = chan.lock();
        s.senders -= 1;
        if s.senders == 0 {
            chan.wake_receivers(&mut s, true);
        }
    });
}

/// Counts a receiver out (as `drop_sender`).
pub(super) fn drop_receiver<T>(flavor: &Flavor<T>) {
    loom_failed::in_drop(|| {
        let chan = chan(flavor);
        let mut s = chan.lock();
        s.receivers -= 1;
        if s.receivers == 0 {
            chan.wake_senders(true, &s);
        }
    });
}
