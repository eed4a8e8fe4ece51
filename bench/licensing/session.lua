-- Heartbeat (or release, with METHOD=DELETE) of the sessions listed in SESSIONS_FILE, round-robin.
local key = os.getenv("LICENSE_KEY")
local method = os.getenv("METHOD") or "POST"
local path = os.getenv("PATH_INFO") or "/api/v1/licenses/heartbeat"
local sessions = {}
for line in io.lines(os.getenv("SESSIONS_FILE")) do sessions[#sessions + 1] = line end
local i = 0
request = function()
  i = i % #sessions + 1
  local body = '{"session_id":"' .. sessions[i] .. '"}'
  return wrk.format(method, path, { ["content-type"] = "application/json", ["authorization"] = "License " .. key }, body)
end
-- DELAY_MS: each connection waits this long after every response (the "half load" runs of run.sh).
local pause = tonumber(os.getenv("DELAY_MS") or "")
if pause then
  delay = function() return pause end
end
