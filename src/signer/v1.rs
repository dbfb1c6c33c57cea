//! Signature V1: HMAC-SHA1, `SignatureVersion=1.0`, the signature and the common parameters in
//! the query string (API parameters in the query, or some in a form body: [`sign_with_body`]).
//!
//! Stages, each a public function:
//! 1. [`canonicalized_query`] — percent-encode every key and value, sort by key (byte order),
//!    join as `k=v` with `&`.
//! 2. [`string_to_sign`] — `METHOD&%2F&` + percent-encode(canonicalized query).
//! 3. [`signature`] — Base64(HMAC-SHA1(key = secret + `&`, string to sign)).
//!
//! [`sign`] runs all three after adding the common parameters, and returns every parameter to
//! send with its value as signed ([`SignedV1::to_send`]). Put them on the wire with any
//! form or percent encoder that the gateway decodes back to the same values (the client writes
//! them with serde_urlencoded, as Alibaba's Python SDK does: space as `+`); the string to sign
//! always uses this module's own percent-encoding.

use std::borrow::Cow;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::{format_timestamp, percent_encode_into, percent_encode_twice_into, SigningParams};

/// The output of [`sign`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedV1<'a> {
    /// The parameters that were signed, sorted by key: the API parameters and the common ones
    /// (`Action`, `Version`, `Format`, `AccessKeyId`, `SignatureMethod`, `SignatureVersion`,
    /// `SignatureNonce`, `Timestamp` and, with STS credentials, `SecurityToken`). Values are
    /// as signed, not encoded.
    pub params: Vec<(&'a str, Cow<'a, str>)>,
    /// The string the signature was computed over.
    pub string_to_sign: String,
    /// The Base64 signature (not encoded), sent as `Signature`.
    pub signature: String,
}

impl SignedV1<'_> {
    /// Every parameter to send: [`params`](Self::params), then `Signature`.
    pub fn to_send(&self) -> Vec<(&str, &str)> {
        let mut out = Vec::with_capacity(self.params.len() + 1);
        out.extend(self.params.iter().map(|(k, v)| (*k, v.as_ref())));
        out.push(("Signature", self.signature.as_str()));
        out
    }

    /// [`to_send`](Self::to_send) as a query string (no leading `?`), written with
    /// serde_urlencoded as the client sends it: `application/x-www-form-urlencoded`, space as
    /// `+`, as Alibaba's Python SDK writes its queries.
    pub fn to_query(&self) -> String {
        crate::wire::encode_query(&self.to_send())
    }
}

fn sorted<'p>(params: &[(&'p str, &'p str)]) -> Vec<(&'p str, &'p str)> {
    let mut v = params.to_vec();
    v.sort_unstable();
    v
}

/// Stage 1: the canonicalized query string of `params` (any order; sorted here by key, then value).
///
/// ```
/// use alibabacloud_ens::signer::v1::canonicalized_query;
/// assert_eq!(canonicalized_query(&[("b", "x y"), ("a", "*")]), "a=%2A&b=x%20y");
/// ```
pub fn canonicalized_query(params: &[(&str, &str)]) -> String {
    let sorted = sorted(params);
    let mut out = String::with_capacity(capacity(sorted.iter().map(|(k, v)| (*k, *v))));
    for (i, (k, v)) in sorted.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode_into(&mut out, k);
        out.push('=');
        percent_encode_into(&mut out, v);
    }
    out
}

/// Stage 2: the string to sign for `method` and `params` (any order).
///
/// Equal to `METHOD&%2F&` + percent-encode([`canonicalized_query`]), computed in one pass.
pub fn string_to_sign(method: &str, params: &[(&str, &str)]) -> String {
    string_to_sign_sorted(method, sorted(params).into_iter())
}

/// Stage 2 over pairs already sorted.
fn string_to_sign_sorted<'p>(
    method: &str,
    sorted: impl Iterator<Item = (&'p str, &'p str)> + Clone,
) -> String {
    let mut out = String::with_capacity(method.len() + 5 + capacity(sorted.clone()) * 3 / 2);
    out.push_str(method);
    out.push_str("&%2F&");
    for (i, (k, v)) in sorted.enumerate() {
        if i > 0 {
            out.push_str("%26");
        }
        percent_encode_twice_into(&mut out, k);
        out.push_str("%3D");
        percent_encode_twice_into(&mut out, v);
    }
    out
}

fn capacity<'p>(params: impl Iterator<Item = (&'p str, &'p str)>) -> usize {
    params.map(|(k, v)| k.len() + v.len() + 2).sum::<usize>() * 5 / 4
}

