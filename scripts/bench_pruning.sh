#!/usr/bin/env bash
# Early stopping replayed on the default space: trains TRIALS designs of
# search_spaces/hybrid.toml to its full 300 steps once, with the validation
# loss every 33 steps (the default rungs are 33 and 99 at η = 3), into a store
# that is kept and reused (runs/pruning-replay.db: 66 min on 2 cores for
# 60 designs); then `nas replay` compares ASHA and Hyperband with random search
# over ORDERS random orders, ranked at a rung with the cost (MO-ASHA) and by the
# loss alone. Replay counts training steps, so machine load does not change its
# numbers; the training does take longer on a busy machine.
#
#   scripts/bench_pruning.sh [TRIALS] [ORDERS]
#   scripts/bench_pruning.sh 60 20
#
# Live: one ASHA study and one random study of the default space, each given
# HOURS of trial time (--budget-hours, one job each, run one after the other
# so that they never share the cores), into runs/pruning-live.db; then both
# fronts with one hypervolume reference point.
#
#   scripts/bench_pruning.sh live [HOURS]
#   scripts/bench_pruning.sh live 0.5
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
nas="$repo/target/release/nas"
(cd "$repo" && cargo build --release --quiet)
cd "$repo"
mkdir -p runs

if [ "${1:-}" = live ]; then
  hours=${2:-0.5}
  db=runs/pruning-live.db
  for pruner in asha none; do
    # --trials only bounds the study; the compute budget ends it.
    "$nas" run --space hybrid --study "live-$pruner" --pruner "$pruner" --trials 2000 \
      --budget-hours "$hours" --storage "$db"
  done
  "$nas" studies --storage "$db"
  "$nas" pareto --study live-asha --study live-none --storage "$db"
  exit 0
fi

trials=${1:-60}
orders=${2:-20}
space=runs/pruning-replay.toml
# The default space, evaluated every 33 steps, under its own study name.
sed -e 's/^name = "hybrid"/name = "replay"/' -e 's/^eval_interval = 100/eval_interval = 33/' \
  search_spaces/hybrid.toml > "$space"
"$nas" run --space "$space" --trials "$trials" --storage runs/pruning-replay.db
for ranking in "" --by-loss; do
  echo
  "$nas" replay --study replay --storage runs/pruning-replay.db --orders "$orders" $ranking
done
