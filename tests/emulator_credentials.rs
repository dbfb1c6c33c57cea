//! The emulator's STS and instance metadata service, with the SDK's providers: a `Client` whose
//! credentials come from them makes many concurrent ENS calls across several rotations, with
//! exactly one STS (or metadata) call per refresh, and survives an injected failed refresh.
//! The providers and the emulator's credentials share a `ManualClock`: credentials age without
//! anyone waiting.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use alibabacloud_ens::clock::{Clock, ManualClock};
use alibabacloud_ens::credentials::{
    DefaultCredentialsChain, EcsRamRoleProvider, OidcRoleArnProvider, RamRoleArnProvider,
};
use alibabacloud_ens::emulator::{Emulator, Fault, RequestRecord};
use alibabacloud_ens::{Client, Credentials, ProvideCredentials};
use common::burst;

const ROLE: &str = "acs:ram::1234567890:role/failover";
const OIDC_PROVIDER: &str = "acs:ram::1234567890:oidc-provider/ack-rrsa";
const OIDC_TOKEN: &str = "eyJ.emulator.OiDcToKeN";

fn count(emu: &Emulator, action: &str) -> usize {
    emu.requests()
        .iter()
        .filter(|r| r.action.as_deref() == Some(action))
        .count()
}

fn ens_calls(emu: &Emulator) -> Vec<RequestRecord> {
    emu.requests()
        .into_iter()
        .filter(|r| r.action.as_deref() == Some("DescribeHaVips"))
        .collect()
}

