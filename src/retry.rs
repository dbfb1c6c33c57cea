//! Retry policy: which failures are retried, how often, and how long to wait between attempts.
//!
//! The standard policy (the default) makes up to 3 attempts with exponential backoff and full
//! jitter: before attempt *n* + 1 it sleeps a random time in
//! `[0, min(max_backoff, initial_backoff × 2^(n-1))]`. It retries network errors, attempt
//! timeouts, HTTP 5xx (JSON or not), every `Throttling*` code, `ServiceUnavailable` and
//! `InternalError` — never authentication, signature or parameter errors. Every attempt is
//! signed anew, with a fresh nonce and timestamp. Each retry is one `tracing` event at `INFO`
//! (`retrying`: `action`, `attempt`, `error_code` or `error_kind`, `http_status`,
//! `backoff_ms`), and so is each check of a write below (`checked whether the write took
//! effect`: `action`, `attempt`, `checked`, `verdict`); the final failure is returned, never
//! logged above `DEBUG`.
//!
//! ## Writes without idempotency tokens
//! AssociateHaVip and UnassociateHaVip take no `ClientToken`, so the service cannot tell a retry
//! from a new request. An attempt's outcome is *unknown* when the connection failed after the
//! request may have been sent, the attempt timed out, or the service answered 5xx. Then:
//!
//! 1. Before writing again (or giving up), the client asks DescribeHaVips whether the write took
//!    effect: for AssociateHaVip, whether the instance is listed in the HAVIP's
//!    `AssociatedInstances`; for UnassociateHaVip, whether it is gone (or `Unassociating`). If
//!    so, the call succeeds and its output says so (`already_associated` /
//!    `already_unassociated`), with the check's request id. If the check fails or says no, the
//!    write is retried as usual.
//! 2. A later attempt answered `InstanceAlreadyAssociated` (AssociateHaVip) or
//!    `InstanceNotAssociated` (UnassociateHaVip) means the earlier attempt took effect: the call
//!    succeeds, flagged the same way. Any other service error after an unknown outcome is
//!    checked as in 1 before it is returned (an HAVIP still `Associating` from our own first
//!    attempt answers `IncorrectHaVipStatus`).
//!
//! Without an unknown outcome before it, every code is returned as the service meant it.
//!
//! ## Writes that cannot be checked
//! A write without idempotency token for which no such check exists is sent again only after a
//! failure that proves nothing was applied: a refused connection, throttling and the other 4xx
//! the gateway answers before the API runs, a 429. After a failure that may have reached the
//! service (a 5xx, no answer in time, a connection lost after sending) it is not sent again:
//! the call ends with [`Error::OutcomeUnknown`](crate::Error::OutcomeUnknown), whose source is
//! that attempt's error ([`Error::is_outcome_unknown`](crate::Error::is_outcome_unknown)).
//! Check whether it took effect before sending it again. An operation timeout that cuts such a
//! write while an attempt is in flight says so too (`write_outcome_unknown`).
//!
//! Reads, and writes that cannot apply twice (an idempotency token, or setting absolute
//! values, like ModifyHaVipAttribute), are retried on every retryable failure.
//!
//! ## `Retry-After`
//! When an answer that will be retried (HTTP 429 or 503, a `Throttling*` code, …) carries
//! `Retry-After` (seconds or an HTTP date), the client waits at least that long before the next
//! attempt. If the advice is longer than the policy's [`max_backoff`](RetryConfig::max_backoff)
//! or than the time left before the operation timeout, the error is returned at once, carrying
//! the advice ([`Error::retry_after`](crate::Error::retry_after)).
//!
//! ## The worst case
//! Every attempt and every check is bounded by the read timeout (10 s by default; the attempt
//! timeout when that is shorter). Against a server that accepts connections and never answers,
//! a call therefore ends, with the defaults (3 attempts), after:
//!
//! | call | attempts | checks | worst case |
//! |---|---|---|---|
//! | DescribeHaVips | 3 × 10 s | — | about 30 s |
//! | AssociateHaVip, UnassociateHaVip | 3 × 10 s | 3 × 10 s | about 60 s |
//!
//! plus the backoff between attempts (at most 0.1 s + 0.2 s), and the error says so: "…hit the
//! read timeout of 10s after 3 attempts and 3 checks of whether the write took effect".
//!
//! There is no default operation timeout. The bound above holds without one, and a default cap
//! would cut a write's check short, turning a write that took effect into an error whose
//! outcome the caller cannot know. Set
//! [`operation_timeout`](crate::ClientBuilder::operation_timeout) (or a shorter read timeout)
//! to bound calls more tightly; when it cuts a write after an attempt whose outcome is unknown,
//! the [`TimeoutError`](crate::error::TimeoutError) says so (`write_outcome_unknown`).

use std::time::Duration;

use crate::clock::jitter;

/// How a client (or one call) retries.
///
/// ```
/// use alibabacloud_ens::RetryConfig;
/// use std::time::Duration;
///
/// let patient = RetryConfig::standard()
///     .with_max_attempts(5)
///     .with_initial_backoff(Duration::from_millis(200))
///     .with_max_backoff(Duration::from_secs(10));
/// assert_eq!(patient.max_attempts(), 5);
/// assert_eq!(RetryConfig::disabled().max_attempts(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
}

impl RetryConfig {
    /// Standard mode: 3 attempts, initial backoff 100 ms, maximum backoff 20 s.
    pub const fn standard() -> Self {
        RetryConfig {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(20),
        }
    }

    /// No retries: one attempt (what Alibaba's own SDKs do by default).
    pub const fn disabled() -> Self {
        RetryConfig {
            max_attempts: 1,
            ..Self::standard()
        }
    }

    /// Sets the number of attempts, the first included (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the backoff ceiling before the second attempt (doubling after each attempt).
    pub fn with_initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// Sets the largest backoff.
    pub fn with_max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// The number of attempts, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The backoff ceiling before the second attempt.
    pub fn initial_backoff(&self) -> Duration {
        self.initial_backoff
    }

    /// The largest backoff.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// The ceiling of the sleep after attempt `attempt` (1-based) failed.
    pub(crate) fn backoff_ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1).min(31))
            .unwrap_or(u32::MAX);
        self.initial_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }

    /// A full-jitter sleep after attempt `attempt` failed.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        jitter(Duration::ZERO, self.backoff_ceiling(attempt))
    }
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self::standard()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let r = RetryConfig::standard()
            .with_initial_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_millis(700));
        assert_eq!(r.backoff_ceiling(1), Duration::from_millis(100));
        assert_eq!(r.backoff_ceiling(2), Duration::from_millis(200));
        assert_eq!(r.backoff_ceiling(3), Duration::from_millis(400));
        assert_eq!(r.backoff_ceiling(4), Duration::from_millis(700));
        assert_eq!(r.backoff_ceiling(400), Duration::from_millis(700));
        for a in 1..10 {
            assert!(r.backoff(a) <= r.backoff_ceiling(a));
        }
        assert_eq!(
            RetryConfig::standard().with_max_attempts(0).max_attempts(),
            1
        );
    }
}
