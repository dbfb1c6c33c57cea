//! Associate an HAVIP with an ENS instance or ENI, then wait until the association is in use.
//!
//! Credentials come from the default chain, as a service would find them: the environment,
//! the OIDC role (RRSA), the aliyun CLI config, the credentials file, the instance's RAM role,
//! the credentials URI (`ALIBABA_CLOUD_CREDENTIALS_URI`). The source used is printed on stderr
//! (its name, never a secret). Only when the chain finds none (and no `--endpoint` is given)
//! does the example start the embedded ENS emulator with its demo topology and run against it:
//!
//! ```text
//! cargo run --example associate_ha_vip
//! ```
//!
//! The instance metadata service is asked only when it accepts a connection within 300 ms, so
//! that a machine that is not an ECS or ENS instance does not wait for its time-outs.
//!
//! Against Alibaba Cloud:
//!
//! ```text
//! export ALIBABA_CLOUD_ACCESS_KEY_ID=...  ALIBABA_CLOUD_ACCESS_KEY_SECRET=...
//! cargo run --example associate_ha_vip -- --ha-vip-id havip-... --instance-id i-... \
//!     [--instance-type EnsInstance|NetworkInterface] [--signature v1|v3] [--timeout SECONDS] \
//!     [--endpoint URL]
//! ```

use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use alibabacloud_ens::credentials::{
    DefaultCredentialsChain, DEFAULT_METADATA_ENDPOINT, ENV_ECS_METADATA_DISABLED,
};
use alibabacloud_ens::emulator::Emulator;
use alibabacloud_ens::{
    Client, Error, HaVip, InstanceType, ParseEnumError, ProvideCredentials, SignatureVersion,
};

const USAGE: &str = "\
usage: associate_ha_vip [--endpoint URL] [--ha-vip-id ID] [--instance-id ID]
                        [--instance-type EnsInstance|NetworkInterface] [--signature v1|v3]
                        [--timeout SECONDS] [--emulator]

Credentials come from the default chain: ALIBABA_CLOUD_ACCESS_KEY_ID and
ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN), the OIDC role, the aliyun
CLI config, ~/.alibabacloud/credentials, the instance's RAM role, ALIBABA_CLOUD_CREDENTIALS_URI.
When it finds none and no --endpoint is given (or with --emulator), the example runs against
the embedded ENS emulator (demo topology: havip-demo, i-demo, ...).";

#[derive(Debug, Default)]
struct Args {
    endpoint: Option<String>,
    ha_vip_id: Option<String>,
    instance_id: Option<String>,
    instance_type: Option<InstanceType>,
    signature: SignatureVersion,
    timeout: Option<Duration>,
    emulator: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        if flag == "--emulator" {
            args.emulator = true;
            continue;
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
    if args.emulator && args.endpoint.is_some() {
        return Err("--emulator and --endpoint exclude each other".into());
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

fn main() -> ExitCode {
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
    // Before any thread exists: the chain reads the environment when it is built.
    if !args.emulator {
        skip_an_unreachable_metadata_service();
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the Tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::FAILURE
        }
    }
}

/// Turns the chain's instance RAM role source off when the metadata service does not even
/// accept a connection within 300 ms: on an ECS or ENS instance it answers at once, elsewhere
/// the chain would wait for its 1 s time-outs (several, when a black hole swallows them). An
/// explicit `ALIBABA_CLOUD_ECS_METADATA_DISABLED` is left as it is.
fn skip_an_unreachable_metadata_service() {
    if std::env::var_os(ENV_ECS_METADATA_DISABLED).is_some() {
        return;
    }
    let host = DEFAULT_METADATA_ENDPOINT.trim_start_matches("http://");
    let reachable = format!("{host}:80")
        .parse::<SocketAddr>()
        .is_ok_and(|a| TcpStream::connect_timeout(&a, Duration::from_millis(300)).is_ok());
    if !reachable {
        eprintln!(
            "credentials: no instance metadata service at {host} (not an ECS or ENS instance): \
             skipping the instance RAM role"
        );
        std::env::set_var(ENV_ECS_METADATA_DISABLED, "true");
    }
}

async fn run(args: Args) -> Result<(), Error> {
    // Kept alive until the end of `run`: dropping it stops the emulator.
    let mut emulator = None;
    let chain = DefaultCredentialsChain::new();
    let found = if args.emulator {
        eprintln!("credentials: not looked for (--emulator)");
        None
    } else {
        match chain.provide_credentials().await {
            Ok(c) => {
                let source = c.provider_name().unwrap_or("unnamed").to_owned();
                eprintln!("credentials: {source} (default chain)");
                Some(source)
            }
            // Nothing anywhere: the emulator's turn. A source that is there but broken (a
            // malformed file, a role that cannot be assumed) is reported instead.
            Err(e) if e.message.starts_with("no credentials found") => {
                eprintln!("credentials: none ({})", e.message);
                None
            }
            Err(e) => return Err(e.into()),
        }
    };
    let (mut builder, endpoint, ha_vip_id, instance_id) = match (found, &args.endpoint) {
        (None, None) => {
            let emu = Emulator::start_demo().await.map_err(|e| {
                alibabacloud_ens::error::CredentialsError::new(format!(
                    "cannot start the emulator: {e}"
                ))
            })?;
            eprintln!(
                "credentials: the embedded emulator's key; running against the local ENS \
                 emulator at {}",
                emu.endpoint()
            );
            println!(
                "Running against the local ENS emulator (demo topology; to use Alibaba Cloud,"
            );
            println!("set up credentials, e.g. export ALIBABA_CLOUD_ACCESS_KEY_ID and");
            println!("ALIBABA_CLOUD_ACCESS_KEY_SECRET, and pass --ha-vip-id and --instance-id)\n");
            let out = (
                Client::builder().credentials(emu.credentials()),
                Some(emu.endpoint()),
                args.ha_vip_id
                    .clone()
                    .unwrap_or_else(|| "havip-demo".into()),
                args.instance_id.clone().unwrap_or_else(|| "i-demo".into()),
            );
            emulator = Some(emu);
            out
        }
        (None, Some(_)) => {
            return Err(alibabacloud_ens::error::CredentialsError::new(
                "no credentials found by the default chain for --endpoint",
            )
            .into())
        }
        (Some(source), endpoint) => {
            let (Some(h), Some(i)) = (args.ha_vip_id.clone(), args.instance_id.clone()) else {
                return Err(alibabacloud_ens::error::CredentialsError::new(format!(
                    "credentials found ({source}): pass --ha-vip-id and --instance-id to \
                     choose what to associate, or --emulator to run against the embedded \
                     emulator"
                ))
                .into());
            };
            (
                Client::builder().credentials_provider(chain),
                endpoint.clone(),
                h,
                i,
            )
        }
    };

    builder = builder.signature_version(args.signature);
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
