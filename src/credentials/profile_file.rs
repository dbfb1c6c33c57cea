//! The Alibaba Cloud credentials file: `~/.alibabacloud/credentials`, INI format.
//!
//! See the [module documentation](super#the-credentials-file) for the format.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::environment::{
    list_names, provide_from_lookup, Context, Lookup, Origin, ENV_CREDENTIALS_FILE,
    ENV_OIDC_PROVIDER_ARN, ENV_OIDC_TOKEN_FILE, ENV_PROFILE, ENV_ROLE_ARN,
};
use super::{Credentials, ProvideCredentials, ProvideCredentialsFuture};
use crate::error::CredentialsError;

/// The profile used when none is chosen.
pub const DEFAULT_PROFILE: &str = "default";

/// The `type`s this crate reads, as listed in errors.
const SUPPORTED: &str = "`access_key`, `sts`, `ram_role_arn`, `oidc_role_arn`, `ecs_ram_role`";

/// Credentials from a profile of the Alibaba Cloud credentials file.
///
/// * **File**: the path given to [`with_path`](Self::with_path); else the environment variable
///   `ALIBABA_CLOUD_CREDENTIALS_FILE`; else `~/.alibabacloud/credentials` (what Alibaba's Go,
///   Java and PHP libraries read) or, when only that exists, `~/.alibabacloud/credentials.ini`
///   (what its Python library reads). The home directory is `HOME` (on Windows `USERPROFILE`,
///   then `HOME`).
/// * **Profile**: the name given to [`profile`](Self::profile); else the environment variable
///   `ALIBABA_CLOUD_PROFILE`; else `default`.
///
/// The `type`s, and the keys each reads (missing ones fall back to the variables named, as in
/// Alibaba's libraries):
///
/// | `type` | keys |
/// |---|---|
/// | `access_key` | `access_key_id`, `access_key_secret` |
/// | `sts` | `access_key_id`, `access_key_secret`, `security_token` |
/// | `ram_role_arn` | `access_key_id`, `access_key_secret`, `role_arn` (`ALIBABA_CLOUD_ROLE_ARN`), `role_session_name`, `policy` |
/// | `oidc_role_arn` | `role_arn` (`ALIBABA_CLOUD_ROLE_ARN`), `oidc_provider_arn` (`ALIBABA_CLOUD_OIDC_PROVIDER_ARN`), `oidc_token_file_path` (`ALIBABA_CLOUD_OIDC_TOKEN_FILE`), `role_session_name`, `policy` |
/// | `ecs_ram_role` | `role_name` (`ALIBABA_CLOUD_ECS_METADATA`; else asked of the metadata service) |
///
/// `ram_role_arn` is a [`RamRoleArnProvider`](super::RamRoleArnProvider) over the profile's
/// AccessKey, `oidc_role_arn` an [`OidcRoleArnProvider`](super::OidcRoleArnProvider),
/// `ecs_ram_role` an [`EcsRamRoleProvider`](super::EcsRamRoleProvider); their STS endpoint and
/// session settings come from the environment.
///
/// The file is read on every call until a profile naming a role is found; that role's provider
/// is then kept, so that its credentials are cached and refreshed (as Alibaba's libraries do).
/// Wrap the provider in [`DefaultCredentialsChain`](super::DefaultCredentialsChain) to read
/// the file once. Reading is blocking file I/O of a small file.
///
/// As a provider on its own, every failure is an error, including a missing file. Used by
/// [`DefaultCredentialsChain`](super::DefaultCredentialsChain), a file that does not exist at the
/// default path, a missing `default` profile (when no profile was chosen) and a profile with
/// `enable = false` count as "no credentials here" and the chain moves on; a file chosen
/// explicitly (by path or environment variable) that does not exist, a syntax error, a missing
/// key, an unsupported `type` or a chosen profile that is not in the file stop the chain with an
/// error. Errors name the file and the line or key, never a secret nor the text of a line.
///
/// # Errors
///
/// The messages, after `credentials error: `; `FILE` is the path as displayed, `N` and `M` line
/// numbers, `K` a key, `P` a profile, `T` a type, `V` a variable; `(from ALIBABA_CLOUD_PROFILE)`
/// reads `(set on the provider)` when the profile was chosen with [`profile`](Self::profile),
/// and the list of profiles reads `none` when there are none:
///
/// ```text
/// syntax error at line N of FILE: expected `[profile]`, `key = value` or a comment
/// syntax error at line N of FILE: malformed `[profile]` header
/// syntax error at line N of FILE: key `K` is outside any `[profile]` section
/// syntax error at line N of FILE: unterminated quote in the value of `K`
/// syntax error at line N of FILE: unexpected text after the quoted value of `K`
/// syntax error at line N of FILE: duplicate profile `[P]` (first at line M)
/// syntax error at line N of FILE: duplicate key `K` in profile `P` (first at line M)
/// missing `K` in profile `P` of FILE
/// missing `K` in profile `P` of FILE, and V is not set
/// empty `K` in profile `P` at line N of FILE
/// missing `type` in profile `P` of FILE (supported: `access_key`, `sts`, `ram_role_arn`, `oidc_role_arn`, `ecs_ram_role`)
/// unsupported credentials type `T` in profile `P` of FILE (supported: …)
/// invalid `enable` in profile `P` at line N of FILE (expected `true` or `false`)
/// profile `P` (from ALIBABA_CLOUD_PROFILE) not found in FILE; profiles present: `a`, `b`
/// credentials file FILE (from ALIBABA_CLOUD_CREDENTIALS_FILE) does not exist
/// credentials file FILE (set on the provider) does not exist
/// cannot read credentials file FILE: <I/O error>
/// credentials file FILE is not valid UTF-8
/// the role in profile `P` of FILE cannot be used
///   (its source(): e.g. ecs_ram_role: the instance metadata source is disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED)
/// ```
///
/// On its own (not in the chain), also:
///
/// ```text
/// no credentials found: credentials file FILE (does not exist, nor does FILE.ini)
/// no credentials found: credentials file FILE (no profile `default`; profiles present: `a`)
/// no credentials found: credentials file FILE (profile `P` is disabled: `enable = false`)
/// no credentials found: credentials file ~/.alibabacloud/credentials (home directory unknown: HOME is not set)
/// ```
///
/// ```
/// use alibabacloud_ens::credentials::ProfileFileProvider;
/// let provider = ProfileFileProvider::with_path("/etc/myapp/credentials").profile("prod");
/// # let _ = provider;
/// ```
#[derive(Debug, Clone, Default)]
pub struct ProfileFileProvider {
    path: Option<PathBuf>,
    profile: Option<String>,
    ctx: Context,
    /// The role provider a profile named, once found (shared by clones).
    role: Arc<OnceLock<Arc<dyn ProvideCredentials>>>,
}

