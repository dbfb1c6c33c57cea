//! Signature V3: `ACS3-HMAC-SHA256`, signature in the `Authorization` header.
//!
//! Stages, each a public function:
//! 1. [`canonical_query`] — keys sorted, `k=v` percent-encoded and joined by `&` (`k=` for an empty
//!    value, an empty string for no parameters).
//! 2. [`canonical_headers`] — each signed header as `lowercase-name:trimmed-value\n`, sorted by
//!    name, and the `;`-joined list of names (`SignedHeaders`).
//! 3. [`canonical_request`] — `METHOD\n/\nquery\nheaders\nsigned-headers\npayload-hash`.
//! 4. [`string_to_sign`] — `ACS3-HMAC-SHA256\n` + hex(SHA-256(canonical request)).
//! 5. [`signature`] — hex(HMAC-SHA256(secret, string to sign)).
//! 6. [`authorization`] — the `Authorization` header value.
//!
//! [`sign`] runs them all and returns the headers to send. The API parameters go in the query
//! string, in any encoding the gateway decodes back to the signed values (the client writes
//! them with serde_urlencoded); the canonical query always uses the signer's percent-encoding.
//! Parameters sent in a form body are covered by the body's hash, not by the canonical query
//! (as Alibaba's SDK signs them: tea-openapi's `do_request`).

use std::borrow::Cow;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{format_timestamp, hex_lower, hex_lower_into, SigningParams};

/// The algorithm name that starts the string to sign and the `Authorization` header.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Hex SHA-256 of the empty body.
pub const EMPTY_PAYLOAD_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The output of [`sign`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedV3<'a> {
    /// Headers to send, lower-case names: the `x-acs-*` headers and `authorization`. `host` and
    /// any extra signed headers passed to [`sign`] are not repeated here; the caller sends them.
    pub headers: Vec<(&'static str, Cow<'a, str>)>,
    /// The canonical request the signature covers.
    pub canonical_request: String,
    /// The string to sign.
    pub string_to_sign: String,
    /// The hex signature.
    pub signature: String,
}

/// Stage 1: the canonical query string of `params` (any order).
///
/// ```
/// use alibabacloud_ens::signer::v3::canonical_query;
/// assert_eq!(canonical_query(&[("InstanceId", "i-1"), ("HaVipId", "h 1")]), "HaVipId=h%201&InstanceId=i-1");
/// assert_eq!(canonical_query(&[]), "");
/// ```
pub fn canonical_query(params: &[(&str, &str)]) -> String {
    // The same form as V1's canonicalized query.
    super::v1::canonicalized_query(params)
}

