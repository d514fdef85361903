#!/usr/bin/env bash
# The side-by-side benchmark: installs the peer tools (never part of CI), builds Observer the way it
# ships (its linux-x64 publish profile: native AOT, one self-contained executable), starts a private
# Dovecot pair and runs `observer-bench compare` with the arguments given (for example --quick, or
# --readme to refresh README.md). Takes about 1.5 h in full.
# --before COMMIT also publishes that commit (from a temporary worktree) and runs it as the tool
# observer-before beside today's build, for a change's before and after in one session.
# `bench/run.sh scale [OPTIONS]` is the many-accounts phase instead (bench/accounts/run.sh: 1,000
# accounts in one service, about 35 minutes); it needs no peers.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = scale ]; then shift; exec bash bench/accounts/run.sh "$@"; fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
source testservers/lib.sh
ensure_packages dovecot-core dovecot-imapd openssl procps time librsvg2-bin clang zlib1g-dev
# A peer that fails to install is skipped and named in the report, not fatal.
for peer in interimap isync offlineimap3; do
  ensure_packages "$peer" || echo "bench: $peer could not be installed; it will be left out" >&2
done

# Publishes the tree $1 as Observer ships, into $2. An older tree without the publish profile is given
# today's, so that a before and an after differ in their code only.
ship() {
  local profile=src/Observer/Properties/PublishProfiles/linux-x64.pubxml
  if [ ! -f "$1/$profile" ]; then mkdir -p "$1/$(dirname "$profile")"; cp "$profile" "$1/$profile"; fi
  rm -rf "$2"
  local log; log=$(mktemp)
  if ! dotnet publish "$1/src/Observer" -p:PublishProfile=linux-x64 -o "$2" -v quiet -nologo > "$log" 2>&1; then
    # Trees from before the native build bind their settings by reflection (error SYSLIB1104).
    echo "bench: $1 could not be published as today's build ships (native AOT); the errors are in $log" >&2
    exit 1
  fi
}

args=() before=""
while [ $# -gt 0 ]; do
  case "$1" in
    --before) [ $# -ge 2 ] || { echo "bench: --before needs a commit" >&2; exit 2; }; before=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ -n "$before" ]; then
  commit=$(git rev-parse --verify --quiet "$before^{commit}") || { echo "bench: --before: '$before' is not a commit in this repository" >&2; exit 2; }
  tree=$(mktemp -d)
  trap 'git worktree remove --force "$tree" >/dev/null 2>&1 || true' EXIT
  git worktree add --detach --force "$tree" "$commit" >/dev/null
  ship "$tree" "$PWD/artifacts/observer-before"
  export OBSERVER_BENCH_BEFORE_BINARY="$PWD/artifacts/observer-before/observer" OBSERVER_BENCH_BEFORE_NAME="${commit:0:7}"
fi

dotnet build bench/Observer.Bench -c Release -v quiet -nologo >&2
ship . "$PWD/artifacts/observer"
export OBSERVER_BENCH_BINARY="$PWD/artifacts/observer/observer"
bench/Observer.Bench/bin/Release/net10.0/observer-bench compare "${args[@]}"
