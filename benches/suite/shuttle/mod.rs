//! The bug suite over shuttle 0.9.9's primitives: the same program files as
//! `../mod.rs`, compiled against `shuttle::{thread, sync}`, and the same
//! catalog (`../catalog.rs`), for the `suite_shuttle` bench.

/// The primitives the programs are written over.
mod prim {
    pub(super) use shuttle::{sync, thread};
}

#[path = "../deque.rs"]
mod deque;
#[path = "../lock_order.rs"]
mod lock_order;
#[path = "../lost_update.rs"]
mod lost_update;
#[path = "../lost_wakeup.rs"]
mod lost_wakeup;
#[path = "../order_violation.rs"]
mod order_violation;
#[path = "../philosophers.rs"]
mod philosophers;
#[path = "../publication.rs"]
mod publication;
#[path = "../reorder.rs"]
mod reorder;
#[path = "../token_ring.rs"]
mod token_ring;
#[path = "../two_stage.rs"]
mod two_stage;
#[path = "../uneven.rs"]
mod uneven;

include!("../catalog.rs");