impl ProfileFileProvider {
    /// The file and profile chosen by the environment, or the defaults.
    pub fn new() -> Self {
        ProfileFileProvider::default()
    }

    /// Reads the file at `path` (ignoring `ALIBABA_CLOUD_CREDENTIALS_FILE`).
    pub fn with_path(path: impl Into<PathBuf>) -> Self {
        ProfileFileProvider {
            path: Some(path.into()),
            ..ProfileFileProvider::default()
        }
    }

    /// Uses profile `name` (ignoring `ALIBABA_CLOUD_PROFILE`).
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

    fn resolve_path(&self) -> Result<(PathBuf, Origin), String> {
        if let Some(p) = &self.path {
            return Ok((p.clone(), Origin::Given));
        }
        if let Some(p) = self.ctx.env.path(ENV_CREDENTIALS_FILE) {
            return Ok((p, Origin::Var(ENV_CREDENTIALS_FILE)));
        }
        match self.ctx.env.home() {
            Ok(home) => {
                let dir = home.join(".alibabacloud");
                let plain = dir.join("credentials");
                let ini = dir.join("credentials.ini");
                if !plain.exists() && ini.exists() {
                    Ok((ini, Origin::Default))
                } else {
                    Ok((plain, Origin::Default))
                }
            }
            Err(why) => Err(format!(
                "credentials file ~/.alibabacloud/credentials ({why})"
            )),
        }
    }

