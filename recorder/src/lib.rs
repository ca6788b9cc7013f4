//! reprise-recorder (in progress)
pub mod trace;
