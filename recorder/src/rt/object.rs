//! An object's identity slot: which execution named it, and its index there.
//!
//! A lock-free structure reprise relies on: built on `rt::primitive` atomics,
//! loom's under `--cfg reprise_loom`.

use std::panic::Location;

use crate::rt::primitive::{AtomicU64, Ordering};

use crate::trace::model::ObjectIndex;

/// Holds `(execution id << 32) | object index`, or 0 before any execution used
/// the object, and where the object was made, when its constructor knows
/// (the trace names an object by that site; else by its first use).
/// `const`-constructible, so primitives in `static`s get one too.
#[derive(Debug)]
pub(crate) struct ObjectSlot {
    index: AtomicU64,
    created: Option<&'static Location<'static>>,
}

impl ObjectSlot {
    /// A slot whose object is named where it is first used.
    #[cfg(not(reprise_loom))]
    pub(crate) const fn new() -> Self {
        ObjectSlot { index: AtomicU64::new(0), created: None }
    }

    #[cfg(reprise_loom)]
    pub(crate) fn new() -> Self {
        ObjectSlot { index: AtomicU64::new(0), created: None }
    }

    /// A slot whose object is named by its caller's site: every constructor
    /// from the user's call down to here is `#[track_caller]`.
    #[cfg(not(reprise_loom))]
    #[track_caller]
    pub(crate) const fn here() -> Self {
        ObjectSlot { index: AtomicU64::new(0), created: Some(Location::caller()) }
    }

    #[cfg(reprise_loom)]
    #[track_caller]
    pub(crate) fn here() -> Self {
        ObjectSlot { index: AtomicU64::new(0), created: Some(Location::caller()) }
    }

    /// Where the object was made, when its constructor said.
    pub(crate) fn created(&self) -> Option<&'static Location<'static>> {
        self.created
    }

    /// The object's index in execution `exec`, if that execution named it.
    #[inline]
    pub(crate) fn get(&self, exec: u32) -> Option<ObjectIndex> {
        let v = self.index.load(Ordering::Acquire);
        ((v >> 32) as u32 == exec).then_some(v as u32)
    }

    /// Names the object for `exec` if no execution has yet; returns the index
    /// it now has in `exec`, or `None` when another execution owns the slot
    /// (an object shared between executions, such as a `static`).
    pub(crate) fn claim(&self, exec: u32, index: ObjectIndex) -> Option<ObjectIndex> {
        let new = (u64::from(exec) << 32) | u64::from(index);
        match self.index.compare_exchange(0, new, Ordering::AcqRel, Ordering::Acquire) {
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

/// A flight recorder keeps the name of every object its run made until it
/// hears the object is gone (see [`crate::flight::object_dropped`]).
#[cfg(not(reprise_loom))]
impl Drop for ObjectSlot {
    fn drop(&mut self) {
        let v = *self.index.get_mut();
        if v != 0 {
            crate::flight::object_dropped((v >> 32) as u32, v as u32);
        }
    }
}

#[cfg(all(test, reprise_loom))]
mod loom_tests {
    //! `RUSTFLAGS="--cfg reprise_loom" cargo test -p reprise-recorder --lib loom_tests`

    use super::ObjectSlot;
    use loom::sync::Arc;
    use loom::thread;

    fn model(name: &str, f: impl Fn() + Sync + Send + 'static) {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound.get_or_insert(2);
        let executions = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = std::sync::Arc::clone(&executions);
        builder.check(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            f();
        });
        eprintln!("ObjectSlot, {name}: {executions:?} executions");
    }

    #[test]
    fn racing_claims_for_one_execution_get_the_same_index_and_another_execution_gets_none() {
        model("one execution", || {
            let slot = Arc::new(ObjectSlot::new());
            let claimers: Vec<_> = [7, 9]
                .into_iter()
                .map(|index| {
                    let slot = Arc::clone(&slot);
                    thread::spawn(move || slot.claim(1, index))
                })
                .collect();
            // Meanwhile a reader sees no index or the final one, never another.
            let seen = slot.get(1);
            let claimed: Vec<_> = claimers.into_iter().map(|c| c.join().unwrap()).collect();
            assert!(matches!(claimed[0], Some(7 | 9)), "a claim names the object: {claimed:?}");
            assert_eq!(claimed[0], claimed[1], "both racers get the winner's index");
            assert!(seen.is_none() || seen == claimed[0], "a racing get saw {seen:?}, not {claimed:?}");
            assert_eq!(slot.get(1), claimed[0]);
            assert_eq!(slot.claim(2, 3), None, "another execution does not own the slot");
            assert_eq!(slot.get(2), None);
        });
    }

    #[test]
    fn claims_from_two_executions_leave_the_slot_to_exactly_one() {
        model("two executions", || {
            let slot = Arc::new(ObjectSlot::new());
            let other = {
                let slot = Arc::clone(&slot);
                thread::spawn(move || slot.claim(2, 5))
            };
            let mine = slot.claim(1, 4);
            let theirs = other.join().unwrap();
            match (mine, theirs) {
                (Some(4), None) => assert_eq!((slot.get(1), slot.get(2)), (Some(4), None)),
                (None, Some(5)) => assert_eq!((slot.get(1), slot.get(2)), (None, Some(5))),
                outcome => panic!("exactly one execution owns the slot, got {outcome:?}"),
            }
        });
    }
}
