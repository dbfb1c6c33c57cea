//! Time, injectable: the wall clock used for signatures and the monotonic clock and sleep used
//! by retries and waiters.
//!
//! The default, [`TokioClock`], uses the system clock and `tokio::time::sleep`. [`ManualClock`]
//! is a test double: its `sleep` returns at once after moving its time forward, so tests of code
//! that waits never really wait.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// The future returned by [`Clock::sleep`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A source of time and a way to wait.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Monotonic now: deadlines and elapsed times are measured with it.
    fn now(&self) -> Instant;
    /// Wall-clock now: request timestamps are made from it.
    fn system_time(&self) -> SystemTime;
    /// Waits `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// The default clock: `SystemTime::now`, `Instant::now` and `tokio::time::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn system_time(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock for tests: it starts at the real current time and moves only when told to or when
/// something sleeps on it (the sleep returns at once). It records every sleep.
///
/// ```
/// use alibabacloud_ens::clock::{Clock, ManualClock};
/// use std::time::Duration;
///
/// # tokio_test_block_on(async {
/// let clock = ManualClock::new();
/// let start = clock.now();
/// clock.sleep(Duration::from_secs(30)).await; // returns at once
/// assert_eq!(clock.now() - start, Duration::from_secs(30));
/// assert_eq!(clock.sleeps(), vec![Duration::from_secs(30)]);
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    inner: Arc<Mutex<ManualState>>,
}

#[derive(Debug)]
struct ManualState {
    instant: Instant,
    system: SystemTime,
    sleeps: Vec<Duration>,
}

impl ManualClock {
    /// A manual clock starting now.
    pub fn new() -> Self {
        ManualClock {
            inner: Arc::new(Mutex::new(ManualState {
                instant: Instant::now(),
                system: SystemTime::now(),
                sleeps: Vec::new(),
            })),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ManualState> {
        // A panic while holding this lock cannot leave the state inconsistent: recover it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves time forward by `d`.
    pub fn advance(&self, d: Duration) {
        let mut s = self.state();
        s.instant += d;
        s.system += d;
    }

    /// Every duration slept so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.state().sleeps.clone()
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.state().instant
    }

    fn system_time(&self) -> SystemTime {
        self.state().system
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        {
            let mut s = self.state();
            s.instant += duration;
            s.system += duration;
            s.sleeps.push(duration);
        }
        // Yield once so a sleeping loop still lets other tasks run.
        Box::pin(tokio::task::yield_now())
    }
}

/// A uniformly random duration in `[low, high]` (`low` if `high <= low`).
pub(crate) fn jitter(low: Duration, high: Duration) -> Duration {
    if high <= low {
        return low;
    }
    let span = (high - low).as_nanos().min(u64::MAX as u128) as u64;
    low + Duration::from_nanos(random_u64() % (span + 1))
}

/// 64 random bits. Falls back to the clock's sub-second noise if the OS source fails (jitter
/// does not need cryptographic quality).
pub(crate) fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::getrandom(&mut b).is_ok() {
        u64::from_le_bytes(b)
    } else {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64 ^ d.as_secs().rotate_left(32))
            .unwrap_or(0x9E37_79B9_7F4A_7C15)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_range() {
        let lo = Duration::from_millis(750);
        let hi = Duration::from_secs(1);
        for _ in 0..1000 {
            let j = jitter(lo, hi);
            assert!(j >= lo && j <= hi, "{j:?}");
        }
        assert_eq!(jitter(hi, lo), hi);
    }
}
