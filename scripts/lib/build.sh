# Builds the UI and every binary the scripts run (the app, the `keyless` CLI, the lab) in one cargo
# invocation. Sourced by run.sh, bench-app.sh, package.sh and tests/e2e/run.sh. The same package
# set everywhere means the same feature unification, so one build serves them all: a different
# set would recompile most dependencies (ten minutes on a fresh 2-core machine).
#   build_binaries            # debug
#   build_binaries --release
build_binaries() {
  npm --prefix ui run --silent build >/dev/null
  cargo build --quiet "$@" -p keyless-app -p keyless-cli -p keyless-lab --bins
}

# Cargo's target directory (CARGO_TARGET_DIR or the workspace's target/).
target_dir() {
  cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])'
}
