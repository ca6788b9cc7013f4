//! Time-driven retries: two clients share a slow server; each attempt gets
//! a deadline (`recv_deadline`), the wait doubles (`Instant` arithmetic)
//! and the client tries again; the server sometimes answers a stale
//! attempt, which the client must skip; sends into the server's one-slot
//! inbox use `send_timeout`.

use std::fmt::Write as _;

use reprise::channel::{self, RecvTimeoutError, SendTimeoutError, Sender};
use reprise::sync::Mutex;
use reprise::thread;
use reprise::time::{Duration, Instant};

use super::replays_and_varies;

#[test]
fn retries_driven_by_deadlines_replay_to_their_recorded_transcript() {
    replays_and_varies("fourth-retries", retries);
}

/// An attempt: the client, the request, the attempt number, where to answer.
type Attempt = (u32, u32, u32, Sender<(u32, u32)>);

/// One client's requests, each retried until answered.
fn client(id: u32, inbox: Sender<Attempt>, requests: u32) -> String {
    let (reply_tx, reply_rx) = channel::unbounded::<(u32, u32)>();
    let mut out = String::new();
    for request in 0..requests {
        let mut attempt = 0u32;
        let mut wait = Duration::from_micros(400);
        loop {
            match inbox.send_timeout((id, request, attempt, reply_tx.clone()), wait) {
                Ok(()) => {}
                Err(SendTimeoutError::Timeout(_)) => {
                    let _ = write!(out, "{request}.{attempt}:full ");
                    attempt += 1;
                    wait *= 2;
                    continue;
                }
                Err(SendTimeoutError::Disconnected(_)) => unreachable!("the server outlives the clients"),
            }
            let deadline = Instant::now() + wait;
            let answered = loop {
                match reply_rx.recv_deadline(deadline) {
                    Ok((r, a)) if (r, a) != (request, attempt) => {
                        let _ = write!(out, "stale{r}.{a} ");
                    }
                    Ok(_) => break true,
                    Err(RecvTimeoutError::Timeout) => break false,
                    Err(RecvTimeoutError::Disconnected) => unreachable!("the client holds a sender"),
                }
            };
            if answered {
                let _ = write!(out, "{request}:ok@{attempt} ");
                break;
            }
            attempt += 1;
            wait = wait.saturating_mul(2);
        }
    }
    out
}

pub(super) fn retries() -> String {
    let (inbox_tx, inbox_rx) = channel::bounded::<Attempt>(1);
    let served = std::sync::Arc::new(Mutex::new(String::new()));
    let server = {
        let served = std::sync::Arc::clone(&served);
        thread::spawn(move || {
            for (client, request, attempt, reply) in inbox_rx.iter() {
                // Slow on every other attempt: longer than a first deadline.
                if (request + attempt) % 2 == 0 {
                    thread::sleep(Duration::from_millis(1));
                }
                let _ = reply.send((request, attempt));
                served.lock().unwrap().push(char::from(b'a' + client as u8));
            }
        })
    };
    let clients: Vec<_> = (0..2)
        .map(|id| {
            let inbox = inbox_tx.clone();
            thread::spawn(move || client(id, inbox, 3))
        })
        .collect();
    drop(inbox_tx);
    let mut out = String::new();
    for (id, handle) in clients.into_iter().enumerate() {
        let _ = write!(out, "c{id}: {}| ", handle.join().unwrap());
    }
    server.join().unwrap();
    let _ = write!(out, "served {}", served.lock().unwrap());
    out
}
