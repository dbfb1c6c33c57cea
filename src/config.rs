//! Client configuration: [`ClientBuilder`] and endpoint resolution.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

use crate::clock::{Clock, TokioClock};
use crate::credentials::{Credentials, ProvideCredentials};
use crate::retry::RetryConfig;
use crate::signer::SignatureVersion;
use crate::{Client, Error};

/// The default endpoint, serving every mainland China region.
pub const DEFAULT_ENDPOINT: &str = "https://ens.aliyuncs.com";

/// Region ids that Alibaba's own client maps to [`DEFAULT_ENDPOINT`].
pub const MAINLAND_REGIONS: &[&str] = &[
    "cn-beijing",
    "cn-chengdu",
    "cn-hangzhou",
    "cn-heyuan",
    "cn-shanghai",
    "cn-wulanchabu",
    "cn-zhangjiakou",
];

/// The default connect timeout (as Alibaba's SDKs): 5 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The default read timeout (as Alibaba's SDKs): 10 s.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The endpoint for a region id: `https://ens.aliyuncs.com` for the mainland regions in
/// [`MAINLAND_REGIONS`], otherwise `https://ens.<region>.aliyuncs.com`.
///
/// ```
/// use alibabacloud_ens::config::endpoint_for_region;
/// assert_eq!(endpoint_for_region("cn-hangzhou").unwrap(), "https://ens.aliyuncs.com");
/// assert_eq!(endpoint_for_region("ap-southeast-1").unwrap(), "https://ens.ap-southeast-1.aliyuncs.com");
/// assert!(endpoint_for_region("bad region").is_err());
/// ```
///
/// # Errors
/// When `region` is blank or holds characters other than lower-case letters, digits and `-`.
pub fn endpoint_for_region(region: &str) -> Result<String, Error> {
    let r = region.trim();
    if r.is_empty() {
        return Err(Error::invalid_input("region", "must not be blank"));
    }
    if r.len() > 64
        || !r
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        || r.starts_with('-')
        || r.ends_with('-')
    {
        return Err(Error::invalid_input(
            "region",
            format!("`{region}` is not a region id (expected something like `cn-hangzhou`)"),
        ));
    }
    if MAINLAND_REGIONS.contains(&r) {
        Ok(DEFAULT_ENDPOINT.to_owned())
    } else {
        Ok(format!("https://ens.{r}.aliyuncs.com"))
    }
}

/// Parses and checks an endpoint URL. A bare host (`ens.aliyuncs.com`) means HTTPS.
pub(crate) fn parse_endpoint(endpoint: &str) -> Result<Url, Error> {
    let e = endpoint.trim();
    if e.is_empty() {
        return Err(Error::invalid_input("endpoint", "must not be blank"));
    }
    let with_scheme = if e.contains("://") {
        e.to_owned()
    } else {
        format!("https://{e}")
    };
    let url = Url::parse(&with_scheme).map_err(|err| {
        Error::invalid_input("endpoint", format!("`{endpoint}` is not a URL: {err}"))
    })?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(Error::invalid_input(
            "endpoint",
            format!("`{endpoint}` must use http or https"),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid_input(
            "endpoint",
            format!("`{endpoint}` has no host"),
        ));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid_input(
            "endpoint",
            format!("`{endpoint}` must have no path, query or fragment"),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_input(
            "endpoint",
            "must not hold a user name or password",
        ));
    }
    Ok(url)
}

/// The `host` header value for `url`: host, plus `:port` when the port is not the default.
pub(crate) fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    }
}

