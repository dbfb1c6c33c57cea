//! Credentials from environment variables, and the environment access shared by every provider.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

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

/// An injected environment lookup.
pub(crate) type EnvFn = dyn Fn(&str) -> Option<String> + Send + Sync;

/// Where providers read environment variables and the home directory from: the process, or (in
/// tests and [`DefaultCredentialsChain::with_home_and_env`](super::DefaultCredentialsChain::with_home_and_env))
/// an injected lookup and home directory. Never mutates the process environment.
#[derive(Clone, Default)]
pub(crate) struct Env {
    lookup: Option<Arc<EnvFn>>,
    home: Option<PathBuf>,
}

impl Env {
    /// The process environment.
    pub(crate) fn process() -> Self {
        Env::default()
    }

    /// An injected lookup and, when given, a fixed home directory.
    pub(crate) fn injected(home: Option<PathBuf>, lookup: Arc<EnvFn>) -> Self {
        Env {
            lookup: Some(lookup),
            home,
        }
    }

    /// The variable's value, trimmed; `None` when unset, blank or not Unicode.
    pub(crate) fn var(&self, name: &str) -> Option<String> {
        let raw = match &self.lookup {
            Some(f) => f(name),
            None => std::env::var(name).ok(),
        };
        raw.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// The variable as a path (which, unlike [`var`](Self::var), may be non-Unicode), trimmed
    /// when Unicode; `None` when unset or blank.
    pub(crate) fn path(&self, name: &str) -> Option<PathBuf> {
        match &self.lookup {
            Some(_) => self.var(name).map(PathBuf::from),
            None => std::env::var_os(name)
                .map(|v| match v.into_string() {
                    Ok(s) => PathBuf::from(s.trim()),
                    Err(raw) => PathBuf::from(raw),
                })
                .filter(|p| !p.as_os_str().is_empty()),
        }
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
        match &self.lookup {
            None => Credentials::from_env(),
            Some(f) => Credentials::from_lookup(|k| f(k)),
        }
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.lookup, &self.home) {
            (None, _) => f.write_str("process environment"),
            (Some(_), Some(h)) => write!(f, "injected environment (home {})", h.display()),
            (Some(_), None) => f.write_str("injected environment"),
        }
    }
}

/// What a source found: credentials, or nothing (and where it looked, for the chain's
/// "nothing found" error). A broken source is an `Err` instead.
#[derive(Debug)]
pub(crate) enum Lookup {
    Found(Credentials),
    Absent(String),
}

impl Lookup {
    /// The credentials, or a "nothing found" error naming where the source looked.
    pub(crate) fn into_result(self) -> Result<Credentials, CredentialsError> {
        match self {
            Lookup::Found(c) => Ok(c),
            Lookup::Absent(place) => Err(CredentialsError::new(format!(
                "no credentials found: {place}"
            ))),
        }
    }
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
