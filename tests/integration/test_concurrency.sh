#!/usr/bin/env bash
# The concurrent paths, exercised at once against a private cmsd on the real engine: parallel
# requests of every kind, log streams that end while their container stops, SIGHUP reloads
# during requests, the sampler while containers come and go, compose up while other requests
# list. Each row asserts what the clients got (no 5xx, every stream ended cleanly, cmsd up and
# exiting 0); `make tsan` runs these rows with cmsd built under ThreadSanitizer, where a data
# race between the HTTP threads, the workers, the sampler and housekeeping fails the run.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/projects_lib.sh"

conc_cmsd() {
        local port
        port=$(free_port) || fail "no free port"
        write_config "$T_TMP/cmsd.yaml" "$port" "unix://$ENGINE_SOCK"
        # A fast sampler, so that it runs many times during the churn.
        printf 'sampler: {interval: 250ms}\n' >>"$T_TMP/cmsd.yaml"
        start_cmsd "$T_TMP/cmsd.yaml" "$port" "unix://$ENGINE_SOCK"
}

# bg_get NAME PATH [CURL-OPTS]: a GET in the background, "status" in $T_TMP/NAME.st.
bg_get() {
        local n=$1 p=$2
        shift 2
        curl -s -o "$T_TMP/$n.body" -w '%{http_code}\n' --max-time 120 \
                -H "Authorization: Bearer $TOK_ADMIN" "$@" "$MY_URL$p" >"$T_TMP/$n.st" 2>/dev/null &
        echo "$!" >>"$T_TMP/bg.pids"
}

bg_wait() {
        local pid
        [ -f "$T_TMP/bg.pids" ] || return 0
        while read -r pid; do wait "$pid"; done <"$T_TMP/bg.pids"
        rm -f "$T_TMP/bg.pids"
}

