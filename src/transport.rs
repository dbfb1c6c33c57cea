//! Sending requests: one implementation of an HTTP exchange bounded in time and size
//! ([`exchange`]), and on it the RPC call: signing each attempt, retrying, time limits, and
//! turning every answer into raw bytes or a typed [`Error`].
//!
//! A [`Transport`] serves one endpoint (ENS's, from the client builder, or an STS's) and knows
//! no service and no operation: what an operation sends is a [`Request`] (action, API version,
//! method, query and form-body parameters, how it may be resent), and a write whose outcome can
//! be unknown brings its own [`SafeWrite`] check. The credentials sources that speak plain HTTP
//! (the instance metadata service, a credentials URI) use [`exchange`] directly.
//!
//! Every time limit (read, attempt, operation) runs on the client's [`Clock`]; only the connect
//! timeout is enforced inside the HTTP client, on real time.
//!
//! # Events
//!
//! Each retry is one `INFO` event (`retrying`: `action`, `attempt`, `error_code` or
//! `error_kind`, `http_status`, `backoff_ms`), and each safe-write check one `INFO` event
//! (`checked whether the write took effect`: `action`, `attempt`, `checked`, `verdict`).
//! Everything else is `DEBUG` (spans `ens_operation` and `ens_attempt`). The final failure is
//! returned, never logged above `DEBUG`: what it means is the caller's business.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::{Method, Url};
use time::OffsetDateTime;
use tracing::field::Empty;
use tracing::Instrument as _;

use crate::clock::{within, Clock};
use crate::credentials::ProvideCredentials;
use crate::error::{
    snippet, CredentialsError, Error, ErrorCode, Escaped, InvalidResponse, OutcomeUnknown,
    TimeoutError, TimeoutKind, TransportError, TransportErrorKind, MAX_ID_CHARS,
};
use crate::retry::RetryConfig;
use crate::signer::{self, SignatureVersion, SigningParams};
use crate::wire::{self, RawAnswer};

/// The content type of a form body, as Alibaba's SDK sends it (and, with V3, signs it).
const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// What the transport needs, resolved by the client builder (or an STS source's builder).
pub(crate) struct Settings {
    pub(crate) http: reqwest::Client,
    pub(crate) endpoint: Url,
    pub(crate) host: String,
    /// `None`: the transport sends anonymous requests only (the STS of AssumeRoleWithOIDC).
    pub(crate) credentials: Option<Arc<dyn ProvideCredentials>>,
    pub(crate) signature_version: SignatureVersion,
    pub(crate) connect_timeout: Duration,
    pub(crate) read_timeout: Duration,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) operation_timeout: Option<Duration>,
    pub(crate) retry: RetryConfig,
    pub(crate) clock: Arc<dyn Clock>,
    /// The largest answer body read, in bytes; a larger one is an [`Error::InvalidResponse`].
    pub(crate) max_answer_bytes: usize,
    /// The answers may hold secrets (STS credentials): no answer text in the transport's events.
    pub(crate) secret_answers: bool,
    /// The client-wide waiter schedule (read by the waiters and ensure calls, not here).
    pub(crate) waiter_schedule: crate::waiter::WaiterSchedule,
}

/// The HTTP client of every transport and credentials source: `connect_timeout` (enforced
/// inside reqwest, on real time), `user_agent`, the environment's proxy (`HTTPS_PROXY`, …) only
/// when `proxy`, and never a redirect: a request may carry a signature or a token, which must
/// not be replayed to another host (a 3xx is an answer like any other).
pub(crate) fn http_client(
    connect_timeout: Duration,
    user_agent: &str,
    proxy: bool,
) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(user_agent)
        .pool_idle_timeout(Duration::from_secs(50));
    if !proxy {
        builder = builder.no_proxy();
    }
    builder.build()
}

/// A handle on the settings, shared by the client, every builder and every waiter. Cheap to
/// clone.
#[derive(Clone)]
pub(crate) struct Transport {
    inner: Arc<Settings>,
}

/// Whether a failed attempt of a request may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resend {
    /// Reads, and writes that cannot apply twice (idempotency token, or setting absolute
    /// values): every retryable failure is retried.
    Always,
    /// Writes without an idempotency token and no safe-write check: a failure after which the
    /// request may have reached the service (timeout after sending, broken connection, 5xx) is
    /// never resent: the call ends with [`Error::OutcomeUnknown`]. Failures that prove nothing
    /// was applied (connect errors, throttling and the other 4xx the gateway answers before the
    /// API runs, 429) are retried as usual. (A write with a [`SafeWrite`] check is governed by
    /// its check.)
    OnlyIfNotApplied,
}

