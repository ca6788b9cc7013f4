//! Corners a port runs into that the shapes above do not: a logger thread
//! never joined, still working when the body returns; one receiver
//! registered twice in a `Select`; both ends of a rendezvous channel in
//! selects at once; a channel that carries its own sender (so it never
//! disconnects) drained by cloned receivers on `recv_timeout`.

use std::fmt::Write as _;
use std::sync::Arc;

use reprise::channel::{self, select, Select};
use reprise::sync::Mutex;
use reprise::thread;
use reprise::time::Duration;

use super::{replays, replays_and_varies};

#[test]
fn a_logger_never_joined_replays_to_its_recorded_transcript() {
    replays_and_varies("fourth-logger", detached_logger);
}

#[test]
fn selects_on_both_ends_of_a_rendezvous_replay_to_their_recorded_transcript() {
    replays_and_varies("fourth-rendezvous-select", rendezvous_selects);
}

#[test]
fn a_channel_carrying_its_own_sender_replays_to_its_recorded_transcript() {
    replays("fourth-self-sender", self_sender);
}

/// Workers log through a channel to a logger that is never joined; the
/// body reads how far the logger got, drops its sender and returns while
/// the logger may still be writing.
pub(super) fn detached_logger() -> String {
    let (log_tx, log_rx) = channel::unbounded::<String>();
    let written = Arc::new(Mutex::new(Vec::new()));
    {
        let written = Arc::clone(&written);
        thread::Builder::new()
            .name("logger".into())
            .spawn(move || {
                for line in log_rx {
                    written.lock().unwrap().push(line);
                }
                written.lock().unwrap().push("closed".into());
            })
            .unwrap();
    }
    let workers: Vec<_> = (0..3)
        .map(|w| {
            let log = log_tx.clone();
            thread::spawn(move || {
                for i in 0..4 {
                    log.send(format!("w{w}.{i}")).unwrap();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    drop(log_tx);
    let seen = written.lock().unwrap().len();
    format!("the logger had written {seen} lines")
}

/// Two threads each select over both ends of two rendezvous channels: one
/// side sends on `a` or receives on `b`, the other the reverse; the same
/// receiver is also registered twice in a dynamic `Select`.
pub(super) fn rendezvous_selects() -> String {
    let (a_tx, a_rx) = channel::bounded::<u32>(0);
    let (b_tx, b_rx) = channel::bounded::<u32>(0);
    let (done_tx, done_rx) = channel::bounded::<()>(0);
    let left = {
        let (a_tx, b_rx) = (a_tx.clone(), b_rx.clone());
        thread::spawn(move || {
            let mut out = String::new();
            let mut sent = 0;
            while sent < 3 {
                select! {
                    send(a_tx, 10 + sent) -> r => { r.unwrap(); sent += 1; out.push('s'); }
                    recv(b_rx) -> v => { let _ = write!(out, "r{}", v.unwrap()); }
                }
            }
            out
        })
    };
    let right = {
        let (b_tx, a_rx) = (b_tx.clone(), a_rx.clone());
        thread::spawn(move || {
            let mut out = String::new();
            let mut sent = 0;
            while sent < 3 {
                select! {
                    send(b_tx, 20 + sent) -> r => { r.unwrap(); sent += 1; out.push('s'); }
                    recv(a_rx) -> v => { let _ = write!(out, "r{}", v.unwrap()); }
                }
            }
            done_tx.send(()).unwrap();
            out
        })
    };
    // The body drains what the two leave over, registering `a_rx` twice:
    // either index may be chosen, and both are the same channel.
    let mut drained = String::new();
    loop {
        let mut sel = Select::new();
        let first = sel.recv(&a_rx);
        let second = sel.recv(&a_rx);
        let b = sel.recv(&b_rx);
        let done = sel.recv(&done_rx);
        let oper = sel.select();
        let index = oper.index();
        if index == first || index == second {
            let _ = write!(drained, "a{} ", oper.recv(&a_rx).unwrap());
        } else if index == b {
            let _ = write!(drained, "b{} ", oper.recv(&b_rx).unwrap());
        } else {
            assert_eq!(index, done);
            oper.recv(&done_rx).unwrap();
            break;
        }
    }
    // The left may still be sending after the right is done.
    let left_out = loop {
        select! {
            recv(a_rx) -> v => { let _ = write!(drained, "a{} ", v.unwrap()); }
            default(Duration::from_millis(1)) => {
                if left.is_finished() {
                    break left.join().unwrap();
                }
            }
        }
    };
    format!("{left_out} | {} | {drained}", right.join().unwrap())
}

/// A work queue whose items may carry the queue's own sender, to enqueue
/// follow-up work: it never disconnects, so cloned consumers stop on a
/// `recv_timeout` after the work is counted out.
pub(super) fn self_sender() -> String {
    enum Job {
        Leaf(u32),
        Split(u32, channel::Sender<Job>),
    }
    let (tx, rx) = channel::unbounded::<Job>();
    let done = Arc::new(Mutex::new(Vec::new()));
    tx.send(Job::Split(8, tx.clone())).unwrap();
    tx.send(Job::Split(6, tx.clone())).unwrap();
    let consumers: Vec<_> = (0..3)
        .map(|c| {
            let rx = rx.clone();
            let done = Arc::clone(&done);
            thread::spawn(move || {
                let mut mine = 0;
                loop {
                    match rx.recv_timeout(Duration::from_millis(20)) {
                        Ok(Job::Leaf(n)) => {
                            done.lock().unwrap().push(n);
                            mine += 1;
                        }
                        Ok(Job::Split(n, again)) if n > 1 => {
                            again.send(Job::Split(n / 2, again.clone())).unwrap();
                            again.send(Job::Leaf(n)).unwrap();
                        }
                        Ok(Job::Split(n, _)) => done.lock().unwrap().push(n),
                        Err(_) => {
                            // Seven items in all (8, 4, 2, 1 and 6, 3, 1): stop once they are in.
                            if done.lock().unwrap().len() >= 7 {
                                return format!("c{c}:{mine}");
                            }
                        }
                    }
                }
            })
        })
        .collect();
    let counts: Vec<String> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
    let done = done.lock().unwrap();
    format!("{} | {:?}", counts.join(" "), *done)
}

#[test]
fn two_peers_trading_over_rendezvous_selects_replay_to_their_recorded_transcript() {
    replays("fourth-peers", peers);
}

/// Two peers, nobody else: each selects between sending on its outgoing
/// rendezvous and receiving on its incoming one until it has sent and
/// received three; built with a dynamic `Select` whose send arm goes once
/// all is sent.
pub(super) fn peers() -> String {
    let (a_tx, a_rx) = channel::bounded::<u32>(0);
    let (b_tx, b_rx) = channel::bounded::<u32>(0);
    let peer = |id: u32, out: channel::Sender<u32>, inc: channel::Receiver<u32>| {
        thread::spawn(move || {
            let (mut sent, mut received, mut log) = (0u32, 0u32, String::new());
            while sent < 3 || received < 3 {
                let mut sel = Select::new();
                let send = (sent < 3).then(|| sel.send(&out));
                let recv = (received < 3).then(|| sel.recv(&inc));
                let oper = sel.select();
                if Some(oper.index()) == send {
                    oper.send(&out, id * 10 + sent).unwrap();
                    sent += 1;
                    log.push('s');
                } else {
                    assert_eq!(Some(oper.index()), recv);
                    let v = oper.recv(&inc).unwrap();
                    received += 1;
                    log.push(char::from_digit(v % 10, 10).unwrap_or('?'));
                }
            }
            log
        })
    };
    let left = peer(1, a_tx, b_rx);
    let right = peer(2, b_tx, a_rx);
    // Which sends crossed which receives, in each peer's order of events.
    format!("{} {}", left.join().unwrap(), right.join().unwrap())
}
