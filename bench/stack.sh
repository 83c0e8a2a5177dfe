#!/usr/bin/env bash
# Stack deploy of 10 services through cmsd (POST /v1/stacks) against `docker stack deploy` of the
# same file, on a private two-node swarm (scripts/swarm.sh), in the same run, rounds alternating
# (issue 17; target: cmsd / docker <= 1.0). Each round deploys a new stack with each tool, then a
# re-deploy of the same file with each (cmsd sees nothing changed; the CLI sends every service
# again), then removes both and waits until the swarm has no task of them.
# Usage: bench/stack.sh CMSD_BIN   Knobs: BENCH_ROUNDS (5), BENCH_SERVICES (10).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
. "$HERE/lib.sh"

CMSD_BIN=${1:-}
[ -n "$CMSD_BIN" ] && [ -x "$CMSD_BIN" ] || bench_die "usage: $0 CMSD_BIN"
ROUNDS=${BENCH_ROUNDS:-5}
NSVC=${BENCH_SERVICES:-10}
IMAGE=${BENCH_IMAGE:-cmsd-test/busybox:latest}
TOKEN=bench-admin-token
RESULTS=${BENCH_RESULTS:-$HERE/results/stack-$(date +%F).txt}
for v in ROUNDS NSVC; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || bench_die "$v must be a positive integer"
done
command -v docker >/dev/null || bench_die "needs the docker CLI"

TMP=$(mktemp -d /tmp/cmsd-bst.XXXXXX) || bench_die "mktemp failed"
CMSD_PID=
cleanup() {
	trap - EXIT INT TERM
	stop_pid "$CMSD_PID" cmsd
	"$ROOT/scripts/swarm.sh" down "$TMP/sw" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'bench_log interrupted; exit 130' INT TERM

bench_log "starting a two-node swarm"
"$ROOT/scripts/swarm.sh" up "$TMP/sw" "$IMAGE" >"$TMP/swarm.log" 2>&1 || bench_die "swarm: $(tail -n 3 "$TMP/swarm.log")"
. "$TMP/sw/env"
export DOCKER_HOST="unix://$SWARM_SOCK1"

{
	echo "services:"
	for ((i = 1; i <= NSVC; i++)); do
		printf '  s%d:\n    image: %s\n    command: ["sleep", "3600"]\n    deploy: {replicas: 1}\n' "$i" "$IMAGE"
	done
} >"$TMP/stack.yml"

PORT=$(free_port) || bench_die "no free port"
cat >"$TMP/cmsd.yaml" <<-YAML
	listen: ["127.0.0.1:$PORT"]
	engine: "unix://$SWARM_SOCK1"
	tokens: [{name: bench, role: admin, token: "$TOKEN"}]
	state_dir: $TMP/state
YAML
"$CMSD_BIN" --config "$TMP/cmsd.yaml" >"$TMP/cmsd.log" 2>&1 &
CMSD_PID=$!
wait_http "http://127.0.0.1:$PORT/v1/health" 10 || bench_die "cmsd did not start"
BODY=$(jq -n --rawfile c "$TMP/stack.yml" '{compose: $c}')

now_ms() { date +%s%3N; }
cmsd_deploy() { # NAME -> ms
	local t0 code
	t0=$(now_ms)
	code=$(curl -s -o "$TMP/reply" -w '%{http_code}' -m 120 -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/json' --data-binary "$(jq --arg n "$1" '. + {name: $n}' <<<"$BODY")" \
		"http://127.0.0.1:$PORT/v1/stacks")
	[[ $code == 20? ]] || bench_die "cmsd deploy: $code $(head -c 300 "$TMP/reply")"
	echo $(($(now_ms) - t0))
}
cli_deploy() { # NAME -> ms
	local t0
	t0=$(now_ms)
	docker stack deploy -c "$TMP/stack.yml" "$1" >"$TMP/cli.out" 2>&1 || bench_die "docker stack deploy: $(cat "$TMP/cli.out")"
	echo $(($(now_ms) - t0))
}
gone() { # NAME: until the swarm has no service, network or task of it
	local i
	docker stack rm "$1" >/dev/null 2>&1
	for ((i = 0; i < 300; i++)); do
		[ -z "$(docker ps -q --filter "label=com.docker.stack.namespace=$1")" ] &&
			[ -z "$(docker network ls -q --filter "label=com.docker.stack.namespace=$1")" ] && return 0
		sleep 0.2
	done
	bench_log "$1 did not go within 60 s"
}
: >"$TMP/new-cmsd"; : >"$TMP/new-cli"; : >"$TMP/re-cmsd"; : >"$TMP/re-cli"
for ((r = 1; r <= ROUNDS; r++)); do
	if ((r % 2)); then
		cmsd_deploy "bc$r" >>"$TMP/new-cmsd"
		cli_deploy "bd$r" >>"$TMP/new-cli"
	else
		cli_deploy "bd$r" >>"$TMP/new-cli"
		cmsd_deploy "bc$r" >>"$TMP/new-cmsd"
	fi
	cmsd_deploy "bc$r" >>"$TMP/re-cmsd"
	cli_deploy "bd$r" >>"$TMP/re-cli"
	gone "bc$r"
	gone "bd$r"
	bench_log "round $r: new $(tail -n1 "$TMP/new-cmsd") / $(tail -n1 "$TMP/new-cli") ms, again $(tail -n1 "$TMP/re-cmsd") / $(tail -n1 "$TMP/re-cli") ms"
done
{
	echo "# bench/stack.sh $(date -u +%FT%TZ) on $(hostname), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# $NSVC services, $ROUNDS rounds, two-node private swarm; ms per deploy (wall, client side)"
	printf '%-22s %8s %8s %8s\n' what cmsd docker ratio
	for k in new re; do
		read -r c50 < <(pctl "$TMP/$k-cmsd" 50)
		read -r d50 < <(pctl "$TMP/$k-cli" 50)
		printf '%-22s %8s %8s %8s\n' "$([ $k = new ] && echo 'deploy, new (p50)' || echo 're-deploy, same file')" "$c50" "$d50" "$(ratio "$c50" "$d50")"
	done
	echo "target: new deploy cmsd/docker <= 1.0"
} | tee "$RESULTS"
