//! Channels: crossbeam-channel's API, with each message stamped by its sender
//! (thread, send count) and each receive recording the stamp it got.
//!
//! Off and record mode run on crossbeam. A channel created inside a replay
//! uses a queue of reprise's own, from which a receive takes exactly the
//! message the recording says it got, whatever order the queue holds.

use std::collections::VecDeque;
use std::fmt;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel as cb;
use parking_lot::Mutex;

pub use crossbeam_channel::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};

mod followed;

use crate::rt::context::{self, Mode, ThreadCtx};
use crate::rt::coop::{self, Resource, Woken};
use crate::rt::exec::{self, Progress, ProgressMark};
use crate::rt::gate::{Happened, WaitFor};
use crate::rt::gated::{self, GatedCall};
use crate::rt::object::ObjectSlot;
use crate::trace::model::{ObjectKind, Op, Outcome, Received, ThreadIndex};

/// A message with its id: the sending thread and that thread's send count.
struct Envelope<T> {
    sender: ThreadIndex,
    seq: u64,
    value: T,
}

/// Replay's queue: messages by id.
struct ReplayQueue<T> {
    /// In send order: receives mostly take the oldest message, in O(1).
    items: Mutex<VecDeque<Envelope<T>>>,
}

impl<T> ReplayQueue<T> {
    fn take(&self, sender: ThreadIndex, seq: u64) -> Option<T> {
        let mut items = self.items.lock();
        let at = items.iter().position(|e| e.sender == sender && e.seq == seq)?;
        items.remove(at).map(|e| e.value)
    }
}

enum Flavor<T> {
    Crossbeam { tx: Option<cb::Sender<Envelope<T>>>, rx: Option<cb::Receiver<Envelope<T>>> },
    Replay(Arc<ReplayQueue<T>>),
}

impl<T> Flavor<T> {
    fn len(&self) -> usize {
        match self {
            Flavor::Replay(queue) => queue.items.lock().len(),
            Flavor::Crossbeam { tx: Some(tx), .. } => tx.len(),
            Flavor::Crossbeam { rx: Some(rx), .. } => rx.len(),
            Flavor::Crossbeam { .. } => 0,
        }
    }
}

/// What both ends share: the channel's identity and its progress counter.
struct Shared {
    slot: ObjectSlot,
    /// Sends, receives and dropped ends, counted in closed-world recordings
    /// for the deadlock monitor (and on every drop: drops are rare).
    progress: Progress,
}

impl Shared {
    /// Record mode: counts an operation that can end a wait on the channel.
    #[inline]
    fn progressed(&self, ctx: &ThreadCtx) {
        if ctx.exec.closed_world {
            exec::bump(&self.progress);
        }
    }

    /// Record mode: the mark a thread about to wait on the channel leaves
    /// for the deadlock monitor.
    fn mark(&self, ctx: &ThreadCtx) -> Option<ProgressMark> {
        ctx.exec.closed_world.then(|| ProgressMark::read(&self.progress))
    }
}

/// The sending side. Like [`crossbeam_channel::Sender`].
pub struct Sender<T> {
    shared: Arc<Shared>,
    flavor: Flavor<T>,
}

/// The receiving side. Like [`crossbeam_channel::Receiver`].
pub struct Receiver<T> {
    shared: Arc<Shared>,
    flavor: Flavor<T>,
}

fn make<T>(inner: (cb::Sender<Envelope<T>>, cb::Receiver<Envelope<T>>)) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared { slot: ObjectSlot::new(), progress: Progress::default() });
    if context::mode() == Mode::Gated || (context::mode() == Mode::Coop && coop::follows_trace()) {
        let queue = Arc::new(ReplayQueue { items: Mutex::new(VecDeque::new()) });
        return (
            Sender { shared: Arc::clone(&shared), flavor: Flavor::Replay(Arc::clone(&queue)) },
            Receiver { shared, flavor: Flavor::Replay(queue) },
        );
    }
    let (tx, rx) = inner;
    (
        Sender { shared: Arc::clone(&shared), flavor: Flavor::Crossbeam { tx: Some(tx), rx: None } },
        Receiver { shared, flavor: Flavor::Crossbeam { tx: None, rx: Some(rx) } },
    )
}

/// A channel holding at most `cap` messages. Like [`crossbeam_channel::bounded`].
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    make(cb::bounded(cap))
}

