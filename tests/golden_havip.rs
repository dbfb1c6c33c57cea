//! The six hand-made HAVIP operations against Alibaba's official Python SDK: each built with
//! its builder from the input the SDK was given (`codegen/golden.json`; valid ids there, since
//! these builders check them before sending) and its wire form compared with the SDK's (the
//! rules are in `tests/golden/mod.rs`).

mod common;
mod golden;

use alibabacloud_ens::{HaVipStatus, InstanceType};
use golden::{Answers, Case};

const FREE_TEXT: &str = "-é高 /+&=?%*~'\"";

#[tokio::test]
async fn the_hand_made_operations_match_the_official_sdk() {
    let cases = vec![
        Case::new("AssociateHaVip", |c| {
            Box::pin(async move {
                let out = c
                    .associate_ha_vip()
                    .ha_vip_id("havip-golden-1")
                    .instance_id("eni-golden-1")
                    .instance_type(InstanceType::NetworkInterface)
                    .send()
                    .await?;
                Ok(serde_json::to_value(out).map_err(|e| e.to_string()))
            })
        }),
        Case::new("UnassociateHaVip", |c| {
            Box::pin(async move {
                let out = c
                    .unassociate_ha_vip()
                    .ha_vip_id("havip-golden-1")
                    .instance_id("i-golden-1")
                    .send()
                    .await?;
                Ok(serde_json::to_value(out).map_err(|e| e.to_string()))
            })
        }),
        Case::new("CreateHaVip", |c| {
            Box::pin(async move {
                let out = c
                    .create_ha_vip()
                    .vswitch_id("vsw-golden-1")
                    .ip_address("10.0.0.7")
                    .amount(1)
                    .name(format!("Name3{FREE_TEXT}"))
                    .description(format!("Description1{FREE_TEXT}"))
                    .send()
                    .await?;
                Ok(serde_json::to_value(out).map_err(|e| e.to_string()))
            })
        }),
        Case::new("DeleteHaVips", |c| {
            Box::pin(async move {
                let out = c
                    .delete_ha_vips()
                    .ha_vip_id("havip-golden-1")
                    .ha_vip_id("havip-golden-2")
                    .send()
                    .await?;
                Ok(serde_json::to_value(out).map_err(|e| e.to_string()))
            })
        }),
        Case::new("DescribeHaVips", |c| {
            Box::pin(async move {
                let out = c
                    .describe_ha_vips()
                    .ens_region_id("cn-golden-1")
                    .ens_region_ids_item("cn-golden-2")
                    .ens_region_ids_item("cn-golden-3")
                    .ha_vip_address("10.0.0.8")
                    .ha_vip_id("havip-golden-1")
                    .name(format!("Name5{FREE_TEXT}"))
                    .network_id("n-golden-1")
                    .page_number(2)
                    .page_size(50)
                    .status(HaVipStatus::InUse)
                    .vswitch_id("vsw-golden-1")
                    .send()
                    .await?;
                Ok(serde_json::to_value(out).map_err(|e| e.to_string()))
            })
        }),
        Case::new("ModifyHaVipAttribute", |c| {
            Box::pin(async move {
                let out = c
                    .modify_ha_vip_attribute()
                    .ha_vip_id("havip-golden-1")
                    .name(format!("Name1{FREE_TEXT}"))
                    .send()
                    .await?;
                Ok(serde_json::to_value(out).map_err(|e| e.to_string()))
            })
        }),
    ];
    golden::check(cases, Answers::Succeed).await;
}
