//! Structure-aware mutations of a valid trace: decode it into its model,
//! change what the records or the header say, and write it again with valid
//! checksums and seal, so the change reaches every consumer past the reader.

use std::collections::BTreeMap;

use reprise::trace::codec::{encode_record, EventEncoder};
use reprise::trace::format::{BlockedThread, Footer, Header, TraceMode, Verdict};
use reprise::trace::model::{Event, ObjectKind, Op, Record};
use reprise::trace::read::TraceFile;
use reprise::trace::write::TraceWriter;

/// A small seeded generator (splitmix64): the same seed, the same mutant.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len())]
    }

    /// A value at an edge: 0, 1, just past a small count, or huge.
    fn extreme(&mut self, near: u64) -> u64 {
        self.pick(&[
            0,
            1,
            near.wrapping_add(1),
            near.wrapping_add(1000),
            u64::from(u32::MAX),
            u64::from(u32::MAX) + 1,
            1 << 40,
            i64::MAX as u64,
            u64::MAX - 1,
            u64::MAX,
        ])
    }
}

/// A trace as a mutator sees it: records per thread, how they are cut into
/// chunks, and the frames in file order.
#[derive(Clone)]
pub struct Model {
    pub header: Header,
    pub threads: BTreeMap<u32, Vec<Record>>,
    pub footer: Option<Footer>,
    /// When set, the footer's event count is left as the mutation set it;
    /// otherwise it is recounted, as a forger who knows the format would.
    pub keep_event_count: bool,
    /// When set, the chunks are written as these (thread, seq, records).
    pub frames: Option<Vec<(u32, u32, Vec<Record>)>>,
}

/// Records per chunk: small, so a short trace has several chunks per thread.
const CHUNK_RECORDS: usize = 48;

impl Model {
    pub fn of(trace: &TraceFile) -> Model {
        Model {
            header: trace.header.clone(),
            threads: trace.threads.iter().map(|(&t, r)| (t, r.to_vec())).collect(),
            footer: trace.footer.clone(),
            keep_event_count: false,
            frames: None,
        }
    }

    /// The chunks each thread's records are cut into; a blob stays with its event.
    pub fn chunked(&self) -> Vec<(u32, u32, Vec<Record>)> {
        let mut per_thread: Vec<Vec<(u32, u32, Vec<Record>)>> = Vec::new();
        for (&thread, records) in &self.threads {
            let mut chunks = Vec::new();
            let mut current: Vec<Record> = Vec::new();
            for r in records {
                if current.len() >= CHUNK_RECORDS && !matches!(r, Record::Blob(_)) {
                    chunks.push((thread, chunks.len() as u32, std::mem::take(&mut current)));
                }
                current.push(r.clone());
            }
            chunks.push((thread, chunks.len() as u32, current));
            per_thread.push(chunks);
        }
        // Interleaved across threads, as a recording writes them.
        let mut out = Vec::new();
        let longest = per_thread.iter().map(Vec::len).max().unwrap_or(0);
        for i in 0..longest {
            for chunks in &per_thread {
                if let Some(c) = chunks.get(i) {
                    out.push(c.clone());
                }
            }
        }
        out
    }

    pub fn encode(&self) -> Vec<u8> {
        let frames = self.frames.clone().unwrap_or_else(|| self.chunked());
        let mut w = TraceWriter::create(Vec::new(), &self.header).expect("a header the writer takes");
        let mut events = 0u64;
        for (thread, seq, records) in &frames {
            let mut enc = EventEncoder::new();
            let mut payload = Vec::new();
            for r in records {
                encode_record(&mut enc, &mut payload, r);
                events += u64::from(matches!(r, Record::Event(_)));
            }
            w.write_chunk(*thread, *seq, &payload).expect("a chunk within the limit");
        }
        match &self.footer {
            Some(footer) => {
                let mut footer = footer.clone();
                if !self.keep_event_count {
                    footer.events = events;
                }
                w.finish(&footer).expect("a footer within the limit")
            }
            None => w.get_ref().clone(),
        }
    }

    /// Every event's (thread, position in the thread's records).
    fn events(&self, which: impl Fn(&Event) -> bool) -> Vec<(u32, usize)> {
        let mut out = Vec::new();
        for (&t, records) in &self.threads {
            for (i, r) in records.iter().enumerate() {
                if let Record::Event(e) = r {
                    if which(e) {
                        out.push((t, i));
                    }
                }
            }
        }
        out
    }

