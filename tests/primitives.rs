//! Every primitive, recorded and replayed: the replay must give back what the
//! recording saw.

use std::sync::atomic::{AtomicUsize as StdUsize, Ordering as StdOrdering};
use std::sync::Arc;
use std::time::Duration;

use reprise::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use reprise::sync::{Condvar, Mutex, RwLock};
use reprise::{
    capture, channel, random, read_trace_file, record, replay, thread, time, RecordConfig, ReplayOutcome,
};

use crate::util::scratch;

fn round_trip<R, F>(name: &str, program: F) -> R
where
    F: Fn() -> R + Send + Sync + Clone + 'static,
    R: Send + PartialEq + std::fmt::Debug + 'static,
{
    let path = scratch(name).join("t.trace");
    let recorded = record(&path, RecordConfig::new(name, "1"), program.clone()).unwrap();
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole(), "{:?}", trace.damage);
    let replayed = replay(&trace, program);
    assert_eq!(replayed.outcome, ReplayOutcome::Matched, "{}", replayed.outcome);
    assert_eq!(replayed.result, recorded.result);
    assert_eq!(replayed.replayed, trace.events);
    recorded.result.expect("the program returned")
}

#[test]
fn atomics_replay_every_value_their_loads_saw() {
    let seen = round_trip("atomics", || {
        let counter = Arc::new(AtomicU64::new(0));
        let signed = Arc::new(AtomicI64::new(0));
        let flag = Arc::new(AtomicBool::new(false));
        let size = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..3)
            .map(|i| {
                let (counter, signed, flag, size) =
                    (Arc::clone(&counter), Arc::clone(&signed), Arc::clone(&flag), Arc::clone(&size));
                thread::spawn(move || {
                    let mut seen = Vec::new();
                    for _ in 0..50 {
                        seen.push(counter.fetch_add(1, Ordering::Relaxed));
                        signed.fetch_sub(2, Ordering::AcqRel);
                        let _ = size.compare_exchange(0, i, Ordering::SeqCst, Ordering::Relaxed);
                        let _ = size.compare_exchange_weak(i, i + 10, Ordering::SeqCst, Ordering::Relaxed);
                        seen.push(counter.load(Ordering::Acquire));
                        flag.store(i % 2 == 0, Ordering::Release);
                        seen.push(u64::from(flag.swap(true, Ordering::AcqRel)));
                        size.fetch_max(i, Ordering::Relaxed);
                    }
                    seen
                })
            })
            .collect();
        let seen: Vec<Vec<u64>> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        (seen, signed.load(Ordering::SeqCst), size.load(Ordering::SeqCst))
    });
    assert_eq!(seen.1, -300);
}

#[test]
fn locks_condvars_and_rwlocks_replay_the_recorded_order() {
    round_trip("locks", || {
        let log = Arc::new(Mutex::new(Vec::new()));
        let table = Arc::new(RwLock::new(0u64));
        let ready = Arc::new((Mutex::new(0u32), Condvar::new()));
        let workers: Vec<_> = (0..4)
            .map(|i| {
                let (log, table, ready) = (Arc::clone(&log), Arc::clone(&table), Arc::clone(&ready));
                thread::spawn(move || {
                    for k in 0..20 {
                        log.lock().unwrap().push(i * 100 + k);
                        if k % 3 == 0 {
                            *table.write().unwrap() += 1;
                        } else {
                            let v = *table.read().unwrap();
                            log.lock().unwrap().push(1000 + v as u32);
                        }
                        if let Ok(mut g) = log.try_lock() {
                            g.push(5000);
                        }
                        if let Ok(v) = table.try_read() {
                            let _ = *v;
                        }
                        if let Ok(mut v) = table.try_write() {
                            *v += 1;
                        }
                    }
                    let (lock, cvar) = &*ready;
                    *lock.lock().unwrap() += 1;
                    cvar.notify_all();
                })
            })
            .collect();
        let (lock, cvar) = &*ready;
        let mut done = lock.lock().unwrap();
        while *done < 4 {
            let (g, _timeout) = cvar.wait_timeout(done, Duration::from_millis(1)).unwrap();
            done = g;
        }
        drop(done);
        let g = cvar.wait_while(lock.lock().unwrap(), |n| *n < 4).unwrap();
        drop(g);
        for w in workers {
            w.join().unwrap();
        }
        let order = log.lock().unwrap().clone();
        let writes = *table.read().unwrap();
        (order, writes)
    });
}

