//! Memory the server has freed goes back to the system. glibc's allocator keeps freed
//! pages for reuse, and gives back on its own only what lies at the top of its main
//! heap; what start-up freed (migrations, the schema built and its SDL read once for
//! placing nulls) and what a burst of requests freed stays counted in an idle server's
//! resident memory. On the release build, calling `malloc_trim` in a server just
//! started with SQLite took its anonymous memory from 14.1 to 11.0 MiB (BENCHMARKS.md).
//! So it is called once the server is up, and every minute after.

use std::time::Duration;

use tokio::{sync::watch, time::Instant};

/// How often freed memory is given back: rarely enough to cost nothing (a walk of the
/// allocator's free lists), often enough that an idle server soon stops holding a burst.
const EVERY: Duration = Duration::from_secs(60);

/// Gives the system back the whole free pages the allocator holds.
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only releases pages on the allocator's own free lists, under
    // its own locks; it takes no pointer of ours.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Gives memory back every minute until the server shuts down.
pub async fn give_back_every_minute(mut stopping: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval_at(Instant::now() + EVERY, EVERY);
    loop {
        tokio::select! {
            _ = ticker.tick() => give_back(),
            _ = stopping.wait_for(|s| *s) => return,
        }
    }
}
