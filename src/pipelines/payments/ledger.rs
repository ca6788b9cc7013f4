//! The ledger's plain data, shared by both builds of the pipeline: the lock order,
//! the journal of outcomes, the final state, its invariant checks and its digest.

use rust_decimal::Decimal;

use super::outcome::{PaymentsOutcome, CONSERVATION, EXACTLY_ONCE, NO_OVERDRAFT, RECONCILER_MATCHES_LEDGER};
use super::{Bug, Payment, PaymentKind};

/// The order in which a transfer from `from` to `to` locks the two accounts.
///
/// Correctly, one global order (the lower index first), so two transfers can never
/// each hold the lock the other waits for. With [`Bug::Deadlock`], source then
/// destination: A->B and B->A on two workers can deadlock.
pub(crate) fn lock_order(from: usize, to: usize, bug: Bug) -> (usize, usize) {
    if bug == Bug::Deadlock || from < to {
        (from, to)
    } else {
        (to, from)
    }
}

/// The count and volume of applied payments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) count: u64,
    pub(crate) volume: Decimal,
}

impl Totals {
    pub(crate) fn add(&mut self, amount: Decimal) {
        self.count += 1;
        self.volume += amount;
    }
}

/// One outcome the ledger decided for one delivery of a payment.
#[derive(Clone, Copy, Debug)]
struct Entry {
    id: u64,
    amount: Decimal,
    deposit: bool,
    applied: bool,
}

/// Every outcome the ledger decided, in the order the workers recorded them.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    entries: Vec<Entry>,
    /// Debits that left their account below zero, seen while applying them (a
    /// transient overdraft leaves no trace in the final balances).
    overdrafts: u64,
}

impl Journal {
    /// Records that `payment` was applied (`overdrawn` if its debit left the source
    /// below zero) or rejected.
    pub(crate) fn record(&mut self, payment: &Payment, applied: bool, overdrawn: bool) {
        self.entries.push(Entry {
            id: payment.id,
            amount: payment.amount,
            deposit: matches!(payment.kind, PaymentKind::Deposit { .. }),
            applied,
        });
        self.overdrafts += u64::from(overdrawn);
    }

    fn applied(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|entry| entry.applied)
    }

    fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        for entry in self.applied() {
            totals.add(entry.amount);
        }
        totals
    }
}

/// Everything the pipeline leaves behind once all its threads have been joined.
#[derive(Debug)]
pub(crate) struct FinalState {
    pub(crate) opening: Vec<Decimal>,
    pub(crate) balances: Vec<Decimal>,
    pub(crate) journal: Journal,
    /// The ids validation accepted, each once, in increasing order.
    pub(crate) accepted: Vec<u64>,
    /// How many payments validation dropped as malformed.
    pub(crate) malformed: u64,
    pub(crate) reconciler: Totals,
}

impl FinalState {
    /// The names of the invariants the final state breaks, in a fixed order.
    pub(crate) fn violations(&self) -> Vec<&'static str> {
        let mut violations = Vec::new();
        let deposited: Decimal =
            self.journal.applied().filter(|entry| entry.deposit).map(|entry| entry.amount).sum();
        let opening: Decimal = self.opening.iter().sum();
        let closing: Decimal = self.balances.iter().sum();
        if closing != opening + deposited {
            violations.push(CONSERVATION);
        }
        if self.journal.overdrafts > 0 || self.balances.iter().any(|b| *b < Decimal::ZERO) {
            violations.push(NO_OVERDRAFT);
        }
        // One outcome per accepted payment: none missing, none twice, none unknown.
        let mut decided: Vec<u64> = self.journal.entries.iter().map(|e| e.id).collect();
        decided.sort_unstable();
        if decided != self.accepted {
            violations.push(EXACTLY_ONCE);
        }
        if self.reconciler != self.journal.totals() {
            violations.push(RECONCILER_MATCHES_LEDGER);
        }
        violations
    }

    /// FNV-1a 64 of the balances, the sorted applied payment ids (duplicates kept)
    /// and the reconciler's totals, as 16 hex digits.
    pub(crate) fn digest(&self) -> String {
        let mut hash = Fnv1a64::new();
        hash.write_u64(self.balances.len() as u64);
        for balance in &self.balances {
            hash.write_i128(cents(*balance));
        }
        let mut applied: Vec<u64> = self.journal.applied().map(|e| e.id).collect();
        applied.sort_unstable();
        hash.write_u64(applied.len() as u64);
        for id in applied {
            hash.write_u64(id);
        }
        hash.write_u64(self.reconciler.count);
        hash.write_i128(cents(self.reconciler.volume));
        format!("{:016x}", hash.finish())
    }

    pub(crate) fn into_outcome(self) -> PaymentsOutcome {
        let applied = self.journal.applied().count() as u64;
        let rejected = self.journal.entries.len() as u64 - applied;
        PaymentsOutcome {
            digest: self.digest(),
            violations: self.violations(),
            applied,
            rejected: rejected + self.malformed,
        }
    }
}

/// An amount as a whole number of cents, whatever scale the `Decimal` carries.
fn cents(amount: Decimal) -> i128 {
    let mut amount = amount;
    amount.rescale(2);
    amount.mantissa()
}

/// FNV-1a, 64 bits: fixed constants, so the digest is the same in every process.
struct Fnv1a64(u64);

impl Fnv1a64 {
    fn new() -> Self {
        Fnv1a64(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.write(&value.to_le_bytes());
    }

    fn write_i128(&mut self, value: i128) {
        self.write(&value.to_le_bytes());
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
