//! `reprise diff` of two recordings of a `reprise::Tracked` cell written in
//! two orders: its order lines call the cell's accesses accesses, as every
//! other view does (found by the twelfth unlike set: they said "store").

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use reprise::{capture, channel, thread, RecordConfig, Tracked};

use crate::util::{scratch, stdout};

static WORKER_FIRST: AtomicBool = AtomicBool::new(false);

/// One site for every write.
fn put(cell: &Tracked<u32>, value: u32) {
    cell.set(value);
}

fn ordered() -> u32 {
    let first = capture(|| WORKER_FIRST.load(Ordering::SeqCst));
    let cell = Arc::new(Tracked::new(0u32));
    let (to_worker, worker_rx) = channel::unbounded::<()>();
    let (to_main, main_rx) = channel::unbounded::<()>();
    let theirs = Arc::clone(&cell);
    let worker = thread::spawn(move || {
        if !first {
            worker_rx.recv().unwrap();
        }
        put(&theirs, 1);
        to_main.send(()).unwrap();
    });
    if first {
        main_rx.recv().unwrap();
        put(&cell, 2);
    } else {
        put(&cell, 2);
        to_worker.send(()).unwrap();
        main_rx.recv().unwrap();
    }
    worker.join().unwrap();
    cell.get()
}

#[test]
fn diff_names_a_tracked_cells_order_by_its_accesses() {
    let dir = scratch("found2-diff-tracked");
    let (a, b) = (dir.join("a.trace"), dir.join("b.trace"));
    WORKER_FIRST.store(true, Ordering::SeqCst);
    reprise::record(&a, RecordConfig::new("found2-tracked", "1"), ordered).unwrap();
    WORKER_FIRST.store(false, Ordering::SeqCst);
    reprise::record(&b, RecordConfig::new("found2-tracked", "1"), ordered).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_reprise")).arg("diff").arg(&a).arg(&b).output().unwrap();
    let said = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    let line = said
        .lines()
        .find(|l| l.contains("tracked #") && l.contains(" gave "))
        .unwrap_or_else(|| panic!("{said}"));
    // It said "A gave store 1 to ...", a store no other view shows.
    assert!(line.contains("gave access ") && !line.contains("gave store"), "{line}");
}
