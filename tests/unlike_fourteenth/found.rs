//! What this set found in reprise, reduced.
//!
//! Under the explorer, two threads blocked in `recv` on one rendezvous
//! channel (clones of one `bounded(0)` receiver) woke each other for ever:
//! a receiver about to wait on an explored rendezvous counts itself a
//! taker and wakes everything blocked on the channel (for the senders that
//! wait for want of a taker), which woke the other receiver, which did
//! the same. No event is written on the way, so the strategies that keep
//! running a woken thread (DFS's default branch, PCT's priorities) spun
//! there to the step bound and reported a livelock of a correct program
//! (payloads.rs's producers, waiting for word from the root, under PCT,
//! DFS and Portfolio).

use std::sync::Arc;

use reprise::channel;
use reprise::sync::Mutex;
use reprise::thread;

/// Two takers wait on one rendezvous while a third thread works; the root
/// then hands each taker a word.
pub(crate) fn two_takers_waiting() -> String {
    let (tx, rx) = channel::bounded::<u32>(0);
    let takers: Vec<_> = (0..2)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || rx.recv().expect("a word from the root"))
        })
        .collect();
    drop(rx);
    let counter = Arc::new(Mutex::new(0u32));
    let worker = {
        let counter = Arc::clone(&counter);
        thread::spawn(move || {
            for _ in 0..5 {
                *counter.lock().expect("the counter") += 1;
            }
        })
    };
    worker.join().expect("the worker ends");
    for word in 0..2 {
        tx.send(word).expect("a taker waits");
    }
    let mut words: Vec<u32> = takers.into_iter().map(|t| t.join().expect("a taker ends")).collect();
    words.sort_unstable();
    assert_eq!(words, [0, 1]);
    format!("counted {}", *counter.lock().expect("the counter"))
}
