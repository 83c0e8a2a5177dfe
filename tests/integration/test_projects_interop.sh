#!/usr/bin/env bash
# Compose projects, continued from test_projects.sh: both directions of interop with Debian's
# docker-compose 1.29, the up streamed as NDJSON, several files with a working_dir judged by the
# caller's policy and the dry run, and build.no_cache reaching the engine. The same naming and
# cleanup as test_projects.sh (projects_lib.sh).
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=projects_lib.sh
. "$(dirname "$0")/projects_lib.sh"

dcompose() {
        DOCKER_HOST="unix://$ENGINE_SOCK" COMPOSE_INTERACTIVE_NO_CLI=1 timeout 120 docker-compose "$@"
}


# A project docker-compose started is listed, ps-ed, stopped, started and downed by cmsd.
interop_cli_made() {
        local p dir ids
        command -v docker-compose >/dev/null || fail "docker-compose not installed (apt-get install docker-compose)"
        p=$(pname dcli)
        fixture interop
        dir=$(dirname "$CF")
        dcompose -p "$p" -f "$CF" up -d >"$T_TMP/dc.out" 2>&1 ||
                fail "docker-compose up failed: $(short "$(tail -n 5 "$T_TMP/dc.out")")"
        proj_ctrs "$p"
        [ "$(pc_count)" = 2 ] || fail "docker-compose made $(short "$PC")"
        list_entry "$p"
        jq -e --arg d "$dir" '.status == "running" and .containers == 2 and .running == 2 and
                .services == ["a", "b"] and .stored == false and .working_dir == $d' <<<"$ENTRY" >/dev/null ||
                fail "GET /v1/projects entry of the docker-compose project: $(short "$ENTRY")"
        api GET "/v1/projects/$p" "" "$TOK_VIEWER"
        expect_ok
        expect_json .data.stored false
        ids=$(jq -c '[.[].id]' <<<"$PC")
        expect_jq --argjson ids "$ids" --arg p "$p" '[.data.services[] | .name as $s | .containers[] |
                select(.state == "running" and .number == 1 and .name == ($p + "_" + $s + "_1")) | .id] == $ids' \
                "ps lists docker-compose's containers (names <p>_<service>_1)"
        # No stored file: what needs one is 404.
        api GET "/v1/projects/$p/config"
        expect_error 404 not_found
        api POST "/v1/projects/$p/scale" '{"a": 2}' "$TOK_OPERATOR"
        expect_error 404 not_found
        api POST "/v1/projects/$p/stop" '{"timeout": 5}' "$TOK_OPERATOR"
        expect_ok
        # docker-compose 1.29 writes no depends_on label, so no order can be asked for here.
        expect_jq '[.data.containers[] | [.service, .action]] | sort == [["a", "stopped"], ["b", "stopped"]]' \
                "both stopped"
        proj_ctrs "$p"
        jq -e 'all(.[]; .state == "exited")' <<<"$PC" >/dev/null || fail "after stop: $(short "$PC")"
        api POST "/v1/projects/$p/start" '{}' "$TOK_OPERATOR"
        expect_ok
        proj_ctrs "$p"
        jq -e 'length == 2 and all(.[]; .state == "running")' <<<"$PC" >/dev/null || fail "after start: $(short "$PC")"
        dcompose -p "$p" -f "$CF" ps >"$T_TMP/dc.ps" 2>&1
        [ "$(grep -c ' Up' "$T_TMP/dc.ps")" = 2 ] || fail "docker-compose ps after cmsd's start: $(short "$(cat "$T_TMP/dc.ps")")"
        api POST "/v1/projects/$p/down" '{"timeout": 5}' "$TOK_OPERATOR"
        expect_ok
        expect_jq '.data.containers | length == 2 and all(.[]; .action == "removed")' "both removed"
        proj_ctrs "$p"
        [ "$(pc_count)" = 0 ] || fail "containers left after cmsd's down: $(short "$PC")"
        gone_on_engine networks "${p}_default" || fail "network ${p}_default left after cmsd's down"
        api GET "/v1/projects/$p"
        expect_error 404 not_found
}

