//! `select` under loom: blocks on a signal that a send or disconnection on
//! any arm fires; the lowest ready index wins; a timeout fires at once.

use std::sync::Arc;

use crate::channel::loom::{chan, Signal};
use crate::channel::wait::{NoMessage, Wait};
use crate::channel::Receiver;

pub(super) fn select<T>(receivers: &[&Receiver<T>], wait: Wait) -> Option<(usize, Result<T, NoMessage>)> {
    if let Wait::Timeout(_) | Wait::No = wait {
        for (arm, receiver) in receivers.iter().enumerate() {
            let chan = chan(&receiver.flavor);
            if let Some(result) = chan.take(&mut chan.lock()) {
                return Some((arm, result));
            }
        }
        loom::thread::yield_now();
        return None;
    }
    loop {
        let signal = Arc::new(Signal::new());
        let mut ready = None;
        let mut registered = 0;
        for (arm, receiver) in receivers.iter().enumerate() {
            let chan = chan(&receiver.flavor);
            let mut s = chan.lock();
            if let Some(result) = chan.take(&mut s) {
                ready = Some((arm, result));
                break;
            }
            // Registered under the lock that saw it empty: the next send
            // or disconnection on this channel fires the signal.
            chan.watch_receive(&mut s, &signal, true);
            registered += 1;
        }
        if ready.is_none() {
            signal.wait();
        }
        for receiver in &receivers[..registered] {
            chan(&receiver.flavor).lock().selects.retain(|(other, _)| !Arc::ptr_eq(other, &signal));
        }
        if ready.is_some() {
            return ready;
        }
    }
}
