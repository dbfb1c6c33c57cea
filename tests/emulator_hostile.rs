//! The emulator against hostile peers on 127.0.0.1: huge or many parameters, slow drips,
//! clients that never read, overlong nonces, forged log lines, repeated parameters. Each test
//! asserts structure (what the request log keeps, byte counts, whether a connection was closed,
//! codes), never speed, and stops by itself within a few seconds.

use std::time::Duration;

use alibabacloud_ens::emulator::{Emulator, DEFAULT_ACCESS_KEY_SECRET};
use alibabacloud_ens::signer::{self, v1, v3, SigningParams};
use serde_json::Value;

const FORM: &str = "application/x-www-form-urlencoded";
/// How long any test waits for an answer.
const PATIENCE: Duration = Duration::from_secs(10);

struct Answer {
    status: u16,
    json: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.json["Code"].as_str().unwrap_or("")
    }

    fn message(&self) -> &str {
        self.json["Message"].as_str().unwrap_or("")
    }
}

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
    let resp = req.send().await.expect("an answer");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("a body");
    Answer {
        status,
        json: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
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

// ------------------------------------------------------------------ finding 3: nonces

/// A nonce longer than 128 bytes is refused (it was stored three times, any length); 128 is
/// fine.
#[tokio::test]
async fn overlong_nonces_are_refused() {
    let emu = Emulator::start_demo().await.unwrap();
    let long = "n".repeat(1_000_000);
    let signed = sign_v1(&emu, "POST", &[("Action", "DescribeHaVips")], &long);
    let a = send(
        &emu,
        "POST",
        "",
        &[("content-type", FORM.to_owned())],
        encode(&signed).into_bytes(),
    )
    .await;
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
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        let a = send(&emu, "GET", &signed.query, &headers, Vec::new()).await;
        assert_eq!(a.status, expected, "{}", a.json);
        if expected == 400 {
            assert_eq!(a.code(), "InvalidParameter.SignatureNonce");
        }
    }
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
    let a = send(
        &emu,
        "POST",
        "",
        &[("content-type", FORM.to_owned())],
        encode(&signed).into_bytes(),
    )
    .await;
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
