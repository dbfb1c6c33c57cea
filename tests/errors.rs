//! Every error answer shape maps to a typed error that keeps the HTTP status, the request id and
//! the server's advice, never panics, and never shows a secret.

mod common;

use alibabacloud_ens::error::{TimeoutKind, MAX_SNIPPET_BYTES};
use alibabacloud_ens::{Error, ErrorCode, RetryConfig};
use common::*;

/// Every code of the seed page's table, UnassociateHaVip's, and the gateway's, with its status.
const DOCUMENTED: &[(&str, u16)] = &[
    ("InstanceNotFound", 400),
    ("InvalidInstanceType", 400),
    ("MissingHaVipId", 400),
    ("HaVipNotFound", 400),
    ("IncorrectHaVipStatus", 400),
    ("SystemError", 400),
    ("InstanceAlreadyAssociated", 400),
    ("IncorrectNetworkInterfaceStatus", 400),
    ("NetworkInterfaceNotFound", 400),
    ("NetworkInterfaceTypeNotSupported", 400),
    ("IncorrectInstanceVSwitch", 400),
    ("IncorrectInstanceStatus", 400),
    ("CountLimitExceed.HaVipOnInstance", 400),
    ("CountLimitExceed.InstanceOnHaVip", 400),
    ("NoPermission", 400),
    ("InvalidParameter.InstanceId", 400),
    ("InstanceNotAssociated", 400),
    ("IncorrectInstanceAssociationStatus", 400),
    ("MissingParameter", 400),
    ("InvalidParameter", 400),
    ("InvalidAccessKeyId.NotFound", 404),
    ("InvalidAccessKeyId.Inactive", 400),
    ("IncompleteSignature", 400),
    ("SignatureDoesNotMatch", 403),
    ("SignatureNonceUsed", 400),
    ("InvalidTimeStamp.Format", 400),
    ("InvalidTimeStamp.Expired", 400),
    ("UnsupportedHTTPMethod", 400),
    ("InvalidAction.NotFound", 404),
    ("InvalidApi.NotFound", 404),
    ("InvalidProtocol.NeedSsl", 404),
    ("Throttling", 400),
    ("Throttling.User", 400),
    ("Throttling.Api", 400),
    ("Forbidden.RAM", 403),
    ("Forbidden", 403),
    ("InvalidSecurityToken.Expired", 400),
    ("InvalidSecurityToken.Malformed", 400),
    ("InvalidSecurityToken.MismatchWithAccessKey", 400),
    ("InternalError", 500),
    ("ServiceUnavailable", 503),
    ("Some.FutureCode", 400),
];

#[test]
fn every_documented_code_round_trips_to_its_wire_string() {
    for (code, _) in DOCUMENTED {
        let parsed = ErrorCode::from_wire(code);
        assert_eq!(parsed.to_string(), *code);
        assert_eq!(
            parsed.is_retryable(),
            code.starts_with("Throttling")
                || *code == "InternalError"
                || *code == "ServiceUnavailable",
            "{code}"
        );
    }
    for known in ErrorCode::KNOWN {
        assert_eq!(&ErrorCode::from_wire(&known.to_string()), known);
        assert!(!matches!(known, ErrorCode::Unknown(_)));
    }
    assert_eq!(
        ErrorCode::from_wire("InvalidInstanceType"),
        ErrorCode::Invalid("InstanceType".into())
    );
    assert_eq!(
        ErrorCode::from_wire("MissingHaVipId").parameter(),
        Some("HaVipId")
    );
    assert_eq!(
        ErrorCode::from_wire("InvalidParameter.InstanceId"),
        ErrorCode::InvalidParameterNamed("InstanceId".into())
    );
    assert_eq!(
        ErrorCode::from_wire("Some.FutureCode"),
        ErrorCode::Unknown("Some.FutureCode".into())
    );
}

#[tokio::test]
async fn every_documented_code_reaches_the_caller_with_status_and_advice() {
    let server = TestServer::start().await;
    let client = client_for(&server)
        .retry_config(RetryConfig::disabled())
        .build()
        .unwrap();
    for (code, status) in DOCUMENTED {
        server.push(error_reply(*status, code));
        let err = client
            .associate_ha_vip()
            .ha_vip_id("havip-1")
            .instance_id("i-1")
            .send()
            .await
            .unwrap_err();
        let s = err
            .as_service_error()
            .unwrap_or_else(|| panic!("{code}: {err:?}"));
        assert_eq!(s.code.to_string(), *code);
        assert_eq!(s.http_status, *status);
        assert_eq!(
            s.request_id.as_deref(),
            Some(format!("REQ-{code}").as_str())
        );
        assert_eq!(s.host_id.as_deref(), Some("ens.aliyuncs.com"));
        assert_eq!(
            s.recommend.as_deref(),
            Some(format!("https://api.aliyun.com/troubleshoot?q={code}").as_str())
        );
        assert_eq!(s.message, format!("msg for {code}"));
        let text = err.to_string();
        assert!(
            text.contains(code) && text.contains("REQ-") && text.contains(&status.to_string()),
            "{text}"
        );
        assert!(text.starts_with("AssociateHaVip failed with"), "{text}");
    }
}

