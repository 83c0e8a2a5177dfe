#!/usr/bin/env bash
# Compose secrets and configs (issue 19), as Compose applies them without Swarm: a database-like
# service reading its password from a secret file, a secret from the project's environment and
# configs from inline content, each bind-mounted read-only at its target with its uid, gid and
# mode (checked inside the container, also that root cannot write them); a changed secret file
# recreating the service; the secret values absent from the config a viewer gets, from the
# project's stored record under state_dir and from cmsd's log; the materialized files gone after
# down; the ci operator refused a secret file outside its build_paths (403 naming
# secrets.<name>.file). Lifecycle hooks: post_start writing inside the container, pre_stop
# running at down (into a bind-mounted directory read on the host), a failing hook reported with
# its exit code. Every project is named "$NAME_PREFIX-<x>"; each test removes what it made.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=projects_lib.sh
. "$(dirname "$0")/projects_lib.sh"

STATE_DIR="$WORK_DIR/state"

secrets_file() {
        compose_file sec <<EOF
services:
  db:
    image: @IMG@
    command: @LOOP@
    environment: {PASSWORD_FILE: /run/secrets/db_password}
    secrets:
      - db_password
      - {source: api_key, target: api.key, uid: "1000", gid: "1001", mode: 0440}
    configs:
      - app_conf
      - {source: app_conf, target: /etc/app/conf.ini, mode: 0400}
secrets:
  db_password: {file: ./db_password.txt}
  api_key: {environment: API_KEY}
configs:
  app_conf: {content: "port=5432"}
EOF
}

# in_ctr ID CMD: runs CMD with sh -c in the container; EX_OUT, EX_RC.
in_ctr() {
        engine_exec "$1" sh -c "$2"
}

# up_sec P WD: up of the secrets file as admin with API_KEY in the env.
up_sec() {
        jq -n --arg n "$1" --rawfile c "$CF" --arg wd "$2" --arg k "$APIKEY" \
                '{name: $n, compose: $c, working_dir: $wd, env: {API_KEY: $k}}' >"$T_TMP/up.json"
        api POST /v1/projects "@$T_TMP/up.json" "${3-$TOK_ADMIN}"
}

