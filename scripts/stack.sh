#!/usr/bin/env bash
#
# scripts/stack.sh {start|stop|status} - the local stack (make run / make stop):
# memcached on 127.0.0.1, the spawn-fcgi worker pool on a unix socket, and
# nginx in front of it, all keeping their state under $state_dir (SPEC §3, §10).
# The role setting splits it over several hosts (SPEC §14, README "Running
# on several hosts"): role pool starts memcached and the workers on TCP
# (fcgi_listen, reachable from fcgi_allow only) and no nginx; role front
# starts only nginx, balancing over the pools of upstreams. The default,
# single, is all three on this host, as before.
# Works as an ordinary user; as root, nginx workers run as www-data and the
# socket is given to them. It owns the secrets' first generation, the rendered
# nginx.conf, and the pid files. It stops processes only by the PIDs it
# recorded, never by name.
#
# Exit status: 0 done / running; 1 failure; 2 usage; 3 (status) not running.

set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=config.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/config.sh"
# shellcheck source-path=SCRIPTDIR source=secrets.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/secrets.sh"
# shellcheck source-path=SCRIPTDIR source=template.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/template.sh"
# shellcheck source-path=SCRIPTDIR source=lib/proc.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/lib/proc.sh"
# shellcheck source-path=SCRIPTDIR source=lib/stop.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/lib/stop.sh"

STATE=$FNRUN_STATE_DIR
RUN=$STATE/run
LOG=$STATE/log
SECRETS=$STATE/secrets
NGINX_DIR=$STATE/nginx
NGINX_CONF=$NGINX_DIR/nginx.conf
NGINX_PID=$RUN/nginx.pid
WORKERS_PID=$RUN/fnrun-workers.pid
MEMCACHED_PID=$RUN/memcached.pid
TEMPLATE=$FNRUN_ROOT/nginx/fnrun.conf.tmpl
# The console's static files, served from the repository (README "Console");
# the path goes into nginx.conf, so it is held to config.sh's path rules.
CONSOLE_DIR=$FNRUN_ROOT/nginx/console
fnrun_config_path CONSOLE_DIR
URL=http://$FNRUN_LISTEN:$FNRUN_PORT
ROLE=$FNRUN_ROLE
MC_HOST=$FNRUN_MEMCACHED_HOST
FRONT_DIR=$NGINX_DIR/front

# nginx waits this long for a worker; stop waits this long for a drain.
UPSTREAM_TIMEOUT_S=$FNRUN_UPSTREAM_TIMEOUT_S
READY_TIMEOUT_S=10

WORKER_COMM=$(basename "$FNRUN_WORKER_BIN")
WORKER_COMM=${WORKER_COMM:0:15}

say() { printf 'fnrun: %s\n' "$*"; }
warn() { printf 'fnrun: %s\n' "$*" >&2; }
die() {
	warn "$*"
	exit 1
}

is_root() { [[ $(id -u) -eq 0 ]]; }

# --- start -------------------------------------------------------------------

make_dirs() {
	mkdir -p "$STATE" "$RUN" "$LOG" "$SECRETS" "$NGINX_DIR/tmp" "$FNRUN_STORE_DIR"
	chmod 0755 "$STATE" "$RUN" "$LOG" "$NGINX_DIR" "$NGINX_DIR/tmp"
	chmod 0700 "$SECRETS"
	# Logs may hold what a client sent: not for every local user.
	private_log "$LOG/access.log" "${LOG_FILES[@]/#/$LOG/}"
}

# memcached_answers: something speaking memcached listens on its port.
memcached_answers() {
	(
		exec 3<>"/dev/tcp/$MC_HOST/$FNRUN_MEMCACHED_PORT" || exit 1
		printf 'version\r\n' >&3
		IFS= read -r -t 1 line <&3 && [[ $line == VERSION* ]]
	) 2>/dev/null
}

