//! Small programs shaped unlike the built-in payments pipeline, one per
//! argument, for the incident workflow (`tests/incident_hunt.rs`): run under
//! `REPRISE_FLIGHT` or `REPRISE_RECORD`, then inspected, verified and
//! replayed with `reprise replay FILE -- incident_scenarios SCENARIO`.
//!
//! Every scenario prints and annotates a digest of what it computed, so a
//! replay that matched gave the same values.

use std::sync::Arc;
use std::time::Duration;

use reprise::channel;
use reprise::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use reprise::sync::{Mutex, RwLock};
use reprise::thread;

fn digest(label: &str, value: impl std::fmt::Debug) {
    let text = format!("{value:?}");
    let hash =
        text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    println!("{label} digest {hash:016x}");
    reprise::annotate("digest", format!("{hash:016x}"));
}

/// An order-matching engine: traders insert orders into an RwLock'd book,
/// a matcher crosses them; fills counted by an atomic.
fn book() {
    let book = Arc::new(RwLock::new((Vec::<u64>::new(), Vec::<u64>::new())));
    let fills = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let traders: Vec<_> = (0..3u64)
        .map(|t| {
            let book = Arc::clone(&book);
            thread::spawn(move || {
                for i in 0..200u64 {
                    let price = 100 + (t * 7 + i * 13) % 11;
                    let mut b = book.write().unwrap();
                    if (t + i) % 2 == 0 {
                        b.0.push(price);
                    } else {
                        b.1.push(price);
                    }
                }
            })
        })
        .collect();
    let matcher = {
        let (book, fills, done) = (Arc::clone(&book), Arc::clone(&fills), Arc::clone(&done));
        thread::spawn(move || loop {
            let finished = done.load(Ordering::Acquire);
            let crossable = {
                let b = book.read().unwrap();
                !b.0.is_empty() && !b.1.is_empty()
            };
            if crossable {
                let mut b = book.write().unwrap();
                if let (Some(bid), Some(ask)) = (b.0.pop(), b.1.pop()) {
                    if bid >= ask {
                        fills.fetch_add(1, Ordering::AcqRel);
                    }
                }
            } else if finished {
                return;
            } else {
                thread::yield_now();
            }
        })
    };
    for t in traders {
        t.join().unwrap();
    }
    done.store(true, Ordering::Release);
    matcher.join().unwrap();
    let b = book.read().unwrap();
    digest("book", (fills.load(Ordering::Acquire), b.0.len(), b.1.len()));
}

