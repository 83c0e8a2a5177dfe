#!/usr/bin/env bash
# Sampler benchmark: what cmsd's stats sampling costs per container-sample, its memory (RSS and
# bytes per ring sample) and the cost of GET /metrics, at 100 and 300 running containers; and,
# side by side in the same run, what the engine's own stats API costs for the same containers
# (wall time and the engine daemon's CPU per call). Prints ratios, never pass/fail timings.
# Usage: bench/sampler.sh CMSD_BIN   (knobs in bench/README.md). Traffic goes to 127.0.0.1 and unix
# sockets only; what it starts it stops by recorded PID; it removes only containers it created.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

CMSD_BIN=${1:-}
[ -n "$CMSD_BIN" ] && [ -x "$CMSD_BIN" ] || bench_die "usage: $0 CMSD_BIN (an executable cmsd)"
CMSD_BIN=$(cd "$(dirname "$CMSD_BIN")" && pwd)/$(basename "$CMSD_BIN")

SIZES=${BENCH_SIZES:-100 300}          # running containers, in increasing order
SECS=${BENCH_SECS:-30}                 # measuring window for the sampling cost
STATS_N=${BENCH_STATS_N:-50}           # engine stats calls per size
SCRAPES=${BENCH_SCRAPES:-30}           # sequential GET /metrics for the render time
WRK_T=${BENCH_WRK_THREADS:-2}
WRK_C=${BENCH_WRK_CONNS:-8}
WRK_D=${BENCH_WRK_SECS:-10}
SETUP_CAP=${BENCH_SETUP_SECS:-600}
IMAGE=${BENCH_IMAGE:-cmsd-test/busybox:latest}
ENGINES=${BENCH_ENGINES:-docker:/var/run/docker.sock}
TOKEN=bench-viewer-token
RESULTS=${BENCH_RESULTS:-$HERE/results/sampler-$(date +%F).txt}

for t in curl jq wrk awk; do
	command -v "$t" >/dev/null || bench_die "$t not found (wrk: apt-get install -y wrk)"
done
for v in SECS STATS_N SCRAPES WRK_T WRK_C WRK_D SETUP_CAP; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || bench_die "$v must be a positive integer"
done
for n in $SIZES; do
	[[ $n =~ ^[1-9][0-9]*$ ]] && [ "$n" -le 1000 ] || bench_die "BENCH_SIZES: 1..1000 each"
done

TMP=$(mktemp -d /tmp/cmsd-bench-sampler.XXXXXX) || bench_die "mktemp failed"
CMSD_PID=
CUR_SOCK=
CREATED=()

