//! The emulator's resources and the rules of the HAVIP operations.
//!
//! Everything here is synchronous and runs under one lock. Time-driven transitions
//! (`Associating` → `InUse`, `Unassociating` → removed) are computed lazily: every read or write
//! first calls [`State::settle`], which compares each pending deadline with
//! [`Instant::now`]. No background timer exists.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::model::{AssociatedInstance, AssociationStatus, HaVip, HaVipStatus, InstanceType};

use super::params::{given, AssociateParams, DescribeParams, UnassociateParams};
use super::ApiError;

/// The ENS region (edge node) every resource is placed in unless stated otherwise.
pub const DEFAULT_ENS_REGION_ID: &str = "cn-hangzhou-emulator";
/// The network every vSwitch belongs to unless stated otherwise.
pub const DEFAULT_NETWORK_ID: &str = "n-emulator";

macro_rules! status_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vdoc:meta])* $variant:ident => $wire:literal, )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )*
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )* ];

            /// The value's name, as ENS spells it.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $( $name::$variant => $wire, )*
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

status_enum! {
    /// The status of an emulated ENS instance.
    ///
    /// AssociateHaVip accepts an instance that is [`Running`](InstanceStatus::Running) or
    /// [`Stopped`](InstanceStatus::Stopped); any other status answers `IncorrectInstanceStatus`.
    InstanceStatus {
        /// `Pending`: being created.
        Pending => "Pending",
        /// `Starting`: booting.
        Starting => "Starting",
        /// `Running`: running (AssociateHaVip allowed).
        Running => "Running",
        /// `Stopping`: shutting down.
        Stopping => "Stopping",
        /// `Stopped`: stopped (AssociateHaVip allowed).
        Stopped => "Stopped",
        /// `Expired`: its subscription expired.
        Expired => "Expired",
        /// `Releasing`: being released.
        Releasing => "Releasing",
    }
}

status_enum! {
    /// The type of an emulated elastic network interface (ENI).
    ///
    /// AssociateHaVip supports [`Primary`](NetworkInterfaceType::Primary) ENIs only; a
    /// [`Secondary`](NetworkInterfaceType::Secondary) one answers
    /// `NetworkInterfaceTypeNotSupported`. (ENS does not publish which types it refuses; this
    /// split is the emulator's assumption.)
    NetworkInterfaceType {
        /// `Primary`: the instance's primary ENI (supported by AssociateHaVip).
        Primary => "Primary",
        /// `Secondary`: an extra ENI (refused with `NetworkInterfaceTypeNotSupported`).
        Secondary => "Secondary",
    }
}

status_enum! {
    /// The status of an emulated ENI.
    ///
    /// AssociateHaVip accepts an ENI that is [`Available`](NetworkInterfaceStatus::Available)
    /// or [`InUse`](NetworkInterfaceStatus::InUse); any other status answers
    /// `IncorrectNetworkInterfaceStatus`.
    NetworkInterfaceStatus {
        /// `Creating`: being created.
        Creating => "Creating",
        /// `Available`: detached (AssociateHaVip allowed).
        Available => "Available",
        /// `Attaching`: being attached to an instance.
        Attaching => "Attaching",
        /// `InUse`: attached to an instance (AssociateHaVip allowed).
        InUse => "InUse",
        /// `Detaching`: being detached.
        Detaching => "Detaching",
        /// `Deleting`: being deleted.
        Deleting => "Deleting",
    }
}

/// Emulator limits and delays (the parts of the state a test may change at run time).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub associate_delay: Duration,
    pub unassociate_delay: Duration,
    pub max_instances_per_ha_vip: usize,
    pub max_ha_vips_per_instance: usize,
}

#[derive(Debug, Clone)]
struct VSwitch {
    ens_region_id: String,
    network_id: String,
}

#[derive(Debug, Clone)]
struct Instance {
    vswitch: String,
    status: InstanceStatus,
    ip: String,
}

#[derive(Debug, Clone)]
struct Eni {
    vswitch: String,
    kind: NetworkInterfaceType,
    status: NetworkInterfaceStatus,
    ip: String,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Associating { until: Instant },
    InUse,
    Unassociating { until: Instant },
}

