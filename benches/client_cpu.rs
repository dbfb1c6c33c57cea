//! What a user pays per call: the CPU time of the client process, SDK against a bare reqwest
//! floor, both talking to a release `ens-emulator --demo` running in a process of its own (issue
//! 18). `benches/roundtrip.rs` measures wall time with the server in the same process, where the
//! client's own CPU hides behind the server's; this benchmark measures the client alone.
//!
//! ```text
//! cargo bench --bench client_cpu                 # the table (a few minutes)
//! cargo bench --bench client_cpu -- --test       # one tiny round: checks that it runs (CI)
//! ```
//!
//! (`--test` too builds the release emulator, once per checkout: about 1.5 minutes of CPU.)
//!
//! Setup:
//! * the emulator is built (`cargo build --release --features emulator --bin ens-emulator`),
//!   started on a free port of 127.0.0.1, and killed at the end;
//! * the clients, one at a time, on one multi-thread Tokio runtime (as `#[tokio::main]` makes,
//!   one worker per core): the **floor**, a bare reqwest 0.12 client with the crate's TLS
//!   features, sending the very same requests (same parameters, headers and user agent) signed
//!   beforehand, each with its own nonce, so that the server does the same work and sends the
//!   same answers; the **SDK** with V1 signatures; the **SDK** with V3 signatures;
//! * every operation of [`OPS`] (DescribeHaVips, hand-made, and DescribeInstances, generated),
//!   at 1 and at 16 requests in flight (16 tasks, each sending its share of the calls one after
//!   the other);
//! * rounds of a fixed number of calls for the floor and as many for the SDK, sent in batches
//!   of 1600, the floor's and the SDK's alternating (which goes first alternates too), so that
//!   whatever else this shared machine does weighs on both alike; the figures are medians over
//!   the rounds, the ratio the median of the rounds' ratios.
//!
//! CPU time is `clock_gettime(CLOCK_PROCESS_CPUTIME_ID)` around each batch: the whole process
//! (every runtime worker, the blocking pool, the thread that waits), with nanosecond resolution
//! (`/proc/self/stat` counts 10 ms ticks) and nothing to add up per thread (the runtime moves
//! tasks between workers). The process does nothing else during a batch (the floor's signing is
//! done before the clock starts), and time the machine spends on other processes is not
//! counted, which wall time on a shared machine would count. Wall time is printed too, for
//! context.
//!
//! Settings (environment variables):
//! * `CLIENT_CPU_CALLS` (default 12800: 8 batches) calls per round for each client (about 1-4 s),
//!   `CLIENT_CPU_ROUNDS` (default 7);
//! * `CLIENT_CPU_PYTHON=/path/to/venv`: adds Alibaba's official Python SDK
//!   (`alibabacloud-ens20171110==12.1.0`) for DescribeHaVips, its process's CPU per call
//!   measured by `benches/client_cpu.py` against the same emulator. Make the venv with
//!   `python3 -m venv /tmp/ens-py && /tmp/ens-py/bin/pip install alibabacloud-ens20171110==12.1.0`;
//! * `CLIENT_CPU_EMULATOR=http://127.0.0.1:PORT`: use an emulator already running (with its
//!   default AccessKey) instead of building and starting one, e.g. to profile this process
//!   alone;
//! * `CLIENT_CPU_TRACING=1` (any value but empty or `0`): installs a tracing subscriber that
//!   enables every span and event and records nothing (the SDK's instrumentation with someone listening; the floor emits
//!   nothing).
//!
//! Profiling one client: `-- --only sdk-v1` (or `floor-v1`, `sdk-v3`, `floor-v3`) runs only
//! that client, on `--op ACTION` (default DescribeHaVips) at `--in-flight N` (default 1), for
//! the rounds and calls above;
//! run the bench binary under `perf record` with `CLIENT_CPU_EMULATOR` set.
//!
//! The bar (SDK ≤ 1.10 × floor) is printed, never asserted: this machine's noise is not a bug.

use std::fmt::Write as _;
use std::future::Future;
use std::hint::black_box;
use std::io::{BufRead as _, BufReader};
use std::net::TcpStream;
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alibabacloud_ens::emulator::{DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET};
use alibabacloud_ens::signer::{self, v1, v3, SigningParams};
use alibabacloud_ens::{Client, Credentials, Error, SignatureVersion};
use reqwest::Method;
use tokio::runtime::Runtime;