/// A channel of unbounded capacity. Like [`crossbeam_channel::unbounded`].
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    make(cb::unbounded())
}

/// How long a recording thread waits on a channel before it shows the
/// deadlock monitor that it is blocked.
const REGISTER_AFTER: Duration = Duration::from_millis(2);

/// A receive's recorded outcome: `(sender + 1, seq)` or `(0, reason)`.
const EMPTY: u64 = 1;
const TIMED_OUT: u64 = 2;
const DISCONNECTED: u64 = 3;

fn outcome_of<T>(result: &Result<Envelope<T>, u64>) -> [u64; 2] {
    match result {
        Ok(e) => [u64::from(e.sender) + 1, e.seq],
        Err(reason) => [0, *reason],
    }
}

impl<T> Sender<T> {
    fn cb(&self) -> &cb::Sender<Envelope<T>> {
        match &self.flavor {
            Flavor::Crossbeam { tx: Some(tx), .. } => tx,
            _ => unreachable!("a crossbeam sender without its channel"),
        }
    }

    /// Sends, blocking while a bounded channel is full. Like
    /// [`crossbeam_channel::Sender::send`].
    ///
    /// # Errors
    ///
    /// Gives the value back when every receiver is gone.
    #[track_caller]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let location = Location::caller();
        match (&self.flavor, context::mode()) {
            (Flavor::Replay(queue), Mode::Coop) => {
                self.send_followed(queue, value, location).map_err(|(v, _)| SendError(v))
            }
            (Flavor::Replay(queue), _) => {
                self.send_gated(queue, value, location).map_err(|(v, _)| SendError(v))
            }
            (Flavor::Crossbeam { .. }, Mode::Coop) => self.send_coop(value, location).map_err(SendError),
            (Flavor::Crossbeam { .. }, Mode::Record) => {
                // One visit to the thread's context unless the channel is full.
                let attempt = context::with(|ctx| {
                    ctx.sends += 1;
                    let seq = ctx.sends;
                    let object = ctx.object(&self.shared.slot, ObjectKind::Channel, location);
                    match self.cb().try_send(Envelope { sender: ctx.index, seq, value }) {
                        Ok(()) => {
                            self.shared.progressed(ctx);
                            ctx.record(Op::Send, object, location, [seq, 0, 0]);
                            Ok(())
                        }
                        Err(cb::TrySendError::Disconnected(e)) => {
                            ctx.record(Op::Send, object, location, [seq, 2, 0]);
                            Err(Err(e.value))
                        }
                        Err(cb::TrySendError::Full(e)) => Err(Ok((e, object))),
                    }
                });
                match attempt {
                    Ok(()) => Ok(()),
                    Err(Err(value)) => Err(SendError(value)),
                    Err(Ok((envelope, object))) => self.send_full(envelope, object, location),
                }
            }
            (Flavor::Crossbeam { .. }, _) => {
                self.cb().send(Envelope { sender: 0, seq: 0, value }).map_err(|e| SendError(e.0.value))
            }
        }
    }

    /// Cooperative mode: a full channel blocks the thread in the scheduler.
    fn send_coop(&self, value: T, location: &'static Location<'static>) -> Result<(), T> {
        let (object, sender, seq) = context::with(|ctx| {
            ctx.sends += 1;
            (ctx.object(&self.shared.slot, ObjectKind::Channel, location), ctx.index, ctx.sends)
        });
        let mut envelope = Envelope { sender, seq, value };
        loop {
            coop::switch(Op::Send, Some(object), location);
            let result = match self.cb().try_send(envelope) {
                Ok(()) => Ok(()),
                Err(cb::TrySendError::Disconnected(e)) => Err(e.value),
                Err(cb::TrySendError::Full(e)) => {
                    envelope = e;
                    coop::block(&[Resource::Object(object)], None, Op::Send, Some(object), location);
                    continue;
                }
            };
            let status = if result.is_ok() { 0 } else { 2 };
            context::with(|ctx| ctx.record(Op::Send, object, location, [seq, status, 0]));
            if result.is_ok() {
                coop::wake(Resource::Object(object), true);
            }
            return result;
        }
    }

    #[cold]
    fn send_full(
        &self,
        envelope: Envelope<T>,
        object: crate::trace::model::ObjectIndex,
        location: &'static Location<'static>,
    ) -> Result<(), SendError<T>> {
        let seq = envelope.seq;
        let mut registered = false;
        let result = match self.cb().send_timeout(envelope, REGISTER_AFTER) {
            Ok(()) => Ok(()),
            Err(cb::SendTimeoutError::Disconnected(e)) => Err(e),
            Err(cb::SendTimeoutError::Timeout(e)) => {
                // The mark is read before the send below looks for room.
                context::with(|ctx| {
                    let mark = self.shared.mark(ctx);
                    ctx.block_marked(Op::Send, object, location, false, mark);
                });
                registered = true;
                self.cb().send(e).map_err(|e| e.0)
            }
        };
        context::with(|ctx| {
            if registered {
                ctx.unblock();
            }
            if result.is_ok() {
                self.shared.progressed(ctx);
            }
            ctx.record(Op::Send, object, location, [seq, if result.is_ok() { 0 } else { 2 }, 0]);
        });
        result.map_err(|e| SendError(e.value))
    }

    /// Sends if there is room. Like [`crossbeam_channel::Sender::try_send`].
    ///
    /// # Errors
    ///
    /// `Full` or `Disconnected`, with the value.
    #[track_caller]
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let location = Location::caller();
        match (&self.flavor, context::mode()) {
            (Flavor::Replay(queue), mode) => match mode {
                Mode::Coop => self.send_followed(queue, value, location),
                _ => self.send_gated(queue, value, location),
            }
            .map_err(|(v, status)| {
                if status == 1 {
                    TrySendError::Full(v)
                } else {
                    TrySendError::Disconnected(v)
                }
            }),
            (Flavor::Crossbeam { .. }, mode @ (Mode::Record | Mode::Coop)) => {
                let (object, sender, seq) = context::with(|ctx| {
                    ctx.sends += 1;
                    (ctx.object(&self.shared.slot, ObjectKind::Channel, location), ctx.index, ctx.sends)
                });
                if mode == Mode::Coop {
                    coop::switch(Op::Send, Some(object), location);
                }
                let result = self.cb().try_send(Envelope { sender, seq, value });
                if mode == Mode::Coop && result.is_ok() {
                    coop::wake(Resource::Object(object), true);
                }
                let status = match &result {
                    Ok(()) => 0,
                    Err(cb::TrySendError::Full(_)) => 1,
                    Err(cb::TrySendError::Disconnected(_)) => 2,
                };
                context::with(|ctx| {
                    if status == 0 {
                        self.shared.progressed(ctx);
                    }
                    ctx.record(Op::Send, object, location, [seq, status, 0]);
                });
                result.map_err(|e| match e {
                    cb::TrySendError::Full(e) => TrySendError::Full(e.value),
                    cb::TrySendError::Disconnected(e) => TrySendError::Disconnected(e.value),
                })
            }
            (Flavor::Crossbeam { .. }, _) => {
                self.cb().try_send(Envelope { sender: 0, seq: 0, value }).map_err(|e| match e {
                    cb::TrySendError::Full(e) => TrySendError::Full(e.value),
                    cb::TrySendError::Disconnected(e) => TrySendError::Disconnected(e.value),
                })
            }
        }
    }

    /// Replay: a recorded "full" comes back as `Err` (the caller maps it), a
    /// recorded success puts the message in the queue under its id.
    fn send_gated(
        &self,
        queue: &ReplayQueue<T>,
        value: T,
        location: &'static Location<'static>,
    ) -> Result<(), (T, u64)> {
        let Some(call) = gated::begin(Op::Send, Some((&self.shared.slot, ObjectKind::Channel)), location)
        else {
            return Err((value, 2));
        };
        if call.event.b != 0 {
            return Err((value, call.event.b));
        }
        let (sender, seq) = (call.thread, call.event.a);
        queue.items.lock().push_back(Envelope { sender, seq, value });
        call.happened(Happened::Sent { sender, seq });
        Ok(())
    }

    /// Whether the channel is empty.
    pub fn is_empty(&self) -> bool {
        self.flavor.len() == 0
    }

    /// How many messages are queued.
    pub fn len(&self) -> usize {
        self.flavor.len()
    }
}

