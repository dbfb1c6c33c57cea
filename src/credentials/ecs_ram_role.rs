//! The RAM role of the ECS or ENS instance the program runs on, from the instance metadata
//! service.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

use super::answer::{flat_credentials, status_error, PlainHttp};
use super::environment::{Env, ENV_ECS_METADATA, ENV_ECS_METADATA_DISABLED, ENV_IMDSV1_DISABLED};
use super::refresh::RefreshingProvider;
use super::{Credentials, ProvideCredentials, ProvideCredentialsFuture};
use crate::clock::{Clock, TokioClock};
use crate::error::{CredentialsError, Escaped};
use crate::signer::percent_encode;
use crate::wire::RawAnswer;

/// The instance metadata service.
pub const DEFAULT_METADATA_ENDPOINT: &str = "http://100.100.100.200";
/// Where a session token is asked for (`PUT`).
pub const METADATA_TOKEN_PATH: &str = "/latest/api/token";
/// Where the role name is read, and (followed by it) the role's credentials.
pub const METADATA_CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";
/// The header asking for a session token of this many seconds.
pub const METADATA_TOKEN_TTL_HEADER: &str = "X-aliyun-ecs-metadata-token-ttl-seconds";
/// The header carrying the session token.
pub const METADATA_TOKEN_HEADER: &str = "X-aliyun-ecs-metadata-token";
/// The session token's lifetime asked for, in seconds (Alibaba's libraries ask for 6 hours).
const TOKEN_TTL_SECONDS: &str = "21600";
/// Alibaba's timeouts for the metadata service.
const TIMEOUT: Duration = Duration::from_secs(1);

/// Credentials of the RAM role attached to the ECS or ENS instance the program runs on, from
/// the instance metadata service, refreshed before they expire.
///
/// Each refresh:
/// 1. `PUT /latest/api/token` with `X-aliyun-ecs-metadata-token-ttl-seconds: 21600` asks for a
///    session token (IMDSv2-style; a new one at every refresh, never kept);
/// 2. unless the role name is known ([`role_name`](EcsRamRoleProviderBuilder::role_name), else
///    `ALIBABA_CLOUD_ECS_METADATA`), `GET /latest/meta-data/ram/security-credentials/` reads it
///    (again at every refresh: a role can be swapped);
/// 3. `GET /latest/meta-data/ram/security-credentials/<role>` reads the credentials
///    (`Code` must be `Success`).
///
/// The `GET`s carry the token in `X-aliyun-ecs-metadata-token`. When the token cannot be had,
/// or a `GET` with it fails, the `GET` is sent without it (IMDSv1), unless the fallback is off
/// ([`imdsv1_fallback(false)`](EcsRamRoleProviderBuilder::imdsv1_fallback), or
/// `ALIBABA_CLOUD_IMDSV1_DISABLED=true`). When the metadata service cannot be reached at all,
/// there is no fallback to try.
///
/// Connecting and each answer are limited to 1 s (Alibaba's). Requests never go through a
/// proxy. The service's address is [`DEFAULT_METADATA_ENDPOINT`] unless
/// [`endpoint`](EcsRamRoleProviderBuilder::endpoint) says otherwise (tests point it at
/// 127.0.0.1). The credentials are named `ecs_ram_role` and cached by a
/// [`RefreshingProvider`].
///
/// `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true` turns this source off: building it fails. The
/// environment is read when the provider is built.
///
/// # Errors
///
/// Every error names the metadata request (method, path, service address) and what went
/// wrong: no answer, the HTTP status, the answer's shape or `Code`. Never the token or any
/// part of an answer (a role name that fails the checks is not shown either).
///
/// ```no_run
/// use alibabacloud_ens::credentials::EcsRamRoleProvider;
/// use alibabacloud_ens::Client;
///
/// # fn run() -> Result<(), alibabacloud_ens::Error> {
/// let role = EcsRamRoleProvider::builder().role_name("failover-controller").build()?;
/// let client = Client::builder().credentials_provider(role).build()?;
/// # let _ = client; Ok(()) }
/// ```
pub struct EcsRamRoleProvider {
    cache: RefreshingProvider<InstanceMetadata>,
}

/// The fetch behind the cache: the token, the role name, the credentials.
struct InstanceMetadata {
    endpoint: Url,
    role_name: Option<String>,
    imdsv1_fallback: bool,
    http: PlainHttp,
}

