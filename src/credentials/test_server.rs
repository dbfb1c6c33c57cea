//! A scripted HTTP/1.1 server on 127.0.0.1 for the providers' unit tests: it records every
//! request and answers each with what a closure returns. One request per connection.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as received.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) method: String,
    /// The path, without the query.
    pub(crate) path: String,
    /// The query, decoded.
    pub(crate) query: Vec<(String, String)>,
    /// Header names lower-cased.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Seen {
    /// The query parameters a V1 signature covers: all but `Signature`.
    pub(crate) fn signed_params(&self) -> Vec<(&str, &str)> {
        self.query
            .iter()
            .filter(|(k, _)| k != "Signature")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    pub(crate) fn param(&self, k: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(kk, _)| kk == k)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn header(&self, k: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(kk, _)| kk == k)
            .map(|(_, v)| v.as_str())
    }

    /// The form body, decoded.
    pub(crate) fn form(&self) -> Vec<(String, String)> {
        serde_urlencoded::from_bytes(&self.body).unwrap()
    }
}

/// What to answer.
pub(crate) enum Answer {
    /// Status and body.
    Reply(u16, String),
    /// Wait (real time), then answer.
    Hang(Duration),
}

type Script = dyn Fn(&Seen) -> Answer + Send + Sync;

#[derive(Clone)]
pub(crate) struct TestServer {
    pub(crate) url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl TestServer {
    pub(crate) async fn start(script: impl Fn(&Seen) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let script: Arc<Script> = Arc::new(script);
        let s = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (seen, script) = (Arc::clone(&s), Arc::clone(&script));
                tokio::spawn(async move { serve(stream, seen, script).await });
            }
        });
        TestServer { url, seen }
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve(mut stream: TcpStream, seen: Arc<Mutex<Vec<Seen>>>, script: Arc<Script>) {
    let mut buf = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let n = match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_owned();
    let target = first.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let request = Seen {
        method,
        path: path.to_owned(),
        query: serde_urlencoded::from_str(query).unwrap_or_default(),
        headers,
        body,
    };
    seen.lock().unwrap().push(request.clone());
    let (status, body) = match script(&request) {
        Answer::Reply(status, body) => (status, body),
        Answer::Hang(d) => {
            tokio::time::sleep(d).await;
            (200, String::new())
        }
    };
    let response = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         x-acs-request-id: REQ-{status}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// `now + d`, as STS writes it (whole seconds, UTC).
pub(crate) fn expiration_in(d: Duration) -> String {
    crate::signer::format_timestamp(time::OffsetDateTime::now_utc() + d)
}

/// The secret and token a test STS or metadata server hands out with AccessKey `id`.
pub(crate) fn secret_of(id: &str) -> String {
    format!("{id}-SeCrEt")
}

pub(crate) fn token_of(id: &str) -> String {
    format!("{id}-ToKeN")
}

/// An STS answer with credentials `id`, expiring in an hour.
pub(crate) fn sts_reply(id: &str) -> Answer {
    Answer::Reply(
        200,
        format!(
            r#"{{"RequestId":"REQ-{id}","AssumedRoleUser":{{"Arn":"x","AssumedRoleId":"y"}},
                "Credentials":{{"AccessKeyId":"{id}","AccessKeySecret":"{}",
                "SecurityToken":"{}","Expiration":"{}"}}}}"#,
            secret_of(id),
            token_of(id),
            expiration_in(Duration::from_secs(3600))
        ),
    )
}

/// A flat credentials answer (metadata service, credentials URI) with credentials `id`.
pub(crate) fn flat_reply(id: &str, expires_in: Duration) -> Answer {
    Answer::Reply(
        200,
        format!(
            r#"{{"Code":"Success","AccessKeyId":"{id}","AccessKeySecret":"{}",
                "SecurityToken":"{}","Expiration":"{}","LastUpdated":"2020-01-01T00:00:00Z"}}"#,
            secret_of(id),
            token_of(id),
            expiration_in(expires_in)
        ),
    )
}

/// The metadata service's token.
pub(crate) const METADATA_TOKEN: &str = "MeTaDaTa-ToKeN";

/// A metadata service that requires the token flow, with role `role` holding credentials `id`.
pub(crate) fn metadata(role: &'static str, id: &'static str) -> impl Fn(&Seen) -> Answer {
    use crate::credentials::{
        METADATA_CREDENTIALS_PATH, METADATA_TOKEN_HEADER, METADATA_TOKEN_PATH,
        METADATA_TOKEN_TTL_HEADER,
    };
    move |r| {
        let header = |name: &str| r.header(&name.to_ascii_lowercase()).map(str::to_owned);
        if r.method == "PUT" && r.path == METADATA_TOKEN_PATH {
            return match header(METADATA_TOKEN_TTL_HEADER).as_deref() {
                Some("21600") => Answer::Reply(200, METADATA_TOKEN.to_owned()),
                _ => Answer::Reply(400, String::new()),
            };
        }
        if r.method != "GET" || header(METADATA_TOKEN_HEADER).as_deref() != Some(METADATA_TOKEN) {
            return Answer::Reply(401, String::new());
        }
        match r.path.strip_prefix(METADATA_CREDENTIALS_PATH) {
            Some("") => Answer::Reply(200, format!("{role}\n")),
            Some(name) if name == role => flat_reply(id, Duration::from_secs(6 * 3600)),
            _ => Answer::Reply(404, String::new()),
        }
    }
}