# cmsd's project as docker-compose sees it (ps by labels, given the same file).
interop_cmsd_made() {
        local p got want
        command -v docker-compose >/dev/null || fail "docker-compose not installed (apt-get install docker-compose)"
        p=$(pname dcmsd)
        fixture interop
        up_project "$p" "$CF"
        expect_ok 201
        want=$(jq -r '.data.containers[].id' <<<"$BODY" | sort | tr '\n' ' ')
        dcompose -p "$p" -f "$CF" ps -q >"$T_TMP/dc.ids" 2>"$T_TMP/dc.err" ||
                fail "docker-compose ps -q failed: $(short "$(cat "$T_TMP/dc.err")")"
        got=$(sort "$T_TMP/dc.ids" | grep -v '^$' | tr '\n' ' ')
        [ "$got" = "$want" ] || fail "docker-compose ps -q gave '$got', cmsd made '$want'"
        dcompose -p "$p" -f "$CF" ps >"$T_TMP/dc.ps" 2>&1
        { grep -q "^$p-a-1 .* Up" "$T_TMP/dc.ps" && grep -q "^$p-b-1 .* Up" "$T_TMP/dc.ps"; } ||
                fail "docker-compose ps: $(short "$(cat "$T_TMP/dc.ps")")"
        # docker-compose stops it; cmsd sees the change.
        dcompose -p "$p" -f "$CF" stop -t 5 >"$T_TMP/dc.out" 2>&1 ||
                fail "docker-compose stop failed: $(short "$(cat "$T_TMP/dc.out")")"
        list_entry "$p"
        jq -e '.status == "exited" and .running == 0 and .stored == true' <<<"$ENTRY" >/dev/null ||
                fail "after docker-compose stop: $(short "$ENTRY")"
}

# Accept: application/x-ndjson on POST /v1/projects: progress events per container and network,
# then done with the reply's members; without it, one envelope as before. A refusal found
# before anything starts (bad file, policy) is a plain error envelope even when a stream is asked.
streamed_up() {
        local p out
        p=$(pname stream)
        fixture single
        jq -n --arg n "$p" --rawfile c "$CF" '{name: $n, compose: $c}' >"$T_TMP/up.json"
        out="$T_TMP/stream.out"
        curl -sS -N --max-time 60 -H "Authorization: Bearer $TOK_OPERATOR" -H 'Accept: application/x-ndjson' \
                -H 'Content-Type: application/json' --data-binary "@$T_TMP/up.json" -D "$out.headers" \
                "$CMSD_URL/v1/projects" >"$out" || fail "curl failed"
        grep -qi '^content-type: *application/x-ndjson' "$out.headers" || fail "not NDJSON: $(short "$(cat "$out.headers")")"
        jq -se --arg p "$p" '
                (map(select(.type == "progress" and .service == "a" and .container == ($p + "-a-1")) | .status)
                        as $s | $s | index("creating") < index("starting") and index("starting") < index("started"))
                and any(.[]; .type == "progress" and .network == ($p + "_default") and .status == "created")
                and (last | .type == "done" and .name == $p and (.containers | length) == 1)' "$out" >/dev/null ||
                fail "stream of up: $(short "$(cat "$out")")"
        proj_ctrs "$p"
        [ "$(pc_count a)" = 1 ] || fail "streamed up made $(short "$PC")"
        # Up again through /up, streamed: the container is kept, said as "running".
        curl -sS -N --max-time 60 -H "Authorization: Bearer $TOK_OPERATOR" -H 'Accept: application/x-ndjson' \
                -H 'Content-Type: application/json' --data-binary '{}' "$CMSD_URL/v1/projects/$p/up" >"$out"
        jq -se '(map(select(.type == "progress")) | map(.status) == ["running"]) and (last.type == "done")
                and last.containers[0].action == "kept"' "$out" >/dev/null || fail "streamed /up: $(short "$(cat "$out")")"
        # Refused before the stream: a plain 400 / 403 envelope.
        apix -H 'Accept: application/x-ndjson' -- POST /v1/projects '{"name": "x", "compose": "services: {a: {image: 5: 6}}"}' "$TOK_OPERATOR"
        expect_error 400 bad_request
        apix -H 'Accept: application/x-ndjson' -- POST /v1/projects "@$T_TMP/up.json" "$TOK_VIEWER"
        expect_error 403 forbidden
        # No Accept: one envelope, as before.
        api POST /v1/projects "@$T_TMP/up.json" "$TOK_OPERATOR"
        expect_ok
        expect_jq '.data.containers[0].action == "kept" and (.data | has("type") | not)' "one envelope"
}

