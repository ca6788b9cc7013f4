//! The workload: FX orders and published rates, generated deterministically from
//! the seed by splitmix64, so a run needs no input from outside.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The currencies, by index: USD is the settlement currency (index 0), the others
/// are bought and sold against it.
pub const CURRENCIES: [&str; 5] = ["USD", "EUR", "GBP", "JPY", "CHF"];

/// The index of USD in [`CURRENCIES`].
pub const USD: usize = 0;

/// How many parties trade (indices `0..PARTIES`).
pub const PARTIES: usize = 8;

/// The opening rates, in USD per unit with 4 decimal places (mantissas).
const OPENING_RATES: [i64; 5] = [1_0000, 1_0850, 1_2700, 67, 1_1300];

const ORDER: u64 = 0x6f72_6465_7273_2121;
const RATE: u64 = 0x7261_7465_7321_2121;
const REDELIVERY: u64 = 0x7265_6465_6c69_7672;

/// One FX order: `buyer` buys `amount` of `currency` from `seller` for USD at the
/// rate current when it is settled. Identified by `id`, its idempotency key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Order {
    /// The idempotency key: a redelivery carries the same id.
    pub id: u64,
    /// The index in [`CURRENCIES`] of what is bought; never [`USD`].
    pub currency: u8,
    /// The party receiving `amount` of `currency` and paying USD.
    pub buyer: u8,
    /// The party delivering `amount` of `currency` and receiving USD; not `buyer`.
    pub seller: u8,
    /// How much of `currency`, positive, 2 decimal places.
    pub amount: Decimal,
}

/// Generates order number `n` (its id) of the run seeded with `seed`: a pure
/// function of its arguments.
///
/// # Examples
///
/// ```
/// use reprise::pipelines::settlement::next_order;
///
/// let order = next_order(7, 3);
/// assert_eq!(order, next_order(7, 3));
/// assert_eq!(order.id, 3);
/// assert_ne!(order.buyer, order.seller);
/// ```
pub fn next_order(seed: u64, n: u64) -> Order {
    let mut rng = SplitMix64::stream(seed, ORDER, n);
    let currency = 1 + rng.below(CURRENCIES.len() as u64 - 1) as u8;
    let buyer = rng.below(PARTIES as u64) as u8;
    let seller = (buyer + 1 + rng.below(PARTIES as u64 - 1) as u8) % PARTIES as u8;
    let amount = Decimal::new(100 + rng.below(5_000_000) as i64, 2);
    Order { id: n, currency, buyer, seller, amount }
}

/// The rates of version `version` (1 is the opening table, each update adds one):
/// every currency's opening rate moved by up to 1% either way; USD is always 1.
pub(crate) fn rates(seed: u64, version: u64) -> Vec<Decimal> {
    OPENING_RATES
        .iter()
        .enumerate()
        .map(|(currency, &mantissa)| {
            if currency == USD || version <= 1 {
                return Decimal::new(mantissa, 4);
            }
            let mut rng = SplitMix64::stream(seed, RATE, version * CURRENCIES.len() as u64 + currency as u64);
            let spread = (mantissa / 100).max(1);
            let moved = mantissa - spread + rng.below(2 * spread as u64 + 1) as i64;
            Decimal::new(moved.max(1), 4)
        })
        .collect()
}

/// Whether intake delivers order `id` a second time (one in six), as an
/// at-least-once queue does.
pub(crate) fn redelivered(seed: u64, id: u64) -> bool {
    SplitMix64::stream(seed, REDELIVERY, id).below(6) == 0
}

/// splitmix64 (Steele, Lea and Flood): tiny, fast, and the same on every platform.
#[derive(Clone, Debug)]
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// An independent stream for item `index` of the use named by `salt`.
    fn stream(seed: u64, salt: u64, index: u64) -> Self {
        let mut base = SplitMix64 { state: seed ^ salt };
        let mixed = base.next_u64();
        SplitMix64 { state: mixed ^ SplitMix64 { state: index }.next_u64() }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }
}
