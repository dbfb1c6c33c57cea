//! Sending one operation: signing each attempt, retrying, time limits, and turning every answer
//! (JSON, HTML, empty, truncated, huge) into a value or a typed [`Error`].

use std::borrow::Cow;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use time::OffsetDateTime;
use tracing::field::Empty;
use tracing::Instrument as _;

use crate::error::{
    snippet, InvalidResponse, ServiceError, TimeoutError, TimeoutKind, TransportError,
    TransportErrorKind,
};
use crate::retry::RetryConfig;
use crate::signer::{self, SignatureVersion, SigningParams};
use crate::{Client, Error, ErrorCode};

/// The API version of ENS.
pub const API_VERSION: &str = "2017-11-10";

/// The largest answer body read, in bytes; a larger one is an [`Error::InvalidResponse`].
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// One operation to send.
pub(crate) struct OperationRequest {
    pub(crate) action: &'static str,
    pub(crate) method: Method,
    pub(crate) params: Vec<(Cow<'static, str>, String)>,
    pub(crate) retry: RetryConfig,
    pub(crate) operation_timeout: Option<Duration>,
    /// The safe-write rule for a write without idempotency token: what it wants to be true,
    /// checked after an attempt whose outcome is unknown.
    pub(crate) applied_probe: Option<AppliedProbe>,
}

/// What a write wants to be true of its `HaVipId` and `InstanceId`, checked with
/// DescribeHaVips after an unknown outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AppliedProbe {
    /// The instance is listed in the HAVIP's associations (in any status but `Unassociating`).
    Associated,
    /// The instance is not listed, or is listed as `Unassociating`.
    Unassociated,
}

impl AppliedProbe {
    /// The code that, answered after an attempt whose outcome is unknown, says that attempt
    /// took effect.
    fn done_code(self) -> ErrorCode {
        match self {
            AppliedProbe::Associated => ErrorCode::InstanceAlreadyAssociated,
            AppliedProbe::Unassociated => ErrorCode::InstanceNotAssociated,
        }
    }
}

impl OperationRequest {
    pub(crate) fn new(client: &Client, action: &'static str, method: Method) -> Self {
        OperationRequest {
            action,
            method,
            params: Vec::new(),
            retry: client.inner.retry,
            operation_timeout: client.inner.operation_timeout,
            applied_probe: None,
        }
    }

    pub(crate) fn param(&mut self, key: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        self.params.push((key.into(), value.into()));
    }

