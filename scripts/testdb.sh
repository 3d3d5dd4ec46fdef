#!/usr/bin/env bash
# Makes sure a PostgreSQL server is reachable for the test suite and prints its DATABASE_URL.
#
# Uses $ARROW_TEST_DATABASE_URL when set. Otherwise starts (once) a throwaway cluster made with
# initdb from Debian's postgresql package, installing the package when it is missing (as root).
# The cluster listens on 127.0.0.1:$ARROW_TEST_PGPORT only, with fsync off: it holds test data.
set -euo pipefail

if [ -n "${ARROW_TEST_DATABASE_URL:-}" ]; then
  echo "$ARROW_TEST_DATABASE_URL"
  exit 0
fi

port="${ARROW_TEST_PGPORT:-54329}"
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
  datadir="/tmp/arrow-pgtest-${port}"
else
  owner="$(id -un)"
  run() { "$@"; }
  datadir="${TMPDIR:-/tmp}/arrow-pgtest-${owner}-${port}"
fi

if [ ! -f "$datadir/PG_VERSION" ]; then
  rm -rf "$datadir"
  mkdir -p "$datadir"
  chown "$owner" "$datadir"
  chmod 700 "$datadir"
  run "$bindir/initdb" -D "$datadir" -U arrow -A trust --no-sync -E UTF8 >/dev/null
fi
run "$bindir/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w -t 60 start \
  -o "-p $port -k $datadir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" >/dev/null
run "$bindir/psql" -h 127.0.0.1 -p "$port" -U arrow -d postgres -qtAc \
  "SELECT 1 FROM pg_database WHERE datname='arrow'" | grep -q 1 ||
  run "$bindir/createdb" -h 127.0.0.1 -p "$port" -U arrow arrow
echo "$url"
