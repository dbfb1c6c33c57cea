//! A public IP on the HAVIP (`ensure_eip_associated` / `ensure_eip_unassociated`, generated EIP
//! operations) and the association preflight (generated DescribeInstances and
//! DescribeNetworkInterfaces), on the emulator's demo topology.

mod common;

use std::time::Duration;

use common::replicas::{quick_emulator, replica};

use alibabacloud_ens::emulator::{EipStatus, Emulator, Fault};
use alibabacloud_ens::ensure::{EipProgress, EnsureEipOutput, Ensured};
use alibabacloud_ens::preflight::CannotAssociate;
use alibabacloud_ens::waiter::WaiterSchedule;
use alibabacloud_ens::{Error, ErrorCode, HaVipStatus};

/// The requests the emulator received for `action`, in order.
fn sent(emu: &Emulator, action: &str) -> Vec<alibabacloud_ens::emulator::RequestRecord> {
    emu.requests()
        .into_iter()
        .filter(|r| r.action.as_deref() == Some(action))
        .collect()
}

fn listed_on(emu: &Emulator, ha_vip_id: &str) -> Vec<String> {
    emu.ha_vip(ha_vip_id)
        .map(|h| {
            h.associated_eip_addresses
                .into_iter()
                .map(|e| e.eip_id)
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn binds_the_eip_waits_until_listed_and_a_re_run_is_a_no_op() {
    let emu = quick_emulator().await;
    let client = replica(&emu);
    let mut seen: Vec<EipProgress> = Vec::new();
    let out = client
        .ensure_eip_associated("eip-demo", "havip-demo")
        .on_progress(|p| seen.push(p.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::AssociatedNow);
    assert!(emu.eip("eip-demo").unwrap().is_in_use_by("havip-demo"));
    let eip = out.eip().unwrap();
    assert_eq!(eip.status.as_deref(), Some("InUse"));
    assert_eq!(eip.instance_id.as_deref(), Some("havip-demo"));
    assert_eq!(eip.instance_type.as_deref(), Some("HaVip"));
    let h = out.ha_vip().unwrap();
    assert_eq!(h.associated_eip_addresses.len(), 1);
    assert_eq!(h.associated_eip_addresses[0].eip, "203.0.113.10");
    assert!(out.polls() >= 2, "{out:?}");

    // The write: the generated AssociateEnsEipAddress, InstanceType=HaVip, once.
    let writes = sent(&emu, "AssociateEnsEipAddress");
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].param("AllocationId"), Some("eip-demo"));
    assert_eq!(writes[0].param("InstanceId"), Some("havip-demo"));
    assert_eq!(writes[0].param("InstanceType"), Some("HaVip"));

    // Asynchronous: the binding was seen in progress, then done.
    let first = &seen[0];
    assert_eq!(first.eip_status.as_deref(), Some("Available"));
    assert_eq!(first.bound_to, None);
    assert!(
        seen.iter()
            .any(|p| p.eip_status.as_deref() == Some("Associating") && !p.listed),
        "{seen:?}"
    );
    let last = seen.last().unwrap();
    assert!(last.listed && last.eip_status.as_deref() == Some("InUse"));
    assert_eq!(
        last.to_string(),
        "EIP InUse on havip-demo, HAVIP Available, listed on it"
    );

    // Again: reads only.
    emu.clear_requests();
    let again = client
        .ensure_eip_associated("eip-demo", "havip-demo")
        .send()
        .await
        .unwrap();
    assert_eq!(again.ensured(), Ensured::AlreadyInUse);
    assert_eq!(again.polls(), 1);
    assert!(sent(&emu, "AssociateEnsEipAddress").is_empty());
}

#[tokio::test]
async fn two_replicas_racing_bind_it_once() {
    let emu = quick_emulator().await;
    // Long enough that the second replica's first read comes before the first one's binding
    // is done, however the two are scheduled.
    emu.set_eip_associate_delay(Duration::from_millis(400));
    emu.set_eip_unassociate_delay(Duration::from_millis(400));
    let (a, b) = (replica(&emu), replica(&emu));
    let (x, y) = tokio::try_join!(
        a.ensure_eip_associated("eip-demo", "havip-demo").send(),
        b.ensure_eip_associated("eip-demo", "havip-demo").send(),
    )
    .unwrap();
    let mut ensured = [x.ensured(), y.ensured()];
    ensured.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(
        ensured,
        [
            Ensured::AssociatedNow,
            Ensured::WaitedForAssociationInProgress
        ]
    );
    let succeeded = sent(&emu, "AssociateEnsEipAddress")
        .into_iter()
        .filter(|r| r.code == "Success")
        .count();
    assert_eq!(succeeded, 1);
    assert_eq!(listed_on(&emu, "havip-demo"), ["eip-demo"]);

    // Both tear it down at once: one unbinds, the other waits for it.
    let (x, y) = tokio::try_join!(
        a.ensure_eip_unassociated("eip-demo", "havip-demo").send(),
        b.ensure_eip_unassociated("eip-demo", "havip-demo").send(),
    )
    .unwrap();
    let mut ensured = [x.ensured(), y.ensured()];
    ensured.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(
        ensured,
        [
            Ensured::UnassociatedNow,
            Ensured::WaitedForUnassociationInProgress
        ]
    );
    assert_eq!(emu.eip("eip-demo").unwrap().status, EipStatus::Available);
    assert!(listed_on(&emu, "havip-demo").is_empty());
}

#[tokio::test]
async fn unbinds_then_the_havip_can_be_deleted() {
    let emu = quick_emulator().await;
    let client = replica(&emu);
    client
        .ensure_eip_associated("eip-demo", "havip-demo")
        .send()
        .await
        .unwrap();
    // The teardown order: DeleteHaVips refuses an HAVIP with an EIP.
    let refused = client
        .delete_ha_vips()
        .ha_vip_id("havip-demo")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(&ErrorCode::IncorrectHaVipStatus));

    let out = client
        .ensure_eip_unassociated("eip-demo", "havip-demo")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::UnassociatedNow);
    assert_eq!(out.eip().unwrap().status.as_deref(), Some("Available"));
    assert!(out.ha_vip().unwrap().associated_eip_addresses.is_empty());
    let writes = sent(&emu, "UnAssociateEnsEipAddress");
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].param("AllocationId"), Some("eip-demo"));

    emu.clear_requests();
    let again = client
        .ensure_eip_unassociated("eip-demo", "havip-demo")
        .send()
        .await
        .unwrap();
    assert_eq!(again.ensured(), Ensured::AlreadyUnassociated);
    assert!(sent(&emu, "UnAssociateEnsEipAddress").is_empty());

    client
        .delete_ha_vips()
        .ha_vip_id("havip-demo")
        .send_and_wait()
        .await
        .unwrap();
    assert!(emu.ha_vip("havip-demo").is_none());
}

