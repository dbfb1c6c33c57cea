//! A RAM role assumed with STS `AssumeRole`, from the credentials of any source.

use std::fmt;
use std::sync::Arc;

use reqwest::Method;

use super::environment::Env;
use super::refresh::RefreshingProvider;
use super::sts::{self, Session, StsOptions, STS_API_VERSION};
use super::{Credentials, ProvideCredentials, ProvideCredentialsFuture};
use crate::error::CredentialsError;

/// Credentials of a RAM role, assumed with STS `AssumeRole` (API 2015-04-01) from the
/// credentials of another source, and refreshed before they expire.
///
/// The request is an RPC `GET` signed with V1 (HMAC-SHA1, standard percent-encoding, space as
/// `%20`, as Alibaba's Go library does), with `RoleArn`, `RoleSessionName`, `DurationSeconds`
/// and, when set, `Policy` and `ExternalId`; the source's `SecurityToken` goes with it when the
/// source gives STS credentials. It goes through the same transport and signer as every ENS
/// call (one attempt: the cache retries), with its own time limits. The source is asked again before every refresh, so any
/// [`ProvideCredentials`] works, another `RamRoleArnProvider` included (role chaining).
///
/// * **Session name**: [`role_session_name`](RamRoleArnProviderBuilder::role_session_name),
///   else `ALIBABA_CLOUD_ROLE_SESSION_NAME`, else `credentials-rust-<unix ms>`.
/// * **Duration**: 3600 s unless chosen; at least 900 s (STS's minimum; STS enforces the
///   role's own maximum).
/// * **Endpoint**: [`sts_endpoint`](RamRoleArnProviderBuilder::sts_endpoint), else from the
///   region ([`sts_region`](RamRoleArnProviderBuilder::sts_region), else
///   `ALIBABA_CLOUD_STS_REGION`) `https://sts.<region>.aliyuncs.com`, or `sts-vpc.` with
///   [`enable_vpc`](RamRoleArnProviderBuilder::enable_vpc) (else
///   `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED`); else `https://sts.aliyuncs.com`. See
///   [`sts_endpoint`](super::sts_endpoint).
/// * **Timeouts**: 5 s to connect, 10 s for the answer (Alibaba's).
/// * **Caching**: a [`RefreshingProvider`]; the credentials are named
///   `ram_role_arn/<source's name>`.
///
/// The environment is read when the provider is built.
///
/// # Errors
///
/// Every error names the role and the endpoint, and the step: the source's credentials (that
/// error is the [`source`](std::error::Error::source)), the exchange (the network error is the
/// source), STS's error answer (the [`ServiceError`](crate::ServiceError), with its code and
/// request id, is the source) or its answer's shape (the field's path). Never a secret, a
/// token, a signature or a value from the answer. For example:
///
/// ```text
/// credentials error: ram_role_arn: AssumeRole of role `acs:ram::123:role/failover` at https://sts.aliyuncs.com/ failed
///   caused by: AssumeRole failed with NoPermission (HTTP 403): … (request id 6A1B…)
/// ```
///
/// ```no_run
/// use alibabacloud_ens::credentials::RamRoleArnProvider;
/// use alibabacloud_ens::{Client, Credentials};
///
/// # fn run() -> Result<(), alibabacloud_ens::Error> {
/// let base = Credentials::new("LTAI5tExample", "base-secret");
/// let role = RamRoleArnProvider::builder(base, "acs:ram::1234567890:role/failover")
///     .role_session_name("failover-controller")
///     .duration_seconds(3600)
///     .sts_region("cn-hangzhou")
///     .build()?;
/// let client = Client::builder().credentials_provider(role).build()?;
/// # let _ = client; Ok(()) }
/// ```
pub struct RamRoleArnProvider {
    cache: RefreshingProvider<AssumeRole>,
}

/// The fetch behind the cache: one `AssumeRole` call.
struct AssumeRole {
    source: Arc<dyn ProvideCredentials>,
    role_arn: String,
    external_id: Option<String>,
    session: Session,
}