/// Waits (bounded, real time) until `p` serves credentials other than `old`.
async fn rotated(p: &dyn ProvideCredentials, old: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let id = p
            .provide_credentials()
            .await
            .unwrap()
            .access_key_id()
            .to_owned();
        if id != old {
            return id;
        }
        assert!(Instant::now() < deadline, "never rotated from {old}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Waits (bounded, real time) until the emulator has answered `n` requests of `action`.
async fn answered(emu: &Emulator, action: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while count(emu, action) < n {
        assert!(
            Instant::now() < deadline,
            "{action}: {} of {n}",
            count(emu, action)
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test]
async fn ram_role_from_the_emulators_sts_across_rotations_and_a_failed_refresh() {
    let clock = ManualClock::new();
    // Fifteen-minute credentials: refreshed from 225 s before expiry (a quarter).
    let emu = Emulator::builder()
        .demo()
        .ram_role(ROLE)
        .sts_credential_lifetime(Duration::from_secs(900))
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    let role = Arc::new(
        RamRoleArnProvider::builder(emu.credentials(), ROLE)
            .role_session_name("e2e")
            .sts_endpoint(emu.endpoint())
            .clock(clock.clone())
            .build()
            .unwrap(),
    );
    let client = Client::builder()
        .endpoint(emu.endpoint())
        .credentials_provider(Arc::clone(&role))
        .clock(clock.clone())
        .build()
        .unwrap();

    burst(&client, 40).await;
    assert_eq!(count(&emu, "AssumeRole"), 1);
    let mut current = role.provide_credentials().await.unwrap();
    assert!(current.access_key_id().starts_with("STS."));
    assert_eq!(current.provider_name(), Some("ram_role_arn"));
    let mut seen = vec![current.access_key_id().to_owned()];

    for rotation in 1..=4 {
        if rotation == 3 {
            // This refresh fails; the calls go on with the valid credentials.
            emu.inject("AssumeRole", Fault::service_unavailable(), 1);
        }
        clock.advance(Duration::from_secs(700));
        burst(&client, 40).await;
        if rotation == 3 {
            answered(&emu, "AssumeRole", rotation + 1).await;
            burst(&client, 40).await;
            assert_eq!(count(&emu, "AssumeRole"), rotation + 1, "backing off");
            // After the backoff (at most half of the 190 s left), the next refresh succeeds.
            clock.advance(Duration::from_secs(96));
            burst(&client, 5).await;
        }
        let id = rotated(&*role, current.access_key_id()).await;
        let failed = usize::from(rotation >= 3);
        assert_eq!(count(&emu, "AssumeRole"), rotation + 1 + failed);
        burst(&client, 20).await;
        assert_eq!(
            ens_calls(&emu).last().unwrap().access_key_id.as_deref(),
            Some(id.as_str())
        );
        current = role.provide_credentials().await.unwrap();
        seen.push(id);
    }
    seen.dedup();
    assert_eq!(seen.len(), 5, "five different credentials: {seen:?}");
    // Every ENS call succeeded, with its credentials' token.
    let calls = ens_calls(&emu);
    assert!(calls.len() >= 40 * 5);
    assert!(calls.iter().all(|r| r.code == "Success"));
    let sts: Vec<RequestRecord> = emu
        .requests()
        .into_iter()
        .filter(|r| r.action.as_deref() == Some("AssumeRole"))
        .collect();
    assert!(sts
        .iter()
        .all(|r| r.access_key_id.as_deref() == Some(emu.access_key_id())));
    assert_eq!(sts[0].param("RoleArn"), Some(ROLE));
    assert_eq!(sts[0].param("RoleSessionName"), Some("e2e"));
    assert_eq!(sts.iter().filter(|r| r.code != "Success").count(), 1);
}

#[tokio::test]
async fn issued_credentials_expire_and_chain() {
    let clock = ManualClock::new();
    let emu = Emulator::builder()
        .demo()
        .sts_credential_lifetime(Duration::from_secs(60))
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    let role = RamRoleArnProvider::builder(emu.credentials(), ROLE)
        .sts_endpoint(emu.endpoint())
        .clock(clock.clone())
        .build()
        .unwrap();
    let creds = role.provide_credentials().await.unwrap();
    let expiry = creds.expiry().unwrap();
    let lifetime = expiry.duration_since(clock.system_time()).unwrap();
    assert!(lifetime <= Duration::from_secs(60) && lifetime > Duration::from_secs(58));
    // Used directly (no refresh): accepted, then refused once expired.
    let fixed = |c: &Credentials| {
        Client::builder()
            .endpoint(emu.endpoint())
            .credentials(c.clone())
            .clock(clock.clone())
            .build()
            .unwrap()
    };
    fixed(&creds).describe_ha_vips().send().await.unwrap();
    clock.advance(Duration::from_secs(61));
    let e = fixed(&creds).describe_ha_vips().send().await.unwrap_err();
    assert_eq!(
        e.code().map(|c| c.to_string()).as_deref(),
        Some("InvalidSecurityToken.Expired")
    );
    // A token that does not go with the key.
    let wrong = Credentials::with_security_token(
        creds.access_key_id(),
        creds.access_key_secret(),
        "CAISwrong",
    );
    let e = fixed(&wrong).describe_ha_vips().send().await.unwrap_err();
    assert_eq!(
        e.code().map(|c| c.to_string()).as_deref(),
        Some("InvalidSecurityToken.Malformed")
    );
    // Role chaining: STS credentials assume the next role.
    let first = RamRoleArnProvider::builder(emu.credentials(), ROLE)
        .sts_endpoint(emu.endpoint())
        .clock(clock.clone())
        .build()
        .unwrap();
    let second = RamRoleArnProvider::builder(first, format!("{ROLE}-2"))
        .sts_endpoint(emu.endpoint())
        .clock(clock.clone())
        .build()
        .unwrap();
    let c = second.provide_credentials().await.unwrap();
    assert_eq!(c.provider_name(), Some("ram_role_arn/ram_role_arn"));
    fixed(&c).describe_ha_vips().send().await.unwrap();
    // Expired on demand.
    emu.expire_issued_credentials();
    let e = fixed(&c).describe_ha_vips().send().await.unwrap_err();
    assert_eq!(
        e.code().map(|c| c.to_string()).as_deref(),
        Some("InvalidSecurityToken.Expired")
    );
}

#[tokio::test]
async fn sts_refusals_reach_the_caller_as_service_errors() {
    let emu = Emulator::builder().ram_role(ROLE).start().await.unwrap();
    let build = |source: Credentials, role: &str| {
        RamRoleArnProvider::builder(source, role)
            .sts_endpoint(emu.endpoint())
            .build()
            .unwrap()
    };
    let code = |e: &alibabacloud_ens::error::CredentialsError| {
        std::error::Error::source(e)
            .map(|s| s.to_string())
            .unwrap_or_default()
    };
    let e = build(emu.credentials(), "acs:ram::1234567890:role/other")
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(
        code(&e).starts_with("AssumeRole failed with EntityNotExist.Role (HTTP 404)"),
        "{}",
        code(&e)
    );
    let e = build(Credentials::new(emu.access_key_id(), "wrong-secret"), ROLE)
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(
        code(&e).starts_with("AssumeRole failed with SignatureDoesNotMatch"),
        "{}",
        code(&e)
    );
    assert!(!format!("{e:?}{}", code(&e)).contains("wrong-secret"));
    // A request with the STS's actions but ENS's version is not STS's.
    let e = Client::builder()
        .endpoint(emu.endpoint())
        .credentials(emu.credentials())
        .build()
        .unwrap()
        .describe_ha_vips()
        .send()
        .await;
    assert!(e.is_ok());
}

#[tokio::test]
async fn oidc_role_from_the_emulators_sts() {
    let clock = ManualClock::new();
    let emu = Emulator::builder()
        .demo()
        .oidc(ROLE, OIDC_PROVIDER, OIDC_TOKEN)
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("ens-emu-oidc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token = dir.join("token");
    std::fs::write(&token, format!("{OIDC_TOKEN}\n")).unwrap();
    let oidc = Arc::new(
        OidcRoleArnProvider::builder(ROLE, OIDC_PROVIDER, &token)
            .sts_endpoint(emu.endpoint())
            .clock(clock.clone())
            .build()
            .unwrap(),
    );
    let client = Client::builder()
        .endpoint(emu.endpoint())
        .credentials_provider(Arc::clone(&oidc))
        .clock(clock.clone())
        .build()
        .unwrap();
    burst(&client, 10).await;
    assert_eq!(count(&emu, "AssumeRoleWithOIDC"), 1);
    // The token is never kept in the request log.
    let record = emu
        .requests()
        .into_iter()
        .find(|r| r.action.as_deref() == Some("AssumeRoleWithOIDC"))
        .unwrap();
    assert_eq!(record.param("RoleArn"), Some(ROLE));
    assert_eq!(record.param("OIDCToken"), None);
    assert!(!format!("{:?}", emu.requests()).contains(OIDC_TOKEN));
    // A rotated token that the STS does not trust: the refresh fails, the cached credentials
    // keep serving.
    std::fs::write(&token, "eyJ.not.trusted").unwrap();
    clock.advance(Duration::from_secs(3600 - 299));
    burst(&client, 10).await;
    answered(&emu, "AssumeRoleWithOIDC", 2).await;
    let last = emu
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.action.as_deref() == Some("AssumeRoleWithOIDC"))
        .unwrap();
    assert_eq!(last.code, "AuthenticationFail.OIDCToken.Invalid");
    burst(&client, 10).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn instance_role_from_the_emulators_metadata_across_rotations_and_a_failed_refresh() {
    let clock = ManualClock::new();
    // One-hour credentials: refreshed from 5 minutes before expiry; the service renews them
    // once half their lifetime has passed.
    let emu = Emulator::builder()
        .demo()
        .instance_ram_role("failover")
        .metadata_token_required(true)
        .sts_credential_lifetime(Duration::from_secs(3600))
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    let ecs = Arc::new(
        EcsRamRoleProvider::builder()
            .endpoint(emu.endpoint())
            .clock(clock.clone())
            .build()
            .unwrap(),
    );
    let client = Client::builder()
        .endpoint(emu.endpoint())
        .credentials_provider(Arc::clone(&ecs))
        .clock(clock.clone())
        .build()
        .unwrap();
    burst(&client, 40).await;
    assert_eq!(count(&emu, "MetadataToken"), 1);
    assert_eq!(count(&emu, "MetadataRoleName"), 1);
    assert_eq!(count(&emu, "MetadataCredentials"), 1);
    let mut current = ecs
        .provide_credentials()
        .await
        .unwrap()
        .access_key_id()
        .to_owned();
    let mut refreshes = 1;
    for rotation in 1..=3 {
        let failing = rotation == 2;
        if failing {
            emu.inject("MetadataCredentials", Fault::internal_error(), 2);
        }
        clock.advance(Duration::from_secs(3600 - 299));
        burst(&client, 40).await;
        if failing {
            // The GET with the token failed, and so did the one without (IMDSv1 is refused).
            answered(&emu, "MetadataCredentials", refreshes + 2).await;
            burst(&client, 40).await;
            assert_eq!(
                count(&emu, "MetadataCredentials"),
                refreshes + 2,
                "backing off"
            );
            clock.advance(Duration::from_secs(60));
            burst(&client, 5).await;
        }
        current = rotated(&*ecs, &current).await;
        refreshes += 1;
        let extra = if rotation >= 2 { 2 } else { 0 };
        assert_eq!(count(&emu, "MetadataCredentials"), refreshes + extra);
        assert_eq!(
            count(&emu, "MetadataToken"),
            refreshes + usize::from(rotation >= 2)
        );
        burst(&client, 20).await;
    }
    // Every metadata GET answered carried the session token; the only ones without it are the
    // IMDSv1 retries of the failed refresh, which the service refused. Every ENS call
    // succeeded.
    let metadata: Vec<RequestRecord> = emu
        .requests()
        .into_iter()
        .filter(|r| {
            r.action
                .as_deref()
                .is_some_and(|a| a.starts_with("Metadata"))
        })
        .collect();
    let mut without_token = 0;
    for r in &metadata {
        let token = r.param("token");
        match (r.action.as_deref(), r.code.as_str()) {
            (Some("MetadataToken"), _) => assert_eq!(token, Some("absent")),
            (_, "Success") => assert_eq!(token, Some("sent"), "{r:?}"),
            _ => without_token += usize::from(token == Some("absent")),
        }
    }
    assert_eq!(without_token, 1);
    assert!(ens_calls(&emu).iter().all(|r| r.code == "Success"));
}

#[tokio::test]
async fn metadata_token_flow_and_its_refusals() {
    let emu = Emulator::builder()
        .instance_ram_role("failover")
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = |p: &str| format!("{}{p}", emu.endpoint());
    let status = |r: reqwest::Response| r.status().as_u16();
    // No TTL, a TTL out of range, another method.
    let r = http.put(url("/latest/api/token")).send().await.unwrap();
    assert_eq!(status(r), 400);
    let r = http
        .put(url("/latest/api/token"))
        .header("X-aliyun-ecs-metadata-token-ttl-seconds", "21601")
        .send()
        .await
        .unwrap();
    assert_eq!(status(r), 400);
    let r = http.get(url("/latest/api/token")).send().await.unwrap();
    assert_eq!(status(r), 405);
    let token = http
        .put(url("/latest/api/token"))
        .header("X-aliyun-ecs-metadata-token-ttl-seconds", "60")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let get = |path: &'static str, token: Option<String>| {
        let mut r = http.get(url(path));
        if let Some(t) = token {
            r = r.header("X-aliyun-ecs-metadata-token", t);
        }
        r.send()
    };
    let r = get(
        "/latest/meta-data/ram/security-credentials/",
        Some(token.clone()),
    )
    .await
    .unwrap();
    assert_eq!(r.text().await.unwrap(), "failover");
    // IMDSv1 is answered unless a token is required; a wrong token never is.
    let r = get("/latest/meta-data/ram/security-credentials/failover", None)
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(body["Code"], "Success");
    assert!(body["AccessKeyId"].as_str().unwrap().starts_with("STS."));
    let r = get(
        "/latest/meta-data/ram/security-credentials/failover",
        Some("bogus".into()),
    )
    .await
    .unwrap();
    assert_eq!(status(r), 401);
    let r = get(
        "/latest/meta-data/ram/security-credentials/other",
        Some(token),
    )
    .await
    .unwrap();
    assert_eq!(status(r), 404);
    // The same credentials until half their lifetime has passed.
    let again = get("/latest/meta-data/ram/security-credentials/failover", None)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let again: serde_json::Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again["AccessKeyId"], body["AccessKeyId"]);
    // Nothing secret in the request log.
    assert!(!format!("{:?}", emu.requests()).contains(body["AccessKeySecret"].as_str().unwrap()));
}

#[tokio::test]
async fn the_default_chain_finds_the_emulators_instance_role() {
    let emu = Emulator::builder()
        .demo()
        .instance_ram_role("failover")
        .start()
        .await
        .unwrap();
    let home = std::env::temp_dir().join(format!("ens-emu-chain-{}", std::process::id()));
    let chain = DefaultCredentialsChain::with_home_and_env(&home, |_| None)
        .ecs_metadata_endpoint(emu.endpoint());
    let client = Client::builder()
        .endpoint(emu.endpoint())
        .credentials_provider(chain)
        .build()
        .unwrap();
    client.describe_ha_vips().send().await.unwrap();
    let last = ens_calls(&emu).pop().unwrap();
    assert!(last.access_key_id.unwrap().starts_with("STS."));
}
