# shellcheck shell=bash disable=SC2153  # FNRUN_<KEY> are assigned by printf -v
#
# scripts/config.sh - the one place the operations scripts learn their settings.
# Sourced, never run. Reads the config file ($FNRUN_CONFIG, default
# <repo>/fnrun.conf), then lets FNRUN_<KEY> environment variables override each
# key, validates the result and exports every setting as FNRUN_<KEY> (directories
# and worker_bin as absolute paths), plus the derived names the worker binary
# reads from its environment: FNRUN_CONFIG, FNRUN_ROOT, FNRUN_SOCKET,
# FNRUN_MEMCACHED (and FNRUN_MEMCACHED_HOST, where the local memcached
# listens), FNRUN_ADMIN_TOKEN_FILE, FNRUN_INVOKE_KEY_FILE,
# FNRUN_CACHE_KEY_FILE, FNRUN_CONCURRENCY_FILE.
#
# File format: "key = value" lines; lines whose first non-blank character is
# "#" are comments; blank lines are ignored. An unknown key, a malformed line
# or an invalid value stops the caller with a message naming it.
# It must never create files or start anything: it only reads and exports.

fnrun_config_die() {
	printf 'fnrun: config: %s\n' "$*" >&2
	exit 1
}

# Keys and defaults, in the order fnrun.conf lists them.
FNRUN_CONFIG_KEYS=(
	state_dir store_dir listen port workers memcached_port
	timeout_ms timeout_max_ms hard_grace_ms memory_mb memory_max_mb
	body_max_bytes source_max_bytes response_max_bytes log_max_bytes
	log_max_entries response_headers_max response_header_bytes_max
	warm_max_count warm_max_mb warm_max_calls spare_heap fcgi_keepalive
	transpile_timeout_ms transpile_memory_mb typescript_js
	worker_max_requests worker_max_rss_mb
	project_max_concurrency project_max_functions function_max_versions
	project_max_env_vars env_value_max_bytes project_max_store_bytes
	nginx_worker_connections client_header_timeout_s client_body_timeout_s
	send_timeout_s keepalive_timeout_s ip_max_requests
	worker_bin
	role fcgi_listen fcgi_allow upstreams memcached_servers
	egress_allow egress_deny egress_ca_file
	fetch_max_per_call fetch_max_in_flight fetch_body_max_bytes
)
declare -A FNRUN_CONFIG_DEFAULT=(
	[state_dir]=var
	[store_dir]=store
	[listen]=127.0.0.1
	[port]=8080
	[workers]=4
	[memcached_port]=11311
	[timeout_ms]=1000
	[timeout_max_ms]=30000
	[hard_grace_ms]=250
	[memory_mb]=32
	[memory_max_mb]=256
	[body_max_bytes]=1048576
	[source_max_bytes]=262144
	[response_max_bytes]=6291456
	[log_max_bytes]=65536
	[log_max_entries]=1000
	[response_headers_max]=100
	[response_header_bytes_max]=65536
	[warm_max_count]=1000
	[warm_max_mb]=256
	[warm_max_calls]=10000
	[spare_heap]=1
	[fcgi_keepalive]=0
	[transpile_timeout_ms]=10000
	[transpile_memory_mb]=256
	[typescript_js]=/usr/share/nodejs/typescript/lib/typescript.js
	[worker_max_requests]=0
	[worker_max_rss_mb]=0
	[project_max_concurrency]=0
	[project_max_functions]=1000
	[function_max_versions]=100
	[project_max_env_vars]=100
	[env_value_max_bytes]=8192
	[project_max_store_bytes]=67108864
	[nginx_worker_connections]=4096
	[client_header_timeout_s]=10
	[client_body_timeout_s]=10
	[send_timeout_s]=10
	[keepalive_timeout_s]=15
	[ip_max_requests]=256
	[worker_bin]=build/fnrun-worker
	[egress_allow]=
	[egress_deny]=
	[egress_ca_file]=
	[fetch_max_per_call]=50
	[fetch_max_in_flight]=6
	[fetch_body_max_bytes]=6291456
	[role]=single
	[fcgi_listen]=
	[fcgi_allow]=
	[upstreams]=
	[memcached_servers]=
)

FNRUN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

