//! The neighbours of an HAVIP, played from the state the HAVIP operations keep (vSwitches,
//! instances, ENIs, HAVIPs) and the EIPs: DescribeInstances, DescribeNetworkInterfaces,
//! DescribeEnsEipAddresses, AssociateEnsEipAddress and UnAssociateEnsEipAddress.
//!
//! The answers have the shapes of the response bodies of Alibaba's Python SDK
//! (`alibabacloud-ens20171110` 12.1.0, `models/_describe_instances_response_body.py` and its
//! siblings: the wire names of their `to_map()`, list wrappers included). The rules, codes and
//! the emulator's assumptions are listed in the [module documentation](super).

use std::collections::BTreeSet;
use std::time::Instant;

use serde_json::{json, Value};

use super::params::{
    given, json_strings, AssociateEipParams, DescribeEipsParams, DescribeEnisParams,
    DescribeInstancesParams, UnassociateEipParams,
};
use super::state::{
    eni_refusal, filter, ha_vip_refusal, instance_not_found, instance_refusal, no_permission,
    page_of, passes, required, valid_id, whole_number, EipBinding, EipInstanceType, EipRecord,
    EipStatus, Eni, Instance, NetworkInterfaceType, State, DEFAULT_ENS_REGION_ID,
    DEFAULT_NETWORK_ID,
};
use super::ApiError;
use crate::signer::format_timestamp;

/// What DescribeInstances shows of every instance where the emulator keeps nothing.
const SPEC_NAME: &str = "ens.sn1.small";
const INSTANCE_TYPE_FAMILY: &str = "ens.sn1";
const CPU: &str = "2";
const MEMORY_MB: u32 = 4096;
const DISK_MB: u32 = 20480;
const IMAGE_ID: &str = "centos_7_9_x64_20G_alibase_20240628";
const OS_NAME: &str = "CentOS 7.9 64 bit";
const BANDWIDTH_IN_MBPS: u32 = 100;
/// An EIP's `Bandwidth`, and an instance's `InternetMaxBandwidthOut`.
const BANDWIDTH_OUT_MBPS: u32 = 5;

/// The most `InstanceIds`/`EnsRegionIds` (DescribeInstances' JSON arrays), `EnsRegionIds.N`
/// and `NetworkInterfaceIds.N` one request takes (ENS's documented maximum).
const MAX_LIST: u32 = 100;
/// The most comma-separated `AllocationId`s/`EipAddress`es one DescribeEnsEipAddresses takes
/// (ENS's documented maximum).
const MAX_COMMA_LIST: usize = 50;

fn eip_not_found() -> ApiError {
    ApiError::bad(
        "EipNotFound",
        "The input parameter allocationId that is not found.",
    )
}

fn incorrect_eip_status(status: EipStatus, must: &str) -> ApiError {
    ApiError::bad(
        "IncorrectEipStatus",
        format!(
            "The current status of the resource does not support this operation: the EIP is \
             {status} (must be {must})."
        ),
    )
}

/// `true`/`false` (any case, as the SDKs send them), `None` when absent or blank.
fn boolean(value: &Option<String>) -> Result<Option<bool>, ()> {
    match given(value).map(str::trim) {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(()),
    }
}

/// A JSON array of strings (DescribeInstances' `InstanceIds`, `EnsRegionIds`): `None` when
/// absent or blank, else at most [`MAX_LIST`] values (`[]` is a filter that matches nothing,
/// as ENS documents), or `InvalidParameter.<name>`.
fn json_list(value: &Option<String>, name: &str) -> Result<Option<Vec<String>>, ApiError> {
    let Some(text) = given(value) else {
        return Ok(None);
    };
    match json_strings(text, MAX_LIST as usize) {
        Ok(list) => Ok(Some(list)),
        Err(_) => Err(ApiError::bad(
            format!("InvalidParameter.{name}"),
            format!(
                "The specified field {name} invalid. Please check it again. It must be a JSON \
                 array of at most {MAX_LIST} strings."
            ),
        )),
    }
}

