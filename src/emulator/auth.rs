//! Gateway authentication: signature V1 (HMAC-SHA1) and V3 (`ACS3-HMAC-SHA256`).
//!
//! The checks run in this order, and the first failure answers:
//!
//! | step | V1 (query/form parameters) | V3 (headers) | error |
//! |---|---|---|---|
//! | 1 | `Action`, `Version`, `AccessKeyId` present | `Authorization` has `Credential`, `SignedHeaders`, `Signature` | `Missing<Param>` / `IncompleteSignature` |
//! | 2 | `Signature` present | `x-acs-action`, `x-acs-version` present | `IncompleteSignature` / `Missing<Param>` |
//! | 3 | `SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`, `SignatureNonce` (at most 128 bytes), `Timestamp` present | `host`, `x-acs-date`, `x-acs-signature-nonce`, `x-acs-content-sha256` and every `x-acs-*` header sent are signed; every signed header is present; the nonce is at most 128 bytes | `Missing<Param>`, `Invalid<Param>`, `InvalidParameter.SignatureNonce` / `IncompleteSignature`, `InvalidParameter.SignatureNonce` |
//! | 4 | `Version=2017-11-10` | same | `InvalidVersion` |
//! | 5 | `Timestamp` well-formed, within 15 min | `x-acs-date` likewise | `InvalidTimeStamp.Format` / `.Expired` |
//! | 6 | — | `x-acs-content-sha256` is the body's hash | `SignatureDoesNotMatch` |
//! | 7 | key known | same | `InvalidAccessKeyId.NotFound` (404) |
//! | 8 | `SecurityToken` matches the key's STS token | `x-acs-security-token` likewise | `InvalidSecurityToken.*` |
//! | 9 | signature recomputed and equal | same | `SignatureDoesNotMatch` |
//! | 10 | nonce unseen for this key in 30 min | same | `SignatureNonceUsed` |
//!
//! The V1 parameters are read from the request's decoded parameters ([`Params`], typed as
//! [`CommonParams`]); the string to sign covers every decoded parameter but `Signature`, the V3
//! canonical query every decoded query parameter.
//!
//! Each remembered nonce is stored once (one shared allocation for the key id and the nonce),
//! and the memory is bounded by count ([`NONCE_CAPACITY`]) and by bytes ([`NONCE_BUDGET_BYTES`])
//! as well as by time: when full, the oldest are forgotten first.
//!
//! Signatures are recomputed with the crate's own signer stages ([`crate::signer`]). The message
//! of `SignatureDoesNotMatch` shows the server's string to sign (and, for V3, the canonical
//! request), like the real gateway; an STS token in them is replaced by `REDACTED`.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::header::HeaderMap;
use time::OffsetDateTime;

use crate::signer::{self, v1, v3, SignatureVersion};

use super::params::{given, CommonParams, Params};
use super::{lock, AccessKey, ApiError, Shared, API_VERSION};

/// How far a request's time may be from the emulator's clock.
pub(crate) const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);
/// How long a nonce is remembered.
pub(crate) const NONCE_WINDOW: Duration = Duration::from_secs(30 * 60);
/// At most this many nonces are remembered (the oldest are forgotten first).
pub(crate) const NONCE_CAPACITY: usize = 1_000_000;
/// Remembered nonces take at most about this many bytes (the oldest are forgotten first); see
/// [`NonceCache::stored_bytes`].
pub(crate) const NONCE_BUDGET_BYTES: usize = 64 << 20;
/// A signature nonce longer than this is refused (`InvalidParameter.SignatureNonce`). The
/// gateway's clients send 32–64 characters.
pub(crate) const MAX_NONCE_BYTES: usize = 128;

/// V1 common parameters: not API parameters, never recorded as such.
const V1_COMMON: &[&str] = &[
    "AccessKeyId",
    "Action",
    "Format",
    "SecurityToken",
    "Signature",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureType",
    "SignatureVersion",
    "Timestamp",
    "Version",
];

/// `true` when `name` is an API parameter (not a common or signature parameter) for requests
/// signed with `version`.
pub(crate) fn is_api_param(version: Option<SignatureVersion>, name: &str) -> bool {
    // `None`: an unsigned request in the V1 form (the STS's AssumeRoleWithOIDC).
    version == Some(SignatureVersion::V3) || !V1_COMMON.contains(&name)
}

