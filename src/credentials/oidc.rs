//! A RAM role assumed with STS `AssumeRoleWithOIDC`: RRSA on Kubernetes (ACK).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use reqwest::{Method, Url};

use super::environment::{Env, ENV_OIDC_PROVIDER_ARN, ENV_OIDC_TOKEN_FILE, ENV_ROLE_ARN};
use super::refresh::RefreshingProvider;
use super::sts::{self, StsOptions, STS_API_VERSION};
use super::{Credentials, ProvideCredentials, ProvideCredentialsFuture};
use crate::error::CredentialsError;
use crate::transport::Transport;

/// Credentials of a RAM role assumed with an OIDC token (STS `AssumeRoleWithOIDC`): what a pod
/// on ACK with RRSA uses. Refreshed before they expire.
///
/// In a pod, Kubernetes sets `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` and
/// `ALIBABA_CLOUD_OIDC_TOKEN_FILE` ([`from_env`](Self::from_env) reads them; the default chain
/// uses this source when all three are set), and rotates the token in that file: **the file is
/// read again at every refresh**, never kept. Surrounding whitespace (a trailing newline) is
/// removed from the token; a JWT contains none.
///
/// The request is unsigned (the token is the proof): a `POST` with `Action`, `Format`,
/// `Version` and `Timestamp` in the query and `RoleArn`, `OIDCProviderArn`, `OIDCToken`,
/// `RoleSessionName`, `DurationSeconds` and, when set, `Policy` in an
/// `application/x-www-form-urlencoded` body, as Alibaba's Go library sends it (Python's puts
/// everything in a `GET` query, where a long token may not fit). It goes through the same
/// transport as every ENS call (one attempt: the cache retries), with its own time limits.
///
/// Session name, duration, endpoint, timeouts and caching follow the same rules as
/// [`RamRoleArnProvider`](super::RamRoleArnProvider); the credentials are named
/// `oidc_role_arn`. The environment is read when the provider is built.
///
/// # Errors
///
/// Every error names the role and the endpoint, and the step: the token file (its path; the
/// I/O error is the source), the exchange, STS's error answer (the
/// [`ServiceError`](crate::ServiceError), with its code and request id, is the source) or its
/// answer's shape. Never the token, a secret or a value from the answer.
///
/// ```no_run
/// use alibabacloud_ens::credentials::OidcRoleArnProvider;
/// use alibabacloud_ens::Client;
///
/// # fn run() -> Result<(), alibabacloud_ens::Error> {
/// let client = Client::builder()
///     .credentials_provider(OidcRoleArnProvider::from_env()?)
///     .build()?;
/// # let _ = client; Ok(()) }
/// ```
pub struct OidcRoleArnProvider {
    cache: RefreshingProvider<AssumeRoleWithOidc>,
}

/// The fetch behind the cache: one `AssumeRoleWithOIDC` call.
struct AssumeRoleWithOidc {
    role_arn: String,
    oidc_provider_arn: String,
    token_file: PathBuf,
    session_name: String,
    duration_seconds: u64,
    policy: Option<String>,
    endpoint: Url,
    /// The STS, for anonymous calls.
    sts: Transport,
}

impl OidcRoleArnProvider {
    /// A builder assuming `role_arn` with the OIDC provider `oidc_provider_arn`
    /// (`acs:ram::<account>:oidc-provider/<name>`) and the token in `token_file`.
    pub fn builder(
        role_arn: impl Into<String>,
        oidc_provider_arn: impl Into<String>,
        token_file: impl Into<PathBuf>,
    ) -> OidcRoleArnProviderBuilder {
        OidcRoleArnProviderBuilder {
            role_arn: role_arn.into(),
            oidc_provider_arn: oidc_provider_arn.into(),
            token_file: token_file.into(),
            sts: StsOptions::default(),
            env: Env::process(),
        }
    }

