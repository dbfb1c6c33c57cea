//! ModifyHaVipAttribute: rename an HAVIP.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{check_name, required_id, CallOverrides};
use crate::transport::{BoxFuture, Transport};
use crate::Error;

/// Builder for ModifyHaVipAttribute; see
/// [`Client::modify_ha_vip_attribute`](crate::Client::modify_ha_vip_attribute).
///
/// `Name` is the only attribute that can change, so it is required here (the API lets it be
/// left out). It must be 1–128 characters and not start with `http://` or `https://`; Unicode is
/// fine. Setting the same name again changes nothing, so a retry after an unknown outcome is
/// simply sent again.
///
/// ```no_run
/// # async fn run(client: alibabacloud_ens::Client) -> Result<(), alibabacloud_ens::Error> {
/// client.modify_ha_vip_attribute().ha_vip_id("havip-1").name("新名字").send().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `send` is awaited"]
pub struct ModifyHaVipAttributeFluentBuilder {
    transport: Transport,
    ha_vip_id: Option<String>,
    name: Option<String>,
    overrides: CallOverrides,
}

impl fmt::Debug for ModifyHaVipAttributeFluentBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModifyHaVipAttributeFluentBuilder")
            .field("ha_vip_id", &self.ha_vip_id)
            .field("name", &self.name)
            .field("overrides", &self.overrides)
            .finish_non_exhaustive()
    }
}

impl ModifyHaVipAttributeFluentBuilder {
    pub(crate) fn new(transport: Transport) -> Self {
        ModifyHaVipAttributeFluentBuilder {
            transport,
            ha_vip_id: None,
            name: None,
            overrides: CallOverrides::default(),
        }
    }

    /// `HaVipId` (required): the HAVIP to rename.
    pub fn ha_vip_id(mut self, id: impl Into<String>) -> Self {
        self.ha_vip_id = Some(id.into());
        self
    }

    /// `Name` (required): 1–128 characters, not starting with `http://` or `https://`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    call_override_setters!();

    /// Sends the request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (nothing sent) for a missing or bad `HaVipId` or `Name`;
    /// otherwise any [`Error`] the service or the network produces.
    pub async fn send(self) -> Result<ModifyHaVipAttributeOutput, Error> {
        self.send_boxed().await
    }

    /// [`send`](Self::send)'s work, compiled once here (see `transport::BoxFuture`).
    #[inline(never)]
    fn send_boxed(self) -> BoxFuture<'static, Result<ModifyHaVipAttributeOutput, Error>> {
        Box::pin(self.send_work())
    }

    async fn send_work(self) -> Result<ModifyHaVipAttributeOutput, Error> {
        let ha_vip_id = required_id("HaVipId", self.ha_vip_id)?;
        let name = match self.name {
            None => return Err(Error::invalid_input("Name", "is required")),
            Some(n) => {
                check_name("Name", &n)?;
                n
            }
        };
        let mut req = self.transport.request(
            "ModifyHaVipAttribute",
            crate::config::ENS_API_VERSION,
            reqwest::Method::POST,
        );
        req.param("HaVipId", ha_vip_id);
        req.param("Name", name);
        self.overrides.apply(&mut req);
        let out = super::send_write(&self.transport, &req).await?;
        Ok(ModifyHaVipAttributeOutput {
            request_id: out.request_id,
            attempts: out.attempts,
        })
    }
}

/// The answer to ModifyHaVipAttribute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ModifyHaVipAttributeOutput {
    request_id: String,
    attempts: u32,
}

output_builder!(ModifyHaVipAttributeOutput => ModifyHaVipAttributeOutputBuilder {
    request_id: String,
    attempts: u32,
});

impl ModifyHaVipAttributeOutput {
    /// The request id.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// How many attempts the call took.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}
