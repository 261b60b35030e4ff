#!/usr/bin/env bash
# Checks scripts/reference_model.py against nas: trains small models of every
# layer kind with `nas train`, then has the PyTorch reference score the same
# validation windows from the checkpoint, to 1e-4 of nas's loss.
#
# Python torch (the full CUDA wheel of PyPI with its dependencies, about 4.7 GB;
# only its CPU part is used) is installed into the cache on first use, outside
# any Python environment. .ci/run runs this after the tests.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/hybrid-nas
python=${PYTHON:-python3}
say() { printf 'check_reference: %s\n' "$*" >&2; }

TORCH_VERSION=2.13.0
site=$cache/torch-python-$TORCH_VERSION
if [ ! -f "$site/.complete" ]; then
  say "installing torch==$TORCH_VERSION, numpy and safetensors into $site"
  rm -rf "$site.partial"
  "$python" -m pip install --quiet --disable-pip-version-check --no-warn-conflicts \
    --target "$site.partial" "torch==$TORCH_VERSION" numpy safetensors
  rm -rf "$site"
  mv "$site.partial" "$site"
  touch "$site/.complete"
fi

cd "$repo"
cargo build --quiet --bin nas
nas=${CARGO_TARGET_DIR:-$repo/target}/debug/nas
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Global, windowed and shared attention, SSM with expand 1 and 2; then rotary
# positions and an MLP ratio of 2; then parallel layers, global and windowed.
# Sequence lengths not multiples of the SSD chunk (32), and one of four
# chunks, so the state carried across chunks counts.
designs=(
  "d64 S8e1 A4 S16 A4w16 A2* S8 A2*|128"
  "d64 rope S16 A4w8 S8e1 A4 m2|70"
  "d64 S8 P4/16 P2w16/8e1 S16|100"
)
status=0
for entry in "${designs[@]}"; do
  arch=${entry%|*}
  seq_len=${entry#*|}
  out=$work/$(echo "$arch" | tr -c 'A-Za-z0-9' _)
  "$nas" --threads 2 train --arch "$arch" --steps 40 --batch 8 --seq-len "$seq_len" \
    --out "$out" --json > /dev/null
  if ! PYTHONPATH=$site "$python" scripts/reference_model.py eval "$out" --tol 1e-4; then
    say "FAILED: $arch"
    status=1
  fi
done
exit $status
