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

use crate::model::{
    AssociatedEipAddress, AssociatedInstance, AssociationStatus, HaVip, HaVipStatus, InstanceType,
};

use super::params::{
    given, json_strings, AssociateParams, CreateParams, DeleteParams, DescribeParams,
    JsonListError, ModifyParams, UnassociateParams,
};
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

            /// The value ENS spells `wire` (exactly), if any.
            #[allow(dead_code)]
            pub(crate) fn from_wire(wire: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == wire)
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

status_enum! {
    /// The status of an emulated elastic IP address (EIP), as DescribeEnsEipAddresses answers it.
    ///
    /// AssociateEnsEipAddress takes an [`Available`](EipStatus::Available) EIP and makes it
    /// [`Associating`](EipStatus::Associating), then [`InUse`](EipStatus::InUse);
    /// UnAssociateEnsEipAddress takes an `InUse` one and makes it
    /// [`Unassociating`](EipStatus::Unassociating), then `Available`. Any other status answers
    /// `IncorrectEipStatus`.
    EipStatus {
        /// `Available`: bound to nothing.
        Available => "Available",
        /// `Associating`: being bound.
        Associating => "Associating",
        /// `InUse`: bound.
        InUse => "InUse",
        /// `Unassociating`: being unbound.
        Unassociating => "Unassociating",
    }
}

status_enum! {
    /// The kind of resource an EIP is bound to (AssociateEnsEipAddress's `InstanceType`,
    /// DescribeEnsEipAddresses' `InstanceType` and `AssociatedInstanceType`).
    ///
    /// The emulator keeps instances, ENIs and HAVIPs; it keeps no load balancers or NAT
    /// gateways, so an EIP bound to [`SlbInstance`](EipInstanceType::SlbInstance),
    /// [`Nat`](EipInstanceType::Nat) or [`NatSlbInstance`](EipInstanceType::NatSlbInstance)
    /// finds nothing (`InstanceNotFound`).
    EipInstanceType {
        /// `EnsInstance`: an ENS instance (the default).
        EnsInstance => "EnsInstance",
        /// `HaVip`: a high-availability virtual IP address.
        HaVip => "HaVip",
        /// `NetworkInterface`: a secondary ENI.
        NetworkInterface => "NetworkInterface",
        /// `SlbInstance`: an edge load balancer (not kept by the emulator).
        SlbInstance => "SlbInstance",
        /// `Nat`: a NAT gateway (not kept by the emulator).
        Nat => "Nat",
        /// `NatSlbInstance`: a load balancer with several EIPs (not kept by the emulator).
        NatSlbInstance => "NatSlbInstance",
    }
}

/// The id of the primary ENI an instance seeded without one gets: `eni-` and the instance id
/// (`i-1` → `eni-i-1`), which names no ENI a test would seed by hand.
///
/// ```
/// use alibabacloud_ens::emulator::default_primary_network_interface_id;
/// assert_eq!(default_primary_network_interface_id("i-1"), "eni-i-1");
/// ```
pub fn default_primary_network_interface_id(instance_id: &str) -> String {
    format!("eni-{instance_id}")
}

/// An ENS instance to seed with
/// [`Emulator::add_instance_with`](crate::emulator::Emulator::add_instance_with), with what
/// DescribeInstances and DescribeNetworkInterfaces show of it.
///
/// Every instance has a primary ENI (`Primary`, `InUse`, in the instance's vSwitch, with the
/// instance's address): the one named here; else, when the instance is seeded again, the one it
/// had; else [`default_primary_network_interface_id`] of the instance id. Seeding replaces an
/// ENI with that id, and drops the instance's previous primary ENI if it had another id.
///
/// ```
/// use std::net::Ipv4Addr;
/// use alibabacloud_ens::emulator::{InstanceSeed, InstanceStatus};
///
/// let seed = InstanceSeed::new("i-web-1", "vsw-1")
///     .status(InstanceStatus::Stopped)
///     .name("web-1")
///     .ip_address(Ipv4Addr::new(10, 0, 0, 9))
///     .primary_network_interface_id("eni-web-1-primary");
/// assert_eq!(seed.name.as_deref(), Some("web-1"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InstanceSeed {
    /// The instance id (`InstanceId`).
    pub id: String,
    /// Its vSwitch (created on first mention, like every seeded resource's).
    pub vswitch_id: String,
    /// Its status (default [`InstanceStatus::Running`]).
    pub status: InstanceStatus,
    /// `InstanceName` (default: the id).
    pub name: Option<String>,
    /// Its private address (default: the first free one of the vSwitch's CIDR).
    pub ip_address: Option<Ipv4Addr>,
    /// Its primary ENI's id (default: [`default_primary_network_interface_id`]).
    pub primary_network_interface_id: Option<String>,
}

impl InstanceSeed {
    /// A `Running` instance `id` in `vswitch_id`, every other field defaulted.
    pub fn new(id: impl Into<String>, vswitch_id: impl Into<String>) -> Self {
        InstanceSeed {
            id: id.into(),
            vswitch_id: vswitch_id.into(),
            status: InstanceStatus::Running,
            name: None,
            ip_address: None,
            primary_network_interface_id: None,
        }
    }

    /// Sets [`status`](InstanceSeed::status).
    #[must_use]
    pub fn status(mut self, status: InstanceStatus) -> Self {
        self.status = status;
        self
    }

