#!/usr/bin/env bash
# Licensing throughput and latency next to a Fastify hello-world, same machine, same run (DESIGN.md §6).
# Everything goes to 127.0.0.1; every wrk run is bounded by -d (DURATION, Default: 10s).
# Needs: wrk (apt-get install -y wrk), PostgreSQL on 127.0.0.1:5432 (BENCH_DATABASE_URL), Redis on 6379.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/toolchain.sh >/dev/null 2>&1
if ! command -v wrk >/dev/null; then
  echo "bench: wrk is missing; installing it with apt-get (Debian package wrk)"
  apt-get install -y wrk >/dev/null 2>&1 || { echo "bench: SKIPPED, wrk could not be installed"; exit 0; }
fi
DURATION=${DURATION:-10s}
# STORES=postgres (or redis) runs one seat store only (Default: both).
ADMIN_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB=atrium_bench_$(date +%s)
DB_URL="${ADMIN_URL%/*}/$DB"
OUT=bench/results/licensing-$(date +%Y%m%dT%H%M%S).txt
mkdir -p bench/results
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  psql "$ADMIN_URL" -qc "drop database if exists $DB with (force)" >/dev/null 2>&1 || true
  # The Redis seat store's keys of this run (ATRIUM_REDIS_KEY_PREFIX below).
  if command -v redis-cli >/dev/null; then
    redis-cli --scan --pattern "bench:$DB:*" | xargs -r -n 500 redis-cli del >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
. bench/licensing/lib.sh
log() { echo "$*" | tee -a "$OUT"; }

psql "$ADMIN_URL" -qc "create database $DB"
DATABASE_URL=$DB_URL node apps/server/src/cli.ts migrate >/dev/null

rss() { awk '/VmRSS/ {printf "%.0f MB", $2/1024}' "/proc/$1/status"; }
REDIS_PID=$(pgrep -x redis-server | head -1 || true)
# CPU per request: what the server (and Redis) spent over the run divided by the requests wrk completed. On a
# shared 2-core box this moves far less than req/s does, because it does not count the time spent waiting for a core.
per_request() { # ticks before, ticks after, requests -> microseconds
  awk -v a="$1" -v b="$2" -v n="$3" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", (n > 0 ? (b - a) / hz * 1e6 / n : 0) }'
}
measure() { # name, wrk args...
  local name=$1; shift
  local result server0 redis0
  server0=$(cpu_ticks "$SERVER_PID"); redis0=$(cpu_ticks "${REDIS_PID:-0}")
  result=$(wrk -t1 -c"${CONNECTIONS:-50}" -d"$DURATION" --latency "$@")
  local server_us redis_us requests
  requests=$(echo "$result" | awk '/requests in/ {print $1}')
  server_us=$(per_request "$server0" "$(cpu_ticks "$SERVER_PID")" "$requests")
  redis_us=$(per_request "$redis0" "$(cpu_ticks "${REDIS_PID:-0}")" "$requests")
  local rps p50 p99
  rps=$(echo "$result" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$result" | awk '$1=="50%" {print $2}')
  p99=$(echo "$result" | awk '$1=="99%" {print $2}')
  local non2xx
  non2xx=$(echo "$result" | awk '/Non-2xx/ {print $NF}')
  log "$(printf '%-28s %10s req/s  p50 %8s  p99 %8s  non-2xx %s  rss %s  cpu/req: server %3s us, redis %2s us' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}" "$(rss "$SERVER_PID")" "$server_us" "$redis_us")"
  LAST_RPS=$rps LAST_P99=$p99
  RESULTS+=("$name|$rps")
}
RESULTS=() P99S=()
# Hello-world runs first and last: on a shared 2-core machine its rate can move by a third from one minute to the
# next, so the ratios at the end are taken against the faster of the two (the conservative reading).
HELLO_MAX=0
PORT=18600 node bench/licensing/hello.ts & HELLO_PID=$!; PIDS+=("$HELLO_PID")
hello_world() { # label
  SERVER_PID=$HELLO_PID measure "hello-world GET ($1)" http://127.0.0.1:18600/
  HELLO_MAX=$(awk -v a="$HELLO_MAX" -v b="$LAST_RPS" 'BEGIN { print (b > a ? b : a) }')
}
# The same case at half the rate just measured (DESIGN.md §6 states p99 at half load): 200 connections, each pausing
# after every response for, on average, the time that makes them offer half of the full-load rate together (the
# scripts draw each pause at random so that the connections do not fall in step). wrk's pause is whole milliseconds,
# and a response's own latency adds to it, so the mean is 1 ms shorter than 2 x 200 / rate: 49-52 % of the full
# rate. (With 50 connections and one fixed pause, 3 ms for a heartbeat, the load was 38-42 % and came in waves.)
half_load() { # name, wrk args...
  local name=$1 full=$LAST_RPS; shift
  HALF_DELAY=$(awk -v r="$LAST_RPS" 'BEGIN { d = int(400000 / r + 0.5) - 1; print (d < 1 ? 1 : d) }')
  CONNECTIONS=200 DELAY_MS=$HALF_DELAY measure "$name @ half load" "$@"
  log "$(awk -v h="$LAST_RPS" -v f="$full" 'BEGIN { printf "%28s (%.0f %% of the full-load rate)", "", 100 * h / f }')"
}
# What the machine and the stack alone give at that same offered load (ADR 0104): the same 200 connections and
# pauses (HALF_DELAY, just used), sent to the route's floor and to hello-world, which stay up for this. Run right
# after Atrium's, so the three p99s share the machine's minute. Adds a line to P99S: name|atrium|floor|hello.
same_rate() { # name of Atrium's half-load case, floor's wrk args...
  local name=$1 atrium=$LAST_P99 floor; shift
  SERVER_PID=$FLOOR_PID CONNECTIONS=200 DELAY_MS=$HALF_DELAY measure "  floor, same rate" "$@"
  floor=$LAST_P99
  SERVER_PID=$HELLO_PID CONNECTIONS=200 DELAY_MS=$HALF_DELAY measure "  hello-world, same rate" -s bench/licensing/hello.lua http://127.0.0.1:18600/
  P99S+=("$name|$atrium|$floor|$LAST_P99")
}

