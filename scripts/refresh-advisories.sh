#!/usr/bin/env bash
# Replaces the checked-in RustSec advisory snapshot (third_party/rustsec-advisory-db) with the
# crates/ advisories of a clone of https://github.com/rustsec/advisory-db (a bare clone works):
#   scripts/refresh-advisories.sh ~/src/advisory-db
# Neither this machine nor CI can reach GitHub, so the check (scripts/check-advisories.sh) runs
# against the copy; refresh it at least every few months (deny.toml's maximum-db-staleness).
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:?usage: scripts/refresh-advisories.sh PATH-TO-advisory-db-CLONE}
dest=third_party/rustsec-advisory-db
rm -rf "$dest/crates"
git -C "$src" archive HEAD crates | tar -x -C "$dest"
git -C "$src" show HEAD:LICENSE.txt > "$dest/LICENSE.txt"
{
  sed -n '/^#/p' "$dest/SNAPSHOT"
  echo "commit: $(git -C "$src" rev-parse HEAD)"
  echo "date: $(TZ=UTC git -C "$src" log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd HEAD)"
} > "$dest/SNAPSHOT.new"
mv "$dest/SNAPSHOT.new" "$dest/SNAPSHOT"
echo "advisories: $(find "$dest/crates" -name '*.md' | wc -l) files, $(grep '^commit' "$dest/SNAPSHOT")"
