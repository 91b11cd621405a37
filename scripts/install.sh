#!/usr/bin/env bash
#
# scripts/install.sh - installs fnrun system-wide, the Debian way (SPEC §10,
# issue 5): the worker pool as the systemd unit fnrun.service, running as the
# system user fnrun, behind the system nginx as the site "fnrun".
#
#   scripts/install.sh [--prefix DIR] [--destdir DIR] [--workers N]
#                      [--port P] [--listen ADDR] [--bin FILE] [--no-start]
#                      [--role single|pool|front] [--fcgi-listen IP:PORT]
#                      [--fcgi-allow IP,...] [--upstreams HOST:PORT,...]
#                      [--memcached-servers HOST:PORT,...]
#
# Roles (SPEC §14, README "Running on several hosts"): single (default) is
# the pool and nginx on this host; pool is fnrun.service on TCP fcgi_listen,
# no nginx site; front is the nginx site over the pools of upstreams, no
# fnrun.service. The role options set their keys in fnrun.conf.
#
#   <prefix>/lib/fnrun/fnrun-worker     the worker (built with make if missing)
#   <prefix>/lib/fnrun/fnrun-pool       starts/stops/reloads the spawn-fcgi pool
#   <prefix>/lib/fnrun/proc.sh          its process helpers (scripts/lib/proc.sh)
#   <prefix>/share/fnrun/console/       the console's static files (nginx/console)
#   /etc/fnrun/fnrun.conf               settings (fnrun.conf's format and keys)
#   /etc/fnrun/env                      where things live (FNRUN_* variables)
#   /etc/fnrun/secrets/                 admin_token, invoke_key, cache_key
#                                       (0600 fnrun; generated once, kept)
#   /var/lib/fnrun/store/               function store (fnrun's)
#   /var/log/fnrun/                     worker.log, invocations.log
#   /run/fnrun/                         socket, pid file, metrics (systemd's
#                                       RuntimeDirectory=fnrun)
#   /etc/systemd/system/fnrun.service   from scripts/systemd/fnrun.service.in
#   /etc/nginx/sites-available/fnrun    from nginx/fnrun-server.conf.tmpl,
#                                       linked from sites-enabled/
#   /etc/logrotate.d/fnrun
#
# Installing again upgrades: the binary is replaced and the pool reloaded
# (new workers, no failed request); fnrun.conf, env and the secrets are kept
# (--workers/--port/--listen update their keys in fnrun.conf).
# --destdir DIR writes everything under DIR (contents still name the final
# paths) and creates no user, changes no owner, runs neither systemctl nor
# nginx: for packaging and for tests/integration/test_install.py.
# --no-start lays everything out and checks nginx's configuration, but starts
# and reloads nothing. Secrets are never printed, only where they are.
#
# Exit status: 0 installed; 1 failure; 2 usage.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source-path=SCRIPTDIR source=secrets.sh disable=SC1091
source "$ROOT/scripts/secrets.sh"
# shellcheck source-path=SCRIPTDIR source=template.sh disable=SC1091
source "$ROOT/scripts/template.sh"
PROG=install.sh

say() { printf 'fnrun install: %s\n' "$*"; }
die() {
	printf 'fnrun install: %s\n' "$*" >&2
	exit 1
}
usage() {
	cat >&2 <<'EOF'
usage: scripts/install.sh [--prefix DIR] [--destdir DIR] [--workers N]
                          [--port P] [--listen ADDR] [--bin FILE] [--no-start]
                          [--role single|pool|front] [--fcgi-listen IP:PORT]
                          [--fcgi-allow IP,...] [--upstreams HOST:PORT,...]
                          [--memcached-servers HOST:PORT,...]
EOF
	exit 2
}

# --- options -------------------------------------------------------------------

PREFIX=/usr/local
DESTDIR=
WORKERS=
PORT=
LISTEN=
BIN=
NO_START=0
# Several hosts: key -> value given on the command line.
declare -A HOSTS_KEYS=()

