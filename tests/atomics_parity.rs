//! Every atomic type and method, recorded and replayed (the replay must give
//! every load and read-modify-write its recorded result), `AtomicPtr`'s
//! replay handing back this run's addresses, and the explorer finding a bug
//! that needs one interleaving of `fetch_xor` and `fetch_nand`.

use std::sync::Arc;

use reprise::explore::{Config, Explorer, FailureKind, StrategyKind};
use reprise::sync::atomic::{
    AtomicBool, AtomicI16, AtomicI32, AtomicI64, AtomicI8, AtomicIsize, AtomicPtr, AtomicU16, AtomicU32,
    AtomicU64, AtomicU8, AtomicUsize, Ordering,
};
use reprise::{read_trace_file, record, replay, replay_coroutines, thread, RecordConfig, ReplayOutcome};

use crate::util::{round_trip_both_ways as round_trip, scratch};

const THREADS: usize = 3;
const ROUNDS: usize = 40;

/// For one integer type: racing threads call every method; each collects
/// what its calls returned (and how many attempts its update loops took).
macro_rules! integer_round_trip {
    ($test:ident, $atomic:ident, $t:ty) => {
        #[test]
        #[allow(clippy::unnecessary_cast)]
        fn $test() {
            let (seen, _last) = round_trip(stringify!($atomic), || {
                let x = Arc::new($atomic::new(<$t>::default()));
                let workers: Vec<_> = (0..THREADS)
                    .map(|i| {
                        let x = Arc::clone(&x);
                        thread::spawn(move || {
                            let i = i as $t;
                            let mut seen: Vec<$t> = Vec::new();
                            let mut attempts: $t = 0;
                            for _ in 0..ROUNDS {
                                seen.push(x.fetch_add(3, Ordering::Relaxed));
                                seen.push(x.fetch_sub(1, Ordering::AcqRel));
                                seen.push(x.fetch_xor(i + 5, Ordering::SeqCst));
                                seen.push(x.fetch_nand(0x3d, Ordering::AcqRel));
                                seen.push(x.fetch_or(i, Ordering::Release));
                                seen.push(x.fetch_and(0x7e, Ordering::Acquire));
                                seen.push(x.fetch_max(i + 2, Ordering::SeqCst));
                                seen.push(x.fetch_min(0x70, Ordering::SeqCst));
                                seen.push(x.swap(i, Ordering::AcqRel));
                                let v = x.load(Ordering::Acquire);
                                seen.push(v);
                                seen.push(
                                    match x.compare_exchange(v, v ^ 1, Ordering::SeqCst, Ordering::Relaxed) {
                                        Ok(p) | Err(p) => p,
                                    },
                                );
                                seen.push(
                                    match x.compare_exchange_weak(
                                        i,
                                        i + 1,
                                        Ordering::AcqRel,
                                        Ordering::Acquire,
                                    ) {
                                        Ok(p) | Err(p) => p,
                                    },
                                );
                                let fetched = x.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| {
                                    attempts = attempts.wrapping_add(1);
                                    (v != 0x11).then(|| v.wrapping_add(2))
                                });
                                seen.push(match fetched {
                                    Ok(p) | Err(p) => p,
                                });
                                seen.push(x.update(Ordering::AcqRel, Ordering::Acquire, |v| {
                                    attempts = attempts.wrapping_add(1);
                                    v.wrapping_mul(3) & 0x3f
                                }));
                                let tried = x.try_update(Ordering::Release, Ordering::Relaxed, |v| {
                                    attempts = attempts.wrapping_add(1);
                                    (v % 2 == 0).then_some(v)
                                });
                                seen.push(match tried {
                                    Ok(p) | Err(p) => p,
                                });
                                x.store(i ^ 2, Ordering::Release);
                            }
                            seen.push(attempts);
                            seen
                        })
                    })
                    .collect();
                let seen: Vec<Vec<$t>> = workers.into_iter().map(|w| w.join().unwrap()).collect();
                let mut x = Arc::into_inner(x).expect("the workers are gone");
                *x.get_mut() ^= 1;
                (seen, x.into_inner())
            });
            assert_eq!(seen.len(), THREADS);
        }
    };
}