impl Phase {
    fn status(self) -> AssociationStatus {
        match self {
            Phase::Associating { .. } => AssociationStatus::Associating,
            Phase::InUse => AssociationStatus::InUse,
            Phase::Unassociating { .. } => AssociationStatus::Unassociating,
        }
    }
}

#[derive(Debug, Clone)]
struct Association {
    instance_id: String,
    kind: InstanceType,
    ip: String,
    created: OffsetDateTime,
    phase: Phase,
}

#[derive(Debug, Clone)]
struct HaVipRecord {
    vswitch: String,
    ens_region_id: String,
    network_id: String,
    ip: String,
    name: String,
    description: String,
    created: OffsetDateTime,
    /// For `Available`/`Associating`/`InUse`/`Unassociating` this is recomputed from the
    /// associations on every settle; any other status (e.g. `Creating`) sticks until changed.
    status: HaVipStatus,
    associations: Vec<Association>,
}

/// `true` for the statuses the emulator derives from the associations.
fn is_derived(status: &HaVipStatus) -> bool {
    matches!(
        status,
        HaVipStatus::Available
            | HaVipStatus::Associating
            | HaVipStatus::InUse
            | HaVipStatus::Unassociating
    )
}

impl HaVipRecord {
    fn derive_status(&mut self) {
        if !is_derived(&self.status) {
            return;
        }
        let has = |s: AssociationStatus| self.associations.iter().any(|a| a.phase.status() == s);
        self.status = if self.associations.is_empty() {
            HaVipStatus::Available
        } else if has(AssociationStatus::InUse) {
            HaVipStatus::InUse
        } else if has(AssociationStatus::Associating) {
            HaVipStatus::Associating
        } else {
            HaVipStatus::Unassociating
        };
    }
}

/// Everything the emulator knows: vSwitches, instances, ENIs, HAVIPs and their associations.
#[derive(Debug)]
pub(crate) struct State {
    pub settings: Settings,
    vswitches: BTreeMap<String, VSwitch>,
    instances: BTreeMap<String, Instance>,
    enis: BTreeMap<String, Eni>,
    havips: BTreeMap<String, HaVipRecord>,
    next_ip: u32,
}

/// Now, in UTC, to the second (the precision of the wire format, so snapshots equal decoded
/// DescribeHaVips answers).
fn now_utc_seconds() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

/// A required parameter, trimmed; `Missing<name>` when absent or blank.
fn required<'p>(value: &'p Option<String>, name: &str) -> Result<&'p str, ApiError> {
    given(value)
        .map(str::trim)
        .ok_or_else(|| ApiError::missing(name))
}

/// Ids are at most 128 characters of `[A-Za-z0-9_-]`; otherwise `Invalid<name>`.
fn valid_id(name: &str, value: &str) -> Result<(), ApiError> {
    let ok = value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad(
            format!("Invalid{name}"),
            format!("The specified parameter {name} is invalid."),
        ))
    }
}

/// `HaVipId` and `InstanceId`: both required (`Missing…`), both well-formed (`Invalid…`).
fn pair_ids<'p>(
    ha_vip_id: &'p Option<String>,
    instance_id: &'p Option<String>,
) -> Result<(&'p str, &'p str), ApiError> {
    let havip_id = required(ha_vip_id, "HaVipId")?;
    let instance_id = required(instance_id, "InstanceId")?;
    valid_id("HaVipId", havip_id)?;
    valid_id("InstanceId", instance_id)?;
    Ok((havip_id, instance_id))
}

fn havip_not_found() -> ApiError {
    ApiError::bad(
        "HaVipNotFound",
        "The input parameter haVipId that is not found. The specified HaVip does not exist.",
    )
}

fn no_permission() -> ApiError {
    ApiError::bad("NoPermission", "Permission denied.")
}

impl State {
    pub fn new(settings: Settings) -> Self {
        State {
            settings,
            vswitches: BTreeMap::new(),
            instances: BTreeMap::new(),
            enis: BTreeMap::new(),
            havips: BTreeMap::new(),
            next_ip: 0,
        }
    }

