//! The leniencies of Alibaba's answers, as small serde helpers used with
//! `#[serde(deserialize_with = ...)]`, each tested once here.
//!
//! | helper | accepts | gives |
//! |---|---|---|
//! | [`string`] | a string, a number or boolean (as its text), `null` | `String` (`null` → empty) |
//! | [`opt_string`] | the same | `Option<String>` (`null` → `None`) |
//! | [`count`] | a number, a string of digits, `null`, an empty string | `Option<u64>` |
//! | [`list`] | an array, `null`, `{}`, or one wrapped array `{"HaVip": [..]}` | `Vec<T>` |
//! | [`int`] | a number (a float only when whole), a string of one, `null`, an empty string | `Option<i64>` |
//! | [`float`] | a number, a string of one, `null`, an empty string | `Option<f64>` |
//! | [`boolean`] | `true`/`false`, the strings `"true"`/`"false"` (any case), `0`/`1`, `null`, an empty string | `Option<bool>` |
//! | [`map`] | an object, `null` | `BTreeMap<String, T>` |
//! | [`time`] | an RFC 3339 time, or one without seconds, `null`, anything unparseable | `Option<OffsetDateTime>` (unparseable → `None`) |
//! | [`millis`] | a non-negative number of milliseconds (written whole) | `Duration` (outputs' `…Ms` fields) |
//!
//! A value of the wrong kind (an object where a string belongs) is still an error; decoding
//! through `serde_path_to_error` names its path. The helpers' own messages name kinds, never
//! values; serde's generic messages may quote a misplaced string, so the credentials files show
//! only the path of an error.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Serializer;

/// Deserializes a struct derived with `#[serde(remote = "Self")]` (which makes the derived code
/// inherent functions) from a JSON object only, and serializes it as derived. The derived code
/// alone would also accept an array of the fields in order, and compile that path (`visit_seq`)
/// for every struct: reading maps only keeps the crate's decoding small, and strict.
macro_rules! object_only {
    ($ty:ident, $expecting:literal) => {
        object_only!(@de $ty, $expecting);

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $ty::serialize(self, s)
            }
        }
    };
    (@de $ty:ident, $expecting:literal) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct ObjectVisitor;
                impl<'de> serde::de::Visitor<'de> for ObjectVisitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        map: A,
                    ) -> Result<$ty, A::Error> {
                        $ty::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    }
                }
                d.deserialize_map(ObjectVisitor)
            }
        }
    };
}

/// Leniency as types, for the crate's own wire structs: one type per leniency keeps one copy of
/// serde's generic code for all fields of that kind (each `deserialize_with` field would get a
/// copy of its own).
///
/// Text, leniently: a string, a number or boolean as its text, `null` as `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Text(pub(crate) Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        opt_string(d).map(Text)
    }
}

/// Any JSON value as text: a string as is, anything else as its JSON, `null` as `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AnyText(pub(crate) Option<String>);

impl<'de> Deserialize<'de> for AnyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(AnyText(match serde_json::Value::deserialize(d)? {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some(s),
            other => Some(other.to_string()),
        }))
    }
}

/// An optional count, as [`count`] reads it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Count(pub(crate) Option<u64>);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        count(d).map(Count)
    }
}

/// A list, as [`list`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed<T>(pub(crate) Vec<T>);

impl<T> Default for Listed<T> {
    fn default() -> Self {
        Listed(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Listed<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        list(d).map(Listed)
    }
}
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Text, leniently: `None` for `null`.
struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// A string; a number or boolean as its text; `null` as empty.
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(d.deserialize_any(TextVisitor)?.unwrap_or_default())
}

/// As [`string`], but `null` is `None`.
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(TextVisitor)
}

struct CountVisitor;

