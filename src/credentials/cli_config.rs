//! The aliyun CLI configuration: `~/.aliyun/config.json`.
//!
//! See the [module documentation](super#the-aliyun-cli-config) for the format.

use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::environment::{
    list_names, provide_from_lookup, Context, Lookup, Origin, ENV_CLI_PROFILE_DISABLED, ENV_PROFILE,
};
use super::profile_file::DEFAULT_PROFILE;
use super::sts::{DEFAULT_DURATION_SECONDS, MIN_DURATION_SECONDS};
use super::{Credentials, ProvideCredentials, ProvideCredentialsFuture};
use crate::error::CredentialsError;

/// The modes this crate reads, as listed in errors.
const SUPPORTED: &str =
    "`AK`, `StsToken`, `RamRoleArn`, `EcsRamRole`, `OIDC`, `ChainableRamRoleArn`";

/// Credentials from a profile of the aliyun CLI configuration (`aliyun configure`).
///
/// * **File**: the path given to [`with_path`](Self::with_path); else `~/.aliyun/config.json`,
///   the home directory being `HOME` (on Windows `USERPROFILE`, then `HOME`).
/// * **Profile**: the name given to [`profile`](Self::profile); else the environment variable
///   `ALIBABA_CLOUD_PROFILE`; else the file's `current`; else `default`.
/// * `ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true` turns it off (in the chain: skipped).
///
/// The modes, and the keys each reads:
///
/// | `mode` | keys |
/// |---|---|
/// | `AK` (or no `mode`) | `access_key_id`, `access_key_secret` |
/// | `StsToken` | `access_key_id`, `access_key_secret`, `sts_token` |
/// | `RamRoleArn` | `access_key_id`, `access_key_secret`, `ram_role_arn`, `ram_session_name`, `expired_seconds`, `policy`, `external_id`, `sts_region`, `enable_vpc` |
/// | `EcsRamRole` | `ram_role_name` (else asked of the metadata service) |
/// | `OIDC` | `ram_role_arn`, `oidc_provider_arn`, `oidc_token_file`, `role_session_name`, `expired_seconds`, `policy`, `sts_region`, `enable_vpc` |
/// | `ChainableRamRoleArn` | `source_profile` (another profile of the file, any mode, whose credentials assume the role), and the role keys of `RamRoleArn` |
///
/// `expired_seconds` missing or `0` (what `aliyun configure` writes) means 3600 s, as in
/// Alibaba's Go library; otherwise it must be at least 900. A `source_profile` chain that comes
/// back to a profile already in it is an error naming the cycle. The role modes are
/// [`RamRoleArnProvider`](super::RamRoleArnProvider),
/// [`EcsRamRoleProvider`](super::EcsRamRoleProvider) and
/// [`OidcRoleArnProvider`](super::OidcRoleArnProvider). Other modes (`CloudSSO`, `OAuth`,
/// `External`) are reported as unsupported; keys a mode does not use are ignored.
///
/// The file is read on every call until a profile naming a role is found; that role's provider
/// is then kept, so that its credentials are cached and refreshed. Wrap the provider in
/// [`DefaultCredentialsChain`](super::DefaultCredentialsChain) to read it once.
///
/// As a provider on its own, every failure is an error, including a missing file. Used by
/// [`DefaultCredentialsChain`](super::DefaultCredentialsChain), a file that does not exist at the
/// default path, a missing `default` profile when no profile was chosen by any means, or the
/// disabling variable, counts as "no credentials here"; everything else (a chosen file that
/// does not exist, malformed JSON, a field of the wrong type, a missing field, an unsupported
/// mode, a chosen profile that is not in the file) is an error. Errors name the file and the
/// field, never a value.
///
/// # Errors
///
/// The messages, after `credentials error: `; `FILE` is the path as displayed, `L` and `C`
/// serde_json's line and column (its message, which may quote the file, is not shown), `I` an
/// index into `profiles`, `K` a field, `P` a profile, `M` a mode, `S` seconds. A field that is
/// absent, `null` or empty is missing; the expected and found types vary (`a string`, `a
/// number`, `a boolean`, `a list`, `an object`, `null`); the profile's origin reads `(from
/// ALIBABA_CLOUD_PROFILE)`, `` (from `current`) `` or `(set on the provider)`:
///
/// ```text
/// malformed JSON in aliyun CLI config FILE at line L, column C
/// unexpected end of file in aliyun CLI config FILE at line L, column C
/// the top level in aliyun CLI config FILE is not an object (found a list)
/// `profiles` in aliyun CLI config FILE is not a list (found an object)
/// `current` in aliyun CLI config FILE is not a string (found a number)
/// `profiles[I]` in aliyun CLI config FILE is not an object (found a string)
/// `profiles[I].name` in aliyun CLI config FILE is not a string (found a boolean)
/// missing `profiles[I].name` in aliyun CLI config FILE
/// `K` of profile `P` in aliyun CLI config FILE is not a string (found a number)
/// missing `K` in profile `P` of FILE
/// `expired_seconds` in profile `P` of FILE is S; the minimum is 900 (0 means 3600)
/// unsupported mode `M` in profile `P` of FILE (supported: `AK`, `StsToken`, `RamRoleArn`, `EcsRamRole`, `OIDC`, `ChainableRamRoleArn`)
/// profile `P` (from `current`) not found in FILE; profiles present: `a`, `b`
/// source profile `P` (from `source_profile` of profile `Q`) not found in FILE; profiles present: `a`, `b`
/// `source_profile` of profile `P` in FILE makes a cycle: `P` -> `Q` -> `P`
/// the role in profile `P` of FILE cannot be used
/// aliyun CLI config FILE (set on the provider) does not exist
/// cannot read aliyun CLI config FILE: <I/O error>
/// ```
///
/// On its own (not in the chain), also:
///
/// ```text
/// no credentials found: aliyun CLI config FILE (does not exist)
/// no credentials found: aliyun CLI config FILE (no profile `default`; profiles present: none)
/// no credentials found: aliyun CLI config (disabled by ALIBABA_CLOUD_CLI_PROFILE_DISABLED)
/// ```
///
/// ```
/// use alibabacloud_ens::credentials::CliConfigProvider;
/// let provider = CliConfigProvider::with_path("/srv/aliyun/config.json").profile("prod");
/// # let _ = provider;
/// ```
#[derive(Debug, Clone, Default)]
pub struct CliConfigProvider {
    path: Option<PathBuf>,
    profile: Option<String>,
    ctx: Context,
    /// The role provider a profile named, once found (shared by clones).
    role: Arc<OnceLock<Arc<dyn ProvideCredentials>>>,
}

