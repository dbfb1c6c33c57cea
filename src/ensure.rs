//! Calls a controller can run again and again: [`ensure_associated`] and
//! [`ensure_unassociated`] read the state, write only if needed, then wait.
//!
//! They are safe to call repeatedly and from several controllers at once: losing the race to
//! another caller (its association already made, or in progress) is success, not an error.
//! Associating both members of a keepalived pair concurrently works: the second write meets the
//! HAVIP `Associating` with the first (the service answers `IncorrectHaVipStatus`), and this
//! waits that out and writes again. A permanent refusal (the instance in another vSwitch, not
//! found, stopped the wrong way…) is returned at once.
//!
//! ```no_run
//! # async fn run(client: alibabacloud_ens::Client) -> Result<(), alibabacloud_ens::Error> {
//! use alibabacloud_ens::ensure::Ensured;
//! let (a, b) = tokio::try_join!(
//!     client.ensure_associated("havip-1", "i-primary").send(),
//!     client.ensure_associated("havip-1", "i-backup").send(),
//! )?;
//! assert!(a.ha_vip().unwrap().is_in_use_by("i-primary"));
//! // Again: nothing to do.
//! let again = client.ensure_associated("havip-1", "i-primary").send().await?;
//! assert_eq!(again.ensured(), Ensured::AlreadyInUse);
//! # let _ = b;
//! # Ok(()) }
//! ```
//!
//! [`ensure_associated`]: crate::Client::ensure_associated
//! [`ensure_unassociated`]: crate::Client::ensure_unassociated

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{WaiterFailureState, WaiterTimedOut};
use crate::model::{AssociationStatus, HaVip, HaVipStatus, InstanceType};
use crate::operation::associate_ha_vip::AssociateHaVipFluentBuilder;
use crate::operation::unassociate_ha_vip::UnassociateHaVipFluentBuilder;
use crate::operation::{check_id, get_ha_vip_once};
use crate::transport::{BoxFuture, Transport};
use crate::waiter::{
    wait_for_instance, Goal, ProgressFn, Schedule, WaitProgress, FAST_POLL_WINDOW,
};
use crate::{Error, ErrorCode};

/// What an ensure call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Ensured {
    /// The association was already in use: nothing was written.
    AlreadyInUse,
    /// This call made the association and waited until it was in use.
    AssociatedNow,
    /// Another caller's association was in progress (or won the race); this call waited until
    /// it was in use.
    WaitedForAssociationInProgress,
    /// The instance was not associated (or the HAVIP does not exist): nothing was written.
    AlreadyUnassociated,
    /// This call removed the association and waited until it was gone.
    UnassociatedNow,
    /// Another caller's unassociation was in progress (or won the race); this call waited
    /// until the association was gone.
    WaitedForUnassociationInProgress,
}

/// What an ensure call returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct EnsureOutput {
    ensured: Ensured,
    ha_vip: Option<HaVip>,
    elapsed: Duration,
    polls: u32,
}

impl EnsureOutput {
    /// What the call did.
    pub fn ensured(&self) -> Ensured {
        self.ensured
    }

    /// The HAVIP as last observed (`None` when it does not exist: only after
    /// `ensure_unassociated`).
    pub fn ha_vip(&self) -> Option<&HaVip> {
        self.ha_vip.as_ref()
    }

    /// How long the call took.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// How many DescribeHaVips reads it made (its own and its waits').
    pub fn polls(&self) -> u32 {
        self.polls
    }
}