    /// The next free address in 10.0.0.0/16 (10.0.0.2, 10.0.0.3, …; wraps after 65 000).
    fn allocate_ip(&mut self) -> String {
        let n = self.next_ip % 65_000;
        self.next_ip = self.next_ip.wrapping_add(1);
        let host = n + 2;
        Ipv4Addr::new(10, 0, (host / 256) as u8, (host % 256) as u8).to_string()
    }

    /// Applies every transition whose deadline has passed.
    pub fn settle(&mut self, now: Instant) {
        for havip in self.havips.values_mut() {
            havip.associations.retain_mut(|a| match a.phase {
                Phase::Associating { until } if until <= now => {
                    a.phase = Phase::InUse;
                    true
                }
                Phase::Unassociating { until } if until <= now => false,
                _ => true,
            });
            havip.derive_status();
        }
    }

    /// Finishes every pending transition now.
    pub fn complete_transitions(&mut self) {
        let now = Instant::now();
        for havip in self.havips.values_mut() {
            for a in &mut havip.associations {
                match &mut a.phase {
                    Phase::Associating { until } | Phase::Unassociating { until } => *until = now,
                    Phase::InUse => {}
                }
            }
        }
        self.settle(now);
    }

    // ----- seeding -----

    pub fn add_vswitch(&mut self, id: &str, ens_region_id: &str, network_id: &str) {
        self.vswitches.insert(
            id.to_owned(),
            VSwitch {
                ens_region_id: ens_region_id.to_owned(),
                network_id: network_id.to_owned(),
            },
        );
    }

    fn ensure_vswitch(&mut self, id: &str) -> VSwitch {
        self.vswitches
            .entry(id.to_owned())
            .or_insert_with(|| VSwitch {
                ens_region_id: DEFAULT_ENS_REGION_ID.to_owned(),
                network_id: DEFAULT_NETWORK_ID.to_owned(),
            })
            .clone()
    }

    pub fn add_instance(&mut self, id: &str, vswitch: &str, status: InstanceStatus) {
        self.ensure_vswitch(vswitch);
        let ip = match self.instances.get(id) {
            Some(old) => old.ip.clone(),
            None => self.allocate_ip(),
        };
        self.instances.insert(
            id.to_owned(),
            Instance {
                vswitch: vswitch.to_owned(),
                status,
                ip,
            },
        );
    }

    pub fn add_network_interface(
        &mut self,
        id: &str,
        vswitch: &str,
        kind: NetworkInterfaceType,
        status: NetworkInterfaceStatus,
    ) {
        self.ensure_vswitch(vswitch);
        let ip = match self.enis.get(id) {
            Some(old) => old.ip.clone(),
            None => self.allocate_ip(),
        };
        self.enis.insert(
            id.to_owned(),
            Eni {
                vswitch: vswitch.to_owned(),
                kind,
                status,
                ip,
            },
        );
    }

    pub fn add_ha_vip(&mut self, id: &str, vswitch: &str, status: HaVipStatus) {
        let vsw = self.ensure_vswitch(vswitch);
        let ip = match self.havips.get(id) {
            Some(old) => old.ip.clone(),
            None => self.allocate_ip(),
        };
        self.havips.insert(
            id.to_owned(),
            HaVipRecord {
                vswitch: vswitch.to_owned(),
                ens_region_id: vsw.ens_region_id,
                network_id: vsw.network_id,
                ip,
                name: id.to_owned(),
                description: String::new(),
                created: now_utc_seconds(),
                status,
                associations: Vec::new(),
            },
        );
        self.settle(Instant::now());
    }

    pub fn set_instance_status(&mut self, id: &str, status: InstanceStatus) -> bool {
        match self.instances.get_mut(id) {
            Some(i) => {
                i.status = status;
                true
            }
            None => false,
        }
    }

