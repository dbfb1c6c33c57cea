//! Tests: a real server on 127.0.0.1:0, a bare reqwest client, the crate's own signer.

use std::time::Duration;

use serde_json::Value;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::signer::{self, percent_encode, v1, v3};
use crate::{AssociationStatus, InstanceType};

const VERSION: &str = "2017-11-10";

// ---------------------------------------------------------------- helpers

struct Resp {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    fn code(&self) -> String {
        self.json()["Code"].as_str().unwrap_or("").to_owned()
    }

    #[track_caller]
    fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.code().as_str()),
            (status, code),
            "body: {}",
            self.text
        );
        let body = self.json();
        assert_eq!(body["HostId"], "ens.aliyuncs.com");
        assert_eq!(
            body["Recommend"],
            format!("https://api.aliyun.com/troubleshoot?q={code}&product=Ens")
        );
        assert!(body["Message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_request_id(body["RequestId"].as_str().unwrap_or(""));
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
        assert_eq!(
            self.headers
                .get("x-acs-request-id")
                .and_then(|v| v.to_str().ok()),
            body["RequestId"].as_str()
        );
    }

    #[track_caller]
    fn assert_ok(&self) -> Value {
        assert_eq!(self.status, 200, "body: {}", self.text);
        let body = self.json();
        assert_request_id(body["RequestId"].as_str().unwrap_or(""));
        body
    }
}

#[track_caller]
fn assert_request_id(id: &str) {
    let parts: Vec<&str> = id.split('-').collect();
    assert_eq!(
        parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12],
        "{id}"
    );
    assert!(
        id.chars()
            .all(|c| c == '-' || c.is_ascii_digit() || ('A'..='F').contains(&c)),
        "{id}"
    );
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

