//! Request parameters: the query string and `application/x-www-form-urlencoded` bodies,
//! decoded with `serde_urlencoded` into ordered pairs (for signatures and the request log) and
//! into one typed struct per action.
//!
//! `serde_urlencoded` (through `form_urlencoded`) is lenient where the gateway is not: it passes
//! a malformed `%` escape (`%zz`, a lone `%`) through as text and decodes bytes that are not
//! UTF-8 lossily (as U+FFFD). So [`Params::decode`] first checks every escape itself
//! ([`well_formed`]) and only then lets `serde_urlencoded` decode; a refused text answers 400
//! `InvalidParameter`. `+` and `%20` both decode to a space.
//!
//! A parameter name may appear once per request: a name repeated within the query, within the
//! form body or across both answers 400 `InvalidParameter` ("The parameter Action is
//! repeated."; `InvalidParameter.EnsRegionIds` for a repeated `EnsRegionIds.N`, and likewise for
//! the other [`REPEAT_LISTS`], like those lists' other errors), before authentication, so a signature can never cover two readings of
//! one parameter.

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{
    DeserializeOwned, DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde::{Deserialize, Deserializer};

use super::ApiError;

/// A repeated name is cut to this many bytes in the error message.
const NAME_IN_MESSAGE_BYTES: usize = 128;
/// A request with more parameters than this (query and form together) is refused before they
/// are decoded: DescribeHaVips, the widest action, needs about 120. It bounds what one request
/// costs to decode (a 1 MiB body of `a&a&…` would otherwise be half a million pairs).
pub(crate) const MAX_PARAMS: usize = 1_000;

/// How many parameters form-urlencoded text holds: its non-empty `&`-separated pieces.
pub(crate) fn count_params(raw: &[u8]) -> usize {
    raw.split(|&b| b == b'&').filter(|p| !p.is_empty()).count()
}

/// `true` when every `%` in `raw` starts a `%XX` escape (two hex digits) and the text with every
/// escape decoded is UTF-8. (`&`, `=` and `+` are ASCII, so checking the whole text is the same
/// as checking each name and value.)
pub(crate) fn well_formed(raw: &str) -> bool {
    // `raw` is a `str`: without a `%` it is UTF-8 already, with nothing to decode.
    !raw.contains('%') || crate::signer::percent_decode(raw).is_some()
}

/// Decodes form-urlencoded text into its pairs, in order: pieces split on `&` (empty ones
/// skipped), name and value on the first `=` (a piece without one has an empty value), `+` read
/// as a space, `%XX` decoded. `None` when [`well_formed`] refuses the text.
pub(crate) fn decode_pairs(raw: &str) -> Option<Vec<(String, String)>> {
    if !well_formed(raw) {
        return None;
    }
    serde_urlencoded::from_str(raw).ok()
}

/// `s` cut to at most `max` bytes at a character boundary, with `…` when something was cut.
pub(crate) fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::with_capacity(end + '…'.len_utf8());
    out.push_str(&s[..end]);
    out.push('…');
    out
}

/// The decoded parameters of one request.
#[derive(Debug, Default)]
pub(crate) struct Params {
    /// Query parameters, in order.
    pub query: Vec<(String, String)>,
    /// Form-body parameters, in order (empty unless a form body was sent).
    pub form: Vec<(String, String)>,
    /// The raw query and form text joined by `&`: what the typed structs are decoded from.
    raw: String,
}

