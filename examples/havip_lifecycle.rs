//! The whole HAVIP lifecycle: find or create an HAVIP with a Unicode name (`ensure_ha_vip`,
//! waiting until it is available), check both instances of a keepalived pair before associating
//! them (`preflight_association`: status, vSwitch, primary ENI), associate both concurrently,
//! ensure it again (a no-op), give the HAVIP a public IP (`ensure_eip_associated`), rename it,
//! then tear down in the order the service requires: the EIP, then the members, then the HAVIP
//! (DeleteHaVips refuses an HAVIP that still has an EIP or a member). Each step prints its
//! elapsed time.
//!
//! With no credentials in the environment and no `--endpoint`, it runs against the embedded ENS
//! emulator (demo topology: vSwitch `vsw-demo`, instances `i-demo` and `i-demo-2`, EIP
//! `eip-demo`), with its delays shortened and a client polling every 100 ms so that it finishes
//! in a few seconds:
//!
//! ```text
//! cargo run --example havip_lifecycle
//! ```
//!
//! Against Alibaba Cloud (this creates and deletes a real HAVIP, and binds and unbinds the EIP
//! when `--eip-id` is given):
//!
//! ```text
//! export ALIBABA_CLOUD_ACCESS_KEY_ID=...  ALIBABA_CLOUD_ACCESS_KEY_SECRET=...
//! cargo run --example havip_lifecycle -- --vswitch-id vsw-... --instance-id i-a --instance-id i-b \
//!     [--eip-id eip-...] [--region REGION | --endpoint URL]
//! ```

use std::process::ExitCode;
use std::time::{Duration, Instant};

use alibabacloud_ens::emulator::Emulator;
use alibabacloud_ens::error::CredentialsError;
use alibabacloud_ens::waiter::WaiterSchedule;
use alibabacloud_ens::{Client, Credentials};

const USAGE: &str = "\
usage: havip_lifecycle [--endpoint URL | --region REGION] [--vswitch-id ID]
                       [--instance-id ID --instance-id ID] [--eip-id ID]

Credentials come from ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and
ALIBABA_CLOUD_SECURITY_TOKEN (optional). With none of them set and no --endpoint, the example
runs against the embedded ENS emulator.";

#[derive(Debug, Default)]
struct Args {
    endpoint: Option<String>,
    region: Option<String>,
    vswitch_id: Option<String>,
    instances: Vec<String>,
    eip_id: Option<String>,
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
            "--eip-id" => args.eip_id = Some(value()?),
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
            let mut cause = e.source();
            while let Some(c) = cause {
                eprintln!("  caused by: {c}");
                cause = c.source();
            }
            ExitCode::FAILURE
        }
    }
}

/// The emulator's demo topology, every change taking a few hundred milliseconds instead of
/// the default one or two seconds.
async fn quick_emulator() -> std::io::Result<Emulator> {
    let fast = Duration::from_millis(300);
    Emulator::builder()
        .demo()
        .create_delay(fast)
        .associate_delay(fast)
        .unassociate_delay(fast)
        .delete_delay(fast)
        .eip_associate_delay(fast)
        .eip_unassociate_delay(fast)
        .start()
        .await
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    // Kept alive until the end of `run`: dropping it stops the emulator.
    let mut emulator = None;
    let (client, vswitch, a, b, eip) = match (Credentials::from_env(), &args.endpoint) {
        (Err(_), None) => {
            let emu = quick_emulator()
                .await
                .map_err(|e| CredentialsError::new(format!("cannot start the emulator: {e}")))?;
            println!(
                "No credentials in the environment: running against the local ENS emulator at {}\n",
                emu.endpoint()
            );
            // Every waiter and ensure call of this client polls every 100 ms.
            let client = emu
                .client_builder()
                .waiter_schedule(WaiterSchedule::polling_every(Duration::from_millis(100)))
                .build()?;
            emulator = Some(emu);
            (
                client,
                "vsw-demo".to_owned(),
                "i-demo".to_owned(),
                "i-demo-2".to_owned(),
                Some("eip-demo".to_owned()),
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
            (
                builder.build()?,
                vswitch,
                a.clone(),
                b.clone(),
                args.eip_id.clone(),
            )
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

    // 3. Before associating: is each instance Running or Stopped, in the HAVIP's vSwitch, and
    //    which is its primary ENI (what to associate with `InstanceType=NetworkInterface`)?
    for instance in [&a, &b] {
        let check = client.preflight_association(&id, instance).await?;
        step(&format!(
            "preflight {instance}: {}, vSwitch {} ({}), primary ENI {}",
            check.instance_status().unwrap_or("not found"),
            check.instance_vswitch_id().unwrap_or("none"),
            if check.in_ha_vip_vswitch() {
                "the HAVIP's"
            } else {
                "not the HAVIP's"
            },
            check.primary_network_interface_id().unwrap_or("none"),
        ));
        // The reason names the code AssociateHaVip would answer.
        check.can_associate()?;
    }

    // 4. Both members of the pair, concurrently.
    let (first, second) = tokio::try_join!(
        client.ensure_associated(&id, &a).send(),
        client.ensure_associated(&id, &b).send(),
    )?;
    step(&format!(
        "associated with {a} ({:?}) and {b} ({:?}), both in use",
        first.ensured(),
        second.ensured()
    ));

    // 5. Again: nothing to do.
    let again = client.ensure_associated(&id, &a).send().await?;
    step(&format!("ensure_associated again: {:?}", again.ensured()));

    // 6. A public IP: bind the EIP to the HAVIP and wait until the HAVIP lists it.
    if let Some(eip) = &eip {
        let bound = client
            .ensure_eip_associated(eip, &id)
            .on_progress(|p| println!("         {p}"))
            .send()
            .await?;
        let public = bound
            .ha_vip()
            .and_then(|h| h.associated_eip_addresses.first())
            .map(|e| e.eip.clone())
            .unwrap_or_default();
        step(&format!(
            "{eip} bound ({:?}): public IP {public}",
            bound.ensured()
        ));
        if let Some(emu) = &emulator {
            // The teardown order matters: the emulator, like ENS, refuses to delete an HAVIP
            // that still has an EIP (and members).
            emu.clear_requests();
            let refused = client.delete_ha_vips().ha_vip_id(&id).send().await;
            step(&format!(
                "DeleteHaVips now: {}",
                match refused {
                    Ok(_) => "accepted?!".to_owned(),
                    Err(e) => format!(
                        "refused, {}",
                        e.code().map(ToString::to_string).unwrap_or_default()
                    ),
                }
            ));
        }
    }

    // 7. Rename.
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

    // 8. Teardown, in order: the EIP first…
    if let Some(eip) = &eip {
        let unbound = client.ensure_eip_unassociated(eip, &id).send().await?;
        step(&format!("{eip} unbound ({:?})", unbound.ensured()));
    }

    // 9. …then both members…
    let (ua, ub) = tokio::try_join!(
        client.ensure_unassociated(&id, &a).send(),
        client.ensure_unassociated(&id, &b).send(),
    )?;
    step(&format!(
        "unassociated {a} ({:?}) and {b} ({:?})",
        ua.ensured(),
        ub.ensured()
    ));

    // 10. …then the HAVIP, waiting until it is gone.
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
