#!/usr/bin/env bash
# test_private_ring.sh: end-to-end test of next-hop routing and private
# messages, as docs/protocol.md describes them ("Private messages and
# routes").
#
# Builds the gossiper and the client, starts ten gossipers A..J on 127.0.0.1
# in a ring (gossip ports 5000-5009, UI ports 12345-12354, each knowing only
# the next, J knowing A) with -rtimer=5, in the background and at once, as
# the graders do, without waiting for any to listen. Then:
#   (a) 2 s after the first launch (ROUTES_AT) it takes a snapshot of every
#       node's stdout: each node must have printed a DSDV line for each of
#       the nine others by then;
#   (b) at once it sends the private messages of
#       testdata/private_ring/messages.txt with the client (-dest), and 1 s
#       after the first (CHECK_AT) checks every node's stdout: each message
#       was printed exactly once, at its destination only, as
#       PRIVATE origin <from> hop-limit <H> contents <text>, where H is
#       11 - (the hops of the path the routes take).
# The path is the one the DSDV lines of the snapshot give: from the sender,
# each node's last next hop towards the destination, to the destination. A
# node's next hop towards an origin is the neighbour from which it first got
# that origin's newest rumor, not the nearest one: before the first period
# of -rtimer ends (5 s) each origin has sent one route rumor, whose first
# copies went to the one peer each node knew at start, its successor, so
# routes often go the long way round (A to H through B..G, 7 hops, hop-limit
# 4, where the shortest is 3 hops through J and I). So the expected hop limit
# is computed from the routes the nodes printed, and the check also makes
# sure that path is whole and free of loops; the script prints each path,
# and whether it was the shortest, for the record.
# And on every node:
#   - stdout holds only the handout's line kinds, DSDV and PRIVATE lines,
#     names no address but the two neighbours, and stays small; no RUMOR
#     line (route rumors print none, and nobody chats);
#   - the node was still alive at check time and exits on SIGTERM.
# Prints every failed check and a one-line summary; exits 0 if all passed,
# 1 if a check failed, 2 if the test could not run (build failed, a port was
# taken before the start, a node exited before it listened on its ports or
# was still not listening at check time).
#
# Every process it starts is ended by its PID. Set KEEP_OUTPUT=1 to keep the
# nodes' output directory even when everything passed (it is always kept,
# and its path printed, on failure). RING_GOSSIP_BASE and RING_UI_BASE move
# the ports. The machinery it shares with the other ring scripts is in
# ring_common.sh.

set -u

readonly TEST=test_private_ring
readonly CHECK_AT=1      # seconds after the first private message
readonly ROUTES_AT=2     # seconds after the first launch: every route known
readonly RTIMER=5        # -rtimer of every node
readonly HOP_LIMIT=10    # a private message's hop limit when it leaves its origin
readonly MAX_LINES=2000  # more stdout lines than this in 3 s is a storm
readonly MESSAGES=testdata/private_ring/messages.txt

cd "$(dirname "$0")" || exit 2
# shellcheck source=ring_common.sh
. ./ring_common.sh || exit 2

