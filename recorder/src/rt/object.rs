//! An object's identity slot: which execution named it, and its index there.
//!
//! A lock-free structure reprise relies on: built on `rt::primitive` atomics,
//! loom's under `--cfg reprise_loom`.

use crate::rt::primitive::{AtomicU64, Ordering};

use crate::trace::model::ObjectIndex;

/// Holds `(execution id << 32) | object index`, or 0 before any execution used
/// the object. `const`-constructible, so primitives in `static`s get one too.
#[derive(Debug)]
pub(crate) struct ObjectSlot(AtomicU64);

impl ObjectSlot {
    #[cfg(not(reprise_loom))]
    pub(crate) const fn new() -> Self {
        ObjectSlot(AtomicU64::new(0))
    }

    #[cfg(reprise_loom)]
    pub(crate) fn new() -> Self {
        ObjectSlot(AtomicU64::new(0))
    }

    /// The object's index in execution `exec`, if that execution named it.
    #[inline]
    pub(crate) fn get(&self, exec: u32) -> Option<ObjectIndex> {
        let v = self.0.load(Ordering::Acquire);
        ((v >> 32) as u32 == exec).then_some(v as u32)
    }

    /// Names the object for `exec` if no execution has yet; returns the index
    /// it now has in `exec`, or `None` when another execution owns the slot
    /// (an object shared between executions, such as a `static`).
    pub(crate) fn claim(&self, exec: u32, index: ObjectIndex) -> Option<ObjectIndex> {
        let new = (u64::from(exec) << 32) | u64::from(index);
        match self.0.compare_exchange(0, new, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => Some(index),
            Err(current) if (current >> 32) as u32 == exec => Some(current as u32),
            Err(_) => None,
        }
    }

    /// The slot's address, which names a shared object within one execution.
    pub(crate) fn address(&self) -> usize {
        self as *const Self as usize
    }
}
