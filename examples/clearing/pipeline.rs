//! A clearing pipeline. `std_pipeline.rs` is written against std and
//! crossbeam-channel, as a team would have it before reprise; `pipeline.rs`
//! is its port to reprise. The two files differ only in their imports
//! (`tests/port.rs` checks it).
//!
//! An intake thread feeds debit orders to clearing workers, which `select!`
//! over the orders and a control channel of another type (limit changes from
//! a supervisor). The balances sit behind an `RwLock`, settlement ids come
//! from a compare-and-swap loop, workers start together at a `Barrier`, an
//! auditor polls its report channel with `recv_timeout`, and the coordinator
//! waits on a `Condvar` for every worker's hand-off before closing the day.
//!
//! `Config::seeded_bug` checks the balance under the read lock and debits
//! under a later write lock: two workers can both pass the check, and an
//! account is overdrawn. The explorer finds it; the clean version holds.

use reprise::channel::{bounded, never, select, unbounded, Receiver, RecvTimeoutError, Sender};
use reprise::sync::atomic::{AtomicU64, Ordering};
use reprise::sync::{Arc, Barrier, Condvar, Mutex, RwLock};
use reprise::thread;
use reprise::time::Duration;

/// How a run is shaped.
#[derive(Clone, Debug)]
pub struct Config {
    /// Clearing workers.
    pub workers: usize,
    /// Debit orders the intake sends.
    pub orders: u64,
    /// Accounts the orders debit.
    pub accounts: usize,
    /// Each account's opening balance, in cents.
    pub opening_cents: i64,
    /// Check and debit under two locks (the bug), instead of one.
    pub seeded_bug: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config { workers: 3, orders: 60, accounts: 4, opening_cents: 5_000, seeded_bug: false }
    }
}

impl Config {
    /// The command line's shape: the first number is the workers, the
    /// second the orders, `--seeded-bug` turns the bug on; the rest default.
    pub fn from_args(args: &[String]) -> Config {
        let number =
            |i: usize| args.iter().filter(|a| !a.starts_with("--")).nth(i).and_then(|a| a.parse().ok());
        let defaults = Config::default();
        Config {
            workers: number(0).unwrap_or(defaults.workers as u64) as usize,
            orders: number(1).unwrap_or(defaults.orders),
            seeded_bug: args.iter().any(|a| a == "--seeded-bug"),
            ..defaults
        }
    }
}

/// A debit order.
#[derive(Clone, Debug)]
struct Order {
    id: u64,
    account: usize,
    cents: i64,
}

/// What the supervisor tells workers.
#[derive(Debug)]
enum Control {
    /// From now on no single debit on `account` may exceed `cents`.
    Limit { account: usize, cents: i64 },
}

/// One settled or rejected order, for the auditor.
#[derive(Debug)]
struct Report {
    settlement: u64,
    order: u64,
    cents: i64,
}

/// The state workers share.
struct Ledger {
    balances: RwLock<Vec<i64>>,
    limits: RwLock<Vec<i64>>,
    next_settlement: AtomicU64,
    seeded_bug: bool,
}

/// The day's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Orders settled.
    pub settled: u64,
    /// Orders rejected (funds or limit).
    pub rejected: u64,
    /// Closing balances, in cents.
    pub balances: Vec<i64>,
    /// Cents the auditor saw debited.
    pub audited_cents: i64,
    /// The order ids in the order the auditor received their reports.
    pub audit_order: Vec<u64>,
    /// Times the auditor's `recv_timeout` found nothing.
    pub idle_polls: u64,
}