# memcached is started in a session of its own rather than with -d: with
# -u nobody, -d -P writes its pid file only after dropping privileges, which
# fails silently wherever nobody may not write, and leaves a daemon nobody
# knows the pid of. Backgrounded here, $! is memcached's pid.
start_memcached() {
	local user=() pid deadline
	# memcached refuses to run as root without -u.
	is_root && user=(-u nobody)
	if memcached_answers; then
		warn "$MC_HOST:$FNRUN_MEMCACHED_PORT is already served by another memcached: set memcached_port"
		return 1
	fi
	# -I 16m: the compiler's bytecode (sandbox/lower) is ~8 MB; the default
	# item limit (1 MB) would leave every worker compiling it.
	setsid memcached -l "$MC_HOST" -p "$FNRUN_MEMCACHED_PORT" -m 64 -I 16m "${user[@]}" \
		</dev/null >>"$LOG/memcached.log" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$MEMCACHED_PID"
	deadline=$((SECONDS + 5))
	until memcached_answers; do
		if ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); then
			warn "memcached did not start on $MC_HOST:$FNRUN_MEMCACHED_PORT"
			return 1
		fi
		sleep 0.1
	done
	pid_alive "$pid" memcached || {
		warn "memcached exited (port $MC_HOST:$FNRUN_MEMCACHED_PORT in use?)"
		return 1
	}
}

# spawn_pool SOCKET PIDFILE N: the documented spawn-fcgi command line.
# spawn-fcgi points the workers' stdout and stderr at /dev/null; its own
# messages go to the log. The workers get this script's environment (every
# FNRUN_* setting, fcgi_allow included: the worker hands it to libfcgi) and
# the repository as working directory, and the size of their own pool in
# FNRUN_WORKERS (a project's share of it, SPEC §13). On a pool, SOCKET is
# fcgi_listen's host:port and spawn-fcgi listens on TCP instead.
spawn_pool() {
	local where=(-s "$1") mode=(-M 0600)
	is_root && mode=(-U www-data -G www-data -M 0660)
	if [[ $ROLE == pool ]]; then
		where=(-a "${1%:*}" -p "${1##*:}")
		mode=()
	fi
	FNRUN_WORKERS=$3 spawn-fcgi "${where[@]}" -F "$3" -P "$2" \
		-d "$FNRUN_ROOT" "${mode[@]}" -- "$FNRUN_WORKER_BIN" \
		</dev/null >>"$LOG/spawn-fcgi.log" 2>&1
}

# Where the pool listens: the unix socket, or on a pool fcgi_listen.
pool_address() {
	if [[ $ROLE == pool ]]; then echo "$FNRUN_FCGI_LISTEN"; else echo "$FNRUN_SOCKET"; fi
}

start_workers() {
	# No worker is alive (checked before), so any socket left is stale.
	rm -f "$FNRUN_SOCKET" "$RUN/workers"
	spawn_pool "$(pool_address)" "$WORKERS_PID" "$FNRUN_WORKERS"
}

# render_nginx_conf: renders the server block (nginx/fnrun-server.conf.tmpl,
# shared with scripts/install.sh) into $NGINX_DIR/fnrun-server.conf, then the
# nginx.conf that includes it ($TEMPLATE) into $NGINX_CONF. Each file is
# written beside its target and renamed into place; the server block goes
# first, so the nginx.conf in place never names a missing include.
render_nginx_conf() {
	local user_line='' buffers nofile hard edge
	is_root && user_line='user www-data www-data;'
	# Each client connection may hold an upstream one and a temp file.
	nofile=$((FNRUN_NGINX_WORKER_CONNECTIONS * 2))
	if ! is_root; then
		# Not root, nginx cannot raise its hard limit: it would only warn.
		hard=$(ulimit -Hn)
		[[ $hard == unlimited ]] || ((nofile <= hard)) || nofile=$hard
	fi
	mapfile -t edge < <(edge_vars; upstream_vars "$ROLE" "$FNRUN_SOCKET" \
		"$FNRUN_UPSTREAMS" "$NGINX_DIR/fnrun-front.conf")
	# 128k buffers for response_max_bytes, plus one for headers and framing.
	buffers=$(((FNRUN_RESPONSE_MAX_BYTES + 131071) / 131072 + 1))
	((buffers >= 2)) || buffers=2
	# Every value substituted was validated by config.sh: no sed
	# metacharacter ("|", "&", "\") can occur in it.
	local vars=(
		"NGINX_USER_LINE=$user_line" "STATE_DIR=$STATE"
		"LISTEN=$FNRUN_LISTEN" "PORT=$FNRUN_PORT" "SOCKET=$FNRUN_SOCKET"
		"ACCESS_LOG=$LOG/access.log" "ERROR_LOG=$LOG/nginx-error.log"
		"BODY_MAX_BYTES=$FNRUN_BODY_MAX_BYTES"
		"UPSTREAM_TIMEOUT_S=$UPSTREAM_TIMEOUT_S" "FASTCGI_BUFFERS=$buffers"
		"NGINX_WORKER_CONNECTIONS=$FNRUN_NGINX_WORKER_CONNECTIONS"
		"NGINX_RLIMIT_NOFILE=$nofile" "FRONT_DIR=$FRONT_DIR" "CONSOLE_DIR=$CONSOLE_DIR"
		"${edge[@]}"
	)
	if [[ $ROLE == front ]]; then
		front_files "$FRONT_DIR" "$FNRUN_UPSTREAMS"
		render "$FNRUN_ROOT/nginx/fnrun-front.conf.tmpl" \
			"$NGINX_DIR/fnrun-front.conf" "${vars[@]}"
	fi
	render "$FNRUN_ROOT/nginx/fnrun-server.conf.tmpl" \
		"$NGINX_DIR/fnrun-server.conf" "${vars[@]}"
	render "$TEMPLATE" "$NGINX_CONF" "${vars[@]}"
}