/// Builds a [`Client`].
///
/// ```
/// use alibabacloud_ens::{Client, Credentials, SignatureVersion};
/// use std::time::Duration;
///
/// let client = Client::builder()
///     .credentials(Credentials::new("LTAI5tExample", "secret"))
///     .region("ap-southeast-1")
///     .signature_version(SignatureVersion::V3)
///     .connect_timeout(Duration::from_secs(3))
///     .user_agent_suffix("failover-controller/2.1")
///     .build()?;
/// assert_eq!(client.endpoint(), "https://ens.ap-southeast-1.aliyuncs.com/");
/// # Ok::<(), alibabacloud_ens::Error>(())
/// ```
#[must_use]
pub struct ClientBuilder {
    credentials: Option<Arc<dyn ProvideCredentials>>,
    endpoint: Option<String>,
    region: Option<String>,
    signature_version: SignatureVersion,
    connect_timeout: Duration,
    read_timeout: Duration,
    attempt_timeout: Option<Duration>,
    operation_timeout: Option<Duration>,
    user_agent_suffix: Option<String>,
    retry: RetryConfig,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("credentials", &self.credentials)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("signature_version", &self.signature_version)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("operation_timeout", &self.operation_timeout)
            .field("user_agent_suffix", &self.user_agent_suffix)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            credentials: None,
            endpoint: None,
            region: None,
            signature_version: SignatureVersion::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            attempt_timeout: None,
            operation_timeout: None,
            user_agent_suffix: None,
            retry: RetryConfig::standard(),
            clock: Arc::new(TokioClock),
        }
    }
}

impl ClientBuilder {
    /// A builder with the defaults: endpoint [`DEFAULT_ENDPOINT`], signature V1, connect timeout
    /// 5 s, read timeout 10 s, standard retries, no credentials.
    pub fn new() -> Self {
        Self::default()
    }

