//! What this set found, reduced. Each `#[ignore]`d test fails until its
//! bug is fixed; a fixed one runs.
