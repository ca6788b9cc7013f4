//! `std::panic`, with the two calls reprise must see: [`resume_unwind`]
//! and [`catch_unwind`].
//!
//! The explorer's threads share one OS thread, and std counts panics per OS
//! thread; so the explorer keeps who unwinds itself (see
//! `reprise::thread::panicking`). It learns from its panic hook which
//! thread starts a panic, but std's `resume_unwind` calls no hook, and
//! nothing tells it when std's `catch_unwind` ends an unwind: these two
//! tell it. Everything else is std's, re-exported.
//!
//! ```
//! use reprise_recorder::panic::{catch_unwind, resume_unwind};
//!
//! let caught = catch_unwind(|| resume_unwind(Box::new(7u32)));
//! assert_eq!(caught.unwrap_err().downcast_ref::<u32>(), Some(&7));
//! ```

pub use std::panic::*;

/// Resumes an unwind with `payload`, without calling the panic hook. Like
/// [`std::panic::resume_unwind`]; under the explorer, the thread counts as
/// unwinding from here.
pub fn resume_unwind(payload: Box<dyn std::any::Any + Send>) -> ! {
    #[cfg(not(reprise_loom))]
    crate::rt::coop::panic_started();
    std::panic::resume_unwind(payload)
}

/// Runs `f`, catching its panic. Like [`std::panic::catch_unwind`]; under
/// the explorer, a caught panic ends the thread's unwinding there.
///
/// # Errors
///
/// The panic's payload, when `f` panicked.
pub fn catch_unwind<F: FnOnce() -> R + UnwindSafe, R>(f: F) -> std::thread::Result<R> {
    let result = std::panic::catch_unwind(f);
    #[cfg(not(reprise_loom))]
    if result.is_err() {
        crate::rt::coop::panic_caught();
    }
    result
}