    /// The provider from `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` and
    /// `ALIBABA_CLOUD_OIDC_TOKEN_FILE` (and the variables every STS source reads).
    ///
    /// # Errors
    /// A variable unset or blank (the error names it), or see
    /// [`OidcRoleArnProviderBuilder::build`].
    pub fn from_env() -> Result<Self, CredentialsError> {
        Self::builder_from_env(Env::process())?.build()
    }

    pub(crate) fn builder_from_env(
        env: Env,
    ) -> Result<OidcRoleArnProviderBuilder, CredentialsError> {
        let need = |name: &str| {
            env.var(name)
                .ok_or_else(|| CredentialsError::new(format!("oidc_role_arn: {name} is not set")))
        };
        let role_arn = need(ENV_ROLE_ARN)?;
        let provider_arn = need(ENV_OIDC_PROVIDER_ARN)?;
        let token_file = env.path(ENV_OIDC_TOKEN_FILE).ok_or_else(|| {
            CredentialsError::new(format!("oidc_role_arn: {ENV_OIDC_TOKEN_FILE} is not set"))
        })?;
        Ok(Self::builder(role_arn, provider_arn, token_file).env(env))
    }
}

/// Builds an [`OidcRoleArnProvider`]. Obtained from [`OidcRoleArnProvider::builder`].
#[must_use]
#[derive(Debug)]
pub struct OidcRoleArnProviderBuilder {
    role_arn: String,
    oidc_provider_arn: String,
    token_file: PathBuf,
    sts: StsOptions,
    env: Env,
}

impl OidcRoleArnProviderBuilder {
    sts::sts_builder_methods!();

    /// The provider. Nothing is read or sent until credentials are asked for.
    ///
    /// # Errors
    /// An empty role or provider ARN or token file path, a duration below 900 s, a malformed
    /// endpoint or region, or an HTTP client that cannot be created.
    pub fn build(self) -> Result<OidcRoleArnProvider, CredentialsError> {
        let role_arn = self.role_arn.trim().to_owned();
        let oidc_provider_arn = self.oidc_provider_arn.trim().to_owned();
        for (value, what) in [
            (&role_arn, "role ARN"),
            (&oidc_provider_arn, "OIDC provider ARN"),
        ] {
            if value.is_empty() {
                return Err(CredentialsError::new(format!(
                    "oidc_role_arn: the {what} is empty"
                )));
            }
        }
        if self.token_file.as_os_str().is_empty() {
            return Err(CredentialsError::new(
                "oidc_role_arn: the OIDC token file path is empty",
            ));
        }
        let session = self.sts.resolve(&self.env, "oidc_role_arn")?;
        let sts = session.transport(None);
        let clock = Arc::clone(&session.clock);
        let fetch = AssumeRoleWithOidc {
            role_arn,
            oidc_provider_arn,
            token_file: self.token_file,
            session_name: session.session_name,
            duration_seconds: session.duration_seconds,
            policy: session.policy,
            endpoint: session.endpoint,
            sts,
        };
        Ok(OidcRoleArnProvider {
            cache: RefreshingProvider::builder(fetch)
                .shared_clock(clock)
                .build(),
        })
    }
}

impl AssumeRoleWithOidc {
    /// The token, read now (Kubernetes rotates the file).
    fn token(&self) -> Result<String, CredentialsError> {
        let shown = self.token_file.display();
        let bytes = std::fs::read(&self.token_file).map_err(|e| {
            CredentialsError::new(format!(
                "oidc_role_arn: cannot read the OIDC token file {shown}"
            ))
            .with_source(e)
        })?;
        let token = String::from_utf8(bytes).map_err(|_| {
            CredentialsError::new(format!(
                "oidc_role_arn: the OIDC token file {shown} is not UTF-8"
            ))
        })?;
        let token = token.trim();
        if token.is_empty() {
            return Err(CredentialsError::new(format!(
                "oidc_role_arn: the OIDC token file {shown} is empty"
            )));
        }
        Ok(token.to_owned())
    }