/// Runs one clearing day.
///
/// # Panics
///
/// When an account ends overdrawn or the cents do not add up: the
/// invariants of a clearing day.
pub fn run(config: &Config) -> Summary {
    let ledger = Arc::new(Ledger {
        balances: RwLock::new(vec![config.opening_cents; config.accounts]),
        limits: RwLock::new(vec![i64::MAX; config.accounts]),
        next_settlement: AtomicU64::new(0),
        seeded_bug: config.seeded_bug,
    });
    let (order_tx, order_rx) = bounded::<Order>(4);
    let (control_tx, control_rx) = unbounded::<Control>();
    let (report_tx, report_rx) = unbounded::<(bool, Report)>();
    let start = Arc::new(Barrier::new(config.workers + 1));
    let handed_off = Arc::new((Mutex::new(0usize), Condvar::new()));

    let workers: Vec<_> = (0..config.workers)
        .map(|w| {
            let (ledger, order_rx, control_rx, report_tx) =
                (Arc::clone(&ledger), order_rx.clone(), control_rx.clone(), report_tx.clone());
            let (start, handed_off) = (Arc::clone(&start), Arc::clone(&handed_off));
            thread::Builder::new()
                .name(format!("clearing-{w}"))
                .spawn(move || {
                    start.wait();
                    work(&ledger, &order_rx, control_rx, &report_tx);
                    let (done, all_done) = &*handed_off;
                    *done.lock().unwrap() += 1;
                    all_done.notify_all();
                })
                .unwrap()
        })
        .collect();
    drop((order_rx, control_rx, report_tx));

    let auditor =
        thread::Builder::new().name("auditor".to_string()).spawn(move || audit(&report_rx)).unwrap();
    let accounts = config.accounts;
    let supervisor = thread::spawn(move || {
        for account in 0..accounts {
            // The workers may all be done already: a limit nobody is left
            // to apply is no error (the explorer found this schedule).
            if control_tx.send(Control::Limit { account, cents: 1_500 }).is_err() {
                break;
            }
        }
    });
    let orders = config.orders;
    let intake = thread::spawn(move || {
        // A fixed sequence: the run's variety comes from the schedule.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for id in 0..orders {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let account = (state % accounts as u64) as usize;
            let cents = 500 + (state >> 32) as i64 % 1_500;
            order_tx.send(Order { id, account, cents }).unwrap();
        }
    });

    start.wait();
    intake.join().unwrap();
    supervisor.join().unwrap();
    {
        let (done, all_done) = &*handed_off;
        let mut done = done.lock().unwrap();
        while *done < config.workers {
            done = all_done.wait(done).unwrap();
        }
    }
    for worker in workers {
        worker.join().unwrap();
    }
    let (settled, rejected, audited_cents, audit_order, idle_polls) = auditor.join().unwrap();

    let balances = ledger.balances.read().unwrap().clone();
    let opening = config.opening_cents * config.accounts as i64;
    assert!(balances.iter().all(|&b| b >= 0), "an account was overdrawn: {balances:?}");
    assert_eq!(opening - balances.iter().sum::<i64>(), audited_cents, "the cents do not add up");
    assert_eq!(ledger.next_settlement.load(Ordering::SeqCst), settled + rejected);
    Summary { settled, rejected, balances, audited_cents, audit_order, idle_polls }
}

/// A worker's loop: orders until the intake is done, limits until the
/// supervisor is.
fn work(
    ledger: &Ledger,
    orders: &Receiver<Order>,
    control: Receiver<Control>,
    reports: &Sender<(bool, Report)>,
) {
    let mut control = Some(control);
    let idle = never();
    loop {
        select! {
            recv(orders) -> order => match order {
                Ok(order) => {
                    let settled = settle(ledger, &order);
                    let settlement = next_settlement(&ledger.next_settlement);
                    let report = Report { settlement, order: order.id, cents: order.cents };
                    reports.send((settled, report)).unwrap();
                }
                Err(_) => return,
            },
            recv(control.as_ref().unwrap_or(&idle)) -> message => match message {
                Ok(Control::Limit { account, cents }) => ledger.limits.write().unwrap()[account] = cents,
                // The supervisor is done: stop selecting on its channel.
                Err(_) => control = None,
            },
        }
    }
}

/// Debits the order if the funds and the limit allow; whether it did.
fn settle(ledger: &Ledger, order: &Order) -> bool {
    let limit = ledger.limits.read().unwrap()[order.account];
    if order.cents > limit {
        return false;
    }
    if ledger.seeded_bug {
        let funded = ledger.balances.read().unwrap()[order.account] >= order.cents;
        if funded {
            ledger.balances.write().unwrap()[order.account] -= order.cents;
        }
        return funded;
    }
    let mut balances = ledger.balances.write().unwrap();
    let funded = balances[order.account] >= order.cents;
    if funded {
        balances[order.account] -= order.cents;
    }
    funded
}

/// The next settlement id, by compare-and-swap.
fn next_settlement(counter: &AtomicU64) -> u64 {
    let mut current = counter.load(Ordering::Acquire);
    loop {
        match counter.compare_exchange_weak(current, current + 1, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return current + 1,
            Err(seen) => current = seen,
        }
    }
}

/// The auditor: every report, polled with a timeout until the workers are
/// gone. Settled and rejected counts, cents settled, report order, idle polls.
fn audit(reports: &Receiver<(bool, Report)>) -> (u64, u64, i64, Vec<u64>, u64) {
    let (mut settled, mut rejected, mut cents, mut order, mut idle) = (0, 0, 0, Vec::new(), 0);
    let mut last_settlement = Vec::new();
    loop {
        match reports.recv_timeout(Duration::from_millis(20)) {
            Ok((ok, report)) => {
                if ok {
                    settled += 1;
                    cents += report.cents;
                } else {
                    rejected += 1;
                }
                order.push(report.order);
                last_settlement.push(report.settlement);
            }
            Err(RecvTimeoutError::Timeout) => idle += 1,
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    last_settlement.sort_unstable();
    last_settlement.dedup();
    assert_eq!(last_settlement.len(), order.len(), "a settlement id was handed out twice");
    (settled, rejected, cents, order, idle)
}