integer_round_trip!(i8_replays_every_method, AtomicI8, i8);
integer_round_trip!(u8_replays_every_method, AtomicU8, u8);
integer_round_trip!(i16_replays_every_method, AtomicI16, i16);
integer_round_trip!(u16_replays_every_method, AtomicU16, u16);
integer_round_trip!(i32_replays_every_method, AtomicI32, i32);
integer_round_trip!(u32_replays_every_method, AtomicU32, u32);
integer_round_trip!(i64_replays_every_method, AtomicI64, i64);
integer_round_trip!(u64_replays_every_method, AtomicU64, u64);
integer_round_trip!(isize_replays_every_method, AtomicIsize, isize);
integer_round_trip!(usize_replays_every_method, AtomicUsize, usize);

#[test]
fn bool_replays_every_method() {
    round_trip("AtomicBool", || {
        let x = Arc::new(AtomicBool::default());
        let workers: Vec<_> = (0..THREADS)
            .map(|i| {
                let x = Arc::clone(&x);
                thread::spawn(move || {
                    let odd = i % 2 == 1;
                    let mut seen = Vec::new();
                    for _ in 0..ROUNDS {
                        seen.push(x.fetch_and(odd, Ordering::AcqRel));
                        seen.push(x.fetch_nand(true, Ordering::SeqCst));
                        seen.push(x.fetch_or(odd, Ordering::Release));
                        seen.push(x.fetch_xor(true, Ordering::Acquire));
                        seen.push(x.fetch_not(Ordering::SeqCst));
                        seen.push(x.swap(!odd, Ordering::AcqRel));
                        seen.push(
                            x.compare_exchange(true, false, Ordering::SeqCst, Ordering::Relaxed).is_ok(),
                        );
                        seen.push(
                            x.compare_exchange_weak(odd, !odd, Ordering::SeqCst, Ordering::Relaxed).is_ok(),
                        );
                        seen.push(x.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| Some(!v)).is_ok());
                        seen.push(x.update(Ordering::SeqCst, Ordering::SeqCst, |v| v ^ odd));
                        seen.push(x.load(Ordering::Acquire));
                        x.store(odd, Ordering::Release);
                    }
                    seen
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect::<Vec<_>>()
    });
}

/// Racing increments through `fetch_update`: how many attempts each took
/// depends on the interleaving, and the replay must take as many.
#[test]
fn fetch_update_races_replay_their_failed_attempts() {
    let (attempts, total) = round_trip("fetch-update-race", || {
        let x = Arc::new(AtomicU32::new(0));
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                let x = Arc::clone(&x);
                thread::spawn(move || {
                    let mut attempts = Vec::new();
                    for _ in 0..200 {
                        let mut tries = 0u32;
                        x.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                            tries += 1;
                            Some(v + 1)
                        })
                        .expect("the closure always stores");
                        attempts.push(tries);
                    }
                    attempts
                })
            })
            .collect();
        let attempts: Vec<Vec<u32>> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        (attempts, x.load(Ordering::SeqCst))
    });
    assert_eq!(total, 200 * THREADS as u32);
    assert!(attempts.iter().flatten().all(|&n| n >= 1));
}

/// A value written into every box a run made, once the run is over: a
/// replay that handed back the recording's addresses would read it.
const POISON: u64 = u64::MAX;

