#!/usr/bin/env bash
# Engine unavailable: a cmsd pointed at a socket where nothing listens must stay up (health 200,
# engine "down"), answer engine routes with 503 engine_unavailable + Retry-After, and recover by
# itself, without a restart, once the engine appears at that path (a symlink to the real socket);
# an engine that goes away while cmsd runs gives the same 503, and its return the same recovery.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

# A short path: unix socket paths are limited to 107 bytes.
fake_sock() {
        printf '%s/nowhere-%s.sock' "$WORK_DIR" "$RANDOM"
}

down_then_recover() {
        local sock port
        sock=$(fake_sock)
        port=$(free_port) || fail "no free port"
        write_config "$T_TMP/cmsd.yaml" "$port" "unix://$sock"
        start_cmsd "$T_TMP/cmsd.yaml" "$port" "unix://$sock"

        my_api GET /v1/health "" -
        expect_ok
        expect_json .data.status ok
        expect_json .data.engine down
        my_api GET /v1/containers
        expect_error 503 engine_unavailable
        expect_header Retry-After '[0-9]+'
        my_api POST /v1/containers "$(cfg "$(unique down)")"
        expect_error 503 engine_unavailable

        ln -s "$ENGINE_SOCK" "$sock"
        wait_for 'my_api GET /v1/containers; [ "$STATUS" = 200 ]' 15 ||
                fail "no recovery within 15 s of the engine appearing: $STATUS $(short "$BODY")"
        my_api GET /v1/health "" -
        expect_json .data.engine up
        my_api GET /v1/system/info
        expect_ok
        expect_json .data.runtime "$ENGINE"

        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
        rm -f "$sock"
}

# A real engine this test owns, so that it can take it away: a private Podman API service on its
# own socket (also on the docker run: the point is cmsd's reaction, not the engine's kind).
# Removing a symlink would not do - cmsd's open connections would still reach the engine.
start_private_podman() {
        command -v podman >/dev/null 2>&1 || fail "podman is not installed: cannot run this test"
        podman system service --time=0 "unix://$1" >>"$T_TMP/podman.log" 2>&1 &
        PODMAN_PID=$!
        echo "$PODMAN_PID" >>"$T_TMP/pids"
        wait_for "[ \"\$(curl -sS --max-time 2 --unix-socket '$1' http://engine/_ping 2>/dev/null)\" = OK ]" 30 ||
                fail "private podman service did not answer at $1: $(tail -n 3 "$T_TMP/podman.log")"
}

stop_private_podman() {
        kill -TERM "$PODMAN_PID" 2>/dev/null
        wait_pid_exit "$PODMAN_PID" 30 || kill -KILL "$PODMAN_PID" 2>/dev/null
        wait "$PODMAN_PID" 2>/dev/null
        rm -f "$1"
}

engine_vanishes() {
        local sock port
        sock=$(fake_sock)
        start_private_podman "$sock"
        port=$(free_port) || fail "no free port"
        write_config "$T_TMP/cmsd.yaml" "$port" "unix://$sock"
        start_cmsd "$T_TMP/cmsd.yaml" "$port" "unix://$sock"
        my_api GET /v1/containers
        expect_ok

        stop_private_podman "$sock"
        wait_for 'my_api GET /v1/containers; [ "$STATUS" = 503 ]' 15 ||
                fail "engine gone: expected 503, still $STATUS $(short "$BODY")"
        expect_code engine_unavailable
        expect_header Retry-After '[0-9]+'
        wait_for 'my_api GET /v1/health "" -; [ "$(jq -r .data.engine <<<"$BODY")" = down ]' 15 ||
                fail "health does not report the engine down: $(short "$BODY")"
        kill -0 "$MY_PID" 2>/dev/null || fail "cmsd died when the engine went away"

        start_private_podman "$sock"
        wait_for 'my_api GET /v1/containers; [ "$STATUS" = 200 ]' 15 ||
                fail "no recovery after the engine came back: $STATUS $(short "$BODY")"
        my_api GET /v1/system/info
        expect_ok
        expect_json .data.runtime podman
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
        stop_private_podman "$sock"
}

not_a_socket() {
        # A regular file where the socket should be: a broken engine, not a crash.
        local sock port
        sock=$(fake_sock)
        echo "not a socket" >"$sock"
        port=$(free_port) || fail "no free port"
        write_config "$T_TMP/cmsd.yaml" "$port" "unix://$sock"
        start_cmsd "$T_TMP/cmsd.yaml" "$port" "unix://$sock"
        my_api GET /v1/containers
        expect_error 503 engine_unavailable
        my_api GET /v1/health "" -
        expect_json .data.engine down
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
        rm -f "$sock"
}

t down_503_then_recovers down_then_recover
t engine_vanishes_and_returns_private_podman engine_vanishes
t not_a_socket_503 not_a_socket
done_file
