//! Public output and model types serialize to the API's JSON shape and back, and users can
//! construct them for their own tests.

use std::time::Duration;

use alibabacloud_ens::operation::associate_ha_vip::AssociateHaVipOutput;
use alibabacloud_ens::operation::describe_ha_vips::DescribeHaVipsOutput;
use alibabacloud_ens::operation::unassociate_ha_vip::UnassociateHaVipOutput;
use alibabacloud_ens::waiter::WaitOutput;
use alibabacloud_ens::{
    AssociatedEipAddress, AssociatedInstance, AssociationStatus, HaVip, HaVipStatus, InstanceType,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(v: &T) -> String {
    let json = serde_json::to_string(v).unwrap();
    let back: T = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, v, "{json}");
    json
}

fn havip() -> HaVip {
    HaVip::new("havip-1")
        .with_status(HaVipStatus::InUse)
        .with_ip_address("10.0.0.5")
        .with_name("高可用 vip")
        .with_description("d")
        .with_ens_region_id("cn-hangzhou-telecom")
        .with_network_id("n-1")
        .with_vswitch_id("vsw-1")
        .with_creation_time(time::macros::datetime!(2024-01-02 03:04:05 UTC))
        .with_associated_instance(
            AssociatedInstance::new("eni-1", AssociationStatus::InUse)
                .with_instance_type(InstanceType::NetworkInterface)
                .with_ip_address("10.0.0.9"),
        )
        .with_associated_instance(AssociatedInstance::new(
            "i-2",
            AssociationStatus::Associating,
        ))
        .with_associated_eip_address(AssociatedEipAddress::new("1.2.3.4", "eip-1"))
}

#[test]
fn outputs_round_trip_through_json() {
    let out = DescribeHaVipsOutput::builder()
        .request_id("R-1")
        .total_count(11)
        .page_number(2)
        .page_size(10)
        .ha_vips(vec![havip()])
        .build();
    let json = round_trip(&out);
    assert!(json.starts_with(r#"{"RequestId":"R-1","TotalCount":11,"PageNumber":2,"PageSize":10,"HaVips":[{"HaVipId":"havip-1","Status":"InUse""#), "{json}");
    assert!(
        json.contains(r#""CreationTime":"2024-01-02T03:04:05Z""#),
        "{json}"
    );
    assert_eq!(out.ha_vips()[0].name, "高可用 vip");
    assert_eq!(out.total_count(), 11);

    let a = AssociateHaVipOutput::builder()
        .request_id("R-2")
        .already_associated(true)
        .attempts(2)
        .probes(1)
        .build();
    assert_eq!(
        round_trip(&a),
        r#"{"RequestId":"R-2","AlreadyAssociated":true,"Attempts":2,"Probes":1}"#
    );
    assert!(a.already_associated() && a.attempts() == 2 && a.probes() == 1);

    let u = UnassociateHaVipOutput::builder().request_id("R-3").build();
    round_trip(&u);
    assert_eq!(u.attempts(), 0);

    let w = WaitOutput::builder()
        .ha_vip(havip())
        .elapsed(Duration::from_millis(2500))
        .polls(4)
        .build();
    let json = round_trip(&w);
    assert!(
        json.ends_with(r#""HaVipGone":false,"ElapsedMs":2500,"Polls":4}"#),
        "{json}"
    );
    assert_eq!(w.ha_vip().ha_vip_id, "havip-1");
}

/// Durations are numbers of milliseconds, named so, in every output that has one; what is
/// written reads back.
#[test]
fn durations_serialize_as_milliseconds() {
    use alibabacloud_ens::ensure::{EnsureHaVipOutput, EnsureOutput, Ensured, HaVipEnsured};
    use alibabacloud_ens::waiter::WaitAllOutput;

    let elapsed = Duration::from_millis(61_250);
    let all = WaitAllOutput::builder()
        .ha_vips(vec![havip()])
        .elapsed(elapsed)
        .polls(7)
        .build();
    let ensure = EnsureOutput::builder(Ensured::HaVipGone)
        .elapsed(elapsed)
        .polls(1)
        .build();
    let find = EnsureHaVipOutput::builder(HaVipEnsured::CreatedByAnother)
        .ha_vip(havip())
        .duplicates_deleted(vec!["havip-2".to_owned()])
        .elapsed(elapsed)
        .polls(5)
        .build();
    for json in [round_trip(&all), round_trip(&ensure), round_trip(&find)] {
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["ElapsedMs"], 61_250, "{json}");
        assert!(
            v.get("Elapsed").is_none() && !json.contains("nanos"),
            "{json}"
        );
    }
    assert_eq!(
        round_trip(&ensure),
        r#"{"Ensured":"HaVipGone","HaVip":null,"ElapsedMs":61250,"Polls":1}"#
    );
    let v = serde_json::to_value(&find).unwrap();
    assert_eq!(v["Ensured"], "CreatedByAnother");
    assert_eq!(v["DuplicatesDeleted"][0], "havip-2");
    assert_eq!(find.elapsed(), elapsed);
    assert!(find.converged());
    // Written whole: a part below a millisecond is dropped.
    let w = WaitOutput::builder()
        .elapsed(Duration::from_micros(1_500))
        .build();
    let back: WaitOutput = serde_json::from_str(&serde_json::to_string(&w).unwrap()).unwrap();
    assert_eq!(back.elapsed(), Duration::from_millis(1));
}

#[test]
fn a_decoded_answer_is_re_emitted_in_the_same_shape() {
    let wire = r#"{"HaVipId":"havip-1","Status":"InUse","IpAddress":"10.0.0.5","Name":"n",
        "Description":"","EnsRegionId":"r","NetworkId":"n-1","VSwitchId":"vsw-1",
        "CreationTime":"2024-01-02T03:04:05Z",
        "AssociatedInstances":[{"InstanceId":"i-1","InstanceType":"EnsInstance",
            "IpAddress":"10.0.0.9","Status":"InUse","CreationTime":"2024-01-02T03:05:00Z"}],
        "AssociatedEipAddresses":[{"Eip":"1.2.3.4","EipId":"eip-1"}]}"#;
    let h: HaVip = serde_json::from_str(wire).unwrap();
    let again: serde_json::Value = serde_json::to_value(&h).unwrap();
    let original: serde_json::Value = serde_json::from_str(wire).unwrap();
    assert_eq!(again, original);
    assert!(h.is_in_use_by("i-1"));
}
