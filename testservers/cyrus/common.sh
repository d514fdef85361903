# Helpers shared by the Cyrus test-server scripts. Sourced after ../lib.sh, not run.

cyrus_instance_dir() { echo "$TESTSERVERS_ROOT/cyrus-$1"; }

# The user the Cyrus processes run as (Cyrus drops root privileges) and own the instance's files.
cyrus_run_user() { if [ "$(id -u)" = 0 ]; then echo cyrus; else id -un; fi; }
cyrus_run_group() { if [ "$(id -u)" = 0 ]; then echo mail; else id -gn; fi; }

# The SASL realm users live in: Cyrus asks SASL for users of realm = servername (set in imapd.conf).
cyrus_realm() { echo "observer-cyrus-$1"; }

# Pids of the processes of an instance: every Cyrus process has "-C DIR/imapd.conf" on its
# command line (master, imapd, idled, ctl_cyrusdb), the log listener has DIR/run/syslog.sock.
cyrus_instance_pids() {
  local re
  re=$(printf '%s' "$1" | sed 's/[][\\.*^$+?(){}|]/\\&/g')
  pgrep -f -- "( -C $re/imapd\\.conf|syslog-listener\\.py $re/run/syslog\\.sock)( |\$)" || true
}

# IMAP quoted string.
imap_quote() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }

# imap_session PORT COMMAND...: runs tagged commands (t1, t2, ...) on one connection, prints every
# response line, and fails if the greeting is missing or any command does not answer OK.
imap_session() {
  local port=$1; shift
  local line i=0 ok=0 cmd
  exec 4<>"/dev/tcp/127.0.0.1/$port" || return 1
  IFS= read -r -t 10 line <&4 && [[ "$line" == "* OK"* ]] || { exec 4<&- 4>&-; return 1; }
  for cmd in "$@"; do
    i=$((i + 1))
    printf 't%d %s\r\n' "$i" "$cmd" >&4
    while IFS= read -r -t 10 line <&4; do
      line=${line%$'\r'}
      printf '%s\n' "$line"
      case "$line" in
        "t$i OK"*) ok=$((ok + 1)); break ;;
        "t$i "*) break ;;
      esac
    done
  done
  printf 'z LOGOUT\r\n' >&4 2>/dev/null || true
  exec 4<&- 4>&-
  [ $ok = $# ]
}

# Logs in and selects INBOX (Cyrus creates a missing INBOX at login: autocreate_quota), retrying
# for a few seconds. Prints nothing on success; the last session's output on failure.
cyrus_check_login() {
  local port=$1 user=$2 password=$3 deadline=$((SECONDS + ${4:-15})) out
  while :; do
    out=$(imap_session "$port" "LOGIN $(imap_quote "$user") $(imap_quote "$password")" "SELECT INBOX" 2>&1) && return 0
    [ $SECONDS -lt $deadline ] || { printf '%s\n' "$out"; return 1; }
    sleep 0.2
  done
}
