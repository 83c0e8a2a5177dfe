#!/usr/bin/env bash
# Policies: a table of fields that reach the host, each tried through POST /v1/containers, POST
# /v1/deploy and a compose file (POST /v1/projects) under the built-in restricted policy (the
# operator token), the configured "ci" policy (lib.sh: cap_add NET_BIND_SERVICE and CHOWN, binds
# and builds under POLICY_DIR, images cmsd-test/*) and the unrestricted one (admin). A denial is
# 403 policy_denied naming the rule and the field, and the engine shows nothing was made; an
# allowed request still works. Then the bypasses an attacker would try (path spellings, links
# out of an allowed directory, capability aliases, the engine socket and the directories above
# it), volumes and networks, compose build contexts and env_file, and the policy routes.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

mkdir -p "$POLICY_DIR/sub" "$POLICY_DIR/ctx"
ln -sfn /etc "$POLICY_DIR/link-out"
ln -sfn "$ENGINE_SOCK" "$POLICY_DIR/link-sock"
printf 'FROM %s\n' "$IMG" >"$POLICY_DIR/ctx/Dockerfile"
printf 'A=1\n' >"$POLICY_DIR/ok.env"

# Rows: token | ContainerConfig overlay | compose service lines (\n-separated) | status | rule |
# field (the ContainerConfig's; compose prefixes services.web.)
ROWS=$(
        cat <<EOF
operator|{"privileged": true}|privileged: true|403|privileged|privileged
operator|{"privileged": false}|privileged: false|ok||
operator|{"capabilities": {"add": ["SYS_ADMIN"]}}|cap_add: [SYS_ADMIN]|403|cap_add|capabilities.add[0]
operator|{"capabilities": {"add": ["ALL"]}}|cap_add: [ALL]|403|cap_add|capabilities.add[0]
operator|{"capabilities": {"add": ["cap_sys_module"]}}|cap_add: [cap_sys_module]|403|cap_add|capabilities.add[0]
operator|{"capabilities": {"add": ["Net_Admin"]}}|cap_add: [Net_Admin]|403|cap_add|capabilities.add[0]
operator|{"capabilities": {"drop": ["ALL"]}}|cap_drop: [ALL]|ok||
operator|{"volumes": [{"source": "/", "target": "/host"}]}|volumes: ["/:/host"]|403|engine_socket|volumes[0].source
operator|{"volumes": [{"source": "/etc", "target": "/x", "read_only": true}]}|volumes: ["/etc:/x:ro"]|403|bind_paths|volumes[0].source
operator|{"volumes": [{"type": "bind", "source": "$ENGINE_SOCK", "target": "/e.sock"}]}|volumes: ["$ENGINE_SOCK:/e.sock"]|403|engine_socket|volumes[0].source
operator|{"volumes": [{"source": "$(dirname "$ENGINE_SOCK")", "target": "/r"}]}|volumes: ["$(dirname "$ENGINE_SOCK"):/r"]|403|engine_socket|volumes[0].source
operator|{"volumes": [{"source": "$POLICY_DIR/sub", "target": "/x"}]}|volumes: ["$POLICY_DIR/sub:/x"]|403|bind_paths|volumes[0].source
operator|{"volumes": [{"type": "tmpfs", "target": "/t"}]}|tmpfs: [/t]|ok||
operator|{"network": {"network": "host"}}|network_mode: host|403|host_namespaces|network.network
operator|{"network": {"network": "none"}}|network_mode: none|ok||
operator|{"image": "docker.io/library/evil:1", "pull": "never"}|image: docker.io/library/evil:1\npull_policy: never|404||
operator|{"volumes": [{"source": "/proc", "target": "/p"}]}|volumes: ["/proc:/p"]|403|bind_paths|volumes[0].source
operator|{"volumes": [{"source": "/run/../var/run/docker.sock", "target": "/e.sock"}]}|volumes: ["/run/../var/run/docker.sock:/e.sock"]|403|engine_socket|volumes[0].source
ci|{"capabilities": {"add": ["NET_BIND_SERVICE"]}}|cap_add: [NET_BIND_SERVICE]|ok||
ci|{"capabilities": {"add": ["cap_chown"]}}|cap_add: [cap_chown]|ok||
ci|{"capabilities": {"add": ["CHOWN", "SYS_ADMIN"]}}|cap_add: [CHOWN, SYS_ADMIN]|403|cap_add|capabilities.add[1]
ci|{"capabilities": {"add": ["all"]}}|cap_add: [all]|403|cap_add|capabilities.add[0]
ci|{"privileged": true}|privileged: true|403|privileged|privileged
ci|{"volumes": [{"source": "$POLICY_DIR/sub", "target": "/x"}]}|volumes: ["$POLICY_DIR/sub:/x"]|ok||
ci|{"volumes": [{"source": "/$POLICY_DIR//sub/../sub/.", "target": "/x"}]}|volumes: ["/$POLICY_DIR//sub/../sub/.:/x"]|ok||
ci|{"volumes": [{"source": "$POLICY_DIR/../", "target": "/x"}]}|volumes: ["$POLICY_DIR/../:/x"]|403|bind_paths|volumes[0].source
ci|{"volumes": [{"source": "$POLICY_DIR/sub/../../..", "target": "/x"}]}|volumes: ["$POLICY_DIR/sub/../../..:/x"]|403|bind_paths|volumes[0].source
ci|{"volumes": [{"source": "$POLICY_DIR-evil", "target": "/x"}]}|volumes: ["$POLICY_DIR-evil:/x"]|403|bind_paths|volumes[0].source
ci|{"volumes": [{"source": "$POLICY_DIR/link-out", "target": "/x"}]}|volumes: ["$POLICY_DIR/link-out:/x"]|403|bind_paths|volumes[0].source
ci|{"volumes": [{"source": "$POLICY_DIR/link-sock", "target": "/e.sock"}]}|volumes: ["$POLICY_DIR/link-sock:/e.sock"]|403|engine_socket|volumes[0].source
ci|{"volumes": [{"type": "bind", "source": "/etc", "target": "/x"}]}|volumes: [{type: bind, source: /etc, target: /x}]|403|bind_paths|volumes[0].source
ci|{"volumes": [{"type": "volume", "source": "$NAME_PREFIX-vol", "target": "/v"}]}|volumes: ["/v"]|ok||
ci|{"volumes": [{"source": "$POLICY_DIR", "target": "/x"}]}|volumes: ["$POLICY_DIR:/x"]|ok||
ci|{"network": {"network": "container:$NAME_PREFIX-x"}}|network_mode: "container:$NAME_PREFIX-x"|403|host_namespaces|network.network
ci|{"network": {"network": "host"}}|network_mode: host|403|host_namespaces|network.network
ci|{"image": "$HEALTH_IMG"}|image: $HEALTH_IMG|ok||
ci|{"image": "busybox:latest"}|image: busybox:latest|403|images|image
ci|{"image": "docker.io/library/busybox"}|image: docker.io/library/busybox|403|images|image
admin|{"capabilities": {"add": ["NET_ADMIN"]}}|cap_add: [NET_ADMIN]|ok||
admin|{"capabilities": {"add": ["SYS_ADMIN"]}}|cap_add: [SYS_ADMIN]|ok||
admin|{"volumes": [{"source": "/etc", "target": "/x", "read_only": true}]}|volumes: ["/etc:/x:ro"]|ok||
admin|{"network": {"network": "host"}}|network_mode: host|ok||
viewer|{"privileged": false}|privileged: false|403-forbidden||
EOF
)

