//! Sending one operation: signing each attempt, retrying, time limits, and turning every answer
//! into raw bytes or a typed [`Error`]. It knows no operation: what an operation sends is a
//! [`Request`], and a write whose outcome can be unknown brings its own [`SafeWrite`] hook.
//!
//! Every time limit (read, attempt, operation) runs on the client's [`Clock`]; only the connect
//! timeout is enforced inside the HTTP client, on real time.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, Url};
use time::OffsetDateTime;
use tracing::field::Empty;
use tracing::Instrument as _;

use crate::clock::{within, Clock};
use crate::credentials::ProvideCredentials;
use crate::error::{
    snippet, Error, ErrorCode, Escaped, InvalidResponse, TimeoutError, TimeoutKind, TransportError,
    TransportErrorKind,
};
use crate::retry::RetryConfig;
use crate::signer::{self, SignatureVersion, SigningParams};
use crate::wire::{self, RawAnswer};

/// The largest answer body read, in bytes; a larger one is an [`Error::InvalidResponse`].
pub(crate) const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// What the transport needs, resolved by the client builder.
pub(crate) struct Settings {
    pub(crate) http: reqwest::Client,
    pub(crate) endpoint: Url,
    pub(crate) host: String,
    pub(crate) credentials: Arc<dyn ProvideCredentials>,
    pub(crate) signature_version: SignatureVersion,
    pub(crate) connect_timeout: Duration,
    pub(crate) read_timeout: Duration,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) operation_timeout: Option<Duration>,
    pub(crate) retry: RetryConfig,
    pub(crate) clock: Arc<dyn Clock>,
}

/// A handle on the settings, shared by the client, every builder and every waiter. Cheap to
/// clone.
#[derive(Clone)]
pub(crate) struct Transport {
    inner: Arc<Settings>,
}

/// One operation to send.
pub(crate) struct Request<'h> {
    pub(crate) action: Cow<'static, str>,
    pub(crate) version: Cow<'static, str>,
    pub(crate) method: Method,
    pub(crate) query: Vec<(Cow<'static, str>, String)>,
    pub(crate) body: Vec<(Cow<'static, str>, String)>,
    pub(crate) resend: Resend,
    #[allow(dead_code)] // shim: the core branch uses it
    pub(crate) anonymous: bool,
    pub(crate) retry: RetryConfig,
    pub(crate) operation_timeout: Option<Duration>,
    /// The safe-write rule of a write without idempotency token.
    pub(crate) safe_write: Option<&'h dyn SafeWrite>,
}

impl Request<'_> {
    pub(crate) fn param(&mut self, key: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        self.query.push((key.into(), value.into()));
    }

    pub(crate) fn body_param(
        &mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) {
        self.body.push((key.into(), value.into()));
    }
}

/// Whether a failed attempt may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resend {
    /// Every retryable failure is retried.
    Always,
    /// A failure after which the request may have reached the service is never resent.
    OnlyIfNotApplied,
}

/// A boxed future. Every public `async fn` of the crate awaits one, made in a function that is
/// never inlined: otherwise the body of an `async fn` (and every generic function it calls, serde's
/// decoding included) is compiled again in each crate that awaits it.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The future a [`SafeWrite`] check returns.
pub(crate) type CheckFuture<'a> = Pin<Box<dyn Future<Output = Verdict> + Send + 'a>>;

/// A write's answer to "did the attempt whose outcome is unknown take effect?" (see
/// [`crate::retry`]). Each write operation without idempotency token supplies one.
pub(crate) trait SafeWrite: Send + Sync {
    /// `true` for an error code that, answered after an attempt whose outcome is unknown, shows
    /// that attempt took effect (e.g. `InstanceAlreadyAssociated` for AssociateHaVip).
    fn is_done_code(&self, code: &ErrorCode) -> bool;

    /// Asks the service (one check: usually one DescribeHaVips call).
    fn check(&self) -> CheckFuture<'_>;
}

/// What a [`SafeWrite`] check found.
pub(crate) enum Verdict {
    /// The write took effect; the check's request id, and the ids of what it made (CreateHaVip).
    Applied {
        request_id: String,
        ids: Vec<String>,
    },
    /// It did not, or the check could not tell in a way that makes writing again safe.
    NotApplied,
    /// It cannot be told, and writing again might do the write twice: stop with this error.
    Unknown(Error),
}

/// How a call settled.
pub(crate) struct Settled {
    pub(crate) outcome: Outcome,
    pub(crate) attempts: u32,
    pub(crate) probes: u32,
}

pub(crate) enum Outcome {
    /// A 2xx answer, to decode.
    Answered(RawAnswer),
    /// The safe-write rule found the write done.
    AlreadyApplied {
        request_id: Option<String>,
        ids: Vec<String>,
    },
}