/// Replay: waits for the recorded message and takes it from the queue.
fn take_recorded<T>(call: &GatedCall, queue: &ReplayQueue<T>) -> Result<T, u64> {
    if call.event.a == 0 {
        return Err(call.event.b);
    }
    let (sender, seq) = ((call.event.a - 1) as ThreadIndex, call.event.b);
    if !call.wait(WaitFor::Message { sender, seq }) {
        return Err(DISCONNECTED);
    }
    match queue.take(sender, seq) {
        Some(value) => Ok(value),
        None => {
            call.diverge(format!("message {seq} of thread {sender} was sent, but not on this channel"));
            Err(DISCONNECTED)
        }
    }
}

impl<T> Receiver<T> {
    fn cb(&self) -> &cb::Receiver<Envelope<T>> {
        match &self.flavor {
            Flavor::Crossbeam { rx: Some(rx), .. } => rx,
            _ => unreachable!("a crossbeam receiver without its channel"),
        }
    }

    /// The one receive path: `wait` is `None` for try_recv, `Some(None)` for
    /// recv and `Some(Some(deadline))` for recv_timeout, whose `timeout` the
    /// explorer counts in virtual time.
    fn receive(
        &self,
        op: Op,
        wait: Option<Option<Instant>>,
        timeout: Option<Duration>,
        location: &'static Location<'static>,
    ) -> Result<T, u64> {
        match (&self.flavor, context::mode()) {
            (Flavor::Crossbeam { .. }, Mode::Coop) => {
                self.receive_coop(op, wait.is_some(), timeout, location)
            }
            (Flavor::Replay(queue), Mode::Coop) => self.receive_followed(queue, op, location),
            (Flavor::Replay(queue), _) => {
                let Some(call) = gated::begin(op, Some((&self.shared.slot, ObjectKind::Channel)), location)
                else {
                    return Err(DISCONNECTED);
                };
                take_recorded(&call, queue)
            }
            (Flavor::Crossbeam { .. }, Mode::Record) => {
                // One visit to the thread's context unless the receive blocks.
                let attempt = context::with(|ctx| {
                    let object = ctx.object(&self.shared.slot, ObjectKind::Channel, location);
                    let result = match (self.cb().try_recv(), wait) {
                        (Ok(e), _) => Ok(e),
                        (Err(cb::TryRecvError::Disconnected), _) => Err(DISCONNECTED),
                        (Err(cb::TryRecvError::Empty), None) => Err(EMPTY),
                        (Err(cb::TryRecvError::Empty), Some(deadline)) => return Err((object, deadline)),
                    };
                    if result.is_ok() {
                        self.shared.progressed(ctx);
                    }
                    let [a, b] = outcome_of(&result);
                    ctx.record(op, object, location, [a, b, 0]);
                    Ok(result)
                });
                let result = match attempt {
                    Ok(result) => result,
                    Err((object, deadline)) => self.recv_recorded_slow(op, object, deadline, location),
                };
                result.map(|e| e.value)
            }
            (Flavor::Crossbeam { .. }, _) => match wait {
                None => self.cb().try_recv().map_err(|e| match e {
                    cb::TryRecvError::Empty => EMPTY,
                    cb::TryRecvError::Disconnected => DISCONNECTED,
                }),
                Some(deadline) => self.blocking_recv(deadline),
            }
            .map(|e| e.value),
        }
    }