    /// Sets [`name`](InstanceSeed::name).
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets [`ip_address`](InstanceSeed::ip_address).
    #[must_use]
    pub fn ip_address(mut self, ip: Ipv4Addr) -> Self {
        self.ip_address = Some(ip);
        self
    }

    /// Sets [`primary_network_interface_id`](InstanceSeed::primary_network_interface_id).
    #[must_use]
    pub fn primary_network_interface_id(mut self, id: impl Into<String>) -> Self {
        self.primary_network_interface_id = Some(id.into());
        self
    }
}

/// A snapshot of an emulated EIP, as DescribeEnsEipAddresses would answer it now
/// ([`Emulator::eip`](crate::emulator::Emulator::eip)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Eip {
    /// `AllocationId`.
    pub allocation_id: String,
    /// `IpAddress`: the public address.
    pub ip_address: String,
    /// `EnsRegionId`: the edge node it belongs to.
    pub ens_region_id: String,
    /// `Name` (the id, for a seeded EIP).
    pub name: String,
    /// `Status`.
    pub status: EipStatus,
    /// `InstanceId`: what it is bound (or being bound, or unbound) to.
    pub instance_id: Option<String>,
    /// `InstanceType`: the kind of [`instance_id`](Eip::instance_id).
    pub instance_type: Option<EipInstanceType>,
    /// `Standby`: bound as a standby EIP.
    pub standby: bool,
}

impl Eip {
    /// `true` when the EIP is `InUse` and bound to `instance_id` (an instance, ENI or HAVIP id).
    pub fn is_in_use_by(&self, instance_id: &str) -> bool {
        self.status == EipStatus::InUse && self.instance_id.as_deref() == Some(instance_id)
    }
}

/// Emulator limits and delays (the parts of the state a test may change at run time).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub associate_delay: Duration,
    pub unassociate_delay: Duration,
    pub create_delay: Duration,
    pub delete_delay: Duration,
    pub eip_associate_delay: Duration,
    pub eip_unassociate_delay: Duration,
    pub max_instances_per_ha_vip: usize,
    pub max_ha_vips_per_instance: usize,
}