/// A settlement batcher: payments arrive on a channel, a ticker closes
/// batches, a shutdown channel ends it, all through `select!`.
fn batcher() {
    let (tx, rx) = channel::bounded::<u64>(16);
    let (stop_tx, stop_rx) = channel::bounded::<()>(0);
    let producers: Vec<_> = (0..2u64)
        .map(|p| {
            let tx = tx.clone();
            thread::spawn(move || {
                for i in 0..150 {
                    tx.send(p * 1000 + i).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let settler = thread::spawn(move || {
        let tick = channel::tick(Duration::from_millis(2));
        let (mut batch, mut batches) = (Vec::new(), Vec::new());
        let mut open = true;
        loop {
            channel::select! {
                recv(rx) -> msg => match msg {
                    Ok(v) => batch.push(v),
                    Err(_) => open = false,
                },
                recv(tick) -> _ => {
                    if !batch.is_empty() {
                        batches.push(std::mem::take(&mut batch).iter().sum::<u64>());
                    }
                },
                recv(stop_rx) -> _ => {
                    batches.push(batch.iter().sum::<u64>());
                    return batches.iter().sum::<u64>();
                },
            }
            if !open {
                // Keep only the shutdown arm.
                stop_rx.recv().unwrap();
                batches.push(batch.iter().sum::<u64>());
                return batches.iter().sum::<u64>();
            }
        }
    });
    for p in producers {
        p.join().unwrap();
    }
    stop_tx.send(()).unwrap();
    digest("batcher", settler.join().unwrap());
}

/// A thread pool with a shutdown flag and a shared job queue.
fn pool() {
    let jobs = Arc::new(Mutex::new((0..400u64).collect::<Vec<_>>()));
    let shutdown = Arc::new(AtomicBool::new(false));
    let total = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (jobs, shutdown, total) = (Arc::clone(&jobs), Arc::clone(&shutdown), Arc::clone(&total));
            thread::spawn(move || {
                let mut mine = 0u64;
                while !shutdown.load(Ordering::Acquire) {
                    let job = jobs.lock().unwrap().pop();
                    match job {
                        Some(j) => {
                            mine += 1;
                            total.fetch_add(j * j, Ordering::Relaxed);
                        }
                        None => thread::yield_now(),
                    }
                }
                mine
            })
        })
        .collect();
    while !jobs.lock().unwrap().is_empty() {
        thread::sleep(Duration::from_micros(200));
    }
    shutdown.store(true, Ordering::Release);
    let per: Vec<u64> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    digest("pool", (total.load(Ordering::Relaxed), per.iter().sum::<u64>()));
}

/// A fan-in: many short-lived threads each send one result.
fn fanin(threads: u64) {
    let (tx, rx) = channel::unbounded::<u64>();
    let mut handles = Vec::new();
    for i in 0..threads {
        let tx = tx.clone();
        handles.push(thread::spawn(move || tx.send(i * 3).unwrap()));
        if handles.len() >= 8 {
            handles.remove(0).join().unwrap();
        }
    }
    drop(tx);
    for h in handles {
        h.join().unwrap();
    }
    let order: Vec<u64> = rx.iter().collect();
    digest("fanin", (order.len(), order.iter().sum::<u64>(), order));
}

/// Two threads panic at (nearly) the same time.
fn two_panics() {
    let barrier = Arc::new(reprise::sync::Barrier::new(2));
    let lock = Arc::new(Mutex::new(0u32));
    let hs: Vec<_> = (0..2)
        .map(|i| {
            let (barrier, lock) = (Arc::clone(&barrier), Arc::clone(&lock));
            thread::Builder::new()
                .name(format!("checker-{i}"))
                .spawn(move || {
                    for _ in 0..50 {
                        *lock.lock().unwrap() += 1;
                    }
                    barrier.wait();
                    panic!("checker {i} found a negative balance");
                })
                .unwrap()
        })
        .collect();
    for h in hs {
        let _ = h.join();
    }
    panic!("both checkers failed");
}

/// Two accounts locked in opposite orders.
fn deadlock() {
    let a = Arc::new(Mutex::new(100i64));
    let b = Arc::new(Mutex::new(100i64));
    let barrier = Arc::new(reprise::sync::Barrier::new(2));
    let t = {
        let (a, b, barrier) = (Arc::clone(&a), Arc::clone(&b), Arc::clone(&barrier));
        thread::Builder::new()
            .name("transfer-ab".into())
            .spawn(move || {
                let mut ga = a.lock().unwrap();
                barrier.wait();
                let mut gb = b.lock().unwrap();
                *ga -= 10;
                *gb += 10;
            })
            .unwrap()
    };
    let mut gb = b.lock().unwrap();
    barrier.wait();
    let mut ga = a.lock().unwrap();
    *gb -= 5;
    *ga += 5;
    drop((ga, gb));
    t.join().unwrap();
}

/// Busy workers; prints "ready" once started, then runs until a file named
/// by the second argument exists (the test sends SIGUSR1 meanwhile).
fn busy(stop_file: String) {
    let lock = Arc::new(Mutex::new(0u64));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let (lock, stop) = (Arc::clone(&lock), Arc::clone(&stop));
            thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Acquire) {
                    *lock.lock().unwrap() += 1;
                    n += 1;
                }
                n
            })
        })
        .collect();
    println!("ready");
    let stop_file = std::path::PathBuf::from(stop_file);
    while !reprise::capture(|| stop_file.exists()) {
        thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::Release);
    let n: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
    digest("busy", (n, *lock.lock().unwrap()));
}

/// Several threads call `flight_dump` at the same time.
fn dumps_at_once() {
    let barrier = Arc::new(reprise::sync::Barrier::new(4));
    let lock = Arc::new(Mutex::new(0u64));
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let (barrier, lock) = (Arc::clone(&barrier), Arc::clone(&lock));
            thread::spawn(move || {
                for _ in 0..100 {
                    *lock.lock().unwrap() += 1;
                }
                barrier.wait();
                reprise::flight_dump().map(|d| d.events).map_err(|e| e.to_string())
            })
        })
        .collect();
    let results: Vec<_> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    for r in &results {
        if let Err(e) = r {
            println!("dump failed: {e}");
        }
    }
    println!("dumps ok: {}", results.iter().filter(|r| r.is_ok()).count());
    digest("dumps", *lock.lock().unwrap());
}