/// What one failed attempt tells the retry loop.
struct AttemptFailure {
    error: Error,
    /// The request may have reached the service and taken effect.
    ambiguous: bool,
}

impl AttemptFailure {
    fn not_sent(error: Error) -> Self {
        AttemptFailure {
            error,
            ambiguous: false,
        }
    }
}

impl Transport {
    pub(crate) fn new(settings: Settings) -> Self {
        Transport {
            inner: Arc::new(settings),
        }
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.inner
    }

    pub(crate) fn clock(&self) -> &dyn Clock {
        &*self.inner.clock
    }

    /// A request for `action` with the client's retry policy and operation timeout.
    pub(crate) fn request(
        &self,
        action: impl Into<Cow<'static, str>>,
        version: impl Into<Cow<'static, str>>,
        method: Method,
    ) -> Request<'static> {
        Request {
            action: action.into(),
            version: version.into(),
            method,
            query: Vec::new(),
            body: Vec::new(),
            resend: Resend::Always,
            anonymous: false,
            retry: self.inner.retry,
            operation_timeout: self.inner.operation_timeout,
            safe_write: None,
        }
    }

    /// Sends `req`, retrying per its policy, within its operation timeout.
    ///
    /// Runs inside a `ens_operation` span (fields `action`, `attempts`, `probes`, `request_id`,
    /// `error_code`, `outcome`); each attempt inside an `ens_attempt` span.
    #[inline(never)]
    pub(crate) fn invoke<'a>(
        &'a self,
        req: &'a Request<'_>,
    ) -> BoxFuture<'a, Result<Settled, Error>> {
        Box::pin(self.invoke_traced(req))
    }

    async fn invoke_traced(&self, req: &Request<'_>) -> Result<Settled, Error> {
        let span = tracing::debug_span!(
            "ens_operation",
            action = &*req.action,
            attempts = Empty,
            probes = Empty,
            request_id = Empty,
            error_code = Empty,
            outcome = Empty,
        );
        // Instrumenting moves the (large) inner future; skip it when nobody listens.
        let result = if span.is_disabled() {
            self.invoke_within_limit(req).await
        } else {
            self.invoke_within_limit(req).instrument(span.clone()).await
        };
        if span.is_disabled() {
            return result;
        }
        match &result {
            Ok(ok) => {
                span.record("attempts", ok.attempts);
                span.record("probes", ok.probes);
                match &ok.outcome {
                    Outcome::Answered(raw) => {
                        span.record("outcome", "success");
                        if let Some(id) = &raw.header_request_id {
                            span.record("request_id", id.as_str());
                        }
                    }
                    Outcome::AlreadyApplied { request_id, .. } => {
                        span.record("outcome", "already_applied");
                        if let Some(id) = request_id {
                            span.record("request_id", id.as_str());
                        }
                    }
                }
            }
            Err(e) => {
                if let Some(n) = e.attempts() {
                    span.record("attempts", n);
                }
                if let Some(n) = e.probes() {
                    span.record("probes", n);
                }
                if let Some(id) = e.request_id() {
                    span.record("request_id", id);
                }
                if let Some(code) = e.code() {
                    span.record(
                        "error_code",
                        tracing::field::display(Escaped::new(&code.to_string(), 128)),
                    );
                }
                span.record("outcome", "error");
                tracing::debug!(parent: &span, error = %e, "operation failed");
            }
        }
        result
    }

    async fn invoke_within_limit(&self, req: &Request<'_>) -> Result<Settled, Error> {
        let counts = Counts::default();
        let Some(limit) = req.operation_timeout else {
            return self.invoke_attempts(req, &counts, None).await;
        };
        let clock = self.clock();
        let deadline = clock.now() + limit;
        match within(
            clock,
            deadline,
            self.invoke_attempts(req, &counts, Some(deadline)),
        )
        .await
        {
            Some(r) => r,
            None => Err(Error::Timeout(TimeoutError {
                action: req.action.to_string(),
                kind: TimeoutKind::Operation,
                limit,
                attempts: counts.attempts.load(Ordering::Relaxed),
                probes: counts.probes.load(Ordering::Relaxed),
                write_outcome_unknown: counts.unsettled_write.load(Ordering::Relaxed),
            })),
        }
    }

    async fn invoke_attempts(
        &self,
        req: &Request<'_>,
        counts: &Counts,
        deadline: Option<Instant>,
    ) -> Result<Settled, Error> {
        let mut earlier_ambiguous = false;
        let mut attempt = 0u32;
        let mut probes = 0u32;
        let settled = |outcome, attempts, probes| Settled {
            outcome,
            attempts,
            probes,
        };
        loop {
            attempt += 1;
            counts.attempts.store(attempt, Ordering::Relaxed);
            let failure = match self.attempt(req, attempt).await {
                Ok(raw) => return Ok(settled(Outcome::Answered(raw), attempt, probes)),
                Err(f) => f,
            };
            let failure = AttemptFailure {
                error: failure.error.with_counts(attempt, probes),
                ..failure
            };
            if failure.ambiguous && req.safe_write.is_some() {
                counts.unsettled_write.store(true, Ordering::Relaxed);
            }
            if let (Some(hook), true) = (req.safe_write, earlier_ambiguous) {
                if let Some(code) = failure.error.code().filter(|c| hook.is_done_code(c)) {
                    tracing::debug!(attempt, %code, "an earlier attempt took effect");
                    let request_id = failure.error.request_id().map(str::to_owned);
                    let outcome = Outcome::AlreadyApplied {
                        request_id,
                        ids: Vec::new(),
                    };
                    return Ok(settled(outcome, attempt, probes));
                }
            }
            // The outcome of a write may be unknown: ask the service before writing again (or
            // before giving up), rather than repeat it blindly.
            let last = attempt >= req.retry.max_attempts() || !failure.error.is_retryable();
            let outcome_unknown = failure.ambiguous || (earlier_ambiguous && last);
            if let (Some(hook), true) = (req.safe_write, outcome_unknown) {
                probes += 1;
                counts.probes.store(probes, Ordering::Relaxed);
                match hook.check().await {
                    Verdict::Applied { request_id, ids } => {
                        tracing::debug!(attempt, probes, "the write took effect");
                        let outcome = Outcome::AlreadyApplied {
                            request_id: Some(request_id),
                            ids,
                        };
                        return Ok(settled(outcome, attempt, probes));
                    }
                    Verdict::Unknown(e) => {
                        let cause = failure.error.with_counts(attempt, probes);
                        return Err(e.with_counts(attempt, probes).caused_by(cause));
                    }
                    Verdict::NotApplied => {}
                }
            }
            let error = failure.error.with_counts(attempt, probes);
            if last {
                return Err(error);
            }
            earlier_ambiguous |= failure.ambiguous;
            let mut backoff = req.retry.backoff(attempt);
            if let Some(advice) = error.retry_after() {
                // The server said when to come back: wait that long, unless it is longer than
                // the policy allows or than the time left, in which case stop now with its advice.
                let left = deadline.map(|d| d.saturating_duration_since(self.clock().now()));
                if advice > req.retry.max_backoff() || left.is_some_and(|l| advice >= l) {
                    return Err(error);
                }
                backoff = backoff.max(advice);
            }
            tracing::debug!(
                attempt,
                backoff_ms = backoff.as_millis() as u64,
                outcome_unknown = failure.ambiguous,
                error = %error,
                "retrying"
            );
            self.clock().sleep(backoff).await;
        }
    }

    /// One signed attempt, in an `ens_attempt` span (fields `action`, `attempt`, `http_status`,
    /// `request_id`, `error_code`, `latency_ms`). Nothing secret is recorded: no URL (it holds
    /// the signature and, with STS, the token), no header; server text is escaped and bounded.
    async fn attempt(&self, req: &Request<'_>, attempt: u32) -> Result<RawAnswer, AttemptFailure> {
        let span = tracing::debug_span!(
            "ens_attempt",
            action = &*req.action,
            attempt,
            http_status = Empty,
            request_id = Empty,
            error_code = Empty,
            latency_ms = Empty,
        );
        if span.is_disabled() {
            return self.attempt_inner(req, attempt).await;
        }
        let started = Instant::now();
        let result = self
            .attempt_inner(req, attempt)
            .instrument(span.clone())
            .await;
        span.record("latency_ms", started.elapsed().as_millis() as u64);
        match &result {
            Ok(ok) => {
                span.record("http_status", ok.status);
                let id = ok
                    .header_request_id
                    .clone()
                    .or_else(|| wire::sniff_request_id(&ok.body));
                if let Some(id) = id {
                    span.record("request_id", id.as_str());
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
                    span.record(
                        "error_code",
                        tracing::field::display(Escaped::new(&code.to_string(), 128)),
                    );
                }
                tracing::debug!(parent: &span, error = %f.error, retryable = f.error.is_retryable(), "attempt failed");
            }
        }
        result
    }

    async fn attempt_inner(
        &self,
        req: &Request<'_>,
        attempt: u32,
    ) -> Result<RawAnswer, AttemptFailure> {
        let cfg = &*self.inner;
        let creds = cfg
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| AttemptFailure::not_sent(Error::Credentials(e)))?;
        let nonce = signer::new_nonce().map_err(AttemptFailure::not_sent)?;
        let now = OffsetDateTime::from(cfg.clock.system_time());
        let signing = SigningParams::new(
            creds.access_key_id(),
            creds.access_key_secret(),
            now,
            &nonce,
        )
        .with_security_token(creds.security_token());
        let params: Vec<(&str, &str)> = req
            .query
            .iter()
            .map(|(k, v)| (k.as_ref(), v.as_str()))
            .collect();

        // The endpoint was parsed once when the client was built; only the query is new.
        let mut url = cfg.endpoint.clone();
        let builder = match cfg.signature_version {
            SignatureVersion::V1 => {
                let signed = signer::v1::sign(
                    req.method.as_str(),
                    &req.action,
                    &req.version,
                    &params,
                    &signing,
                );
                wire::set_query(&mut url, &signed.to_send());
                cfg.http.request(req.method.clone(), url)
            }
            SignatureVersion::V3 => {
                let signed = signer::v3::sign(
                    &signer::v3::V3Request {
                        method: req.method.as_str(),
                        host: &cfg.host,
                        action: &req.action,
                        version: &req.version,
                        params: &params,
                        extra_signed_headers: &[],
                        body: b"",
                    },
                    &signing,
                );
                wire::set_query(&mut url, &params);
                let mut b = cfg.http.request(req.method.clone(), url);
                for (k, v) in signed.headers {
                    b = b.header(k, v.into_owned());
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
            let status = resp.status().as_u16();
            let headers = resp.headers();
            let header_request_id = headers
                .get("x-acs-request-id")
                .and_then(|v| v.to_str().ok())
                .and_then(wire::request_id);
            let retry_after = headers
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| wire::parse_retry_after(v, cfg.clock.system_time()));
            let body = read_body(resp, &req.action, status, attempt)
                .await
                .map_err(|error| AttemptFailure {
                    ambiguous: true,
                    error,
                })?;
            Ok::<_, AttemptFailure>(RawAnswer {
                status,
                body,
                header_request_id,
                retry_after,
            })
        };
        // One timer per attempt bounds the wait for the whole answer: the read timeout, or the
        // attempt timeout when that is shorter.
        let (kind, limit) = match cfg.attempt_timeout {
            Some(a) if a <= cfg.read_timeout => (TimeoutKind::Attempt, a),
            _ => (TimeoutKind::Read, cfg.read_timeout),
        };
        let deadline = cfg.clock.now() + limit;
        let answer = within(&*cfg.clock, deadline, exchange)
            .await
            .ok_or_else(|| AttemptFailure {
                error: Error::Timeout(TimeoutError {
                    action: req.action.to_string(),
                    kind,
                    limit,
                    attempts: attempt,
                    probes: 0,
                    write_outcome_unknown: false,
                }),
                ambiguous: true,
            })??;

        if (200..300).contains(&answer.status) {
            return Ok(answer);
        }
        let ambiguous = answer.status >= 500;
        Err(AttemptFailure {
            error: answer.into_error(&req.action),
            ambiguous,
        })
    }

    fn transport_failure(
        &self,
        req: &Request<'_>,
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
                    action: req.action.to_string(),
                    kind,
                    limit,
                    attempts: attempt,
                    probes: 0,
                    write_outcome_unknown: false,
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
            error: transport_error(&req.action, kind, attempt, e),
        }
    }
}

