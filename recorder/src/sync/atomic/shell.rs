//! The methods every atomic shares, written once: each operation is one
//! `match mode::mode()` over the backends (passthrough inline). A type using
//! the macro has fields `order` (not under loom) and `inner`, and a
//! `history()` saying what replay hands back for a load.

/// `atomic_shell!([generics] Type, InnerType, Value)`.
macro_rules! atomic_shell {
    ([$($g:tt)*] $name:ty, $inner:ty, $t:ty) => {
        $crate::named::nameable!([$($g)*] $name, Atomic, |a| a.order.slot);

        impl<$($g)*> $name {
            /// Loads the value.
            #[track_caller]
            pub fn load(&self, order: Ordering) -> $t {
                match mode::mode() {
                    // Passthrough calls the inner atomic directly, so that
                    // under loom its panics point at the caller.
                    Mode::Off => self.inner.load(order),
                    #[cfg(not(reprise_loom))]
                    Mode::Record => record::load(&self.order, Location::caller(), || self.inner.load(order)),
                    #[cfg(not(reprise_loom))]
                    Mode::Gated => replay::load(&self.order, self.real(), Location::caller()),
                    #[cfg(not(reprise_loom))]
                    Mode::Coop => explore::load(&self.order, Location::caller(), || self.inner.load(order)),
                }
            }

            /// Stores a value.
            #[track_caller]
            pub fn store(&self, value: $t, order: Ordering) {
                #[cfg(not(reprise_loom))]
                let store = || self.inner.store(value, order);
                match mode::mode() {
                    Mode::Off => self.inner.store(value, order),
                    #[cfg(not(reprise_loom))]
                    Mode::Record => record::store(&self.order, Location::caller(), store),
                    #[cfg(not(reprise_loom))]
                    Mode::Gated => replay::store(&self.order, self.real(), Location::caller(), store),
                    #[cfg(not(reprise_loom))]
                    Mode::Coop => explore::store(&self.order, Location::caller(), store),
                }
            }

            /// The real atomic and what replay hands back for a load.
            #[cfg(not(reprise_loom))]
            fn real(&self) -> replay::Real<'_, impl History<$t>, impl Fn() -> $t + '_> {
                replay::Real { history: self.history(), current: || self.inner.load(Ordering::SeqCst) }
            }

            /// A read-modify-write: `op` on the inner atomic, returning the
            /// previous value.
            #[inline]
            #[track_caller]
            fn rmw(&self, op: impl Fn(&$inner) -> $t) -> $t {
                #[cfg(not(reprise_loom))]
                let rmw = || op(&self.inner);
                match mode::mode() {
                    Mode::Off => op(&self.inner),
                    #[cfg(not(reprise_loom))]
                    Mode::Record => record::rmw(&self.order, Location::caller(), rmw),
                    #[cfg(not(reprise_loom))]
                    Mode::Gated => replay::rmw(&self.order, self.real(), Location::caller(), rmw),
                    #[cfg(not(reprise_loom))]
                    Mode::Coop => explore::rmw(&self.order, Location::caller(), rmw),
                }
            }

            /// Swaps the value, returning the previous one.
            #[track_caller]
            pub fn swap(&self, value: $t, order: Ordering) -> $t {
                self.rmw(|a| a.swap(value, order))
            }

            /// A compare-exchange: `op` on the inner atomic, storing `new`
            /// when it succeeds.
            #[track_caller]
            #[cfg_attr(reprise_loom, allow(unused_variables))]
            fn cas(&self, new: $t, op: impl FnOnce(&$inner) -> Result<$t, $t>) -> Result<$t, $t> {
                match mode::mode() {
                    Mode::Off => op(&self.inner),
                    #[cfg(not(reprise_loom))]
                    Mode::Record => record::cas(&self.order, Location::caller(), || op(&self.inner)),
                    #[cfg(not(reprise_loom))]
                    Mode::Gated => replay::cas(
                        &self.order,
                        self.real(),
                        Location::caller(),
                        || self.inner.store(new, Ordering::SeqCst),
                        || op(&self.inner),
                    ),
                    #[cfg(not(reprise_loom))]
                    Mode::Coop => explore::cas(&self.order, Location::caller(), || op(&self.inner)),
                }
            }

            /// Stores `new` if the value is `current`. Like std's.
            ///
            /// # Errors
            ///
            /// The value seen, when it was not `current`.
            #[track_caller]
            pub fn compare_exchange(
                &self,
                current: $t,
                new: $t,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$t, $t> {
                self.cas(new, |a| a.compare_exchange(current, new, success, failure))
            }

            /// Like [`Self::compare_exchange`] but may fail spuriously; a
            /// recorded spurious failure replays as one.
            ///
            /// # Errors
            ///
            /// The value seen, when it was not `current` or the attempt failed.
            #[track_caller]
            pub fn compare_exchange_weak(
                &self,
                current: $t,
                new: $t,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$t, $t> {
                self.cas(new, |a| a.compare_exchange_weak(current, new, success, failure))
            }

            /// Stores `f(value)` until no other store came between, or `f`
            /// returns `None`. Like std's: a load, then one weak
            /// compare-exchange per attempt, each an event.
            ///
            /// # Errors
            ///
            /// The last value seen, when `f` returned `None`.
            #[track_caller]
            pub fn fetch_update<F: FnMut($t) -> Option<$t>>(
                &self,
                set_order: Ordering,
                fetch_order: Ordering,
                mut f: F,
            ) -> Result<$t, $t> {
                let mut previous = self.load(fetch_order);
                while let Some(next) = f(previous) {
                    match self.compare_exchange_weak(previous, next, set_order, fetch_order) {
                        Ok(value) => return Ok(value),
                        Err(value) => previous = value,
                    }
                }
                Err(previous)
            }

            /// [`Self::fetch_update`] with std's newer argument order.
            ///
            /// # Errors
            ///
            /// The last value seen, when `f` returned `None`.
            #[track_caller]
            pub fn try_update(
                &self,
                set_order: Ordering,
                fetch_order: Ordering,
                f: impl FnMut($t) -> Option<$t>,
            ) -> Result<$t, $t> {
                self.fetch_update(set_order, fetch_order, f)
            }

            /// Stores `f(value)` until no other store came between; returns
            /// the value replaced. Like std's.
            #[track_caller]
            pub fn update(&self, set_order: Ordering, fetch_order: Ordering, mut f: impl FnMut($t) -> $t) -> $t {
                let mut previous = self.load(fetch_order);
                loop {
                    match self.compare_exchange_weak(previous, f(previous), set_order, fetch_order) {
                        Ok(value) => return value,
                        Err(value) => previous = value,
                    }
                }
            }

            /// The value, through a unique borrow (no event).
            #[track_caller]
            pub fn get_mut(&mut self) -> &mut $t {
                self.forget_history();
                #[cfg(not(reprise_loom))]
                if mode::mode() == Mode::Gated {
                    replay::changed_without_event(&self.order);
                }
                self.inner.get_mut()
            }

            /// Consumes the atomic, returning the value.
            #[track_caller]
            pub fn into_inner(self) -> $t {
                self.inner.into_inner()
            }
        }

        impl<$($g)*> fmt::Debug for $name {
            /// The value (under loom, a `Relaxed` load: a loom operation, so
            /// only inside a model).
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.inner, f)
            }
        }
    };
}