    pub fn set_network_interface_status(
        &mut self,
        id: &str,
        status: NetworkInterfaceStatus,
    ) -> bool {
        match self.enis.get_mut(id) {
            Some(e) => {
                e.status = status;
                true
            }
            None => false,
        }
    }

    pub fn set_ha_vip_status(&mut self, id: &str, status: HaVipStatus) -> bool {
        let found = match self.havips.get_mut(id) {
            Some(h) => {
                h.status = status;
                true
            }
            None => false,
        };
        self.settle(Instant::now());
        found
    }

    pub fn set_ha_vip_name(&mut self, id: &str, name: &str, description: &str) -> bool {
        match self.havips.get_mut(id) {
            Some(h) => {
                h.name = name.to_owned();
                h.description = description.to_owned();
                true
            }
            None => false,
        }
    }

    // ----- inspection -----

    fn snapshot(id: &str, h: &HaVipRecord) -> HaVip {
        HaVip {
            ha_vip_id: id.to_owned(),
            status: h.status.clone(),
            ip_address: h.ip.clone(),
            name: h.name.clone(),
            description: h.description.clone(),
            ens_region_id: h.ens_region_id.clone(),
            network_id: h.network_id.clone(),
            vswitch_id: h.vswitch.clone(),
            creation_time: Some(h.created),
            associated_instances: h
                .associations
                .iter()
                .map(|a| AssociatedInstance {
                    instance_id: a.instance_id.clone(),
                    instance_type: a.kind.clone(),
                    ip_address: a.ip.clone(),
                    status: a.phase.status(),
                    creation_time: Some(a.created),
                })
                .collect(),
            associated_eip_addresses: Vec::new(),
        }
    }

    pub fn ha_vip(&mut self, id: &str) -> Option<HaVip> {
        self.settle(Instant::now());
        self.havips.get(id).map(|h| Self::snapshot(id, h))
    }

    pub fn ha_vips(&mut self) -> Vec<HaVip> {
        self.settle(Instant::now());
        self.havips
            .iter()
            .map(|(id, h)| Self::snapshot(id, h))
            .collect()
    }

    // ----- operations -----

