//! The neighbours of an HAVIP on the emulator: DescribeInstances, DescribeNetworkInterfaces,
//! DescribeEnsEipAddresses, AssociateEnsEipAddress and UnAssociateEnsEipAddress answered with
//! the official response shapes (the wrappers of Alibaba's Python SDK's `to_map()`), their
//! filters, paging and refusals, an EIP on an HAVIP end to end, and the answer to an action the
//! emulator does not play. Requests are signed with the crate's own signer, V1 and V3, with
//! the parameters in the query or in a form body. No test sleeps: transitions are finished with
//! `complete_transitions()` or take no time.

use std::net::Ipv4Addr;
use std::time::Duration;

use alibabacloud_ens::emulator::{
    AccessKey, EipInstanceType, EipStatus, Emulator, Fault, InstanceSeed, InstanceStatus,
    DEFAULT_ACCESS_KEY_SECRET, DEFAULT_ENS_REGION_ID, DEFAULT_NETWORK_ID,
};
use alibabacloud_ens::signer::{self, v1, v3, SigningParams};
use alibabacloud_ens::AssociatedEipAddress;
use serde_json::{json, Value};

mod common;
use common::answer::Answer;

const VERSION: &str = "2017-11-10";
const FORM: &str = "application/x-www-form-urlencoded";

/// How a request is signed and where its API parameters travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    V1Query,
    V1Body,
    V3Query,
    V3Body,
}

const WAYS: [Way; 4] = [Way::V1Query, Way::V1Body, Way::V3Query, Way::V3Body];

impl Answer {
    #[track_caller]
    fn ok(self) -> Value {
        assert_eq!(self.status, 200, "{}", self.json);
        assert!(self.json["RequestId"]
            .as_str()
            .is_some_and(|id| id.len() == 36));
        self.json
    }

    #[track_caller]
    fn refused(&self, status: u16, code: &str) {
        assert_eq!((self.status, self.code()), (status, code), "{}", self.json);
        assert!(!self.message().is_empty());
    }
}

/// Sends `action` with `params`, signed with `key`'s id and `secret`, the way `way` says.
async fn call_as(
    emu: &Emulator,
    key: (&str, &str),
    way: Way,
    action: &str,
    params: &[(&str, &str)],
) -> Answer {
    let nonce = signer::new_nonce().unwrap();
    let signing = SigningParams::new(key.0, key.1, time::OffsetDateTime::now_utc(), &nonce);
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let request = match way {
        Way::V1Query | Way::V1Body => {
            let signed = v1::sign("POST", action, VERSION, params, &signing).to_query();
            if way == Way::V1Query {
                http.post(format!("{}/?{signed}", emu.endpoint()))
            } else {
                http.post(format!("{}/", emu.endpoint()))
                    .header("content-type", FORM)
                    .body(signed)
            }
        }
        Way::V3Query | Way::V3Body => {
            let host = emu.local_addr().to_string();
            let body = if way == Way::V3Body {
                v3::canonical_query(params)
            } else {
                String::new()
            };
            let query: &[(&str, &str)] = if way == Way::V3Query { params } else { &[] };
            let signed = v3::sign(
                &v3::V3Request {
                    method: "POST",
                    host: &host,
                    action,
                    version: VERSION,
                    params: query,
                    extra_signed_headers: &[],
                    body: body.as_bytes(),
                },
                &signing,
            );
            let mut request = http
                .post(format!(
                    "{}/?{}",
                    emu.endpoint(),
                    v3::canonical_query(query)
                ))
                .body(body.clone());
            if way == Way::V3Body {
                request = request.header("content-type", FORM);
            }
            for (k, v) in &signed.headers {
                request = request.header(*k, v.as_ref());
            }
            request
        }
    };
    Answer::read(request.send().await.unwrap()).await
}

async fn call(emu: &Emulator, way: Way, action: &str, params: &[(&str, &str)]) -> Answer {
    call_as(
        emu,
        (emu.access_key_id(), DEFAULT_ACCESS_KEY_SECRET),
        way,
        action,
        params,
    )
    .await
}

/// V1, parameters in the query.
async fn v1(emu: &Emulator, action: &str, params: &[(&str, &str)]) -> Answer {
    call(emu, Way::V1Query, action, params).await
}

/// The ids (`id_key`) listed under `{outer: {inner: [...]}}`.
fn listed(body: &Value, outer: &str, inner: &str, id_key: &str) -> Vec<String> {
    body[outer][inner]
        .as_array()
        .unwrap_or_else(|| panic!("{outer}.{inner} is not a list: {body}"))
        .iter()
        .map(|item| item[id_key].as_str().unwrap_or("").to_owned())
        .collect()
}

fn instance_ids(body: &Value) -> Vec<String> {
    listed(body, "Instances", "Instance", "InstanceId")
}

fn eni_ids(body: &Value) -> Vec<String> {
    listed(
        body,
        "NetworkInterfaceSets",
        "NetworkInterfaceSet",
        "NetworkInterfaceId",
    )
}

fn eip_ids(body: &Value) -> Vec<String> {
    listed(body, "EipAddresses", "EipAddress", "AllocationId")
}

#[track_caller]
fn assert_page(body: &Value, total: u64, number: u64, size: u64) {
    assert_eq!(
        (&body["TotalCount"], &body["PageNumber"], &body["PageSize"]),
        (&json!(total), &json!(number), &json!(size)),
        "{body}"
    );
}

// ------------------------------------------------------------------ unknown actions