impl CliConfigProvider {
    /// `~/.aliyun/config.json`, with the profile chosen by the environment or the file.
    pub fn new() -> Self {
        CliConfigProvider::default()
    }

    /// Reads the file at `path`.
    pub fn with_path(path: impl Into<PathBuf>) -> Self {
        CliConfigProvider {
            path: Some(path.into()),
            ..CliConfigProvider::default()
        }
    }

    /// Uses profile `name` (ignoring `ALIBABA_CLOUD_PROFILE` and the file's `current`).
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = Some(name.into());
        self
    }

    #[cfg(test)]
    pub(crate) fn with_env(self, env: super::environment::Env) -> Self {
        self.with_context(Context::with_env(env))
    }

    pub(crate) fn with_context(mut self, ctx: Context) -> Self {
        self.ctx = ctx;
        self
    }

    /// Reads the file. `Absent` when there is nothing to read (see the type's documentation).
    pub(crate) fn lookup(&self) -> Result<Lookup, CredentialsError> {
        if self.ctx.env.flag(ENV_CLI_PROFILE_DISABLED) {
            return Ok(Lookup::Absent(format!(
                "aliyun CLI config (disabled by {ENV_CLI_PROFILE_DISABLED})"
            )));
        }
        let (path, path_origin) = match &self.path {
            Some(p) => (p.clone(), Origin::Given),
            None => match self.ctx.env.home() {
                Ok(home) => (home.join(".aliyun").join("config.json"), Origin::Default),
                Err(why) => {
                    return Ok(Lookup::Absent(format!(
                        "aliyun CLI config ~/.aliyun/config.json ({why})"
                    )))
                }
            },
        };
        let shown = path.display();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return if path_origin == Origin::Default {
                    Ok(Lookup::Absent(format!(
                        "aliyun CLI config {shown} (does not exist)"
                    )))
                } else {
                    Err(CredentialsError::new(format!(
                        "aliyun CLI config {shown}{} does not exist",
                        path_origin.note()
                    )))
                };
            }
            Err(e) => {
                return Err(CredentialsError::new(format!(
                    "cannot read aliyun CLI config {shown}: {e}"
                )))
            }
        };
        let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
        let config = ConfigFile::parse(bytes, &path)?;
        let (profile, origin) = match (
            &self.profile,
            self.ctx.env.var(ENV_PROFILE),
            &config.current,
        ) {
            (Some(p), _, _) => (p.clone(), Origin::Given),
            (None, Some(p), _) => (p, Origin::Var(ENV_PROFILE)),
            (None, None, Some(c)) => (c.clone(), Origin::Current),
            (None, None, None) => (DEFAULT_PROFILE.to_owned(), Origin::Default),
        };
        for (i, p) in config.profiles.iter().enumerate() {
            if p.name.is_none() {
                return Err(CredentialsError::new(format!(
                    "missing `profiles[{i}].name` in aliyun CLI config {shown}"
                )));
            }
        }
        let Some(entry) = config.find(&profile) else {
            let present = config.names();
            // `ALIBABA_CLOUD_PROFILE` also chooses the credentials file's profile: one that is
            // only there is no mistake (the chain goes on to that file, as Alibaba's does).
            return if matches!(origin, Origin::Default | Origin::Var(_)) {
                Ok(Lookup::Absent(format!(
                    "aliyun CLI config {shown} (no profile `{profile}`{}; profiles present: \
                     {present})",
                    origin.note()
                )))
            } else {
                Err(CredentialsError::new(format!(
                    "profile `{profile}`{} not found in {shown}; profiles present: {present}",
                    origin.note()
                )))
            };
        };
        let mut resolving = Resolving {
            config: &config,
            path: &path,
            ctx: &self.ctx,
            chain: vec![profile.clone()],
        };
        resolving.lookup(entry, &profile)
    }
}