/// The parts of a request authentication looks at.
pub(crate) struct RequestView<'a> {
    pub method: &'a str,
    pub headers: &'a HeaderMap,
    /// The decoded query and form parameters.
    pub params: &'a Params,
    pub body: &'a [u8],
}

/// What is known about a request so far (filled in even when authentication fails, for the
/// request log). Never holds a secret, a token or a signature.
#[derive(Debug, Default)]
pub(crate) struct Draft {
    pub action: Option<String>,
    pub version: Option<SignatureVersion>,
    pub access_key_id: Option<String>,
    pub nonce: Option<String>,
    /// How many parameters (query and form) the request carried.
    pub param_count: usize,
}

/// An authenticated caller.
#[derive(Debug)]
pub(crate) struct Principal {
    pub action: String,
    pub deny: bool,
    /// An STS request (`Version=2015-04-01`).
    pub sts: bool,
}

/// Remembered nonces, per AccessKey id. Each entry is one shared allocation,
/// `"<key id length>:<key id><nonce>"` (unambiguous for any key id and nonce), referenced by
/// the set and by the expiry queue.
#[derive(Debug, Default)]
pub(crate) struct NonceCache {
    seen: HashSet<Arc<str>>,
    order: VecDeque<(Instant, Arc<str>)>,
    /// [`NonceCache::stored_bytes`], kept up to date.
    bytes: usize,
}

/// The bytes one remembered entry costs: its text, the `Arc` counters, the set's slot and the
/// queue's slot, and the allocator's bookkeeping.
fn nonce_entry_bytes(entry: &str) -> usize {
    entry.len()
        + 2 * std::mem::size_of::<usize>()
        + std::mem::size_of::<Arc<str>>()
        + std::mem::size_of::<(Instant, Arc<str>)>()
        + 16
}

impl NonceCache {
    /// Records `nonce` for `key`; `false` if it was seen within the window.
    pub(crate) fn check_and_insert(&mut self, key: &str, nonce: &str, now: Instant) -> bool {
        let entry = format!("{}:{key}{nonce}", key.len());
        let cost = nonce_entry_bytes(&entry);
        while let Some((t, _)) = self.order.front() {
            if now.saturating_duration_since(*t) <= NONCE_WINDOW
                && self.order.len() < NONCE_CAPACITY
                && self.bytes + cost <= NONCE_BUDGET_BYTES
            {
                break;
            }
            if let Some((_, old)) = self.order.pop_front() {
                self.seen.remove(&old);
                self.bytes -= nonce_entry_bytes(&old);
            }
        }
        if self.seen.contains(entry.as_str()) {
            return false;
        }
        let entry: Arc<str> = Arc::from(entry);
        self.seen.insert(Arc::clone(&entry));
        self.order.push_back((now, entry));
        self.bytes += cost;
        true
    }

    /// How many nonces are remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    /// The bytes the remembered nonces take, counted as in [`nonce_entry_bytes`] (each
    /// entry's text once: the set and the queue share it).
    #[cfg(test)]
    pub(crate) fn stored_bytes(&self) -> usize {
        self.bytes
    }

    /// The bytes of nonce text held, walking both structures and counting each distinct
    /// allocation once (for tests: shows that nothing is stored twice).
    #[cfg(test)]
    pub(crate) fn text_bytes(&self) -> usize {
        let mut seen_ptrs = HashSet::new();
        self.seen
            .iter()
            .chain(self.order.iter().map(|(_, e)| e))
            .filter(|e| seen_ptrs.insert(e.as_ptr()))
            .map(|e| e.len())
            .sum()
    }
}

fn check_nonce_length(what: &str, nonce: &str) -> Result<(), ApiError> {
    if nonce.len() <= MAX_NONCE_BYTES {
        Ok(())
    } else {
        Err(ApiError::bad(
            "InvalidParameter.SignatureNonce",
            format!("The specified {what} is invalid: it is longer than {MAX_NONCE_BYTES} bytes."),
        ))
    }
}

