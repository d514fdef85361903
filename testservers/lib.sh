# Shared helpers for the test-server scripts. Sourced, not run.
set -euo pipefail

# Where instances live; each instance is a folder of its own: config, data, logs, pid.
TESTSERVERS_ROOT="${OBSERVER_TESTSERVERS_DIR:-/tmp/observer-testservers}"

die() { echo "testservers: $*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else die "need root (or sudo) to run: $*"; fi
}

# Installs Debian packages that are missing. apt-get update runs at most once per boot.
ensure_packages() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "testservers: installing ${missing[*]}" >&2
  local stamp=/tmp/.observer-apt-updated
  [ -e "$stamp" ] || { as_root apt-get update -qq >&2 && touch "$stamp"; }
  # policy-rc.d keeps the packages' own system-wide services from starting; we run private instances.
  as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'
  # Package lists from an earlier update may name versions the mirror has dropped since: update once more and retry.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
    || { as_root apt-get update -qq >&2 && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; }
}

# Waits until an IMAP greeting arrives on 127.0.0.1:$1 and prints the greeting line.
wait_for_greeting() {
  local port=$1 deadline=$((SECONDS + ${2:-20})) line
  while [ $SECONDS -lt $deadline ]; do
    if exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
      if IFS= read -r -t 3 line <&3 && [[ "$line" == "* OK"* ]] && [[ "$line" != *"Waiting for"* ]]; then
        printf 'a LOGOUT\r\n' >&3 || true
        exec 3<&- 3>&-
        printf '%s\n' "${line%$'\r'}"
        return 0
      fi
      exec 3<&- 3>&- || true
    fi
    sleep 0.1
  done
  return 1
}

# Prints the pid recorded in a pid file if that process is alive.
live_pid() {
  local file=$1 pid
  [ -f "$file" ] || return 1
  pid=$(tr -dc 0-9 < "$file")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

valid_name() { [[ "$1" =~ ^[A-Za-z0-9_.-]+$ ]] || die "instance name '$1' may only hold letters, digits, '.', '_' and '-'"; }
