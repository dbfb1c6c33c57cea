//! Every builder with missing, blank, over-long, non-ASCII and control-character values: a clear
//! `InvalidInput` naming the parameter, and nothing sent.

mod common;

use alibabacloud_ens::{Client, Error};
use common::*;

const BAD: &[(&str, Option<&str>)] = &[
    ("missing", None),
    ("empty", Some("")),
    ("blank", Some("   ")),
    ("over-long", Some("havip-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")),
    ("non-ASCII", Some("havip-ü")),
    ("inner space", Some("havip 1")),
    ("control character", Some("havip-1\n")),
];

async fn run(client: &Client, op: &str, param: &str, value: Option<&str>) -> Result<(), Error> {
    let good = "id-1";
    let pick = |p: &str| if p == param { value } else { Some(good) };
    match op {
        "associate" => {
            let mut b = client.associate_ha_vip();
            if let Some(v) = pick("HaVipId") {
                b = b.ha_vip_id(v);
            }
            if let Some(v) = pick("InstanceId") {
                b = b.instance_id(v);
            }
            b.send().await.map(|_| ())
        }
        "unassociate" => {
            let mut b = client.unassociate_ha_vip();
            if let Some(v) = pick("HaVipId") {
                b = b.ha_vip_id(v);
            }
            if let Some(v) = pick("InstanceId") {
                b = b.instance_id(v);
            }
            b.send().await.map(|_| ())
        }
        "wait_until_in_use" => client
            .wait_until_in_use(
                pick("HaVipId").unwrap_or(""),
                pick("InstanceId").unwrap_or(""),
            )
            .wait()
            .await
            .map(|_| ()),
        "wait_until_unassociated" => client
            .wait_until_unassociated(
                pick("HaVipId").unwrap_or(""),
                pick("InstanceId").unwrap_or(""),
            )
            .wait()
            .await
            .map(|_| ()),
        "describe" => {
            // Filters are optional: "missing" is fine there, every other bad value is not.
            let v = value.unwrap_or("");
            let b = client.describe_ha_vips();
            let b = match param {
                "HaVipId" => b.ha_vip_id(v),
                "HaVipAddress" => b.ha_vip_address(v),
                "NetworkId" => b.network_id(v),
                "VSwitchId" => b.vswitch_id(v),
                "EnsRegionId" => b.ens_region_id(v),
                "EnsRegionIds.1" => b.ens_region_ids_item(v),
                _ => unreachable!(),
            };
            b.send().await.map(|_| ())
        }
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn every_builder_rejects_bad_ids_before_sending() {
    let server = TestServer::start().await;
    let client = client_for(&server).build().unwrap();
    let mut checked = 0;
    for op in [
        "associate",
        "unassociate",
        "wait_until_in_use",
        "wait_until_unassociated",
    ] {
        for param in ["HaVipId", "InstanceId"] {
            for (what, value) in BAD {
                let err = run(&client, op, param, *value).await.unwrap_err();
                let Error::InvalidInput(i) = &err else {
                    panic!("{op} {param} {what}: {err:?}")
                };
                assert_eq!(i.parameter, param, "{op} {param} {what}");
                assert!(
                    err.to_string().contains(param),
                    "{op} {param} {what}: {err}"
                );
                checked += 1;
            }
        }
    }
    for param in [
        "HaVipId",
        "HaVipAddress",
        "NetworkId",
        "VSwitchId",
        "EnsRegionId",
        "EnsRegionIds.1",
    ] {
        for (what, value) in BAD.iter().filter(|(_, v)| v.is_some()) {
            let err = run(&client, "describe", param, *value).await.unwrap_err();
            let Error::InvalidInput(i) = &err else {
                panic!("describe {param} {what}: {err:?}")
            };
            assert_eq!(i.parameter, param, "describe {param} {what}");
            checked += 1;
        }
    }
    assert_eq!(checked, 4 * 2 * 7 + 6 * 6);
    assert!(server.requests().is_empty(), "a request was sent");
}

#[tokio::test]
async fn names_may_be_non_ascii_but_not_too_long_or_blank() {
    let server = TestServer::start().await;
    server.set_fallback(ok_request_id("R"));
    let client = client_for(&server).build().unwrap();
    client
        .describe_ha_vips()
        .name("高可用 VIP")
        .send()
        .await
        .unwrap();
    for bad in ["", "  ", &"名".repeat(129), "a\u{0}b"] {
        let err = client
            .describe_ha_vips()
            .name(bad)
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput(i) if i.parameter == "Name"),
            "{bad:?}: {err:?}"
        );
    }
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn client_settings_are_checked_when_building() {
    use std::time::Duration;
    let creds = alibabacloud_ens::Credentials::new("id", "secret");
    let build =
        |b: alibabacloud_ens::ClientBuilder| b.credentials(creds.clone()).build().unwrap_err();
    let cases: Vec<(Error, &str)> = vec![
        (build(Client::builder().endpoint("")), "endpoint"),
        (build(Client::builder().endpoint("ftp://host")), "endpoint"),
        (
            build(Client::builder().endpoint("http://host/path")),
            "endpoint",
        ),
        (build(Client::builder().region("Not A Region")), "region"),
        (
            build(Client::builder().connect_timeout(Duration::ZERO)),
            "connect_timeout",
        ),
        (
            build(Client::builder().read_timeout(Duration::ZERO)),
            "read_timeout",
        ),
        (
            build(Client::builder().attempt_timeout(Duration::ZERO)),
            "attempt_timeout",
        ),
        (
            build(Client::builder().operation_timeout(Duration::ZERO)),
            "operation_timeout",
        ),
        (
            build(Client::builder().user_agent_suffix("x\r\ninjected: 1")),
            "user_agent_suffix",
        ),
    ];
    for (err, param) in cases {
        assert!(
            matches!(&err, Error::InvalidInput(i) if i.parameter == param),
            "{param}: {err:?}"
        );
    }
}

#[tokio::test]
async fn lifecycle_builders_reject_bad_input_before_sending() {
    let server = TestServer::start().await;
    let client = client_for(&server).build().unwrap();
    let create = || client.create_ha_vip().vswitch_id("vsw-1");
    let cases: Vec<(Result<(), Error>, &str)> = vec![
        (client.create_ha_vip().send().await.map(|_| ()), "VSwitchId"),
        (
            client
                .create_ha_vip()
                .vswitch_id("vsw 1")
                .send()
                .await
                .map(|_| ()),
            "VSwitchId",
        ),
        (create().amount(0).send().await.map(|_| ()), "Amount"),
        (create().amount(11).send().await.map(|_| ()), "Amount"),
        (
            create()
                .ip_address("10.0.0.5")
                .amount(2)
                .send()
                .await
                .map(|_| ()),
            "Amount",
        ),
        (
            create().ip_address("10.0.0.300").send().await.map(|_| ()),
            "IpAddress",
        ),
        (
            create().ip_address("fe80::1").send().await.map(|_| ()),
            "IpAddress",
        ),
        (create().name("http://x").send().await.map(|_| ()), "Name"),
        (create().name("HTTPS://x").send().await.map(|_| ()), "Name"),
        (
            create().name("名".repeat(129)).send().await.map(|_| ()),
            "Name",
        ),
        (create().name("").send().await.map(|_| ()), "Name"),
        (
            create()
                .description("d".repeat(257))
                .send()
                .await
                .map(|_| ()),
            "Description",
        ),
        (
            create().description("a\nb").send().await.map(|_| ()),
            "Description",
        ),
        (client.delete_ha_vips().send().await.map(|_| ()), "HaVipIds"),
        (
            client
                .delete_ha_vips()
                .ha_vip_ids(["havip-1", "havip 2"])
                .send()
                .await
                .map(|_| ()),
            "HaVipIds",
        ),
        (
            client
                .delete_ha_vips()
                .ha_vip_ids((0..101).map(|i| format!("havip-{i}")))
                .send()
                .await
                .map(|_| ()),
            "HaVipIds",
        ),
        (
            client
                .modify_ha_vip_attribute()
                .ha_vip_id("havip-1")
                .send()
                .await
                .map(|_| ()),
            "Name",
        ),
        (
            client
                .modify_ha_vip_attribute()
                .name("n")
                .send()
                .await
                .map(|_| ()),
            "HaVipId",
        ),
        (
            client
                .modify_ha_vip_attribute()
                .ha_vip_id("havip-1")
                .name("https://evil")
                .send()
                .await
                .map(|_| ()),
            "Name",
        ),
        (
            client
                .modify_ha_vip_attribute()
                .ha_vip_id("havip-1")
                .name("x".repeat(129))
                .send()
                .await
                .map(|_| ()),
            "Name",
        ),
        (
            client
                .wait_until_available(Vec::<String>::new())
                .wait()
                .await
                .map(|_| ()),
            "HaVipIds",
        ),
        (client.get_ha_vip("havip 1").await.map(|_| ()), "HaVipId"),
        (
            client
                .ensure_associated("havip-1", "")
                .send()
                .await
                .map(|_| ()),
            "InstanceId",
        ),
    ];
    for (result, param) in cases {
        let err = result.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput(i) if i.parameter == param),
            "{param}: {err:?}"
        );
        assert!(err.to_string().contains(param), "{err}");
    }
    assert!(server.requests().is_empty(), "a request was sent");
    // Unicode names are normal.
    server.set_fallback(Reply::Json(
        200,
        r#"{"RequestId":"R","HaVipIds":["havip-new"]}"#.into(),
    ));
    let out = create().name("高可用 vip").send().await.unwrap();
    assert_eq!(out.ha_vip_ids(), ["havip-new"]);
}