fn incomplete(detail: &str) -> ApiError {
    ApiError::bad(
        "IncompleteSignature",
        format!("The request signature does not conform to Aliyun standards. {detail}"),
    )
}

fn not_matched(string_to_sign: &str, canonical_request: Option<&str>) -> ApiError {
    let mut message = format!(
        "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"
    );
    if let Some(c) = canonical_request {
        message.push_str(" server canonical request is:");
        message.push_str(c);
    }
    ApiError::bad("SignatureDoesNotMatch", message)
}

/// Compares without an early exit (the emulator is a test tool, but it costs nothing).
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn check_version(version: &str, action: &str) -> Result<(), ApiError> {
    if version == API_VERSION || super::sts::is_sts(version, action) {
        Ok(())
    } else {
        Err(ApiError::bad(
            "InvalidVersion",
            format!(
                "Specified parameter Version is not valid: this API's version is {API_VERSION}."
            ),
        ))
    }
}

fn check_time(shared: &Shared, name: &str, value: &str) -> Result<(), ApiError> {
    let t = signer::parse_timestamp(value).ok_or_else(|| {
        ApiError::bad(
            "InvalidTimeStamp.Format",
            format!(
                "Specified time stamp or date value is not well formatted: {name} must be UTC \
                 YYYY-MM-DDThh:mm:ssZ."
            ),
        )
    })?;
    let now = OffsetDateTime::from(shared.sts.now());
    let skew = (now - t).abs();
    if skew > MAX_CLOCK_SKEW {
        return Err(ApiError::bad(
            "InvalidTimeStamp.Expired",
            format!(
                "Specified time stamp or date value is expired: {name} is {value}, server time is \
                 {} (at most 15 minutes apart).",
                signer::format_timestamp(now)
            ),
        ));
    }
    Ok(())
}

fn lookup_key(shared: &Shared, id: &str) -> Result<AccessKey, ApiError> {
    lock(&shared.keys).get(id).cloned().ok_or_else(|| {
        ApiError::new(
            404,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        )
    })
}

fn check_token(key: &AccessKey, sent: Option<&str>) -> Result<(), ApiError> {
    match (key.security_token.as_deref(), sent) {
        (None, None) => Ok(()),
        (Some(expected), Some(sent)) if ct_eq(expected.as_bytes(), sent.as_bytes()) => Ok(()),
        (Some(_), Some(_)) => Err(ApiError::bad(
            "InvalidSecurityToken.Malformed",
            "Specified SecurityToken is malformed.",
        )),
        (Some(_), None) => Err(ApiError::bad(
            "InvalidSecurityToken.MismatchWithAccessKey",
            "Specified SecurityToken mismatch with the AccessKey: this AccessKey needs its STS \
             security token.",
        )),
        (None, Some(_)) => Err(ApiError::bad(
            "InvalidSecurityToken.MismatchWithAccessKey",
            "Specified SecurityToken mismatch with the AccessKey: this AccessKey has no STS \
             security token.",
        )),
    }
}

/// Credentials issued by the emulator's STS or metadata service expire.
fn check_expiry(shared: &Shared, key: &AccessKey) -> Result<(), ApiError> {
    if shared.sts.expired(key) {
        return Err(ApiError::bad(
            "InvalidSecurityToken.Expired",
            "Specified SecurityToken is expired.",
        ));
    }
    Ok(())
}

fn check_nonce(shared: &Shared, key: &str, nonce: &str) -> Result<(), ApiError> {
    if lock(&shared.nonces).check_and_insert(key, nonce, Instant::now()) {
        Ok(())
    } else {
        Err(ApiError::bad(
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        ))
    }
}

/// The V3 `Authorization` header, when the request carries one.
fn acs3_authorization(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(hyper::header::AUTHORIZATION)?.to_str().ok()?;
    let rest = value.trim_start().strip_prefix(v3::ALGORITHM)?;
    (rest.is_empty() || rest.starts_with(' ')).then_some(rest)
}

