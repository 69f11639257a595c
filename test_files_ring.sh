#!/usr/bin/env bash
# test_files_ring.sh: end-to-end test of file sharing: indexing, chunks,
# metafiles and routed downloads, as docs/protocol.md describes them
# ("Files").
#
# Builds the gossiper and the client, writes two files of random bytes into
# node A's _SharedFiles/ (big.bin, 1.5 MiB and 1,000 bytes: 193 chunks, the
# last one short; small.txt, 5,000 bytes: 1 chunk), and starts ten
# gossipers A..J on 127.0.0.1 in a ring (gossip ports 5000-5009, UI ports
# 12345-12354, each knowing only the next) with -rtimer=1, in the background
# and at once, as the graders do, each in a folder of its own under the work
# folder (its own _SharedFiles/ and _Downloads/, as on separate machines;
# never in the repository). Then, like a grader:
#   (a) at once, without waiting for any node to listen, A shares both files
#       with the client (`client -file=NAME`), which must print
#       `<metahash>  NAME`, the metahash being the one the protocol's chunks give
#       (computed here with sha256sum);
#   (b) 3 s after the first launch (a grader's sleep, for the routes), D
#       downloads big.bin from A as big_copy.bin (3 hops one way round, 7
#       the other: whichever its route takes), and F downloads small.txt
#       from A as small_copy.txt (5 hops either way);
#   (c) 3 s after the first download it checks, on a copy of every node's
#       stdout then: the downloaders' bytes equal the originals (cmp); each
#       downloader printed `DOWNLOADING metafile of NEW from A` once, then
#       `DOWNLOADING NEW chunk i from A` once for each i of 1..N and no other
#       chunk, then `RECONSTRUCTED file NEW` once, after them; no other node
#       (those in between among them) printed a DOWNLOADING or RECONSTRUCTED
#       line;
#   (d) D's next hop towards A then (the last DSDV A line D printed: a node
#       in between) downloads big.bin from D as big_again.bin, since a
#       downloaded file is shared in turn; 3 s later, the same checks for it
#       (from D this time, and its bytes equal A's).
# And on every node, at the end: stdout holds only the handout's line kinds,
# DSDV, DOWNLOADING and RECONSTRUCTED lines, no RUMOR line (route rumors
# print none, and nobody chats), names no address but the two neighbours;
# the node was alive at check time and exits on SIGTERM.
# Prints every failed check and a one-line summary; exits 0 if all passed,
# 1 if a check failed, 2 if the test could not run (build failed, a port was
# taken before the start, a node exited before it listened on its ports or
# was still not listening at check time).
#
# Every process it starts is ended by its PID. Set KEEP_OUTPUT=1 to keep the
# work folder (the nodes' output and folders) even when everything passed
# (it is always kept, and its path printed, on failure). RING_GOSSIP_BASE and
# RING_UI_BASE move the ports. The machinery it shares with the other ring
# scripts is in ring_common.sh.

set -u

readonly TEST=test_files_ring
readonly CHECK_AT=3   # seconds after each round of downloads
readonly ROUTES_AT=3  # seconds after the first launch: the first downloads
readonly RTIMER=1     # -rtimer of every node
readonly NODE_DIRS=1  # each node in a folder of its own
readonly CHUNK=8192   # the protocol's chunk size
readonly MAX_LINES=3000 # more stdout lines than this by the end is a storm

# The files A shares: name and size in bytes.
readonly FILES=(big.bin small.txt)
readonly SIZES=($((192 * CHUNK + 1000)) 5000)
readonly SERVER=A
# Round 1: who downloads which of FILES (its index), and as what.
readonly GETTERS=(D F)
readonly GETS=(0 1)
readonly SAVE_AS=(big_copy.bin small_copy.txt)
# Round 2: D's next hop towards A downloads big.bin from D as this.
readonly AGAIN_AS=big_again.bin

cd "$(dirname "$0")" || exit 2
# shellcheck source=ring_common.sh
. ./ring_common.sh || exit 2

