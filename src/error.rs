//! The crate's one error type, [`Error`], and what it carries.
//!
//! Every failure keeps what a caller needs to act on it: a service error keeps the HTTP status,
//! the error [`ErrorCode`], message, request id, host id, the server's `Recommend` link and any
//! `AccessDeniedDetail`; an undecodable response keeps the HTTP status and a bounded snippet of
//! the body; input errors name the parameter. Secrets never appear in any of them.
//!
//! # Reading an error chain
//!
//! Each error's `Display` is one sentence about its own level, and the error beneath it is
//! returned by [`source()`](std::error::Error::source), never repeated in the text (the Rust API
//! guidelines' rule, which reqwest follows too). Print the whole chain to see everything, e.g.
//! with `anyhow`'s `{:#}` or by walking `source()`:
//!
//! ```
//! fn report(e: &dyn std::error::Error) -> String {
//!     let mut out = e.to_string();
//!     let mut cause = e.source();
//!     while let Some(c) = cause {
//!         out.push_str(": ");
//!         out.push_str(&c.to_string());
//!         cause = c.source();
//!     }
//!     out
//! }
//! # let e = alibabacloud_ens::Error::from(alibabacloud_ens::error::CredentialsError::new("x"));
//! # assert_eq!(report(&e), "credentials error: x");
//! ```
//!
//! # Text from the server
//!
//! Whatever a server sends is data: every string kept from an answer (message, code, request
//! id, host id, `Recommend`, `AccessDeniedDetail`, the body snippet) is cut to a bounded length
//! when it is read, and `Display` escapes control characters, so a hostile or broken server can
//! neither flood a log nor forge a line in it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::model::{HaVip, ParseEnumError};

/// Longest body snippet kept in an error, in bytes (cut at a character boundary).
pub const MAX_SNIPPET_BYTES: usize = 512;
/// Longest server message kept, in characters (longer ones are cut and end in `…`).
pub const MAX_MESSAGE_CHARS: usize = 1024;
/// Longest error code, request id or host id kept, in characters.
pub const MAX_ID_CHARS: usize = 128;
/// Longest `Recommend` or `AccessDeniedDetail` kept, in characters.
pub const MAX_ADVICE_CHARS: usize = 512;

/// Every error this crate returns.
///
/// `Display` reads as a sentence; for a service error it names the action, the code, the HTTP
/// status, the message and the request id. The accessors [`code`](Error::code),
/// [`request_id`](Error::request_id), [`http_status`](Error::http_status) and
/// [`is_retryable`](Error::is_retryable) look through the waiter variants to the error beneath.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service answered with an error body (`Code`, `Message`, `RequestId`, …).
    #[error(transparent)]
    Service(Box<ServiceError>),
    /// A parameter was missing or invalid; nothing was sent.
    #[error("invalid input: {0}")]
    InvalidInput(InvalidInput),
    /// No usable credentials, or a credentials source failed.
    #[error(transparent)]
    Credentials(CredentialsError),
    /// The request could not be sent or its answer not received (DNS, connect, reset, TLS…).
    #[error(transparent)]
    Transport(TransportError),
    /// A time limit ran out.
    #[error(transparent)]
    Timeout(TimeoutError),
    /// The service (or something in front of it) answered with a body this crate cannot decode.
    #[error(transparent)]
    InvalidResponse(Box<InvalidResponse>),
    /// A write without idempotency token may or may not have taken effect, and writing again
    /// could do it twice: the call stops and says what to check (see [`crate::retry`]).
    #[error(transparent)]
    OutcomeUnknown(Box<OutcomeUnknown>),
    /// What exists contradicts what was asked, and settling it is not the call's to decide
    /// (`ensure_ha_vip`: an HAVIP with the name has another address; `ensure_eip_associated`:
    /// the EIP is bound to another resource). Nothing was written.
    #[error(transparent)]
    Conflict(Box<Conflict>),
    /// A waiter's deadline passed before the wanted state was observed.
    #[error(transparent)]
    WaiterTimedOut(Box<WaiterTimedOut>),
    /// A waiter observed a state from which the wanted state cannot be reached.
    #[error(transparent)]
    WaiterFailureState(Box<WaiterFailureState>),
    /// A waiter's poll failed with an error that retrying will not cure.
    #[error(transparent)]
    WaiterOperationFailed(Box<WaiterOperationFailed>),
}

impl Error {
    pub(crate) fn invalid_input(parameter: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput(InvalidInput {
            parameter: parameter.into(),
            reason: reason.into(),
        })
    }

    fn innermost(&self) -> &Error {
        match self {
            Error::WaiterOperationFailed(w) => w.source.innermost(),
            other => other,
        }
    }

    /// The service error beneath this error, if the service answered with one.
    pub fn as_service_error(&self) -> Option<&ServiceError> {
        match self.innermost() {
            Error::Service(s) => Some(s),
            _ => None,
        }
    }

    /// The service's error code, if the service answered with one.
    pub fn code(&self) -> Option<&ErrorCode> {
        self.as_service_error().map(|s| &s.code)
    }

