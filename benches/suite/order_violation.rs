//! An order violation: the main thread starts a worker and only then fills
//! in the configuration the worker reads first thing. Fixed twin: the
//! configuration is in place before the worker starts.

use super::prim::sync::{Arc, Mutex};
use super::prim::thread;

/// The buggy version's assertion.
pub(super) const BUG: &str = "order violation: config read before it was set";

pub(super) fn run(fixed: bool) {
    let config = Arc::new(Mutex::new(None::<u64>));
    if fixed {
        *config.lock().unwrap() = Some(8);
    }
    let reader = Arc::clone(&config);
    let worker = thread::spawn(move || {
        let workers = reader.lock().unwrap().expect(BUG);
        assert_eq!(workers, 8);
    });
    if !fixed {
        *config.lock().unwrap() = Some(8);
    }
    worker.join().unwrap();
}
