//! The SDK against the embedded emulator: a stateful peer that verifies signatures. Every
//! AssociateHaVip code produced by a real condition, the waiter through real transitions
//! (status trap included), faults, STS, clocks, and 1,000 concurrent calls.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use alibabacloud_ens::clock::ManualClock;
use alibabacloud_ens::emulator::{AccessKey, Emulator, Fault, FaultTarget};
use alibabacloud_ens::{
    AssociationStatus, Client, Credentials, Error, ErrorCode, HaVipStatus, InstanceType,
    RetryConfig, SignatureVersion,
};

const VERSIONS: [SignatureVersion; 2] = [SignatureVersion::V1, SignatureVersion::V3];

fn client(emu: &Emulator, version: SignatureVersion) -> Client {
    Client::builder()
        .endpoint(emu.endpoint())
        .credentials(emu.credentials())
        .signature_version(version)
        .build()
        .unwrap()
}

async fn demo(delay: Duration) -> Emulator {
    Emulator::builder()
        .demo()
        .associate_delay(delay)
        .unassociate_delay(delay)
        .start()
        .await
        .unwrap()
}

async fn associate(
    c: &Client,
    havip: &str,
    instance: &str,
    t: Option<InstanceType>,
) -> Result<(), Error> {
    let mut b = c.associate_ha_vip().ha_vip_id(havip).instance_id(instance);
    if let Some(t) = t {
        b = b.instance_type(t);
    }
    b.send().await.map(|_| ())
}

#[tokio::test]
async fn every_associate_error_code_comes_from_a_real_condition() {
    for version in VERSIONS {
        let emu = Emulator::builder()
            .demo()
            .max_instances_per_ha_vip(2)
            .max_ha_vips_per_instance(1)
            .add_key(AccessKey::new("denied-key", "denied-secret").deny())
            .start()
            .await
            .unwrap();
        emu.add_ha_vip("havip-second", "vsw-demo", HaVipStatus::Available);
        let c = client(&emu, version);
        let eni = Some(InstanceType::NetworkInterface);
        let cases: Vec<(&str, &str, Option<InstanceType>, &str)> = vec![
            ("havip-nope", "i-demo", None, "HaVipNotFound"),
            ("havip-demo", "i-nope", None, "InstanceNotFound"),
            (
                "havip-demo",
                "eni-nope",
                eni.clone(),
                "NetworkInterfaceNotFound",
            ),
            ("havip-creating", "i-demo", None, "IncorrectHaVipStatus"),
            ("havip-demo", "i-starting", None, "IncorrectInstanceStatus"),
            ("havip-demo", "i-other", None, "IncorrectInstanceVSwitch"),
            (
                "havip-demo",
                "eni-secondary",
                eni.clone(),
                "NetworkInterfaceTypeNotSupported",
            ),
            (
                "havip-demo",
                "eni-busy",
                eni.clone(),
                "IncorrectNetworkInterfaceStatus",
            ),
            ("havip-demo*", "i-demo", None, "InvalidHaVipId"),
            (
                "havip-demo",
                "i-demo",
                Some(InstanceType::from_wire("Bogus")),
                "InvalidParameter.InstanceType",
            ),
        ];
        for (havip, instance, t, code) in cases {
            let err = associate(&c, havip, instance, t).await.unwrap_err();
            assert_eq!(
                err.code().map(ToString::to_string).as_deref(),
                Some(code),
                "{version}: {err}"
            );
            assert_eq!(err.http_status(), Some(400));
            let s = err.as_service_error().unwrap();
            assert!(s.request_id.is_some() && s.recommend.is_some() && s.host_id.is_some());
        }
        // Stopped instances are allowed.
        associate(&c, "havip-demo", "i-stopped", None)
            .await
            .unwrap();
        emu.complete_transitions();
        // Already associated.
        let err = associate(&c, "havip-demo", "i-stopped", None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(&ErrorCode::InstanceAlreadyAssociated));
        // The HAVIP's limit (2 here).
        associate(&c, "havip-demo", "i-demo", None).await.unwrap();
        emu.complete_transitions();
        let err = associate(&c, "havip-demo", "i-demo-2", None)
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            Some(&ErrorCode::CountLimitExceedInstanceOnHaVip)
        );
        // The instance's limit (1 here).
        let err = associate(&c, "havip-second", "i-demo", None)
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            Some(&ErrorCode::CountLimitExceedHaVipOnInstance)
        );
        // A key without the permission.
        let denied = Client::builder()
            .endpoint(emu.endpoint())
            .credentials(Credentials::new("denied-key", "denied-secret"))
            .signature_version(version)
            .build()
            .unwrap();
        let err = associate(&denied, "havip-second", "i-demo-2", None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(&ErrorCode::NoPermission));
        // SystemError has no natural trigger: an injected fault.
        emu.inject("AssociateHaVip", Fault::system_error(), 1);
        let err = associate(&c, "havip-second", "i-demo-2", None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(&ErrorCode::SystemError));
        assert_eq!(err.attempts(), Some(1), "SystemError is not retried");
    }
}

