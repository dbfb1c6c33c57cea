//! The data types of the HAVIP operations: HAVIPs, their associations and their statuses.
//!
//! Decoding is lenient where the service is loose: unknown status values decode into an
//! `Unknown` variant, counts accept JSON strings or numbers, `null` reads as absent, lists may
//! come wrapped in an object (`{"HaVip": [...]}`), and an unparseable time reads as `None`. A
//! value of the wrong kind (an object where a string belongs) is an error naming its path.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};
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

        impl FromJson for $name {
            fn from_json(v: &Value) -> Result<Self, String> {
                Ok($name::from_wire(&lenient_string(v)?))
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
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HaVip {
    /// The HAVIP's id (`havip-…`).
    pub ha_vip_id: String,
    /// Its status.
    pub status: HaVipStatus,
    /// Its IP address.
    pub ip_address: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// The ENS node (edge region) it lives in.
    pub ens_region_id: String,
    /// The network it belongs to.
    pub network_id: String,
    /// The vSwitch it belongs to.
    pub vswitch_id: String,
    /// When it was created, when the service sent a parseable time.
    pub creation_time: Option<OffsetDateTime>,
    /// The instances and ENIs it is associated with, each with its own status.
    pub associated_instances: Vec<AssociatedInstance>,
    /// The EIPs bound to it.
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
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AssociatedInstance {
    /// The instance or ENI id.
    pub instance_id: String,
    /// Whether it is an ENS instance or an ENI.
    pub instance_type: InstanceType,
    /// The instance's IP address.
    pub ip_address: String,
    /// The association's own status.
    pub status: AssociationStatus,
    /// When the association was made, when the service sent a parseable time.
    pub creation_time: Option<OffsetDateTime>,
}

/// One EIP bound to an HAVIP.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AssociatedEipAddress {
    /// The EIP's address.
    pub eip: String,
    /// The EIP's id.
    pub eip_id: String,
}

impl FromJson for HaVip {
    fn from_json(v: &Value) -> Result<Self, String> {
        let f = Fields::of(v)?;
        Ok(HaVip {
            ha_vip_id: f.string("HaVipId")?,
            status: f.parse("Status")?,
            ip_address: f.string("IpAddress")?,
            name: f.string("Name")?,
            description: f.string("Description")?,
            ens_region_id: f.string("EnsRegionId")?,
            network_id: f.string("NetworkId")?,
            vswitch_id: f.string("VSwitchId")?,
            creation_time: f.time("CreationTime")?,
            associated_instances: f.list("AssociatedInstances")?,
            associated_eip_addresses: f.list("AssociatedEipAddresses")?,
        })
    }
}

impl FromJson for AssociatedInstance {
    fn from_json(v: &Value) -> Result<Self, String> {
        let f = Fields::of(v)?;
        Ok(AssociatedInstance {
            instance_id: f.string("InstanceId")?,
            instance_type: f.parse("InstanceType")?,
            ip_address: f.string("IpAddress")?,
            status: f.parse("Status")?,
            creation_time: f.time("CreationTime")?,
        })
    }
}

impl FromJson for AssociatedEipAddress {
    fn from_json(v: &Value) -> Result<Self, String> {
        let f = Fields::of(v)?;
        Ok(AssociatedEipAddress {
            eip: f.string("Eip")?,
            eip_id: f.string("EipId")?,
        })
    }
}

/// Lenient decoding from a JSON value; the error names what was wrong and where.
pub(crate) trait FromJson: Sized {
    fn from_json(v: &Value) -> Result<Self, String>;
}

/// The fields of a JSON object, read leniently; a missing field reads as `null`.
pub(crate) struct Fields<'a>(&'a Map<String, Value>);

impl<'a> Fields<'a> {
    pub(crate) fn of(v: &'a Value) -> Result<Self, String> {
        match v {
            Value::Object(m) => Ok(Fields(m)),
            other => Err(format!("expected an object, found {}", json_kind(other))),
        }
    }

    fn get(&self, key: &str) -> &'a Value {
        self.0.get(key).unwrap_or(&Value::Null)
    }

    fn at<T>(key: &str, r: Result<T, String>) -> Result<T, String> {
        r.map_err(|e| format!("{key}: {e}"))
    }

    pub(crate) fn string(&self, key: &str) -> Result<String, String> {
        Self::at(key, lenient_string(self.get(key)))
    }

    pub(crate) fn count(&self, key: &str) -> Result<Option<u64>, String> {
        Self::at(key, lenient_count(self.get(key)))
    }

    pub(crate) fn time(&self, key: &str) -> Result<Option<OffsetDateTime>, String> {
        Self::at(key, lenient_string(self.get(key)).map(|s| parse_time(&s)))
    }

    pub(crate) fn parse<T: FromJson>(&self, key: &str) -> Result<T, String> {
        Self::at(key, T::from_json(self.get(key)))
    }

    pub(crate) fn list<T: FromJson>(&self, key: &str) -> Result<Vec<T>, String> {
        Self::at(key, lenient_list(self.get(key)))
    }
}

