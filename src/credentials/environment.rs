//! Credentials from environment variables, and the environment access shared by every provider.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use crate::clock::{Clock, TokioClock};

use super::ecs_ram_role::{EcsRamRoleProvider, EcsRamRoleProviderBuilder};
use super::oidc::{OidcRoleArnProvider, OidcRoleArnProviderBuilder};
use super::ram_role_arn::{RamRoleArnProvider, RamRoleArnProviderBuilder};
use super::{
    Credentials, ProvideCredentials, ProvideCredentialsFuture, ENV_ACCESS_KEY_ID,
    ENV_ACCESS_KEY_SECRET,
};
use crate::error::CredentialsError;

/// Environment variable selecting the profile, in the credentials file and in the aliyun CLI
/// config alike.
pub const ENV_PROFILE: &str = "ALIBABA_CLOUD_PROFILE";
/// Environment variable overriding the path of the credentials file.
pub const ENV_CREDENTIALS_FILE: &str = "ALIBABA_CLOUD_CREDENTIALS_FILE";
/// Environment variable that, set to `true` (any case), takes the aliyun CLI config out of the
/// default chain.
pub const ENV_CLI_PROFILE_DISABLED: &str = "ALIBABA_CLOUD_CLI_PROFILE_DISABLED";
/// Environment variable naming the instance's RAM role (otherwise the metadata service is asked).
pub const ENV_ECS_METADATA: &str = "ALIBABA_CLOUD_ECS_METADATA";
/// Environment variable that, set to `true` (any case), turns the instance metadata source off:
/// it leaves the default chain, and building an [`EcsRamRoleProvider`](super::EcsRamRoleProvider)
/// fails.
pub const ENV_ECS_METADATA_DISABLED: &str = "ALIBABA_CLOUD_ECS_METADATA_DISABLED";
/// Environment variable that, set to `true` (any case), forbids the metadata service's IMDSv1
/// fallback (requests without a session token).
pub const ENV_IMDSV1_DISABLED: &str = "ALIBABA_CLOUD_IMDSV1_DISABLED";
/// Environment variable holding the RAM role ARN (OIDC; also the default of the credentials
/// file's `ram_role_arn` and `oidc_role_arn` profiles).
pub const ENV_ROLE_ARN: &str = "ALIBABA_CLOUD_ROLE_ARN";
/// Environment variable holding the OIDC provider ARN (RRSA).
pub const ENV_OIDC_PROVIDER_ARN: &str = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN";
/// Environment variable holding the path of the OIDC token file (RRSA).
pub const ENV_OIDC_TOKEN_FILE: &str = "ALIBABA_CLOUD_OIDC_TOKEN_FILE";
/// Environment variable holding the role session name of the STS sources.
pub const ENV_ROLE_SESSION_NAME: &str = "ALIBABA_CLOUD_ROLE_SESSION_NAME";
/// Environment variable choosing the STS region (`sts.<region>.aliyuncs.com`).
pub const ENV_STS_REGION: &str = "ALIBABA_CLOUD_STS_REGION";
/// Environment variable that, set to `true` (any case), selects the VPC STS endpoint
/// (`sts-vpc.<region>.aliyuncs.com`; only when a region is known).
pub const ENV_VPC_ENDPOINT_ENABLED: &str = "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED";
/// Environment variable holding the credentials URI.
pub const ENV_CREDENTIALS_URI: &str = "ALIBABA_CLOUD_CREDENTIALS_URI";

/// Every variable a provider reads: what a snapshot keeps.
const KNOWN: &[&str] = &[
    super::ENV_ACCESS_KEY_ID,
    super::ENV_ACCESS_KEY_SECRET,
    super::ENV_SECURITY_TOKEN,
    ENV_PROFILE,
    ENV_CREDENTIALS_FILE,
    ENV_CLI_PROFILE_DISABLED,
    ENV_ECS_METADATA,
    ENV_ECS_METADATA_DISABLED,
    ENV_IMDSV1_DISABLED,
    ENV_ROLE_ARN,
    ENV_OIDC_PROVIDER_ARN,
    ENV_OIDC_TOKEN_FILE,
    ENV_ROLE_SESSION_NAME,
    ENV_STS_REGION,
    ENV_VPC_ENDPOINT_ENABLED,
    ENV_CREDENTIALS_URI,
    "HOME",
    "USERPROFILE",
];

/// An injected environment lookup.
pub(crate) type EnvFn = dyn Fn(&str) -> Option<String> + Send + Sync;

/// Where providers read environment variables and the home directory from: the process (read
/// at each use), an injected lookup (tests and
/// [`DefaultCredentialsChain::with_home_and_env`](super::DefaultCredentialsChain::with_home_and_env)),
/// or a snapshot of either taken once (what the default chain uses). Never mutates the process
/// environment.
#[derive(Clone, Default)]
pub(crate) struct Env {
    source: Source,
    home: Option<PathBuf>,
}

