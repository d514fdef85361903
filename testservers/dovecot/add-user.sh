#!/usr/bin/env bash
# Adds (or replaces) a mail user on a running or stopped instance:  add-user.sh NAME USER PASSWORD
# Dovecot reads the passwd file at each login, so no restart is needed.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
[ $# -eq 3 ] || die "usage: add-user.sh NAME USER PASSWORD"
name=$1 user=$2 password=$3
valid_name "$name"
[[ "$user" =~ ^[A-Za-z0-9_.@-]+$ ]] || die "user name '$user' has characters a passwd file cannot hold"
[[ "$password" != *:* && "$password" != *$'\n'* ]] || die "password may not contain ':' or a newline"
dir="$TESTSERVERS_ROOT/dovecot-$name"
[ -d "$dir" ] || die "no instance '$name' (start it first)"
if [ "$(id -u)" = 0 ]; then uid=$(id -u nobody); gid=$(getent group nogroup | cut -d: -f3); else uid=$(id -u); gid=$(id -g); fi
tmp=$(mktemp "$dir/passwd.XXXX")
grep -v "^$user:" "$dir/passwd" > "$tmp" 2>/dev/null || true
echo "$user:{PLAIN}$password:$uid:$gid::$dir/mail/$user" >> "$tmp"
chmod 644 "$tmp"
mv "$tmp" "$dir/passwd"
