//! End-to-end tests of the reprise package: one binary, one link step.

mod util;

mod atomics_parity;
mod bad_input;
mod channel_parity;
mod cli;
mod coreplay;
mod crash;
mod deadlock;
mod explore;
mod explore_blocking;
mod fidelity;
mod forged_lock_outcomes;
mod forged_outcomes;
mod main_exit;
mod port;
mod primitives;
mod probe;
mod replay;
mod select;
mod select_explore;
mod sensitive;
mod stall;
mod stress;
mod suite;
mod sync_parity;
mod sync_std_api;
mod thread_parity;
mod trace_mode;
mod traces;
mod trust;
mod zoo;