/// One request to send.
pub(crate) struct Request<'h> {
    /// The API action (`CreateHaVip`; any string for runtime actions).
    pub(crate) action: Cow<'static, str>,
    /// The product's API version (`2017-11-10` for ENS), from the operation.
    pub(crate) version: Cow<'static, str>,
    pub(crate) method: Method,
    /// Query parameters, in order.
    pub(crate) query: Vec<(Cow<'static, str>, String)>,
    /// Form-body parameters, in order (sent as `application/x-www-form-urlencoded`).
    pub(crate) body: Vec<(Cow<'static, str>, String)>,
    pub(crate) resend: Resend,
    pub(crate) retry: RetryConfig,
    pub(crate) operation_timeout: Option<Duration>,
    /// The safe-write rule of a write without idempotency token.
    pub(crate) safe_write: Option<&'h dyn SafeWrite>,
    /// An unsigned RPC call (AssumeRoleWithOIDC): `Action`, `Format`, `Version` and `Timestamp`
    /// in the query, no credentials, no signature.
    pub(crate) anonymous: bool,
    /// A `2xx` answer whose top-level `Code` is a failure is an error answer (the generated
    /// operations and `Client::call`; ENS answers some refusals with HTTP 200).
    pub(crate) code_is_status: bool,
}

impl Request<'_> {
    /// Adds a query parameter.
    pub(crate) fn param(&mut self, key: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        self.query.push((key.into(), value.into()));
    }

    /// Adds a form-body parameter (never in the URL: for values such as passwords and long
    /// tokens).
    pub(crate) fn body_param(
        &mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) {
        self.body.push((key.into(), value.into()));
    }
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

    /// Writes what the check looks at, for its event (`whether i-1 is associated with
    /// havip-1`).
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// [`SafeWrite::describe`] as a `Display`.
struct Checked<'a>(&'a dyn SafeWrite);

impl fmt::Display for Checked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.describe(f)
    }
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

impl Verdict {
    fn name(&self) -> &'static str {
        match self {
            Verdict::Applied { .. } => "applied",
            Verdict::NotApplied => "not_applied",
            Verdict::Unknown(_) => "unknown",
        }
    }
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

/// A request's parameters as the signers and the wire take them, made once per call (every
/// attempt sends the same ones).
struct WireForm<'r> {
    query: Vec<(&'r str, &'r str)>,
    body: Vec<(&'r str, &'r str)>,
    /// The body as sent: the form encoding of `body`, or `None` when it has no parameters.
    form: Option<String>,
}

