//! Credentials: an AccessKey pair, optionally with an STS security token, and where they come
//! from — the environment, Alibaba's credentials files, a RAM role (from a key, an OIDC token
//! or the instance metadata service), a credentials URI — refreshed before they expire.
//!
//! [`Credentials`] never shows its secret or token in `Debug`; it has no `Display`.
//! [`ProvideCredentials`] is the trait a source of credentials implements; the client asks its
//! provider before every attempt, so credentials that refresh just work, a long waiter
//! included.
//!
//! # Where credentials come from
//!
//! In order, the first source that has credentials wins (Alibaba's current libraries' order):
//!
//! 1. credentials given explicitly to the client builder;
//! 2. the environment variables [`ENV_ACCESS_KEY_ID`], [`ENV_ACCESS_KEY_SECRET`] and, for STS,
//!    [`ENV_SECURITY_TOKEN`] ([`EnvironmentProvider`]);
//! 3. the OIDC role (RRSA on ACK), when [`ENV_ROLE_ARN`], [`ENV_OIDC_PROVIDER_ARN`] and
//!    [`ENV_OIDC_TOKEN_FILE`] are all set ([`OidcRoleArnProvider`]);
//! 4. the aliyun CLI config ([`CliConfigProvider`]), unless [`ENV_CLI_PROFILE_DISABLED`];
//! 5. the credentials file ([`ProfileFileProvider`]);
//! 6. the RAM role of the ECS/ENS instance, from the metadata service
//!    ([`EcsRamRoleProvider`]), unless [`ENV_ECS_METADATA_DISABLED`];
//! 7. the credentials URI in [`ENV_CREDENTIALS_URI`], when set ([`CredentialsUriProvider`]).
//!
//! Steps 2–7 are [`DefaultCredentialsChain`], which reads the environment **once, when it is
//! built**. In both files the profile is chosen by [`ENV_PROFILE`] (`ALIBABA_CLOUD_PROFILE`).
//! A source that is absent (variables unset, no file, no metadata service) is skipped; a
//! source that is present but broken (syntax error, missing key, unsupported type, a chosen
//! profile the file lacks, a role STS refuses) is an error, reported at once rather than
//! hidden by the next source. Errors name the variable, the file and the line or key, the STS
//! call (its error code and request id in the [`source`](std::error::Error::source)) or the
//! metadata path; never a secret, a token, a signature or a value from an answer.
//!
//! # Roles: STS credentials that expire
//!
//! | source | how | named |
//! |---|---|---|
//! | [`RamRoleArnProvider`] | STS `AssumeRole` (2015-04-01), signed with V1 by the credentials of any other provider (chainable) | `ram_role_arn/<source>` |
//! | [`OidcRoleArnProvider`] | STS `AssumeRoleWithOIDC`, unsigned, with the token file read at every refresh | `oidc_role_arn` |
//! | [`EcsRamRoleProvider`] | the metadata service: session token, role name, credentials | `ecs_ram_role` |
//! | [`CredentialsUriProvider`] | a `GET` of your endpoint | `credential_uri` |
//!
//! The names (Alibaba's) are on the credentials ([`Credentials::provider_name`]). STS
//! endpoints follow Alibaba's rules ([`sts_endpoint`]): `sts.aliyuncs.com`, or
//! `sts.<region>.aliyuncs.com` with [`ENV_STS_REGION`] or a region on the builder, `sts-vpc.`
//! with [`ENV_VPC_ENDPOINT_ENABLED`]; an explicit endpoint wins.
//!
//! # Refresh
//!
//! Every expiring source runs on one cache, [`RefreshingProvider`] (wrap your own source in it
//! too):
//!
//! * cached credentials are served until a *refresh window* before expiry: 5 minutes, or a
//!   quarter of their lifetime when that is shorter (credentials that live for seconds are
//!   refreshed too);
//! * then **one** refresh runs in the background while every caller keeps getting the cached
//!   credentials; callers with nothing usable wait for that one refresh, however many they are;
//! * a failed refresh keeps serving credentials that are still valid, and the next one waits a
//!   jittered backoff (1 s doubling to 60 s, at most half the time left), not the next call;
//! * credentials are never used in their last 10 seconds (a tenth of their lifetime when
//!   shorter), nor after;
//! * all of it reads an injected [`Clock`](crate::clock::Clock), so tests drive every case
//!   without sleeping.
//!
//! # Where this crate differs from Alibaba's library, and why
//!
//! * **A failed refresh is not an error while the credentials are valid.** Alibaba's Python
//!   library refreshes STS credentials synchronously 15 minutes before expiry and fails the
//!   call when that refresh fails, although the credentials it holds are good for 15 more
//!   minutes; and when STS grants less than 15 minutes, it calls STS on every request. Here
//!   the window is proportional, the refresh is in the background, and a failure costs nothing
//!   until the credentials really run out.
//! * **No stampede.** Its lock times out after 5 s and then lets every waiting caller refresh;
//!   here callers wait for the one refresh in flight (or take the cached credentials).
//! * **AssumeRole is signed with the standard percent-encoding** (space as `%20`, as Alibaba's
//!   Go library and the POP specification), not Python's `+`.
//! * **OIDC is a `POST` with a form body** (as Go): a long token does not fit every URL.
//! * **`expired_seconds: 0` in the CLI config means 3600 s** (as Go; what `aliyun configure`
//!   writes), where Python refuses it. **`ChainableRamRoleArn` cycles are an error** naming the
//!   cycle, where Python overflows its stack.
//! * **The credentials file** is `ALIBABA_CLOUD_CREDENTIALS_FILE`, else
//!   `~/.alibabacloud/credentials` (Go, Java, PHP and the docs), else
//!   `~/.alibabacloud/credentials.ini` (Python) when only that exists. Its `type = sts` is
//!   kept (Python refuses it; users have it).
//! * **A broken source is an error**, where Alibaba's chain records it and moves on (except the
//!   metadata service, which is probed: when it cannot be reached or fails, the chain moves on
//!   as Alibaba's does). A profile chosen by `ALIBABA_CLOUD_PROFILE` that only the credentials
//!   file has is not a mistake in the CLI config.
//! * **The instance role name and the OIDC token are trimmed** (a trailing newline broke
//!   Python's requests). An empty `ALIBABA_CLOUD_SECURITY_TOKEN` is no token.
//! * **The environment is read when the chain is built**, not when the module is imported.
//! * Not implemented: the CLI modes `CloudSSO`, `OAuth` and `External`, and the INI
//!   `rsa_key_pair` type (reported as unsupported).
//!
//! # The credentials file
//!
//! `~/.alibabacloud/credentials` (the home directory is `HOME`; on Windows `USERPROFILE`), or
//! `credentials.ini` beside it when only that exists, or the path in [`ENV_CREDENTIALS_FILE`]
//! (`ALIBABA_CLOUD_CREDENTIALS_FILE`). INI: `[profile]` sections of `key = value` lines; the
//! profile is [`ENV_PROFILE`] or `default`.
//!
//! ```ini
//! # ~/.alibabacloud/credentials
//! [default]
//! type = access_key                 # long-term AccessKey
//! access_key_id = LTAI5tExample
//! access_key_secret = "my-secret"   ; quotes are optional
//!
//! [temporary]
//! type = sts                        # STS credentials
//! access_key_id = STS.NTExample
//! access_key_secret = my-sts-secret
//! security_token = CAIS...
//!
//! [role]
//! type = ram_role_arn               # a RAM role assumed with this AccessKey
//! access_key_id = LTAI5tExample
//! access_key_secret = my-secret
//! role_arn = acs:ram::1234567890:role/failover
//! role_session_name = failover-controller
//!
//! [pod]
//! type = oidc_role_arn              # RRSA
//! role_arn = acs:ram::1234567890:role/pod
//! oidc_provider_arn = acs:ram::1234567890:oidc-provider/ack-rrsa-example
//! oidc_token_file_path = /var/run/secrets/tokens/oidc-token
//!
//! [instance]
//! type = ecs_ram_role               # the instance's RAM role
//! role_name = failover-controller
//!
//! [off]
//! enable = false                    # skipped, as if absent
//! type = access_key
//! ```
//!
//! Lines starting with `#` or `;` are comments, as is the rest of a line after a `#` or `;`
//! that starts an unquoted value or follows whitespace (quote a value that must contain one);
//! blank lines and surrounding whitespace are ignored; key names are case-insensitive; keys this
//! crate does not use (`region_id`, …) are ignored. The keys of each type are tabled at
//! [`ProfileFileProvider`]; other types (`rsa_key_pair`, …) are reported as unsupported.
//!
//! # The aliyun CLI config
//!
//! `~/.aliyun/config.json`, as written by `aliyun configure`. The profile is [`ENV_PROFILE`],
//! else `current`, else `default`. Modes `AK`, `StsToken`, `RamRoleArn`, `EcsRamRole`, `OIDC`
//! and `ChainableRamRoleArn` are supported (their keys are tabled at [`CliConfigProvider`]);
//! other modes (`CloudSSO`, `OAuth`, `External`) are reported as unsupported.
//!
//! ```json
//! {
//!   "current": "default",
//!   "profiles": [
//!     {"name": "default", "mode": "AK", "access_key_id": "LTAI5tExample",
//!      "access_key_secret": "my-secret", "region_id": "cn-hangzhou"},
//!     {"name": "temporary", "mode": "StsToken", "access_key_id": "STS.NTExample",
//!      "access_key_secret": "my-sts-secret", "sts_token": "CAIS...", "region_id": "cn-hangzhou"},
//!     {"name": "role", "mode": "RamRoleArn", "access_key_id": "LTAI5tExample",
//!      "access_key_secret": "my-secret", "ram_role_arn": "acs:ram::1234567890:role/failover",
//!      "ram_session_name": "failover-controller", "expired_seconds": 0, "sts_region": "cn-hangzhou"},
//!     {"name": "chained", "mode": "ChainableRamRoleArn", "source_profile": "role",
//!      "ram_role_arn": "acs:ram::1234567890:role/other-account"}
//!   ]
//! }
//! ```
//!
//! # Tests and the network
//!
//! [`DefaultCredentialsChain::new`] may ask the instance metadata service
//! (`http://100.100.100.200`, 1 s timeouts) when no earlier source has credentials. In tests,
//! set `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true` (through
//! [`DefaultCredentialsChain::with_home_and_env`]) or point it at a local server with
//! [`DefaultCredentialsChain::ecs_metadata_endpoint`]. The emulator (feature `emulator`) serves
//! an STS and a metadata service for exactly this.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use crate::error::CredentialsError;

