//! One refreshing cache for every source whose credentials expire (STS roles, instance metadata,
//! a credentials URI, or your own).

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Notify;

use super::{Credentials, ProvideCredentials, ProvideCredentialsFuture};
use crate::clock::{jitter, Clock, TokioClock};
use crate::error::CredentialsError;

/// The most a refresh is started before expiry (less for short-lived credentials).
pub const DEFAULT_REFRESH_WINDOW: Duration = Duration::from_secs(5 * 60);
/// Credentials are not used in their last this-much before expiry (less for short-lived ones),
/// so that a request signed with them does not arrive after they expired.
const MAX_EXPIRY_MARGIN: Duration = Duration::from_secs(10);
/// The pause after the first failed refresh; it doubles with each failure up to
/// [`MAX_BACKOFF`], and is drawn at random between half of it and all of it.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Never retry sooner than this.
const MIN_BACKOFF: Duration = Duration::from_millis(50);
/// A caller with no usable credentials makes at most this many attempts on a failure that may
/// pass (the source unreachable in time, HTTP 5xx, throttling), pausing between them.
const BLOCKING_ATTEMPTS: u32 = 3;
const BLOCKING_PAUSE: Duration = Duration::from_millis(200);

/// Caches the credentials of a source that expire, and refreshes them before they do.
///
/// Every expiring source of this crate ([`RamRoleArnProvider`](super::RamRoleArnProvider),
/// [`OidcRoleArnProvider`](super::OidcRoleArnProvider),
/// [`EcsRamRoleProvider`](super::EcsRamRoleProvider),
/// [`CredentialsUriProvider`](super::CredentialsUriProvider)) runs on it; wrap your own source
/// (a vault) in it to get the same rules. The source is asked only when needed, and its
/// credentials' [`expiry`](Credentials::expiry) decides when:
///
/// * **Fresh**: until the *refresh window* before expiry — 5 minutes
///   ([`DEFAULT_REFRESH_WINDOW`], or [`refresh_window`](RefreshingProviderBuilder::refresh_window)),
///   but at most a quarter of the credentials' lifetime, so credentials that live for seconds
///   are refreshed too — the cached credentials are served and the source is not asked.
/// * **Due**: after that, the first caller starts one refresh in the background (a Tokio task)
///   and every caller, that one included, keeps getting the cached credentials at once.
/// * **Expired**: the credentials are never served in their last 10 seconds (at most a tenth
///   of their lifetime) nor after. A caller then waits for the one refresh in flight, or starts
///   it; however many callers wait, the source is asked once.
/// * **Failed refresh**: while the cached credentials are still usable they keep being served,
///   and the next refresh waits a jittered backoff (1 s doubling to 60 s, each pause drawn
///   between half and all of it, and at most half the time the credentials have left), not
///   every call. With no usable credentials, the caller that refreshes makes up to three
///   attempts when the failure may pass (network, HTTP 5xx, throttling); callers during the
///   backoff then get that error at once, without asking the source.
/// * Credentials without an expiry are cached for good. Credentials that arrive already
///   expired are a failure.
///
/// Time is read from the [`Clock`] (default [`TokioClock`]; tests use
/// [`ManualClock`](crate::clock::ManualClock) and never sleep).
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use alibabacloud_ens::credentials::RefreshingProvider;
/// use alibabacloud_ens::{Credentials, ProvideCredentials, ProvideCredentialsFuture};
///
/// /// Fetches short-lived credentials from a vault.
/// #[derive(Debug)]
/// struct Vault;
///
/// impl ProvideCredentials for Vault {
///     fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
///         Box::pin(async {
///             let expiry = SystemTime::now() + Duration::from_secs(3600);
///             Ok(Credentials::with_security_token("STS.example", "secret", "token")
///                 .expiring_at(expiry))
///         })
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), alibabacloud_ens::error::CredentialsError> {
/// let cached = RefreshingProvider::new(Vault);
/// let first = cached.provide_credentials().await?;   // asks the vault
/// let again = cached.provide_credentials().await?;   // served from the cache
/// assert_eq!(first, again);
/// # Ok(()) }
/// ```
pub struct RefreshingProvider<P> {
    shared: Arc<Shared>,
    source: Arc<P>,
}

/// The cache itself, the same code for every source (only the thin [`RefreshingProvider`]
/// shell is generic).
struct Shared {
    source: Arc<dyn ProvideCredentials>,
    clock: Arc<dyn Clock>,
    max_window: Duration,
    state: Mutex<State>,
    /// Woken when a refresh ends, however it ends.
    done: Notify,
}

#[derive(Default)]
struct State {
    cached: Option<Cached>,
    refreshing: bool,
    /// Consecutive failed refreshes.
    failures: u32,
    /// No refresh before this time (after a failure).
    retry_at: Option<Instant>,
    /// The last failure, answered during the backoff when nothing usable is cached.
    last_error: Option<CredentialsError>,
}

struct Cached {
    credentials: Credentials,
    /// From this time on a refresh is due (`None`: never).
    refresh_at: Option<SystemTime>,
    /// Until this time the credentials may be used (`None`: forever).
    usable_until: Option<SystemTime>,
}

impl Cached {
    fn new(credentials: Credentials, now: SystemTime, max_window: Duration) -> Self {
        let (refresh_at, usable_until) = match credentials.expiry() {
            None => (None, None),
            Some(expiry) => {
                let lifetime = expiry.duration_since(now).unwrap_or(Duration::ZERO);
                let window = max_window.min(lifetime / 4);
                let margin = MAX_EXPIRY_MARGIN.min(lifetime / 10);
                let before = |d| expiry.checked_sub(d).unwrap_or(expiry);
                (Some(before(window)), Some(before(margin)))
            }
        };
        Cached {
            credentials,
            refresh_at,
            usable_until,
        }
    }

    fn is_fresh(&self, now: SystemTime) -> bool {
        self.refresh_at.is_none_or(|t| now < t)
    }

    fn is_usable(&self, now: SystemTime) -> bool {
        self.usable_until.is_none_or(|t| now < t)
    }
}

/// What a caller does after looking at the state.
enum Next {
    Serve(Credentials),
    /// Serve these, and refresh in the background.
    ServeAndRefresh(Credentials),
    Fail(CredentialsError),
    WaitForRefresh,
    Refresh,
}

impl<P: ProvideCredentials + 'static> RefreshingProvider<P> {
    /// Caches `source` with the defaults: the Tokio clock, a 5-minute refresh window.
    pub fn new(source: P) -> Self {
        Self::builder(source).build()
    }

    /// A builder, to choose the clock or the refresh window.
    pub fn builder(source: P) -> RefreshingProviderBuilder<P> {
        RefreshingProviderBuilder {
            source,
            clock: Arc::new(TokioClock),
            max_window: DEFAULT_REFRESH_WINDOW,
        }
    }

    /// The source asked for fresh credentials.
    pub fn source(&self) -> &P {
        &self.source
    }
}

