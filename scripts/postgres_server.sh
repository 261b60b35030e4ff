#!/usr/bin/env bash
# A throwaway PostgreSQL server for the store tests and benchmarks: a fresh
# cluster in a folder of its own, on a loopback port, trusting local
# connections, never the system's cluster.
#
#   scripts/postgres_server.sh start [DIR] [PORT]   # prints the admin URL
#   scripts/postgres_server.sh stop  [DIR]
#   scripts/postgres_server.sh restart [DIR]        # fast: drops every connection
#
# Installs Debian's postgresql package when no server binaries are found (as
# root, or with sudo). PostgreSQL refuses to run as root, so as root the
# cluster belongs to the `postgres` user the package creates.
set -euo pipefail

action=${1:?usage: postgres_server.sh start|stop|restart [DIR] [PORT]}
dir=${2:-${TMPDIR:-/tmp}/nas-postgres}
port=${3:-55432}
say() { printf 'postgres_server: %s\n' "$*" >&2; }

bin_dir() {
  local initdb
  initdb=$(command -v initdb 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$initdb" ] && dirname "$(readlink -f "$initdb")"
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
  start)
    bin=$(bin_dir || true)
    if [ -z "$bin" ]; then
      say "installing Debian's postgresql package"
      sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
      $sudo apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >&2
      bin=$(bin_dir)
    fi
    if [ -f "$dir/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      say "already running in $dir"
    else
      rm -rf "$dir"
      mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres: "$dir"
      as_owner "$bin/initdb" -D "$dir/data" -U nas -A trust --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
      # Loopback only; many connections, for the many-worker tests.
      as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" \
        start >&2 || { cat "$dir/server.log" >&2; exit 1; }
    fi
    echo "postgres://nas@127.0.0.1:$port/postgres"
    ;;
  stop)
    bin=$(bin_dir)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast stop >&2 || true
    ;;
  restart)
    bin=$(bin_dir)
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w restart >&2
    ;;
  *)
    say "unknown action $action (start, stop or restart)"; exit 2 ;;
esac
