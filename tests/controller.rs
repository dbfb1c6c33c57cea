//! What a failover controller (two replicas, one HAVIP, a keepalived pair) needs, on the
//! emulator: teardown while another replica deletes the HAVIP, and find-or-create of the HAVIP
//! by name, converging when replicas race; and the default chain through a credentials URI, as
//! the `associate_ha_vip` example finds credentials.

mod common;

use std::time::Duration;

use common::replicas::{quick_emulator, replica};

use alibabacloud_ens::emulator::Emulator;
use alibabacloud_ens::ensure::{Ensured, HaVipEnsured};
use alibabacloud_ens::waiter::WaiterSchedule;
use alibabacloud_ens::{AssociationStatus, Client, Error, HaVipStatus, InstanceType};

fn actions(emu: &Emulator) -> Vec<String> {
    emu.requests()
        .into_iter()
        .filter_map(|r| r.action)
        .collect()
}

/// HAVIPs named `name`, not being deleted.
fn named(emu: &Emulator, name: &str) -> Vec<alibabacloud_ens::HaVip> {
    emu.ha_vips()
        .into_iter()
        .filter(|h| h.name == name && h.status != HaVipStatus::Deleting)
        .collect()
}

async fn associate_pair(client: &Client) {
    tokio::try_join!(
        client.ensure_associated("havip-demo", "i-demo").send(),
        client.ensure_associated("havip-demo", "i-demo-2").send(),
    )
    .unwrap();
}

