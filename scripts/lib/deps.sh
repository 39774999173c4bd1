# Installs what Keyless needs on Debian 12 when it is missing. Sourced by run.sh and test.sh.
# Every step checks first, so a second run costs a few milliseconds.

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# apt packages, installed in one go if any is missing.
need_apt() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing apt packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# Rust with rustfmt and clippy (rustup when there is no cargo at all).
need_rust() {
  if [ -d "$HOME/.cargo/bin" ]; then PATH="$HOME/.cargo/bin:$PATH"; fi
  if ! command -v cargo >/dev/null 2>&1; then
    echo "==> installing Rust (rustup)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
    PATH="$HOME/.cargo/bin:$PATH"
  fi
  if command -v rustup >/dev/null 2>&1; then
    for c in rustfmt clippy; do
      rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
    done
  fi
  export PATH
}

# cargo-deny for scripts/check-advisories.sh, built with its own locked dependencies when missing
# or of another version: about 4.5 minutes on 2 cores, once per machine (CI: once per new machine).
CARGO_DENY_VERSION=0.20.2
need_cargo_deny() {
  need_rust
  if ! cargo deny --version 2>/dev/null | grep -qx "cargo-deny $CARGO_DENY_VERSION"; then
    echo "==> cargo install cargo-deny $CARGO_DENY_VERSION"
    cargo install --locked "cargo-deny@$CARGO_DENY_VERSION"
  fi
}

# What the core, the CLI and the lab need: a C toolchain, OpenSSH's sshd (the lab's instances),
# curl (their AuthorizedKeysCommand), and for the OpenSSH interop tests rsync and a Python venv
# (Ansible is pip-installed into it by the test).
need_core_deps() {
  need_apt build-essential pkg-config openssh-server openssh-client curl ca-certificates \
    rsync python3-venv
  need_rust
}

# The core's tests read the AWS config Keyless writes back with botocore, the AWS CLI's own
# parser: they pip-install it into a venv under the target dir, which needs python3's venv module.
need_test_deps() {
  need_apt python3 python3-venv
}

# The desktop app: WebKitGTK and friends for Tauri, Node.js for the UI build.
need_app_deps() {
  need_core_deps
  need_apt libwebkit2gtk-4.1-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev \
    libgtk-3-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev
  if ! command -v npm >/dev/null 2>&1; then need_apt nodejs npm; fi
}

# The UI's npm packages, reinstalled only when package-lock.json changed since the last install.
need_ui_packages() {
  local stamp=ui/node_modules/.keyless-lock-stamp
  if [ ! -f "$stamp" ] || ! cmp -s ui/package-lock.json "$stamp"; then
    # `npm install`, not `npm ci`: the lock cannot list @tauri-apps/cli's packages for other
    # platforms (this registry does not serve them), and `npm ci` refuses a lock without them.
    # `npm install` still installs exactly the locked versions.
    echo "==> npm install (ui)"
    npm --prefix ui install --no-audit --no-fund
    cp ui/package-lock.json "$stamp"
  fi
}