#[derive(Clone, Default)]
enum Source {
    #[default]
    Process,
    Injected(Arc<EnvFn>),
    Snapshot(Arc<Vec<(&'static str, OsString)>>),
}

impl Env {
    /// The process environment.
    pub(crate) fn process() -> Self {
        Env::default()
    }

    /// An injected lookup and, when given, a fixed home directory.
    pub(crate) fn injected(home: Option<PathBuf>, lookup: Arc<EnvFn>) -> Self {
        Env {
            source: Source::Injected(lookup),
            home,
        }
    }

    /// The same environment with every variable a provider reads copied now: later changes are
    /// not seen.
    pub(crate) fn snapshot(self) -> Self {
        let vars = KNOWN
            .iter()
            .filter_map(|&name| self.raw(name).map(|v| (name, v)))
            .collect();
        Env {
            source: Source::Snapshot(Arc::new(vars)),
            home: self.home,
        }
    }

    fn raw(&self, name: &str) -> Option<OsString> {
        match &self.source {
            Source::Process => std::env::var_os(name),
            Source::Injected(f) => f(name).map(OsString::from),
            Source::Snapshot(vars) => {
                debug_assert!(KNOWN.contains(&name), "{name} is not in the snapshot list");
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.clone())
            }
        }
    }

    /// The variable's value, trimmed; `None` when unset, blank or not Unicode.
    pub(crate) fn var(&self, name: &str) -> Option<String> {
        self.raw(name)
            .and_then(|v| v.into_string().ok())
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// `true` when the variable is `true`, in any case.
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.var(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// The variable as a path (which, unlike [`var`](Self::var), may be non-Unicode), trimmed
    /// when Unicode; `None` when unset or blank.
    pub(crate) fn path(&self, name: &str) -> Option<PathBuf> {
        self.raw(name)
            .map(|v| match v.into_string() {
                Ok(s) => PathBuf::from(s.trim()),
                Err(raw) => PathBuf::from(raw),
            })
            .filter(|p| !p.as_os_str().is_empty())
    }

    /// The home directory, or why it is unknown.
    pub(crate) fn home(&self) -> Result<PathBuf, String> {
        if let Some(h) = &self.home {
            return Ok(h.clone());
        }
        let vars: &[&str] = if cfg!(windows) {
            &["USERPROFILE", "HOME"]
        } else {
            &["HOME"]
        };
        vars.iter()
            .find_map(|v| self.path(v))
            .ok_or_else(|| match vars {
                [one] => format!("home directory unknown: {one} is not set"),
                _ => format!("home directory unknown: {} are not set", vars.join(" and ")),
            })
    }

    fn credentials(&self) -> Result<Credentials, CredentialsError> {
        Credentials::from_lookup(|k| self.var(k)).map(|c| c.with_provider_name("env"))
    }
}

/// What a provider built from configuration (a file, the chain) needs besides the environment:
/// the clock its cache runs on, and the endpoints tests point at 127.0.0.1.
#[derive(Clone, Debug)]
pub(crate) struct Context {
    pub(crate) env: Env,
    pub(crate) clock: Arc<dyn Clock>,
    /// Replaces the STS endpoint of every STS source built (a host, or a URL with its scheme).
    pub(crate) sts_endpoint: Option<String>,
    /// Replaces the instance metadata endpoint (`http://100.100.100.200`).
    pub(crate) metadata_endpoint: Option<String>,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            env: Env::process(),
            clock: Arc::new(TokioClock),
            sts_endpoint: None,
            metadata_endpoint: None,
        }
    }
}

impl Context {
    pub(crate) fn with_env(env: Env) -> Self {
        Context {
            env,
            ..Context::default()
        }
    }

    /// A RAM role builder reading this environment, on this clock, at the overriding STS
    /// endpoint if any.
    pub(crate) fn ram_role_arn(
        &self,
        source: Arc<dyn ProvideCredentials>,
        role_arn: String,
    ) -> RamRoleArnProviderBuilder {
        let b = RamRoleArnProvider::builder_shared(source, role_arn)
            .env(self.env.clone())
            .shared_clock(Arc::clone(&self.clock));
        match &self.sts_endpoint {
            Some(e) => b.sts_endpoint(e.clone()),
            None => b,
        }
    }

    /// An OIDC role builder, likewise.
    pub(crate) fn oidc_role_arn(
        &self,
        role_arn: String,
        oidc_provider_arn: String,
        token_file: PathBuf,
    ) -> OidcRoleArnProviderBuilder {
        let b = OidcRoleArnProvider::builder(role_arn, oidc_provider_arn, token_file)
            .env(self.env.clone())
            .shared_clock(Arc::clone(&self.clock));
        match &self.sts_endpoint {
            Some(e) => b.sts_endpoint(e.clone()),
            None => b,
        }
    }

