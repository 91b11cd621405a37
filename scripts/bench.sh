#!/usr/bin/env bash
#
# scripts/bench.sh [--smoke|--profile] [BUILD] - make bench, make bench-smoke,
# make profile. Measures what users do, beside the architectures they would
# pick instead, in one run on the same cores, all on 127.0.0.1:
#
#   ceiling  a bare libfcgi responder (tests/bench/ceiling.c, no JavaScript)
#            behind fnrun's own nginx config, spawn-fcgi pool, no keep-conn
#   ceiling-close  the same, closing at once once the input was read (as
#            fnrun's worker does) instead of libfcgi's lingering close
#   node     Node behind nginx: tests/bench/node/server.js (node:http, each
#            handler required once, cluster workers) behind proxy_pass with
#            kept-alive upstream connections (open-runtimes' architecture)
#   njs      nginx's JavaScript module (tests/bench/njs/bench.js)
#   fnrun    the README's stack
# each with BENCH_WORKERS processes running functions (FastCGI workers,
# cluster workers, nginx workers for njs); every fronting nginx has 2.
#
# Every request posts the same 1.2 KB forwarding body ($BUILD/bench/
# payload.json, from tests/json_payload.h). Workloads (tests/bench/functions/,
# the very files fnrun and Node run): hello (ignore the body, send "hello"),
# json (JSON.parse(req.body), add 2 fields, JSON.stringify), json-payload
# (the same from req.payload, fnrun only), async (hello from a promise
# reaction, fnrun only: against the peers' hello), cpu (fib(20)), many (hello over
# 1,000 functions, fnrun only), cold (300 new functions, each called twice
# over one kept-alive connection, one worker: the first call against the
# second, end to end). Each answer is checked once before it is measured.
#
# Each connection sends its next request as soon as the answer came back,
# so every target runs its cores flat out, and p99 there is mostly the
# queueing of a saturated machine. So hello and json are measured a second
# time at equal load ("paced": each connection waits BENCH_THINK_MS between
# an answer and its next request, about 12,000 req/s in all, well under
# every target's ceiling), where p99 is what the target itself adds.
#
# wrk -t2 -c$BENCH_CONNECTIONS; every (workload, target) runs once per
# round, the rounds interleaved, and the tables give medians. Then each
# architecture's processes are summed (VmRSS, Pss). tests/bench/report.py
# prints the tables and writes $OUT/latest.tsv and latest.md. A benchmark,
# not a test: it asserts nothing about speed. Every wrk run is bounded by
# timeout(1), so the whole run is bounded; the estimate is printed first.
#
# --smoke: one 1-second round, 20 many functions, 5 cold ones, state in
#   var/bench/smoke: proves every peer starts and answers correctly.
# --profile: fnrun alone under the json workload (BENCH_PROFILE names
#   another: hello, json-payload, async, cpu), with perf record -e cpu-clock
#   -a; the perf report summary goes to $OUT/profile-<workload>.txt (needs
#   perf; the bench itself does not).
#
# Environment: BENCH_DURATION (s per run, 8), BENCH_ROUNDS (3),
# BENCH_CONNECTIONS (32), BENCH_WORKERS (2), BENCH_WARMUP (s, 2),
# BENCH_THINK_MS (the paced runs' wait, 2),
# BENCH_NODE (the node binary; default: node on PATH, then nvm's newest),
# BENCH_OUT (state and results, var/bench), BENCH_PERF_RECORD (more options
# for --profile's perf record, e.g. "--call-graph dwarf"). A peer that is not installed is
# left out of the table, with a message. Every process it starts is stopped
# by PID on exit, failure and interrupt included.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source-path=SCRIPTDIR source=lib/proc.sh disable=SC1091
source "$ROOT/scripts/lib/proc.sh"
# shellcheck source-path=SCRIPTDIR source=lib/stop.sh disable=SC1091
source "$ROOT/scripts/lib/stop.sh"
# shellcheck source-path=SCRIPTDIR source=template.sh disable=SC1091
source "$ROOT/scripts/template.sh"