impl Visitor<'_> for CountVisitor {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a count (a whole number, or a string of digits)")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        u64::try_from(v)
            .map(Some)
            .map_err(|_| E::custom("expected a count, found a negative number"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        v.parse()
            .map(Some)
            .map_err(|_| E::custom("expected a count, found a string that is not one"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// An optional count: a JSON number, a string of digits, `null` or an empty string (`None`).
pub(crate) fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    d.deserialize_any(CountVisitor)
}

#[cfg(feature = "_generated")]
/// A signed whole number, leniently.
struct IntVisitor;

#[cfg(feature = "_generated")]
impl Visitor<'_> for IntVisitor {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a whole number (or a string of one)")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        i64::try_from(v)
            .map(Some)
            .map_err(|_| E::custom("expected a whole number, found one too large"))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // `i64::MAX as f64` rounds up to 2^63, which is out of range: compare below it.
        if v.fract() == 0.0 && v >= i64::MIN as f64 && v < i64::MAX as f64 {
            Ok(Some(v as i64))
        } else {
            Err(E::custom("expected a whole number, found a fraction"))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        v.parse()
            .map(Some)
            .map_err(|_| E::custom("expected a whole number, found a string that is not one"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

#[cfg(feature = "_generated")]
/// An optional signed whole number: a JSON number (a float only when whole), a string of one,
/// `null` or an empty string (`None`).
pub(crate) fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_any(IntVisitor)
}

#[cfg_attr(not(feature = "full"), allow(dead_code))] // a single family may not use it
#[cfg(feature = "_generated")]
struct FloatVisitor;

#[cfg(feature = "_generated")]
impl Visitor<'_> for FloatVisitor {
    type Value = Option<f64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number (or a string of one)")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        match v.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Some(n)),
            _ => Err(E::custom(
                "expected a number, found a string that is not one",
            )),
        }
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

#[cfg_attr(not(feature = "full"), allow(dead_code))] // a single family may not use it
#[cfg(feature = "_generated")]
/// An optional number: a JSON number, a string of a finite one, `null` or an empty string
/// (`None`).
pub(crate) fn float<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    d.deserialize_any(FloatVisitor)
}

#[cfg(feature = "_generated")]
struct BoolVisitor;

#[cfg(feature = "_generated")]
impl Visitor<'_> for BoolVisitor {
    type Value = Option<bool>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean (true or false, or a string of one)")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        match v {
            0 => Ok(Some(false)),
            1 => Ok(Some(true)),
            _ => Err(E::custom(
                "expected a boolean, found a number other than 0 or 1",
            )),
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        u64::try_from(v)
            .map_err(|_| E::custom("expected a boolean, found a negative number"))
            .and_then(|v| self.visit_u64(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let v = v.trim();
        if v.is_empty() {
            Ok(None)
        } else if v.eq_ignore_ascii_case("true") || v == "1" {
            Ok(Some(true))
        } else if v.eq_ignore_ascii_case("false") || v == "0" {
            Ok(Some(false))
        } else {
            Err(E::custom(
                "expected a boolean, found a string that is not one",
            ))
        }
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

#[cfg(feature = "_generated")]
/// An optional boolean: `true`/`false`, the strings `"true"`/`"false"` (any case) or `"1"`/`"0"`,
/// the numbers `1`/`0`, `null` or an empty string (`None`).
pub(crate) fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    d.deserialize_any(BoolVisitor)
}

#[cfg_attr(not(feature = "full"), allow(dead_code))] // a single family may not use it
#[cfg(feature = "_generated")]
/// A map with string keys: an object, or `null` (empty).
pub(crate) fn map<'de, D, T>(d: D) -> Result<std::collections::BTreeMap<String, T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<std::collections::BTreeMap<String, T>>::deserialize(d)?.unwrap_or_default())
}

struct List<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for List<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // The capacity hint comes from the peer: bounded.
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            out.push(item);
        }
        Ok(out)
    }
    /// `{}` is empty; `{"HaVip": [..]}` (one key, as XML-derived answers wrap lists) is the list.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        let mut keys = 0;
        while map.next_key::<String>()?.is_some() {
            keys += 1;
            if keys > 1 {
                return Err(de::Error::custom(
                    "expected a list, found an object with more than one key",
                ));
            }
            out = map.next_value_seed(self.wrapped())?;
        }
        Ok(out)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
}

