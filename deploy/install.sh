#!/usr/bin/env bash
# Installs Observer from this repository as a systemd service. Run it again to upgrade: it replaces the
# program and the units, and keeps the settings.
#
#   sudo bash deploy/install.sh [--prefix DIR] [--binary FILE] [--root DIR]
#
# It builds Observer (dotnet publish, native AOT: needs the .NET 10 SDK, clang and zlib1g-dev), unless
# --binary names an observer already built, then installs:
#   PREFIX/lib/observer/observer        the program, with libe_sqlite3.so beside it (it loads SQLite from there)
#   PREFIX/bin/observer                 a link to it, the command to type
#   /etc/observer/appsettings.json      a sample to edit, only if there is none: an existing one is never touched
#   /etc/systemd/system/observer.service, observer@.service   with ExecStart naming PREFIX/bin/observer
#   /var/lib/observer                   the state directory, 0700, owned by the service's user
# and creates the system user and group `observer` (no login, home /var/lib/observer) if missing.
#
# --prefix DIR   where the program goes (default /usr/local)
# --binary FILE  install this observer (from a `dotnet publish -p:PublishProfile=linux-x64` output folder,
#                with libe_sqlite3.so beside it) instead of building one
# --root DIR     install under DIR as if it were / (for packaging and tests): no user is created, no owner
#                changed, systemctl not run; root is not needed
# Exit codes: 0 installed, 1 a step failed, 2 a mistake in the command line.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
prefix=/usr/local binary="" root=""

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
# A mistake in the command line: one line that names it and says what to do, exit 2.
usage_error() { echo "install.sh: $*" >&2; exit 2; }
die() { echo "install.sh: $*" >&2; exit 1; }

# Sets an option from its value, which must be there and must not look like another option.
option() {
  local example
  case "$1" in --prefix) example=/usr/local ;; --binary) example=out/observer/observer ;; *) example=/tmp/stage ;; esac
  if [ -z "$2" ] || [[ "$2" == -* ]]; then usage_error "$1 needs a value, as in $1 $example; see --help"; fi
  case "$1" in --prefix) prefix=$2 ;; --binary) binary=$2 ;; *) root=$2 ;; esac
}

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix|--binary|--root) option "$1" "${2:-}"; shift 2 ;;
    --prefix=*|--binary=*|--root=*) option "${1%%=*}" "${1#*=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) usage_error "unknown option '$1'; the options are --prefix DIR, --binary FILE, --root DIR and --help" ;;
    *) usage_error "unexpected argument '$1'; options take their value after a space, as in --prefix /usr/local; see --help" ;;
  esac
done

