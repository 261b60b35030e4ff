#!/usr/bin/env bash
# The attention-ratio ablation, measured: r = 0, 1/8, 1/4, 1/2, 1 at 8 layers,
# d_model 64 (attention spread uniformly, as Jamba-style stacks place it),
# each trained as a trial of the
# bundled `recall` space (the text model on the default corpus, and an MQAR
# model at the space's two difficulties) for SEEDS seeds. Prints one row per
# design: mean ± sd of validation perplexity and of MQAR accuracy per
# difficulty, KV-cache bytes and FLOPs per token (cost model), and the seconds
# each model trained.
#
#   scripts/ablation_ratio.sh [SEEDS] [STORE]     (default 3 seeds, runs/ablation.db)
#
# Each (design, seed) is one `nas eval --study ratio-s<seed>` trial, so a run
# that is stopped continues where it was: recorded trials are answered from
# the store.
set -euo pipefail
seeds=${1:-3}
store=${2:-runs/ablation.db}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
nas=${NAS:-$repo/target/release/nas}
[ -x "$nas" ] || (cd "$repo" && cargo build --release --quiet)

designs=(
  "d64 S16 S16 S16 S16 S16 S16 S16 S16"
  "d64 S16 S16 S16 S16 A4 S16 S16 S16"
  "d64 S16 S16 A4 S16 S16 S16 A4 S16"
  "d64 S16 A4 S16 A4 S16 A4 S16 A4"
  "d64 A4 A4 A4 A4 A4 A4 A4 A4"
)
out=$(mktemp)
trap 'rm -f "$out" "$out.one"' EXIT
for seed in $(seq 0 $((seeds - 1))); do
  for arch in "${designs[@]}"; do
    echo "seed $seed: $arch" >&2
    if ! "$nas" --threads 2 eval --space recall --arch "$arch" --seed "$seed" \
      --study "ratio-s$seed" --trials 100 --storage "$store" > "$out.one"; then
      echo "nas eval failed for $arch: $(tail -n 1 "$out.one")" >&2
      exit 1
    fi
    tail -n 1 "$out.one" >> "$out"
  done
done
python3 - "$out" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows.setdefault(r["arch"], []).append(r["metrics"])
def ms(values):
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"
keys = sorted({k for ms_ in rows.values() for m in ms_ for k in m if k.startswith("recall_acc/")})
print("| design | attention ratio | val ppl | " + " | ".join("MQAR " + k.split("/")[-1] + " pairs" for k in keys)
      + " | KV cache bytes | FLOPs/token | text s | recall s |")
print("|---" * (7 + len(keys)) + "|")
for arch, ms_ in rows.items():
    layers = arch.split()[1:]
    layers = [l for l in layers if l != "rope"]
    ratio = sum(l.startswith("A") for l in layers) / len(layers)
    m0 = ms_[0]
    print(f"| `{arch}` | {ratio:.3f} | {ms([m['val_ppl'] for m in ms_])} | "
          + " | ".join(ms([m[k] for m in ms_]) for k in keys)
          + f" | {m0['kv_cache_bytes']:.0f} | {m0['flops_per_token']:.3g} | "
          + f"{statistics.mean(m['train_seconds'] for m in ms_):.0f} | "
          + f"{statistics.mean(m['recall_seconds'] for m in ms_):.0f} |")
print(f"\n{len(ms_)} seed(s) per design")
PY
