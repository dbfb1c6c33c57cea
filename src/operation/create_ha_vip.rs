//! CreateHaVip: create one or more HAVIPs in a vSwitch.

use std::fmt;
use std::net::Ipv4Addr;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{check_id, check_name, check_text, CallOverrides};
use crate::error::OutcomeUnknown;
use crate::lenient::{Listed, Text};
use crate::model::HaVip;
use crate::transport::{BoxFuture, CheckFuture, Outcome, SafeWrite, Transport, Verdict};
use crate::wire::HasRequestId;
use crate::{Error, ErrorCode, RetryConfig};

/// The most HAVIPs one CreateHaVip makes.
pub const MAX_AMOUNT: u32 = 10;

/// How far before the first attempt an HAVIP's `CreationTime` may lie and still count as made by
/// this call (the client's and the service's clocks may differ).
const CLOCK_TOLERANCE: time::Duration = time::Duration::minutes(2);

/// Builder for CreateHaVip; see [`Client::create_ha_vip`](crate::Client::create_ha_vip).
///
/// Creation is asynchronous: the HAVIPs start `Creating`. Wait with
/// [`Client::wait_until_available`](crate::Client::wait_until_available) (or
/// [`send_and_wait`](Self::send_and_wait)).
///
/// `VSwitchId` is required here although the API marks it optional: CreateHaVip has no other
/// placement parameter (Terraform's provider requires it too). `Name` follows the rule
/// documented for ModifyHaVipAttribute (1–128 characters, not starting with `http://` or
/// `https://`), checked before sending; Unicode is fine.
///
/// ## Retries never make a second HAVIP
/// CreateHaVip takes no `ClientToken`. After an attempt whose outcome is unknown (connection
/// lost after sending, timeout, 5xx), the client asks DescribeHaVips what the attempt did:
/// * with `IpAddress`: an HAVIP with that address in the vSwitch, created since the call began,
///   is the one this call made (success, [`already_created`](CreateHaVipOutput::already_created));
///   none means the attempt did not take effect, and writing again is safe (the address
///   cannot be taken twice);
/// * without `IpAddress`: exactly `Amount` HAVIPs with this `Name` in the vSwitch, created since
///   the call began, are this call's (success); anything else ends the call with
///   [`Error::OutcomeUnknown`], which names the vSwitch, the name and the time window to look
///   in, and lists the candidates it saw. The write is never sent again blindly.
///
/// ```no_run
/// # async fn run(client: alibabacloud_ens::Client) -> Result<(), alibabacloud_ens::Error> {
/// let out = client
///     .create_ha_vip()
///     .vswitch_id("vsw-5p1a****")
///     .name("高可用 vip")
///     .send()
///     .await?;
/// let ready = client.wait_until_available(out.ha_vip_ids()).wait().await?;
/// println!("{}", ready.ha_vips()[0].ip_address);
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `send` is awaited"]
pub struct CreateHaVipFluentBuilder {
    transport: Transport,
    vswitch_id: Option<String>,
    ip_address: Option<String>,
    amount: Option<u32>,
    name: Option<String>,
    description: Option<String>,
    overrides: CallOverrides,
}

impl fmt::Debug for CreateHaVipFluentBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateHaVipFluentBuilder")
            .field("vswitch_id", &self.vswitch_id)
            .field("ip_address", &self.ip_address)
            .field("amount", &self.amount)
            .field("name", &self.name)
            .field("description", &self.description)
            .field("overrides", &self.overrides)
            .finish_non_exhaustive()
    }
}

impl CreateHaVipFluentBuilder {
    pub(crate) fn new(transport: Transport) -> Self {
        CreateHaVipFluentBuilder {
            transport,
            vswitch_id: None,
            ip_address: None,
            amount: None,
            name: None,
            description: None,
            overrides: CallOverrides::default(),
        }
    }

    /// `VSwitchId` (required): the vSwitch the HAVIPs belong to.
    pub fn vswitch_id(mut self, id: impl Into<String>) -> Self {
        self.vswitch_id = Some(id.into());
        self
    }

    /// `IpAddress`: a fixed IPv4 address from the vSwitch's CIDR (default: the service picks a
    /// free one). Only with `Amount` 1.
    pub fn ip_address(mut self, ip: impl Into<String>) -> Self {
        self.ip_address = Some(ip.into());
        self
    }

    /// `Amount`: how many HAVIPs, 1 to [`MAX_AMOUNT`] (default 1).
    pub fn amount(mut self, n: u32) -> Self {
        self.amount = Some(n);
        self
    }

