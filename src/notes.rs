//! `reprise::annotate`: notes for the trace's footer. Under `reprise::main`'s
//! replay the notes the program makes again are kept, so the replay can set
//! them against the recording's (a digest that came back different is not a
//! match).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Whether a replay under `reprise::main` is collecting notes: checked first,
/// so a run that does not collect pays no lock and no copy.
static COLLECTING: AtomicBool = AtomicBool::new(false);
static NOTES: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Adds a note to the trace's footer (a later note with the same key replaces
/// it): a digest of the final state, an invariant that broke. Outside a
/// recording it does nothing, except under [`crate::main`]'s replay, which
/// compares the notes made again with the recorded ones.
///
/// # Examples
///
/// ```
/// reprise::annotate("digest", "9f86d081884c7d65");
/// ```
pub fn annotate(key: impl Into<String>, value: impl Into<String>) {
    let (key, value) = (key.into(), value.into());
    if COLLECTING.load(Ordering::Acquire) {
        // A poisoned lock only means a note-taker panicked: the notes stand.
        let mut notes = NOTES.lock().unwrap_or_else(|e| e.into_inner());
        notes.retain(|(k, _)| *k != key);
        notes.push((key.clone(), value.clone()));
    }
    reprise_recorder::annotate(key, value);
}

/// Starts keeping the notes made from now on, forgetting earlier ones.
pub(crate) fn start_collecting() {
    NOTES.lock().unwrap_or_else(|e| e.into_inner()).clear();
    COLLECTING.store(true, Ordering::Release);
}

/// Stops keeping notes and returns those kept.
pub(crate) fn take() -> Vec<(String, String)> {
    COLLECTING.store(false, Ordering::Release);
    std::mem::take(&mut *NOTES.lock().unwrap_or_else(|e| e.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_kept_only_while_collecting_and_a_key_keeps_its_last_value() {
        annotate("before", "x");
        start_collecting();
        annotate("digest", "1");
        annotate("digest", "2");
        annotate("other", "3");
        let kept = take();
        assert_eq!(kept, vec![("digest".into(), "2".into()), ("other".into(), "3".into())]);
        annotate("after", "y");
        assert!(take().is_empty());
    }
}
