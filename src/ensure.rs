//! Calls a controller can run again and again: [`ensure_associated`] and
//! [`ensure_unassociated`] read the state, write only if needed, then wait; [`ensure_ha_vip`]
//! finds or creates an HAVIP by name; `ensure_eip_associated` and `ensure_eip_unassociated`
//! (feature `eip`) give the HAVIP a public IP and take it away.
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
//! ## An HAVIP that is gone or being deleted
//! `ensure_unassociated` wants the instance not to be associated. An HAVIP that does not exist
//! (deleted, never created, or a mistyped id) or is `Deleting` has no association, so that holds:
//! the call succeeds with [`Ensured::HaVipGone`], also when the HAVIP disappears while the call
//! runs (two replicas tearing down at once: one deletes the HAVIP while the other unassociates).
//! `ensure_associated` meeting such an HAVIP fails at once with [`Error::WaiterFailureState`]
//! (its `observed` is `None` when the HAVIP is gone): it can never be in use.
//!
//! ## Find or create: `ensure_ha_vip`
//! CreateHaVip takes no idempotency token, so "create if missing" is a race between replicas.
//! [`ensure_ha_vip`] settles it:
//!
//! 1. It lists the vSwitch's HAVIPs with the name (DescribeHaVips, every page; the name and
//!    vSwitch compared exactly, `Deleting` ones left out).
//! 2. None: it creates one (CreateHaVip's safe-write rules apply: a retry never makes a second
//!    one on its own), waits until it is available, and lists again.
//! 3. One or more: the **survivor** is the one with the earliest `CreationTime`, ties broken by
//!    the smallest id (an HAVIP without a time comes last): every replica sees the same list
//!    and picks the same one. The others (the losers) are duplicates that racing replicas
//!    made: each is deleted only if nothing is associated with it, and kept otherwise
//!    ([`EnsureHaVipOutput::duplicates_kept`]). The call waits until the survivor is
//!    available and returns it.
//!
//! With a fixed address ([`EnsureHaVip::ip_address`]) creation is exclusive already: the
//! service refuses a second HAVIP with the address (`InvalidIPAddress.AlreadyUsed`), so a
//! replica that loses finds the winner's HAVIP by the address instead. An HAVIP with the name
//! at another address, or the address held by an HAVIP with another name, is an
//! [`Error::Conflict`]: the call neither changes an address nor makes a second HAVIP with the
//! name.
//!
//! **Guarantees.** Every replica returns the same HAVIP once the race is over; no HAVIP with
//! something associated is ever deleted (the service refuses too); a re-run is a no-op
//! ([`HaVipEnsured::Found`], reads only). **The window that remains:** a replica returns after
//! its own listing; a replica whose create lands *after* that (it listed before the first
//! HAVIP was visible, then stalled for longer than the first one took to become available)
//! makes a duplicate that loses to the earlier `CreationTime` and deletes itself, unless both
//! were created in the same second (`CreationTime` has seconds only) and the late one has the
//! smaller id: then the late replica keeps its own and deletes the first one, if nothing is
//! associated with it yet. Two replicas may thus, briefly, hold different ids; the next run of
//! either converges. A fixed address closes the window.
//!
//! ```no_run
//! # async fn run(client: alibabacloud_ens::Client) -> Result<(), alibabacloud_ens::Error> {
//! let out = client
//!     .ensure_ha_vip()
//!     .name("keepalived-vip")
//!     .vswitch_id("vsw-5p1a****")
//!     .send()
//!     .await?;
//! println!("{:?} {} at {}", out.ensured(), out.ha_vip().ha_vip_id, out.ha_vip().ip_address);
//! # Ok(()) }
//! ```
//!
//! ## A public IP on the HAVIP: `ensure_eip_associated`
//! (Cargo feature `eip`.) `Client::ensure_eip_associated(eip, ha_vip)` binds an EIP to the
//! HAVIP and `Client::ensure_eip_unassociated(eip, ha_vip)` unbinds it, with the same shape and
//! guarantees as the calls above. Each poll reads the EIP (DescribeEnsEipAddresses) and the
//! HAVIP (DescribeHaVips); the write (the generated AssociateEnsEipAddress with
//! `InstanceType=HaVip`, or UnAssociateEnsEipAddress) is sent only when needed, and then the call
//! waits:
//!
//! * **bound** means the EIP is `InUse` with the HAVIP as its `InstanceId` **and** the HAVIP lists
//!   it in `AssociatedEipAddresses` (the two answers do not change at the same moment);
//! * **unbound** means the EIP is bound to something else or nothing (any status) and the HAVIP
//!   does not list it.
//!
//! Re-running is a no-op (`AlreadyInUse`, `AlreadyUnassociated`: reads only). Replicas racing
//! converge: the loser's write is refused (`IncorrectEipStatus`, the EIP no longer `Available`
//! or `InUse`), it reads again, finds the winner's binding in progress and waits for it
//! (`WaitedForAssociationInProgress`, `WaitedForUnassociationInProgress`). These writes take no
//! idempotency token and are never resent blindly: a write whose outcome is unknown (a 5xx, no
//! answer in time) is settled by reading again, and written again only if the EIP is still
//! `Available`. A permanent refusal (the EIP and the HAVIP in different ENS regions:
//! `IncorrectInstanceRegion`; the HAVIP already has another EIP) is returned at once.
//!
//! An EIP bound (or being bound) to another resource is an [`Error::Conflict`] for
//! `ensure_eip_associated`: it never moves an EIP (one being unbound from elsewhere is waited
//! for). `ensure_eip_unassociated` leaves such an EIP alone: its goal holds. An HAVIP that does
//! not exist or is `Deleting`, and an EIP that does not exist, fail `ensure_eip_associated` at
//! once ([`Error::WaiterFailureState`]) and are success for `ensure_eip_unassociated`
//! ([`Ensured::HaVipGone`], [`Ensured::EipGone`]). UnAssociateEnsEipAddress names only the EIP:
//! if, between this call's read and its write, another caller unbinds the EIP and binds it
//! elsewhere, the write unbinds it there. Progress callbacks receive an `EipProgress` (the
//! EIP's status and binding, the HAVIP's status, whether it lists the EIP).
//!
//! **Teardown order.** Unbind the EIP, then unassociate the members, then delete the HAVIP:
//! DeleteHaVips refuses an HAVIP that still has an association or an EIP
//! (`IncorrectHaVipStatus`).
//!
//! Before associating, `Client::preflight_association` (features `instance` and `eni`, in
//! `crate::preflight`) says whether AssociateHaVip should accept an instance: its status, its
//! vSwitch, its primary ENI.
//!
//! ## Schedule and tests
//! Every ensure call reads on the client's [`WaiterSchedule`] (each may set its own), and its
//! deadline covers the whole call. Every output has a builder, for tests of code that uses one:
//!
//! ```
//! use std::time::Duration;
//! use alibabacloud_ens::ensure::{EnsureOutput, Ensured};
//! use alibabacloud_ens::HaVip;
//!
//! let out = EnsureOutput::builder(Ensured::AssociatedNow)
//!     .ha_vip(HaVip::new("havip-1"))
//!     .elapsed(Duration::from_millis(2300))
//!     .polls(3)
//!     .build();
//! assert_eq!(out.ensured(), Ensured::AssociatedNow);
//! assert_eq!(
//!     serde_json::to_string(&out).unwrap(),
//!     r#"{"Ensured":"AssociatedNow","HaVip":{"HaVipId":"havip-1","Status":"","IpAddress":"","Name":"","Description":"","EnsRegionId":"","NetworkId":"","VSwitchId":"","CreationTime":null,"AssociatedInstances":[],"AssociatedEipAddresses":[]},"ElapsedMs":2300,"Polls":3}"#
//! );
//! ```
//!
//! [`ensure_associated`]: crate::Client::ensure_associated
//! [`ensure_unassociated`]: crate::Client::ensure_unassociated
//! [`ensure_ha_vip`]: crate::Client::ensure_ha_vip

