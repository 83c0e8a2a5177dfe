#!/usr/bin/env bash
# Container lifecycle through cmsd: create, list (filters), inspect, start, pause, unpause, stop,
# restart, kill, remove. Every state change is checked on the engine itself, not only in cmsd's
# reply.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

create_201() {
        local name
        name=$(unique create)
        create "$name"
        expect_json .data.name "$name"
        expect_jq '.data.id | test("^[0-9a-f]{64}$")' "a full 64-hex id"
        expect_jq '.data.warnings | type == "array"' "a warnings array"
        engine_inspect "$CID"
        expect_engine --arg n "/$name" '.Name == $n' "engine name /$name"
        expect_engine '.State.Status == "created"'
        expect_engine '.Config.Image | test("cmsd-test/busybox")' "the test image"
}

create_start_true() {
        local name
        name=$(unique started)
        create "$name" '' '?start=true'
        wait_for "[ \"\$(engine_state '$CID')\" = running ]" 15 ||
                fail "?start=true: engine state is $(engine_state "$CID"), not running"
}

list_filters() {
        local a b ida idb
        a=$(unique lista)
        b=$(unique listb)
        create "$a" '{"labels": {"cmsdt-pick": "yes"}}'
        ida=$CID
        run_c "$b" '{"labels": {"cmsdt-pick": "no"}}'
        idb=$CID

        api GET /v1/containers "" "$TOK_VIEWER"
        expect_ok
        expect_jq --arg id "$idb" 'any(.data[]; .id == $id)' "running container $b listed"
        expect_jq --arg id "$ida" 'all(.data[]; .id != $id)' "created container $a absent without all"

        api GET "/v1/containers?all=true" "" "$TOK_VIEWER"
        expect_ok
        expect_jq --arg id "$ida" 'any(.data[]; .id == $id)' "created container $a listed with all=true"
        expect_jq --arg id "$ida" '.data[] | select(.id == $id) |
                has("id") and has("name") and has("image") and has("state") and has("status")
                and has("created") and has("ports") and has("labels") and has("health")' \
                "list items with id,name,image,state,status,created,ports,labels,health"
        expect_jq --arg id "$ida" --arg n "$a" '.data[] | select(.id == $id) | .name == $n
                and .state == "created" and (.labels["cmsdt-pick"] == "yes")
                and (.created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T"))' \
                "normalized item (name without slash, state created, labels, RFC 3339 created)"

        api GET "/v1/containers?all=true&name=$a"
        expect_ok
        expect_jq --arg id "$ida" 'any(.data[]; .id == $id)' "name filter finds $a"
        expect_jq --arg id "$idb" 'all(.data[]; .id != $id)' "name filter excludes $b"

        api GET "/v1/containers?all=true&label=cmsd-test-run=$RUN_ID&label=cmsdt-pick=yes"
        expect_ok
        expect_jq --arg id "$ida" 'any(.data[]; .id == $id)' "label filter finds $a"
        expect_jq --arg id "$idb" 'all(.data[]; .id != $id)' "label filter excludes $b"
        expect_jq --arg run "$RUN_ID" 'all(.data[]; .labels["cmsd-test-run"] == $run)' \
                "label filter keeps only this run's containers"
}

inspect_summary() {
        local name
        name=$(unique insp)
        create "$name" '{"environment": {"K1": "v1"}, "workdir": "/tmp", "hostname": "insp-host"}'
        api GET "/v1/containers/$CID" "" "$TOK_VIEWER"
        expect_ok
        local k
        for k in id name image state status created ports labels health image_id started_at \
                finished_at exit_code pid restart_count restart_policy command entrypoint \
                environment user workdir hostname networks mounts resources dns extra_hosts \
                privileged read_only auto_remove capabilities raw; do
                expect_jq "(.data | has(\"$k\"))" "inspect key '$k'"
        done
        expect_json .data.id "$CID"
        expect_json .data.name "$name"
        # Podman names local images localhost/...; either spelling is the same image.
        expect_jq --arg i "$IMG" '.data.image == $i or .data.image == "localhost/" + $i' \
                "image $IMG"
        expect_json .data.state created
        expect_json .data.health none
        expect_json .data.raw.Id "$CID"
        # A viewer sees the variable's name, not its value (an operator sees it, below).
        expect_json .data.environment.K1 '<redacted>'
        expect_json .data.workdir /tmp
        expect_json .data.hostname insp-host
        expect_json '.data.command | join(" ")' "sleep 600"
        expect_jq '.data.resources | has("memory") and has("memory_swap") and has("cpu_shares")
                and has("cpu_quota") and has("cpu_period") and has("nano_cpus")
                and has("cpuset_cpus") and has("pids_limit")' "all resources keys"
        # By name and by unique id prefix too.
        api GET "/v1/containers/$name" "" "$TOK_OPERATOR"
        expect_ok
        expect_json .data.id "$CID"
        expect_json .data.environment.K1 v1
        api GET "/v1/containers/${CID:0:12}"
        expect_ok
        expect_json .data.id "$CID"
}

start_pause_unpause() {
        create "$(unique life)"
        api POST "/v1/containers/$CID/start"
        expect_ok
        expect_json .data.state running
        expect_json .data.id "$CID"
        engine_inspect "$CID"
        expect_engine '.State.Running == true'

        # Starting a running container is not an error.
        api POST "/v1/containers/$CID/start"
        expect_ok
        expect_json .data.state running

        api POST "/v1/containers/$CID/pause"
        expect_ok
        expect_json .data.state paused
        engine_inspect "$CID"
        expect_engine '.State.Paused == true and .State.Status == "paused"'
        api GET "/v1/containers/$CID"
        expect_json .data.state paused

        api POST "/v1/containers/$CID/unpause"
        expect_ok
        expect_json .data.state running
        engine_inspect "$CID"
        expect_engine '.State.Paused == false and .State.Status == "running"'
}

pause_not_running_409() {
        create "$(unique pausec)"
        api POST "/v1/containers/$CID/pause"
        expect_error 409 conflict
        [ "$(engine_state "$CID")" = created ] || fail "engine state changed: $(engine_state "$CID")"
}

stop_with_timeout() {
        # sleep as PID 1 ignores SIGTERM, so the stop must escalate after the timeout.
        run_c "$(unique stop)"
        api POST "/v1/containers/$CID/stop?timeout=1"
        expect_ok
        expect_json .data.state exited
        engine_inspect "$CID"
        expect_engine '.State.Running == false and .State.Status == "exited"'
        # Stopping a stopped container is not an error.
        api POST "/v1/containers/$CID/stop?timeout=1"
        expect_ok
        expect_json .data.state exited
}

restart() {
        local before after
        run_c "$(unique restart)"
        engine_inspect "$CID"
        before=$(jq -r .State.StartedAt <<<"$EBODY")
        sleep 1
        api POST "/v1/containers/$CID/restart?timeout=1"
        expect_ok
        expect_json .data.state running
        engine_inspect "$CID"
        expect_engine '.State.Running == true'
        after=$(jq -r .State.StartedAt <<<"$EBODY")
        [ "$before" != "$after" ] || fail "engine StartedAt unchanged ($before): not restarted"
}

kill_signal() {
        # The trap proves which signal arrived: USR1 -> exit 7.
        run_c "$(unique kill)" '{"command": ["sh", "-c", "trap \"exit 7\" USR1; while :; do sleep 0.2; done"]}'
        sleep 0.5
        api POST "/v1/containers/$CID/kill?signal=SIGUSR1"
        expect_ok
        wait_exited "$CID" 15
        engine_inspect "$CID"
        expect_engine '.State.ExitCode == 7' "exit code 7 (SIGUSR1 delivered)"
}

kill_default_and_number() {
        run_c "$(unique kill9)"
        api POST "/v1/containers/$CID/kill?signal=9"
        expect_ok
        wait_exited "$CID" 15
        engine_inspect "$CID"
        expect_engine '.State.ExitCode == 137' "exit code 137 (SIGKILL)"
        run_c "$(unique killd)"
        api POST "/v1/containers/$CID/kill"
        expect_ok
        wait_exited "$CID" 15
}

remove_running_409_then_force() {
        run_c "$(unique rm)"
        api DELETE "/v1/containers/$CID"
        expect_error 409 conflict
        engine_inspect "$CID"
        expect_engine '.State.Running == true' "still running after a refused remove"
        api DELETE "/v1/containers/$CID?force=true"
        expect_ok
        expect_json .data.removed true
        expect_json .data.id "$CID"
        engine_gone "$CID" || fail "engine still has $CID after force remove"
        api GET "/v1/containers/$CID"
        expect_error 404 not_found
}

remove_stopped() {
        create "$(unique rms)"
        api DELETE "/v1/containers/$CID"
        expect_ok
        expect_json .data.removed true
        engine_gone "$CID" || fail "engine still has $CID after remove"
}

t create_201 create_201
t create_start_true create_start_true
t list_filters list_filters
t inspect_summary inspect_summary
t start_pause_unpause start_pause_unpause
t pause_not_running_409 pause_not_running_409
t stop_with_timeout stop_with_timeout
t restart restart
t kill_signal_usr1 kill_signal
t kill_numeric_and_default kill_default_and_number
t remove_running_409_then_force remove_running_409_then_force
t remove_stopped remove_stopped
done_file