impl Params {
    /// Decodes the raw query and (when there is one) the raw form body, and refuses more than
    /// [`MAX_PARAMS`] parameters, malformed text and a parameter name given twice.
    pub fn decode(raw_query: &str, raw_form: Option<&[u8]>) -> Result<Self, ApiError> {
        let count = count_params(raw_query.as_bytes()) + raw_form.map_or(0, count_params);
        if count > MAX_PARAMS {
            return Err(ApiError::bad(
                "InvalidParameter",
                format!("The request has {count} parameters: at most {MAX_PARAMS} are accepted."),
            ));
        }
        let query = decode_pairs(raw_query).ok_or_else(|| {
            ApiError::bad(
                "InvalidParameter",
                "The query string is not valid: a %-escape is malformed or does not decode to \
                 UTF-8.",
            )
        })?;
        let raw_form = raw_form.map(|raw| std::str::from_utf8(raw).map_err(|_| ()));
        let form = match raw_form {
            Some(raw) => raw.ok().and_then(decode_pairs).ok_or_else(|| {
                ApiError::bad(
                    "InvalidParameter",
                    "The form body is not valid: it is not UTF-8, or a %-escape is malformed or \
                     does not decode to UTF-8.",
                )
            })?,
            None => Vec::new(),
        };
        let mut seen = HashSet::with_capacity(query.len() + form.len());
        if let Some((name, _)) = query.iter().chain(&form).find(|(k, _)| !seen.insert(k)) {
            // A repeat list has its own code, as for its other errors.
            let code = match name.split_once('.') {
                Some((list, _)) if REPEAT_LISTS.contains(&list) => {
                    format!("InvalidParameter.{list}")
                }
                _ => "InvalidParameter".to_owned(),
            };
            return Err(ApiError::bad(
                code,
                format!(
                    "The parameter {} is repeated.",
                    cut(name, NAME_IN_MESSAGE_BYTES)
                ),
            ));
        }
        let raw = match raw_form {
            Some(Ok(form)) if !form.is_empty() => format!("{raw_query}&{form}"),
            _ => raw_query.to_owned(),
        };
        Ok(Params { query, form, raw })
    }

    /// Every parameter, query first, then form.
    pub fn all(&self) -> impl Iterator<Item = &(String, String)> {
        self.query.iter().chain(&self.form)
    }

    /// How many parameters the request carried (query and form).
    #[cfg(test)]
    pub fn count(&self) -> usize {
        self.query.len() + self.form.len()
    }

    /// The parameters as the typed struct `T` (decoded by `serde_urlencoded` from the same text,
    /// which has been checked already).
    pub fn typed<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_urlencoded::from_str(&self.raw).map_err(|e| {
            ApiError::bad(
                "InvalidParameter",
                format!("The parameters are not valid: {e}."),
            )
        })
    }
}

/// `Some` when the value is present and not blank.
pub(crate) fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

/// The V1 common parameters the gateway reads (the API parameters are in the per-action
/// structs). `Format` and `SignatureType` are accepted and ignored.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CommonParams {
    #[serde(rename = "Action")]
    pub action: Option<String>,
    #[serde(rename = "Version")]
    pub version: Option<String>,
    #[serde(rename = "AccessKeyId")]
    pub access_key_id: Option<String>,
    #[serde(rename = "Signature")]
    pub signature: Option<String>,
    #[serde(rename = "SignatureMethod")]
    pub signature_method: Option<String>,
    #[serde(rename = "SignatureVersion")]
    pub signature_version: Option<String>,
    #[serde(rename = "SignatureNonce")]
    pub signature_nonce: Option<String>,
    #[serde(rename = "Timestamp")]
    pub timestamp: Option<String>,
    #[serde(rename = "SecurityToken")]
    pub security_token: Option<String>,
}

/// AssociateHaVip's parameters.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AssociateParams {
    #[serde(rename = "HaVipId")]
    pub ha_vip_id: Option<String>,
    #[serde(rename = "InstanceId")]
    pub instance_id: Option<String>,
    #[serde(rename = "InstanceType")]
    pub instance_type: Option<String>,
}

/// UnassociateHaVip's parameters.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct UnassociateParams {
    #[serde(rename = "HaVipId")]
    pub ha_vip_id: Option<String>,
    #[serde(rename = "InstanceId")]
    pub instance_id: Option<String>,
}

/// CreateHaVip's parameters. `Amount` stays text: the operation parses it to answer its own
/// error code.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CreateParams {
    #[serde(rename = "VSwitchId")]
    pub vswitch_id: Option<String>,
    #[serde(rename = "IpAddress")]
    pub ip_address: Option<String>,
    #[serde(rename = "Amount")]
    pub amount: Option<String>,
    #[serde(rename = "Name")]
    pub name: Option<String>,
    #[serde(rename = "Description")]
    pub description: Option<String>,
}

/// DeleteHaVips' parameters: `HaVipIds` is one JSON array string (`["havip-a","havip-b"]`).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DeleteParams {
    #[serde(rename = "HaVipIds")]
    pub ha_vip_ids: Option<String>,
}

/// ModifyHaVipAttribute's parameters.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ModifyParams {
    #[serde(rename = "HaVipId")]
    pub ha_vip_id: Option<String>,
    #[serde(rename = "Name")]
    pub name: Option<String>,
}