nginx_cmd() {
	nginx -p "$NGINX_DIR" -c "$NGINX_CONF" -e "$LOG/nginx-error.log" "$@"
}

# As root, the nginx workers run as www-data and must be able to reach the
# socket: every directory above it must be searchable by others.
check_run_reachable() {
	is_root || return 0
	command -v runuser >/dev/null 2>&1 || return 0
	runuser -u www-data -- test -x "$RUN" && return 0
	die "www-data (nginx's workers) cannot reach $RUN: a directory above it is not searchable by others; choose another state_dir or chmod o+x its parents"
}

# pool_accepts: something accepts connections on fcgi_listen. (A probe
# from this host is refused right after accept unless this host is in
# fcgi_allow, but the connection itself succeeds.)
pool_accepts() {
	(exec 3<>"/dev/tcp/${FNRUN_FCGI_LISTEN%:*}/${FNRUN_FCGI_LISTEN##*:}") 2>/dev/null
}

wait_ready() {
	local deadline=$((SECONDS + READY_TIMEOUT_S))
	if [[ $ROLE == pool ]]; then
		until pool_accepts; do
			if ((SECONDS >= deadline)); then
				warn "nothing accepts on $FNRUN_FCGI_LISTEN after ${READY_TIMEOUT_S}s"
				return 1
			fi
			sleep 0.1
		done
		return 0
	fi
	while [[ $ROLE == single && ! -S $FNRUN_SOCKET ]]; do
		if ((SECONDS >= deadline)); then
			warn "no socket at $FNRUN_SOCKET after ${READY_TIMEOUT_S}s"
			return 1
		fi
		sleep 0.1
	done
	until curl -gfsS -o /dev/null --max-time 2 "$URL/healthz" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			warn "$URL/healthz did not answer 2xx within ${READY_TIMEOUT_S}s:"
			curl -gsS --max-time 2 "$URL/healthz" >&2 || true
			return 1
		fi
		sleep 0.1
	done
}

# The logs show_logs reports, and their sizes when this start began, so that
# only what this start wrote is shown.
LOG_FILES=(nginx-error.log spawn-fcgi.log memcached.log worker.log)
declare -A LOG_OFFSET=()

mark_logs() {
	local f
	for f in "${LOG_FILES[@]}"; do
		LOG_OFFSET[$f]=$(stat -c %s "$LOG/$f" 2>/dev/null || echo 0)
	done
}

show_logs() {
	local f new
	for f in "${LOG_FILES[@]}"; do
		[[ -s $LOG/$f ]] || continue
		new=$(tail -c +$((${LOG_OFFSET[$f]:-0} + 1)) "$LOG/$f" | tail -n 20)
		[[ -n $new ]] || continue
		warn "--- $LOG/$f (last lines of this start)"
		printf '%s\n' "$new" >&2
	done
}

start_nginx() {
	nginx_cmd </dev/null >>"$LOG/nginx-error.log" 2>&1
}

