#!/usr/bin/env bash
# Runs Keyless. With AWS credentials configured it lists your instances (any arguments go to
# `keyless`, e.g. `scripts/run.sh ssh web`). Without, it starts the local lab — emulated EC2 and
# EC2 Instance Connect on loopback with real sshd instances — and opens a shell on one of them.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/deps.sh
need_core_deps

echo "==> building keyless"
cargo build --quiet -p keyless-cli -p keyless-lab --bins
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug"

has_aws_credentials() {
  [ -n "${AWS_ACCESS_KEY_ID:-}${AWS_PROFILE:-}${AWS_CONTAINER_CREDENTIALS_FULL_URI:-}${AWS_WEB_IDENTITY_TOKEN_FILE:-}" ] ||
    [ -s "${AWS_CONFIG_FILE:-$HOME/.aws/config}" ] || [ -s "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}" ]
}

if [ "${KEYLESS_LAB:-}" != "1" ] && has_aws_credentials; then
  if [ $# -eq 0 ]; then set -- ls; fi
  exec "$bin/keyless" "$@"
fi

state="${XDG_STATE_HOME:-$HOME/.local/state}/keyless-lab/run"
echo "==> no AWS credentials configured: starting the local lab"
"$bin/keyless-lab" down --state-dir "$state" >/dev/null 2>&1 || true
"$bin/keyless-lab" up --state-dir "$state" >/dev/null
trap '"$bin/keyless-lab" down --state-dir "$state" >/dev/null' EXIT
set -a; . "$state/env"; set +a
# The lab's instances take ec2-user when it runs as root, else the current user (unprivileged sshd).
if [ "$(id -u)" -eq 0 ]; then user=ec2-user; else user="$(id -un)"; fi

"$bin/keyless" ls --region us-east-1 --region eu-west-1
echo
if [ $# -gt 0 ]; then
  "$bin/keyless" "$@"
elif [ -t 0 ]; then
  echo "==> keyless ssh $user@db-primary   (a one-time key is pushed; type 'exit' to leave)"
  "$bin/keyless" ssh "$user@db-primary" --host-key-policy ask || true
else
  "$bin/keyless" ssh "$user@db-primary" --host-key-policy accept-new -- 'echo "connected to $(hostname) as $(whoami) with a one-time key"'
fi
