//! A thread-per-request server: each request carries the sender of its own
//! reply channel, sent through the server's request channel (a channel of
//! channels); a client that gives up drops its receiver before the reply,
//! and the handler sees the send fail or succeed by how the run went.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use reprise::channel::{self, Receiver, Sender};
use reprise::sync::{mpsc, Mutex};
use reprise::thread;

use super::replays_and_varies;

#[test]
fn a_thread_per_request_server_replays_to_its_recorded_transcript() {
    replays_and_varies("fourth-server", || server(3, 4));
}

/// One request: a key to bump, and where to send the new count.
pub(super) struct Request {
    pub(super) client: u32,
    pub(super) key: u32,
    pub(super) reply: Sender<(String, u64)>,
}

/// What the handlers saw, in the order they logged it.
type Log = Arc<Mutex<Vec<String>>>;

/// The server's accept loop: one named handler thread per request, joined
/// when the request channel closes. Returns how many it spawned.
fn accept(requests: Receiver<Request>, counts: Arc<Mutex<BTreeMap<u32, u64>>>, log: Log) -> usize {
    let mut handlers = Vec::new();
    for (n, request) in requests.iter().enumerate() {
        let counts = Arc::clone(&counts);
        let log = Arc::clone(&log);
        let handler = thread::Builder::new()
            .name(format!("req-{n}"))
            .spawn(move || {
                let count = {
                    let mut counts = counts.lock().unwrap();
                    let count = counts.entry(request.key).or_insert(0);
                    *count += 1;
                    *count
                };
                let name = thread::current().name().unwrap_or("?").to_string();
                let sent = request.reply.send((name.clone(), count)).is_ok();
                let mut log = log.lock().unwrap();
                log.push(format!(
                    "{name}:c{}k{}={count}{}",
                    request.client,
                    request.key,
                    if sent { "" } else { "!" }
                ));
            })
            .expect("spawned");
        handlers.push(handler);
    }
    let spawned = handlers.len();
    for handler in handlers {
        handler.join().unwrap();
    }
    spawned
}

/// `clients` clients each send `each` requests; every third request's
/// client drops its reply receiver at once instead of waiting.
pub(super) fn server(clients: u32, each: u32) -> String {
    let (requests_tx, requests_rx) = channel::unbounded::<Request>();
    let counts = Arc::new(Mutex::new(BTreeMap::new()));
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let acceptor = {
        let (counts, log) = (Arc::clone(&counts), Arc::clone(&log));
        thread::Builder::new()
            .name("acceptor".into())
            .spawn(move || accept(requests_rx, counts, log))
            .unwrap()
    };
    // The clients report through std mpsc, whose Sender is cloned per client.
    let (report_tx, report_rx) = mpsc::channel::<String>();
    let client_threads: Vec<_> = (0..clients)
        .map(|client| {
            let requests = requests_tx.clone();
            let report = report_tx.clone();
            thread::spawn(move || {
                for i in 0..each {
                    let (reply_tx, reply_rx) = channel::bounded(1);
                    let key = (client + i) % 2;
                    requests.send(Request { client, key, reply: reply_tx }).unwrap();
                    if (client + i) % 3 == 2 {
                        drop(reply_rx);
                        report.send(format!("c{client}#{i}:gave-up")).unwrap();
                        continue;
                    }
                    let (handler, count) = reply_rx.recv().unwrap();
                    report.send(format!("c{client}#{i}:{handler}={count}")).unwrap();
                }
            })
        })
        .collect();
    drop(requests_tx);
    drop(report_tx);
    let mut out = String::new();
    for line in report_rx.iter() {
        let _ = write!(out, "{line} ");
    }
    for client in client_threads {
        client.join().unwrap();
    }
    let spawned = acceptor.join().unwrap();
    assert_eq!(spawned, (clients * each) as usize);
    let counts = counts.lock().unwrap();
    assert_eq!(counts.values().sum::<u64>(), u64::from(clients * each));
    let _ = write!(out, "| {:?} | {}", *counts, log.lock().unwrap().join(" "));
    out
}

/// The server run under a flight recorder: the handler of request
/// `dump_at` dumps through the API while the others run on.
pub(super) fn server_dumping(dump_at: u32) -> String {
    let (requests_tx, requests_rx) = channel::unbounded::<Request>();
    let handlers = thread::spawn(move || {
        let mut handlers = Vec::new();
        for (n, request) in requests_rx.iter().enumerate() {
            handlers.push(thread::Builder::new().name(format!("req-{n}")).spawn(move || {
                if n as u32 == dump_at {
                    // Replays are not flying: the result is not the program's.
                    let _ = reprise::flight_dump();
                }
                let _ = request.reply.send((thread::current().name().unwrap_or("?").into(), n as u64));
            }));
        }
        handlers.into_iter().map(|h| h.unwrap().join().is_ok()).filter(|&ok| ok).count()
    });
    let clients: Vec<_> = (0..2u32)
        .map(|client| {
            let requests = requests_tx.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                for key in 0..4 {
                    let (reply, replies) = channel::bounded(1);
                    requests.send(Request { client, key, reply }).unwrap();
                    got.push(replies.recv().unwrap());
                }
                got
            })
        })
        .collect();
    drop(requests_tx);
    let got: Vec<_> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let joined = handlers.join().unwrap();
    format!("{got:?} {joined}")
}
