#!/usr/bin/env bash
# Rewrite the example outputs in reports/ from the example scenarios (deterministic: the
# same files come out every time for the same code).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
bin=${CARGO_TARGET_DIR:-target}/release/coldcost
for s in quickstart fc-python-api worked-bill review; do
  "$bin" run "scenarios/$s.toml" --out "reports/$s" --quiet
done
# the SimFaaS example at a tenth of its horizon keeps instances.csv small
"$bin" run scenarios/simfaas-readme.toml --out reports/simfaas-readme --quiet \
  --set simulation.horizon=100000s
# a capacity-planning sweep of the quickstart
"$bin" sweep scenarios/quickstart.toml --out reports/quickstart-sweep --quiet \
  --vary function.api.reserved=0..4 --vary function.api.concurrency=1,10,40 \
  --slo p99=950ms --slo cold_ratio=0.00005
# the planner's walkthrough (README): the review scenario's goals judge the setups
"$bin" sweep scenarios/review.toml --out reports/review-sweep --quiet \
  --vary function.api.concurrency=2,4,6,10 --vary function.api.reserved=1,4
# ... and its second round, around the value the first one pointed to
"$bin" sweep scenarios/review.toml --out reports/review-sweep-2 --quiet \
  --vary function.api.concurrency=3,4 --vary function.api.keep_alive=60s,5m