impl<T> List<T> {
    fn wrapped(&self) -> Wrapped<T> {
        Wrapped(PhantomData)
    }
}

/// The value inside `{"Key": ...}`: an array or `null`.
struct Wrapped<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Wrapped<T> {
    type Value = Vec<T>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        struct Inner<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Inner<T> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                List(PhantomData).visit_seq(seq)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
        }
        d.deserialize_any(Inner(PhantomData))
    }
}

/// A list: an array, `null`, `{}`, or one array wrapped in an object (`{"HaVip": [..]}`).
pub(crate) fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    d.deserialize_any(List(PhantomData))
}

/// A time, leniently: see [`parse_time`]; anything unparseable (or `null`) is `None`.
pub(crate) fn time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
    Ok(d.deserialize_any(TextVisitor)?
        .as_deref()
        .and_then(parse_time))
}

/// Parses RFC 3339 (`2024-01-02T03:04:05Z`; fractions, offsets, a lower-case `t`/`z` or a space
/// allowed), and the ISO 8601 form without seconds seen in some Alibaba APIs
/// (`2024-01-02T03:04Z`, read as `03:04:00`). An offset is required; anything else is `None`.
pub(crate) fn parse_time(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    // `…T03:04` then the offset: add the seconds and read it as RFC 3339.
    let (minutes, offset) = (s.get(..16)?, s.get(16..)?);
    if offset.starts_with(['Z', 'z', '+', '-']) && minutes.as_bytes().get(13) == Some(&b':') {
        return OffsetDateTime::parse(&format!("{minutes}:00{offset}"), &Rfc3339).ok();
    }
    None
}

/// Formats in UTC as RFC 3339: `2024-01-02T03:04:05Z` (fractions only when not zero).
pub(crate) fn format_time(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Serializes an optional time as [`format_time`] or `null`.
pub(crate) fn serialize_time<S: Serializer>(
    t: &Option<OffsetDateTime>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&format_time(*t)),
        None => s.serialize_none(),
    }
}

/// A duration in outputs as a number of milliseconds (`"ElapsedMs": 2500`), not serde's
/// `{"secs":…,"nanos":…}`: for `#[serde(with = "crate::lenient::millis")]` on a field renamed
/// `…Ms`. Whole milliseconds are written (a part below one is dropped); reading takes a
/// non-negative number, whole or not.
pub(crate) mod millis {
    use std::fmt;
    use std::time::Duration;

    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        struct Millis;