secrets_mounted() {
        local p wd=$T_TMP/proj id id2 pw pw2
        p=$(pname sec)
        mkdir -p "$wd"
        pw="pw-$RANDOM$RANDOM-secret"
        APIKEY="key-$RANDOM$RANDOM-secret"
        printf '%s' "$pw" >"$wd/db_password.txt"
        secrets_file
        up_sec "$p" "$wd"
        expect_ok 201
        expect_jq '[.data.warnings[] | select(test("secrets|configs"))] | length == 0' \
                "no warning about secrets or configs"
        id=$(reply_id db)
        [ -n "$id" ] || fail "no db id in $(short "$BODY")"
        in_ctr "$id" 'cat "$PASSWORD_FILE"'
        [ "$EX_OUT" = "$pw" ] || fail "password file holds '$EX_OUT'"
        in_ctr "$id" 'stat -c "%u %g %a" /run/secrets/db_password /run/secrets/api.key /app_conf /etc/app/conf.ini'
        [ "$EX_OUT" = $'0 0 444\n1000 1001 440\n0 0 444\n0 0 400' ] ||
                fail "owners and modes: $EX_OUT ($EX_ERR)"
        in_ctr "$id" 'cat /run/secrets/api.key; echo; cat /etc/app/conf.ini'
        [ "$EX_OUT" = "$APIKEY"$'\n'"port=5432" ] || fail "env secret and config: '$EX_OUT'"
        # read-only for root too: the kernel refuses the write, the content stays
        in_ctr "$id" 'echo x > /run/secrets/db_password'
        [ "$EX_RC" != 0 ] || fail "root could write the secret"
        in_ctr "$id" 'echo x > /etc/app/conf.ini'
        [ "$EX_RC" != 0 ] || fail "root could write the config"
        in_ctr "$id" 'cat /run/secrets/db_password'
        [ "$EX_OUT" = "$pw" ] || fail "the secret changed: '$EX_OUT'"
        engine_inspect "$id"
        expect_engine '[.Mounts[] | select(.Destination == "/run/secrets/db_password" and
                .Type == "bind" and .RW == false)] | length == 1' "a read-only bind of the secret"
        # a viewer sees where secrets come from, not what they hold
        api GET "/v1/projects/$p/config" "" "$TOK_VIEWER"
        expect_ok
        expect_jq --arg f "$wd/db_password.txt" '.data.secrets.db_password.file == $f and
                .data.secrets.api_key.environment == "API_KEY" and
                .data.configs.app_conf.from == "content" and
                (.data.services.db.secrets | map(.target)) ==
                        ["/run/secrets/api.key", "/run/secrets/db_password"] and
                (.data.services.db.secrets[0] | .uid == "1000" and .gid == "1001" and .mode == 288)' \
                "the sources and references"
        ! grep -qF -e "$pw" -e "$APIKEY" "$T_TMP/body" || fail "a secret value in the viewer's config"
        [ -s "$STATE_DIR/projects/$p.json" ] || fail "no stored record at $STATE_DIR/projects/$p.json"
        ! grep -qF -e "$pw" "$STATE_DIR/projects/$p.json" || fail "the file secret in the record"
        ! grep -qF -e "$pw" -e "$APIKEY" "$CMSD_LOG" || fail "a secret value in cmsd's log"
        # the same content keeps the container; a changed file recreates it
        up_sec "$p" "$wd"
        expect_ok
        [ "$(reply_id db)" = "$id" ] || fail "an unchanged secret recreated db"
        pw2="pw-$RANDOM$RANDOM-changed"
        printf '%s' "$pw2" >"$wd/db_password.txt"
        up_sec "$p" "$wd"
        expect_ok
        id2=$(reply_id db)
        [ -n "$id2" ] && [ "$id2" != "$id" ] || fail "a changed secret did not recreate db"
        expect_jq '[.data.containers[] | select(.service == "db")][0].action == "recreated"' \
                "db recreated"
        in_ctr "$id2" 'cat /run/secrets/db_password'
        [ "$EX_OUT" = "$pw2" ] || fail "the new secret is '$EX_OUT'"
        ! grep -qF -e "$pw2" "$CMSD_LOG" || fail "the new secret in cmsd's log"
        [ -d "$STATE_DIR/compose-files/$p" ] || fail "no materialized files"
        api POST "/v1/projects/$p/down" '{}' "$TOK_ADMIN"
        expect_ok
        [ ! -e "$STATE_DIR/compose-files/$p" ] || fail "the materialized files outlived down"
}

# A secret file outside the ci operator's build_paths: refused before anything is read or made.
secrets_policy() {
        local p wd=$T_TMP/proj
        p=$(pname secci)
        mkdir -p "$wd"
        printf 'x' >"$wd/db_password.txt"
        APIKEY=k
        secrets_file
        up_sec "$p" "$wd" "$TOK_CI"
        expect_error 403 policy_denied
        expect_json .error.rule build_paths "rule"
        expect_json .error.field secrets.db_password.file "field"
        proj_ctrs "$p"
        [ "$(pc_count)" = 0 ] || fail "containers made despite the denial"
        # inside build_paths it is read and applied
        mkdir -p "$POLICY_DIR/sec-$RUN_ID"
        printf 'ok-%s' "$RUN_ID" >"$POLICY_DIR/sec-$RUN_ID/db_password.txt"
        up_sec "$p" "$POLICY_DIR/sec-$RUN_ID" "$TOK_CI"
        expect_ok 201
        in_ctr "$(reply_id db)" 'cat /run/secrets/db_password'
        [ "$EX_OUT" = "ok-$RUN_ID" ] || fail "ci's secret is '$EX_OUT'"
        api POST "/v1/projects/$p/down" '{}' "$TOK_CI"
        expect_ok
        rm -rf "${POLICY_DIR:?}/sec-$RUN_ID"
}