/// Stage 2: `(CanonicalHeaders, SignedHeaders)` for `headers` (any order, any case).
///
/// Names are lower-cased and values trimmed; the canonical headers end with `\n`.
pub fn canonical_headers(headers: &[(&str, &str)]) -> (String, String) {
    // Names are usually lower-case already: copy only those that are not.
    let mut lowered: Vec<(std::borrow::Cow<'_, str>, &str)> = headers
        .iter()
        .map(|(k, v)| {
            let k = k.trim();
            let name = if k.bytes().any(|b| b.is_ascii_uppercase()) {
                std::borrow::Cow::Owned(k.to_ascii_lowercase())
            } else {
                std::borrow::Cow::Borrowed(k)
            };
            (name, v.trim())
        })
        .collect();
    lowered.sort_unstable();
    let mut canonical =
        String::with_capacity(lowered.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    let mut signed = String::with_capacity(lowered.iter().map(|(k, _)| k.len() + 1).sum());
    for (i, (k, v)) in lowered.iter().enumerate() {
        canonical.push_str(k);
        canonical.push(':');
        canonical.push_str(v);
        canonical.push('\n');
        if i > 0 {
            signed.push(';');
        }
        signed.push_str(k);
    }
    (canonical, signed)
}

/// Stage 3: the canonical request. The path is always `/` for RPC APIs.
pub fn canonical_request(
    method: &str,
    canonical_query: &str,
    canonical_headers: &str,
    signed_headers: &str,
    hashed_payload: &str,
) -> String {
    let mut out = String::with_capacity(
        method.len() + canonical_query.len() + canonical_headers.len() + signed_headers.len() + 72,
    );
    out.push_str(method);
    out.push_str("\n/\n");
    out.push_str(canonical_query);
    out.push('\n');
    out.push_str(canonical_headers);
    out.push('\n');
    out.push_str(signed_headers);
    out.push('\n');
    out.push_str(hashed_payload);
    out
}

/// Stage 4: `ACS3-HMAC-SHA256\n` + hex(SHA-256(`canonical_request`)).
pub fn string_to_sign(canonical_request: &str) -> String {
    let mut out = String::with_capacity(ALGORITHM.len() + 65);
    out.push_str(ALGORITHM);
    out.push('\n');
    hex_lower_into(&mut out, &Sha256::digest(canonical_request.as_bytes()));
    out
}

/// Stage 5: hex(HMAC-SHA256(`access_key_secret`, `string_to_sign`)). The key has no `&`.
pub fn signature(access_key_secret: &str, string_to_sign: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(access_key_secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(string_to_sign.as_bytes());
    hex_lower(&mac.finalize().into_bytes())
}

/// Stage 6: the `Authorization` header value.
pub fn authorization(access_key_id: &str, signed_headers: &str, signature: &str) -> String {
    format!("{ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}")
}

/// Hex SHA-256 of a request body.
pub fn payload_hash(body: &[u8]) -> String {
    if body.is_empty() {
        return EMPTY_PAYLOAD_SHA256.to_owned();
    }
    hex_lower(&Sha256::digest(body))
}

/// What [`sign`] signs, besides the credentials, time and nonce.
#[derive(Debug, Clone, Copy)]
pub struct V3Request<'a> {
    /// The HTTP method (`POST`, `GET`).
    pub method: &'a str,
    /// The value of the `host` header as sent, port included when it is not the scheme's
    /// default (`127.0.0.1:8080`).
    pub host: &'a str,
    /// The API action (`x-acs-action`).
    pub action: &'a str,
    /// The API version (`x-acs-version`).
    pub version: &'a str,
    /// The API parameters sent in the query string (the canonical query covers these only;
    /// parameters sent in a form body are covered by the body's hash).
    pub params: &'a [(&'a str, &'a str)],
    /// Further headers the caller sends and wants signed (for example `user-agent`); `host`
    /// and every `x-acs-*` header are always signed.
    pub extra_signed_headers: &'a [(&'a str, &'a str)],
    /// The request body, exactly as sent (`x-acs-content-sha256` is its hex SHA-256): empty,
    /// or the `application/x-www-form-urlencoded` form of the body parameters, sent with
    /// `content-type: application/x-www-form-urlencoded`, which Alibaba's SDK signs (pass it in
    /// [`extra_signed_headers`](Self::extra_signed_headers)).
    pub body: &'a [u8],
}

/// Signs one RPC request with V3.
pub fn sign<'a>(request: &V3Request<'a>, signing: &SigningParams<'a>) -> SignedV3<'a> {
    let V3Request {
        method,
        host,
        action,
        version,
        params,
        extra_signed_headers,
        body,
    } = *request;
    let date = format_timestamp(signing.timestamp);
    let content_sha256: Cow<'a, str> = if body.is_empty() {
        Cow::Borrowed(EMPTY_PAYLOAD_SHA256)
    } else {
        Cow::Owned(payload_hash(body))
    };

    let mut to_sign: Vec<(&str, &str)> = Vec::with_capacity(8 + extra_signed_headers.len());
    to_sign.extend_from_slice(&[
        ("host", host),
        ("x-acs-action", action),
        ("x-acs-content-sha256", &content_sha256),
        ("x-acs-date", &date),
        ("x-acs-signature-nonce", signing.nonce),
        ("x-acs-version", version),
    ]);
    if let Some(token) = signing.security_token {
        to_sign.push(("x-acs-security-token", token));
    }
    to_sign.extend_from_slice(extra_signed_headers);

    let query = canonical_query(params);
    let (canonical_headers, signed_headers) = canonical_headers(&to_sign);
    let canonical_request = canonical_request(
        method,
        &query,
        &canonical_headers,
        &signed_headers,
        &content_sha256,
    );
    let string_to_sign = string_to_sign(&canonical_request);
    let signature = signature(signing.access_key_secret, &string_to_sign);
    let authorization = authorization(signing.access_key_id, &signed_headers, &signature);

    let mut headers: Vec<(&'static str, Cow<'a, str>)> = Vec::with_capacity(7);
    headers.push(("x-acs-action", Cow::Borrowed(action)));
    headers.push(("x-acs-version", Cow::Borrowed(version)));
    headers.push(("x-acs-date", Cow::Owned(date)));
    headers.push(("x-acs-signature-nonce", Cow::Borrowed(signing.nonce)));
    headers.push(("x-acs-content-sha256", content_sha256));
    if let Some(token) = signing.security_token {
        headers.push(("x-acs-security-token", Cow::Borrowed(token)));
    }
    headers.push(("authorization", Cow::Owned(authorization)));

    SignedV3 {
        headers,
        canonical_request,
        string_to_sign,
        signature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const CANONICAL: &str = "POST\n/\nHaVipId=havip-123&InstanceId=i-123\n\
        host:ens.aliyuncs.com\n\
        x-acs-action:AssociateHaVip\n\
        x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
        x-acs-date:2024-01-02T03:04:05Z\n\
        x-acs-signature-nonce:0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c\n\
        x-acs-version:2017-11-10\n\
        \n\
        host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n\
        e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn worked_example_stage_by_stage() {
        let query = canonical_query(&[("InstanceId", "i-123"), ("HaVipId", "havip-123")]);
        assert_eq!(query, "HaVipId=havip-123&InstanceId=i-123");
        let (headers, signed) = canonical_headers(&[
            ("x-acs-version", "2017-11-10"),
            ("Host", " ens.aliyuncs.com "),
            ("x-acs-action", "AssociateHaVip"),
            ("x-acs-date", "2024-01-02T03:04:05Z"),
            ("x-acs-signature-nonce", "0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c"),
            ("x-acs-content-sha256", EMPTY_PAYLOAD_SHA256),
        ]);
        assert_eq!(
            signed,
            "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
        );
        let creq = canonical_request("POST", &query, &headers, &signed, EMPTY_PAYLOAD_SHA256);
        assert_eq!(creq, CANONICAL);
        let sts = string_to_sign(&creq);
        assert_eq!(
            sts,
            "ACS3-HMAC-SHA256\n5f5b345548114c612db0c47dde8738f8d88bfd757e01df1bdf53d34f48913b4e"
        );
        assert_eq!(
            signature("testsecret", &sts),
            "847df51da201fd0d05c97a668937578708ebb8f17e6fe92b87c23c5e3f0ec08f"
        );
    }

    #[test]
    fn worked_example_through_sign() {
        let p = SigningParams::new(
            "testid",
            "testsecret",
            datetime!(2024-01-02 03:04:05 UTC),
            "0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c",
        );
        let signed = sign(
            &V3Request {
                method: "POST",
                host: "ens.aliyuncs.com",
                action: "AssociateHaVip",
                version: "2017-11-10",
                params: &[("HaVipId", "havip-123"), ("InstanceId", "i-123")],
                extra_signed_headers: &[],
                body: b"",
            },
            &p,
        );
        assert_eq!(signed.canonical_request, CANONICAL);
        assert_eq!(
            signed.signature,
            "847df51da201fd0d05c97a668937578708ebb8f17e6fe92b87c23c5e3f0ec08f"
        );
        let auth = &signed.headers.last().unwrap();
        assert_eq!(auth.0, "authorization");
        assert_eq!(
            auth.1,
            "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;\
             x-acs-date;x-acs-signature-nonce;x-acs-version,\
             Signature=847df51da201fd0d05c97a668937578708ebb8f17e6fe92b87c23c5e3f0ec08f"
        );
    }

    #[test]
    fn security_token_and_extra_headers_are_signed() {
        let p = SigningParams::new("id", "s", datetime!(2024-01-02 03:04:05 UTC), "n")
            .with_security_token(Some("tok"));
        let signed = sign(
            &V3Request {
                method: "GET",
                host: "127.0.0.1:8080",
                action: "DescribeHaVips",
                version: "2017-11-10",
                params: &[],
                extra_signed_headers: &[("User-Agent", "x/1")],
                body: b"",
            },
            &p,
        );
        assert!(signed
            .canonical_request
            .contains("host:127.0.0.1:8080\nuser-agent:x/1\n"));
        assert!(signed
            .canonical_request
            .contains("x-acs-security-token:tok\n"));
        assert!(signed
            .headers
            .iter()
            .any(|(k, v)| *k == "x-acs-security-token" && v == "tok"));
        assert!(signed.canonical_request.starts_with("GET\n/\n\n"));
    }

    /// LIFECYCLE.md §7, computed with Alibaba's own signer.
    #[test]
    fn lifecycle_vectors() {
        let p = SigningParams::new(
            "testid",
            "testsecret",
            datetime!(2024-01-02 03:04:05 UTC),
            "0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c",
        );
        let request = |action, params| V3Request {
            method: "POST",
            host: "ens.aliyuncs.com",
            action,
            version: "2017-11-10",
            params,
            extra_signed_headers: &[],
            body: b"",
        };
        let delete = sign(
            &request("DeleteHaVips", &[("HaVipIds", r#"["havip-a","havip-b"]"#)]),
            &p,
        );
        assert!(delete
            .canonical_request
            .starts_with("POST\n/\nHaVipIds=%5B%22havip-a%22%2C%22havip-b%22%5D\n"));
        assert_eq!(
            delete.signature,
            "0ad2a4339f9e5319968fbf1de4f66616924c2b6eba53e7ca783c0384a41c4999"
        );
        let create = sign(
            &request(
                "CreateHaVip",
                &[
                    ("VSwitchId", "vsw-1"),
                    ("Name", "高可用 vip"),
                    ("IpAddress", "10.0.0.5"),
                    ("Amount", "1"),
                ],
            ),
            &p,
        );
        assert!(create.canonical_request.starts_with(
            "POST\n/\nAmount=1&IpAddress=10.0.0.5&Name=%E9%AB%98%E5%8F%AF%E7%94%A8%20vip&VSwitchId=vsw-1\n"
        ));
        assert_eq!(
            create.signature,
            "f0ce602c8149b0a6f06421ffeb7a6f33092220f8bb60cac7a4786b5d10016d6a"
        );
    }

    #[test]
    fn payload_hash_of_non_empty_body() {
        assert_eq!(
            payload_hash(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(payload_hash(b""), EMPTY_PAYLOAD_SHA256);
    }
}