use std::cmp::Ordering;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Conflict, WaiterFailureState, WaiterTimedOut};
use crate::model::{AssociationStatus, HaVip, HaVipStatus, InstanceType};
use crate::operation::associate_ha_vip::AssociateHaVipFluentBuilder;
use crate::operation::create_ha_vip::CreateHaVipFluentBuilder;
use crate::operation::delete_ha_vips::DeleteHaVipsFluentBuilder;
use crate::operation::describe_ha_vips::{DescribeHaVipsFluentBuilder, MAX_PAGE_SIZE};
use crate::operation::unassociate_ha_vip::UnassociateHaVipFluentBuilder;
use crate::operation::{check_id, check_name, get_ha_vip_once};
use crate::transport::{BoxFuture, Transport};
use crate::waiter::{
    wait_for_available, wait_for_instance, Goal, ProgressFn, WaitProgress, WaiterSchedule,
    FAST_POLL_WINDOW, NOT_LISTED_GRACE,
};
use crate::{Error, ErrorCode};

/// What `ensure_associated` or `ensure_unassociated` did (and `ensure_eip_associated` or
/// `ensure_eip_unassociated`, with the EIP's binding to the HAVIP as the association).
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
    /// The instance was not associated: nothing was written.
    AlreadyUnassociated,
    /// This call removed the association and waited until it was gone.
    UnassociatedNow,
    /// Another caller's unassociation was in progress (or won the race); this call waited
    /// until the association was gone.
    WaitedForUnassociationInProgress,
    /// `ensure_unassociated` only: the HAVIP does not exist (deleted, never created, or a
    /// mistyped id) or is being deleted, before or during the call, so nothing is associated
    /// with it. [`EnsureOutput::ha_vip`] is the HAVIP `Deleting`, or `None` when it is gone.
    /// `ensure_eip_unassociated` too: such an HAVIP has no EIP bound.
    HaVipGone,
    /// `ensure_eip_unassociated` only: the EIP does not exist (released, never created, or a
    /// mistyped id), so it is bound to nothing.
    EipGone,
}

