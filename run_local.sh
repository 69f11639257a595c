#!/usr/bin/env bash
# run_local.sh: try Peerster on this machine. Builds the gossiper and the
# client (into a temporary folder: the source tree is left as it is), starts
# three gossipers in a line, Alice - Bob - Carol, on 127.0.0.1, each with its
# web page, and waits until Ctrl-C (SIGINT) or SIGTERM, when it stops the
# three, by their PIDs, and exits 0.
#
#	./run_local.sh
#
# Node i (0 Alice, 1 Bob, 2 Carol) gossips on 127.0.0.1:$GOSSIP_PORT+i,
# takes the client on UI port $UI_PORT+i and serves its page on
# http://127.0.0.1:$GUI_PORT+i/. The defaults are 5000, 10000 and 8080; set
# the variables to move them. With -rtimer=5 every node sends a route rumor
# at start and every 5 s, so each knows a route to the others at once and a
# private message can go from Alice to Carol through Bob.
#
# Each node runs in $NODES_DIR/NAME (./nodes/NAME by default), which holds
# its _SharedFiles/ (put files there to share them) and _Downloads/.
#
# The nodes' stdout and stderr go to NAME.log and NAME.err in $LOG_DIR if it
# is set (kept), else in the temporary folder (removed at the end). It
# exits 1 if the build fails or a node does not come up or stops by itself
# (saying why), 0 when stopped. (A script that starts it in the background
# should stop it with SIGTERM: bash ignores SIGINT in the background jobs of
# a non-interactive shell, and a shell cannot trap a signal ignored when it
# starts.)

set -u

readonly NAMES=(Alice Bob Carol)
readonly GOSSIP_PORT=${GOSSIP_PORT:-5000}
readonly UI_PORT=${UI_PORT:-10000}
readonly GUI_PORT=${GUI_PORT:-8080}
readonly RTIMER=5
readonly UP_WITHIN=15 # seconds for the pages to answer

cd "$(dirname "$0")" || exit 1
# Each node's working folder, with its _SharedFiles/ and _Downloads/.
NODES_DIR=${NODES_DIR:-$PWD/nodes}

pids=()
nap=""
tmp=$(mktemp -d "${TMPDIR:-/tmp}/peerster-local.XXXXXX") || exit 1
logs=${LOG_DIR:-$tmp}

# running tells whether PID is one of this script's nodes that has not
# exited: only such a PID is signalled (a PID that has exited may be reused
# by another process).
running() {
	local pid
	[[ -n $1 ]] || return 1
	for pid in $(jobs -rp); do
		[[ $pid == "$1" ]] && return 0
	done
	return 1
}

# stop ends the nodes still running, by their PIDs: SIGTERM, then SIGKILL
# for one that has not exited 5 s later.
stop() {
	local pid i
	trap - INT TERM HUP
	running "$nap" && kill "$nap"
	for pid in "${pids[@]}"; do
		running "$pid" && kill "$pid"
	done
	for pid in "${pids[@]}"; do
		[[ -n $pid ]] || continue
		for ((i = 0; i < 50; i++)); do
			running "$pid" || break
			sleep 0.1
		done
		if running "$pid"; then
			echo "run_local: pid $pid did not stop within 5 s of SIGTERM; killing it" >&2
			kill -KILL "$pid"
		fi
		wait "$pid" 2>/dev/null
	done
	pids=()
	rm -rf "$tmp"
}

# quit stops everything and exits with the given status.
quit() {
	stop
	exit "$1"
}

trap 'echo; echo "run_local: stopping the nodes"; quit 0' INT TERM HUP

for v in GOSSIP_PORT UI_PORT GUI_PORT; do
	if [[ ! ${!v} =~ ^[0-9]+$ ]] || ((${!v} < 1 || ${!v} + 2 > 65535)); then
		echo "run_local: $v=${!v} is not a port number" >&2
		quit 1
	fi
done
if ! command -v go >/dev/null; then
	echo "run_local: go is not installed (https://go.dev/doc/install)" >&2
	quit 1
fi

echo "run_local: building the gossiper and the client into $tmp"
if ! go build -o "$tmp/Peerster" . || ! go build -o "$tmp/client" ./client; then
	echo "run_local: the build failed" >&2
	quit 1
fi
mkdir -p "$logs" || quit 1

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
	echo "run_local: ${NAMES[$1]} stopped (exit status $?); its stderr:" >&2
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
		echo "run_local: ${NAMES[$i]}'s page does not answer on http://127.0.0.1:$((GUI_PORT + i))/ after ${UP_WITHIN}s (is the port taken? set GUI_PORT); its stderr:" >&2
		sed 's/^/    /' "$logs/${NAMES[$i]}.err" >&2
	done
	quit 1
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

The nodes' output: tail -f $logs/*.log
Ctrl-C stops the three nodes.
EOF

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