    /// Signs with these credentials.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(Arc::new(credentials));
        self
    }

    /// Asks `provider` for credentials before every attempt (for credentials that refresh).
    pub fn credentials_provider(mut self, provider: impl ProvideCredentials + 'static) -> Self {
        self.credentials = Some(Arc::new(provider));
        self
    }

    /// Sends requests to `endpoint`, e.g. `https://ens.aliyuncs.com` or `http://127.0.0.1:8080`.
    /// An explicit endpoint wins over [`region`](Self::region).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Chooses the endpoint from a region id (see [`endpoint_for_region`]).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Chooses the signature scheme (default [`SignatureVersion::V1`]).
    pub fn signature_version(mut self, version: SignatureVersion) -> Self {
        self.signature_version = version;
        self
    }

    /// Limits the time to establish a connection (default 5 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Limits the wait for the whole answer of one attempt, counted from its start (default
    /// 10 s). The answers of this API are small, so this is Alibaba's read timeout in practice;
    /// one timer per attempt enforces it (with [`attempt_timeout`](Self::attempt_timeout),
    /// whichever is shorter).
    pub fn read_timeout(mut self, d: Duration) -> Self {
        self.read_timeout = d;
        self
    }

    /// Limits each attempt, connecting included, to the end of the answer (default: none
    /// beyond the connect and read timeouts).
    pub fn attempt_timeout(mut self, d: Duration) -> Self {
        self.attempt_timeout = Some(d);
        self
    }

    /// Limits each operation, all its attempts and backoff included (default: none).
    pub fn operation_timeout(mut self, d: Duration) -> Self {
        self.operation_timeout = Some(d);
        self
    }

    /// Appends `suffix` to the `User-Agent` header (e.g. your service's name and version).
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Sets the retry policy (default [`RetryConfig::standard`]).
    pub fn retry_config(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Replaces the clock used for timestamps, retry backoff and waiters (tests use
    /// [`ManualClock`](crate::clock::ManualClock)).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Credentials`] when no credentials were given; [`Error::InvalidInput`] for a bad
    /// endpoint, region or user agent suffix; [`Error::Transport`] if the HTTP client cannot be
    /// created.
    pub fn build(self) -> Result<Client, Error> {
        let credentials = self.credentials.ok_or_else(|| {
            Error::Credentials(crate::error::CredentialsError::new(
                "no credentials: pass them to ClientBuilder::credentials or \
                 credentials_provider, or use Client::from_env",
            ))
        })?;
        let endpoint = match (&self.endpoint, &self.region) {
            (Some(e), _) => parse_endpoint(e)?,
            (None, Some(r)) => parse_endpoint(&endpoint_for_region(r)?)?,
            (None, None) => parse_endpoint(DEFAULT_ENDPOINT)?,
        };
        let mut user_agent = format!(
            "alibabacloud-ens-rust/{} ({})",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS
        );
        if let Some(s) = &self.user_agent_suffix {
            if s.chars().any(|c| c.is_control()) {
                return Err(Error::invalid_input(
                    "user_agent_suffix",
                    "must not contain control characters",
                ));
            }
            if !s.trim().is_empty() {
                user_agent.push(' ');
                user_agent.push_str(s.trim());
            }
        }
        for (name, d) in [
            ("connect_timeout", Some(self.connect_timeout)),
            ("read_timeout", Some(self.read_timeout)),
            ("attempt_timeout", self.attempt_timeout),
            ("operation_timeout", self.operation_timeout),
        ] {
            if d == Some(Duration::ZERO) {
                return Err(Error::invalid_input(name, "must be greater than zero"));
            }
        }
        let http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            // Never follow redirects: a signed request (with, for STS, its token in the query)
            // must not be replayed to another host. A 3xx is reported as an undecodable answer.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(user_agent)
            .pool_idle_timeout(Duration::from_secs(50))
            .build()
            .map_err(|e| {
                Error::Transport(crate::error::TransportError {
                    action: "build client".into(),
                    kind: crate::error::TransportErrorKind::Other,
                    message: e.to_string(),
                    attempts: 0,
                    source: Some(Box::new(e)),
                })
            })?;
        Ok(Client::from_parts(crate::client::ClientConfig {
            http,
            host: host_header(&endpoint),
            endpoint,
            credentials,
            signature_version: self.signature_version,
            connect_timeout: self.connect_timeout,
            read_timeout: self.read_timeout,
            attempt_timeout: self.attempt_timeout,
            operation_timeout: self.operation_timeout,
            retry: self.retry,
            clock: self.clock,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_rule() {
        for r in MAINLAND_REGIONS {
            assert_eq!(endpoint_for_region(r).unwrap(), DEFAULT_ENDPOINT);
        }
        assert_eq!(
            endpoint_for_region("cn-guangzhou").unwrap(),
            "https://ens.cn-guangzhou.aliyuncs.com"
        );
        for bad in [
            "",
            " ",
            "CN-HANGZHOU",
            "cn hangzhou",
            "cn-hangzhou/x",
            "-cn",
            "é",
        ] {
            let e = endpoint_for_region(bad).unwrap_err().to_string();
            assert!(e.contains("region"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn endpoints_parse_and_keep_ports() {
        let u = parse_endpoint("http://127.0.0.1:8080").unwrap();
        assert_eq!(host_header(&u), "127.0.0.1:8080");
        let u = parse_endpoint("ens.aliyuncs.com").unwrap();
        assert_eq!(u.as_str(), "https://ens.aliyuncs.com/");
        assert_eq!(host_header(&u), "ens.aliyuncs.com");
        let u = parse_endpoint("https://ens.aliyuncs.com:443/").unwrap();
        assert_eq!(host_header(&u), "ens.aliyuncs.com");
        let u = parse_endpoint("http://[::1]:9000").unwrap();
        assert_eq!(host_header(&u), "[::1]:9000");
        for bad in [
            "",
            "ftp://x",
            "http://",
            "http://h/path",
            "http://h/?a=b",
            "http://u:p@h",
            "::",
        ] {
            let e = parse_endpoint(bad).unwrap_err().to_string();
            assert!(e.contains("endpoint"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn build_without_credentials_is_an_error() {
        let e = ClientBuilder::new().build().unwrap_err();
        assert!(matches!(e, Error::Credentials(_)));
        assert!(e.to_string().contains("no credentials"));
    }

    #[test]
    fn explicit_endpoint_wins_over_region() {
        let c = ClientBuilder::new()
            .credentials(Credentials::new("id", "secret"))
            .region("ap-southeast-1")
            .endpoint("http://127.0.0.1:1")
            .build()
            .unwrap();
        assert_eq!(c.endpoint(), "http://127.0.0.1:1/");
    }

    #[test]
    fn builder_debug_has_no_secret() {
        let b = ClientBuilder::new()
            .credentials(Credentials::with_security_token("id", "SEKRIT", "TOKN"));
        let d = format!("{b:?}");
        assert!(!d.contains("SEKRIT") && !d.contains("TOKN"), "{d}");
    }
}