    /// The request id of the failed call, when the service sent one.
    pub fn request_id(&self) -> Option<&str> {
        match self.innermost() {
            Error::Service(s) => s.request_id.as_deref(),
            Error::InvalidResponse(r) => r.request_id.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status of the answer, when there was one.
    pub fn http_status(&self) -> Option<u16> {
        match self.innermost() {
            Error::Service(s) => Some(s.http_status),
            Error::InvalidResponse(r) => Some(r.http_status),
            _ => None,
        }
    }

    /// `true` when the same request may succeed if sent again: network errors, timeouts of an
    /// attempt, HTTP 5xx, throttling, `ServiceUnavailable`, `InternalError`. Never for
    /// authentication, signature or parameter errors.
    pub fn is_retryable(&self) -> bool {
        match self.innermost() {
            Error::Service(s) => s.is_retryable(),
            Error::Transport(_) => true,
            Error::Timeout(t) => t.kind != TimeoutKind::Operation,
            Error::InvalidResponse(r) => r.http_status >= 500 || r.http_status == 429,
            _ => false,
        }
    }

    /// `true` when a write may or may not have taken effect: an [`Error::OutcomeUnknown`], or
    /// a [`TimeoutError`] whose operation timeout cut a write after an attempt whose outcome is
    /// unknown ([`write_outcome_unknown`](TimeoutError::write_outcome_unknown)). Check whether
    /// the write took effect before sending it again.
    pub fn is_outcome_unknown(&self) -> bool {
        match self.innermost() {
            Error::OutcomeUnknown(_) => true,
            Error::Timeout(t) => t.write_outcome_unknown,
            _ => false,
        }
    }

    /// How many attempts were made before this error, when it came from sending a request.
    pub fn attempts(&self) -> Option<u32> {
        self.counts().map(|c| c.0)
    }

    /// How many safe-write checks (DescribeHaVips calls asking whether a write whose outcome
    /// was unknown took effect; see [`crate::retry`]) were made besides the attempts.
    pub fn probes(&self) -> Option<u32> {
        self.counts().map(|c| c.1)
    }

    fn counts(&self) -> Option<(u32, u32)> {
        match self.innermost() {
            Error::Service(s) => Some((s.attempts, s.probes)),
            Error::Transport(t) => Some((t.attempts, t.probes)),
            Error::InvalidResponse(r) => Some((r.attempts, r.probes)),
            Error::Timeout(t) => Some((t.attempts, t.probes)),
            Error::OutcomeUnknown(o) => Some((o.attempts, o.probes)),
            _ => None,
        }
    }

    /// Records how many attempts and safe-write checks led to this error.
    pub(crate) fn with_counts(mut self, attempts: u32, probes: u32) -> Self {
        match &mut self {
            Error::Service(s) => (s.attempts, s.probes) = (attempts, probes),
            Error::Transport(t) => (t.attempts, t.probes) = (attempts, probes),
            Error::InvalidResponse(r) => (r.attempts, r.probes) = (attempts, probes),
            Error::Timeout(t) => (t.attempts, t.probes) = (attempts, probes),
            Error::OutcomeUnknown(o) => (o.attempts, o.probes) = (attempts, probes),
            _ => {}
        }
        self
    }

    /// For an [`Error::OutcomeUnknown`], records the failed attempt that made the outcome
    /// unknown as its source.
    pub(crate) fn caused_by(mut self, cause: Error) -> Self {
        if let Error::OutcomeUnknown(o) = &mut self {
            o.source = Some(Box::new(cause));
        }
        self
    }

    /// The server's advice on when to retry (`Retry-After`), when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.innermost() {
            Error::Service(s) => s.retry_after,
            Error::InvalidResponse(r) => r.retry_after,
            _ => None,
        }
    }
}

impl From<ParseEnumError> for Error {
    fn from(e: ParseEnumError) -> Self {
        Error::invalid_input(e.parameter, format!("`{}` is not {}", e.value, e.expected))
    }
}

/// A parameter that was missing or invalid. Reported before any request is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {reason}")]
#[non_exhaustive]
pub struct InvalidInput {
    /// The parameter, by its wire name where it has one (`HaVipId`) or the setting's name.
    pub parameter: String,
    /// What is wrong with it.
    pub reason: String,
}

/// ` after N attempts` and ` and M checks …` when there were retries or checks.
struct Counts {
    attempts: u32,
    probes: u32,
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = |n: u32| if n == 1 { "" } else { "s" };
        write!(f, "{} attempt{}", self.attempts, s(self.attempts))?;
        if self.probes > 0 {
            write!(
                f,
                " and {} check{} of whether the write took effect",
                self.probes,
                s(self.probes)
            )?;
        }
        Ok(())
    }
}

/// An error answer from the service.
///
/// Every string field holds server text cut to a bounded length (see the constants of this
/// module); `Display` escapes control characters in it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceError {
    /// The API action that failed, e.g. `AssociateHaVip`.
    pub action: String,
    /// The HTTP status of the answer.
    pub http_status: u16,
    /// The error code.
    pub code: ErrorCode,
    /// The service's message (at most [`MAX_MESSAGE_CHARS`]).
    pub message: String,
    /// The request id, for Alibaba support.
    pub request_id: Option<String>,
    /// The gateway host that answered.
    pub host_id: Option<String>,
    /// The service's advice: usually a troubleshooting URL.
    pub recommend: Option<String>,
    /// Details of a permission denial (the raw JSON text), when sent.
    pub access_denied_detail: Option<String>,
    /// The server's `Retry-After`, when it sent one.
    pub retry_after: Option<Duration>,
    /// How many attempts were made, retries included.
    pub attempts: u32,
    /// How many safe-write checks were made besides the attempts.
    pub probes: u32,
}

impl ServiceError {
    /// `true` when retrying may succeed: a retryable [`ErrorCode`] or HTTP 5xx.
    pub fn is_retryable(&self) -> bool {
        self.code.is_retryable() || self.http_status >= 500
    }

    /// The server's string to sign, when it sent one (a `SignatureDoesNotMatch` message ends
    /// with it: compare it with the client's, e.g. [`signer::v1::string_to_sign`], to find
    /// what a proxy changed). `Display` leaves it out; the alternate form (`{:#}`) shows the
    /// whole message.
    ///
    /// [`signer::v1::string_to_sign`]: crate::signer::v1::string_to_sign
    pub fn string_to_sign(&self) -> Option<&str> {
        const MARK: &str = "string to sign is:";
        let at = self.message.find(MARK)?;
        Some(self.message[at + MARK.len()..].trim()).filter(|s| !s.is_empty())
    }

    /// A builder for a service error, **for tests** of code that handles one (a real one comes
    /// only from an answer): `code` is the error code, e.g. `"Throttling.User"` or
    /// [`ErrorCode::IncorrectHaVipStatus`]. Defaults: HTTP 400, one attempt, everything else
    /// empty. Text is cut to the bounds a real answer's text is cut to.
    ///
    /// ```
    /// use alibabacloud_ens::{Error, ErrorCode, ServiceError};
    ///
    /// let e = Error::from(
    ///     ServiceError::builder("Throttling.User")
    ///         .action("AssociateHaVip")
    ///         .http_status(400)
    ///         .request_id("REQ-1")
    ///         .message("Request was denied due to user flow control.")
    ///         .build(),
    /// );
    /// assert_eq!(e.code(), Some(&ErrorCode::ThrottlingUser));
    /// assert!(e.is_retryable());
    /// assert_eq!(e.request_id(), Some("REQ-1"));
    /// assert_eq!(e.http_status(), Some(400));
    /// ```
    pub fn builder(code: impl Into<ErrorCode>) -> ServiceErrorBuilder {
        ServiceErrorBuilder {
            error: ServiceError {
                action: String::new(),
                http_status: 400,
                code: code.into(),
                message: String::new(),
                request_id: None,
                host_id: None,
                recommend: None,
                access_denied_detail: None,
                retry_after: None,
                attempts: 1,
                probes: 0,
            },
        }
    }
}

/// Builds a [`ServiceError`], for tests; see [`ServiceError::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ServiceErrorBuilder {
    error: ServiceError,
}

