//! The default credentials chain, in the order of Alibaba's current libraries.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::OnceCell;

use super::cli_config::CliConfigProvider;
use super::credentials_uri::CredentialsUriProvider;
use super::environment::{
    Context, Env, EnvironmentProvider, Lookup, ENV_CREDENTIALS_URI, ENV_ECS_METADATA_DISABLED,
    ENV_OIDC_PROVIDER_ARN, ENV_OIDC_TOKEN_FILE, ENV_ROLE_ARN,
};
use super::oidc::OidcRoleArnProvider;
use super::profile_file::ProfileFileProvider;
use super::{ProvideCredentials, ProvideCredentialsFuture};
use crate::clock::Clock;
use crate::error::CredentialsError;

/// Looks for credentials where Alibaba's current credentials libraries look, in their order:
///
/// 1. the environment variables `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET`
///    and `ALIBABA_CLOUD_SECURITY_TOKEN` ([`EnvironmentProvider`]);
/// 2. the OIDC role (RRSA), when `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`
///    and `ALIBABA_CLOUD_OIDC_TOKEN_FILE` are all set
///    ([`OidcRoleArnProvider`](super::OidcRoleArnProvider));
/// 3. the aliyun CLI config, `~/.aliyun/config.json`, unless
///    `ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true` ([`CliConfigProvider`]);
/// 4. the credentials file, `ALIBABA_CLOUD_CREDENTIALS_FILE`, else
///    `~/.alibabacloud/credentials`, else `~/.alibabacloud/credentials.ini`
///    ([`ProfileFileProvider`]);
/// 5. the instance's RAM role from the metadata service, unless
///    `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true`
///    ([`EcsRamRoleProvider`](super::EcsRamRoleProvider));
/// 6. the credentials URI, when `ALIBABA_CLOUD_CREDENTIALS_URI` is set
///    ([`CredentialsUriProvider`](super::CredentialsUriProvider)).
///
/// Credentials given explicitly to the client builder come before all of these. The profile,
/// in either file, is chosen by `ALIBABA_CLOUD_PROFILE`.
///
/// **The environment is read when the chain is built** (`new`), once: a variable set later is
/// not seen. (Alibaba's Python library reads it when the module is imported.) Build a new chain
/// to see a change.
///
/// A source that is simply absent is skipped: the variables unset, a file that does not exist at
/// its default path, no `default` profile when no profile was chosen, a profile with
/// `enable = false`, the CLI config disabled, no metadata service (or one that fails: the chain
/// then goes on, as Alibaba's does). A source that is present but broken stops the chain with
/// its error at once, so that a mistake is reported rather than hidden by the next source: only
/// one of the id and secret variables set, a file chosen by `ALIBABA_CLOUD_CREDENTIALS_FILE`
/// that does not exist, a syntax error or malformed JSON, a missing or mistyped field, an
/// unsupported type or mode, a profile chosen by `ALIBABA_CLOUD_PROFILE` (or the CLI config's
/// `current`) that the file does not have, or a role (OIDC, a file's role profile, the
/// credentials URI) whose credentials cannot be had. When no source has credentials, the error
/// lists every place looked at:
///
/// ```text
/// credentials error: no credentials found; looked at: environment variables
/// ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (not set); aliyun CLI config
/// /home/me/.aliyun/config.json (does not exist); credentials file
/// /home/me/.alibabacloud/credentials (does not exist, nor does
/// /home/me/.alibabacloud/credentials.ini); instance RAM role (ecs_ram_role: PUT
/// /latest/api/token on http://100.100.100.200: cannot connect in time)
/// ```
///
/// The first source that has credentials is kept for the life of the chain, as Alibaba's
/// libraries do: static credentials are served as they are (restart to pick up a change), and a
/// role keeps its provider, which caches and refreshes its credentials (see
/// [`RefreshingProvider`](super::RefreshingProvider)). A later failure of that source is an
/// error, not a walk down the chain. Errors before a source is found are not kept: the next call
/// looks again. Concurrent first calls look once. Looking reads two small files with blocking
/// I/O.
///
/// ```no_run
/// use alibabacloud_ens::credentials::DefaultCredentialsChain;
/// use alibabacloud_ens::ProvideCredentials;
///
/// # async fn run() -> Result<(), alibabacloud_ens::error::CredentialsError> {
/// let chain = DefaultCredentialsChain::new();
/// let credentials = chain.provide_credentials().await?;
/// println!(
///     "using AccessKey {} from {}",
///     credentials.access_key_id(),
///     credentials.provider_name().unwrap_or("?")
/// );
/// # Ok(())
/// # }
/// ```
pub struct DefaultCredentialsChain {
    ctx: Context,
    found: OnceCell<Arc<dyn ProvideCredentials>>,
}

impl DefaultCredentialsChain {
    /// The chain over the process environment (read now) and the user's home directory.
    pub fn new() -> Self {
        Self::from_env(Env::process())
    }