    /// Cooperative mode: an empty channel blocks the thread in the scheduler.
    fn receive_coop(
        &self,
        op: Op,
        waits: bool,
        timeout: Option<Duration>,
        location: &'static Location<'static>,
    ) -> Result<T, u64> {
        let object = context::with(|ctx| ctx.object(&self.shared.slot, ObjectKind::Channel, location));
        let mut deadline = None;
        loop {
            coop::switch(op, Some(object), location);
            let served = context::with(|ctx| coop::recorded_outcome(ctx.index, op)).map(|s| s.outcome);
            let result = match served {
                Some(Outcome::TryRecv(r) | Outcome::RecvTimeout(r) | Outcome::Recv(r))
                    if !matches!(r, Received::Message { .. }) =>
                {
                    Err(match r {
                        Received::Empty => EMPTY,
                        Received::TimedOut => TIMED_OUT,
                        _ => DISCONNECTED,
                    })
                }
                _ => match self.cb().try_recv() {
                    Ok(e) => Ok(e),
                    Err(cb::TryRecvError::Disconnected) => Err(DISCONNECTED),
                    Err(cb::TryRecvError::Empty) if !waits => Err(EMPTY),
                    Err(cb::TryRecvError::Empty) => {
                        let until = timeout.map(|t| {
                            *deadline.get_or_insert_with(|| coop::now().saturating_add(t.as_nanos() as u64))
                        });
                        match coop::block(&[Resource::Object(object)], until, op, Some(object), location) {
                            Woken::Changed => continue,
                            Woken::TimedOut => Err(TIMED_OUT),
                        }
                    }
                },
            };
            let [a, b] = outcome_of(&result);
            context::with(|ctx| ctx.record(op, object, location, [a, b, 0]));
            if result.is_ok() {
                coop::wake(Resource::Object(object), true);
            }
            return result.map(|e| e.value);
        }
    }

