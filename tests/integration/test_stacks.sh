#!/usr/bin/env bash
# Docker Swarm through cmsd: nodes, and compose files deployed as stacks, on a real two-node
# swarm made on this machine (scripts/swarm.sh: two private dockerds, each in its own network
# namespace, never the host's engines). Every claim is checked on the swarm's own API and, for
# interoperation, with the docker CLI's stack commands. On the Podman run: only that cmsd refuses
# stacks on an engine that cannot hold them.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SW="$WORK_DIR/sw"

wants() { # whether T_ONLY may select a row of this file (the swarm takes a few seconds)
        [ -z "${T_ONLY:-}" ] || [[ "$T_ONLY" == *stacks* ]]
}

swarm_down() {
        "$ROOT/scripts/swarm.sh" down "$SW" >/dev/null 2>&1
}

# sw_api SOCK-NUMBER METHOD PATH [BODY]: engine_api against a swarm node.
sw_api() {
        local n=$1
        shift
        local ENGINE_SOCK
        if [ "$n" = 1 ]; then ENGINE_SOCK=$SWARM_SOCK1; else ENGINE_SOCK=$SWARM_SOCK2; fi
        engine_api "$@"
}

# stacks_cmsd: a private cmsd whose default engine is the swarm's manager ("swarm") beside the
# worker node ("worker", not a manager).
stacks_cmsd() {
        local port admin_sha
        port=$(free_port) || fail "no free port"
        admin_sha=$(printf '%s' "$TOK_ADMIN" | sha256sum | cut -d' ' -f1)
        mkdir -p "$T_TMP/state" "$T_TMP/ok"
        cat >"$T_TMP/cmsd.yaml" <<EOF
listen: ["127.0.0.1:$port"]
engines:
  - {name: swarm, url: "unix://$SWARM_SOCK1", default: true}
  - {name: worker, url: "unix://$SWARM_SOCK2"}
tokens:
  - {name: admin, role: admin, sha256: "$admin_sha"}
  - {name: operator, role: operator, token: "$TOK_OPERATOR"}
  - {name: viewer, role: viewer, token: "$TOK_VIEWER"}
  - {name: ci, role: operator, token: "$TOK_CI", policy: ci}
policies:
  ci: {bind_paths: ["$T_TMP/ok"], images: ["cmsd-test/*"]}
state_dir: "$T_TMP/state"
log_level: debug
EOF
        start_cmsd "$T_TMP/cmsd.yaml" "$port" "unix://$SWARM_SOCK1"
}

# stack_body NAME FILE: POST /v1/stacks's JSON body.
stack_body() {
        jq -n --arg n "$1" --rawfile c "$2" '{name: $n, compose: $c}'
}

# The running tasks of a stack: "service node" lines, from cmsd.
running_tasks() {
        my_api GET "/v1/stacks/$1"
        jq -r '.data.tasks[]? | select(.state == "running" and .desired_state == "running")
                | "\(.service) \(.node_id)"' <<<"$BODY"
}

# wait_running STACK SERVICE N [TIMEOUT]: N tasks of SERVICE running.
wait_running() {
        wait_for "[ \"\$(running_tasks $1 | awk -v s=$2 '\$1 == s' | wc -l)\" = $3 ]" "${4:-60}" ||
                fail "$1: $2 has not $3 running tasks: $(running_tasks "$1" | tr '\n' ' ')"
}

write_stack() { # FILE WORKER_ENV
        cat >"$1" <<EOF
services:
  web:
    image: $IMG
    command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]
    ports: [{target: 8080, published: $WEB_PORT, mode: host}]
    deploy:
      replicas: 1
      placement: {constraints: ["node.role==manager"]}
  worker:
    image: $IMG
    command: ["sh", "-c", "echo worker-up \$\$HOSTNAME; exec sleep 600"]
    environment: {GEN: "$2"}
    networks: [back]
    healthcheck: {test: ["CMD", "true"], interval: 2s}
    deploy:
      replicas: 4
      resources: {limits: {memory: 64m, cpus: "0.5"}}
      update_config: {parallelism: 2, delay: 1s, order: start-first}
      labels: {tier: back}
  once:
    image: $IMG
    command: ["sleep", "600"]
    deploy: {mode: global}
networks:
  back: {}
EOF
}

