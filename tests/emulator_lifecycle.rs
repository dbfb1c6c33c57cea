//! The SDK drives the emulator through the whole HAVIP lifecycle, with both signatures, under
//! injected faults: never two HAVIPs from one create, a delete that took effect is a success,
//! a keepalived pair associates concurrently.

use std::time::Duration;

use alibabacloud_ens::emulator::{Emulator, Fault};
use alibabacloud_ens::ensure::Ensured;
use alibabacloud_ens::{Error, ErrorCode, HaVipStatus, RetryConfig, SignatureVersion};

async fn quick_emulator() -> Emulator {
    Emulator::builder()
        .demo()
        .associate_delay(Duration::from_millis(300))
        .unassociate_delay(Duration::from_millis(200))
        .create_delay(Duration::from_millis(200))
        .delete_delay(Duration::from_millis(200))
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_whole_lifecycle_with_both_signatures() {
    for version in [SignatureVersion::V1, SignatureVersion::V3] {
        let emu = quick_emulator().await;
        let client = emu
            .client_builder()
            .signature_version(version)
            .build()
            .unwrap();
        let out = client
            .create_ha_vip()
            .vswitch_id("vsw-demo")
            .name("高可用 vip")
            .description("d e/s*c~")
            .send()
            .await
            .unwrap();
        let id = out.ha_vip_ids()[0].clone();
        let ready = client.wait_until_available([&id]).wait().await.unwrap();
        assert_eq!(ready.ha_vips()[0].status, HaVipStatus::Available);
        assert_eq!(ready.ha_vips()[0].name, "高可用 vip");
        assert_eq!(ready.ha_vips()[0].description, "d e/s*c~");

        let (a, b) = tokio::try_join!(
            client.ensure_associated(&id, "i-demo").send(),
            client.ensure_associated(&id, "i-demo-2").send(),
        )
        .unwrap();
        assert_eq!(a.ensured(), Ensured::AssociatedNow, "{version}");
        assert_eq!(b.ensured(), Ensured::AssociatedNow, "{version}");
        let h = emu.ha_vip(&id).unwrap();
        assert!(h.is_in_use_by("i-demo") && h.is_in_use_by("i-demo-2"));
        let again = client
            .ensure_associated(&id, "i-demo")
            .send()
            .await
            .unwrap();
        assert_eq!(again.ensured(), Ensured::AlreadyInUse);

        client
            .modify_ha_vip_attribute()
            .ha_vip_id(&id)
            .name("新名字")
            .send()
            .await
            .unwrap();
        assert_eq!(
            client.get_ha_vip(&id).await.unwrap().unwrap().name,
            "新名字"
        );

        let (a, b) = tokio::try_join!(
            client.ensure_unassociated(&id, "i-demo").send(),
            client.ensure_unassociated(&id, "i-demo-2").send(),
        )
        .unwrap();
        assert_eq!(a.ensured(), Ensured::UnassociatedNow);
        assert_eq!(b.ensured(), Ensured::UnassociatedNow);

        client
            .delete_ha_vips()
            .ha_vip_id(&id)
            .send_and_wait()
            .await
            .unwrap();
        assert_eq!(client.get_ha_vip(&id).await.unwrap(), None);
        assert!(emu.ha_vip(&id).is_none());
    }
}

#[tokio::test]
async fn a_plain_pair_of_send_and_wait_fails_where_ensure_succeeds() {
    let emu = quick_emulator().await;
    let client = emu.client().unwrap();
    let both = tokio::join!(
        client
            .associate_ha_vip()
            .ha_vip_id("havip-demo")
            .instance_id("i-demo")
            .send_and_wait(),
        client
            .associate_ha_vip()
            .ha_vip_id("havip-demo")
            .instance_id("i-demo-2")
            .send_and_wait(),
    );
    // The second write meets the HAVIP Associating with the first.
    let failed = [both.0.err(), both.1.err()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].code(), Some(&ErrorCode::IncorrectHaVipStatus));

    let emu = quick_emulator().await;
    let client = emu.client().unwrap();
    tokio::try_join!(
        client.ensure_associated("havip-demo", "i-demo").send(),
        client.ensure_associated("havip-demo", "i-demo-2").send(),
    )
    .unwrap();
    let h = emu.ha_vip("havip-demo").unwrap();
    assert!(h.is_in_use_by("i-demo") && h.is_in_use_by("i-demo-2"));
}

#[tokio::test]
async fn a_permanent_refusal_is_reported_before_the_first_association_finishes() {
    let emu = Emulator::builder()
        .demo()
        .associate_delay(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let client = emu.client().unwrap();
    client
        .associate_ha_vip()
        .ha_vip_id("havip-demo")
        .instance_id("i-demo")
        .send()
        .await
        .unwrap();
    let e = tokio::time::timeout(
        Duration::from_secs(20),
        client.ensure_associated("havip-demo", "i-other").send(),
    )
    .await
    .expect("reported at once, not after the 60 s association")
    .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::IncorrectInstanceVSwitch));
    assert_eq!(
        emu.ha_vip("havip-demo").unwrap().status,
        HaVipStatus::Associating
    );
}

