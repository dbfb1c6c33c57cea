//! CreateHaVip, DeleteHaVips, ModifyHaVipAttribute, their waiters, their retry rules, and
//! `ensure_associated`/`ensure_unassociated`, against a scripted server on 127.0.0.1 (the
//! emulator plays the same steps in `tests/emulator_lifecycle.rs`).

mod common;

use alibabacloud_ens::clock::ManualClock;
use alibabacloud_ens::ensure::Ensured;
use alibabacloud_ens::{Client, Error, ErrorCode, SignatureVersion};
use common::*;
use serde_json::json;

fn now() -> String {
    alibabacloud_ens::signer::format_timestamp(time::OffsetDateTime::now_utc())
}

/// A DescribeHaVips page listing `havips`.
fn page(havips: &[serde_json::Value]) -> Reply {
    Reply::Json(
        200,
        json!({
            "RequestId": "DESCRIBE",
            "TotalCount": havips.len(),
            "PageNumber": 1,
            "PageSize": 100,
            "HaVips": havips,
        })
        .to_string(),
    )
}

fn havip(id: &str, status: &str, ip: &str, name: &str) -> serde_json::Value {
    json!({
        "HaVipId": id, "Status": status, "IpAddress": ip, "Name": name,
        "VSwitchId": "vsw-1", "CreationTime": now(), "AssociatedInstances": [],
    })
}

fn with_assocs(mut h: serde_json::Value, assocs: &[(&str, &str)]) -> serde_json::Value {
    h["AssociatedInstances"] = assocs
        .iter()
        .map(|(i, s)| json!({"InstanceId": i, "InstanceType": "EnsInstance", "Status": s}))
        .collect();
    h
}

fn created(ids: &[&str]) -> Reply {
    Reply::Json(
        200,
        json!({"RequestId": "CREATE", "HaVipIds": ids}).to_string(),
    )
}

fn client(server: &TestServer) -> Client {
    client_for(server)
        .clock(ManualClock::new())
        .build()
        .unwrap()
}

fn actions(server: &TestServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| r.param("Action").unwrap_or("?").to_owned())
        .collect()
}

#[tokio::test]
async fn create_sends_the_documented_request_with_both_signatures() {
    for version in [SignatureVersion::V1, SignatureVersion::V3] {
        let server = TestServer::start().await;
        server.push(created(&["havip-new"]));
        let client = client_for(&server)
            .signature_version(version)
            .build()
            .unwrap();
        let out = client
            .create_ha_vip()
            .vswitch_id("vsw-1")
            .ip_address("10.0.0.5")
            .name("高可用 vip")
            .description("d e/s*c~")
            .send()
            .await
            .unwrap();
        assert_eq!(out.ha_vip_ids(), ["havip-new"]);
        assert!(!out.already_created());
        let r = &server.requests()[0];
        assert_eq!(r.method, "POST");
        for (k, v) in [
            ("VSwitchId", "vsw-1"),
            ("IpAddress", "10.0.0.5"),
            ("Amount", "1"),
            ("Name", "高可用 vip"),
            ("Description", "d e/s*c~"),
        ] {
            assert_eq!(r.param(k), Some(v), "{k} ({version})");
        }
        match version {
            SignatureVersion::V1 => assert_eq!(
                r.param("Signature").unwrap(),
                reference_v1("POST", &r.query, SECRET)
            ),
            _ => {
                assert_eq!(r.header("x-acs-action"), Some("CreateHaVip"));
                let (expected, sent, _) = reference_v3(r, SECRET);
                assert_eq!(sent, expected);
            }
        }
    }
}

