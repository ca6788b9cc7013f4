//! A worker that waits outside reprise's calls: it locks a reprise mutex,
//! says it is ready, then spins on a std atomic the root sets after ten
//! locks of that mutex, then locks it again. Recorded, it ends at once;
//! replayed with `--stop-at 7` (the root's receive of "ready"), the root
//! pauses before its locks, the worker spins for good, and the pause is
//! never announced (`tests/stop_at.rs`: such a
//! replay must still end with the `reprise` that ran it).
//!
//! `cargo run --example outside_wait` (under `REPRISE_RECORD=FILE`, or
//! `reprise replay FILE --stop-at N -- target/debug/examples/outside_wait`).

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use reprise::sync::Mutex;
use reprise::thread;

fn run() -> ExitCode {
    let total = Arc::new(Mutex::new(0u64));
    let go = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready) = reprise::channel::bounded::<()>(1);
    let worker = {
        let (total, go) = (Arc::clone(&total), Arc::clone(&go));
        let ready = ready_tx;
        thread::spawn(move || {
            *total.lock().unwrap() += 1;
            ready.send(()).unwrap();
            while !go.load(Ordering::Acquire) {
                std::hint::spin_loop();
            }
            *total.lock().unwrap() += 100;
        })
    };
    ready.recv().unwrap();
    for n in 0..10 {
        *total.lock().unwrap() += n;
    }
    go.store(true, Ordering::Release);
    worker.join().unwrap();
    let total = *total.lock().unwrap();
    println!("total {total}");
    reprise::annotate("total", total.to_string());
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    reprise::main("outside_wait", env!("CARGO_PKG_VERSION"), run)
}
