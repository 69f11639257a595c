#!/usr/bin/env bash
# test_2_ring.sh: end-to-end test of rumor mode (handout Part 2).
#
# Builds the gossiper and the client, starts ten gossipers A..J on 127.0.0.1
# in a ring (gossip ports 5000-5009, UI ports 12345-12354, each knowing only
# the next) in the background and, as the graders do, at once, without
# waiting for any to listen, sends the graders' five client messages with the
# graders' pauses (a message may reach a node before it has bound its
# socket), and 8 s after the first message checks every node's stdout. The
# checks of testdata/ring_checks/test_2.txt, which the simulated ring in Go
# (gossiper/ring_test.go) makes too:
#   - the RUMOR line of each of the five messages (but its own), from a
#     neighbour, with the right origin, ID and text;
#   - MONGERING with one of its two neighbours;
#   - STATUS from both neighbours, and status lines showing peer E nextID 3,
#     peer B nextID 3 and peer G nextID 2;
#   - FLIPPED COIN sending rumor to both neighbours;
#   - IN SYNC WITH both neighbours;
#   - a PEERS line naming exactly its two neighbours (either order);
#   - the senders printed CLIENT MESSAGE for each of their messages;
# and this script's own:
#   - stdout holds only the handout's line kinds, names no address but the
#     two neighbours, and stays small (no storm);
#   - the node was still alive at check time and exits on SIGTERM.
# Lines must be on stdout by the check time (they are read while the nodes
# run). Prints every failed check and a one-line summary; exits 0 if all
# passed, 1 if a check failed, 2 if the test could not run (build failed,
# a port was taken before the start, a node exited before it listened on its
# ports or was still not listening at check time: nothing waits for the nodes
# before the first post, so that is found out afterwards, during the sleeps
# and at check time). On a failure it also prints when each node was first
# seen listening, how many datagrams reached no bound port (as one sent
# before its node bound does), and the timeline of launches and posts.
#
# Every process it starts is ended by its PID. Set KEEP_OUTPUT=1 to keep the
# nodes' output directory even when everything passed (it is always kept,
# and its path printed, on failure). RING_GOSSIP_BASE and RING_UI_BASE move
# the ports. The machinery it shares with the other ring scripts is in
# ring_common.sh.

set -u

readonly TEST=test_2_ring
readonly CHECK_AT=8     # seconds after the first client message
readonly MAX_LINES=2000 # more stdout lines than this in 8 s is a storm

# The five messages: receiving node, origin's sequence number, text.
readonly MSG_NODES=(E B E B G)
readonly MSG_IDS=(1 1 2 2 1)
readonly MSG_TEXTS=(Weather_is_clear Winter_is_coming No_clouds_really "Let's_go_skiing" "Is_anybody_here?")
# The per-node checks, shared with the Go simulation of this ring
# (gossiper/ring_test.go).
readonly CHECKS=testdata/ring_checks/test_2.txt

cd "$(dirname "$0")" || exit 2
# shellcheck source=ring_common.sh
. ./ring_common.sh || exit 2

# --- the per-node checks -------------------------------------------------------

