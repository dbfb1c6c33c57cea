//! Faults injected on demand: deterministic, queued in order, consumed one per request.
//!
//! A fault is consumed by the next request that *passes authentication*, names an action the
//! emulator serves, and matches the fault's [`FaultTarget`]; requests that fail authentication
//! (or name an unknown action) never consume one. So
//! a client that retries with a fresh nonce after a fault meets the next queued fault (or the
//! normal behaviour), which is exactly what a retry policy test wants.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

/// Which requests a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultTarget {
    /// Any action the emulator serves.
    Any,
    /// One action, by its exact name (e.g. `AssociateHaVip`).
    Action(String),
}

impl FaultTarget {
    /// A target for one action: `FaultTarget::action("AssociateHaVip")`.
    pub fn action(name: impl Into<String>) -> Self {
        FaultTarget::Action(name.into())
    }

    fn matches(&self, action: &str) -> bool {
        match self {
            FaultTarget::Any => true,
            FaultTarget::Action(a) => a == action,
        }
    }
}

impl From<&str> for FaultTarget {
    /// An action name (`"AssociateHaVip"`) targets that action.
    fn from(action: &str) -> Self {
        FaultTarget::Action(action.to_owned())
    }
}

impl From<String> for FaultTarget {
    /// An action name targets that action.
    fn from(action: String) -> Self {
        FaultTarget::Action(action)
    }
}

/// What the emulator does instead of (or around) answering normally.
///
/// "Apply" means running the operation against the emulator's state: a fault that applies
/// leaves the state changed exactly as a normal call would (an association is created, …).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer a JSON service error (the gateway's error body shape, with a fresh request id)
    /// with this HTTP status, code and message, without applying. See
    /// [`Fault::throttling`], [`Fault::service_unavailable`], [`Fault::internal_error`],
    /// [`Fault::system_error`].
    ServiceError {
        /// HTTP status, e.g. 503.
        status: u16,
        /// Error code, e.g. `ServiceUnavailable`.
        code: String,
        /// Error message.
        message: String,
    },
    /// Answer an HTML error page (`text/html`) with this status, as a proxy would, without
    /// applying.
    Html {
        /// HTTP status, e.g. 502.
        status: u16,
    },
    /// Answer this status with an empty body, without applying.
    Empty {
        /// HTTP status, e.g. 503.
        status: u16,
    },
    /// Wait this long, then handle the request normally. The request is handled even if the
    /// client gives up meanwhile, so a client timeout leaves the write applied afterwards.
    Slow {
        /// How long to wait before handling.
        delay: Duration,
    },
    /// Close the connection without answering and without applying.
    DropBeforeApply,
    /// Apply, then close the connection without answering: the outcome is unknown to the
    /// client although the state changed.
    DropAfterApply,
    /// Apply, then answer status 200 with the first half of the real JSON body (the
    /// `Content-Length` matches the half sent, so the client sees a complete HTTP response
    /// whose body is not valid JSON).
    TruncatedJson,
    /// Answer exactly this, without applying.
    Raw {
        /// HTTP status.
        status: u16,
        /// `Content-Type` header value (none sent when empty).
        content_type: String,
        /// The body.
        body: String,
    },
}

impl Fault {
    /// A JSON service error with any status, code and message.
    pub fn service_error(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Fault::ServiceError {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    /// `400 Throttling.User`: "Request was denied due to user flow control."
    pub fn throttling() -> Self {
        Fault::service_error(
            400,
            "Throttling.User",
            "Request was denied due to user flow control.",
        )
    }

    /// `503 ServiceUnavailable`: "The request has failed due to a temporary failure of the
    /// server."
    pub fn service_unavailable() -> Self {
        Fault::service_error(
            503,
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
        )
    }

    /// `500 InternalError`: "The request processing has failed due to some unknown error."
    pub fn internal_error() -> Self {
        Fault::service_error(
            500,
            "InternalError",
            "The request processing has failed due to some unknown error.",
        )
    }

    /// `400 SystemError`: "Interface call error, please re-select" (documented for
    /// AssociateHaVip).
    pub fn system_error() -> Self {
        Fault::service_error(
            400,
            "SystemError",
            "Interface call error, please re-match, or contact the product.",
        )
    }

    /// A short name for logs: `service-error`, `html`, `empty`, `slow`, `drop-before-apply`,
    /// `drop-after-apply`, `truncated-json`, `raw`.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::ServiceError { .. } => "service-error",
            Fault::Html { .. } => "html",
            Fault::Empty { .. } => "empty",
            Fault::Slow { .. } => "slow",
            Fault::DropBeforeApply => "drop-before-apply",
            Fault::DropAfterApply => "drop-after-apply",
            Fault::TruncatedJson => "truncated-json",
            Fault::Raw { .. } => "raw",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::ServiceError { status, code, .. } => write!(f, "service-error {status} {code}"),
            Fault::Html { status } | Fault::Empty { status } | Fault::Raw { status, .. } => {
                write!(f, "{} {status}", self.kind())
            }
            Fault::Slow { delay } => write!(f, "slow {delay:?}"),
            _ => f.write_str(self.kind()),
        }
    }
}

#[derive(Debug)]
struct Entry {
    target: FaultTarget,
    fault: Fault,
    remaining: usize,
}

/// The queue of injected faults, oldest first.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    entries: VecDeque<Entry>,
}

impl FaultQueue {
    pub fn push(&mut self, target: FaultTarget, fault: Fault, times: usize) {
        if times > 0 {
            self.entries.push_back(Entry {
                target,
                fault,
                remaining: times,
            });
        }
    }

    /// Takes one use of the oldest fault that matches `action`.
    pub fn take(&mut self, action: &str) -> Option<Fault> {
        let idx = self.entries.iter().position(|e| e.target.matches(action))?;
        let entry = self.entries.get_mut(idx)?;
        entry.remaining -= 1;
        let fault = entry.fault.clone();
        if entry.remaining == 0 {
            self.entries.remove(idx);
        }
        Some(fault)
    }

    /// Uses left, summed over every queued fault.
    pub fn pending(&self) -> usize {
        self.entries.iter().map(|e| e.remaining).sum()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}