/// Builds a [`RefreshingProvider`]. Obtained from [`RefreshingProvider::builder`].
#[must_use]
pub struct RefreshingProviderBuilder<P> {
    source: P,
    clock: Arc<dyn Clock>,
    max_window: Duration,
}

impl<P: ProvideCredentials + 'static> RefreshingProviderBuilder<P> {
    /// Reads time from `clock` (default [`TokioClock`]).
    pub fn clock(self, clock: impl Clock) -> Self {
        self.shared_clock(Arc::new(clock))
    }

    pub(crate) fn shared_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Refreshes at most `window` before expiry (default 5 minutes); a quarter of the
    /// credentials' lifetime when that is shorter.
    pub fn refresh_window(mut self, window: Duration) -> Self {
        self.max_window = window;
        self
    }

    /// The provider.
    pub fn build(self) -> RefreshingProvider<P> {
        let source = Arc::new(self.source);
        RefreshingProvider {
            source: Arc::clone(&source),
            shared: Arc::new(Shared {
                source,
                clock: self.clock,
                max_window: self.max_window,
                state: Mutex::new(State::default()),
                done: Notify::new(),
            }),
        }
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // Every update leaves the state consistent: a panic elsewhere cannot corrupt it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn next(&self) -> Next {
        let now_wall = self.clock.system_time();
        let now = self.clock.now();
        let mut st = self.state();
        if let Some(c) = &st.cached {
            if c.is_fresh(now_wall) {
                return Next::Serve(c.credentials.clone());
            }
            if c.is_usable(now_wall) {
                let credentials = c.credentials.clone();
                if st.refreshing || st.retry_at.is_some_and(|t| now < t) {
                    return Next::Serve(credentials);
                }
                st.refreshing = true;
                return Next::ServeAndRefresh(credentials);
            }
        }
        if st.refreshing {
            return Next::WaitForRefresh;
        }
        if let (Some(t), Some(e)) = (st.retry_at, &st.last_error) {
            if now < t {
                return Next::Fail(e.clone());
            }
        }
        st.refreshing = true;
        Next::Refresh
    }

    /// Records the outcome of a fetch; the credentials to serve, or the error.
    fn record(
        &self,
        fetched: Result<Credentials, CredentialsError>,
    ) -> Result<Credentials, CredentialsError> {
        let now_wall = self.clock.system_time();
        let now = self.clock.now();
        let fetched = fetched.and_then(|c| {
            let cached = Cached::new(c, now_wall, self.max_window);
            if cached.is_usable(now_wall) {
                Ok(cached)
            } else {
                Err(CredentialsError::new(format!(
                    "the credentials {} gave had expired already (at {})",
                    cached.credentials.provider_name().unwrap_or("the source"),
                    crate::lenient::format_time(time::OffsetDateTime::from(
                        cached.credentials.expiry().unwrap_or(now_wall)
                    ))
                )))
            }
        });
        let mut st = self.state();
        match fetched {
            Ok(cached) => {
                let credentials = cached.credentials.clone();
                if tracing::enabled!(tracing::Level::DEBUG) {
                    let expires_in_s = credentials
                        .expiry()
                        .and_then(|e| e.duration_since(now_wall).ok())
                        .map(|d| d.as_secs());
                    tracing::debug!(
                        provider = credentials.provider_name().unwrap_or("-"),
                        expires_in_s,
                        failures_before = st.failures,
                        "credentials refreshed"
                    );
                }
                st.cached = Some(cached);
                st.failures = 0;
                st.retry_at = None;
                st.last_error = None;
                Ok(credentials)
            }
            Err(e) => {
                st.failures = st.failures.saturating_add(1);
                let doubling = FIRST_BACKOFF.saturating_mul(1 << (st.failures - 1).min(16));
                let cap = MAX_BACKOFF.min(doubling);
                let mut pause = jitter(cap / 2, cap);
                let left = st
                    .cached
                    .as_ref()
                    .filter(|c| c.is_usable(now_wall))
                    .map(|c| c.usable_until.and_then(|u| u.duration_since(now_wall).ok()));
                if let Some(left) = left {
                    pause = pause.min(left.unwrap_or(Duration::ZERO) / 2);
                }
                let pause = pause.max(MIN_BACKOFF);
                st.retry_at = Some(now + pause);
                st.last_error = Some(e.clone());
                match left {
                    // Nobody else learns of this failure (every caller is served): warn.
                    Some(left) => tracing::warn!(
                        error = %e,
                        failures = st.failures,
                        retry_in_ms = pause.as_millis() as u64,
                        valid_for_s = left.map(|d| d.as_secs()),
                        "refreshing credentials failed; serving the cached ones while they last"
                    ),
                    // The caller gets this error: reporting it is the caller's business.
                    None => tracing::debug!(
                        error = %e,
                        failures = st.failures,
                        retry_in_ms = pause.as_millis() as u64,
                        "refreshing credentials failed"
                    ),
                }
                Err(e)
            }
        }
    }
}