#[tokio::test]
async fn gateway_errors_from_real_conditions() {
    let emu = demo(Duration::from_millis(50)).await;
    for version in VERSIONS {
        let wrong_secret = Client::builder()
            .endpoint(emu.endpoint())
            .credentials(Credentials::new(emu.access_key_id(), "not-the-secret"))
            .signature_version(version)
            .build()
            .unwrap();
        let err = wrong_secret.describe_ha_vips().send().await.unwrap_err();
        assert_eq!(
            err.code(),
            Some(&ErrorCode::SignatureDoesNotMatch),
            "{version}"
        );
        assert_eq!(err.attempts(), Some(1));
        assert!(!err.to_string().contains("not-the-secret"));

        let unknown_key = Client::builder()
            .endpoint(emu.endpoint())
            .credentials(Credentials::new("nobody", "x"))
            .signature_version(version)
            .build()
            .unwrap();
        let err = unknown_key.describe_ha_vips().send().await.unwrap_err();
        assert_eq!(
            err.code(),
            Some(&ErrorCode::InvalidAccessKeyIdNotFound),
            "{version}"
        );

        // A clock 20 minutes fast signs a timestamp the gateway rejects.
        let clock = ManualClock::new();
        clock.advance(Duration::from_secs(20 * 60));
        let skewed = Client::builder()
            .endpoint(emu.endpoint())
            .credentials(emu.credentials())
            .signature_version(version)
            .clock(clock)
            .build()
            .unwrap();
        let err = skewed.describe_ha_vips().send().await.unwrap_err();
        assert_eq!(
            err.code(),
            Some(&ErrorCode::InvalidTimeStampExpired),
            "{version}"
        );
    }
}