impl ProvideCredentials for CliConfigProvider {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        Box::pin(provide_from_lookup(&self.role, || self.lookup()))
    }
}

/// `~/.aliyun/config.json`, as `aliyun configure` writes it. Decoded with serde derive; the
/// kind guards below make every error name a path and kinds, never a value.
#[derive(Deserialize)]
#[serde(remote = "Self")]
struct ConfigFile {
    #[serde(default, deserialize_with = "text")]
    current: Option<String>,
    #[serde(default, deserialize_with = "objects")]
    profiles: Vec<Profile>,
}

/// One entry of `profiles`: every key of every mode (a key a mode does not use is ignored).
/// No `Debug`: it holds secrets.
#[derive(Default, Deserialize)]
#[serde(remote = "Self", default)]
pub(crate) struct Profile {
    pub(crate) name: CliText,
    pub(crate) mode: CliText,
    pub(crate) access_key_id: CliText,
    pub(crate) access_key_secret: CliText,
    pub(crate) sts_token: CliText,
    pub(crate) ram_role_arn: CliText,
    pub(crate) ram_session_name: CliText,
    pub(crate) role_session_name: CliText,
    pub(crate) expired_seconds: CliSeconds,
    pub(crate) policy: CliText,
    pub(crate) external_id: CliText,
    pub(crate) sts_region: CliText,
    pub(crate) enable_vpc: CliFlag,
    pub(crate) ram_role_name: CliText,
    pub(crate) oidc_provider_arn: CliText,
    pub(crate) oidc_token_file: CliText,
    pub(crate) source_profile: CliText,
}

/// The kinds of a profile's values, each read through its guard (one type per kind keeps one
/// copy of serde's generic code for every field of that kind). Each derefs to its `Option`.
macro_rules! cli_value {
    ($(#[$doc:meta])* $name:ident($ty:ty) = $read:ident) => {
        $(#[$doc])*
        #[derive(Clone, Default)]
        pub(crate) struct $name(Option<$ty>);

        impl std::ops::Deref for $name {
            type Target = Option<$ty>;
            fn deref(&self) -> &Option<$ty> {
                &self.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $read(d).map($name)
            }
        }
    };
}

cli_value!(
    /// A string value (trimmed; empty means absent).
    CliText(String) = text
);
cli_value!(
    /// A number of seconds.
    CliSeconds(u64) = seconds
);
cli_value!(
    /// A boolean.
    CliFlag(bool) = flag
);

object_only!(@de ConfigFile, "the aliyun CLI config");
object_only!(@de Profile, "a profile");

impl ConfigFile {
    fn parse(bytes: &[u8], path: &Path) -> Result<Self, CredentialsError> {
        let shown = path.display();
        // serde_json's own syntax messages can quote the input; only the position is shown.
        let syntax = |e: &serde_json::Error| {
            let what = if e.is_eof() {
                "unexpected end of file"
            } else {
                "malformed JSON"
            };
            CredentialsError::new(format!(
                "{what} in aliyun CLI config {shown} at line {}, column {}",
                e.line(),
                e.column()
            ))
        };
        let text = std::str::from_utf8(bytes).map_err(|_| {
            CredentialsError::new(format!("aliyun CLI config {shown} is not valid UTF-8"))
        })?;
        let Root(config) = crate::wire::from_json(text).map_err(|e| {
            if !e.inner.is_data() {
                return syntax(&e.inner);
            }
            // Every value is read through a guard below, whose message names kinds only.
            let what = if e.path == "." {
                "the top level".to_owned()
            } else {
                format!("`{}`", e.path)
            };
            let message = e.inner.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(m, _)| m);
            CredentialsError::new(format!(
                "{what} in aliyun CLI config {shown} {message} (line {}, column {})",
                e.inner.line(),
                e.inner.column()
            ))
        })?;
        Ok(config)
    }
}

/// The whole file: an object.
struct Root(ConfigFile);

impl<'de> Deserialize<'de> for Root {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        object(d).map(Root)
    }
}