impl EcsRamRoleProvider {
    /// A builder with the defaults.
    pub fn builder() -> EcsRamRoleProviderBuilder {
        EcsRamRoleProviderBuilder {
            endpoint: None,
            role_name: None,
            imdsv1_fallback: None,
            clock: None,
            connect_timeout: TIMEOUT,
            read_timeout: TIMEOUT,
            env: Env::process(),
        }
    }
}

/// Builds an [`EcsRamRoleProvider`]. Obtained from [`EcsRamRoleProvider::builder`].
#[must_use]
#[derive(Debug)]
pub struct EcsRamRoleProviderBuilder {
    endpoint: Option<String>,
    role_name: Option<String>,
    imdsv1_fallback: Option<bool>,
    clock: Option<Arc<dyn Clock>>,
    connect_timeout: Duration,
    read_timeout: Duration,
    env: Env,
}

impl EcsRamRoleProviderBuilder {
    /// The instance's RAM role (default `ALIBABA_CLOUD_ECS_METADATA`, else asked of the
    /// metadata service at every refresh).
    pub fn role_name(mut self, name: impl Into<String>) -> Self {
        self.role_name = Some(name.into());
        self
    }

    /// Whether a request may go without a session token when none can be had or one with it
    /// fails (default: yes, unless `ALIBABA_CLOUD_IMDSV1_DISABLED=true`).
    pub fn imdsv1_fallback(mut self, allowed: bool) -> Self {
        self.imdsv1_fallback = Some(allowed);
        self
    }

    /// The metadata service's base URL (default [`DEFAULT_METADATA_ENDPOINT`]), e.g.
    /// `http://127.0.0.1:8080` for a test server.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Reads time from `clock` (the answer timeout and the cache; default
    /// [`TokioClock`](crate::clock::TokioClock)).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    pub(crate) fn shared_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Limits the time to connect (default 1 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Limits the wait for each whole answer (default 1 s).
    pub fn read_timeout(mut self, d: Duration) -> Self {
        self.read_timeout = d;
        self
    }

    pub(crate) fn env(mut self, env: Env) -> Self {
        self.env = env;
        self
    }

    /// The provider. Nothing is sent until credentials are asked for.
    ///
    /// # Errors
    /// `ALIBABA_CLOUD_ECS_METADATA_DISABLED` is `true`, the endpoint is not an http(s) URL, the
    /// role name is not one, or the HTTP client cannot be created.
    pub fn build(self) -> Result<EcsRamRoleProvider, CredentialsError> {
        if self.env.flag(ENV_ECS_METADATA_DISABLED) {
            return Err(CredentialsError::new(format!(
                "ecs_ram_role: the instance metadata source is disabled by \
                 {ENV_ECS_METADATA_DISABLED}"
            )));
        }
        let text = self
            .endpoint
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .unwrap_or(DEFAULT_METADATA_ENDPOINT);
        let endpoint = Url::parse(text)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .filter(|u| u.query().is_none() && u.fragment().is_none())
            .ok_or_else(|| {
                CredentialsError::new(format!(
                    "ecs_ram_role: the metadata endpoint `{}` is not an http(s) URL",
                    Escaped::new(text, 200)
                ))
            })?;
        let role_name = match self
            .role_name
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty())
        {
            Some(r) => Some(r),
            None => self.env.var(ENV_ECS_METADATA),
        };
        if let Some(r) = &role_name {
            if !is_role_name(r) {
                return Err(CredentialsError::new(format!(
                    "ecs_ram_role: `{}` is not a RAM role name",
                    Escaped::new(r, 80)
                )));
            }
        }
        let imdsv1_fallback = self
            .imdsv1_fallback
            .unwrap_or_else(|| !self.env.flag(ENV_IMDSV1_DISABLED));
        let clock = self.clock.unwrap_or_else(|| Arc::new(TokioClock));
        let http = PlainHttp::new(self.connect_timeout, self.read_timeout, Arc::clone(&clock))?;
        let fetch = InstanceMetadata {
            endpoint,
            role_name,
            imdsv1_fallback,
            http,
        };
        Ok(EcsRamRoleProvider {
            cache: RefreshingProvider::builder(fetch)
                .shared_clock(clock)
                .build(),
        })
    }
}

/// A RAM role name: 1–64 of letters, digits, `.`, `@`, `-`, `_`.
fn is_role_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'@' | b'-' | b'_'))
}