# post_start writes inside the container, pre_stop writes into a bind-mounted directory the host
# reads after down; a failing hook is a warning naming it, with its exit code and output.
hooks_run() {
        local p app hd=$T_TMP/hooks
        p=$(pname hooks)
        mkdir -p "$hd"
        compose_file hooks <<EOF
services:
  app:
    image: @IMG@
    command: @LOOP@
    volumes: ["$hd:/hooks"]
    post_start:
      - command: ["sh", "-c", "echo started-\$\$HOOK_VAR > /tmp/post_start"]
        environment: {HOOK_VAR: "yes"}
    pre_stop:
      - command: "sh -c 'echo stopping > /hooks/pre_stop'"
  bad:
    image: @IMG@
    command: @LOOP@
    post_start:
      - command: ["sh", "-c", "echo broken-hook >&2; exit 3"]
EOF
        up_project "$p" "$CF" '{}' "$TOK_ADMIN"
        expect_ok 201
        app=$(reply_id app)
        expect_jq 'any(.data.warnings[]; startswith("services.bad.post_start[0]:") and
                contains("exit code 3: broken-hook"))' "the failing hook reported"
        expect_jq '[.data.warnings[] | select(contains("services.app."))] | length == 0' \
                "no warning for the hooks that pass"
        in_ctr "$app" 'cat /tmp/post_start'
        [ "$EX_OUT" = "started-yes" ] || fail "post_start left '$EX_OUT' ($EX_ERR)"
        [ ! -e "$hd/pre_stop" ] || fail "pre_stop ran before any stop"
        # stop runs it before stopping
        api POST "/v1/projects/$p/stop" '{}' "$TOK_ADMIN"
        expect_ok
        [ "$(cat "$hd/pre_stop" 2>/dev/null)" = stopping ] || fail "pre_stop did not run at stop"
        expect_jq '.data.warnings == []' "no warning at stop"
        rm -f "$hd/pre_stop"
        api POST "/v1/projects/$p/start" '{}' "$TOK_ADMIN"
        expect_ok
        # a recreate stops the old container: its pre_stop runs
        up_project "$p" "$CF" '{"force_recreate": true}' "$TOK_ADMIN"
        expect_ok
        [ "$(cat "$hd/pre_stop" 2>/dev/null)" = stopping ] || fail "pre_stop did not run at recreate"
        app=$(reply_id app)
        in_ctr "$app" 'cat /tmp/post_start'
        [ "$EX_OUT" = "started-yes" ] || fail "post_start after the recreate left '$EX_OUT'"
        rm -f "$hd/pre_stop"
        api POST "/v1/projects/$p/down" '{}' "$TOK_ADMIN"
        expect_ok
        [ "$(cat "$hd/pre_stop" 2>/dev/null)" = stopping ] || fail "pre_stop did not run at down"
        expect_jq '[.data.warnings[] | select(contains("pre_stop"))] | length == 0' \
                "no pre_stop warning"
}

# A privileged hook needs the policy's privileged rule.
hooks_policy() {
        local p
        p=$(pname hookci)
        compose_file hookci <<EOF
services:
  app:
    image: @IMG@
    command: @LOOP@
    post_start:
      - {command: ["true"], privileged: true}
EOF
        up_project "$p" "$CF" '{}' "$TOK_CI"
        expect_error 403 policy_denied
        expect_json .error.rule privileged "rule"
        expect_json .error.field "services.app.post_start[0].privileged" "field"
        proj_ctrs "$p"
        [ "$(pc_count)" = 0 ] || fail "containers made despite the denial"
}

tp secrets_mounted secrets_mounted
tp secrets_policy secrets_policy
tp hooks_run hooks_run
tp hooks_policy hooks_policy
cleanup_projects
done_file
