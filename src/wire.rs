//! What goes on the wire and comes back: the parameters' wire form (serde_urlencoded) and the
//! decoding of every answer (serde, with error paths) into a value or a typed [`Error`].
//!
//! Server text is data: each string kept from an answer is cut to a bounded length here, when
//! it is read (see [`crate::error`]).

use std::time::{Duration, SystemTime};

use reqwest::Url;
use serde::de::DeserializeOwned;
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Serialize};

use crate::error::{
    bounded, snippet, Error, ErrorCode, InvalidResponse, ServiceError, MAX_ADVICE_CHARS,
    MAX_ID_CHARS, MAX_MESSAGE_CHARS,
};
use crate::lenient::{AnyText, Text};

/// The wire form of `params`: `application/x-www-form-urlencoded`, as Alibaba's Python SDK
/// writes its query strings (space as `+`, `+` as `%2B`, UTF-8 bytes as `%XX`). The gateway
/// decodes it to exactly the values that were signed.
pub(crate) fn encode_query<K, V>(params: &[(K, V)]) -> String
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    // Serializing pairs of strings cannot fail; an empty query is the fallback all the same.
    serde_urlencoded::to_string(FormPairs(params)).unwrap_or_default()
}

/// Sets the query of `url` to the wire form of `params` (as [`encode_query`] writes it), or
/// leaves it without a query when there are none. serde_urlencoded writes straight into the
/// URL: no second string, and no second parse of the query by [`Url::set_query`].
pub(crate) fn set_query<K, V>(url: &mut Url, params: &[(K, V)])
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    url.set_query(None);
    if params.is_empty() {
        return;
    }
    let mut pairs = url.query_pairs_mut();
    // As above: pairs of strings always serialize.
    let _ = FormPairs(params).serialize(serde_urlencoded::Serializer::new(&mut pairs));
}

/// Parameters in order, serialized as a map: serde_urlencoded writes a map's string keys as
/// they are, where the key of a `(key, value)` tuple is first copied into a `String`.
struct FormPairs<'a, K, V>(&'a [(K, V)]);

impl<K: AsRef<str>, V: AsRef<str>> Serialize for FormPairs<'_, K, V> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k.as_ref(), v.as_ref())?;
        }
        map.end()
    }
}

/// An answer as received: status, body (at most the transport's limit), and the headers that
/// matter.
#[derive(Debug)]
pub(crate) struct RawAnswer {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    pub(crate) header_request_id: Option<String>,
    pub(crate) retry_after: Option<Duration>,
}

/// A request id as kept: at most [`MAX_ID_CHARS`] characters, control characters escaped (a
/// request id is an opaque token for support; a legitimate one is a UUID).
pub(crate) fn request_id(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    // A request id of printable ASCII within the bound (a UUID, as Alibaba sends) is kept as it
    // is: `Escaped` would write the same text, one char at a time. Others are escaped.
    if raw.len() <= MAX_ID_CHARS && raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Some(raw.to_owned());
    }
    let escaped = crate::error::Escaped::new(raw, MAX_ID_CHARS).to_string();
    Some(escaped)
}

/// Answer bodies that carry a `RequestId`.
pub(crate) trait HasRequestId {
    /// The body's request id (`RequestId`, or the lower-camel `requestId`).
    fn body_request_id(&self) -> Option<&str>;
}

/// A body holding only a request id (the write operations' answer).
#[derive(Debug, Default, Deserialize)]
#[serde(remote = "Self", default)]
pub(crate) struct RequestIdBody {
    #[serde(rename = "RequestId", alias = "requestId")]
    pub(crate) request_id: Text,
}

object_only!(@de RequestIdBody, "an answer");

impl HasRequestId for RequestIdBody {
    fn body_request_id(&self) -> Option<&str> {
        self.request_id.0.as_deref()
    }
}

impl RawAnswer {
    /// Decodes a successful answer as `T` and finds its request id: the body's, else the
    /// `x-acs-request-id` header's. No request id at all is an [`Error::InvalidResponse`].
    pub(crate) fn decode<T: DeserializeOwned + HasRequestId>(
        &self,
        action: &str,
    ) -> Result<(T, String), Error> {
        let value: T = decode_json(&self.body).map_err(|reason| {
            self.invalid(
                action,
                reason,
                self.header_request_id
                    .clone()
                    .or_else(|| sniff_request_id(&self.body)),
            )
        })?;
        let id = value
            .body_request_id()
            .and_then(request_id)
            .or_else(|| self.header_request_id.clone());
        match id {
            Some(id) => Ok((value, id)),
            None => Err(self.invalid(action, "the answer has no RequestId".into(), None)),
        }
    }