impl InstanceMetadata {
    fn url(&self, path: &str) -> Url {
        let mut url = self.endpoint.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}{path}"));
        url
    }

    fn step(&self, method: &str, path: &str) -> String {
        let origin = self.endpoint.as_str().trim_end_matches('/');
        format!("ecs_ram_role: {method} {path} on {origin}")
    }

    /// A session token; `None` when it cannot be had and IMDSv1 is allowed.
    async fn token(&self) -> Result<Option<String>, CredentialsError> {
        let step = self.step("PUT", METADATA_TOKEN_PATH);
        let request = self
            .http
            .client()
            .put(self.url(METADATA_TOKEN_PATH))
            .header(METADATA_TOKEN_TTL_HEADER, TOKEN_TTL_SECONDS);
        let error = match self.http.send(request, &step).await {
            Ok(a) if a.status == 200 => {
                let token = String::from_utf8_lossy(&a.body).trim().to_owned();
                if !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic()) {
                    return Ok(Some(token));
                }
                CredentialsError::new(format!("{step}: the token is not visible ASCII text"))
            }
            Ok(a) => status_error(&a, &step),
            // Not there at all (or not in time): no reason to try without a token.
            Err(e) if !e.is_retryable() => return Err(e),
            Err(e) => e,
        };
        if self.imdsv1_fallback {
            tracing::debug!(error = %error, "no metadata session token; going on without one");
            Ok(None)
        } else {
            Err(error)
        }
    }

    /// `GET path`, with the token when there is one; without it once more if that fails and
    /// IMDSv1 is allowed. `read` turns a 200 answer into the result.
    async fn get<T>(
        &self,
        path: &str,
        token: Option<&str>,
        read: impl Fn(&RawAnswer, &str) -> Result<T, CredentialsError>,
    ) -> Result<T, CredentialsError> {
        let step = self.step("GET", path);
        let once = |token: Option<&str>| {
            let mut request = self.http.client().get(self.url(path));
            if let Some(t) = token {
                request = request.header(METADATA_TOKEN_HEADER, t);
            }
            let step = &step;
            let read = &read;
            async move {
                let answer = self.http.send(request, step).await?;
                if answer.status != 200 {
                    return Err(status_error(&answer, step));
                }
                read(&answer, step)
            }
        };
        match once(token).await {
            Err(e) if token.is_some() && self.imdsv1_fallback => {
                tracing::debug!(error = %e, "metadata request with a token failed; trying without");
                once(None).await
            }
            other => other,
        }
    }

    async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let token = self.token().await?;
        let role = match &self.role_name {
            Some(r) => r.clone(),
            None => {
                self.get(METADATA_CREDENTIALS_PATH, token.as_deref(), |a, step| {
                    let text = String::from_utf8_lossy(&a.body);
                    let role = text.lines().map(str::trim).find(|l| !l.is_empty());
                    match role {
                        Some(r) if is_role_name(r) => Ok(r.to_owned()),
                        Some(_) => Err(CredentialsError::new(format!(
                            "{step}: the answer is not a RAM role name"
                        ))),
                        None => Err(CredentialsError::new(format!(
                            "{step}: no RAM role is attached to the instance (empty answer)"
                        ))),
                    }
                })
                .await?
            }
        };
        let path = format!("{METADATA_CREDENTIALS_PATH}{}", percent_encode(&role));
        self.get(&path, token.as_deref(), |a, step| {
            flat_credentials(&a.body, step, "ecs_ram_role")
        })
        .await
    }
}

impl ProvideCredentials for InstanceMetadata {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        Box::pin(self.fetch())
    }
}

impl ProvideCredentials for EcsRamRoleProvider {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        self.cache.provide_credentials()
    }
}

impl fmt::Debug for InstanceMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcsRamRoleProvider")
            .field("endpoint", &self.endpoint.as_str())
            .field("role_name", &self.role_name)
            .field("imdsv1_fallback", &self.imdsv1_fallback)
            .finish()
    }
}