impl RamRoleArnProvider {
    /// A builder assuming `role_arn` (`acs:ram::<account>:role/<name>`) with the credentials
    /// `source` provides.
    pub fn builder(
        source: impl ProvideCredentials + 'static,
        role_arn: impl Into<String>,
    ) -> RamRoleArnProviderBuilder {
        Self::builder_shared(Arc::new(source), role_arn.into())
    }

    pub(crate) fn builder_shared(
        source: Arc<dyn ProvideCredentials>,
        role_arn: String,
    ) -> RamRoleArnProviderBuilder {
        RamRoleArnProviderBuilder {
            source,
            role_arn,
            external_id: None,
            sts: StsOptions::default(),
            env: Env::process(),
        }
    }
}

/// Builds a [`RamRoleArnProvider`]. Obtained from [`RamRoleArnProvider::builder`].
#[must_use]
pub struct RamRoleArnProviderBuilder {
    source: Arc<dyn ProvideCredentials>,
    role_arn: String,
    external_id: Option<String>,
    sts: StsOptions,
    env: Env,
}

impl RamRoleArnProviderBuilder {
    sts::sts_builder_methods!();

    /// The external id the role's trust policy requires (`ExternalId`). Not shown by `Debug`.
    pub fn external_id(mut self, external_id: impl Into<String>) -> Self {
        self.external_id = Some(external_id.into()).filter(|e: &String| !e.trim().is_empty());
        self
    }

    /// The provider. Nothing is sent until credentials are asked for.
    ///
    /// # Errors
    /// An empty role ARN, a duration below 900 s, a malformed endpoint or region, or an HTTP
    /// client that cannot be created.
    pub fn build(self) -> Result<RamRoleArnProvider, CredentialsError> {
        let role_arn = self.role_arn.trim().to_owned();
        if role_arn.is_empty() {
            return Err(CredentialsError::new("ram_role_arn: the role ARN is empty"));
        }
        let session = self.sts.resolve(&self.env, "ram_role_arn")?;
        let clock = Arc::clone(&session.clock);
        let assume = AssumeRole {
            source: self.source,
            role_arn,
            external_id: self.external_id,
            session,
        };
        Ok(RamRoleArnProvider {
            cache: RefreshingProvider::builder(assume)
                .shared_clock(clock)
                .build(),
        })
    }
}

impl AssumeRole {
    async fn assume(&self) -> Result<Credentials, CredentialsError> {
        let session = &self.session;
        let step = format!(
            "ram_role_arn: AssumeRole of role `{}` at {}",
            self.role_arn, session.endpoint
        );
        let source = self.source.provide_credentials().await.map_err(|e| {
            let retryable = e.is_retryable();
            CredentialsError::new(format!("{step}: no source credentials"))
                .with_source(e)
                .retryable(retryable)
        })?;
        let name = match source.provider_name() {
            Some(n) => format!("ram_role_arn/{n}").into(),
            None => "ram_role_arn".into(),
        };
        // The source is asked once per refresh, here: the transport signs with what it gave.
        let sts = session.transport(Some(Arc::new(source)));
        let mut request = sts.request("AssumeRole", STS_API_VERSION, Method::GET);
        request.param("DurationSeconds", session.duration_seconds.to_string());
        request.param("RoleArn", self.role_arn.as_str());
        request.param("RoleSessionName", session.session_name.as_str());
        if let Some(p) = &session.policy {
            request.param("Policy", p.as_str());
        }
        if let Some(e) = &self.external_id {
            request.param("ExternalId", e.as_str());
        }
        sts::call(&sts, &request, &step, name).await
    }
}

impl ProvideCredentials for AssumeRole {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        Box::pin(self.assume())
    }
}

impl ProvideCredentials for RamRoleArnProvider {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        self.cache.provide_credentials()
    }
}

impl fmt::Debug for AssumeRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RamRoleArnProvider")
            .field("role_arn", &self.role_arn)
            .field("role_session_name", &self.session.session_name)
            .field("duration_seconds", &self.session.duration_seconds)
            .field("has_policy", &self.session.policy.is_some())
            .field(
                "external_id",
                &self.external_id.as_ref().map(|_| "** redacted **"),
            )
            .field("sts_endpoint", &self.session.endpoint.as_str())
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Debug for RamRoleArnProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.cache.source(), f)
    }
}

