//! Passthrough `select`: crossbeam's.

use crossbeam_channel as cb;

use crate::channel::wait::{NoMessage, Wait};
use crate::channel::Receiver;

pub(super) fn select<T>(receivers: &[&Receiver<T>], wait: Wait) -> Option<(usize, Result<T, NoMessage>)> {
    let mut select = cb::Select::new();
    for r in receivers {
        select.recv(r.cb());
    }
    let op = match wait {
        Wait::Timeout(timeout) => select.select_timeout(timeout).ok()?,
        Wait::No | Wait::Forever => select.select(),
    };
    let arm = op.index();
    let result = op.recv(receivers[arm].cb()).map_err(|_| NoMessage::Disconnected);
    Some((arm, result.map(|e| e.value)))
}
