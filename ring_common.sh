# shellcheck shell=bash
# ring_common.sh: what the ring scripts (test_1_ring.sh, test_2_ring.sh,
# test_private_ring.sh and test_files_ring.sh) share. Not a script by
# itself: an including script sources it, from the repository's top
# directory (its current directory), with
#
#	cd "$(dirname "$0")" || exit 2
#	. ./ring_common.sh || exit 2
#
# and must first have run `set -u` and set
#	TEST      the test's name, the prefix of its output lines and of its
#	          output directory;
#	CHECK_AT  seconds after the first client message at which the nodes'
#	          stdout is frozen and checked;
# and may set
#	NODE_DIRS=1  to run each node in a folder of its own, $workdir/NAME
#	          (node_dir), as if each ran on a machine of its own: each has
#	          its own _SharedFiles/ and _Downloads/. Else all run in
#	          $workdir.
#
# Sourcing it sources jobs_common.sh (running), sets the ring's constants
# (IP, GOSSIP_BASE, UI_BASE, NAMES, N, STOP_TIMEOUT, addr_any), makes the
# nodes' output directory $workdir, and installs the traps that end, by
# PID, every node still running when the script exits. It provides:
#	build_binaries      build the gossiper and the client into $workdir;
#	start_ring [FLAG]...  start the ten nodes A..J in a ring, in the
#	                    background, with FLAGs (e.g. -simple) after the usual
#	                    ones, and return at once: like the graders, the
#	                    script then posts without waiting for any node to
#	                    listen;
#	send NODE TEXT      the client posts TEXT to NODE's UI port;
#	now_us, sleep_until_us US, pause SECS  the time in microseconds, and the
#	                    graders' sleeps: until a time, or SECS seconds; while
#	                    they sleep they watch the nodes come up (observe);
#	observe             one look at the nodes, after the first post: which
#	                    listen on both ports by now (never waited for, only
#	                    noted, for the timeline); a node that exited before
#	                    it listened ends the test with status 2;
#	freeze_outputs      snapshot every node's stdout, end the test with status
#	                    2 if a node never came up (never listened on both
#	                    ports), check every node is alive, then stop them all
#	                    (checking they exit on SIGTERM);
#	pass, fail MSG, expect, show, expect_client_message, expect_only_kinds,
#	expect_only_neighbours
#	                    checks on the snapshots, and evidence for failures;
#	addr, addr_re, re_escape, index_of (sets $index), out_file, err_file,
#	snap_file, node_dir, indent
#	                    small helpers;
#	summary             print the per-node line counts ($line_counts, which
#	                    the checks fill in as "X=lines "), if a check failed
#	                    the datagrams that reached no socket meanwhile and the
#	                    timeline, and the summary line; its status, 0 if no
#	                    check failed and 1 otherwise, is meant to be the
#	                    script's exit status.
# The timeline (each node's launch, each post, when each node was first seen
# listening, the check time; in ms after the first launch) is kept in
# $workdir/timeline with the nodes' outputs.
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
# The graders' ports. RING_GOSSIP_BASE and RING_UI_BASE move them, to run a
# ring script next to something else that holds them.
readonly GOSSIP_BASE=${RING_GOSSIP_BASE:-5000}
readonly UI_BASE=${RING_UI_BASE:-12345}
readonly NAMES=(A B C D E F G H I J)
readonly N=${#NAMES[@]}
readonly STOP_TIMEOUT=3 # seconds for a node to exit after SIGTERM
readonly LOOK_EVERY=0.02 # seconds between looks at the nodes coming up
# Any IPv4 address and port, as an ERE.
readonly addr_any='[0-9]+(\.[0-9]+){3}:[0-9]+'
# Rumor mode's own lines, besides CLIENT MESSAGE, SIMPLE MESSAGE and PEERS
# (see expect_only_kinds), with the routing note's DSDV line: a new rumor
# sets a next hop.
readonly rumor_kinds=(
	"RUMOR origin [^ ]+ from $addr_any ID [0-9]+ contents .*"
	"MONGERING with $addr_any"
	"STATUS from $addr_any( peer [^ ]+ nextID [0-9]+)*"
	"FLIPPED COIN sending rumor to $addr_any"
	"IN SYNC WITH $addr_any"
	"DSDV [^ ]+ $addr_any"
)

pids=()
started=0
# Set by start_ring, send and observe: the nodes' launch times, the first
# post's, and for each node when it was first seen listening on both ports
# (ms after the first post), the timeline, and whether some node has not been
# seen listening yet.
launched_us=()
first_post_us=""
up_ms=()
not_up=()
timeline=()
looks=0
watching=0
noports_at_start=""
noports_at_check=""
status=0
line_counts=""
checks=0
failed=0
start_time=$EPOCHREALTIME
workdir=$(mktemp -d "${TMPDIR:-/tmp}/$TEST.XXXXXX") || exit 2

now_us() { echo "${EPOCHREALTIME/./}"; }

# note MSG adds MSG to the timeline, at the time now in ms after the first
# node's launch. It starts no process: it runs between the launches and the
# posts, whose timing it must not change.
note() {
	local t=$((${EPOCHREALTIME/./} - ${launched_us[0]:-${EPOCHREALTIME/./}})) line
	printf -v line '%8d.%d ms  %s' "$((t / 1000))" "$((t % 1000 / 100))" "$1"
	timeline+=("$line")
}

# udp_noports prints how many UDP datagrams so far reached a port no socket
# was bound to (in this network namespace, all processes together): a
# datagram sent to a node before it bound its port is one of them.
udp_noports() {
	awk '$1 == "Udp:" && $3 ~ /^[0-9]+$/ { print $3; exit }' /proc/net/snmp 2>/dev/null
}

# running PID (jobs_common.sh): only a node of this script that still runs
# is ever signalled.
# shellcheck source=jobs_common.sh
. ./jobs_common.sh || exit 2

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
	((${#timeline[@]} > 0)) && printf '%s\n' "${timeline[@]}" >"$workdir/timeline"
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
# index_of NAME sets $index to the node's index (empty if none), without a
# subshell: send uses it between the launch and the first post.
index_of() {
	local i
	index=""
	for i in "${!NAMES[@]}"; do
		[[ ${NAMES[$i]} == "$1" ]] && index=$i && return
	done
}
out_file() { echo "$workdir/${NAMES[$1]}.out"; }
err_file() { echo "$workdir/${NAMES[$1]}.err"; }
# snap_file is the node's stdout as it was at check time.
snap_file() { echo "$workdir/${NAMES[$1]}.at${CHECK_AT}s"; }
# node_dir is the folder the node runs in (see NODE_DIRS).
node_dir() {
	if [[ ${NODE_DIRS:-0} == 1 ]]; then
		echo "$workdir/${NAMES[$1]}"
	else
		echo "$workdir"
	fi
}

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

# sleep_until_us US sleeps until the given time in microseconds since the
# epoch. Until every node has been seen listening, it looks at them
# (observe) every LOOK_EVERY seconds meanwhile: the sleep ends at the same
# time either way.
sleep_until_us() {
	local left
	while ((watching)); do
		observe
		((watching)) || break
		left=$(($1 - ${EPOCHREALTIME/./}))
		((left > 0)) || return 0
		if ((left < 20000)); then
			sleep "0.$(printf '%06d' "$left")"
			return 0
		fi
		sleep "$LOOK_EVERY"
	done
	left=$(($1 - ${EPOCHREALTIME/./}))
	((left > 0)) && sleep "$((left / 1000000)).$(printf '%06d' $((left % 1000000)))"
	return 0
}

# pause SECS: the graders' "sleep SECS", watching the nodes meanwhile.
pause() {
	sleep_until_us $((${EPOCHREALTIME/./} + $1 * 1000000))
}

# send NODE TEXT: the client posts TEXT to the node's UI port, whether or not
# the node listens yet (as the graders' client does: a datagram to a port
# not bound yet is lost, and the client cannot tell).
send() {
	local i rc index
	index_of "$1"
	i=$index
	[[ -z $first_post_us ]] && first_post_us=${EPOCHREALTIME/./}
	note "post \"$2\" to $1 (UI port $((UI_BASE + i))): client started"
	"$workdir/client" -UIPort="$((UI_BASE + i))" -msg="$2"
	rc=$?
	note "post \"$2\" to $1: client exited (status $rc)"
	if ((rc == 0)); then
		pass
	else
		fail "client could not send \"$2\" to node $1 (exit status $rc)"
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

# start_ring [FLAG]...: checks that no port of the ring is taken, then
# starts the nodes in the background, each knowing only the next, with FLAGs
# (the mode) and $extra_flags, and returns at once, as the graders' script
# does: it waits for no node to listen before the first post, and a message
# may reach a node before it has bound its socket. Whether and when each
# node came up is watched afterwards (observe, during the sleeps) and
# checked at check time (freeze_outputs).
start_ring() {
	local i port gossip_addr peer out err dirs=()
	for ((i = 0; i < N; i++)); do
		for port in $((GOSSIP_BASE + i)) $((UI_BASE + i)); do
			port_taken "$port" && abort "UDP port $port is already taken by another process; not starting"
		done
		dirs+=("$(node_dir "$i")")
	done
	mkdir -p "${dirs[@]}" || abort "cannot make the nodes' folders"
	noports_at_start=$(udp_noports)

	# The nodes run in $workdir, or each in its own folder under it
	# (NODE_DIRS), where their _SharedFiles/ and _Downloads/ folders go, as
	# graders' nodes run in their copy of the repository. cd is a builtin:
	# it costs the launches no fork.
	pushd "$workdir" >/dev/null || abort "cannot enter $workdir"
	for ((i = 0; i < N; i++)); do
		cd "${dirs[$i]}" || abort "cannot enter ${dirs[$i]}"
		# Bash expands a background command's words in the child it forks:
		# a command substitution there would delay the node's exec behind
		# forks of its own. As in the graders' loop, every argument is
		# ready in a variable (no subshell), so the child execs at once.
		gossip_addr=$IP:$((GOSSIP_BASE + i))
		peer=$IP:$((GOSSIP_BASE + (i + 1) % N))
		out=$workdir/${NAMES[$i]}.out # out_file $i
		err=$workdir/${NAMES[$i]}.err # err_file $i
		"$workdir/gossiper" -UIPort="$((UI_BASE + i))" -gossipAddr="$gossip_addr" \
			-name="${NAMES[$i]}" -peers="$peer" "$@" "${extra_flags[@]}" >"$out" 2>"$err" &
		pids+=($!)
		launched_us+=("${EPOCHREALTIME/./}")
		note "launch ${NAMES[$i]} (pid $!)"
	done
	popd >/dev/null || abort "cannot come back from $workdir"
	started=1
	watching=1
	echo "$TEST: $N nodes started in the background; posting at once, without waiting for them to listen"
}

# observe looks once at the nodes: which listen on both their ports by now,
# and which have exited. It notes in the timeline, for each node, the first
# look that found it listening (ms after the first post), and at the first
# look which were not listening yet. A node that exited before it was seen
# listening never came up: the test ends with status 2, with its stderr
# (e.g. its port was taken). Once all have been seen listening it does
# nothing.
observe() {
	local -A listening=() alive=()
	local i pid local_addr ss_out jobs_out t missing=() ports
	((watching)) || return 0
	ss_out=$(ss -Hlun)
	jobs_out=$(jobs -rp)
	t=${EPOCHREALTIME/./}
	while read -r _ _ _ local_addr _; do
		[[ -n $local_addr ]] && listening[$local_addr]=1
	done <<<"$ss_out"
	for pid in $jobs_out; do
		alive[$pid]=1
	done
	looks=$((looks + 1))
	for ((i = 0; i < N; i++)); do
		[[ -n ${up_ms[$i]:-} ]] && continue
		ports=""
		[[ -v listening[$IP:$((GOSSIP_BASE + i))] ]] || ports+=" $((GOSSIP_BASE + i))"
		[[ -v listening[$IP:$((UI_BASE + i))] ]] || ports+=" $((UI_BASE + i))"
		if [[ -z $ports ]]; then
			up_ms[$i]=$(((t - ${first_post_us:-$t}) / 1000))
			((looks > 1)) && note "${NAMES[$i]} first seen listening (look $looks)"
			not_up[$i]=""
		elif [[ -z ${alive[${pids[$i]}]:-} ]]; then
			reap "$i"
			note "${NAMES[$i]} found exited (status $status) before it listened"
			echo "$TEST: node ${NAMES[$i]} exited (status $status) before it ever listened on its ports ($(addr "$i"), UI port $((UI_BASE + i))); its stderr:" >&2
			indent <"$(err_file "$i")" >&2
			abort "node ${NAMES[$i]} never came up; the checks would mean nothing"
		else
			missing+=("${NAMES[$i]}")
			not_up[$i]="not listening on UDP port(s)${ports}"
		fi
	done
	if ((looks == 1)); then
		if ((${#missing[@]} > 0)); then
			note "look 1: not listening yet: ${missing[*]}"
		else
			note "look 1: all $N nodes listening"
		fi
	fi
	((${#missing[@]} == 0)) && watching=0
	return 0
}

# freeze_outputs copies what every node has printed by now to its
# snap_file, which the checks read. A node that has not come up by now (never
# seen listening on both ports) ends the test with status 2. Else it checks
# every node is still running, and stops them all, checking they exit on
# SIGTERM.
freeze_outputs() {
	local i never=()
	for ((i = 0; i < N; i++)); do
		cp "$(out_file "$i")" "$(snap_file "$i")"
	done
	noports_at_check=$(udp_noports)
	note "check time: stdout frozen"
	observe
	for ((i = 0; i < N; i++)); do
		if [[ -z ${up_ms[$i]:-} ]]; then
			never+=("${NAMES[$i]}")
			echo "$TEST: node ${NAMES[$i]} still running but ${not_up[$i]:-not listening} at check time, ${CHECK_AT}s after the first post; its stderr:" >&2
			if [[ -s $(err_file "$i") ]]; then
				indent <"$(err_file "$i")" >&2
			else
				echo "(empty)" | indent >&2
			fi
		fi
	done
	((${#never[@]} > 0)) && abort "node(s) ${never[*]} never came up; the checks would mean nothing"

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
	local elapsed_ms=$((($(now_us) - ${start_time/./}) / 1000)) i up=""
	echo "$TEST: stdout lines at ${CHECK_AT}s per node: ${line_counts% }"
	if ((failed > 0)); then
		if [[ -n $noports_at_start && -n $noports_at_check ]]; then
			echo "$TEST: UDP datagrams that reached no bound port from the launch to check time: $((noports_at_check - noports_at_start)) (counted for all processes on the machine; a datagram sent to a node before it bound its port is one)"
		fi
		for ((i = 0; i < N; i++)); do
			up+="${NAMES[$i]}=${up_ms[$i]:-?}ms "
		done
		echo "$TEST: each node first seen listening (ms after the first post; the first look is after the first posts): ${up% }"
		echo "$TEST: timeline (ms after the first node's launch):"
		printf '%s\n' "${timeline[@]}" | indent
	fi
	echo "$TEST: $N nodes, $checks checks, $((checks - failed)) passed, $failed failed ($((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000))) s)"
	((failed == 0))
}