macro_rules! ensure_builder {
    ($(#[$doc:meta])* $name:ident, $run:ident) => {
        $(#[$doc])*
        #[must_use = "an ensure call does nothing until `send` is awaited"]
        pub struct $name<'a> {
            state: Ensure<'a>,
        }

        impl<'a> $name<'a> {
            pub(crate) fn new(transport: Transport, ha_vip_id: String, instance_id: String) -> Self {
                $name {
                    state: Ensure {
                        transport,
                        ha_vip_id,
                        instance_id,
                        instance_type: None,
                        schedule: Schedule::default(),
                        on_progress: None,
                    },
                }
            }

            /// The deadline for the whole call, reads, writes and waits included (default 5
            /// minutes).
            pub fn max_wait(mut self, d: Duration) -> Self {
                self.state.schedule.max_wait = d;
                self
            }

            /// The shortest delay between reads (default 750 ms).
            pub fn min_delay(mut self, d: Duration) -> Self {
                self.state.schedule.min_delay = d;
                self
            }

            /// The longest delay between reads (default 40 s).
            pub fn max_delay(mut self, d: Duration) -> Self {
                self.state.schedule.max_delay = d;
                self
            }

            /// Calls `f` with every state change observed. `f` may borrow from the caller's
            /// scope.
            pub fn on_progress(mut self, f: impl FnMut(&WaitProgress) + Send + 'a) -> Self {
                self.state.on_progress = Some(Box::new(f));
                self
            }

            /// Runs the call.
            ///
            /// # Errors
            /// [`Error::InvalidInput`] for a bad id (nothing sent); a write's permanent refusal
            /// (e.g. [`ErrorCode::IncorrectInstanceVSwitch`]) at once; otherwise as a waiter:
            /// [`Error::WaiterTimedOut`], [`Error::WaiterFailureState`] (the HAVIP does not
            /// exist or is being deleted) or [`Error::WaiterOperationFailed`].
            pub async fn send(self) -> Result<EnsureOutput, Error> {
                self.state.boxed(|s| Box::pin(s.$run())).await
            }
        }

        impl fmt::Debug for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("ha_vip_id", &self.state.ha_vip_id)
                    .field("instance_id", &self.state.instance_id)
                    .field("schedule", &self.state.schedule)
                    .finish_non_exhaustive()
            }
        }

        impl<'a> IntoFuture for $name<'a> {
            type Output = Result<EnsureOutput, Error>;
            type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

            fn into_future(self) -> Self::IntoFuture {
                Box::pin(self.send())
            }
        }
    };
}

ensure_builder!(
    /// Makes sure an instance is associated with an HAVIP and the association is in use; see
    /// [`Client::ensure_associated`](crate::Client::ensure_associated) and the
    /// [module docs](self).
    EnsureAssociated,
    associate
);

ensure_builder!(
    /// Makes sure an instance is not associated with an HAVIP; see
    /// [`Client::ensure_unassociated`](crate::Client::ensure_unassociated).
    EnsureUnassociated,
    unassociate
);

impl EnsureAssociated<'_> {
    /// `InstanceType` for the write, if one is needed (default: the server's, `EnsInstance`).
    pub fn instance_type(mut self, instance_type: InstanceType) -> Self {
        self.state.instance_type = Some(instance_type);
        self
    }
}

struct Ensure<'a> {
    transport: Transport,
    ha_vip_id: String,
    instance_id: String,
    instance_type: Option<InstanceType>,
    schedule: Schedule,
    on_progress: Option<ProgressFn<'a>>,
}

/// The running state of one ensure call.
struct Run {
    start: Instant,
    deadline: Instant,
    polls: u32,
    polls_after_window: u32,
    last_seen: Option<(Option<HaVipStatus>, Option<AssociationStatus>)>,
}

