//! The data types of the HAVIP operations: HAVIPs, their associations and their statuses.
//!
//! Every type here is a serde type whose JSON is the API's own shape (`HaVipId`, `Status`,
//! `AssociatedInstances`, …), so an answer decodes into it and a value serializes back to the
//! same shape (for logs, or to re-emit it). Decoding is lenient where the service is loose:
//! unknown status values decode into an `Unknown` variant, counts accept JSON strings or
//! numbers, `null` reads as absent, lists may come wrapped in an object (`{"HaVip": [...]}`),
//! and an unparseable time reads as `None`. A value of the wrong kind (an object where a string
//! belongs) is an error naming its path.
//!
//! The structs are `#[non_exhaustive]`: build them with their constructors and `with_*`
//! methods, e.g. in your own tests:
//!
//! ```
//! use alibabacloud_ens::{AssociatedInstance, AssociationStatus, HaVip, HaVipStatus};
//!
//! let h = HaVip::new("havip-1")
//!     .with_status(HaVipStatus::InUse)
//!     .with_vswitch_id("vsw-1")
//!     .with_associated_instance(AssociatedInstance::new("i-1", AssociationStatus::InUse));
//! assert!(h.is_in_use_by("i-1"));
//! let json = serde_json::to_string(&h).unwrap();
//! assert!(json.starts_with(r#"{"HaVipId":"havip-1","Status":"InUse""#));
//! assert_eq!(serde_json::from_str::<HaVip>(&json).unwrap(), h);
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use crate::lenient;

/// A string that is not one of an enum's known wire names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: `{value}` is not {expected}")]
#[non_exhaustive]
pub struct ParseEnumError {
    /// The parameter the value was meant for (`InstanceType`, `Status`).
    pub parameter: &'static str,
    /// The value given.
    pub value: String,
    /// What was expected, e.g. `an instance type (EnsInstance or NetworkInterface)`.
    pub expected: &'static str,
}

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident ($param:literal, $expected:literal) {
            $( $(#[$vdoc:meta])* $variant:ident => $wire:literal, )*
        }
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

        /// Only the known wire names, case-insensitively; the error names the bad value.
        /// ([`from_wire`](Self::from_wire) keeps unknown values instead.)
        impl FromStr for $name {
            type Err = ParseEnumError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::KNOWN
                    .iter()
                    .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
                    .cloned()
                    .ok_or_else(|| ParseEnumError {
                        parameter: $param,
                        value: s.to_owned(),
                        expected: $expected,
                    })
            }
        }

        /// `Unknown("")`: what an absent or `null` value decodes to.
        impl Default for $name {
            fn default() -> Self {
                $name::Unknown(String::new())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        /// Any string (or number, or `null`) decodes; see [`from_wire`](Self::from_wire). For a
        /// value a person typed, use [`strict`](crate::model::strict) instead.
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok($name::from_wire(&lenient::string(d)?))
            }
        }
    };
}

wire_enum! {
    /// The kind of resource an HAVIP is associated with (`InstanceType`).
    InstanceType ("InstanceType", "an instance type (EnsInstance or NetworkInterface)") {
        /// `EnsInstance`: an ENS instance (the server's default).
        EnsInstance => "EnsInstance",
        /// `NetworkInterface`: an elastic network interface (ENI).
        NetworkInterface => "NetworkInterface",
    }
}

