//! Associate an HAVIP with an ENS instance or ENI, then wait until the association is in use.
//!
//! With no credentials in the environment and no `--endpoint`, it starts the embedded ENS
//! emulator with its demo topology and runs against it:
//!
//! ```text
//! cargo run --example associate_ha_vip
//! ```
//!
//! Against Alibaba Cloud:
//!
//! ```text
//! export ALIBABA_CLOUD_ACCESS_KEY_ID=...  ALIBABA_CLOUD_ACCESS_KEY_SECRET=...
//! cargo run --example associate_ha_vip -- --ha-vip-id havip-... --instance-id i-... \
//!     [--instance-type EnsInstance|NetworkInterface] [--signature v1|v3] [--timeout SECONDS] \
//!     [--endpoint URL]
//! ```

use std::process::ExitCode;
use std::time::{Duration, Instant};

use alibabacloud_ens::emulator::Emulator;
use alibabacloud_ens::{
    Client, Credentials, Error, HaVip, InstanceType, ParseEnumError, SignatureVersion,
};

const USAGE: &str = "\
usage: associate_ha_vip [--endpoint URL] [--ha-vip-id ID] [--instance-id ID]
                        [--instance-type EnsInstance|NetworkInterface] [--signature v1|v3]
                        [--timeout SECONDS]

Credentials come from ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and
ALIBABA_CLOUD_SECURITY_TOKEN (optional). With none of them set and no --endpoint, the example
runs against the embedded ENS emulator (demo topology: havip-demo, i-demo, ...).";

#[derive(Debug, Default)]
struct Args {
    endpoint: Option<String>,
    ha_vip_id: Option<String>,
    instance_id: Option<String>,
    instance_type: Option<InstanceType>,
    signature: SignatureVersion,
    timeout: Option<Duration>,
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
            "--ha-vip-id" => args.ha_vip_id = Some(value()?),
            "--instance-id" => args.instance_id = Some(value()?),
            "--instance-type" => {
                args.instance_type = Some(
                    value()?
                        .parse()
                        .map_err(|e: ParseEnumError| e.to_string())?,
                )
            }
            "--signature" => args.signature = value()?.parse().map_err(|e: Error| e.to_string())?,
            "--timeout" => {
                let v = value()?;
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0)
                    .ok_or_else(|| {
                        format!("--timeout: `{v}` is not a positive number of seconds")
                    })?;
                args.timeout = Some(Duration::from_secs_f64(secs));
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

fn summary(h: &HaVip) -> String {
    let mut s = format!(
        "{} {} ip={} vswitch={} status={}",
        h.ha_vip_id, h.name, h.ip_address, h.vswitch_id, h.status
    );
    for a in &h.associated_instances {
        s.push_str(&format!(
            "\n    associated: {} ({}) {} {}",
            a.instance_id, a.instance_type, a.ip_address, a.status
        ));
    }
    s
}

/// The whole error chain (each level says only its own part; the cause is its `source()`),
/// then what the error carries.
fn report(e: &Error) {
    eprintln!("error: {e}");
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        eprintln!("  caused by:  {c}");
        cause = c.source();
    }
    if let Some(code) = e.code() {
        eprintln!("  code:       {code}");
    }
    if let Some(s) = e.as_service_error() {
        if !s.message.is_empty() {
            eprintln!("  message:    {}", s.message);
        }
    }
    if let Some(id) = e.request_id() {
        eprintln!("  request id: {id}");
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            if msg.is_empty() {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Error> {
    let env_credentials = Credentials::from_env();
    // Kept alive until the end of `run`: dropping it stops the emulator.
    let mut emulator = None;
    let (credentials, endpoint, ha_vip_id, instance_id) = match (env_credentials, &args.endpoint) {
        (Err(_), None) => {
            let emu = Emulator::start_demo().await.map_err(|e| {
                alibabacloud_ens::error::CredentialsError::new(format!(
                    "cannot start the emulator: {e}"
                ))
            })?;
            println!(
                "No credentials in the environment: running against the local ENS emulator at {}",
                emu.endpoint()
            );
            println!("(demo topology; to use Alibaba Cloud instead, export ALIBABA_CLOUD_ACCESS_KEY_ID and");
            println!(" ALIBABA_CLOUD_ACCESS_KEY_SECRET and pass --ha-vip-id and --instance-id)\n");
            let out = (
                emu.credentials(),
                Some(emu.endpoint()),
                args.ha_vip_id
                    .clone()
                    .unwrap_or_else(|| "havip-demo".into()),
                args.instance_id.clone().unwrap_or_else(|| "i-demo".into()),
            );
            emulator = Some(emu);
            out
        }
        (Err(e), Some(_)) => return Err(e.into()),
        (Ok(c), endpoint) => {
            let (Some(h), Some(i)) = (args.ha_vip_id.clone(), args.instance_id.clone()) else {
                return Err(alibabacloud_ens::error::CredentialsError::new(
                    "credentials found in the environment: pass --ha-vip-id and --instance-id to choose what to associate",
                )
                .into());
            };
            (c, endpoint.clone(), h, i)
        }
    };

    let mut builder = Client::builder()
        .credentials(credentials)
        .signature_version(args.signature);
    if let Some(e) = &endpoint {
        builder = builder.endpoint(e);
    }
    let client = builder.build()?;
    println!(
        "AssociateHaVip {ha_vip_id} -> {instance_id}{} at {} (signature {})",
        args.instance_type
            .as_ref()
            .map(|t| format!(" ({t})"))
            .unwrap_or_default(),
        client.endpoint(),
        client.signature_version()
    );

    let mut request = client
        .associate_ha_vip()
        .ha_vip_id(&ha_vip_id)
        .instance_id(&instance_id);
    if let Some(t) = args.instance_type {
        request = request.instance_type(t);
    }
    let started = Instant::now();
    let out = request.send().await?;
    println!(
        "accepted: request id {}{}",
        out.request_id(),
        if out.already_associated() {
            " (the association already existed)"
        } else {
            ""
        }
    );

    let mut waiter = client
        .wait_until_in_use(&ha_vip_id, &instance_id)
        .on_progress(move |p| {
            println!("[{:>5.1}s] {p}", started.elapsed().as_secs_f64());
        });
    if let Some(t) = args.timeout {
        waiter = waiter.max_wait(t);
    }
    let done = waiter.wait().await?;
    println!(
        "\nin use after {:.1}s and {} poll(s):\n  {}",
        started.elapsed().as_secs_f64(),
        done.polls(),
        summary(done.ha_vip())
    );
    drop(emulator);
    Ok(())
}
