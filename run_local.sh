#!/usr/bin/env bash
# run_local.sh: try Peerster on this machine. Builds the gossiper and the
# client into a temporary folder (the source tree is left as it is), starts
# three gossipers in a line, Alice - Bob - Carol, on 127.0.0.1, each with its
# web page, and shows what they say until Ctrl-C (SIGINT) or SIGTERM.
#
#	./run_local.sh             # shows what people say
#	VERBOSE=1 ./run_local.sh   # shows every line the nodes print
#	./run_local.sh --help      # prints this text
#
# What it shows. A node prints a line for each protocol event, some nine a
# second when idle (STATUS, IN SYNC WITH, PEERS, MONGERING). After saying
# where the pages are, the script prints on its stdout only the lines of
# what people say and what it leads to, of the three nodes merged, each
# after its node's name:
#
#	[Alice] CLIENT MESSAGE Hello from Alice
#	[Bob] RUMOR origin Alice from 127.0.0.1:5000 ID 2 contents Hello from Alice
#	[Carol] PRIVATE origin Alice hop-limit 9 contents Hi Carol
#	[Carol] DSDV Alice 127.0.0.1:5001
#	[Carol] DOWNLOADING report.pdf chunk 1 from Alice
#	[Carol] RECONSTRUCTED file report.pdf
#
# and the lines a node writes on stderr, which are few (its page, a file it
# shares, warnings such as someone posting under its name), without their
# time: "[Bob] level=WARN msg=...". VERBOSE=1 prints every line of both.
#
# Logs. Whatever it shows, each node's whole stdout and stderr go to NAME.log
# and NAME.err in $LOG_DIR, by default $NODES_DIR/logs (nodes/logs beside
# this script), replaced at each run and kept after it. The script names
# them at start. To watch one node in full: tail -f nodes/logs/Bob.log
#
# Ports. Node i (0 Alice, 1 Bob, 2 Carol) gossips on
# 127.0.0.1:$GOSSIP_PORT+i, takes the client on UI port $UI_PORT+i and
# serves its page on http://127.0.0.1:$GUI_PORT+i/. The defaults are 5000,
# 10000 and 8080; set the variables to move them. With -rtimer=5 every node
# sends a route rumor at start and every 5 s, so each knows a route to the
# others at once and a private message can go from Alice to Carol through
# Bob.
#
# Folders. Each node runs in $NODES_DIR/NAME (nodes/NAME by default), which
# holds its _SharedFiles/ (put files there to share them) and _Downloads/.
# A relative NODES_DIR or LOG_DIR is taken from the current folder.
#
# Stopping. Ctrl-C (SIGINT, also with the output piped, as in
# ./run_local.sh | tee log) or SIGTERM stops the three nodes, by their PIDs,
# removes the temporary folder, says so on stderr, and exits 0:
#
#	run_local: stopped Alice, Bob and Carol; logs kept in .../nodes/logs; removed /tmp/peerster-local.XXXXXX
#
# If its stdout is closed (tee stopped alone), the view stops and the nodes
# run on until then.
# It exits 1 if the build fails or a node does not come up or stops by
# itself (saying why), 2 on a wrong argument. (A script that starts it in
# the background should stop it with SIGTERM: bash ignores SIGINT in the
# background jobs of a non-interactive shell, and a shell cannot trap a
# signal ignored when it starts.)

set -u

case $#:${1-} in
0:) ;;
1:-h | 1:--help)
	awk 'NR > 1 { if (!/^#/) exit; sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"
	exit 0
	;;
*)
	echo "run_local: unexpected argument ${1-} (see --help)" >&2
	exit 2
	;;
esac

readonly NAMES=(Alice Bob Carol)
readonly GOSSIP_PORT=${GOSSIP_PORT:-5000}
readonly UI_PORT=${UI_PORT:-10000}
readonly GUI_PORT=${GUI_PORT:-8080}
readonly VERBOSE=${VERBOSE:-0}
readonly RTIMER=5
readonly UP_WITHIN=15 # seconds for the pages to answer

for v in GOSSIP_PORT UI_PORT GUI_PORT; do
	if [[ ! ${!v} =~ ^[0-9]+$ ]] || ((${!v} < 1 || ${!v} + 2 > 65535)); then
		echo "run_local: $v=${!v} is not a port number" >&2
		exit 1
	fi
done
if [[ $VERBOSE != [01] ]]; then
	echo "run_local: VERBOSE=$VERBOSE: set it to 1 to see every line, 0 (the default) for what people say" >&2
	exit 1
fi
if ! command -v go >/dev/null; then
	echo "run_local: go is not installed (https://go.dev/doc/install)" >&2
	exit 1
fi

