//! One `associate_ha_vip().send()` through the SDK against a minimal local HTTP server, next to
//! the same pre-signed request sent with a bare reqwest client to the same server, keep-alive on
//! both. Prints the ratio SDK/raw (target: ≤ 1.10), measured side by side. The server runs on a
//! thread of its own (as a separate process would); each client on one current-thread runtime.
//! `ROUNDTRIP_SAME_THREAD=1` runs the server on the client's runtime instead.

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use alibabacloud_ens::{Client, Credentials};
use criterion::{criterion_group, Criterion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

const BODY: &str = r#"{"RequestId":"CEF72CEB-54B6-4AE8-B225-F876FF7BA984"}"#;

/// A keep-alive HTTP/1.1 server answering every request with the same small JSON body.
async fn serve() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{BODY}",
                    BODY.len()
                );
                let mut buf = Vec::with_capacity(4096);
                let mut chunk = [0u8; 4096];
                loop {
                    // Requests here have no body: a request ends at the blank line.
                    while let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..p + 4);
                        if s.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
            });
        }
    });
    addr
}

struct Setup {
    rt: Runtime,
    sdk: Client,
    raw: reqwest::Client,
    presigned: String,
}

fn setup() -> Setup {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // By default the server runs on a thread and runtime of its own, as a separate process
    // would; ROUNDTRIP_SAME_THREAD=1 puts it on the client's runtime (the harshest setting for
    // the SDK: nothing else dilutes its own cost).
    let addr = if std::env::var_os("ROUNDTRIP_SAME_THREAD").is_some() {
        rt.block_on(serve())
    } else {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let server_rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            server_rt.block_on(async move {
                tx.send(serve().await).unwrap();
                std::future::pending::<()>().await;
            });
        });
        rx.recv().unwrap()
    };
    let sdk = Client::builder()
        .endpoint(format!("http://{addr}"))
        .credentials(Credentials::new(
            "LTAI5tExampleAccessKeyId",
            "aBcDeFgHiJkLmNoPqRsTuVwXyZ012345",
        ))
        .build()
        .unwrap();
    let raw = reqwest::Client::builder().build().unwrap();
    let params = alibabacloud_ens::signer::SigningParams::new(
        "LTAI5tExampleAccessKeyId",
        "aBcDeFgHiJkLmNoPqRsTuVwXyZ012345",
        time::OffsetDateTime::now_utc(),
        "0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c",
    );
    let signed = alibabacloud_ens::signer::v1::sign(
        "POST",
        "AssociateHaVip",
        "2017-11-10",
        &[
            ("HaVipId", "havip-5p14t0f2xk"),
            ("InstanceId", "i-50c4a9d8e7f6"),
        ],
        &params,
    );
    let presigned = format!("http://{addr}/?{}", signed.to_query());
    Setup {
        rt,
        sdk,
        raw,
        presigned,
    }
}

async fn sdk_call(c: &Client) {
    let out = c
        .associate_ha_vip()
        .ha_vip_id("havip-5p14t0f2xk")
        .instance_id("i-50c4a9d8e7f6")
        .send()
        .await
        .unwrap();
    black_box(out);
}

async fn raw_call(c: &reqwest::Client, url: &str) {
    let resp = c.post(url).send().await.unwrap();
    black_box(resp.bytes().await.unwrap());
}

fn bench(c: &mut Criterion) {
    let s = setup();
    let mut g = c.benchmark_group("roundtrip");
    g.bench_function("sdk_associate_ha_vip", |b| {
        b.iter(|| s.rt.block_on(sdk_call(&s.sdk)))
    });
    g.bench_function("raw_reqwest_presigned", |b| {
        b.iter(|| s.rt.block_on(raw_call(&s.raw, &s.presigned)))
    });
    g.finish();
}

fn ratio() {
    let s = setup();
    // Short rounds, SDK and raw alternating, and the median of the per-round ratios: a host
    // preempting this VM for a few milliseconds spoils one round, not the figure.
    const ROUNDS: usize = 61;
    const ITERS: u32 = 100;
    let mut rounds = Vec::with_capacity(ROUNDS);
    s.rt.block_on(async {
        for _ in 0..100 {
            sdk_call(&s.sdk).await;
            raw_call(&s.raw, &s.presigned).await;
        }
        for _ in 0..ROUNDS {
            let t = Instant::now();
            for _ in 0..ITERS {
                sdk_call(&s.sdk).await;
            }
            let sdk = t.elapsed();
            let t = Instant::now();
            for _ in 0..ITERS {
                raw_call(&s.raw, &s.presigned).await;
            }
            rounds.push((sdk, t.elapsed()));
        }
    });
    let per_call = |d: Duration| d.as_nanos() as f64 / 1000.0 / f64::from(ITERS);
    let mut ratios: Vec<f64> = rounds
        .iter()
        .map(|(a, b)| per_call(*a) / per_call(*b))
        .collect();
    ratios.sort_by(f64::total_cmp);
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let a = median(rounds.iter().map(|r| per_call(r.0)).collect());
    let b = median(rounds.iter().map(|r| per_call(r.1)).collect());
    println!(
        "roundtrip: SDK {a:.1} us, raw reqwest {b:.1} us (medians of {ROUNDS} rounds of {ITERS}), ratio SDK/raw {:.3} (median of per-round ratios; quartiles {:.3}-{:.3}) (target <= 1.10)",
        ratios[ROUNDS / 2],
        ratios[ROUNDS / 4],
        ratios[3 * ROUNDS / 4]
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    ratio();
}
