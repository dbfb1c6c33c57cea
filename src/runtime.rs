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

use std::borrow::Cow;
use std::collections::BTreeMap;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::operation::CallOverrides;
use crate::transport::{Outcome, Request, Resend, Transport};
use crate::wire::RawAnswer;
use crate::Error;

/// What an operation is: its action, HTTP method and retry rule.
pub(crate) struct Spec {
    pub(crate) action: &'static str,
    pub(crate) get: bool,
    pub(crate) resend: Resend,
    /// The answer's top-level `Code` is a status (a failure code there is an error).
    pub(crate) code_is_status: bool,
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum In {
    Query,
    Body,
}

/// Parameters as written on the wire.
pub(crate) type Pairs = Vec<(Cow<'static, str>, String)>;

/// A value written as one parameter's text.
pub(crate) trait Scalar {
    fn text(&self) -> String;
}

impl Scalar for String {
    fn text(&self) -> String {
        self.clone()
    }
}

impl Scalar for i64 {
    fn text(&self) -> String {
        self.to_string()
    }
}

impl Scalar for f64 {
    fn text(&self) -> String {
        self.to_string()
    }
}

impl Scalar for bool {
    fn text(&self) -> String {
        self.to_string()
    }
}

/// A value written as parameters `key`, `key.1`, `key.1.Name`, … (the SDK's flattening).
pub(crate) trait Flatten {
    /// Writes the value under `key` (restored on return).
    fn flatten(&self, key: &mut String, out: &mut Pairs);
}

macro_rules! flatten_scalar {
    ($($t:ty),*) => {$(
        impl Flatten for $t {
            fn flatten(&self, key: &mut String, out: &mut Pairs) {
                out.push((Cow::Owned(key.clone()), self.text()));
            }
        }
    )*};
}

flatten_scalar!(String, i64, f64, bool);

impl<T: Flatten> Flatten for Vec<T> {
    fn flatten(&self, key: &mut String, out: &mut Pairs) {
        for (i, v) in self.iter().enumerate() {
            let len = key.len();
            key.push('.');
            key.push_str(&(i + 1).to_string());
            v.flatten(key, out);
            key.truncate(len);
        }
    }
}

impl<T: Flatten> Flatten for BTreeMap<String, T> {
    fn flatten(&self, key: &mut String, out: &mut Pairs) {
        for (k, v) in self {
            let len = key.len();
            key.push('.');
            key.push_str(k);
            v.flatten(key, out);
            key.truncate(len);
        }
    }
}

impl Flatten for serde_json::Value {
    fn flatten(&self, key: &mut String, out: &mut Pairs) {
        use serde_json::Value;
        let mut nested = |k: &str, v: &Value, out: &mut Pairs| {
            let len = key.len();
            key.push('.');
            key.push_str(k);
            v.flatten(key, out);
            key.truncate(len);
        };
        match self {
            Value::Null => {}
            Value::String(s) => out.push((Cow::Owned(key.clone()), s.clone())),
            Value::Bool(b) => out.push((Cow::Owned(key.clone()), b.to_string())),
            Value::Number(n) => out.push((Cow::Owned(key.clone()), n.to_string())),
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    nested(&(i + 1).to_string(), v, out);
                }
            }
            Value::Object(m) => {
                for (k, v) in m {
                    nested(k, v, out);
                }
            }
        }
    }
}

/// Writes field `name` of a flattened object, if set.
pub(crate) fn flatten_field<T: Flatten>(
    key: &mut String,
    name: &str,
    value: &Option<T>,
    out: &mut Pairs,
) {
    if let Some(v) = value {
        let len = key.len();
        key.push('.');
        key.push_str(name);
        v.flatten(key, out);
        key.truncate(len);
    }
}

/// Writes an operation's parameters into its request.
pub(crate) struct Encoder {
    request: Request<'static>,
}

impl Encoder {
    /// A request for `spec`, with the client's settings and the call's overrides.
    pub(crate) fn new(transport: &Transport, spec: &Spec, overrides: &CallOverrides) -> Self {
        let method = if spec.get { Method::GET } else { Method::POST };
        let mut request = transport.request(spec.action, crate::config::ENS_API_VERSION, method);
        request.resend = spec.resend;
        overrides.apply(&mut request);
        Encoder { request }
    }

    fn push(&mut self, place: In, key: Cow<'static, str>, value: String) {
        match place {
            In::Query => self.request.param(key, value),
            In::Body => self.request.body_param(key, value),
        }
    }

