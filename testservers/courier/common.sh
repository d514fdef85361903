# Shared by the Courier scripts. Sourced after ../lib.sh, not run.
# The unpacked Courier packages (install.sh puts them there).
COURIER_HOME="${OBSERVER_COURIER_HOME:-/opt/observer-testservers/courier}"
COURIER_ROOT="$COURIER_HOME/root"
# Mail is owned and handled by nobody:nogroup when we are root (imapd refuses a Maildir it does not
# own, and should not run as root); otherwise by the calling user.
if [ "$EUID" = 0 ]; then
  IFS=: read -r _ _ mail_uid _ < <(getent passwd nobody)
  IFS=: read -r _ _ mail_gid _ < <(getent group nogroup)
  [ -n "$mail_uid" ] && [ -n "$mail_gid" ] || die "user nobody or group nogroup is missing"
else
  mail_uid=$EUID; mail_gid=$(id -g)
fi
