//! Waiting until an association is really in use (or really gone).
//!
//! AssociateHaVip returns as soon as the service accepts the request; the association takes
//! effect later. [`Client::wait_until_in_use`](crate::Client::wait_until_in_use) polls
//! DescribeHaVips until it does.
//!
//! ## The status trap
//! The API page says the HAVIP shows `Associating` while associating, but `Associating` is a
//! status of each association: an HAVIP that already serves one instance stays `InUse` while a
//! second association is still in progress (the usual keepalived pair has two). So this waiter
//! succeeds only when the HAVIP is `InUse` **and** the target instance is listed in
//! `AssociatedInstances` with status `InUse` ([`HaVip::is_in_use_by`]).
//!
//! ## Schedule
//! The first poll is immediate. For the first 10 seconds the waiter polls about once a second
//! (a jittered delay in `[max(min_delay, 800 ms), 1 s]`), so a transition that takes under
//! 10 s is noticed within a second of it. After that the delay doubles from 2 s up to
//! `max_delay`, each delay jittered in `[max(min_delay, 0.8·d), d]`. With the defaults
//! (`min_delay` 750 ms, `max_delay` 40 s, `max_wait` 5 min) a full 5-minute wait makes 22 to 27
//! polls, fewer than Terraform's schedule (about 30). One last poll is made at the deadline
//! before giving up.
//!
//! ## Progress
//! `on_progress` takes a closure that may borrow from the caller's scope (a counter, a channel
//! sender, a log buffer): the waiter lives no longer than the call that awaits it.
//!
//! ```no_run
//! # async fn run(client: alibabacloud_ens::Client) -> Result<(), alibabacloud_ens::Error> {
//! let mut seen = Vec::new();
//! client
//!     .wait_until_in_use("havip-1", "i-1")
//!     .on_progress(|p| seen.push(p.clone()))
//!     .await?;
//! println!("{} state changes", seen.len());
//! # Ok(()) }
//! ```
//!
//! The defaults come from the client's [`WaiterSchedule`]
//! ([`ClientBuilder::waiter_schedule`](crate::ClientBuilder::waiter_schedule)); each waiter may
//! set its own.
//!
//! ## An HAVIP that is gone or being deleted
//! Whether that ends a wait, and how, depends on what the wait is for. An HAVIP that is not
//! listed (deleted, or never created; DescribeHaVips' `HaVipNotFound` counts the same) or is
//! `Deleting`:
//!
//! | waiter | not listed | `Deleting` |
//! |---|---|---|
//! | `wait_until_in_use` | failure at once: it can never be in use | failure at once |
//! | `wait_until_unassociated` | **success**: nothing is associated with it ([`WaitOutput::ha_vip_gone`]) | success once the instance is not listed (deleting needs every association gone) |
//! | `wait_until_available` | waited for up to [`NOT_LISTED_GRACE`] (a new HAVIP may take a moment to be listed), then a failure; a failure at once if an earlier poll listed it | failure at once |
//! | `wait_until_deleted` | success | waited for |
//!
//! `ensure_unassociated` follows `wait_until_unassociated` and `ensure_associated` follows
//! `wait_until_in_use` (see [`crate::ensure`]).
//!
//! ## Errors
//! * [`Error::WaiterTimedOut`]: the deadline passed; it carries the elapsed time, the number of
//!   polls and the last observed HAVIP.
//! * [`Error::WaiterFailureState`]: the wanted state cannot be reached any more (see the table
//!   above); its `observed` is `None` when the HAVIP no longer exists.
//! * [`Error::WaiterOperationFailed`]: a poll failed with an error that retrying will not cure
//!   (e.g. `SignatureDoesNotMatch`). Transient poll errors (throttling, 5xx, network) are
//!   retried on the waiter's schedule until the deadline.
//!
//! The waiter sleeps on the client's [`Clock`](crate::clock::Clock), so tests with a
//! [`ManualClock`](crate::clock::ManualClock) never really wait. Dropping the future stops
//! polling.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::jitter;
use crate::error::{WaiterFailureState, WaiterOperationFailed, WaiterTimedOut};
use crate::model::{AssociationStatus, HaVip, HaVipStatus};
use crate::operation::associate_ha_vip::AssociateHaVipFluentBuilder;
use crate::operation::create_ha_vip::CreateHaVipFluentBuilder;
use crate::operation::delete_ha_vips::DeleteHaVipsFluentBuilder;
use crate::operation::describe_ha_vips::DescribeHaVipsFluentBuilder;
use crate::transport::{BoxFuture, Transport};
use crate::{Error, ErrorCode, RetryConfig};

