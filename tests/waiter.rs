//! `wait_until_in_use` against a scripted DescribeHaVips that shows the status trap. The
//! client's clock is a `ManualClock`, so nothing here really waits.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use alibabacloud_ens::clock::ManualClock;
use alibabacloud_ens::{AssociationStatus, Client, Error, ErrorCode, HaVipStatus};
use common::*;

fn empty_describe() -> Reply {
    Reply::Json(
        200,
        r#"{"RequestId":"R","TotalCount":0,"HaVips":[]}"#.into(),
    )
}

async fn setup() -> (TestServer, Client, ManualClock) {
    let server = TestServer::start().await;
    let clock = ManualClock::new();
    let client = client_for(&server).clock(clock.clone()).build().unwrap();
    (server, client, clock)
}

#[tokio::test]
async fn the_status_trap_does_not_end_the_wait_early() {
    let (server, client, _clock) = setup().await;
    // The HAVIP is InUse (serving i-1) long before i-2's own association is.
    server.push(describe_reply("InUse", &[("i-1", "InUse")]));
    server.push(describe_reply(
        "InUse",
        &[("i-1", "InUse"), ("i-2", "Associating")],
    ));
    server.push(describe_reply(
        "InUse",
        &[("i-1", "InUse"), ("i-2", "Associating")],
    ));
    server.push(describe_reply(
        "InUse",
        &[("i-1", "InUse"), ("i-2", "InUse")],
    ));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let out = client
        .wait_until_in_use("havip-1", "i-2")
        .on_progress(move |p| {
            s2.lock().unwrap().push((
                p.polls,
                p.ha_vip_status.clone(),
                p.association_status.clone(),
            ))
        })
        .wait()
        .await
        .unwrap();
    assert_eq!(out.polls(), 4);
    assert!(out.ha_vip().is_in_use_by("i-2"));
    assert_eq!(server.requests().len(), 4);
    for r in server.requests() {
        assert_eq!(r.param("Action"), Some("DescribeHaVips"));
        assert_eq!(r.param("HaVipId"), Some("havip-1"));
    }
    // Progress is reported on each change only.
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            (1, Some(HaVipStatus::InUse), None),
            (
                2,
                Some(HaVipStatus::InUse),
                Some(AssociationStatus::Associating)
            ),
            (4, Some(HaVipStatus::InUse), Some(AssociationStatus::InUse)),
        ]
    );
}

#[tokio::test]
async fn first_association_goes_available_associating_in_use() {
    let (server, client, clock) = setup().await;
    server.push(describe_reply("Available", &[]));
    server.push(describe_reply("Associating", &[("i-1", "Associating")]));
    server.push(describe_reply("Associating", &[("i-1", "InUse")])); // trap the other way round
    server.push(describe_reply("InUse", &[("i-1", "InUse")]));
    let out = client
        .wait_until_in_use("havip-1", "i-1")
        .wait()
        .await
        .unwrap();
    assert_eq!(out.polls(), 4);
    // Inside the first 10 s every delay is at most 1 s: a transition is seen within a second.
    for d in clock.sleeps() {
        assert!(
            d <= Duration::from_secs(1) && d >= Duration::from_millis(750),
            "{d:?}"
        );
    }
    assert_eq!(clock.sleeps().len(), 3);
}

#[tokio::test]
async fn timing_out_reports_elapsed_polls_and_the_last_state() {
    let (server, client, clock) = setup().await;
    server.set_fallback(describe_reply(
        "InUse",
        &[("i-1", "InUse"), ("i-2", "Associating")],
    ));
    let err = client
        .wait_until_in_use("havip-1", "i-2")
        .max_wait(Duration::from_secs(60))
        .wait()
        .await
        .unwrap_err();
    let Error::WaiterTimedOut(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        t.elapsed,
        Duration::from_secs(60),
        "the last poll happens at the deadline"
    );
    assert_eq!(t.polls as usize, server.requests().len());
    assert!(t.polls >= 15 && t.polls <= 22, "{}", t.polls);
    let last = t.last_observed.as_ref().unwrap();
    assert_eq!(
        last.association("i-2").unwrap().status,
        AssociationStatus::Associating
    );
    let text = err.to_string();
    assert!(
        text.contains("timed out") && text.contains("i-2 Associating") && text.contains("havip-1"),
        "{text}"
    );
    // Sleeps never pass the deadline and add up to it exactly.
    let total: Duration = clock.sleeps().iter().sum();
    assert_eq!(total, Duration::from_secs(60));
}

