#!/usr/bin/env bash
# Stops a private Courier instance:  testservers/courier/stop.sh NAME [--wipe]
# Ends the login front, every imapd it started and the instance's gam_server; --wipe deletes its folder.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
name=${1:-}; [ -n "$name" ] || die "usage: stop.sh NAME [--wipe]"
valid_name "$name"
dir="$TESTSERVERS_ROOT/courier-$name"
marker="OBSERVER_COURIER_DIR=$dir"

# Every process of the instance (front, pre-login children, imapd, gam_server) carries the marker.
instance_pids() {
  grep -lzxF -- "$marker" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3 | grep -vx -e "$$" -e "$BASHPID" || true
}

# True while the process runs; a zombie (exited, its parent init not yet reaped it) counts as gone.
running() {
  local stat
  { read -r stat < "/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  [ "${stat:0:1}" != Z ]
}

stopped=""
# The pid file must name our front (a stale file could name a stranger by now).
if pid=$(live_pid "$dir/front.pid") && grep -qzxF -- "$marker" "/proc/$pid/environ" 2>/dev/null; then
  # The front ends its sessions itself on SIGTERM (imapd gets SIGTERM, then SIGKILL).
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do running "$pid" || break; sleep 0.02; done
  running "$pid" && kill -9 "$pid" 2>/dev/null
  stopped=$pid
fi
# Whatever is left (front killed hard earlier, gam_server, sessions that outlived it).
for _ in 1 2 3 4 5; do
  left=""
  for p in $(instance_pids); do running "$p" && left+=" $p"; done
  [ -n "$left" ] || break
  kill -9 $left 2>/dev/null || true
  sleep 0.1
done
rm -f "$dir/front.pid"
[ -n "$stopped" ] && echo "stopped $name (pid $stopped)"
[ "${2:-}" = "--wipe" ] && rm -rf "$dir"
exit 0
