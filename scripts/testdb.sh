#!/usr/bin/env bash
# Makes sure a PostgreSQL server is reachable and prints its DATABASE_URL.
#
#   scripts/testdb.sh          the shared test cluster (port $ARROW_TEST_PGPORT, default 54329)
#   scripts/testdb.sh PORT     a cluster of your own on PORT (the benchmark, the fault tests)
#
# Uses $ARROW_TEST_DATABASE_URL when set and no PORT is given. Otherwise starts (once) a throwaway
# cluster made with initdb from Debian's postgresql package, installing the package when it is
# missing (as root). The cluster listens on 127.0.0.1:PORT only. It lives in $ARROW_PGDATA when
# set (give each of your own clusters a temporary directory), else in /tmp/arrow-pgtest-PORT.
# By default fsync is off, as suits test data; ARROW_PG_DURABLE=1 keeps PostgreSQL's production
# defaults (fsync, synchronous_commit, full_page_writes) for the benchmark.
# Stopping a cluster is left to whoever started it (`pg_ctl -D DIR stop`): the shared one is used
# by every developer's tests at once and is never stopped by a script.
set -euo pipefail

if [ $# -eq 0 ] && [ -n "${ARROW_TEST_DATABASE_URL:-}" ]; then
  echo "$ARROW_TEST_DATABASE_URL"
  exit 0
fi

port="${1:-${ARROW_TEST_PGPORT:-54329}}"
case "$port" in
  '' | *[!0-9]*) echo "usage: $0 [PORT]" >&2; exit 2 ;;
esac
url="postgres://arrow@127.0.0.1:${port}/arrow"

find_bindir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

bindir="$(find_bindir)"
if [ -z "$bindir" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL is not installed: run 'apt-get install postgresql' as root" >&2
    exit 1
  fi
  echo "installing PostgreSQL (Debian package postgresql)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  bindir="$(find_bindir)"
fi

if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port"; then
  echo "$url"
  exit 0
fi

# initdb refuses to run as root: the cluster belongs to the postgres user then.
if [ "$(id -u)" -eq 0 ]; then
  owner=postgres
  run() { runuser -u postgres -- "$@"; }
  datadir="${ARROW_PGDATA:-/tmp/arrow-pgtest-${port}}"
else
  owner="$(id -un)"
  run() { "$@"; }
  datadir="${ARROW_PGDATA:-${TMPDIR:-/tmp}/arrow-pgtest-${owner}-${port}}"
fi

if [ ! -f "$datadir/PG_VERSION" ]; then
  rm -rf "$datadir"
  mkdir -p "$datadir"
  chown "$owner" "$datadir"
  chmod 700 "$datadir"
  run "$bindir/initdb" -D "$datadir" -U arrow -A trust --no-sync -E UTF8 >/dev/null
fi
if [ "${ARROW_PG_DURABLE:-0}" = 1 ]; then
  durability=""
else
  durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
run "$bindir/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w -t 60 start \
  -o "-p $port -k $datadir -c listen_addresses=127.0.0.1 $durability -c max_connections=400 ${ARROW_PG_OPTIONS:-}" >/dev/null
run "$bindir/psql" -h 127.0.0.1 -p "$port" -U arrow -d postgres -qtAc \
  "SELECT 1 FROM pg_database WHERE datname='arrow'" | grep -q 1 ||
  run "$bindir/createdb" -h 127.0.0.1 -p "$port" -U arrow arrow
echo "$url"
