#!/usr/bin/env bash
# Bad input, one row per case: each must get its exact status and stable error code in a failure
# envelope, and none may hurt cmsd (it still answers afterwards). {C} in a path is a running
# container, {IMG} the test image.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

# name | method | path | body | token (admin|operator|viewer|none|bad) | status | code
TABLE=$(
        cat <<'EOF'
malformed_json|POST|/v1/containers|{"image": "{IMG}",|admin|400|bad_request
not_an_object|POST|/v1/containers|["{IMG}"]|admin|400|bad_request
image_wrong_type|POST|/v1/containers|{"image": 42}|admin|400|bad_request
memory_wrong_type|POST|/v1/containers|{"image": "{IMG}", "resources": {"memory": true}}|admin|400|bad_request
command_wrong_type|POST|/v1/containers|{"image": "{IMG}", "command": "sleep 1"}|admin|400|bad_request
unknown_top_field|POST|/v1/containers|{"image": "{IMG}", "bogus": 1}|admin|400|bad_request
unknown_nested_field|POST|/v1/containers|{"image": "{IMG}", "resources": {"bogus": 1}}|admin|400|bad_request
missing_image|POST|/v1/containers|{"name": "cmsdt-noimage"}|admin|400|bad_request
empty_body|POST|/v1/containers||admin|400|bad_request
nonexistent_image|POST|/v1/containers|{"image": "cmsdt-nonexistent/nothing:0", "pull": "never"}|admin|404|not_found
unknown_container|GET|/v1/containers/cmsdt-no-such-container||admin|404|not_found
unknown_container_start|POST|/v1/containers/cmsdt-no-such-container/start||admin|404|not_found
unknown_container_delete|DELETE|/v1/containers/cmsdt-no-such-container||admin|404|not_found
no_token|GET|/v1/containers||none|401|unauthorized
bad_token|GET|/v1/containers||bad|401|unauthorized
viewer_post|POST|/v1/containers|{"image": "{IMG}"}|viewer|403|forbidden
viewer_kill|POST|/v1/containers/{C}/kill||viewer|403|forbidden
operator_prune|POST|/v1/system/prune|{}|operator|403|forbidden
volume_prune_body_filter|POST|/v1/volumes/prune|{"filters": {"label": ["cmsdt-x"]}}|admin|400|bad_request
volume_prune_misspelt|POST|/v1/volumes/prune?lable=cmsdt-x|{}|admin|400|bad_request
network_prune_body|POST|/v1/networks/prune|{"all": true}|admin|400|bad_request
network_prune_misspelt|POST|/v1/networks/prune?labels=cmsdt-x||admin|400|bad_request
null_body|POST|/v1/containers|null|admin|400|bad_request
wrong_method_collection|PUT|/v1/containers|{}|admin|405|method_not_allowed
wrong_method_item|PATCH|/v1/containers/{C}|{}|admin|405|method_not_allowed
unknown_route|GET|/v1/no-such-route||admin|404|not_found
unknown_action|POST|/v1/containers/{C}/explode||admin|404|not_found
memory_negative|POST|/v1/containers|{"image": "{IMG}", "resources": {"memory": "-5g"}}|admin|400|bad_request
memory_garbage|POST|/v1/containers|{"image": "{IMG}", "resources": {"memory": "lots"}}|admin|400|bad_request
cpus_zero|POST|/v1/containers|{"image": "{IMG}", "resources": {"cpus": 0}}|admin|400|bad_request
cpus_negative|POST|/v1/containers|{"image": "{IMG}", "resources": {"cpus": -1}}|admin|400|bad_request
bad_port_key|POST|/v1/containers|{"image": "{IMG}", "network": {"ports": {"eighty": "8080"}}}|admin|400|bad_request
bad_port_value|POST|/v1/containers|{"image": "{IMG}", "network": {"ports": {"80": "99999"}}}|admin|400|bad_request
bad_port_proto|POST|/v1/containers|{"image": "{IMG}", "network": {"ports": {"80/sctpx": "8080"}}}|admin|400|bad_request
bad_restart_policy|POST|/v1/containers|{"image": "{IMG}", "restart_policy": "sometimes"}|admin|400|bad_request
bad_restart_count|POST|/v1/containers|{"image": "{IMG}", "restart_policy": "on-failure:x"}|admin|400|bad_request
bad_volume_type|POST|/v1/containers|{"image": "{IMG}", "volumes": [{"type": "nfs", "source": "a", "target": "/a"}]}|admin|400|bad_request
bad_duration|POST|/v1/containers|{"image": "{IMG}", "health_check": {"test": ["CMD", "true"], "interval": "soon"}}|admin|400|bad_request
bad_signal|POST|/v1/containers/{C}/kill?signal=SIGBOGUS||admin|400|bad_request
bad_stop_timeout|POST|/v1/containers/{C}/stop?timeout=abc||admin|400|bad_request
tail_abc|GET|/v1/containers/{C}/logs?tail=abc||admin|400|bad_request
bad_bool|GET|/v1/containers?all=maybe||admin|400|bad_request
deploy_bad_wait|POST|/v1/deploy|{"image": "{IMG}", "wait_healthy": "forever"}|admin|400|bad_request
exec_command_wrong_type|POST|/v1/containers/{C}/exec|{"command": "true"}|admin|400|bad_request
dot_id_inspect|GET|/v1/containers/%2E||admin|400|bad_request
dotdot_id_stop|POST|/v1/containers/%2E%2E/stop||admin|400|bad_request
weird_id_logs|GET|/v1/containers/a%20b/logs||admin|400|bad_request
nan_cpus|POST|/v1/containers|{"image": "{IMG}", "resources": {"cpu_shares": NaN}}|admin|400|bad_request
huge_int|POST|/v1/containers|{"image": "{IMG}", "resources": {"pids_limit": 1e300}}|admin|400|bad_request
trailing_comma|POST|/v1/containers|{"image": "{IMG}",}|admin|400|bad_request
compose_ulimit_after_good|POST|/v1/projects/config|{"name": "cmsdt-ul", "compose": "services: {a: {image: \"{IMG}\", ulimits: {nofile: 1, B: two}}}"}|viewer|400|bad_request
compose_ulimit_dry_run|POST|/v1/projects?dry_run=true|{"name": "cmsdt-ul", "compose": "services: {a: {image: \"{IMG}\", ulimits: {core: 0, nofile: {soft: 5, hard: 2}}}}"}|operator|400|bad_request
bad_since_offset|GET|/v1/containers/{C}/logs?since=2020-01-01T00:00:00%2B1:2||admin|400|bad_request
bad_label_filter|GET|/v1/containers?label==x||admin|400|bad_request
EOF
)

# Filled in by setup: a running container the {C} rows act on.
C_ID=""

row() {
        local line=$1 name method path body tok status code
        IFS='|' read -r name method path body tok status code <<<"$line"
        path=${path//\{C\}/$C_ID}
        body=${body//\{C\}/$C_ID}
        body=${body//\{IMG\}/$IMG}
        case "$tok" in
        admin) tok=$TOK_ADMIN ;;
        operator) tok=$TOK_OPERATOR ;;
        viewer) tok=$TOK_VIEWER ;;
        none) tok=- ;;
        bad) tok=no-such-token ;;
        esac
        if [ -z "$body" ] && [ "$method" = POST ]; then
                # An empty POST still declares JSON, so only the emptiness is wrong.
                apix -H 'Content-Type: application/json' -- "$method" "$path" "" "$tok"
        else
                api "$method" "$path" "$body" "$tok"
        fi
        expect_error "$status" "$code"
}