/// Default longest wait: 5 minutes.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(300);
/// Default shortest delay between polls: 750 ms.
pub const DEFAULT_MIN_DELAY: Duration = Duration::from_millis(750);
/// Default longest delay between polls: 40 s.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(40);
/// How long the waiter polls about once a second before backing off.
pub const FAST_POLL_WINDOW: Duration = Duration::from_secs(10);
const FAST_DELAY: Duration = Duration::from_secs(1);

/// How long a waiter waits at most and how often it polls: the client-wide default
/// ([`ClientBuilder::waiter_schedule`](crate::ClientBuilder::waiter_schedule)), used by every
/// waiter, every `send_and_wait` and every ensure call unless it sets its own.
///
/// The default is the schedule in the [module docs](self): a 5-minute deadline, about one poll
/// a second for 10 s, then delays doubling up to 40 s. Against the emulator, tests poll faster:
///
/// ```
/// use std::time::Duration;
/// use alibabacloud_ens::waiter::WaiterSchedule;
///
/// let fast = WaiterSchedule::polling_every(Duration::from_millis(20))
///     .with_max_wait(Duration::from_secs(10));
/// assert_eq!(fast.min_delay(), Duration::from_millis(20));
/// assert_eq!(fast.max_delay(), Duration::from_millis(20));
/// # let _ = alibabacloud_ens::Client::builder().waiter_schedule(fast);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaiterSchedule {
    pub(crate) max_wait: Duration,
    pub(crate) min_delay: Duration,
    pub(crate) max_delay: Duration,
}

impl Default for WaiterSchedule {
    fn default() -> Self {
        WaiterSchedule {
            max_wait: DEFAULT_MAX_WAIT,
            min_delay: DEFAULT_MIN_DELAY,
            max_delay: DEFAULT_MAX_DELAY,
        }
    }
}

impl WaiterSchedule {
    /// The default schedule (see the [module docs](self)).
    pub fn new() -> Self {
        Self::default()
    }

    /// One poll every `delay` (no backoff, no jitter), with the default deadline.
    pub fn polling_every(delay: Duration) -> Self {
        WaiterSchedule {
            min_delay: delay,
            max_delay: delay,
            ..Self::default()
        }
    }

    /// The deadline, from the start of a wait (default 5 minutes).
    #[must_use]
    pub fn with_max_wait(mut self, d: Duration) -> Self {
        self.max_wait = d;
        self
    }

    /// The shortest delay between polls (default 750 ms).
    #[must_use]
    pub fn with_min_delay(mut self, d: Duration) -> Self {
        self.min_delay = d;
        self
    }

    /// The longest delay between polls (default 40 s).
    #[must_use]
    pub fn with_max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// The deadline.
    pub fn max_wait(&self) -> Duration {
        self.max_wait
    }

    /// The shortest delay between polls.
    pub fn min_delay(&self) -> Duration {
        self.min_delay
    }

    /// The longest delay between polls.
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// A delay setting that cannot work, named (`min_delay` above `max_delay`, a zero
    /// `max_delay`).
    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.min_delay > self.max_delay {
            return Err(Error::invalid_input(
                "min_delay",
                format!(
                    "{:?} is longer than max_delay {:?}",
                    self.min_delay, self.max_delay
                ),
            ));
        }
        if self.max_delay.is_zero() {
            return Err(Error::invalid_input(
                "max_delay",
                "must be greater than zero",
            ));
        }
        Ok(())
    }

    /// The ceiling of the next delay: 1 s inside the fast window, then 2 s, 4 s, … doubling
    /// once per poll after it, always within `[min_delay, max_delay]`.
    fn ceiling(&self, elapsed: Duration, polls_after_window: u32) -> Duration {
        let d = if elapsed < FAST_POLL_WINDOW {
            FAST_DELAY
        } else {
            let factor = 1u32 << polls_after_window.clamp(1, 16);
            FAST_DELAY.saturating_mul(factor)
        };
        d.min(self.max_delay).max(self.min_delay)
    }

    /// A jittered delay in `[max(min_delay, 0.8·ceiling), ceiling]`.
    pub(crate) fn delay(&self, elapsed: Duration, polls_after_window: u32) -> Duration {
        let hi = self.ceiling(elapsed, polls_after_window);
        let lo = (hi * 4 / 5).max(self.min_delay).min(hi);
        jitter(lo, hi)
    }
}

