//! Messages as a porter sends them without a second thought: tickets
//! whose `Drop` books themselves (a reprise atomic and the dropping
//! thread's name), left undelivered when their consumer hangs up early, on
//! an unbounded channel (crossbeam discards its queue when the last
//! receiver goes) and on a bounded one (freed with the last end of either
//! kind); zero-sized messages, `()` and a unit struct with a `Drop`; and
//! bulk: market-data snapshots of several megabytes passed down a chain of
//! `bounded(1)` stages, and a multi-megabyte input read through
//! `reprise::capture`.

use std::sync::Arc;

use reprise::channel::{self, Receiver, Sender};
use reprise::sync::atomic::{AtomicU64, Ordering};
use reprise::sync::Mutex;
use reprise::thread;

/// Books who dropped it: the count on an atomic (an event in the dropping
/// thread's log) and the thread's name in a shared book.
struct Ticket {
    id: u32,
    book: Arc<Book>,
}

struct Book {
    dropped: AtomicU64,
    by: Mutex<Vec<(u32, String)>>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.book.dropped.fetch_add(1, Ordering::SeqCst);
        let who = thread::current().name().unwrap_or("?").to_string();
        self.book.by.lock().expect("the book is never poisoned").push((self.id, who));
    }
}

const PER_PRODUCER: u32 = 6;

/// Two producers race tickets into one channel (`bounded(cap)`, or
/// unbounded for `None`); the consumer takes five and hangs up while the
/// producers wait for word of it; their later sends come back as
/// `SendError`s and drop in the producers; what was queued when the
/// consumer left drops wherever the channel frees its queue (crossbeam:
/// with the last receiver for an unbounded channel, with the last end, the
/// root's sender, for a bounded one). Every ticket must be dropped once.
fn undelivered(cap: Option<usize>) -> String {
    let book = Arc::new(Book { dropped: AtomicU64::new(0), by: Mutex::new(Vec::new()) });
    let (tx, rx): (Sender<Ticket>, Receiver<Ticket>) = match cap {
        Some(n) => channel::bounded(n),
        None => channel::unbounded(),
    };
    let (word_tx, word_rx) = channel::bounded::<()>(0);
    let producers: Vec<_> = (0..2u32)
        .map(|p| {
            let (tx, book, word_rx) = (tx.clone(), Arc::clone(&book), word_rx.clone());
            thread::Builder::new()
                .name(format!("p{p}"))
                .spawn(move || {
                    let mut refused = 0;
                    for k in 0..PER_PRODUCER {
                        if k == PER_PRODUCER / 2 {
                            // The consumer has hung up when word comes.
                            word_rx.recv().expect("word that the consumer left");
                        }
                        let ticket = Ticket { id: p * 100 + k, book: Arc::clone(&book) };
                        if tx.send(ticket).is_err() {
                            refused += 1;
                        }
                    }
                    refused
                })
                .expect("spawn a producer")
        })
        .collect();
    // The root keeps a sender until the producers are done, so that it is
    // the channel's last end: which of two producers' ends goes last is
    // not ordered by a replay (`racing_last_ends`).
    drop(word_rx);
    let consumer = thread::Builder::new()
        .name("c".into())
        .spawn(move || {
            let got: Vec<u32> = rx.iter().take(5).map(|t| t.id).collect();
            drop(rx);
            got
        })
        .expect("spawn the consumer");
    let got = consumer.join().expect("the consumer ends");
    for _ in 0..2 {
        word_tx.send(()).expect("a producer waits for word");
    }
    let refused: u32 = producers.into_iter().map(|p| p.join().expect("a producer ends")).sum();
    drop(tx);
    let dropped = book.dropped.load(Ordering::SeqCst);
    assert_eq!(dropped, u64::from(2 * PER_PRODUCER), "every ticket dropped once");
    // The second half is refused; a first-half send that came after the
    // hang-up too.
    assert!(refused >= PER_PRODUCER, "refused {refused}");
    let mut by = book.by.lock().expect("the book").clone();
    by.sort_unstable();
    let late: Vec<String> =
        by.iter().filter(|(id, _)| !got.contains(id)).map(|(id, w)| format!("{id}@{w}")).collect();
    format!("got {got:?}, refused {refused}, undelivered dropped by {late:?}")
}

pub(crate) fn undelivered_unbounded() -> String {
    undelivered(None)
}

pub(crate) fn undelivered_bounded() -> String {
    undelivered(Some(3))
}

/// A unit struct whose drops are counted: zero bytes on the wire.
struct Beat;