setup_container() {
        local name
        name=$(unique bad)
        api POST "/v1/containers?start=true" "$(cfg "$name")"
        [ "$STATUS" = 201 ] || return 1
        C_ID=$(jq -r .data.id <<<"$BODY")
}

# The engine's own text is kept in the message.
unknown_container_message() {
        api GET /v1/containers/cmsdt-no-such-container
        expect_error 404 not_found
        expect_jq '.error.message | test("no such container"; "i")' "the engine's 'No such container' message"
}

nonexistent_image_message() {
        api POST /v1/containers '{"image": "cmsdt-nonexistent/nothing:0", "pull": "never"}'
        expect_error 404 not_found
        expect_jq '.error.message | test("no such image|image not known"; "i")' "the engine's no-such-image message"
}

oversized_body() {
        local f="$T_TMP/big.json"
        # A valid JSON document just over 1 MiB (limits.max_body is 1m).
        {
                printf '{"image": "%s", "labels": {"pad": "' "$IMG"
                head -c 1100000 /dev/zero | tr '\0' 'a'
                printf '"}}'
        } >"$f"
        api POST /v1/containers "@$f"
        expect_error 413 payload_too_large
}

wrong_method_allow() {
        api PUT /v1/containers '{}'
        expect_error 405 method_not_allowed
        expect_header Allow '.*GET'
        expect_header Allow '.*POST'
        api DELETE /v1/health
        expect_error 405 method_not_allowed
        expect_header Allow '.*GET'
}

