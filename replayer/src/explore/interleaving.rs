//! The failing run as a table a developer reads once: a column per thread,
//! by name; a row per event on the objects the failure involves, with what
//! the call got (the value a load read, the message a receive took, the
//! lock's turn), where it was called, and `*` where the thread preempted
//! another. The other events are counted, not shown, unless asked for.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use reprise_recorder::hook::coop::RecordedChunk;
use reprise_recorder::named::label_key;
use reprise_recorder::trace::codec::decode_chunk;
use reprise_recorder::trace::model::{
    Event, ObjectIndex, ObjectKind, Op, Outcome, Received, Record, Sent, ThreadIndex,
};
use reprise_recorder::trace::show::text;

use super::run_failure::{FailureKind, Step};
use super::spare::Made;

/// What the run's threads and objects are called.
#[derive(Debug, Default)]
pub(crate) struct Names {
    threads: BTreeMap<ThreadIndex, String>,
    /// Kind and first-use site of each object.
    objects: BTreeMap<ObjectIndex, (ObjectKind, String)>,
    labels: BTreeMap<ObjectIndex, String>,
}

impl Names {
    /// From the run's recorded tables and its annotations (the labels).
    pub(crate) fn of(chunks: &[RecordedChunk], annotations: &[(String, String)]) -> Names {
        let mut names = Names::default();
        let mut sites: BTreeMap<(ThreadIndex, u32), String> = BTreeMap::new();
        for chunk in chunks {
            let Ok(records) = decode_chunk(&chunk.payload) else { continue };
            for record in records {
                match record {
                    Record::Thread { index, name, .. } if !name.is_empty() => {
                        names.threads.insert(index, text(&name));
                    }
                    Record::Site { index, file, line, .. } => {
                        sites.insert((chunk.thread, index), format!("{}:{line}", short(&file)));
                    }
                    Record::Object { index, kind, site } => {
                        let at = sites.get(&(chunk.thread, site)).cloned().unwrap_or_default();
                        names.objects.insert(index, (kind, at));
                    }
                    _ => {}
                }
            }
        }
        for &object in names.objects.keys() {
            if let Some((_, label)) = annotations.iter().find(|(k, _)| *k == label_key(object)) {
                names.labels.insert(object, text(label));
            }
        }
        names
    }

    /// A thread's name: its own, else `thread N` (the root is `main`).
    pub(crate) fn thread(&self, thread: ThreadIndex) -> String {
        match self.threads.get(&thread) {
            Some(name) => name.clone(),
            None if thread == 0 => "main".into(),
            None => format!("thread {thread}"),
        }
    }

    /// An object's name: its label, else its kind and where it was first used.
    pub(crate) fn object(&self, object: ObjectIndex) -> String {
        if let Some(label) = self.labels.get(&object) {
            return format!("`{label}`");
        }
        match self.objects.get(&object) {
            Some((kind, at)) => format!("{}#{object}@{at}", kind.name()),
            None => format!("object {object}"),
        }
    }
}

/// The file name of a path: rows are narrow.
fn short(file: &str) -> &str {
    file.rsplit(['/', '\\']).next().unwrap_or(file)
}

/// The threads whose events the failure is about.
fn failing_threads(kind: &FailureKind) -> Option<BTreeSet<ThreadIndex>> {
    match kind {
        FailureKind::Panic { thread, .. } | FailureKind::Livelock { thread, .. } => Some([*thread].into()),
        FailureKind::Deadlock { stuck, .. } => Some(stuck.iter().map(|s| s.thread).collect()),
        FailureKind::Check { .. } => None,
    }
}

/// The objects on which a thread's two accesses have another thread's in
/// between: where an atomicity violation (a lost update, a stale check)
/// can be.
fn interleaved(made: &[Made]) -> BTreeSet<ObjectIndex> {
    // (object, thread) -> whether another thread used the object since.
    let mut since: BTreeMap<(ObjectIndex, ThreadIndex), bool> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for m in made.iter().filter(|m| m.event.op.has_object()) {
        let o = m.event.object;
        if since.get(&(o, m.thread)) == Some(&true) {
            out.insert(o);
        }
        for ((object, thread), other) in since.range_mut((o, 0)..=(o, ThreadIndex::MAX)) {
            debug_assert_eq!(*object, o);
            *other = *thread != m.thread;
        }
        since.insert((o, m.thread), false);
    }
    out
}

