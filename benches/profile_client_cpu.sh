#!/usr/bin/env bash
# Where the client's CPU goes, per component: `perf` profiles of the client_cpu bench's
# clients (the SDK V1 and V3, and the bare reqwest floor) against a release emulator in its own
# process, classified by benches/classify_profile.py into a Markdown table (README
# "Performance").
#
#   bash benches/profile_client_cpu.sh [ACTION] [IN_FLIGHT]   # default DescribeHaVips 1
#
# Needs perf (Debian: linux-perf) and python3. About 3 minutes. perf slows the process about
# 2x (stack copies); the shares are what matters, the µs are shares of the CPU per call the
# bench itself measured in the same run (without perf).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
action=${1:-DescribeHaVips}
in_flight=${2:-1}
out=${PROFILE_OUT:-$(mktemp -d)}
export CARGO_TERM_COLOR=never

cargo build --quiet --release --features emulator --bin ens-emulator
bench=$(cargo bench --quiet --no-run --bench client_cpu --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "client_cpu" and m.get("executable"):
        print(m["executable"])')

target/release/ens-emulator --demo --quiet --listen 127.0.0.1:0 --request-timeout-ms 600000 \
  > "$out/emulator.out" &
emulator=$!
trap 'kill $emulator 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q listening "$out/emulator.out" 2>/dev/null && break
  sleep 0.05
done
export CLIENT_CPU_EMULATOR=$(sed -n 's/^ens-emulator listening on //p' "$out/emulator.out")

cpus=()
args=()
for who in sdk-v1 sdk-v3 floor-v1; do
  # The CPU per call without perf (3 rounds; the median), then a profile.
  cpu=$(CLIENT_CPU_CALLS=8000 CLIENT_CPU_ROUNDS=3 "$bench" --only "$who" --op "$action" \
        --in-flight "$in_flight" | sed -n 's/.*: \([0-9.]*\) µs CPU\/call.*/\1/p' | sort -n | sed -n 2p)
  CLIENT_CPU_CALLS=8000 CLIENT_CPU_ROUNDS=2 perf record -q -o "$out/$who.data" -F 1000 \
    -e cpu-clock --call-graph dwarf,32768 \
    "$bench" --only "$who" --op "$action" --in-flight "$in_flight" > /dev/null 2>&1
  perf script -i "$out/$who.data" --inline -F tid,ip,sym > "$out/$who.txt" 2>/dev/null
  rm -f "$out/$who.data"
  cpus+=("$cpu")
  args+=("$who@$in_flight=$out/$who.txt")
done
echo "$action, $in_flight in flight ($(nproc) CPUs; perf data in $out)"
python3 "$root/benches/classify_profile.py" "$(IFS=,; echo "${cpus[*]}")" "${args[@]}"
