#!/usr/bin/env bash
#
# scripts/uninstall.sh [--prefix DIR] [--purge] - undoes scripts/install.sh:
# stops and disables fnrun.service (or, without systemd, stops the pool with
# fnrun-pool), removes the unit, the nginx site (then checks and reloads
# nginx), <prefix>/lib/fnrun, <prefix>/share/fnrun/console and the logrotate
# file. Keeps the settings, the secrets, the function store, the logs and
# the user fnrun, unless --purge: then /etc/fnrun, /var/lib/fnrun,
# /var/log/fnrun, the site's nginx logs and the user go too.
# Removes only paths install.sh creates; stops processes only by the pids
# fnrun-pool recorded.
#
# Exit status: 0 done; 1 failure; 2 usage.

set -euo pipefail

say() { printf 'fnrun uninstall: %s\n' "$*"; }
die() {
	printf 'fnrun uninstall: %s\n' "$*" >&2
	exit 1
}

PREFIX=/usr/local
PURGE=0
while (($#)); do
	case $1 in
	--prefix)
		(($# >= 2)) || die "--prefix needs a directory"
		PREFIX=$2
		shift
		;;
	--prefix=*) PREFIX=${1#*=} ;;
	--purge) PURGE=1 ;;
	*)
		echo "usage: scripts/uninstall.sh [--prefix DIR] [--purge]" >&2
		exit 2
		;;
	esac
	shift
done
[[ $PREFIX == /* ]] || die "--prefix must be an absolute path"
while [[ $PREFIX == */ && $PREFIX != / ]]; do PREFIX=${PREFIX%/}; done
[[ $(id -u) -eq 0 ]] || die "must run as root"

LIBDIR=$PREFIX/lib/fnrun
UNIT=/etc/systemd/system/fnrun.service
SITE=/etc/nginx/sites-available/fnrun
SITE_LINK=/etc/nginx/sites-enabled/fnrun

if [[ -d /run/systemd/system ]]; then
	if [[ -e $UNIT ]]; then
		systemctl disable --now --quiet fnrun.service || true
		rm -f "$UNIT"
		systemctl daemon-reload
		say "stopped and removed fnrun.service"
	fi
elif [[ -x $LIBDIR/fnrun-pool && -r /etc/fnrun/env ]]; then
	"$LIBDIR/fnrun-pool" stop
	rm -f "$UNIT"
else
	rm -f "$UNIT"
fi

if [[ -e $SITE_LINK || -L $SITE_LINK || -e $SITE ]]; then
	rm -f "$SITE_LINK" "$SITE"
	say "removed the nginx site"
	if command -v nginx >/dev/null 2>&1 && nginx -t -q 2>/dev/null; then
		if [[ -d /run/systemd/system ]]; then
			if systemctl is-active --quiet nginx.service; then systemctl reload nginx.service; fi
		else
			pid=''
			if [[ -r /run/nginx.pid ]]; then read -r pid </run/nginx.pid || true; fi
			if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then nginx -s reload; fi
		fi
	fi
fi

rm -f "$LIBDIR/fnrun-worker" "$LIBDIR/fnrun-pool" "$LIBDIR/proc.sh" /etc/logrotate.d/fnrun
[[ ! -d $LIBDIR ]] || rmdir "$LIBDIR" 2>/dev/null || say "kept $LIBDIR (not empty)"
rm -rf "$PREFIX/share/fnrun/console"
[[ ! -d $PREFIX/share/fnrun ]] || rmdir "$PREFIX/share/fnrun" 2>/dev/null || say "kept $PREFIX/share/fnrun (not empty)"

if ((PURGE)); then
	rm -rf /etc/fnrun /var/lib/fnrun /var/log/fnrun /run/fnrun
	rm -f /var/log/nginx/fnrun.access.log* /var/log/nginx/fnrun.error.log*
	if getent passwd fnrun >/dev/null; then
		deluser --system --quiet fnrun
	fi
	say "purged settings, secrets, store, logs and the user fnrun"
else
	say "kept /etc/fnrun (settings, secrets), /var/lib/fnrun/store, /var/log/fnrun and the user fnrun (--purge removes them)"
fi
