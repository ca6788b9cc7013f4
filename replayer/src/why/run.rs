//! One run of a `why` search: what it asks (follow the recorded order this
//! far, hold this thread back) and how it ended, and the run itself made in
//! this process. The search asks for runs through a function, so that they
//! can be made here (a program given as a closure) or in a child process
//! each (a program with a `main` of its own, see [`super::child`]).

use std::rc::Rc;

use reprise_recorder::trace::read::TraceFile;

use crate::explore::{failure_of, run_once, FailureKind, Limits, Spare};
use crate::views::number::{number, Numbering};

use super::flip::{Arms, At, Captures, Due, Flipped, Guided, Hold, Positions};
use super::pairs;

/// What one run follows: the first `upto` events of the recorded order,
/// then the hold (if any), then no preemption.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunRequest {
    pub(crate) upto: usize,
    pub(crate) hold: Option<Hold>,
    pub(crate) max_steps: u64,
}

/// How a run ended: its failure, and what became of its flip.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub(crate) failure: Option<FailureKind>,
    pub(crate) flipped: Flipped,
}

/// The recorded order and what the recording serves, built once per trace.
#[derive(Clone)]
pub(crate) struct Plan {
    pub(crate) order: Rc<[At]>,
    pub(crate) positions: Rc<Positions>,
    pub(crate) captures: Rc<Captures>,
    pub(crate) arms: Rc<Arms>,
    pub(crate) due: Rc<Due>,
}

impl Plan {
    pub(crate) fn of(trace: &TraceFile) -> Plan {
        Plan::of_numbered(&number(trace))
    }

    /// The plan of a trace already numbered.
    pub(crate) fn of_numbered(numbering: &Numbering<'_>) -> Plan {
        let order: Rc<[At]> = pairs::order(numbering).into();
        let positions = Rc::new(order.iter().enumerate().map(|(p, &at)| (at, p)).collect());
        let captures = Rc::new(pairs::captures(numbering));
        let arms = Rc::new(pairs::arms(numbering));
        let due = Rc::new(pairs::due(numbering));
        Plan { order, positions, captures, arms, due }
    }
}

/// Runs a program in this process, one run after another, with the memory
/// of one run handed to the next.
pub(crate) struct InProcess<F, C> {
    program: Rc<F>,
    check: C,
    plan: Plan,
    spare: Spare,
    runs: u64,
}

impl<F, R, C> InProcess<F, C>
where
    F: Fn() -> R + 'static,
    R: 'static,
    C: Fn(&R) -> Option<String>,
{
    pub(crate) fn new(program: F, check: C, plan: Plan) -> Self {
        InProcess { program: Rc::new(program), check, plan, spare: Spare::default(), runs: 0 }
    }

    /// Makes the run `request` asks for.
    pub(crate) fn run(&mut self, request: &RunRequest) -> RunResult {
        self.runs += 1;
        let flipped = Rc::new(Flipped::default());
        let strategy = Box::new(Guided::new(
            (Rc::clone(&self.plan.order), Rc::clone(&self.plan.positions)),
            (Rc::clone(&self.plan.captures), Rc::clone(&self.plan.arms), Rc::clone(&self.plan.due)),
            request.upto,
            request.hold,
            Rc::clone(&flipped),
        ));
        let spare = std::mem::take(&mut self.spare);
        // Time is a choice, as it was in the explored run: the strategy
        // fires the earliest timer where the recorded order has the
        // sleeper's next event. With timers firing only once every thread
        // was blocked, a failure that needed one to fire while another
        // thread could run (a timeout racing a reply, a sleeper waking
        // before a busy thread's next step) did not come back.
        // No horizon: the recorded order says where each timer fired.
        let limits = Limits { max_steps: request.max_steps, time_choices: true, time_horizon: None };
        let (explored, result) =
            run_once(&self.program, strategy, limits, spare, self.runs, |s| s.keep_yielded());
        let mut end = explored.end;
        self.spare = std::mem::take(&mut end.spare);
        let failure = failure_of(&mut end, result.as_ref(), &self.check);
        RunResult { failure, flipped: (*flipped).clone() }
    }
}
