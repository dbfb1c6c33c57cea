//! The generated operations' behaviour beyond their wire form (which `generated_golden.rs`
//! checks): input checks, secrets, idempotency tokens, the retry class of each kind of
//! operation, paging types, errors.

mod common;

use alibabacloud_ens::clock::ManualClock;
use alibabacloud_ens::generated::instance::run_instances::SystemDisk;
use alibabacloud_ens::{Error, ErrorCode};
use common::{client_for, error_reply, Reply, TestServer};

fn ok(id: &str) -> Reply {
    Reply::Json(200, format!(r#"{{"RequestId":"{id}"}}"#))
}

#[tokio::test]
async fn a_missing_required_parameter_is_named_and_nothing_is_sent() {
    let server = TestServer::start().await;
    let client = client_for(&server).build().unwrap();
    let e = client.start_instance().send().await.unwrap_err();
    let Error::InvalidInput(i) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(i.parameter, "InstanceId");
    let e = client
        .start_instance()
        .instance_id("  ")
        .send()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("must not be blank"), "{e}");
    let e = client
        .associate_ens_eip_address()
        .instance_id("i-1")
        .send()
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("AllocationId") && e.to_string().contains("is required"),
        "{e}"
    );
    assert!(server.requests().is_empty());
}

#[test]
fn passwords_never_show_in_debug() {
    let client = alibabacloud_ens::Client::builder()
        .credentials(alibabacloud_ens::Credentials::new("id", "secret"))
        .build()
        .unwrap();
    let builder = client
        .reinit_instance()
        .instance_id("i-1")
        .password("Hunter2!pass");
    let d = format!("{builder:?}");
    assert!(d.contains("i-1") && d.contains("password"), "{d}");
    assert!(!d.contains("Hunter2"), "{d}");
    let d = format!(
        "{:?}",
        client.modify_instance_attribute().password("Hunter2!pass")
    );
    assert!(!d.contains("Hunter2"), "{d}");
}

#[tokio::test]
async fn a_client_token_is_made_once_and_sent_with_every_attempt() {
    let server = TestServer::start().await;
    let client = client_for(&server)
        .clock(ManualClock::new())
        .build()
        .unwrap();
    server.push(error_reply(503, "ServiceUnavailable"));
    server.push(Reply::Json(
        200,
        r#"{"RequestId":"R","AllocationId":"eip-1"}"#.into(),
    ));
    let out = client
        .create_eip_instance()
        .ens_region_id("cn-a")
        .instance_charge_type("PostPaid")
        .internet_charge_type("95BandwidthByMonth")
        .bandwidth(5)
        .send()
        .await
        .unwrap();
    assert_eq!(out.allocation_id.as_deref(), Some("eip-1"));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2, "a write with a token is retried after a 503");
    let tokens: Vec<&str> = reqs
        .iter()
        .map(|r| r.param("ClientToken").unwrap())
        .collect();
    assert_eq!(tokens[0], tokens[1]);
    assert_eq!(tokens[0].len(), 32);

    // The caller's own token, and a fresh one for the next call.
    client
        .create_eip_instance()
        .ens_region_id("cn-a")
        .instance_charge_type("PostPaid")
        .internet_charge_type("95BandwidthByMonth")
        .client_token("mine-1")
        .send()
        .await
        .unwrap();
    client
        .create_eip_instance()
        .ens_region_id("cn-a")
        .instance_charge_type("PostPaid")
        .internet_charge_type("95BandwidthByMonth")
        .send()
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(reqs[2].param("ClientToken"), Some("mine-1"));
    assert_ne!(reqs[3].param("ClientToken"), Some(tokens[0]));
}

