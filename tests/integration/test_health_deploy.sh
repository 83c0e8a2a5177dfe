#!/usr/bin/env bash
# Health checks as cmsd reports them (healthy / unhealthy / none, streak, log) and deploy: create +
# start without pulling a present image, same-name conflict and replace, wait_healthy, and the
# failures (missing image on a registry-less machine, never healthy, timeout).
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

HC_OK='{"health_check": {"test": ["CMD-SHELL", "true"], "interval": "1s", "timeout": "2s", "retries": 2}}'
HC_BAD='{"health_check": {"test": ["CMD-SHELL", "echo sick; exit 1"], "interval": "1s", "timeout": "2s", "retries": 2}}'

# health_is ID STATUS [TIMEOUT]: waits until GET .../health says STATUS.
health_is() {
        wait_for "api GET '/v1/containers/$1/health'; [ \"\$(jq -r .data.status <<<\"\$BODY\" 2>/dev/null)\" = $2 ]" "${3:-30}" ||
                fail "health of $1 did not become $2 within ${3:-30}s: $(short "$BODY")"
}

becomes_healthy() {
        run_c "$(unique hok)" "$HC_OK"
        health_is "$CID" healthy
        expect_ok
        expect_json .data.failing_streak 0
        expect_jq '.data.log | length >= 1' "at least one health log entry"
        expect_jq '.data.log[-1] | .exit_code == 0 and (.start | type == "string")
                and (.end | type == "string") and has("output")' "log entry start/end/exit_code/output"
        api GET "/v1/containers/$CID"
        expect_json .data.health healthy
        api GET "/v1/containers?name=$(jq -r .data.name <<<"$BODY")"
        expect_jq --arg id "$CID" '.data[] | select(.id == $id) | .health == "healthy"' "list item health"
}

no_check_none() {
        run_c "$(unique hnone)"
        api GET "/v1/containers/$CID/health"
        expect_ok
        expect_json .data.status none
}

becomes_unhealthy() {
        run_c "$(unique hbad)" "$HC_BAD"
        health_is "$CID" unhealthy
        expect_jq '.data.failing_streak >= 2' "failing_streak >= 2"
        expect_jq '.data.log[-1] | .exit_code == 1 and (.output | test("sick"))' "last log entry: exit 1, output 'sick'"
}

image_healthcheck() {
        # The check comes from the image (Dockerfile.health), not from the create body.
        local name
        name=$(unique himg)
        api POST "/v1/containers?start=true" "$(cfg "$name" "$(jq -cn --arg i "$HEALTH_IMG" '{image: $i, command: null}')")"
        expect_ok 201
        CID=$(jq -r .data.id <<<"$BODY")
        health_is "$CID" healthy
        engine_exec "$CID" sh -c 'echo > /unhealthy'
        [ "$EX_RC" -eq 0 ] || fail "could not create /unhealthy in the container: $EX_ERR"
        health_is "$CID" unhealthy
}

# deploy BODY-OVERLAY NAME: POST /v1/deploy with a ContainerConfig plus options.
deploy() {
        api POST /v1/deploy "$(cfg "$1" "${2-}")"
}

deploy_present_image() {
        local name
        name=$(unique dep)
        # pull defaults to "when absent": the image is present and there is no registry, so any
        # pull attempt would fail this.
        deploy "$name"
        expect_ok
        expect_json .data.name "$name"
        expect_json .data.state running
        expect_jq '.data | has("id") and has("health")' "id and health"
        engine_inspect "$name"
        expect_engine '.State.Running == true'
        expect_engine --arg id "$(jq -r .data.id <<<"$BODY")" '.Id == $id' "same id on the engine"
}

deploy_conflict_and_replace() {
        local name old new
        name=$(unique deprep)
        deploy "$name"
        expect_ok
        old=$(jq -r .data.id <<<"$BODY")
        deploy "$name"
        expect_error 409 conflict
        engine_inspect "$old"
        expect_engine '.State.Running == true' "the original still running after the 409"
        deploy "$name" '{"replace": true, "environment": {"V": "2"}}'
        expect_ok
        new=$(jq -r .data.id <<<"$BODY")
        [ "$new" != "$old" ] || fail "replace kept the same id $old"
        engine_gone "$old" || fail "the replaced container $old is still on the engine"
        engine_inspect "$name"
        expect_engine --arg id "$new" '.Id == $id and .State.Running == true' "the new container running under $name"
        expect_engine '.Config.Env | index("V=2") != null' "the new container has the new config"
}