impl<'r> WireForm<'r> {
    fn new(req: &'r Request<'_>) -> Self {
        let pairs = |params: &'r [(Cow<'static, str>, String)]| -> Vec<(&'r str, &'r str)> {
            params
                .iter()
                .map(|(k, v)| (k.as_ref(), v.as_str()))
                .collect()
        };
        let body = pairs(&req.body);
        let form = (!body.is_empty()).then(|| wire::encode_query(&body));
        WireForm {
            query: pairs(&req.query),
            body,
            form,
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

    /// A request for `action` of the API `version`, with the transport's retry policy and
    /// operation timeout; every retryable failure is resent ([`Resend::Always`]) unless the
    /// caller says otherwise.
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
            retry: self.inner.retry,
            operation_timeout: self.inner.operation_timeout,
            safe_write: None,
            anonymous: false,
            code_is_status: false,
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
                    span.record("error_code", tracing::field::display(CodeText(code)));
                }
                span.record("outcome", "error");
                tracing::debug!(parent: &span, error = %self.logged(e), "operation failed");
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
        let form = WireForm::new(req);
        // A write that must not be resent blindly and has no check: an attempt in flight, or
        // one that failed after it may have reached the service, leaves its outcome unknown.
        let blind = req.safe_write.is_none() && req.resend == Resend::OnlyIfNotApplied;
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
            if blind {
                counts.unsettled_write.store(true, Ordering::Relaxed);
            }
            let failure = match self.attempt(req, &form, attempt).await {
                Ok(raw) => return Ok(settled(Outcome::Answered(raw), attempt, probes)),
                Err(f) => f,
            };
            let failure = AttemptFailure {
                error: failure.error.with_counts(attempt, probes),
                ..failure
            };
            if blind {
                if failure.ambiguous {
                    return Err(outcome_unknown(req, failure.error, attempt));
                }
                counts.unsettled_write.store(false, Ordering::Relaxed);
            }
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
                let verdict = hook.check().await;
                tracing::info!(
                    action = &*req.action,
                    attempt,
                    checked = %Checked(hook),
                    verdict = verdict.name(),
                    "checked whether the write took effect"
                );
                match verdict {
                    Verdict::Applied { request_id, ids } => {
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
            tracing::info!(
                action = &*req.action,
                attempt,
                error_code = error.code().map(|c| tracing::field::display(CodeText(c))),
                error_kind = error_kind(&error),
                http_status = error.http_status(),
                backoff_ms = backoff.as_millis() as u64,
                outcome_unknown = failure.ambiguous,
                "retrying"
            );
            self.clock().sleep(backoff).await;
        }
    }

    /// One signed attempt, in an `ens_attempt` span (fields `action`, `attempt`, `http_status`,
    /// `request_id`, `error_code`, `latency_ms`). Nothing secret is recorded: no URL (it holds
    /// the signature and, with STS, the token), no header; server text is escaped and bounded.
    async fn attempt(
        &self,
        req: &Request<'_>,
        form: &WireForm<'_>,
        attempt: u32,
    ) -> Result<RawAnswer, AttemptFailure> {
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
            return self.attempt_inner(req, form, attempt).await;
        }
        let started = Instant::now();
        let result = self
            .attempt_inner(req, form, attempt)
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
                    span.record("error_code", tracing::field::display(CodeText(code)));
                }
                tracing::debug!(parent: &span, error = %self.logged(&f.error), retryable = f.error.is_retryable(), "attempt failed");
            }
        }
        result
    }

    async fn attempt_inner(
        &self,
        req: &Request<'_>,
        form: &WireForm<'_>,
        attempt: u32,
    ) -> Result<RawAnswer, AttemptFailure> {
        let cfg = &*self.inner;
        let now = OffsetDateTime::from(cfg.clock.system_time());
        // The endpoint was parsed once when the transport was built; only the query is new.
        let mut url = cfg.endpoint.clone();
        let builder = if req.anonymous {
            let timestamp = signer::format_timestamp(now);
            let mut query: Vec<(&str, &str)> = Vec::with_capacity(form.query.len() + 4);
            query.extend_from_slice(&[
                ("Action", &*req.action),
                ("Format", "JSON"),
                ("Version", &*req.version),
                ("Timestamp", &timestamp),
            ]);
            query.extend_from_slice(&form.query);
            wire::set_query(&mut url, &query);
            cfg.http.request(req.method.clone(), url)
        } else {
            let provider = cfg.credentials.as_ref().ok_or_else(|| {
                AttemptFailure::not_sent(Error::Credentials(CredentialsError::new(
                    "this endpoint has no credentials to sign with",
                )))
            })?;
            let creds = provider
                .provide_credentials()
                .await
                .map_err(|e| AttemptFailure::not_sent(Error::Credentials(e)))?;
            let nonce = signer::new_nonce().map_err(AttemptFailure::not_sent)?;
            let signing = SigningParams::new(
                creds.access_key_id(),
                creds.access_key_secret(),
                now,
                &nonce,
            )
            .with_security_token(creds.security_token());
            match cfg.signature_version {
                SignatureVersion::V1 => {
                    // The signature covers the query's and the body's parameters together.
                    let signed = signer::v1::sign_with_body(
                        req.method.as_str(),
                        &req.action,
                        &req.version,
                        &form.query,
                        &form.body,
                        &signing,
                    );
                    wire::set_query(&mut url, &signed.to_send());
                    cfg.http.request(req.method.clone(), url)
                }
                SignatureVersion::V3 => {
                    // The body is covered by its hash, and its content type signed, as
                    // Alibaba's SDK signs every header it sends.
                    let content_type: &[(&str, &str)] = match form.form {
                        Some(_) => &[("content-type", FORM_CONTENT_TYPE)],
                        None => &[],
                    };
                    let signed = signer::v3::sign(
                        &signer::v3::V3Request {
                            method: req.method.as_str(),
                            host: &cfg.host,
                            action: &req.action,
                            version: &req.version,
                            params: &form.query,
                            extra_signed_headers: content_type,
                            body: form.form.as_deref().unwrap_or_default().as_bytes(),
                        },
                        &signing,
                    );
                    wire::set_query(&mut url, &form.query);
                    // One map sized once; the signer's names are lower-case constants, which
                    // need no parsing.
                    let mut headers = HeaderMap::with_capacity(signed.headers.len());
                    for (k, v) in signed.headers {
                        let value = match v {
                            Cow::Borrowed(s) => HeaderValue::from_str(s),
                            Cow::Owned(s) => HeaderValue::try_from(s),
                        };
                        // The signer writes printable ASCII (hex, base64, the action, the
                        // version, a date, a nonce); only a caller's security token could hold
                        // something else, refused here, naming the header, never its value.
                        let value = value.map_err(|_| {
                            AttemptFailure::not_sent(Error::invalid_input(
                                k,
                                "is not a valid HTTP header value (a control character?)",
                            ))
                        })?;
                        headers.insert(HeaderName::from_static(k), value);
                    }
                    cfg.http.request(req.method.clone(), url).headers(headers)
                }
            }
        };
        let mut builder = builder.header(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(body) = &form.form {
            builder = builder
                .header(CONTENT_TYPE, HeaderValue::from_static(FORM_CONTENT_TYPE))
                .body(body.clone());
        }

        // One timer per attempt bounds the wait for the whole answer: the read timeout, or the
        // attempt timeout when that is shorter.
        let (kind, limit) = match cfg.attempt_timeout {
            Some(a) if a <= cfg.read_timeout => (TimeoutKind::Attempt, a),
            _ => (TimeoutKind::Read, cfg.read_timeout),
        };
        let answer = exchange(builder, &*cfg.clock, limit, cfg.max_answer_bytes)
            .await
            .map_err(|e| self.exchange_failure(req, attempt, e, kind, limit))?;
        if (200..300).contains(&answer.status) && !(req.code_is_status && answer.has_failure_code())
        {
            return Ok(answer);
        }
        // A refusal in a 200 answer was decided by the service: nothing was applied.
        let ambiguous = answer.status >= 500;
        Err(AttemptFailure {
            error: answer.into_error(&req.action),
            ambiguous,
        })
    }

    /// The attempt failure an [`ExchangeError`] stands for.
    fn exchange_failure(
        &self,
        req: &Request<'_>,
        attempt: u32,
        e: ExchangeError,
        kind: TimeoutKind,
        limit: Duration,
    ) -> AttemptFailure {
        let timeout = |kind, limit, ambiguous| AttemptFailure {
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
        let transport = |kind, ambiguous, e| AttemptFailure {
            error: transport_error(&req.action, kind, attempt, e),
            ambiguous,
        };
        match e {
            ExchangeError::Build(e) => transport(TransportErrorKind::Other, false, e),
            ExchangeError::Send(e) if e.is_timeout() && e.is_connect() => {
                timeout(TimeoutKind::Connect, self.inner.connect_timeout, false)
            }
            ExchangeError::Send(e) if e.is_timeout() => {
                timeout(TimeoutKind::Read, self.inner.read_timeout, true)
            }
            ExchangeError::Send(e) => {
                let kind = if e.is_connect() {
                    TransportErrorKind::Connect
                } else if e.is_body() || e.is_decode() {
                    TransportErrorKind::Body
                } else if e.is_request() {
                    TransportErrorKind::Request
                } else {
                    TransportErrorKind::Other
                };
                transport(kind, kind != TransportErrorKind::Connect, e)
            }
            ExchangeError::Read(e) => transport(TransportErrorKind::Body, true, e),
            ExchangeError::TooLarge {
                status,
                request_id,
                start,
            } => AttemptFailure {
                error: Error::InvalidResponse(Box::new(InvalidResponse {
                    action: req.action.to_string(),
                    http_status: status,
                    reason: format!(
                        "the answer is larger than {} bytes",
                        self.inner.max_answer_bytes
                    ),
                    body_snippet: snippet(&start),
                    request_id,
                    retry_after: None,
                    attempts: attempt,
                    probes: 0,
                })),
                ambiguous: true,
            },
            ExchangeError::TimedOut => timeout(kind, limit, true),
        }
    }

    /// `error` as this transport's events show it: without any answer text when the answers
    /// may hold secrets.
    fn logged<'e>(&self, error: &'e Error) -> Logged<'e> {
        Logged {
            error,
            secret_answers: self.inner.secret_answers,
        }
    }
}

