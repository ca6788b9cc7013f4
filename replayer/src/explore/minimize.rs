//! Shrinking a failing schedule: take away preemptions, one at a time from
//! the last, while the program still fails the same way. Fewer preemptions
//! make a shorter, more readable interleaving.

use reprise_recorder::trace::model::ThreadIndex;

use super::strategy::Strategy;

/// Follows a list of choices, then never preempts.
#[derive(Debug)]
pub(crate) struct Guided {
    choices: Vec<ThreadIndex>,
    at: usize,
}

impl Guided {
    pub(crate) fn new(choices: Vec<ThreadIndex>) -> Guided {
        Guided { choices, at: 0 }
    }
}

impl Strategy for Guided {
    fn begin(&mut self, _index: u64) -> bool {
        self.at = 0;
        true
    }

    fn choose(&mut self, runnable: &[ThreadIndex], current: Option<ThreadIndex>) -> ThreadIndex {
        let planned = self.choices.get(self.at).copied();
        self.at += 1;
        match planned {
            Some(t) if runnable.contains(&t) => t,
            _ => current.filter(|c| runnable.contains(c)).unwrap_or(runnable[0]),
        }
    }

    fn name(&self) -> String {
        "guided".into()
    }
}

/// Candidate schedules with one preemption fewer than `choices`: at a
/// preemption, keep running the thread that ran before, and either follow the
/// rest of the schedule as it was or let it run on without preemptions. The
/// last preemptions are tried first. Built one at a time: a long schedule has
/// many preemptions.
pub(crate) fn candidates<'a>(
    choices: &'a [ThreadIndex],
    preempted: &'a [bool],
) -> impl Iterator<Item = Vec<ThreadIndex>> + 'a {
    let points =
        move || (1..choices.len()).rev().filter(move |&i| preempted.get(i).copied().unwrap_or(false));
    let kept = points().map(move |i| {
        let mut kept = choices.to_vec();
        kept[i] = choices[i - 1];
        kept
    });
    let shorter = points().map(move |i| {
        let mut shorter = choices[..i].to_vec();
        shorter.push(choices[i - 1]);
        shorter
    });
    kept.chain(shorter)
}