/// What `ensure_associated` or `ensure_unassociated` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct EnsureOutput {
    ensured: Ensured,
    ha_vip: Option<HaVip>,
    #[serde(rename = "ElapsedMs", with = "crate::lenient::millis")]
    elapsed: Duration,
    polls: u32,
}

output_builder!(EnsureOutput => EnsureOutputBuilder (ensured: Ensured) {
    ha_vip: Option<HaVip>,
    elapsed: Duration,
    polls: u32,
});

impl EnsureOutput {
    /// What the call did.
    pub fn ensured(&self) -> Ensured {
        self.ensured
    }

    /// The HAVIP as last observed (`None` when it does not exist: only after
    /// `ensure_unassociated`, with [`Ensured::HaVipGone`]).
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

/// The running state of one ensure call: its deadline and reads, on the client's clock.
struct Run {
    start: Instant,
    deadline: Instant,
    polls: u32,
    polls_after_window: u32,
}

impl Run {
    fn start(transport: &Transport, schedule: &WaiterSchedule) -> Self {
        let now = transport.clock().now();
        Run {
            start: now,
            deadline: now + schedule.max_wait,
            polls: 0,
            polls_after_window: 0,
        }
    }

    fn elapsed(&self, transport: &Transport) -> Duration {
        transport
            .clock()
            .now()
            .saturating_duration_since(self.start)
    }

    /// [`Error::WaiterTimedOut`] once the deadline has passed.
    fn check_deadline(
        &self,
        transport: &Transport,
        goal: impl FnOnce() -> String,
        seen: Option<&HaVip>,
    ) -> Result<(), Error> {
        let now = transport.clock().now();
        if now < self.deadline {
            return Ok(());
        }
        Err(Error::WaiterTimedOut(Box::new(WaiterTimedOut {
            goal: goal(),
            elapsed: now.saturating_duration_since(self.start),
            polls: self.polls,
            last_observed: seen.cloned(),
            last_error: None,
        })))
    }

    /// Sleeps the schedule's next delay (never past the deadline).
    async fn pause(&mut self, transport: &Transport, schedule: &WaiterSchedule) {
        let clock = transport.clock();
        let now = clock.now();
        let elapsed = now.saturating_duration_since(self.start);
        if elapsed >= FAST_POLL_WINDOW {
            self.polls_after_window += 1;
        }
        let delay = schedule.delay(elapsed, self.polls_after_window);
        clock
            .sleep(delay.min(self.deadline.saturating_duration_since(now)))
            .await;
    }

