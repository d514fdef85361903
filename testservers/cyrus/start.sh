#!/usr/bin/env bash
# Starts a private Cyrus IMAP 3.6 instance on 127.0.0.1, installing Cyrus first if it is missing
# (see install.sh: Debian's binaries unpacked into a folder of their own, not dpkg-installed).
#
#   testservers/cyrus/start.sh NAME --port P [--delimiter . | /] [--user NAME:PASSWORD]...
#                                   [--master NAME:PASSWORD]... [--extra-conf FILE] [--fresh]
#
# --delimiter  hierarchy separator: '.' (default; unixhierarchysep: no) or '/' (unixhierarchysep: yes).
#              Either way altnamespace is on: a user's folders sit next to INBOX ("Foo", not "INBOX.Foo").
# --master     a user who may act for any user: SASL PLAIN with that user as authorization identity
#              (RFC 4616), through Cyrus's proxyservers setting. It is not an admin.
# --extra-conf lines appended to the instance's imapd.conf.
# --fresh      wipes the instance's mail first; without it, mail from an earlier run is kept (restart).
# No TLS (TLS_PORT and CERT_SHA256 are printed empty); plaintext LOGIN and AUTHENTICATE PLAIN are on.
# Users are SASL users in DIR/sasldb2; Cyrus creates a user's INBOX at the first login, and this
# script (like add-user.sh) logs each user in once, so INBOX exists when it returns.
# Only 127.0.0.1:P listens on the network; idled uses a unix socket inside DIR. Processes run as the
# user "cyrus" (made by install.sh) when started as root.
# Logs: Cyrus logs only to syslog. As root, the instance runs in a mount namespace of its own whose
# /dev/log leads to a small listener (syslog-listener.py) that writes DIR/cyrus.log; without root
# (or if unshare is not allowed) there is no Cyrus log. DIR/master.log has master's stdout/stderr.
# On success it prints KEY=VALUE lines (NAME, HOST, PORT, TLS_PORT, PID, DIR, CERT_SHA256) and the
# greeting's CAPABILITY line last. Stop it with testservers/cyrus/stop.sh NAME.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
source "$here/common.sh"

name=${1:-}; [ -n "$name" ] || die "usage: start.sh NAME --port P [--delimiter . | /] [--user U:P]... [--master U:P]... [--fresh]"
shift; valid_name "$name"
port="" delimiter="." extra="" fresh=0 users=() masters=()
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=$2; shift 2 ;;
    --delimiter) delimiter=$2; shift 2 ;;
    --user) users+=("$2"); shift 2 ;;
    --master) masters+=("$2"); shift 2 ;;
    --extra-conf) extra=$2; shift 2 ;;
    --fresh) fresh=1; shift ;;
    --tls-port) die "the Cyrus test server has no TLS" ;;
    *) die "unknown option '$1'" ;;
  esac
done
[[ "$port" =~ ^[0-9]+$ ]] || die "--port must be a number"
[[ "$delimiter" == "." || "$delimiter" == "/" ]] || die "--delimiter must be '.' or '/'"
for u in "${users[@]}" "${masters[@]}"; do [[ "$u" == *:* ]] || die "--user and --master take NAME:PASSWORD"; done
proxy=""
for m in "${masters[@]}"; do proxy="$proxy ${m%%:*}"; done

