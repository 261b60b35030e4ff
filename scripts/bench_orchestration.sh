#!/usr/bin/env bash
# Orchestration overhead: trials per second of `nas run` with the analytic
# evaluator (no training), so the store, the claim protocol and the strategy are
# all that is timed. With --optuna, also Optuna's SQLite storage on a trivial
# objective, side by side (needs `pip install optuna`).
#
#   scripts/bench_orchestration.sh [TRIALS] [--optuna]
#   scripts/bench_orchestration.sh postgres [TRIALS]
#
# `postgres`: a throwaway PostgreSQL server (scripts/postgres_server.sh), then
# trials/s of 1 and 4 `nas run` worker processes on one study there, and of
# Optuna's RDB storage on the same server with 1 and 4 processes (Optuna and
# psycopg2 installed into a venv under the cache on first use).
set -euo pipefail
if [ "${1:-}" = "postgres" ]; then
  exec "$(dirname "${BASH_SOURCE[0]}")/bench_orchestration_postgres.sh" "${2:-4000}"
fi
trials=${1:-5000}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
nas="$repo/target/release/nas"
[ -x "$nas" ] || (cd "$repo" && cargo build --release --quiet)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for jobs in 1 2; do
  start=$(date +%s%N)
  "$nas" --threads 1 run --space hybrid --evaluator analytic --trials "$trials" --jobs "$jobs" \
    --storage "$work/nas-$jobs.db" --study bench --json > "$work/out-$jobs.jsonl"
  end=$(date +%s%N)
  done_n=$(grep -c '"state":"complete"' "$work/out-$jobs.jsonl")
  ms=$(( (end - start) / 1000000 ))
  echo "nas    jobs=$jobs: $done_n trials in $ms ms = $(( done_n * 1000 / ms )) trials/s (SQLite WAL, process start included)"
done

if [ "${2:-}" = "--optuna" ]; then
  python3 - "$work/optuna.db" "$trials" <<'PY'
import sys, time, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
db, n = sys.argv[1], min(int(sys.argv[2]), 1000)
study = optuna.create_study(storage=f"sqlite:///{db}", study_name="bench",
                            sampler=optuna.samplers.RandomSampler(seed=0))
start = time.perf_counter()
study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=n)
s = time.perf_counter() - start
print(f"optuna {optuna.__version__} RandomSampler, SQLite: {n} trials in {s:.2f} s = {n/s:.0f} trials/s")
PY
fi
