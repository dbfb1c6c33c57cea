//! Lists ENS instances with their primary ENI, and the EIPs, through generated operations
//! (`describe_instances`, `describe_network_interfaces`, `describe_ens_eip_addresses`; cargo
//! features `instance`, `eni` and `eip`). With no AccessKey in the environment it runs against
//! the embedded emulator's demo topology:
//!
//! ```text
//! cargo run --example describe_instances
//! ```
//!
//! Against Alibaba Cloud:
//!
//! ```text
//! export ALIBABA_CLOUD_ACCESS_KEY_ID=...  ALIBABA_CLOUD_ACCESS_KEY_SECRET=...
//! cargo run --example describe_instances [-- --region ap-southeast-1]
//! ```

use std::process::ExitCode;

use alibabacloud_ens::emulator::Emulator;
use alibabacloud_ens::generated::instance::describe_instances::Instance;
use alibabacloud_ens::{Client, Error};

/// Every instance, page by page (50 a page; `TotalCount` says when to stop).
async fn all_instances(client: &Client) -> Result<Vec<Instance>, Error> {
    let mut all = Vec::new();
    for page in 1.. {
        let out = client
            .describe_instances()
            .page_number(page)
            .page_size(50)
            .send()
            .await?;
        let got = out.instances.len();
        all.extend(out.instances);
        let total = out.total_count.unwrap_or(0);
        if got == 0 || all.len() as i64 >= total {
            break;
        }
    }
    Ok(all)
}

async fn run(client: &Client) -> Result<(), Error> {
    let instances = all_instances(client).await?;
    println!("{} instances", instances.len());
    for i in &instances {
        let id = i.instance_id.as_deref().unwrap_or("?");
        // The primary ENI is the one AssociateHaVip's documentation says to use.
        let enis = client
            .describe_network_interfaces()
            .instance_id(id)
            .send()
            .await?;
        let primary = enis
            .network_interface_sets
            .iter()
            .find(|e| e.r#type.as_deref() == Some("Primary"))
            .and_then(|e| e.network_interface_id.as_deref());
        println!(
            "  {id:<12} {:<10} {:<12} vSwitch {:<10} primary ENI {}",
            i.status.as_deref().unwrap_or("?"),
            i.ens_region_id.as_deref().unwrap_or("?"),
            i.network_attributes
                .as_ref()
                .and_then(|n| n.vswitch_id.as_deref())
                .unwrap_or("?"),
            primary.unwrap_or("none"),
        );
    }
    let eips = client.describe_ens_eip_addresses().send().await?;
    println!("{} EIPs", eips.eip_addresses.len());
    for e in &eips.eip_addresses {
        println!(
            "  {:<12} {:<15} {:<10} {}",
            e.allocation_id.as_deref().unwrap_or("?"),
            e.ip_address.as_deref().unwrap_or("?"),
            e.status.as_deref().unwrap_or("?"),
            match (&e.instance_type, &e.instance_id) {
                (Some(t), Some(i)) if !i.is_empty() => format!("bound to {t} {i}"),
                _ => "unbound".to_owned(),
            }
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut region = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--region", Some(r)) => region = Some(r),
            _ => {
                eprintln!("usage: describe_instances [--region REGION]");
                return ExitCode::from(2);
            }
        }
    }
    // Kept alive until the end when used.
    let mut emulator = None;
    let client = if std::env::var_os("ALIBABA_CLOUD_ACCESS_KEY_ID").is_some() {
        let mut b = Client::builder();
        match alibabacloud_ens::Credentials::from_env() {
            Ok(c) => b = b.credentials(c),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
        if let Some(r) = region {
            b = b.region(r);
        }
        b.build()
    } else {
        eprintln!("no AccessKey in the environment: using the embedded emulator (demo topology)");
        match Emulator::start_demo().await {
            Ok(emu) => emulator.insert(emu).client(),
            Err(e) => {
                eprintln!("error: cannot start the emulator: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    let result = match client {
        Ok(client) => run(&client).await,
        Err(e) => Err(e),
    };
    drop(emulator);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            ExitCode::FAILURE
        }
    }
}