fnrun_config_load() {
	local file key value line n=0 var
	local -A from_file=()

	file=${FNRUN_CONFIG:-$FNRUN_ROOT/fnrun.conf}
	# A relative FNRUN_CONFIG is the caller's, so it is relative to their
	# working directory, not to the repository.
	[[ $file == /* ]] || file=$PWD/$file
	if [[ -e $file ]]; then
		[[ -r $file ]] || fnrun_config_die "$file: not readable"
		while IFS= read -r line || [[ -n $line ]]; do
			n=$((n + 1))
			line=${line%$'\r'}
			[[ $line =~ ^[[:space:]]*(#.*)?$ ]] && continue
			if [[ ! $line =~ ^[[:space:]]*([a-z_]+)[[:space:]]*=[[:space:]]*(.*[^[:space:]])?[[:space:]]*$ ]]; then
				fnrun_config_die "$file:$n: expected 'key = value'"
			fi
			key=${BASH_REMATCH[1]}
			value=${BASH_REMATCH[2]}
			[[ -v "FNRUN_CONFIG_DEFAULT[$key]" ]] ||
				fnrun_config_die "$file:$n: unknown key '$key'"
			from_file[$key]=$value
		done <"$file"
	elif [[ -n ${FNRUN_CONFIG:-} ]]; then
		fnrun_config_die "$file: no such file (from FNRUN_CONFIG)"
	fi
	FNRUN_CONFIG=$file

	for key in "${FNRUN_CONFIG_KEYS[@]}"; do
		var=FNRUN_${key^^}
		# An empty variable counts as unset, as FNRUN_CONFIG does.
		if [[ -n ${!var:-} ]]; then
			value=${!var}
		elif [[ -v "from_file[$key]" ]]; then
			value=${from_file[$key]}
		else
			value=${FNRUN_CONFIG_DEFAULT[$key]}
		fi
		printf -v "$var" '%s' "$value"
	done
}

# Paths end up unquoted-safe in nginx.conf and in sed replacements, so they are
# held to a conservative character set.
fnrun_config_path() {
	local var=$1 value=${!1}
	[[ -n $value ]] || fnrun_config_die "$var is empty"
	[[ $value =~ ^[A-Za-z0-9._/@+,:=~-]+$ ]] ||
		fnrun_config_die "$var='$value': only letters, digits and ._/@+,:=~- are allowed in paths"
	[[ $value == /* ]] || value=$FNRUN_ROOT/$value
	while [[ $value == */ && $value != / ]]; do value=${value%/}; done
	printf -v "$var" '%s' "$value"
}