/// A panic hook of the program's own that dumps the flight recorder.
fn hook_dump() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        previous(info);
        let dumped = reprise::flight_dump_all();
        eprintln!("hook dumped {} recorders", dumped.iter().filter(|d| d.is_ok()).count());
        let mine = reprise::flight_dump();
        eprintln!("hook own dump: {}", mine.is_ok());
        // Keep the dump taken inside the hook: a later one replaces it.
        if let Ok(dump) = mine {
            let mut aside = dump.path.clone().into_os_string();
            aside.push(".hook");
            let _ = std::fs::copy(&dump.path, aside);
        }
    }));
    let lock = Arc::new(Mutex::new(0u64));
    let t = {
        let lock = Arc::clone(&lock);
        thread::spawn(move || {
            for _ in 0..100 {
                *lock.lock().unwrap() += 1;
            }
            panic!("settlement mismatch");
        })
    };
    let _ = t.join();
    digest("hook", *lock.lock().unwrap());
}

/// Two threads panic while two others dump, all at once, and the
/// program's panic hook dumps every recorder too.
fn chaos() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        previous(info);
        let _ = reprise::flight_dump_all();
    }));
    let barrier = Arc::new(reprise::sync::Barrier::new(4));
    let lock = Arc::new(Mutex::new(0u64));
    let hs: Vec<_> = (0..4u64)
        .map(|i| {
            let (barrier, lock) = (Arc::clone(&barrier), Arc::clone(&lock));
            thread::spawn(move || {
                for _ in 0..50 {
                    *lock.lock().unwrap() += i;
                }
                barrier.wait();
                if i < 2 {
                    panic!("worker {i} gave up");
                }
                reprise::flight_dump().is_ok()
            })
        })
        .collect();
    let results: Vec<String> = hs.into_iter().map(|h| format!("{:?}", h.join().is_ok())).collect();
    digest("chaos", (results, *lock.lock().unwrap()));
}

/// A worker that catches the panic of each failing job and goes on.
fn caught_panics() {
    let lock = Arc::new(Mutex::new(0u64));
    let worker = {
        let lock = Arc::clone(&lock);
        thread::spawn(move || {
            let mut failed = 0;
            for job in 0..300u64 {
                let lock = Arc::clone(&lock);
                let done = std::panic::catch_unwind(move || {
                    *lock.lock().unwrap() += job;
                    if job % 30 == 7 {
                        panic!("job {job} failed");
                    }
                });
                failed += u32::from(done.is_err());
            }
            failed
        })
    };
    let failed = worker.join().unwrap();
    digest("caught_panics", (failed, *lock.lock().unwrap()));
}

/// A worker panics; the root sees it at the join and exits the process
/// with a failure code, as many services do.
fn panic_then_exit() {
    let lock = Arc::new(Mutex::new(0u64));
    let worker = {
        let lock = Arc::clone(&lock);
        thread::spawn(move || {
            for i in 0..100 {
                *lock.lock().unwrap() += i;
            }
            panic!("ledger out of balance");
        })
    };
    if worker.join().is_err() {
        eprintln!("worker failed; exiting");
        std::process::exit(3);
    }
}

/// Dumps from inside a capture's read, and from a thread-local's
/// destructor.
fn dump_in_odd_places() {
    reprise::thread_local! {
        static GUARD: DumpOnDrop = const { DumpOnDrop };
    }
    struct DumpOnDrop;
    impl Drop for DumpOnDrop {
        fn drop(&mut self) {
            println!("dump in a thread-local destructor: {:?}", reprise::flight_dump().map(|d| d.events > 0));
        }
    }
    let inside = reprise::capture(|| reprise::flight_dump().map(|d| d.events > 0).map_err(|e| e.to_string()));
    println!("dump in a capture: {inside:?}");
    thread::spawn(|| GUARD.with(|_| ())).join().unwrap();
    digest("odd", 1);
}

/// Captures whose reads take a reprise lock, or panic with a payload
/// that is not a string.
fn odd_captures() {
    let lock = Arc::new(Mutex::new(5u64));
    let theirs = Arc::clone(&lock);
    let worker = thread::spawn(move || {
        for _ in 0..20 {
            *theirs.lock().unwrap() += 1;
        }
    });
    let seen = reprise::capture(|| *lock.lock().unwrap());
    let odd = std::panic::catch_unwind(|| reprise::capture(|| -> u64 { std::panic::panic_any(42u32) }));
    worker.join().unwrap();
    digest("odd_captures", (seen, odd.is_err(), *lock.lock().unwrap()));
}

/// Workers that never stop (never joined) while the root panics.
fn root_panics_workers_spin() {
    let lock = Arc::new(Mutex::new(0u64));
    for _ in 0..2 {
        let lock = Arc::clone(&lock);
        thread::spawn(move || loop {
            *lock.lock().unwrap() += 1;
        });
    }
    while *lock.lock().unwrap() < 500 {
        thread::yield_now();
    }
    panic!("the root gave up with workers running");
}