    /// `Name`: 1–128 characters, not starting with `http://` or `https://`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// `Description`: at most 256 characters, no control characters. It cannot be changed later.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    call_override_setters!();

    /// Checks the input (nothing is sent when it is bad) and makes the safe-write check.
    fn checked(&self) -> Result<CreateCheck, Error> {
        let vswitch_id = check_id("VSwitchId", self.vswitch_id.as_deref().unwrap_or(""))
            .map_err(|e| match self.vswitch_id {
                None => Error::invalid_input("VSwitchId", "is required"),
                Some(_) => e,
            })?
            .to_owned();
        let amount = self.amount.unwrap_or(1);
        if !(1..=MAX_AMOUNT).contains(&amount) {
            return Err(Error::invalid_input(
                "Amount",
                format!("is {amount}; it must be between 1 and {MAX_AMOUNT}"),
            ));
        }
        let ip_address = match &self.ip_address {
            None => None,
            Some(ip) => {
                let parsed: Ipv4Addr = ip.trim().parse().map_err(|_| {
                    Error::invalid_input("IpAddress", format!("{ip:?} is not an IPv4 address"))
                })?;
                if amount != 1 {
                    return Err(Error::invalid_input(
                        "Amount",
                        format!("is {amount}; it must be 1 when IpAddress is given"),
                    ));
                }
                Some(parsed.to_string())
            }
        };
        if let Some(n) = &self.name {
            check_name("Name", n)?;
        }
        if let Some(d) = &self.description {
            check_text("Description", d, 256)?;
        }
        Ok(CreateCheck {
            transport: self.transport.clone(),
            vswitch_id,
            ip_address,
            amount,
            name: self.name.clone(),
            started: OffsetDateTime::from(self.transport.clock().system_time()),
        })
    }

    /// Sends the request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (nothing sent) for a missing `VSwitchId`, an `Amount` out of
    /// range (or above 1 with an `IpAddress`), a bad address, name or description;
    /// [`Error::OutcomeUnknown`] when an attempt may have created HAVIPs that cannot be told
    /// apart (see above); otherwise any [`Error`] the service or the network produces.
    pub async fn send(self) -> Result<CreateHaVipOutput, Error> {
        self.send_boxed().await
    }

    /// [`send`](Self::send)'s work, compiled once here (see `transport::BoxFuture`).
    #[inline(never)]
    fn send_boxed(self) -> BoxFuture<'static, Result<CreateHaVipOutput, Error>> {
        Box::pin(self.send_work())
    }

    async fn send_work(self) -> Result<CreateHaVipOutput, Error> {
        let check = self.checked()?;
        let mut req = self.transport.request(
            "CreateHaVip",
            crate::config::ENS_API_VERSION,
            reqwest::Method::POST,
        );
        req.param("VSwitchId", check.vswitch_id.as_str());
        if let Some(ip) = &check.ip_address {
            req.param("IpAddress", ip.as_str());
        }
        req.param("Amount", check.amount.to_string());
        if let Some(n) = &self.name {
            req.param("Name", n.as_str());
        }
        if let Some(d) = &self.description {
            req.param("Description", d.as_str());
        }
        req.safe_write = Some(&check);
        self.overrides.apply(&mut req);
        let settled = self.transport.invoke(&req).await?;
        let counts = (settled.attempts, settled.probes);
        let (request_id, ha_vip_ids, already_created) = match settled.outcome {
            Outcome::AlreadyApplied { request_id, ids } => {
                (request_id.unwrap_or_default(), ids, true)
            }
            Outcome::Answered(raw) => {
                let (body, id) = raw
                    .decode::<Body>(&req.action)
                    .map_err(|e| e.with_counts(counts.0, counts.1))?;
                let ids = body.ha_vip_ids.0.into_iter().filter_map(|t| t.0).collect();
                (id, ids, false)
            }
        };
        Ok(CreateHaVipOutput {
            request_id,
            ha_vip_ids,
            already_created,
            attempts: counts.0,
            probes: counts.1,
        })
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }
}

/// The answer's body.
#[derive(Debug, Default, Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase", default)]
struct Body {
    #[serde(alias = "requestId")]
    request_id: Text,
    #[serde(rename = "HaVipIds")]
    ha_vip_ids: Listed<Text>,
}

object_only!(@de Body, "a CreateHaVip answer");

impl HasRequestId for Body {
    fn body_request_id(&self) -> Option<&str> {
        self.request_id.0.as_deref()
    }
}

/// The safe-write check of CreateHaVip (see the builder's documentation).
struct CreateCheck {
    transport: Transport,
    vswitch_id: String,
    ip_address: Option<String>,
    amount: u32,
    name: Option<String>,
    started: OffsetDateTime,
}