MODE=bench
case ${1:-} in
--smoke | --profile)
	MODE=${1#--}
	shift
	;;
esac
BUILD=${1:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
DURATION=${BENCH_DURATION:-8}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNECTIONS:-32}
WORKERS=${BENCH_WORKERS:-2}
WARMUP=${BENCH_WARMUP:-2}
THINK=${BENCH_THINK_MS:-2}
OUT=${BENCH_OUT:-$ROOT/var/bench}
MANY=1000
COLD=300
if [[ $MODE == smoke ]]; then
	DURATION=1 ROUNDS=1 WARMUP=0 MANY=20 COLD=5
	OUT=${BENCH_OUT:-$ROOT/var/bench/smoke}
fi
PAYLOAD=$BUILD/bench/payload.json
FUNCTIONS=$ROOT/tests/bench/functions
CLIENT=$ROOT/tests/bench/client.py
NJS_MODULE=/usr/lib/nginx/modules/ngx_http_js_module.so

say() { printf 'bench: %s\n' "$*" >&2; }
warn() { say "$@"; }
die() {
	say "$*"
	exit 1
}

for v in DURATION ROUNDS CONNS WORKERS WARMUP THINK; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "BENCH_$v must be a whole number, not '${!v}'"
done
((DURATION >= 1 && ROUNDS >= 1 && CONNS >= 1 && WORKERS >= 1 && THINK >= 1)) ||
	die "BENCH_DURATION, BENCH_ROUNDS, BENCH_CONNECTIONS, BENCH_WORKERS and BENCH_THINK_MS must be at least 1"
for f in "$BUILD/fnrun-worker" "$BUILD/bench-ceiling" "$BUILD/bench-ceil-close" "$PAYLOAD"; do
	[[ -e $f ]] || die "$f is missing: run make bench"
done
command -v wrk >/dev/null || die "wrk is missing: run make deps"

# --- processes this script starts, stopped by PID on exit --------------------

STACKS=()		# fnrun-style stacks (stack.sh) by name
declare -A STACK_BIN=()
PEER_PIDS=()		# everything else: nginx masters, node, wrk, perf
PEER_COMMS=()

# started PID PROGRAM: records PID for cleanup, with the process name
# PROGRAM's binary runs under (passed in: just after the fork the child may
# not have executed it yet).
started() {
	local comm
	comm=$(basename "$2")
	PEER_PIDS+=("$1")
	PEER_COMMS+=("${comm:0:15}")
}

# stop_started: each recorded process that still runs its program, and
# everything below it, TERMed; KILLed if still there after 10 s.
stop_started() {
	local i
	for i in "${!PEER_PIDS[@]}"; do
		pid_alive "${PEER_PIDS[i]}" "${PEER_COMMS[i]}" || continue
		stop_pids TERM 10 "${PEER_COMMS[i]}" "${PEER_PIDS[i]}" || true
	done
}

# stack.sh recognises workers by their binary's name: each stack is stopped
# with the binary it was started with.
cleanup() {
	local s
	# Once: a second signal must not cut the cleanup short.
	trap "" INT TERM
	trap - EXIT
	stop_started
	for s in "${STACKS[@]}"; do
		FNRUN_STATE_DIR=$OUT/$s FNRUN_WORKER_BIN=${STACK_BIN[$s]} \
			FNRUN_CONFIG=$OUT/$s/none.conf \
			"$ROOT/scripts/stack.sh" stop >/dev/null 2>&1 ||
			say "could not stop the $s stack: see $OUT/$s/log"
	done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_http URL: URL answers 2xx within 10 s.
wait_http() {
	local deadline=$((SECONDS + 10))
	until curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; do
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
}

# --- the architectures ---------------------------------------------------------

declare -A URL=() KEY=() PEER_NGINX=()
NODE_PID=

# start_stack NAME WORKER_BIN [VAR=VALUE...]: a fresh fnrun-style stack in
# $OUT/NAME with the defaults, not the developer's fnrun.conf.
start_stack() {
	local name=$1 bin=$2
	shift 2
	rm -rf "${OUT:?}/$name"
	mkdir -p "$OUT/$name"
	: >"$OUT/$name/none.conf"
	STACKS+=("$name")
	STACK_BIN[$name]=$bin
	# Every workload is one project's: no per-project limit (SPEC §13),
	# which the peers do not have either.
	env FNRUN_STATE_DIR="$OUT/$name" FNRUN_STORE_DIR="$OUT/$name/store" \
		FNRUN_PORT="$(free_port)" FNRUN_MEMCACHED_PORT="$(free_port)" \
		FNRUN_WORKERS="$WORKERS" FNRUN_WORKER_BIN="$bin" \
		FNRUN_PROJECT_MAX_CONCURRENCY=1024 \
		FNRUN_CONFIG="$OUT/$name/none.conf" "$@" \
		"$ROOT/scripts/stack.sh" start >"$OUT/$name.start.log" 2>&1 ||
		{ cat "$OUT/$name.start.log" >&2; die "the $name stack did not start"; }
	URL[$name]=$(sed -n 's|.*running at \(http://[^ ]*\).*|\1|p' "$OUT/$name.start.log")
	KEY[$name]=$(cat "$OUT/$name/secrets/invoke_key")
}

admin_token() { cat "$OUT/$1/secrets/admin_token"; }

# start_peer_nginx NAME TEMPLATE KEY=VALUE...: nginx in the foreground of
# its own session (so its pid is the master's), config rendered from
# TEMPLATE into $OUT/NAME; URL[NAME] once /healthz answers.
start_peer_nginx() {
	local name=$1 tmpl=$2 dir=$OUT/$1 port user_line=''
	shift 2
	port=$(free_port)
	[[ $(id -u) -ne 0 ]] || user_line='user www-data www-data;'
	mkdir -p "$dir/tmp"
	render "$tmpl" "$dir/nginx.conf" "STATE_DIR=$dir" "PORT=$port" \
		"NGINX_USER_LINE=$user_line" "$@"
	setsid nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/nginx-error.log" \
		</dev/null >>"$dir/nginx.out" 2>&1 &
	started $! nginx
	PEER_NGINX[$name]=$!
	URL[$name]=http://127.0.0.1:$port
	KEY[$name]=none
	wait_http "${URL[$name]}/healthz" || {
		tail -n 20 "$dir/nginx.out" "$dir"/*.log >&2
		die "the $name peer did not answer on ${URL[$name]}/healthz"
	}
}

# find_node: the node binary to use, or nothing.
find_node() {
	local n
	if [[ -n ${BENCH_NODE:-} ]]; then
		echo "$BENCH_NODE"
		return
	fi
	for n in node nodejs; do
		command -v "$n" && return
	done
	n=$(printf '%s\n' "$HOME"/.nvm/versions/node/*/bin/node | sort -V | tail -n 1)
	[[ ! -x $n ]] || echo "$n"
}

NODE_VERSION=
start_node() {
	local node dir=$OUT/node port
	node=$(find_node)
	if [[ -z $node ]]; then
		say "node not found (set BENCH_NODE, or install Node 20): the Node peer is left out"
		return
	fi
	NODE_VERSION=$("$node" --version) || die "$node --version failed"
	rm -rf "$dir"
	mkdir -p "$dir"
	port=$(free_port)
	setsid "$node" "$ROOT/tests/bench/node/server.js" "$port" "$WORKERS" "$FUNCTIONS" \
		</dev/null >>"$dir/node.log" 2>&1 &
	started $! "$node"
	NODE_PID=$!
	start_peer_nginx node "$ROOT/tests/bench/node/nginx.conf.tmpl" "UPSTREAM_PORT=$port"
}

NJS_VERSION=
start_njs() {
	if [[ ! -e $NJS_MODULE ]]; then
		say "$NJS_MODULE not found (make deps installs libnginx-mod-http-js): the njs peer is left out"
		return
	fi
	NJS_VERSION=$(dpkg-query -W -f='${Version}' libnginx-mod-http-js 2>/dev/null || echo '?')
	rm -rf "${OUT:?}/njs"
	start_peer_nginx njs "$ROOT/tests/bench/njs/nginx.conf.tmpl" \
		"NJS_MODULE=$NJS_MODULE" "NJS_DIR=$ROOT/tests/bench/njs" "WORKERS=$WORKERS"
}

# --- measuring -------------------------------------------------------------------

# The stack a (workload, target) cell runs on.
stack_of() {
	case $1/$2 in
	many/fnrun) echo many ;;
	*) echo "$2" ;;
	esac
}