# read_messages reads $MESSAGES into MSG_FROM, MSG_DEST and MSG_TEXTS (node
# indexes and texts), or aborts.
read_messages() {
	local from dest text n=0 index
	MSG_FROM=() MSG_DEST=() MSG_TEXTS=()
	[[ -r $MESSAGES ]] || abort "cannot read $MESSAGES"
	while IFS=' ' read -r from dest text; do
		n=$((n + 1))
		[[ -z $from || $from == '#'* ]] && continue
		index_of "$from"
		[[ -n $index ]] || abort "$MESSAGES:$n: no node named \"$from\""
		MSG_FROM+=("$index")
		index_of "$dest"
		[[ -n $index && $dest != "$from" ]] || abort "$MESSAGES:$n: bad destination \"$dest\""
		MSG_DEST+=("$index")
		[[ -n $text ]] || abort "$MESSAGES:$n: no text"
		MSG_TEXTS+=("$text")
	done <"$MESSAGES"
	((${#MSG_TEXTS[@]} > 0)) || abort "$MESSAGES: no messages"
}

routes_file() { echo "$workdir/${NAMES[$1]}.at${ROUTES_AT}s"; }

# origins_known prints, for each node in order, how many origins it has
# printed a DSDV line for so far: one process for all the nodes, so that a
# look costs the loaded machine little.
origins_known() {
	local i files=()
	for ((i = 0; i < N; i++)); do
		files+=("$workdir/${NAMES[$i]}.out") # out_file $i
	done
	awk '$1 == "DSDV" && NF == 3 { o[FILENAME SUBSEP $2] = 1 }
		END {
			for (k in o) { split(k, f, SUBSEP); c[f[1]]++ }
			for (i = 1; i < ARGC; i++) print c[ARGV[i]] + 0
		}' "${files[@]}"
}

# watch_routes_until US: until then, looks at the nodes (observe) and notes
# in routes_ms the time (ms after the first launch) each node was first seen
# with a DSDV line for each of the nine others, every LOOK_EVERY seconds.
routes_ms=()
watch_routes_until() {
	local i left complete counts
	while :; do
		complete=1
		mapfile -t counts < <(origins_known)
		for ((i = 0; i < N; i++)); do
			[[ -n ${routes_ms[$i]:-} ]] && continue
			if ((${counts[$i]:-0} >= N - 1)); then
				routes_ms[$i]=$(((${EPOCHREALTIME/./} - launched_us[0]) / 1000))
				note "${NAMES[$i]} has a route to each of the $((N - 1)) others"
			else
				complete=0
			fi
		done
		observe
		left=$(($1 - ${EPOCHREALTIME/./}))
		((left > 0)) || return 0
		if ((complete)) && ((!watching)); then
			sleep_until_us "$1"
			return 0
		fi
		if ((left < 20000)); then
			sleep "0.$(printf '%06d' "$left")"
		else
			sleep "$LOOK_EVERY"
		fi
	done
}

# snapshot_routes copies every node's stdout to its routes_file, in one
# process: the copies are of one moment.
snapshot_routes() {
	local i files=()
	for ((i = 0; i < N; i++)); do
		files+=("$workdir/${NAMES[$i]}.out")
	done
	awk -v suffix=".at${ROUTES_AT}s" 'FNR == 1 { if (out != "") close(out); out = FILENAME; sub(/\.out$/, suffix, out) }
		{ print > out }' "${files[@]}"
	for ((i = 0; i < N; i++)); do
		[[ -e $(routes_file "$i") ]] || : >"$(routes_file "$i")"
	done
}

# load_routes reads the DSDV lines of every node's route snapshot into
# route[NODE,DEST] (the index of the last next hop, or the address if it is
# not one of the ring's), and counts each node's DSDV lines per origin in
# the snapshot and at check time into dsdv_then[NODE,DEST] and
# dsdv_later[NODE,DEST].
declare -A route=() dsdv_then=() dsdv_later=()
load_routes() {
	local i j node origin a f kind
	for ((i = 0; i < N; i++)); do
		for kind in then later; do
			f=$(routes_file "$i")
			[[ $kind == later ]] && f=$(snap_file "$i")
			while read -r _ origin a; do
				index_of "$origin"
				j=$index
				[[ -z $j ]] && continue
				if [[ $kind == then ]]; then
					dsdv_then[$i,$j]=$((${dsdv_then[$i,$j]:-0} + 1))
					route[$i,$j]=$a
					if [[ $a =~ ^127\.0\.0\.1:([0-9]+)$ ]] && ((BASH_REMATCH[1] - GOSSIP_BASE >= 0 && BASH_REMATCH[1] - GOSSIP_BASE < N)); then
						route[$i,$j]=$((BASH_REMATCH[1] - GOSSIP_BASE))
					fi
				else
					dsdv_later[$i,$j]=$((${dsdv_later[$i,$j]:-0} + 1))
				fi
			done < <(grep -aE -- "^DSDV [^ ]+ [^ ]+$" "$f")
		done
	done
}

# route_path M sets $path (names, space-separated) and $hops to the path
# message M takes along the snapshot's routes, or $path_err to why it has
# none.
route_path() {
	local cur=${MSG_FROM[$1]} dest=${MSG_DEST[$1]} hop
	local -A seen=()
	path=${NAMES[$cur]} hops=0 path_err=""
	while ((cur != dest)); do
		seen[$cur]=1
		hop=${route[$cur,$dest]:-}
		if [[ -z $hop ]]; then
			path_err="${NAMES[$cur]} had no route to ${NAMES[$dest]} at ${ROUTES_AT}s"
			return
		fi
		if [[ ! $hop =~ ^[0-9]+$ ]]; then
			path_err="${NAMES[$cur]}'s next hop to ${NAMES[$dest]} is $hop, no node of the ring"
			return
		fi
		if [[ -v seen[$hop] ]]; then
			path_err="the routes loop: $path ${NAMES[$hop]}"
			return
		fi
		cur=$hop
		path+=" ${NAMES[$cur]}"
		hops=$((hops + 1))
	done
}

# routes_moved DEST tells whether some node printed a DSDV line for DEST
# after the route snapshot (by check time): its route may have changed
# while the messages were on their way.
routes_moved() {
	local i
	for ((i = 0; i < N; i++)); do
		((${dsdv_later[$i,$1]:-0} > ${dsdv_then[$i,$1]:-0})) && return 0
	done
	return 1
}

# send_private FROM DEST TEXT: the client sends TEXT privately to DEST
# through FROM's UI port.
send_private() {
	local rc
	[[ -z $first_post_us ]] && first_post_us=${EPOCHREALTIME/./}
	note "private \"$3\" from ${NAMES[$1]} to ${NAMES[$2]}: client started"
	"$workdir/client" -UIPort="$((UI_BASE + $1))" -dest="${NAMES[$2]}" -msg="$3"
	rc=$?
	note "private \"$3\": client exited (status $rc)"
	if ((rc == 0)); then
		pass
	else
		fail "client could not send \"$3\" from ${NAMES[$1]} to ${NAMES[$2]} (exit status $rc)"
	fi
}

read_messages
build_binaries
start_ring -rtimer="$RTIMER"

# --- (a) routes, 2 s after the first launch ------------------------------------

watch_routes_until $((launched_us[0] + ROUTES_AT * 1000000))
snapshot_routes
# On a loaded machine a look can end past ROUTES_AT: the snapshot's time is
# in the summary.
snapshot_ms=$(((${EPOCHREALTIME/./} - launched_us[0]) / 1000))
note "routes snapshot"

# --- (b) the private messages, at once ----------------------------------------

for m in "${!MSG_TEXTS[@]}"; do
	send_private "${MSG_FROM[$m]}" "${MSG_DEST[$m]}" "${MSG_TEXTS[$m]}"
done
sleep_until_us $((first_post_us + CHECK_AT * 1000000))

freeze_outputs

# --- checks ------------------------------------------------------------------

routes_known=0 short_paths=0
for ((i = 0; i < N; i++)); do
	missing=()
	for ((j = 0; j < N; j++)); do
		((j == i)) && continue
		grep -aEq -- "^DSDV ${NAMES[$j]} $addr_any$" "$(routes_file "$i")" || missing+=("${NAMES[$j]}")
	done
	if ((${#missing[@]} == 0)); then
		pass
		routes_known=$((routes_known + 1))
	else
		fail "node ${NAMES[$i]}: no DSDV line within ${ROUTES_AT}s of the first launch for ${missing[*]}"
	fi
done

# The hop limit each message must arrive with: 11 - the hops of the path
# the snapshot's routes give. Routes change only with a new rumor, and
# before the first period of -rtimer ends there is none: the messages,
# sent right after the snapshot, take that path. If some node printed a
# DSDV line for the destination after the snapshot all the same (the
# machine was so slow the messages went after the period), the path may
# have changed on the way: then any way round the ring will do, d or 10 - d
# hops for a destination d places ahead, and the script says so.
load_routes
for m in "${!MSG_TEXTS[@]}"; do
	from=${NAMES[${MSG_FROM[$m]}]} dest=${MSG_DEST[$m]} text=${MSG_TEXTS[$m]}
	d=$(((dest - MSG_FROM[m] + N) % N))
	shortest=$((d < N - d ? d : N - d))
	either="$((HOP_LIMIT + 1 - d))|$((HOP_LIMIT + 1 - (N - d)))"
	either_text="$((HOP_LIMIT + 1 - d)) or $((HOP_LIMIT + 1 - (N - d)))"
	route_path "$m"
	want_re="" want=""
	if [[ -n $path_err ]]; then
		fail "$from to ${NAMES[$dest]}: no path along the routes at ${ROUTES_AT}s: $path_err"
		echo "$TEST: $from to ${NAMES[$dest]}: no path at ${ROUTES_AT}s ($path_err); hop-limit $either_text expected (either way round)"
		want="PRIVATE line for $from's message with hop-limit $either_text"
		want_re="^PRIVATE origin $from hop-limit ($either) contents $(re_escape "$text")$"
	elif routes_moved "$dest"; then
		echo "$TEST: $from to ${NAMES[$dest]}: path $path at ${ROUTES_AT}s ($hops hop$( ((hops == 1)) || echo s)), but routes to ${NAMES[$dest]} changed by check time; hop-limit $either_text expected (either way round)"
		want="PRIVATE line for $from's message with hop-limit $either_text"
		want_re="^PRIVATE origin $from hop-limit ($either) contents $(re_escape "$text")$"
	else
		if ((hops == shortest)); then
			short_paths=$((short_paths + 1))
			how=shortest
		else
			how="shortest is $shortest"
		fi
		want="PRIVATE origin $from hop-limit $((HOP_LIMIT + 1 - hops)) contents $text"
		want_re="^$(re_escape "$want")$"
		echo "$TEST: $from to ${NAMES[$dest]}: path $path, $hops hop$( ((hops == 1)) || echo s) ($how): hop-limit $((HOP_LIMIT + 1 - hops)) expected"
	fi
	any="^PRIVATE origin [^ ]+ hop-limit [0-9]+ contents $(re_escape "$text")$"
	for ((i = 0; i < N; i++)); do
		copies=$(grep -aEc -- "$any" "$(snap_file "$i")")
		if ((i != dest)); then
			if ((copies == 0)); then
				pass
			else
				fail "node ${NAMES[$i]}: printed $from's private message to ${NAMES[$dest]} $copies times (it is not its destination)"
				show "$i" "$any"
			fi
			continue
		fi
		expect "$i" "$want" "$want_re" "$any"
		if ((copies <= 1)); then
			pass
		else
			fail "node ${NAMES[$i]}: printed $from's private message $copies times"
			show "$i" "$any"
		fi
	done
done

# Route rumors print no RUMOR line, and nobody chats: no RUMOR line at all.
kinds=("${rumor_kinds[@]}" "PRIVATE origin [^ ]+ hop-limit [0-9]+ contents .*")
for ((i = 0; i < N; i++)); do
	node=${NAMES[$i]}
	rumors=$(grep -aEc -- '^RUMOR ' "$(out_file "$i")")
	if ((rumors == 0)); then
		pass
	else
		fail "node $node: printed $rumors RUMOR lines, but nobody chats (route rumors print none)"
		show "$i" '^RUMOR '
	fi
	expect_only_kinds "$i" "the handout's kinds, DSDV or PRIVATE" "${kinds[@]}"
	expect_only_neighbours "$i"
	lines=$(wc -l <"$(snap_file "$i")")
	if ((lines <= MAX_LINES)); then
		pass
	else
		fail "node $node: $lines stdout lines by check time (more than $MAX_LINES: a storm?)"
	fi
	line_counts+="$node=$lines "
done

all_at=""
for ((i = 0; i < N; i++)); do
	if [[ -z ${routes_ms[$i]:-} ]]; then
		all_at=""
		break
	fi
	((routes_ms[i] > ${all_at:-0})) && all_at=${routes_ms[$i]}
done
echo "$TEST: $routes_known of $N nodes had a route to each of the others ${ROUTES_AT}s after the first launch (snapshot at $snapshot_ms ms)${all_at:+; all of them were first seen so $all_at ms after it}; $short_paths of ${#MSG_TEXTS[@]} messages took the shortest path"
summary
