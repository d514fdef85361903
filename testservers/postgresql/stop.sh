#!/usr/bin/env bash
# Stops a private PostgreSQL instance:  testservers/postgresql/stop.sh NAME [--wipe]
# pg_ctl stop -m fast first; should that fail, the postmaster's children and then the postmaster are killed.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
source "$here/common.sh"
name=${1:-}; [ -n "$name" ] || die "usage: stop.sh NAME [--wipe]"
valid_name "$name"
dir=$(pg_instance_dir "$name")
if pid=$(pg_live_pid "$dir/data"); then
  if ! { bin=$(pg_bin_for_data "$dir/data") && as_pg "$bin/pg_ctl" stop -D "$dir/data" -m fast -w -t 20 >/dev/null 2>&1; }; then
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    # Backends still attached to the shared memory would stop the next start: kill them too.
    pkill -9 -P "$pid" 2>/dev/null || true
    kill -9 "$pid" 2>/dev/null || true
  fi
  echo "stopped $name (pid $pid)"
fi
[ "${2:-}" = "--wipe" ] && rm -rf "$dir"
exit 0
