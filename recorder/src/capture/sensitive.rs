//! The key of a sensitive capture, as this execution has it: the config's or
//! the replay's, else `REPRISE_KEY`, looked up once per execution at its
//! first sensitive capture. A missing or bad key is said once on stderr (once
//! a process) and
//! never stops the host: the values are then not kept.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::rt::context;
use crate::trace::model::sensitive::{SealKey, KEY_ENV};

/// This execution's key (`None`: sensitive values are not kept, or cannot
/// be opened).
pub(super) fn key() -> Option<SealKey> {
    context::with(|ctx| ctx.exec.sensitive_key.get_or_init(from_env).clone())
}

/// Whether the missing key was said: once a process, not once an execution
/// (the explorer runs thousands).
static WARNED: AtomicBool = AtomicBool::new(false);

fn from_env() -> Option<SealKey> {
    let first = || !WARNED.swap(true, Ordering::Relaxed);
    match SealKey::from_env() {
        Ok(Some(key)) => Some(key),
        Ok(None) if !first() => None,
        Err(_) if !first() => None,
        Ok(None) => {
            crate::diagnostic::warn(&format!("{KEY_ENV} is not set: sensitive captures are recorded redacted (their values are not kept, and a replay cannot give them back)"));
            None
        }
        Err(e) => {
            crate::diagnostic::warn(&format!(
                "{e}: sensitive captures are recorded redacted (their values are not kept)"
            ));
            None
        }
    }
}
