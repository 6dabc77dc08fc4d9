#!/usr/bin/env bash
# Real-trace benchmarks, whole process, release build, measured with GNU time:
#   1. the Azure 2019 sample end to end (scenarios/azure2019-sample.toml: 3.0 M requests);
#   2. a generated trace of $INVOCATIONS invocations over $FUNCTIONS functions and $HOURS
#      hours (defaults: 100 M, 10,000, 24 h), in each of $FORMATS (azure2019 csv), and the
#      same fleet driven by synthetic Poisson workloads (format `poisson`: one workload per
#      function at its rate), the engine's synthetic throughput on this fleet;
#   3. flat memory: the same trace shape ten times shorter ($HOURS / 10, $INVOCATIONS / 10).
# Prints one markdown row per run: wall seconds, simulated requests per second of wall time,
# peak RSS. Traces are generated into a temporary folder (removed on exit, never committed):
# the CSV of 100 M invocations takes 2.8 GB. Needs GNU time (apt-get install -y time).
#
#   benches/traces/run.sh                                   # the full measurement
#   INVOCATIONS=10000000 HOURS=2.4 benches/traces/run.sh    # a quicker one
set -euo pipefail
cd "$(dirname "$0")/../.."
INVOCATIONS=${INVOCATIONS:-100000000}
FUNCTIONS=${FUNCTIONS:-10000}
HOURS=${HOURS:-24}
FORMATS=${FORMATS:-"poisson azure2019 csv"}
ZIPF=${ZIPF:-1.3}
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time: apt-get install -y time" >&2; exit 1; }
cargo build --release --locked --bin coldcost --example gen_trace >&2
bin=${CARGO_TARGET_DIR:-target}/release
tmp=$(mktemp -d "${TMPDIR:-/tmp}/coldcost-traces.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "| run | requests | wall s | requests/s | peak RSS MB |"
echo "|---|---|---|---|---|"
# measure LABEL CMD...: run it, print its row
measure() {
  local label=$1; shift
  /usr/bin/time -v "$@" > "$tmp/stdout" 2> "$tmp/time"
  local reqs wall rss
  reqs=$(grep -o '[0-9]* requests simulated' "$tmp/stdout" | head -1 | cut -d' ' -f1)
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$tmp/time")
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$tmp/time")
  awk -v l="$label" -v r="$reqs" -v w="$wall" -v m="$rss" \
    'BEGIN { printf "| %s | %d | %.2f | %.2f M | %s |\n", l, r, w, r / w / 1e6, m }'
}

measure "Azure 2019 sample (500 functions, 8 h)" "$bin/coldcost" run scenarios/azure2019-sample.toml --out "$tmp/sample"

# the fleet: every generated function a copy of one template (shared image, 10 min keep-alive)
fleet() { # format, trace path → scenario on stdout
  cat <<TOML
[simulation]
name = "fleet"
horizon = "${HOURS}h"
seed = 1
[platform]
pricing = "fc3"
keep_alive = "10m"
hosts = 1000
[[image]]
name = "base"
size = "200MB"
layer_count = 8
[[function]]
name = "fleet"
image = "base"
max_instances = 10000
timeout = "15m"
startup = { dist = "lognormal", median = "500ms", p99 = "3s" }
[[workload]]
arrivals = { kind = "trace", format = "$1", path = "$2" }
TOML
}

for format in $FORMATS; do
  for scale in 10 1; do
    inv=$((INVOCATIONS / scale))
    hours=$(awk -v h="$HOURS" -v s="$scale" 'BEGIN { print h / s }')
    dir="$tmp/$format-$scale"
    "$bin/examples/gen_trace" --format "$format" --functions "$FUNCTIONS" --invocations "$inv" \
      --hours "$hours" --zipf "$ZIPF" --out "$dir"
    path="$dir"; [ "$format" = csv ] && path="$dir/trace.csv"
    # (poisson: the generator wrote fleet.toml itself)
    [ "$format" = poisson ] || HOURS=$hours fleet "$format" "$path" > "$dir/fleet.toml"
    measure "$format, $FUNCTIONS functions, ${hours} h" "$bin/coldcost" run "$dir/fleet.toml" --out "$tmp/out-$format-$scale"
    rm -rf "$dir" "$tmp/out-$format-$scale"
  done
done
