-- One wrk script for every request of the comparison benchmark, configured
-- from the environment:
--   WRK_METHOD        GET (default) or POST
--   WRK_BODIES        request bodies, one a line, sent in turn (each thread
--                     starts at its own offset)
--   WRK_CONTENT_TYPE  the bodies' Content-Type
-- Other headers (Authorization, X-Tenant-ID) come with wrk's -H.
-- done() prints one WRK_JSON line with exact percentiles and error counts,
-- which the runner parses instead of wrk's rounded text.

local bodies = {}
local raw = os.getenv("WRK_BODIES")
if raw then
  for line in string.gmatch(raw, "[^\n]+") do
    table.insert(bodies, line)
  end
end
wrk.method = os.getenv("WRK_METHOD") or "GET"
local content_type = os.getenv("WRK_CONTENT_TYPE")
if content_type then
  wrk.headers["Content-Type"] = content_type
end
if #bodies == 1 then
  wrk.body = bodies[1]
end

local threads = 0
function setup(thread)
  thread:set("offset", threads * 7)
  threads = threads + 1
end

local counter = 0
if #bodies > 1 then
  function request()
    counter = counter + 1
    return wrk.format(nil, nil, nil, bodies[((counter + (offset or 0)) % #bodies) + 1])
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"non2xx":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write,
    e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
