#!/usr/bin/env bash
#
# scripts/bench.sh [BUILD] - make bench. Starts two stacks with the same
# nginx config and pool size on 127.0.0.1: the ceiling (tests/bench/ceiling.c,
# a bare libfcgi responder, no JavaScript) and fnrun; drives each workload
# against both with wrk; prints one table with every figure also as a ratio
# against the ceiling measured in the same run, and writes it to
# var/bench/latest.tsv. A benchmark, not a test: it asserts nothing.
#
# Workloads: hello (reply "hello"), async (hello from a promise
# reaction), json (parse a ~1.2 KB body, add two
# fields, stringify), cpu (fib(20)), cold (every call builds its heap:
# warm_max_count=0, one connection, so p50 is the first-call cost end to
# end), many (1,000 distinct functions, all kept warm).
# Environment: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (16),
# BENCH_WORKERS (4).

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
BUILD=${1:-build}
OUT=$ROOT/var/bench
DURATION=${BENCH_DURATION:-10}
CONNS=${BENCH_CONNECTIONS:-16}
WORKERS=${BENCH_WORKERS:-4}
MANY=1000
TSV=$OUT/latest.tsv

say() { printf 'bench: %s\n' "$*" >&2; }

mkdir -p "$OUT"
STACKS=()
declare -A STACK_BIN=()
# stack.sh recognises workers by their binary's name: stop each stack with
# the binary it was started with, or its workers would be left running.
cleanup() {
	local s
	for s in "${STACKS[@]}"; do
		FNRUN_STATE_DIR=$OUT/$s FNRUN_WORKER_BIN=${STACK_BIN[$s]} \
			FNRUN_CONFIG=$OUT/$s/none.conf \
			"$ROOT/scripts/stack.sh" stop >/dev/null 2>&1 || true
	done
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_stack NAME WORKER_BIN [VAR=VALUE...]: a fresh stack in var/bench/NAME.
start_stack() {
	local name=$1 bin=$2
	shift 2
	rm -rf "${OUT:?}/$name"
	mkdir -p "$OUT/$name"
	: >"$OUT/$name/none.conf"	# defaults only, not the developer's fnrun.conf
	env FNRUN_STATE_DIR="$OUT/$name" FNRUN_STORE_DIR="$OUT/$name/store" \
		FNRUN_PORT="$(free_port)" FNRUN_MEMCACHED_PORT="$(free_port)" \
		FNRUN_WORKERS="$WORKERS" FNRUN_WORKER_BIN="$bin" \
		FNRUN_CONFIG="$OUT/$name/none.conf" "$@" \
		"$ROOT/scripts/stack.sh" start >"$OUT/$name.start.log" 2>&1 ||
		{ cat "$OUT/$name.start.log" >&2; exit 1; }
	STACKS+=("$name")
	STACK_BIN[$name]=$bin
	sed -n 's|.*running at \(http://[^ ]*\).*|\1|p' "$OUT/$name.start.log" >"$OUT/$name/url"
}

url() { cat "$OUT/$1/url"; }
admin() { cat "$OUT/$1/secrets/admin_token"; }
key() { cat "$OUT/$1/secrets/invoke_key"; }

# upload STACK PATH SOURCE
upload() {
	curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $(admin "$1")" \
		-H 'Content-Type: application/javascript' --data-binary "$3" \
		"$(url "$1")/functions/$2" || { say "upload $2 failed"; exit 1; }
}

# Worker processes: the children of the spawn-fcgi slots (fnrun's slots
# supervise a worker), or the slots themselves (the ceiling has none).
worker_pids() {
	local slot kids
	while read -r slot; do
		[[ -n $slot ]] || continue
		kids=$(pgrep -P "$slot" || true)
		echo "${kids:-$slot}"
	done < <(cat "$OUT/$1/run/fnrun-workers.pid"; echo)
}

# Mean RSS of the stack's workers, in MiB.
rss_mb() {
	local pid total=0 n=0 kb
	for pid in $(worker_pids "$1"); do
		kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
		total=$((total + kb))
		n=$((n + 1))
	done
	((n > 0)) || n=1
	awk -v t="$total" -v n="$n" 'BEGIN { printf "%.1f", t / n / 1024 }'
}

metric() {
	curl -s "$(url "$1")/metrics" | awk -v m="$2" '$1 == m {print $2}'
}

# run STACK PATH BODY_FILE SPREAD CONNS DURATION -> "rps p50_ms p99_ms errors"
run() {
	local out
	out=$(BENCH_KEY=$(key "$1") BENCH_PATH=$2 BENCH_BODY_FILE=$3 \
		BENCH_SPREAD=$4 wrk -t "$(($5 < 2 ? 1 : 2))" -c "$5" -d "${6}s" \
		-s "$ROOT/tests/bench/wrk.lua" "$(url "$1")" 2>&1) || { say "$out"; exit 1; }
	sed -n 's/^RESULT //p' <<<"$out" | awk '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "%.0f %.3f %.3f %d\n", v["requests"] / (v["duration_us"] / 1e6),
		    v["p50_us"] / 1000, v["p99_us"] / 1000, v["errors"] }'
}

