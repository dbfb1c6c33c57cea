//! Retries, safe writes and time limits, against a scripted server on 127.0.0.1.

mod common;

use std::time::Duration;

use alibabacloud_ens::clock::ManualClock;
use alibabacloud_ens::error::TimeoutKind;
use alibabacloud_ens::{Error, ErrorCode, RetryConfig};
use common::*;

fn html_503() -> Reply {
    Reply::Raw(
        503,
        "text/html",
        b"<html><body>503 Service Temporarily Unavailable</body></html>".to_vec(),
    )
}

#[tokio::test]
async fn html_503_then_throttling_then_success_takes_three_attempts_with_three_nonces() {
    let server = TestServer::start().await;
    server.push(html_503());
    // The 503 leaves the outcome unknown: the client checks before writing again.
    server.push(describe_reply("Available", &[]));
    server.push(error_reply(400, "Throttling.User"));
    server.push(ok_request_id("FINAL"));
    let clock = ManualClock::new();
    let client = client_for(&server).clock(clock.clone()).build().unwrap();
    let out = client
        .associate_ha_vip()
        .ha_vip_id("havip-1")
        .instance_id("i-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.request_id(), "FINAL");
    assert_eq!(out.attempts(), 3);
    assert!(!out.already_associated());
    let all = server.requests();
    let actions: Vec<&str> = all.iter().map(|r| r.param("Action").unwrap()).collect();
    assert_eq!(
        actions,
        [
            "AssociateHaVip",
            "DescribeHaVips",
            "AssociateHaVip",
            "AssociateHaVip"
        ]
    );
    let reqs: Vec<_> = all
        .iter()
        .filter(|r| r.param("Action") == Some("AssociateHaVip"))
        .collect();
    let mut nonces: Vec<&str> = reqs
        .iter()
        .map(|r| r.param("SignatureNonce").unwrap())
        .collect();
    nonces.dedup();
    assert_eq!(nonces.len(), 3);
    for r in &reqs {
        assert_eq!(
            r.param("Signature").unwrap(),
            reference_v1("POST", &r.query, SECRET)
        );
    }
    // Two backoff sleeps, full jitter under the 100 ms / 200 ms ceilings.
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 2);
    assert!(
        sleeps[0] <= Duration::from_millis(100) && sleeps[1] <= Duration::from_millis(200),
        "{sleeps:?}"
    );
}

#[tokio::test]
async fn permanent_errors_are_not_retried() {
    for code in [
        "HaVipNotFound",
        "SignatureDoesNotMatch",
        "InvalidParameter.InstanceType",
        "InvalidAccessKeyId.NotFound",
        "IncorrectInstanceStatus",
    ] {
        let server = TestServer::start().await;
        server.push(error_reply(400, code));
        let client = client_for(&server)
            .clock(ManualClock::new())
            .build()
            .unwrap();
        let err = client
            .associate_ha_vip()
            .ha_vip_id("havip-1")
            .instance_id("i-1")
            .send()
            .await
            .unwrap_err();
        assert_eq!(server.requests().len(), 1, "{code}");
        assert_eq!(err.code().unwrap().to_string(), code);
        assert_eq!(err.attempts(), Some(1));
        assert_eq!(err.request_id(), Some(format!("REQ-{code}").as_str()));
        assert!(err.as_service_error().unwrap().recommend.is_some());
    }
}

#[tokio::test]
async fn retries_stop_at_max_attempts_and_report_the_count() {
    let server = TestServer::start().await;
    server.set_fallback(error_reply(503, "ServiceUnavailable"));
    let client = client_for(&server)
        .clock(ManualClock::new())
        .retry_config(RetryConfig::standard().with_max_attempts(4))
        .build()
        .unwrap();
    let err = client.describe_ha_vips().send().await.unwrap_err();
    assert_eq!(server.requests().len(), 4);
    assert_eq!(err.attempts(), Some(4));
    assert_eq!(err.code(), Some(&ErrorCode::ServiceUnavailable));
    assert!(err.to_string().contains("after 4 attempts"), "{err}");

    // Per call: off.
    let before = server.requests().len();
    let err = client
        .describe_ha_vips()
        .retry_config(RetryConfig::disabled())
        .send()
        .await
        .unwrap_err();
    assert_eq!(server.requests().len() - before, 1);
    assert_eq!(err.attempts(), Some(1));
}

