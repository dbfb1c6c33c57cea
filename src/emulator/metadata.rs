//! The emulator's instance metadata service: the RAM role's credentials of an ECS/ENS
//! instance, served on the same listener as ENS under `/latest/`.
//!
//! | request | answer | action (request log, faults) |
//! |---|---|---|
//! | `PUT /latest/api/token` with `X-aliyun-ecs-metadata-token-ttl-seconds: 1…21600` | a session token (text) | `MetadataToken` |
//! | `GET /latest/meta-data/ram/security-credentials/` | the role name (text) | `MetadataRoleName` |
//! | `GET /latest/meta-data/ram/security-credentials/<role>` | `{"Code":"Success","AccessKeyId",…,"Expiration","LastUpdated"}` | `MetadataCredentials` |
//!
//! A `GET` may carry a session token in `X-aliyun-ecs-metadata-token`: an unknown or expired
//! one answers 401. Without one, a `GET` is answered (IMDSv1) unless
//! [`metadata_token_required`](super::EmulatorBuilder::metadata_token_required), which makes
//! it 401 too. A TTL header missing or out of range answers 400; another method 405; another
//! path, or a role other than the instance's (or any role, when no
//! [`instance_ram_role`](super::EmulatorBuilder::instance_ram_role) was set) 404. Error
//! answers are plain text, as the real service's.
//!
//! The role's credentials rotate: the same ones are served until less than half their
//! lifetime is left, then new ones are issued (as the real service renews them well before
//! they expire). They live for the configured
//! [`sts_credential_lifetime`](super::EmulatorBuilder::sts_credential_lifetime), else 6 hours,
//! and ENS accepts them like STS's.
//!
//! Injected faults apply to the actions above (`Fault::ServiceError` answers its status with
//! its message as text; `TruncatedJson` cuts the credentials answer).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hyper::body::Bytes;
use hyper::http::request::Parts;
use hyper::{Method, Response};
use serde_json::Value;

use super::faults::Fault;
use super::server::{new_request_id, response, Body};
use super::sts::{timestamp, Issued};
use super::{lock, RequestRecord, Shared};

/// Where a session token is asked for.
const TOKEN_PATH: &str = "/latest/api/token";
/// The role name; followed by it, the role's credentials.
const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";
const TTL_HEADER: &str = "x-aliyun-ecs-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-aliyun-ecs-metadata-token";
/// The longest session token lifetime, in seconds.
const MAX_TTL: u64 = 21_600;
/// At most this many session tokens are remembered (the oldest are forgotten first).
const MAX_TOKENS: usize = 10_000;
/// The role's credentials' lifetime unless configured.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(6 * 3600);

/// Session tokens and the role's current credentials.
#[derive(Default)]
pub(crate) struct MetadataState {
    /// Token → expiry, on the credentials clock.
    tokens: HashMap<String, SystemTime>,
    pub(crate) current: Option<Current>,
}

/// The credentials being served, and when they were issued.
pub(crate) struct Current {
    issued: Issued,
    at: SystemTime,
}

/// `true` for a path the metadata service serves (or answers 404 for).
pub(crate) fn is_metadata_path(path: &str) -> bool {
    path.starts_with("/latest/")
}

/// What one request asks for.
enum Ask {
    Token,
    RoleName,
    Credentials(String),
}

impl Ask {
    fn action(&self) -> &'static str {
        match self {
            Ask::Token => "MetadataToken",
            Ask::RoleName => "MetadataRoleName",
            Ask::Credentials(_) => "MetadataCredentials",
        }
    }
}

fn text(status: u16, body: impl Into<Bytes>) -> Response<Body> {
    response(status, Some("text/plain"), body)
}

