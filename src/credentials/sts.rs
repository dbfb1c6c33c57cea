//! What the two STS sources share: the endpoint rules, the session settings, the transport to
//! the STS, and the call.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::Url;
use serde::Deserialize;

use crate::lenient::Text;

use super::answer::{self, call_error, decode, request_id_note, AnswerCredentials};
use super::environment::{Env, ENV_ROLE_SESSION_NAME, ENV_STS_REGION, ENV_VPC_ENDPOINT_ENABLED};
use super::{Credentials, ProvideCredentials};
use crate::clock::{Clock, TokioClock};
use crate::error::CredentialsError;
use crate::retry::RetryConfig;
use crate::signer::SignatureVersion;
use crate::transport::{Outcome, Request, Settings, Transport};
use crate::wire;

/// The STS API version.
pub(crate) const STS_API_VERSION: &str = "2015-04-01";
/// The STS endpoint when no region is known.
pub const DEFAULT_STS_ENDPOINT: &str = "https://sts.aliyuncs.com";
/// The role session's lifetime when none is chosen, in seconds.
pub const DEFAULT_DURATION_SECONDS: u64 = 3600;
/// The shortest role session STS grants, in seconds.
pub const MIN_DURATION_SECONDS: u64 = 900;
/// Alibaba's timeouts for STS calls.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The settings both STS sources take; unset ones come from the environment when the provider
/// is built.
#[derive(Clone, Debug, Default)]
pub(crate) struct StsOptions {
    pub(crate) endpoint: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) vpc: Option<bool>,
    pub(crate) session_name: Option<String>,
    pub(crate) duration_seconds: Option<u64>,
    pub(crate) policy: Option<String>,
    pub(crate) clock: Option<Arc<dyn Clock>>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) read_timeout: Option<Duration>,
}

/// The builder methods both STS sources share; the builder keeps them in `sts: StsOptions` and
/// the environment in `env: Env`.
macro_rules! sts_builder_methods {
    () => {
        /// The role session name (`RoleSessionName`: 2–64 of letters, digits, `.`, `@`, `-`,
        /// `_`; default `ALIBABA_CLOUD_ROLE_SESSION_NAME`, else `credentials-rust-<unix ms>`).
        pub fn role_session_name(mut self, name: impl Into<String>) -> Self {
            self.sts.session_name = Some(name.into());
            self
        }

        /// How long the credentials last (`DurationSeconds`; default 3600, at least 900).
        pub fn duration_seconds(mut self, seconds: u64) -> Self {
            self.sts.duration_seconds = Some(seconds);
            self
        }

        /// A policy (JSON) that narrows the role's permissions for this session (`Policy`).
        pub fn policy(mut self, policy: impl Into<String>) -> Self {
            self.sts.policy = Some(policy.into());
            self
        }

        /// The STS region: `https://sts.<region>.aliyuncs.com` (default
        /// `ALIBABA_CLOUD_STS_REGION`, else the central `sts.aliyuncs.com`).
        pub fn sts_region(mut self, region: impl Into<String>) -> Self {
            self.sts.region = Some(region.into());
            self
        }

        /// Uses the VPC endpoint `sts-vpc.<region>.aliyuncs.com` (default
        /// `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED`); only with a region.
        pub fn enable_vpc(mut self, on: bool) -> Self {
            self.sts.vpc = Some(on);
            self
        }

        /// Sends STS requests to `endpoint`: a host (reached over https) or a URL such as
        /// `http://127.0.0.1:8080` (a test STS, e.g. the emulator's). Wins over the region.
        pub fn sts_endpoint(mut self, endpoint: impl Into<String>) -> Self {
            self.sts.endpoint = Some(endpoint.into());
            self
        }

        /// Reads time from `clock` (request timestamps, the answer timeout and the cache;
        /// default [`TokioClock`](crate::clock::TokioClock)).
        pub fn clock(mut self, clock: impl crate::clock::Clock) -> Self {
            self.sts.clock = Some(std::sync::Arc::new(clock));
            self
        }

        pub(crate) fn shared_clock(
            mut self,
            clock: std::sync::Arc<dyn crate::clock::Clock>,
        ) -> Self {
            self.sts.clock = Some(clock);
            self
        }

        /// Limits the time to connect to STS (default 5 s).
        pub fn connect_timeout(mut self, d: std::time::Duration) -> Self {
            self.sts.connect_timeout = Some(d);
            self
        }

        /// Limits the wait for STS's whole answer (default 10 s).
        pub fn read_timeout(mut self, d: std::time::Duration) -> Self {
            self.sts.read_timeout = Some(d);
            self
        }

        pub(crate) fn env(mut self, env: super::environment::Env) -> Self {
            self.env = env;
            self
        }
    };
}
pub(crate) use sts_builder_methods;

