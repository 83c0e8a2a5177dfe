#!/usr/bin/env bash
# API benchmark for cmsd: list latency against the engine's own list call, and /v1/health throughput
# against trivial static responders, measured in the same run so the results are ratios, never
# absolute pass/fail timings. Usage: bench/api.sh CMSD_BIN   (see bench/README.md for the knobs).
# All traffic goes to 127.0.0.1 or to unix sockets; everything it starts it stops by recorded PID,
# and it removes only the containers it created itself, by id.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

CMSD_BIN=${1:-}
[ -n "$CMSD_BIN" ] && [ -x "$CMSD_BIN" ] || bench_die "usage: $0 CMSD_BIN (an executable cmsd)"
CMSD_BIN=$(cd "$(dirname "$CMSD_BIN")" && pwd)/$(basename "$CMSD_BIN")

N=${BENCH_N:-300}                      # list requests per side
CHUNK=${BENCH_CHUNK:-50}               # requests per client invocation; sides alternate per chunk
NCTR=${BENCH_CONTAINERS:-50}           # bench containers per engine
WRK_T=${BENCH_WRK_THREADS:-2}
WRK_C=${BENCH_WRK_CONNS:-64}
WRK_D=${BENCH_WRK_SECS:-10}
LOG_LEVEL=${BENCH_LOG_LEVEL:-info}     # cmsd's default; access log goes to a temp file
SETUP_CAP=${BENCH_SETUP_SECS:-300}     # time cap for creating the bench containers
IMAGE=${BENCH_IMAGE:-cmsd-test/busybox:latest}
ENGINES=${BENCH_ENGINES:-docker:/var/run/docker.sock podman:/run/podman/podman.sock}
TOKEN=bench-viewer-token
RESULTS=${BENCH_RESULTS:-$HERE/results/api-$(date +%F).txt}

for t in curl jq wrk ss awk; do
	command -v "$t" >/dev/null || bench_die "$t not found (wrk: apt-get install -y wrk)"
done
for v in N CHUNK NCTR WRK_T WRK_C WRK_D SETUP_CAP; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || bench_die "$v must be a positive integer"
done
[ "$N" -le 100000 ] && [ "$NCTR" -le 500 ] && [ "$WRK_D" -le 600 ] || bench_die "limits too large"

TMP=$(mktemp -d /tmp/cmsd-bench.XXXXXX) || bench_die "mktemp failed"
CMSD_PID=
PEER_PIDS=()
CUR_SOCK=
CREATED=()      # ids of bench containers this run created on CUR_SOCK

