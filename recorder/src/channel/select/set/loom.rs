//! Under loom: a select waits on a signal that every arm's channel fires
//! when the arm may have become ready; the lowest ready index wins (loom
//! explores schedules, not random choices); a timeout fires at once when no
//! arm is ready, after letting the other threads run.

use std::marker::PhantomData;
use std::panic::Location;
use std::sync::Arc;

use super::selected::{Chosen, SelectedOperation};
use super::{NoArm, Select};
use crate::channel::loom::Signal;
use crate::channel::wait::Wait;

/// The lowest ready arm's index, waiting (as `wait` allows) for one; when
/// `claim`, with the ticket that claimed its operation (see `Chan::claim`),
/// so that the chosen operation completes at once, as crossbeam's.
fn first_ready(select: &Select<'_>, wait: Wait, claim: bool) -> Result<(usize, u64), NoArm> {
    loop {
        let signal = Arc::new(Signal::new());
        // Only a select that will complete what it chooses counts as a
        // receiver a rendezvous send can go on with (`ready` only watches,
        // as crossbeam's).
        let blocking = claim && matches!(wait, Wait::Forever);
        let mut ready = None;
        let mut watched = 0;
        for arm in &select.arms {
            watched += 1;
            let ticket = if claim {
                arm.end.claim(&signal, blocking)
            } else {
                arm.end.watch(&signal, blocking).then_some(0)
            };
            if let Some(ticket) = ticket {
                ready = Some((arm.index, ticket));
                break;
            }
        }
        let done = match (ready, wait) {
            (Some(chosen), _) => Some(Ok(chosen)),
            (None, Wait::No) => Some(Err(NoArm::Empty)),
            (None, Wait::Timeout(_)) => {
                // Time is the other threads running (see the channel docs).
                loom::thread::yield_now();
                Some(Err(NoArm::TimedOut))
            }
            (None, Wait::Forever) => {
                signal.wait();
                None
            }
        };
        for arm in &select.arms[..watched] {
            arm.end.unwatch(&signal);
        }
        if let Some(done) = done {
            return done;
        }
    }
}

pub(super) fn select<'a>(
    select: &mut Select<'a>,
    wait: Wait,
    location: &'static Location<'static>,
) -> Result<SelectedOperation<'a>, NoArm> {
    let (index, ticket) = first_ready(select, wait, true)?;
    Ok(SelectedOperation::new(select, index, location, Chosen::Loom { ticket, end: PhantomData }))
}

pub(super) fn ready(select: &mut Select<'_>, wait: Wait) -> Result<usize, NoArm> {
    first_ready(select, wait, false).map(|(index, _)| index)
}
