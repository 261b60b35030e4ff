#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU (under 5 minutes on one):
#  1. builds nas against the CUDA libtorch (scripts/setup.sh --cuda),
#  2. trains the default design 20 steps on the CPU and on the GPU from the
#     same seed and compares the 20 training losses (kernels differ, so they
#     agree to a tolerance, not bit for bit),
#  3. prints `nas bench` tokens/s on the GPU for AAAAAA, SSSSSS and SSSASS at
#     d512, T2048.
# Writes everything it prints to $OUT/gpu_check.txt as well when OUT is set.
#
#   scripts/gpu_check.sh
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
log=${OUT:-$(mktemp -d)}/gpu_check.txt
exec > >(tee "$log") 2>&1

echo "== nvidia-smi"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true

echo "== set-up and build with CUDA"
./scripts/setup.sh --cuda
cargo build --release --quiet
nas=$repo/target/release/nas
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== first 20 training losses, CPU against GPU"
for device in cpu cuda; do
  "$nas" train --device "$device" --steps 20 --eval-interval 1 --eval-batches 1 --seed 3 \
    --json --out "$work/$device" > "$work/$device.json"
done
python3 - "$work/cpu.json" "$work/cuda.json" <<'PY'
import json, sys
cpu, gpu = (json.load(open(p))["report"]["curve"] for p in sys.argv[1:])
worst = 0.0
for a, b in zip(cpu, gpu):
    diff = abs(a["train_loss"] - b["train_loss"])
    worst = max(worst, diff / abs(a["train_loss"]))
    print(f"step {a['step']:>2}  cpu {a['train_loss']:.5f}  gpu {b['train_loss']:.5f}  |diff| {diff:.2e}")
print(f"largest relative difference {worst:.2e}: {'OK' if worst < 2e-2 else 'MISMATCH'}")
sys.exit(0 if worst < 2e-2 and len(cpu) == len(gpu) == 20 else 1)
PY

echo "== bench on the GPU: d512, T2048"
for arch in AAAAAA SSSSSS SSSASS; do
  "$nas" bench --device cuda --arch "$arch" --d 512 --T 2048 --B 4 --steps 10 --warmup 3
done
