#!/usr/bin/env bash
# Observer with many accounts in one service (issue 11's scale check): a private Dovecot pair with a master
# user on each side, N users filled over IMAP, then `observer run` with an AccountsFile: the time of the first
# full copy; a steady state under a light load on 5 % of the accounts (an append or a flag change every 2 s)
# and a probe account (an append every 5 s), each append timed until it is on the replica; then a 60 s replica
# outage with mail arriving, the time until it is all on the replica, and `observer verify` of every account.
# Prints one summary line per phase.
#
#   bench/accounts/run.sh [--accounts 1000] [--folders 20] [--messages 2] [--minutes 10]
#
# Bounded: at most 2,000 accounts and 30 minutes of load; the first copy is given up after 30 minutes.
# Needs python3; uses ports 14701 and 14702, and /tmp/observer-accounts-bench.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
accounts=1000 folders=20 messages=2 minutes=10
while [ $# -gt 0 ]; do
  case "$1" in
    --accounts) accounts=$2; shift 2 ;;
    --folders) folders=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --minutes) minutes=$2; shift 2 ;;
    *) echo "run.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[ "$accounts" -ge 1 ] && [ "$accounts" -le 2000 ] || { echo "run.sh: --accounts must be 1 to 2000" >&2; exit 2; }
[ "$minutes" -ge 1 ] && [ "$minutes" -le 30 ] || { echo "run.sh: --minutes must be 1 to 30" >&2; exit 2; }

work=/tmp/observer-accounts-bench
pid=""
export OBSERVER_TESTSERVERS_DIR=$work/servers
mkdir -p "$work"
obs=$root/artifacts/observer/observer
[ -x "$obs" ] || dotnet publish "$root/src/Observer" -p:PublishProfile=linux-x64 -o "$root/artifacts/observer" -v quiet -nologo
bash "$root/testservers/dovecot/start.sh" accp --port 14701 --delimiter . --master admin:adminpw --fresh > /dev/null
bash "$root/testservers/dovecot/start.sh" accr --port 14702 --delimiter / --master admin:adminpw --fresh > /dev/null
trap 'kill "$pid" 2>/dev/null || true; bash "$root/testservers/dovecot/stop.sh" accp >/dev/null 2>&1; bash "$root/testservers/dovecot/stop.sh" accr >/dev/null 2>&1' EXIT
users=(); for i in $(seq 1 "$accounts"); do users+=("$(printf 'user%04d' "$i")" "pw$i"); done
bash "$root/testservers/dovecot/add-user.sh" accp "${users[@]}"
bash "$root/testservers/dovecot/add-user.sh" accr "${users[@]}"
sleep 1.1  # Dovecot looks at its passwd file at most once a second.
python3 "$here/fill.py" 14701 "$accounts" "$folders" "$messages"

cd "$work"
for i in $(seq 1 "$accounts"); do printf 'user%04d\n' "$i"; done > accounts.txt
chmod 644 accounts.txt
cat > settings.json <<JSON
{
  "Primary": { "Host": "127.0.0.1", "Port": 14701, "Security": "None", "MasterUser": "admin", "Password": "adminpw" },
  "Replica": { "Host": "127.0.0.1", "Port": 14702, "Security": "None", "MasterUser": "admin", "Password": "adminpw" },
  "AccountsFile": "accounts.txt",
  "State": { "Path": "state.db" }
}
JSON
rm -f state.db state.db-*
cpu() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }
own() { awk '{print ($14+$15)/100}' "/proc/$pid/stat"; }
connections() { ss -tn state established '( dport = :14701 or dport = :14702 )' | tail -n +2 | wc -l; }
rss() { awk '/VmRSS/{print $2}' "/proc/$pid/status"; }

start=$(date +%s.%N); machine0=$(cpu)
"$obs" run --config settings.json 2> run.log &
pid=$!
peak_rss=0 peak_conn=0
deadline=$(( $(date +%s) + 1800 ))
until "$obs" status --config settings.json 2>/dev/null | tail -1 | grep -q '^health: ok'; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "run.sh: the first copy did not finish within 30 minutes; see $work/run.log" >&2; exit 1; }
  r=$(rss); c=$(connections); [ "$r" -gt "$peak_rss" ] && peak_rss=$r; [ "$c" -gt "$peak_conn" ] && peak_conn=$c
  sleep 2
done
printf 'first copy: %d accounts, %d folders, %d messages in %.0f s; observer %.0f CPU-s, machine %.0f CPU-s; peak RSS %d MB; peak connections %d\n' \
  "$accounts" $((accounts * folders)) $((accounts * folders * messages)) "$(echo "$(date +%s.%N) - $start" | bc)" "$(own)" \
  "$(echo "($(cpu) - $machine0) / 100" | bc)" $((peak_rss / 1024)) "$peak_conn"

own0=$(own); t0=$(date +%s); peak_rss=0 peak_conn=0
python3 "$here/load.py" 14701 14702 "$accounts" $((minutes * 60)) > load.log 2>&1 &
load=$!
while kill -0 "$load" 2>/dev/null; do
  r=$(rss); c=$(connections); [ "$r" -gt "$peak_rss" ] && peak_rss=$r; [ "$c" -gt "$peak_conn" ] && peak_conn=$c
  sleep 5
done
elapsed=$(( $(date +%s) - t0 ))
printf 'steady state: %d min; observer %.1f CPU-s a minute; peak RSS %d MB; peak connections %d; state %d MB\n' "$minutes" \
  "$(echo "($(own) - $own0) * 60 / $elapsed" | bc -l)" $((peak_rss / 1024)) "$peak_conn" $(( $(stat -c %s state.db) / 1048576 ))
cat load.log
echo "live slots handed over: $(grep -c 'has been quiet for' run.log); errors logged: $(grep -c ' fail: \| crit: ' run.log)"

# The replica goes away for 60 s while mail arrives in 50 accounts, and comes back with its mail kept.
down=$(date +%s)
bash "$root/testservers/dovecot/stop.sh" accr > /dev/null
python3 "$here/outage.py" write 14701 "$accounts" outage.txt
sleep $(( 60 - ($(date +%s) - down) > 0 ? 60 - ($(date +%s) - down) : 0 ))
bash "$root/testservers/dovecot/start.sh" accr --port 14702 --delimiter / --master admin:adminpw > /dev/null
python3 "$here/outage.py" wait 14702 outage.txt
kill -TERM "$pid" 2>/dev/null || true; wait "$pid" || true
t_verify=$(date +%s)
if "$obs" verify --config settings.json > verify.log 2>&1; then verdict="every account identical"; else verdict="differences: see $work/verify.log"; fi
echo "verify: $verdict ($accounts accounts in $(( $(date +%s) - t_verify )) s)"