/// The attempts and checks made so far, readable when the operation timeout cuts the loop.
#[derive(Default)]
struct Counts {
    attempts: AtomicU32,
    probes: AtomicU32,
    /// A write had an attempt whose outcome is unknown (and the call has not settled).
    unsettled_write: AtomicBool,
}

/// A [`TransportError`] keeping the reqwest error, without its URL (it holds the signature), as
/// the source.
fn transport_error(
    action: &str,
    kind: TransportErrorKind,
    attempts: u32,
    e: reqwest::Error,
) -> Error {
    Error::Transport(TransportError {
        action: action.to_owned(),
        kind,
        attempts,
        probes: 0,
        source: Some(Box::new(e.without_url())),
    })
}

/// Reads at most [`MAX_BODY_BYTES`]; a larger body is an error keeping its start.
async fn read_body(
    mut resp: reqwest::Response,
    action: &str,
    status: u16,
    attempt: u32,
) -> Result<Vec<u8>, Error> {
    let declared = resp.content_length().unwrap_or(0);
    let mut body = Vec::with_capacity((declared as usize).min(64 * 1024));
    loop {
        let chunk = resp
            .chunk()
            .await
            .map_err(|e| transport_error(action, TransportErrorKind::Body, attempt, e))?;
        let Some(chunk) = chunk else { break };
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            body.extend_from_slice(&chunk[..chunk.len().min(1024)]);
            return Err(Error::InvalidResponse(Box::new(InvalidResponse {
                action: action.to_owned(),
                http_status: status,
                reason: format!("the answer is larger than {MAX_BODY_BYTES} bytes"),
                body_snippet: snippet(&body),
                request_id: None,
                retry_after: None,
                attempts: attempt,
                probes: 0,
            })));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