impl<'a> Ensure<'a> {
    /// Runs `work` on this state, boxed and compiled once here (see `transport::BoxFuture`).
    #[inline(never)]
    fn boxed(
        self,
        work: fn(Self) -> BoxFuture<'a, Result<EnsureOutput, Error>>,
    ) -> BoxFuture<'a, Result<EnsureOutput, Error>> {
        work(self)
    }

    fn goal(&self, associated: bool) -> String {
        if associated {
            format!("{} to be in use by {}", self.ha_vip_id, self.instance_id)
        } else {
            format!(
                "{} to be unassociated from {}",
                self.instance_id, self.ha_vip_id
            )
        }
    }

    fn begin(&self) -> Result<Run, Error> {
        check_id("HaVipId", &self.ha_vip_id)?;
        check_id("InstanceId", &self.instance_id)?;
        let now = self.transport.clock().now();
        Ok(Run {
            start: now,
            deadline: now + self.schedule.max_wait,
            polls: 0,
            polls_after_window: 0,
            last_seen: None,
        })
    }

    /// One read of the HAVIP (retryable failures are retried on the schedule).
    async fn read(&mut self, run: &mut Run, associated: bool) -> Result<Option<HaVip>, Error> {
        loop {
            self.check_deadline(run, associated, None)?;
            run.polls += 1;
            match get_ha_vip_once(&self.transport, &self.ha_vip_id).await {
                Ok((h, _)) => {
                    self.report(run, h.as_ref());
                    return Ok(h);
                }
                Err(e) if e.code() == Some(&ErrorCode::HaVipNotFound) => {
                    self.report(run, None);
                    return Ok(None);
                }
                Err(e) if e.is_retryable() => self.pause(run).await,
                Err(e) => return Err(e),
            }
        }
    }

    fn report(&mut self, run: &mut Run, h: Option<&HaVip>) {
        let state = (
            h.map(|h| h.status.clone()),
            h.and_then(|h| h.association(&self.instance_id))
                .map(|a| a.status.clone()),
        );
        if run.last_seen.as_ref() == Some(&state) {
            return;
        }
        run.last_seen = Some(state);
        if let Some(f) = self.on_progress.as_mut() {
            let elapsed = self
                .transport
                .clock()
                .now()
                .saturating_duration_since(run.start);
            f(&WaitProgress::about_instance(
                elapsed,
                run.polls,
                h,
                &self.ha_vip_id,
                &self.instance_id,
            ));
        }
    }

    /// Sleeps the schedule's next delay (never past the deadline). (`&mut self`: the progress
    /// callback is `Send` but not `Sync`, so no `&self` may be held across an `await`.)
    async fn pause(&mut self, run: &mut Run) {
        let clock = self.transport.clock();
        let now = clock.now();
        let elapsed = now.saturating_duration_since(run.start);
        if elapsed >= FAST_POLL_WINDOW {
            run.polls_after_window += 1;
        }
        let delay = self.schedule.delay(elapsed, run.polls_after_window);
        clock
            .sleep(delay.min(run.deadline.saturating_duration_since(now)))
            .await;
    }

    fn check_deadline(
        &self,
        run: &Run,
        associated: bool,
        seen: Option<&HaVip>,
    ) -> Result<(), Error> {
        let now = self.transport.clock().now();
        if now < run.deadline {
            return Ok(());
        }
        Err(Error::WaiterTimedOut(Box::new(WaiterTimedOut {
            goal: self.goal(associated),
            elapsed: now.saturating_duration_since(run.start),
            polls: run.polls,
            last_observed: seen.cloned(),
            last_error: None,
        })))
    }

    fn gone(&self, run: &Run, reason: &str, h: Option<HaVip>) -> Error {
        Error::WaiterFailureState(Box::new(WaiterFailureState {
            goal: self.goal(true),
            reason: reason.to_owned(),
            elapsed: self
                .transport
                .clock()
                .now()
                .saturating_duration_since(run.start),
            polls: run.polls,
            observed: h,
        }))
    }

    /// The schedule for a wait within this call: what is left of the deadline.
    fn remaining(&self, run: &Run) -> Schedule {
        let left = run
            .deadline
            .saturating_duration_since(self.transport.clock().now());
        Schedule {
            max_wait: left,
            ..self.schedule
        }
    }

    /// Waits for `goal` (in use, or unassociated) within the time left to this run.
    async fn wait_for(&mut self, run: &mut Run, goal: Goal) -> Result<HaVip, Error> {
        let schedule = self.remaining(run);
        let on_progress = self
            .on_progress
            .as_mut()
            .map(|f| -> ProgressFn<'_> { Box::new(f) });
        let out = wait_for_instance(
            self.transport.clone(),
            self.ha_vip_id.clone(),
            goal,
            schedule,
            on_progress,
        )
        .await?;
        run.polls += out.polls();
        Ok(out.into_ha_vip())
    }

    async fn wait_in_use(&mut self, run: &mut Run) -> Result<HaVip, Error> {
        self.wait_for(run, Goal::InUse(self.instance_id.clone()))
            .await
    }

    async fn wait_unassociated(&mut self, run: &mut Run) -> Result<HaVip, Error> {
        self.wait_for(run, Goal::Unassociated(self.instance_id.clone()))
            .await
    }

    fn output(&self, run: &Run, ensured: Ensured, ha_vip: Option<HaVip>) -> EnsureOutput {
        EnsureOutput {
            ensured,
            ha_vip,
            elapsed: self
                .transport
                .clock()
                .now()
                .saturating_duration_since(run.start),
            polls: run.polls,
        }
    }

    async fn associate(mut self) -> Result<EnsureOutput, Error> {
        let mut run = self.begin()?;
        let mut waited = false;
        // The last write met the HAVIP busy (`IncorrectHaVipStatus`): read until it is free
        // before writing again.
        let mut busy = false;
        loop {
            let Some(h) = self.read(&mut run, true).await? else {
                return Err(self.gone(&run, "the HAVIP does not exist", None));
            };
            if h.status == HaVipStatus::Deleting {
                return Err(self.gone(&run, "the HAVIP is being deleted", Some(h)));
            }
            if h.is_in_use_by(&self.instance_id) {
                let ensured = if waited {
                    Ensured::WaitedForAssociationInProgress
                } else {
                    Ensured::AlreadyInUse
                };
                return Ok(self.output(&run, ensured, Some(h)));
            }
            match h.association(&self.instance_id).map(|a| a.status.clone()) {
                Some(AssociationStatus::Unassociating) => {
                    waited = true;
                    self.wait_unassociated(&mut run).await?;
                    continue;
                }
                // Listed but not in use yet: an association is in progress.
                Some(_) => {
                    let h = self.wait_in_use(&mut run).await?;
                    return Ok(self.output(&run, Ensured::WaitedForAssociationInProgress, Some(h)));
                }
                None => {}
            }
            let free = matches!(h.status, HaVipStatus::Available | HaVipStatus::InUse);
            if busy && !free {
                self.check_deadline(&run, true, Some(&h))?;
                self.pause(&mut run).await;
                continue;
            }
            // Written even while the HAVIP is busy with another association: a permanent
            // refusal (another vSwitch, …) is then reported at once, not after that one.
            let mut write = AssociateHaVipFluentBuilder::new(self.transport.clone())
                .ha_vip_id(self.ha_vip_id.as_str())
                .instance_id(self.instance_id.as_str());
            if let Some(t) = &self.instance_type {
                write = write.instance_type(t.clone());
            }
            match write.send().await {
                Ok(_) => {
                    let h = self.wait_in_use(&mut run).await?;
                    return Ok(self.output(&run, Ensured::AssociatedNow, Some(h)));
                }
                // Another caller won the race for this very association.
                Err(e) if e.code() == Some(&ErrorCode::InstanceAlreadyAssociated) => {
                    waited = true;
                }
                // The HAVIP is busy (the keepalived pair's other half, or still creating).
                Err(e) if e.code() == Some(&ErrorCode::IncorrectHaVipStatus) => {
                    busy = true;
                    self.check_deadline(&run, true, Some(&h))?;
                    self.pause(&mut run).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn unassociate(mut self) -> Result<EnsureOutput, Error> {
        let mut run = self.begin()?;
        let mut waited = false;
        loop {
            let Some(h) = self.read(&mut run, false).await? else {
                return Ok(self.output(&run, Ensured::AlreadyUnassociated, None));
            };
            match h.association(&self.instance_id).map(|a| a.status.clone()) {
                None => {
                    let ensured = if waited {
                        Ensured::WaitedForUnassociationInProgress
                    } else {
                        Ensured::AlreadyUnassociated
                    };
                    return Ok(self.output(&run, ensured, Some(h)));
                }
                Some(AssociationStatus::Unassociating) => {
                    let h = self.wait_unassociated(&mut run).await?;
                    return Ok(self.output(
                        &run,
                        Ensured::WaitedForUnassociationInProgress,
                        Some(h),
                    ));
                }
                Some(AssociationStatus::InUse) => {}
                // Still associating (or a status this crate does not know): wait, read again.
                Some(_) => {
                    self.check_deadline(&run, false, Some(&h))?;
                    self.pause(&mut run).await;
                    continue;
                }
            }
            let write = UnassociateHaVipFluentBuilder::new(self.transport.clone())
                .ha_vip_id(self.ha_vip_id.as_str())
                .instance_id(self.instance_id.as_str());
            match write.send().await {
                Ok(_) => {
                    let h = self.wait_unassociated(&mut run).await?;
                    return Ok(self.output(&run, Ensured::UnassociatedNow, Some(h)));
                }
                Err(e) if e.code() == Some(&ErrorCode::InstanceNotAssociated) => waited = true,
                Err(e) if e.code() == Some(&ErrorCode::IncorrectInstanceAssociationStatus) => {
                    self.check_deadline(&run, false, Some(&h))?;
                    self.pause(&mut run).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}