mod answer;
mod chain;
mod cli_config;
mod credentials_uri;
mod ecs_ram_role;
mod environment;
mod oidc;
mod profile_file;
mod ram_role_arn;
mod refresh;
mod sts;
#[cfg(test)]
pub(crate) mod test_server;

pub use chain::DefaultCredentialsChain;
pub use cli_config::CliConfigProvider;
pub use credentials_uri::{CredentialsUriProvider, CredentialsUriProviderBuilder};
pub use ecs_ram_role::{
    EcsRamRoleProvider, EcsRamRoleProviderBuilder, DEFAULT_METADATA_ENDPOINT,
    METADATA_CREDENTIALS_PATH, METADATA_TOKEN_HEADER, METADATA_TOKEN_PATH,
    METADATA_TOKEN_TTL_HEADER,
};
pub use environment::{
    EnvironmentProvider, ENV_CLI_PROFILE_DISABLED, ENV_CREDENTIALS_FILE, ENV_CREDENTIALS_URI,
    ENV_ECS_METADATA, ENV_ECS_METADATA_DISABLED, ENV_IMDSV1_DISABLED, ENV_OIDC_PROVIDER_ARN,
    ENV_OIDC_TOKEN_FILE, ENV_PROFILE, ENV_ROLE_ARN, ENV_ROLE_SESSION_NAME, ENV_STS_REGION,
    ENV_VPC_ENDPOINT_ENABLED,
};
pub use oidc::{OidcRoleArnProvider, OidcRoleArnProviderBuilder};
pub use profile_file::{ProfileFileProvider, DEFAULT_PROFILE};
pub use ram_role_arn::{RamRoleArnProvider, RamRoleArnProviderBuilder};
pub use refresh::{RefreshingProvider, RefreshingProviderBuilder, DEFAULT_REFRESH_WINDOW};
pub use sts::{sts_endpoint, DEFAULT_DURATION_SECONDS, DEFAULT_STS_ENDPOINT, MIN_DURATION_SECONDS};