# --- bodies and functions ---------------------------------------------------
EMPTY=$OUT/empty.json
JSON=$OUT/payload.json
printf '{}' >"$EMPTY"
python3 - "$JSON" <<'PY'
import json, sys
req = {"phase": "after",
       "request": {"method": "POST", "url": "https://api.example.com/v1/charges",
                   "headers": {"content-type": "application/json", "idempotency-key": "3f1c9a"},
                   "body": json.dumps({"amount": 1999, "currency": "usd", "source": "tok_visa"})},
       "response": {"status": 200, "headers": {"content-type": "application/json"},
                    "body": json.dumps({"id": "ch_3Ng1", "object": "charge", "amount": 1999,
                                        "amount_captured": 1999, "currency": "usd", "paid": True,
                                        "status": "succeeded", "created": 1700000000,
                                        "metadata": {"order_id": "A-1042", "customer": "c-77"},
                                        "balance_transaction": "txn_1Ng2", "livemode": False,
                                        "outcome": {"network_status": "approved_by_network",
                                                    "risk_level": "normal", "risk_score": 32,
                                                    "seller_message": "Payment complete.",
                                                    "type": "authorized"}})}}
body = json.dumps(req)
body = body[:-1] + ', "pad": "' + "x" * max(0, 1200 - len(body) - 11) + '"}'
open(sys.argv[1], "w").write(body)
PY

HELLO='module.exports = function (req, res) { res.send("hello"); };'
# hello through a Promise: what "async function (req, res)" lowers to.
ASYNC='module.exports = function (req, res) { return Promise.resolve().then(function () { res.send("hello"); }); };'
JSONFN='module.exports = function (req, res) { var p = req.payload; p.processed = true; p.at = Date.now(); res.send(JSON.stringify(p), 200, {"Content-Type": "application/json"}); };'
CPU='function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
module.exports = function (req, res) { res.send(String(fib(20))); };'

say "building stacks ($WORKERS workers each, wrk -c $CONNS, ${DURATION}s per run)"
start_stack ceiling "$ROOT/$BUILD/bench-ceiling"
start_stack fnrun "$ROOT/$BUILD/fnrun-worker"
start_stack cold "$ROOT/$BUILD/fnrun-worker" FNRUN_WARM_MAX_COUNT=0
upload fnrun bench/r/hello "$HELLO"
upload fnrun bench/r/async "$ASYNC"
upload fnrun bench/r/json "$JSONFN"
upload fnrun bench/r/cpu "$CPU"
upload cold bench/r/hello "$HELLO"
for ((i = 0; i < MANY; i++)); do
	upload fnrun "bench/many/f$i" "// function $i
