#!/usr/bin/env bash
# Fleet speed, whole process, release build, measured with GNU time (`/usr/bin/time -v`).
# The same total traffic ($RATE requests/s, Poisson arrivals, exponential 100 ms executions)
# spread over 1, 10, 100, 1,000 and 10,000 functions that share 4 images on the default
# platform — uniformly, and for the largest fleet also Zipf-skewed (s = $ZIPF) — one
# replication of $HOURS hours, every report written. Then the Azure 2019 sample end to end
# (scenarios/azure2019-sample.toml: load and scan the trace, 8 hours of 500 functions).
# The single-function run is the baseline of the same sitting: the last column is each run's
# throughput as a share of it. Every run is repeated $REPEAT times and the fastest is shown
# with its peak RSS (the machine is shared: the fastest run is the least disturbed one).
# Scenarios and reports go to a temporary folder, removed on exit.
#
#   benches/fleet.sh                              # the full table (a few minutes)
#   HOURS=1 SIZES="1 10000" REPEAT=1 benches/fleet.sh
#   KEEP=/tmp/fleet benches/fleet.sh             # keep the generated scenarios there
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-1000}
HOURS=${HOURS:-3}
SIZES=${SIZES:-"1 10 100 1000 10000"}
ZIPF=${ZIPF:-1.3}
REPEAT=${REPEAT:-3}
AZURE=${AZURE:-1}
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time: apt-get install -y time" >&2; exit 1; }
command -v python3 > /dev/null || { echo "needs python3 to generate the scenarios" >&2; exit 1; }
if [ -z "${BIN:-}" ]; then
  cargo build --release --locked --bin coldcost >&2
  BIN=${CARGO_TARGET_DIR:-target}/release/coldcost
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/coldcost-fleet.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
scen=${KEEP:-$tmp}
mkdir -p "$scen"

# fleet N S FILE: a scenario of N functions over 4 images whose Poisson rates sum to RATE,
# function i's share proportional to 1 / (i + 1)^S (S = 0: all equal)
fleet() {
  python3 - "$1" "$2" "$RATE" "$HOURS" > "$3" <<'PY'
import sys
n, s, rate, hours = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
w = [1.0 / (i + 1) ** s for i in range(n)]
total = sum(w)
out = [f'[simulation]\nname = "fleet-{n}"\nhorizon = "{hours}h"\nseed = 1\nreplications = 1\n']
for k in range(4):
    out.append(f'[[image]]\nname = "img{k}"\nsize = "{200 + 100 * k}MB"\nlayer_count = {4 + k}\n')
for i in range(n):
    out.append(f'[[function]]\nname = "f{i}"\nimage = "img{i % 4}"\n'
               f'startup = {{ dist = "lognormal", median = "800ms", p99 = "3s" }}\n'
               f'exec = {{ dist = "exp", mean = "100ms" }}\n')
    out.append(f'[[workload]]\nfunction = "f{i}"\n'
               f'arrivals = {{ kind = "poisson", rate = "{rate * w[i] / total:.9f}/s" }}\n')
print("\n".join(out))
PY
}

base=""
# measure LABEL SCENARIO: the fastest of REPEAT runs, as one table row. The request count is
# the ALL row of replication 1 in summary.csv (a --quiet run prints nothing).
measure() {
  local label=$1 scenario=$2
  local best="" rss="" reqs="" wall m
  for _ in $(seq "$REPEAT"); do
    rm -rf "$tmp/out"
    /usr/bin/time -v "$BIN" run "$scenario" --out "$tmp/out" --quiet > /dev/null 2> "$tmp/time" ||
      { cat "$tmp/time" >&2; exit 1; }
    reqs=$(awk -F, '$2 == "1" && $3 == "ALL" { print $4 }' "$tmp/out/summary.csv")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$tmp/time")
    m=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$tmp/time")
    if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$wall; rss=$m; fi
  done
  local rps
  rps=$(awk -v r="$reqs" -v w="$best" 'BEGIN { printf "%.0f", r / w }')
  [ -n "$base" ] || base=$rps
  awk -v l="$label" -v r="$reqs" -v w="$best" -v p="$rps" -v m="$rss" -v b="$base" \
    'BEGIN { printf "| %s | %d | %.2f | %.2f M | %s | %.0f%% |\n", l, r, w, p / 1e6, m, 100 * p / b }'
}

echo "| run | requests | wall s | requests/s | peak RSS MB | of 1 function |"
echo "|---|---|---|---|---|---|"
for n in $SIZES; do
  fleet "$n" 0 "$scen/fleet-$n.toml"
  measure "$n function(s), uniform" "$scen/fleet-$n.toml"
done
largest=${SIZES##* }
fleet "$largest" "$ZIPF" "$scen/fleet-$largest-zipf.toml"
measure "$largest functions, Zipf s = $ZIPF" "$scen/fleet-$largest-zipf.toml"
if [ "$AZURE" = 1 ]; then
  measure "Azure 2019 sample (500 functions, 8 h), end to end" scenarios/azure2019-sample.toml
fi
