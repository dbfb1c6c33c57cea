//! The default credentials chain, with no cloud: the emulator serves ENS, an STS and an
//! instance metadata service on one local port.
//!
//! 1. An aliyun CLI config (written to a temporary home directory, as `aliyun configure`
//!    writes it) names a RAM role: the chain assumes it from the emulator's STS.
//! 2. Without the CLI config, the chain falls through to the instance's RAM role, from the
//!    emulator's metadata service.
//!
//! Each client lists the HAVIPs with the role's STS credentials, and prints which source the
//! chain found. Nothing here reads the real environment or reaches beyond 127.0.0.1.
//!
//! ```text
//! cargo run --example credentials_chain
//! ```

use std::path::Path;

use alibabacloud_ens::credentials::DefaultCredentialsChain;
use alibabacloud_ens::emulator::{Emulator, DEFAULT_ACCESS_KEY_SECRET};
use alibabacloud_ens::error::CredentialsError;
use alibabacloud_ens::{Client, Error, ProvideCredentials};

const ROLE: &str = "acs:ram::1234567890:role/failover";

/// A chain over `home` and no environment but the emulator's endpoints.
fn chain(home: &Path, emu: &Emulator) -> DefaultCredentialsChain {
    DefaultCredentialsChain::with_home_and_env(home, |_| None)
        .sts_endpoint(emu.endpoint())
        .ecs_metadata_endpoint(emu.endpoint())
}

async fn list_with(chain: DefaultCredentialsChain, emu: &Emulator) -> Result<(), Error> {
    let credentials = chain.provide_credentials().await?;
    let expiry = credentials.expiry().map_or_else(
        || "never".to_owned(),
        |t| alibabacloud_ens::signer::format_timestamp(time::OffsetDateTime::from(t)),
    );
    println!(
        "  found {} credentials {} (expiring {expiry})",
        credentials.provider_name().unwrap_or("?"),
        credentials.access_key_id(),
    );
    let client = Client::builder()
        .endpoint(emu.endpoint())
        .credentials_provider(chain)
        .build()?;
    let page = client.describe_ha_vips().send().await?;
    println!(
        "  DescribeHaVips with them: {} HAVIPs (request id {})",
        page.ha_vips().len(),
        page.request_id()
    );
    Ok(())
}

fn io_error(what: &str, e: std::io::Error) -> Error {
    CredentialsError::new(format!("{what}: {e}")).into()
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let emu = Emulator::builder()
        .demo()
        .ram_role(ROLE)
        .instance_ram_role("failover-controller")
        .start()
        .await
        .map_err(|e| io_error("cannot start the emulator", e))?;
    println!(
        "Emulator (ENS, STS, instance metadata) at {}",
        emu.endpoint()
    );

    let home = std::env::temp_dir().join(format!("credentials-chain-{}", std::process::id()));
    let config = home.join(".aliyun").join("config.json");
    std::fs::create_dir_all(home.join(".aliyun")).map_err(|e| io_error("temp dir", e))?;
    let profile = serde_json::json!({
        "current": "default",
        "profiles": [{
            "name": "default", "mode": "RamRoleArn",
            "access_key_id": emu.access_key_id(), "access_key_secret": DEFAULT_ACCESS_KEY_SECRET,
            "ram_role_arn": ROLE, "ram_session_name": "credentials-chain-example",
            "expired_seconds": 0, "sts_token": "", "region_id": "cn-hangzhou",
            "output_format": "json", "language": "en"
        }],
        "meta_path": ""
    });
    std::fs::write(&config, profile.to_string()).map_err(|e| io_error("write config", e))?;

    println!("\n1. {} names a RAM role:", config.display());
    let result = list_with(chain(&home, &emu), &emu).await;

    println!("\n2. No CLI config and no credentials file: the instance's RAM role:");
    let _ = std::fs::remove_dir_all(&home);
    let result = match result {
        Ok(()) => list_with(chain(&home, &emu), &emu).await,
        Err(e) => Err(e),
    };

    let sts_calls = emu
        .requests()
        .iter()
        .filter(|r| r.action.as_deref() == Some("AssumeRole"))
        .count();
    println!("\nThe emulator answered {sts_calls} AssumeRole call(s).");
    if let Err(e) = &result {
        let mut text = e.to_string();
        let mut cause = std::error::Error::source(e);
        while let Some(c) = cause {
            text.push_str(&format!(": {c}"));
            cause = c.source();
        }
        eprintln!("error: {text}");
    }
    result
}
