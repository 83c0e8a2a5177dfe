#!/usr/bin/env bash
# The compose runtime keys that reach the host (issue 19): a project using ulimits, sysctls,
# devices, device_cgroup_rules, security_opt, pid/ipc service: and shareable, cgroup, group_add,
# mem_swappiness, oom_kill_disable, oom_score_adj, blkio_config, cpu_count, mac_address,
# runtime, isolation, annotations, attach, logging and volumes_from, checked on the engine's own
# inspect document and inside the container; the warnings that name the engine for what it does
# not apply; a changed key recreating the service; storage_opt refused by the engine on overlay
# without xfs quotas; and the restricted "ci" operator refused (403 policy_denied naming the rule
# and the compose field) for every key that reaches past the container, while the safe ones
# pass; `extends` (same file, chains, other files) giving the model written out by hand, the
# other file read under the policy. The kitchen sink runs as admin (unrestricted): the default operator policy is restricted. Every project is named "$NAME_PREFIX-<x>"; each test removes what its projects made.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=projects_lib.sh
. "$(dirname "$0")/projects_lib.sh"

# The kitchen sink. Ulimits stay under this sandbox's hard limits (Podman cannot raise them:
# no CAP_SYS_RESOURCE, see scripts/engines.sh), nproc given so Podman does not add its own.
keys_file() {
        compose_file keys <<EOF
services:
  db:
    image: @IMG@
    command: @LOOP@
    volumes: ["/data"]
  web:
    image: @IMG@
    command: @LOOP@
    ulimits:
      nofile: {soft: 1000, hard: 2000}
      nproc: 2000
    sysctls: {net.core.somaxconn: "${1:-512}", kernel.shmmax: "1000000"}
    devices: ["/dev/zero:/dev/myzero:rwm"]
    device_cgroup_rules: ["c 42:* rm"]
    security_opt: ["no-new-privileges:true"]
    pid: service:db
    ipc: shareable
    cgroup: private
    group_add: ["1234"]
    mem_limit: 64m
    mem_swappiness: 10
    oom_kill_disable: true
    oom_score_adj: 300
    blkio_config: {weight: 300}
    cpu_count: 1
    mac_address: "02:42:ac:11:00:42"
    runtime: runc
    isolation: default
    annotations: {com.example.team: shop}
    attach: false
    logging: {driver: json-file, options: {max-size: 1m, max-file: "2"}}
    volumes_from: ["db:ro"]
EOF
}

# has_warning TEXT: some warning of the last reply contains TEXT.
has_warning() {
        expect_jq --arg t "$1" 'any(.data.warnings[]; contains($t))' "a warning with '$1'"
}

