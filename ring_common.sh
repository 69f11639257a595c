# shellcheck shell=bash
# ring_common.sh: what test_1_ring.sh and test_2_ring.sh share. Not a script
# by itself: an including script sources it, from the repository's top
# directory (its current directory), with
#
#	cd "$(dirname "$0")" || exit 2
#	. ./ring_common.sh || exit 2
#
# and must first have run `set -u` and set
#	TEST      the test's name, the prefix of its output lines and of its
#	          output directory;
#	CHECK_AT  seconds after the first client message at which the nodes'
#	          stdout is frozen and checked.
#
# Sourcing it sets the ring's constants (IP, GOSSIP_BASE, UI_BASE, NAMES, N,
# READY_TIMEOUT, STOP_TIMEOUT, addr_any), makes the nodes' output directory
# $workdir, and installs the traps that end, by PID, every node still running
# when the script exits. It provides:
#	build_binaries      build the gossiper and the client into $workdir;
#	start_ring [FLAG]...  start the ten nodes A..J in a ring, with FLAGs
#	                    (e.g. -simple) after the usual ones, and wait until all
#	                    listen;
#	send NODE TEXT      the client posts TEXT to NODE's UI port;
#	now_us, sleep_until_us US  the time in microseconds, and sleep until one;
#	freeze_outputs      snapshot every node's stdout, check every node is
#	                    alive, then stop them all (checking they exit on
#	                    SIGTERM);
#	pass, fail MSG, expect, show, expect_client_message, expect_only_kinds,
#	expect_only_neighbours
#	                    checks on the snapshots, and evidence for failures;
#	addr, addr_re, re_escape, index_of, out_file, err_file, snap_file, indent
#	                    small helpers;
#	summary             print the per-node line counts ($line_counts, which
#	                    the checks fill in as "X=lines ") and the summary line;
#	                    its status, 0 if no check failed and 1 otherwise, is
#	                    meant to be the script's exit status.
# abort MSG ends the test with status 2 (could not run).

if [[ -z ${TEST:-} || -z ${CHECK_AT:-} ]]; then
	echo "ring_common.sh: the including script must set TEST and CHECK_AT first" >&2
	exit 2
fi

# The checks read the nodes' stdout byte for byte: a node prints a message's
# text as its origin sent it (CR and LF escaped), which need not be UTF-8 nor
# free of NULs (a stray sender on the ring's ports can inject anything). So
# every grep of node output uses -a (else grep, seeing such bytes, prints
# none of the lines and a check can pass without reading them), and in the
# C locale "." in an ERE matches any byte.
export LC_ALL=C

