#!/usr/bin/env bash
# Start a throw-away PostgreSQL server for the store's tests and print its URL (and nothing else) on stdout.
#
#   export CASELOAD_PG_URL="$(bash scripts/start_postgres.sh)"
#
# Installs Debian's `postgresql` package with apt-get when no server binaries are found, then creates a
# cluster in a fresh temporary folder, owned by a non-root user (PostgreSQL refuses to run as root),
# listening on 127.0.0.1 only, on a free port, with trust authentication (loopback, tests only), and
# creates the database `caseload`. Progress goes to stderr; the stop command is printed there too.
# Environment: CASELOAD_PG_DIR (the cluster's folder; default: a new folder under /tmp).
#
#   bash scripts/start_postgres.sh stop DIR      stops the cluster that was started in DIR
set -euo pipefail

say() { echo "start_postgres: $*" >&2; }

find_bindir() {
    local initdb
    initdb="$(ls -1 /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -n "$initdb" ]; then dirname "$initdb"; fi
}

bindir="$(find_bindir)"
if [ -z "$bindir" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        say "PostgreSQL is not installed and installing it needs root (apt-get install postgresql)"
        exit 1
    fi
    say "installing Debian's postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    bindir="$(find_bindir)"
    if [ -z "$bindir" ]; then
        say "postgresql was installed but no initdb was found under /usr/lib/postgresql"
        exit 1
    fi
fi

# The user the server runs as: ourselves, or (as root) the postgres user the Debian package creates.
if [ "$(id -u)" -eq 0 ]; then
    runner="postgres"
    if ! id "$runner" >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin "$runner"
    fi
    as_runner() { runuser -u "$runner" -- "$@"; }
else
    runner="$(id -un)"
    as_runner() { "$@"; }
fi

if [ "${1:-}" = "stop" ]; then
    [ -n "${2:-}" ] || { say "usage: start_postgres.sh stop DIR"; exit 2; }
    as_runner "$bindir/pg_ctl" -D "$2/data" -m fast -w stop >&2
    exit 0
fi

datadir="${CASELOAD_PG_DIR:-$(mktemp -d /tmp/caseload-pg.XXXXXX)}"
mkdir -p "$datadir"
chown "$runner" "$datadir" 2>/dev/null || true
chmod 700 "$datadir"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"

say "creating a cluster in $datadir (user $runner, port $port)"
as_runner "$bindir/initdb" -D "$datadir/data" -U caseload --auth=trust -E UTF8 --no-locale >"$datadir/initdb.log" 2>&1 \
    || { cat "$datadir/initdb.log" >&2; exit 1; }

# fsync off: these are test clusters, killed with the machine; the store's crash tests kill the client.
as_runner "$bindir/pg_ctl" -D "$datadir/data" -l "$datadir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $datadir -c fsync=off -c max_connections=200" start >&2 \
    || { cat "$datadir/server.log" >&2; exit 1; }

as_runner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U caseload caseload >&2

say "running; stop it with: bash $0 stop $datadir"
echo "postgresql+psycopg://caseload@127.0.0.1:$port/caseload"
