//! The settlement batch under record and replay, as the CLI runs it: its
//! parameters in the trace header and its digest and verdict lines.

use anyhow::anyhow;
use reprise_recorder::trace::format::Header;

use crate::cli::payments::Lines;
use crate::cli::Failure;
use crate::exit;
use crate::pipelines::settlement::{Bug, SettlementConfig, SettlementOutcome};

/// The program name recorded in the header of settlement batch traces.
pub(crate) const PROGRAM: &str = "reprise-settlement";

impl Lines {
    pub(crate) fn of_settlement(outcome: &SettlementOutcome) -> Lines {
        Lines { digest: outcome.digest.clone(), invariants: outcome.invariants_line() }
    }
}

/// The header parameters that tell a replay which batch to run.
pub(crate) fn record_config_parameters(config: &SettlementConfig) -> Vec<(String, String)> {
    [
        ("pipeline", "settlement".to_string()),
        ("bug", config.bug.to_string()),
        ("orders", config.orders.to_string()),
        ("settlers", config.settlers.to_string()),
        ("seed", config.seed.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The batch config a trace header with `pipeline=settlement` describes,
/// validated before use.
pub(crate) fn config_from_header(header: &Header) -> Result<SettlementConfig, Failure> {
    let invalid = |what: String| Failure::new(exit::DAMAGED, anyhow!("the trace header {what}"));
    let get = |key: &str| header.parameter(key).ok_or_else(|| invalid(format!("has no `{key}` parameter")));
    let bug: Bug = get("bug")?.parse().map_err(|e| invalid(format!("has a bad `bug`: {e}")))?;
    let number = |key: &str| -> Result<u64, Failure> {
        get(key)?.parse::<u64>().map_err(|e| invalid(format!("has a bad `{key}`: {e}")))
    };
    let config = SettlementConfig {
        bug,
        orders: number("orders")?,
        settlers: usize::try_from(number("settlers")?)
            .map_err(|e| invalid(format!("has a bad `settlers`: {e}")))?,
        seed: number("seed")?,
    };
    config.validate().map_err(|e| invalid(format!("has parameters out of range: {e}")))?;
    Ok(config)
}
