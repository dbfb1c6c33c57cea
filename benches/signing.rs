//! Signing one AssociateHaVip request (all common parameters), V1 and V3, against the bare
//! cryptographic floor over the same string to sign:
//! * V1 floor: HMAC-SHA1(secret + "&", string to sign) + Base64.
//! * V3 floor: SHA-256(canonical request) + HMAC-SHA256(secret, string to sign).
//!
//! Besides criterion's report, the run prints the ratio full/floor for each version (targets:
//! V1 ≤ 2×, V3 ≤ 2.6×), measured side by side, and the heap allocations per signature (counted by a global
//! allocator wrapper).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use alibabacloud_ens::signer::{v1, v3, SigningParams};
use base64::Engine as _;
use criterion::{criterion_group, Criterion};
use hmac::{Hmac, Mac};
use sha2::Digest;

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const PARAMS: &[(&str, &str)] = &[
    ("HaVipId", "havip-5p14t0f2xk"),
    ("InstanceId", "eni-50c4a9d8e7f6"),
    ("InstanceType", "NetworkInterface"),
];
const NONCE: &str = "0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c";
const SECRET: &str = "aBcDeFgHiJkLmNoPqRsTuVwXyZ012345";

fn signing() -> SigningParams<'static> {
    SigningParams::new(
        "LTAI5tExampleAccessKeyId",
        SECRET,
        time::macros::datetime!(2024-01-02 03:04:05 UTC),
        NONCE,
    )
}

fn v3_request() -> v3::V3Request<'static> {
    v3::V3Request {
        method: "POST",
        host: "ens.aliyuncs.com",
        action: "AssociateHaVip",
        version: "2017-11-10",
        params: PARAMS,
        extra_signed_headers: &[],
        body: b"",
    }
}

fn v1_full() -> v1::SignedV1<'static> {
    v1::sign(
        "POST",
        "AssociateHaVip",
        "2017-11-10",
        black_box(PARAMS),
        &signing(),
    )
}

fn v1_floor(sts: &str) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{SECRET}&").as_bytes()).unwrap();
    mac.update(sts.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn v3_full() -> v3::SignedV3<'static> {
    v3::sign(black_box(&v3_request()), &signing())
}

fn v3_floor(creq: &str) -> [u8; 32] {
    let hash = sha2::Sha256::digest(creq.as_bytes());
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(b"ACS3-HMAC-SHA256\n");
    mac.update(&hash);
    mac.finalize().into_bytes().into()
}

fn bench(c: &mut Criterion) {
    let sts = v1_full().string_to_sign;
    let creq = v3_full().canonical_request;
    let mut g = c.benchmark_group("signing");
    g.bench_function("v1_full", |b| b.iter(v1_full));
    g.bench_function("v1_floor_hmac_sha1", |b| {
        b.iter(|| v1_floor(black_box(&sts)))
    });
    g.bench_function("v3_full", |b| b.iter(v3_full));
    g.bench_function("v3_floor_sha256_hmac", |b| {
        b.iter(|| v3_floor(black_box(&creq)))
    });
    g.finish();
}

/// Interleaved timing of `a` and `b` (many rounds of each, alternating) → (ns a, ns b).
fn side_by_side<A: FnMut(), B: FnMut()>(mut a: A, mut b: B) -> (f64, f64) {
    const ROUNDS: u32 = 40;
    const ITERS: u32 = 2_000;
    let (mut ta, mut tb) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for _ in 0..ITERS {
            a();
        }
        ta += t.elapsed();
        let t = Instant::now();
        for _ in 0..ITERS {
            b();
        }
        tb += t.elapsed();
    }
    let n = f64::from(ROUNDS * ITERS);
    (ta.as_nanos() as f64 / n, tb.as_nanos() as f64 / n)
}

fn allocations<T>(f: impl Fn() -> T) -> u64 {
    let before = ALLOCS.load(Ordering::Relaxed);
    black_box(f());
    ALLOCS.load(Ordering::Relaxed) - before
}

fn ratios() {
    let sts = v1_full().string_to_sign;
    let creq = v3_full().canonical_request;
    let (full, floor) = side_by_side(
        || drop(black_box(v1_full())),
        || drop(black_box(v1_floor(&sts))),
    );
    println!(
        "signing V1: full {full:.0} ns, floor {floor:.0} ns, ratio {:.2}x (target <= 2x); {} allocations per signature",
        full / floor,
        allocations(v1_full)
    );
    let (full, floor) = side_by_side(
        || drop(black_box(v3_full())),
        || {
            black_box(v3_floor(&creq));
        },
    );
    println!(
        "signing V3: full {full:.0} ns, floor {floor:.0} ns, ratio {:.2}x (target <= 2.6x); {} allocations per signature",
        full / floor,
        allocations(v3_full)
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    ratios();
}
