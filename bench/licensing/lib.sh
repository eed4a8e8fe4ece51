# Shared by run.sh and ab.sh (sourced; both set WORK and PIDS). Everything goes to 127.0.0.1.

# The API and the floor run with the container image's Node settings, so what is measured (RSS included) is what
# a pod would show: its NODE_OPTIONS, and the V8 flags its ENTRYPOINT gives node (those NODE_OPTIONS refuses).
IMAGE_NODE_OPTIONS=$(sed -n 's/^ENV NODE_OPTIONS="\(.*\)"$/\1/p' deploy/docker/Dockerfile)
IMAGE_NODE_FLAGS=$(sed -n 's/^ENTRYPOINT \[\(.*\)\]$/\1/p' deploy/docker/Dockerfile | tr -d '",' | tr ' ' '\n' | grep '^--' | tr '\n' ' ' || true)

# CPU time (user + system, clock ticks) a process has used so far; 0 when there is no such process.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

wait_up() { # url
  for _ in $(seq 1 600); do curl -sf "$1" >/dev/null && return; sleep 0.1; done
  echo "server $1 did not start"; cat "$WORK"/*.log 2>/dev/null | tail -5; exit 1
}

# Registers an owner on the API at `url`, creates LICENSES licenses (Default: 1) with 1,000,000 seats each and
# takes 2,000 seats across them: exports LICENSE_KEY (the first license's), LICENSE_KEYS_FILE (every key, one a
# line) and SESSIONS_FILE ($WORK/sessions, one "session-id license-key" a line, the licenses taking turns) for
# session.lua and acquire.lua. With several licenses, one event-loop turn carries seat calls of several licenses.
seed_license() { # url, name (unique per database: the owner's email and the fingerprints carry it)
  local url=$1 name=$2 token key keys=() i
  token=$(curl -sf -H 'content-type: application/json' -d "{\"email\":\"$name@example.com\",\"password\":\"correct horse battery staple\",\"organization\":{\"name\":\"Bench\"}}" "$url/api/v1/auth/register" | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
  for i in $(seq 1 "${LICENSES:-1}"); do
    keys+=("$(curl -sf -H 'content-type: application/json' -H "authorization: Bearer $token" -d '{"max_seats":1000000}' "$url/api/v1/licenses" | node -pe 'JSON.parse(require("fs").readFileSync(0)).license_key')")
  done
  printf '%s\n' "${keys[@]}" >"$WORK/license-keys"
  for i in $(seq 1 2000); do
    key=${keys[$(((i - 1) % ${#keys[@]}))]}
    curl -s -H 'content-type: application/json' -H "authorization: License $key" -d "{\"license_key\":\"$key\",\"fingerprint\":\"$name-$i\"}" "$url/api/v1/licenses/acquire"
    echo " $key"
  done | node -e 'for (const l of require("fs").readFileSync(0,"utf8").split("\n")) if (l.trim()) { const i = l.lastIndexOf(" "); console.log(JSON.parse(l.slice(0, i)).session_id + l.slice(i)) }' >"$WORK/sessions"
  export LICENSE_KEY=${keys[0]} LICENSE_KEYS_FILE=$WORK/license-keys SESSIONS_FILE=$WORK/sessions
}

# The floor of the machine routes (floor.ts, ADR 0104) on `port`, with the API's Node settings: sets FLOOR_PID and
# writes FLOOR_SESSIONS, the 2,000 session ids floor.ts seeds (ses_ and the index in 64 digits). The floor takes any
# license key; acquire.lua needs one of the right shape in the body.
FLOOR_SESSIONS=$WORK/floor-sessions
FLOOR_LICENSE_KEY=lk_floor_bench_key
start_floor() { # port
  printf 'ses_%064d\n' $(seq 0 1999) >"$FLOOR_SESSIONS"
  # shellcheck disable=SC2086 # the flags are words
  NODE_OPTIONS="$IMAGE_NODE_OPTIONS" PORT=$1 ${SERVER_CPU:+taskset -c "$SERVER_CPU"} node $IMAGE_NODE_FLAGS bench/licensing/floor.ts >"$WORK/floor-$1.log" 2>&1 &
  FLOOR_PID=$!
  PIDS+=("$FLOOR_PID")
  wait_up "http://127.0.0.1:$1/"
}