    fn resolve_profile(&self) -> (String, Origin) {
        if let Some(p) = &self.profile {
            return (p.clone(), Origin::Given);
        }
        match self.ctx.env.var(ENV_PROFILE) {
            Some(p) => (p, Origin::Var(ENV_PROFILE)),
            None => (DEFAULT_PROFILE.to_owned(), Origin::Default),
        }
    }

    /// Reads the file. `Absent` when there is nothing to read (see the type's documentation).
    pub(crate) fn lookup(&self) -> Result<Lookup, CredentialsError> {
        let (path, path_origin) = match self.resolve_path() {
            Ok(p) => p,
            Err(place) => return Ok(Lookup::Absent(place)),
        };
        let shown = path.display();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return if path_origin == Origin::Default {
                    Ok(Lookup::Absent(format!(
                        "credentials file {shown} (does not exist, nor does {}.ini)",
                        path.display()
                    )))
                } else {
                    Err(CredentialsError::new(format!(
                        "credentials file {shown}{} does not exist",
                        path_origin.note()
                    )))
                };
            }
            Err(e) => {
                return Err(CredentialsError::new(format!(
                    "cannot read credentials file {shown}: {e}"
                )))
            }
        };
        let text = String::from_utf8(bytes).map_err(|_| {
            CredentialsError::new(format!("credentials file {shown} is not valid UTF-8"))
        })?;
        let sections = parse(&text, &path)?;
        let (profile, profile_origin) = self.resolve_profile();
        let Some(section) = sections.iter().find(|s| s.name == profile) else {
            let present = list_names(sections.iter().map(|s| s.name.as_str()));
            return if profile_origin == Origin::Default {
                Ok(Lookup::Absent(format!(
                    "credentials file {shown} (no profile `{profile}`; profiles present: {present})"
                )))
            } else {
                Err(CredentialsError::new(format!(
                    "profile `{profile}`{} not found in {shown}; profiles present: {present}",
                    profile_origin.note()
                )))
            };
        };
        section.lookup(&path, &self.ctx)
    }
}

impl ProvideCredentials for ProfileFileProvider {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        Box::pin(provide_from_lookup(&self.role, || self.lookup()))
    }
}

/// One `[name]` section. No `Debug`: it holds secrets.
struct Section {
    name: String,
    line: usize,
    entries: Vec<Entry>,
}

/// One `key = value` line; `key` is lower-cased, `value` unquoted and without comment. No
/// `Debug`: the value may be a secret.
struct Entry {
    key: String,
    value: String,
    line: usize,
}