/// [`StsOptions`] resolved.
pub(crate) struct Session {
    pub(crate) endpoint: Url,
    pub(crate) session_name: String,
    pub(crate) duration_seconds: u64,
    pub(crate) policy: Option<String>,
    pub(crate) clock: Arc<dyn Clock>,
    http: reqwest::Client,
    connect_timeout: Duration,
    read_timeout: Duration,
}

impl Session {
    /// The STS as a [`Transport`]: V1 signatures with `credentials` (`None`: anonymous calls
    /// only), the source's time limits, proxy rule, user agent and clock, at most
    /// [`MAX_ANSWER_BYTES`](answer::MAX_ANSWER_BYTES) of answer, none of it in events (it holds
    /// secrets), and one attempt per call: the refresh loop of
    /// [`RefreshingProvider`](super::RefreshingProvider) retries, with its own backoff.
    pub(crate) fn transport(&self, credentials: Option<Arc<dyn ProvideCredentials>>) -> Transport {
        Transport::new(Settings {
            http: self.http.clone(),
            endpoint: self.endpoint.clone(),
            host: crate::config::host_header(&self.endpoint),
            credentials,
            signature_version: SignatureVersion::V1,
            connect_timeout: self.connect_timeout,
            read_timeout: self.read_timeout,
            attempt_timeout: None,
            operation_timeout: None,
            retry: RetryConfig::disabled(),
            clock: Arc::clone(&self.clock),
            max_answer_bytes: answer::MAX_ANSWER_BYTES,
            secret_answers: true,
            // No waiter polls the STS.
            waiter_schedule: crate::waiter::WaiterSchedule::default(),
        })
    }
}

impl StsOptions {
    /// Resolves the options, reading the environment for the unset ones; `what` names the
    /// source in errors.
    pub(crate) fn resolve(self, env: &Env, what: &str) -> Result<Session, CredentialsError> {
        let endpoint = sts_endpoint(
            self.endpoint.as_deref(),
            self.region.or_else(|| env.var(ENV_STS_REGION)).as_deref(),
            self.vpc
                .unwrap_or_else(|| env.flag(ENV_VPC_ENDPOINT_ENABLED)),
        )
        .map_err(|why| CredentialsError::new(format!("{what}: {why}")))?;
        let duration_seconds = self.duration_seconds.unwrap_or(DEFAULT_DURATION_SECONDS);
        if duration_seconds < MIN_DURATION_SECONDS {
            return Err(CredentialsError::new(format!(
                "{what}: the session duration {duration_seconds} s is below STS's minimum of \
                 {MIN_DURATION_SECONDS} s"
            )));
        }
        let session_name = self
            .session_name
            .filter(|s| !s.trim().is_empty())
            .or_else(|| env.var(ENV_ROLE_SESSION_NAME))
            .unwrap_or_else(default_session_name);
        let connect_timeout = self.connect_timeout.unwrap_or(CONNECT_TIMEOUT);
        Ok(Session {
            endpoint,
            session_name,
            duration_seconds,
            policy: self.policy.filter(|p| !p.trim().is_empty()),
            clock: self.clock.unwrap_or_else(|| Arc::new(TokioClock)),
            // The STS is on the internet: through the environment's proxy, as the client.
            http: answer::client(connect_timeout, true)?,
            connect_timeout,
            read_timeout: self.read_timeout.unwrap_or(READ_TIMEOUT),
        })
    }
}