/// Marks the end of a refresh, however it ends (a refresh cancelled half-way included): the
/// next caller may start another, and the callers waiting look again.
struct InFlight<'a>(&'a Shared);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.state().refreshing = false;
        self.0.done.notify_waiters();
    }
}

impl Shared {
    /// One refresh (the caller has set `refreshing`). `blocking`: the caller has nothing usable
    /// and waits, so a failure that may pass is tried again at once, a few times.
    async fn refresh(&self, blocking: bool) -> Result<Credentials, CredentialsError> {
        let _in_flight = InFlight(self);
        let mut attempt = 1;
        let fetched = loop {
            match self.source.provide_credentials().await {
                Err(e) if blocking && e.is_retryable() && attempt < BLOCKING_ATTEMPTS => {
                    let pause = BLOCKING_PAUSE * attempt;
                    tracing::info!(attempt, error = %e, "fetching credentials failed; retrying");
                    self.clock.sleep(jitter(pause / 2, pause)).await;
                    attempt += 1;
                }
                other => break other,
            }
        };
        self.record(fetched)
    }

    async fn provide(self: &Arc<Self>) -> Result<Credentials, CredentialsError> {
        loop {
            // Registered before the state is looked at, so a refresh ending in between still
            // wakes this caller.
            let refreshed = self.done.notified();
            match self.next() {
                Next::Serve(c) => return Ok(c),
                Next::Fail(e) => return Err(e),
                Next::WaitForRefresh => refreshed.await,
                Next::Refresh => return self.refresh(true).await,
                Next::ServeAndRefresh(c) => {
                    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                        let shared = Arc::clone(self);
                        runtime.spawn(async move {
                            let _ = shared.refresh(false).await;
                        });
                        return Ok(c);
                    }
                    // No Tokio runtime to refresh in the background: this caller refreshes,
                    // and keeps the credentials it has if that fails.
                    return Ok(self.refresh(false).await.unwrap_or(c));
                }
            }
        }
    }
}