    pub(crate) fn plain<V: Scalar>(&mut self, place: In, name: &'static str, value: &Option<V>) {
        if let Some(v) = value {
            self.push(place, Cow::Borrowed(name), v.text());
        }
    }

    pub(crate) fn flat<V: Flatten>(&mut self, place: In, name: &'static str, value: &Option<V>) {
        if let Some(v) = value {
            let mut pairs = Pairs::new();
            v.flatten(&mut name.to_owned(), &mut pairs);
            for (k, v) in pairs {
                self.push(place, k, v);
            }
        }
    }

    pub(crate) fn json<V: Serialize>(&mut self, place: In, name: &'static str, value: &Option<V>) {
        if let Some(v) = value {
            // The generated types hold strings, numbers, booleans, lists and string-keyed maps:
            // their JSON cannot fail.
            let text = serde_json::to_string(v).unwrap_or_default();
            self.push(place, Cow::Borrowed(name), text);
        }
    }

    pub(crate) fn simple<V: Scalar>(
        &mut self,
        place: In,
        name: &'static str,
        value: &Option<Vec<V>>,
    ) {
        if let Some(v) = value {
            let text = v.iter().map(Scalar::text).collect::<Vec<_>>().join(",");
            self.push(place, Cow::Borrowed(name), text);
        }
    }

    pub(crate) fn finish(self) -> Request<'static> {
        self.request
    }
}

/// A value that a required parameter may hold: present, and not blank or empty.
pub(crate) trait Present {
    fn missing(&self) -> Option<&'static str>;
}

impl Present for String {
    fn missing(&self) -> Option<&'static str> {
        self.trim().is_empty().then_some("must not be blank")
    }
}

impl<T> Present for Vec<T> {
    fn missing(&self) -> Option<&'static str> {
        self.is_empty().then_some("must not be empty")
    }
}

impl<T> Present for BTreeMap<String, T> {
    fn missing(&self) -> Option<&'static str> {
        self.is_empty().then_some("must not be empty")
    }
}

macro_rules! always_present {
    ($($t:ty),*) => {$(
        impl Present for $t {
            fn missing(&self) -> Option<&'static str> {
                None
            }
        }
    )*};
}

always_present!(i64, f64, bool, serde_json::Value);

/// Checks a required parameter: set, and not blank or empty.
pub(crate) fn required<T: Present>(name: &'static str, value: &Option<T>) -> Result<(), Error> {
    match value {
        None => Err(Error::invalid_input(name, "is required")),
        Some(v) => match v.missing() {
            Some(why) => Err(Error::invalid_input(name, why)),
            None => Ok(()),
        },
    }
}

/// Checks a required parameter holding an object: set.
pub(crate) fn required_set(name: &'static str, set: bool) -> Result<(), Error> {
    if set {
        Ok(())
    } else {
        Err(Error::invalid_input(name, "is required"))
    }
}

/// The `ClientToken` of a call: the caller's, or a fresh random one (the same for every
/// attempt of the call, since the request is built once).
pub(crate) fn client_token(given: &Option<String>) -> Result<String, Error> {
    match given {
        Some(t) => Ok(t.clone()),
        None => crate::signer::new_nonce(),
    }
}

/// `Debug` of a secret: whether it is set, never its value.
pub(crate) struct Redacted<'a, T>(pub(crate) &'a Option<T>);

impl<T> std::fmt::Debug for Redacted<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(_) => f.write_str("Some(** redacted **)"),
            None => f.write_str("None"),
        }
    }
}

/// Sends `request` and decodes its answer as `T`.
pub(crate) async fn send<T: DeserializeOwned>(
    transport: &Transport,
    request: Request<'static>,
    code_is_status: bool,
) -> Result<T, Error> {
    let raw = invoke(transport, &request, code_is_status).await?;
    raw.decode_value(&request.action)
}

/// Sends `request`; a `2xx` answer whose top-level `Code` is a failure is an error.
pub(crate) fn invoke<'a>(
    transport: &'a Transport,
    request: &'a Request<'static>,
    code_is_status: bool,
) -> crate::transport::BoxFuture<'a, Result<RawAnswer, Error>> {
    Box::pin(async move {
        let settled = transport.invoke(request).await?;
        match settled.outcome {
            Outcome::Answered(raw) => {
                if code_is_status && raw.has_failure_code() {
                    return Err(raw
                        .into_error(&request.action)
                        .with_counts(settled.attempts, 0));
                }
                Ok(raw)
            }
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
