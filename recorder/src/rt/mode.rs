//! Which backend a primitive call goes to on this thread.
//!
//! Every primitive is a std-shaped shell whose methods match on [`mode`] and
//! hand the call to one backend file per mode: `record.rs`, `replay.rs`
//! (gated by a recorded trace), `explore.rs` (cooperative, under the
//! explorer's scheduler), and passthrough. Under `--cfg reprise_loom` there is
//! one mode, passthrough, and the shells' inner objects are loom's, so loom
//! checks the same shells users call.
//!
//! The hottest shells (a channel's send and receive, a mutex's lock) are
//! inlined into their callers and the backends' entry points they call are
//! `#[inline(never)]`: a shell that inlined every mode's path paid that
//! path's stack frame on each passthrough call (about 20 instructions per
//! event of the payments pipeline off).

#[cfg(not(reprise_loom))]
pub(crate) use crate::rt::context::{mode, Mode};

/// Under loom every call passes through to loom's object.
#[cfg(reprise_loom)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Off,
}

/// Under loom every call passes through to loom's object.
#[cfg(reprise_loom)]
#[inline]
pub(crate) fn mode() -> Mode {
    Mode::Off
}