# read_checks reads $CHECKS (its format is described at its top) into
# check_when, check_what, check_re and check_hint, or aborts.
read_checks() {
	local when what re hint rest n=0 s
	check_when=() check_what=() check_re=() check_hint=()
	[[ -r $CHECKS ]] || abort "cannot read $CHECKS"
	while IFS=$'\t' read -r when what re hint rest; do
		n=$((n + 1))
		[[ -z $when || $when == '#'* ]] && continue
		[[ -n $hint && -z $rest ]] || abort "$CHECKS:$n: want 4 TAB-separated fields"
		case $when in
		node | "message unless origin" | "message at origin") ;;
		*) abort "$CHECKS:$n: unknown WHEN \"$when\"" ;;
		esac
		s=$what$re$hint
		while [[ $s =~ \{[a-z]+\} ]]; do
			case ${BASH_REMATCH[0]} in
			"{prev}" | "{next}" | "{nb}" | "{origin}" | "{id}" | "{text}") ;;
			*) abort "$CHECKS:$n: unknown placeholder ${BASH_REMATCH[0]}" ;;
			esac
			s=${s#*"${BASH_REMATCH[0]}"}
		done
		[[ $hint == - ]] && hint=""
		check_when+=("$when") check_what+=("$what") check_re+=("$re") check_hint+=("$hint")
	done <"$CHECKS"
	((${#check_when[@]} > 0)) || abort "$CHECKS: no checks"
}

# fill TEMPLATE [{KEY} VALUE]...: sets $filled to TEMPLATE with each {KEY}
# replaced by its VALUE, in one pass (a VALUE is not searched for keys).
fill() {
	local s=$1 key
	local -A val=()
	shift
	while (($# >= 2)); do
		val[$1]=$2
		shift 2
	done
	filled=""
	while [[ $s =~ \{[a-z]+\} ]]; do
		key=${BASH_REMATCH[0]}
		filled+=${s%%"$key"*}
		s=${s#*"$key"}
		if [[ -v val[$key] ]]; then
			filled+=${val[$key]}
		else
			filled+=$key
		fi
	done
	filled+=$s
}

# node_vars NODE sets $plain and $quoted, the values of the placeholders at
# the node as text and as ERE.
node_vars() {
	local prev=$((($1 + N - 1) % N)) next=$((($1 + 1) % N))
	plain=("{prev}" "$(addr "$prev")" "{next}" "$(addr "$next")")
	plain+=("{nb}" "${plain[1]} or ${plain[3]}")
	quoted=("{prev}" "$(addr_re "$prev")" "{next}" "$(addr_re "$next")")
	quoted+=("{nb}" "(${quoted[1]}|${quoted[3]})")
}

# expect_check NODE C [M]: makes check C at the node, for message M if given,
# with the node's placeholders ($plain, $quoted, set by node_vars).
expect_check() {
	local i=$1 c=$2 m=${3:-} what re hint p=("${plain[@]}") q=("${quoted[@]}")
	if [[ -n $m ]]; then
		p+=("{origin}" "${MSG_NODES[$m]}" "{id}" "${MSG_IDS[$m]}" "{text}" "${MSG_TEXTS[$m]}")
		q+=("{origin}" "${msg_nodes_re[$m]}" "{id}" "${MSG_IDS[$m]}" "{text}" "${msg_texts_re[$m]}")
	fi
	fill "${check_what[$c]}" "${p[@]}"
	what=$filled
	fill "${check_re[$c]}" "${q[@]}"
	re=$filled
	fill "${check_hint[$c]}" "${q[@]}"
	hint=$filled
	expect "$i" "$what" "$re" "$hint"
}

read_checks
msg_nodes_re=() msg_texts_re=()
for m in "${!MSG_TEXTS[@]}"; do
	msg_nodes_re+=("$(re_escape "${MSG_NODES[$m]}")")
	msg_texts_re+=("$(re_escape "${MSG_TEXTS[$m]}")")
done
build_binaries
# Rumor mode is the gossiper's default: no mode flag (start_ring's arguments
# are gossiper flags, not this script's).
# shellcheck disable=SC2119
start_ring

# --- the graders' messages and timings, posted at once ------------------------
# No wait for the nodes: the first post follows their launch as closely as in
# the graders' script. The sleeps watch the nodes come up without changing
# when they end.

t0=${EPOCHREALTIME/./} # no subshell before the first post
send "${MSG_NODES[0]}" "${MSG_TEXTS[0]}"
send "${MSG_NODES[1]}" "${MSG_TEXTS[1]}"
pause 2
send "${MSG_NODES[2]}" "${MSG_TEXTS[2]}"
pause 1
send "${MSG_NODES[3]}" "${MSG_TEXTS[3]}"
send "${MSG_NODES[4]}" "${MSG_TEXTS[4]}"
sleep_until_us $((t0 + CHECK_AT * 1000000))

freeze_outputs

# --- checks ------------------------------------------------------------------

for ((i = 0; i < N; i++)); do
	node=${NAMES[$i]}

	# The checks of $CHECKS, which the simulated ring in Go makes too.
	node_vars "$i"
	for c in "${!check_when[@]}"; do
		case ${check_when[$c]} in
		node)
			expect_check "$i" "$c"
			;;
		*)
			for m in "${!MSG_TEXTS[@]}"; do
				at_origin=0
				[[ ${MSG_NODES[$m]} == "$node" ]] && at_origin=1
				[[ ${check_when[$c]} == "message at origin" ]] && ((at_origin == 0)) && continue
				[[ ${check_when[$c]} == "message unless origin" ]] && ((at_origin == 1)) && continue
				expect_check "$i" "$c" "$m"
			done
			;;
		esac
	done

	# The whole stdout, up to the node's exit, holds only the handout's lines.
	expect_only_kinds "$i" "the handout's kinds or DSDV" "${rumor_kinds[@]}"
	expect_only_neighbours "$i"
	lines=$(wc -l <"$(snap_file "$i")")
	if ((lines <= MAX_LINES)); then
		pass
	else
		fail "node $node: $lines stdout lines in ${CHECK_AT}s (more than $MAX_LINES: a storm?)"
	fi
	line_counts+="$node=$lines "
done

summary