#[test]
fn channels_replay_which_message_each_receive_got() {
    round_trip("channels", || {
        let (tx_a, rx_a) = channel::bounded::<u32>(2);
        let (tx_b, rx_b) = channel::unbounded::<u32>();
        let producers: Vec<_> = [(tx_a, 0), (tx_b, 1000)]
            .into_iter()
            .map(|(tx, base)| {
                thread::spawn(move || {
                    for i in 0..40 {
                        tx.send(base + i).unwrap();
                        if i % 10 == 0 {
                            let _ = tx.try_send(base + 500 + i);
                        }
                    }
                })
            })
            .collect();
        let mut got = Vec::new();
        // Select until one side is closed.
        while let (arm, Ok(v)) = channel::select(&[&rx_a, &rx_b]) {
            got.push((arm, v));
        }
        // Then drain both with the other receive forms.
        while let Ok(v) = rx_a.recv_timeout(Duration::from_millis(50)) {
            got.push((9, v));
        }
        got.extend(rx_a.iter().map(|v| (8, v)));
        while let Ok(v) = rx_b.try_recv() {
            got.push((7, v));
        }
        got.extend(rx_b.try_iter().map(|v| (6, v)));
        for p in producers {
            p.join().unwrap();
        }
        got.extend(rx_b.iter().map(|v| (5, v)));
        got
    });
}

#[test]
fn time_random_and_captured_inputs_come_back_without_reading_the_outside() {
    static READS: StdUsize = StdUsize::new(0);
    let program = || {
        let start = time::now();
        let wall = time::system_now();
        thread::sleep(Duration::from_millis(20));
        let elapsed = time::now() - start;
        let draws = (random::u64(), random::below(6));
        let order: String = capture(|| {
            READS.fetch_add(1, StdOrdering::SeqCst);
            format!("order-{}", std::process::id())
        });
        (elapsed, wall, draws, order)
    };
    let path = scratch("inputs").join("t.trace");
    let recorded = record(&path, RecordConfig::new("inputs", "1").seed(7), program).unwrap();
    assert_eq!(READS.load(StdOrdering::SeqCst), 1);
    let trace = read_trace_file(&path).unwrap();
    let started = std::time::Instant::now();
    let replayed = replay(&trace, program);
    assert_eq!(replayed.outcome, ReplayOutcome::Matched);
    assert_eq!(replayed.result, recorded.result, "the clock, draws and capture come from the trace");
    assert_eq!(READS.load(StdOrdering::SeqCst), 1, "replay must not run the captured closure");
    assert!(
        started.elapsed() < Duration::from_millis(20)
            || replayed.result.as_ref().unwrap().0 >= Duration::from_millis(20)
    );
    assert!(recorded.result.unwrap().0 >= Duration::from_millis(20), "the recorded sleep happened");
}

static SHARED: Mutex<u64> = Mutex::new(0);
static HITS: AtomicU64 = AtomicU64::new(0);

#[test]
fn statics_and_scoped_threads_work_in_parallel_recordings() {
    // Two executions use the same statics at once: each is named per execution.
    let run = |name: &'static str| {
        std::thread::spawn(move || {
            round_trip(name, || {
                let mut local = [0u64; 2];
                thread::scope(|s| {
                    let (a, b) = local.split_at_mut(1);
                    s.spawn(move || {
                        *SHARED.lock().unwrap() += 1;
                        a[0] = HITS.fetch_add(1, Ordering::SeqCst);
                    });
                    s.spawn(move || b[0] = 1);
                });
                local[1]
            })
        })
    };
    let first = run("statics-a");
    let second = run("statics-b");
    assert_eq!(first.join().unwrap(), 1);
    assert_eq!(second.join().unwrap(), 1);
}

#[test]
fn instant_elapsed_and_system_time_read_the_recorded_clock_in_replay() {
    use reprise::time::{Instant, SystemTime, UNIX_EPOCH};
    let program = || {
        let start = Instant::now();
        // Real time passes outside reprise, in record and in replay alike:
        // only a recorded `elapsed` gives the same nanoseconds twice.
        std::thread::sleep(Duration::from_millis(3));
        let elapsed = start.elapsed();
        let later = Instant::now();
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let since_wall = SystemTime::now().elapsed().unwrap_or_default();
        (elapsed, later.duration_since(start), later - start, wall, since_wall)
    };
    let path = scratch("instant").join("t.trace");
    let recorded = record(&path, RecordConfig::new("instant", "1"), program).unwrap();
    let trace = read_trace_file(&path).unwrap();
    let replayed = replay(&trace, program);
    assert_eq!(replayed.outcome, ReplayOutcome::Matched, "{}", replayed.outcome);
    assert_eq!(replayed.result, recorded.result, "every reading comes from the trace");
    assert!(recorded.result.unwrap().0 >= Duration::from_millis(3));
}
