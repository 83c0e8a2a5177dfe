#!/usr/bin/env bash
# Makes sure a real Docker engine and a real Podman API service answer for the integration suite
# (`up`), and stops afterwards exactly the ones this script started (`down`), by the PIDs it
# recorded. Engines that were already answering belong to someone else and are never touched.
# `up` also writes podman's containers.conf when needed and makes the local test images.
#
# usage: scripts/engines.sh up|down
# env:   ENGINES_STATE_DIR (default tests/integration/.work/engines), ENGINES_WAIT (s, default 60)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state=${ENGINES_STATE_DIR:-$root/tests/integration/.work/engines}
wait_s=${ENGINES_WAIT:-60}
# Overridable only so that the start/stop path can be exercised beside engines already running.
docker_sock=${ENGINES_DOCKER_SOCK:-/var/run/docker.sock}
podman_sock=${ENGINES_PODMAN_SOCK:-/run/podman/podman.sock}

die() {
        echo "engines.sh: $*" >&2
        exit 1
}

pings() {
        local out
        out=$(curl -sS --max-time 5 --unix-socket "$1" http://engine/_ping 2>/dev/null) || return 1
        [ "$out" = OK ]
}

# Podman here cannot raise rlimits (no CAP_SYS_RESOURCE), so its default ulimits must be empty.
podman_conf() {
        local conf=${ENGINES_CONTAINERS_CONF:-/etc/containers/containers.conf} tmp
        if [ ! -e "$conf" ]; then
                mkdir -p "$(dirname "$conf")"
                printf '[containers]\ndefault_ulimits = []\n' >"$conf"
                echo "engines.sh: wrote $conf"
                return
        fi
        if grep -Eq '^[[:space:]]*default_ulimits[[:space:]]*=' "$conf"; then
                # Someone set it on purpose: leave it, but say why podman may fail to start containers.
                grep -Eq '^[[:space:]]*default_ulimits[[:space:]]*=[[:space:]]*\[[[:space:]]*\]' "$conf" ||
                        echo "engines.sh: note: $conf sets non-empty default_ulimits; podman" \
                                "containers cannot start where CAP_SYS_RESOURCE is missing" >&2
                return
        fi
        tmp=$(mktemp)
        if grep -Eq '^[[:space:]]*\[containers\][[:space:]]*$' "$conf"; then
                # Right under the table header, so it cannot land inside another table.
                awk '{ print } /^[[:space:]]*\[containers\][[:space:]]*$/ && !done {
                        print "default_ulimits = []"; done = 1 }' "$conf" >"$tmp"
        else
                # A key before any table header would be top-level: append a new table instead.
                { cat "$conf"; printf '\n[containers]\ndefault_ulimits = []\n'; } >"$tmp"
        fi
        cat "$tmp" >"$conf"
        rm -f "$tmp"
        echo "engines.sh: added default_ulimits = [] to $conf"
}

# start_engine NAME SOCK CMD...: runs CMD detached with its log in the state dir, records the PID.
start_engine() {
        local name=$1 sock=$2 pid i
        shift 2
        command -v "$1" >/dev/null 2>&1 || die "$name: '$1' not installed (run scripts/deps.sh)"
        mkdir -p "$state" "$(dirname "$sock")"
        # A stale socket file from a dead engine would make the new one fail to bind.
        [ -S "$sock" ] && rm -f "$sock"
        setsid "$@" >>"$state/$name.log" 2>&1 </dev/null &
        pid=$!
        echo "$pid" >"$state/$name.pid"
        for ((i = 0; i < wait_s * 4; i++)); do
                pings "$sock" && return 0
                if ! kill -0 "$pid" 2>/dev/null; then
                        rm -f "$state/$name.pid"
                        tail -n 30 "$state/$name.log" >&2 || true
                        die "$name exited before answering at $sock (log: $state/$name.log)"
                fi
                sleep 0.25
        done
        tail -n 30 "$state/$name.log" >&2 || true
        die "$name (pid $pid) did not answer /_ping at $sock within ${wait_s}s (log: $state/$name.log)"
}

up() {
        local docker_note podman_note
        [ "$(id -u)" -eq 0 ] || die "must run as root (starts engines, writes /etc/containers)"
        mkdir -p "$state"
        podman_conf

        if pings "$docker_sock"; then
                docker_note="already running"
        else
                start_engine dockerd "$docker_sock" dockerd --host "unix://$docker_sock" \
                        --pidfile "$state/dockerd.own.pid"
                docker_note="started pid $(cat "$state/dockerd.pid")"
        fi
        if pings "$podman_sock"; then
                podman_note="already running"
        else
                start_engine podman "$podman_sock" podman system service --time=0 \
                        "unix://$podman_sock"
                podman_note="started pid $(cat "$state/podman.pid")"
        fi

        "$root/tests/images/make-images.sh" docker "$docker_sock" ||
                die "could not make the test images on docker"
        "$root/tests/images/make-images.sh" podman "$podman_sock" ||
                die "could not make the test images on podman"
        echo "engines: docker at $docker_sock ($docker_note), podman at $podman_sock ($podman_note)"
}

# The recorded PID must still be the process we started (PIDs get reused): check its command line.
stop_recorded() {
        local name=$1 want=$2 pidfile="$state/$1.pid" pid i
        [ -f "$pidfile" ] || return 0
        pid=$(cat "$pidfile")
        rm -f "$pidfile"
        if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! kill -0 "$pid" 2>/dev/null; then
                echo "$name: not running"
                return 0
        fi
        if ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$want"; then
                echo "$name: pid $pid is no longer $want, left alone"
                return 0
        fi
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 120; i++)); do
                kill -0 "$pid" 2>/dev/null || { echo "$name: stopped pid $pid"; return 0; }
                sleep 0.25
        done
        kill -KILL "$pid" 2>/dev/null || true
        echo "$name: killed pid $pid (did not stop within 30s of SIGTERM)"
}

down() {
        local notes=() out
        out=$(stop_recorded podman "podman system service")
        [ -n "$out" ] && notes+=("$out")
        out=$(stop_recorded dockerd dockerd)
        [ -n "$out" ] && notes+=("$out")
        if [ "${#notes[@]}" -eq 0 ]; then
                echo "engines: nothing to stop (none was started by engines.sh)"
        else
                local IFS=';'
                echo "engines: ${notes[*]}"
        fi
}

case "${1:-}" in
up) up ;;
down) down ;;
*)
        echo "usage: $0 up|down" >&2
        exit 2
        ;;
esac