/// The objects the failure involves: those shared between threads that a
/// failing thread used (all shared ones when that leaves none); of those,
/// unless it is a deadlock, the locks and atomics some thread's accesses
/// were interleaved on, if any (channels pass messages between threads
/// whatever the schedule: their rows would bury the race).
fn relevant(made: &[Made], kind: &FailureKind, names: &Names) -> BTreeSet<ObjectIndex> {
    if let FailureKind::Deadlock { stuck, .. } = kind {
        // What the stuck threads wait for, and the locks they took (which
        // they may hold): those waits never became events.
        let stuck_threads: BTreeSet<ThreadIndex> = stuck.iter().map(|s| s.thread).collect();
        let waited = stuck.iter().filter_map(|s| s.call.and_then(|c| c.object));
        let taken = made
            .iter()
            .filter(|m| stuck_threads.contains(&m.thread))
            .filter(|m| {
                matches!(
                    m.event.op,
                    Op::Lock
                        | Op::TryLock
                        | Op::ReadLock
                        | Op::WriteLock
                        | Op::TryReadLock
                        | Op::TryWriteLock
                )
            })
            .map(|m| m.event.object);
        return waited.chain(taken).collect();
    }
    let involved = involved(made, kind);
    let raced = interleaved(made);
    let racy: BTreeSet<ObjectIndex> = involved
        .iter()
        .copied()
        .filter(|o| raced.contains(o))
        .filter(|o| names.objects.get(o).is_some_and(|(kind, _)| *kind != ObjectKind::Channel))
        .collect();
    if racy.is_empty() {
        involved
    } else {
        racy
    }
}

fn involved(made: &[Made], kind: &FailureKind) -> BTreeSet<ObjectIndex> {
    let mut users: BTreeMap<ObjectIndex, BTreeSet<ThreadIndex>> = BTreeMap::new();
    for m in made.iter().filter(|m| m.event.op.has_object()) {
        users.entry(m.event.object).or_default().insert(m.thread);
    }
    let shared: BTreeSet<ObjectIndex> =
        users.iter().filter(|(_, threads)| threads.len() > 1).map(|(&o, _)| o).collect();
    let Some(failing) = failing_threads(kind) else { return shared };
    let theirs: BTreeSet<ObjectIndex> =
        shared.iter().copied().filter(|o| users[o].iter().any(|t| failing.contains(t))).collect();
    if theirs.is_empty() {
        shared
    } else {
        theirs
    }
}

/// What `event` did, in words, with its values.
fn describe(event: &Event, names: &Names) -> String {
    let obj = names.object(event.object);
    let received = |r: Received| match r {
        Received::Message { sender, seq } => format!("message #{seq} of {}", names.thread(sender)),
        Received::Empty => "empty".into(),
        Received::TimedOut => "timed out".into(),
        Received::Disconnected => "disconnected".into(),
    };
    let sent = |s: Sent| match s {
        Sent::Delivered { seq } => format!("message #{seq}"),
        Sent::Full => "full".into(),
        Sent::Disconnected => "disconnected".into(),
        Sent::TimedOut => "timed out".into(),
    };
    let Ok(outcome) = event.outcome() else { return format!("{} {obj}", event.op.name()) };
    match outcome {
        Outcome::AtomicLoad { value, .. } => format!("load {obj} -> {value}"),
        Outcome::AtomicStore { store } => format!("store {obj} (store #{store})"),
        Outcome::AtomicRmw { previous, .. } => format!("update {obj}: was {previous}"),
        Outcome::AtomicCas { seen, succeeded, .. } => {
            format!("compare_exchange {obj}: saw {seen}, {}", if succeeded { "swapped" } else { "failed" })
        }
        Outcome::Lock { acquisition } => format!("lock {obj} (turn {acquisition})"),
        Outcome::TryLock { acquisition: Some(n) } => format!("try_lock {obj} (turn {n})"),
        Outcome::TryLock { acquisition: None } => format!("try_lock {obj}: busy"),
        Outcome::Unlock => format!("unlock {obj}"),
        Outcome::ReadLock { writes_before } => format!("read {obj} (after write {writes_before})"),
        Outcome::WriteLock { write, .. } => format!("write-lock {obj} (write {write})"),
        Outcome::ReadUnlock | Outcome::WriteUnlock => format!("release {obj}"),
        Outcome::CondWait { timed_out, reacquisition, .. } => {
            format!("wait {obj}{} (turn {reacquisition})", if timed_out { ": timed out" } else { "" })
        }
        Outcome::Notify { all } => format!("{} {obj}", if all { "notify_all" } else { "notify_one" }),
        Outcome::Send(s) => format!("send {obj}: {}", sent(s)),
        Outcome::Recv(r) | Outcome::TryRecv(r) | Outcome::RecvTimeout(r) => {
            format!("{} {obj}: {}", event.op.name(), received(r))
        }
        Outcome::Select { arm, received: r } => format!("select arm {arm}, {obj}: {}", received(r)),
        Outcome::Spawn { child } => format!("spawn {}", names.thread(child)),
        Outcome::Join { joined, panicked } => {
            format!("join {}{}", names.thread(joined), if panicked { " (it panicked)" } else { "" })
        }
        Outcome::Panic { .. } => "panicked".into(),
        Outcome::Random { value } => format!("random -> {value}"),
        Outcome::Now { nanos } => format!("now -> {nanos} ns"),
        _ if event.op.has_object() => format!("{} {obj}", event.op.name()),
        _ => event.op.name().to_string(),
    }
}

