#!/usr/bin/env bash
# Runs the black-box integration suite against a real Docker engine and a real Podman API service,
# both at once: one child process per engine, each starting its own cmsd on a free loopback port
# with a generated config, running every tests/integration/test_*.sh against it, stopping it with
# SIGTERM (it must exit 0) and removing what the tests made. Engines are expected to be up already
# (scripts/engines.sh up). The engines' runs share only the test registry started here; each has
# its own RUN_ID (so its own object names, also in the registry), work dir WORK_DIR/ENGINE,
# results file and its own share of the free ports (PORT_SLOT/PORT_SLOTS, see free_port in lib.sh).
# Side by side, each test file's output is held back and printed as one block when the file ends;
# one engine alone, or CMSD_TEST_SERIAL=1, prints as it goes.
#
# usage: tests/integration/run.sh CMSD_BIN
# env:   CMSD_TEST_ENGINES="docker podman" (which engines), CMSD_TEST_SERIAL=1 (one engine after
#        the other instead of side by side: slower, easier to follow when debugging), T_ONLY=REGEX
#        (only tests whose "area.name" matches), CMSD_TEST_FILE_TIMEOUT (s per file, default 900)
# Output: "ok - ENGINE AREA.NAME" / "not ok - ENGINE AREA.NAME: why" lines, then "N passed, M failed"
# summing all engines. The work dir (tests/integration/.work/run-ID) is kept when a test failed.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${1:-}
if [ -z "$bin" ]; then
        echo "usage: $0 CMSD_BIN" >&2
        exit 2
fi
case "$bin" in
/*) ;;
*) bin="$PWD/$bin" ;;
esac

# Work dirs of failed runs are kept for inspection; only the three newest are worth keeping.
if [ -d "$here/.work" ]; then
        find "$here/.work" -maxdepth 1 -name 'run-*' -type d -printf '%T@ %p\n' 2>/dev/null |
                sort -rn | tail -n +4 | cut -d' ' -f2- | while IFS= read -r old; do
                id=${old##*/run-}
                # A run still going (its id starts with its PID) keeps its dir.
                kill -0 "${id:0:${#id}-2}" 2>/dev/null || rm -rf "$old"
        done
fi

RUN_ID=$(printf '%s%02x' "$$" "$((RANDOM % 256))")
WORK_DIR="$here/.work/run-$RUN_ID"
# The run's own records (setup, registry); each engine's child writes WORK_DIR/ENGINE/results.
RESULTS_FILE="$WORK_DIR/results"
mkdir -p "$WORK_DIR"
: >"$RESULTS_FILE"
export RUN_ID WORK_DIR RESULTS_FILE CMSD_BIN="$bin"
TOP_DIR=$WORK_DIR
OUT_LOCK="$TOP_DIR/output.lock"
# BUF: set in an engine's child when engines run side by side; what the child prints collects
# there and goes out as one block (flush) under OUT_LOCK, so the engines' lines never mix.
BUF=

# out: prints stdin, or adds it to the current block.
out() {
        if [ -n "$BUF" ]; then
                cat >>"$BUF"
        else
                cat
        fi
}

# flush: prints the block collected so far, whole.
flush() {
        [ -n "$BUF" ] && [ -s "$BUF" ] || return 0
        if command -v flock >/dev/null 2>&1; then
                flock "$OUT_LOCK" cat "$BUF"
        else
                cat "$BUF"
        fi
        : >"$BUF"
}

record() { # record ok|not-ok ENGINE NAME [WHY]
        if [ "$1" = ok ]; then
                echo "ok - $2 $3" | out
                echo "ok $2 $3" >>"$RESULTS_FILE"
        else
                echo "not ok - $2 $3: ${4-}" | out
                echo "not ok $2 $3" >>"$RESULTS_FILE"
        fi
}

