//! The data types of the HAVIP operations: HAVIPs, their associations and their statuses.
//!
//! Decoding is lenient where the service is loose: unknown status values decode into an
//! `Unknown` variant, counts accept JSON strings or numbers, `null` reads as absent, and an
//! unparseable time reads as `None` (the raw text is kept).

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::Error;

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vdoc:meta])* $variant:ident => $wire:literal, )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )*
            /// A value this crate does not know yet, kept as sent.
            Unknown(String),
        }

        impl $name {
            /// Every known value.
            pub const KNOWN: &'static [$name] = &[ $( $name::$variant, )* ];

            /// Decodes a wire value; never fails (unknown values become `Unknown`).
            pub fn from_wire(s: &str) -> Self {
                match s {
                    $( $wire => $name::$variant, )*
                    other => $name::Unknown(other.to_owned()),
                }
            }

            /// The exact wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )*
                    $name::Unknown(s) => s,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s: Option<String> = Option::deserialize(d)?;
                Ok($name::from_wire(s.as_deref().unwrap_or("")))
            }
        }
    };
}

wire_enum! {
    /// The kind of resource an HAVIP is associated with (`InstanceType`).
    ///
    /// `FromStr` accepts only the known wire names (case-insensitively) and names the bad value
    /// otherwise; [`InstanceType::from_wire`] keeps unknown values.
    InstanceType {
        /// `EnsInstance`: an ENS instance (the server's default).
        EnsInstance => "EnsInstance",
        /// `NetworkInterface`: an elastic network interface (ENI).
        NetworkInterface => "NetworkInterface",
    }
}

impl FromStr for InstanceType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InstanceType::KNOWN
            .iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .cloned()
            .ok_or_else(|| {
                Error::invalid_input(
                    "InstanceType",
                    format!(
                        "`{s}` is not an instance type; expected EnsInstance or NetworkInterface"
                    ),
                )
            })
    }
}

wire_enum! {
    /// The status of an HAVIP (`Status` in DescribeHaVips).
    ///
    /// Note the status trap: an HAVIP that already serves one instance stays `InUse` while a
    /// further association is in progress. Whether a given instance is associated is told by
    /// its [`AssociatedInstance::status`], not by this.
    HaVipStatus {
        /// `Creating`: being created.
        Creating => "Creating",
        /// `Available`: created, associated with nothing.
        Available => "Available",
        /// `Associating`: its first association is in progress.
        Associating => "Associating",
        /// `InUse`: associated with at least one instance.
        InUse => "InUse",
        /// `Unassociating`: an association is being removed.
        Unassociating => "Unassociating",
        /// `Deleting`: being deleted.
        Deleting => "Deleting",
    }
}

impl FromStr for HaVipStatus {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HaVipStatus::KNOWN
            .iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .cloned()
            .ok_or_else(|| Error::invalid_input("Status", format!("`{s}` is not an HAVIP status")))
    }
}

wire_enum! {
    /// The status of one association between an HAVIP and an instance or ENI.
    AssociationStatus {
        /// `Associating`: the association is in progress.
        Associating => "Associating",
        /// `InUse`: the association is in effect.
        InUse => "InUse",
        /// `Unassociating`: the association is being removed.
        Unassociating => "Unassociating",
    }
}

