# shellcheck shell=bash
#
# scripts/lib/proc.sh - the process helpers of scripts/stack.sh (the local
# stack) and scripts/systemd/fnrun-pool (the system install's pool): is a
# recorded pid still the process it was, what a pid file names, and which
# processes hang below a pid. Sourced, never run. It reads /proc directly, so
# procps need not be installed; it never signals, creates or removes
# anything, and uses none of its callers' variables.
#
# scripts/install.sh installs it beside fnrun-pool (<prefix>/lib/fnrun/).

# pid_alive PID COMM: PID is a live (not zombie) process named COMM. In a
# container whose init does not reap orphans, a dead daemon lingers as a
# zombie, which kill -0 still reports; and a stale pid file may name a pid
# that was reused by something else, which the name check rules out.
#
# Of the two copies this replaces, stack.sh's is kept: it takes the name as
# an argument, so it serves nginx and memcached as well as the workers, and
# checks each member of a family by the name recorded for it (fnrun-pool's
# hard-wired the worker's name). Its fallback on /proc/PID/exe for the
# worker is dropped: the kernel names a process after the last component of
# the path it was executed by (a symlink's name included), which is the
# worker_bin name both scripts compare with; the worker never renames
# itself; a rebuilt binary reads "... (deleted)" there; and fnrun-pool,
# which does not own the workers, cannot read the link at all. The name
# check is all that ever decided.
pid_alive() {
	local pid=$1 comm=$2 stat name
	[[ $pid =~ ^[1-9][0-9]*$ ]] || return 1
	{ read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
	name=${stat#*(}
	name=${name%)*}
	stat=${stat##*) }
	[[ ${stat:0:1} != Z && $name == "$comm" ]]
}

# comm_of PID: prints the process name of PID; fails when it is gone.
comm_of() {
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat#*(}
	printf '%s\n' "${stat%)*}"
}

# read_pids FILE: prints the pids in FILE, one a line; nothing when FILE is
# missing. spawn-fcgi -F N writes all N, newline-separated, without a
# newline after the last.
read_pids() {
	local file=$1 pid
	[[ -r $file ]] || return 0
	while IFS= read -r pid || [[ -n $pid ]]; do
		pid=${pid//[[:space:]]/}
		[[ $pid =~ ^[1-9][0-9]*$ ]] && printf '%s\n' "$pid"
	done <"$file"
}

# alive_pids FILE COMM: prints those pids of FILE that are alive and named
# COMM.
alive_pids() {
	local pid
	for pid in $(read_pids "$1"); do
		if pid_alive "$pid" "$2"; then printf '%s\n' "$pid"; fi
	done
}

# descendants PID: prints every live descendant of PID, so a supervisor
# killed with KILL does not leave its serving child behind.
descendants() {
	local stat pid ppid
	local -A children=()
	for stat in /proc/[0-9]*/stat; do
		{ read -r stat <"$stat"; } 2>/dev/null || continue
		pid=${stat%% *}
		stat=${stat##*) }
		ppid=${stat#* }
		ppid=${ppid%% *}
		children[$ppid]+="$pid "
	done
	local queue=("$1") next
	while ((${#queue[@]})); do
		next=${queue[0]}
		queue=("${queue[@]:1}")
		for pid in ${children[$next]:-}; do
			printf '%s\n' "$pid"
			queue+=("$pid")
		done
	done
}