finish() {
        local p f
        declare -f stop_registry >/dev/null && stop_registry
        p=$(cat "$TOP_DIR/results" "$TOP_DIR"/*/results 2>/dev/null | grep -c '^ok ')
        f=$(cat "$TOP_DIR/results" "$TOP_DIR"/*/results 2>/dev/null | grep -c '^not ok ')
        if [ "$f" -eq 0 ]; then
                rm -rf "$TOP_DIR"
        else
                echo "# work dir kept for inspection: $TOP_DIR"
        fi
        echo "$p passed, $f failed"
        [ "$f" -eq 0 ] && [ "$p" -gt 0 ]
        exit
}

missing=()
for tool in curl jq sha256sum timeout; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
        record not-ok all setup "missing tools: ${missing[*]} (run scripts/deps.sh)"
        finish
fi
if [ ! -x "$bin" ]; then
        record not-ok all setup "cmsd binary not found or not executable: $bin"
        finish
fi

# ---------------------------------------------------------------------------------------------
# The test registry for push/pull: Debian's docker-registry on 127.0.0.1, htpasswd credentials
# (so they are really checked) and TLS with a certificate made here. Docker treats 127.0.0.0/8 as
# insecure and takes it as it is; Podman is given the certificate in its per-registry certs.d
# directory, which it reads at each connection (a registries.conf "insecure" entry would only be
# seen after a restart of the Podman service, which the suite must not do).
REGISTRY_PID='' REGISTRY_CERTS_DIR=''
REGISTRY_USER=cmsd-test REGISTRY_PASS="pw-$RUN_ID"

registry_port() {
        local p i hex
        for ((i = 0; i < 100; i++)); do
                p=$((15000 + (RANDOM % 5000)))
                printf -v hex ':%04X ' "$p"
                if ! awk '{ print $2 " " }' /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -q -- "$hex"; then
                        printf '%s' "$p"
                        return 0
                fi
        done
        return 1
}

start_registry() {
        local dir="$WORK_DIR/registry" port i tool
        for tool in docker-registry htpasswd openssl; do
                if ! command -v "$tool" >/dev/null 2>&1; then
                        echo "# $tool missing (scripts/deps.sh installs it)"
                        return 1
                fi
        done
        mkdir -p "$dir/data"
        htpasswd -Bbn "$REGISTRY_USER" "$REGISTRY_PASS" >"$dir/htpasswd" 2>/dev/null || return 1
        openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" \
                -days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
                >/dev/null 2>&1 || return 1
        port=$(registry_port) || return 1
        printf '%s\n' "version: 0.1" "log: {level: warn}" "storage:" \
                "  filesystem: {rootdirectory: \"$dir/data\"}" "  delete: {enabled: true}" \
                "http:" "  addr: 127.0.0.1:$port" \
                "  tls: {certificate: \"$dir/cert.pem\", key: \"$dir/key.pem\"}" \
                "auth:" "  htpasswd: {realm: cmsd-test, path: \"$dir/htpasswd\"}" >"$dir/config.yml"
        REGISTRY_CERTS_DIR="/etc/containers/certs.d/127.0.0.1:$port"
        if [ ! -e "$REGISTRY_CERTS_DIR" ]; then
                mkdir -p "$REGISTRY_CERTS_DIR" && cp "$dir/cert.pem" "$REGISTRY_CERTS_DIR/ca.crt"
        else
                REGISTRY_CERTS_DIR= # someone else's: leave it alone
        fi
        docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
        REGISTRY_PID=$!
        for ((i = 0; i < 40; i++)); do
                if [ "$(curl -sk -o /dev/null -w '%{http_code}' --max-time 2 "https://127.0.0.1:$port/v2/")" = 401 ]; then
                        REGISTRY_ADDR=127.0.0.1:$port
                        export REGISTRY_ADDR REGISTRY_USER REGISTRY_PASS
                        return 0
                fi
                kill -0 "$REGISTRY_PID" 2>/dev/null || break
                sleep 0.25
        done
        echo "# registry did not start: $(tail -n 3 "$dir/log" | tr '\n' ' ')"
        return 1
}

stop_registry() {
        if [ -n "$REGISTRY_PID" ]; then
                kill -TERM "$REGISTRY_PID" 2>/dev/null
                wait "$REGISTRY_PID" 2>/dev/null
                REGISTRY_PID=
        fi
        if [ -n "$REGISTRY_CERTS_DIR" ]; then
                rm -f "$REGISTRY_CERTS_DIR/ca.crt"
                rmdir "$REGISTRY_CERTS_DIR" 2>/dev/null
                REGISTRY_CERTS_DIR=
        fi
}

REGISTRY_ADDR=
export REGISTRY_ADDR
if ! start_registry; then
        record not-ok all registry.starts "the test registry (docker-registry) did not start"
        stop_registry
fi

# Files in the order that makes a failure easiest to read (basic things first); any other
# test_*.sh runs after them.
ordered=(system auth containers_lifecycle containers_config logs exec health_deploy bad_input
        engine_down signals)
files=()
for a in "${ordered[@]}"; do
        [ -f "$here/test_$a.sh" ] && files+=("$here/test_$a.sh")
done
for f in "$here"/test_*.sh; do
        [ -f "$f" ] || continue
        case " ${files[*]} " in
        *" $f "*) ;;
        *) files+=("$f") ;;
        esac
