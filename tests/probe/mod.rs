//! The compile probe: `surface.rs` is written against std and
//! crossbeam-channel and compiled twice, with `rt` naming each of them in
//! turn. Against std it shows the probe itself is right; against reprise it
//! runs in every mode.

/// std and crossbeam-channel under the names reprise gives them.
mod std_facade {
    pub mod channel {
        pub use crossbeam_channel::*;
    }
    pub use std::thread_local;
    pub use std::{sync, thread, time};
}

/// The probe against std + crossbeam-channel. It is written as a port
/// would find it, not to clippy's taste.
#[allow(clippy::vec_init_then_push, clippy::len_zero, clippy::missing_const_for_thread_local)]
mod on_std {
    use super::std_facade as rt;
    include!("surface.rs");
}

#[test]
fn the_probe_runs_against_std_and_crossbeam() {
    let transcript = on_std::probe();
    assert!(transcript.iter().any(|line| line.starts_with("statics")), "{transcript:#?}");
}
