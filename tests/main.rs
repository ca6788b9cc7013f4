//! End-to-end tests of the reprise package: one binary, one link step.

mod util;

mod bad_input;
mod cli;
mod crash;
mod explore;
mod fidelity;
mod primitives;
mod replay;
mod traces;
mod zoo;
