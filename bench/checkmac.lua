-- wrk script of the benchmark's check-mac phase: POSTs check-mac for the MACs listed in the
-- file named by the first script argument, in turn, with the service key of the second, and
-- prints the figures as one JSON line at the end.
--   wrk -t1 -c100 -d5s -s bench/checkmac.lua http://127.0.0.1:8600 -- macs.txt KEY
local bodies = {}
local next_body = 1

function init(args)
  for mac in io.lines(args[1]) do
    bodies[#bodies + 1] = '{"mac_address": "' .. mac .. '"}'
  end
  wrk.method = "POST"
  wrk.path = "/api/inventory/check-mac"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Service-Api-Key"] = args[2]
end

function request()
  local body = bodies[next_body]
  next_body = next_body % #bodies + 1
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local points = {}
  for _, p in ipairs({1, 5, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 95, 97.5, 99, 99.5, 99.9}) do
    points[#points + 1] = string.format('"%s": %d', p, latency:percentile(p))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "mean_us": %.1f, "max_us": %d, "percentiles_us": {%s}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, table.concat(points, ", ")))
end
