#!/usr/bin/env bash
# Helpers shared by test_projects.sh and test_projects_interop.sh (sourced after lib.sh): the
# project names, fixtures, waiting on a project's containers and the per-test project cleanup.
# shellcheck shell=bash disable=SC2016,SC2034

# A service command that ends within a second of SIGTERM (a plain `sleep` as PID 1 ignores it, so
# every stop would wait for the engine's 10 s timeout).
LOOP='["sh", "-c", "trap '"'"'exit 0'"'"' TERM; while :; do sleep 1; done"]'
LABEL_P=com.docker.compose.project
FIXTURES="$(cd "$(dirname "$0")" && pwd)/compose"
# jq: a config's environment as a map, whether the model gives a map or a list of K=V.
ENVMAP='def envmap: if type == "object" then . else
        (map(capture("^(?<key>[^=]+)=(?<value>.*)$")) | from_entries) end;'

# pname X: a project name unique to this run (lower case: compose names are [a-z0-9_-]).
pname() {
        printf '%s-%s' "$NAME_PREFIX" "$1" | tr '[:upper:]' '[:lower:]'
}

# compose_file NAME < YAML: writes $T_TMP/NAME.yml with @IMG@, @HIMG@, @LOOP@, @PORT@ replaced;
# sets CF to its path.
compose_file() {
        CF="$T_TMP/$1.yml"
        sed -e "s|@IMG@|$IMG|g" -e "s|@HIMG@|$HEALTH_IMG|g" -e "s|@LOOP@|$LOOP|g" \
                -e "s|@PORT@|${PORT-}|g" >"$CF"
}

# fixture NAME: compose_file from tests/integration/compose/NAME.yml.
fixture() {
        compose_file "$1" <"$FIXTURES/$1.yml" || fail "fixture $1 missing"
}

# up_project P FILE [EXTRA-JSON] [TOKEN]: POST /v1/projects {name: P, compose: FILE's text} + EXTRA.
up_project() {
        local x=${3-}
        [ -n "$x" ] || x='{}'
        jq -n --arg n "$1" --rawfile c "$2" --argjson x "$x" '{name: $n, compose: $c} + $x' \
                >"$T_TMP/up.json"
        api POST /v1/projects "@$T_TMP/up.json" "${4-$TOK_OPERATOR}"
}

# proj_ctrs P: the engine's containers of project P (by label), as
# [{id, name, service, number, state}] sorted by service and number, in PC.
proj_ctrs() {
        local f
        f=$(jq -rn --arg l "$LABEL_P=$1" '{label: [$l]} | tojson | @uri')
        engine_api GET "/containers/json?all=1&filters=$f"
        [ "$ESTATUS" = 200 ] || fail "engine: list of project $1 -> $ESTATUS $(short "$EBODY")"
        PC=$(jq -c '[.[] | {id: .Id, name: (.Names[0] | ltrimstr("/")),
                service: .Labels["com.docker.compose.service"],
                number: ((.Labels["com.docker.compose.container-number"] // "0") | tonumber),
                state: .State}] | sort_by(.service, .number)' <<<"$EBODY")
}

# pc_id SERVICE [NUMBER]: the id of that container in the last proj_ctrs.
pc_id() {
        jq -r --arg s "$1" --argjson n "${2:-1}" \
                '[.[] | select(.service == $s and .number == $n)][0].id // empty' <<<"$PC"
}

# pc_count [SERVICE]: how many containers (of SERVICE) the last proj_ctrs saw.
pc_count() {
        jq -r --arg s "${1-}" '[.[] | select($s == "" or .service == $s)] | length' <<<"$PC"
}

# reply_id SERVICE [NUMBER]: the id cmsd's up/scale reply gives for that container.
reply_id() {
        jq -r --arg s "$1" --argjson n "${2:-1}" \
                '[.data.containers[] | select(.service == $s and .number == $n)][0].id // empty' <<<"$BODY"
}

# started_at ID: the engine's State.StartedAt in seconds (with fraction).
started_at() {
        engine_inspect "$1"
        date -d "$(jq -r .State.StartedAt <<<"$EBODY")" +%s.%N
}

# before ID1 FIELD1 ID2 FIELD2: the engine's State.FIELD1 of ID1 is not later than State.FIELD2 of ID2.
before() {
        local a b
        engine_inspect "$1"
        a=$(date -d "$(jq -r ".State.$2" <<<"$EBODY")" +%s.%N)
        engine_inspect "$3"
        b=$(date -d "$(jq -r ".State.$4" <<<"$EBODY")" +%s.%N)
        awk -v a="$a" -v b="$b" 'BEGIN { exit !(a <= b) }'
}

# list_entry P: GET /v1/projects (viewer) and that project's entry in ENTRY ("null" when absent).
list_entry() {
        api GET /v1/projects "" "$TOK_VIEWER"
        expect_ok
        ENTRY=$(jq -c --arg n "$1" '[.data[] | select(.name == $n)][0]' <<<"$BODY")
}

# gone_on_engine KIND NAME: true when the engine has no network/volume of that name.
gone_on_engine() {
        engine_api GET "/$1/$2"
        [ "$ESTATUS" = 404 ]
}

# Removes every container, network and volume of this run's projects straight on the engine:
# by the compose project label (which carries the run's prefix), and by name for networks and
# volumes a failed test may have left unlabelled.
cleanup_projects() {
        local id n sel
        sel='startswith($p)'
        for id in $(curl -sS --max-time 60 --unix-socket "$ENGINE_SOCK" \
                "http://engine/v1.41/containers/json?all=1" 2>/dev/null |
                jq -r --arg p "$NAME_PREFIX-" --arg l "$LABEL_P" \
                        ".[] | select((.Labels[\$l] // \"\") | $sel) | .Id" 2>/dev/null); do
                curl -sS --max-time 60 --unix-socket "$ENGINE_SOCK" -o /dev/null -X DELETE \
                        "http://engine/v1.41/containers/$id?force=1&v=1" 2>/dev/null
        done
        for n in $(curl -sS --max-time 30 --unix-socket "$ENGINE_SOCK" "http://engine/v1.41/networks" \
                2>/dev/null | jq -r --arg p "$NAME_PREFIX-" --arg l "$LABEL_P" \
                ".[] | select(((.Labels // {})[\$l] // \"\" | $sel) or (.Name | $sel)) | .Name" 2>/dev/null); do
                curl -sS --max-time 60 --unix-socket "$ENGINE_SOCK" -o /dev/null -X DELETE \
                        "http://engine/v1.41/networks/$n" 2>/dev/null
        done
        for n in $(curl -sS --max-time 30 --unix-socket "$ENGINE_SOCK" "http://engine/v1.41/volumes" \
                2>/dev/null | jq -r --arg p "$NAME_PREFIX-" --arg l "$LABEL_P" \
                ".Volumes[]? | select(((.Labels // {})[\$l] // \"\" | $sel) or (.Name | $sel)) | .Name" 2>/dev/null); do
                curl -sS --max-time 60 --unix-socket "$ENGINE_SOCK" -o /dev/null -X DELETE \
                        "http://engine/v1.41/volumes/$n?force=1" 2>/dev/null
        done
}

# tp NAME FUNC: t() with the project cleanup run when the test's subshell exits, pass or fail.
tp() {
        P_FN=$2
        t "$1" p_run
}
p_run() {
        trap cleanup_projects EXIT
        "$P_FN"
}
