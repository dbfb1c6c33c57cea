//! `Client::call`: any action by name, through the client's signing, retries and errors.

mod common;

use alibabacloud_ens::clock::ManualClock;
use alibabacloud_ens::{Error, ErrorCode, SignatureVersion};
use common::{client_for, error_reply, reference_v1, reference_v3, Reply, TestServer, SECRET};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Regions {
    #[serde(rename = "RequestId")]
    request_id: String,
    #[serde(rename = "EnsRegions")]
    regions: Vec<String>,
}

#[tokio::test]
async fn decodes_into_a_callers_type_or_json_and_signs_v1() {
    let server = TestServer::start().await;
    server.push(Reply::Json(
        200,
        r#"{"RequestId":"R1","EnsRegions":["cn-a","cn-b"]}"#.into(),
    ));
    server.push(Reply::Json(
        200,
        r#"{"RequestId":"R2","TotalCount":"3"}"#.into(),
    ));
    let client = client_for(&server).build().unwrap();

    let regions: Regions = client
        .call("DescribeEnsRegions")
        .param("EnsRegionId", "cn-a b")
        .send()
        .await
        .unwrap();
    assert_eq!(regions.request_id, "R1");
    assert_eq!(regions.regions, ["cn-a", "cn-b"]);
    let json = client
        .call("DescribeInstances")
        .version("2099-01-01")
        .get()
        .param("InstanceIds", r#"["i-1","i-2"]"#)
        .send_json()
        .await
        .unwrap();
    assert_eq!(json["TotalCount"], "3");

    let reqs = server.requests();
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].param("Action"), Some("DescribeEnsRegions"));
    assert_eq!(reqs[0].param("Version"), Some("2017-11-10"));
    assert_eq!(reqs[0].param("EnsRegionId"), Some("cn-a b"));
    assert_eq!(reqs[1].method, "GET");
    assert_eq!(reqs[1].param("Version"), Some("2099-01-01"));
    assert_eq!(reqs[1].param("InstanceIds"), Some(r#"["i-1","i-2"]"#));
    for r in &reqs {
        assert_eq!(
            reference_v1(&r.method, &r.query, SECRET),
            r.param("Signature").unwrap()
        );
    }
}

#[tokio::test]
async fn v3_sends_the_version_in_its_header_and_body_parameters_in_the_body() {
    let server = TestServer::start().await;
    let client = client_for(&server)
        .signature_version(SignatureVersion::V3)
        .build()
        .unwrap();
    let _: serde_json::Value = client
        .call("ReinitInstance")
        .version("2017-11-10")
        .param("InstanceId", "i-1")
        .body_param("Password", "pa ss&word=é")
        .send()
        .await
        .unwrap();
    let r = &server.requests()[0];
    assert_eq!(r.header("x-acs-action"), Some("ReinitInstance"));
    assert_eq!(r.header("x-acs-version"), Some("2017-11-10"));
    assert_eq!(r.param("InstanceId"), Some("i-1"));
    assert_eq!(
        r.param("Password"),
        None,
        "a body parameter never goes in the URL"
    );
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&r.body).unwrap();
    assert_eq!(form, [("Password".to_owned(), "pa ss&word=é".to_owned())]);
    let (expected, sent, _) = reference_v3(r, SECRET);
    assert_eq!(expected, sent);
}