# path_of WORKLOAD: the invoked path (a prefix for many).
path_of() {
	case $1 in
	*-paced) path_of "${1%-paced}" ;;
	ceiling) echo /invoke/bench/r/hello ;;
	json-payload) echo /invoke/bench/r/json_payload ;;
	many) echo /invoke/bench/many/f ;;
	*) echo "/invoke/bench/r/$1" ;;
	esac
}

# wrk_run STACK PATH SPREAD SECONDS [THINK_MS] -> "rps p50_ms p99_ms errors"
wrk_run() {
	local out
	out=$(BENCH_KEY=${KEY[$1]} BENCH_PATH=$2 BENCH_BODY_FILE=$PAYLOAD BENCH_SPREAD=$3 \
		BENCH_THINK_MS=${5:-0} \
		timeout -k 5 $(($4 + 30)) wrk -t "$((CONNS < 2 ? 1 : 2))" -c "$CONNS" \
		-d "${4}s" --latency -s "$ROOT/tests/bench/wrk.lua" "${URL[$1]}" 2>&1) ||
		die "wrk against ${URL[$1]}$2 failed: $out"
	sed -n 's/^RESULT //p' <<<"$out" | awk '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "%.0f %.3f %.3f %d\n", v["requests"] / (v["duration_us"] / 1e6),
		    v["p50_us"] / 1000, v["p99_us"] / 1000, v["errors"] }'
}