/// Up to [`MAX_COMMA_LIST`] comma-separated values (blank ones skipped): `None` when none is
/// given, or `InvalidParameter.<name>`.
fn comma_list<'p>(value: &'p Option<String>, name: &str) -> Result<Option<Vec<&'p str>>, ApiError> {
    let Some(text) = given(value) else {
        return Ok(None);
    };
    let list: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .take(MAX_COMMA_LIST + 1)
        .collect();
    if list.len() > MAX_COMMA_LIST {
        return Err(ApiError::bad(
            format!("InvalidParameter.{name}"),
            format!(
                "The specified field {name} invalid. Please check it again. Give at most \
                 {MAX_COMMA_LIST} values, separated by commas."
            ),
        ));
    }
    Ok((!list.is_empty()).then_some(list))
}

/// `true` when there is no list or `value` is in it.
fn listed<S: AsRef<str>>(list: Option<&[S]>, value: &str) -> bool {
    list.is_none_or(|l| l.iter().any(|v| v.as_ref() == value))
}

/// A MAC address in Alibaba Cloud's range (`00:16:3e`), the same for the same ENI id every
/// time (FNV-1a of the id).
fn mac_address(id: &str) -> String {
    let hash = id.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let [_, a, b, c] = hash.to_be_bytes();
    format!("00:16:3e:{a:02x}:{b:02x}:{c:02x}")
}

impl State {
    /// The ENS region and network of `vswitch` (the defaults when it is unknown, which seeding
    /// never leaves).
    fn placement(&self, vswitch: &str) -> (&str, &str) {
        self.vswitches
            .get(vswitch)
            .map_or((DEFAULT_ENS_REGION_ID, DEFAULT_NETWORK_ID), |v| {
                (v.ens_region_id.as_str(), v.network_id.as_str())
            })
    }

    /// The addresses of the EIPs bound in effect to `instance_id` as `kind`.
    fn eip_addresses_on(&self, kind: EipInstanceType, instance_id: &str) -> Vec<&str> {
        self.eips
            .values()
            .filter(|e| e.bound_to(kind, instance_id))
            .map(|e| e.ip.as_str())
            .collect()
    }

    /// The ENIs attached to `instance_id`, the primary one first.
    fn enis_of(&self, instance_id: &str) -> Vec<(&String, &Eni)> {
        let mut enis: Vec<(&String, &Eni)> = self
            .enis
            .iter()
            .filter(|(_, e)| e.instance.as_deref() == Some(instance_id))
            .collect();
        enis.sort_by_key(|(id, e)| (e.kind != NetworkInterfaceType::Primary, *id));
        enis
    }

    fn instance_json(&self, id: &str, i: &Instance) -> Value {
        let (region, network) = self.placement(&i.vswitch);
        let gateway = self
            .vswitches
            .get(&i.vswitch)
            .map(|v| v.cidr.gateway().to_string())
            .unwrap_or_default();
        let public = self.eip_addresses_on(EipInstanceType::EnsInstance, id);
        let enis: Vec<Value> = self
            .enis_of(id)
            .into_iter()
            .map(|(eni_id, e)| {
                json!({
                    "NetworkInterfaceId": eni_id,
                    "MacAddress": mac_address(eni_id),
                    "PrimaryIpAddress": e.ip,
                    "Type": e.kind.as_str(),
                    "PrivateIpSets": {"PrivateIpSet": [
                        {"Primary": true, "PrivateIpAddress": e.ip},
                    ]},
                    "Ipv6Sets": {"Ipv6Set": []},
                })
            })
            .collect();
        json!({
            "InstanceId": id,
            "InstanceName": i.name,
            "HostName": i.name,
            "Status": i.status.as_str(),
            "EnsRegionId": region,
            "CreationTime": format_timestamp(i.created),
            "InstanceResourceType": "EnsInstance",
            "ImageId": IMAGE_ID,
            "OSName": OS_NAME,
            "SpecName": SPEC_NAME,
            "InstanceTypeFamily": INSTANCE_TYPE_FAMILY,
            "Cpu": CPU,
            "Memory": MEMORY_MB,
            "Disk": DISK_MB,
            "InternetMaxBandwidthIn": BANDWIDTH_IN_MBPS,
            "InternetMaxBandwidthOut": BANDWIDTH_OUT_MBPS,
            "NetworkAttributes": {
                "NetworkId": network,
                "VSwitchId": i.vswitch,
                "PrivateIpAddress": {"IpAddress": [i.ip]},
            },
            "PrivateIpAddresses": {"PrivateIpAddress": [
                {"Ip": i.ip, "GateWay": gateway, "Isp": ""},
            ]},
            "InnerIpAddress": {"IpAddress": []},
            "PublicIpAddress": {"IpAddress": public},
            "PublicIpAddresses": {"PublicIpAddress": public.iter().map(|ip| json!({
                "Ip": ip, "GateWay": "", "Isp": "",
            })).collect::<Vec<_>>()},
            "NetworkInterfaces": {"NetworkInterfaces": enis},
            "SecurityGroupIds": {"SecurityGroupId": []},
            "DataDisk": {"DataDisk": []},
            "Tags": {"Tags": []},
            "KeyPairName": "",
            "SpotStrategy": "NoSpot",
            "DeletionProtection": false,
        })
    }

