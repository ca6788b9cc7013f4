// The threads of the payments pipeline, written once and included twice by
// `mod.rs`: over reprise's facade (`crate::thread`, `crate::channel`,
// `crate::sync`) and over std and crossbeam-channel directly. The including
// module supplies `thread`, `channel` and `sync`; use only what both have with
// identical signatures (no `select!`: poll with `try_recv` and `yield_now`).

use std::collections::BTreeSet;
use std::sync::Arc;

use rust_decimal::Decimal;

use super::ledger::{lock_order, FinalState, Journal, Totals};
use super::workload::{busy_work, next_payment, opening_balances, redelivered};
use super::{Bug, ConfigError, Payment, PaymentKind, PaymentsConfig, PaymentsOutcome};

/// Capacity of every channel between stages.
const CAPACITY: usize = 64;

/// Runs the payments pipeline once and checks its invariants.
///
/// Spawns `ingest`, `validate`, `ledger-0` .. `ledger-{workers - 1}` and
/// `reconciler` from the calling thread, joins them all, then checks the final
/// state. With [`Bug::Deadlock`] a run can hang forever (record or explore it
/// instead: reprise detects the deadlock).
///
/// # Panics
///
/// If `config` is invalid (see [`PaymentsConfig::validate`]; [`try_run`] returns
/// the error instead), or if a pipeline thread panics (its panic is resumed).
///
/// # Examples
///
/// ```
/// use reprise::pipelines::payments::{run, PaymentsConfig};
///
/// let outcome = run(&PaymentsConfig::default());
/// assert_eq!(outcome.invariants_line(), "invariants: ok");
/// assert_eq!(outcome.digest.len(), 16);
/// ```
pub fn run(config: &PaymentsConfig) -> PaymentsOutcome {
    try_run(config).unwrap_or_else(|error| panic!("invalid payments config: {error}"))
}

