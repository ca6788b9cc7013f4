use super::*;
use crate::trace::codec::{decode_chunk, EventEncoder};
use crate::trace::model::{Op, Record};

fn buffer(clock: &Arc<FlushClock>) -> (ChunkBuf, Receiver<WriterMsg>) {
    let (to_writer, inbox) = crossbeam_channel::unbounded();
    let (_recycle, recycled) = crossbeam_channel::bounded(1);
    (ChunkBuf::new(0, to_writer, recycled, CHUNK_TARGET, Arc::clone(clock)), inbox)
}

fn event(a: u64) -> Event {
    Event { op: Op::AtomicStore, object: 1, site: 0, a, b: 0, c: 0 }
}

/// The records of a block handed over, encoded as the writer would.
fn decode(block: &Block) -> Vec<Record> {
    decode_chunk(block.chunk_payload(&mut EventEncoder::new(), &mut Vec::new())).unwrap()
}

fn chunks(inbox: &Receiver<WriterMsg>) -> Vec<(u32, Vec<Record>)> {
    inbox
        .try_iter()
        .filter_map(|msg| match msg {
            WriterMsg::Chunk { events, block, .. } => Some((events, decode(&block))),
            WriterMsg::Skipped { .. }
            | WriterMsg::HandedOver { .. }
            | WriterMsg::Finish { .. }
            | WriterMsg::PanicCaught { .. } => None,
        })
        .collect()
}

#[test]
fn a_closed_buffer_drops_later_events_and_records_without_a_panic() {
    let clock = FlushClock::new(false);
    let (mut buf, inbox) = buffer(&clock);
    buf.push_event(&event(1));
    buf.close();
    for n in 0..100_000 {
        buf.push_event(&event(n));
    }
    buf.push_site(0, "late.rs", 1, 1);
    buf.push_blob(&[7; 4096]);
    buf.flush();
    buf.close();
    let written = chunks(&inbox);
    assert_eq!(written.len(), 1, "only the chunk handed over at close");
    assert_eq!(written[0].0, 1);
}

#[test]
fn a_moved_epoch_hands_the_buffered_events_over_at_the_next_event() {
    let clock = FlushClock::new(false);
    let (mut buf, inbox) = buffer(&clock);
    buf.push_event(&event(1));
    assert!(chunks(&inbox).is_empty(), "a few bytes stay buffered");
    clock.tick();
    buf.push_event(&event(2));
    let written = chunks(&inbox);
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].0, 1, "the events before the one that noticed the epoch");
    buf.flush();
    let rest = chunks(&inbox);
    assert_eq!(rest.len(), 1);
    assert!(matches!(rest[0].1.last(), Some(Record::Event(e)) if e.a == 2), "{:?}", rest[0].1);
}

/// Every message says which epoch its thread had seen, and the first a
/// thread sends having seen a new one holds exactly what it recorded
/// before it saw it: a flight dump cuts each thread there, so that no
/// event in it depends on one another thread made after its own cut.
#[test]
fn a_thread_hands_over_what_it_recorded_before_it_saw_the_epoch() {
    let clock = FlushClock::new(false);
    let (mut buf, inbox) = buffer(&clock);
    let messages = |inbox: &Receiver<WriterMsg>| {
        inbox
            .try_iter()
            .map(|msg| match msg {
                WriterMsg::Chunk { epoch, block, .. } => {
                    let values = decode(&block)
                        .into_iter()
                        .filter_map(|r| match r {
                            Record::Event(e) => Some(e.a),
                            _ => None,
                        })
                        .collect::<Vec<_>>();
                    (epoch, values)
                }
                WriterMsg::HandedOver { epoch, .. } => (epoch, Vec::new()),
                WriterMsg::Skipped { .. } | WriterMsg::Finish { .. } | WriterMsg::PanicCaught { .. } => {
                    unreachable!()
                }
            })
            .collect::<Vec<_>>()
    };
    buf.push_event(&event(1));
    buf.flush();
    let before = clock.epoch();
    assert_eq!(messages(&inbox), [(before, vec![1])]);
    buf.push_event(&event(2));
    buf.push_event(&event(3));
    let gathering = clock.tick();
    buf.push_event(&event(4));
    assert_eq!(
        messages(&inbox),
        [(gathering, vec![2, 3])],
        "event 4 saw the epoch: not handed over with 2 and 3"
    );
    // Nothing recorded before the event that sees the next move: a message
    // says so (a dump does not wait for the thread).
    let next = clock.tick();
    buf.push_event(&event(5));
    assert_eq!(messages(&inbox), [(next, vec![4])]);
    let last = clock.tick();
    buf.flush();
    assert_eq!(
        messages(&inbox),
        [(next, vec![5])],
        "a flush by another thread keeps the epoch the buffer saw"
    );
    buf.push_event(&event(6));
    assert_eq!(messages(&inbox), [(last, vec![])]);
    // The event that sees the move fills the block: what came before goes
    // first, then the full block with it.
    while buf.block.len + 16 < buf.target {
        buf.push_event(&event(7));
    }
    assert_eq!(messages(&inbox), []);
    let full = clock.tick();
    buf.push_event(&event(8));
    let sent = messages(&inbox);
    assert_eq!(sent.len(), 1, "{}", sent.len());
    assert_eq!(sent[0].0, full);
    assert!(sent[0].1.iter().all(|&a| a == 6 || a == 7), "event 8 is not in it");
    buf.flush();
    assert_eq!(messages(&inbox), [(full, vec![8])]);
}