log "== licensing bench $(date -Is) on $(nproc) cores, wrk -t1 -c50 -d$DURATION, API NODE_OPTIONS=$IMAGE_NODE_OPTIONS, node flags: $IMAGE_NODE_FLAGS"

wait_up http://127.0.0.1:18600/
hello_world first

# The floors of the machine routes on this stack (floor.ts, ADR 0104): Fastify with the same body and response
# schemas and nothing of Atrium; then the seat store's script through ioredis; then also an Ed25519 token.
start_floor 18602
SERVER_PID=$FLOOR_PID
FLOOR_SESSION=(-s bench/licensing/session.lua http://127.0.0.1:18602)
FLOOR_ACQUIRE=(-s bench/licensing/acquire.lua http://127.0.0.1:18602)
SESSIONS_FILE=$FLOOR_SESSIONS LICENSE_KEY=$FLOOR_LICENSE_KEY PATH_INFO=/bench/post measure "floor POST (body, no Redis)" "${FLOOR_SESSION[@]}"
SESSIONS_FILE=$FLOOR_SESSIONS LICENSE_KEY=$FLOOR_LICENSE_KEY measure "floor heartbeat (no Atrium)" "${FLOOR_SESSION[@]}"
FLOOR_HEARTBEAT=$LAST_RPS
LICENSE_KEY=$FLOOR_LICENSE_KEY measure "floor acquire (no Atrium)" "${FLOOR_ACQUIRE[@]}"
FLOOR_ACQUIRE_RPS=$LAST_RPS
# The floor and hello-world stay up (idle) for the same-rate runs below; the EXIT trap stops them.

for store in ${STORES:-postgres redis}; do
  env=(NODE_OPTIONS="$IMAGE_NODE_OPTIONS" DATABASE_URL="$DB_URL" PORT=18601 LOG_LEVEL=warn ATRIUM_DATA_DIR="$WORK" ATRIUM_SECRET_KEY=bench-secret-key-0123456789abcdefghijkl
       ATRIUM_RATE_LIMIT_TENANT_PER_MINUTE=100000000 ATRIUM_RATE_LIMIT_IP_PER_MINUTE=10000000 ATRIUM_REDIS_KEY_PREFIX="bench:$DB:")
  [ "$store" = redis ] && env+=(REDIS_URL=redis://127.0.0.1:6379)
  # shellcheck disable=SC2086 # the flags are words
  env "${env[@]}" node $IMAGE_NODE_FLAGS apps/server/src/cli.ts serve >"$WORK/$store.log" 2>&1 & SERVER_PID=$!; PIDS+=("$SERVER_PID")
  wait_up http://127.0.0.1:18601/health
  # 2,000 sessions for heartbeat and release.
  seed_license http://127.0.0.1:18601 "bench-$store-$DB"
  measure "$store heartbeat" -s bench/licensing/session.lua http://127.0.0.1:18601
  half_load "$store heartbeat" -s bench/licensing/session.lua http://127.0.0.1:18601
  [ "$store" = redis ] && SESSIONS_FILE=$FLOOR_SESSIONS LICENSE_KEY=$FLOOR_LICENSE_KEY same_rate "$store heartbeat" "${FLOOR_SESSION[@]}"
  measure "$store acquire (new seat)" -s bench/licensing/acquire.lua http://127.0.0.1:18601
  half_load "$store acquire (new seat)" -s bench/licensing/acquire.lua http://127.0.0.1:18601
  [ "$store" = redis ] && LICENSE_KEY=$FLOOR_LICENSE_KEY same_rate "$store acquire (new seat)" "${FLOOR_ACQUIRE[@]}"
  METHOD=DELETE PATH_INFO=/api/v1/licenses/release measure "$store release (2k real, then idempotent)" -s bench/licensing/session.lua http://127.0.0.1:18601
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
done
hello_world last
log "== ratios to the faster hello-world run ($HELLO_MAX req/s)"
for result in "${RESULTS[@]}"; do
  case $result in "hello-world"* | " "*) continue ;; esac
  log "$(awk -v r="${result#*|}" -v h="$HELLO_MAX" -v n="${result%|*}" 'BEGIN { printf "%-44s %5.1f %%", n, 100 * r / h }')"
done
# Atrium's rate against the floor of the same route (ADR 0104), the Redis store's, as the floors run its scripts.
# Measured minutes apart in one pass, this moves a lot on a shared box: the figure ADR 0104 holds Atrium to comes
# from `ab.sh floor`, which alternates the two in rounds. This one is a hint.
log "== ratios to the floors of this run (heartbeat $FLOOR_HEARTBEAT, acquire $FLOOR_ACQUIRE_RPS req/s)"
for result in "${RESULTS[@]}"; do
  case ${result%|*} in
    "redis heartbeat") floor=$FLOOR_HEARTBEAT ;;
    "redis acquire (new seat)") floor=$FLOOR_ACQUIRE_RPS ;;
    *) continue ;;
  esac
  log "$(awk -v r="${result#*|}" -v f="$floor" -v n="${result%|*}" 'BEGIN { printf "%-44s %5.1f %%", n, 100 * r / f }')"
done
if [ ${#P99S[@]} -gt 0 ]; then
  log "== p99 at half load, and at the same offered load: the route's floor (no Atrium) and hello-world"
  log "$(printf '%-28s %10s %10s %10s %8s' case Atrium floor hello budget)"
  for row in "${P99S[@]}"; do
    IFS='|' read -r name atrium floor hello <<<"$row"
    case $name in *heartbeat*) budget=5ms ;; *) budget=10ms ;; esac
    log "$(printf '%-28s %10s %10s %10s %8s' "$name" "$atrium" "$floor" "$hello" "$budget")"
  done
fi
log "results: $OUT"