#[tokio::test]
async fn delete_sends_the_ids_as_one_json_array() {
    let server = TestServer::start().await;
    server.push(ok_request_id("DEL"));
    let out = client(&server)
        .delete_ha_vips()
        .ha_vip_ids(["havip-a", "havip-b", "havip-a"])
        .send()
        .await
        .unwrap();
    assert_eq!(out.request_id(), "DEL");
    let r = &server.requests()[0];
    assert_eq!(r.param("HaVipIds"), Some(r#"["havip-a","havip-b"]"#));
    assert!(
        r.raw_query
            .contains("HaVipIds=%5B%22havip-a%22%2C%22havip-b%22%5D"),
        "{}",
        r.raw_query
    );
    assert_eq!(
        r.param("Signature").unwrap(),
        reference_v1("POST", &r.query, SECRET)
    );
}

#[tokio::test]
async fn modify_sends_the_unicode_name() {
    let server = TestServer::start().await;
    server.push(ok_request_id("MOD"));
    let out = client(&server)
        .modify_ha_vip_attribute()
        .ha_vip_id("havip-1")
        .name("新名字")
        .send()
        .await
        .unwrap();
    assert_eq!(out.request_id(), "MOD");
    let r = &server.requests()[0];
    assert_eq!(r.param("Name"), Some("新名字"));
    assert_eq!(r.param("HaVipId"), Some("havip-1"));
}

#[tokio::test]
async fn a_lost_create_with_an_address_is_found_not_repeated() {
    let server = TestServer::start().await;
    server.push(Reply::Close);
    server.push(page(&[havip("havip-made", "Creating", "10.0.0.5", "n")]));
    let out = client(&server)
        .create_ha_vip()
        .vswitch_id("vsw-1")
        .ip_address("10.0.0.5")
        .name("n")
        .send()
        .await
        .unwrap();
    assert!(out.already_created());
    assert_eq!(out.ha_vip_ids(), ["havip-made"]);
    assert_eq!((out.attempts(), out.probes()), (1, 1));
    assert_eq!(actions(&server), ["CreateHaVip", "DescribeHaVips"]);
    let probe = &server.requests()[1];
    assert_eq!(probe.param("HaVipAddress"), Some("10.0.0.5"));
    assert_eq!(probe.param("VSwitchId"), Some("vsw-1"));
}

#[tokio::test]
async fn a_create_with_an_address_that_did_not_happen_is_sent_again() {
    let server = TestServer::start().await;
    server.push(error_reply(503, "ServiceUnavailable"));
    server.push(page(&[]));
    server.push(created(&["havip-second-try"]));
    let out = client(&server)
        .create_ha_vip()
        .vswitch_id("vsw-1")
        .ip_address("10.0.0.5")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ha_vip_ids(), ["havip-second-try"]);
    assert!(!out.already_created());
    assert_eq!(
        actions(&server),
        ["CreateHaVip", "DescribeHaVips", "CreateHaVip"]
    );
}

#[tokio::test]
async fn a_lost_create_by_name_is_found_when_the_count_matches() {
    let server = TestServer::start().await;
    server.push(Reply::Close);
    server.push(page(&[
        havip("havip-x", "Creating", "10.0.0.7", "pair"),
        havip("havip-y", "Creating", "10.0.0.8", "pair"),
    ]));
    let out = client(&server)
        .create_ha_vip()
        .vswitch_id("vsw-1")
        .name("pair")
        .amount(2)
        .send()
        .await
        .unwrap();
    assert!(out.already_created());
    assert_eq!(out.ha_vip_ids(), ["havip-x", "havip-y"]);
    assert_eq!(actions(&server), ["CreateHaVip", "DescribeHaVips"]);
}

#[tokio::test]
async fn a_lost_create_that_cannot_be_told_apart_is_never_repeated() {
    // No name, no address: nothing to recognise the HAVIP by.
    let server = TestServer::start().await;
    server.push(Reply::Close);
    server.push(page(&[havip("havip-someone", "Available", "10.0.0.9", "")]));
    let e = client(&server)
        .create_ha_vip()
        .vswitch_id("vsw-1")
        .send()
        .await
        .unwrap_err();
    let Error::OutcomeUnknown(o) = &e else {
        panic!("{e:?}")
    };
    let o = o.possibly_created().expect("where to look");
    assert_eq!(o.vswitch_id, "vsw-1");
    assert_eq!(o.candidates, ["havip-someone"]);
    assert!(o.window_start <= o.window_end);
    assert_eq!((e.attempts(), e.probes()), (Some(1), Some(1)));
    let text = e.to_string();
    assert!(
        text.contains("outcome is unknown") && text.contains("vsw-1"),
        "{text}"
    );
    // The attempt whose outcome is unknown is the source, not repeated in the text.
    let source = std::error::Error::source(&e).expect("the lost attempt");
    assert!(!text.contains(&source.to_string()), "{text}");
    assert_eq!(actions(&server), ["CreateHaVip", "DescribeHaVips"]);

    // A name, but no HAVIP listed yet: still unknown, still not repeated.
    let server = TestServer::start().await;
    server.push(error_reply(500, "InternalError"));
    server.push(page(&[]));
    let e = client(&server)
        .create_ha_vip()
        .vswitch_id("vsw-1")
        .name("mine")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::OutcomeUnknown(_)), "{e:?}");
    assert!(e.to_string().contains(r#"named "mine""#), "{e}");
    assert_eq!(actions(&server), ["CreateHaVip", "DescribeHaVips"]);
}

#[tokio::test]
async fn a_delete_whose_retry_finds_the_ids_gone_is_a_success() {
    // Lost answer; the check finds both gone.
    let server = TestServer::start().await;
    server.push(Reply::Close);
    server.push(page(&[]));
    server.push(page(&[havip("havip-b", "Deleting", "10.0.0.2", "")]));
    let out = client(&server)
        .delete_ha_vips()
        .ha_vip_ids(["havip-a", "havip-b"])
        .send()
        .await
        .unwrap();
    assert!(out.already_deleted());
    assert_eq!(
        actions(&server),
        ["DeleteHaVips", "DescribeHaVips", "DescribeHaVips"]
    );

    // 5xx, still listed, so sent again; the retry is refused as not found; the check then
    // finds it gone: success.
    let server = TestServer::start().await;
    server.push(error_reply(503, "ServiceUnavailable"));
    server.push(page(&[havip("havip-a", "Available", "10.0.0.2", "")]));
    server.push(error_reply(400, "HaVipNotFound"));
    server.push(page(&[]));
    let out = client(&server)
        .delete_ha_vips()
        .ha_vip_id("havip-a")
        .send()
        .await
        .unwrap();
    assert!(out.already_deleted());
    assert_eq!((out.attempts(), out.probes()), (2, 2));
}

#[tokio::test]
async fn waits_for_every_created_id_and_for_deletion() {
    let server = TestServer::start().await;
    let client = client(&server);
    // havip-a is Available at once; havip-b is not listed yet, then Creating, then Available.
    server.push(page(&[havip("havip-a", "Available", "10.0.0.2", "")]));
    server.push(page(&[]));
    server.push(page(&[havip("havip-a", "Available", "10.0.0.2", "")]));
    server.push(page(&[havip("havip-b", "Creating", "10.0.0.3", "")]));
    server.push(page(&[havip("havip-a", "Available", "10.0.0.2", "")]));
    server.push(page(&[havip("havip-b", "Available", "10.0.0.3", "")]));
    let mut seen = Vec::new();
    let out = client
        .wait_until_available(["havip-a", "havip-b"])
        .on_progress(|p| seen.push(p.to_string()))
        .wait()
        .await
        .unwrap();
    assert_eq!(out.polls(), 3);
    assert_eq!(out.ha_vips().len(), 2);
    assert_eq!(
        seen,
        [
            "havip-a Available",
            "havip-b not found",
            "havip-b Creating",
            "havip-b Available"
        ]
    );

    // One that was listed and then vanished ends the wait.
    server.push(page(&[havip("havip-c", "Creating", "10.0.0.4", "")]));
    server.push(page(&[]));
    let e = client
        .wait_until_available(["havip-c"])
        .wait()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::WaiterFailureState(_)), "{e:?}");

    server.push(page(&[havip("havip-d", "Deleting", "10.0.0.5", "")]));
    server.push(page(&[]));
    let out = client.wait_until_deleted(["havip-d"]).wait().await.unwrap();
    assert_eq!(out.polls(), 2);
    assert!(out.ha_vips().is_empty());
}

