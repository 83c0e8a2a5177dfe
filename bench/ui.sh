#!/usr/bin/env bash
# Dashboard benchmark (issue #14). With 100 running containers (labelled cmsd-bench-ui=RUN, all
# removed at the end):
#   1. a cold load of the containers page in headless chromium: bytes transferred (target under
#      150 KB) and the time to the first full render (rows and in-view sparklines drawn);
#   2. cmsd's CPU while 10 container pages poll it every second for 60 s (and alone, as a
#      baseline), against the engine daemon's CPU while 10 clients poll its stats API (GET
#      /containers/ID/stats?stream=false) for the same containers every second, in the same
#      run; CPU from /proc/PID/stat.
# Prints figures and ratios, never pass/fail. Usage: bench/ui.sh CMSD_BIN
# Knobs: BENCH_UI_N (containers, 100), BENCH_UI_PAGES (10), BENCH_UI_SECS (60), BENCH_IMAGE.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
. "$HERE/lib.sh"

CMSD_BIN=${1:-}
[ -n "$CMSD_BIN" ] && [ -x "$CMSD_BIN" ] || bench_die "usage: $0 CMSD_BIN (an executable cmsd)"
CMSD_BIN=$(cd "$(dirname "$CMSD_BIN")" && pwd)/$(basename "$CMSD_BIN")
N=${BENCH_UI_N:-100}
PAGES=${BENCH_UI_PAGES:-10}
SECS=${BENCH_UI_SECS:-60}
IMAGE=${BENCH_IMAGE:-cmsd-test/busybox:latest}
SOCK=${BENCH_SOCK:-/var/run/docker.sock}
RESULTS=${BENCH_RESULTS:-$HERE/results/ui-$(date +%F).txt}
RUN=$$
LABEL="cmsd-bench-ui=$RUN"
TOKEN=bench-ui-viewer
BY_LABEL=$(jq -rn --arg l "$LABEL" '{label: [$l]} | tojson | @uri')

for t in curl jq node awk; do
	command -v "$t" >/dev/null || bench_die "$t missing (scripts/deps.sh)"
done
CHROMIUM=$(command -v chromium) || bench_die "chromium missing (scripts/deps.sh)"
export CHROMIUM
[ -d "$ROOT/node_modules/playwright-core" ] || bench_die "node_modules missing: npm ci"
engine_up "$SOCK" || bench_die "no engine at $SOCK"

