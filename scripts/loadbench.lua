-- wrk script for scripts/loadbench: each request is the next path of the list in the file
-- given after `--`, with `Accept-Encoding: gzip`; threads start at different places of the
-- list. No response() callback, so wrk does not parse bodies in Lua; statuses >= 400 and
-- socket errors show in summary.errors. `done` prints one JSON line.
function init(args)
  local enc = args[2] or "gzip"
  reqs = {}
  for line in io.lines(args[1]) do
    if #line > 0 then
      table.insert(reqs, wrk.format("GET", line, { ["Accept-Encoding"] = enc }))
    end
  end
  i = math.random(#reqs)
end

function request()
  i = i % #reqs + 1
  return reqs[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_s": %.3f, "rps": %.1f, "p50_ms": %.3f, ' ..
    '"p99_ms": %.3f, "bytes": %d, "errors": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.bytes,
    e.connect + e.read + e.write + e.status + e.timeout))
end
