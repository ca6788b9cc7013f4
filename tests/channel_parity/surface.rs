//! The rest of crossbeam's surface on the ends: the error types where
//! crossbeam returns them, iteration, and the trait impls crossbeam has
//! (`Debug` with no bound on the message, `Clone`, unwind safety, fused
//! blocking iterators; no `PartialEq`, as crossbeam has none).

use std::iter::FusedIterator;
use std::panic::{RefUnwindSafe, UnwindSafe};

use reprise::channel::{
    self, IntoIter, Iter, Receiver, RecvError, RecvTimeoutError, SendError, SendTimeoutError, Sender,
    TryIter, TryRecvError, TrySendError,
};

/// A message type with no `Debug`.
struct Opaque;

fn unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}
fn fused<T: FusedIterator>() {}

#[test]
fn the_ends_have_crossbeams_impls() {
    unwind_safe::<Sender<Opaque>>();
    unwind_safe::<Receiver<Opaque>>();
    fused::<Iter<'_, Opaque>>();
    fused::<IntoIter<Opaque>>();
    let (tx, rx) = channel::unbounded::<Opaque>();
    assert_eq!(
        format!("{tx:?} {rx:?} {:?} {:?}", rx.iter(), rx.try_iter()),
        "Sender { .. } Receiver { .. } Iter { .. } TryIter { .. }"
    );
    let _: TryIter<'_, Opaque> = rx.try_iter();
    let (tx2, rx2) = (tx.clone(), rx.clone());
    assert!(tx2.same_channel(&tx) && rx2.same_channel(&rx));
    drop((tx, tx2));
    assert_eq!(format!("{:?}", rx.into_iter()), "IntoIter { .. }");
}

#[test]
fn each_error_type_comes_where_crossbeams_does() {
    let (tx, rx) = channel::bounded::<u8>(1);
    tx.send(1).unwrap();
    assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    let timed_out: Result<(), SendTimeoutError<u8>> = tx.send_timeout(3, std::time::Duration::ZERO);
    assert_eq!(timed_out, Err(SendTimeoutError::Timeout(3)));
    let got: Vec<u8> = (&rx).into_iter().take(1).collect();
    assert_eq!(got, [1]);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(rx.recv_timeout(std::time::Duration::ZERO), Err(RecvTimeoutError::Timeout));
    drop(tx);
    assert_eq!(rx.recv(), Err(RecvError));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    let (tx, rx) = channel::unbounded::<u8>();
    drop(rx);
    assert_eq!(tx.send(4), Err(SendError(4)));
    assert_eq!(tx.try_send(5), Err(TrySendError::Disconnected(5)));
    assert_eq!(tx.send_timeout(6, std::time::Duration::ZERO), Err(SendTimeoutError::Disconnected(6)));
}
