#!/usr/bin/env bash
# cmsctl compose driven as a user drives docker compose, against the suite's cmsd: up -d from a
# directory with .env and a relative bind (the file seen inside the container), the project name
# from the directory, COMPOSE_PROJECT_NAME and -p; ps and ls tables and their --format json equal
# to the API's data; logs; stop/start/restart and scale seen on the engine; config (the dry run);
# build and build --no-cache; down -v; two -f files merged; the progress redrawn on a
# pseudo-terminal and plain when piped; a viewer denied (4), a bad file (1, the server's
# message), usage errors (2); Ctrl-C of an attached up stops the project (exit 130).
# Every project is named "$NAME_PREFIX-<x>" (lower case), so its containers, networks, volumes
# and built images carry the run's prefix and the suite's cleanup removes them.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

CTL="$(dirname "$CMSD_BIN")/cmsctl"
LOOP='["sh", "-c", "trap '"'"'exit 0'"'"' TERM; echo hello-$$GREETING; while :; do sleep 1; done"]'

pname() {
        printf '%s-%s' "$NAME_PREFIX" "$1" | tr '[:upper:]' '[:lower:]'
}

# ctl [TOKEN] -- ARGS...: cmsctl in $DIR (default: the test's scratch directory); sets OUT, ERR, RC.
ctl() {
        local tok=$TOK_ADMIN
        if [ "$1" != -- ]; then
                tok=$1
                shift
        fi
        shift
        (cd "${DIR:-$T_TMP}" && CMSD_URL=$CMSD_URL CMSD_TOKEN=$tok timeout 120 "$CTL" "$@") \
                >"$T_TMP/ctl_out" 2>"$T_TMP/ctl_err"
        RC=$?
        OUT=$(cat "$T_TMP/ctl_out")
        ERR=$(cat "$T_TMP/ctl_err")
}

expect_rc() {
        [ "$RC" = "$1" ] || fail "cmsctl exited $RC, want $1; stderr: $(short "$ERR") stdout: $(short "$OUT")"
}

# project_dir NAME: $T_TMP/NAME with compose.yaml (one service web: a bind of ./data, GREETING
# from .env), .env and data/f.txt; sets DIR.
project_dir() {
        mkdir -p "$T_TMP/$1/data"
        DIR=$(realpath "$T_TMP/$1")
        printf 'from-the-host-%s\n' "$RUN_ID" >"$DIR/data/f.txt"
        printf 'GREETING=from-dotenv\n' >"$DIR/.env"
        cat >"$DIR/compose.yaml" <<EOF
services:
  web:
    image: $IMG
    command: $LOOP
    environment:
      GREETING: \${GREETING}
      FROM_SHELL: \${FROM_SHELL:-unset}
    volumes: ["./data:/data"]
EOF
}

# ctr_of P SERVICE [N]: the engine id of <P>-<SERVICE>-<N>, or "".
ctr_of() {
        engine_api GET "/containers/$1-$2-${3:-1}/json"
        [ "$ESTATUS" = 200 ] && jq -r .Id <<<"$EBODY"
}

up_dotenv_relative_bind() {
        local p id
        p=$(pname upd)
        # The directory's name, upper case and with a dot: the project name is it, normalized.
        project_dir "$(tr '[:lower:]' '[:upper:]' <<<"$p").d"
        (cd "$DIR" && mv compose.yaml docker-compose.yml)
        FROM_SHELL=from-shell ctl -- compose up -d
        expect_rc 0
        id=$(ctr_of "${p}d" web)
        [ -n "$id" ] || fail "no container ${p}d-web-1 on the engine: $(short "$OUT") $(short "$ERR")"
        engine_exec "$id" cat /data/f.txt
        [ "$EX_OUT" = "from-the-host-$RUN_ID" ] || fail "the relative bind does not show the host file: $EX_OUT $EX_ERR"
        engine_inspect "$id"
        expect_engine --arg d "$DIR" '(.Config.Env | index("GREETING=from-dotenv") != null) and
                (.Config.Env | index("FROM_SHELL=from-shell") != null) and
                .Config.Labels["com.docker.compose.project.working_dir"] == $d' \
                ".env and the shell's variable interpolated, working_dir the project directory"
        # COMPOSE_PROJECT_NAME and -p name other projects from the same directory.
        COMPOSE_PROJECT_NAME="$p-env" ctl -- compose up -d
        expect_rc 0
        [ -n "$(ctr_of "$p-env" web)" ] || fail "COMPOSE_PROJECT_NAME was not used: $(short "$OUT")"
        ctl -- compose -p "$p-opt" up -d
        expect_rc 0
        [ -n "$(ctr_of "$p-opt" web)" ] || fail "-p was not used: $(short "$OUT")"
}