    /// An instance RAM role builder reading this environment, on this clock, at the overriding
    /// metadata endpoint if any.
    pub(crate) fn ecs_ram_role(&self) -> EcsRamRoleProviderBuilder {
        let b = EcsRamRoleProvider::builder()
            .env(self.env.clone())
            .shared_clock(Arc::clone(&self.clock));
        match &self.metadata_endpoint {
            Some(e) => b.endpoint(e.clone()),
            None => b,
        }
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.source {
            Source::Process => "process environment",
            Source::Injected(_) => "injected environment",
            Source::Snapshot(_) => "environment snapshot",
        })?;
        match &self.home {
            Some(h) => write!(f, " (home {})", h.display()),
            None => Ok(()),
        }
    }
}

/// What a source found: credentials, a provider to ask for them (a role: the file or variables
/// name it, the STS or the metadata service has the credentials), or nothing (and where it
/// looked, for the chain's "nothing found" error). A broken source is an `Err` instead.
#[derive(Debug)]
pub(crate) enum Lookup {
    Found(Credentials),
    Provider(Arc<dyn ProvideCredentials>),
    Absent(String),
}

impl Lookup {
    /// The provider to ask, or a "nothing found" error naming where the source looked.
    pub(crate) fn into_provider(self) -> Result<Arc<dyn ProvideCredentials>, CredentialsError> {
        match self {
            Lookup::Found(c) => Ok(Arc::new(c)),
            Lookup::Provider(p) => Ok(p),
            Lookup::Absent(place) => Err(CredentialsError::new(format!(
                "no credentials found: {place}"
            ))),
        }
    }
}

/// What a file source (the credentials file, the CLI config) answers: a role its first lookup
/// found is kept in `role` and asked from then on (it refreshes itself); anything else is
/// looked up again on every call, so an edited file is read anew.
pub(crate) async fn provide_from_lookup(
    role: &OnceLock<Arc<dyn ProvideCredentials>>,
    lookup: impl FnOnce() -> Result<Lookup, CredentialsError>,
) -> Result<Credentials, CredentialsError> {
    let role = match role.get() {
        Some(role) => role,
        None => match lookup()? {
            Lookup::Provider(p) => role.get_or_init(|| p),
            other => return other.into_provider()?.provide_credentials().await,
        },
    };
    role.provide_credentials().await
}

/// Why a path or profile name was chosen; errors say so, because a surprising choice (a
/// forgotten `ALIBABA_CLOUD_PROFILE`) is the usual cause of "profile not found".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Set on the provider by its constructor or builder method.
    Given,
    /// From the named environment variable.
    Var(&'static str),
    /// From the `current` field of the aliyun CLI config.
    Current,
    /// The built-in default.
    Default,
}

impl Origin {
    /// A parenthesised note for error messages (empty for the default).
    pub(crate) fn note(self) -> String {
        match self {
            Origin::Given => " (set on the provider)".to_owned(),
            Origin::Var(v) => format!(" (from {v})"),
            Origin::Current => " (from `current`)".to_owned(),
            Origin::Default => String::new(),
        }
    }
}

/// "`a`, `b`", or "none".
pub(crate) fn list_names<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let v: Vec<String> = names.into_iter().map(|n| format!("`{n}`")).collect();
    if v.is_empty() {
        "none".to_owned()
    } else {
        v.join(", ")
    }
}

/// Credentials from `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and,
/// when set, `ALIBABA_CLOUD_SECURITY_TOKEN` (see [`Credentials::from_env`]).
///
/// The variables are read on every call, so a change to the environment is seen at once. Blank
/// values count as unset; values are trimmed.
///
/// # Errors
///
/// After `credentials error: `:
///
/// ```text
/// ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET is not
/// ALIBABA_CLOUD_ACCESS_KEY_SECRET is set but ALIBABA_CLOUD_ACCESS_KEY_ID is not
/// ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set
/// ```
///
/// The last only on its own: in [`DefaultCredentialsChain`](super::DefaultCredentialsChain)
/// unset variables mean "try the next source", while the first two stop the chain.
///
/// ```
/// use alibabacloud_ens::credentials::EnvironmentProvider;
/// let provider = EnvironmentProvider::new();
/// # let _ = provider;
/// ```
#[derive(Debug, Clone, Default)]
pub struct EnvironmentProvider {
    env: Env,
}

impl EnvironmentProvider {
    /// Reads the process environment.
    pub fn new() -> Self {
        EnvironmentProvider {
            env: Env::process(),
        }
    }

    pub(crate) fn from_source(env: Env) -> Self {
        EnvironmentProvider { env }
    }

