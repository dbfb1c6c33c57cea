//! Request signing for Alibaba Cloud RPC APIs — pure functions, no I/O.
//!
//! Two schemes are implemented, each stage of each one public so it can be checked on its own:
//!
//! * [`v1`] — HMAC-SHA1 with `SignatureVersion=1.0`. Alibaba's current documentation titles this
//!   scheme "V2" and marks it superseded by V3; the gateways still accept it and Terraform's
//!   provider still sends it. It is this crate's default.
//! * [`v3`] — `ACS3-HMAC-SHA256`, what Alibaba's own SDKs send today.
//!
//! Nothing here reads a clock or a random source: the timestamp and the nonce are inputs
//! ([`SigningParams`]). [`new_nonce`] and [`format_timestamp`] are the helpers the client uses to
//! make them.
//!
//! ```
//! use alibabacloud_ens::signer::{v1, SigningParams};
//! use time::macros::datetime;
//!
//! let params = SigningParams::new("testid", "testsecret", datetime!(2024-01-02 03:04:05 UTC), "nonce-1");
//! let signed = v1::sign("POST", "AssociateHaVip", "2017-11-10",
//!                       &[("HaVipId", "havip-123"), ("InstanceId", "i-123")], &params);
//! assert_eq!(signed.to_send().last(), Some(&("Signature", signed.signature.as_str())));
//! ```

mod encode;
pub mod v1;
pub mod v3;

use std::fmt;

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

pub(crate) use encode::{hex_lower, hex_lower_into, percent_encode_twice_into};
pub use encode::{percent_decode, percent_encode, percent_encode_into};

/// Which signature scheme a request is signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SignatureVersion {
    /// HMAC-SHA1, `SignatureVersion=1.0`, parameters and signature in the query string.
    #[default]
    V1,
    /// `ACS3-HMAC-SHA256`, signature in the `Authorization` header.
    V3,
}

impl fmt::Display for SignatureVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureVersion::V1 => "v1",
            SignatureVersion::V3 => "v3",
        })
    }
}

impl std::str::FromStr for SignatureVersion {
    type Err = crate::Error;

    /// Accepts `v1`/`1`/`1.0`/`hmac-sha1` and `v3`/`3`/`acs3-hmac-sha256`, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "v1" | "1" | "1.0" | "hmac-sha1" => Ok(SignatureVersion::V1),
            "v3" | "3" | "acs3-hmac-sha256" => Ok(SignatureVersion::V3),
            _ => Err(crate::Error::invalid_input(
                "signature version",
                format!("`{s}` is not a signature version; expected v1 or v3"),
            )),
        }
    }
}

/// The per-request inputs of a signature: credentials, time and nonce.
///
/// Its `Debug` output never shows the secret or the security token.
#[derive(Clone, Copy)]
pub struct SigningParams<'a> {
    pub(crate) access_key_id: &'a str,
    pub(crate) access_key_secret: &'a str,
    pub(crate) security_token: Option<&'a str>,
    pub(crate) timestamp: OffsetDateTime,
    pub(crate) nonce: &'a str,
}

impl<'a> SigningParams<'a> {
    /// Signing inputs for an AccessKey pair, at `timestamp` (converted to UTC) with `nonce`.
    pub fn new(
        access_key_id: &'a str,
        access_key_secret: &'a str,
        timestamp: OffsetDateTime,
        nonce: &'a str,
    ) -> Self {
        SigningParams {
            access_key_id,
            access_key_secret,
            security_token: None,
            timestamp,
            nonce,
        }
    }

    /// Adds an STS security token (sent as `SecurityToken` in V1, `x-acs-security-token` in V3).
    pub fn with_security_token(mut self, token: Option<&'a str>) -> Self {
        self.security_token = token;
        self
    }
}

impl fmt::Debug for SigningParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningParams")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"** redacted **")
            .field(
                "security_token",
                &self.security_token.map(|_| "** redacted **"),
            )
            .field("timestamp", &format_timestamp(self.timestamp))
            .field("nonce", &self.nonce)
            .finish()
    }
}

