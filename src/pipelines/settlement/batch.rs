//! The threads of the settlement batch, on reprise's primitives.

use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;

use super::outcome::{FinalState, Settlement, Volumes};
use super::workload::{next_order, rates, redelivered, CURRENCIES, PARTIES, USD};
use super::{Bug, ConfigError, Order, SettlementConfig, SettlementOutcome};
use crate::channel::{self, RecvTimeoutError};
use crate::sync::atomic::{AtomicU64, Ordering};
use crate::sync::{Condvar, Mutex, MutexGuard, RwLock};
use crate::thread;

/// Capacity of the order, redelivery and report channels.
const CAPACITY: usize = 64;

/// How many intake threads feed the shared order channel.
const PRODUCERS: u64 = 2;

/// How long the rate feed waits for the batch to close before it publishes the
/// next rate. Only paces the feed: replay returns a recorded timeout at once.
const RATE_TICK: Duration = Duration::from_micros(200);

/// How many heartbeat updates (no tick within [`RATE_TICK`]) the feed publishes
/// at most in a run.
const MAX_HEARTBEATS: u64 = 16;

/// Intake sends the rate feed a market tick once every this many orders.
const TICK_EVERY: u64 = 8;

/// Runs the settlement batch once and checks its invariants.
///
/// Spawns `rate-feed`, `intake-0`, `intake-1`, `settler-0` ..
/// `settler-{settlers - 1}` and `netting` from the calling thread, joins them
/// all, then checks the final state.
///
/// # Panics
///
/// If `config` is invalid (see [`SettlementConfig::validate`]; [`try_run`]
/// returns the error instead), or if a batch thread panics (its panic is
/// resumed).
///
/// # Examples
///
/// ```
/// use reprise::pipelines::settlement::{run, SettlementConfig};
///
/// let outcome = run(&SettlementConfig { orders: 50, ..SettlementConfig::default() });
/// assert_eq!(outcome.invariants_line(), "invariants: ok");
/// assert_eq!(outcome.settled, 50);
/// ```
pub fn run(config: &SettlementConfig) -> SettlementOutcome {
    try_run(config).unwrap_or_else(|error| panic!("invalid settlement config: {error}"))
}

/// Runs the settlement batch once, like [`run`], if `config` is valid.
///
/// # Errors
///
/// The [`ConfigError`] of [`SettlementConfig::validate`]; nothing is spawned then.
///
/// # Panics
///
/// If a batch thread panics (its panic is resumed).
pub fn try_run(config: &SettlementConfig) -> Result<SettlementOutcome, ConfigError> {
    config.validate()?;
    let SettlementConfig { orders, settlers, seed, bug } = *config;
    let book = Arc::new(Book::new(seed, orders, settlers));

    let (orders_tx, orders_rx) = channel::bounded::<Order>(CAPACITY);
    let (redeliveries_tx, redeliveries_rx) = channel::bounded::<Order>(CAPACITY);
    let (reports_tx, reports_rx) = channel::bounded::<Report>(CAPACITY);
    let (ticks_tx, ticks_rx) = channel::bounded::<()>(CAPACITY);

    let feed = {
        let book = Arc::clone(&book);
        spawn("rate-feed".to_owned(), move || rate_feed(&book, seed, &ticks_rx))
    };
    let intake: Vec<_> = (0..PRODUCERS)
        .map(|index| {
            let outputs = Outputs {
                orders: orders_tx.clone(),
                redeliveries: redeliveries_tx.clone(),
                ticks: ticks_tx.clone(),
            };
            spawn(format!("intake-{index}"), move || intake(seed, orders, index, &outputs))
        })
        .collect();
    drop((orders_tx, redeliveries_tx, ticks_tx));
    let workers: Vec<_> = (0..settlers)
        .map(|index| {
            let book = Arc::clone(&book);
            let inbox = Inbox { orders: orders_rx.clone(), redeliveries: redeliveries_rx.clone() };
            let reports = reports_tx.clone();
            spawn(format!("settler-{index}"), move || settler(&book, inbox, &reports, bug))
        })
        .collect();
    drop((orders_rx, redeliveries_rx, reports_tx));
    let netting = spawn("netting".to_owned(), move || netting(&reports_rx));

    let mut duplicates = 0;
    for handle in intake {
        join(handle);
    }
    for handle in workers {
        duplicates += join(handle);
    }
    let netted = join(netting);
    join(feed);

    let positions = book.positions.iter().map(|parties| lock(parties).clone()).collect();
    let journal = std::mem::take(&mut *lock(&book.journal));
    let rate_version = read(&book.rates).version;
    let closing = lock(&book.closing).take();
    let state = FinalState { orders, positions, closing, journal, netting: netted, duplicates, rate_version };
    Ok(state.into_outcome())
}