while (($#)); do
	opt=$1
	val=
	case $opt in
	--*=*)
		val=${opt#*=}
		opt=${opt%%=*}
		;;
	--prefix | --destdir | --workers | --port | --listen | --bin | --role | \
		--fcgi-listen | --fcgi-allow | --upstreams | --memcached-servers)
		(($# >= 2)) || usage
		val=$2
		shift
		;;
	esac
	case $opt in
	--prefix) PREFIX=$val ;;
	--destdir) DESTDIR=$val ;;
	--workers) WORKERS=$val ;;
	--port) PORT=$val ;;
	--listen) LISTEN=$val ;;
	--bin) BIN=$val ;;
	--no-start) NO_START=1 ;;
	--role | --fcgi-listen | --fcgi-allow | --upstreams | --memcached-servers)
		# Checked by scripts/config.sh when the settings are loaded.
		re='^[][A-Za-z0-9.:,-]*$'
		[[ $val =~ $re ]] || die "$opt '$val': unexpected characters"
		opt=${opt#--}
		HOSTS_KEYS[${opt//-/_}]=$val
		;;
	-h | --help) usage ;;
	*)
		printf '%s: unknown option %s\n' "$PROG" "$opt" >&2
		usage
		;;
	esac
	shift
done

# Paths end up in nginx and systemd files and in sed replacements.
safe_path() {
	[[ $2 == /* && $2 =~ ^[A-Za-z0-9._/@+,:=~-]+$ ]] ||
		die "$1 '$2': an absolute path of letters, digits and ._/@+,:=~- only"
}
safe_path --prefix "$PREFIX"
while [[ $PREFIX == */ && $PREFIX != / ]]; do PREFIX=${PREFIX%/}; done
# check_int NAME VALUE MIN MAX: VALUE is empty (not given) or a whole
# number in MIN..MAX, written without leading zeros.
check_int() {
	[[ -z $2 ]] && return 0
	if ! [[ $2 =~ ^[1-9][0-9]{0,5}$ ]] || (($2 < $3 || $2 > $4)); then
		die "$1 must be $3..$4, not '$2'"
	fi
}
check_int --workers "$WORKERS" 1 1024
check_int --port "$PORT" 1 65535
if [[ -n $LISTEN ]] && ! [[ $LISTEN =~ ^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])$ ]]; then
	die "--listen '$LISTEN' is not an IPv4 address, host name or [IPv6]"
fi

# Options are valid: only now is anything created.
if [[ -n $DESTDIR ]]; then
	mkdir -p "$DESTDIR"
	DESTDIR=$(cd "$DESTDIR" && pwd -P)
	[[ $DESTDIR != / ]] || DESTDIR=
fi

# The layout. Everything but LIBDIR is fixed: it is the Debian layout.
LIBDIR=$PREFIX/lib/fnrun
CONSOLE_DIR=$PREFIX/share/fnrun/console
CODEMIRROR=/usr/share/javascript/codemirror/lib/codemirror.js
ETC=/etc/fnrun
CONF=$ETC/fnrun.conf
ENV_FILE=$ETC/env
SECRETS=$ETC/secrets
VARLIB=/var/lib/fnrun
STORE=$VARLIB/store
LOGDIR=/var/log/fnrun
RUNDIR=/run/fnrun
UNIT=/etc/systemd/system/fnrun.service
SITE=/etc/nginx/sites-available/fnrun
SITE_LINK=/etc/nginx/sites-enabled/fnrun
LOGROTATE=/etc/logrotate.d/fnrun
NGINX_LOGDIR=/var/log/nginx
ACCESS_LOG=$NGINX_LOGDIR/fnrun.access.log
ERROR_LOG=$NGINX_LOGDIR/fnrun.error.log
USER_NAME=fnrun
D=$DESTDIR

is_real() { [[ -z $DESTDIR ]]; }

# --- steps ---------------------------------------------------------------------

check_host() {
	is_real || return 0
	[[ $(id -u) -eq 0 ]] || die "must run as root (or use --destdir DIR)"
	local tool missing=0
	for tool in nginx spawn-fcgi memcached; do
		command -v "$tool" >/dev/null 2>&1 || missing=1
	done
	# The console's editor (libjs-codemirror), which nginx serves.
	[[ -r $CODEMIRROR ]] || missing=1
	if ((missing)); then
		say "installing missing Debian packages"
		"$ROOT/scripts/install-deps.sh"
	fi
	command -v adduser >/dev/null 2>&1 || die "adduser is missing (apt-get install adduser)"
}

worker_binary() {
	if [[ -z $BIN ]]; then
		BIN=$ROOT/build/fnrun-worker
		if [[ ! -x $BIN ]]; then
			say "building $BIN"
			make -C "$ROOT" >&2 || die "make failed"
		fi
	fi
	[[ -x $BIN ]] || die "no worker binary at $BIN"
}

