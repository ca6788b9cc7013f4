//! Writing a dump: the rings as a normal trace, with a header saying it is a
//! window and where each thread's records start.
//!
//! Per thread, in order: when chunks were overwritten, chunks with the table
//! records they defined (the thread, its call sites, the objects it named);
//! then the chunks kept, numbered on from there. A thread retired long ago
//! has only its table chunks. The first chunk kept may
//! start with the last pieces of a value whose event was overwritten: those
//! are left out, so every blob in the dump follows its event. The file is
//! written beside its path and renamed over it, so a reader never sees half
//! a dump and an older dump stays whole until the new one is.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::flight::ring::{Rings, ThreadRing};
use crate::trace::codec::{self, decode_chunk, EventEncoder};
use crate::trace::format::{Footer, Header, TraceMode};
use crate::trace::model::Record;
use crate::trace::window::{Window, WINDOW_PARAMETER};
use crate::trace::write::TraceWriter;

/// The most table bytes one chunk of a dump carries (well inside the format's limit).
const TABLES_PER_CHUNK: usize = 256 * 1024;

/// What a dump wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DumpInfo {
    /// The file.
    pub path: PathBuf,
    /// Events in it.
    pub events: u64,
    /// Whether its window covers the run from every thread's first event
    /// (then it replays).
    pub covers_run: bool,
    /// The window: where each thread's records start.
    pub window: Window,
}

/// Writes `rings` to `path` as a trace with `header` (its mode and window
/// are set here) and `footer` (its event count is set here).
pub(crate) fn write(
    path: &Path,
    mut header: Header,
    mut footer: Footer,
    rings: &Rings,
) -> io::Result<DumpInfo> {
    let mut window = Window::whole();
    for (&thread, ring) in &rings.threads {
        window.set_start(thread, ring.first_event);
    }
    for (&thread, retired) in &rings.retired {
        window.set_start(thread, retired.first_event);
    }
    header.mode = TraceMode::FlightRecorder;
    header.parameters.retain(|(k, _)| k != WINDOW_PARAMETER);
    header.parameters.push((WINDOW_PARAMETER.to_owned(), window.to_string()));
    let events: u64 = rings.threads.values().map(|r| r.events).sum();
    footer.events = events;

    let temporary = beside(path);
    let written = (|| {
        let file = crate::trace::file::create(&temporary)?;
        let mut writer = TraceWriter::create(BufWriter::with_capacity(64 * 1024, file), &header)?;
        for (&thread, ring) in &rings.threads {
            write_thread(&mut writer, thread, ring)?;
        }
        for (&thread, retired) in &rings.retired {
            write_tables(&mut writer, thread, &retired.tables)?;
        }
        let mut out = writer.finish(&footer)?;
        out.flush()?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()
    })();
    // A rename that fails (the path is a directory, say) leaves the
    // temporary behind as a failed write does: both remove it.
    if let Err(e) = written.and_then(|()| fs::rename(&temporary, path)) {
        let _ = fs::remove_file(&temporary);
        return Err(e);
    }
    Ok(DumpInfo { path: path.to_path_buf(), events, covers_run: window.covers_run(), window })
}

/// The temporary file a dump is written to before it takes `path`'s place.
fn beside(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".{}.partial", std::process::id()));
    path.with_file_name(name)
}

fn write_thread<W: Write>(writer: &mut TraceWriter<W>, thread: u32, ring: &ThreadRing) -> io::Result<()> {
    let first = write_tables(writer, thread, &ring.tables)?;
    for (seq, (i, held)) in (first..).zip(ring.chunks.iter().enumerate()) {
        let payload = held.block.payload();
        if i == 0 && !ring.whole() {
            writer.write_chunk(thread, seq, &without_leading_blobs(payload))?;
        } else {
            writer.write_chunk(thread, seq, payload)?;
        }
    }
    Ok(())
}