    /// The chain with home directory `home` and environment variables read from `env` instead
    /// of the process (the process environment is not read at all). `env` is asked for every
    /// variable the chain reads, once, now. For tests, and for programs that resolve
    /// credentials on behalf of another user.
    ///
    /// ```
    /// use alibabacloud_ens::credentials::DefaultCredentialsChain;
    ///
    /// let chain = DefaultCredentialsChain::with_home_and_env("/nonexistent", |name| match name {
    ///     "ALIBABA_CLOUD_ACCESS_KEY_ID" => Some("LTAI5tExample".to_owned()),
    ///     "ALIBABA_CLOUD_ACCESS_KEY_SECRET" => Some("example-secret".to_owned()),
    ///     // Tests: never ask the real instance metadata service.
    ///     "ALIBABA_CLOUD_ECS_METADATA_DISABLED" => Some("true".to_owned()),
    ///     _ => None,
    /// });
    /// # let _ = chain;
    /// ```
    pub fn with_home_and_env<F>(home: impl Into<PathBuf>, env: F) -> Self
    where
        F: Fn(&str) -> Option<String> + Send + Sync + 'static,
    {
        Self::from_env(Env::injected(Some(home.into()), Arc::new(env)))
    }

    fn from_env(env: Env) -> Self {
        DefaultCredentialsChain {
            ctx: Context::with_env(env.snapshot()),
            found: OnceCell::new(),
        }
    }

    /// Sends the STS requests of every role the chain finds (OIDC, a file's role profile) to
    /// `endpoint` instead of the one the settings choose: a host, or a URL such as
    /// `http://127.0.0.1:8080` (a test STS).
    pub fn sts_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.ctx.sts_endpoint = Some(endpoint.into());
        self
    }

    /// Asks the instance metadata service at `endpoint` (e.g. `http://127.0.0.1:8080`, a test
    /// server) instead of [`DEFAULT_METADATA_ENDPOINT`](super::DEFAULT_METADATA_ENDPOINT).
    pub fn ecs_metadata_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.ctx.metadata_endpoint = Some(endpoint.into());
        self
    }

    /// Runs the caches of the roles the chain finds on `clock` (default
    /// [`TokioClock`](crate::clock::TokioClock)).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.ctx.clock = Arc::new(clock);
        self
    }

    /// Walks the sources; the first that has credentials.
    async fn resolve(&self) -> Result<Arc<dyn ProvideCredentials>, CredentialsError> {
        let ctx = &self.ctx;
        let env = &ctx.env;
        let mut looked_at = Vec::new();
        // A file's answer: credentials, a role to verify, or where it looked.
        async fn take(
            lookup: Lookup,
            looked_at: &mut Vec<String>,
        ) -> Result<Option<Arc<dyn ProvideCredentials>>, CredentialsError> {
            match lookup {
                Lookup::Found(c) => Ok(Some(Arc::new(c))),
                Lookup::Provider(p) => {
                    p.provide_credentials().await?;
                    Ok(Some(p))
                }
                Lookup::Absent(place) => {
                    looked_at.push(place);
                    Ok(None)
                }
            }
        }

        let environment = EnvironmentProvider::from_source(env.clone()).lookup()?;
        if let Some(p) = take(environment, &mut looked_at).await? {
            return Ok(p);
        }

        let oidc = [ENV_ROLE_ARN, ENV_OIDC_PROVIDER_ARN, ENV_OIDC_TOKEN_FILE];
        let unset: Vec<&str> = oidc.into_iter().filter(|v| env.var(v).is_none()).collect();
        if unset.is_empty() {
            let b = OidcRoleArnProvider::builder_from_env(env.clone())?;
            let mut b = b.shared_clock(Arc::clone(&ctx.clock));
            if let Some(e) = &ctx.sts_endpoint {
                b = b.sts_endpoint(e.clone());
            }
            let p = Arc::new(b.build()?);
            p.provide_credentials().await?;
            return Ok(p);
        }
        if unset.len() < oidc.len() {
            looked_at.push(format!("OIDC role ({} not set)", unset.join(" and ")));
        }

        let cli = CliConfigProvider::new()
            .with_context(ctx.clone())
            .lookup()?;
        if let Some(p) = take(cli, &mut looked_at).await? {
            return Ok(p);
        }
        let file = ProfileFileProvider::new()
            .with_context(ctx.clone())
            .lookup()?;
        if let Some(p) = take(file, &mut looked_at).await? {
            return Ok(p);
        }

        if env.flag(ENV_ECS_METADATA_DISABLED) {
            looked_at.push(format!(
                "instance RAM role (disabled by {ENV_ECS_METADATA_DISABLED})"
            ));
        } else {
            let p = Arc::new(ctx.ecs_ram_role().build()?);
            match p.provide_credentials().await {
                Ok(_) => return Ok(p),
                Err(e) => looked_at.push(format!("instance RAM role ({})", e.message)),
            }
        }

        if env.var(ENV_CREDENTIALS_URI).is_some() {
            let p = CredentialsUriProvider::builder_from_env(env)?
                .shared_clock(Arc::clone(&ctx.clock))
                .build()?;
            let p = Arc::new(p);
            p.provide_credentials().await?;
            return Ok(p);
        }

        Err(CredentialsError::new(format!(
            "no credentials found; looked at: {}",
            looked_at.join("; ")
        )))
    }
}

impl Default for DefaultCredentialsChain {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for DefaultCredentialsChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DefaultCredentialsChain")
            .field("env", &self.ctx.env)
            .field("sts_endpoint", &self.ctx.sts_endpoint)
            .field("ecs_metadata_endpoint", &self.ctx.metadata_endpoint)
            .field("found", &self.found.get())
            .finish()
    }
}