# metahash FILE prints the protocol's metahash of FILE: the SHA-256 of its
# chunks' SHA-256s, concatenated in order, in lower-case hex. Only
# coreutils and bash: split cuts the chunks, sha256sum hashes them, and
# printf turns their hex back into bytes.
metahash() {
	local parts hex
	parts=$(mktemp -d "$workdir/chunks.XXXXXX") || abort "mktemp failed"
	split -a 4 -d -b "$CHUNK" -- "$1" "$parts/c" || abort "cannot split $1"
	# split names the chunks c0000, c0001...: the glob sorts them in order.
	hex=$(sha256sum "$parts"/c* | awk '{ printf "%s", $1 }')
	rm -rf "$parts"
	printf '%b' "$(sed 's/../\\x&/g' <<<"$hex")" | sha256sum | awk '{ print $1 }'
}

chunks_of() { echo $((($1 + CHUNK - 1) / CHUNK)); }

# run_client WHAT NODE ARG...: runs the client against NODE's UI port, its
# stdout in $client_out; records a failed check if it exits other than 0.
run_client() {
	local what=$1 rc
	index_of "$2"
	shift 2
	[[ -z $first_post_us ]] && first_post_us=${EPOCHREALTIME/./}
	note "$what: client started"
	client_out=$("$workdir/client" -UIPort="$((UI_BASE + index))" "$@" 2>"$workdir/client.err")
	rc=$?
	note "$what: client exited (status $rc)"
	if ((rc == 0)); then
		pass
	else
		fail "$what: the client exited with status $rc: $(cat "$workdir/client.err")"
	fi
	return "$rc"
}

# snapshot SUFFIX copies every node's stdout to $workdir/NAME.SUFFIX, in
# one process: the copies are of one moment.
snapshot() {
	local i files=()
	for ((i = 0; i < N; i++)); do
		files+=("$(out_file "$i")")
	done
	awk -v suffix=".$1" 'FNR == 1 { if (out != "") close(out); out = FILENAME; sub(/\.out$/, suffix, out) }
		{ print > out }' "${files[@]}"
	for ((i = 0; i < N; i++)); do
		[[ -e $workdir/${NAMES[$i]}.$1 ]] || : >"$workdir/${NAMES[$i]}.$1"
	done
}

