//! Every object is named in the trace by the line that made it (its
//! constructor's caller), not by its first use: views, reports and `why`
//! show `mutex #3 (ledger.rs:15:18)` where the mutex was created.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;

use reprise::channel;
use reprise::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use reprise::sync::{mpsc, Condvar, Mutex, RwLock};
use reprise::{record, thread, RecordConfig, Tracked};

use crate::util::{scratch, stdout};

/// `$make`, with the line it is on noted under `$kind`.
macro_rules! made {
    ($lines:ident, $kind:literal, $make:expr) => {{
        $lines.insert($kind, line!());
        $make
    }};
}

/// Makes one of each kind, noting its line, then uses each on other lines.
fn make_then_use() -> BTreeMap<&'static str, u32> {
    let mut lines = BTreeMap::new();
    let mutex = Arc::new(made!(lines, "mutex", Mutex::new(0u64)));
    let rwlock = made!(lines, "rwlock", RwLock::new(0u64));
    let condvar = made!(lines, "condvar", Condvar::new());
    let counter = made!(lines, "atomic-u64", AtomicU64::new(0));
    let flag: AtomicBool = made!(lines, "atomic-bool", AtomicBool::default());
    let (tx, rx) = made!(lines, "bounded", channel::bounded::<u8>(1));
    let (utx, urx) = made!(lines, "unbounded", channel::unbounded::<u8>());
    let (mtx, mrx) = made!(lines, "mpsc", mpsc::channel::<u8>());
    let cell = made!(lines, "tracked", Tracked::new(0u64));

    let other = Arc::clone(&mutex);
    let t = thread::spawn(move || *other.lock().unwrap() += 1);
    t.join().unwrap();
    *mutex.lock().unwrap() += 1;
    *rwlock.write().unwrap() += 1;
    let guard = mutex.lock().unwrap();
    let _ = condvar.wait_timeout(guard, std::time::Duration::from_millis(1)).unwrap();
    counter.fetch_add(1, Ordering::SeqCst);
    flag.store(true, Ordering::SeqCst);
    tx.send(1).unwrap();
    rx.recv().unwrap();
    utx.send(2).unwrap();
    urx.recv().unwrap();
    mtx.send(3).unwrap();
    mrx.recv().unwrap();
    cell.set(cell.get() + 1);
    lines
}

#[test]
fn each_object_is_named_by_the_line_that_made_it() {
    let path = scratch("creation-sites").join("t.trace");
    let recorded = record(&path, RecordConfig::new("sites", "1"), make_then_use).unwrap();
    let lines = recorded.result.expect("the program ran");
    let out = Command::new(env!("CARGO_BIN_EXE_reprise"))
        .args(["export", "--format", "jsonl"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let created: std::collections::BTreeSet<u32> = stdout(&out)
        .lines()
        .filter_map(|l| l.split("\"object_created_at\":\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .filter(|site| site.starts_with("tests/creation_sites.rs:"))
        .filter_map(|site| site.split(':').nth(1)?.parse().ok())
        .collect();
    for (kind, line) in &lines {
        assert!(created.contains(line), "{kind} made at line {line}; objects named at lines {created:?}");
    }
    let made: std::collections::BTreeSet<u32> = lines.values().copied().collect();
    assert!(created.is_subset(&made), "an object named by a line that made nothing: {created:?} vs {made:?}");
}