    /// Decodes a successful answer as `T` (a generated output, or a caller's own type): no
    /// request id is required.
    pub(crate) fn decode_value<T: DeserializeOwned>(&self, action: &str) -> Result<T, Error> {
        decode_json_with(&self.body, from_json_fast::<T>).map_err(|reason| {
            self.invalid(
                action,
                reason,
                self.header_request_id
                    .clone()
                    .or_else(|| sniff_request_id(&self.body)),
            )
        })
    }

    /// `true` when the body's top-level `Code` says the call failed: present, not blank, and
    /// none of `0`, `200`, `Success`, `OK` (any case). Bodies without a `Code` key are not
    /// parsed twice.
    pub(crate) fn has_failure_code(&self) -> bool {
        let body = &self.body[..];
        if memchr::memmem::find(body, b"\"Code\"").is_none()
            && memchr::memmem::find(body, b"\"code\"").is_none()
        {
            return false;
        }
        // The value alone, found by a scan of the top level that decodes nothing else; the whole
        // answer is decoded (and checked) afterwards anyway. Only what the scan cannot tell is
        // decoded in full.
        let code = match top_level_code(body) {
            Scan::Absent => return false,
            Scan::At(start) => {
                let mut de = serde_json::Deserializer::from_slice(&body[start..]);
                AnyText::deserialize(&mut de).ok()
            }
            Scan::Unsure => {
                let text = utf8_lossy(body);
                from_json::<CodeProbe>(&text).ok().map(|p| p.code)
            }
        };
        let Some(code) = code else {
            return false;
        };
        match code.0.as_deref().map(str::trim) {
            None | Some("" | "0" | "200") => false,
            Some(c) => !(c.eq_ignore_ascii_case("success") || c.eq_ignore_ascii_case("ok")),
        }
    }

    fn invalid(&self, action: &str, reason: String, request_id: Option<String>) -> Error {
        Error::InvalidResponse(Box::new(InvalidResponse {
            action: action.to_owned(),
            http_status: self.status,
            reason: bounded(&reason, 400),
            body_snippet: snippet(&self.body),
            request_id,
            retry_after: self.retry_after,
            attempts: 0,
            probes: 0,
        }))
    }

    /// The error a non-2xx answer stands for: a [`ServiceError`] when the body holds a JSON
    /// error code, otherwise an [`InvalidResponse`] keeping the status and a snippet. Invalid
    /// UTF-8 in the body is read lossily, so the code and request id survive it.
    pub(crate) fn into_error(self, action: &str) -> Error {
        let text = utf8_lossy(&self.body);
        let parsed: Option<ErrorBody> = from_json(&text).ok();
        if let Some(body) = parsed {
            if let Some(code) = body.code.0.as_deref().and_then(nonblank) {
                let text = |pc: &AnyText, lc: &AnyText, max| {
                    pc.0.as_deref()
                        .or(lc.0.as_deref())
                        .and_then(nonblank)
                        .map(|s| bounded(s, max))
                };
                return Error::Service(Box::new(ServiceError {
                    action: action.to_owned(),
                    http_status: self.status,
                    code: ErrorCode::from_wire(&bounded(code, MAX_ID_CHARS)),
                    message: text(&body.message, &body.message_lc, MAX_MESSAGE_CHARS)
                        .unwrap_or_default(),
                    request_id: body
                        .request_id
                        .0
                        .as_deref()
                        .or(body.request_id_lc.0.as_deref())
                        .and_then(request_id)
                        .or(self.header_request_id),
                    host_id: text(&body.host_id, &body.host_id_lc, MAX_ID_CHARS),
                    recommend: text(&body.recommend, &body.recommend_lc, MAX_ADVICE_CHARS),
                    access_denied_detail: text(
                        &body.access_denied_detail,
                        &body.access_denied_detail_lc,
                        MAX_ADVICE_CHARS,
                    ),
                    retry_after: self.retry_after,
                    attempts: 0,
                    probes: 0,
                }));
            }
        }
        let status = self.status;
        let reason = if self.body.iter().all(u8::is_ascii_whitespace) {
            format!("HTTP {status} with an empty body")
        } else if looks_like_html(&self.body) {
            format!("HTTP {status} with an HTML body, not a JSON error")
        } else {
            format!("HTTP {status} without a JSON error code")
        };
        let id = self
            .header_request_id
            .clone()
            .or_else(|| sniff_request_id(&self.body));
        self.invalid(action, reason, id)
    }
}

