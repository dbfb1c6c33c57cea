//! A check a controller can run before associating an instance with an HAVIP
//! ([`Client::preflight_association`](crate::Client::preflight_association); cargo features
//! `instance` and `eni`): is the instance `Running` or `Stopped` (what AssociateHaVip allows),
//! is it in the HAVIP's vSwitch, and which is its primary ENI (the one AssociateHaVip's
//! documentation says to use with `InstanceType=NetworkInterface`).
//!
//! It reads only: DescribeHaVips, DescribeInstances and DescribeNetworkInterfaces
//! (`Type=Primary`), through the client's retry policy. The verdict
//! ([`AssociationPreflight::can_associate`]) names the first reason AssociateHaVip would refuse,
//! with the code it would answer ([`CannotAssociate::code`]); [`AssociationPreflight::reasons`]
//! lists them all.
//!
//! ```no_run
//! # async fn run(client: alibabacloud_ens::Client) -> Result<(), alibabacloud_ens::Error> {
//! let check = client.preflight_association("havip-5p14t****", "i-50c4****").await?;
//! match check.can_associate() {
//!     Ok(()) => {
//!         println!("primary ENI: {:?}", check.primary_network_interface_id());
//!         client.ensure_associated("havip-5p14t****", "i-50c4****").send().await?;
//!     }
//!     Err(why) => eprintln!("not associating: {why} ({})", why.code()),
//! }
//! # Ok(()) }
//! ```
//!
//! What it does not judge: an HAVIP still `Creating` (not a refusal: `ensure_associated` waits
//! it out), the limits on instances per HAVIP and HAVIPs per instance (ENS does not publish
//! them), and anything that changes between this check and the write.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Escaped, MAX_ID_CHARS};
use crate::generated::eni::describe_network_interfaces::NetworkInterfaceSet;
use crate::generated::instance::describe_instances::Instance;
use crate::model::{HaVip, HaVipStatus};
use crate::transport::BoxFuture;
use crate::{Client, Error, ErrorCode};

/// The instance statuses AssociateHaVip allows.
const ALLOWED_STATUSES: [&str; 2] = ["Running", "Stopped"];

/// What [`Client::preflight_association`](crate::Client::preflight_association) found: the
/// HAVIP, the instance and its primary ENI as listed, and the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct AssociationPreflight {
    ha_vip_id: String,
    instance_id: String,
    ha_vip: Option<HaVip>,
    instance: Option<Instance>,
    primary_network_interface: Option<NetworkInterfaceSet>,
}

output_builder!(AssociationPreflight => AssociationPreflightBuilder {
    ha_vip_id: String,
    instance_id: String,
    ha_vip: Option<HaVip>,
    instance: Option<Instance>,
    primary_network_interface: Option<NetworkInterfaceSet>,
});

impl AssociationPreflight {
    /// The HAVIP asked about.
    pub fn ha_vip_id(&self) -> &str {
        &self.ha_vip_id
    }

    /// The instance asked about.
    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// The HAVIP as DescribeHaVips lists it (`None`: it does not exist).
    pub fn ha_vip(&self) -> Option<&HaVip> {
        self.ha_vip.as_ref()
    }

    /// The instance as DescribeInstances lists it (`None`: it does not exist).
    pub fn instance(&self) -> Option<&Instance> {
        self.instance.as_ref()
    }

    /// The instance's `Status` (`Running`, `Stopped`, `Starting`, …; `None` when the instance
    /// does not exist).
    pub fn instance_status(&self) -> Option<&str> {
        self.instance.as_ref()?.status.as_deref()
    }

    /// The instance's vSwitch: its `NetworkAttributes.VSwitchId`, else its primary ENI's.
    pub fn instance_vswitch_id(&self) -> Option<&str> {
        let from_instance = self
            .instance
            .as_ref()
            .and_then(|i| i.network_attributes.as_ref())
            .and_then(|n| n.vswitch_id.as_deref());
        let from_eni = || {
            self.primary_network_interface
                .as_ref()?
                .vswitch_id
                .as_deref()
        };
        from_instance
            .filter(|v| !v.is_empty())
            .or_else(from_eni)
            .filter(|v| !v.is_empty())
    }

