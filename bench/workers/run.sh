#!/usr/bin/env bash
# Several `observer run` workers sharing one state on PostgreSQL (issue 14's scale figure): a private Dovecot pair
# with a master user on each side and N users filled over IMAP, a private PostgreSQL, and W workers as separate
# processes. Measures the first copy, the accounts each worker holds, then SIGKILLs the busiest worker: the time until
# the others hold every account it held, and until new mail written to ten of them right after the kill is on the
# replica; then a new worker joins: the time until the accounts are spread evenly again. Prints one line per phase.
#
#   bench/workers/run.sh [--accounts 300] [--workers 3] [--lease 00:00:30] [--folders 5] [--messages 2]
#
# Bounded: at most 2,000 accounts and 8 workers; every wait gives up after 15 minutes.
# Needs python3; uses ports 14711 to 14713, and /tmp/observer-workers-bench.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
accounts=300 workers=3 lease=00:00:30 folders=5 messages=2
while [ $# -gt 0 ]; do
  case "$1" in
    --accounts) accounts=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --lease) lease=$2; shift 2 ;;
    --folders) folders=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    *) echo "run.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[ "$accounts" -ge 1 ] && [ "$accounts" -le 2000 ] || { echo "run.sh: --accounts must be 1 to 2000" >&2; exit 2; }
[ "$workers" -ge 2 ] && [ "$workers" -le 8 ] || { echo "run.sh: --workers must be 2 to 8" >&2; exit 2; }

work=/tmp/observer-workers-bench
export OBSERVER_TESTSERVERS_DIR=$work/servers
mkdir -p "$work"
obs=$root/artifacts/observer/observer
[ -x "$obs" ] || dotnet publish "$root/src/Observer" -p:PublishProfile=linux-x64 -o "$root/artifacts/observer" -v quiet -nologo
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  for s in wkp wkr; do bash "$root/testservers/dovecot/stop.sh" "$s" >/dev/null 2>&1 || true; done
  bash "$root/testservers/postgresql/stop.sh" wkdb --wipe >/dev/null 2>&1 || true
}
trap cleanup EXIT
bash "$root/testservers/dovecot/start.sh" wkp --port 14711 --delimiter . --master admin:adminpw --fresh > /dev/null
bash "$root/testservers/dovecot/start.sh" wkr --port 14712 --delimiter / --master admin:adminpw --fresh > /dev/null
bash "$root/testservers/postgresql/start.sh" wkdb --port 14713 --user observer:dbpw --database observer --fresh > /dev/null
users=(); for i in $(seq 1 "$accounts"); do users+=("$(printf 'user%04d' "$i")" "pw$i"); done
bash "$root/testservers/dovecot/add-user.sh" wkp "${users[@]}"
bash "$root/testservers/dovecot/add-user.sh" wkr "${users[@]}"
sleep 1.1  # Dovecot looks at its passwd file at most once a second.
python3 "$root/bench/accounts/fill.py" 14711 "$accounts" "$folders" "$messages"

cd "$work"
rm -f victim.txt probe.txt worker-*.log
for i in $(seq 1 "$accounts"); do printf 'user%04d\n' "$i"; done > accounts.txt
printf 'dbpw\n' > db.password
chmod 600 db.password
cat > settings.json <<JSON
{
  "Primary": { "Host": "127.0.0.1", "Port": 14711, "Security": "None", "MasterUser": "admin", "Password": "adminpw" },
  "Replica": { "Host": "127.0.0.1", "Port": 14712, "Security": "None", "MasterUser": "admin", "Password": "adminpw" },
  "AccountsFile": "accounts.txt",
  "Replication": { "LiveAccounts": 2000, "ParallelAccounts": 12, "ConnectionBudget": 800 },
  "State": { "Provider": "PostgreSql", "ConnectionString": "Host=127.0.0.1;Port=14713;Username=observer;Database=observer",
             "PasswordFile": "db.password", "LeaseTime": "$lease" }
}
JSON
status() { "$obs" status --config settings.json --json 2>/dev/null || true; }
wait_until() {  # wait_until DESCRIPTION COMMAND...: polls every 0.2 s, at most 15 minutes
  local what=$1; shift; local deadline=$(( $(date +%s) + 900 ))
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "run.sh: $what did not happen within 15 minutes; see $work/worker-*.log" >&2; exit 1; }
    sleep 0.2
  done
}
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
host=$(hostname)
start_worker() { "$obs" run --config settings.json 2> "worker-$1.log" & pids+=($!); }

t0=$(now)
for w in $(seq 1 "$workers"); do start_worker "$w"; done
all_ok() { status | python3 "$here/owners.py" counts | grep -q "unowned=0 ok=$accounts/$accounts"; }
wait_until "the first copy" all_ok
printf 'first copy: %d accounts, %d folders, %d messages, %d workers: %.0f s; accounts per worker: %s\n' "$accounts" $((accounts * folders)) \
  $((accounts * folders * messages)) "$workers" "$(since "$t0")" "$(status | python3 "$here/owners.py" counts | cut -d' ' -f1-"$workers")"

# The busiest worker dies; ten of its accounts get mail at once.
victim=${pids[0]}
status | python3 "$here/owners.py" owned-by "$host:$victim" > victim.txt
t_kill=$(now)
kill -9 "$victim"
wait "$victim" 2>/dev/null || true
python3 "$here/probe.py" write 14711 probe.txt $(head -10 victim.txt) &
probe=$!
taken() { [ "$(status | python3 "$here/owners.py" unowned-of victim.txt "$host:$victim")" = 0 ]; }
wait_until "the takeover" taken
takeover=$(since "$t_kill")
wait "$probe"
arrived=$(python3 "$here/probe.py" wait 14712 probe.txt)
printf 'worker %s killed with %d accounts (State:LeaseTime %s): all taken over in %.1f s; new mail in 10 of them on the replica %s s after it was written\n' \
  "$host:$victim" "$(wc -l < victim.txt)" "$lease" "$takeover" "$arrived"

# A new worker joins: the accounts spread again.
t_join=$(now)
start_worker new
fair=$(( (accounts + workers - 1) / workers ))
even() { status | python3 "$here/owners.py" balanced "$workers" "$fair"; }
wait_until "the rebalance" even
printf 'a new worker joined: accounts spread evenly again in %.1f s: %s\n' "$(since "$t_join")" "$(status | python3 "$here/owners.py" counts | cut -d' ' -f1-"$workers")"
for p in "${pids[@]:1}"; do
  [ -e "/proc/$p" ] || continue
  printf 'worker %s: %.1f CPU-s, RSS %d MB\n' "$host:$p" "$(awk '{print ($14+$15)/100}' "/proc/$p/stat")" $(( $(awk '/VmRSS/{print $2}' "/proc/$p/status") / 1024 ))
done
echo "errors logged: $(cat worker-*.log | grep -c ' fail: \| crit: ' || true)"
