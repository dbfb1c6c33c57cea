//! AssociateHaVip: associate an HAVIP with an ENS instance or an ENI.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{CallOverrides, PairCheck};
use crate::transport::{BoxFuture, Transport};
use crate::{Error, InstanceType};

/// Builder for AssociateHaVip; see [`Client::associate_ha_vip`](crate::Client::associate_ha_vip).
///
/// The association is asynchronous: the answer only means the service accepted it. Use
/// [`Client::wait_until_in_use`](crate::Client::wait_until_in_use) (or
/// [`send_and_wait`](Self::send_and_wait)) to know when it is in effect.
///
/// ```no_run
/// # async fn run(client: alibabacloud_ens::Client) -> Result<(), alibabacloud_ens::Error> {
/// use alibabacloud_ens::InstanceType;
/// let out = client
///     .associate_ha_vip()
///     .ha_vip_id("havip-5p14t****")
///     .instance_id("eni-50c4****")
///     .instance_type(InstanceType::NetworkInterface)
///     .send()
///     .await?;
/// assert!(!out.request_id().is_empty());
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `send` is awaited"]
pub struct AssociateHaVipFluentBuilder {
    transport: Transport,
    ha_vip_id: Option<String>,
    instance_id: Option<String>,
    instance_type: Option<InstanceType>,
    overrides: CallOverrides,
}

impl fmt::Debug for AssociateHaVipFluentBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssociateHaVipFluentBuilder")
            .field("ha_vip_id", &self.ha_vip_id)
            .field("instance_id", &self.instance_id)
            .field("instance_type", &self.instance_type)
            .field("overrides", &self.overrides)
            .finish_non_exhaustive()
    }
}

impl AssociateHaVipFluentBuilder {
    pub(crate) fn new(transport: Transport) -> Self {
        AssociateHaVipFluentBuilder {
            transport,
            ha_vip_id: None,
            instance_id: None,
            instance_type: None,
            overrides: CallOverrides::default(),
        }
    }

    /// `HaVipId` (required): the HAVIP's id.
    pub fn ha_vip_id(mut self, id: impl Into<String>) -> Self {
        self.ha_vip_id = Some(id.into());
        self
    }

    /// `InstanceId` (required): the ENS instance's or ENI's id.
    pub fn instance_id(mut self, id: impl Into<String>) -> Self {
        self.instance_id = Some(id.into());
        self
    }

    /// `InstanceType`: what `InstanceId` names. Not set means the server's default,
    /// [`InstanceType::EnsInstance`], and nothing is sent.
    pub fn instance_type(mut self, instance_type: InstanceType) -> Self {
        self.instance_type = Some(instance_type);
        self
    }

    call_override_setters!();

    /// Checks the input (nothing is sent when it is bad).
    fn checked(&self) -> Result<PairCheck, Error> {
        if let Some(t) = &self.instance_type {
            if t.as_str().trim().is_empty() {
                return Err(Error::invalid_input("InstanceType", "must not be blank"));
            }
        }
        PairCheck::new(
            &self.transport,
            self.ha_vip_id.clone(),
            self.instance_id.clone(),
            true,
        )
    }

    /// Sends the request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (nothing sent) when `HaVipId` or `InstanceId` is missing or
    /// blank; otherwise any [`Error`] the service or the network produces, e.g.
    /// [`ErrorCode::IncorrectInstanceVSwitch`](crate::ErrorCode::IncorrectInstanceVSwitch).
    pub async fn send(self) -> Result<AssociateHaVipOutput, Error> {
        self.send_boxed().await
    }

    /// [`send`](Self::send)'s work, compiled once here (see `transport::BoxFuture`).
    #[inline(never)]
    fn send_boxed(self) -> BoxFuture<'static, Result<AssociateHaVipOutput, Error>> {
        Box::pin(self.send_work())
    }

    async fn send_work(self) -> Result<AssociateHaVipOutput, Error> {
        let check = self.checked()?;
        let mut req = check.request("AssociateHaVip");
        if let Some(t) = &self.instance_type {
            req.param("InstanceType", t.as_str());
        }
        self.overrides.apply(&mut req);
        let out = super::send_write(&self.transport, &req).await?;
        Ok(AssociateHaVipOutput {
            request_id: out.request_id,
            already_associated: out.already_applied,
            attempts: out.attempts,
            probes: out.probes,
        })
    }

    /// The ids, checked (for `send_and_wait`, in [`crate::waiter`]).
    pub(crate) fn ids(&self) -> Result<(String, String), Error> {
        let check = self.checked()?;
        Ok((check.ha_vip_id, check.instance_id))
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }
}

/// The answer to AssociateHaVip.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct AssociateHaVipOutput {
    request_id: String,
    already_associated: bool,
    attempts: u32,
    probes: u32,
}

output_builder!(AssociateHaVipOutput => AssociateHaVipOutputBuilder {
    request_id: String,
    already_associated: bool,
    attempts: u32,
    probes: u32,
});

impl AssociateHaVipOutput {
    /// The request id of the answer that settled the call.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// `true` when an attempt whose outcome was unknown (connection lost, timeout, 5xx) had
    /// made the association, as a check or a later `InstanceAlreadyAssociated` showed. See
    /// [`crate::retry`].
    pub fn already_associated(&self) -> bool {
        self.already_associated
    }

    /// How many attempts the call took.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// How many safe-write checks (DescribeHaVips calls) the call made besides its attempts.
    pub fn probes(&self) -> u32 {
        self.probes
    }
}
