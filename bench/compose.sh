#!/usr/bin/env bash
# Compose benchmark: `up` and `down` of one compose project with 20, then 50 services, through
# cmsd (POST /v1/projects, POST /v1/projects/{name}/down) and through Debian's docker-compose 1.29
# (`up -d`, `down -v`) on the same file, in the same run, on Docker and on Podman (docker-compose
# talks to Podman's Docker-compatible socket through DOCKER_HOST). Each measurement is repeated
# BENCH_REPS times with the order of the two tools alternating; the report gives median wall times
# and cmsd / docker-compose ratios, never pass/fail timings.
# Usage: bench/compose.sh CMSD_BIN. Knobs (environment): BENCH_REPS (3), BENCH_SIZES ("20 50"),
# BENCH_WARMUP (1 discarded cycle per tool), BENCH_FLOOR (1: time the engine alone once per size,
# as a note), BENCH_STOP (trap: services exit on SIGTERM; sleep: plain `sleep 3600`, so down
# measures the 10 s stop timeout), BENCH_CMD_SECS (600, cap of one up or down), BENCH_LOG_LEVEL
# (info), BENCH_ENGINES, BENCH_IMAGE, BENCH_COMPOSE (docker-compose), BENCH_RESULTS_DIR
# (bench/results: one compose-ENGINE.txt per engine).
# Traffic goes to 127.0.0.1 and unix sockets only; cmsd is stopped by its recorded PID; only this
# run's projects are removed, by the project label, the bench label and their network/volume names.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

CMSD_BIN=${1:-}
[ -n "$CMSD_BIN" ] && [ -x "$CMSD_BIN" ] || bench_die "usage: $0 CMSD_BIN (an executable cmsd)"
CMSD_BIN=$(cd "$(dirname "$CMSD_BIN")" && pwd)/$(basename "$CMSD_BIN")

REPS=${BENCH_REPS:-3}                  # measured up/down cycles per tool and size
SIZES=${BENCH_SIZES:-20 50}            # services per project, in order
WARMUP=${BENCH_WARMUP:-1}              # unmeasured cycles per tool before the first size
FLOOR=${BENCH_FLOOR:-1}                # 1: also time the engine alone once per size (a note)
CAP=${BENCH_CMD_SECS:-600}             # time cap of one up or down
STOP=${BENCH_STOP:-trap}               # trap: the services exit on SIGTERM; sleep: plain sleep 3600
LOG_LEVEL=${BENCH_LOG_LEVEL:-info}     # info writes cmsd's access log (with request ms) to a file
IMAGE=${BENCH_IMAGE:-cmsd-test/busybox:latest}
ENGINES=${BENCH_ENGINES:-docker:/var/run/docker.sock podman:/run/podman/podman.sock}
COMPOSE=${BENCH_COMPOSE:-docker-compose}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$HERE/results}   # one report per engine: compose-ENGINE.txt
TOKEN=bench-operator-token
RUN=cbc$$                              # prefix of this run's project names and its label value
LABEL=cmsd-bench-compose

for t in curl jq awk "$COMPOSE"; do
	command -v "$t" >/dev/null || bench_die "$t not found (docker-compose: apt-get install -y docker-compose)"
done
for v in REPS CAP; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || bench_die "$v must be a positive integer"
done
[[ $WARMUP =~ ^[0-9]+$ ]] && [ "$WARMUP" -le 5 ] || bench_die "BENCH_WARMUP must be 0..5"
[ "$REPS" -le 50 ] || bench_die "BENCH_REPS must be 1..50"
for n in $SIZES; do
	[[ $n =~ ^[1-9][0-9]*$ ]] && [ "$n" -le 500 ] || bench_die "BENCH_SIZES: 1..500 each"
done
case $STOP in trap | sleep) ;; *) bench_die "BENCH_STOP must be trap or sleep" ;; esac
case $FLOOR in 0 | 1) ;; *) bench_die "BENCH_FLOOR must be 0 or 1" ;; esac

TMP=$(mktemp -d /tmp/cmsd-bench-compose.XXXXXX) || bench_die "mktemp failed"
CMSD_PID=
PORT=
CUR_SOCK=
USED=()        # project names this run used on CUR_SOCK (removed again on exit)