keys_applied() {
        local p web db
        p=$(pname keys)
        keys_file
        up_project "$p" "$CF" '{}' "$TOK_ADMIN"
        expect_ok 201
        web=$(reply_id web) db=$(reply_id db)
        [ -n "$web" ] && [ -n "$db" ] || fail "no container ids in $(short "$BODY")"
        expect_jq '[.data.warnings[] | select(test("not supported by cmsd"))] | length == 0' \
                "no 'not supported' warning"
        has_warning "services.web.cpu_count: $ENGINE: Windows-only"
        if [ "$ENGINE" = podman ]; then
                local k
                for k in mac_address runtime isolation device_cgroup_rules cgroup \
                        blkio_config.weight logging.options annotations; do
                        has_warning "services.web.$k: podman:"
                done
        else
                has_warning "services.web.annotations: docker:"
                expect_jq '[.data.warnings[] | select(test("services.web.(mac_address|runtime|device_cgroup_rules|cgroup):"))] | length == 0' \
                        "docker applies mac_address, runtime, device_cgroup_rules and cgroup"
        fi
        engine_inspect "$web"
        expect_engine '.State.Running == true' "web running"
        expect_engine '.HostConfig.Devices == [{"PathOnHost": "/dev/zero",
                "PathInContainer": "/dev/myzero", "CgroupPermissions": (.HostConfig.Devices[0].CgroupPermissions)}]
                and (.HostConfig.Devices[0].CgroupPermissions | IN("rwm", ""))' "HostConfig.Devices"
        expect_engine '.HostConfig.GroupAdd == ["1234"]' "HostConfig.GroupAdd"
        expect_engine '.HostConfig.SecurityOpt | index("no-new-privileges") != null' "HostConfig.SecurityOpt"
        expect_engine '.HostConfig.LogConfig.Type == "json-file"' "HostConfig.LogConfig.Type"
        expect_engine '.HostConfig.MemorySwappiness == 10 and .HostConfig.OomScoreAdj == 300 and
                .HostConfig.OomKillDisable == true' "swappiness, OOM score and kill switch"
        expect_engine '.HostConfig.IpcMode == "shareable" and (.HostConfig.PidMode | startswith("container:"))' \
                "IpcMode, PidMode"
        expect_engine '[.HostConfig.Ulimits[] | select(.Name | test("nofile$"; "i"))] ==
                [{"Name": (.HostConfig.Ulimits[] | select(.Name | test("nofile$"; "i")) | .Name), "Soft": 1000, "Hard": 2000}]' \
                "HostConfig.Ulimits nofile 1000/2000"
        expect_engine 'any(.Mounts[]; .Destination == "/data" and .RW == false)' "db's /data, read-only"
        if [ "$ENGINE" = docker ]; then
                expect_engine '.HostConfig.Sysctls == {"net.core.somaxconn": "512", "kernel.shmmax": "1000000"}' \
                        "HostConfig.Sysctls"
                expect_engine '.HostConfig.LogConfig.Config == {"max-size": "1m", "max-file": "2"}' \
                        "HostConfig.LogConfig.Config"
                expect_engine '.Config.MacAddress == "02:42:ac:11:00:42"' "Config.MacAddress"
                expect_engine '.HostConfig.DeviceCgroupRules == ["c 42:* rm"] and
                        .HostConfig.CgroupnsMode == "private" and .HostConfig.Runtime == "runc"' \
                        "DeviceCgroupRules, CgroupnsMode, Runtime"
        fi
        # inside: what the kernel gives the container
        engine_exec "$web" sh -c 'cat /proc/sys/net/core/somaxconn /proc/sys/kernel/shmmax;
                ulimit -Hn; id -G; test -c /dev/myzero && echo dev; cat /proc/self/oom_score_adj;
                grep NoNewPrivs /proc/self/status | tr -d "\t "; ps | grep -c "sleep 1" >/dev/null && echo shared'
        [ "$EX_RC" = 0 ] || fail "exec in web: $EX_RC $EX_ERR"
        local want
        want=$'512\n1000000\n2000\n0 1234\ndev\n300\nNoNewPrivs:1\nshared'
        [ "$EX_OUT" = "$want" ] || fail "inside web: $(short "$EX_OUT") (wanted $(short "$want"))"

        api GET "/v1/projects/$p/config" "" "$TOK_VIEWER"
        expect_ok
        expect_jq '.data.services.web | .ulimits.nofile == {"soft": 1000, "hard": 2000} and
                .security_opt == ["no-new-privileges"] and .devices == ["/dev/zero:/dev/myzero:rwm"] and
                .volumes_from == ["service:db:ro"] and .attach == false and
                .logging.options["max-size"] == "1m"' "the normalized keys in the config"

        # a changed sysctl value recreates web only
        keys_file 256
        up_project "$p" "$CF" '{}' "$TOK_ADMIN"
        expect_ok 200
        expect_jq '[.data.containers[] | [.service, .action]] | sort == [["db", "kept"], ["web", "recreated"]]' \
                "a sysctl change recreates web"
        engine_exec "$(reply_id web)" cat /proc/sys/net/core/somaxconn
        [ "$EX_OUT" = 256 ] || fail "somaxconn after the change: $EX_OUT"
}

# The engines refuse a size quota on overlay without xfs pquota: up fails with their message.
storage_opt_refused() {
        local p
        p=$(pname sopt)
        compose_file sopt <<EOF
services:
  web: {image: @IMG@, command: @LOOP@, storage_opt: {size: 1G}}
EOF
        up_project "$p" "$CF" '{}' "$TOK_ADMIN"
        [ "${STATUS:0:1}" = 4 ] || [ "${STATUS:0:1}" = 5 ] || fail "up with storage_opt: $STATUS"
        expect_jq '.error.message | test("storage-opt")' "the engine's storage-opt message"
}

# policy_row FIELD RULE YAML-LINES: a project with service web (those lines) under the ci token.
policy_row() {
        local p
        p=$(pname "pol$(printf '%s' "$1" | md5sum | cut -c1-6)")
        compose_file pol <<EOF
services:
  db: {image: @IMG@, command: @LOOP@}
  web:
    image: @IMG@
    command: @LOOP@
$(printf '%b' "$3" | sed 's/^/    /')
EOF
        up_project "$p" "$CF" '{}' "$TOK_CI"
        check_denied "$3" "$1" "$2"
        proj_ctrs "$p"
        [ "$(pc_count)" = 0 ] || fail "$1: containers were made: $(short "$PC")"
}

