#!/usr/bin/env bash
# A throwaway PostgreSQL cluster, for the tests and for trying the authority on
# PostgreSQL by hand.
#
#   scripts/pg-cluster.sh start DIR   initdb into DIR/data as an unprivileged user,
#                                     listen on 127.0.0.1 at a port chosen now and on
#                                     a socket in DIR; print the URL
#   scripts/pg-cluster.sh stop DIR    stop it by its PID and wait (at most 30 s)
#
# Debian's server binaries (/usr/lib/postgresql/N/bin) are used; scripts/test.sh
# installs them. Run as root, the cluster belongs to the `postgres` user, because
# PostgreSQL refuses to run as root. Local connections are trusted: the cluster is
# for this machine's tests only and listens on 127.0.0.1 alone.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$(realpath -m "$2")

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "PostgreSQL server binaries not found: apt-get install postgresql" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case $cmd in
start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U ca -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # fsync off: a test cluster outlives no power cut; a killed process loses nothing either way.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://ca@127.0.0.1:$port/postgres"
    ;;
stop)
    pidfile="$dir/data/postmaster.pid"
    [ -f "$pidfile" ] || exit 0
    pid=$(head -n 1 "$pidfile")
    kill -INT "$pid" 2>/dev/null || exit 0 # fast shutdown
    for _ in $(seq 300); do
        kill -0 "$pid" 2>/dev/null || exit 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    ;;
*) usage ;;
esac
