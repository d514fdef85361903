#!/usr/bin/env bash
# The side-by-side benchmark: installs the peer tools (never part of CI), builds Observer the way it
# ships (Release, ReadyToRun), starts a private Dovecot pair and runs `observer-bench compare` with
# the arguments given (for example --quick, or --readme to refresh README.md). Takes about 1.5 h in full.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
source testservers/lib.sh
ensure_packages dovecot-core dovecot-imapd openssl procps time librsvg2-bin
# A peer that fails to install is skipped and named in the report, not fatal.
for peer in interimap isync offlineimap3; do
  ensure_packages "$peer" || echo "bench: $peer could not be installed; it will be left out" >&2
done

dotnet build bench/Observer.Bench -c Release -v quiet -nologo >&2
dotnet publish src/Observer -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
  -o artifacts/observer -v quiet -nologo >&2
export OBSERVER_BENCH_BINARY="$PWD/artifacts/observer/observer"
exec bench/Observer.Bench/bin/Release/net10.0/observer-bench compare "$@"
