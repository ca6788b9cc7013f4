//! A warehouse desk, one scenario per argument, for `tests/unlike_twelfth/`:
//! programs run under `REPRISE_FLIGHT` or `REPRISE_RECORD` through
//! `reprise::main`, then looked at with the offline tools and replayed with
//! `reprise replay FILE -- twelfth_desk SCENARIO`.
//!
//! - `storm BATCHES [panic]`: batches of short-lived threads (spawned and
//!   joined, scoped, named), each naming objects of its own and touching a
//!   shared ledger, a collector thread that lives through them all; halfway
//!   through the root asks for a flight dump and copies it to `PATH.mid`;
//!   with `panic`, an auditor thread panics at the end and the root
//!   propagates it;
//! - `forever`: a loader hands crates over a rendezvous channel to a stacker
//!   that writes an RwLock'd shelf and signals a condvar the root waits on,
//!   beside a reader of the shelf; prints "recording" once warm, and runs
//!   until killed;
//! - `pickers`: two pickers take stock from a `reprise::Tracked` counter
//!   with a read, a yield and a write: a lost update exits 3;
//! - `inputs`: the time, a random number, an environment variable, a file's
//!   contents and a sealed secret, all through reprise, printed as a digest.
//!
//! Every scenario prints and annotates a digest of what it computed.

use std::process::ExitCode;
use std::sync::Arc;

use reprise::channel;
use reprise::sync::atomic::{AtomicU64, Ordering};
use reprise::sync::{Condvar, Mutex, RwLock};
use reprise::thread;

fn digest(label: &str, value: impl std::fmt::Debug) {
    let text = format!("{value:?}");
    let hash =
        text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    println!("{label} digest {hash:016x}");
    reprise::annotate("digest", format!("{hash:016x}"));
}

/// Batches of threads that come and go.
fn storm(batches: u64, panic_at_end: bool) -> ExitCode {
    let ledger = Arc::new(Mutex::new(0u64));
    let (tx, rx) = channel::bounded::<(u64, u64)>(4);
    let collector = thread::Builder::new()
        .name("collector".into())
        .spawn(move || {
            let mut seen = Vec::new();
            for (batch, worker) in rx.iter() {
                seen.push(batch * 100 + worker);
            }
            seen.sort_unstable();
            seen.len()
        })
        .unwrap();
    for batch in 0..batches {
        if batch % 2 == 0 {
            let handles: Vec<_> = (0..6u64)
                .map(|worker| {
                    let (ledger, tx) = (Arc::clone(&ledger), tx.clone());
                    thread::Builder::new()
                        .name(format!("w{batch}-{worker}"))
                        .spawn(move || {
                            let own = RwLock::new(worker);
                            let add = *own.read().unwrap() + 1;
                            *ledger.lock().unwrap() += add;
                            tx.send((batch, worker)).unwrap();
                        })
                        .unwrap()
                })
                .collect();
            for h in handles {
                h.join().unwrap();
            }
        } else {
            let ledger = &ledger;
            thread::scope(|s| {
                for worker in 0..4u64 {
                    let tx = tx.clone();
                    s.spawn(move || {
                        let (own_tx, own_rx) = channel::bounded::<u64>(1);
                        own_tx.send(worker * 2).unwrap();
                        *ledger.lock().unwrap() += own_rx.recv().unwrap();
                        tx.send((batch, worker)).unwrap();
                    });
                }
            });
        }
        if batch == batches / 2 {
            match reprise::flight_dump() {
                Ok(info) => {
                    let mut aside = info.path.clone().into_os_string();
                    aside.push(".mid");
                    std::fs::copy(&info.path, &aside).unwrap();
                    println!("mid dump: {} events, covers run {}", info.events, info.covers_run);
                }
                Err(e) => println!("mid dump: {e}"),
            }
        }
    }
    drop(tx);
    let collected = collector.join().unwrap();
    let total = *ledger.lock().unwrap();
    digest("storm", (collected, total));
    if panic_at_end {
        let ledger = Arc::clone(&ledger);
        let auditor = thread::Builder::new()
            .name("auditor".into())
            .spawn(move || {
                let seen = *ledger.lock().unwrap();
                if seen > 0 {
                    panic!("audit: ledger holds {seen}, expected none");
                }
            })
            .unwrap();
        auditor.join().expect("the auditor passed");
    }
    ExitCode::SUCCESS
}