impl ServiceErrorBuilder {
    /// The API action that failed, e.g. `AssociateHaVip`.
    pub fn action(mut self, action: impl Into<String>) -> Self {
        self.error.action = bounded(&action.into(), MAX_ID_CHARS);
        self
    }

    /// The HTTP status (default 400).
    pub fn http_status(mut self, status: u16) -> Self {
        self.error.http_status = status;
        self
    }

    /// The service's message (cut to [`MAX_MESSAGE_CHARS`]).
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.error.message = bounded(&message.into(), MAX_MESSAGE_CHARS);
        self
    }

    /// The request id (cut to [`MAX_ID_CHARS`]).
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.error.request_id = Some(bounded(&id.into(), MAX_ID_CHARS));
        self
    }

    /// The gateway host that answered (cut to [`MAX_ID_CHARS`]).
    pub fn host_id(mut self, id: impl Into<String>) -> Self {
        self.error.host_id = Some(bounded(&id.into(), MAX_ID_CHARS));
        self
    }

    /// The service's advice, usually a troubleshooting URL (cut to [`MAX_ADVICE_CHARS`]).
    pub fn recommend(mut self, recommend: impl Into<String>) -> Self {
        self.error.recommend = Some(bounded(&recommend.into(), MAX_ADVICE_CHARS));
        self
    }

    /// The permission denial's details (cut to [`MAX_ADVICE_CHARS`]).
    pub fn access_denied_detail(mut self, detail: impl Into<String>) -> Self {
        self.error.access_denied_detail = Some(bounded(&detail.into(), MAX_ADVICE_CHARS));
        self
    }

    /// The server's `Retry-After`.
    pub fn retry_after(mut self, d: Duration) -> Self {
        self.error.retry_after = Some(d);
        self
    }

    /// How many attempts were made (default 1).
    pub fn attempts(mut self, n: u32) -> Self {
        self.error.attempts = n;
        self
    }

    /// How many safe-write checks were made besides the attempts (default 0).
    pub fn probes(mut self, n: u32) -> Self {
        self.error.probes = n;
        self
    }

    /// The service error.
    pub fn build(self) -> ServiceError {
        self.error
    }
}

impl From<ServiceError> for Error {
    fn from(e: ServiceError) -> Self {
        Error::Service(Box::new(e))
    }
}

impl fmt::Display for ServiceError {
    /// One sentence: the action, the code, the HTTP status, what to check (for the few codes
    /// whose message does not say), the message, the request id and the server's advice. A
    /// `SignatureDoesNotMatch` message (the server's long string to sign) is left out; the
    /// alternate form (`{:#}`) shows every message whole (still bounded and escaped).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let action = if self.action.is_empty() {
            "the call"
        } else {
            &self.action
        };
        write!(
            f,
            "{} failed with {} (HTTP {})",
            Escaped::new(action, MAX_ID_CHARS),
            Escaped::new(&self.code.to_string(), MAX_ID_CHARS),
            self.http_status
        )?;
        let hint = self.code.hint();
        if let Some(h) = hint {
            write!(f, ": {h}")?;
        }
        let message = self.message.trim_end_matches('.');
        let show = if f.alternate() {
            Some(MAX_MESSAGE_CHARS)
        } else if self.code == ErrorCode::SignatureDoesNotMatch {
            None
        } else {
            Some(600)
        };
        if let Some(max) = show.filter(|_| !message.is_empty()) {
            let lead = if hint.is_some() {
                ". The server says: "
            } else {
                ": "
            };
            write!(f, "{lead}{}", Escaped::new(message, max))?;
        }
        match &self.request_id {
            Some(id) => write!(f, " (request id {}", Escaped::new(id, MAX_ID_CHARS))?,
            None => f.write_str(" (no request id")?,
        }
        if self.attempts > 1 || self.probes > 0 {
            let counts = Counts {
                attempts: self.attempts,
                probes: self.probes,
            };
            write!(f, ", after {counts}")?;
        }
        f.write_str(")")?;
        if let Some(r) = &self.recommend {
            write!(f, "; see {}", Escaped::new(r, 256))?;
        }
        Ok(())
    }
}

impl std::error::Error for ServiceError {}

/// A response this crate could not decode: HTML from a proxy, an empty or truncated body, a
/// body too large, or JSON of the wrong shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{action} got an undecodable answer (HTTP {http_status}): {reason}{}{}; {}",
    OptId(request_id.as_deref()),
    AfterCounts(*attempts, *probes),
    Snippet(body_snippet)
)]
#[non_exhaustive]
pub struct InvalidResponse {
    /// The API action.
    pub action: String,
    /// The HTTP status of the answer.
    pub http_status: u16,
    /// What could not be decoded.
    pub reason: String,
    /// At most [`MAX_SNIPPET_BYTES`] of the body, lossily decoded as UTF-8.
    pub body_snippet: String,
    /// The request id, if one could be found in the body or headers.
    pub request_id: Option<String>,
    /// The server's `Retry-After`, when it sent one.
    pub retry_after: Option<Duration>,
    /// How many attempts were made, retries included.
    pub attempts: u32,
    /// How many safe-write checks were made besides the attempts.
    pub probes: u32,
}

/// ` (request id X)` or nothing.
struct OptId<'a>(Option<&'a str>);

impl fmt::Display for OptId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, " (request id {})", Escaped::new(id, MAX_ID_CHARS)),
            None => Ok(()),
        }
    }
}

/// ` after N attempts` when there was more than one, or checks.
struct AfterCounts(u32, u32);

impl fmt::Display for AfterCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 > 1 || self.1 > 0 {
            let counts = Counts {
                attempts: self.0,
                probes: self.1,
            };
            write!(f, " after {counts}")?;
        }
        Ok(())
    }
}

/// `the body was empty` or `body starts: "…"` (escaped, bounded).
struct Snippet<'a>(&'a str);

impl fmt::Display for Snippet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("the body was empty")
        } else {
            write!(f, "body starts: \"{}\"", Escaped::new(self.0, 300))
        }
    }
}

/// A failure to send a request or receive its answer. The underlying error (without the URL,
/// which holds the signature) is its [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[error("{action} could not reach the service ({kind}) after {}", Counts { attempts: *attempts, probes: *probes })]
#[non_exhaustive]
pub struct TransportError {
    /// The API action.
    pub action: String,
    /// What kind of failure.
    pub kind: TransportErrorKind,
    /// How many attempts were made.
    pub attempts: u32,
    /// How many safe-write checks were made besides the attempts.
    pub probes: u32,
    /// The underlying error.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// The kind of a [`TransportError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be made; the request was certainly not sent.
    Connect,
    /// The connection failed after the request may have been sent: its outcome is unknown.
    Request,
    /// The answer's body could not be read to its end.
    Body,
    /// Anything else.
    Other,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportErrorKind::Connect => "connect failed",
            TransportErrorKind::Request => "connection failed during the request",
            TransportErrorKind::Body => "reading the answer failed",
            TransportErrorKind::Other => "transport error",
        })
    }
}