#[tokio::test]
async fn two_replicas_tear_down_at_once_while_one_deletes_the_havip() {
    let emu = quick_emulator().await;
    let (a, b) = (replica(&emu), replica(&emu));
    associate_pair(&a).await;

    // Replica A: both members, then the HAVIP. Replica B, at the same time: both members, again
    // and again until A is done. Every call of B succeeds, whatever A did meanwhile.
    let replica_a = async {
        tokio::try_join!(
            a.ensure_unassociated("havip-demo", "i-demo").send(),
            a.ensure_unassociated("havip-demo", "i-demo-2").send(),
        )?;
        a.delete_ha_vips()
            .ha_vip_id("havip-demo")
            .send_and_wait()
            .await?;
        Ok::<_, Error>(())
    };
    let replica_b = async {
        let mut seen = Vec::new();
        loop {
            let (x, y) = tokio::try_join!(
                b.ensure_unassociated("havip-demo", "i-demo").send(),
                b.ensure_unassociated("havip-demo", "i-demo-2").send(),
            )?;
            seen.push(x.ensured());
            seen.push(y.ensured());
            if x.ensured() == Ensured::HaVipGone && x.ha_vip().is_none() {
                return Ok::<_, Error>(seen);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let (done_a, seen_b) = tokio::join!(replica_a, replica_b);
    done_a.unwrap();
    let seen_b = seen_b.unwrap();
    assert!(emu.ha_vip("havip-demo").is_none());
    assert_eq!(seen_b.last(), Some(&Ensured::HaVipGone), "{seen_b:?}");

    // Afterwards, both replicas' teardown is still a success.
    for client in [&a, &b] {
        let out = client
            .ensure_unassociated("havip-demo", "i-demo")
            .send()
            .await
            .unwrap();
        assert_eq!(out.ensured(), Ensured::HaVipGone);
    }
}

#[tokio::test]
async fn the_other_replica_deletes_while_this_one_waits_for_its_unassociation() {
    let emu = quick_emulator().await;
    let client = replica(&emu);
    associate_pair(&client).await;
    emu.set_unassociate_delay(Duration::from_millis(400));
    // i-demo-2 is already gone; i-demo is unassociating (another replica's write), and that
    // replica deletes the HAVIP as soon as it can.
    emu.add_association(
        "havip-demo",
        "i-demo-2",
        InstanceType::EnsInstance,
        AssociationStatus::Unassociating,
    );
    client
        .wait_until_unassociated("havip-demo", "i-demo-2")
        .await
        .unwrap();
    emu.add_association(
        "havip-demo",
        "i-demo",
        InstanceType::EnsInstance,
        AssociationStatus::Unassociating,
    );
    let deleter = async {
        client
            .wait_until_unassociated("havip-demo", "i-demo")
            .await
            .unwrap();
        client
            .delete_ha_vips()
            .ha_vip_id("havip-demo")
            .send()
            .await
            .unwrap();
    };
    let (out, ()) = tokio::join!(
        client
            .ensure_unassociated("havip-demo", "i-demo")
            .schedule(WaiterSchedule::polling_every(Duration::from_millis(150)))
            .send(),
        deleter
    );
    let out = out.unwrap();
    assert!(
        matches!(
            out.ensured(),
            Ensured::HaVipGone | Ensured::WaitedForUnassociationInProgress
        ),
        "{out:?}"
    );
    // Deleting now: a new call says the HAVIP is going.
    let again = client
        .ensure_unassociated("havip-demo", "i-demo")
        .send()
        .await
        .unwrap();
    assert_eq!(again.ensured(), Ensured::HaVipGone);
    assert_eq!(again.ha_vip().unwrap().status, HaVipStatus::Deleting);
}

#[tokio::test]
async fn a_deleted_or_unknown_havip_is_unassociated_and_never_in_use() {
    let emu = quick_emulator().await;
    let client = replica(&emu);
    client
        .delete_ha_vips()
        .ha_vip_id("havip-demo")
        .send_and_wait()
        .await
        .unwrap();
    for id in ["havip-demo", "havip-never-existed"] {
        let out = client
            .ensure_unassociated(id, "i-demo")
            .send()
            .await
            .unwrap();
        assert_eq!(out.ensured(), Ensured::HaVipGone, "{id}");
        assert!(out.ha_vip().is_none());
        assert_eq!(out.polls(), 1);

        let w = client.wait_until_unassociated(id, "i-demo").await.unwrap();
        assert!(w.ha_vip_gone());

        emu.clear_requests();
        let e = client
            .ensure_associated(id, "i-demo")
            .send()
            .await
            .unwrap_err();
        let Error::WaiterFailureState(f) = &e else {
            panic!("{e:?}")
        };
        assert!(f.observed.is_none());
        assert!(f.reason.contains("does not exist"), "{e}");
        // At once: one read, no write.
        assert_eq!(actions(&emu), ["DescribeHaVips"]);
        let e = client.wait_until_in_use(id, "i-demo").await.unwrap_err();
        assert!(matches!(e, Error::WaiterFailureState(_)), "{e:?}");
    }
}

#[tokio::test]
async fn ensure_ha_vip_creates_once_and_a_re_run_is_a_no_op() {
    let emu = quick_emulator().await;
    let client = replica(&emu);
    let out = client
        .ensure_ha_vip()
        .name("keepalived vip")
        .vswitch_id("vsw-demo")
        .description("made by a test")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), HaVipEnsured::Created);
    assert!(!out.converged());
    let h = out.ha_vip();
    assert_eq!(h.status, HaVipStatus::Available);
    assert_eq!(
        (h.name.as_str(), h.vswitch_id.as_str()),
        ("keepalived vip", "vsw-demo")
    );
    assert_eq!(h.description, "made by a test");
    assert_eq!(named(&emu, "keepalived vip").len(), 1);

    emu.clear_requests();
    let again = client
        .ensure_ha_vip()
        .name("keepalived vip")
        .vswitch_id("vsw-demo")
        .send()
        .await
        .unwrap();
    assert_eq!(again.ensured(), HaVipEnsured::Found);
    assert_eq!(again.ha_vip().ha_vip_id, h.ha_vip_id);
    assert_eq!(actions(&emu), ["DescribeHaVips"], "reads only");
    assert_eq!(again.polls(), 1);

    // Same name in another vSwitch: another HAVIP.
    let other = client
        .ensure_ha_vip()
        .name("keepalived vip")
        .vswitch_id("vsw-other")
        .send()
        .await
        .unwrap();
    assert_eq!(other.ensured(), HaVipEnsured::Created);
    assert_ne!(other.ha_vip().ha_vip_id, h.ha_vip_id);
}

#[tokio::test]
async fn two_racing_replicas_end_with_exactly_one_havip() {
    for round in 0..3 {
        let emu = quick_emulator().await;
        let (a, b) = (replica(&emu), replica(&emu));
        let ensure = |c: &Client| {
            c.ensure_ha_vip()
                .name("pair vip")
                .vswitch_id("vsw-demo")
                .send()
        };
        let (x, y) = tokio::join!(ensure(&a), ensure(&b));
        let (x, y) = (x.unwrap(), y.unwrap());
        // Both listed before either created: both created, one duplicate.
        let creates = actions(&emu).iter().filter(|a| *a == "CreateHaVip").count();
        assert_eq!(creates, 2, "round {round}");
        assert_eq!(x.ha_vip().ha_vip_id, y.ha_vip().ha_vip_id, "round {round}");
        let mut outcomes = [x.ensured(), y.ensured()];
        outcomes.sort_by_key(|e| format!("{e:?}"));
        assert_eq!(
            outcomes,
            [HaVipEnsured::Created, HaVipEnsured::CreatedByAnother],
            "round {round}"
        );
        // The replica that lost deleted its duplicate; the winner saw it too, unless it was
        // already `Deleting` when it listed.
        let mut deleted: Vec<&String> = x
            .duplicates_deleted()
            .iter()
            .chain(y.duplicates_deleted())
            .collect();
        deleted.dedup();
        assert_eq!(deleted.len(), 1, "round {round}: {x:?} {y:?}");
        assert_ne!(deleted[0], &x.ha_vip().ha_vip_id);
        let loser = if x.ensured() == HaVipEnsured::CreatedByAnother {
            &x
        } else {
            &y
        };
        assert_eq!(loser.duplicates_deleted(), [deleted[0].clone()]);
        assert!(x.duplicates_kept().is_empty() && y.duplicates_kept().is_empty());
        let left = named(&emu, "pair vip");
        assert_eq!(left.len(), 1, "round {round}: {left:?}");
        assert_eq!(left[0].ha_vip_id, x.ha_vip().ha_vip_id);

        // Both again: nothing to do.
        let (x2, y2) = tokio::join!(ensure(&a), ensure(&b));
        assert_eq!(x2.unwrap().ensured(), HaVipEnsured::Found);
        assert_eq!(y2.unwrap().ha_vip().ha_vip_id, x.ha_vip().ha_vip_id);
    }
}

#[tokio::test]
async fn a_fixed_address_makes_creation_exclusive() {
    let emu = quick_emulator().await;
    let (a, b) = (replica(&emu), replica(&emu));
    let ensure = |c: &Client| {
        c.ensure_ha_vip()
            .name("fixed vip")
            .vswitch_id("vsw-demo")
            .ip_address("10.0.0.200")
            .send()
    };
    let (x, y) = tokio::join!(ensure(&a), ensure(&b));
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.ha_vip().ha_vip_id, y.ha_vip().ha_vip_id);
    assert_eq!(x.ha_vip().ip_address, "10.0.0.200");
    let mut outcomes = [x.ensured(), y.ensured()];
    outcomes.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(
        outcomes,
        [HaVipEnsured::Created, HaVipEnsured::CreatedByAnother]
    );
    // Nothing to converge: the loser was refused, never made a duplicate.
    assert!(!x.converged() && !y.converged());
    assert_eq!(named(&emu, "fixed vip").len(), 1);
    assert_eq!(
        actions(&emu)
            .iter()
            .filter(|a| *a == "DeleteHaVips")
            .count(),
        0
    );

    // The name at another address, or the address under another name: a conflict.
    let e = a
        .ensure_ha_vip()
        .name("fixed vip")
        .vswitch_id("vsw-demo")
        .ip_address("10.0.0.201")
        .send()
        .await
        .unwrap_err();
    let Error::Conflict(c) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(c.existing.len(), 1);
    assert!(
        e.to_string().contains("another address than 10.0.0.201"),
        "{e}"
    );
    let e = a
        .ensure_ha_vip()
        .name("another name")
        .vswitch_id("vsw-demo")
        .ip_address("10.0.0.200")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Conflict(c) if c.existing[0].ha_vip_id == x.ha_vip().ha_vip_id),
        "{e:?}"
    );
    assert_eq!(named(&emu, "another name").len(), 0);
}

