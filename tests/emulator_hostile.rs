//! The emulator against hostile peers on 127.0.0.1: huge or many parameters, slow drips,
//! clients that never read, overlong nonces, forged log lines, repeated parameters. Each test
//! asserts structure (what the request log keeps, byte counts, whether a connection was closed,
//! codes), never speed, and stops by itself within a few seconds.

use std::time::{Duration, Instant};

use alibabacloud_ens::emulator::{Emulator, RequestRecord, DEFAULT_ACCESS_KEY_SECRET};
use alibabacloud_ens::signer::{self, v1, v3, SigningParams};
use alibabacloud_ens::HaVipStatus;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;
use common::answer::Answer;

const FORM: &str = "application/x-www-form-urlencoded";
/// How long any test waits for the emulator to close a connection: far above the 1 s request
/// timeout the tests configure, far below the 30 s default.
const PATIENCE: Duration = Duration::from_secs(10);

async fn send(
    emu: &Emulator,
    method: &str,
    query: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> Answer {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = client
        .request(method, format!("{}/?{query}", emu.endpoint()))
        .timeout(PATIENCE)
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    Answer::read(req.send().await.expect("an answer")).await
}

fn encode(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                signer::percent_encode(k),
                signer::percent_encode(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `params` (which may repeat a name, `Action` included) with V1's common parameters and a
/// signature over all of them, as the gateway computes it.
fn sign_v1(
    emu: &Emulator,
    method: &str,
    params: &[(&str, &str)],
    nonce: &str,
) -> Vec<(String, String)> {
    let timestamp = signer::format_timestamp(time::OffsetDateTime::now_utc());
    let mut all: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (k, v) in [
        ("Version", "2017-11-10"),
        ("AccessKeyId", emu.access_key_id()),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", nonce),
        ("Timestamp", timestamp.as_str()),
        ("Format", "JSON"),
    ] {
        all.push((k.to_owned(), v.to_owned()));
    }
    let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let signature = v1::signature(
        DEFAULT_ACCESS_KEY_SECRET,
        &v1::string_to_sign(method, &refs),
    );
    all.push(("Signature".to_owned(), signature));
    all
}

fn nonce() -> String {
    signer::new_nonce().unwrap()
}

/// The bytes of text a record keeps, from its public fields.
fn kept_bytes(r: &RequestRecord) -> usize {
    let opt = |s: &Option<String>| s.as_deref().map_or(0, str::len);
    r.request_id.len()
        + r.http_method.len()
        + opt(&r.action)
        + opt(&r.access_key_id)
        + opt(&r.nonce)
        + r.code.len()
        + r.params
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
}

/// Waits until the server closes `stream` (EOF or an error), for at most [`PATIENCE`], writing
/// `drip` (when given) every 100 ms meanwhile. Returns whether it closed and what it sent.
async fn wait_for_close(stream: &mut TcpStream, drip: Option<&[u8]>) -> (bool, Vec<u8>) {
    let start = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    while start.elapsed() < PATIENCE {
        if let Some(bytes) = drip {
            if stream.write_all(bytes).await.is_err() {
                return (true, received);
            }
        }
        match tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (true, received),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    (false, received)
}

async fn quick_emulator() -> Emulator {
    Emulator::builder()
        .demo()
        .request_timeout(Duration::from_secs(1))
        .start()
        .await
        .unwrap()
}

// ------------------------------------------------------------------ finding 1: the request log

fn assert_summary(r: &RequestRecord) {
    assert!(!r.authenticated);
    assert!(r.params.is_empty(), "{} parameters kept", r.params.len());
    assert!(r.access_key_id.is_none() && r.nonce.is_none());
    assert!(kept_bytes(r) < 256, "{} bytes kept", kept_bytes(r));
}

/// POSTs `body` as a form.
async fn post_form(emu: &Emulator, body: &str) -> Answer {
    send(
        emu,
        "POST",
        "",
        &[("content-type", FORM.to_owned())],
        body.as_bytes().to_vec(),
    )
    .await
}

/// POSTs signed parameters as a form.
async fn post_signed(emu: &Emulator, signed: &[(String, String)]) -> Answer {
    post_form(emu, &encode(signed)).await
}

/// Unauthenticated requests with ~1 MiB of parameters, and a 32 KB query, are kept as
/// summaries of a few dozen bytes (they were kept whole: ~1 MiB and ~1.26 MB each).
#[tokio::test]
async fn unauthenticated_requests_are_logged_as_small_summaries() {
    let emu = Emulator::start_demo().await.unwrap();
    // 1,000 parameters of ~1 KB: decoded, refused by authentication.
    let value = "v".repeat(1030);
    let wide: String = (0..1000).map(|i| format!("p{i}={value}&")).collect();
    assert!(wide.len() < 1 << 20 && wide.len() > 1_000_000);
    for _ in 0..3 {
        let a = post_form(&emu, &wide).await;
        assert_eq!((a.status, a.code()), (400, "MissingAction"));
    }
    let query = format!("Action=DescribeHaVips&Q={}", "a".repeat(32_000));
    let a = send(&emu, "GET", &query, &[], Vec::new()).await;
    assert_eq!((a.status, a.code()), (400, "MissingVersion"));

    let records = emu.requests();
    assert_eq!(records.len(), 4);
    records.iter().for_each(assert_summary);
    assert_eq!(records[0].param_count, 1000);
    assert_eq!(records[0].code, "MissingAction");
    assert_eq!(records[3].param_count, 2);
    assert_eq!(records[3].action.as_deref(), Some("DescribeHaVips"));

    // ~145,000 tiny parameters: refused before they are decoded.
    let mut many = String::new();
    let mut names = 0;
    while many.len() < (1 << 20) - 16 {
        many.push_str(&format!("p{names}&"));
        names += 1;
    }
    assert!(many.len() < 1 << 20 && many.len() > 1_000_000);
    emu.clear_requests();
    for _ in 0..3 {
        let a = post_form(&emu, &many).await;
        assert_eq!((a.status, a.code()), (400, "InvalidParameter"));
    }
    let records = emu.requests();
    assert_eq!(records.len(), 3);
    records.iter().for_each(assert_summary);
    assert_eq!(records[0].param_count, names);
}

/// A signed request with 900 parameters of 1,000 bytes keeps at most 32 of them, cut, in a
/// record of a few KiB.
#[tokio::test]
async fn authenticated_requests_keep_few_cut_parameters() {
    let emu = Emulator::start_demo().await.unwrap();
    let big = "v".repeat(1000);
    let names: Vec<String> = (0..900)
        .map(|i| format!("{}{i}", "N".repeat(100)))
        .collect();
    let mut params: Vec<(&str, &str)> = vec![("Action", "DescribeHaVips")];
    params.extend(names.iter().map(|n| (n.as_str(), big.as_str())));
    let signed = sign_v1(&emu, "POST", &params, &nonce());
    let a = post_signed(&emu, &signed).await;
    assert_eq!(a.status, 200, "{}", a.json);
    let records = emu.requests();
    let r = &records[0];
    assert!(r.authenticated);
    assert_eq!(r.param_count, 900 + 9);
    assert!(r.params.len() <= 32, "{} parameters kept", r.params.len());
    assert!(!r.params.is_empty());
    for (k, v) in &r.params {
        assert!(k.len() <= 64 && v.len() <= 256, "{} / {}", k.len(), v.len());
        assert!(v.ends_with('…'));
    }
    assert!(kept_bytes(r) <= 3 << 10, "{} bytes kept", kept_bytes(r));
}

// ------------------------------------------------------------------ finding 2: time and frames

/// A body dripped a byte at a time: the connection is closed (without an answer) at the
/// request timeout; it used to be held forever.
#[tokio::test]
async fn a_dripped_body_is_cut_off_at_the_request_timeout() {
    let emu = quick_emulator().await;
    let mut s = TcpStream::connect(emu.local_addr()).await.unwrap();
    s.write_all(
        b"POST /?Action=DescribeHaVips HTTP/1.1\r\nHost: x\r\n\
          Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n",
    )
    .await
    .unwrap();
    let (closed, received) = wait_for_close(&mut s, Some(b"a")).await;
    assert!(closed, "still open after {PATIENCE:?}");
    assert!(
        received.is_empty(),
        "{}",
        String::from_utf8_lossy(&received)
    );
    // The server lives on.
    let a = send(&emu, "GET", "Action=DescribeHaVips", &[], Vec::new()).await;
    assert_eq!(a.code(), "MissingVersion");
}

/// A head dripped a byte at a time, and an idle connection, are closed at the request timeout.
#[tokio::test]
async fn a_dripped_head_and_an_idle_connection_are_cut_off() {
    let emu = quick_emulator().await;
    let mut s = TcpStream::connect(emu.local_addr()).await.unwrap();
    s.write_all(b"GET /?Action=").await.unwrap();
    let (closed, _) = wait_for_close(&mut s, Some(b"a")).await;
    assert!(closed, "dripped head: still open after {PATIENCE:?}");

    let mut idle = TcpStream::connect(emu.local_addr()).await.unwrap();
    let (closed, _) = wait_for_close(&mut idle, None).await;
    assert!(closed, "idle: still open after {PATIENCE:?}");

    // A keep-alive connection that answered once is closed once idle too.
    let mut used = TcpStream::connect(emu.local_addr()).await.unwrap();
    used.write_all(b"GET /?Action=DescribeHaVips HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (closed, received) = wait_for_close(&mut used, None).await;
    assert!(closed, "keep-alive: still open after {PATIENCE:?}");
    assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 400"));
}

/// A client that pipelines requests and never reads the answers: the write that cannot
/// proceed fails at the request timeout and the connection is closed.
#[tokio::test]
async fn a_client_that_never_reads_is_cut_off() {
    let emu = quick_emulator().await;
    for i in 0..100 {
        emu.add_ha_vip(&format!("havip-{i:03}"), "vsw-demo", HaVipStatus::Available);
    }
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut s = socket.connect(emu.local_addr()).await.unwrap();
    // ~35 KB per answer, ~10 MB in all: more than the socket buffers can hold (the send buffer
    // grows to 4 MiB at most by default; the client's receive buffer stays small).
    const REQUESTS: usize = 300;
    let mut requests = Vec::new();
    for _ in 0..REQUESTS {
        let signed = sign_v1(
            &emu,
            "GET",
            &[("Action", "DescribeHaVips"), ("PageSize", "100")],
            &nonce(),
        );
        requests.extend_from_slice(
            format!("GET /?{} HTTP/1.1\r\nHost: x\r\n\r\n", encode(&signed)).as_bytes(),
        );
    }
    s.write_all(&requests).await.unwrap();
    // Do not read for longer than the timeout…
    tokio::time::sleep(Duration::from_secs(3)).await;
    // …then read what is there: the server has given up.
    let mut received = Vec::new();
    let outcome = tokio::time::timeout(PATIENCE, s.read_to_end(&mut received)).await;
    assert!(outcome.is_ok(), "still open after {PATIENCE:?}");
    let answers = String::from_utf8_lossy(&received)
        .matches("HTTP/1.1 200")
        .count();
    assert!(answers < REQUESTS, "all {answers} answers were written");
}

// ------------------------------------------------------------------ finding 3: nonces

/// A nonce longer than 128 bytes is refused (it was stored three times, any length); 128 is
/// fine.
#[tokio::test]
async fn overlong_nonces_are_refused() {
    let emu = Emulator::start_demo().await.unwrap();
    let long = "n".repeat(1_000_000);
    let signed = sign_v1(&emu, "POST", &[("Action", "DescribeHaVips")], &long);
    let a = post_signed(&emu, &signed).await;
    assert_eq!(
        (a.status, a.code()),
        (400, "InvalidParameter.SignatureNonce")
    );
    assert!(a.message().contains("128"), "{}", a.message());

    let ok = "n".repeat(128);
    let signed = sign_v1(&emu, "GET", &[("Action", "DescribeHaVips")], &ok);
    let a = send(&emu, "GET", &encode(&signed), &[], Vec::new()).await;
    assert_eq!(a.status, 200, "{}", a.json);

    // V3: the x-acs-signature-nonce header.
    let host = emu.local_addr().to_string();
    for (nonce, expected) in [("m".repeat(129), 400), ("m".repeat(128), 200)] {
        let signing = SigningParams::new(
            emu.access_key_id(),
            DEFAULT_ACCESS_KEY_SECRET,
            time::OffsetDateTime::now_utc(),
            &nonce,
        );
        let signed = v3::sign(
            &v3::V3Request {
                method: "GET",
                host: &host,
                action: "DescribeHaVips",
                version: "2017-11-10",
                params: &[],
                extra_signed_headers: &[],
                body: b"",
            },
            &signing,
        );
        let headers: Vec<(&str, String)> = signed
            .headers
            .iter()
            .map(|(k, v)| (*k, v.to_string()))
            .collect();
        // No API parameters: the query is empty.
        let a = send(&emu, "GET", "", &headers, Vec::new()).await;
        assert_eq!(a.status, expected, "{}", a.json);
        if expected == 400 {
            assert_eq!(a.code(), "InvalidParameter.SignatureNonce");
        }
    }
    let records = emu.requests();
    assert!(records.iter().all(|r| kept_bytes(r) < 1024));
}

// ------------------------------------------------------------------ finding 4: log lines

fn assert_safe_line(line: &str) {
    assert!(
        !line.chars().any(|c| c.is_control()),
        "a control character in {line:?}"
    );
    assert!(line.len() < 1500, "{} bytes", line.len());
}

/// Newlines, terminal escapes and 30 KB names cannot shape the log.
#[tokio::test]
async fn log_lines_cannot_be_forged() {
    let emu = Emulator::start_demo().await.unwrap();
    let long_name = "L".repeat(30_000);
    for query in [
        "Action=X%0AFAKE%20LOG".to_owned(),
        "Action=%1B%5B31mRED%0D".to_owned(),
        "Action=X%E2%80%AEtxt.exe".to_owned(),
        format!("{long_name}=1&Action=DescribeHaVips"),
    ] {
        send(&emu, "GET", &query, &[], Vec::new()).await;
    }
    // Authenticated, with a long name and a value holding CR LF and ESC.
    let signed = sign_v1(
        &emu,
        "POST",
        &[
            ("Action", "DescribeHaVips"),
            (&long_name, "a\r\nFAKE \u{1b}[2J"),
        ],
        &nonce(),
    );
    let a = post_signed(&emu, &signed).await;
    assert_eq!(a.status, 200, "{}", a.json);

    let lines: Vec<String> = emu.requests().iter().map(|r| r.log_line()).collect();
    assert_eq!(lines.len(), 5);
    for line in &lines {
        assert_safe_line(line);
    }
    assert!(lines[0].contains("X\\nFAKE LOG"), "{}", lines[0]);
    assert!(lines[1].contains("\\u{1b}[31mRED\\r"), "{}", lines[1]);
    assert!(lines[2].contains("X\\u{202e}txt.exe"), "{}", lines[2]);
    assert!(lines[4].contains("a\\r\\nFAKE \\u{1b}[2J"), "{}", lines[4]);
}

// ------------------------------------------------------------------ finding 5: repeated names

/// A request signed with `Action=AssociateHaVip&Action=DescribeHaVips` used to associate;
/// every repeated name is refused now, whatever the signature, and nothing is applied.
#[tokio::test]
async fn repeated_parameters_are_refused() {
    let emu = Emulator::start_demo().await.unwrap();
    let ids = [("HaVipId", "havip-demo"), ("InstanceId", "i-demo")];

    let mut params = vec![("Action", "AssociateHaVip"), ("Action", "DescribeHaVips")];
    params.extend(ids);
    let signed = sign_v1(&emu, "GET", &params, &nonce());
    let a = send(&emu, "GET", &encode(&signed), &[], Vec::new()).await;
    assert_eq!((a.status, a.code()), (400, "InvalidParameter"));
    assert_eq!(a.message(), "The parameter Action is repeated.");

    // Across the query and the form body.
    let mut params = vec![("Action", "AssociateHaVip")];
    params.extend(ids);
    params.push(("HaVipId", "havip-creating"));
    let signed = sign_v1(&emu, "POST", &params, &nonce());
    let (query, form): (Vec<_>, Vec<_>) =
        signed.into_iter().enumerate().partition(|(i, _)| *i != 3);
    let strip = |v: Vec<(usize, (String, String))>| -> Vec<(String, String)> {
        v.into_iter().map(|(_, p)| p).collect()
    };
    let a = send(
        &emu,
        "POST",
        &encode(&strip(query)),
        &[("content-type", FORM.to_owned())],
        encode(&strip(form)).into_bytes(),
    )
    .await;
    assert_eq!((a.status, a.code()), (400, "InvalidParameter"));
    assert_eq!(a.message(), "The parameter HaVipId is repeated.");

    // Within the form body.
    let mut params = vec![("Action", "AssociateHaVip")];
    params.extend(ids);
    params.push(("InstanceId", "i-demo-2"));
    let signed = sign_v1(&emu, "POST", &params, &nonce());
    let a = post_signed(&emu, &signed).await;
    assert_eq!(a.message(), "The parameter InstanceId is repeated.");

    // V3: a repeated query parameter.
    let a = send(
        &emu,
        "GET",
        "HaVipId=havip-demo&HaVipId=havip-creating",
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(a.message(), "The parameter HaVipId is repeated.");

    emu.complete_transitions();
    let havip = emu.ha_vip("havip-demo").unwrap();
    assert!(havip.associated_instances.is_empty(), "{havip:?}");
    assert!(emu.requests().iter().all(|r| r.code == "InvalidParameter"));
}