wire_enum! {
    /// The status of an HAVIP (`Status` in DescribeHaVips).
    ///
    /// Note the status trap: an HAVIP that already serves one instance stays `InUse` while a
    /// further association is in progress. Whether a given instance is associated is told by
    /// its [`AssociatedInstance::status`], not by this.
    HaVipStatus ("Status", "an HAVIP status (Creating, Available, Associating, InUse, Unassociating or Deleting)") {
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

wire_enum! {
    /// The status of one association between an HAVIP and an instance or ENI.
    AssociationStatus ("Status", "an association status (Associating, InUse or Unassociating)") {
        /// `Associating`: the association is in progress.
        Associating => "Associating",
        /// `InUse`: the association is in effect.
        InUse => "InUse",
        /// `Unassociating`: the association is being removed.
        Unassociating => "Unassociating",
    }
}

/// Strict decoding for values a person typed: `#[serde(with = "alibabacloud_ens::model::strict")]`
/// on a field of your config (and [`strict::option`] on an `Option` field, with
/// `#[serde(default)]` if it may be left out).
///
/// The model's enums decode answers leniently: a value this crate does not know becomes
/// `Unknown(..)`, so a new status from the service never breaks a poll. In a config that
/// leniency would hide a typo. These helpers accept only what [`FromStr`] accepts (the known
/// names, case-insensitively) and refuse anything else with its message, which names the
/// parameter, the value and what was expected. They work for any type whose `FromStr` error
/// displays: [`InstanceType`], [`HaVipStatus`], [`AssociationStatus`],
/// [`SignatureVersion`](crate::SignatureVersion). Serializing writes the value's `Display`.
///
/// ```
/// use alibabacloud_ens::{HaVipStatus, InstanceType};
/// use serde::Deserialize;
///
/// #[derive(Debug, Deserialize)]
/// struct Member {
///     instance_id: String,
///     #[serde(with = "alibabacloud_ens::model::strict")]
///     instance_type: InstanceType,
///     #[serde(default, with = "alibabacloud_ens::model::strict::option")]
///     expect: Option<HaVipStatus>,
/// }
///
/// let ok: Member = serde_json::from_str(
///     r#"{"instance_id": "eni-1", "instance_type": "NetworkInterface"}"#,
/// ).unwrap();
/// assert_eq!(ok.instance_type, InstanceType::NetworkInterface);
/// assert_eq!(ok.expect, None);
///
/// let typo = serde_json::from_str::<Member>(
///     r#"{"instance_id": "eni-1", "instance_type": "NetworkInterfase"}"#,
/// ).unwrap_err();
/// assert!(typo.to_string().starts_with(
///     "InstanceType: `NetworkInterfase` is not an instance type (EnsInstance or NetworkInterface)"
/// ));
///
/// // The lenient path (answers) would have kept it:
/// let lenient: InstanceType = serde_json::from_str(r#""NetworkInterfase""#).unwrap();
/// assert_eq!(lenient, InstanceType::Unknown("NetworkInterfase".into()));
/// ```
pub mod strict {
    use std::fmt;
    use std::str::FromStr;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `value`'s `Display` (for an enum of this crate: its wire name).
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize<T: fmt::Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    /// Reads a string and parses it with `T`'s [`FromStr`].
    ///
    /// # Errors
    /// Anything but a string, or a string `FromStr` refuses (with its message).
    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr,
        T::Err: fmt::Display,
        D: Deserializer<'de>,
    {
        let text = String::deserialize(d)?;
        text.parse().map_err(D::Error::custom)
    }

    /// As [`strict`](super::strict), for an `Option` field: `null` is `None`. Add
    /// `#[serde(default)]` to allow leaving the field out.
    pub mod option {
        use super::*;

        /// Writes `Some(value)` as `value`'s `Display`, `None` as `null`.
        ///
        /// # Errors
        /// The serializer's.
        pub fn serialize<T: fmt::Display, S: Serializer>(
            value: &Option<T>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => s.collect_str(v),
                None => s.serialize_none(),
            }
        }

        /// Reads `null` as `None`, a string as `Some` parsed with `T`'s [`FromStr`].
        ///
        /// # Errors
        /// Anything but a string or `null`, or a string `FromStr` refuses (with its message).
        pub fn deserialize<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
        where
            T: FromStr,
            T::Err: fmt::Display,
            D: Deserializer<'de>,
        {
            match Option::<String>::deserialize(d)? {
                Some(text) => text.parse().map(Some).map_err(D::Error::custom),
                None => Ok(None),
            }
        }
    }
}

/// Chainable setters, `with_<field>(self, value) -> Self`, for public fields.
macro_rules! with_setters {
    ($ty:ident { $( $(#[$doc:meta])* $setter:ident ($field:ident : $t:ty) ),* $(,)? }) => {
        impl $ty {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $setter(mut self, value: impl Into<$t>) -> Self {
                    self.$field = value.into();
                    self
                }
            )*
        }
    };
}

/// One HAVIP, as DescribeHaVips returns it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct HaVip {
    /// The HAVIP's id (`havip-…`).
    #[serde(deserialize_with = "lenient::string")]
    pub ha_vip_id: String,
    /// Its status.
    pub status: HaVipStatus,
    /// Its IP address.
    #[serde(deserialize_with = "lenient::string")]
    pub ip_address: String,
    /// Its name.
    #[serde(deserialize_with = "lenient::string")]
    pub name: String,
    /// Its description.
    #[serde(deserialize_with = "lenient::string")]
    pub description: String,
    /// The ENS node (edge region) it lives in.
    #[serde(deserialize_with = "lenient::string")]
    pub ens_region_id: String,
    /// The network it belongs to.
    #[serde(deserialize_with = "lenient::string")]
    pub network_id: String,
    /// The vSwitch it belongs to.
    #[serde(rename = "VSwitchId", deserialize_with = "lenient::string")]
    pub vswitch_id: String,
    /// When it was created, when the service sent a parseable time.
    #[serde(
        deserialize_with = "lenient::time",
        serialize_with = "lenient::serialize_time"
    )]
    pub creation_time: Option<OffsetDateTime>,
    /// The instances and ENIs it is associated with, each with its own status.
    #[serde(deserialize_with = "lenient::list")]
    pub associated_instances: Vec<AssociatedInstance>,
    /// The EIPs bound to it.
    #[serde(deserialize_with = "lenient::list")]
    pub associated_eip_addresses: Vec<AssociatedEipAddress>,
}

