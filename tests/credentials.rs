//! Roles end to end: a `Client` whose credentials come from a RAM role (a scripted STS on
//! 127.0.0.1), calling the emulator concurrently across credential rotations, with one STS call
//! per refresh, surviving a failed refresh, and a long waiter across a rotation. The providers
//! run on a `ManualClock`: nothing here waits for credentials to age.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use alibabacloud_ens::clock::{Clock, ManualClock};
use alibabacloud_ens::credentials::RamRoleArnProvider;
use alibabacloud_ens::emulator::{AccessKey, Emulator, InstanceStatus};
use alibabacloud_ens::{Client, Credentials, HaVipStatus, ProvideCredentials};
use common::*;

const ROLE: &str = "acs:ram::1234567890:role/failover";

fn secret_of(id: &str) -> String {
    format!("{id}-SeCrEt")
}

fn token_of(id: &str) -> String {
    format!("{id}-ToKeN")
}

fn expiration(at: SystemTime) -> String {
    alibabacloud_ens::signer::format_timestamp(time::OffsetDateTime::from(at))
}

/// An STS answer with credentials `id` expiring at `at`.
fn sts_answer(id: &str, at: SystemTime) -> Reply {
    Reply::Json(
        200,
        format!(
            r#"{{"RequestId":"REQ-{id}","AssumedRoleUser":{{"Arn":"{ROLE}/s","AssumedRoleId":"1:s"}},
                "Credentials":{{"AccessKeyId":"{id}","AccessKeySecret":"{}","SecurityToken":"{}",
                "Expiration":"{}"}}}}"#,
            secret_of(id),
            token_of(id),
            expiration(at)
        ),
    )
}

