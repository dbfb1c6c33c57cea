//! The default credentials chain: environment, credentials file, aliyun CLI config.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use super::cli_config::CliConfigProvider;
use super::environment::{Env, EnvironmentProvider, Lookup};
use super::profile_file::ProfileFileProvider;
use super::{Credentials, ProvideCredentials, ProvideCredentialsFuture};
use crate::error::CredentialsError;

/// Looks for credentials, in order, in
///
/// 1. the environment variables `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET`
///    and `ALIBABA_CLOUD_SECURITY_TOKEN` ([`EnvironmentProvider`]);
/// 2. the credentials file, `~/.alibabacloud/credentials` or `ALIBABA_CLOUD_CREDENTIALS_FILE`
///    ([`ProfileFileProvider`]);
/// 3. the aliyun CLI config, `~/.aliyun/config.json` ([`CliConfigProvider`]).
///
/// Credentials given explicitly to the client builder come before all of these: the full order
/// is explicit credentials (client builder) → environment → credentials file → CLI config. The
/// profile, in either file, is chosen by `ALIBABA_CLOUD_PROFILE`.
///
/// A source that is simply absent is skipped: the variables unset, a file that does not exist at
/// its default path, no `default` profile when no profile was chosen, a profile with
/// `enable = false`. A source that is present but broken stops the chain with its error at once,
/// so that a mistake is reported rather than hidden by the next source: only one of the id and
/// secret variables set, a file chosen by `ALIBABA_CLOUD_CREDENTIALS_FILE` that does not exist,
/// a syntax error or malformed JSON, a missing or mistyped field, an unsupported type or mode,
/// or a profile chosen by `ALIBABA_CLOUD_PROFILE` (or the CLI config's `current`) that the file
/// does not have. When no source has credentials, the error lists every place looked at:
///
/// ```text
/// credentials error: no credentials found; looked at: environment variables
/// ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (not set); credentials file
/// /home/me/.alibabacloud/credentials (does not exist); aliyun CLI config
/// /home/me/.aliyun/config.json (does not exist)
/// ```
///
/// The first credentials found are cached for the life of the chain (credentials from these
/// sources are static; restart to pick up a change). Errors are not cached: the next call looks
/// again. Looking reads two small files with blocking I/O.
///
/// ```no_run
/// use alibabacloud_ens::credentials::DefaultCredentialsChain;
/// use alibabacloud_ens::ProvideCredentials;
///
/// # async fn run() -> Result<(), alibabacloud_ens::error::CredentialsError> {
/// let chain = DefaultCredentialsChain::new();
/// let credentials = chain.provide_credentials().await?;
/// println!("using AccessKey {}", credentials.access_key_id());
/// # Ok(())
/// # }
/// ```
pub struct DefaultCredentialsChain {
    env: EnvironmentProvider,
    file: ProfileFileProvider,
    cli: CliConfigProvider,
    cached: OnceLock<Credentials>,
}

impl DefaultCredentialsChain {
    /// The chain over the process environment and the user's home directory.
    pub fn new() -> Self {
        Self::from_env(Env::process())
    }

    /// The chain with home directory `home` and environment variables read from `env` instead
    /// of the process (the process environment is not read at all). For tests, and for
    /// programs that resolve credentials on behalf of another user.
    ///
    /// ```
    /// use alibabacloud_ens::credentials::DefaultCredentialsChain;
    ///
    /// let chain = DefaultCredentialsChain::with_home_and_env("/nonexistent", |name| match name {
    ///     "ALIBABA_CLOUD_ACCESS_KEY_ID" => Some("LTAI5tExample".to_owned()),
    ///     "ALIBABA_CLOUD_ACCESS_KEY_SECRET" => Some("example-secret".to_owned()),
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
            env: EnvironmentProvider::from_source(env.clone()),
            file: ProfileFileProvider::new().with_env(env.clone()),
            cli: CliConfigProvider::new().with_env(env),
            cached: OnceLock::new(),
        }
    }

    fn resolve(&self) -> Result<Credentials, CredentialsError> {
        if let Some(c) = self.cached.get() {
            return Ok(c.clone());
        }
        let sources: [&dyn Fn() -> Result<Lookup, CredentialsError>; 3] =
            [&|| self.env.lookup(), &|| self.file.lookup(), &|| {
                self.cli.lookup()
            }];
        let mut looked_at = Vec::with_capacity(sources.len());
        for source in sources {
            match source()? {
                Lookup::Found(c) => return Ok(self.cached.get_or_init(|| c).clone()),
                Lookup::Absent(place) => looked_at.push(place),
            }
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
            .field("env", &self.env)
            .field("file", &self.file)
            .field("cli", &self.cli)
            .field("cached", &self.cached.get().is_some())
            .finish()
    }
}

