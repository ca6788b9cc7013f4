//! A hunt for ways the explorer's re-runs (minimization, the run that
//! records the trace) fail to repeat the search's run, or the trace fails
//! to replay to the same failure: small programs with planted bugs, every
//! strategy, several seeds, minimization on and off.

mod harness;
mod programs;
mod why_runs;