make_user() {
	is_real || return 0
	if ! getent passwd "$USER_NAME" >/dev/null; then
		adduser --system --group --no-create-home --home "$VARLIB" \
			--shell /usr/sbin/nologin --quiet "$USER_NAME"
		say "created system user $USER_NAME"
	fi
}

# own OWNER PATH...: chown, on a real install only.
own() {
	is_real || return 0
	chown "$@"
}

# put_file MODE SRC DST: installs SRC as DST by rename, so a running worker
# binary or a file being read is never rewritten in place.
put_file() {
	local mode=$1 src=$2 dst=$3 tmp
	tmp=$(mktemp "$dst.XXXXXX")
	cat "$src" >"$tmp"
	chmod "$mode" "$tmp"
	mv -f "$tmp" "$dst"
}

install_files() {
	install -d -m 0755 "$D$LIBDIR"
	put_file 0755 "$BIN" "$D$LIBDIR/fnrun-worker"
	put_file 0644 "$ROOT/scripts/lib/proc.sh" "$D$LIBDIR/proc.sh"
	put_file 0755 "$ROOT/scripts/systemd/fnrun-pool" "$D$LIBDIR/fnrun-pool"
	install_console
}

# install_console: the console's files (nginx/console) as CONSOLE_DIR, the
# whole tree replaced by one rename, so nginx never serves a mix of two
# versions and files dropped from the repository disappear.
install_console() {
	local dst=$D$CONSOLE_DIR tmp old
	install -d -m 0755 "${dst%/*}"
	tmp=$(mktemp -d "$dst.new.XXXXXX")
	cp -R "$ROOT/nginx/console/." "$tmp/"
	find "$tmp" -type d -exec chmod 0755 {} + -o -type f -exec chmod 0644 {} +
	if [[ -e $dst ]]; then
		old=$(mktemp -d "$dst.old.XXXXXX")
		mv -f "$dst" "$old/console"
		mv -f "$tmp" "$dst"
		rm -rf "$old"
	else
		mv -f "$tmp" "$dst"
	fi
}

# set_key FILE KEY VALUE: sets "KEY = VALUE" in a fnrun.conf-format file.
set_key() {
	local file=$1 key=$2 value=$3
	if grep -qE "^[[:space:]]*${key}[[:space:]]*=" "$file"; then
		sed -i -E "s|^[[:space:]]*${key}[[:space:]]*=.*|$key = $value|" "$file"
	else
		printf '%s = %s\n' "$key" "$value" >>"$file"
	fi
}

# write_conf: /etc/fnrun/fnrun.conf from the repository's fnrun.conf (same
# keys, comments and defaults) with the system install's values; an
# existing one is kept, only the keys given on the command line change.
write_conf() {
	local -A sys=(
		[state_dir]=$VARLIB
		[store_dir]=$STORE
		[listen]=${LISTEN:-127.0.0.1}
		[port]=${PORT:-8080}
		[workers]=${WORKERS:-4}
		[memcached_port]=11211
		[worker_bin]=$LIBDIR/fnrun-worker
	)
	install -d -m 0755 "$D$ETC"
	local key
	if [[ -e $D$CONF ]]; then
		for key in "${!HOSTS_KEYS[@]}"; do set_key "$D$CONF" "$key" "${HOSTS_KEYS[$key]}"; done
		[[ -z $LISTEN ]] || set_key "$D$CONF" listen "$LISTEN"
		[[ -z $PORT ]] || set_key "$D$CONF" port "$PORT"
		[[ -z $WORKERS ]] || set_key "$D$CONF" workers "$WORKERS"
		set_key "$D$CONF" worker_bin "$LIBDIR/fnrun-worker"
		say "kept $CONF"
		return 0
	fi
	local tmp line header=1
	tmp=$(mktemp "$D$CONF.XXXXXX")
	{
		cat <<EOF
# $CONF - settings of the system install of fnrun, written once by
# scripts/install.sh from the repository's fnrun.conf and kept on reinstall.
# Format: "key = value"; whole-line "#" comments; blank lines. Read by the
# workers (FNRUN_CONFIG in $ENV_FILE) and by $LIBDIR/fnrun-pool (workers,
# worker_bin, timeout_max_ms, hard_grace_ms). Where the secrets, the socket,
# the logs and memcached are is in $ENV_FILE: in this layout state_dir only
# keeps scripts/config.sh content, and memcached_port mirrors FNRUN_MEMCACHED.
# After a change: systemctl reload fnrun (workers, limits, a new binary);
# listen, port, body_max_bytes, response_max_bytes, timeout_max_ms and the
# client limits (client_*_timeout_s, send_timeout_s, keepalive_timeout_s,
# ip_max_requests) are also in the nginx site: re-run scripts/install.sh to
# render it again. nginx_worker_connections is not: set worker_connections
# and worker_rlimit_nofile in /etc/nginx/nginx.conf.

EOF
		while IFS= read -r line || [[ -n $line ]]; do
			# The repository file's own header ends at its first blank line.
			if ((header)); then
				[[ -n $line ]] || header=0
				continue
			fi
			if [[ $line =~ ^[[:space:]]*([a-z_]+)[[:space:]]*= ]] &&
				[[ -v "sys[${BASH_REMATCH[1]}]" ]]; then
				line="${BASH_REMATCH[1]} = ${sys[${BASH_REMATCH[1]}]}"
			fi
			printf '%s\n' "$line"
		done <"$ROOT/fnrun.conf"
	} >"$tmp"
	for key in "${!HOSTS_KEYS[@]}"; do set_key "$tmp" "$key" "${HOSTS_KEYS[$key]}"; done
	chmod 0644 "$tmp"
	mv -f "$tmp" "$D$CONF"
	say "wrote $CONF"
}

