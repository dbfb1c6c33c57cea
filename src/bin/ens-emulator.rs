//! `ens-emulator`: serves the embedded ENS emulator (the HAVIP operations and their neighbours:
//! instances, ENIs, EIPs) until interrupted (Ctrl-C).
//!
//! ```text
//! cargo run --features emulator --bin ens-emulator -- --demo --listen 127.0.0.1:8080
//! ```
//!
//! Prints the endpoint and the AccessKey id at start, then one line per request (method,
//! action, key id, parameters, HTTP status, result code, request id; never a secret, token or
//! signature) on stderr. Every value it echoes (from the command line or from a request) goes
//! through [`log_safe`]: control characters escaped, long values cut.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use alibabacloud_ens::emulator::{
    log_safe, Emulator, DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET,
};

/// Echoed command-line values are cut to this many characters.
const ECHO_CHARS: usize = 64;

const USAGE: &str = "\
ens-emulator: an embedded, stateful ENS endpoint for the HAVIP operations and their
neighbours (DescribeInstances, DescribeNetworkInterfaces, DescribeEnsEipAddresses,
AssociateEnsEipAddress, UnAssociateEnsEipAddress)

USAGE:
    ens-emulator [OPTIONS]

OPTIONS:
    --listen ADDR               address to listen on [default: 127.0.0.1:8080]
    --access-key-id ID          AccessKey id to accept [default: emulator-access-key-id]
    --access-key-secret SECRET  AccessKey secret to accept [default: emulator-access-key-secret]
    --security-token TOKEN      require this STS security token with the key
    --demo                      seed the demo topology (havip-demo, i-demo and its primary ENI
                                eni-demo, i-other, eip-demo at 203.0.113.10, ...)
    --associate-delay-ms N      how long AssociateHaVip takes, in ms [default: 2000]
    --unassociate-delay-ms N    how long UnassociateHaVip takes, in ms [default: 1000]
    --create-delay-ms N         how long a created HAVIP stays Creating, in ms [default: 1000]
    --delete-delay-ms N         how long a deleted HAVIP stays Deleting, in ms [default: 1000]
    --eip-associate-delay-ms N  how long AssociateEnsEipAddress takes, in ms [default: 2000]
    --eip-unassociate-delay-ms N
                                how long UnAssociateEnsEipAddress takes, in ms [default: 1000]
    --request-timeout-ms N      longest time to receive a request or write its answer, in ms;
                                also how long an idle connection stays open [default: 30000]
    --ram-role ARN              a role the STS's AssumeRole assumes (repeatable) [default: any]
    --oidc ROLE,PROVIDER,FILE   let AssumeRoleWithOIDC assume ROLE (ARN) with OIDC provider
                                PROVIDER (ARN) and the token in FILE (read once)
    --instance-ram-role NAME    the instance's RAM role, served by the metadata service
    --metadata-token-required   refuse metadata requests without a session token
    --sts-credential-lifetime-ms N
                                how long issued STS and metadata credentials live, in ms
                                [default: as asked; 6 h for the metadata service]
    --quiet                     do not log one line per request
    -h, --help                  print this help

Serves until interrupted (Ctrl-C).";

#[derive(Debug)]
struct Args {
    listen: SocketAddr,
    access_key_id: String,
    access_key_secret: String,
    security_token: Option<String>,
    demo: bool,
    associate_delay: Option<Duration>,
    unassociate_delay: Option<Duration>,
    create_delay: Option<Duration>,
    delete_delay: Option<Duration>,
    eip_associate_delay: Option<Duration>,
    eip_unassociate_delay: Option<Duration>,
    request_timeout: Option<Duration>,
    quiet: bool,
    ram_roles: Vec<String>,
    /// Role ARN, provider ARN, token file.
    oidc: Vec<(String, String, String)>,
    instance_ram_role: Option<String>,
    metadata_token_required: bool,
    sts_credential_lifetime: Option<Duration>,
}

