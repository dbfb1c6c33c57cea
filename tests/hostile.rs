//! What a hostile or broken server sends is data: bounded and escaped in errors, outputs and
//! logs; `Retry-After` honoured or returned at once; the worst case of a silent server counted.
//! Each test reproduces a finding of the hostile-peer probe against a server it starts on
//! 127.0.0.1.

mod common;

use std::time::Duration;

use alibabacloud_ens::clock::ManualClock;
use alibabacloud_ens::error::TimeoutKind;
use alibabacloud_ens::{Error, ErrorCode, RetryConfig};
use common::capture::Capture;
use common::*;

fn no_control_chars(text: &str) -> bool {
    !text.chars().any(|c| c.is_control() && c != '\n')
}

#[tokio::test(flavor = "current_thread")]
async fn a_huge_message_with_control_characters_is_bounded_and_escaped() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let server = TestServer::start().await;
    let message = format!(
        "first\nFAKE LOG LINE \u{1b}[31mred {}",
        "m".repeat(4_000_000)
    );
    server.push(Reply::Json(
        400,
        serde_json::json!({
            "RequestId": "REQ\r\nforged: yes",
            "Code": "HaVipNotFound",
            "Message": message,
            "Recommend": format!("https://x/{}", "r".repeat(100_000)),
            "HostId": "h\u{7}",
        })
        .to_string(),
    ));
    let client = client_for(&server)
        .retry_config(RetryConfig::disabled())
        .build()
        .unwrap();
    let e = client
        .associate_ha_vip()
        .ha_vip_id("havip-1")
        .instance_id("i-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::HaVipNotFound));
    let shown = e.to_string();
    assert!(
        shown.chars().count() < 2000,
        "{} chars",
        shown.chars().count()
    );
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
    assert!(
        shown.contains(r"first\nFAKE LOG LINE \u{1b}[31mred"),
        "{shown}"
    );
    let s = e.as_service_error().unwrap();
    assert!(s.message.chars().count() <= alibabacloud_ens::error::MAX_MESSAGE_CHARS);
    let id = e.request_id().unwrap();
    assert!(!id.chars().any(char::is_control), "{id:?}");
    // Every level of logging: the whole capture is small and holds no raw control character.
    let logged = capture.all_text();
    assert!(logged.len() < 64 * 1024, "{} bytes logged", logged.len());
    for line in logged.lines() {
        assert!(no_control_chars(line), "{line:?}");
        assert!(!line.contains("FAKE LOG LINE \u{1b}"), "{line:?}");
    }
}

