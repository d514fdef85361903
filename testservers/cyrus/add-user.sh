#!/usr/bin/env bash
# Adds (or replaces) mail users on a running Cyrus instance, no restart:
#
#   testservers/cyrus/add-user.sh NAME USER PASSWORD [USER PASSWORD]...
#
# Users go to the instance's SASL database (DIR/sasldb2), which imapd reads at every login. Then each
# user is logged in once: Cyrus creates the INBOX at the first login, so when this returns the user
# can log in and SELECT INBOX. (--offline as first argument: only write sasldb2; start.sh uses it.)
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
source "$here/common.sh"
offline=0
[ "${1:-}" = "--offline" ] && { offline=1; shift; }
[ $# -ge 3 ] && [ $(( ($# - 1) % 2 )) -eq 0 ] || die "usage: add-user.sh NAME USER PASSWORD [USER PASSWORD]..."
name=$1; shift
valid_name "$name"
dir=$(cyrus_instance_dir "$name")
[ -f "$dir/imapd.conf" ] || die "no instance '$name' (start it first)"
command -v saslpasswd2 >/dev/null || die "saslpasswd2 is missing; run testservers/cyrus/install.sh"
realm=$(cyrus_realm "$name")
args=("$@")
while [ $# -gt 0 ]; do
  user=$1 password=$2; shift 2
  # Cyrus user names: no blanks, no '/' or '@' tricks (virtdomains is off).
  [[ "$user" =~ ^[A-Za-z0-9_.-]+$ ]] || die "user name '$user' may only hold letters, digits, '.', '_' and '-'"
  [[ "$password" != *$'\n'* && -n "$password" ]] || die "password may not be empty or contain a newline"
  printf '%s' "$password" | saslpasswd2 -p -c -f "$dir/sasldb2" -u "$realm" "$user" \
    || die "saslpasswd2 failed for $user"
done
if [ "$(id -u)" = 0 ]; then
  chown "$(cyrus_run_user):$(cyrus_run_group)" "$dir/sasldb2"
fi
chmod 600 "$dir/sasldb2"
[ $offline = 1 ] && exit 0

# Running? Then log every user in once (creates INBOX) and make sure it works.
pid=$(live_pid "$dir/run/master.pid") || exit 0
port=$(sed -n 's/.*listen="127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$dir/cyrus.conf")
set -- "${args[@]}"
while [ $# -gt 0 ]; do
  out=$(cyrus_check_login "$port" "$1" "$2") || die "user $1 cannot log in: $out (see $dir/cyrus.log)"
  shift 2
done
