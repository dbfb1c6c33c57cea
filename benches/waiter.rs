//! The default `wait_until_in_use` settings against associations that take 2 s and 10 s on the
//! emulator: how long after the transition the waiter notices it, and how many polls it makes.
//! Also the poll count of a full 5-minute wait (simulated on a `ManualClock`, no real waiting),
//! next to Terraform's schedule (5 s, then 3 s, 6 s, then every 10 s: about 30 polls).
//!
//! Targets: noticed within 1 s for transitions under 10 s; fewer than ~30 polls in 5 minutes.
//! Real time: about 25 s. Run with `cargo bench --bench waiter`.

use std::time::{Duration, Instant};

use alibabacloud_ens::clock::ManualClock;
use alibabacloud_ens::emulator::Emulator;
use alibabacloud_ens::{Client, Error};

async fn measure(delay: Duration) -> (Duration, u32) {
    let emu = Emulator::builder()
        .demo()
        .associate_delay(delay)
        .start()
        .await
        .expect("emulator");
    let client = Client::builder()
        .endpoint(emu.endpoint())
        .credentials(emu.credentials())
        .build()
        .expect("client");
    client
        .associate_ha_vip()
        .ha_vip_id("havip-demo")
        .instance_id("i-demo")
        .send()
        .await
        .expect("associate");
    let accepted = Instant::now();
    let out = client
        .wait_until_in_use("havip-demo", "i-demo")
        .wait()
        .await
        .expect("wait");
    let noticed = accepted.elapsed();
    (noticed.saturating_sub(delay), out.polls())
}

async fn five_minute_polls() -> u32 {
    let emu = Emulator::builder()
        .demo()
        .associate_delay(Duration::from_secs(3600))
        .start()
        .await
        .expect("emulator");
    let client = Client::builder()
        .endpoint(emu.endpoint())
        .credentials(emu.credentials())
        .clock(ManualClock::new())
        .build()
        .expect("client");
    client
        .associate_ha_vip()
        .ha_vip_id("havip-demo")
        .instance_id("i-demo")
        .send()
        .await
        .expect("associate");
    match client
        .wait_until_in_use("havip-demo", "i-demo")
        .wait()
        .await
    {
        Err(Error::WaiterTimedOut(t)) => t.polls,
        other => panic!("expected a timeout, got {other:?}"),
    }
}

fn terraform_polls(total: Duration) -> u32 {
    let mut t = Duration::from_secs(5);
    let mut polls = 1;
    for step in [3, 6] {
        if t + Duration::from_secs(step) > total {
            return polls;
        }
        t += Duration::from_secs(step);
        polls += 1;
    }
    while t + Duration::from_secs(10) <= total {
        t += Duration::from_secs(10);
        polls += 1;
    }
    polls
}

fn main() {
    // `cargo test --benches` runs bench targets with `--test`: keep that quick.
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        for secs in [2u64, 10] {
            let mut worst = Duration::ZERO;
            let mut polls = Vec::new();
            for _ in 0..if secs == 2 { 3 } else { 1 } {
                let (late, p) = measure(Duration::from_secs(secs)).await;
                worst = worst.max(late);
                polls.push(p);
            }
            println!(
                "waiter: {secs:>2} s association noticed at most {:.0} ms after the transition (target <= 1000 ms), polls {polls:?}",
                worst.as_secs_f64() * 1000.0
            );
        }
        let ours = five_minute_polls().await;
        let theirs = terraform_polls(Duration::from_secs(300));
        println!("waiter: a 5-minute wait makes {ours} polls; Terraform's schedule makes {theirs} (target: fewer)");
    });
}
