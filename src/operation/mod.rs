//! One module per operation, each holding its fluent builder, its output, `send()` and, for a
//! write whose outcome can be unknown, its safe-write check.
//!
//! | operation | builder | method |
//! |---|---|---|
//! | CreateHaVip | [`create_ha_vip::CreateHaVipFluentBuilder`] | POST |
//! | DescribeHaVips | [`describe_ha_vips::DescribeHaVipsFluentBuilder`] | GET |
//! | AssociateHaVip | [`associate_ha_vip::AssociateHaVipFluentBuilder`] | POST |
//! | UnassociateHaVip | [`unassociate_ha_vip::UnassociateHaVipFluentBuilder`] | POST |
//! | ModifyHaVipAttribute | [`modify_ha_vip_attribute::ModifyHaVipAttributeFluentBuilder`] | POST |
//! | DeleteHaVips | [`delete_ha_vips::DeleteHaVipsFluentBuilder`] | POST |
//!
//! Every builder checks its input before sending anything: a missing or bad parameter is an
//! [`Error::InvalidInput`] naming the parameter. Every builder also takes per-call overrides of
//! the client's retry policy and operation timeout.
//!
//! Every output exposes its data through accessor methods, serializes to (and deserializes
//! from) JSON in the API's own shape, and has a builder (`AssociateHaVipOutput::builder()`) so
//! your tests can make one.

use std::time::Duration;

use crate::model::HaVip;
use crate::retry::RetryConfig;
use crate::transport::{CheckFuture, Outcome, Request, SafeWrite, Transport, Verdict};
use crate::wire::RequestIdBody;
use crate::{Error, ErrorCode};

/// Per-call overrides of the client's settings, shared by every builder.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CallOverrides {
    pub(crate) retry: Option<RetryConfig>,
    pub(crate) operation_timeout: Option<Duration>,
}

impl CallOverrides {
    pub(crate) fn apply(&self, req: &mut Request<'_>) {
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

        /// Overrides the client's operation timeout (all attempts, checks and backoff) for this
        /// call.
        pub fn operation_timeout(mut self, limit: std::time::Duration) -> Self {
            self.overrides.operation_timeout = Some(limit);
            self
        }
    };
}

/// A builder for an output type, so users can make outputs in their own tests: `Xxx::builder()`,
/// one setter per field, `build()`.
macro_rules! output_builder {
    ($output:ident => $builder:ident { $( $field:ident : $ty:ty ),* $(,)? }) => {
        #[doc = concat!("Builds a [`", stringify!($output), "`] (for tests of code that uses one).")]
        #[derive(Debug, Clone, Default)]
        #[must_use]
        pub struct $builder {
            $( $field: $ty, )*
        }

        impl $builder {
            $(
                #[doc = concat!("Sets `", stringify!($field), "`.")]
                pub fn $field(mut self, value: impl Into<$ty>) -> Self {
                    self.$field = value.into();
                    self
                }
            )*

            #[doc = concat!("The [`", stringify!($output), "`].")]
            pub fn build(self) -> $output {
                $output { $( $field: self.$field, )* }
            }
        }

        impl $output {
            #[doc = concat!("A builder for a [`", stringify!($output), "`]; unset fields are empty, zero or `false`.")]
            pub fn builder() -> $builder {
                $builder::default()
            }
        }
    };
}

pub mod associate_ha_vip;
pub mod create_ha_vip;
pub mod delete_ha_vips;
pub mod describe_ha_vips;
pub mod modify_ha_vip_attribute;
pub mod unassociate_ha_vip;

/// The longest id accepted (HAVIP, instance and ENI ids are far shorter).
pub const MAX_ID_LEN: usize = 128;

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
    match v.chars().find(|c| !c.is_ascii_graphic()) {
        None => Ok(v),
        Some(c) => Err(Error::invalid_input(
            parameter,
            format!("{v:?} contains {c:?}; ids are printable ASCII without spaces"),
        )),
    }
}

/// Checks a free-text value: not blank, no control characters, at most `max_chars` characters.
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

/// Checks an HAVIP name: 1–128 characters, no control characters, not starting with `http://`
/// or `https://` (the rule ModifyHaVipAttribute documents; applied to CreateHaVip too).
pub(crate) fn check_name(parameter: &str, v: &str) -> Result<(), Error> {
    check_text(parameter, v, 128)?;
    let lower = v.trim_start().to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Err(Error::invalid_input(
            parameter,
            "must not start with http:// or https://",
        ));
    }
    Ok(())
}