module.exports = function (req, res) { res.send(\"hello $i\"); };"
done
RSS_CEILING=$(rss_mb ceiling)

printf 'workload\ttarget\trps\tp50_ms\tp99_ms\terrors\trss_mb\tratio\tp50_ratio\tp99_ratio\trss_ratio\n' >"$TSV"

# measure WORKLOAD PATH BODY SPREAD CONNS [STACK]
measure() {
	local w=$1 path=$2 body=$3 spread=$4 conns=$5 stack=${6:-fnrun}
	local c f rss
	say "$w: warm-up"
	run ceiling "$path" "$body" "$spread" "$conns" 2 >/dev/null
	run "$stack" "$path" "$body" "$spread" "$conns" 2 >/dev/null
	say "$w: ceiling"
	c=$(run ceiling "$path" "$body" "$spread" "$conns" "$DURATION")
	say "$w: fnrun"
	f=$(run "$stack" "$path" "$body" "$spread" "$conns" "$DURATION")
	rss=$(rss_mb "$stack")
	read -r crps cp50 cp99 cerr <<<"$c"
	read -r frps fp50 fp99 ferr <<<"$f"
	awk -v w="$w" -v crps="$crps" -v cp50="$cp50" -v cp99="$cp99" -v cerr="$cerr" \
		-v crss="$RSS_CEILING" -v frps="$frps" -v fp50="$fp50" -v fp99="$fp99" \
		-v ferr="$ferr" -v frss="$rss" 'function r(a, b) { return b > 0 ? a / b : 0 }
		BEGIN {
		printf "%s\tceiling\t%d\t%.3f\t%.3f\t%d\t%.1f\t1.00\t1.00\t1.00\t1.00\n", w, crps, cp50, cp99, cerr, crss
		printf "%s\tfnrun\t%d\t%.3f\t%.3f\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\n", w, frps, fp50, fp99, ferr, frss,
		    r(frps, crps), r(fp50, cp50), r(fp99, cp99), r(frss, crss) }' >>"$TSV"
}

measure hello /invoke/bench/r/hello "$EMPTY" 0 "$CONNS"
measure async /invoke/bench/r/async "$EMPTY" 0 "$CONNS"
measure json /invoke/bench/r/json "$JSON" 0 "$CONNS"
measure cpu /invoke/bench/r/cpu "$EMPTY" 0 "$CONNS"
measure cold /invoke/bench/r/hello "$EMPTY" 0 1 cold
RSS_BEFORE_MANY=$(rss_mb fnrun)
WARM_BEFORE=$(metric fnrun fnrun_warm_heaps)
measure many /invoke/bench/many/f "$EMPTY" "$MANY" "$CONNS"
WARM=$(metric fnrun fnrun_warm_heaps)
WARM_BYTES=$(metric fnrun fnrun_warm_heap_bytes)
RSS_AFTER_MANY=$(rss_mb fnrun)

# --- the table ---------------------------------------------------------------
{
	echo
	echo "fnrun bench: $(nproc) cores, $WORKERS workers per stack, wrk -c $CONNS (cold: -c 1), ${DURATION}s per run"
	echo "ratios are fnrun / ceiling, measured in this run (ceiling = bare libfcgi responder behind the same nginx)"
	echo
	column -t -s $'\t' "$TSV"
	echo
	awk -v w="$WARM" -v b="$WARM_BYTES" -v wb="$WARM_BEFORE" -v r0="$RSS_BEFORE_MANY" \
		-v r1="$RSS_AFTER_MANY" -v n="$WORKERS" -v rc="$RSS_CEILING" 'BEGIN {
		per = (n > 0) ? w / n : 0
		bpf = (w > 0) ? b / w : 0
		rpf = (per > 0) ? (r1 - r0) * 1024 / per : 0
		printf "warm heaps: %d over %d workers (%.0f per worker; %d before the many run)\n", w, n, per, wb
		printf "heap bytes per warm function (allocator): %.0f B = %.1f KB\n", bpf, bpf / 1024
		printf "worker RSS: %.1f MiB with ~%.0f warm functions each (ceiling worker %.1f MiB; %.1f MiB before the many run)\n", r1, per, rc, r0
		printf "RSS growth per warm function: %.1f KB\n", rpf }'
	echo
	echo "table: $TSV"
} | tee "$OUT/latest.txt"