non_json_415() {
        apix -H 'Content-Type: text/plain' -- POST /v1/containers "{\"image\": \"$IMG\"}"
        expect_error 415 unsupported_media_type
        apix -H 'Content-Type: application/x-www-form-urlencoded' -- POST /v1/containers "image=$IMG"
        expect_error 415 unsupported_media_type
}

no_side_effects() {
        # None of the rejected creates made a container.
        local n
        engine_api GET "/containers/json?all=1"
        n=$(jq '[.[] | select(.Names[] | test("cmsdt-noimage"))] | length' <<<"$EBODY")
        [ "$n" = 0 ] || fail "a rejected create left a container behind"
}

# A %0a (or another control byte) in the URL decodes to a newline: the access log escapes it, so
# no request can write a line of its own; the line also names the peer address.
log_injection() {
        local marker="FORGED$RANDOM"
        api GET "/v1/containers/x%0a2026-01-01T00:00:00.000Z%20info%20%20$marker%0d%1b%5b31m"
        expect_error 400 bad_request
        wait_for "grep -q 'x\\\\x0a2026-01-01T00:00:00.000Z info  $marker\\\\x0d\\\\x1b' '$CMSD_LOG'" 10 ||
                fail "the escaped request line is not in the log: $(grep -a "$marker" "$CMSD_LOG" | tail -n 2)"
        if grep -aq "^2026-01-01T00:00:00.000Z info  $marker" "$CMSD_LOG"; then
                fail "a URL forged a log line"
        fi
        grep -a "$marker" "$CMSD_LOG" | grep -Eq ' peer=127\.0\.0\.1:[0-9]+' ||
                fail "the access line does not name the peer"
}

still_alive() {
        kill -0 "$CMSD_PID" 2>/dev/null || fail "cmsd (pid $CMSD_PID) is gone"
        api GET /v1/health "" -
        expect_ok
        expect_json .data.status ok
        api GET /v1/containers
        expect_ok
}

run_table() {
        local line
        T_TMP=$(mktemp -d "$WORK_DIR/tmp.XXXXXX")
        if ! setup_container; then
                echo "not ok - $ENGINE $AREA.setup: could not create the {C} container: $STATUS $(short "$BODY")"
                echo "not ok $ENGINE $AREA.setup" >>"$RESULTS_FILE"
        fi
        # The rows share the {C} container: no per-row cleanup; the next t() removes it.
        T_NO_CLEANUP=1
        while IFS= read -r line; do
                [ -n "$line" ] || continue
                ROW=$line
                t "${line%%|*}" row_from_var
        done <<<"$TABLE"
        T_NO_CLEANUP=
}

row_from_var() {
        row "$ROW"
}

run_table
t unknown_container_engine_message unknown_container_message
t nonexistent_image_engine_message nonexistent_image_message
t oversized_body_413 oversized_body
t wrong_method_405_allow wrong_method_allow
t non_json_content_type_415 non_json_415
t rejected_creates_left_nothing no_side_effects
t access_log_escapes_url log_injection
t still_alive_after_table still_alive
done_file
