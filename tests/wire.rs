//! The exact requests the SDK sends, checked by a server the test starts on 127.0.0.1, with
//! signatures recomputed by an independent reference implementation.

mod common;

use alibabacloud_ens::{Credentials, HaVipStatus, InstanceType, SignatureVersion};
use common::*;

fn is_nonce(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_timestamp(s: &str) -> bool {
    alibabacloud_ens::signer::parse_timestamp(s).is_some()
}

#[tokio::test]
async fn associate_v1_sends_exactly_the_documented_request() {
    let server = TestServer::start().await;
    server.push(ok_request_id("CEF72CEB-54B6-4AE8-B225-F876FF7BA984"));
    let client = client_for(&server).build().unwrap();
    let out = client
        .associate_ha_vip()
        .ha_vip_id("havip-5p14t****")
        .instance_id("eni-50c4****")
        .instance_type(InstanceType::NetworkInterface)
        .send()
        .await
        .unwrap();
    assert_eq!(out.request_id(), "CEF72CEB-54B6-4AE8-B225-F876FF7BA984");
    assert!(!out.already_associated());
    assert_eq!(out.attempts(), 1);

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/");
    assert!(r.body.is_empty());
    assert_eq!(
        r.keys(),
        [
            "AccessKeyId",
            "Action",
            "Format",
            "HaVipId",
            "InstanceId",
            "InstanceType",
            "Signature",
            "SignatureMethod",
            "SignatureNonce",
            "SignatureVersion",
            "Timestamp",
            "Version"
        ]
    );
    assert_eq!(r.param("Action"), Some("AssociateHaVip"));
    assert_eq!(r.param("Version"), Some("2017-11-10"));
    assert_eq!(r.param("Format"), Some("JSON"));
    assert_eq!(r.param("AccessKeyId"), Some(AK));
    assert_eq!(r.param("SignatureMethod"), Some("HMAC-SHA1"));
    assert_eq!(r.param("SignatureVersion"), Some("1.0"));
    assert_eq!(r.param("HaVipId"), Some("havip-5p14t****"));
    assert_eq!(r.param("InstanceId"), Some("eni-50c4****"));
    assert_eq!(r.param("InstanceType"), Some("NetworkInterface"));
    assert!(is_nonce(r.param("SignatureNonce").unwrap()));
    assert!(is_timestamp(r.param("Timestamp").unwrap()));
    // The wire form is serde_urlencoded's (as Alibaba's Python SDK): `*` stays literal, a space
    // would be `+`, and `+`, `/`, `=` of the Base64 signature are escaped, so the gateway decodes
    // exactly the signed values (the test server decodes like it: `+` as space).
    assert!(
        r.raw_query.contains("&HaVipId=havip-5p14t****&"),
        "{}",
        r.raw_query
    );
    let raw_signature = r.raw_query.rsplit_once("&Signature=").unwrap().1;
    assert!(!raw_signature.contains(['+', '/', '=']), "{}", r.raw_query);
    assert_eq!(
        r.param("Signature").unwrap(),
        reference_v1("POST", &r.query, SECRET)
    );
    assert!(r
        .header("user-agent")
        .unwrap()
        .starts_with("alibabacloud-ens-rust/"));
}

#[tokio::test]
async fn omitted_instance_type_is_not_sent() {
    let server = TestServer::start().await;
    let client = client_for(&server).build().unwrap();
    client
        .associate_ha_vip()
        .ha_vip_id("havip-1")
        .instance_id("i-1")
        .send()
        .await
        .unwrap();
    let r = &server.requests()[0];
    assert_eq!(r.param("InstanceType"), None);
    assert_eq!(
        r.param("Signature").unwrap(),
        reference_v1("POST", &r.query, SECRET)
    );
}

#[tokio::test]
async fn associate_v3_sends_signed_headers_and_only_api_parameters() {
    let server = TestServer::start().await;
    let client = client_for(&server)
        .signature_version(SignatureVersion::V3)
        .build()
        .unwrap();
    client
        .associate_ha_vip()
        .ha_vip_id("havip-1")
        .instance_id("i-1")
        .instance_type(InstanceType::EnsInstance)
        .send()
        .await
        .unwrap();
    let r = &server.requests()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.keys(), ["HaVipId", "InstanceId", "InstanceType"]);
    assert_eq!(r.header("x-acs-action"), Some("AssociateHaVip"));
    assert_eq!(r.header("x-acs-version"), Some("2017-11-10"));
    assert!(is_timestamp(r.header("x-acs-date").unwrap()));
    assert!(is_nonce(r.header("x-acs-signature-nonce").unwrap()));
    assert_eq!(
        r.header("x-acs-content-sha256"),
        Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert_eq!(r.header("host"), Some(server.addr.to_string().as_str()));
    let (expected, sent, signed) = reference_v3(r, SECRET);
    assert_eq!(sent, expected);
    assert_eq!(
        signed,
        "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
    );
    assert!(r
        .header("authorization")
        .unwrap()
        .contains(&format!("Credential={AK},")));
}

#[tokio::test]
async fn describe_sends_every_filter_with_get() {
    for version in [SignatureVersion::V1, SignatureVersion::V3] {
        let server = TestServer::start().await;
        server.push(Reply::Json(
            200,
            r#"{"RequestId":"R","TotalCount":"0","PageNumber":"2","PageSize":"50","HaVips":[]}"#
                .into(),
        ));
        let client = client_for(&server)
            .signature_version(version)
            .build()
            .unwrap();
        let page = client
            .describe_ha_vips()
            .ha_vip_id("havip-1")
            .ha_vip_address("10.0.0.8")
            .name("my vip *~+/名")
            .network_id("n-1")
            .vswitch_id("vsw-1")
            .ens_region_id("cn-hangzhou-telecom")
            .ens_region_ids(["r-1", "r-2"])
            .ens_region_ids_item("r-3")
            .status(HaVipStatus::InUse)
            .page_number(2)
            .page_size(50)
            .send()
            .await
            .unwrap();
        assert_eq!(
            (page.total_count(), page.page_number(), page.page_size()),
            (0, 2, 50)
        );
        let r = &server.requests()[0];
        assert_eq!(r.method, "GET");
        for (k, v) in [
            ("HaVipId", "havip-1"),
            ("HaVipAddress", "10.0.0.8"),
            // Raw `+`, `*`, space and non-ASCII survive the trip exactly (a gateway decodes `+` as space).
            ("Name", "my vip *~+/名"),
            ("NetworkId", "n-1"),
            ("VSwitchId", "vsw-1"),
            ("EnsRegionId", "cn-hangzhou-telecom"),
            ("EnsRegionIds.1", "r-1"),
            ("EnsRegionIds.2", "r-2"),
            ("EnsRegionIds.3", "r-3"),
            ("Status", "InUse"),
            ("PageNumber", "2"),
            ("PageSize", "50"),
        ] {
            assert_eq!(r.param(k), Some(v), "{k} ({version})");
        }
        // serde_urlencoded's form encoding: space as `+`, `+` as `%2B`, `~` as `%7E`.
        assert!(
            r.raw_query.contains("Name=my+vip+*%7E%2B%2F%E5%90%8D"),
            "{}",
            r.raw_query
        );
        match version {
            SignatureVersion::V1 => {
                assert_eq!(r.param("Action"), Some("DescribeHaVips"));
                assert_eq!(
                    r.param("Signature").unwrap(),
                    reference_v1("GET", &r.query, SECRET)
                );
            }
            _ => {
                assert_eq!(r.query.len(), 12);
                let (expected, sent, _) = reference_v3(r, SECRET);
                assert_eq!(sent, expected);
            }
        }
    }
}

#[tokio::test]
async fn unassociate_is_a_signed_post() {
    let server = TestServer::start().await;
    let client = client_for(&server).build().unwrap();
    let out = client
        .unassociate_ha_vip()
        .ha_vip_id("havip-1")
        .instance_id("i-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.request_id(), "DEFAULT-REQ");
    let r = &server.requests()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.param("Action"), Some("UnassociateHaVip"));
    assert_eq!(r.param("HaVipId"), Some("havip-1"));
    assert_eq!(r.param("InstanceId"), Some("i-1"));
    assert_eq!(
        r.param("Signature").unwrap(),
        reference_v1("POST", &r.query, SECRET)
    );
}

#[tokio::test]
async fn sts_token_travels_in_both_versions() {
    for version in [SignatureVersion::V1, SignatureVersion::V3] {
        let server = TestServer::start().await;
        let client = alibabacloud_ens::Client::builder()
            .endpoint(server.endpoint())
            .credentials(Credentials::with_security_token(AK, SECRET, TOKEN))
            .signature_version(version)
            .build()
            .unwrap();
        client
            .associate_ha_vip()
            .ha_vip_id("havip-1")
            .instance_id("i-1")
            .send()
            .await
            .unwrap();
        let r = &server.requests()[0];
        match version {
            SignatureVersion::V1 => {
                assert_eq!(r.param("SecurityToken"), Some(TOKEN));
                assert_eq!(
                    r.param("Signature").unwrap(),
                    reference_v1("POST", &r.query, SECRET)
                );
            }
            _ => {
                assert_eq!(r.header("x-acs-security-token"), Some(TOKEN));
                let (expected, sent, signed) = reference_v3(r, SECRET);
                assert_eq!(sent, expected);
                assert!(signed.contains("x-acs-security-token"));
            }
        }
    }
}

#[tokio::test]
async fn every_attempt_has_a_fresh_nonce() {
    let server = TestServer::start().await;
    let client = client_for(&server).build().unwrap();
    for _ in 0..20 {
        client.describe_ha_vips().send().await.ok();
    }
    let mut nonces: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.param("SignatureNonce").unwrap().to_owned())
        .collect();
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 20);
}

