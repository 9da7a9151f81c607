#!/usr/bin/env bash
# Cluster benchmarks (issue 7): wshost nodes joined over NATS, loaded by
# cmd/wsbench with its clients spread round-robin over the nodes.
#
#   fanout  CONNS connections × RATE msg/s in one room, against one node
#           without NATS (the baseline), then 1, 2 and 3 nodes joined over
#           NATS; REPS repetitions, the configurations alternating within
#           each; medians. Server CPU is the nodes' utime+stime summed, per
#           delivery; the NATS server's is reported apart.
#   idle    IDLE_TOTAL connections held across IDLE_NODES nodes joined over
#           NATS, from one wsbench process per node (a process may open
#           20,000 files here), each from two 127.0.0.x source addresses of
#           its own (ephemeral ports run out at ~28k per source address);
#           server RSS per connection summed over the nodes, the connect
#           rate, the NATS server's RSS, and every connection counted.
#
# Servers and NATS are pinned to CPU SERVER_CPU, the load tool to LOAD_CPU
# (taskset), as in run.sh. Everything listens on and dials 127.0.0.x only.
# `make bench-cluster` runs it; it is not part of `make test`.
#
# Knobs (environment):
#   REPS=3 DURATION=10s WARMUP=2s     fanout repetitions and timing
#   CONNS=100 RATE=10                 fanout connections, msg/s each
#   CONFIGS="single c1 c2 c3"         fanout: single = one node without NATS,
#                                     cN = N nodes joined over NATS
#   SCENARIOS="fanout idle"
#   IDLE_TOTAL=100000 IDLE_NODES=6    idle connections and nodes
#   IDLE_RUNS="nats:0 nats:250 standalone:0"
#                                     idle runs, MODE:RATE each: nats = the
#                                     nodes joined over NATS, standalone =
#                                     the same nodes without NATS (what the
#                                     cluster adds); RATE = connections each
#                                     wsbench process opens per second (0: as
#                                     fast as it can, 64 handshakes at once)
#   IDLE_HOLD=15s                     idle: how long every connection is held
#                                     after the last one opened
#   IDLE_STALL=30                     idle: seconds without a new connection
#                                     after which the count is taken as final
#   BASE_PORT=8301 NATS_PORT=4222     node i listens on BASE_PORT+i-1
#   OUT=BENCHMARKS.md                 where the markdown goes, between the
#                                     cluster results markers ("-": stdout)
#   WSHOST_BENCH_CACHE                binaries and results (as run.sh)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/scripts/bench
CACHE=${WSHOST_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wshost-bench}
GO=${GO:-go}
REPS=${REPS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNS=${CONNS:-100}
RATE=${RATE:-10}
CONFIGS=${CONFIGS:-single c1 c2 c3}
SCENARIOS=${SCENARIOS:-fanout idle}
IDLE_TOTAL=${IDLE_TOTAL:-100000}
IDLE_NODES=${IDLE_NODES:-6}
IDLE_RUNS=${IDLE_RUNS:-nats:0 nats:250 standalone:0}
IDLE_HOLD=${IDLE_HOLD:-15s}
IDLE_STALL=${IDLE_STALL:-30}
BASE_PORT=${BASE_PORT:-8301}
NATS_PORT=${NATS_PORT:-4222}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
OUT=${OUT-$ROOT/BENCHMARKS.md}

cd "$ROOT"
B=$CACHE/bin
mkdir -p "$B"
echo "cluster: building wshost, wsbench and nats-server into $B" >&2
$GO build -o "$B/wshost" ./cmd/wshost
$GO build -o "$B/wsbench" ./cmd/wsbench
$GO build -o "$B/nats-server" github.com/nats-io/nats-server/v2
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RES=$CACHE/results-cluster/$STAMP
mkdir -p "$RES"
COMMANDS=$RES/commands.txt
: >"$COMMANDS"

NODE_PIDS=() BENCH_PIDS=() NATS_PID= TMP=
cleanup() {
	local p
	for p in "${BENCH_PIDS[@]}" "${NODE_PIDS[@]}" $NATS_PID; do kill -TERM "$p" 2>/dev/null || true; done
	sleep 0.5
	for p in "${BENCH_PIDS[@]}" "${NODE_PIDS[@]}" $NATS_PID; do kill -KILL "$p" 2>/dev/null || true; done
	[[ -n $TMP ]] && rm -rf "$TMP"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop() { # PID...: TERM, up to 5 s, then KILL
	local p i
	for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "$@"; do
		for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

stop_all() {
	stop "${BENCH_PIDS[@]}" "${NODE_PIDS[@]}"
	[[ -n $NATS_PID ]] && stop "$NATS_PID"
	BENCH_PIDS=() NODE_PIDS=() NATS_PID=
	[[ -n $TMP ]] && rm -rf "$TMP"
	TMP=
}

NATS_CMD=()
start_nats() { # LOG
	TMP=$(mktemp -d)
	NATS_CMD=("$B/nats-server" -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$TMP/js")
	taskset -c "$SERVER_CPU" "${NATS_CMD[@]}" >"$1" 2>&1 &
	NATS_PID=$!
	local i
	for i in $(seq 1 200); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null; then return 0; fi
		sleep 0.05
	done
	echo "cluster: nats-server did not come up (log: $1)" >&2
	return 1
}

NODE_CMD=()
node_cmd() { # I NATS(yes|no)
	NODE_CMD=("$B/wshost" --addr "127.0.0.1:$((BASE_PORT + $1 - 1))" --log-level warn --metrics=false
		--cache-dir "$CACHE/wazero-cache")
	[[ $2 == yes ]] && NODE_CMD+=(--nats "nats://127.0.0.1:$NATS_PORT")
	return 0
}

start_nodes() { # N NATS(yes|no) LOGPREFIX
	local i
	for i in $(seq 1 "$1"); do
		node_cmd "$i" "$2"
		taskset -c "$SERVER_CPU" "${NODE_CMD[@]}" >"$3.node$i.log" 2>&1 &
		NODE_PIDS+=($!)
	done
	for i in $(seq 1 "$1"); do
		local port=$((BASE_PORT + i - 1)) j ok=
		for j in $(seq 1 400); do
			if curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz"; then ok=1; break; fi
			sleep 0.05
		done
		[[ -n $ok ]] || { echo "cluster: node $i did not come up (log: $3.node$i.log)" >&2; return 1; }
	done
}

join() { local IFS=$1; shift; echo "$*"; }

# cpu_tasks N: CPU N's jiffies in tasks (user nice system); cpu_irq N: in
# interrupts (irq softirq: on loopback, much of the receive path of what
# the nodes send runs here, charged to no process).
cpu_tasks() { awk -v c="cpu$1" '$1 == c {print $2 + $3 + $4}' /proc/stat; }
cpu_irq() { awk -v c="cpu$1" '$1 == c {print $7 + $8}' /proc/stat; }
# pid_cpu PID...: their utime+stime summed, in jiffies.
pid_cpu() {
	local s=0 p v
	for p in "$@"; do
		v=$(awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$p/stat" 2>/dev/null || true)
		s=$((s + ${v:-0}))
	done
	echo $s
}

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
sum_rss() { local s=0 p; for p in "$@"; do s=$((s + $(rss "$p"))); done; echo $s; }

# fanout_one REP CONFIG
fanout_one() {
	local rep=$1 cfg=$2 n nats base=$RES/fanout.$2.$1
	case $cfg in
	single) n=1 nats=no ;;
	c[0-9]*) n=${cfg#c} nats=yes ;;
	*) echo "cluster: unknown config $cfg" >&2; exit 2 ;;
	esac
	if [[ $nats == yes ]]; then start_nats "$base.nats.log" || { stop_all; return 0; }; fi
	start_nodes "$n" "$nats" "$base" || { stop_all; return 0; }
	local urls=() i
	for i in $(seq 1 "$n"); do urls+=(-url "ws://127.0.0.1:$((BASE_PORT + i - 1))/ws/chat?room={room}"); done
	local bench=(taskset -c "$LOAD_CPU" "$B/wsbench" -scenario fanout "${urls[@]}" -conns "$CONNS" -rooms 1
		-rate "$RATE" -duration "$DURATION" -warmup "$WARMUP" -server-pid "$(join , "${NODE_PIDS[@]}")")
	[[ $nats == yes ]] && bench+=(-broker-pid "$NATS_PID")
	bench+=(-json)
	if [[ $rep == 1 ]]; then
		{
			echo "# fanout / $cfg"
			[[ $nats == yes ]] && { printf 'taskset -c %s' "$SERVER_CPU"; printf ' %q' "${NATS_CMD[@]}" | sed "s|$TMP|\$JS|g"; printf ' &  # $JS: an empty dir\n'; }
			for i in $(seq 1 "$n"); do
				node_cmd "$i" "$nats"
				printf '(cd %s && taskset -c %s' "$ROOT" "$SERVER_CPU"; printf ' %q' "${NODE_CMD[@]}"; printf ') &\n'
			done
			printf '%q ' "${bench[@]}" | sed -E 's/-server-pid [0-9\\,]+/-server-pid $NODE_PIDS/; s/-broker-pid [0-9]+/-broker-pid $NATS_PID/'
			printf '\n\n'
		} >>"$COMMANDS"
	fi
	echo "== rep $rep: fanout / $cfg" >&2
	# What else ran on the servers' CPU meanwhile: its busy time less the
	# nodes' and NATS's (the machine may be shared).
	local ours=("${NODE_PIDS[@]}") busy0 irq0 own0 t0
	[[ -n $NATS_PID ]] && ours+=("$NATS_PID")
	busy0=$(cpu_tasks "$SERVER_CPU") irq0=$(cpu_irq "$SERVER_CPU") own0=$(pid_cpu "${ours[@]}") t0=$(date +%s.%N)
	if ! "${bench[@]}" >"$base.json" 2>"$base.wsbench.log"; then
		echo "cluster: wsbench failed for fanout/$cfg rep $rep (log: $base.wsbench.log)" >&2
		tail -3 "$base.wsbench.log" >&2 || true
	fi
	local busy1 irq1 own1 t1
	busy1=$(cpu_tasks "$SERVER_CPU") irq1=$(cpu_irq "$SERVER_CPU") own1=$(pid_cpu "${ours[@]}") t1=$(date +%s.%N)
	{
		# Percent of the servers' CPU over the whole wsbench run (connect,
		# warm-up, measure, close), jiffies being 1/100 s.
		echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
		echo "server_cpu_ours_pct=$(awk "BEGIN {printf \"%.1f\", ($own1 - $own0) / ($t1 - $t0)}")"
		echo "server_cpu_foreign_pct=$(awk "BEGIN {printf \"%.1f\", ($busy1 - $busy0 - ($own1 - $own0)) / ($t1 - $t0)}")"
		echo "server_cpu_irq_pct=$(awk "BEGIN {printf \"%.1f\", ($irq1 - $irq0) / ($t1 - $t0)}")"
	} >"$base.load"
	stop_all
	sleep 0.5
}

# last_progress LOG: "conns errors" from wsbench's last progress line.
last_progress() {
	sed -nE 's/.* conns ([0-9]+) .* errors ([0-9]+) .*/\1 \2/p' "$1" 2>/dev/null | tail -1
}

idle_run() { # MODE RATE
	local mode=$1 rate=$2 base=$RES/idle-$1-$2 i
	case $mode in
	nats) start_nats "$base.nats.log" || { stop_all; return 0; }
		start_nodes "$IDLE_NODES" yes "$base" || { stop_all; return 0; } ;;
	standalone) start_nodes "$IDLE_NODES" no "$base" || { stop_all; return 0; } ;;
	*) echo "cluster: unknown idle mode $mode" >&2; exit 2 ;;
	esac
	sleep 2
	local rss_nodes0 rss_nats0 avail0
	rss_nodes0=$(sum_rss "${NODE_PIDS[@]}")
	rss_nats0=$([[ -n $NATS_PID ]] && rss "$NATS_PID" || echo 0)
	avail0=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
	local per=$((IDLE_TOTAL / IDLE_NODES)) extra=$((IDLE_TOTAL % IDLE_NODES))
	echo "# idle: $IDLE_TOTAL connections over $IDLE_NODES nodes, $mode, -connect-rate $rate per wsbench" >>"$COMMANDS"
	if [[ $mode == nats ]]; then
		printf 'taskset -c %s' "$SERVER_CPU" >>"$COMMANDS"; printf ' %q' "${NATS_CMD[@]}" | sed "s|$TMP|\$JS|g" >>"$COMMANDS"; printf ' &  # $JS: an empty dir\n' >>"$COMMANDS"
	fi
	for i in $(seq 1 "$IDLE_NODES"); do
		node_cmd "$i" "$([[ $mode == nats ]] && echo yes || echo no)"
		{ printf '(cd %s && taskset -c %s' "$ROOT" "$SERVER_CPU"; printf ' %q' "${NODE_CMD[@]}"; printf ') &\n'; } >>"$COMMANDS"
	done
	local t0 t1
	t0=$(date +%s.%N)
	for i in $(seq 1 "$IDLE_NODES"); do
		local n=$((per + (i <= extra ? 1 : 0)))
		# Source addresses of this run's own (a socket closed by the client
		# holds its port in TIME_WAIT for a minute): 127.0.0.10 and up.
		local src="127.0.0.$((8 + 2 * i + 20 * IDLE_RUN)),127.0.0.$((9 + 2 * i + 20 * IDLE_RUN))"
		# A long warm-up: the script ends the run (SIGINT) once every
		# connection was held IDLE_HOLD; rooms n<I>r<J>, one per connection.
		local bench=(taskset -c "$LOAD_CPU" "$B/wsbench" -scenario idle
			-url "ws://127.0.0.1:$((BASE_PORT + i - 1))/ws/chat?room=n${i}{room}" -conns "$n" -rooms "$n"
			-src "$src" -connect-rate "$rate" -warmup 1h -duration 1s -server-pid "${NODE_PIDS[$((i - 1))]}" -json)
		{ printf '%q ' "${bench[@]}" | sed -E 's/-server-pid [0-9]+/-server-pid $NODE'"$i"'_PID/'; printf '&\n'; } >>"$COMMANDS"
		"${bench[@]}" >"$base.wsbench$i.json" 2>"$base.wsbench$i.log" &
		BENCH_PIDS+=($!)
	done
	echo "# …then, once every connection is held for $IDLE_HOLD: kill -INT each wsbench" >>"$COMMANDS"
	echo "== idle: $IDLE_TOTAL connections over $IDLE_NODES nodes, $mode, -connect-rate $rate" >&2
	# Wait until every connection opened or failed, or none opened for
	# IDLE_STALL seconds.
	local last=-1 since tot err peak=0
	since=$(date +%s)
	while :; do
		sleep 1
		tot=0 err=0
		for i in $(seq 1 "$IDLE_NODES"); do
			read -r c e <<<"$(last_progress "$base.wsbench$i.log")"
			tot=$((tot + ${c:-0})) err=$((err + ${e:-0}))
		done
		((tot > peak)) && peak=$tot
		if ((tot != last)); then last=$tot since=$(date +%s); fi
		echo "idle: $tot open, $err errors" >>"$base.progress"
		((tot + err >= IDLE_TOTAL)) && break
		(($(date +%s) - since >= IDLE_STALL)) && { echo "cluster: idle: stalled at $tot connections" >&2; break; }
	done
	t1=$(date +%s.%N)
	local rss_nodes1 rss_nats1 rss_bench1 avail1 each=()
	rss_nodes1=$(sum_rss "${NODE_PIDS[@]}")
	rss_nats1=$([[ -n $NATS_PID ]] && rss "$NATS_PID" || echo 0)
	rss_bench1=$(sum_rss "${BENCH_PIDS[@]}")
	avail1=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
	for i in "${NODE_PIDS[@]}"; do each+=("$(rss "$i")"); done
	sleep "${IDLE_HOLD%s}"
	local rss_nodes2 rss_nats2
	rss_nodes2=$(sum_rss "${NODE_PIDS[@]}")
	rss_nats2=$([[ -n $NATS_PID ]] && rss "$NATS_PID" || echo 0)
	for i in "${BENCH_PIDS[@]}"; do kill -INT "$i" 2>/dev/null || true; done
	for i in "${BENCH_PIDS[@]}"; do wait "$i" 2>/dev/null || true; done
	BENCH_PIDS=()
	{
		echo "mode=$mode"
		echo "rate=$rate"
		echo "total=$IDLE_TOTAL"
		echo "hold=$IDLE_HOLD hold"
		echo "nodes=$IDLE_NODES"
		echo "peak_open=$peak"
		echo "open_at_sample=$tot"
		echo "errors_at_sample=$err"
		echo "wait_s=$(awk "BEGIN {printf \"%.1f\", $t1 - $t0}")"
		echo "rss_nodes_kib_before=$rss_nodes0"
		echo "rss_nodes_kib_held=$rss_nodes1"
		echo "rss_nodes_kib_after_hold=$rss_nodes2"
		echo "rss_nodes_kib_each_held=${each[*]}"
		echo "rss_nats_kib_before=$rss_nats0"
		echo "rss_nats_kib_held=$rss_nats1"
		echo "rss_nats_kib_after_hold=$rss_nats2"
		echo "rss_wsbench_kib_held=$rss_bench1"
		echo "mem_available_kib_before=$avail0"
		echo "mem_available_kib_held=$avail1"
		echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
		echo "open_failed_logged=$(cat "$base".node*.log | grep -c 'open failed' || true)"
		echo "slow_consumer_logged=$(cat "$base".node*.log | grep -c 'slow consumer' || true)"
		echo "other_warnings_logged=$(cat "$base".node*.log | grep 'level=WARN\|level=ERROR' | grep -vc 'open failed\|slow consumer' || true)"
	} >"$base.summary"
	stop_all
}

