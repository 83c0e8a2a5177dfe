#!/usr/bin/env bash
# engine=* against one engine (issue 17): GET /v1/containers?engine=*&all=true on a cmsd that
# drives Docker and Podman, against ?engine=docker and ?engine=podman alone, in the same run,
# chunks alternating. Target: the fan-out's p50 no more than the slower engine's alone + 20 %
# (it asks both at once, so it should cost about the slower one). Usage: bench/engines.sh CMSD_BIN
# Knobs: BENCH_N (requests per side, 300), BENCH_CHUNK (50), BENCH_CONTAINERS (per engine, 50).
# It creates its containers (label cmsd-bench-eng=1) and removes exactly those, by id.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

CMSD_BIN=${1:-}
[ -n "$CMSD_BIN" ] && [ -x "$CMSD_BIN" ] || bench_die "usage: $0 CMSD_BIN"
N=${BENCH_N:-300}
CHUNK=${BENCH_CHUNK:-50}
NCTR=${BENCH_CONTAINERS:-50}
IMAGE=${BENCH_IMAGE:-cmsd-test/busybox:latest}
DOCKER=/var/run/docker.sock PODMAN=/run/podman/podman.sock
TOKEN=bench-viewer-token
RESULTS=${BENCH_RESULTS:-$HERE/results/engines-$(date +%F).txt}
for v in N CHUNK NCTR; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || bench_die "$v must be a positive integer"
done
engine_up "$DOCKER" && engine_up "$PODMAN" || bench_die "needs Docker and Podman up (scripts/engines.sh up)"

TMP=$(mktemp -d /tmp/cmsd-bench-eng.XXXXXX) || bench_die "mktemp failed"
CMSD_PID=
declare -A CREATED=()
cleanup() {
	trap - EXIT INT TERM
	stop_pid "$CMSD_PID" cmsd
	local key sock id
	for key in "${!CREATED[@]}"; do
		sock=${key%%|*} id=${key#*|}
		engine_call "$sock" POST "/containers/$id/kill?signal=KILL" >/dev/null 2>&1
		engine_call "$sock" DELETE "/containers/$id?force=1" >/dev/null 2>&1
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'bench_log interrupted; exit 130' INT TERM

make_containers() { # SOCK
	local i id
	for ((i = 1; i <= NCTR; i++)); do
		id=$(engine_call "$1" POST "/containers/create?name=cmsdbe-$$-$i" \
			"{\"Image\":\"$IMAGE\",\"Cmd\":[\"sleep\",\"3600\"],\"Labels\":{\"cmsd-bench-eng\":\"1\"}}" |
			jq -r .Id) && [ -n "$id" ] && [ "$id" != null ] || bench_die "cannot create on $1"
		CREATED["$1|$id"]=1
		engine_call "$1" POST "/containers/$id/start" >/dev/null || bench_die "cannot start on $1"
	done
}
bench_log "creating $NCTR containers on each engine"
make_containers "$DOCKER"
make_containers "$PODMAN"

PORT=$(free_port) || bench_die "no free port"
cat >"$TMP/cmsd.yaml" <<-YAML
	listen: ["127.0.0.1:$PORT"]
	engines:
	  - {name: docker, url: "unix://$DOCKER", default: true}
	  - {name: podman, url: "unix://$PODMAN"}
	tokens: [{name: bench, role: viewer, token: "$TOKEN"}]
	state_dir: $TMP/state
	limits: {max_connections_per_ip: 1024}
YAML
"$CMSD_BIN" --config "$TMP/cmsd.yaml" >"$TMP/cmsd.log" 2>&1 &
CMSD_PID=$!
wait_http "http://127.0.0.1:$PORT/v1/health" 10 || bench_die "cmsd did not start: $(tail -n 3 "$TMP/cmsd.log")"

url() { echo "http://127.0.0.1:$PORT/v1/containers?all=true&label=cmsd-bench-eng%3D1&engine=$1"; }
chunk() { # OUT ENGINE
	local i args=()
	for ((i = 0; i < CHUNK; i++)); do args+=(-o /dev/null "$(url "$2")"); done
	curl -s -m 20 -H "Authorization: Bearer $TOKEN" -w '%{http_code} %{time_total}\n' "${args[@]}" >>"$1"
}
for e in docker podman '%2A'; do chunk "$TMP/warm" "$e"; done
: >"$TMP/docker"; : >"$TMP/podman"; : >"$TMP/all"
for ((r = 0; r < (N + CHUNK - 1) / CHUNK; r++)); do
	chunk "$TMP/docker" docker
	chunk "$TMP/podman" podman
	chunk "$TMP/all" '%2A'
done
items=$(curl -s -H "Authorization: Bearer $TOKEN" "$(url '%2A')" | jq '[.data[].engine] | group_by(.) | map({(.[0]): length}) | add | tojson')
declare -A P50 P90 BAD
for side in docker podman all; do
	head -n "$N" "$TMP/$side" >"$TMP/$side.n"
	BAD[$side]=$(awk '$1 != 200' "$TMP/$side.n" | wc -l)
	awk '$1 == 200 { printf "%.3f\n", $2 * 1000 }' "$TMP/$side.n" >"$TMP/$side.ms"
	read -r P50[$side] P90[$side] < <(pctl "$TMP/$side.ms" 50 90)
done
slower=$(awk -v a="${P50[docker]}" -v b="${P50[podman]}" 'BEGIN { print (a > b ? a : b) }')
{
	echo "# bench/engines.sh $(date -u +%FT%TZ) on $(hostname), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# $NCTR containers per engine, $N requests per side in chunks of $CHUNK, alternating"
	echo "engine=* items by engine: $items"
	printf '%-10s %8s %8s %6s\n' side p50_ms p90_ms non200
	for side in docker podman all; do
		printf '%-10s %8s %8s %6s\n' "$side" "${P50[$side]}" "${P90[$side]}" "${BAD[$side]}"
	done
	echo "engine=* p50 / slower engine's p50: $(ratio "${P50[all]}" "$slower") (target <= 1.20)"
} | tee "$RESULTS"
