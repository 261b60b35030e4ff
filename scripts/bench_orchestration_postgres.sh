#!/usr/bin/env bash
# Orchestration on PostgreSQL (see bench_orchestration.sh): nas and Optuna,
# 1 and 4 worker processes each, one study per run, on one throwaway server.
# Both sides use the same server and settings (loopback, fsync off: a benchmark
# of the protocol, not of the disk). Run it with nothing else on the machine.
#
#   scripts/bench_orchestration_postgres.sh [TRIALS]
set -euo pipefail
trials=${1:-4000}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
nas="$repo/target/release/nas"
[ -x "$nas" ] || (cd "$repo" && cargo build --release --quiet)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/hybrid-nas
venv=$cache/optuna-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import optuna, psycopg2' 2>/dev/null; then
  echo "installing optuna and psycopg2-binary into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check optuna psycopg2-binary
fi
work=$(mktemp -d /tmp/nas-bench-pg-XXXXXX)
port=$((57000 + $$ % 1000))
# Not under $work: the server's own user must reach its folder.
pg=/tmp/nas-bench-postgres-$$
admin=$("$repo/scripts/postgres_server.sh" start "$pg" "$port")
trap '"$repo/scripts/postgres_server.sh" stop "$pg"; rm -rf "$work" "$pg"' EXIT
base=${admin%/postgres}
sql() { "$venv/bin/python" -c "
import psycopg2, sys
c = psycopg2.connect(sys.argv[1]); c.autocommit = True
c.cursor().execute(sys.argv[2])" "$admin" "$1"; }

echo "cores: $(nproc); server: PostgreSQL on loopback, $trials trials per run"
for workers in 1 4; do
  db=nas_$workers
  sql "CREATE DATABASE $db"
  url="$base/$db"
  # The study first, so that every worker continues the same one.
  "$nas" --threads 1 run --space hybrid --evaluator analytic --study bench --trials 1 \
    --storage "$url" --json > /dev/null
  start=$(date +%s%N)
  pids=()
  for i in $(seq 1 "$workers"); do
    "$nas" --threads 1 run --space hybrid --evaluator analytic --study bench \
      --trials "$trials" --storage "$url" --json > "$work/nas-$workers-$i.jsonl" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  end=$(date +%s%N)
  done_n=$(cat "$work"/nas-"$workers"-*.jsonl | grep -c '"state":"complete"' || true)
  ms=$(( (end - start) / 1000000 ))
  echo "nas    workers=$workers: $done_n trials in $ms ms = $(( done_n * 1000 / ms )) trials/s (process start included)"
done

for workers in 1 4; do
  db=optuna_$workers
  sql "CREATE DATABASE $db"
  url="postgresql+psycopg2://${base#postgres://}/$db"
  "$venv/bin/python" - "$url" "$trials" "$workers" <<'PY'
import multiprocessing as mp, sys, time
import optuna

def work(url, n):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="bench", storage=url,
                              sampler=optuna.samplers.RandomSampler())
    study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=n)

if __name__ == "__main__":
    url, n, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.create_study(study_name="bench", storage=url)
    start = time.perf_counter()
    procs = [mp.Process(target=work, args=(url, n // workers)) for _ in range(workers)]
    for p in procs: p.start()
    for p in procs: p.join()
    s = time.perf_counter() - start
    done = len(optuna.load_study(study_name="bench", storage=url).trials)
    print(f"optuna {optuna.__version__} workers={workers}: {done} trials in {s*1000:.0f} ms "
          f"= {done/s:.0f} trials/s (RandomSampler, RDB storage, process start included)")
PY
done
