//! Naming a pipeline's seeded bugs on the command line: one parser and one
//! error for every pipeline.

use std::error::Error;
use std::fmt;

/// The error returned when a string names none of a pipeline's seeded bugs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseBugError {
    pipeline: &'static str,
    input: String,
    expected: Vec<&'static str>,
}

impl fmt::Display for ParseBugError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} bug `{}`, expected one of: {}",
            self.pipeline,
            self.input,
            self.expected.join(", ")
        )
    }
}

impl Error for ParseBugError {}

/// The bug of `all` whose name is `input`.
pub(crate) fn parse<B: Copy>(
    pipeline: &'static str,
    all: &[B],
    name: fn(B) -> &'static str,
    input: &str,
) -> Result<B, ParseBugError> {
    all.iter().copied().find(|&bug| name(bug) == input).ok_or_else(|| ParseBugError {
        pipeline,
        input: input.to_owned(),
        expected: all.iter().map(|&bug| name(bug)).collect(),
    })
}
