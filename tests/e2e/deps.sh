# What the desktop end-to-end tests and the app bench need, installed when missing (Debian 12).
# Sourced by tests/e2e/run.sh and scripts/bench-app.sh, from the repo root, after scripts/lib/deps.sh.

# npm ci when node_modules is missing or older than the lock file.
npm_ci_if_needed() {
  local dir="$1"
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "==> npm ci ($dir)"
    npm --prefix "$dir" ci --no-audit --no-fund --loglevel=error
  fi
}

need_e2e_deps() {
  need_core_deps
  need_apt libwebkit2gtk-4.1-dev build-essential libssl-dev libayatana-appindicator3-dev librsvg2-dev \
    libxdo-dev webkit2gtk-driver xvfb xauth xdotool xclip x11-apps
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    need_apt nodejs npm
  fi
  if [ -d "$HOME/.cargo/bin" ]; then PATH="$HOME/.cargo/bin:$PATH"; fi
  if ! command -v tauri-driver >/dev/null 2>&1; then
    echo "==> cargo install tauri-driver --locked"
    cargo install tauri-driver --locked --quiet
  fi
  export PATH
  npm_ci_if_needed tests/e2e
  need_ui_packages  # scripts/lib/deps.sh: npm install, see there why not npm ci
}