/// `credentials-rust-<unix milliseconds>` (Alibaba's libraries use `credentials-python-<s>`,
/// `credentials-go-<µs>`).
fn default_session_name() -> String {
    let ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("credentials-rust-{ms}")
}

/// The STS endpoint, by Alibaba's rules: an explicit endpoint wins (a host, reached over
/// https, or a URL with its scheme); else, with a region, `sts.<region>.aliyuncs.com`
/// (`sts-vpc.` with `vpc`); else `sts.aliyuncs.com` (`vpc` is ignored without a region).
///
/// ```
/// use alibabacloud_ens::credentials::sts_endpoint;
/// assert_eq!(sts_endpoint(None, None, true).unwrap().as_str(), "https://sts.aliyuncs.com/");
/// assert_eq!(
///     sts_endpoint(None, Some("cn-hangzhou"), true).unwrap().as_str(),
///     "https://sts-vpc.cn-hangzhou.aliyuncs.com/"
/// );
/// assert_eq!(
///     sts_endpoint(Some("http://127.0.0.1:8080"), Some("cn-hangzhou"), false).unwrap().as_str(),
///     "http://127.0.0.1:8080/"
/// );
/// ```
///
/// # Errors
/// A message naming what is wrong: an endpoint that is not a host or an http(s) URL with
/// nothing after its path, or a region that is not lower-case letters, digits and `-`.
pub fn sts_endpoint(
    endpoint: Option<&str>,
    region: Option<&str>,
    vpc: bool,
) -> Result<Url, String> {
    let text = match (endpoint.map(str::trim).filter(|e| !e.is_empty()), region) {
        (Some(e), _) if e.contains("://") => e.to_owned(),
        (Some(host), _) => format!("https://{host}"),
        (None, Some(region)) => {
            let region = region.trim();
            if region.is_empty()
                || !region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(format!(
                    "the STS region `{}` is not a region id",
                    crate::error::Escaped::new(region, 64)
                ));
            }
            let prefix = if vpc { "sts-vpc" } else { "sts" };
            format!("https://{prefix}.{region}.aliyuncs.com")
        }
        (None, None) => DEFAULT_STS_ENDPOINT.to_owned(),
    };
    let bad = || {
        format!(
            "the STS endpoint `{}` is not a host or an http(s) URL",
            crate::error::Escaped::new(&text, 200)
        )
    };
    let url = Url::parse(&text).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(bad());
    }
    Ok(url)
}

/// An STS answer. No `Debug`: it holds secrets.
#[derive(Default, Deserialize)]
#[serde(remote = "Self", default)]
struct StsAnswer {
    #[serde(rename = "RequestId")]
    request_id: Text,
    #[serde(rename = "Credentials")]
    credentials: Option<AnswerCredentials>,
}

object_only!(@de StsAnswer, "an STS answer");

