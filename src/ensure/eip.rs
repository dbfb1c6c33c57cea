//! `ensure_eip_associated` / `ensure_eip_unassociated`: a public IP (an EIP) on an HAVIP, bound
//! through the generated AssociateEnsEipAddress / UnAssociateEnsEipAddress (`InstanceType=HaVip`)
//! and watched through DescribeEnsEipAddresses and DescribeHaVips. See the
//! [module docs](super#a-public-ip-on-the-havip-ensure_eip_associated).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Ensured, Run};
use crate::error::{Conflict, Escaped, WaiterFailureState, MAX_ID_CHARS};
use crate::generated::eip::associate_ens_eip_address::AssociateEnsEipAddressFluentBuilder;
use crate::generated::eip::describe_ens_eip_addresses::{
    DescribeEnsEipAddressesFluentBuilder, EipAddress,
};
use crate::generated::eip::un_associate_ens_eip_address::UnAssociateEnsEipAddressFluentBuilder;
use crate::model::{HaVip, HaVipStatus};
use crate::operation::{check_id, get_ha_vip_once};
use crate::transport::{BoxFuture, Transport};
use crate::waiter::WaiterSchedule;
use crate::{Error, ErrorCode, RetryConfig};

/// AssociateEnsEipAddress's `InstanceType` for an HAVIP.
const HA_VIP: &str = "HaVip";

/// What an `ensure_eip_associated` or `ensure_eip_unassociated` call returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct EnsureEipOutput {
    ensured: Ensured,
    eip: Option<EipAddress>,
    ha_vip: Option<HaVip>,
    #[serde(rename = "ElapsedMs", with = "crate::lenient::millis")]
    elapsed: Duration,
    polls: u32,
}

output_builder!(EnsureEipOutput => EnsureEipOutputBuilder (ensured: Ensured) {
    eip: Option<EipAddress>,
    ha_vip: Option<HaVip>,
    elapsed: Duration,
    polls: u32,
});

impl EnsureEipOutput {
    /// What the call did: [`Ensured::AlreadyInUse`], [`Ensured::AssociatedNow`] or
    /// [`Ensured::WaitedForAssociationInProgress`] after `ensure_eip_associated`;
    /// [`Ensured::AlreadyUnassociated`], [`Ensured::UnassociatedNow`],
    /// [`Ensured::WaitedForUnassociationInProgress`], [`Ensured::HaVipGone`] or
    /// [`Ensured::EipGone`] after `ensure_eip_unassociated`.
    pub fn ensured(&self) -> Ensured {
        self.ensured
    }

    /// The EIP as last observed by DescribeEnsEipAddresses (`None` when it does not exist:
    /// only with [`Ensured::EipGone`]).
    pub fn eip(&self) -> Option<&EipAddress> {
        self.eip.as_ref()
    }

    /// The HAVIP as last observed (`None` when it does not exist: only with
    /// [`Ensured::HaVipGone`]). After `ensure_eip_associated` its
    /// [`associated_eip_addresses`](HaVip::associated_eip_addresses) lists the EIP.
    pub fn ha_vip(&self) -> Option<&HaVip> {
        self.ha_vip.as_ref()
    }

    /// How long the call took.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// How many polls it made; each reads the EIP (DescribeEnsEipAddresses) and the HAVIP
    /// (DescribeHaVips).
    pub fn polls(&self) -> u32 {
        self.polls
    }
}

/// A state change an EIP ensure call observed, passed to its `on_progress` callback.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EipProgress {
    /// Time since the call started.
    pub elapsed: Duration,
    /// Polls made so far, this one included.
    pub polls: u32,
    /// The EIP (`AllocationId`).
    pub allocation_id: String,
    /// The HAVIP.
    pub ha_vip_id: String,
    /// The EIP's `Status` (`Available`, `Associating`, `InUse`, `Unassociating`, …); `None`:
    /// the EIP was not found.
    pub eip_status: Option<String>,
    /// What the EIP is bound (or being bound, or unbound) to: its `InstanceId`; `None` when
    /// nothing.
    pub bound_to: Option<String>,
    /// The HAVIP's status (`None`: the HAVIP was not found).
    pub ha_vip_status: Option<HaVipStatus>,
    /// Whether the HAVIP lists the EIP in its `AssociatedEipAddresses`.
    pub listed: bool,
}