#[tokio::test]
async fn a_loser_with_an_association_is_kept() {
    let emu = quick_emulator().await;
    // Two HAVIPs with the same name and CreationTime (seeded in the same second): the smaller
    // id survives. Someone associated the loser already.
    let ids = ["havip-dup-b", "havip-dup-a", "havip-dup-c"];
    loop {
        for id in ids {
            emu.add_ha_vip(id, "vsw-demo", HaVipStatus::Available);
            emu.set_ha_vip_name(id, "dup vip", "");
        }
        let times: Vec<_> = ids
            .iter()
            .map(|id| emu.ha_vip(id).unwrap().creation_time)
            .collect();
        // Seeded across a second boundary: seed again (`add_ha_vip` replaces).
        if times.iter().all(|t| *t == times[0]) {
            break;
        }
    }
    emu.add_association(
        "havip-dup-b",
        "i-demo",
        InstanceType::EnsInstance,
        AssociationStatus::InUse,
    );
    let client = replica(&emu);
    let out = client
        .ensure_ha_vip()
        .name("dup vip")
        .vswitch_id("vsw-demo")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), HaVipEnsured::Found);
    assert_eq!(out.ha_vip().ha_vip_id, "havip-dup-a");
    assert_eq!(out.duplicates_kept(), ["havip-dup-b"]);
    assert_eq!(out.duplicates_deleted(), ["havip-dup-c"]);
    assert!(emu.ha_vip("havip-dup-b").unwrap().is_in_use_by("i-demo"));
    client.wait_until_deleted(["havip-dup-c"]).await.unwrap();
    // Still kept on a re-run; nothing else is written.
    emu.clear_requests();
    let again = client
        .ensure_ha_vip()
        .name("dup vip")
        .vswitch_id("vsw-demo")
        .send()
        .await
        .unwrap();
    assert_eq!(again.duplicates_kept(), ["havip-dup-b"]);
    assert!(again.duplicates_deleted().is_empty());
    assert_eq!(actions(&emu), ["DescribeHaVips"]);
}

