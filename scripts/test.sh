#!/usr/bin/env bash
# All the tests: unit and integration tests (cargo; the calibration tests need the Docker
# engine and registry that scripts/calibration-env.sh starts, installing them if missing),
# then coldcost side by side with the peer simulator SimFaaS on its README example (needs python3 and pip; installs SimFaaS
# 0.2.2 with the pinned versions in benches/simfaas/requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

# the calibration tests run against a real Docker engine and registry on loopback
scripts/calibration-env.sh up
cargo test --locked

cargo build --release --locked
if ! python3 -c 'import simfaas' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check -r benches/simfaas/requirements.txt
fi
python3 benches/simfaas/compare.py --reps 10 --horizon 1000000 --jobs 2
