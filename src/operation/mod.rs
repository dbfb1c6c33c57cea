//! One module per operation, each holding its fluent builder, its output and `send()`.
//!
//! | operation | builder | method |
//! |---|---|---|
//! | AssociateHaVip | [`associate_ha_vip::AssociateHaVipFluentBuilder`] | POST |
//! | UnassociateHaVip | [`unassociate_ha_vip::UnassociateHaVipFluentBuilder`] | POST |
//! | DescribeHaVips | [`describe_ha_vips::DescribeHaVipsFluentBuilder`] | GET |
//!
//! Every builder checks its input before sending anything: a missing or bad parameter is an
//! [`Error::InvalidInput`] naming the parameter. Every builder also takes per-call overrides of
//! the client's retry policy and operation timeout.

use std::time::Duration;

use crate::retry::RetryConfig;
use crate::transport::{HasRequestId, OperationRequest};
use crate::Error;

/// Per-call overrides of the client's settings, shared by every builder.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CallOverrides {
    pub(crate) retry: Option<RetryConfig>,
    pub(crate) operation_timeout: Option<Duration>,
}

impl CallOverrides {
    pub(crate) fn apply(&self, req: &mut OperationRequest) {
        if let Some(r) = self.retry {
            req.retry = r;
        }
        if let Some(t) = self.operation_timeout {
            req.operation_timeout = Some(t);
        }
    }
}

/// The per-call override setters, identical on every builder.
macro_rules! call_override_setters {
    () => {
        /// Overrides the client's retry policy for this call
        /// ([`RetryConfig::disabled`](crate::RetryConfig::disabled) for a single attempt).
        pub fn retry_config(mut self, retry: crate::RetryConfig) -> Self {
            self.overrides.retry = Some(retry);
            self
        }

        /// Overrides the client's operation timeout (all attempts and backoff) for this call.
        pub fn operation_timeout(mut self, limit: std::time::Duration) -> Self {
            self.overrides.operation_timeout = Some(limit);
            self
        }
    };
}

/// The longest id accepted (HAVIP, instance and ENI ids are far shorter).
pub const MAX_ID_LEN: usize = 128;

/// The request of a write on one (HAVIP, instance) pair: both ids checked and moved in, with
/// the safe-write rule `probe`.
pub(crate) fn pair_write_request(
    client: &crate::Client,
    action: &'static str,
    ha_vip_id: Option<String>,
    instance_id: Option<String>,
    probe: crate::transport::AppliedProbe,
) -> Result<OperationRequest, Error> {
    let ha_vip_id = required_id("HaVipId", ha_vip_id)?;
    let instance_id = required_id("InstanceId", instance_id)?;
    let mut req = OperationRequest::new(client, action, reqwest::Method::POST);
    req.param("HaVipId", ha_vip_id);
    req.param("InstanceId", instance_id);
    req.applied_probe = Some(probe);
    Ok(req)
}

/// Checks a required resource id: present, not blank, printable ASCII without spaces, at most
/// [`MAX_ID_LEN`] characters.
pub(crate) fn required_id(parameter: &str, value: Option<String>) -> Result<String, Error> {
    match value {
        None => Err(Error::invalid_input(parameter, "is required")),
        Some(v) => {
            check_id(parameter, &v)?;
            Ok(v)
        }
    }
}

pub(crate) fn check_id<'a>(parameter: &str, v: &'a str) -> Result<&'a str, Error> {
    if v.trim().is_empty() {
        return Err(Error::invalid_input(parameter, "must not be blank"));
    }
    if v.len() > MAX_ID_LEN {
        return Err(Error::invalid_input(
            parameter,
            format!(
                "is {} bytes long; at most {MAX_ID_LEN} are allowed",
                v.len()
            ),
        ));
    }
    if v.bytes().all(|b| b.is_ascii_graphic()) {
        return Ok(v);
    }
    if let Some(c) = v.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(Error::invalid_input(
            parameter,
            format!("{v:?} contains {c:?}; ids are printable ASCII without spaces"),
        ));
    }
    Ok(v)
}

/// Checks a free-text filter: not blank, no control characters, at most `max_chars` characters.
pub(crate) fn check_text<'a>(
    parameter: &str,
    v: &'a str,
    max_chars: usize,
) -> Result<&'a str, Error> {
    if v.trim().is_empty() {
        return Err(Error::invalid_input(parameter, "must not be blank"));
    }
    let n = v.chars().count();
    if n > max_chars {
        return Err(Error::invalid_input(
            parameter,
            format!("is {n} characters long; at most {max_chars} are allowed"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(Error::invalid_input(
            parameter,
            "must not contain control characters",
        ));
    }
    Ok(v)
}

pub mod associate_ha_vip;
pub mod describe_ha_vips;
pub mod unassociate_ha_vip;

/// How a write settled: its request id, whether the safe-write rule found it already done, and
/// how many attempts it took.
pub(crate) struct WriteOutcome {
    pub(crate) request_id: String,
    pub(crate) already_applied: bool,
    pub(crate) attempts: u32,
}

/// Sends a write (AssociateHaVip, UnassociateHaVip) whose answer holds only `RequestId`.
pub(crate) async fn send_write(
    client: &crate::Client,
    req: &OperationRequest,
) -> Result<WriteOutcome, Error> {
    let raw = client.invoke(req).await?;
    if let Some(applied) = &raw.already_applied {
        return Ok(WriteOutcome {
            request_id: applied.request_id.clone().unwrap_or_default(),
            already_applied: true,
            attempts: raw.attempts,
        });
    }
    let (_, request_id) = raw.decode::<RequestIdBody>(req.action)?;
    Ok(WriteOutcome {
        request_id,
        already_applied: false,
        attempts: raw.attempts,
    })
}

/// A body holding only `RequestId` (the write operations' answer).
#[derive(Debug)]
pub(crate) struct RequestIdBody {
    request_id: String,
}

impl crate::model::FromJson for RequestIdBody {
    fn from_json(v: &serde_json::Value) -> Result<Self, String> {
        let f = crate::model::Fields::of(v)?;
        Ok(RequestIdBody {
            request_id: f.string("RequestId")?,
        })
    }
}

impl HasRequestId for RequestIdBody {
    fn request_id(&self) -> Option<&str> {
        Some(&self.request_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_checks_name_the_parameter() {
        let cases = [
            (None, "is required"),
            (Some(""), "must not be blank"),
            (Some("   "), "must not be blank"),
            (Some("havip 1"), "printable ASCII"),
            (Some("havip-é"), "printable ASCII"),
            (Some("havip-\n"), "printable ASCII"),
        ];
        for (v, needle) in cases {
            let e = required_id("HaVipId", v.map(str::to_owned))
                .unwrap_err()
                .to_string();
            assert!(e.contains("HaVipId") && e.contains(needle), "{v:?}: {e}");
        }
        let long = "h".repeat(MAX_ID_LEN + 1);
        assert!(required_id("InstanceId", Some(long.clone()))
            .unwrap_err()
            .to_string()
            .contains("at most 128"));
        assert_eq!(
            required_id("HaVipId", Some("havip-5p14t".to_owned())).unwrap(),
            "havip-5p14t"
        );
    }

    #[test]
    fn text_checks() {
        assert!(check_text("Name", "名字", 128).is_ok());
        assert!(check_text("Name", "", 128).is_err());
        assert!(check_text("Name", "a\u{7}", 128).is_err());
        assert!(check_text("Name", &"x".repeat(129), 128).is_err());
    }
}