    /// `true` when the instance is in the HAVIP's vSwitch (both listed, the vSwitch known).
    pub fn in_ha_vip_vswitch(&self) -> bool {
        match (&self.ha_vip, self.instance_vswitch_id()) {
            (Some(h), Some(v)) => h.vswitch_id == v,
            _ => false,
        }
    }

    /// The instance's primary ENI as DescribeNetworkInterfaces lists it.
    pub fn primary_network_interface(&self) -> Option<&NetworkInterfaceSet> {
        self.primary_network_interface.as_ref()
    }

    /// The instance's primary ENI id: what to associate with `InstanceType=NetworkInterface`.
    pub fn primary_network_interface_id(&self) -> Option<&str> {
        self.primary_network_interface
            .as_ref()?
            .network_interface_id
            .as_deref()
    }

    /// `Ok` when AssociateHaVip should accept the instance; else the first reason it would
    /// refuse (in the order of [`reasons`](Self::reasons)).
    ///
    /// # Errors
    /// The first [`CannotAssociate`].
    pub fn can_associate(&self) -> Result<(), CannotAssociate> {
        match self.reasons().into_iter().next() {
            None => Ok(()),
            Some(why) => Err(why),
        }
    }

    /// Every reason AssociateHaVip would refuse the instance: the HAVIP gone or being deleted,
    /// the instance gone, its status, its vSwitch. Empty when it can be associated.
    pub fn reasons(&self) -> Vec<CannotAssociate> {
        let mut why = Vec::new();
        match &self.ha_vip {
            None => why.push(CannotAssociate::HaVipNotFound {
                ha_vip_id: self.ha_vip_id.clone(),
            }),
            Some(h) if h.status == HaVipStatus::Deleting => {
                why.push(CannotAssociate::HaVipDeleting {
                    ha_vip_id: self.ha_vip_id.clone(),
                });
            }
            Some(_) => {}
        }
        if self.instance.is_none() {
            why.push(CannotAssociate::InstanceNotFound {
                instance_id: self.instance_id.clone(),
            });
            return why;
        }
        let status = self.instance_status().unwrap_or("");
        if !ALLOWED_STATUSES.contains(&status) {
            why.push(CannotAssociate::InstanceStatus {
                instance_id: self.instance_id.clone(),
                status: status.to_owned(),
            });
        }
        if let Some(h) = &self.ha_vip {
            if !self.in_ha_vip_vswitch() {
                why.push(CannotAssociate::OtherVSwitch {
                    instance_id: self.instance_id.clone(),
                    instance_vswitch_id: self.instance_vswitch_id().map(str::to_owned),
                    ha_vip_id: self.ha_vip_id.clone(),
                    ha_vip_vswitch_id: h.vswitch_id.clone(),
                });
            }
        }
        why
    }
}

/// Why AssociateHaVip would refuse an instance, as
/// [`AssociationPreflight::can_associate`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CannotAssociate {
    /// The HAVIP does not exist (deleted, or never created).
    HaVipNotFound {
        /// The HAVIP.
        ha_vip_id: String,
    },
    /// The HAVIP is being deleted.
    HaVipDeleting {
        /// The HAVIP.
        ha_vip_id: String,
    },
    /// The instance does not exist.
    InstanceNotFound {
        /// The instance.
        instance_id: String,
    },
    /// The instance is neither `Running` nor `Stopped`.
    InstanceStatus {
        /// The instance.
        instance_id: String,
        /// Its status as listed (`Starting`, `Stopping`, `Pending`, …).
        status: String,
    },
    /// The instance is not in the HAVIP's vSwitch.
    OtherVSwitch {
        /// The instance.
        instance_id: String,
        /// Its vSwitch (`None`: it lists none).
        instance_vswitch_id: Option<String>,
        /// The HAVIP.
        ha_vip_id: String,
        /// The HAVIP's vSwitch.
        ha_vip_vswitch_id: String,
    },
}