# Relative folders are the user's, from where the script was started.
[[ -n ${NODES_DIR-} && $NODES_DIR != /* ]] && NODES_DIR=$PWD/$NODES_DIR
[[ -n ${LOG_DIR-} && $LOG_DIR != /* ]] && LOG_DIR=$PWD/$LOG_DIR
cd "$(dirname "${BASH_SOURCE[0]}")" || exit 1
# running: only a node or view of this script that still runs is signalled.
# shellcheck source=jobs_common.sh
. ./jobs_common.sh || exit 1
# Each node's working folder, with its _SharedFiles/ and _Downloads/.
NODES_DIR=${NODES_DIR:-$PWD/nodes}
logs=${LOG_DIR:-$NODES_DIR/logs}

pids=()   # the nodes', by index in NAMES; "" once reaped
view=()   # the tail and the awk that print what the nodes say
nap=""    # the sleep the main loop waits on
tmp=""    # the temporary folder, with the binaries
started=0 # whether the nodes were started (and their logs written)
signalled=0

# say writes its arguments on stderr, whatever became of stdout: the
# messages of the end must reach the user even when tee stopped first.
say() {
	echo "run_local: $*" >&2
}

# end_all sends SIGTERM to those of the given PIDs still running, waits up to
# 5 s for them to exit, then sends SIGKILL to any left, and reaps them.
end_all() {
	local pid left i
	for pid in "$@"; do
		running "$pid" && kill "$pid" 2>/dev/null
	done
	for ((i = 0; i < 50; i++)); do
		left=0
		for pid in "$@"; do
			running "$pid" && left=1
		done
		((left)) || break
		sleep 0.1
	done
	for pid in "$@"; do
		[[ -n $pid ]] || continue
		if running "$pid"; then
			say "pid $pid did not stop within 5 s of SIGTERM; killing it"
			kill -KILL "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
	done
}

# and_list joins its arguments as in "Alice, Bob and Carol".
and_list() {
	local out=$1
	shift
	while (($# > 1)); do
		out+=", $1"
		shift
	done
	(($# == 1)) && out+=" and $1"
	printf '%s' "$out"
}

# quit stops the nodes still running and the view, by their PIDs, removes
# the temporary folder, says what it did on stderr, and exits with the
# given status. Nothing stops it halfway: not another Ctrl-C, nor a closed
# stdout or stderr.
quit() {
	local i stopped=() msg=""
	trap '' INT TERM HUP PIPE
	# (${a[@]+"${a[@]}"}: macOS's bash 3.2 calls an empty array unset.)
	for i in ${pids[@]+"${!pids[@]}"}; do
		[[ -n ${pids[$i]} ]] && stopped+=("${NAMES[$i]}")
	done
	end_all "$nap" ${pids[@]+"${pids[@]}"}
	pids=()
	# The view last, so that it may still show the nodes' last lines.
	end_all ${view[@]+"${view[@]}"}
	view=()
	((${#stopped[@]} > 0)) && msg+="; stopped $(and_list "${stopped[@]}")"
	((started)) && msg+="; logs kept in $logs"
	if [[ -z $tmp ]]; then
		:
	elif rm -rf "$tmp"; then
		msg+="; removed $tmp"
	else
		msg+="; could not remove $tmp"
	fi
	# On a terminal, past the ^C it echoed.
	((signalled)) && [[ -t 2 ]] && echo >&2
	[[ -n $msg ]] && say "${msg#; }"
	exit "$1"
}

trap 'signalled=1; quit 0' INT TERM HUP
# A closed stdout (tee stopped first) makes the script's own writes fail
# rather than kill it, so that it still cleans up. A trapped signal, unlike
# an ignored one, is reset in children: the view's tail and awk die of
# SIGPIPE as usual.
trap ':' PIPE

tmp=$(mktemp -d "${TMPDIR:-/tmp}/peerster-local.XXXXXX") || quit 1
echo "run_local: building the gossiper and the client into $tmp"
if ! go build -o "$tmp/Peerster" . || ! go build -o "$tmp/client" ./client; then
	say "the build failed"
	quit 1
fi
mkdir -p "$logs" || quit 1

started=1
for i in 0 1 2; do
	peers=()
	((i > 0)) && peers+=("127.0.0.1:$((GOSSIP_PORT + i - 1))")
	((i < 2)) && peers+=("127.0.0.1:$((GOSSIP_PORT + i + 1))")
	# Each node runs in a folder of its own, where its _SharedFiles/ and
	# _Downloads/ are, and which outlives the script.
	dir="$NODES_DIR/${NAMES[$i]}"
	mkdir -p "$dir" || quit 1
	(cd "$dir" && exec "$tmp/Peerster" -name="${NAMES[$i]}" -gossipAddr="127.0.0.1:$((GOSSIP_PORT + i))" \
		-UIPort="$((UI_PORT + i))" -GUIPort="$((GUI_PORT + i))" \
		-peers="$(IFS=,; echo "${peers[*]}")" -rtimer="$RTIMER" \
		>"$logs/${NAMES[$i]}.log" 2>"$logs/${NAMES[$i]}.err") &
	pids+=($!)
done

# page_answers I tells whether node I's page answers GET /id with its name
# (not some other program that holds the port).
page_answers() {
	local url="http://127.0.0.1:$((GUI_PORT + $1))/id" body
	if command -v curl >/dev/null; then
		body=$(curl -fsS --max-time 1 "$url" 2>/dev/null) || return 1
	else
		body=$( (exec 3<>"/dev/tcp/127.0.0.1/$((GUI_PORT + $1))" &&
			printf 'GET /id HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 && cat <&3) 2>/dev/null) || return 1
	fi
	[[ $body == *"\"${NAMES[$1]}\""* ]]
}

# died I says node I stopped and why, and quits with status 1.
died() {
	wait "${pids[$1]}"
	say "${NAMES[$1]} stopped (exit status $?); its stderr:"
	sed 's/^/    /' "$logs/${NAMES[$1]}.err" >&2
	pids[$1]=""
	quit 1
}

for ((t = 0; t < UP_WITHIN * 10; t++)); do
	up=0
	for i in 0 1 2; do
		running "${pids[$i]}" || died "$i"
		page_answers "$i" && up=$((up + 1))
	done
	((up == 3)) && break
	sleep 0.1
done
if ((up < 3)); then
	for i in 0 1 2; do
		page_answers "$i" && continue
		say "${NAMES[$i]}'s page does not answer on http://127.0.0.1:$((GUI_PORT + i))/ after ${UP_WITHIN}s (is the port taken? set GUI_PORT); its stderr:"
		sed 's/^/    /' "$logs/${NAMES[$i]}.err" >&2
	done
	quit 1
fi

if ((VERBOSE)); then
	shown="Every line the nodes print shows below"
else
	shown="What people say shows below (VERBOSE=1 shows every line)"
fi
cat <<EOF

Three Peerster nodes run in a line, Alice - Bob - Carol:

  Alice  http://127.0.0.1:$GUI_PORT/   gossip 127.0.0.1:$GOSSIP_PORT  UI port $UI_PORT  pid ${pids[0]}
  Bob    http://127.0.0.1:$((GUI_PORT + 1))/   gossip 127.0.0.1:$((GOSSIP_PORT + 1))  UI port $((UI_PORT + 1))  pid ${pids[1]}
  Carol  http://127.0.0.1:$((GUI_PORT + 2))/   gossip 127.0.0.1:$((GOSSIP_PORT + 2))  UI port $((UI_PORT + 2))  pid ${pids[2]}

Open a page and chat; or post with the client, to everyone:

  $tmp/client -UIPort=$UI_PORT -msg='Hello from Alice'

or privately, from Alice to Carol (through Bob):

  $tmp/client -UIPort=$UI_PORT -dest=Carol -msg='Hi Carol'

$shown, each after its node's name.
The nodes' whole stdout and stderr: $logs/NAME.log and NAME.err
(to watch one: tail -f $logs/Bob.log).
Ctrl-C stops the three nodes.

EOF

# The view: tail follows the six logs from their first line and, before the
# lines of each file, writes a header "==> FILE <=="; awk picks the lines
# and puts the node's name before them. They meet through a FIFO so that
# both PIDs are known, to stop both at the end.
mkfifo "$tmp/view" || quit 1
(cd "$logs" && exec tail -n +1 -f Alice.log Alice.err Bob.log Bob.err Carol.log Carol.err) >"$tmp/view" &
view+=($!)
# mawk, Debian's awk, reads a pipe 4 KB at a time, holding back lines for
# seconds, unless -W interactive.
awk_opts=()
case $(awk -W version 2>&1 </dev/null) in *mawk*) awk_opts=(-W interactive) ;; esac
awk ${awk_opts[@]+"${awk_opts[@]}"} -v verbose="$VERBOSE" '
/^==> [A-Za-z]+\.(log|err) <==$/ {
	name = substr($0, 5, length($0) - 12)
	err = $0 ~ /\.err <==$/
	next
}
$0 == "" || name == "" { next }
verbose == 1 { print "[" name "] " $0; fflush(); next }
err { sub(/^time=[^ ]* /, ""); print "[" name "] " $0; fflush(); next }
/^(CLIENT MESSAGE|RUMOR origin|PRIVATE origin|SIMPLE MESSAGE origin|DSDV|DOWNLOADING|RECONSTRUCTED) / {
	print "[" name "] " $0; fflush()
}' <"$tmp/view" &
view+=($!)

# Wait until a signal, or until a node stops by itself. A sleep in the
# background and wait on it: wait returns at once when a signal comes.
while :; do
	sleep 1 &
	nap=$!
	wait "$nap"
	nap=""
	for i in 0 1 2; do
		running "${pids[$i]}" || died "$i"
	done
done