/// An error as the transport's events show it (see [`Transport::logged`]).
struct Logged<'e> {
    error: &'e Error,
    secret_answers: bool,
}

impl fmt::Display for Logged<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.error {
            Error::InvalidResponse(r) if self.secret_answers => write!(
                f,
                "{} got an undecodable answer (HTTP {}): {}",
                r.action, r.http_status, r.reason
            ),
            e => fmt::Display::fmt(e, f),
        }
    }
}

/// An error code as an event field: escaped and bounded.
struct CodeText<'a>(&'a ErrorCode);

impl fmt::Display for CodeText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Escaped::new(&self.0.to_string(), MAX_ID_CHARS), f)
    }
}

/// What kind of failure `error` is, for the `retrying` event (beside its code, when it has one).
fn error_kind(error: &Error) -> &'static str {
    match error {
        Error::Service(_) => "service_error",
        Error::InvalidResponse(_) => "invalid_response",
        Error::Timeout(t) => match t.kind {
            TimeoutKind::Connect => "connect_timeout",
            TimeoutKind::Read => "read_timeout",
            TimeoutKind::Attempt => "attempt_timeout",
            _ => "operation_timeout",
        },
        Error::Transport(t) => match t.kind {
            TransportErrorKind::Connect => "connect",
            TransportErrorKind::Request => "connection_lost",
            TransportErrorKind::Body => "body_read",
            _ => "transport",
        },
        Error::Credentials(_) => "credentials",
        _ => "other",
    }
}