/// One HAVIP, as DescribeHaVips returns it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct HaVip {
    /// The HAVIP's id (`havip-…`).
    #[serde(default, deserialize_with = "lenient_string")]
    pub ha_vip_id: String,
    /// Its status.
    #[serde(default = "unknown_status")]
    pub status: HaVipStatus,
    /// Its IP address.
    #[serde(default, deserialize_with = "lenient_string")]
    pub ip_address: String,
    /// Its name.
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: String,
    /// Its description.
    #[serde(default, deserialize_with = "lenient_string")]
    pub description: String,
    /// The ENS node (edge region) it lives in.
    #[serde(default, deserialize_with = "lenient_string")]
    pub ens_region_id: String,
    /// The network it belongs to.
    #[serde(default, deserialize_with = "lenient_string")]
    pub network_id: String,
    /// The vSwitch it belongs to.
    #[serde(default, deserialize_with = "lenient_string", rename = "VSwitchId")]
    pub vswitch_id: String,
    /// When it was created, when the service sent a parseable time.
    #[serde(default, deserialize_with = "lenient_time")]
    pub creation_time: Option<OffsetDateTime>,
    /// The instances and ENIs it is associated with, each with its own status.
    #[serde(default, deserialize_with = "lenient_list")]
    pub associated_instances: Vec<AssociatedInstance>,
    /// The EIPs bound to it.
    #[serde(default, deserialize_with = "lenient_list")]
    pub associated_eip_addresses: Vec<AssociatedEipAddress>,
}

impl HaVip {
    /// The association with `instance_id`, if it is listed.
    pub fn association(&self, instance_id: &str) -> Option<&AssociatedInstance> {
        self.associated_instances
            .iter()
            .find(|a| a.instance_id == instance_id)
    }

    /// `true` when this HAVIP is `InUse` **and** `instance_id` is listed with status `InUse`:
    /// the only reliable sign that the association is in effect (see the status trap).
    pub fn is_in_use_by(&self, instance_id: &str) -> bool {
        self.status == HaVipStatus::InUse
            && self
                .association(instance_id)
                .is_some_and(|a| a.status == AssociationStatus::InUse)
    }
}

/// One association of an HAVIP.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct AssociatedInstance {
    /// The instance or ENI id.
    #[serde(default, deserialize_with = "lenient_string")]
    pub instance_id: String,
    /// Whether it is an ENS instance or an ENI.
    #[serde(default = "unknown_instance_type")]
    pub instance_type: InstanceType,
    /// The instance's IP address.
    #[serde(default, deserialize_with = "lenient_string")]
    pub ip_address: String,
    /// The association's own status.
    #[serde(default = "unknown_association_status")]
    pub status: AssociationStatus,
    /// When the association was made, when the service sent a parseable time.
    #[serde(default, deserialize_with = "lenient_time")]
    pub creation_time: Option<OffsetDateTime>,
}

/// One EIP bound to an HAVIP.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct AssociatedEipAddress {
    /// The EIP's address.
    #[serde(default, deserialize_with = "lenient_string")]
    pub eip: String,
    /// The EIP's id.
    #[serde(default, deserialize_with = "lenient_string")]
    pub eip_id: String,
}

fn unknown_status() -> HaVipStatus {
    HaVipStatus::Unknown(String::new())
}
fn unknown_instance_type() -> InstanceType {
    InstanceType::Unknown(String::new())
}
fn unknown_association_status() -> AssociationStatus {
    AssociationStatus::Unknown(String::new())
}

/// A string, or a number/bool rendered as text, or `null` as empty.
pub(crate) fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        other => {
            return Err(de::Error::custom(format!(
                "expected a string, found {}",
                json_kind(&other)
            )))
        }
    })
}

/// An optional count: a JSON number, a string holding digits, `null` or absent.
pub(crate) fn lenient_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    match v {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Number(n) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| de::Error::custom(format!("expected a count, found {n}"))),
        serde_json::Value::String(s) if s.trim().is_empty() => Ok(None),
        serde_json::Value::String(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("expected a count, found {s:?}"))),
        other => Err(de::Error::custom(format!(
            "expected a count, found {}",
            json_kind(&other)
        ))),
    }
}

/// A time `YYYY-MM-DDThh:mm:ssZ` (or RFC 3339, or without seconds); anything else is `None`.
fn lenient_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
    let s = lenient_string(d)?;
    Ok(parse_time(&s))
}

pub(crate) fn parse_time(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(t) = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Some(t);
    }
    // `2024-01-02T03:04Z` (no seconds) appears in some Alibaba APIs.
    if s.len() == 17 && s.ends_with('Z') {
        return crate::signer::parse_timestamp(&format!("{}:00Z", &s[..16]));
    }
    None
}

