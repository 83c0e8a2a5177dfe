#!/usr/bin/env bash
# Limits that hold: open streams per token and overall (429 with Retry-After past them), a
# maximum stream duration, streams of a token that a reload removed end, a per-address connection
# cap; /v1/health answers all along. Each against a private cmsd with small limits.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

TOK_TEMP=t-temp

limits_cmsd() { # limits_cmsd DURATION [EXTRA-TOKEN-LINE]
        local conf="$T_TMP/cmsd.yaml" port
        port=$(free_port)
        write_config "$conf" "$port" "unix://$ENGINE_SOCK"
        sed -i "s/^limits: .*/limits: {max_body: 1m, max_streams: 3, max_streams_per_token: 2, max_stream_duration: $1, max_connections_per_ip: 8, header_deadline: 2s}/" "$conf"
        [ -z "${2-}" ] || sed -i "/^tokens:/a\\
$2" "$conf"
        CONF=$conf
        start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
}

# open_stream NAME TOKEN: an SSE /v1/events stream in the background, its output in $T_TMP/NAME.
open_stream() {
        curl -sN --max-time 60 -H 'Accept: text/event-stream' -H "Authorization: Bearer $2" \
                -D "$T_TMP/$1.h" -o "$T_TMP/$1" "$MY_URL/v1/events" &
        echo $! >>"$T_TMP/pids"
        eval "PID_$1=$!"
        wait_for "grep -q '^HTTP/1.1 200' '$T_TMP/$1.h'" 10 || fail "stream $1 did not open: $(cat "$T_TMP/$1.h")"
}

health_ok() {
        local CMSD_URL=$MY_URL
        api GET /v1/health "" -
        [ "$STATUS" = 200 ] || fail "/v1/health: $STATUS while $1"
}

stream_caps() {
        limits_cmsd 60s
        local CMSD_URL=$MY_URL
        open_stream v1 "$TOK_VIEWER"
        open_stream v2 "$TOK_VIEWER"
        apix -H 'Accept: text/event-stream' --max-time 5 -- GET /v1/events "" "$TOK_VIEWER"
        expect_error 429 too_many_requests
        expect_header Retry-After '[0-9]+'
        health_ok "a token is at its stream cap"
        open_stream o1 "$TOK_OPERATOR"
        apix -H 'Accept: text/event-stream' --max-time 5 -- GET /v1/events "" "$TOK_ADMIN"
        expect_error 429 too_many_requests
        jq -e '.error.message | test("limits.max_streams\\b")' <<<"$BODY" >/dev/null ||
                fail "the overall cap not named: $BODY"
        health_ok "all streams are taken"
        # A closed stream frees its place.
        kill "$PID_v1" 2>/dev/null
        wait_for "CMSD_URL=$MY_URL apix -H 'Accept: text/event-stream' --max-time 2 -- GET /v1/events '' '$TOK_ADMIN'; [ \"\$STATUS\" = 200 ] || [ \"\$STATUS\" = 000 ]" 10 ||
                fail "a place did not come free: $STATUS"
        stop_cmsd
}

stream_duration() {
        limits_cmsd 2s
        open_stream d1 "$TOK_VIEWER"
        wait_for "grep -q max_stream_duration '$T_TMP/d1'" 15 ||
                fail "the stream did not end at limits.max_stream_duration: $(cat "$T_TMP/d1")"
        wait_for "! kill -0 $PID_d1 2>/dev/null" 10 || fail "the stream's connection stayed open"
        health_ok "a stream ended"
        stop_cmsd
}

reload_removes_token() {
        limits_cmsd 60s "  - {name: temp, role: viewer, token: \"$TOK_TEMP\"}"
        open_stream r1 "$TOK_TEMP"
        sed -i '/name: temp/d' "$CONF"
        kill -HUP "$MY_PID"
        wait_for "grep -q token_removed '$T_TMP/r1'" 15 ||
                fail "the removed token's stream went on: $(cat "$T_TMP/r1")"
        local CMSD_URL=$MY_URL
        api GET /v1/auth/whoami "" "$TOK_TEMP"
        expect_error 401 unauthorized
        health_ok "after the reload"
        stop_cmsd
}

per_address_cap() {
        limits_cmsd 60s
        local port=${MY_URL##*:}
        # Eight idle connections from 127.0.0.1 fill its share; the next one is refused at once.
        python3 - "$port" "$T_TMP/held" <<'EOF' &
import socket, sys, time, os
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(8)]
open(sys.argv[2], "w").close()
time.sleep(20)
EOF
        echo $! >>"$T_TMP/pids"
        local holder=$!
        wait_for "[ -e '$T_TMP/held' ]" 10 || fail "could not open the idle connections"
        sleep 0.5
        local code
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$MY_URL/v1/health") || true
        [ "$code" = 000 ] || fail "a ninth connection from the same address was served: $code"
        kill "$holder" 2>/dev/null
        wait_for "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 '$MY_URL/v1/health')\" = 200 ]" 10 ||
                fail "/v1/health did not answer once the connections closed"
        stop_cmsd
}

# slow_send OUT MODE: a client in the background that sends a request a byte at a time every
# 0.3 s (MODE headers: its headers; body: quick headers, then its JSON body); OUT gets "cut
# after N s" or "never cut". Sets SLOW_PID.
slow_send() {
        python3 - "${MY_URL##*:}" "$TOK_OPERATOR" "$2" >"$1" 2>&1 <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
if sys.argv[3] == "headers":
    slow = b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
else:
    slow = b'{"image": "x/y:1", "labels": {"a": "' + b"b" * 400 + b'"}}'
    s.sendall(b"POST /v1/policy/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
              sys.argv[2].encode() + b"\r\nContent-Type: application/json\r\nContent-Length: " +
              str(len(slow)).encode() + b"\r\n\r\n")
t0 = time.time()
for b in slow:
    try:
        s.sendall(bytes([b]))
    except OSError:
        print("cut after %.1f s" % (time.time() - t0))
        sys.exit(0)
    time.sleep(0.3)
    if time.time() - t0 > 30:
        break
print("never cut (%.1f s)" % (time.time() - t0))
PY
        SLOW_PID=$!
        echo "$SLOW_PID" >>"$T_TMP/pids"
}

# A client that sends its headers (or a JSON body) a byte at a time is cut off at
# limits.header_deadline (2 s here) although it never goes idle; /v1/health answers meanwhile.
slow_headers() {
        local what
        limits_cmsd 60s
        for what in headers body; do
                slow_send "$T_TMP/slow-$what" "$what"
                sleep 1
                health_ok "a slow client sends its $what"
                wait_for "! kill -0 $SLOW_PID 2>/dev/null" 40 || fail "the slow $what is still being sent"
                grep -Eq '^cut after [2-5]\.' "$T_TMP/slow-$what" ||
                        fail "slow $what: $(cat "$T_TMP/slow-$what")"
        done
        health_ok "after the slow clients"
        # A keep-alive client with requests in quick succession is not affected.
        curl -sf -o /dev/null -o /dev/null --max-time 10 "$MY_URL/v1/health" "$MY_URL/v1/health" ||
                fail "keep-alive requests failed"
        stop_cmsd
}

t slow_headers slow_headers
t stream_caps stream_caps
t stream_duration stream_duration
t reload_removes_token reload_removes_token
t per_address_cap per_address_cap
done_file
