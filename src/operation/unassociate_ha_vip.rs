//! UnassociateHaVip: remove the association between an HAVIP and an ENS instance or ENI.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{CallOverrides, PairCheck};
use crate::transport::{BoxFuture, Transport};
use crate::Error;

/// Builder for UnassociateHaVip; see
/// [`Client::unassociate_ha_vip`](crate::Client::unassociate_ha_vip).
///
/// Asynchronous like AssociateHaVip: use
/// [`Client::wait_until_unassociated`](crate::Client::wait_until_unassociated) to know when the
/// association is gone.
///
/// ```no_run
/// # async fn run(client: alibabacloud_ens::Client) -> Result<(), alibabacloud_ens::Error> {
/// client.unassociate_ha_vip().ha_vip_id("havip-5p14t****").instance_id("i-50c4****").send().await?;
/// client.wait_until_unassociated("havip-5p14t****", "i-50c4****").wait().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `send` is awaited"]
pub struct UnassociateHaVipFluentBuilder {
    transport: Transport,
    ha_vip_id: Option<String>,
    instance_id: Option<String>,
    overrides: CallOverrides,
}

impl fmt::Debug for UnassociateHaVipFluentBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnassociateHaVipFluentBuilder")
            .field("ha_vip_id", &self.ha_vip_id)
            .field("instance_id", &self.instance_id)
            .field("overrides", &self.overrides)
            .finish_non_exhaustive()
    }
}

impl UnassociateHaVipFluentBuilder {
    pub(crate) fn new(transport: Transport) -> Self {
        UnassociateHaVipFluentBuilder {
            transport,
            ha_vip_id: None,
            instance_id: None,
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

    call_override_setters!();

    /// Sends the request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (nothing sent) when `HaVipId` or `InstanceId` is missing or
    /// blank; otherwise any [`Error`] the service or the network produces, e.g.
    /// [`ErrorCode::InstanceNotAssociated`](crate::ErrorCode::InstanceNotAssociated).
    pub async fn send(self) -> Result<UnassociateHaVipOutput, Error> {
        self.send_boxed().await
    }

    /// [`send`](Self::send)'s work, compiled once here (see `transport::BoxFuture`).
    #[inline(never)]
    fn send_boxed(self) -> BoxFuture<'static, Result<UnassociateHaVipOutput, Error>> {
        Box::pin(self.send_work())
    }

    async fn send_work(self) -> Result<UnassociateHaVipOutput, Error> {
        let check = PairCheck::new(&self.transport, self.ha_vip_id, self.instance_id, false)?;
        let mut req = check.request("UnassociateHaVip");
        self.overrides.apply(&mut req);
        let out = super::send_write(&self.transport, &req).await?;
        Ok(UnassociateHaVipOutput {
            request_id: out.request_id,
            already_unassociated: out.already_applied,
            attempts: out.attempts,
            probes: out.probes,
        })
    }
}

/// The answer to UnassociateHaVip.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct UnassociateHaVipOutput {
    request_id: String,
    already_unassociated: bool,
    attempts: u32,
    probes: u32,
}

output_builder!(UnassociateHaVipOutput => UnassociateHaVipOutputBuilder {
    request_id: String,
    already_unassociated: bool,
    attempts: u32,
    probes: u32,
});

impl UnassociateHaVipOutput {
    /// The request id of the answer that settled the call.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// `true` when an attempt whose outcome was unknown had removed the association, as a
    /// check or a later `InstanceNotAssociated` showed. See [`crate::retry`].
    pub fn already_unassociated(&self) -> bool {
        self.already_unassociated
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
