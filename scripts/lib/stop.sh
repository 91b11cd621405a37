# shellcheck shell=bash
#
# scripts/lib/stop.sh - stopping a process and everything below it, by PID:
# signal, wait, then KILL what is left. Sourced by scripts/stack.sh (the
# local stack) and scripts/bench.sh (the benchmark's peers), after
# scripts/lib/proc.sh, whose helpers it uses; the caller provides warn.
# It signals only the pids it is given (which the caller has checked with
# pid_alive or alive_pids) and their descendants, collected before the
# signal; a survivor is KILLed only while it still runs the program it ran
# then.

# stop_pids SIGNAL SECONDS COMM PID...: sends SIGNAL to the pids and waits up
# to SECONDS for them and their descendants (nginx workers, the app's serving
# children: collected before the signal, while they still hang below their
# parent) to be gone; then KILLs whatever of that family survives.
stop_pids() {
	local sig=$1 secs=$2 comm=$3 pid c
	shift 3
	local family=() comms=()
	for pid in "$@"; do
		family+=("$pid")
		comms+=("$comm")
		while read -r c; do
			[[ -n $c ]] || continue
			family+=("$c")
			comms+=("$(comm_of "$c" || echo '?')")
		done < <(descendants "$pid")
	done
	kill "-$sig" "$@" 2>/dev/null || true
	wait_family "$secs" && return 0
	warn "still alive after ${secs}s, sending KILL: ${FAMILY_LEFT[*]}"
	kill -KILL "${FAMILY_LEFT[@]}" 2>/dev/null || true
	wait_family 5 && return 0
	warn "could not stop: ${FAMILY_LEFT[*]}"
	return 1
}

# wait_family SECONDS: waits until no pid of stop_pids' family/comms is alive;
# returns 1 with the survivors in FAMILY_LEFT when time runs out.
wait_family() {
	local now=${EPOCHREALTIME//[.,]/} i deadline
	deadline=$((now + $1 * 1000000))
	while :; do
		FAMILY_LEFT=()
		for i in "${!family[@]}"; do
			if pid_alive "${family[i]}" "${comms[i]}"; then
				FAMILY_LEFT+=("${family[i]}")
			fi
		done
		((${#FAMILY_LEFT[@]})) || return 0
		now=${EPOCHREALTIME//[.,]/}
		((now < deadline)) || return 1
		sleep 0.1
	done
}
