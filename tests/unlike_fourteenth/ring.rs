//! A ring of clearing stations joined by rendezvous links (`bounded(0)`),
//! each passing the tokens it holds to the next and taking tokens from
//! the one before through one dynamic `Select` (crossbeam's builder: a
//! send operation and a receive operation by index, `try_select` first,
//! then `select_timeout`, then a plain `select`, answered with
//! `SelectedOperation::send`/`recv`). A token retires after a number of
//! hops; the station that retires the last one hangs up its outgoing link
//! and the hang-up travels round the ring. The links' `capacity`,
//! `is_full`, `is_empty`, `len` and `same_channel` are asked on the way.

use std::sync::Arc;

use reprise::channel::{self, Receiver, Select, Sender};
use reprise::sync::atomic::{AtomicUsize, Ordering};
use reprise::sync::Mutex;
use reprise::thread;
use reprise::time::Duration;

const STATIONS: usize = 4;
const TOKENS: usize = 6;
const HOPS: u32 = 5;

#[derive(Debug)]
struct Token {
    id: usize,
    hops: u32,
    path: String,
}

/// How the last retirement is counted: by `fetch_add`, or (the planted
/// bug) by a load and a store, which can lose a retirement so that no
/// station ever sees them all and the ring waits for good.
#[derive(Clone, Copy, PartialEq)]
enum Count {
    Atomic,
    LoadStore,
}

fn station(
    me: usize,
    mut bag: Vec<Token>,
    inbound: Receiver<Token>,
    outbound: Sender<Token>,
    retired: Arc<AtomicUsize>,
    log: Arc<Mutex<Vec<String>>>,
    count: Count,
) {
    assert_eq!(outbound.capacity(), Some(0), "a rendezvous link");
    assert!(outbound.is_full() && inbound.is_empty());
    assert_eq!(inbound.len(), 0);
    let twin = outbound.clone();
    assert!(twin.same_channel(&outbound));
    drop(twin);
    loop {
        let mut sel = Select::new();
        let recv_index = sel.recv(&inbound);
        let send_index = (!bag.is_empty()).then(|| sel.send(&outbound));
        let oper = match sel.try_select() {
            Ok(oper) => oper,
            Err(_) => match sel.select_timeout(Duration::from_millis(20)) {
                Ok(oper) => oper,
                Err(_) => sel.select(),
            },
        };
        if Some(oper.index()) == send_index {
            let mut token = bag.pop().expect("a send is offered only with a token in hand");
            token.hops += 1;
            oper.send(&outbound, token).expect("the next station is there while tokens travel");
            continue;
        }
        assert_eq!(oper.index(), recv_index);
        let Ok(mut token) = oper.recv(&inbound) else {
            // The hang-up coming round: pass it on by hanging up too.
            break;
        };
        token.path.push(char::from(b'a' + me as u8));
        if token.hops < HOPS {
            bag.push(token);
            continue;
        }
        log.lock().expect("the log is never poisoned").push(format!("{}:{}", token.id, token.path));
        let now = match count {
            Count::Atomic => retired.fetch_add(1, Ordering::SeqCst) + 1,
            Count::LoadStore => {
                let seen = retired.load(Ordering::SeqCst);
                thread::yield_now();
                retired.store(seen + 1, Ordering::SeqCst);
                seen + 1
            }
        };
        if now == TOKENS {
            break;
        }
    }
    assert!(bag.is_empty(), "station {me} left holding tokens");
    drop(outbound);
}

fn ring(count: Count) -> String {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..STATIONS).map(|_| channel::bounded::<Token>(0)).unzip();
    let retired = Arc::new(AtomicUsize::new(0));
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut rxs: Vec<Option<Receiver<Token>>> = rxs.into_iter().map(Some).collect();
    let stations: Vec<_> = txs
        .into_iter()
        .enumerate()
        .map(|(i, tx)| {
            // Station i sends on link i and takes from link i - 1.
            let inbound = rxs[(i + STATIONS - 1) % STATIONS].take().expect("each link taken once");
            let bag = (0..TOKENS)
                .filter(|t| t % STATIONS == i)
                .map(|id| Token { id, hops: 0, path: String::new() })
                .collect();
            let (retired, log) = (Arc::clone(&retired), Arc::clone(&log));
            thread::Builder::new()
                .name(format!("station-{i}"))
                .spawn(move || station(i, bag, inbound, tx, retired, log, count))
                .expect("spawn a station")
        })
        .collect();
    for s in stations {
        s.join().expect("a station ends");
    }
    let log = log.lock().expect("the log").clone();
    assert_eq!(log.len(), TOKENS);
    assert_eq!(retired.load(Ordering::SeqCst), TOKENS);
    assert!(log.iter().all(|l| l.len() == l.find(':').expect("id:path") + 1 + HOPS as usize));
    // Every token's path is fixed by the ring; the order they retire in
    // is the schedule's.
    format!("retired {}", log.join(" "))
}

pub(crate) fn clearing_ring() -> String {
    ring(Count::Atomic)
}

pub(crate) fn lossy_ring() {
    ring(Count::LoadStore);
}