static BEATS_DROPPED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Drop for Beat {
    fn drop(&mut self) {
        BEATS_DROPPED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Heartbeats as `()` on a rendezvous and as `Beat` on a bounded(2)
/// channel from three threads; the monitor counts whose arrived in which
/// order by a third channel of `(usize, ())` tags.
pub(crate) fn zero_sized() -> String {
    let before = BEATS_DROPPED.load(std::sync::atomic::Ordering::SeqCst);
    let (unit_tx, unit_rx) = channel::bounded::<()>(0);
    let (beat_tx, beat_rx) = channel::bounded::<Beat>(2);
    let (tag_tx, tag_rx) = channel::unbounded::<(usize, ())>();
    let senders: Vec<_> = (0..3usize)
        .map(|i| {
            let (unit_tx, beat_tx, tag_tx) = (unit_tx.clone(), beat_tx.clone(), tag_tx.clone());
            thread::spawn(move || {
                for _ in 0..4 {
                    if i % 2 == 0 {
                        unit_tx.send(()).expect("the monitor takes units");
                    } else {
                        beat_tx.send(Beat).expect("the monitor takes beats");
                    }
                    tag_tx.send((i, ())).expect("the monitor takes tags");
                }
            })
        })
        .collect();
    drop((unit_tx, beat_tx, tag_tx));
    let (mut units, mut beats) = (0, 0);
    let mut open = (true, true);
    while open.0 || open.1 {
        channel::select! {
            recv(if open.0 { unit_rx.clone() } else { channel::never() }) -> u => match u {
                Ok(()) => units += 1,
                Err(_) => open.0 = false,
            },
            recv(if open.1 { beat_rx.clone() } else { channel::never() }) -> b => match b {
                Ok(beat) => { beats += 1; drop(beat) }
                Err(_) => open.1 = false,
            },
        }
    }
    for s in senders {
        s.join().expect("a sender ends");
    }
    let order: String = tag_rx.try_iter().map(|(i, ())| char::from(b'a' + i as u8)).collect();
    let dropped = BEATS_DROPPED.load(std::sync::atomic::Ordering::SeqCst) - before;
    assert_eq!((units, beats, order.len()), (8, 4, 12));
    assert!(dropped >= 4, "each beat received was dropped");
    assert_eq!(std::mem::size_of::<Beat>() + std::mem::size_of::<()>(), 0);
    format!("tags {order}")
}

const SNAPSHOT: usize = 3 << 20;

/// A snapshot of `SNAPSHOT` bytes made from a seed.
fn snapshot(seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..SNAPSHOT)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Two feeds push multi-megabyte snapshots into a chain of two
/// `bounded(1)` stages (an enricher XOR-ing a captured multi-megabyte
/// mask into each, a checker); the order the checker sees them in is the
/// schedule's, their digests are not.
pub(crate) fn bulk() -> String {
    let mask: Vec<u8> = reprise::capture(|| snapshot(99));
    assert_eq!(mask.len(), SNAPSHOT);
    let (raw_tx, raw_rx) = channel::bounded::<(u64, Vec<u8>)>(1);
    let (rich_tx, rich_rx) = channel::bounded::<(u64, Vec<u8>)>(1);
    let feeds: Vec<_> = (0..2u64)
        .map(|f| {
            let raw_tx = raw_tx.clone();
            thread::spawn(move || {
                for k in 0..2 {
                    let seed = f * 10 + k;
                    raw_tx.send((seed, snapshot(seed))).expect("the enricher takes snapshots");
                }
            })
        })
        .collect();
    drop(raw_tx);
    let enricher = thread::spawn(move || {
        for (seed, mut snap) in raw_rx.iter() {
            snap.iter_mut().zip(&mask).for_each(|(b, m)| *b ^= m);
            rich_tx.send((seed, snap)).expect("the checker takes snapshots");
        }
    });
    let mut seen = Vec::new();
    for (seed, snap) in rich_rx.iter() {
        let mut plain = snap;
        let mask = snapshot(99);
        plain.iter_mut().zip(&mask).for_each(|(b, m)| *b ^= m);
        assert_eq!(fnv(&plain), fnv(&snapshot(seed)), "snapshot {seed} came through whole");
        seen.push(seed);
    }
    for f in feeds {
        f.join().expect("a feed ends");
    }
    enricher.join().expect("the enricher ends");
    assert_eq!(seen.len(), 4);
    format!("snapshots in order {seen:?}")
}

/// A bounded channel whose last two ends drop at about the same time, in
/// two threads: crossbeam frees the queued tickets with whichever end goes
/// last.
pub(crate) fn racing_last_ends() -> String {
    let book = Arc::new(Book { dropped: AtomicU64::new(0), by: Mutex::new(Vec::new()) });
    let (tx, rx) = channel::bounded::<Ticket>(4);
    let both = Arc::new(reprise::sync::Barrier::new(2));
    let producer = {
        let (book, both) = (Arc::clone(&book), Arc::clone(&both));
        thread::Builder::new()
            .name("p".into())
            .spawn(move || {
                for id in 0..3 {
                    tx.send(Ticket { id, book: Arc::clone(&book) }).expect("the consumer is there");
                }
                both.wait();
                drop(tx);
            })
            .expect("spawn the producer")
    };
    let consumer = thread::Builder::new()
        .name("c".into())
        .spawn(move || {
            let first = rx.recv().expect("a first ticket").id;
            both.wait();
            drop(rx);
            first
        })
        .expect("spawn the consumer");
    let first = consumer.join().expect("the consumer ends");
    producer.join().expect("the producer ends");
    assert_eq!(book.dropped.load(Ordering::SeqCst), 3);
    let by = book.by.lock().expect("the book").clone();
    format!("first {first}, dropped {by:?}")
}
