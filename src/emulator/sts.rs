//! The emulator's STS (API 2015-04-01): `AssumeRole` and `AssumeRoleWithOIDC`, served on the
//! same listener as ENS, and the credentials it (and the metadata service) issues.
//!
//! A request is STS's when its `Version` is `2015-04-01` and its `Action` one of
//! [`STS_ACTIONS`]. `AssumeRole` is authenticated like any V1 request (the same checks, in the
//! same order, as ENS's: see `auth.rs`), with any key the emulator knows, issued STS keys
//! included (role chaining). `AssumeRoleWithOIDC` is unsigned: the OIDC token is the proof, and
//! it must match a trust set with [`EmulatorBuilder::oidc`](super::EmulatorBuilder::oidc).
//!
//! Every successful call issues new credentials (`STS.` + 24 characters, a secret, a security
//! token), which ENS then accepts with their token until they expire, and answers
//! `InvalidSecurityToken.Expired` after. They live for the configured
//! [`sts_credential_lifetime`](super::EmulatorBuilder::sts_credential_lifetime), else for the
//! `DurationSeconds` asked for; `Expiration` is in whole seconds (what Alibaba's libraries
//! parse), rounded down, and the emulator expires them at that very time, read from the
//! emulator's credentials clock.
//!
//! Errors (JSON, the gateway's shape): `MissingRoleArn`, `MissingRoleSessionName`,
//! `MissingOIDCProviderArn`, `MissingOIDCToken` (400); `InvalidParameter.RoleArn`,
//! `InvalidParameter.RoleSessionName` (2–64 of letters, digits, `.`, `@`, `-`, `_`),
//! `InvalidParameter.DurationSeconds` (900–43 200), `InvalidParameter.PolicyGrammar` (not a
//! JSON object) (400); `NoPermission` (403) for a [denied](super::AccessKey::deny) key;
//! `EntityNotExist.Role` (404) for a role the emulator was not told about (when it was told of
//! any); `EntityNotExist.OIDCProvider` (404) and `AuthenticationFail.OIDCToken.Invalid` (400)
//! for OIDC.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{Draft, Principal};
use super::params::{given, CommonParams, Params};
use super::{lock, AccessKey, ApiError, Shared};
use crate::clock::{Clock, TokioClock};
use crate::signer;

/// STS's API version.
pub(crate) const STS_VERSION: &str = "2015-04-01";
/// The actions the emulator's STS serves.
pub const STS_ACTIONS: &[&str] = &["AssumeRole", "AssumeRoleWithOIDC"];
/// Parameters that are credentials themselves: never kept in the request log.
const SECRET_PARAMS: &[&str] = &["OIDCToken"];
/// Issued credentials that expired longer ago than this are forgotten (their requests then
/// answer `InvalidAccessKeyId.NotFound`, as for any unknown key).
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// At most this many issued keys are kept (the oldest are forgotten first).
const MAX_ISSUED: usize = 100_000;

/// `true` for a parameter the request log must not keep.
pub(crate) fn is_secret_param(name: &str) -> bool {
    SECRET_PARAMS.contains(&name)
}

/// `true` when the `Version` and `Action` are STS's.
pub(crate) fn is_sts(version: &str, action: &str) -> bool {
    version == STS_VERSION && STS_ACTIONS.contains(&action)
}

/// A trust the emulator's `AssumeRoleWithOIDC` accepts.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct OidcTrust {
    pub(crate) role_arn: String,
    pub(crate) provider_arn: String,
    pub(crate) token: String,
}

impl fmt::Debug for OidcTrust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcTrust")
            .field("role_arn", &self.role_arn)
            .field("provider_arn", &self.provider_arn)
            .field("token", &"** redacted **")
            .finish()
    }
}

/// What the builder configures.
#[derive(Debug, Clone, Default)]
pub(crate) struct StsSettings {
    pub(crate) lifetime: Option<Duration>,
    pub(crate) roles: Vec<String>,
    pub(crate) oidc: Vec<OidcTrust>,
    pub(crate) instance_role: Option<String>,
    pub(crate) metadata_token_required: bool,
    pub(crate) clock: Option<Arc<dyn Clock>>,
}

/// The STS's and the metadata service's state.
pub(crate) struct Sts {
    pub(crate) settings: StsSettings,
    clock: Arc<dyn Clock>,
    /// Issued key ids, oldest first, with their expiry (to forget them).
    issued: Mutex<Vec<(String, SystemTime)>>,
    /// The metadata service's session tokens and current credentials.
    pub(crate) metadata: Mutex<super::metadata::MetadataState>,
}