/// Which time limit ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Establishing the connection.
    Connect,
    /// Waiting for the answer (the read timeout).
    Read,
    /// One attempt (sending the request and reading its answer).
    Attempt,
    /// The whole operation, retries included.
    Operation,
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutKind::Connect => "connect timeout",
            TimeoutKind::Read => "read timeout",
            TimeoutKind::Attempt => "attempt timeout",
            TimeoutKind::Operation => "operation timeout",
        })
    }
}

/// A time limit ran out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{action} hit the {kind} of {limit:?} after {}{}",
    Counts { attempts: *attempts, probes: *probes },
    if *write_outcome_unknown {
        "; an attempt of this write may have taken effect: check before writing again"
    } else {
        ""
    }
)]
#[non_exhaustive]
pub struct TimeoutError {
    /// The API action.
    pub action: String,
    /// Which limit.
    pub kind: TimeoutKind,
    /// The limit's value.
    pub limit: Duration,
    /// How many attempts were made.
    pub attempts: u32,
    /// How many safe-write checks were made besides the attempts.
    pub probes: u32,
    /// `true` when the operation timeout cut a write after an attempt whose outcome is unknown
    /// and before a check settled it: the write may have taken effect.
    pub write_outcome_unknown: bool,
}

/// No usable credentials, or a credentials source failed. Never holds a secret.
///
/// The message names the source and the step (the variable, the file and line or key, the STS
/// call, the metadata path); the error beneath, if any (an STS error answer, an I/O error), is
/// its [`source`](std::error::Error::source).
#[derive(Debug, Clone, thiserror::Error)]
#[error("credentials error: {message}")]
#[non_exhaustive]
pub struct CredentialsError {
    /// What went wrong, naming the source (variable, file and line or key).
    pub message: String,
    /// The error beneath, if any.
    #[source]
    pub source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    /// The source failed in a way that may pass (a network error, HTTP 5xx, throttling).
    retryable: bool,
}

impl PartialEq for CredentialsError {
    /// Compares the messages.
    fn eq(&self, other: &Self) -> bool {
        self.message == other.message
    }
}

impl Eq for CredentialsError {}

impl CredentialsError {
    /// A credentials error with `message` (which must not contain secrets).
    pub fn new(message: impl Into<String>) -> Self {
        CredentialsError {
            message: message.into(),
            source: None,
            retryable: false,
        }
    }

    /// `true` when the source failed in a way that may pass if asked again: the STS or the
    /// metadata service could not be reached in time, answered HTTP 5xx, or throttled.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// Marks the error as one that may pass if the source is asked again.
    #[must_use]
    pub(crate) fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// The same error, caused by `source` (which must not contain secrets either).
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }
}

impl From<CredentialsError> for Error {
    fn from(e: CredentialsError) -> Self {
        Error::Credentials(e)
    }
}

/// A write may or may not have taken effect, and the client cannot tell which without risking
/// doing it twice, so it was not sent again. It says which write and what to check before
/// sending it again; the attempt whose outcome is unknown is its
/// [`source`](std::error::Error::source).
///
/// Two kinds of write end this way (see [`crate::retry`]): a write without idempotency token
/// and without a check whose attempt may have reached the service (the connection failed after
/// sending, no answer in time, an HTTP 5xx), and a CreateHaVip whose check could not tell its
/// HAVIPs apart, which also says where and when to look for them
/// ([`possibly_created`](Self::possibly_created)).
#[derive(Debug, thiserror::Error)]
#[error(
    "{action}'s outcome is unknown ({reason}): {}",
    WhatToCheck(possibly_created.as_ref())
)]
#[non_exhaustive]
pub struct OutcomeUnknown {
    /// The API action, e.g. `CreateHaVip`.
    pub action: String,
    /// Why the outcome cannot be told (the attempt's failure, or why the check could not tell).
    pub reason: String,
    /// How many attempts were made.
    pub attempts: u32,
    /// How many safe-write checks were made besides the attempts.
    pub probes: u32,
    /// For a CreateHaVip: the HAVIPs it may have made, and where to look for them.
    pub possibly_created: Option<PossiblyCreated>,
    /// The attempt whose outcome is unknown.
    #[source]
    pub source: Option<Box<Error>>,
}

impl OutcomeUnknown {
    pub(crate) fn new(action: impl Into<String>, reason: impl Into<String>) -> Self {
        OutcomeUnknown {
            action: action.into(),
            reason: reason.into(),
            attempts: 0,
            probes: 0,
            possibly_created: None,
            source: None,
        }
    }

    /// For a CreateHaVip: the HAVIPs it may have made, and where to look for them.
    pub fn possibly_created(&self) -> Option<&PossiblyCreated> {
        self.possibly_created.as_ref()
    }
}

/// The HAVIPs a CreateHaVip whose outcome is unknown may have made: the vSwitch, name and
/// address it asked for, and the time window in which their `CreationTime` falls.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PossiblyCreated {
    /// The vSwitch the write was for.
    pub vswitch_id: String,
    /// The name the write gave, if any.
    pub name: Option<String>,
    /// The address the write asked for, if any.
    pub ip_address: Option<String>,
    /// The earliest `CreationTime` that can belong to this call (its start, less a tolerance
    /// for clock differences).
    pub window_start: std::time::SystemTime,
    /// When the check ran.
    pub window_end: std::time::SystemTime,
    /// The ids the check saw that may be this call's.
    pub candidates: Vec<String>,
}

/// The rest of [`OutcomeUnknown`]'s sentence: what may have happened and what to check.
struct WhatToCheck<'a>(Option<&'a PossiblyCreated>);

impl fmt::Display for WhatToCheck<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(p) = self.0 else {
            return f.write_str(
                "it may or may not have taken effect and was not sent again; check whether it \
                 took effect before sending it again",
            );
        };
        write!(
            f,
            "it may or may not have created HAVIPs in vSwitch {}",
            Escaped::new(&p.vswitch_id, MAX_ID_CHARS)
        )?;
        if let Some(n) = &p.name {
            write!(f, " named {:?}", n)?;
        }
        if let Some(ip) = &p.ip_address {
            write!(f, " with address {}", Escaped::new(ip, MAX_ID_CHARS))?;
        }
        write!(
            f,
            " between {} and {}",
            crate::lenient::format_time(p.window_start.into()),
            crate::lenient::format_time(p.window_end.into())
        )?;
        if !p.candidates.is_empty() {
            f.write_str(" (seen: ")?;
            for (i, c) in p.candidates.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{}", Escaped::new(c, MAX_ID_CHARS))?;
            }
            f.write_str(")")?;
        }
        f.write_str("; look for them with DescribeHaVips before creating again")
    }
}

