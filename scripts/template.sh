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
