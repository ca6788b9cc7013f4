//! Channels in shapes the other sets do not use: one `select!` over eight
//! channels of eight types (unbounded, bounded, a rendezvous) and two
//! `never()` arms with a `default` arm, each receiver swapped for a
//! `never()` once it disconnects; an actor that answers some requests
//! itself and hands others to helper threads, so that replies (each on the
//! request's own channel) arrive out of order at clients that pipeline
//! their requests and collect the answers with a rebuilt `Select`; and a
//! std `sync_channel(0)` ping-pong between two pingers and one ponger,
//! ending in a `try_send` good-bye that races the ponger's
//! `recv_timeout`.

use std::collections::HashMap;
use std::fmt::Write as _;

use reprise::channel::{self, select, Receiver, Select, Sender};
use reprise::sync::mpsc;
use reprise::thread;
use reprise::time::Duration;

use super::replays_and_varies;

// ---------------------------------------------------------------------------
// A wide select with a default arm.

#[test]
fn a_select_over_eight_channels_and_two_nevers_replays_to_its_transcript() {
    replays_and_varies("sixth-wide-select", wide_select);
}

/// Four producers, each holding two of eight channels, send three messages
/// on each and hang up. The consumer selects over all eight and two
/// `never()`s with a `default` arm that yields; a receiver that reports
/// its channel disconnected is replaced by a `never()` of its type. The
/// transcript: which channel each message came through, and the idle
/// rounds.
pub(super) fn wide_select() -> String {
    let (t0, r0) = channel::unbounded::<u8>();
    let (t1, r1) = channel::unbounded::<u32>();
    let (t2, r2) = channel::unbounded::<String>();
    let (t3, r3) = channel::unbounded::<(u8, u8)>();
    let (t4, r4) = channel::bounded::<u16>(1);
    let (t5, r5) = channel::bounded::<u64>(1);
    let (t6, r6) = channel::bounded::<char>(0);
    let (t7, r7) = channel::bounded::<i32>(2);
    let producers = vec![
        thread::spawn(move || {
            for i in 0..3 {
                t0.send(i).unwrap();
                t4.send(u16::from(i) + 40).unwrap();
            }
        }),
        thread::spawn(move || {
            for i in 0..3 {
                t1.send(i + 10).unwrap();
                t5.send(u64::from(i) + 50).unwrap();
            }
        }),
        thread::spawn(move || {
            for i in 0..3 {
                t2.send(format!("s{i}")).unwrap();
                t6.send(char::from(b'x' + i)).unwrap();
            }
        }),
        thread::spawn(move || {
            for i in 0..3 {
                t3.send((i, i)).unwrap();
                t7.send(-i32::from(i)).unwrap();
            }
        }),
    ];
    let (n0, n1, n2, n3) = (
        channel::never::<u8>(),
        channel::never::<u32>(),
        channel::never::<String>(),
        channel::never::<(u8, u8)>(),
    );
    let (n4, n5, n6, n7) =
        (channel::never::<u16>(), channel::never::<u64>(), channel::never::<char>(), channel::never::<i32>());
    let (extra_a, extra_b) = (channel::never::<()>(), channel::never::<Vec<u8>>());
    let mut closed = 0u32;
    let mut out = String::new();
    let mut sum = 0i64;
    let mut idle = 0u32;
    fn pick<'a, T>(closed: u32, bit: u32, open: &'a Receiver<T>, never: &'a Receiver<T>) -> &'a Receiver<T> {
        if closed & (1 << bit) == 0 {
            open
        } else {
            never
        }
    }
    while closed != 0xff {
        let (a0, a1, a2, a3) = (
            pick(closed, 0, &r0, &n0),
            pick(closed, 1, &r1, &n1),
            pick(closed, 2, &r2, &n2),
            pick(closed, 3, &r3, &n3),
        );
        let (a4, a5, a6, a7) = (
            pick(closed, 4, &r4, &n4),
            pick(closed, 5, &r5, &n5),
            pick(closed, 6, &r6, &n6),
            pick(closed, 7, &r7, &n7),
        );
        let got: Result<(u32, i64), u32> = select! {
            recv(a0) -> m => m.map(|v| (0, i64::from(v))).map_err(|_| 0),
            recv(a1) -> m => m.map(|v| (1, i64::from(v))).map_err(|_| 1),
            recv(a2) -> m => m.map(|v| (2, v.len() as i64)).map_err(|_| 2),
            recv(a3) -> m => m.map(|(a, b)| (3, i64::from(a + b))).map_err(|_| 3),
            recv(extra_a) -> _ => unreachable!("never() is never ready"),
            recv(a4) -> m => m.map(|v| (4, i64::from(v))).map_err(|_| 4),
            recv(a5) -> m => m.map(|v| (5, v as i64)).map_err(|_| 5),
            recv(a6) -> m => m.map(|v| (6, i64::from(u32::from(v)))).map_err(|_| 6),
            recv(a7) -> m => m.map(|v| (7, i64::from(v))).map_err(|_| 7),
            recv(extra_b) -> _ => unreachable!("never() is never ready"),
            default => {
                idle += 1;
                thread::yield_now();
                continue;
            }
        };
        match got {
            Ok((arm, v)) => {
                out.push(char::from(b'0' + arm as u8));
                sum += v;
            }
            Err(arm) => {
                assert_eq!(closed & (1 << arm), 0, "arm {arm} hung up twice");
                closed |= 1 << arm;
                out.push('|');
            }
        }
    }
    for p in producers {
        p.join().unwrap();
    }
    // 0+1+2, 10+11+12, 2+2+2, 0+2+4, 40+41+42, 50+51+52, 'x'+'y'+'z', 0-1-2.
    assert_eq!(sum, 3 + 33 + 6 + 6 + 123 + 153 + 363 - 3);
    assert_eq!(out.len(), 24 + 8);
    format!("{out} idle {idle}")
}