#[tokio::test]
async fn each_kind_of_operation_has_its_retry_rule() {
    let server = TestServer::start().await;
    let client = client_for(&server)
        .clock(ManualClock::new())
        .build()
        .unwrap();

    // A read: retried after a 503.
    server.push(error_reply(503, "ServiceUnavailable"));
    server.push(ok("R1"));
    client.describe_instances().send().await.unwrap();
    assert_eq!(server.requests().len(), 2);

    // A write that sets absolute values: retried after a 503.
    server.push(error_reply(503, "ServiceUnavailable"));
    server.push(ok("R2"));
    client
        .modify_instance_attribute()
        .instance_id("i-1")
        .instance_name("web-1")
        .send()
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 4);

    // Any other write: retried after throttling (nothing was applied)...
    server.push(error_reply(400, "Throttling.User"));
    server.push(ok("R3"));
    client
        .reboot_instance()
        .instance_id("i-1")
        .send()
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 6);

    // ...never after a 503, whose outcome is unknown: no second reboot.
    server.push(error_reply(503, "ServiceUnavailable"));
    let e = client
        .reboot_instance()
        .instance_id("i-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(server.requests().len(), 7);
    assert!(e.is_outcome_unknown(), "{e:?}");
    assert!(e.to_string().contains("RebootInstance"), "{e}");

    // A refusal in a 200 answer is the error it names, not a success.
    server.push(Reply::Json(
        200,
        r#"{"RequestId":"R4","Code":"IncorrectInstanceStatus","Message":"stopped"}"#.into(),
    ));
    let e = client
        .reboot_instance()
        .instance_id("i-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::IncorrectInstanceStatus));
    assert_eq!(e.http_status(), Some(200));
    assert_eq!(e.request_id(), Some("R4"));
}

#[tokio::test]
async fn typed_setters_lists_and_nested_objects() {
    let server = TestServer::start().await;
    let client = client_for(&server).build().unwrap();
    server.push(Reply::Json(
        200,
        r#"{"RequestId":"R","InstanceIds":{"InstanceIdSet":["i-1","i-2"]}}"#.into(),
    ));
    let out = client
        .run_instances()
        .ens_region_id("cn-a")
        .instance_type("ens.sn1.small")
        .amount(2)
        .system_disk(SystemDisk::new().size(40).category("cloud_efficiency"))
        .internet_charge_type("95BandwidthByMonth")
        .instance_charge_type("PostPaid")
        .send()
        .await
        .unwrap();
    assert_eq!(out.instance_ids, ["i-1", "i-2"]);
    let r = &server.requests()[0];
    assert_eq!(r.param("Amount"), Some("2"));
    let disk: serde_json::Value = serde_json::from_str(r.param("SystemDisk").unwrap()).unwrap();
    assert_eq!(
        disk,
        serde_json::json!({"Size": 40, "Category": "cloud_efficiency"})
    );
}

#[tokio::test]
async fn answers_decode_leniently_and_a_wrong_kind_names_its_path() {
    let server = TestServer::start().await;
    let client = client_for(&server).build().unwrap();
    server.push(Reply::Json(
        200,
        r#"{"RequestId":"R","Code":"0","TotalCount":"2","PageNumber":1,"PageSize":"10",
            "Instances":{"Instance":[{"InstanceId":"i-1","Status":"Running","Memory":"2048",
              "SecurityGroupIds":{"SecurityGroupId":["sg-1"]}},{"InstanceId":"i-2","Status":null}]}}"#
            .into(),
    ));
    let page = client
        .describe_instances()
        .page_size(10)
        .send()
        .await
        .unwrap();
    assert_eq!(page.total_count, Some(2));
    assert_eq!(page.instances.len(), 2);
    assert_eq!(page.instances[0].memory, Some(2048));
    assert_eq!(page.instances[0].security_group_ids, ["sg-1"]);
    assert_eq!(page.instances[1].status, None);

    server.push(Reply::Json(
        200,
        r#"{"RequestId":"R","Instances":{"Instance":[{"InstanceId":"i-1","Memory":{"x":1}}]}}"#
            .into(),
    ));
    let e = client.describe_instances().send().await.unwrap_err();
    let Error::InvalidResponse(r) = &e else {
        panic!("{e:?}")
    };
    assert!(
        r.reason.contains("Instances.Instance[0].Memory"),
        "{}",
        r.reason
    );
    assert_eq!(r.request_id.as_deref(), Some("R"));
}