    /// The schedule for a wait within this call: what is left of the deadline.
    fn remaining(&self, transport: &Transport, schedule: &WaiterSchedule) -> WaiterSchedule {
        let left = self
            .deadline
            .saturating_duration_since(transport.clock().now());
        schedule.with_max_wait(left)
    }
}

/// An ensure builder over a state `$state` (with `new(transport, id, id)`, `boxed`, `schedule`,
/// `on_progress` and the two ids `$a`, `$b`): the schedule setters, `on_progress` with
/// `$progress`, `send` (running `$state::$run`, documented by `$send_doc`), `Debug` and
/// `IntoFuture`.
macro_rules! ensure_builder {
    (
        $(#[$doc:meta])* $name:ident($state:ident, $a:ident, $b:ident) -> $output:ty,
        progress: $progress:ty, run: $run:ident, $(#[$send_doc:meta])*
    ) => {
        $(#[$doc])*
        #[must_use = "an ensure call does nothing until `send` is awaited"]
        pub struct $name<'a> {
            state: $state<'a>,
        }

        impl<'a> $name<'a> {
            pub(crate) fn new(transport: Transport, $a: String, $b: String) -> Self {
                $name {
                    state: $state::new(transport, $a, $b),
                }
            }

            schedule_setters!(state);

            /// Calls `f` with every state change observed. `f` may borrow from the caller's
            /// scope.
            pub fn on_progress(mut self, f: impl FnMut(&$progress) + Send + 'a) -> Self {
                self.state.on_progress = Some(Box::new(f));
                self
            }

            /// Runs the call.
            $(#[$send_doc])*
            pub async fn send(self) -> Result<$output, Error> {
                self.state.boxed(|s| Box::pin(s.$run())).await
            }
        }

        impl fmt::Debug for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field(stringify!($a), &self.state.$a)
                    .field(stringify!($b), &self.state.$b)
                    .field("schedule", &self.state.schedule)
                    .finish_non_exhaustive()
            }
        }

        impl<'a> IntoFuture for $name<'a> {
            type Output = Result<$output, Error>;
            type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

            fn into_future(self) -> Self::IntoFuture {
                Box::pin(self.send())
            }
        }
    };
}

/// The schedule setters of every ensure builder; `$state` holds its `schedule`.
macro_rules! schedule_setters {
    ($state:ident) => {
        /// Replaces the whole schedule (default: the client's
        /// [`waiter_schedule`](crate::ClientBuilder::waiter_schedule)).
        pub fn schedule(mut self, schedule: WaiterSchedule) -> Self {
            self.$state.schedule = schedule;
            self
        }

        /// The deadline for the whole call, reads, writes and waits included (default: the
        /// client's schedule's, 5 minutes unless set).
        pub fn max_wait(mut self, d: Duration) -> Self {
            self.$state.schedule.max_wait = d;
            self
        }

        /// The shortest delay between reads (default: the client's schedule's, 750 ms unless
        /// set).
        pub fn min_delay(mut self, d: Duration) -> Self {
            self.$state.schedule.min_delay = d;
            self
        }

        /// The longest delay between reads (default: the client's schedule's, 40 s unless
        /// set).
        pub fn max_delay(mut self, d: Duration) -> Self {
            self.$state.schedule.max_delay = d;
            self
        }
    };
}

ensure_builder!(
    /// Makes sure an instance is associated with an HAVIP and the association is in use; see
    /// [`Client::ensure_associated`](crate::Client::ensure_associated) and the
    /// [module docs](self).
    EnsureAssociated(Ensure, ha_vip_id, instance_id) -> EnsureOutput,
    progress: WaitProgress, run: associate,
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad id or delay setting (nothing sent); a write's
    /// permanent refusal (e.g. [`ErrorCode::IncorrectInstanceVSwitch`]) at once; otherwise as
    /// a waiter: [`Error::WaiterTimedOut`], [`Error::WaiterFailureState`] (the HAVIP does not
    /// exist or is being deleted) or [`Error::WaiterOperationFailed`].
);

ensure_builder!(
    /// Makes sure an instance is not associated with an HAVIP; see
    /// [`Client::ensure_unassociated`](crate::Client::ensure_unassociated). An HAVIP that is
    /// gone or being deleted is success ([`Ensured::HaVipGone`]).
    EnsureUnassociated(Ensure, ha_vip_id, instance_id) -> EnsureOutput,
    progress: WaitProgress, run: unassociate,
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad id or delay setting (nothing sent); a write's
    /// permanent refusal at once; otherwise as a waiter: [`Error::WaiterTimedOut`] or
    /// [`Error::WaiterOperationFailed`].
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
    schedule: WaiterSchedule,
    on_progress: Option<ProgressFn<'a>>,
    /// What was last reported to `on_progress`.
    last_seen: Option<(Option<HaVipStatus>, Option<AssociationStatus>)>,
}

impl<'a> Ensure<'a> {
    fn new(transport: Transport, ha_vip_id: String, instance_id: String) -> Self {
        Ensure {
            schedule: transport.settings().waiter_schedule,
            transport,
            ha_vip_id,
            instance_id,
            instance_type: None,
            on_progress: None,
            last_seen: None,
        }
    }

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
        self.schedule.check()?;
        Ok(Run::start(&self.transport, &self.schedule))
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

    fn report(&mut self, run: &Run, h: Option<&HaVip>) {
        let state = (
            h.map(|h| h.status.clone()),
            h.and_then(|h| h.association(&self.instance_id))
                .map(|a| a.status.clone()),
        );
        if self.last_seen.as_ref() == Some(&state) {
            return;
        }
        self.last_seen = Some(state);
        if let Some(f) = self.on_progress.as_mut() {
            f(&WaitProgress::about_instance(
                run.elapsed(&self.transport),
                run.polls,
                h,
                &self.ha_vip_id,
                &self.instance_id,
            ));
        }
    }

    /// Sleeps the schedule's next delay. (`&mut self`: the progress callback is `Send` but not
    /// `Sync`, so no `&self` may be held across an `await`.)
    async fn pause(&mut self, run: &mut Run) {
        run.pause(&self.transport, &self.schedule).await;
    }

    fn check_deadline(
        &self,
        run: &Run,
        associated: bool,
        seen: Option<&HaVip>,
    ) -> Result<(), Error> {
        run.check_deadline(&self.transport, || self.goal(associated), seen)
    }

    /// `ensure_associated`'s failure for an HAVIP that is gone or being deleted.
    fn gone(&self, run: &Run, h: Option<HaVip>) -> Error {
        let reason = match &h {
            None => format!(
                "{} does not exist (deleted, or never created): it can never be in use",
                self.ha_vip_id
            ),
            Some(_) => format!(
                "{} is being deleted: it can never be in use",
                self.ha_vip_id
            ),
        };
        Error::WaiterFailureState(Box::new(WaiterFailureState {
            goal: self.goal(true),
            reason,
            elapsed: run.elapsed(&self.transport),
            polls: run.polls,
            observed: h,
        }))
    }

    /// Waits for `goal` (in use, or unassociated) within the time left to this run.
    async fn wait_for(
        &mut self,
        run: &mut Run,
        goal: Goal,
    ) -> Result<crate::waiter::WaitOutput, Error> {
        let schedule = run.remaining(&self.transport, &self.schedule);
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
        Ok(out)
    }

    async fn wait_in_use(&mut self, run: &mut Run) -> Result<HaVip, Error> {
        let out = self
            .wait_for(run, Goal::InUse(self.instance_id.clone()))
            .await?;
        Ok(out.into_ha_vip())
    }

    /// Waits until the instance is not associated: the HAVIP as last seen, `None` if gone.
    async fn wait_unassociated(&mut self, run: &mut Run) -> Result<Option<HaVip>, Error> {
        let out = self
            .wait_for(run, Goal::Unassociated(self.instance_id.clone()))
            .await?;
        Ok((!out.ha_vip_gone()).then(|| out.into_ha_vip()))
    }

    fn output(&self, run: &Run, ensured: Ensured, ha_vip: Option<HaVip>) -> EnsureOutput {
        EnsureOutput {
            ensured,
            ha_vip,
            elapsed: run.elapsed(&self.transport),
            polls: run.polls,
        }
    }

    /// The output of an unassociation that ended with `h` as last seen: `HaVipGone` when the
    /// HAVIP is gone or being deleted, `ensured` otherwise.
    fn unassociated(&self, run: &Run, ensured: Ensured, h: Option<HaVip>) -> EnsureOutput {
        match h {
            Some(h) if h.status != HaVipStatus::Deleting => self.output(run, ensured, Some(h)),
            h => self.output(run, Ensured::HaVipGone, h),
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
                return Err(self.gone(&run, None));
            };
            if h.status == HaVipStatus::Deleting {
                return Err(self.gone(&run, Some(h)));
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
                // Deleted since the read: the next read says so.
                Err(e) if e.code() == Some(&ErrorCode::HaVipNotFound) => {}
                // The HAVIP is busy (the keepalived pair's other half, still creating, or
                // being deleted: the next read tells).
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
                return Ok(self.output(&run, Ensured::HaVipGone, None));
            };
            if h.status == HaVipStatus::Deleting {
                return Ok(self.output(&run, Ensured::HaVipGone, Some(h)));
            }
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
                    return Ok(self.unassociated(
                        &run,
                        Ensured::WaitedForUnassociationInProgress,
                        h,
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
                    return Ok(self.unassociated(&run, Ensured::UnassociatedNow, h));
                }
                Err(e) if e.code() == Some(&ErrorCode::InstanceNotAssociated) => waited = true,
                // Deleted since the read (another replica tearing down): the next read says so.
                Err(e) if e.code() == Some(&ErrorCode::HaVipNotFound) => {}
                Err(e)
                    if e.code() == Some(&ErrorCode::IncorrectInstanceAssociationStatus)
                        || e.code() == Some(&ErrorCode::IncorrectHaVipStatus) =>
                {
                    self.check_deadline(&run, false, Some(&h))?;
                    self.pause(&mut run).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// What `ensure_ha_vip` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum HaVipEnsured {
    /// An HAVIP with the name (and address) was already in the vSwitch: this call created
    /// nothing (a create of this call whose answer was lost may have made it).
    Found,
    /// This call created the HAVIP.
    Created,
    /// This call created a duplicate (deleted again, see
    /// [`EnsureHaVipOutput::duplicates_deleted`]) or, with a fixed address, was refused it:
    /// another caller's HAVIP, created at about the same time, is the one kept.
    CreatedByAnother,
}

/// What `ensure_ha_vip` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct EnsureHaVipOutput {
    ensured: HaVipEnsured,
    ha_vip: HaVip,
    duplicates_deleted: Vec<String>,
    duplicates_kept: Vec<String>,
    #[serde(rename = "ElapsedMs", with = "crate::lenient::millis")]
    elapsed: Duration,
    polls: u32,
}

output_builder!(EnsureHaVipOutput => EnsureHaVipOutputBuilder (ensured: HaVipEnsured) {
    ha_vip: HaVip,
    duplicates_deleted: Vec<String>,
    duplicates_kept: Vec<String>,
    elapsed: Duration,
    polls: u32,
});

impl EnsureHaVipOutput {
    /// What the call did.
    pub fn ensured(&self) -> HaVipEnsured {
        self.ensured
    }

    /// The HAVIP (the survivor), available (or already associated), as last observed.
    pub fn ha_vip(&self) -> &HaVip {
        &self.ha_vip
    }

    /// The HAVIP, by value.
    pub fn into_ha_vip(self) -> HaVip {
        self.ha_vip
    }

    /// The duplicates (same name and vSwitch, losers by the survivor rule) that are deleted or
    /// being deleted: by this call, or by another replica converging at the same time.
    pub fn duplicates_deleted(&self) -> &[String] {
        &self.duplicates_deleted
    }

    /// The duplicates left alone because something is associated with them (never deleted
    /// by this crate: unassociate them, then run again).
    pub fn duplicates_kept(&self) -> &[String] {
        &self.duplicates_kept
    }

    /// `true` when duplicates were found: the call converged on one HAVIP.
    pub fn converged(&self) -> bool {
        !self.duplicates_deleted.is_empty() || !self.duplicates_kept.is_empty()
    }

    /// How long the call took.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// How many DescribeHaVips reads it made (listing pages and waits).
    pub fn polls(&self) -> u32 {
        self.polls
    }
}

/// Finds an HAVIP by name in a vSwitch, or creates it; see
/// [`Client::ensure_ha_vip`](crate::Client::ensure_ha_vip) and the
/// [module docs](self#find-or-create-ensure_ha_vip) for the rule, the guarantees and the window
/// that remains.
#[must_use = "an ensure call does nothing until `send` is awaited"]
pub struct EnsureHaVip {
    state: FindOrCreate,
}

struct FindOrCreate {
    transport: Transport,
    name: Option<String>,
    vswitch_id: Option<String>,
    ip_address: Option<String>,
    description: Option<String>,
    schedule: WaiterSchedule,
}

impl fmt::Debug for EnsureHaVip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.state;
        f.debug_struct("EnsureHaVip")
            .field("name", &s.name)
            .field("vswitch_id", &s.vswitch_id)
            .field("ip_address", &s.ip_address)
            .field("description", &s.description)
            .field("schedule", &s.schedule)
            .finish_non_exhaustive()
    }
}

impl EnsureHaVip {
    pub(crate) fn new(transport: Transport) -> Self {
        EnsureHaVip {
            state: FindOrCreate {
                schedule: transport.settings().waiter_schedule,
                transport,
                name: None,
                vswitch_id: None,
                ip_address: None,
                description: None,
            },
        }
    }

    /// The name (required): what the HAVIP is found by. 1–128 characters, not starting with
    /// `http://` or `https://`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.state.name = Some(name.into());
        self
    }

    /// The vSwitch (required).
    pub fn vswitch_id(mut self, id: impl Into<String>) -> Self {
        self.state.vswitch_id = Some(id.into());
        self
    }

    /// A fixed IPv4 address from the vSwitch's CIDR (default: the service picks one). The
    /// found HAVIP must have it; creation with it is exclusive.
    pub fn ip_address(mut self, ip: impl Into<String>) -> Self {
        self.state.ip_address = Some(ip.into());
        self
    }

    /// The description, used only when creating (it cannot be changed later). At most 256
    /// characters.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.state.description = Some(description.into());
        self
    }