ps_ls_logs_match_api() {
        local p
        p=$(pname ps)
        project_dir ps
        ctl -- compose -p "$p" up -d
        expect_rc 0
        ctl -- compose -p "$p" ps
        expect_rc 0
        head -n 1 <<<"$OUT" | grep -qE '^NAME +SERVICE +STATUS +PORTS$' || fail "ps header: $(short "$OUT")"
        grep -qE "^$p-web-1 +web +Up " <<<"$OUT" || fail "ps has no running row for $p-web-1: $(short "$OUT")"
        ctl -- --format json compose -p "$p" ps
        expect_rc 0
        api GET "/v1/projects/$p" "" "$TOK_VIEWER"
        expect_ok
        # "Up 1 second" may have become "Up 2 seconds" between the two calls: status texts aside.
        jq -e --argjson a "$OUT" 'def ns: walk(if type == "object" then del(.status) else . end);
                (.data.services | ns) == ($a.services | ns) and .data.name == $a.name' <<<"$BODY" >/dev/null ||
                fail "ps --format json differs from GET /v1/projects/$p: $(short "$OUT")"
        ctl -- compose ls
        expect_rc 0
        head -n 1 <<<"$OUT" | grep -qE '^NAME +STATUS +SERVICES +WORKING DIR$' || fail "ls header: $(short "$OUT")"
        grep -qE "^$p +running\(1/1\) +1 +$DIR\$" <<<"$OUT" || fail "ls has no row for $p: $(short "$OUT")"
        ctl -- --format json compose ls
        api GET /v1/projects "" "$TOK_VIEWER"
        jq -e --argjson a "$OUT" --arg p "$p" '[.data[] | select(.name == $p)] == [$a[] | select(.name == $p)]
                and ([$a[] | select(.name == $p)] | length) == 1' <<<"$BODY" >/dev/null ||
                fail "ls --format json differs from GET /v1/projects"
        wait_for "ctl -- compose -p '$p' logs; grep -q '^$p-web-1 | hello-from-dotenv\$' <<<\"\$OUT\"" 20 ||
                fail "logs: $(short "$OUT") $(short "$ERR")"
        ctl -- compose -p "$p" logs -t --tail 1 web
        expect_rc 0
        grep -qE "^$p-web-1 \| [0-9]{4}-[0-9]{2}-[0-9]{2}T" <<<"$OUT" || fail "logs -t: $(short "$OUT")"
        ctl -- compose -p "$p" logs nosuchservice
        expect_rc 3
        grep -q nosuchservice <<<"$ERR" || fail "logs of an unknown service: $(short "$ERR")"
}

