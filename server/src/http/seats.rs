//! How many WebSocket connections each person or token holds on this replica, so one
//! caller cannot take every socket the server has.

use std::collections::HashMap;

/// Open WebSocket connections per person or API token, on this replica.
#[derive(Default)]
pub struct Seats(std::sync::Mutex<HashMap<String, usize>>);

/// One connection's seat, given back when the connection ends.
pub struct Seat {
    seats: std::sync::Arc<Seats>,
    holder: String,
}

impl Seats {
    pub fn take(self: &std::sync::Arc<Self>, holder: String, limit: usize) -> Option<Seat> {
        let mut held = self.0.lock().expect("seats poisoned");
        let count = held.entry(holder.clone()).or_default();
        if *count >= limit {
            return None;
        }
        *count += 1;
        Some(Seat {
            seats: self.clone(),
            holder,
        })
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut held = self.seats.0.lock().expect("seats poisoned");
        if let Some(count) = held.get_mut(&self.holder) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.holder);
            }
        }
    }
}