    schedule_setters!(state);

    /// Runs the call.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a missing name or vSwitch, or a bad name, vSwitch, address,
    /// description or delay setting (nothing sent); [`Error::Conflict`] when an HAVIP with the
    /// name has another address than the one asked for, or the address is held by an HAVIP with
    /// another name; [`Error::WaiterTimedOut`] when the deadline passes; any error of
    /// DescribeHaVips, CreateHaVip (but `OutcomeUnknown`, which is settled by listing again) or
    /// DeleteHaVips that retrying does not cure.
    pub async fn send(self) -> Result<EnsureHaVipOutput, Error> {
        self.state.run_boxed().await
    }
}

impl IntoFuture for EnsureHaVip {
    type Output = Result<EnsureHaVipOutput, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// The survivor rule: the earliest `CreationTime` first (an HAVIP without one last), then the
/// smallest id. Every replica sees the same list, so every replica picks the same survivor.
fn survivor_order(a: &HaVip, b: &HaVip) -> Ordering {
    match (a.creation_time, b.creation_time) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
    .then_with(|| a.ha_vip_id.cmp(&b.ha_vip_id))
}

/// The checked input of `ensure_ha_vip`.
struct Wanted {
    name: String,
    vswitch_id: String,
    ip_address: Option<String>,
}

impl Wanted {
    fn goal(&self) -> String {
        format!(
            "an HAVIP named {:?} in {} to be available",
            self.name, self.vswitch_id
        )
    }
}

impl FindOrCreate {
    #[inline(never)]
    fn run_boxed(self) -> BoxFuture<'static, Result<EnsureHaVipOutput, Error>> {
        Box::pin(self.run())
    }