#[tokio::test]
async fn bad_input_is_rejected_before_anything_is_sent() {
    let server = TestServer::start().await;
    let client = client_for(&server).build().unwrap();
    let long = "x".repeat(200);
    let cases: Vec<(Result<_, alibabacloud_ens::Error>, &str)> = vec![
        (
            client
                .associate_ha_vip()
                .instance_id("i-1")
                .send()
                .await
                .map(|_| ()),
            "HaVipId",
        ),
        (
            client
                .associate_ha_vip()
                .ha_vip_id("  ")
                .instance_id("i-1")
                .send()
                .await
                .map(|_| ()),
            "HaVipId",
        ),
        (
            client
                .associate_ha_vip()
                .ha_vip_id("havip-1")
                .send()
                .await
                .map(|_| ()),
            "InstanceId",
        ),
        (
            client
                .associate_ha_vip()
                .ha_vip_id("havip-1")
                .instance_id("")
                .send()
                .await
                .map(|_| ()),
            "InstanceId",
        ),
        (
            client
                .associate_ha_vip()
                .ha_vip_id(&long)
                .instance_id("i-1")
                .send()
                .await
                .map(|_| ()),
            "HaVipId",
        ),
        (
            client
                .associate_ha_vip()
                .ha_vip_id("havip-ü")
                .instance_id("i-1")
                .send()
                .await
                .map(|_| ()),
            "HaVipId",
        ),
        (
            client
                .associate_ha_vip()
                .ha_vip_id("havip-1")
                .instance_id("i-1")
                .instance_type(InstanceType::from_wire(""))
                .send()
                .await
                .map(|_| ()),
            "InstanceType",
        ),
        (
            client
                .unassociate_ha_vip()
                .ha_vip_id("havip-1")
                .send()
                .await
                .map(|_| ()),
            "InstanceId",
        ),
        (
            client
                .unassociate_ha_vip()
                .instance_id("i-1")
                .send()
                .await
                .map(|_| ()),
            "HaVipId",
        ),
        (
            client
                .describe_ha_vips()
                .page_size(0)
                .send()
                .await
                .map(|_| ()),
            "PageSize",
        ),
        (
            client
                .describe_ha_vips()
                .page_size(101)
                .send()
                .await
                .map(|_| ()),
            "PageSize",
        ),
        (
            client
                .describe_ha_vips()
                .page_number(0)
                .send()
                .await
                .map(|_| ()),
            "PageNumber",
        ),
        (
            client.describe_ha_vips().name("").send().await.map(|_| ()),
            "Name",
        ),
        (
            client
                .describe_ha_vips()
                .vswitch_id("vsw 1")
                .send()
                .await
                .map(|_| ()),
            "VSwitchId",
        ),
        (
            client
                .describe_ha_vips()
                .ens_region_ids((0..101).map(|i| format!("r-{i}")))
                .send()
                .await
                .map(|_| ()),
            "EnsRegionIds",
        ),
        (
            client
                .describe_ha_vips()
                .ens_region_ids(["r-1", ""])
                .send()
                .await
                .map(|_| ()),
            "EnsRegionIds.2",
        ),
        (
            client.wait_until_in_use("", "i-1").wait().await.map(|_| ()),
            "HaVipId",
        ),
        (
            client
                .wait_until_in_use("havip-1", "i 1")
                .wait()
                .await
                .map(|_| ()),
            "InstanceId",
        ),
    ];
    for (i, (result, param)) in cases.into_iter().enumerate() {
        let err = result.unwrap_err();
        let alibabacloud_ens::Error::InvalidInput(input) = &err else {
            panic!("case {i}: {err:?}")
        };
        assert_eq!(input.parameter, param, "case {i}: {err}");
        assert!(err.to_string().contains(param), "case {i}: {err}");
    }
    assert!(server.requests().is_empty(), "a request was sent");
}