// ---------------------------------------------------------------------------
// An actor whose replies arrive out of order.

enum Request {
    /// Answered by the actor itself: how often the key was asked for.
    Count {
        key: u32,
        reply: Sender<(u32, u32)>,
    },
    /// Handed to a helper, which answers on `reply` itself.
    Square {
        key: u32,
        reply: Sender<(u32, u32)>,
    },
    Stop,
}

#[test]
fn an_actor_replying_out_of_order_replays_to_its_transcript() {
    replays_and_varies("sixth-actor", actor);
}

/// An actor counts lookups itself and hands squares to two helpers over a
/// one-slot channel; four clients send six requests each before reading
/// any reply, each with its own one-slot reply channel, and take the
/// replies as they come with a `Select` rebuilt over what is pending. The
/// transcript: each client's arrival order and the counts it was told.
pub(super) fn actor() -> String {
    let (requests, inbox) = channel::unbounded::<Request>();
    let actor = thread::spawn(move || {
        let (work, jobs) = channel::bounded::<(u32, Sender<(u32, u32)>)>(1);
        let helpers: Vec<_> = (0..2)
            .map(|_| {
                let jobs = jobs.clone();
                thread::spawn(move || {
                    let mut done = 0u32;
                    for (key, reply) in jobs.iter() {
                        thread::yield_now();
                        reply.send((key, key * key)).unwrap();
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        drop(jobs);
        let mut counts: HashMap<u32, u32> = HashMap::new();
        for request in inbox.iter() {
            match request {
                Request::Count { key, reply } => {
                    let c = counts.entry(key).or_default();
                    *c += 1;
                    reply.send((key, *c)).unwrap();
                }
                Request::Square { key, reply } => work.send((key, reply)).unwrap(),
                Request::Stop => break,
            }
        }
        drop(work);
        let done: Vec<u32> = helpers.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(done.iter().sum::<u32>(), 12, "every square answered");
        done.iter().filter(|&&d| d > 0).count()
    });
    let clients: Vec<_> = (0..4u32)
        .map(|c| {
            let requests = requests.clone();
            thread::spawn(move || {
                let mut pending: Vec<(usize, Receiver<(u32, u32)>)> = Vec::new();
                for i in 0..6usize {
                    let (reply, answer) = channel::bounded(1);
                    let key = (c + i as u32) % 3;
                    let request = if i % 2 == 0 {
                        Request::Square { key, reply }
                    } else {
                        Request::Count { key, reply }
                    };
                    requests.send(request).unwrap();
                    pending.push((i, answer));
                }
                let mut out = String::new();
                while !pending.is_empty() {
                    let mut sel = Select::new();
                    for (_, answer) in &pending {
                        sel.recv(answer);
                    }
                    let op = sel.select();
                    let at = op.index();
                    let (key, value) = op.recv(&pending[at].1).unwrap();
                    let (i, _) = pending.remove(at);
                    if i % 2 == 0 {
                        assert_eq!(value, key * key);
                        let _ = write!(out, "{i}");
                    } else {
                        let _ = write!(out, "{i}#{value}");
                    }
                }
                out
            })
        })
        .collect();
    let outs: Vec<String> = clients.into_iter().map(|h| h.join().unwrap()).collect();
    requests.send(Request::Stop).unwrap();
    let busy_helpers = actor.join().unwrap();
    format!("{} helpers {busy_helpers}", outs.join(" "))
}

// ---------------------------------------------------------------------------
// A std sync_channel(0) ping-pong.

#[test]
fn a_rendezvous_ping_pong_replays_to_its_transcript() {
    replays_and_varies("sixth-ping-pong", ping_pong);
}

/// Two pingers share the ponger's rendezvous inbox; each waits for its
/// answer on a rendezvous channel of its own, eight times. Then pinger 0
/// says good-bye with `try_send` until it is taken or the ponger has gone;
/// the ponger takes it among pinger 1's pings, or listens for it after the
/// pings with up to three short `recv_timeout`s.
pub(super) fn ping_pong() -> String {
    let (to_ponger, inbox) = mpsc::sync_channel::<(usize, u32)>(0);
    let mut answers = Vec::new();
    let mut backs = Vec::new();
    for _ in 0..2 {
        let (tx, rx) = mpsc::sync_channel::<u32>(0);
        backs.push(tx);
        answers.push(rx);
    }
    let ponger = thread::spawn(move || {
        let mut log = String::new();
        let mut pings = 0;
        let mut bye = false;
        // Pinger 0's good-bye may come before pinger 1's last ping.
        while pings < 16 {
            match inbox.recv().unwrap() {
                (0, u32::MAX) => {
                    assert!(!bye, "one good-bye");
                    bye = true;
                    log.push('!');
                }
                (who, v) => {
                    pings += 1;
                    log.push(char::from(b'A' + who as u8));
                    backs[who].send(v + 1).unwrap();
                }
            }
        }
        let mut timeouts = 0;
        while !bye && timeouts < 3 {
            match inbox.recv_timeout(Duration::from_micros(300)) {
                Ok((0, u32::MAX)) => {
                    bye = true;
                    log.push('!');
                }
                Ok(other) => panic!("unexpected {other:?}"),
                Err(mpsc::RecvTimeoutError::Timeout) => timeouts += 1,
                Err(mpsc::RecvTimeoutError::Disconnected) => panic!("pinger 0 holds a sender"),
            }
        }
        drop(inbox);
        (log, timeouts)
    });
    let pingers: Vec<_> = answers
        .into_iter()
        .enumerate()
        .map(|(who, answers)| {
            let to_ponger = to_ponger.clone();
            thread::spawn(move || {
                let mut v = who as u32 * 100;
                for _ in 0..8 {
                    to_ponger.send((who, v)).unwrap();
                    v = answers.recv().unwrap();
                }
                assert_eq!(v, who as u32 * 100 + 8);
                if who != 0 {
                    return String::new();
                }
                let mut full = 0u32;
                loop {
                    match to_ponger.try_send((0, u32::MAX)) {
                        Ok(()) => return format!("bye after {full}"),
                        Err(mpsc::TrySendError::Full(_)) => {
                            full += 1;
                            thread::yield_now();
                        }
                        Err(mpsc::TrySendError::Disconnected(_)) => return format!("gone after {full}"),
                    }
                }
            })
        })
        .collect();
    drop(to_ponger);
    let bye: Vec<String> = pingers.into_iter().map(|h| h.join().unwrap()).collect();
    let (log, timeouts) = ponger.join().unwrap();
    assert_eq!(log.contains('!'), bye[0].starts_with("bye"), "{log} {bye:?}");
    format!("{log} {} t{timeouts}", bye[0])
}