/// An action the emulator does not play answers like the gateway (404
/// `InvalidAction.NotFound`) after authentication, naming it; whatever the name, the message
/// stays one bounded, escaped line.
#[tokio::test]
async fn an_action_the_emulator_does_not_play_is_named_in_a_404() {
    let emu = Emulator::start_demo().await.unwrap();
    for way in WAYS {
        let a = call(&emu, way, "DescribeEnsRegions", &[("EnsRegionId", "x")]).await;
        a.refused(404, "InvalidAction.NotFound");
        assert!(
            a.message().contains("\"DescribeEnsRegions\"") && a.message().contains("does not play"),
            "{way:?}: {}",
            a.message()
        );
        assert!(
            a.message().contains("AssociateEnsEipAddress"),
            "{}",
            a.message()
        );
    }
    // Authentication comes first: a bad signature is not told whether the action exists.
    let a = call_as(
        &emu,
        (emu.access_key_id(), "not-the-secret"),
        Way::V1Query,
        "DescribeEnsRegions",
        &[],
    )
    .await;
    a.refused(400, "SignatureDoesNotMatch");

    // A hostile name: a newline and a terminal escape (a tab in a V3 header, which can carry no
    // other control character), 20 000 characters.
    let long = "A".repeat(20_000);
    for (way, hostile, escaped) in [
        (
            Way::V1Body,
            format!("Evil\nAction\u{1b}[31m{long}"),
            "Evil\\nAction\\u{1b}[31mAAA",
        ),
        (
            Way::V3Query,
            format!("Evil\tAction{long}"),
            "Evil\\tActionAAA",
        ),
    ] {
        let a = call(&emu, way, &hostile, &[]).await;
        a.refused(404, "InvalidAction.NotFound");
        let m = a.message();
        assert!(m.len() < 1_000, "{way:?}: {} bytes", m.len());
        assert!(!m.chars().any(char::is_control), "{m:?}");
        assert!(m.contains(escaped), "{m}");
        assert!(m.contains('…'), "{m}");
    }
    let records = emu.requests();
    assert!(records.iter().all(|r| r.fault.is_none()));
    assert_eq!(
        records
            .iter()
            .filter(|r| r.code == "InvalidAction.NotFound")
            .count(),
        6
    );
}

// ------------------------------------------------------------------ DescribeInstances

