#!/usr/bin/env bash
# Container logs: stream tags, tail, timestamps, since/until, stream filters, and follow as SSE and
# as NDJSON (ending when the container stops); clients that hang up early must not hurt cmsd.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

# Texts of the lines of one stream, trailing newline ignored, as a JSON array.
texts() {
        jq -c --arg s "$1" '[.data.lines[] | select(.stream == $s) | .text | rtrimstr("\n")]' <<<"$BODY"
}

streams_tagged() {
        create "$(unique logs)" '{"command": ["sh", "-c", "echo out1; echo err1 >&2; echo out2; echo err2 >&2"]}' '?start=true'
        wait_exited "$CID"
        api GET "/v1/containers/$CID/logs" "" "$TOK_VIEWER"
        expect_ok
        expect_jq '.data.lines | type == "array" and length == 4' "4 lines"
        expect_jq 'all(.data.lines[]; has("stream") and has("time") and has("text"))' "stream/time/text keys"
        [ "$(texts stdout)" = '["out1","out2"]' ] || fail "stdout lines: $(texts stdout)"
        [ "$(texts stderr)" = '["err1","err2"]' ] || fail "stderr lines: $(texts stderr)"
        expect_jq 'all(.data.lines[]; .time == null)' "time null without timestamps"
}

tail_n() {
        create "$(unique tail)" '{"command": ["sh", "-c", "for i in 1 2 3 4 5; do echo $i; done"]}' '?start=true'
        wait_exited "$CID"
        api GET "/v1/containers/$CID/logs?tail=2"
        expect_ok
        [ "$(texts stdout)" = '["4","5"]' ] || fail "tail=2 gave $(texts stdout)"
        api GET "/v1/containers/$CID/logs?tail=all"
        expect_ok
        [ "$(texts stdout)" = '["1","2","3","4","5"]' ] || fail "tail=all gave $(texts stdout)"
}

timestamps() {
        create "$(unique ts)" '{"command": ["sh", "-c", "echo a; echo b"]}' '?start=true'
        wait_exited "$CID"
        api GET "/v1/containers/$CID/logs?timestamps=true"
        expect_ok
        expect_jq '.data.lines | length == 2' "2 lines"
        expect_jq 'all(.data.lines[]; .time | type == "string" and
                test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"))' "RFC 3339 times"
        [ "$(texts stdout)" = '["a","b"]' ] || fail "texts with timestamps: $(texts stdout) (time left in text?)"
}

since_until() {
        local t0 mid
        create "$(unique since)" '{"command": ["sh", "-c", "echo early; sleep 3; echo late"]}' '?start=true'
        wait_exited "$CID"
        api GET "/v1/containers/$CID/logs?timestamps=true"
        expect_ok
        t0=$(jq -r '.data.lines[0].time' <<<"$BODY")
        t0=$(date -d "$t0" +%s) || fail "cannot parse time '$t0'"
        mid=$((t0 + 2))
        api GET "/v1/containers/$CID/logs?since=$mid"
        expect_ok
        [ "$(texts stdout)" = '["late"]' ] || fail "since=$mid gave $(texts stdout)"
        api GET "/v1/containers/$CID/logs?until=$mid"
        expect_ok
        [ "$(texts stdout)" = '["early"]' ] || fail "until=$mid gave $(texts stdout)"
}

stream_filters() {
        create "$(unique filt)" '{"command": ["sh", "-c", "echo o; echo e >&2"]}' '?start=true'
        wait_exited "$CID"
        api GET "/v1/containers/$CID/logs?stdout=false"
        expect_ok
        expect_jq 'all(.data.lines[]; .stream == "stderr") and (.data.lines | length == 1)' "only stderr"
        api GET "/v1/containers/$CID/logs?stderr=0"
        expect_ok
        expect_jq 'all(.data.lines[]; .stream == "stdout") and (.data.lines | length == 1)' "only stdout"
}

# follow_stream ACCEPT OUTFILE: follows the logs of $CID until cmsd closes the stream (or 40 s).
follow_stream() {
        curl -sS -N --max-time 40 -H "Authorization: Bearer $TOK_ADMIN" -H "Accept: $1" \
                -D "$2.headers" -o "$2" "$CMSD_URL/v1/containers/$CID/logs?follow=true"
}