/// An IPv4 network: base address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    base: u32,
    prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n` (n from 16 to 29: room for a gateway and some hosts).
    pub fn parse(s: &str) -> Option<Cidr> {
        let (addr, prefix) = s.trim().split_once('/')?;
        let addr: Ipv4Addr = addr.parse().ok()?;
        let prefix: u8 = prefix.parse().ok()?;
        if !(16..=29).contains(&prefix) {
            return None;
        }
        let mask = u32::MAX << (32 - prefix);
        Some(Cidr {
            base: u32::from(addr) & mask,
            prefix,
        })
    }

    /// The usable host addresses: the network's, less its first two (network, gateway) and its
    /// last (broadcast).
    fn hosts(self) -> impl Iterator<Item = Ipv4Addr> {
        let size = 1u32 << (32 - self.prefix);
        (2..size - 1).map(move |i| Ipv4Addr::from(self.base + i))
    }

    pub(super) fn contains(self, ip: Ipv4Addr) -> bool {
        let mask = u32::MAX << (32 - self.prefix);
        u32::from(ip) & mask == self.base
    }

    /// The gateway: the network's second address.
    pub(super) fn gateway(self) -> Ipv4Addr {
        Ipv4Addr::from(self.base + 1)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.base), self.prefix)
    }
}

#[derive(Debug, Clone)]
pub(super) struct VSwitch {
    pub ens_region_id: String,
    pub network_id: String,
    pub cidr: Cidr,
}

#[derive(Debug, Clone)]
pub(super) struct Instance {
    pub vswitch: String,
    pub status: InstanceStatus,
    pub ip: String,
    pub name: String,
    pub created: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub(super) struct Eni {
    pub vswitch: String,
    pub kind: NetworkInterfaceType,
    pub status: NetworkInterfaceStatus,
    pub ip: String,
    /// The instance it is attached to.
    pub instance: Option<String>,
    pub created: OffsetDateTime,
}

/// What an EIP is bound to, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct EipBinding {
    pub instance_id: String,
    pub kind: EipInstanceType,
}

#[derive(Debug, Clone)]
pub(super) struct EipRecord {
    pub ip: String,
    pub ens_region_id: String,
    pub name: String,
    pub created: OffsetDateTime,
    pub standby: bool,
    /// Set while `Associating`, `InUse` and `Unassociating` (unless a test pinned a status
    /// with no binding).
    pub binding: Option<EipBinding>,
    pub status: EipStatus,
    /// When an `Associating` EIP becomes `InUse`, or an `Unassociating` one `Available`; `None`
    /// for a status that sticks.
    pub until: Option<Instant>,
}

impl EipRecord {
    /// Bound in effect (listed on the resource): `InUse`, or `Unassociating` until it is gone.
    pub fn bound_to(&self, kind: EipInstanceType, instance_id: &str) -> bool {
        matches!(self.status, EipStatus::InUse | EipStatus::Unassociating)
            && self
                .binding
                .as_ref()
                .is_some_and(|b| b.kind == kind && b.instance_id == instance_id)
    }
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
pub(super) struct HaVipRecord {
    pub vswitch: String,
    pub ens_region_id: String,
    pub network_id: String,
    pub ip: String,
    pub name: String,
    pub description: String,
    pub created: OffsetDateTime,
    /// For `Available`/`Associating`/`InUse`/`Unassociating` this is recomputed from the
    /// associations on every settle; any other status (e.g. `Creating`) sticks until changed,
    /// or until `until` passes (a CreateHaVip's `Creating`, a DeleteHaVips' `Deleting`).
    pub status: HaVipStatus,
    /// When a `Creating` HAVIP becomes `Available`, or a `Deleting` one is gone.
    until: Option<Instant>,
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

/// Everything the emulator knows: vSwitches, instances, ENIs, HAVIPs and their associations,
/// EIPs and what they are bound to.
#[derive(Debug)]
pub(crate) struct State {
    pub settings: Settings,
    pub(super) vswitches: BTreeMap<String, VSwitch>,
    pub(super) instances: BTreeMap<String, Instance>,
    pub(super) enis: BTreeMap<String, Eni>,
    pub(super) havips: BTreeMap<String, HaVipRecord>,
    pub(super) eips: BTreeMap<String, EipRecord>,
}

/// Now, in UTC, to the second (the precision of the wire format, so snapshots equal decoded
/// DescribeHaVips answers).
pub(super) fn now_utc_seconds() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

/// A required parameter, trimmed; `Missing<name>` when absent or blank.
pub(super) fn required<'p>(value: &'p Option<String>, name: &str) -> Result<&'p str, ApiError> {
    given(value)
        .map(str::trim)
        .ok_or_else(|| ApiError::missing(name))
}

/// Ids are at most 128 characters of `[A-Za-z0-9_-]`; otherwise `Invalid<name>`.
pub(super) fn valid_id(name: &str, value: &str) -> Result<(), ApiError> {
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

/// ENS's answer for an `InstanceId` it does not know (its typo included).
pub(super) fn instance_not_found() -> ApiError {
    ApiError::bad(
        "InstanceNotFound",
        "The input parameter instancdId that is not found.",
    )
}

/// Why an instance cannot be bound (to an HAVIP or an EIP) in its status: it must be `Running`
/// or `Stopped`.
pub(super) fn instance_refusal(instance: &Instance) -> Option<ApiError> {
    (!matches!(
        instance.status,
        InstanceStatus::Running | InstanceStatus::Stopped
    ))
    .then(|| {
        ApiError::bad(
            "IncorrectInstanceStatus",
            format!(
                "The current status of the instance does not support this operation: {} (must \
                 be Running or Stopped).",
                instance.status
            ),
        )
    })
}

/// Why an ENI cannot be bound: it is not of the `supported` type, or neither `Available` nor
/// `InUse`.
pub(super) fn eni_refusal(eni: &Eni, supported: NetworkInterfaceType) -> Option<ApiError> {
    if eni.kind != supported {
        Some(ApiError::bad(
            "NetworkInterfaceTypeNotSupported",
            format!(
                "This network interface type cannot be used with the current operation: {} \
                 (must be {supported}).",
                eni.kind
            ),
        ))
    } else if !matches!(
        eni.status,
        NetworkInterfaceStatus::Available | NetworkInterfaceStatus::InUse
    ) {
        Some(ApiError::bad(
            "IncorrectNetworkInterfaceStatus",
            "The operation could not be completed because the status of the specified network \
             interface is invalid for this action.",
        ))
    } else {
        None
    }
}

/// Why an HAVIP cannot take an association or an EIP now: it must be `Available` or `InUse`.
pub(super) fn ha_vip_refusal(havip: &HaVipRecord) -> Option<ApiError> {
    (!matches!(havip.status, HaVipStatus::Available | HaVipStatus::InUse)).then(|| {
        ApiError::bad(
            "IncorrectHaVipStatus",
            format!(
                "The status of the haVip is invalid. HaVip status is incorrect: {} (must be \
                 Available or InUse).",
                havip.status
            ),
        )
    })
}

pub(super) fn no_permission() -> ApiError {
    ApiError::bad("NoPermission", "Permission denied.")
}

/// The name rule ModifyHaVipAttribute documents (1–128 characters, not starting with
/// `http://` or `https://`); the emulator applies it to CreateHaVip too. `InvalidName`
/// otherwise.
fn valid_name(name: &str) -> Result<(), ApiError> {
    let n = name.chars().count();
    let lower = name.trim_start().to_ascii_lowercase();
    if n == 0 || n > 128 || lower.starts_with("http://") || lower.starts_with("https://") {
        return Err(ApiError::bad(
            "InvalidName",
            "The specified parameter Name is invalid: 1 to 128 characters, not starting with \
             http:// or https://.",
        ));
    }
    Ok(())
}

/// The most ids one DeleteHaVips takes (ENS documents none; the emulator's assumption).
pub const MAX_DELETE_IDS: usize = 100;

impl State {
    pub fn new(settings: Settings) -> Self {
        State {
            settings,
            vswitches: BTreeMap::new(),
            instances: BTreeMap::new(),
            enis: BTreeMap::new(),
            havips: BTreeMap::new(),
            eips: BTreeMap::new(),
        }
    }

    /// Every address in use in `vswitch` (by HAVIPs, instances and ENIs).
    fn used_ips(&self, vswitch: &str) -> BTreeSet<String> {
        let havips = self
            .havips
            .values()
            .filter(|h| h.vswitch == vswitch)
            .map(|h| &h.ip);
        let instances = self
            .instances
            .values()
            .filter(|i| i.vswitch == vswitch)
            .map(|i| &i.ip);
        let enis = self
            .enis
            .values()
            .filter(|e| e.vswitch == vswitch)
            .map(|e| &e.ip);
        havips.chain(instances).chain(enis).cloned().collect()
    }