impl Section {
    fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    fn lookup(&self, path: &Path, ctx: &Context) -> Result<Lookup, CredentialsError> {
        let shown = path.display();
        let p = &self.name;
        if let Some(e) = self.get("enable") {
            if e.value.eq_ignore_ascii_case("false") {
                return Ok(Lookup::Absent(format!(
                    "credentials file {shown} (profile `{p}` is disabled: `enable = false`)"
                )));
            }
            if !e.value.eq_ignore_ascii_case("true") {
                return Err(CredentialsError::new(format!(
                    "invalid `enable` in profile `{p}` at line {} of {shown} \
                     (expected `true` or `false`)",
                    e.line
                )));
            }
        }
        // A key that must be there and not be empty.
        let require = |key: &str| match self.get(key) {
            None => Err(CredentialsError::new(format!(
                "missing `{key}` in profile `{p}` of {shown}"
            ))),
            Some(e) if e.value.is_empty() => Err(CredentialsError::new(format!(
                "empty `{key}` in profile `{p}` at line {} of {shown}",
                e.line
            ))),
            Some(e) => Ok(e.value.clone()),
        };
        // A key that may be missing or empty.
        let optional = |key: &str| {
            self.get(key)
                .map(|e| e.value.clone())
                .filter(|v| !v.is_empty())
        };
        // A key that may fall back to an environment variable.
        let or_env = |key: &str, var: &str| {
            optional(key).or_else(|| ctx.env.var(var)).ok_or_else(|| {
                CredentialsError::new(format!(
                    "missing `{key}` in profile `{p}` of {shown}, and {var} is not set"
                ))
            })
        };
        // A role provider's own error (a variable it read), said to come from this profile.
        let in_profile = |e: CredentialsError| {
            CredentialsError::new(format!(
                "the role in profile `{p}` of {shown} cannot be used"
            ))
            .with_source(e)
        };
        let kind = match self.get("type") {
            Some(e) if !e.value.is_empty() => e.value.to_ascii_lowercase(),
            _ => {
                return Err(CredentialsError::new(format!(
                    "missing `type` in profile `{p}` of {shown} (supported: {SUPPORTED})"
                )))
            }
        };
        let found = |c: Credentials| Ok(Lookup::Found(c.with_provider_name("profile")));
        let provider = |p: Arc<dyn ProvideCredentials>| Ok(Lookup::Provider(p));
        match kind.as_str() {
            "access_key" => found(Credentials::new(
                require("access_key_id")?,
                require("access_key_secret")?,
            )),
            "sts" => found(Credentials::with_security_token(
                require("access_key_id")?,
                require("access_key_secret")?,
                require("security_token")?,
            )),
            "ram_role_arn" => {
                let source =
                    Credentials::new(require("access_key_id")?, require("access_key_secret")?)
                        .with_provider_name("profile");
                let mut b = ctx.ram_role_arn(Arc::new(source), or_env("role_arn", ENV_ROLE_ARN)?);
                if let Some(s) = optional("role_session_name") {
                    b = b.role_session_name(s);
                }
                if let Some(policy) = optional("policy") {
                    b = b.policy(policy);
                }
                provider(Arc::new(b.build().map_err(in_profile)?))
            }
            "oidc_role_arn" => {
                let mut b = ctx.oidc_role_arn(
                    or_env("role_arn", ENV_ROLE_ARN)?,
                    or_env("oidc_provider_arn", ENV_OIDC_PROVIDER_ARN)?,
                    PathBuf::from(or_env("oidc_token_file_path", ENV_OIDC_TOKEN_FILE)?),
                );
                if let Some(s) = optional("role_session_name") {
                    b = b.role_session_name(s);
                }
                if let Some(policy) = optional("policy") {
                    b = b.policy(policy);
                }
                provider(Arc::new(b.build().map_err(in_profile)?))
            }
            "ecs_ram_role" => {
                let mut b = ctx.ecs_ram_role();
                if let Some(role) = optional("role_name") {
                    b = b.role_name(role);
                }
                provider(Arc::new(b.build().map_err(in_profile)?))
            }
            _ => Err(CredentialsError::new(format!(
                "unsupported credentials type `{}` in profile `{p}` of {shown} \
                 (supported: {SUPPORTED})",
                self.get("type").map_or("", |e| e.value.as_str())
            ))),
        }
    }
}

/// `true` for a plausible key name: ASCII letters, digits, `_`, `-`, `.`.
fn is_key_name(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// `true` when the rest of a line after a header or quoted value is empty or a comment.
fn is_blank_or_comment(rest: &str) -> bool {
    let rest = rest.trim();
    rest.is_empty() || rest.starts_with('#') || rest.starts_with(';')
}

enum ValueError {
    Unterminated,
    TrailingText,
}

/// The value after `=`: unquoted, or inside matching `"` or `'` (kept verbatim); a `#` or `;`
/// at the start of an unquoted value or after whitespace starts a comment.
fn parse_value(raw: &str) -> Result<String, ValueError> {
    let raw = raw.trim();
    if let Some(q) = raw.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let inner = &raw[1..];
        let Some(end) = inner.find(q) else {
            return Err(ValueError::Unterminated);
        };
        return if is_blank_or_comment(&inner[end + 1..]) {
            Ok(inner[..end].to_owned())
        } else {
            Err(ValueError::TrailingText)
        };
    }
    let mut prev_space = true;
    for (i, c) in raw.char_indices() {
        if (c == '#' || c == ';') && prev_space {
            return Ok(raw[..i].trim_end().to_owned());
        }
        prev_space = c.is_whitespace();
    }
    Ok(raw.to_owned())
}