readonly IP=127.0.0.1
readonly GOSSIP_BASE=5000
readonly UI_BASE=12345
readonly NAMES=(A B C D E F G H I J)
readonly N=${#NAMES[@]}
readonly READY_TIMEOUT=10 # seconds for all nodes to listen on both ports
readonly STOP_TIMEOUT=3   # seconds for a node to exit after SIGTERM
# Any IPv4 address and port, as an ERE.
readonly addr_any='[0-9]+(\.[0-9]+){3}:[0-9]+'

pids=()
started=0
status=0
line_counts=""
checks=0
failed=0
start_time=$EPOCHREALTIME
workdir=$(mktemp -d "${TMPDIR:-/tmp}/$TEST.XXXXXX") || exit 2

now_us() { echo "${EPOCHREALTIME/./}"; }

# running tells whether PID is one of this script's background jobs that
# has not exited yet. Only such a PID is ever signalled: once a node has
# exited its PID may be reused by an unrelated process.
running() {
	local pid
	[[ -n $1 ]] || return 1
	for pid in $(jobs -rp); do
		[[ $pid == "$1" ]] && return 0
	done
	return 1
}

# reap collects the exit status of node I, which has exited, into $status
# and forgets its PID.
reap() {
	wait "${pids[$1]}"
	status=$?
	pids[$1]=""
}

# stop_nodes sends SIGTERM to every node still running, waits for them to
# exit, and SIGKILLs (by PID) any that did not. With "check" it records a
# failed check for each node that ignored SIGTERM.
stop_nodes() {
	local mode=${1:-} i pid deadline
	for pid in "${pids[@]}"; do
		running "$pid" && kill "$pid"
	done
	deadline=$(($(now_us) + STOP_TIMEOUT * 1000000))
	for i in "${!pids[@]}"; do
		pid=${pids[$i]}
		[[ -z $pid ]] && continue
		while running "$pid" && (($(now_us) < deadline)); do
			sleep 0.05
		done
		if running "$pid"; then
			[[ $mode == check ]] && fail "node ${NAMES[$i]}: still running ${STOP_TIMEOUT}s after SIGTERM (killed with SIGKILL)"
			kill -KILL "$pid"
		elif [[ $mode == check ]]; then
			pass
		fi
		wait "$pid" 2>/dev/null
	done
	pids=()
}

cleanup() {
	stop_nodes
	if ((started && failed > 0)) || [[ ${KEEP_OUTPUT:-0} == 1 ]]; then
		echo "$TEST: node outputs kept in $workdir"
	else
		rm -rf "$workdir"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

pass() { checks=$((checks + 1)); }

fail() {
	checks=$((checks + 1))
	failed=$((failed + 1))
	echo "FAIL: $*"
}

# abort ends the test when it cannot run at all.
abort() {
	echo "$TEST: $*" >&2
	failed=$((failed + 1))
	exit 2
}

addr() { echo "$IP:$((GOSSIP_BASE + $1))"; }
# addr_re is addr as an ERE.
addr_re() { echo "127\\.0\\.0\\.1:$((GOSSIP_BASE + $1))"; }
# re_escape quotes every ERE metacharacter of its argument.
re_escape() { printf '%s' "$1" | sed 's/[][\.*^$?+(){}|/]/\\&/g'; }
index_of() {
	local i
	for i in "${!NAMES[@]}"; do
		[[ ${NAMES[$i]} == "$1" ]] && echo "$i" && return
	done
}
out_file() { echo "$workdir/${NAMES[$1]}.out"; }
err_file() { echo "$workdir/${NAMES[$1]}.err"; }
# snap_file is the node's stdout as it was at check time.
snap_file() { echo "$workdir/${NAMES[$1]}.at${CHECK_AT}s"; }

# indent copies stdin to stdout, each line indented, as evidence.
indent() { sed 's/^/        /'; }

# show prints the node's lines (at check time) matching an ERE, as evidence
# next to a failed check: each distinct line once, with how many times it
# was printed, in order of first appearance, eight at most.
show() {
	local lines
	lines=$(grep -aE -- "$2" "$(snap_file "$1")" |
		awk '!($0 in c) { o[++n] = $0 } { c[$0]++ } END { for (i = 1; i <= n && i <= 8; i++) printf "%4dx %s\n", c[o[i]], o[i] }')
	if [[ -n $lines ]]; then
		echo "      its lines like that:"
		indent <<<"$lines"
	else
		echo "      it printed no line like that"
	fi
}

# expect NODE WHAT ERE [HINT_ERE]: the node printed a line matching ERE by
# check time, or a failure "node X: no WHAT" is recorded, with the node's
# lines matching HINT_ERE as evidence.
expect() {
	local i=$1 what=$2 re=$3 hint=${4:-}
	if grep -aEq -- "$re" "$(snap_file "$i")"; then
		pass
	else
		fail "node ${NAMES[$i]}: no $what"
		[[ -n $hint ]] && show "$i" "$hint"
	fi
}

# expect_only_kinds NODE KINDS [ERE]...: every line of the node's whole
# stdout, up to its exit, is a CLIENT MESSAGE, SIMPLE MESSAGE or PEERS line or
# matches one of the EREs (the mode's own lines); KINDS names those lines in
# the failure.
expect_only_kinds() {
	local node=$1 what=$2 re bad alt
	shift 2
	re="CLIENT MESSAGE .*|SIMPLE MESSAGE origin [^ ]+ from $addr_any contents .*"
	for alt in "$@"; do
		re+="|$alt"
	done
	re="^($re|PEERS $addr_any(,$addr_any)*)$"
	bad=$(grep -aEvn -- "$re" "$(out_file "$node")" | head -n 5)
	if [[ -z $bad ]]; then
		pass
	else
		fail "node ${NAMES[$node]}: stdout has lines that are none of $what (first ones, with line numbers):"
		indent <<<"$bad"
	fi
}

# expect_client_message NODE TEXT: the node printed CLIENT MESSAGE TEXT.
expect_client_message() {
	if grep -aFqx -- "CLIENT MESSAGE $2" "$(snap_file "$1")"; then
		pass
	else
		fail "node ${NAMES[$1]}: no CLIENT MESSAGE $2"
		show "$1" '^CLIENT MESSAGE'
	fi
}

# expect_only_neighbours NODE: the node's whole stdout names no address but
# its two neighbours'.
expect_only_neighbours() {
	local i=$1 strangers
	strangers=$(grep -aoE -- "$addr_any" "$(out_file "$i")" |
		grep -vxE -- "($(addr_re $(((i + N - 1) % N)))|$(addr_re $(((i + 1) % N))))" | sort -u | head -n 5)
	if [[ -z $strangers ]]; then
		pass
	else
		fail "node ${NAMES[$i]}: stdout names addresses other than its two neighbours: $(paste -sd ' ' <<<"$strangers")"
	fi
}

port_taken() { ss -Hlun "sport = :$1" | grep -q .; }

# sleep_until_us sleeps until the given time in microseconds since the epoch.
sleep_until_us() {
	local left=$(($1 - $(now_us)))
	((left > 0)) && sleep "$((left / 1000000)).$(printf '%06d' $((left % 1000000)))"
}

# send NODE TEXT: the client posts TEXT to the node's UI port.
send() {
	local i
	i=$(index_of "$1")
	if "$workdir/client" -UIPort="$((UI_BASE + i))" -msg="$2"; then
		pass
	else
		fail "client could not send \"$2\" to node $1 (exit status $?)"
	fi
}

# build_binaries builds the gossiper and the client into $workdir, as
# gossiper and client (as the graders name them; the source tree is left as
# it is), and sets $extra_flags, the flags every node gets whatever the mode.
build_binaries() {
	local build_out
	echo "$TEST: building"
	if ! build_out=$(go build -o "$workdir/gossiper" . 2>&1) || [[ ! -x $workdir/gossiper ]]; then
		echo "$build_out" >&2
		abort "go build of the gossiper failed"
	fi
	if ! build_out=$(go build -o "$workdir/client" ./client 2>&1) || [[ ! -x $workdir/client ]]; then
		echo "$build_out" >&2
		abort "go build of the client failed"
	fi

	extra_flags=()
	# The web UI's port defaults to 8080; ten nodes cannot all have it.
	if "$workdir/gossiper" -h 2>&1 | grep -q -- '-GUIPort'; then
		extra_flags+=(-GUIPort=0)
	fi
}

# start_ring [FLAG]...: checks that no port of the ring is taken, starts the
# nodes, each knowing only the next, with FLAGs (the mode) and $extra_flags,
# and waits until every node listens on its gossip and UI ports.
start_ring() {
	local i port deadline listening missing
	for ((i = 0; i < N; i++)); do
		for port in $((GOSSIP_BASE + i)) $((UI_BASE + i)); do
			port_taken "$port" && abort "UDP port $port is already taken by another process; not starting"
		done
	done

	for ((i = 0; i < N; i++)); do
		"$workdir/gossiper" -UIPort="$((UI_BASE + i))" -gossipAddr="$(addr "$i")" \
			-name="${NAMES[$i]}" -peers="$(addr $(((i + 1) % N)))" "$@" "${extra_flags[@]}" \
			>"$(out_file "$i")" 2>"$(err_file "$i")" &
		pids+=($!)
	done
	started=1

	deadline=$(($(now_us) + READY_TIMEOUT * 1000000))
	while :; do
		listening=$(ss -Hlun | awk '{print $4}')
		missing=()
		for ((i = 0; i < N; i++)); do
			if ! running "${pids[$i]}"; then
				reap "$i"
				echo "node ${NAMES[$i]} exited at start (status $status); its stderr:" >&2
				indent <"$(err_file "$i")" >&2
				abort "node ${NAMES[$i]} did not start"
			fi
			for port in $((GOSSIP_BASE + i)) $((UI_BASE + i)); do
				grep -qx "$IP:$port" <<<"$listening" || missing+=("${NAMES[$i]}:$port")
			done
		done
		((${#missing[@]} == 0)) && break
		(($(now_us) > deadline)) && abort "nodes not listening after ${READY_TIMEOUT}s: ${missing[*]}"
		sleep 0.05
	done
	echo "$TEST: $N nodes listening after $((($(now_us) - ${start_time/./}) / 1000)) ms (build included); sending"
}

# freeze_outputs copies what every node has printed by now to its
# snap_file, which the checks read, checks every node is still running, and
# stops them all, checking they exit on SIGTERM.
freeze_outputs() {
	local i
	for ((i = 0; i < N; i++)); do
		cp "$(out_file "$i")" "$(snap_file "$i")"
	done

	for ((i = 0; i < N; i++)); do
		if running "${pids[$i]}"; then
			pass
		else
			reap "$i"
			fail "node ${NAMES[$i]}: died before the checks (exit status $status); last lines of its stderr:"
			tail -n 5 "$(err_file "$i")" | indent
		fi
	done
	stop_nodes check
}

summary() {
	local elapsed_ms=$((($(now_us) - ${start_time/./}) / 1000))
	echo "$TEST: stdout lines at ${CHECK_AT}s per node: ${line_counts% }"
	echo "$TEST: $N nodes, $checks checks, $((checks - failed)) passed, $failed failed ($((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000))) s)"
	((failed == 0))
}