/// A state change the waiter observed, passed to the `on_progress` callback.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitProgress {
    /// Time since the waiter started.
    pub elapsed: Duration,
    /// Polls made so far, this one included.
    pub polls: u32,
    /// The HAVIP this change is about.
    pub ha_vip_id: String,
    /// The HAVIP's status (`None`: the HAVIP was not found).
    pub ha_vip_status: Option<HaVipStatus>,
    /// The target instance's association status (`None`: not listed, or the waiter is not
    /// about an instance).
    pub association_status: Option<AssociationStatus>,
    /// Whether the waiter is about an instance's association.
    about_instance: bool,
}

impl fmt::Display for WaitProgress {
    /// `HAVIP InUse, association Associating` for a waiter about an instance, `havip-1
    /// Creating` for one about HAVIPs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.about_instance {
            return match &self.ha_vip_status {
                None => write!(f, "{} not found", self.ha_vip_id),
                Some(s) => write!(f, "{} {s}", self.ha_vip_id),
            };
        }
        match &self.ha_vip_status {
            None => f.write_str("HAVIP not found")?,
            Some(s) => write!(f, "HAVIP {s}")?,
        }
        match &self.association_status {
            None => f.write_str(", instance not associated"),
            Some(s) => write!(f, ", association {s}"),
        }
    }
}

impl WaitProgress {
    /// A change about an instance's association with an HAVIP.
    pub(crate) fn about_instance(
        elapsed: Duration,
        polls: u32,
        h: Option<&HaVip>,
        ha_vip_id: &str,
        instance_id: &str,
    ) -> Self {
        WaitProgress {
            elapsed,
            polls,
            ha_vip_id: ha_vip_id.to_owned(),
            ha_vip_status: h.map(|h| h.status.clone()),
            association_status: h
                .and_then(|h| h.association(instance_id))
                .map(|a| a.status.clone()),
            about_instance: true,
        }
    }
}

/// What a successful wait about an instance's association returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct WaitOutput {
    ha_vip: HaVip,
    ha_vip_gone: bool,
    #[serde(rename = "ElapsedMs", with = "crate::lenient::millis")]
    elapsed: Duration,
    polls: u32,
}

output_builder!(WaitOutput => WaitOutputBuilder {
    ha_vip: HaVip,
    ha_vip_gone: bool,
    elapsed: Duration,
    polls: u32,
});

impl WaitOutput {
    /// The HAVIP as observed by the last poll. When it no longer exists
    /// ([`ha_vip_gone`](Self::ha_vip_gone), only after `wait_until_unassociated`), this holds
    /// only its id.
    pub fn ha_vip(&self) -> &HaVip {
        &self.ha_vip
    }

    /// The HAVIP as observed by the last poll, by value.
    pub fn into_ha_vip(self) -> HaVip {
        self.ha_vip
    }

    /// `true` when the last poll found the HAVIP gone (deleted, or never created): how
    /// `wait_until_unassociated` may end, since a HAVIP that does not exist has no association.
    pub fn ha_vip_gone(&self) -> bool {
        self.ha_vip_gone
    }

    /// How long the wait took.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// How many polls it made.
    pub fn polls(&self) -> u32 {
        self.polls
    }
}

/// What a successful wait about HAVIPs (available, deleted) returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct WaitAllOutput {
    ha_vips: Vec<HaVip>,
    #[serde(rename = "ElapsedMs", with = "crate::lenient::millis")]
    elapsed: Duration,
    polls: u32,
}

output_builder!(WaitAllOutput => WaitAllOutputBuilder {
    ha_vips: Vec<HaVip>,
    elapsed: Duration,
    polls: u32,
});

impl WaitAllOutput {
    /// The HAVIPs as observed by the last poll, in the order their ids were given (empty after
    /// a wait for deletion).
    pub fn ha_vips(&self) -> &[HaVip] {
        &self.ha_vips
    }

    /// How long the wait took.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// How many polls it made (one DescribeHaVips call per id each).
    pub fn polls(&self) -> u32 {
        self.polls
    }
}

pub(crate) type ProgressFn<'a> = Box<dyn FnMut(&WaitProgress) + Send + 'a>;

/// What a waiter wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Goal {
    /// The one HAVIP `InUse` and the instance's association `InUse`.
    InUse(String),
    /// The instance no longer listed in the one HAVIP's associations.
    Unassociated(String),
    /// Every HAVIP created: out of `Creating` (`Available`, or already associated).
    Available,
    /// Every HAVIP gone from DescribeHaVips.
    Deleted,
}

enum Verdict {
    Done,
    Failed(String, Option<Box<HaVip>>),
    Continue,
}