object_only!(HaVip, "an HAVIP object");

impl HaVip {
    /// An HAVIP with this id and everything else empty (status `Unknown("")`); set the rest with
    /// the `with_*` methods or the public fields.
    pub fn new(ha_vip_id: impl Into<String>) -> Self {
        HaVip {
            ha_vip_id: ha_vip_id.into(),
            ..HaVip::default()
        }
    }

    /// Adds an association.
    #[must_use]
    pub fn with_associated_instance(mut self, association: AssociatedInstance) -> Self {
        self.associated_instances.push(association);
        self
    }

    /// Adds an EIP.
    #[must_use]
    pub fn with_associated_eip_address(mut self, eip: AssociatedEipAddress) -> Self {
        self.associated_eip_addresses.push(eip);
        self
    }

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

with_setters!(HaVip {
    /// Sets [`status`](HaVip::status).
    with_status(status: HaVipStatus),
    /// Sets [`ip_address`](HaVip::ip_address).
    with_ip_address(ip_address: String),
    /// Sets [`name`](HaVip::name).
    with_name(name: String),
    /// Sets [`description`](HaVip::description).
    with_description(description: String),
    /// Sets [`ens_region_id`](HaVip::ens_region_id).
    with_ens_region_id(ens_region_id: String),
    /// Sets [`network_id`](HaVip::network_id).
    with_network_id(network_id: String),
    /// Sets [`vswitch_id`](HaVip::vswitch_id).
    with_vswitch_id(vswitch_id: String),
    /// Sets [`creation_time`](HaVip::creation_time).
    with_creation_time(creation_time: Option<OffsetDateTime>),
});

/// One association of an HAVIP.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct AssociatedInstance {
    /// The instance or ENI id.
    #[serde(deserialize_with = "lenient::string")]
    pub instance_id: String,
    /// Whether it is an ENS instance or an ENI.
    pub instance_type: InstanceType,
    /// The instance's IP address.
    #[serde(deserialize_with = "lenient::string")]
    pub ip_address: String,
    /// The association's own status.
    pub status: AssociationStatus,
    /// When the association was made, when the service sent a parseable time.
    #[serde(
        deserialize_with = "lenient::time",
        serialize_with = "lenient::serialize_time"
    )]
    pub creation_time: Option<OffsetDateTime>,
}

object_only!(AssociatedInstance, "an association object");

impl AssociatedInstance {
    /// An association of an ENS instance (`InstanceType` `EnsInstance`) in `status`.
    pub fn new(instance_id: impl Into<String>, status: AssociationStatus) -> Self {
        AssociatedInstance {
            instance_id: instance_id.into(),
            instance_type: InstanceType::EnsInstance,
            status,
            ..AssociatedInstance::default()
        }
    }
}

with_setters!(AssociatedInstance {
    /// Sets [`instance_type`](AssociatedInstance::instance_type).
    with_instance_type(instance_type: InstanceType),
    /// Sets [`ip_address`](AssociatedInstance::ip_address).
    with_ip_address(ip_address: String),
    /// Sets [`creation_time`](AssociatedInstance::creation_time).
    with_creation_time(creation_time: Option<OffsetDateTime>),
});

/// One EIP bound to an HAVIP.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct AssociatedEipAddress {
    /// The EIP's address.
    #[serde(deserialize_with = "lenient::string")]
    pub eip: String,
    /// The EIP's id.
    #[serde(deserialize_with = "lenient::string")]
    pub eip_id: String,
}

object_only!(AssociatedEipAddress, "an EIP object");

