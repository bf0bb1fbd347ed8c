-- Request and report for one wrk round: bench/run.py sets the request through the environment
-- and reads the JSON line that done() prints.
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
local authorization = os.getenv("BENCH_AUTHORIZATION")
if authorization and authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end

local threads = {}

-- BENCH_BODIES: a file of bodies, one a line, each sent once (a client assertion is accepted once); thread n of
-- BENCH_WRK_THREADS sends lines n, n + threads, ... in turn. Past the last, "exhausted" (a 400) is sent.
local bodies_file = os.getenv("BENCH_BODIES") or ""

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  -- wrk itself counts only status >= 400; a 1xx or 3xx is a failure here too.
  non_2xx = 0
  if bodies_file ~= "" then
    local count = tonumber(os.getenv("BENCH_WRK_THREADS")) or 1
    bodies, next_body = {}, 1
    local n = 0
    for line in io.lines(bodies_file) do
      if n % count == id then
        table.insert(bodies, line)
      end
      n = n + 1
    end
  end
end

if bodies_file ~= "" then
  function request()
    local body = bodies[next_body] or "exhausted"
    next_body = next_body + 1
    return wrk.format(nil, nil, nil, body)
  end
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non_2xx = non_2xx + 1
  end
end

function done(summary, latency, requests)
  local non_2xx_total = 0
  for _, thread in ipairs(threads) do
    non_2xx_total = non_2xx_total + thread:get("non_2xx")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"non_2xx": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    non_2xx_total, e.connect, e.read, e.write, e.timeout))
end
