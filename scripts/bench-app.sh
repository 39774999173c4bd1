#!/usr/bin/env bash
# Benchmarks the Keyless desktop app against the local lab, under Xvfb, beside the floor of any
# WebKitGTK app measured in the same run (tests/e2e/floor.py: an empty web view, its memory and its
# start launched through the same drivers; xterm.js alone, flooded alike): cold start to the
# instance list (lab with 1,000 extra instances; a first run, then 4 restarts with the last run's
# list cached), memory per process (PSS beside RSS) idle, with 5 sessions and after the flood,
# terminal throughput of a 100 MB flood into xterm, UI responsiveness during it.
# Prints figures with their targets; never fails on a figure (only on a broken run).
#   scripts/bench-app.sh            # debug build (what the e2e tests use)
#   scripts/bench-app.sh --release  # release build (≈ 20 min the first time)
# BENCH_LAUNCHES, BENCH_INSTANCES, BENCH_FLOOD_BYTES override the defaults; BENCH_COMPOSITING=
# gpu|software forces the web view's compositing (the app picks by the GPU it finds otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=debug
cargo_flags=()
if [ "${1:-}" = "--release" ]; then profile=release; cargo_flags=(--release); fi

. scripts/lib/deps.sh
. scripts/lib/build.sh
. tests/e2e/deps.sh
need_e2e_deps
need_apt python3-gi gir1.2-webkit2-4.1 gir1.2-gtk-3.0  # the floor: WebKitGTK web views of floor.py
echo "==> building the UI and the app ($profile)"
build_binaries "${cargo_flags[@]}"
target="$(target_dir)"

echo "==> bench (under Xvfb)"
KEYLESS_APP_BIN="$target/$profile/keyless-app" KEYLESS_LAB_BIN="$target/$profile/keyless-lab" BENCH_PROFILE="$profile" \
  xvfb-run -a -s "-screen 0 1280x800x24" node tests/e2e/bench.mjs
