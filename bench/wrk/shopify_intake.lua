-- wrk script for P2 (webhook intake): POST the same signed Shopify order body with a unique
-- X-Shopify-Event-Id / X-Shopify-Webhook-Id per request, so every request is a new event.
--
-- Arguments (after `--`): body_file hmac_base64 shop_domain run_nonce
-- done() prints one line "BENCH-RESULT {json}" with counts and the latency distribution (µs).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(args[1], "rb"))
  local body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Shopify-Topic"] = "orders/paid"
  wrk.headers["X-Shopify-Hmac-Sha256"] = args[2]
  wrk.headers["X-Shopify-Shop-Domain"] = args[3]
  wrk.headers["X-Shopify-API-Version"] = "2026-01"
  nonce = args[4]
  sent = 0
  ok = 0
  bad = 0
end

function request()
  sent = sent + 1
  local id = string.format("%s-%d-%d", nonce, tid, sent)
  wrk.headers["X-Shopify-Event-Id"] = "evt-" .. id
  wrk.headers["X-Shopify-Webhook-Id"] = "wh-" .. id
  return wrk.format()
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local s, o, b = 0, 0, 0
  for _, t in ipairs(threads) do
    s = s + t:get("sent")
    o = o + t:get("ok")
    b = b + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests":%d,"duration_us":%d,"sent":%d,"ok":%d,"non2xx":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, s, o, b, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
