//! UnassociateHaVip: remove the association between an HAVIP and an ENS instance or ENI.

use std::fmt;

use super::{pair_write_request, CallOverrides};
use crate::transport::{AppliedProbe, OperationRequest};
use crate::{Client, Error};

/// Builder for UnassociateHaVip; see [`Client::unassociate_ha_vip`].
///
/// Asynchronous like AssociateHaVip: use [`Client::wait_until_unassociated`] to know when the
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
    client: Client,
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
    pub(crate) fn new(client: Client) -> Self {
        UnassociateHaVipFluentBuilder {
            client,
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

    /// Checks the input and builds the request, moving the ids into it.
    fn into_request(self) -> Result<(Client, OperationRequest), Error> {
        let mut req = pair_write_request(
            &self.client,
            "UnassociateHaVip",
            self.ha_vip_id,
            self.instance_id,
            AppliedProbe::Unassociated,
        )?;
        self.overrides.apply(&mut req);
        Ok((self.client, req))
    }

    /// Sends the request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (nothing sent) when `HaVipId` or `InstanceId` is missing or
    /// blank; otherwise any [`Error`] the service or the network produces, e.g.
    /// [`ErrorCode::InstanceNotAssociated`](crate::ErrorCode::InstanceNotAssociated).
    pub async fn send(self) -> Result<UnassociateHaVipOutput, Error> {
        let (client, req) = self.into_request()?;
        let out = super::send_write(&client, &req).await?;
        Ok(UnassociateHaVipOutput {
            request_id: out.request_id,
            already_unassociated: out.already_applied,
            attempts: out.attempts,
        })
    }
}

/// The answer to UnassociateHaVip.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnassociateHaVipOutput {
    request_id: String,
    already_unassociated: bool,
    attempts: u32,
}

impl UnassociateHaVipOutput {
    /// The request id of the answer that settled the call.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// `true` when an attempt whose outcome was unknown was followed by
    /// `InstanceNotAssociated`: the earlier attempt removed the association. See
    /// [`crate::retry`].
    pub fn already_unassociated(&self) -> bool {
        self.already_unassociated
    }

    /// How many attempts the call took.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}
