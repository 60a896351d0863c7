#!/usr/bin/env bash
# Start a throwaway PostgreSQL server from Debian's packages for the store tests (CI and developers).
# Prints the SQLAlchemy URL of an empty test database on stdout; everything else goes to stderr.
# Usage: export GRIDPATROL_TEST_PG_URL=$(bash .ci/postgres.sh)
set -euo pipefail
PORT=${GRIDPATROL_PG_PORT:-54329}
PGDATA=${GRIDPATROL_PG_DATA:-/tmp/gridpatrol-pg-$PORT}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$PGBIN" ]; then
  echo "PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 1
fi
as_pg() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if ! "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  rm -rf "$PGDATA"
  mkdir -p "$PGDATA"
  [ "$(id -u)" = "0" ] && chown postgres "$PGDATA"
  as_pg "$PGBIN/initdb" -D "$PGDATA" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >&2
  as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w \
    -o "-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100" start >&2
fi
as_pg "$PGBIN/psql" -q -h 127.0.0.1 -p "$PORT" -U postgres -c "DROP DATABASE IF EXISTS gridpatrol_test" >&2
as_pg "$PGBIN/psql" -q -h 127.0.0.1 -p "$PORT" -U postgres -c "CREATE DATABASE gridpatrol_test" >&2
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/gridpatrol_test"