const API_VERSION: &str = "2017-11-10";
const IN_FLIGHT: [usize; 2] = [1, 16];

/// The crate's user agent, sent by the floor too so that the requests are the same bytes.
fn user_agent() -> String {
    format!(
        "alibabacloud-ens-rust/{} ({})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS
    )
}

/// One SDK call, its output dropped.
type Call<'a> = Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>>;
/// One task's share of a batch of calls.
type Task = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// An operation measured: what the floor sends (action, method, parameters) and the SDK call
/// that sends the same.
struct Op {
    action: &'static str,
    method: &'static str,
    params: &'static [(&'static str, &'static str)],
    sdk: for<'a> fn(&'a Client) -> Call<'a>,
}

/// `op!(ACTION, METHOD, [(NAME, VALUE), ...], |client| FUTURE)`: one row of [`OPS`].
macro_rules! op {
    ($action:literal, $method:literal, [$(($k:literal, $v:literal)),* $(,)?], |$c:ident| $call:expr) => {
        Op {
            action: $action,
            method: $method,
            params: &[$(($k, $v)),*],
            sdk: {
                fn call($c: &Client) -> Call<'_> {
                    Box::pin(async move {
                        black_box($call.await?);
                        Ok(())
                    })
                }
                call
            },
        }
    };
}

/// The operations measured, each against its own floor: one line each.
static OPS: &[Op] = &[
    op!("DescribeHaVips", "GET", [], |c| c.describe_ha_vips().send()),
    // A generated read operation: the same transport, runtime encoder and lenient decoder as
    // every one of the 333 (POST with its parameters in the query, as the metadata says).
    op!("DescribeInstances", "POST", [], |c| c
        .describe_instances()
        .send()),
];

/// Which client a round runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    Floor(SignatureVersion),
    Sdk(SignatureVersion),
}

impl Who {
    fn parse(s: &str) -> Option<Who> {
        Some(match s {
            "floor-v1" => Who::Floor(SignatureVersion::V1),
            "floor-v3" => Who::Floor(SignatureVersion::V3),
            "sdk-v1" => Who::Sdk(SignatureVersion::V1),
            "sdk-v3" => Who::Sdk(SignatureVersion::V3),
            _ => return None,
        })
    }
}

/// One round's cost: process CPU time and wall time, per call, in µs.
#[derive(Clone, Copy, Debug)]
struct Sample {
    cpu: f64,
    wall: f64,
}

struct Settings {
    calls: usize,
    rounds: usize,
    warmup: usize,
    python: Option<String>,
}

fn env_number(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => fail(&format!(
                "{name} must be a positive whole number, not `{v}`"
            )),
        },
        Err(_) => default,
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("client_cpu: {msg}");
    std::process::exit(1)
}