/// Environment variable holding the AccessKey id.
pub const ENV_ACCESS_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
/// Environment variable holding the AccessKey secret.
pub const ENV_ACCESS_KEY_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
/// Environment variable holding the STS security token (optional).
pub const ENV_SECURITY_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";

/// An AccessKey id and secret, optionally with an STS security token and its expiry.
///
/// ```
/// use alibabacloud_ens::Credentials;
/// let c = Credentials::new("LTAI5tExample", "my-secret");
/// assert_eq!(c.access_key_id(), "LTAI5tExample");
/// assert!(!format!("{c:?}").contains("my-secret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    inner: Arc<Inner>,
}

#[derive(PartialEq, Eq)]
struct Inner {
    access_key_id: String,
    access_key_secret: String,
    security_token: Option<String>,
    expiry: Option<SystemTime>,
    provider_name: Option<Cow<'static, str>>,
}

impl Credentials {
    /// Long-term AccessKey credentials.
    pub fn new(access_key_id: impl Into<String>, access_key_secret: impl Into<String>) -> Self {
        Credentials {
            inner: Arc::new(Inner {
                access_key_id: access_key_id.into(),
                access_key_secret: access_key_secret.into(),
                security_token: None,
                expiry: None,
                provider_name: None,
            }),
        }
    }

