//! The whole HAVIP lifecycle: find or create an HAVIP with a Unicode name (`ensure_ha_vip`,
//! waiting until it is available), associate it with both instances of a keepalived pair
//! concurrently, ensure it again (a no-op), rename it, unassociate both, delete it and wait
//! until it is gone. Each step prints its elapsed time.
//!
//! With no credentials in the environment and no `--endpoint`, it runs against the embedded ENS
//! emulator (demo topology: vSwitch `vsw-demo`, instances `i-demo` and `i-demo-2`):
//!
//! ```text
//! cargo run --example havip_lifecycle
//! ```
//!
//! Against Alibaba Cloud (this creates and deletes a real HAVIP):
//!
//! ```text
//! export ALIBABA_CLOUD_ACCESS_KEY_ID=...  ALIBABA_CLOUD_ACCESS_KEY_SECRET=...
//! cargo run --example havip_lifecycle -- --vswitch-id vsw-... --instance-id i-a --instance-id i-b \
//!     [--region REGION | --endpoint URL]
//! ```

use std::process::ExitCode;
use std::time::Instant;

use alibabacloud_ens::emulator::Emulator;
use alibabacloud_ens::error::CredentialsError;
use alibabacloud_ens::{Client, Credentials, Error};

const USAGE: &str = "\
usage: havip_lifecycle [--endpoint URL | --region REGION] [--vswitch-id ID]
                       [--instance-id ID --instance-id ID]

Credentials come from ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and
ALIBABA_CLOUD_SECURITY_TOKEN (optional). With none of them set and no --endpoint, the example
runs against the embedded ENS emulator.";

#[derive(Debug, Default)]
struct Args {
    endpoint: Option<String>,
    region: Option<String>,
    vswitch_id: Option<String>,
    instances: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--endpoint" => args.endpoint = Some(value()?),
            "--region" => args.region = Some(value()?),
            "--vswitch-id" => args.vswitch_id = Some(value()?),
            "--instance-id" => args.instances.push(value()?),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) if msg.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("error: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                eprintln!("  caused by: {c}");
                cause = c.source();
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Error> {
    // Kept alive until the end of `run`: dropping it stops the emulator.
    let mut emulator = None;
    let (client, vswitch, a, b) = match (Credentials::from_env(), &args.endpoint) {
        (Err(_), None) => {
            let emu = Emulator::start_demo()
                .await
                .map_err(|e| CredentialsError::new(format!("cannot start the emulator: {e}")))?;
            println!(
                "No credentials in the environment: running against the local ENS emulator at {}\n",
                emu.endpoint()
            );
            let client = emu.client()?;
            emulator = Some(emu);
            (
                client,
                "vsw-demo".to_owned(),
                "i-demo".to_owned(),
                "i-demo-2".to_owned(),
            )
        }
        (Err(e), Some(_)) => return Err(e.into()),
        (Ok(credentials), endpoint) => {
            let (Some(vswitch), [a, b]) = (args.vswitch_id.clone(), &args.instances[..]) else {
                return Err(CredentialsError::new(
                    "credentials found in the environment: pass --vswitch-id and two \
                     --instance-id to choose where to run",
                )
                .into());
            };
            let mut builder = Client::builder().credentials(credentials);
            if let Some(e) = endpoint {
                builder = builder.endpoint(e);
            } else if let Some(r) = &args.region {
                builder = builder.region(r);
            }
            (builder.build()?, vswitch, a.clone(), b.clone())
        }
    };
    let started = Instant::now();
    let step = &|what: &str| println!("[{:>5.1}s] {what}", started.elapsed().as_secs_f64());

    // 1. Find or create, with a Unicode name (unique per run here; a controller keeps its
    //    own fixed name, and every replica runs this same call), and wait until available.
    let name = format!(
        "高可用 VIP — pair {}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default()
    );
    let vip = client
        .ensure_ha_vip()
        .name(&name)
        .vswitch_id(&vswitch)
        .description("created by the havip_lifecycle example")
        .send()
        .await?;
    let id = vip.ha_vip().ha_vip_id.clone();
    step(&format!(
        "{id} {:?}, available at {}",
        vip.ensured(),
        vip.ha_vip().ip_address
    ));

    // 2. Again: found, nothing written.
    let again = client
        .ensure_ha_vip()
        .name(&name)
        .vswitch_id(&vswitch)
        .send()
        .await?;
    step(&format!(
        "ensure_ha_vip again: {:?} {}",
        again.ensured(),
        again.ha_vip().ha_vip_id
    ));

    // 3. Both members of the pair, concurrently.
    let (first, second) = tokio::try_join!(
        client.ensure_associated(&id, &a).send(),
        client.ensure_associated(&id, &b).send(),
    )?;
    step(&format!(
        "associated with {a} ({:?}) and {b} ({:?}), both in use",
        first.ensured(),
        second.ensured()
    ));

    // 4. Again: nothing to do.
    let again = client.ensure_associated(&id, &a).send().await?;
    step(&format!("ensure_associated again: {:?}", again.ensured()));

    // 5. Rename.
    client
        .modify_ha_vip_attribute()
        .ha_vip_id(&id)
        .name("高可用 VIP — renamed")
        .send()
        .await?;
    let renamed = client
        .get_ha_vip(&id)
        .await?
        .map(|h| h.name)
        .unwrap_or_default();
    step(&format!("renamed to {renamed:?}"));

    // 6. Unassociate both.
    let (ua, ub) = tokio::try_join!(
        client.ensure_unassociated(&id, &a).send(),
        client.ensure_unassociated(&id, &b).send(),
    )?;
    step(&format!(
        "unassociated {a} ({:?}) and {b} ({:?})",
        ua.ensured(),
        ub.ensured()
    ));

    // 7. Delete and wait until it is gone.
    client
        .delete_ha_vips()
        .ha_vip_id(&id)
        .send_and_wait()
        .await?;
    let gone = client.get_ha_vip(&id).await?.is_none();
    step(&format!("deleted {id}; DescribeHaVips lists it: {}", !gone));
    drop(emulator);
    Ok(())
}