/// What exists contradicts what was asked; see [`Error::Conflict`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{action} found a conflict: {reason}")]
#[non_exhaustive]
pub struct Conflict {
    /// The call, e.g. `ensure_ha_vip`.
    pub action: String,
    /// What contradicts what.
    pub reason: String,
    /// The HAVIPs in the way (`ensure_ha_vip`; empty for `ensure_eip_associated`, whose
    /// `reason` names the resource holding the EIP).
    pub existing: Vec<HaVip>,
}

/// The waiter's deadline passed before the wanted state was observed. The last poll's error, if
/// the last poll failed, is its [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[error(
    "timed out after {elapsed:.1?} and {polls} poll(s) waiting for {goal}; {}{}",
    LastSeen(last_observed.as_ref()),
    if last_error.is_some() { "; the last poll failed" } else { "" }
)]
#[non_exhaustive]
pub struct WaiterTimedOut {
    /// What was being waited for, e.g. `havip-1 to be in use by i-1`.
    pub goal: String,
    /// How long the waiter ran.
    pub elapsed: Duration,
    /// How many polls it made.
    pub polls: u32,
    /// The last HAVIP it observed (`None` if no poll succeeded).
    pub last_observed: Option<HaVip>,
    /// The last poll error, if the last poll failed with a transient error.
    #[source]
    pub last_error: Option<Box<Error>>,
}

struct LastSeen<'a>(Option<&'a HaVip>);

impl fmt::Display for LastSeen<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(h) = self.0 else {
            return f.write_str("no successful poll");
        };
        write!(
            f,
            "last seen: HAVIP {}",
            Escaped::new(h.status.as_str(), 64)
        )?;
        if h.associated_instances.is_empty() {
            return f.write_str(" with no associations");
        }
        for (i, a) in h.associated_instances.iter().take(8).enumerate() {
            f.write_str(if i == 0 { " with " } else { ", " })?;
            write!(
                f,
                "{} {}",
                Escaped::new(&a.instance_id, 64),
                Escaped::new(a.status.as_str(), 64)
            )?;
        }
        if h.associated_instances.len() > 8 {
            write!(f, " and {} more", h.associated_instances.len() - 8)?;
        }
        Ok(())
    }
}

/// The waiter observed a state from which the wanted state cannot be reached (the HAVIP is gone
/// or being deleted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("gave up waiting for {goal} after {elapsed:.1?} and {polls} poll(s): {reason}")]
#[non_exhaustive]
pub struct WaiterFailureState {
    /// What was being waited for.
    pub goal: String,
    /// Why this state is final.
    pub reason: String,
    /// How long the waiter ran.
    pub elapsed: Duration,
    /// How many polls it made.
    pub polls: u32,
    /// The HAVIP as last observed (`None` when it no longer exists).
    pub observed: Option<HaVip>,
}

/// A waiter's poll failed with an error retrying will not cure; that error is its
/// [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[error("waiting for {goal} failed at poll {polls} after {elapsed:.1?}")]
#[non_exhaustive]
pub struct WaiterOperationFailed {
    /// What was being waited for.
    pub goal: String,
    /// How long the waiter ran.
    pub elapsed: Duration,
    /// How many polls it made.
    pub polls: u32,
    /// The poll's error.
    #[source]
    pub source: Error,
}

/// Cuts `body` to at most [`MAX_SNIPPET_BYTES`], at a character boundary (lossy UTF-8).
pub(crate) fn snippet(body: &[u8]) -> String {
    let cut = &body[..body.len().min(MAX_SNIPPET_BYTES)];
    let mut s = String::from_utf8_lossy(cut).into_owned();
    // A multi-byte character cut in half decodes as U+FFFD at the end: drop it.
    if body.len() > MAX_SNIPPET_BYTES && s.ends_with('\u{FFFD}') {
        s.pop();
    }
    s
}

/// `s` cut to at most `max_chars` characters; a cut one ends in `…`.
pub(crate) fn bounded(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        None => s.to_owned(),
        Some((end, _)) => {
            let mut out = s[..end].to_owned();
            out.pop();
            out.push('…');
            out
        }
    }
}

/// Displays text from a server safely: control characters escaped (`\n`, `\u{1b}`), at most
/// `max` characters written (then `…`).
pub(crate) struct Escaped<'a> {
    text: &'a str,
    max: usize,
}

impl<'a> Escaped<'a> {
    pub(crate) fn new(text: &'a str, max: usize) -> Self {
        Escaped { text, max }
    }
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write as _;
        let mut written = 0usize;
        for c in self.text.chars() {
            let escaped: Option<String> = if c.is_control() || is_format_control(c) {
                Some(c.escape_default().to_string())
            } else {
                None
            };
            let width = escaped.as_ref().map_or(1, |e| e.chars().count());
            if written + width > self.max {
                return f.write_char('…');
            }
            written += width;
            match escaped {
                Some(e) => f.write_str(&e)?,
                None => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// Bidirectional overrides and other invisible format characters that can make a log line read
/// differently from what it holds.
fn is_format_control(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident => $wire:literal, retry = $retry:literal; )*) => {
        /// An error code from the service.
        ///
        /// One variant for every code documented for the HAVIP operations and for every gateway
        /// code, plus the parameterised families (`Invalid%s`, `Missing%s`,
        /// `InvalidParameter.%s`), which keep the parameter name, and [`ErrorCode::Unknown`],
        /// which keeps any other code as sent. Parsing ([`ErrorCode::from_wire`]) and
        /// `Display` round-trip the exact wire string.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
            /// `Invalid%s`: the parameter named is invalid (e.g. `InvalidInstanceType` →
            /// `Invalid("InstanceType")`).
            Invalid(String),
            /// `Missing%s`: the parameter named is required (e.g. `MissingHaVipId` →
            /// `Missing("HaVipId")`).
            Missing(String),
            /// `InvalidParameter.%s`: the field named is invalid (e.g. `InvalidParameter.InstanceId`
            /// → `InvalidParameterNamed("InstanceId")`).
            InvalidParameterNamed(String),
            /// A code this crate does not know, kept as sent.
            Unknown(String),
        }

        impl ErrorCode {
            /// Every code with a fixed wire string, in documentation order.
            pub const KNOWN: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// Decodes a wire code. Never fails: unknown codes become [`ErrorCode::Unknown`].
            pub fn from_wire(code: &str) -> ErrorCode {
                match code {
                    $( $wire => ErrorCode::$variant, )*
                    _ => {
                        if let Some(p) = code.strip_prefix("InvalidParameter.").filter(|p| !p.is_empty()) {
                            ErrorCode::InvalidParameterNamed(p.to_owned())
                        } else if let Some(p) = param_suffix(code, "Invalid") {
                            ErrorCode::Invalid(p.to_owned())
                        } else if let Some(p) = param_suffix(code, "Missing") {
                            ErrorCode::Missing(p.to_owned())
                        } else {
                            ErrorCode::Unknown(code.to_owned())
                        }
                    }
                }
            }

            fn fixed_wire(&self) -> Option<&'static str> {
                match self {
                    $( ErrorCode::$variant => Some($wire), )*
                    _ => None,
                }
            }

            fn fixed_retryable(&self) -> Option<bool> {
                match self {
                    $( ErrorCode::$variant => Some($retry), )*
                    _ => None,
                }
            }
        }
    };
}

