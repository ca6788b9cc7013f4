//! reprise's `std::sync` items used as std's: the same signatures (checked
//! at compile time) and the same semantics outside any execution (poison,
//! `Once`, cells, `static`s).

use std::sync::Arc;
use std::time::Duration;

use reprise::sync::{
    mpsc, Barrier, Condvar, LazyLock, LockResult, Mutex, MutexGuard, Once, OnceLock, OnceState, RwLock,
    RwLockReadGuard, RwLockWriteGuard, WaitTimeoutResult,
};

#[test]
fn std_semantics_of_poison_once_and_cells_outside_any_execution() {
    let mutex = Arc::new(Mutex::new(1));
    let m = Arc::clone(&mutex);
    let _ = std::thread::spawn(move || {
        let _g = m.lock().unwrap();
        panic!("poison it");
    })
    .join();
    assert!(mutex.is_poisoned());
    mutex.clear_poison();
    assert!(!mutex.is_poisoned() && mutex.lock().is_ok());

    let lock = Arc::new(RwLock::new(1));
    let l = Arc::clone(&lock);
    let _ = std::thread::spawn(move || {
        let _g = l.write().unwrap();
        panic!("poison it");
    })
    .join();
    assert!(lock.is_poisoned());
    lock.clear_poison();
    assert!(!lock.is_poisoned());

    static ONCE: Once = Once::new();
    let caught = std::panic::catch_unwind(|| ONCE.call_once(|| panic!("first initializer fails")));
    assert!(caught.is_err() && !ONCE.is_completed());
    assert!(std::panic::catch_unwind(|| ONCE.call_once(|| {})).is_err(), "poisoned: call_once panics");
    let mut saw_poison = false;
    ONCE.call_once_force(|state| saw_poison = state.is_poisoned());
    assert!(saw_poison && ONCE.is_completed());
    ONCE.wait();

    static CELL: OnceLock<u32> = OnceLock::new();
    static LAZY: LazyLock<u32> = LazyLock::new(|| 41 + 1);
    assert_eq!(CELL.get(), None);
    assert_eq!(CELL.set(5), Ok(()));
    assert_eq!(CELL.set(6), Err(6));
    assert_eq!(*CELL.wait(), 5);
    assert_eq!(*LAZY, 42);
    let mut cell = OnceLock::from(3);
    assert_eq!(cell.clone(), OnceLock::from(3));
    assert_eq!(format!("{cell:?} {:?}", OnceLock::<u8>::new()), "OnceLock(3) OnceLock(<uninit>)");
    assert_eq!(cell.take(), Some(3));
    assert_eq!(cell.get_or_init(|| 4), &4);
    assert_eq!(cell.into_inner(), Some(4));
    let mut lazy = LazyLock::new(|| String::from("a"));
    LazyLock::force_mut(&mut lazy).push('b');
    assert_eq!(LazyLock::get(&lazy).map(String::as_str), Some("ab"));
    assert!(Barrier::new(1).wait().is_leader());
}

/// Fails to compile when a signature drifts from std's.
#[test]
#[allow(clippy::type_complexity)] // spelling std's signatures out is the point
fn the_new_items_have_std_signatures() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}

    let _: fn(&Mutex<u8>) = Mutex::clear_poison;
    let _: fn(&RwLock<u8>) = RwLock::clear_poison;
    let _: fn(u8) -> RwLock<u8> = RwLock::from;
    fn downgrade<'a>(guard: RwLockWriteGuard<'a, u8>) -> RwLockReadGuard<'a, u8> {
        RwLockWriteGuard::downgrade(guard)
    }
    let _ = downgrade;
    type Pred = fn(&mut u8) -> bool;
    let _: for<'a> fn(&Condvar, MutexGuard<'a, u8>, Pred) -> LockResult<MutexGuard<'a, u8>> =
        Condvar::wait_while;
    let _: for<'a> fn(
        &Condvar,
        MutexGuard<'a, u8>,
        Duration,
        Pred,
    ) -> LockResult<(MutexGuard<'a, u8>, WaitTimeoutResult)> = Condvar::wait_timeout_while;

    static BARRIER: Barrier = Barrier::new(1);
    assert!(BARRIER.wait().is_leader());
    let _: fn(&Once, fn()) = Once::call_once;
    let _: fn(&Once, fn(&OnceState)) = Once::call_once_force;
    let _: fn(&Once) -> bool = Once::is_completed;
    let _: fn(&OnceLock<u8>, u8) -> Result<(), u8> = OnceLock::set;
    let _: fn(&OnceLock<u8>, fn() -> u8) -> &u8 = OnceLock::get_or_init;
    let _: fn(&mut OnceLock<u8>) -> Option<u8> = OnceLock::take;
    let _: fn(OnceLock<u8>) -> Option<u8> = OnceLock::into_inner;
    let _: fn(&LazyLock<u8>) -> &u8 = LazyLock::force;
    send_sync::<Barrier>();
    send_sync::<Once>();
    send_sync::<OnceLock<u8>>();
    send_sync::<LazyLock<u8>>();

    let _: fn() -> (mpsc::Sender<u8>, mpsc::Receiver<u8>) = mpsc::channel;
    let _: fn(usize) -> (mpsc::SyncSender<u8>, mpsc::Receiver<u8>) = mpsc::sync_channel;
    let _: fn(&mpsc::Sender<u8>, u8) -> Result<(), std::sync::mpsc::SendError<u8>> = mpsc::Sender::send;
    let _: fn(&mpsc::SyncSender<u8>, u8) -> Result<(), std::sync::mpsc::TrySendError<u8>> =
        mpsc::SyncSender::try_send;
    let _: fn(&mpsc::Receiver<u8>) -> Result<u8, std::sync::mpsc::RecvError> = mpsc::Receiver::recv;
    let _: fn(&mpsc::Receiver<u8>) -> Result<u8, std::sync::mpsc::TryRecvError> = mpsc::Receiver::try_recv;
    let _: fn(&mpsc::Receiver<u8>, Duration) -> Result<u8, std::sync::mpsc::RecvTimeoutError> =
        mpsc::Receiver::recv_timeout;
    send_sync::<mpsc::Sender<u8>>();
    send_sync::<mpsc::SyncSender<u8>>();
    send::<mpsc::Receiver<u8>>();
    let (tx, rx) = mpsc::channel::<u8>();
    let _ = tx.clone();
    drop(tx);
    for _ in &rx {}
    assert_eq!(rx.into_iter().count(), 0);
}
