//! Replay `select`: the recorded arm receives the recorded message (waiting
//! until it was sent); a recorded timeout returns at once.

use std::panic::Location;

use crate::channel::replay::take_recorded;
use crate::channel::wait::{NoMessage, Wait};
use crate::channel::Receiver;
use crate::rt::gated;
use crate::trace::model::{Op, Outcome, Received};

pub(super) fn select<T>(
    receivers: &[&Receiver<T>],
    wait: Wait,
    location: &'static Location<'static>,
) -> Option<(usize, Result<T, NoMessage>)> {
    // The chosen channel is checked below, against the recorded arm.
    let call = gated::begin(Op::Select, None, location)?;
    let outcome = call.outcome()?;
    let Outcome::Select { arm, received } = outcome else {
        // `begin` matched the op, and each op decodes to its own outcome.
        call.diverge(format!("a select's recorded outcome is {outcome:?}"));
        return None;
    };
    if received == Received::TimedOut {
        if let Wait::No | Wait::Forever = wait {
            call.diverge("a select without a timeout is recorded as timed out".into());
        }
        return None;
    }
    let arm = arm as usize;
    let Some((receiver, queue)) = receivers.get(arm).and_then(|r| Some((r, r.flavor.queue()?))) else {
        call.diverge(format!("the recording chose arm {arm} of a select over {} receivers", receivers.len()));
        return None;
    };
    if gated::object_of(&receiver.shared.slot).is_some_and(|o| o != call.event.object) {
        call.diverge(format!("arm {arm} is not the recorded channel #{}", call.event.object));
    }
    Some((arm, take_recorded(&call, &outcome, received, queue)))
}