/// A string, or a number/bool rendered as text, or `null` as empty.
pub(crate) fn lenient_string(v: &Value) -> Result<String, String> {
    match v {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("expected a string, found {}", json_kind(other))),
    }
}

/// An optional count: a JSON number, a string holding digits, `null` or absent.
pub(crate) fn lenient_count(v: &Value) -> Result<Option<u64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("expected a count, found {n}")),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("expected a count, found {s:?}")),
        other => Err(format!("expected a count, found {}", json_kind(other))),
    }
}

/// A list that may come as an array, as `{"Anything": [...]}` (the XML-derived shape some
/// Alibaba APIs use), or as `null`.
pub(crate) fn lenient_list<T: FromJson>(v: &Value) -> Result<Vec<T>, String> {
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(a) => a,
        Value::Object(m) if m.is_empty() => return Ok(Vec::new()),
        Value::Object(m) if m.len() == 1 => match m.values().next() {
            Some(Value::Array(a)) => a,
            Some(Value::Null) => return Ok(Vec::new()),
            _ => return Err("expected a list, found an object".to_owned()),
        },
        other => return Err(format!("expected a list, found {}", json_kind(other))),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| T::from_json(item).map_err(|e| format!("[{i}]: {e}")))
        .collect()
}

/// A time: RFC 3339 (`2024-01-02T03:04:05Z`, fractions and offsets allowed) or without
/// seconds (`2024-01-02T03:04Z`, seen in some Alibaba APIs); anything else is `None`.
pub(crate) fn parse_time(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        part.iter().try_fold(0u32, |acc, d| {
            acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
        })
    };
    if b.len() < 17
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
    {
        return None;
    }
    let date = time::Date::from_calendar_date(
        digits(0..4)? as i32,
        time::Month::try_from(digits(5..7)? as u8).ok()?,
        digits(8..10)? as u8,
    )
    .ok()?;
    let (hour, minute) = (digits(11..13)? as u8, digits(14..16)? as u8);
    let mut i = 16;
    let mut second = 0u8;
    let mut nanos = 0u32;
    if b.get(i) == Some(&b':') {
        second = digits(17..19)? as u8;
        i = 19;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            let mut end = start;
            while end < b.len() && b[end].is_ascii_digit() {
                end += 1;
            }
            if end == start {
                return None;
            }
            let frac = &s[start..end.min(start + 9)];
            nanos = frac.parse::<u32>().ok()? * 10u32.pow(9 - frac.len() as u32);
            i = end;
        }
    }
    let offset = match b.get(i..)? {
        [b'Z' | b'z'] => time::UtcOffset::UTC,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (digits(i + 1..i + 3)? as i8, digits(i + 4..i + 6)? as i8);
            let (h, m) = if *sign == b'-' { (-h, -m) } else { (h, m) };
            time::UtcOffset::from_hms(h, m, 0).ok()?
        }
        _ => return None,
    };
    let t = time::Time::from_hms_nano(hour, minute, second, nanos).ok()?;
    Some(date.with_time(t).assume_offset(offset))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(s: &str) -> Result<HaVip, String> {
        HaVip::from_json(&serde_json::from_str::<Value>(s).map_err(|e| e.to_string())?)
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
    fn rfc3339_variants_parse() {
        use time::macros::datetime;
        assert_eq!(
            parse_time("2024-01-02T03:04:05Z"),
            Some(datetime!(2024-01-02 03:04:05 UTC))
        );
        assert_eq!(
            parse_time("2024-01-02T03:04Z"),
            Some(datetime!(2024-01-02 03:04:00 UTC))
        );
        assert_eq!(
            parse_time("2024-01-02T03:04:05.5+08:00"),
            Some(datetime!(2024-01-02 03:04:05.5 +8))
        );
        assert_eq!(
            parse_time("2024-01-02T03:04:05-01:30"),
            Some(datetime!(2024-01-02 03:04:05 -1:30))
        );
        for bad in [
            "2024-01-02T03:04:05",
            "2024-13-02T03:04:05Z",
            "2024-01-02T03:04:05.Z",
            "x024-01-02T03:04:05Z",
            "2024-01-02T03:04:05+8",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
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
        assert_eq!(
            decode(r#"{"HaVipId":["x"]}"#).unwrap_err(),
            "HaVipId: expected a string, found a list"
        );
        assert!(decode(r#"{"AssociatedInstances":"x"}"#).is_err());
        assert_eq!(
            decode(r#"{"AssociatedInstances":[{"Status":{}}]}"#).unwrap_err(),
            "AssociatedInstances: [0]: Status: expected a string, found an object"
        );
        assert!(decode(r#"{"HaVipId":7}"#).is_ok());
        assert!(decode("[]").is_err());
    }
}
