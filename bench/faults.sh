#!/usr/bin/env bash
# The long fault runs of issue #15 (the quick ones are rows of tests/integration/test_faults.sh),
# all against a PRIVATE dockerd this script starts (its own data-root, exec-root, socket,
# pidfile and bridge, --iptables=false) and kills - never a shared engine:
#   create    POST /v1/containers?start=true in a loop, dockerd killed (-9) under it
#   follow    a log follow (SSE) of a busy container, dockerd killed under it
#   compose   a compose up of a 3-service project, dockerd killed under it; then the engine comes
#             back and the next up must converge the project to its file
#   followers N clients (default 1000) following a busy container's logs and reading slowly:
#             cmsd's memory per stream, and whether other requests are still served
# For each: what the requests got (status, seconds), whether cmsd stayed up, and what it logged.
#
# usage: bench/faults.sh CMSD_BIN [OUT_FILE]    (run as root; nice -n 10 on a shared machine)
# env:   FOLLOWERS (1000), FOLLOW_SECONDS (20), SCENARIOS ("create follow compose followers")
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

CMSD_BIN=${1:?usage: bench/faults.sh CMSD_BIN [OUT_FILE]}
OUT=${2:-/dev/stdout}
FOLLOWERS=${FOLLOWERS:-1000}
FOLLOW_SECONDS=${FOLLOW_SECONDS:-20}
SCENARIOS=${SCENARIOS:-create follow compose followers}
TOKEN=bench-faults-token
LOG_LEVEL=info
IMG=cmsd-test/busybox:latest
TMP=$(mktemp -d)
DD="$TMP/d" # the private dockerd's files (short: socket paths are limited to 107 bytes)
SOCK="$DD/docker.sock"
BRIDGE="cmsdf$((RANDOM % 10000))"
DOCKERD_PID=
CMSD_PID=
mkdir -p "$DD"
[ "$(id -u)" = 0 ] || bench_die "needs root (a private dockerd)"
command -v python3 >/dev/null || bench_die "needs python3 (the slow followers)"

report() { printf '%s\n' "$*" | tee -a "$TMP/report" >&2; }

dockerd_start() {
        rm -f "$DD/docker.pid"
        dockerd --data-root "$DD/data" --exec-root "$DD/x" -H "unix://$SOCK" \
                --pidfile "$DD/docker.pid" --iptables=false --ip-masq=false --bridge="$BRIDGE" \
                >>"$TMP/dockerd.log" 2>&1 &
        DOCKERD_PID=$!
        local i
        for ((i = 0; i < 300; i++)); do
                engine_up "$SOCK" && return 0
                sleep 0.1
        done
        tail -n 5 "$TMP/dockerd.log" >&2
        bench_die "private dockerd did not answer within 30 s"
}

dockerd_kill9() {
        kill -KILL "$DOCKERD_PID" 2>/dev/null
        wait "$DOCKERD_PID" 2>/dev/null
        DOCKERD_PID=
        rm -f "$DD/docker.pid"
        sleep 3 # its containerd notices
}

cleanup() {
        stop_pid "$CMSD_PID" cmsd
        if [ -n "$DOCKERD_PID" ] && engine_up "$SOCK"; then
                for id in $(engine_call "$SOCK" GET '/containers/json?all=1' | jq -r '.[].Id'); do
                        engine_call "$SOCK" DELETE "/containers/$id?force=1" >/dev/null 2>&1
                done
        fi
        stop_pid "$DOCKERD_PID" dockerd
        local cpid
        cpid=$(cat "$DD/x/containerd/containerd.pid" 2>/dev/null)
        # The private dockerd's own containerd (its pidfile is under our exec-root).
        if [ -n "$cpid" ] && grep -q "$DD" "/proc/$cpid/cmdline" 2>/dev/null; then
                stop_pid "$cpid" containerd
        fi
        # The shims of containers a killed dockerd left behind: theirs is our containerd's address.
        local c pid
        for c in /proc/[0-9]*/cmdline; do
                pid=${c#/proc/}
                pid=${pid%/cmdline}
                if { tr '\0' ' ' <"$c"; } 2>/dev/null | grep -q "containerd-shim.* -address $DD/x/"; then
                        stop_pid "$pid" containerd-shim
                fi
        done
        ip link del "$BRIDGE" 2>/dev/null
        grep " $DD" /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l 2>/dev/null
        cp "$TMP/report" "$TMP/../cmsd-faults-report.$$" 2>/dev/null
        rm -rf "$TMP"
}
trap cleanup EXIT

setup() {
        ip link add "$BRIDGE" type bridge || bench_die "cannot make bridge $BRIDGE"
        ip addr add "10.231.$((RANDOM % 250)).1/24" dev "$BRIDGE"
        ip link set "$BRIDGE" up
        dockerd_start
        # The test image, copied from the shared Docker (read only there).
        docker save "$IMG" | docker -H "unix://$SOCK" load >/dev/null ||
                bench_die "cannot copy $IMG into the private engine"
        bench_start_cmsd docker "$SOCK" admin || bench_die "cmsd did not start"
        sed -i 's/^limits: .*/limits: {max_connections_per_ip: 4096, max_connections: 4096, max_streams: 4096, max_streams_per_token: 4096, request_timeout: 10s}/' \
                "$TMP/cmsd-docker.yaml"
        kill -HUP "$CMSD_PID"
        sleep 1
        URL="http://127.0.0.1:$PORT"
}

H=(-H "Authorization: Bearer $TOKEN")

# cmsd_alive WHAT: records whether cmsd is still up and answering /v1/health.
cmsd_alive() {
        local st
        st=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$URL/v1/health")
        if kill -0 "$CMSD_PID" 2>/dev/null && [ "$st" = 200 ]; then
                report "  cmsd after $1: up, /v1/health $st"
        else
                report "  cmsd after $1: DOWN or not answering (health $st)"
        fi
}

engine_back() {
        dockerd_start
        local t0=$SECONDS st
        for ((i = 0; i < 100; i++)); do
                st=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "${H[@]}" "$URL/v1/containers")
                [ "$st" = 200 ] && break
                sleep 0.2
        done
        report "  engine back: GET /v1/containers $st after $((SECONDS - t0)) s"
}

