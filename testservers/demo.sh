#!/usr/bin/env bash
# Observer live on a local pair of real Dovecot servers it sets up itself.
#
#   bash testservers/demo.sh
#
# Installs Dovecot if needed (apt, as root), starts a primary on 127.0.0.1:14301 and a replica on
# 127.0.0.1:14302 (account demo), fills the primary with 200 sample messages in 6 folders, then runs
# `observer run` in the foreground while a simulated user reads, moves, deletes and receives mail on
# the primary. Watch each change arrive on the replica in observer's log. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
source testservers/lib.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

ensure_packages dovecot-core dovecot-imapd openssl

# Ctrl-C reaches this script, but not observer or the traffic generator: a non-interactive shell starts
# its background jobs with SIGINT ignored. So the cleanup stops each of them by its pid, with SIGTERM.
observer_pid="" traffic_pid="" sleep_pid=""
cleanup() {
  trap '' INT TERM   # a second Ctrl-C must not cut the cleanup short and leave something running
  for pid in "$sleep_pid" "$traffic_pid"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  if [ -n "$observer_pid" ] && kill -0 "$observer_pid" 2>/dev/null; then
    echo "== stopping observer (it finishes the work in flight)"
    kill -TERM "$observer_pid" 2>/dev/null || true
  fi
  wait 2>/dev/null || true
  testservers/dovecot/stop.sh demo-primary >/dev/null
  testservers/dovecot/stop.sh demo-replica >/dev/null
  echo "== stopped. (observer status --config appsettings.json still shows the last state)"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p .testservers
chmod 700 .testservers
primary_pw=$(head -c 12 /dev/urandom | base64 | tr -dc A-Za-z0-9)
replica_pw=$(head -c 12 /dev/urandom | base64 | tr -dc A-Za-z0-9)
( umask 077; echo "$primary_pw" > .testservers/demo-primary.password; echo "$replica_pw" > .testservers/demo-replica.password )
rm -f .testservers/observer-demo.db*

echo "== starting the primary (127.0.0.1:14301) and the replica (127.0.0.1:14302)"
testservers/dovecot/start.sh demo-primary --port 14301 --user "demo:$primary_pw" --fresh | grep -E '^(PORT|CAPABILITY)'
testservers/dovecot/start.sh demo-replica --port 14302 --user "demo:$replica_pw" --delimiter / --fresh | grep -E '^(PORT|CAPABILITY)'

echo "== building observer"
dotnet build src/Observer -c Release -v quiet -nologo > /tmp/observer-demo-build.log 2>&1 || { cat /tmp/observer-demo-build.log; exit 1; }
dotnet build bench/Observer.Bench -c Release -v quiet -nologo >> /tmp/observer-demo-build.log 2>&1 || { cat /tmp/observer-demo-build.log; exit 1; }
observer="$root/src/Observer/bin/Release/net10.0/observer"
bench="$root/bench/Observer.Bench/bin/Release/net10.0/observer-bench"

echo "== filling the primary with sample mail"
"$bench" corpus --profile demo --primary-port 14301 --primary-user demo --primary-password-file .testservers/demo-primary.password

echo "== observer replicates live; a simulated user starts working on the primary in 10 s (Ctrl-C to stop)"
"$observer" run --config appsettings.json &
observer_pid=$!
# Waiting with `wait`, not in the foreground, so that a signal runs the trap at once.
sleep 10 &
sleep_pid=$!
wait "$sleep_pid"
sleep_pid=""
"$bench" traffic --interval 3 --primary-port 14301 --primary-user demo --primary-password-file .testservers/demo-primary.password &
traffic_pid=$!
wait "$observer_pid"
