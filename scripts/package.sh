#!/usr/bin/env bash
# Builds the installable packages: a .deb and an .rpm holding the desktop app (/usr/bin/keyless-app),
# the `keyless` CLI (/usr/bin/keyless), a desktop entry and icons, through Tauri's bundler (offline:
# no AppImage, whose tools are downloaded at build time). Prints the packages' paths.
#   scripts/package.sh           # release build
#   scripts/package.sh --debug   # unoptimised, quicker (what the package test installs)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/deps.sh
. scripts/lib/build.sh
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
target="$(target_dir)"

# The binaries come from the build every script shares (after the e2e tests or run.sh, a debug
# package costs no compile); `tauri bundle` then only packages what is there.
echo "==> building the UI, the app and the keyless CLI ($profile)"
build_binaries "${cargo_flags[@]}"

# The packaging settings live here, not in tauri.conf.json, so ordinary builds never bundle.
config="$(mktemp --suffix=.json)"
trap 'rm -f "$config"' EXIT
python3 - "$config" "$target/$profile/keyless" <<'PY'
import json, sys
path, cli = sys.argv[1], sys.argv[2]
files = {"/usr/bin/keyless": cli}
json.dump({
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
ui/node_modules/.bin/tauri bundle "${tauri_flags[@]}" --bundles deb,rpm --config "$config" >&2
ls -1 "$target/$profile/bundle/deb/"*.deb "$target/$profile/bundle/rpm/"*.rpm