#[test]
fn a_closing_clock_closes_the_buffer_at_its_next_event() {
    let clock = FlushClock::new(false);
    let (mut buf, inbox) = buffer(&clock);
    buf.push_event(&event(1));
    clock.enter(ClockState::Closing);
    buf.push_event(&event(2));
    buf.push_event(&event(3));
    buf.flush();
    let written = chunks(&inbox);
    assert_eq!(written.iter().map(|c| c.0).collect::<Vec<_>>(), vec![2], "handed over, then closed");
    assert_eq!(clock.open.load(std::sync::atomic::Ordering::Acquire), 0);
}

#[test]
fn a_stopped_recording_drops_what_is_buffered_and_everything_after() {
    let clock = FlushClock::new(false);
    let (mut buf, inbox) = buffer(&clock);
    buf.push_event(&event(1));
    clock.enter(ClockState::Stopped);
    clock.enter(ClockState::Closing);
    assert_eq!(clock.state(), ClockState::Stopped, "a failure is final");
    for n in 0..10_000 {
        buf.push_event(&event(n));
    }
    buf.close();
    assert!(chunks(&inbox).is_empty(), "nothing reaches the writer once stopped");
    assert_eq!(clock.open.load(std::sync::atomic::Ordering::Acquire), 0);
}

/// Fills `buf` until it hands over `chunks` chunks or stops handing any.
fn fill(buf: &mut ChunkBuf, inbox: &Receiver<WriterMsg>, chunks: usize) -> Vec<Block> {
    let mut taken = Vec::new();
    for n in 0..(chunks as u64 + 2) * CHUNK_TARGET as u64 {
        buf.push_event(&event(n));
        taken.extend(inbox.try_iter().filter_map(|msg| match msg {
            WriterMsg::Chunk { block, .. } => Some(block),
            WriterMsg::Skipped { .. }
            | WriterMsg::HandedOver { .. }
            | WriterMsg::Finish { .. }
            | WriterMsg::PanicCaught { .. } => None,
        }));
        if taken.len() == chunks {
            break;
        }
    }
    taken
}

#[test]
fn a_thread_stops_at_the_pending_cap_and_hands_nothing_over_after_it() {
    let clock = FlushClock::with_pending_cap(false, 3 * CHUNK_TARGET);
    let (mut buf, inbox) = buffer(&clock);
    let held = fill(&mut buf, &inbox, 10);
    // The small first block and two full ones fit under three targets.
    assert_eq!(held.len(), 3, "handed over while under the cap");
    assert_eq!(clock.state(), ClockState::Capped);
    assert!(clock.capped().is_some_and(|why| why.contains("pending cap")));
    buf.flush();
    assert_eq!(inbox.try_iter().count(), 0, "nothing after the cap");
    assert_eq!(clock.open.load(std::sync::atomic::Ordering::Acquire), 0, "the buffer closed");
}

#[test]
fn written_chunks_no_longer_count_against_the_cap() {
    let clock = FlushClock::with_pending_cap(false, 3 * CHUNK_TARGET);
    let (mut buf, inbox) = buffer(&clock);
    for _ in 0..10 {
        // A writer that keeps up: each chunk is written as it comes.
        for mut block in fill(&mut buf, &inbox, 1) {
            block.written();
        }
    }
    assert_eq!(clock.state(), ClockState::Recording, "never capped");
    assert_eq!(buf.pending.load(std::sync::atomic::Ordering::Acquire), 0);
}

