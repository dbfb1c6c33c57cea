//! Testing your own code against a self-started emulator: a tiny failover routine moves an
//! HAVIP from a failed primary to a backup, and the emulator's state is checked afterwards.
//! The same code, in `tests/`, would be a `#[tokio::test]`.
//!
//! ```text
//! cargo run --example emulator_in_tests
//! ```

use std::time::Duration;

use alibabacloud_ens::emulator::{Emulator, Fault, InstanceStatus};
use alibabacloud_ens::{Client, Error, HaVipStatus};

/// The code under test: make `backup` the only instance serving `ha_vip`.
async fn fail_over(
    client: &Client,
    ha_vip: &str,
    primary: &str,
    backup: &str,
) -> Result<(), Error> {
    match client
        .unassociate_ha_vip()
        .ha_vip_id(ha_vip)
        .instance_id(primary)
        .send()
        .await
    {
        Ok(_) => {
            client
                .wait_until_unassociated(ha_vip, primary)
                .wait()
                .await?;
        }
        Err(e) if e.code() == Some(&alibabacloud_ens::ErrorCode::InstanceNotAssociated) => {}
        Err(e) => return Err(e),
    }
    client
        .associate_ha_vip()
        .ha_vip_id(ha_vip)
        .instance_id(backup)
        .send()
        .await?;
    client.wait_until_in_use(ha_vip, backup).wait().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Your own topology, fast transitions, and a throttling hiccup to prove the retries.
    let emu = Emulator::builder()
        .associate_delay(Duration::from_millis(300))
        .unassociate_delay(Duration::from_millis(200))
        .start()
        .await
        .map_err(|e| alibabacloud_ens::error::CredentialsError::new(format!("emulator: {e}")))?;
    emu.add_vswitch("vsw-app");
    emu.add_instance("i-primary", "vsw-app", InstanceStatus::Running);
    emu.add_instance("i-backup", "vsw-app", InstanceStatus::Running);
    emu.add_ha_vip("havip-app", "vsw-app", HaVipStatus::Available);

    let client = Client::builder()
        .endpoint(emu.endpoint())
        .credentials(emu.credentials())
        .build()?;
    client
        .associate_ha_vip()
        .ha_vip_id("havip-app")
        .instance_id("i-primary")
        .send()
        .await?;
    client
        .wait_until_in_use("havip-app", "i-primary")
        .wait()
        .await?;

    emu.inject("AssociateHaVip", Fault::throttling(), 1);
    fail_over(&client, "havip-app", "i-primary", "i-backup").await?;

    // Assertions a test would make, on the emulator's own state.
    let h = emu.ha_vip("havip-app").expect("the HAVIP exists");
    assert!(h.is_in_use_by("i-backup"));
    assert!(h.association("i-primary").is_none());
    let actions: Vec<String> = emu
        .requests()
        .iter()
        .filter_map(|r| r.action.clone())
        .collect();
    assert!(
        actions.iter().filter(|a| *a == "AssociateHaVip").count() >= 3,
        "{actions:?}"
    );
    println!(
        "failover done: {} now served by {}",
        h.ha_vip_id,
        h.associated_instances
            .iter()
            .map(|a| a.instance_id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("requests seen by the emulator: {}", actions.join(", "));
    Ok(())
}
