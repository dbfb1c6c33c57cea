//! The aliyun CLI configuration: `~/.aliyun/config.json`.
//!
//! See the [module documentation](super#the-aliyun-cli-config) for the format.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::environment::{list_names, Env, Lookup, Origin, ENV_PROFILE};
use super::profile_file::DEFAULT_PROFILE;
use super::{Credentials, ProvideCredentials, ProvideCredentialsFuture};
use crate::error::CredentialsError;

/// Credentials from a profile of the aliyun CLI configuration (`aliyun configure`).
///
/// * **File**: the path given to [`with_path`](Self::with_path); else `~/.aliyun/config.json`,
///   the home directory being `HOME` (on Windows `USERPROFILE`, then `HOME`).
/// * **Profile**: the name given to [`profile`](Self::profile); else the environment variable
///   `ALIBABA_CLOUD_PROFILE`; else the file's `current`; else `default`.
///
/// Supported modes are `AK` (`access_key_id`, `access_key_secret`) and `StsToken` (those and
/// `sts_token`); a profile without `mode` is read as `AK`. Fields other modes use are ignored.
/// The file is read on every call; wrap the provider in
/// [`DefaultCredentialsChain`](super::DefaultCredentialsChain) to read it once.
///
/// As a provider on its own, every failure is an error, including a missing file. Used by
/// [`DefaultCredentialsChain`](super::DefaultCredentialsChain), a file that does not exist at the
/// default path, or a missing `default` profile when no profile was chosen by any means, counts
/// as "no credentials here"; everything else (a chosen file that does not exist, malformed JSON,
/// a field of the wrong type, a missing field, an unsupported mode, a chosen profile that is not
/// in the file) is an error. Errors name the file and the field, never a value.
///
/// # Errors
///
/// The messages, after `credentials error: `; `FILE` is the path as displayed, `L` and `C`
/// serde_json's line and column (its message, which may quote the file, is not shown), `I` an
/// index into `profiles`, `K` a field, `P` a profile, `M` a mode. A field that is absent, `null`
/// or empty is missing; the expected and found types vary (`a string`, `a number`, `a boolean`,
/// `a list`, `an object`, `null`); the profile's origin reads `(from ALIBABA_CLOUD_PROFILE)`,
/// `` (from `current`) `` or `(set on the provider)`:
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
/// unsupported mode `M` in profile `P` of FILE (supported: `AK`, `StsToken`)
/// profile `P` (from `current`) not found in FILE; profiles present: `a`, `b`
/// aliyun CLI config FILE (set on the provider) does not exist
/// cannot read aliyun CLI config FILE: <I/O error>
/// ```
///
/// On its own (not in the chain), also:
///
/// ```text
/// no credentials found: aliyun CLI config FILE (does not exist)
/// no credentials found: aliyun CLI config FILE (no profile `default`; profiles present: none)
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
    env: Env,
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

    pub(crate) fn with_env(mut self, env: Env) -> Self {
        self.env = env;
        self
    }

    /// Reads the file. `Absent` when there is nothing to read (see the type's documentation).
    pub(crate) fn lookup(&self) -> Result<Lookup, CredentialsError> {
        let (path, path_origin) = match &self.path {
            Some(p) => (p.clone(), Origin::Given),
            None => match self.env.home() {
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
        // serde_json's own message can quote the input; only its position is shown.
        let root: Value = serde_json::from_slice(bytes).map_err(|e| {
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
        })?;
        let config = Config { path: &path };
        let root = config.object(&root, "the top level")?;
        let current = config.opt_str(root, "current", "`current`")?;
        let (profile, origin) = match (&self.profile, self.env.var(ENV_PROFILE), current) {
            (Some(p), _, _) => (p.clone(), Origin::Given),
            (None, Some(p), _) => (p, Origin::Var(ENV_PROFILE)),
            (None, None, Some(c)) => (c.to_owned(), Origin::Current),
            (None, None, None) => (DEFAULT_PROFILE.to_owned(), Origin::Default),
        };
        let profiles: &[Value] = match root.get("profiles") {
            None | Some(Value::Null) => &[],
            Some(Value::Array(a)) => a,
            Some(other) => {
                return Err(config.wrong_type("`profiles`", "a list", other));
            }
        };
        let mut names = Vec::with_capacity(profiles.len());
        for (i, p) in profiles.iter().enumerate() {
            let entry = config.object(p, &format!("`profiles[{i}]`"))?;
            match config.opt_str(entry, "name", &format!("`profiles[{i}].name`"))? {
                Some(name) => names.push((name, entry)),
                None => {
                    return Err(CredentialsError::new(format!(
                        "missing `profiles[{i}].name` in aliyun CLI config {shown}"
                    )))
                }
            }
        }
        let Some(&(_, entry)) = names.iter().find(|(n, _)| *n == profile) else {
            let present = list_names(names.iter().map(|(n, _)| *n));
            return if origin == Origin::Default {
                Ok(Lookup::Absent(format!(
                    "aliyun CLI config {shown} (no profile `{profile}`; profiles present: {present})"
                )))
            } else {
                Err(CredentialsError::new(format!(
                    "profile `{profile}`{} not found in {shown}; profiles present: {present}",
                    origin.note()
                )))
            };
        };
        config.credentials(entry, &profile).map(Lookup::Found)
    }
}

impl ProvideCredentials for CliConfigProvider {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        Box::pin(async move { self.lookup()?.into_result() })
    }
}