deploy_wait_healthy() {
        deploy "$(unique dephc)" "$(jq -c '. + {"wait_healthy": "30s"}' <<<"$HC_OK")"
        expect_ok
        expect_json .data.health healthy
        expect_json .data.state running
}

deploy_wait_unhealthy_409() {
        deploy "$(unique depbad)" "$(jq -c '. + {"wait_healthy": "30s"}' <<<"$HC_BAD")"
        expect_error 409 conflict
        expect_jq '.error.message | test("sick")' "the health log's last output in the message"
}

deploy_replace_rolls_back() {
        local name old
        name=$(unique deprb)
        deploy "$name"
        expect_ok
        old=$(jq -r .data.id <<<"$BODY")
        # The successor never becomes healthy: the deploy fails and the original comes back.
        deploy "$name" "$(jq -c '. + {"replace": true, "wait_healthy": "30s"}' <<<"$HC_BAD")"
        expect_error 409 conflict
        engine_inspect "$name"
        expect_engine --arg id "$old" '.Id == $id and .State.Running == true' \
                "the original back under $name and running"
        engine_api GET "/containers/json?all=1&filters=$(jq -rn --arg n "$name" '{name: [$n]} | @uri')"
        expect_engine 'length == 1' "no successor left behind"
}

deploy_wait_timeout_504() {
        # A check that can only run after a minute: still "starting" when the wait ends.
        deploy "$(unique depto)" '{"health_check": {"test": ["CMD-SHELL", "true"], "interval": "60s",
                "start_period": "60s"}, "wait_healthy": "2s"}'
        expect_error 504 timeout
}

deploy_missing_image() {
        # A registry on a closed loopback port: the pull fails at once, and no name lookup or
        # traffic leaves this machine.
        local img=127.0.0.1:1/cmsdt-missing/nothing-here:0
        deploy "$(unique depmiss)" "$(jq -cn --arg i "$img" '{image: $i}')"
        [ "$STATUS" = 404 ] || [ "$STATUS" = 502 ] ||
                fail "missing image: expected 404 or 502, got $STATUS: $(short "$BODY")"
        if [ "$STATUS" = 404 ]; then expect_code not_found; else expect_code engine_error; fi
        # The engine's reason, not a generic text: it names the image or says what failed.
        expect_jq '.error.message | test("nothing-here|not found|no such|pull|refused|dial|denied|unknown"; "i")' \
                "the engine's reason in the message"
}

deploy_pull_values() {
        local img=127.0.0.1:1/cmsdt-missing/nothing-here:0 v name
        name=$(unique deppull)
        # true/false as before, or the create route's words; never looks at the engine only.
        for v in '"never"' false; do
                deploy "$name" "$(jq -cn --arg i "$img" --argjson p "$v" '{image: $i, pull: $p}')"
                expect_error 404 not_found
                expect_jq '.error.message | test("no such image") and test("nothing-here")' \
                        "the absent image named for pull $v"
        done
        for v in '"sometimes"' '1' '"NEVER"'; do
                deploy "$name" "{\"pull\": $v}"
                expect_error 400 bad_request
                expect_jq '.error.message | startswith("body.pull: ")' "the field named for pull $v"
        done
        deploy "$name" '{"pull": "never", "registry_auth": {"username": "u", "password": "p"}}'
        expect_error 400 bad_request
        expect_jq '.error.message | startswith("registry_auth: ")'
        engine_gone "$name" || fail "a refused deploy left $name on the engine"
        deploy "$name" '{"pull": "never"}'
        expect_ok
        expect_json .data.pulled false
        expect_json .data.state running
}

t becomes_healthy becomes_healthy
t no_healthcheck_none no_check_none
t becomes_unhealthy becomes_unhealthy
t image_healthcheck image_healthcheck
t deploy_present_image_no_pull deploy_present_image
t deploy_conflict_then_replace deploy_conflict_and_replace
t deploy_wait_healthy deploy_wait_healthy
t deploy_wait_unhealthy_409 deploy_wait_unhealthy_409
t deploy_replace_rolls_back deploy_replace_rolls_back
t deploy_wait_timeout_504 deploy_wait_timeout_504
t deploy_missing_image deploy_missing_image
t deploy_pull_values deploy_pull_values
done_file
