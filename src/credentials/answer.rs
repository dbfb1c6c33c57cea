//! What every networked source shares: one exchange with its endpoint (the instance metadata
//! service and a credentials URI through [`transport::exchange`](crate::transport::exchange),
//! the STS through a [`Transport`](crate::transport::Transport)), the errors those exchanges
//! end in, and the decoding of a credentials answer. An answer (it holds secrets) never reaches
//! an error, a log or a `Debug` output: errors name the step, the HTTP status, the server's
//! error code and request id, and the path of a field, never a value.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::Credentials;
use crate::clock::Clock;
use crate::error::{
    CredentialsError, Error, Escaped, TimeoutKind, TransportErrorKind, MAX_ID_CHARS,
};
use crate::lenient::{self, Text};
use crate::transport::{exchange, http_client, ExchangeError};
use crate::wire::RawAnswer;

/// The largest answer read, in bytes (a credentials answer is about 2 KiB).
pub(crate) const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The user agent of every credentials request.
pub(crate) const USER_AGENT: &str = concat!(
    "alibabacloud-ens-rust/",
    env!("CARGO_PKG_VERSION"),
    " credentials"
);

/// The HTTP client of a credentials source (`proxy`: whether the environment's proxy may be
/// used: yes for the STS, on the internet; never for the metadata service, link-local, or a
/// credentials URI, usually local).
pub(crate) fn client(
    connect_timeout: Duration,
    proxy: bool,
) -> Result<reqwest::Client, CredentialsError> {
    http_client(connect_timeout, USER_AGENT, proxy).map_err(|e| {
        CredentialsError::new("cannot create the HTTP client of a credentials source")
            .with_source(e.without_url())
    })
}

/// A plain HTTP endpoint (no signature, no retry) of a credentials source: the instance
/// metadata service, a credentials URI. Its time limits: connecting (inside reqwest, real
/// time), and the whole answer (on the clock, so tests drive it).
#[derive(Clone)]
pub(crate) struct PlainHttp {
    client: reqwest::Client,
    clock: Arc<dyn Clock>,
    read_timeout: Duration,
}

