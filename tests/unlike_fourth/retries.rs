//! Time-driven retries: a client gives each attempt a deadline
//! (`recv_deadline`), backs off with `Instant` arithmetic and tries again; a
//! slow server sometimes answers a stale attempt, which the client must
//! skip; the client's sends to the server's one-slot inbox use
//! `send_timeout`.

use std::fmt::Write as _;

use reprise::channel::{self, RecvTimeoutError, SendTimeoutError, Sender};
use reprise::thread;
use reprise::time::{Duration, Instant};

use super::runs;
use crate::util::replays_give_the_transcript;

#[test]
fn retries_driven_by_deadlines_replay_to_their_recorded_transcript() {
    let distinct = replays_give_the_transcript("fourth-retries", runs(), retries);
    assert!(distinct > 1, "every run interleaved the same way: the test shows little");
}

/// An attempt: the request number, the attempt number, where to answer.
type Attempt = (u32, u32, Sender<(u32, u32)>);

fn retries() -> String {
    let (inbox_tx, inbox_rx) = channel::bounded::<Attempt>(1);
    let server = thread::spawn(move || {
        let mut served = 0u32;
        for (request, attempt, reply) in inbox_rx.iter() {
            // Slow on every other attempt: busy for longer than the
            // client's first deadline.
            if (request + attempt) % 2 == 0 {
                thread::sleep(Duration::from_millis(2));
            }
            let _ = reply.send((request, attempt));
            served += 1;
        }
        served
    });
    let (reply_tx, reply_rx) = channel::unbounded();
    let mut out = String::new();
    let started = Instant::now();
    for request in 0..4u32 {
        let mut attempt = 0u32;
        let mut wait = Duration::from_micros(300);
        loop {
            match inbox_tx.send_timeout((request, attempt, reply_tx.clone()), wait) {
                Ok(()) => {}
                Err(SendTimeoutError::Timeout(_)) => {
                    let _ = write!(out, "r{request}a{attempt}:full ");
                    attempt += 1;
                    wait *= 2;
                    continue;
                }
                Err(SendTimeoutError::Disconnected(_)) => unreachable!("the server outlives the client"),
            }
            let deadline = Instant::now() + wait;
            let answered = loop {
                match reply_rx.recv_deadline(deadline) {
                    // An answer to an earlier attempt, or an earlier request.
                    Ok((r, a)) if (r, a) != (request, attempt) => {
                        let _ = write!(out, "stale{r}.{a} ");
                    }
                    Ok(_) => break true,
                    Err(RecvTimeoutError::Timeout) => break false,
                    Err(RecvTimeoutError::Disconnected) => unreachable!("the client holds a sender"),
                }
            };
            if answered {
                let _ = write!(out, "r{request}:ok@{attempt} ");
                break;
            }
            attempt += 1;
            wait = wait.saturating_mul(2);
        }
    }
    drop(inbox_tx);
    let served = server.join().unwrap();
    let elapsed = started.elapsed();
    let _ = write!(
        out,
        "| served {served}, took {}",
        if elapsed > Duration::from_millis(4) { "long" } else { "short" }
    );
    out
}
