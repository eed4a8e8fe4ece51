# Shared by run.sh and ab.sh (sourced; both set WORK). Everything goes to 127.0.0.1.

# CPU time (user + system, clock ticks) a process has used so far; 0 when there is no such process.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

wait_up() { # url
  for _ in $(seq 1 600); do curl -sf "$1" >/dev/null && return; sleep 0.1; done
  echo "server $1 did not start"; cat "$WORK"/*.log 2>/dev/null | tail -5; exit 1
}

# Registers an owner on the API at `url`, creates a license with 1,000,000 seats and takes 2,000 of them:
# exports LICENSE_KEY, and SESSIONS_FILE ($WORK/sessions, one session id a line) for session.lua.
seed_license() { # url, name (unique per database: the owner's email and the fingerprints carry it)
  local url=$1 name=$2 token key
  token=$(curl -sf -H 'content-type: application/json' -d "{\"email\":\"$name@example.com\",\"password\":\"correct horse battery staple\",\"organization\":{\"name\":\"Bench\"}}" "$url/api/v1/auth/register" | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
  key=$(curl -sf -H 'content-type: application/json' -H "authorization: Bearer $token" -d '{"max_seats":1000000}' "$url/api/v1/licenses" | node -pe 'JSON.parse(require("fs").readFileSync(0)).license_key')
  for i in $(seq 1 2000); do
    curl -s -H 'content-type: application/json' -H "authorization: License $key" -d "{\"license_key\":\"$key\",\"fingerprint\":\"$name-$i\"}" "$url/api/v1/licenses/acquire"
    echo
  done | node -e 'for (const l of require("fs").readFileSync(0,"utf8").split("\n")) if (l) console.log(JSON.parse(l).session_id)' >"$WORK/sessions"
  export LICENSE_KEY=$key SESSIONS_FILE=$WORK/sessions
}