    /// Record mode, the channel was empty: wait, and show the deadlock
    /// monitor this thread as blocked only once the wait lasts (registering
    /// costs a few lock operations, and most waits are short hand-offs). A
    /// wait with a deadline ends by itself and is never registered.
    #[cold]
    fn recv_recorded_slow(
        &self,
        op: Op,
        object: crate::trace::model::ObjectIndex,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
    ) -> Result<Envelope<T>, u64> {
        let mut registered = false;
        let result = match deadline {
            Some(_) => self.blocking_recv(deadline),
            None => match self.cb().recv_timeout(REGISTER_AFTER) {
                Ok(e) => Ok(e),
                Err(cb::RecvTimeoutError::Disconnected) => Err(DISCONNECTED),
                Err(cb::RecvTimeoutError::Timeout) => {
                    // The mark is read before the receive below looks.
                    context::with(|ctx| {
                        let mark = self.shared.mark(ctx);
                        ctx.block_marked(op, object, location, false, mark);
                    });
                    registered = true;
                    self.blocking_recv(None)
                }
            },
        };
        let [a, b] = outcome_of(&result);
        context::with(|ctx| {
            if registered {
                ctx.unblock();
            }
            if result.is_ok() {
                self.shared.progressed(ctx);
            }
            ctx.record(op, object, location, [a, b, 0]);
        });
        result
    }

    fn blocking_recv(&self, deadline: Option<Instant>) -> Result<Envelope<T>, u64> {
        match deadline {
            None => self.cb().recv().map_err(|_| DISCONNECTED),
            Some(deadline) => self.cb().recv_deadline(deadline).map_err(|e| match e {
                cb::RecvTimeoutError::Timeout => TIMED_OUT,
                cb::RecvTimeoutError::Disconnected => DISCONNECTED,
            }),
        }
    }

    /// Receives, blocking. Like [`crossbeam_channel::Receiver::recv`].
    ///
    /// # Errors
    ///
    /// When the channel is empty and every sender is gone.
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        self.receive(Op::Recv, Some(None), None, Location::caller()).map_err(|_| RecvError)
    }

    /// Receives if a message is ready. Like [`crossbeam_channel::Receiver::try_recv`].
    ///
    /// # Errors
    ///
    /// `Empty` or `Disconnected`.
    #[track_caller]
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.receive(Op::TryRecv, None, None, Location::caller()).map_err(|reason| match reason {
            DISCONNECTED => TryRecvError::Disconnected,
            _ => TryRecvError::Empty,
        })
    }

    /// Receives, waiting at most `timeout`. Like
    /// [`crossbeam_channel::Receiver::recv_timeout`]. In replay a recorded
    /// timeout returns at once.
    ///
    /// # Errors
    ///
    /// `Timeout` or `Disconnected`.
    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        let deadline = Instant::now().checked_add(timeout);
        self.receive(Op::RecvTimeout, Some(deadline), Some(timeout), Location::caller()).map_err(|reason| {
            match reason {
                TIMED_OUT | EMPTY => RecvTimeoutError::Timeout,
                _ => RecvTimeoutError::Disconnected,
            }
        })
    }

    /// A blocking iterator over messages, ending when every sender is gone.
    #[track_caller]
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { receiver: self, location: Location::caller() }
    }

    /// A non-blocking iterator over the messages ready now.
    #[track_caller]
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { receiver: self, location: Location::caller() }
    }

    /// Whether the channel is empty.
    pub fn is_empty(&self) -> bool {
        self.flavor.len() == 0
    }

    /// How many messages are queued.
    pub fn len(&self) -> usize {
        self.flavor.len()
    }
}