impl<P: ProvideCredentials + 'static> ProvideCredentials for RefreshingProvider<P> {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        Box::pin(self.shared.provide())
    }
}

impl<P: fmt::Debug> fmt::Debug for RefreshingProvider<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.state();
        f.debug_struct("RefreshingProvider")
            .field("source", &self.source)
            .field(
                "cached_expiry",
                &st.cached.as_ref().and_then(|c| c.credentials.expiry()),
            )
            .field("failures", &st.failures)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicU32, Ordering};
    use tokio::sync::Semaphore;

    /// What the next fetch does.
    #[derive(Clone, Copy)]
    enum Step {
        /// Credentials living this long.
        Live(Duration),
        /// A failure, retryable or not.
        Fail(bool),
    }

    /// A source on a manual clock: each fetch takes the next step (the last one repeats), and
    /// waits for a permit of `gate` when one is set.
    #[derive(Debug)]
    struct Fake {
        clock: ManualClock,
        steps: Mutex<VecDeque<Step>>,
        last: Mutex<Option<Step>>,
        calls: AtomicU32,
        started: AtomicU32,
        gate: Option<Arc<Semaphore>>,
    }

    impl std::fmt::Debug for Step {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("Step")
        }
    }

    impl ProvideCredentials for Fake {
        fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
            Box::pin(async move {
                let n = self.started.fetch_add(1, Ordering::SeqCst) + 1;
                if let Some(gate) = &self.gate {
                    gate.acquire().await.unwrap().forget();
                }
                self.calls.fetch_add(1, Ordering::SeqCst);
                let step = {
                    let mut steps = self.steps.lock().unwrap();
                    let mut last = self.last.lock().unwrap();
                    if let Some(s) = steps.pop_front() {
                        *last = Some(s);
                    }
                    last.unwrap_or(Step::Live(Duration::from_secs(3600)))
                };
                match step {
                    Step::Live(d) => {
                        Ok(
                            Credentials::with_security_token(format!("STS.{n}"), "SeCrEt", "ToKeN")
                                .expiring_at(self.clock.system_time() + d)
                                .with_provider_name("fake"),
                        )
                    }
                    Step::Fail(retryable) => {
                        Err(CredentialsError::new(format!("fetch {n} failed")).retryable(retryable))
                    }
                }
            })
        }
    }

    struct Setup {
        clock: ManualClock,
        cache: Arc<RefreshingProvider<Fake>>,
    }

    impl Setup {
        fn new(steps: &[Step], gate: Option<Arc<Semaphore>>) -> Self {
            Self::with_window(steps, gate, DEFAULT_REFRESH_WINDOW)
        }

        fn with_window(steps: &[Step], gate: Option<Arc<Semaphore>>, window: Duration) -> Self {
            let clock = ManualClock::new();
            let fake = Fake {
                clock: clock.clone(),
                steps: Mutex::new(steps.iter().copied().collect()),
                last: Mutex::new(None),
                calls: AtomicU32::new(0),
                started: AtomicU32::new(0),
                gate,
            };
            let cache = RefreshingProvider::builder(fake)
                .clock(clock.clone())
                .refresh_window(window)
                .build();
            Setup {
                clock,
                cache: Arc::new(cache),
            }
        }

        fn calls(&self) -> u32 {
            self.cache.source().calls.load(Ordering::SeqCst)
        }

        fn started(&self) -> u32 {
            self.cache.source().started.load(Ordering::SeqCst)
        }

        async fn id(&self) -> String {
            self.cache
                .provide_credentials()
                .await
                .unwrap()
                .access_key_id()
                .to_owned()
        }

        async fn err(&self) -> String {
            self.cache.provide_credentials().await.unwrap_err().message
        }

        fn advance(&self, d: Duration) {
            self.clock.advance(d);
        }

        /// Lets background tasks run until `calls` fetches have finished (bounded).
        async fn settle(&self, calls: u32) {
            for _ in 0..1000 {
                if self.calls() >= calls && !self.cache.shared.state().refreshing {
                    return;
                }
                tokio::task::yield_now().await;
            }
            panic!("{} fetches, wanted {calls}", self.calls());
        }
    }

    const S: fn(u64) -> Duration = Duration::from_secs;
    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[tokio::test]
    async fn fresh_credentials_are_served_without_asking() {
        let s = Setup::new(&[Step::Live(S(3600))], None);
        assert_eq!(s.id().await, "STS.1");
        for _ in 0..10 {
            assert_eq!(s.id().await, "STS.1");
        }
        // Up to the 5-minute window before expiry.
        s.advance(S(3600 - 300) - MS(1));
        assert_eq!(s.id().await, "STS.1");
        assert_eq!(s.calls(), 1);
        assert!(format!("{:?}", s.cache).contains("failures: 0"));
    }

    #[tokio::test]
    async fn due_credentials_are_served_while_one_refresh_runs_in_the_background() {
        let gate = Arc::new(Semaphore::new(1));
        let s = Setup::new(&[Step::Live(S(3600))], Some(Arc::clone(&gate)));
        assert_eq!(s.id().await, "STS.1");
        s.advance(S(3600 - 300));
        // Every caller gets the cached credentials at once; one refresh starts.
        for _ in 0..50 {
            assert_eq!(s.id().await, "STS.1");
        }
        tokio::task::yield_now().await;
        assert_eq!(s.started(), 2);
        assert_eq!(s.calls(), 1);
        gate.add_permits(1);
        s.settle(2).await;
        assert_eq!(s.id().await, "STS.2");
        assert_eq!(s.started(), 2);
    }

    #[tokio::test]
    async fn short_lived_credentials_refresh_in_the_last_quarter() {
        // 8 s: refreshed from 6 s (a quarter before expiry), never used from 7.2 s (a tenth).
        let s = Setup::new(&[Step::Live(S(8))], None);
        assert_eq!(s.id().await, "STS.1");
        s.advance(S(6) - MS(1));
        assert_eq!(s.id().await, "STS.1");
        assert_eq!(s.calls(), 1);
        s.advance(MS(1));
        assert_eq!(s.id().await, "STS.1");
        s.settle(2).await;
        assert_eq!(s.id().await, "STS.2");
        // A custom window: at most 1 s before expiry.
        let clock = ManualClock::new();
        let fake = Fake {
            clock: clock.clone(),
            steps: Mutex::new([Step::Live(S(3600))].into_iter().collect()),
            last: Mutex::new(None),
            calls: AtomicU32::new(0),
            started: AtomicU32::new(0),
            gate: None,
        };
        let cache = RefreshingProvider::builder(fake)
            .clock(clock.clone())
            .refresh_window(S(1))
            .build();
        cache.provide_credentials().await.unwrap();
        clock.advance(S(3598));
        cache.provide_credentials().await.unwrap();
        assert_eq!(cache.source().calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn expired_credentials_wait_for_one_refresh_however_many_callers() {
        let gate = Arc::new(Semaphore::new(1));
        let s = Setup::new(&[Step::Live(S(8))], Some(Arc::clone(&gate)));
        assert_eq!(s.id().await, "STS.1");
        // Within the last tenth: not usable any more.
        s.advance(S(8) - MS(799));
        let callers: Vec<_> = (0..50)
            .map(|_| {
                let cache = Arc::clone(&s.cache);
                tokio::spawn(async move { cache.provide_credentials().await })
            })
            .collect();
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert_eq!(s.started(), 2, "one refresh, not a stampede");
        assert!(callers.iter().all(|c| !c.is_finished()), "they wait");
        gate.add_permits(1);
        for c in callers {
            assert_eq!(c.await.unwrap().unwrap().access_key_id(), "STS.2");
        }
        assert_eq!(s.started(), 2);
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_serving_valid_credentials_and_backs_off() {
        let s = Setup::new(
            &[Step::Live(S(8)), Step::Fail(true), Step::Live(S(8))],
            None,
        );
        assert_eq!(s.id().await, "STS.1");
        s.advance(S(6));
        assert_eq!(s.id().await, "STS.1");
        s.settle(2).await;
        // The refresh failed; the cached credentials (usable until 7.2 s) are still served,
        // and the next attempt waits: at most half the 1.2 s they have left.
        for _ in 0..20 {
            assert_eq!(s.id().await, "STS.1");
        }
        tokio::task::yield_now().await;
        assert_eq!(s.calls(), 2, "no refresh on every call");
        assert!(format!("{:?}", s.cache).contains("failures: 1"));
        let retry_in = {
            let st = s.cache.shared.state();
            st.retry_at.unwrap() - s.clock.now()
        };
        assert!(
            retry_in >= MIN_BACKOFF && retry_in <= MS(600),
            "{retry_in:?}"
        );
        s.advance(retry_in);
        assert_eq!(s.id().await, "STS.1");
        s.settle(3).await;
        assert_eq!(s.id().await, "STS.3");
        assert!(format!("{:?}", s.cache).contains("failures: 0"));
    }

    #[tokio::test]
    async fn backoff_doubles_with_jitter_up_to_a_minute() {
        // A window of a quarter of 10 hours: the backoff, not the time left, sets the pauses.
        let s = Setup::with_window(&[Step::Live(S(36_000)), Step::Fail(false)], None, S(36_000));
        s.id().await;
        s.advance(S(36_000 - 8_000));
        let mut pauses = Vec::new();
        for _ in 0..9 {
            s.id().await;
            s.settle(s.calls() + 1).await;
            let pause = s.cache.shared.state().retry_at.unwrap() - s.clock.now();
            pauses.push(pause);
            s.advance(pause);
        }
        for (i, p) in pauses.iter().enumerate() {
            let cap = MAX_BACKOFF.min(FIRST_BACKOFF * (1 << i));
            assert!(*p >= cap / 2 && *p <= cap, "pause {i}: {p:?}");
        }
    }

    #[tokio::test]
    async fn expired_credentials_are_never_served() {
        let s = Setup::new(&[Step::Live(S(8)), Step::Fail(false)], None);
        assert_eq!(s.id().await, "STS.1");
        s.advance(S(9));
        assert_eq!(s.err().await, "fetch 2 failed");
        // During the backoff the same error comes back without asking the source.
        assert_eq!(s.err().await, "fetch 2 failed");
        assert_eq!(s.calls(), 2);
        s.advance(S(1));
        assert_eq!(s.err().await, "fetch 3 failed");
    }

    #[tokio::test]
    async fn with_nothing_usable_a_failure_that_may_pass_is_tried_again_at_once() {
        let s = Setup::new(
            &[Step::Fail(true), Step::Fail(true), Step::Live(S(3600))],
            None,
        );
        assert_eq!(s.id().await, "STS.3");
        assert_eq!(s.calls(), 3);
        let pauses = s.clock.sleeps();
        assert_eq!(pauses.len(), 2);
        assert!(pauses[0] >= MS(100) && pauses[0] <= MS(200), "{pauses:?}");
        assert!(pauses[1] >= MS(200) && pauses[1] <= MS(400), "{pauses:?}");
        // At most three attempts, and not for a failure that will not pass.
        let s = Setup::new(&[Step::Fail(true)], None);
        assert_eq!(s.err().await, "fetch 3 failed");
        let s = Setup::new(&[Step::Fail(false)], None);
        assert_eq!(s.err().await, "fetch 1 failed");
        assert_eq!(s.calls(), 1);
    }

    #[tokio::test]
    async fn credentials_that_arrive_expired_are_a_failure() {
        let s = Setup::new(&[Step::Live(Duration::ZERO)], None);
        let e = s.err().await;
        assert!(
            e.starts_with("the credentials fake gave had expired already (at "),
            "{e}"
        );
    }

    #[tokio::test]
    async fn credentials_without_expiry_are_kept() {
        #[derive(Debug)]
        struct Static(AtomicU32);
        impl ProvideCredentials for Static {
            fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
                self.0.fetch_add(1, Ordering::SeqCst);
                Box::pin(async { Ok(Credentials::new("AKID", "SeCrEt")) })
            }
        }
        let clock = ManualClock::new();
        let cache = RefreshingProvider::builder(Static(AtomicU32::new(0)))
            .clock(clock.clone())
            .build();
        for _ in 0..3 {
            cache.provide_credentials().await.unwrap();
            clock.advance(S(365 * 86_400));
        }
        assert_eq!(cache.source().0.load(Ordering::SeqCst), 1);
        assert_eq!(
            format!("{cache:?}"),
            "RefreshingProvider { source: Static(1), cached_expiry: None, failures: 0 }"
        );
    }

    #[tokio::test]
    async fn a_cancelled_refresh_lets_the_next_caller_refresh() {
        let gate = Arc::new(Semaphore::new(0));
        let s = Setup::new(&[Step::Live(S(3600))], Some(Arc::clone(&gate)));
        let cache = Arc::clone(&s.cache);
        let first = tokio::spawn(async move { cache.provide_credentials().await });
        while s.started() == 0 {
            tokio::task::yield_now().await;
        }
        let cache = Arc::clone(&s.cache);
        let waiting = tokio::spawn(async move { cache.provide_credentials().await });
        tokio::task::yield_now().await;
        first.abort();
        assert!(first.await.unwrap_err().is_cancelled());
        // The waiting caller wakes up and refreshes itself.
        while s.started() < 2 {
            tokio::task::yield_now().await;
        }
        gate.add_permits(1);
        assert_eq!(waiting.await.unwrap().unwrap().access_key_id(), "STS.2");
    }

    #[tokio::test]
    async fn debug_shows_no_secret() {
        let s = Setup::new(&[Step::Live(S(3600))], None);
        s.id().await;
        let d = format!("{:?}", s.cache);
        assert!(!d.contains("SeCrEt") && !d.contains("ToKeN"), "{d}");
        assert!(d.starts_with("RefreshingProvider { source: Fake {"), "{d}");
    }
}
