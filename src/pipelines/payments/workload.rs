//! The workload: opening balances and payments, generated deterministically from
//! the seed by a small PRNG of our own (splitmix64), plus routing and busy work.
//!
//! Everything here is a pure function of its arguments, so a captured payment can
//! be replayed without running the generator.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How many accounts the ledger holds (indices `0..ACCOUNTS`).
pub const ACCOUNTS: usize = 16;

/// Salts that give each use of the seed its own stream.
const OPENING: u64 = 0x6f70_656e_696e_6773;
const PAYMENT: u64 = 0x7061_796d_656e_7473;
const FUNDING: u64 = 0x6675_6e64_696e_6773;
const REDELIVERY: u64 = 0x7265_6465_6c69_7672;

/// One payment as it arrives from outside, identified by its idempotency key `id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Payment {
    /// The idempotency key: redeliveries carry the same id and must not be applied
    /// again.
    pub id: u64,
    /// The amount, with 2 decimal places; well-formed payments have a positive one.
    pub amount: Decimal,
    /// What the payment moves, and between which accounts.
    pub kind: PaymentKind,
}

/// What a [`Payment`] does. Accounts are indices below [`ACCOUNTS`] in well-formed
/// payments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PaymentKind {
    /// Moves `amount` from `from` to `to`; rejected (not applied) if it would
    /// overdraw `from`.
    Transfer {
        /// The account debited.
        from: u32,
        /// The account credited.
        to: u32,
    },
    /// Brings `amount` of outside money into `to`.
    Deposit {
        /// The account credited.
        to: u32,
    },
    /// Moves `amount` from `from` to `to`, paid for by the deposit into `from` that
    /// immediately precedes it (id `id - 1`); the ledger applies it without a funds
    /// check, relying on the deposit having been applied first.
    FundedTransfer {
        /// The account debited, funded by the preceding deposit.
        from: u32,
        /// The account credited.
        to: u32,
    },
}

impl Payment {
    /// Whether validation accepts the payment: a positive amount with at most 2
    /// decimal places, known accounts, and distinct source and destination.
    pub fn is_well_formed(&self) -> bool {
        let known = |account: u32| (account as usize) < ACCOUNTS;
        let accounts_ok = match self.kind {
            PaymentKind::Deposit { to } => known(to),
            PaymentKind::Transfer { from, to } | PaymentKind::FundedTransfer { from, to } => {
                known(from) && known(to) && from != to
            }
        };
        accounts_ok && self.amount > Decimal::ZERO && self.amount.scale() <= 2
    }

    /// The account whose ledger worker handles the payment: the debited account,
    /// or the credited one for a deposit. So all debits of an account are applied
    /// by one worker, in order, and a deposit reaches the same worker as the
    /// transfer it funds.
    pub(crate) fn home_account(&self) -> usize {
        match self.kind {
            PaymentKind::Deposit { to } => to as usize,
            PaymentKind::Transfer { from, .. } | PaymentKind::FundedTransfer { from, .. } => from as usize,
        }
    }
}

/// Generates payment number `n` (its id) of the run seeded with `seed`.
///
/// A pure function of its arguments. About 3% of payments are malformed (for
/// validation to drop), 7% are deposits, and one even `n` in ten starts a funding
/// pair: a large deposit into an account at `n`, then at `n + 1` a
/// [`PaymentKind::FundedTransfer`] of the same amount out of it.
///
/// # Examples
///
/// ```
/// use reprise::pipelines::payments::next_payment;
///
/// assert_eq!(next_payment(7, 3), next_payment(7, 3));
/// assert_eq!(next_payment(7, 3).id, 3);
/// ```
pub fn next_payment(seed: u64, n: u64) -> Payment {
    if n % 2 == 1 {
        if let Some(pair) = FundingPair::starting_at(seed, n - 1) {
            return Payment {
                id: n,
                amount: pair.amount,
                kind: PaymentKind::FundedTransfer { from: pair.account, to: pair.payee },
            };
        }
    } else if let Some(pair) = FundingPair::starting_at(seed, n) {
        return Payment { id: n, amount: pair.amount, kind: PaymentKind::Deposit { to: pair.account } };
    }
    let mut rng = SplitMix64::stream(seed, PAYMENT, n);
    let roll = rng.below(100);
    let from = rng.below(ACCOUNTS as u64) as u32;
    let to = (from + 1 + rng.below(ACCOUNTS as u64 - 1) as u32) % ACCOUNTS as u32;
    let amount = cents(100 + rng.below(40_000));
    let (amount, kind) = match roll {
        0 => (Decimal::ZERO, PaymentKind::Transfer { from, to }),
        1 => (amount, PaymentKind::Transfer { from, to: from }),
        2 => (amount, PaymentKind::Deposit { to: ACCOUNTS as u32 }),
        3..=9 => (cents(1_000 + rng.below(50_000)), PaymentKind::Deposit { to }),
        _ => (amount, PaymentKind::Transfer { from, to }),
    };
    Payment { id: n, amount, kind }
}

/// A deposit at an even `n` and the transfer it funds at `n + 1`.
struct FundingPair {
    account: u32,
    payee: u32,
    amount: Decimal,
}

impl FundingPair {
    fn starting_at(seed: u64, n: u64) -> Option<FundingPair> {
        let mut rng = SplitMix64::stream(seed, FUNDING, n);
        if rng.below(10) != 0 {
            return None;
        }
        let account = rng.below(ACCOUNTS as u64) as u32;
        let payee = (account + 1 + rng.below(ACCOUNTS as u64 - 1) as u32) % ACCOUNTS as u32;
        // Larger than most balances, so applying the transfer before its deposit
        // overdraws the account.
        let amount = cents(200_000 + rng.below(300_000));
        Some(FundingPair { account, payee, amount })
    }
}

/// The opening balance of every account: 200.00 to 2000.00 each.
pub(crate) fn opening_balances(seed: u64) -> Vec<Decimal> {
    (0..ACCOUNTS as u64)
        .map(|account| cents(20_000 + SplitMix64::stream(seed, OPENING, account).below(180_001)))
        .collect()
}

/// Whether validation delivers payment `id` a second time (one in eight), as an
/// at-least-once queue does.
pub(crate) fn redelivered(seed: u64, id: u64) -> bool {
    SplitMix64::stream(seed, REDELIVERY, id).below(8) == 0
}

/// Spins for roughly `work_ns` nanoseconds of arithmetic, without reading a clock,
/// and returns a value that depends on every step.
pub(crate) fn busy_work(work_ns: u64) -> u64 {
    let mut rng = SplitMix64::new(work_ns);
    let mut acc = 0u64;
    for _ in 0..work_ns.div_ceil(2) {
        acc ^= std::hint::black_box(rng.next_u64());
    }
    acc
}

fn cents(cents: u64) -> Decimal {
    Decimal::new(cents as i64, 2)
}

/// splitmix64 (Steele, Lea and Flood): tiny, fast, and the same on every platform.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// An independent stream for item `index` of the use named by `salt`.
    fn stream(seed: u64, salt: u64, index: u64) -> Self {
        let mut base = SplitMix64::new(seed ^ salt);
        let mixed = base.next_u64();
        SplitMix64::new(mixed ^ SplitMix64::new(index).next_u64())
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `bound` (the modulo bias is negligible for small bounds).
    fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }
}
