#!/usr/bin/env bash
# The README's "big sweeps beyond one machine" example, run for real on a smaller grid: GNU
# parallel starts the shards as local workers, `sweep-merge` joins them, and the result must be
# byte-identical to the same sweep run unsharded. Installs Debian's `parallel` when missing.
#
#   scripts/sweep-shards.sh [COLDCOST_BIN]      (default target/release/coldcost)
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=$(realpath "${1:-${CARGO_TARGET_DIR:-target}/release/coldcost}")
SHARDS=4
WORKERS=2

if ! command -v parallel >/dev/null; then
  echo "sweep-shards: installing GNU parallel"
  (apt-get install -y parallel >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y parallel >/dev/null; })
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# the README's grid, made smaller: 4 reserved counts × 2 memory sizes, an hour each
GRID=(scenarios/quickstart.toml --vary function.api.reserved=0..3
      --vary function.api.memory=1GB,2GB --slo p99=800ms --set simulation.horizon=1h --quiet)

# as in the README: one `coldcost sweep --shard K/N` per shard, GNU parallel running them
parallel --will-cite --halt now,fail=1 -j"$WORKERS" \
  "$BIN" sweep "${GRID[@]}" --shard {}/"$SHARDS" --out "$WORK"/shards/{} ::: $(seq "$SHARDS")
"$BIN" sweep-merge "$WORK"/shards/* --out "$WORK"/merged >/dev/null
"$BIN" sweep "${GRID[@]}" --out "$WORK"/whole

if diff -r "$WORK"/whole "$WORK"/merged; then
  echo "sweep-shards: $SHARDS shards on $WORKERS parallel workers, merged: byte-identical to the unsharded sweep ($(ls "$WORK"/whole | wc -l) files)"
else
  echo "sweep-shards: the merged shards differ from the unsharded sweep" >&2
  exit 1
fi
