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
//! assert!(signed.query.contains("&Signature="));
//! ```

mod encode;
pub mod v1;
pub mod v3;

use std::fmt;

use time::{OffsetDateTime, UtcOffset};

pub(crate) use encode::{hex_lower, percent_encode_once_and_twice};
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

/// Formats `t` in UTC as `YYYY-MM-DDThh:mm:ssZ`, the form both signatures use.
///
/// ```
/// use alibabacloud_ens::signer::format_timestamp;
/// use time::macros::datetime;
/// assert_eq!(format_timestamp(datetime!(2016-02-23 20:46:24 +8)), "2016-02-23T12:46:24Z");
/// ```
pub fn format_timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let mut s = String::with_capacity(20);
    write_timestamp(&mut s, t);
    s
}

fn write_timestamp(s: &mut String, t: OffsetDateTime) {
    let bytes = timestamp_bytes(t);
    s.push_str(timestamp_str(&bytes));
}

/// `YYYY-MM-DDThh:mm:ssZ` of `t` (already in UTC) as ASCII bytes, without allocating.
pub(crate) fn timestamp_bytes(t: OffsetDateTime) -> [u8; 20] {
    let year = t.year().clamp(0, 9999) as u16;
    let two = |v: u8| [b'0' + v / 10 % 10, b'0' + v % 10];
    let [mo0, mo1] = two(t.month() as u8);
    let [d0, d1] = two(t.day());
    let [h0, h1] = two(t.hour());
    let [mi0, mi1] = two(t.minute());
    let [s0, s1] = two(t.second());
    [
        b'0' + (year / 1000) as u8,
        b'0' + (year / 100 % 10) as u8,
        b'0' + (year / 10 % 10) as u8,
        b'0' + (year % 10) as u8,
        b'-',
        mo0,
        mo1,
        b'-',
        d0,
        d1,
        b'T',
        h0,
        h1,
        b':',
        mi0,
        mi1,
        b':',
        s0,
        s1,
        b'Z',
    ]
}

/// The text of [`timestamp_bytes`] (always ASCII).
pub(crate) fn timestamp_str(bytes: &[u8; 20]) -> &str {
    std::str::from_utf8(bytes).unwrap_or("1970-01-01T00:00:00Z")
}

/// Parses a `YYYY-MM-DDThh:mm:ssZ` timestamp (strict: what the gateway accepts).
pub fn parse_timestamp(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let date = time::Date::from_calendar_date(
        num(0..4)? as i32,
        time::Month::try_from(num(5..7)? as u8).ok()?,
        num(8..10)? as u8,
    )
    .ok()?;
    let t =
        time::Time::from_hms(num(11..13)? as u8, num(14..16)? as u8, num(17..19)? as u8).ok()?;
    Some(date.with_time(t).assume_utc())
}

/// A fresh signature nonce: 128 bits from the operating system's random source as 32 lower-case
/// hex characters (the form Alibaba's SDKs send). Unique across processes and machines, not a
/// counter or a clock reading.
///
/// The random bytes are fetched from the OS 4 KiB at a time per thread (256 nonces per system
/// call); each nonce uses its own 16 bytes, never reused.
///
/// # Errors
/// Fails only when the operating system cannot supply random bytes.
pub fn new_nonce() -> Result<String, crate::Error> {
    let mut bytes = [0u8; 16];
    random_bytes(&mut bytes).map_err(|e| {
        crate::Error::invalid_input(
            "SignatureNonce",
            format!("no random source for the nonce: {e}"),
        )
    })?;
    Ok(hex_lower(&bytes))
}

const POOL_SIZE: usize = 4096;

struct RandomPool {
    buf: [u8; POOL_SIZE],
    used: usize,
}

thread_local! {
    static POOL: std::cell::RefCell<RandomPool> = const {
        std::cell::RefCell::new(RandomPool { buf: [0; POOL_SIZE], used: POOL_SIZE })
    };
}

/// Fills `out` (at most [`POOL_SIZE`] bytes) with OS randomness, from a per-thread pool.
fn random_bytes(out: &mut [u8]) -> Result<(), getrandom::Error> {
    if out.len() > POOL_SIZE {
        return getrandom::getrandom(out);
    }
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.used + out.len() > POOL_SIZE {
            getrandom::getrandom(&mut pool.buf)?;
            pool.used = 0;
        }
        let start = pool.used;
        out.copy_from_slice(&pool.buf[start..start + out.len()]);
        // Wipe what was handed out so it can never be handed out again.
        pool.buf[start..start + out.len()].fill(0);
        pool.used += out.len();
        Ok(())
    })
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
    fn many_nonces_across_pool_refills_are_distinct() {
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
