#!/usr/bin/env bash
# Compose `include` (issue 19): a project whose file includes a database application from a
# subdirectory (its own .env, a bind mount and a secret file relative to its own directory, a
# network and a volume the including file's service uses) gives through POST /v1/projects/config
# the model of the same resources written out by hand with absolute paths, and comes up on the
# engine that way (checked on the engine's inspect documents and inside the containers); the
# request's env wins over the included .env; a definition conflicting with the including file is
# a 400 naming both; the ci operator may not have cmsd read an included file outside its
# build_paths (403 naming include). Projects are named "$NAME_PREFIX-<x>"; each test removes them.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=projects_lib.sh
. "$(dirname "$0")/projects_lib.sh"

config_of() {
        jq -n --arg n "$(pname cfg)" --rawfile c "$1" --arg wd "${2-}" --argjson e "${3-{\}}" \
                '{name: $n, compose: $c, env: $e} +
                (if $wd == "" then {} else {working_dir: $wd} end)' >"$T_TMP/cfg.json"
        api POST /v1/projects/config "@$T_TMP/cfg.json" "$TOK_ADMIN"
        MODEL=$BODY
}

# The included application under $wd/db and the including file in $CF.
include_files() {
        mkdir -p "$wd/db/data"
        printf 'DB_LEVEL=from-db-env\nWHO=db-env\n' >"$wd/db/.env"
        printf 'hello-from-db-dir' >"$wd/db/data/hello.txt"
        printf '%s' "$PW" >"$wd/db/pass.txt"
        compose_file dbinc <<EOF
services:
  db:
    image: @IMG@
    command: @LOOP@
    environment: {DB_LEVEL: "\${DB_LEVEL}", WHO: "\${WHO}"}
    volumes: ["./data:/data:ro", "dbvol:/var/lib/db"]
    networks: [back]
    secrets: [db_password]
volumes: {dbvol: {}}
networks: {back: {}}
secrets: {db_password: {file: ./pass.txt}}
EOF
        mv "$CF" "$wd/db/compose.yaml"
        compose_file inc <<EOF
include:
  - db/compose.yaml
services:
  app:
    image: @IMG@
    command: @LOOP@
    depends_on: [db]
    networks: [back]
EOF
}

include_by_hand() {
        local p wd=$T_TMP/proj hand want id
        PW="pw-$RANDOM$RANDOM"
        include_files
        compose_file hand <<EOF
services:
  app:
    image: @IMG@
    command: @LOOP@
    depends_on: [db]
    networks: [back]
  db:
    image: @IMG@
    command: @LOOP@
    environment: {DB_LEVEL: from-db-env, WHO: request}
    volumes: ["$wd/db/data:/data:ro", "dbvol:/var/lib/db"]
    networks: [back]
    secrets: [db_password]
volumes: {dbvol: {}}
networks: {back: {}}
secrets: {db_password: {file: $wd/db/pass.txt}}
EOF
        hand=$CF
        config_of "$hand" "$wd" '{"WHO": "request"}'
        expect_ok
        want=$(jq -c '.data | del(.working_dir)' <<<"$MODEL")
        config_of "$T_TMP/inc.yml" "$wd" '{"WHO": "request"}'
        expect_ok
        expect_jq --argjson w "$want" '.data | del(.working_dir) == $w' \
                "include gives the by-hand model"
        expect_jq '[.data.warnings // [] | .[] | select(test("include"))] | length == 0' \
                "no warning about include"
        p=$(pname inc)
        jq -n --arg n "$p" --rawfile c "$T_TMP/inc.yml" --arg wd "$wd" \
                '{name: $n, compose: $c, working_dir: $wd, env: {WHO: "request"}}' >"$T_TMP/up.json"
        api POST /v1/projects "@$T_TMP/up.json" "$TOK_ADMIN"
        expect_ok 201
        id=$(reply_id db)
        [ -n "$id" ] || fail "no db id in $(short "$BODY")"
        engine_inspect "$id"
        expect_engine --arg src "$wd/db/data" '.State.Running == true and
                (.Config.Env | index("DB_LEVEL=from-db-env") != null and
                index("WHO=request") != null) and
                ([.Mounts[] | select(.Destination == "/data")][0].Source == $src)' \
                "db runs with the included .env and its own bind source"
        expect_engine --arg n "${p}_back" '.NetworkSettings.Networks | has($n)' "db on back"
        engine_exec "$id" sh -c 'cat /data/hello.txt; echo; cat /run/secrets/db_password'
        [ "$EX_OUT" = "hello-from-db-dir"$'\n'"$PW" ] || fail "inside db: '$EX_OUT' ($EX_ERR)"
        engine_inspect "$(reply_id app)"
        expect_engine --arg n "${p}_back" '.State.Running == true and
                (.NetworkSettings.Networks | has($n))' "app on the included network"
        api POST "/v1/projects/$p/down" '{}' "$TOK_ADMIN"
        expect_ok
}

include_refused() {
        local wd=$T_TMP/proj2
        PW=x
        include_files
        # a conflicting definition of db in the including file
        printf '  db:\n    image: %s\n' "$IMG" >>"$T_TMP/inc.yml"
        config_of "$T_TMP/inc.yml" "$wd"
        expect_error 400 bad_request
        expect_jq --arg f "$wd/db/compose.yaml" \
                '.error.message | contains("include " + $f) and
                contains("services.db is already defined differently")' "names file and service"
        # a file that is not there
        printf 'include: [nope/compose.yaml]\nservices: {}\n' >"$T_TMP/nope.yml"
        config_of "$T_TMP/nope.yml" "$wd"
        expect_error 400 bad_request
        expect_jq '.error.message | contains("nope/compose.yaml not found")' "not found"
}

# The ci operator's build_paths do not hold the included file: refused before anything is made.
include_policy() {
        local wd=$T_TMP/proj3 p
        PW=x
        include_files
        p=$(pname incci)
        up_project "$p" "$T_TMP/inc.yml" "$(jq -cn --arg wd "$wd" '{working_dir: $wd}')" "$TOK_CI"
        expect_error 403 policy_denied
        expect_json .error.rule build_paths "rule"
        expect_json .error.field include "field"
        proj_ctrs "$p"
        [ "$(pc_count)" = 0 ] || fail "containers made despite the denial"
}

tp include_by_hand include_by_hand
tp include_refused include_refused
tp include_policy include_policy
cleanup_projects
done_file