#[tokio::test]
async fn unbinding_from_a_deleted_or_unknown_havip_or_eip_is_success() {
    let emu = quick_emulator().await;
    let client = replica(&emu);
    client
        .delete_ha_vips()
        .ha_vip_id("havip-demo")
        .send_and_wait()
        .await
        .unwrap();
    for id in ["havip-demo", "havip-never-existed"] {
        emu.clear_requests();
        let out = client
            .ensure_eip_unassociated("eip-demo", id)
            .send()
            .await
            .unwrap();
        assert_eq!(out.ensured(), Ensured::HaVipGone, "{id}");
        assert!(out.ha_vip().is_none());
        assert_eq!(out.polls(), 1);
        assert!(sent(&emu, "UnAssociateEnsEipAddress").is_empty());

        // Binding to it can never happen: at once, nothing written.
        let e = client
            .ensure_eip_associated("eip-demo", id)
            .send()
            .await
            .unwrap_err();
        let Error::WaiterFailureState(f) = &e else {
            panic!("{e:?}")
        };
        assert!(f.observed.is_none());
        assert!(f.reason.contains("does not exist"), "{}", f.reason);
        assert_eq!(f.polls, 1);
        assert!(sent(&emu, "AssociateEnsEipAddress").is_empty());
    }

    // An EIP that does not exist is bound to nothing.
    let out = client
        .ensure_eip_unassociated("eip-never-existed", "havip-creating")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::EipGone);
    assert!(out.eip().is_none());
    let e = client
        .ensure_eip_associated("eip-never-existed", "havip-creating")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::WaiterFailureState(f) if f.reason.contains("eip-never-existed")),
        "{e:?}"
    );
}

