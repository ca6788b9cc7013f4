//! A condvar lost wakeup: the waiter checks a flag under the lock and waits;
//! the notifier sets the flag without the lock and notifies. A notify that
//! lands between the waiter's check and its wait wakes nobody, and the
//! waiter sleeps forever. Fixed twin: the flag lives under the lock.

use super::prim::sync::atomic::{AtomicBool, Ordering::SeqCst};
use super::prim::sync::{Arc, Condvar, Mutex};
use super::prim::thread;

struct Signal {
    lock: Mutex<bool>,
    flag: AtomicBool,
    changed: Condvar,
}

pub(super) fn run(fixed: bool) {
    let signal =
        Arc::new(Signal { lock: Mutex::new(false), flag: AtomicBool::new(false), changed: Condvar::new() });
    let notifier = Arc::clone(&signal);
    let notifier = thread::spawn(move || {
        if fixed {
            *notifier.lock.lock().unwrap() = true;
        } else {
            notifier.flag.store(true, SeqCst);
        }
        notifier.changed.notify_one();
    });
    let mut guard = signal.lock.lock().unwrap();
    if fixed {
        while !*guard {
            guard = signal.changed.wait(guard).unwrap();
        }
    } else if !signal.flag.load(SeqCst) {
        guard = signal.changed.wait(guard).unwrap();
    }
    drop(guard);
    notifier.join().unwrap();
}