    /// AssociateHaVip. Validation order: parameters, permission, existence, statuses, vSwitch,
    /// duplicates, limits.
    pub fn associate(&mut self, params: &AssociateParams, deny: bool) -> Result<Value, ApiError> {
        let (havip_id, instance_id) = pair_ids(&params.ha_vip_id, &params.instance_id)?;
        let kind = match params.instance_type.as_deref().map(str::trim) {
            None | Some("") | Some("EnsInstance") => InstanceType::EnsInstance,
            Some("NetworkInterface") => InstanceType::NetworkInterface,
            Some(_) => {
                return Err(ApiError::bad(
                    "InvalidParameter.InstanceType",
                    "The specified field InstanceType invalid. Please check it again. \
                     Valid values: EnsInstance, NetworkInterface.",
                ))
            }
        };
        if deny {
            return Err(no_permission());
        }
        let now = Instant::now();
        self.settle(now);

        let havip = self.havips.get(havip_id).ok_or_else(havip_not_found)?;
        // The target's vSwitch and IP, and the error its status or type would give (checked
        // only after the HAVIP's status, the documented order).
        let (target_vswitch, target_ip, target_refusal) = match kind {
            InstanceType::NetworkInterface => {
                let eni = self.enis.get(instance_id).ok_or_else(|| {
                    ApiError::bad(
                        "NetworkInterfaceNotFound",
                        "The specified network interface does not exist.",
                    )
                })?;
                let refusal = if eni.kind != NetworkInterfaceType::Primary {
                    Some(ApiError::bad(
                        "NetworkInterfaceTypeNotSupported",
                        "This network interface type cannot be used with the current operation.",
                    ))
                } else if !matches!(
                    eni.status,
                    NetworkInterfaceStatus::Available | NetworkInterfaceStatus::InUse
                ) {
                    Some(ApiError::bad(
                        "IncorrectNetworkInterfaceStatus",
                        "The operation could not be completed because the status of the \
                         specified network interface is invalid for this action.",
                    ))
                } else {
                    None
                };
                (&eni.vswitch, &eni.ip, refusal)
            }
            _ => {
                let inst = self.instances.get(instance_id).ok_or_else(|| {
                    ApiError::bad(
                        "InstanceNotFound",
                        "The input parameter instancdId that is not found.",
                    )
                })?;
                let refusal = (!matches!(
                    inst.status,
                    InstanceStatus::Running | InstanceStatus::Stopped
                ))
                .then(|| {
                    ApiError::bad(
                        "IncorrectInstanceStatus",
                        format!(
                            "The current status of the instance does not support this \
                                     operation: {} (must be Running or Stopped).",
                            inst.status
                        ),
                    )
                });
                (&inst.vswitch, &inst.ip, refusal)
            }
        };
        if !matches!(havip.status, HaVipStatus::Available | HaVipStatus::InUse) {
            return Err(ApiError::bad(
                "IncorrectHaVipStatus",
                format!(
                    "The status of the haVip is invalid. HaVip status is incorrect: {} (must be \
                     Available or InUse).",
                    havip.status
                ),
            ));
        }
        if let Some(e) = target_refusal {
            return Err(e);
        }
        if *target_vswitch != havip.vswitch {
            return Err(ApiError::bad(
                "IncorrectInstanceVSwitch",
                "The binding instance must be under the same VSwitch.",
            ));
        }
        if havip
            .associations
            .iter()
            .any(|a| a.instance_id == instance_id)
        {
            return Err(ApiError::bad(
                "InstanceAlreadyAssociated",
                "The instance is already bound.",
            ));
        }
        if havip.associations.len() >= self.settings.max_instances_per_ha_vip {
            return Err(ApiError::bad(
                "CountLimitExceed.InstanceOnHaVip",
                "The number of instances bound to HaVip has reached the limit.",
            ));
        }
        let on_instance = self
            .havips
            .values()
            .filter(|h| h.associations.iter().any(|a| a.instance_id == instance_id))
            .count();
        if on_instance >= self.settings.max_ha_vips_per_instance {
            return Err(ApiError::bad(
                "CountLimitExceed.HaVipOnInstance",
                "The amount of HaVip associated with the specified Instance reach its limits.",
            ));
        }

        let until = now + self.settings.associate_delay;
        if let Some(havip) = self.havips.get_mut(havip_id) {
            havip.associations.push(Association {
                instance_id: instance_id.to_owned(),
                kind,
                ip: target_ip.clone(),
                created: now_utc_seconds(),
                phase: Phase::Associating { until },
            });
        }
        self.settle(now);
        Ok(json!({}))
    }

    /// UnassociateHaVip.
    pub fn unassociate(
        &mut self,
        params: &UnassociateParams,
        deny: bool,
    ) -> Result<Value, ApiError> {
        let (havip_id, instance_id) = pair_ids(&params.ha_vip_id, &params.instance_id)?;
        if deny {
            return Err(no_permission());
        }
        let now = Instant::now();
        self.settle(now);
        let delay = self.settings.unassociate_delay;
        let havip = self.havips.get_mut(havip_id).ok_or_else(havip_not_found)?;
        let assoc = havip
            .associations
            .iter_mut()
            .find(|a| a.instance_id == instance_id)
            .ok_or_else(|| {
                ApiError::bad(
                    "InstanceNotAssociated",
                    "The specified instance is not associated with the HaVip.",
                )
            })?;
        if !matches!(assoc.phase, Phase::InUse) {
            return Err(ApiError::bad(
                "IncorrectInstanceAssociationStatus",
                format!(
                    "The association status of the instance does not support this operation: {} \
                     (must be InUse).",
                    assoc.phase.status()
                ),
            ));
        }
        assoc.phase = Phase::Unassociating { until: now + delay };
        self.settle(now);
        Ok(json!({}))
    }

