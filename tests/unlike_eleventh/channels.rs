//! A merge stage over a long-lived `Select` whose closed receivers it
//! `remove`s one by one, forwarding with `send_deadline` (and a blocking
//! `send` when late) to a sink that `select!`s over the output, a `tick`
//! and a `default(timeout)`; and a reply-to server whose requests carry a
//! reply sender, with clients that drop their reply receivers early.

use std::sync::Arc;

use reprise::channel::{self, select, Select, SelectTimeoutError, SendTimeoutError};
use reprise::sync::atomic::{AtomicU32, Ordering};
use reprise::thread;
use reprise::time::{Duration, Instant};

/// Three sources (bounded(2), 3 + k values each, source 2 sleeping between
/// sends) feed a merger; the sink sleeps now and then, so the merger's
/// one-millisecond deadline on its bounded(1) output is sometimes missed.
pub(crate) fn select_merge() -> String {
    let mut rxs = Vec::new();
    let mut sources = Vec::new();
    for k in 0..3u32 {
        let (tx, rx) = channel::bounded::<u32>(2);
        rxs.push(rx);
        sources.push(thread::spawn(move || {
            for i in 0..3 + k {
                if k == 2 {
                    thread::sleep(Duration::from_micros(300));
                }
                tx.send(k * 100 + i).unwrap();
            }
        }));
    }
    let (out_tx, out_rx) = channel::bounded::<u32>(1);
    let merger = thread::spawn(move || {
        let mut sel = Select::new();
        let indexes: Vec<usize> = rxs.iter().map(|r| sel.recv(r)).collect();
        let (mut open, mut late, mut idle, mut closed) = (3, 0u32, 0u32, Vec::new());
        while open > 0 {
            let op = match sel.select_timeout(Duration::from_millis(5)) {
                Ok(op) => op,
                Err(SelectTimeoutError) => {
                    idle += 1;
                    continue;
                }
            };
            let index = op.index();
            let k = indexes.iter().position(|&i| i == index).unwrap();
            match op.recv(&rxs[k]) {
                Ok(v) => match out_tx.send_deadline(v, Instant::now() + Duration::from_millis(1)) {
                    Ok(()) => {}
                    Err(SendTimeoutError::Timeout(v)) => {
                        late += 1;
                        out_tx.send(v).unwrap();
                    }
                    Err(SendTimeoutError::Disconnected(_)) => unreachable!("the sink reads to the end"),
                },
                Err(_) => {
                    sel.remove(index);
                    closed.push(k);
                    open -= 1;
                }
            }
        }
        (late, idle, closed)
    });
    let ticker = channel::tick(Duration::from_millis(2));
    let (mut got, mut ticks, mut waits) = (Vec::new(), 0u32, 0u32);
    loop {
        select! {
            recv(out_rx) -> msg => match msg {
                Ok(v) => {
                    got.push(v);
                    if got.len() % 4 == 0 {
                        thread::sleep(Duration::from_millis(2));
                    }
                }
                Err(_) => break,
            },
            recv(ticker) -> _ => ticks += 1,
            default(Duration::from_millis(3)) => waits += 1,
        }
    }
    for s in sources {
        s.join().unwrap();
    }
    let (late, idle, closed) = merger.join().unwrap();
    let mut sorted = got.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [0, 1, 2, 100, 101, 102, 103, 200, 201, 202, 203, 204]);
    for k in 0..3 {
        let mine: Vec<u32> = got.iter().copied().filter(|v| v / 100 == k).collect();
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "source {k} out of order: {got:?}");
    }
    format!("got {got:?}, late {late}, idle {idle}, closed {closed:?}, ticks {ticks}, waits {waits}")
}

/// A request: a number and where to send its square.
struct Request {
    n: u32,
    reply: channel::Sender<u32>,
}

/// A server thread answers requests on a bounded(1) channel; four clients
/// send two requests each, each with a fresh reply channel (a rendezvous
/// for client 0), and client 3 drops its second reply receiver before the
/// answer (the server sees `Disconnected` and counts it). The server ends
/// when every client dropped its request sender.
pub(crate) fn reply_to() -> String {
    let (req_tx, req_rx) = channel::bounded::<Request>(1);
    let lost = Arc::new(AtomicU32::new(0));
    let server = {
        let lost = Arc::clone(&lost);
        thread::spawn(move || {
            let mut served = 0u32;
            for req in req_rx.iter() {
                served += 1;
                if req.reply.send(req.n * req.n).is_err() {
                    lost.fetch_add(1, Ordering::Relaxed);
                }
            }
            served
        })
    };
    let clients: Vec<_> = (0..4u32)
        .map(|c| {
            let req_tx = req_tx.clone();
            thread::spawn(move || {
                let mut answers = Vec::new();
                for round in 0..2 {
                    let (tx, rx) = if c == 0 { channel::bounded(0) } else { channel::unbounded() };
                    req_tx.send(Request { n: c * 10 + round, reply: tx }).unwrap();
                    if c == 3 && round == 1 {
                        drop(rx);
                        continue;
                    }
                    answers.push(rx.recv().unwrap());
                }
                answers
            })
        })
        .collect();
    drop(req_tx);
    let answers: Vec<Vec<u32>> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let served = server.join().unwrap();
    assert_eq!(served, 8);
    format!("answers {answers:?}, lost {}", lost.load(Ordering::Relaxed))
}