impl fmt::Debug for RamRoleArnProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RamRoleArnProviderBuilder")
            .field("role_arn", &self.role_arn)
            .field(
                "external_id",
                &self.external_id.as_ref().map(|_| "** redacted **"),
            )
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::clock::ManualClock;
    use crate::credentials::environment::tests::{assert_no_secret, lookup};
    use crate::credentials::test_server::{
        secret_of, sts_reply, token_of, Answer, Seen, TestServer,
    };
    use crate::signer::{self, v1};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;
    use time::OffsetDateTime;

    const ROLE: &str = "acs:ram::1234567890:role/failover";
    const POLICY: &str = r#"{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ens:*", "Resource": "*"}]}"#;

    fn no_env() -> Env {
        Env::injected(None, lookup(&[]))
    }

    /// A source handing out `STS.src`'s credentials, counting the calls.
    #[derive(Debug, Default)]
    struct Source(AtomicU32);

    impl ProvideCredentials for Source {
        fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Box::pin(async {
                Ok(Credentials::with_security_token(
                    "STS.src",
                    secret_of("STS.src"),
                    token_of("STS.src"),
                )
                .with_provider_name("vault"))
            })
        }
    }

    fn verify(r: &Seen) -> bool {
        let signed = r.signed_params();
        let id = r.param("AccessKeyId").unwrap_or_default();
        let expected = v1::signature(&secret_of(id), &v1::string_to_sign(&r.method, &signed));
        r.param("Signature") == Some(expected.as_str())
    }

    #[tokio::test]
    async fn assume_role_is_a_v1_signed_get_with_every_parameter() {
        let server = TestServer::start(|r: &Seen| {
            if verify(r) {
                sts_reply("STS.role")
            } else {
                Answer::Reply(400, r#"{"Code":"SignatureDoesNotMatch"}"#.into())
            }
        })
        .await;
        let clock = ManualClock::new();
        let source = Arc::new(Source::default());
        let p = RamRoleArnProvider::builder_shared(source.clone(), ROLE.into())
            .role_session_name("failover controller")
            .duration_seconds(1800)
            .policy(POLICY)
            .external_id("ExTeRnAl-iD")
            .sts_endpoint(server.url.clone())
            .clock(clock.clone())
            .env(no_env())
            .build()
            .unwrap();
        let c = p.provide_credentials().await.unwrap();
        assert_eq!(c.access_key_id(), "STS.role");
        assert_eq!(c.access_key_secret(), secret_of("STS.role"));
        assert_eq!(c.security_token(), Some(token_of("STS.role").as_str()));
        assert_eq!(c.provider_name(), Some("ram_role_arn/vault"));
        assert!(c.expiry().is_some());
        let seen = server.seen();
        assert_eq!(seen.len(), 1);
        let r = &seen[0];
        assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/"));
        assert!(r.body.is_empty());
        let mut keys: Vec<&str> = r.query.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "AccessKeyId",
                "Action",
                "DurationSeconds",
                "ExternalId",
                "Format",
                "Policy",
                "RoleArn",
                "RoleSessionName",
                "SecurityToken",
                "Signature",
                "SignatureMethod",
                "SignatureNonce",
                "SignatureVersion",
                "Timestamp",
                "Version"
            ]
        );
        let p_ = |k| r.param(k).unwrap();
        assert_eq!(p_("Action"), "AssumeRole");
        assert_eq!(p_("Version"), "2015-04-01");
        assert_eq!(p_("Format"), "JSON");
        assert_eq!(p_("SignatureMethod"), "HMAC-SHA1");
        assert_eq!(p_("SignatureVersion"), "1.0");
        assert_eq!(p_("AccessKeyId"), "STS.src");
        assert_eq!(p_("SecurityToken"), token_of("STS.src"));
        assert_eq!(p_("RoleArn"), ROLE);
        assert_eq!(p_("RoleSessionName"), "failover controller");
        assert_eq!(p_("DurationSeconds"), "1800");
        assert_eq!(p_("Policy"), POLICY);
        assert_eq!(p_("ExternalId"), "ExTeRnAl-iD");
        assert_eq!(
            p_("Timestamp"),
            signer::format_timestamp(OffsetDateTime::from(clock.system_time()))
        );
        assert_eq!(p_("SignatureNonce").len(), 32);
        // Signed with `%20` for a space (the POP rule), whatever the wire form.
        let signed = r.signed_params();
        assert!(v1::string_to_sign("GET", &signed).contains("failover%2520controller"));
        assert_eq!(source.0.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_source_is_asked_again_at_every_refresh() {
        let server = TestServer::start(|r: &Seen| {
            sts_reply(&format!(
                "STS.{}",
                r.param("SignatureNonce").unwrap_or_default()
            ))
        })
        .await;
        let clock = ManualClock::new();
        let source = Arc::new(Source::default());
        let p = RamRoleArnProvider::builder_shared(source.clone(), ROLE.into())
            .sts_endpoint(server.url.clone())
            .clock(clock.clone())
            .env(no_env())
            .build()
            .unwrap();
        let first = p.provide_credentials().await.unwrap();
        // Into the last seconds (the test STS's expiry is on real time): no longer usable.
        clock.advance(Duration::from_secs(3595));
        let second = p.provide_credentials().await.unwrap();
        assert_ne!(first.access_key_id(), second.access_key_id());
        assert_eq!(source.0.load(Ordering::SeqCst), 2);
        assert_eq!(server.seen().len(), 2);
        // Without an explicit name, one is generated.
        assert!(server.seen()[0]
            .param("RoleSessionName")
            .unwrap()
            .starts_with("credentials-rust-"));
        assert!(server.seen()[0].param("Policy").is_none());
        assert!(server.seen()[0].param("ExternalId").is_none());
    }

    #[tokio::test]
    async fn an_sts_error_names_the_role_and_keeps_the_service_error_beneath() {
        let server = TestServer::start(|_: &Seen| {
            Answer::Reply(
                403,
                r#"{"RequestId":"6A1B-REQ","HostId":"sts.aliyuncs.com","Code":"NoPermission",
                    "Message":"You are not authorized to do this action.\u001b[31m"}"#
                    .into(),
            )
        })
        .await;
        let p =
            RamRoleArnProvider::builder(Credentials::new("LTAIbase", secret_of("LTAIbase")), ROLE)
                .sts_endpoint(server.url.clone())
                .clock(ManualClock::new())
                .env(no_env())
                .build()
                .unwrap();
        let e = p.provide_credentials().await.unwrap_err();
        assert_no_secret(&e, &[&secret_of("LTAIbase")]);
        assert_eq!(
            e.message,
            format!(
                "ram_role_arn: AssumeRole of role `{ROLE}` at {}/ failed",
                server.url
            )
        );
        assert!(!e.is_retryable());
        let shown = std::error::Error::source(&e).unwrap().to_string();
        assert!(
            shown.starts_with("AssumeRole failed with NoPermission (HTTP 403): "),
            "{shown}"
        );
        assert!(
            shown.contains("(request id 6A1B-REQ)") && !shown.contains('\u{1b}'),
            "{shown}"
        );
        // A 403 is not tried again.
        assert_eq!(server.seen().len(), 1);
    }

    #[tokio::test]
    async fn undecodable_answers_name_the_field_never_a_value() {
        let server = TestServer::start(|r: &Seen| match r.param("RoleSessionName") {
            Some("partial") => Answer::Reply(
                200,
                r#"{"RequestId":"REQ-P","Credentials":{"AccessKeyId":"STS.x",
                    "AccessKeySecret":"LeAkEdSeCrEt","Expiration":"2030-01-01T00:00:00Z"}}"#
                    .into(),
            ),
            _ => Answer::Reply(502, "<html>bad gateway LeAkEdSeCrEt</html>".into()),
        })
        .await;
        let build = |name: &str| {
            RamRoleArnProvider::builder(Credentials::new("id", "s"), ROLE)
                .role_session_name(name)
                .sts_endpoint(server.url.clone())
                .clock(ManualClock::new())
                .env(no_env())
                .build()
                .unwrap()
        };
        let e = build("partial").provide_credentials().await.unwrap_err();
        assert_no_secret(&e, &["LeAkEdSeCrEt"]);
        assert_eq!(
            e.message,
            format!(
                "ram_role_arn: AssumeRole of role `{ROLE}` at {}/: the answer has no \
                 `Credentials.SecurityToken` (HTTP 200) (request id REQ-P)",
                server.url
            )
        );
        let e = build("html").provide_credentials().await.unwrap_err();
        assert_no_secret(&e, &["LeAkEdSeCrEt"]);
        assert_eq!(
            e.message,
            format!(
                "ram_role_arn: AssumeRole of role `{ROLE}` at {}/: HTTP 502 with an HTML body, \
                 not a JSON error (request id REQ-502)",
                server.url
            )
        );
        assert!(e.is_retryable());
        // Three attempts for a failure that may pass: 1 + 3.
        assert_eq!(server.seen().len(), 4);
    }

    #[tokio::test]
    async fn a_failing_source_is_named() {
        #[derive(Debug)]
        struct Broken;
        impl ProvideCredentials for Broken {
            fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
                Box::pin(async { Err(CredentialsError::new("vault sealed")) })
            }
        }
        let p = RamRoleArnProvider::builder(Broken, ROLE)
            .sts_endpoint("http://127.0.0.1:9")
            .env(no_env())
            .build()
            .unwrap();
        let e = p.provide_credentials().await.unwrap_err();
        assert_eq!(
            e.message,
            format!(
                "ram_role_arn: AssumeRole of role `{ROLE}` at http://127.0.0.1:9/: no source \
                 credentials"
            )
        );
        assert_eq!(
            std::error::Error::source(&e).unwrap().to_string(),
            "credentials error: vault sealed"
        );
    }

    #[test]
    fn debug_is_redacted_exactly() {
        let p = RamRoleArnProvider::builder(Credentials::new("LTAIbase", "BaSeSeCrEt"), ROLE)
            .role_session_name("s")
            .policy(POLICY)
            .external_id("ExTeRnAl")
            .env(no_env())
            .build()
            .unwrap();
        assert_eq!(
            format!("{p:?}"),
            format!(
                "RamRoleArnProvider {{ role_arn: \"{ROLE}\", role_session_name: \"s\", \
                 duration_seconds: 3600, has_policy: true, external_id: Some(\"** redacted **\"), \
                 sts_endpoint: \"https://sts.aliyuncs.com/\", source: Credentials {{ \
                 access_key_id: \"LTAIbase\", access_key_secret: \"** redacted **\" }} }}"
            )
        );
        let b = RamRoleArnProvider::builder(Credentials::new("LTAIbase", "BaSeSeCrEt"), ROLE)
            .external_id("ExTeRnAl");
        let d = format!("{b:?}");
        assert!(!d.contains("BaSeSeCrEt") && !d.contains("ExTeRnAl"), "{d}");
    }

    #[test]
    fn build_checks_the_settings() {
        let b = || RamRoleArnProvider::builder(Credentials::new("id", "s"), ROLE).env(no_env());
        let e = |b: RamRoleArnProviderBuilder| b.build().err().unwrap().message;
        assert_eq!(
            e(RamRoleArnProvider::builder(Credentials::new("id", "s"), " ").env(no_env())),
            "ram_role_arn: the role ARN is empty"
        );
        assert_eq!(
            e(b().duration_seconds(0)),
            "ram_role_arn: the session duration 0 s is below STS's minimum of 900 s"
        );
        assert_eq!(
            e(b().sts_region("cn hangzhou")),
            "ram_role_arn: the STS region `cn hangzhou` is not a region id"
        );
        let p = b()
            .sts_region("cn-hangzhou")
            .enable_vpc(true)
            .build()
            .unwrap();
        assert!(format!("{p:?}").contains("https://sts-vpc.cn-hangzhou.aliyuncs.com/"));
    }
}
