#!/usr/bin/env bash
# Runs the Keyless desktop app. With AWS credentials configured it shows your instances. Without,
# the app opens on its first-run view (add an IAM Identity Center sign-in, use access keys, or try
# the demo lab); choosing the lab ends the app with exit code 10, and this script then starts the
# local lab — emulated EC2 and EC2 Instance Connect on loopback with real sshd instances — and the
# app again in it, so the whole flow works without an AWS account. KEYLESS_LAB=1 goes straight to
# the lab. Without a display it falls back to the `keyless` CLI on the lab (any arguments go to
# it, e.g. `scripts/run.sh ssh web`).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/deps.sh
. scripts/lib/build.sh
need_app_deps
need_ui_packages

echo "==> building Keyless"
build_binaries
bin="$(target_dir)/debug"

has_aws_credentials() {
  [ -n "${AWS_ACCESS_KEY_ID:-}${AWS_PROFILE:-}${AWS_CONTAINER_CREDENTIALS_FULL_URI:-}${AWS_WEB_IDENTITY_TOKEN_FILE:-}" ] ||
    [ -s "${AWS_CONFIG_FILE:-$HOME/.aws/config}" ] || [ -s "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}" ]
}
has_display() { [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; }

if [ "${KEYLESS_LAB:-}" != "1" ] && has_aws_credentials; then
  if [ $# -gt 0 ] || ! has_display; then exec "$bin/keyless" "${@:-ls}"; fi
  exec "$bin/keyless-app"
fi

# The app's first-run view offers the lab only when started from here (KEYLESS_OFFER_LAB=1): the
# lab binary is part of this source tree, not of the app. Exit code 10 = "Try the demo lab".
if [ "${KEYLESS_LAB:-}" != "1" ] && has_display && [ $# -eq 0 ]; then
  echo "==> no AWS credentials configured: starting the app on its first-run view"
  status=0
  KEYLESS_OFFER_LAB=1 "$bin/keyless-app" || status=$?
  [ "$status" -eq 10 ] || exit "$status"
fi

state="${XDG_STATE_HOME:-$HOME/.local/state}/keyless-lab/run"
echo "==> starting the local lab"
"$bin/keyless-lab" down --state-dir "$state" >/dev/null 2>&1 || true
"$bin/keyless-lab" up --state-dir "$state" >/dev/null
trap '"$bin/keyless-lab" down --state-dir "$state" >/dev/null' EXIT
set -a; . "$state/env"; set +a
export KEYLESS_REGIONS=us-east-1,eu-west-1
# The lab keeps its instance ids and host keys from run to run; its saved profiles and trusted
# host keys live beside it, apart from the ones you use with AWS.
export KEYLESS_CONFIG_DIR="$(dirname "$state")/app-config" KEYLESS_DATA_DIR="$(dirname "$state")/app-data"
# The lab's instances take ec2-user when it runs as root, else the current user (unprivileged sshd).
if [ "$(id -u)" -eq 0 ]; then user=ec2-user; else user="$(id -un)"; fi

if has_display && [ $# -eq 0 ]; then
  echo "==> starting the app: double-click db-primary, user $user"
  "$bin/keyless-app"
  exit
fi
"$bin/keyless" ls --region us-east-1 --region eu-west-1
echo
if [ $# -gt 0 ]; then
  "$bin/keyless" "$@"
elif [ -t 0 ]; then
  echo "==> no display: keyless ssh $user@db-primary (a one-time key is pushed; 'exit' to leave)"
  "$bin/keyless" ssh "$user@db-primary" --host-key-policy ask || true
else
  "$bin/keyless" ssh "$user@db-primary" --host-key-policy accept-new -- 'echo "connected to $(hostname) as $(whoami) with a one-time key"'
fi
