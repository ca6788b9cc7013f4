//! Built-in demo pipelines.
