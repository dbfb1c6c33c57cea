//! DeleteHaVips: delete HAVIPs.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{get_ha_vip_once, required_id, CallOverrides};
use crate::model::HaVipStatus;
use crate::transport::{BoxFuture, CheckFuture, SafeWrite, Transport, Verdict};
use crate::{Error, ErrorCode};

/// The most ids one call takes (the API documents no limit; this keeps a request bounded).
pub const MAX_HA_VIP_IDS: usize = 100;

/// Builder for DeleteHaVips; see [`Client::delete_ha_vips`](crate::Client::delete_ha_vips).
///
/// On the wire `HaVipIds` is one JSON array string, `["havip-a","havip-b"]`, exactly as
/// Alibaba's SDK sends it. Deletion is asynchronous (`Deleting`, then gone): wait with
/// [`Client::wait_until_deleted`](crate::Client::wait_until_deleted) or
/// [`send_and_wait`](Self::send_and_wait). An HAVIP that still has associations cannot be
/// deleted: unassociate first (the SDK never does it for you).
///
/// After an attempt whose outcome is unknown, the client checks with DescribeHaVips: when none
/// of the ids is listed any more (or each is `Deleting`), the call succeeds
/// ([`already_deleted`](DeleteHaVipsOutput::already_deleted)), whatever a repeated attempt
/// answered; otherwise the delete is sent again (deleting twice cannot delete anything else).
///
/// ```no_run
/// # async fn run(client: alibabacloud_ens::Client) -> Result<(), alibabacloud_ens::Error> {
/// client.delete_ha_vips().ha_vip_id("havip-a").ha_vip_id("havip-b").send().await?;
/// client.wait_until_deleted(["havip-a", "havip-b"]).wait().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `send` is awaited"]
pub struct DeleteHaVipsFluentBuilder {
    transport: Transport,
    ha_vip_ids: Vec<String>,
    overrides: CallOverrides,
}

impl fmt::Debug for DeleteHaVipsFluentBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeleteHaVipsFluentBuilder")
            .field("ha_vip_ids", &self.ha_vip_ids)
            .field("overrides", &self.overrides)
            .finish_non_exhaustive()
    }
}

impl DeleteHaVipsFluentBuilder {
    pub(crate) fn new(transport: Transport) -> Self {
        DeleteHaVipsFluentBuilder {
            transport,
            ha_vip_ids: Vec::new(),
            overrides: CallOverrides::default(),
        }
    }

    /// Adds one id to `HaVipIds`.
    pub fn ha_vip_id(mut self, id: impl Into<String>) -> Self {
        self.ha_vip_ids.push(id.into());
        self
    }

    /// `HaVipIds` (required, 1 to [`MAX_HA_VIP_IDS`]): replaces the ids to delete.
    pub fn ha_vip_ids<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.ha_vip_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    call_override_setters!();

    fn checked(&self) -> Result<DeleteCheck, Error> {
        if self.ha_vip_ids.is_empty() {
            return Err(Error::invalid_input("HaVipIds", "must not be empty"));
        }
        if self.ha_vip_ids.len() > MAX_HA_VIP_IDS {
            return Err(Error::invalid_input(
                "HaVipIds",
                format!(
                    "holds {} ids; at most {MAX_HA_VIP_IDS} are allowed",
                    self.ha_vip_ids.len()
                ),
            ));
        }
        let mut ids: Vec<String> = Vec::with_capacity(self.ha_vip_ids.len());
        for id in &self.ha_vip_ids {
            let id = required_id("HaVipIds", Some(id.clone()))?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(DeleteCheck {
            transport: self.transport.clone(),
            ids,
        })
    }

    /// Sends the request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (nothing sent) for no ids, too many, or a bad one; otherwise any
    /// [`Error`] the service or the network produces (an HAVIP that still has associations is
    /// refused).
    pub async fn send(self) -> Result<DeleteHaVipsOutput, Error> {
        self.send_boxed().await
    }

    /// [`send`](Self::send)'s work, compiled once here (see `transport::BoxFuture`).
    #[inline(never)]
    fn send_boxed(self) -> BoxFuture<'static, Result<DeleteHaVipsOutput, Error>> {
        Box::pin(self.send_work())
    }

    async fn send_work(self) -> Result<DeleteHaVipsOutput, Error> {
        let check = self.checked()?;
        let mut req = self.transport.request(
            "DeleteHaVips",
            crate::config::ENS_API_VERSION,
            reqwest::Method::POST,
        );
        // Compact JSON, as Alibaba's SDK writes it; ids are printable ASCII (checked).
        req.param(
            "HaVipIds",
            serde_json::to_string(&check.ids).unwrap_or_default(),
        );
        req.safe_write = Some(&check);
        self.overrides.apply(&mut req);
        let out = super::send_write(&self.transport, &req).await?;
        Ok(DeleteHaVipsOutput {
            request_id: out.request_id,
            already_deleted: out.already_applied,
            attempts: out.attempts,
            probes: out.probes,
        })
    }

    /// The ids, checked (for `send_and_wait`, in [`crate::waiter`]).
    pub(crate) fn ids(&self) -> Result<Vec<String>, Error> {
        Ok(self.checked()?.ids)
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }
}

/// The safe-write check of DeleteHaVips: is every id gone (or `Deleting`)?
struct DeleteCheck {
    transport: Transport,
    ids: Vec<String>,
}

impl SafeWrite for DeleteCheck {
    fn is_done_code(&self, _: &ErrorCode) -> bool {
        // The code for "already gone" is undocumented; the check decides.
        false
    }

    fn check(&self) -> CheckFuture<'_> {
        Box::pin(async move {
            let mut request_id = String::new();
            for id in &self.ids {
                match get_ha_vip_once(&self.transport, id).await {
                    Ok((None, rid)) => request_id = rid,
                    Ok((Some(h), rid)) if h.status == HaVipStatus::Deleting => request_id = rid,
                    Err(e) if e.code() == Some(&ErrorCode::HaVipNotFound) => {}
                    _ => return Verdict::NotApplied,
                }
            }
            Verdict::Applied {
                request_id,
                ids: Vec::new(),
            }
        })
    }
}

/// The answer to DeleteHaVips.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct DeleteHaVipsOutput {
    request_id: String,
    already_deleted: bool,
    attempts: u32,
    probes: u32,
}

output_builder!(DeleteHaVipsOutput => DeleteHaVipsOutputBuilder {
    request_id: String,
    already_deleted: bool,
    attempts: u32,
    probes: u32,
});

impl DeleteHaVipsOutput {
    /// The request id of the answer that settled the call.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// `true` when, after an attempt whose outcome was unknown, a check found every id gone or
    /// `Deleting`.
    pub fn already_deleted(&self) -> bool {
        self.already_deleted
    }

    /// How many attempts the call took.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// How many safe-write checks (DescribeHaVips calls per id) the call made besides its
    /// attempts.
    pub fn probes(&self) -> u32 {
        self.probes
    }
}