/// What [`top_level_code`] found.
#[derive(Debug, PartialEq, Eq)]
enum Scan {
    /// The top-level object has no `Code` or `code` key.
    Absent,
    /// The first such key's value starts at this offset.
    At(usize),
    /// Not a well-formed object to the scan (or a key written with escapes): decode it all.
    Unsure,
}

/// Finds the value of the top-level `Code` (or `code`) key of a JSON object without decoding
/// anything else: strings are skipped with `memchr`, nesting is counted. It trusts nothing: a
/// body it cannot follow is [`Scan::Unsure`], and the answer is decoded in full afterwards.
fn top_level_code(body: &[u8]) -> Scan {
    let ws = |mut i: usize| {
        while body.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        i
    };
    let mut i = ws(0);
    if body.get(i) != Some(&b'{') {
        return Scan::Unsure;
    }
    i += 1;
    let mut depth = 1usize;
    let mut expect_key = true;
    while let Some(&b) = body.get(i) {
        match b {
            b'"' => {
                // The closing quote: the next quote not escaped.
                let start = i + 1;
                let mut j = start;
                let mut escaped = false;
                let end = loop {
                    let Some(k) = body
                        .get(j..)
                        .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
                    else {
                        return Scan::Unsure;
                    };
                    if body[j + k] == b'"' {
                        break j + k;
                    }
                    escaped = true;
                    j += k + 2;
                };
                i = end + 1;
                if depth == 1 && expect_key {
                    if escaped {
                        return Scan::Unsure;
                    }
                    let colon = ws(i);
                    if body.get(colon) != Some(&b':') {
                        return Scan::Unsure;
                    }
                    let key = &body[start..end];
                    if key == b"Code" || key == b"code" {
                        return Scan::At(colon + 1);
                    }
                    expect_key = false;
                    i = colon + 1;
                }
            }
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Scan::Absent;
                }
                i += 1;
            }
            b',' => {
                expect_key |= depth == 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    Scan::Unsure
}

/// The body as text: borrowed when it is valid UTF-8 (checked by the standard library's fast
/// validator), otherwise read lossily.
fn utf8_lossy(body: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(body) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(body),
    }
}

/// The top-level `Code` of a successful answer.
#[derive(Debug, Default, Deserialize)]
#[serde(remote = "Self", default)]
struct CodeProbe {
    #[serde(rename = "Code", alias = "code")]
    code: AnyText,
}

object_only!(@de CodeProbe, "an answer");

fn nonblank(s: &str) -> Option<&str> {
    (!s.trim().is_empty()).then_some(s)
}

/// An error body, read so that nothing in it can fail the decoding: every field takes any JSON
/// kind (non-strings as their JSON text), and both key spellings are read.
#[derive(Debug, Default, Deserialize)]
#[serde(remote = "Self", default)]
struct ErrorBody {
    #[serde(rename = "Code", alias = "code")]
    code: AnyText,
    #[serde(rename = "Message")]
    message: AnyText,
    #[serde(rename = "message")]
    message_lc: AnyText,
    #[serde(rename = "RequestId")]
    request_id: AnyText,
    #[serde(rename = "requestId")]
    request_id_lc: AnyText,
    #[serde(rename = "HostId")]
    host_id: AnyText,
    #[serde(rename = "hostId")]
    host_id_lc: AnyText,
    #[serde(rename = "Recommend")]
    recommend: AnyText,
    #[serde(rename = "recommend")]
    recommend_lc: AnyText,
    #[serde(rename = "AccessDeniedDetail")]
    access_denied_detail: AnyText,
    #[serde(rename = "accessDeniedDetail")]
    access_denied_detail_lc: AnyText,
}

object_only!(@de ErrorBody, "an error body");

/// JSON that did not decode: where (the path of a value of the wrong kind, `.` at the top) and
/// serde_json's error.
pub(crate) struct JsonError {
    pub(crate) path: String,
    pub(crate) inner: serde_json::Error,
}

