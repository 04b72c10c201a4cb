-- The load of `python -m bench.verify`, for wrk 4.
--
--   wrk -t2 -c32 -d20s -s bench/verify.lua URL -- [BODIES]
--
-- With BODIES (a file of JSON request bodies, one a line) every request is a POST
-- of the next body, each thread starting at its own place in the list, and every
-- 200 answer must say "verified": true. Without it, plain GETs (the baseline).
-- `done` prints one line, `WRK_JSON {...}`, for the benchmark to read: latency
-- in microseconds.

bodies = {}
plain = nil
position = 1
unverified = 0
threads = {}

function setup(thread)
  thread:set("thread_number", #threads)
  table.insert(threads, thread)
end

function init(args)
  if args[1] == nil then
    plain = wrk.format()
    return
  end
  -- Each request is formatted once here, not per request: wrk shares the two
  -- cores with the server, and its Lua time would count against the server.
  local headers = {["Content-Type"] = "application/json"}
  for line in io.lines(args[1]) do
    if #line > 0 then
      bodies[#bodies + 1] = wrk.format("POST", nil, headers, line)
    end
  end
  position = (thread_number * math.floor(#bodies / 2)) % #bodies + 1
end

function request()
  if #bodies == 0 then
    return plain
  end
  local formatted = bodies[position]
  position = position % #bodies + 1
  return formatted
end

function response(status, headers, body)
  if #bodies > 0 and status == 200 and not body:find('"verified":%s*true') then
    unverified = unverified + 1
  end
end

function done(summary, latency, requests)
  local not_verified = 0
  for _, thread in ipairs(threads) do
    not_verified = not_verified + thread:get("unverified")
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"non_2xx": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "timeouts": %d, "not_verified": %d, ' ..
    '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, ' ..
    '"max": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.status, errors.connect, errors.read, errors.write, errors.timeout,
    not_verified, latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
