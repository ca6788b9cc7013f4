//! A gated call's recorded outcome, typed: what replay backends read instead
//! of the raw fields, and the one way they wait for and announce it.

use crate::rt::gated::GatedCall;
use crate::trace::model::Outcome;

impl GatedCall {
    /// The recorded outcome. `None` when the trace holds fields no recorder
    /// writes: that is reported as a divergence, and the caller passes
    /// through (the thread is already unwinding).
    pub(crate) fn outcome(&self) -> Option<Outcome> {
        match self.event.outcome() {
            Ok(outcome) => Some(outcome),
            Err(bad) => {
                self.diverge(format!("the trace holds an outcome no recorder writes: {bad}"));
                None
            }
        }
    }

    /// Blocks until what `outcome` depends on in other threads has happened
    /// ([`Outcome::waits_for`]). `false`: the replay stopped while this thread
    /// was already unwinding; the caller must pass through.
    pub(crate) fn wait_for_outcome(&self, outcome: &Outcome) -> bool {
        match outcome.waits_for(self.event.object) {
            Some(until) => self.wait(until),
            None => true,
        }
    }

    /// Tells waiting threads what `outcome` made happen
    /// ([`Outcome::makes_happen`]).
    pub(crate) fn announce(&self, outcome: &Outcome) {
        if let Some(what) = outcome.makes_happen(self.thread, self.event.object) {
            self.happened(what);
        }
    }
}
