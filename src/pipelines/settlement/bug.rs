//! The seeded bugs the settlement batch can be built with.

use std::fmt;
use std::str::FromStr;

use crate::pipelines::bug_name;
pub use crate::pipelines::bug_name::ParseBugError;

/// A concurrency bug seeded into the settlement batch, or none.
///
/// Parsed from and displayed as `none`, `stale-rate` and `double-settle`.
///
/// # Examples
///
/// ```
/// use reprise::pipelines::settlement::Bug;
///
/// let bug: Bug = "stale-rate".parse().unwrap();
/// assert_eq!(bug, Bug::StaleRate);
/// assert_eq!(bug.to_string(), "stale-rate");
/// assert!("lost-update".parse::<Bug>().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bug {
    /// The correct batch: no schedule can break an invariant.
    #[default]
    None,
    /// A settler prices an order under one read of the rate table and commits it
    /// under another (check-then-act), so a rate published in between leaves the
    /// order settled at a rate that was no longer current. Breaks `no-stale-rate`.
    StaleRate,
    /// A settler checks the order's claim bit with a plain load and sets it only
    /// after settling, so an order and its redelivery taken by two settlers at once
    /// are both settled. Breaks `exactly-once`.
    DoubleSettle,
}

impl Bug {
    /// Every variant, in declaration order.
    pub const ALL: [Bug; 3] = [Bug::None, Bug::StaleRate, Bug::DoubleSettle];

    /// The name used on the command line and by [`Display`](fmt::Display).
    pub const fn name(self) -> &'static str {
        match self {
            Bug::None => "none",
            Bug::StaleRate => "stale-rate",
            Bug::DoubleSettle => "double-settle",
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
        bug_name::parse("settlement", &Bug::ALL, Bug::name, s)
    }
}
