//! An account's balance cell: [`crate::Tracked`] when the run asks for it
//! (every read and write recorded, for `reprise races`), a plain cell
//! otherwise; the raw twin always has the plain one, so benchmarks compare
//! like with like. Both are only touched under the account's lock.

use std::cell::Cell;

use rust_decimal::Decimal;

/// The instrumented pipeline's balance.
pub(super) enum Balance {
    Plain(Cell<Decimal>),
    Tracked(crate::Tracked<Decimal>),
}

impl Balance {
    pub(super) fn new(value: Decimal, tracked: bool) -> Balance {
        if tracked {
            Balance::Tracked(crate::Tracked::new(value))
        } else {
            Balance::Plain(Cell::new(value))
        }
    }

    // The caller's line is the access's call site in the trace.
    #[track_caller]
    pub(super) fn get(&self) -> Decimal {
        match self {
            Balance::Plain(cell) => cell.get(),
            Balance::Tracked(cell) => cell.get(),
        }
    }

    #[track_caller]
    pub(super) fn set(&self, value: Decimal) {
        match self {
            Balance::Plain(cell) => cell.set(value),
            Balance::Tracked(cell) => cell.set(value),
        }
    }
}

/// The raw twin's balance: a plain cell with the same methods.
pub(super) struct PlainBalance(Cell<Decimal>);

impl PlainBalance {
    pub(super) fn new(value: Decimal, _tracked: bool) -> PlainBalance {
        PlainBalance(Cell::new(value))
    }

    pub(super) fn get(&self) -> Decimal {
        self.0.get()
    }

    pub(super) fn set(&self, value: Decimal) {
        self.0.set(value);
    }
}