#[tokio::test]
async fn an_havip_deleted_while_unbinding_is_success() {
    let emu = quick_emulator().await;
    let client = replica(&emu);
    client
        .ensure_eip_associated("eip-demo", "havip-demo")
        .send()
        .await
        .unwrap();
    emu.set_eip_unassociate_delay(Duration::from_millis(300));
    // Another replica unbinds and deletes while this one waits.
    let other = replica(&emu);
    let deleter = async {
        other
            .ensure_eip_unassociated("eip-demo", "havip-demo")
            .send()
            .await
            .unwrap();
        other
            .delete_ha_vips()
            .ha_vip_id("havip-demo")
            .send()
            .await
            .unwrap();
    };
    let (out, ()) = tokio::join!(
        client
            .ensure_eip_unassociated("eip-demo", "havip-demo")
            .schedule(WaiterSchedule::polling_every(Duration::from_millis(200)))
            .send(),
        deleter
    );
    let out = out.unwrap();
    assert!(
        matches!(
            out.ensured(),
            Ensured::HaVipGone
                | Ensured::UnassociatedNow
                | Ensured::WaitedForUnassociationInProgress
        ),
        "{out:?}"
    );
    let again = client
        .ensure_eip_unassociated("eip-demo", "havip-demo")
        .send()
        .await
        .unwrap();
    assert_eq!(again.ensured(), Ensured::HaVipGone);
    assert_eq!(again.ha_vip().unwrap().status, HaVipStatus::Deleting);
}

#[tokio::test]
async fn an_eip_bound_elsewhere_is_a_conflict_and_left_alone() {
    let emu = quick_emulator().await;
    let client = replica(&emu);
    let e = client
        .ensure_eip_associated("eip-in-use", "havip-demo")
        .send()
        .await
        .unwrap_err();
    let Error::Conflict(c) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(c.action, "ensure_eip_associated");
    assert!(
        c.reason.contains("InUse on i-other (EnsInstance)"),
        "{}",
        c.reason
    );
    assert!(e.to_string().contains("does not move an EIP"), "{e}");
    assert!(sent(&emu, "AssociateEnsEipAddress").is_empty());

    // Not bound to the HAVIP: nothing to do, and above all not unbound from i-other.
    let out = client
        .ensure_eip_unassociated("eip-in-use", "havip-demo")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::AlreadyUnassociated);
    assert!(emu.eip("eip-in-use").unwrap().is_in_use_by("i-other"));
    assert!(sent(&emu, "UnAssociateEnsEipAddress").is_empty());
}

#[tokio::test]
async fn a_permanent_refusal_is_returned_at_once() {
    let emu = quick_emulator().await;
    let client = replica(&emu);
    let e = client
        .ensure_eip_associated("eip-far", "havip-demo")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        e.code().map(ToString::to_string).as_deref(),
        Some("IncorrectInstanceRegion")
    );
    assert!(matches!(e, Error::Service(_)), "{e:?}");
    assert_eq!(sent(&emu, "AssociateEnsEipAddress").len(), 1);
    assert_eq!(sent(&emu, "DescribeEnsEipAddresses").len(), 1);

    // The HAVIP already has another EIP.
    client
        .ensure_eip_associated("eip-demo", "havip-demo")
        .send()
        .await
        .unwrap();
    emu.clear_requests();
    let e = client
        .ensure_eip_associated("eip-demo-2", "havip-demo")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        e.code().map(ToString::to_string).as_deref(),
        Some("InvalidAssociation.Duplicated")
    );
    assert_eq!(sent(&emu, "AssociateEnsEipAddress").len(), 1);
}