impl PlainHttp {
    /// Never through a proxy.
    pub(crate) fn new(
        connect_timeout: Duration,
        read_timeout: Duration,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, CredentialsError> {
        Ok(PlainHttp {
            client: client(connect_timeout, false)?,
            clock,
            read_timeout,
        })
    }

    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends `request` and reads its answer (at most [`MAX_ANSWER_BYTES`]) within the read
    /// timeout. Errors start with `step` (which names the source, the request and the host).
    pub(crate) async fn send(
        &self,
        request: reqwest::RequestBuilder,
        step: &str,
    ) -> Result<RawAnswer, CredentialsError> {
        exchange(request, &*self.clock, self.read_timeout, MAX_ANSWER_BYTES)
            .await
            .map_err(|e| exchange_error(e, step, self.read_timeout))
    }
}

/// The error a failed plain exchange stands for. Not being able to connect is not worth
/// retrying at once (the service is not there); anything else is.
fn exchange_error(e: ExchangeError, step: &str, read_timeout: Duration) -> CredentialsError {
    match e {
        ExchangeError::Build(e) => {
            CredentialsError::new(format!("{step}: the request cannot be made")).with_source(e)
        }
        ExchangeError::Send(e) | ExchangeError::Read(e) => {
            let what = match (e.is_connect(), e.is_timeout()) {
                (true, true) => "cannot connect in time",
                (true, false) => "cannot connect",
                (false, true) => "no answer in time",
                (false, false) => "the exchange failed",
            };
            let retryable = !e.is_connect();
            CredentialsError::new(format!("{step}: {what}"))
                .with_source(e)
                .retryable(retryable)
        }
        ExchangeError::TooLarge { status, .. } => CredentialsError::new(format!(
            "{step}: the answer (HTTP {status}) is larger than {MAX_ANSWER_BYTES} bytes"
        )),
        ExchangeError::TimedOut => no_answer(step, read_timeout),
    }
}

fn no_answer(step: &str, limit: Duration) -> CredentialsError {
    CredentialsError::new(format!("{step}: no answer within {limit:?}")).retryable(true)
}

/// The error a failed STS call (through the transport) stands for, in the same words as a
/// plain exchange's: the source's own failure, the exchange's, or the STS's error answer (the
/// service error, with its code, bounded and escaped message and request id, is the source;
/// an answer without a JSON error code is named by what it was, never quoted).
pub(crate) fn call_error(e: Error, step: &str) -> CredentialsError {
    match e {
        Error::Credentials(e) => {
            let retryable = e.is_retryable();
            CredentialsError::new(format!("{step}: no source credentials"))
                .with_source(e)
                .retryable(retryable)
        }
        Error::Service(s) => {
            let retryable = s.is_retryable();
            CredentialsError::new(format!("{step} failed"))
                .with_source(*s)
                .retryable(retryable)
        }
        Error::InvalidResponse(r) => {
            // A non-2xx answer's reason starts with its status; a body too large does not.
            let status = if r.reason.starts_with("HTTP ") {
                String::new()
            } else {
                format!(" (HTTP {})", r.http_status)
            };
            CredentialsError::new(format!(
                "{step}: {}{status}{}",
                r.reason,
                request_id_note(r.request_id.as_deref())
            ))
            .retryable(r.http_status >= 500 || r.http_status == 429)
        }
        Error::Timeout(t) if t.kind == TimeoutKind::Connect => {
            CredentialsError::new(format!("{step}: cannot connect in time"))
        }
        Error::Timeout(t) => no_answer(step, t.limit),
        Error::Transport(t) => {
            let connect = t.kind == TransportErrorKind::Connect;
            let what = if connect {
                "cannot connect"
            } else {
                "the exchange failed"
            };
            let mut e = CredentialsError::new(format!("{step}: {what}")).retryable(!connect);
            e.source = t.source.map(Arc::from);
            e
        }
        other => CredentialsError::new(format!("{step} failed")).with_source(other),
    }
}

/// The error a non-2xx answer of a service without JSON errors stands for: its status.
pub(crate) fn status_error(answer: &RawAnswer, step: &str) -> CredentialsError {
    CredentialsError::new(format!("{step}: answered HTTP {}", answer.status))
        .retryable(answer.status >= 500 || answer.status == 429)
}

/// ` (request id X)`, escaped, or nothing.
pub(crate) fn request_id_note(id: Option<&str>) -> String {
    id.map(|id| format!(" (request id {})", Escaped::new(id, MAX_ID_CHARS)))
        .unwrap_or_default()
}

/// Decodes a JSON answer. The reason names the path of a field of the wrong kind, never a value
/// (serde's own messages may quote one, so they are not used).
pub(crate) fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err("the answer is empty".into());
    }
    let text = String::from_utf8_lossy(body);
    crate::wire::from_json(&text).map_err(|e| {
        if !e.inner.is_data() {
            if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') {
                "the answer is HTML, not JSON".to_owned()
            } else {
                "the answer is not valid JSON".to_owned()
            }
        } else if e.path == "." {
            "the answer is not a JSON object".to_owned()
        } else {
            format!("the answer's `{}` is of the wrong kind", e.path)
        }
    })
}

/// The credentials fields of an answer: the STS's `Credentials` object, or the whole answer of
/// the metadata service and of a credentials URI. No `Debug`: it holds secrets.
#[derive(Default, Deserialize)]
#[serde(remote = "Self", default)]
pub(crate) struct AnswerCredentials {
    #[serde(rename = "AccessKeyId")]
    access_key_id: Text,
    #[serde(rename = "AccessKeySecret")]
    access_key_secret: Text,
    #[serde(rename = "SecurityToken")]
    security_token: Text,
    #[serde(rename = "Expiration")]
    expiration: Text,
}

object_only!(@de AnswerCredentials, "credentials");

impl AnswerCredentials {
    /// STS credentials named `provider`; `prefix` is the path of these fields in the answer
    /// (`Credentials.` or empty), for the reason a field is missing.
    pub(crate) fn into_credentials(
        self,
        prefix: &str,
        provider: impl Into<Cow<'static, str>>,
    ) -> Result<Credentials, String> {
        let need = |v: Text, name: &str| {
            v.0.filter(|v| !v.trim().is_empty())
                .ok_or_else(|| format!("the answer has no `{prefix}{name}`"))
        };
        let id = need(self.access_key_id, "AccessKeyId")?;
        let secret = need(self.access_key_secret, "AccessKeySecret")?;
        let token = need(self.security_token, "SecurityToken")?;
        let expiration = need(self.expiration, "Expiration")?;
        let expiry = lenient::parse_time(&expiration)
            .map(SystemTime::from)
            .ok_or_else(|| format!("the answer's `{prefix}Expiration` is not a time"))?;
        Ok(
            Credentials::with_security_token(id.trim(), secret.trim(), token.trim())
                .expiring_at(expiry)
                .with_provider_name(provider),
        )
    }
}

/// The answer's `Code`.
#[derive(Default, Deserialize)]
#[serde(remote = "Self", default)]
struct Code {
    #[serde(rename = "Code")]
    code: Text,
}

