//! A multiplexer over a changing set of receivers: producers come and go,
//! new receivers arrive through a channel of receivers, and every round
//! builds a fresh `Select` over what is left, as crossbeam's docs show for
//! a dynamic list of operations.

use reprise::channel::{self, select_biased, Receiver, Select, TryReadyError, TryRecvError};
use reprise::thread;
use reprise::time::{Duration, Instant};
use std::fmt::Write as _;

use super::replays_and_varies;

#[test]
fn a_multiplexer_selecting_over_a_changing_set_replays_to_its_recorded_transcript() {
    replays_and_varies("fourth-select-set", multiplexer);
}

#[test]
fn ready_and_try_ready_over_a_changing_set_replay_to_their_recorded_transcript() {
    replays_and_varies("fourth-ready-set", readiness);
}

/// Spawns a producer that sends `n` tagged values on its own channel, then
/// hangs up; returns the receiver.
fn producer(tag: char, n: u32) -> Receiver<String> {
    let (tx, rx) = channel::bounded(1);
    thread::spawn(move || {
        for i in 0..n {
            if tx.send(format!("{tag}{i}")).is_err() {
                return;
            }
        }
    });
    rx
}

/// Selects over the live producers and the channel bringing new ones;
/// `select_biased!` gives a stop channel priority over a far deadline.
pub(super) fn multiplexer() -> String {
    let (joining_tx, joining_rx) = channel::unbounded::<Receiver<String>>();
    let (stop_tx, stop_rx) = channel::bounded::<()>(1);
    let spawner = thread::spawn(move || {
        for (k, tag) in ['a', 'b', 'c', 'd'].into_iter().enumerate() {
            joining_tx.send(producer(tag, 2 + k as u32)).unwrap();
        }
    });
    let mut live: Vec<Receiver<String>> = vec![producer('z', 3)];
    let mut joining = Some(joining_rx);
    let mut out = String::new();
    let far = Instant::now() + Duration::from_secs(60);
    loop {
        if live.is_empty() && joining.is_none() {
            break;
        }
        let mut sel = Select::new();
        for rx in &live {
            sel.recv(rx);
        }
        // A spent joining channel's slot keeps its index with `never()`.
        let never = channel::never::<Receiver<String>>();
        let joining_index = sel.recv(joining.as_ref().unwrap_or(&never));
        let oper = sel.select();
        let index = oper.index();
        if index == joining_index {
            match oper.recv(joining.as_ref().expect("never() is never selected")) {
                Ok(rx) => {
                    let _ = write!(out, "+{} ", live.len());
                    live.push(rx);
                }
                Err(_) => {
                    let _ = write!(out, "closed ");
                    joining = None;
                }
            }
            continue;
        }
        match oper.recv(&live[index]) {
            Ok(value) => {
                let _ = write!(out, "{value} ");
            }
            Err(_) => {
                let _ = write!(out, "-{index} ");
                live.remove(index);
            }
        }
    }
    spawner.join().unwrap();
    // The stop channel, once ready, wins over a deadline that also is.
    stop_tx.send(()).unwrap();
    let deadline = channel::at(far);
    select_biased! {
        recv(stop_rx) -> got => { let _ = write!(out, "stop {got:?}"); }
        recv(deadline) -> _ => { out.push_str("deadline"); }
    }
    out
}

/// `ready()` and `try_ready()` on a set that shrinks as producers finish,
/// with a `Select::remove` keeping the other indices; `ready` may be
/// spurious, so each readiness is checked with `try_recv`.
pub(super) fn readiness() -> String {
    let rxs: Vec<Receiver<String>> = ['p', 'q', 'r'].into_iter().map(|tag| producer(tag, 3)).collect();
    let mut sel = Select::new();
    for rx in &rxs {
        sel.recv(rx);
    }
    let mut left = rxs.len();
    let mut out = String::new();
    let mut polls = 0u32;
    while left > 0 {
        // Poll first, then block: how often the poll found nothing is part
        // of the transcript.
        let index = match sel.try_ready() {
            Ok(index) => index,
            Err(TryReadyError) => {
                polls += 1;
                thread::sleep(Duration::from_micros(50));
                sel.ready()
            }
        };
        match rxs[index].try_recv() {
            Ok(value) => {
                let _ = write!(out, "{value} ");
            }
            Err(TryRecvError::Empty) => out.push_str(". "),
            Err(TryRecvError::Disconnected) => {
                let _ = write!(out, "-{index} ");
                sel.remove(index);
                left -= 1;
            }
        }
    }
    let _ = write!(out, "| polls found nothing {} times", polls);
    out
}