enum Parsed {
    Run(Box<Args>),
    Help,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Parsed, String> {
    let mut parsed = Args {
        listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
        access_key_id: DEFAULT_ACCESS_KEY_ID.to_owned(),
        access_key_secret: DEFAULT_ACCESS_KEY_SECRET.to_owned(),
        security_token: None,
        demo: false,
        associate_delay: None,
        unassociate_delay: None,
        create_delay: None,
        delete_delay: None,
        eip_associate_delay: None,
        eip_unassociate_delay: None,
        request_timeout: None,
        quiet: false,
        ram_roles: Vec::new(),
        oidc: Vec::new(),
        instance_ram_role: None,
        metadata_token_required: false,
        sts_credential_lifetime: None,
    };
    while let Some(arg) = args.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match inline.clone().or_else(|| args.next()) {
                Some(v) if !v.is_empty() => Ok(v),
                _ => Err(format!("{} needs a value", log_safe(name, ECHO_CHARS))),
            }
        };
        let millis = |name: &str, v: String| -> Result<Duration, String> {
            v.parse::<u64>().map(Duration::from_millis).map_err(|_| {
                format!(
                    "{} must be a whole number of milliseconds, not `{}`",
                    log_safe(name, ECHO_CHARS),
                    log_safe(&v, ECHO_CHARS)
                )
            })
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--listen" => {
                let v = value("--listen")?;
                parsed.listen = v.parse().map_err(|_| {
                    format!(
                        "--listen must be IP:PORT, not `{}`",
                        log_safe(&v, ECHO_CHARS)
                    )
                })?;
            }
            "--access-key-id" => parsed.access_key_id = value("--access-key-id")?,
            // Never echo the secret or the token in an error.
            "--access-key-secret" => parsed.access_key_secret = value("--access-key-secret")?,
            "--security-token" => parsed.security_token = Some(value("--security-token")?),
            "--demo" if inline.is_none() => parsed.demo = true,
            "--quiet" if inline.is_none() => parsed.quiet = true,
            "--associate-delay-ms" => {
                let v = value("--associate-delay-ms")?;
                parsed.associate_delay = Some(millis("--associate-delay-ms", v)?);
            }
            "--unassociate-delay-ms" => {
                let v = value("--unassociate-delay-ms")?;
                parsed.unassociate_delay = Some(millis("--unassociate-delay-ms", v)?);
            }
            "--create-delay-ms" => {
                let v = value("--create-delay-ms")?;
                parsed.create_delay = Some(millis("--create-delay-ms", v)?);
            }
            "--delete-delay-ms" => {
                let v = value("--delete-delay-ms")?;
                parsed.delete_delay = Some(millis("--delete-delay-ms", v)?);
            }
            "--eip-associate-delay-ms" => {
                let v = value("--eip-associate-delay-ms")?;
                parsed.eip_associate_delay = Some(millis("--eip-associate-delay-ms", v)?);
            }
            "--eip-unassociate-delay-ms" => {
                let v = value("--eip-unassociate-delay-ms")?;
                parsed.eip_unassociate_delay = Some(millis("--eip-unassociate-delay-ms", v)?);
            }
            "--request-timeout-ms" => {
                let v = value("--request-timeout-ms")?;
                parsed.request_timeout = Some(millis("--request-timeout-ms", v)?);
            }
            "--ram-role" => parsed.ram_roles.push(value("--ram-role")?),
            "--oidc" => {
                let v = value("--oidc")?;
                let mut parts = v.splitn(3, ',');
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(r), Some(p), Some(f))
                        if !r.is_empty() && !p.is_empty() && !f.is_empty() =>
                    {
                        parsed.oidc.push((r.to_owned(), p.to_owned(), f.to_owned()))
                    }
                    _ => {
                        return Err(format!(
                            "--oidc must be ROLE_ARN,PROVIDER_ARN,TOKEN_FILE, not `{}`",
                            log_safe(&v, ECHO_CHARS)
                        ))
                    }
                }
            }
            "--instance-ram-role" => parsed.instance_ram_role = Some(value("--instance-ram-role")?),
            "--metadata-token-required" if inline.is_none() => {
                parsed.metadata_token_required = true
            }
            "--sts-credential-lifetime-ms" => {
                let v = value("--sts-credential-lifetime-ms")?;
                parsed.sts_credential_lifetime = Some(millis("--sts-credential-lifetime-ms", v)?);
            }
            _ => {
                return Err(format!(
                    "unknown argument `{}`",
                    log_safe(&flag, ECHO_CHARS)
                ))
            }
        }
    }
    Ok(Parsed::Run(Box::new(parsed)))
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Parsed::Run(a)) => a,
        Ok(Parsed::Help) => {
            // `ens-emulator --help | head` closes stdout early: not a reason to panic.
            let _ = writeln!(std::io::stdout(), "{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("ens-emulator: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ens-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(*args))
}

