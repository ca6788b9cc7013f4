//! Two booking agents sell the seats of one show with a check-then-act on an
//! atomic counter: each reads how many seats are sold, and if one is left,
//! stores one more and hands out that seat. When both read the same count
//! before either stores, one seat is sold twice; the box office finds it and
//! the program exits with code 3.
//!
//! Record runs until one double-books, then ask reprise which two events'
//! order caused it:
//!
//! ```text
//! cargo build --example seat_booking
//! REPRISE_RECORD=booking.trace target/debug/examples/seat_booking
//! reprise why booking.trace -- target/debug/examples/seat_booking
//! ```

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

use reprise::channel;
use reprise::sync::atomic::{AtomicU32, Ordering};
use reprise::thread;

/// Seats in the show.
const SEATS: u32 = 40;
/// Booking agents.
const AGENTS: u32 = 2;

fn main() -> ExitCode {
    reprise::main("seat_booking", env!("CARGO_PKG_VERSION"), || {
        let sold = Arc::new(AtomicU32::new(0));
        let (tickets, box_office) = channel::unbounded::<(u32, u32)>();
        let agents: Vec<_> = (0..AGENTS)
            .map(|agent| {
                let (sold, tickets) = (Arc::clone(&sold), tickets.clone());
                thread::Builder::new()
                    .name(format!("agent-{agent}"))
                    .spawn(move || loop {
                        let seat = sold.load(Ordering::Acquire);
                        if seat >= SEATS {
                            break;
                        }
                        // Asking the customer: the other agent may sell meanwhile.
                        thread::yield_now();
                        sold.store(seat + 1, Ordering::Release);
                        tickets.send((seat, agent)).unwrap();
                    })
                    .unwrap()
            })
            .collect();
        drop(tickets);
        let mut holders: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for (seat, agent) in box_office.iter() {
            holders.entry(seat).or_default().push(agent);
        }
        for agent in agents {
            agent.join().unwrap();
        }
        match holders.iter().find(|(_, agents)| agents.len() > 1) {
            Some((seat, agents)) => {
                eprintln!("seat {seat} was sold twice, by agents {agents:?}");
                ExitCode::from(3)
            }
            None => {
                println!("{} seats sold, none twice", holders.len());
                ExitCode::SUCCESS
            }
        }
    })
}