fnrun_config_int() {
	local var=$1 min=$2 max=$3 value=${!1}
	[[ $value =~ ^[0-9]{1,12}$ ]] || fnrun_config_die "$var='$value' is not a whole number"
	value=$((10#$value))
	((value >= min && value <= max)) ||
		fnrun_config_die "$var=$value is outside $min..$max"
	printf -v "$var" '%s' "$value"
}

# fnrun_config_hostport VAR WHAT LIST: VAR holds a comma-separated list of
# host:port (IPv4 address or host name; an IPv6 address in brackets unless
# LIST says ipv4), each port 1..65535, at most 64 entries.
fnrun_config_hostports() {
	local var=$1 only=${2:-any} value=${!1} entry n=0 host port
	local IFS=,
	for entry in $value; do
		n=$((n + 1))
		host=${entry%:*}
		port=${entry##*:}
		[[ $entry == *:* && -n $host ]] ||
			fnrun_config_die "$var: '$entry' is not host:port"
		[[ $port =~ ^[1-9][0-9]{0,4}$ ]] && ((port <= 65535)) ||
			fnrun_config_die "$var: '$entry' has no port 1..65535"
		if [[ $only == ipv4 ]]; then
			fnrun_config_ipv4 "$var" "$host"
		elif ! [[ $host =~ ^[A-Za-z0-9.-]+$ || $host =~ ^\[[0-9A-Fa-f:.]+\]$ ]]; then
			fnrun_config_die "$var: '$host' is not an IPv4 address, host name or [IPv6]"
		fi
	done
	[[ $value != ,* && $value != *, && $value != *,,* ]] ||
		fnrun_config_die "$var='$value' has an empty entry"
	((n <= 64)) || fnrun_config_die "$var lists more than 64 entries"
}

# fnrun_config_ipv4 VAR ADDR: ADDR is a dotted-quad IPv4 address.
fnrun_config_ipv4() {
	local var=$1 addr=$2 o
	[[ $addr =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] ||
		fnrun_config_die "$var: '$addr' is not an IPv4 address (a.b.c.d)"
	for o in "${BASH_REMATCH[@]:1}"; do
		((10#$o <= 255)) || fnrun_config_die "$var: '$addr' is not an IPv4 address"
	done
}

# Several hosts (SPEC §14, README "Running on several hosts"): what each
# role needs. single: everything on this host (the default, unchanged).
# pool: workers on TCP fcgi_listen, reachable from fcgi_allow only (libfcgi
# checks IPv4 peers only, so both are IPv4), a memcached beside them.
# front: nginx over the pools in upstreams.
fnrun_config_roles() {
	local IFS=, a
	case $FNRUN_ROLE in
	single | pool | front) ;;
	*) fnrun_config_die "FNRUN_ROLE='$FNRUN_ROLE': single, pool or front" ;;
	esac
	if [[ -n $FNRUN_FCGI_LISTEN ]]; then
		[[ $FNRUN_FCGI_LISTEN != *,* ]] ||
			fnrun_config_die "FNRUN_FCGI_LISTEN is one host:port"
		fnrun_config_hostports FNRUN_FCGI_LISTEN ipv4
	fi
	for a in $FNRUN_FCGI_ALLOW; do fnrun_config_ipv4 FNRUN_FCGI_ALLOW "$a"; done
	[[ $FNRUN_FCGI_ALLOW != ,* && $FNRUN_FCGI_ALLOW != *, && $FNRUN_FCGI_ALLOW != *,,* ]] ||
		fnrun_config_die "FNRUN_FCGI_ALLOW='$FNRUN_FCGI_ALLOW' has an empty entry"
	fnrun_config_hostports FNRUN_UPSTREAMS
	fnrun_config_hostports FNRUN_MEMCACHED_SERVERS
	case $FNRUN_ROLE in
	pool)
		[[ -n $FNRUN_FCGI_LISTEN ]] ||
			fnrun_config_die "role pool needs fcgi_listen (the IPv4 host:port the front connects to)"
		[[ -n $FNRUN_FCGI_ALLOW ]] ||
			fnrun_config_die "role pool needs fcgi_allow (the front's addresses): an empty list would let anyone in"
		;;
	front)
		[[ -n $FNRUN_UPSTREAMS ]] ||
			fnrun_config_die "role front needs upstreams (the pools' host:port)"
		;;
	single)
		[[ -z $FNRUN_FCGI_LISTEN && -z $FNRUN_UPSTREAMS ]] ||
			fnrun_config_die "fcgi_listen and upstreams are for roles pool and front; set role"
		;;
	esac
}

fnrun_config_validate() {
	fnrun_config_path FNRUN_STATE_DIR
	fnrun_config_path FNRUN_STORE_DIR
	fnrun_config_path FNRUN_WORKER_BIN
	fnrun_config_path FNRUN_TYPESCRIPT_JS

	[[ $FNRUN_LISTEN =~ ^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])$ ]] ||
		fnrun_config_die "FNRUN_LISTEN='$FNRUN_LISTEN' is not an IPv4 address, host name or [IPv6]"
	fnrun_config_int FNRUN_PORT 1 65535
	fnrun_config_int FNRUN_WORKERS 1 1024
	fnrun_config_int FNRUN_MEMCACHED_PORT 1 65535
	((FNRUN_PORT != FNRUN_MEMCACHED_PORT)) ||
		fnrun_config_die "FNRUN_PORT and FNRUN_MEMCACHED_PORT are both $FNRUN_PORT"
	fnrun_config_int FNRUN_TIMEOUT_MAX_MS 1 3600000
	fnrun_config_int FNRUN_TIMEOUT_MS 1 "$FNRUN_TIMEOUT_MAX_MS"
	fnrun_config_int FNRUN_HARD_GRACE_MS 0 60000
	fnrun_config_int FNRUN_MEMORY_MAX_MB 1 65536
	fnrun_config_int FNRUN_MEMORY_MB 1 "$FNRUN_MEMORY_MAX_MB"
	fnrun_config_int FNRUN_WARM_MAX_COUNT 0 1000000
	fnrun_config_int FNRUN_WARM_MAX_MB 0 1048576
	fnrun_config_int FNRUN_WARM_MAX_CALLS 1 4294967295
	fnrun_config_int FNRUN_SPARE_HEAP 0 1
	fnrun_config_int FNRUN_TRANSPILE_TIMEOUT_MS 1 3600000
	fnrun_config_int FNRUN_TRANSPILE_MEMORY_MB 1 65536
	fnrun_config_int FNRUN_WORKER_MAX_REQUESTS 0 4294967295
	fnrun_config_int FNRUN_WORKER_MAX_RSS_MB 0 1048576
	fnrun_config_int FNRUN_BODY_MAX_BYTES 1 1073741824
	fnrun_config_int FNRUN_SOURCE_MAX_BYTES 1 1073741824
	fnrun_config_int FNRUN_RESPONSE_MAX_BYTES 1 1073741824
	fnrun_config_int FNRUN_LOG_MAX_BYTES 1 1073741824
	fnrun_config_int FNRUN_LOG_MAX_ENTRIES 1 1000000
	fnrun_config_int FNRUN_RESPONSE_HEADERS_MAX 1 120
	fnrun_config_int FNRUN_RESPONSE_HEADER_BYTES_MAX 1 1073741824
	fnrun_config_int FNRUN_PROJECT_MAX_CONCURRENCY 0 1024
	fnrun_config_int FNRUN_PROJECT_MAX_FUNCTIONS 1 4294967295
	fnrun_config_int FNRUN_FUNCTION_MAX_VERSIONS 1 4294967295
	fnrun_config_int FNRUN_PROJECT_MAX_ENV_VARS 1 4294967295
	fnrun_config_int FNRUN_ENV_VALUE_MAX_BYTES 1 1073741824
	fnrun_config_int FNRUN_PROJECT_MAX_STORE_BYTES 1 549755813888
	fnrun_config_int FNRUN_NGINX_WORKER_CONNECTIONS 64 1048576
	fnrun_config_int FNRUN_CLIENT_HEADER_TIMEOUT_S 1 3600
	fnrun_config_int FNRUN_CLIENT_BODY_TIMEOUT_S 1 3600
	fnrun_config_int FNRUN_SEND_TIMEOUT_S 1 3600
	fnrun_config_int FNRUN_KEEPALIVE_TIMEOUT_S 0 3600
	fnrun_config_int FNRUN_FCGI_KEEPALIVE 0 1024
	fnrun_config_int FNRUN_IP_MAX_REQUESTS 1 1048576
	fnrun_config_int FNRUN_FETCH_MAX_PER_CALL 1 100000
	fnrun_config_int FNRUN_FETCH_MAX_IN_FLIGHT 1 1000
	fnrun_config_int FNRUN_FETCH_BODY_MAX_BYTES 1 1073741824

	FNRUN_SOCKET=$FNRUN_STATE_DIR/run/fnrun.sock
	# sun_path holds 108 bytes including the terminating NUL.
	((${#FNRUN_SOCKET} <= 107)) ||
		fnrun_config_die "socket path $FNRUN_SOCKET is longer than 107 bytes: choose a shorter state_dir"
	fnrun_config_roles
	# The local memcached (scripts/stack.sh starts it): on 127.0.0.1, or
	# on a pool, beside the workers on fcgi_listen's address, where the
	# other hosts reach it.
	FNRUN_MEMCACHED_HOST=127.0.0.1
	[[ $FNRUN_ROLE != pool ]] || FNRUN_MEMCACHED_HOST=${FNRUN_FCGI_LISTEN%:*}
	# The workers' memcached list: memcached_servers, or the local one.
	FNRUN_MEMCACHED=${FNRUN_MEMCACHED_SERVERS:-$FNRUN_MEMCACHED_HOST:$FNRUN_MEMCACHED_PORT}
	FNRUN_ADMIN_TOKEN_FILE=$FNRUN_STATE_DIR/secrets/admin_token
	FNRUN_INVOKE_KEY_FILE=$FNRUN_STATE_DIR/secrets/invoke_key
	FNRUN_CACHE_KEY_FILE=$FNRUN_STATE_DIR/secrets/cache_key
	# spawn-fcgi sends the workers' stderr to /dev/null: supervisors and
	# workers append their own diagnostics here instead.
	FNRUN_WORKER_LOG=$FNRUN_STATE_DIR/log/worker.log
	# Counters every worker maps (GET /metrics).
	FNRUN_METRICS_FILE=$FNRUN_STATE_DIR/run/metrics
	# Invocations running per project, shared by every worker (SPEC §13).
	FNRUN_CONCURRENCY_FILE=$FNRUN_STATE_DIR/run/concurrency
	# One JSON line per invocation (project, fn, version, status, ms, ...).
	FNRUN_INVOCATION_LOG=$FNRUN_STATE_DIR/log/invocations.log
	# How long nginx waits for a worker, in s: the slowest answer is an
	# upload that loads the compiler and lowers (each within
	# transpile_timeout_ms, plus a grace of up to 2.25 s) and runs the top
	# level (timeout_max_ms); the worker answers a breach itself first, so
	# 5 s more.
	FNRUN_UPSTREAM_TIMEOUT_S=$(((FNRUN_TIMEOUT_MAX_MS + 2 * FNRUN_TRANSPILE_TIMEOUT_MS + 999) / 1000 + 5))
}

fnrun_config_load
fnrun_config_validate
for fnrun_key in "${FNRUN_CONFIG_KEYS[@]}"; do
	export "FNRUN_${fnrun_key^^}"
done
unset fnrun_key
export FNRUN_ROOT FNRUN_CONFIG FNRUN_SOCKET FNRUN_MEMCACHED FNRUN_MEMCACHED_HOST
export FNRUN_ADMIN_TOKEN_FILE FNRUN_INVOKE_KEY_FILE FNRUN_CACHE_KEY_FILE
export FNRUN_WORKER_LOG FNRUN_METRICS_FILE FNRUN_INVOCATION_LOG
export FNRUN_CONCURRENCY_FILE
export FNRUN_UPSTREAM_TIMEOUT_S