    /// The first free address of `vswitch`'s CIDR (`None` when it is full or unknown).
    fn allocate_ip(&self, vswitch: &str) -> Option<String> {
        let cidr = self.vswitches.get(vswitch)?.cidr;
        let used = self.used_ips(vswitch);
        cidr.hosts()
            .map(|ip| ip.to_string())
            .find(|ip| !used.contains(ip))
    }

    /// A new HAVIP id: `havip-` and 16 random hex digits.
    fn new_ha_vip_id(&self) -> String {
        loop {
            let id = format!(
                "havip-{}",
                &crate::signer::new_nonce().unwrap_or_default()[..16]
            );
            if id.len() == 22 && !self.havips.contains_key(&id) {
                return id;
            }
        }
    }

    /// Applies every transition whose deadline has passed.
    pub fn settle(&mut self, now: Instant) {
        self.havips.retain(|_, h| {
            !(h.status == HaVipStatus::Deleting && h.until.is_some_and(|until| until <= now))
        });
        for havip in self.havips.values_mut() {
            if havip.status == HaVipStatus::Creating && havip.until.is_some_and(|t| t <= now) {
                havip.status = HaVipStatus::Available;
                havip.until = None;
            }
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
        for eip in self.eips.values_mut() {
            if eip.until.is_some_and(|t| t <= now) {
                eip.until = None;
                match eip.status {
                    EipStatus::Associating => eip.status = EipStatus::InUse,
                    EipStatus::Unassociating => {
                        eip.status = EipStatus::Available;
                        eip.binding = None;
                    }
                    _ => {}
                }
            }
        }
    }

    /// Finishes every pending transition now.
    pub fn complete_transitions(&mut self) {
        let now = Instant::now();
        for havip in self.havips.values_mut() {
            if let Some(until) = &mut havip.until {
                *until = now;
            }
            for a in &mut havip.associations {
                match &mut a.phase {
                    Phase::Associating { until } | Phase::Unassociating { until } => *until = now,
                    Phase::InUse => {}
                }
            }
        }
        for until in self.eips.values_mut().filter_map(|e| e.until.as_mut()) {
            *until = now;
        }
        self.settle(now);
    }

    // ----- seeding -----

    /// The CIDR a new vSwitch gets unless told: `10.0.k.0/24` for the k-th vSwitch (so every
    /// default address is in 10.0.0.0/16).
    fn next_cidr(&self) -> Cidr {
        let k = self.vswitches.len() as u32;
        Cidr {
            base: u32::from(Ipv4Addr::new(10, 0, 0, 0)) + (k % 65_536) * 256,
            prefix: 24,
        }
    }

    /// Adds (or replaces) a vSwitch; `cidr` `None` keeps its CIDR when it exists, else takes the
    /// next default one.
    pub fn add_vswitch(
        &mut self,
        id: &str,
        ens_region_id: &str,
        network_id: &str,
        cidr: Option<Cidr>,
    ) {
        let cidr = cidr
            .or_else(|| self.vswitches.get(id).map(|v| v.cidr))
            .unwrap_or_else(|| self.next_cidr());
        self.vswitches.insert(
            id.to_owned(),
            VSwitch {
                ens_region_id: ens_region_id.to_owned(),
                network_id: network_id.to_owned(),
                cidr,
            },
        );
    }

    fn ensure_vswitch(&mut self, id: &str) -> VSwitch {
        if !self.vswitches.contains_key(id) {
            self.add_vswitch(id, DEFAULT_ENS_REGION_ID, DEFAULT_NETWORK_ID, None);
        }
        self.vswitches.get(id).cloned().unwrap_or_else(|| VSwitch {
            ens_region_id: DEFAULT_ENS_REGION_ID.to_owned(),
            network_id: DEFAULT_NETWORK_ID.to_owned(),
            cidr: self.next_cidr(),
        })
    }

    /// The address `old` had if it is in `vswitch`, else a free one of its CIDR (or, with the
    /// CIDR full, 0.0.0.0: seeding never fails).
    fn seed_ip(&self, vswitch: &str, old: Option<&String>) -> String {
        let cidr = self.vswitches.get(vswitch).map(|v| v.cidr);
        match (old, cidr) {
            (Some(ip), Some(c)) if ip.parse().is_ok_and(|ip| c.contains(ip)) => ip.clone(),
            _ => self
                .allocate_ip(vswitch)
                .unwrap_or_else(|| Ipv4Addr::UNSPECIFIED.to_string()),
        }
    }

    /// Which resource of `vswitch` (HAVIP, instance or ENI) has the address `ip`.
    fn ip_owner(&self, vswitch: &str, ip: &str) -> Option<&str> {
        let havips = self
            .havips
            .iter()
            .filter(|(_, h)| h.vswitch == vswitch && h.ip == ip)
            .map(|(id, _)| id);
        let instances = self
            .instances
            .iter()
            .filter(|(_, i)| i.vswitch == vswitch && i.ip == ip)
            .map(|(id, _)| id);
        let enis = self
            .enis
            .iter()
            .filter(|(_, e)| e.vswitch == vswitch && e.ip == ip)
            .map(|(id, _)| id);
        havips
            .chain(instances)
            .chain(enis)
            .next()
            .map(String::as_str)
    }

    /// The id of the primary ENI attached to `instance_id`, if any.
    pub(super) fn primary_eni_of(&self, instance_id: &str) -> Option<&str> {
        self.enis
            .iter()
            .find(|(_, e)| {
                e.kind == NetworkInterfaceType::Primary
                    && e.instance.as_deref() == Some(instance_id)
            })
            .map(|(id, _)| id.as_str())
    }

    pub fn add_instance(&mut self, id: &str, vswitch: &str, status: InstanceStatus) {
        // Without an address to check, nothing can be refused.
        let _ = self.add_instance_with(&InstanceSeed::new(id, vswitch).status(status));
    }

    /// Adds (or replaces) an instance and its primary ENI; see [`InstanceSeed`].
    pub fn add_instance_with(&mut self, seed: &InstanceSeed) -> Result<(), String> {
        let id = seed.id.as_str();
        let vswitch = seed.vswitch_id.as_str();
        let vsw = self.ensure_vswitch(vswitch);
        let old_eni = self.primary_eni_of(id).map(str::to_owned);
        // Re-seeding an instance keeps its primary ENI unless another is named.
        let eni_id = seed
            .primary_network_interface_id
            .clone()
            .or_else(|| old_eni.clone())
            .unwrap_or_else(|| default_primary_network_interface_id(id));
        let ip = match seed.ip_address {
            Some(ip) => {
                if !vsw.cidr.contains(ip) {
                    return Err(format!(
                        "{ip} is not in the CIDR {} of vSwitch {vswitch}",
                        vsw.cidr
                    ));
                }
                let text = ip.to_string();
                let ours = |owner: &str| {
                    owner == id || owner == eni_id || Some(owner) == old_eni.as_deref()
                };
                if let Some(owner) = self.ip_owner(vswitch, &text).filter(|o| !ours(o)) {
                    return Err(format!(
                        "{ip} is already used by {owner} in vSwitch {vswitch}"
                    ));
                }
                text
            }
            None => self.seed_ip(vswitch, self.instances.get(id).map(|i| &i.ip)),
        };
        if let Some(old) = old_eni.filter(|old| *old != eni_id) {
            self.enis.remove(&old);
        }
        let created = self
            .instances
            .get(id)
            .map_or_else(now_utc_seconds, |i| i.created);
        self.instances.insert(
            id.to_owned(),
            Instance {
                vswitch: vswitch.to_owned(),
                status: seed.status,
                ip: ip.clone(),
                name: seed.name.clone().unwrap_or_else(|| id.to_owned()),
                created,
            },
        );
        self.enis.insert(
            eni_id,
            Eni {
                vswitch: vswitch.to_owned(),
                kind: NetworkInterfaceType::Primary,
                status: NetworkInterfaceStatus::InUse,
                ip,
                instance: Some(id.to_owned()),
                created,
            },
        );
        Ok(())
    }

    pub fn add_network_interface(
        &mut self,
        id: &str,
        vswitch: &str,
        kind: NetworkInterfaceType,
        status: NetworkInterfaceStatus,
    ) {
        self.ensure_vswitch(vswitch);
        let ip = self.seed_ip(vswitch, self.enis.get(id).map(|e| &e.ip));
        self.enis.insert(
            id.to_owned(),
            Eni {
                vswitch: vswitch.to_owned(),
                kind,
                status,
                ip,
                instance: None,
                created: now_utc_seconds(),
            },
        );
    }

    /// Attaches an ENI to an instance (`InUse`); `false` when either is unknown.
    pub fn attach_network_interface(&mut self, eni_id: &str, instance_id: &str) -> bool {
        if !self.instances.contains_key(instance_id) {
            return false;
        }
        match self.enis.get_mut(eni_id) {
            Some(eni) => {
                eni.instance = Some(instance_id.to_owned());
                eni.status = NetworkInterfaceStatus::InUse;
                true
            }
            None => false,
        }
    }

    /// Adds (or replaces, unbound) an `Available` EIP.
    pub fn add_eip(&mut self, id: &str, ip: Ipv4Addr, ens_region_id: &str) {
        self.eips.insert(
            id.to_owned(),
            EipRecord {
                ip: ip.to_string(),
                ens_region_id: ens_region_id.to_owned(),
                name: id.to_owned(),
                created: now_utc_seconds(),
                standby: false,
                binding: None,
                status: EipStatus::Available,
                until: None,
            },
        );
    }

    /// Seeds an EIP's binding in any status, no rule checked (`Associating`/`Unassociating`
    /// finish after the configured delays; `Available` unbinds). `false` when the EIP is
    /// unknown.
    pub fn add_eip_association(
        &mut self,
        eip_id: &str,
        instance_id: &str,
        kind: EipInstanceType,
        status: EipStatus,
    ) -> bool {
        let now = Instant::now();
        let until = match status {
            EipStatus::Associating => Some(now + self.settings.eip_associate_delay),
            EipStatus::Unassociating => Some(now + self.settings.eip_unassociate_delay),
            _ => None,
        };
        let Some(e) = self.eips.get_mut(eip_id) else {
            return false;
        };
        e.status = status;
        e.until = until;
        e.binding = (status != EipStatus::Available).then(|| EipBinding {
            instance_id: instance_id.to_owned(),
            kind,
        });
        self.settle(now);
        true
    }

    /// Sets an EIP's status and stops its pending transition (the status sticks until changed);
    /// `Available` also drops its binding. `false` when it is unknown.
    pub fn set_eip_status(&mut self, id: &str, status: EipStatus) -> bool {
        self.settle(Instant::now());
        match self.eips.get_mut(id) {
            Some(e) => {
                e.status = status;
                e.until = None;
                if status == EipStatus::Available {
                    e.binding = None;
                }
                true
            }
            None => false,
        }
    }

    pub fn add_ha_vip(&mut self, id: &str, vswitch: &str, status: HaVipStatus) {
        let vsw = self.ensure_vswitch(vswitch);
        let ip = self.seed_ip(vswitch, self.havips.get(id).map(|h| &h.ip));
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
                until: None,
                associations: Vec::new(),
            },
        );
        self.settle(Instant::now());
    }

    /// Seeds an association in any status (an `Associating` or `Unassociating` one finishes
    /// after the configured delay, as if just made). `false` when the HAVIP is unknown.
    pub fn add_association(
        &mut self,
        ha_vip_id: &str,
        instance_id: &str,
        kind: InstanceType,
        status: AssociationStatus,
    ) -> bool {
        let now = Instant::now();
        let ip = match kind {
            InstanceType::NetworkInterface => self.enis.get(instance_id).map(|e| e.ip.clone()),
            _ => self.instances.get(instance_id).map(|i| i.ip.clone()),
        }
        .unwrap_or_default();
        let phase = match status {
            AssociationStatus::Associating => Phase::Associating {
                until: now + self.settings.associate_delay,
            },
            AssociationStatus::Unassociating => Phase::Unassociating {
                until: now + self.settings.unassociate_delay,
            },
            _ => Phase::InUse,
        };
        let Some(h) = self.havips.get_mut(ha_vip_id) else {
            return false;
        };
        h.associations.retain(|a| a.instance_id != instance_id);
        h.associations.push(Association {
            instance_id: instance_id.to_owned(),
            kind,
            ip,
            created: now_utc_seconds(),
            phase,
        });
        if matches!(h.status, HaVipStatus::Creating) && h.until.is_some() {
            h.until = Some(now);
        }
        self.settle(now);
        true
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
                h.until = None;
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

    /// The EIPs bound in effect to HAVIP `id`, as DescribeHaVips lists them.
    fn eips_on_ha_vip<'s>(
        &'s self,
        id: &'s str,
    ) -> impl Iterator<Item = (&'s String, &'s EipRecord)> {
        self.eips
            .iter()
            .filter(move |(_, e)| e.bound_to(EipInstanceType::HaVip, id))
    }

    fn snapshot(&self, id: &str, h: &HaVipRecord) -> HaVip {
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
            associated_eip_addresses: self
                .eips_on_ha_vip(id)
                .map(|(eip_id, e)| AssociatedEipAddress::new(&e.ip, eip_id))
                .collect(),
        }
    }

    pub fn ha_vip(&mut self, id: &str) -> Option<HaVip> {
        self.settle(Instant::now());
        self.havips.get(id).map(|h| self.snapshot(id, h))
    }

    pub fn ha_vips(&mut self) -> Vec<HaVip> {
        self.settle(Instant::now());
        self.havips
            .iter()
            .map(|(id, h)| self.snapshot(id, h))
            .collect()
    }

    fn eip_snapshot(id: &str, e: &EipRecord) -> Eip {
        Eip {
            allocation_id: id.to_owned(),
            ip_address: e.ip.clone(),
            ens_region_id: e.ens_region_id.clone(),
            name: e.name.clone(),
            status: e.status,
            instance_id: e.binding.as_ref().map(|b| b.instance_id.clone()),
            instance_type: e.binding.as_ref().map(|b| b.kind),
            standby: e.standby,
        }
    }

    pub fn eip(&mut self, id: &str) -> Option<Eip> {
        self.settle(Instant::now());
        self.eips.get(id).map(|e| Self::eip_snapshot(id, e))
    }

    pub fn eips(&mut self) -> Vec<Eip> {
        self.settle(Instant::now());
        self.eips
            .iter()
            .map(|(id, e)| Self::eip_snapshot(id, e))
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
        // The target's vSwitch and IP, and the error its status or type would give. What is
        // wrong with the request for good (the target's status or type, its vSwitch) is
        // answered before the HAVIP's status, which may be passing (`Associating` with another
        // instance): the emulator's assumption, so that a client waiting out a busy HAVIP hears
        // a permanent refusal at once.
        let (target_vswitch, target_ip, target_refusal) = match kind {
            InstanceType::NetworkInterface => {
                let eni = self.enis.get(instance_id).ok_or_else(|| {
                    ApiError::bad(
                        "NetworkInterfaceNotFound",
                        "The specified network interface does not exist.",
                    )
                })?;
                let refusal = eni_refusal(eni, NetworkInterfaceType::Primary);
                (&eni.vswitch, &eni.ip, refusal)
            }
            _ => {
                let inst = self
                    .instances
                    .get(instance_id)
                    .ok_or_else(instance_not_found)?;
                let refusal = instance_refusal(inst);
                (&inst.vswitch, &inst.ip, refusal)
            }
        };
        if let Some(e) = target_refusal {
            return Err(e);
        }
        if *target_vswitch != havip.vswitch {
            return Err(ApiError::bad(
                "IncorrectInstanceVSwitch",
                "The binding instance must be under the same VSwitch.",
            ));
        }
        if let Some(e) = ha_vip_refusal(havip) {
            return Err(e);
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

    /// CreateHaVip. Validation order: parameters, permission, the vSwitch, the address.
    pub fn create(&mut self, params: &CreateParams, deny: bool) -> Result<Value, ApiError> {
        let vswitch_id = required(&params.vswitch_id, "VSwitchId")?;
        valid_id("VSwitchId", vswitch_id)?;
        let amount = whole_number(&params.amount, "Amount", 1, 1..=10)? as usize;
        let ip = match given(&params.ip_address).map(str::trim) {
            None => None,
            Some(ip) => Some(ip.parse::<Ipv4Addr>().map_err(|_| {
                ApiError::bad(
                    "InvalidParameter.IpAddress",
                    "The specified field IpAddress invalid. Please check it again. It must be an \
                     IPv4 address.",
                )
            })?),
        };
        if ip.is_some() && amount != 1 {
            return Err(ApiError::bad(
                "InvalidParameter.Amount",
                "The specified field Amount invalid. Please check it again. Amount must be 1 \
                 when IpAddress is given.",
            ));
        }
        if let Some(name) = &params.name {
            valid_name(name)?;
        }
        let description = params.description.clone().unwrap_or_default();
        if description.chars().count() > 256 {
            return Err(ApiError::bad(
                "InvalidDescription",
                "The specified parameter Description is invalid: at most 256 characters.",
            ));
        }
        if deny {
            return Err(no_permission());
        }
        let now = Instant::now();
        self.settle(now);
        let vsw = self.vswitches.get(vswitch_id).cloned().ok_or_else(|| {
            ApiError::bad(
                "InvalidVSwitchId.NotFound",
                "The specified vSwitch does not exist.",
            )
        })?;
        let mut ips = Vec::with_capacity(amount);
        match ip {
            Some(ip) => {
                if !vsw.cidr.contains(ip) {
                    return Err(ApiError::bad(
                        "InvalidParameter.IpAddress",
                        format!(
                            "The specified field IpAddress invalid. Please check it again. It \
                             is not in the vSwitch's CIDR {}.",
                            vsw.cidr
                        ),
                    ));
                }
                if self.used_ips(vswitch_id).contains(&ip.to_string()) {
                    return Err(ApiError::bad(
                        "InvalidIPAddress.AlreadyUsed",
                        "The specified IP address is already used.",
                    ));
                }
                ips.push(ip.to_string());
            }
            None => {
                let used = self.used_ips(vswitch_id);
                ips.extend(
                    vsw.cidr
                        .hosts()
                        .map(|ip| ip.to_string())
                        .filter(|ip| !used.contains(ip))
                        .take(amount),
                );
                if ips.len() < amount {
                    return Err(ApiError::bad(
                        "InvalidVSwitchId.IpNotEnough",
                        "The specified vSwitch has not enough free IP addresses.",
                    ));
                }
            }
        }
        let until = now + self.settings.create_delay;
        let mut ids = Vec::with_capacity(amount);
        for ip in ips {
            let id = self.new_ha_vip_id();
            self.havips.insert(
                id.clone(),
                HaVipRecord {
                    vswitch: vswitch_id.to_owned(),
                    ens_region_id: vsw.ens_region_id.clone(),
                    network_id: vsw.network_id.clone(),
                    ip,
                    name: params.name.clone().unwrap_or_default(),
                    description: description.clone(),
                    created: now_utc_seconds(),
                    status: HaVipStatus::Creating,
                    until: Some(until),
                    associations: Vec::new(),
                },
            );
            ids.push(id);
        }
        self.settle(now);
        Ok(json!({ "HaVipIds": ids }))
    }

    /// DeleteHaVips. All or nothing: every id must exist, be `Available` (or `InUse` with no
    /// association left, which cannot happen) and have no association; otherwise nothing is
    /// deleted.
    pub fn delete(&mut self, params: &DeleteParams, deny: bool) -> Result<Value, ApiError> {
        let raw = required(&params.ha_vip_ids, "HaVipIds")?;
        let invalid = |why: &str| {
            ApiError::bad(
                "InvalidParameter.HaVipIds",
                format!("The specified field HaVipIds invalid. Please check it again. {why}"),
            )
        };
        let ids = json_strings(raw, MAX_DELETE_IDS).map_err(|e| match e {
            JsonListError::Malformed => invalid("It must be a JSON array of HAVIP ids."),
            JsonListError::TooLong => invalid("It must hold 1 to 100 ids."),
        })?;
        if ids.is_empty() {
            return Err(invalid("It must hold 1 to 100 ids."));
        }
        for id in &ids {
            valid_id("HaVipIds", id).map_err(|_| invalid("An id is malformed."))?;
        }
        if deny {
            return Err(no_permission());
        }
        let now = Instant::now();
        self.settle(now);
        for id in &ids {
            let h = self.havips.get(id).ok_or_else(havip_not_found)?;
            if !h.associations.is_empty() {
                return Err(ApiError::bad(
                    "IncorrectHaVipStatus",
                    format!(
                        "The status of the haVip is invalid. {id} is still associated with \
                         {} instance(s): unassociate them first.",
                        h.associations.len()
                    ),
                ));
            }
            // Any binding, pending ones included: the EIP must be unbound first.
            let bound = self.eips.iter().find(|(_, e)| {
                e.binding
                    .as_ref()
                    .is_some_and(|b| b.kind == EipInstanceType::HaVip && b.instance_id == *id)
            });
            if let Some((eip_id, e)) = bound {
                return Err(ApiError::bad(
                    "IncorrectHaVipStatus",
                    format!(
                        "The status of the haVip is invalid. {id} still has EIP {eip_id} ({}) \
                         bound: unassociate it first.",
                        e.status
                    ),
                ));
            }
            if h.status != HaVipStatus::Available {
                return Err(ApiError::bad(
                    "IncorrectHaVipStatus",
                    format!(
                        "The status of the haVip is invalid. {id} is {} (must be Available).",
                        h.status
                    ),
                ));
            }
        }
        let until = now + self.settings.delete_delay;
        for id in &ids {
            if let Some(h) = self.havips.get_mut(id) {
                h.status = HaVipStatus::Deleting;
                h.until = Some(until);
            }
        }
        self.settle(now);
        Ok(json!({}))
    }

    /// ModifyHaVipAttribute.
    pub fn modify(&mut self, params: &ModifyParams, deny: bool) -> Result<Value, ApiError> {
        let id = required(&params.ha_vip_id, "HaVipId")?;
        valid_id("HaVipId", id)?;
        let name = params
            .name
            .as_deref()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| ApiError::missing("Name"))?;
        valid_name(name)?;
        if deny {
            return Err(no_permission());
        }
        self.settle(Instant::now());
        let h = self.havips.get_mut(id).ok_or_else(havip_not_found)?;
        if h.status == HaVipStatus::Deleting {
            return Err(ApiError::bad(
                "IncorrectHaVipStatus",
                format!("The status of the haVip is invalid. {id} is being deleted."),
            ));
        }
        h.name = name.to_owned();
        Ok(json!({}))
    }

    /// DescribeHaVips.
    pub fn describe(&mut self, params: &DescribeParams, deny: bool) -> Result<Value, ApiError> {
        let page_number = whole_number(&params.page_number, "PageNumber", 1, 1..=u64::MAX)?;
        let page_size = whole_number(&params.page_size, "PageSize", 10, 1..=100)?;
        let regions: BTreeSet<&str> = params
            .lists
            .values("EnsRegionIds", 100)?
            .into_iter()
            .collect();
        if deny {
            return Err(no_permission());
        }
        self.settle(Instant::now());

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
        let (total, page) = page_of(matching, page_number, page_size);
        let page: Vec<Value> = page
            .into_iter()
            .map(|(id, h)| self.havip_json(id, h))
            .collect();
        Ok(json!({
            "TotalCount": total,
            "PageNumber": page_number,
            "PageSize": page_size,
            "HaVips": page,
        }))
    }
}