/// The one way this crate decodes JSON: text, through `serde_path_to_error`. (One deserializer
/// type for every answer, error body and file keeps serde's generic code instantiated once per
/// decoded type.)
pub(crate) fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| JsonError {
        path: e.path().to_string(),
        inner: e.into_inner(),
    })?;
    de.end().map_err(|inner| JsonError {
        path: ".".to_owned(),
        inner,
    })?;
    Ok(value)
}

/// [`from_json`], with plain serde_json first: path tracking costs about a third of the
/// decoding of a large answer (a wrapper around every value, a copy of every key), so only an
/// answer that fails is decoded again, through serde_path_to_error, to name the path. Both
/// accept and refuse the same texts. Used for the generated operations' outputs and
/// `Client::call`, which are compiled only where they are used: it instantiates each type's
/// decoding twice, which the HAVIP layer's few small answers are not worth in the default
/// build's compile time.
fn from_json_fast<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    match serde_json::from_str::<T>(text) {
        Ok(value) => Ok(value),
        Err(_) => from_json(text),
    }
}

/// Decodes an answer body (invalid UTF-8 read lossily) as `T`. The error says why, naming the
/// path of a value of the wrong kind.
pub(crate) fn decode_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    decode_json_with(body, from_json::<T>)
}

/// [`decode_json`] through `decode` ([`from_json`] or [`from_json_fast`]).
fn decode_json_with<T>(body: &[u8], decode: fn(&str) -> Result<T, JsonError>) -> Result<T, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err("the answer has an empty body".into());
    }
    let text = utf8_lossy(body);
    decode(&text).map_err(|e| {
        if e.inner.is_data() {
            format!(
                "the JSON answer has an unexpected shape ({}: {})",
                e.path, e.inner
            )
        } else {
            syntax_reason(body, &e.inner)
        }
    })
}

/// Why a body is not (complete) JSON.
fn syntax_reason(body: &[u8], e: &serde_json::Error) -> String {
    if looks_like_html(body) {
        "the answer is HTML, not JSON".to_owned()
    } else if e.is_eof() {
        format!("the JSON answer is truncated ({e})")
    } else {
        format!("the answer is not valid JSON ({e})")
    }
}

/// `true` when the first non-blank byte is `<`: a proxy's or gateway's HTML page.
fn looks_like_html(body: &[u8]) -> bool {
    body.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'<')
}

/// Finds `"RequestId":"…"` (or `requestId`) in a body that did not decode (best effort,
/// bounded).
pub(crate) fn sniff_request_id(body: &[u8]) -> Option<String> {
    let text = utf8_lossy(&body[..body.len().min(64 * 1024)]);
    for key in ["\"RequestId\"", "\"requestId\""] {
        if let Some(pos) = text.find(key) {
            let rest = text[pos + key.len()..].trim_start().strip_prefix(':')?;
            let rest = rest.trim_start().strip_prefix('"')?;
            let end = rest.find('"')?;
            return request_id(&rest[..end]);
        }
    }
    None
}