/// Field access with errors naming the file and the field, never the value.
struct Config<'a> {
    path: &'a Path,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

impl Config<'_> {
    fn wrong_type(&self, what: &str, expected: &str, found: &Value) -> CredentialsError {
        CredentialsError::new(format!(
            "{what} in aliyun CLI config {} is not {expected} (found {})",
            self.path.display(),
            type_name(found)
        ))
    }

    fn object<'v>(
        &self,
        v: &'v Value,
        what: &str,
    ) -> Result<&'v Map<String, Value>, CredentialsError> {
        v.as_object()
            .ok_or_else(|| self.wrong_type(what, "an object", v))
    }

    /// A string field; `None` when absent, `null` or empty.
    fn opt_str<'v>(
        &self,
        obj: &'v Map<String, Value>,
        key: &str,
        what: &str,
    ) -> Result<Option<&'v str>, CredentialsError> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim())),
            Some(other) => Err(self.wrong_type(what, "a string", other)),
        }
    }

    fn credentials(
        &self,
        entry: &Map<String, Value>,
        profile: &str,
    ) -> Result<Credentials, CredentialsError> {
        let shown = self.path.display();
        let field = |key: &str| -> Result<Option<&str>, CredentialsError> {
            self.opt_str(entry, key, &format!("`{key}` of profile `{profile}`"))
        };
        let require = |key: &str| -> Result<&str, CredentialsError> {
            field(key)?.ok_or_else(|| {
                CredentialsError::new(format!("missing `{key}` in profile `{profile}` of {shown}"))
            })
        };
        let mode = field("mode")?.unwrap_or("AK");
        match mode {
            "AK" => Ok(Credentials::new(
                require("access_key_id")?,
                require("access_key_secret")?,
            )),
            "StsToken" => Ok(Credentials::with_security_token(
                require("access_key_id")?,
                require("access_key_secret")?,
                require("sts_token")?,
            )),
            other => Err(CredentialsError::new(format!(
                "unsupported mode `{other}` in profile `{profile}` of {shown} \
                 (supported: `AK`, `StsToken`)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::environment::tests::{assert_no_secret, lookup, TempDir};

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
        for mode in ["RamRoleArn", "EcsRamRole", "RsaKeyPair", "ak"] {
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
                    "unsupported mode `{mode}` in profile `default` of {} \
                     (supported: `AK`, `StsToken`)",
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
        let serde = serde_json::from_str::<Value>(&text).unwrap_err();
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
        let serde = serde_json::from_str::<Value>(&text).unwrap_err();
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
                "the top level in aliyun CLI config {} is not an object (found a list)",
            ),
            (
                format!(r#"{{"profiles": {{"default": "{SECRET}"}}}}"#),
                "`profiles` in aliyun CLI config {} is not a list (found an object)",
            ),
            (
                r#"{"current": 3, "profiles": []}"#.to_owned(),
                "`current` in aliyun CLI config {} is not a string (found a number)",
            ),
            (
                format!(r#"{{"profiles": ["{SECRET}"]}}"#),
                "`profiles[0]` in aliyun CLI config {} is not an object (found a string)",
            ),
            (
                r#"{"profiles": [{"name": false}]}"#.to_owned(),
                "`profiles[0].name` in aliyun CLI config {} is not a string (found a boolean)",
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
                "`access_key_id` of profile `default` in aliyun CLI config {} is not a string \
                 (found a number)",
            ),
            (
                r#"{"profiles": [{"name": "default", "access_key_id": "id",
                    "access_key_secret": ["x"]}]}"#
                    .to_owned(),
                "`access_key_secret` of profile `default` in aliyun CLI config {} is not a string \
                 (found a list)",
            ),
            (
                r#"{"profiles": [{"name": "default", "mode": 1}]}"#.to_owned(),
                "`mode` of profile `default` in aliyun CLI config {} is not a string \
                 (found a number)",
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
        assert_eq!(
            err(provider(&dir, &[(ENV_PROFILE, "qa")]).lookup()),
            format!(
                "profile `qa` (from ALIBABA_CLOUD_PROFILE) not found in {}; \
                 profiles present: `dev`",
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
