-- wrk script: each thread cycles through its share of pre-generated requests, so every
-- request of a run can be distinct (encrypted WeChat pushes, each a new event).
-- Requests file: one per line, "METHOD<TAB>PATH<TAB>BODY<TAB>HEADERS", BODY without tabs or
-- newlines, HEADERS "Name: value" pairs joined by "|" (both may be empty).
-- Usage: wrk -s bench/wrk_cycle.lua URL -- FILE THREADS [PAUSE_MS]
-- PAUSE_MS paces the run: each connection waits that long before its next request, so C
-- connections send about C * 1000 / PAUSE_MS requests a second (wrk 4 has no -R; this is
-- closed-loop pacing, so latency is counted from each request's actual send).
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  local file, threads = args[1], tonumber(args[2])
  pause = tonumber(args[3] or "0")
  requests, index, wrapped = {}, 0, 0
  local line_no = 0
  for line in io.lines(file) do
    if line_no % threads == id then
      local method, path, body, extra = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = { ["Connection"] = "close" }
      for name, value in extra:gmatch("([^|:]+): ([^|]*)") do
        headers[name] = value
      end
      if body == "" then
        body = nil
      elseif headers["Content-Type"] == nil then
        headers["Content-Type"] = "text/xml"
      end
      requests[#requests + 1] = wrk.format(method, path, headers, body)
    end
    line_no = line_no + 1
  end
end

function delay()
  return pause
end

function request()
  index = index + 1
  if index > #requests then
    index, wrapped = 1, wrapped + 1
  end
  return requests[index]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "status_errors": %d, "errors": %d, '
      .. '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
