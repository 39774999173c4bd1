#!/usr/bin/env bash
# Benchmark: keyless ssh vs the OpenSSH floor and push-then-connect; keyless ls vs the AWS CLI.
# Builds release binaries, installs the AWS CLI into a venv under target/ the first time, then runs
# keyless-bench (all traffic stays on 127.0.0.0/8). Extra arguments go to keyless-bench:
#   scripts/bench.sh            # 15 runs per row, 5,000 inventory instances
#   scripts/bench.sh --quick    # 5 runs, 1,000 instances (smoke test)
#   scripts/bench.sh --runs 30
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
start=$SECONDS

cargo build --release -p keyless-cli -p keyless-lab --bins

# Our own AWS CLI, so the comparison does not depend on whatever `aws` is on PATH.
venv="$CARGO_TARGET_DIR/bench-venv"
if [ ! -x "$venv/bin/aws" ]; then
    echo "bench.sh: installing the AWS CLI (pip install awscli) into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check awscli
fi

status=0
"$CARGO_TARGET_DIR/release/keyless-bench" \
    --keyless "$CARGO_TARGET_DIR/release/keyless" \
    --aws "$venv/bin/aws" \
    "$@" || status=$?
echo "bench.sh: finished in $((SECONDS - start)) s (build included), exit $status" >&2
exit "$status"