for scen in $SCENARIOS; do
	case $scen in
	fanout)
		for rep in $(seq 1 "$REPS"); do
			for cfg in $CONFIGS; do fanout_one "$rep" "$cfg"; done
		done ;;
	idle)
		IDLE_RUN=0
		for r in $IDLE_RUNS; do idle_run "${r%%:*}" "${r#*:}"; IDLE_RUN=$((IDLE_RUN + 1)); done ;;
	*) echo "cluster: unknown scenario $scen" >&2; exit 2 ;;
	esac
done

{
	echo "nproc=$(nproc)"
	echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
	echo "kernel=$(uname -srm)"
	echo "mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
	echo "nofile=$(ulimit -n)"
	echo "go=$($GO version | cut -d' ' -f3-)"
	echo "nats=$("$B/nats-server" --version)"
	echo "wshost=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
	echo "params=fanout: $REPS repetitions of $DURATION (after $WARMUP of warm-up), $CONNS connections × $RATE msg/s in one room, configs $CONFIGS; idle: $IDLE_TOTAL connections over $IDLE_NODES nodes, runs (mode:connect-rate per wsbench) $IDLE_RUNS"
	echo "scenarios=$SCENARIOS"
} >"$RES/machine.txt"

python3 "$HERE/cluster_report.py" "$RES" "${OUT:--}"
echo "cluster: raw results in $RES" >&2
