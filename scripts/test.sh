#!/usr/bin/env bash
# Runs every test of Keyless: formatting, lints, unit tests, and the end-to-end tests against the
# local lab (emulated AWS endpoints on loopback, real OpenSSH sshd). Installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/deps.sh
need_core_deps

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> cargo test"
cargo test --workspace --locked
