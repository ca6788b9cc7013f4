#![cfg(reprise_loom)]
//! The bug zoo's publication race (tests/zoo/publication.rs), which reprise's
//! explorer cannot see: it runs threads over sequentially consistent memory,
//! where a load returns the latest store. loom models C11's memory model, so
//! it finds a reader that sees `ready` and still reads the old price.
//!
//! ```sh
//! RUSTFLAGS="--cfg reprise_loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test -p reprise-recorder --release --test loom_zoo
//! ```
//!
//! In any other build this file compiles to nothing.
//!
//! Known bug in the loom backend (recorder/src/loom/execution.rs, `Lazy`): a
//! reprise atomic makes its loom atomic on first use, not when it is created,
//! and loom counts that as an initializing write by the thread that first
//! used it. An atomic created before a `spawn` and first used after it, by
//! two threads, is then reported as "Causality violation: Concurrent load and
//! mut accesses", although its creation happened before the spawn. The zoo's
//! models below touch their atomics before spawning (see `publish`); the last
//! test pins the bug.

use std::panic::{self, AssertUnwindSafe};

use reprise_recorder::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use reprise_recorder::sync::Arc;
use reprise_recorder::thread;

struct Quote {
    price: AtomicU64,
    ready: AtomicBool,
}

/// The zoo's program: publishes a price of 101 with `store` on the flag; a
/// reader that sees the flag (loaded with `load`) must see the price.
/// `touch_first`: load both atomics before spawning (the workaround).
fn publish(store: Ordering, load: Ordering, touch_first: bool) {
    let quote = Arc::new(Quote { price: AtomicU64::new(0), ready: AtomicBool::new(false) });
    if touch_first {
        quote.price.load(Ordering::Relaxed);
        quote.ready.load(Ordering::Relaxed);
    }
    let reader = {
        let quote = Arc::clone(&quote);
        thread::spawn(move || quote.ready.load(load).then(|| quote.price.load(Ordering::Relaxed)))
    };
    quote.price.store(101, Ordering::Relaxed);
    quote.ready.store(true, store);
    if let Some(price) = reader.join().unwrap() {
        assert_eq!(price, 101, "stale price: ready was set but the price read {price}");
    }
}

/// Runs `f` under `loom::model` and returns its panic message, if it failed.
fn failure(f: impl Fn() + Sync + Send + 'static) -> Option<String> {
    let payload = panic::catch_unwind(AssertUnwindSafe(|| loom::model(f))).err()?;
    let message = payload.downcast_ref::<String>().cloned();
    Some(message.or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default())
}

#[test]
fn relaxed_publication_race_is_found_by_loom() {
    let message = failure(|| publish(Ordering::Relaxed, Ordering::Relaxed, true));
    let message = message.expect("loom finds the stale price");
    assert!(message.contains("stale price"), "loom failed otherwise: {message}");
}

#[test]
fn release_acquire_publication_passes_loom() {
    loom::model(|| publish(Ordering::Release, Ordering::Acquire, true));
}

#[test]
fn an_atomic_first_used_after_a_spawn_is_reported_as_a_causality_violation_known_bug() {
    // The correct (Release/Acquire) program, without the workaround: loom
    // should pass it. When this assertion fails, the bug is fixed: drop
    // `touch_first` and this test.
    let message = failure(|| publish(Ordering::Release, Ordering::Acquire, false));
    assert!(
        message.as_deref().is_some_and(|m| m.contains("Causality violation")),
        "the loom backend's lazy atomics: {message:?}"
    );
}