/// Runs until killed: rendezvous, RwLock, condvar.
fn forever() -> ExitCode {
    let shelf = Arc::new(RwLock::new(Vec::<u64>::new()));
    let stacked = Arc::new((Mutex::new(0u64), Condvar::new()));
    let (tx, rx) = channel::bounded::<u64>(0);
    let _loader = thread::Builder::new()
        .name("loader".into())
        .spawn(move || {
            for crate_no in 0.. {
                tx.send(crate_no).unwrap();
            }
        })
        .unwrap();
    {
        let (shelf, stacked) = (Arc::clone(&shelf), Arc::clone(&stacked));
        thread::Builder::new()
            .name("stacker".into())
            .spawn(move || {
                for crate_no in rx.iter() {
                    {
                        let mut s = shelf.write().unwrap();
                        s.push(crate_no);
                        if s.len() > 8 {
                            s.remove(0);
                        }
                    }
                    let (count, cv) = &*stacked;
                    *count.lock().unwrap() += 1;
                    cv.notify_all();
                }
            })
            .unwrap();
    }
    {
        let shelf = Arc::clone(&shelf);
        thread::Builder::new()
            .name("counter".into())
            .spawn(move || {
                let seen = AtomicU64::new(0);
                loop {
                    let top = shelf.read().unwrap().last().copied().unwrap_or(0);
                    seen.fetch_max(top, Ordering::Relaxed);
                    thread::yield_now();
                }
            })
            .unwrap();
    }
    let (count, cv) = &*stacked;
    let mut announced = false;
    let mut guard = count.lock().unwrap();
    loop {
        let before = *guard;
        guard = cv.wait_while(guard, |c| *c == before).unwrap();
        if !announced && *guard > 2_000 {
            announced = true;
            use std::io::Write;
            println!("recording");
            std::io::stdout().flush().unwrap();
        }
    }
}

/// Two pickers on one tracked stock count.
fn pickers() -> ExitCode {
    const STOCK: u32 = 200;
    const PICKS: u32 = 40;
    let stock = Arc::new(reprise::Tracked::new(STOCK));
    let pickers: Vec<_> = (0..2)
        .map(|p| {
            let stock = Arc::clone(&stock);
            thread::Builder::new()
                .name(format!("picker-{p}"))
                .spawn(move || {
                    for _ in 0..PICKS {
                        let left = stock.get();
                        thread::yield_now();
                        stock.set(left - 1);
                    }
                })
                .unwrap()
        })
        .collect();
    for p in pickers {
        p.join().unwrap();
    }
    let left = stock.get();
    digest("pickers", left);
    if left == STOCK - 2 * PICKS {
        ExitCode::SUCCESS
    } else {
        eprintln!("stock says {left}, expected {}", STOCK - 2 * PICKS);
        ExitCode::from(3)
    }
}

/// Inputs from outside, through reprise.
fn inputs() -> ExitCode {
    let wall = reprise::time::SystemTime::now()
        .duration_since(reprise::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let early = reprise::time::Instant::now();
    let dice = reprise::random::u64();
    let region = reprise::capture(|| std::env::var("TWELFTH_REGION").unwrap_or_else(|_| "none".into()));
    let path = std::env::var("TWELFTH_FILE").unwrap_or_default();
    let manifest =
        reprise::capture(|| std::fs::read_to_string(&path).unwrap_or_else(|e| format!("error {e}")));
    let secret = reprise::capture_sensitive(|| {
        std::fs::read_to_string(format!("{path}.secret")).unwrap_or_else(|_| "no secret".into())
    });
    let worker = thread::spawn(move || {
        let later = reprise::random::u64();
        (later, early.elapsed().as_nanos())
    });
    let (later, elapsed) = worker.join().unwrap();
    println!("region {region}, manifest {} bytes, secret {} bytes", manifest.len(), secret.len());
    digest("inputs", (wall, dice, later, elapsed, region, manifest, secret));
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    let scenario = arg(0).unwrap_or("").to_owned();
    let batches = arg(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    let panic_at_end = arg(2) == Some("panic");
    reprise::main("twelfth_desk", env!("CARGO_PKG_VERSION"), move || match scenario.as_str() {
        "storm" => storm(batches, panic_at_end),
        "forever" => forever(),
        "pickers" => pickers(),
        "inputs" => inputs(),
        other => {
            eprintln!("unknown scenario {other:?}: storm BATCHES [panic], forever, pickers, inputs");
            ExitCode::from(2)
        }
    })
}
