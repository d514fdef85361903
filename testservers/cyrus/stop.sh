#!/usr/bin/env bash
# Stops a private Cyrus instance by its pid:  testservers/cyrus/stop.sh NAME [--wipe]
# master ends its children on SIGTERM; any process of the instance still alive after that (found by
# the instance's own imapd.conf path on its command line) is killed, and so is the log listener.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
source "$here/common.sh"
name=${1:-}; [ -n "$name" ] || die "usage: stop.sh NAME [--wipe]"
valid_name "$name"
dir=$(cyrus_instance_dir "$name")
if pid=$(live_pid "$dir/run/master.pid"); then
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -9 "$pid" 2>/dev/null || true
  echo "stopped $name (pid $pid)"
fi
if [ -d "$dir" ]; then
  if lpid=$(live_pid "$dir/run/syslog.pid"); then kill "$lpid" 2>/dev/null || true; fi
  # Children (imapd, idled) normally follow the master; make sure none keeps the port.
  for _ in 1 2 3; do
    pids=$(cyrus_instance_pids "$dir")
    [ -n "$pids" ] || break
    kill $pids 2>/dev/null || true
    sleep 0.2
    pids=$(cyrus_instance_pids "$dir")
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
  done
  rm -f "$dir/run/master.pid" "$dir/run/syslog.pid"
fi
[ "${2:-}" = "--wipe" ] && rm -rf "$dir"
exit 0