/// Stage 3: Base64(HMAC-SHA1(`access_key_secret` + `&`, `string_to_sign`)).
pub fn signature(access_key_secret: &str, string_to_sign: &str) -> String {
    // The key is `secret&`; built on the stack for the usual short secrets.
    let secret = access_key_secret.as_bytes();
    let mut stack = [0u8; 64];
    let heap;
    let key: &[u8] = if secret.len() < stack.len() {
        stack[..secret.len()].copy_from_slice(secret);
        stack[secret.len()] = b'&';
        &stack[..=secret.len()]
    } else {
        heap = [secret, b"&"].concat();
        &heap
    };
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Signs one RPC request with V1.
///
/// `params` are the API parameters (e.g. `HaVipId`); the common parameters `Action`, `Version`,
/// `Format=JSON`, `AccessKeyId`, `SignatureMethod`, `SignatureVersion`, `SignatureNonce`,
/// `Timestamp` and, with STS credentials, `SecurityToken` are added here.
pub fn sign<'a>(
    method: &str,
    action: &'a str,
    version: &'a str,
    params: &[(&'a str, &'a str)],
    signing: &SigningParams<'a>,
) -> SignedV1<'a> {
    sign_with_body(method, action, version, params, &[], signing)
}

/// Signs one RPC request with V1 whose API parameters are split between the query string
/// (`query`) and an `application/x-www-form-urlencoded` body (`body`).
///
/// The signature covers the query's and the body's parameters together, as Alibaba's SDK signs
/// them (tea-openapi's `do_rpcrequest`: `signed_param = merge(query, query(body))`); the common
/// parameters and `Signature` go in the query. [`SignedV1::params`] (and
/// [`to_send`](SignedV1::to_send)) hold what goes in the query: the body's parameters are not
/// repeated there.
///
/// ```
/// use alibabacloud_ens::signer::{v1, SigningParams};
/// use time::macros::datetime;
///
/// let p = SigningParams::new("testid", "testsecret", datetime!(2024-01-02 03:04:05 UTC), "n-1");
/// let split = v1::sign_with_body("POST", "CreateHaVip", "2017-11-10",
///                                &[("VSwitchId", "vsw-1")], &[("Name", "a b")], &p);
/// let whole = v1::sign("POST", "CreateHaVip", "2017-11-10",
///                      &[("VSwitchId", "vsw-1"), ("Name", "a b")], &p);
/// assert_eq!(split.signature, whole.signature);
/// assert!(split.to_send().iter().all(|(k, _)| *k != "Name"));
/// ```
pub fn sign_with_body<'a>(
    method: &str,
    action: &'a str,
    version: &'a str,
    query: &[(&'a str, &'a str)],
    body: &[(&'a str, &'a str)],
    signing: &SigningParams<'a>,
) -> SignedV1<'a> {
    let params = query;
    let mut all: Vec<(&'a str, Cow<'a, str>)> = Vec::with_capacity(params.len() + 9);
    all.extend(params.iter().map(|&(k, v)| (k, Cow::Borrowed(v))));
    all.extend([
        ("AccessKeyId", Cow::Borrowed(signing.access_key_id)),
        ("Action", Cow::Borrowed(action)),
        ("Format", Cow::Borrowed("JSON")),
        ("SignatureMethod", Cow::Borrowed("HMAC-SHA1")),
        ("SignatureNonce", Cow::Borrowed(signing.nonce)),
        ("SignatureVersion", Cow::Borrowed("1.0")),
        ("Timestamp", Cow::Owned(format_timestamp(signing.timestamp))),
        ("Version", Cow::Borrowed(version)),
    ]);
    if let Some(token) = signing.security_token {
        all.push(("SecurityToken", Cow::Borrowed(token)));
    }
    all.sort_unstable();

    let string_to_sign = if body.is_empty() {
        string_to_sign_sorted(method, all.iter().map(|(k, v)| (*k, v.as_ref())))
    } else {
        let mut signed: Vec<(&str, &str)> = Vec::with_capacity(all.len() + body.len());
        signed.extend(all.iter().map(|(k, v)| (*k, v.as_ref())));
        signed.extend_from_slice(body);
        signed.sort_unstable();
        string_to_sign_sorted(method, signed.iter().copied())
    };
    let signature = signature(signing.access_key_secret, &string_to_sign);
    SignedV1 {
        params: all,
        string_to_sign,
        signature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signer::percent_encode;
    use time::macros::datetime;

    /// The documented worked example (DescribeRegions), stage by stage.
    const DOC_PARAMS: &[(&str, &str)] = &[
        ("Timestamp", "2016-02-23T12:46:24Z"),
        ("Format", "XML"),
        ("AccessKeyId", "testid"),
        ("Action", "DescribeRegions"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
        ("Version", "2014-05-26"),
        ("SignatureVersion", "1.0"),
    ];

    #[test]
    fn worked_example_canonicalized_query() {
        assert_eq!(
            canonicalized_query(DOC_PARAMS),
            "AccessKeyId=testid&Action=DescribeRegions&Format=XML&SignatureMethod=HMAC-SHA1\
             &SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0\
             &Timestamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26"
        );
    }

    #[test]
    fn worked_example_string_to_sign() {
        let sts = string_to_sign("GET", DOC_PARAMS);
        assert_eq!(
            sts,
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML\
             %26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf\
             %26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
        );
        assert_eq!(
            sts,
            format!(
                "GET&%2F&{}",
                percent_encode(&canonicalized_query(DOC_PARAMS))
            )
        );
    }

    #[test]
    fn worked_example_signature() {
        let sts = string_to_sign("GET", DOC_PARAMS);
        assert_eq!(
            signature("testsecret", &sts),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
    }

    #[test]
    fn misspelled_timestamp_key_gives_the_doc_typo_signature() {
        let mut params = DOC_PARAMS.to_vec();
        params[0].0 = "TimeStamp";
        let sts = string_to_sign("GET", &params);
        assert_eq!(
            signature("testsecret", &sts),
            "CT9X0VtwR86fNWSnsc6v8YGOjuE="
        );
    }

    #[test]
    fn sign_adds_common_parameters() {
        let p = SigningParams::new(
            "testid",
            "testsecret",
            datetime!(2016-02-23 12:46:24 UTC),
            "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        );
        let signed = sign(
            "POST",
            "AssociateHaVip",
            "2017-11-10",
            &[("HaVipId", "havip-1")],
            &p,
        );
        let sent = signed.to_send();
        let unsigned: Vec<(&str, &str)> = sent[..sent.len() - 1].to_vec();
        assert_eq!(
            canonicalized_query(&unsigned),
            "AccessKeyId=testid&Action=AssociateHaVip&Format=JSON&HaVipId=havip-1\
             &SignatureMethod=HMAC-SHA1&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf\
             &SignatureVersion=1.0&Timestamp=2016-02-23T12%3A46%3A24Z&Version=2017-11-10"
        );
        assert_eq!(sent.last(), Some(&("Signature", signed.signature.as_str())));
        assert_eq!(
            signed.string_to_sign,
            format!(
                "POST&%2F&{}",
                percent_encode(&canonicalized_query(&unsigned))
            )
        );
        assert_eq!(
            signed.signature,
            signature("testsecret", &signed.string_to_sign)
        );
    }

    #[test]
    fn long_and_short_secrets_sign_like_plain_hmac() {
        for len in [0, 1, 62, 63, 64, 65, 200] {
            let secret = "s".repeat(len);
            let mut mac =
                <Hmac<Sha1> as Mac>::new_from_slice(format!("{secret}&").as_bytes()).unwrap();
            mac.update(b"GET&%2F&x");
            let expected =
                base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
            assert_eq!(
                signature(&secret, "GET&%2F&x"),
                expected,
                "secret of {len} bytes"
            );
        }
    }

    #[test]
    fn security_token_is_signed_when_present() {
        let t = datetime!(2024-01-02 03:04:05 UTC);
        let plain = sign(
            "POST",
            "A",
            "V",
            &[],
            &SigningParams::new("id", "s", t, "n"),
        );
        let sts = sign(
            "POST",
            "A",
            "V",
            &[],
            &SigningParams::new("id", "s", t, "n").with_security_token(Some("tok/+=")),
        );
        assert!(!plain.to_send().iter().any(|(k, _)| *k == "SecurityToken"));
        assert!(sts.to_send().contains(&("SecurityToken", "tok/+=")));
        assert_ne!(plain.signature, sts.signature);
    }

    /// LIFECYCLE.md §7, computed with Alibaba's own signers.
    #[test]
    fn lifecycle_vectors() {
        let p = SigningParams::new(
            "testid",
            "testsecret",
            datetime!(2024-01-02 03:04:05 UTC),
            "0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c",
        );
        let delete = sign(
            "POST",
            "DeleteHaVips",
            "2017-11-10",
            &[("HaVipIds", r#"["havip-a","havip-b"]"#)],
            &p,
        );
        assert_eq!(
            delete.string_to_sign,
            "POST&%2F&AccessKeyId%3Dtestid%26Action%3DDeleteHaVips%26Format%3DJSON%26HaVipIds%3D\
             %255B%2522havip-a%2522%252C%2522havip-b%2522%255D%26SignatureMethod%3DHMAC-SHA1\
             %26SignatureNonce%3D0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c%26SignatureVersion%3D1.0\
             %26Timestamp%3D2024-01-02T03%253A04%253A05Z%26Version%3D2017-11-10"
        );
        assert_eq!(delete.signature, "YaJK1U4R02Ix6R2PHn0eruukr2I=");
        let create = sign(
            "POST",
            "CreateHaVip",
            "2017-11-10",
            &[
                ("Amount", "1"),
                ("IpAddress", "10.0.0.5"),
                ("Name", "高可用 vip"),
                ("VSwitchId", "vsw-1"),
            ],
            &p,
        );
        assert!(create.string_to_sign.contains(
            "%26Name%3D%25E9%25AB%2598%25E5%258F%25AF%25E7%2594%25A8%2520vip%26SignatureMethod"
        ));
        assert!(create
            .string_to_sign
            .ends_with("%26VSwitchId%3Dvsw-1%26Version%3D2017-11-10"));
        assert_eq!(create.signature, "K9cmAPr1pwkFGKpbdL5gefGjmdQ=");
    }

    #[test]
    fn empty_and_special_values_are_encoded() {
        assert_eq!(
            canonicalized_query(&[("Name", ""), ("K", "a b*c~d+e/é")]),
            "K=a%20b%2Ac~d%2Be%2F%C3%A9&Name="
        );
    }
}
