#!/usr/bin/env bash
# Signals on a private cmsd: SIGHUP reloads the config (new tokens work, removed ones stop working),
# a broken config on SIGHUP keeps the old one and cmsd running; SIGTERM lets in-flight requests
# finish with their real answer and exits 0, also with a log stream open.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

# tokens_config FILE PORT TOKENS-YAML-LINES
tokens_config() {
        local file=$1 state
        state="$(dirname "$file")/state"
        cat >"$file" <<YAML
listen: ["127.0.0.1:$2"]
engine: "unix://$ENGINE_SOCK"
tokens:
$3
state_dir: "$state"
log_level: debug
YAML
}

whoami_is() { # TOKEN STATUS
        my_api GET /v1/auth/whoami "" "$1"
        [ "$STATUS" = "$2" ]
}

hup_reload() {
        local port conf="$T_TMP/cmsd.yaml"
        port=$(free_port) || fail "no free port"
        tokens_config "$conf" "$port" "  - {name: admin, role: admin, token: \"$TOK_ADMIN\"}
  - {name: viewer, role: viewer, token: \"$TOK_VIEWER\"}"
        start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
        whoami_is "$TOK_VIEWER" 200 || fail "viewer token before reload: $STATUS"
        whoami_is t-new 401 || fail "t-new accepted before it was configured: $STATUS"

        tokens_config "$conf" "$port" "  - {name: admin, role: admin, token: \"$TOK_ADMIN\"}
  - {name: newbie, role: operator, sha256: \"$(printf '%s' t-new | sha256sum | cut -d' ' -f1)\"}"
        kill -HUP "$MY_PID"
        wait_for 'whoami_is t-new 200' 10 || fail "new token not accepted after SIGHUP: $STATUS $(short "$BODY")"
        expect_json .data.name newbie
        expect_json .data.role operator
        whoami_is "$TOK_VIEWER" 401 || fail "removed viewer token still answers $STATUS after SIGHUP"
        kill -0 "$MY_PID" || fail "cmsd died on SIGHUP"
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
}

hup_broken_config() {
        local port conf="$T_TMP/cmsd.yaml"
        port=$(free_port) || fail "no free port"
        tokens_config "$conf" "$port" "  - {name: admin, role: admin, token: \"$TOK_ADMIN\"}
  - {name: viewer, role: viewer, token: \"$TOK_VIEWER\"}"
        start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"

        printf 'tokens: [ {name: x, role: admin, token: "t-x"\nlisten: {{{\n' >"$conf"
        kill -HUP "$MY_PID"
        sleep 1
        kill -0 "$MY_PID" 2>/dev/null || fail "cmsd died on SIGHUP with a broken config"
        whoami_is "$TOK_ADMIN" 200 || fail "old admin token refused after a broken reload: $STATUS"
        whoami_is "$TOK_VIEWER" 200 || fail "old viewer token refused after a broken reload: $STATUS"
        whoami_is t-x 401 || fail "token from the broken config accepted"

        # Valid YAML, invalid meaning: an unknown role.
        tokens_config "$conf" "$port" "  - {name: boss, role: emperor, token: \"t-boss\"}"
        kill -HUP "$MY_PID"
        sleep 1
        kill -0 "$MY_PID" 2>/dev/null || fail "cmsd died on SIGHUP with an invalid role"
        whoami_is "$TOK_ADMIN" 200 || fail "old admin token refused after an invalid reload: $STATUS"
        whoami_is t-boss 401 || fail "token with an invalid role accepted"
        my_api GET /v1/health "" -
        expect_ok
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
}

sigterm_inflight() {
        local port conf="$T_TMP/cmsd.yaml" out="$T_TMP/inflight" bg code
        port=$(free_port) || fail "no free port"
        write_config "$conf" "$port" "unix://$ENGINE_SOCK"
        start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
        local CMSD_URL=$MY_URL
        # Ignores SIGTERM, so the stop takes its whole 3 s timeout.
        run_c "$(unique term)" '{"command": ["sh", "-c", "trap \"\" TERM; sleep 600"]}'
        curl -sS --max-time 60 -X POST -H "Authorization: Bearer $TOK_ADMIN" -o "$out" \
                -w '%{http_code}' "$MY_URL/v1/containers/$CID/stop?timeout=3" >"$out.code" 2>"$out.err" &
        bg=$!
        sleep 1
        kill -TERM "$MY_PID"
        wait "$bg"
        code=$(cat "$out.code")
        [ "$code" = 200 ] || fail "in-flight stop got '$code' after SIGTERM: $(cat "$out" "$out.err")"
        jq -e '.success == true and .data.state == "exited"' "$out" >/dev/null ||
                fail "in-flight stop reply: $(short "$(cat "$out")")"
        [ "$(engine_state "$CID")" = exited ] || fail "container not stopped on the engine"
        wait_pid_exit "$MY_PID" 30 || fail "cmsd still running 30 s after SIGTERM"
        wait "$MY_PID"
        code=$?
        [ "$code" -eq 0 ] || fail "cmsd exited $code after SIGTERM with a request in flight"
}

sigterm_open_stream() {
        local port conf="$T_TMP/cmsd.yaml" bg code
        port=$(free_port) || fail "no free port"
        write_config "$conf" "$port" "unix://$ENGINE_SOCK"
        start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
        local CMSD_URL=$MY_URL
        run_c "$(unique tstream)" '{"command": ["sh", "-c", "while :; do echo tick; sleep 0.2; done"]}'
        curl -sS -N --max-time 60 -H "Authorization: Bearer $TOK_ADMIN" -H 'Accept: text/event-stream' \
                -o "$T_TMP/stream" "$MY_URL/v1/containers/$CID/logs?follow=true" 2>/dev/null &
        bg=$!
        wait_for "grep -qs tick '$T_TMP/stream'" 10 || fail "the follow stream got nothing"
        kill -TERM "$MY_PID"
        wait_pid_exit "$MY_PID" 30 || fail "cmsd still running 30 s after SIGTERM with a stream open"
        wait "$MY_PID"
        code=$?
        [ "$code" -eq 0 ] || fail "cmsd exited $code after SIGTERM with a stream open"
        wait_pid_exit "$bg" 10 || fail "the follow client was not disconnected"
        wait "$bg"
}

t sighup_reload_tokens hup_reload
t sighup_broken_config_keeps_old hup_broken_config
t sigterm_inflight_request_completes sigterm_inflight
t sigterm_with_open_stream sigterm_open_stream
done_file