stacks_nodes() {
        stacks_cmsd
        my_api GET /v1/nodes "" "$TOK_VIEWER"
        expect_ok
        expect_jq '(.data | length) == 2' "two nodes"
        expect_jq --arg m "$SWARM_NODE1" --arg w "$SWARM_NODE2" \
                '(.data | map({id, role}) | sort_by(.role)) == [{id: $m, role: "manager"}, {id: $w, role: "worker"}]
                 and all(.data[]; .state == "ready" and .availability == "active"
                         and (.engine_version | length) > 0 and .resources.nano_cpus > 0)
                 and ([.data[] | select(.leader)] | length) == 1' \
                "a leading manager and a worker, both ready and active"
        my_api GET "/v1/nodes?engine=worker"
        expect_error 409 conflict
        expect_jq '.error.message | test("not a swarm manager")' "says why"
        my_api POST "/v1/nodes/$SWARM_NODE2" '{"availability": "drain"}' "$TOK_OPERATOR"
        expect_error 403 forbidden
        for bad in '{"availability": "gone"}' '{}' '{"availability": "drain", "role": "manager"}' '[]'; do
                my_api POST "/v1/nodes/$SWARM_NODE2" "$bad"
                expect_error 400 bad_request
        done
        my_api POST /v1/nodes/no-such-node '{"availability": "drain"}'
        expect_error 404 not_found
        sw_api 1 GET "/nodes/$SWARM_NODE2"
        [ "$(jq -r .Spec.Availability <<<"$EBODY")" = active ] || fail "a refused update changed the node"
        stop_cmsd
}