    async fn assume(&self) -> Result<Credentials, CredentialsError> {
        let token = self.token()?;
        let step = format!(
            "oidc_role_arn: AssumeRoleWithOIDC of role `{}` at {}",
            self.role_arn, self.endpoint
        );
        // Unsigned: the common parameters in the query, the rest (the token) in a form body.
        let mut request = self
            .sts
            .request("AssumeRoleWithOIDC", STS_API_VERSION, Method::POST);
        request.anonymous = true;
        request.body_param("DurationSeconds", self.duration_seconds.to_string());
        request.body_param("OIDCProviderArn", self.oidc_provider_arn.as_str());
        request.body_param("OIDCToken", token);
        request.body_param("RoleArn", self.role_arn.as_str());
        request.body_param("RoleSessionName", self.session_name.as_str());
        if let Some(p) = &self.policy {
            request.body_param("Policy", p.as_str());
        }
        sts::call(&self.sts, &request, &step, "oidc_role_arn".into()).await
    }
}

impl ProvideCredentials for AssumeRoleWithOidc {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        Box::pin(self.assume())
    }
}

impl ProvideCredentials for OidcRoleArnProvider {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        self.cache.provide_credentials()
    }
}

impl fmt::Debug for AssumeRoleWithOidc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcRoleArnProvider")
            .field("role_arn", &self.role_arn)
            .field("oidc_provider_arn", &self.oidc_provider_arn)
            .field("token_file", &self.token_file)
            .field("role_session_name", &self.session_name)
            .field("duration_seconds", &self.duration_seconds)
            .field("has_policy", &self.policy.is_some())
            .field("sts_endpoint", &self.endpoint.as_str())
            .finish()
    }
}