impl ProvideCredentials for DefaultCredentialsChain {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        Box::pin(async move {
            let source = self.found.get_or_try_init(|| self.resolve()).await?;
            source.provide_credentials().await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::environment::tests::{assert_no_secret, TempDir};
    use crate::credentials::environment::{
        ENV_CLI_PROFILE_DISABLED, ENV_CREDENTIALS_FILE, ENV_PROFILE,
    };
    use crate::credentials::test_server::{
        flat_reply, metadata, secret_of, sts_reply, token_of, Answer, Seen, TestServer,
    };
    use crate::credentials::{ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET, ENV_SECURITY_TOKEN};
    use crate::signer::v1;
    use serde_json::{json, Value};
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::time::Duration;

    const SECRET: &str = "ChAiNsEcReT345";
    const ROLE: &str = "acs:ram::1234567890:role/failover";
    const OIDC_PROVIDER: &str = "acs:ram::1234567890:oidc-provider/ack-rrsa";
    const OIDC_TOKEN: &str = "eyJ.OiDc.ToKeN";

    /// A chain over `dir` as home and `env`; the instance metadata source is off unless `env`
    /// says otherwise (no test may reach the real metadata service).
    fn chain(dir: &TempDir, env: &[(&str, &str)]) -> DefaultCredentialsChain {
        let mut map: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.entry(ENV_ECS_METADATA_DISABLED.to_owned())
            .or_insert_with(|| "true".to_owned());
        DefaultCredentialsChain::with_home_and_env(dir.0.clone(), move |k| map.get(k).cloned())
    }

    fn creds_file(dir: &TempDir, id: &str) -> PathBuf {
        dir.write(
            ".alibabacloud/credentials",
            &format!(
                "[default]\ntype = access_key\naccess_key_id = {id}\n\
                 access_key_secret = {SECRET}\n"
            ),
        )
    }

    /// A profile as `aliyun configure` writes it: every key, empty unless given.
    fn cli_profile(name: &str, mode: &str, set: &[(&str, Value)]) -> Value {
        let mut p = json!({
            "name": name, "mode": mode, "access_key_id": "", "access_key_secret": "",
            "sts_token": "", "sts_region": "", "ram_role_name": "", "ram_role_arn": "",
            "ram_session_name": "", "source_profile": "", "private_key": "",
            "key_pair_name": "", "expired_seconds": 0, "verified": "",
            "region_id": "cn-hangzhou", "output_format": "json", "language": "en", "site": "",
            "retry_timeout": 0, "connect_timeout": 0, "retry_count": 0, "process_command": "",
            "credentials_uri": "", "oidc_provider_arn": "", "oidc_token_file": "",
            "cloud_sso_sign_in_url": "", "cloud_sso_access_config": "",
            "cloud_sso_account_id": "", "access_token": "", "cloud_sso_access_token_expire": 0
        });
        for (k, v) in set {
            p[*k] = v.clone();
        }
        p
    }

    fn cli_config_with(dir: &TempDir, current: &str, profiles: &[Value]) -> PathBuf {
        let text = serde_json::to_string_pretty(&json!({
            "current": current, "profiles": profiles, "meta_path": ""
        }))
        .unwrap();
        dir.write(".aliyun/config.json", &text)
    }

    fn cli_config(dir: &TempDir, id: &str) -> PathBuf {
        cli_config_with(
            dir,
            "default",
            &[cli_profile(
                "default",
                "AK",
                &[
                    ("access_key_id", json!(id)),
                    ("access_key_secret", json!(SECRET)),
                ],
            )],
        )
    }

    const ENV_CREDS: [(&str, &str); 2] = [
        (ENV_ACCESS_KEY_ID, "from-env"),
        (ENV_ACCESS_KEY_SECRET, SECRET),
    ];

    async fn found(c: &DefaultCredentialsChain) -> Credentials {
        c.provide_credentials().await.unwrap()
    }

    /// The key id and the source's name.
    async fn source(c: &DefaultCredentialsChain) -> (String, String) {
        let f = found(c).await;
        (
            f.access_key_id().to_owned(),
            f.provider_name().unwrap_or("-").to_owned(),
        )
    }

    async fn id(c: &DefaultCredentialsChain) -> String {
        source(c).await.0
    }

    async fn err(c: &DefaultCredentialsChain) -> String {
        let e = c.provide_credentials().await.unwrap_err();
        assert_no_secret(&e, &[SECRET, OIDC_TOKEN]);
        assert!(!format!("{c:?}").contains(SECRET));
        e.message
    }

    use super::super::Credentials;

    /// A test STS: AssumeRole (its V1 signature checked against the key's secret, which is
    /// `secret_of(id)`) answers `STS.<caller's key id>`; AssumeRoleWithOIDC (unsigned, form
    /// body, the token checked) answers `STS.oidc`.
    fn sts() -> impl Fn(&Seen) -> Answer {
        |r| {
            let error = |code: &str| {
                Answer::Reply(
                    400,
                    format!(r#"{{"RequestId":"REQ-E","Code":"{code}","Message":"m"}}"#),
                )
            };
            match r.param("Action") {
                Some("AssumeRole") => {
                    let id = r.param("AccessKeyId").unwrap_or_default();
                    let signed = r.signed_params();
                    let expected =
                        v1::signature(&secret_of(id), &v1::string_to_sign(&r.method, &signed));
                    if r.param("Signature") != Some(expected.as_str()) {
                        return error("SignatureDoesNotMatch");
                    }
                    sts_reply(&format!("STS.{id}"))
                }
                Some("AssumeRoleWithOIDC") => {
                    let form = r.form();
                    let get =
                        |k: &str| form.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.as_str());
                    if get("OIDCToken") != Some(OIDC_TOKEN) || r.param("Signature").is_some() {
                        return error("InvalidParameter.OIDCToken");
                    }
                    sts_reply("STS.oidc")
                }
                _ => error("InvalidAction.NotFound"),
            }
        }
    }

    fn param<'a>(r: &'a Seen, k: &str) -> Option<&'a str> {
        r.param(k)
    }