/// A filter parameter: `None` when absent or blank, else trimmed.
pub(super) fn filter(value: &Option<String>) -> Option<&str> {
    given(value).map(str::trim)
}

/// `true` when there is no filter or the value equals it.
pub(super) fn passes(filter: Option<&str>, value: &str) -> bool {
    match filter {
        Some(f) => f == value,
        None => true,
    }
}

/// How many `items` there are, and those of page `page_number` (from 1) of `page_size`.
pub(super) fn page_of<T>(items: Vec<T>, page_number: u64, page_size: u64) -> (usize, Vec<T>) {
    let total = items.len();
    let skip = (page_number - 1).saturating_mul(page_size);
    let page = items
        .into_iter()
        .skip(usize::try_from(skip).unwrap_or(usize::MAX))
        .take(usize::try_from(page_size).unwrap_or(usize::MAX))
        .collect();
    (total, page)
}

impl State {
    fn havip_json(&self, id: &str, h: &HaVipRecord) -> Value {
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
            "AssociatedEipAddresses": self.eips_on_ha_vip(id).map(|(eip_id, e)| json!({
                "Eip": e.ip,
                "EipId": eip_id,
            })).collect::<Vec<_>>(),
        })
    }
}

/// A whole number in `range` from an optional parameter (`default` when absent or blank), or
/// `InvalidParameter.<name>` saying what it must be.
pub(super) fn whole_number(
    value: &Option<String>,
    name: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ApiError> {
    let Some(text) = given(value) else {
        return Ok(default);
    };
    match text.trim().parse::<u64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => {
            let must = if *range.end() == u64::MAX {
                format!("a whole number of at least {}", range.start())
            } else {
                format!("a whole number from {} to {}", range.start(), range.end())
            };
            Err(ApiError::bad(
                format!("InvalidParameter.{name}"),
                format!(
                    "The specified field {name} invalid. Please check it again. It must be {must}."
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_default_when_blank_and_name_what_they_must_be() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(whole_number(&None, "PageSize", 10, 1..=100).unwrap(), 10);
        assert_eq!(
            whole_number(&some(" "), "PageSize", 10, 1..=100).unwrap(),
            10
        );
        assert_eq!(
            whole_number(&some(" 7 "), "PageSize", 10, 1..=100).unwrap(),
            7
        );
        for (value, name, range, message) in [
            (
                "11",
                "Amount",
                1..=10,
                "The specified field Amount invalid. Please check it again. It must be a whole \
                 number from 1 to 10.",
            ),
            (
                "0",
                "PageNumber",
                1..=u64::MAX,
                "The specified field PageNumber invalid. Please check it again. It must be a \
                 whole number of at least 1.",
            ),
            (
                "ten",
                "PageSize",
                1..=100,
                "The specified field PageSize invalid. Please check it again. It must be a whole \
                 number from 1 to 100.",
            ),
        ] {
            let e = whole_number(&some(value), name, 1, range).unwrap_err();
            assert_eq!(e.code, format!("InvalidParameter.{name}"));
            assert_eq!(e.message, message);
        }
    }
}