#[tokio::test]
async fn pagination_walks_every_page() {
    let server = TestServer::start().await;
    let havip = |i: u32| format!(r#"{{"HaVipId":"havip-{i}","Status":"Available"}}"#);
    let page = |n: u32, ids: &[u32]| {
        Reply::Json(
            200,
            format!(
                r#"{{"RequestId":"R{n}","TotalCount":5,"PageNumber":{n},"PageSize":2,"HaVips":[{}]}}"#,
                ids.iter().map(|i| havip(*i)).collect::<Vec<_>>().join(",")
            ),
        )
    };
    server.push(page(1, &[1, 2]));
    server.push(page(2, &[3, 4]));
    server.push(page(3, &[5]));
    let client = client_for(&server).build().unwrap();
    let all = client
        .describe_ha_vips()
        .page_size(2)
        .send_all()
        .await
        .unwrap();
    let ids: Vec<&str> = all.iter().map(|h| h.ha_vip_id.as_str()).collect();
    assert_eq!(ids, ["havip-1", "havip-2", "havip-3", "havip-4", "havip-5"]);
    let pages: Vec<Option<&str>> = server
        .requests()
        .iter()
        .map(|r| r.param("PageNumber").map(|_| ""))
        .collect();
    assert_eq!(pages.len(), 3);
    let numbers: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.param("PageNumber").unwrap_or("-").to_owned())
        .collect();
    assert_eq!(numbers, ["-", "2", "3"]);
}