#[tokio::test]
async fn sts_credentials_are_accepted_and_checked() {
    let emu = Emulator::builder()
        .demo()
        .security_token("the-token")
        .start()
        .await
        .unwrap();
    for version in VERSIONS {
        let ok = Client::builder()
            .endpoint(emu.endpoint())
            .credentials(Credentials::with_security_token(
                emu.access_key_id(),
                emu.credentials().access_key_secret(),
                "the-token",
            ))
            .signature_version(version)
            .build()
            .unwrap();
        assert_eq!(
            ok.describe_ha_vips().send_all().await.unwrap().len(),
            2,
            "{version}"
        );
        let without = Client::builder()
            .endpoint(emu.endpoint())
            .credentials(Credentials::new(
                emu.access_key_id(),
                emu.credentials().access_key_secret(),
            ))
            .signature_version(version)
            .build()
            .unwrap();
        let err = without.describe_ha_vips().send().await.unwrap_err();
        assert!(
            err.code()
                .unwrap()
                .to_string()
                .starts_with("InvalidSecurityToken"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn the_waiter_follows_real_transitions() {
    for version in VERSIONS {
        let emu = demo(Duration::from_millis(400)).await;
        let c = client(&emu, version);
        associate(&c, "havip-demo", "i-demo", None).await.unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        let out = c
            .wait_until_in_use("havip-demo", "i-demo")
            .on_progress(move |p| {
                s2.lock()
                    .unwrap()
                    .push((p.ha_vip_status.clone(), p.association_status.clone()))
            })
            .await
            .unwrap();
        assert!(out.ha_vip().is_in_use_by("i-demo"));
        assert!(
            out.elapsed() >= Duration::from_millis(300),
            "{:?}",
            out.elapsed()
        );
        assert_eq!(
            *seen.lock().unwrap(),
            vec![
                (
                    Some(HaVipStatus::Associating),
                    Some(AssociationStatus::Associating)
                ),
                (Some(HaVipStatus::InUse), Some(AssociationStatus::InUse)),
            ],
            "{version}"
        );
        assert_eq!(emu.ha_vip("havip-demo").unwrap().status, HaVipStatus::InUse);
    }
}

#[tokio::test]
async fn the_status_trap_on_a_real_peer() {
    let emu = demo(Duration::from_millis(400)).await;
    let c = client(&emu, SignatureVersion::V1);
    associate(&c, "havip-demo", "i-demo", None).await.unwrap();
    emu.complete_transitions();
    associate(&c, "havip-demo", "i-demo-2", None).await.unwrap();
    // Right now the HAVIP is InUse but i-demo-2 is still Associating.
    let h = emu.ha_vip("havip-demo").unwrap();
    assert_eq!(h.status, HaVipStatus::InUse);
    assert_eq!(
        h.association("i-demo-2").unwrap().status,
        AssociationStatus::Associating
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let out = c
        .wait_until_in_use("havip-demo", "i-demo-2")
        .on_progress(move |p| s2.lock().unwrap().push(p.association_status.clone()))
        .await
        .unwrap();
    assert!(
        out.elapsed() >= Duration::from_millis(300),
        "returned early: {:?}",
        out.elapsed()
    );
    assert!(out.polls() >= 2);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            Some(AssociationStatus::Associating),
            Some(AssociationStatus::InUse)
        ]
    );
}

#[tokio::test]
async fn unassociate_and_wait_until_gone() {
    let emu = demo(Duration::from_millis(200)).await;
    let c = client(&emu, SignatureVersion::V3);
    associate(
        &c,
        "havip-demo",
        "eni-demo",
        Some(InstanceType::NetworkInterface),
    )
    .await
    .unwrap();
    c.wait_until_in_use("havip-demo", "eni-demo").await.unwrap();
    let out = c
        .unassociate_ha_vip()
        .ha_vip_id("havip-demo")
        .instance_id("eni-demo")
        .send()
        .await
        .unwrap();
    assert!(!out.already_unassociated());
    let gone = c
        .wait_until_unassociated("havip-demo", "eni-demo")
        .await
        .unwrap();
    assert!(gone.ha_vip().associated_instances.is_empty());
    assert_eq!(gone.ha_vip().status, HaVipStatus::Available);
    let err = c
        .unassociate_ha_vip()
        .ha_vip_id("havip-demo")
        .instance_id("eni-demo")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::InstanceNotAssociated));
}

#[tokio::test]
async fn html_503_then_throttling_then_success_through_emulator_faults() {
    let emu = demo(Duration::from_millis(50)).await;
    emu.inject("AssociateHaVip", Fault::Html { status: 503 }, 1);
    emu.inject(
        "AssociateHaVip",
        Fault::service_error(
            400,
            "Throttling.User",
            "Request was denied due to user flow control.",
        ),
        1,
    );
    let c = Client::builder()
        .endpoint(emu.endpoint())
        .credentials(emu.credentials())
        .clock(ManualClock::new())
        .build()
        .unwrap();
    let out = c
        .associate_ha_vip()
        .ha_vip_id("havip-demo")
        .instance_id("i-demo")
        .send()
        .await
        .unwrap();
    assert_eq!(out.attempts(), 3);
    let records: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.action.as_deref() == Some("AssociateHaVip"))
        .collect();
    assert_eq!(records.len(), 3);
    let mut nonces: Vec<String> = records.iter().map(|r| r.nonce.clone().unwrap()).collect();
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 3, "each attempt has its own nonce");
    assert_eq!(records[2].code, "Success");
}

#[tokio::test]
async fn a_permanent_error_is_one_attempt_with_code_request_id_and_recommend() {
    let emu = demo(Duration::from_millis(50)).await;
    let c = client(&emu, SignatureVersion::V1);
    let err = associate(&c, "havip-gone", "i-demo", None)
        .await
        .unwrap_err();
    assert_eq!(err.attempts(), Some(1));
    let s = err.as_service_error().unwrap();
    assert_eq!(s.code, ErrorCode::HaVipNotFound);
    let logged = emu.requests().last().unwrap().request_id.clone();
    assert_eq!(s.request_id.as_deref(), Some(logged.as_str()));
    assert!(s.recommend.as_deref().unwrap().starts_with("https://"));
    assert!(err.to_string().contains(&logged));
}