#[tokio::test]
async fn five_minutes_of_waiting_is_fewer_than_thirty_polls() {
    let (server, client, _clock) = setup().await;
    server.set_fallback(describe_reply("InUse", &[("i-2", "Associating")]));
    let err = client
        .wait_until_in_use("havip-1", "i-2")
        .wait()
        .await
        .unwrap_err();
    let Error::WaiterTimedOut(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.elapsed, Duration::from_secs(300));
    assert!(t.polls < 30, "{} polls", t.polls);
}

#[tokio::test]
async fn a_missing_or_deleting_havip_is_a_failure_state() {
    for (reply, reason) in [
        (empty_describe(), "does not exist"),
        (error_reply(400, "HaVipNotFound"), "does not exist"),
        (
            describe_reply("Deleting", &[("i-1", "Associating")]),
            "being deleted",
        ),
    ] {
        let (server, client, _clock) = setup().await;
        server.push(describe_reply("Available", &[]));
        server.push(reply);
        let err = client
            .wait_until_in_use("havip-1", "i-1")
            .wait()
            .await
            .unwrap_err();
        let Error::WaiterFailureState(f) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(f.polls, 2);
        assert!(f.reason.contains(reason), "{}", f.reason);
    }
}

#[tokio::test]
async fn transient_poll_errors_are_retried_permanent_ones_are_not() {
    let (server, client, _clock) = setup().await;
    server.push(Reply::Raw(503, "text/html", b"<html>busy</html>".to_vec()));
    server.push(error_reply(400, "Throttling.User"));
    server.push(Reply::Close);
    server.push(describe_reply("InUse", &[("i-1", "InUse")]));
    let out = client
        .wait_until_in_use("havip-1", "i-1")
        .wait()
        .await
        .unwrap();
    assert_eq!(out.polls(), 4);

    let (server, client, _clock) = setup().await;
    server.push(describe_reply("Available", &[]));
    server.push(error_reply(400, "SignatureDoesNotMatch"));
    let err = client
        .wait_until_in_use("havip-1", "i-1")
        .wait()
        .await
        .unwrap_err();
    let Error::WaiterOperationFailed(f) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(f.polls, 2);
    assert_eq!(err.code(), Some(&ErrorCode::SignatureDoesNotMatch));
    assert_eq!(err.request_id(), Some("REQ-SignatureDoesNotMatch"));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_timeout_after_transient_errors_keeps_the_last_error() {
    let (server, client, _clock) = setup().await;
    server.set_fallback(error_reply(503, "ServiceUnavailable"));
    let err = client
        .wait_until_in_use("havip-1", "i-1")
        .max_wait(Duration::from_secs(5))
        .wait()
        .await
        .unwrap_err();
    let Error::WaiterTimedOut(t) = &err else {
        panic!("{err:?}")
    };
    assert!(t.last_observed.is_none());
    assert_eq!(
        t.last_error.as_ref().unwrap().code(),
        Some(&ErrorCode::ServiceUnavailable)
    );
}

#[tokio::test]
async fn wait_until_unassociated_ends_when_the_instance_is_gone() {
    let (server, client, _clock) = setup().await;
    server.push(describe_reply(
        "InUse",
        &[("i-1", "InUse"), ("i-2", "Unassociating")],
    ));
    server.push(describe_reply("InUse", &[("i-1", "InUse")]));
    let out = client
        .wait_until_unassociated("havip-1", "i-2")
        .await
        .unwrap();
    assert_eq!(out.polls(), 2);
    assert!(out.ha_vip().association("i-2").is_none());
}

#[tokio::test]
async fn dropping_the_wait_stops_polling() {
    let server = TestServer::start().await;
    server.set_fallback(describe_reply("InUse", &[("i-2", "Associating")]));
    let client = client_for(&server).build().unwrap(); // real clock
    let waiting = client.wait_until_in_use("havip-1", "i-2").wait();
    let _ = tokio::time::timeout(Duration::from_millis(1500), waiting).await;
    let polls = server.requests().len();
    assert!((1..=3).contains(&polls), "{polls}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        server.requests().len(),
        polls,
        "polling went on after the future was dropped"
    );
}

#[tokio::test]
async fn bad_delay_settings_are_input_errors() {
    let (server, client, _clock) = setup().await;
    let err = client
        .wait_until_in_use("havip-1", "i-1")
        .min_delay(Duration::from_secs(10))
        .max_delay(Duration::from_secs(1))
        .wait()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput(i) if i.parameter == "min_delay"),
        "{err:?}"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn progress_callbacks_may_borrow_from_the_caller() {
    let (server, client, _clock) = setup().await;
    server.push(describe_reply("Available", &[]));
    server.push(describe_reply("InUse", &[("i-1", "Associating")]));
    server.push(describe_reply("InUse", &[("i-1", "InUse")]));
    // Plain local state, no Arc or Mutex: the waiter lives no longer than this scope.
    let mut changes = Vec::new();
    let mut count = 0u32;
    let out = client
        .wait_until_in_use("havip-1", "i-1")
        .on_progress(|p| {
            count += 1;
            changes.push(p.association_status.clone());
        })
        .await
        .unwrap();
    assert_eq!(out.polls(), 3);
    assert_eq!(count, 3);
    assert_eq!(
        changes,
        [
            None,
            Some(AssociationStatus::Associating),
            Some(AssociationStatus::InUse)
        ]
    );
}

/// What a missing or `Deleting` HAVIP means depends on the goal (see the waiter module's
/// table): each waiter, each way.
#[tokio::test]
async fn wait_until_unassociated_on_a_havip_gone_or_going_is_success() {
    for (reply, gone) in [
        (empty_describe(), true),
        (error_reply(400, "HaVipNotFound"), true),
        (describe_reply("Deleting", &[]), false),
    ] {
        let (server, client, clock) = setup().await;
        server.push(describe_reply("InUse", &[("i-1", "Unassociating")]));
        server.push(reply);
        let out = client
            .wait_until_unassociated("havip-1", "i-1")
            .wait()
            .await
            .unwrap();
        assert_eq!(out.polls(), 2);
        assert_eq!(out.ha_vip_gone(), gone);
        assert_eq!(out.ha_vip().ha_vip_id, "havip-1");
        assert_eq!(clock.sleeps().len(), 1);
    }
    // Deleting but still listing the instance: not done yet (the deletion takes it along).
    let (server, client, _clock) = setup().await;
    server.push(describe_reply("Deleting", &[("i-1", "Unassociating")]));
    server.push(empty_describe());
    let out = client
        .wait_until_unassociated("havip-1", "i-1")
        .wait()
        .await
        .unwrap();
    assert_eq!((out.polls(), out.ha_vip_gone()), (2, true));
}

#[tokio::test]
async fn wait_until_in_use_fails_at_once_on_a_havip_gone_or_going() {
    for (reply, reason) in [
        (empty_describe(), "does not exist"),
        (describe_reply("Deleting", &[]), "being deleted"),
    ] {
        let (server, client, clock) = setup().await;
        server.push(reply);
        let err = client
            .wait_until_in_use("havip-1", "i-1")
            .wait()
            .await
            .unwrap_err();
        let Error::WaiterFailureState(f) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(f.polls, 1);
        assert!(f.reason.contains(reason), "{}", f.reason);
        assert!(
            f.reason.contains("can never be in use by i-1"),
            "{}",
            f.reason
        );
        assert!(clock.sleeps().is_empty(), "not after the deadline");
    }
}

#[tokio::test]
async fn wait_until_available_gives_a_havip_not_listed_a_grace_not_the_deadline() {
    let (server, client, _clock) = setup().await;
    server.set_fallback(empty_describe());
    let err = client
        .wait_until_available(["havip-1"])
        .wait()
        .await
        .unwrap_err();
    let Error::WaiterFailureState(f) = &err else {
        panic!("{err:?}")
    };
    assert!(
        f.elapsed >= alibabacloud_ens::waiter::NOT_LISTED_GRACE
            && f.elapsed < alibabacloud_ens::waiter::NOT_LISTED_GRACE + Duration::from_secs(41),
        "{:?}",
        f.elapsed
    );
    assert!(f.reason.contains("has not been listed"), "{}", f.reason);
    assert!(f.observed.is_none());

    // Being deleted: it can never become available.
    let (server, client, clock) = setup().await;
    server.push(describe_reply("Deleting", &[]));
    let err = client
        .wait_until_available(["havip-1"])
        .wait()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::WaiterFailureState(f) if f.reason.contains("being deleted")),
        "{err:?}"
    );
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn wait_until_deleted_waits_out_a_havip_still_available() {
    let (server, client, _clock) = setup().await;
    server.push(describe_reply("Available", &[]));
    server.push(describe_reply("Deleting", &[]));
    server.push(error_reply(400, "HaVipNotFound"));
    let out = client.wait_until_deleted(["havip-1"]).wait().await.unwrap();
    assert_eq!(out.polls(), 3);
}