/// How long `wait_until_available` waits for an id DescribeHaVips has never listed before it
/// concludes the HAVIP does not exist. A new HAVIP may take a moment to be listed; an id that
/// was deleted before the wait began (or mistyped) never will be.
pub const NOT_LISTED_GRACE: Duration = Duration::from_secs(60);

impl Goal {
    fn instance(&self) -> Option<&str> {
        match self {
            Goal::InUse(i) | Goal::Unassociated(i) => Some(i),
            _ => None,
        }
    }

    /// Judges one poll, `elapsed` after the wait began: `observed[k]` is the HAVIP `ids[k]` as
    /// listed (`None`: not listed); `seen[k]` says whether an earlier poll listed it.
    ///
    /// What a missing or `Deleting` HAVIP means depends on the goal: it can never become in use
    /// or available (a failure, at once), but it has no association (so an unassociation is
    /// done) and it is on its way to being deleted.
    fn judge(
        &self,
        ids: &[String],
        observed: &[Option<HaVip>],
        seen: &[bool],
        elapsed: Duration,
    ) -> Verdict {
        let mut done = true;
        for ((id, h), seen) in ids.iter().zip(observed).zip(seen) {
            let created = |h: &HaVip| {
                matches!(
                    h.status,
                    HaVipStatus::Available
                        | HaVipStatus::InUse
                        | HaVipStatus::Associating
                        | HaVipStatus::Unassociating
                )
            };
            let deleting = h
                .as_ref()
                .is_some_and(|h| h.status == HaVipStatus::Deleting);
            let one = match (self, h) {
                (Goal::Deleted, None) => Verdict::Done,
                (Goal::Deleted, Some(_)) => Verdict::Continue,
                // Gone, or going with its associations: nothing is associated any more.
                (Goal::Unassociated(_), None) => Verdict::Done,
                (Goal::Unassociated(i), Some(h)) if h.association(i).is_none() => Verdict::Done,
                (Goal::Unassociated(_), Some(_)) => Verdict::Continue,
                (Goal::Available, None) if *seen => Verdict::Failed(
                    format!("{id} was listed, then no longer exists: it was deleted"),
                    None,
                ),
                (Goal::Available, None) if elapsed >= NOT_LISTED_GRACE => Verdict::Failed(
                    format!(
                        "{id} has not been listed for {}s: it does not exist (deleted, or never \
                         created)",
                        NOT_LISTED_GRACE.as_secs()
                    ),
                    None,
                ),
                // Not listed yet: a new HAVIP may take a moment to appear.
                (Goal::Available, None) => Verdict::Continue,
                (Goal::InUse(i), None) => Verdict::Failed(
                    format!("{id} does not exist (deleted, or never created): it can never be in use by {i}"),
                    None,
                ),
                (Goal::InUse(i), Some(h)) if deleting => Verdict::Failed(
                    format!("{id} is being deleted: it can never be in use by {i}"),
                    Some(Box::new(h.clone())),
                ),
                (Goal::Available, Some(h)) if deleting => Verdict::Failed(
                    format!("{id} is being deleted: it can never be available"),
                    Some(Box::new(h.clone())),
                ),
                (Goal::Available, Some(h)) if created(h) => Verdict::Done,
                (Goal::Available, Some(_)) => Verdict::Continue,
                (Goal::InUse(i), Some(h)) if h.is_in_use_by(i) => Verdict::Done,
                (Goal::InUse(_), Some(_)) => Verdict::Continue,
            };
            match one {
                Verdict::Done => {}
                Verdict::Continue => done = false,
                failed => return failed,
            }
        }
        if done {
            Verdict::Done
        } else {
            Verdict::Continue
        }
    }

    fn describe(&self, ids: &[String]) -> String {
        let ids = ids.join(", ");
        match self {
            Goal::InUse(i) => format!("{ids} to be in use by {i}"),
            Goal::Unassociated(i) => format!("{i} to be unassociated from {ids}"),
            Goal::Available => format!("{ids} to be available"),
            Goal::Deleted => format!("{ids} to be deleted"),
        }
    }
}

