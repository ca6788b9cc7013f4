//! Which events conflict: two events conflict when they touch the same
//! object and at least one of them changes it (reading an atomic, or taking
//! or leaving a read lock, does not). POS redraws priorities on conflicts;
//! SURW counts the events on shared objects.

use reprise_recorder::hook::coop::CoopCall;
use reprise_recorder::trace::model::{ObjectIndex, Op};

/// What an event does to its object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Access {
    /// The object.
    pub(crate) object: ObjectIndex,
    /// Whether it may change it.
    pub(crate) writes: bool,
}

impl Access {
    /// The access `call` makes, if it touches an object.
    pub(crate) fn of(call: Option<CoopCall>) -> Option<Access> {
        let call = call?;
        let object = call.object?;
        let writes =
            !matches!(call.op, Some(Op::AtomicLoad | Op::ReadLock | Op::TryReadLock | Op::ReadUnlock) | None);
        Some(Access { object, writes })
    }

    /// Whether the two accesses conflict.
    pub(crate) fn conflicts(self, other: Access) -> bool {
        self.object == other.object && (self.writes || other.writes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn call(op: Op, object: ObjectIndex) -> Option<CoopCall> {
        Some(CoopCall { op: Some(op), object: Some(object), location: std::panic::Location::caller() })
    }

    #[test]
    fn reads_of_one_object_do_not_conflict_and_a_write_does() {
        let load = Access::of(call(Op::AtomicLoad, 3)).unwrap();
        let store = Access::of(call(Op::AtomicStore, 3)).unwrap();
        let other = Access::of(call(Op::AtomicStore, 4)).unwrap();
        assert!(!load.conflicts(load));
        assert!(load.conflicts(store) && store.conflicts(load));
        assert!(!store.conflicts(other));
        assert!(Access::of(call(Op::Lock, 3)).unwrap().conflicts(Access::of(call(Op::Unlock, 3)).unwrap()));
        let yielded = Some(CoopCall { op: None, object: Some(3), location: std::panic::Location::caller() });
        assert_eq!(Access::of(yielded).map(|a| a.writes), Some(false));
        assert_eq!(Access::of(None), None);
    }
}