#[tokio::test]
async fn an_unknown_outcome_is_read_again_and_converges() {
    // A 503 that did not apply: not resent blindly; read again, still Available, written again.
    let emu = quick_emulator().await;
    let client = replica(&emu);
    emu.inject("AssociateEnsEipAddress", Fault::service_unavailable(), 1);
    let out = client
        .ensure_eip_associated("eip-demo", "havip-demo")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::AssociatedNow);
    let writes = sent(&emu, "AssociateEnsEipAddress");
    assert_eq!(writes.len(), 2, "{writes:?}");
    assert_eq!(writes[0].http_status, Some(503));
    assert_eq!(writes[1].code, "Success");
    assert_eq!(listed_on(&emu, "havip-demo"), ["eip-demo"]);

    // A connection lost after the write applied: read again, the binding is found in
    // progress and waited for; never written twice.
    let emu = quick_emulator().await;
    let client = replica(&emu);
    emu.inject("AssociateEnsEipAddress", Fault::DropAfterApply, 1);
    let out = client
        .ensure_eip_associated("eip-demo", "havip-demo")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::WaitedForAssociationInProgress);
    assert_eq!(sent(&emu, "AssociateEnsEipAddress").len(), 1);
    assert!(emu.eip("eip-demo").unwrap().is_in_use_by("havip-demo"));

    // The same for the unbinding (an HTML 502 from a proxy).
    emu.inject("UnAssociateEnsEipAddress", Fault::Html { status: 502 }, 1);
    let out = client
        .ensure_eip_unassociated("eip-demo", "havip-demo")
        .send()
        .await
        .unwrap();
    assert_eq!(out.ensured(), Ensured::UnassociatedNow);
    assert_eq!(sent(&emu, "UnAssociateEnsEipAddress").len(), 2);
    assert_eq!(emu.eip("eip-demo").unwrap().status, EipStatus::Available);
}

#[tokio::test]
async fn an_havip_still_being_created_is_waited_for() {
    let emu = quick_emulator().await;
    let client = replica(&emu);
    let free_it = async {
        // Once the first write has met the HAVIP `Creating`.
        while sent(&emu, "AssociateEnsEipAddress").is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(emu.set_ha_vip_status("havip-creating", HaVipStatus::Available));
    };
    let (out, ()) = tokio::join!(
        client
            .ensure_eip_associated("eip-demo", "havip-creating")
            .send(),
        free_it
    );
    assert_eq!(out.unwrap().ensured(), Ensured::AssociatedNow);
    let writes = sent(&emu, "AssociateEnsEipAddress");
    assert_eq!(writes[0].code, "IncorrectHaVipStatus");
    assert_eq!(writes.last().unwrap().code, "Success");
}

#[tokio::test]
async fn the_deadline_is_a_timeout_with_what_was_seen() {
    let emu = quick_emulator().await;
    let client = replica(&emu);
    // Another caller's binding that does not complete in time.
    emu.set_eip_associate_delay(Duration::from_secs(3600));
    emu.add_eip_association(
        "eip-demo",
        "havip-demo",
        alibabacloud_ens::emulator::EipInstanceType::HaVip,
        EipStatus::Associating,
    );
    let e = client
        .ensure_eip_associated("eip-demo", "havip-demo")
        .max_wait(Duration::from_millis(200))
        .send()
        .await
        .unwrap_err();
    let Error::WaiterTimedOut(t) = &e else {
        panic!("{e:?}")
    };
    assert!(
        t.goal.contains("eip-demo to be bound to havip-demo"),
        "{}",
        t.goal
    );
    assert_eq!(t.last_observed.as_ref().unwrap().ha_vip_id, "havip-demo");
    assert!(sent(&emu, "AssociateEnsEipAddress").is_empty());
}

#[tokio::test]
async fn bad_input_is_refused_before_sending() {
    let emu = quick_emulator().await;
    let client = replica(&emu);
    for (eip, havip, parameter) in [
        ("", "havip-demo", "AllocationId"),
        ("eip-demo,eip-demo-2", "havip-demo", "AllocationId"),
        ("eip-demo", " ", "HaVipId"),
    ] {
        for e in [
            client
                .ensure_eip_associated(eip, havip)
                .send()
                .await
                .unwrap_err(),
            client
                .ensure_eip_unassociated(eip, havip)
                .send()
                .await
                .unwrap_err(),
        ] {
            let Error::InvalidInput(i) = &e else {
                panic!("{e:?}")
            };
            assert_eq!(i.parameter, parameter);
        }
    }
    let e = client
        .ensure_eip_associated("eip-demo", "havip-demo")
        .min_delay(Duration::from_secs(2))
        .max_delay(Duration::from_secs(1))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(&e, Error::InvalidInput(i) if i.parameter == "min_delay"));
    let e = client
        .preflight_association("havip-demo", "")
        .await
        .unwrap_err();
    assert!(matches!(&e, Error::InvalidInput(i) if i.parameter == "InstanceId"));
    assert!(emu.requests().is_empty());
}