# Deploy: services spread over both nodes, the spec as docker stack deploy makes it, a re-deploy
# of the same file changes nothing, a change to one service rolls it alone.
stacks_deploy() {
        local st="st$RANDOM" id web_tasks out
        WEB_PORT=$(free_port)
        stacks_cmsd
        write_stack "$T_TMP/s.yml" one
        my_api POST /v1/stacks "$(stack_body "$st" "$T_TMP/s.yml")"
        expect_ok 201
        expect_jq '[.data.services[].action] == ["created", "created", "created"]
                and ([.data.networks[].name] | sort) == ["'"$st"'_back", "'"$st"'_default"]' \
                "three services and two networks created"
        wait_running "$st" worker 4
        wait_running "$st" web 1
        wait_running "$st" once 2
        [ "$(running_tasks "$st" | awk '$1 == "worker" {print $2}' | sort -u | wc -l)" = 2 ] ||
                fail "the worker's tasks are not spread over both nodes: $(running_tasks "$st" | tr '\n' ' ')"
        [ "$(running_tasks "$st" | awk '$1 == "web" {print $2}')" = "$SWARM_NODE1" ] ||
                fail "the placement constraint did not keep web on the manager"
        sw_api 1 GET "/services/${st}_worker"
        jq -e --arg st "$st" '.Spec.Labels["com.docker.stack.namespace"] == $st and .Spec.Labels.tier == "back"
                and .Spec.Mode.Replicated.Replicas == 4
                and .Spec.TaskTemplate.Resources.Limits.MemoryBytes == 67108864
                and .Spec.TaskTemplate.Resources.Limits.NanoCPUs == 500000000
                and .Spec.UpdateConfig.Parallelism == 2 and .Spec.UpdateConfig.Order == "start-first"
                and .Spec.TaskTemplate.ContainerSpec.Labels["com.docker.stack.namespace"] == $st
                and .Spec.TaskTemplate.ContainerSpec.Healthcheck.Test == ["CMD", "true"]
                and (.Spec.TaskTemplate.ContainerSpec.Env | index("GEN=one")) != null' <<<"$EBODY" >/dev/null ||
                fail "the worker's spec on the engine: $(short "$EBODY")"
        sw_api 1 GET "/networks/${st}_back"
        jq -e --arg st "$st" '.Driver == "overlay" and .Scope == "swarm" and .Labels["com.docker.stack.namespace"] == $st' \
                <<<"$EBODY" >/dev/null || fail "the back network: $(short "$EBODY")"
        # The host-mode port answers on the manager's address (busybox httpd: HTTP/1.0 ... ).
        wait_for "out=\$(timeout 3 bash -c 'exec 3<>/dev/tcp/$SWARM_HOST_ADDR1/$WEB_PORT; printf \"GET /hostname HTTP/1.0\r\n\r\n\" >&3; head -c 12 <&3' 2>/dev/null); [[ \$out == HTTP/1.* ]]" 20 ||
                fail "the published port $WEB_PORT does not answer on $SWARM_HOST_ADDR1"
        my_api GET "/v1/stacks/$st" "" "$TOK_VIEWER"
        expect_ok
        expect_jq '[.data.services[] | {service, mode, desired: .replicas.desired}] ==
                [{service: "once", mode: "global", desired: 2}, {service: "web", mode: "replicated", desired: 1},
                 {service: "worker", mode: "replicated", desired: 4}]' "the services with their modes"
        expect_jq '.data.services[] | select(.service == "web") | .ports == [{published: '"$WEB_PORT"', target: 8080, protocol: "tcp", mode: "host"}]' \
                "web's published port"
        my_api GET /v1/stacks
        expect_jq --arg st "$st" '.data[] | select(.name == $st) | .services == 3 and .running == 7 and .orchestrator == "swarm"' \
                "the stack listed with 3 services and 7 running tasks"
        # The same file again: nothing changes.
        web_tasks=$(sw_api 1 GET "/tasks?filters=$(jq -rn --arg s "${st}_web" '{service: [$s]} | tojson | @uri')"; jq -r '[.[].ID] | sort | join(",")' <<<"$EBODY")
        my_api POST /v1/stacks "$(stack_body "$st" "$T_TMP/s.yml")"
        expect_ok 200
        expect_jq '[.data.services[].action] == ["unchanged", "unchanged", "unchanged"]' "all unchanged"
        # One service changed: it alone rolls, to the end.
        write_stack "$T_TMP/s2.yml" two
        my_api POST /v1/stacks "$(stack_body "$st" "$T_TMP/s2.yml")"
        expect_ok 200
        expect_jq '[.data.services[] | {name, action}] == [{name: "'"$st"'_once", action: "unchanged"},
                {name: "'"$st"'_web", action: "unchanged"}, {name: "'"$st"'_worker", action: "updated"}]' \
                "worker updated, the others unchanged"
        wait_for "sw_api 1 GET /services/${st}_worker; [ \"\$(jq -r '.UpdateStatus.State // \"\"' <<<\"\$EBODY\")\" = completed ]" 90 ||
                fail "the rolling update did not complete: $(jq -c .UpdateStatus <<<"$EBODY")"
        wait_running "$st" worker 4
        out=$(sw_api 1 GET "/tasks?filters=$(jq -rn --arg s "${st}_worker" '{service: [$s], "desired-state": ["running"]} | tojson | @uri')"
                jq -r '[.[].Spec.ContainerSpec.Env | index("GEN=two") != null] | all' <<<"$EBODY")
        [ "$out" = true ] || fail "not every running worker task has the new environment"
        [ "$(sw_api 1 GET "/tasks?filters=$(jq -rn --arg s "${st}_web" '{service: [$s]} | tojson | @uri')"; jq -r '[.[].ID] | sort | join(",")' <<<"$EBODY")" = "$web_tasks" ] ||
                fail "web's tasks changed while only the worker was updated"
        my_api DELETE "/v1/stacks/$st" "" "$TOK_OPERATOR"
        expect_ok
        expect_jq '(.data.services | length) == 3 and (.data.networks | length) == 2' "services and networks removed"
        sw_api 1 GET "/services?filters=$(jq -rn --arg s "com.docker.stack.namespace=$st" '{label: [$s]} | tojson | @uri')"
        [ "$(jq length <<<"$EBODY")" = 0 ] || fail "services of $st left on the swarm"
        my_api GET "/v1/stacks/$st"
        expect_error 404 not_found
        stop_cmsd
}