/// The error of a write sent with [`Resend::OnlyIfNotApplied`] whose attempt may have reached
/// the service: it was not sent again, and `cause` is the attempt's failure.
fn outcome_unknown(req: &Request<'_>, cause: Error, attempts: u32) -> Error {
    let reason = match &cause {
        Error::Timeout(t) => format!("no answer within the {} of {:?}", t.kind, t.limit),
        Error::Transport(t) => t.kind.to_string(),
        e => match e.http_status() {
            Some(status) => format!("the service answered HTTP {status}"),
            None => "the attempt failed after it was sent".to_owned(),
        },
    };
    let mut unknown = OutcomeUnknown::new(req.action.as_ref(), reason);
    unknown.attempts = attempts;
    unknown.source = Some(Box::new(cause));
    Error::OutcomeUnknown(Box::new(unknown))
}

/// The attempts and checks made so far, readable when the operation timeout cuts the loop.
#[derive(Default)]
struct Counts {
    attempts: AtomicU32,
    probes: AtomicU32,
    /// A write had an attempt whose outcome is unknown (and the call has not settled).
    unsettled_write: AtomicBool,
}

/// A [`TransportError`] keeping the reqwest error (already without its URL, which holds the
/// signature) as the source.
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
        source: Some(Box::new(e)),
    })
}

/// Why one [`exchange`] failed. Every reqwest error is kept without its URL (it may hold a
/// signature or a token).
pub(crate) enum ExchangeError {
    /// The request could not be made (a bad header value, …); nothing was sent.
    Build(reqwest::Error),
    /// Sending failed, or no answer came (the connection, a timeout inside reqwest, …).
    Send(reqwest::Error),
    /// The answer's body could not be read to its end.
    Read(reqwest::Error),
    /// The answer is larger than the limit: its status and request id, and the first bytes
    /// read.
    TooLarge {
        status: u16,
        request_id: Option<String>,
        start: Vec<u8>,
    },
    /// The time limit ran out (on the clock) before the whole answer came.
    TimedOut,
}