/// `Invalid` + an upper-case-initial parameter name with no dot (so `InvalidAction.NotFound`,
/// unlisted, stays unknown).
fn param_suffix<'a>(code: &'a str, prefix: &str) -> Option<&'a str> {
    let p = code.strip_prefix(prefix)?;
    let first = p.chars().next()?;
    (first.is_ascii_uppercase() && !p.contains('.')).then_some(p)
}

error_codes! {
    // AssociateHaVip (seed page table).
    /// `InstanceNotFound`: the instance does not exist.
    InstanceNotFound => "InstanceNotFound", retry = false;
    /// `HaVipNotFound`: the HAVIP does not exist.
    HaVipNotFound => "HaVipNotFound", retry = false;
    /// `IncorrectHaVipStatus`: the HAVIP is not Available or InUse.
    IncorrectHaVipStatus => "IncorrectHaVipStatus", retry = false;
    /// `SystemError`: "Interface call error, please re-select". Not retried automatically: the
    /// service gives no sign that the same request will succeed.
    SystemError => "SystemError", retry = false;
    /// `InstanceAlreadyAssociated`: the instance is already bound to the HAVIP.
    InstanceAlreadyAssociated => "InstanceAlreadyAssociated", retry = false;
    /// `IncorrectNetworkInterfaceStatus`: the ENI's status forbids the operation.
    IncorrectNetworkInterfaceStatus => "IncorrectNetworkInterfaceStatus", retry = false;
    /// `NetworkInterfaceNotFound`: the ENI does not exist.
    NetworkInterfaceNotFound => "NetworkInterfaceNotFound", retry = false;
    /// `NetworkInterfaceTypeNotSupported`: this ENI type cannot be used.
    NetworkInterfaceTypeNotSupported => "NetworkInterfaceTypeNotSupported", retry = false;
    /// `IncorrectInstanceVSwitch`: the instance is not in the HAVIP's vSwitch.
    IncorrectInstanceVSwitch => "IncorrectInstanceVSwitch", retry = false;
    /// `IncorrectInstanceStatus`: the instance is not Running or Stopped.
    IncorrectInstanceStatus => "IncorrectInstanceStatus", retry = false;
    /// `CountLimitExceed.HaVipOnInstance`: the instance has as many HAVIPs as allowed.
    CountLimitExceedHaVipOnInstance => "CountLimitExceed.HaVipOnInstance", retry = false;
    /// `CountLimitExceed.InstanceOnHaVip`: the HAVIP has as many instances as allowed.
    CountLimitExceedInstanceOnHaVip => "CountLimitExceed.InstanceOnHaVip", retry = false;
    /// `NoPermission`: permission denied.
    NoPermission => "NoPermission", retry = false;
    // UnassociateHaVip.
    /// `InstanceNotAssociated`: the instance is not associated with the HAVIP.
    InstanceNotAssociated => "InstanceNotAssociated", retry = false;
    /// `IncorrectInstanceAssociationStatus`: the association is not in a state that allows this.
    IncorrectInstanceAssociationStatus => "IncorrectInstanceAssociationStatus", retry = false;
    // CreateHaVip refusals that ENS does not document; VPC's HAVIP API uses these codes, and the
    // embedded emulator answers them (its documented assumption).
    /// `InvalidIPAddress.AlreadyUsed`: the address asked for is taken.
    InvalidIpAddressAlreadyUsed => "InvalidIPAddress.AlreadyUsed", retry = false;
    /// `InvalidVSwitchId.NotFound`: the vSwitch does not exist.
    InvalidVSwitchIdNotFound => "InvalidVSwitchId.NotFound", retry = false;
    // Gateway codes any call can return.
    /// `MissingParameter`: a required parameter is missing.
    MissingParameter => "MissingParameter", retry = false;
    /// `InvalidParameter`: a parameter is invalid.
    InvalidParameter => "InvalidParameter", retry = false;
    /// `InvalidAccessKeyId.NotFound`: the AccessKey id does not exist.
    InvalidAccessKeyIdNotFound => "InvalidAccessKeyId.NotFound", retry = false;
    /// `InvalidAccessKeyId.Inactive`: the AccessKey is disabled.
    InvalidAccessKeyIdInactive => "InvalidAccessKeyId.Inactive", retry = false;
    /// `IncompleteSignature`: the signature is missing parts.
    IncompleteSignature => "IncompleteSignature", retry = false;
    /// `SignatureDoesNotMatch`: the signature is wrong (usually a wrong secret).
    SignatureDoesNotMatch => "SignatureDoesNotMatch", retry = false;
    /// `SignatureNonceUsed`: the nonce was used recently.
    SignatureNonceUsed => "SignatureNonceUsed", retry = false;
    /// `InvalidTimeStamp.Format`: the timestamp is malformed.
    InvalidTimeStampFormat => "InvalidTimeStamp.Format", retry = false;
    /// `InvalidTimeStamp.Expired`: the timestamp is more than 15 minutes off (check the clock).
    InvalidTimeStampExpired => "InvalidTimeStamp.Expired", retry = false;
    /// `UnsupportedHTTPMethod`: the HTTP method is not allowed.
    UnsupportedHttpMethod => "UnsupportedHTTPMethod", retry = false;
    /// `InvalidAction.NotFound`: the action does not exist.
    InvalidActionNotFound => "InvalidAction.NotFound", retry = false;
    /// `InvalidApi.NotFound`: the API does not exist.
    InvalidApiNotFound => "InvalidApi.NotFound", retry = false;
    /// `InvalidProtocol.NeedSsl`: HTTPS is required.
    InvalidProtocolNeedSsl => "InvalidProtocol.NeedSsl", retry = false;
    /// `Throttling`: too many requests.
    Throttling => "Throttling", retry = true;
    /// `Throttling.User`: this account sends too many requests.
    ThrottlingUser => "Throttling.User", retry = true;
    /// `Throttling.Api`: this API receives too many requests.
    ThrottlingApi => "Throttling.Api", retry = true;
    /// `Forbidden.RAM`: the RAM user lacks the permission.
    ForbiddenRam => "Forbidden.RAM", retry = false;
    /// `Forbidden`: forbidden.
    Forbidden => "Forbidden", retry = false;
    /// `InvalidSecurityToken.Expired`: the STS token expired.
    InvalidSecurityTokenExpired => "InvalidSecurityToken.Expired", retry = false;
    /// `InvalidSecurityToken.Malformed`: the STS token is malformed.
    InvalidSecurityTokenMalformed => "InvalidSecurityToken.Malformed", retry = false;
    /// `InvalidSecurityToken.MismatchWithAccessKey`: the STS token belongs to another AccessKey.
    InvalidSecurityTokenMismatchWithAccessKey => "InvalidSecurityToken.MismatchWithAccessKey", retry = false;
    /// `InternalError`: the service failed.
    InternalError => "InternalError", retry = true;
    /// `ServiceUnavailable`: the service is unavailable.
    ServiceUnavailable => "ServiceUnavailable", retry = true;
}

