//! Probes the compiler for std items newer than the crate's minimum Rust
//! version, so that reprise offers them where they are stable (as std does)
//! and still builds on older compilers without them.
//!
//! - `reprise_has_downgrade`: `RwLockWriteGuard::downgrade` (Rust 1.92).

use std::env;
use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(reprise_has_downgrade)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=RUSTC");
    if rustc_minor().is_some_and(|minor| minor >= 92) {
        println!("cargo::rustc-cfg=reprise_has_downgrade");
    }
}

/// The `Y` of `rustc 1.Y.Z`; `None` when it cannot be told (then the newer
/// items are left out, which always builds).
fn rustc_minor() -> Option<u32> {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc).arg("--version").output().ok()?;
    let version = String::from_utf8(output.stdout).ok()?;
    let mut numbers = version.split_whitespace().nth(1)?.split('.');
    if numbers.next()? != "1" {
        return None;
    }
    numbers.next()?.parse().ok()
}