#[tokio::test]
async fn describe_instances_answers_the_official_shape() {
    let emu = Emulator::start_demo().await.unwrap();
    emu.add_vswitch_with_cidr("vsw-app", "10.8.0.0/24").unwrap();
    emu.add_instance_with(
        InstanceSeed::new("i-web-1", "vsw-app")
            .status(InstanceStatus::Stopped)
            .name("web-1")
            .ip_address(Ipv4Addr::new(10, 8, 0, 9)),
    )
    .unwrap();
    for way in WAYS {
        let body = call(&emu, way, "DescribeInstances", &[("InstanceId", "i-web-1")])
            .await
            .ok();
        assert_eq!(body["Code"], json!(0));
        assert_page(&body, 1, 1, 10);
        let i = &body["Instances"]["Instance"][0];
        for (key, value) in [
            ("InstanceId", "i-web-1"),
            ("InstanceName", "web-1"),
            ("Status", "Stopped"),
            ("EnsRegionId", DEFAULT_ENS_REGION_ID),
            ("InstanceResourceType", "EnsInstance"),
        ] {
            assert_eq!(i[key], value, "{key}: {i}");
        }
        assert_eq!(
            i["NetworkAttributes"],
            json!({
                "NetworkId": DEFAULT_NETWORK_ID,
                "VSwitchId": "vsw-app",
                "PrivateIpAddress": {"IpAddress": ["10.8.0.9"]},
            })
        );
        assert_eq!(
            i["PrivateIpAddresses"],
            json!({"PrivateIpAddress": [{"Ip": "10.8.0.9", "GateWay": "10.8.0.1", "Isp": ""}]})
        );
        assert_eq!(i["PublicIpAddress"], json!({"IpAddress": []}));
        assert_eq!(i["PublicIpAddresses"], json!({"PublicIpAddress": []}));
        let enis = &i["NetworkInterfaces"]["NetworkInterfaces"];
        assert_eq!(enis.as_array().map(Vec::len), Some(1), "{i}");
        assert_eq!(enis[0]["NetworkInterfaceId"], "eni-i-web-1");
        assert_eq!(enis[0]["Type"], "Primary");
        assert_eq!(enis[0]["PrimaryIpAddress"], "10.8.0.9");
        assert_eq!(
            enis[0]["PrivateIpSets"],
            json!({"PrivateIpSet": [{"Primary": true, "PrivateIpAddress": "10.8.0.9"}]})
        );
        // Numbers where the SDK has integers, text where it has strings.
        assert!(i["Memory"].is_u64() && i["Disk"].is_u64() && i["Cpu"].is_string());
        assert!(signer::parse_timestamp(i["CreationTime"].as_str().unwrap()).is_some());
        for key in ["ImageId", "SpecName", "OSName", "HostName"] {
            assert!(i[key].as_str().is_some_and(|v| !v.is_empty()), "{key}");
        }
    }

    // The demo's i-demo: its primary ENI first, then the secondary one attached to it.
    let body = v1(&emu, "DescribeInstances", &[("InstanceId", "i-demo")])
        .await
        .ok();
    let enis: Vec<&str> = body["Instances"]["Instance"][0]["NetworkInterfaces"]
        ["NetworkInterfaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["NetworkInterfaceId"].as_str().unwrap())
        .collect();
    assert_eq!(enis, ["eni-demo", "eni-secondary"]);
    // i-other has the demo's bound EIP as its public address.
    let body = v1(&emu, "DescribeInstances", &[("InstanceId", "i-other")])
        .await
        .ok();
    let i = &body["Instances"]["Instance"][0];
    assert_eq!(i["PublicIpAddress"], json!({"IpAddress": ["203.0.113.12"]}));
    assert_eq!(
        i["PublicIpAddresses"]["PublicIpAddress"][0]["Ip"],
        "203.0.113.12"
    );
}

#[tokio::test]
async fn describe_instances_filters_and_pages() {
    let emu = Emulator::start_demo().await.unwrap();
    let all = ["i-demo", "i-demo-2", "i-other", "i-starting", "i-stopped"];
    let body = v1(&emu, "DescribeInstances", &[]).await.ok();
    assert_eq!(instance_ids(&body), all);
    assert_page(&body, 5, 1, 10);
    let ip_of_demo = body["Instances"]["Instance"][0]["NetworkAttributes"]["PrivateIpAddress"]
        ["IpAddress"][0]
        .as_str()
        .unwrap()
        .to_owned();

    for (params, expected) in [
        (
            vec![("InstanceIds", r#"["i-other", "i-demo", "i-nope"]"#)],
            vec!["i-demo", "i-other"],
        ),
        // ENS: an empty InstanceIds array is a filter that matches nothing.
        (vec![("InstanceIds", "[]")], vec![]),
        (vec![("VSwitchId", "vsw-other")], vec!["i-other"]),
        (vec![("Status", "Stopped")], vec!["i-stopped"]),
        (vec![("InstanceName", "i-demo-2")], vec!["i-demo-2"]),
        (
            vec![("NetworkId", DEFAULT_NETWORK_ID), ("Status", "Starting")],
            vec!["i-starting"],
        ),
        (vec![("EnsRegionId", "cn-elsewhere")], vec![]),
        (
            vec![("EnsRegionIds", &format!(r#"["{DEFAULT_ENS_REGION_ID}"]"#))],
            all.to_vec(),
        ),
        (vec![("IntranetIp", ip_of_demo.as_str())], vec!["i-demo"]),
        (vec![("SearchKey", "demo")], vec!["i-demo", "i-demo-2"]),
        (
            vec![("InstanceId", "i-demo"), ("Status", "Stopped")],
            vec![],
        ),
    ] {
        let body = v1(&emu, "DescribeInstances", &params).await.ok();
        assert_eq!(instance_ids(&body), expected, "{params:?}");
        assert_eq!(body["TotalCount"], json!(expected.len()), "{params:?}");
    }

    // Paging: the last page of pages of 2, and past the end.
    let body = v1(
        &emu,
        "DescribeInstances",
        &[("PageSize", "2"), ("PageNumber", "3")],
    )
    .await
    .ok();
    assert_eq!(instance_ids(&body), ["i-stopped"]);
    assert_page(&body, 5, 3, 2);
    let body = v1(&emu, "DescribeInstances", &[("PageNumber", "99")])
        .await
        .ok();
    assert!(instance_ids(&body).is_empty());
    assert_page(&body, 5, 99, 10);

    for (params, code) in [
        (("PageSize", "101"), "InvalidParameter.PageSize"),
        (("PageSize", "0"), "InvalidParameter.PageSize"),
        (("PageNumber", "0"), "InvalidParameter.PageNumber"),
        (("InstanceIds", "i-demo"), "InvalidParameter.InstanceIds"),
        (("EnsRegionIds", "[1]"), "InvalidParameter.EnsRegionIds"),
    ] {
        v1(&emu, "DescribeInstances", &[params])
            .await
            .refused(400, code);
    }
    let too_many = serde_json::to_string(&vec!["i-x"; 101]).unwrap();
    v1(&emu, "DescribeInstances", &[("InstanceIds", &too_many)])
        .await
        .refused(400, "InvalidParameter.InstanceIds");
}

// ------------------------------------------------------------------ DescribeNetworkInterfaces

#[tokio::test]
async fn describe_network_interfaces_links_enis_to_their_instances() {
    let emu = Emulator::start_demo().await.unwrap();
    emu.add_instance("i-1", "vsw-demo", InstanceStatus::Running);
    let instance = v1(&emu, "DescribeInstances", &[("InstanceId", "i-1")])
        .await
        .ok();
    let ip = instance["Instances"]["Instance"][0]["PrivateIpAddresses"]["PrivateIpAddress"][0]
        ["Ip"]
        .clone();

    // "The instance's primary ENI", as a controller finds it, in every way of sending.
    for way in WAYS {
        let body = call(
            &emu,
            way,
            "DescribeNetworkInterfaces",
            &[("InstanceId", "i-1"), ("Type", "Primary")],
        )
        .await
        .ok();
        assert_page(&body, 1, 1, 50);
        let eni = &body["NetworkInterfaceSets"]["NetworkInterfaceSet"][0];
        for (key, value) in [
            ("NetworkInterfaceId", json!("eni-i-1")),
            ("InstanceId", json!("i-1")),
            ("Type", json!("Primary")),
            ("Status", json!("InUse")),
            ("VSwitchId", json!("vsw-demo")),
            ("NetworkId", json!(DEFAULT_NETWORK_ID)),
            ("EnsRegionId", json!(DEFAULT_ENS_REGION_ID)),
            ("PrimaryIp", ip.clone()),
        ] {
            assert_eq!(eni[key], value, "{key}: {eni}");
        }
        let mac = eni["MacAddress"].as_str().unwrap();
        assert!(mac.starts_with("00:16:3e:") && mac.len() == 17, "{mac}");
        assert_eq!(
            eni["PrivateIpSets"]["PrivateIpSet"][0]["PrivateIpAddress"],
            ip
        );
        assert_eq!(eni["Ipv6Sets"], json!({"Ipv6Set": []}));
        assert_eq!(eni["SecurityGroupIds"], json!({"SecurityGroup": []}));
        assert!(signer::parse_timestamp(eni["CreationTime"].as_str().unwrap()).is_some());
    }

    let all = v1(&emu, "DescribeNetworkInterfaces", &[]).await.ok();
    assert_eq!(
        eni_ids(&all),
        [
            "eni-busy",
            "eni-demo",
            "eni-demo-2",
            "eni-i-1",
            "eni-other",
            "eni-secondary",
            "eni-starting",
            "eni-stopped"
        ]
    );
    for (params, expected) in [
        (
            vec![("InstanceId", "i-demo")],
            vec!["eni-demo", "eni-secondary"],
        ),
        (
            vec![("InstanceId", "i-demo"), ("Type", "Secondary")],
            vec!["eni-secondary"],
        ),
        (vec![("Status", "Attaching")], vec!["eni-busy"]),
        (vec![("VSwitchId", "vsw-other")], vec!["eni-other"]),
        (vec![("NetworkInterfaceId", "eni-demo")], vec!["eni-demo"]),
        (
            vec![("NetworkInterfaceName", "eni-demo-2")],
            vec!["eni-demo-2"],
        ),
        (
            vec![
                ("NetworkInterfaceIds.1", "eni-stopped"),
                ("NetworkInterfaceIds.2", "eni-busy"),
            ],
            vec!["eni-busy", "eni-stopped"],
        ),
        (vec![("EnsRegionIds.1", "cn-elsewhere")], vec![]),
        (
            vec![("PrimaryIpAddress", ip.as_str().unwrap())],
            vec!["eni-i-1"],
        ),
    ] {
        let body = v1(&emu, "DescribeNetworkInterfaces", &params).await.ok();
        assert_eq!(eni_ids(&body), expected, "{params:?}");
    }
    // An ENI attached to nothing.
    let body = v1(
        &emu,
        "DescribeNetworkInterfaces",
        &[("NetworkInterfaceId", "eni-busy")],
    )
    .await
    .ok();
    assert_eq!(
        body["NetworkInterfaceSets"]["NetworkInterfaceSet"][0]["InstanceId"],
        ""
    );

    let body = v1(
        &emu,
        "DescribeNetworkInterfaces",
        &[("PageSize", "3"), ("PageNumber", "3")],
    )
    .await
    .ok();
    assert_eq!(eni_ids(&body), ["eni-starting", "eni-stopped"]);
    assert_page(&body, 8, 3, 3);

    for (params, code) in [
        (("PageSize", "101"), "InvalidParameter.PageSize"),
        (("PageNumber", "x"), "InvalidParameter.PageNumber"),
        (
            ("NetworkInterfaceIds.0", "eni-demo"),
            "InvalidParameter.NetworkInterfaceIds",
        ),
        (
            ("NetworkInterfaceIds.101", "eni-demo"),
            "InvalidParameter.NetworkInterfaceIds",
        ),
        (("EnsRegionIds.x", "r"), "InvalidParameter.EnsRegionIds"),
    ] {
        v1(&emu, "DescribeNetworkInterfaces", &[params])
            .await
            .refused(400, code);
    }
}

/// A repeat-list parameter given twice (`NetworkInterfaceIds.1` in the query and in the body)
/// is refused with that list's code, before authentication.
#[tokio::test]
async fn a_repeated_list_entry_is_refused_with_its_lists_code() {
    let emu = Emulator::start_demo().await.unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let response = http
        .post(format!(
            "{}/?Action=DescribeNetworkInterfaces&NetworkInterfaceIds.1=eni-demo",
            emu.endpoint()
        ))
        .header("content-type", FORM)
        .body("NetworkInterfaceIds.1=eni-busy")
        .send()
        .await
        .unwrap();
    let a = Answer::read(response).await;
    a.refused(400, "InvalidParameter.NetworkInterfaceIds");
    assert_eq!(
        a.message(),
        "The parameter NetworkInterfaceIds.1 is repeated."
    );
}

// ------------------------------------------------------------------ DescribeEnsEipAddresses

#[tokio::test]
async fn describe_ens_eip_addresses_answers_the_official_shape_filters_and_pages() {
    let emu = Emulator::start_demo().await.unwrap();
    let all = ["eip-demo", "eip-demo-2", "eip-far", "eip-in-use"];
    for way in WAYS {
        let body = call(&emu, way, "DescribeEnsEipAddresses", &[]).await.ok();
        assert_eq!(eip_ids(&body), all);
        assert_page(&body, 4, 1, 10);
    }
    let body = v1(
        &emu,
        "DescribeEnsEipAddresses",
        &[("AllocationId", "eip-in-use")],
    )
    .await
    .ok();
    let eip = &body["EipAddresses"]["EipAddress"][0];
    for (key, value) in [
        ("AllocationId", json!("eip-in-use")),
        ("IpAddress", json!("203.0.113.12")),
        ("Name", json!("eip-in-use")),
        ("EnsRegionId", json!(DEFAULT_ENS_REGION_ID)),
        ("Status", json!("InUse")),
        ("InstanceId", json!("i-other")),
        ("InstanceType", json!("EnsInstance")),
        ("Standby", json!(false)),
        ("OperationLocks", json!({"Lock": []})),
        ("Tags", json!({"Tag": []})),
    ] {
        assert_eq!(eip[key], value, "{key}: {eip}");
    }
    assert!(eip["Bandwidth"].is_u64());
    // Milliseconds since the epoch, as text (the official example: "1624885274000").
    let allocated: u64 = eip["AllocationTime"].as_str().unwrap().parse().unwrap();
    assert!(allocated > 1_600_000_000_000, "{allocated}");
    // Bound to nothing: empty texts.
    let body = v1(
        &emu,
        "DescribeEnsEipAddresses",
        &[("AllocationId", "eip-demo")],
    )
    .await
    .ok();
    let eip = &body["EipAddresses"]["EipAddress"][0];
    assert_eq!(
        (&eip["InstanceId"], &eip["InstanceType"]),
        (&json!(""), &json!(""))
    );
    assert_eq!(eip["Status"], "Available");

    for (params, expected) in [
        (
            vec![("AllocationId", "eip-far, eip-demo,eip-nope")],
            vec!["eip-demo", "eip-far"],
        ),
        (vec![("EipAddress", "203.0.113.11")], vec!["eip-demo-2"]),
        (
            vec![("AssociatedInstanceId", "i-other")],
            vec!["eip-in-use"],
        ),
        (
            vec![("AssociatedInstanceType", "EnsInstance")],
            vec!["eip-in-use"],
        ),
        (vec![("AssociatedInstanceType", "HaVip")], vec![]),
        (
            vec![("Status", "Available")],
            vec!["eip-demo", "eip-demo-2", "eip-far"],
        ),
        (vec![("EipName", "eip-far")], vec!["eip-far"]),
        (
            vec![("EnsRegionId", "cn-beijing-emulator")],
            vec!["eip-far"],
        ),
        (
            vec![("EnsRegionIds.1", "cn-beijing-emulator")],
            vec!["eip-far"],
        ),
        (vec![("Standby", "true")], vec![]),
        (vec![("Standby", "False")], all.to_vec()),
    ] {
        let body = v1(&emu, "DescribeEnsEipAddresses", &params).await.ok();
        assert_eq!(eip_ids(&body), expected, "{params:?}");
    }
    let body = v1(
        &emu,
        "DescribeEnsEipAddresses",
        &[("PageSize", "3"), ("PageNumber", "2")],
    )
    .await
    .ok();
    assert_eq!(eip_ids(&body), ["eip-in-use"]);
    assert_page(&body, 4, 2, 3);

    let fifty_one = vec!["eip-demo"; 51].join(",");
    for (params, code) in [
        (("PageSize", "101"), "InvalidParameter.PageSize"),
        (("PageNumber", "-1"), "InvalidParameter.PageNumber"),
        (
            ("AllocationId", fifty_one.as_str()),
            "InvalidParameter.AllocationId",
        ),
        (("Standby", "maybe"), "InvalidParameter.Standby"),
        (("EnsRegionIds.0", "r"), "InvalidParameter.EnsRegionIds"),
    ] {
        v1(&emu, "DescribeEnsEipAddresses", &[params])
            .await
            .refused(400, code);
    }
}

// ------------------------------------------------------------------ an EIP on an HAVIP

async fn eip_status(emu: &Emulator, id: &str) -> Value {
    let body = v1(emu, "DescribeEnsEipAddresses", &[("AllocationId", id)])
        .await
        .ok();
    body["EipAddresses"]["EipAddress"][0].clone()
}

async fn havip_eips(emu: &Emulator, havip: &str) -> Value {
    let body = v1(emu, "DescribeHaVips", &[("HaVipId", havip)]).await.ok();
    body["HaVips"][0]["AssociatedEipAddresses"].clone()
}

/// Associate (→ `Associating` → `InUse`, then listed in the HAVIP's `AssociatedEipAddresses`),
/// re-runs refused consistently, the HAVIP kept from deletion, unassociate (→ `Unassociating`
/// → `Available`, gone from the HAVIP), in every way of signing and sending.
#[tokio::test]
async fn an_eip_on_an_havip_end_to_end() {
    let emu = Emulator::start_demo().await.unwrap();
    let client = emu.client().unwrap();
    let bind = [
        ("AllocationId", "eip-demo"),
        ("InstanceId", "havip-demo"),
        ("InstanceType", "HaVip"),
    ];
    for way in WAYS {
        let a = call(&emu, way, "AssociateEnsEipAddress", &bind).await.ok();
        assert_eq!(
            a.as_object().map(|o| o.len()),
            Some(1),
            "only RequestId: {a}"
        );
        // Associating: shown on the EIP, not yet on the HAVIP.
        let eip = eip_status(&emu, "eip-demo").await;
        assert_eq!(
            (&eip["Status"], &eip["InstanceId"], &eip["InstanceType"]),
            (&json!("Associating"), &json!("havip-demo"), &json!("HaVip"))
        );
        assert_eq!(havip_eips(&emu, "havip-demo").await, json!([]));
        // A re-run meanwhile sees the same state and is refused.
        call(&emu, way, "AssociateEnsEipAddress", &bind)
            .await
            .refused(400, "IncorrectEipStatus");
        emu.complete_transitions();

        let eip = eip_status(&emu, "eip-demo").await;
        assert_eq!(eip["Status"], "InUse");
        assert_eq!(
            havip_eips(&emu, "havip-demo").await,
            json!([{"Eip": "203.0.113.10", "EipId": "eip-demo"}])
        );
        assert!(emu.eip("eip-demo").unwrap().is_in_use_by("havip-demo"));
        assert_eq!(
            emu.ha_vip("havip-demo").unwrap().associated_eip_addresses,
            [AssociatedEipAddress::new("203.0.113.10", "eip-demo")]
        );
        // The crate's own DescribeHaVips decodes it.
        let out = client
            .describe_ha_vips()
            .ha_vip_id("havip-demo")
            .send()
            .await
            .unwrap();
        assert_eq!(
            out.ha_vips()[0].associated_eip_addresses,
            [AssociatedEipAddress::new("203.0.113.10", "eip-demo")]
        );
        call(&emu, way, "AssociateEnsEipAddress", &bind)
            .await
            .refused(400, "IncorrectEipStatus");
        // The HAVIP cannot be deleted while its EIP is bound.
        call(
            &emu,
            way,
            "DeleteHaVips",
            &[("HaVipIds", r#"["havip-demo"]"#)],
        )
        .await
        .refused(400, "IncorrectHaVipStatus");

        let unbind = [("AllocationId", "eip-demo"), ("Force", "false")];
        call(&emu, way, "UnAssociateEnsEipAddress", &unbind)
            .await
            .ok();
        assert_eq!(
            eip_status(&emu, "eip-demo").await["Status"],
            "Unassociating"
        );
        // Still in effect until gone.
        assert_eq!(
            havip_eips(&emu, "havip-demo").await,
            json!([{"Eip": "203.0.113.10", "EipId": "eip-demo"}])
        );
        call(&emu, way, "UnAssociateEnsEipAddress", &unbind)
            .await
            .refused(400, "IncorrectEipStatus");
        emu.complete_transitions();
        let eip = eip_status(&emu, "eip-demo").await;
        assert_eq!(
            (&eip["Status"], &eip["InstanceId"], &eip["InstanceType"]),
            (&json!("Available"), &json!(""), &json!(""))
        );
        assert_eq!(havip_eips(&emu, "havip-demo").await, json!([]));
        assert!(emu
            .ha_vip("havip-demo")
            .unwrap()
            .associated_eip_addresses
            .is_empty());
    }
    // Nothing bound any more: the HAVIP can go.
    v1(&emu, "DeleteHaVips", &[("HaVipIds", r#"["havip-demo"]"#)])
        .await
        .ok();
}

/// The delays are the builder's (here none: bound at once) and can change at run time; a
/// pending transition keeps its deadline.
#[tokio::test]
async fn eip_transitions_take_the_configured_delays() {
    let emu = Emulator::builder()
        .demo()
        .eip_associate_delay(Duration::ZERO)
        .eip_unassociate_delay(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let bind = [("AllocationId", "eip-demo"), ("InstanceId", "i-demo")];
    v1(&emu, "AssociateEnsEipAddress", &bind).await.ok();
    assert_eq!(emu.eip("eip-demo").unwrap().status, EipStatus::InUse);
    let body = v1(&emu, "DescribeInstances", &[("InstanceId", "i-demo")])
        .await
        .ok();
    assert_eq!(
        body["Instances"]["Instance"][0]["PublicIpAddress"],
        json!({"IpAddress": ["203.0.113.10"]})
    );
    v1(&emu, "UnAssociateEnsEipAddress", &bind[..1]).await.ok();
    assert_eq!(emu.eip("eip-demo").unwrap().status, EipStatus::Available);

    emu.set_eip_associate_delay(Duration::from_secs(3600));
    v1(&emu, "AssociateEnsEipAddress", &bind).await.ok();
    emu.set_eip_associate_delay(Duration::ZERO);
    assert_eq!(emu.eip("eip-demo").unwrap().status, EipStatus::Associating);
    emu.complete_transitions();
    assert!(emu.eip("eip-demo").unwrap().is_in_use_by("i-demo"));
    emu.set_eip_unassociate_delay(Duration::from_secs(3600));
    v1(&emu, "UnAssociateEnsEipAddress", &bind[..1]).await.ok();
    assert_eq!(
        emu.eip("eip-demo").unwrap().status,
        EipStatus::Unassociating
    );
    emu.complete_transitions();
    let eip = emu.eip("eip-demo").unwrap();
    assert_eq!((eip.status, eip.instance_id), (EipStatus::Available, None));
}

/// Every refusal comes from a real condition, with the code ENS documents (or the emulator's
/// documented choice where ENS documents none).
#[tokio::test]
async fn eip_refusals_name_what_is_wrong() {
    let emu = Emulator::builder()
        .demo()
        .add_key(AccessKey::new("readonly-id", "readonly-secret").deny())
        .start()
        .await
        .unwrap();
    let with = |instance: &'static str, kind: &'static str| {
        vec![
            ("AllocationId", "eip-demo"),
            ("InstanceId", instance),
            ("InstanceType", kind),
        ]
    };
    for (params, code) in [
        (vec![("InstanceId", "i-demo")], "MissingAllocationId"),
        (
            vec![("AllocationId", " "), ("InstanceId", "i-demo")],
            "MissingAllocationId",
        ),
        (vec![("AllocationId", "eip-demo")], "MissingInstanceId"),
        (
            vec![("AllocationId", "eip/demo"), ("InstanceId", "i-demo")],
            "InvalidAllocationId",
        ),
        (
            vec![("AllocationId", "eip-demo"), ("InstanceId", "i demo")],
            "InvalidInstanceId",
        ),
        (with("i-demo", "Router"), "InvalidInstanceType"),
        (
            vec![
                ("AllocationId", "eip-demo"),
                ("InstanceId", "i-demo"),
                ("Standby", "1"),
            ],
            "InvalidStandby",
        ),
        (
            vec![("AllocationId", "eip-nope"), ("InstanceId", "i-demo")],
            "EipNotFound",
        ),
        (with("i-nope", "EnsInstance"), "InstanceNotFound"),
        (with("havip-nope", "HaVip"), "InstanceNotFound"),
        (with("eni-nope", "NetworkInterface"), "InstanceNotFound"),
        // The emulator keeps no load balancers or NAT gateways.
        (with("lb-1", "SlbInstance"), "InstanceNotFound"),
        (with("ngw-1", "Nat"), "InstanceNotFound"),
        (with("i-starting", "EnsInstance"), "IncorrectInstanceStatus"),
        // A primary ENI takes its EIP through its instance.
        (
            with("eni-demo", "NetworkInterface"),
            "NetworkInterfaceTypeNotSupported",
        ),
        (with("havip-creating", "HaVip"), "IncorrectHaVipStatus"),
        (
            vec![("AllocationId", "eip-far"), ("InstanceId", "i-demo")],
            "IncorrectInstanceRegion",
        ),
        // What never changes is answered before a status that may be passing.
        (
            vec![("AllocationId", "eip-far"), ("InstanceId", "i-starting")],
            "IncorrectInstanceRegion",
        ),
        (
            vec![("AllocationId", "eip-in-use"), ("InstanceId", "i-demo")],
            "IncorrectEipStatus",
        ),
        // i-other has eip-in-use already.
        (
            vec![("AllocationId", "eip-demo"), ("InstanceId", "i-other")],
            "InvalidAssociation.Duplicated",
        ),
    ] {
        v1(&emu, "AssociateEnsEipAddress", &params)
            .await
            .refused(400, code);
    }
    call_as(
        &emu,
        ("readonly-id", "readonly-secret"),
        Way::V3Query,
        "AssociateEnsEipAddress",
        &[("AllocationId", "eip-demo"), ("InstanceId", "i-demo")],
    )
    .await
    .refused(400, "NoPermission");
    for action in [
        "DescribeInstances",
        "DescribeNetworkInterfaces",
        "DescribeEnsEipAddresses",
        "UnAssociateEnsEipAddress",
    ] {
        call_as(
            &emu,
            ("readonly-id", "readonly-secret"),
            Way::V1Body,
            action,
            &[("AllocationId", "eip-in-use")],
        )
        .await
        .refused(400, "NoPermission");
    }
    // Nothing was changed by a refusal.
    assert!(emu
        .eips()
        .iter()
        .filter(|e| e.allocation_id != "eip-in-use")
        .all(|e| e.status == EipStatus::Available && e.instance_id.is_none()));

    for (params, code) in [
        (vec![], "MissingAllocationId"),
        (
            vec![("AllocationId", "eip-demo"), ("Force", "yes")],
            "InvalidForce",
        ),
        (vec![("AllocationId", "eip-nope")], "EipNotFound"),
        (vec![("AllocationId", "eip-demo")], "IncorrectEipStatus"),
    ] {
        v1(&emu, "UnAssociateEnsEipAddress", &params)
            .await
            .refused(400, code);
    }
}

/// A standby EIP beside the primary one; the primary cannot be unbound first.
#[tokio::test]
async fn a_standby_eip_is_unbound_first() {
    let emu = Emulator::start_demo().await.unwrap();
    v1(
        &emu,
        "AssociateEnsEipAddress",
        &[
            ("AllocationId", "eip-demo-2"),
            ("InstanceId", "i-other"),
            ("InstanceType", "EnsInstance"),
            ("Standby", "true"),
        ],
    )
    .await
    .ok();
    emu.complete_transitions();
    let body = v1(&emu, "DescribeEnsEipAddresses", &[("Standby", "true")])
        .await
        .ok();
    assert_eq!(eip_ids(&body), ["eip-demo-2"]);
    // A second standby EIP on the same instance is one too many.
    v1(
        &emu,
        "AssociateEnsEipAddress",
        &[
            ("AllocationId", "eip-demo"),
            ("InstanceId", "i-other"),
            ("Standby", "TRUE"),
        ],
    )
    .await
    .refused(400, "InvalidAssociation.Duplicated");
    v1(
        &emu,
        "UnAssociateEnsEipAddress",
        &[("AllocationId", "eip-in-use")],
    )
    .await
    .refused(400, "InvalidUnAssociation.UnAssociateStandbyEipFist");
    v1(
        &emu,
        "UnAssociateEnsEipAddress",
        &[("AllocationId", "eip-demo-2")],
    )
    .await
    .ok();
    emu.complete_transitions();
    v1(
        &emu,
        "UnAssociateEnsEipAddress",
        &[("AllocationId", "eip-in-use")],
    )
    .await
    .ok();
    emu.complete_transitions();
    assert!(emu.eips().iter().all(|e| e.status == EipStatus::Available));
}

/// An EIP on a secondary ENI, listed by DescribeEnsEipAddresses with its type.
#[tokio::test]
async fn an_eip_on_a_secondary_eni() {
    let emu = Emulator::start_demo().await.unwrap();
    v1(
        &emu,
        "AssociateEnsEipAddress",
        &[
            ("AllocationId", "eip-demo"),
            ("InstanceId", "eni-secondary"),
            ("InstanceType", "NetworkInterface"),
        ],
    )
    .await
    .ok();
    emu.complete_transitions();
    let body = v1(
        &emu,
        "DescribeEnsEipAddresses",
        &[("AssociatedInstanceType", "NetworkInterface")],
    )
    .await
    .ok();
    assert_eq!(eip_ids(&body), ["eip-demo"]);
    let eip = emu.eip("eip-demo").unwrap();
    assert_eq!(eip.instance_type, Some(EipInstanceType::NetworkInterface));
    assert!(eip.is_in_use_by("eni-secondary"));
    // Not the instance's own public address.
    let body = v1(&emu, "DescribeInstances", &[("InstanceId", "i-demo")])
        .await
        .ok();
    assert_eq!(
        body["Instances"]["Instance"][0]["PublicIpAddress"],
        json!({"IpAddress": []})
    );
}

/// A write whose answer is lost was applied: a controller's re-run sees the EIP bound (or being
/// bound), not a second binding.
#[tokio::test]
async fn a_lost_answer_leaves_the_binding_made() {
    let emu = Emulator::start_demo().await.unwrap();
    emu.inject("AssociateEnsEipAddress", Fault::DropAfterApply, 1);
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let nonce = signer::new_nonce().unwrap();
    let signing = SigningParams::new(
        emu.access_key_id(),
        DEFAULT_ACCESS_KEY_SECRET,
        time::OffsetDateTime::now_utc(),
        &nonce,
    );
    let signed = v1::sign(
        "POST",
        "AssociateEnsEipAddress",
        VERSION,
        &[
            ("AllocationId", "eip-demo"),
            ("InstanceId", "havip-demo"),
            ("InstanceType", "HaVip"),
        ],
        &signing,
    );
    let sent = http
        .post(format!("{}/?{}", emu.endpoint(), signed.to_query()))
        .send()
        .await;
    assert!(sent.is_err(), "the answer was dropped");
    let eip = emu.eip("eip-demo").unwrap();
    assert_eq!(eip.status, EipStatus::Associating);
    assert_eq!(eip.instance_id.as_deref(), Some("havip-demo"));
    let record = emu.requests().pop().unwrap();
    assert_eq!(
        (
            record.action.as_deref(),
            record.code.as_str(),
            record.http_status
        ),
        (Some("AssociateEnsEipAddress"), "Success", None)
    );
    emu.complete_transitions();
    assert_eq!(
        emu.ha_vip("havip-demo").unwrap().associated_eip_addresses,
        [AssociatedEipAddress::new("203.0.113.10", "eip-demo")]
    );
}

// ------------------------------------------------------------------ seeding

#[tokio::test]
async fn seeding_eips_instances_and_enis() {
    let emu = Emulator::start().await.unwrap();
    assert_eq!(
        emu.add_eip("eip-1", "not-an-ip", DEFAULT_ENS_REGION_ID),
        Err("`not-an-ip` is not an IPv4 address".to_owned())
    );
    emu.add_eip("eip-1", "198.51.100.7", DEFAULT_ENS_REGION_ID)
        .unwrap();
    let eip = emu.eip("eip-1").unwrap();
    assert_eq!(
        (
            eip.ip_address.as_str(),
            eip.name.as_str(),
            eip.status,
            eip.instance_id,
            eip.standby
        ),
        ("198.51.100.7", "eip-1", EipStatus::Available, None, false)
    );
    assert!(emu.eip("eip-2").is_none());
    assert!(!emu.set_eip_status("eip-2", EipStatus::InUse));
    // A pinned status sticks, and is refused like the real one.
    assert!(emu.set_eip_status("eip-1", EipStatus::Unassociating));
    emu.complete_transitions();
    assert_eq!(emu.eip("eip-1").unwrap().status, EipStatus::Unassociating);
    emu.add_instance("i-1", "vsw-1", InstanceStatus::Running);
    v1(
        &emu,
        "AssociateEnsEipAddress",
        &[("AllocationId", "eip-1"), ("InstanceId", "i-1")],
    )
    .await
    .refused(400, "IncorrectEipStatus");
    assert!(emu.set_eip_status("eip-1", EipStatus::Available));

    // A seeded binding, as if the call had just been made.
    assert!(emu.add_eip_association(
        "eip-1",
        "i-1",
        EipInstanceType::EnsInstance,
        EipStatus::Associating
    ));
    assert!(!emu.add_eip_association(
        "eip-2",
        "i-1",
        EipInstanceType::EnsInstance,
        EipStatus::InUse
    ));
    assert_eq!(emu.eip("eip-1").unwrap().status, EipStatus::Associating);
    emu.complete_transitions();
    assert!(emu.eip("eip-1").unwrap().is_in_use_by("i-1"));
    assert!(emu.add_eip_association(
        "eip-1",
        "i-1",
        EipInstanceType::EnsInstance,
        EipStatus::Available
    ));
    assert_eq!(emu.eip("eip-1").unwrap().instance_id, None);

    // Instances: the address must be the vSwitch's and free.
    emu.add_vswitch_with_cidr("vsw-2", "10.9.0.0/24").unwrap();
    let e = emu
        .add_instance_with(InstanceSeed::new("i-2", "vsw-2").ip_address(Ipv4Addr::new(10, 1, 1, 1)))
        .unwrap_err();
    assert!(e.contains("10.1.1.1") && e.contains("10.9.0.0/24"), "{e}");
    emu.add_instance_with(InstanceSeed::new("i-2", "vsw-2").ip_address(Ipv4Addr::new(10, 9, 0, 5)))
        .unwrap();
    let e = emu
        .add_instance_with(InstanceSeed::new("i-3", "vsw-2").ip_address(Ipv4Addr::new(10, 9, 0, 5)))
        .unwrap_err();
    assert!(e.contains("i-2"), "{e}");
    // Re-seeding an instance with its own address, a new name and primary ENI.
    emu.add_instance_with(
        InstanceSeed::new("i-2", "vsw-2")
            .ip_address(Ipv4Addr::new(10, 9, 0, 5))
            .name("two")
            .primary_network_interface_id("eni-two"),
    )
    .unwrap();
    let body = v1(&emu, "DescribeNetworkInterfaces", &[("InstanceId", "i-2")])
        .await
        .ok();
    assert_eq!(eni_ids(&body), ["eni-two"]);
    let body = v1(&emu, "DescribeInstances", &[("InstanceName", "two")])
        .await
        .ok();
    assert_eq!(instance_ids(&body), ["i-2"]);

    // Seeding a demo instance again (here: to stop it) keeps its primary ENI and address.
    let emu_demo = Emulator::start_demo().await.unwrap();
    let before = v1(
        &emu_demo,
        "DescribeNetworkInterfaces",
        &[("InstanceId", "i-demo")],
    )
    .await
    .ok();
    emu_demo.add_instance("i-demo", "vsw-demo", InstanceStatus::Stopped);
    let after = v1(
        &emu_demo,
        "DescribeNetworkInterfaces",
        &[("InstanceId", "i-demo")],
    )
    .await
    .ok();
    assert_eq!(eni_ids(&after), ["eni-demo", "eni-secondary"]);
    assert_eq!(
        before["NetworkInterfaceSets"]["NetworkInterfaceSet"][0]["PrimaryIp"],
        after["NetworkInterfaceSets"]["NetworkInterfaceSet"][0]["PrimaryIp"]
    );
    let body = v1(&emu_demo, "DescribeInstances", &[("Status", "Stopped")])
        .await
        .ok();
    assert_eq!(instance_ids(&body), ["i-demo", "i-stopped"]);

    // A standalone ENI attached later.
    emu.add_network_interface(
        "eni-x",
        "vsw-2",
        alibabacloud_ens::emulator::NetworkInterfaceType::Secondary,
        alibabacloud_ens::emulator::NetworkInterfaceStatus::Available,
    );
    assert!(!emu.attach_network_interface("eni-x", "i-nope"));
    assert!(!emu.attach_network_interface("eni-nope", "i-2"));
    assert!(emu.attach_network_interface("eni-x", "i-2"));
    let body = v1(&emu, "DescribeNetworkInterfaces", &[("InstanceId", "i-2")])
        .await
        .ok();
    assert_eq!(eni_ids(&body), ["eni-two", "eni-x"]);
    assert_eq!(
        body["NetworkInterfaceSets"]["NetworkInterfaceSet"][1]["Status"],
        "InUse"
    );
}
