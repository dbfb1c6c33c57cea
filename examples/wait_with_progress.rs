//! The status trap, shown live: a second association on an HAVIP that is already `InUse`.
//! The HAVIP's own status says `InUse` all along; only the association's status tells when the
//! second instance is really served. `wait_until_in_use` waits for that.
//!
//! ```text
//! cargo run --example wait_with_progress
//! ```

use std::time::{Duration, Instant};

use alibabacloud_ens::emulator::Emulator;
use alibabacloud_ens::{Client, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let emu = Emulator::builder()
        .demo()
        .associate_delay(Duration::from_secs(3))
        .start()
        .await
        .map_err(|e| alibabacloud_ens::error::CredentialsError::new(format!("emulator: {e}")))?;
    let client = Client::builder()
        .endpoint(emu.endpoint())
        .credentials(emu.credentials())
        .build()?;

    println!("1. first instance: havip-demo goes Available -> Associating -> InUse");
    client
        .associate_ha_vip()
        .ha_vip_id("havip-demo")
        .instance_id("i-demo")
        .send()
        .await?;
    let started = Instant::now();
    let done = client
        .wait_until_in_use("havip-demo", "i-demo")
        .on_progress(move |p| {
            println!(
                "   [{:>4.1}s] poll {:>2}: {p}",
                started.elapsed().as_secs_f64(),
                p.polls
            )
        })
        .wait()
        .await?;
    println!(
        "   in use after {:.1?}, {} polls\n",
        done.elapsed(),
        done.polls()
    );

    println!("2. second instance: the HAVIP stays InUse while i-demo-2 is still Associating");
    client
        .associate_ha_vip()
        .ha_vip_id("havip-demo")
        .instance_id("i-demo-2")
        .send()
        .await?;
    let snapshot = client
        .describe_ha_vips()
        .ha_vip_id("havip-demo")
        .send()
        .await?;
    if let Some(h) = snapshot.ha_vips().first() {
        println!(
            "   right after the call: HAVIP {} / i-demo-2 {}",
            h.status,
            h.association("i-demo-2")
                .map(|a| a.status.to_string())
                .unwrap_or_else(|| "not listed".into())
        );
    }
    let started = Instant::now();
    let done = client
        .wait_until_in_use("havip-demo", "i-demo-2")
        .max_wait(Duration::from_secs(60))
        .on_progress(move |p| {
            println!(
                "   [{:>4.1}s] poll {:>2}: {p}",
                started.elapsed().as_secs_f64(),
                p.polls
            )
        })
        .wait()
        .await?;
    println!(
        "   i-demo-2 in use after {:.1?}, {} polls",
        done.elapsed(),
        done.polls()
    );
    Ok(())
}
