//! AssociateHaVip: associate an HAVIP with an ENS instance or an ENI.

use std::fmt;

use super::{pair_write_request, CallOverrides};
use crate::transport::{AppliedProbe, OperationRequest};
use crate::{Client, Error, InstanceType};

/// Builder for AssociateHaVip; see [`Client::associate_ha_vip`].
///
/// The association is asynchronous: the answer only means the service accepted it. Use
/// [`Client::wait_until_in_use`] (or [`send_and_wait`](Self::send_and_wait)) to know when it is
/// in effect.
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
    client: Client,
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
    pub(crate) fn new(client: Client) -> Self {
        AssociateHaVipFluentBuilder {
            client,
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

    /// Checks the input and builds the request, moving the ids into it.
    fn into_request(self) -> Result<(Client, OperationRequest), Error> {
        let mut req = pair_write_request(
            &self.client,
            "AssociateHaVip",
            self.ha_vip_id,
            self.instance_id,
            AppliedProbe::Associated,
        )?;
        if let Some(t) = &self.instance_type {
            let wire = t.as_str();
            if wire.trim().is_empty() {
                return Err(Error::invalid_input("InstanceType", "must not be blank"));
            }
            req.param("InstanceType", wire);
        }
        self.overrides.apply(&mut req);
        Ok((self.client, req))
    }

    /// Sends the request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (nothing sent) when `HaVipId` or `InstanceId` is missing or
    /// blank; otherwise any [`Error`] the service or the network produces, e.g.
    /// [`ErrorCode::IncorrectInstanceVSwitch`](crate::ErrorCode::IncorrectInstanceVSwitch).
    pub async fn send(self) -> Result<AssociateHaVipOutput, Error> {
        let (client, req) = self.into_request()?;
        let out = super::send_write(&client, &req).await?;
        Ok(AssociateHaVipOutput {
            request_id: out.request_id,
            already_associated: out.already_applied,
            attempts: out.attempts,
        })
    }

    /// Sends the request, then waits with the default waiter settings until the association is
    /// in use (see [`Client::wait_until_in_use`]).
    ///
    /// # Errors
    /// As [`send`](Self::send), then as [`crate::waiter::WaitUntilInUse::wait`].
    pub async fn send_and_wait(self) -> Result<crate::waiter::WaitOutput, Error> {
        let client = self.client.clone();
        let ha_vip_id = self.ha_vip_id.clone().unwrap_or_default();
        let instance_id = self.instance_id.clone().unwrap_or_default();
        self.send().await?;
        client
            .wait_until_in_use(ha_vip_id, instance_id)
            .wait()
            .await
    }
}

/// The answer to AssociateHaVip.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AssociateHaVipOutput {
    request_id: String,
    already_associated: bool,
    attempts: u32,
}

impl AssociateHaVipOutput {
    /// The request id of the answer that settled the call.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// `true` when an attempt whose outcome was unknown (connection lost, timeout, 5xx) was
    /// followed by `InstanceAlreadyAssociated`: the earlier attempt made the association. See
    /// [`crate::retry`].
    pub fn already_associated(&self) -> bool {
        self.already_associated
    }

    /// How many attempts the call took.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}