/// Parses the whole file. Errors give the line number and at most a key name: a malformed line
/// may hold a secret, so its text is never shown.
fn parse(text: &str, path: &Path) -> Result<Vec<Section>, CredentialsError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sections: Vec<Section> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if is_blank_or_comment(line) {
            continue;
        }
        let syntax = |what: &str| {
            CredentialsError::new(format!(
                "syntax error at line {n} of {}: {what}",
                path.display()
            ))
        };
        if let Some(rest) = line.strip_prefix('[') {
            let name = match rest.split_once(']') {
                Some((name, after)) if !name.trim().is_empty() && is_blank_or_comment(after) => {
                    name.trim()
                }
                _ => return Err(syntax("malformed `[profile]` header")),
            };
            if let Some(first) = sections.iter().find(|s| s.name == name) {
                return Err(syntax(&format!(
                    "duplicate profile `[{name}]` (first at line {})",
                    first.line
                )));
            }
            sections.push(Section {
                name: name.to_owned(),
                line: n,
                entries: Vec::new(),
            });
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((key, value)) if is_key_name(key.trim()) => (key.trim(), value),
            _ => return Err(syntax("expected `[profile]`, `key = value` or a comment")),
        };
        let value = parse_value(value).map_err(|e| {
            syntax(&match e {
                ValueError::Unterminated => format!("unterminated quote in the value of `{key}`"),
                ValueError::TrailingText => {
                    format!("unexpected text after the quoted value of `{key}`")
                }
            })
        })?;
        let Some(section) = sections.last_mut() else {
            return Err(syntax(&format!(
                "key `{key}` is outside any `[profile]` section"
            )));
        };
        let lower = key.to_ascii_lowercase();
        if let Some(first) = section.entries.iter().find(|e| e.key == lower) {
            return Err(syntax(&format!(
                "duplicate key `{key}` in profile `{}` (first at line {})",
                section.name, first.line
            )));
        }
        section.entries.push(Entry {
            key: lower,
            value,
            line: n,
        });
    }
    Ok(sections)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::environment::tests::{assert_no_secret, lookup, TempDir};
    use crate::credentials::environment::Env;
    use std::sync::Arc;

    const SECRET: &str = "SeCrEtVaLuE123";
    const TOKEN: &str = "ToKeNvAlUe456";

    /// A provider over `dir`'s home with an otherwise empty environment.
    fn provider(dir: &TempDir, env: &[(&str, &str)]) -> ProfileFileProvider {
        ProfileFileProvider::new().with_env(Env::injected(Some(dir.0.clone()), lookup(env)))
    }

    fn write_creds(dir: &TempDir, text: &str) -> PathBuf {
        dir.write(".alibabacloud/credentials", text)
    }

    fn found(l: Result<Lookup, CredentialsError>) -> Credentials {
        match l {
            Ok(Lookup::Found(c)) => c,
            other => panic!("expected credentials, got {other:?}"),
        }
    }

    /// The error's message (without the "credentials error: " prefix), checked for secrets.
    fn err(l: Result<Lookup, CredentialsError>) -> String {
        match l {
            Err(e) => {
                assert_no_secret(&e, &[SECRET, TOKEN]);
                e.message
            }
            Ok(other) => panic!("expected an error, got {other:?}"),
        }
    }

    fn absent(l: Result<Lookup, CredentialsError>) -> String {
        match l {
            Ok(Lookup::Absent(place)) => {
                assert!(!place.contains(SECRET) && !place.contains(TOKEN), "{place}");
                place
            }
            other => panic!("expected absent, got {other:?}"),
        }
    }

    #[test]
    fn comments_quotes_and_whitespace() {
        let dir = TempDir::new("pf-comments");
        write_creds(
            &dir,
            &format!(
                "\u{feff}# leading comment\n\
                 ; another\n\
                 \n\
                 [other]\n\
                 type = access_key\n\
                 \n\
                 [ default ]   # the default profile\r\n\
                 \t type\t=  access_key  ; trailing\n\
                 access_key_id = \"LTAI#id\"  # quoted keeps the hash\n\
                 ACCESS_KEY_SECRET='{SECRET}'\n\
                 region_id = cn-hangzhou\n"
            ),
        );
        let c = found(provider(&dir, &[]).lookup());
        assert_eq!(c.access_key_id(), "LTAI#id");
        assert_eq!(c.access_key_secret(), SECRET);
        assert_eq!(c.security_token(), None);
    }

    #[test]
    fn unquoted_hash_without_space_is_kept() {
        assert!(matches!(parse_value(" a#b ; c"), Ok(v) if v == "a#b"));
        assert!(matches!(parse_value(" # only a comment"), Ok(v) if v.is_empty()));
        assert!(matches!(parse_value("\"a b\" ; c"), Ok(v) if v == "a b"));
        assert!(matches!(parse_value("''"), Ok(v) if v.is_empty()));
        assert!(matches!(parse_value("\"ab"), Err(ValueError::Unterminated)));
        assert!(matches!(
            parse_value("\"a\"b"),
            Err(ValueError::TrailingText)
        ));
    }

    #[test]
    fn sts_type() {
        let dir = TempDir::new("pf-sts");
        write_creds(
            &dir,
            &format!(
                "[default]\ntype = sts\naccess_key_id = STS.id\naccess_key_secret = {SECRET}\n\
                 security_token = {TOKEN}\n"
            ),
        );
        let c = found(provider(&dir, &[]).lookup());
        assert_eq!(c.access_key_id(), "STS.id");
        assert_eq!(c.security_token(), Some(TOKEN));
    }

    #[test]
    fn sts_without_token() {
        let dir = TempDir::new("pf-sts-missing");
        let path = write_creds(
            &dir,
            &format!("[default]\ntype = sts\naccess_key_id = id\naccess_key_secret = {SECRET}\n"),
        );
        assert_eq!(
            err(provider(&dir, &[]).lookup()),
            format!(
                "missing `security_token` in profile `default` of {}",
                path.display()
            )
        );
    }

    #[test]
    fn missing_and_empty_keys() {
        let dir = TempDir::new("pf-missing");
        let path = write_creds(&dir, "[default]\ntype = access_key\naccess_key_id = id\n");
        assert_eq!(
            err(provider(&dir, &[]).lookup()),
            format!(
                "missing `access_key_secret` in profile `default` of {}",
                path.display()
            )
        );
        write_creds(
            &dir,
            "[default]\ntype = access_key\naccess_key_id = id\naccess_key_secret = \"\"\n",
        );
        assert_eq!(
            err(provider(&dir, &[]).lookup()),
            format!(
                "empty `access_key_secret` in profile `default` at line 4 of {}",
                path.display()
            )
        );
        write_creds(
            &dir,
            &format!("[default]\naccess_key_id = id\naccess_key_secret = {SECRET}\n"),
        );
        assert_eq!(
            err(provider(&dir, &[]).lookup()),
            format!(
                "missing `type` in profile `default` of {} (supported: `access_key`, `sts`, \
                 `ram_role_arn`, `oidc_role_arn`, `ecs_ram_role`)",
                path.display()
            )
        );
    }

    #[test]
    fn unsupported_types() {
        let dir = TempDir::new("pf-unsupported");
        for kind in ["rsa_key_pair", "credentials_uri", "chainable_ram_role_arn"] {
            let path = write_creds(
                &dir,
                &format!("[prod]\ntype = {kind}\naccess_key_secret = {SECRET}\n"),
            );
            assert_eq!(
                err(provider(&dir, &[(ENV_PROFILE, "prod")]).lookup()),
                format!(
                    "unsupported credentials type `{kind}` in profile `prod` of {} \
                     (supported: `access_key`, `sts`, `ram_role_arn`, `oidc_role_arn`, \
                     `ecs_ram_role`)",
                    path.display()
                )
            );
        }
    }

    #[test]
    fn unknown_profile() {
        let dir = TempDir::new("pf-unknown");
        let path = write_creds(
            &dir,
            &format!(
                "[default]\ntype = access_key\naccess_key_id = id\naccess_key_secret = {SECRET}\n\
                 [dev]\ntype = access_key\n"
            ),
        );
        assert_eq!(
            err(provider(&dir, &[(ENV_PROFILE, "prod")]).lookup()),
            format!(
                "profile `prod` (from ALIBABA_CLOUD_PROFILE) not found in {}; \
                 profiles present: `default`, `dev`",
                path.display()
            )
        );
        assert_eq!(
            err(provider(&dir, &[]).profile("qa").lookup()),
            format!(
                "profile `qa` (set on the provider) not found in {}; \
                 profiles present: `default`, `dev`",
                path.display()
            )
        );
        // The default profile missing, with no profile chosen: nothing here, not an error.
        write_creds(&dir, "[dev]\ntype = access_key\n");
        assert_eq!(
            absent(provider(&dir, &[]).lookup()),
            format!(
                "credentials file {} (no profile `default`; profiles present: `dev`)",
                path.display()
            )
        );
    }

    #[test]
    fn disabled_profile() {
        let dir = TempDir::new("pf-disabled");
        let path = write_creds(
            &dir,
            &format!(
                "[default]\nenable = false\ntype = access_key\naccess_key_id = id\n\
                 access_key_secret = {SECRET}\n"
            ),
        );
        assert_eq!(
            absent(provider(&dir, &[]).lookup()),
            format!(
                "credentials file {} (profile `default` is disabled: `enable = false`)",
                path.display()
            )
        );
        write_creds(
            &dir,
            &format!(
                "[default]\nenable = TRUE\ntype = access_key\naccess_key_id = id\n\
                 access_key_secret = {SECRET}\n"
            ),
        );
        found(provider(&dir, &[]).lookup());
        write_creds(&dir, "[default]\nenable = nope\n");
        assert_eq!(
            err(provider(&dir, &[]).lookup()),
            format!(
                "invalid `enable` in profile `default` at line 2 of {} \
                 (expected `true` or `false`)",
                path.display()
            )
        );
    }

    #[test]
    fn bad_lines_give_line_numbers_not_text() {
        let dir = TempDir::new("pf-bad-lines");
        let cases: Vec<(String, usize, String)> = vec![
            (
                format!("[default]\ntype = access_key\n# c\n{SECRET}\n"),
                4,
                "expected `[profile]`, `key = value` or a comment".into(),
            ),
            (
                format!("[default]\naccess key secret = {SECRET}\n"),
                2,
                "expected `[profile]`, `key = value` or a comment".into(),
            ),
            (
                format!("# comment\n\naccess_key_secret = {SECRET}\n[default]\n"),
                3,
                "key `access_key_secret` is outside any `[profile]` section".into(),
            ),
            (
                format!("[default]\naccess_key_secret = \"{SECRET}\n"),
                2,
                "unterminated quote in the value of `access_key_secret`".into(),
            ),
            (
                format!("[default]\nsecurity_token = '{TOKEN}'{SECRET}\n"),
                2,
                "unexpected text after the quoted value of `security_token`".into(),
            ),
            (
                format!("[default\naccess_key_secret = {SECRET}\n"),
                1,
                "malformed `[profile]` header".into(),
            ),
            (
                format!("[default]\n[{SECRET}] x\n"),
                2,
                "malformed `[profile]` header".into(),
            ),
            (
                "[default]\ntype = sts\n\n[default]\n".into(),
                4,
                "duplicate profile `[default]` (first at line 1)".into(),
            ),
            (
                format!("[default]\naccess_key_secret = x\nACCESS_KEY_SECRET = {SECRET}\n"),
                3,
                "duplicate key `ACCESS_KEY_SECRET` in profile `default` (first at line 2)".into(),
            ),
        ];
        for (text, line, what) in cases {
            let path = write_creds(&dir, &text);
            assert_eq!(
                err(provider(&dir, &[]).lookup()),
                format!("syntax error at line {line} of {}: {what}", path.display()),
                "{text:?}"
            );
        }
    }

    #[test]
    fn file_location() {
        let dir = TempDir::new("pf-location");
        let home_path = dir.0.join(".alibabacloud").join("credentials");
        // Default path missing: nothing here.
        assert_eq!(
            absent(provider(&dir, &[]).lookup()),
            format!(
                "credentials file {} (does not exist, nor does {}.ini)",
                home_path.display(),
                home_path.display()
            )
        );
        // Chosen path missing: an error.
        let elsewhere = dir.0.join("nope");
        assert_eq!(
            err(provider(&dir, &[(ENV_CREDENTIALS_FILE, elsewhere.to_str().unwrap())]).lookup()),
            format!(
                "credentials file {} (from ALIBABA_CLOUD_CREDENTIALS_FILE) does not exist",
                elsewhere.display()
            )
        );
        let p = ProfileFileProvider::with_path(&elsewhere)
            .with_env(Env::injected(Some(dir.0.clone()), lookup(&[])));
        assert_eq!(
            err(p.lookup()),
            format!(
                "credentials file {} (set on the provider) does not exist",
                elsewhere.display()
            )
        );
        // The variable wins over the home directory; the explicit path over the variable.
        write_creds(
            &dir,
            "[default]\ntype = access_key\naccess_key_id = home\naccess_key_secret = s\n",
        );
        let other = dir.write(
            "other.ini",
            "[default]\ntype = access_key\naccess_key_id = other\naccess_key_secret = s\n",
        );
        let env = [(ENV_CREDENTIALS_FILE, other.to_str().unwrap())];
        assert_eq!(
            found(provider(&dir, &env).lookup()).access_key_id(),
            "other"
        );
        let p = ProfileFileProvider::with_path(&home_path)
            .with_env(Env::injected(Some(dir.0.clone()), lookup(&env)));
        assert_eq!(found(p.lookup()).access_key_id(), "home");
        // No home directory at all.
        let p = ProfileFileProvider::new().with_env(Env::injected(None, lookup(&[])));
        assert!(absent(p.lookup())
            .starts_with("credentials file ~/.alibabacloud/credentials (home directory unknown: "));
        // A directory, and a file that is not UTF-8.
        let p = ProfileFileProvider::with_path(&dir.0).with_env(Env::injected(None, lookup(&[])));
        assert!(err(p.lookup()).starts_with(&format!(
            "cannot read credentials file {}: ",
            dir.0.display()
        )));
        let bin = dir.0.join("bin");
        std::fs::write(&bin, b"[default]\naccess_key_secret = \xff\xfe\n").unwrap();
        let p = ProfileFileProvider::with_path(&bin).with_env(Env::injected(None, lookup(&[])));
        assert_eq!(
            err(p.lookup()),
            format!("credentials file {} is not valid UTF-8", bin.display())
        );
    }

    #[tokio::test]
    async fn as_a_provider_absence_is_an_error() {
        let dir = TempDir::new("pf-provider");
        let p = provider(&dir, &[]);
        let e = p.provide_credentials().await.unwrap_err();
        assert_no_secret(&e, &[SECRET, TOKEN]);
        assert_eq!(
            e.to_string(),
            format!(
                "credentials error: no credentials found: credentials file {} (does not exist, \
                 nor does {}.ini)",
                dir.0.join(".alibabacloud").join("credentials").display(),
                dir.0.join(".alibabacloud").join("credentials").display()
            )
        );
        write_creds(
            &dir,
            &format!(
                "[default]\ntype = access_key\naccess_key_id = id\naccess_key_secret = {SECRET}\n"
            ),
        );
        let c = p.provide_credentials().await.unwrap();
        assert_eq!(c.access_key_secret(), SECRET);
        assert!(!format!("{p:?}").contains(SECRET));
        let _: Arc<dyn ProvideCredentials> = Arc::new(p);
    }
}
