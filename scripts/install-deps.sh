#!/usr/bin/env bash
#
# scripts/install-deps.sh [--test] - installs the Debian packages fnrun needs
# to build, run and test (make deps); --test adds what only the console's
# browser tests need (make test): Debian's chromium, and Node.js with npm
# when no node is on the PATH (the tests need Node.js 20 or later; Debian 12's
# own is 18). Asks dpkg first, so when everything is present it finishes at
# once and touches no network; apt-get update runs only when something is
# missing. Uses sudo when not root; without either it prints the command to
# run and fails. It installs packages and nothing else: the tests' npm
# package (playwright-core) is installed by the tests from their lock file,
# and no browser is ever downloaded.

set -euo pipefail

# nginx: bookworm's nginx-light is a transitional package for nginx; any
# flavour with the binary will do, so each alternative is "a|b|c".
PACKAGES=(
	libfcgi-dev duktape-dev libmemcached-dev check
	"nginx-light|nginx|nginx-core|nginx-full|nginx-extras"
	spawn-fcgi memcached libssl-dev pkg-config curl python3 wrk
	# Several hosts (SPEC §14): ip netns for the three-host test, and
	# libfcgi's own FastCGI client (cgi-fcgi) to ask a pool directly.
	iproute2 libfcgi-bin
	# fetch(): libcurl (OpenSSL flavour) and the CA bundle it verifies against.
	libcurl4-openssl-dev ca-certificates
	# make bench: nginx's JavaScript module (njs), one of the peers.
	libnginx-mod-http-js
	# The compiler that lowers ES2022 and TypeScript at upload
	# (typescript.js), and xxd, which builds JavaScript into the binary.
	node-typescript xxd
	# make fuzz: clang and its libFuzzer runtime (libclang_rt.fuzzer).
	clang "libclang-rt-dev|libclang-rt-14-dev"
	# The console's editor, served by nginx from /usr/share/javascript.
	libjs-codemirror
)
if [[ ${1:-} == --test ]]; then
	PACKAGES+=(chromium)
	# A Node.js from elsewhere (this project's machines have 20 with its
	# own npm) is kept: Debian's npm would conflict with it.
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		PACKAGES+=(nodejs npm)
	fi
elif [[ -n ${1:-} ]]; then
	echo "usage: scripts/install-deps.sh [--test]" >&2
	exit 2
fi

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