root=$("$here/install.sh" </dev/null) || die "installing Cyrus failed"
bin="$root/usr/lib/cyrus/bin"
libdir=$(echo "$root"/usr/lib/*-linux-gnu)

dir=$(cyrus_instance_dir "$name")
# cyrus.conf splits commands at blanks.
[[ "$dir$root" != *[[:space:]]* ]] || die "paths with blanks are not supported: $dir"
"$here/stop.sh" "$name" >/dev/null 2>&1 || true
[ $fresh = 1 ] && rm -rf "$dir"
mkdir -p "$dir/spool" "$dir/sieve" "$dir/tmp" "$dir/run"
# What Debian's makedirs would create (no hashed spool here).
for d in db proc socket log msg user quota lock; do mkdir -p "$dir/config/$d"; done
chmod 755 "$TESTSERVERS_ROOT" "$dir"
run_user=$(cyrus_run_user) run_group=$(cyrus_run_group)
# If anything below fails, leave nothing of this instance running.
trap 'rc=$?; [ $rc = 0 ] || "$here/stop.sh" "$name" >/dev/null 2>&1; exit $rc' EXIT
# Unix socket paths are limited to 107 bytes; idled and each imapd make one in config/socket.
[ ${#dir} -le 80 ] || echo "testservers: warning: '$dir' is long; Cyrus's unix sockets under it may not work" >&2

# Cyrus logs only through syslog(3), to /dev/log. As root: run a listener on DIR/run/syslog.sock and
# start master in a mount namespace of its own where /dev is a small tmpfs holding the usual devices
# and a /dev/log symlink to that socket. Nothing changes for the rest of the machine.
use_ns=0
if [ "$(id -u)" = 0 ] && command -v python3 >/dev/null && command -v unshare >/dev/null \
   && unshare --mount --propagation private true 2>/dev/null; then
  use_ns=1
  rm -f "$dir/run/syslog.sock"
  nohup python3 "$here/syslog-listener.py" "$dir/run/syslog.sock" "$dir/cyrus.log" \
    </dev/null >>"$dir/master.log" 2>&1 &
  echo $! > "$dir/run/syslog.pid"
fi

unixhierarchysep=no
[ "$delimiter" = "/" ] && unixhierarchysep=yes
if [ -f "$dir/delimiter" ] && [ "$(cat "$dir/delimiter")" != "$delimiter" ] && [ -n "$(ls -A "$dir/spool")" ]; then
  echo "testservers: warning: instance '$name' kept mail made with delimiter '$(cat "$dir/delimiter")'; use --fresh to change it" >&2
fi
echo "$delimiter" > "$dir/delimiter"

conf="$dir/imapd.conf"
cat > "$conf" <<CONF
# Generated by testservers/cyrus/start.sh for instance '$name'.
configdirectory: $dir/config
defaultpartition: default
partition-default: $dir/spool
sievedir: $dir/sieve
temp_path: $dir/tmp
servername: $(cyrus_realm "$name")
syslog_prefix: cyrus-$name
cyrus_user: $run_user
cyrus_group: $run_group
# Folders are "Foo", not "INBOX${delimiter}Foo"; separator '$delimiter'.
altnamespace: yes
unixhierarchysep: $unixhierarchysep
# Plaintext login is fine here: the instance only listens on loopback. No TLS is configured.
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $dir/sasldb2
sasl_mech_list: PLAIN LOGIN
sasl_auto_transition: no
# Create a user's INBOX at the first login (0 = no quota).
autocreate_quota: 0
autocreate_users: anyone
# Tests open many connections per user; 0 = no limit.
maxlogins_per_user: 0
maxlogins_per_host: 0
# idled pushes changes to IDLE sessions at once; this poll is the fallback.
imapidlepoll: 5s
failedloginpause: 1s
# Exit (and so fail start.sh) if the port is taken instead of running without a listener.
master_bind_errors_fatal: yes
CONF
# Users who may authenticate as themselves and act as another (SASL authorization identity).
[ -z "$proxy" ] || echo "proxyservers:$proxy" >> "$conf"
[ -z "$extra" ] || cat "$extra" >> "$conf"

cat > "$dir/cyrus.conf" <<CONF
# Generated by testservers/cyrus/start.sh for instance '$name'. No lmtp, sieve, pop3 or http.
START {
  recover cmd="$bin/ctl_cyrusdb -C $conf -r"
}
SERVICES {
  imap cmd="$bin/imapd -C $conf" listen="127.0.0.1:$port" prefork=10 maxchild=2000 maxfds=1024
}
EVENTS {
  checkpoint cmd="$bin/ctl_cyrusdb -C $conf -c" period=30
}
DAEMON {
  idled cmd="$bin/idled -C $conf"
}
CONF
chmod 644 "$conf" "$dir/cyrus.conf"

for u in "${users[@]}" "${masters[@]}"; do "$here/add-user.sh" --offline "$name" "${u%%:*}" "${u#*:}"; done
if [ "$(id -u)" = 0 ]; then
  chown -R "$run_user:$run_group" "$dir/config" "$dir/spool" "$dir/sieve" "$dir/tmp" "$dir/run"
  [ -f "$dir/sasldb2" ] && chown "$run_user:$run_group" "$dir/sasldb2"
fi
rm -f "$dir/run/master.pid"

private_dev() {
  local dir=$1 nd=$1/run/dev n
  mkdir -p "$nd" && mount -t tmpfs -o mode=755,size=64k observer-cyrus-dev "$nd" || return 1
  for n in null zero full random urandom tty; do
    [ -e "/dev/$n" ] || continue
    touch "$nd/$n" && mount --bind "/dev/$n" "$nd/$n" || return 1
  done
  mkdir -p "$nd/shm" "$nd/pts"
  [ -d /dev/shm ] && { mount --rbind /dev/shm "$nd/shm" || return 1; }
  [ -d /dev/pts ] && { mount --rbind /dev/pts "$nd/pts" || return 1; }
  ln -s /proc/self/fd "$nd/fd"; ln -s /proc/self/fd/0 "$nd/stdin"
  ln -s /proc/self/fd/1 "$nd/stdout"; ln -s /proc/self/fd/2 "$nd/stderr"
  ln -s "$dir/run/syslog.sock" "$nd/log"
  mount --move "$nd" /dev
}

if [ $use_ns = 1 ]; then
  for _ in $(seq 1 100); do [ -S "$dir/run/syslog.sock" ] && break; sleep 0.05; done
  [ -S "$dir/run/syslog.sock" ] || echo "testservers: warning: the syslog listener did not start; no cyrus.log" >&2
fi
master=("$bin/master" -C "$conf" -M "$dir/cyrus.conf" -p "$dir/run/master.pid" -l 256 -d -L "$dir/master.log")
if [ $use_ns = 1 ]; then
  unshare --mount --propagation private -- bash -c "$(declare -f private_dev)
    private_dev '$dir' || echo 'testservers: could not set up /dev/log for the instance; no cyrus.log' >&2
    exec env LD_LIBRARY_PATH='$libdir' \"\$@\"" cyrus-start "${master[@]}" </dev/null >>"$dir/master.log" 2>&1 \
    || die "cyrus master did not start; see $dir/master.log"
else
  env LD_LIBRARY_PATH="$libdir" "${master[@]}" </dev/null >>"$dir/master.log" 2>&1 \
    || die "cyrus master did not start; see $dir/master.log"
fi

greeting=$(wait_for_greeting "$port" 30 2>/dev/null) || die "no greeting on port $port; see $dir/master.log and $dir/cyrus.log"
# The greeting names the server (servername): make sure it is this instance, not another one on the port.
[[ "$greeting" == *" $(cyrus_realm "$name") "* ]] || die "port $port answers, but not as instance '$name' (port in use?): $greeting"
pid=""
for _ in $(seq 1 100); do pid=$(live_pid "$dir/run/master.pid") && break; sleep 0.05; done
[ -n "$pid" ] || die "cyrus started but its pid file is missing"
# Wait until logins really work (and each user's INBOX exists).
for u in "${users[@]}"; do
  out=$(cyrus_check_login "$port" "${u%%:*}" "${u#*:}") || die "user ${u%%:*} cannot log in: $out (see $dir/cyrus.log)"
done

echo "NAME=$name"
echo "HOST=127.0.0.1"
echo "PORT=$port"
echo "TLS_PORT="
echo "PID=$pid"
echo "DIR=$dir"
echo "CERT_SHA256="
caps=${greeting#*\[CAPABILITY }
echo "CAPABILITY ${caps%%]*}"