lifecycle_and_scale() {
        local p id
        p=$(pname life)
        project_dir life
        ctl -- compose -p "$p" up -d
        expect_rc 0
        id=$(ctr_of "$p" web)
        [ -n "$id" ] || fail "no $p-web-1 on the engine after up: $(short "$OUT")"
        ctl -- compose -p "$p" stop -t 2
        expect_rc 0
        grep -q "^Container $p-web-1  Stopped$" <<<"$OUT" || fail "stop: $(short "$OUT")"
        [ "$(engine_state "$id")" = exited ] || fail "stop: engine says $(engine_state "$id")"
        ctl -- compose -p "$p" start
        expect_rc 0
        [ "$(engine_state "$id")" = running ] || fail "start: engine says $(engine_state "$id")"
        ctl -- compose -p "$p" restart -t 2
        expect_rc 0
        [ "$(engine_state "$id")" = running ] || fail "restart: engine says $(engine_state "$id")"
        ctl -- compose -p "$p" scale web=3
        expect_rc 0
        for n in 2 3; do
                [ -n "$(ctr_of "$p" web "$n")" ] || fail "scale web=3: no $p-web-$n: $(short "$OUT") $(short "$ERR")"
        done
        ctl -- compose -p "$p" scale web=1
        expect_rc 0
        [ -z "$(ctr_of "$p" web 3)" ] || fail "scale web=1 left $p-web-3"
        [ "$(ctr_of "$p" web)" = "$id" ] || fail "scale web=1 replaced web-1"
        # down -v: containers, the network and the named volume go.
        cat >>"$DIR/compose.yaml" <<EOF
    # (web keeps its bind; a named volume for down -v)
  vol:
    image: $IMG
    command: $LOOP
    volumes: ["data:/v"]
volumes:
  data: {}
EOF
        ctl -- compose -p "$p" up -d
        expect_rc 0
        engine_api GET "/volumes/${p}_data"
        [ "$ESTATUS" = 200 ] || fail "volume ${p}_data not made: $(short "$OUT")"
        ctl -- compose -p "$p" down -v -t 2
        expect_rc 0
        grep -q "^Volume ${p}_data  Removed$" <<<"$OUT" || fail "down -v output: $(short "$OUT")"
        engine_api GET "/volumes/${p}_data"
        [ "$ESTATUS" = 404 ] || fail "down -v left the volume"
        engine_api GET "/networks/${p}_default"
        [ "$ESTATUS" = 404 ] || fail "down left the network"
        engine_gone "$id" || fail "down left web-1"
}

config_and_merge() {
        local p id
        p=$(pname cfg)
        project_dir cfg
        cat >"$DIR/prod.yaml" <<EOF
services:
  web:
    environment: [EXTRA=from-second-file]
    labels: {tier: prod}
    command: ["sh", "-c", "trap 'exit 0' TERM; echo second; while :; do sleep 1; done"]
EOF
        ctl -- compose -p "$p" -f compose.yaml -f prod.yaml config
        expect_rc 0
        jq -e --arg d "$DIR/data" '.services.web.environment.GREETING == "from-dotenv" and
                .services.web.environment.EXTRA == "from-second-file" and .services.web.labels.tier == "prod"
                and .services.web.volumes[0].source == $d and (.services.web.command[2] | test("second"))' \
                <<<"$OUT" >/dev/null || fail "config of two files: $(short "$OUT")"
        ctl -- compose -p "$p" -f compose.yaml -f prod.yaml config --services
        [ "$OUT" = web ] || fail "config --services: $(short "$OUT")"
        # A viewer may see the model (POST /v1/projects/config), its values redacted.
        ctl "$TOK_VIEWER" -- compose -p "$p" -f compose.yaml -f prod.yaml config
        expect_rc 0
        jq -e '.services.web.environment.EXTRA == "<redacted>" and .services.web.labels.tier == "prod"' \
                <<<"$OUT" >/dev/null || fail "config as a viewer: $(short "$OUT")"
        api POST "/v1/projects/config" '{"name": "x", "compose": "services: [unclosed"}' "$TOK_VIEWER"
        expect_error 400 bad_request
        # The dry run warns as docker compose config does; cmsctl prints that on stderr.
        api POST "/v1/projects/config" \
                '{"name": "x", "compose": "services:\n  a:\n    image: busybox\n    bogus_key: 1\n"}' "$TOK_VIEWER"
        expect_ok
        expect_jq '.data.warnings | any(test("bogus_key"))' "the unknown key warned about"
        printf 'services:\n  web:\n    image: %s\n    bogus_key: 1\n' "$IMG" >"$DIR/warn.yaml"
        ctl "$TOK_VIEWER" -- compose -p "$p" -f warn.yaml config
        expect_rc 0
        grep -q '^WARNING: .*bogus_key' <<<"$ERR" || fail "config: no warning on stderr: $(short "$ERR")"
        jq -e 'has("warnings") | not' <<<"$OUT" >/dev/null || fail "config: warnings in the model: $(short "$OUT")"
        # The dry run made nothing.
        api GET "/v1/projects/$p"
        expect_error 404 not_found
        ctl -- compose -p "$p" -f compose.yaml -f prod.yaml up -d
        expect_rc 0
        id=$(ctr_of "$p" web)
        engine_inspect "$id"
        expect_engine '(.Config.Env | index("EXTRA=from-second-file") != null) and
                (.Config.Env | index("GREETING=from-dotenv") != null) and .Config.Labels.tier == "prod"' \
                "both files' settings on the container"
        # A bad file: the server's message, exit 1, nothing made.
        printf 'services:\n  web:\n    image: %s\n    ports: 80\n' "$IMG" >"$DIR/bad.yaml"
        ctl -- compose -p "$p-bad" -f bad.yaml up -d
        expect_rc 1
        grep -q 'services.web.ports' <<<"$ERR" || fail "bad file: $(short "$ERR")"
        [ -z "$(ctr_of "$p-bad" web)" ] || fail "a bad file made a container"
}