/// Credentials just issued. No `Debug`: it holds secrets.
pub(crate) struct Issued {
    pub(crate) id: String,
    pub(crate) secret: String,
    pub(crate) token: String,
    pub(crate) expires_at: SystemTime,
}

impl Issued {
    /// The answer's fields (STS's `Credentials`, and the metadata service's answer).
    pub(crate) fn fields(&self) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("AccessKeyId".into(), json!(self.id));
        m.insert("AccessKeySecret".into(), json!(self.secret));
        m.insert("SecurityToken".into(), json!(self.token));
        m.insert("Expiration".into(), json!(timestamp(self.expires_at)));
        m
    }
}

/// `YYYY-MM-DDThh:mm:ssZ`.
pub(crate) fn timestamp(t: SystemTime) -> String {
    signer::format_timestamp(time::OffsetDateTime::from(t))
}

/// `n` random characters from `[A-Za-z0-9]`.
fn random_text(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(n);
    while out.len() < n {
        let mut bytes = [0u8; 32];
        if getrandom::getrandom(&mut bytes).is_err() {
            // No OS randomness: the emulator's ids need only be distinct.
            let nanos = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            bytes[..16].copy_from_slice(&nanos.to_le_bytes());
        }
        for b in bytes {
            // 248 = 62 * 4: no bias.
            if b < 248 && out.len() < n {
                out.push(ALPHABET[(b % 62) as usize] as char);
            }
        }
    }
    out
}

/// `AssumeRole`'s parameters.
#[derive(Debug, Default, Deserialize)]
struct AssumeRoleParams {
    #[serde(rename = "RoleArn")]
    role_arn: Option<String>,
    #[serde(rename = "RoleSessionName")]
    role_session_name: Option<String>,
    #[serde(rename = "DurationSeconds")]
    duration_seconds: Option<String>,
    #[serde(rename = "Policy")]
    policy: Option<String>,
}

/// `AssumeRoleWithOIDC`'s parameters. No `Debug`: the token is a credential.
#[derive(Default, Deserialize)]
struct OidcParams {
    #[serde(rename = "RoleArn")]
    role_arn: Option<String>,
    #[serde(rename = "OIDCProviderArn")]
    provider_arn: Option<String>,
    #[serde(rename = "OIDCToken")]
    token: Option<String>,
    #[serde(rename = "RoleSessionName")]
    role_session_name: Option<String>,
    #[serde(rename = "DurationSeconds")]
    duration_seconds: Option<String>,
    #[serde(rename = "Policy")]
    policy: Option<String>,
}

/// The `AssumedRoleUser` of both answers: the role with the session name, and a fresh id.
fn assumed_role_user(role: &str, session_name: &str) -> Value {
    json!({
        "Arn": format!("{role}/{session_name}"),
        "AssumedRoleId": format!("3{}:{session_name}", random_text(16)),
    })
}

fn is_role_arn(s: &str) -> bool {
    s.strip_prefix("acs:ram::")
        .and_then(|rest| rest.split_once(":role/"))
        .is_some_and(|(account, name)| {
            !account.is_empty()
                && account.bytes().all(|b| b.is_ascii_digit())
                && !name.is_empty()
                && name.len() <= 64
        })
}

/// The checks both actions make on the session settings; the lifetime asked for.
fn session(
    name: Option<&str>,
    duration: Option<&str>,
    policy: Option<&str>,
) -> Result<Duration, ApiError> {
    let name = name.ok_or_else(|| ApiError::missing("RoleSessionName"))?;
    if !(2..=64).contains(&name.len())
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'@' | b'-' | b'_'))
    {
        return Err(ApiError::bad(
            "InvalidParameter.RoleSessionName",
            "The parameter RoleSessionName is invalid: 2 to 64 letters, digits, '.', '@', '-' \
             or '_'.",
        ));
    }
    let seconds = match duration {
        None => 3600,
        Some(d) => d
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|s| (900..=43_200).contains(s))
            .ok_or_else(|| {
                ApiError::bad(
                    "InvalidParameter.DurationSeconds",
                    "The parameter DurationSeconds is invalid: 900 to 43200.",
                )
            })?,
    };
    if let Some(p) = policy {
        if !serde_json::from_str::<Value>(p).is_ok_and(|v| v.is_object()) {
            return Err(ApiError::bad(
                "InvalidParameter.PolicyGrammar",
                "The parameter Policy is not a valid policy document (a JSON object).",
            ));
        }
    }
    Ok(Duration::from_secs(seconds))
}

