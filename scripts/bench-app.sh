#!/usr/bin/env bash
# Benchmarks the Keyless desktop app against the local lab, under Xvfb: cold start to the
# instance list (lab with 1,000 extra instances, median of 5 launches), resident memory idle and
# with 5 sessions, terminal throughput of a 100 MB flood into xterm, UI responsiveness during it.
# Prints figures with their targets; never fails on a figure (only on a broken run).
#   scripts/bench-app.sh            # debug build (what the e2e tests use)
#   scripts/bench-app.sh --release  # release build (≈ 20 min the first time)
# BENCH_LAUNCHES, BENCH_INSTANCES, BENCH_FLOOD_BYTES override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=debug
cargo_flags=()
if [ "${1:-}" = "--release" ]; then profile=release; cargo_flags=(--release); fi

. scripts/lib/deps.sh
. tests/e2e/deps.sh
need_e2e_deps
echo "==> building the UI and the app ($profile)"
npm --prefix ui run build --silent >/dev/null
cargo build --quiet "${cargo_flags[@]}" -p keyless-app -p keyless-lab --bins
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"

echo "==> bench (under Xvfb)"
KEYLESS_APP_BIN="$target/$profile/keyless-app" KEYLESS_LAB_BIN="$target/$profile/keyless-lab" BENCH_PROFILE="$profile" \
  xvfb-run -a -s "-screen 0 1280x800x24" node tests/e2e/bench.mjs
