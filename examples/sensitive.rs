//! A program that reads a secret through `reprise::capture_sensitive`: its
//! recording keeps the value only sealed with `REPRISE_KEY`'s key.
//!
//! ```text
//! export REPRISE_KEY=$(openssl rand -hex 32)   # or the path of a file holding it
//! REPRISE_RECORD=sensitive.trace cargo run --example sensitive
//! cargo run -- inspect sensitive.trace         # the value shows redacted
//! cargo run -- replay sensitive.trace -- target/debug/examples/sensitive
//! ```

use reprise::thread;

fn main() {
    reprise::main("sensitive", env!("CARGO_PKG_VERSION"), || {
        let card = thread::spawn(|| reprise::capture_sensitive(|| String::from("4111 1111 1111 1111")))
            .join()
            .unwrap();
        // What the program prints is a digest of the value, never the value.
        let digest = card.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
        println!("card digest {digest:08x}");
        reprise::annotate("digest", format!("{digest:08x}"));
    })
}