/// `Retry-After`: delay-seconds, or an HTTP date (RFC 2822 form) measured from `now`.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when =
        time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc2822).ok()?;
    let now = time::OffsetDateTime::from(now);
    let ahead = when - now;
    Some(if ahead.is_positive() {
        Duration::try_from(ahead).unwrap_or(Duration::ZERO)
    } else {
        Duration::ZERO
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &[u8]) -> RawAnswer {
        RawAnswer {
            status,
            body: body.to_vec(),
            header_request_id: None,
            retry_after: None,
        }
    }

    #[test]
    fn query_is_form_encoded_like_the_python_sdk() {
        assert_eq!(
            encode_query(&[
                ("Name", "高可用 vip"),
                ("Description", "d e/s*c~"),
                ("X", "+&="),
            ]),
            "Name=%E9%AB%98%E5%8F%AF%E7%94%A8+vip&Description=d+e%2Fs*c%7E&X=%2B%26%3D"
        );
        assert_eq!(encode_query::<&str, &str>(&[]), "");
    }

    #[test]
    fn set_query_writes_what_encode_query_writes_and_replaces_any_query() {
        let params = [
            ("Name", "高可用 vip"),
            ("X", "+&="),
            ("Action", "DescribeHaVips"),
        ];
        let mut url = Url::parse("https://ens.aliyuncs.com/?stale=1").unwrap();
        set_query(&mut url, &params);
        assert_eq!(url.query(), Some(encode_query(&params).as_str()));
        set_query::<&str, &str>(&mut url, &[]);
        assert_eq!(url.as_str(), "https://ens.aliyuncs.com/");
    }

    #[test]
    fn json_error_bodies_become_service_errors() {
        let e = answer(
            400,
            br#"{"RequestId":"R1","HostId":"ens.aliyuncs.com","Code":"HaVipNotFound","Message":"m","Recommend":"https://x"}"#,
        )
        .into_error("AssociateHaVip");
        let s = e.as_service_error().unwrap();
        assert_eq!(s.code, ErrorCode::HaVipNotFound);
        assert_eq!(s.request_id.as_deref(), Some("R1"));
        assert_eq!(s.host_id.as_deref(), Some("ens.aliyuncs.com"));
        assert_eq!(s.recommend.as_deref(), Some("https://x"));
        assert_eq!(s.http_status, 400);
    }

    #[test]
    fn lower_camel_and_odd_kinds_are_read() {
        let e = answer(
            403,
            br#"{"requestId":"R2","code":"Forbidden.RAM","message":"no","AccessDeniedDetail":{"PolicyType":"x"},"HostId":7}"#,
        )
        .into_error("A");
        let s = e.as_service_error().unwrap();
        assert_eq!(s.code, ErrorCode::ForbiddenRam);
        assert_eq!(s.message, "no");
        assert_eq!(s.request_id.as_deref(), Some("R2"));
        assert_eq!(s.host_id.as_deref(), Some("7"));
        assert_eq!(
            s.access_denied_detail.as_deref(),
            Some(r#"{"PolicyType":"x"}"#)
        );
    }

    #[test]
    fn invalid_utf8_keeps_code_and_request_id() {
        let e = answer(
            400,
            b"{\"RequestId\":\"R3\",\"Code\":\"HaVipNotFound\",\"Message\":\"bad \xff byte\"}",
        )
        .into_error("A");
        assert_eq!(e.code(), Some(&ErrorCode::HaVipNotFound));
        assert_eq!(e.request_id(), Some("R3"));
    }

    #[test]
    fn html_empty_and_codeless_bodies_keep_status_and_snippet() {
        for (body, needle) in [
            (&b"<html><body>502 Bad Gateway</body></html>"[..], "HTML"),
            (&b""[..], "empty"),
            (&b"{\"Message\":\"x\"}"[..], "without a JSON error code"),
            (&b"\xff\xfe garbage"[..], "without a JSON error code"),
        ] {
            let mut a = answer(502, body);
            a.header_request_id = Some("H1".into());
            let e = a.into_error("A");
            let Error::InvalidResponse(r) = &e else {
                panic!("{e:?}")
            };
            assert_eq!(r.http_status, 502);
            assert!(r.reason.contains(needle), "{}", r.reason);
            assert_eq!(r.request_id.as_deref(), Some("H1"));
            assert!(e.is_retryable());
        }
    }

    #[test]
    fn request_ids_are_read_the_same_way_everywhere() {
        // Success bodies: either spelling, and the header as a fallback.
        let (_, id) = answer(200, br#"{"requestId":"lower"}"#)
            .decode::<RequestIdBody>("A")
            .unwrap();
        assert_eq!(id, "lower");
        let mut a = answer(200, br#"{}"#);
        a.header_request_id = Some("hdr".into());
        assert_eq!(a.decode::<RequestIdBody>("A").unwrap().1, "hdr");
        assert!(answer(200, br#"{}"#).decode::<RequestIdBody>("A").is_err());
        // Bounded and escaped.
        let long = format!(r#"{{"RequestId":"{}\n"}}"#, "x".repeat(3_000_000));
        let (_, id) = answer(200, long.as_bytes())
            .decode::<RequestIdBody>("A")
            .unwrap();
        assert!(id.chars().count() <= MAX_ID_CHARS + 1, "{}", id.len());
        assert!(!id.contains('\n'));
    }

    #[test]
    fn a_failure_code_in_a_success_answer_is_found() {
        for (body, failed) in [
            (&br#"{"RequestId":"R","Code":0}"#[..], false),
            (br#"{"RequestId":"R","Code":"200"}"#, false),
            (br#"{"RequestId":"R","Code":"Success"}"#, false),
            (br#"{"RequestId":"R","code":"ok"}"#, false),
            (br#"{"RequestId":"R","Code":""}"#, false),
            (br#"{"RequestId":"R","Isps":[{"Code":"cmcc"}]}"#, false),
            (br#"{"RequestId":"R"}"#, false),
            (
                br#"{"RequestId":"R","Code":"Throttling.User","Message":"m"}"#,
                true,
            ),
            (br#"{"RequestId":"R","Code":1001}"#, true),
            (br#"{"RequestId":"R","Code":"#, false),
        ] {
            let a = answer(200, body);
            assert_eq!(
                a.has_failure_code(),
                failed,
                "{}",
                String::from_utf8_lossy(body)
            );
            if failed {
                let e = a.into_error("A");
                assert_eq!(e.http_status(), Some(200));
                assert_eq!(e.request_id(), Some("R"));
            }
        }
    }

    #[test]
    fn the_top_level_code_is_found_without_decoding_the_rest() {
        // `At`: the rest of the body from the offset found; `Absent`, `Unsure` as they are.
        let at = |rest: &'static str| Ok::<_, Scan>(rest);
        for (body, expected) in [
            (&br#"{"Code":"X"}"#[..], at(r#""X"}"#)),
            (br#" { "code" : 5 }"#, at(" 5 }")),
            (
                br#"{"A":{"Code":"nested"},"B":[{"Code":1}],"Code":2}"#,
                at("2}"),
            ),
            // Keys and brackets inside strings are text, escaped quotes included.
            (br#"{"A":"\"Code\":{[","Code":3}"#, at("3}")),
            (br#"{"A":"x\\","Code":4}"#, at("4}")),
            (br#"{"A":{"Code":1},"B":"Code"}"#, Err(Scan::Absent)),
            (br#"{"Codes":[],"xCode":1}"#, Err(Scan::Absent)),
            (br#"{}"#, Err(Scan::Absent)),
            // What the scan cannot follow is decoded in full.
            (br#"{"C\u006fde":"X"}"#, Err(Scan::Unsure)),
            (br#"["Code"]"#, Err(Scan::Unsure)),
            (br#"{"A":"unterminated"#, Err(Scan::Unsure)),
            (br#"{"A":{"Code":1}"#, Err(Scan::Unsure)),
            (br#"{"A" "Code":1}"#, Err(Scan::Unsure)),
            (b"", Err(Scan::Unsure)),
        ] {
            let found = match top_level_code(body) {
                Scan::At(start) => Ok(std::str::from_utf8(&body[start..]).unwrap()),
                other => Err(other),
            };
            assert_eq!(found, expected, "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn the_scan_agrees_with_a_full_decode() {
        // Wherever the whole answer decodes, the scan finds the same top-level Code.
        let bodies = [
            r#"{"RequestId":"R","Code":"Throttling","Nested":{"Code":"0"}}"#,
            r#"{"Nested":{"Code":"Throttling"},"Code":0,"Text":"\"Code\":\"X\""}"#,
            r#"{"List":[{"code":"a"},["Code"]],"code":"Denied"}"#,
            r#"{"Code":{"Inner":"x"},"Other":[1,2,{"Code":3}]}"#,
            r#"{"Esc":"\\\"}{","Code":"  OK "}"#,
            "{\n \"Code\" :\t\"Forbidden.RAM\" }",
            r#"{"Code":null}"#,
            r#"{"Unicode":"高可用 \u00e9","Code":"Invalid.名前"}"#,
        ];
        for text in bodies {
            let Ok(CodeProbe { code: full }) = from_json::<CodeProbe>(text) else {
                panic!("does not decode: {text}");
            };
            let Scan::At(start) = top_level_code(text.as_bytes()) else {
                panic!("not found in {text}");
            };
            let mut de = serde_json::Deserializer::from_slice(&text.as_bytes()[start..]);
            assert_eq!(AnyText::deserialize(&mut de).unwrap(), full, "{text}");
        }
    }

    #[test]
    fn request_id_is_sniffed_from_broken_json() {
        assert_eq!(
            sniff_request_id(br#"{"RequestId" : "ABC-1", "x": "#).as_deref(),
            Some("ABC-1")
        );
        assert_eq!(sniff_request_id(br#"{"RequestId":"#), None);
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(
            parse_retry_after("3600", now),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