macro_rules! waiter_builder {
    ($(#[$doc:meta])* $name:ident -> $output:ty, $finish:expr) => {
        $(#[$doc])*
        #[must_use = "a waiter does nothing until `wait` is awaited"]
        pub struct $name<'a> {
            engine: Engine<'a>,
        }

        impl<'a> $name<'a> {
            /// Replaces the whole schedule (default: the client's
            /// [`waiter_schedule`](crate::ClientBuilder::waiter_schedule)).
            pub fn schedule(mut self, schedule: WaiterSchedule) -> Self {
                self.engine.schedule = schedule;
                self
            }

            /// The deadline, from the start of the wait (default: the client's schedule's, 5
            /// minutes unless set).
            pub fn max_wait(mut self, d: Duration) -> Self {
                self.engine.schedule.max_wait = d;
                self
            }

            /// The shortest delay between polls (default: the client's schedule's, 750 ms
            /// unless set).
            pub fn min_delay(mut self, d: Duration) -> Self {
                self.engine.schedule.min_delay = d;
                self
            }

            /// The longest delay between polls (default: the client's schedule's, 40 s unless
            /// set).
            pub fn max_delay(mut self, d: Duration) -> Self {
                self.engine.schedule.max_delay = d;
                self
            }

            /// Calls `f` with every state change observed (and the first state seen). `f` may
            /// borrow from the caller's scope.
            pub fn on_progress(mut self, f: impl FnMut(&WaitProgress) + Send + 'a) -> Self {
                self.engine.on_progress = Some(Box::new(f));
                self
            }

            /// Polls until the goal, a failure state, a permanent error or the deadline.
            ///
            /// # Errors
            /// [`Error::InvalidInput`] for a bad id or delay setting (nothing sent);
            /// [`Error::WaiterTimedOut`], [`Error::WaiterFailureState`] or
            /// [`Error::WaiterOperationFailed`] as described in [`crate::waiter`].
            pub async fn wait(self) -> Result<$output, Error> {
                let ids = self.engine.ids.clone();
                let (observed, elapsed, polls) = self.engine.run_boxed().await?;
                Ok($finish(&ids, observed, elapsed, polls))
            }
        }

        impl fmt::Debug for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("ha_vip_ids", &self.engine.ids)
                    .field("goal", &self.engine.goal)
                    .field("schedule", &self.engine.schedule)
                    .finish_non_exhaustive()
            }
        }

        impl<'a> IntoFuture for $name<'a> {
            type Output = Result<$output, Error>;
            type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

            fn into_future(self) -> Self::IntoFuture {
                Box::pin(self.wait())
            }
        }
    };
}

fn pair_output(
    ids: &[String],
    observed: Vec<Option<HaVip>>,
    elapsed: Duration,
    polls: u32,
) -> WaitOutput {
    let seen = observed.into_iter().flatten().next();
    WaitOutput {
        ha_vip_gone: seen.is_none(),
        ha_vip: seen.unwrap_or_else(|| HaVip::new(ids.first().cloned().unwrap_or_default())),
        elapsed,
        polls,
    }
}

fn all_output(
    _ids: &[String],
    observed: Vec<Option<HaVip>>,
    elapsed: Duration,
    polls: u32,
) -> WaitAllOutput {
    WaitAllOutput {
        ha_vips: observed.into_iter().flatten().collect(),
        elapsed,
        polls,
    }
}

waiter_builder!(
    /// Waits until an instance is really associated with an HAVIP; see
    /// [`Client::wait_until_in_use`](crate::Client::wait_until_in_use) and the
    /// [module docs](crate::waiter).
    ///
    /// ```no_run
    /// # async fn run(client: alibabacloud_ens::Client) -> Result<(), alibabacloud_ens::Error> {
    /// use std::time::Duration;
    /// let done = client
    ///     .wait_until_in_use("havip-5p14t****", "i-50c4****")
    ///     .max_wait(Duration::from_secs(120))
    ///     .on_progress(|p| println!("{:>5.1?} {p}", p.elapsed))
    ///     .wait()
    ///     .await?;
    /// println!("in use after {:?} and {} polls", done.elapsed(), done.polls());
    /// # Ok(()) }
    /// ```
    WaitUntilInUse -> WaitOutput,
    pair_output
);

waiter_builder!(
    /// Waits until an instance is no longer associated with an HAVIP; see
    /// [`Client::wait_until_unassociated`](crate::Client::wait_until_unassociated). Same
    /// deadline and backoff as [`WaitUntilInUse`]. An HAVIP that is gone (deleted, or never
    /// created) or `Deleting` has no association: the wait succeeds
    /// ([`WaitOutput::ha_vip_gone`] says whether it was gone).
    WaitUntilUnassociated -> WaitOutput,
    pair_output
);