build_no_cache() {
        local p a b c
        p=$(pname bld)
        mkdir -p "$T_TMP/bld/app"
        DIR=$(realpath "$T_TMP/bld")
        printf 'FROM %s\nLABEL cmsd-test-run=%s\nRUN echo "$(date +%%s%%N)-$RANDOM" > /stamp\n' "$IMG" "$RUN_ID" >"$DIR/app/Dockerfile"
        printf 'services:\n  app:\n    build: ./app\n    command: ["sleep", "600"]\n' >"$DIR/compose.yaml"
        ctl "$TOK_VIEWER" -- compose -p "$p" build
        expect_rc 4
        ctl -- compose -p "$p" build
        expect_rc 0
        grep -q "^Image $p-app  Built" <<<"$OUT" || fail "build: $(short "$OUT")"
        engine_api GET "/images/$p-app/json"
        a=$(jq -r .Id <<<"$EBODY")
        ctl -- compose -p "$p" build --no-cache app
        expect_rc 0
        engine_api GET "/images/$p-app/json"
        b=$(jq -r .Id <<<"$EBODY")
        ctl -- compose -p "$p" build --no-cache
        engine_api GET "/images/$p-app/json"
        c=$(jq -r .Id <<<"$EBODY")
        { [ "$a" != "$b" ] && [ "$b" != "$c" ] && [ -n "$c" ] && [ "$c" != null ]; } ||
                fail "build --no-cache did not rebuild the RUN step: $a $b $c"
        ctl -- compose -p "$p" build nosuchservice
        expect_rc 1
        ctl -- compose -p "$p" up -d
        expect_rc 0
        engine_exec "$(ctr_of "$p" app)" cat /stamp
        [ "$EX_RC" = 0 ] || fail "the built image is not what runs: $EX_ERR"
}

