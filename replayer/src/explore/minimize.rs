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
/// last preemptions are tried first.
pub(crate) fn candidates(choices: &[ThreadIndex], preempted: &[bool]) -> Vec<Vec<ThreadIndex>> {
    let points: Vec<usize> =
        (1..choices.len()).rev().filter(|&i| preempted.get(i).copied().unwrap_or(false)).collect();
    let mut out = Vec::new();
    for &i in &points {
        let mut kept = choices.to_vec();
        kept[i] = choices[i - 1];
        out.push(kept);
    }
    for &i in &points {
        let mut shorter = choices[..i].to_vec();
        shorter.push(choices[i - 1]);
        out.push(shorter);
    }
    out
}