impl fmt::Debug for EcsRamRoleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.cache.source(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::credentials::environment::tests::{assert_no_secret, lookup};
    use crate::credentials::test_server::{
        flat_reply, metadata, secret_of, token_of, Answer, Seen, TestServer, METADATA_TOKEN,
    };

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::injected(None, lookup(pairs))
    }

    fn provider(url: &str, clock: &ManualClock) -> EcsRamRoleProviderBuilder {
        EcsRamRoleProvider::builder()
            .endpoint(url)
            .clock(clock.clone())
            .env(env(&[]))
    }

    /// (method, path, token header) of every request.
    fn trail(server: &TestServer) -> Vec<(String, String, Option<String>)> {
        server
            .seen()
            .iter()
            .map(|r| {
                (
                    r.method.clone(),
                    r.path.clone(),
                    r.header("x-aliyun-ecs-metadata-token").map(str::to_owned),
                )
            })
            .collect()
    }

    fn step(method: &str, path: &str) -> (String, String, Option<String>) {
        let token = (method == "GET").then(|| METADATA_TOKEN.to_owned());
        (method.to_owned(), path.to_owned(), token)
    }

    #[tokio::test]
    async fn token_first_then_the_role_then_its_credentials_at_every_refresh() {
        let server = TestServer::start(metadata("failover", "STS.ecs")).await;
        let clock = ManualClock::new();
        let p = provider(&server.url, &clock).build().unwrap();
        let c = p.provide_credentials().await.unwrap();
        assert_eq!(c.access_key_id(), "STS.ecs");
        assert_eq!(c.access_key_secret(), secret_of("STS.ecs"));
        assert_eq!(c.security_token(), Some(token_of("STS.ecs").as_str()));
        assert_eq!(c.provider_name(), Some("ecs_ram_role"));
        let refresh = [
            step("PUT", "/latest/api/token"),
            step("GET", "/latest/meta-data/ram/security-credentials/"),
            step("GET", "/latest/meta-data/ram/security-credentials/failover"),
        ];
        assert_eq!(trail(&server), refresh);
        let put = &server.seen()[0];
        assert_eq!(
            put.header("x-aliyun-ecs-metadata-token-ttl-seconds"),
            Some("21600")
        );
        // Cached: nothing asked until the refresh window, then all three again (a new token,
        // the role asked again).
        p.provide_credentials().await.unwrap();
        assert_eq!(server.seen().len(), 3);
        clock.advance(Duration::from_secs(6 * 3600 - 5));
        p.provide_credentials().await.unwrap();
        assert_eq!(trail(&server), [&refresh[..], &refresh[..]].concat());
    }

    #[tokio::test]
    async fn without_a_token_imdsv1_unless_forbidden() {
        // A service that has no token flow (IMDSv1 only).
        let v1_only = |r: &Seen| {
            if r.method == "PUT" {
                return Answer::Reply(404, String::new());
            }
            match r.path.as_str() {
                "/latest/meta-data/ram/security-credentials/" => {
                    Answer::Reply(200, "failover".into())
                }
                "/latest/meta-data/ram/security-credentials/failover" => {
                    flat_reply("STS.v1", Duration::from_secs(3600))
                }
                _ => Answer::Reply(404, String::new()),
            }
        };
        let server = TestServer::start(v1_only).await;
        let clock = ManualClock::new();
        let c = provider(&server.url, &clock).build().unwrap();
        assert_eq!(
            c.provide_credentials().await.unwrap().access_key_id(),
            "STS.v1"
        );
        assert!(trail(&server)[1..]
            .iter()
            .all(|(_, _, token)| token.is_none()));
        // Forbidden by the builder, or by the variable.
        for p in [
            provider(&server.url, &clock).imdsv1_fallback(false),
            provider(&server.url, &clock).env(env(&[(ENV_IMDSV1_DISABLED, "True")])),
        ] {
            let e = p.build().unwrap().provide_credentials().await.unwrap_err();
            assert_eq!(
                e.message,
                format!(
                    "ecs_ram_role: PUT /latest/api/token on {}: answered HTTP 404",
                    server.url
                )
            );
        }
    }

    #[tokio::test]
    async fn a_get_with_the_token_that_fails_is_sent_once_more_without_it() {
        let server = TestServer::start(|r: &Seen| {
            let token = r.header("x-aliyun-ecs-metadata-token").is_some();
            match (r.method.as_str(), token) {
                ("PUT", _) => Answer::Reply(200, METADATA_TOKEN.into()),
                (_, true) => Answer::Reply(500, String::new()),
                (_, false) => flat_reply("STS.v1", Duration::from_secs(3600)),
            }
        })
        .await;
        let p = EcsRamRoleProvider::builder()
            .endpoint(&server.url)
            .role_name("failover")
            .clock(ManualClock::new())
            .env(env(&[]))
            .build()
            .unwrap();
        assert_eq!(
            p.provide_credentials().await.unwrap().access_key_id(),
            "STS.v1"
        );
        let path = "/latest/meta-data/ram/security-credentials/failover";
        assert_eq!(
            trail(&server),
            [
                step("PUT", "/latest/api/token"),
                step("GET", path),
                ("GET".into(), path.into(), None)
            ]
        );
    }

    #[tokio::test]
    async fn errors_name_the_request_never_the_answer() {
        let server = TestServer::start(|r: &Seen| match r.path.as_str() {
            "/latest/api/token" => Answer::Reply(200, METADATA_TOKEN.into()),
            "/latest/meta-data/ram/security-credentials/" => {
                Answer::Reply(200, "evil/../role SeCrEt".into())
            }
            _ => Answer::Reply(
                200,
                r#"{"Code":"Failed\n","AccessKeySecret":"SeCrEt"}"#.into(),
            ),
        })
        .await;
        let clock = ManualClock::new();
        let e = provider(&server.url, &clock)
            .build()
            .unwrap()
            .provide_credentials()
            .await
            .unwrap_err();
        assert_no_secret(&e, &["SeCrEt", "evil"]);
        assert_eq!(
            e.message,
            format!(
                "ecs_ram_role: GET /latest/meta-data/ram/security-credentials/ on {}: the \
                 answer is not a RAM role name",
                server.url
            )
        );
        let e = provider(&server.url, &clock)
            .role_name("failover")
            .imdsv1_fallback(false)
            .build()
            .unwrap()
            .provide_credentials()
            .await
            .unwrap_err();
        assert_no_secret(&e, &["SeCrEt"]);
        assert_eq!(
            e.message,
            format!(
                "ecs_ram_role: GET /latest/meta-data/ram/security-credentials/failover on {}: \
                 the answer's `Code` is `Failed\\n`, not `Success`",
                server.url
            )
        );
    }

    #[tokio::test]
    async fn one_second_limits_on_the_clock_and_no_retry_when_nothing_listens() {
        let server = TestServer::start(|_: &Seen| Answer::Hang(Duration::from_secs(30))).await;
        let clock = ManualClock::new();
        let p = provider(&server.url, &clock)
            .imdsv1_fallback(false)
            .build()
            .unwrap();
        let call = tokio::spawn(async move { p.provide_credentials().await });
        while clock.pending_timers() == 0 || server.seen().is_empty() {
            tokio::task::yield_now().await;
        }
        clock.advance(Duration::from_secs(1));
        // A timeout may pass: tried three times in all, each limited on the clock.
        for n in 2..=3 {
            while clock.pending_timers() == 0 || server.seen().len() < n {
                tokio::task::yield_now().await;
            }
            clock.advance(Duration::from_secs(1));
        }
        let e = call.await.unwrap().unwrap_err();
        assert_eq!(
            e.message,
            format!(
                "ecs_ram_role: PUT /latest/api/token on {}: no answer within 1s",
                server.url
            )
        );
        // Nothing listening: one attempt, no IMDSv1 fallback to try.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", l.local_addr().unwrap())
        };
        let e = provider(&closed, &clock)
            .build()
            .unwrap()
            .provide_credentials()
            .await
            .unwrap_err();
        assert_eq!(
            e.message,
            format!("ecs_ram_role: PUT /latest/api/token on {closed}: cannot connect")
        );
        assert!(!e.is_retryable());
    }

    #[test]
    fn build_rules_and_exact_debug() {
        let e = EcsRamRoleProvider::builder()
            .env(env(&[(ENV_ECS_METADATA_DISABLED, "TRUE")]))
            .build()
            .err()
            .unwrap();
        assert_eq!(
            e.message,
            "ecs_ram_role: the instance metadata source is disabled by \
             ALIBABA_CLOUD_ECS_METADATA_DISABLED"
        );
        let e = EcsRamRoleProvider::builder()
            .role_name("a/b")
            .env(env(&[]))
            .build()
            .err()
            .unwrap();
        assert_eq!(e.message, "ecs_ram_role: `a/b` is not a RAM role name");
        let e = EcsRamRoleProvider::builder()
            .endpoint("100.100.100.200")
            .env(env(&[]))
            .build()
            .err()
            .unwrap();
        assert_eq!(
            e.message,
            "ecs_ram_role: the metadata endpoint `100.100.100.200` is not an http(s) URL"
        );
        let p = EcsRamRoleProvider::builder()
            .env(env(&[
                (ENV_ECS_METADATA, "failover"),
                (ENV_IMDSV1_DISABLED, "true"),
            ]))
            .build()
            .unwrap();
        assert_eq!(
            format!("{p:?}"),
            "EcsRamRoleProvider { endpoint: \"http://100.100.100.200/\", role_name: \
             Some(\"failover\"), imdsv1_fallback: false }"
        );
    }
}