/// A worker ends the process while others hold locks.
fn exit_holding() {
    let a = Arc::new(Mutex::new(0u64));
    let barrier = Arc::new(reprise::sync::Barrier::new(3));
    let holders: Vec<_> = (0..2)
        .map(|_| {
            let (a, barrier) = (Arc::clone(&a), Arc::clone(&barrier));
            thread::spawn(move || {
                let mut g = a.lock().unwrap();
                *g += 1;
                drop(g);
                barrier.wait();
                loop {
                    let mut g = a.lock().unwrap();
                    *g += 1;
                    thread::sleep(Duration::from_millis(1));
                }
            })
        })
        .collect();
    barrier.wait();
    thread::sleep(Duration::from_millis(20));
    let exiter = thread::spawn(|| std::process::exit(7));
    exiter.join().unwrap();
    drop(holders);
}

/// A worker ends the process while two others take a lock as fast as they
/// can: at the exit the trace holds many of their events after the last one
/// the root saw, which a replay must also reach before its exit ends the
/// process.
fn exit_while_busy() {
    let count = Arc::new(Mutex::new(0u64));
    for _ in 0..2 {
        let count = Arc::clone(&count);
        thread::spawn(move || loop {
            *count.lock().unwrap() += 1;
        });
    }
    while *count.lock().unwrap() < 200 {}
    let exiter = thread::spawn(|| std::process::exit(7));
    exiter.join().unwrap();
}

/// Capture closures that panic, caught by the program.
fn capture_panics() {
    let got: Vec<String> = (0..4)
        .map(|i| {
            thread::spawn(move || {
                let r = std::panic::catch_unwind(|| {
                    reprise::capture(|| {
                        if i % 2 == 0 {
                            panic!("queue {i} is down");
                        }
                        format!("msg-{i}")
                    })
                });
                let s = std::panic::catch_unwind(|| {
                    reprise::capture_sensitive(|| {
                        if i % 2 == 1 {
                            panic!("vault {i} timed out");
                        }
                        format!("card-{i}")
                    })
                });
                format!("{:?} {:?}", r.is_ok(), s.map(|v| v.len()).ok())
            })
            .join()
            .unwrap()
        })
        .collect();
    digest("capture_panics", got);
}

/// Huge captured values and many sensitive ones.
fn huge() {
    let hs: Vec<_> = (0..3u64)
        .map(|t| {
            thread::spawn(move || {
                let big: Vec<u8> =
                    reprise::capture(move || (0..3_000_000u64).map(|i| (i * (t + 1)) as u8).collect());
                let mut sum = big.iter().map(|&b| u64::from(b)).sum::<u64>();
                for i in 0..300u64 {
                    let card = reprise::capture_sensitive(move || format!("SECRET-CARD-{t}-{i:06}"));
                    sum = sum.wrapping_add(card.bytes().map(u64::from).sum::<u64>());
                }
                let big_secret: String =
                    reprise::capture_sensitive(move || format!("SECRET-BLOB-{t}-").repeat(200_000));
                sum.wrapping_add(big_secret.len() as u64)
            })
        })
        .collect();
    let sums: Vec<u64> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    digest("huge", sums);
    // Under the flight recorder, a dump of the whole run (Err elsewhere).
    let _ = reprise::flight_dump();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scenario = args.first().cloned().unwrap_or_default();
    let extra = args.get(1).cloned().unwrap_or_default();
    let name = scenario.clone();
    let run = move || match name.as_str() {
        "book" => book(),
        "batcher" => batcher(),
        "pool" => pool(),
        "fanin" => fanin(extra.parse().unwrap_or(200)),
        "fanin_panic" => {
            fanin(extra.parse().unwrap_or(200));
            panic!("reconciliation failed after the fan-in");
        }
        "two_panics" => two_panics(),
        "deadlock" => deadlock(),
        "busy" => busy(extra),
        "dumps_at_once" => dumps_at_once(),
        "hook_dump" => hook_dump(),
        "exit_holding" => exit_holding(),
        "exit_while_busy" => exit_while_busy(),
        "chaos" => chaos(),
        "root_panics_workers_spin" => root_panics_workers_spin(),
        "odd_captures" => odd_captures(),
        "dump_in_odd_places" => dump_in_odd_places(),
        "panic_then_exit" => panic_then_exit(),
        "caught_panics" => caught_panics(),
        "capture_panics" => capture_panics(),
        "huge" => huge(),
        other => panic!("unknown scenario {other:?}"),
    };
    reprise::main("incident_scenarios", "1", move || {
        run();
        // The incident: the run ends with a panic, which the flight
        // recorder dumps (set the variable for the replay too).
        if std::env::var_os("INCIDENT_PANIC_AT_END").is_some() {
            panic!("invariant broken at the end of {scenario}");
        }
    })
}