    /// DescribeInstances.
    pub fn describe_instances(
        &mut self,
        params: &DescribeInstancesParams,
        deny: bool,
    ) -> Result<Value, ApiError> {
        let page_number = whole_number(&params.page_number, "PageNumber", 1, 1..=u64::MAX)?;
        let page_size = whole_number(&params.page_size, "PageSize", 10, 1..=100)?;
        let ids = json_list(&params.instance_ids, "InstanceIds")?;
        let regions = json_list(&params.ens_region_ids, "EnsRegionIds")?;
        if deny {
            return Err(no_permission());
        }
        self.settle(Instant::now());
        let (f_id, f_name, f_vsw, f_net, f_region, f_status, f_image, f_ip) = (
            filter(&params.instance_id),
            filter(&params.instance_name),
            filter(&params.vswitch_id),
            filter(&params.network_id),
            filter(&params.ens_region_id),
            filter(&params.status),
            filter(&params.image_id),
            filter(&params.intranet_ip),
        );
        let search = filter(&params.search_key);
        let matching: Vec<(&String, &Instance)> = self
            .instances
            .iter()
            .filter(|(id, i)| {
                let (region, network) = self.placement(&i.vswitch);
                passes(f_id, id)
                    && listed(ids.as_deref(), id)
                    && passes(f_name, &i.name)
                    && passes(f_vsw, &i.vswitch)
                    && passes(f_net, network)
                    && passes(f_region, region)
                    && listed(regions.as_deref(), region)
                    && passes(f_status, i.status.as_str())
                    && passes(f_image, IMAGE_ID)
                    && passes(f_ip, &i.ip)
                    && search
                        .is_none_or(|k| id.contains(k) || i.name.contains(k) || i.ip.contains(k))
            })
            .collect();
        let (total, page) = page_of(matching, page_number, page_size);
        let page: Vec<Value> = page
            .into_iter()
            .map(|(id, i)| self.instance_json(id, i))
            .collect();
        Ok(json!({
            "Code": 0,
            "TotalCount": total,
            "PageNumber": page_number,
            "PageSize": page_size,
            "Instances": {"Instance": page},
        }))
    }

    fn eni_json(&self, id: &str, e: &Eni) -> Value {
        let (region, network) = self.placement(&e.vswitch);
        json!({
            "NetworkInterfaceId": id,
            "NetworkInterfaceName": id,
            "Description": "",
            "InstanceId": e.instance.as_deref().unwrap_or(""),
            "Type": e.kind.as_str(),
            "Status": e.status.as_str(),
            "EnsRegionId": region,
            "NetworkId": network,
            "VSwitchId": e.vswitch,
            "PrimaryIp": e.ip,
            "MacAddress": mac_address(id),
            "CreationTime": format_timestamp(e.created),
            "PrivateIpSets": {"PrivateIpSet": [
                {"Primary": true, "PrivateIpAddress": e.ip, "PrivateIpStatus": "Available"},
            ]},
            "Ipv6Sets": {"Ipv6Set": []},
            "SecurityGroupIds": {"SecurityGroup": []},
        })
    }

