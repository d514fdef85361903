#!/usr/bin/env bash
# Installs what the private Courier-IMAP test servers need; idempotent and non-interactive.
#
#   testservers/courier/install.sh        (start.sh runs it; prints the install folder)
#
# Debian's courier-imap conflicts with dovecot-imapd (both provide imap-server), and Dovecot test
# servers run in the same session, so the Courier packages themselves are never installed: they are
# fetched with `apt-get download` and unpacked with `dpkg-deb -x` into a folder of their own
# ($OBSERVER_COURIER_HOME, default /opt/observer-testservers/courier). Only their non-conflicting
# dependencies (shared libraries, gamin for IDLE) are installed with apt. Nothing is configured
# system-wide and no service (authdaemond, courier-imap) is ever started: start.sh runs Courier's
# imapd behind a small login front of its own (login-front.py).
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"

COURIER_HOME="${OBSERVER_COURIER_HOME:-/opt/observer-testservers/courier}"
# Unpacked by hand, never installed: they conflict with dovecot-imapd or bring in system services.
unpacked=(courier-imap courier-base courier-authlib)
# Installed normally: libraries imapd, maildirmake and libcourierauth link against; gamin's
# gam_server (started on demand, per user, by libgamin) gives imapd its realtime IDLE.
apt_packages=(libcourier-unicode4 libidn12 libgdbm6 libpcre3 libgamin0 gamin python3)
stamp="$COURIER_HOME/installed"

# Fast path (start.sh runs this every time): everything there, one dpkg-query instead of seven.
if [ -s "$stamp" ] && [ -x "$COURIER_HOME/root/usr/bin/imapd" ] \
   && [ "$(dpkg-query -W -f='${db:Status-Status}\n' "${apt_packages[@]}" 2>/dev/null | grep -cx installed)" = ${#apt_packages[@]} ]; then
  echo "$COURIER_HOME"
  exit 0
fi

as_root mkdir -p "$(dirname "$COURIER_HOME")"
# Two start.sh runs at once must not run apt or unpack at the same time.
[ -w "$COURIER_HOME.lock" ] || as_root sh -c "touch '$COURIER_HOME.lock' && chmod 666 '$COURIER_HOME.lock'"
exec 9>>"$COURIER_HOME.lock"
flock -w 300 9 || die "another install of Courier holds $COURIER_HOME.lock"
ensure_packages "${apt_packages[@]}"
if [ -s "$stamp" ] && [ -x "$COURIER_HOME/root/usr/bin/imapd" ]; then
  echo "$COURIER_HOME"
  exit 0
fi

echo "testservers: unpacking ${unpacked[*]} into $COURIER_HOME" >&2
as_root mkdir -p "$COURIER_HOME"
work=$(as_root mktemp -d "$COURIER_HOME/download.XXXXXX")
err=$(mktemp)
trap 'as_root rm -rf "$work"; rm -f "$err"' EXIT
# apt-get download drops to the _apt user; let it write here, so it does not warn.
getent passwd _apt >/dev/null && as_root chown _apt "$work"
download() { (cd "$work" && as_root apt-get download -q "${unpacked[@]}") >/dev/null 2>"$err"; }
if ! download; then
  # Fresh machine without package lists: update once, then try again.
  as_root apt-get update -qq >&2 && touch /tmp/.observer-apt-updated
  download || die "apt-get download ${unpacked[*]} failed: $(cat "$err")"
fi
as_root mkdir -p "$work/root"
versions=()
for p in "${unpacked[@]}"; do
  deb=$(ls "$work/${p}_"*.deb 2>/dev/null | head -n1)
  [ -n "$deb" ] || die "apt-get download gave no package for $p"
  as_root dpkg-deb -x "$deb" "$work/root"
  versions+=("$p=$(dpkg-deb -f "$deb" Version)")
done
# The unpacked imapd must find libcourierauth (from courier-authlib) and the system libraries.
LD_LIBRARY_PATH="$work/root/usr/lib" "$work/root/usr/bin/imapd" --version >/dev/null 2>&1 \
  || die "the unpacked imapd does not run: $(LD_LIBRARY_PATH="$work/root/usr/lib" ldd "$work/root/usr/bin/imapd" | grep 'not found')"
as_root rm -rf "$COURIER_HOME/root"
as_root mv "$work/root" "$COURIER_HOME/root"
printf '%s\n' "${versions[@]}" | as_root tee "$stamp" >/dev/null
echo "$COURIER_HOME"