#[tokio::test]
async fn access_denied_detail_and_lower_camel_keys_are_kept() {
    let server = TestServer::start().await;
    server.push(Reply::Json(
        403,
        r#"{"requestId":"r-1","code":"Forbidden.RAM","message":"User not authorized","AccessDeniedDetail":{"AuthAction":"ens:AssociateHaVip","PolicyType":"AccountLevelIdentityBasedPolicy"}}"#.into(),
    ));
    let client = client_for(&server).build().unwrap();
    let err = client
        .associate_ha_vip()
        .ha_vip_id("havip-1")
        .instance_id("i-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::ForbiddenRam));
    assert_eq!(err.request_id(), Some("r-1"));
    assert_eq!(err.http_status(), Some(403));
    let detail = err
        .as_service_error()
        .unwrap()
        .access_denied_detail
        .clone()
        .unwrap();
    assert!(detail.contains("ens:AssociateHaVip"));
    assert_eq!(err.attempts(), Some(1), "permission errors are not retried");
}

fn invalid(err: &Error) -> &alibabacloud_ens::error::InvalidResponse {
    match err {
        Error::InvalidResponse(r) => r,
        other => panic!("expected InvalidResponse, got {other:?}"),
    }
}

#[tokio::test]
async fn non_json_answers_keep_status_and_a_bounded_snippet() {
    let server = TestServer::start().await;
    let client = client_for(&server)
        .retry_config(RetryConfig::disabled())
        .build()
        .unwrap();
    let html =
        b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>".to_vec();
    let cases: Vec<(Reply, u16, &str)> = vec![
        (Reply::Raw(502, "text/html", html.clone()), 502, "HTML"),
        (Reply::Raw(503, "text/plain", Vec::new()), 503, "empty"),
        (
            Reply::Raw(200, "application/json", Vec::new()),
            200,
            "empty",
        ),
        (Reply::Raw(200, "text/html", html), 200, "HTML"),
        (
            Reply::Json(200, r#"{"RequestId":"abc","#.into()),
            200,
            "truncated",
        ),
        (
            Reply::Json(200, r#"{"RequestId":["not","a","string"]}"#.into()),
            200,
            "unexpected shape",
        ),
        (
            Reply::Json(200, r#"{"Other":1}"#.into()),
            200,
            "no RequestId",
        ),
        (Reply::Json(200, "null".into()), 200, ""),
        (Reply::Json(200, "[1,2]".into()), 200, ""),
        (
            Reply::Raw(200, "application/json", vec![0xff, 0xfe, 0x00, 0x80]),
            200,
            "not valid JSON",
        ),
        (
            Reply::Json(400, r#"{"Message":"no code here"}"#.into()),
            400,
            "without a JSON error code",
        ),
    ];
    for (i, (reply, status, needle)) in cases.into_iter().enumerate() {
        server.push(reply);
        let err = client
            .associate_ha_vip()
            .ha_vip_id("havip-1")
            .instance_id("i-1")
            .send()
            .await
            .unwrap_err();
        let r = invalid(&err);
        assert_eq!(r.http_status, status, "case {i}");
        assert!(r.reason.contains(needle), "case {i}: {}", r.reason);
        assert!(r.body_snippet.len() <= MAX_SNIPPET_BYTES);
        assert_eq!(err.http_status(), Some(status));
        assert!(
            err.to_string().contains(&format!("HTTP {status}")),
            "case {i}: {err}"
        );
    }
}

#[tokio::test]
async fn huge_bodies_are_cut_off_not_buffered() {
    let server = TestServer::start().await;
    let client = client_for(&server)
        .retry_config(RetryConfig::disabled())
        .build()
        .unwrap();
    let mut big = br#"{"RequestId":"x","HaVips":[""#.to_vec();
    big.resize(10 * 1024 * 1024, b'a');
    server.push(Reply::Raw(200, "application/json", big));
    let err = client.describe_ha_vips().send().await.unwrap_err();
    let r = invalid(&err);
    assert!(r.reason.contains("larger than"), "{}", r.reason);
    assert_eq!(r.http_status, 200);
    assert!(r.body_snippet.starts_with(r#"{"RequestId":"x""#));
    assert!(r.body_snippet.len() <= MAX_SNIPPET_BYTES);
}

#[tokio::test]
async fn request_id_falls_back_to_the_header_or_a_sniff() {
    let server = TestServer::start().await;
    let client = client_for(&server)
        .retry_config(RetryConfig::disabled())
        .build()
        .unwrap();
    server.push(Reply::Json(
        200,
        r#"{"RequestId":"SNIFFED","HaVips":"#.into(),
    ));
    let err = client.describe_ha_vips().send().await.unwrap_err();
    assert_eq!(err.request_id(), Some("SNIFFED"));
}

#[tokio::test]
async fn secrets_never_appear_in_errors() {
    let server = TestServer::start().await;
    let client = alibabacloud_ens::Client::builder()
        .endpoint(server.endpoint())
        .credentials(alibabacloud_ens::Credentials::with_security_token(
            AK, SECRET, TOKEN,
        ))
        .retry_config(RetryConfig::disabled())
        .build()
        .unwrap();
    let mut errors = Vec::new();
    server.push(error_reply(400, "SignatureDoesNotMatch"));
    server.push(Reply::Raw(502, "text/html", b"<html>bad</html>".to_vec()));
    server.push(Reply::Close);
    errors.push(
        client
            .associate_ha_vip()
            .ha_vip_id("havip-1")
            .instance_id("i-1")
            .send()
            .await
            .unwrap_err(),
    );
    // Reads, so that no write check consumes the scripted answers.
    for _ in 0..2 {
        errors.push(client.describe_ha_vips().send().await.unwrap_err());
    }
    // A refused connection.
    let dead = alibabacloud_ens::Client::builder()
        .endpoint("http://127.0.0.1:1")
        .credentials(alibabacloud_ens::Credentials::with_security_token(
            AK, SECRET, TOKEN,
        ))
        .retry_config(RetryConfig::disabled())
        .build()
        .unwrap();
    errors.push(dead.describe_ha_vips().send().await.unwrap_err());
    for e in &errors {
        for text in [e.to_string(), format!("{e:?}"), format!("{e:#?}")] {
            assert!(!text.contains(SECRET) && !text.contains(TOKEN), "{text}");
            // The signed URL (which holds the token in V1) is never printed either.
            assert!(!text.contains("Signature="), "{text}");
        }
    }
    assert!(format!("{client:?}").contains(AK));
    assert!(!format!("{client:?}").contains(SECRET));
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    let client = alibabacloud_ens::Client::builder()
        .endpoint("http://127.0.0.1:1")
        .credentials(alibabacloud_ens::Credentials::new(AK, SECRET))
        .retry_config(RetryConfig::disabled())
        .build()
        .unwrap();
    let err = client.describe_ha_vips().send().await.unwrap_err();
    match &err {
        Error::Transport(t) => {
            assert_eq!(t.kind, alibabacloud_ens::error::TransportErrorKind::Connect);
            assert_eq!(t.attempts, 1);
        }
        Error::Timeout(t) => assert_eq!(t.kind, TimeoutKind::Connect),
        other => panic!("{other:?}"),
    }
    assert!(err.is_retryable());
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = TestServer::start().await;
    let client = client_for(&server)
        .retry_config(RetryConfig::disabled())
        .build()
        .unwrap();
    // A signed URL (holding, with STS, the token) must never be replayed to another place.
    server.push(Reply::Redirect(format!("{}/elsewhere", server.endpoint())));
    let err = client.describe_ha_vips().send().await.unwrap_err();
    assert_eq!(err.http_status(), Some(302));
    assert_eq!(server.requests().len(), 1);
}

/// The codes LIFECYCLE.md lists for CreateHaVip, DeleteHaVips, ModifyHaVipAttribute and
/// UnassociateHaVip, and those the emulator answers where ENS documents none: each is a typed
/// variant (or a parameterised family naming the parameter), never `Unknown`, and round-trips.
#[test]
fn lifecycle_codes_are_typed() {
    let cases: &[(&str, ErrorCode)] = &[
        ("InstanceNotAssociated", ErrorCode::InstanceNotAssociated),
        (
            "IncorrectInstanceAssociationStatus",
            ErrorCode::IncorrectInstanceAssociationStatus,
        ),
        ("InstanceNotFound", ErrorCode::InstanceNotFound),
        ("HaVipNotFound", ErrorCode::HaVipNotFound),
        ("SystemError", ErrorCode::SystemError),
        ("NoPermission", ErrorCode::NoPermission),
        ("IncorrectHaVipStatus", ErrorCode::IncorrectHaVipStatus),
        ("InvalidName", ErrorCode::Invalid("Name".into())),
        ("MissingName", ErrorCode::Missing("Name".into())),
        ("MissingVSwitchId", ErrorCode::Missing("VSwitchId".into())),
        (
            "InvalidParameter.Amount",
            ErrorCode::InvalidParameterNamed("Amount".into()),
        ),
        (
            "InvalidParameter.HaVipIds",
            ErrorCode::InvalidParameterNamed("HaVipIds".into()),
        ),
        (
            "InvalidIPAddress.AlreadyUsed",
            ErrorCode::InvalidIpAddressAlreadyUsed,
        ),
        (
            "InvalidVSwitchId.NotFound",
            ErrorCode::InvalidVSwitchIdNotFound,
        ),
    ];
    for (wire, typed) in cases {
        let parsed = ErrorCode::from_wire(wire);
        assert_eq!(&parsed, typed, "{wire}");
        assert_eq!(parsed.to_string(), *wire);
        assert!(!parsed.is_retryable(), "{wire}");
    }
}