/// Writes `thread`'s table records as its first chunks; returns how many.
fn write_tables<W: Write>(writer: &mut TraceWriter<W>, thread: u32, mut tables: &[u8]) -> io::Result<u32> {
    let mut seq = 0u32;
    while !tables.is_empty() {
        let cut = split_point(tables, TABLES_PER_CHUNK);
        writer.write_chunk(thread, seq, &tables[..cut])?;
        tables = &tables[cut..];
        seq += 1;
    }
    Ok(seq)
}

/// Where to cut a run of encoded table records at most `limit` bytes in,
/// at a record boundary (the whole run when it fits, or when no boundary
/// does: a single record is never split).
fn split_point(tables: &[u8], limit: usize) -> usize {
    if tables.len() <= limit {
        return tables.len();
    }
    let Ok(records) = decode_chunk(tables) else { return tables.len() };
    let mut at = 0;
    let mut encoder = EventEncoder::new();
    for record in records {
        let mut one = Vec::new();
        codec::encode_record(&mut encoder, &mut one, &record);
        if at > 0 && at + one.len() > limit {
            return at;
        }
        at += one.len();
    }
    at
}

/// `payload` without the blob pieces before its first event: they belong to
/// an event that was overwritten.
fn without_leading_blobs(payload: &[u8]) -> Vec<u8> {
    let Ok(records) = decode_chunk(payload) else { return payload.to_vec() };
    let first_event = records.iter().position(|r| matches!(r, Record::Event(_))).unwrap_or(records.len());
    if !records[..first_event].iter().any(|r| matches!(r, Record::Blob(_))) {
        return payload.to_vec();
    }
    let mut out = Vec::with_capacity(payload.len());
    let mut encoder = EventEncoder::new();
    for (i, record) in records.iter().enumerate() {
        if i < first_event && matches!(record, Record::Blob(_)) {
            continue;
        }
        codec::encode_record(&mut encoder, &mut out, record);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flight::ring::Budget;
    use crate::rt::chunk::Block;
    use crate::trace::format::Verdict;
    use crate::trace::model::{Event, Op};

    fn header() -> Header {
        Header {
            program: "p".into(),
            program_version: "1".into(),
            recorder_version: "0".into(),
            mode: TraceMode::Record,
            parameters: vec![],
            start_unix_ms: 0,
        }
    }

    #[test]
    fn a_value_cut_by_the_ring_is_left_out_and_the_dump_reads_whole() {
        let mut enc = EventEncoder::new();
        let mut first = Vec::new();
        codec::encode_thread(&mut first, 0, u32::MAX, 0, "main");
        codec::encode_site(&mut first, 0, "a.rs", 1, 1);
        enc.encode_event(&mut first, &Event { op: Op::Capture, object: 0, site: 0, a: 4, b: 0, c: 0 });
        let mut second = Vec::new();
        codec::encode_blob(&mut second, b"tail");
        let mut enc = EventEncoder::new();
        enc.encode_event(&mut second, &Event { op: Op::ThreadExit, object: 0, site: 0, a: 0, b: 0, c: 0 });
        let mut rings = Rings::new(Budget { events: 1, bytes: usize::MAX });
        let mut spare = Vec::new();
        rings.push(0, 1, Block::holding(&first), None, &mut spare);
        rings.push(0, 1, Block::holding(&second), None, &mut spare);
        let path = std::env::temp_dir().join(format!("flight-dump-unit-{}.trace", std::process::id()));
        let footer = Footer { verdict: Verdict::Completed, annotations: vec![], events: 0 };
        let info = write(&path, header(), footer, &rings).unwrap();
        assert!(!info.covers_run);
        assert_eq!(info.window.first_event(0), 1);
        let trace = crate::trace::read::read_trace(&fs::read(&path).unwrap()).unwrap();
        assert!(trace.is_whole(), "{:?}", trace.damage);
        assert_eq!(trace.header.mode, TraceMode::FlightRecorder);
        assert_eq!(Window::of(&trace.header).unwrap(), Some(info.window));
        let records = &trace.threads[&0];
        assert!(matches!(records[0], Record::Thread { .. }), "the overwritten thread record: {records:?}");
        assert!(!records.iter().any(|r| matches!(r, Record::Blob(_))), "{records:?}");
        assert_eq!(trace.events, 1);
        fs::remove_file(&path).unwrap();
    }

    /// A thread that exited long ago, its exit taken, keeps only its
    /// thread record, the objects it named and their call sites; its
    /// window starts after its last event. The dump still reads whole and
    /// names it, and a dropped object it named is forgotten like any other.
    #[test]
    fn a_retired_thread_keeps_its_name_and_its_objects_names() {
        use std::collections::VecDeque;
        let mut first = Vec::new();
        codec::encode_thread(&mut first, 3, 0, 0, "task");
        codec::encode_site(&mut first, 0, "task.rs", 1, 1);
        codec::encode_site(&mut first, 1, "task.rs", 2, 1);
        codec::encode_object(&mut first, 9, crate::trace::model::ObjectKind::Atomic, 1);
        let mut enc = EventEncoder::new();
        enc.encode_event(&mut first, &Event { op: Op::AtomicStore, object: 9, site: 0, a: 1, b: 0, c: 0 });
        enc.encode_event(&mut first, &Event { op: Op::ThreadExit, object: 0, site: 0, a: 0, b: 0, c: 0 });
        let mut rings = Rings::new(Budget { events: 1000, bytes: usize::MAX });
        let mut spare = Vec::new();
        let mut last = Block::holding(&first);
        last.last = true;
        rings.push(3, 2, last, None, &mut spare);
        rings.retire_exited(&mut VecDeque::from([3]), 0, &mut spare);
        assert!(rings.threads.is_empty() && rings.holding() == 0);
        assert_eq!(rings.pushed(3), 1);
        // Its unneeded call sites go at the next look.
        rings.look(false);
        let path = std::env::temp_dir().join(format!("flight-dump-retired-{}.trace", std::process::id()));
        let footer = || Footer { verdict: Verdict::Completed, annotations: vec![], events: 0 };
        let info = write(&path, header(), footer(), &rings).unwrap();
        assert_eq!(info.window.first_event(3), 2);
        let trace = crate::trace::read::read_trace(&fs::read(&path).unwrap()).unwrap();
        assert!(trace.is_whole(), "{:?}", trace.damage);
        let records = &trace.threads[&3];
        assert_eq!(records.len(), 3, "{records:?}");
        assert!(matches!(records[0], Record::Thread { index: 3, .. }));
        assert!(matches!(records[1], Record::Site { index: 1, .. }), "the object's site only: {records:?}");
        assert!(matches!(records[2], Record::Object { index: 9, .. }));
        // Dropped, heard of before a look, then a settled look: forgotten,
        // with its site.
        rings.dropped([9]);
        rings.look(false);
        rings.look(true);
        assert!(rings.retired.contains_key(&3));
        write(&path, header(), footer(), &rings).unwrap();
        let trace = crate::trace::read::read_trace(&fs::read(&path).unwrap()).unwrap();
        let records = &trace.threads[&3];
        assert!(matches!(records[..], [Record::Thread { index: 3, .. }]), "{records:?}");
        fs::remove_file(&path).unwrap();
    }

    #[test]
    fn long_tables_are_cut_at_record_boundaries() {
        let mut tables = Vec::new();
        for i in 0..100 {
            codec::encode_site(&mut tables, i, &"f".repeat(50), i, 1);
        }
        let cut = split_point(&tables, 1000);
        assert!(cut <= 1000 && cut > 900, "{cut}");
        assert_eq!(
            decode_chunk(&tables[..cut]).unwrap().len() + decode_chunk(&tables[cut..]).unwrap().len(),
            100
        );
    }
}
