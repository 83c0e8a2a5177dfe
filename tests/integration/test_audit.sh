#!/usr/bin/env bash
# The audit trail, against a private cmsd whose state_dir the test reads: a record for each kind
# of event (a change, a policy denial, a failed authentication; none for a read), the request id
# the reply carried, the hash chain verified by `cmsd --verify-audit` and an edited record found,
# GET /v1/audit's filters (admin only), and a kill -9 in the middle of a burst of writes leaving a
# readable log that holds every acknowledged request.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

audit_cmsd() {
        local port
        port=$(free_port)
        write_config "$T_TMP/cmsd.yaml" "$port" "unix://$ENGINE_SOCK"
        LOG="$T_TMP/state/audit.log"
        start_cmsd "$T_TMP/cmsd.yaml" "$port" "unix://$ENGINE_SOCK"
}

# record_of ID: the audit record of request ID (empty when there is none).
record_of() {
        jq -c --arg id "$1" 'select(.request_id == $id)' "$LOG"
}

records() {
        audit_cmsd
        local CMSD_URL=$MY_URL name id rec
        name=$(unique aud)
        api POST /v1/containers "$(cfg "$name")"
        expect_ok 201
        id=$(header_value X-Request-Id)
        [ -n "$id" ] || fail "no X-Request-Id header"
        rec=$(record_of "$id")
        jq -e --arg n "$name" '.route == "containers_create" and .status == 201 and .token == "admin"
                and .role == "admin" and .method == "POST" and .target == $n
                and .policy.decision == "allowed" and (.peer | startswith("127.0.0.1:"))
                and (.duration_ms | type == "number") and (.prev | length == 64)' <<<"$rec" >/dev/null ||
                fail "create record: $rec"
        api POST /v1/containers "$(cfg "$name-p" '{"privileged": true}')" "$TOK_OPERATOR"
        expect_error 403 policy_denied
        rec=$(record_of "$(header_value X-Request-Id)")
        jq -e '.status == 403 and .policy.decision == "denied" and .policy.rule == "privileged"
                and .policy.field == "privileged" and .token == "operator"' <<<"$rec" >/dev/null ||
                fail "denial record: $rec"
        api GET /v1/containers "" "not-a-token"
        expect_error 401 unauthorized
        rec=$(record_of "$(header_value X-Request-Id)")
        jq -e '.status == 401 and .token == null and .route == "containers_list"' <<<"$rec" >/dev/null ||
                fail "failed authentication record: $rec"
        api GET /v1/containers "" "$TOK_VIEWER"
        expect_ok
        [ -z "$(record_of "$(header_value X-Request-Id)")" ] || fail "a read was recorded"
        api DELETE "/v1/containers/$name?force=true" "" "$TOK_OPERATOR"
        expect_ok
        rec=$(record_of "$(header_value X-Request-Id)")
        jq -e --arg n "$name" '.route == "container_remove" and .target == $n' <<<"$rec" >/dev/null ||
                fail "remove record: $rec"
        # The route, newest first, with its filters; admin only.
        api GET "/v1/audit?route=containers_create&limit=5"
        expect_ok
        expect_jq '.data.records | length >= 2 and all(.route == "containers_create")'
        expect_jq '.data.records[0].seq > .data.records[1].seq' "newest first"
        api GET "/v1/audit?status=401&token=admin"
        expect_jq '.data.records == []' "status and token filters together"
        api GET "/v1/audit?status=401"
        expect_jq '.data.records | length == 1'
        api GET "/v1/audit?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z"
        expect_jq '.data.records == []' "a time window in the past"
        api GET "/v1/audit?limit=0"
        expect_error 400 bad_request
        api GET "/v1/audit?since=yesterday"
        expect_error 400 bad_request
        api GET /v1/audit "" "$TOK_OPERATOR"
        expect_error 403 forbidden
        stop_cmsd
}

chain() {
        audit_cmsd
        local CMSD_URL=$MY_URL i out
        for i in 1 2 3 4 5; do
                api POST /v1/policy/check "$(cfg "x$i")" "$TOK_OPERATOR"
                expect_ok
        done
        stop_cmsd
        out=$("$CMSD_BIN" --verify-audit "$LOG") || fail "verify: $out"
        [[ "$out" == *"chain intact"* ]] || fail "verify said: $out"
        sed -i '3s/"status":200/"status":204/' "$LOG"
        if out=$("$CMSD_BIN" --verify-audit "$LOG"); then
                fail "an edited record passed: $out"
        fi
        [[ "$out" == *"record 4"*"broken"* ]] || fail "the broken record is not named: $out"
}

kill9_burst() {
        audit_cmsd
        local acked="$T_TMP/acked" i
        : >"$acked"
        # Eight clients at once, each noting the request id of every acknowledged request.
        for i in $(seq 1 8); do
                (
                        for _ in $(seq 1 400); do
                                curl -s -o /dev/null -D - --max-time 5 -X POST \
                                        -H "Authorization: Bearer $TOK_OPERATOR" \
                                        -H 'Content-Type: application/json' -d '{"image": "x/y:1"}' \
                                        "$MY_URL/v1/policy/check" 2>/dev/null |
                                        tr -d '\r' | awk '/^HTTP\/1.1 200/ { ok = 1 }
                                                /^X-Request-Id:/ { if (ok) print $2 }' >>"$acked" ||
                                        break
                        done
                ) &
                echo $! >>"$T_TMP/pids"
        done
        wait_for "[ \$(wc -l <'$acked') -ge 200 ]" 30 || fail "the burst did not get going"
        kill -KILL "$MY_PID"
        wait
        local out n missing
        out=$("$CMSD_BIN" --verify-audit "$LOG") || fail "after kill -9: $out"
        n=$(wc -l <"$acked")
        missing=$(jq -r .request_id "$LOG" 2>/dev/null | sort | comm -13 - <(sort -u "$acked") | head -n 3)
        [ -z "$missing" ] || fail "acknowledged but not in the log: $missing (of $n)"
        # The next start cuts a partial last line off and goes on with the chain.
        start_cmsd "$T_TMP/cmsd.yaml" "${MY_URL##*:}" "unix://$ENGINE_SOCK"
        local CMSD_URL=$MY_URL
        api POST /v1/policy/check "$(cfg after)" "$TOK_OPERATOR"
        expect_ok
        stop_cmsd
        out=$("$CMSD_BIN" --verify-audit "$LOG") || fail "after the restart: $out"
        [[ "$out" == *"chain intact"* ]] || fail "after the restart: $out"
}

t records records
t chain chain
t kill9_burst kill9_burst
done_file