    fn create(&self) -> CreateHaVipFluentBuilder {
        let mut create = CreateHaVipFluentBuilder::new(self.transport.clone())
            .vswitch_id(self.vswitch_id.clone().unwrap_or_default())
            .name(self.name.clone().unwrap_or_default());
        if let Some(ip) = &self.ip_address {
            create = create.ip_address(ip.as_str());
        }
        if let Some(d) = &self.description {
            create = create.description(d.as_str());
        }
        create
    }

    /// Checks the input before anything is sent: CreateHaVip's own checks, and the name and
    /// vSwitch required.
    fn check(&self) -> Result<Wanted, Error> {
        let name = self
            .name
            .clone()
            .ok_or_else(|| Error::invalid_input("Name", "is required"))?;
        check_name("Name", &name)?;
        let vswitch_id = self
            .vswitch_id
            .clone()
            .ok_or_else(|| Error::invalid_input("VSwitchId", "is required"))?;
        let ip_address = self.create().checked_ip_address()?;
        self.schedule.check()?;
        Ok(Wanted {
            name,
            vswitch_id,
            ip_address,
        })
    }

    /// Every HAVIP in the vSwitch with the name, `Deleting` ones left out (DescribeHaVips'
    /// `Name` filter is not documented as exact: the name and vSwitch are compared here).
    /// With `address`, every HAVIP in the vSwitch with that address instead, whatever its name.
    async fn list(
        &self,
        run: &mut Run,
        want: &Wanted,
        address: Option<&str>,
    ) -> Result<Vec<HaVip>, Error> {
        let mut describe = DescribeHaVipsFluentBuilder::new(self.transport.clone())
            .vswitch_id(want.vswitch_id.as_str())
            .page_size(MAX_PAGE_SIZE);
        describe = match address {
            Some(ip) => describe.ha_vip_address(ip),
            None => describe.name(want.name.as_str()),
        };
        let mut pages = describe.into_paginator();
        let mut found = Vec::new();
        while let Some(page) = pages.next_page().await {
            run.polls += 1;
            found.extend(page?.into_ha_vips().into_iter().filter(|h| {
                h.vswitch_id == want.vswitch_id
                    && h.status != HaVipStatus::Deleting
                    && match address {
                        Some(ip) => h.ip_address == ip,
                        None => h.name == want.name,
                    }
            }));
        }
        Ok(found)
    }

