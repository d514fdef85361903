#!/usr/bin/env bash
# Stops a private Dovecot instance by its pid:  testservers/dovecot/stop.sh NAME [--wipe]
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
name=${1:-}; [ -n "$name" ] || die "usage: stop.sh NAME [--wipe]"
valid_name "$name"
dir="$TESTSERVERS_ROOT/dovecot-$name"
if pid=$(live_pid "$dir/base/master.pid"); then
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -9 "$pid" 2>/dev/null || true
  # Children (imap, auth) follow the master; make sure none keeps the port.
  pkill -9 -f "observer-$name" 2>/dev/null || true
  echo "stopped $name (pid $pid)"
fi
[ "${2:-}" = "--wipe" ] && rm -rf "$dir"
exit 0
