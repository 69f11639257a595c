#!/usr/bin/env bash
# test_2_ring.sh: end-to-end test of rumor mode (handout Part 2).
#
# Builds the gossiper and the client, starts ten gossipers A..J on 127.0.0.1
# in a ring (gossip ports 5000-5009, UI ports 12345-12354, each knowing only
# the next), sends the graders' five client messages with the graders'
# pauses, and 8 s after the first message checks every node's stdout:
#   - the RUMOR line of each of the five messages (but its own), from a
#     neighbour, with the right origin, ID and text;
#   - MONGERING with one of its two neighbours;
#   - STATUS from both neighbours, and status lines showing peer E nextID 3,
#     peer B nextID 3 and peer G nextID 2;
#   - FLIPPED COIN sending rumor to both neighbours;
#   - IN SYNC WITH both neighbours;
#   - a PEERS line naming exactly its two neighbours (either order);
#   - the senders printed CLIENT MESSAGE for each of their messages;
#   - stdout holds only the handout's line kinds, names no address but the
#     two neighbours, and stays small (no storm);
#   - the node was still alive at check time and exits on SIGTERM.
# Lines must be on stdout by the check time (they are read while the nodes
# run). Prints every failed check and a one-line summary; exits 0 if all
# passed, 1 if a check failed, 2 if the test could not run (build failed,
# a port was taken, nodes never came up).
#
# Every process it starts is ended by its PID. Set KEEP_OUTPUT=1 to keep the
# nodes' output directory even when everything passed (it is always kept,
# and its path printed, on failure). The machinery it shares with
# test_1_ring.sh is in ring_common.sh.

set -u

readonly TEST=test_2_ring
readonly CHECK_AT=8     # seconds after the first client message
readonly MAX_LINES=2000 # more stdout lines than this in 8 s is a storm

# The five messages: receiving node, origin's sequence number, text.
readonly MSG_NODES=(E B E B G)
readonly MSG_IDS=(1 1 2 2 1)
readonly MSG_TEXTS=(Weather_is_clear Winter_is_coming No_clouds_really "Let's_go_skiing" "Is_anybody_here?")

cd "$(dirname "$0")" || exit 2
# shellcheck source=ring_common.sh
. ./ring_common.sh || exit 2

build_binaries
# Rumor mode is the gossiper's default: no mode flag (start_ring's arguments
# are gossiper flags, not this script's).
# shellcheck disable=SC2119
start_ring

# --- the graders' messages and timings ---------------------------------------

t0=$(now_us)
send "${MSG_NODES[0]}" "${MSG_TEXTS[0]}"
send "${MSG_NODES[1]}" "${MSG_TEXTS[1]}"
sleep 2
send "${MSG_NODES[2]}" "${MSG_TEXTS[2]}"
sleep 1
send "${MSG_NODES[3]}" "${MSG_TEXTS[3]}"
send "${MSG_NODES[4]}" "${MSG_TEXTS[4]}"
sleep_until_us $((t0 + CHECK_AT * 1000000))

freeze_outputs

# --- checks ------------------------------------------------------------------

# Rumor mode's own lines, besides CLIENT MESSAGE, SIMPLE MESSAGE and PEERS.
rumor_kinds=(
	"RUMOR origin [^ ]+ from $addr_any ID [0-9]+ contents .*"
	"MONGERING with $addr_any"
	"STATUS from $addr_any( peer [^ ]+ nextID [0-9]+)*"
	"FLIPPED COIN sending rumor to $addr_any"
	"IN SYNC WITH $addr_any"
)

for ((i = 0; i < N; i++)); do
	node=${NAMES[$i]}
	prev=$(((i + N - 1) % N))
	next=$(((i + 1) % N))
	p=$(addr_re "$prev")
	n=$(addr_re "$next")
	nb="($p|$n)"

	for m in "${!MSG_TEXTS[@]}"; do
		origin=${MSG_NODES[$m]}
		id=${MSG_IDS[$m]}
		text=${MSG_TEXTS[$m]}
		if [[ $origin == "$node" ]]; then
			expect_client_message "$i" "$text"
		else
			expect "$i" "RUMOR origin $origin ID $id contents $text from a neighbour" \
				"^RUMOR origin $origin from $nb ID $id contents $(re_escape "$text")$" "^RUMOR origin $origin "
		fi
	done

	expect "$i" "MONGERING with either neighbour ($(addr "$prev") or $(addr "$next"))" \
		"^MONGERING with $nb$" '^MONGERING'
	for j in "$prev" "$next"; do
		expect "$i" "STATUS from $(addr "$j")" "^STATUS from $(addr_re "$j")( |$)" '^STATUS'
	done
	for want in "E 3" "B 3" "G 2"; do
		expect "$i" "STATUS line with peer ${want% *} nextID ${want#* }" \
			"^STATUS from .* peer ${want% *} nextID ${want#* }( |$)" "^STATUS from .* peer ${want% *} "
	done
	for j in "$prev" "$next"; do
		expect "$i" "FLIPPED COIN sending rumor to $(addr "$j")" \
			"^FLIPPED COIN sending rumor to $(addr_re "$j")$" '^FLIPPED COIN'
	done
	for j in "$prev" "$next"; do
		expect "$i" "IN SYNC WITH $(addr "$j")" "^IN SYNC WITH $(addr_re "$j")$" '^IN SYNC WITH'
	done
	expect "$i" "PEERS line naming exactly its two neighbours" "^PEERS ($p,$n|$n,$p)$" '^PEERS'

	# The whole stdout, up to the node's exit, holds only the handout's lines.
	expect_only_kinds "$i" "the handout's kinds" "${rumor_kinds[@]}"
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
