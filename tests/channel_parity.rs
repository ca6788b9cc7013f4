//! crossbeam-channel's surface beyond select: rendezvous channels replayed
//! as one hand-off, the timed sends and deadline receives, the timer
//! channels (`after`, `at`, `tick`, `never`), recorded, replayed and
//! explored.

mod rendezvous;
mod surface;
mod timed;
mod timers;
