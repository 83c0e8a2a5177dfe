#!/usr/bin/env bash
# CLI benchmark for cmsctl: hyperfine on cmsctl's ps, ps -a, images, inspect and --format json
# against the engine's own CLI (docker / podman --remote) on the same engine, in the same run, so
# the results are ratios, never absolute pass/fail timings.
# Usage: bench/cli.sh CMSD_BIN [CMSCTL_BIN]   (see bench/README.md for the knobs).
# All traffic goes to 127.0.0.1 or to unix sockets; everything it starts it stops by recorded PID,
# and it removes only the containers it created itself, by id.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh disable=SC1091 # lib.sh is checked on its own; -x follows it
. "$HERE/lib.sh"

CMSD_BIN=${1:-}
if [ -z "$CMSD_BIN" ] || [ ! -x "$CMSD_BIN" ]; then
	bench_die "usage: $0 CMSD_BIN [CMSCTL_BIN] (executables)"
fi
CMSD_BIN=$(cd "$(dirname "$CMSD_BIN")" && pwd)/$(basename "$CMSD_BIN")
CMSCTL_BIN=${2:-$(dirname "$CMSD_BIN")/cmsctl}
[ -x "$CMSCTL_BIN" ] || bench_die "$CMSCTL_BIN is not an executable cmsctl"
CMSCTL_BIN=$(cd "$(dirname "$CMSCTL_BIN")" && pwd)/$(basename "$CMSCTL_BIN")

NCTR=${BENCH_CONTAINERS:-50}           # bench containers per engine
RUNS=${BENCH_RUNS:-100}                # hyperfine --runs per command
WARMUP=${BENCH_WARMUP:-5}              # hyperfine --warmup per command
LOG_LEVEL=${BENCH_LOG_LEVEL:-info}     # cmsd's default; access log goes to a temp file
SETUP_CAP=${BENCH_SETUP_SECS:-300}     # time cap for creating the bench containers
IMAGE=${BENCH_IMAGE:-cmsd-test/busybox:latest}
ENGINES=${BENCH_ENGINES:-docker:/var/run/docker.sock podman:/run/podman/podman.sock}
TOKEN=bench-viewer-token
RESULTS=${BENCH_RESULTS:-$HERE/results/cli-$(date +%F).txt}
TARGET=0.5                             # issue #12: cmsctl at most 0.5x the engine CLI's time

for t in curl jq hyperfine ss awk; do
	command -v "$t" >/dev/null || bench_die "$t not found (hyperfine: apt-get install -y hyperfine)"
done
for v in NCTR RUNS SETUP_CAP; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || bench_die "$v must be a positive integer"
done
[[ $WARMUP =~ ^[0-9]+$ ]] || bench_die "BENCH_WARMUP must be a non-negative integer"
if [ "$NCTR" -gt 500 ] || [ "$RUNS" -gt 1000 ] || [ "$WARMUP" -gt 100 ]; then
	bench_die "limits too large"
fi

TMP=$(mktemp -d /tmp/cmsd-bench-cli.XXXXXX) || bench_die "mktemp failed"
# Private copies: a rebuild of build/ by someone else during the run must not mix two versions.
if ! { mkdir -p "$TMP/bin" && cp "$CMSD_BIN" "$TMP/bin/cmsd" && cp "$CMSCTL_BIN" "$TMP/bin/cmsctl"; }; then
	rm -rf "$TMP"
	bench_die "cannot copy the binaries to $TMP/bin"
fi
CMSD_SRC=$CMSD_BIN CMSCTL_SRC=$CMSCTL_BIN
CMSD_BIN=$TMP/bin/cmsd CMSCTL_BIN=$TMP/bin/cmsctl
CMSD_PID=
CUR_SOCK=
CREATED=()      # ids of bench containers this run created on CUR_SOCK
CREATED_NAMES=()

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
	CREATED_NAMES=()
}

