#!/usr/bin/env bash
# Volume routes: create (labels, options, checked on the engine), duplicates and bad input (each
# its own 400/409, nothing half-made), data written by one container read by the next, remove in
# use (409) then free, bind mounts honouring read-only, tmpfs mounts being tmpfs, and a
# label-scoped prune that leaves in-use and other volumes alone.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

# vol NAME [EXTRA-JSON]: creates a labelled volume through cmsd (expects 201).
vol() {
        local x=${2-}
        [ -n "$x" ] || x='{}'
        api POST /v1/volumes "$(jq -cn --arg n "$1" --arg run "$RUN_ID" --argjson x "$x" \
                '{name: $n, labels: {"cmsd-test-run": $run}} * $x')" "$TOK_OPERATOR"
        expect_ok 201
}

create_inspect() {
        local name
        name=$(unique vol)
        vol "$name" '{"labels": {"tier": "db"}, "driver": "local"}'
        expect_json .data.name "$name"
        expect_json .data.driver local
        expect_json .data.labels.tier db
        expect_jq '(.data.mountpoint | length) > 0 and (.data.created | length) > 0'
        engine_api GET "/volumes/$name"
        [ "$ESTATUS" = 200 ] || fail "engine has no volume $name"
        expect_engine '.Labels.tier == "db"' "labels on the engine"
        api GET "/v1/volumes/$name" "" "$TOK_VIEWER"
        expect_ok
        expect_jq --arg n "$name" '.data.name == $n and .data.raw.Name == $n'
        api GET "/v1/volumes?label=tier=db&label=cmsd-test-run=$RUN_ID" "" "$TOK_VIEWER"
        expect_ok
        expect_jq --arg n "$name" '.data | map(.name) == [$n]' "only $name listed by label"
        # Options reach the engine (a tmpfs-backed local volume).
        name=$(unique vol)
        vol "$name" '{"options": {"type": "tmpfs", "device": "tmpfs"}}'
        engine_api GET "/volumes/$name"
        expect_engine '.Options.type == "tmpfs" and .Options.device == "tmpfs"' "driver options on the engine"
}

duplicate() {
        local name
        name=$(unique vol)
        vol "$name" '{"labels": {"first": "1"}}'
        api POST /v1/volumes "{\"name\": \"$name\", \"labels\": {\"second\": \"1\"}}"
        expect_error 409 conflict
        engine_api GET "/volumes/$name"
        expect_engine '.Labels.first == "1" and (.Labels.second == null)' "the first volume untouched"
}

bad_input() {
        local name body
        name=$(unique bad)
        while IFS='|' read -r body want; do
                body=${body//NAME/$name}
                api POST /v1/volumes "$body"
                expect_error 400 bad_request
                grep -qi -- "$want" <<<"$BODY" || fail "$body: message should mention '$want': $(short "$BODY")"
                engine_api GET "/volumes/$name"
                [ "$ESTATUS" = 404 ] || fail "volume $name exists after the refused $body"
        done <<'EOF'
{"name":"NAME","bogus":true}|bogus
{"name":"NAME","labels":["a"]}|labels
{"name":"NAME","options":{"o":5}}|options
{"name":"NAME","driver":"no/such"}|driver
{"name":"NAME","driver":"nosuchdriver"}|nosuchdriver
EOF
        api POST /v1/volumes '{"name": "-bad"}'
        expect_error 400 bad_request
        api POST /v1/volumes '{"name": "a/b"}'
        expect_error 400 bad_request
}

persists() {
        local name w r
        name=$(unique vol)
        vol "$name"
        w=$(unique writer)
        create "$w" "$(jq -cn --arg v "$name" '{command: ["sh", "-c", "echo kept-$((6*7)) > /data/f"],
                volumes: [{source: $v, target: "/data", type: "volume"}]}')" '?start=true'
        wait_exited "$CID"
        r=$(unique reader)
        run_c "$r" "$(jq -cn --arg v "$name" '{volumes: [{source: $v, target: "/data"}]}')"
        api POST "/v1/containers/$r/exec" '{"command": ["cat", "/data/f"]}'
        expect_ok
        expect_json .data.stdout $'kept-42\n'
        # In use by the running reader: 409 and the volume stays.
        api DELETE "/v1/volumes/$name" "" "$TOK_OPERATOR"
        expect_error 409 conflict
        engine_api GET "/volumes/$name"
        [ "$ESTATUS" = 200 ] || fail "volume $name gone after a refused remove"
        api DELETE "/v1/containers/$r?force=true"
        expect_ok
        api DELETE "/v1/containers/$w?force=true"
        expect_ok
        api DELETE "/v1/volumes/$name" "" "$TOK_OPERATOR"
        expect_ok
        expect_json .data.removed true
        engine_api GET "/volumes/$name"
        [ "$ESTATUS" = 404 ] || fail "volume $name still on the engine after remove"
        api DELETE "/v1/volumes/$name"
        expect_error 404 not_found
}