#[test]
fn a_thread_encodes_its_own_blocks_while_the_writer_is_behind() {
    let clock = FlushClock::new(false);
    let (mut buf, inbox) = buffer(&clock);
    // A writer that takes nothing. Store numbers start at 1.
    let mut n = 1;
    while inbox.len() < WRITER_BEHIND + 3 {
        buf.push_event(&event(n));
        n += 1;
    }
    let blocks: Vec<(u32, Block)> = inbox
        .try_iter()
        .filter_map(|msg| match msg {
            WriterMsg::Chunk { events, block, .. } => Some((events, block)),
            WriterMsg::Skipped { .. }
            | WriterMsg::HandedOver { .. }
            | WriterMsg::Finish { .. }
            | WriterMsg::PanicCaught { .. } => None,
        })
        .collect();
    let kinds: Vec<bool> = blocks.iter().map(|(_, block)| block.encoded).collect();
    assert!(
        kinds[..WRITER_BEHIND].iter().all(|&encoded| !encoded),
        "raw while the writer keeps up: {kinds:?}"
    );
    assert!(kinds[WRITER_BEHIND..].iter().all(|&encoded| encoded), "encoded once it is behind: {kinds:?}");
    let (events, late) = &blocks[WRITER_BEHIND + 1];
    let records = decode_chunk(late.payload()).unwrap();
    assert_eq!(records.iter().filter(|r| matches!(r, Record::Event(_))).count(), *events as usize);
    assert!(late.len * 4 < blocks[1].1.len, "a fraction of the raw block's bytes");
    // Every event, raw or encoded, in order.
    let stored: Vec<u64> = blocks
        .iter()
        .flat_map(|(_, block)| decode(block))
        .filter_map(|r| match r {
            Record::Event(e) => Some(e.a),
            _ => None,
        })
        .collect();
    assert_eq!(stored, (1..=stored.len() as u64).collect::<Vec<_>>());
}

#[test]
fn a_blob_longer_than_a_chunk_is_stored_whole_in_pieces() {
    let clock = FlushClock::new(false);
    let (mut buf, inbox) = buffer(&clock);
    let blob: Vec<u8> = (0..3u32 << 20).map(|i| (i % 253) as u8).collect();
    buf.push_event(&Event { op: Op::Capture, object: 0, site: 0, a: blob.len() as u64, b: 0, c: 0 });
    buf.push_blob(&blob);
    buf.close();
    let mut joined = Vec::new();
    for (_, records) in chunks(&inbox) {
        for record in records {
            if let Record::Blob(piece) = record {
                assert!(piece.len() <= BLOB_PIECE);
                joined.extend_from_slice(&piece);
            }
        }
    }
    assert_eq!(joined, blob);
}

/// Every thread's buffer stays in the execution after the thread exits, so
/// its size is what a program that spawns a thread per task grows by per
/// thread while recording (80,000 threads: 135 MB with the encoder's delta
/// tables inline, 53 MB boxed when first needed).
#[test]
fn a_buffer_keeps_no_encoder_tables_inline() {
    let size = std::mem::size_of::<ChunkBuf>();
    assert!(size <= 320, "ChunkBuf is {size} bytes");
    let clock = FlushClock::new(false);
    let (buf, _inbox) = buffer(&clock);
    assert!(buf.encoder.is_none(), "the encoder is made only when the writer falls behind");
}

/// Under the flight recorder a thread's drops go with its next block, after
/// its own events on the objects (the keeper forgets a name only once every
/// event on it has come in); a closed buffer takes none (nothing would carry
/// them: the caller sends them another way).
#[test]
fn drops_go_with_the_next_block_and_a_closed_buffer_refuses_them() {
    let clock = FlushClock::new(false);
    let (mut buf, inbox) = buffer(&clock);
    let dropped = |inbox: &Receiver<WriterMsg>| -> Vec<Vec<ObjectIndex>> {
        inbox
            .try_iter()
            .filter_map(|msg| match msg {
                WriterMsg::Chunk { block, .. } => Some(block.dropped),
                WriterMsg::Skipped { dropped, .. } => Some(dropped),
                WriterMsg::HandedOver { .. } | WriterMsg::Finish { .. } | WriterMsg::PanicCaught { .. } => {
                    None
                }
            })
            .collect()
    };
    buf.push_event(&event(1));
    assert!(buf.push_dropped(1));
    assert!(buf.push_dropped(7));
    assert!(dropped(&inbox).is_empty(), "nothing handed over yet");
    buf.flush();
    assert_eq!(dropped(&inbox), vec![vec![1, 7]]);
    buf.push_event(&event(2));
    buf.flush();
    assert_eq!(dropped(&inbox), vec![Vec::<ObjectIndex>::new()], "each drop goes once");
    buf.close();
    assert!(!buf.push_dropped(9));
}