/// What a guard accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    Object,
    List,
    Text,
    Seconds,
    Flag,
}

impl Expect {
    fn name(self) -> &'static str {
        match self {
            Expect::Object => "an object",
            Expect::List => "a list",
            Expect::Text => "a string",
            Expect::Seconds => "a number of seconds",
            Expect::Flag => "a boolean",
        }
    }
}

/// What a guard read: `T` for an object or list, or a scalar.
enum Read<T> {
    Value(T),
    Text(String),
    Number(u64),
    Flag(bool),
    Null,
}

/// Reads one value of the expected kind; any other kind is an error naming both kinds, never
/// the value (a misplaced secret must not reach a message).
struct Guard<T>(Expect, PhantomData<T>);

impl<T> Guard<T> {
    fn refuse<E: de::Error>(&self, found: &str) -> E {
        E::custom(format!("is not {} (found {found})", self.0.name()))
    }
    fn accept<E: de::Error>(self, want: Expect, found: &str, v: Read<T>) -> Result<Read<T>, E> {
        if self.0 == want {
            Ok(v)
        } else {
            Err(self.refuse(found))
        }
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Guard<T> {
    type Value = Read<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        if self.0 != Expect::Object {
            return Err(self.refuse("an object"));
        }
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Read::Value)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        if self.0 != Expect::List {
            return Err(self.refuse("a list"));
        }
        T::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Read::Value)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match self.0 {
            Expect::Text => Ok(Read::Text(v.to_owned())),
            // The CLI has written numbers as strings in some versions.
            Expect::Seconds => match v.trim().parse() {
                Ok(n) => Ok(Read::Number(n)),
                Err(_) if v.trim().is_empty() => Ok(Read::Null),
                Err(_) => Err(self.refuse("a string that is not a number")),
            },
            Expect::Flag => match v.trim() {
                "true" => Ok(Read::Flag(true)),
                "false" => Ok(Read::Flag(false)),
                _ => Err(self.refuse("a string that is not `true` or `false`")),
            },
            _ => Err(self.refuse("a string")),
        }
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.accept(Expect::Seconds, "a number", Read::Number(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(self.refuse("a negative number")),
        }
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(self.refuse("a fractional number"))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.accept(Expect::Flag, "a boolean", Read::Flag(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Read::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Read::Null)
    }
}

fn guard<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    expect: Expect,
) -> Result<Read<T>, D::Error> {
    d.deserialize_any(Guard(expect, PhantomData))
}

/// An object (the top level, a profile). `null` is refused too.
fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    match guard(d, Expect::Object)? {
        Read::Value(v) => Ok(v),
        _ => Err(de::Error::custom("is not an object (found null)")),
    }
}

/// `profiles`: a list of objects, or `null`.
fn objects<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Profile>, D::Error> {
    struct Entry(Profile);
    impl<'de> Deserialize<'de> for Entry {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            object(d).map(Entry)
        }
    }
    Ok(match guard::<D, Vec<Entry>>(d, Expect::List)? {
        Read::Value(v) => v.into_iter().map(|e| e.0).collect(),
        _ => Vec::new(),
    })
}

/// A string (trimmed; empty means absent) or `null`.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match guard::<D, ()>(d, Expect::Text)? {
        Read::Text(t) => Some(t.trim().to_owned()).filter(|t| !t.is_empty()),
        _ => None,
    })
}

