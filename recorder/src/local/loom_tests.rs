//! Under loom, loom threads run as coroutines on one OS thread: a
//! `reprise::thread_local!` must still give each its own value.

use std::cell::Cell;

use crate::thread;

crate::thread_local! {
    static COUNT: Cell<u32> = Cell::new(0);
}

fn bump() -> u32 {
    COUNT.with(|c| {
        c.set(c.get() + 1);
        c.get()
    })
}

#[test]
fn each_loom_thread_has_its_own_value() {
    loom::model(|| {
        let other = thread::spawn(|| (bump(), bump()));
        let mine = bump();
        assert_eq!(other.join().unwrap(), (1, 2));
        assert_eq!(mine, 1);
    });
}