# Scale and drain: replicas follow, a drained node's tasks move to the other.
stacks_scale_drain() {
        local st="sc$RANDOM"
        WEB_PORT=$(free_port)
        stacks_cmsd
        write_stack "$T_TMP/s.yml" one
        my_api POST /v1/stacks "$(stack_body "$st" "$T_TMP/s.yml")"
        expect_ok 201
        wait_running "$st" worker 4
        my_api POST "/v1/stacks/$st/scale" '{"worker": 6}' "$TOK_OPERATOR"
        expect_ok
        expect_json .data.replicas.worker 6
        wait_running "$st" worker 6
        my_api POST "/v1/stacks/$st/scale" '{"once": 3}'
        expect_error 400 bad_request
        my_api POST "/v1/stacks/$st/scale" '{"nope": 3}'
        expect_error 404 not_found
        my_api POST "/v1/stacks/$st/scale" '{"worker": -1}'
        expect_error 400 bad_request
        my_api POST "/v1/stacks/$st/scale" '{"worker": "3"}'
        expect_error 400 bad_request
        my_api POST "/v1/stacks/$st/scale" '{"worker": 2}' "$TOK_VIEWER"
        expect_error 403 forbidden
        my_api POST "/v1/nodes/$SWARM_NODE2" '{"availability": "drain"}'
        expect_ok
        expect_json .data.availability drain
        wait_for "[ \"\$(running_tasks $st | awk '\$1 == \"worker\" && \$2 == \"$SWARM_NODE1\"' | wc -l)\" = 6 ]" 90 ||
                fail "the worker's 6 tasks did not all move to the manager: $(running_tasks "$st" | tr '\n' ' ')"
        my_api POST "/v1/nodes/$SWARM_NODE2" '{"availability": "active"}'
        expect_ok
        my_api DELETE "/v1/stacks/$st"
        expect_ok
        stop_cmsd
}

# docker stack deploy's stacks are cmsd's and the reverse.
stacks_interop() {
        local a="dk$RANDOM" b="cm$RANDOM"
        command -v docker >/dev/null || fail "the docker CLI is not installed"
        WEB_PORT=$(free_port)
        stacks_cmsd
        write_stack "$T_TMP/s.yml" one
        DOCKER_HOST="unix://$SWARM_SOCK1" docker stack deploy -c "$T_TMP/s.yml" "$a" >"$T_TMP/cli.out" 2>&1 ||
                fail "docker stack deploy: $(cat "$T_TMP/cli.out")"
        my_api GET /v1/stacks
        expect_jq --arg a "$a" '.data[] | select(.name == $a) | .services == 3' "docker's stack listed by cmsd"
        my_api GET "/v1/stacks/$a"
        expect_ok
        expect_jq '[.data.services[].service] == ["once", "web", "worker"]' "its services"
        my_api DELETE "/v1/stacks/$a"
        expect_ok
        DOCKER_HOST="unix://$SWARM_SOCK1" docker stack ls --format '{{.Name}}' >"$T_TMP/ls" 2>&1
        ! grep -qx "$a" "$T_TMP/ls" || fail "docker stack ls still shows $a after cmsd removed it"
        WEB_PORT=$(free_port)
        write_stack "$T_TMP/s.yml" one
        my_api POST /v1/stacks "$(stack_body "$b" "$T_TMP/s.yml")"
        expect_ok 201
        DOCKER_HOST="unix://$SWARM_SOCK1" docker stack services --format '{{.Name}}' "$b" >"$T_TMP/svc" 2>&1
        [ "$(sort "$T_TMP/svc" | tr '\n' ' ')" = "${b}_once ${b}_web ${b}_worker " ] ||
                fail "docker stack services $b: $(cat "$T_TMP/svc")"
        DOCKER_HOST="unix://$SWARM_SOCK1" docker stack rm "$b" >"$T_TMP/rm" 2>&1 || fail "docker stack rm: $(cat "$T_TMP/rm")"
        wait_for "my_api GET /v1/stacks/$b; [ \"\$STATUS\" = 404 ]" 30 || fail "cmsd still sees $b after docker stack rm"
        stop_cmsd
}

