#!/usr/bin/env bash
#
# scripts/install-deps.sh - installs the Debian packages fnrun needs to build,
# run and test (make deps). Asks dpkg first, so when everything is present it
# finishes at once and touches no network; apt-get update runs only when
# something is missing. Uses sudo when not root; without either it prints the
# command to run and fails. It installs packages and nothing else.

set -euo pipefail

# nginx: bookworm's nginx-light is a transitional package for nginx; any
# flavour with the binary will do, so each alternative is "a|b|c".
PACKAGES=(
	libfcgi-dev duktape-dev libmemcached-dev check
	"nginx-light|nginx|nginx-core|nginx-full|nginx-extras"
	spawn-fcgi memcached libssl-dev pkg-config curl python3 wrk
	# The compiler that lowers ES2022 and TypeScript at upload
	# (typescript.js), and xxd, which builds JavaScript into the binary.
	node-typescript xxd
	# make fuzz: clang and its libFuzzer runtime (libclang_rt.fuzzer).
	clang "libclang-rt-dev|libclang-rt-14-dev"
)

installed() {
	[[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

missing=()
for want in "${PACKAGES[@]}"; do
	IFS='|' read -r -a alternatives <<<"$want"
	found=0
	for pkg in "${alternatives[@]}"; do
		if installed "$pkg"; then
			found=1
			break
		fi
	done
	((found)) || missing+=("$want")
done

if ((${#missing[@]} == 0)); then
	echo "install-deps: all packages present"
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if [[ $(id -u) -eq 0 ]]; then
	as_root=()
elif command -v sudo >/dev/null 2>&1; then
	as_root=(sudo DEBIAN_FRONTEND=noninteractive)
else
	echo "install-deps: missing ${missing[*]//|*/}; as root, run:" >&2
	echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]//|*/}" >&2
	exit 1
fi

"${as_root[@]}" apt-get update -q
# Of alternatives, the first this release has.
install=()
for want in "${missing[@]}"; do
	IFS='|' read -r -a alternatives <<<"$want"
	pick=${alternatives[0]}
	for pkg in "${alternatives[@]}"; do
		policy=$(apt-cache policy "$pkg" 2>/dev/null || true)
		if [[ $policy =~ Candidate:\ +[^\ \(] ]]; then
			pick=$pkg
			break
		fi
	done
	install+=("$pick")
done
echo "install-deps: installing ${install[*]}"
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${install[@]}"