remove_created() {
	local id pids=()
	[ ${#CREATED[@]} -gt 0 ] || return 0
	bench_log "removing ${#CREATED[@]} bench containers on $CUR_SOCK"
	for id in "${CREATED[@]}"; do
		# sleep as PID 1 ignores SIGTERM: kill first so removal does not wait for a stop timeout.
		( engine_call "$CUR_SOCK" POST "/containers/$id/kill?signal=KILL" >/dev/null 2>&1
		  engine_call "$CUR_SOCK" DELETE "/containers/$id?force=1&v=1" >/dev/null 2>&1 ) &
		pids+=($!)
		if [ ${#pids[@]} -ge 10 ]; then wait "${pids[@]}"; pids=(); fi
	done
	[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
	CREATED=()
}

stop_peers() {
	local p
	for p in "${PEER_PIDS[@]}"; do stop_pid "$p" peer; done
	PEER_PIDS=()
}

cleanup() {
	trap - EXIT INT TERM
	stop_pid "$CMSD_PID" cmsd
	CMSD_PID=
	stop_peers
	remove_created
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'bench_log interrupted; exit 130' INT TERM

# ensure_containers SOCK -> NCTR running containers named cmsdb-1..N, creating the missing ones.
ensure_containers() {
	local sock=$1 start=$SECONDS n name state id
	local have
	have=$(engine_call "$sock" GET '/containers/json?all=1&filters=%7B%22label%22%3A%5B%22cmsd-bench%3D1%22%5D%7D') ||
		{ bench_log "cannot list containers on $sock"; return 1; }
	for ((n = 1; n <= NCTR; n++)); do
		(( SECONDS - start <= SETUP_CAP )) || { bench_log "setup over ${SETUP_CAP}s"; return 1; }
		name=cmsdb-$n
		read -r id state < <(jq -r --arg n "$name" \
			'.[] | select(any(.Names[]; sub("^/"; "") == $n)) | "\(.Id) \(.State)"' <<<"$have" | head -n1)
		if [ -z "${id:-}" ]; then
			id=$(engine_call "$sock" POST "/containers/create?name=$name" \
				"{\"Image\":\"$IMAGE\",\"Cmd\":[\"sleep\",\"3600\"],\"Labels\":{\"cmsd-bench\":\"1\"}}" |
				jq -r .Id) && [ -n "$id" ] && [ "$id" != null ] ||
				{ bench_log "cannot create $name on $sock (is $IMAGE there?)"; return 1; }
			CREATED+=("$id")
			state=created
		fi
		if [ "$state" != running ]; then
			engine_call "$sock" POST "/containers/$id/start" >/dev/null ||
				{ bench_log "cannot start $name on $sock"; return 1; }
		fi
		id= state=
	done
	bench_log "$NCTR bench containers running (${#CREATED[@]} created by this run, $((SECONDS - start))s)"
}

# timed_gets OUT URL [curl args...] -> CHUNK sequential GETs on one connection, appending
# "http_code num_connects seconds" lines to OUT.
timed_gets() {
	local out=$1 url=$2 i args=()
	shift 2
	for ((i = 0; i < CHUNK; i++)); do args+=(-o /dev/null "$url"); done
	timeout 120 curl -s -m 10 -w '%{http_code} %{num_connects} %{time_total}\n' "$@" "${args[@]}" >>"$out"
}

# bench_list ENGINE SOCK -> fills LAT_* (ms percentiles) for cmsd and the engine, alternating chunks.
bench_list() {
	local eng=$1 sock=$2 r rounds=$(((N + CHUNK - 1) / CHUNK)) c e
	local cm=(-H "Authorization: Bearer $TOKEN") en=(--unix-socket "$sock")
	local curl_c="http://127.0.0.1:$PORT/v1/containers" curl_e="http://engine/$BENCH_API/containers/json"
	c=$(curl -s -m 10 "${cm[@]}" "$curl_c" | jq '.data | length')
	e=$(curl -s -m 10 "${en[@]}" "$curl_e" | jq length)
	bench_log "$eng: list returns $c items through cmsd, $e from the engine"
	LIST_ITEMS="$c/$e"
	: >"$TMP/warm"
	timed_gets "$TMP/warm" "$curl_c" "${cm[@]}"   # warm-up: caches, connection pools
	timed_gets "$TMP/warm" "$curl_e" "${en[@]}"
	: >"$TMP/lat-c"
	: >"$TMP/lat-e"
	for ((r = 0; r < rounds; r++)); do
		timed_gets "$TMP/lat-e" "$curl_e" "${en[@]}"
		timed_gets "$TMP/lat-c" "$curl_c" "${cm[@]}"
	done
	for side in c e; do
		local f=$TMP/lat-$side
		head -n "$N" "$f" >"$f.n"
		BAD[$side]=$(awk '$1 != 200' "$f.n" | wc -l)
		CONNS[$side]=$(awk '{ s += $2 } END { print s + 0 }' "$f.n")
		awk '$1 == 200 { printf "%.3f\n", $3 * 1000 }' "$f.n" >"$f.ms"
		[ -s "$f.ms" ] || echo 0 >"$f.ms"
		read -r P50[$side] P90[$side] P99[$side] < <(pctl "$f.ms" 50 90 99)
	done
}

# run_wrk URL [extra wrk args] -> "req/s errors" on stdout.
run_wrk() {
	local url=$1 out
	shift
	out=$(timeout $((WRK_D + 30)) wrk -t "$WRK_T" -c "$WRK_C" -d "${WRK_D}s" "$@" "$url" 2>&1)
	awk '/^Requests\/sec:/ { rps = $2 }
	     /Non-2xx/ { err += $NF }
	     /Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
	     END { printf "%.0f %d\n", rps, err }' <<<"$out"
}

# start_peers -> NODE_PORT (keep-alive peer, when node exists) and BB_PORT (busybox httpd, closes).
start_peers() {
	mkdir -p "$TMP/www"
	printf '{"success":true,"data":{"status":"ok","engine":"up"}}' >"$TMP/www/health.json"
	NODE_PORT= BB_PORT=
	if command -v node >/dev/null; then
		NODE_PORT=$(free_port)
		node -e '
			const body = require("fs").readFileSync(process.argv[1]);
			require("http").createServer((q, s) => {
				s.writeHead(200, {"Content-Type": "application/json"}); s.end(body);
			}).listen(+process.argv[2], "127.0.0.1");' "$TMP/www/health.json" "$NODE_PORT" &
		PEER_PIDS+=($!)
		wait_http "http://127.0.0.1:$NODE_PORT/" 10 || NODE_PORT=
	fi
	if command -v busybox >/dev/null && busybox --list | grep -qx httpd; then
		BB_PORT=$(free_port)
		busybox httpd -f -p "127.0.0.1:$BB_PORT" -h "$TMP/www" &
		PEER_PIDS+=($!)
		wait_http "http://127.0.0.1:$BB_PORT/health.json" 10 || BB_PORT=
	fi
}

ROWS=()
NOTES=()
row() { ROWS+=("$(printf '%-7s %-40s %10s %10s %7s' "$@")"); }

bench_engine() {
	local eng=$1 sock=$2 rps_c err_c rps_p err_p
	declare -gA P50 P90 P99 BAD CONNS
	CUR_SOCK=$sock
	ensure_containers "$sock" || return 1
	bench_start_cmsd "$eng" "$sock" viewer || return 1
	local rss0
	rss0=$(proc_kb "$CMSD_PID" VmRSS)
	bench_log "$eng: cmsd pid $CMSD_PID on 127.0.0.1:$PORT, RSS ${rss0} kB; $N list requests per side"
	bench_list "$eng" "$sock"
	row "$eng" "list p50 ms (peer: engine direct)" "${P50[c]}" "${P50[e]}" "$(ratio "${P50[c]}" "${P50[e]}")"
	row "$eng" "list p90 ms (peer: engine direct)" "${P90[c]}" "${P90[e]}" "$(ratio "${P90[c]}" "${P90[e]}")"
	row "$eng" "list p99 ms (peer: engine direct)" "${P99[c]}" "${P99[e]}" "$(ratio "${P99[c]}" "${P99[e]}")"
	row "$eng" "list overhead % at p50 (target < 20)" "$(overhead "${P50[c]}" "${P50[e]}")" - -
	row "$eng" "list overhead % at p99 (target < 20)" "$(overhead "${P99[c]}" "${P99[e]}")" - -
	NOTES+=("$eng: list items cmsd/engine $LIST_ITEMS; non-200 cmsd ${BAD[c]}, engine ${BAD[e]}; new connections cmsd ${CONNS[c]}, engine ${CONNS[e]} for $N requests each")

	start_peers
	bench_log "$eng: wrk -t$WRK_T -c$WRK_C -d${WRK_D}s on /v1/health (keep-alive, then Connection: close)"
	read -r rps_c err_c < <(run_wrk "http://127.0.0.1:$PORT/v1/health")
	rps_p=- err_p=-
	[ -n "$NODE_PORT" ] && read -r rps_p err_p < <(run_wrk "http://127.0.0.1:$NODE_PORT/")
	row "$eng" "health req/s keep-alive (peer: node http)" "$rps_c" "$rps_p" "$(ratio "$rps_c" "$rps_p")"
	NOTES+=("$eng: keep-alive errors cmsd $err_c, node $err_p (target: cmsd >= 20000 req/s)")
	read -r rps_c err_c < <(run_wrk "http://127.0.0.1:$PORT/v1/health" -H 'Connection: close')
	rps_p=- err_p=-
	[ -n "$BB_PORT" ] && read -r rps_p err_p < <(run_wrk "http://127.0.0.1:$BB_PORT/health.json" -H 'Connection: close')
	row "$eng" "health req/s conn-close (peer: busybox)" "$rps_c" "$rps_p" "$(ratio "$rps_c" "$rps_p")"
	NOTES+=("$eng: conn-close errors cmsd $err_c, busybox httpd $err_p")
	stop_peers

	kill -0 "$CMSD_PID" 2>/dev/null || { bench_log "cmsd died during the run"; tail -n 20 "$TMP/cmsd-$eng.log" >&2; return 1; }
	local rss1
	rss1=$(proc_kb "$CMSD_PID" VmRSS)
	row "$eng" "cmsd VmRSS kB after load (peer: idle)" "$rss1" "$rss0" "$(ratio "$rss1" "$rss0")"
	row "$eng" "cmsd VmHWM kB (peak RSS)" "$(proc_kb "$CMSD_PID" VmHWM)" - -
	stop_pid "$CMSD_PID" cmsd
	CMSD_PID=
	local line
	while IFS= read -r line; do NOTES+=("$eng: cmsd log: $line"); done < <(
		grep -iE ' (error|warn) |assert|sanitizer' "$TMP/cmsd-$eng.log" | head -n 5)
	remove_created
}

SKIPPED=()
RAN=()
for spec in $ENGINES; do
	eng=${spec%%:*} sock=${spec#*:}
	if ! engine_up "$sock"; then
		SKIPPED+=("$eng ($sock not answering)")
		bench_log "skipping $eng: $sock does not answer /_ping"
		continue
	fi
	bench_log "=== $eng ($sock)"
	if bench_engine "$eng" "$sock"; then
		RAN+=("$eng")
	else
		SKIPPED+=("$eng (failed, see messages above)")
		stop_pid "$CMSD_PID" cmsd
		CMSD_PID=
		stop_peers
		remove_created
	fi
done

{
	echo "cmsd API benchmark — $(date -u +%FT%TZ)"
	echo "$("$CMSD_BIN" --version 2>/dev/null | head -n1), commit $(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null || echo '?')" \
		"(worktree may have uncommitted changes)"
	echo "host: $(nproc) CPUs, $(uname -r); client, cmsd and peers share these CPUs"
	echo "list: $N sequential GETs per side, keep-alive, alternating chunks of $CHUNK; $NCTR running bench containers"
	echo "throughput: wrk -t$WRK_T -c$WRK_C -d${WRK_D}s; cmsd --log-level $LOG_LEVEL (access log to a file)"
	echo "engines run: ${RAN[*]:-none}; skipped: ${SKIPPED[*]:-none}"
	echo
	printf '%-7s %-40s %10s %10s %7s\n' engine metric cmsd peer ratio
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