done
for a in "${ordered[@]}"; do
        [ -f "$here/test_$a.sh" ] || record not-ok all "$a" "test file test_$a.sh missing"
done

pings() {
        [ "$(curl -sS --max-time 5 --unix-socket "$1" http://engine/_ping 2>/dev/null)" = OK ]
}

image_present() {
        [ "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 20 --unix-socket "$1" \
                "http://engine/v1.41/images/$2/json" 2>/dev/null)" = 200 ]
}

# start_suite_cmsd: starts the suite's cmsd for $ENGINE; sets CMSD_PID, CMSD_URL.
start_suite_cmsd() {
        local port attempt i
        for attempt in 1 2 3; do
                port=$(free_port) || return 1
                write_config "$edir/cmsd.yaml" "$port" "unix://$ENGINE_SOCK"
                "$bin" --config "$edir/cmsd.yaml" --listen "127.0.0.1:$port" \
                        --engine "unix://$ENGINE_SOCK" --log-level debug >>"$CMSD_LOG" 2>&1 &
                CMSD_PID=$!
                CMSD_URL="http://127.0.0.1:$port"
                export CMSD_PID CMSD_URL
                for ((i = 0; i < 80; i++)); do
                        curl -sf --max-time 2 "$CMSD_URL/v1/health" >/dev/null 2>&1 && return 0
                        kill -0 "$CMSD_PID" 2>/dev/null || break
                        sleep 0.25
                done
                kill -0 "$CMSD_PID" 2>/dev/null && return 1
                # Lost a race for the port: try another one; any other early exit is a failure.
                tail -n 3 "$CMSD_LOG" | grep -qi 'address already in use' || return 1
        done
        return 1
}

log_tail() {
        {
                echo "    # cmsd log ($CMSD_LOG), last lines:"
                tail -n "${1:-40}" "$CMSD_LOG" 2>/dev/null | sed -e 's/^/    #   /'
        } | out
}

file_timeout=${CMSD_TEST_FILE_TIMEOUT:-900}

# Leftovers of runs that were killed before their cleanup: a run's id starts with the PID of its
# run.sh (or of an engine's child, which has the same command line), so a run whose process is
# gone is stale. Runs still going (another user of the same engines) are left.
cleanup_stale() {
        local runs r pid n
        runs=$(curl -sS --max-time 30 --unix-socket "$ENGINE_SOCK" \
                "http://engine/v1.41/containers/json?all=1" 2>/dev/null |
                jq -r '.[] | .Labels["cmsd-test-run"] // empty' 2>/dev/null | sort -u)
        runs+=" $(curl -sS --max-time 30 --unix-socket "$ENGINE_SOCK" "http://engine/v1.41/networks" 2>/dev/null |
                jq -r '.[].Name | capture("^cmsdt-(?<r>[0-9a-f]+)-") | .r' 2>/dev/null)"
        runs+=" $(curl -sS --max-time 30 --unix-socket "$ENGINE_SOCK" "http://engine/v1.41/volumes" 2>/dev/null |
                jq -r '.Volumes[]?.Name | capture("^cmsdt-(?<r>[0-9a-f]+)-") | .r' 2>/dev/null)"
        runs+=" $(curl -sS --max-time 30 --unix-socket "$ENGINE_SOCK" "http://engine/v1.41/images/json" 2>/dev/null |
                jq -r '.[] | (.RepoTags // [])[] | capture("cmsdt-(?<r>[0-9a-f]+)/") | .r' 2>/dev/null)"
        for r in $(tr ' ' '\n' <<<"$runs" | sort -u); do
                if [ "$r" = "$RUN_ID" ] || [ "${#r}" -le 2 ]; then
                        continue
                fi
                pid=${r:0:${#r}-2}
                if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
                        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'integration/run.sh'; then
                        continue
                fi
                n=$(RUN_ID=$r NAME_PREFIX="cmsdt-$r" cleanup_engine all)
                echo "# removed leftovers of an earlier interrupted run ($r) on $ENGINE${n:+: $n}" | out
        done
}

# ---------------------------------------------------------------------------------------------
# One engine's suite. Runs in a child process of its own (a subshell): its own RUN_ID (from the
# child's PID, so that cleanup_stale elsewhere sees it as a live run.sh), WORK_DIR, RESULTS_FILE
# and cmsd. run_engine ENGINE [PORT_SLOT PORT_SLOTS]
run_engine() {
        local img f area rc i t0=$SECONDS
        ENGINE=$1
        PORT_SLOT=${2:-0} PORT_SLOTS=${3:-1}
        case "$ENGINE" in
        docker) ENGINE_SOCK=/var/run/docker.sock ;;
        podman) ENGINE_SOCK=/run/podman/podman.sock ;;
        esac
        # Not $(...): that would be a subshell's PID, gone at once, so the run would look stale.
        printf -v RUN_ID '%s%02x' "$BASHPID" "$((RANDOM % 256))"
        WORK_DIR="$TOP_DIR/$ENGINE"
        RESULTS_FILE="$WORK_DIR/results"
        CMSD_LOG="$WORK_DIR/cmsd.log"
        edir=$WORK_DIR
        mkdir -p "$WORK_DIR"
        : >"$RESULTS_FILE"
        export ENGINE ENGINE_SOCK RUN_ID WORK_DIR RESULTS_FILE CMSD_LOG PORT_SLOT PORT_SLOTS
        CMSD_PID='' FILE_PID=''
        trap on_engine_signal INT TERM

        if ! pings "$ENGINE_SOCK"; then
                record not-ok "$ENGINE" setup "engine does not answer at $ENGINE_SOCK (scripts/engines.sh up)"
                flush
                return
        fi
        for img in cmsd-test/busybox:latest cmsd-test/health:latest; do
                image_present "$ENGINE_SOCK" "$img" ||
                        record not-ok "$ENGINE" setup "test image $img missing (scripts/engines.sh up)"
        done

        # lib.sh gives the config writer and the cleanup; it needs a CMSD_URL to load.
        CMSD_URL="not-started"
        # shellcheck source-path=SCRIPTDIR source=lib.sh
        . "$here/lib.sh"
        cleanup_stale

        if ! start_suite_cmsd; then
                record not-ok "$ENGINE" cmsd.starts "cmsd did not answer GET /v1/health within 20 s"
                log_tail
                kill -KILL "$CMSD_PID" 2>/dev/null
                flush
                return
        fi
        record ok "$ENGINE" cmsd.starts
        flush

        for f in "${files[@]}"; do
                area=$(basename "$f" .sh)
                area=${area#test_}
                # In the background so that a signal is handled at once (bash runs traps only
                # between foreground commands); timeout leads its own process group, so the TERM
                # on_engine_signal sends it reaches the test file and whatever it started.
                if [ -n "$BUF" ]; then
                        timeout -k 10 "$file_timeout" bash "$f" >>"$BUF" 2>&1 &
                else
                        timeout -k 10 "$file_timeout" bash "$f" &
                fi
                FILE_PID=$!
                wait "$FILE_PID"
                rc=$?
                FILE_PID=
                if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
                        record not-ok "$ENGINE" "$area" "test file timed out after ${file_timeout}s"
                elif [ "$rc" -ne 0 ]; then
                        record not-ok "$ENGINE" "$area" "test file exited $rc"
                fi
                if ! kill -0 "$CMSD_PID" 2>/dev/null; then
                        wait "$CMSD_PID"
                        record not-ok "$ENGINE" "cmsd.alive_after_$area" \
                                "cmsd died (exit status $?) during test_$area.sh; restarting it"
                        log_tail
                        start_suite_cmsd || {
                                record not-ok "$ENGINE" cmsd.restart "could not restart cmsd"
                                flush
                                break
                        }
                fi
                flush
        done

        # A clean shutdown is part of the contract: SIGTERM -> drain -> exit status 0.
        if kill -0 "$CMSD_PID" 2>/dev/null; then
                kill -TERM "$CMSD_PID"
                for ((i = 0; i < 120; i++)); do
                        kill -0 "$CMSD_PID" 2>/dev/null || break
                        sleep 0.25
                done
                if kill -0 "$CMSD_PID" 2>/dev/null; then
                        kill -KILL "$CMSD_PID"
                        wait "$CMSD_PID"
                        record not-ok "$ENGINE" cmsd.sigterm_exit0 "still running 30 s after SIGTERM"
                else
                        wait "$CMSD_PID"
                        rc=$?
                        if [ "$rc" -eq 0 ]; then
                                record ok "$ENGINE" cmsd.sigterm_exit0
                        else
                                record not-ok "$ENGINE" cmsd.sigterm_exit0 "exit status $rc after SIGTERM"
                        fi
                fi
        fi
        CMSD_PID=

        cleanup_engine all
        if grep -q '^not ok ' "$RESULTS_FILE"; then
                log_tail 60
        fi
        echo "# $ENGINE: suite done in $((SECONDS - t0)) s" | out
        flush
}