/// DescribeHaVips' parameters. Numbers stay text: the operation parses them itself to answer
/// its own error codes.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DescribeParams {
    #[serde(rename = "HaVipId")]
    pub ha_vip_id: Option<String>,
    #[serde(rename = "HaVipAddress")]
    pub ha_vip_address: Option<String>,
    #[serde(rename = "Name")]
    pub name: Option<String>,
    #[serde(rename = "NetworkId")]
    pub network_id: Option<String>,
    #[serde(rename = "VSwitchId")]
    pub vswitch_id: Option<String>,
    #[serde(rename = "EnsRegionId")]
    pub ens_region_id: Option<String>,
    #[serde(rename = "Status")]
    pub status: Option<String>,
    #[serde(rename = "PageNumber")]
    pub page_number: Option<String>,
    #[serde(rename = "PageSize")]
    pub page_size: Option<String>,
    /// `EnsRegionIds.1` … `EnsRegionIds.100`.
    #[serde(flatten)]
    pub lists: RepeatLists,
}

/// DescribeInstances' parameters. `InstanceIds` and `EnsRegionIds` are JSON array texts (the
/// official SDK sends them so); numbers stay text.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DescribeInstancesParams {
    #[serde(rename = "InstanceId")]
    pub instance_id: Option<String>,
    #[serde(rename = "InstanceIds")]
    pub instance_ids: Option<String>,
    #[serde(rename = "InstanceName")]
    pub instance_name: Option<String>,
    #[serde(rename = "VSwitchId")]
    pub vswitch_id: Option<String>,
    #[serde(rename = "NetworkId")]
    pub network_id: Option<String>,
    #[serde(rename = "EnsRegionId")]
    pub ens_region_id: Option<String>,
    #[serde(rename = "EnsRegionIds")]
    pub ens_region_ids: Option<String>,
    #[serde(rename = "Status")]
    pub status: Option<String>,
    #[serde(rename = "ImageId")]
    pub image_id: Option<String>,
    #[serde(rename = "IntranetIp")]
    pub intranet_ip: Option<String>,
    #[serde(rename = "SearchKey")]
    pub search_key: Option<String>,
    #[serde(rename = "PageNumber")]
    pub page_number: Option<String>,
    #[serde(rename = "PageSize")]
    pub page_size: Option<String>,
}

/// DescribeNetworkInterfaces' parameters; `EnsRegionIds.N` and `NetworkInterfaceIds.N` are
/// repeat lists.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DescribeEnisParams {
    #[serde(rename = "NetworkInterfaceId")]
    pub network_interface_id: Option<String>,
    #[serde(rename = "NetworkInterfaceName")]
    pub network_interface_name: Option<String>,
    #[serde(rename = "InstanceId")]
    pub instance_id: Option<String>,
    #[serde(rename = "VSwitchId")]
    pub vswitch_id: Option<String>,
    #[serde(rename = "NetworkId")]
    pub network_id: Option<String>,
    #[serde(rename = "EnsRegionId")]
    pub ens_region_id: Option<String>,
    #[serde(rename = "PrimaryIpAddress")]
    pub primary_ip_address: Option<String>,
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    #[serde(rename = "Status")]
    pub status: Option<String>,
    #[serde(rename = "PageNumber")]
    pub page_number: Option<String>,
    #[serde(rename = "PageSize")]
    pub page_size: Option<String>,
    #[serde(flatten)]
    pub lists: RepeatLists,
}

/// DescribeEnsEipAddresses' parameters; `AllocationId` and `EipAddress` may hold up to 50
/// comma-separated values; `EnsRegionIds.N` is a repeat list.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DescribeEipsParams {
    #[serde(rename = "AllocationId")]
    pub allocation_id: Option<String>,
    #[serde(rename = "EipAddress")]
    pub eip_address: Option<String>,
    #[serde(rename = "EipName")]
    pub eip_name: Option<String>,
    #[serde(rename = "AssociatedInstanceId")]
    pub associated_instance_id: Option<String>,
    #[serde(rename = "AssociatedInstanceType")]
    pub associated_instance_type: Option<String>,
    #[serde(rename = "EnsRegionId")]
    pub ens_region_id: Option<String>,
    #[serde(rename = "Status")]
    pub status: Option<String>,
    #[serde(rename = "Standby")]
    pub standby: Option<String>,
    #[serde(rename = "PageNumber")]
    pub page_number: Option<String>,
    #[serde(rename = "PageSize")]
    pub page_size: Option<String>,
    #[serde(flatten)]
    pub lists: RepeatLists,
}

