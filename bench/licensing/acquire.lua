-- Each request a new machine: a new seat (the max is far above what a 10 s run can take).
local key = os.getenv("LICENSE_KEY")
local counter = 0
request = function()
  counter = counter + 1
  local body = '{"license_key":"' .. key .. '","fingerprint":"bench-' .. math.random(1, 1e9) .. '-' .. counter .. '"}'
  return wrk.format("POST", "/api/v1/licenses/acquire", { ["content-type"] = "application/json", ["authorization"] = "License " .. key }, body)
end
-- DELAY_MS: each connection waits this long after every response (the "half load" runs of run.sh).
local pause = tonumber(os.getenv("DELAY_MS") or "")
if pause then
  delay = function() return pause end
end
