-- GET / (hello-world) with the pauses of the half-load runs: DELAY_MS on average after every response, drawn
-- uniformly from 0 to twice that (see session.lua). Without DELAY_MS, wrk's own request loop.
local pause = tonumber(os.getenv("DELAY_MS") or "")
if pause then
  delay = function() return math.random(0, 2 * pause) end
end