impl CannotAssociate {
    /// The code AssociateHaVip answers for this reason.
    pub fn code(&self) -> ErrorCode {
        match self {
            CannotAssociate::HaVipNotFound { .. } => ErrorCode::HaVipNotFound,
            CannotAssociate::HaVipDeleting { .. } => ErrorCode::IncorrectHaVipStatus,
            CannotAssociate::InstanceNotFound { .. } => ErrorCode::InstanceNotFound,
            CannotAssociate::InstanceStatus { .. } => ErrorCode::IncorrectInstanceStatus,
            CannotAssociate::OtherVSwitch { .. } => ErrorCode::IncorrectInstanceVSwitch,
        }
    }
}

impl fmt::Display for CannotAssociate {
    /// One sentence; text from the service is bounded and escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = |s: &str| Escaped::new(s, MAX_ID_CHARS).to_string();
        match self {
            CannotAssociate::HaVipNotFound { ha_vip_id } => write!(
                f,
                "{} does not exist (deleted, or never created)",
                id(ha_vip_id)
            ),
            CannotAssociate::HaVipDeleting { ha_vip_id } => {
                write!(f, "{} is being deleted", id(ha_vip_id))
            }
            CannotAssociate::InstanceNotFound { instance_id } => {
                write!(f, "{} does not exist", id(instance_id))
            }
            CannotAssociate::InstanceStatus {
                instance_id,
                status,
            } => write!(
                f,
                "{} is {}; AssociateHaVip wants it Running or Stopped",
                id(instance_id),
                if status.is_empty() {
                    "in no status".to_owned()
                } else {
                    id(status)
                }
            ),
            CannotAssociate::OtherVSwitch {
                instance_id,
                instance_vswitch_id,
                ha_vip_id,
                ha_vip_vswitch_id,
            } => write!(
                f,
                "{} is in {}, {} in {}; AssociateHaVip wants the instance in the HAVIP's vSwitch",
                id(instance_id),
                instance_vswitch_id
                    .as_deref()
                    .map_or_else(|| "no vSwitch".to_owned(), id),
                id(ha_vip_id),
                id(ha_vip_vswitch_id)
            ),
        }
    }
}

impl std::error::Error for CannotAssociate {}

/// [`Client::preflight_association`](crate::Client::preflight_association)'s work, compiled once
/// here (see `transport::BoxFuture`).
#[inline(never)]
pub(crate) fn run(
    client: &Client,
    ha_vip_id: String,
    instance_id: String,
) -> BoxFuture<'_, Result<AssociationPreflight, Error>> {
    Box::pin(async move {
        crate::operation::check_id("HaVipId", &ha_vip_id)?;
        crate::operation::check_id("InstanceId", &instance_id)?;
        let ha_vip = client.get_ha_vip(&ha_vip_id).await?;
        let instance = match client
            .describe_instances()
            .instance_id(instance_id.as_str())
            .send()
            .await
        {
            Ok(out) => out
                .instances
                .into_iter()
                .find(|i| i.instance_id.as_deref() == Some(instance_id.as_str())),
            Err(e) if e.code() == Some(&ErrorCode::InstanceNotFound) => None,
            Err(e) => return Err(e),
        };
        let primary_network_interface = match &instance {
            None => None,
            Some(_) => client
                .describe_network_interfaces()
                .instance_id(instance_id.as_str())
                .r#type("Primary")
                .send()
                .await?
                .network_interface_sets
                .into_iter()
                .find(|e| {
                    e.instance_id.as_deref() == Some(instance_id.as_str())
                        && e.r#type.as_deref() == Some("Primary")
                }),
        };
        Ok(AssociationPreflight {
            ha_vip_id,
            instance_id,
            ha_vip,
            instance,
            primary_network_interface,
        })
    })
}
