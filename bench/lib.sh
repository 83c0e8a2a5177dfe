# Helpers for the bench/ scripts: engine calls over the unix socket, free-port finding, percentiles
# and bounded process start/stop. Sourced, not run; every wait here has a count and a time cap, and
# processes are only ever stopped by a PID the caller recorded when it started them.

# The engine API version used for direct calls (Docker 20.10 and Podman's compat layer accept it).
BENCH_API=${BENCH_API:-v1.41}

bench_log() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
bench_die() { bench_log "error: $*"; exit 1; }

# engine_call SOCK METHOD PATH [JSON-BODY] -> body on stdout, fails on curl error or HTTP >= 400.
engine_call() {
	local sock=$1 method=$2 path=$3 body=${4-}
	local args=(-sS --fail-with-body -m 60 --unix-socket "$sock" -X "$method")
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	curl "${args[@]}" "http://engine/$BENCH_API$path"
}

# engine_up SOCK -> 0 when the socket answers /_ping within 3 s.
engine_up() {
	[ -S "$1" ] && [ "$(curl -s -m 3 --unix-socket "$1" http://engine/_ping 2>/dev/null)" = OK ]
}

# port_free PORT -> 0 when no TCP socket (listening, connected or TIME_WAIT) uses PORT locally.
port_free() {
	! ss -Hatn "sport = :$1" 2>/dev/null | grep -q .
}

# free_port -> a TCP port nobody uses, below the kernel's ephemeral range so that the outgoing
# connections of a benchmark (many, in TIME_WAIT) cannot take it (50 random tries at most).
free_port() {
	local lo=32768 i p
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
	((lo > 12000)) || lo=32768
	for ((i = 0; i < 50; i++)); do
		p=$((10000 + RANDOM % (lo - 10000)))
		port_free "$p" && { echo "$p"; return 0; }
	done
	return 1
}

# wait_http URL SECONDS -> 0 once URL answers any HTTP status, polling every 0.1 s.
wait_http() {
	local url=$1 cap=$2 i
	for ((i = 0; i < cap * 10; i++)); do
		curl -s -o /dev/null -m 1 "$url" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# stop_pid PID [NAME] -> TERM, wait up to 5 s, then KILL; only for PIDs we started ourselves.
stop_pid() {
	local pid=$1 name=${2:-process} i
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
		sleep 0.1
	done
	bench_log "$name (pid $pid) ignored SIGTERM for 5 s, sending SIGKILL"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# pctl FILE P... -> the nearest-rank percentiles of the numbers in FILE (one per line), in order.
pctl() {
	local f=$1
	shift
	sort -g "$f" | awk -v ps="$*" '
		{ v[NR] = $1 }
		END {
			n = split(ps, p, " ")
			for (i = 1; i <= n; i++) {
				k = int(p[i] / 100 * NR); if (k < p[i] / 100 * NR) k++; if (k < 1) k = 1
				printf "%s%s", (i > 1 ? " " : ""), v[k]
			}
			print ""
		}'
}

# ratio A B -> A/B with two decimals, or "-" when either side is missing or B is zero.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-"
		else printf "%.2f\n", a / b }'
}

# proc_kb PID FIELD -> the value in kB of FIELD (VmRSS, VmHWM, ...) in /proc/PID/status.
proc_kb() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

# overhead A B -> how much A exceeds B, in signed whole percent, or "-" when B is missing or zero.
overhead() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-"
		else printf "%+.0f\n", (a - b) / b * 100 }'
}

# bench_start_cmsd ENGINE SOCK ROLE -> sets CMSD_PID and PORT: cmsd on a free 127.0.0.1 port with
# one token ($TOKEN, of ROLE) and a temp state_dir, config and log in $TMP; three tries.
# Needs CMSD_BIN, TMP, TOKEN, LOG_LEVEL.
# shellcheck disable=SC2153 # those are the caller's
bench_start_cmsd() {
	local eng=$1 sock=$2 role=$3 try
	mkdir -p "$TMP/state-$eng"
	cat >"$TMP/cmsd-$eng.yaml" <<-EOF
		tokens:
		  - {name: bench, role: $role, token: "$TOKEN"}
		state_dir: $TMP/state-$eng
		log_level: $LOG_LEVEL
		# every load comes from 127.0.0.1: the per-address cap must not be what is measured
		limits: {max_connections_per_ip: 1024}
	EOF
	for ((try = 0; try < 3; try++)); do
		PORT=$(free_port) || return 1
		"$CMSD_BIN" --config "$TMP/cmsd-$eng.yaml" --listen "127.0.0.1:$PORT" \
			--engine "unix://$sock" --log-level "$LOG_LEVEL" >>"$TMP/cmsd-$eng.log" 2>&1 &
		CMSD_PID=$!
		if wait_http "http://127.0.0.1:$PORT/v1/health" 10 && kill -0 "$CMSD_PID" 2>/dev/null; then
			return 0
		fi
		stop_pid "$CMSD_PID" cmsd
		CMSD_PID=
		bench_log "cmsd did not answer on 127.0.0.1:$PORT within 10 s, retrying"
	done
	bench_log "cmsd did not come up; its log:"
	tail -n 20 "$TMP/cmsd-$eng.log" >&2
	return 1
}

# bench_timed_cmsd SOCK LABEL [fresh]: a cmsd on the engine at SOCK under /usr/bin/time -v (its
# figures in $TMP/time-LABEL.txt, its log in $TMP/cmsd-LABEL.log), one admin token ($TOKEN),
# state_dir $TMP/state ("fresh": emptied first); sets TIME_PID, CMSD_PID (cmsd itself, time's
# child) and CMSD_URL. Needs CMSD_BIN, TMP, TOKEN.
# shellcheck disable=SC2153 # those are the caller's
bench_timed_cmsd() {
	local port i
	port=$(free_port) || bench_die "no free port"
	[ "${3-}" = fresh ] && rm -rf "$TMP/state"
	mkdir -p "$TMP/state"
	printf '%s\n' "listen: [\"127.0.0.1:$port\"]" "tokens:" \
		"  - {name: bench, role: admin, token: \"$TOKEN\"}" "state_dir: \"$TMP/state\"" \
		"log_level: warn" >"$TMP/cmsd.yaml"
	/usr/bin/time -v -o "$TMP/time-$2.txt" "$CMSD_BIN" --config "$TMP/cmsd.yaml" --engine "unix://$1" \
		>"$TMP/cmsd-$2.log" 2>&1 &
	TIME_PID=$!
	CMSD_URL=http://127.0.0.1:$port
	for ((i = 0; i < 50; i++)); do
		CMSD_PID=$(awk '{ print $1 }' "/proc/$TIME_PID/task/$TIME_PID/children" 2>/dev/null)
		[ -n "$CMSD_PID" ] && break
		sleep 0.1
	done
	wait_http "$CMSD_URL/v1/health" 20 || bench_die "cmsd did not start: $(tail -n 3 "$TMP/cmsd-$2.log")"
}