async fn send(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
    timeout: Option<Duration>,
) -> Result<Resp, reqwest::Error> {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = client().request(method, url).body(body);
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    if let Some(t) = timeout {
        req = req.timeout(t);
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await?;
    Ok(Resp {
        status,
        headers,
        text,
    })
}

fn nonce() -> String {
    signer::new_nonce().expect("nonce")
}

fn pairs(params: &[(&str, &str)]) -> Vec<(String, String)> {
    params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn encode_pairs(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A V1 request, every part adjustable.
#[derive(Clone)]
struct V1Req {
    method: &'static str,
    action: String,
    params: Vec<(String, String)>,
    key_id: String,
    secret: String,
    token: Option<String>,
    timestamp: String,
    nonce: String,
    /// Send every parameter in a form body instead of the query (POST).
    in_body: bool,
    /// Common parameters to leave out.
    omit: Vec<&'static str>,
    /// Extra (unsigned) parameters appended to the query.
    unsigned_extra: String,
}

impl V1Req {
    fn new(emu: &Emulator, method: &'static str, action: &str, params: &[(&str, &str)]) -> Self {
        V1Req {
            method,
            action: action.to_owned(),
            params: pairs(params),
            key_id: emu.access_key_id().to_owned(),
            secret: DEFAULT_ACCESS_KEY_SECRET.to_owned(),
            token: None,
            timestamp: signer::format_timestamp(OffsetDateTime::now_utc()),
            nonce: nonce(),
            in_body: false,
            omit: Vec::new(),
            unsigned_extra: String::new(),
        }
    }

    fn key(mut self, id: &str, secret: &str) -> Self {
        self.key_id = id.to_owned();
        self.secret = secret.to_owned();
        self
    }

    fn all_params(&self) -> Vec<(String, String)> {
        let mut all = self.params.clone();
        let common = [
            ("AccessKeyId", self.key_id.as_str()),
            ("Action", self.action.as_str()),
            ("Format", "JSON"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", self.nonce.as_str()),
            ("SignatureVersion", "1.0"),
            ("Timestamp", self.timestamp.as_str()),
            ("Version", VERSION),
        ];
        for (k, v) in common {
            if !self.omit.contains(&k) {
                all.push((k.to_owned(), v.to_owned()));
            }
        }
        if let Some(t) = &self.token {
            all.push(("SecurityToken".to_owned(), t.clone()));
        }
        all
    }

    fn signature(&self) -> String {
        let all = self.all_params();
        let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        v1::signature(&self.secret, &v1::string_to_sign(self.method, &refs))
    }

    /// The encoded parameters, `Signature` last (unless omitted).
    fn encoded(&self) -> String {
        let mut q = encode_pairs(&self.all_params());
        if !self.omit.contains(&"Signature") {
            q.push_str("&Signature=");
            q.push_str(&percent_encode(&self.signature()));
        }
        q
    }

    async fn try_send(&self, emu: &Emulator, timeout: Option<Duration>) -> reqwest::Result<Resp> {
        let encoded = self.encoded();
        if self.in_body {
            let url = format!("{}/{}", emu.endpoint(), self.unsigned_extra);
            let headers = [(
                "content-type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            )];
            send(self.method, &url, &headers, encoded.into_bytes(), timeout).await
        } else {
            let url = format!("{}/?{}{}", emu.endpoint(), encoded, self.unsigned_extra);
            send(self.method, &url, &[], Vec::new(), timeout).await
        }
    }

    async fn send(&self, emu: &Emulator) -> Resp {
        self.try_send(emu, None).await.expect("request")
    }
}

async fn v1_call(
    emu: &Emulator,
    method: &'static str,
    action: &str,
    params: &[(&str, &str)],
) -> Resp {
    V1Req::new(emu, method, action, params).send(emu).await
}

async fn associate(emu: &Emulator, havip: &str, instance: &str) -> Resp {
    v1_call(
        emu,
        "POST",
        "AssociateHaVip",
        &[("HaVipId", havip), ("InstanceId", instance)],
    )
    .await
}

async fn unassociate(emu: &Emulator, havip: &str, instance: &str) -> Resp {
    v1_call(
        emu,
        "POST",
        "UnassociateHaVip",
        &[("HaVipId", havip), ("InstanceId", instance)],
    )
    .await
}

async fn describe(emu: &Emulator, params: &[(&str, &str)]) -> Resp {
    v1_call(emu, "GET", "DescribeHaVips", params).await
}

fn ids(body: &Value) -> Vec<String> {
    body["HaVips"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| h["HaVipId"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A V3 request, every part adjustable.
#[derive(Clone)]
struct V3Req {
    method: &'static str,
    action: String,
    params: Vec<(String, String)>,
    key_id: String,
    secret: String,
    token: Option<String>,
    date: OffsetDateTime,
    nonce: String,
    extra: Vec<(String, String)>,
    body: Vec<u8>,
    content_type: Option<String>,
}

impl V3Req {
    fn new(emu: &Emulator, method: &'static str, action: &str, params: &[(&str, &str)]) -> Self {
        V3Req {
            method,
            action: action.to_owned(),
            params: pairs(params),
            key_id: emu.access_key_id().to_owned(),
            secret: DEFAULT_ACCESS_KEY_SECRET.to_owned(),
            token: None,
            date: OffsetDateTime::now_utc(),
            nonce: nonce(),
            extra: Vec::new(),
            body: Vec::new(),
            content_type: None,
        }
    }

    /// URL and headers, signed stage by stage with the crate's V3 functions.
    fn prepare(&self, emu: &Emulator) -> (String, Vec<(String, String)>) {
        let mut to_sign: Vec<(String, String)> = vec![
            ("host".to_owned(), emu.local_addr().to_string()),
            ("x-acs-action".to_owned(), self.action.clone()),
            (
                "x-acs-content-sha256".to_owned(),
                v3::payload_hash(&self.body),
            ),
            ("x-acs-date".to_owned(), signer::format_timestamp(self.date)),
            ("x-acs-signature-nonce".to_owned(), self.nonce.clone()),
            ("x-acs-version".to_owned(), VERSION.to_owned()),
        ];
        if let Some(t) = &self.token {
            to_sign.push(("x-acs-security-token".to_owned(), t.clone()));
        }
        to_sign.extend(self.extra.iter().cloned());
        let params: Vec<(&str, &str)> = self
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let query = v3::canonical_query(&params);
        let header_refs: Vec<(&str, &str)> = to_sign
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (canonical_headers, signed_headers) = v3::canonical_headers(&header_refs);
        let canonical_request = v3::canonical_request(
            self.method,
            &query,
            &canonical_headers,
            &signed_headers,
            &v3::payload_hash(&self.body),
        );
        let signature = v3::signature(&self.secret, &v3::string_to_sign(&canonical_request));
        let url = if query.is_empty() {
            format!("{}/", emu.endpoint())
        } else {
            format!("{}/?{}", emu.endpoint(), query)
        };
        // reqwest sends `host` itself, with the same value.
        let mut headers: Vec<(String, String)> =
            to_sign.into_iter().filter(|(k, _)| k != "host").collect();
        headers.push((
            "authorization".to_owned(),
            v3::authorization(&self.key_id, &signed_headers, &signature),
        ));
        if let Some(ct) = &self.content_type {
            headers.push(("content-type".to_owned(), ct.clone()));
        }
        (url, headers)
    }

    async fn send(&self, emu: &Emulator) -> Resp {
        let (url, headers) = self.prepare(emu);
        send(self.method, &url, &headers, self.body.clone(), None)
            .await
            .expect("request")
    }
}

fn set_header(headers: &mut Vec<(String, String)>, name: &str, value: Option<&str>) {
    headers.retain(|(k, _)| k != name);
    if let Some(v) = value {
        headers.push((name.to_owned(), v.to_owned()));
    }
}

/// Sends raw bytes and reads until the server closes.
async fn raw_http(emu: &Emulator, request: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .expect("connect");
    stream.write_all(request).await.expect("write");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

async fn wait_until(mut cond: impl FnMut() -> bool) {
    for _ in 0..500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not met within 5 s");
}

// ---------------------------------------------------------------- authentication

#[tokio::test]
async fn v1_get_describe_succeeds_with_request_id_header() {
    let emu = Emulator::start_demo().await.unwrap();
    assert_eq!(emu.endpoint(), format!("http://{}", emu.local_addr()));
    assert!(emu.endpoint().starts_with("http://127.0.0.1:"));
    assert_eq!(emu.credentials().access_key_id(), DEFAULT_ACCESS_KEY_ID);
    assert_eq!(
        emu.credentials().access_key_secret(),
        DEFAULT_ACCESS_KEY_SECRET
    );

    let r = describe(&emu, &[]).await;
    let body = r.assert_ok();
    assert_eq!(
        r.headers
            .get("x-acs-request-id")
            .and_then(|v| v.to_str().ok()),
        body["RequestId"].as_str()
    );
    assert_eq!(
        r.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    assert_eq!(body["TotalCount"], 2);
    assert_eq!(body["PageNumber"], 1);
    assert_eq!(body["PageSize"], 10);
    assert_eq!(ids(&body), ["havip-creating", "havip-demo"]);
    let h = &body["HaVips"][1];
    assert_eq!(h["Status"], "Available");
    assert_eq!(h["VSwitchId"], "vsw-demo");
    assert_eq!(h["EnsRegionId"], "cn-hangzhou-emulator");
    assert_eq!(h["NetworkId"], "n-emulator");
    assert!(h["IpAddress"].as_str().unwrap().starts_with("10.0."));
    assert!(signer::parse_timestamp(h["CreationTime"].as_str().unwrap()).is_some());
    assert_eq!(h["AssociatedInstances"], serde_json::json!([]));
    assert_eq!(h["AssociatedEipAddresses"], serde_json::json!([]));
}

#[tokio::test]
async fn v1_post_in_query_and_in_form_body() {
    let emu = Emulator::builder().demo().start().await.unwrap();
    associate(&emu, "havip-demo", "i-demo").await.assert_ok();

    let mut req = V1Req::new(
        &emu,
        "POST",
        "AssociateHaVip",
        &[
            ("HaVipId", "havip-demo"),
            ("InstanceId", "eni-demo"),
            ("InstanceType", "NetworkInterface"),
        ],
    );
    req.in_body = true;
    emu.complete_transitions();
    req.send(&emu).await.assert_ok();
    let havip = emu.ha_vip("havip-demo").unwrap();
    let eni = havip.association("eni-demo").expect("eni associated");
    assert_eq!(eni.instance_type, InstanceType::NetworkInterface);

    // Form parameters are merged with query parameters; both are signed.
    let mut req = V1Req::new(&emu, "POST", "DescribeHaVips", &[("HaVipId", "havip-demo")]);
    req.in_body = true;
    req.unsigned_extra = "?Status=InUse".to_owned();
    req.send(&emu)
        .await
        .assert_error(400, "SignatureDoesNotMatch");
    let mut req = V1Req::new(
        &emu,
        "POST",
        "DescribeHaVips",
        &[("HaVipId", "havip-demo"), ("Status", "InUse")],
    );
    req.in_body = true;
    let body = req.send(&emu).await.assert_ok();
    assert_eq!(ids(&body), ["havip-demo"]);
}

#[tokio::test]
async fn v3_requests_with_and_without_extra_signed_headers() {
    let emu = Emulator::start_demo().await.unwrap();
    let r = V3Req::new(&emu, "GET", "DescribeHaVips", &[])
        .send(&emu)
        .await;
    assert_eq!(r.assert_ok()["TotalCount"], 2);

    let mut req = V3Req::new(
        &emu,
        "POST",
        "AssociateHaVip",
        &[("HaVipId", "havip-demo"), ("InstanceId", "i-demo")],
    );
    req.extra = vec![("user-agent".to_owned(), "emulator-test/1.0".to_owned())];
    req.send(&emu).await.assert_ok();
    assert!(emu
        .ha_vip("havip-demo")
        .unwrap()
        .association("i-demo")
        .is_some());

    // A signed header whose value changed on the way.
    let req = V3Req::new(&emu, "GET", "DescribeHaVips", &[("HaVipId", "havip-demo")]);
    let (url, mut headers) = {
        let mut r = req.clone();
        r.extra = vec![("user-agent".to_owned(), "a".to_owned())];
        r.prepare(&emu)
    };
    set_header(&mut headers, "user-agent", Some("b"));
    let r = send("GET", &url, &headers, Vec::new(), None).await.unwrap();
    r.assert_error(400, "SignatureDoesNotMatch");
    assert!(r.json()["Message"]
        .as_str()
        .unwrap()
        .contains("server string to sign is:ACS3-HMAC-SHA256\n"));

    // A form body: its hash is signed, its parameters are API parameters.
    let mut req = V3Req::new(&emu, "POST", "DescribeHaVips", &[]);
    req.body = b"HaVipId=havip-creating".to_vec();
    req.content_type = Some("application/x-www-form-urlencoded".to_owned());
    let body = req.send(&emu).await.assert_ok();
    assert_eq!(ids(&body), ["havip-creating"]);

    let records = emu.requests();
    assert!(records
        .iter()
        .all(|r| r.signature_version == Some(SignatureVersion::V3)));
}

#[tokio::test]
async fn v3_header_rules() {
    let emu = Emulator::start_demo().await.unwrap();
    let base = V3Req::new(&emu, "GET", "DescribeHaVips", &[]);

    // Authorization without Signature.
    let (url, mut h) = base.prepare(&emu);
    let auth = h
        .iter()
        .find(|(k, _)| k == "authorization")
        .unwrap()
        .1
        .clone();
    let cut = auth.split(",Signature=").next().unwrap().to_owned();
    set_header(&mut h, "authorization", Some(&cut));
    send("GET", &url, &h, Vec::new(), None)
        .await
        .unwrap()
        .assert_error(400, "IncompleteSignature");

    // A signed header that is absent.
    let mut r = base.clone();
    r.nonce = nonce();
    r.extra = vec![("user-agent".to_owned(), "x".to_owned())];
    let (url, mut h) = r.prepare(&emu);
    set_header(&mut h, "user-agent", None);
    send("GET", &url, &h, Vec::new(), None)
        .await
        .unwrap()
        .assert_error(400, "IncompleteSignature");

    // An x-acs-* header sent but not signed.
    let mut r = base.clone();
    r.nonce = nonce();
    let (url, mut h) = r.prepare(&emu);
    h.push(("x-acs-extra".to_owned(), "1".to_owned()));
    send("GET", &url, &h, Vec::new(), None)
        .await
        .unwrap()
        .assert_error(400, "IncompleteSignature");

    // x-acs-date missing.
    let mut r = base.clone();
    r.nonce = nonce();
    let (url, mut h) = r.prepare(&emu);
    set_header(&mut h, "x-acs-date", None);
    send("GET", &url, &h, Vec::new(), None)
        .await
        .unwrap()
        .assert_error(400, "IncompleteSignature");

    // Body hash that is not the body's.
    let mut r = base.clone();
    r.nonce = nonce();
    let (url, h) = r.prepare(&emu);
    send("GET", &url, &h, b"x".to_vec(), None)
        .await
        .unwrap()
        .assert_error(400, "SignatureDoesNotMatch");

    // Missing x-acs-action.
    let mut r = base.clone();
    r.nonce = nonce();
    let (url, mut h) = r.prepare(&emu);
    set_header(&mut h, "x-acs-action", None);
    send("GET", &url, &h, Vec::new(), None)
        .await
        .unwrap()
        .assert_error(400, "MissingAction");

    // Wrong API version.
    let mut r = base.clone();
    r.nonce = nonce();
    let (url, mut h) = r.prepare(&emu);
    set_header(&mut h, "x-acs-version", Some("2014-05-26"));
    send("GET", &url, &h, Vec::new(), None)
        .await
        .unwrap()
        .assert_error(400, "InvalidVersion");

    // Expired and malformed dates, unknown key, wrong secret, reused nonce.
    let mut r = base.clone();
    r.date = OffsetDateTime::now_utc() - Duration::from_secs(16 * 60);
    r.send(&emu)
        .await
        .assert_error(400, "InvalidTimeStamp.Expired");
    let mut r = base.clone();
    r.nonce = nonce();
    let (url, mut h) = r.prepare(&emu);
    set_header(&mut h, "x-acs-date", Some("2024-01-02 03:04:05"));
    send("GET", &url, &h, Vec::new(), None)
        .await
        .unwrap()
        .assert_error(400, "InvalidTimeStamp.Format");
    let mut r = base.clone();
    r.nonce = nonce();
    r.key_id = "nobody".to_owned();
    r.send(&emu)
        .await
        .assert_error(404, "InvalidAccessKeyId.NotFound");
    let mut r = base.clone();
    r.nonce = nonce();
    r.secret = "wrong".to_owned();
    r.send(&emu)
        .await
        .assert_error(400, "SignatureDoesNotMatch");
    let r = base.clone();
    r.send(&emu).await.assert_ok();
    r.send(&emu).await.assert_error(400, "SignatureNonceUsed");
}

#[tokio::test]
async fn wrong_secret_is_signature_does_not_match_with_string_to_sign() {
    let emu = Emulator::start_demo().await.unwrap();
    let req =
        V1Req::new(&emu, "GET", "DescribeHaVips", &[]).key(DEFAULT_ACCESS_KEY_ID, "not-the-secret");
    let r = req.send(&emu).await;
    r.assert_error(400, "SignatureDoesNotMatch");
    let all = req.all_params();
    let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let expected = format!(
        "Specified signature is not matched with our calculation. server string to sign is:{}",
        v1::string_to_sign("GET", &refs)
    );
    assert_eq!(r.json()["Message"], expected);
    assert!(!r.text.contains(DEFAULT_ACCESS_KEY_SECRET));
    assert!(!r.text.contains(&req.signature()));
}

#[tokio::test]
async fn unencoded_base64_signature_fails_like_the_gateway() {
    let emu = Emulator::start_demo().await.unwrap();
    // Find a signature with a `+` in it and send it raw: the server decodes `+` as a space.
    for _ in 0..200 {
        let mut req = V1Req::new(&emu, "GET", "DescribeHaVips", &[]);
        let sig = req.signature();
        if !sig.contains('+') {
            continue;
        }
        req.omit.push("Signature");
        req.unsigned_extra = format!("&Signature={}", sig.replace('/', "%2F").replace('=', "%3D"));
        req.send(&emu)
            .await
            .assert_error(400, "SignatureDoesNotMatch");
        // The same signature, encoded, passes (a fresh nonce is not needed: the failed
        // request did not use it up).
        req.unsigned_extra = format!("&Signature={}", percent_encode(&sig));
        req.send(&emu).await.assert_ok();
        return;
    }
    panic!("no signature with `+` in 200 tries");
}

#[tokio::test]
async fn unknown_key_expired_and_malformed_timestamps() {
    let emu = Emulator::start_demo().await.unwrap();
    V1Req::new(&emu, "GET", "DescribeHaVips", &[])
        .key("unknown-id", "s")
        .send(&emu)
        .await
        .assert_error(404, "InvalidAccessKeyId.NotFound");

    let mut req = V1Req::new(&emu, "GET", "DescribeHaVips", &[]);
    req.timestamp =
        signer::format_timestamp(OffsetDateTime::now_utc() - Duration::from_secs(20 * 60));
    req.send(&emu)
        .await
        .assert_error(400, "InvalidTimeStamp.Expired");
    req.timestamp =
        signer::format_timestamp(OffsetDateTime::now_utc() + Duration::from_secs(20 * 60));
    req.send(&emu)
        .await
        .assert_error(400, "InvalidTimeStamp.Expired");
    req.timestamp =
        signer::format_timestamp(OffsetDateTime::now_utc() - Duration::from_secs(14 * 60));
    req.send(&emu).await.assert_ok();

    for bad in [
        "2024-01-02 03:04:05",
        "yesterday",
        "2024-01-02T03:04:05+08:00",
    ] {
        let mut req = V1Req::new(&emu, "GET", "DescribeHaVips", &[]);
        req.timestamp = bad.to_owned();
        req.send(&emu)
            .await
            .assert_error(400, "InvalidTimeStamp.Format");
    }
}

#[tokio::test]
async fn nonce_reuse_is_refused_per_key() {
    let emu = Emulator::builder()
        .demo()
        .add_key(AccessKey::new("second-id", "second-secret"))
        .start()
        .await
        .unwrap();
    let req = V1Req::new(&emu, "GET", "DescribeHaVips", &[]);
    req.send(&emu).await.assert_ok();
    req.send(&emu).await.assert_error(400, "SignatureNonceUsed");
    // Another key may use the same nonce.
    let mut other = req.clone().key("second-id", "second-secret");
    other.nonce = req.nonce.clone();
    other.send(&emu).await.assert_ok();
    // A request that failed authentication does not use the nonce up.
    let bad = V1Req::new(&emu, "GET", "DescribeHaVips", &[]).key(DEFAULT_ACCESS_KEY_ID, "wrong");
    bad.send(&emu)
        .await
        .assert_error(400, "SignatureDoesNotMatch");
    let mut good = V1Req::new(&emu, "GET", "DescribeHaVips", &[]);
    good.nonce = bad.nonce.clone();
    good.send(&emu).await.assert_ok();
}

#[tokio::test]
async fn missing_common_parameters() {
    let emu = Emulator::start_demo().await.unwrap();
    for (omit, code) in [
        ("SignatureNonce", "MissingSignatureNonce"),
        ("Timestamp", "MissingTimestamp"),
        ("AccessKeyId", "MissingAccessKeyId"),
        ("Action", "MissingAction"),
        ("Version", "MissingVersion"),
        ("SignatureMethod", "MissingSignatureMethod"),
        ("SignatureVersion", "MissingSignatureVersion"),
        ("Signature", "IncompleteSignature"),
    ] {
        let mut req = V1Req::new(&emu, "GET", "DescribeHaVips", &[]);
        req.omit.push(omit);
        let r = req.send(&emu).await;
        assert_eq!(
            (r.status, r.code()),
            (400, code.to_owned()),
            "omitting {omit}"
        );
    }
    // Format is optional.
    let mut req = V1Req::new(&emu, "GET", "DescribeHaVips", &[]);
    req.omit.push("Format");
    req.send(&emu).await.assert_ok();
}

#[tokio::test]
async fn unknown_action_and_unsupported_method() {
    let emu = Emulator::start_demo().await.unwrap();
    v1_call(&emu, "GET", "DescribeRegions", &[])
        .await
        .assert_error(404, "InvalidAction.NotFound");
    // (CreateHaVip was unknown here before the emulator played the whole lifecycle.)
    V3Req::new(&emu, "POST", "CreateEipInstance", &[])
        .send(&emu)
        .await
        .assert_error(404, "InvalidAction.NotFound");
    v1_call(&emu, "PUT", "DescribeHaVips", &[])
        .await
        .assert_error(400, "UnsupportedHTTPMethod");
    v1_call(&emu, "DELETE", "DescribeHaVips", &[])
        .await
        .assert_error(400, "UnsupportedHTTPMethod");
}

#[tokio::test]
async fn sts_tokens_v1_and_v3() {
    let emu = Emulator::builder()
        .demo()
        .add_key(AccessKey::new("STS.id", "sts-secret").security_token("the-token"))
        .start()
        .await
        .unwrap();
    let mut req = V1Req::new(&emu, "GET", "DescribeHaVips", &[]).key("STS.id", "sts-secret");
    req.token = Some("the-token".to_owned());
    req.send(&emu).await.assert_ok();

    req.nonce = nonce();
    req.token = None;
    req.send(&emu)
        .await
        .assert_error(400, "InvalidSecurityToken.MismatchWithAccessKey");
    req.token = Some("another-token".to_owned());
    let r = req.send(&emu).await;
    r.assert_error(400, "InvalidSecurityToken.Malformed");
    assert!(!r.text.contains("the-token") && !r.text.contains("another-token"));

    // A token with a key that has none.
    let mut plain = V1Req::new(&emu, "GET", "DescribeHaVips", &[]);
    plain.token = Some("stray".to_owned());
    plain
        .send(&emu)
        .await
        .assert_error(400, "InvalidSecurityToken.MismatchWithAccessKey");

    let mut v3req = V3Req::new(&emu, "GET", "DescribeHaVips", &[]);
    v3req.key_id = "STS.id".to_owned();
    v3req.secret = "sts-secret".to_owned();
    v3req.token = Some("the-token".to_owned());
    v3req.send(&emu).await.assert_ok();
    v3req.nonce = nonce();
    v3req.token = Some("bad".to_owned());
    v3req
        .send(&emu)
        .await
        .assert_error(400, "InvalidSecurityToken.Malformed");
    v3req.nonce = nonce();
    v3req.token = None;
    v3req
        .send(&emu)
        .await
        .assert_error(400, "InvalidSecurityToken.MismatchWithAccessKey");

    // With a right token but a wrong secret, the message shows the string to sign with the
    // token redacted.
    let mut req = V1Req::new(&emu, "GET", "DescribeHaVips", &[]).key("STS.id", "wrong");
    req.token = Some("the-token".to_owned());
    let r = req.send(&emu).await;
    r.assert_error(400, "SignatureDoesNotMatch");
    assert!(!r.text.contains("the-token"), "{}", r.text);
    assert!(r.text.contains("REDACTED"), "{}", r.text);
    let mut v3req = V3Req::new(&emu, "GET", "DescribeHaVips", &[]);
    v3req.key_id = "STS.id".to_owned();
    v3req.secret = "wrong".to_owned();
    v3req.token = Some("the-token".to_owned());
    let r = v3req.send(&emu).await;
    r.assert_error(400, "SignatureDoesNotMatch");
    assert!(!r.text.contains("the-token"), "{}", r.text);

    // The builder's own STS key.
    let emu = Emulator::builder()
        .security_token("tok")
        .start()
        .await
        .unwrap();
    assert_eq!(emu.credentials().security_token(), Some("tok"));
    let mut req = V1Req::new(&emu, "GET", "DescribeHaVips", &[]);
    req.token = Some("tok".to_owned());
    req.send(&emu).await.assert_ok();
}

// ---------------------------------------------------------------- AssociateHaVip

#[tokio::test]
async fn associate_error_codes_from_real_conditions() {
    let emu = Emulator::builder()
        .demo()
        .add_key(AccessKey::new("denied-id", "denied-secret").deny())
        .start()
        .await
        .unwrap();
    let long = "i".repeat(129);
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("InstanceId", "i-demo")], "MissingHaVipId"),
        (
            &[("HaVipId", "  "), ("InstanceId", "i-demo")],
            "MissingHaVipId",
        ),
        (&[("HaVipId", "havip-demo")], "MissingInstanceId"),
        (
            &[("HaVipId", "havip demo"), ("InstanceId", "i-demo")],
            "InvalidHaVipId",
        ),
        (
            &[("HaVipId", "havip-demo"), ("InstanceId", &long)],
            "InvalidInstanceId",
        ),
        (
            &[("HaVipId", "havip-demo"), ("InstanceId", "i/demo")],
            "InvalidInstanceId",
        ),
        (
            &[
                ("HaVipId", "havip-demo"),
                ("InstanceId", "i-demo"),
                ("InstanceType", "Eip"),
            ],
            "InvalidParameter.InstanceType",
        ),
        (
            &[("HaVipId", "havip-missing"), ("InstanceId", "i-demo")],
            "HaVipNotFound",
        ),
        (
            &[("HaVipId", "havip-demo"), ("InstanceId", "i-missing")],
            "InstanceNotFound",
        ),
        (
            &[
                ("HaVipId", "havip-demo"),
                ("InstanceId", "eni-missing"),
                ("InstanceType", "NetworkInterface"),
            ],
            "NetworkInterfaceNotFound",
        ),
        (
            // An ENI id given as an ENS instance is not an instance.
            &[("HaVipId", "havip-demo"), ("InstanceId", "eni-demo")],
            "InstanceNotFound",
        ),
        (
            &[("HaVipId", "havip-creating"), ("InstanceId", "i-demo")],
            "IncorrectHaVipStatus",
        ),
        (
            &[("HaVipId", "havip-demo"), ("InstanceId", "i-starting")],
            "IncorrectInstanceStatus",
        ),
        (
            &[
                ("HaVipId", "havip-demo"),
                ("InstanceId", "eni-secondary"),
                ("InstanceType", "NetworkInterface"),
            ],
            "NetworkInterfaceTypeNotSupported",
        ),
        (
            &[
                ("HaVipId", "havip-demo"),
                ("InstanceId", "eni-busy"),
                ("InstanceType", "NetworkInterface"),
            ],
            "IncorrectNetworkInterfaceStatus",
        ),
        (
            &[("HaVipId", "havip-demo"), ("InstanceId", "i-other")],
            "IncorrectInstanceVSwitch",
        ),
    ];
    for (params, code) in cases {
        let r = v1_call(&emu, "POST", "AssociateHaVip", params).await;
        assert_eq!(
            (r.status, r.code()),
            (400, code.to_string()),
            "{params:?}: {}",
            r.text
        );
    }
    V1Req::new(
        &emu,
        "POST",
        "AssociateHaVip",
        &[("HaVipId", "havip-demo"), ("InstanceId", "i-demo")],
    )
    .key("denied-id", "denied-secret")
    .send(&emu)
    .await
    .assert_error(400, "NoPermission");
    assert!(emu
        .ha_vip("havip-demo")
        .unwrap()
        .associated_instances
        .is_empty());

    // Stopped is allowed.
    associate(&emu, "havip-demo", "i-stopped").await.assert_ok();
    // While the first association is in progress the HAVIP is Associating: not allowed.
    associate(&emu, "havip-demo", "i-demo")
        .await
        .assert_error(400, "IncorrectHaVipStatus");
    emu.complete_transitions();
    associate(&emu, "havip-demo", "i-stopped")
        .await
        .assert_error(400, "InstanceAlreadyAssociated");
    // A status change makes a refused instance acceptable.
    assert!(emu.set_instance_status("i-starting", InstanceStatus::Running));
    associate(&emu, "havip-demo", "i-starting")
        .await
        .assert_ok();
    assert!(!emu.set_instance_status("i-nope", InstanceStatus::Running));
}

#[tokio::test]
async fn associate_count_limits() {
    let emu = Emulator::builder()
        .demo()
        .max_instances_per_ha_vip(1)
        .max_ha_vips_per_instance(1)
        .start()
        .await
        .unwrap();
    emu.add_ha_vip("havip-2", "vsw-demo", HaVipStatus::Available);
    associate(&emu, "havip-demo", "i-demo").await.assert_ok();
    emu.complete_transitions();
    associate(&emu, "havip-demo", "i-demo-2")
        .await
        .assert_error(400, "CountLimitExceed.InstanceOnHaVip");
    associate(&emu, "havip-2", "i-demo")
        .await
        .assert_error(400, "CountLimitExceed.HaVipOnInstance");
    associate(&emu, "havip-2", "i-demo-2").await.assert_ok();
}

#[tokio::test]
async fn association_lifecycle_and_the_status_trap() {
    // Long delays: every transition is driven by `complete_transitions`, so nothing here
    // depends on how fast the machine is.
    let emu = Emulator::builder()
        .demo()
        .associate_delay(Duration::from_secs(60))
        .unassociate_delay(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    associate(&emu, "havip-demo", "i-demo").await.assert_ok();
    let h = emu.ha_vip("havip-demo").unwrap();
    assert_eq!(h.status, HaVipStatus::Associating);
    let a = h.association("i-demo").unwrap();
    assert_eq!(a.status, AssociationStatus::Associating);
    assert_eq!(a.instance_type, InstanceType::EnsInstance);
    assert!(a.ip_address.starts_with("10.0."));
    assert!(a.creation_time.is_some());

    // What DescribeHaVips answers decodes to exactly the snapshot.
    let body = describe(&emu, &[("HaVipId", "havip-demo")])
        .await
        .assert_ok();
    let decoded = serde_json::from_value::<HaVip>(body["HaVips"][0].clone()).unwrap();
    assert_eq!(decoded, emu.ha_vip("havip-demo").unwrap());
    assert_eq!(body["HaVips"][0]["Status"], "Associating");
    assert_eq!(
        body["HaVips"][0]["AssociatedInstances"][0]["Status"],
        "Associating"
    );

    emu.complete_transitions();
    let h = emu.ha_vip("havip-demo").unwrap();
    assert_eq!(h.status, HaVipStatus::InUse);
    assert!(h.is_in_use_by("i-demo"));

    // The status trap: the HAVIP stays InUse while the second association is in progress.
    associate(&emu, "havip-demo", "i-demo-2").await.assert_ok();
    let body = describe(&emu, &[("HaVipId", "havip-demo")])
        .await
        .assert_ok();
    assert_eq!(body["HaVips"][0]["Status"], "InUse");
    let decoded = serde_json::from_value::<HaVip>(body["HaVips"][0].clone()).unwrap();
    assert_eq!(decoded.status, HaVipStatus::InUse);
    assert_eq!(
        decoded.association("i-demo-2").unwrap().status,
        AssociationStatus::Associating
    );
    assert!(!decoded.is_in_use_by("i-demo-2"));
    assert!(decoded.is_in_use_by("i-demo"));

    // UnassociateHaVip rules.
    unassociate(&emu, "havip-demo", "i-stopped")
        .await
        .assert_error(400, "InstanceNotAssociated");
    unassociate(&emu, "havip-demo", "i-demo-2")
        .await
        .assert_error(400, "IncorrectInstanceAssociationStatus");
    unassociate(&emu, "havip-missing", "i-demo")
        .await
        .assert_error(400, "HaVipNotFound");
    unassociate(&emu, "havip-demo", "i demo")
        .await
        .assert_error(400, "InvalidInstanceId");
    v1_call(
        &emu,
        "POST",
        "UnassociateHaVip",
        &[("HaVipId", "havip-demo")],
    )
    .await
    .assert_error(400, "MissingInstanceId");
    v1_call(
        &emu,
        "POST",
        "UnassociateHaVip",
        &[("InstanceId", "i-demo")],
    )
    .await
    .assert_error(400, "MissingHaVipId");

    emu.complete_transitions();
    unassociate(&emu, "havip-demo", "i-demo").await.assert_ok();
    let h = emu.ha_vip("havip-demo").unwrap();
    assert_eq!(h.status, HaVipStatus::InUse, "i-demo-2 still serves it");
    assert_eq!(
        h.association("i-demo").unwrap().status,
        AssociationStatus::Unassociating
    );
    unassociate(&emu, "havip-demo", "i-demo")
        .await
        .assert_error(400, "IncorrectInstanceAssociationStatus");
    associate(&emu, "havip-demo", "i-demo")
        .await
        .assert_error(400, "InstanceAlreadyAssociated");
    emu.complete_transitions();
    assert!(emu
        .ha_vip("havip-demo")
        .unwrap()
        .association("i-demo")
        .is_none());

    unassociate(&emu, "havip-demo", "i-demo-2")
        .await
        .assert_ok();
    let body = describe(&emu, &[("HaVipId", "havip-demo")])
        .await
        .assert_ok();
    assert_eq!(body["HaVips"][0]["Status"], "Unassociating");
    assert_eq!(
        body["HaVips"][0]["AssociatedInstances"][0]["Status"],
        "Unassociating"
    );
    emu.complete_transitions();
    let h = emu.ha_vip("havip-demo").unwrap();
    assert_eq!(h.status, HaVipStatus::Available);
    assert!(h.associated_instances.is_empty());

    // Delays can change at run time; zero means immediate.
    emu.set_associate_delay(Duration::ZERO);
    associate(&emu, "havip-demo", "i-stopped").await.assert_ok();
    assert!(emu.ha_vip("havip-demo").unwrap().is_in_use_by("i-stopped"));
}

#[tokio::test]
async fn transitions_follow_the_clock() {
    let delay = Duration::from_millis(80);
    let emu = Emulator::builder()
        .demo()
        .associate_delay(delay)
        .unassociate_delay(delay)
        .start()
        .await
        .unwrap();
    let sent = std::time::Instant::now();
    associate(&emu, "havip-demo", "i-demo").await.assert_ok();
    let h = emu.ha_vip("havip-demo").unwrap();
    // Only meaningful when the machine was fast enough to look before the deadline.
    if sent.elapsed() < delay {
        assert_eq!(h.status, HaVipStatus::Associating);
    }
    tokio::time::sleep(delay + Duration::from_millis(40)).await;
    assert!(emu.ha_vip("havip-demo").unwrap().is_in_use_by("i-demo"));

    let sent = std::time::Instant::now();
    unassociate(&emu, "havip-demo", "i-demo").await.assert_ok();
    let h = emu.ha_vip("havip-demo").unwrap();
    if sent.elapsed() < delay {
        assert_eq!(h.status, HaVipStatus::Unassociating);
    }
    tokio::time::sleep(delay + Duration::from_millis(40)).await;
    let h = emu.ha_vip("havip-demo").unwrap();
    assert_eq!(h.status, HaVipStatus::Available);
    assert!(h.associated_instances.is_empty());
}

#[tokio::test]
async fn zero_delay_and_ha_vip_status_pins() {
    let emu = Emulator::builder()
        .demo()
        .associate_delay(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let r = v1_call(
        &emu,
        "POST",
        "AssociateHaVip",
        &[
            ("HaVipId", "havip-demo"),
            ("InstanceId", "eni-demo"),
            ("InstanceType", "NetworkInterface"),
        ],
    )
    .await;
    r.assert_ok();
    assert!(emu.ha_vip("havip-demo").unwrap().is_in_use_by("eni-demo"));

    assert!(emu.set_ha_vip_status("havip-demo", HaVipStatus::Deleting));
    assert_eq!(
        emu.ha_vip("havip-demo").unwrap().status,
        HaVipStatus::Deleting
    );
    associate(&emu, "havip-demo", "i-demo")
        .await
        .assert_error(400, "IncorrectHaVipStatus");
    assert!(emu.set_ha_vip_status("havip-demo", HaVipStatus::Available));
    assert_eq!(emu.ha_vip("havip-demo").unwrap().status, HaVipStatus::InUse);
    assert!(emu.set_ha_vip_status("havip-creating", HaVipStatus::Available));
    associate(&emu, "havip-creating", "i-demo")
        .await
        .assert_ok();
    assert!(!emu.set_ha_vip_status("havip-nope", HaVipStatus::Available));
    assert_eq!(emu.ha_vips().len(), 2);
}

// ---------------------------------------------------------------- DescribeHaVips

#[tokio::test]
async fn describe_filters() {
    let emu = Emulator::start_demo().await.unwrap();
    emu.add_vswitch_in("vsw-west", "cn-west-emulator", "n-west");
    emu.add_ha_vip("havip-west", "vsw-west", HaVipStatus::Available);
    assert!(emu.set_ha_vip_name("havip-west", "west", "in the west"));
    let west = emu.ha_vip("havip-west").unwrap();
    assert_eq!(west.ens_region_id, "cn-west-emulator");
    assert_eq!(west.description, "in the west");

    let check = |params: Vec<(&'static str, String)>, expected: &'static [&'static str]| {
        let emu = &emu;
        async move {
            let refs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let body = describe(emu, &refs).await.assert_ok();
            assert_eq!(ids(&body), expected, "{params:?}");
            assert_eq!(body["TotalCount"], expected.len(), "{params:?}");
        }
    };
    check(vec![("HaVipId", "havip-demo".into())], &["havip-demo"]).await;
    check(vec![("HaVipId", "havip-none".into())], &[]).await;
    check(
        vec![("HaVipAddress", west.ip_address.clone())],
        &["havip-west"],
    )
    .await;
    check(vec![("Name", "west".into())], &["havip-west"]).await;
    check(
        vec![("NetworkId", "n-emulator".into())],
        &["havip-creating", "havip-demo"],
    )
    .await;
    check(vec![("VSwitchId", "vsw-west".into())], &["havip-west"]).await;
    check(
        vec![("EnsRegionId", "cn-west-emulator".into())],
        &["havip-west"],
    )
    .await;
    check(vec![("Status", "Creating".into())], &["havip-creating"]).await;
    check(
        vec![("Status", "Available".into())],
        &["havip-demo", "havip-west"],
    )
    .await;
    check(
        vec![
            ("EnsRegionIds.1", "cn-west-emulator".into()),
            ("EnsRegionIds.2", "cn-hangzhou-emulator".into()),
        ],
        &["havip-creating", "havip-demo", "havip-west"],
    )
    .await;
    check(
        vec![
            ("EnsRegionIds.1", "cn-west-emulator".into()),
            ("Status", "Available".into()),
        ],
        &["havip-west"],
    )
    .await;
    check(vec![("EnsRegionIds.1", "nowhere".into())], &[]).await;
    // V3 carries the same filters in its query.
    let body = V3Req::new(&emu, "GET", "DescribeHaVips", &[("Name", "west")])
        .send(&emu)
        .await
        .assert_ok();
    assert_eq!(ids(&body), ["havip-west"]);
}

#[tokio::test]
async fn describe_pagination_and_parameter_errors() {
    let emu = Emulator::start().await.unwrap();
    for i in 0..25 {
        emu.add_ha_vip(&format!("havip-{i:02}"), "vsw-1", HaVipStatus::Available);
    }
    let body = describe(&emu, &[]).await.assert_ok();
    assert_eq!(body["TotalCount"], 25);
    assert_eq!(ids(&body).len(), 10);
    assert_eq!(ids(&body)[0], "havip-00");
    let body = describe(&emu, &[("PageNumber", "3"), ("PageSize", "10")])
        .await
        .assert_ok();
    assert_eq!(body["PageNumber"], 3);
    assert_eq!(body["PageSize"], 10);
    assert_eq!(
        ids(&body),
        ["havip-20", "havip-21", "havip-22", "havip-23", "havip-24"]
    );
    let body = describe(&emu, &[("PageNumber", "4"), ("PageSize", "10")])
        .await
        .assert_ok();
    assert!(ids(&body).is_empty());
    assert_eq!(body["TotalCount"], 25);
    let body = describe(&emu, &[("PageSize", "100")]).await.assert_ok();
    assert_eq!(ids(&body).len(), 25);
    let body = describe(&emu, &[("PageNumber", "99999999999999999999")]).await;
    body.assert_error(400, "InvalidParameter.PageNumber");

    for (k, v, code) in [
        ("PageNumber", "0", "InvalidParameter.PageNumber"),
        ("PageNumber", "x", "InvalidParameter.PageNumber"),
        ("PageNumber", "-1", "InvalidParameter.PageNumber"),
        ("PageSize", "0", "InvalidParameter.PageSize"),
        ("PageSize", "101", "InvalidParameter.PageSize"),
        ("PageSize", "ten", "InvalidParameter.PageSize"),
        ("EnsRegionIds.101", "r", "InvalidParameter.EnsRegionIds"),
        ("EnsRegionIds.x", "r", "InvalidParameter.EnsRegionIds"),
    ] {
        describe(&emu, &[(k, v)]).await.assert_error(400, code);
    }
    let many: Vec<(String, String)> = (1..=101)
        .map(|i| {
            (
                format!("EnsRegionIds.{}", (i - 1) % 100 + 1),
                "r".to_owned(),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    describe(&emu, &refs)
        .await
        .assert_error(400, "InvalidParameter.EnsRegionIds");

    // Permission is checked for reads too.
    emu.add_key(AccessKey::new("ro", "ro-secret").deny());
    V1Req::new(&emu, "GET", "DescribeHaVips", &[])
        .key("ro", "ro-secret")
        .send(&emu)
        .await
        .assert_error(400, "NoPermission");
}

// ---------------------------------------------------------------- faults

#[tokio::test]
async fn service_error_faults_are_consumed_in_order_by_matching_actions() {
    let emu = Emulator::start_demo().await.unwrap();
    emu.inject("AssociateHaVip", Fault::throttling(), 2);
    emu.inject(FaultTarget::Any, Fault::service_unavailable(), 1);
    assert_eq!(emu.faults_pending(), 3);

    // Authentication failures do not consume faults.
    V1Req::new(&emu, "GET", "DescribeHaVips", &[])
        .key("nobody", "x")
        .send(&emu)
        .await
        .assert_error(404, "InvalidAccessKeyId.NotFound");
    assert_eq!(emu.faults_pending(), 3);

    // Describe skips the AssociateHaVip faults and takes the Any one.
    describe(&emu, &[])
        .await
        .assert_error(503, "ServiceUnavailable");
    describe(&emu, &[]).await.assert_ok();

    associate(&emu, "havip-demo", "i-demo")
        .await
        .assert_error(400, "Throttling.User");
    associate(&emu, "havip-demo", "i-demo")
        .await
        .assert_error(400, "Throttling.User");
    assert!(emu
        .ha_vip("havip-demo")
        .unwrap()
        .associated_instances
        .is_empty());
    associate(&emu, "havip-demo", "i-demo").await.assert_ok();
    assert_eq!(emu.faults_pending(), 0);

    emu.inject("DescribeHaVips", Fault::internal_error(), 5);
    emu.inject("DescribeHaVips", Fault::system_error(), 1);
    describe(&emu, &[]).await.assert_error(500, "InternalError");
    emu.clear_faults();
    assert_eq!(emu.faults_pending(), 0);
    describe(&emu, &[]).await.assert_ok();
    emu.inject(
        FaultTarget::action("DescribeHaVips"),
        Fault::service_error(403, "Forbidden.RAM", "no"),
        1,
    );
    describe(&emu, &[]).await.assert_error(403, "Forbidden.RAM");

    let records = emu.requests();
    let faulted: Vec<&RequestRecord> = records.iter().filter(|r| r.fault.is_some()).collect();
    assert_eq!(faulted.len(), 5);
    assert_eq!(faulted[0].code, "ServiceUnavailable");
    assert_eq!(faulted[1].code, "Throttling.User");
}

#[tokio::test]
async fn html_empty_and_raw_faults() {
    let emu = Emulator::start_demo().await.unwrap();
    emu.inject(FaultTarget::Any, Fault::Html { status: 502 }, 1);
    emu.inject(FaultTarget::Any, Fault::Empty { status: 503 }, 1);
    emu.inject(
        FaultTarget::Any,
        Fault::Raw {
            status: 418,
            content_type: "text/plain".to_owned(),
            body: "teapot".to_owned(),
        },
        1,
    );

    let r = associate(&emu, "havip-demo", "i-demo").await;
    assert_eq!(r.status, 502);
    assert_eq!(
        r.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/html")
    );
    assert!(
        r.text.contains("<html>") && r.text.contains("502 Bad Gateway"),
        "{}",
        r.text
    );
    assert!(emu
        .ha_vip("havip-demo")
        .unwrap()
        .associated_instances
        .is_empty());

    let r = associate(&emu, "havip-demo", "i-demo").await;
    assert_eq!(r.status, 503);
    assert_eq!(r.text, "");

    let r = describe(&emu, &[]).await;
    assert_eq!((r.status, r.text.as_str()), (418, "teapot"));
    assert_eq!(
        r.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/plain")
    );
    assert!(emu
        .ha_vip("havip-demo")
        .unwrap()
        .associated_instances
        .is_empty());
    let statuses: Vec<Option<u16>> = emu.requests().iter().map(|r| r.http_status).collect();
    assert_eq!(statuses, [Some(502), Some(503), Some(418)]);
}

#[tokio::test]
async fn drop_faults_before_and_after_apply() {
    let emu = Emulator::start_demo().await.unwrap();
    emu.inject("AssociateHaVip", Fault::DropBeforeApply, 1);
    emu.inject("AssociateHaVip", Fault::DropAfterApply, 1);

    let req = V1Req::new(
        &emu,
        "POST",
        "AssociateHaVip",
        &[("HaVipId", "havip-demo"), ("InstanceId", "i-demo")],
    );
    assert!(req.try_send(&emu, None).await.is_err());
    assert!(emu
        .ha_vip("havip-demo")
        .unwrap()
        .associated_instances
        .is_empty());

    let req = V1Req::new(
        &emu,
        "POST",
        "AssociateHaVip",
        &[("HaVipId", "havip-demo"), ("InstanceId", "i-demo")],
    );
    assert!(req.try_send(&emu, None).await.is_err());
    assert!(emu
        .ha_vip("havip-demo")
        .unwrap()
        .association("i-demo")
        .is_some());

    let records = emu.requests();
    assert_eq!(records.len(), 2);
    assert_eq!(
        (records[0].http_status, records[0].code.as_str()),
        (None, "")
    );
    assert_eq!(
        (records[1].http_status, records[1].code.as_str()),
        (None, "Success")
    );
    assert_eq!(records[1].fault, Some(Fault::DropAfterApply));

    // The server keeps serving.
    describe(&emu, &[]).await.assert_ok();
}

#[tokio::test]
async fn truncated_json_fault_applies_and_cuts_the_body() {
    let emu = Emulator::start_demo().await.unwrap();
    emu.inject("DescribeHaVips", Fault::TruncatedJson, 1);
    emu.inject("AssociateHaVip", Fault::TruncatedJson, 1);
    let r = describe(&emu, &[]).await;
    assert_eq!(r.status, 200);
    assert!(serde_json::from_str::<Value>(&r.text).is_err());
    assert!(r.text.starts_with('{') && r.text.len() > 10, "{}", r.text);
    let full = describe(&emu, &[]).await.assert_ok().to_string();
    assert!(full.len() >= r.text.len() * 2 - 80);

    let r = associate(&emu, "havip-demo", "i-demo").await;
    assert_eq!(r.status, 200);
    assert!(serde_json::from_str::<Value>(&r.text).is_err());
    assert!(emu
        .ha_vip("havip-demo")
        .unwrap()
        .association("i-demo")
        .is_some());
}

#[tokio::test]
async fn slow_fault_still_applies_after_the_client_gave_up() {
    let emu = Emulator::start_demo().await.unwrap();
    emu.inject(
        "AssociateHaVip",
        Fault::Slow {
            delay: Duration::from_millis(500),
        },
        1,
    );
    let req = V1Req::new(
        &emu,
        "POST",
        "AssociateHaVip",
        &[("HaVipId", "havip-demo"), ("InstanceId", "i-demo")],
    );
    let err = req
        .try_send(&emu, Some(Duration::from_millis(100)))
        .await
        .err()
        .expect("timed out");
    assert!(err.is_timeout(), "{err}");
    assert!(emu
        .ha_vip("havip-demo")
        .unwrap()
        .associated_instances
        .is_empty());
    wait_until(|| {
        emu.ha_vip("havip-demo")
            .unwrap()
            .association("i-demo")
            .is_some()
    })
    .await;

    // A slow answer that the client waits for is a normal answer.
    emu.inject(
        "DescribeHaVips",
        Fault::Slow {
            delay: Duration::from_millis(50),
        },
        1,
    );
    let started = std::time::Instant::now();
    describe(&emu, &[]).await.assert_ok();
    assert!(started.elapsed() >= Duration::from_millis(50));
}

// ---------------------------------------------------------------- records, robustness, lifecycle

#[tokio::test]
async fn request_records_hold_no_secrets() {
    let emu = Emulator::builder()
        .demo()
        .security_token("sts-token-value")
        .start()
        .await
        .unwrap();
    let mut req = V1Req::new(
        &emu,
        "POST",
        "AssociateHaVip",
        &[("HaVipId", "havip-demo"), ("InstanceId", "i-demo")],
    );
    req.token = Some("sts-token-value".to_owned());
    req.send(&emu).await.assert_ok();
    let sig = req.signature();
    let mut v3req = V3Req::new(&emu, "GET", "DescribeHaVips", &[("HaVipId", "havip-demo")]);
    v3req.token = Some("sts-token-value".to_owned());
    v3req.send(&emu).await.assert_ok();

    let records = emu.requests();
    assert_eq!(records.len(), 2);
    let r = &records[0];
    assert_eq!(r.action.as_deref(), Some("AssociateHaVip"));
    assert_eq!(r.http_method, "POST");
    assert_eq!(r.signature_version, Some(SignatureVersion::V1));
    assert_eq!(r.nonce.as_deref(), Some(req.nonce.as_str()));
    assert_eq!(r.access_key_id.as_deref(), Some(DEFAULT_ACCESS_KEY_ID));
    assert_eq!(
        r.params,
        pairs(&[("HaVipId", "havip-demo"), ("InstanceId", "i-demo")])
    );
    assert_eq!(r.param("HaVipId"), Some("havip-demo"));
    assert_eq!((r.http_status, r.code.as_str()), (Some(200), "Success"));
    assert_request_id(&r.request_id);
    assert_eq!(records[1].signature_version, Some(SignatureVersion::V3));
    assert_eq!(records[1].nonce.as_deref(), Some(v3req.nonce.as_str()));

    let dump = format!("{records:?} {}", records[0].log_line());
    for secret in ["sts-token-value", DEFAULT_ACCESS_KEY_SECRET, sig.as_str()] {
        assert!(!dump.contains(secret), "{secret} in {dump}");
    }
    assert!(records[0].log_line().contains("AssociateHaVip"));
    assert!(records[0].log_line().contains("200 Success"));
    emu.clear_requests();
    assert!(emu.requests().is_empty());
}

#[tokio::test]
async fn garbage_requests_get_json_errors() {
    let emu = Emulator::start_demo().await.unwrap();
    let url = |q: &str| format!("{}/?{q}", emu.endpoint());
    for q in ["Action=%zz", "Action=%FF%FE", "%", "a=%4"] {
        let r = send("GET", &url(q), &[], Vec::new(), None).await.unwrap();
        r.assert_error(400, "InvalidParameter");
    }
    // No parameters at all.
    send("GET", &emu.endpoint(), &[], Vec::new(), None)
        .await
        .unwrap()
        .assert_error(400, "MissingAction");
    // A long query.
    let long = format!("Action=DescribeHaVips&X={}", "a".repeat(40 << 10));
    send("GET", &url(&long), &[], Vec::new(), None)
        .await
        .expect("long query")
        .assert_error(400, "InvalidParameter");
    // Too long for hyper: refused before it reaches the emulator, which lives on.
    let huge = format!(
        "GET /?X={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "a".repeat(100 << 10)
    );
    let raw = raw_http(&emu, huge.as_bytes()).await;
    assert!(
        raw.is_empty() || raw.starts_with("HTTP/1.1 4"),
        "{}",
        &raw[..raw.len().min(200)]
    );
    // A large body.
    send(
        "POST",
        &url("Action=DescribeHaVips"),
        &[],
        vec![b'a'; (1 << 20) + 1],
        None,
    )
    .await
    .unwrap()
    .assert_error(413, "InvalidParameter");
    // A non-UTF-8 form body.
    let headers = [(
        "content-type".to_owned(),
        "application/x-www-form-urlencoded".to_owned(),
    )];
    send(
        "POST",
        &emu.endpoint(),
        &headers,
        vec![0xff, 0xfe, b'='],
        None,
    )
    .await
    .unwrap()
    .assert_error(400, "InvalidParameter");
    // Another path.
    send(
        "GET",
        &format!("{}/v1/havips", emu.endpoint()),
        &[],
        Vec::new(),
        None,
    )
    .await
    .unwrap()
    .assert_error(404, "InvalidApi.NotFound");
    // A non-ASCII Authorization header is not V3; a broken ACS3 one is incomplete.
    let raw = raw_http(
        &emu,
        b"GET /?Action=DescribeHaVips HTTP/1.1\r\nHost: x\r\nAuthorization: \xff\xfe\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(raw.starts_with("HTTP/1.1 400"), "{raw}");
    assert!(raw.contains("\"Code\":\"MissingVersion\""), "{raw}");
    let headers = [("authorization".to_owned(), "ACS3-HMAC-SHA256".to_owned())];
    send("GET", &emu.endpoint(), &headers, Vec::new(), None)
        .await
        .unwrap()
        .assert_error(400, "IncompleteSignature");
    let headers = [(
        "authorization".to_owned(),
        "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host;x-acs-date,Signature=00".to_owned(),
    )];
    send("GET", &emu.endpoint(), &headers, Vec::new(), None)
        .await
        .unwrap()
        .assert_error(400, "MissingAction");
    // Garbage that is not HTTP: hyper refuses it, the server lives on.
    let raw = raw_http(&emu, b"\x00\x01GARBAGE\r\n\r\n").await;
    assert!(raw.is_empty() || raw.starts_with("HTTP/1.1 4"), "{raw}");
    describe(&emu, &[]).await.assert_ok();
}

#[tokio::test]
async fn shutdown_and_drop_release_the_port() {
    let emu = Emulator::start().await.unwrap();
    let addr = emu.local_addr();
    describe(&emu, &[]).await.assert_ok();
    emu.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());

    let emu = Emulator::builder()
        .log_requests(true)
        .start()
        .await
        .unwrap();
    let addr = emu.local_addr();
    drop(emu);
    let mut refused = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused);
}

#[tokio::test]
async fn parse_form_rules() {
    assert_eq!(
        server::parse_form("a=1&b=x+y&c=%2B&&d&e=").unwrap(),
        pairs(&[("a", "1"), ("b", "x y"), ("c", "+"), ("d", ""), ("e", "")])
    );
    assert!(server::parse_form("a=%G1").is_none());
    assert!(server::parse_form("a=%C3").is_none());
    assert_eq!(server::parse_form("").unwrap(), pairs(&[]));
    let id = server::new_request_id();
    assert_request_id(&id);
    assert_ne!(id, server::new_request_id());
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync + 'static>() {}
    check::<Emulator>();
    check::<EmulatorBuilder>();
    check::<AccessKey>();
    check::<RequestRecord>();
    check::<Fault>();
    check::<FaultTarget>();
}

#[tokio::test]
async fn seeding_api_and_listen_errors() {
    let emu = Emulator::start().await.unwrap();
    assert!(emu.ha_vips().is_empty());
    emu.seed_demo();
    assert_eq!(emu.ha_vips().len(), 2);

    // An ENI whose status changes becomes acceptable.
    let params = [
        ("HaVipId", "havip-demo"),
        ("InstanceId", "eni-busy"),
        ("InstanceType", "NetworkInterface"),
    ];
    v1_call(&emu, "POST", "AssociateHaVip", &params)
        .await
        .assert_error(400, "IncorrectNetworkInterfaceStatus");
    assert!(emu.set_network_interface_status("eni-busy", NetworkInterfaceStatus::InUse));
    assert!(!emu.set_network_interface_status("eni-nope", NetworkInterfaceStatus::InUse));
    v1_call(&emu, "POST", "AssociateHaVip", &params)
        .await
        .assert_ok();

    // Resources added at run time, in a vSwitch named first.
    emu.add_vswitch("vsw-new");
    emu.add_ha_vip("havip-new", "vsw-new", HaVipStatus::Available);
    emu.add_network_interface(
        "eni-new",
        "vsw-new",
        NetworkInterfaceType::Secondary,
        NetworkInterfaceStatus::Available,
    );
    emu.add_instance("i-new", "vsw-new", InstanceStatus::Stopping);
    let h = emu.ha_vip("havip-new").unwrap();
    assert_eq!(
        (
            h.vswitch_id.as_str(),
            h.ens_region_id.as_str(),
            h.network_id.as_str()
        ),
        ("vsw-new", DEFAULT_ENS_REGION_ID, DEFAULT_NETWORK_ID)
    );
    assert_eq!(h.name, "havip-new");
    let addresses: Vec<String> = emu.ha_vips().into_iter().map(|h| h.ip_address).collect();
    let unique: std::collections::HashSet<&String> = addresses.iter().collect();
    assert_eq!(
        addresses.len(),
        unique.len(),
        "distinct addresses: {addresses:?}"
    );
    associate(&emu, "havip-new", "i-new")
        .await
        .assert_error(400, "IncorrectInstanceStatus");
    v1_call(
        &emu,
        "POST",
        "AssociateHaVip",
        &[
            ("HaVipId", "havip-new"),
            ("InstanceId", "eni-new"),
            ("InstanceType", "NetworkInterface"),
        ],
    )
    .await
    .assert_error(400, "NetworkInterfaceTypeNotSupported");

    // A port that is taken.
    let taken = emu.local_addr();
    let err = Emulator::builder().listen(taken).start().await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
}

#[tokio::test]
async fn random_garbage_never_breaks_the_server() {
    let emu = Emulator::start_demo().await.unwrap();
    // A deterministic pseudo-random generator (no dependency needed).
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    const ALPHABET: &[u8] = b"%+=&aZ09-_.~:/?#[]@!$'()*,;\\\"<> \t%%%==&&";
    let mut json_answers = 0;
    for round in 0..60 {
        let len = (next() % 200) as usize;
        let garbage: String = (0..len)
            .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize] as char)
            .collect();
        // Through the decoder directly…
        let _ = server::parse_form(&garbage);
        // …and through the whole server, as the query and as a form body.
        // Only what may appear in a request target, so that hyper passes it on.
        let query: String = garbage
            .chars()
            .map(|c| {
                if "%+=&aZ09-_.~:/?@!$'()*,;".contains(c) {
                    c
                } else {
                    '%'
                }
            })
            .collect();
        let head = format!(
            "POST /?Action=DescribeHaVips&{query} HTTP/1.1\r\nHost: x\r\nAuthorization: ACS3-HMAC-SHA256 {query}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{garbage}",
            garbage.len()
        );
        let raw = raw_http(&emu, head.as_bytes()).await;
        assert!(
            raw.starts_with("HTTP/1.1 4"),
            "round {round}: {garbage:?} -> {}",
            &raw[..raw.len().min(300)]
        );
        if raw.contains("\"Code\":") {
            json_answers += 1;
        }
    }
    // Most get past hyper's own URI check and are answered by the emulator itself.
    assert!(json_answers > 10, "{json_answers}");
    describe(&emu, &[]).await.assert_ok();
}

// ---------------------------------------------------------------- decoding

mod decoding {
    use super::super::params::{json_strings, CommonParams, DescribeParams, JsonListError, Params};
    use super::*;

    /// JSON arrays of strings are read up to their limit, never further.
    #[test]
    fn json_string_lists_are_bounded_while_read() {
        assert_eq!(json_strings(" [ \"a\", \"b\" ] ", 2).unwrap(), ["a", "b"]);
        assert_eq!(json_strings("[]", 2).unwrap(), Vec::<String>::new());
        assert_eq!(
            json_strings(r#"["a","b","c"]"#, 2),
            Err(JsonListError::TooLong)
        );
        for bad in [
            "",
            "a",
            "[1]",
            r#"{"a":1}"#,
            r#"["a"] x"#,
            r#"["a""#,
            "null",
        ] {
            assert_eq!(json_strings(bad, 2), Err(JsonListError::Malformed), "{bad}");
        }
        // A quarter of a million empty strings: refused at the 101st.
        let huge = format!("[{}\"\"]", "\"\",".repeat(250_000));
        assert_eq!(json_strings(&huge, 100), Err(JsonListError::TooLong));
    }

    /// Typed parameters through serde_urlencoded, after the emulator's own checks.
    #[test]
    fn typed_parameters_and_strict_decoding() {
        let p = Params::decode(
            "Action=DescribeHaVips&Name=%E9%AB%98%E5%8F%AF%E7%94%A8+vip&EnsRegionIds.1=r1",
            Some(b"EnsRegionIds.2=r2&PageSize=5&Other=x%20y"),
        )
        .unwrap();
        assert_eq!(p.count(), 6);
        let d: DescribeParams = p.typed().unwrap();
        assert_eq!(d.name.as_deref(), Some("高可用 vip"));
        assert_eq!(d.page_size.as_deref(), Some("5"));
        assert_eq!(d.page_number, None);
        let lists: Vec<(&str, &str, &str)> = d
            .lists
            .0
            .iter()
            .map(|(l, i, v)| (l.as_str(), i.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            lists,
            [("EnsRegionIds", "1", "r1"), ("EnsRegionIds", "2", "r2")]
        );
        assert_eq!(d.lists.values("EnsRegionIds", 100).unwrap(), ["r1", "r2"]);
        assert!(d
            .lists
            .values("NetworkInterfaceIds", 100)
            .unwrap()
            .is_empty());
        assert_eq!(
            d.lists.values("EnsRegionIds", 1).unwrap_err().code,
            "InvalidParameter.EnsRegionIds"
        );
        // `01` and `1` are two names for one index: the count still holds.
        let twice: DescribeParams = Params::decode("EnsRegionIds.1=a&EnsRegionIds.01=b", None)
            .unwrap()
            .typed()
            .unwrap();
        assert_eq!(twice.lists.values("EnsRegionIds", 2).unwrap(), ["a", "b"]);
        assert!(twice.lists.values("EnsRegionIds", 1).is_err());
        let c: CommonParams = p.typed().unwrap();
        assert_eq!(c.action.as_deref(), Some("DescribeHaVips"));
        assert_eq!(c.signature, None);

        // serde_urlencoded alone would accept these (as text, or lossily).
        let lenient: Vec<(String, String)> = serde_urlencoded::from_str("a=%zz&b=%FF").unwrap();
        assert_eq!(lenient[0].1, "%zz");
        assert_eq!(lenient[1].1, "\u{fffd}");
        for bad in ["a=%zz", "%", "a=%4", "a=%C3", "a=%FF%FE", "%C3=1"] {
            let e = Params::decode(bad, None).unwrap_err();
            assert_eq!(
                (e.status, e.code.as_str()),
                (400, "InvalidParameter"),
                "{bad}"
            );
        }
        assert!(Params::decode("a=1", Some(b"b=%C3")).is_err());
        assert!(Params::decode("a=1", Some(b"b=\xff")).is_err());
        // A character split across an `&` is no character.
        assert!(Params::decode("a=%C3&b=%A9", None).is_err());
        assert!(Params::decode("a=%C3%A9", None).is_ok());
    }

    /// Finding 5 (unit): a name given twice, anywhere, is refused, naming it (cut).
    #[test]
    fn repeated_names_are_refused() {
        for (query, form, name) in [
            ("a=1&a=2", None, "a"),
            ("Action=X", Some("Action=Y"), "Action"),
            ("", Some("x&x"), "x"),
        ] {
            let e = Params::decode(query, form.map(str::as_bytes)).unwrap_err();
            assert_eq!(e.code, "InvalidParameter");
            assert_eq!(e.message, format!("The parameter {name} is repeated."));
        }
        let e = Params::decode("EnsRegionIds.1=a&EnsRegionIds.1=b", None).unwrap_err();
        assert_eq!(e.code, "InvalidParameter.EnsRegionIds");
        let e = Params::decode(&format!("{0}=1&{0}=2", "n".repeat(5000)), None).unwrap_err();
        assert!(e.message.len() < 200, "{}", e.message);
    }

    /// At most 1,000 parameters, counted before decoding.
    #[test]
    fn at_most_a_thousand_parameters() {
        let many = |n: usize| {
            (0..n)
                .map(|i| format!("p{i}"))
                .collect::<Vec<_>>()
                .join("&")
        };
        assert_eq!(Params::decode(&many(1000), None).unwrap().count(), 1000);
        let e = Params::decode(&many(600), Some(many(401).as_bytes())).unwrap_err();
        assert_eq!(e.code, "InvalidParameter");
        assert!(e.message.contains("1001 parameters"), "{}", e.message);
        // `a&a&…`: half a million pairs are never built.
        let e = Params::decode("", Some("a&".repeat(500_000).as_bytes())).unwrap_err();
        assert!(e.message.contains("500000 parameters"), "{}", e.message);
    }

    /// `+` and `%20` both decode to a space (Alibaba's Python SDK sends `Name=高可用+vip`), in
    /// the signature and in the typed parameters, in the query and in a form body.
    #[tokio::test]
    async fn plus_and_percent_20_are_spaces() {
        let emu = Emulator::start_demo().await.unwrap();
        emu.set_ha_vip_name("havip-demo", "高可用 vip", "");
        for (method, space) in [("GET", "+"), ("GET", "%20"), ("POST", "+")] {
            let mut req = V1Req::new(&emu, method, "DescribeHaVips", &[("Name", "高可用 vip")]);
            req.in_body = method == "POST";
            let encoded = req.encoded().replace("%20", space);
            assert!(encoded.contains(&format!("{space}vip")), "{encoded}");
            let resp = if req.in_body {
                let headers = [(
                    "content-type".to_owned(),
                    "application/x-www-form-urlencoded".to_owned(),
                )];
                send(
                    method,
                    &emu.endpoint(),
                    &headers,
                    encoded.into_bytes(),
                    None,
                )
                .await
            } else {
                let url = format!("{}/?{encoded}", emu.endpoint());
                send(method, &url, &[], Vec::new(), None).await
            };
            let body = resp.unwrap().assert_ok();
            assert_eq!(body["TotalCount"], 1, "{body}");
            assert_eq!(body["HaVips"][0]["HaVipId"], "havip-demo");
        }
    }
}

// ---------------------------------------------------------------- hostile peers (internals)

mod hostile {
    use std::convert::Infallible;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Poll};
    use std::time::Instant;

    use hyper::body::{Body, Bytes, Frame, SizeHint};

    use super::super::auth::NonceCache;
    use super::super::params::{cut, Params};
    use super::super::server::{self, read_body, BodyError, MAX_BODY_BYTES, MAX_DRAIN_BYTES};
    use super::super::{
        RequestLog, RequestRecord, LOG_BUDGET_BYTES, MAX_RECORDS, RECORD_FIELD_BYTES,
    };
    use crate::SignatureVersion;

    /// A frame's memory block, as hyper hands them out: a 4 KiB block of which the frame uses
    /// one byte, alive as long as the frame (or anything sliced from it) is.
    struct Block {
        live: Arc<AtomicUsize>,
        data: Vec<u8>,
    }

    impl AsRef<[u8]> for Block {
        fn as_ref(&self) -> &[u8] {
            &self.data
        }
    }

    impl Drop for Block {
        fn drop(&mut self) {
            self.live.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// A body of `frames` one-byte frames, each in its own [`Block`]; counts how many blocks
    /// are alive at most, and how many frames were asked for.
    struct TinyFrames {
        frames: usize,
        declared: Option<u64>,
        live: Arc<AtomicUsize>,
        peak: usize,
        polled: usize,
    }

    impl TinyFrames {
        fn new(frames: usize, declared: Option<u64>) -> Self {
            TinyFrames {
                frames,
                declared,
                live: Arc::new(AtomicUsize::new(0)),
                peak: 0,
                polled: 0,
            }
        }
    }

    impl Body for &mut TinyFrames {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            let this = self.get_mut();
            if this.polled == this.frames {
                return Poll::Ready(None);
            }
            this.polled += 1;
            let live = this.live.fetch_add(1, Ordering::SeqCst) + 1;
            this.peak = this.peak.max(live);
            let block = Block {
                live: Arc::clone(&this.live),
                data: vec![b'a'; 4096],
            };
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_owner(block).slice(0..1)))))
        }

        fn size_hint(&self) -> SizeHint {
            self.declared.map(SizeHint::with_exact).unwrap_or_default()
        }
    }

    /// Finding 2: 50,000 one-byte frames used to be kept as 50,000 buffers (each pinning its
    /// block) until the end; now each is copied into one growing buffer and dropped.
    #[tokio::test]
    async fn a_body_of_tiny_frames_is_copied_into_one_buffer() {
        let mut body = TinyFrames::new(50_000, Some(50_000));
        let buf = read_body(&mut body, MAX_BODY_BYTES, MAX_DRAIN_BYTES)
            .await
            .unwrap();
        assert_eq!(buf.len(), 50_000);
        assert!(buf.capacity() <= 2 * 50_000, "{}", buf.capacity());
        assert!(body.peak <= 1, "{} frames alive at once", body.peak);
        assert_eq!(body.live.load(Ordering::SeqCst), 0);
    }

    /// Over the limit: nothing is kept while the rest is thrown away; declared far over it,
    /// nothing is even read.
    #[tokio::test]
    async fn oversized_bodies_are_refused_without_keeping_them() {
        let mut body = TinyFrames::new(2_000, None);
        let e = read_body(&mut body, 1_000, 10_000).await.unwrap_err();
        assert_eq!(e, BodyError::TooLarge { drained: true });
        assert!(body.peak <= 1);

        let mut body = TinyFrames::new(20_000, None);
        let e = read_body(&mut body, 1_000, 10_000).await.unwrap_err();
        assert_eq!(e, BodyError::TooLarge { drained: false });
        assert_eq!(body.polled, 10_001);

        let mut body = TinyFrames::new(2_000, Some(1 << 40));
        let e = read_body(&mut body, 1_000, 10_000).await.unwrap_err();
        assert_eq!(e, BodyError::TooLarge { drained: false });
        assert_eq!(
            body.polled, 0,
            "a declared 1 TiB body is refused before reading"
        );

        let mut body = TinyFrames::new(1_500, Some(1_500));
        let e = read_body(&mut body, 1_000, 10_000).await.unwrap_err();
        assert_eq!(e, BodyError::TooLarge { drained: true });
    }

    /// Finding 3: each nonce's text is held once (it was held by a set and a queue, key and
    /// nonce each), and what is held is counted.
    #[test]
    fn the_nonce_cache_stores_each_nonce_once() {
        let mut cache = NonceCache::default();
        let now = Instant::now();
        for i in 0..1000 {
            assert!(cache.check_and_insert("key", &format!("{i:0>128}"), now));
        }
        assert!(!cache.check_and_insert("key", &format!("{:0>128}", 5), now));
        assert!(cache.check_and_insert("other-key", &format!("{:0>128}", 5), now));
        // "3:key" or "9:other-key", then the nonce.
        let text = 1000 * (5 + 128) + (11 + 128);
        assert_eq!(cache.len(), 1001);
        assert_eq!(cache.text_bytes(), text);
        assert!(
            cache.stored_bytes() < text + 1001 * 128,
            "{}",
            cache.stored_bytes()
        );
        // No ambiguity between key and nonce.
        assert!(cache.check_and_insert("ab", "c", now));
        assert!(cache.check_and_insert("a", "bc", now));
    }

    /// The heaviest record a client can cause, every field at its limit.
    fn heaviest_record() -> RequestRecord {
        let long = "x".repeat(100_000);
        let raw = (0..100)
            .map(|i| format!("{}{i}={long}", "n".repeat(100)))
            .collect::<Vec<_>>()
            .join("&");
        let params = Params::decode(&raw, None).unwrap();
        let field = || Some(cut(&long, RECORD_FIELD_BYTES));
        RequestRecord {
            request_id: server::new_request_id(),
            received_at: Instant::now(),
            http_method: cut(&long, RECORD_FIELD_BYTES),
            action: field(),
            signature_version: Some(SignatureVersion::V3),
            access_key_id: field(),
            nonce: field(),
            params: server::record_params(Some(SignatureVersion::V3), &params),
            param_count: params.count(),
            authenticated: true,
            http_status: Some(200),
            code: cut(&long, RECORD_FIELD_BYTES),
            fault: None,
        }
    }

    /// Finding 1: the log is bounded in bytes, not only in entries (10,000 of the heaviest
    /// records would weigh ~50 MB).
    #[test]
    fn the_request_log_is_bounded_in_bytes() {
        let record = heaviest_record();
        let weight = record.weight();
        assert!(weight < 5 << 10, "{weight}");
        let mut log = RequestLog::default();
        for _ in 0..MAX_RECORDS {
            log.push(record.clone());
        }
        assert!(log.bytes() <= LOG_BUDGET_BYTES, "{}", log.bytes());
        assert_eq!(log.len(), LOG_BUDGET_BYTES / weight);
        // Counted independently: the text and slots the kept records hold.
        let held: usize = log
            .records
            .iter()
            .map(|r| {
                std::mem::size_of::<RequestRecord>()
                    + r.params.capacity() * std::mem::size_of::<(String, String)>()
                    + r.params
                        .iter()
                        .map(|(k, v)| k.len() + v.len())
                        .sum::<usize>()
                    + r.request_id.len()
                    + r.http_method.len()
                    + r.code.len()
                    + [&r.action, &r.access_key_id, &r.nonce]
                        .iter()
                        .map(|s| s.as_deref().map_or(0, str::len))
                        .sum::<usize>()
            })
            .sum();
        assert!(held <= LOG_BUDGET_BYTES, "{held}");
    }
}

// ---------------------------------------------------------------- the lifecycle

async fn create(emu: &Emulator, params: &[(&str, &str)]) -> Resp {
    v1_call(emu, "POST", "CreateHaVip", params).await
}

fn created_ids(body: &Value) -> Vec<String> {
    body["HaVipIds"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn create_allocates_from_the_vswitch_cidr_or_takes_the_address_given() {
    let emu = Emulator::start_demo().await.unwrap();
    emu.add_vswitch_with_cidr("vsw-small", "192.168.7.0/29")
        .unwrap();
    assert!(emu
        .add_vswitch_with_cidr("vsw-bad", "192.168.7.0/33")
        .is_err());
    // A /29 has 8 addresses: network, gateway, broadcast, 5 hosts.
    let body = create(
        &emu,
        &[
            ("VSwitchId", "vsw-small"),
            ("Amount", "3"),
            ("Name", "高可用 vip"),
        ],
    )
    .await
    .assert_ok();
    let ids = created_ids(&body);
    assert_eq!(ids.len(), 3);
    let ips: Vec<String> = ids
        .iter()
        .map(|id| emu.ha_vip(id).unwrap().ip_address)
        .collect();
    assert_eq!(ips, ["192.168.7.2", "192.168.7.3", "192.168.7.4"]);
    for id in &ids {
        let h = emu.ha_vip(id).unwrap();
        assert_eq!(h.status, HaVipStatus::Creating);
        assert_eq!(h.name, "高可用 vip");
        assert_eq!(h.vswitch_id, "vsw-small");
        assert!(id.starts_with("havip-") && id.len() == 22, "{id}");
    }
    // The address given, if free and in the CIDR.
    let body = create(
        &emu,
        &[("VSwitchId", "vsw-small"), ("IpAddress", "192.168.7.6")],
    )
    .await
    .assert_ok();
    let id = &created_ids(&body)[0];
    assert_eq!(emu.ha_vip(id).unwrap().ip_address, "192.168.7.6");
    create(
        &emu,
        &[("VSwitchId", "vsw-small"), ("IpAddress", "192.168.7.6")],
    )
    .await
    .assert_error(400, "InvalidIPAddress.AlreadyUsed");
    create(
        &emu,
        &[("VSwitchId", "vsw-small"), ("IpAddress", "10.9.9.9")],
    )
    .await
    .assert_error(400, "InvalidParameter.IpAddress");
    // One host left; two asked for.
    create(&emu, &[("VSwitchId", "vsw-small"), ("Amount", "2")])
        .await
        .assert_error(400, "InvalidVSwitchId.IpNotEnough");
    // Instances take addresses from their vSwitch too.
    emu.add_instance("i-small", "vsw-small", InstanceStatus::Running);
    create(&emu, &[("VSwitchId", "vsw-small")])
        .await
        .assert_error(400, "InvalidVSwitchId.IpNotEnough");
}

#[tokio::test]
async fn creating_and_deleting_last_their_delays() {
    let emu = Emulator::builder()
        .demo()
        .create_delay(Duration::from_millis(300))
        .delete_delay(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let body = create(&emu, &[("VSwitchId", "vsw-demo")]).await.assert_ok();
    let id = created_ids(&body).remove(0);
    assert_eq!(emu.ha_vip(&id).unwrap().status, HaVipStatus::Creating);
    // Not yet Available: it cannot be deleted or associated.
    let ids_json = format!(r#"["{id}"]"#);
    v1_call(&emu, "POST", "DeleteHaVips", &[("HaVipIds", &ids_json)])
        .await
        .assert_error(400, "IncorrectHaVipStatus");
    associate(&emu, &id, "i-demo")
        .await
        .assert_error(400, "IncorrectHaVipStatus");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(emu.ha_vip(&id).unwrap().status, HaVipStatus::Available);
    v1_call(&emu, "POST", "DeleteHaVips", &[("HaVipIds", &ids_json)])
        .await
        .assert_ok();
    assert_eq!(emu.ha_vip(&id).unwrap().status, HaVipStatus::Deleting);
    // Listed as Deleting, then gone.
    let body = v1_call(&emu, "GET", "DescribeHaVips", &[("HaVipId", &id)])
        .await
        .assert_ok();
    assert_eq!(body["HaVips"][0]["Status"], "Deleting");
    emu.complete_transitions();
    assert!(emu.ha_vip(&id).is_none());
    let body = v1_call(&emu, "GET", "DescribeHaVips", &[("HaVipId", &id)])
        .await
        .assert_ok();
    assert_eq!(body["TotalCount"], 0);
}

#[tokio::test]
async fn every_lifecycle_refusal_has_its_code() {
    let emu = Emulator::start_demo().await.unwrap();
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        ("CreateHaVip", &[], "MissingVSwitchId"),
        (
            "CreateHaVip",
            &[("VSwitchId", "vsw demo")],
            "InvalidVSwitchId",
        ),
        (
            "CreateHaVip",
            &[("VSwitchId", "vsw-nope")],
            "InvalidVSwitchId.NotFound",
        ),
        (
            "CreateHaVip",
            &[("VSwitchId", "vsw-demo"), ("Amount", "11")],
            "InvalidParameter.Amount",
        ),
        (
            "CreateHaVip",
            &[("VSwitchId", "vsw-demo"), ("Amount", "two")],
            "InvalidParameter.Amount",
        ),
        (
            "CreateHaVip",
            &[
                ("VSwitchId", "vsw-demo"),
                ("Amount", "2"),
                ("IpAddress", "10.0.0.200"),
            ],
            "InvalidParameter.Amount",
        ),
        (
            "CreateHaVip",
            &[("VSwitchId", "vsw-demo"), ("IpAddress", "10.0.0")],
            "InvalidParameter.IpAddress",
        ),
        (
            "CreateHaVip",
            &[("VSwitchId", "vsw-demo"), ("Name", "http://x")],
            "InvalidName",
        ),
        (
            "CreateHaVip",
            &[("VSwitchId", "vsw-demo"), ("Name", "")],
            "InvalidName",
        ),
        ("DeleteHaVips", &[], "MissingHaVipIds"),
        (
            "DeleteHaVips",
            &[("HaVipIds", "havip-demo")],
            "InvalidParameter.HaVipIds",
        ),
        (
            "DeleteHaVips",
            &[("HaVipIds", "[]")],
            "InvalidParameter.HaVipIds",
        ),
        (
            "DeleteHaVips",
            &[("HaVipIds", r#"["havip-nope"]"#)],
            "HaVipNotFound",
        ),
        ("ModifyHaVipAttribute", &[("Name", "n")], "MissingHaVipId"),
        (
            "ModifyHaVipAttribute",
            &[("HaVipId", "havip-demo")],
            "MissingName",
        ),
        (
            "ModifyHaVipAttribute",
            &[("HaVipId", "havip-demo"), ("Name", "https://evil")],
            "InvalidName",
        ),
        (
            "ModifyHaVipAttribute",
            &[("HaVipId", "havip-nope"), ("Name", "n")],
            "HaVipNotFound",
        ),
    ];
    for (action, params, code) in cases {
        let r = v1_call(&emu, "POST", action, params).await;
        assert_eq!(r.code(), *code, "{action} {params:?}: {}", r.text);
        r.assert_error(400, code);
    }
    // An HAVIP with an association (in any status) cannot be deleted, and a batch with one
    // such id deletes nothing.
    assert!(emu.add_association(
        "havip-demo",
        "i-demo",
        InstanceType::EnsInstance,
        AssociationStatus::Unassociating
    ));
    let body = create(&emu, &[("VSwitchId", "vsw-demo")]).await.assert_ok();
    let fresh = created_ids(&body).remove(0);
    emu.complete_transitions();
    assert!(emu.add_association(
        "havip-demo",
        "i-demo",
        InstanceType::EnsInstance,
        AssociationStatus::InUse
    ));
    let both = format!(r#"["{fresh}", "havip-demo"]"#);
    let r = v1_call(&emu, "POST", "DeleteHaVips", &[("HaVipIds", &both)]).await;
    r.assert_error(400, "IncorrectHaVipStatus");
    assert!(r.json()["Message"].as_str().unwrap().contains("associated"));
    assert_eq!(emu.ha_vip(&fresh).unwrap().status, HaVipStatus::Available);
    // Deleting twice: the second is refused.
    let one = format!(r#"["{fresh}"]"#);
    v1_call(&emu, "POST", "DeleteHaVips", &[("HaVipIds", &one)])
        .await
        .assert_ok();
    v1_call(&emu, "POST", "DeleteHaVips", &[("HaVipIds", &one)])
        .await
        .assert_error(400, "IncorrectHaVipStatus");
    // The name rule on Modify, and the rename itself.
    v1_call(
        &emu,
        "POST",
        "ModifyHaVipAttribute",
        &[("HaVipId", "havip-demo"), ("Name", "新名字")],
    )
    .await
    .assert_ok();
    assert_eq!(emu.ha_vip("havip-demo").unwrap().name, "新名字");
}

#[tokio::test]
async fn seeded_associations_take_any_status() {
    let emu = Emulator::builder()
        .demo()
        .associate_delay(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    for (instance, status) in [
        ("i-demo", AssociationStatus::InUse),
        ("i-demo-2", AssociationStatus::Associating),
        ("eni-demo", AssociationStatus::Unassociating),
    ] {
        let kind = if instance.starts_with("eni") {
            InstanceType::NetworkInterface
        } else {
            InstanceType::EnsInstance
        };
        assert!(emu.add_association("havip-demo", instance, kind, status));
    }
    let h = emu.ha_vip("havip-demo").unwrap();
    assert_eq!(h.status, HaVipStatus::InUse);
    assert!(h.is_in_use_by("i-demo"));
    assert_eq!(
        h.association("i-demo-2").unwrap().status,
        AssociationStatus::Associating
    );
    assert_eq!(
        h.association("eni-demo").unwrap().instance_type,
        InstanceType::NetworkInterface
    );
    assert!(!emu.add_association(
        "havip-nope",
        "i-demo",
        InstanceType::EnsInstance,
        AssociationStatus::InUse
    ));
    emu.complete_transitions();
    let h = emu.ha_vip("havip-demo").unwrap();
    assert!(h.is_in_use_by("i-demo-2"));
    assert!(h.association("eni-demo").is_none());
}

#[tokio::test]
async fn a_permanent_refusal_comes_before_a_busy_havip() {
    let emu = Emulator::start_demo().await.unwrap();
    associate(&emu, "havip-demo", "i-demo").await.assert_ok();
    assert_eq!(
        emu.ha_vip("havip-demo").unwrap().status,
        HaVipStatus::Associating
    );
    // Busy with i-demo: a good second instance must wait …
    associate(&emu, "havip-demo", "i-demo-2")
        .await
        .assert_error(400, "IncorrectHaVipStatus");
    // … but one that can never be associated hears so at once.
    associate(&emu, "havip-demo", "i-other")
        .await
        .assert_error(400, "IncorrectInstanceVSwitch");
    associate(&emu, "havip-demo", "i-starting")
        .await
        .assert_error(400, "IncorrectInstanceStatus");
}

#[tokio::test]
async fn faults_apply_to_the_new_actions() {
    let emu = Emulator::start_demo().await.unwrap();
    emu.inject("CreateHaVip", Fault::service_unavailable(), 1);
    emu.inject("DeleteHaVips", Fault::DropBeforeApply, 1);
    emu.inject("ModifyHaVipAttribute", Fault::throttling(), 1);
    create(&emu, &[("VSwitchId", "vsw-demo")])
        .await
        .assert_error(503, "ServiceUnavailable");
    v1_call(
        &emu,
        "POST",
        "ModifyHaVipAttribute",
        &[("HaVipId", "havip-demo"), ("Name", "x")],
    )
    .await
    .assert_error(400, "Throttling.User");
    assert_eq!(emu.faults_pending(), 1);
    assert_eq!(emu.ha_vips().len(), 2, "the faulted create made nothing");
}