impl CreateCheck {
    /// HAVIPs listed now that this call may have made: same vSwitch (and address, and name when
    /// given), created since the call began (allowing for clock differences).
    async fn candidates(&self) -> Result<(Vec<HaVip>, String), Error> {
        let mut describe = crate::operation::describe_ha_vips::DescribeHaVipsFluentBuilder::new(
            self.transport.clone(),
        )
        .vswitch_id(self.vswitch_id.as_str())
        .page_size(crate::operation::describe_ha_vips::MAX_PAGE_SIZE)
        .retry_config(RetryConfig::disabled());
        if let Some(ip) = &self.ip_address {
            describe = describe.ha_vip_address(ip.as_str());
        }
        if let Some(n) = &self.name {
            describe = describe.name(n.as_str());
        }
        let mut pages = describe.into_paginator();
        let mut found = Vec::new();
        let mut request_id = String::new();
        while let Some(page) = pages.next_page().await {
            let page = page?;
            request_id = page.request_id().to_owned();
            found.extend(
                page.into_ha_vips()
                    .into_iter()
                    .filter(|h| self.made_by_us(h)),
            );
        }
        Ok((found, request_id))
    }

    fn made_by_us(&self, h: &HaVip) -> bool {
        h.vswitch_id == self.vswitch_id
            && self
                .ip_address
                .as_ref()
                .is_none_or(|ip| &h.ip_address == ip)
            && self.name.as_ref().is_none_or(|n| &h.name == n)
            && h.creation_time
                .is_none_or(|t| t >= self.started - CLOCK_TOLERANCE)
    }

    fn unknown(&self, reason: String, candidates: Vec<String>) -> Verdict {
        let now = OffsetDateTime::from(self.transport.clock().system_time());
        Verdict::Unknown(Error::OutcomeUnknown(Box::new(OutcomeUnknown {
            action: "CreateHaVip".into(),
            reason,
            vswitch_id: self.vswitch_id.clone(),
            name: self.name.clone(),
            ip_address: self.ip_address.clone(),
            window_start: SystemTime::from(self.started - CLOCK_TOLERANCE),
            window_end: SystemTime::from(now),
            candidates,
            attempts: 0,
            probes: 0,
            source: None,
        })))
    }
}

impl SafeWrite for CreateCheck {
    fn is_done_code(&self, _: &ErrorCode) -> bool {
        // No code proves a create took effect; the check decides.
        false
    }

    fn check(&self) -> CheckFuture<'_> {
        Box::pin(async move {
            let (found, request_id) = match self.candidates().await {
                Ok(found) => found,
                // With a fixed address, writing again cannot make a second HAVIP.
                Err(_) if self.ip_address.is_some() => return Verdict::NotApplied,
                Err(e) => {
                    return self.unknown(
                        format!("checking what the attempt did failed too ({e})"),
                        Vec::new(),
                    )
                }
            };
            let ids: Vec<String> = found.into_iter().map(|h| h.ha_vip_id).collect();
            match (&self.ip_address, &self.name) {
                (Some(_), _) if ids.len() == 1 => Verdict::Applied { request_id, ids },
                (Some(_), _) if ids.is_empty() => Verdict::NotApplied,
                (None, Some(_)) if ids.len() == self.amount as usize => {
                    Verdict::Applied { request_id, ids }
                }
                (None, None) => self.unknown(
                    "the HAVIPs it may have made have no name or address to tell them by".into(),
                    ids,
                ),
                _ => self.unknown(
                    format!(
                        "{} HAVIP(s) match where {} were asked for",
                        ids.len(),
                        self.amount
                    ),
                    ids,
                ),
            }
        })
    }
}

/// The answer to CreateHaVip.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct CreateHaVipOutput {
    request_id: String,
    #[serde(rename = "HaVipIds")]
    ha_vip_ids: Vec<String>,
    already_created: bool,
    attempts: u32,
    probes: u32,
}

output_builder!(CreateHaVipOutput => CreateHaVipOutputBuilder {
    request_id: String,
    ha_vip_ids: Vec<String>,
    already_created: bool,
    attempts: u32,
    probes: u32,
});

impl CreateHaVipOutput {
    /// The request id of the answer that settled the call.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The ids of the HAVIPs created (one per `Amount`).
    pub fn ha_vip_ids(&self) -> &[String] {
        &self.ha_vip_ids
    }

    /// `true` when an attempt whose outcome was unknown had created the HAVIPs, as a check
    /// showed (see the builder's documentation).
    pub fn already_created(&self) -> bool {
        self.already_created
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
