//! [`Client::call`]: any ENS action by name, for an operation the crate has no typed builder
//! for (or a newer API version), through the same signing, retries, time limits, tracing and
//! errors as every other operation.

use std::borrow::Cow;
use std::fmt;

use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::operation::CallOverrides;
use crate::transport::{Request, Resend, Transport};
use crate::{Client, Error};

/// The parameters the client sets itself on every request: a call may not set them.
const RESERVED: &[&str] = &[
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "SignatureType",
    "Timestamp",
    "SecurityToken",
];

/// Verbs of the actions that only read: they are retried like every read.
const READ_VERBS: &[&str] = &["Describe", "List", "Get", "Query", "Check"];

/// The escape hatch.
impl Client {
    /// Calls the ENS action `action` with string parameters: for an operation this crate has
    /// no builder for, or one of a newer API version ([`CallBuilder::version`]).
    ///
    /// The answer decodes into your own serde type, or into a [`serde_json::Value`]
    /// ([`CallBuilder::send_json`]). Signing, retries, time limits, tracing and errors are the
    /// client's, as for every other operation; a `200` answer whose top-level `Code` is a
    /// failure is an error too.
    ///
    /// ```no_run
    /// # async fn run(client: alibabacloud_ens::Client) -> Result<(), alibabacloud_ens::Error> {
    /// #[derive(serde::Deserialize)]
    /// struct Regions {
    ///     #[serde(rename = "RequestId")]
    ///     request_id: String,
    /// }
    /// let regions: Regions = client.call("DescribeEnsRegions").send().await?;
    /// let raw = client
    ///     .call("DescribeInstances")
    ///     .param("InstanceIds", r#"["i-1","i-2"]"#)
    ///     .param("PageSize", "50")
    ///     .send_json()
    ///     .await?;
    /// println!("{} {}", regions.request_id, raw["TotalCount"]);
    /// # Ok(()) }
    /// ```
    pub fn call(&self, action: impl Into<String>) -> CallBuilder {
        CallBuilder {
            transport: self.transport().clone(),
            overrides: CallOverrides::default(),
            action: action.into(),
            version: None,
            method: Method::POST,
            query: Vec::new(),
            body: Vec::new(),
            idempotent: None,
        }
    }
}

/// Builder for [`Client::call`].
///
/// Retries: an action whose name starts with `Describe`, `List`, `Get`, `Query` or `Check` is a
/// read and every retryable failure is retried; any other action is a write, sent again only
/// after a failure that proves it did not take effect, unless you say it is idempotent
/// ([`idempotent`](Self::idempotent)).
#[derive(Clone)]
#[must_use = "a builder does nothing until `send` is awaited"]
pub struct CallBuilder {
    transport: Transport,
    overrides: CallOverrides,
    action: String,
    version: Option<String>,
    method: Method,
    query: Vec<(String, String)>,
    body: Vec<(String, String)>,
    idempotent: Option<bool>,
}

impl fmt::Debug for CallBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values may be secrets (a password in the body): names only.
        let names = |p: &[(String, String)]| p.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        f.debug_struct("CallBuilder")
            .field("action", &self.action)
            .field("version", &self.version)
            .field("method", &self.method)
            .field("query", &names(&self.query))
            .field("body", &names(&self.body))
            .field("idempotent", &self.idempotent)
            .field("overrides", &self.overrides)
            .finish_non_exhaustive()
    }
}

impl CallBuilder {
    /// The API version to call (default: ENS's `2017-11-10`), as `YYYY-MM-DD`.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Sends a `GET` (the default is `POST`, as for most ENS operations).
    pub fn get(mut self) -> Self {
        self.method = Method::GET;
        self
    }

    /// Sends a `POST` (the default).
    pub fn post(mut self) -> Self {
        self.method = Method::POST;
        self
    }

    /// Adds a parameter to the query string. Lists and objects are written as the API expects
    /// them: as JSON text (`["a","b"]`), or one parameter per value (`Name.1`, `Name.2`).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Adds a parameter to the form body (e.g. a password, which must not be in a URL).
    pub fn body_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.body.push((name.into(), value.into()));
        self
    }

    /// Says whether sending the action twice has the same effect as sending it once, so that
    /// every retryable failure may be retried (default: `true` for reads, by their name, and
    /// `false` for writes).
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }

    call_override_setters!();

    /// The request, its input checked (nothing is sent when it is bad).
    fn request(&self) -> Result<Request<'static>, Error> {
        let action = self.action.as_str();
        if action.is_empty()
            || action.len() > 128
            || !action.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(Error::invalid_input(
                "Action",
                format!(
                    "{:?} is not an action name (1 to 128 ASCII letters and digits)",
                    crate::error::Escaped::new(action, 64).to_string()
                ),
            ));
        }
        let version = self
            .version
            .as_deref()
            .unwrap_or(crate::config::ENS_API_VERSION);
        let b = version.as_bytes();
        let date_like = b.len() == 10
            && b.iter().enumerate().all(|(i, c)| {
                if i == 4 || i == 7 {
                    *c == b'-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if !date_like {
            return Err(Error::invalid_input(
                "Version",
                format!(
                    "{:?} is not an API version (YYYY-MM-DD)",
                    crate::error::Escaped::new(version, 64).to_string()
                ),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (k, _) in self.query.iter().chain(&self.body) {
            crate::operation::check_id("parameter name", k).map_err(|_| {
                Error::invalid_input(
                    "parameter name",
                    format!(
                        "{:?} is not a parameter name (1 to 128 printable ASCII characters, no spaces)",
                        crate::error::Escaped::new(k, 64).to_string()
                    ),
                )
            })?;
            if RESERVED.contains(&k.as_str()) {
                return Err(Error::invalid_input(
                    k.clone(),
                    "is set by the client itself",
                ));
            }
            if !seen.insert(k.as_str()) {
                return Err(Error::invalid_input(k.clone(), "is given twice"));
            }
        }
        let read = READ_VERBS.iter().any(|v| {
            action
                .strip_prefix(v)
                .is_some_and(|rest| rest.chars().next().is_none_or(|c| c.is_ascii_uppercase()))
        });
        let mut req = self.transport.request(
            Cow::Owned(self.action.clone()),
            Cow::Owned(version.to_owned()),
            self.method.clone(),
        );
        req.code_is_status = true;
        req.resend = if self.idempotent.unwrap_or(read) {
            Resend::Always
        } else {
            Resend::OnlyIfNotApplied
        };
        for (k, v) in &self.query {
            req.param(Cow::Owned(k.clone()), v.clone());
        }
        for (k, v) in &self.body {
            req.body_param(Cow::Owned(k.clone()), v.clone());
        }
        self.overrides.apply(&mut req);
        Ok(req)
    }

    /// Sends the call and decodes the answer as `T`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (nothing sent) for a bad action name, version or parameter name,
    /// a parameter the client sets itself (`Action`, `Signature…`, `Timestamp`, …) or given
    /// twice; [`Error::InvalidResponse`] when the answer does not decode as `T` (naming the
    /// path); otherwise any [`Error`] the service or the network produces.
    pub async fn send<T: DeserializeOwned>(self) -> Result<T, Error> {
        let request = self.request()?;
        let raw = crate::runtime::invoke(&self.transport, &request).await?;
        raw.decode_value(&request.action)
    }

    /// Sends the call and returns the answer as JSON.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn send_json(self) -> Result<serde_json::Value, Error> {
        self.send().await
    }
}
