//! Credentials served by a local HTTP endpoint (`ALIBABA_CLOUD_CREDENTIALS_URI`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

use super::answer::{flat_credentials, status_error, PlainHttp};
use super::environment::{Env, ENV_CREDENTIALS_URI};
use super::refresh::RefreshingProvider;
use super::{Credentials, ProvideCredentials, ProvideCredentialsFuture};
use crate::clock::{Clock, TokioClock};
use crate::error::{CredentialsError, Escaped};

/// Alibaba's timeouts for a credentials URI.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Credentials served by an HTTP endpoint of your own (a sidecar, an agent), refreshed before
/// they expire: what `ALIBABA_CLOUD_CREDENTIALS_URI` names.
///
/// A `GET` of the URI (no signature, no proxy) must answer 200 with a flat JSON object:
///
/// ```json
/// {"Code": "Success", "AccessKeyId": "STS.…", "AccessKeySecret": "…",
///  "SecurityToken": "…", "Expiration": "2030-01-02T03:04:05Z"}
/// ```
///
/// `Expiration` may be any RFC 3339 time. Timeouts are 5 s to connect and 10 s for the answer
/// (Alibaba's). The credentials are named `credential_uri` (Alibaba's spelling) and cached by
/// a [`RefreshingProvider`].
///
/// # Errors
///
/// Every error names the URI without its query (which may hold a key) and what went wrong: no
/// answer, the HTTP status, the answer's shape or `Code`. Never a value from the answer.
///
/// ```no_run
/// use alibabacloud_ens::credentials::CredentialsUriProvider;
/// # fn run() -> Result<(), alibabacloud_ens::error::CredentialsError> {
/// let provider = CredentialsUriProvider::builder("http://127.0.0.1:8900/credentials").build()?;
/// # let _ = provider; Ok(()) }
/// ```
pub struct CredentialsUriProvider {
    cache: RefreshingProvider<UriFetch>,
}

/// The fetch behind the cache: one `GET`.
struct UriFetch {
    uri: Url,
    http: PlainHttp,
}

impl CredentialsUriProvider {
    /// A builder for `uri`.
    pub fn builder(uri: impl Into<String>) -> CredentialsUriProviderBuilder {
        CredentialsUriProviderBuilder {
            uri: uri.into(),
            clock: None,
            connect_timeout: CONNECT_TIMEOUT,
            read_timeout: READ_TIMEOUT,
        }
    }

    /// The provider for the URI in `ALIBABA_CLOUD_CREDENTIALS_URI`.
    ///
    /// # Errors
    /// The variable is unset or blank, or see [`CredentialsUriProviderBuilder::build`].
    pub fn from_env() -> Result<Self, CredentialsError> {
        Self::builder_from_env(&Env::process())?.build()
    }

    pub(crate) fn builder_from_env(
        env: &Env,
    ) -> Result<CredentialsUriProviderBuilder, CredentialsError> {
        env.var(ENV_CREDENTIALS_URI)
            .map(Self::builder)
            .ok_or_else(|| {
                CredentialsError::new(format!("credential_uri: {ENV_CREDENTIALS_URI} is not set"))
            })
    }
}

/// Builds a [`CredentialsUriProvider`]. Obtained from [`CredentialsUriProvider::builder`].
#[must_use]
pub struct CredentialsUriProviderBuilder {
    uri: String,
    clock: Option<Arc<dyn Clock>>,
    connect_timeout: Duration,
    read_timeout: Duration,
}

impl CredentialsUriProviderBuilder {
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

    /// Limits the time to connect (default 5 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Limits the wait for the whole answer (default 10 s).
    pub fn read_timeout(mut self, d: Duration) -> Self {
        self.read_timeout = d;
        self
    }

    /// The provider. Nothing is sent until credentials are asked for.
    ///
    /// # Errors
    /// The URI is not an http(s) URL, or the HTTP client cannot be created.
    pub fn build(self) -> Result<CredentialsUriProvider, CredentialsError> {
        let uri = Url::parse(self.uri.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| {
                CredentialsError::new(format!(
                    "credential_uri: `{}` is not an http(s) URL",
                    Escaped::new(&shown(&self.uri), 200)
                ))
            })?;
        let clock = self.clock.unwrap_or_else(|| Arc::new(TokioClock));
        let http = PlainHttp::new(self.connect_timeout, self.read_timeout, Arc::clone(&clock))?;
        Ok(CredentialsUriProvider {
            cache: RefreshingProvider::builder(UriFetch { uri, http })
                .shared_clock(clock)
                .build(),
        })
    }
}