#[tokio::test]
async fn bad_input_is_refused_before_sending_and_names_the_parameter() {
    let server = TestServer::start().await;
    let client = client_for(&server).build().unwrap();
    let cases: Vec<(alibabacloud_ens::CallBuilder, &str)> = vec![
        (client.call(""), "Action"),
        (client.call("Describe Instances"), "Action"),
        (client.call("DescribeInstances").version("v3"), "Version"),
        (
            client.call("DescribeInstances").param("Signature", "x"),
            "Signature",
        ),
        (
            client.call("DescribeInstances").param("Timestamp", "x"),
            "Timestamp",
        ),
        (
            client
                .call("DescribeInstances")
                .param("A", "1")
                .body_param("A", "2"),
            "A",
        ),
        (
            client.call("DescribeInstances").param("a b", "1"),
            "parameter name",
        ),
        (
            client.call("DescribeInstances").param("", "1"),
            "parameter name",
        ),
    ];
    for (call, param) in cases {
        let e = call.send_json().await.unwrap_err();
        let Error::InvalidInput(i) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(i.parameter, param, "{e}");
    }
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_failure_code_in_a_200_answer_is_an_error() {
    let server = TestServer::start().await;
    let clock = ManualClock::new();
    server.push(Reply::Json(
        200,
        r#"{"RequestId":"R9","Code":"IncorrectInstanceStatus","Message":"not now"}"#.into(),
    ));
    server.push(Reply::Json(200, r#"{"RequestId":"R10","Code":0}"#.into()));
    let client = client_for(&server).clock(clock).build().unwrap();
    let e = client.call("StartInstance").send_json().await.unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::IncorrectInstanceStatus));
    assert_eq!(e.http_status(), Some(200));
    assert_eq!(e.request_id(), Some("R9"));
    assert!(e.to_string().contains("not now"), "{e}");
    let ok = client.call("StartInstance").send_json().await.unwrap();
    assert_eq!(ok["RequestId"], "R10");

    // Retried like the same refusal with an error status: throttling in a 200 answer, then
    // success.
    server.push(Reply::Json(
        200,
        r#"{"RequestId":"R11","Code":"Throttling.User","Message":"slow down"}"#.into(),
    ));
    server.push(Reply::Json(
        200,
        r#"{"RequestId":"R12","Code":"200"}"#.into(),
    ));
    let ok = client.call("StartInstance").send_json().await.unwrap();
    assert_eq!(ok["RequestId"], "R12");
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn an_answer_of_the_wrong_shape_names_the_path() {
    let server = TestServer::start().await;
    server.push(Reply::Json(
        200,
        r#"{"RequestId":"R1","EnsRegions":[7]}"#.into(),
    ));
    let client = client_for(&server).build().unwrap();
    let e = client
        .call("DescribeEnsRegions")
        .send::<Regions>()
        .await
        .unwrap_err();
    let Error::InvalidResponse(r) = &e else {
        panic!("{e:?}")
    };
    assert!(r.reason.contains("EnsRegions[0]"), "{}", r.reason);
    assert_eq!(r.request_id.as_deref(), Some("R1"));
}

#[tokio::test]
async fn reads_are_retried_writes_only_when_nothing_was_applied() {
    let server = TestServer::start().await;
    let client = client_for(&server)
        .clock(ManualClock::new())
        .build()
        .unwrap();

    // A read: a 503 is retried.
    server.push(error_reply(503, "ServiceUnavailable"));
    server.push(Reply::Json(200, r#"{"RequestId":"R"}"#.into()));
    client.call("DescribeEnsRegions").send_json().await.unwrap();
    assert_eq!(server.requests().len(), 2);

    // A write: throttling proves nothing was applied, so it is retried...
    server.push(error_reply(400, "Throttling.User"));
    server.push(Reply::Json(200, r#"{"RequestId":"R"}"#.into()));
    client.call("RebootInstance").send_json().await.unwrap();
    assert_eq!(server.requests().len(), 4);

    // ...but after a 503 its outcome is unknown: it is not sent again.
    server.push(error_reply(503, "ServiceUnavailable"));
    let e = client.call("RebootInstance").send_json().await.unwrap_err();
    assert_eq!(server.requests().len(), 5);
    assert!(e.is_outcome_unknown(), "{e:?}");

    // Unless the caller says it is idempotent.
    server.push(error_reply(503, "ServiceUnavailable"));
    server.push(Reply::Json(200, r#"{"RequestId":"R"}"#.into()));
    client
        .call("ModifyInstanceAttribute")
        .idempotent(true)
        .send_json()
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 7);
}

#[test]
fn the_builder_debug_shows_names_never_values() {
    let client = alibabacloud_ens::Client::builder()
        .credentials(alibabacloud_ens::Credentials::new("id", "secret"))
        .build()
        .unwrap();
    let d = format!(
        "{:?}",
        client
            .call("ReinitInstance")
            .body_param("Password", "hunter2")
    );
    assert!(d.contains("Password") && !d.contains("hunter2"), "{d}");
}
