//! What every generated operation and [`Client::call`](crate::Client::call) share: the wire
//! form of their parameters, and sending a request and decoding its answer.
//!
//! # Parameters on the wire
//!
//! Written as Alibaba's official SDKs write them (alibabacloud-tea-openapi's `Utils.query` and
//! `array_to_string_with_specified_style`), each parameter in the query or the form body as its
//! operation's metadata says:
//!
//! | style | a value | on the wire |
//! |---|---|---|
//! | plain | a string, number or boolean | its text (`true`/`false` for booleans) |
//! | flat | a list, an object or a map | one parameter per value: `Name.1`, `Name.2`, …; `Name.1.Key`; `Name.key` for a map |
//! | json | a list, an object or a map | one parameter: its JSON text (compact, UTF-8 as is) |
//! | simple | a list | one parameter: the values joined by `,` |
//!
//! Booleans are `true`/`false` as the API documents them and Alibaba's Java and Go SDKs send
//! them; the Python SDK writes `str(True)`, `True` (a deliberate difference).
//!
//! # Answers
//!
//! A `2xx` answer decodes into the operation's output with serde (leniently: see
//! `crate::lenient`). One whose top-level `Code` is a failure (anything but `0`, `200`,
//! `Success` or `OK`, any case, or empty) is an [`Error::Service`](crate::Error::Service) with
//! that code and HTTP status 200, as if the service had answered with an error status.

use crate::transport::{Outcome, Request, Transport};
use crate::wire::RawAnswer;
use crate::Error;

// The generated operations' half, compiled only with one of their features.
#[cfg(feature = "_generated")]
// A single family uses a subset of the parameter styles and checks; with `full` every one is
// used, so the dead-code lint still guards them there (CI builds with all features).
#[cfg_attr(not(feature = "full"), allow(dead_code))]
mod encode;
#[cfg(feature = "_generated")]
pub(crate) use encode::*;

/// Sends `request` (a `2xx` answer whose top-level `Code` is a failure is an error, retried
/// like any error answer: see [`Request::code_is_status`]) and returns the answer to decode.
pub(crate) fn invoke<'a>(
    transport: &'a Transport,
    request: &'a Request<'static>,
) -> crate::transport::BoxFuture<'a, Result<RawAnswer, Error>> {
    Box::pin(async move {
        let settled = transport.invoke(request).await?;
        match settled.outcome {
            Outcome::Answered(raw) => Ok(raw),
            // Only a request with a safe-write check settles this way; these have none.
            Outcome::AlreadyApplied { request_id, .. } => Ok(RawAnswer {
                status: 200,
                body: format!(
                    "{{\"RequestId\":{}}}",
                    serde_json::to_string(&request_id.unwrap_or_default()).unwrap_or_default()
                )
                .into_bytes(),
                header_request_id: None,
                retry_after: None,
            }),
        }
    })
}
