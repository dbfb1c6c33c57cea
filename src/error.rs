//! The crate's one error type, [`Error`], and what it carries.
//!
//! Every failure keeps what a caller needs to act on it: a service error keeps the HTTP status,
//! the error [`ErrorCode`], message, request id, host id, the server's `Recommend` link and any
//! `AccessDeniedDetail`; an undecodable response keeps the HTTP status and a bounded snippet of
//! the body; input errors name the parameter. Secrets never appear in any of them.

use std::fmt;
use std::time::Duration;

use crate::waiter::{WaiterFailureState, WaiterOperationFailed, WaiterTimedOut};

/// Longest body snippet kept in an error, in bytes (cut at a character boundary).
pub const MAX_SNIPPET_BYTES: usize = 512;

/// Every error this crate returns.
///
/// `Display` reads as a sentence; for a service error it names the action, the code, the HTTP
/// status, the message and the request id. The accessors [`code`](Error::code),
/// [`request_id`](Error::request_id), [`http_status`](Error::http_status) and
/// [`is_retryable`](Error::is_retryable) look through the waiter variants to the error beneath.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The service answered with an error body (`Code`, `Message`, `RequestId`, …).
    Service(Box<ServiceError>),
    /// A parameter was missing or invalid; nothing was sent.
    InvalidInput(InvalidInput),
    /// No usable credentials, or a credentials source failed.
    Credentials(CredentialsError),
    /// The request could not be sent or its answer not received (DNS, connect, reset, TLS…).
    Transport(TransportError),
    /// A time limit ran out.
    Timeout(TimeoutError),
    /// The service (or something in front of it) answered with a body this crate cannot decode.
    InvalidResponse(Box<InvalidResponse>),
    /// A waiter's deadline passed before the wanted state was observed.
    WaiterTimedOut(Box<WaiterTimedOut>),
    /// A waiter observed a state from which the wanted state cannot be reached.
    WaiterFailureState(Box<WaiterFailureState>),
    /// A waiter's poll failed with an error that retrying will not cure.
    WaiterOperationFailed(Box<WaiterOperationFailed>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Service(e) => e.fmt(f),
            Error::InvalidInput(e) => write!(f, "invalid input: {e}"),
            Error::Credentials(e) => e.fmt(f),
            Error::Transport(e) => e.fmt(f),
            Error::Timeout(e) => e.fmt(f),
            Error::InvalidResponse(e) => e.fmt(f),
            Error::WaiterTimedOut(e) => e.fmt(f),
            Error::WaiterFailureState(e) => e.fmt(f),
            Error::WaiterOperationFailed(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // Each variant shows its inner error's text, so the chain continues below it.
        match self {
            Error::Service(e) => e.source(),
            Error::InvalidInput(_) => None,
            Error::Credentials(e) => e.source(),
            Error::Transport(e) => e.source(),
            Error::Timeout(e) => e.source(),
            Error::InvalidResponse(e) => e.source(),
            Error::WaiterTimedOut(e) => e.source(),
            Error::WaiterFailureState(e) => e.source(),
            Error::WaiterOperationFailed(e) => e.source(),
        }
    }
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

    /// How many attempts were made before this error, when it came from sending a request.
    pub fn attempts(&self) -> Option<u32> {
        match self.innermost() {
            Error::Service(s) => Some(s.attempts),
            Error::Transport(t) => Some(t.attempts),
            Error::InvalidResponse(r) => Some(r.attempts),
            Error::Timeout(t) => Some(t.attempts),
            _ => None,
        }
    }
}

/// A parameter that was missing or invalid. Reported before any request is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvalidInput {
    /// The parameter, by its wire name where it has one (`HaVipId`) or the setting's name.
    pub parameter: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.parameter, self.reason)
    }
}

/// An error answer from the service.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceError {
    /// The API action that failed, e.g. `AssociateHaVip`.
    pub action: String,
    /// The HTTP status of the answer.
    pub http_status: u16,
    /// The error code.
    pub code: ErrorCode,
    /// The service's message.
    pub message: String,
    /// The request id, for Alibaba support.
    pub request_id: Option<String>,
    /// The gateway host that answered.
    pub host_id: Option<String>,
    /// The service's advice: usually a troubleshooting URL.
    pub recommend: Option<String>,
    /// Details of a permission denial (the raw JSON text), when sent.
    pub access_denied_detail: Option<String>,
    /// How many attempts were made, retries included.
    pub attempts: u32,
}

impl ServiceError {
    /// `true` when retrying may succeed: a retryable [`ErrorCode`] or HTTP 5xx.
    pub fn is_retryable(&self) -> bool {
        self.code.is_retryable() || self.http_status >= 500
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed with {} (HTTP {})",
            self.action, self.code, self.http_status
        )?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message.trim_end_matches('.'))?;
        }
        match &self.request_id {
            Some(id) => write!(f, " (request id {id}")?,
            None => write!(f, " (no request id")?,
        }
        if self.attempts > 1 {
            write!(f, ", after {} attempts", self.attempts)?;
        }
        f.write_str(")")?;
        if let Some(r) = &self.recommend {
            write!(f, "; see {r}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ServiceError {}

/// A response this crate could not decode: HTML from a proxy, an empty or truncated body, a
/// body too large, or JSON of the wrong shape.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// How many attempts were made, retries included.
    pub attempts: u32,
}

impl fmt::Display for InvalidResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} got an undecodable answer (HTTP {}): {}",
            self.action, self.http_status, self.reason
        )?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        if self.body_snippet.is_empty() {
            f.write_str("; the body was empty")
        } else {
            write!(f, "; body starts: {:?}", self.body_snippet)
        }
    }
}

impl std::error::Error for InvalidResponse {}

/// A failure to send a request or receive its answer.
#[derive(Debug)]
#[non_exhaustive]
pub struct TransportError {
    /// The API action.
    pub action: String,
    /// What kind of failure.
    pub kind: TransportErrorKind,
    /// A description of the failure (never holds secrets).
    pub message: String,
    /// How many attempts were made.
    pub attempts: u32,
    /// The underlying error.
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} could not reach the service ({}) after {} attempt(s): {}",
            self.action, self.kind, self.attempts, self.message
        )
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
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
    /// Waiting for the next bytes of the answer (the read timeout).
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} hit the {} of {:?} after {} attempt(s)",
            self.action, self.kind, self.limit, self.attempts
        )
    }
}

impl std::error::Error for TimeoutError {}

/// No usable credentials, or a credentials source failed. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CredentialsError {
    /// What went wrong, naming the source (variable, file and line or key).
    pub message: String,
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "credentials error: {}", self.message)
    }
}

impl std::error::Error for CredentialsError {}

impl CredentialsError {
    /// A credentials error with `message` (which must not contain secrets).
    pub fn new(message: impl Into<String>) -> Self {
        CredentialsError {
            message: message.into(),
        }
    }
}

impl From<CredentialsError> for Error {
    fn from(e: CredentialsError) -> Self {
        Error::Credentials(e)
    }
}

/// Cuts `body` to at most [`MAX_SNIPPET_BYTES`], at a character boundary.
pub(crate) fn snippet(body: &[u8]) -> String {
    let cut = &body[..body.len().min(MAX_SNIPPET_BYTES)];
    let mut s = String::from_utf8_lossy(cut).into_owned();
    // A multi-byte character cut in half decodes as U+FFFD at the end: drop it.
    if body.len() > MAX_SNIPPET_BYTES && s.ends_with('\u{FFFD}') {
        s.pop();
    }
    s
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
            attempts: 1,
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
