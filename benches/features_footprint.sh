#!/usr/bin/env bash
# What the generated operations cost to compile, per cargo feature, side by side with the
# default build (the HAVIP layer alone), in one run:
#   1. a clean build of a program using the crate, everything from scratch (dependencies
#      included), with default features and with `full`, debug and release;
#   2. the crate alone (its dependencies already built) with default features, each family's
#      feature, and `full`, debug and release: what each family adds to a build (debug with
#      this repository's dev profile, line tables only; step 1 uses a program's defaults).
# Prints wall time and CPU time (user + system) of each build.
#
#   bash benches/features_footprint.sh           # FAMILIES="instance eip" to measure a few
#
# Takes about 25 minutes on a 2-core machine for every family. Needs the crates.io registry
# (or a warm cargo cache).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CARGO_TERM_COLOR=never

families=${FAMILIES:-$(sed -n '/^# BEGIN generated features/,/^# END generated features/p' "$root/Cargo.toml" \
  | grep -E '^[a-z_]+ = \["_generated"\]' | cut -d' ' -f1 | tr '\n' ' ')}

# Runs a command quietly; prints "wall cpu" in seconds (CPU: the children's user + system).
timed() {
  local t0 t1 c0 c1 hz me=$BASHPID # this shell: inside $(…) BASHPID is the substitution's
  hz=$(getconf CLK_TCK)
  c0=$(awk '{print $16+$17}' "/proc/$me/stat")
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; return 1; }
  t1=$(date +%s.%N)
  c1=$(awk '{print $16+$17}' "/proc/$me/stat")
  awk -v a="$t0" -v b="$t1" -v c="$c0" -v d="$c1" -v hz="$hz" \
    'BEGIN { printf "%.1f %.1f\n", b - a, (d - c) / hz }'
}

# 1. Whole programs, from scratch.
mkdir -p "$work/app/src"
cat > "$work/app/Cargo.toml" <<TOML
[package]
name = "app"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
alibabacloud-ens = { path = "$root" }
tokio = { version = "1", features = ["rt-multi-thread", "macros"] }

[features]
full = ["alibabacloud-ens/full"]

[workspace]
TOML
cp "$root/Cargo.lock" "$work/app/Cargo.lock"
cat > "$work/app/src/main.rs" <<'RUST'
#[tokio::main]
async fn main() {
    let c = alibabacloud_ens::Client::builder()
        .credentials(alibabacloud_ens::Credentials::new("id", "secret"))
        .endpoint("http://127.0.0.1:9")
        .build()
        .unwrap();
    println!("{:?}", c.get_ha_vip("havip-1").await.is_ok());
}
RUST
printf '%-24s %-8s %10s %10s\n' "program, from scratch" profile "wall s" "cpu s"
for features in "" full; do
  for profile in dev release; do
    rm -rf "$work/app/target"
    flag=(); [ -n "$features" ] && flag=(--features "$features")
    read -r wall cpu < <(timed cargo build --manifest-path "$work/app/Cargo.toml" --profile "$profile" "${flag[@]}")
    printf '%-24s %-8s %10s %10s\n' "${features:-default}" "$profile" "$wall" "$cpu"
  done
done

# 2. The crate alone, per feature (its dependencies built once, first).
export CARGO_TARGET_DIR="$work/target"
for profile in dev release; do
  cargo build --manifest-path "$root/Cargo.toml" --lib --profile "$profile" --features full >/dev/null 2>&1
done
printf '\n%-24s %-8s %10s %10s\n' "the crate alone" profile "wall s" "cpu s"
for features in "" $families full; do
  for profile in dev release; do
    cargo clean --manifest-path "$root/Cargo.toml" -p alibabacloud-ens --profile "$profile" >/dev/null 2>&1
    flag=(); [ -n "$features" ] && flag=(--features "$features")
    read -r wall cpu < <(timed cargo build --manifest-path "$root/Cargo.toml" --lib --profile "$profile" "${flag[@]}")
    printf '%-24s %-8s %10s %10s\n' "${features:-default}" "$profile" "$wall" "$cpu"
  done
done
