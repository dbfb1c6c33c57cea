#!/usr/bin/env bash
# Compile footprint: the clean release build time of a program using this crate (default
# features) next to two floors, all built from scratch in this run, one after the other:
#   floor  - a bare reqwest + tokio hello world with the same TLS choice (reqwest 0.12, rustls
#            on ring);
#   floor2 - a hello world that also uses the design card's packages as an SDK would: serde
#            derive, serde_json, serde_urlencoded, thiserror, time (formatting, parsing), hmac,
#            sha1, sha2, base64. Target: the SDK within 1.10x of floor2 (at most 1.15x).
# Also shows that the emulator's server-side dependencies are absent from a default build.
#
#   bash benches/compile_footprint.sh            # ROUNDS=3 by default
#
# floor2 and the SDK are built alternately, ROUNDS times each, each from scratch; the ratio of
# each round's pair is printed and the median quoted (one build on a shared 2-core VM varies by
# 10-15%, so a single pair says little). Each build's CPU time (user + system) is printed too:
# when the build keeps every core busy, the CPU ratio is the wall-clock ratio with less noise,
# and the difference is what the crate itself costs. Takes about 2 minutes per round. Needs the
# crates.io registry (or a warm cargo cache).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mk() { # name, extra dependency line, main body
  mkdir -p "$work/$1/src"
  cat > "$work/$1/Cargo.toml" <<EOF
[package]
name = "$1"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
reqwest = { version = "0.12", default-features = false, features = ["rustls-tls"] }
tokio = { version = "1", features = ["rt-multi-thread", "macros"] }
$2

[workspace]
EOF
  printf '%s\n' "$3" > "$work/$1/src/main.rs"
  # The same dependency versions as the crate's own lock file.
  cp "$root/Cargo.lock" "$work/$1/Cargo.lock"
}

mk floor "" '#[tokio::main]
async fn main() {
    let r = reqwest::Client::new().get("http://127.0.0.1:9/").send().await;
    println!("{}", r.is_ok());
}'

mk floor2 'serde = { version = "1", features = ["derive"] }
serde_json = "1"
serde_urlencoded = "0.7"
thiserror = "2"
time = { version = "0.3", default-features = false, features = ["std", "formatting", "parsing"] }
hmac = "0.12"
sha1 = "0.10"
sha2 = "0.10"
base64 = "0.22"' '#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    request_id: String,
    #[serde(default)]
    total_count: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
enum Error {
    #[error("bad answer: {0}")]
    Json(#[from] serde_json::Error),
    #[error("bad time")]
    Time(#[from] time::error::Parse),
}

fn main() -> Result<(), Error> {
    use base64::Engine as _;
    use hmac::Mac as _;
    use sha2::Digest as _;
    let a: Answer = serde_json::from_str(r#"{"RequestId":"r","TotalCount":1}"#)?;
    let q = serde_urlencoded::to_string([("Name", "a b"), ("Id", &a.request_id)]).unwrap_or_default();
    let t = time::OffsetDateTime::parse("2024-01-02T03:04:05Z", &time::format_description::well_known::Rfc3339)?;
    let ts = t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(b"k&").expect("any key");
    mac.update(q.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let digest = sha2::Sha256::digest(ts.as_bytes());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let r = rt.block_on(reqwest::Client::new().get("http://127.0.0.1:9/").send());
    println!("{} {sig} {digest:x} {}", serde_json::to_string(&a)?, r.is_ok());
    Ok(())
}'

mk sdk "alibabacloud-ens = { path = \"$root\" }" '#[tokio::main]
async fn main() {
    let c = alibabacloud_ens::Client::builder()
        .credentials(alibabacloud_ens::Credentials::new("id", "secret"))
        .endpoint("http://127.0.0.1:9")
        .build()
        .unwrap();
    let r = c.describe_ha_vips().send().await;
    println!("{}", r.is_ok());
}'

build() { # name -> "wall cpu" in seconds (from scratch; cpu = user + system of the whole build)
  local t
  (cd "$work/$1" && cargo fetch -q)
  rm -rf "$work/$1/target"
  t=$( { TIMEFORMAT='%R %U %S'; time (cd "$work/$1" && CARGO_TARGET_DIR="$work/$1/target" cargo build --release -q >&2); } 2>&1 >/dev/null | tail -n 1)
  awk -v t="$t" 'BEGIN { split(t, v, " "); printf "%.1f %.1f", v[1], v[2] + v[3] }'
}
packages() { (cd "$work/$1" && cargo tree -e normal --prefix none | sort -u | wc -l); }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
read -r floor floor_cpu <<<"$(build floor)"
printf 'floor (reqwest+tokio): %.1f s (%.1f s CPU), %s packages\n' "$floor" "$floor_cpu" "$(packages floor)"
ratios=()
cpu_ratios=()
for round in $(seq 1 "${ROUNDS:-3}"); do
  read -r floor2 floor2_cpu <<<"$(build floor2)"
  read -r sdk sdk_cpu <<<"$(build sdk)"
  r=$(awk -v a="$sdk" -v b="$floor2" 'BEGIN { printf "%.3f", a / b }')
  rc=$(awk -v a="$sdk_cpu" -v b="$floor2_cpu" 'BEGIN { printf "%.3f", a / b }')
  ratios+=("$r")
  cpu_ratios+=("$rc")
  printf 'round %s: floor2 (+ the design card packages) %.1f s (%.1f s CPU), %s packages; with alibabacloud-ens %.1f s (%.1f s CPU), %s packages; ratio %s (CPU %s)\n' \
    "$round" "$floor2" "$floor2_cpu" "$(packages floor2)" "$sdk" "$sdk_cpu" "$(packages sdk)" "$r" "$rc"
done
printf 'ratio to floor2, median of %s rounds: %s (target <= 1.10, at most 1.15); CPU ratio, median: %s; last ratio to floor: %s\n' \
  "${#ratios[@]}" "$(printf '%s\n' "${ratios[@]}" | median)" "$(printf '%s\n' "${cpu_ratios[@]}" | median)" \
  "$(awk -v a="$sdk" -v b="$floor" 'BEGIN { printf "%.3f", a / b }')"

# The emulator's server side must not be in a default build.
default_tree=$(cd "$root" && cargo tree -e features,normal 2>/dev/null)
emulator_tree=$(cd "$root" && cargo tree -e features,normal --features emulator 2>/dev/null)
for needle in 'hyper feature "server"'; do
  if grep -q "$needle" <<<"$default_tree"; then
    echo "FAIL: default build has $needle"; exit 1
  fi
  grep -q "$needle" <<<"$emulator_tree" || { echo "FAIL: the emulator build lacks $needle"; exit 1; }
  echo "default build: no $needle (present only with --features emulator)"
done
