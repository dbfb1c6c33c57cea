//! Time, injectable: the wall clock used for signatures and the monotonic clock and sleep used
//! by retries and waiters.
//!
//! The default, [`TokioClock`], uses the system clock and `tokio::time::sleep`. [`ManualClock`]
//! is a test double: its `sleep` returns at once after moving its time forward, so tests of code
//! that waits never really wait.
//!
//! Two kinds of waiting go through a clock: deliberate pauses ([`Clock::sleep`]: retry backoff,
//! the delay between a waiter's polls) and time limits ([`Clock::sleep_until`]: the read,
//! attempt and operation timeouts, a waiter's deadline). On a [`ManualClock`] a pause moves time
//! forward and returns at once, while a time limit fires only once the clock's time has passed
//! its deadline, moved there by [`ManualClock::advance`] or by pauses. So a test drives a
//! timeout without real waiting: start the call, then `advance` past the limit.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime};

/// The future returned by [`Clock::sleep`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A source of time and a way to wait.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Monotonic now: deadlines and elapsed times are measured with it.
    fn now(&self) -> Instant;
    /// Wall-clock now: request timestamps are made from it.
    fn system_time(&self) -> SystemTime;
    /// Waits `duration`: a deliberate pause (retry backoff, a waiter's delay between polls).
    fn sleep(&self, duration: Duration) -> Sleep;
    /// Completes when [`now`](Clock::now) reaches `deadline`: a time limit (read, attempt and
    /// operation timeouts, a waiter's deadline). The default sleeps for the time remaining.
    fn sleep_until(&self, deadline: Instant) -> Sleep {
        self.sleep(deadline.saturating_duration_since(self.now()))
    }
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

    fn sleep_until(&self, deadline: Instant) -> Sleep {
        Box::pin(tokio::time::sleep_until(deadline.into()))
    }
}

/// A clock for tests: it starts at the real current time and moves only when told to or when
/// something sleeps on it (the sleep returns at once). It records every sleep. Its time limits
/// ([`Clock::sleep_until`]) fire when its time passes their deadline, never on their own.
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
    /// Pending time limits: id, deadline, the task to wake.
    timers: Vec<(u64, Instant, Waker)>,
    next_timer: u64,
}

impl ManualState {
    fn move_by(&mut self, d: Duration) {
        self.instant += d;
        self.system += d;
        let now = self.instant;
        self.timers.retain(|(_, deadline, waker)| {
            if *deadline <= now {
                waker.wake_by_ref();
                false
            } else {
                true
            }
        });
    }
}

impl ManualClock {
    /// A manual clock starting now.
    pub fn new() -> Self {
        ManualClock {
            inner: Arc::new(Mutex::new(ManualState {
                instant: Instant::now(),
                system: SystemTime::now(),
                sleeps: Vec::new(),
                timers: Vec::new(),
                next_timer: 0,
            })),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ManualState> {
        // A panic while holding this lock cannot leave the state inconsistent: recover it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves time forward by `d`, firing the time limits it passes.
    pub fn advance(&self, d: Duration) {
        self.state().move_by(d);
    }

    /// How many time limits are waiting for this clock to pass their deadline (a test can wait
    /// for a call to be in flight before advancing).
    pub fn pending_timers(&self) -> usize {
        self.state().timers.len()
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
            s.move_by(duration);
            s.sleeps.push(duration);
        }
        // Yield once so a sleeping loop still lets other tasks run.
        Box::pin(tokio::task::yield_now())
    }

    fn sleep_until(&self, deadline: Instant) -> Sleep {
        Box::pin(ManualTimer {
            clock: self.clone(),
            deadline,
            id: None,
        })
    }
}

/// A time limit on a [`ManualClock`]: ready once the clock's time reaches the deadline.
struct ManualTimer {
    clock: ManualClock,
    deadline: Instant,
    id: Option<u64>,
}

impl Future for ManualTimer {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let mut s = this.clock.state();
        if s.instant >= this.deadline {
            return Poll::Ready(());
        }
        let waker = cx.waker().clone();
        match this.id {
            Some(id) => match s.timers.iter_mut().find(|t| t.0 == id) {
                Some(t) => t.2 = waker,
                None => s.timers.push((id, this.deadline, waker)),
            },
            None => {
                let id = s.next_timer;
                s.next_timer += 1;
                s.timers.push((id, this.deadline, waker));
                this.id = Some(id);
            }
        }
        Poll::Pending
    }
}

impl Drop for ManualTimer {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.clock.state().timers.retain(|t| t.0 != id);
        }
    }
}

/// Runs `f` until it finishes or `clock` reaches `deadline`; `None` when the deadline came first.
pub(crate) async fn within<F: Future>(
    clock: &dyn Clock,
    deadline: Instant,
    f: F,
) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    let mut timer = clock.sleep_until(deadline);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = f.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
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

    #[tokio::test]
    async fn manual_time_limits_fire_only_when_time_passes_them() {
        let clock = ManualClock::new();
        let deadline = clock.now() + Duration::from_secs(10);
        let c = clock.clone();
        let waiting =
            tokio::spawn(async move { within(&c, deadline, std::future::pending::<()>()).await });
        while clock.pending_timers() == 0 {
            tokio::task::yield_now().await;
        }
        clock.advance(Duration::from_secs(9));
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        // A pause moves time too.
        clock.sleep(Duration::from_secs(1)).await;
        assert_eq!(waiting.await.unwrap(), None);
        assert_eq!(clock.pending_timers(), 0);
        // A future that finishes first wins, and its timer is dropped.
        let done = within(&clock, clock.now() + Duration::from_secs(1), async { 7 }).await;
        assert_eq!(done, Some(7));
        assert_eq!(clock.pending_timers(), 0);
    }

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