bind_ro_tmpfs() {
        local dir c
        dir=$(mktemp -d "$WORK_DIR/bind.XXXXXX")
        echo host-data >"$dir/in"
        chmod 755 "$dir"
        c=$(unique mounts)
        run_c "$c" "$(jq -cn --arg d "$dir" '{volumes: [
                {source: $d, target: "/ro", type: "bind", read_only: true},
                {target: "/scratch", type: "tmpfs"}]}')"
        api POST "/v1/containers/$c/exec" '{"command": ["cat", "/ro/in"]}'
        expect_ok
        expect_json .data.stdout $'host-data\n'
        api POST "/v1/containers/$c/exec" '{"command": ["sh", "-c", "echo x > /ro/new"]}'
        expect_ok
        expect_jq '.data.exit_code != 0' "a write to the read-only bind mount failing"
        [ ! -e "$dir/new" ] || fail "a file appeared through the read-only bind mount"
        api POST "/v1/containers/$c/exec" '{"command": ["sh", "-c", "grep \" /scratch \" /proc/mounts"]}'
        expect_ok
        expect_jq '.data.stdout | test("^tmpfs /scratch tmpfs")' "/scratch mounted as tmpfs"
        rm -rf "$dir"
}

prune_labelled() {
        local keep gone used c
        keep=$(unique keep)
        vol "$keep"
        gone=$(unique gone)
        used=$(unique used)
        vol "$gone" '{"labels": {"cmsd-prune": "yes"}}'
        vol "$used" '{"labels": {"cmsd-prune": "yes"}}'
        c=$(unique c)
        run_c "$c" "$(jq -cn --arg v "$used" '{volumes: [{source: $v, target: "/d"}]}')"
        api POST "/v1/volumes/prune?label=cmsd-prune=yes&label=cmsd-test-run=$RUN_ID" "" "$TOK_OPERATOR"
        expect_error 403 forbidden
        api POST "/v1/volumes/prune?label=cmsd-prune=yes&label=cmsd-test-run=$RUN_ID"
        expect_ok
        expect_jq --arg g "$gone" '.data.volumes == [$g] and (.data.space_reclaimed | type) == "number"' \
                "exactly the unused labelled volume pruned"
        engine_api GET "/volumes/$gone"
        [ "$ESTATUS" = 404 ] || fail "pruned volume $gone still on the engine"
        for v in "$keep" "$used"; do
                engine_api GET "/volumes/$v"
                [ "$ESTATUS" = 200 ] || fail "prune removed $v"
        done
}

not_found() {
        api GET "/v1/volumes/$(unique nosuch)"
        expect_error 404 not_found
        api GET "/v1/volumes/bad%20name"
        expect_error 400 bad_request
        api POST "/v1/volumes" '{"name": "x"}' "$TOK_VIEWER"
        expect_error 403 forbidden
}

t create_inspect create_inspect
t duplicate duplicate
t bad_input bad_input
t persists persists
t bind_ro_tmpfs bind_ro_tmpfs
t prune_labelled prune_labelled
t not_found not_found
done_file
