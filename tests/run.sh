#!/usr/bin/env bash
# Runs every test (unit, scripted-server and real-server) and ends with one line: "N passed, N failed".
# Works on a fresh machine with the .NET SDK: it installs the test servers it needs (apt, as root).
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

source testservers/lib.sh
# lib.sh sets -e for the server scripts; here a failing step must still reach the last line.
set +e
# clang and zlib1g-dev build Observer as it ships (native AOT, src/Observer/Properties/PublishProfiles).
ensure_packages dovecot-core dovecot-imapd openssl postgresql clang zlib1g-dev systemd chromium || { echo "installing the test servers' Debian packages failed"; echo "0 passed, 1 failed"; exit 1; }
for kind in cyrus courier; do bash "testservers/$kind/install.sh" >/dev/null || { echo "installing the $kind test server failed"; echo "0 passed, 1 failed"; exit 1; }; done

log=$(mktemp -d /tmp/test-run.XXXX)
trap 'bash testservers/stop-all.sh >/dev/null 2>&1' EXIT
source tests/summarize.sh
# A signal must not end the run without its last line: the tests stop, then the counts so far.
status=1
trap 'for child in $(pgrep -P $$); do pkill -TERM -s "$child"; done; echo "interrupted by a signal"; summarize; exit 1' HUP INT TERM

if ! dotnet build Observer.sln -c Release -v quiet -nologo > "$log/build.txt" 2>&1; then
  cat "$log/build.txt"
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi
# The tests that run `observer` as a process run the native build users get, not the one above.
if ! dotnet publish src/Observer -p:PublishProfile=linux-x64 -o artifacts/observer -v quiet -nologo > "$log/publish.txt" 2>&1; then
  cat "$log/publish.txt"
  echo "publishing Observer as it ships (native AOT) failed"
  echo "0 passed, 1 failed"
  exit 1
fi
export OBSERVER_TEST_BINARY=$PWD/artifacts/observer/observer

# Each test assembly runs in its own process; a hang is dumped and killed rather than stalling CI.
# In a session of its own, so that no signal sent to a process group inside the tests (test servers
# and their helpers start and stop there) can reach this script before it prints its last line.
# (Not a process group leader, setsid makes the session in place: dotnet's pid is the session's.)
setsid dotnet test Observer.sln -c Release --no-build --blame-hang-timeout 10m \
  --logger "console;verbosity=normal" --logger "trx" --results-directory "$log/results" 2>&1 | tee "$log/test.txt"
status=${PIPESTATUS[0]}
# The engine's tests again with the state on PostgreSQL (a private server on loopback, started by the tests): the same
# schema, journal and crash-safety rules, proved by the same tests, for the shared state several workers use.
OBSERVER_TEST_STATE=postgresql setsid dotnet test tests/Observer.Replication.Tests -c Release --no-build --blame-hang-timeout 10m \
  --logger "console;verbosity=normal" --logger "trx;LogFilePrefix=on-postgresql" --results-directory "$log/results" 2>&1 | tee -a "$log/test.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
summarize
[ "$failed" -eq 0 ]