/// One row of the table.
struct Row {
    step: usize,
    thread: ThreadIndex,
    text: String,
    site: String,
}

/// The most rows a focused table shows: the last ones, where the failure is.
const MAX_ROWS: usize = 60;

/// The most objects the legend lists.
const MAX_LISTED: usize = 8;

/// The table of the run's events: only those on the failure's objects
/// (releases left out: the next acquisition's turn says the order), at most
/// the last [`MAX_ROWS`], unless `all`; the legend of those objects; how
/// many events were left out.
pub(crate) fn table(made: &[Made], log: &[Step], names: &Names, kind: &FailureKind, all: bool) -> String {
    let objects = relevant(made, kind, names);
    let release = |op: Op| matches!(op, Op::Unlock | Op::ReadUnlock | Op::WriteUnlock);
    let shown = |m: &Made| {
        all || m.event.op == Op::Panic
            || (m.event.op.has_object() && objects.contains(&m.event.object) && !release(m.event.op))
    };
    let mut rows: Vec<Row> = Vec::new();
    // A preemption whose own events are left out marks its thread's next row.
    let mut pending: BTreeSet<ThreadIndex> = BTreeSet::new();
    let mut last_step = None;
    for m in made {
        let first_of_step = last_step != Some(m.step);
        last_step = Some(m.step);
        let preempted = first_of_step && log.get(m.step).is_some_and(|s| s.preempted && s.thread == m.thread);
        if preempted {
            pending.insert(m.thread);
        }
        if !shown(m) {
            continue;
        }
        let mark = if pending.remove(&m.thread) { "* " } else { "" };
        rows.push(Row {
            step: m.step + 1,
            thread: m.thread,
            text: format!("{mark}{}", describe(&m.event, names)),
            site: m.site.rsplit(['/', '\\']).next().unwrap_or(&m.site).to_string(),
        });
    }
    let earlier = if all { 0 } else { rows.len().saturating_sub(MAX_ROWS) };
    let rows = &rows[earlier..];
    let threads: Vec<ThreadIndex> =
        rows.iter().map(|r| r.thread).collect::<BTreeSet<_>>().into_iter().collect();
    let width = rows.iter().map(|r| r.text.chars().count()).max().unwrap_or(0).max(12);
    let mut out = String::new();
    let _ = write!(out, "{:>5} ", "step");
    for &t in &threads {
        let _ = write!(out, "| {:<width$} ", names.thread(t));
    }
    out.push_str("| at\n");
    if earlier > 0 {
        let _ = writeln!(out, "  ... {earlier} earlier rows on these objects");
    }
    for row in rows {
        let _ = write!(out, "{:>5} ", row.step);
        for &t in &threads {
            let cell = if t == row.thread { row.text.as_str() } else { "" };
            let _ = write!(out, "| {cell:<width$} ");
        }
        let _ = writeln!(out, "| {}", row.site);
    }
    let elided = made.len() - rows.len() - earlier;
    if !all && elided > 0 {
        let _ = writeln!(
            out,
            "({elided} events on other objects, releases or with no object not shown; REPRISE_REPORT=all shows every event)"
        );
    }
    out.push_str("(* = preemption: this thread ran while the one before could have gone on)\n");
    if !objects.is_empty() {
        let listed: Vec<String> = objects
            .iter()
            .map(|&o| match names.objects.get(&o) {
                Some((kind, at)) if names.labels.contains_key(&o) => {
                    format!("{} = {} first used at {at}", names.object(o), kind.name())
                }
                _ => names.object(o),
            })
            .collect();
        let more = listed.len().saturating_sub(MAX_LISTED);
        let more = if more > 0 { format!("; and {more} more") } else { String::new() };
        let _ = writeln!(out, "objects: {}{more}", listed[..listed.len().min(MAX_LISTED)].join("; "));
    }
    out
}
