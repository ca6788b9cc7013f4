//! Initialisation races in a pricing service: four pricers race to load a
//! rate table held in an `OnceLock` (`get_or_init`; the loader counts its
//! calls), to register the service once (`Once::call_once`, whose winner
//! is the schedule's), to publish the session's opening desk
//! (`OnceLock::set`: one `Ok`, three `Err`s handing their value back) and
//! to force a `LazyLock` of holiday calendars. The planted bug is the
//! hand-rolled lazy table a team writes before it knows `OnceLock`: an
//! `AtomicBool` checked, then the load, then the flag set.

use std::collections::BTreeMap;
use std::sync::Arc;

use reprise::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use reprise::sync::{LazyLock, Mutex, Once, OnceLock};
use reprise::thread;

const PRICERS: usize = 4;

/// The rate table, built the slow way.
fn load_rates(loads: &AtomicUsize) -> BTreeMap<&'static str, u64> {
    loads.fetch_add(1, Ordering::SeqCst);
    thread::yield_now();
    [("EURUSD", 108), ("GBPUSD", 127), ("USDJPY", 149)].into_iter().collect()
}

fn calendars() -> Vec<u32> {
    vec![101, 1225, 1226]
}

pub(crate) fn pricing_service() -> String {
    let rates = Arc::new(OnceLock::<BTreeMap<&'static str, u64>>::new());
    let loads = Arc::new(AtomicUsize::new(0));
    let registered = Arc::new(Once::new());
    let registrar = Arc::new(Mutex::new(None::<usize>));
    let opening = Arc::new(OnceLock::<usize>::new());
    let holidays: Arc<LazyLock<Vec<u32>>> = Arc::new(LazyLock::new(calendars));
    let pricers: Vec<_> = (0..PRICERS)
        .map(|p| {
            let (rates, loads, registered) =
                (Arc::clone(&rates), Arc::clone(&loads), Arc::clone(&registered));
            let (registrar, opening, holidays) =
                (Arc::clone(&registrar), Arc::clone(&opening), Arc::clone(&holidays));
            thread::spawn(move || {
                registered.call_once(|| *registrar.lock().unwrap() = Some(p));
                let lost = opening.set(p).err();
                let table = rates.get_or_init(|| load_rates(&loads));
                let price = table["EURUSD"] * (p as u64 + 1) + holidays.len() as u64;
                (lost, price)
            })
        })
        .collect();
    let results: Vec<_> = pricers.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(loads.load(Ordering::SeqCst), 1, "the rates were loaded once");
    assert!(registered.is_completed());
    let winner = *opening.get().expect("one set won");
    let losers: Vec<usize> = results.iter().filter_map(|(lost, _)| *lost).collect();
    assert_eq!(losers.len(), PRICERS - 1);
    assert!(!losers.contains(&winner), "the winner's value was not handed back");
    let registrar = registrar.lock().unwrap().expect("registered");
    let prices: Vec<u64> = results.iter().map(|(_, price)| *price).collect();
    format!("registrar {registrar}, opening {winner}, prices {prices:?}")
}

/// The hand-rolled lazy table.
struct LazyRates {
    ready: AtomicBool,
    table: Mutex<Option<BTreeMap<&'static str, u64>>>,
    loads: AtomicUsize,
}

impl LazyRates {
    fn get(&self, pair: &str) -> u64 {
        if !self.ready.load(Ordering::Acquire) {
            let table = load_rates(&self.loads);
            *self.table.lock().unwrap() = Some(table);
            self.ready.store(true, Ordering::Release);
        }
        self.table.lock().unwrap().as_ref().unwrap()[pair]
    }
}

/// Planted: check, load, set: two pricers can both load the table.
pub(crate) fn hand_rolled_lazy() {
    let rates = Arc::new(LazyRates {
        ready: AtomicBool::new(false),
        table: Mutex::new(None),
        loads: AtomicUsize::new(0),
    });
    let pricers: Vec<_> = (0..2)
        .map(|_| {
            let rates = Arc::clone(&rates);
            thread::spawn(move || rates.get("GBPUSD"))
        })
        .collect();
    for p in pricers {
        assert_eq!(p.join().unwrap(), 127);
    }
    assert_eq!(rates.loads.load(Ordering::SeqCst), 1, "planted: the rates were loaded twice");
}

/// Three pricers race to fill a spread table whose initializer spawns a
/// helper that reads the base spread under a lock, and joins it: the
/// initializer that wins is the schedule's, so is the value.
pub(crate) fn init_spawns() -> String {
    let table = Arc::new(OnceLock::<u64>::new());
    let base = Arc::new(Mutex::new(5u64));
    let pricers: Vec<_> = (0..3)
        .map(|p| {
            let (table, base) = (Arc::clone(&table), Arc::clone(&base));
            thread::spawn(move || {
                *table.get_or_init(|| {
                    let base = Arc::clone(&base);
                    thread::spawn(move || *base.lock().unwrap() + p).join().unwrap()
                })
            })
        })
        .collect();
    let seen: Vec<u64> = pricers.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "one value for everyone: {seen:?}");
    format!("{seen:?}")
}

/// Planted: the rate table's initializer waits for a quote from a feeder,
/// and the feeder looks the table up first: a deadlock when the root's
/// initializer runs before the feeder's lookup.
pub(crate) fn init_waits_for_its_reader() {
    let table = Arc::new(OnceLock::<u64>::new());
    let (tx, rx) = reprise::channel::bounded::<u64>(1);
    let feeder = {
        let table = Arc::clone(&table);
        thread::spawn(move || {
            let base = *table.get_or_init(|| 100);
            tx.send(base + 8).unwrap();
        })
    };
    let rate = *table.get_or_init(|| rx.recv().unwrap());
    feeder.join().unwrap();
    assert!(rate >= 100);
}