#[tokio::test]
async fn get_ha_vip_says_not_found_with_none() {
    let server = TestServer::start().await;
    server.push(page(&[]));
    server.push(error_reply(400, "HaVipNotFound"));
    server.push(page(&[havip("havip-1", "Available", "10.0.0.2", "")]));
    let client = client(&server);
    assert_eq!(client.get_ha_vip("havip-1").await.unwrap(), None);
    assert_eq!(client.get_ha_vip("havip-1").await.unwrap(), None);
    assert_eq!(
        client
            .get_ha_vip("havip-1")
            .await
            .unwrap()
            .unwrap()
            .ip_address,
        "10.0.0.2"
    );
}

fn h1(status: &str, assocs: &[(&str, &str)]) -> Reply {
    page(&[with_assocs(
        havip("havip-1", status, "10.0.0.2", ""),
        assocs,
    )])
}

#[tokio::test]
async fn ensure_associated_writes_only_when_needed() {
    // Already in use: one read, no write.
    let server = TestServer::start().await;
    server.push(h1("InUse", &[("i-1", "InUse")]));
    let out = client(&server)
        .ensure_associated("havip-1", "i-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::AlreadyInUse);
    assert_eq!(actions(&server), ["DescribeHaVips"]);

    // Not associated: write, then wait.
    let server = TestServer::start().await;
    server.push(h1("Available", &[]));
    server.push(ok_request_id("ASSOC"));
    server.push(h1("Associating", &[("i-1", "Associating")]));
    server.push(h1("InUse", &[("i-1", "InUse")]));
    let out = client(&server)
        .ensure_associated("havip-1", "i-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::AssociatedNow);
    assert!(out.ha_vip().unwrap().is_in_use_by("i-1"));
    assert_eq!(
        actions(&server),
        [
            "DescribeHaVips",
            "AssociateHaVip",
            "DescribeHaVips",
            "DescribeHaVips"
        ]
    );

    // Another caller's association in progress: no write, wait.
    let server = TestServer::start().await;
    server.push(h1("Associating", &[("i-1", "Associating")]));
    server.push(h1("InUse", &[("i-1", "InUse")]));
    let out = client(&server)
        .ensure_associated("havip-1", "i-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::WaitedForAssociationInProgress);
    assert!(!actions(&server).contains(&"AssociateHaVip".to_owned()));
}

#[tokio::test]
async fn ensure_associated_waits_out_the_other_half_of_a_pair_and_a_lost_race() {
    // i-2's write meets the HAVIP busy with i-1: read until it is free, write again.
    let server = TestServer::start().await;
    server.push(h1("Associating", &[("i-1", "Associating")]));
    server.push(error_reply(400, "IncorrectHaVipStatus"));
    server.push(h1("Associating", &[("i-1", "Associating")]));
    server.push(h1("InUse", &[("i-1", "InUse")]));
    server.push(ok_request_id("ASSOC-2"));
    server.push(h1("InUse", &[("i-1", "InUse"), ("i-2", "InUse")]));
    let out = client(&server)
        .ensure_associated("havip-1", "i-2")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::AssociatedNow);
    assert_eq!(
        actions(&server),
        [
            "DescribeHaVips",
            "AssociateHaVip",
            "DescribeHaVips",
            "DescribeHaVips",
            "AssociateHaVip",
            "DescribeHaVips"
        ]
    );

    // The write loses the race: the HAVIP moved on between the read and the write.
    let server = TestServer::start().await;
    server.push(h1("Available", &[]));
    server.push(error_reply(400, "IncorrectHaVipStatus"));
    server.push(h1("InUse", &[("i-1", "InUse")]));
    let out = client(&server)
        .ensure_associated("havip-1", "i-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::AlreadyInUse);
    let server = TestServer::start().await;
    server.push(h1("Available", &[]));
    server.push(error_reply(400, "InstanceAlreadyAssociated"));
    server.push(h1("InUse", &[("i-1", "InUse")]));
    let out = client(&server)
        .ensure_associated("havip-1", "i-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::WaitedForAssociationInProgress);
}

#[tokio::test]
async fn ensure_associated_reports_a_permanent_refusal_at_once() {
    // The HAVIP is busy with i-1; the write for an instance in another vSwitch is refused for
    // good, and that is reported at once, not after i-1's association.
    let server = TestServer::start().await;
    server.push(h1("Associating", &[("i-1", "Associating")]));
    server.push(error_reply(400, "IncorrectInstanceVSwitch"));
    let e = client(&server)
        .ensure_associated("havip-1", "i-other")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::IncorrectInstanceVSwitch));
    assert_eq!(actions(&server), ["DescribeHaVips", "AssociateHaVip"]);

    let server = TestServer::start().await;
    server.push(page(&[]));
    let e = client(&server)
        .ensure_associated("havip-1", "i-1")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::WaiterFailureState(_)), "{e:?}");
}