stacks_logs() {
        local st="lg$RANDOM"
        WEB_PORT=$(free_port)
        stacks_cmsd
        write_stack "$T_TMP/s.yml" one
        my_api POST /v1/stacks "$(stack_body "$st" "$T_TMP/s.yml")"
        expect_ok 201
        wait_running "$st" worker 4
        wait_for "my_api GET '/v1/stacks/$st/logs?service=worker' '' '$TOK_VIEWER'; [ \"\$(jq '[.data.lines[]? | select(.text | startswith(\"worker-up \"))] | length' <<<\"\$BODY\")\" = 4 ]" 30 ||
                fail "not the 4 tasks' first lines: $(short "$BODY")"
        expect_jq --arg s "${st}_worker" 'all(.data.lines[]; .service == "worker" and .container == $s and .stream == "stdout")' \
                "lines tagged with their service"
        my_api GET "/v1/stacks/$st/logs?service=nope"
        expect_error 404 not_found
        # Followed: lines come as the tasks write them (the engine's service log follow covers
        # the tasks running when it began, as docker service logs -f does).
        printf 'services:\n  tick:\n    image: %s\n    command: ["sh", "-c", "while :; do echo tick; sleep 1; done"]\n    deploy: {replicas: 2}\n' \
                "$IMG" >"$T_TMP/t.yml"
        my_api POST /v1/stacks "$(stack_body "${st}t" "$T_TMP/t.yml")"
        expect_ok 201
        wait_running "${st}t" tick 2
        curl -sS -N --max-time 6 -H "Authorization: Bearer $TOK_VIEWER" -H 'Accept: application/x-ndjson' \
                "$MY_URL/v1/stacks/${st}t/logs?follow=true&tail=0" >"$T_TMP/follow" 2>/dev/null
        [ "$(grep -c '"text":"tick"' "$T_TMP/follow")" -ge 6 ] ||
                fail "a 6 s follow of 2 tasks ticking every second: $(head -c 300 "$T_TMP/follow")"
        jq -e -s 'length > 0 and all(.service == "tick" and .stream == "stdout" and .text == "tick")' "$T_TMP/follow" >/dev/null ||
                fail "followed lines: $(head -c 300 "$T_TMP/follow")"
        my_api DELETE "/v1/stacks/${st}t"
        expect_ok
        my_api DELETE "/v1/stacks/$st"
        expect_ok
        stop_cmsd
}

# The caller's policy applies to a stack as to a project; every change is audited.
stacks_policy() {
        local st="po$RANDOM"
        stacks_cmsd
        printf 'services:\n  a:\n    image: %s\n    command: ["sleep", "60"]\n    volumes: ["/etc:/host-etc:ro"]\n' "$IMG" >"$T_TMP/p.yml"
        my_api POST /v1/stacks "$(stack_body "$st" "$T_TMP/p.yml")" "$TOK_CI"
        expect_error 403 policy_denied
        expect_jq '.error.field | test("^services\\.a\\.volumes")' "the denial names the bind"
        sw_api 1 GET "/services/${st}_a"
        [ "$ESTATUS" = 404 ] || fail "the refused stack made a service"
        my_api GET "/v1/audit?route=stacks_deploy&token=ci"
        expect_jq '.data.records[0] | .status == 403 and .engine == "swarm" and .policy.decision == "denied"' \
                "the refusal audited with its engine"
        printf 'services:\n  a:\n    image: busybox:latest\n    command: ["sleep", "60"]\n' >"$T_TMP/p2.yml"
        my_api POST /v1/stacks "$(stack_body "$st" "$T_TMP/p2.yml")" "$TOK_CI"
        expect_error 403 policy_denied
        stop_cmsd
}