/// One HTTP exchange, the one implementation every request of the crate goes through: sends
/// `request` (never following a redirect: see [`http_client`]), reads at most `max_body` bytes
/// of the answer, all within `limit` on `clock`. No signing, no retry. The answer's status,
/// body, `x-acs-request-id` and `Retry-After` are kept.
pub(crate) async fn exchange(
    request: reqwest::RequestBuilder,
    clock: &dyn Clock,
    limit: Duration,
    max_body: usize,
) -> Result<RawAnswer, ExchangeError> {
    let (client, request) = request.build_split();
    let request = request.map_err(|e| ExchangeError::Build(e.without_url()))?;
    #[cfg(test)]
    assert!(
        matches!(
            request.url().host_str(),
            Some("127.0.0.1" | "localhost" | "[::1]")
        ),
        "a unit test tried to reach {:?}: tests talk to 127.0.0.1 only",
        request.url().host_str()
    );
    let deadline = clock.now() + limit;
    let exchange = async {
        let mut resp = client
            .execute(request)
            .await
            .map_err(|e| ExchangeError::Send(e.without_url()))?;
        let status = resp.status().as_u16();
        let headers = resp.headers();
        let header_request_id = headers
            .get("x-acs-request-id")
            .and_then(|v| v.to_str().ok())
            .and_then(wire::request_id);
        let retry_after = headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| wire::parse_retry_after(v, clock.system_time()));
        let declared = resp.content_length().unwrap_or(0);
        let mut body = Vec::with_capacity((declared as usize).min(max_body).min(64 * 1024));
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| ExchangeError::Read(e.without_url()))?
        {
            if body.len() + chunk.len() > max_body {
                body.extend_from_slice(&chunk[..chunk.len().min(1024)]);
                return Err(ExchangeError::TooLarge {
                    status,
                    request_id: header_request_id,
                    start: body,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(RawAnswer {
            status,
            body,
            header_request_id,
            retry_after,
        })
    };
    within(clock, deadline, exchange)
        .await
        .unwrap_or(Err(ExchangeError::TimedOut))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use sha2::Digest as _;

    use super::*;
    use crate::clock::ManualClock;
    use crate::config::ENS_API_VERSION;
    use crate::credentials::test_server::{Answer, Seen, TestServer};
    use crate::reference_signer::{reference_v1, reference_v3_parts};
    use crate::{Client, Credentials};

    const SECRET: &str = "transport-test-SeCrEt";
    /// Values each encoding step could get wrong: Unicode, a space, and every character that
    /// means something in a query, a form or a percent-encoding.
    const NAME: &str = "高可用 vip&a=b+c/d%e*f~g";
    const DESCRIPTION: &str = "ü + 100% / ?#[]@!$'()*,; \"x\"";

    fn client(endpoint: &str, version: SignatureVersion) -> Client {
        Client::builder()
            .endpoint(endpoint)
            .credentials(Credentials::new("AKID", SECRET))
            .signature_version(version)
            .clock(ManualClock::new())
            .build()
            .unwrap()
    }

    /// CreateHaVip with `VSwitchId` and `Amount` in the query, `Name` and `Description` in the
    /// form body.
    fn create(t: &Transport, vswitch: &str) -> Request<'static> {
        let mut req = t.request("CreateHaVip", ENS_API_VERSION, Method::POST);
        req.param("VSwitchId", vswitch);
        req.param("Amount", "1");
        req.body_param("Name", NAME);
        req.body_param("Description", DESCRIPTION);
        req
    }

    fn describe(t: &Transport) -> Request<'static> {
        let mut req = t.request("DescribeHaVips", ENS_API_VERSION, Method::GET);
        req.param("Name", NAME);
        req
    }

    fn ok_server() -> impl std::future::Future<Output = TestServer> {
        TestServer::start(|_: &Seen| Answer::Reply(200, r#"{"RequestId":"R"}"#.into()))
    }

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// The V3 signature the reference signer computes for `r`, and the one sent.
    fn v3_of(r: &Seen) -> (String, String, String) {
        reference_v3_parts(
            &r.method,
            &r.query,
            &|h| r.header(h).map(str::to_owned),
            &r.body,
            SECRET,
        )
    }

    #[tokio::test]
    async fn form_body_parameters_are_signed_as_the_reference_signs_them() {
        let server = ok_server().await;
        for version in [SignatureVersion::V1, SignatureVersion::V3] {
            let client = client(&server.url, version);
            let t = client.transport();
            t.invoke(&create(t, "vsw-1")).await.unwrap();
            let r = server.seen().pop().unwrap();
            assert_eq!(r.method, "POST");
            assert_eq!(r.header("content-type"), Some(FORM_CONTENT_TYPE));
            // The body holds the body parameters only, written by serde_urlencoded (space as
            // `+`); the query never holds them.
            assert_eq!(
                r.form(),
                owned(&[("Name", NAME), ("Description", DESCRIPTION)])
            );
            assert_eq!(
                String::from_utf8(r.body.clone()).unwrap(),
                wire::encode_query(&[("Name", NAME), ("Description", DESCRIPTION)])
            );
            assert!(String::from_utf8_lossy(&r.body)
                .starts_with("Name=%E9%AB%98%E5%8F%AF%E7%94%A8+vip%26a%3Db%2Bc%2Fd%25e*f%7Eg&"));
            assert_eq!(r.param("VSwitchId"), Some("vsw-1"));
            assert_eq!(r.param("Amount"), Some("1"));
            assert!(r.param("Name").is_none() && r.param("Description").is_none());
            match version {
                SignatureVersion::V1 => {
                    // Common parameters in the query; the signature covers query and body.
                    for common in ["Action", "Version", "AccessKeyId", "SignatureNonce"] {
                        assert!(r.param(common).is_some(), "{common}");
                    }
                    let mut signed = r.query.clone();
                    signed.extend(r.form());
                    let sent = r.param("Signature").unwrap();
                    assert_eq!(reference_v1("POST", &signed, SECRET), sent);
                    assert_ne!(reference_v1("POST", &r.query, SECRET), sent);
                }
                _ => {
                    // The canonical query is the query's; the body is covered by its hash, and
                    // the content type is signed, as Alibaba's SDK does.
                    let (expected, sent, signed_headers) = v3_of(&r);
                    assert_eq!(expected, sent);
                    assert!(signed_headers.split(';').any(|h| h == "content-type"));
                    let hash = crate::signer::hex_lower(&sha2::Sha256::digest(&r.body));
                    assert_eq!(r.header("x-acs-content-sha256"), Some(hash.as_str()));
                    assert_eq!(r.header("x-acs-action"), Some("CreateHaVip"));
                    assert_eq!(r.header("x-acs-version"), Some(ENS_API_VERSION));
                }
            }
        }
    }

    #[tokio::test]
    async fn a_get_without_body_is_signed_as_before() {
        let server = ok_server().await;
        for version in [SignatureVersion::V1, SignatureVersion::V3] {
            let client = client(&server.url, version);
            let t = client.transport();
            t.invoke(&describe(t)).await.unwrap();
            let r = server.seen().pop().unwrap();
            assert_eq!(r.method, "GET");
            assert!(r.body.is_empty());
            assert_eq!(r.header("content-type"), None);
            assert_eq!(r.param("Name"), Some(NAME));
            match version {
                SignatureVersion::V1 => assert_eq!(
                    reference_v1("GET", &r.query, SECRET),
                    r.param("Signature").unwrap()
                ),
                _ => {
                    let (expected, sent, signed_headers) = v3_of(&r);
                    assert_eq!(expected, sent);
                    assert!(!signed_headers.contains("content-type"));
                    assert_eq!(
                        r.header("x-acs-content-sha256"),
                        Some(crate::signer::v3::EMPTY_PAYLOAD_SHA256)
                    );
                }
            }
        }
    }

    #[cfg(feature = "emulator")]
    #[tokio::test]
    async fn the_emulator_verifies_form_bodies_and_gets_with_both_signatures() {
        let emu = crate::emulator::Emulator::start_demo().await.unwrap();
        let named = |emu: &crate::emulator::Emulator| {
            emu.ha_vips()
                .into_iter()
                .filter(|h| h.name == NAME && h.description == DESCRIPTION)
                .count()
        };
        for (n, version) in [SignatureVersion::V1, SignatureVersion::V3]
            .into_iter()
            .enumerate()
        {
            let client = emu
                .client_builder()
                .signature_version(version)
                .build()
                .unwrap();
            let t = client.transport();
            let settled = t.invoke(&create(t, "vsw-demo")).await.unwrap();
            assert!(matches!(settled.outcome, Outcome::Answered(_)));
            // Made once, with every character of the body parameters intact.
            assert_eq!(named(&emu), n + 1, "{version}");
            let settled = t.invoke(&describe(t)).await.unwrap();
            let Outcome::Answered(raw) = settled.outcome else {
                panic!("{version}: no answer")
            };
            let page: serde_json::Value = wire::decode_json(&raw.body).unwrap();
            assert_eq!(page["TotalCount"], n as u64 + 1, "{version}: {page}");
        }
    }

    #[tokio::test]
    async fn a_write_that_may_have_applied_is_never_resent() {
        let server = TestServer::start(|_: &Seen| {
            Answer::Reply(
                503,
                r#"{"RequestId":"R503","Code":"ServiceUnavailable"}"#.into(),
            )
        })
        .await;
        let client = client(&server.url, SignatureVersion::V1);
        let t = client.transport();
        let mut req = create(t, "vsw-1");
        req.resend = Resend::OnlyIfNotApplied;
        let e = t.invoke(&req).await.err().unwrap();
        assert_eq!(server.seen().len(), 1);
        assert!(e.is_outcome_unknown());
        assert_eq!((e.attempts(), e.probes()), (Some(1), Some(0)));
        let Error::OutcomeUnknown(o) = &e else {
            panic!("{e:?}")
        };
        assert!(o.possibly_created().is_none());
        assert_eq!(o.reason, "the service answered HTTP 503");
        let text = e.to_string();
        assert_eq!(
            text,
            "CreateHaVip's outcome is unknown (the service answered HTTP 503): it may or may \
             not have taken effect and was not sent again; check whether it took effect before \
             sending it again"
        );
        let source = std::error::Error::source(&e).unwrap();
        assert_eq!(
            source.to_string(),
            "CreateHaVip failed with ServiceUnavailable (HTTP 503) (request id R503)"
        );
        // The same write with the default rule is sent again.
        let again = t.invoke(&create(t, "vsw-1")).await.err().unwrap();
        assert!(!again.is_outcome_unknown());
        assert_eq!(server.seen().len(), 4);
    }

    #[tokio::test]
    async fn a_write_refused_before_it_ran_is_resent() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let server =
            TestServer::start(
                move |_: &Seen| match counted.fetch_add(1, Ordering::SeqCst) {
                    0 => Answer::Reply(400, r#"{"RequestId":"T","Code":"Throttling.User"}"#.into()),
                    1 => Answer::Reply(429, "slow down".into()),
                    _ => Answer::Reply(200, r#"{"RequestId":"OK"}"#.into()),
                },
            )
            .await;
        let client = client(&server.url, SignatureVersion::V3);
        let t = client.transport();
        let mut req = create(t, "vsw-1");
        req.resend = Resend::OnlyIfNotApplied;
        req.retry = RetryConfig::standard().with_max_attempts(3);
        let settled = t.invoke(&req).await.unwrap();
        assert_eq!(settled.attempts, 3);
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        // Nothing listening: the request was never sent, so it is sent again.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", l.local_addr().unwrap())
        };
        let client = self::client(&closed, SignatureVersion::V1);
        let t = client.transport();
        let mut req = create(t, "vsw-1");
        req.resend = Resend::OnlyIfNotApplied;
        let e = t.invoke(&req).await.err().unwrap();
        assert!(!e.is_outcome_unknown(), "{e}");
        assert!(
            matches!(&e, Error::Transport(t) if t.kind == TransportErrorKind::Connect),
            "{e:?}"
        );
        assert_eq!(e.attempts(), Some(3));
    }

    #[tokio::test]
    async fn a_write_without_answer_is_not_resent_and_a_cut_one_says_so() {
        let server = TestServer::start(|_: &Seen| Answer::Hang(Duration::from_secs(30))).await;
        let clock = ManualClock::new();
        let client = Client::builder()
            .endpoint(&server.url)
            .credentials(Credentials::new("AKID", SECRET))
            .read_timeout(Duration::from_secs(2))
            .clock(clock.clone())
            .build()
            .unwrap();
        let wait_and_advance = |n: usize, by: Duration| {
            let (clock, server) = (clock.clone(), server.clone());
            async move {
                while clock.pending_timers() == 0 || server.seen().len() < n {
                    tokio::task::yield_now().await;
                }
                clock.advance(by);
            }
        };
        // The read timeout: no answer, so maybe applied: not sent again.
        let t = client.transport().clone();
        let call = tokio::spawn(async move {
            let mut req = create(&t, "vsw-1");
            req.resend = Resend::OnlyIfNotApplied;
            t.invoke(&req).await.err().unwrap()
        });
        wait_and_advance(1, Duration::from_secs(2)).await;
        let e = call.await.unwrap();
        assert!(e.is_outcome_unknown(), "{e}");
        let Error::OutcomeUnknown(o) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(o.reason, "no answer within the read timeout of 2s");
        assert!(matches!(
            o.source.as_deref(),
            Some(Error::Timeout(t)) if t.kind == TimeoutKind::Read
        ));
        assert_eq!(server.seen().len(), 1);

        // The operation timeout cuts the attempt in flight: the timeout says the write's
        // outcome is unknown.
        let t = client.transport().clone();
        let call = tokio::spawn(async move {
            let mut req = create(&t, "vsw-1");
            req.resend = Resend::OnlyIfNotApplied;
            req.operation_timeout = Some(Duration::from_secs(1));
            t.invoke(&req).await.err().unwrap()
        });
        wait_and_advance(2, Duration::from_secs(1)).await;
        let e = call.await.unwrap();
        let Error::Timeout(timeout) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(timeout.kind, TimeoutKind::Operation);
        assert!(timeout.write_outcome_unknown);
        assert!(e.is_outcome_unknown());
    }
}
