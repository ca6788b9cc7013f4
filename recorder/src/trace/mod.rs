//! The trace file: its data model, the chunk codec, the file format, and the reader.
//!
//! `format.rs` owns the on-disk schema shared by the writer and the reader.

pub mod codec;
pub mod file;
pub mod format;
mod frames;
pub mod index;
pub mod model;
pub mod read;
pub mod show;
pub mod stream;
pub mod window;
pub mod write;