waiter_builder!(
    /// Waits until every given HAVIP is created (out of `Creating`: `Available`, or already
    /// associated); see [`Client::wait_until_available`](crate::Client::wait_until_available).
    /// An HAVIP not listed yet is waited for, up to [`NOT_LISTED_GRACE`]; one that was listed
    /// and then disappears, is `Deleting`, or is still not listed after the grace ends the wait
    /// with [`Error::WaiterFailureState`].
    WaitUntilAvailable -> WaitAllOutput,
    all_output
);

waiter_builder!(
    /// Waits until DescribeHaVips lists none of the given HAVIPs; see
    /// [`Client::wait_until_deleted`](crate::Client::wait_until_deleted). An HAVIP that is
    /// still `Available` (or in use) is waited for, not a failure: the delete may not have
    /// been seen yet, or another caller may be about to delete it.
    WaitUntilDeleted -> WaitAllOutput,
    all_output
);

/// The wait `crate::ensure` runs for one HAVIP and one instance (`goal`: [`Goal::InUse`] or
/// [`Goal::Unassociated`]), on its own schedule and progress callback.
pub(crate) async fn wait_for_instance<'a>(
    transport: Transport,
    ha_vip_id: String,
    goal: Goal,
    schedule: WaiterSchedule,
    on_progress: Option<ProgressFn<'a>>,
) -> Result<WaitOutput, Error> {
    let ids = vec![ha_vip_id];
    let mut engine = Engine::new(transport, ids.clone(), goal);
    engine.schedule = schedule;
    engine.on_progress = on_progress;
    let (observed, elapsed, polls) = engine.run_boxed().await?;
    Ok(pair_output(&ids, observed, elapsed, polls))
}

/// The wait `crate::ensure` runs for HAVIPs to be created, on its own schedule.
pub(crate) async fn wait_for_available(
    transport: Transport,
    ha_vip_ids: Vec<String>,
    schedule: WaiterSchedule,
) -> Result<WaitAllOutput, Error> {
    let mut engine = Engine::new(transport, ha_vip_ids.clone(), Goal::Available);
    engine.schedule = schedule;
    let (observed, elapsed, polls) = engine.run_boxed().await?;
    Ok(all_output(&ha_vip_ids, observed, elapsed, polls))
}

impl WaitUntilInUse<'_> {
    pub(crate) fn new(transport: Transport, ha_vip_id: String, instance_id: String) -> Self {
        WaitUntilInUse {
            engine: Engine::new(transport, vec![ha_vip_id], Goal::InUse(instance_id)),
        }
    }
}

impl WaitUntilUnassociated<'_> {
    pub(crate) fn new(transport: Transport, ha_vip_id: String, instance_id: String) -> Self {
        WaitUntilUnassociated {
            engine: Engine::new(transport, vec![ha_vip_id], Goal::Unassociated(instance_id)),
        }
    }
}

impl WaitUntilAvailable<'_> {
    pub(crate) fn new(transport: Transport, ha_vip_ids: Vec<String>) -> Self {
        WaitUntilAvailable {
            engine: Engine::new(transport, ha_vip_ids, Goal::Available),
        }
    }
}

impl WaitUntilDeleted<'_> {
    pub(crate) fn new(transport: Transport, ha_vip_ids: Vec<String>) -> Self {
        WaitUntilDeleted {
            engine: Engine::new(transport, ha_vip_ids, Goal::Deleted),
        }
    }
}

impl AssociateHaVipFluentBuilder {
    /// Sends the request, then waits with the default waiter settings until the association is
    /// in use (see [`Client::wait_until_in_use`](crate::Client::wait_until_in_use)).
    ///
    /// # Errors
    /// As [`send`](Self::send), then as [`WaitUntilInUse::wait`].
    pub async fn send_and_wait(self) -> Result<WaitOutput, Error> {
        let work: BoxFuture<'static, Result<WaitOutput, Error>> = send_and_wait_associate(self);
        work.await
    }
}

impl CreateHaVipFluentBuilder {
    /// Sends the request, then waits with the default waiter settings until every created
    /// HAVIP is available (see [`Client::wait_until_available`](crate::Client::wait_until_available)).
    ///
    /// # Errors
    /// As [`send`](Self::send), then as [`WaitUntilAvailable::wait`].
    pub async fn send_and_wait(self) -> Result<WaitAllOutput, Error> {
        let work: BoxFuture<'static, Result<WaitAllOutput, Error>> = send_and_wait_create(self);
        work.await
    }
}