write_env() {
	if [[ -e $D$ENV_FILE ]]; then
		say "kept $ENV_FILE"
		return 0
	fi
	local tmp
	tmp=$(mktemp "$D$ENV_FILE.XXXXXX")
	cat >"$tmp" <<EOF
# $ENV_FILE - where the pieces of the system install of fnrun live, as the
# FNRUN_* variables the worker and fnrun-pool read. fnrun.service loads it
# (EnvironmentFile=); spawn-fcgi passes it on to every worker. Written once
# by scripts/install.sh and kept. Settings proper are in $CONF.
# Format: NAME=value, no quotes, no spaces. No secret is in this file.
FNRUN_CONFIG=$CONF
FNRUN_MEMCACHED=127.0.0.1:11211
FNRUN_ADMIN_TOKEN_FILE=$SECRETS/admin_token
FNRUN_INVOKE_KEY_FILE=$SECRETS/invoke_key
FNRUN_CACHE_KEY_FILE=$SECRETS/cache_key
FNRUN_WORKER_LOG=$LOGDIR/worker.log
FNRUN_INVOCATION_LOG=$LOGDIR/invocations.log
FNRUN_METRICS_FILE=$RUNDIR/metrics
FNRUN_CONCURRENCY_FILE=$RUNDIR/concurrency
# The pool (fnrun-pool): the socket nginx connects to (also in the nginx
# site), spawn-fcgi's pid file, the users.
FNRUN_SOCKET=$RUNDIR/fnrun.sock
FNRUN_PID_FILE=$RUNDIR/workers.pid
FNRUN_WORKDIR=$VARLIB
FNRUN_USER=$USER_NAME
FNRUN_GROUP=$USER_NAME
FNRUN_SOCKET_USER=www-data
FNRUN_SOCKET_GROUP=www-data
EOF
	chmod 0644 "$tmp"
	mv -f "$tmp" "$D$ENV_FILE"
	say "wrote $ENV_FILE"
}

# env_get NAME: NAME's value in the env file.
env_get() {
	sed -n "s|^$1=||p" "$D$ENV_FILE" | tail -n 1
}

# ensure_secret FILE: generated once and kept (secrets.sh), owned by the
# service user.
ensure_secret() {
	secret_ensure "$1" "${1#"$D"}"
	own "$USER_NAME:$USER_NAME" "$1"
}

make_dirs_and_secrets() {
	local name
	install -d -m 0700 "$D$SECRETS"
	own "$USER_NAME:$USER_NAME" "$D$SECRETS"
	for name in admin_token invoke_key cache_key; do
		ensure_secret "$D$SECRETS/$name"
	done
	install -d -m 0755 "$D$VARLIB"
	install -d -m 0750 "$D$STORE"
	own "$USER_NAME:$USER_NAME" "$D$STORE"
	install -d -m 0750 "$D$LOGDIR"
	own "$USER_NAME:adm" "$D$LOGDIR"
}

