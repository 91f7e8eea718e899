//! Password hashing with a bounded cost. argon2id takes about 19 MiB and tens of milliseconds
//! of one core per verification; run for every request of a sign-in flood on tokio's blocking
//! pool (up to 512 threads), it once took the process from 0.4 to 8 GB. Here at most
//! [`CONCURRENT`] hashes run at once; at most [`QUEUED`] more wait, each at most [`WAIT`];
//! anyone beyond is told at once to come back ([`Busy`], answered 429 with `Retry-After`).
//!
//! Each slot owns its argon2 working memory ([`HashMemory`]), allocated on first use and reused
//! for every later hash: a flood of any length holds `CONCURRENT` × 19 MiB and no more. (Letting
//! argon2 allocate per hash left the freed blocks in the allocator's per-thread arenas: a
//! 20-second sign-in flood grew the process by about 800 MB, `make bench-abuse`.)

use std::sync::Arc;
use std::time::Duration;

use std::sync::Mutex;

use store::users::HashMemory;
use tokio::sync::Semaphore;

/// Hashes running at once (each holds about 19 MiB while it runs).
pub const CONCURRENT: usize = 2;
/// Requests allowed to wait for a hashing slot; the next ones are refused without waiting.
pub const QUEUED: usize = 32;
/// The longest a request waits for a hashing slot.
pub const WAIT: Duration = Duration::from_secs(2);

/// Every hashing slot is taken and the queue is full or did not move in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("password hashing is busy")]
pub struct Busy;

/// The hashing slots of one process.
#[derive(Debug)]
pub struct Hashing {
    running: Arc<Semaphore>,
    waiting: Semaphore,
    wait: Duration,
    /// One working memory per slot, taken by the hash that holds the slot.
    memories: Arc<Mutex<Vec<HashMemory>>>,
}

impl Default for Hashing {
    fn default() -> Self {
        Hashing::new(CONCURRENT, QUEUED, WAIT)
    }
}

impl Hashing {
    pub fn new(concurrent: usize, queued: usize, wait: Duration) -> Hashing {
        Hashing {
            running: Arc::new(Semaphore::new(concurrent.max(1))),
            waiting: Semaphore::new(queued),
            wait,
            memories: Arc::new(Mutex::new(
                (0..concurrent.max(1))
                    .map(|_| HashMemory::default())
                    .collect(),
            )),
        }
    }

    /// Runs `work` (a hash or a verification, in the slot's working memory) on a blocking
    /// thread once a slot is free.
    ///
    /// The slot goes with the work: a client that hangs up while its hash runs does not free
    /// the slot early, so abandoned requests can never pile up hashes.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut HashMemory) -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let permit = match self.running.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                let _in_line = self.waiting.try_acquire().map_err(|_| Busy)?;
                tokio::time::timeout(self.wait, self.running.clone().acquire_owned())
                    .await
                    .map_err(|_| Busy)?
                    .map_err(|_| Busy)?
            }
        };
        let memories = self.memories.clone();
        tokio::task::spawn_blocking(move || {
            // A slot's permit is held, so a memory is free; one is made should a panicked
            // hash have lost its own.
            let mut memory = memories
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop()
                .unwrap_or_default();
            let out = work(&mut memory);
            memories
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(memory);
            drop(permit);
            out
        })
        .await
        // The work panicked: treated as busy, the request can be tried again.
        .map_err(|_| Busy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_than_the_slots_run_at_once_and_the_excess_is_refused() {
        let hashing = Arc::new(Hashing::new(2, 3, Duration::from_millis(300)));
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (hashing, now, peak) = (hashing.clone(), now.clone(), peak.clone());
                tokio::spawn(async move {
                    hashing
                        .run(move |_| {
                            let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                            peak.fetch_max(n, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(100));
                            now.fetch_sub(1, Ordering::SeqCst);
                        })
                        .await
                })
            })
            .collect();
        let mut done = 0;
        let mut busy = 0;
        for t in tasks {
            match t.await.expect("task") {
                Ok(()) => done += 1,
                Err(Busy) => busy += 1,
            }
        }
        assert_eq!(
            peak.load(Ordering::SeqCst),
            2,
            "never more than two at once"
        );
        assert!(done >= 2, "{done} ran");
        assert!(busy >= 20 - 2 - 3, "{busy} refused");
    }
}