#[tokio::test]
async fn a_dropped_connection_is_checked_before_writing_again() {
    // The check finds the association: no second write.
    let server = TestServer::start().await;
    server.push(Reply::Close);
    server.push(describe_reply("Associating", &[("i-1", "Associating")]));
    let client = client_for(&server)
        .clock(ManualClock::new())
        .build()
        .unwrap();
    let out = client
        .associate_ha_vip()
        .ha_vip_id("havip-1")
        .instance_id("i-1")
        .send()
        .await
        .unwrap();
    assert!(out.already_associated());
    assert_eq!(out.attempts(), 1);
    assert_eq!(out.request_id(), "DESCRIBE-REQ");
    let actions: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.param("Action").unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["AssociateHaVip", "DescribeHaVips"]);

    // The check does not find it: the write is retried.
    let server = TestServer::start().await;
    server.push(Reply::Close);
    server.push(describe_reply("Available", &[]));
    server.push(ok_request_id("SECOND"));
    let client = client_for(&server)
        .clock(ManualClock::new())
        .build()
        .unwrap();
    let out = client
        .associate_ha_vip()
        .ha_vip_id("havip-1")
        .instance_id("i-1")
        .send()
        .await
        .unwrap();
    assert!(!out.already_associated());
    assert_eq!((out.attempts(), out.request_id()), (2, "SECOND"));
}

#[tokio::test]
async fn a_dropped_connection_then_already_associated_is_success() {
    let server = TestServer::start().await;
    server.push(Reply::Close);
    // The check cannot tell (it fails), so the write is repeated and the service says it is done.
    server.push(Reply::Raw(
        502,
        "text/html",
        b"<html>bad gateway</html>".to_vec(),
    ));
    server.push(error_reply(400, "InstanceAlreadyAssociated"));
    let client = client_for(&server)
        .clock(ManualClock::new())
        .build()
        .unwrap();
    let out = client
        .associate_ha_vip()
        .ha_vip_id("havip-1")
        .instance_id("i-1")
        .send()
        .await
        .unwrap();
    assert!(out.already_associated());
    assert_eq!(out.attempts(), 2);
    assert_eq!(out.request_id(), "REQ-InstanceAlreadyAssociated");
}

#[tokio::test]
async fn a_final_error_after_an_unknown_outcome_is_checked() {
    // Our own first attempt left the HAVIP Associating; the retry is refused for that reason.
    let server = TestServer::start().await;
    server.push(Reply::Close);
    server.push(describe_reply("Available", &[])); // not visible yet
    server.push(error_reply(400, "IncorrectHaVipStatus"));
    server.push(describe_reply("Associating", &[("i-1", "Associating")]));
    let client = client_for(&server)
        .clock(ManualClock::new())
        .build()
        .unwrap();
    let out = client
        .associate_ha_vip()
        .ha_vip_id("havip-1")
        .instance_id("i-1")
        .send()
        .await
        .unwrap();
    assert!(out.already_associated());
    assert_eq!(out.attempts(), 2);
}

#[tokio::test]
async fn a_single_attempt_that_timed_out_is_checked_too() {
    let server = TestServer::start().await;
    server.push(Reply::Delay(
        Duration::from_secs(5),
        Box::new(ok_request_id("late")),
    ));
    server.push(describe_reply("InUse", &[("i-1", "Associating")]));
    let client = client_for(&server)
        .attempt_timeout(Duration::from_millis(200))
        .retry_config(RetryConfig::disabled())
        .build()
        .unwrap();
    let out = client
        .associate_ha_vip()
        .ha_vip_id("havip-1")
        .instance_id("i-1")
        .send()
        .await
        .unwrap();
    assert!(out.already_associated());
}

#[tokio::test]
async fn already_associated_without_an_unknown_attempt_is_an_error() {
    let server = TestServer::start().await;
    server.push(error_reply(400, "Throttling"));
    server.push(error_reply(400, "InstanceAlreadyAssociated"));
    let client = client_for(&server)
        .clock(ManualClock::new())
        .build()
        .unwrap();
    let err = client
        .associate_ha_vip()
        .ha_vip_id("havip-1")
        .instance_id("i-1")
        .send()
        .await
        .unwrap_err();
    // Throttling means the first attempt was rejected, so the association predates this call.
    assert_eq!(err.code(), Some(&ErrorCode::InstanceAlreadyAssociated));
    assert_eq!(err.attempts(), Some(2));
}