impl ErrorCode {
    /// `true` for codes that a retry may cure: every `Throttling*` code, `ServiceUnavailable`
    /// and `InternalError`.
    pub fn is_retryable(&self) -> bool {
        match self.fixed_retryable() {
            Some(r) => r,
            None => matches!(self, ErrorCode::Unknown(c) if c.starts_with("Throttling")),
        }
    }

    /// `true` for throttling codes (`Throttling`, `Throttling.*`).
    pub fn is_throttling(&self) -> bool {
        match self {
            ErrorCode::Throttling | ErrorCode::ThrottlingUser | ErrorCode::ThrottlingApi => true,
            ErrorCode::Unknown(c) => c.starts_with("Throttling"),
            _ => false,
        }
    }

    /// One short sentence on what usually causes this code, for the few codes whose server
    /// message does not say (`SignatureDoesNotMatch`'s message is the server's long string to
    /// sign: see [`ServiceError::string_to_sign`]).
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            ErrorCode::SignatureDoesNotMatch => {
                "the signature was refused; check the AccessKey secret, this machine's clock, \
                 and any proxy that rewrites the request"
            }
            ErrorCode::InvalidAccessKeyIdNotFound => "check the AccessKey id",
            ErrorCode::InvalidTimeStampExpired => {
                "the request time was refused; check this machine's clock"
            }
            ErrorCode::InvalidSecurityTokenExpired => {
                "the STS token expired; refresh the credentials"
            }
            _ => return None,
        })
    }

    /// The parameter named by an `Invalid%s`, `Missing%s` or `InvalidParameter.%s` code.
    pub fn parameter(&self) -> Option<&str> {
        match self {
            ErrorCode::Invalid(p) | ErrorCode::Missing(p) | ErrorCode::InvalidParameterNamed(p) => {
                Some(p)
            }
            _ => None,
        }
    }
}

impl fmt::Display for ErrorCode {
    /// The exact wire string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(w) = self.fixed_wire() {
            return f.write_str(w);
        }
        match self {
            ErrorCode::Invalid(p) => write!(f, "Invalid{p}"),
            ErrorCode::Missing(p) => write!(f, "Missing{p}"),
            ErrorCode::InvalidParameterNamed(p) => write!(f, "InvalidParameter.{p}"),
            ErrorCode::Unknown(c) => f.write_str(c),
            _ => Ok(()),
        }
    }
}

impl std::str::FromStr for ErrorCode {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(ErrorCode::from_wire(s))
    }
}