uri() { jq -rn --arg s "$1" '$s|@uri'; }
filter() { uri "{\"label\":[\"$1\"]}"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# residue SOCK NAME -> "containers networks volumes" of project NAME still on the engine (by the
# project label, and networks/volumes also by the names both tools give them).
residue() {
	local sock=$1 p=$2 c n v
	c=$(engine_call "$sock" GET "/containers/json?all=1&filters=$(filter "com.docker.compose.project=$p")" | jq length)
	n=$(engine_call "$sock" GET "/networks" |
		jq --arg p "$p" '[.[] | select(.Name == ($p + "_default") or
			((.Labels // {})["com.docker.compose.project"] == $p))] | length')
	v=$(engine_call "$sock" GET "/volumes" |
		jq --arg p "$p" '[(.Volumes // [])[] | select((.Name | startswith($p + "_")) or
			((.Labels // {})["com.docker.compose.project"] == $p))] | length')
	echo "${c:-?} ${n:-?} ${v:-?}"
}

# force_clean SOCK NAME -> removes whatever of project NAME is left: containers (killed first),
# then its networks and volumes. Used before a run that finds residue, and on exit.
force_clean() {
	local sock=$1 p=$2 id pids=()
	for id in $(engine_call "$sock" GET "/containers/json?all=1&filters=$(filter "com.docker.compose.project=$p")" |
		jq -r '.[].Id'); do
		( engine_call "$sock" POST "/containers/$id/kill?signal=KILL" >/dev/null 2>&1
		  engine_call "$sock" DELETE "/containers/$id?force=1&v=1" >/dev/null 2>&1 ) &
		pids+=($!)
		if [ ${#pids[@]} -ge 16 ]; then wait "${pids[@]}"; pids=(); fi
	done
	[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
	for id in $(engine_call "$sock" GET "/networks" | jq -r --arg p "$p" '.[] |
		select(.Name == ($p + "_default") or ((.Labels // {})["com.docker.compose.project"] == $p)) | .Id'); do
		engine_call "$sock" DELETE "/networks/$id" >/dev/null 2>&1
	done
	for id in $(engine_call "$sock" GET "/volumes" | jq -r --arg p "$p" '(.Volumes // [])[] |
		select((.Name | startswith($p + "_")) or ((.Labels // {})["com.docker.compose.project"] == $p)) | .Name'); do
		engine_call "$sock" DELETE "/volumes/$(uri "$id")?force=1" >/dev/null 2>&1
	done
}

# clean_noted ENGINE/N SOCK NAME -> force_clean, then a note if something could still not be removed.
clean_noted() {
	local r
	force_clean "$2" "$3"
	r=$(residue "$2" "$3")
	[ "$r" = "0 0 0" ] || NOTES+=("$1: could not remove what is left of $3 (containers networks volumes: $r); Docker 20.10 can keep reporting 'has active endpoints' for a network with no container (moby/moby#42119)")
}

# clean_run SOCK -> containers of this run that carry the bench label but lost their project
# label (should be none), then every project this run named.
clean_run() {
	local sock=$1 p id
	[ -n "$sock" ] || return 0
	for id in $(engine_call "$sock" GET "/containers/json?all=1&filters=$(filter "$LABEL=$RUN")" 2>/dev/null |
		jq -r '.[].Id' 2>/dev/null); do
		engine_call "$sock" DELETE "/containers/$id?force=1&v=1" >/dev/null 2>&1
	done
	for p in "${USED[@]}"; do
		[ "$(residue "$sock" "$p" 2>/dev/null)" = "0 0 0" ] || force_clean "$sock" "$p"
	done
	USED=()
}

cleanup() {
	trap - EXIT INT TERM
	stop_pid "$CMSD_PID" cmsd
	CMSD_PID=
	clean_run "$CUR_SOCK"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'bench_log interrupted; exit 130' INT TERM

# gen_compose N -> a compose file of N services on stdout, shaped like an app repeated in blocks
# of five: dbK, cacheK, apiK (depends on dbK and cacheK), webK (depends on apiK), workerK
# (depends on dbK); the first db and the first cache each mount a named volume; all of them on
# the project's default network. N not a multiple of 5 ends with a partial block.
gen_compose() {
	local n=$1 i k role cmd
	local roles=(db cache api web worker)
	if [ "$STOP" = trap ]; then
		cmd="[\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep 3600 & wait\"]"
	else
		cmd='["sleep", "3600"]'
	fi
	echo "services:"
	for ((i = 0; i < n; i++)); do
		k=$((i / 5 + 1)) role=${roles[i % 5]}
		echo "  $role$k:"
		echo "    image: $IMAGE"
		echo "    command: $cmd"
		echo "    labels: {$LABEL: \"$RUN\", tier: \"$role\"}"
		case $role in
		api) echo "    depends_on: [db$k, cache$k]" ;;
		web) echo "    depends_on: [api$k]" ;;
		worker) echo "    depends_on: [db$k]" ;;
		db) ((k == 1)) && echo "    volumes: [\"dbdata:/var/lib/data\"]" ;;
		cache) ((k == 1)) && echo "    volumes: [\"cachedata:/cache\"]" ;;
		esac
	done
	echo "volumes:"
	echo "  dbdata: {}"
	echo "  cachedata: {}"
}

# cmsd_call PATH BODYFILE OUT -> POST through cmsd; 0 when HTTP 2xx and "success": true.
cmsd_call() {
	local code
	code=$(curl -sS -m "$CAP" -o "$3" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/json' --data-binary "@$2" "http://127.0.0.1:$PORT$1" 2>>"$3.err")
	[[ $code == 2?? ]] && [ "$(jq -r .success "$3" 2>/dev/null)" = true ]
}

# dc SOCK NAME FILE ARGS... -> docker-compose against the engine at SOCK, output to $TMP/dc.out.
dc() {
	local sock=$1 p=$2 f=$3
	shift 3
	DOCKER_HOST=unix://$sock COMPOSE_HTTP_TIMEOUT=$CAP timeout "$CAP" \
		"$COMPOSE" --ansi never -p "$p" -f "$f" "$@" >"$TMP/dc.out" 2>&1
}

# running SOCK NAME -> how many containers of project NAME are running.
running() {
	engine_call "$1" GET "/containers/json?filters=$(filter "com.docker.compose.project=$2")" | jq length
}

# outline FILE -> the end of a failed call's output (and curl's stderr) on one line: docker-compose
# prints its error last, after the progress lines.
outline() {
	cat "$1" "$1.err" 2>/dev/null | tr '\r' '\n' | grep -v '^[[:space:]]*$' | grep -v ' \.\.\. *\(done\)\?$' |
		tail -n 5 | tr '\n' ' ' | tail -c 800
}

# cycle ENGINE SOCK TOOL N REP -> up, check, down, check for one project; appends the up and down
# seconds to $TMP/t-ENGINE-N-TOOL-{up,down} unless REP is "w" (warm-up). 1 on a failure.
cycle() {
	local eng=$1 sock=$2 tool=$3 n=$4 rep=$5 p t0 t1 t2 t3 r ok=0 got
	p=$RUN-${tool:0:1}$n-$rep
	USED+=("$p")
	r=$(residue "$sock" "$p")
	if [ "$r" != "0 0 0" ]; then
		NOTES+=("$eng/$n: $p not clean before up (containers networks volumes: $r), removed first")
		force_clean "$sock" "$p"
	fi
	if [ "$tool" = cmsd ]; then
		jq -n --arg name "$p" --rawfile compose "$TMP/compose-$n.yml" '{name: $name, compose: $compose}' \
			>"$TMP/up.json"
		echo '{"volumes": true}' >"$TMP/down.json"
		t0=$(now)
		cmsd_call /v1/projects "$TMP/up.json" "$TMP/up.out" || ok=1
		t1=$(now)
	else
		t0=$(now)
		dc "$sock" "$p" "$TMP/compose-$n.yml" up -d || ok=1
		t1=$(now)
		cp "$TMP/dc.out" "$TMP/up.out"
	fi
	if [ $ok != 0 ]; then
		bench_log "$eng/$n $tool up of $p failed: $(outline "$TMP/up.out")"
		NOTES+=("$eng/$n: $tool up of $p failed: $(outline "$TMP/up.out")")
		clean_noted "$eng/$n" "$sock" "$p"
		return 1
	fi
	got=$(running "$sock" "$p")
	[ "$got" = "$n" ] || NOTES+=("$eng/$n: after $tool up of $p only ${got:-?} of $n containers were running")
	if [ "$tool" = cmsd ]; then
		t2=$(now)
		cmsd_call "/v1/projects/$p/down" "$TMP/down.json" "$TMP/down.out" || ok=1
		t3=$(now)
	else
		t2=$(now)
		dc "$sock" "$p" "$TMP/compose-$n.yml" down -v || ok=1
		t3=$(now)
		cp "$TMP/dc.out" "$TMP/down.out"
	fi
	if [ $ok != 0 ]; then
		bench_log "$eng/$n $tool down of $p failed: $(outline "$TMP/down.out")"
		NOTES+=("$eng/$n: $tool down of $p failed: $(outline "$TMP/down.out")")
		clean_noted "$eng/$n" "$sock" "$p"
		return 1
	fi
	r=$(residue "$sock" "$p")
	if [ "$r" != "0 0 0" ]; then
		NOTES+=("$eng/$n: after $tool down of $p left (containers networks volumes): $r; removed")
		clean_noted "$eng/$n" "$sock" "$p"
	fi
	bench_log "$eng/$n $tool rep $rep: up $(elapsed "$t0" "$t1") s, down $(elapsed "$t2" "$t3") s"
	[ "$rep" = w ] && return 0
	elapsed "$t0" "$t1" >>"$TMP/t-$eng-$n-$tool-up"
	echo >>"$TMP/t-$eng-$n-$tool-up"
	elapsed "$t2" "$t3" >>"$TMP/t-$eng-$n-$tool-down"
	echo >>"$TMP/t-$eng-$n-$tool-down"
}

# floor ENGINE SOCK N -> "up down" seconds for the engine alone: N containers created and started
# straight through the socket, 16 at a time, on a fresh network with no dependencies, then stopped
# and removed. What no client can beat on this machine; printed as a note, not as the peer.
floor() {
	local eng=$1 sock=$2 n=$3 p=$RUN-e$3 t0 t1 t2 t3 body
	USED+=("$p")
	engine_call "$sock" POST /networks/create \
		"{\"Name\":\"${p}_default\",\"Labels\":{\"com.docker.compose.project\":\"$p\"}}" >/dev/null || return 1
	body=$(jq -cn --arg img "$IMAGE" --arg p "$p" --arg l "$LABEL" --arg run "$RUN" --arg stop "$STOP" '{
		Image: $img, Labels: {"com.docker.compose.project": $p, ($l): $run},
		Cmd: (if $stop == "trap" then ["sh", "-c", "trap '"'"'exit 0'"'"' TERM; sleep 3600 & wait"]
		      else ["sleep", "3600"] end),
		HostConfig: {NetworkMode: ($p + "_default")}}')
	export -f engine_call
	export BENCH_API
	t0=$(now)
	seq 1 "$n" | xargs -P 16 -I{} bash -c 'id=$(engine_call "$1" POST "/containers/create?name=$2-{}" "$3" |
		jq -r .Id) && engine_call "$1" POST "/containers/$id/start" >/dev/null' _ "$sock" "$p" "$body"
	t1=$(now)
	[ "$(running "$sock" "$p")" = "$n" ] || NOTES+=("$eng/$n: engine floor: not all $n containers ran")
	t2=$(now)
	engine_call "$sock" GET "/containers/json?all=1&filters=$(filter "com.docker.compose.project=$p")" |
		jq -r '.[].Id' | xargs -P 16 -I{} bash -c 'engine_call "$1" POST "/containers/{}/stop?t=10" >/dev/null
			engine_call "$1" DELETE "/containers/{}" >/dev/null' _ "$sock"
	engine_call "$sock" DELETE "/networks/${p}_default" >/dev/null
	t3=$(now)
	echo "$(elapsed "$t0" "$t1") $(elapsed "$t2" "$t3")"
}

# median FILE -> the median of the numbers in FILE (mean of the middle two for an even count).
median() {
	sort -g "$1" | awk 'NF { v[++n] = $1 } END {
		if (!n) { print "-"; exit }
		if (n % 2) printf "%.3f\n", v[(n + 1) / 2]; else printf "%.3f\n", (v[n / 2] + v[n / 2 + 1]) / 2 }'
}
runs() { awk 'NF { printf "%s%s", (n++ ? "," : ""), $1 } END { print "" }' "$1"; }

ROWS=()
NOTES=()
row() { ROWS+=("$(printf '%-7s %4s %-5s %9s %9s %6s   %-24s %s' "$@")"); }

bench_engine() {
	local eng=$1 sock=$2 n rep w tool first second
	bench_start_cmsd "$eng" "$sock" operator || return 1
	bench_log "$eng: cmsd pid $CMSD_PID on 127.0.0.1:$PORT; $REPS reps per size, sizes $SIZES"
	LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
	for n in $SIZES; do : >"$TMP/t-$eng-$n-cmsd-up"; : >"$TMP/t-$eng-$n-cmsd-down"
		: >"$TMP/t-$eng-$n-dc-up"; : >"$TMP/t-$eng-$n-dc-down"; done
	for ((w = 0; w < WARMUP; w++)); do
		n=${SIZES%% *}
		cycle "$eng" "$sock" cmsd "$n" w || return 1
		cycle "$eng" "$sock" dc "$n" w || return 1
	done
	for n in $SIZES; do
		for ((rep = 1; rep <= REPS; rep++)); do
			# Odd reps cmsd first, even reps docker-compose first: drift hits both sides alike.
			if ((rep % 2)); then first=cmsd second=dc; else first=dc second=cmsd; fi
			# A failed cycle (noted) is run once more under a new name before giving up.
			cycle "$eng" "$sock" "$first" "$n" "$rep" || cycle "$eng" "$sock" "$first" "$n" "${rep}r" || return 1
			cycle "$eng" "$sock" "$second" "$n" "$rep" || cycle "$eng" "$sock" "$second" "$n" "${rep}r" || return 1
		done
	done
	if [ "$FLOOR" = 1 ]; then
		local fu fd
		for n in $SIZES; do
			read -r fu fd < <(floor "$eng" "$sock" "$n")
			bench_log "$eng/$n engine floor: create+start ${fu:-?} s, stop+remove ${fd:-?} s"
			NOTES+=("$eng/$n: engine floor (once; no dependencies; create+start by curl, 16 at a time, process start-up included, so a rough bound): create+start ${fu:-?} s, stop+remove ${fd:-?} s")
		done
	fi
	kill -0 "$CMSD_PID" 2>/dev/null || { bench_log "cmsd died during the run"; tail -n 20 "$TMP/cmsd-$eng.log" >&2; return 1; }
	NOTES+=("$eng: cmsd VmHWM (peak RSS) $(proc_kb "$CMSD_PID" VmHWM) kB")
	NOTES+=("$eng: load average (1/5/15 min) $LOAD0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end; others' jobs on the same CPUs show here")
	stop_pid "$CMSD_PID" cmsd
	CMSD_PID=
	local phase c d
	TARGET=()
	for n in $SIZES; do
		for phase in up down; do
			c=$(median "$TMP/t-$eng-$n-cmsd-$phase") d=$(median "$TMP/t-$eng-$n-dc-$phase")
			row "$eng" "$n" "$phase" "$c" "$d" "$(ratio "$c" "$d")" \
				"$(runs "$TMP/t-$eng-$n-cmsd-$phase")" "$(runs "$TMP/t-$eng-$n-dc-$phase")"
			[ "$phase" = up ] && TARGET+=("$n services: $(awk -v a="$c" -v b="$d" 'BEGIN {
				if (b + 0 == 0) print "-"; else printf "%.2fx, %s", a / b, (a / b <= 0.5 ? "met" : "NOT met") }')")
		done
	done
	NOTES+=("$eng: target cmsd up <= 0.5x docker-compose: $(IFS=';'; echo "${TARGET[*]}" | sed 's/;/; /g')")
	# cmsd's access log (info level, "POST /v1/projects 201 Nms"): every request must be a 2xx.
	local line
	while IFS= read -r line; do NOTES+=("$eng: cmsd access log: $line"); done < <(
		grep -oE 'POST /v1/projects[^ ]* [0-9]{3} ' "$TMP/cmsd-$eng.log" |
		awk '{ k = $1 " " ($2 ~ /down$/ ? "/v1/projects/{name}/down" : $2) " " $3; c[k]++ }
		     END { for (k in c) printf "%s: %d requests\n", k, c[k] }' | sort)
	while IFS= read -r line; do NOTES+=("$eng: cmsd log: $line"); done < <(
		grep -iE ' (error|warn) |assert|sanitizer' "$TMP/cmsd-$eng.log" | head -n 5)
	return 0
}

for n in $SIZES; do gen_compose "$n" >"$TMP/compose-$n.yml"; done
DC_VERSION=$("$COMPOSE" version --short 2>/dev/null || "$COMPOSE" --version 2>/dev/null | head -n1)
SAVED=()
SKIPPED=()
for spec in $ENGINES; do
	eng=${spec%%:*} sock=${spec#*:}
	ROWS=() NOTES=()
	if ! engine_up "$sock"; then
		SKIPPED+=("$eng ($sock not answering)")
		bench_log "skipping $eng: $sock does not answer /_ping"
		continue
	fi
	# docker-compose 1.x speaks the Docker API; Podman's compat socket usually answers it. Probe
	# with the smallest project first so that a refusal is reported as a reason, not a failure.
	CUR_SOCK=$sock
	probe=$RUN-probe
	USED+=("$probe")
	printf 'services:\n  a:\n    image: %s\n    command: ["true"]\n    labels: {%s: "%s"}\n' \
		"$IMAGE" "$LABEL" "$RUN" >"$TMP/probe.yml"
	if ! dc "$sock" "$probe" "$TMP/probe.yml" up -d || ! dc "$sock" "$probe" "$TMP/probe.yml" down -v; then
		why=$(grep -v '^\s*$' "$TMP/dc.out" | tail -n 3 | tr '\n' ' ')
		SKIPPED+=("$eng (a one-service docker-compose probe failed against $sock: $why)")
		bench_log "skipping $eng: docker-compose against $sock failed: $why"
		clean_run "$sock"
		continue
	fi
	engine_ver=$(engine_call "$sock" GET /version | jq -r '"\(.Version) (API \(.ApiVersion))"')
	bench_log "=== $eng ($sock, $engine_ver)"
	if bench_engine "$eng" "$sock"; then
		out=$RESULTS_DIR/compose-$eng.txt
		{
			echo "cmsd compose benchmark — $(date -u +%FT%TZ)"
			echo "$("$CMSD_BIN" --version 2>/dev/null | head -n1), commit $(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null || echo '?')" \
				"(worktree may have uncommitted changes)"
			echo "host: $(nproc) CPUs, $(uname -r); engine $eng $engine_ver at $sock; docker-compose $DC_VERSION"
			echo "project: $(echo $SIZES | sed 's/ / then /g') services; blocks of 5 (db, cache, api->db+cache, web->api, worker->db: depends_on depth 3),"
			echo "         default network, 2 named volumes; image $IMAGE; command: $(
				[ "$STOP" = trap ] && echo "sh -c \"trap 'exit 0' TERM; sleep 3600 & wait\" (stops on SIGTERM)" ||
				echo 'sleep 3600 (ignores SIGTERM: down waits out the stop timeout)')"
			echo "cmsd:   POST /v1/projects {name, compose} (up), POST /v1/projects/{name}/down {\"volumes\":true}; --log-level $LOG_LEVEL"
			echo "peer:   DOCKER_HOST=unix://$sock docker-compose -p NAME -f FILE up -d, then down -v"
			echo "$REPS reps per size and tool, order alternating (odd reps cmsd first), $WARMUP warm-up cycle(s) per tool discarded;"
			echo "every project has its own name and is checked empty (containers, networks, volumes) before up and after down"
			echo
			printf '%-7s %4s %-5s %9s %9s %6s   %-24s %s\n' engine svcs phase "cmsd s" "d-c s" ratio "cmsd runs" "docker-compose runs"
			printf '%s\n' "${ROWS[@]}"
			echo
			printf '%s\n' "${NOTES[@]}"
		} >"$TMP/report-$eng"
		cat "$TMP/report-$eng"
		echo
		mkdir -p "$RESULTS_DIR"
		cp "$TMP/report-$eng" "$out" && SAVED+=("$out") && bench_log "saved $out"
	else
		SKIPPED+=("$eng (failed, see messages above)")
		stop_pid "$CMSD_PID" cmsd
		CMSD_PID=
		[ -f "$TMP/cmsd-$eng.log" ] && { bench_log "last lines of cmsd's log:"; tail -n 15 "$TMP/cmsd-$eng.log" >&2; }
	fi
	clean_run "$sock"
done

[ ${#SKIPPED[@]} -eq 0 ] || bench_log "skipped: ${SKIPPED[*]}"
echo "engines saved: ${SAVED[*]:-none}; skipped: ${SKIPPED[*]:-none}"
[ ${#SAVED[@]} -gt 0 ]