/// Threads publish boxed values through an `AtomicPtr` with every method
/// and read what the pointers they get back point to. Returns the values
/// read and the addresses seen (which differ between runs). Every box is
/// kept (leaked) and poisoned at the end, so an address of another run is
/// still readable but reads `POISON`.
fn publish_boxes() -> (Vec<Vec<u64>>, Vec<usize>) {
    let first = Box::into_raw(Box::new(1000u64));
    let x = Arc::new(AtomicPtr::new(first));
    let workers: Vec<_> = (0..THREADS as u64)
        .map(|i| {
            let x = Arc::clone(&x);
            thread::spawn(move || {
                let mut made = Vec::new();
                let mut boxed = |value: u64| {
                    let p = Box::into_raw(Box::new(value));
                    made.push(p as usize);
                    p
                };
                let mut seen = Vec::new();
                let mut addresses = Vec::new();
                // SAFETY (for every dereference below): every pointer the
                // atomic ever holds is a leaked box of this run, written
                // only before it was published.
                let mut read = |p: *mut u64, seen: &mut Vec<u64>| {
                    addresses.push(p as usize);
                    seen.push(unsafe { *p });
                };
                for k in 0..ROUNDS as u64 {
                    let tag = i * 10_000 + k * 10;
                    read(x.load(Ordering::Acquire), &mut seen);
                    read(x.swap(boxed(tag + 1), Ordering::AcqRel), &mut seen);
                    let current = x.load(Ordering::Acquire);
                    read(current, &mut seen);
                    match x.compare_exchange(current, boxed(tag + 2), Ordering::AcqRel, Ordering::Acquire) {
                        Ok(p) | Err(p) => read(p, &mut seen),
                    }
                    let next = boxed(tag + 3);
                    match x.fetch_update(Ordering::AcqRel, Ordering::Acquire, |_| Some(next)) {
                        Ok(p) | Err(p) => read(p, &mut seen),
                    }
                    x.store(boxed(tag + 4), Ordering::Release);
                }
                (seen, addresses, made)
            })
        })
        .collect();
    let mut seen = Vec::new();
    let mut addresses = vec![first as usize];
    let mut made = vec![first as usize];
    for w in workers {
        let (s, a, m) = w.join().unwrap();
        seen.push(s);
        addresses.extend(a);
        made.extend(m);
    }
    for address in made {
        // SAFETY: every box is leaked and no thread of this run is left.
        unsafe { *(address as *mut u64) = POISON };
    }
    (seen, addresses)
}

#[test]
fn atomic_ptr_replay_hands_back_this_runs_addresses_of_the_stores_read() {
    let path = scratch("atomic-ptr").join("t.trace");
    let recorded = record(&path, RecordConfig::new("atomic-ptr", "1"), publish_boxes).unwrap();
    let (recorded_values, recorded_addresses) = recorded.result.expect("the recording returned");
    assert!(recorded_values.iter().flatten().all(|&v| v != POISON));
    let trace = read_trace_file(&path).unwrap();
    let replayed = replay(&trace, publish_boxes);
    assert_eq!(replayed.outcome, ReplayOutcome::Matched, "{}", replayed.outcome);
    let (values, addresses) = replayed.result.expect("the replay returned");
    assert_eq!(values, recorded_values, "every load read this run's box of the store it read");
    // The recording's boxes are still alive, so the replay's are elsewhere:
    // different address bits were tolerated.
    assert_ne!(addresses, recorded_addresses);
    assert!(!addresses.contains(&recorded_addresses[0]));
    // On coroutines the real atomic is run in the recorded order: the same.
    let on_coroutines = replay_coroutines(&trace, publish_boxes);
    assert_eq!(on_coroutines.outcome, ReplayOutcome::Matched, "{}", on_coroutines.outcome);
    assert_eq!(on_coroutines.result.expect("the replay returned").0, recorded_values);
}

#[test]
fn atomic_ptr_arithmetic_replays() {
    let offsets = round_trip("atomic-ptr-arithmetic", || {
        let data: &'static mut [u64; 64] = Box::leak(Box::new([0; 64]));
        let base = data.as_mut_ptr();
        let start = base as usize;
        let x = Arc::new(AtomicPtr::new(base));
        let workers: Vec<_> = (0..THREADS)
            .map(|i| {
                let x = Arc::clone(&x);
                thread::spawn(move || {
                    let mut offsets = Vec::new();
                    for _ in 0..5 {
                        offsets.push(x.fetch_ptr_add(i + 1, Ordering::AcqRel));
                        offsets.push(x.fetch_byte_add(8, Ordering::AcqRel));
                        offsets.push(x.fetch_ptr_sub(1, Ordering::AcqRel));
                        offsets.push(x.fetch_byte_sub(8, Ordering::AcqRel));
                        offsets.push(x.fetch_or(1, Ordering::AcqRel));
                        offsets.push(x.fetch_xor(1, Ordering::AcqRel));
                        offsets.push(x.fetch_and(!1, Ordering::AcqRel));
                    }
                    offsets.into_iter().map(|p| p as usize - start).collect::<Vec<_>>()
                })
            })
            .collect();
        let offsets: Vec<Vec<usize>> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        (offsets, x.load(Ordering::SeqCst) as usize - start)
    });
    // Per round: (i + 1) elements + 8 bytes - 1 element - 8 bytes.
    assert_eq!(offsets.1, (0..THREADS).sum::<usize>() * 5 * 8);
}

