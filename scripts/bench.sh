#!/usr/bin/env bash
# Benchmark: keyless ssh vs the OpenSSH floor and push-then-connect; keyless ls vs the AWS CLI;
# keyless ssh through the EC2 Instance Connect Endpoint vs direct, and --via auto vs --via eice;
# keyless cp vs OpenSSH sftp/scp and keyless ssh -L vs ssh -L (200 MiB, loopback and +50 ms RTT);
# plain OpenSSH (ssh, rsync) through `keyless ssh-config` vs the floor;
# then a second tab on the app's pooled connection (core's pool_bench example).
# Builds release binaries, installs the AWS CLI into a venv under target/ the first time, then runs
# keyless-bench and pool_bench (all traffic stays on 127.0.0.0/8). Extra arguments go to
# keyless-bench; pool_bench gets --quick and --runs N from them:
#   scripts/bench.sh            # 15 runs per row, 5,000 inventory instances
#   scripts/bench.sh --quick    # 5 runs, 1,000 instances (smoke test)
#   scripts/bench.sh --runs 30
#   scripts/bench.sh --only-files --transfer-mib 50   # parts 4 and 5 only
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
start=$SECONDS

cargo build --release -p keyless-cli -p keyless-lab --bins
# Core-level (the app's connection pool), so an example of keyless-core: the lab crate cannot
# depend on core.
cargo build --release -p keyless-core --example pool_bench

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

pool_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) pool_args+=(--quick) ;;
        --runs) pool_args+=(--runs "${2:-}"); [ $# -gt 1 ] && shift ;;
        --runs=*) pool_args+=(--runs "${1#--runs=}") ;;
    esac
    shift
done
echo
"$CARGO_TARGET_DIR/release/examples/pool_bench" "${pool_args[@]}" || status=$?
echo "bench.sh: finished in $((SECONDS - start)) s (build included), exit $status" >&2
exit "$status"
