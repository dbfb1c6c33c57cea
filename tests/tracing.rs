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