# check_download SNAP NODE NEW FROM CHUNKS ORIGINAL: in the stdout copy
# SNAP, node NODE printed the protocol's lines for its download of NEW from
# FROM, a file of CHUNKS chunks: the metafile line once, first; one chunk
# line for each of 1..CHUNKS, each once, none other; RECONSTRUCTED once,
# after the last of them. And its _Downloads/NEW holds ORIGINAL's bytes.
check_download() {
	local snap=$1 node=$2 new=$3 from=$4 chunks=$5 original=$6 i bad report
	local name=${NAMES[$node]} saved
	saved=$(node_dir "$node")/_Downloads/$new
	if cmp -s -- "$original" "$saved"; then
		pass
	else
		fail "node $name: _Downloads/$new is not byte for byte ${original#"$workdir"/}: $(cmp -- "$original" "$saved" 2>&1 | head -n 1)"
	fi
	# One awk over the node's lines about NEW: it prints what is wrong,
	# one problem a line.
	report=$(awk -v new="$new" -v from="$from" -v chunks="$chunks" '
		$1 == "DOWNLOADING" && $2 == "metafile" && $3 == "of" && $4 == new {
			meta++
			if (NF != 6 || $5 != "from" || $6 != from) print "metafile line not from " from ": " $0
			if (meta == 1) meta_at = NR
			next
		}
		$1 == "DOWNLOADING" && $2 == new && $3 == "chunk" {
			if (NF != 6 || $5 != "from" || $6 != from) { print "chunk line not from " from ": " $0; next }
			if ($4 !~ /^[0-9]+$/ || $4 < 1 || $4 > chunks) { print "no chunk " $4 " in a file of " chunks ": " $0; next }
			seen[$4 + 0]++
			if (first_chunk == "") first_chunk = NR
			last_chunk = NR
			next
		}
		$0 == "RECONSTRUCTED file " new { rec++; if (rec == 1) rec_at = NR }
		END {
			if (meta != 1) print "DOWNLOADING metafile of " new " from " from ": printed " meta + 0 " times, want once"
			missing = ""; twice = ""; nm = 0; nt = 0
			for (i = 1; i <= chunks; i++) {
				if (!(i in seen)) { nm++; if (nm <= 5) missing = missing " " i }
				else if (seen[i] > 1) { nt++; if (nt <= 5) twice = twice " " i "(" seen[i] "x)" }
			}
			if (nm > 0) print nm " of the " chunks " chunks have no DOWNLOADING line, e.g." missing
			if (nt > 0) print nt " chunks have more than one DOWNLOADING line, e.g." twice
			if (rec != 1) print "RECONSTRUCTED file " new ": printed " rec + 0 " times, want once"
			if (meta_at != "" && first_chunk != "" && first_chunk < meta_at) print "a chunk line came before the metafile line"
			if (rec_at != "" && last_chunk != "" && rec_at < last_chunk) print "RECONSTRUCTED came before the last chunk line"
		}' "$snap")
	if [[ -z $report ]]; then
		pass
	else
		fail "node $name: its download of $new from $from:"
		indent <<<"$report"
	fi
}

# only_downloaders SNAP NODE...: in the stdout copies SNAP, nodes other than
# NODE... printed no DOWNLOADING or RECONSTRUCTED line, and NODE... none but
# about their own downloads (DL_NEW[NODE]: the names they save as, an ERE).
declare -A DL_NEW=()
only_downloaders() {
	local suffix=$1 i j lines mine
	shift
	for ((i = 0; i < N; i++)); do
		mine=""
		for j in "$@"; do
			((j == i)) && mine=${DL_NEW[$i]}
		done
		if [[ -n $mine ]]; then
			lines=$(grep -aE -- '^(DOWNLOADING|RECONSTRUCTED) ' "$workdir/${NAMES[$i]}.$suffix" |
				grep -avE -- "^(DOWNLOADING metafile of ($mine) from |DOWNLOADING ($mine) chunk |RECONSTRUCTED file ($mine)$)" | head -n 3)
		else
			lines=$(grep -aE -- '^(DOWNLOADING|RECONSTRUCTED) ' "$workdir/${NAMES[$i]}.$suffix" | head -n 3)
		fi
		if [[ -z $lines ]]; then
			pass
		else
			fail "node ${NAMES[$i]}: file lines about no download of its own (e.g. a node on the way printing one):"
			indent <<<"$lines"
		fi
	done
}

build_binaries

# The files are in A's shared folder before A starts, as a grader's would be.
index_of "$SERVER"
server=$index
server_dir=$(node_dir "$server")
mkdir -p "$server_dir/_SharedFiles" || abort "cannot make $server_dir/_SharedFiles"
metas=()
for k in "${!FILES[@]}"; do
	head -c "${SIZES[$k]}" /dev/urandom >"$server_dir/_SharedFiles/${FILES[$k]}" || abort "cannot write ${FILES[$k]}"
	metas+=("$(metahash "$server_dir/_SharedFiles/${FILES[$k]}")")
done

start_ring -rtimer="$RTIMER"

# --- (a) A shares, at once ----------------------------------------------------

for k in "${!FILES[@]}"; do
	if run_client "share ${FILES[$k]} on $SERVER" "$SERVER" -file="${FILES[$k]}"; then
		want="${metas[$k]}  ${FILES[$k]}"
		if [[ $client_out == "$want" ]]; then
			pass
		else
			fail "sharing ${FILES[$k]}: the client printed \"$client_out\", want \"$want\" (the protocol's metahash)"
		fi
	fi
done

# --- (b) downloads through hops, after a grader's sleep for the routes --------

sleep_until_us $((launched_us[0] + ROUTES_AT * 1000000))
first_get_us=""
for g in "${!GETTERS[@]}"; do
	k=${GETS[$g]}
	[[ -z $first_get_us ]] && first_get_us=${EPOCHREALTIME/./}
	index_of "${GETTERS[$g]}"
	DL_NEW[$index]=$(re_escape "${SAVE_AS[$g]}")
	if run_client "download ${FILES[$k]} on ${GETTERS[$g]} from $SERVER" "${GETTERS[$g]}" \
		-file="${SAVE_AS[$g]}" -dest="$SERVER" -request="${metas[$k]}"; then
		want="downloading ${metas[$k]} from $SERVER as ${SAVE_AS[$g]}"
		if [[ $client_out == "$want" ]]; then
			pass
		else
			fail "download on ${GETTERS[$g]}: the client printed \"$client_out\", want \"$want\""
		fi
	fi
done
sleep_until_us $((first_get_us + CHECK_AT * 1000000))
snapshot round1
note "round 1 checked: stdout copied"

# --- (c) round 1's checks -------------------------------------------------------

getter_idx=()
for g in "${!GETTERS[@]}"; do
	k=${GETS[$g]}
	index_of "${GETTERS[$g]}"
	getter_idx+=("$index")
	check_download "$workdir/${GETTERS[$g]}.round1" "$index" "${SAVE_AS[$g]}" "$SERVER" \
		"$(chunks_of "${SIZES[$k]}")" "$server_dir/_SharedFiles/${FILES[$k]}"
done
only_downloaders round1 "${getter_idx[@]}"

# --- (d) a node in between downloads from the downloader -----------------------

first=${getter_idx[0]}
hop=$(grep -aE -- "^DSDV $SERVER $addr_any$" "$workdir/${NAMES[$first]}.round1" | tail -n 1 | awk '{ print $3 }')
again=""
if [[ $hop =~ ^127\.0\.0\.1:([0-9]+)$ ]] && ((BASH_REMATCH[1] - GOSSIP_BASE >= 0 && BASH_REMATCH[1] - GOSSIP_BASE < N)); then
	again=$((BASH_REMATCH[1] - GOSSIP_BASE))
fi
if [[ -z $again || $again == "$server" ]]; then
	fail "node ${NAMES[$first]}: its next hop towards $SERVER is \"$hop\", no node of the ring between them; round 2 not run"
else
	pass
	echo "$TEST: ${NAMES[$first]}'s next hop towards $SERVER is ${NAMES[$again]}, which downloads ${FILES[${GETS[0]}]} from ${NAMES[$first]}"
	DL_NEW[$again]=$(re_escape "$AGAIN_AS")
	again_us=${EPOCHREALTIME/./}
	run_client "download on ${NAMES[$again]} from ${NAMES[$first]}" "${NAMES[$again]}" \
		-file="$AGAIN_AS" -dest="${NAMES[$first]}" -request="${metas[${GETS[0]}]}"
	sleep_until_us $((again_us + CHECK_AT * 1000000))
fi

freeze_outputs

# --- checks at the end ------------------------------------------------------------

if [[ -n $again && $again != "$server" ]]; then
	check_download "$(snap_file "$again")" "$again" "$AGAIN_AS" "${NAMES[$first]}" \
		"$(chunks_of "${SIZES[${GETS[0]}]}")" "$server_dir/_SharedFiles/${FILES[${GETS[0]}]}"
	for ((i = 0; i < N; i++)); do
		cp "$(snap_file "$i")" "$workdir/${NAMES[$i]}.end"
	done
	only_downloaders end "${getter_idx[@]}" "$again"
fi

kinds=("${rumor_kinds[@]}" "DOWNLOADING metafile of [^ ]+ from [^ ]+" "DOWNLOADING [^ ]+ chunk [0-9]+ from [^ ]+" "RECONSTRUCTED file [^ ]+")
for ((i = 0; i < N; i++)); do
	node=${NAMES[$i]}
	rumors=$(grep -aEc -- '^RUMOR ' "$(out_file "$i")")
	if ((rumors == 0)); then
		pass
	else
		fail "node $node: printed $rumors RUMOR lines, but nobody chats (route rumors print none)"
		show "$i" '^RUMOR '
	fi
	expect_only_kinds "$i" "the handout's kinds, DSDV, DOWNLOADING or RECONSTRUCTED" "${kinds[@]}"
	expect_only_neighbours "$i"
	lines=$(wc -l <"$(snap_file "$i")")
	if ((lines <= MAX_LINES)); then
		pass
	else
		fail "node $node: $lines stdout lines by check time (more than $MAX_LINES: a storm?)"
	fi
	line_counts+="$node=$lines "
done

summary