impl AssociatedEipAddress {
    /// An EIP with this address and id.
    pub fn new(eip: impl Into<String>, eip_id: impl Into<String>) -> Self {
        AssociatedEipAddress {
            eip: eip.into(),
            eip_id: eip_id.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(s: &str) -> Result<HaVip, String> {
        let de = &mut serde_json::Deserializer::from_str(s);
        serde_path_to_error::deserialize(de).map_err(crate::lenient::tests::message)
    }

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
    fn strict_refuses_what_lenient_keeps() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Config {
            #[serde(with = "strict")]
            status: HaVipStatus,
            #[serde(default, with = "strict::option")]
            association: Option<AssociationStatus>,
            #[serde(with = "strict")]
            signature: crate::SignatureVersion,
        }
        let c: Config = serde_json::from_str(
            r#"{"status":"inuse","association":"Associating","signature":"v3"}"#,
        )
        .unwrap();
        assert_eq!(c.status, HaVipStatus::InUse);
        assert_eq!(c.association, Some(AssociationStatus::Associating));
        assert_eq!(c.signature, crate::SignatureVersion::V3);
        // What serialize writes, deserialize reads.
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Config>(&json).unwrap(), c);
        let c: Config = serde_json::from_str(r#"{"status":"Available","signature":"v1"}"#).unwrap();
        assert_eq!(c.association, None);

        for (json, message) in [
            (
                r#"{"status":"InUse ","association":"Bound","signature":"v1"}"#,
                "Status: `Bound` is not an association status (Associating, InUse or Unassociating)",
            ),
            (
                r#"{"status":"Frozen","signature":"v1"}"#,
                "Status: `Frozen` is not an HAVIP status (Creating, Available, Associating, \
                 InUse, Unassociating or Deleting)",
            ),
            (r#"{"status":7,"signature":"v1"}"#, "invalid type: integer `7`, expected a string"),
            (r#"{"status":"InUse","signature":"v2"}"#, "v2"),
        ] {
            let e = serde_json::from_str::<Config>(json).unwrap_err().to_string();
            assert!(e.starts_with(message) || e.contains(message), "{json}: {e}");
        }
    }

    #[test]
    fn havip_decodes_leniently() {
        let v: HaVip = decode(
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
        let v: HaVip = decode(
            r#"{"HaVipId":"h","Status":"InUse","AssociatedInstances":[
                {"InstanceId":"i-1","Status":"InUse"},{"InstanceId":"i-2","Status":"Associating"}]}"#,
        )
        .unwrap();
        assert!(v.is_in_use_by("i-1"));
        assert!(!v.is_in_use_by("i-2"));
        assert!(!v.is_in_use_by("i-3"));
    }

    #[test]
    fn wrong_types_are_errors_naming_the_path_not_panics() {
        assert_eq!(
            decode(r#"{"HaVipId":["x"]}"#).unwrap_err(),
            "HaVipId: invalid type: sequence, expected a string"
        );
        assert!(decode(r#"{"AssociatedInstances":"x"}"#).is_err());
        assert_eq!(
            decode(r#"{"AssociatedInstances":[{"Status":{}}]}"#).unwrap_err(),
            "AssociatedInstances[0].Status: invalid type: map, expected a string"
        );
        assert!(decode(r#"{"HaVipId":7}"#).is_ok());
        assert!(decode("[]").is_err());
    }

    #[test]
    fn serializes_to_the_wire_shape_and_back() {
        let h = HaVip::new("havip-1")
            .with_status(HaVipStatus::InUse)
            .with_ip_address("10.0.0.5")
            .with_name("高可用 vip")
            .with_vswitch_id("vsw-1")
            .with_creation_time(Some(time::macros::datetime!(2024-01-02 11:04:05 +8)))
            .with_associated_instance(
                AssociatedInstance::new("eni-1", AssociationStatus::Associating)
                    .with_instance_type(InstanceType::NetworkInterface),
            )
            .with_associated_eip_address(AssociatedEipAddress::new("1.2.3.4", "eip-1"));
        let json = serde_json::to_value(&h).unwrap();
        assert_eq!(json["VSwitchId"], "vsw-1");
        assert_eq!(json["CreationTime"], "2024-01-02T03:04:05Z");
        assert_eq!(
            json["AssociatedInstances"][0]["InstanceType"],
            "NetworkInterface"
        );
        assert_eq!(json["AssociatedEipAddresses"][0]["EipId"], "eip-1");
        let back: HaVip = serde_json::from_value(json).unwrap();
        assert_eq!(back, h);
        // Unknown values survive the round trip too.
        let odd = HaVip::new("h").with_status(HaVipStatus::from_wire("Frozen"));
        let back: HaVip = serde_json::from_str(&serde_json::to_string(&odd).unwrap()).unwrap();
        assert_eq!(back, odd);
    }
}