    /// STS credentials: an AccessKey pair with its security token.
    pub fn with_security_token(
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
        security_token: impl Into<String>,
    ) -> Self {
        Credentials {
            inner: Arc::new(Inner {
                access_key_id: access_key_id.into(),
                access_key_secret: access_key_secret.into(),
                security_token: Some(security_token.into()),
                expiry: None,
                provider_name: None,
            }),
        }
    }

    /// The same credentials, expiring at `expiry`. A [`RefreshingProvider`] serves them until a
    /// little before that time, then asks its source again.
    pub fn expiring_at(self, expiry: SystemTime) -> Self {
        self.with(|inner| inner.expiry = Some(expiry))
    }

    /// The same credentials, labelled with the name of the source that produced them (the
    /// names Alibaba's libraries use: `env`, `profile`, `cli_profile`, `ram_role_arn/…`,
    /// `oidc_role_arn`, `ecs_ram_role`, `credential_uri`). Informational: for logs and tests.
    ///
    /// ```
    /// use alibabacloud_ens::Credentials;
    /// let c = Credentials::new("LTAI5tExample", "my-secret").with_provider_name("vault");
    /// assert_eq!(c.provider_name(), Some("vault"));
    /// ```
    pub fn with_provider_name(self, name: impl Into<Cow<'static, str>>) -> Self {
        let name = name.into();
        self.with(|inner| inner.provider_name = Some(name))
    }

    /// A copy with `change` applied (the secret is copied, never shared with the caller).
    fn with(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner,
            Err(shared) => Inner {
                access_key_id: shared.access_key_id.clone(),
                access_key_secret: shared.access_key_secret.clone(),
                security_token: shared.security_token.clone(),
                expiry: shared.expiry,
                provider_name: shared.provider_name.clone(),
            },
        };
        change(&mut inner);
        Credentials {
            inner: Arc::new(inner),
        }
    }

    /// Reads [`ENV_ACCESS_KEY_ID`], [`ENV_ACCESS_KEY_SECRET`] and, when set,
    /// [`ENV_SECURITY_TOKEN`].
    ///
    /// # Errors
    /// When either of the first two is unset or blank; the error names the variable.
    pub fn from_env() -> Result<Self, CredentialsError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub(crate) fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, CredentialsError> {
        let get_nonblank = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let id = get_nonblank(ENV_ACCESS_KEY_ID);
        let secret = get_nonblank(ENV_ACCESS_KEY_SECRET);
        match (id, secret) {
            (Some(id), Some(secret)) => {
                let id = id.trim().to_owned();
                let secret = secret.trim().to_owned();
                Ok(match get_nonblank(ENV_SECURITY_TOKEN) {
                    Some(token) => Credentials::with_security_token(id, secret, token.trim()),
                    None => Credentials::new(id, secret),
                })
            }
            (None, None) => Err(CredentialsError::new(format!(
                "{ENV_ACCESS_KEY_ID} and {ENV_ACCESS_KEY_SECRET} are not set"
            ))),
            (Some(_), None) => Err(CredentialsError::new(format!(
                "{ENV_ACCESS_KEY_ID} is set but {ENV_ACCESS_KEY_SECRET} is not"
            ))),
            (None, Some(_)) => Err(CredentialsError::new(format!(
                "{ENV_ACCESS_KEY_SECRET} is set but {ENV_ACCESS_KEY_ID} is not"
            ))),
        }
    }

    /// The AccessKey id (not a secret).
    pub fn access_key_id(&self) -> &str {
        &self.inner.access_key_id
    }

    /// The AccessKey secret. Handle with care: never log it.
    pub fn access_key_secret(&self) -> &str {
        &self.inner.access_key_secret
    }

    /// The STS security token, if these are STS credentials. Never log it.
    pub fn security_token(&self) -> Option<&str> {
        self.inner.security_token.as_deref()
    }

    /// When these credentials expire, if known.
    pub fn expiry(&self) -> Option<SystemTime> {
        self.inner.expiry
    }

    /// The name of the source that produced these credentials, if it gave one (see
    /// [`with_provider_name`](Self::with_provider_name)).
    pub fn provider_name(&self) -> Option<&str> {
        self.inner.provider_name.as_deref()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Credentials");
        d.field("access_key_id", &self.inner.access_key_id)
            .field("access_key_secret", &"** redacted **");
        if self.inner.security_token.is_some() {
            d.field("security_token", &"** redacted **");
        }
        if let Some(e) = self.inner.expiry {
            d.field("expiry", &e);
        }
        if let Some(p) = &self.inner.provider_name {
            d.field("provider_name", p);
        }
        d.finish()
    }
}

