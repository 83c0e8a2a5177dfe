# Helpers for the black-box integration tests: they talk to a running cmsd over HTTP exactly as a
# user would (api, expect_*), and to the engine socket directly (engine_*) to prove what cmsd did
# on the engine independently of cmsd's own answers. Sourced by every tests/integration/test_*.sh;
# run.sh provides the environment below.
#
# Environment: ENGINE (docker|podman), ENGINE_SOCK, CMSD_URL, CMSD_BIN, CMSD_PID, WORK_DIR,
# RUN_ID, RESULTS_FILE, all of them the engine's own (run.sh runs the engines side by side: each
# has its own RUN_ID, WORK_DIR and RESULTS_FILE); PORT_SLOT/PORT_SLOTS (optional: free_port).
# SC2034: the variables set here are read by the test files that source this one.
# shellcheck shell=bash disable=SC2034

: "${ENGINE:?run through tests/integration/run.sh}" "${ENGINE_SOCK:?}" "${CMSD_URL:?}"
: "${WORK_DIR:?}" "${RUN_ID:?}" "${RESULTS_FILE:?}" "${CMSD_BIN:?}"

IMG=cmsd-test/busybox:latest
HEALTH_IMG=cmsd-test/health:latest
TOK_ADMIN="t-admin"
TOK_OPERATOR="t-operator"
TOK_VIEWER="t-viewer"
# An operator under the "ci" policy below: what it may bind or build from lives in POLICY_DIR.
TOK_CI="t-ci"
POLICY_DIR="$WORK_DIR/policy-ok"
# Every container, volume and network a test makes is named with this prefix and labelled, so the
# cleanup never touches anything else on a shared engine.
NAME_PREFIX="cmsdt-$RUN_ID"
AREA=$(basename "$0" .sh)
AREA=${AREA#test_}

# Per-test scratch directory; t() replaces it for each test.
T_TMP=$(mktemp -d "$WORK_DIR/tmp.XXXXXX")

# ---------------------------------------------------------------------------------------------
# Failing a test: the reason goes to a file the runner reads, then the test's subshell exits.

fail() {
        printf '%s\n' "$*" >"$T_TMP/reason"
        exit 1
}

# Shortens a body for a failure message.
short() {
        local s=${1//$'\n'/ }
        if [ "${#s}" -gt 400 ]; then
                s="${s:0:400}..."
        fi
        printf '%s' "$s"
}

# ---------------------------------------------------------------------------------------------
# HTTP to cmsd

# api METHOD PATH [BODY] [TOKEN]
# BODY: JSON text, "@file" for a file, or "" for none. TOKEN: default admin; "-" sends none.
# Sets STATUS (HTTP code, 000 when no answer), BODY, HEADERS, CURL_RC.
# apix CURLOPTS... -- METHOD PATH [BODY] [TOKEN] passes extra curl options (headers, timeouts).
api() {
        apix -- "$@"
}

apix() {
        local extra=() method path body tok args e
        while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
                extra+=("$1")
                shift
        done
        shift
        method=$1 path=$2 body=${3-} tok=${4-$TOK_ADMIN}
        args=(-sS -X "$method" -o "$T_TMP/body" -D "$T_TMP/headers" -w '%{http_code}'
                --max-time "${API_TIMEOUT:-90}")
        if [ "$tok" != - ]; then
                args+=(-H "Authorization: Bearer $tok")
        fi
        if [ -n "$body" ]; then
                args+=(--data-binary "$body")
                if ! printf '%s\n' "${extra[@]}" | grep -qi '^content-type:'; then
                        args+=(-H 'Content-Type: application/json')
                fi
        fi
        for e in "${extra[@]}"; do
                args+=("$e")
        done
        : >"$T_TMP/body"
        : >"$T_TMP/headers"
        STATUS=$(curl "${args[@]}" "$CMSD_URL$path" 2>"$T_TMP/curl_err")
        CURL_RC=$?
        [ -n "$STATUS" ] || STATUS=000
        BODY=$(cat "$T_TMP/body")
        HEADERS=$(tr -d '\r' <"$T_TMP/headers")
        LAST_REQ="$method $path"
        return 0
}

# ---------------------------------------------------------------------------------------------
# Assertions on the last api reply. Each fails the current test with a message saying what was
# expected and what came back.

expect_status() {
        [ "$STATUS" = "$1" ] ||
                fail "$LAST_REQ: expected HTTP $1, got $STATUS: $(short "$BODY")$(curl_note)"
}

curl_note() {
        if [ "${CURL_RC:-0}" -ne 0 ]; then
                printf ' (curl exit %s: %s)' "$CURL_RC" "$(short "$(cat "$T_TMP/curl_err")")"
        fi
}

# expect_json FILTER VALUE: FILTER on the body must give exactly VALUE (a string as is, trailing
# newlines included; anything else as compact JSON, e.g. 3, true, null).
expect_json() {
        local got
        got=$(jq -c "$1" <<<"$BODY" 2>&1) ||
                fail "$LAST_REQ: body is not JSON or filter '$1' failed: $(short "$BODY")"
        jq -e --arg v "$2" "($1) | (if type == \"string\" then . else tojson end) == \$v" \
                <<<"$BODY" >/dev/null 2>&1 ||
                fail "$LAST_REQ: $1 expected $(jq -cn --arg v "$2" '$v'), got $(short "$got")"
}

# expect_jq [--arg N V | --argjson N V]... FILTER [WHAT]: jq -e FILTER on the body must be true.
expect_jq() {
        local jargs=()
        while [ "${1-}" = --arg ] || [ "${1-}" = --argjson ]; do
                jargs+=("$1" "$2" "$3")
                shift 3
        done
        jq -e "${jargs[@]}" "$1" <<<"$BODY" >/dev/null 2>&1 ||
                fail "$LAST_REQ: ${2:-expected $1} in: $(short "$BODY")"
}

# expect_ok [STATUS]: a success envelope with that status (default 200).
expect_ok() {
        expect_status "${1:-200}"
        expect_jq '.success == true and has("data")' "a success envelope"
}

# expect_code CODE: a failure envelope with that stable code whose status matches the HTTP one.
expect_code() {
        expect_jq '.success == false' "a failure envelope"
        expect_json '.error.code' "$1"
        expect_json '.error.status' "$STATUS"
        expect_jq '(.error.message | type) == "string" and (.error.message | length) > 0' \
                "a non-empty error message"
}

# expect_error STATUS CODE
expect_error() {
        expect_status "$1"
        expect_code "$2"
}

# expect_header NAME [REGEX]
expect_header() {
        local line
        line=$(grep -i "^$1:" <<<"$HEADERS" | tail -n 1)
        [ -n "$line" ] || fail "$LAST_REQ: no $1 header in reply (headers: $(short "$HEADERS"))"
        if [ "$#" -ge 2 ]; then
                grep -Eiq "^$1:[[:space:]]*$2" <<<"$line" ||
                        fail "$LAST_REQ: header '$line' does not match '$2'"
        fi
}

header_value() {
        grep -i "^$1:" <<<"$HEADERS" | tail -n 1 | sed -E 's/^[^:]*:[[:space:]]*//'
}

# ---------------------------------------------------------------------------------------------
# The engine, straight through its socket (compat API, the same paths on docker and podman).

# engine_api METHOD PATH [BODY]: sets ESTATUS and EBODY.
engine_api() {
        local args=(-sS -X "$1" -o "$T_TMP/ebody" -w '%{http_code}' --max-time 120
                --unix-socket "$ENGINE_SOCK")
        if [ -n "${3-}" ]; then
                args+=(-H 'Content-Type: application/json' --data-binary "$3")
        fi
        ESTATUS=$(curl "${args[@]}" "http://engine/v1.41$2" 2>/dev/null) || ESTATUS=000
        EBODY=$(cat "$T_TMP/ebody")
}

# engine_inspect ID: the engine's inspect document in EBODY; fails the test when it does not exist.
engine_inspect() {
        engine_api GET "/containers/$1/json"
        [ "$ESTATUS" = 200 ] || fail "engine: inspect $1 -> $ESTATUS $(short "$EBODY")"
}

# engine_gone ID: true when the engine does not know the container.
engine_gone() {
        engine_api GET "/containers/$1/json"
        [ "$ESTATUS" = 404 ]
}

# expect_engine [--arg N V]... FILTER [WHAT]: jq -e FILTER on the last engine document must be true.
expect_engine() {
        local jargs=()
        while [ "${1-}" = --arg ] || [ "${1-}" = --argjson ]; do
                jargs+=("$1" "$2" "$3")
                shift 3
        done
        jq -e "${jargs[@]}" "$1" <<<"$EBODY" >/dev/null 2>&1 ||
                fail "engine ($ENGINE): ${2:-expected $1} in: $(short "$EBODY")"
}

engine_state() {
        engine_api GET "/containers/$1/json"
        jq -r '.State.Status // "missing"' <<<"$EBODY" 2>/dev/null || echo missing
}

# engine_exec ID CMD...: runs CMD in the container with the engine's own CLI (not via cmsd).
# Sets EX_OUT, EX_ERR, EX_RC.
engine_exec() {
        local id=$1
        shift
        local cli
        if [ "$ENGINE" = docker ]; then
                cli=(docker -H "unix://$ENGINE_SOCK")
        else
                cli=(podman --remote --url "unix://$ENGINE_SOCK")
        fi
        "${cli[@]}" exec "$id" "$@" >"$T_TMP/ex_out" 2>"$T_TMP/ex_err" </dev/null
        EX_RC=$?
        EX_OUT=$(cat "$T_TMP/ex_out")
        EX_ERR=$(cat "$T_TMP/ex_err")
}

# engine_cli ARGS...: the engine's CLI pointed at the engine under test.
engine_cli() {
        if [ "$ENGINE" = docker ]; then
                docker -H "unix://$ENGINE_SOCK" "$@"
        else
                podman --remote --url "unix://$ENGINE_SOCK" "$@"
        fi
}

# ---------------------------------------------------------------------------------------------
# Names, configs, waiting

unique() {
        printf '%s-%s-%s%s' "$NAME_PREFIX" "${1:-c}" "$RANDOM" "$RANDOM"
}

# cfg NAME [OVERLAY-JSON]: a ContainerConfig for the test image, labelled for cleanup; OVERLAY is
# merged over it (objects merge recursively).
# A key set to null in OVERLAY is removed (e.g. {"command": null} keeps the image's CMD).
cfg() {
        local over=${2-}
        [ -n "$over" ] || over='{}'
        jq -cn --arg name "$1" --arg img "$IMG" --arg run "$RUN_ID" --argjson over "$over" \
                '{name: $name, image: $img, command: ["sleep", "600"],
                  labels: {"cmsd-test": "1", "cmsd-test-run": $run}} * $over
                 | with_entries(select(.value != null))'
}

# create NAME [OVERLAY] [QUERY]: creates through cmsd, expects 201, sets CID.
create() {
        api POST "/v1/containers${3-}" "$(cfg "$1" "${2-}")"
        expect_ok 201
        CID=$(jq -r '.data.id' <<<"$BODY")
        if [ -z "$CID" ] || [ "$CID" = null ]; then
                fail "create $1: no id in $(short "$BODY")"
        fi
}

# run_c NAME [OVERLAY]: create and start (?start=true); the engine must show it running.
run_c() {
        create "$1" "${2-}" '?start=true'
        wait_for "[ \"\$(engine_state '$CID')\" = running ]" 20 ||
                fail "container $1 not running on the engine after create?start=true"
}

# wait_for CONDITION TIMEOUT_S: evaluates CONDITION every 0.25 s until it is true.
wait_for() {
        local cond=$1 deadline=$((SECONDS + ${2:-20}))
        while :; do
                if eval "$cond"; then
                        return 0
                fi
                [ "$SECONDS" -ge "$deadline" ] && return 1
                sleep 0.25
        done
}

# wait_exited ID [TIMEOUT]
wait_exited() {
        wait_for "[ \"\$(engine_state '$1')\" = exited ]" "${2:-30}" ||
                fail "container $1 did not exit (engine state $(engine_state "$1"))"
}

# free_port: a TCP port no socket uses in any state, taken below the kernel's ephemeral range so
# that an outgoing connection (curl, the engines, a benchmark) cannot grab it meanwhile. With
# PORT_SLOTS=N (engines run side by side) only ports with port % N == PORT_SLOT are taken, so
# the engines' runs never pick the same port between the check here and the bind.
free_port() {
        local lo=32768 p i hex base span slots=${PORT_SLOTS:-1} slot=${PORT_SLOT:-0}
        read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
        base=12000
        span=$((lo - base))
        [ "$span" -gt 1000 ] || { base=1025; span=$((lo - base)); }
        [ "$slots" -ge 1 ] 2>/dev/null || slots=1
        for ((i = 0; i < 200; i++)); do
                p=$((base + (RANDOM * 32768 + RANDOM) % (span / slots) * slots))
                p=$((p + (slot - p % slots + slots) % slots))
                printf -v hex ':%04X ' "$p"
                if ! cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '{ print $2 " " }' | grep -q -- "$hex"; then
                        printf '%s' "$p"
                        return 0
                fi
        done
        return 1
}

# ---------------------------------------------------------------------------------------------
# A private cmsd, for tests that need their own config, engine URL or signals.

# write_config FILE PORT ENGINE_URL [EXTRA_YAML]
write_config() {
        local admin_sha file=$1 state
        admin_sha=$(printf '%s' "$TOK_ADMIN" | sha256sum | cut -d' ' -f1)
        state="$(dirname "$file")/state"
        cat >"$file" <<EOF
listen: ["127.0.0.1:$2"]
engine: "$3"
tokens:
  - {name: admin, role: admin, sha256: "$admin_sha"}
  - {name: operator, role: operator, token: "$TOK_OPERATOR"}
  - {name: viewer, role: viewer, token: "$TOK_VIEWER"}
  - {name: ci, role: operator, token: "$TOK_CI", policy: ci}
policies:
  ci:
    cap_add: [NET_BIND_SERVICE, chown]
    bind_paths: ["$POLICY_DIR"]
    build_paths: ["$POLICY_DIR"]
    images: ["cmsd-test/*", "localhost/cmsd-test/*", "docker.io/cmsd-test/*"]
state_dir: "$state"
log_level: debug
limits: {max_body: 1m}
${4-}
EOF
}

# start_cmsd CONFIG PORT ENGINE_URL: starts a cmsd, waits for /v1/health; sets MY_PID, MY_URL,
# MY_LOG. The test must stop it (stop_cmsd) - t() kills it if the test fails first.
# START_SCHEME=https and START_CURL (extra curl options: CA, client certificate) for TLS.
start_cmsd() {
        local attempt port=$2 conf
        mkdir -p "$(dirname "$1")/state"
        MY_LOG="$T_TMP/private-cmsd.log"
        for attempt in 1 2 3; do
                MY_URL="${START_SCHEME:-http}://127.0.0.1:$port"
                "$CMSD_BIN" --config "$1" --listen "127.0.0.1:$port" --engine "$3" --log-level debug \
                        >>"$MY_LOG" 2>&1 &
                MY_PID=$!
                echo "$MY_PID" >>"$T_TMP/pids"
                if wait_for "curl -sf ${START_CURL-} --max-time 2 '$MY_URL/v1/health' >/dev/null || ! kill -0 $MY_PID 2>/dev/null" 20 &&
                        kill -0 "$MY_PID" 2>/dev/null; then
                        return 0
                fi
                # Someone took the port between free_port and the bind: try another one.
                if ! kill -0 "$MY_PID" 2>/dev/null && tail -n 3 "$MY_LOG" | grep -qi 'address already in use'; then
                        port=$(free_port) || break
                        conf=$(sed -E "s/127\.0\.0\.1:[0-9]+/127.0.0.1:$port/g" "$1")
                        printf '%s\n' "$conf" >"$1"
                        continue
                fi
                break
        done
        fail "private cmsd did not answer /v1/health: $(tail -n 5 "$MY_LOG" | tr '\n' ' ')"
}

# stop_cmsd: SIGTERM, then it must exit 0 within 30 s. Sets MY_RC.
stop_cmsd() {
        kill -TERM "$MY_PID" 2>/dev/null || fail "private cmsd (pid $MY_PID) already gone"
        wait_pid_exit "$MY_PID" 30 || fail "private cmsd did not exit within 30 s of SIGTERM"
        wait "$MY_PID"
        MY_RC=$?
}

wait_pid_exit() {
        wait_for "! kill -0 $1 2>/dev/null" "$2"
}

# with the private cmsd: api against MY_URL instead of the suite's cmsd.
my_api() {
        local CMSD_URL=$MY_URL
        api "$@"
}

# ---------------------------------------------------------------------------------------------
# Runner

# Removes what this run made on the engine (all of it, by the run label and name prefix).
cleanup_engine() {
        local ids id n
        ids=$(curl -sS --max-time 60 --unix-socket "$ENGINE_SOCK" \
                "http://engine/v1.41/containers/json?all=1" 2>/dev/null |
                jq -r --arg run "$RUN_ID" --arg p "/$NAME_PREFIX-" '.[] |
                        select(.Labels["cmsd-test-run"] == $run or any(.Names[]?; startswith($p))) | .Id' \
                        2>/dev/null)
        for id in $ids; do
                curl -sS --max-time 60 --unix-socket "$ENGINE_SOCK" -o /dev/null -X DELETE \
                        "http://engine/v1.41/containers/$id?force=1&v=1" 2>/dev/null
        done
        if [ "${1-}" = all ]; then
                for n in $(curl -sS --max-time 30 --unix-socket "$ENGINE_SOCK" \
                        "http://engine/v1.41/networks" 2>/dev/null |
                        jq -r --arg p "$NAME_PREFIX-" '.[].Name | select(startswith($p))'); do
                        curl -sS --max-time 60 --unix-socket "$ENGINE_SOCK" -o /dev/null \
                                -X DELETE "http://engine/v1.41/networks/$n" 2>/dev/null
                done
                cleanup_images
                for n in $(curl -sS --max-time 30 --unix-socket "$ENGINE_SOCK" \
                        "http://engine/v1.41/volumes" 2>/dev/null |
                        jq -r --arg p "$NAME_PREFIX-" '.Volumes[]?.Name | select(startswith($p))'); do
                        curl -sS --max-time 60 --unix-socket "$ENGINE_SOCK" -o /dev/null \
                                -X DELETE "http://engine/v1.41/volumes/$n?force=1" 2>/dev/null
                done
        fi
}

# Images the run made: tags naming the run's prefix are removed by name (an image that has
# other tags, such as the shared test images, only loses that tag), and untagged images labelled
# with the run by id. Never with force, so nothing another tag or container uses goes.
cleanup_images() {
        local list t id
        list=$(curl -sS --max-time 60 --unix-socket "$ENGINE_SOCK" \
                "http://engine/v1.41/images/json?all=1" 2>/dev/null) || return 0
        for t in $(jq -r --arg p "$NAME_PREFIX" '.[] | (.RepoTags // [])[] | select(contains($p))' \
                <<<"$list" 2>/dev/null); do
                curl -sS --max-time 60 --unix-socket "$ENGINE_SOCK" -o /dev/null -X DELETE \
                        "http://engine/v1.41/images/$(jq -rn --arg t "$t" '$t | @uri')" 2>/dev/null
        done
        for id in $(jq -r --arg run "$RUN_ID" '.[] | select((.Labels // {})["cmsd-test-run"] == $run)
                | select((.RepoTags // []) | map(select(. != "<none>:<none>")) | length == 0) | .Id' \
                <<<"$list" 2>/dev/null); do
                curl -sS --max-time 60 --unix-socket "$ENGINE_SOCK" -o /dev/null -X DELETE \
                        "http://engine/v1.41/images/$id" 2>/dev/null
        done
}

# t NAME FUNC: runs FUNC in a subshell (a failed assertion ends only that test), prints
# "ok - ENGINE AREA.NAME" or "not ok - ENGINE AREA.NAME: reason", records the result and removes
# the test's containers.
t() {
        local name="$AREA.$1" fn=$2 rc reason pid
        if [ -n "${T_ONLY:-}" ] && ! [[ "$name" =~ $T_ONLY ]]; then
                return 0
        fi
        T_TMP=$(mktemp -d "$WORK_DIR/tmp.XXXXXX")
        (
                set -u
                "$fn"
        ) >"$T_TMP/out" 2>&1
        rc=$?
        if [ "$rc" -eq 0 ]; then
                echo "ok - $ENGINE $name"
                echo "ok $ENGINE $name" >>"$RESULTS_FILE"
        else
                if [ -s "$T_TMP/reason" ]; then
                        reason=$(cat "$T_TMP/reason")
                else
                        reason="exited $rc: $(short "$(tail -n 3 "$T_TMP/out")")"
                fi
                echo "not ok - $ENGINE $name: $reason"
                echo "not ok $ENGINE $name" >>"$RESULTS_FILE"
                if [ -s "$T_TMP/out" ]; then
                        sed -e 's/^/    # /' "$T_TMP/out" | tail -n 15
                fi
                if [ -s "$T_TMP/private-cmsd.log" ]; then
                        echo "    # private cmsd log (tail):"
                        sed -e 's/^/    #   /' "$T_TMP/private-cmsd.log" | tail -n 15
                fi
        fi
        # Private cmsd instances a failed test left behind.
        if [ -f "$T_TMP/pids" ]; then
                while read -r pid; do
                        kill -KILL "$pid" 2>/dev/null
                done <"$T_TMP/pids"
        fi
        # T_NO_CLEANUP=1: tests sharing a fixture container (the bad-input table) keep it.
        [ -n "${T_NO_CLEANUP:-}" ] || cleanup_engine
        rm -rf "$T_TMP"
}

# done_file: removes the networks and volumes the file made. Call at the end of every test file.
done_file() {
        cleanup_engine all
        rm -rf "$T_TMP"
}
