//! Loom model checks of the atomics std has and the first atomics did not:
//! the narrow integers, `fetch_xor`/`fetch_nand`, `fetch_update`, and
//! `AtomicPtr`'s pointer arithmetic.
//!
//! ```sh
//! RUSTFLAGS="--cfg reprise_loom" CARGO_TARGET_DIR=target/loom LOOM_MAX_PREEMPTIONS=2 \
//!     cargo test -p reprise-recorder --release --test loom_atomics
//! ```
#![cfg(reprise_loom)]

use std::panic::{self, AssertUnwindSafe};

use reprise_recorder::sync::atomic::{AtomicBool, AtomicI8, AtomicPtr, AtomicU16, AtomicU8, Ordering};
use reprise_recorder::sync::Arc;
use reprise_recorder::thread;

/// Makes an atomic's loom object (by a load) in the model's thread: the loom backend makes
/// it on first use, and loom takes that for a write that a first use on
/// another thread would race with.
fn touch<T>(load: impl FnOnce(Ordering) -> T) {
    load(Ordering::Relaxed);
}

/// Runs `f` under loom with the preemption bound; the panic of a failed
/// model, as a message.
fn check(f: impl Fn() + Sync + Send + 'static) -> Result<(), String> {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound.get_or_insert(2);
    panic::catch_unwind(AssertUnwindSafe(|| builder.check(f))).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

#[test]
fn loom_finds_an_inversion_between_two_toggles() {
    let outcome = check(|| {
        let x = Arc::new(AtomicU8::new(0));
        touch(|o| x.load(o));
        let x2 = Arc::clone(&x);
        let toggler = thread::spawn(move || {
            x2.fetch_xor(1, Ordering::SeqCst);
            x2.fetch_xor(1, Ordering::SeqCst);
        });
        let first = x.fetch_nand(0xff, Ordering::SeqCst);
        x.fetch_nand(0xff, Ordering::SeqCst);
        toggler.join().unwrap();
        assert_eq!(x.load(Ordering::SeqCst), 0, "inversions and toggles commute");
        assert_eq!(first & 1, 0, "saw a half-done pair of toggles");
    });
    let message = outcome.expect_err("loom finds the interleaving");
    assert!(message.contains("half-done pair"), "failed otherwise: {message}");
}

#[test]
fn pointer_bumps_and_fetch_updates_lose_no_update() {
    check(|| {
        let data: &'static mut [u32; 8] = Box::leak(Box::new([0; 8]));
        let base = data.as_mut_ptr();
        let start = base as usize;
        let cursor = Arc::new(AtomicPtr::new(base));
        let count = Arc::new(AtomicU16::new(0));
        touch(|o| cursor.load(o));
        touch(|o| count.load(o));
        let (cursor2, count2) = (Arc::clone(&cursor), Arc::clone(&count));
        let other = thread::spawn(move || {
            cursor2.fetch_ptr_add(1, Ordering::AcqRel);
            count2.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| Some(n + 1)).unwrap();
        });
        cursor.fetch_byte_add(8, Ordering::AcqRel);
        count.update(Ordering::AcqRel, Ordering::Acquire, |n| n + 2);
        other.join().unwrap();
        assert_eq!(cursor.load(Ordering::Acquire) as usize - start, 12);
        assert_eq!(count.load(Ordering::Acquire), 3);
    })
    .unwrap();
}

/// A relaxed `AtomicI8` published behind an `AtomicBool` flag: `publish`
/// says whether the flag is a `Release` store (else `Relaxed`).
fn flag_publishes_data(publish: Ordering) -> Result<(), String> {
    check(move || {
        let data = Arc::new(AtomicI8::new(0));
        let flag = Arc::new(AtomicBool::new(false));
        touch(|o| data.load(o));
        touch(|o| flag.load(o));
        let (data2, flag2) = (Arc::clone(&data), Arc::clone(&flag));
        let writer = thread::spawn(move || {
            data2.store(-7, Ordering::Relaxed);
            flag2.store(true, publish);
        });
        if flag.load(Ordering::Acquire) {
            assert_eq!(data.load(Ordering::Relaxed), -7, "the flag was up but the data stale");
        }
        writer.join().unwrap();
    })
}

#[test]
fn loom_checks_the_orderings_of_the_new_atomics() {
    flag_publishes_data(Ordering::Release).expect("a release flag publishes the data");
    let message = flag_publishes_data(Ordering::Relaxed).expect_err("a relaxed flag does not");
    assert!(message.contains("data stale"), "failed otherwise: {message}");
}