    /// DescribeNetworkInterfaces.
    pub fn describe_network_interfaces(
        &mut self,
        params: &DescribeEnisParams,
        deny: bool,
    ) -> Result<Value, ApiError> {
        let page_number = whole_number(&params.page_number, "PageNumber", 1, 1..=u64::MAX)?;
        let page_size = whole_number(&params.page_size, "PageSize", 50, 1..=100)?;
        let ids: BTreeSet<&str> = params
            .lists
            .values("NetworkInterfaceIds", MAX_LIST)?
            .into_iter()
            .collect();
        let regions: BTreeSet<&str> = params
            .lists
            .values("EnsRegionIds", MAX_LIST)?
            .into_iter()
            .collect();
        if deny {
            return Err(no_permission());
        }
        self.settle(Instant::now());
        let (f_id, f_name, f_instance, f_vsw, f_net, f_region, f_ip, f_type, f_status) = (
            filter(&params.network_interface_id),
            filter(&params.network_interface_name),
            filter(&params.instance_id),
            filter(&params.vswitch_id),
            filter(&params.network_id),
            filter(&params.ens_region_id),
            filter(&params.primary_ip_address),
            filter(&params.kind),
            filter(&params.status),
        );
        let matching: Vec<(&String, &Eni)> = self
            .enis
            .iter()
            .filter(|(id, e)| {
                let (region, network) = self.placement(&e.vswitch);
                passes(f_id, id)
                    && (ids.is_empty() || ids.contains(id.as_str()))
                    && passes(f_name, id)
                    && passes(f_instance, e.instance.as_deref().unwrap_or(""))
                    && passes(f_vsw, &e.vswitch)
                    && passes(f_net, network)
                    && passes(f_region, region)
                    && (regions.is_empty() || regions.contains(region))
                    && passes(f_ip, &e.ip)
                    && passes(f_type, e.kind.as_str())
                    && passes(f_status, e.status.as_str())
            })
            .collect();
        let (total, page) = page_of(matching, page_number, page_size);
        let page: Vec<Value> = page
            .into_iter()
            .map(|(id, e)| self.eni_json(id, e))
            .collect();
        Ok(json!({
            "TotalCount": total,
            "PageNumber": page_number,
            "PageSize": page_size,
            "NetworkInterfaceSets": {"NetworkInterfaceSet": page},
        }))
    }

    /// DescribeEnsEipAddresses.
    pub fn describe_eips(
        &mut self,
        params: &DescribeEipsParams,
        deny: bool,
    ) -> Result<Value, ApiError> {
        let page_number = whole_number(&params.page_number, "PageNumber", 1, 1..=u64::MAX)?;
        let page_size = whole_number(&params.page_size, "PageSize", 10, 1..=100)?;
        let ids = comma_list(&params.allocation_id, "AllocationId")?;
        let addresses = comma_list(&params.eip_address, "EipAddress")?;
        let regions: BTreeSet<&str> = params
            .lists
            .values("EnsRegionIds", MAX_LIST)?
            .into_iter()
            .collect();
        let standby = boolean(&params.standby).map_err(|()| {
            ApiError::bad(
                "InvalidParameter.Standby",
                "The specified field Standby invalid. Please check it again. It must be true \
                 or false.",
            )
        })?;
        if deny {
            return Err(no_permission());
        }
        self.settle(Instant::now());
        let (f_name, f_instance, f_type, f_region, f_status) = (
            filter(&params.eip_name),
            filter(&params.associated_instance_id),
            filter(&params.associated_instance_type),
            filter(&params.ens_region_id),
            filter(&params.status),
        );
        let matching: Vec<(&String, &EipRecord)> = self
            .eips
            .iter()
            .filter(|(id, e)| {
                let binding = e.binding.as_ref();
                listed(ids.as_deref(), id)
                    && listed(addresses.as_deref(), &e.ip)
                    && passes(f_name, &e.name)
                    && passes(f_instance, binding.map_or("", |b| b.instance_id.as_str()))
                    && passes(f_type, binding.map_or("", |b| b.kind.as_str()))
                    && passes(f_region, &e.ens_region_id)
                    && (regions.is_empty() || regions.contains(e.ens_region_id.as_str()))
                    && passes(f_status, e.status.as_str())
                    && standby.is_none_or(|s| s == e.standby)
            })
            .collect();
        let (total, page) = page_of(matching, page_number, page_size);
        let page: Vec<Value> = page.into_iter().map(|(id, e)| eip_json(id, e)).collect();
        Ok(json!({
            "TotalCount": total,
            "PageNumber": page_number,
            "PageSize": page_size,
            "EipAddresses": {"EipAddress": page},
        }))
    }

