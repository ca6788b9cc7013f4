//! reprise (in progress): temporary std/crossbeam shims until the instrumented primitives land.
#![allow(missing_docs)]
pub mod thread { pub use std::thread::*; }
pub mod sync { pub use std::sync::*; }
pub mod channel { pub use crossbeam_channel::*; }
pub mod pipelines;
