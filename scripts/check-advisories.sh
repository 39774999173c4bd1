#!/usr/bin/env bash
# cargo-deny over Cargo.lock, offline: RustSec advisories from the checked-in snapshot
# (third_party/rustsec-advisory-db, see its SNAPSHOT file) and crate sources (crates.io only),
# with the policy in deny.toml. Neither this machine nor CI reaches GitHub, where the database
# lives, so the database is never fetched (crates are, from crates.io, below).
set -euo pipefail
cd "$(dirname "$0")/.."
snap=third_party/rustsec-advisory-db
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
# cargo-deny 0.20 keeps a database in <db-path>/<last URL segment>-<hash of the URL>: this is
# the directory of its default URL, https://github.com/rustsec/advisory-db. It must be a git
# repository: cargo-deny dates the database by .git/FETCH_HEAD (else the HEAD commit).
db="$root/advisory-db-3157b0e258782691"
mkdir -p "$db"
cp -r "$snap/crates" "$db/"
date=$(sed -n 's/^date: //p' "$snap/SNAPSHOT")
git -C "$db" init -q
git -C "$db" add -A
GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date \
  git -C "$db" -c user.name=snapshot -c user.email=snapshot@localhost commit -q -m snapshot
# The snapshot's own date, so the staleness limit in deny.toml measures the copy, not this run.
touch "$db/.git/FETCH_HEAD"
touch -d "$date" "$db/.git/FETCH_HEAD"
# cargo-deny reads the metadata of every crate in Cargo.lock, other platforms' too (winapi, …),
# which a Linux build never downloads: on a fresh machine `--offline` would fail without this.
cargo fetch --locked --quiet
KEYLESS_ADVISORY_DB_ROOT="$root" cargo deny --offline --locked check advisories sources
