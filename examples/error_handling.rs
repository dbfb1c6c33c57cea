//! Handling errors by code: each demo resource of the embedded emulator that AssociateHaVip
//! refuses, and what a program would do about it.
//!
//! ```text
//! cargo run --example error_handling
//! ```

use alibabacloud_ens::emulator::Emulator;
use alibabacloud_ens::{Client, Error, ErrorCode, InstanceType};

/// What a failover controller might do with each answer.
fn advice(e: &Error) -> &'static str {
    if let Error::InvalidInput(_) = e {
        return "fix the request (it was never sent)";
    }
    match e.code() {
        Some(ErrorCode::InstanceAlreadyAssociated) => "nothing to do: already associated",
        Some(ErrorCode::IncorrectInstanceStatus) => "wait until the instance is Running or Stopped",
        Some(ErrorCode::IncorrectInstanceVSwitch) => "pick an instance in the HAVIP's vSwitch",
        Some(ErrorCode::IncorrectHaVipStatus) => "wait until the HAVIP is Available or InUse",
        Some(ErrorCode::NetworkInterfaceTypeNotSupported) => "use the instance's primary ENI",
        Some(ErrorCode::IncorrectNetworkInterfaceStatus) => "wait for the ENI to settle",
        Some(ErrorCode::HaVipNotFound | ErrorCode::InstanceNotFound) => "check the ids",
        Some(
            ErrorCode::Missing(_) | ErrorCode::Invalid(_) | ErrorCode::InvalidParameterNamed(_),
        ) => "fix the request",
        _ if e.is_retryable() => "transient: retry later",
        _ => "give up and page a human",
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let emu = Emulator::start_demo().await.map_err(|e| {
        alibabacloud_ens::error::CredentialsError::new(format!("cannot start the emulator: {e}"))
    })?;
    let client = Client::builder()
        .endpoint(emu.endpoint())
        .credentials(emu.credentials())
        .build()?;
    println!("against the local ENS emulator at {}\n", emu.endpoint());

    let eni = Some(InstanceType::NetworkInterface);
    let attempts = [
        ("havip-demo", "i-starting", None),
        ("havip-demo", "i-other", None),
        ("havip-creating", "i-demo", None),
        ("havip-demo", "eni-secondary", eni.clone()),
        ("havip-demo", "eni-busy", eni.clone()),
        ("havip-missing", "i-demo", None),
        ("", "i-demo", None), // refused before sending
    ];
    for (havip, instance, kind) in attempts {
        let mut req = client
            .associate_ha_vip()
            .ha_vip_id(havip)
            .instance_id(instance);
        if let Some(k) = kind {
            req = req.instance_type(k);
        }
        match req.send().await {
            Ok(out) => println!("{havip} -> {instance}: accepted ({})", out.request_id()),
            Err(e) => {
                println!("{havip:?} -> {instance}:");
                println!("    error:      {e}");
                let mut cause = std::error::Error::source(&e);
                while let Some(c) = cause {
                    println!("    caused by:  {c}");
                    cause = c.source();
                }
                if let Some(s) = e.as_service_error() {
                    println!("    code:       {} (HTTP {})", s.code, s.http_status);
                    println!("    request id: {}", s.request_id.as_deref().unwrap_or("-"));
                }
                if let Error::InvalidInput(i) = &e {
                    println!("    parameter:  {} (nothing was sent)", i.parameter);
                }
                println!("    what to do: {}\n", advice(&e));
            }
        }
    }
    Ok(())
}
