//! Every credentials source, traced at every level (TRACE included): no secret, STS token,
//! OIDC token, metadata session token or signature appears in any span or event.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use alibabacloud_ens::clock::ManualClock;
use alibabacloud_ens::credentials::{EcsRamRoleProvider, OidcRoleArnProvider, RamRoleArnProvider};
use alibabacloud_ens::emulator::{AccessKey, Emulator};
use alibabacloud_ens::{Client, ProvideCredentials};
use common::capture::Capture;
use common::*;

const ROLE: &str = "acs:ram::1234567890:role/failover";
const OIDC_TOKEN: &str = "eyJ.OiDcJwT.DoNoTlEaK";
const METADATA_TOKEN: &str = "ImDs-SeSsIoN-DoNoTlEaK";

fn creds_json(id: &str, flat: bool) -> String {
    let expiry = alibabacloud_ens::signer::format_timestamp(time::OffsetDateTime::from(
        SystemTime::now() + Duration::from_secs(3600),
    ));
    let fields = format!(
        r#""AccessKeyId":"{id}","AccessKeySecret":"{id}-SeCrEt","SecurityToken":"{id}-ToKeN","Expiration":"{expiry}""#
    );
    if flat {
        format!(r#"{{"Code":"Success",{fields}}}"#)
    } else {
        format!(r#"{{"RequestId":"R-{id}","Credentials":{{{fields}}}}}"#)
    }
}

#[tokio::test(flavor = "current_thread")]
async fn no_source_leaks_a_secret_at_trace_level() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let mut secrets: Vec<String> = vec![
        OIDC_TOKEN.into(),
        METADATA_TOKEN.into(),
        alibabacloud_ens::emulator::DEFAULT_ACCESS_KEY_SECRET.into(),
    ];
    for id in ["STS.role", "STS.role2", "STS.oidc", "STS.ecs"] {
        secrets.push(format!("{id}-SeCrEt"));
        secrets.push(format!("{id}-ToKeN"));
    }

    // A RAM role used by a client; its refresh fails once, then a malformed answer (which
    // holds a secret), then succeeds.
    let emu = Emulator::start_demo().await.unwrap();
    for id in ["STS.role", "STS.role2"] {
        emu.add_key(
            AccessKey::new(id, format!("{id}-SeCrEt")).security_token(format!("{id}-ToKeN")),
        );
    }
    let sts = TestServer::start().await;
    sts.push(Reply::Json(200, creds_json("STS.role", false)));
    sts.push(error_reply(503, "ServiceUnavailable"));
    sts.push(Reply::Json(
        200,
        r#"{"RequestId":"R-bad","Credentials":{"AccessKeyId":"STS.role2","AccessKeySecret":"STS.role2-SeCrEt"}}"#.into(),
    ));
    sts.push(Reply::Json(200, creds_json("STS.role2", false)));
    let clock = ManualClock::new();
    let role = Arc::new(
        RamRoleArnProvider::builder(emu.credentials(), ROLE)
            .sts_endpoint(sts.endpoint())
            .clock(clock.clone())
            .build()
            .unwrap(),
    );
    let client = Client::builder()
        .endpoint(emu.endpoint())
        .credentials_provider(Arc::clone(&role))
        .build()
        .unwrap();
    client.describe_ha_vips().send().await.unwrap();
    // Due (a 503), then after the backoff (a malformed answer), then again (success): all in
    // the background, while the client keeps the valid credentials.
    for (i, secs) in [3301, 2, 4].into_iter().enumerate() {
        clock.advance(Duration::from_secs(secs));
        client.describe_ha_vips().send().await.unwrap();
        // Until the refresh has recorded its outcome (it is traced).
        let outcomes = || {
            capture
                .all_text()
                .matches("credentials refreshed")
                .chain(capture.all_text().matches("refreshing credentials failed"))
                .count()
        };
        for _ in 0..2000 {
            if outcomes() == i + 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    assert_eq!(sts.requests().len(), 4);
    let c = role.provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "STS.role2");
    for r in sts.requests() {
        secrets.push(r.param("Signature").unwrap().to_owned());
    }

    // The OIDC role.
    let dir = std::env::temp_dir().join(format!("ens-cred-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token_file = dir.join("token");
    std::fs::write(&token_file, OIDC_TOKEN).unwrap();
    let oidc_sts = TestServer::start().await;
    oidc_sts.push(error_reply(400, "InvalidParameter.OIDCToken"));
    oidc_sts.push(Reply::Json(200, creds_json("STS.oidc", false)));
    let oidc = OidcRoleArnProvider::builder(ROLE, "acs:ram::1:oidc-provider/p", &token_file)
        .sts_endpoint(oidc_sts.endpoint())
        .clock(clock.clone())
        .build()
        .unwrap();
    assert!(oidc.provide_credentials().await.is_err());
    clock.advance(Duration::from_secs(2));
    assert_eq!(
        oidc.provide_credentials().await.unwrap().access_key_id(),
        "STS.oidc"
    );
    let _ = std::fs::remove_dir_all(&dir);

    // The instance RAM role: the token flow, then a failure, then the credentials.
    let imds = TestServer::start().await;
    imds.push(Reply::Raw(200, "text/plain", METADATA_TOKEN.into()));
    imds.push(Reply::Raw(200, "text/plain", b"failover".to_vec()));
    imds.push(Reply::Raw(
        200,
        "application/json",
        creds_json("STS.ecs", true).into(),
    ));
    let ecs = EcsRamRoleProvider::builder()
        .endpoint(imds.endpoint())
        .clock(clock.clone())
        .build()
        .unwrap();
    assert_eq!(
        ecs.provide_credentials().await.unwrap().access_key_id(),
        "STS.ecs"
    );
    assert_eq!(
        imds.requests()[1].header("x-aliyun-ecs-metadata-token"),
        Some(METADATA_TOKEN)
    );

    // Debug output of every provider, too.
    let debug = format!("{role:?} {oidc:?} {ecs:?} {client:?}");
    let everything = format!(
        "{}\n{:?}\n{debug}",
        capture.all_text(),
        capture.lines.lock().unwrap()
    );
    assert!(
        everything.contains("credentials refreshed"),
        "the refreshes are traced: {everything}"
    );
    assert!(everything.contains("refreshing credentials failed"));
    for s in &secrets {
        assert!(
            !everything.contains(s.as_str()),
            "`{s}` leaked:\n{everything}"
        );
    }
    assert!(!everything.contains("Signature="), "{everything}");
}

/// The STS path (AssumeRole through the crate's transport), traced at TRACE: answers that hold
/// secrets (an HTML page, an answer too large, credentials missing a field) reach neither an
/// event nor an error; the errors name the step, the status and what was wrong.
#[tokio::test(flavor = "current_thread")]
async fn sts_answers_reach_no_event_and_no_error() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let leaked = ["LeAkEd-SeCrEt-1", "LeAkEd-SeCrEt-2", "LeAkEd-SeCrEt-3"];
    let sts = TestServer::start().await;
    for _ in 0..3 {
        // A failure that may pass: the refresh tries three times.
        sts.push(Reply::Raw(
            502,
            "text/html",
            format!("<html>{}</html>", leaked[0]).into_bytes(),
        ));
    }
    let huge = format!(
        r#"{{"RequestId":"R-huge","Credentials":{{"AccessKeySecret":"{}","Pad":"{}"}}}}"#,
        leaked[1],
        "x".repeat(70_000)
    );
    sts.push(Reply::Json(200, huge));
    sts.push(Reply::Json(
        200,
        format!(
            r#"{{"RequestId":"R-partial","Credentials":{{"AccessKeyId":"STS.x","AccessKeySecret":"{}","Expiration":"2030-01-01T00:00:00Z"}}}}"#,
            leaked[2]
        ),
    ));
    let clock = ManualClock::new();
    let role = RamRoleArnProvider::builder(alibabacloud_ens::Credentials::new(AK, SECRET), ROLE)
        .sts_endpoint(sts.endpoint())
        .clock(clock.clone())
        .build()
        .unwrap();
    let mut errors = Vec::new();
    for _ in 0..3 {
        errors.push(role.provide_credentials().await.unwrap_err());
        // Past the backoff after a failure.
        clock.advance(Duration::from_secs(120));
    }
    assert_eq!(sts.requests().len(), 5);
    let step = format!(
        "ram_role_arn: AssumeRole of role `{ROLE}` at {}/",
        sts.endpoint()
    );
    assert_eq!(
        errors[0].message,
        format!("{step}: HTTP 502 with an HTML body, not a JSON error")
    );
    assert_eq!(
        errors[1].message,
        format!("{step}: the answer is larger than 65536 bytes (HTTP 200)")
    );
    assert_eq!(
        errors[2].message,
        format!(
            "{step}: the answer has no `Credentials.SecurityToken` (HTTP 200) (request id \
             R-partial)"
        )
    );
    let mut shown = format!(
        "{}\n{:?}",
        capture.all_text(),
        capture.lines.lock().unwrap()
    );
    for e in &errors {
        shown.push_str(&format!("\n{e}\n{e:?}"));
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            shown.push_str(&format!("\n{s}"));
            source = s.source();
        }
    }
    // The attempts were traced (the transport's spans), without the answers.
    assert!(shown.contains("ens_attempt"), "{shown}");
    assert!(shown.contains("AssumeRole"), "{shown}");
    for s in leaked.iter().chain(&[SECRET]) {
        assert!(!shown.contains(s), "`{s}` leaked:\n{shown}");
    }
    for r in sts.requests() {
        let signature = r.param("Signature").unwrap();
        assert!(!shown.contains(signature), "a signature leaked:\n{shown}");
    }
}
