//! What a run of the settlement batch leaves behind, its invariant checks and its
//! digest: plain data, so the checks can be tested on hand-made states.

use rust_decimal::Decimal;

use super::workload::CURRENCIES;

/// Invariant: every order is settled exactly once, however often it was delivered.
pub const EXACTLY_ONCE: &str = "exactly-once";
/// Invariant: in every currency, the parties' net positions sum to zero, and the
/// positions the closing barrier saw are the final ones (nothing settled after
/// the batch closed).
pub const NET_ZERO: &str = "net-zero";
/// Invariant: every settlement is committed at the rate table version it was
/// priced at, so no order settles at a rate that was already replaced.
pub const NO_STALE_RATE: &str = "no-stale-rate";
/// Invariant: the netting thread's per-currency volumes equal the journal's.
pub const NETTING_MATCHES_JOURNAL: &str = "netting-matches-journal";

/// Every invariant, in the order [`SettlementOutcome::violations`] lists them.
pub const INVARIANTS: [&str; 4] = [EXACTLY_ONCE, NET_ZERO, NO_STALE_RATE, NETTING_MATCHES_JOURNAL];

/// One settlement as a settler journaled it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Settlement {
    pub(crate) order: u64,
    pub(crate) currency: u8,
    pub(crate) amount: Decimal,
    pub(crate) usd: Decimal,
    /// The rate table version the order was priced at.
    pub(crate) priced_at: u64,
    /// The rate table version current when the settlement was committed.
    pub(crate) committed_at: u64,
}

/// Per-currency volumes of settled orders: the amount of each currency bought,
/// and the USD paid for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Volumes {
    pub(crate) bought: Vec<Decimal>,
    pub(crate) paid: Vec<Decimal>,
    pub(crate) count: u64,
}

impl Default for Volumes {
    fn default() -> Self {
        Volumes {
            bought: vec![Decimal::ZERO; CURRENCIES.len()],
            paid: vec![Decimal::ZERO; CURRENCIES.len()],
            count: 0,
        }
    }
}

impl Volumes {
    pub(crate) fn add(&mut self, currency: u8, amount: Decimal, usd: Decimal) {
        self.bought[usize::from(currency)] += amount;
        self.paid[usize::from(currency)] += usd;
        self.count += 1;
    }
}

/// Everything a finished run left, for the checks and the digest.
#[derive(Debug)]
pub(crate) struct FinalState {
    pub(crate) orders: u64,
    /// `positions[currency][party]`.
    pub(crate) positions: Vec<Vec<Decimal>>,
    /// The positions the last settler at the closing barrier saw; `None` if the
    /// barrier never completed.
    pub(crate) closing: Option<Vec<Vec<Decimal>>>,
    pub(crate) journal: Vec<Settlement>,
    pub(crate) netting: Volumes,
    /// Deliveries the settlers recognized as already settled.
    pub(crate) duplicates: u64,
    /// The rate table's last version.
    pub(crate) rate_version: u64,
}

impl FinalState {
    /// The names of the broken invariants, in [`INVARIANTS`] order.
    pub(crate) fn violations(&self) -> Vec<&'static str> {
        let mut violations = Vec::new();
        let mut ids: Vec<u64> = self.journal.iter().map(|s| s.order).collect();
        ids.sort_unstable();
        let once = ids.len() as u64 == self.orders && ids.iter().zip(0..).all(|(&id, n)| id == n);
        if !once {
            violations.push(EXACTLY_ONCE);
        }
        let unbalanced = |positions: &Vec<Vec<Decimal>>| {
            positions.iter().any(|parties| parties.iter().sum::<Decimal>() != Decimal::ZERO)
        };
        // The closing snapshot must be the final state: no settlement after close.
        let closed = self.closing.as_ref().is_some_and(|closing| *closing == self.positions);
        if unbalanced(&self.positions) || !closed {
            violations.push(NET_ZERO);
        }
        if self.journal.iter().any(|s| s.priced_at != s.committed_at) {
            violations.push(NO_STALE_RATE);
        }
        let mut journaled = Volumes::default();
        for s in &self.journal {
            journaled.add(s.currency, s.amount, s.usd);
        }
        if journaled != self.netting {
            violations.push(NETTING_MATCHES_JOURNAL);
        }
        violations
    }

    /// 16 hex digits of FNV-1a 64 over the positions, the journal in order id
    /// order, the netting totals and the last rate version.
    pub(crate) fn digest(&self) -> String {
        let mut fnv = Fnv::default();
        for parties in &self.positions {
            for position in parties {
                fnv.write(position.to_string().as_bytes());
            }
        }
        let mut journal = self.journal.clone();
        journal.sort_by_key(|s| (s.order, s.priced_at, s.committed_at));
        for s in &journal {
            fnv.write(&s.order.to_le_bytes());
            fnv.write(&s.priced_at.to_le_bytes());
            fnv.write(&s.committed_at.to_le_bytes());
            fnv.write(s.usd.to_string().as_bytes());
        }
        for (bought, paid) in self.netting.bought.iter().zip(&self.netting.paid) {
            fnv.write(bought.to_string().as_bytes());
            fnv.write(paid.to_string().as_bytes());
        }
        fnv.write(&self.netting.count.to_le_bytes());
        fnv.write(&self.rate_version.to_le_bytes());
        format!("{:016x}", fnv.0)
    }

    pub(crate) fn into_outcome(self) -> SettlementOutcome {
        SettlementOutcome {
            digest: self.digest(),
            violations: self.violations(),
            settled: self.journal.len() as u64,
            duplicates: self.duplicates,
            rate_version: self.rate_version,
        }
    }
}

/// FNV-1a 64: stable across platforms and releases, unlike std's hasher.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // A separator, so ("1", "23") and ("12", "3") differ.
        self.0 ^= 0xff;
        self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
    }
}

/// The result of one run of the settlement batch.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SettlementOutcome {
    /// 16 hex digits of FNV-1a 64 over the final positions, the journal, the
    /// netting totals and the last rate version: equal digests, equal final state.
    pub digest: String,
    /// The names of the broken invariants (see [`INVARIANTS`]), empty if none.
    pub violations: Vec<&'static str>,
    /// How many settlements were journaled (a double settlement counts twice).
    pub settled: u64,
    /// How many redeliveries the settlers recognized and dropped.
    pub duplicates: u64,
    /// The version of the rate table when the batch closed (1 is the opening one).
    pub rate_version: u64,
}

impl SettlementOutcome {
    /// Whether every invariant holds.
    pub fn is_ok(&self) -> bool {
        self.violations.is_empty()
    }

    /// `invariants: ok`, or `invariants: violated: ` and the broken invariants'
    /// names separated by `, `.
    pub fn invariants_line(&self) -> String {
        if self.is_ok() {
            "invariants: ok".to_owned()
        } else {
            format!("invariants: violated: {}", self.violations.join(", "))
        }
    }
}