# The prefix goes into ExecStart and into sed: an absolute path of plain characters only.
[[ "$prefix" == /* ]] || usage_error "--prefix must be an absolute path, not '$prefix'; as in --prefix /usr/local"
[[ "$prefix" =~ ^[A-Za-z0-9._/+-]+$ ]] || usage_error "--prefix '$prefix' may hold only letters, digits and . _ + - /"
prefix=$(realpath -m "$prefix"); prefix=${prefix%/}
exe=$prefix/bin/observer libdir=$prefix/lib/observer

if [ -n "$binary" ]; then
  [ -d "$binary" ] && [ -e "$binary/observer" ] && binary=$binary/observer
  [ -e "$binary" ] || usage_error "--binary $binary: no such file; give the observer of a 'dotnet publish' output folder"
  [ -f "$binary" ] || usage_error "--binary $binary is not a file; give the observer of a 'dotnet publish' output folder"
  [ -x "$binary" ] || usage_error "--binary $binary is not executable (chmod +x it); give the observer of a 'dotnet publish' output folder"
  # Observer loads SQLite (libe_sqlite3.so) from its own folder: without it every command but --version fails.
  [ -e "$(dirname "$binary")/libe_sqlite3.so" ] ||
    usage_error "--binary $binary has no libe_sqlite3.so beside it, and observer cannot run without it; give the observer inside a 'dotnet publish' output folder"
  binary=$(realpath "$binary")
fi

if [ -n "$root" ]; then
  mkdir -p "$root" || die "cannot create the staging root $root"
  root=$(cd "$root" && pwd); root=${root%/}
elif [ "$(id -u)" != 0 ]; then
  die "installing needs root: run it with sudo (sudo bash deploy/install.sh), or give --root DIR to install under a staging folder"
fi

# Builds Observer as it ships into artifacts/install and sets $binary. Run through sudo, it builds as the
# user who called sudo, so that the repository's build output stays theirs.
build() {
  local out=$repo/artifacts/install dotnet home="" user=${SUDO_USER:-}
  if [ "$(id -u)" = 0 ] && [ -n "$user" ] && [ "$user" != root ]; then home=$(getent passwd "$user" | cut -d: -f6); fi
  dotnet=$(command -v dotnet || true)
  # sudo's PATH leaves out the user's own ~/.dotnet, where dotnet-install.sh puts the SDK.
  if [ -z "$dotnet" ] && [ -n "$home" ] && [ -x "$home/.dotnet/dotnet" ]; then dotnet=$home/.dotnet/dotnet; fi
  [ -n "$dotnet" ] || die "dotnet not found: install the .NET 10 SDK, or build first (dotnet publish src/Observer -p:PublishProfile=linux-x64 -o out/observer) and give --binary out/observer/observer"
  command -v clang >/dev/null || die "building needs clang and zlib1g-dev (apt-get install clang zlib1g-dev), or give --binary with an observer built elsewhere"
  echo "building Observer (dotnet publish, native AOT; about a minute)..."
  local publish=("$dotnet" publish "$repo/src/Observer" -p:PublishProfile=linux-x64 -o "$out" -nologo -v quiet)
  if [ -n "$home" ]; then publish=(runuser -u "$user" -- env HOME="$home" "${publish[@]}"); fi
  DOTNET_CLI_TELEMETRY_OPTOUT=1 "${publish[@]}" || die "dotnet publish failed (the lines above say why); it needs the .NET 10 SDK, clang and zlib1g-dev"
  binary=$out/observer
}

# Copies a file into place through a temporary name and a rename, so that a running service's program
# is replaced whole (never written over while it runs) and an interrupted run leaves the old one.
put() {
  local mode=$1 from=$2 to=$3
  install -m "$mode" "$from" "$(dirname "$to")/.$(basename "$to").new"
  mv -f "$(dirname "$to")/.$(basename "$to").new" "$to"
}

# Whether this installs the machine itself, rather than a staging root.
real() { [ -z "$root" ]; }

if [ -z "$binary" ]; then build; fi
umask 022

# The user first: the files below are given to its group.
if ! real; then
  user_note="not created (staging root)"
elif getent passwd observer >/dev/null; then
  user_note="exists"
else
  group=(--user-group)
  if getent group observer >/dev/null; then group=(--gid observer); fi
  useradd --system "${group[@]}" --home-dir /var/lib/observer --no-create-home \
    --shell "$(command -v nologin || echo /usr/sbin/nologin)" observer || die "cannot create the user observer (useradd failed)"
  user_note="created (a system user, no login)"
fi

# The program, and every native library published beside it; the debug symbols (observer.dbg) stay out.
mkdir -p "$root$prefix/bin"
install -d -m 0755 "$root$libdir"
libs=()
for lib in "$(dirname "$binary")"/*.so; do
  [ -e "$lib" ] || continue
  put 0644 "$lib" "$root$libdir/$(basename "$lib")"
  libs+=("$libdir/$(basename "$lib")")
done
put 0755 "$binary" "$root$libdir/observer"
ln -sfn ../lib/observer/observer "$root$exe"
version=$("$root$libdir/observer" --version 2>/dev/null | head -n 1) || version=""

# The settings: a sample the first time, and never again (the admin's file is theirs).
settings=/etc/observer/appsettings.json
install -d -m 0750 "$root/etc/observer"
if real; then chgrp observer /etc/observer; fi
if [ -e "$root$settings" ]; then
  fresh=0
  settings_note="kept: it exists, and is never overwritten"
else
  fresh=1
  put 0640 "$repo/deploy/appsettings.sample.json" "$root$settings"
  if real; then chown root:observer "$settings"; fi
  settings_note="new: a sample to edit"
fi

# The units, with ExecStart naming the program where it was installed.
mkdir -p "$root/etc/systemd/system"
units=()
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for unit in "$repo"/deploy/systemd/*.service; do
  sed "s|^ExecStart=[^ ]*|ExecStart=$exe|" "$unit" > "$tmp"
  grep -q "^ExecStart=$exe " "$tmp" || die "$unit has no ExecStart line to point at $exe"
  put 0644 "$tmp" "$root/etc/systemd/system/$(basename "$unit")"
  units+=("/etc/systemd/system/$(basename "$unit")")
done

# The state directory: systemd's StateDirectory makes it too, but `observer sync` run before the first start needs it.
install -d -m 0700 "$root/var/lib/observer"
if real; then chown observer:observer /var/lib/observer; fi

running=0
if real && [ -d /run/systemd/system ]; then
  systemctl daemon-reload || die "systemctl daemon-reload failed"
  if systemctl is-active --quiet observer; then running=1; fi
fi

echo
if real; then echo "installed:"; else echo "installed under the staging root $root:"; fi
echo "  $exe -> $libdir/observer${version:+   ($version)}"
for lib in ${libs[@]+"${libs[@]}"}; do echo "  $lib"; done
echo "  $settings   $settings_note"
for unit in "${units[@]}"; do echo "  $unit   ExecStart=$exe ..."; done
echo "  /var/lib/observer   the state directory (0700, user observer)"
echo "  user observer   $user_note"
echo
if [ $fresh = 1 ]; then
  cat <<EOF
next steps:
  1. edit the settings: sudoedit $settings
     (servers and logins; State:Path under /var/lib/observer; a PasswordFile readable by the group observer, not under /home)
  2. the first copy, as the service's user: sudo -u observer $exe sync --config $settings
  3. start the service: sudo systemctl enable --now observer
  4. watch it: journalctl -u observer -f   and   sudo -u observer $exe status --config $settings
EOF
elif [ $running = 1 ]; then
  echo "upgrade: observer.service still runs the previous program until: sudo systemctl restart observer"
else
  echo "upgrade: a running service keeps the previous program until it restarts: sudo systemctl restart observer (or observer@NAME)"
fi