/// The future returned by [`ProvideCredentials::provide_credentials`].
pub type ProvideCredentialsFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Credentials, CredentialsError>> + Send + 'a>>;

/// A source of credentials, asked before every attempt.
///
/// Implement it to plug in credentials that refresh (an STS role, a secrets vault). The
/// implementation should cache and return quickly; it must never put a secret in an error.
///
/// ```
/// use alibabacloud_ens::{Credentials, ProvideCredentials, ProvideCredentialsFuture};
///
/// #[derive(Debug)]
/// struct FromVault;
///
/// impl ProvideCredentials for FromVault {
///     fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
///         Box::pin(async { Ok(Credentials::new("LTAI5tExample", "fetched-secret")) })
///     }
/// }
/// ```
pub trait ProvideCredentials: Send + Sync + fmt::Debug {
    /// Returns the credentials to sign the next attempt with.
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_>;
}

impl ProvideCredentials for Credentials {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        let c = self.clone();
        Box::pin(async move { Ok(c) })
    }
}

impl<T: ProvideCredentials + ?Sized> ProvideCredentials for Arc<T> {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        (**self).provide_credentials()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn debug_redacts_exactly() {
        let c = Credentials::new("AKID", "s3cr3t");
        assert_eq!(
            format!("{c:?}"),
            "Credentials { access_key_id: \"AKID\", access_key_secret: \"** redacted **\" }"
        );
        let sts = Credentials::with_security_token("AKID", "s3cr3t", "t0k3n");
        assert_eq!(
            format!("{sts:?}"),
            "Credentials { access_key_id: \"AKID\", access_key_secret: \"** redacted **\", \
             security_token: \"** redacted **\" }"
        );
        assert!(!format!("{sts:#?}").contains("s3cr3t"));
        assert!(!format!("{sts:#?}").contains("t0k3n"));
    }

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn env_lookup_reads_all_three() {
        let c = Credentials::from_lookup(lookup(&[
            (ENV_ACCESS_KEY_ID, "id"),
            (ENV_ACCESS_KEY_SECRET, "secret"),
            (ENV_SECURITY_TOKEN, "tok"),
        ]))
        .unwrap();
        assert_eq!(c.access_key_id(), "id");
        assert_eq!(c.access_key_secret(), "secret");
        assert_eq!(c.security_token(), Some("tok"));
    }

    #[test]
    fn env_lookup_errors_name_the_variable_not_the_secret() {
        let e = Credentials::from_lookup(lookup(&[(ENV_ACCESS_KEY_SECRET, "SECRETVALUE")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains(ENV_ACCESS_KEY_ID), "{e}");
        assert!(!e.contains("SECRETVALUE"), "{e}");
        let e = Credentials::from_lookup(lookup(&[
            (ENV_ACCESS_KEY_ID, "id"),
            (ENV_ACCESS_KEY_SECRET, "  "),
        ]))
        .unwrap_err()
        .to_string();
        assert!(e.contains(ENV_ACCESS_KEY_SECRET), "{e}");
        assert!(Credentials::from_lookup(lookup(&[])).is_err());
    }
}