follow_sse() {
        local out="$T_TMP/sse" rc events
        run_c "$(unique fsse)" '{"command": ["sh", "-c", "for i in 1 2 3; do echo $i; sleep 1; done"]}'
        follow_stream text/event-stream "$out"
        rc=$?
        [ "$rc" -eq 0 ] || fail "SSE follow did not end by itself (curl exit $rc): $(short "$(cat "$out" 2>/dev/null)")"
        grep -qi '^content-type: *text/event-stream' "$out.headers" || fail "no text/event-stream content type"
        # "event<TAB>data" pairs, in order.
        events=$(awk '{ sub(/\r$/, "") } /^event:/ { ev = $2 } /^data:/ { sub(/^data: ?/, ""); print ev "\t" $0 }' "$out")
        [ "$(grep -c '^log' <<<"$events")" -eq 3 ] || fail "expected 3 log events: $(short "$(cat "$out" 2>/dev/null)")"
        [ "$(grep '^log' <<<"$events" | cut -f2- | jq -r '.text | rtrimstr("\n")' | tr '\n' ' ')" = "1 2 3 " ] ||
                fail "log event texts: $(short "$events")"
        grep '^log' <<<"$events" | cut -f2- | jq -s -e 'all(.[]; .stream == "stdout" and has("time"))' >/dev/null ||
                fail "log event data lacks stream/time"
        [ "$(tail -n 1 <<<"$events" | cut -f1)" = end ] || fail "last event is not 'end': $(short "$events")"
        tail -n 1 <<<"$events" | cut -f2- | jq -e '.reason | type == "string"' >/dev/null ||
                fail "end event without a reason"
}

follow_ndjson() {
        local out="$T_TMP/nd" rc
        run_c "$(unique fnd)" '{"command": ["sh", "-c", "for i in 1 2 3; do echo $i; sleep 1; done"]}'
        follow_stream application/x-ndjson "$out"
        rc=$?
        [ "$rc" -eq 0 ] || fail "NDJSON follow did not end by itself (curl exit $rc): $(short "$(cat "$out" 2>/dev/null)")"
        grep -qi '^content-type: *application/x-ndjson' "$out.headers" || fail "no application/x-ndjson content type"
        grep -v '^$' "$out" | jq -e . >/dev/null 2>&1 || fail "a line is not JSON: $(short "$(cat "$out" 2>/dev/null)")"
        [ "$(grep -v '^$' "$out" | jq -r 'select(.stream == "stdout") | .text | rtrimstr("\n")' | tr '\n' ' ')" = "1 2 3 " ] ||
                fail "NDJSON texts: $(short "$(cat "$out" 2>/dev/null)")"
}

follow_needs_stream_accept() {
        run_c "$(unique fna)"
        api GET "/v1/containers/$CID/logs?follow=true"
        expect_error 400 bad_request
}

follow_early_disconnect() {
        local i accept got_event=0
        run_c "$(unique fdis)" '{"command": ["sh", "-c", "while :; do echo tick; sleep 0.1; done"]}'
        for ((i = 0; i < 20; i++)); do
                accept=text/event-stream
                [ $((i % 2)) -eq 1 ] && accept=application/x-ndjson
                curl -sS -N --max-time 1 -H "Authorization: Bearer $TOK_ADMIN" -H "Accept: $accept" \
                        -o "$T_TMP/early" "$CMSD_URL/v1/containers/$CID/logs?follow=true" 2>/dev/null
                grep -qs tick "$T_TMP/early" && got_event=$((got_event + 1))
        done
        [ "$got_event" -ge 10 ] || fail "only $got_event of 20 early-closed follows received anything"
        kill -0 "$CMSD_PID" 2>/dev/null || fail "cmsd died"
        api GET /v1/health "" -
        expect_ok
        api GET /v1/containers
        expect_ok
        api GET "/v1/containers/$CID/logs?tail=1"
        expect_ok
}

t streams_tagged streams_tagged
t tail_n tail_n
t timestamps timestamps
t since_until since_until
t stdout_stderr_filters stream_filters
t follow_sse_ends follow_sse
t follow_ndjson_ends follow_ndjson
t follow_needs_stream_accept follow_needs_stream_accept
t follow_early_disconnect_x20 follow_early_disconnect
done_file
