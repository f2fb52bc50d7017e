#!/usr/bin/env bash
# Runs a command against Debian's PostgreSQL (15 on bookworm) instead of the embedded one:
# installs it if missing, starts a throw-away cluster on a free loopback port, runs the command
# with DATABASE_URL pointing at it, fails if the command left a database behind, and stops it.
# Usage: bash scripts/ci/with-debian-postgres.sh npx vitest run
set -euo pipefail
cd "$(dirname "$0")/../.."

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bin" ]; then
  echo "[pg] installing Debian's postgresql"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq postgresql >/dev/null
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

# PostgreSQL refuses to run as root: run the cluster as the package's postgres user.
as_pg=()
[ "$(id -u)" -eq 0 ] && as_pg=(runuser -u postgres --)
dir=$(mktemp -d)
chmod 755 "$dir"
[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')

stop() {
  "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

# Trust on loopback only, in a cluster that lives as long as this script.
"${as_pg[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-instructions >/dev/null
"${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c fsync=off -c max_connections=300" start >/dev/null

url="postgresql://postgres@127.0.0.1:$port/postgres"
databases() { "$bin/psql" "$url" -Atc "SELECT datname FROM pg_database ORDER BY 1" | tr '\n' ' '; }
version=$("$bin/psql" "$url" -Atc "SHOW server_version")
before=$(databases)
echo "[pg] PostgreSQL $version on 127.0.0.1:$port; databases: $before"

status=0
DATABASE_URL="$url" "$@" || status=$?

after=$(databases)
if [ "$after" != "$before" ]; then
  echo "[pg] the run left the server changed: databases before: $before; after: $after" >&2
  [ "$status" -ne 0 ] || status=1
else
  echo "[pg] the server has the databases it started with: $after"
fi
exit "$status"
