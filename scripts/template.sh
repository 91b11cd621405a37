# shellcheck shell=bash
#
# scripts/template.sh - sourced by stack.sh and install.sh: rendering of the
# nginx templates in nginx/ (and any other @KEY@ template). The caller
# provides die.

# render SRC DST KEY=VALUE...: SRC with each @KEY@ replaced, to DST (0644),
# refusing a placeholder left outside a comment. Values hold no "|", "&" or
# "\" (they are validated paths and numbers).
render() {
	local src=$1 dst=$2 kv left tmp
	shift 2
	local args=()
	for kv in "$@"; do
		args+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
	done
	tmp=$(mktemp "$dst.XXXXXX")
	sed "${args[@]}" "$src" >"$tmp"
	left=$(grep -v '^[[:space:]]*#' "$tmp" | grep -oE '@[A-Z_]+@' | head -n 1 || true)
	if [[ -n $left ]]; then
		rm -f "$tmp"
		die "$src: placeholder $left is not rendered"
	fi
	chmod 0644 "$tmp"
	mv -f "$tmp" "$dst"
}

# edge_vars: the server block's limits on clients (README "Hostile
# clients") as KEY=VALUE placeholders, one a line, from the FNRUN_*
# settings scripts/config.sh exported.
edge_vars() {
	printf '%s\n' \
		"CLIENT_HEADER_TIMEOUT_S=$FNRUN_CLIENT_HEADER_TIMEOUT_S" \
		"CLIENT_BODY_TIMEOUT_S=$FNRUN_CLIENT_BODY_TIMEOUT_S" \
		"SEND_TIMEOUT_S=$FNRUN_SEND_TIMEOUT_S" \
		"KEEPALIVE_TIMEOUT_S=$FNRUN_KEEPALIVE_TIMEOUT_S" \
		"IP_MAX_REQUESTS=$FNRUN_IP_MAX_REQUESTS"
	# fcgi_keepalive: nginx keeps up to N idle connections to the workers
	# per nginx worker process, and closes each after 4 s idle or 20 s in
	# all, so that a stopping worker sees them closed by nginx (closing one
	# itself could fail a POST nginx was sending on it).
	if ((FNRUN_FCGI_KEEPALIVE > 0)); then
		printf '%s\n' "FASTCGI_KEEP_CONN=on" \
			"UPSTREAM_KEEPALIVE=keepalive $FNRUN_FCGI_KEEPALIVE; keepalive_timeout 4s; keepalive_time 20s;" # worker.h: WORKER_KEEP_DRAIN_MS
	else
		printf '%s\n' "FASTCGI_KEEP_CONN=off" "UPSTREAM_KEEPALIVE="
	fi
}

# private_log FILE...: each FILE exists and is 0640 (created empty if
# missing). nginx opens its logs with O_APPEND and keeps the mode of an
# existing file, but creates a missing one 0644; the shell's >> does too.
private_log() {
	local f
	for f in "$@"; do
		[[ -e $f ]] || (umask 077 && : >>"$f")
		chmod 0640 "$f"
	done
}

# Several hosts (SPEC §14). A pool nginx could not reach is skipped this
# long (max_fails=1), then tried again with one request.
POOL_FAIL_TIMEOUT_S=10

# upstream_vars ROLE SOCKET UPSTREAMS FRONT_CONF: the placeholders of the
# server block that depend on the role, KEY=VALUE one a line. single and
# pool: one server, the unix socket. front: every pool of UPSTREAMS (a
# comma-separated host:port list), and the include of FRONT_CONF.
upstream_vars() {
	local role=$1 socket=$2 upstreams=$3 front_conf=$4 servers='' n=0 p
	local -a list
	if [[ $role == front ]]; then
		IFS=, read -r -a list <<<"$upstreams"
		for p in "${list[@]}"; do
			servers+="server $p max_fails=1 fail_timeout=${POOL_FAIL_TIMEOUT_S}s; "
			n=$((n + 1))
		done
		printf '%s\n' "UPSTREAM_SERVERS=$servers" "UPSTREAM_TRIES=$n" \
			'POOL_URI_MAP=~^/pools/[0-9]+(/healthz)$ $1; ~^/pools/[0-9]+(/metrics)$ $1; /.fnrun-any-pool /healthz;' \
			"FRONT_INCLUDE=include $front_conf;"
	else
		printf '%s\n' "UPSTREAM_SERVERS=server unix:$socket;" "UPSTREAM_TRIES=1" \
			"POOL_URI_MAP=" "FRONT_INCLUDE="
	fi
}