/// A list that may come as an array, as `{"Anything": [...]}` (the XML-derived shape some
/// Alibaba APIs use), or as `null`.
pub(crate) fn lenient_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let v = serde_json::Value::deserialize(d)?;
    let arr = match v {
        serde_json::Value::Null => return Ok(Vec::new()),
        serde_json::Value::Array(a) => a,
        serde_json::Value::Object(mut m) if m.len() == 1 => match m.values_mut().next() {
            Some(serde_json::Value::Array(a)) => std::mem::take(a),
            Some(serde_json::Value::Null) => return Ok(Vec::new()),
            _ => return Err(de::Error::custom("expected a list, found an object")),
        },
        serde_json::Value::Object(m) if m.is_empty() => return Ok(Vec::new()),
        other => {
            return Err(de::Error::custom(format!(
                "expected a list, found {}",
                json_kind(&other)
            )))
        }
    };
    arr.into_iter()
        .map(|item| serde_json::from_value(item).map_err(de::Error::custom))
        .collect()
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_type_wire_names() {
        assert_eq!(InstanceType::EnsInstance.to_string(), "EnsInstance");
        assert_eq!(
            InstanceType::NetworkInterface.to_string(),
            "NetworkInterface"
        );
        assert_eq!(
            "networkinterface".parse::<InstanceType>().unwrap(),
            InstanceType::NetworkInterface
        );
        let e = "Eni".parse::<InstanceType>().unwrap_err().to_string();
        assert!(e.contains("InstanceType") && e.contains("Eni"), "{e}");
        assert_eq!(
            InstanceType::from_wire("Eip"),
            InstanceType::Unknown("Eip".into())
        );
    }

    #[test]
    fn havip_decodes_leniently() {
        let v: HaVip = serde_json::from_str(
            r#"{"HaVipId":"havip-1","Status":"Frozen","IpAddress":null,"VSwitchId":"vsw-1",
                "CreationTime":"2024-01-02T03:04:05Z",
                "AssociatedInstances":{"AssociatedInstance":[{"InstanceId":"i-1","Status":"InUse","InstanceType":"EnsInstance"}]},
                "AssociatedEipAddresses":null,"Extra":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(v.status, HaVipStatus::Unknown("Frozen".into()));
        assert_eq!(v.ip_address, "");
        assert_eq!(v.vswitch_id, "vsw-1");
        assert_eq!(
            v.creation_time,
            Some(time::macros::datetime!(2024-01-02 03:04:05 UTC))
        );
        assert_eq!(v.associated_instances.len(), 1);
        assert!(v.associated_eip_addresses.is_empty());
        assert!(!v.is_in_use_by("i-1"), "HAVIP status is not InUse");
    }

    #[test]
    fn status_trap_needs_both_statuses() {
        let v: HaVip = serde_json::from_str(
            r#"{"HaVipId":"h","Status":"InUse","AssociatedInstances":[
                {"InstanceId":"i-1","Status":"InUse"},{"InstanceId":"i-2","Status":"Associating"}]}"#,
        )
        .unwrap();
        assert!(v.is_in_use_by("i-1"));
        assert!(!v.is_in_use_by("i-2"));
        assert!(!v.is_in_use_by("i-3"));
    }

    #[test]
    fn times_parse_leniently() {
        assert!(parse_time("2024-01-02T03:04Z").is_some());
        assert!(parse_time("2024-01-02T03:04:05.123+08:00").is_some());
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time(""), None);
    }

    #[test]
    fn wrong_types_are_errors_not_panics() {
        assert!(serde_json::from_str::<HaVip>(r#"{"HaVipId":["x"]}"#).is_err());
        assert!(serde_json::from_str::<HaVip>(r#"{"AssociatedInstances":"x"}"#).is_err());
        assert!(serde_json::from_str::<HaVip>(r#"{"HaVipId":7}"#).is_ok());
    }
}