/// Authenticates a request like the gateway; `draft` collects what is known for the log.
pub(crate) fn authenticate(
    shared: &Shared,
    req: &RequestView<'_>,
    draft: &mut Draft,
) -> Result<Principal, ApiError> {
    match acs3_authorization(req.headers) {
        Some(auth) => authenticate_v3(shared, req, auth, draft),
        None => authenticate_v1(shared, req, draft),
    }
}

fn authenticate_v1(
    shared: &Shared,
    req: &RequestView<'_>,
    draft: &mut Draft,
) -> Result<Principal, ApiError> {
    draft.version = Some(SignatureVersion::V1);
    let common: CommonParams = req.params.typed()?;
    draft.action = given(&common.action).map(str::to_owned);
    draft.access_key_id = given(&common.access_key_id).map(str::to_owned);
    draft.nonce = given(&common.signature_nonce).map(str::to_owned);

    let action = given(&common.action).ok_or_else(|| ApiError::missing("Action"))?;
    let version = given(&common.version).ok_or_else(|| ApiError::missing("Version"))?;
    let key_id = given(&common.access_key_id).ok_or_else(|| ApiError::missing("AccessKeyId"))?;
    let signature = given(&common.signature)
        .ok_or_else(|| incomplete("The Signature parameter is missing."))?;
    let method =
        given(&common.signature_method).ok_or_else(|| ApiError::missing("SignatureMethod"))?;
    if method != "HMAC-SHA1" {
        return Err(ApiError::bad(
            "InvalidSignatureMethod",
            "Specified signature method is not supported: SignatureMethod must be HMAC-SHA1.",
        ));
    }
    let sig_version =
        given(&common.signature_version).ok_or_else(|| ApiError::missing("SignatureVersion"))?;
    if sig_version != "1.0" {
        return Err(ApiError::bad(
            "InvalidSignatureVersion",
            "Specified signature version is not supported: SignatureVersion must be 1.0.",
        ));
    }
    let nonce =
        given(&common.signature_nonce).ok_or_else(|| ApiError::missing("SignatureNonce"))?;
    check_nonce_length("parameter SignatureNonce", nonce)?;
    let timestamp = given(&common.timestamp).ok_or_else(|| ApiError::missing("Timestamp"))?;
    check_version(version, action)?;
    check_time(shared, "Timestamp", timestamp)?;
    let key = lookup_key(shared, key_id)?;
    let token = given(&common.security_token);
    check_token(&key, token)?;
    check_expiry(shared, &key)?;

    let signed: Vec<(&str, &str)> = req
        .params
        .all()
        .filter(|(k, _)| k != "Signature")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let string_to_sign = v1::string_to_sign(req.method, &signed);
    let expected = v1::signature(&key.secret, &string_to_sign);
    if !ct_eq(expected.as_bytes(), signature.as_bytes()) {
        let shown = if token.is_some() {
            let redacted: Vec<(&str, &str)> = signed
                .iter()
                .map(|&(k, v)| {
                    if k == "SecurityToken" {
                        (k, "REDACTED")
                    } else {
                        (k, v)
                    }
                })
                .collect();
            v1::string_to_sign(req.method, &redacted)
        } else {
            string_to_sign
        };
        return Err(not_matched(&shown, None));
    }
    check_nonce(shared, key_id, nonce)?;
    Ok(Principal {
        action: action.to_owned(),
        deny: key.deny,
        sts: super::sts::is_sts(version, action),
    })
}

/// All values of header `name` joined by `,`; `Err` when one is not visible ASCII.
fn header_value(headers: &HeaderMap, name: &str) -> Result<Option<String>, ApiError> {
    let mut out: Option<String> = None;
    for v in headers.get_all(name) {
        let s = v.to_str().map_err(|_| {
            ApiError::bad(
                "InvalidParameter",
                format!("The value of header {name} is not visible ASCII text."),
            )
        })?;
        match &mut out {
            Some(o) => {
                o.push(',');
                o.push_str(s.trim());
            }
            None => out = Some(s.trim().to_owned()),
        }
    }
    Ok(out)
}