/// Sends an STS request and reads the credentials it answers, named `provider`. `step` opens
/// every error (the source, the action, the role, the endpoint).
pub(crate) async fn call(
    sts: &Transport,
    request: &Request<'_>,
    step: &str,
    provider: Cow<'static, str>,
) -> Result<Credentials, CredentialsError> {
    let settled = sts.invoke(request).await.map_err(|e| call_error(e, step))?;
    let Outcome::Answered(answer) = settled.outcome else {
        // Only a write with a safe-write check settles without an answer.
        return Err(CredentialsError::new(format!("{step}: no answer")));
    };
    let request_id = || {
        answer
            .header_request_id
            .clone()
            .or_else(|| wire::sniff_request_id(&answer.body))
    };
    let invalid = |reason: String, id: Option<String>| {
        CredentialsError::new(format!(
            "{step}: {reason} (HTTP {}){}",
            answer.status,
            request_id_note(id.as_deref())
        ))
    };
    let decoded: StsAnswer = decode(&answer.body).map_err(|r| invalid(r, request_id()))?;
    let id = decoded
        .request_id
        .0
        .as_deref()
        .and_then(wire::request_id)
        .or_else(request_id);
    decoded
        .credentials
        .unwrap_or_default()
        .into_credentials("Credentials.", provider)
        .map_err(|r| invalid(r, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_rules() {
        let e = |endpoint, region, vpc| sts_endpoint(endpoint, region, vpc).map(String::from);
        assert_eq!(e(None, None, false).unwrap(), "https://sts.aliyuncs.com/");
        // The VPC flag needs a region.
        assert_eq!(e(None, None, true).unwrap(), "https://sts.aliyuncs.com/");
        assert_eq!(
            e(None, Some("ap-southeast-1"), false).unwrap(),
            "https://sts.ap-southeast-1.aliyuncs.com/"
        );
        assert_eq!(
            e(None, Some("cn-hangzhou"), true).unwrap(),
            "https://sts-vpc.cn-hangzhou.aliyuncs.com/"
        );
        // An explicit endpoint wins; a bare host is reached over https.
        assert_eq!(
            e(Some("sts.example.com"), Some("cn-hangzhou"), true).unwrap(),
            "https://sts.example.com/"
        );
        assert_eq!(
            e(Some("http://127.0.0.1:9/"), None, false).unwrap(),
            "http://127.0.0.1:9/"
        );
        assert_eq!(
            e(None, Some("cn-hangzhou.evil.com/x"), false).unwrap_err(),
            "the STS region `cn-hangzhou.evil.com/x` is not a region id"
        );
        for bad in ["ftp://h", "http://h/?a=1", "http://u:p@h", "https://"] {
            assert_eq!(
                e(Some(bad), None, false).unwrap_err(),
                format!("the STS endpoint `{bad}` is not a host or an http(s) URL")
            );
        }
    }

    #[test]
    fn options_resolve_from_the_environment() {
        let env = Env::injected(
            None,
            super::super::environment::tests::lookup(&[
                (ENV_STS_REGION, "cn-shanghai"),
                (ENV_VPC_ENDPOINT_ENABLED, "TRUE"),
                (ENV_ROLE_SESSION_NAME, "from-env"),
            ]),
        );
        let s = StsOptions::default().resolve(&env, "test").unwrap();
        assert_eq!(
            s.endpoint.as_str(),
            "https://sts-vpc.cn-shanghai.aliyuncs.com/"
        );
        assert_eq!(s.session_name, "from-env");
        assert_eq!(s.duration_seconds, 3600);
        let s = StsOptions {
            region: Some("cn-beijing".into()),
            vpc: Some(false),
            session_name: Some("given".into()),
            duration_seconds: Some(900),
            ..StsOptions::default()
        }
        .resolve(&env, "test")
        .unwrap();
        assert_eq!(s.endpoint.as_str(), "https://sts.cn-beijing.aliyuncs.com/");
        assert_eq!(s.session_name, "given");
        let none = Env::injected(None, super::super::environment::tests::lookup(&[]));
        let s = StsOptions::default().resolve(&none, "test").unwrap();
        assert!(
            s.session_name.starts_with("credentials-rust-"),
            "{}",
            s.session_name
        );
        let e = StsOptions {
            duration_seconds: Some(899),
            ..StsOptions::default()
        }
        .resolve(&none, "ram_role_arn")
        .err()
        .unwrap();
        assert_eq!(
            e.message,
            "ram_role_arn: the session duration 899 s is below STS's minimum of 900 s"
        );
    }
}