/// Once the server has received `n` requests and a time limit is pending on `clock`, moves the
/// clock by `by` (time limits run on the client's clock: this is how a test drives a timeout).
fn advance_after_request(server: &TestServer, clock: &ManualClock, n: usize, by: Duration) {
    let (server, clock) = (server.clone(), clock.clone());
    tokio::spawn(async move {
        while server.requests().len() < n || clock.pending_timers() == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        clock.advance(by);
    });
}

#[tokio::test]
async fn attempt_timeout_is_its_own_error_and_is_retried() {
    let server = TestServer::start().await;
    server.push(Reply::Delay(
        Duration::from_secs(5),
        Box::new(ok_request_id("slow")),
    ));
    server.push(ok_request_id("fast"));
    let clock = ManualClock::new();
    let client = client_for(&server)
        .clock(clock.clone())
        .attempt_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    advance_after_request(&server, &clock, 1, Duration::from_millis(200));
    let out = client.describe_ha_vips().send().await;
    // The second attempt answered (DescribeHaVips decodes `{"RequestId":"fast"}` as an empty page).
    assert_eq!(out.unwrap().request_id(), "fast");

    server.push(Reply::Delay(
        Duration::from_secs(5),
        Box::new(ok_request_id("slow")),
    ));
    advance_after_request(&server, &clock, 3, Duration::from_millis(200));
    let err = client
        .describe_ha_vips()
        .retry_config(RetryConfig::disabled())
        .send()
        .await
        .unwrap_err();
    match &err {
        Error::Timeout(t) => {
            assert_eq!(t.kind, TimeoutKind::Attempt);
            assert_eq!(t.limit, Duration::from_millis(200));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("attempt timeout"), "{err}");
}

#[tokio::test]
async fn read_timeout_names_the_read_limit() {
    let server = TestServer::start().await;
    server.push(Reply::Delay(
        Duration::from_secs(5),
        Box::new(ok_request_id("slow")),
    ));
    let client = client_for(&server)
        .read_timeout(Duration::from_millis(200))
        .retry_config(RetryConfig::disabled())
        .build()
        .unwrap();
    let err = client.describe_ha_vips().send().await.unwrap_err();
    match &err {
        Error::Timeout(t) => assert_eq!(t.kind, TimeoutKind::Read),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn operation_timeout_bounds_all_attempts() {
    let server = TestServer::start().await;
    server.set_fallback(Reply::Delay(
        Duration::from_millis(300),
        Box::new(error_reply(503, "ServiceUnavailable")),
    ));
    let client = client_for(&server)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(10)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .operation_timeout(Duration::from_millis(700))
        .build()
        .unwrap();
    let err = client.describe_ha_vips().send().await.unwrap_err();
    match &err {
        Error::Timeout(t) => {
            assert_eq!(t.kind, TimeoutKind::Operation);
            assert!(t.attempts >= 2 && t.attempts <= 3, "{}", t.attempts);
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn one_client_serves_many_concurrent_calls() {
    let server = TestServer::start().await;
    let client = client_for(&server).build().unwrap();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            c.associate_ha_vip()
                .ha_vip_id(format!("havip-{i}"))
                .instance_id("i-1")
                .send()
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(server.requests().len(), 200);
    // Concurrent calls share pooled connections rather than one each.
    assert!(
        server.connections() < 200,
        "{} connections",
        server.connections()
    );
}

#[tokio::test]
async fn sequential_calls_reuse_one_keep_alive_connection() {
    let server = TestServer::start().await;
    let client = client_for(&server).build().unwrap();
    for _ in 0..50 {
        client.describe_ha_vips().send().await.unwrap();
    }
    client
        .associate_ha_vip()
        .ha_vip_id("havip-1")
        .instance_id("i-1")
        .send()
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 51);
    assert_eq!(server.connections(), 1, "keep-alive connection not reused");
}