# check_denied WHAT FIELD RULE: the last reply is 403 policy_denied naming rule and field.
check_denied() {
        expect_error 403 policy_denied
        expect_json .error.rule "$3" "$1: rule"
        expect_json .error.field "$2" "$1: field"
}

policy_denied() {
        policy_row services.web.devices[0] privileged 'devices: ["/dev/zero:/dev/myzero"]'
        policy_row services.web.device_cgroup_rules[0] privileged 'device_cgroup_rules: ["c 1:5 rwm"]'
        policy_row services.web.security_opt[1] privileged \
                'security_opt: ["no-new-privileges", "seccomp=unconfined"]'
        policy_row services.web.security_opt[0] privileged 'security_opt: ["apparmor:unconfined"]'
        policy_row services.web.security_opt[0] privileged 'security_opt: ["label=disable"]'
        policy_row services.web.pid host_namespaces 'pid: host'
        policy_row services.web.ipc host_namespaces 'ipc: host'
        policy_row services.web.uts host_namespaces 'uts: host'
        policy_row services.web.userns_mode host_namespaces 'userns_mode: host'
        policy_row services.web.cgroup host_namespaces 'cgroup: host'
        policy_row services.web.pid host_namespaces 'pid: "container:someone-else"'
        policy_row services.web.sysctls.vm.swappiness sysctls 'sysctls: {vm.swappiness: "1"}'
        policy_row services.web.cgroup_parent privileged 'cgroup_parent: /elsewhere'
        policy_row services.web.runtime privileged 'runtime: runc'
        policy_row services.web.oom_kill_disable privileged 'oom_kill_disable: true'
        policy_row services.web.oom_score_adj privileged 'oom_score_adj: -500'
        policy_row services.web.volumes_from[0] privileged 'volumes_from: ["container:someone-else"]'
        policy_row services.web.annotations.run.oci.keep_original_groups privileged \
                'annotations: {run.oci.keep_original_groups: "1"}'
        policy_row services.web.logging.driver driver_options 'logging: {driver: syslog}'
        policy_row services.web.privileged privileged 'privileged: true'
}

# What stays inside the container passes the ci policy, service: joins included.
policy_allowed() {
        local p
        p=$(pname polok)
        compose_file polok <<EOF
services:
  db: {image: @IMG@, command: @LOOP@, volumes: ["/data"]}
  web:
    image: @IMG@
    command: @LOOP@
    ulimits: {nofile: {soft: 1000, hard: 2000}, nproc: 2000}
    sysctls: {net.ipv4.ip_unprivileged_port_start: "80", kernel.shm_rmid_forced: "1"}
    security_opt: ["no-new-privileges"]
    group_add: ["1234"]
    pid: service:db
    ipc: private
    oom_score_adj: 100
    logging: {driver: json-file, options: {max-size: 1m}}
    volumes_from: [db]
EOF
        up_project "$p" "$CF" '{}' "$TOK_CI"
        expect_ok 201
        engine_inspect "$(reply_id web)"
        expect_engine '.State.Running == true and .HostConfig.GroupAdd == ["1234"]' "web running under ci"
}

# config_of FILE [WD] [TOKEN]: the dry-run model of FILE (POST /v1/projects/config) in MODEL.
config_of() {
        jq -n --arg n "$(pname cfg)" --rawfile c "$1" --arg wd "${2-}" \
                '{name: $n, compose: $c} + (if $wd == "" then {} else {working_dir: $wd} end)' \
                >"$T_TMP/cfg.json"
        api POST /v1/projects/config "@$T_TMP/cfg.json" "${3-$TOK_ADMIN}"
        MODEL=$BODY
}

