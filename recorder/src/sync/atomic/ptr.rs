//! `AtomicPtr<T>`. Its value is an address, and addresses differ between
//! runs: the recording keeps only whether it was null (so that no replay
//! compares addresses), and replay enforces which store a load read and
//! hands back the address that store wrote in this run ([`Addresses`]), so a
//! replayed thread can dereference what it loads.

use std::fmt;
#[cfg(not(reprise_loom))]
use std::panic::Location;

#[cfg(not(reprise_loom))]
use super::history::{Addresses, History};
use super::Ordering;
#[cfg(not(reprise_loom))]
use super::{explore, record, replay, Order};
use crate::rt::mode::{self, Mode};

#[cfg(reprise_loom)]
use super::loom as inner;
#[cfg(not(reprise_loom))]
use std::sync::atomic as inner;

/// An atomic pointer whose every access is an event. Like std's.
pub struct AtomicPtr<T> {
    #[cfg(not(reprise_loom))]
    order: Order,
    inner: inner::AtomicPtr<T>,
    #[cfg(not(reprise_loom))]
    addresses: Addresses,
}

atomic_shell!([T] AtomicPtr<T>, inner::AtomicPtr<T>, *mut T);

impl<T> AtomicPtr<T> {
    /// A new atomic. `const`, so it can live in a `static` (under loom,
    /// create it inside the model).
    #[track_caller]
    pub const fn new(value: *mut T) -> Self {
        Self {
            #[cfg(not(reprise_loom))]
            order: Order::new(),
            inner: inner::AtomicPtr::new(value),
            #[cfg(not(reprise_loom))]
            addresses: Addresses::new(),
        }
    }

    /// Replay hands back this run's address of the store a load read.
    #[cfg(not(reprise_loom))]
    fn history(&self) -> &Addresses {
        &self.addresses
    }

    /// The value changes without an event: the remembered addresses no
    /// longer say what the atomic holds.
    fn forget_history(&mut self) {
        #[cfg(not(reprise_loom))]
        self.addresses.clear();
    }

    /// Pointer arithmetic as one read-modify-write: std's `fetch_ptr_add` and
    /// kin are newer than the crate's minimum Rust (1.80), so it is an inner
    /// `fetch_update`, which within the event (the record-mode lock, the
    /// replay gate) meets no other store of a reprise call and succeeds at
    /// once; the event is recorded as one read-modify-write. Returns the
    /// previous pointer.
    #[track_caller]
    fn modify(&self, order: Ordering, f: impl Fn(*mut T) -> *mut T) -> *mut T {
        self.rmw(|a| match a.fetch_update(order, super::failure_order(order), |p| Some(f(p))) {
            Ok(previous) | Err(previous) => previous,
        })
    }

    /// Offsets the pointer by `count` elements of `T` (wrapping), returning
    /// the previous pointer.
    #[track_caller]
    pub fn fetch_ptr_add(&self, count: usize, order: Ordering) -> *mut T {
        self.modify(order, |p| p.wrapping_add(count))
    }

    /// Offsets the pointer back by `count` elements of `T` (wrapping),
    /// returning the previous pointer.
    #[track_caller]
    pub fn fetch_ptr_sub(&self, count: usize, order: Ordering) -> *mut T {
        self.modify(order, |p| p.wrapping_sub(count))
    }

    /// Offsets the pointer by `bytes` bytes (wrapping), returning the
    /// previous pointer.
    #[track_caller]
    pub fn fetch_byte_add(&self, bytes: usize, order: Ordering) -> *mut T {
        self.modify(order, |p| p.wrapping_byte_add(bytes))
    }

    /// Offsets the pointer back by `bytes` bytes (wrapping), returning the
    /// previous pointer.
    #[track_caller]
    pub fn fetch_byte_sub(&self, bytes: usize, order: Ordering) -> *mut T {
        self.modify(order, |p| p.wrapping_byte_sub(bytes))
    }

    /// Bitwise or on the address (keeping the provenance), returning the
    /// previous pointer.
    #[track_caller]
    pub fn fetch_or(&self, bits: usize, order: Ordering) -> *mut T {
        self.modify(order, |p| with_addr(p, p as usize | bits))
    }

    /// Bitwise and on the address (keeping the provenance), returning the
    /// previous pointer.
    #[track_caller]
    pub fn fetch_and(&self, bits: usize, order: Ordering) -> *mut T {
        self.modify(order, |p| with_addr(p, p as usize & bits))
    }

    /// Bitwise xor on the address (keeping the provenance), returning the
    /// previous pointer.
    #[track_caller]
    pub fn fetch_xor(&self, bits: usize, order: Ordering) -> *mut T {
        self.modify(order, |p| with_addr(p, p as usize ^ bits))
    }
}

/// `p` moved to `address`, keeping its provenance (`with_addr` is newer
/// than the crate's minimum Rust).
fn with_addr<T>(p: *mut T, address: usize) -> *mut T {
    p.wrapping_byte_add(address.wrapping_sub(p as usize))
}

impl<T> Default for AtomicPtr<T> {
    #[track_caller]
    fn default() -> Self {
        Self::new(std::ptr::null_mut())
    }
}

impl<T> From<*mut T> for AtomicPtr<T> {
    #[track_caller]
    fn from(value: *mut T) -> Self {
        Self::new(value)
    }
}