/// Blocking iterator of [`Receiver::iter`].
#[derive(Debug)]
pub struct Iter<'a, T> {
    receiver: &'a Receiver<T>,
    location: &'static Location<'static>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.receiver.receive(Op::Recv, Some(None), None, self.location).ok()
    }
}

/// Non-blocking iterator of [`Receiver::try_iter`].
#[derive(Debug)]
pub struct TryIter<'a, T> {
    receiver: &'a Receiver<T>,
    location: &'static Location<'static>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.receiver.receive(Op::TryRecv, None, None, self.location).ok()
    }
}

/// Owning blocking iterator.
#[derive(Debug)]
pub struct IntoIter<T> {
    receiver: Receiver<T>,
    location: &'static Location<'static>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.receiver.receive(Op::Recv, Some(None), None, self.location).ok()
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    #[track_caller]
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    #[track_caller]
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { receiver: self, location: Location::caller() }
    }
}

/// Waits until one of `receivers` has a message (or is disconnected) and
/// receives from it: the chosen arm and what it gave. Like a
/// `crossbeam_channel::select!` over `recv` arms.
///
/// # Panics
///
/// When `receivers` is empty.
#[track_caller]
pub fn select<T>(receivers: &[&Receiver<T>]) -> (usize, Result<T, RecvError>) {
    let (arm, result) =
        select_inner(receivers, Some(None), None, Location::caller()).expect("no deadline, no timeout");
    (arm, result.map_err(|_| RecvError))
}

/// Like [`select`], giving up after `timeout`.
///
/// # Errors
///
/// [`RecvTimeoutError::Timeout`] when no arm was ready in time.
///
/// # Panics
///
/// When `receivers` is empty.
#[track_caller]
pub fn select_timeout<T>(
    receivers: &[&Receiver<T>],
    timeout: Duration,
) -> Result<(usize, Result<T, RecvError>), RecvTimeoutError> {
    let deadline = Instant::now().checked_add(timeout);
    select_inner(receivers, Some(deadline), Some(timeout), Location::caller())
        .map(|(arm, result)| (arm, result.map_err(|_| RecvError)))
        .map_err(|_| RecvTimeoutError::Timeout)
}

fn select_inner<T>(
    receivers: &[&Receiver<T>],
    wait: Option<Option<Instant>>,
    timeout: Option<Duration>,
    location: &'static Location<'static>,
) -> Result<(usize, Result<T, u64>), ()> {
    assert!(!receivers.is_empty(), "select over no receivers");
    let replaying = receivers.iter().any(|r| matches!(r.flavor, Flavor::Replay(_)));
    if replaying && context::mode() == Mode::Coop {
        return followed::select_followed(receivers, location);
    }
    if replaying {
        let Some(call) = gated::begin(Op::Select, None, location) else { return Err(()) };
        if call.event.a == 0 && call.event.b == TIMED_OUT {
            return Err(());
        }
        let arm = call.event.c as usize;
        let Some(Receiver { flavor: Flavor::Replay(queue), shared }) = receivers.get(arm).copied() else {
            call.diverge(format!(
                "the recording chose arm {arm} of a select over {} receivers",
                receivers.len()
            ));
            return Err(());
        };
        if gated::object_of(&shared.slot).is_some_and(|o| o != call.event.object) {
            call.diverge(format!("arm {arm} is not the recorded channel #{}", call.event.object));
        }
        return Ok((arm, take_recorded(&call, queue)));
    }
    if context::mode() == Mode::Coop {
        return select_coop(receivers, timeout, location);
    }
    let mut select = cb::Select::new();
    for r in receivers {
        select.recv(r.cb());
    }
    let recording = context::mode() == Mode::Record;
    let chosen = match select.try_select() {
        Ok(op) => Some(op),
        Err(_) => {
            if recording {
                context::with(|ctx| ctx.block(Op::Select, u32::MAX, location, matches!(wait, Some(Some(_)))));
            }
            let op = match wait {
                Some(Some(deadline)) => select.select_deadline(deadline).ok(),
                _ => Some(select.select()),
            };
            if recording {
                context::with(|ctx| ctx.unblock());
            }
            op
        }
    };
    let Some(op) = chosen else {
        if recording {
            context::with(|ctx| ctx.record(Op::Select, 0, location, [0, TIMED_OUT, 0]));
        }
        return Err(());
    };
    let arm = op.index();
    let result = op.recv(receivers[arm].cb()).map_err(|_| DISCONNECTED);
    if recording {
        context::with(|ctx| {
            let object = ctx.object(&receivers[arm].shared.slot, ObjectKind::Channel, location);
            if result.is_ok() {
                receivers[arm].shared.progressed(ctx);
            }
            let [a, b] = outcome_of(&result);
            ctx.record(Op::Select, object, location, [a, b, arm as u64]);
        });
    }
    Ok((arm, result.map(|e| e.value)))
}

