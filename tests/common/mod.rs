//! Test helpers: a scripted HTTP/1.1 server on 127.0.0.1 that records every request, and an
//! independent reference implementation of both signatures (written apart from `src/signer`).
#![allow(dead_code)]

pub mod answer;
pub mod capture;
pub mod reference;
pub mod replicas;

#[allow(unused_imports)]
pub use reference::reference_v1;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const SECRET: &str = "test-secret-DO-NOT-LEAK";
pub const TOKEN: &str = "sts-token-DO-NOT-LEAK";
pub const AK: &str = "test-access-key-id";

/// One request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub raw_query: String,
    /// Decoded query parameters, in wire order.
    pub query: Vec<(String, String)>,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn param(&self, k: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(kk, _)| kk == k)
            .map(|(_, v)| v.as_str())
    }
    pub fn header(&self, k: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(kk, _)| kk == k)
            .map(|(_, v)| v.as_str())
    }
    pub fn keys(&self) -> Vec<&str> {
        let mut k: Vec<&str> = self.query.iter().map(|(k, _)| k.as_str()).collect();
        k.sort();
        k
    }
}

/// What the server answers to the next request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Status and JSON body.
    Json(u16, String),
    /// Status, content type and body.
    Raw(u16, &'static str, Vec<u8>),
    /// Status, content type, more headers and body.
    RawWithHeaders(u16, &'static str, Vec<(String, String)>, Vec<u8>),
    /// Close the connection without answering.
    Close,
    /// Wait, then answer.
    Delay(Duration, Box<Reply>),
    /// `302 Found` with this `location`.
    Redirect(String),
}

pub fn ok_request_id(id: &str) -> Reply {
    Reply::Json(200, format!(r#"{{"RequestId":"{id}"}}"#))
}

/// A DescribeHaVips answer for `havip-1` listing `assocs` (instance id, status).
pub fn describe_reply(status: &str, assocs: &[(&str, &str)]) -> Reply {
    let list: Vec<String> = assocs
        .iter()
        .map(|(id, s)| {
            format!(r#"{{"InstanceId":"{id}","InstanceType":"EnsInstance","Status":"{s}"}}"#)
        })
        .collect();
    Reply::Json(
        200,
        format!(
            r#"{{"RequestId":"DESCRIBE-REQ","TotalCount":1,"PageNumber":1,"PageSize":10,"HaVips":[{{"HaVipId":"havip-1","Status":"{status}","AssociatedInstances":[{}]}}]}}"#,
            list.join(",")
        ),
    )
}

pub fn error_reply(status: u16, code: &str) -> Reply {
    Reply::Json(
        status,
        format!(
            r#"{{"RequestId":"REQ-{code}","HostId":"ens.aliyuncs.com","Code":"{code}","Message":"msg for {code}","Recommend":"https://api.aliyun.com/troubleshoot?q={code}"}}"#
        ),
    )
}

#[derive(Clone)]
pub struct TestServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
    fallback: Arc<Mutex<Reply>>,
    connections: Arc<Mutex<u32>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = TestServer {
            addr: listener.local_addr().unwrap(),
            requests: Arc::default(),
            script: Arc::default(),
            fallback: Arc::new(Mutex::new(ok_request_id("DEFAULT-REQ"))),
            connections: Arc::default(),
        };
        let s = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                *s.connections.lock().unwrap() += 1;
                let s = s.clone();
                tokio::spawn(async move { s.serve(stream).await });
            }
        });
        server
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn push(&self, r: Reply) {
        self.script.lock().unwrap().push_back(r);
    }

    pub fn set_fallback(&self, r: Reply) {
        *self.fallback.lock().unwrap() = r;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub fn connections(&self) -> u32 {
        *self.connections.lock().unwrap()
    }

    async fn serve(&self, mut stream: TcpStream) {
        let mut buf: Vec<u8> = Vec::new();
        loop {
            let Some(req) = read_request(&mut stream, &mut buf).await else {
                return;
            };
            self.requests.lock().unwrap().push(req);
            let reply = {
                let next = self.script.lock().unwrap().pop_front();
                next.unwrap_or_else(|| self.fallback.lock().unwrap().clone())
            };
            if !write_reply(&mut stream, reply).await {
                return;
            }
        }
    }
}

async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Recorded> {
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let body_start = head_end + 4;
    while buf.len() < body_start + len {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[body_start..body_start + len].to_vec();
    buf.drain(..body_start + len);
    let (path, raw_query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (target.clone(), String::new()),
    };
    let query = raw_query
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (pct_decode(k), pct_decode(v))
        })
        .collect();
    Some(Recorded {
        method,
        path,
        raw_query,
        query,
        headers,
        body,
    })
}

/// Form-style decoding, like a gateway: `%XX` and `+` as space.
pub fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let h = u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap();
                out.push(h);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

async fn write_reply(stream: &mut TcpStream, reply: Reply) -> bool {
    match reply {
        Reply::Close => {
            let _ = stream.shutdown().await;
            false
        }
        Reply::Delay(d, inner) => {
            tokio::time::sleep(d).await;
            Box::pin(write_reply(stream, *inner)).await
        }
        Reply::Redirect(location) => {
            let head =
                format!("HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n");
            stream.write_all(head.as_bytes()).await.is_ok()
        }
        Reply::Json(status, body) => {
            write_raw(stream, status, "application/json", &[], body.as_bytes()).await
        }
        Reply::Raw(status, ct, body) => write_raw(stream, status, ct, &[], &body).await,
        Reply::RawWithHeaders(status, ct, headers, body) => {
            write_raw(stream, status, ct, &headers, &body).await
        }
    }
}

async fn write_raw(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> bool {
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\n{extra}content-length: {}\r\n\r\n",
        body.len()
    );
    // One write: a body sent as a second small segment waits for the client's delayed ACK
    // (Nagle), some 40 ms during which a test's manual clock may move past the read timeout.
    let mut message = head.into_bytes();
    message.extend_from_slice(body);
    stream.write_all(&message).await.is_ok()
}

/// V3 signature recomputed from the recorded request, using the headers its
/// `Authorization` names. Returns (expected signature, signature sent, signed headers).
pub fn reference_v3(req: &Recorded, secret: &str) -> (String, String, String) {
    reference::reference_v3_parts(
        &req.method,
        &req.query,
        &|h| req.header(h).map(str::to_owned),
        &req.body,
        secret,
    )
}

/// `n` concurrent DescribeHaVips calls, all of which must succeed.
pub async fn burst(client: &alibabacloud_ens::Client, n: usize) {
    let calls: Vec<_> = (0..n)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.describe_ha_vips().send().await })
        })
        .collect();
    for c in calls {
        c.await.unwrap().unwrap();
    }
}

pub fn client_for(server: &TestServer) -> alibabacloud_ens::ClientBuilder {
    alibabacloud_ens::Client::builder()
        .endpoint(server.endpoint())
        .credentials(alibabacloud_ens::Credentials::new(AK, SECRET))
}
