# shellcheck shell=bash
#
# scripts/secrets.sh - sourced by stack.sh and install.sh: generation of the
# three secrets (SPEC §3: one line, 64 hex digits, mode 0600, made once and
# kept). The caller provides say and die.

# 32 random bytes as 64 hex digits and a newline.
secret_random_hex32() {
	if command -v openssl >/dev/null 2>&1; then
		openssl rand -hex 32
	else
		od -An -tx1 -N32 /dev/urandom | tr -d ' \n'
		printf '\n'
	fi
}

# secret_ensure FILE [LABEL]: creates FILE on first use, through a temporary
# file renamed into place; an existing non-empty secret is kept. Its mode is
# 0600 either way. LABEL names it in messages (default: FILE).
secret_ensure() {
	local file=$1 label=${2:-$1} tmp
	if [[ ! -s $file ]]; then
		tmp=$(umask 077 && mktemp "$file.XXXXXX")
		(umask 077 && secret_random_hex32 >"$tmp")
		[[ $(wc -c <"$tmp") -eq 65 ]] || {
			rm -f "$tmp"
			die "could not generate $label"
		}
		mv -f "$tmp" "$file"
		say "generated $label"
	fi
	chmod 0600 "$file"
}
