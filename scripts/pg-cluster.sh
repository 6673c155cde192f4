#!/usr/bin/env bash
# A throwaway PostgreSQL cluster, for the tests and for trying the authority on
# PostgreSQL by hand.
#
#   scripts/pg-cluster.sh start DIR [NAME=VALUE ...]
#       initdb into DIR/data as an unprivileged user, listen on 127.0.0.1 at a port
#       chosen now and on a socket in DIR, with the given server settings; print
#       the URL
#   scripts/pg-cluster.sh archiving DIR ARCHIVE
#       the same, archiving every WAL segment into ARCHIVE (for backups)
#   scripts/pg-cluster.sh restore BACKUP ARCHIVE DIR
#       a cluster made from a pg_basebackup in BACKUP, its WAL replayed from
#       ARCHIVE to the end; print the URL once it takes writes
#   scripts/pg-cluster.sh standby PRIMARY_URL DIR
#       a hot standby of the cluster at PRIMARY_URL, streaming its WAL; print its URL
#   scripts/pg-cluster.sh promote DIR
#       make the standby in DIR a primary (what Patroni does when the primary dies)
#   scripts/pg-cluster.sh restart DIR
#       stop it and start it again, with the same settings and port
#   scripts/pg-cluster.sh stop DIR
#       stop it by its PID and wait (at most 30 s)
#
# Debian's server binaries (/usr/lib/postgresql/N/bin) are used; scripts/test.sh
# installs them. Run as root, the cluster belongs to the `postgres` user, because
# PostgreSQL refuses to run as root. Local connections are trusted: the cluster is
# for this machine's tests only and listens on 127.0.0.1 alone.
set -euo pipefail

usage() { echo "usage: $0 start DIR [NAME=VALUE ...] | archiving DIR ARCHIVE | restore BACKUP ARCHIVE DIR | standby PRIMARY_URL DIR | promote DIR | restart DIR | stop DIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1
shift

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "PostgreSQL server binaries not found: apt-get install postgresql" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
owned_dir() { # DIR: made, and the cluster's user's
    mkdir -p "$1"
    if [ "$(id -u)" = 0 ]; then chown postgres "$1"; fi
}

# run DIR [NAME=VALUE ...]: start the cluster in DIR/data; print its URL.
run() {
    local dir=$1
    shift
    local port opts
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # fsync off unless asked: a test cluster outlives no power cut; a killed process loses nothing either way.
    opts="-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200"
    for setting in "$@"; do opts="$opts -c $setting"; done
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$opts" start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://ca@127.0.0.1:$port/postgres"
}

initdb_into() {
    owned_dir "$1"
    as_owner "$bin/initdb" -D "$1/data" -U ca -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$1/initdb.log" 2>&1 \
        || { cat "$1/initdb.log" >&2; exit 1; }
}

case $cmd in
start)
    dir=$(realpath -m "$1")
    shift
    initdb_into "$dir"
    run "$dir" "$@"
    ;;
archiving)
    [ $# -eq 2 ] || usage
    dir=$(realpath -m "$1")
    archive=$(realpath -m "$2")
    owned_dir "$archive"
    initdb_into "$dir"
    run "$dir" wal_level=replica archive_mode=on "archive_command='cp %p $archive/%f'" fsync=on
    ;;
restore)
    [ $# -eq 3 ] || usage
    backup=$(realpath -m "$1")
    archive=$(realpath -m "$2")
    dir=$(realpath -m "$3")
    owned_dir "$dir"
    cp -a "$backup" "$dir/data"
    [ "$(id -u)" = 0 ] && chown -R postgres "$dir/data"
    chmod 700 "$dir/data"
    as_owner touch "$dir/data/recovery.signal"
    # Replay every archived segment, then take writes (the end of the archive is the end of recovery).
    url=$(run "$dir" "restore_command='cp $archive/%f %p'" "recovery_target_timeline=latest")
    for _ in $(seq 600); do
        [ "$("$bin/psql" "$url" -tAc 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ] && { echo "$url"; exit 0; }
        sleep 0.1
    done
    echo "the restored cluster did not finish recovery within 60 s" >&2
    exit 1
    ;;
standby)
    [ $# -eq 2 ] || usage
    primary=$1
    dir=$(realpath -m "$2")
    owned_dir "$dir"
    as_owner "$bin/pg_basebackup" -D "$dir/data" -d "$primary" -X stream -R -c fast >"$dir/basebackup.log" 2>&1 \
        || { cat "$dir/basebackup.log" >&2; exit 1; }
    chmod 700 "$dir/data"
    run "$dir" hot_standby=on
    ;;
promote)
    dir=$(realpath -m "$1")
    as_owner "$bin/pg_ctl" -D "$dir/data" -w -t 60 promote >/dev/null
    ;;
restart)
    dir=$(realpath -m "$1")
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -m fast restart >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    ;;
stop)
    dir=$(realpath -m "$1")
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
