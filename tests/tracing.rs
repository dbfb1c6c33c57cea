//! Operations and attempts are traced with their action, attempt number, request id, HTTP
//! status, error code and latency — and never a secret.

mod common;

use alibabacloud_ens::clock::ManualClock;
use alibabacloud_ens::Credentials;
use common::capture::{field, Capture};
use common::*;

#[tokio::test(flavor = "current_thread")]
async fn spans_carry_the_attempt_story_and_no_secret() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());

    let server = TestServer::start().await;
    server.push(Reply::Raw(503, "text/html", b"<html>down</html>".to_vec()));
    // The 503 leaves the outcome unknown: the client checks with DescribeHaVips.
    server.push(describe_reply("Available", &[]));
    server.push(error_reply(400, "Throttling.User"));
    server.push(ok_request_id("REQ-OK"));
    let client = alibabacloud_ens::Client::builder()
        .endpoint(server.endpoint())
        .credentials(Credentials::with_security_token(AK, SECRET, TOKEN))
        .clock(ManualClock::new())
        .build()
        .unwrap();
    client
        .associate_ha_vip()
        .ha_vip_id("havip-1")
        .instance_id("i-1")
        .send()
        .await
        .unwrap();

    let spans = capture.spans.lock().unwrap().clone();
    let is_associate = |f: &[(String, String)]| field(f, "action") == Some("AssociateHaVip");
    let ops: Vec<_> = spans
        .iter()
        .filter(|(n, f)| n == "ens_operation" && is_associate(f))
        .collect();
    let attempts: Vec<_> = spans
        .iter()
        .filter(|(n, f)| n == "ens_attempt" && is_associate(f))
        .collect();
    assert_eq!(ops.len(), 1);
    let checks = spans
        .iter()
        .filter(|(n, f)| n == "ens_operation" && field(f, "action") == Some("DescribeHaVips"))
        .count();
    assert_eq!(checks, 1);
    assert_eq!(attempts.len(), 3);
    let op = &ops[0].1;
    assert_eq!(field(op, "action"), Some("AssociateHaVip"));
    assert_eq!(field(op, "attempts"), Some("3"));
    assert_eq!(field(op, "outcome"), Some("success"));
    assert_eq!(field(attempts[0].1.as_slice(), "http_status"), Some("503"));
    assert_eq!(field(&attempts[1].1, "error_code"), Some("Throttling.User"));
    assert_eq!(
        field(&attempts[1].1, "request_id"),
        Some("REQ-Throttling.User")
    );
    assert_eq!(field(&attempts[2].1, "attempt"), Some("3"));
    assert_eq!(field(&attempts[2].1, "request_id"), Some("REQ-OK"));
    assert_eq!(field(&attempts[2].1, "http_status"), Some("200"));
    for (_, f) in &attempts {
        assert!(field(f, "latency_ms").is_some());
    }
    let everything = format!("{spans:?}{:?}", capture.lines.lock().unwrap());
    assert!(
        !everything.contains(SECRET) && !everything.contains(TOKEN),
        "{everything}"
    );
    assert!(!everything.contains("Signature"), "{everything}");
    assert!(capture
        .lines
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("retrying")));
}

/// Issue 17 §4: with a subscriber at INFO (`RUST_LOG=info`), each retry is one event and each
/// safe-write check one event; nothing else reaches INFO, and the crate logs no WARN or ERROR
/// (the final failure is the caller's to report).
#[tokio::test(flavor = "current_thread")]
async fn at_info_each_retry_and_each_check_is_one_event() {
    use alibabacloud_ens::emulator::{Emulator, Fault};
    use tracing::Level;

    let capture = Capture::at_most(Level::INFO);
    let _guard = tracing::subscriber::set_default(capture.clone());
    let emu = Emulator::start_demo().await.unwrap();
    let client = emu
        .client_builder()
        .clock(ManualClock::new())
        .build()
        .unwrap();

    // Two throttles, then the answer: two retries.
    emu.inject("DescribeHaVips", Fault::throttling(), 2);
    client.describe_ha_vips().send().await.unwrap();
    let retries = capture.events_saying("retrying");
    assert_eq!(retries.len(), 2, "{retries:?}");
    for (i, f) in retries.iter().enumerate() {
        assert_eq!(field(f, "action"), Some("DescribeHaVips"));
        assert_eq!(field(f, "attempt"), Some((i + 1).to_string().as_str()));
        assert_eq!(field(f, "error_code"), Some("Throttling.User"));
        assert_eq!(field(f, "error_kind"), Some("service_error"));
        assert_eq!(field(f, "http_status"), Some("400"));
        assert!(field(f, "backoff_ms").is_some_and(|ms| ms.parse::<u64>().is_ok()));
    }

    // A write whose answer is lost after it applied: one check, which finds it done; no retry.
    emu.inject("AssociateHaVip", Fault::DropAfterApply, 1);
    let out = client
        .associate_ha_vip()
        .ha_vip_id("havip-demo")
        .instance_id("i-demo")
        .send()
        .await
        .unwrap();
    assert!(out.already_associated());
    let checks = capture.events_saying("checked whether the write took effect");
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert_eq!(field(&checks[0], "action"), Some("AssociateHaVip"));
    assert_eq!(field(&checks[0], "attempt"), Some("1"));
    assert_eq!(
        field(&checks[0], "checked"),
        Some("whether i-demo is associated with havip-demo")
    );
    assert_eq!(field(&checks[0], "verdict"), Some("applied"));

    // A final failure is returned, not logged: three throttles, three attempts, two retries.
    emu.inject("DescribeHaVips", Fault::throttling(), 3);
    let e = client.describe_ha_vips().send().await.unwrap_err();
    assert_eq!(e.attempts(), Some(3));
    assert_eq!(capture.events_saying("retrying").len(), 4);

    // Nothing else was seen: no DEBUG (filtered), no WARN or ERROR.
    let events = capture.events.lock().unwrap();
    assert_eq!(events.len(), 5, "{events:?}");
    assert!(events.iter().all(|(level, _)| *level == Level::INFO));
}