/// Lets the background refresh run until the provider hands out `id` (bounded, real time).
async fn until_serving(p: &dyn ProvideCredentials, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if p.provide_credentials().await.unwrap().access_key_id() == id {
            return;
        }
        assert!(Instant::now() < deadline, "never served {id}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Moves `clock` into the refresh window of the credentials `p` serves.
async fn make_due(clock: &ManualClock, p: &dyn ProvideCredentials) {
    let expiry = p.provide_credentials().await.unwrap().expiry().unwrap();
    let left = expiry.duration_since(clock.system_time()).unwrap();
    clock.advance(left - Duration::from_secs(300) + Duration::from_secs(1));
}

#[tokio::test]
async fn assume_role_is_signed_as_the_reference_signer_signs() {
    let sts = TestServer::start().await;
    let now = SystemTime::now();
    sts.push(sts_answer("STS.one", now + Duration::from_secs(3600)));
    let policy = r#"{"Version": "1", "Statement": [{"Action": ["ens:*"], "Effect": "Allow", "Resource": "*"}]}"#;
    let p = RamRoleArnProvider::builder(
        Credentials::with_security_token("STS.base", secret_of("STS.base"), "BaSe-ToKeN"),
        ROLE,
    )
    .role_session_name("session with spaces & ünïcode")
    .policy(policy)
    .external_id("ext id*~")
    .sts_endpoint(sts.endpoint())
    .build()
    .unwrap();
    let c = p.provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "STS.one");
    let r = &sts.requests()[0];
    assert_eq!(r.method, "GET");
    assert_eq!(
        r.param("Signature").unwrap(),
        reference_v1("GET", &r.query, &secret_of("STS.base"))
    );
    assert_eq!(r.param("SecurityToken"), Some("BaSe-ToKeN"));
    assert_eq!(r.param("Policy"), Some(policy));
    assert_eq!(
        r.param("RoleSessionName"),
        Some("session with spaces & ünïcode")
    );
    assert_eq!(r.param("ExternalId"), Some("ext id*~"));
}

#[tokio::test]
async fn concurrent_calls_across_rotations_one_sts_call_per_refresh_and_a_failed_refresh() {
    let emu = Emulator::start_demo().await.unwrap();
    let sts = TestServer::start().await;
    let now = SystemTime::now();
    // Five sets of credentials, each valid (on the emulator) for hours; the third refresh
    // fails once.
    let ids = ["STS.1", "STS.2", "STS.3", "STS.4"];
    for (i, id) in ids.iter().enumerate() {
        emu.add_key(AccessKey::new(*id, secret_of(id)).security_token(token_of(id)));
        let at = now + Duration::from_secs(3600 * (i as u64 + 1));
        sts.push(sts_answer(id, at));
        if i == 1 {
            sts.push(error_reply(503, "ServiceUnavailable"));
        }
    }
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

    // The keys the emulator saw, in order of first use; and the last one.
    let keys_used = || {
        let mut keys: Vec<String> = Vec::new();
        for r in emu.requests() {
            if let Some(k) = r.access_key_id {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        keys
    };
    let last_key = || emu.requests().last().and_then(|r| r.access_key_id.clone());

    // The first calls wait for one AssumeRole.
    burst(&client, 50).await;
    assert_eq!(sts.requests().len(), 1);
    assert_eq!(keys_used(), ["STS.1"]);

    // Rotation: due, the burst keeps the cached credentials while one refresh runs.
    make_due(&clock, &*role).await;
    burst(&client, 50).await;
    until_serving(&*role, "STS.2").await;
    assert_eq!(sts.requests().len(), 2);
    burst(&client, 20).await;
    assert_eq!(last_key().as_deref(), Some("STS.2"));

    // The next refresh fails: no call fails, STS is not asked on every call.
    make_due(&clock, &*role).await;
    burst(&client, 50).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while sts.requests().len() < 3 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    burst(&client, 50).await;
    assert_eq!(
        sts.requests().len(),
        3,
        "backing off, not asking on every call"
    );
    assert_eq!(last_key().as_deref(), Some("STS.2"));
    // After the backoff (at most a minute on this clock), the retry succeeds.
    clock.advance(Duration::from_secs(61));
    burst(&client, 10).await;
    until_serving(&*role, "STS.3").await;
    assert_eq!(sts.requests().len(), 4);

    // And once more.
    make_due(&clock, &*role).await;
    burst(&client, 50).await;
    until_serving(&*role, "STS.4").await;
    assert_eq!(sts.requests().len(), 5);
    burst(&client, 10).await;
    assert_eq!(keys_used(), ["STS.1", "STS.2", "STS.3", "STS.4"]);
    // Every call authenticated with its credentials' token: none failed.
    assert!(emu.requests().iter().all(|r| r.code == "Success"));
    // Every AssumeRole was signed with the emulator's base key.
    for r in sts.requests() {
        assert_eq!(r.param("AccessKeyId"), Some(emu.access_key_id()));
        assert_eq!(
            r.param("Signature").unwrap(),
            reference_v1(
                "GET",
                &r.query,
                alibabacloud_ens::emulator::DEFAULT_ACCESS_KEY_SECRET
            )
        );
    }
}

#[tokio::test]
async fn a_long_waiter_keeps_working_across_a_rotation() {
    let emu = Emulator::builder()
        .associate_delay(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    emu.add_ha_vip("havip-1", "vsw-1", HaVipStatus::Available);
    emu.add_instance("i-1", "vsw-1", InstanceStatus::Running);
    let sts = TestServer::start().await;
    let now = SystemTime::now();
    // Eight minutes: due after six, on the waiter's clock.
    for (id, minutes) in [("STS.a", 8), ("STS.b", 60)] {
        emu.add_key(AccessKey::new(id, secret_of(id)).security_token(token_of(id)));
        sts.push(sts_answer(id, now + Duration::from_secs(60 * minutes)));
    }
    // One clock for the client (timestamps, the waiter's pauses) and the role's cache: the
    // waiter's pauses age the credentials. It stays within the emulator's 15-minute skew.
    let clock = ManualClock::new();
    let role = Arc::new(
        RamRoleArnProvider::builder(emu.credentials(), ROLE)
            .sts_endpoint(sts.endpoint())
            .clock(clock.clone())
            // The waiter's pauses move this clock: no STS timeout may fire on them.
            .read_timeout(Duration::from_secs(24 * 3600))
            .build()
            .unwrap(),
    );
    let client = Client::builder()
        .endpoint(emu.endpoint())
        .credentials_provider(Arc::clone(&role))
        .clock(clock.clone())
        .build()
        .unwrap();
    client
        .associate_ha_vip()
        .ha_vip_id("havip-1")
        .instance_id("i-1")
        .send()
        .await
        .unwrap();
    // Once the role has rotated, the association completes.
    let watcher = {
        let sts = sts.clone();
        let role = Arc::clone(&role);
        async move {
            until_serving(&*role, "STS.b").await;
            assert_eq!(sts.requests().len(), 2);
            emu.complete_transitions();
            emu
        }
    };
    let (done, emu) = tokio::join!(
        client
            .wait_until_in_use("havip-1", "i-1")
            .max_wait(Duration::from_secs(900))
            .wait(),
        watcher
    );
    let done = done.unwrap();
    assert!(done.ha_vip().is_in_use_by("i-1"));
    let keys: Vec<String> = emu
        .requests()
        .iter()
        .filter_map(|r| r.access_key_id.clone())
        .collect();
    assert!(keys.contains(&"STS.a".to_owned()) && keys.contains(&"STS.b".to_owned()));
    assert!(emu.requests().iter().all(|r| r.code == "Success"));
}