/// CPU time of this whole process (every thread), from `CLOCK_PROCESS_CPUTIME_ID`.
fn process_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the call writes only into it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        fail("clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The emulator process, killed when dropped (also when the benchmark fails).
struct Emulator {
    child: Option<Child>,
    endpoint: String,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Builds the release emulator and returns the path of its executable (cargo's own report of
/// it, so a custom target directory works).
fn build_emulator() -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(cargo);
    // The variables `cargo bench` sets for this process are not the inner build's: ring's build
    // script watches CARGO_MANIFEST_DIR, so with them the two builds would invalidate each other
    // and every run would rebuild half the tree twice.
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if name.starts_with("CARGO_PKG_")
            || matches!(
                name,
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_BIN_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
                    | "CARGO_TARGET_TMPDIR"
                    | "OUT_DIR"
            )
        {
            cmd.env_remove(name);
        }
    }
    let out = cmd
        .args([
            "build",
            "--release",
            "--features",
            "emulator",
            "--bin",
            "ens-emulator",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| fail(&format!("cannot run cargo to build the emulator: {e}")));
    if !out.status.success() {
        fail("building the emulator failed");
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == "ens-emulator")
        .find_map(|v| v["executable"].as_str().map(str::to_owned))
        .unwrap_or_else(|| fail("cargo did not report the emulator's executable"))
}

fn start_emulator() -> Emulator {
    if let Ok(endpoint) = std::env::var("CLIENT_CPU_EMULATOR") {
        return Emulator {
            child: None,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
        };
    }
    let exe = build_emulator();
    let mut child = Command::new(&exe)
        // --quiet: its request log would cost the server a write per call; the long request
        // timeout keeps idle keep-alive connections open between one client's rounds.
        .args([
            "--demo",
            "--quiet",
            "--listen",
            "127.0.0.1:0",
            "--request-timeout-ms",
            "600000",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| fail(&format!("cannot start {exe}: {e}")));
    let stdout = child.stdout.take();
    let mut emulator = Emulator {
        child: Some(child),
        endpoint: String::new(),
    };
    // Its first line is `ens-emulator listening on http://127.0.0.1:PORT`. The rest of its
    // output is drained: a closed pipe would kill it at its next line.
    let mut first = String::new();
    if let Some(out) = stdout {
        let mut out = BufReader::new(out);
        let _ = out.read_line(&mut first);
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    }
    let Some(endpoint) = first.trim().strip_prefix("ens-emulator listening on ") else {
        fail(&format!("the emulator did not start: {first:?}"));
    };
    emulator.endpoint = endpoint.to_owned();
    let addr = endpoint.trim_start_matches("http://");
    let started = Instant::now();
    while TcpStream::connect(addr).is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            fail(&format!("nothing listens on {addr}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    emulator
}

/// A request signed beforehand, as the floor sends it.
struct Presigned {
    method: Method,
    url: String,
    headers: Vec<(&'static str, String)>,
}

/// `n` requests for `op`, each signed now with a nonce of its own.
fn presign(op: &Op, version: SignatureVersion, endpoint: &str, n: usize) -> Vec<Presigned> {
    let host = endpoint.trim_start_matches("http://");
    let method = Method::from_bytes(op.method.as_bytes())
        .unwrap_or_else(|_| fail(&format!("bad method {}", op.method)));
    (0..n)
        .map(|_| {
            let nonce = signer::new_nonce().unwrap_or_else(|e| fail(&e.to_string()));
            let signing = SigningParams::new(
                DEFAULT_ACCESS_KEY_ID,
                DEFAULT_ACCESS_KEY_SECRET,
                time::OffsetDateTime::now_utc(),
                &nonce,
            );
            let mut headers = vec![("accept", "application/json".to_owned())];
            let query = match version {
                SignatureVersion::V3 => {
                    let signed = v3::sign(
                        &v3::V3Request {
                            method: op.method,
                            host,
                            action: op.action,
                            version: API_VERSION,
                            params: op.params,
                            extra_signed_headers: &[],
                            body: b"",
                        },
                        &signing,
                    );
                    headers.extend(signed.headers.into_iter().map(|(k, v)| (k, v.into_owned())));
                    serde_urlencoded::to_string(op.params).unwrap_or_default()
                }
                _ => v1::sign(op.method, op.action, API_VERSION, op.params, &signing).to_query(),
            };
            let mut url = format!("{endpoint}/");
            if !query.is_empty() {
                url.push('?');
                url.push_str(&query);
            }
            Presigned {
                method: method.clone(),
                url,
                headers,
            }
        })
        .collect()
}

/// The floor: one request sent and its body read, the status checked (a refused request
/// would be cheaper and measure nothing).
async fn floor_call(http: &reqwest::Client, p: Presigned) -> Result<(), String> {
    let mut b = http.request(p.method, p.url);
    for (k, v) in p.headers {
        b = b.header(k, v);
    }
    let resp = b.send().await.map_err(|e| chain(&e))?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!(
            "the floor's request was refused: HTTP {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        ));
    }
    black_box(body);
    Ok(())
}

struct Clients {
    floor: reqwest::Client,
    v1: Client,
    v3: Client,
    endpoint: String,
}

impl Clients {
    fn new(endpoint: &str) -> Clients {
        let sdk = |v| {
            Client::builder()
                .endpoint(endpoint)
                .credentials(Credentials::new(
                    DEFAULT_ACCESS_KEY_ID,
                    DEFAULT_ACCESS_KEY_SECRET,
                ))
                .signature_version(v)
                .build()
                .unwrap_or_else(|e| fail(&format!("cannot build the SDK client: {e}")))
        };
        Clients {
            floor: reqwest::Client::builder()
                .user_agent(user_agent())
                .build()
                .unwrap_or_else(|e| fail(&format!("cannot build the floor client: {e}"))),
            v1: sdk(SignatureVersion::V1),
            v3: sdk(SignatureVersion::V3),
            endpoint: endpoint.to_owned(),
        }
    }

    fn sdk(&self, v: SignatureVersion) -> &Client {
        match v {
            SignatureVersion::V3 => &self.v3,
            _ => &self.v1,
        }
    }
}

/// What a batch of calls cost.
#[derive(Clone, Copy, Default)]
struct Cost {
    cpu: Duration,
    wall: Duration,
    calls: usize,
}

impl Cost {
    fn add(&mut self, other: Cost) {
        self.cpu += other.cpu;
        self.wall += other.wall;
        self.calls += other.calls;
    }

    fn per_call(&self) -> Sample {
        let us = |d: Duration| d.as_secs_f64() * 1e6 / self.calls.max(1) as f64;
        Sample {
            cpu: us(self.cpu),
            wall: us(self.wall),
        }
    }
}

/// Runs `calls` calls of `op` by `who`, `in_flight` at a time, and measures them. Signing the
/// floor's requests happens before the clock starts.
fn batch(
    rt: &Runtime,
    clients: &Clients,
    who: Who,
    op: &'static Op,
    in_flight: usize,
    calls: usize,
) -> Cost {
    let per_task = calls.div_ceil(in_flight);
    let total = per_task * in_flight;
    let mut tasks: Vec<Task> = Vec::with_capacity(in_flight);
    match who {
        Who::Floor(v) => {
            let mut all = presign(op, v, &clients.endpoint, total).into_iter();
            for _ in 0..in_flight {
                let mine: Vec<Presigned> = all.by_ref().take(per_task).collect();
                let http = clients.floor.clone();
                tasks.push(Box::pin(async move {
                    for p in mine {
                        floor_call(&http, p).await?;
                    }
                    Ok(())
                }));
            }
        }
        Who::Sdk(v) => {
            for _ in 0..in_flight {
                let client = clients.sdk(v).clone();
                tasks.push(Box::pin(async move {
                    for _ in 0..per_task {
                        (op.sdk)(&client)
                            .await
                            .map_err(|e| format!("the SDK call failed: {}", chain(&e)))?;
                    }
                    Ok(())
                }));
            }
        }
    }
    let cpu = process_cpu();
    let wall = Instant::now();
    let result: Result<(), String> = rt.block_on(async {
        let handles: Vec<_> = tasks.into_iter().map(tokio::spawn).collect();
        for h in handles {
            h.await.map_err(|e| e.to_string())??;
        }
        Ok(())
    });
    let wall = wall.elapsed();
    let cpu = process_cpu() - cpu;
    if let Err(e) = result {
        fail(&format!("{} {who:?}: {e}", op.action));
    }
    Cost {
        cpu,
        wall,
        calls: total,
    }
}

/// Calls per batch: a round's calls are sent in batches of this many, the floor's and the
/// SDK's alternating (which goes first alternates too), so that whatever else the machine does
/// weighs on both alike. Big enough that 16 tasks starting and ending add nothing to speak of.
const BATCH: usize = 1_600;

/// One round: `calls` calls by the floor and as many by the SDK, interleaved in batches.
fn round(
    rt: &Runtime,
    clients: &Clients,
    (floor, sdk): (Who, Who),
    op: &'static Op,
    in_flight: usize,
    calls: usize,
) -> (Sample, Sample) {
    let (mut f, mut s) = (Cost::default(), Cost::default());
    let mut left = calls;
    let mut i = 0;
    while left > 0 {
        let n = left.min(BATCH);
        left -= n;
        if i % 2 == 0 {
            f.add(batch(rt, clients, floor, op, in_flight, n));
            s.add(batch(rt, clients, sdk, op, in_flight, n));
        } else {
            s.add(batch(rt, clients, sdk, op, in_flight, n));
            f.add(batch(rt, clients, floor, op, in_flight, n));
        }
        i += 1;
    }
    (f.per_call(), s.per_call())
}

/// An error and its sources, one after the other.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let _ = write!(text, ": {s}");
        source = s.source();
    }
    text
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// First and third quartiles.
fn quartiles(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 4], v[(3 * v.len()) / 4])
}

/// The floor's and the SDK's samples for one operation, version and concurrency.
struct Pair {
    op: &'static Op,
    version: SignatureVersion,
    in_flight: usize,
    floor: Vec<Sample>,
    sdk: Vec<Sample>,
}

impl Pair {
    fn line(&self) -> String {
        let cpu = |s: &[Sample]| median(s.iter().map(|x| x.cpu).collect());
        let wall = |s: &[Sample]| median(s.iter().map(|x| x.wall).collect());
        let ratios: Vec<f64> = self
            .floor
            .iter()
            .zip(&self.sdk)
            .map(|(f, s)| s.cpu / f.cpu)
            .collect();
        let (q1, q3) = quartiles(ratios.clone());
        let ratio = median(ratios);
        format!(
            "| {} | {} | {} | {:.1} µs | {:.1} µs | **{ratio:.3}** ({q1:.3}–{q3:.3}) {} | {:.1} µs | {:.1} µs |",
            self.in_flight,
            self.op.action,
            self.version.to_string().to_uppercase(),
            cpu(&self.floor),
            cpu(&self.sdk),
            if ratio <= 1.10 { "≤ 1.10" } else { "> 1.10" },
            wall(&self.floor),
            wall(&self.sdk),
        )
    }

    fn sdk_cpu(&self) -> f64 {
        median(self.sdk.iter().map(|x| x.cpu).collect())
    }
}

/// Alibaba's Python SDK: `rounds` rounds of `calls` DescribeHaVips at `in_flight`, in its own
/// process (benches/client_cpu.py prints one `cpu_us wall_us` line per round).
fn python_rounds(
    venv: &str,
    endpoint: &str,
    calls: usize,
    rounds: usize,
    in_flight: usize,
) -> Vec<Sample> {
    let python = format!("{}/bin/python", venv.trim_end_matches('/'));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/client_cpu.py");
    let out = Command::new(&python)
        .arg(script)
        .args(["--endpoint", endpoint.trim_start_matches("http://")])
        .args(["--access-key-id", DEFAULT_ACCESS_KEY_ID])
        .args(["--calls", &calls.to_string()])
        .args(["--rounds", &rounds.to_string()])
        .args(["--in-flight", &in_flight.to_string()])
        .env("CLIENT_CPU_SECRET", DEFAULT_ACCESS_KEY_SECRET)
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| fail(&format!("cannot run {python}: {e}")));
    if !out.status.success() {
        fail(&format!("{script} failed ({})", out.status));
    }
    let samples: Vec<Sample> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace().map(str::parse::<f64>);
            match (it.next(), it.next()) {
                (Some(Ok(cpu)), Some(Ok(wall))) => Some(Sample { cpu, wall }),
                _ => None,
            }
        })
        .collect();
    if samples.len() != rounds {
        fail(&format!(
            "{script} printed {} rounds, not {rounds}",
            samples.len()
        ));
    }
    samples
}