impl From<&str> for ErrorCode {
    fn from(s: &str) -> Self {
        ErrorCode::from_wire(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_is_bounded_and_cut_at_char_boundary() {
        let body = "é".repeat(1000);
        let s = snippet(body.as_bytes());
        assert!(s.len() <= MAX_SNIPPET_BYTES);
        assert!(s.chars().all(|c| c == 'é'));
        assert_eq!(snippet(b""), "");
        assert_eq!(snippet(b"<html>"), "<html>");
    }

    #[test]
    fn parameterised_codes_parse() {
        assert_eq!(
            ErrorCode::from_wire("MissingHaVipId"),
            ErrorCode::Missing("HaVipId".into())
        );
        assert_eq!(
            ErrorCode::from_wire("InvalidInstanceType"),
            ErrorCode::Invalid("InstanceType".into())
        );
        assert_eq!(
            ErrorCode::from_wire("InvalidParameter.InstanceId"),
            ErrorCode::InvalidParameterNamed("InstanceId".into())
        );
        assert_eq!(
            ErrorCode::from_wire("InvalidParameter"),
            ErrorCode::InvalidParameter
        );
        assert_eq!(
            ErrorCode::from_wire("MissingParameter"),
            ErrorCode::MissingParameter
        );
        assert_eq!(
            ErrorCode::from_wire("Invalid"),
            ErrorCode::Unknown("Invalid".into())
        );
        assert_eq!(
            ErrorCode::from_wire("Invalidate"),
            ErrorCode::Unknown("Invalidate".into())
        );
        assert_eq!(
            ErrorCode::from_wire("InvalidFoo.Bar"),
            ErrorCode::Unknown("InvalidFoo.Bar".into())
        );
        assert_eq!(ErrorCode::from_wire(""), ErrorCode::Unknown("".into()));
    }

    #[test]
    fn signature_mismatch_is_one_short_sentence_and_keeps_the_string_to_sign() {
        let string_to_sign = format!("POST&%2F&AccessKeyId%3Dx{}", "%26Y%3D1".repeat(80));
        let e = ServiceError::builder(ErrorCode::SignatureDoesNotMatch)
            .action("AssociateHaVip")
            .message(format!(
                "Specified signature is not matched with our calculation. server string to \
                 sign is:{string_to_sign}"
            ))
            .request_id("R")
            .build();
        assert_eq!(
            e.to_string(),
            "AssociateHaVip failed with SignatureDoesNotMatch (HTTP 400): the signature was \
             refused; check the AccessKey secret, this machine's clock, and any proxy that \
             rewrites the request (request id R)"
        );
        assert_eq!(e.string_to_sign(), Some(string_to_sign.as_str()));
        let whole = format!("{e:#}");
        assert!(whole.contains(&string_to_sign), "{whole}");
        assert!(whole.starts_with(&e.to_string().replace(" (request id R)", "")));
        // Through `Error` too (transparent keeps the flag).
        let err = Error::from(e);
        assert!(err.to_string().len() < 200, "{err}");
        assert!(format!("{err:#}").contains(&string_to_sign));
        // Other codes have no string to sign.
        let other = ServiceError::builder("HaVipNotFound").message("x").build();
        assert_eq!(other.string_to_sign(), None);
        assert_eq!(
            other.to_string(),
            "the call failed with HaVipNotFound (HTTP 400): x (no request id)"
        );
    }

    #[test]
    fn the_test_builder_bounds_text_like_an_answer() {
        let e = ServiceError::builder("X")
            .message("m".repeat(5000))
            .request_id("r".repeat(500))
            .host_id("h".repeat(500))
            .recommend("a".repeat(5000))
            .access_denied_detail("d".repeat(5000))
            .action("A".repeat(500))
            .retry_after(Duration::from_secs(3))
            .attempts(3)
            .probes(1)
            .http_status(503)
            .build();
        assert_eq!(e.message.chars().count(), MAX_MESSAGE_CHARS);
        assert_eq!(e.request_id.as_ref().unwrap().chars().count(), MAX_ID_CHARS);
        assert_eq!(e.host_id.as_ref().unwrap().chars().count(), MAX_ID_CHARS);
        assert_eq!(
            e.recommend.as_ref().unwrap().chars().count(),
            MAX_ADVICE_CHARS
        );
        assert_eq!(
            e.access_denied_detail.as_ref().unwrap().chars().count(),
            MAX_ADVICE_CHARS
        );
        assert_eq!(e.action.chars().count(), MAX_ID_CHARS);
        let err = Error::from(e);
        assert!(err.is_retryable(), "HTTP 503");
        assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!((err.attempts(), err.probes()), (Some(3), Some(1)));
    }

    #[test]
    fn server_text_is_escaped_and_bounded_in_display() {
        let e = ServiceError {
            action: "A".into(),
            http_status: 400,
            code: ErrorCode::from_wire("Bad\nCode"),
            message: format!("line1\nFAKE LOG\u{1b}[31m{}", "x".repeat(MAX_MESSAGE_CHARS)),
            request_id: Some("id\r\nforged".into()),
            host_id: None,
            recommend: Some("\u{202e}evil".into()),
            access_denied_detail: None,
            retry_after: None,
            attempts: 1,
            probes: 0,
        };
        let shown = e.to_string();
        assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
        assert!(!shown.contains('\u{202e}'), "{shown:?}");
        assert!(shown.contains(r"line1\nFAKE LOG\u{1b}[31m"), "{shown}");
        assert!(shown.chars().count() < 2000, "{}", shown.chars().count());
        assert_eq!(bounded("abcdef", 4), "abc…");
        assert_eq!(bounded("abc", 4), "abc");
    }

    #[test]
    fn outcome_unknown_is_one_sentence_and_seen_through_waiters() {
        let cause = Error::Timeout(TimeoutError {
            action: "AccosicateNetworkAcl".into(),
            kind: TimeoutKind::Read,
            limit: Duration::from_secs(10),
            attempts: 1,
            probes: 0,
            write_outcome_unknown: false,
        });
        let mut unknown = OutcomeUnknown::new("AccosicateNetworkAcl", "no answer in time");
        unknown.attempts = 1;
        unknown.source = Some(Box::new(cause));
        let e = Error::OutcomeUnknown(Box::new(unknown));
        let text = e.to_string();
        assert_eq!(
            text,
            "AccosicateNetworkAcl's outcome is unknown (no answer in time): it may or may not \
             have taken effect and was not sent again; check whether it took effect before \
             sending it again"
        );
        let source = std::error::Error::source(&e).unwrap().to_string();
        assert!(
            source.contains("read timeout") && !text.contains(&source),
            "{source}"
        );
        assert!(e.is_outcome_unknown());
        assert_eq!(e.attempts(), Some(1));
        let wrapped = Error::WaiterOperationFailed(Box::new(WaiterOperationFailed {
            goal: "x".into(),
            elapsed: Duration::ZERO,
            polls: 1,
            source: e,
        }));
        assert!(wrapped.is_outcome_unknown());
        let timeout = |write_outcome_unknown| {
            Error::Timeout(TimeoutError {
                action: "A".into(),
                kind: TimeoutKind::Operation,
                limit: Duration::from_secs(1),
                attempts: 1,
                probes: 0,
                write_outcome_unknown,
            })
        };
        assert!(timeout(true).is_outcome_unknown());
        assert!(!timeout(false).is_outcome_unknown());
        assert!(!Error::invalid_input("A", "b").is_outcome_unknown());
    }

    #[test]
    fn throttling_family_is_retryable() {
        assert!(ErrorCode::from_wire("Throttling.Other").is_retryable());
        assert!(ErrorCode::from_wire("Throttling.Other").is_throttling());
        assert!(!ErrorCode::from_wire("SignatureDoesNotMatch").is_retryable());
        assert!(!ErrorCode::from_wire("InvalidParameter.X").is_retryable());
    }

    #[test]
    fn service_error_display_is_a_sentence() {
        let e = ServiceError {
            action: "AssociateHaVip".into(),
            http_status: 400,
            code: ErrorCode::HaVipNotFound,
            message: "The specified HaVip does not exist.".into(),
            request_id: Some("REQ-1".into()),
            host_id: Some("ens.aliyuncs.com".into()),
            recommend: Some("https://api.aliyun.com/troubleshoot?q=HaVipNotFound".into()),
            access_denied_detail: None,
            retry_after: None,
            attempts: 1,
            probes: 0,
        };
        assert_eq!(
            e.to_string(),
            "AssociateHaVip failed with HaVipNotFound (HTTP 400): The specified HaVip does not exist \
             (request id REQ-1); see https://api.aliyun.com/troubleshoot?q=HaVipNotFound"
        );
        let err = Error::Service(Box::new(e));
        assert_eq!(err.code(), Some(&ErrorCode::HaVipNotFound));
        assert_eq!(err.request_id(), Some("REQ-1"));
        assert_eq!(err.http_status(), Some(400));
        assert!(!err.is_retryable());
    }
}
