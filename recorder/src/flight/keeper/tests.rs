use parking_lot::Mutex;

use super::*;
use crate::record::RecordConfig;
use crate::rt::chunk::{ChunkBuf, CHUNK_TARGET};
use crate::rt::exec::{Blocked, ExecKind, RecordSink, ThreadShared};
use crate::trace::model::{Event, ObjectKind, Op, Record, NO_THREAD};
use crate::trace::read::read_trace_file;

/// A keeper of two threads' chunks (rings keeping each thread's newest
/// chunk only), built as a flight recording builds it but driven by the
/// test: nothing runs on its own.
struct Scene {
    keeper: Keeper,
    drops: Sender<ObjectIndex>,
    main: Arc<ThreadShared>,
    worker: Arc<ThreadShared>,
    path: PathBuf,
}

fn scene(name: &str) -> Scene {
    let (to_writer, inbox) = crossbeam_channel::unbounded();
    let (recycle, recycled) = crossbeam_channel::bounded(64);
    let (drops_tx, drops) = crossbeam_channel::unbounded();
    let (_requests_tx, requests) = crossbeam_channel::unbounded();
    let clock = FlushClock::flight(1 << 20);
    let buf = |thread| {
        let buf =
            ChunkBuf::new(thread, to_writer.clone(), recycled.clone(), CHUNK_TARGET, Arc::clone(&clock));
        Arc::new(ThreadShared::new(thread, Some(Arc::new(Mutex::new(buf)))))
    };
    let (main, worker) = (buf(0), buf(1));
    let sink = RecordSink {
        to_writer,
        recycled,
        seed: 0,
        clock: Arc::clone(&clock),
        handover: Duration::from_secs(1),
    };
    let exec = Execution::new(ExecKind::Record(sink));
    exec.threads.lock().extend([Arc::clone(&main), Arc::clone(&worker)]);
    let dir = std::env::temp_dir().join(format!("reprise-keeper-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dump.trace");
    let mut config = FlightConfig::new(RecordConfig::new("keeper-test", "1"));
    config.events = 1;
    let inputs = KeeperInputs { inbox, requests, drops, recycle };
    Scene { keeper: Keeper::new(exec, clock, &path, &config, inputs), drops: drops_tx, main, worker, path }
}

fn store(object: ObjectIndex) -> Event {
    Event { op: Op::AtomicStore, object, site: 0, a: 1, b: 0, c: 0 }
}

/// `shared`'s thread records `events` and hands them over as one chunk,
/// which the keeper takes.
fn hand_over(keeper: &mut Keeper, shared: &ThreadShared, events: &[Event]) {
    let mut buf = shared.buf.as_ref().unwrap().lock();
    for event in events {
        buf.push_event(event);
    }
    buf.flush();
    drop(buf);
    keeper.take_queued();
}

/// The main thread's first records: itself, a site, and atomics `x` and
/// `y`, then a chunk storing to `x` and one storing to `y`: the rings keep
/// the newest chunk only, so `x`'s name is kept from the one overwritten
/// and no kept chunk is on `x`.
fn main_names_x_and_y(keeper: &mut Keeper, main: &ThreadShared, x: ObjectIndex, y: ObjectIndex) {
    {
        let mut buf = main.buf.as_ref().unwrap().lock();
        buf.push_thread(0, NO_THREAD, 0, "main");
        buf.push_site(0, "scene.rs", 1, 1);
        buf.push_object(x, ObjectKind::Atomic, 0);
        buf.push_object(y, ObjectKind::Atomic, 0);
    }
    hand_over(keeper, main, &[store(x)]);
    hand_over(keeper, main, &[store(y)]);
}

/// The objects the events of a dump are on that the dump does not name.
fn unnamed_objects(path: &Path) -> Vec<ObjectIndex> {
    let trace = read_trace_file(path).unwrap();
    let mut named = std::collections::HashSet::new();
    let mut used = Vec::new();
    for record in trace.threads.values().flat_map(|records| records.iter()) {
        match record {
            Record::Object { index, .. } => {
                named.insert(*index);
            }
            Record::Event(e) if e.op.has_object() => used.push(e.object),
            _ => {}
        }
    }
    used.retain(|o| !named.contains(o));
    used
}

/// A thread that was running at a look (its events on an object dropped
/// before it still buffered) and exits before the next look settles that
/// round; but its last chunk, handed over before it said it exited, is
/// still queued behind the chunk whose taking makes the next look. Counting
/// it settled by its exit alone forgot the object's name (kept only from an
/// overwritten chunk) and then took its events on it: the dump held events
/// on an object it did not name.
#[test]
fn a_look_settled_by_an_exit_takes_the_exited_threads_last_chunk_before_it_forgets() {
    let Scene { mut keeper, drops, main, worker, path } = scene("exit-settles");
    let (x, y) = (0, 1);
    main_names_x_and_y(&mut keeper, &main, x, y);
    // The worker runs (it holds its buffer) with a store to `x` buffered;
    // then `x` is dropped.
    let mut running = worker.buf.as_ref().unwrap().lock();
    running.push_thread(1, 0, 0, "worker");
    running.push_event(&store(x));
    drops.send(x).unwrap();
    // A look: it hears of the drop, and waits for the running worker.
    keeper.rings.look_soon();
    hand_over(&mut keeper, &main, &[store(y)]);
    assert!(keeper.round.as_ref().is_some_and(|waiting| waiting.iter().any(|&(t, _)| t == 1)));
    // The main thread hands a chunk over, then the worker its last one
    // and exits.
    {
        let mut buf = main.buf.as_ref().unwrap().lock();
        buf.push_event(&store(y));
        buf.flush();
    }
    running.push_event(&Event { op: Op::ThreadExit, object: 0, site: 0, a: 0, b: 0, c: 0 });
    running.close();
    drop(running);
    worker.exited.store(true, Ordering::Release);
    // Taking the main thread's chunk makes the next look.
    keeper.rings.look_soon();
    let msg = keeper.inbox.try_recv().unwrap();
    keeper.take(msg);
    keeper.take_queued();
    keeper.write(Verdict::Completed, Vec::new(), "test", false).unwrap();
    assert_eq!(unnamed_objects(&path), Vec::<ObjectIndex>::new());
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

/// A look taken while a dump gathers flushes every blocked thread's buffer
/// and counts the thread settled; but a thread that already handed over
/// for that dump has its flushed chunk held aside until the dump is
/// written, not in the rings, so the next look found no kept chunk on an
/// object that chunk's events are on and forgot the object's name: the
/// chunk, taken after the dump, left a later dump with events on an
/// object it did not name.
#[test]
fn a_look_during_a_dump_waits_for_the_chunks_held_aside() {
    let Scene { mut keeper, drops, main, worker, path } = scene("look-while-gathering");
    let (x, y) = (0, 1);
    main_names_x_and_y(&mut keeper, &main, x, y);
    // A dump gathers: the worker sees the epoch move at its first event
    // and hands over (nothing before it), then stores to `x` and blocks.
    let cut = keeper.clock.tick();
    keeper.gather_epoch = Some(cut);
    keeper.handed_over.clear();
    {
        let mut buf = worker.buf.as_ref().unwrap().lock();
        buf.push_thread(1, 0, 0, "worker");
        buf.push_event(&store(y));
        buf.push_event(&store(x));
    }
    keeper.take_queued();
    assert!(keeper.handed_over.contains(&1), "the worker handed over for the dump");
    // `x` is dropped; two looks while the dump gathers.
    drops.send(x).unwrap();
    keeper.rings.dropped(keeper.drops.try_iter().collect::<Vec<_>>());
    for _ in 0..2 {
        keeper.rings.look_soon();
        keeper.look();
    }
    keeper.write(Verdict::Completed, Vec::new(), "test", true).unwrap();
    keeper.end_gather();
    keeper.take_queued();
    // Later looks, now that the worker's chunk is in the rings.
    for _ in 0..2 {
        keeper.rings.look_soon();
        keeper.look();
    }
    keeper.write(Verdict::Completed, Vec::new(), "test", false).unwrap();
    assert_eq!(unnamed_objects(&path), Vec::<ObjectIndex>::new());
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

/// A thread blocked in a send whose message a receiver took, and recorded
/// before the dump moved the epoch, records its send only once it runs
/// again. The gathering took its free buffer as all it held and counted it
/// handed over, so its send came after that and was held aside: the dump
/// held the receive without its send. The gathering waits for the send.
#[test]
fn a_dump_waits_for_the_send_of_a_blocked_sender_whose_message_was_taken() {
    let Scene { mut keeper, main, worker, path, .. } = scene("taken-send");
    // A backstop only: the gathering waits for the worker's send.
    keeper.handover = Duration::from_secs(600);
    {
        let mut buf = main.buf.as_ref().unwrap().lock();
        buf.push_thread(0, NO_THREAD, 0, "main");
        buf.push_site(0, "scene.rs", 1, 1);
        buf.push_object(0, ObjectKind::Channel, 0);
    }
    {
        let mut buf = worker.buf.as_ref().unwrap().lock();
        buf.push_thread(1, 0, 0, "worker");
        buf.push_site(0, "scene.rs", 2, 1);
    }
    {
        let mut state = worker.block.lock();
        let location = std::panic::Location::caller();
        state.blocked = Some(Blocked { op: Op::Send, target: 0, location, timed: false, progress: None });
        state.sending = Some(1);
        state.taken = true;
    }
    let flushed_before = worker.buf.as_ref().unwrap().lock().mark().0;
    let waking = {
        let worker = Arc::clone(&worker);
        std::thread::spawn(move || loop {
            // The worker runs again once the gathering took its buffer:
            // it takes the buffer back, then records its send.
            let mut buf = worker.buf.as_ref().unwrap().lock();
            if buf.mark().0 > flushed_before {
                let mut state = worker.block.lock();
                (state.blocked, state.sending, state.taken) = (None, None, false);
                drop(state);
                buf.push_event(&Event { op: Op::Send, object: 0, site: 0, a: 1, b: 0, c: 0 });
                return;
            }
            drop(buf);
            std::thread::yield_now();
        })
    };
    keeper.gather(None);
    waking.join().unwrap();
    assert!(keeper.late.is_empty(), "the worker handed over");
    keeper.dump(Verdict::Completed, "test").unwrap();
    keeper.end_gather();
    let trace = read_trace_file(&path).unwrap();
    let sends =
        trace.threads[&1].iter().filter(|r| matches!(r, Record::Event(e) if e.op == Op::Send)).count();
    assert_eq!(sends, 1, "the dump holds the worker's send");
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}