progress_tty_and_piped() {
        local p out
        p=$(pname prog)
        project_dir prog
        command -v script >/dev/null || fail "script(1) not installed (bsdutils)"
        out=$(cd "$DIR" && CMSD_URL=$CMSD_URL CMSD_TOKEN=$TOK_ADMIN NO_COLOR=1 script -qec "'$CTL' compose -p '$p' up -d" /dev/null | tr -d '\r')
        grep -q $'\e\[1A' <<<"$out" || fail "no cursor-up redraw on a terminal: $(short "$(cat -v <<<"$out")")"
        grep -q $'\xe2\x9c\x94'" Container $p-web-1" <<<"$out" || fail "no finished row for web on a terminal: $(short "$(cat -v <<<"$out")")"
        ctl -- compose -p "$p" up -d --force-recreate
        expect_rc 0
        # Progress goes to stderr (stdout stays data), as docker compose writes it.
        ! grep -q $'\e' <<<"$ERR" || fail "escape codes when piped: $(short "$(cat -v <<<"$ERR")")"
        grep -qx "Container $p-web-1  Recreating" <<<"$ERR" || fail "piped: no plain Recreating line: $(short "$ERR")"
        grep -qx "Container $p-web-1  Recreated" <<<"$ERR" || fail "piped: no plain Recreated line: $(short "$ERR")"
        ctl -- --format json compose -p "$p" up -d
        expect_rc 0
        jq -e --arg p "$p" '.name == $p and (.containers[0].action == "kept") and (has("type") | not)' <<<"$OUT" >/dev/null ||
                fail "up --format json: $(short "$OUT")"
}

denied_and_usage() {
        local p
        p=$(pname deny)
        project_dir deny
        ctl "$TOK_VIEWER" -- compose -p "$p" up -d
        expect_rc 4
        grep -q forbidden <<<"$ERR" || fail "viewer up: $(short "$ERR")"
        [ -z "$(ctr_of "$p" web)" ] || fail "a viewer's up made a container"
        # An operator under the ci policy: ./data is outside its bind_paths.
        ctl "$TOK_CI" -- compose -p "$p" up -d
        expect_rc 4
        grep -q 'policy_denied' <<<"$ERR" || fail "ci up outside its bind_paths: $(short "$ERR")"
        for args in "compose" "compose up --bogus" "compose scale web" "compose -f" \
                "compose logs --tail" "compose stop -t x" "compose frobnicate"; do
                # shellcheck disable=SC2086
                ctl -- $args
                expect_rc 2
        done
        DIR="$T_TMP/empty"
        mkdir -p "$DIR"
        ctl -- compose up -d
        expect_rc 2
        grep -q 'no configuration file' <<<"$ERR" || fail "no file: $(short "$ERR")"
        ctl -- compose -p "$(pname nosuch)" ps
        expect_rc 3
}

# compose up without -d follows the logs; Ctrl-C stops the project, as docker compose does (130).
attached_ctrl_c() {
        local p pid rc=0 id i
        p=$(pname att)
        project_dir "$p"
        # --foreground: timeout passes the one SIGINT on to cmsctl only (without it, it signals its
        # whole group as well, a second Ctrl-C that leaves the stop half done)
        (cd "$DIR" && CMSD_URL=$CMSD_URL CMSD_TOKEN=$TOK_ADMIN exec timeout --foreground 120 \
                "$CTL" compose up) \
                >"$T_TMP/att_out" 2>"$T_TMP/att_err" &
        pid=$!
        for i in $(seq 1 150); do
                grep -q 'hello-from-dotenv' "$T_TMP/att_out" && break
                sleep 0.2
        done
        if ! grep -q 'hello-from-dotenv' "$T_TMP/att_out"; then
                kill "$pid"
                fail "no log line while attached: $(short "$(cat "$T_TMP/att_out")")"
        fi
        id=$(ctr_of "$p" web)
        kill -INT "$pid"
        wait "$pid" || rc=$?
        [ "$rc" = 130 ] || fail "exit $rc, want 130: $(short "$(cat "$T_TMP/att_err")")"
        grep -q 'Gracefully stopping' "$T_TMP/att_err" || fail "no stop said: $(cat "$T_TMP/att_err")"
        engine_inspect "$id"
        expect_engine '.State.Running == false' "web stopped by the Ctrl-C"
        ctl -- compose down
        expect_rc 0
}

t up_dotenv_relative_bind up_dotenv_relative_bind
t ps_ls_logs_match_api ps_ls_logs_match_api
t lifecycle_and_scale lifecycle_and_scale
t config_and_merge config_and_merge
t build_no_cache build_no_cache
t progress_tty_and_piped progress_tty_and_piped
t denied_and_usage denied_and_usage
t attached_ctrl_c attached_ctrl_c
done_file