cleanup() {
	trap - EXIT INT TERM
	stop_pid "$CMSD_PID" cmsd
	CMSD_PID=
	remove_created
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'bench_log interrupted; exit 130' INT TERM

# create_one SOCK NAME -> the new running container's id on stdout.
create_one() {
	local sock=$1 name=$2 id
	id=$(engine_call "$sock" POST "/containers/create?name=$name" \
		"{\"Image\":\"$IMAGE\",\"Cmd\":[\"sleep\",\"3600\"],\"Labels\":{\"cmsd-bench-cli\":\"1\"}}" |
		jq -r .Id) && [ -n "$id" ] && [ "$id" != null ] || return 1
	echo "$id"
	engine_call "$sock" POST "/containers/$id/start" >/dev/null
}

# make_containers SOCK -> NCTR new running containers cmsdcli-PID-1..N (8 created at a time);
# their ids go to CREATED as soon as they exist, so that cleanup finds even a half-made set.
make_containers() {
	local sock=$1 start=$SECONDS n k name id bad=0 pids=()
	for ((n = 1; n <= NCTR; n += 8)); do
		(( SECONDS - start <= SETUP_CAP )) || { bench_log "setup over ${SETUP_CAP}s"; return 1; }
		pids=()
		for ((k = n; k < n + 8 && k <= NCTR; k++)); do
			name=cmsdcli-$$-$k
			create_one "$sock" "$name" >"$TMP/id-$k" 2>"$TMP/err-$k" &
			pids+=($!)
		done
		for ((k = 0; k < ${#pids[@]}; k++)); do wait "${pids[$k]}" || bad=1; done
		for ((k = n; k < n + 8 && k <= NCTR; k++)); do
			read -r id <"$TMP/id-$k" 2>/dev/null || id=
			[ -n "$id" ] && { CREATED+=("$id"); CREATED_NAMES+=("cmsdcli-$$-$k"); }
		done
		((bad == 0)) || { bench_log "cannot create or start bench containers on $sock (is $IMAGE there?): $(cat "$TMP"/err-* 2>/dev/null | head -n 2)"; return 1; }
	done
	bench_log "$NCTR bench containers running ($((SECONDS - start))s)"
}

# hf NAME CMSCTL-ARGS -- PEER-ARGS -> one hyperfine run of the pair; JSON in $TMP/hf-NAME.json.
# -N: no shell in between, so only the command itself is timed; stdout goes to /dev/null.
hf() {
	local name=$1 a=() b=() seen=0 x
	shift
	for x in "$@"; do
		if [ "$x" = -- ]; then seen=1; elif ((seen)); then b+=("$x"); else a+=("$x"); fi
	done
	# hyperfine splits each command line on whitespace itself (with -N): no argument has a space.
	timeout $(((RUNS + WARMUP) * 2 * 10 + 60)) hyperfine -N --style basic --warmup "$WARMUP" \
		--runs "$RUNS" --export-json "$TMP/hf-$name.json" \
		-n "cmsctl" "${a[*]}" -n "peer" "${b[*]}" >"$TMP/hf-$name.out" 2>&1 ||
		{ bench_log "hyperfine failed on $name:"; tail -n 5 "$TMP/hf-$name.out" >&2; return 1; }
}

# ms FILE IDX -> "mean sd median cpu" in milliseconds of result IDX of a hyperfine JSON export
# (cpu: the mean user + system time of the command itself, which other load on the CPUs disturbs less).
ms() {
	jq -r --argjson i "$2" '.results[$i] | "\(.mean) \(.stddev) \(.median) \(.user + .system)"' "$1" |
		awk '{ printf "%.2f %.2f %.2f %.2f\n", $1 * 1000, $2 * 1000, $3 * 1000, $4 * 1000 }'
}

ROWS=()
NOTES=()
MISSED=0
FMT='%-7s %-34s %18s %18s %6s %7s %5s %8s %8s %6s'
# shellcheck disable=SC2059 # FMT is the table's one format
row() { ROWS+=("$(printf "$FMT" "$@")"); }

# report_pair ENGINE LABEL NAME [ref] -> a table row from $TMP/hf-NAME.json; a "ref" row has no target.
report_pair() {
	local eng=$1 label=$2 name=$3 kind=${4:-} cm cs cmed ccpu pm ps pmed pcpu r tgt
	read -r cm cs cmed ccpu < <(ms "$TMP/hf-$name.json" 0)
	read -r pm ps pmed pcpu < <(ms "$TMP/hf-$name.json" 1)
	r=$(ratio "$cm" "$pm")
	if [ "$kind" = ref ]; then
		tgt="(ref)"
	elif awk -v r="$r" -v t="$TARGET" 'BEGIN { exit !(r != "-" && r + 0 <= t + 0) }'; then
		tgt="met"
	else
		tgt="MISSED"
		MISSED=$((MISSED + 1))
	fi
	row "$eng" "$label" "$cm ± $cs" "$pm ± $ps" "$r" "$tgt" "$(ratio "$cmed" "$pmed")" \
		"$ccpu" "$pcpu" "$(ratio "$ccpu" "$pcpu")"
}

# check_same ENGINE WHAT CMSCTL-ARGS -- PEER-ARGS -> both succeed once; a note with their line counts.
check_same() {
	local eng=$1 what=$2 a=() b=() seen=0 x na nb
	shift 2
	for x in "$@"; do
		if [ "$x" = -- ]; then seen=1; elif ((seen)); then b+=("$x"); else a+=("$x"); fi
	done
	timeout 30 "${a[@]}" >"$TMP/out-a" 2>"$TMP/err-a" ||
		{ bench_log "$eng: '${a[*]}' failed: $(head -n 2 "$TMP/err-a")"; return 1; }
	timeout 30 "${b[@]}" >"$TMP/out-b" 2>"$TMP/err-b" ||
		{ bench_log "$eng: '${b[*]}' failed: $(head -n 2 "$TMP/err-b")"; return 1; }
	na=$(wc -l <"$TMP/out-a") nb=$(wc -l <"$TMP/out-b")
	CHECKS+=("$what $na/$nb")
}

bench_engine() {
	local eng=$1 sock=$2 peer=() x
	CHECKS=()
	CUR_SOCK=$sock
	case $eng in
	podman) peer=(podman --remote --url "unix://$sock") ;;
	*) peer=(docker -H "unix://$sock") ;;
	esac
	command -v "${peer[0]}" >/dev/null || { bench_log "$eng: ${peer[0]} CLI not found"; return 1; }
	make_containers "$sock" || return 1
	bench_start_cmsd "$eng" "$sock" viewer || return 1
	bench_log "$eng: cmsd pid $CMSD_PID on 127.0.0.1:$PORT; hyperfine --warmup $WARMUP --runs $RUNS per command"
	export CMSD_URL="http://127.0.0.1:$PORT" CMSD_TOKEN=$TOKEN
	x=${CREATED_NAMES[0]}
	local cm=("$CMSCTL_BIN")
	check_same "$eng" "ps lines" "${cm[@]}" ps -- "${peer[@]}" ps || return 1
	check_same "$eng" "ps -a lines" "${cm[@]}" ps -a -- "${peer[@]}" ps -a || return 1
	check_same "$eng" "images lines" "${cm[@]}" images -- "${peer[@]}" images || return 1
	check_same "$eng" "inspect lines" "${cm[@]}" inspect "$x" -- "${peer[@]}" inspect "$x" || return 1
	local json=1
	if ! "${peer[@]}" ps --format json >/dev/null 2>&1; then
		json=0
		NOTES+=("$eng: '${peer[0]} ps --format json' is not supported by this CLI: row skipped")
	else
		check_same "$eng" "json ps lines" "${cm[@]}" --format json ps -- "${peer[@]}" ps --format json || return 1
	fi
	NOTES+=("$eng: output lines cmsctl/peer (same containers listed; formats differ): ${CHECKS[*]}")

	bench_log "$eng: ps"
	hf "$eng-ps" "${cm[@]}" ps -- "${peer[@]}" ps || return 1
	report_pair "$eng" "ps" "$eng-ps"
	bench_log "$eng: ps -a"
	hf "$eng-psa" "${cm[@]}" ps -a -- "${peer[@]}" ps -a || return 1
	report_pair "$eng" "ps -a" "$eng-psa"
	bench_log "$eng: images"
	hf "$eng-images" "${cm[@]}" images -- "${peer[@]}" images || return 1
	report_pair "$eng" "images" "$eng-images"
	bench_log "$eng: inspect $x"
	hf "$eng-inspect" "${cm[@]}" inspect "$x" -- "${peer[@]}" inspect "$x" || return 1
	report_pair "$eng" "inspect X" "$eng-inspect"
	if ((json)); then
		bench_log "$eng: ps as JSON"
		hf "$eng-json" "${cm[@]}" --format json ps -- "${peer[@]}" ps --format json || return 1
		report_pair "$eng" "ps, JSON (--format json)" "$eng-json"
	fi
	# Reference: the same HTTP call as cmsctl ps, made by curl (its start-up and libcurl, no JSON
	# parsing or table): what any libcurl client pays for this round trip through cmsd.
	printf 'Authorization: Bearer %s\n' "$TOKEN" >"$TMP/auth"
	bench_log "$eng: reference: curl GET /v1/containers vs cmsctl ps"
	hf "$eng-curl" "${cm[@]}" ps -- curl -sS -f -o /dev/null -H "@$TMP/auth" "$CMSD_URL/v1/containers" || return 1
	report_pair "$eng" "ref: ps (peer: curl, same call)" "$eng-curl" ref
	unset CMSD_URL CMSD_TOKEN

	kill -0 "$CMSD_PID" 2>/dev/null || { bench_log "cmsd died during the run"; tail -n 20 "$TMP/cmsd-$eng.log" >&2; return 1; }
	stop_pid "$CMSD_PID" cmsd
	CMSD_PID=
	local line
	while IFS= read -r line; do NOTES+=("$eng: cmsd log: $line"); done < <(
		grep -iE ' (error|warn) |assert|sanitizer' "$TMP/cmsd-$eng.log" | head -n 5)
	remove_created
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
VERSIONS=()
SKIPPED=()
RAN=()

# Pure start-up, no server and no engine involved: --help on both sides, once per run.
bench_log "=== start-up: cmsctl --help vs docker --help"
if command -v docker >/dev/null && hf help "$CMSCTL_BIN" --help -- docker --help; then
	report_pair "-" "--help (start-up only)" help ref
fi

for spec in $ENGINES; do
	eng=${spec%%:*} sock=${spec#*:}
	if ! engine_up "$sock"; then
		SKIPPED+=("$eng ($sock not answering)")
		bench_log "skipping $eng: $sock does not answer /_ping"
		continue
	fi
	case $eng in
	podman) VERSIONS+=("podman $(podman --remote --url "unix://$sock" version --format \
		'client {{.Client.Version}}, server {{.Server.Version}}' 2>/dev/null || echo '?')") ;;
	*) VERSIONS+=("docker $(docker -H "unix://$sock" version --format \
		'client {{.Client.Version}}, server {{.Server.Version}}' 2>/dev/null || echo '?')") ;;
	esac
	bench_log "=== $eng ($sock)"
	if bench_engine "$eng" "$sock"; then
		RAN+=("$eng")
	else
		SKIPPED+=("$eng (failed, see messages above)")
		unset CMSD_URL CMSD_TOKEN
		stop_pid "$CMSD_PID" cmsd
		CMSD_PID=
		remove_created
	fi
done

{
	echo "cmsctl CLI benchmark — $(date -u +%FT%TZ)"
	# the binaries' paths relative to the tree (a results file never names the machine's paths)
	echo "$("$CMSD_BIN" --version 2>/dev/null | head -n1) (${CMSD_SRC#"$(dirname "$HERE")"/}), cmsctl (${CMSCTL_SRC#"$(dirname "$HERE")"/}," \
		"$(ldd "$CMSCTL_BIN" | grep -c '=>') shared libraries), commit $(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null || echo '?') (worktree may have uncommitted changes)"
	echo "host: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(uname -r);" \
		"cmsctl, cmsd, the engine and its CLI share these CPUs"
	echo "load average (1/5/15 min) at the start: $LOAD0, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "engines: ${VERSIONS[*]:-none}; $(hyperfine --version)"
	echo "hyperfine -N --warmup $WARMUP --runs $RUNS per command; $NCTR running bench containers per engine;" \
		"cmsd --log-level $LOG_LEVEL (access log to a file); cmsctl reaches cmsd over http://127.0.0.1"
	echo "engines run: ${RAN[*]:-none}; skipped: ${SKIPPED[*]:-none}"
	echo
	echo "wall times in ms, mean ± sd; ratio = cmsctl / peer of the means (lower is better); target: ratio <= $TARGET;"
	echo "med: the ratio of the medians; cpu: user + system ms of the client process alone, and their ratio"
	# a row's "±" is two bytes that printf counts as two columns: the header is one narrower per cell
	printf '%-7s %-34s %17s %17s %6s %7s %5s %8s %8s %6s\n' engine pair cmsctl peer ratio target med \
		"cpu ctl" "cpu peer" "cpu r"
	printf '%s\n' "${ROWS[@]}"
	echo
	echo "peer: docker -H unix://SOCK (Docker), podman --remote --url unix://SOCK (Podman), docker --help for --help"
	echo "rows that miss the target: $MISSED"
	printf '%s\n' "${NOTES[@]}"
} >"$TMP/report"

cat "$TMP/report"
if [ ${#RAN[@]} -gt 0 ]; then
	mkdir -p "$(dirname "$RESULTS")"
	cp "$TMP/report" "$RESULTS" && bench_log "saved $RESULTS"
fi
[ ${#RAN[@]} -gt 0 ]
