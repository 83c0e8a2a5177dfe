#!/usr/bin/env bash
# Faults, the quick ones (bench/faults.sh has the long ones): an engine that accepts and never
# answers, or stops in the middle of a reply, or never sends a stream's header - each request gets
# its 504 within limits.request_timeout also when many come at once, no thread or engine
# connection stays behind, /v1/health answers throughout; events follows (SSE and NDJSON) against
# an engine that never starts the stream or hangs in the middle of it end with an error event in
# bounded time, while a quiet engine that answers keeps them open; cmsd killed (kill -9) in the
# middle of a burst of audited writes and during its metrics snapshot's write; a state_dir that
# runs out of space. The broken engines are fault_engine.py (pretending to be the engine under
# test); the rest runs on the real engine.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/projects_lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
TIMEOUT_S=2 # limits.request_timeout of the private cmsd
# What a 504 may take past the timeout: scheduling on a loaded 2-core machine, not a second
# timeout (before the fix the 20th request took 20 timeouts).
SLACK_MS=1500

# fault_cmsd MODE: a fault engine in MODE on a socket of its own and a cmsd pointed at it.
fault_cmsd() {
        local port
        FSOCK="$T_TMP/fe.sock"
        FSTATUS="$T_TMP/fe.status"
        command -v python3 >/dev/null || fail "python3 is needed for the fault engine"
        python3 "$HERE/fault_engine.py" "$FSOCK" "$1" "$ENGINE" "$FSTATUS" >"$T_TMP/fe.log" 2>&1 &
        echo $! >>"$T_TMP/pids"
        wait_for "[ -S '$FSOCK' ] && [ -s '$FSTATUS' ]" 10 || fail "fault engine did not start"
        port=$(free_port) || fail "no free port"
        write_config "$T_TMP/cmsd.yaml" "$port" "unix://$FSOCK"
        sed -i "s/^limits: .*/limits: {max_body: 1m, request_timeout: ${TIMEOUT_S}s}/" \
                "$T_TMP/cmsd.yaml"
        start_cmsd "$T_TMP/cmsd.yaml" "$port" "unix://$FSOCK"
}

tasks() { ls "/proc/$MY_PID/task" | wc -l; }
fds() { ls "/proc/$MY_PID/fd" | wc -l; }
engine_open() { sed -E 's/.*open=([0-9]+).*/\1/' "$FSTATUS"; }

# burst N PATH [CURL-OPTS...]: N concurrent requests; their "status ms" lines in $T_TMP/burst.
burst() {
        local n=$1 path=$2 i
        shift 2
        rm -f "$T_TMP"/b.*
        for ((i = 0; i < n; i++)); do
                curl -s -o "$T_TMP/b.body.$i" -w '%{http_code} %{time_total}\n' --max-time 60 \
                        -H "Authorization: Bearer $TOK_ADMIN" "$@" "$MY_URL$path" \
                        >"$T_TMP/b.out.$i" 2>/dev/null &
                echo "$!" >>"$T_TMP/b.pids"
        done
}