/// The URI as shown: without its query and fragment (they may hold a key) and user info.
fn shown(uri: &str) -> String {
    let end = uri.find(['?', '#']).unwrap_or(uri.len());
    let uri = uri[..end].trim();
    match (uri.find("://"), uri.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}{}", &uri[..s + 3], &uri[at + 1..]),
        _ => uri.to_owned(),
    }
}

fn shown_url(uri: &Url) -> String {
    let mut u = uri.clone();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

impl UriFetch {
    async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let step = format!("credential_uri: GET {}", shown_url(&self.uri));
        let answer = self
            .http
            .send(self.http.client().get(self.uri.clone()), &step)
            .await?;
        if answer.status != 200 {
            return Err(status_error(&answer, &step));
        }
        flat_credentials(&answer.body, &step, "credential_uri")
    }
}

impl ProvideCredentials for UriFetch {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        Box::pin(self.fetch())
    }
}

impl ProvideCredentials for CredentialsUriProvider {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        self.cache.provide_credentials()
    }
}

impl fmt::Debug for UriFetch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsUriProvider")
            .field("uri", &shown_url(&self.uri))
            .finish()
    }
}

impl fmt::Debug for CredentialsUriProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.cache.source(), f)
    }
}

impl fmt::Debug for CredentialsUriProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsUriProviderBuilder")
            .field("uri", &shown(&self.uri))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::credentials::environment::tests::{assert_no_secret, lookup};
    use crate::credentials::test_server::{flat_reply, Answer, Seen, TestServer};

    #[tokio::test]
    async fn a_get_of_the_uri_and_a_flat_answer() {
        let server = TestServer::start(|r: &Seen| match r.param("role") {
            Some("ok") => flat_reply("STS.uri", Duration::from_secs(3600)),
            Some("code") => Answer::Reply(
                200,
                r#"{"Code":"Expired","AccessKeySecret":"SeCrEt"}"#.into(),
            ),
            _ => Answer::Reply(503, "SeCrEt".into()),
        })
        .await;
        let p = |q: &str| {
            CredentialsUriProvider::builder(format!("{}/creds?role={q}&key=KeYiNqUeRy", server.url))
                .clock(ManualClock::new())
                .build()
                .unwrap()
        };
        let c = p("ok").provide_credentials().await.unwrap();
        assert_eq!(c.access_key_id(), "STS.uri");
        assert_eq!(c.provider_name(), Some("credential_uri"));
        let r = &server.seen()[0];
        assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/creds"));
        assert_eq!(r.param("key"), Some("KeYiNqUeRy"));
        let e = p("code").provide_credentials().await.unwrap_err();
        assert_no_secret(&e, &["SeCrEt", "KeYiNqUeRy"]);
        assert_eq!(
            e.message,
            format!(
                "credential_uri: GET {}/creds: the answer's `Code` is `Expired`, not `Success`",
                server.url
            )
        );
        let before = server.seen().len();
        let e = p("down").provide_credentials().await.unwrap_err();
        assert_no_secret(&e, &["SeCrEt", "KeYiNqUeRy"]);
        assert_eq!(
            e.message,
            format!(
                "credential_uri: GET {}/creds: answered HTTP 503",
                server.url
            )
        );
        assert_eq!(
            server.seen().len() - before,
            3,
            "a 503 may pass: three attempts"
        );
        let d = format!("{:?}", p("ok"));
        assert_eq!(
            d,
            format!("CredentialsUriProvider {{ uri: \"{}/creds\" }}", server.url)
        );
    }

    #[test]
    fn from_env_and_bad_uris() {
        let env = Env::injected(None, lookup(&[]));
        assert_eq!(
            CredentialsUriProvider::builder_from_env(&env)
                .err()
                .unwrap()
                .message,
            "credential_uri: ALIBABA_CLOUD_CREDENTIALS_URI is not set"
        );
        let e = CredentialsUriProvider::builder("ftp://host/x?token=SeCrEt")
            .build()
            .err()
            .unwrap();
        assert_eq!(
            e.message,
            "credential_uri: `ftp://host/x` is not an http(s) URL"
        );
        let b = CredentialsUriProvider::builder("http://user:SeCrEt@host/x?token=SeCrEt");
        assert_eq!(
            format!("{b:?}"),
            "CredentialsUriProviderBuilder { uri: \"http://host/x\", .. }"
        );
    }
}