stacks_bad_input() {
        local before bad
        stacks_cmsd
        sw_api 1 GET /services
        before=$(jq length <<<"$EBODY")
        my_api POST /v1/stacks '{"compose": "services: {a: {image: x}}"}'
        expect_error 400 bad_request
        my_api POST /v1/stacks '{"name": "Bad Name", "compose": "services: {a: {image: x}}"}'
        expect_error 400 bad_request
        my_api POST /v1/stacks '{"name": "ok"}'
        expect_error 400 bad_request
        my_api POST /v1/stacks '[{"name": "ok"}]'
        expect_error 400 bad_request
        my_api POST /v1/stacks/ok/scale '[1]'
        expect_error 400 bad_request
        my_api POST /v1/stacks '{"name": "ok", "compose": "services: {a: {image: x}}", "prune": "yes"}'
        expect_error 400 bad_request
        for bad in \
                'services: {a: {image: x, ports: ["8000-8010:80"]}}|ports' \
                'services: {a: {image: x, ports: ["127.0.0.1:8000:80"]}}|ports' \
                'services: {a: {image: x, deploy: {mode: everywhere}}}|deploy.mode' \
                'services: {a: {image: x, deploy: {placement: {constraints: ["node.role"]}}}}|constraints' \
                'services: {a: {image: x, deploy: {update_config: {order: sideways}}}}|update_config.order' \
                'services: {a: {image: x, deploy: {rollback_config: {failure_action: rollback}}}}|rollback_config.failure_action' \
                'services: {a: {image: x, deploy: {update_config: {max_failure_ratio: 2}}}}|max_failure_ratio' \
                'services: {a: {image: x, deploy: {restart_policy: {condition: sometimes}}}}|restart_policy.condition' \
                'services: {a: {image: x, deploy: {endpoint_mode: anycast}}}|endpoint_mode' \
                'services: {a: {image: x, secrets: [{source: s, target: /etc/s}]}}
secrets: {s: {environment: X}}|/run/secrets'; do
                my_api POST /v1/stacks "$(jq -n --arg c "${bad%%|*}" '{name: "bad", compose: $c, env: {X: "x"}}')"
                expect_error 400 bad_request
                expect_jq --arg k "${bad##*|}" '.error.message | contains($k)' "the message names ${bad##*|}"
        done
        my_api POST "/v1/stacks?engine=worker" '{"name": "ok", "compose": "services: {a: {image: x}}"}'
        expect_error 409 conflict
        my_api POST /v1/stacks '{"name": "ok", "compose": "services: {a: {image: x}}"}' "$TOK_VIEWER"
        expect_error 403 forbidden
        my_api GET /v1/stacks/none-such
        expect_error 404 not_found
        my_api DELETE /v1/stacks/none-such
        expect_error 404 not_found
        sw_api 1 GET /services
        [ "$(jq length <<<"$EBODY")" = "$before" ] || fail "a refused deploy left a service"
        stop_cmsd
}

# cmsctl stack and node against the same swarm.
stacks_cmsctl() {
        local st="ctl$RANDOM" ctl out
        ctl="$(dirname "$CMSD_BIN")/cmsctl"
        WEB_PORT=$(free_port)
        stacks_cmsd
        printf '%s' "$TOK_ADMIN" >"$T_TMP/tok"
        mkdir -p "$T_TMP/app"
        write_stack "$T_TMP/app/stack.yml" one
        export CMSD_URL=$MY_URL
        out=$(cd "$T_TMP/app" && "$ctl" --token-file "$T_TMP/tok" stack deploy -c stack.yml "$st" 2>&1) ||
                fail "stack deploy: $out"
        grep -q "^Creating service ${st}_worker\$" <<<"$out" || fail "stack deploy said: $out"
        grep -q "^Creating network ${st}_back\$" <<<"$out" || fail "stack deploy said: $out"
        wait_running "$st" worker 4
        out=$("$ctl" --token-file "$T_TMP/tok" stack ls) || fail "stack ls: $out"
        grep -Eq "^$st +3 +[0-9]+/7\$" <<<"$out" || fail "stack ls: $out"
        out=$("$ctl" --token-file "$T_TMP/tok" stack services "$st") || fail "stack services: $out"
        grep -Eq " ${st}_worker +replicated +4/4 " <<<"$out" || fail "stack services: $out"
        grep -q "\*:$WEB_PORT->8080/tcp" <<<"$out" || fail "stack services, web's port: $out"
        out=$("$ctl" --token-file "$T_TMP/tok" stack ps "$st") || fail "stack ps: $out"
        [ "$(grep -Ec " ${st}_worker\.[1-4] .* running +running" <<<"$out")" = 4 ] || fail "stack ps: $out"
        out=$("$ctl" --token-file "$T_TMP/tok" node ls) || fail "node ls: $out"
        grep -q "^$SWARM_NODE1 .* Leader " <<<"$out" || fail "node ls: $out"
        out=$("$ctl" --token-file "$T_TMP/tok" stack scale "$st" worker=2) || fail "stack scale: $out"
        wait_running "$st" worker 2
        out=$("$ctl" --token-file "$T_TMP/tok" stack logs --tail 1 "$st" worker) || fail "stack logs: $out"
        grep -Eq "^${st}_worker +\| worker-up " <<<"$out" || fail "stack logs: $out"
        "$ctl" --token-file "$T_TMP/tok" stack scale "$st" worker=x >/dev/null 2>&1
        [ $? = 2 ] || fail "a bad SERVICE=N is not a usage error"
        out=$("$ctl" --token-file "$T_TMP/tok" stack rm "$st") || fail "stack rm: $out"
        grep -q "^Removing network ${st}_back\$" <<<"$out" || fail "stack rm said: $out"
        "$ctl" --token-file "$T_TMP/tok" stack ps "$st" >/dev/null 2>&1
        [ $? = 3 ] || fail "stack ps of a removed stack did not exit 3"
        stop_cmsd
}