    /// DescribeHaVips.
    pub fn describe(&mut self, params: &DescribeParams, deny: bool) -> Result<Value, ApiError> {
        let page_number =
            match params.page_number.as_deref().map(str::trim) {
                None | Some("") => 1,
                Some(s) => match s.parse::<u64>() {
                    Ok(n) if n >= 1 => n,
                    _ => return Err(ApiError::bad(
                        "InvalidParameter.PageNumber",
                        "The specified field PageNumber invalid. Please check it again. It must \
                         be a whole number of at least 1.",
                    )),
                },
            };
        let page_size =
            match params.page_size.as_deref().map(str::trim) {
                None | Some("") => 10,
                Some(s) => match s.parse::<u64>() {
                    Ok(n) if (1..=100).contains(&n) => n,
                    _ => return Err(ApiError::bad(
                        "InvalidParameter.PageSize",
                        "The specified field PageSize invalid. Please check it again. It must be \
                         a whole number from 1 to 100.",
                    )),
                },
            };
        let bad_regions = || {
            ApiError::bad(
                "InvalidParameter.EnsRegionIds",
                "The specified field EnsRegionIds invalid. Please check it again. Give \
                 EnsRegionIds.1 to EnsRegionIds.100.",
            )
        };
        let mut regions: BTreeSet<&str> = BTreeSet::new();
        let mut region_params = 0usize;
        for (n, v) in &params.ens_region_ids.0 {
            match n.parse::<u32>() {
                Ok(i) if (1..=100).contains(&i) => {}
                _ => return Err(bad_regions()),
            }
            region_params += 1;
            if region_params > 100 {
                return Err(bad_regions());
            }
            if !v.trim().is_empty() {
                regions.insert(v.trim());
            }
        }
        if deny {
            return Err(no_permission());
        }
        self.settle(Instant::now());

        fn filter(value: &Option<String>) -> Option<&str> {
            given(value).map(str::trim)
        }
        let (f_id, f_ip, f_name, f_net, f_vsw, f_region, f_status) = (
            filter(&params.ha_vip_id),
            filter(&params.ha_vip_address),
            filter(&params.name),
            filter(&params.network_id),
            filter(&params.vswitch_id),
            filter(&params.ens_region_id),
            filter(&params.status),
        );
        let matching: Vec<(&String, &HaVipRecord)> = self
            .havips
            .iter()
            .filter(|(id, h)| {
                passes(f_id, id)
                    && passes(f_ip, &h.ip)
                    && passes(f_name, &h.name)
                    && passes(f_net, &h.network_id)
                    && passes(f_vsw, &h.vswitch)
                    && passes(f_region, &h.ens_region_id)
                    && passes(f_status, h.status.as_str())
                    && (regions.is_empty() || regions.contains(h.ens_region_id.as_str()))
            })
            .collect();
        let total = matching.len();
        let skip = (page_number - 1).saturating_mul(page_size);
        let page: Vec<Value> = matching
            .into_iter()
            .skip(usize::try_from(skip).unwrap_or(usize::MAX))
            .take(page_size as usize)
            .map(|(id, h)| havip_json(id, h))
            .collect();
        Ok(json!({
            "TotalCount": total,
            "PageNumber": page_number,
            "PageSize": page_size,
            "HaVips": page,
        }))
    }
}

/// `true` when there is no filter or the value equals it.
fn passes(filter: Option<&str>, value: &str) -> bool {
    match filter {
        Some(f) => f == value,
        None => true,
    }
}

fn havip_json(id: &str, h: &HaVipRecord) -> Value {
    let ts = crate::signer::format_timestamp;
    json!({
        "HaVipId": id,
        "Status": h.status.as_str(),
        "IpAddress": h.ip,
        "Name": h.name,
        "Description": h.description,
        "EnsRegionId": h.ens_region_id,
        "NetworkId": h.network_id,
        "VSwitchId": h.vswitch,
        "CreationTime": ts(h.created),
        "AssociatedInstances": h.associations.iter().map(|a| json!({
            "InstanceId": a.instance_id,
            "InstanceType": a.kind.as_str(),
            "IpAddress": a.ip,
            "Status": a.phase.status().as_str(),
            "CreationTime": ts(a.created),
        })).collect::<Vec<_>>(),
        "AssociatedEipAddresses": [],
    })
}