impl fmt::Display for EipProgress {
    /// `EIP Associating on havip-1, HAVIP InUse, not listed on it`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.eip_status, &self.bound_to) {
            (None, _) => f.write_str("EIP not found")?,
            (Some(s), None) => {
                write!(f, "EIP {}, bound to nothing", Escaped::new(s, MAX_ID_CHARS))?
            }
            (Some(s), Some(to)) => write!(
                f,
                "EIP {} on {}",
                Escaped::new(s, MAX_ID_CHARS),
                Escaped::new(to, MAX_ID_CHARS)
            )?,
        }
        match &self.ha_vip_status {
            None => f.write_str(", HAVIP not found"),
            Some(s) if self.listed => write!(f, ", HAVIP {s}, listed on it"),
            Some(s) => write!(f, ", HAVIP {s}, not listed on it"),
        }
    }
}

type EipProgressFn<'a> = Box<dyn FnMut(&EipProgress) + Send + 'a>;

/// What a poll saw of the EIP and the HAVIP.
struct Seen {
    eip: Option<EipAddress>,
    ha_vip: Option<HaVip>,
}

/// The EIP's `Status` (`Available`, `Associating`, `InUse`, `Unassociating` as documented; empty
/// when absent).
fn status(eip: &EipAddress) -> &str {
    eip.status.as_deref().unwrap_or("")
}

/// What the EIP is bound (or being bound, or unbound) to, if anything.
fn bound_to(eip: &EipAddress) -> Option<&str> {
    eip.instance_id.as_deref().filter(|i| !i.trim().is_empty())
}

/// What a call that reached its goal did: `[written, waited for, already]`, by whether its own
/// write was accepted, else whether it waited for another caller's.
fn outcome(wrote: bool, waited: bool, [now, in_progress, already]: [Ensured; 3]) -> Ensured {
    if wrote {
        now
    } else if waited {
        in_progress
    } else {
        already
    }
}

/// `true` when `e` carries the service's error code `code`.
fn has_code(e: &Error, code: &str) -> bool {
    e.code().is_some_and(|c| *c == ErrorCode::from_wire(code))
}

/// The EIP as DescribeEnsEipAddresses lists it (`None`: not listed, or `EipNotFound`). (Free
/// functions, these reads: the state holds the progress callback, which is `Send` but not
/// `Sync`, so no `&self` may be held across an `await`.)
async fn read_eip(transport: &Transport, id: &str) -> Result<Option<EipAddress>, Error> {
    let page = DescribeEnsEipAddressesFluentBuilder::new(transport.clone())
        .allocation_id(id)
        .retry_config(RetryConfig::disabled())
        .send()
        .await;
    match page {
        Ok(page) => Ok(page
            .eip_addresses
            .into_iter()
            .find(|e| e.allocation_id.as_deref() == Some(id))),
        Err(e) if has_code(&e, "EipNotFound") => Ok(None),
        Err(e) => Err(e),
    }
}

