-- Heartbeat (or release, with METHOD=DELETE) of the sessions listed in SESSIONS_FILE, round-robin. A line is a
-- session id, then optionally its license's key (the caller's credential); LICENSE_KEY where a line has none.
local key = os.getenv("LICENSE_KEY")
local method = os.getenv("METHOD") or "POST"
local path = os.getenv("PATH_INFO") or "/api/v1/licenses/heartbeat"
local sessions, keys = {}, {}
for line in io.lines(os.getenv("SESSIONS_FILE")) do
  local session, own = line:match("^(%S+)%s*(%S*)$")
  sessions[#sessions + 1] = session
  keys[#keys + 1] = own ~= "" and own or key
end
local i = 0
request = function()
  i = i % #sessions + 1
  local body = '{"session_id":"' .. sessions[i] .. '"}'
  return wrk.format(method, path, { ["content-type"] = "application/json", ["authorization"] = "License " .. keys[i] }, body)
end
-- DELAY_MS: each connection waits this long on average after every response (the "half load" runs of run.sh),
-- drawn uniformly from 0 to twice that: with one fixed pause the connections stay in step and arrive in waves, and
-- the p99 measures the wave (connections x service time), not the server at that load.
local pause = tonumber(os.getenv("DELAY_MS") or "")
if pause then
  delay = function() return math.random(0, 2 * pause) end
end