    /// The ENS region of the resource an EIP would be bound to, and why it cannot take one (if
    /// it cannot); `InstanceNotFound` when there is no such resource.
    fn eip_target(
        &self,
        kind: EipInstanceType,
        id: &str,
    ) -> Result<(&str, Option<ApiError>), ApiError> {
        match kind {
            EipInstanceType::EnsInstance => {
                let i = self.instances.get(id).ok_or_else(instance_not_found)?;
                Ok((self.placement(&i.vswitch).0, instance_refusal(i)))
            }
            // An instance's primary ENI takes its EIP as `EnsInstance`.
            EipInstanceType::NetworkInterface => {
                let e = self.enis.get(id).ok_or_else(instance_not_found)?;
                let refusal = eni_refusal(e, NetworkInterfaceType::Secondary);
                Ok((self.placement(&e.vswitch).0, refusal))
            }
            EipInstanceType::HaVip => {
                let h = self.havips.get(id).ok_or_else(instance_not_found)?;
                Ok((h.ens_region_id.as_str(), ha_vip_refusal(h)))
            }
            _ => Err(ApiError::bad(
                "InstanceNotFound",
                format!(
                    "The input parameter instancdId that is not found. (The emulator keeps no \
                     {kind} resources.)"
                ),
            )),
        }
    }

    /// AssociateEnsEipAddress. Validation order: parameters, permission, the EIP, the target
    /// (existence, its region, its type and status), the EIP's status, the target's EIPs.
    pub fn associate_eip(
        &mut self,
        params: &AssociateEipParams,
        deny: bool,
    ) -> Result<Value, ApiError> {
        let eip_id = required(&params.allocation_id, "AllocationId")?;
        let target = required(&params.instance_id, "InstanceId")?;
        valid_id("AllocationId", eip_id)?;
        valid_id("InstanceId", target)?;
        let kind = match given(&params.instance_type).map(str::trim) {
            None => EipInstanceType::EnsInstance,
            Some(t) => EipInstanceType::from_wire(t).ok_or_else(|| {
                ApiError::bad(
                    "InvalidInstanceType",
                    "The specified parameter InstanceType is invalid. Valid values: \
                     EnsInstance, HaVip, NetworkInterface, SlbInstance, Nat, NatSlbInstance.",
                )
            })?,
        };
        let standby = boolean(&params.standby)
            .map_err(|()| {
                ApiError::bad(
                    "InvalidStandby",
                    "The specified parameter Standby is invalid: true or false.",
                )
            })?
            .unwrap_or(false);
        if deny {
            return Err(no_permission());
        }
        let now = Instant::now();
        self.settle(now);
        let eip = self.eips.get(eip_id).ok_or_else(eip_not_found)?;
        let (region, refusal) = self.eip_target(kind, target)?;
        // The region never changes: answered before a status that may be passing.
        if region != eip.ens_region_id {
            return Err(ApiError::bad(
                "IncorrectInstanceRegion",
                format!(
                    "The EIP and the resource must be in the same ENS region: the EIP is in {}, \
                     {target} in {region}.",
                    eip.ens_region_id
                ),
            ));
        }
        if let Some(e) = refusal {
            return Err(e);
        }
        if eip.status != EipStatus::Available {
            return Err(incorrect_eip_status(eip.status, "Available"));
        }
        let binding = EipBinding {
            instance_id: target.to_owned(),
            kind,
        };
        if self
            .eips
            .values()
            .any(|e| e.standby == standby && e.binding.as_ref() == Some(&binding))
        {
            return Err(ApiError::bad(
                "InvalidAssociation.Duplicated",
                format!(
                    "The specified association already exists: {target} already has a{} EIP.",
                    if standby { " standby" } else { "n" }
                ),
            ));
        }
        let until = now + self.settings.eip_associate_delay;
        if let Some(eip) = self.eips.get_mut(eip_id) {
            eip.binding = Some(binding);
            eip.standby = standby;
            eip.status = EipStatus::Associating;
            eip.until = Some(until);
        }
        self.settle(now);
        Ok(json!({}))
    }

