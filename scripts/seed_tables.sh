#!/usr/bin/env bash
# The lecture's tables, measured: runs the bundled grid studies (seed-compare:
# 5.1, seed-ratio: 5.2.1, seed-placement: 5.2.2; three seeds per design) one
# after the other on one store, then prints each study's `nas report`.
#
#   scripts/seed_tables.sh [STORE] [SPACE ...]
#       (default runs/seed-tables.db and all three spaces)
#
# A grid study resumes: a stopped run trains only the pairs it is missing.
# On 2 cores: seed-compare 9 trials, seed-ratio and seed-placement 15 each,
# 1-2 minutes a trial.
set -euo pipefail
store=${1:-runs/seed-tables.db}
shift || true
spaces=("$@")
[ ${#spaces[@]} -gt 0 ] || spaces=(seed-compare seed-ratio seed-placement)
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
nas=${NAS:-$repo/target/release/nas}
[ -x "$nas" ] || (cd "$repo" && cargo build --release --quiet)

for space in "${spaces[@]}"; do
  "$nas" run --space "$space" --storage "$store"
done
for space in "${spaces[@]}"; do
  "$nas" report --study "$space" --storage "$store"
  echo
done