/// The state the batch's threads share.
struct Book {
    /// The published rates; the feed writes, the settlers read.
    rates: RwLock<RateTable>,
    /// Set once the opening rates are published; settlers wait for it.
    open: Mutex<bool>,
    opened: Condvar,
    /// How many settlers have drained their inputs; the batch closes at all.
    arrived: Mutex<usize>,
    /// The positions when the batch closed, taken by the last settler to arrive
    /// at the closing barrier, while the others wait there.
    closing: Mutex<Option<Vec<Vec<Decimal>>>>,
    all_arrived: Condvar,
    settlers: usize,
    /// One claim bit per order, 64 orders a word, set by compare-exchange: the
    /// idempotency record that absorbs redeliveries without a lock.
    claims: Vec<AtomicU64>,
    /// `positions[currency]`: every party's net position in that currency.
    positions: Vec<Mutex<Vec<Decimal>>>,
    journal: Mutex<Vec<Settlement>>,
}

impl Book {
    fn new(seed: u64, orders: u64, settlers: usize) -> Book {
        let words = usize::try_from(orders.div_ceil(64)).expect("orders are bounded by MAX_ORDERS");
        Book {
            rates: RwLock::new(RateTable { version: 1, rates: rates(seed, 1) }),
            open: Mutex::new(false),
            opened: Condvar::new(),
            arrived: Mutex::new(0),
            closing: Mutex::new(None),
            all_arrived: Condvar::new(),
            settlers,
            claims: (0..words).map(|_| AtomicU64::new(0)).collect(),
            positions: (0..CURRENCIES.len()).map(|_| Mutex::new(vec![Decimal::ZERO; PARTIES])).collect(),
            journal: Mutex::new(Vec::new()),
        }
    }

    /// Claims `order` for settlement: true for the first claim only.
    fn claim(&self, order: u64) -> bool {
        let (word, bit) = self.claim_slot(order);
        let mut seen = word.load(Ordering::Acquire);
        loop {
            if seen & bit != 0 {
                return false;
            }
            match word.compare_exchange(seen, seen | bit, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return true,
                Err(now) => seen = now,
            }
        }
    }

    fn is_claimed(&self, order: u64) -> bool {
        let (word, bit) = self.claim_slot(order);
        word.load(Ordering::Acquire) & bit != 0
    }

    fn claim_slot(&self, order: u64) -> (&AtomicU64, u64) {
        let word = usize::try_from(order / 64).ok().and_then(|w| self.claims.get(w));
        (word.expect("every order id is below `orders`"), 1 << (order % 64))
    }

    /// Waits at the closing barrier until every settler arrived; the last one
    /// takes the closing positions and releases the others.
    fn arrive_and_wait(&self) {
        let mut arrived = lock(&self.arrived);
        *arrived += 1;
        if *arrived == self.settlers {
            let positions = self.positions.iter().map(|parties| lock(parties).clone()).collect();
            *lock(&self.closing) = Some(positions);
            self.all_arrived.notify_all();
            return;
        }
        let settlers = self.settlers;
        let _all = self
            .all_arrived
            .wait_while(arrived, |arrived| *arrived < settlers)
            .expect("a settler panicked at the barrier");
    }
}

/// The rate table: USD per unit of each currency, and its version.
struct RateTable {
    version: u64,
    rates: Vec<Decimal>,
}

/// What a settler tells the netting thread about one settlement.
struct Report {
    currency: u8,
    amount: Decimal,
    usd: Decimal,
}

/// An intake thread's senders: fresh orders and redeliveries go on two MPMC
/// channels that every settler reads; market ticks go to the rate feed.
struct Outputs {
    orders: channel::Sender<Order>,
    redeliveries: channel::Sender<Order>,
    ticks: channel::Sender<()>,
}

/// A settler's receivers.
struct Inbox {
    orders: channel::Receiver<Order>,
    redeliveries: channel::Receiver<Order>,
}

