#!/usr/bin/env bash
# Adds (or replaces) mail users on an instance:  add-user.sh NAME USER PASSWORD [USER PASSWORD]...
# Dovecot reads the passwd file at login, so no restart is needed; but it checks the file at most
# once a second, so a user added in the same second as another login may need a second to appear.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
[ $# -ge 3 ] && [ $(( ($# - 1) % 2 )) -eq 0 ] || die "usage: add-user.sh NAME USER PASSWORD [USER PASSWORD]..."
name=$1; shift
valid_name "$name"
dir="$TESTSERVERS_ROOT/dovecot-$name"
[ -d "$dir" ] || die "no instance '$name' (start it first)"
if [ "$(id -u)" = 0 ]; then uid=$(id -u nobody); gid=$(getent group nogroup | cut -d: -f3); else uid=$(id -u); gid=$(id -g); fi
tmp=$(mktemp "$dir/passwd.XXXX")
cp "$dir/passwd" "$tmp" 2>/dev/null || true
while [ $# -gt 0 ]; do
  user=$1 password=$2; shift 2
  [[ "$user" =~ ^[A-Za-z0-9_.@-]+$ ]] || die "user name '$user' has characters a passwd file cannot hold"
  [[ "$password" != *:* && "$password" != *$'\n'* ]] || die "password may not contain ':' or a newline"
  grep -v "^$user:" "$tmp" > "$tmp.new" || true
  mv "$tmp.new" "$tmp"
  echo "$user:{PLAIN}$password:$uid:$gid::$dir/mail/$user" >> "$tmp"
done
chmod 644 "$tmp"
# Dovecot notices a change by mtime (whole seconds) or size; make sure the mtime moves.
old=$(stat -c %Y "$dir/passwd" 2>/dev/null || echo 0)
now=$(date +%s)
mv "$tmp" "$dir/passwd"
touch -d "@$(( now > old ? now : old + 1 ))" "$dir/passwd"