#[test]
fn the_output_has_a_builder_and_serializes_its_duration_in_milliseconds() {
    let out = EnsureEipOutput::builder(Ensured::EipGone)
        .elapsed(Duration::from_millis(1500))
        .polls(2)
        .build();
    let json = serde_json::to_string(&out).unwrap();
    assert_eq!(
        json,
        r#"{"Ensured":"EipGone","Eip":null,"HaVip":null,"ElapsedMs":1500,"Polls":2}"#
    );
    assert_eq!(serde_json::from_str::<EnsureEipOutput>(&json).unwrap(), out);
}

#[tokio::test]
async fn the_preflight_judges_the_demo_topology_as_associate_ha_vip_does() {
    let emu = quick_emulator().await;
    let client = replica(&emu);

    let ok = client
        .preflight_association("havip-demo", "i-demo")
        .await
        .unwrap();
    assert_eq!(ok.can_associate(), Ok(()));
    assert!(ok.reasons().is_empty());
    assert_eq!(ok.instance_status(), Some("Running"));
    assert_eq!(ok.instance_vswitch_id(), Some("vsw-demo"));
    assert!(ok.in_ha_vip_vswitch());
    assert_eq!(ok.primary_network_interface_id(), Some("eni-demo"));
    assert_eq!(
        sent(&emu, "DescribeNetworkInterfaces")[0].param("Type"),
        Some("Primary")
    );
    let json = serde_json::to_string(&ok).unwrap();
    assert!(
        json.starts_with(r#"{"HaVipId":"havip-demo","InstanceId":"i-demo","HaVip":{"#),
        "{json}"
    );
    assert_eq!(
        serde_json::from_str::<alibabacloud_ens::preflight::AssociationPreflight>(&json).unwrap(),
        ok
    );

    let stopped = client
        .preflight_association("havip-demo", "i-stopped")
        .await
        .unwrap();
    assert_eq!(stopped.can_associate(), Ok(()));
    assert_eq!(stopped.primary_network_interface_id(), Some("eni-stopped"));

    let starting = client
        .preflight_association("havip-demo", "i-starting")
        .await
        .unwrap();
    let why = starting.can_associate().unwrap_err();
    assert_eq!(
        why,
        CannotAssociate::InstanceStatus {
            instance_id: "i-starting".into(),
            status: "Starting".into()
        }
    );
    assert_eq!(
        why.to_string(),
        "i-starting is Starting; AssociateHaVip wants it Running or Stopped"
    );
    assert_eq!(why.code(), ErrorCode::IncorrectInstanceStatus);

    let other = client
        .preflight_association("havip-demo", "i-other")
        .await
        .unwrap();
    assert!(!other.in_ha_vip_vswitch());
    let why = other.can_associate().unwrap_err();
    assert_eq!(
        why,
        CannotAssociate::OtherVSwitch {
            instance_id: "i-other".into(),
            instance_vswitch_id: Some("vsw-other".into()),
            ha_vip_id: "havip-demo".into(),
            ha_vip_vswitch_id: "vsw-demo".into(),
        }
    );
    assert_eq!(why.code(), ErrorCode::IncorrectInstanceVSwitch);

    let nowhere = client
        .preflight_association("havip-none", "i-none")
        .await
        .unwrap();
    assert_eq!(
        nowhere.reasons(),
        [
            CannotAssociate::HaVipNotFound {
                ha_vip_id: "havip-none".into()
            },
            CannotAssociate::InstanceNotFound {
                instance_id: "i-none".into()
            },
        ]
    );
    assert!(nowhere.primary_network_interface_id().is_none());

    // The verdict is what AssociateHaVip answers.
    for (ha_vip, instance) in [
        ("havip-demo", "i-starting"),
        ("havip-demo", "i-other"),
        ("havip-none", "i-demo"),
        ("havip-demo", "i-none"),
        ("havip-demo", "i-stopped"),
    ] {
        let check = client
            .preflight_association(ha_vip, instance)
            .await
            .unwrap();
        let answer = client
            .associate_ha_vip()
            .ha_vip_id(ha_vip)
            .instance_id(instance)
            .send()
            .await;
        match check.can_associate() {
            Ok(()) => assert!(answer.is_ok(), "{ha_vip} {instance}: {answer:?}"),
            Err(why) => {
                assert_eq!(answer.unwrap_err().code(), Some(&why.code()), "{why}");
            }
        }
    }
}