#[tokio::test]
async fn ensure_unassociated_writes_only_when_needed() {
    let server = TestServer::start().await;
    server.push(h1("Available", &[]));
    let out = client(&server)
        .ensure_unassociated("havip-1", "i-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::AlreadyUnassociated);

    let server = TestServer::start().await;
    server.push(h1("InUse", &[("i-1", "InUse")]));
    server.push(ok_request_id("UN"));
    server.push(h1("InUse", &[("i-1", "Unassociating")]));
    server.push(h1("Available", &[]));
    let out = client(&server)
        .ensure_unassociated("havip-1", "i-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::UnassociatedNow);

    // Someone else removed it between the read and the write.
    let server = TestServer::start().await;
    server.push(h1("InUse", &[("i-1", "InUse")]));
    server.push(error_reply(400, "InstanceNotAssociated"));
    server.push(h1("Available", &[]));
    let out = client(&server)
        .ensure_unassociated("havip-1", "i-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::WaitedForUnassociationInProgress);

    // No such HAVIP: nothing is associated with it.
    let server = TestServer::start().await;
    server.push(page(&[]));
    let out = client(&server)
        .ensure_unassociated("havip-gone", "i-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::HaVipGone);
    assert!(out.ha_vip().is_none());
}

#[tokio::test]
async fn ensure_unassociated_on_a_havip_gone_or_going_is_success() {
    // Being deleted: nothing is associated with it any more.
    let server = TestServer::start().await;
    server.push(h1("Deleting", &[]));
    let out = client(&server)
        .ensure_unassociated("havip-1", "i-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::HaVipGone);
    assert_eq!(
        out.ha_vip().unwrap().status,
        alibabacloud_ens::HaVipStatus::Deleting
    );
    assert_eq!(actions(&server), ["DescribeHaVips"]);

    // DescribeHaVips answering HaVipNotFound counts as gone too.
    let server = TestServer::start().await;
    server.push(error_reply(400, "HaVipNotFound"));
    let out = client(&server)
        .ensure_unassociated("havip-1", "i-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::HaVipGone);

    // Another replica unassociated and deleted it between this call's read and its write.
    let server = TestServer::start().await;
    server.push(h1("InUse", &[("i-1", "InUse")]));
    server.push(error_reply(400, "HaVipNotFound"));
    server.push(page(&[]));
    let out = client(&server)
        .ensure_unassociated("havip-1", "i-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::HaVipGone);
    assert!(out.ha_vip().is_none());
    assert_eq!(
        actions(&server),
        ["DescribeHaVips", "UnassociateHaVip", "DescribeHaVips"]
    );

    // Deleted while this call waited for its own unassociation.
    let server = TestServer::start().await;
    server.push(h1("InUse", &[("i-1", "InUse")]));
    server.push(ok_request_id("UN"));
    server.push(h1("InUse", &[("i-1", "Unassociating")]));
    server.push(page(&[]));
    let out = client(&server)
        .ensure_unassociated("havip-1", "i-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::HaVipGone);
    assert_eq!(out.polls(), 3);

    // The write refused because the HAVIP went Deleting meanwhile: read again, done.
    let server = TestServer::start().await;
    server.push(h1("InUse", &[("i-1", "InUse")]));
    server.push(error_reply(400, "IncorrectHaVipStatus"));
    server.push(h1("Deleting", &[]));
    let out = client(&server)
        .ensure_unassociated("havip-1", "i-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::HaVipGone);
}

#[tokio::test]
async fn ensure_associated_on_a_havip_gone_or_going_fails_at_once() {
    for (replies, reason) in [
        (vec![page(&[])], "does not exist"),
        (vec![error_reply(400, "HaVipNotFound")], "does not exist"),
        (vec![h1("Deleting", &[])], "being deleted"),
        // Deleted between the read and the write: the write's HaVipNotFound, then a read.
        (
            vec![
                h1("Available", &[]),
                error_reply(400, "HaVipNotFound"),
                page(&[]),
            ],
            "does not exist",
        ),
        // The HAVIP went Deleting while the call waited for its association.
        (
            vec![
                h1("Available", &[]),
                ok_request_id("A"),
                h1("Deleting", &[]),
            ],
            "being deleted",
        ),
    ] {
        let server = TestServer::start().await;
        let n = replies.len();
        for r in replies {
            server.push(r);
        }
        let clock = ManualClock::new();
        let e = client_for(&server)
            .clock(clock.clone())
            .build()
            .unwrap()
            .ensure_associated("havip-1", "i-1")
            .send()
            .await
            .unwrap_err();
        let Error::WaiterFailureState(f) = &e else {
            panic!("{e:?}")
        };
        assert!(f.reason.contains(reason), "{}", f.reason);
        assert!(f.reason.contains("can never be in use"), "{}", f.reason);
        // At once: no sleep, nothing read after the state was seen.
        assert!(clock.sleeps().is_empty(), "{:?}", clock.sleeps());
        assert_eq!(server.requests().len(), n);
    }
}

#[tokio::test]
async fn ensure_ha_vip_settles_a_create_whose_outcome_is_unknown_by_listing_again() {
    let server = TestServer::start().await;
    server.push(page(&[])); // the listing
    server.push(Reply::Close); // CreateHaVip: the answer is lost
    server.push(page(&[])); // its check: not listed (yet)
    server.push(page(&[havip("havip-late", "Available", "10.0.0.9", "vip")]));
    let out = client(&server)
        .ensure_ha_vip()
        .name("vip")
        .vswitch_id("vsw-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ha_vip().ha_vip_id, "havip-late");
    assert_eq!(out.ensured(), alibabacloud_ens::ensure::HaVipEnsured::Found);
    assert_eq!(
        actions(&server),
        [
            "DescribeHaVips",
            "CreateHaVip",
            "DescribeHaVips",
            "DescribeHaVips"
        ]
    );
    // The listing asks for the name in the vSwitch, a full page at a time.
    let list = &server.requests()[0];
    assert_eq!(list.param("Name"), Some("vip"));
    assert_eq!(list.param("VSwitchId"), Some("vsw-1"));
    assert_eq!(list.param("PageSize"), Some("100"));
}

#[tokio::test]
async fn ensure_ha_vip_compares_the_name_exactly_and_waits_for_a_creating_loser() {
    let server = TestServer::start().await;
    let mut other_switch = havip("havip-0", "Available", "10.0.0.1", "vip");
    other_switch["VSwitchId"] = json!("vsw-2");
    let mut older = havip("havip-b", "Available", "10.0.0.2", "vip");
    older["CreationTime"] = json!("2024-01-02T03:04:05Z");
    server.push(page(&[
        // A prefix match, another vSwitch, and a deleting one: none counts.
        havip("havip-00", "Available", "10.0.0.3", "vip 2"),
        other_switch,
        havip("havip-01", "Deleting", "10.0.0.4", "vip"),
        havip("havip-a", "Creating", "10.0.0.5", "vip"),
        older,
    ]));
    // havip-a loses (later CreationTime, though a smaller id): waited until available, deleted.
    server.push(page(&[havip("havip-a", "Available", "10.0.0.5", "vip")]));
    server.push(ok_request_id("DEL"));
    let out = client(&server)
        .ensure_ha_vip()
        .name("vip")
        .vswitch_id("vsw-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ha_vip().ha_vip_id, "havip-b");
    assert_eq!(out.duplicates_deleted(), ["havip-a"]);
    assert_eq!(
        actions(&server),
        ["DescribeHaVips", "DescribeHaVips", "DeleteHaVips"]
    );
    assert_eq!(
        server.requests()[2].param("HaVipIds"),
        Some(r#"["havip-a"]"#)
    );

    // A delete refused because the loser got associated meanwhile: it is kept.
    let server = TestServer::start().await;
    let mut older = havip("havip-b", "Available", "10.0.0.2", "vip");
    older["CreationTime"] = json!("2024-01-02T03:04:05Z");
    server.push(page(&[
        havip("havip-a", "Available", "10.0.0.5", "vip"),
        older,
    ]));
    server.push(error_reply(400, "IncorrectHaVipStatus"));
    server.push(page(&[with_assocs(
        havip("havip-a", "InUse", "10.0.0.5", "vip"),
        &[("i-1", "InUse")],
    )]));
    let out = client(&server)
        .ensure_ha_vip()
        .name("vip")
        .vswitch_id("vsw-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.duplicates_kept(), ["havip-a"]);
    assert!(out.duplicates_deleted().is_empty());
}

#[tokio::test]
async fn ensure_ha_vip_returns_the_refusal_when_no_havip_holds_the_address() {
    let server = TestServer::start().await;
    server.set_fallback(page(&[]));
    server.push(page(&[]));
    server.push(error_reply(400, "InvalidIPAddress.AlreadyUsed"));
    let clock = ManualClock::new();
    let e = client_for(&server)
        .clock(clock.clone())
        .build()
        .unwrap()
        .ensure_ha_vip()
        .name("vip")
        .vswitch_id("vsw-1")
        .ip_address("10.0.0.5")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::InvalidIpAddressAlreadyUsed));
    // Looked for the winner's HAVIP for a while (a new one may take a moment to be listed),
    // by name and by address; wrote once.
    let waited: std::time::Duration = clock.sleeps().iter().sum();
    assert!(
        waited >= alibabacloud_ens::waiter::NOT_LISTED_GRACE,
        "{waited:?}"
    );
    let creates = actions(&server)
        .iter()
        .filter(|a| *a == "CreateHaVip")
        .count();
    assert_eq!(creates, 1);
    assert!(server
        .requests()
        .iter()
        .any(|r| r.param("HaVipAddress") == Some("10.0.0.5")));
}