# burst_wait CODE: every request of the burst got HTTP 504 with CODE within the timeout.
burst_wait() {
        local pid i st t ms max=$((TIMEOUT_S * 1000 + SLACK_MS)) worst=0
        while read -r pid; do wait "$pid"; done <"$T_TMP/b.pids"
        for f in "$T_TMP"/b.out.*; do
                read -r st t <"$f" || st=000
                i=${f##*.}
                ms=$(awk -v t="$t" 'BEGIN { printf "%d", t * 1000 }')
                [ "$ms" -gt "$worst" ] && worst=$ms
                [ "$st" = 504 ] || fail "request $i: HTTP $st after ${ms} ms, expected 504: $(short "$(cat "$T_TMP/b.body.$i")")"
                jq -e --arg c "$1" '.success == false and .error.code == $c and .error.status == 504' \
                        "$T_TMP/b.body.$i" >/dev/null ||
                        fail "request $i: not a 504 $1 envelope: $(short "$(cat "$T_TMP/b.body.$i")")"
                [ "$ms" -le "$max" ] ||
                        fail "request $i: 504 after $ms ms (limit ${TIMEOUT_S} s + ${SLACK_MS} ms); all: $(cat "$T_TMP"/b.out.* | tr '\n' ' ')"
        done
        echo "burst: slowest 504 after $worst ms"
}

# health_during SECONDS: /v1/health polled every 0.2 s in the background; health_check after.
health_during() {
        (
                end=$((SECONDS + $1))
                while [ "$SECONDS" -lt "$end" ]; do
                        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 2 \
                                "$MY_URL/v1/health" || echo "000 2"
                        sleep 0.2
                done
        ) >"$T_TMP/health" &
        HEALTH_PID=$!
}

health_check() {
        wait "$HEALTH_PID"
        local n bad
        n=$(wc -l <"$T_TMP/health")
        bad=$(awk '$1 != 200 || $2 > 1.0' "$T_TMP/health" | head -n 3 | tr '\n' ' ')
        [ "$n" -ge 5 ] || fail "/v1/health polled only $n times"
        [ -z "$bad" ] || fail "/v1/health not answering promptly during the fault: $bad"
}

# settled BASE_TASKS: the threads are back to what they were and none of the burst's engine
# connections is open (two may be, not the burst's: the sampler's events stream, which a
# partial engine keeps open, and its periodic container list, which times out and comes again).
settled() {
        wait_for "[ \"\$(tasks)\" -le $1 ] && [ \"\$(engine_open)\" -le 2 ]" 10 ||
                fail "left behind: $(tasks) threads (were $1), engine connections $(cat "$FSTATUS")"
}

# 20 concurrent lists against an engine that accepts and never answers (issue #15: they were
# answered one after another, a timeout apart).
hang_concurrent() {
        fault_cmsd hang
        local base_tasks fds1 fds2
        sleep 0.5
        base_tasks=$(tasks)
        health_during $((TIMEOUT_S + 3))
        burst 20 /v1/containers
        burst_wait timeout
        health_check
        settled "$base_tasks"
        fds1=$(fds)
        # A second burst: nothing grows (the engine handles are pooled, connections closed).
        burst 20 /v1/containers
        burst_wait timeout
        settled "$base_tasks"
        fds2=$(fds)
        # (+3: the sampler's reconnecting events stream or a health poll may be in flight)
        [ "$fds2" -le $((fds1 + 3)) ] || fail "open fds grew from $fds1 to $fds2 over a second burst"
        grep -q 'accepted=0' "$FSTATUS" && fail "the fault engine saw no connection"
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
}

# The engine answers the probe, then stops in the middle of every reply: lists, inspects and
# images at once, each a 504.
partial_reply() {
        fault_cmsd partial
        local base_tasks f
        sleep 0.5
        base_tasks=$(tasks)
        health_during $((TIMEOUT_S + 3))
        rm -f "$T_TMP"/b.*
        for f in /v1/containers /v1/containers/abc /v1/images /v1/networks /v1/volumes; do
                local i
                for i in 1 2 3 4; do
                        curl -s -o "$T_TMP/b.body.${f//\//_}$i" -w '%{http_code} %{time_total}\n' \
                                --max-time 60 -H "Authorization: Bearer $TOK_ADMIN" "$MY_URL$f" \
                                >"$T_TMP/b.out.${f//\//_}$i" 2>/dev/null &
                        echo "$!" >>"$T_TMP/b.pids"
                done
        done
        burst_wait timeout
        health_check
        settled "$base_tasks"
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
}

# A log stream whose reply header never comes: a stream has no total timeout, but it must not
# wait for ever for the engine to start it. The client has its event-stream header already (the
# route answers 200 first); the stream ends with an error event within the timeout.
stream_no_header() {
        fault_cmsd nohead
        local base_tasks f i st t ms max=$((TIMEOUT_S * 1000 + SLACK_MS))
        sleep 0.5
        base_tasks=$(tasks)
        burst 10 '/v1/containers/abc/logs?follow=true' -H 'Accept: text/event-stream'
        while read -r pid; do wait "$pid"; done <"$T_TMP/b.pids"
        for f in "$T_TMP"/b.out.*; do
                read -r st t <"$f" || st=000
                i=${f##*.}
                ms=$(awk -v t="$t" 'BEGIN { printf "%d", t * 1000 }')
                grep -q '^event: error' "$T_TMP/b.body.$i" &&
                        grep -q 'no reply header within' "$T_TMP/b.body.$i" ||
                        fail "stream $i: HTTP $st after $ms ms without the error event: $(short "$(cat "$T_TMP/b.body.$i")")"
                [ "$ms" -le "$max" ] || fail "stream $i ended after $ms ms (limit $max)"
        done
        settled "$base_tasks"
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
}

# follow_events NAME ACCEPT [QUERY]: a /v1/events follow in the background; its body in
# $T_TMP/ev.NAME, the time it ended (ms) in $T_TMP/ev.NAME.end, its PID in EV_PID.
follow_events() {
        (
                curl -sN --max-time 60 -H "Authorization: Bearer $TOK_ADMIN" -H "Accept: $2" \
                        -o "$T_TMP/ev.$1" "$MY_URL/v1/events${3-}"
                date +%s%3N >"$T_TMP/ev.$1.end"
        ) &
        EV_PID=$!
        echo "$EV_PID" >>"$T_TMP/pids"
}

# events_error NAME T0_MS LIMIT_MS WORDS: the stream NAME ended with an error event whose message
# matches WORDS, within LIMIT_MS of T0_MS; in SSE an "event: error" line, in NDJSON the last line
# {"reason": "error", ...}.
events_error() {
        local f="$T_TMP/ev.$1" end ms
        wait_for "[ -s '$f.end' ]" 60 || fail "stream $1 still open after 60 s: $(short "$(cat "$f")")"
        end=$(cat "$f.end")
        ms=$((end - $2))
        if grep -q '^event: ' "$f"; then
                grep -A1 '^event: error' "$f" | grep -q "$4" ||
                        fail "stream $1 (SSE) ended after $ms ms without an error event naming '$4': $(short "$(cat "$f")")"
        else
                tail -n 1 "$f" | jq -e --arg w "$4" '.reason == "error" and (.message | test($w))' \
                        >/dev/null ||
                        fail "stream $1 (NDJSON) ended after $ms ms without an error line naming '$4': $(short "$(cat "$f")")"
        fi
        [ "$ms" -le "$3" ] || fail "stream $1 ended after $ms ms (limit $3 ms): $(short "$(cat "$f")")"
        echo "stream $1: error event after $ms ms"
}

# An events follow whose reply header never comes: like a log stream, each ends with an error
# event within the timeout, SSE and NDJSON alike.
events_no_header() {
        fault_cmsd nohead
        local base_tasks t0 max=$((TIMEOUT_S * 1000 + SLACK_MS))
        sleep 0.5
        base_tasks=$(tasks)
        health_during $((TIMEOUT_S + 3))
        t0=$(date +%s%3N)
        follow_events sse text/event-stream
        follow_events nd application/x-ndjson '?type=container'
        events_error sse "$t0" "$max" 'no reply header within'
        events_error nd "$t0" "$max" 'no reply header within'
        health_check
        settled "$base_tasks"
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
}

# An events follow when the engine goes quiet: bytes alone cannot tell a quiet engine from a hung
# one, so a quiet stream asks the engine's /_ping. While the engine answers it, a quiet stream
# stays open (an events stream is quiet most of the time); once the engine hangs (here: mid-way
# through a stream, after one event) every follower ends with an error event within two
# timeouts (request_timeout of quiet, then a /_ping given request_timeout), /v1/health answering.
events_engine_hangs() {
        fault_cmsd stall
        local base_tasks t0 max=$((2 * TIMEOUT_S * 1000 + SLACK_MS))
        sleep 0.5
        base_tasks=$(tasks)
        follow_events quiet text/event-stream '?type=container'
        local quiet_pid=$EV_PID
        sleep $((3 * TIMEOUT_S + 1))
        kill -0 "$quiet_pid" 2>/dev/null ||
                fail "a quiet events stream on an answering engine ended: $(short "$(cat "$T_TMP/ev.quiet")")"
        grep -q '^event: error' "$T_TMP/ev.quiet" &&
                fail "error event on an answering engine: $(short "$(cat "$T_TMP/ev.quiet")")"
        health_during $((3 * TIMEOUT_S + 2))
        t0=$(date +%s%3N)
        follow_events nd application/x-ndjson '?label=fault%3Dstall'
        events_error nd "$t0" "$max" 'engine stopped answering'
        head -n 1 "$T_TMP/ev.nd" | jq -e '.action == "start" and .name == "fault"' >/dev/null ||
                fail "the event sent before the engine hung did not come first: $(short "$(cat "$T_TMP/ev.nd")")"
        events_error quiet "$t0" "$max" 'engine stopped answering'
        health_check
        # The followers' threads are gone (the engine's hung connections are closed by cmsd:
        # the sampler's own events stream and list may still be waiting on theirs).
        wait_for "[ \"\$(tasks)\" -le $base_tasks ]" 10 ||
                fail "left behind: $(tasks) threads (were $base_tasks)"
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
}

# A small project whose file differs only in a comment: every up stores the file again (the
# comment is kept, the model and so the containers stay as they are).
small_project() { # small_project MARK
        compose_file small <<EOF
# version $1
services:
  a:
    image: @IMG@
    command: @LOOP@
EOF
}

# store_cmsd: a private cmsd on the real engine; STATE: its state_dir.
store_cmsd() {
        local port
        port=$(free_port) || fail "no free port"
        write_config "$T_TMP/cmsd.yaml" "$port" "unix://$ENGINE_SOCK"
        STATE="$T_TMP/state"
        start_cmsd "$T_TMP/cmsd.yaml" "$port" "unix://$ENGINE_SOCK"
}

# kill -9 while ups of one project rewrite its stored record: after the restart the record is
# one of the versions sent, whole (never torn), and the project can be brought down.
kill9_project_store() {
        store_cmsd
        local CMSD_URL=$MY_URL p i stored writer
        p=$(pname store)
        small_project 0
        up_project "$p" "$CF"
        expect_status 201
        (
                for i in $(seq 1 400); do
                        small_project "$i"
                        jq -n --arg n "$p" --rawfile c "$CF" '{name: $n, compose: $c}' >"$T_TMP/up$i.json"
                        curl -s -o /dev/null --max-time 30 -X POST -H "Authorization: Bearer $TOK_OPERATOR" \
                                -H 'Content-Type: application/json' --data-binary "@$T_TMP/up$i.json" \
                                "$MY_URL/v1/projects" || break
                done
        ) &
        writer=$!
        echo "$writer" >>"$T_TMP/pids"
        sleep 3
        kill -KILL "$MY_PID"
        wait "$writer" 2>/dev/null
        stored="$STATE/projects/$p.json"
        jq -e --arg n "$p" '.name == $n and (.compose | test("^# version [0-9]+\n"))' "$stored" >/dev/null ||
                fail "stored record torn or wrong after kill -9: $(short "$(cat "$stored")")"
        i=$(jq -r '.compose | capture("^# version (?<v>[0-9]+)").v' "$stored")
        [ "$i" -ge 1 ] || fail "no up got through in 3 s (stored version $i)"
        start_cmsd "$T_TMP/cmsd.yaml" "${MY_URL##*:}" "unix://$ENGINE_SOCK"
        api GET "/v1/projects/$p/config"
        expect_ok
        api POST "/v1/projects/$p/down" '{}'
        expect_ok
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
        echo "killed after version $i was stored"
}

# snap_state FILE: "none", or the SHA-256 of a whole snapshot (its trailer is the SHA-256 of the
# rest: checked here without cmsd), or "torn".
snap_state() {
        [ -e "$1" ] || { echo none; return; }
        local body trailer
        body=$(head -c -32 "$1" | sha256sum | cut -d' ' -f1)
        trailer=$(tail -c 32 "$1" | od -An -tx1 | tr -d " \n")
        if [ "$(head -c 8 "$1")" = CMSDSNAP ] && [ "$body" = "$trailer" ]; then
                sha256sum "$1" | cut -d' ' -f1
        else
                echo torn
        fi
}

# kill -9 during the metrics snapshot's write (at shutdown, after SIGTERM), at offsets spread over
# the time a clean shutdown takes, KILLS times: the snapshot is each time the old or the new
# version, never torn; a temp file the kill left is removed at the next start, which restores the
# history (the first run's first point is still there at the end).
kill9_snapshot() {
        local port conf="$T_TMP/cmsd.yaml" snap="$T_TMP/state/metrics.snapshot" a b first
        local i t0 t1 down_ms off prev now old=0 new=0 mid=0 kills=${SNAP_KILLS:-12}
        port=$(free_port) || fail "no free port"
        write_config "$conf" "$port" "unix://$ENGINE_SOCK" "sampler: {interval: 100ms, history: 10m}"
        start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
        a=$(unique snapa)
        run_c "$a"
        b=$(unique snapb)
        run_c "$b"
        wait_for "my_api GET '/v1/containers/$a/stats?points=100' '' '$TOK_VIEWER'; jq -e '(.data.history | length) >= 20' <<<\"\$BODY\" >/dev/null" 20 ||
                fail "no history for $a: $(short "$BODY")"
        first=$(jq -r '.data.history[0].time' <<<"$BODY")
        t0=$(date +%s%3N)
        stop_cmsd
        t1=$(date +%s%3N)
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
        down_ms=$((t1 - t0))
        prev=$(snap_state "$snap")
        [ "$prev" != none ] && [ "$prev" != torn ] || fail "no whole snapshot after SIGTERM ($prev)"
        for ((i = 0; i < kills; i++)); do
                start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
                sleep 0.5
                off=$((RANDOM % (down_ms + 20)))
                kill -TERM "$MY_PID"
                sleep "$(awk -v m="$off" 'BEGIN { printf "%.3f", m / 1000 }')"
                kill -KILL "$MY_PID" 2>/dev/null
                wait "$MY_PID" 2>/dev/null
                now=$(snap_state "$snap")
                [ "$now" = torn ] && fail "kill -9 after $off ms left a torn snapshot (kill $i)"
                [ "$now" = none ] && fail "kill -9 after $off ms: no snapshot at all (kill $i)"
                if [ "$now" = "$prev" ]; then old=$((old + 1)); else new=$((new + 1)); fi
                [ -e "$snap.tmp" ] && mid=$((mid + 1))
                prev=$now
        done
        start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
        ! grep -q 'snapshot refused' "$MY_LOG" ||
                fail "a snapshot was refused: $(grep 'snapshot refused' "$MY_LOG" | head -n 1)"
        [ ! -e "$snap.tmp" ] || fail "the temp file a kill left is still there after a start"
        my_api GET "/v1/containers/$a/stats?points=6000" "" "$TOK_VIEWER"
        expect_ok
        expect_jq --arg t "$first" 'any(.data.history[]; .time == $t)' \
                "the first run's first point ($first) kept through $kills kills"
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
        echo "clean shutdown ${down_ms} ms; $kills kills: old kept $old, new $new, temp file left $mid"
}

# state_dir on a 1 MiB tmpfs that is then filled: a compose up fails with a clear error naming
# the full disk, audited requests get a log line saying their record was not written, nothing
# stored before is damaged; once there is room again both work and the audit chain verifies.
state_dir_full() {
        local CMSD_URL p i out
        mkdir -p "$T_TMP/state"
        mount -t tmpfs -o size=1m,mode=0700 tmpfs "$T_TMP/state" ||
                fail "cannot mount a tmpfs (the test needs root)"
        trap 'kill -KILL "${MY_PID:-0}" 2>/dev/null; sleep 0.5; umount -l "$T_TMP/state"' EXIT
        store_cmsd
        CMSD_URL=$MY_URL
        p=$(pname full)
        small_project 1
        up_project "$p" "$CF"
        expect_status 201
        cp "$STATE/projects/$p.json" "$T_TMP/stored.before"
        dd if=/dev/zero of="$STATE/filler" bs=64k 2>/dev/null
        dd if=/dev/zero of="$STATE/filler2" bs=4k 2>/dev/null
        small_project 2
        up_project "$p" "$CF"
        expect_status 500
        expect_jq '.error.message | test("No space left on device")' "an error naming the full disk"
        cmp -s "$T_TMP/stored.before" "$STATE/projects/$p.json" ||
                fail "the stored record changed while the disk was full"
        # Failed authentications are audited; a page's worth of them must hit the full disk.
        for i in $(seq 1 40); do
                api GET /v1/containers "" bad-token
        done
        grep -q 'audit: .* could not be recorded' "$MY_LOG" ||
                fail "no log line about the audit records that were not written"
        kill -0 "$MY_PID" || fail "cmsd died on the full disk"
        rm -f "$STATE/filler" "$STATE/filler2"
        up_project "$p" "$CF"
        expect_ok
        jq -e '.compose | test("^# version 2")' "$STATE/projects/$p.json" >/dev/null ||
                fail "the record was not stored once there was room"
        api GET /v1/containers "" bad-token
        api POST "/v1/projects/$p/down" '{}'
        expect_ok
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
        out=$("$CMSD_BIN" --verify-audit "$STATE/audit.log") || fail "audit after the full disk: $out"
        [[ "$out" == *"chain intact"* ]] || fail "audit after the full disk: $out"
        if ls -a "$STATE" "$STATE/projects" | grep -q '\.tmp$'; then
                fail "temporary files left behind: $(ls -a "$STATE" "$STATE/projects" | tr '\n' ' ')"
        fi
        umount "$T_TMP/state" || umount -l "$T_TMP/state"
        trap - EXIT
}

t hang_20_concurrent_each_504_in_time hang_concurrent
t partial_reply_each_504_in_time partial_reply
t stream_without_header_504 stream_no_header
t events_without_header_error_event events_no_header
t events_engine_hangs_error_event events_engine_hangs
tp kill9_during_project_store_writes kill9_project_store
t kill9_during_snapshot_write kill9_snapshot
tp state_dir_full state_dir_full
done_file