impl ProvideCredentials for DefaultCredentialsChain {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        Box::pin(async move { self.resolve() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::environment::tests::{assert_no_secret, TempDir};
    use crate::credentials::environment::{ENV_CREDENTIALS_FILE, ENV_PROFILE};
    use crate::credentials::{ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET};
    use std::collections::HashMap;

    const SECRET: &str = "ChAiNsEcReT345";

    fn chain(dir: &TempDir, env: &[(&str, &str)]) -> DefaultCredentialsChain {
        let map: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
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

    fn cli_config(dir: &TempDir, id: &str) -> PathBuf {
        dir.write(
            ".aliyun/config.json",
            &format!(
                r#"{{"current": "default", "profiles": [{{"name": "default", "mode": "AK",
                    "access_key_id": "{id}", "access_key_secret": "{SECRET}"}}]}}"#
            ),
        )
    }

    const ENV_CREDS: [(&str, &str); 2] = [
        (ENV_ACCESS_KEY_ID, "from-env"),
        (ENV_ACCESS_KEY_SECRET, SECRET),
    ];

    fn id(c: &DefaultCredentialsChain) -> String {
        c.resolve().unwrap().access_key_id().to_owned()
    }

    fn err(c: &DefaultCredentialsChain) -> String {
        let e = c.resolve().unwrap_err();
        assert_no_secret(&e, &[SECRET]);
        assert!(!format!("{c:?}").contains(SECRET));
        e.message
    }

    #[test]
    fn order_env_then_file_then_cli_config() {
        let dir = TempDir::new("chain-order");
        cli_config(&dir, "from-cli");
        assert_eq!(id(&chain(&dir, &[])), "from-cli");
        creds_file(&dir, "from-file");
        assert_eq!(id(&chain(&dir, &[])), "from-file");
        assert_eq!(id(&chain(&dir, &ENV_CREDS)), "from-env");
    }

    #[test]
    fn broken_file_is_an_error_not_a_fall_through() {
        let dir = TempDir::new("chain-broken");
        cli_config(&dir, "from-cli");
        let path = dir.write(
            ".alibabacloud/credentials",
            &format!("[default]\ntype = access_key\naccess_key_secret = {SECRET}\n"),
        );
        assert_eq!(
            err(&chain(&dir, &[])),
            format!(
                "missing `access_key_id` in profile `default` of {}",
                path.display()
            )
        );
        dir.write(
            ".alibabacloud/credentials",
            "[default]\ntype = ram_role_arn\n",
        );
        assert_eq!(
            err(&chain(&dir, &[])),
            format!(
                "unsupported credentials type `ram_role_arn` in profile `default` of {} \
                 (supported: `access_key`, `sts`)",
                path.display()
            )
        );
        dir.write(
            ".alibabacloud/credentials",
            &format!("[default]\n{SECRET}\n"),
        );
        assert_eq!(
            err(&chain(&dir, &[])),
            format!(
                "syntax error at line 2 of {}: expected `[profile]`, `key = value` or a comment",
                path.display()
            )
        );
        // But env credentials still come first, a broken file notwithstanding.
        assert_eq!(id(&chain(&dir, &ENV_CREDS)), "from-env");
        // A half-set environment is an error too.
        assert_eq!(
            err(&chain(&dir, &[(ENV_ACCESS_KEY_ID, "id")])),
            "ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET is not"
        );
    }

    #[test]
    fn chosen_profile_or_file_missing_is_an_error() {
        let dir = TempDir::new("chain-chosen");
        cli_config(&dir, "from-cli");
        let path = creds_file(&dir, "from-file");
        assert_eq!(
            err(&chain(&dir, &[(ENV_PROFILE, "prod")])),
            format!(
                "profile `prod` (from ALIBABA_CLOUD_PROFILE) not found in {}; \
                 profiles present: `default`",
                path.display()
            )
        );
        let missing = dir.0.join("missing");
        assert_eq!(
            err(&chain(
                &dir,
                &[(ENV_CREDENTIALS_FILE, missing.to_str().unwrap())]
            )),
            format!(
                "credentials file {} (from ALIBABA_CLOUD_CREDENTIALS_FILE) does not exist",
                missing.display()
            )
        );
    }

    #[test]
    fn profile_variable_applies_to_the_cli_config_too() {
        let dir = TempDir::new("chain-profile");
        let cli = dir.write(
            ".aliyun/config.json",
            &format!(
                r#"{{"current": "default", "profiles": [
                    {{"name": "default", "mode": "AK", "access_key_id": "cli-default",
                      "access_key_secret": "{SECRET}"}},
                    {{"name": "prod", "mode": "StsToken", "access_key_id": "cli-prod",
                      "access_key_secret": "{SECRET}", "sts_token": "tok"}}]}}"#
            ),
        );
        let c = chain(&dir, &[(ENV_PROFILE, "prod")]).resolve().unwrap();
        assert_eq!(c.access_key_id(), "cli-prod");
        assert_eq!(c.security_token(), Some("tok"));
        assert_eq!(
            err(&chain(&dir, &[(ENV_PROFILE, "qa")])),
            format!(
                "profile `qa` (from ALIBABA_CLOUD_PROFILE) not found in {}; \
                 profiles present: `default`, `prod`",
                cli.display()
            )
        );
    }

    #[test]
    fn absent_or_disabled_profile_falls_through() {
        let dir = TempDir::new("chain-disabled");
        cli_config(&dir, "from-cli");
        dir.write(
            ".alibabacloud/credentials",
            "[default]\nenable = false\ntype = sts\n",
        );
        assert_eq!(id(&chain(&dir, &[])), "from-cli");
        dir.write(".alibabacloud/credentials", "[prod]\ntype = access_key\n");
        assert_eq!(id(&chain(&dir, &[])), "from-cli");
    }

    #[test]
    fn nothing_found_lists_every_place() {
        let dir = TempDir::new("chain-nothing");
        assert_eq!(
            err(&chain(&dir, &[])),
            format!(
                "no credentials found; looked at: environment variables \
                 ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (not set); \
                 credentials file {} (does not exist); aliyun CLI config {} (does not exist)",
                dir.0.join(".alibabacloud").join("credentials").display(),
                dir.0.join(".aliyun").join("config.json").display()
            )
        );
        let path = dir.write(".alibabacloud/credentials", "[default]\nenable = false\n");
        let cli = dir.write(".aliyun/config.json", r#"{"profiles": []}"#);
        assert_eq!(
            err(&chain(&dir, &[])),
            format!(
                "no credentials found; looked at: environment variables \
                 ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (not set); \
                 credentials file {} (profile `default` is disabled: `enable = false`); \
                 aliyun CLI config {} (no profile `default`; profiles present: none)",
                path.display(),
                cli.display()
            )
        );
    }

    #[tokio::test]
    async fn caches_the_first_credentials_found() {
        let dir = TempDir::new("chain-cache");
        let c = chain(&dir, &[]);
        // Nothing yet: errors are not cached.
        assert!(c.provide_credentials().await.is_err());
        creds_file(&dir, "first");
        assert_eq!(
            c.provide_credentials().await.unwrap().access_key_id(),
            "first"
        );
        creds_file(&dir, "second");
        assert_eq!(
            c.provide_credentials().await.unwrap().access_key_id(),
            "first"
        );
        std::fs::remove_dir_all(dir.0.join(".alibabacloud")).unwrap();
        assert_eq!(
            c.provide_credentials().await.unwrap().access_key_id(),
            "first"
        );
        assert!(format!("{c:?}").contains("cached: true"));
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
}
