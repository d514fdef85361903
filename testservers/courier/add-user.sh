#!/usr/bin/env bash
# Adds (or replaces) mail users on a Courier instance:  add-user.sh NAME USER PASSWORD [USER PASSWORD]...
# The login front reads DIR/users at every login, so a user can log in as soon as this returns.
# A replaced user keeps their mail; a new one gets an empty Maildir (INBOX).
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
source "$here/common.sh"
[ $# -ge 3 ] && [ $(( ($# - 1) % 2 )) -eq 0 ] || die "usage: add-user.sh NAME USER PASSWORD [USER PASSWORD]..."
name=$1; shift
valid_name "$name"
dir="$TESTSERVERS_ROOT/courier-$name"
[ -d "$dir/mail" ] || die "no instance '$name' (start it first)"

exec 8>>"$dir/users.lock"
flock -w 30 8 || die "the users file of '$name' is locked"
# DIR/users holds "user:password" lines; the password is everything after the first ':'.
declare -A password_of=()
order=()
if [ -f "$dir/users" ]; then
  while IFS= read -r line; do
    [[ "$line" == ?*:* ]] || continue
    u=${line%%:*}
    [[ -v "password_of[$u]" ]] || order+=("$u")
    password_of[$u]=${line#*:}
  done < "$dir/users"
fi
new_homes=()
while [ $# -gt 0 ]; do
  user=$1 password=$2; shift 2
  [[ "$user" =~ ^[A-Za-z0-9_@-][A-Za-z0-9_.@-]*$ ]] || die "user name '$user' may only hold letters, digits, '_', '.', '@' and '-' (and not start with '.')"
  [[ -n "$password" && "$password" != *$'\n'* && "$password" != *$'\r'* ]] || die "a password may not be empty or hold a line break"
  [[ -v "password_of[$user]" ]] || order+=("$user")
  password_of[$user]=$password
  # A Maildir by hand (what maildirmake does): cur, new and tmp, owned by the mail user.
  [ -d "$dir/mail/$user/Maildir/cur" ] || new_homes+=("$dir/mail/$user")
done
if [ ${#new_homes[@]} -gt 0 ]; then
  dirs=()
  for h in "${new_homes[@]}"; do dirs+=("$h/Maildir/cur" "$h/Maildir/new" "$h/Maildir/tmp"); done
  mkdir -p -m 700 "${dirs[@]}"
  chown -R "$mail_uid:$mail_gid" "${new_homes[@]}"
fi
tmp="$dir/users.new.$$"
( umask 077; for u in "${order[@]}"; do printf '%s:%s\n' "$u" "${password_of[$u]}"; done > "$tmp" )
[ "$EUID" != 0 ] || chown "$mail_uid:$mail_gid" "$tmp"
mv -f "$tmp" "$dir/users"