#[tokio::test]
async fn describe_decodes_the_documented_shape() {
    let server = TestServer::start().await;
    server.push(Reply::Json(
        200,
        r#"{"RequestId":"R","TotalCount":1,"PageNumber":1,"PageSize":10,"HaVips":[{
            "HaVipId":"havip-1","Status":"InUse","IpAddress":"10.0.0.8","Name":"n","Description":"d",
            "EnsRegionId":"cn-x","NetworkId":"n-1","VSwitchId":"vsw-1","CreationTime":"2024-01-02T03:04:05Z",
            "AssociatedInstances":[{"InstanceId":"i-1","InstanceType":"EnsInstance","IpAddress":"10.0.0.2",
                "Status":"InUse","CreationTime":"2024-01-02T03:05:00Z"},
                {"InstanceId":"eni-2","InstanceType":"NetworkInterface","Status":"Detaching"}],
            "AssociatedEipAddresses":[{"Eip":"47.1.1.1","EipId":"eip-1"}]}]}"#
            .into(),
    ));
    let client = client_for(&server).build().unwrap();
    let page = client.describe_ha_vips().send().await.unwrap();
    let h = &page.ha_vips()[0];
    assert_eq!(h.status, HaVipStatus::InUse);
    assert_eq!(h.vswitch_id, "vsw-1");
    assert_eq!(
        h.associated_instances[1].instance_type,
        InstanceType::NetworkInterface
    );
    assert_eq!(
        h.associated_instances[1].status,
        alibabacloud_ens::AssociationStatus::Unknown("Detaching".into())
    );
    assert_eq!(h.associated_eip_addresses[0].eip_id, "eip-1");
    assert!(h.creation_time.is_some());
    assert!(h.is_in_use_by("i-1"));
}
