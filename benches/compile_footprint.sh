#!/usr/bin/env bash
# Compile footprint: the clean release build time of a program using this crate (default
# features) next to a bare reqwest + tokio hello world with the same TLS choice (reqwest 0.12,
# rustls on ring), both built from scratch in this run, one after the other. Target: <= 1.15x.
# Also shows that the emulator's server-side dependencies are absent from a default build.
#
#   bash benches/compile_footprint.sh
#
# Takes a few minutes (two clean release builds). Needs the crates.io registry (or a warm
# cargo cache).
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

build() { # name -> seconds
  local start end
  (cd "$work/$1" && cargo fetch -q)
  start=$(date +%s.%N)
  (cd "$work/$1" && CARGO_TARGET_DIR="$work/$1/target" cargo build --release -q)
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }' 
}

floor=$(build floor)
sdk=$(build sdk)
pk_floor=$(cd "$work/floor" && cargo tree -e normal --prefix none | sort -u | wc -l)
pk_sdk=$(cd "$work/sdk" && cargo tree -e normal --prefix none | sort -u | wc -l)
ratio=$(awk -v a="$sdk" -v b="$floor" 'BEGIN { printf "%.3f", a / b }')
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
printf 'compile footprint: floor (reqwest+tokio) %.1f s, %s packages; with alibabacloud-ens %.1f s, %s packages; ratio %s (target <= 1.15)\n' \
  "$floor" "$pk_floor" "$sdk" "$pk_sdk" "$ratio"

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