# load_settings: fnrun.conf as written, validated and completed with the
# defaults by scripts/config.sh (in a subshell: none of the caller's FNRUN_*
# variables, and none of config.sh's exports, leak into this script).
load_settings() {
	local out line
	out=$(
		for v in "${!FNRUN_@}"; do unset "$v"; done
		export FNRUN_CONFIG=$D$CONF
		# shellcheck source-path=SCRIPTDIR source=config.sh disable=SC1091
		source "$ROOT/scripts/config.sh"
		printf 'LISTEN=%s\nPORT=%s\nWORKERS=%s\nBODY_MAX=%s\nRESPONSE_MAX=%s\nTIMEOUT_MAX_MS=%s\nHARD_GRACE_MS=%s\nROLE=%s\nUPSTREAMS=%s\nFCGI_LISTEN=%s\nUPSTREAM_TIMEOUT_S=%s\n' \
			"$FNRUN_LISTEN" "$FNRUN_PORT" "$FNRUN_WORKERS" "$FNRUN_BODY_MAX_BYTES" \
			"$FNRUN_RESPONSE_MAX_BYTES" "$FNRUN_TIMEOUT_MAX_MS" "$FNRUN_HARD_GRACE_MS" \
			"$FNRUN_ROLE" "$FNRUN_UPSTREAMS" "$FNRUN_FCGI_LISTEN" "$FNRUN_UPSTREAM_TIMEOUT_S"
		edge_vars | sed 's/^/EDGE_/'
	) || die "$CONF is not valid"
	S_EDGE=()
	while IFS= read -r line; do
		if [[ $line == EDGE_* ]]; then
			S_EDGE+=("${line#EDGE_}")
		else
			printf -v "S_${line%%=*}" '%s' "${line#*=}"
		fi
	done <<<"$out"
}

