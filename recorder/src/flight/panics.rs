//! A thread's panics before one the process does not survive. The panic
//! that aborts is std's own ("panic in a destructor during cleanup", "panic
//! in a function that cannot unwind"), so a dump's verdict holding only its
//! message did not say what went wrong first; the dump written from the
//! hook before the abort names the thread's earlier panics too.

use std::cell::RefCell;
use std::collections::VecDeque;

/// How many of a thread's latest panic messages are kept.
const KEPT: usize = 3;

thread_local! {
    static EARLIER: RefCell<VecDeque<String>> = const { RefCell::new(VecDeque::new()) };
}

/// This thread panicked with `message` (a panic it may survive).
pub(super) fn remember(message: &str) {
    let _ = EARLIER.try_with(|earlier| {
        if let Ok(mut earlier) = earlier.try_borrow_mut() {
            if earlier.len() == KEPT {
                earlier.pop_front();
            }
            earlier.push_back(message.to_owned());
        }
    });
}

/// The verdict's message for a panic the process does not survive:
/// `aborting`, then this thread's earlier panics, oldest first.
pub(super) fn aborting_message(aborting: &str) -> String {
    let earlier = EARLIER
        .try_with(|earlier| earlier.try_borrow_mut().map(|mut e| std::mem::take(&mut *e)).unwrap_or_default())
        .unwrap_or_default();
    if earlier.is_empty() {
        return format!("{aborting} (the process aborts)");
    }
    let list: Vec<String> = earlier.iter().map(|m| format!("`{m}`")).collect();
    format!(
        "{aborting} (the process aborts); this thread's panics before it, oldest first: {}",
        list.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_panics_are_named_oldest_first_and_forgotten_once_named() {
        std::thread::spawn(|| {
            assert_eq!(aborting_message("boom"), "boom (the process aborts)");
            for m in ["a", "b", "c", "d"] {
                remember(m);
            }
            assert_eq!(
                aborting_message("panic in a destructor during cleanup"),
                "panic in a destructor during cleanup (the process aborts); this thread's panics before it, \
                 oldest first: `b`, `c`, `d`"
            );
            assert_eq!(aborting_message("x"), "x (the process aborts)");
        })
        .join()
        .unwrap();
    }
}