# no_5xx: none of the background requests got a 5xx or no answer.
no_5xx() {
        local f bad
        bad=$(for f in "$T_TMP"/*.st; do
                read -r s <"$f" || s=000
                case "$s" in 5* | 000) printf '%s:%s ' "$(basename "$f" .st)" "$s" ;; esac
        done)
        [ -z "$bad" ] || fail "requests failed: $bad"
}

alive() {
        kill -0 "$MY_PID" 2>/dev/null || fail "cmsd died: $(tail -n 5 "$MY_LOG" | tr '\n' ' ')"
}

# 60 requests of every read route at once, over 5 running containers.
parallel_requests() {
        conc_cmsd
        local i ids=()
        for i in 1 2 3 4 5; do
                local CMSD_URL=$MY_URL
                create "$(unique par)" '' '?start=true'
                ids+=("$CID")
        done
        for i in $(seq 1 6); do
                bg_get "l$i" /v1/containers
                bg_get "a$i" '/v1/containers?all=true'
                bg_get "i$i" "/v1/containers/${ids[$((i % 5))]}"
                bg_get "g$i" "/v1/containers/${ids[$((i % 5))]}/logs?tail=5"
                bg_get "m$i" /metrics
                bg_get "j$i" /v1/metrics
                bg_get "s$i" /v1/system/info
                bg_get "im$i" /v1/images
                bg_get "n$i" /v1/networks
                bg_get "h$i" /v1/health
        done
        bg_wait
        no_5xx
        alive
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
}

# Log follows (SSE and NDJSON) on containers that stop under them: each stream ends on its own.
streams_end_on_stop() {
        conc_cmsd
        local i ids=()
        for i in 1 2 3 4; do
                local CMSD_URL=$MY_URL
                create "$(unique st)" '{"command": ["sh", "-c", "trap \"exit 0\" TERM; while :; do echo tick; sleep 0.1; done"]}' '?start=true'
                ids+=("$CID")
        done
        for i in 0 1 2 3; do
                bg_get "fs$i" "/v1/containers/${ids[$i]}/logs?follow=true" -N -H 'Accept: text/event-stream'
                bg_get "fn$i" "/v1/containers/${ids[$i]}/logs?follow=true" -N -H 'Accept: application/x-ndjson'
        done
        sleep 1.5
        for i in 0 1 2 3; do
                curl -s -o /dev/null -X POST -H "Authorization: Bearer $TOK_ADMIN" \
                        "$MY_URL/v1/containers/${ids[$i]}/stop?timeout=2" &
        done
        wait_for "! pgrep -P $$ -f 'logs\\?follow' >/dev/null" 30 || true
        bg_wait
        no_5xx
        for i in 0 1 2 3; do
                grep -q tick "$T_TMP/fs$i.body" || fail "SSE stream $i carried no log line"
                grep -q tick "$T_TMP/fn$i.body" || fail "NDJSON stream $i carried no log line"
        done
        alive
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
}

# SIGHUP ten times while 40 requests run.
reload_during_requests() {
        conc_cmsd
        local i
        for i in $(seq 1 40); do
                case $((i % 4)) in
                0) bg_get "r$i" /v1/containers ;;
                1) bg_get "r$i" /v1/metrics ;;
                2) bg_get "r$i" /v1/system/info ;;
                3) bg_get "r$i" /v1/images ;;
                esac
                if [ $((i % 4)) = 0 ]; then
                        kill -HUP "$MY_PID"
                fi
        done
        bg_wait
        no_5xx
        alive
        grep -q 'configuration reloaded' "$MY_LOG" || fail "no reload in the log"
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
}

# Containers created, started, stopped and removed in a loop while the sampler (every 250 ms)
# and the metrics routes read them.
sampler_during_churn() {
        conc_cmsd
        local CMSD_URL=$MY_URL i n
        for n in 1 2 3 4 5 6; do
                create "$(unique ch)" '' '?start=true'
                for i in 1 2 3; do
                        bg_get "c$n$i" /v1/metrics
                        bg_get "p$n$i" /metrics
                done
                api POST "/v1/containers/$CID/stop?timeout=0"
                [ "$STATUS" = 204 ] || [ "$STATUS" = 200 ] || [ "$STATUS" = 304 ] ||
                        fail "stop: $STATUS $(short "$BODY")"
                api DELETE "/v1/containers/$CID?force=true"
                [ "${STATUS:0:1}" = 2 ] || fail "remove: $STATUS $(short "$BODY")"
        done
        bg_wait
        no_5xx
        alive
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
}

# A compose up (and down) while other requests list the projects and the containers.
compose_up_while_listing() {
        conc_cmsd
        local CMSD_URL=$MY_URL p i
        p=$(pname conc)
        compose_file conc <<'EOF'
services:
  a:
    image: @IMG@
    command: @LOOP@
    labels: {cmsd-test: "1"}
  b:
    image: @IMG@
    command: @LOOP@
    labels: {cmsd-test: "1"}
EOF
        jq -n --arg n "$p" --rawfile c "$CF" '{name: $n, compose: $c}' >"$T_TMP/up.json"
        curl -s -o "$T_TMP/up.body" -w '%{http_code}\n' --max-time 120 -X POST \
                -H "Authorization: Bearer $TOK_ADMIN" -H 'Content-Type: application/json' \
                --data-binary "@$T_TMP/up.json" "$MY_URL/v1/projects" >"$T_TMP/up.st" &
        local up_pid=$!
        for i in $(seq 1 15); do
                bg_get "pl$i" /v1/projects
                bg_get "cl$i" /v1/containers
                bg_get "pp$i" "/v1/projects/$p"
                sleep 0.1
        done
        wait "$up_pid"
        bg_wait
        # The project's own view may be 404 before the up stored it; nothing may be a 5xx.
        no_5xx
        read -r st <"$T_TMP/up.st"
        [ "${st:0:1}" = 2 ] || fail "compose up: $st $(short "$(cat "$T_TMP/up.body")")"
        api POST "/v1/projects/$p/down" '{}'
        [ "${STATUS:0:1}" = 2 ] || fail "compose down: $STATUS $(short "$BODY")"
        alive
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
}

t parallel_requests parallel_requests
t streams_end_while_containers_stop streams_end_on_stop
t reload_during_requests reload_during_requests
t sampler_during_churn sampler_during_churn
tp compose_up_while_listing compose_up_while_listing
done_file