fn authenticate_v3(
    shared: &Shared,
    req: &RequestView<'_>,
    authorization: &str,
    draft: &mut Draft,
) -> Result<Principal, ApiError> {
    draft.version = Some(SignatureVersion::V3);
    let h = |name: &str| -> Result<Option<String>, ApiError> {
        Ok(header_value(req.headers, name)?.filter(|v| !v.is_empty()))
    };
    draft.action = h("x-acs-action")?;
    draft.nonce = h("x-acs-signature-nonce")?;

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in authorization.split(',') {
        if let Some((k, v)) = part.trim().split_once('=') {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            match k.trim() {
                "Credential" => credential = Some(v),
                "SignedHeaders" => signed_headers = Some(v),
                "Signature" => signature = Some(v),
                _ => {}
            }
        }
    }
    draft.access_key_id = credential.map(str::to_owned);
    let credential =
        credential.ok_or_else(|| incomplete("The Authorization header has no Credential."))?;
    let signed_headers = signed_headers
        .ok_or_else(|| incomplete("The Authorization header has no SignedHeaders."))?;
    let signature =
        signature.ok_or_else(|| incomplete("The Authorization header has no Signature."))?;

    let action = h("x-acs-action")?.ok_or_else(|| ApiError::missing("Action"))?;
    let version = h("x-acs-version")?.ok_or_else(|| ApiError::missing("Version"))?;

    let signed: Vec<String> = signed_headers
        .split(';')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    for required in [
        "host",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-content-sha256",
    ] {
        if h(required)?.is_none() {
            return Err(incomplete(&format!("The header {required} is required.")));
        }
        if !signed.iter().any(|s| s == required) {
            return Err(incomplete(&format!(
                "The header {required} must be listed in SignedHeaders."
            )));
        }
    }
    let nonce = h("x-acs-signature-nonce")?.unwrap_or_default();
    check_nonce_length("header x-acs-signature-nonce", &nonce)?;
    for name in req.headers.keys() {
        let name = name.as_str();
        if name.starts_with("x-acs-") && !signed.iter().any(|s| s == name) {
            return Err(incomplete(&format!(
                "The header {name} is sent but not listed in SignedHeaders."
            )));
        }
    }
    let mut signed_values: Vec<(String, String)> = Vec::with_capacity(signed.len());
    for name in &signed {
        let value = header_value(req.headers, name)?.ok_or_else(|| {
            incomplete(&format!(
                "The header {name} is listed in SignedHeaders but not sent."
            ))
        })?;
        signed_values.push((name.clone(), value));
    }

    check_version(&version, &action)?;
    let date = h("x-acs-date")?.unwrap_or_default();
    check_time(shared, "x-acs-date", &date)?;
    let content_sha256 = h("x-acs-content-sha256")?.unwrap_or_default();
    let actual = v3::payload_hash(req.body);
    if !content_sha256.eq_ignore_ascii_case(&actual) {
        return Err(ApiError::bad(
            "SignatureDoesNotMatch",
            format!(
                "Specified signature is not matched with our calculation: x-acs-content-sha256 \
                 is {content_sha256} but the SHA-256 of the request body is {actual}."
            ),
        ));
    }
    let key = lookup_key(shared, credential)?;
    let token = h("x-acs-security-token")?;
    check_token(&key, token.as_deref())?;
    check_expiry(shared, &key)?;

    let query: Vec<(&str, &str)> = req
        .params
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let canonical_query = v3::canonical_query(&query);
    let header_refs: Vec<(&str, &str)> = signed_values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (canonical_headers, signed_list) = v3::canonical_headers(&header_refs);
    let canonical_request = v3::canonical_request(
        req.method,
        &canonical_query,
        &canonical_headers,
        &signed_list,
        &content_sha256,
    );
    let string_to_sign = v3::string_to_sign(&canonical_request);
    let expected = v3::signature(&key.secret, &string_to_sign);
    if !ct_eq(
        expected.as_bytes(),
        signature.to_ascii_lowercase().as_bytes(),
    ) {
        let shown: String = canonical_request
            .split('\n')
            .map(|line| {
                if line.starts_with("x-acs-security-token:") {
                    "x-acs-security-token:REDACTED"
                } else {
                    line
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        return Err(not_matched(&string_to_sign, Some(&shown)));
    }
    check_nonce(shared, credential, &nonce)?;
    Ok(Principal {
        action,
        deny: key.deny,
        sts: false,
    })
}