async fn run(args: Args) -> ExitCode {
    let mut builder = Emulator::builder()
        .listen(args.listen)
        .credentials(&args.access_key_id, &args.access_key_secret)
        .log_requests(!args.quiet);
    if let Some(token) = &args.security_token {
        builder = builder.security_token(token);
    }
    if args.demo {
        builder = builder.demo();
    }
    if let Some(d) = args.associate_delay {
        builder = builder.associate_delay(d);
    }
    if let Some(d) = args.unassociate_delay {
        builder = builder.unassociate_delay(d);
    }
    if let Some(d) = args.create_delay {
        builder = builder.create_delay(d);
    }
    if let Some(d) = args.delete_delay {
        builder = builder.delete_delay(d);
    }
    if let Some(d) = args.eip_associate_delay {
        builder = builder.eip_associate_delay(d);
    }
    if let Some(d) = args.eip_unassociate_delay {
        builder = builder.eip_unassociate_delay(d);
    }
    if let Some(d) = args.request_timeout {
        builder = builder.request_timeout(d);
    }
    for role in &args.ram_roles {
        builder = builder.ram_role(role);
    }
    for (role, provider, file) in &args.oidc {
        // The token is never echoed; a file that cannot be read is named.
        match std::fs::read_to_string(file) {
            Ok(token) => builder = builder.oidc(role, provider, token.trim()),
            Err(e) => {
                eprintln!(
                    "ens-emulator: cannot read the OIDC token file {}: {e}",
                    log_safe(file, 200)
                );
                return ExitCode::FAILURE;
            }
        }
    }
    if let Some(role) = &args.instance_ram_role {
        builder = builder.instance_ram_role(role);
    }
    if args.metadata_token_required {
        builder = builder.metadata_token_required(true);
    }
    if let Some(d) = args.sts_credential_lifetime {
        builder = builder.sts_credential_lifetime(d);
    }
    let emulator = match builder.start().await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("ens-emulator: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let _ = writeln!(
        std::io::stdout(),
        "{}",
        banner(
            &emulator.endpoint(),
            emulator.access_key_id(),
            args.security_token.is_some(),
            args.demo
        )
    );
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("ens-emulator: cannot wait for Ctrl-C: {e}");
        return ExitCode::FAILURE;
    }
    emulator.shutdown().await;
    eprintln!("ens-emulator: stopped");
    ExitCode::SUCCESS
}

