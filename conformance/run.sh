#!/usr/bin/env bash
# The GraphQL ecosystem's own conformance suites against a running leadsync:
#   1. GraphQL over HTTP: the graphql-http package's server audit (http-audit.mjs)
#   2. GraphQL over WebSocket: the graphql-ws client and raw sockets for the close codes
#      (ws-protocol.mjs)
#   3. Fuzzing: schemathesis against /graphql (fuzz.sh)
# Starts `leadsync serve` on a free port with a temporary SQLite database and data directory,
# creates its tokens with `leadsync users create`, runs the suites, stops the server, prints a
# summary line per suite, and exits non-zero when any suite fails.
#
# Installs what it needs, idempotently: the npm packages pinned in package-lock.json (npm ci) and
# schemathesis (pinned below) in a virtualenv under ~/.cache. LEADSYNC_BIN overrides the binary
# (by default target/debug/leadsync, built if needed); CONFORMANCE_SUITES=http,ws,fuzz selects;
# CONFORMANCE_POSTGRES_URL=postgres://USER@HOST:PORT/DB also fuzzes a fresh PostgreSQL database.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
SCHEMATHESIS_VERSION=4.32.5
suites=",${CONFORMANCE_SUITES:-http,ws,fuzz},"

# ------------------------------------------------------------------ dependencies
if [[ $suites == *,http,* || $suites == *,ws,* ]]; then
  stamp="$here/node_modules/.leadsync-lock"
  if ! cmp -s "$here/package-lock.json" "$stamp" 2>/dev/null; then
    echo "== conformance: npm ci"
    npm ci --prefix "$here" --no-audit --no-fund --silent
    cp "$here/package-lock.json" "$stamp"
  fi
fi
if [[ $suites == *,fuzz,* ]]; then
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/leadsync-conformance/schemathesis-$SCHEMATHESIS_VERSION"
  if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
    echo "== conformance: pip install schemathesis==$SCHEMATHESIS_VERSION"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
fi
bin=${LEADSYNC_BIN:-}
if [ -z "$bin" ]; then
  (cd "$root" && cargo build --quiet --bin leadsync)
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/leadsync"
fi

# ------------------------------------------------------------------ the server
work=$(mktemp -d "${TMPDIR:-/tmp}/leadsync-conformance.XXXXXX")
export LEADSYNC_DATA_DIR="$work/data"
export LEADSYNC_ENV=development
export LEADSYNC_WS_INIT_TIMEOUT_MS=1000
# The fuzzer sends far more than the default 1,200 requests a minute with one token.
export LEADSYNC_RATE_LIMIT_PER_MINUTE=1000000
export LEADSYNC_LOG=${LEADSYNC_LOG:-info,sqlx=warn,sea_orm=warn}
unset LEADSYNC_PUBLIC_URL LEADSYNC_SECRET_KEY LINKEDIN_CLIENT_ID LINKEDIN_CLIENT_SECRET

server=""
pg_database=""
stop() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  server=""
}
cleanup() {
  stop
  if [ -n "$pg_database" ]; then
    psql "$CONFORMANCE_POSTGRES_URL" -q -c "DROP DATABASE IF EXISTS $pg_database WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

token() { "$bin" users create --name "$1" --role "$2" 2>>"$work/cli.log" | tail -n 1; }

# start NAME DATABASE_URL: serves that database on a free port; sets url, admin, sales, s2s.
start() {
  export DATABASE_URL=$2
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  export LEADSYNC_LISTEN="127.0.0.1:$port"
  admin=$(token "conformance admin" SYSTEM_ADMINISTRATOR)
  sales=$(token "conformance salesperson" LEADGEN_SALESPERSON)
  s2s=$(token "conformance inbound" S2S_INBOUND)
  log="$work/server-$1.log"
  "$bin" serve >"$log" 2>&1 &
  server=$!
  url="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    curl -fsS "$url/readyz" >/dev/null 2>&1 && break
    kill -0 "$server" 2>/dev/null || { cat "$log"; echo "leadsync serve exited"; exit 1; }
    sleep 0.1
  done
  export LEADSYNC_URL="$url"
  echo "== conformance: leadsync on $url ($1)"
}

declare -a summary=()
passed=0
failed=0
run_suite() {
  local name=$1
  shift
  local out="$work/$name.log"
  echo "== conformance: $name"
  local started=$SECONDS status=0
  "$@" >"$out" 2>&1 || status=$?
  cat "$out"
  local last
  last=$(grep -v '^\s*$' "$out" | tail -n 1)
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    summary+=("PASS  $name ($((SECONDS - started)) s): $last")
  else
    failed=$((failed + 1))
    summary+=("FAIL  $name ($((SECONDS - started)) s, exit $status): $last")
  fi
}

# finish NAME: stops the server; a crash, or a panic or internal error in its log, fails the run
# even if no suite noticed it.
finish() {
  if ! kill -0 "$server" 2>/dev/null; then
    failed=$((failed + 1))
    summary+=("FAIL  the server ($1) died during the suites")
  fi
  stop
  if grep -qE "panicked|internal error" "$log"; then
    failed=$((failed + 1))
    summary+=("FAIL  the server ($1) logged a panic or an internal error:")
    while IFS= read -r line; do summary+=("      $line"); done < <(
      sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E "panicked|ERROR" | cut -c1-300 | head -n 5
    )
  fi
}

fuzz() {
  run_suite "schemathesis fuzzing$1" env LEADSYNC_TOKEN="$admin" \
    SCHEMATHESIS="$venv/bin/schemathesis" FUZZ_REPORT_DIR="$work/fuzz-report$1" bash "$here/fuzz.sh"
}

# ------------------------------------------------------------------ the suites, on SQLite
start sqlite "sqlite://$work/leadsync.db?mode=rwc"
if [[ $suites == *,http,* ]]; then
  run_suite "graphql-http audit" env LEADSYNC_TOKEN="$admin" node "$here/http-audit.mjs"
fi
if [[ $suites == *,ws,* ]]; then
  run_suite "graphql-ws protocol" env LEADSYNC_TOKEN="$sales" LEADSYNC_S2S_TOKEN="$s2s" \
    WS_INIT_TIMEOUT_MS="$LEADSYNC_WS_INIT_TIMEOUT_MS" node "$here/ws-protocol.mjs"
fi
if [[ $suites == *,fuzz,* ]]; then
  fuzz ""
fi
finish sqlite

# ------------------------------------------------------------------ fuzzing again, on PostgreSQL
# PostgreSQL refuses some input that SQLite stores (U+0000 in text), so the fuzzer runs there too
# when CONFORMANCE_POSTGRES_URL names a server (a fresh database is created and dropped).
if [[ $suites == *,fuzz,* && -n ${CONFORMANCE_POSTGRES_URL:-} ]] && ! command -v psql >/dev/null; then
  summary+=("SKIP  schemathesis fuzzing (PostgreSQL): psql is not installed")
elif [[ $suites == *,fuzz,* && -n ${CONFORMANCE_POSTGRES_URL:-} ]]; then
  pg_database="leadsync_conformance_$$_$RANDOM"
  psql "$CONFORMANCE_POSTGRES_URL" -q -c "CREATE DATABASE $pg_database" >/dev/null
  start postgres "${CONFORMANCE_POSTGRES_URL%/*}/$pg_database"
  fuzz " (PostgreSQL)"
  finish postgres
fi

echo "== conformance summary"
printf '%s\n' "${summary[@]}"
echo "conformance: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