    /// UnAssociateEnsEipAddress. Validation order: parameters, permission, the EIP, its status,
    /// a standby EIP on the same resource.
    pub fn unassociate_eip(
        &mut self,
        params: &UnassociateEipParams,
        deny: bool,
    ) -> Result<Value, ApiError> {
        let eip_id = required(&params.allocation_id, "AllocationId")?;
        valid_id("AllocationId", eip_id)?;
        // The emulator keeps no NAT entries for `Force` to override; it is only checked.
        boolean(&params.force).map_err(|()| {
            ApiError::bad(
                "InvalidForce",
                "The specified parameter Force is invalid: true or false.",
            )
        })?;
        if deny {
            return Err(no_permission());
        }
        let now = Instant::now();
        self.settle(now);
        let eip = self.eips.get(eip_id).ok_or_else(eip_not_found)?;
        if eip.status != EipStatus::InUse {
            return Err(incorrect_eip_status(eip.status, "InUse"));
        }
        if let Some(binding) = eip.binding.as_ref().filter(|_| !eip.standby) {
            let standby_bound = self.eips.iter().any(|(other, e)| {
                other != eip_id && e.standby && e.binding.as_ref() == Some(binding)
            });
            if standby_bound {
                return Err(ApiError::bad(
                    "InvalidUnAssociation.UnAssociateStandbyEipFist",
                    format!(
                        "Unassociate standby eip first: {} also has a standby EIP.",
                        binding.instance_id
                    ),
                ));
            }
        }
        let until = now + self.settings.eip_unassociate_delay;
        if let Some(eip) = self.eips.get_mut(eip_id) {
            eip.status = EipStatus::Unassociating;
            eip.until = Some(until);
        }
        self.settle(now);
        Ok(json!({}))
    }
}

fn eip_json(id: &str, e: &EipRecord) -> Value {
    let binding = e.binding.as_ref();
    let allocated_ms = e.created.unix_timestamp().saturating_mul(1000);
    json!({
        "AllocationId": id,
        "AllocationTime": allocated_ms.to_string(),
        "IpAddress": e.ip,
        "Name": e.name,
        "Description": "",
        "EnsRegionId": e.ens_region_id,
        "Status": e.status.as_str(),
        "InstanceId": binding.map_or("", |b| b.instance_id.as_str()),
        "InstanceType": binding.map_or("", |b| b.kind.as_str()),
        "Standby": e.standby,
        "Bandwidth": BANDWIDTH_OUT_MBPS,
        "ChargeType": "PostPaid",
        "InternetChargeType": "95BandwidthByMonth",
        "IcmpReplyEnabled": true,
        "OperationLocks": {"Lock": []},
        "Tags": {"Tag": []},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_addresses_are_alibabas_and_stable() {
        let a = mac_address("eni-demo");
        assert_eq!(a, mac_address("eni-demo"));
        assert_ne!(a, mac_address("eni-demo-2"));
        assert!(a.starts_with("00:16:3e:"), "{a}");
        assert_eq!(a.len(), 17);
    }

    #[test]
    fn lists_are_bounded_and_name_their_parameter() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(json_list(&None, "InstanceIds").unwrap(), None);
        assert_eq!(json_list(&some("[]"), "InstanceIds").unwrap(), Some(vec![]));
        assert_eq!(
            json_list(&some(r#"["i-1", "i-2"]"#), "InstanceIds").unwrap(),
            Some(vec!["i-1".to_owned(), "i-2".to_owned()])
        );
        let hundred_and_one = serde_json::to_string(&vec!["i"; 101]).unwrap();
        for bad in ["i-1", "[1]", "{}", hundred_and_one.as_str()] {
            let e = json_list(&some(bad), "InstanceIds").unwrap_err();
            assert_eq!(e.code, "InvalidParameter.InstanceIds", "{bad}");
        }
        assert_eq!(comma_list(&some(" , "), "AllocationId").unwrap(), None);
        assert_eq!(
            comma_list(&some("eip-1, eip-2,"), "AllocationId").unwrap(),
            Some(vec!["eip-1", "eip-2"])
        );
        let fifty_one = vec!["eip"; 51].join(",");
        let e = comma_list(&some(&fifty_one), "AllocationId").unwrap_err();
        assert_eq!(e.code, "InvalidParameter.AllocationId");
        assert!(comma_list(&some(&vec!["eip"; 50].join(",")), "AllocationId").is_ok());
    }

    #[test]
    fn booleans_are_true_or_false_in_any_case() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(boolean(&None), Ok(None));
        assert_eq!(boolean(&some("True")), Ok(Some(true)));
        assert_eq!(boolean(&some(" false ")), Ok(Some(false)));
        assert_eq!(boolean(&some("yes")), Err(()));
    }
}