scenario_create() {
        report "== create: POST /v1/containers?start=true in a loop, dockerd killed -9 after 3 s"
        (
                for i in $(seq 1 200); do
                        curl -s -o "$TMP/create.body" -w "%{http_code} %{time_total} $i\n" -m 60 \
                                "${H[@]}" -H 'Content-Type: application/json' -X POST \
                                -d "{\"name\":\"flt-c$i\",\"image\":\"$IMG\",\"command\":[\"sleep\",\"600\"]}" \
                                "$URL/v1/containers?start=true"
                        st=$(tail -c 300 "$TMP/create.body")
                        echo "    body: $st"
                done
        ) >"$TMP/create.out" 2>&1 &
        local loop=$!
        sleep 3
        local t_kill
        t_kill=$(date +%s.%N)
        dockerd_kill9
        sleep 5
        kill "$loop" 2>/dev/null
        wait "$loop" 2>/dev/null
        report "  dockerd killed at +3 s; requests around the kill (status seconds n):"
        grep -v '^    body' "$TMP/create.out" | awk '$1 != 201' | head -n 4 | sed 's/^/    /' |
                tee -a "$TMP/report" >&2
        grep '^    body' "$TMP/create.out" | grep -v '"success":true' | head -n 2 | cut -c1-220 |
                tee -a "$TMP/report" >&2
        report "  created before the kill: $(grep -c '^201 ' "$TMP/create.out")"
        cmsd_alive "the kill"
        engine_back
}

scenario_follow() {
        report "== follow: a log follow (SSE) of a busy container, dockerd killed -9 under it"
        local id t0 t1
        id=$(engine_call "$SOCK" POST /containers/create?name=flt-busy \
                "{\"Image\":\"$IMG\",\"Cmd\":[\"sh\",\"-c\",\"while :; do echo busy; done\"]}" | jq -r .Id)
        engine_call "$SOCK" POST "/containers/$id/start" >/dev/null
        (
                curl -sN -m 120 "${H[@]}" -H 'Accept: text/event-stream' \
                        "$URL/v1/containers/$id/logs?follow=true&tail=1" -o "$TMP/follow.out"
                date +%s%N >"$TMP/follow.end"
        ) &
        local cpid=$!
        sleep 2
        t0=$(date +%s%N)
        dockerd_kill9
        wait "$cpid"
        t1=$(cat "$TMP/follow.end")
        report "  stream ended $(((t1 - t0) / 1000000)) ms after the kill"
        report "  last event: $(grep '^event:' "$TMP/follow.out" | tail -n 1) $(grep '^data:' "$TMP/follow.out" | tail -n 1 | cut -c1-160)"
        cmsd_alive "the kill"
        engine_back
}

scenario_compose() {
        report "== compose: up of a 3-service project, dockerd killed -9 during it; then up again"
        local p=flt-proj yml
        yml="services:
  a: {image: $IMG, command: [sleep, '600'], labels: {cmsd-faults: '1'}}
  b: {image: $IMG, command: [sleep, '600'], labels: {cmsd-faults: '1'}, depends_on: [a]}
  c: {image: $IMG, command: [sleep, '600'], labels: {cmsd-faults: '1'}, depends_on: [b]}"
        jq -n --arg n "$p" --arg c "$yml" '{name: $n, compose: $c}' >"$TMP/up.json"
        curl -s -o "$TMP/up1.body" -w '%{http_code} %{time_total}\n' -m 120 "${H[@]}" \
                -H 'Content-Type: application/json' -X POST --data-binary "@$TMP/up.json" \
                "$URL/v1/projects" >"$TMP/up1.st" &
        local upid=$!
        sleep 0.4
        dockerd_kill9
        wait "$upid"
        report "  up during the kill: $(cat "$TMP/up1.st") $(head -c 220 "$TMP/up1.body")"
        cmsd_alive "the kill"
        engine_back
        curl -s -o "$TMP/up2.body" -w '%{http_code} %{time_total}\n' -m 120 "${H[@]}" \
                -H 'Content-Type: application/json' -X POST --data-binary "@$TMP/up.json" \
                "$URL/v1/projects" >"$TMP/up2.st"
        local running
        running=$(engine_call "$SOCK" GET '/containers/json' |
                jq --arg p "$p" '[.[] | select(.Labels["com.docker.compose.project"] == $p)] | length')
        report "  next up: $(cat "$TMP/up2.st") $(head -c 300 "$TMP/up2.body"); running containers of the project: $running of 3"
        curl -s -o /dev/null -m 120 "${H[@]}" -H 'Content-Type: application/json' -X POST -d '{}' \
                "$URL/v1/projects/$p/down"
}