    fn event_mut(&mut self, at: (u32, usize)) -> &mut Event {
        match &mut self.threads.get_mut(&at.0).expect("a thread listed")[at.1] {
            Record::Event(e) => e,
            _ => unreachable!("listed as an event"),
        }
    }

    fn objects(&self) -> Vec<(u32, ObjectKind)> {
        let mut out = Vec::new();
        for records in self.threads.values() {
            for r in records {
                if let Record::Object { index, kind, .. } = r {
                    out.push((*index, *kind));
                }
            }
        }
        out
    }

    fn thread_count(&self) -> u64 {
        self.threads.len() as u64
    }

    fn set_parameter(&mut self, key: &str, value: String) {
        let params = &mut self.header.parameters;
        match params.iter_mut().find(|(k, _)| k == key) {
            Some(p) => p.1 = value,
            None => params.push((key.into(), value)),
        }
    }

    fn set_annotation(&mut self, key: &str, value: String) {
        let footer =
            self.footer.get_or_insert(Footer { verdict: Verdict::Completed, annotations: vec![], events: 0 });
        match footer.annotations.iter_mut().find(|(k, _)| k == key) {
            Some(p) => p.1 = value,
            None => footer.annotations.push((key.into(), value)),
        }
    }
}

/// What a mutation changes. Each kind is tried with several seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    OpChanged,
    ObjectOutOfRange,
    ObjectOfAnotherType,
    SiteOutOfRange,
    ThreadTableForged,
    SpawnJoinForged,
    LockNumberForged,
    RecvForged,
    SelectArmForged,
    ValueExtreme,
    AtomicNumberForged,
    BlobForged,
    ObjectTableForged,
    EventsShuffled,
    HeaderForged,
    FooterForged,
    ChunksReordered,
    NoThreads,
    ManyThreads,
    EmptyThread,
}

impl Kind {
    pub const ALL: [Kind; 20] = [
        Kind::OpChanged,
        Kind::ObjectOutOfRange,
        Kind::ObjectOfAnotherType,
        Kind::SiteOutOfRange,
        Kind::ThreadTableForged,
        Kind::SpawnJoinForged,
        Kind::LockNumberForged,
        Kind::RecvForged,
        Kind::SelectArmForged,
        Kind::ValueExtreme,
        Kind::AtomicNumberForged,
        Kind::BlobForged,
        Kind::ObjectTableForged,
        Kind::EventsShuffled,
        Kind::HeaderForged,
        Kind::FooterForged,
        Kind::ChunksReordered,
        Kind::NoThreads,
        Kind::ManyThreads,
        Kind::EmptyThread,
    ];
}