# compose as a list of files, merged; working_dir normalized and the relative paths under it
# judged by the caller's policy like any bind source; dry_run shows the model and makes nothing.
files_workdir_dry_run() {
        local p d
        p=$(pname wd)
        mkdir -p "$POLICY_DIR/wd-$RUN_ID/data"
        d="$POLICY_DIR/wd-$RUN_ID"
        jq -n --arg n "$p" --arg img "$IMG" --arg wd "$POLICY_DIR/./wd-$RUN_ID/../wd-$RUN_ID" '{name: $n,
                compose: ["services:\n  a:\n    image: \($img)\n    command: [sleep, \"600\"]\n    volumes: [\"./data:/data\"]\n",
                          "services:\n  a:\n    environment: {SECOND: \"yes\"}\n"], working_dir: $wd}' >"$T_TMP/wd.json"
        api POST "/v1/projects?dry_run=true" "@$T_TMP/wd.json" "$TOK_CI"
        expect_ok
        expect_jq --arg d "$d/data" '.data.services.a.volumes[0].source == $d and .data.services.a.environment.SECOND == "yes"' \
                "the dry run's model: both files, the bind resolved against the normalized working_dir"
        api GET "/v1/projects/$p"
        expect_error 404 not_found
        no_project_containers "$p"
        api POST /v1/projects "@$T_TMP/wd.json" "$TOK_CI"
        expect_ok 201
        engine_inspect "$(reply_id a)"
        expect_engine --arg d "$d" '(.Config.Env | index("SECOND=yes") != null) and
                .Config.Labels["com.docker.compose.project.working_dir"] == $d and
                any(.Mounts[]; .Source == ($d + "/data") and .Destination == "/data")' "merged files, normalized working_dir"
        api GET "/v1/projects/$p/config" "" "$TOK_OPERATOR"
        expect_jq '.data.services.a.environment.SECOND == "yes"' "the stored project keeps both files"
        # The same files from a working_dir outside the ci policy's bind_paths: denied, nothing made.
        jq --arg n "$p-out" '.name = $n | .working_dir = "/srv"' "$T_TMP/wd.json" >"$T_TMP/out.json"
        api POST /v1/projects "@$T_TMP/out.json" "$TOK_CI"
        expect_error 403 policy_denied
        expect_jq '.error.message | test("bind_paths") and test("services.a.volumes\\[0\\].source")' "the bind's rule and field"
        no_project_containers "$p-out"
        for bad in '"relative/dir"' '5' '""'; do
                api POST /v1/projects "{\"name\": \"$p-bad\", \"compose\": \"services: {a: {image: x}}\", \"working_dir\": $bad}" "$TOK_CI"
                expect_error 400 bad_request
        done
        api POST /v1/projects "{\"name\": \"$p-bad\", \"compose\": []}" "$TOK_CI"
        expect_error 400 bad_request
        api POST /v1/projects "{\"name\": \"$p-bad\", \"compose\": [\"services: {}\", 5]}" "$TOK_CI"
        expect_error 400 bad_request
}