    #[tokio::test]
    async fn order_env_oidc_cli_file_metadata_uri() {
        let dir = TempDir::new("chain-order");
        let sts_server = TestServer::start(sts()).await;
        let imds = TestServer::start(metadata("failover", "STS.ecs")).await;
        let uri =
            TestServer::start(|_: &Seen| flat_reply("STS.uri", Duration::from_secs(3600))).await;
        let token_file = dir.write("oidc-token", OIDC_TOKEN);
        let token_path = token_file.to_str().unwrap().to_owned();
        let uri_url = format!("{}/credentials", uri.url);
        let mut env: Vec<(&str, &str)> = vec![
            (ENV_ACCESS_KEY_ID, "from-env"),
            (ENV_ACCESS_KEY_SECRET, SECRET),
            (ENV_ROLE_ARN, ROLE),
            (ENV_OIDC_PROVIDER_ARN, OIDC_PROVIDER),
            (ENV_OIDC_TOKEN_FILE, &token_path),
            (ENV_ECS_METADATA_DISABLED, "false"),
            (ENV_CREDENTIALS_URI, &uri_url),
        ];
        cli_config(&dir, "from-cli");
        creds_file(&dir, "from-file");
        let build = |env: &[(&str, &str)]| {
            chain(&dir, env)
                .sts_endpoint(sts_server.url.clone())
                .ecs_metadata_endpoint(imds.url.clone())
        };
        assert_eq!(
            source(&build(&env)).await,
            ("from-env".into(), "env".into())
        );
        env.drain(..2);
        assert_eq!(
            source(&build(&env)).await,
            ("STS.oidc".into(), "oidc_role_arn".into())
        );
        env.drain(..3);
        // The CLI config comes before the credentials file, as in Alibaba's libraries (this
        // crate had it the other way round before).
        assert_eq!(
            source(&build(&env)).await,
            ("from-cli".into(), "cli_profile".into())
        );
        std::fs::remove_file(dir.0.join(".aliyun/config.json")).unwrap();
        assert_eq!(
            source(&build(&env)).await,
            ("from-file".into(), "profile".into())
        );
        std::fs::remove_file(dir.0.join(".alibabacloud/credentials")).unwrap();
        assert_eq!(
            source(&build(&env)).await,
            ("STS.ecs".into(), "ecs_ram_role".into())
        );
        env[0].1 = "true";
        assert_eq!(
            source(&build(&env)).await,
            ("STS.uri".into(), "credential_uri".into())
        );
        assert!(sts_server.seen().iter().all(|r| r.method == "POST"));
        assert_eq!(uri.seen().len(), 1);
    }