/// A whole number of seconds (or a string of digits), or `null`.
fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match guard::<D, ()>(d, Expect::Seconds)? {
        Read::Number(n) => Some(n),
        _ => None,
    })
}

/// A boolean (or `"true"`/`"false"`), or `null`.
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match guard::<D, ()>(d, Expect::Flag)? {
        Read::Flag(b) => Some(b),
        _ => None,
    })
}

impl ConfigFile {
    fn find(&self, name: &str) -> Option<&Profile> {
        self.profiles
            .iter()
            .find(|p| p.name.as_deref() == Some(name))
    }

    fn names(&self) -> String {
        list_names(self.profiles.iter().filter_map(|p| p.name.as_deref()))
    }
}

/// A profile being resolved, and the `source_profile` chain that led to it.
struct Resolving<'a> {
    config: &'a ConfigFile,
    path: &'a Path,
    ctx: &'a Context,
    /// The profiles being resolved, outermost first: a `source_profile` already here is a cycle.
    chain: Vec<String>,
}

impl Resolving<'_> {
    fn lookup(&mut self, entry: &Profile, profile: &str) -> Result<Lookup, CredentialsError> {
        let shown = self.path.display();
        let require = |key: &str, v: &Option<String>| -> Result<String, CredentialsError> {
            v.clone().ok_or_else(|| {
                CredentialsError::new(format!("missing `{key}` in profile `{profile}` of {shown}"))
            })
        };
        let found = |c: Credentials| Ok(Lookup::Found(c.with_provider_name("cli_profile")));
        let in_profile = |e: CredentialsError| {
            CredentialsError::new(format!(
                "the role in profile `{profile}` of {shown} cannot be used"
            ))
            .with_source(e)
        };
        let duration = || match *entry.expired_seconds {
            None | Some(0) => Ok(DEFAULT_DURATION_SECONDS),
            Some(s) if s < MIN_DURATION_SECONDS => Err(CredentialsError::new(format!(
                "`expired_seconds` in profile `{profile}` of {shown} is {s}; the minimum is \
                 {MIN_DURATION_SECONDS} (0 means {DEFAULT_DURATION_SECONDS})"
            ))),
            Some(s) => Ok(s),
        };
        match entry.mode.as_deref().unwrap_or("AK") {
            "AK" => found(Credentials::new(
                require("access_key_id", &entry.access_key_id)?,
                require("access_key_secret", &entry.access_key_secret)?,
            )),
            "StsToken" => found(Credentials::with_security_token(
                require("access_key_id", &entry.access_key_id)?,
                require("access_key_secret", &entry.access_key_secret)?,
                require("sts_token", &entry.sts_token)?,
            )),
            mode @ ("RamRoleArn" | "ChainableRamRoleArn") => {
                let source: Arc<dyn ProvideCredentials> = if mode == "RamRoleArn" {
                    Arc::new(
                        Credentials::new(
                            require("access_key_id", &entry.access_key_id)?,
                            require("access_key_secret", &entry.access_key_secret)?,
                        )
                        .with_provider_name("cli_profile"),
                    )
                } else {
                    let name = require("source_profile", &entry.source_profile)?;
                    self.source(&name, profile)?
                };
                let role_arn = require("ram_role_arn", &entry.ram_role_arn)?;
                let mut b = self
                    .ctx
                    .ram_role_arn(source, role_arn)
                    .duration_seconds(duration()?);
                if let Some(s) = entry.ram_session_name.as_deref() {
                    b = b.role_session_name(s);
                }
                if let Some(p) = entry.policy.as_deref() {
                    b = b.policy(p);
                }
                if let Some(e) = entry.external_id.as_deref() {
                    b = b.external_id(e);
                }
                if let Some(r) = entry.sts_region.as_deref() {
                    b = b.sts_region(r);
                }
                if let Some(v) = *entry.enable_vpc {
                    b = b.enable_vpc(v);
                }
                Ok(Lookup::Provider(Arc::new(b.build().map_err(in_profile)?)))
            }
            "OIDC" => {
                let mut b = self
                    .ctx
                    .oidc_role_arn(
                        require("ram_role_arn", &entry.ram_role_arn)?,
                        require("oidc_provider_arn", &entry.oidc_provider_arn)?,
                        PathBuf::from(require("oidc_token_file", &entry.oidc_token_file)?),
                    )
                    .duration_seconds(duration()?);
                if let Some(s) = entry.role_session_name.as_deref() {
                    b = b.role_session_name(s);
                }
                if let Some(p) = entry.policy.as_deref() {
                    b = b.policy(p);
                }
                if let Some(r) = entry.sts_region.as_deref() {
                    b = b.sts_region(r);
                }
                if let Some(v) = *entry.enable_vpc {
                    b = b.enable_vpc(v);
                }
                Ok(Lookup::Provider(Arc::new(b.build().map_err(in_profile)?)))
            }
            "EcsRamRole" => {
                let mut b = self.ctx.ecs_ram_role();
                if let Some(r) = entry.ram_role_name.as_deref() {
                    b = b.role_name(r);
                }
                Ok(Lookup::Provider(Arc::new(b.build().map_err(in_profile)?)))
            }
            other => Err(CredentialsError::new(format!(
                "unsupported mode `{other}` in profile `{profile}` of {shown} \
                 (supported: {SUPPORTED})"
            ))),
        }
    }

    /// The credentials of `name`, the `source_profile` of profile `of`.
    fn source(
        &mut self,
        name: &str,
        of: &str,
    ) -> Result<Arc<dyn ProvideCredentials>, CredentialsError> {
        let shown = self.path.display();
        if self.chain.iter().any(|p| p == name) {
            let mut names: Vec<String> = self.chain.iter().map(|p| format!("`{p}`")).collect();
            names.push(format!("`{name}`"));
            return Err(CredentialsError::new(format!(
                "`source_profile` of profile `{of}` in {shown} makes a cycle: {}",
                names.join(" -> ")
            )));
        }
        let Some(entry) = self.config.find(name) else {
            return Err(CredentialsError::new(format!(
                "source profile `{name}` (from `source_profile` of profile `{of}`) not found in \
                 {shown}; profiles present: {}",
                self.config.names()
            )));
        };
        self.chain.push(name.to_owned());
        let found = self.lookup(entry, name);
        self.chain.pop();
        found?.into_provider()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::environment::tests::{assert_no_secret, lookup, TempDir};
    use crate::credentials::environment::Env;

    const SECRET: &str = "ClIsEcReT789";
    const TOKEN: &str = "ClItOkEn012";

    fn provider(dir: &TempDir, env: &[(&str, &str)]) -> CliConfigProvider {
        CliConfigProvider::new().with_env(Env::injected(Some(dir.0.clone()), lookup(env)))
    }

    fn write_config(dir: &TempDir, text: &str) -> PathBuf {
        dir.write(".aliyun/config.json", text)
    }

    fn found(l: Result<Lookup, CredentialsError>) -> Credentials {
        match l {
            Ok(Lookup::Found(c)) => c,
            other => panic!("expected credentials, got {other:?}"),
        }
    }

    fn err(l: Result<Lookup, CredentialsError>) -> String {
        match l {
            Err(e) => {
                assert_no_secret(&e, &[SECRET, TOKEN]);
                e.message
            }
            Ok(other) => panic!("expected an error, got {other:?}"),
        }
    }

    fn config(current: &str, profiles: &str) -> String {
        format!(
            r#"{{"current": "{current}", "profiles": [{profiles}], "meta_path": "", "language": "en"}}"#
        )
    }

    fn ak(name: &str, id: &str) -> String {
        format!(
            r#"{{"name": "{name}", "mode": "AK", "access_key_id": "{id}",
                 "access_key_secret": "{SECRET}", "sts_token": "", "ram_role_arn": "",
                 "region_id": "cn-hangzhou", "output_format": "json"}}"#
        )
    }

    #[test]
    fn ak_mode_and_profile_selection() {
        let dir = TempDir::new("cli-ak");
        write_config(
            &dir,
            &config(
                "dev",
                &format!("{},{}", ak("default", "id-default"), ak("dev", "id-dev")),
            ),
        );
        // `current` chooses, the variable overrides it, `profile` overrides both.
        let c = found(provider(&dir, &[]).lookup());
        assert_eq!(c.access_key_id(), "id-dev");
        assert_eq!(c.access_key_secret(), SECRET);
        assert_eq!(c.security_token(), None);
        let c = found(provider(&dir, &[(ENV_PROFILE, "default")]).lookup());
        assert_eq!(c.access_key_id(), "id-default");
        let c = found(
            provider(&dir, &[(ENV_PROFILE, "dev")])
                .profile("default")
                .lookup(),
        );
        assert_eq!(c.access_key_id(), "id-default");
        // No `current`: `default`.
        write_config(
            &dir,
            &format!(
                r#"{{"profiles": [{}, {}]}}"#,
                ak("dev", "id-dev"),
                ak("default", "id-default")
            ),
        );
        assert_eq!(
            found(provider(&dir, &[]).lookup()).access_key_id(),
            "id-default"
        );
    }

    #[test]
    fn sts_token_mode() {
        let dir = TempDir::new("cli-sts");
        let path = write_config(
            &dir,
            &config(
                "default",
                &format!(
                    r#"{{"name": "default", "mode": "StsToken", "access_key_id": "STS.id",
                         "access_key_secret": "{SECRET}", "sts_token": "{TOKEN}"}}"#
                ),
            ),
        );
        let c = found(provider(&dir, &[]).lookup());
        assert_eq!(c.access_key_id(), "STS.id");
        assert_eq!(c.security_token(), Some(TOKEN));
        write_config(
            &dir,
            &config(
                "default",
                &format!(
                    r#"{{"name": "default", "mode": "StsToken", "access_key_id": "STS.id",
                         "access_key_secret": "{SECRET}", "sts_token": ""}}"#
                ),
            ),
        );
        assert_eq!(
            err(provider(&dir, &[]).lookup()),
            format!(
                "missing `sts_token` in profile `default` of {}",
                path.display()
            )
        );
    }

    #[test]
    fn unsupported_modes() {
        let dir = TempDir::new("cli-modes");
        for mode in ["CloudSSO", "OAuth", "External", "RsaKeyPair", "ak"] {
            let path = write_config(
                &dir,
                &config(
                    "default",
                    &format!(
                        r#"{{"name": "default", "mode": "{mode}", "access_key_secret": "{SECRET}"}}"#
                    ),
                ),
            );
            assert_eq!(
                err(provider(&dir, &[]).lookup()),
                format!(
                    "unsupported mode `{mode}` in profile `default` of {} (supported: `AK`, \
                     `StsToken`, `RamRoleArn`, `EcsRamRole`, `OIDC`, `ChainableRamRoleArn`)",
                    path.display()
                )
            );
        }
    }

    #[test]
    fn malformed_json_gives_position_not_content() {
        let dir = TempDir::new("cli-malformed");
        let text = format!(
            "{{\n  \"profiles\": [\n    {{\"access_key_secret\": \"{SECRET}\" \"x\"}}\n]}}"
        );
        let path = write_config(&dir, &text);
        // The position is serde_json's (here just past the secret's closing quote).
        let serde = serde_json::from_str::<serde_json::Value>(&text).unwrap_err();
        assert_eq!((serde.line(), serde.column()), (3, 42));
        assert_eq!(
            err(provider(&dir, &[]).lookup()),
            format!(
                "malformed JSON in aliyun CLI config {} at line 3, column 42",
                path.display()
            )
        );
        let text = format!("{{\"current\": \"{SECRET}");
        write_config(&dir, &text);
        let serde = serde_json::from_str::<serde_json::Value>(&text).unwrap_err();
        assert_eq!(
            err(provider(&dir, &[]).lookup()),
            format!(
                "unexpected end of file in aliyun CLI config {} at line {}, column {}",
                path.display(),
                serde.line(),
                serde.column()
            )
        );
        write_config(&dir, "");
        assert_eq!(
            err(provider(&dir, &[]).lookup()),
            format!(
                "unexpected end of file in aliyun CLI config {} at line 1, column 0",
                path.display()
            )
        );
    }

    #[test]
    fn wrong_types_name_the_field() {
        let dir = TempDir::new("cli-types");
        let cases = [
            (
                format!(r#"["{SECRET}"]"#),
                "the top level in aliyun CLI config {} is not an object (found a list) (line 1, column 1)",
            ),
            (
                format!(r#"{{"profiles": {{"default": "{SECRET}"}}}}"#),
                "`profiles` in aliyun CLI config {} is not a list (found an object) (line 1, column 14)",
            ),
            (
                r#"{"current": 3, "profiles": []}"#.to_owned(),
                "`current` in aliyun CLI config {} is not a string (found a number) (line 1, column 13)",
            ),
            (
                format!(r#"{{"profiles": ["{SECRET}"]}}"#),
                "`profiles[0]` in aliyun CLI config {} is not an object (found a string) (line 1, column 28)",
            ),
            (
                r#"{"profiles": [{"name": false}]}"#.to_owned(),
                "`profiles[0].name` in aliyun CLI config {} is not a string (found a boolean) (line 1, column 28)",
            ),
            (
                r#"{"profiles": [{"mode": "AK"}]}"#.to_owned(),
                "missing `profiles[0].name` in aliyun CLI config {}",
            ),
            (
                format!(
                    r#"{{"profiles": [{{"name": "default", "access_key_id": 12345,
                        "access_key_secret": "{SECRET}"}}]}}"#
                ),
                "`profiles[0].access_key_id` in aliyun CLI config {} is not a string \
                 (found a number) (line 1, column 56)",
            ),
            (
                r#"{"profiles": [{"name": "default", "access_key_id": "id",
                    "access_key_secret": ["x"]}]}"#
                    .to_owned(),
                "`profiles[0].access_key_secret` in aliyun CLI config {} is not a string \
                 (found a list) (line 2, column 42)",
            ),
            (
                r#"{"profiles": [{"name": "default", "mode": 1}]}"#.to_owned(),
                "`profiles[0].mode` in aliyun CLI config {} is not a string \
                 (found a number) (line 1, column 43)",
            ),
            (
                r#"{"profiles": [{"name": "default", "access_key_id": "id"}]}"#.to_owned(),
                "missing `access_key_secret` in profile `default` of {}",
            ),
        ];
        for (text, want) in cases {
            let path = write_config(&dir, &text);
            assert_eq!(
                err(provider(&dir, &[]).lookup()),
                want.replace("{}", &path.display().to_string()),
                "{text}"
            );
        }
    }

    #[test]
    fn unknown_profiles() {
        let dir = TempDir::new("cli-unknown");
        let path = write_config(&dir, &config("prod", &ak("dev", "id-dev")));
        assert_eq!(
            err(provider(&dir, &[]).lookup()),
            format!(
                "profile `prod` (from `current`) not found in {}; profiles present: `dev`",
                path.display()
            )
        );
        // `ALIBABA_CLOUD_PROFILE` also chooses the credentials file's profile: a name only
        // that file has is no mistake here.
        match provider(&dir, &[(ENV_PROFILE, "qa")]).lookup() {
            Ok(Lookup::Absent(place)) => assert_eq!(
                place,
                format!(
                    "aliyun CLI config {} (no profile `qa` (from ALIBABA_CLOUD_PROFILE); \
                     profiles present: `dev`)",
                    path.display()
                )
            ),
            other => panic!("{other:?}"),
        }
        // Set on the provider, it must be there.
        assert_eq!(
            err(provider(&dir, &[]).profile("qa").lookup()),
            format!(
                "profile `qa` (set on the provider) not found in {}; profiles present: `dev`",
                path.display()
            )
        );
        write_config(&dir, &format!(r#"{{"profiles": [{}]}}"#, ak("dev", "x")));
        match provider(&dir, &[]).lookup() {
            Ok(Lookup::Absent(place)) => assert_eq!(
                place,
                format!(
                    "aliyun CLI config {} (no profile `default`; profiles present: `dev`)",
                    path.display()
                )
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn file_location() {
        let dir = TempDir::new("cli-location");
        match provider(&dir, &[]).lookup() {
            Ok(Lookup::Absent(place)) => assert_eq!(
                place,
                format!(
                    "aliyun CLI config {} (does not exist)",
                    dir.0.join(".aliyun").join("config.json").display()
                )
            ),
            other => panic!("{other:?}"),
        }
        let missing = dir.0.join("missing.json");
        let p = CliConfigProvider::with_path(&missing).with_env(Env::injected(None, lookup(&[])));
        assert_eq!(
            err(p.lookup()),
            format!(
                "aliyun CLI config {} (set on the provider) does not exist",
                missing.display()
            )
        );
        let other = dir.write("elsewhere.json", &config("default", &ak("default", "id-x")));
        let p = CliConfigProvider::with_path(&other).with_env(Env::injected(None, lookup(&[])));
        assert_eq!(found(p.lookup()).access_key_id(), "id-x");
    }

    #[tokio::test]
    async fn as_a_provider() {
        let dir = TempDir::new("cli-provider");
        write_config(&dir, &config("default", &ak("default", "id")));
        let c = provider(&dir, &[]).provide_credentials().await.unwrap();
        assert_eq!(c.access_key_id(), "id");
        write_config(&dir, "{}");
        let e = provider(&dir, &[]).provide_credentials().await.unwrap_err();
        assert_no_secret(&e, &[SECRET, TOKEN]);
        assert_eq!(
            e.to_string(),
            format!(
                "credentials error: no credentials found: aliyun CLI config {} \
                 (no profile `default`; profiles present: none)",
                dir.0.join(".aliyun").join("config.json").display()
            )
        );
    }
}
