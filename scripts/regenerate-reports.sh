#!/usr/bin/env bash
# Rewrite the example outputs in reports/ from the example scenarios (deterministic: the
# same files come out every time for the same code).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
for s in quickstart fc-python-api worked-bill; do
  target/release/coldcost run "scenarios/$s.toml" --out "reports/$s" --quiet
done
# the SimFaaS example at a tenth of its horizon keeps instances.csv small
target/release/coldcost run scenarios/simfaas-readme.toml --out reports/simfaas-readme --quiet \
  --set simulation.horizon=100000s
