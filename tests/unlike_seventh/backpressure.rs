//! Backpressure: a chain of std `sync_channel(1)` and crossbeam
//! `bounded(1)` stages, whose source races a `try_send` poll against the
//! first stage; and a chain whose middle stage hangs up after a few items,
//! so that the stage before it sees its sends fail and the one after sees
//! the disconnection, as std and crossbeam say.

use reprise::channel;
use reprise::sync::mpsc;
use reprise::thread;

use super::{replays, replays_to};

const ITEMS: u32 = 12;

#[test]
fn a_chain_of_one_slot_stages_replays_to_every_item_in_order() {
    let sum: u32 = (0..ITEMS).map(|v| v * 2 + 3).sum();
    let expected = format!("{sum} in order");
    replays_to("seventh-sync-chain", &expected, sync_chain);
}

/// source -(sync_channel(1))-> double -(bounded(1))-> plus one -(sync_channel(1))->
/// plus two -> the main thread. The source fills with `try_send`, yielding
/// when `Full`. Every item must come through once, in order.
pub(super) fn sync_chain() -> String {
    let (a_tx, a_rx) = mpsc::sync_channel::<u32>(1);
    let (b_tx, b_rx) = channel::bounded::<u32>(1);
    let (c_tx, c_rx) = mpsc::sync_channel::<u32>(1);
    let (d_tx, d_rx) = channel::bounded::<u32>(1);
    let source = thread::spawn(move || {
        let mut fulls = 0u32;
        for v in 0..ITEMS {
            let mut item = v;
            loop {
                match a_tx.try_send(item) {
                    Ok(()) => break,
                    Err(mpsc::TrySendError::Full(back)) => {
                        fulls += 1;
                        item = back;
                        thread::yield_now();
                    }
                    Err(mpsc::TrySendError::Disconnected(_)) => panic!("the first stage hung up"),
                }
            }
        }
        fulls
    });
    let double = thread::spawn(move || {
        for v in a_rx {
            b_tx.send(v * 2).unwrap();
        }
    });
    let plus_one = thread::spawn(move || {
        for v in b_rx {
            c_tx.send(v + 1).unwrap();
        }
    });
    let plus_two = thread::spawn(move || {
        while let Ok(v) = c_rx.recv() {
            d_tx.send(v + 2).unwrap();
        }
    });
    let got: Vec<u32> = d_rx.iter().collect();
    let _fulls = source.join().unwrap();
    for h in [double, plus_one, plus_two] {
        h.join().unwrap();
    }
    let expected: Vec<u32> = (0..ITEMS).map(|v| v * 2 + 3).collect();
    let order = if got == expected { "in order" } else { "out of order" };
    format!("{} {order}", got.iter().sum::<u32>())
}

#[test]
fn a_chain_that_hangs_up_midway_replays_to_std_s_errors() {
    replays("seventh-hang-up", hang_up_midway);
}

/// source -(bounded(1))-> middle -(sync_channel(1))-> the main thread. The
/// middle stage forwards four items and hangs up both ends. The source
/// sends until a send fails, which it must (crossbeam: `SendError` once
/// the receiver is gone), and hands back the item that failed; the main
/// thread gets exactly four items, then `Disconnected`. The transcript:
/// how far the source got (it varies: up to two more items fit in the
/// slot and the middle stage's hands).
pub(super) fn hang_up_midway() -> String {
    let (a_tx, a_rx) = channel::bounded::<u32>(1);
    let (b_tx, b_rx) = mpsc::sync_channel::<u32>(1);
    let source = thread::spawn(move || {
        for v in 0.. {
            if let Err(channel::SendError(back)) = a_tx.send(v) {
                assert_eq!(back, v, "the failed send gives its item back");
                return v;
            }
        }
        unreachable!()
    });
    let middle = thread::spawn(move || {
        for _ in 0..4 {
            let v = a_rx.recv().unwrap();
            b_tx.send(v).unwrap();
        }
    });
    let mut got = Vec::new();
    let end = loop {
        match b_rx.recv() {
            Ok(v) => got.push(v),
            Err(mpsc::RecvError) => break "disconnected",
        }
    };
    middle.join().unwrap();
    let failed_at = source.join().unwrap();
    assert_eq!(got, vec![0, 1, 2, 3]);
    assert!((4..=5).contains(&failed_at), "the source's send failed at {failed_at}");
    format!("{end} failed at {failed_at}")
}