impl fmt::Debug for OidcRoleArnProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.cache.source(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::credentials::environment::tests::{assert_no_secret, lookup, TempDir};
    use crate::credentials::test_server::{sts_reply, Seen, TestServer};
    use std::time::Duration;

    const ROLE: &str = "acs:ram::1234567890:role/pod";
    const PROVIDER: &str = "acs:ram::1234567890:oidc-provider/ack-rrsa";

    fn no_env() -> Env {
        Env::injected(None, lookup(&[]))
    }

    /// Answers with credentials named after the token sent.
    fn sts(r: &Seen) -> crate::credentials::test_server::Answer {
        let form = r.form();
        let token = form
            .iter()
            .find(|(k, _)| k == "OIDCToken")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        sts_reply(&format!("STS.{token}"))
    }

    #[tokio::test]
    async fn an_unsigned_post_with_a_form_body_and_the_token_read_at_every_refresh() {
        let dir = TempDir::new("oidc-post");
        let token = dir.write("token", "eyJ.first\n");
        let server = TestServer::start(sts).await;
        let clock = ManualClock::new();
        let p = OidcRoleArnProvider::builder(ROLE, PROVIDER, &token)
            .role_session_name("pod-1")
            .policy(r#"{"Version": "1"}"#)
            .sts_endpoint(server.url.clone())
            .clock(clock.clone())
            .env(no_env())
            .build()
            .unwrap();
        let c = p.provide_credentials().await.unwrap();
        assert_eq!(c.access_key_id(), "STS.eyJ.first");
        assert_eq!(c.provider_name(), Some("oidc_role_arn"));
        let r = &server.seen()[0];
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/"));
        assert_eq!(
            r.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        let mut query: Vec<&str> = r.query.iter().map(|(k, _)| k.as_str()).collect();
        query.sort_unstable();
        assert_eq!(query, ["Action", "Format", "Timestamp", "Version"]);
        assert_eq!(r.param("Action"), Some("AssumeRoleWithOIDC"));
        assert_eq!(r.param("Version"), Some("2015-04-01"));
        assert_eq!(r.param("Format"), Some("JSON"));
        let mut form = r.form();
        form.sort();
        assert_eq!(
            form,
            [
                ("DurationSeconds".to_owned(), "3600".to_owned()),
                ("OIDCProviderArn".into(), PROVIDER.into()),
                ("OIDCToken".into(), "eyJ.first".into()),
                ("Policy".into(), r#"{"Version": "1"}"#.into()),
                ("RoleArn".into(), ROLE.into()),
                ("RoleSessionName".into(), "pod-1".into()),
            ]
        );
        // Kubernetes rotates the token: the next refresh reads the new one.
        dir.write("token", "eyJ.second");
        // Into the last seconds (the test STS's expiry is on real time): no longer usable.
        clock.advance(Duration::from_secs(3595));
        let c = p.provide_credentials().await.unwrap();
        assert_eq!(c.access_key_id(), "STS.eyJ.second");
    }

    #[tokio::test]
    async fn token_file_errors_name_the_file_never_the_token() {
        let dir = TempDir::new("oidc-file");
        let missing = dir.0.join("missing");
        let p = OidcRoleArnProvider::builder(ROLE, PROVIDER, &missing)
            .sts_endpoint("http://127.0.0.1:9")
            .env(no_env())
            .build()
            .unwrap();
        let e = p.provide_credentials().await.unwrap_err();
        assert_eq!(
            e.message,
            format!(
                "oidc_role_arn: cannot read the OIDC token file {}",
                missing.display()
            )
        );
        assert!(std::error::Error::source(&e).is_some());
        let empty = dir.write("empty", " \n");
        let p = OidcRoleArnProvider::builder(ROLE, PROVIDER, &empty)
            .sts_endpoint("http://127.0.0.1:9")
            .env(no_env())
            .build()
            .unwrap();
        assert_eq!(
            p.provide_credentials().await.unwrap_err().message,
            format!(
                "oidc_role_arn: the OIDC token file {} is empty",
                empty.display()
            )
        );
        // An STS refusal: the token is not in the error.
        let token = dir.write("token", "eyJ.SeCrEt.ToKeN");
        let server = TestServer::start(|_: &Seen| {
            crate::credentials::test_server::Answer::Reply(
                400,
                r#"{"RequestId":"R","Code":"InvalidParameter.OIDCToken","Message":"bad"}"#.into(),
            )
        })
        .await;
        let p = OidcRoleArnProvider::builder(ROLE, PROVIDER, &token)
            .sts_endpoint(server.url.clone())
            .env(no_env())
            .build()
            .unwrap();
        let e = p.provide_credentials().await.unwrap_err();
        assert_no_secret(&e, &["eyJ.SeCrEt.ToKeN"]);
        assert!(std::error::Error::source(&e)
            .unwrap()
            .to_string()
            .contains("InvalidParameter.OIDCToken"));
    }

    #[test]
    fn from_env_names_the_missing_variable() {
        let env = Env::injected(None, lookup(&[(ENV_ROLE_ARN, ROLE)]));
        assert_eq!(
            OidcRoleArnProvider::builder_from_env(env)
                .err()
                .unwrap()
                .message,
            "oidc_role_arn: ALIBABA_CLOUD_OIDC_PROVIDER_ARN is not set"
        );
        let env = Env::injected(
            None,
            lookup(&[
                (ENV_ROLE_ARN, ROLE),
                (ENV_OIDC_PROVIDER_ARN, PROVIDER),
                (ENV_OIDC_TOKEN_FILE, "/var/run/secrets/tokens/oidc-token"),
                (crate::credentials::ENV_ROLE_SESSION_NAME, "from-env"),
            ]),
        );
        let p = OidcRoleArnProvider::builder_from_env(env)
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(
            format!("{p:?}"),
            format!(
                "OidcRoleArnProvider {{ role_arn: \"{ROLE}\", oidc_provider_arn: \"{PROVIDER}\", \
                 token_file: \"/var/run/secrets/tokens/oidc-token\", role_session_name: \
                 \"from-env\", duration_seconds: 3600, has_policy: false, sts_endpoint: \
                 \"https://sts.aliyuncs.com/\" }}"
            )
        );
        assert_eq!(
            OidcRoleArnProvider::builder("", PROVIDER, "/t")
                .env(no_env())
                .build()
                .err()
                .unwrap()
                .message,
            "oidc_role_arn: the role ARN is empty"
        );
    }
}
