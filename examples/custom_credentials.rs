//! Plugging in credentials that refresh: a `ProvideCredentials` implementation the client asks
//! before every attempt. Here it hands out the emulator's key and counts how often it was
//! asked; a real one would cache STS credentials and renew them before they expire.
//!
//! ```text
//! cargo run --example custom_credentials
//! ```

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use alibabacloud_ens::emulator::Emulator;
use alibabacloud_ens::{Client, Credentials, Error, ProvideCredentials, ProvideCredentialsFuture};

/// A stand-in for a vault or an STS role: fetches (here: copies) credentials on demand.
#[derive(Debug)]
struct Vault {
    current: Credentials,
    fetches: Arc<AtomicU32>,
}

impl ProvideCredentials for Vault {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        Box::pin(async move {
            self.fetches.fetch_add(1, Ordering::Relaxed);
            Ok(self.current.clone())
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let emu = Emulator::start_demo()
        .await
        .map_err(|e| alibabacloud_ens::error::CredentialsError::new(format!("emulator: {e}")))?;
    let fetches = Arc::new(AtomicU32::new(0));
    let vault = Vault {
        current: emu.credentials(),
        fetches: fetches.clone(),
    };
    // Debug output never shows the secret:
    println!("provider: {vault:?}");

    let client = Client::builder()
        .endpoint(emu.endpoint())
        .credentials_provider(vault)
        .build()?;
    let page = client.describe_ha_vips().send().await?;
    println!("listed {} HAVIPs", page.ha_vips().len());
    client
        .describe_ha_vips()
        .ha_vip_id("havip-demo")
        .send()
        .await?;
    println!(
        "the provider was asked {} times (once per attempt)",
        fetches.load(Ordering::Relaxed)
    );
    Ok(())
}