remove_created() {
	local id pids=()
	[ ${#CREATED[@]} -gt 0 ] || return 0
	bench_log "removing ${#CREATED[@]} bench containers on $CUR_SOCK"
	for id in "${CREATED[@]}"; do
		(engine_call "$CUR_SOCK" DELETE "/containers/$id?force=1&v=1" >/dev/null 2>&1) &
		pids+=($!)
		if [ ${#pids[@]} -ge 16 ]; then wait "${pids[@]}"; pids=(); fi
	done
	[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
	CREATED=()
}

cleanup() {
	trap - EXIT INT TERM
	stop_pid "$CMSD_PID" cmsd
	remove_created
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'bench_log interrupted; exit 130' INT TERM

# grow_to SOCK N -> N running containers labelled cmsd-bench-sampler=1, creating the missing ones
# (16 at a time).
grow_to() {
	local sock=$1 want=$2 start=$SECONDS have i pids=() name
	have=$(engine_call "$sock" GET '/containers/json?filters=%7B%22label%22%3A%5B%22cmsd-bench-sampler%3D1%22%5D%7D' | jq length) ||
		{ bench_log "cannot list containers on $sock"; return 1; }
	bench_log "$have bench containers running, want $want"
	for ((i = have; i < want; i++)); do
		((SECONDS - start <= SETUP_CAP)) || { bench_log "setup over ${SETUP_CAP}s"; return 1; }
		name=cmsdbs-$RANDOM$RANDOM
		(
			id=$(engine_call "$sock" POST "/containers/create?name=$name" \
				"{\"Image\":\"$IMAGE\",\"Cmd\":[\"sleep\",\"3600\"],\"Labels\":{\"cmsd-bench-sampler\":\"1\"}}" | jq -r .Id)
			[ -n "$id" ] && [ "$id" != null ] && echo "$id" >>"$TMP/created" &&
				engine_call "$sock" POST "/containers/$id/start" >/dev/null
		) &
		pids+=($!)
		if [ ${#pids[@]} -ge 16 ]; then wait "${pids[@]}"; pids=(); fi
	done
	[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
	[ -f "$TMP/created" ] && mapfile -t CREATED <"$TMP/created"
	have=$(engine_call "$sock" GET '/containers/json?filters=%7B%22label%22%3A%5B%22cmsd-bench-sampler%3D1%22%5D%7D' | jq length)
	bench_log "$have bench containers running ($((SECONDS - start))s)"
	[ "$have" -ge "$want" ]
}

start_cmsd() {
	local sock=$1 try
	mkdir -p "$TMP/state"
	cat >"$TMP/cmsd.yaml" <<-EOF
		tokens:
		  - {name: bench, role: viewer, token: "$TOKEN"}
		state_dir: $TMP/state
		sampler: {interval: 1s, history: 1h}
		log_level: warn
	EOF
	for ((try = 0; try < 3; try++)); do
		PORT=$(free_port) || return 1
		"$CMSD_BIN" --config "$TMP/cmsd.yaml" --listen "127.0.0.1:$PORT" --engine "unix://$sock" \
			--log-level warn >>"$TMP/cmsd.log" 2>&1 &
		CMSD_PID=$!
		wait_http "http://127.0.0.1:$PORT/v1/health" 10 && kill -0 "$CMSD_PID" 2>/dev/null && return 0
		stop_pid "$CMSD_PID" cmsd
		CMSD_PID=
	done
	return 1
}

# metric NAME -> its value in a fresh scrape (the first series of that name).
metric() {
	curl -s -m 10 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/metrics" |
		awk -v n="$1" '$1 == n || index($1, n "{") == 1 { print $2; exit }'
}

# proc_cpu PID -> user+system CPU seconds of the process.
proc_cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f\n", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null
}

# engine_pid SOCK -> the PID of the process listening on the engine socket.
engine_pid() {
	local inode real
	real=$(readlink -f "$1")
	inode=$(awk -v p="$1" -v r="$real" '$NF == p || $NF == r { print $7; exit }' /proc/net/unix)
	[ -n "$inode" ] || return 1
	find /proc/[0-9]*/fd -lname "socket:\[$inode\]" 2>/dev/null | head -n1 | cut -d/ -f3
}

# ratio4 A B -> A/B with four decimals (cmsd's costs are orders of magnitude below the peer's).
ratio4() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-"
		else printf "%.4f\n", a / b }'
}

ROWS=()
NOTES=()
row() { ROWS+=("$(printf '%-7s %5s %-44s %12s %12s %8s' "$@")"); }

bench_size() {
	local eng=$1 sock=$2 n=$3 i s0 s1 c0 c1 p0 p1 t0 t1 samples
	grow_to "$sock" "$n" || return 1
	start_cmsd "$sock" || { bench_log "cmsd did not start"; tail -n 20 "$TMP/cmsd.log" >&2; return 1; }
	bench_log "$eng/$n: cmsd pid $CMSD_PID; waiting for the sampler to hold $n containers"
	for ((i = 0; i < 240; i++)); do
		[ "$(metric cmsd_sampler_containers)" -ge "$n" ] 2>/dev/null && break
		sleep 0.5
	done
	[ "$(metric cmsd_sampler_containers)" -ge "$n" ] 2>/dev/null || { bench_log "sampler never held $n"; return 1; }
	sleep 5 # the first rounds open every container's files: not the steady state
	# Containers of others on the same engine are sampled too: divide by what cmsd holds.
	local held
	held=$(metric cmsd_sampler_containers)
	s0=$(metric cmsd_sampler_samples_total) c0=$(metric cmsd_sampler_cpu_seconds_total)
	p0=$(proc_cpu "$CMSD_PID") t0=$(date +%s.%N)
	bench_log "$eng/$n: measuring the sampler for ${SECS}s (nothing else asks cmsd anything)"
	sleep "$SECS"
	s1=$(metric cmsd_sampler_samples_total) c1=$(metric cmsd_sampler_cpu_seconds_total)
	p1=$(proc_cpu "$CMSD_PID") t1=$(date +%s.%N)
	samples=$((s1 - s0))
	US_SAMPLER=$(awk -v a="$c0" -v b="$c1" -v s="$samples" 'BEGIN { printf "%.1f", (b - a) / s * 1e6 }')
	US_PROC=$(awk -v a="$p0" -v b="$p1" -v s="$samples" 'BEGIN { printf "%.1f", (b - a) / s * 1e6 }')
	local rate cpu_pct
	rate=$(awk -v s="$samples" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", s / (b - a) }')
	cpu_pct=$(awk -v a="$p0" -v b="$p1" -v x="$t0" -v y="$t1" 'BEGIN { printf "%.2f", (b - a) / (y - x) * 100 }')
	local round ring_b ring_d ring_s rss
	round=$(metric cmsd_sampler_round_duration_seconds)
	ring_b=$(metric cmsd_sampler_ring_bytes) ring_d=$(metric cmsd_sampler_ring_data_bytes)
	ring_s=$(metric cmsd_sampler_ring_samples)
	rss=$(proc_kb "$CMSD_PID" VmRSS)

	# /metrics: sequential scrapes for the render time, then wrk for the throughput. The peer
	# (when node is there) serves the same bytes from memory: what sending them costs here.
	local peer_port='' peer_pid=''
	if command -v node >/dev/null; then
		curl -s -m 10 -H "Authorization: Bearer $TOKEN" -o "$TMP/metrics.txt" \
			"http://127.0.0.1:$PORT/metrics"
		peer_port=$(free_port)
		node -e '
			const body = require("fs").readFileSync(process.argv[1]);
			require("http").createServer((q, s) => {
				s.writeHead(200, {"Content-Type": "text/plain; version=0.0.4"}); s.end(body);
			}).listen(+process.argv[2], "127.0.0.1");' "$TMP/metrics.txt" "$peer_port" &
		peer_pid=$!
		wait_http "http://127.0.0.1:$peer_port/" 10 || { stop_pid "$peer_pid" node; peer_port=; }
	fi
	: >"$TMP/scr"
	: >"$TMP/peer"
	for ((i = 0; i < SCRAPES; i++)); do
		curl -s -o /dev/null -m 10 -w '%{time_total} %{size_download}\n' \
			-H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/metrics" >>"$TMP/scr"
		[ -z "$peer_port" ] || curl -s -o /dev/null -m 10 -w '%{time_total}\n' \
			"http://127.0.0.1:$peer_port/metrics" >>"$TMP/peer"
	done
	awk '{ printf "%.3f\n", $1 * 1000 }' "$TMP/scr" >"$TMP/scr.ms"
	local m50 m99 size rps p50='-' p99='-' prps='-'
	read -r m50 m99 < <(pctl "$TMP/scr.ms" 50 99)
	if [ -s "$TMP/peer" ]; then
		awk '{ printf "%.3f\n", $1 * 1000 }' "$TMP/peer" >"$TMP/peer.ms"
		read -r p50 p99 < <(pctl "$TMP/peer.ms" 50 99)
	fi
	size=$(tail -n1 "$TMP/scr" | awk '{ print $2 }')
	rps=$(timeout $((WRK_D + 30)) wrk -t "$WRK_T" -c "$WRK_C" -d "${WRK_D}s" \
		-H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/metrics" 2>&1 |
		awk '/^Requests\/sec:/ { printf "%.0f", $2 }')
	local rss_load hwm_load
	rss_load=$(proc_kb "$CMSD_PID" VmRSS) hwm_load=$(proc_kb "$CMSD_PID" VmHWM)
	[ -z "$peer_port" ] || prps=$(timeout $((WRK_D + 30)) wrk -t "$WRK_T" -c "$WRK_C" \
		-d "${WRK_D}s" "http://127.0.0.1:$peer_port/metrics" 2>&1 |
		awk '/^Requests\/sec:/ { printf "%.0f", $2 }')
	stop_pid "$peer_pid" node
	[ -n "$peer_port" ] || sleep "$WRK_D"
	local rss_after
	rss_after=$(proc_kb "$CMSD_PID" VmRSS) # cmsd idle for WRK_D s (the peer's wrk)

	# The engine's own stats API for the same containers: wall time and the engine's CPU, less
	# what the engine burns anyway (measured over 10 s just before, without calls).
	local epid e0 e1 w0 w1 ids k=0 us_eng wall_ms b0 b1 bw0 bw1
	epid=$(engine_pid "$sock")
	b0=$(proc_cpu "$epid") bw0=$(date +%s.%N)
	sleep 10
	b1=$(proc_cpu "$epid") bw1=$(date +%s.%N)
	mapfile -t ids < <(engine_call "$sock" GET '/containers/json?filters=%7B%22label%22%3A%5B%22cmsd-bench-sampler%3D1%22%5D%7D' |
		jq -r '.[].Id' | head -n "$STATS_N")
	e0=$(proc_cpu "$epid") w0=$(date +%s.%N)
	for id in "${ids[@]}"; do
		engine_call "$sock" GET "/containers/$id/stats?stream=false&one-shot=true" >/dev/null && k=$((k + 1))
	done
	e1=$(proc_cpu "$epid") w1=$(date +%s.%N)
	us_eng=$(awk -v a="$e0" -v b="$e1" -v x="$w0" -v y="$w1" -v p="$b0" -v q="$b1" -v u="$bw0" -v w="$bw1" -v k="$k" '
		BEGIN { idle = (q - p) / (w - u); c = (b - a) - idle * (y - x); if (c < 0) c = 0
			if (k) printf "%.1f", c / k * 1e6; else print "-" }')
	wall_ms=$(awk -v a="$w0" -v b="$w1" -v k="$k" 'BEGIN { if (k) printf "%.1f", (b - a) / k * 1000; else print "-" }')
	local cmsd_wall_ms
	cmsd_wall_ms=$(awk -v r="$round" -v n="$held" 'BEGIN { printf "%.3f", r / n * 1000 }')

	row "$eng" "$n" "CPU us per container-sample (sampler threads)" "$US_SAMPLER" "$us_eng" "$(ratio4 "$US_SAMPLER" "$us_eng")"
	row "$eng" "$n" "CPU us per container-sample (whole process)" "$US_PROC" "$us_eng" "$(ratio4 "$US_PROC" "$us_eng")"
	row "$eng" "$n" "wall ms per container-sample" "$cmsd_wall_ms" "$wall_ms" "$(ratio4 "$cmsd_wall_ms" "$wall_ms")"
	row "$eng" "$n" "cmsd CPU % of one core while sampling" "$cpu_pct" - -
	row "$eng" "$n" "/metrics p50 ms (peer: same bytes from node)" "$m50" "$p50" "$(ratio "$m50" "$p50")"
	row "$eng" "$n" "/metrics p99 ms" "$m99" "$p99" "$(ratio "$m99" "$p99")"
	row "$eng" "$n" "/metrics bytes per container (target < 5120)" "$((size / held))" - -
	row "$eng" "$n" "/metrics req/s (wrk -c$WRK_C; peer: node)" "$rps" "$prps" "$(ratio "$rps" "$prps")"
	row "$eng" "$n" "ring bytes per sample (peer: plain struct)" "$(awk -v d="$ring_d" -v s="$ring_s" -v n="$held" 'BEGIN { printf "%.1f", d / (s - n) }')" \
		224 "$(awk -v d="$ring_d" -v s="$ring_s" -v n="$held" 'BEGIN { printf "%.4f", d / (s - n) / 224 }')"
	row "$eng" "$n" "VmRSS kB after sampling (target < 32768 + rings)" "$rss" - -
	row "$eng" "$n" "VmRSS kB at the end of the /metrics load; VmHWM" "$rss_load" "$hwm_load" -
	row "$eng" "$n" "VmRSS kB ${WRK_D} s after the /metrics load" "$rss_after" - -
	NOTES+=("$eng/$n: cmsd sampled $held containers ($n of this benchmark, the rest already on the engine); $samples container-samples in ${SECS}s (~$rate/s); last round $(awk -v r="$round" 'BEGIN { printf "%.1f", r * 1000 }') ms; rings: $ring_s samples, $ring_d encoded bytes, $ring_b bytes allocated (capacity 3600 per container, grows by doubling)")
	NOTES+=("$eng/$n: engine peer: $k stats calls (stream=false, one-shot=true) one after the other, engine pid ${epid:-?}; /metrics $size bytes")
	stop_pid "$CMSD_PID" cmsd
	CMSD_PID=
	local line
	while IFS= read -r line; do NOTES+=("$eng/$n: cmsd log: $line"); done < <(
		grep -iE ' (error|warn) |sanitizer' "$TMP/cmsd.log" | head -n 3)
	: >"$TMP/cmsd.log"
	rm -rf "$TMP/state"
}

RAN=()
SKIPPED=()
for spec in $ENGINES; do
	eng=${spec%%:*} sock=${spec#*:}
	if ! engine_up "$sock"; then
		SKIPPED+=("$eng ($sock not answering)")
		continue
	fi
	CUR_SOCK=$sock
	ok=1
	for n in $SIZES; do
		bench_size "$eng" "$sock" "$n" || { ok=0; break; }
	done
	stop_pid "$CMSD_PID" cmsd
	CMSD_PID=
	remove_created
	rm -f "$TMP/created"
	if [ $ok = 1 ]; then RAN+=("$eng"); else SKIPPED+=("$eng (failed, see messages above)"); fi
done

{
	echo "cmsd sampler benchmark — $(date -u +%FT%TZ)"
	echo "$("$CMSD_BIN" --version 2>/dev/null | head -n1), commit $(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null || echo '?')" \
		"(worktree may have uncommitted changes)"
	echo "host: $(nproc) CPUs, $(uname -r); sampler interval 1s, history 1h; busybox 'sleep 3600' containers"
	echo "peer: the engine's stats API (GET /containers/{id}/stats?stream=false&one-shot=true), $STATS_N calls per size one after the other;"
	echo "      its CPU is the engine daemon's CPU time during the calls less its idle rate (measured for 10 s before)"
	echo "engines run: ${RAN[*]:-none}; skipped: ${SKIPPED[*]:-none}"
	echo
	printf '%-7s %5s %-44s %12s %12s %8s\n' engine ctrs metric cmsd peer ratio
	printf '%s\n' "${ROWS[@]}"
	echo
	printf '%s\n' "${NOTES[@]}"
} >"$TMP/report"

cat "$TMP/report"
if [ ${#RAN[@]} -gt 0 ]; then
	mkdir -p "$(dirname "$RESULTS")"
	cp "$TMP/report" "$RESULTS" && bench_log "saved $RESULTS"
fi
[ ${#RAN[@]} -gt 0 ]