impl DeleteHaVipsFluentBuilder {
    /// Sends the request, then waits with the default waiter settings until DescribeHaVips
    /// lists none of the ids (see [`Client::wait_until_deleted`](crate::Client::wait_until_deleted)).
    ///
    /// # Errors
    /// As [`send`](Self::send), then as [`WaitUntilDeleted::wait`].
    pub async fn send_and_wait(self) -> Result<WaitAllOutput, Error> {
        let work: BoxFuture<'static, Result<WaitAllOutput, Error>> = send_and_wait_delete(self);
        work.await
    }
}

// The work of each `send_and_wait`, compiled once here (see `transport::BoxFuture`).
#[inline(never)]
fn send_and_wait_associate(
    b: AssociateHaVipFluentBuilder,
) -> BoxFuture<'static, Result<WaitOutput, Error>> {
    Box::pin(async move {
        let transport = b.transport().clone();
        let (ha_vip_id, instance_id) = b.ids()?;
        b.send().await?;
        WaitUntilInUse::new(transport, ha_vip_id, instance_id)
            .wait()
            .await
    })
}

#[inline(never)]
fn send_and_wait_create(
    b: CreateHaVipFluentBuilder,
) -> BoxFuture<'static, Result<WaitAllOutput, Error>> {
    Box::pin(async move {
        let transport = b.transport().clone();
        let out = b.send().await?;
        WaitUntilAvailable::new(transport, out.ha_vip_ids().to_vec())
            .wait()
            .await
    })
}

#[inline(never)]
fn send_and_wait_delete(
    b: DeleteHaVipsFluentBuilder,
) -> BoxFuture<'static, Result<WaitAllOutput, Error>> {
    Box::pin(async move {
        let transport = b.transport().clone();
        let ids = b.ids()?;
        b.send().await?;
        WaitUntilDeleted::new(transport, ids).wait().await
    })
}

struct Engine<'a> {
    transport: Transport,
    ids: Vec<String>,
    goal: Goal,
    schedule: WaiterSchedule,
    on_progress: Option<ProgressFn<'a>>,
}

/// What the waiter last reported for one HAVIP.
type State = (Option<HaVipStatus>, Option<AssociationStatus>);

/// What a finished wait observed last, how long it took, and how many polls it made.
type Finished = (Vec<Option<HaVip>>, Duration, u32);

impl<'a> Engine<'a> {
    fn new(transport: Transport, ids: Vec<String>, goal: Goal) -> Self {
        Engine {
            schedule: transport.settings().waiter_schedule,
            transport,
            ids,
            goal,
            on_progress: None,
        }
    }

    fn check(&self) -> Result<(), Error> {
        if self.ids.is_empty() {
            return Err(Error::invalid_input("HaVipIds", "must not be empty"));
        }
        for id in &self.ids {
            crate::operation::check_id("HaVipId", id)?;
        }
        if let Some(i) = self.goal.instance() {
            crate::operation::check_id("InstanceId", i)?;
        }
        self.schedule.check()
    }

