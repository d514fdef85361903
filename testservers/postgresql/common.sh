# Shared by the PostgreSQL scripts. Sourced after lib.sh, not run.

pg_instance_dir() { echo "$TESTSERVERS_ROOT/postgresql-$1"; }

# The newest installed server's bin folder (Debian: /usr/lib/postgresql/<major>/bin).
pg_newest_bin() {
  local v
  v=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sed 's#^/usr/lib/postgresql/\([0-9]*\)/bin$#\1#' | grep -E '^[0-9]+$' | sort -n | tail -1)
  [ -n "$v" ] && echo "/usr/lib/postgresql/$v/bin"
}

# The bin folder for an existing data folder (its PG_VERSION), or nothing.
pg_bin_for_data() {
  local v
  [ -f "$1/PG_VERSION" ] || return 1
  v=$(tr -dc 0-9 < "$1/PG_VERSION")
  [ -x "/usr/lib/postgresql/$v/bin/pg_ctl" ] && echo "/usr/lib/postgresql/$v/bin"
}

# PostgreSQL will not run as root: as root the server runs as nobody; otherwise as the caller.
pg_run_user() { if [ "$(id -u)" = 0 ]; then echo nobody; else id -un; fi; }

# Runs a command as the server's user, from a folder that user can enter.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u nobody -- "$@")
  else
    (cd / && "$@")
  fi
}

# Prints the postmaster's pid (first line of postmaster.pid) if it is alive.
pg_live_pid() {
  local file=$1/postmaster.pid pid
  [ -f "$file" ] || return 1
  pid=$(head -1 "$file" | tr -dc 0-9)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}