#[tokio::test]
async fn the_client_wide_schedule_drives_every_waiter_unless_one_sets_its_own() {
    use alibabacloud_ens::waiter::WaiterSchedule;
    let server = TestServer::start().await;
    let clock = ManualClock::new();
    let fast = Duration::from_millis(20);
    let client = client_for(&server)
        .clock(clock.clone())
        .waiter_schedule(WaiterSchedule::polling_every(fast).with_max_wait(Duration::from_secs(1)))
        .build()
        .unwrap();
    assert_eq!(client.waiter_schedule().max_wait(), Duration::from_secs(1));

    // A waiter: every delay is the client's.
    server.push(describe_reply("InUse", &[("i-1", "Associating")]));
    server.push(describe_reply("InUse", &[("i-1", "Associating")]));
    server.push(describe_reply("InUse", &[("i-1", "InUse")]));
    client.wait_until_in_use("havip-1", "i-1").await.unwrap();
    assert_eq!(clock.sleeps(), [fast, fast]);

    // Its deadline too: 1 s of 20 ms polls.
    server.set_fallback(describe_reply("InUse", &[("i-1", "Associating")]));
    let err = client
        .wait_until_in_use("havip-1", "i-1")
        .await
        .unwrap_err();
    let Error::WaiterTimedOut(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.elapsed, Duration::from_secs(1));
    assert_eq!(t.polls, 51);

    // `send_and_wait` and ensure calls use it as well.
    let before = clock.sleeps().len();
    server.push(ok_request_id("A"));
    server.push(describe_reply("InUse", &[("i-1", "Associating")]));
    server.push(describe_reply("InUse", &[("i-1", "InUse")]));
    client
        .associate_ha_vip()
        .ha_vip_id("havip-1")
        .instance_id("i-1")
        .send_and_wait()
        .await
        .unwrap();
    server.push(describe_reply("InUse", &[("i-1", "Associating")]));
    server.push(describe_reply("InUse", &[("i-1", "Associating")]));
    server.push(describe_reply("InUse", &[("i-1", "InUse")]));
    client
        .ensure_associated("havip-1", "i-1")
        .send()
        .await
        .unwrap();
    assert_eq!(clock.sleeps()[before..], [fast, fast]);

    // A waiter's own setting wins over the client's.
    let before = clock.sleeps().len();
    server.push(describe_reply("InUse", &[("i-1", "Associating")]));
    server.push(describe_reply("InUse", &[("i-1", "InUse")]));
    client
        .wait_until_in_use("havip-1", "i-1")
        .schedule(WaiterSchedule::polling_every(Duration::from_millis(300)))
        .await
        .unwrap();
    assert_eq!(clock.sleeps()[before..], [Duration::from_millis(300)]);
}

#[tokio::test]
async fn a_client_wide_schedule_that_cannot_work_is_refused_at_build() {
    use alibabacloud_ens::waiter::WaiterSchedule;
    let server = TestServer::start().await;
    let err = client_for(&server)
        .waiter_schedule(
            WaiterSchedule::new()
                .with_min_delay(Duration::from_secs(5))
                .with_max_delay(Duration::from_secs(1)),
        )
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput(i) if i.parameter == "waiter_schedule.min_delay"),
        "{err:?}"
    );
    let err = client_for(&server)
        .waiter_schedule(WaiterSchedule::polling_every(Duration::ZERO))
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput(i) if i.parameter == "waiter_schedule.max_delay"),
        "{err:?}"
    );
}