    /// One poll: every id, as listed now (`None`: not listed). (A free function: the engine
    /// holds the progress callback, which is `Send` but not `Sync`.)
    async fn poll(transport: &Transport, ids: &[String]) -> Result<Vec<Option<HaVip>>, Error> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let poll = DescribeHaVipsFluentBuilder::new(transport.clone())
                .ha_vip_id(id.as_str())
                .retry_config(RetryConfig::disabled())
                .send()
                .await;
            out.push(match poll {
                Ok(page) => page.into_ha_vips().into_iter().find(|h| &h.ha_vip_id == id),
                Err(e) if e.code() == Some(&ErrorCode::HaVipNotFound) => None,
                Err(e) => return Err(e),
            });
        }
        Ok(out)
    }

    /// [`run`](Self::run), compiled once here (see `transport::BoxFuture`).
    #[inline(never)]
    fn run_boxed(self) -> BoxFuture<'a, Result<Finished, Error>> {
        Box::pin(self.run())
    }

    /// Polls until done; returns what the last poll observed, the time taken and the polls.
    async fn run(mut self) -> Result<Finished, Error> {
        self.check()?;
        let s = self.schedule;
        let transport = self.transport.clone();
        let clock = transport.clock();
        let goal = self.goal.describe(&self.ids);
        let start = clock.now();
        let deadline = start + s.max_wait;
        let mut polls = 0u32;
        let mut polls_after_window = 0u32;
        let mut last_state: Vec<Option<State>> = vec![None; self.ids.len()];
        let mut seen = vec![false; self.ids.len()];
        let mut last_observed: Option<HaVip> = None;
        let mut last_error: Option<Error>;
        loop {
            polls += 1;
            let poll = Self::poll(&transport, &self.ids).await;
            let elapsed = clock.now().saturating_duration_since(start);
            match poll {
                Ok(observed) => {
                    last_error = None;
                    self.report(&observed, &mut last_state, elapsed, polls);
                    match self.goal.judge(&self.ids, &observed, &seen, elapsed) {
                        Verdict::Done => return Ok((observed, elapsed, polls)),
                        Verdict::Failed(reason, h) => {
                            return Err(Error::WaiterFailureState(Box::new(WaiterFailureState {
                                goal,
                                reason,
                                elapsed,
                                polls,
                                observed: h.map(|h| *h),
                            })))
                        }
                        Verdict::Continue => {}
                    }
                    for (seen, h) in seen.iter_mut().zip(&observed) {
                        *seen |= h.is_some();
                    }
                    last_observed = observed.into_iter().flatten().last();
                }
                Err(e) if e.is_retryable() => last_error = Some(e),
                Err(e) => {
                    return Err(Error::WaiterOperationFailed(Box::new(
                        WaiterOperationFailed {
                            goal,
                            elapsed,
                            polls,
                            source: e,
                        },
                    )))
                }
            }
            let now = clock.now();
            if now >= deadline {
                return Err(Error::WaiterTimedOut(Box::new(WaiterTimedOut {
                    goal,
                    elapsed: now.saturating_duration_since(start),
                    polls,
                    last_observed,
                    last_error: last_error.map(Box::new),
                })));
            }
            if elapsed >= FAST_POLL_WINDOW {
                polls_after_window += 1;
            }
            let delay = s.delay(elapsed, polls_after_window);
            // Never sleep past the deadline: the last poll happens at it.
            clock.sleep(delay.min(deadline - now)).await;
        }
    }

    /// Calls the progress callback for every HAVIP whose state changed (or was seen first).
    fn report(
        &mut self,
        observed: &[Option<HaVip>],
        last: &mut [Option<State>],
        elapsed: Duration,
        polls: u32,
    ) {
        let Some(f) = self.on_progress.as_mut() else {
            return;
        };
        let instance = self.goal.instance();
        for ((id, h), last) in self.ids.iter().zip(observed).zip(last.iter_mut()) {
            let state = (
                h.as_ref().map(|h| h.status.clone()),
                h.as_ref()
                    .zip(instance)
                    .and_then(|(h, i)| h.association(i))
                    .map(|a| a.status.clone()),
            );
            if last.as_ref() != Some(&state) {
                f(&WaitProgress {
                    elapsed,
                    polls,
                    ha_vip_id: id.clone(),
                    ha_vip_status: state.0.clone(),
                    association_status: state.1.clone(),
                    about_instance: instance.is_some(),
                });
                *last = Some(state);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_polls_fast_then_backs_off() {
        let s = WaiterSchedule::default();
        for secs in 0..10 {
            let d = s.delay(Duration::from_secs(secs), 0);
            assert!(
                d >= Duration::from_millis(800) && d <= Duration::from_secs(1),
                "{d:?}"
            );
        }
        assert_eq!(
            s.ceiling(Duration::from_secs(10), 1),
            Duration::from_secs(2)
        );
        assert_eq!(
            s.ceiling(Duration::from_secs(12), 2),
            Duration::from_secs(4)
        );
        assert_eq!(
            s.ceiling(Duration::from_secs(40), 5),
            Duration::from_secs(32)
        );
        assert_eq!(
            s.ceiling(Duration::from_secs(290), 40),
            Duration::from_secs(40)
        );
    }

    #[test]
    fn a_five_minute_wait_makes_fewer_polls_than_terraform() {
        // Worst case (shortest jittered delays) and best case, simulated.
        let s = WaiterSchedule::default();
        for pick_low in [true, false] {
            let mut t = Duration::ZERO;
            let mut polls = 1;
            let mut after = 0;
            while t < s.max_wait {
                if t >= FAST_POLL_WINDOW {
                    after += 1;
                }
                let hi = s.ceiling(t, after);
                let lo = (hi * 4 / 5).max(s.min_delay).min(hi);
                t += if pick_low { lo } else { hi };
                polls += 1;
            }
            assert!(polls < 30, "{polls} polls (low={pick_low})");
        }
    }

    #[test]
    fn min_delay_above_the_fast_delay_wins() {
        let s = WaiterSchedule {
            min_delay: Duration::from_secs(5),
            ..WaiterSchedule::default()
        };
        assert_eq!(s.delay(Duration::ZERO, 0), Duration::from_secs(5));
    }
}