/// Cooperative mode: a select blocks in the scheduler on all its channels.
fn select_coop<T>(
    receivers: &[&Receiver<T>],
    timeout: Option<Duration>,
    location: &'static Location<'static>,
) -> Result<(usize, Result<T, u64>), ()> {
    let objects: Vec<Resource> = receivers
        .iter()
        .map(|r| {
            Resource::Object(context::with(|ctx| ctx.object(&r.shared.slot, ObjectKind::Channel, location)))
        })
        .collect();
    let mut deadline = None;
    loop {
        coop::switch(Op::Select, None, location);
        // Which ready arm is taken is the schedule's choice (crossbeam's
        // `try_select` would pick at random): try the arms in the order the
        // scheduler picks them until one has a message or is disconnected.
        let mut untried: Vec<u32> = (0..receivers.len() as u32).collect();
        while !untried.is_empty() {
            let pick = coop::scheduler().choose(&untried);
            untried.retain(|&a| a != pick);
            let arm = pick as usize;
            let result = match receivers[arm].cb().try_recv() {
                Ok(e) => Ok(e),
                Err(cb::TryRecvError::Disconnected) => Err(DISCONNECTED),
                Err(cb::TryRecvError::Empty) => continue,
            };
            let Resource::Object(object) = objects[arm] else { unreachable!("channels are objects") };
            let [a, b] = outcome_of(&result);
            context::with(|ctx| ctx.record(Op::Select, object, location, [a, b, arm as u64]));
            if result.is_ok() {
                coop::wake(Resource::Object(object), true);
            }
            return Ok((arm, result.map(|e| e.value)));
        }
        let until =
            timeout.map(|t| *deadline.get_or_insert_with(|| coop::now().saturating_add(t.as_nanos() as u64)));
        if coop::block(&objects, until, Op::Select, None, location) == Woken::TimedOut {
            context::with(|ctx| ctx.record(Op::Select, 0, location, [0, TIMED_OUT, 0]));
            return Err(());
        }
    }
}

/// Under the explorer, a dropped end may disconnect the channel: drop the
/// crossbeam end now (not after this function), so that whoever is blocked on
/// the channel sees the disconnection when it looks again, and wake them.
/// Other modes have no one to wake: the end drops as usual.
///
/// A crossbeam end is also dropped here, before the channel's progress
/// counter is bumped: a waiter the drop disconnects must see the bump.
fn drop_end<T>(flavor: &mut Flavor<T>, shared: &Shared) {
    if context::mode() == Mode::Coop {
        *flavor = Flavor::Crossbeam { tx: None, rx: None };
        if let Some(object) = gated::object_of(&shared.slot) {
            coop::wake(Resource::Object(object), true);
        }
    } else if let Flavor::Crossbeam { tx, rx } = flavor {
        drop((tx.take(), rx.take()));
        exec::bump(&shared.progress);
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        drop_end(&mut self.flavor, &self.shared);
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        drop_end(&mut self.flavor, &self.shared);
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        let flavor = match &self.flavor {
            Flavor::Crossbeam { tx, .. } => Flavor::Crossbeam { tx: tx.clone(), rx: None },
            Flavor::Replay(queue) => Flavor::Replay(Arc::clone(queue)),
        };
        Sender { shared: Arc::clone(&self.shared), flavor }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        let flavor = match &self.flavor {
            Flavor::Crossbeam { rx, .. } => Flavor::Crossbeam { tx: None, rx: rx.clone() },
            Flavor::Replay(queue) => Flavor::Replay(Arc::clone(queue)),
        };
        Receiver { shared: Arc::clone(&self.shared), flavor }
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