# extends (same file, a chain, another file and one beside it) gives the model of the service
# written out by hand, and the container runs it; the other file is read under the policy.
extends_by_hand() {
        local p wd=$T_TMP/proj hand want
        mkdir -p "$wd/lib"
        cat >"$wd/lib/common.yml" <<EOF
services:
  base:
    extends: {file: more.yml, service: root}
    environment: {LEVEL: common}
    labels: {tier: common}
EOF
        compose_file more <<EOF
services:
  root:
    image: @IMG@
    command: ["sh", "-c", "echo never"]
    environment: {LEVEL: root, ROOT: "1"}
    ulimits: {nofile: {soft: 1000, hard: 2000}, nproc: 2000}
EOF
        mv "$CF" "$wd/lib/more.yml"
        compose_file hand <<EOF
services:
  web:
    image: @IMG@
    command: @LOOP@
    environment: {LEVEL: web, ROOT: "1", MID: "1"}
    labels: {tier: common}
    ulimits: {nofile: {soft: 1000, hard: 2000}, nproc: 2000}
EOF
        hand=$CF
        compose_file ext <<EOF
services:
  mid:
    extends: {file: lib/common.yml, service: base}
    environment: {MID: "1"}
  web:
    extends: mid
    command: @LOOP@
    environment: {LEVEL: web}
EOF
        config_of "$hand"
        expect_ok
        want=$(jq -c '.data.services.web' <<<"$MODEL")
        config_of "$CF" "$wd"
        expect_ok
        expect_jq --argjson w "$want" '.data.services.web == $w' "extends gives the by-hand model"
        p=$(pname ext)
        jq -n --arg n "$p" --rawfile c "$CF" --arg wd "$wd" \
                '{name: $n, compose: $c, working_dir: $wd}' >"$T_TMP/up.json"
        api POST /v1/projects "@$T_TMP/up.json" "$TOK_ADMIN"
        expect_ok 201
        engine_inspect "$(reply_id web)"
        expect_engine '.State.Running == true and (.Config.Env | index("LEVEL=web") != null and
                index("ROOT=1") != null) and .Config.Labels.tier == "common"' "web from the chain"
        # the ci operator may not have cmsd read a file outside its build_paths
        up_project "$(pname extci)" "$CF" "$(jq -cn --arg wd "$wd" '{working_dir: $wd}')" "$TOK_CI"
        check_denied extends.file extends.file build_paths
}

# security_opt seccomp=<file>: the profile, relative to the project directory, is the one the
# container runs under on both engines (Docker gets its content, Podman its path); the config keeps
# the path; a changed profile recreates the service; the ci operator may not use one.
seccomp_profile() {
        local p wd=$T_TMP/seccomp id id2
        mkdir -p "$wd"
        printf '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"],
                "action": "SCMP_ACT_ERRNO"}]}' >"$wd/nomkdir.json"
        compose_file seccomp <<EOF
services:
  app:
    image: @IMG@
    command: @LOOP@
    security_opt: ["seccomp=nomkdir.json"]
EOF
        p=$(pname seccomp)
        up_project "$p" "$CF" "$(jq -cn --arg wd "$wd" '{working_dir: $wd}')" "$TOK_ADMIN"
        expect_ok 201
        id=$(reply_id app)
        engine_exec "$id" sh -c 'mkdir /tmp/x && echo made || echo refused'
        [ "$EX_OUT" = refused ] || fail "mkdir under the profile: '$EX_OUT' ($EX_ERR)"
        api GET "/v1/projects/$p/config" "" "$TOK_VIEWER"
        expect_ok
        expect_jq --arg o "seccomp=$wd/nomkdir.json" '.data.services.app.security_opt == [$o]' \
                "the config keeps the path"
        printf '{"defaultAction": "SCMP_ACT_ALLOW"}' >"$wd/nomkdir.json"
        up_project "$p" "$CF" "$(jq -cn --arg wd "$wd" '{working_dir: $wd}')" "$TOK_ADMIN"
        expect_ok
        id2=$(reply_id app)
        [ -n "$id2" ] && [ "$id2" != "$id" ] || fail "a changed profile did not recreate app"
        engine_exec "$id2" sh -c 'mkdir /tmp/x && echo made || echo refused'
        [ "$EX_OUT" = made ] || fail "mkdir under the new profile: '$EX_OUT' ($EX_ERR)"
        api POST "/v1/projects/$p/down" '{}' "$TOK_ADMIN"
        expect_ok
        up_project "$(pname seccompci)" "$CF" "$(jq -cn --arg wd "$wd" '{working_dir: $wd}')" \
                "$TOK_CI"
        expect_error 403 policy_denied
        expect_json .error.field "services.app.security_opt[0]" "field"
}

tp keys_applied keys_applied
tp extends_by_hand extends_by_hand
tp storage_opt_refused storage_opt_refused
tp policy_denied policy_denied
tp policy_allowed policy_allowed
tp seccomp_profile seccomp_profile
cleanup_projects
done_file
