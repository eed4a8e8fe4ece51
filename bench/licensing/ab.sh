#!/usr/bin/env bash
# Interleaved A/B of one licensing route: the work tree against a git revision (Default: HEAD), two API servers
# on the same database and Redis, measured in turns so that both see the same machine. With `floor` instead of a
# revision, side A is the route's floor (floor.ts: the same route with nothing of Atrium, ADR 0104), and the last
# line gives Atrium's share of it: the figure ADR 0104 holds the Redis store to. With `tracing`, both sides are
# the work tree and side B exports OpenTelemetry traces to a local OTLP sink (otlp-sink.ts; TRACE_SAMPLER and
# TRACE_RATIO set its sampler, Default: always_on): the difference is what tracing costs. With `cluster`, both
# sides are the work tree and side B keeps its seats on a three-node Redis Cluster started for the run (ports
# 18621-18623, ATRIUM_REDIS_CLUSTER=true): the difference is what the cluster client costs. With `rebuilt`, both
# sides are the work tree and side A has a key prefix of its own, so that it heartbeats B's seats on a lease set it
# rebuilt from the journal under load (what a process does after Redis lost its data). On a shared 2-core box
# req/s moves by a third from one minute to the next; server CPU time per request (from /proc) moves far less,
# and alternating the rounds cancels the drift that is left. The figure to read is the median of each side.
#
#   bench/licensing/ab.sh [base-rev|floor|tracing|cluster|rebuilt]   CASE=heartbeat|acquire|release (heartbeat), ROUNDS=4,
#                                                    DURATION=8s, STORE=redis|postgres (redis), CONNECTIONS=50,
#                                                    WARMUP=3s (an unrecorded run per side first),
#                                                    SERVER_CPU / WRK_CPU: taskset lists for the two API servers
#                                                    (and the floor) and for wrk,
#                                                    A_NODE_FLAGS: Node/V8 flags for side A only, after the image's
#
# DELAY_MS=n makes each connection pause n ms on average after every response (drawn from 0 to 2n, as run.sh's
# half-load cases do): with CONNECTIONS=200 and the pause run.sh printed for a case, both sides get the same
# offered load, and the medians of their p99s compare tails rather than throughput.
# Everything goes to 127.0.0.1; every wrk run is bounded by DURATION. Needs what run.sh needs.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/toolchain.sh >/dev/null 2>&1
BASE=${1:-HEAD}
CASE=${CASE:-heartbeat}
ROUNDS=${ROUNDS:-4}
DURATION=${DURATION:-8s}
STORE=${STORE:-redis}
CONNECTIONS=${CONNECTIONS:-50}
command -v wrk >/dev/null || { echo "ab: wrk is missing (apt-get install -y wrk)"; exit 1; }
ADMIN_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB=atrium_bench_ab_$(date +%s)
DB_URL="${ADMIN_URL%/*}/$DB"
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$ADMIN_URL" -qc "drop database if exists $DB with (force)" >/dev/null 2>&1 || true
  redis-cli --scan --pattern "bench:$DB:*" | xargs -r -n 500 redis-cli del >/dev/null 2>&1 || true
  git worktree remove --force "$WORK/base" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
. bench/licensing/lib.sh

if [ "$BASE" = floor ]; then
  [ "$STORE" = redis ] && [ "$CASE" != release ] || { echo "ab: the floor has heartbeat and acquire, on Redis"; exit 2; }
elif [ "$BASE" = cluster ]; then
  [ "$STORE" = redis ] || { echo "ab: cluster compares Redis stores"; exit 2; }
