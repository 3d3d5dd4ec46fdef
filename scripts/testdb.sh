#!/usr/bin/env bash
# Throwaway PostgreSQL clusters for the tests and the benchmark (Debian's postgresql package).
#
#   scripts/testdb.sh run CMD [ARG...]
#       Starts a cluster of its own in a new temporary directory, on a port found free at start,
#       runs CMD with DATABASE_URL pointing at it and ARROW_EXPECT_POSTGRES=1 (the test suite then
#       refuses to run on anything else), stops the cluster and removes it when CMD ends, and exits
#       with CMD's status. With ARROW_TEST_DATABASE_URL set, runs CMD against that server instead.
#   scripts/testdb.sh start PORT
#       Starts (or finds running) the cluster in $ARROW_PGDATA on PORT and prints its DATABASE_URL;
#       stopping it is left to the caller (bench/cluster.py does both).
#
# A cluster listens on 127.0.0.1 only. fsync is off, as suits test data; ARROW_PG_DURABLE=1 keeps
# PostgreSQL's production defaults (the benchmark). ARROW_PG_OPTIONS adds server options.
# Fails loudly, never falls back: no PostgreSQL, no cluster, a non-zero exit and a message.
set -euo pipefail

die() { echo "testdb.sh: $*" >&2; exit 1; }

find_bindir() {
  local dirs=(/usr/lib/postgresql/*/bin)
  [ -x "${dirs[-1]}/initdb" ] || return 1
  printf '%s\n' "${dirs[@]}" | sort -V | tail -n 1
}

bindir="$(find_bindir)" ||
  die "PostgreSQL is not installed; as root run: bash scripts/system-packages.sh test (make test does)"

# initdb refuses to run as root: the cluster belongs to the postgres user then.
if [ "$(id -u)" -eq 0 ]; then
  owner=postgres
  as_owner() { (cd / && runuser -u postgres -- "$@"); } # from /: it may not read our cwd
else
  owner="$(id -un)"
  as_owner() { "$@"; }
fi

# start DATADIR PORT: creates the cluster when DATADIR holds none, starts it, makes database arrow.
start() {
  local datadir="$1" port="$2" durability=""
  case "$port" in '' | *[!0-9]*) die "not a port: '$port'" ;; esac
  if [ ! -f "$datadir/PG_VERSION" ]; then
    mkdir -p "$datadir"
    chown "$owner" "$datadir"
    chmod 700 "$datadir"
    as_owner "$bindir/initdb" -D "$datadir" -U arrow -A trust --no-sync -E UTF8 >/dev/null
  fi
  [ "${ARROW_PG_DURABLE:-0}" = 1 ] ||
    durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  if ! "$bindir/pg_isready" -q -h "$datadir" -p "$port"; then
    as_owner "$bindir/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w -t 60 start -o \
      "-p $port -k $datadir -c listen_addresses=127.0.0.1 $durability -c max_connections=400 ${ARROW_PG_OPTIONS:-}" \
      >/dev/null || return 1
  fi
  as_owner "$bindir/psql" -h 127.0.0.1 -p "$port" -U arrow -d postgres -qtAc \
    "SELECT 1 FROM pg_database WHERE datname='arrow'" | grep -q 1 ||
    as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U arrow arrow
}

# A port below Linux's ephemeral range (32768-60999), where no outgoing connection's source port
# can be sitting on it (bench/cluster.py says why), and free now.
free_port() {
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 12000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
  done
  die "no free port found in 20000-31999"
}

run() {
  [ $# -gt 0 ] || die "usage: $0 run CMD [ARG...]"
  export ARROW_EXPECT_POSTGRES=1
  if [ -n "${ARROW_TEST_DATABASE_URL:-}" ]; then
    DATABASE_URL="$ARROW_TEST_DATABASE_URL" exec "$@"
  fi
  local port status=0
  parent="$(mktemp -d "${TMPDIR:-/tmp}/arrow-pgtest.XXXXXX")"
  chmod 755 "$parent" # the postgres user must reach the data directory inside
  trap 'as_owner "$bindir/pg_ctl" -D "$parent/data" -m immediate -w stop >/dev/null 2>&1 || true
        rm -rf "$parent"' EXIT
  trap 'exit 130' INT TERM
  for attempt in 1 2 3; do
    port="$(free_port)"
    start "$parent/data" "$port" && break
    [ "$attempt" -lt 3 ] || die "PostgreSQL did not start; its log: $(tail -n 5 "$parent/data/server.log" 2>&1)"
  done
  echo "testdb.sh: PostgreSQL $(cat "$parent/data/PG_VERSION") on 127.0.0.1:$port ($parent)" >&2
  DATABASE_URL="postgres://arrow@127.0.0.1:${port}/arrow" "$@" || status=$?
  return "$status"
}

case "${1:-}" in
  run) shift; run "$@" ;;
  start)
    [ $# -eq 2 ] || die "usage: $0 start PORT (with ARROW_PGDATA set)"
    [ -n "${ARROW_PGDATA:-}" ] || die "start needs ARROW_PGDATA, the cluster's directory"
    start "$ARROW_PGDATA" "$2" || die "PostgreSQL did not start on port $2; see $ARROW_PGDATA/server.log"
    echo "postgres://arrow@127.0.0.1:$2/arrow"
    ;;
  *) die "usage: $0 run CMD [ARG...] | $0 start PORT" ;;
esac