    /// Waits until `ids` are created, within the time left. `Ok(None)` when one of them is gone
    /// or being deleted (another replica converging): the caller lists again.
    async fn wait_available(
        &self,
        run: &mut Run,
        ids: Vec<String>,
    ) -> Result<Option<Vec<HaVip>>, Error> {
        let schedule = run.remaining(&self.transport, &self.schedule);
        match wait_for_available(self.transport.clone(), ids, schedule).await {
            Ok(out) => {
                run.polls += out.polls();
                Ok(Some(out.ha_vips().to_vec()))
            }
            Err(Error::WaiterFailureState(f)) => {
                run.polls += f.polls;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Deletes one loser unless something is associated with it. `true` when it is deleted or
    /// being deleted (by this call or another), `false` when it is kept.
    async fn delete_loser(&self, run: &mut Run, loser: &HaVip) -> Result<bool, Error> {
        if !loser.associated_instances.is_empty() {
            return Ok(false);
        }
        // DeleteHaVips wants it `Available`: a duplicate just created is `Creating`.
        if loser.status == HaVipStatus::Creating
            && self
                .wait_available(run, vec![loser.ha_vip_id.clone()])
                .await?
                .is_none()
        {
            return Ok(true);
        }
        let delete = DeleteHaVipsFluentBuilder::new(self.transport.clone())
            .ha_vip_id(loser.ha_vip_id.as_str())
            .send()
            .await;
        match delete {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some(&ErrorCode::HaVipNotFound) => Ok(true),
            // Refused: being deleted already, or associated since it was listed. Look.
            Err(e) if e.code() == Some(&ErrorCode::IncorrectHaVipStatus) => {
                run.polls += 1;
                let (now, _) = get_ha_vip_once(&self.transport, &loser.ha_vip_id).await?;
                Ok(now.is_none_or(|h| h.status == HaVipStatus::Deleting))
            }
            Err(e) => Err(e),
        }
    }

    async fn run(self) -> Result<EnsureHaVipOutput, Error> {
        let want = self.check()?;
        let transport = self.transport.clone();
        let clock = transport.clock();
        let mut run = Run::start(&transport, &self.schedule);
        // The id this call's create returned.
        let mut created: Option<String> = None;
        // A create with the fixed address refused as taken: when first, and the refusal.
        let mut refused: Option<(Instant, Error)> = None;
        loop {
            run.check_deadline(&transport, || want.goal(), None)?;
            let found = self.list(&mut run, &want, None).await?;
            if let Some(ip) = &want.ip_address {
                // (An address not assigned yet, empty, is no conflict.)
                if found
                    .iter()
                    .any(|h| !h.ip_address.is_empty() && &h.ip_address != ip)
                {
                    return Err(conflict(
                        format!(
                            "an HAVIP named {:?} in {} has another address than {ip}; \
                             ensure_ha_vip neither changes an address nor makes a second HAVIP \
                             with the name",
                            want.name, want.vswitch_id
                        ),
                        found,
                    ));
                }
            }
            if !found.is_empty() {
                match self.converge(&mut run, found).await? {
                    Some((survivor, mut duplicates_deleted, duplicates_kept)) => {
                        // This call's duplicate, already deleted by a replica converging first
                        // (it was listed, as this call waited until it was available).
                        if let Some(id) = created.as_ref().filter(|id| {
                            **id != survivor.ha_vip_id
                                && !duplicates_deleted.contains(id)
                                && !duplicates_kept.contains(id)
                        }) {
                            duplicates_deleted.push(id.clone());
                        }
                        let ensured = if created.as_deref() == Some(survivor.ha_vip_id.as_str()) {
                            HaVipEnsured::Created
                        } else if created.is_some() || refused.is_some() {
                            HaVipEnsured::CreatedByAnother
                        } else {
                            // Also after a create whose outcome was unknown: it may be this
                            // call's.
                            HaVipEnsured::Found
                        };
                        return Ok(EnsureHaVipOutput {
                            ensured,
                            ha_vip: survivor,
                            duplicates_deleted,
                            duplicates_kept,
                            elapsed: run.elapsed(&transport),
                            polls: run.polls,
                        });
                    }
                    // The survivor went away meanwhile: list again.
                    None => continue,
                }
            }
            if let (Some(ip), Some((since, _))) = (&want.ip_address, &refused) {
                // The address is taken: by another replica's HAVIP (listed soon) or by
                // something else.
                let holders = self.list(&mut run, &want, Some(ip)).await?;
                if holders.iter().any(|h| h.name != want.name) {
                    return Err(conflict(
                        format!(
                            "{ip} in {} is held by an HAVIP with another name than {:?}",
                            want.vswitch_id, want.name
                        ),
                        holders,
                    ));
                }
                if holders.is_empty()
                    && clock.now().saturating_duration_since(*since) >= NOT_LISTED_GRACE
                {
                    if let Some((_, e)) = refused.take() {
                        return Err(e);
                    }
                }
                run.pause(&transport, &self.schedule).await;
                continue;
            }
            match self.create().send().await {
                Ok(out) => {
                    created = out.ha_vip_ids().first().cloned();
                    // Listed again only once it is available: a replica that created at the
                    // same time has made its own by then, and is seen.
                    if let Some(id) = &created {
                        self.wait_available(&mut run, vec![id.clone()]).await?;
                    }
                }
                Err(e) if e.code() == Some(&ErrorCode::InvalidIpAddressAlreadyUsed) => {
                    refused = Some((clock.now(), e));
                }
                // It may have been made: listing again tells, and converging removes a
                // duplicate if it was made twice.
                Err(Error::OutcomeUnknown(_)) => run.pause(&transport, &self.schedule).await,
                Err(e) => return Err(e),
            }
        }
    }

    /// Keeps the survivor of `found` (not empty), waits until it is available, and deletes the
    /// losers nothing is associated with: the survivor, the losers deleted, the losers kept.
    /// `None` when the survivor went away meanwhile.
    async fn converge(
        &self,
        run: &mut Run,
        mut found: Vec<HaVip>,
    ) -> Result<Option<(HaVip, Vec<String>, Vec<String>)>, Error> {
        found.sort_by(survivor_order);
        let mut ranked = found.into_iter();
        let Some(survivor) = ranked.next() else {
            return Ok(None);
        };
        let losers: Vec<HaVip> = ranked.collect();
        let survivor = if survivor.status == HaVipStatus::Creating {
            match self
                .wait_available(run, vec![survivor.ha_vip_id.clone()])
                .await?
                .and_then(|mut v| v.pop())
            {
                Some(h) => h,
                None => return Ok(None),
            }
        } else {
            survivor
        };
        let mut deleted = Vec::new();
        let mut kept = Vec::new();
        for loser in &losers {
            if self.delete_loser(run, loser).await? {
                deleted.push(loser.ha_vip_id.clone());
            } else {
                kept.push(loser.ha_vip_id.clone());
            }
        }
        Ok(Some((survivor, deleted, kept)))
    }
}

fn conflict(reason: String, existing: Vec<HaVip>) -> Error {
    Error::Conflict(Box::new(Conflict {
        action: "ensure_ha_vip".into(),
        reason,
        existing,
    }))
}

#[cfg(feature = "eip")]
mod eip;
#[cfg(feature = "eip")]
#[cfg_attr(docsrs, doc(cfg(feature = "eip")))]
pub use eip::{
    EipProgress, EnsureEipAssociated, EnsureEipOutput, EnsureEipOutputBuilder,
    EnsureEipUnassociated,
};
