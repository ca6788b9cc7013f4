//! What a run of the payments pipeline reports.

/// Invariant: the sum of the balances equals the opening sum plus the deposits.
pub const CONSERVATION: &str = "conservation";
/// Invariant: no debit ever leaves an account below zero.
pub const NO_OVERDRAFT: &str = "no-overdraft";
/// Invariant: every payment validation accepted gets exactly one outcome (applied
/// or rejected), however often it was delivered.
pub const EXACTLY_ONCE: &str = "exactly-once";
/// Invariant: the reconciler's count and volume of applied payments equal the
/// ledger's.
pub const RECONCILER_MATCHES_LEDGER: &str = "reconciler-matches-ledger";

/// Every invariant, in the order [`PaymentsOutcome::violations`] lists them.
pub const INVARIANTS: [&str; 4] = [CONSERVATION, NO_OVERDRAFT, EXACTLY_ONCE, RECONCILER_MATCHES_LEDGER];

/// The result of one run of the payments pipeline.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PaymentsOutcome {
    /// 16 hex digits of FNV-1a 64 over the final balances, the sorted ids of the
    /// applied payments and the reconciler's totals: equal digests, equal final
    /// state.
    pub digest: String,
    /// The names of the broken invariants (see [`INVARIANTS`]), empty if none.
    pub violations: Vec<&'static str>,
    /// How many deliveries the ledger applied (a double-applied payment counts
    /// twice).
    pub applied: u64,
    /// How many payments were not applied: dropped by validation as malformed, or
    /// refused by the ledger for insufficient funds.
    pub rejected: u64,
}

impl PaymentsOutcome {
    /// Whether every invariant holds.
    pub fn is_ok(&self) -> bool {
        self.violations.is_empty()
    }

    /// `invariants: ok`, or `invariants: violated: ` and the broken invariants'
    /// names separated by `, `.
    ///
    /// # Examples
    ///
    /// ```
    /// use reprise::pipelines::payments::PaymentsOutcome;
    ///
    /// let mut outcome = PaymentsOutcome {
    ///     digest: "0123456789abcdef".into(),
    ///     violations: vec![],
    ///     applied: 10,
    ///     rejected: 1,
    /// };
    /// assert_eq!(outcome.invariants_line(), "invariants: ok");
    /// outcome.violations = vec!["conservation", "no-overdraft"];
    /// assert_eq!(outcome.invariants_line(), "invariants: violated: conservation, no-overdraft");
    /// ```
    pub fn invariants_line(&self) -> String {
        if self.is_ok() {
            "invariants: ok".to_owned()
        } else {
            format!("invariants: violated: {}", self.violations.join(", "))
        }
    }
}