# An engine's child interrupted: stop its test file and cmsd, remove what its tests made.
# shellcheck disable=SC2317 # called by the trap
on_engine_signal() {
        trap '' INT TERM
        if [ -n "${FILE_PID:-}" ]; then
                kill -TERM "$FILE_PID" 2>/dev/null
                wait "$FILE_PID" 2>/dev/null
        fi
        [ -n "${CMSD_PID:-}" ] && kill -TERM "$CMSD_PID" 2>/dev/null
        declare -f cleanup_engine >/dev/null && cleanup_engine all
        echo "# $ENGINE: interrupted, its objects removed" | out
        flush
        exit 130
}

# run.sh interrupted: each engine's child cleans up after itself (by the PIDs started here).
# shellcheck disable=SC2317 # called by the trap
on_signal() {
        local p
        trap '' INT TERM
        echo "# interrupted: cleaning up"
        for p in "${CHILD_PIDS[@]}"; do
                kill -TERM "$p" 2>/dev/null
        done
        for p in "${CHILD_PIDS[@]}"; do
                wait "$p" 2>/dev/null
        done
        stop_registry
        exit 130
}
CHILD_PIDS=()
trap on_signal INT TERM

engines=()
for e in ${CMSD_TEST_ENGINES:-docker podman}; do
        case "$e" in
        docker | podman) engines+=("$e") ;;
        *) record not-ok "$e" setup "unknown engine" ;;
        esac
done

if [ "${CMSD_TEST_SERIAL:-0}" != 0 ] || [ "${#engines[@]}" -le 1 ]; then
        # One after the other, each printing as it goes (still a child each, so that a signal
        # reaches run.sh's trap at once).
        for e in "${engines[@]}"; do
                run_engine "$e" &
                CHILD_PIDS=("$!")
                wait "$!"
        done
else
        # Side by side: each child collects its output in blocks (a test file's lines at a time)
        # and takes its own slot of the port range, so that two free_port calls never meet.
        : >"$OUT_LOCK"
        for i in "${!engines[@]}"; do
                BUF="$TOP_DIR/${engines[$i]}.out"
                : >"$BUF"
                run_engine "${engines[$i]}" "$i" "${#engines[@]}" &
                CHILD_PIDS+=("$!")
        done
        BUF=
        for p in "${CHILD_PIDS[@]}"; do
                wait "$p"
        done
fi

finish
