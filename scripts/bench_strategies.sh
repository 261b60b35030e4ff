#!/usr/bin/env bash
# Random search against aging evolution (and Optuna's NSGA-II through `nas
# eval`, when optuna is installed) on the analytic objective of the default
# space: TRIALS trials for each of SEEDS seeds, hypervolume of each study's
# front against one shared reference point, reported as mean ± standard
# deviation. Also draws the seed-0 fronts in one plot.
#
#   scripts/bench_strategies.sh [TRIALS=200] [SEEDS=5]
set -euo pipefail
trials=${1:-200}
seeds=${2:-5}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
cargo build --release --quiet
nas="$repo/target/release/nas"
out=runs/bench-strategies
rm -rf "$out" && mkdir -p "$out"
db="$out/studies.db"
strategies="random evolution"
python3 -c "import optuna" 2>/dev/null && strategies="$strategies optuna" ||
  echo "optuna not installed: skipping the Optuna NSGA-II comparison (pip install optuna)" >&2

studies=()
for s in $(seq 0 $((seeds - 1))); do
  for strat in $strategies; do
    name="$strat-s$s"
    start=$(date +%s%N)
    if [ "$strat" = optuna ]; then
      python3 scripts/optuna_nsga2.py --nas "$nas" --storage "$db" --study "$name" \
        --trials "$trials" --seed "$s" > "$out/$name.log"
    else
      "$nas" --threads 1 run --space hybrid --evaluator analytic --strategy "$strat" \
        --trials "$trials" --seed "$s" --study "$name" --storage "$db" --json > "$out/$name.log"
    fi
    echo "$name: $(( ($(date +%s%N) - start) / 1000000 )) ms" >&2
    studies+=(--study "$name")
  done
done

"$nas" pareto --storage "$db" "${studies[@]}" --json > "$out/fronts.jsonl"
python3 - "$out/fronts.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ref = rows[0]["reference"]
print(f"hypervolume (val_ppl x {rows[0]['cost']}), reference cost {ref['cost']:.4g}, val ppl {ref['val_ppl']:.4g}:")
by = {}
for r in rows:
    by.setdefault(r["study"].rsplit("-s", 1)[0], []).append((r["hypervolume"], r["complete"], len(r["front"])))
for strat, v in by.items():
    hv = [x[0] for x in v]
    sd = statistics.stdev(hv) if len(hv) > 1 else 0.0
    print(f"  {strat:<10} {statistics.mean(hv):.5g} ± {sd:.3g}  (n={len(hv)}, min {min(hv):.5g}, max {max(hv):.5g}; "
          f"complete trials {statistics.mean(x[1] for x in v):.0f}, front size {statistics.mean(x[2] for x in v):.1f})")
PY
plot_studies=()
for strat in $strategies; do plot_studies+=(--study "$strat-s0"); done
"$nas" pareto --storage "$db" "${plot_studies[@]}" --plot "$out/fronts-seed0.png" > /dev/null