/// How a write settled: its request id, whether the safe-write rule found it already done, the
/// ids the check found (CreateHaVip), and how many attempts and checks it took.
pub(crate) struct WriteOutcome {
    pub(crate) request_id: String,
    pub(crate) already_applied: bool,
    pub(crate) attempts: u32,
    pub(crate) probes: u32,
}

/// Sends a write whose answer holds only `RequestId`.
pub(crate) async fn send_write(
    transport: &Transport,
    req: &Request<'_>,
) -> Result<WriteOutcome, Error> {
    let settled = transport.invoke(req).await?;
    let (request_id, already_applied) = match settled.outcome {
        Outcome::AlreadyApplied { request_id, .. } => (request_id.unwrap_or_default(), true),
        Outcome::Answered(raw) => {
            let (_, id) = raw
                .decode::<RequestIdBody>(&req.action)
                .map_err(|e| e.with_counts(settled.attempts, settled.probes))?;
            (id, false)
        }
    };
    Ok(WriteOutcome {
        request_id,
        already_applied,
        attempts: settled.attempts,
        probes: settled.probes,
    })
}

/// The safe-write check of AssociateHaVip and UnassociateHaVip: is `instance_id` listed in the
/// HAVIP's associations (in any status but `Unassociating`), as the write wants or not?
pub(crate) struct PairCheck {
    pub(crate) transport: Transport,
    pub(crate) ha_vip_id: String,
    pub(crate) instance_id: String,
    /// `true` for AssociateHaVip (wants it listed), `false` for UnassociateHaVip.
    pub(crate) want_listed: bool,
}

impl PairCheck {
    /// `(HaVipId, InstanceId)` of a pair write, checked, with its safe-write check.
    pub(crate) fn new(
        transport: &Transport,
        ha_vip_id: Option<String>,
        instance_id: Option<String>,
        want_listed: bool,
    ) -> Result<Self, Error> {
        Ok(PairCheck {
            transport: transport.clone(),
            ha_vip_id: required_id("HaVipId", ha_vip_id)?,
            instance_id: required_id("InstanceId", instance_id)?,
            want_listed,
        })
    }

    /// The write's request: POST `action` with `HaVipId` and `InstanceId`, this check attached.
    pub(crate) fn request(&self, action: &'static str) -> Request<'_> {
        let mut req = self.transport.request(
            action,
            crate::config::ENS_API_VERSION,
            reqwest::Method::POST,
        );
        req.param("HaVipId", self.ha_vip_id.as_str());
        req.param("InstanceId", self.instance_id.as_str());
        req.safe_write = Some(self);
        req
    }
}

impl SafeWrite for PairCheck {
    fn is_done_code(&self, code: &ErrorCode) -> bool {
        *code
            == if self.want_listed {
                ErrorCode::InstanceAlreadyAssociated
            } else {
                ErrorCode::InstanceNotAssociated
            }
    }

    /// One DescribeHaVips call. Any failure of the check counts as "not known to have taken
    /// effect", and the write is tried again (which is safe: a repeated association or
    /// unassociation is refused with a code, never done twice).
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(async move {
            let found = get_ha_vip_once(&self.transport, &self.ha_vip_id).await;
            let Ok((Some(h), request_id)) = found else {
                return Verdict::NotApplied;
            };
            let listed = h
                .association(&self.instance_id)
                .is_some_and(|a| a.status != crate::AssociationStatus::Unassociating);
            if listed == self.want_listed {
                Verdict::Applied {
                    request_id,
                    ids: Vec::new(),
                }
            } else {
                Verdict::NotApplied
            }
        })
    }
}

/// One DescribeHaVips call for one id, no retries: the HAVIP if listed, and the request id.
pub(crate) async fn get_ha_vip_once(
    transport: &Transport,
    ha_vip_id: &str,
) -> Result<(Option<HaVip>, String), Error> {
    let page = describe_ha_vips::DescribeHaVipsFluentBuilder::new(transport.clone())
        .ha_vip_id(ha_vip_id)
        .retry_config(RetryConfig::disabled())
        .send()
        .await?;
    let request_id = page.request_id().to_owned();
    let found = page
        .into_ha_vips()
        .into_iter()
        .find(|h| h.ha_vip_id == ha_vip_id);
    Ok((found, request_id))
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