/// A subscriber that enables every span and event and keeps nothing: the SDK's
/// instrumentation cost when a subscriber listens, without a real subscriber's own work.
struct Listening(std::sync::atomic::AtomicU64);

impl tracing::Subscriber for Listening {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        black_box(span);
        let id = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::span::Id::from_u64(id + 1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        black_box(values);
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        black_box(event);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("client-cpu-worker")
        .build()
        .unwrap_or_else(|e| fail(&format!("cannot start the runtime: {e}")))
}

fn warm_up(rt: &Runtime, clients: &Clients, op: &'static Op, in_flight: usize, calls: usize) {
    for v in [SignatureVersion::V1, SignatureVersion::V3] {
        for who in [Who::Floor(v), Who::Sdk(v)] {
            batch(rt, clients, who, op, in_flight, calls);
        }
    }
}

/// `--only CLIENT`: that client alone, for a profiler.
fn profile(args: &[String], s: &Settings) {
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    let Some(who) = value("--only").and_then(|w| Who::parse(w)) else {
        fail("--only takes floor-v1, floor-v3, sdk-v1 or sdk-v3");
    };
    let in_flight = value("--in-flight").map_or(1, |n| {
        n.parse()
            .unwrap_or_else(|_| fail("--in-flight takes a number"))
    });
    let emulator = start_emulator();
    let clients = Clients::new(&emulator.endpoint);
    let rt = runtime();
    let action = value("--op").map_or("DescribeHaVips", String::as_str);
    let Some(op) = OPS.iter().find(|o| o.action == action) else {
        fail(&format!(
            "--op takes one of the operations in OPS, not {action}"
        ));
    };
    batch(&rt, &clients, who, op, in_flight, s.warmup);
    for _ in 0..s.rounds {
        let x = batch(&rt, &clients, who, op, in_flight, s.calls).per_call();
        println!(
            "{who:?} {} in flight {in_flight}: {:.1} µs CPU/call, {:.1} µs wall/call",
            op.action, x.cpu, x.wall
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let test = args.iter().any(|a| a == "--test");
    let s = if test {
        // Checks that everything runs; the figures mean nothing.
        Settings {
            calls: 32,
            rounds: 1,
            warmup: 16,
            python: std::env::var("CLIENT_CPU_PYTHON").ok(),
        }
    } else {
        Settings {
            calls: env_number("CLIENT_CPU_CALLS", 12_800),
            rounds: env_number("CLIENT_CPU_ROUNDS", 7),
            warmup: 320,
            python: std::env::var("CLIENT_CPU_PYTHON").ok(),
        }
    };
    let tracing_on =
        std::env::var_os("CLIENT_CPU_TRACING").is_some_and(|v| !v.is_empty() && v != "0");
    if tracing_on {
        let _ = tracing::subscriber::set_global_default(Listening(Default::default()));
    }
    if args.iter().any(|a| a == "--only") {
        return profile(&args, &s);
    }

    let emulator = start_emulator();
    let clients = Clients::new(&emulator.endpoint);
    let rt = runtime();
    let mut pairs: Vec<Pair> = Vec::new();
    for in_flight in IN_FLIGHT {
        for op in OPS {
            warm_up(&rt, &clients, op, in_flight, s.warmup);
        }
        let first = pairs.len();
        for op in OPS {
            for version in [SignatureVersion::V1, SignatureVersion::V3] {
                pairs.push(Pair {
                    op,
                    version,
                    in_flight,
                    floor: Vec::new(),
                    sdk: Vec::new(),
                });
            }
        }
        for _ in 0..s.rounds {
            for p in &mut pairs[first..] {
                let who = (Who::Floor(p.version), Who::Sdk(p.version));
                let (floor, sdk) = round(&rt, &clients, who, p.op, in_flight, s.calls);
                p.floor.push(floor);
                p.sdk.push(sdk);
            }
        }
    }
    let python: Vec<(usize, Vec<Sample>)> = match &s.python {
        Some(venv) => IN_FLIGHT
            .iter()
            .map(|&n| {
                // Python is 10-20x slower per call: fewer calls for rounds of similar length.
                let calls = (s.calls / 20).max(16);
                (
                    n,
                    python_rounds(venv, &emulator.endpoint, calls, s.rounds, n),
                )
            })
            .collect(),
        None => Vec::new(),
    };
    drop(emulator);

    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nclient CPU per call against a release ens-emulator --demo in its own process \
         ({} CPUs, multi-thread runtime; process CPU time; medians of {} rounds of {} calls; \
         ratio = median of the rounds' SDK/floor ratios, quartiles in brackets){}{}\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        s.rounds,
        s.calls,
        if tracing_on {
            "; a tracing subscriber enables every span and event"
        } else {
            "; no tracing subscriber"
        },
        if test {
            "; TEST MODE: the figures mean nothing"
        } else {
            ""
        },
    );
    out.push_str("| in flight | operation | signature | floor CPU/call | SDK CPU/call | SDK/floor (target ≤ 1.10) | floor wall/call | SDK wall/call |\n");
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    for p in &pairs {
        out.push_str(&p.line());
        out.push('\n');
    }
    for (n, samples) in &python {
        let cpu = median(samples.iter().map(|x| x.cpu).collect());
        let wall = median(samples.iter().map(|x| x.wall).collect());
        let sdk = |v| {
            pairs
                .iter()
                .find(|p| p.in_flight == *n && p.version == v && p.op.action == "DescribeHaVips")
                .map_or(f64::NAN, Pair::sdk_cpu)
        };
        let _ = writeln!(
            out,
            "| {n} | DescribeHaVips | Python SDK 12.1.0 (V3) | | {cpu:.1} µs | **{:.1}× SDK V3, {:.1}× SDK V1** (target ≥ 10×) | | {wall:.1} µs |",
            cpu / sdk(SignatureVersion::V3),
            cpu / sdk(SignatureVersion::V1),
        );
    }
    print!("{out}");
}
