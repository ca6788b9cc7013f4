//! `AtomicPtr<T>`. Its value is an address, and addresses differ between
//! runs: the recording keeps the bits (for reports), but replay enforces
//! only which store a load read and hands back the address that store wrote
//! in this run ([`Addresses`]), so a replayed thread can dereference what it
//! loads. Nothing compares recorded with replayed addresses.

use std::fmt;
#[cfg(not(reprise_loom))]
use std::panic::Location;

#[cfg(not(reprise_loom))]
use super::history::{Addresses, History};
#[cfg(not(reprise_loom))]
use super::{explore, record, replay, Order};
use super::Ordering;
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

    /// Offsets the pointer by `count` elements of `T` (wrapping), returning
    /// the previous pointer.
    #[track_caller]
    pub fn fetch_ptr_add(&self, count: usize, order: Ordering) -> *mut T {
        self.rmw(|a| a.fetch_ptr_add(count, order))
    }

    /// Offsets the pointer back by `count` elements of `T` (wrapping),
    /// returning the previous pointer.
    #[track_caller]
    pub fn fetch_ptr_sub(&self, count: usize, order: Ordering) -> *mut T {
        self.rmw(|a| a.fetch_ptr_sub(count, order))
    }

    /// Offsets the pointer by `bytes` bytes (wrapping), returning the
    /// previous pointer.
    #[track_caller]
    pub fn fetch_byte_add(&self, bytes: usize, order: Ordering) -> *mut T {
        self.rmw(|a| a.fetch_byte_add(bytes, order))
    }

    /// Offsets the pointer back by `bytes` bytes (wrapping), returning the
    /// previous pointer.
    #[track_caller]
    pub fn fetch_byte_sub(&self, bytes: usize, order: Ordering) -> *mut T {
        self.rmw(|a| a.fetch_byte_sub(bytes, order))
    }

    /// Bitwise or on the address (keeping the provenance), returning the
    /// previous pointer.
    #[track_caller]
    pub fn fetch_or(&self, bits: usize, order: Ordering) -> *mut T {
        self.rmw(|a| a.fetch_or(bits, order))
    }

    /// Bitwise and on the address (keeping the provenance), returning the
    /// previous pointer.
    #[track_caller]
    pub fn fetch_and(&self, bits: usize, order: Ordering) -> *mut T {
        self.rmw(|a| a.fetch_and(bits, order))
    }

    /// Bitwise xor on the address (keeping the provenance), returning the
    /// previous pointer.
    #[track_caller]
    pub fn fetch_xor(&self, bits: usize, order: Ordering) -> *mut T {
        self.rmw(|a| a.fetch_xor(bits, order))
    }
}

impl<T> Default for AtomicPtr<T> {
    fn default() -> Self {
        Self::new(std::ptr::null_mut())
    }
}

impl<T> From<*mut T> for AtomicPtr<T> {
    fn from(value: *mut T) -> Self {
        Self::new(value)
    }
}
