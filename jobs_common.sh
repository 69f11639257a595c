# shellcheck shell=bash
# jobs_common.sh: what run_local.sh and the ring scripts (through
# ring_common.sh) share about the processes they start. Not a script by
# itself: a script sources it from the repository's top directory, its
# current directory, with
#
#	. ./jobs_common.sh || exit 2
#
# It provides:
#	running PID  whether PID is one of this shell's background jobs that
#	             has not exited yet.

# Only a PID that running accepts is ever signalled: once a process has
# exited and been reaped, its PID may be reused by an unrelated process.
running() {
	local pid
	[[ -n ${1-} ]] || return 1
	for pid in $(jobs -rp); do
		[[ $pid == "$1" ]] && return 0
	done
	return 1
}