cmd_start() {
	local pids=()
	mapfile -t pids < <(alive_pids "$NGINX_PID" nginx)
	((${#pids[@]} == 0)) || die "fnrun is already running (nginx pid ${pids[*]})"
	mapfile -t pids < <(alive_pids "$WORKERS_PID" "$WORKER_COMM"; alive_pids "$MEMCACHED_PID" memcached)
	((${#pids[@]} == 0)) ||
		die "fnrun is partly running (pids ${pids[*]}, no nginx); run $0 stop first"

	local tool tools=(nginx spawn-fcgi memcached curl)
	[[ $ROLE != front ]] || tools=(nginx curl)
	[[ $ROLE != pool ]] || tools=(spawn-fcgi memcached)
	for tool in "${tools[@]}"; do
		command -v "$tool" >/dev/null ||
			die "$tool is missing: run scripts/install-deps.sh"
	done
	[[ $ROLE == front || -x $FNRUN_WORKER_BIN ]] ||
		die "no worker binary at $FNRUN_WORKER_BIN (run make, or set worker_bin)"

	make_dirs
	mark_logs
	rm -f "$NGINX_PID" "$WORKERS_PID"
	if [[ $ROLE != front ]]; then
		# Every pool of a front must hold the same three secrets: copy
		# them to each host before its first start (README "Running on
		# several hosts"); generated here only when missing.
		secret_ensure "$FNRUN_ADMIN_TOKEN_FILE"
		secret_ensure "$FNRUN_INVOKE_KEY_FILE"
		secret_ensure "$FNRUN_CACHE_KEY_FILE"
	fi

	if [[ $ROLE != pool ]]; then
		check_run_reachable
		render_nginx_conf
		if ! nginx_cmd -t -q </dev/null >>"$LOG/nginx-error.log" 2>&1; then
			show_logs
			die "nginx rejected $NGINX_CONF"
		fi
	fi

	# Each step returns non-zero on failure; a failure stops what was started.
	local steps=(start_memcached start_workers start_nginx wait_ready) step
	[[ $ROLE != front ]] || steps=(start_nginx wait_ready)
	[[ $ROLE != pool ]] || steps=(start_memcached start_workers wait_ready)
	for step in "${steps[@]}"; do
		"$step" && continue
		warn "start failed"
		show_logs
		cmd_stop >&2 || true
		exit 1
	done

	case $ROLE in
	single) say "running at $URL (nginx pid $(read_pids "$NGINX_PID"), $FNRUN_WORKERS workers on $FNRUN_SOCKET, memcached 127.0.0.1:$FNRUN_MEMCACHED_PORT)" ;;
	front)
		say "front running at $URL (nginx pid $(read_pids "$NGINX_PID")) over the pools $FNRUN_UPSTREAMS"
		return 0
		;;
	pool) say "pool running: $FNRUN_WORKERS workers on $FNRUN_FCGI_LISTEN (from $FNRUN_FCGI_ALLOW only), memcached $MC_HOST:$FNRUN_MEMCACHED_PORT" ;;
	esac
	say "admin token: $FNRUN_ADMIN_TOKEN_FILE"
	say "invoke key:  $FNRUN_INVOKE_KEY_FILE"
	say "cache key:   $FNRUN_CACHE_KEY_FILE"
	say "logs:        $LOG"
}

# --- stop ----------------------------------------------------------------------

cmd_stop() {
	local nginx_pids worker_pids memcached_pids
	mapfile -t nginx_pids < <(alive_pids "$NGINX_PID" nginx)
	mapfile -t worker_pids < <(alive_pids "$WORKERS_PID" "$WORKER_COMM")
	mapfile -t memcached_pids < <(alive_pids "$MEMCACHED_PID" memcached)

	if ((${#nginx_pids[@]} + ${#worker_pids[@]} + ${#memcached_pids[@]} == 0)); then
		rm -f "$NGINX_PID" "$WORKERS_PID" "$MEMCACHED_PID" "$FNRUN_SOCKET"
		say "fnrun is not running"
		return 0
	fi

	# nginx first, so nothing new reaches the workers; QUIT lets the requests
	# in flight finish, which takes at most the upstream timeout.
	if ((${#nginx_pids[@]})); then
		say "stopping nginx (pid ${nginx_pids[*]})"
		stop_pids QUIT $((UPSTREAM_TIMEOUT_S + 5)) nginx "${nginx_pids[@]}"
	fi
	# Each worker drains its in-flight invocation on TERM.
	if ((${#worker_pids[@]})); then
		say "stopping ${#worker_pids[@]} workers (pids ${worker_pids[*]})"
		stop_pids TERM "$UPSTREAM_TIMEOUT_S" "$WORKER_COMM" "${worker_pids[@]}"
	fi
	if ((${#memcached_pids[@]})); then
		say "stopping memcached (pid ${memcached_pids[*]})"
		stop_pids TERM 10 memcached "${memcached_pids[@]}"
	fi
	rm -f "$NGINX_PID" "$WORKERS_PID" "$MEMCACHED_PID" "$FNRUN_SOCKET"
	say "stopped"
}

# --- scale and reload ------------------------------------------------------------

# cmd_swap N: replaces the running pool by a new one of N workers without
# failing a request. spawn-fcgi cannot add workers to a socket that is in
# use, so the new pool listens on a temporary path that rename(2) then puts
# in place atomically: nginx's next connect reaches the new pool, while the
# old workers, sent TERM, serve what was already queued on their socket
# and the invocations in flight, then exit. Serves `scale N` (the count is
# kept in run/workers until the next start) and `reload` (same count, the
# worker binary as it is now: a new build).
cmd_swap() {
	local n=$1 old_pids new_sock=$FNRUN_SOCKET.new new_pidf=$WORKERS_PID.new
	if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1 || n > 1024)); then
		die "worker count must be 1..1024, not '$n'"
	fi
	mapfile -t old_pids < <(alive_pids "$WORKERS_PID" "$WORKER_COMM")
	((${#old_pids[@]})) || die "fnrun is not running"
	if [[ $ROLE == pool ]]; then
		# A TCP port cannot be handed over by rename: the old workers
		# drain and let go of it, then the new ones take it. Meanwhile
		# the front's connects are refused and it sends to the other
		# pools (README "Running on several hosts").
		say "draining ${#old_pids[@]} workers (pids ${old_pids[*]}), then starting $n on $FNRUN_FCGI_LISTEN"
		stop_pids TERM "$UPSTREAM_TIMEOUT_S" "$WORKER_COMM" "${old_pids[@]}"
		spawn_pool "$FNRUN_FCGI_LISTEN" "$WORKERS_PID" "$n" ||
			die "spawn-fcgi failed (see $LOG/spawn-fcgi.log)"
		echo "$n" >"$RUN/workers"
		say "running with $n workers"
		return 0
	fi
	rm -f "$new_sock" "$new_pidf"
	spawn_pool "$new_sock" "$new_pidf" "$n" || {
		rm -f "$new_sock" "$new_pidf"
		die "spawn-fcgi failed (see $LOG/spawn-fcgi.log)"
	}
	mv -f "$new_sock" "$FNRUN_SOCKET"
	mv -f "$new_pidf" "$WORKERS_PID"
	echo "$n" >"$RUN/workers"
	say "$n new workers accepting; draining ${#old_pids[@]} old (pids ${old_pids[*]})"
	stop_pids TERM "$UPSTREAM_TIMEOUT_S" "$WORKER_COMM" "${old_pids[@]}"
	say "running with $n workers"
}

current_workers() {
	if [[ -s $RUN/workers ]]; then cat "$RUN/workers"; else echo "$FNRUN_WORKERS"; fi
}

# --- status --------------------------------------------------------------------

cmd_status() {
	local nginx_pids worker_pids memcached_pids expected
	mapfile -t nginx_pids < <(alive_pids "$NGINX_PID" nginx)
	mapfile -t worker_pids < <(alive_pids "$WORKERS_PID" "$WORKER_COMM")
	mapfile -t memcached_pids < <(alive_pids "$MEMCACHED_PID" memcached)
	expected=$(read_pids "$WORKERS_PID" | wc -l)

	if ((${#nginx_pids[@]})); then
		say "nginx:     running, pid ${nginx_pids[*]}, $URL"
	else
		say "nginx:     not running"
	fi
	if ((${#worker_pids[@]})); then
		say "workers:   ${#worker_pids[@]} of $expected running, pids ${worker_pids[*]}, on $(pool_address)"
	else
		say "workers:   not running"
	fi
	if ((${#memcached_pids[@]})); then
		say "memcached: running, pid ${memcached_pids[*]}, $MC_HOST:$FNRUN_MEMCACHED_PORT"
	else
		say "memcached: not running"
	fi

	case $ROLE in
	single) ((${#nginx_pids[@]} && ${#worker_pids[@]})) && return 0 ;;
	front) ((${#nginx_pids[@]})) && return 0 ;;
	pool) ((${#worker_pids[@]})) && return 0 ;;
	esac
	if ((${#nginx_pids[@]} + ${#worker_pids[@]} + ${#memcached_pids[@]})); then
		say "fnrun is partly running; $0 stop cleans up"
	else
		say "fnrun is not running"
	fi
	return 3
}

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
scale) cmd_swap "${2:-}" ;;
reload) cmd_swap "$(current_workers)" ;;
*)
	printf 'usage: %s {start|stop|status|scale N|reload}\n' "$0" >&2
	exit 2
	;;
esac