/// Applies one mutation of `kind` chosen by `rng`; returns what it did, or
/// `None` when the trace has nothing this kind can change.
pub fn mutate(m: &mut Model, kind: Kind, rng: &mut Rng) -> Option<String> {
    let threads = m.thread_count();
    match kind {
        Kind::OpChanged => {
            let all = m.events(|_| true);
            let at = all.get(rng.below(all.len())).copied()?;
            let op = rng.pick(&Op::ALL);
            let e = m.event_mut(at);
            let was = e.op;
            e.op = op;
            if op.has_object() && !was.has_object() {
                e.object = 0;
            }
            if !op.has_object() {
                e.object = 0;
            }
            // Fields past the new op's arity are not written; keep the model
            // what a reader would see.
            if op.arity() < 3 {
                e.c = 0;
            }
            if op.arity() < 2 {
                e.b = 0;
            }
            if op.arity() < 1 {
                e.a = 0;
            }
            Some(format!("thread {} record {}: {} became {}", at.0, at.1, was.name(), op.name()))
        }
        Kind::ObjectOutOfRange => {
            let with = m.events(|e| e.op.has_object());
            let at = with.get(rng.below(with.len())).copied()?;
            let n = m.objects().len() as u64;
            let object = rng.pick(&[n, n + 1, 1000, u64::from(u32::MAX) - 1, u64::from(u32::MAX)]) as u32;
            let e = m.event_mut(at);
            e.object = object;
            Some(format!("thread {} record {}: {} of object {object}", at.0, at.1, e.op.name()))
        }
        Kind::ObjectOfAnotherType => {
            let objects = m.objects();
            let with = m.events(|e| e.op.has_object());
            let at = with.get(rng.below(with.len())).copied()?;
            let current = m.event_mut(at).object;
            let kind = objects.iter().find(|(i, _)| *i == current).map(|o| o.1);
            let others: Vec<u32> = objects.iter().filter(|(_, k)| Some(*k) != kind).map(|o| o.0).collect();
            let object = *others.get(rng.below(others.len()))?;
            let e = m.event_mut(at);
            e.object = object;
            Some(format!(
                "thread {} record {}: {} of object {object} of another kind",
                at.0,
                at.1,
                e.op.name()
            ))
        }
        Kind::SiteOutOfRange => {
            let all = m.events(|_| true);
            let at = all.get(rng.below(all.len())).copied()?;
            let site = rng.pick(&[200, 100_000, u32::MAX - 1, u32::MAX]);
            let e = m.event_mut(at);
            e.site = site;
            Some(format!("thread {} record {}: {} at site {site}", at.0, at.1, e.op.name()))
        }
        Kind::ThreadTableForged => {
            let keys: Vec<u32> = m.threads.keys().copied().collect();
            let t = *keys.get(rng.below(keys.len()))?;
            let records = m.threads.get_mut(&t)?;
            let pos = records.iter().position(|r| matches!(r, Record::Thread { .. }))?;
            let choice = rng.below(5);
            let Record::Thread { index, parent, child, .. } = &mut records[pos] else { unreachable!() };
            let what = match choice {
                0 => {
                    *index = (t + 1) % keys.len() as u32;
                    "index of another thread"
                }
                1 => {
                    *index = rng.pick(&[1000, u32::MAX - 1, u32::MAX]);
                    "index out of range"
                }
                2 => {
                    *parent = t;
                    "its own parent"
                }
                3 => {
                    *parent = rng.pick(&[threads as u32, 1000, u32::MAX - 1]);
                    "nonexistent parent"
                }
                _ => {
                    *child = rng.pick(&[1000, u32::MAX]);
                    "child number out of range"
                }
            };
            Some(format!("thread {t}'s table record: {what}"))
        }
        Kind::SpawnJoinForged => {
            let with = m.events(|e| matches!(e.op, Op::Spawn | Op::Join));
            let at = with.get(rng.below(with.len())).copied()?;
            let a = rng.pick(&[
                u64::from(at.0),
                0,
                threads,
                threads + 5,
                u64::from(u32::MAX) - 1,
                u64::from(u32::MAX),
            ]);
            let e = m.event_mut(at);
            e.a = a;
            Some(format!("thread {} record {}: {} of thread {a}", at.0, at.1, e.op.name()))
        }
        Kind::LockNumberForged => {
            let with = m.events(|e| {
                matches!(
                    e.op,
                    Op::Lock | Op::TryLock | Op::ReadLock | Op::WriteLock | Op::CondWait | Op::TryWriteLock
                )
            });
            let at = with.get(rng.below(with.len())).copied()?;
            let other = with.get(rng.below(with.len())).map(|&o| m.event_mut(o).a).unwrap_or(1);
            let e = m.event_mut(at);
            let a = match rng.below(4) {
                0 => other,
                1 => e.a.wrapping_add(1),
                2 => e.a.wrapping_sub(1),
                _ => rng.extreme(e.a),
            };
            e.a = a;
            if e.op == Op::WriteLock && rng.below(2) == 0 {
                e.b = rng.extreme(e.b);
            }
            Some(format!("thread {} record {}: {} with turn {a}", at.0, at.1, e.op.name()))
        }
        Kind::RecvForged => {
            let with = m.events(|e| {
                matches!(e.op, Op::Recv | Op::TryRecv | Op::RecvTimeout | Op::Select) && e.a != 0
            });
            let at = with.get(rng.below(with.len())).copied()?;
            let other = with.get(rng.below(with.len())).map(|&o| {
                let e = m.event_mut(o);
                (e.a, e.b)
            })?;
            let e = m.event_mut(at);
            let what = match rng.below(5) {
                0 => {
                    (e.a, e.b) = other;
                    "a message received twice"
                }
                1 => {
                    e.b = rng.extreme(e.b);
                    "a message never sent"
                }
                2 => {
                    e.a = rng.pick(&[threads + 1, threads + 100, u64::from(u32::MAX), u64::MAX]);
                    "a sender out of range"
                }
                3 => {
                    e.a = 0;
                    e.b = rng.pick(&[0, 4, 1000, u64::MAX]);
                    "no message, for no reason"
                }
                _ => {
                    e.a = u64::from(at.0) + 1;
                    "a message from itself"
                }
            };
            Some(format!("thread {} record {}: {}: {what}", at.0, at.1, e.op.name()))
        }
        Kind::SelectArmForged => {
            let with = m.events(|e| matches!(e.op, Op::Select | Op::Send | Op::Recv));
            let at = with.get(rng.below(with.len())).copied()?;
            let c =
                rng.pick(&[5, 1000, 1 << 32, (1 << 32) | 7, 1 << 33, (1 << 33) | 1000, 3 << 32, u64::MAX]);
            let e = m.event_mut(at);
            e.op = Op::Select;
            e.c = c;
            Some(format!("thread {} record {}: a select of arm {c:#x}", at.0, at.1))
        }
        Kind::ValueExtreme => {
            let with = m.events(|e| e.op.arity() > 0);
            let at = with.get(rng.below(with.len())).copied()?;
            let field = rng.below(3);
            let v = rng.extreme(0);
            let e = m.event_mut(at);
            match field {
                0 => e.a = v,
                1 if e.op.arity() > 1 => e.b = v,
                _ if e.op.arity() > 2 => e.c = v,
                _ => e.a = v,
            }
            Some(format!("thread {} record {}: {} with a field {v}", at.0, at.1, e.op.name()))
        }
        Kind::AtomicNumberForged => {
            let with = m.events(|e| {
                matches!(
                    e.op,
                    Op::AtomicLoad
                        | Op::AtomicStore
                        | Op::AtomicRmw
                        | Op::AtomicCas
                        | Op::Send
                        | Op::Park
                        | Op::Unpark
                        | Op::TrackedRead
                        | Op::TrackedWrite
                )
            });
            let at = with.get(rng.below(with.len())).copied()?;
            let e = m.event_mut(at);
            let a = match rng.below(3) {
                0 => e.a.wrapping_add(1),
                1 => e.a.wrapping_sub(1),
                _ => rng.extreme(e.a),
            };
            e.a = a;
            Some(format!("thread {} record {}: {} numbered {a}", at.0, at.1, e.op.name()))
        }
        Kind::BlobForged => {
            let with =
                m.events(|e| matches!(e.op, Op::Capture | Op::Panic | Op::Annotation | Op::CaptureSensitive));
            if let Some(&at) = with.get(rng.below(with.len())) {
                let choice = rng.below(4);
                let records = m.threads.get_mut(&at.0)?;
                let has_blob = matches!(records.get(at.1 + 1), Some(Record::Blob(_)));
                match choice {
                    0 if has_blob => {
                        records.remove(at.1 + 1);
                        return Some(format!("thread {} record {}: its blob removed", at.0, at.1));
                    }
                    1 if has_blob => {
                        records[at.1 + 1] = Record::Blob(vec![0xff; 300]);
                        return Some(format!("thread {} record {}: its blob garbage", at.0, at.1));
                    }
                    _ => {}
                }
                let len = rng.extreme(0);
                let e = m.event_mut(at);
                e.a = len;
                return Some(format!("thread {} record {}: {} of length {len}", at.0, at.1, e.op.name()));
            }
            // No event owns a blob: insert a stray one, or one after an event.
            let all = m.events(|_| true);
            let at = all.get(rng.below(all.len())).copied()?;
            let len = rng.pick(&[0usize, 1, 70_000]);
            m.threads.get_mut(&at.0)?.insert(at.1 + 1, Record::Blob(vec![7; len]));
            Some(format!("thread {} record {}: a stray blob of {len} bytes after it", at.0, at.1))
        }
        Kind::ObjectTableForged => {
            let keys: Vec<u32> = m.threads.keys().copied().collect();
            let t = *keys.get(rng.below(keys.len()))?;
            let records = m.threads.get_mut(&t)?;
            let objects: Vec<usize> = records
                .iter()
                .enumerate()
                .filter(|(_, r)| matches!(r, Record::Object { .. }))
                .map(|p| p.0)
                .collect();
            let pos = *objects.get(rng.below(objects.len()))?;
            let choice = rng.below(4);
            let Record::Object { index, kind, site } = &mut records[pos] else { unreachable!() };
            let what = match choice {
                0 => {
                    *kind = ObjectKind::from_u8(rng.below(7) as u8).unwrap_or(ObjectKind::Tracked);
                    format!("object {index} made a {}", kind.name())
                }
                1 => {
                    *site = rng.pick(&[500, u32::MAX]);
                    format!("object {index} at site {site}")
                }
                2 => {
                    *index = rng.pick(&[0, 1, 100_000, u32::MAX]);
                    format!("an object table record renumbered {index}")
                }
                _ => {
                    let dup = records[pos].clone();
                    let mut dup2 = dup.clone();
                    if let Record::Object { kind, .. } = &mut dup2 {
                        *kind =
                            if *kind == ObjectKind::Mutex { ObjectKind::Channel } else { ObjectKind::Mutex };
                    }
                    records.insert(pos + 1, dup2);
                    "an object table record twice, with two kinds".into()
                }
            };
            Some(format!("thread {t}: {what}"))
        }
        Kind::EventsShuffled => {
            let keys: Vec<u32> = m.threads.keys().copied().collect();
            let t = *keys.get(rng.below(keys.len()))?;
            let records = m.threads.get_mut(&t)?;
            let events: Vec<usize> = records
                .iter()
                .enumerate()
                .filter(|(_, r)| matches!(r, Record::Event(_)))
                .map(|p| p.0)
                .collect();
            if events.len() < 2 {
                return None;
            }
            let k = rng.below(events.len() - 1);
            match rng.below(3) {
                0 => {
                    records.swap(events[k], events[k + 1]);
                    Some(format!("thread {t}: events {k} and {} swapped", k + 1))
                }
                1 => {
                    let e = records[events[k]].clone();
                    records.insert(events[k], e);
                    Some(format!("thread {t}: event {k} twice"))
                }
                _ => {
                    records.remove(events[k]);
                    Some(format!("thread {t}: event {k} removed"))
                }
            }
        }
        Kind::HeaderForged => {
            let choice = rng.below(9);
            let value =
                rng.pick(&["0", "1", "4294967296", "18446744073709551615", "-1", "", "x", "100000000000"]);
            match choice {
                0 => m.set_parameter("payments", value.into()),
                1 => m.set_parameter("workers", value.into()),
                2 => m.set_parameter("seed", value.into()),
                3 => m.set_parameter("bug", rng.pick(&["nope", "deadlock", "lost-update", ""]).into()),
                4 => m.set_parameter("pipeline", rng.pick(&["nope", "payments", "settlement", ""]).into()),
                5 => {
                    m.header.mode = TraceMode::FlightRecorder;
                    let w = rng.pick(&[
                        "",
                        "0:5",
                        "1:18446744073709551615",
                        "99:3",
                        "x",
                        "0:0,0:1",
                        "4294967295:1",
                    ]);
                    m.set_parameter("reprise.window", w.into());
                    return Some(format!("a flight-recorder dump with window {w:?}"));
                }
                6 => {
                    m.header.mode = TraceMode::Explore;
                    return Some("mode made Explore".into());
                }
                7 => {
                    m.header.parameters.retain(|(k, _)| k == "pipeline");
                    return Some("every parameter but the pipeline dropped".into());
                }
                _ => {
                    m.set_parameter("reprise.args_hash", value.into());
                    return Some(format!("args hash {value:?}"));
                }
            }
            Some(format!("header parameter {choice} set to {value:?}"))
        }
        Kind::FooterForged => {
            let n = threads as u32;
            match rng.below(9) {
                0 => {
                    let v = rng.pick(&["", "0", "1,2", "99", "4294967295", "x,,", "0,0,0,0"]);
                    m.set_annotation("reprise.condvar_waits", v.into());
                    Some(format!("condvar_waits {v:?}"))
                }
                1 => {
                    let v = rng.pick(&["", "exited", "x"]);
                    m.set_annotation("reprise.exit", v.into());
                    Some(format!("exit {v:?}"))
                }
                2 => {
                    let v = rng.pick(&["0", "1", "-1", "256", "x", "99999999999"]);
                    m.set_annotation("reprise.exit_code", v.into());
                    Some(format!("exit_code {v:?}"))
                }
                3 => {
                    let thread = rng.pick(&[0, n, u32::MAX]);
                    m.footer
                        .get_or_insert(Footer { verdict: Verdict::Completed, annotations: vec![], events: 0 })
                        .verdict = Verdict::Panicked { thread, message: "forged".into() };
                    Some(format!("verdict: thread {thread} panicked"))
                }
                4 => {
                    let blocked = (0..rng.below(3) + 1)
                        .map(|_| BlockedThread {
                            thread: rng.pick(&[0, 1, n, u32::MAX]),
                            op: rng.pick(&Op::ALL),
                            object: rng.pick(&[0, 1, 1000, u32::MAX]),
                            file: "forged.rs".into(),
                            line: 1,
                            column: 1,
                            waits_for: Some(rng.pick(&[0, n, u32::MAX])),
                        })
                        .collect();
                    m.footer
                        .get_or_insert(Footer { verdict: Verdict::Completed, annotations: vec![], events: 0 })
                        .verdict = Verdict::Deadlock { blocked };
                    Some("verdict: a forged deadlock".into())
                }
                5 => {
                    let thread = rng.pick(&[0, n, u32::MAX]);
                    m.footer
                        .get_or_insert(Footer { verdict: Verdict::Completed, annotations: vec![], events: 0 })
                        .verdict = Verdict::Livelock {
                        thread,
                        steps: u64::MAX,
                        file: "f.rs".into(),
                        line: 0,
                        column: 0,
                    };
                    Some(format!("verdict: thread {thread} livelocked"))
                }
                6 => {
                    m.footer = None;
                    Some("no end marker".into())
                }
                7 => {
                    let f = m.footer.as_mut()?;
                    f.annotations.clear();
                    Some("annotations dropped".into())
                }
                _ => {
                    m.set_annotation("digest", "0000000000000000".into());
                    Some("digest forged".into())
                }
            }
        }
        Kind::ChunksReordered => {
            let mut frames = m.chunked();
            if frames.len() < 2 {
                return None;
            }
            let i = rng.below(frames.len());
            let j = rng.below(frames.len());
            let what = match rng.below(5) {
                0 => {
                    frames.swap(i, j);
                    format!("frames {i} and {j} swapped")
                }
                1 => {
                    let f = frames[i].clone();
                    frames.insert(j, f);
                    format!("frame {i} written again at {j}")
                }
                2 => {
                    // Same thread, seq numbers kept in order, contents swapped.
                    let t = frames[i].0;
                    let same: Vec<usize> = (0..frames.len()).filter(|&k| frames[k].0 == t).collect();
                    if same.len() < 2 {
                        return None;
                    }
                    let (a, b) = (same[0], same[same.len() - 1]);
                    let (ra, rb) = (frames[a].2.clone(), frames[b].2.clone());
                    frames[a].2 = rb;
                    frames[b].2 = ra;
                    format!("thread {t}'s first and last chunks' contents swapped")
                }
                3 => {
                    frames[i].0 = frames[j].0;
                    format!("frame {i} relabelled as thread {}'s", frames[j].0)
                }
                _ => {
                    frames.remove(i);
                    // Renumber so the sequence has no gap: a forger's cut.
                    let mut next: BTreeMap<u32, u32> = BTreeMap::new();
                    for f in &mut frames {
                        let s = next.entry(f.0).or_insert(0);
                        f.1 = *s;
                        *s += 1;
                    }
                    format!("frame {i} dropped, the others renumbered")
                }
            };
            m.frames = Some(frames);
            Some(what)
        }
        Kind::NoThreads => {
            m.threads.clear();
            Some("no thread at all".into())
        }
        Kind::ManyThreads => {
            let count = rng.pick(&[1000u32, 100_000]);
            let start = m.threads.keys().max().map_or(0, |t| t + 1);
            for t in start..start + count {
                let mut records = vec![Record::Thread { index: t, parent: 0, child: t, name: String::new() }];
                if rng.below(2) == 0 {
                    records.push(Record::Event(Event {
                        op: Op::ThreadStart,
                        object: 0,
                        site: 0,
                        a: 0,
                        b: 0,
                        c: 0,
                    }));
                }
                m.threads.insert(t, records);
            }
            Some(format!("{count} more threads, none spawned"))
        }
        Kind::EmptyThread => {
            let keys: Vec<u32> = m.threads.keys().copied().collect();
            let t = *keys.get(rng.below(keys.len()))?;
            let records = m.threads.get_mut(&t)?;
            if rng.below(2) == 0 {
                records.retain(|r| !matches!(r, Record::Event(_) | Record::Blob(_)));
                Some(format!("thread {t} with its table records and no event"))
            } else {
                records.clear();
                records.push(Record::Clock(0));
                Some(format!("thread {t} with nothing but a clock"))
            }
        }
    }
}