object_only!(@de Code, "an answer");

/// The credentials in a flat answer (`Code`, `AccessKeyId`, …: the metadata service's and a
/// credentials URI's), named `provider`. `Code` must be `Success`.
pub(crate) fn flat_credentials(
    body: &[u8],
    step: &str,
    provider: &'static str,
) -> Result<Credentials, CredentialsError> {
    let invalid = |reason: String| CredentialsError::new(format!("{step}: {reason}"));
    let code: Code = decode(body).map_err(invalid)?;
    if code.code.0.as_deref().map(str::trim) != Some("Success") {
        return Err(invalid(match code.code.0 {
            Some(c) => format!(
                "the answer's `Code` is `{}`, not `Success`",
                Escaped::new(&c, 64)
            ),
            None => "the answer has no `Code`".to_owned(),
        }));
    }
    let fields: AnswerCredentials = decode(body).map_err(invalid)?;
    fields.into_credentials("", provider).map_err(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "Credentials", default)]
        credentials: Option<AnswerCredentials>,
    }

    #[tokio::test]
    async fn a_plain_answer_too_large_is_refused_without_its_text() {
        use crate::credentials::test_server::{Answer, Seen, TestServer};
        let server = TestServer::start(|_: &Seen| {
            Answer::Reply(200, format!("SeCrEt{}", "x".repeat(MAX_ANSWER_BYTES)))
        })
        .await;
        let http = PlainHttp::new(
            Duration::from_secs(1),
            Duration::from_secs(1),
            Arc::new(crate::clock::ManualClock::new()),
        )
        .unwrap();
        let e = http
            .send(http.client().get(&server.url), "test: GET /")
            .await
            .err()
            .unwrap();
        assert_eq!(
            e.message,
            "test: GET /: the answer (HTTP 200) is larger than 65536 bytes"
        );
        assert!(!format!("{e:?}").contains("SeCrEt"));
    }

    #[test]
    fn decode_reasons_name_paths_never_values() {
        let reason = |body: &str| match decode::<Probe>(body.as_bytes()) {
            Err(reason) => reason,
            Ok(_) => panic!("decoded {body}"),
        };
        assert_eq!(reason(""), "the answer is empty");
        assert_eq!(
            reason("<html>SECRET</html>"),
            "the answer is HTML, not JSON"
        );
        assert_eq!(
            reason(r#"{"Credentials": "SECRET"#),
            "the answer is not valid JSON"
        );
        assert_eq!(
            reason(r#"{"Credentials": {}} SECRET"#),
            "the answer is not valid JSON"
        );
        assert_eq!(reason(r#""SECRET""#), "the answer is not a JSON object");
        assert_eq!(
            reason(r#"{"Credentials": "SECRET"}"#),
            "the answer's `Credentials` is of the wrong kind"
        );
        assert_eq!(
            reason(r#"{"Credentials": {"AccessKeySecret": ["SECRET"]}}"#),
            "the answer's `Credentials.AccessKeySecret` is of the wrong kind"
        );
    }

    #[test]
    fn credentials_need_every_field_and_a_time() {
        let creds = |body: &str| {
            decode::<Probe>(body.as_bytes())
                .unwrap()
                .credentials
                .unwrap_or_default()
                .into_credentials("Credentials.", "test")
        };
        let c = creds(
            r#"{"Credentials": {"AccessKeyId": "STS.id", "AccessKeySecret": "s",
                "SecurityToken": "t", "Expiration": "2030-01-02T03:04:05Z"}}"#,
        )
        .unwrap();
        assert_eq!(c.access_key_id(), "STS.id");
        assert_eq!(c.security_token(), Some("t"));
        assert_eq!(c.provider_name(), Some("test"));
        assert_eq!(
            c.expiry(),
            Some(SystemTime::from(
                time::macros::datetime!(2030-01-02 03:04:05 UTC)
            ))
        );
        assert_eq!(
            creds(r#"{"Credentials": {"AccessKeyId": "STS.id", "AccessKeySecret": " "}}"#)
                .unwrap_err(),
            "the answer has no `Credentials.AccessKeySecret`"
        );
        assert_eq!(
            creds(r#"{}"#).unwrap_err(),
            "the answer has no `Credentials.AccessKeyId`"
        );
        assert_eq!(
            creds(
                r#"{"Credentials": {"AccessKeyId": "i", "AccessKeySecret": "s",
                    "SecurityToken": "t", "Expiration": "SECRET"}}"#
            )
            .unwrap_err(),
            "the answer's `Credentials.Expiration` is not a time"
        );
    }
}