    /// The value of parameter `key`, if set.
    pub(crate) fn param_value(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A successful answer.
pub(crate) struct RawSuccess {
    pub(crate) body: Vec<u8>,
    pub(crate) status: u16,
    pub(crate) header_request_id: Option<String>,
    pub(crate) attempts: u32,
    /// Set when the safe-write rule turned a failure into success; `body` is then empty.
    pub(crate) already_applied: Option<AlreadyApplied>,
}

/// How the safe-write rule settled a call.
#[derive(Debug, Clone)]
pub(crate) struct AlreadyApplied {
    /// The request id of the answer that showed it (the error or the DescribeHaVips check).
    pub(crate) request_id: Option<String>,
}

/// Answer bodies that carry a `RequestId`.
pub(crate) trait HasRequestId {
    fn request_id(&self) -> Option<&str>;
}

impl RawSuccess {
    /// Decodes the body as `T`, requiring a request id (from the body or the
    /// `x-acs-request-id` header). Returns the request id too.
    pub(crate) fn decode<T: crate::model::FromJson + HasRequestId>(
        &self,
        action: &str,
    ) -> Result<(T, String), Error> {
        let invalid = |reason: String, rid: Option<String>| {
            Error::InvalidResponse(Box::new(InvalidResponse {
                action: action.to_owned(),
                http_status: self.status,
                reason,
                body_snippet: snippet(&self.body),
                request_id: rid,
                attempts: self.attempts,
            }))
        };
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(invalid(
                "the answer has an empty body".into(),
                self.header_request_id.clone(),
            ));
        }
        let fallback_request_id = || {
            self.header_request_id
                .clone()
                .or_else(|| sniff_request_id(&self.body))
        };
        let json: serde_json::Value = serde_json::from_slice(&self.body)
            .map_err(|e| invalid(describe_json_error(&e, &self.body), fallback_request_id()))?;
        let value = T::from_json(&json).map_err(|e| {
            invalid(
                format!("the JSON answer has an unexpected shape ({e})"),
                fallback_request_id(),
            )
        })?;
        let rid = value
            .request_id()
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .or_else(|| self.header_request_id.clone());
        match rid {
            Some(rid) => Ok((value, rid)),
            None => Err(invalid("the answer has no RequestId".into(), None)),
        }
    }
}

/// Why a body is not JSON. (Parsing into a `Value` fails only on syntax, so a wrong shape is
/// reported by the `FromJson` step instead.)
fn describe_json_error(e: &serde_json::Error, body: &[u8]) -> String {
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

/// Finds `"RequestId":"…"` in a body that did not decode (best effort, bounded).
fn sniff_request_id(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(&body[..body.len().min(64 * 1024)]).ok()?;
    for key in ["\"RequestId\"", "\"requestId\""] {
        if let Some(pos) = text.find(key) {
            let rest = text[pos + key.len()..].trim_start().strip_prefix(':')?;
            let rest = rest.trim_start().strip_prefix('"')?;
            let end = rest.find('"')?;
            let id = &rest[..end];
            if !id.is_empty() && id.len() <= 128 {
                return Some(id.to_owned());
            }
        }
    }
    None
}

/// What one failed attempt tells the retry loop.
struct AttemptFailure {
    error: Error,
    /// The request may have reached the service and taken effect.
    ambiguous: bool,
}

impl Client {
    /// Sends `req`, retrying per its policy, within its operation timeout.
    ///
    /// Runs inside a `ens_operation` span (fields `action`, `attempts`, `request_id`,
    /// `error_code`, `outcome`); each attempt inside an `ens_attempt` span.
    pub(crate) async fn invoke(&self, req: &OperationRequest) -> Result<RawSuccess, Error> {
        let span = tracing::debug_span!(
            "ens_operation",
            action = req.action,
            attempts = Empty,
            request_id = Empty,
            error_code = Empty,
            outcome = Empty,
        );
        // Instrumenting moves the (large) inner future; skip it when nobody listens.
        let result = if span.is_disabled() {
            self.invoke_with_timeout(req).await
        } else {
            self.invoke_with_timeout(req).instrument(span.clone()).await
        };
        match &result {
            Ok(ok) => {
                span.record("attempts", ok.attempts);
                span.record(
                    "outcome",
                    if ok.already_applied.is_some() {
                        "already_applied"
                    } else {
                        "success"
                    },
                );
                if let Some(id) = &ok.header_request_id {
                    span.record("request_id", id.as_str());
                }
            }
            Err(e) => {
                if let Some(n) = e.attempts() {
                    span.record("attempts", n);
                }
                if let Some(id) = e.request_id() {
                    span.record("request_id", id);
                }
                if let Some(code) = e.code() {
                    span.record("error_code", tracing::field::display(code));
                }
                span.record("outcome", "error");
                tracing::debug!(parent: &span, error = %e, "operation failed");
            }
        }
        result
    }

    async fn invoke_with_timeout(&self, req: &OperationRequest) -> Result<RawSuccess, Error> {
        let attempts = AtomicU32::new(0);
        match req.operation_timeout {
            None => self.invoke_attempts(req, &attempts).await,
            Some(limit) => {
                match tokio::time::timeout(limit, self.invoke_attempts(req, &attempts)).await {
                    Ok(r) => r,
                    Err(_) => Err(Error::Timeout(TimeoutError {
                        action: req.action.to_owned(),
                        kind: TimeoutKind::Operation,
                        limit,
                        attempts: attempts.load(Ordering::Relaxed),
                    })),
                }
            }
        }
    }

    async fn invoke_attempts(
        &self,
        req: &OperationRequest,
        attempts: &AtomicU32,
    ) -> Result<RawSuccess, Error> {
        let mut earlier_ambiguous = false;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            attempts.store(attempt, Ordering::Relaxed);
            let failure = match self.attempt(req, attempt).await {
                Ok(ok) => return Ok(ok),
                Err(f) => f,
            };
            if earlier_ambiguous {
                if let (Some(probe), Error::Service(s)) = (req.applied_probe, &failure.error) {
                    if s.code == probe.done_code() {
                        return Ok(RawSuccess {
                            body: Vec::new(),
                            status: s.http_status,
                            header_request_id: s.request_id.clone(),
                            attempts: attempt,
                            already_applied: Some(AlreadyApplied {
                                request_id: s.request_id.clone(),
                            }),
                        });
                    }
                }
            }
            // The outcome of a write may be unknown: ask the service before writing again
            // (or before giving up), rather than repeat it blindly.
            let last = attempt >= req.retry.max_attempts() || !failure.error.is_retryable();
            let outcome_unknown = failure.ambiguous || (earlier_ambiguous && last);
            if outcome_unknown {
                if let Some(probe) = req.applied_probe {
                    if let Some(request_id) = self.probe_applied(req, probe).await {
                        tracing::debug!(attempt, "the earlier write took effect");
                        return Ok(RawSuccess {
                            body: Vec::new(),
                            status: 200,
                            header_request_id: Some(request_id.clone()),
                            attempts: attempt,
                            already_applied: Some(AlreadyApplied {
                                request_id: Some(request_id),
                            }),
                        });
                    }
                }
            }
            if last {
                return Err(failure.error);
            }
            earlier_ambiguous |= failure.ambiguous;
            let backoff = req.retry.backoff(attempt);
            tracing::debug!(
                attempt,
                backoff_ms = backoff.as_millis() as u64,
                outcome_unknown = failure.ambiguous,
                error = %failure.error,
                "retrying"
            );
            self.inner.clock.sleep(backoff).await;
        }
    }

    /// Checks with one DescribeHaVips call whether `probe` holds; returns that call's request
    /// id when it does. Any failure of the check counts as "not known to hold".
    async fn probe_applied(&self, req: &OperationRequest, probe: AppliedProbe) -> Option<String> {
        let ha_vip_id = req.param_value("HaVipId")?;
        let instance_id = req.param_value("InstanceId")?;
        let want_listed = probe == AppliedProbe::Associated;
        let page = Box::pin(
            self.describe_ha_vips()
                .ha_vip_id(ha_vip_id)
                .retry_config(RetryConfig::disabled())
                .send(),
        )
        .await
        .ok()?;
        let h = page.ha_vips.iter().find(|h| h.ha_vip_id == ha_vip_id)?;
        let listed = h
            .association(instance_id)
            .is_some_and(|a| a.status != crate::AssociationStatus::Unassociating);
        (listed == want_listed).then_some(page.request_id)
    }

    /// One signed attempt, in an `ens_attempt` span (fields `action`, `attempt`, `http_status`,
    /// `request_id`, `error_code`, `latency_ms`). Nothing secret is recorded: no URL (it holds
    /// the signature and, with STS, the token), no header.
    async fn attempt(
        &self,
        req: &OperationRequest,
        attempt: u32,
    ) -> Result<RawSuccess, AttemptFailure> {
        let span = tracing::debug_span!(
            "ens_attempt",
            action = req.action,
            attempt,
            http_status = Empty,
            request_id = Empty,
            error_code = Empty,
            latency_ms = Empty,
        );
        let started = Instant::now();
        let result = if span.is_disabled() {
            self.attempt_inner(req, attempt).await
        } else {
            self.attempt_inner(req, attempt)
                .instrument(span.clone())
                .await
        };
        span.record("latency_ms", started.elapsed().as_millis() as u64);
        match &result {
            Ok(ok) => {
                span.record("http_status", ok.status);
                if !span.is_disabled() {
                    let id = ok
                        .header_request_id
                        .clone()
                        .or_else(|| sniff_request_id(&ok.body));
                    if let Some(id) = id {
                        span.record("request_id", id.as_str());
                    }
                }
                tracing::debug!(parent: &span, "attempt succeeded");
            }
            Err(f) => {
                if let Some(st) = f.error.http_status() {
                    span.record("http_status", st);
                }
                if let Some(id) = f.error.request_id() {
                    span.record("request_id", id);
                }
                if let Some(code) = f.error.code() {
                    span.record("error_code", tracing::field::display(code));
                }
                tracing::debug!(parent: &span, error = %f.error, retryable = f.error.is_retryable(), "attempt failed");
            }
        }
        result
    }

    async fn attempt_inner(
        &self,
        req: &OperationRequest,
        attempt: u32,
    ) -> Result<RawSuccess, AttemptFailure> {
        let cfg = &self.inner;
        let not_sent = |error: Error| AttemptFailure {
            error,
            ambiguous: false,
        };
        let creds = cfg
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| not_sent(Error::Credentials(e)))?;
        let nonce = signer::new_nonce().map_err(not_sent)?;
        let now = OffsetDateTime::from(cfg.clock.system_time());
        let signing = SigningParams::new(
            creds.access_key_id(),
            creds.access_key_secret(),
            now,
            &nonce,
        )
        .with_security_token(creds.security_token());
        let params: Vec<(&str, &str)> = req
            .params
            .iter()
            .map(|(k, v)| (k.as_ref(), v.as_str()))
            .collect();

        // The endpoint was parsed once when the client was built; only the query is new.
        let mut url = cfg.endpoint.clone();
        let builder = match cfg.signature_version {
            SignatureVersion::V1 => {
                let signed = signer::v1::sign(
                    req.method.as_str(),
                    req.action,
                    API_VERSION,
                    &params,
                    &signing,
                );
                url.set_query(Some(&signed.query));
                cfg.http.request(req.method.clone(), url)
            }
            SignatureVersion::V3 => {
                let signed = signer::v3::sign(
                    &signer::v3::V3Request {
                        method: req.method.as_str(),
                        host: &cfg.host,
                        action: req.action,
                        version: API_VERSION,
                        params: &params,
                        extra_signed_headers: &[],
                        body: b"",
                    },
                    &signing,
                );
                if !signed.query.is_empty() {
                    url.set_query(Some(&signed.query));
                }
                let mut b = cfg.http.request(req.method.clone(), url);
                for (k, v) in signed.headers {
                    b = b.header(k, v);
                }
                b
            }
        };
        let builder = builder.header(
            reqwest::header::ACCEPT,
            reqwest::header::HeaderValue::from_static("application/json"),
        );

        let exchange = async {
            let resp = builder
                .send()
                .await
                .map_err(|e| self.transport_failure(req, attempt, e))?;
            let status = resp.status();
            let header_request_id = resp
                .headers()
                .get("x-acs-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = read_body(resp, req.action, status, attempt)
                .await
                .map_err(|error| AttemptFailure {
                    ambiguous: true,
                    error,
                })?;
            Ok::<_, AttemptFailure>((status, header_request_id, body))
        };
        // One timer per attempt bounds the wait for the whole answer: the read timeout, or the
        // attempt timeout when that is shorter.
        let (kind, limit) = match cfg.attempt_timeout {
            Some(a) if a <= cfg.read_timeout => (TimeoutKind::Attempt, a),
            _ => (TimeoutKind::Read, cfg.read_timeout),
        };
        let (status, header_request_id, body) = tokio::time::timeout(limit, exchange)
            .await
            .map_err(|_| AttemptFailure {
                error: Error::Timeout(TimeoutError {
                    action: req.action.to_owned(),
                    kind,
                    limit,
                    attempts: attempt,
                }),
                ambiguous: true,
            })??;

        if status.is_success() {
            return Ok(RawSuccess {
                body,
                status: status.as_u16(),
                header_request_id,
                attempts: attempt,
                already_applied: None,
            });
        }
        Err(AttemptFailure {
            error: error_from_body(
                req.action,
                status.as_u16(),
                &body,
                header_request_id,
                attempt,
            ),
            ambiguous: status.is_server_error(),
        })
    }

    fn transport_failure(
        &self,
        req: &OperationRequest,
        attempt: u32,
        e: reqwest::Error,
    ) -> AttemptFailure {
        if e.is_timeout() {
            let (kind, limit, ambiguous) = if e.is_connect() {
                (TimeoutKind::Connect, self.inner.connect_timeout, false)
            } else {
                (TimeoutKind::Read, self.inner.read_timeout, true)
            };
            return AttemptFailure {
                error: Error::Timeout(TimeoutError {
                    action: req.action.to_owned(),
                    kind,
                    limit,
                    attempts: attempt,
                }),
                ambiguous,
            };
        }
        let kind = if e.is_connect() {
            TransportErrorKind::Connect
        } else if e.is_body() || e.is_decode() {
            TransportErrorKind::Body
        } else if e.is_request() {
            TransportErrorKind::Request
        } else {
            TransportErrorKind::Other
        };
        AttemptFailure {
            ambiguous: kind != TransportErrorKind::Connect,
            error: Error::Transport(TransportError {
                action: req.action.to_owned(),
                kind,
                message: describe_reqwest_error(&e),
                attempts: attempt,
                source: Some(Box::new(e.without_url())),
            }),
        }
    }
}

/// The error chain as text, without the URL (it holds the signature).
fn describe_reqwest_error(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    if parts.is_empty() {
        "request failed".to_owned()
    } else {
        parts.join(": ")
    }
}

/// Reads at most [`MAX_BODY_BYTES`]; a larger body is an error keeping its start.
async fn read_body(
    mut resp: reqwest::Response,
    action: &str,
    status: StatusCode,
    attempt: u32,
) -> Result<Vec<u8>, Error> {
    let too_large = |body: &[u8]| {
        Error::InvalidResponse(Box::new(InvalidResponse {
            action: action.to_owned(),
            http_status: status.as_u16(),
            reason: format!("the answer is larger than {MAX_BODY_BYTES} bytes"),
            body_snippet: snippet(body),
            request_id: None,
            attempts: attempt,
        }))
    };
    let declared = resp.content_length().unwrap_or(0);
    let mut body = Vec::with_capacity((declared as usize).min(64 * 1024));
    loop {
        let chunk = resp.chunk().await.map_err(|e| {
            Error::Transport(TransportError {
                action: action.to_owned(),
                kind: TransportErrorKind::Body,
                message: describe_reqwest_error(&e),
                attempts: attempt,
                source: Some(Box::new(e.without_url())),
            })
        })?;
        let Some(chunk) = chunk else { break };
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            body.extend_from_slice(&chunk[..chunk.len().min(1024)]);
            return Err(too_large(&body));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Turns a non-2xx answer into a [`ServiceError`] when it holds a JSON error, otherwise into
/// an [`InvalidResponse`] keeping the status and a snippet.
pub(crate) fn error_from_body(
    action: &str,
    status: u16,
    body: &[u8],
    header_request_id: Option<String>,
    attempts: u32,
) -> Error {
    let parsed: Option<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_slice(body).ok();
    if let Some(obj) = parsed {
        let field = |names: &[&str]| -> Option<String> {
            names.iter().find_map(|n| match obj.get(*n) {
                Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                _ => None,
            })
        };
        if let Some(code) = field(&["Code", "code"]) {
            let access_denied_detail = obj
                .get("AccessDeniedDetail")
                .or_else(|| obj.get("accessDeniedDetail"))
                .filter(|v| !v.is_null())
                .map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
            return Error::Service(Box::new(ServiceError {
                action: action.to_owned(),
                http_status: status,
                code: ErrorCode::from_wire(&code),
                message: field(&["Message", "message"]).unwrap_or_default(),
                request_id: field(&["RequestId", "requestId"]).or(header_request_id),
                host_id: field(&["HostId", "hostId"]),
                recommend: field(&["Recommend", "recommend"]),
                access_denied_detail,
                attempts,
            }));
        }
    }
    let reason = if body.iter().all(u8::is_ascii_whitespace) {
        format!("HTTP {status} with an empty body")
    } else if looks_like_html(body) {
        format!("HTTP {status} with an HTML body, not a JSON error")
    } else {
        format!("HTTP {status} without a JSON error code")
    };
    Error::InvalidResponse(Box::new(InvalidResponse {
        action: action.to_owned(),
        http_status: status,
        reason,
        body_snippet: snippet(body),
        request_id: header_request_id.or_else(|| sniff_request_id(body)),
        attempts,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_error_bodies_become_service_errors() {
        let e = error_from_body(
            "AssociateHaVip",
            400,
            br#"{"RequestId":"R1","HostId":"ens.aliyuncs.com","Code":"HaVipNotFound","Message":"m","Recommend":"https://x"}"#,
            None,
            1,
        );
        let s = e.as_service_error().unwrap();
        assert_eq!(s.code, ErrorCode::HaVipNotFound);
        assert_eq!(s.request_id.as_deref(), Some("R1"));
        assert_eq!(s.host_id.as_deref(), Some("ens.aliyuncs.com"));
        assert_eq!(s.recommend.as_deref(), Some("https://x"));
        assert_eq!(s.http_status, 400);
    }

    #[test]
    fn lower_camel_error_bodies_are_read() {
        let e = error_from_body(
            "A",
            403,
            br#"{"requestId":"R2","code":"Forbidden.RAM","message":"no","AccessDeniedDetail":{"PolicyType":"x"}}"#,
            None,
            2,
        );
        let s = e.as_service_error().unwrap();
        assert_eq!(s.code, ErrorCode::ForbiddenRam);
        assert_eq!(s.message, "no");
        assert_eq!(s.request_id.as_deref(), Some("R2"));
        assert_eq!(
            s.access_denied_detail.as_deref(),
            Some(r#"{"PolicyType":"x"}"#)
        );
        assert_eq!(e.attempts(), Some(2));
    }

    #[test]
    fn html_empty_and_codeless_bodies_keep_status_and_snippet() {
        for (body, needle) in [
            (&b"<html><body>502 Bad Gateway</body></html>"[..], "HTML"),
            (&b""[..], "empty"),
            (&b"{\"Message\":\"x\"}"[..], "without a JSON error code"),
            (&b"\xff\xfe garbage"[..], "without a JSON error code"),
        ] {
            let e = error_from_body("A", 502, body, Some("H1".into()), 1);
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
    fn request_id_is_sniffed_from_broken_json() {
        assert_eq!(
            sniff_request_id(br#"{"RequestId" : "ABC-1", "x": "#).as_deref(),
            Some("ABC-1")
        );
        assert_eq!(sniff_request_id(br#"{"RequestId":"#), None);
    }
}