token_of() {
        case "$1" in
        operator) printf '%s' "$TOK_OPERATOR" ;;
        ci) printf '%s' "$TOK_CI" ;;
        admin) printf '%s' "$TOK_ADMIN" ;;
        viewer) printf '%s' "$TOK_VIEWER" ;;
        esac
}

# check_denied WHAT FIELD RULE: the last reply is 403 policy_denied naming rule and field.
check_denied() {
        expect_error 403 policy_denied
        expect_json .error.rule "$3" "$1: rule"
        expect_json .error.field "$2" "$1: field"
}

# A compose project with one service "web" from the row's lines.
compose_yaml() {
        local lines=$1 image=$IMG
        if grep -q '^image: ' <<<"$(printf '%b' "$lines")"; then
                image=
        fi
        printf 'services:\n  web:\n'
        [ -z "$image" ] || printf '    image: %s\n' "$image"
        printf '    command: ["sleep", "600"]\n'
        printf '    labels: {cmsd-test: "1", cmsd-test-run: "%s"}\n' "$RUN_ID"
        printf '%b\n' "$lines" | sed -e '/^$/d' -e 's/^/    /'
}

one_row() {
        local tok_name=$1 over=$2 lines=$3 want=$4 rule=$5 field=$6 tok name proj body
        tok=$(token_of "$tok_name")
        name=$(unique pol)
        # POST /v1/containers
        api POST /v1/containers "$(cfg "$name" "$over")" "$tok"
        case "$want" in
        ok) expect_ok 201 ;;
        403) check_denied "containers $over" "$field" "$rule" ;;
        403-forbidden) expect_error 403 forbidden ;;
        404) expect_status 404 ;;
        esac
        [ "$want" = ok ] || engine_gone "$name" || fail "denied create of $name left it on the engine"
        [ "$want" != ok ] || engine_inspect "$name"
        # POST /v1/deploy
        name=$(unique pol)
        api POST /v1/deploy "$(cfg "$name" "$over" | jq -c '. + {pull: false}')" "$tok"
        case "$want" in
        ok) expect_ok 200 ;;
        403) check_denied "deploy $over" "$field" "$rule" ;;
        403-forbidden) expect_error 403 forbidden ;;
        404) expect_status 404 ;;
        esac
        [ "$want" = ok ] || engine_gone "$name" || fail "denied deploy of $name left it on the engine"
        # a compose file
        proj=$(unique proj)
        body=$(jq -cn --arg y "$(compose_yaml "$lines")" --arg n "$proj" '{name: $n, compose: $y}')
        api POST /v1/projects "$body" "$tok"
        case "$want" in
        ok) expect_ok 201 ;;
        403) check_denied "compose $lines" "services.web.$field" "$rule" ;;
        403-forbidden) expect_error 403 forbidden ;;
        404) expect_status 404 ;;
        esac
        if [ "$want" != ok ]; then
                engine_gone "$proj-web-1" || fail "denied compose up left $proj-web-1 on the engine"
                engine_api GET "/networks/${proj}_default"
                [ "$ESTATUS" = 404 ] || fail "denied compose up left the network ${proj}_default"
        else
                engine_inspect "$proj-web-1"
                api POST "/v1/projects/$proj/down" '{"volumes": true}' "$tok"
                expect_ok
        fi
}