install_unit() {
	# fnrun-pool drains for timeout_max_ms + hard_grace_ms + 5 s, then KILLs
	# and waits a little more: systemd must not cut that short.
	local drain timeout
	drain=$(((S_TIMEOUT_MAX_MS + S_HARD_GRACE_MS + 999) / 1000 + 5))
	timeout=$((drain + 30))
	((timeout >= 90)) || timeout=90
	install -d -m 0755 "$D${UNIT%/*}"
	render "$ROOT/scripts/systemd/fnrun.service.in" "$D$UNIT" \
		"LIBDIR=$LIBDIR" "TIMEOUT_S=$timeout"
	install -d -m 0755 "$D${LOGROTATE%/*}"
	local tmp
	tmp=$(mktemp "$D$LOGROTATE.XXXXXX")
	# The workers keep their logs open (O_APPEND): copytruncate.
	cat >"$tmp" <<EOF
# $LOGROTATE - written by fnrun's scripts/install.sh.
$LOGDIR/*.log {
	su $USER_NAME adm
	weekly
	rotate 8
	missingok
	notifempty
	compress
	delaycompress
	copytruncate
}
EOF
	chmod 0644 "$tmp"
	mv -f "$tmp" "$D$LOGROTATE"
}

# install_site: renders the shared server block for the system nginx; on a
# real install checks the whole nginx configuration with nginx -t and, if
# nginx rejects it, puts the previous site back.
install_site() {
	local socket buffers upstream backup='' pools front_conf=/etc/nginx/fnrun-front.conf
	[[ $S_ROLE != pool ]] || return 0
	socket=$(env_get FNRUN_SOCKET)
	[[ -n $socket ]] || die "$ENV_FILE has no FNRUN_SOCKET"
	buffers=$(((S_RESPONSE_MAX + 131071) / 131072 + 1))
	((buffers >= 2)) || buffers=2
	upstream=$S_UPSTREAM_TIMEOUT_S
	install -d -m 0755 "$D${SITE%/*}" "$D${SITE_LINK%/*}"
	if is_real && [[ -e $SITE ]]; then
		backup=$(mktemp "$SITE.XXXXXX")
		cat "$SITE" >"$backup"
	fi
	mapfile -t pools < <(upstream_vars "$S_ROLE" "$socket" "$S_UPSTREAMS" "$front_conf")
	local vars=("LISTEN=$S_LISTEN" "PORT=$S_PORT" "SOCKET=$socket"
		"ACCESS_LOG=$ACCESS_LOG" "ERROR_LOG=$ERROR_LOG"
		"BODY_MAX_BYTES=$S_BODY_MAX" "UPSTREAM_TIMEOUT_S=$upstream"
		"FASTCGI_BUFFERS=$buffers" "FRONT_DIR=/etc/nginx/fnrun-front"
		"CONSOLE_DIR=$CONSOLE_DIR"
		"${S_EDGE[@]}" "${pools[@]}")
	if [[ $S_ROLE == front ]]; then
		# The front's pages and per-pool locations (nginx/fnrun-front.conf.tmpl).
		front_files "$D/etc/nginx/fnrun-front" "$S_UPSTREAMS"
		render "$ROOT/nginx/fnrun-front.conf.tmpl" "$D$front_conf" "${vars[@]}"
	fi
	render "$ROOT/nginx/fnrun-server.conf.tmpl" "$D$SITE" "${vars[@]}"
	ln -sfn "$SITE" "$D$SITE_LINK"
	# Made before nginx opens them (it would create them 0644); Debian's
	# logrotate for /var/log/nginx creates their successors 0640 www-data:adm.
	mkdir -p "$D$NGINX_LOGDIR"
	private_log "$D$ACCESS_LOG" "$D$ERROR_LOG"
	own www-data:adm "$D$ACCESS_LOG" "$D$ERROR_LOG"
	is_real || return 0
	local out
	if ! out=$(nginx -t 2>&1); then
		if [[ -n $backup ]]; then
			mv -f "$backup" "$SITE"
		else
			rm -f "$SITE_LINK" "$SITE"
		fi
		printf '%s\n' "$out" >&2
		die "nginx -t rejected the configuration with the fnrun site; previous site restored"
	fi
	[[ -z $backup ]] || rm -f "$backup"
	say "nginx -t: configuration ok"
}

# start: (re)start the pool and reload nginx. With systemd: the unit (a
# running pool is reloaded: new workers, no failed request). Without (a
# container): fnrun-pool directly, and nginx by its own signals.
start() {
	is_real && ((!NO_START)) || return 0
	if [[ $S_ROLE == front ]]; then
		# A front runs no worker: only nginx, over the pools.
		if [[ -d /run/systemd/system ]]; then
			systemctl reload-or-restart nginx.service
		else
			nginx -s reload 2>/dev/null || nginx
		fi
		say "nginx (re)loaded: front over $S_UPSTREAMS"
		return 0
	fi
	if [[ -d /run/systemd/system ]]; then
		systemctl daemon-reload
		systemctl enable --quiet fnrun.service
		systemctl reload-or-restart fnrun.service
		[[ $S_ROLE == pool ]] || systemctl reload-or-restart nginx.service
		say "fnrun.service is $(systemctl is-active fnrun.service || true); nginx reloaded"
		return 0
	fi
	say "systemd is not running: starting the pool with $LIBDIR/fnrun-pool"
	if "$LIBDIR/fnrun-pool" status >/dev/null 2>&1; then
		"$LIBDIR/fnrun-pool" reload
	else
		"$LIBDIR/fnrun-pool" start
	fi
	[[ $S_ROLE != pool ]] || return 0
	local pid=''
	if [[ -r /run/nginx.pid ]]; then read -r pid </run/nginx.pid || true; fi
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		nginx -s reload
		say "nginx reloaded"
	else
		nginx
		say "nginx started"
	fi
}

summary() {
	local where=${D:+ (under $D)}
	say "installed$where:"
	say "  worker     $LIBDIR/fnrun-worker, pool control $LIBDIR/fnrun-pool"
	say "  console    http://$S_LISTEN:$S_PORT/console/ (files in $CONSOLE_DIR)"
	say "  settings   $CONF, layout $ENV_FILE"
	say "  secrets    $SECRETS/admin_token, $SECRETS/invoke_key (root or $USER_NAME may read them)"
	say "  store      $STORE; logs $LOGDIR/, /var/log/nginx/fnrun.*.log"
	say "  unit       $UNIT; nginx site $SITE on $S_LISTEN:$S_PORT, $S_WORKERS workers"
	if is_real && ((NO_START)); then
		say "start it:   systemctl enable --now fnrun && systemctl reload nginx"
	fi
}

check_host
worker_binary
make_user
install_files
write_conf
write_env
make_dirs_and_secrets
load_settings
install_unit
install_site
start
summary