#[tokio::test]
async fn a_successful_answer_with_a_hostile_request_id_is_bounded() {
    let server = TestServer::start().await;
    let long = format!("{}\n\u{1b}[2J", "x".repeat(3_000_000));
    server.push(Reply::Json(
        200,
        serde_json::json!({ "RequestId": long }).to_string(),
    ));
    server.push(Reply::Json(200, r#"{"requestId":"lower-camel-ok"}"#.into()));
    let client = client_for(&server).build().unwrap();
    let out = client
        .associate_ha_vip()
        .ha_vip_id("havip-1")
        .instance_id("i-1")
        .send()
        .await
        .unwrap();
    let id = out.request_id();
    assert!(id.chars().count() <= 129, "{} chars", id.chars().count());
    assert!(!id.chars().any(char::is_control), "{id:?}");
    // A success body with only the lower-camel key is read like an error body's.
    let out = client
        .associate_ha_vip()
        .ha_vip_id("havip-1")
        .instance_id("i-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.request_id(), "lower-camel-ok");
}

#[tokio::test]
async fn invalid_utf8_in_an_error_body_keeps_code_and_request_id() {
    let server = TestServer::start().await;
    server.push(Reply::Raw(
        400,
        "application/json",
        b"{\"RequestId\":\"REQ-utf8\",\"Code\":\"IncorrectHaVipStatus\",\"Message\":\"bad \xff\xfe\"}"
            .to_vec(),
    ));
    let e = client_for(&server)
        .build()
        .unwrap()
        .describe_ha_vips()
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::IncorrectHaVipStatus));
    assert_eq!(e.request_id(), Some("REQ-utf8"));
    assert_eq!(e.http_status(), Some(400));
}

/// A 429 whose `Retry-After` is longer than the policy's largest backoff.
fn too_many(after: &str) -> Reply {
    Reply::RawWithHeaders(
        429,
        "text/plain",
        vec![("retry-after".into(), after.into())],
        b"slow down".to_vec(),
    )
}

#[tokio::test]
async fn a_retry_after_beyond_the_policy_returns_at_once_with_the_advice() {
    let server = TestServer::start().await;
    server.push(too_many("3600"));
    let clock = ManualClock::new();
    let client = client_for(&server).clock(clock.clone()).build().unwrap();
    let e = client.describe_ha_vips().send().await.unwrap_err();
    assert_eq!(e.http_status(), Some(429));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(e.attempts(), Some(1));
    assert_eq!(server.requests().len(), 1);
    assert!(clock.sleeps().is_empty(), "{:?}", clock.sleeps());

    // Beyond the operation's time left: the same.
    server.push(Reply::RawWithHeaders(
        503,
        "application/json",
        vec![("retry-after".into(), "8".into())],
        br#"{"RequestId":"R","Code":"ServiceUnavailable","Message":"busy"}"#.to_vec(),
    ));
    let e = client
        .describe_ha_vips()
        .operation_timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::ServiceUnavailable));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(8)));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_retry_after_within_the_policy_is_honoured() {
    let server = TestServer::start().await;
    server.push(Reply::RawWithHeaders(
        400,
        "application/json",
        vec![("retry-after".into(), "3".into())],
        br#"{"RequestId":"R","Code":"Throttling.User","Message":"flow control"}"#.to_vec(),
    ));
    server.push(ok_request_id("after-waiting"));
    let clock = ManualClock::new();
    let client = client_for(&server).clock(clock.clone()).build().unwrap();
    let out = client.describe_ha_vips().send().await.unwrap();
    assert_eq!(out.request_id(), "after-waiting");
    assert_eq!(clock.sleeps().len(), 1);
    assert!(
        clock.sleeps()[0] >= Duration::from_secs(3),
        "{:?}",
        clock.sleeps()
    );
}

#[tokio::test]
async fn a_silent_server_costs_attempts_and_checks_and_the_error_counts_both() {
    let server = TestServer::start().await;
    server.set_fallback(Reply::Delay(
        Duration::from_secs(3600),
        Box::new(ok_request_id("never")),
    ));
    let clock = ManualClock::new();
    let client = client_for(&server).clock(clock.clone()).build().unwrap();
    // Drive every read timeout: whenever a call waits on one, move the clock past it.
    let driver = {
        let clock = clock.clone();
        tokio::spawn(async move {
            loop {
                if clock.pending_timers() > 0 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    clock.advance(Duration::from_secs(10));
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    let e = client
        .associate_ha_vip()
        .ha_vip_id("havip-1")
        .instance_id("i-1")
        .send()
        .await
        .unwrap_err();
    driver.abort();
    match &e {
        Error::Timeout(t) => assert_eq!(t.kind, TimeoutKind::Read),
        other => panic!("{other:?}"),
    }
    // 3 writes, each followed by a DescribeHaVips check of whether it took effect.
    assert_eq!((e.attempts(), e.probes()), (Some(3), Some(3)));
    assert!(
        e.to_string()
            .contains("after 3 attempts and 3 checks of whether the write took effect"),
        "{e}"
    );
    let actions: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.param("Action").unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        actions,
        [
            "AssociateHaVip",
            "DescribeHaVips",
            "AssociateHaVip",
            "DescribeHaVips",
            "AssociateHaVip",
            "DescribeHaVips"
        ]
    );
}

#[tokio::test]
async fn an_operation_timeout_that_cuts_a_write_says_its_outcome_is_unknown() {
    let server = TestServer::start().await;
    server.set_fallback(Reply::Delay(
        Duration::from_secs(3600),
        Box::new(ok_request_id("never")),
    ));
    let clock = ManualClock::new();
    let client = client_for(&server)
        .clock(clock.clone())
        .operation_timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    let driver = {
        let clock = clock.clone();
        tokio::spawn(async move {
            loop {
                if clock.pending_timers() > 1 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    clock.advance(Duration::from_secs(10));
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    let e = client
        .unassociate_ha_vip()
        .ha_vip_id("havip-1")
        .instance_id("i-1")
        .send()
        .await
        .unwrap_err();
    driver.abort();
    match &e {
        Error::Timeout(t) => {
            assert_eq!(t.kind, TimeoutKind::Operation);
            assert!(t.write_outcome_unknown);
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("may have taken effect"), "{e}");
}
