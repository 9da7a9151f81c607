#!/usr/bin/env bash
# Side-by-side benchmarks: wshost (Go, C and Rust chat plugins, and the same
# chat as a native Go handler) against gorilla's chat example, Centrifugo and
# a Node `ws` broadcast server, with cmd/wsbench. Each run starts one server
# pinned to CPU 0 and the load tool pinned to CPU 1 (-server-pid: the
# server's utime+stime over the run), servers alternate within each
# repetition, and the medians over the repetitions go into BENCHMARKS.md
# between its results markers. `make bench-compare` runs it.
#
# Knobs (environment):
#   REPS=3                   repetitions (medians over them)
#   DURATION=10s WARMUP=2s   measured time and warm-up of each run
#   FANOUT_CONNS=100 RATE=10 fanout/echo/reload: connections, msg/s each
#   IDLE_CONNS=5000          idle: connections held
#   IDLE_SRC=127.0.0.2,127.0.0.3,127.0.0.4   idle: client source addresses
#   SERVERS="wshost-go wshost-c wshost-rust native gorilla centrifugo node-ws"
#   SCENARIOS="fanout echo idle reload"
#   OUT=BENCHMARKS.md        the file to fill ("" or "-": print to stdout)
#   WSHOST_BENCH_CACHE       where setup.sh installed the peers
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/scripts/bench
CACHE=${WSHOST_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wshost-bench}
REPS=${REPS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
FANOUT_CONNS=${FANOUT_CONNS:-100}
RATE=${RATE:-10}
IDLE_CONNS=${IDLE_CONNS:-5000}
IDLE_SRC=${IDLE_SRC:-127.0.0.2,127.0.0.3,127.0.0.4}
SERVERS=${SERVERS:-wshost-go wshost-c wshost-rust native gorilla centrifugo node-ws}
SCENARIOS=${SCENARIOS:-fanout echo idle reload}
OUT=${OUT-$ROOT/BENCHMARKS.md}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}

cd "$ROOT"
"$HERE/setup.sh"
B=$CACHE/bin
[[ -x $B/wsbench ]] || { echo "run.sh: $B/wsbench missing (cmd/wsbench not built)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RES=$CACHE/results/$STAMP
mkdir -p "$RES"
COMMANDS=$RES/commands.txt
: >"$COMMANDS"
TMPDIRS=()
cleanup() {
	[[ -n ${SPID:-} ]] && kill -TERM "$SPID" 2>/dev/null || true
	for d in "${TMPDIRS[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT

# server_cmd NAME: sets PORT, URL, READY (an HTTP path answering once up),
# CMD (the server's argv, run pinned), DIR (its working dir) and EXTRA (more
# wsbench flags: the handshake messages and template peers need).
server_cmd() {
	EXTRA=()
	DIR=$CACHE
	case $1 in
	wshost-go | wshost-c | wshost-rust)
		PORT=8091 READY=/healthz URL="ws://127.0.0.1:8091/ws/chat?room={room}"
		CMD=("$B/wshost" --addr 127.0.0.1:$PORT --log-level warn --metrics=false --cache-dir "$CACHE/wazero-cache")
		local lang=${1#wshost-}
		if [[ $lang != go || $SCEN == reload ]]; then
			# A private copy: reload rewrites it.
			local d
			d=$(mktemp -d) && TMPDIRS+=("$d")
			cp "$CACHE/plugins-$lang/chat.wasm" "$d/chat.wasm"
			PLUGDIR=$d
			CMD+=(--plugins "$d")
			if [[ $SCEN == reload ]]; then
				# A fresh compilation cache (the last --cache-dir wins):
				# every reload is a version never compiled before, as in
				# production; the shared cache would hold the versions of
				# the first repetition when the next one runs.
				mkdir "$d-cache" && TMPDIRS+=("$d-cache")
				CMD+=(--cache-dir "$d-cache")
			fi
		fi ;;
	native)
		PORT=8094 READY=/healthz URL="ws://127.0.0.1:8094/ws/chat?room={room}"
		CMD=("$B/wshost" --addr 127.0.0.1:$PORT --log-level warn --metrics=false --builtin-chat native) ;;
	gorilla)
		# One hub: every client is in the one room, whatever {room} is.
		PORT=8092 READY=/ URL="ws://127.0.0.1:8092/ws" DIR=$CACHE/gorilla
		CMD=("$B/chat" -addr 127.0.0.1:$PORT) ;;
	centrifugo)
		PORT=8095 READY= URL="ws://127.0.0.1:8095/connection/websocket"
		CMD=("$B/centrifugo" --config "$CACHE/centrifugo.json")
		EXTRA=(-hello '{"id":1,"connect":{}}' -hello '{"id":2,"subscribe":{"channel":"{room}"}}'
			# "1{seq}": a command id must not be 0 (Centrifugo closes 3501).
			-template '{"id":1{seq},"publish":{"channel":"{room}","data":{"t":"{ts}"}}}') ;;
	node-ws)
		PORT=8093 READY= URL="ws://127.0.0.1:8093/?room={room}" DIR=$CACHE/node-ws
		CMD=(node "$CACHE/node-ws/server.js" $PORT) ;;
	*) echo "run.sh: unknown server $1" >&2; exit 2 ;;
	esac
}

