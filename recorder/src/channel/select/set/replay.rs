//! Replay: the select completes the operation its recording completed. A
//! receive arm waits for and takes exactly the recorded message; a send arm
//! goes through the channel's replay send; a recorded timeout or empty
//! select returns at once. An outcome that names no arm of this select, or
//! an arm of another kind or channel, is a divergence.

use std::panic::Location;

use super::selected::{Chosen, SelectedOperation};
use super::{NoArm, Select};
use crate::channel::flavor::Flavor;
use crate::channel::replay::{send_recorded, take_recorded};
use crate::channel::timer;
use crate::channel::wait::Wait;
use crate::channel::{Receiver, RecvError, SendError, Sender};
use crate::rt::gated::{self, GatedCall};
use crate::trace::model::{Op, Outcome, Received};

/// The recorded select's call and outcome, and the arm it names (`None`:
/// it completed nothing, for the reason given).
fn recorded(
    select: &Select<'_>,
    wait: Wait,
    location: &'static Location<'static>,
    ready: bool,
) -> Result<(GatedCall, Outcome, usize), NoArm> {
    let call = gated::begin(Op::Select, None, location).ok_or(NoArm::TimedOut)?;
    let outcome = call.outcome().ok_or(NoArm::TimedOut)?;
    let (arm, send) = match outcome {
        Outcome::Select { received: Received::TimedOut, .. } => {
            if !matches!(wait, Wait::Timeout(_)) {
                call.diverge("a select without a timeout is recorded as timed out".into());
            }
            return Err(NoArm::TimedOut);
        }
        Outcome::Select { received: Received::Empty, .. } => {
            if !matches!(wait, Wait::No) {
                call.diverge("a select that waits is recorded as finding nothing ready".into());
            }
            return Err(NoArm::Empty);
        }
        Outcome::Select { arm, .. } | Outcome::SelectTimer { arm } if !ready => (arm, false),
        Outcome::SelectSend { arm, .. } if !ready => (arm, true),
        Outcome::SelectReady { arm } if ready => (arm, false),
        other => {
            let what = if ready { "a ready call" } else { "a select" };
            call.diverge(format!("{what}'s recorded outcome is {other:?}"));
            return Err(NoArm::TimedOut);
        }
    };
    let arm = arm as usize;
    let Some(chosen) = select.arm(arm) else {
        call.diverge(format!("the recording chose arm {arm} of a select with no such arm"));
        return Err(NoArm::TimedOut);
    };
    if !ready && chosen.send != send {
        let kind = if send { "send" } else { "receive" };
        call.diverge(format!("the recording's arm {arm} is a {kind}, this select's is not"));
        return Err(NoArm::TimedOut);
    }
    if !ready && chosen.end.is_timer() != matches!(outcome, Outcome::SelectTimer { .. }) {
        let kind = if chosen.end.is_timer() { "is" } else { "is not" };
        call.diverge(format!("this select's arm {arm} {kind} a timer, the recording's is not so"));
        return Err(NoArm::TimedOut);
    }
    // A timer arm's event names no channel.
    let named = !chosen.end.is_timer() || ready;
    if named && gated::object_of(&chosen.end.shared().slot).is_some_and(|o| o != call.event.object) {
        call.diverge(format!("arm {arm} is not the recorded channel #{}", call.event.object));
        return Err(NoArm::TimedOut);
    }
    Ok((call, outcome, arm))
}

pub(super) fn select<'a>(
    select: &mut Select<'a>,
    wait: Wait,
    location: &'static Location<'static>,
) -> Result<SelectedOperation<'a>, NoArm> {
    let (call, outcome, arm) = recorded(select, wait, location, false)?;
    Ok(SelectedOperation::new(select, arm, location, Chosen::Replay { call, outcome }))
}

pub(super) fn ready(
    select: &mut Select<'_>,
    wait: Wait,
    location: &'static Location<'static>,
) -> Result<usize, NoArm> {
    recorded(select, wait, location, true).map(|(_, _, arm)| arm)
}

pub(super) fn recv<T>(
    call: &GatedCall,
    outcome: Outcome,
    r: &Receiver<T>,
    location: &'static Location<'static>,
) -> Result<T, RecvError> {
    if let (Outcome::SelectTimer { .. }, Flavor::Timer(timer)) = (outcome, &r.flavor) {
        // The timer's own recorded receive follows the select's event.
        return timer::receive(timer, Wait::No, location).map_err(|_| RecvError);
    }
    let (Outcome::Select { received, .. }, Some(queue)) = (outcome, r.flavor.queue()) else {
        call.diverge("the recorded arm is a channel made outside the replay".into());
        return Err(RecvError);
    };
    take_recorded(call, &outcome, received, queue).map_err(|_| RecvError)
}

pub(super) fn send<T>(call: &GatedCall, outcome: Outcome, s: &Sender<T>, msg: T) -> Result<(), SendError<T>> {
    let (Outcome::SelectSend { sent, .. }, Some(queue)) = (outcome, s.flavor.queue()) else {
        call.diverge("the recorded arm is a channel made outside the replay".into());
        return Err(SendError(msg));
    };
    send_recorded(call, &outcome, sent, queue, msg).map_err(|e| SendError(e.into_inner()))
}