elif [ "$BASE" != tracing ] && [ "$BASE" != rebuilt ]; then
  # The base revision as its own tree. Its node_modules links to the work tree's packages, except the workspace
  # packages (@atrium/*), which must be the base's own.
  git worktree add --detach "$WORK/base" "$BASE" >/dev/null 2>&1
  mkdir "$WORK/base/node_modules" "$WORK/base/node_modules/@atrium"
  for entry in node_modules/* node_modules/.bin; do
    [ "$entry" = node_modules/@atrium ] || ln -s "$PWD/$entry" "$WORK/base/$entry"
  done
  for link in node_modules/@atrium/*; do ln -s "$(readlink "$link")" "$WORK/base/$link"; done
fi

psql "$ADMIN_URL" -qc "create database $DB"
DATABASE_URL=$DB_URL node apps/server/src/cli.ts migrate >/dev/null

start() { # tree, port, extra VAR=value... -> pid in STARTED
  local env=(NODE_OPTIONS="$IMAGE_NODE_OPTIONS" DATABASE_URL="$DB_URL" PORT="$2" LOG_LEVEL=warn
    ATRIUM_DATA_DIR="$WORK/data-$2" ATRIUM_SECRET_KEY=bench-secret-key-0123456789abcdefghijkl
    ATRIUM_RATE_LIMIT_TENANT_PER_MINUTE=100000000 ATRIUM_RATE_LIMIT_IP_PER_MINUTE=10000000
    ATRIUM_REDIS_KEY_PREFIX="bench:$DB:")
  [ "$STORE" = redis ] && env+=(REDIS_URL=redis://127.0.0.1:6379)
  env+=("${@:3}")
  mkdir -p "$WORK/data-$2"
  local flags=$IMAGE_NODE_FLAGS
  if [ "$2" = 18611 ]; then flags="$flags ${A_NODE_FLAGS:-}"; fi
  # shellcheck disable=SC2086 # the flags are words
  (cd "$1" && exec ${SERVER_CPU:+taskset -c "$SERVER_CPU"} env "${env[@]}" node $flags apps/server/src/cli.ts serve >"$WORK/$2.log" 2>&1) &
  STARTED=$!
  PIDS+=("$STARTED")
  wait_up "http://127.0.0.1:$2/health"
}
# The server process itself (the subshell above execs env, which execs node: same pid).
if [ "$BASE" = floor ]; then
  start_floor 18611; A=$FLOOR_PID
  A_ENV=(SESSIONS_FILE="$FLOOR_SESSIONS" LICENSE_KEY="$FLOOR_LICENSE_KEY")
  LABEL_A="floor (no Atrium)"
elif [ "$BASE" = tracing ]; then
  PORT=18613 node bench/licensing/otlp-sink.ts >"$WORK/sink.log" 2>&1 &
  PIDS+=("$!")
  start "$PWD" 18611; A=$STARTED
  LABEL_A="work tree, no tracing"
  TRACING_ENV=(OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:18613 OTEL_TRACES_SAMPLER="${TRACE_SAMPLER:-always_on}"
    OTEL_TRACES_SAMPLER_ARG="${TRACE_RATIO:-1}")
elif [ "$BASE" = cluster ]; then
  CLUSTER_PORTS=(18621 18622 18623)
  for port in "${CLUSTER_PORTS[@]}"; do
    ! redis-cli -p "$port" ping >/dev/null 2>&1 || { echo "ab: port $port is taken (a cluster left running?)"; exit 1; }
    redis-server --port "$port" --cluster-port $((port + 100)) --bind 127.0.0.1 --cluster-enabled yes \
      --cluster-config-file "nodes-$port.conf" --dir "$WORK" --save '' --appendonly no --logfile "$WORK/redis-$port.log" &
    PIDS+=("$!")
  done
  for port in "${CLUSTER_PORTS[@]}"; do until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done; done
  redis-cli --cluster create "${CLUSTER_PORTS[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >/dev/null
  until redis-cli -p "${CLUSTER_PORTS[0]}" cluster info | grep -q cluster_state:ok; do sleep 0.1; done
  CLUSTER_URL=$(printf 'redis://127.0.0.1:%s,' "${CLUSTER_PORTS[@]}")
  CLUSTER_ENV=(REDIS_URL="${CLUSTER_URL%,}" ATRIUM_REDIS_CLUSTER=true)
  start "$PWD" 18611; A=$STARTED
  LABEL_A="work tree, one Redis server"
elif [ "$BASE" = rebuilt ]; then
  start "$PWD" 18611 ATRIUM_REDIS_KEY_PREFIX="bench:$DB:a:"; A=$STARTED
  LABEL_A="work tree, B's seats on a lease set rebuilt from the journal"
else
  start "$WORK/base" 18611; A=$STARTED
  LABEL_A=$(git rev-parse --short "$BASE")
fi
start "$PWD" 18612 "${TRACING_ENV[@]}" "${CLUSTER_ENV[@]}"; B=$STARTED

if [ "$BASE" = cluster ]; then
  # Each side takes its own seats on its own store: a side that only heartbeats seats the other one took would run
  # on a lease set rebuilt from the journal, which is not what is compared here.
  seed_license http://127.0.0.1:18611 "ab-a-$DB"
  mv "$SESSIONS_FILE" "$WORK/sessions-a"
  A_ENV=(SESSIONS_FILE="$WORK/sessions-a" LICENSE_KEY="$LICENSE_KEY")
fi
seed_license http://127.0.0.1:18612 "ab-$DB"
B_ENV=(SESSIONS_FILE="$SESSIONS_FILE" LICENSE_KEY="$LICENSE_KEY")
[ "$BASE" = floor ] || [ "$BASE" = cluster ] || A_ENV=("${B_ENV[@]}")
case $CASE in
  heartbeat) script=bench/licensing/session.lua ;;
  release) script=bench/licensing/session.lua; export METHOD=DELETE PATH_INFO=/api/v1/licenses/release ;;
  acquire) script=bench/licensing/acquire.lua ;;
  *) echo "ab: CASE is heartbeat, acquire or release"; exit 2 ;;
esac

round() { # label, pid, port
  local before result requests side_env
  if [ "$1" = A ]; then side_env=("${A_ENV[@]}"); else side_env=("${B_ENV[@]}"); fi
  before=$(cpu_ticks "$2")
  result=$(env "${side_env[@]}" ${WRK_CPU:+taskset -c "$WRK_CPU"} wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$script" "http://127.0.0.1:$3")
  requests=$(echo "$result" | awk '/requests in/ {print $1}')
  awk -v a="$before" -v b="$(cpu_ticks "$2")" -v n="$requests" -v hz="$(getconf CLK_TCK)" -v l="$1" \
    -v rps="$(echo "$result" | awk '/Requests\/sec/ {print $2}')" \
    -v rss="$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$2/status")" \
    -v p99="$(echo "$result" | awk '$1 == "99%" { v = $2; u = v; gsub(/[0-9.]/, "", u); sub(/[a-z]+$/, "", v)
      print v * (u == "us" ? 0.001 : u == "s" ? 1000 : 1) }')" \
    -v bad="$(echo "$result" | awk '/Non-2xx/ {print $NF}')" \
    'BEGIN { printf "%s %.1f %s %s %.2f %d\n", l, (b - a) / hz * 1e6 / n, rps, rss, p99, bad }' | tee -a "$WORK/rounds"
}
echo "== A/B $CASE ($STORE): A = $LABEL_A${A_NODE_FLAGS:+ with $A_NODE_FLAGS}, B = work tree${TRACING_ENV:+ exporting traces (${TRACE_SAMPLER:-always_on} ${TRACE_RATIO:-1})}${CLUSTER_ENV:+ on a 3-node Redis Cluster}; $ROUNDS rounds of wrk -t1 -c$CONNECTIONS -d$DURATION${DELAY_MS:+, pauses of ~$DELAY_MS ms}"
echo "side  server-us/req  req/s  rss-MB  p99-ms  non-2xx"
# One unrecorded run per side first: side B has just served the 2,000 seeding acquires and side A nothing, so
# without it A's first round pays for warming up its JIT (and, with `cluster`, for rebuilding its lease set).
for side in A B; do
  if [ $side = A ]; then side_env=("${A_ENV[@]}") port=18611; else side_env=("${B_ENV[@]}") port=18612; fi
  env "${side_env[@]}" wrk -t1 -c"$CONNECTIONS" -d"${WARMUP:-3s}" -s "$script" "http://127.0.0.1:$port" >/dev/null
done
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) -eq 1 ]; then round A "$A" 18611; round B "$B" 18612; else round B "$B" 18612; round A "$A" 18611; fi
done
for side in A B; do
  awk -v s="$side" '$1 == s { us[++n] = $2; rps[n] = $3; p99[n] = $5 }
    function median(a) { return n % 2 ? a[int((n + 1) / 2)] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    END { asort(us); asort(rps); asort(p99); printf "median %s: %.1f us/req, %.0f req/s, p99 %.2f ms\n", s, median(us), median(rps), median(p99) }' "$WORK/rounds"
done
if [ "$BASE" = floor ]; then
  # Per round pair, B's req/s over A's; the median of those is the share. ADR 0104's bounds: heartbeat >= 60 %,
  # acquire >= 80 %. Below its bound the script exits 3, so a scheduled performance job can fail on it.
  bound=$([ "$CASE" = acquire ] && echo 80 || echo 60)
  awk -v bound="$bound" '{ side[NR] = $1; rps[NR] = $3 } END {
    for (i = 1; i < NR; i += 2) r[++n] = (side[i] == "B" ? rps[i] / rps[i + 1] : rps[i + 1] / rps[i])
    asort(r); m = int((n + 1) / 2); share = 100 * (n % 2 ? r[m] : (r[m] + r[m + 1]) / 2)
    printf "Atrium share of the floor: median %.1f %% (rounds: %.1f-%.1f %%); ADR 0104 bound %d %%: %s\n", share, 100 * r[1], 100 * r[n], bound, (share >= bound ? "met" : "MISSED")
    exit (share >= bound ? 0 : 3)
  }' "$WORK/rounds"
fi
if [ "$BASE" = tracing ]; then
  sleep 2 # the last batch of spans (the exporter sends every second)
  echo "OTLP sink received: $(curl -s http://127.0.0.1:18613/count)"
fi