/// One thread toggles bit 0 twice with `fetch_xor`; the other inverts the
/// value twice with `fetch_nand` (which commutes with the toggles). The
/// final value is always 0, but the first inversion sees a half-done pair
/// of toggles only when it lands between them.
fn toggles_and_inversions() {
    let x = Arc::new(AtomicU8::new(0));
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
}

#[test]
fn the_explorer_finds_an_inversion_between_two_toggles_and_replays_it() {
    let dir = scratch("explore-xor-nand");
    let config = Config::default()
        .strategy(StrategyKind::Dfs { preemptions: 2 })
        .budget(500)
        .trace_dir(&dir)
        .name("xor");
    let outcome = Explorer::new(config).run(toggles_and_inversions);
    let failure = outcome.failure.expect("the explorer finds the interleaving");
    assert!(
        matches!(&failure.kind, FailureKind::Panic { message, .. } if message.contains("half-done pair")),
        "{:?}",
        failure.kind
    );
    let trace = read_trace_file(failure.trace.as_ref().expect("trace written")).unwrap();
    let replayed = replay(&trace, toggles_and_inversions);
    assert_eq!(replayed.outcome, ReplayOutcome::Matched, "{}", replayed.outcome);
    assert_eq!(replayed.result, None, "the replay panics as the explored run did");
}

/// What std's atomics are besides their methods: `Send + Sync`, unwind
/// safe, `Default`, `From`, `Debug`, `get_mut` and `into_inner`; and the
/// module's `fence` and `compiler_fence`.
#[test]
fn every_atomic_has_the_std_traits_and_the_unique_access_methods() {
    fn std_traits<
        A: Send + Sync + std::panic::RefUnwindSafe + std::panic::UnwindSafe + Default + std::fmt::Debug,
    >() {
    }
    macro_rules! check {
        ($($atomic:ident($t:ty)),*) => {$(
            std_traits::<$atomic>();
            let mut x = $atomic::from(<$t>::default());
            *x.get_mut() = 5 as $t;
            assert_eq!(format!("{x:?}"), "5");
            x.fetch_add(2, Ordering::SeqCst);
            assert_eq!(x.into_inner(), 7 as $t);
        )*};
    }
    check!(
        AtomicI8(i8),
        AtomicU8(u8),
        AtomicI16(i16),
        AtomicU16(u16),
        AtomicI32(i32),
        AtomicU32(u32),
        AtomicI64(i64),
        AtomicU64(u64),
        AtomicIsize(isize),
        AtomicUsize(usize)
    );
    std_traits::<AtomicBool>();
    reprise::sync::atomic::fence(Ordering::SeqCst);
    reprise::sync::atomic::compiler_fence(Ordering::SeqCst);
    let mut flag = AtomicBool::from(true);
    *flag.get_mut() = false;
    assert!(!flag.fetch_not(Ordering::SeqCst));
    assert_eq!(format!("{flag:?}"), "true");
    std_traits::<AtomicPtr<u8>>();
    // Like std's: ref-unwind-safe whatever it points to.
    fn ref_unwind_safe<A: std::panic::RefUnwindSafe>() {}
    ref_unwind_safe::<AtomicPtr<std::cell::Cell<u8>>>();
    let mut value = 3u8;
    let mut p = AtomicPtr::<u8>::default();
    assert!(p.load(Ordering::SeqCst).is_null());
    *p.get_mut() = &mut value;
    assert_eq!(p.into_inner(), &mut value as *mut u8);
}

/// Loads take no lock in record mode (a sequence lock's read side): under
/// racing stores, swaps and increments, every load must still be recorded
/// with the store it read, so the replay hands each one the same value.
#[test]
fn loads_racing_stores_replay_the_values_they_read() {
    const LOADS: usize = 3_000;
    let seen = round_trip("lock-free loads", || {
        let x = Arc::new(AtomicU64::new(0));
        let writers: Vec<_> = (0..2u64)
            .map(|w| {
                let x = Arc::clone(&x);
                thread::spawn(move || {
                    for i in 0..LOADS as u64 / 2 {
                        match i % 3 {
                            0 => x.store(w << 32 | i, Ordering::Release),
                            1 => drop(x.fetch_add(1, Ordering::AcqRel)),
                            _ => drop(x.swap(w << 40 | i, Ordering::AcqRel)),
                        }
                    }
                })
            })
            .collect();
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let x = Arc::clone(&x);
                thread::spawn(move || (0..LOADS).map(|_| x.load(Ordering::Acquire)).collect::<Vec<u64>>())
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        readers.into_iter().map(|r| r.join().unwrap()).collect::<Vec<_>>()
    });
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|loads| loads.len() == LOADS));
}

