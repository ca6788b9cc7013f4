//! A program whose worker ends the process with `std::process::exit(3)`
//! while the root still takes its lock: recorded, its trace ends there
//! (`reprise.exit`); replayed by `reprise replay FILE -- CMD`, the worker
//! exits again at the same point.

use std::sync::Arc;

use reprise::sync::Mutex;
use reprise::thread;

fn main() {
    reprise::main("process_exit", "1", || {
        let lock = Arc::new(Mutex::new(0u32));
        let theirs = Arc::clone(&lock);
        let worker = thread::spawn(move || {
            for _ in 0..1000 {
                *theirs.lock().unwrap() += 1;
            }
            std::process::exit(3);
        });
        for _ in 0..1000 {
            *lock.lock().unwrap() += 1;
        }
        let _ = worker.join();
    })
}
