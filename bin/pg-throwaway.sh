# Sourced: start a throwaway PostgreSQL cluster in a temporary folder, export DATABASE_URL,
# and remove it all on exit. Returns 1 (and prints how to install) when no server binaries.
pg_bindir() {
  local d
  for d in ${PG_BINDIR:-} $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

pg_throwaway_start() {
  local bindir; bindir="$(pg_bindir)" || return 1
  PG_TMP="$(mktemp -d /tmp/jianguan-pg.XXXXXX)"
  local port; port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  local as=()
  if [ "$(id -u)" = 0 ]; then
    # initdb refuses to run as root: the cluster belongs to the postgres system user.
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$PG_TMP"; as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bindir/initdb" -D "$PG_TMP/data" -U jianguan -A trust -E UTF8 --locale=C.UTF-8 >"$PG_TMP/initdb.log" 2>&1 \
    || { cat "$PG_TMP/initdb.log" >&2; return 1; }
  "${as[@]}" "$bindir/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 start \
    -o "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB" >/dev/null \
    || { cat "$PG_TMP/server.log" >&2; return 1; }
  PG_STOP=("${as[@]}" "$bindir/pg_ctl" -D "$PG_TMP/data" -m fast -w stop)
  export PG_BINDIR="$bindir"
  export DATABASE_URL="postgres://jianguan@127.0.0.1:$port/jianguan"
  "$bindir/createdb" -h 127.0.0.1 -p "$port" -U jianguan jianguan
  trap pg_throwaway_stop EXIT
}

pg_throwaway_stop() {
  [ -n "${PG_TMP:-}" ] || return 0
  "${PG_STOP[@]}" >/dev/null 2>&1 || true
  rm -rf "$PG_TMP"; PG_TMP=""
}
