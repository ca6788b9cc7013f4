//! End-to-end tests of the reprise package: one binary, one link step.

mod util;

mod bad_input;
mod cli;
mod explore;
mod fidelity;
mod primitives;
mod replay;
mod stress;
mod traces;
mod zoo;