# Secrets and configs: swarm objects made from what cmsd read, mounted where the file says; a
# changed secret is refused before anything moves; rm takes them away.
stacks_secrets() {
        local st="se$RANDOM" body
        stacks_cmsd
        cat >"$T_TMP/s.yml" <<EOF
services:
  a:
    image: $IMG
    command: ["sh", "-c", "cat /run/secrets/token; echo; cat /etc/app.conf; echo; exec sleep 600"]
    secrets: [token]
    configs: [{source: conf, target: /etc/app.conf, mode: 0440}]
secrets:
  token: {environment: TOKEN}
configs:
  conf: {content: "level=debug"}
EOF
        body=$(jq -n --arg n "$st" --rawfile c "$T_TMP/s.yml" '{name: $n, compose: $c, env: {TOKEN: "s3cr3t-1"}}')
        my_api POST /v1/stacks "$body"
        expect_ok 201
        wait_running "$st" a 1
        wait_for "my_api GET '/v1/stacks/$st/logs'; jq -e '[.data.lines[].text] | index(\"s3cr3t-1\") != null and index(\"level=debug\") != null' <<<\"\$BODY\" >/dev/null" 30 ||
                fail "the task did not read its secret and config: $(short "$BODY")"
        sw_api 1 GET "/secrets?filters=$(jq -rn --arg s "${st}_token" '{name: [$s]} | tojson | @uri')"
        jq -e --arg st "$st" '.[0].Spec.Labels["com.docker.stack.namespace"] == $st' <<<"$EBODY" >/dev/null ||
                fail "secret ${st}_token: $(short "$EBODY")"
        # The same content again: nothing changes; another content: 409, the service untouched.
        my_api POST /v1/stacks "$body"
        expect_ok 200
        expect_jq '[.data.services[].action] == ["unchanged"]' "unchanged"
        my_api POST /v1/stacks "$(jq '.env.TOKEN = "s3cr3t-2"' <<<"$body")"
        expect_error 409 conflict
        expect_jq '.error.message | test("secrets.token")' "names the secret"
        my_api DELETE "/v1/stacks/$st"
        expect_ok
        expect_jq --arg st "$st" '.data.secrets == [$st + "_token"] and .data.configs == [$st + "_conf"]' \
                "the secret and the config removed"
        sw_api 1 GET /secrets
        ! jq -e --arg s "${st}_token" 'any(.[]; .Spec.Name == $s)' <<<"$EBODY" >/dev/null ||
                fail "the secret is still on the swarm"
        stop_cmsd
}

podman_refused() {
        api GET /v1/stacks
        expect_error 409 conflict
        expect_jq '.error.message | test("podman")' "names the runtime"
        api GET /v1/nodes
        expect_error 409 conflict
}

if [ "$ENGINE" = podman ]; then
        t podman_refused podman_refused
        done_file
        exit 0
fi
if wants; then
        trap swarm_down EXIT
        trap 'swarm_down; exit 143' TERM INT
        swarm_down
        if ! "$ROOT/scripts/swarm.sh" up "$SW" "$IMG" >"$WORK_DIR/swarm-up.log" 2>&1; then
                echo "not ok - $ENGINE stacks.swarm_up: $(tail -n 3 "$WORK_DIR/swarm-up.log" | tr '\n' ' ')"
                echo "not ok $ENGINE stacks.swarm_up" >>"$RESULTS_FILE"
                exit 0
        fi
        # shellcheck disable=SC1091
        . "$SW/env"
        t stacks_nodes stacks_nodes
        t stacks_deploy stacks_deploy
        t stacks_scale_drain stacks_scale_drain
        t stacks_interop stacks_interop
        t stacks_logs stacks_logs
        t stacks_policy stacks_policy
        t stacks_bad_input stacks_bad_input
        t stacks_cmsctl stacks_cmsctl
        t stacks_secrets stacks_secrets
fi
done_file