/// The HAVIP as DescribeHaVips lists it (`None`: not listed, or `HaVipNotFound`).
async fn read_ha_vip(transport: &Transport, id: &str) -> Result<Option<HaVip>, Error> {
    match get_ha_vip_once(transport, id).await {
        Ok((h, _)) => Ok(h),
        Err(e) if e.code() == Some(&ErrorCode::HaVipNotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The shared state of both calls.
struct EipEnsure<'a> {
    transport: Transport,
    allocation_id: String,
    ha_vip_id: String,
    schedule: WaiterSchedule,
    on_progress: Option<EipProgressFn<'a>>,
    /// What was last reported to `on_progress`.
    last_reported: Option<EipProgress>,
}

impl<'a> EipEnsure<'a> {
    fn new(transport: Transport, allocation_id: String, ha_vip_id: String) -> Self {
        EipEnsure {
            schedule: transport.settings().waiter_schedule,
            transport,
            allocation_id,
            ha_vip_id,
            on_progress: None,
            last_reported: None,
        }
    }

    /// Runs `work` on this state, boxed and compiled once here (see `transport::BoxFuture`).
    #[inline(never)]
    fn boxed(
        self,
        work: fn(Self) -> BoxFuture<'a, Result<EnsureEipOutput, Error>>,
    ) -> BoxFuture<'a, Result<EnsureEipOutput, Error>> {
        work(self)
    }

    fn goal(&self, associated: bool) -> String {
        if associated {
            format!(
                "{} to be bound to {} and listed in its AssociatedEipAddresses",
                self.allocation_id, self.ha_vip_id
            )
        } else {
            format!(
                "{} to be unbound from {}",
                self.allocation_id, self.ha_vip_id
            )
        }
    }

    fn begin(&self) -> Result<Run, Error> {
        check_id("AllocationId", &self.allocation_id)?;
        // DescribeEnsEipAddresses reads a comma-separated list from `AllocationId`.
        if self.allocation_id.contains(',') {
            return Err(Error::invalid_input(
                "AllocationId",
                "must be one EIP id (no comma)",
            ));
        }
        check_id("HaVipId", &self.ha_vip_id)?;
        self.schedule.check()?;
        Ok(Run::start(&self.transport, &self.schedule))
    }

    /// One poll: the EIP, then the HAVIP (retryable failures are retried on the schedule).
    async fn read(
        &mut self,
        run: &mut Run,
        associated: bool,
        last: Option<&HaVip>,
    ) -> Result<Seen, Error> {
        loop {
            run.check_deadline(&self.transport, || self.goal(associated), last)?;
            run.polls += 1;
            let seen = match read_eip(&self.transport, &self.allocation_id).await {
                Ok(eip) => read_ha_vip(&self.transport, &self.ha_vip_id)
                    .await
                    .map(|ha_vip| Seen { eip, ha_vip }),
                Err(e) => Err(e),
            };
            match seen {
                Ok(seen) => {
                    self.report(run, &seen);
                    return Ok(seen);
                }
                Err(e) if e.is_retryable() => self.pause(run).await,
                Err(e) => return Err(e),
            }
        }
    }

    fn report(&mut self, run: &Run, seen: &Seen) {
        if self.on_progress.is_none() {
            return;
        }
        let progress = EipProgress {
            elapsed: run.elapsed(&self.transport),
            polls: run.polls,
            allocation_id: self.allocation_id.clone(),
            ha_vip_id: self.ha_vip_id.clone(),
            eip_status: seen.eip.as_ref().map(|e| status(e).to_owned()),
            bound_to: seen.eip.as_ref().and_then(bound_to).map(str::to_owned),
            ha_vip_status: seen.ha_vip.as_ref().map(|h| h.status.clone()),
            listed: self.listed(seen.ha_vip.as_ref()),
        };
        let same = |last: &EipProgress| {
            (
                &last.eip_status,
                &last.bound_to,
                &last.ha_vip_status,
                last.listed,
            ) == (
                &progress.eip_status,
                &progress.bound_to,
                &progress.ha_vip_status,
                progress.listed,
            )
        };
        if self.last_reported.as_ref().is_some_and(same) {
            return;
        }
        if let Some(f) = self.on_progress.as_mut() {
            f(&progress);
        }
        self.last_reported = Some(progress);
    }

    /// Sleeps the schedule's next delay. (`&mut self`: the progress callback is `Send` but not
    /// `Sync`, so no `&self` may be held across an `await`.)
    async fn pause(&mut self, run: &mut Run) {
        run.pause(&self.transport, &self.schedule).await;
    }

    /// Whether the HAVIP lists the EIP in its `AssociatedEipAddresses`.
    fn listed(&self, h: Option<&HaVip>) -> bool {
        h.is_some_and(|h| {
            h.associated_eip_addresses
                .iter()
                .any(|e| e.eip_id == self.allocation_id)
        })
    }

    fn bound_here(&self, eip: &EipAddress) -> bool {
        bound_to(eip) == Some(self.ha_vip_id.as_str())
    }

    fn output(&self, run: &Run, ensured: Ensured, seen: Seen) -> EnsureEipOutput {
        EnsureEipOutput {
            ensured,
            eip: seen.eip,
            ha_vip: seen.ha_vip,
            elapsed: run.elapsed(&self.transport),
            polls: run.polls,
        }
    }

    /// `ensure_eip_associated`'s failure when the binding can never be made: `reason` names
    /// what is gone.
    fn cannot(&self, run: &Run, reason: String, seen: Seen) -> Error {
        Error::WaiterFailureState(Box::new(WaiterFailureState {
            goal: self.goal(true),
            reason,
            elapsed: run.elapsed(&self.transport),
            polls: run.polls,
            observed: seen.ha_vip,
        }))
    }

    fn bound_elsewhere(&self, eip: &EipAddress, holder: &str) -> Error {
        let kind = eip.instance_type.as_deref().unwrap_or("");
        Error::Conflict(Box::new(Conflict {
            action: "ensure_eip_associated".into(),
            reason: format!(
                "{} ({}) is {} on {}{}{}{}; ensure_eip_associated does not move an EIP: unbind it \
                 there first (ensure_eip_unassociated)",
                self.allocation_id,
                Escaped::new(
                    eip.ip_address.as_deref().unwrap_or("no address"),
                    MAX_ID_CHARS
                ),
                Escaped::new(status(eip), MAX_ID_CHARS),
                Escaped::new(holder, MAX_ID_CHARS),
                if kind.is_empty() { "" } else { " (" },
                Escaped::new(kind, MAX_ID_CHARS),
                if kind.is_empty() { "" } else { ")" },
            ),
            existing: Vec::new(),
        }))
    }

    async fn associate(mut self) -> Result<EnsureEipOutput, Error> {
        let mut run = self.begin()?;
        // This call's write was accepted: from then on it only waits.
        let mut wrote = false;
        // Another caller's binding was (or may have been) waited for.
        let mut waited = false;
        // The last write met the HAVIP busy: it is written again only once the HAVIP is free.
        let mut busy = false;
        // The last write was refused as if the HAVIP or the EIP did not exist: returned unless
        // the next read finds one of them gone.
        let mut refused: Option<Error> = None;
        let mut last: Option<HaVip> = None;
        loop {
            let seen = self.read(&mut run, true, last.as_ref()).await?;
            let h = match &seen.ha_vip {
                None => {
                    let reason = format!(
                        "{} does not exist (deleted, or never created): no EIP can be bound to it",
                        self.ha_vip_id
                    );
                    return Err(self.cannot(&run, reason, seen));
                }
                Some(h) if h.status == HaVipStatus::Deleting => {
                    let reason = format!(
                        "{} is being deleted: no EIP can be bound to it",
                        self.ha_vip_id
                    );
                    return Err(self.cannot(&run, reason, seen));
                }
                Some(h) => h,
            };
            let Some(eip) = &seen.eip else {
                let reason = format!(
                    "{} does not exist (released, or never created): it can never be bound",
                    self.allocation_id
                );
                return Err(self.cannot(&run, reason, seen));
            };
            if let Some(e) = refused.take() {
                return Err(e);
            }
            let free = matches!(h.status, HaVipStatus::Available | HaVipStatus::InUse);
            match bound_to(eip) {
                Some(_) if self.bound_here(eip) => {
                    if status(eip) == "InUse" && self.listed(Some(h)) {
                        let ensured = outcome(
                            wrote,
                            waited,
                            [
                                Ensured::AssociatedNow,
                                Ensured::WaitedForAssociationInProgress,
                                Ensured::AlreadyInUse,
                            ],
                        );
                        return Ok(self.output(&run, ensured, seen));
                    }
                    // Being bound (or bound, not listed on the HAVIP yet), or being unbound by
                    // another caller, after which it is written again.
                    waited |= !wrote;
                }
                // Being unbound from another resource: free soon.
                Some(_) if status(eip) == "Unassociating" => waited = true,
                Some(holder) => return Err(self.bound_elsewhere(eip, holder)),
                // Accepted, not visible yet: waited for, never written twice.
                None if wrote => {}
                None if status(eip) != "Available" => waited = true,
                None if busy && !free => {}
                None => {
                    let write = AssociateEnsEipAddressFluentBuilder::new(self.transport.clone())
                        .allocation_id(self.allocation_id.as_str())
                        .instance_id(self.ha_vip_id.as_str())
                        .instance_type(HA_VIP)
                        .send()
                        .await;
                    match write {
                        Ok(_) => wrote = true,
                        // It may have been bound: the next read tells, and a binding seen then
                        // is waited for.
                        Err(e) if e.is_outcome_unknown() => waited = true,
                        // Another caller's binding came first (the EIP is no longer
                        // `Available`): the next read tells whose.
                        Err(e) if has_code(&e, "IncorrectEipStatus") => waited = true,
                        // The HAVIP is busy (being created, or being deleted: the next read
                        // tells).
                        Err(e) if e.code() == Some(&ErrorCode::IncorrectHaVipStatus) => {
                            busy = true;
                        }
                        // Deleted since the read? The next read tells.
                        Err(e)
                            if e.code() == Some(&ErrorCode::InstanceNotFound)
                                || has_code(&e, "EipNotFound") =>
                        {
                            refused = Some(e);
                            last = seen.ha_vip;
                            continue;
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            last = seen.ha_vip;
            self.pause(&mut run).await;
        }
    }

    async fn unassociate(mut self) -> Result<EnsureEipOutput, Error> {
        let mut run = self.begin()?;
        let mut wrote = false;
        let mut waited = false;
        let mut last: Option<HaVip> = None;
        loop {
            let seen = self.read(&mut run, false, last.as_ref()).await?;
            // An HAVIP that is gone, or being deleted (which needs its EIP unbound), has no EIP.
            if seen
                .ha_vip
                .as_ref()
                .is_none_or(|h| h.status == HaVipStatus::Deleting)
            {
                return Ok(self.output(&run, Ensured::HaVipGone, seen));
            }
            let Some(eip) = &seen.eip else {
                return Ok(self.output(&run, Ensured::EipGone, seen));
            };
            let listed = self.listed(seen.ha_vip.as_ref());
            if !self.bound_here(eip) {
                if !listed {
                    let ensured = outcome(
                        wrote,
                        waited,
                        [
                            Ensured::UnassociatedNow,
                            Ensured::WaitedForUnassociationInProgress,
                            Ensured::AlreadyUnassociated,
                        ],
                    );
                    return Ok(self.output(&run, ensured, seen));
                }
                // Unbound, still listed on the HAVIP: wait until the HAVIP agrees.
            } else if status(eip) == "InUse" && !wrote {
                let write = UnAssociateEnsEipAddressFluentBuilder::new(self.transport.clone())
                    .allocation_id(self.allocation_id.as_str())
                    .send()
                    .await;
                match write {
                    Ok(_) => wrote = true,
                    Err(e) if e.is_outcome_unknown() => waited = true,
                    // Another caller's unbinding came first: the next read tells.
                    Err(e) if has_code(&e, "IncorrectEipStatus") => waited = true,
                    // Released meanwhile: the next read says so.
                    Err(e) if has_code(&e, "EipNotFound") => {}
                    Err(e) => return Err(e),
                }
            } else if status(eip) == "Unassociating" {
                waited |= !wrote;
            }
            // Otherwise still being bound (`Associating`): unbound once it is `InUse`.
            last = seen.ha_vip;
            self.pause(&mut run).await;
        }
    }
}

ensure_builder!(
    /// Makes sure an EIP is bound to an HAVIP and listed in its `AssociatedEipAddresses`; see
    /// [`Client::ensure_eip_associated`](crate::Client::ensure_eip_associated) and the
    /// [module docs](super#a-public-ip-on-the-havip-ensure_eip_associated).
    EnsureEipAssociated(EipEnsure, allocation_id, ha_vip_id) -> EnsureEipOutput,
    progress: EipProgress, run: associate,
    ///
    /// # Errors
    /// As [`Client::ensure_eip_associated`](crate::Client::ensure_eip_associated).
);

ensure_builder!(
    /// Makes sure an EIP is not bound to an HAVIP; see
    /// [`Client::ensure_eip_unassociated`](crate::Client::ensure_eip_unassociated). An HAVIP or
    /// EIP that is gone is success ([`Ensured::HaVipGone`], [`Ensured::EipGone`]).
    EnsureEipUnassociated(EipEnsure, allocation_id, ha_vip_id) -> EnsureEipOutput,
    progress: EipProgress, run: unassociate,
    ///
    /// # Errors
    /// As [`Client::ensure_eip_unassociated`](crate::Client::ensure_eip_unassociated).
);