/// A block dropped at the flight recorder's pending cap still hands its
/// drops over, with the names it defined.
#[test]
fn a_block_skipped_at_the_cap_hands_its_drops_over() {
    let clock = FlushClock::flight(1);
    let (mut buf, inbox) = buffer(&clock);
    buf.push_event(&event(1));
    assert!(buf.push_dropped(3));
    buf.flush();
    let skipped: Vec<Vec<ObjectIndex>> = inbox
        .try_iter()
        .filter_map(|msg| match msg {
            WriterMsg::Skipped { dropped, .. } => Some(dropped),
            _ => None,
        })
        .collect();
    assert_eq!(skipped, vec![vec![3]]);
}

/// A name recorded before the first event of a block (a receive names its
/// channel, then waits for a message) belongs before the cut made by the
/// event that sees the epoch move: the thread hands it over then, alone,
/// and the event goes after. It was kept with the event, so a flight dump
/// cut there held another thread's send on that channel and no name for
/// it (tests/flight.rs, about one loaded run in 500).
#[test]
fn a_name_recorded_before_the_event_that_sees_the_epoch_goes_before_the_cut() {
    let clock = FlushClock::new(false);
    let (mut buf, inbox) = buffer(&clock);
    buf.push_event(&event(1));
    buf.flush();
    let _ = chunks(&inbox);
    buf.push_object(485, crate::trace::model::ObjectKind::Channel, 0);
    let cut = clock.tick();
    buf.push_event(&event(2));
    let sent: Vec<WriterMsg> = inbox.try_iter().collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let WriterMsg::Chunk { epoch, events, block, .. } = &sent[0] else {
        panic!("the name is handed over in a chunk, not as nothing: {sent:?}");
    };
    assert_eq!((*epoch, *events), (cut, 0));
    let records = decode(block);
    assert!(records.iter().any(|r| matches!(r, Record::Object { index: 485, .. })), "{records:?}");
    assert!(!records.iter().any(|r| matches!(r, Record::Event(_))), "{records:?}");
    buf.flush();
    let rest = chunks(&inbox);
    assert!(matches!(rest[0].1.last(), Some(Record::Event(e)) if e.a == 2), "{:?}", rest[0].1);
}

/// A send is recorded once its message is in the channel: a receiver may
/// have taken it, and recorded that before its own cut, by the time the
/// sender sees the epoch move. So a send (or a select's send arm) that sees
/// the move goes with what came before it; any other event goes after.
#[test]
fn a_send_that_sees_the_epoch_goes_with_what_came_before_it() {
    use crate::trace::model::{Outcome, Received, Sent};
    let send = Event::new(Outcome::Send(Sent::Delivered { seq: 7 }), 1, 0);
    let select_send = Event::new(Outcome::SelectSend { arm: 1, sent: Sent::Delivered { seq: 8 } }, 1, 0);
    let select_recv =
        Event::new(Outcome::Select { arm: 0, received: Received::Message { sender: 1, seq: 2 } }, 1, 0);
    for (seeing, goes_with) in [(send, true), (select_send, true), (select_recv, false), (event(3), false)] {
        let clock = FlushClock::new(false);
        let (mut buf, inbox) = buffer(&clock);
        buf.push_event(&event(1));
        clock.tick();
        buf.push_event(&seeing);
        let handed: Vec<Record> =
            chunks(&inbox)[0].1.iter().filter(|r| matches!(r, Record::Event(_))).cloned().collect();
        let mut expected = vec![Record::Event(event(1))];
        if goes_with {
            expected.push(Record::Event(seeing));
        }
        assert_eq!(handed, expected, "{:?}", seeing.op);
    }
}
