//! Atomics: every store and read-modify-write takes a place in the object's
//! modification order; every load records which store it read and the value.
//!
//! In record mode a per-object sequence lock makes "do the operation" and
//! "take its number" one step: stores and read-modify-writes hold it, a load
//! only reads it before and after (and retries if a store came between). Replay admits stores in recorded order and
//! hands each load its recorded value once the store it read is in, so data
//! published before a `Release` store is there when the `Acquire` load returns.
//!
//! Every std atomic type is here with std's stable surface (Rust 1.95):
//! `AtomicI8` to `AtomicU64`, `AtomicIsize`, `AtomicUsize`, `AtomicBool` and
//! `AtomicPtr<T>` (`int.rs`, `bool.rs`, `ptr.rs`; the methods they share are
//! written once, in `shell.rs`). `fetch_update`, `update` and `try_update`
//! are std's loop of a load then weak compare-exchanges, each of which is an
//! event: replay gives every attempt its recorded result, so the closure
//! sees the same values and the loop runs the same number of times.
//!
//! Integers have `fetch_add/sub/and/nand/or/xor/max/min`, `bool` has
//! `fetch_and/nand/or/xor/not`, `AtomicPtr` has `fetch_ptr_add/sub`,
//! `fetch_byte_add/sub` and `fetch_or/and/xor`; all have `new` (`const`),
//! `load`, `store`, `swap`, `compare_exchange(_weak)`, `fetch_update`,
//! `update`, `try_update`, `get_mut`, `into_inner`, `Default`, `From`,
//! `Debug`, and are `Send + Sync` and unwind safe as std's are. Methods std
//! stabilised after the crate's minimum Rust (1.80) are built from older std
//! ones, so they exist on every supported toolchain.
//!
//! An `AtomicPtr`'s value is an address, which differs between runs: the
//! trace keeps only whether it was null, and replay returns this run's value
//! of the store a load read (see `ptr.rs`).
//!
//! Left out on purpose, because they hand out the atomic's memory or build
//! an atomic over memory reprise does not own (its bookkeeping lives beside
//! the value, so neither the layout nor "every access is an event" could
//! hold): `from_ptr`, `as_ptr`, `from_mut`, `get_mut_slice`,
//! `from_mut_slice`. Also left out: `compare_and_swap` and `spin_loop_hint`
//! (deprecated), and `into_inner` is not `const` (std's is since 1.79): the
//! loom backend must read its loom object out first.
//!
//! This file is the std-shaped shell; the backends are `record.rs`,
//! `replay.rs` and `explore.rs` (passthrough is inline). Under
//! `--cfg reprise_loom` the inner atomics are loom's (`loom.rs`): loom
//! explores every value a load may return under the given orderings (C11's
//! memory model), so a missing `Acquire`/`Release` pair is found.

#[macro_use]
mod shell;
mod bool;
#[cfg(not(reprise_loom))]
mod explore;
#[cfg(not(reprise_loom))]
mod history;
mod int;
#[cfg(reprise_loom)]
mod loom;
mod ptr;
#[cfg(not(reprise_loom))]
mod record;
#[cfg(not(reprise_loom))]
mod replay;

pub use self::bool::AtomicBool;
pub use self::int::{
    AtomicI16, AtomicI32, AtomicI64, AtomicI8, AtomicIsize, AtomicU16, AtomicU32, AtomicU64, AtomicU8,
    AtomicUsize,
};
pub use self::ptr::AtomicPtr;

#[cfg(reprise_loom)]
pub use ::loom::sync::atomic::fence;
/// A compiler fence: it orders nothing between threads, so it is no event
/// (and std's, under loom too).
pub use std::sync::atomic::compiler_fence;
#[cfg(not(reprise_loom))]
pub use std::sync::atomic::fence;
pub use std::sync::atomic::Ordering;

#[cfg(not(reprise_loom))]
use crate::rt::object::ObjectSlot;
#[cfg(not(reprise_loom))]
use crate::rt::order::ModificationOrder;

/// The record-mode bookkeeping every atomic carries.
#[cfg(not(reprise_loom))]
struct Order {
    slot: ObjectSlot,
    order: ModificationOrder,
}

#[cfg(not(reprise_loom))]
impl Order {
    #[track_caller]
    const fn new() -> Order {
        Order { slot: ObjectSlot::here(), order: ModificationOrder::new() }
    }
}

/// An atomic's value as the trace stores it: 64 bits.
#[cfg(not(reprise_loom))]
trait Value: Copy {
    fn to_bits(self) -> u64;
}

/// A value replay can rebuild from the recorded bits (not addresses).
#[cfg(not(reprise_loom))]
trait FromBits: Value {
    fn from_bits(bits: u64) -> Self;
}

macro_rules! value_as_bits {
    ($($t:ty),*) => {$(
        #[cfg(not(reprise_loom))]
        impl Value for $t {
            fn to_bits(self) -> u64 {
                self as u64
            }
        }

        #[cfg(not(reprise_loom))]
        impl FromBits for $t {
            fn from_bits(bits: u64) -> Self {
                bits as $t
            }
        }
    )*};
}

value_as_bits!(u8, i8, u16, i16, u32, i32, u64, i64, usize, isize);

#[cfg(not(reprise_loom))]
impl Value for bool {
    fn to_bits(self) -> u64 {
        u64::from(self)
    }
}

#[cfg(not(reprise_loom))]
impl FromBits for bool {
    fn from_bits(bits: u64) -> Self {
        bits != 0
    }
}

#[cfg(not(reprise_loom))]
impl<T> Value for *mut T {
    /// Whether the pointer is non-null, not its address: an address means
    /// nothing in another run, and a replay that compares outcomes (replay
    /// on coroutines) would call every run with other addresses diverged.
    fn to_bits(self) -> u64 {
        u64::from(!self.is_null())
    }
}

/// The failure ordering std pairs with a read-modify-write's ordering, for a
/// read-modify-write built from a compare-exchange loop.
fn failure_order(order: Ordering) -> Ordering {
    match order {
        Ordering::Release | Ordering::Relaxed => Ordering::Relaxed,
        Ordering::Acquire | Ordering::AcqRel => Ordering::Acquire,
        _ => Ordering::SeqCst,
    }
}