        impl Visitor<'_> for Millis {
            type Value = Duration;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative number of milliseconds")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                Ok(Duration::from_millis(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                u64::try_from(v)
                    .map(Duration::from_millis)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
                Duration::try_from_secs_f64(v / 1000.0)
                    .map_err(|_| E::invalid_value(de::Unexpected::Float(v), &self))
            }
        }

        d.deserialize_u64(Millis)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq, Default)]
    #[serde(default)]
    struct Probe {
        #[serde(deserialize_with = "string")]
        s: String,
        #[serde(deserialize_with = "opt_string")]
        o: Option<String>,
        #[serde(deserialize_with = "count")]
        n: Option<u64>,
        #[serde(deserialize_with = "list")]
        l: Vec<u32>,
        #[serde(deserialize_with = "time")]
        t: Option<OffsetDateTime>,
    }

    /// The error without serde_json's ` at line L column C`.
    pub(crate) fn message(e: impl ToString) -> String {
        let s = e.to_string();
        match s.rsplit_once(" at line ") {
            Some((m, _)) => m.to_owned(),
            None => s,
        }
    }

    fn decode(json: &str) -> Result<Probe, String> {
        let de = &mut serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize(de).map_err(message)
    }

    #[test]
    fn strings_accept_numbers_booleans_and_null() {
        assert_eq!(decode(r#"{"s":7}"#).unwrap().s, "7");
        assert_eq!(decode(r#"{"s":true}"#).unwrap().s, "true");
        assert_eq!(decode(r#"{"s":null,"o":null}"#).unwrap(), Probe::default());
        assert_eq!(decode(r#"{"o":""}"#).unwrap().o.as_deref(), Some(""));
        assert_eq!(
            decode(r#"{"s":["x"]}"#).unwrap_err(),
            "s: invalid type: sequence, expected a string"
        );
    }

    #[test]
    fn counts_accept_strings_of_digits() {
        assert_eq!(decode(r#"{"n":"42"}"#).unwrap().n, Some(42));
        assert_eq!(decode(r#"{"n":42}"#).unwrap().n, Some(42));
        assert_eq!(decode(r#"{"n":" "}"#).unwrap().n, None);
        assert_eq!(decode(r#"{"n":null}"#).unwrap().n, None);
        assert_eq!(
            decode(r#"{"n":"many"}"#).unwrap_err(),
            "n: expected a count, found a string that is not one"
        );
        assert!(decode(r#"{"n":-1}"#).is_err());
        assert!(decode(r#"{"n":{}}"#).is_err());
    }

    #[cfg(feature = "_generated")]
    #[derive(Debug, Deserialize, PartialEq, Default)]
    #[serde(default)]
    struct Scalars {
        #[serde(deserialize_with = "int")]
        i: Option<i64>,
        #[serde(deserialize_with = "float")]
        f: Option<f64>,
        #[serde(deserialize_with = "boolean")]
        b: Option<bool>,
        #[serde(deserialize_with = "map")]
        m: std::collections::BTreeMap<String, u32>,
    }

    #[cfg(feature = "_generated")]
    fn scalars(json: &str) -> Result<Scalars, String> {
        let de = &mut serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize(de).map_err(message)
    }

    #[cfg(feature = "_generated")]
    #[test]
    fn numbers_and_booleans_accept_their_strings() {
        let s = scalars(r#"{"i":"-7","f":"2.5","b":"True","m":{"a":1}}"#).unwrap();
        assert_eq!((s.i, s.f, s.b), (Some(-7), Some(2.5), Some(true)));
        assert_eq!(s.m.get("a"), Some(&1));
        let s = scalars(r#"{"i":3.0,"f":4,"b":0,"m":null}"#).unwrap();
        assert_eq!((s.i, s.f, s.b), (Some(3), Some(4.0), Some(false)));
        assert!(s.m.is_empty());
        assert_eq!(
            scalars(r#"{"i":"","f":" ","b":""}"#).unwrap(),
            Scalars::default()
        );
        assert_eq!(
            scalars(r#"{"i":null,"f":null,"b":null}"#).unwrap(),
            Scalars::default()
        );
        assert_eq!(
            scalars(r#"{"i":1.5}"#).unwrap_err(),
            "i: expected a whole number, found a fraction"
        );
        assert_eq!(
            scalars(r#"{"i":18446744073709551615}"#).unwrap_err(),
            "i: expected a whole number, found one too large"
        );
        assert_eq!(
            scalars(r#"{"f":"NaN"}"#).unwrap_err(),
            "f: expected a number, found a string that is not one"
        );
        assert_eq!(
            scalars(r#"{"b":"yes"}"#).unwrap_err(),
            "b: expected a boolean, found a string that is not one"
        );
        assert_eq!(
            scalars(r#"{"b":2}"#).unwrap_err(),
            "b: expected a boolean, found a number other than 0 or 1"
        );
        assert!(scalars(r#"{"m":[1]}"#).is_err());
        assert!(scalars(r#"{"i":[1]}"#).is_err());
    }

    #[test]
    fn lists_may_be_wrapped_or_null() {
        assert_eq!(decode(r#"{"l":[1,2]}"#).unwrap().l, [1, 2]);
        assert_eq!(decode(r#"{"l":{"Item":[3]}}"#).unwrap().l, [3]);
        assert_eq!(decode(r#"{"l":{"Item":null}}"#).unwrap().l, [] as [u32; 0]);
        assert_eq!(decode(r#"{"l":{}}"#).unwrap().l, [] as [u32; 0]);
        assert_eq!(decode(r#"{"l":null}"#).unwrap().l, [] as [u32; 0]);
        assert_eq!(
            decode(r#"{"l":{"a":[1],"b":[2]}}"#).unwrap_err(),
            "l: expected a list, found an object with more than one key"
        );
        assert_eq!(
            decode(r#"{"l":{"Item":"x"}}"#).unwrap_err(),
            "l.Item: invalid type: string \"x\", expected a list"
        );
        assert_eq!(
            decode(r#"{"l":[1,"x"]}"#).unwrap_err(),
            "l[1]: invalid type: string \"x\", expected u32"
        );
    }

    #[test]
    fn unparseable_times_are_none() {
        use time::macros::datetime;
        assert_eq!(
            decode(r#"{"t":"2024-01-02T03:04:05Z"}"#).unwrap().t,
            Some(datetime!(2024-01-02 03:04:05 UTC))
        );
        assert_eq!(decode(r#"{"t":"yesterday"}"#).unwrap().t, None);
        assert_eq!(decode(r#"{"t":null}"#).unwrap().t, None);
        assert!(decode(r#"{"t":{}}"#).is_err());
    }

    #[test]
    fn durations_are_milliseconds() {
        #[derive(Debug, PartialEq, serde::Serialize, Deserialize)]
        struct D {
            #[serde(with = "millis")]
            ms: std::time::Duration,
        }
        let d = D {
            ms: std::time::Duration::from_micros(2_500_900),
        };
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, r#"{"ms":2500}"#);
        let back: D = serde_json::from_str(&json).unwrap();
        assert_eq!(back.ms, std::time::Duration::from_millis(2500));
        let frac: D = serde_json::from_str(r#"{"ms":1.5}"#).unwrap();
        assert_eq!(frac.ms, std::time::Duration::from_micros(1500));
        for bad in [
            r#"{"ms":-1}"#,
            r#"{"ms":-0.5}"#,
            r#"{"ms":"1"}"#,
            r#"{"ms":1e300}"#,
        ] {
            assert!(serde_json::from_str::<D>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_forms() {
        use time::macros::datetime;
        for (s, want) in [
            ("2024-01-02T03:04:05Z", datetime!(2024-01-02 03:04:05 UTC)),
            ("2024-01-02T03:04Z", datetime!(2024-01-02 03:04:00 UTC)),
            ("2024-01-02t03:04:05z", datetime!(2024-01-02 03:04:05 UTC)),
            ("2024-01-02 03:04:05Z", datetime!(2024-01-02 03:04:05 UTC)),
            (
                "2024-01-02T03:04:05.5+08:00",
                datetime!(2024-01-02 03:04:05.5 +8),
            ),
            (
                "2024-01-02T03:04:05-01:30",
                datetime!(2024-01-02 03:04:05 -1:30),
            ),
        ] {
            assert_eq!(parse_time(s), Some(want), "{s}");
        }
        for bad in [
            "",
            "yesterday",
            "2024-01-02T03:04:05",
            "2024-13-02T03:04:05Z",
            "2024-01-02T03:04:05.Z",
            "x024-01-02T03:04:05Z",
            "2024-01-02T03:04:05+8",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        assert_eq!(
            format_time(datetime!(2024-01-02 11:04:05 +8)),
            "2024-01-02T03:04:05Z"
        );
    }
}