TMP=$(mktemp -d)
CMSD_PID=''
cleanup() {
	trap - EXIT INT TERM
	stop_pid "$CMSD_PID" cmsd
	local ids
	ids=$(engine_call "$SOCK" GET "/containers/json?all=1&filters=$BY_LABEL" | jq -r '.[].Id')
	[ -n "$ids" ] && bench_log "removing $(wc -w <<<"$ids") containers labelled $LABEL"
	for id in $ids; do
		engine_call "$SOCK" DELETE "/containers/$id?force=1" >/dev/null 2>&1
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'bench_log interrupted; exit 130' INT TERM

# cpu_ticks PID -> utime + stime of the process (all its threads), in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
# pct TICKS -> TICKS over SECS seconds as a percentage of one core.
pct() { awk -v d="$1" -v hz="$HZ" -v s="$SECS" 'BEGIN { printf "%.2f", 100 * d / hz / s }'; }

bench_log "creating $N containers labelled $LABEL"
seq 1 "$N" | xargs -P 4 -I{} sh -c '
	id=$(curl -sS -m 60 --unix-socket "$1" -H "Content-Type: application/json" \
		-d "{\"Image\":\"$2\",\"Cmd\":[\"sleep\",\"3600\"],\"Labels\":{\"$3\":\"$4\"}}" \
		"http://engine/v1.41/containers/create?name=cmsd-bench-ui-$4-{}" | jq -r .Id) &&
	curl -sS -m 60 --unix-socket "$1" -X POST "http://engine/v1.41/containers/$id/start" >/dev/null
' _ "$SOCK" "$IMAGE" "${LABEL%%=*}" "$RUN"
mapfile -t IDS < <(engine_call "$SOCK" GET "/containers/json?filters=$BY_LABEL" | jq -r '.[].Id')
[ "${#IDS[@]}" -eq "$N" ] || bench_die "only ${#IDS[@]} of $N containers running"

port=$(free_port) || bench_die "no free port"
cat >"$TMP/cmsd.yaml" <<EOC
listen: ["127.0.0.1:$port"]
engine: "unix://$SOCK"
tokens:
  - {name: bench, role: viewer, token: "$TOKEN"}
state_dir: "$TMP/state"
sampler: {interval: 1s, history: 1h}
log_level: warn
EOC
mkdir -p "$TMP/state"
"$CMSD_BIN" --config "$TMP/cmsd.yaml" >"$TMP/cmsd.log" 2>&1 &
CMSD_PID=$!
URL="http://127.0.0.1:$port"
wait_http "$URL/v1/health" 20 || bench_die "cmsd did not start: $(tail -n 3 "$TMP/cmsd.log")"
sleep 35 # 30 s of history for the sparklines, as on a dashboard opened on a running host

bench_log "cold load of the containers page ($N containers), 3 times"
for i in 1 2 3; do
	nice -n 10 node "$HERE/ui.mjs" load "$URL" "$TOKEN" "$N" >>"$TMP/load" 2>"$TMP/load.err" ||
		bench_die "load run failed: $(grep -m 3 -E 'Error|error' "$TMP/load.err")"
done
bytes=$(jq -s 'map(.bytes) | max' "$TMP/load")
render=$(jq -s 'map(.render_ms) | sort | .[1]' "$TMP/load")
requests=$(jq -s '.[0].requests' "$TMP/load")

# The engine's side of a stats call: dockerd, its containerd, and the shims of the polled
# containers (the shim reads the cgroup). Other users of a shared engine add noise to the first
# two: hence the idle window below, measured for both sides.
ids_poll=("${IDS[@]:0:$PAGES}")
engine_pids=$(cat /var/run/docker.pid 2>/dev/null || pgrep -xo dockerd)
[ -n "$engine_pids" ] || bench_die "no dockerd process to measure"
engine_pids="$engine_pids $(pgrep -x -P "$engine_pids" containerd)"
for id in "${ids_poll[@]}"; do
	engine_pids="$engine_pids $(pgrep -f "containerd-shim-runc-v2 .*-id $id")"
done
engine_ticks() {
	local p t=0
	for p in $engine_pids; do
		t=$((t + $(cpu_ticks "$p" 2>/dev/null || echo 0)))
	done
	echo "$t"
}

# Both sides with nobody looking: cmsd samples the N containers, the engine serves its events.
bench_log "idle (cmsd sampling $N containers, no client) for $SECS s"
b0=$(cpu_ticks "$CMSD_PID") f0=$(engine_ticks)
sleep "$SECS"
b1=$(cpu_ticks "$CMSD_PID") f1=$(engine_ticks)
base_pct=$(pct $((b1 - b0)))
engine_base_pct=$(pct $((f1 - f0)))

bench_log "$PAGES container pages polling cmsd for $SECS s"
nice -n 10 node "$HERE/ui.mjs" poll "$URL" "$TOKEN" "$((SECS + 2))" "${ids_poll[@]}" \
	>"$TMP/poll" 2>"$TMP/poll.err" &
node_pid=$!
for ((i = 0; i < 120; i++)); do
	grep -q polling "$TMP/poll.err" 2>/dev/null && break
	kill -0 "$node_pid" 2>/dev/null || break
	sleep 0.5
done
grep -q polling "$TMP/poll.err" ||
	bench_die "the pages did not start: $(grep -m 3 -E 'Error|error' "$TMP/poll.err")"
c0=$(cpu_ticks "$CMSD_PID")
sleep "$SECS"
c1=$(cpu_ticks "$CMSD_PID")
wait "$node_pid"
cmsd_pct=$(pct $((c1 - c0)))
api_requests=$(jq .api_requests "$TMP/poll")

bench_log "$PAGES clients polling the engine's stats API for $SECS s"
clients=()
for id in "${ids_poll[@]}"; do
	(
		end=$((SECONDS + SECS))
		while [ "$SECONDS" -lt "$end" ]; do
			if curl -s -f -m 10 -o /dev/null --unix-socket "$SOCK" \
				"http://engine/v1.41/containers/$id/stats?stream=false"; then
				echo ok >>"$TMP/stats.$id"
			else
				echo failed >>"$TMP/stats.$id"
			fi
			sleep 1
		done
	) &
	clients+=($!)
done
e0=$(engine_ticks)
sleep "$SECS"
e1=$(engine_ticks)
wait "${clients[@]}"
engine_pct=$(pct $((e1 - e0)))
stats_calls=$(cat "$TMP"/stats.* | grep -c '^ok')
stats_failed=$(cat "$TMP"/stats.* | grep -c '^failed')
ratio=$(awk -v a="$cmsd_pct" -v b="$engine_pct" \
	'BEGIN { printf (b > 0 ? "%.3f" : "n/a"), a / b }')
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
pages_pct=$(sub "$cmsd_pct" "$base_pct")
engine_added_pct=$(sub "$engine_pct" "$engine_base_pct")
ratio_added=$(awk -v a="$pages_pct" -v b="$engine_added_pct" \
	'BEGIN { printf (b > 0 ? "%.3f" : "n/a"), a / b }')

{
	echo "# bench/ui.sh $(date -u +%FT%TZ) on $(uname -r), $(nproc) cores," \
		"load average $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# cmsd ${CMSD_BIN#"$ROOT"/};" \
		"engine docker $(engine_call "$SOCK" GET /version | jq -r .Version);" \
		"chromium $("$CHROMIUM" --version 2>/dev/null | awk '{ print $2 }'), 1280x800"
	echo "# $N running containers; $PAGES pages or clients polling every 1 s for $SECS s"
	echo "cold_load_bytes        $bytes   (containers page, $requests requests," \
		"headers included; target < 153600)"
	echo "first_full_render_ms   $render   (median of 3: rows and in-view sparklines drawn)"
	echo "cmsd_cpu_idle_percent  $base_pct   (no client: the sampler of $N containers)"
	echo "cmsd_cpu_percent       $cmsd_pct   ($PAGES container pages; $api_requests API requests;" \
		"target < 2)"
	echo "cmsd_cpu_pages_percent $pages_pct   (what the pages add)"
	echo "engine_cpu_idle_percent $engine_base_pct   (dockerd + containerd + $PAGES shims, no client)"
	echo "engine_cpu_percent     $engine_pct   ($PAGES clients on /containers/ID/stats?stream=false;" \
		"$stats_calls calls answered, $stats_failed failed or over 10 s)"
	echo "engine_cpu_added_percent $engine_added_pct   (what the clients add)"
	echo "cpu_ratio_cmsd_engine  $ratio   (cmsd_cpu_percent / engine_cpu_percent)"
	echo "cpu_ratio_added        $ratio_added   (cmsd_cpu_pages_percent / engine_cpu_added_percent)"
} | tee "$RESULTS"