/// The two lines printed at start (the AccessKey id made safe for a terminal).
fn banner(endpoint: &str, access_key_id: &str, sts: bool, demo: bool) -> String {
    format!(
        "ens-emulator listening on {endpoint}\naccess key id: {}{}{}",
        log_safe(access_key_id, 128),
        if sts { " (STS token required)" } else { "" },
        if demo { "; demo topology seeded" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Parsed, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_every_flag() {
        let Ok(Parsed::Run(a)) = parse(&[
            "--listen",
            "127.0.0.1:9000",
            "--access-key-id=id",
            "--access-key-secret",
            "s",
            "--security-token",
            "t",
            "--demo",
            "--associate-delay-ms",
            "50",
            "--unassociate-delay-ms=10",
            "--create-delay-ms",
            "20",
            "--delete-delay-ms=30",
            "--eip-associate-delay-ms",
            "40",
            "--eip-unassociate-delay-ms=0",
            "--quiet",
        ]) else {
            panic!("should parse");
        };
        assert_eq!(a.listen.port(), 9000);
        assert_eq!(a.access_key_id, "id");
        assert_eq!(a.access_key_secret, "s");
        assert_eq!(a.security_token.as_deref(), Some("t"));
        assert!(a.demo && a.quiet);
        assert_eq!(a.associate_delay, Some(Duration::from_millis(50)));
        assert_eq!(a.unassociate_delay, Some(Duration::from_millis(10)));
        assert_eq!(a.create_delay, Some(Duration::from_millis(20)));
        assert_eq!(a.delete_delay, Some(Duration::from_millis(30)));
        assert_eq!(a.eip_associate_delay, Some(Duration::from_millis(40)));
        assert_eq!(a.eip_unassociate_delay, Some(Duration::ZERO));
    }

    #[test]
    fn bad_arguments_are_errors_without_secrets() {
        assert!(matches!(parse(&["--help"]), Ok(Parsed::Help)));
        assert!(parse(&["--listen", "nowhere"]).is_err());
        assert!(parse(&["--associate-delay-ms", "soon"]).is_err());
        assert!(parse(&["--eip-associate-delay-ms", "-1"]).is_err());
        assert!(parse(&["--access-key-secret"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        let e = match parse(&["--access-key-secret", "SECRETVALUE", "--oops"]) {
            Err(e) => e,
            Ok(_) => panic!("should fail"),
        };
        assert!(!e.contains("SECRETVALUE"), "{e}");
    }

    #[test]
    fn parses_the_request_timeout() {
        let Ok(Parsed::Run(a)) = parse(&["--request-timeout-ms", "1500"]) else {
            panic!("should parse");
        };
        assert_eq!(a.request_timeout, Some(Duration::from_millis(1500)));
        assert!(parse(&["--request-timeout-ms", "1.5s"]).is_err());
    }

    #[test]
    fn parses_the_sts_and_metadata_flags() {
        let Ok(Parsed::Run(a)) = parse(&[
            "--ram-role",
            "acs:ram::1:role/a",
            "--ram-role=acs:ram::1:role/b",
            "--oidc",
            "acs:ram::1:role/pod,acs:ram::1:oidc-provider/p,/var/run/token",
            "--instance-ram-role",
            "failover",
            "--metadata-token-required",
            "--sts-credential-lifetime-ms",
            "5000",
        ]) else {
            panic!("should parse");
        };
        assert_eq!(a.ram_roles, ["acs:ram::1:role/a", "acs:ram::1:role/b"]);
        assert_eq!(
            a.oidc,
            [(
                "acs:ram::1:role/pod".to_owned(),
                "acs:ram::1:oidc-provider/p".to_owned(),
                "/var/run/token".to_owned()
            )]
        );
        assert_eq!(a.instance_ram_role.as_deref(), Some("failover"));
        assert!(a.metadata_token_required);
        assert_eq!(a.sts_credential_lifetime, Some(Duration::from_secs(5)));
        assert!(parse(&["--oidc", "role-only"]).is_err());
    }

    #[test]
    fn echoed_values_cannot_forge_lines() {
        for args in [
            &["--bo\ngus"][..],
            &["--listen", "1.2.3.4\nFAKE \u{1b}[2J"],
            &["--associate-delay-ms", "soon\r\nFAKE"],
            &["--x\u{202e}"],
        ] {
            let e = match parse(args) {
                Err(e) => e,
                Ok(_) => panic!("{args:?} should fail"),
            };
            assert!(!e.chars().any(char::is_control), "{e:?}");
            assert!(e.contains('\\'), "{e:?}");
        }
        let e = match parse(&[&"-".repeat(30_000)]) {
            Err(e) => e,
            Ok(_) => panic!("should fail"),
        };
        assert!(e.len() < 200, "{} bytes", e.len());

        let text = banner("http://127.0.0.1:1", "id\nFAKE\u{1b}[2J", true, true);
        assert_eq!(text.lines().count(), 2, "{text:?}");
        assert!(
            !text.replace('\n', "").chars().any(char::is_control),
            "{text:?}"
        );
        assert!(
            text.ends_with(
                "access key id: id\\nFAKE\\u{1b}[2J (STS token required); demo topology seeded"
            ),
            "{text:?}"
        );
    }
}