# front_files DIR UPSTREAMS: writes the files nginx/fnrun-front.conf.tmpl
# uses into DIR: pools.conf (each pool's /pools/N/healthz and, for the
# local host only, /pools/N/metrics, straight to that pool) and the two
# pages put together from each pool's /healthz by server-side includes
# (healthz.json, metrics.txt). A pool is up when it answered its /healthz
# with its store usable. Each file is written beside its target and
# renamed into place.
front_files() {
	local dir=$1 upstreams=$2 i=0 p list tmp
	local pools='' incl='' ups='' json='' prom=''
	IFS=, read -r -a list <<<"$upstreams"
	for p in "${list[@]}"; do
		i=$((i + 1))
		pools+="location = /pools/$i/healthz { fastcgi_pass_request_body off; fastcgi_pass $p; }
location = /pools/$i/metrics { allow 127.0.0.1; allow ::1; deny all; fastcgi_pass_request_body off; fastcgi_pass $p; }
"
		incl+="<!--# include virtual=\"/pools/$i/healthz\" set=\"pool$i\" -->"
		incl+="<!--# if expr=\"\$pool$i = /.store.:.ok./\" --><!--# set var=\"up$i\" value=\"1\" -->"
		incl+="<!--# else --><!--# set var=\"up$i\" value=\"0\" --><!--# endif -->"
		ups+="\$up$i"
		((i == 1)) || json+=","
		json+="{\"pool\":$i,\"address\":\"$p\",\"up\":<!--# if expr=\"\$up$i = 1\" -->true<!--# else -->false<!--# endif -->,"
		json+="\"health\":<!--# if expr=\"\$pool$i = /^\\{/\" --><!--# echo var=\"pool$i\" encoding=\"none\" --><!--# else -->null<!--# endif -->}"
		prom+="fnrun_pool_up{pool=\"$p\"} <!--# if expr=\"\$up$i = 1\" -->1<!--# else -->0<!--# endif -->
"
	done
	# ok; degraded when some pool is down; down when none is up (SSI has
	# no nested if).
	incl+="<!--# set var=\"ups\" value=\"$ups\" --><!--# set var=\"st\" value=\"ok\" -->"
	incl+="<!--# if expr=\"\$ups = /0/\" --><!--# set var=\"st\" value=\"degraded\" --><!--# endif -->"
	incl+="<!--# if expr=\"\$ups != /1/\" --><!--# set var=\"st\" value=\"down\" --><!--# endif -->"
	mkdir -p "$dir"
	tmp=$(mktemp "$dir/.pools.XXXXXX")
	printf '# Written by scripts/template.sh (front_files): one pair per pool of upstreams.\n%s' "$pools" >"$tmp"
	chmod 0644 "$tmp" && mv -f "$tmp" "$dir/pools.conf"
	tmp=$(mktemp "$dir/.healthz.XXXXXX")
	printf '%s{"status":"%s","role":"front","pools":[%s]}\n' "$incl" \
		'<!--# echo var="st" -->' \
		"$json" >"$tmp"
	chmod 0644 "$tmp" && mv -f "$tmp" "$dir/healthz.json"
	tmp=$(mktemp "$dir/.metrics.XXXXXX")
	printf '%s# HELP fnrun_pool_up Whether the front reached the pool and its store is usable (its /healthz).\n# TYPE fnrun_pool_up gauge\n%s' \
		"$incl" "$prom" >"$tmp"
	chmod 0644 "$tmp" && mv -f "$tmp" "$dir/metrics.txt"
}
