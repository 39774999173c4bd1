#!/usr/bin/env bash
# Runs every test of Keyless: formatting, lints, the UI's type check and unit tests, the Rust
# unit and end-to-end tests against the local lab (emulated AWS endpoints on loopback, real
# OpenSSH sshd), and the desktop app driven in its real window under Xvfb. Installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/deps.sh
need_app_deps
need_test_deps
need_ui_packages

echo "==> ui: type check, unit tests, build"
npm --prefix ui run check
npm --prefix ui test
npm --prefix ui run build

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> cargo deny: RustSec advisories (checked-in snapshot) and crate sources"
need_cargo_deny
bash scripts/check-advisories.sh
echo "==> cargo test"
cargo test --workspace --locked

echo "==> the app in its window (tauri-driver + WebKitWebDriver under Xvfb)"
bash tests/e2e/run.sh