#[tokio::test]
async fn a_dropped_connection_after_the_write_is_reported_as_success() {
    for version in VERSIONS {
        let emu = demo(Duration::from_millis(50)).await;
        emu.inject("AssociateHaVip", Fault::DropAfterApply, 1);
        let c = Client::builder()
            .endpoint(emu.endpoint())
            .credentials(emu.credentials())
            .signature_version(version)
            .clock(ManualClock::new())
            .build()
            .unwrap();
        let out = c
            .associate_ha_vip()
            .ha_vip_id("havip-demo")
            .instance_id("i-demo")
            .send()
            .await
            .unwrap();
        assert!(out.already_associated(), "{version}");
        assert_eq!(
            out.attempts(),
            1,
            "the check found the association: no second write"
        );
        let writes = emu
            .requests()
            .iter()
            .filter(|r| r.action.as_deref() == Some("AssociateHaVip"))
            .count();
        assert_eq!(writes, 1);
        // And it really is associated, once.
        emu.complete_transitions();
        let h = emu.ha_vip("havip-demo").unwrap();
        assert_eq!(h.associated_instances.len(), 1);
        assert!(h.is_in_use_by("i-demo"));

        emu.inject("UnassociateHaVip", Fault::DropAfterApply, 1);
        let out = c
            .unassociate_ha_vip()
            .ha_vip_id("havip-demo")
            .instance_id("i-demo")
            .send()
            .await
            .unwrap();
        assert!(out.already_unassociated(), "{version}");
    }
}

#[tokio::test]
async fn truncated_and_html_answers_from_the_peer_are_typed_errors() {
    let emu = demo(Duration::from_millis(50)).await;
    let c = Client::builder()
        .endpoint(emu.endpoint())
        .credentials(emu.credentials())
        .retry_config(RetryConfig::disabled())
        .build()
        .unwrap();
    emu.inject(FaultTarget::Any, Fault::TruncatedJson, 1);
    let err = c.describe_ha_vips().send().await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidResponse(r) if r.http_status == 200 && r.reason.contains("truncated")),
        "{err:?}"
    );
    emu.inject(FaultTarget::Any, Fault::Html { status: 502 }, 1);
    let err = c.describe_ha_vips().send().await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidResponse(r) if r.http_status == 502 && r.body_snippet.contains('<')),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_completes_a_thousand_concurrent_calls() {
    let emu = demo(Duration::from_millis(50)).await;
    let c = client(&emu, SignatureVersion::V1);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..1000 {
        let c = c.clone();
        tasks.spawn(async move {
            let page = c.describe_ha_vips().ha_vip_id("havip-demo").send().await?;
            Ok::<_, Error>((i, page))
        });
    }
    let mut done = 0;
    while let Some(r) = tasks.join_next().await {
        let (_, page) = r.unwrap().unwrap();
        assert_eq!(page.ha_vips().len(), 1);
        assert_eq!(page.ha_vips()[0].ha_vip_id, "havip-demo");
        done += 1;
    }
    assert_eq!(done, 1000);
    let nonces: std::collections::HashSet<String> =
        emu.requests().into_iter().filter_map(|r| r.nonce).collect();
    assert_eq!(
        nonces.len(),
        1000,
        "every call was accepted with its own nonce"
    );
}

#[tokio::test]
async fn pagination_against_the_peer() {
    let emu = demo(Duration::from_millis(50)).await;
    for i in 0..23 {
        emu.add_ha_vip(
            &format!("havip-p{i:02}"),
            "vsw-demo",
            HaVipStatus::Available,
        );
    }
    let c = client(&emu, SignatureVersion::V3);
    let all = c.describe_ha_vips().page_size(5).send_all().await.unwrap();
    assert_eq!(all.len(), 25);
    let available = c
        .describe_ha_vips()
        .status(HaVipStatus::Available)
        .vswitch_id("vsw-demo")
        .send_all()
        .await
        .unwrap();
    assert_eq!(available.len(), 24);
}