# cell_run "WORKLOAD TARGET" SECONDS -> as wrk_run
cell_run() {
	local w t spread=0 think=0
	read -r w t <<<"$1"
	[[ $w != many ]] || spread=$MANY
	[[ $w != *-paced ]] || think=$THINK
	wrk_run "$(stack_of "$w" "$t")" "$(path_of "$w")" "$spread" "$2" "$think"
}

# cell_check "WORKLOAD TARGET": one request, its answer checked.
cell_check() {
	local w t kind path
	read -r w t <<<"$1"
	kind=${w%-paced}
	path=$(path_of "$w")
	case $kind in
	ceiling) kind=hello ;;
	json-payload) kind=json ;;
	async) kind=hello ;;
	many) path=${path}0 ;;
	esac
	python3 "$CLIENT" check "${URL[$(stack_of "$w" "$t")]}" \
		"${KEY[$(stack_of "$w" "$t")]}" "$path" "$kind" "$PAYLOAD" ||
		die "$w on $t answered wrongly"
}

# Processes of an architecture, one pid a line: nginx and all below it,
# the spawn-fcgi slots and their workers, memcached where it serves.
arch_pids() {
	local slot dir=$OUT/$1
	case $1 in
	ceiling | ceiling-close | fnrun | many)
		for slot in $(read_pids "$dir/run/nginx.pid") $(read_pids "$dir/run/fnrun-workers.pid"); do
			echo "$slot"
			descendants "$slot"
		done
		[[ $1 == ceiling* ]] || read_pids "$dir/run/memcached.pid"
		;;
	node | njs)
		slot=${PEER_NGINX[$1]}
		echo "$slot"
		descendants "$slot"
		if [[ $1 == node ]]; then
			echo "$NODE_PID"
			descendants "$NODE_PID"
		fi
		;;
	esac
}

# memory_of ARCH -> "processes rss_kb pss_kb"
memory_of() {
	local pid n=0 rss=0 pss=0 kb
	for pid in $(arch_pids "$1"); do
		kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || continue
		[[ -n $kb ]] || continue
		n=$((n + 1))
		rss=$((rss + kb))
		kb=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null) || kb=0
		pss=$((pss + ${kb:-0}))
	done
	echo "$n $rss $pss"
}

# The many stack's FastCGI workers (the slots' children): their mean RSS in KB.
many_worker_rss_kb() {
	local slot pid total=0 n=0 kb
	for slot in $(read_pids "$OUT/many/run/fnrun-workers.pid"); do
		for pid in $(descendants "$slot"); do
			kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || continue
			total=$((total + ${kb:-0}))
			n=$((n + 1))
		done
	done
	echo $((n > 0 ? total / n : 0))
}

metric() {
	curl -s "${URL[$1]}/metrics" | awk -v m="$2" '$1 == m {print $2}'
}

# --- run -------------------------------------------------------------------------

mkdir -p "$OUT"
make_functions() {
	local name
	for name in hello json json_payload async cpu; do
		python3 "$CLIENT" upload "${URL[$1]}" "$(admin_token "$1")" "bench/r/$name" \
			"$FUNCTIONS/$name.js"
	done
}