/// AssociateEnsEipAddress' parameters. `Standby` stays text: the operation parses it to answer
/// its own error code.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AssociateEipParams {
    #[serde(rename = "AllocationId")]
    pub allocation_id: Option<String>,
    #[serde(rename = "InstanceId")]
    pub instance_id: Option<String>,
    #[serde(rename = "InstanceType")]
    pub instance_type: Option<String>,
    #[serde(rename = "Standby")]
    pub standby: Option<String>,
}

/// UnAssociateEnsEipAddress' parameters.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct UnassociateEipParams {
    #[serde(rename = "AllocationId")]
    pub allocation_id: Option<String>,
    #[serde(rename = "Force")]
    pub force: Option<String>,
}

/// The repeat lists the emulator reads (`Name.1`, `Name.2`…); a repeated or malformed entry of
/// one answers `InvalidParameter.<Name>`.
pub(crate) const REPEAT_LISTS: &[&str] = &["EnsRegionIds", "NetworkInterfaceIds"];

/// The `Name.N` family: every parameter whose name holds a dot, as (what precedes the first
/// dot, what follows it, value), in order. Other names are skipped.
#[derive(Debug, Default)]
pub(crate) struct RepeatLists(pub Vec<(String, String, String)>);

impl RepeatLists {
    /// The values of list `name` (`name.1` … `name.max`; blank ones skipped), or
    /// `InvalidParameter.<name>` when an index is not a number from 1 to `max`.
    pub fn values(&self, name: &str, max: u32) -> Result<Vec<&str>, ApiError> {
        let invalid = || {
            ApiError::bad(
                format!("InvalidParameter.{name}"),
                format!(
                    "The specified field {name} invalid. Please check it again. Give {name}.1 \
                     to {name}.{max}."
                ),
            )
        };
        let mut out = Vec::new();
        let mut given = 0u32;
        for (list, index, value) in &self.0 {
            if list != name {
                continue;
            }
            // `01` and `1` are two names for one index: count entries, not indices.
            given += 1;
            match index.parse::<u32>() {
                Ok(i) if (1..=max).contains(&i) && given <= max => {}
                _ => return Err(invalid()),
            }
            if !value.trim().is_empty() {
                out.push(value.trim());
            }
        }
        Ok(out)
    }
}

impl<'de> Deserialize<'de> for RepeatLists {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Collect;

        impl<'de> Visitor<'de> for Collect {
            type Value = RepeatLists;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("Name.N parameters")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    match name.split_once('.') {
                        Some((list, index)) => out.push((
                            list.to_owned(),
                            index.to_owned(),
                            map.next_value::<String>()?,
                        )),
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(RepeatLists(out))
            }
        }

        deserializer.deserialize_map(Collect)
    }
}

/// Why a JSON array of strings was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum JsonListError {
    /// Not a JSON array of strings (and nothing else).
    Malformed,
    /// More strings than allowed.
    TooLong,
}

/// A JSON array of at most `max` strings (`DeleteHaVips`' `HaVipIds`, DescribeInstances'
/// `InstanceIds`), read without keeping more than `max` of them: a 1 MiB array of empty strings
/// would otherwise be a quarter of a million allocations before its length is checked.
pub(crate) fn json_strings(text: &str, max: usize) -> Result<Vec<String>, JsonListError> {
    struct Bounded<'a> {
        max: usize,
        too_long: &'a Cell<bool>,
    }

    impl<'de> DeserializeSeed<'de> for Bounded<'_> {
        type Value = Vec<String>;

        fn deserialize<D: Deserializer<'de>>(
            self,
            deserializer: D,
        ) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_seq(self)
        }
    }

    impl<'de> Visitor<'de> for Bounded<'_> {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON array of strings")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(item) = seq.next_element::<String>()? {
                if out.len() == self.max {
                    self.too_long.set(true);
                    return Err(A::Error::custom("too many strings"));
                }
                out.push(item);
            }
            Ok(out)
        }
    }

    let too_long = Cell::new(false);
    let mut de = serde_json::Deserializer::from_str(text);
    let read = Bounded {
        max,
        too_long: &too_long,
    }
    .deserialize(&mut de)
    .and_then(|list| de.end().map(|()| list));
    read.map_err(|_| {
        if too_long.get() {
            JsonListError::TooLong
        } else {
            JsonListError::Malformed
        }
    })
}