/// Counts the runs of a program in this process, outside reprise: a value
/// each run computes differently and no recording captures.
static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A worker writes a value reprise did not capture (this run's number, in
/// a plain std counter) with a store, an increment or a swap; the root then
/// reads it with a load, an increment or a compare-exchange. Replayed, the
/// worker writes another value than when recorded. The parallel replay
/// handed the root the recorded value and matched every event (the
/// coroutine replay, which runs the real atomic, stopped at the read):
/// both must diverge at the read, saying what each run wrote.
#[test]
fn a_read_of_a_store_that_wrote_another_value_than_recorded_diverges_both_ways() {
    type Program = fn() -> u64;
    fn written() -> u64 {
        10 * (RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1)
    }
    fn spawn_writer(x: &Arc<AtomicU64>, write: fn(&AtomicU64, u64)) {
        let x = Arc::clone(x);
        thread::spawn(move || write(&x, written())).join().unwrap();
    }
    let programs: [(&str, Program); 3] = [
        ("store, load", || {
            let x = Arc::new(AtomicU64::new(0));
            spawn_writer(&x, |x, v| x.store(v, Ordering::Release));
            x.load(Ordering::Acquire)
        }),
        ("fetch_add, fetch_add", || {
            let x = Arc::new(AtomicU64::new(0));
            spawn_writer(&x, |x, v| {
                x.fetch_add(v, Ordering::AcqRel);
            });
            x.fetch_add(1, Ordering::AcqRel)
        }),
        ("swap, compare_exchange", || {
            let x = Arc::new(AtomicU64::new(0));
            spawn_writer(&x, |x, v| {
                x.swap(v, Ordering::AcqRel);
            });
            // Fails, having read the swap's value.
            match x.compare_exchange(0, 1, Ordering::SeqCst, Ordering::Relaxed) {
                Ok(v) | Err(v) => v,
            }
        }),
    ];
    for (name, program) in programs {
        let path = scratch(&format!("uncaptured-{}", name.replace([',', ' '], ""))).join("t.trace");
        let recorded = record(&path, RecordConfig::new("atomics", "1"), program).unwrap();
        assert!(recorded.result.is_some(), "{name}");
        let trace = read_trace_file(&path).unwrap();
        for (how, report) in
            [("parallel", replay(&trace, program)), ("coroutines", replay_coroutines(&trace, program))]
        {
            let ReplayOutcome::Diverged(d) = &report.outcome else {
                panic!(
                    "{name}, {how}: {} (recorded {:?}, replayed {:?})",
                    report.outcome, recorded.result, report.result
                );
            };
            assert!(d.detail.contains("wrote") || d.detail.contains("outcome"), "{name}, {how}: {d}");
            if how == "parallel" {
                assert!(d.detail.contains("the recording's wrote"), "{name}: {}", d.detail);
            }
        }
    }
}

/// A value written through `get_mut` (no event) between a store and a
/// load: the load reads the value `get_mut` wrote, not the store's, and
/// both replays must match it (the value check must not take it for a
/// store that wrote another value).
#[test]
fn a_value_set_through_get_mut_after_a_store_replays_both_ways() {
    let seen = round_trip("get_mut after a store", || {
        let mut x = AtomicU64::new(0);
        thread::scope(|s| {
            let x = &x;
            s.spawn(move || x.store(3, Ordering::Release)).join().unwrap();
        });
        *x.get_mut() = 5;
        let mut seen = vec![x.load(Ordering::Acquire)];
        x.fetch_add(1, Ordering::AcqRel);
        *x.get_mut() += 10;
        seen.push(x.fetch_add(1, Ordering::AcqRel));
        seen
    });
    assert_eq!(seen, vec![5, 16]);
}
