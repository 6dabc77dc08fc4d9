#!/usr/bin/env bash
# All the tests: unit and integration tests (cargo), the README's sharded sweep on GNU parallel
# workers (scripts/sweep-shards.sh), then coldcost side by side with the
# peer simulator SimFaaS on its README example (needs python3 and pip; installs SimFaaS
# 0.2.2 with the pinned versions in benches/simfaas/requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

# the calibration tests need a Docker engine and a registry on loopback (installed if missing)
scripts/calibration-env.sh up
cargo test --locked -- --skip calibration::
# the calibration tests time real pulls and starts: they run on their own, after the others,
# so that the CPU load of the rest of the suite does not skew what they measure
cargo test --locked --test integration calibration:: -- --test-threads=1

cargo build --release --locked
# the README's sharded sweep with GNU parallel, merged, byte-identical to the unsharded one
scripts/sweep-shards.sh
if ! python3 -c 'import simfaas' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check -r benches/simfaas/requirements.txt
fi
COLDCOST_BIN=${CARGO_TARGET_DIR:-target}/release/coldcost \
  python3 benches/simfaas/compare.py --reps 10 --horizon 1000000 --jobs 2