# scenario_args SCENARIO SERVER: the wsbench flags of a scenario, or nothing
# when the pair is not run.
scenario_args() {
	case $1 in
	fanout) ARGS=(-conns "$FANOUT_CONNS" -rooms 1 -rate "$RATE" -duration "$DURATION" -warmup "$WARMUP") ;;
	echo)
		# Every connection alone in its room, so the server relays each
		# message to its sender only. The gorilla example has one room for
		# everyone: echo is not something it can do.
		[[ $2 == gorilla ]] && return 1
		ARGS=(-conns "$FANOUT_CONNS" -rooms "$FANOUT_CONNS" -rate "$RATE" -duration "$DURATION" -warmup "$WARMUP") ;;
	idle)
		# Every connection alone in its room: the chat announces each join to
		# the room, which in one room of N is N²/2 messages while connecting,
		# not idling (the gorilla example has one hub whatever the URL).
		ARGS=(-conns "$IDLE_CONNS" -rooms "$IDLE_CONNS" -src "$IDLE_SRC" -duration "$DURATION" -warmup "$WARMUP") ;;
	reload)
		[[ $2 == wshost-* ]] || return 1
		ARGS=(-conns "$FANOUT_CONNS" -rooms 1 -rate "$RATE" -duration "$DURATION" -warmup "$WARMUP"
			-reload-file "$PLUGDIR/chat.wasm" -reload-every 1s) ;;
	esac
}

wait_ready() { # PORT PATH
	local i
	for i in $(seq 1 200); do
		# With a path, a 2xx (wshost's /healthz: plugins loaded); without,
		# any HTTP answer.
		if [[ -n $2 ]]; then curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$1$2" && return 0
		else curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/" && return 0; fi
		sleep 0.05
	done
	return 1
}

stop_server() {
	local i
	kill -TERM "$SPID" 2>/dev/null || return 0
	for i in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$SPID" 2>/dev/null || true
	wait "$SPID" 2>/dev/null || true
	SPID=
}

run_one() { # REP SCENARIO SERVER
	local rep=$1 out=$RES/$2.$3.$rep.json
	SCEN=$2 PLUGDIR=
	server_cmd "$3"
	if ! scenario_args "$2" "$3"; then return 0; fi
	(cd "$DIR" && exec taskset -c "$SERVER_CPU" "${CMD[@]}") >"$RES/$2.$3.$rep.server.log" 2>&1 &
	SPID=$!
	if ! wait_ready "$PORT" "$READY"; then
		echo "run.sh: $3 did not come up (log: $RES/$2.$3.$rep.server.log)" >&2
		stop_server
		return 0
	fi
	local bench=(taskset -c "$LOAD_CPU" "$B/wsbench" -scenario "$2" -url "$URL" "${ARGS[@]}" "${EXTRA[@]}" -server-pid "$SPID" -json)
	if [[ $rep == 1 ]]; then
		{
			printf '# %s / %s\n(cd %s && taskset -c %s' "$2" "$3" "$DIR" "$SERVER_CPU"
			printf ' %q' "${CMD[@]}"
			printf ') &\n'
			printf '%q ' "${bench[@]:0:$((${#bench[@]} - 3))}"
			printf -- '-server-pid $SERVER_PID -json'
		} | { if [[ -n $PLUGDIR ]]; then sed "s|$PLUGDIR|\$PLUGINS|g; 1a # PLUGINS: a copy of $CACHE/plugins-${3#wshost-}"; else cat; fi; } >>"$COMMANDS"
		{
			printf '\n\n'
		} >>"$COMMANDS"
	fi
	echo "== rep $rep: $2 / $3" >&2
	if ! "${bench[@]}" >"$out" 2>"$RES/$2.$3.$rep.wsbench.log"; then
		echo "run.sh: wsbench failed for $2/$3 rep $rep (log: $RES/$2.$3.$rep.wsbench.log)" >&2
		tail -3 "$RES/$2.$3.$rep.wsbench.log" >&2 || true
	fi
	stop_server
	sleep 0.5 # let the sockets of the last run leave TIME_WAIT pressure behind
}

for rep in $(seq 1 "$REPS"); do
	for scen in $SCENARIOS; do
		for srv in $SERVERS; do run_one "$rep" "$scen" "$srv"; done
	done
done

# Machine and versions, for the report.
{
	echo "nproc=$(nproc)"
	echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
	echo "kernel=$(uname -srm)"
	echo "mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
	echo "nofile=$(ulimit -n)"
	echo "go=$(go version | cut -d' ' -f3-)"
	echo "node=$(node --version)"
	echo "ws=$(node -p "require('$CACHE/node-ws/node_modules/ws/package.json').version")"
	echo "gorilla=$(cat "$B/.chat.version")"
	echo "centrifugo=$(cat "$B/.centrifugo.version")"
	echo "wshost=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
	echo "params=$REPS repetitions of $DURATION (after $WARMUP of warm-up); fanout/echo/reload $FANOUT_CONNS connections × $RATE msg/s; idle $IDLE_CONNS connections from $IDLE_SRC"
	echo "servers=$SERVERS"
	echo "scenarios=$SCENARIOS"
} >"$RES/machine.txt"

python3 "$HERE/report.py" "$RES" "${OUT:--}"
echo "run.sh: raw results in $RES" >&2
