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