# build.no_cache in the file and no_cache in the build route's body reach the engine: the RUN
# step runs again (a new image id) where a cached build gives the same id.
build_no_cache() {
        local p ctx a b c e img
        p=$(pname nocache)
        img="cmsd-test/$p-app:t" # the ci policy runs cmsd-test/* only
        ctx="$POLICY_DIR/nc-$RUN_ID"
        mkdir -p "$ctx"
        printf 'FROM %s\nLABEL cmsd-test-run=%s\nRUN echo "$RANDOM-$RANDOM" > /stamp\n' "$IMG" "$RUN_ID" >"$ctx/Dockerfile"
        jq -n --arg n "$p" --arg ctx "$ctx" --arg img "$img" '{name: $n, compose: "services:\n  app:\n    build: \($ctx)\n    image: \($img)\n    command: [sleep, \"600\"]\n"}' >"$T_TMP/b.json"
        api POST "/v1/projects/$p/build" '{}' "$TOK_CI"
        expect_error 404 not_found
        # The files in the body: built before any up.
        jq '. + {no_cache: false} | del(.name)' "$T_TMP/b.json" >"$T_TMP/b1.json"
        api POST "/v1/projects/$p/build" "@$T_TMP/b1.json" "$TOK_CI"
        expect_ok
        expect_jq --arg i "$img" '.data.images == [{"service": "app", "image": $i, "action": "built"}]' "built from the body's file"
        engine_api GET "/images/$img/json"
        a=$(jq -r .Id <<<"$EBODY")
        api POST "/v1/projects/$p/build" "@$T_TMP/b1.json" "$TOK_CI"
        engine_api GET "/images/$img/json"
        b=$(jq -r .Id <<<"$EBODY")
        jq '. + {no_cache: true}' "$T_TMP/b1.json" >"$T_TMP/b2.json"
        api POST "/v1/projects/$p/build" "@$T_TMP/b2.json" "$TOK_CI"
        expect_ok
        engine_api GET "/images/$img/json"
        c=$(jq -r .Id <<<"$EBODY")
        [ "$a" = "$b" ] || fail "a cached build changed the image ($a -> $b): the contrast is gone"
        [ "$b" != "$c" ] || fail "no_cache: true did not rebuild ($b)"
        # build: {no_cache: true} in the file: every build runs the step again.
        jq -n --arg n "$p" --arg ctx "$ctx" --arg img "$img" '{name: $n, build: true, compose: "services:\n  app:\n    build: {context: \($ctx), no_cache: true}\n    image: \($img)\n    command: [sleep, \"600\"]\n"}' >"$T_TMP/b3.json"
        api POST /v1/projects "@$T_TMP/b3.json" "$TOK_CI"
        expect_ok 201
        engine_api GET "/images/$img/json"
        e=$(jq -r .Id <<<"$EBODY")
        [ "$e" != "$c" ] || fail "build.no_cache in the file did not rebuild"
        api GET "/v1/projects/$p/config"
        expect_jq '.data.services.app.build.no_cache == true' "no_cache in the model"
        api POST "/v1/projects/$p/build" '{"no_cache": "yes"}' "$TOK_CI"
        expect_error 400 bad_request
        api POST "/v1/projects/$p/build" '{"services": ["nosuch"]}' "$TOK_CI"
        expect_error 400 bad_request
        api POST "/v1/projects/$p/pull" '{"no_cache": true}' "$TOK_CI"
        expect_error 400 bad_request
}

tp interop_docker_compose_made interop_cli_made
tp interop_cmsd_made_seen_by_docker_compose interop_cmsd_made
tp streamed_up streamed_up
tp files_workdir_dry_run files_workdir_dry_run
tp build_no_cache build_no_cache
cleanup_projects
done_file
