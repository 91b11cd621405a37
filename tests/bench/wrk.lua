-- wrk.lua - the benchmark's request generator (scripts/bench.sh): a POST of
-- the body in BENCH_BODY_FILE (the bench's payload.json) on every request.
-- Environment: BENCH_KEY (X-Fn-Key), BENCH_BODY_FILE (request body),
-- BENCH_PATH (a path, or a prefix when BENCH_SPREAD > 0: requests then
-- cycle over BENCH_PATH .. i for i in 0..BENCH_SPREAD-1, starting at a
-- per-thread offset), BENCH_THINK_MS (when above 0, each connection waits
-- that long between an answer and its next request: the load is then set
-- by the think time, not by how fast the target answers). Prints one
-- RESULT line for bench.sh to parse.
local spread = tonumber(os.getenv("BENCH_SPREAD") or "0")
local think = tonumber(os.getenv("BENCH_THINK_MS") or "0")
local path = os.getenv("BENCH_PATH")
local counter = 0
local thread_no = 0

wrk.method = "POST"
wrk.headers["X-Fn-Key"] = os.getenv("BENCH_KEY") or ""
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("BENCH_BODY_FILE") or "", "rb"),
	"BENCH_BODY_FILE must name the request body")
wrk.body = f:read("*a")
f:close()

local threads = {}
function setup(thread)
	thread:set("thread_no", #threads)
	table.insert(threads, thread)
end

function init(args)
	counter = (thread_no or 0) * 7919
end

function request()
	if spread > 0 then
		counter = counter + 1
		return wrk.format(nil, path .. (counter % spread))
	end
	return wrk.format(nil, path)
end

-- wrk calls delay() before each request only where the script defines it.
if think > 0 then
	function delay()
		return think
	end
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d\n",
		summary.requests, summary.duration, latency:percentile(50),
		latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))
end
