//! Thread-locals on OS threads (off, record, replay): std's thread-local
//! holds a [`Slot`], and a thread of an execution drops its values before it
//! leaves the execution ([`drop_values`]), not after.
//!
//! Why: std runs a thread-local's destructor after the thread's body, once
//! reprise's own context is gone, so a lock or a send in that destructor was
//! neither recorded nor ordered, and a replay could match every event and
//! still give another result. Dropped at the end of the body, while the
//! thread still records (or replays), the destructor's calls are events like
//! any other, in the same place in the recording and in its replay.

use std::cell::RefCell;
use std::rc::Rc;

use crate::rt::mode::{self, Mode};

use super::LocalKey;

/// The value std's thread-local holds for a [`LocalKey`]: made on first use,
/// taken out when the thread leaves its execution.
#[doc(hidden)]
pub struct Slot<T>(RefCell<Option<Rc<T>>>);

impl<T> Slot<T> {
    #[doc(hidden)]
    pub const fn new() -> Slot<T> {
        Slot(RefCell::new(None))
    }
}

impl<T> std::fmt::Debug for Slot<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Slot { .. }")
    }
}

impl<T> Default for Slot<T> {
    fn default() -> Slot<T> {
        Slot::new()
    }
}

/// A key whose value this thread made inside an execution, type-erased so
/// that one list holds keys of every type.
trait Dropper {
    /// Takes this thread's value out of its slot and drops it.
    fn drop_value(&'static self);
}

impl<T: 'static> Dropper for LocalKey<T> {
    fn drop_value(&'static self) {
        // Taken out first, dropped after the slot's borrow ends: the
        // destructor may use this key again (it gets a new value).
        let taken = self.std.try_with(|slot| slot.0.borrow_mut().take());
        drop(taken);
    }
}

std::thread_local! {
    /// The keys whose values this thread made while recording or replaying.
    static MADE: RefCell<Vec<&'static dyn Dropper>> = const { RefCell::new(Vec::new()) };
}

/// A shared handle on this thread's value of `key`, made by its initializer
/// on first use. A handle, not a borrow, while the caller's closure runs: it
/// may reach the same key again, as it may with std's.
pub(super) fn value<T: 'static>(key: &'static LocalKey<T>, slot: &Slot<T>) -> Rc<T> {
    if let Some(value) = slot.0.borrow().as_ref() {
        return Rc::clone(value);
    }
    // Made outside the slot's borrow: the initializer may use thread-locals.
    let value = Rc::new((key.init)());
    let kept = Rc::clone(slot.0.borrow_mut().get_or_insert(value));
    if matches!(mode::mode(), Mode::Record | Mode::Gated) {
        let _ = MADE.try_with(|made| made.borrow_mut().push(key));
    }
    kept
}

/// Drops the values this thread made while it recorded or replayed, before
/// it leaves the execution, so that what their destructors do is recorded
/// (or replayed) in order.
///
/// # Errors
///
/// As [`super::drop_in_rounds`].
pub(super) fn drop_values() -> Result<(), Box<dyn std::any::Any + Send>> {
    super::drop_in_rounds(
        || MADE.try_with(|made| std::mem::take(&mut *made.borrow_mut())).unwrap_or_default(),
        |key| key.drop_value(),
    )
}
