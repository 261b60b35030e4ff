#!/usr/bin/env bash
# Processes of one host on one study: P `nas run` processes started together on
# a study of the bundled `tiny` space (real training, 50 steps a trial) with a
# budget of TRIALS, timed until the last exits; trials per hour of the host.
# Extra arguments go to every `nas run` (e.g. `--threads 1`), and the
# environment passes through, so `OMP_WAIT_POLICY=PASSIVE scripts/...` measures
# the OpenMP wait policy. Run it with nothing else on the machine.
#
#   scripts/bench_host_sharing.sh [TRIALS] [PROCESSES...] [-- NAS_RUN_ARGS...]
#   scripts/bench_host_sharing.sh 24 1 2 4
#   OMP_WAIT_POLICY=PASSIVE scripts/bench_host_sharing.sh 24 2 4
set -euo pipefail
trials=${1:-24}
shift || true
procs=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do procs+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#procs[@]} -gt 0 ] || procs=(1 2 4)
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
nas="$repo/target/release/nas"
[ -x "$nas" ] || (cd "$repo" && cargo build --release --quiet)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "cores: $(nproc), OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset}, extra args: ${*:-none}"
for p in "${procs[@]}"; do
  db="$work/p$p.db"
  start=$(date +%s%N)
  pids=()
  for i in $(seq 1 "$p"); do
    "$nas" run --space tiny --study host --trials "$trials" --storage "$db" --json "$@" \
      > "$work/p$p-$i.jsonl" 2> "$work/p$p-$i.err" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  end=$(date +%s%N)
  done_n=$(cat "$work"/p"$p"-*.jsonl | grep -c '"state":"complete"' || true)
  s=$(( (end - start) / 1000000 ))
  echo "processes=$p: $done_n trials in $(( s / 1000 )).$(( s % 1000 / 100 )) s = $(( done_n * 3600000 / s )) trials/hour"
done
