#!/usr/bin/env bash
# Stops every instance under the test-server root (used by .ci/run as a final cleanup).
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
[ -d "$TESTSERVERS_ROOT" ] || exit 0
for d in "$TESTSERVERS_ROOT"/dovecot-*/; do
  [ -d "$d" ] || continue
  n=$(basename "$d"); "$here/dovecot/stop.sh" "${n#dovecot-}"
done
for d in "$TESTSERVERS_ROOT"/cyrus-*/; do
  [ -d "$d" ] || continue
  n=$(basename "$d"); "$here/cyrus/stop.sh" "${n#cyrus-}"
done
for d in "$TESTSERVERS_ROOT"/courier-*/; do
  [ -d "$d" ] || continue
  n=$(basename "$d"); "$here/courier/stop.sh" "${n#courier-}"
done
for d in "$TESTSERVERS_ROOT"/postgresql-*/; do
  [ -d "$d" ] || continue
  n=$(basename "$d"); "$here/postgresql/stop.sh" "${n#postgresql-}"
done
exit 0
