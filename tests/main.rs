//! End-to-end tests of the reprise package: one binary, one link step.

mod util;

mod atomics_parity;
mod bad_input;
mod cli;
mod coreplay;
mod crash;
mod deadlock;
mod explore;
mod fidelity;
mod forged_lock_outcomes;
mod forged_outcomes;
mod primitives;
mod replay;
mod stall;
mod stress;
mod trace_mode;
mod traces;
mod trust;
mod zoo;
