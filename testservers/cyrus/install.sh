#!/usr/bin/env bash
# Installs what the private Cyrus IMAP 3.6 test servers need. Idempotent and non-interactive.
#
#   testservers/cyrus/install.sh        (start.sh runs it; prints the Cyrus folder on stdout)
#
# Debian's cyrus-common/cyrus-imapd conflict with dovecot-imapd (both provide imap-server) and their
# postinst would set up a system-wide server. So only the shared libraries and SASL tools come from apt
# as usual; the Cyrus packages themselves are fetched with `apt-get download` and unpacked with
# `dpkg-deb -x` into a folder of their own (never registered with dpkg, no maintainer scripts run):
#
#   ${OBSERVER_CYRUS_HOME:-/opt/observer-testservers/cyrus}/<version>/usr/lib/cyrus/bin/{master,imapd,...}
#
# A second run finds the unpacked tree and only checks that the apt packages are present.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"

cyrus_home="${OBSERVER_CYRUS_HOME:-/opt/observer-testservers/cyrus}"

# One install at a time (start.sh for a primary and a replica may run in parallel).
as_root mkdir -p "$cyrus_home"
[ -e "$cyrus_home/.lock" ] || as_root touch "$cyrus_home/.lock"
exec 9<"$cyrus_home/.lock"
flock -w 900 9 || die "timed out waiting for another Cyrus install ($cyrus_home/.lock)"

# Other jobs may run apt at the same moment: wait for the dpkg lock instead of failing at once.
# (APT_CONFIG only adds this option: Debian ships no /etc/apt/apt.conf, apt.conf.d is still read.)
if [ ! -e /etc/apt/apt.conf ] && [ -z "${APT_CONFIG:-}" ]; then
  export APT_CONFIG="$cyrus_home/.apt.conf"
  [ -s "$APT_CONFIG" ] || as_root sh -c "echo 'DPkg::Lock::Timeout \"600\";' > '$APT_CONFIG'"
fi

# Libraries the Cyrus binaries link against (libclamav12 and libzephyr4 are only needed by
# cyr_virusscan and notifyd, which we do not run), SASL with the sasldb auxprop plugin and
# saslpasswd2 (sasl2-bin; policy-rc.d keeps its saslauthd from starting).
packages=(libsasl2-2 libsasl2-modules libsasl2-modules-db sasl2-bin
  libssl3 libwrap0 libcom-err2 zlib1g libical3 libicu72 libjansson4 libkrb5-3 libldap-2.5-0
  libpcre3 libpq5 libsqlite3-0 libxapian30 libxml2 libstdc++6)
# Fast path: one dpkg-query for all of them instead of one dpkg -s each.
installed=$(dpkg-query -W -f='${db:Status-Status}\n' "${packages[@]}" 2>/dev/null | grep -c '^installed$' || true)
[ "$installed" = ${#packages[@]} ] || ensure_packages "${packages[@]}"

# The newest unpacked version wins; a new candidate version (security update) is unpacked next to it.
current=""
if [ -f "$cyrus_home/current" ]; then
  current=$(cat "$cyrus_home/current")
  [ -x "$cyrus_home/$current/usr/lib/cyrus/bin/master" ] && [ -f "$cyrus_home/$current/.complete" ] || current=""
fi
if [ -z "$current" ] || [ "${OBSERVER_CYRUS_REFRESH:-0}" = 1 ]; then
  version=$(apt-cache policy cyrus-imapd | awk '/Candidate:/ {print $2}')
  if [ -z "$version" ] || [ "$version" = "(none)" ]; then
    [ -f /tmp/.observer-apt-updated ] || { as_root apt-get update -qq >&2 && touch /tmp/.observer-apt-updated; }
    version=$(apt-cache policy cyrus-imapd | awk '/Candidate:/ {print $2}')
  fi
  [ -n "$version" ] && [ "$version" != "(none)" ] || die "apt knows no cyrus-imapd package"
  case "$version" in 3.6.*) ;; *) echo "testservers: warning: cyrus-imapd candidate is $version, not 3.6" >&2 ;; esac
  target="$cyrus_home/$version"
  if [ ! -f "$target/.complete" ]; then
    echo "testservers: unpacking cyrus-imapd $version into $target" >&2
    tmp=$(as_root mktemp -d "$cyrus_home/.download.XXXXXX")
    as_root chmod 755 "$tmp"
    # apt's download sandbox user must be able to write there, or apt warns.
    id _apt >/dev/null 2>&1 && as_root chown _apt "$tmp"
    (cd "$tmp" && as_root apt-get download -q "cyrus-common=$version" "cyrus-imapd=$version" >&2) \
      || { as_root rm -rf "$tmp"; die "apt-get download cyrus-common cyrus-imapd failed"; }
    as_root rm -rf "$target.partial"
    for deb in "$tmp"/*.deb; do as_root dpkg-deb -x "$deb" "$target.partial" || die "dpkg-deb -x $deb failed"; done
    as_root rm -rf "$tmp" "$target"
    as_root touch "$target.partial/.complete"
    as_root mv "$target.partial" "$target"
  fi
  as_root sh -c "echo '$version' > '$cyrus_home/current'"
  current=$version
fi
root="$cyrus_home/$current"

# Cyrus drops root privileges to the user it was built for ("cyrus"); Debian's postinst would have
# made it (system user in group mail). We did not run postinst, so make it here.
if [ "$(id -u)" = 0 ] && ! id cyrus >/dev/null 2>&1; then
  getent group mail >/dev/null || groupadd --system mail
  useradd --system --gid mail --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin \
    --comment "Cyrus Mailsystem User (observer test servers)" cyrus
fi

# Check that every binary we run loads (once per unpacked version and set of libraries).
libstamp="$root/.libs-ok"
if [ ! -f "$libstamp" ] || [ /var/lib/dpkg/status -nt "$libstamp" ]; then
  for b in master imapd idled ctl_cyrusdb; do
    out=$(LD_LIBRARY_PATH="$(echo "$root"/usr/lib/*-linux-gnu)" ldd "$root/usr/lib/cyrus/bin/$b" 2>&1) || die "ldd $b failed: $out"
    ! grep -q "not found" <<<"$out" || die "$b misses libraries: $(grep 'not found' <<<"$out" | tr -s ' \t\n' ' ')"
  done
  as_root touch "$libstamp"
fi
command -v saslpasswd2 >/dev/null || die "saslpasswd2 is missing (sasl2-bin)"
echo "$root"