impl Sts {
    pub(crate) fn new(mut settings: StsSettings) -> Self {
        let clock = settings
            .clock
            .take()
            .unwrap_or_else(|| Arc::new(TokioClock));
        Sts {
            settings,
            clock,
            issued: Mutex::new(Vec::new()),
            metadata: Mutex::new(super::metadata::MetadataState::default()),
        }
    }

    /// Now, on the emulator's wall clock.
    pub(crate) fn now(&self) -> SystemTime {
        self.clock.system_time()
    }

    /// `true` when `key` was issued and has expired.
    pub(crate) fn expired(&self, key: &AccessKey) -> bool {
        key.expires_at.is_some_and(|t| self.now() >= t)
    }

    /// Issues credentials living `lifetime` (or the configured lifetime) and makes ENS (and STS)
    /// accept them.
    pub(crate) fn issue(&self, shared: &Shared, lifetime: Duration) -> Issued {
        let lifetime = self.settings.lifetime.unwrap_or(lifetime);
        let now = self.now();
        // Whole seconds, rounded down: what the answer says is when it expires.
        let exact = now + lifetime;
        let whole = exact
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| SystemTime::UNIX_EPOCH + Duration::from_secs(d.as_secs()))
            .unwrap_or(exact);
        let issued = Issued {
            id: format!("STS.{}", random_text(24)),
            secret: random_text(40),
            token: format!("CAIS{}", random_text(120)),
            expires_at: whole,
        };
        let mut key = AccessKey::new(&issued.id, &issued.secret).security_token(&issued.token);
        key.expires_at = Some(issued.expires_at);
        let mut keys = lock(&shared.keys);
        let mut order = lock(&self.issued);
        // Forget what expired long ago, and the oldest beyond the cap.
        let horizon = now
            .checked_sub(FORGET_AFTER)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        order.retain(|(id, at)| {
            let keep = *at > horizon;
            if !keep {
                keys.remove(id);
            }
            keep
        });
        if order.len() >= MAX_ISSUED {
            let excess = order.len() + 1 - MAX_ISSUED;
            for (id, _) in order.drain(..excess) {
                keys.remove(&id);
            }
        }
        order.push((issued.id.clone(), issued.expires_at));
        keys.insert(issued.id.clone(), key);
        issued
    }

    /// Expires every credential issued so far, now.
    pub(crate) fn expire_all(&self, shared: &Shared) {
        let mut keys = lock(&shared.keys);
        let past = SystemTime::UNIX_EPOCH;
        for (id, at) in lock(&self.issued).iter_mut() {
            *at = past;
            if let Some(k) = keys.get_mut(id) {
                k.expires_at = Some(past);
            }
        }
        lock(&self.metadata).current = None;
    }

    /// `AssumeRole`, for an authenticated caller.
    pub(crate) fn assume_role(
        &self,
        shared: &Shared,
        params: &Params,
        deny: bool,
    ) -> Result<Value, ApiError> {
        let p: AssumeRoleParams = params.typed()?;
        let role = given(&p.role_arn).ok_or_else(|| ApiError::missing("RoleArn"))?;
        if !is_role_arn(role) {
            return Err(ApiError::bad(
                "InvalidParameter.RoleArn",
                "The parameter RoleArn is invalid: acs:ram::<account id>:role/<role name>.",
            ));
        }
        let lifetime = session(
            given(&p.role_session_name),
            given(&p.duration_seconds),
            given(&p.policy),
        )?;
        if deny {
            return Err(ApiError::new(
                403,
                "NoPermission",
                "You are not authorized to do this action: the AccessKey may not assume roles.",
            ));
        }
        if !self.settings.roles.is_empty() && !self.settings.roles.iter().any(|r| r == role) {
            return Err(ApiError::new(
                404,
                "EntityNotExist.Role",
                "The specified Role does not exist.",
            ));
        }
        let session_name = given(&p.role_session_name).unwrap_or_default();
        let issued = self.issue(shared, lifetime);
        Ok(json!({
            "AssumedRoleUser": assumed_role_user(role, session_name),
            "Credentials": issued.fields(),
        }))
    }

    /// `AssumeRoleWithOIDC` (unsigned).
    pub(crate) fn assume_role_with_oidc(
        &self,
        shared: &Shared,
        params: &Params,
    ) -> Result<Value, ApiError> {
        let p: OidcParams = params.typed()?;
        let role = given(&p.role_arn).ok_or_else(|| ApiError::missing("RoleArn"))?;
        let provider =
            given(&p.provider_arn).ok_or_else(|| ApiError::missing("OIDCProviderArn"))?;
        let token = given(&p.token).ok_or_else(|| ApiError::missing("OIDCToken"))?;
        let lifetime = session(
            given(&p.role_session_name),
            given(&p.duration_seconds),
            given(&p.policy),
        )?;
        let Some(trust) = self
            .settings
            .oidc
            .iter()
            .find(|t| t.role_arn == role && t.provider_arn == provider)
        else {
            return Err(ApiError::new(
                404,
                "EntityNotExist.OIDCProvider",
                "The specified OIDC provider does not exist or is not trusted by the role.",
            ));
        };
        if trust.token != token {
            return Err(ApiError::bad(
                "AuthenticationFail.OIDCToken.Invalid",
                "The OIDC token is invalid.",
            ));
        }
        let session_name = given(&p.role_session_name).unwrap_or_default();
        let issued = self.issue(shared, lifetime);
        Ok(json!({
            "AssumedRoleUser": assumed_role_user(role, session_name),
            "OIDCTokenInfo": {"Issuer": provider, "Subject": "system:serviceaccount:emulator"},
            "Credentials": issued.fields(),
        }))
    }
}