#[tokio::test]
async fn the_earliest_creation_time_survives() {
    let emu = quick_emulator().await;
    emu.add_ha_vip("havip-zz-old", "vsw-demo", HaVipStatus::Available);
    emu.set_ha_vip_name("havip-zz-old", "aged vip", "");
    // A second later, a smaller id: it loses all the same.
    let old = emu.ha_vip("havip-zz-old").unwrap().creation_time.unwrap();
    loop {
        emu.add_ha_vip("havip-aa-new", "vsw-demo", HaVipStatus::Available);
        if emu.ha_vip("havip-aa-new").unwrap().creation_time.unwrap() > old {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    emu.set_ha_vip_name("havip-aa-new", "aged vip", "");
    let out = replica(&emu)
        .ensure_ha_vip()
        .name("aged vip")
        .vswitch_id("vsw-demo")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ha_vip().ha_vip_id, "havip-zz-old");
    assert_eq!(out.duplicates_deleted(), ["havip-aa-new"]);
}

#[tokio::test]
async fn ensure_ha_vip_checks_its_input_before_sending() {
    let emu = quick_emulator().await;
    let client = replica(&emu);
    for (b, parameter) in [
        (client.ensure_ha_vip().vswitch_id("vsw-demo"), "Name"),
        (client.ensure_ha_vip().name("n"), "VSwitchId"),
        (
            client
                .ensure_ha_vip()
                .name("http://x")
                .vswitch_id("vsw-demo"),
            "Name",
        ),
        (
            client
                .ensure_ha_vip()
                .name("n")
                .vswitch_id("vsw-demo")
                .ip_address("10.0.0"),
            "IpAddress",
        ),
        (
            client
                .ensure_ha_vip()
                .name("n")
                .vswitch_id("vsw-demo")
                .description("d\u{7}"),
            "Description",
        ),
        (
            client
                .ensure_ha_vip()
                .name("n")
                .vswitch_id("vsw-demo")
                .min_delay(Duration::from_secs(9))
                .max_delay(Duration::from_secs(1)),
            "min_delay",
        ),
    ] {
        let e = b.send().await.unwrap_err();
        assert!(
            matches!(&e, Error::InvalidInput(i) if i.parameter == parameter),
            "{parameter}: {e:?}"
        );
    }
    assert!(emu.requests().is_empty());
}

/// What `cargo run --example associate_ha_vip` does with `ALIBABA_CLOUD_CREDENTIALS_URI` set and
/// no AccessKey in the environment: the default chain finds the URI, names its source, and the
/// client works with what it serves (here STS-style credentials the emulator accepts).
#[tokio::test]
async fn the_default_chain_through_a_credentials_uri() {
    use alibabacloud_ens::credentials::DefaultCredentialsChain;
    use alibabacloud_ens::emulator::AccessKey;
    use alibabacloud_ens::ProvideCredentials;

    let emu = Emulator::builder()
        .demo()
        .associate_delay(Duration::from_millis(100))
        .add_key(AccessKey::new("STS.uri-key", "uri-secret").security_token("uri-token"))
        .start()
        .await
        .unwrap();
    let uri = common::TestServer::start().await;
    uri.set_fallback(common::Reply::Json(
        200,
        r#"{"Code":"Success","AccessKeyId":"STS.uri-key","AccessKeySecret":"uri-secret",
            "SecurityToken":"uri-token","Expiration":"2099-01-01T00:00:00Z"}"#
            .into(),
    ));
    let home = std::env::temp_dir().join(format!("ens-no-home-{}", std::process::id()));
    let endpoint = format!("{}/credentials", uri.endpoint());
    let chain = DefaultCredentialsChain::with_home_and_env(home, move |name| match name {
        "ALIBABA_CLOUD_CREDENTIALS_URI" => Some(endpoint.clone()),
        // Never the real metadata service from a test.
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED" => Some("true".to_owned()),
        _ => None,
    });
    let found = chain.provide_credentials().await.unwrap();
    assert_eq!(found.provider_name(), Some("credential_uri"));
    assert_eq!(found.access_key_id(), "STS.uri-key");
    assert!(!format!("{found:?}").contains("uri-secret"));

    let client = Client::builder()
        .credentials_provider(chain)
        .endpoint(emu.endpoint())
        .waiter_schedule(WaiterSchedule::polling_every(Duration::from_millis(20)))
        .build()
        .unwrap();
    let out = client
        .ensure_associated("havip-demo", "i-demo")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::AssociatedNow);
    let seen: Vec<_> = emu
        .requests()
        .into_iter()
        .filter_map(|r| r.access_key_id)
        .collect();
    assert!(
        !seen.is_empty() && seen.iter().all(|k| k == "STS.uri-key"),
        "{seen:?}"
    );
    assert_eq!(uri.requests()[0].path, "/credentials");
}
