#!/usr/bin/env bash
# End-to-end tests of the Keyless desktop app: the real app (target/debug/keyless-app, UI
# embedded) in a real window under Xvfb, driven over WebDriver (tauri-driver + WebKitWebDriver),
# against the local lab (emulated EC2/EIC on loopback, real OpenSSH sshd as instances).
# Installs what is missing, builds what is stale, runs `node --test`, exits non-zero on failure.
#   tests/e2e/run.sh                         # everything
#   tests/e2e/run.sh --test-name-pattern=42  # extra arguments go to node --test
#   tests/e2e/run.sh test/02-sessions.test.js  # only that file
# KEYLESS_E2E_NO_BUILD=1 skips the builds; KEYLESS_E2E_KEEP=1 keeps the app's private HOMEs.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$PWD"
. scripts/lib/deps.sh
. scripts/lib/build.sh
. tests/e2e/deps.sh
need_e2e_deps

if [ "${KEYLESS_E2E_NO_BUILD:-}" != "1" ]; then
  echo "==> building the UI, the app, the CLI and the lab (debug)"
  build_binaries
fi

# Every process this run starts inherits this marker, so leftovers can be found (and only ours).
# (Not exported: this shell and its $(…) subshells must not carry it.)
run_id="keyless-e2e-$$-$RANDOM"

leftovers() {
  local pids=() p
  for p in /proc/[0-9]*; do
    p="${p#/proc/}"
    [ "$p" = "$$" ] && continue
    if tr "\\0" "\\n" 2>/dev/null <"/proc/$p/environ" | grep -qx "KEYLESS_E2E_RUN_ID=$run_id"; then
      pids+=("$p")
    fi
  done
  echo "${pids[@]:-}"
}

# Test files named on the command line run alone; otherwise every file under test/.
files=(test/)
for a in "$@"; do case "$a" in *.test.js) files=() ;; esac; done

echo "==> node --test (under Xvfb)"
status=0
(cd "$repo/tests/e2e" && KEYLESS_E2E_RUN_ID="$run_id" xvfb-run -a -s "-screen 0 1280x800x24" \
  node --test --test-concurrency=1 --test-timeout=600000 "$@" "${files[@]}") || status=$?

left="$(leftovers)"
if [ -n "$left" ]; then
  echo "==> LEFTOVER processes of this run (killing them):"
  for p in $left; do ps -o pid=,comm=,args= -p "$p" 2>/dev/null || true; done
  for p in $left; do kill -KILL "$p" 2>/dev/null || true; done
  [ "$status" -ne 0 ] || status=1
fi
echo "==> screenshots: tests/e2e/screenshots/"
exit "$status"