if [[ $MODE == profile ]]; then
	perf record -e cpu-clock -a -o /dev/null -- true >/dev/null 2>&1 ||
		die "perf record -e cpu-clock -a does not work here (install linux-perf; root or kernel.perf_event_paranoid <= 0)"
	WL=${BENCH_PROFILE:-json}
	say "profile: fnrun alone, $WL workload, wrk -c $CONNS, ${DURATION}s under perf"
	start_stack fnrun "$BUILD/fnrun-worker"
	make_functions fnrun
	cell_check "$WL fnrun"
	cell_run "$WL fnrun" "$WARMUP" >/dev/null
	# perf runs wrk and records the whole machine while it runs.
	# shellcheck disable=SC2086 # BENCH_PERF_RECORD is words of options
	BENCH_KEY=${KEY[fnrun]} BENCH_PATH=$(path_of "$WL") BENCH_BODY_FILE=$PAYLOAD \
		BENCH_SPREAD=0 perf record -e cpu-clock -a ${BENCH_PERF_RECORD:-} -o "$OUT/perf.data" -- \
		timeout -k 5 $((DURATION + 30)) wrk -t 2 -c "$CONNS" -d "${DURATION}s" \
		-s "$ROOT/tests/bench/wrk.lua" "${URL[fnrun]}" \
		>"$OUT/profile-wrk.txt" 2>"$OUT/perf-record.log" &
	started $! perf
	# -a records other people's work too: the reports keep to this run's
	# processes, wrk's included (listed while it runs), and perf keys
	# samples by thread, so every thread of each is listed.
	for ((i = 0; i < 100; i++)); do
		for pid in $(descendants "${PEER_PIDS[-1]}"); do
			[[ $(comm_of "$pid") != wrk ]] || break 2
		done
		sleep 0.1
	done
	ours=$( (arch_pids fnrun; echo "${PEER_PIDS[-1]}"; descendants "${PEER_PIDS[-1]}") |
		while read -r pid; do ls "/proc/$pid/task" 2>/dev/null || true; done | paste -sd,)
	workers=$(for slot in $(read_pids "$OUT/fnrun/run/fnrun-workers.pid"); do
		descendants "$slot"; done | paste -sd,)
	printf 'ours %s\nworkers %s\n' "$ours" "$workers" >"$OUT/profile-pids.txt"
	wait "${PEER_PIDS[-1]}" || die "perf record failed: $(cat "$OUT/perf-record.log")"
	report() { perf report -i "$OUT/perf.data" --stdio "$@" 2>/dev/null | awk '!/^#/ && NF && n++ < 40'; }
	{
		echo "perf record -e cpu-clock -a, ${DURATION}s of the $WL workload on fnrun" \
			"($WORKERS workers, wrk -t2 -c$CONNS, $(nproc) cores, $(date -u +%F))"
		grep '^RESULT' "$OUT/profile-wrk.txt" || true
		echo
		echo "== this run's processes, percent of all samples of the machine (both cores)"
		# (--sort comm alone loses forked processes under --pid: summed here)
		report --pid "$ours" --sort comm,pid --percentage absolute |
			awk '{ s[$2] += $1; all += $1 }
			END { for (c in s) if (s[c] >= 0.05) printf "%8.2f%%  %s\n", s[c], c
			      printf "%8.2f%%  (all of them; the rest is the machine'"'"'s other load)\n", all }' |
			sort -rn
		echo
		echo "== inside fnrun's workers, percent of the workers' samples"
		report --pid "$workers" --sort dso,sym --percentage relative
	} | tee "$OUT/profile-$WL.txt"
	say "profile: $OUT/profile-$WL.txt (perf data: $OUT/perf.data)"
	exit 0
fi

# The cells, in the order each round runs them.
CELLS=("ceiling ceiling" "ceiling ceiling-close")
start_node
start_njs
PEERS=()
[[ -z $NODE_PID ]] || PEERS+=(node)
[[ -z ${PEER_NGINX[njs]:-} ]] || PEERS+=(njs)
for w in hello json cpu; do
	for t in "${PEERS[@]}" fnrun; do
		CELLS+=("$w $t")
	done
	[[ $w != json ]] || CELLS+=("json-payload fnrun")
	[[ $w != hello ]] || CELLS+=("async fnrun")
done
CELLS+=("many fnrun")
CELLS+=("ceiling-paced ceiling" "ceiling-paced ceiling-close")
for w in hello json; do
	for t in "${PEERS[@]}" fnrun; do
		CELLS+=("$w-paced $t")
	done