/// Two producers `try_send` on one rendezvous channel (a `bounded(0)` of
/// crossbeam's, and std's `sync_channel(0)`), retrying on `Full` with a
/// yield, to a consumer that alternates `recv` and `recv_timeout` on them
/// until both disconnect.
pub(crate) fn rendezvous_tries() -> String {
    use reprise::channel::{RecvTimeoutError, TrySendError};
    use reprise::sync::mpsc;
    let (tx, rx) = channel::bounded::<u32>(0);
    let (stx, srx) = mpsc::sync_channel::<u32>(0);
    let a = thread::spawn(move || {
        let mut fulls = 0u32;
        for i in 0..4 {
            let mut v = i;
            loop {
                match tx.try_send(v) {
                    Ok(()) => break,
                    Err(TrySendError::Full(back)) => {
                        fulls += 1;
                        v = back;
                        thread::yield_now();
                    }
                    Err(TrySendError::Disconnected(_)) => unreachable!("the consumer reads to the end"),
                }
            }
        }
        fulls
    });
    let b = thread::spawn(move || {
        let mut fulls = 0u32;
        for i in 10..13 {
            let mut v = i;
            loop {
                match stx.try_send(v) {
                    Ok(()) => break,
                    Err(mpsc::TrySendError::Full(back)) => {
                        fulls += 1;
                        v = back;
                        thread::yield_now();
                    }
                    Err(mpsc::TrySendError::Disconnected(_)) => unreachable!("the consumer reads to the end"),
                }
            }
        }
        fulls
    });
    let (mut got, mut timeouts) = (Vec::new(), 0u32);
    let (mut a_open, mut b_open) = (true, true);
    while a_open || b_open {
        if a_open {
            match rx.recv_timeout(Duration::from_micros(200)) {
                Ok(v) => got.push(v),
                Err(RecvTimeoutError::Timeout) => timeouts += 1,
                Err(RecvTimeoutError::Disconnected) => a_open = false,
            }
        }
        if b_open {
            match srx.recv_timeout(Duration::from_micros(200)) {
                Ok(v) => got.push(v),
                Err(mpsc::RecvTimeoutError::Timeout) => timeouts += 1,
                Err(mpsc::RecvTimeoutError::Disconnected) => b_open = false,
            }
        }
    }
    let fulls = (a.join().unwrap(), b.join().unwrap());
    let mut sorted = got.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [0, 1, 2, 3, 10, 11, 12]);
    format!("got {got:?}, fulls {fulls:?}, timeouts {timeouts}")
}

/// Two consumers share (cloned) receivers of two channels; each waits with
/// `Select::ready_timeout` and then `try_recv`s the ready one, which the
/// other consumer may have emptied first (counted); two producers send
/// five values each and hang up.
pub(crate) fn ready_then_take() -> String {
    use reprise::channel::{ReadyTimeoutError, TryRecvError};
    let (tx_a, rx_a) = channel::bounded::<u32>(2);
    let (tx_b, rx_b) = channel::unbounded::<u32>();
    let producers = [(tx_a, 0u32), (tx_b, 100)].map(|(tx, base)| {
        thread::spawn(move || {
            for i in 0..5 {
                tx.send(base + i).unwrap();
            }
        })
    });
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let rxs = [rx_a.clone(), rx_b.clone()];
            thread::spawn(move || {
                let (mut got, mut missed, mut idle) = (Vec::new(), 0u32, 0u32);
                let mut open = [true, true];
                while open.iter().any(|&o| o) {
                    let mut sel = Select::new();
                    let live: Vec<usize> = (0..2).filter(|&k| open[k]).collect();
                    for &k in &live {
                        sel.recv(&rxs[k]);
                    }
                    let k = match sel.ready_timeout(Duration::from_millis(1)) {
                        Ok(i) => live[i],
                        Err(ReadyTimeoutError) => {
                            idle += 1;
                            continue;
                        }
                    };
                    match rxs[k].try_recv() {
                        Ok(v) => got.push(v),
                        Err(TryRecvError::Empty) => missed += 1,
                        Err(TryRecvError::Disconnected) => open[k] = false,
                    }
                }
                (got, missed, idle)
            })
        })
        .collect();
    drop((rx_a, rx_b));
    for p in producers {
        p.join().unwrap();
    }
    let per: Vec<_> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
    let mut all: Vec<u32> = per.iter().flat_map(|p| p.0.clone()).collect();
    all.sort_unstable();
    assert_eq!(all, [0, 1, 2, 3, 4, 100, 101, 102, 103, 104]);
    format!("per (got, missed, idle) {per:?}")
}
