//! Several executions in one process, as a user's `cargo test` makes them:
//! recordings, replays, explorations and flight recorders running at the
//! same time on threads of one process, sometimes on the same statics,
//! sometimes nested, sometimes panicking. Each must stay its own: its trace
//! whole and replaying to its result, its verdicts those it gets alone.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use reprise::channel;
use reprise::sync::atomic::AtomicU64;
use reprise::sync::{Condvar, Mutex, RwLock};
use reprise::thread;
use reprise::trace::format::Verdict;
use reprise::{read_trace_file, record, replay, replay_coroutines, RecordConfig};

use crate::util::scratch;

/// Three producers on one channel; the consumer's order.
fn channels() -> String {
    let (tx, rx) = channel::bounded::<u32>(2);
    let producers: Vec<_> = (0..3)
        .map(|p| {
            let tx = tx.clone();
            thread::spawn(move || {
                for i in 0..4 {
                    tx.send(p * 10 + i).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let got: Vec<String> = rx.iter().map(|v| v.to_string()).collect();
    for p in producers {
        p.join().unwrap();
    }
    got.join(",")
}

/// Three threads append to one locked log.
fn locks() -> String {
    let log = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..3)
        .map(|w| {
            let log = Arc::clone(&log);
            thread::spawn(move || {
                for i in 0..5 {
                    log.lock().unwrap().push(format!("{w}.{i}"));
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let log = log.lock().unwrap();
    log.join(",")
}

/// A producer hands items to two consumers through a condvar queue.
fn condvars() -> String {
    let state = Arc::new((Mutex::new((Vec::<u32>::new(), false)), Condvar::new()));
    let consumers: Vec<_> = (0..2)
        .map(|c| {
            let state = Arc::clone(&state);
            thread::spawn(move || {
                let mut taken = Vec::new();
                let (lock, cv) = &*state;
                let mut g = lock.lock().unwrap();
                loop {
                    if let Some(v) = g.0.pop() {
                        taken.push(format!("{c}:{v}"));
                    } else if g.1 {
                        break;
                    } else {
                        g = cv.wait(g).unwrap();
                    }
                }
                taken.join(" ")
            })
        })
        .collect();
    for i in 0..6 {
        let (lock, cv) = &*state;
        lock.lock().unwrap().0.push(i);
        cv.notify_one();
    }
    {
        let (lock, cv) = &*state;
        lock.lock().unwrap().1 = true;
        cv.notify_all();
    }
    let parts: Vec<String> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
    parts.join("|")
}

/// Scoped threads bump an atomic and read a RwLock.
fn scoped_atomics() -> String {
    let counter = AtomicU64::new(0);
    let table = RwLock::new(0u64);
    let seen = Mutex::new(Vec::new());
    thread::scope(|s| {
        for t in 0..3u64 {
            let (counter, table, seen) = (&counter, &table, &seen);
            s.spawn(move || {
                for _ in 0..3 {
                    let before = counter.fetch_add(1, Ordering::SeqCst);
                    if before % 2 == t % 2 {
                        *table.write().unwrap() += before;
                    }
                    let v = *table.read().unwrap();
                    seen.lock().unwrap().push(format!("{t}:{before}:{v}"));
                }
            });
        }
    });
    let seen = seen.into_inner().unwrap();
    seen.join(",")
}

/// A lock shared by every execution of the panicking test.
static PANICS_LOCK: Mutex<u64> = Mutex::new(0);

/// A program of this module, by name.
type Program = (&'static str, fn() -> String);

const PROGRAMS: [Program; 4] =
    [("channels", channels), ("locks", locks), ("condvars", condvars), ("scoped_atomics", scoped_atomics)];

/// Records `program` into `dir/name`, replays it both ways; each must match
/// and give the recorded result.
fn record_and_replay(dir: &std::path::Path, name: &str, program: fn() -> String) -> String {
    let path = dir.join(format!("{name}.trace"));
    let recorded = record(&path, RecordConfig::new(name, "1"), program).unwrap();
    assert_eq!(recorded.verdict, Verdict::Completed, "{name}");
    let expected = recorded.result.expect("the program returned");
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole(), "{name}: {:?}", trace.damage);
    let parallel = replay(&trace, program);
    assert!(parallel.outcome.matched(), "{name}, parallel: {}", parallel.outcome);
    assert_eq!(parallel.result.as_ref(), Some(&expected), "{name}, parallel");
    assert_eq!(parallel.replayed, trace.events, "{name}, parallel");
    let coroutines = replay_coroutines(&trace, program);
    assert!(coroutines.outcome.matched(), "{name}, coroutines: {}", coroutines.outcome);
    assert_eq!(coroutines.result.as_ref(), Some(&expected), "{name}, coroutines");
    expected
}

/// Six std threads, each recording and replaying a different program,
/// round after round: every replay matches and gives its recording's result.
#[test]
fn concurrent_recordings_and_replays_stay_apart() {
    let dir = scratch("executions-concurrent");
    let workers: Vec<_> = (0..6)
        .map(|w| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let (name, program) = PROGRAMS[w % PROGRAMS.len()];
                for round in 0..6 {
                    record_and_replay(&dir, &format!("{name}-w{w}-r{round}"), program);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
}

/// The check-then-act withdrawal of the README: two withdrawals can both
/// pass the check.
fn overdraft() {
    let balance = Arc::new(Mutex::new(100i64));
    let withdraw = |balance: Arc<Mutex<i64>>| {
        move || {
            let enough = *balance.lock().unwrap() >= 80;
            if enough {
                *balance.lock().unwrap() -= 80;
            }
        }
    };
    let t = thread::spawn(withdraw(Arc::clone(&balance)));
    withdraw(Arc::clone(&balance))();
    t.join().unwrap();
    assert!(*balance.lock().unwrap() >= 0, "overdraft");
}

/// The same withdrawal, checked and done under one lock.
fn no_overdraft() {
    let balance = Arc::new(Mutex::new(100i64));
    let withdraw = |balance: Arc<Mutex<i64>>| {
        move || {
            let mut b = balance.lock().unwrap();
            if *b >= 80 {
                *b -= 80;
            }
        }
    };
    let t = thread::spawn(withdraw(Arc::clone(&balance)));
    withdraw(Arc::clone(&balance))();
    t.join().unwrap();
    assert!(*balance.lock().unwrap() >= 0, "overdraft");
}

/// What an exploration with a fixed seed finds: the failing schedule's
/// number and kind, or nothing.
fn explore_verdict(name: &str, program: fn()) -> Option<(u64, String)> {
    let dir = scratch(name);
    let config = reprise::explore::Config::default().budget(300).seed(7).trace_dir(&dir).name(name);
    let outcome = reprise::explore::Explorer::new(config).run(program);
    assert!(outcome.blocked.is_none(), "{name}: {:?}", outcome.blocked);
    outcome.failure.map(|f| (f.schedule, format!("{:?}", f.kind)))
}

/// Explorations run beside recordings and replays find what they find
/// alone: nothing in the correct program, the overdraft at the same
/// schedule in the buggy one (the seed fixes the search).
#[test]
fn explorations_beside_recordings_give_their_verdicts_alone() {
    let alone_bug = explore_verdict("executions-explore-bug-alone", overdraft);
    let alone_ok = explore_verdict("executions-explore-ok-alone", no_overdraft);
    assert!(alone_bug.as_ref().is_some_and(|(_, kind)| kind.contains("overdraft")), "{alone_bug:?}");
    assert_eq!(alone_ok, None);

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let dir = scratch("executions-explore-beside");
    let busy: Vec<_> = (0..2)
        .map(|w| {
            let (stop, dir) = (Arc::clone(&stop), dir.clone());
            std::thread::spawn(move || {
                let mut rounds = 0;
                while !stop.load(Ordering::Relaxed) || rounds == 0 {
                    let (name, program) = PROGRAMS[(w + rounds) % PROGRAMS.len()];
                    record_and_replay(&dir, &format!("{name}-w{w}-r{rounds}"), program);
                    rounds += 1;
                }
                rounds
            })
        })
        .collect();
    let bug = std::thread::spawn(|| explore_verdict("executions-explore-bug", overdraft));
    let ok = std::thread::spawn(|| explore_verdict("executions-explore-ok", no_overdraft));
    let (bug, ok) = (bug.join().unwrap(), ok.join().unwrap());
    stop.store(true, Ordering::Relaxed);
    for b in busy {
        assert!(b.join().unwrap() > 0);
    }
    assert_eq!(bug, alone_bug, "the buggy program's verdict beside other executions");
    assert_eq!(ok, None, "the correct program beside other executions");
}

static SHARED_COUNTER: AtomicU64 = AtomicU64::new(0);
/// Two static locks, taken one inside the other by `on_statics` only.
static SHARED_LOCK: Mutex<u64> = Mutex::new(0);
static SECOND_LOCK: Mutex<()> = Mutex::new(());

/// Two threads store to the shared static atomic, bump the static lock, and pass a token
/// through the shared static channel; what the program returns depends
/// only on its own threads (the statics' values are other executions' too).
fn on_statics() -> String {
    let token = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..2u64)
        .map(|w| {
            let token = Arc::clone(&token);
            thread::spawn(move || {
                let mut mine = Vec::new();
                for i in 0..3u64 {
                    // A store: its value is not read back (see
                    // `a_static_counter_read_back_beside_other_executions`).
                    SHARED_COUNTER.store(w, Ordering::SeqCst);
                    *SHARED_LOCK.lock().unwrap() += 1;
                    let _turn = SECOND_LOCK.lock().unwrap();
                    *SHARED_LOCK.lock().unwrap() += i;
                    mine.push(token.fetch_add(1, Ordering::SeqCst));
                }
                mine
            })
        })
        .collect();
    let parts: Vec<String> = workers.into_iter().map(|w| format!("{:?}", w.join().unwrap())).collect();
    parts.join("|")
}

/// Records `on_statics` and replays it both ways (holding `alone`, if
/// given): a matched replay gives the recorded result; one that does not
/// must say why (see the test). Returns whether both matched.
fn statics_round(dir: &std::path::Path, name: &str, alone: Option<&std::sync::Mutex<()>>) -> bool {
    let path = dir.join(format!("{name}.trace"));
    // Held for the whole round: no other round of this test uses the
    // statics meanwhile (other tests' executions still may).
    let _alone = alone.map(|one| one.lock().unwrap_or_else(|e| e.into_inner()));
    let recorded = record(&path, RecordConfig::new(name, "1"), on_statics).unwrap();
    assert_eq!(recorded.verdict, Verdict::Completed, "{name}");
    let expected = recorded.result.expect("the program returned");
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole(), "{name}: {:?}", trace.damage);
    let parallel = replay(&trace, on_statics);
    let coroutines = replay_coroutines(&trace, on_statics);
    let mut both = true;
    for (how, report) in [("parallel", &parallel), ("coroutines", &coroutines)] {
        if report.outcome.matched() {
            assert_eq!(report.result.as_ref(), Some(&expected), "{name}, {how}");
            continue;
        }
        both = false;
        let said = report.outcome.to_string();
        // Recorded beside another execution's turns: a gap in the numbers.
        let gap = said.contains("then skips to higher numbers");
        // On coroutines, another execution's turn between two of this
        // replay's moves the shift it allows (README).
        let shifted = how == "coroutines" && said.contains("this run's is");
        assert!(gap || shifted, "{name}, {how}: {said}");
    }
    both
}

/// Four threads of rounds recording and replaying `on_statics`; with
/// `alone`, one round at a time. Returns how many rounds matched both ways.
fn statics_rounds(tag: &str, serialized: bool) -> usize {
    let dir = scratch(tag);
    let serialize = Arc::new(std::sync::Mutex::new(()));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (dir, serialize) = (dir.clone(), Arc::clone(&serialize));
            std::thread::spawn(move || {
                let alone = serialized.then_some(&*serialize);
                (0..5).filter(|round| statics_round(&dir, &format!("w{w}-r{round}"), alone)).count()
            })
        })
        .collect();
    let matched = workers.into_iter().map(|w| w.join().unwrap()).sum();
    eprintln!("{tag}: {matched} of 20 rounds matched both ways");
    matched
}

/// Executions sharing static primitives (an atomic, two mutexes), one
/// round (a recording and its two replays) at a time, beside this
/// module's other tests: the statics' numbers go on counting across
/// executions (README), and every replay matches with the recorded result.
#[test]
fn executions_sharing_statics_one_at_a_time_replay() {
    assert_eq!(statics_rounds("executions-statics-alone", true), 20);
}

/// A recording whose closure records, replays and explores other programs:
/// each inner execution is its own (a new root) and gives a correct
/// result; the outer trace is whole and replays.
#[test]
fn executions_nested_in_a_recording_are_their_own() {
    let dir = scratch("executions-nested");
    let inner_dir = dir.clone();
    let outer = move || {
        let (tx, rx) = channel::unbounded::<String>();
        let helper = thread::spawn(move || tx.send(locks()).unwrap());
        let path = inner_dir.join("inner.trace");
        let inner = record(&path, RecordConfig::new("inner", "1"), channels).map(|r| r.result);
        let inner = inner.expect("the inner recording").expect("the inner program returned");
        let trace = read_trace_file(&path).unwrap();
        let replayed = replay(&trace, channels);
        assert!(replayed.outcome.matched(), "inner replay: {}", replayed.outcome);
        assert_eq!(replayed.result.as_ref(), Some(&inner));
        let config =
            reprise::explore::Config::default().budget(50).seed(1).trace_dir(&inner_dir).name("inner");
        let explored = reprise::explore::Explorer::new(config).run(no_overdraft);
        assert!(explored.failure.is_none() && explored.blocked.is_none());
        let found = reprise::explore::Explorer::new(
            reprise::explore::Config::default().budget(300).seed(7).trace_dir(&inner_dir).name("inner-bug"),
        )
        .run(overdraft);
        assert!(found.failure.is_some(), "the nested exploration finds the overdraft");
        let from_helper = rx.recv().unwrap();
        helper.join().unwrap();
        format!("{inner}/{from_helper}")
    };
    let path = dir.join("outer.trace");
    let recorded = record(&path, RecordConfig::new("outer", "1"), outer.clone()).unwrap();
    assert_eq!(recorded.verdict, Verdict::Completed);
    let expected = recorded.result.unwrap();
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole(), "{:?}", trace.damage);
    let replayed = replay(&trace, outer);
    assert!(replayed.outcome.matched(), "outer replay: {}", replayed.outcome);
    assert_eq!(replayed.result.as_ref().map(|r| r.split('/').nth(1)), Some(expected.split('/').nth(1)));
}

/// A recording started from a std thread that a recorded thread spawned
/// (so outside the recording) is a recording of its own.
#[test]
fn a_recording_started_from_a_std_thread_inside_a_recording() {
    let dir = scratch("executions-std-thread");
    let inner_dir = dir.clone();
    let path = dir.join("outer.trace");
    let recorded = record(&path, RecordConfig::new("outer", "1"), move || {
        let inner = std::thread::spawn(move || record_and_replay(&inner_dir, "from-std", condvars));
        let mine = locks();
        (mine, inner.join().unwrap())
    })
    .unwrap();
    assert_eq!(recorded.verdict, Verdict::Completed);
    assert!(read_trace_file(&path).unwrap().is_whole());
}

/// A program whose worker panics midway, recorded while others record:
/// its verdict names its own panic and the others' traces are whole,
/// completed and replay.
#[test]
fn a_panicking_recording_beside_others_leaves_theirs_whole() {
    fn panics() -> String {
        let (tx, rx) = channel::bounded::<u32>(1);
        let worker = thread::spawn(move || {
            for i in 0..5 {
                tx.send(i).unwrap();
                if i == 2 {
                    panic!("executions-hunt planted panic");
                }
            }
        });
        let got: Vec<u32> = rx.iter().collect();
        let _ = worker.join();
        *PANICS_LOCK.lock().unwrap() += 1;
        panic!("root panics too after {got:?}");
    }
    let dir = scratch("executions-panics");
    let workers: Vec<_> = (0..5)
        .map(|w| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                for round in 0..4 {
                    if w == 0 {
                        let path = dir.join(format!("panics-{round}.trace"));
                        let recorded = record(&path, RecordConfig::new("panics", "1"), panics).unwrap();
                        assert!(recorded.result.is_none());
                        assert!(
                            matches!(&recorded.verdict, Verdict::Panicked { message, .. } if message.contains("root panics too")),
                            "{:?}",
                            recorded.verdict
                        );
                        let trace = read_trace_file(&path).unwrap();
                        let replayed = replay(&trace, panics);
                        assert!(replayed.outcome.matched(), "panics replay: {}", replayed.outcome);
                    } else {
                        let (name, program) = PROGRAMS[w % PROGRAMS.len()];
                        record_and_replay(&dir, &format!("{name}-w{w}-r{round}"), program);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
}

/// A flight recorder dumping while other executions record and fly: each
/// dump holds only its own execution's threads and replays with its own
/// program.
#[test]
fn a_flight_dump_holds_only_its_own_execution() {
    fn flown(tag: u32) -> String {
        let result = locks();
        // Not flying in a replay: the result says so.
        let _ = reprise::flight_dump();
        format!("{tag}:{result}")
    }
    let dir = scratch("executions-flight");
    let workers: Vec<_> = (0..4u32)
        .map(|w| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                for round in 0..4 {
                    if w % 2 == 0 {
                        let path = dir.join(format!("flight-w{w}-r{round}.trace"));
                        let config = reprise::FlightConfig::new(RecordConfig::new("flown", "1"));
                        let program = move || flown(w);
                        let run = reprise::flight(&path, config, program).unwrap();
                        assert_eq!(run.dumps.len(), 1, "{:?}", run.failures);
                        assert!(run.dumps[0].covers_run);
                        let expected = run.result.unwrap();
                        let trace = read_trace_file(&path).unwrap();
                        // The root and the three workers of `locks`, no more.
                        assert_eq!(
                            trace.threads.len(),
                            4,
                            "flight w{w} r{round}: {:?}",
                            trace.threads.keys()
                        );
                        // Taken before the root returned, the dump replays
                        // as an interrupted recording does: to its end.
                        let replayed = replay(&trace, program);
                        assert!(
                            matches!(replayed.outcome, reprise::ReplayOutcome::TraceEnded { .. }),
                            "flight w{w} r{round}: {}",
                            replayed.outcome
                        );
                        assert_eq!(replayed.replayed, trace.events, "flight w{w} r{round}");
                        assert!(expected.starts_with(&format!("{w}:")));
                    } else {
                        let (name, program) = PROGRAMS[w as usize % PROGRAMS.len()];
                        record_and_replay(&dir, &format!("{name}-w{w}-r{round}"), program);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
}

type Chan = (channel::Sender<u64>, channel::Receiver<u64>);

/// A worker sends through the channel held in `cell` (made on first use
/// by whichever execution gets there first) and the root receives.
fn through(cell: &'static std::sync::OnceLock<Chan>) -> u64 {
    let (tx, rx) = cell.get_or_init(channel::unbounded);
    let tx = tx.clone();
    let worker = thread::spawn(move || tx.send(41).unwrap());
    let got = rx.recv().unwrap();
    worker.join().unwrap();
    got + 1
}

static MADE_BY_RECORDING: std::sync::OnceLock<Chan> = std::sync::OnceLock::new();
static MADE_BY_REPLAY: std::sync::OnceLock<Chan> = std::sync::OnceLock::new();

/// Whether `outcome` is a panic saying that a replay's channel served
/// another execution.
fn foreign(message: &str) -> bool {
    message.contains("a channel made inside a replay was used by another execution")
}

/// A channel in a static made by one execution, then used by another: by a
/// replay after the recording that made it, by a recording, an exploration
/// and a plain run after the replay that made it. Each is a correct result
/// or a clear error: a recording thread on the replay's channel reached the
/// replay backend (an internal error, `unreachable!` in reprise's own code,
/// and the end's drop aborted the process once that panicked), and the
/// explorer reported the program's receive as disconnected (a false
/// finding).
#[test]
fn a_static_channel_made_by_one_execution_used_by_the_next() {
    let dir = scratch("executions-static-channel");
    let path = dir.join("a.trace");
    let recorded = record(&path, RecordConfig::new("a", "1"), || through(&MADE_BY_RECORDING)).unwrap();
    assert_eq!(recorded.result, Some(42));
    let trace = read_trace_file(&path).unwrap();
    // The replay that makes its own channel.
    let fresh = replay(&trace, || through(&MADE_BY_REPLAY));
    assert!(fresh.outcome.matched(), "fresh: {}", fresh.outcome);
    assert_eq!(fresh.result, Some(42));
    // A replay given the recording's channel: the parallel replay passes a
    // channel it did not make through, and says where that diverges (the
    // README: make such a static before any execution).
    let again = replay(&trace, || through(&MADE_BY_RECORDING));
    assert!(again.outcome.matched() || again.outcome.to_string().contains("diverged"), "{}", again.outcome);
    let coroutines = replay_coroutines(&trace, || through(&MADE_BY_RECORDING));
    assert!(coroutines.outcome.matched(), "{}", coroutines.outcome);
    assert_eq!(coroutines.result, Some(42));
    // A recording given the replay's channel: the program's call panics
    // with what to do, and the recording says so.
    let path2 = dir.join("b.trace");
    let second = record(&path2, RecordConfig::new("b", "1"), || through(&MADE_BY_REPLAY)).unwrap();
    assert!(
        matches!(&second.verdict, Verdict::Panicked { message, .. } if foreign(message)),
        "{:?}",
        second.verdict
    );
    assert!(read_trace_file(&path2).unwrap().is_whole());
    // An exploration: the same clear error, never a false finding.
    let config = reprise::explore::Config::default().budget(20).trace_dir(&dir).name("foreign");
    let explored = reprise::explore::Explorer::new(config).run(|| {
        through(&MADE_BY_REPLAY);
    });
    let failure = explored.failure.expect("the foreign channel's use is reported");
    assert!(
        matches!(&failure.kind, reprise::explore::FailureKind::Panic { message, .. } if foreign(message)),
        "{:?}",
        failure.kind
    );
    // The recording's channel under the explorer: nothing found.
    let config = reprise::explore::Config::default().budget(20).trace_dir(&dir).name("recorded-channel");
    let explored = reprise::explore::Explorer::new(config).run(|| {
        through(&MADE_BY_RECORDING);
    });
    assert!(explored.failure.is_none() && explored.blocked.is_none());
}

static READ_BACK: AtomicU64 = AtomicU64::new(0);

/// Two threads bump a static counter and keep what they read.
fn reads_back() -> String {
    let workers: Vec<_> = (0..2)
        .map(|_| {
            thread::spawn(|| (0..3).map(|_| READ_BACK.fetch_add(1, Ordering::SeqCst)).collect::<Vec<_>>())
        })
        .collect();
    let got: Vec<String> = workers.into_iter().map(|w| format!("{:?}", w.join().unwrap())).collect();
    got.join("|")
}

/// A static counter whose value the program reads back, recorded and
/// replayed while other executions bump it: as the README says of a
/// counter read back, each replay either matches or diverges on the value
/// (never another result). Parallel replay gives each read-modify-write
/// its recorded previous value once it checked that its own store wrote
/// that value (it handed the recorded one back unchecked and matched
/// before), or says that another recording's turns left a gap in this
/// trace's numbers; coroutine replay runs it on the static.
#[test]
fn a_static_counter_read_back_beside_other_executions() {
    let dir = scratch("executions-read-back");
    let workers: Vec<_> = (0..3)
        .map(|w| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let (mut diverged, mut gaps, mut values) = (0, 0, 0);
                for round in 0..5 {
                    let path = dir.join(format!("w{w}-r{round}.trace"));
                    let recorded = record(&path, RecordConfig::new("read-back", "1"), reads_back).unwrap();
                    let expected = recorded.result.unwrap();
                    let trace = read_trace_file(&path).unwrap();
                    let parallel = replay(&trace, reads_back);
                    if parallel.outcome.matched() {
                        assert_eq!(parallel.result.as_ref(), Some(&expected), "w{w} r{round}");
                    } else {
                        // Another recording's turns between this one's (a
                        // gap), or the counter's value since.
                        let said = parallel.outcome.to_string();
                        if said.contains("then skips to higher numbers") {
                            gaps += 1;
                        } else {
                            assert!(said.contains("the recording's wrote"), "w{w} r{round}: {said}");
                            values += 1;
                        }
                    }
                    let coroutines = replay_coroutines(&trace, reads_back);
                    if coroutines.outcome.matched() {
                        assert_eq!(coroutines.result.as_ref(), Some(&expected), "w{w} r{round}");
                    } else {
                        let said = coroutines.outcome.to_string();
                        assert!(
                            said.contains("the recording's outcome was AtomicRmw"),
                            "w{w} r{round}: {said}"
                        );
                        diverged += 1;
                    }
                }
                (diverged, gaps, values)
            })
        })
        .collect();
    let (diverged, gaps, values) = workers
        .into_iter()
        .map(|w| w.join().unwrap())
        .fold((0, 0, 0), |(d, g, v), (d2, g2, v2)| (d + d2, g + g2, v + v2));
    eprintln!(
        "read-back: of 15, {gaps} parallel replays saw a gap, {values} diverged on the value, \
         {diverged} coroutine replays diverged"
    );
}

/// A static lock that a thread outside every execution holds for a while.
static HELD_OUTSIDE: Mutex<u64> = Mutex::new(0);

/// Two threads add to [`HELD_OUTSIDE`] under its lock.
fn on_a_lock_held_outside() {
    let workers: Vec<_> = (0..2u64)
        .map(|w| {
            thread::spawn(move || {
                for i in 0..3 {
                    *HELD_OUTSIDE.lock().unwrap() += w + i;
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
}

/// Runs `run` while a plain std thread holds [`HELD_OUTSIDE`] (taken
/// before `run` starts, let go a moment later): what `run` returns, and
/// whether the lock was still held when it returned.
fn beside_a_holder<R>(run: impl FnOnce() -> R) -> (R, bool) {
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let released = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let holder = {
        let released = Arc::clone(&released);
        std::thread::spawn(move || {
            let guard = HELD_OUTSIDE.lock().unwrap();
            held_tx.send(()).unwrap();
            // Only to make the run meet the held lock; nothing is decided
            // from this time.
            std::thread::sleep(std::time::Duration::from_millis(300));
            released.store(true, Ordering::SeqCst);
            drop(guard);
        })
    };
    held_rx.recv().unwrap();
    let result = run();
    let still_held = !released.load(Ordering::SeqCst);
    holder.join().unwrap();
    (result, still_held)
}

/// A coroutine replay (and the explorer) whose lock found a static mutex
/// held by a thread outside the execution said "stalled" (the explorer: a
/// deadlock): the scheduler waited for one of its own coroutines to let
/// go, and none held it. Now such a lock waits for the outsider, as the
/// recording and the parallel replay do.
#[test]
fn a_coroutine_replay_and_the_explorer_wait_for_a_static_lock_held_outside_the_execution() {
    let dir = scratch("executions-held-outside");
    let path = dir.join("t.trace");
    let recorded = record(&path, RecordConfig::new("held-outside", "1"), on_a_lock_held_outside).unwrap();
    assert_eq!(recorded.verdict, Verdict::Completed);
    let trace = read_trace_file(&path).unwrap();
    let (report, still_held) = beside_a_holder(|| replay_coroutines(&trace, on_a_lock_held_outside));
    assert!(report.outcome.matched(), "coroutines: {}", report.outcome);
    assert!(!still_held, "the replay took a lock another thread held");
    let (report, _) = beside_a_holder(|| replay(&trace, on_a_lock_held_outside));
    assert!(report.outcome.matched(), "parallel: {}", report.outcome);
    let config = reprise::explore::Config::default().budget(20).seed(7).trace_dir(&dir).name("held-outside");
    let (outcome, still_held) =
        beside_a_holder(|| reprise::explore::Explorer::new(config).run(on_a_lock_held_outside));
    assert!(outcome.blocked.is_none(), "explore: {:?}", outcome.blocked);
    assert!(outcome.failure.is_none(), "explore: {:?}", outcome.failure.map(|f| f.kind));
    assert!(!still_held, "the exploration took a lock another thread held");
}

/// One per test below: each test's executions are the only ones on its
/// static RwLock.
static RW_AFTER_RECORDING: RwLock<u32> = RwLock::new(0);
static RW_SECOND_RECORDING: RwLock<u32> = RwLock::new(0);

/// A write, then a read of it, then (with `reads_first`) a read before the
/// write too: of the last execution's write, on a static.
fn write_then_read(lock: &'static RwLock<u32>, reads_first: bool) -> u32 {
    let before = if reads_first { *lock.read().unwrap() } else { 0 };
    *lock.write().unwrap() = 7;
    let seen = *lock.read().unwrap();
    before.min(1) + seen
}

/// A static RwLock's first write in a recording counts the readers of the
/// write before it, which another execution made (the recording's own
/// earlier runs, or a replay's): the first write of a trace waits only for
/// the reads the trace holds. Found by the eleventh set: the coroutine
/// replay after a parallel one diverged on the readers ("WriteLock {
/// write: 1, readers: 0 }; this run's is WriteLock { write: 3, readers: 1
/// }"), and a second recording's parallel replay called its own trace
/// forged ("write 2 of object #0 waits for 1 read locks of write 1, and
/// the trace records 0").
#[test]
fn a_static_rwlocks_first_write_waits_only_for_the_reads_its_trace_holds() {
    let dir = scratch("static-rwlock");
    for (lock, reads_first, name) in
        [(&RW_AFTER_RECORDING, false, "after"), (&RW_SECOND_RECORDING, true, "second")]
    {
        let program = move || write_then_read(lock, reads_first);
        let first = dir.join(format!("{name}-1.trace"));
        record(&first, RecordConfig::new(name, "1"), program).unwrap();
        let path = dir.join(format!("{name}-2.trace"));
        let recorded = record(&path, RecordConfig::new(name, "1"), program).unwrap();
        let expected = recorded.result.expect("the program returned");
        for path in [&first, &path] {
            let trace = read_trace_file(path).unwrap();
            assert!(trace.is_whole(), "{name}: {:?}", trace.damage);
            for round in 0..2 {
                let parallel = replay(&trace, program);
                assert!(parallel.outcome.matched(), "{name} {round}, parallel: {}", parallel.outcome);
                let coroutines = replay_coroutines(&trace, program);
                assert!(coroutines.outcome.matched(), "{name} {round}, coroutines: {}", coroutines.outcome);
                assert_eq!(coroutines.result, parallel.result, "{name} {round}");
            }
        }
        assert_eq!(expected, if reads_first { 8 } else { 7 });
    }
}