/// Publishes the opening rates, opens the batch, then publishes an update on
/// every market tick from intake, and a heartbeat update when no tick came
/// within [`RATE_TICK`], until intake is done.
fn rate_feed(book: &Book, seed: u64, ticks: &channel::Receiver<()>) {
    *lock(&book.open) = true;
    book.opened.notify_all();
    let mut heartbeats = 0;
    loop {
        match ticks.recv_timeout(RATE_TICK) {
            Ok(()) => {}
            // Bounded, so a quiet market cannot make the rate table churn forever.
            Err(RecvTimeoutError::Timeout) if heartbeats < MAX_HEARTBEATS => heartbeats += 1,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let mut table = book.rates.write().expect("a settler panicked while pricing");
        table.version += 1;
        table.rates = rates(seed, table.version);
    }
}

/// Generates the orders whose id is `index` modulo the number of producers,
/// redelivers some of them (at-least-once delivery), and sends a market tick
/// every [`TICK_EVERY`] orders.
fn intake(seed: u64, orders: u64, index: u64, outputs: &Outputs) {
    for n in (index..orders).step_by(PRODUCERS as usize) {
        let order = next_order(seed, n);
        outputs.orders.send(order).expect("every settler hung up");
        if redelivered(seed, n) {
            outputs.redeliveries.send(order).expect("every settler hung up");
        }
        if n % TICK_EVERY == index {
            outputs.ticks.send(()).expect("the rate feed hung up");
        }
    }
}

/// Settles orders from both channels until both are drained, then waits for the
/// other settlers at the closing barrier; returns how many duplicate deliveries
/// it dropped.
fn settler(book: &Book, inbox: Inbox, reports: &channel::Sender<Report>, bug: Bug) -> u64 {
    let open = lock(&book.open);
    drop(book.opened.wait_while(open, |open| !*open).expect("the rate feed panicked"));
    let (mut orders_open, mut redeliveries_open) = (true, true);
    let mut duplicates = 0;
    while orders_open || redeliveries_open {
        let (arm, received) = match (orders_open, redeliveries_open) {
            (true, true) => channel::select(&[&inbox.orders, &inbox.redeliveries]),
            (true, false) => (0, inbox.orders.recv()),
            _ => (1, inbox.redeliveries.recv()),
        };
        match received {
            Ok(order) => match settle(book, &order, bug) {
                Some(report) => reports.send(report).expect("the netting thread hung up"),
                None => duplicates += 1,
            },
            Err(_) if arm == 0 => orders_open = false,
            Err(_) => redeliveries_open = false,
        }
    }
    book.arrive_and_wait();
    duplicates
}

/// Settles one delivery of `order` unless it was already claimed; returns the
/// netting report, or `None` for a duplicate.
fn settle(book: &Book, order: &Order, bug: Bug) -> Option<Report> {
    if bug == Bug::DoubleSettle {
        // BUG(double-settle): check, settle, then claim: a settler holding the
        // redelivery can pass the check while another settles the original.
        if book.is_claimed(order.id) {
            return None;
        }
        thread::yield_now(); // the limit check runs here
    } else if !book.claim(order.id) {
        return None;
    }
    let currency = usize::from(order.currency);
    let table = read(&book.rates);
    let priced_at = table.version;
    let usd = (order.amount * table.rates[currency]).round_dp(2);
    // Correctly, the read guard is held until the commit, so no update can land
    // between pricing and settling.
    let table = if bug == Bug::StaleRate {
        // BUG(stale-rate): the guard is dropped while the order is priced, and the
        // commit takes the table again: a rate published in between is missed.
        drop(table);
        thread::yield_now();
        None
    } else {
        Some(table)
    };
    {
        // USD first, then the bought currency (never USD): one global order.
        let mut usd_positions = lock(&book.positions[USD]);
        let mut positions = lock(&book.positions[currency]);
        usd_positions[usize::from(order.buyer)] -= usd;
        usd_positions[usize::from(order.seller)] += usd;
        positions[usize::from(order.buyer)] += order.amount;
        positions[usize::from(order.seller)] -= order.amount;
    }
    let committed_at = match table {
        Some(table) => table.version,
        None => read(&book.rates).version,
    };
    if bug == Bug::DoubleSettle {
        book.claim(order.id);
    }
    lock(&book.journal).push(Settlement {
        order: order.id,
        currency: order.currency,
        amount: order.amount,
        usd,
        priced_at,
        committed_at,
    });
    Some(Report { currency: order.currency, amount: order.amount, usd })
}

/// Totals the settlements the settlers report.
fn netting(reports: &channel::Receiver<Report>) -> Volumes {
    let mut volumes = Volumes::default();
    while let Ok(report) = reports.recv() {
        volumes.add(report.currency, report.amount, report.usd);
    }
    volumes
}

fn spawn<T, F>(name: String, body: F) -> thread::JoinHandle<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    thread::Builder::new().name(name).spawn(body).expect("failed to spawn a batch thread")
}

/// Joins a batch thread, resuming its panic if it had one.
fn join<T>(handle: thread::JoinHandle<T>) -> T {
    handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().expect("a batch thread panicked while holding a lock")
}

fn read(rates: &RwLock<RateTable>) -> crate::sync::RwLockReadGuard<'_, RateTable> {
    rates.read().expect("the rate feed panicked while publishing")
}