/// Formats `t` in UTC as `YYYY-MM-DDThh:mm:ssZ`, the form both signatures use (RFC 3339,
/// whole seconds: a fraction of a second is dropped).
///
/// ```
/// use alibabacloud_ens::signer::format_timestamp;
/// use time::macros::datetime;
/// assert_eq!(format_timestamp(datetime!(2016-02-23 20:46:24.9 +8)), "2016-02-23T12:46:24Z");
/// ```
pub fn format_timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let t = t.replace_nanosecond(0).unwrap_or(t);
    // RFC 3339 fails only for years outside 0000–9999, which no request is signed in.
    t.format(&Rfc3339).unwrap_or_default()
}

/// Parses a `YYYY-MM-DDThh:mm:ssZ` timestamp strictly (what the gateway accepts): RFC 3339 in
/// UTC, upper-case `T` and `Z`, whole seconds.
///
/// ```
/// use alibabacloud_ens::signer::parse_timestamp;
/// assert!(parse_timestamp("2024-01-02T03:04:05Z").is_some());
/// assert!(parse_timestamp("2024-01-02T03:04:05.5Z").is_none());
/// assert!(parse_timestamp("2024-01-02T11:04:05+08:00").is_none());
/// ```
pub fn parse_timestamp(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    if b.len() != 20 || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// A fresh signature nonce: 128 bits from the operating system's random source as 32 lower-case
/// hex characters (the form Alibaba's SDKs send).
///
/// Every nonce is drawn from the OS anew (one `getrandom` call): no buffer of random bytes is
/// kept in the process, so a forked child can never repeat its parent's nonces, and nonces are
/// unique across processes and machines (a collision of 128 random bits is not a concern).
///
/// # Errors
/// Fails only when the operating system cannot supply random bytes.
pub fn new_nonce() -> Result<String, crate::Error> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|e| {
        crate::Error::invalid_input(
            "SignatureNonce",
            format!("no random source for the nonce: {e}"),
        )
    })?;
    Ok(hex_lower(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamp_round_trips_and_is_strict() {
        let t = datetime!(2024-01-02 03:04:05 UTC);
        assert_eq!(format_timestamp(t), "2024-01-02T03:04:05Z");
        assert_eq!(parse_timestamp("2024-01-02T03:04:05Z"), Some(t));
        for bad in [
            "",
            "2024-01-02 03:04:05Z",
            "2024-01-02T03:04:05",
            "2024-13-02T03:04:05Z",
            "2024-01-02T25:04:05Z",
            "2024-01-02T03:04:05+08:00",
            "+024-01-02T03:04:05Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn many_nonces_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            assert!(seen.insert(new_nonce().unwrap()));
        }
        let from_thread = std::thread::spawn(|| new_nonce().unwrap()).join().unwrap();
        assert!(seen.insert(from_thread));
    }

    #[test]
    fn nonces_are_random_hex_and_distinct() {
        let a = new_nonce().unwrap();
        let b = new_nonce().unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn signing_params_debug_redacts_secrets() {
        let p = SigningParams::new(
            "AKID",
            "SECRET-XYZ",
            datetime!(2024-01-02 03:04:05 UTC),
            "n",
        )
        .with_security_token(Some("TOKEN-XYZ"));
        let dbg = format!("{p:?}");
        assert_eq!(
            dbg,
            "SigningParams { access_key_id: \"AKID\", access_key_secret: \"** redacted **\", \
             security_token: Some(\"** redacted **\"), timestamp: \"2024-01-02T03:04:05Z\", nonce: \"n\" }"
        );
    }

    #[test]
    fn signature_version_parses() {
        assert_eq!(
            "V3".parse::<SignatureVersion>().unwrap(),
            SignatureVersion::V3
        );
        assert_eq!(
            "1.0".parse::<SignatureVersion>().unwrap(),
            SignatureVersion::V1
        );
        let err = "v2".parse::<SignatureVersion>().unwrap_err().to_string();
        assert!(err.contains("v2"), "{err}");
    }
}