/// An unsigned `AssumeRoleWithOIDC` is admitted without authentication (the token is checked
/// by the action). `None` for anything else, which is authenticated as usual.
pub(crate) fn admit_unsigned(
    params: &Params,
    draft: &mut Draft,
) -> Result<Option<Principal>, ApiError> {
    let common: CommonParams = params.typed()?;
    let action = given(&common.action);
    if given(&common.version) != Some(STS_VERSION)
        || action != Some("AssumeRoleWithOIDC")
        || given(&common.signature).is_some()
    {
        return Ok(None);
    }
    draft.action = action.map(str::to_owned);
    Ok(Some(Principal {
        action: "AssumeRoleWithOIDC".to_owned(),
        deny: false,
        sts: true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_and_session_rules() {
        assert!(is_role_arn("acs:ram::1234567890:role/failover"));
        for bad in [
            "acs:ram::x:role/r",
            "acs:ram::1:user/r",
            "acs:ram:::role/r",
            "acs:ram::1:role/",
            "arn:aws:iam::1:role/r",
        ] {
            assert!(!is_role_arn(bad), "{bad}");
        }
        assert_eq!(
            session(Some("s1"), None, None).unwrap(),
            Duration::from_secs(3600)
        );
        assert_eq!(
            session(Some("s1"), Some("900"), Some(r#"{"Version": "1"}"#)).unwrap(),
            Duration::from_secs(900)
        );
        let code = |r: Result<Duration, ApiError>| r.unwrap_err().code;
        assert_eq!(code(session(None, None, None)), "MissingRoleSessionName");
        assert_eq!(
            code(session(Some("a b"), None, None)),
            "InvalidParameter.RoleSessionName"
        );
        assert_eq!(
            code(session(Some("s1"), Some("899"), None)),
            "InvalidParameter.DurationSeconds"
        );
        assert_eq!(
            code(session(Some("s1"), None, Some("[1]"))),
            "InvalidParameter.PolicyGrammar"
        );
    }

    #[test]
    fn random_text_and_redacted_trusts() {
        let a = random_text(24);
        assert_eq!(a.len(), 24);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(a, random_text(24));
        let t = OidcTrust {
            role_arn: "r".into(),
            provider_arn: "p".into(),
            token: "eyJ.SeCrEt".into(),
        };
        assert_eq!(
            format!("{t:?}"),
            "OidcTrust { role_arn: \"r\", provider_arn: \"p\", token: \"** redacted **\" }"
        );
        assert!(!format!(
            "{:?}",
            StsSettings {
                oidc: vec![t],
                ..StsSettings::default()
            }
        )
        .contains("SeCrEt"));
        assert!(is_secret_param("OIDCToken") && !is_secret_param("RoleArn"));
        assert!(is_sts("2015-04-01", "AssumeRole") && !is_sts("2017-11-10", "AssumeRole"));
    }
}