    /// `Absent` when neither the id nor the secret is set (blank counts as unset); an error when
    /// only one of them is.
    pub(crate) fn lookup(&self) -> Result<Lookup, CredentialsError> {
        if self.env.var(ENV_ACCESS_KEY_ID).is_none()
            && self.env.var(ENV_ACCESS_KEY_SECRET).is_none()
        {
            return Ok(Lookup::Absent(format!(
                "environment variables {ENV_ACCESS_KEY_ID} and {ENV_ACCESS_KEY_SECRET} (not set)"
            )));
        }
        self.env.credentials().map(Lookup::Found)
    }
}

impl ProvideCredentials for EnvironmentProvider {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        Box::pin(async move { self.env.credentials() })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::credentials::ENV_SECURITY_TOKEN;
    use std::collections::HashMap;

    /// An injected lookup over fixed pairs.
    pub(crate) fn lookup(pairs: &[(&str, &str)]) -> Arc<EnvFn> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Arc::new(move |k: &str| map.get(k).cloned())
    }

    /// Asserts that none of `secrets` appears in the error's `Display` or `Debug`.
    pub(crate) fn assert_no_secret(e: &CredentialsError, secrets: &[&str]) {
        let shown = [e.to_string(), format!("{e:?}"), format!("{e:#?}")];
        for s in secrets {
            for text in &shown {
                assert!(!text.contains(s), "secret `{s}` leaked in: {text}");
            }
        }
    }

    /// A directory under `std::env::temp_dir()` with a unique name, removed on drop.
    pub(crate) struct TempDir(pub(crate) PathBuf);

    impl TempDir {
        pub(crate) fn new(tag: &str) -> TempDir {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let dir = std::env::temp_dir().join(format!(
                "alibabacloud-ens-{tag}-{}-{}-{nanos}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        /// Writes `contents` to `rel` (creating parent directories) and returns its path.
        pub(crate) fn write(&self, rel: &str, contents: &str) -> PathBuf {
            let p = self.0.join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).unwrap();
            }
            std::fs::write(&p, contents).unwrap();
            p
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn provider(pairs: &[(&str, &str)]) -> EnvironmentProvider {
        EnvironmentProvider::from_source(Env::injected(None, lookup(pairs)))
    }

    #[test]
    fn absent_when_neither_is_set() {
        match provider(&[(ENV_SECURITY_TOKEN, "TOKENVALUE")]).lookup() {
            Ok(Lookup::Absent(place)) => assert_eq!(
                place,
                "environment variables ALIBABA_CLOUD_ACCESS_KEY_ID and \
                 ALIBABA_CLOUD_ACCESS_KEY_SECRET (not set)"
            ),
            other => panic!("{other:?}"),
        }
        match provider(&[(ENV_ACCESS_KEY_ID, "  ")]).lookup() {
            Ok(Lookup::Absent(_)) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn half_set_is_an_error() {
        let e = provider(&[(ENV_ACCESS_KEY_SECRET, "SECRETVALUE")])
            .lookup()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "credentials error: ALIBABA_CLOUD_ACCESS_KEY_SECRET is set but \
             ALIBABA_CLOUD_ACCESS_KEY_ID is not"
        );
        assert_no_secret(&e, &["SECRETVALUE"]);
    }

    #[tokio::test]
    async fn provides_sts_credentials() {
        let p = provider(&[
            (ENV_ACCESS_KEY_ID, "id"),
            (ENV_ACCESS_KEY_SECRET, "secret"),
            (ENV_SECURITY_TOKEN, "tok"),
        ]);
        let c = p.provide_credentials().await.unwrap();
        assert_eq!(c.access_key_id(), "id");
        assert_eq!(c.access_key_secret(), "secret");
        assert_eq!(c.security_token(), Some("tok"));
        let e = provider(&[(ENV_SECURITY_TOKEN, "TOKENVALUE")])
            .provide_credentials()
            .await
            .unwrap_err();
        assert_no_secret(&e, &["TOKENVALUE"]);
        assert_eq!(
            e.to_string(),
            "credentials error: ALIBABA_CLOUD_ACCESS_KEY_ID and \
             ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set"
        );
    }

    #[test]
    fn home_from_injected_env() {
        let env = Env::injected(None, lookup(&[("HOME", "/h"), ("USERPROFILE", "/h")]));
        assert_eq!(env.home().unwrap(), PathBuf::from("/h"));
        let env = Env::injected(None, lookup(&[]));
        assert!(env
            .home()
            .unwrap_err()
            .starts_with("home directory unknown: "));
        let env = Env::injected(Some("/fixed".into()), lookup(&[("HOME", "/h")]));
        assert_eq!(env.home().unwrap(), PathBuf::from("/fixed"));
    }
}