/// Runs the payments pipeline once, like [`run`], if `config` is valid.
///
/// # Errors
///
/// The [`ConfigError`] of [`PaymentsConfig::validate`]; nothing is spawned then.
///
/// # Panics
///
/// If a pipeline thread panics (its panic is resumed).
pub fn try_run(config: &PaymentsConfig) -> Result<PaymentsOutcome, ConfigError> {
    config.validate()?;
    let PaymentsConfig {
        payments,
        workers,
        seed,
        bug,
        work_ns,
        tracked_balances,
    } = *config;
    let opening = opening_balances(seed);
    let ledger = Arc::new(Ledger::new(&opening, tracked_balances).dooming(bug, seed, payments));

    let (ingest_tx, ingest_rx) = channel::bounded(CAPACITY);
    let (outcome_tx, outcome_rx) = channel::bounded(CAPACITY);
    let mut routes = Vec::with_capacity(workers);
    let mut inboxes = Vec::with_capacity(workers);
    for _ in 0..workers {
        let (payments_tx, payments_rx) = channel::bounded(CAPACITY);
        // BUG(reorder): deposits get a channel of their own, so nothing orders a
        // deposit before the transfer it funds. Correctly, one channel in order.
        let (funding_tx, funding_rx) = if bug == Bug::Reorder {
            let (tx, rx) = channel::bounded(CAPACITY);
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        routes.push(Route {
            payments: payments_tx,
            funding: funding_tx,
        });
        inboxes.push(Inbox {
            payments: payments_rx,
            funding: funding_rx,
        });
    }

    let ingest = spawn("ingest".to_owned(), move || {
        ingest(seed, payments, ingest_tx)
    });
    let validate = spawn("validate".to_owned(), move || {
        validate(ingest_rx, routes, seed, bug)
    });
    let ledger_workers: Vec<_> = inboxes
        .into_iter()
        .enumerate()
        .map(|(index, inbox)| {
            let ledger = Arc::clone(&ledger);
            let outcomes = outcome_tx.clone();
            spawn(format!("ledger-{index}"), move || {
                ledger_worker(&ledger, inbox, &outcomes, bug, work_ns)
            })
        })
        .collect();
    drop(outcome_tx);
    let reconciler = spawn("reconciler".to_owned(), move || reconciler(outcome_rx));

    join(ingest);
    let validated = join(validate);
    for worker in ledger_workers {
        join(worker);
    }
    let reconciled = join(reconciler);

    let balances = ledger
        .accounts
        .iter()
        .map(|account| lock(account).get())
        .collect();
    let journal = std::mem::take(&mut *lock(&ledger.journal));
    let state = FinalState {
        opening,
        balances,
        journal,
        accepted: validated.accepted,
        malformed: validated.malformed,
        reconciler: reconciled,
    };
    Ok(state.into_outcome())
}

/// The state the ledger workers share.
struct Ledger {
    /// One lock per account, holding its balance (in a cell whose reads
    /// and writes `reprise races` sees, with `tracked_balances`).
    accounts: Vec<sync::Mutex<Balance>>,
    /// Idempotency keys of the payments already taken by a worker.
    processed: sync::Mutex<BTreeSet<u64>>,
    journal: sync::Mutex<Journal>, doomed: Option<u64>, // with Bug::Panic: the payment that panics its worker
}

impl Ledger {
    fn new(opening: &[Decimal], tracked: bool) -> Self {
        Ledger {
            accounts: opening.iter().map(|b| sync::Mutex::new(Balance::new(*b, tracked))).collect(),
            processed: sync::Mutex::new(BTreeSet::new()), doomed: None,
            journal: sync::Mutex::new(Journal::default()),
        }
    }
}

/// What a ledger worker tells the reconciler about one payment.
struct Outcome {
    amount: Decimal,
    applied: bool,
}

/// What validation reports once its input is exhausted.
struct Validated {
    /// Ids of the well-formed payments, in increasing order.
    accepted: Vec<u64>,
    malformed: u64,
}

/// validate's senders to one ledger worker.
struct Route {
    payments: channel::Sender<Payment>,
    /// With [`Bug::Reorder`]: where deposits go.
    funding: Option<channel::Sender<Payment>>,
}

impl Route {
    fn send(&self, payment: Payment) {
        let sender = match (&self.funding, payment.kind) {
            (Some(funding), PaymentKind::Deposit { .. }) => funding,
            _ => &self.payments,
        };
        sender.send(payment).expect("a ledger worker hung up");
    }
}

/// A ledger worker's receivers.
struct Inbox {
    payments: channel::Receiver<Payment>,
    /// With [`Bug::Reorder`]: deposits.
    funding: Option<channel::Receiver<Payment>>,
}

/// Generates the run's payments in id order.
fn ingest(seed: u64, payments: u64, output: channel::Sender<Payment>) {
    for n in 0..payments {
        let payment = next_payment(seed, n);
        output.send(payment).expect("validate hung up");
    }
}

/// Drops malformed payments, routes the others to the worker of their home
/// account (see `Payment::home_account`), and redelivers some of them
/// (at-least-once delivery).
fn validate(
    input: channel::Receiver<Payment>,
    routes: Vec<Route>,
    seed: u64,
    bug: Bug,
) -> Validated {
    let mut accepted = Vec::new();
    let mut malformed = 0;
    while let Ok(payment) = input.recv() {
        if !payment.is_well_formed() {
            malformed += 1;
            continue;
        }
        accepted.push(payment.id);
        let home = payment.home_account() % routes.len();
        routes[home].send(payment);
        if redelivered(seed, payment.id) {
            // BUG(double-apply): the redelivery goes to the next worker, which may
            // take it while the first one is still applying it. Correctly, it goes
            // to the same worker (the idempotency check would catch it anyway).
            let again = if bug == Bug::DoubleApply {
                (home + 1) % routes.len()
            } else {
                home
            };
            routes[again].send(payment);
        }
    }
    Validated {
        accepted,
        malformed,
    }
}

/// Applies the payments routed to one worker and reports each outcome.
fn ledger_worker(
    ledger: &Ledger,
    inbox: Inbox,
    outcomes: &channel::Sender<Outcome>,
    bug: Bug,
    work_ns: u64,
) {
    let handle = |payment: Payment| {
        std::hint::black_box(busy_work(work_ns));
        if let Some(outcome) = process(ledger, &payment, bug) {
            outcomes.send(outcome).expect("the reconciler hung up");
        }
    };
    let Some(funding) = inbox.funding else {
        while let Ok(payment) = inbox.payments.recv() {
            handle(payment);
        }
        return;
    };
    // BUG(reorder): transfers are served before deposits, so a funded transfer
    // that arrives while its deposit still waits on the other channel is applied
    // first, without a funds check.
    let (mut payments_open, mut funding_open) = (true, true);
    while payments_open || funding_open {
        if payments_open {
            match inbox.payments.try_recv() {
                Ok(payment) => {
                    handle(payment);
                    continue;
                }
                Err(channel::TryRecvError::Disconnected) => payments_open = false,
                Err(channel::TryRecvError::Empty) => {}
            }
        }
        if funding_open {
            match funding.try_recv() {
                Ok(payment) => {
                    handle(payment);
                    continue;
                }
                Err(channel::TryRecvError::Disconnected) => funding_open = false,
                Err(channel::TryRecvError::Empty) => {}
            }
        }
        thread::yield_now();
    }
}

/// Applies one delivery of `payment` unless it was already taken; returns the
/// outcome for the reconciler, or `None` for a duplicate.
fn process(ledger: &Ledger, payment: &Payment, bug: Bug) -> Option<Outcome> {
    if bug == Bug::DoubleApply {
        // BUG(double-apply): check, apply, then insert, with two acquisitions of
        // the lock: two workers can both pass the check.
        if lock(&ledger.processed).contains(&payment.id) {
            return None;
        }
        thread::yield_now(); // the fraud check runs here
    } else if !lock(&ledger.processed).insert(payment.id) {
        return None;
    }
    let amount = payment.amount;
    let applied = match payment.kind {
        PaymentKind::Deposit { to } => {
            credit(ledger, to as usize, amount, bug);
            Some(false)
        }
        PaymentKind::Transfer { from, to } => {
            transfer(ledger, from as usize, to as usize, amount, fee_checked(ledger, payment, to), bug)
        }
        PaymentKind::FundedTransfer { from, to } => {
            transfer(ledger, from as usize, to as usize, amount, false, bug)
        }
    };
    if bug == Bug::DoubleApply {
        lock(&ledger.processed).insert(payment.id);
    }
    lock(&ledger.journal).record(payment, applied.is_some(), applied == Some(true));
    Some(Outcome {
        amount,
        applied: applied.is_some(),
    })
}

/// Adds `amount` to account `to`.
fn credit(ledger: &Ledger, to: usize, amount: Decimal, bug: Bug) {
    let account = &ledger.accounts[to];
    if bug == Bug::LostUpdate {
        // BUG(lost-update): read and write under two acquisitions of the lock.
        let balance = lock(account).get();
        thread::yield_now();
        lock(account).set(balance + amount);
    } else {
        let held = lock(account);
        held.set(held.get() + amount);
    }
}

/// Moves `amount` from `from` to `to`, refusing if `checked` and the source holds
/// less. Returns `None` if refused, else whether the source went below zero.
fn transfer(
    ledger: &Ledger,
    from: usize,
    to: usize,
    amount: Decimal,
    checked: bool,
    bug: Bug,
) -> Option<bool> {
    if bug == Bug::LostUpdate {
        // BUG(lost-update): check-then-act and read-modify-write under separate
        // acquisitions of each lock; an update in between is overwritten.
        let source = lock(&ledger.accounts[from]).get();
        if checked && source < amount {
            return None;
        }
        thread::yield_now();
        lock(&ledger.accounts[from]).set(source - amount);
        let destination = lock(&ledger.accounts[to]).get();
        thread::yield_now();
        lock(&ledger.accounts[to]).set(destination + amount);
        return Some(source - amount < Decimal::ZERO);
    }
    let (first, second) = lock_order(from, to, bug);
    let first_guard = lock(&ledger.accounts[first]);
    if bug == Bug::Deadlock {
        thread::yield_now(); // BUG(deadlock): holds `from` while it waits for `to`
    }
    let second_guard = lock(&ledger.accounts[second]);
    let (source, destination) = if first == from {
        (&*first_guard, &*second_guard)
    } else {
        (&*second_guard, &*first_guard)
    };
    let before = source.get();
    if checked && before < amount {
        return None;
    }
    source.set(before - amount);
    destination.set(destination.get() + amount);
    Some(before - amount < Decimal::ZERO)
}

/// Totals the applied payments the ledger workers report.
fn reconciler(outcomes: channel::Receiver<Outcome>) -> Totals {
    let mut totals = Totals::default();
    while let Ok(outcome) = outcomes.recv() {
        if outcome.applied {
            totals.add(outcome.amount);
        }
    }
    totals
}

fn spawn<T, F>(name: String, body: F) -> thread::JoinHandle<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    thread::Builder::new()
        .name(name)
        .spawn(body)
        .expect("failed to spawn a pipeline thread")
}

/// Joins a pipeline thread, resuming its panic if it had one.
fn join<T>(handle: thread::JoinHandle<T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

// The trace's call sites then name the caller: a lost update's read and
// write are two lines, not this one.
#[track_caller]
fn lock<T>(mutex: &sync::Mutex<T>) -> sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .expect("a ledger worker panicked while holding a lock")
}

impl Ledger {
    /// With [`Bug::Panic`], marks the first transfer to the last account.
    fn dooming(mut self, bug: Bug, seed: u64, payments: u64) -> Self {
        if bug == Bug::Panic {
            let last = self.accounts.len() - 1;
            self.doomed = (0..payments).find(|&n| {
                matches!(next_payment(seed, n).kind, PaymentKind::Transfer { to, .. } if to as usize == last)
            });
        }
        self
    }
}

/// Looks up the transfer's fee; `true` (the transfer is checked for funds).
fn fee_checked(ledger: &Ledger, payment: &Payment, to: impl std::fmt::Display) -> bool {
    // BUG(panic): the fee table has no entry for the last account, and the first
    // transfer there panics its worker. Correctly, one entry per account.
    if ledger.doomed == Some(payment.id) {
        panic!("no fee entry for account {to} (payment {})", payment.id);
    }
    true
}