    #[tokio::test]
    async fn metadata_unreachable_is_looked_at_and_the_uri_follows() {
        let dir = TempDir::new("chain-imds-down");
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", l.local_addr().unwrap())
        };
        let e = err(&chain(&dir, &[(ENV_ECS_METADATA_DISABLED, "false")])
            .ecs_metadata_endpoint(closed.clone()))
        .await;
        assert!(
            e.ends_with(&format!(
                "instance RAM role (ecs_ram_role: PUT /latest/api/token on {closed}: cannot \
                 connect)"
            )),
            "{e}"
        );
        let uri =
            TestServer::start(|_: &Seen| flat_reply("STS.uri", Duration::from_secs(3600))).await;
        let c = chain(
            &dir,
            &[
                (ENV_ECS_METADATA_DISABLED, "false"),
                (ENV_CREDENTIALS_URI, &uri.url),
            ],
        )
        .ecs_metadata_endpoint(closed);
        assert_eq!(id(&c).await, "STS.uri");
    }

    #[tokio::test]
    async fn broken_file_is_an_error_not_a_fall_through() {
        let dir = TempDir::new("chain-broken");
        let path = dir.write(
            ".alibabacloud/credentials",
            &format!("[default]\ntype = access_key\naccess_key_secret = {SECRET}\n"),
        );
        assert_eq!(
            err(&chain(&dir, &[])).await,
            format!(
                "missing `access_key_id` in profile `default` of {}",
                path.display()
            )
        );
        dir.write(
            ".alibabacloud/credentials",
            "[default]\ntype = rsa_key_pair\n",
        );
        assert_eq!(
            err(&chain(&dir, &[])).await,
            format!(
                "unsupported credentials type `rsa_key_pair` in profile `default` of {} \
                 (supported: `access_key`, `sts`, `ram_role_arn`, `oidc_role_arn`, \
                 `ecs_ram_role`)",
                path.display()
            )
        );
        dir.write(
            ".alibabacloud/credentials",
            &format!("[default]\n{SECRET}\n"),
        );
        assert_eq!(
            err(&chain(&dir, &[])).await,
            format!(
                "syntax error at line 2 of {}: expected `[profile]`, `key = value` or a comment",
                path.display()
            )
        );
        // The environment and the CLI config come first, a broken file notwithstanding.
        assert_eq!(id(&chain(&dir, &ENV_CREDS)).await, "from-env");
        cli_config(&dir, "from-cli");
        assert_eq!(id(&chain(&dir, &[])).await, "from-cli");
        // A half-set environment is an error too.
        assert_eq!(
            err(&chain(&dir, &[(ENV_ACCESS_KEY_ID, "id")])).await,
            "ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET is not"
        );
    }

    #[tokio::test]
    async fn chosen_profile_or_file_missing_is_an_error() {
        let dir = TempDir::new("chain-chosen");
        let path = creds_file(&dir, "from-file");
        let expected = format!(
            "profile `prod` (from ALIBABA_CLOUD_PROFILE) not found in {}; \
             profiles present: `default`",
            path.display()
        );
        assert_eq!(err(&chain(&dir, &[(ENV_PROFILE, "prod")])).await, expected);
        // A CLI config without that profile: the chain goes on to the file (the variable is
        // shared), which does not have it either.
        cli_config(&dir, "from-cli");
        assert_eq!(err(&chain(&dir, &[(ENV_PROFILE, "prod")])).await, expected);
        let missing = dir.0.join("missing");
        assert_eq!(
            err(&chain(
                &dir,
                &[
                    (ENV_CLI_PROFILE_DISABLED, "TRUE"),
                    (ENV_CREDENTIALS_FILE, missing.to_str().unwrap())
                ]
            ))
            .await,
            format!(
                "credentials file {} (from ALIBABA_CLOUD_CREDENTIALS_FILE) does not exist",
                missing.display()
            )
        );
    }

    #[tokio::test]
    async fn profile_variable_is_shared_by_both_files() {
        let dir = TempDir::new("chain-profile");
        cli_config_with(
            &dir,
            "default",
            &[
                cli_profile(
                    "default",
                    "AK",
                    &[
                        ("access_key_id", json!("cli-default")),
                        ("access_key_secret", json!(SECRET)),
                    ],
                ),
                cli_profile(
                    "prod",
                    "StsToken",
                    &[
                        ("access_key_id", json!("cli-prod")),
                        ("access_key_secret", json!(SECRET)),
                        ("sts_token", json!("tok")),
                    ],
                ),
            ],
        );
        let c = found(&chain(&dir, &[(ENV_PROFILE, "prod")])).await;
        assert_eq!(c.access_key_id(), "cli-prod");
        assert_eq!(c.security_token(), Some("tok"));
        // A profile only the credentials file has: found there.
        dir.write(
            ".alibabacloud/credentials",
            &format!(
                "[qa]\ntype = sts\naccess_key_id = file-qa\naccess_key_secret = {SECRET}\n\
                 security_token = t\n"
            ),
        );
        assert_eq!(id(&chain(&dir, &[(ENV_PROFILE, "qa")])).await, "file-qa");
        // The CLI config's own `current` naming a missing profile is a mistake, though.
        let cli = cli_config_with(
            &dir,
            "gone",
            &[cli_profile(
                "default",
                "AK",
                &[("access_key_id", json!("x"))],
            )],
        );
        assert_eq!(
            err(&chain(&dir, &[])).await,
            format!(
                "profile `gone` (from `current`) not found in {}; profiles present: `default`",
                cli.display()
            )
        );
    }

    #[tokio::test]
    async fn absent_disabled_or_unnamed_profiles_fall_through() {
        let dir = TempDir::new("chain-disabled");
        creds_file(&dir, "from-file");
        // The CLI config has no `default` and chose none: the file is next.
        cli_config_with(
            &dir,
            "",
            &[cli_profile("other", "AK", &[("access_key_id", json!("x"))])],
        );
        assert_eq!(id(&chain(&dir, &[])).await, "from-file");
        // The CLI config turned off.
        cli_config(&dir, "from-cli");
        assert_eq!(id(&chain(&dir, &[])).await, "from-cli");
        assert_eq!(
            id(&chain(&dir, &[(ENV_CLI_PROFILE_DISABLED, "true")])).await,
            "from-file"
        );
        dir.write(
            ".alibabacloud/credentials",
            "[default]\nenable = false\ntype = sts\n",
        );
        assert!(err(&chain(&dir, &[(ENV_CLI_PROFILE_DISABLED, "true")]))
            .await
            .contains("(profile `default` is disabled: `enable = false`)"));
    }

    #[tokio::test]
    async fn nothing_found_lists_every_place() {
        let dir = TempDir::new("chain-nothing");
        let file = dir.0.join(".alibabacloud").join("credentials");
        assert_eq!(
            err(&chain(&dir, &[])).await,
            format!(
                "no credentials found; looked at: environment variables \
                 ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (not set); \
                 aliyun CLI config {} (does not exist); credentials file {} (does not exist, \
                 nor does {}.ini); instance RAM role (disabled by \
                 ALIBABA_CLOUD_ECS_METADATA_DISABLED)",
                dir.0.join(".aliyun").join("config.json").display(),
                file.display(),
                file.display(),
            )
        );
        let path = dir.write(".alibabacloud/credentials", "[default]\nenable = false\n");
        let cli = dir.write(".aliyun/config.json", r#"{"profiles": []}"#);
        assert_eq!(
            err(&chain(
                &dir,
                &[(ENV_ROLE_ARN, ROLE), (ENV_SECURITY_TOKEN, "TOKENVALUE")]
            ))
            .await,
            format!(
                "no credentials found; looked at: environment variables \
                 ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (not set); \
                 OIDC role (ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE \
                 not set); aliyun CLI config {} (no profile `default`; profiles present: none); \
                 credentials file {} (profile `default` is disabled: `enable = false`); \
                 instance RAM role (disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED)",
                cli.display(),
                path.display(),
            )
        );
    }

    #[tokio::test]
    async fn the_environment_is_read_when_the_chain_is_built() {
        let dir = TempDir::new("chain-env-snapshot");
        let vars: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        vars.lock()
            .unwrap()
            .insert(ENV_ECS_METADATA_DISABLED.into(), "true".into());
        let asked = Arc::clone(&vars);
        let c = DefaultCredentialsChain::with_home_and_env(dir.0.clone(), move |k| {
            asked.lock().unwrap().get(k).cloned()
        });
        vars.lock()
            .unwrap()
            .insert(ENV_ACCESS_KEY_ID.into(), "too-late".into());
        vars.lock()
            .unwrap()
            .insert(ENV_ACCESS_KEY_SECRET.into(), SECRET.into());
        assert!(err(&c).await.starts_with("no credentials found"));
    }

    #[tokio::test]
    async fn keeps_the_first_source_found() {
        let dir = TempDir::new("chain-cache");
        let c = chain(&dir, &[]);
        // Nothing yet: errors are not kept.
        assert!(c.provide_credentials().await.is_err());
        assert!(format!("{c:?}").contains("found: None"), "{c:?}");
        creds_file(&dir, "first");
        assert_eq!(id(&c).await, "first");
        creds_file(&dir, "second");
        assert_eq!(id(&c).await, "first");
        std::fs::remove_dir_all(dir.0.join(".alibabacloud")).unwrap();
        assert_eq!(id(&c).await, "first");
        assert!(!format!("{c:?}").contains("found: None"));
        let shared: Arc<dyn ProvideCredentials> = Arc::new(c);
        assert_eq!(
            shared
                .provide_credentials()
                .await
                .unwrap()
                .access_key_secret(),
            SECRET
        );
    }

    #[tokio::test]
    async fn concurrent_first_calls_look_once() {
        let dir = TempDir::new("chain-once");
        let sts_server = TestServer::start(sts()).await;
        dir.write(
            ".alibabacloud/credentials",
            &format!(
                "[default]\ntype = ram_role_arn\naccess_key_id = base\naccess_key_secret = {}\n\
                 role_arn = {ROLE}\n",
                secret_of("base")
            ),
        );
        let c = Arc::new(chain(&dir, &[]).sts_endpoint(sts_server.url.clone()));
        let calls: Vec<_> = (0..20)
            .map(|_| {
                let c = Arc::clone(&c);
                tokio::spawn(async move { c.provide_credentials().await.unwrap() })
            })
            .collect();
        for call in calls {
            assert_eq!(call.await.unwrap().access_key_id(), "STS.base");
        }
        assert_eq!(sts_server.seen().len(), 1);
    }

    // ----- one test per mode, files as Alibaba's tools write them -----

    #[tokio::test]
    async fn ini_ram_role_arn() {
        let dir = TempDir::new("chain-ini-ram");
        let sts_server = TestServer::start(sts()).await;
        dir.write(
            ".alibabacloud/credentials",
            &format!(
                "[default]\nenable = true\ntype = ram_role_arn\nregion_id = cn-hangzhou\n\
                 access_key_id = base\naccess_key_secret = {}\nrole_arn = {ROLE}\n\
                 role_session_name = from-ini\npolicy = {{\"Version\": \"1\"}}\n",
                secret_of("base")
            ),
        );
        let c = chain(&dir, &[]).sts_endpoint(sts_server.url.clone());
        let f = found(&c).await;
        assert_eq!(f.access_key_id(), "STS.base");
        assert_eq!(f.security_token(), Some(token_of("STS.base").as_str()));
        assert_eq!(f.provider_name(), Some("ram_role_arn/profile"));
        let seen = sts_server.seen();
        assert_eq!(seen.len(), 1);
        let r = &seen[0];
        assert_eq!(r.method, "GET");
        assert_eq!(param(r, "RoleArn"), Some(ROLE));
        assert_eq!(param(r, "RoleSessionName"), Some("from-ini"));
        assert_eq!(param(r, "Policy"), Some(r#"{"Version": "1"}"#));
        assert_eq!(param(r, "DurationSeconds"), Some("3600"));
        assert_eq!(param(r, "Version"), Some("2015-04-01"));
        // The role ARN may come from the environment instead.
        dir.write(
            ".alibabacloud/credentials",
            "[default]\ntype = ram_role_arn\naccess_key_id = base\naccess_key_secret = x\n",
        );
        assert_eq!(
            err(&chain(&dir, &[])).await,
            format!(
                "missing `role_arn` in profile `default` of {}, and ALIBABA_CLOUD_ROLE_ARN is \
                 not set",
                dir.0.join(".alibabacloud/credentials").display()
            )
        );
    }

    #[tokio::test]
    async fn ini_oidc_role_arn_and_the_ini_extension() {
        let dir = TempDir::new("chain-ini-oidc");
        let sts_server = TestServer::start(sts()).await;
        let token = dir.write("token", OIDC_TOKEN);
        // Only `credentials.ini` exists: it is read (Alibaba's Python library's name).
        dir.write(
            ".alibabacloud/credentials.ini",
            &format!(
                "[default]\ntype = oidc_role_arn\nrole_arn = {ROLE}\n\
                 oidc_provider_arn = {OIDC_PROVIDER}\noidc_token_file_path = {}\n",
                token.display()
            ),
        );
        let c = chain(&dir, &[]).sts_endpoint(sts_server.url.clone());
        assert_eq!(
            source(&c).await,
            ("STS.oidc".into(), "oidc_role_arn".into())
        );
        let form = sts_server.seen()[0].form();
        assert!(form.contains(&("RoleArn".into(), ROLE.into())), "{form:?}");
        assert!(form.contains(&("OIDCProviderArn".into(), OIDC_PROVIDER.into())));
    }

    #[tokio::test]
    async fn ini_ecs_ram_role() {
        let dir = TempDir::new("chain-ini-ecs");
        let imds = TestServer::start(metadata("failover", "STS.ecs")).await;
        let path = dir.write(
            ".alibabacloud/credentials",
            "[default]\ntype = ecs_ram_role\nrole_name = failover\n",
        );
        let c = chain(&dir, &[(ENV_ECS_METADATA_DISABLED, "false")])
            .ecs_metadata_endpoint(imds.url.clone());
        assert_eq!(source(&c).await, ("STS.ecs".into(), "ecs_ram_role".into()));
        // The role was named: not asked for.
        let paths: Vec<String> = imds.seen().iter().map(|r| r.path.clone()).collect();
        assert_eq!(
            paths,
            [
                "/latest/api/token",
                "/latest/meta-data/ram/security-credentials/failover"
            ]
        );
        // The variable that turns the metadata source off applies to the profile too.
        let c = chain(&dir, &[]).ecs_metadata_endpoint(imds.url.clone());
        let e = c.provide_credentials().await.unwrap_err();
        assert_eq!(
            e.message,
            format!(
                "the role in profile `default` of {} cannot be used",
                path.display()
            )
        );
        assert_eq!(
            std::error::Error::source(&e).unwrap().to_string(),
            "credentials error: ecs_ram_role: the instance metadata source is disabled by \
             ALIBABA_CLOUD_ECS_METADATA_DISABLED"
        );
    }

    #[tokio::test]
    async fn cli_ram_role_arn() {
        let dir = TempDir::new("chain-cli-ram");
        let sts_server = TestServer::start(sts()).await;
        let role = |seconds: u64| {
            cli_profile(
                "default",
                "RamRoleArn",
                &[
                    ("access_key_id", json!("base")),
                    ("access_key_secret", json!(secret_of("base"))),
                    ("ram_role_arn", json!(ROLE)),
                    ("ram_session_name", json!("cli-session")),
                    ("expired_seconds", json!(seconds)),
                    ("external_id", json!("ExTeRnAl")),
                    ("sts_region", json!("cn-shanghai")),
                ],
            )
        };
        let path = cli_config_with(&dir, "default", &[role(0)]);
        let c = chain(&dir, &[]).sts_endpoint(sts_server.url.clone());
        assert_eq!(
            source(&c).await,
            ("STS.base".into(), "ram_role_arn/cli_profile".into())
        );
        let r = &sts_server.seen()[0];
        // `expired_seconds: 0`, as `aliyun configure` writes it, is the default.
        assert_eq!(param(r, "DurationSeconds"), Some("3600"));
        assert_eq!(param(r, "RoleSessionName"), Some("cli-session"));
        assert_eq!(param(r, "ExternalId"), Some("ExTeRnAl"));
        cli_config_with(&dir, "default", &[role(1800)]);
        found(&chain(&dir, &[]).sts_endpoint(sts_server.url.clone())).await;
        assert_eq!(
            param(&sts_server.seen()[1], "DurationSeconds"),
            Some("1800")
        );
        cli_config_with(&dir, "default", &[role(300)]);
        assert_eq!(
            err(&chain(&dir, &[])).await,
            format!(
                "`expired_seconds` in profile `default` of {} is 300; the minimum is 900 \
                 (0 means 3600)",
                path.display()
            )
        );
        // Without the override, the region chooses the endpoint.
        cli_config_with(&dir, "default", &[role(0)]);
        let c = chain(&dir, &[]);
        assert!(format!("{:?}", found_source_debug(&c).await)
            .contains("https://sts.cn-shanghai.aliyuncs.com/"));
    }

    /// The `Debug` of the source a chain finds, without asking it for credentials (its role
    /// would be asked for real).
    async fn found_source_debug(c: &DefaultCredentialsChain) -> String {
        let file = CliConfigProvider::new()
            .with_context(c.ctx.clone())
            .lookup();
        format!("{:?}", file.unwrap())
    }

    #[tokio::test]
    async fn cli_ecs_ram_role() {
        let dir = TempDir::new("chain-cli-ecs");
        let imds = TestServer::start(metadata("failover", "STS.ecs")).await;
        cli_config_with(
            &dir,
            "default",
            &[cli_profile("default", "EcsRamRole", &[])],
        );
        let c = chain(&dir, &[(ENV_ECS_METADATA_DISABLED, "false")])
            .ecs_metadata_endpoint(imds.url.clone());
        assert_eq!(source(&c).await, ("STS.ecs".into(), "ecs_ram_role".into()));
        // No role named: it is asked for, with the session token.
        let paths: Vec<String> = imds.seen().iter().map(|r| r.path.clone()).collect();
        assert_eq!(
            paths,
            [
                "/latest/api/token",
                "/latest/meta-data/ram/security-credentials/",
                "/latest/meta-data/ram/security-credentials/failover"
            ]
        );
    }

    #[tokio::test]
    async fn cli_oidc() {
        let dir = TempDir::new("chain-cli-oidc");
        let sts_server = TestServer::start(sts()).await;
        let token = dir.write("token", &format!("{OIDC_TOKEN}\n"));
        cli_config_with(
            &dir,
            "default",
            &[cli_profile(
                "default",
                "OIDC",
                &[
                    ("ram_role_arn", json!(ROLE)),
                    ("oidc_provider_arn", json!(OIDC_PROVIDER)),
                    ("oidc_token_file", json!(token.to_str().unwrap())),
                    ("role_session_name", json!("oidc-session")),
                ],
            )],
        );
        let c = chain(&dir, &[]).sts_endpoint(sts_server.url.clone());
        assert_eq!(
            source(&c).await,
            ("STS.oidc".into(), "oidc_role_arn".into())
        );
        let form = sts_server.seen()[0].form();
        assert!(form.contains(&("RoleSessionName".into(), "oidc-session".into())));
        assert!(form.contains(&("DurationSeconds".into(), "3600".into())));
    }

    #[tokio::test]
    async fn cli_chainable_ram_role_arn_and_cycles() {
        let dir = TempDir::new("chain-cli-chainable");
        let sts_server = TestServer::start(sts()).await;
        let chained = |name: &str, source: &str| {
            cli_profile(
                name,
                "ChainableRamRoleArn",
                &[
                    ("source_profile", json!(source)),
                    ("ram_role_arn", json!(format!("{ROLE}-{name}"))),
                ],
            )
        };
        let base = cli_profile(
            "base",
            "RamRoleArn",
            &[
                ("access_key_id", json!("root")),
                ("access_key_secret", json!(secret_of("root"))),
                ("ram_role_arn", json!(ROLE)),
            ],
        );
        let path = cli_config_with(&dir, "top", &[base.clone(), chained("top", "base")]);
        let c = chain(&dir, &[]).sts_endpoint(sts_server.url.clone());
        // root -> (AssumeRole) STS.root -> (AssumeRole, signed with STS.root's secret and
        // token) STS.STS.root.
        assert_eq!(
            source(&c).await,
            (
                "STS.STS.root".into(),
                "ram_role_arn/ram_role_arn/cli_profile".into()
            )
        );
        let seen = sts_server.seen();
        assert_eq!(seen.len(), 2);
        assert_eq!(param(&seen[1], "AccessKeyId"), Some("STS.root"));
        assert_eq!(
            param(&seen[1], "SecurityToken"),
            Some(token_of("STS.root").as_str())
        );
        assert_eq!(
            param(&seen[1], "RoleArn"),
            Some(format!("{ROLE}-top").as_str())
        );
        // A cycle, found before anything is sent.
        cli_config_with(
            &dir,
            "a",
            &[chained("a", "b"), chained("b", "c"), chained("c", "a")],
        );
        assert_eq!(
            err(&chain(&dir, &[])).await,
            format!(
                "`source_profile` of profile `c` in {} makes a cycle: `a` -> `b` -> `c` -> `a`",
                path.display()
            )
        );
        cli_config_with(&dir, "a", &[chained("a", "a")]);
        assert_eq!(
            err(&chain(&dir, &[])).await,
            format!(
                "`source_profile` of profile `a` in {} makes a cycle: `a` -> `a`",
                path.display()
            )
        );
        cli_config_with(&dir, "a", &[chained("a", "nope"), base]);
        assert_eq!(
            err(&chain(&dir, &[])).await,
            format!(
                "source profile `nope` (from `source_profile` of profile `a`) not found in {}; \
                 profiles present: `a`, `base`",
                path.display()
            )
        );
        assert_eq!(sts_server.seen().len(), 2);
    }

    #[tokio::test]
    async fn cli_unsupported_modes() {
        let dir = TempDir::new("chain-cli-unsupported");
        for mode in ["CloudSSO", "OAuth", "External", "RsaKeyPair"] {
            let path = cli_config_with(&dir, "default", &[cli_profile("default", mode, &[])]);
            assert_eq!(
                err(&chain(&dir, &[])).await,
                format!(
                    "unsupported mode `{mode}` in profile `default` of {} (supported: `AK`, \
                     `StsToken`, `RamRoleArn`, `EcsRamRole`, `OIDC`, `ChainableRamRoleArn`)",
                    path.display()
                )
            );
        }
    }

    #[tokio::test]
    async fn a_failing_role_stops_the_chain_with_the_sts_error_beneath() {
        let dir = TempDir::new("chain-sts-error");
        let sts_server = TestServer::start(sts()).await;
        let path = dir.write(
            ".alibabacloud/credentials",
            &format!(
                "[default]\ntype = ram_role_arn\naccess_key_id = base\n\
                 access_key_secret = {SECRET}\nrole_arn = {ROLE}\n"
            ),
        );
        let e = chain(&dir, &[])
            .sts_endpoint(sts_server.url.clone())
            .provide_credentials()
            .await
            .unwrap_err();
        assert_no_secret(&e, &[SECRET]);
        assert_eq!(
            e.message,
            format!(
                "ram_role_arn: AssumeRole of role `{ROLE}` at {}/ failed",
                sts_server.url
            )
        );
        let beneath = std::error::Error::source(&e).unwrap().to_string();
        assert!(
            beneath.starts_with("AssumeRole failed with SignatureDoesNotMatch (HTTP 400)"),
            "{beneath}"
        );
        assert!(beneath.contains("request id REQ-E"), "{beneath}");
        let _ = path;
    }
}