done

estimate=$((${#CELLS[@]} * (WARMUP + ROUNDS * DURATION) + 60))
say "$MODE: ${#CELLS[@]} (workload, target) pairs, $ROUNDS rounds of ${DURATION}s," \
	"$WORKERS workers each, wrk -t2 -c$CONNS; about $((estimate / 60 + 1)) min" \
	"(at most $((estimate + ${#CELLS[@]} * (ROUNDS + 1) * 35)) s)"

start_stack ceiling "$BUILD/bench-ceiling"
start_stack ceiling-close "$BUILD/bench-ceil-close"
start_stack fnrun "$BUILD/fnrun-worker"
start_stack many "$BUILD/fnrun-worker"
make_functions fnrun
python3 "$CLIENT" upload-many "${URL[many]}" "$(admin_token many)" bench/many/f "$MANY"

for cell in "${CELLS[@]}"; do
	cell_check "$cell"
done

rm -f "$OUT/raw.tsv" "$OUT/memory.tsv" "$OUT/cold.txt" "$OUT/density.txt"
if ((WARMUP > 0)); then
	say "warm-up, ${WARMUP}s each"
	for cell in "${CELLS[@]}"; do
		[[ $cell != "many fnrun" ]] || RSS_BEFORE_MANY=$(many_worker_rss_kb)
		cell_run "$cell" "$WARMUP" >/dev/null
	done
fi
RSS_BEFORE_MANY=${RSS_BEFORE_MANY:-$(many_worker_rss_kb)}

for ((r = 1; r <= ROUNDS; r++)); do
	for cell in "${CELLS[@]}"; do
		say "round $r/$ROUNDS: $cell"
		read -r w t <<<"$cell"
		printf '%s\t%s\t%s\t%s\n' "$r" "$w" "$t" "$(cell_run "$cell" "$DURATION" | tr ' ' '\t')" \
			>>"$OUT/raw.tsv"
	done
done

for arch in ceiling ceiling-close "${PEERS[@]}" fnrun many; do
	printf '%s\t%s\n' "$arch" "$(memory_of "$arch" | tr ' ' '\t')" >>"$OUT/memory.tsv"
done
WARM=$(metric many fnrun_warm_heaps)
WARM_BYTES=$(metric many fnrun_warm_heap_bytes)
awk -v w="${WARM:-0}" -v b="${WARM_BYTES:-0}" -v n="$WORKERS" -v r0="$RSS_BEFORE_MANY" \
	-v r1="$(many_worker_rss_kb)" -v m="$MANY" 'BEGIN {
	per = w / n
	printf "%d warm heaps over %d workers (%.0f per worker, of %d functions)\n", w, n, per, m
	if (w > 0) printf "%.1f KB of heap per warm function (allocator count)\n", b / w / 1024
	if (per > 0) printf "%.1f KB of worker RSS per warm function (%.1f MiB per worker, %.1f before)\n", \
	    (r1 - r0) / per, r1 / 1024, r0 / 1024 }' >"$OUT/density.txt"

say "cold: $COLD new functions, each called twice, 1 worker"
start_stack cold "$BUILD/fnrun-worker" FNRUN_WORKERS=1
python3 "$CLIENT" cold "${URL[cold]}" "$(admin_token cold)" "${KEY[cold]}" "$COLD" \
	"$PAYLOAD" >"$OUT/cold.txt"

title="fnrun bench $(date -u +%F): $(nproc) cores shared by everything (wrk included);"
title+=" $WORKERS function processes per architecture, every fronting nginx 2 workers;"
title+=" POST of $(wc -c <"$PAYLOAD") bytes; wrk -t2 -c$CONNS; $ROUNDS interleaved rounds of ${DURATION}s, medians."
title+=" nginx $(nginx -v 2>&1 | sed 's|.*/||')"
[[ -z $NODE_VERSION ]] || title+=", Node $NODE_VERSION"
[[ -z $NJS_VERSION ]] || title+=", njs $NJS_VERSION"
[[ $MODE != smoke ]] || title="(smoke run: too short to mean anything) $title"
python3 "$ROOT/tests/bench/report.py" "$OUT" "$title" "$MANY" "$THINK"
say "tables: $OUT/latest.tsv, $OUT/latest.md ($SECONDS s in all)"