/// Answers one metadata request, records it, and returns the response (`None`: close the
/// connection without answering).
pub(crate) async fn serve(
    shared: &Arc<Shared>,
    parts: &Parts,
    received_at: Instant,
) -> Option<Response<Body>> {
    let path = parts.uri.path();
    let ask = match path {
        TOKEN_PATH => Some(Ask::Token),
        CREDENTIALS_PATH => Some(Ask::RoleName),
        p => p
            .strip_prefix(CREDENTIALS_PATH)
            .filter(|role| !role.is_empty() && !role.contains('/'))
            .map(|role| Ask::Credentials(role.to_owned())),
    };
    let token_sent = parts.headers.contains_key(TOKEN_HEADER);
    let fault = ask
        .as_ref()
        .and_then(|ask| lock(&shared.faults).take(ask.action()));
    let (response, code) = match &ask {
        None => (Some(text(404, "Not Found")), "NotFound".to_owned()),
        Some(ask) => {
            let answer = |shared: &Shared| answer(shared, parts, ask);
            match fault.clone() {
                None => {
                    let (resp, code) = answer(shared);
                    (Some(resp), code)
                }
                Some(Fault::Slow { delay }) => {
                    tokio::time::sleep(delay).await;
                    let (resp, code) = answer(shared);
                    (Some(resp), code)
                }
                Some(Fault::ServiceError {
                    status,
                    code,
                    message,
                }) => (Some(text(status, message)), code),
                Some(Fault::Html { status }) => (
                    Some(response(
                        status,
                        Some("text/html"),
                        format!("<html><body>{status}</body></html>"),
                    )),
                    String::new(),
                ),
                Some(Fault::Empty { status }) => {
                    (Some(response(status, None, Bytes::new())), String::new())
                }
                Some(Fault::Raw {
                    status,
                    content_type,
                    body,
                }) => (
                    Some(response(status, Some(&content_type), body)),
                    String::new(),
                ),
                Some(Fault::DropBeforeApply) => (None, String::new()),
                Some(Fault::DropAfterApply) => (None, answer(shared).1),
                Some(Fault::TruncatedJson) => {
                    let (resp, code) = answer(shared);
                    let status = resp.status().as_u16();
                    let body = http_body_util::BodyExt::collect(resp.into_body())
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    (
                        Some(response(
                            status,
                            Some("application/json"),
                            body.slice(..body.len() / 2),
                        )),
                        code,
                    )
                }
            }
        }
    };
    let record = RequestRecord {
        request_id: new_request_id(),
        received_at,
        http_method: parts.method.as_str().to_owned(),
        action: Some(ask.as_ref().map_or("Metadata", Ask::action).to_owned()),
        signature_version: None,
        access_key_id: None,
        nonce: None,
        params: vec![(
            "token".to_owned(),
            if token_sent { "sent" } else { "absent" }.to_owned(),
        )],
        param_count: 0,
        authenticated: false,
        http_status: response.as_ref().map(|r| r.status().as_u16()),
        code,
        fault,
    };
    if shared.log_requests() {
        eprintln!("{}", record.log_line());
    }
    shared.push_record(record);
    response
}

/// The answer and the code to record.
fn answer(shared: &Shared, parts: &Parts, ask: &Ask) -> (Response<Body>, String) {
    let sts = &shared.sts;
    let now = sts.now();
    let mut state = lock(&sts.metadata);
    state.tokens.retain(|_, at| *at > now);
    if let Ask::Token = ask {
        if parts.method != Method::PUT {
            return (text(405, "Method Not Allowed"), "MethodNotAllowed".into());
        }
        let ttl = parts
            .headers
            .get(TTL_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|t| (1..=MAX_TTL).contains(t));
        let Some(ttl) = ttl else {
            return (
                text(400, format!("{TTL_HEADER} must be 1 to {MAX_TTL}")),
                "InvalidTokenTtl".into(),
            );
        };
        if state.tokens.len() >= MAX_TOKENS {
            // Forget the one closest to expiring.
            if let Some(oldest) = state
                .tokens
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(t, _)| t.clone())
            {
                state.tokens.remove(&oldest);
            }
        }
        let token = crate::signer::new_nonce().unwrap_or_else(|_| new_request_id());
        state
            .tokens
            .insert(token.clone(), now + Duration::from_secs(ttl));
        return (text(200, token), "Success".into());
    }
    if parts.method != Method::GET {
        return (text(405, "Method Not Allowed"), "MethodNotAllowed".into());
    }
    match parts.headers.get(TOKEN_HEADER).map(|v| v.to_str()) {
        Some(Ok(t)) if state.tokens.contains_key(t.trim()) => {}
        Some(_) => return (text(401, "Unauthorized"), "InvalidToken".into()),
        None if sts.settings.metadata_token_required => {
            return (text(401, "Unauthorized"), "TokenRequired".into())
        }
        None => {}
    }
    let Some(role) = &sts.settings.instance_role else {
        return (text(404, "Not Found"), "NoRole".into());
    };
    match ask {
        Ask::RoleName => (text(200, role.clone()), "Success".into()),
        Ask::Credentials(asked) if asked == role => {
            let lifetime = sts.settings.lifetime.unwrap_or(DEFAULT_LIFETIME);
            let fresh = state.current.as_ref().is_some_and(|c| {
                c.issued
                    .expires_at
                    .duration_since(now)
                    .is_ok_and(|left| left > lifetime / 2)
            });
            if !fresh {
                drop(state);
                let issued = sts.issue(shared, lifetime);
                state = lock(&sts.metadata);
                state.current = Some(Current { issued, at: now });
            }
            let Some(current) = &state.current else {
                return (text(500, "Internal Error"), "InternalError".into());
            };
            let mut body = current.issued.fields();
            body.insert("Code".into(), Value::from("Success"));
            body.insert("LastUpdated".into(), Value::from(timestamp(current.at)));
            (
                response(200, Some("text/plain"), Value::Object(body).to_string()),
                "Success".into(),
            )
        }
        _ => (text(404, "Not Found"), "NoSuchRole".into()),
    }
}
