#!/usr/bin/env bash
# Builds the installable packages: a .deb and an .rpm holding the desktop app (/usr/bin/keyless-app),
# the `keyless` CLI (/usr/bin/keyless), a desktop entry and icons, through Tauri's bundler (offline:
# no AppImage, whose tools are downloaded at build time). Prints the packages' paths.
#   scripts/package.sh           # release build
#   scripts/package.sh --debug   # unoptimised, quicker (what the package test installs)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/deps.sh
need_app_deps
need_ui_packages

profile=release
cargo_flags=(--release)
tauri_flags=()
if [ "${1:-}" = "--debug" ]; then
  profile=debug
  cargo_flags=()
  tauri_flags=(--debug)
fi
# Nothing here is rebuilt piecemeal: no incremental caches (they take gigabytes).
export CARGO_INCREMENTAL=0
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"

echo "==> building the UI and the keyless CLI ($profile)"
npm --prefix ui run --silent build >/dev/null
cargo build --quiet "${cargo_flags[@]}" -p keyless-cli --bin keyless

# The packaging settings live here, not in tauri.conf.json, so ordinary builds never bundle.
config="$(mktemp --suffix=.json)"
trap 'rm -f "$config"' EXIT
python3 - "$config" "$target/$profile/keyless" <<'PY'
import json, sys
path, cli = sys.argv[1], sys.argv[2]
files = {"/usr/bin/keyless": cli}
json.dump({
    "build": {"beforeBuildCommand": ""},
    "bundle": {
        "active": True,
        "targets": ["deb", "rpm"],
        "category": "DeveloperTool",
        "shortDescription": "Shell on AWS EC2 instances with one-time keys",
        "longDescription": "Keyless lists the EC2 instances your AWS identity may see and opens a "
                           "shell on them with EC2 Instance Connect: a fresh key in memory for every "
                           "connection, never a key file. Includes the keyless command-line tool.",
        "linux": {
            "deb": {"files": files, "depends": ["openssh-client"]},
            "rpm": {"files": files, "depends": ["openssh-clients"]},
        },
    },
}, open(path, "w"))
PY
echo "==> bundling (.deb, .rpm)"
ui/node_modules/.bin/tauri build "${tauri_flags[@]}" --config "$config" >&2
ls -1 "$target/$profile/bundle/deb/"*.deb "$target/$profile/bundle/rpm/"*.rpm
