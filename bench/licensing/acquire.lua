-- Each request a new machine: a new seat (the max is far above what a 10 s run can take), of LICENSE_KEY's
-- license, or with LICENSE_KEYS_FILE of each of its licenses in turn.
local keys = {}
local file = os.getenv("LICENSE_KEYS_FILE")
if file then for line in io.lines(file) do keys[#keys + 1] = line end end
if #keys == 0 then keys[1] = os.getenv("LICENSE_KEY") end
local counter = 0
request = function()
  counter = counter + 1
  local key = keys[counter % #keys + 1]
  local body = '{"license_key":"' .. key .. '","fingerprint":"bench-' .. math.random(1, 1e9) .. '-' .. counter .. '"}'
  return wrk.format("POST", "/api/v1/licenses/acquire", { ["content-type"] = "application/json", ["authorization"] = "License " .. key }, body)
end
-- DELAY_MS: each connection waits this long on average after every response (the "half load" runs of run.sh),
-- drawn uniformly from 0 to twice that: with one fixed pause the connections stay in step and arrive in waves, and
-- the p99 measures the wave (connections x service time), not the server at that load.
local pause = tonumber(os.getenv("DELAY_MS") or "")
if pause then
  delay = function() return math.random(0, 2 * pause) end
end
