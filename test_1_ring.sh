#!/usr/bin/env bash
# test_1_ring.sh: end-to-end test of simple broadcast mode (handout Part 1).
#
# Builds the gossiper and the client, starts ten gossipers A..J with -simple
# on 127.0.0.1 in a ring (gossip ports 5000-5009, UI ports 12345-12354, each
# knowing only the next) in the background and, as the graders do, at once,
# without waiting for any to listen, sends the graders' two client messages,
# one to E and one to B (simple mode never resends: a message that reaches a
# node before it has bound its socket is lost for good). 3 s after the first
# it checks every node's stdout:
#   - SIMPLE MESSAGE origin E from <its predecessor> contents <E's text>, and
#     the same for B's message: every node, the senders included, since the
#     message comes back to them round the ring;
#   - a line PEERS <next>,<predecessor>, in that order;
#   - the senders printed CLIENT MESSAGE <text>;
#   - each message was printed at most three times per node (it does not go
#     on circulating round the ring);
#   - stdout holds only CLIENT MESSAGE, SIMPLE MESSAGE and PEERS lines and
#     names no address but the two neighbours;
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

readonly TEST=test_1_ring
readonly CHECK_AT=3 # seconds after the first client message
# A message may reach a node from each neighbour, and once more if its origin
# sends it again when it comes back; more copies than that means it goes on
# circulating round the ring.
readonly MAX_COPIES=3

# The two messages: receiving node, text.
readonly MSG_NODES=(E B)
readonly MSG_TEXTS=(Weather_is_clear Winter_is_coming)

cd "$(dirname "$0")" || exit 2
# shellcheck source=ring_common.sh
. ./ring_common.sh || exit 2

build_binaries
start_ring -simple

# --- the graders' messages and timings, posted at once ------------------------
# No wait for the nodes: the first post follows their launch as closely as in
# the graders' script. The sleeps watch the nodes come up without changing
# when they end.

t0=${EPOCHREALTIME/./} # no subshell before the first post
send "${MSG_NODES[0]}" "${MSG_TEXTS[0]}"
send "${MSG_NODES[1]}" "${MSG_TEXTS[1]}"
sleep_until_us $((t0 + CHECK_AT * 1000000))

freeze_outputs

# --- checks ------------------------------------------------------------------

for ((i = 0; i < N; i++)); do
	node=${NAMES[$i]}
	prev=$(((i + N - 1) % N))
	next=$(((i + 1) % N))
	p=$(addr_re "$prev")
	n=$(addr_re "$next")

	for m in "${!MSG_TEXTS[@]}"; do
		origin=${MSG_NODES[$m]}
		text=${MSG_TEXTS[$m]}
		if [[ $origin == "$node" ]]; then
			expect_client_message "$i" "$text"
		fi
		line="^SIMPLE MESSAGE origin $origin from $p contents $(re_escape "$text")$"
		expect "$i" "SIMPLE MESSAGE origin $origin from $(addr "$prev") contents $text" \
			"$line" "^SIMPLE MESSAGE origin $origin "
		copies=$(grep -aEc -- "^SIMPLE MESSAGE origin $origin from .* contents $(re_escape "$text")$" "$(snap_file "$i")")
		if ((copies <= MAX_COPIES)); then
			pass
		else
			fail "node $node: printed $origin's message $copies times (more than $MAX_COPIES: is it circulating?)"
			show "$i" "^SIMPLE MESSAGE origin $origin "
		fi
	done
	expect "$i" "PEERS $(addr "$next"),$(addr "$prev")" "^PEERS $n,$p$" '^PEERS'

	# The whole stdout, up to the node's exit, holds only simple mode's lines.
	expect_only_kinds "$i" "simple mode's kinds"
	expect_only_neighbours "$i"
	line_counts+="$node=$(wc -l <"$(snap_file "$i")") "
done

summary