scenario_followers() {
        report "== followers: $FOLLOWERS clients following a busy container's logs, reading 512 B/s each"
        local id rss0 rss1 thr0 thr1 fd0 fd1
        id=$(engine_call "$SOCK" POST /containers/create?name=flt-chatty \
                "{\"Image\":\"$IMG\",\"Cmd\":[\"sh\",\"-c\",\"while :; do echo 0123456789012345678901234567890123456789012345678901234567890123456789; done\"]}" | jq -r .Id)
        engine_call "$SOCK" POST "/containers/$id/start" >/dev/null
        rss0=$(proc_kb "$CMSD_PID" VmRSS)
        thr0=$(ls "/proc/$CMSD_PID/task" | wc -l)
        fd0=$(ls "/proc/$CMSD_PID/fd" | wc -l)
        python3 - "$PORT" "$TOKEN" "$id" "$FOLLOWERS" "$FOLLOW_SECONDS" "$TMP/n200" >"$TMP/followers.out" 2>&1 <<'PY' &
import socket, sys, time, selectors
port, token, cid, n, secs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
sel = selectors.DefaultSelector()
socks = []
req = ("GET /v1/containers/%s/logs?follow=true&tail=0 HTTP/1.1\r\nHost: x\r\n"
       "Authorization: Bearer %s\r\nAccept: application/x-ndjson\r\n\r\n" % (cid, token)).encode()
for i in range(n):
    s = socket.create_connection(("127.0.0.1", int(port)))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(req)
    socks.append(s)
got = [0] * n
status = [b""] * n
end = time.time() + secs
while time.time() < end:
    for i, s in enumerate(socks):  # 512 bytes a second each: slow readers
        s.setblocking(False)
        try:
            d = s.recv(512)
            if not got[i]:
                status[i] = d.split(b" ", 2)[1] if d.startswith(b"HTTP/") else b"?"
            got[i] += len(d)
        except BlockingIOError:
            pass
    time.sleep(1)
codes = {}
for c in status:
    codes[c.decode()] = codes.get(c.decode(), 0) + 1
ok = [g for g, c in zip(got, status) if c == b"200"]
open(sys.argv[6], "w").write("%d\n" % len(ok))
print("opened", n, "streams, statuses", codes, "; bytes read per 200 stream: min",
      min(ok) if ok else 0, "max", max(ok) if ok else 0)
for s in socks:
    s.close()
PY
        local fpid=$!
        sleep $((FOLLOW_SECONDS / 2 + 3))
        rss1=$(proc_kb "$CMSD_PID" VmRSS)
        thr1=$(ls "/proc/$CMSD_PID/task" | wc -l)
        fd1=$(ls "/proc/$CMSD_PID/fd" | wc -l)
        local hl il
        hl=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -m 10 "$URL/v1/health")
        il=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -m 30 "${H[@]}" "$URL/v1/containers")
        wait "$fpid"
        report "  $(cat "$TMP/followers.out")"
        local n200
        n200=$(cat "$TMP/n200" 2>/dev/null || echo 0)
        [ "$n200" -gt 0 ] || n200=1
        report "  cmsd RSS ${rss0} kB -> ${rss1} kB with $n200 streams open: $(((rss1 - rss0) / n200)) kB a stream"
        report "  (a 503 is a handler past the 16 workers + 256 extra threads at the same instant: Retry-After)"
        report "  threads $thr0 -> $thr1, fds $fd0 -> $fd1"
        report "  while open: /v1/health $hl s, GET /v1/containers $il s"
        sleep 5
        report "  after they left: RSS $(proc_kb "$CMSD_PID" VmRSS) kB, threads $(ls "/proc/$CMSD_PID/task" | wc -l), fds $(ls "/proc/$CMSD_PID/fd" | wc -l)"
        cmsd_alive "the followers"
}

setup
report "# bench/faults.sh $(date -u +%Y-%m-%dT%H:%MZ), cmsd $("$CMSD_BIN" --version 2>/dev/null | head -n 1), private dockerd $(dockerd --version | cut -d' ' -f3 | tr -d ,)"
for s in $SCENARIOS; do
        "scenario_$s"
done
report "== cmsd log: lines at warn or error"
grep -E ' (warn|error) ' "$TMP/cmsd-docker.log" | cut -c1-200 | sort -k3 | uniq -c -f2 | sort -rn |
        head -n 12 | sed 's/^/  /' | tee -a "$TMP/report" >&2
sed "s|$TMP|\$TMP|g" "$TMP/report" >"$OUT"
