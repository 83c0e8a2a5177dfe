#!/usr/bin/env bash
# System routes: liveness, engine/host information (checked against the engine itself) and prune,
# which must really remove stopped containers and be reserved to admins.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

health() {
        api GET /v1/health "" -
        expect_ok
        expect_json .data.status ok
        expect_json .data.engine up
}

info() {
        local want_version
        api GET /v1/system/info "" "$TOK_VIEWER"
        expect_ok
        expect_json .data.runtime "$ENGINE"
        engine_api GET /version
        want_version=$(jq -r .Version <<<"$EBODY")
        expect_json .data.engine.version "$want_version"
        expect_jq '(.data.engine.api_version | type) == "string" and (.data.engine.api_version | length) > 0'
        expect_jq '.data.engine.url | type == "string" and contains("'"$ENGINE_SOCK"'")' \
                "engine.url naming $ENGINE_SOCK"
        expect_jq '(.data.host.os | type) == "string" and (.data.host.kernel | type) == "string"'
        expect_jq '.data.host.cpus >= 1 and .data.host.memory > 0' "host cpus and memory"
        expect_jq '.data.counts.containers | (.running | type) == "number" and
                (.paused | type) == "number" and (.stopped | type) == "number"' \
                "counts.containers.{running,paused,stopped} numbers"
        expect_jq '.data.counts.images >= 2' "counts.images >= 2 (the two test images)"
        expect_jq '(.data.counts.networks | type) == "number" and (.data.counts.volumes | type) == "number"'
        expect_jq '(.data.cmsd.version | type) == "string" and .data.cmsd.uptime_s >= 0'
        expect_jq '(.data.sampler.running | type) == "boolean"'
}

# A running container must be counted as running.
info_counts() {
        local before
        api GET /v1/system/info
        expect_ok
        before=$(jq -r .data.counts.containers.running <<<"$BODY")
        run_c "$(unique info)"
        wait_for "api GET /v1/system/info; [ \"\$(jq -r .data.counts.containers.running <<<\"\$BODY\")\" -gt $before ]" 10 ||
                fail "counts.containers.running did not grow from $before after starting a container: $(short "$BODY")"
}

prune_admin() {
        local name id
        name=$(unique prune)
        create "$name" '{"command": ["true"]}' '?start=true'
        id=$CID
        wait_exited "$id"
        api POST /v1/system/prune '{}' "$TOK_ADMIN"
        expect_ok
        expect_jq '(.data.containers | type) == "array" and (.data.images | type) == "array"
                and (.data.networks | type) == "array" and (.data.volumes | type) == "array"
                and (.data.space_reclaimed | type) == "number"' \
                "containers/images/networks/volumes arrays and space_reclaimed"
        expect_jq --arg id "$id" '.data.containers | any(. == $id)' "the pruned id $id listed"
        engine_gone "$id" || fail "engine still has the pruned container $id"
        # The shared test image must survive a default prune (only dangling images go).
        engine_api GET "/images/$IMG/json"
        [ "$ESTATUS" = 200 ] || fail "default prune removed $IMG"
}

prune_operator_forbidden() {
        local id
        create "$(unique prune-op)" '{"command": ["true"]}' '?start=true'
        id=$CID
        wait_exited "$id"
        api POST /v1/system/prune '{}' "$TOK_OPERATOR"
        expect_error 403 forbidden
        engine_inspect "$id"
}

t health health
t info info
t info_counts info_counts
t prune_admin prune_admin
t prune_operator_forbidden prune_operator_forbidden
done_file