table() {
        local n=0 tok over lines want rule field
        while IFS='|' read -r tok over lines want rule field; do
                [ -n "$tok" ] || continue
                one_row "$tok" "$over" "$lines" "$want" "$rule" "$field"
                n=$((n + 1))
        done <<<"$ROWS"
        [ "$n" -ge 40 ] || fail "the table has $n rows, expected at least 40"
}

# Compose-only fields: build contexts and env_file are read on cmsd's host; project networks and
# volumes with driver options. Each denied as a whole before anything is made.
compose_only() {
        local proj y body
        proj=$(unique cproj)
        while IFS='|' read -r tok extra rule field; do
                [ -n "$tok" ] || continue
                y=$(printf 'services:\n  web:\n    image: %s\n    command: ["sleep", "600"]\n%b\n' \
                        "$IMG" "$extra")
                body=$(jq -cn --arg y "$y" --arg n "$proj" '{name: $n, compose: $y}')
                api POST /v1/projects "$body" "$(token_of "$tok")"
                check_denied "compose $extra" "$field" "$rule"
                engine_gone "$proj-web-1" || fail "denied compose up left $proj-web-1"
        done <<EOF
operator|    build: {context: /etc}|build_paths|services.web.build.context
ci|    build: {context: /}|build_paths|services.web.build.context
ci|    build: {context: $POLICY_DIR/link-out}|build_paths|services.web.build.context
ci|    env_file: [/etc/passwd]|build_paths|services.web.env_file[0]
operator|    env_file: [$POLICY_DIR/ok.env]|build_paths|services.web.env_file[0]
ci|    volumes: ["data:/d"]\nvolumes:\n  data:\n    driver_opts: {type: none, o: bind, device: /}|engine_socket|volumes.data.options.device
ci|    volumes: ["data:/d"]\nvolumes:\n  data:\n    driver_opts: {type: ext4, device: /dev/sda1}|driver_options|volumes.data.options
operator|    networks: [n]\nnetworks:\n  n:\n    driver_opts: {com.docker.network.bridge.name: docker0}|driver_options|networks.n.options
operator|    network_mode: "container:$NAME_PREFIX-other"|host_namespaces|services.web.network.network
EOF
        # Allowed: a context and an env_file inside POLICY_DIR, for the ci token.
        y=$(printf 'services:\n  web:\n    image: %s\n    build: {context: %s}\n    command: ["sleep", "600"]\n    env_file: [%s]\n    labels: {cmsd-test: "1", cmsd-test-run: "%s"}\n' \
                "$NAME_PREFIX-built:1" "$POLICY_DIR/ctx" "$POLICY_DIR/ok.env" "$RUN_ID")
        body=$(jq -cn --arg y "$y" --arg n "$proj" '{name: $n, compose: $y}')
        api POST /v1/projects "$body" "$TOK_CI"
        expect_status 403 # the built image's name is not in the ci policy's images
        expect_json .error.rule images
        y=${y//$NAME_PREFIX-built:1/cmsd-test/$NAME_PREFIX-built:1}
        body=$(jq -cn --arg y "$y" --arg n "$proj" '{name: $n, compose: $y}')
        api POST /v1/projects "$body" "$TOK_CI"
        expect_ok 201
        engine_inspect "$proj-web-1"
        expect_engine '.Config.Env | index("A=1") != null' "env_file's A=1 in the container"
        # service:x joins a container of the same project: allowed for restricted.
        proj=$(unique sproj)
        y=$(printf 'services:\n  db:\n    image: %s\n    command: ["sleep", "600"]\n  web:\n    image: %s\n    command: ["sleep", "600"]\n    network_mode: "service:db"\n' "$IMG" "$IMG")
        body=$(jq -cn --arg y "$y" --arg n "$proj" '{name: $n, compose: $y}')
        api POST /v1/projects "$body" "$TOK_OPERATOR"
        expect_ok 201
        engine_inspect "$proj-web-1"
        api POST "/v1/projects/$proj/down" '{}' "$TOK_OPERATOR"
        expect_ok
        engine_gone "$proj-web-1" || fail "down left $proj-web-1"
        engine_gone "$proj-db-1" || fail "down left $proj-db-1"
}

volumes_networks() {
        local v
        v=$(unique vol)
        api POST /v1/volumes "{\"name\": \"$v\", \"options\": {\"type\": \"none\", \"o\": \"bind\", \"device\": \"/\"}}" "$TOK_OPERATOR"
        check_denied volume options.device engine_socket
        api POST /v1/volumes "{\"name\": \"$v\", \"options\": {\"type\": \"none\", \"o\": \"bind\", \"device\": \"/etc\"}}" "$TOK_CI"
        check_denied volume options.device bind_paths
        api POST /v1/volumes "{\"name\": \"$v\", \"options\": {\"o\": \"rw,rbind\", \"device\": \"/etc\"}}" "$TOK_CI"
        check_denied volume options.device bind_paths
        engine_api GET "/volumes/$v"
        [ "$ESTATUS" = 404 ] || fail "a denied volume $v exists on the engine"
        api POST /v1/volumes "{\"name\": \"$v\", \"options\": {\"type\": \"none\", \"o\": \"bind\", \"device\": \"$POLICY_DIR/sub\"}}" "$TOK_CI"
        expect_ok 201
        api POST /v1/volumes "{\"name\": \"$v-2\"}" "$TOK_OPERATOR"
        expect_ok 201
        api POST /v1/networks "{\"name\": \"$v-n\", \"driver\": \"macvlan\"}" "$TOK_OPERATOR"
        check_denied network driver driver_options
        api POST /v1/networks "{\"name\": \"$v-n\", \"options\": {\"com.docker.network.bridge.name\": \"docker0\"}}" "$TOK_OPERATOR"
        check_denied network options driver_options
        engine_api GET "/networks/$v-n"
        [ "$ESTATUS" = 404 ] || fail "a denied network $v-n exists on the engine"
        api POST /v1/networks "{\"name\": \"$v-n\"}" "$TOK_OPERATOR"
        expect_ok 201
}

# Unrestricted (admin) may create a privileged container. Created, not started: a privileged
# container asks for every capability, and this sandbox has no CAP_SYS_RESOURCE to give.
admin_privileged() {
        local name
        name=$(unique priv)
        api POST /v1/containers "$(cfg "$name" '{"privileged": true}')"
        expect_ok 201
        engine_inspect "$name"
        expect_engine '.HostConfig.Privileged == true' "a privileged container"
}

routes() {
        api GET /v1/auth/whoami "" "$TOK_CI"
        expect_json .data.policy ci
        api GET /v1/auth/whoami "" "$TOK_OPERATOR"
        expect_json .data.policy restricted
        api GET /v1/auth/whoami "" "$TOK_ADMIN"
        expect_json .data.policy unrestricted
        api GET /v1/policy "" "$TOK_OPERATOR"
        expect_error 403 forbidden
        api GET /v1/policy
        expect_ok
        expect_jq '[.data.policies[].name] == ["restricted", "unrestricted", "ci"]'
        expect_jq '.data.policies[2].cap_add == ["CAP_NET_BIND_SERVICE", "CAP_CHOWN"]'
        expect_jq '.data.tokens | map(select(.name == "ci"))[0].policy == "ci"'
        # check: nothing is created, every denial is listed
        local name
        name=$(unique chk)
        api POST /v1/policy/check "$(cfg "$name" '{"privileged": true, "volumes": [{"source": "/etc", "target": "/x"}], "capabilities": {"add": ["SYS_ADMIN"]}}')" "$TOK_OPERATOR"
        expect_ok
        expect_json .data.allowed false
        expect_json .data.policy restricted
        expect_jq '[.data.denials[].rule] | sort == ["bind_paths", "cap_add", "privileged"]'
        engine_gone "$name" || fail "policy/check created $name"
        api POST /v1/policy/check "$(cfg "$name")" "$TOK_OPERATOR"
        expect_json .data.allowed true
        api POST /v1/policy/check "{\"name\": \"x$RANDOM\", \"compose\": \"services:\\n  web:\\n    image: $IMG\\n    privileged: true\\n\"}" "$TOK_CI"
        expect_json .data.allowed false
        expect_json .data.denials[0].field services.web.privileged
        api POST /v1/policy/check "$(cfg "$name")" "$TOK_VIEWER"
        expect_error 403 forbidden
        api POST /v1/policy/check '{"image": 5}' "$TOK_OPERATOR"
        expect_error 400 bad_request
        api POST /v1/policy/check '[1]' "$TOK_OPERATOR"
        expect_error 400 bad_request
}

# Viewers see names, not values: container inspect (summary and the engine's raw document),
# image inspect's raw Config.Env, a compose project's config (environment, env_file variables,
# build args). Operators and admins see the values.
redaction() {
        local name proj y body tok
        name=$(unique env)
        api POST /v1/containers "$(cfg "$name" '{"environment": {"DB_PASSWORD": "hunter2", "EMPTY": ""}}')"
        expect_ok 201
        api GET "/v1/containers/$name" "" "$TOK_VIEWER"
        expect_ok
        expect_json .data.environment.DB_PASSWORD '<redacted>'
        expect_jq '[.data.raw.Config.Env[] | select(startswith("DB_PASSWORD="))] == ["DB_PASSWORD=<redacted>"]'
        grep -q hunter2 <<<"$BODY" && fail "the viewer's reply holds the secret: $(short "$BODY")"
        for tok in "$TOK_OPERATOR" "$TOK_ADMIN"; do
                api GET "/v1/containers/$name" "" "$tok"
                expect_json .data.environment.DB_PASSWORD hunter2
        done
        api GET "/v1/images/$IMG" "" "$TOK_VIEWER"
        expect_ok
        expect_jq '[(.data.raw.Config.Env // [])[] | select(contains("=") and (endswith("=<redacted>") | not))] == []'
        proj=$(unique rproj)
        y=$(printf 'services:\n  web:\n    image: %s\n    command: ["sleep", "600"]\n    environment: {API_KEY: s3cret}\n    env_file: [%s]\n    build: {context: %s, args: {TOKEN: b1ld}}\n' \
                "$IMG" "$POLICY_DIR/ok.env" "$POLICY_DIR/ctx")
        body=$(jq -cn --arg y "$y" --arg n "$proj" '{name: $n, compose: $y}')
        api POST /v1/projects "$body"
        expect_ok 201
        api GET "/v1/projects/$proj/config" "" "$TOK_VIEWER"
        expect_ok
        expect_json .data.services.web.environment.API_KEY '<redacted>'
        expect_json .data.services.web.environment.A '<redacted>'
        expect_json .data.services.web.build.args.TOKEN '<redacted>'
        grep -q 's3cret\|b1ld' <<<"$BODY" && fail "the viewer's config holds a secret: $(short "$BODY")"
        api GET "/v1/projects/$proj/config" "" "$TOK_OPERATOR"
        expect_json .data.services.web.environment.API_KEY s3cret
        expect_json .data.services.web.environment.A 1
        api POST "/v1/projects/$proj/down" '{}'
}

t table table
t compose_only compose_only
t volumes_networks volumes_networks
t routes routes
t admin_privileged admin_privileged
t redaction redaction
done_file
