//! The seeded bugs the payments pipeline can be built with.

use std::fmt;
use std::str::FromStr;

use crate::pipelines::bug_name;
pub use crate::pipelines::bug_name::ParseBugError;

/// A concurrency bug seeded into the payments pipeline, or none.
///
/// Parsed from and displayed as `none`, `lost-update`, `double-apply`, `reorder`,
/// `deadlock` and `panic`.
///
/// # Examples
///
/// ```
/// use reprise::pipelines::payments::Bug;
///
/// let bug: Bug = "lost-update".parse().unwrap();
/// assert_eq!(bug, Bug::LostUpdate);
/// assert_eq!(bug.to_string(), "lost-update");
/// assert!("typo".parse::<Bug>().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bug {
    /// The correct pipeline: no schedule can break an invariant.
    #[default]
    None,
    /// Ledger workers update a balance with a read and a write under two separate
    /// acquisitions of its lock, so an update of the same account by another worker
    /// in between is lost. Breaks `conservation` (and sometimes `no-overdraft`).
    LostUpdate,
    /// Redelivered payments go to another worker, and the idempotency check and the
    /// insert of the payment id are two separate steps with the transfer between
    /// them, so two workers can both apply it. Breaks `exactly-once`, and often
    /// `no-overdraft`: a copy applied by another worker can debit an account
    /// between a deposit and the transfer it funds.
    DoubleApply,
    /// Deposits and the transfers they fund travel to a worker on two channels, and
    /// the worker serves transfers first, so a funded transfer can be applied before
    /// its deposit. Breaks `no-overdraft`.
    Reorder,
    /// Transfers lock the source account, then the destination, so two opposite
    /// transfers on two workers can deadlock. A plain run can hang forever.
    Deadlock,
    /// The ledger worker applying the first transfer to the last account panics
    /// (a fee table one entry short), in every schedule; the panic is resumed
    /// where the worker is joined, and the pipeline dies. Not a schedule bug: the
    /// demo of what a crash leaves behind (a flight-recorder dump).
    Panic,
}

impl Bug {
    /// Every variant, in declaration order.
    pub const ALL: [Bug; 6] =
        [Bug::None, Bug::LostUpdate, Bug::DoubleApply, Bug::Reorder, Bug::Deadlock, Bug::Panic];

    /// The name used on the command line and by [`Display`](fmt::Display).
    pub const fn name(self) -> &'static str {
        match self {
            Bug::None => "none",
            Bug::LostUpdate => "lost-update",
            Bug::DoubleApply => "double-apply",
            Bug::Reorder => "reorder",
            Bug::Deadlock => "deadlock",
            Bug::Panic => "panic",
        }
    }
}

impl fmt::Display for Bug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Bug {
    type Err = ParseBugError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        bug_name::parse("payments", &Bug::ALL, Bug::name, s)
    }
}