#[tokio::test]
async fn two_controllers_ensuring_the_same_association_both_succeed() {
    let emu = quick_emulator().await;
    let (c1, c2) = (emu.client().unwrap(), emu.client().unwrap());
    let (a, b) = tokio::try_join!(
        c1.ensure_associated("havip-demo", "i-demo").send(),
        c2.ensure_associated("havip-demo", "i-demo").send(),
    )
    .unwrap();
    let mut outcomes = [a.ensured(), b.ensured()];
    outcomes.sort_by_key(|e| format!("{e:?}"));
    assert!(
        outcomes.contains(&Ensured::AssociatedNow),
        "one of them wrote: {outcomes:?}"
    );
    let creates = emu
        .requests()
        .iter()
        .filter(|r| r.action.as_deref() == Some("AssociateHaVip") && r.code == "Success")
        .count();
    assert_eq!(creates, 1, "one association made");
}

/// How many HAVIPs the emulator holds in `vswitch` now.
fn havips_in(emu: &Emulator, vswitch: &str) -> usize {
    emu.ha_vips()
        .iter()
        .filter(|h| h.vswitch_id == vswitch)
        .count()
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_never_makes_a_second_havip() {
    // With an address: found by it.
    let emu = quick_emulator().await;
    let client = emu.client().unwrap();
    let before = havips_in(&emu, "vsw-demo");
    emu.inject("CreateHaVip", Fault::DropAfterApply, 1);
    let out = client
        .create_ha_vip()
        .vswitch_id("vsw-demo")
        .ip_address("10.0.0.200")
        .send()
        .await
        .unwrap();
    assert!(out.already_created());
    assert_eq!(havips_in(&emu, "vsw-demo"), before + 1);
    assert_eq!(
        emu.ha_vip(&out.ha_vip_ids()[0]).unwrap().ip_address,
        "10.0.0.200"
    );

    // With a name: found by it.
    emu.inject("CreateHaVip", Fault::DropAfterApply, 1);
    let out = client
        .create_ha_vip()
        .vswitch_id("vsw-demo")
        .name("pair-7f3a")
        .amount(2)
        .send()
        .await
        .unwrap();
    assert!(out.already_created());
    assert_eq!(out.ha_vip_ids().len(), 2);
    assert_eq!(havips_in(&emu, "vsw-demo"), before + 3);

    // With neither: outcome unknown, and still only the one HAVIP it made.
    emu.inject("CreateHaVip", Fault::DropAfterApply, 1);
    let e = client
        .create_ha_vip()
        .vswitch_id("vsw-demo")
        .send()
        .await
        .unwrap_err();
    let Error::OutcomeUnknown(o) = &e else {
        panic!("{e:?}")
    };
    let o = o.possibly_created().expect("where to look");
    assert_eq!(o.vswitch_id, "vsw-demo");
    assert_eq!(havips_in(&emu, "vsw-demo"), before + 4);

    // Answered 503 before it did anything, with an address: sent again, made once.
    emu.inject("CreateHaVip", Fault::service_unavailable(), 1);
    let out = client
        .create_ha_vip()
        .vswitch_id("vsw-demo")
        .ip_address("10.0.0.201")
        .send()
        .await
        .unwrap();
    assert!(!out.already_created());
    assert_eq!(out.attempts(), 2);
    assert_eq!(havips_in(&emu, "vsw-demo"), before + 5);

    // A slow answer past the attempt timeout, applied meanwhile: found, not repeated.
    let impatient = emu
        .client_builder()
        .attempt_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    emu.inject(
        "CreateHaVip",
        Fault::Slow {
            delay: Duration::from_millis(800),
        },
        1,
    );
    let out = impatient
        .create_ha_vip()
        .vswitch_id("vsw-demo")
        .ip_address("10.0.0.202")
        .send()
        .await;
    // The check may run before or after the slow answer applies: either it finds the HAVIP, or
    // writes again and is refused the address, whose final check then finds it.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let made: Vec<_> = emu
        .ha_vips()
        .into_iter()
        .filter(|h| h.ip_address == "10.0.0.202")
        .collect();
    assert_eq!(made.len(), 1, "{out:?}");
    if let Ok(out) = out {
        assert_eq!(out.ha_vip_ids(), [made[0].ha_vip_id.clone()]);
    }
}

#[tokio::test]
async fn a_delete_that_took_effect_reports_success() {
    let emu = quick_emulator().await;
    let client = emu.client().unwrap();
    let ids: Vec<String> = client
        .create_ha_vip()
        .vswitch_id("vsw-demo")
        .amount(2)
        .name("to-delete")
        .send_and_wait()
        .await
        .unwrap()
        .ha_vips()
        .iter()
        .map(|h| h.ha_vip_id.clone())
        .collect();
    emu.inject("DeleteHaVips", Fault::DropAfterApply, 1);
    let out = client
        .delete_ha_vips()
        .ha_vip_ids(&ids)
        .send()
        .await
        .unwrap();
    assert!(out.already_deleted());
    client.wait_until_deleted(&ids).wait().await.unwrap();
    for id in &ids {
        assert!(emu.ha_vip(id).is_none());
    }
    // Refused for good (not Available: still Creating), reported as the service said.
    let e = client
        .delete_ha_vips()
        .ha_vip_id("havip-creating")
        .retry_config(RetryConfig::disabled())
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::IncorrectHaVipStatus));
}

#[tokio::test]
async fn a_lost_rename_is_simply_sent_again() {
    let emu = quick_emulator().await;
    let client = emu.client().unwrap();
    emu.inject("ModifyHaVipAttribute", Fault::DropAfterApply, 1);
    let out = client
        .modify_ha_vip_attribute()
        .ha_vip_id("havip-demo")
        .name("renamed")
        .send()
        .await
        .unwrap();
    assert_eq!(out.attempts(), 2);
    assert_eq!(emu.ha_vip("havip-demo").unwrap().name, "renamed");
}
