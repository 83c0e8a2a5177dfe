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
#   pull      POST /v1/images/pull (as SSE and as one envelope) of a 48 MB image from a local
#             registry (Debian's docker-registry on 127.0.0.1) through a relay slowed to
#             RELAY_KBPS, dockerd killed mid-download; then the engine back and the pull again
#   deploy    POST /v1/deploy killed under twice: while it pulls (another 48 MB image through
#             the relay) and while it waits for health (wait_healthy); then the deploy again
#   snapshot  cmsd killed (-9) during the metrics snapshot's write at shutdown: SNAP_KILLS kills
#             at random offsets of the shutdown with SNAP_CONTAINERS containers sampled, then
#             SNAP_KILLS more with cmsd under strace delaying each fsync by 300 ms, so that every
#             kill lands between the temp file's write and its rename; each outcome counted
#   podman    a private Podman service (own root, runroot, tmp_dir, file locks) killed -9 under
#             a pull (SSE and envelope) and a deploy that pulls; then back: pull and deploy again
#   pcompose  a compose up of a 3-service project on such a private Podman service, killed -9
#             once the up has made its first container; then back: the next up must converge
# For each: what the requests got (status, seconds), whether cmsd stayed up, and what it logged.
#
# usage: bench/faults.sh CMSD_BIN [OUT_FILE]    (run as root; nice -n 10 on a shared machine)
# env:   FOLLOWERS (1000), FOLLOW_SECONDS (20), RELAY_KBPS (3000), SNAP_KILLS (30),
#        SNAP_CONTAINERS (40),
#        SCENARIOS ("create follow compose followers pull deploy snapshot podman pcompose")
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

CMSD_BIN=${1:?usage: bench/faults.sh CMSD_BIN [OUT_FILE]}
OUT=${2:-/dev/stdout}
FOLLOWERS=${FOLLOWERS:-1000}
FOLLOW_SECONDS=${FOLLOW_SECONDS:-20}
SCENARIOS=${SCENARIOS:-create follow compose followers pull deploy snapshot podman pcompose}
RELAY_KBPS=${RELAY_KBPS:-3000}
SNAP_KILLS=${SNAP_KILLS:-30}
SNAP_CONTAINERS=${SNAP_CONTAINERS:-40}
REGISTRY_PID=
RELAY_PID=
PODMAN_PID=
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
        stop_pid "${PODMAN_CMSD:-}" cmsd
        [ -n "${PODMAN_PID:-}" ] && podman_stop
        stop_pid "$RELAY_PID" relay
        stop_pid "$REGISTRY_PID" docker-registry
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

# ---- pull and deploy through a slow local registry ----

# registry_setup: docker-registry on 127.0.0.1:REG_PORT (plain HTTP: Docker takes 127.0.0.0/8 as
# insecure), a relay on 127.0.0.1:RELAY_PORT that passes its bytes on at RELAY_KBPS a connection
# (so that a kill lands in the middle of a download) and counts them in $TMP/relay.bytes, and two
# 48 MB images of random bytes pushed to it (flt/big and flt/big2, one layer each on the test
# image), removed from the engine afterwards so that a pull must fetch them.
registry_setup() {
        [ -n "$REGISTRY_PID" ] && return 0
        REG_PORT=$(free_port) || bench_die "no free port"
        mkdir -p "$TMP/reg" "$TMP/ctx"
        printf '%s\n' "version: 0.1" "log: {level: error}" \
                "storage: {filesystem: {rootdirectory: \"$TMP/reg\"}}" \
                "http: {addr: \"127.0.0.1:$REG_PORT\"}" >"$TMP/reg.yml"
        docker-registry serve "$TMP/reg.yml" >"$TMP/reg.log" 2>&1 &
        REGISTRY_PID=$!
        wait_http "http://127.0.0.1:$REG_PORT/v2/" 10 || bench_die "docker-registry did not start"
        RELAY_PORT=$(free_port) || bench_die "no free port"
        python3 - "$RELAY_PORT" "$REG_PORT" "$RELAY_KBPS" "$TMP/relay.bytes" >"$TMP/relay.log" 2>&1 <<'PY' &
import asyncio, os, sys
port, up, kbps, status = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
total = [0]
async def pipe(r, w, slow):
    try:
        while True:
            d = await r.read(16384)
            if not d:
                break
            w.write(d)
            await w.drain()
            if slow:
                total[0] += len(d)
                with open(status + ".tmp", "w") as f:
                    f.write("%d\n" % total[0])
                os.replace(status + ".tmp", status)
                await asyncio.sleep(len(d) / (kbps * 1000.0))
    except (ConnectionError, OSError):
        pass
    finally:
        w.close()
async def serve(cr, cw):
    try:
        ur, uw = await asyncio.open_connection("127.0.0.1", up)
    except OSError:
        cw.close()
        return
    await asyncio.gather(pipe(cr, uw, False), pipe(ur, cw, True))
async def main():
    srv = await asyncio.start_server(serve, "127.0.0.1", port)
    async with srv:
        await srv.serve_forever()
asyncio.run(main())
PY
        RELAY_PID=$!
        local img
        for img in big big2; do
                head -c $((48 << 20)) /dev/urandom >"$TMP/ctx/blob"
                printf 'FROM %s\nCOPY blob /blob\n' "$IMG" >"$TMP/ctx/Dockerfile"
                DOCKER_BUILDKIT=0 docker -H "unix://$SOCK" build -q -t "127.0.0.1:$REG_PORT/flt/$img:1" \
                        "$TMP/ctx" >/dev/null || bench_die "cannot build flt/$img"
                docker -H "unix://$SOCK" push -q "127.0.0.1:$REG_PORT/flt/$img:1" >/dev/null ||
                        bench_die "cannot push flt/$img to the local registry"
                docker -H "unix://$SOCK" rmi "127.0.0.1:$REG_PORT/flt/$img:1" >/dev/null
        done
        rm -rf "$TMP/ctx"
        docker -H "unix://$SOCK" image prune -f >/dev/null
        wait_http "http://127.0.0.1:$RELAY_PORT/v2/" 10 || bench_die "relay did not start"
}

# relay_bytes: what the relay has passed so far (0 while its file is being rewritten).
relay_bytes() {
        local b
        b=$(cat "$TMP/relay.bytes" 2>/dev/null)
        echo "${b:-0}"
}

# relay_wait BYTES: until the relay has passed BYTES more than now (a download is under way).
relay_wait() {
        local from i
        from=$(relay_bytes)
        for ((i = 0; i < 300; i++)); do
                [ "$(relay_bytes)" -ge $((from + $1)) ] && return 0
                sleep 0.1
        done
        return 1
}

# req_after_kill NAME: "status, ended N ms after the kill" of the request bg_req NAME made.
req_after_kill() {
        local st t
        read -r st t <"$TMP/$1.st"
        echo "$st, ended $((($(cat "$TMP/$1.end") - T_KILL) / 1000000)) ms after the kill"
}

# last_event NAME: the last SSE event of bg_req NAME's body, or (a stream that had not started:
# an envelope) the body's start.
last_event() {
        if grep -q '^event:' "$TMP/$1.body"; then
                echo "last event: $(grep -A1 '^event:' "$TMP/$1.body" | tail -n 2 | tr '\n' ' ' | cut -c1-220)"
        else
                head -c 200 "$TMP/$1.body"
        fi
}

# bg_req NAME ACCEPT METHOD PATH BODY: a request in the background; its status and time in
# $TMP/NAME.st, its body in $TMP/NAME.body, when it ended (ns) in $TMP/NAME.end.
bg_req() {
        (
                curl -sN -o "$TMP/$1.body" -w '%{http_code} %{time_total}\n' -m 300 "${H[@]}" \
                        -H "Accept: $2" -H 'Content-Type: application/json' -X "$3" -d "$5" \
                        "$URL$4" >"$TMP/$1.st"
                date +%s%N >"$TMP/$1.end"
        ) &
        BG_PIDS+=("$!")
}

scenario_pull() {
        registry_setup
        local ref="127.0.0.1:$RELAY_PORT/flt/big:1" body p
        report "== pull: 48 MB through a relay at $RELAY_KBPS kB/s, dockerd killed -9 mid-download"
        body=$(jq -cn --arg i "$ref" '{image: $i}')
        BG_PIDS=()
        B0=$(relay_bytes)
        bg_req pull-sse text/event-stream POST /v1/images/pull "$body"
        bg_req pull-env application/json POST /v1/images/pull "$body"
        relay_wait $((4 << 20)) || report "  (the relay passed under 4 MB in 30 s)"
        report "  killed after $((($(relay_bytes) - B0) >> 20)) of its 48 MB had passed the relay"
        T_KILL=$(date +%s%N)
        dockerd_kill9
        for p in "${BG_PIDS[@]}"; do wait "$p"; done
        report "  SSE pull: $(req_after_kill pull-sse): $(last_event pull-sse)"
        report "  pull (envelope): $(req_after_kill pull-env): $(head -c 220 "$TMP/pull-env.body")"
        cmsd_alive "the kill"
        engine_back
        curl -s -o "$TMP/pull2.body" -w '%{http_code} %{time_total}' -m 300 "${H[@]}" \
                -H 'Content-Type: application/json' -X POST -d "$body" "$URL/v1/images/pull" \
                >"$TMP/pull2.st"
        report "  pull again: $(cat "$TMP/pull2.st") s; image on the engine: $(engine_call "$SOCK" GET "/images/$ref/json" >/dev/null 2>&1 && echo yes || echo NO)"
}

scenario_deploy() {
        registry_setup
        local ref="127.0.0.1:$RELAY_PORT/flt/big2:1" b1 b2 p
        report "== deploy: dockerd killed -9 while a deploy pulls (48 MB via the relay), and while one waits for health"
        b1=$(jq -cn --arg i "$ref" '{name: "flt-dep1", image: $i, command: ["sleep", "600"],
                labels: {"cmsd-faults": "1"}}')
        b2=$(jq -cn --arg i "$IMG" '{name: "flt-dep2", image: $i, command: ["sleep", "600"],
                labels: {"cmsd-faults": "1"}, wait_healthy: "60s",
                health_check: {test: ["CMD-SHELL", "true"], interval: "60s", start_period: "60s"}}')
        BG_PIDS=()
        B0=$(relay_bytes)
        bg_req dep-pull application/json POST /v1/deploy "$b1"
        bg_req dep-health application/json POST /v1/deploy "$b2"
        relay_wait $((4 << 20)) || report "  (the relay passed under 4 MB in 30 s)"
        report "  killed after $((($(relay_bytes) - B0) >> 20)) of its 48 MB had passed the relay"
        T_KILL=$(date +%s%N)
        dockerd_kill9
        for p in "${BG_PIDS[@]}"; do wait "$p"; done
        report "  deploy pulling: $(req_after_kill dep-pull): $(head -c 220 "$TMP/dep-pull.body")"
        report "  deploy waiting for health: $(req_after_kill dep-health): $(head -c 220 "$TMP/dep-health.body")"
        cmsd_alive "the kill"
        engine_back
        curl -s -o "$TMP/dep2.body" -w '%{http_code} %{time_total}' -m 300 "${H[@]}" \
                -H 'Content-Type: application/json' -X POST \
                -d "$(jq -c '. + {replace: true}' <<<"$b1")" "$URL/v1/deploy" >"$TMP/dep2.st"
        report "  deploy again (replace): $(cat "$TMP/dep2.st") s: $(head -c 200 "$TMP/dep2.body")"
        report "  flt-dep1 on the engine: $(engine_call "$SOCK" GET /containers/flt-dep1/json | jq -r .State.Status)"
        # The deploy cut while it waited for health had created its container: what is left.
        report "  flt-dep2 (its deploy cut during the health wait) on the engine: $(engine_call "$SOCK" GET /containers/flt-dep2/json 2>/dev/null | jq -r .State.Status || echo absent)"
}

# ---- cmsd killed during the metrics snapshot's write ----

# snap_state FILE: none, torn, or the SHA-256 of a whole snapshot (its trailer is the SHA-256 of
# the rest, checked here without cmsd).
snap_state() {
        [ -e "$1" ] || { echo none; return; }
        if [ "$(head -c 8 "$1")" = CMSDSNAP ] &&
                [ "$(head -c -32 "$1" | sha256sum | cut -d' ' -f1)" = "$(tail -c 32 "$1" | od -An -tx1 | tr -d " \n")" ]; then
                sha256sum "$1" | cut -d' ' -f1
        else
                echo torn
        fi
}

# snap_cmsd [PREFIX...]: a cmsd of its own (state in $TMP/snap) sampling every 100 ms, started
# under PREFIX (strace); sets SNAP_PID (cmsd's own PID) and SNAP_URL.
snap_cmsd() {
        local port i
        port=$(free_port) || bench_die "no free port"
        mkdir -p "$TMP/snap"
        printf '%s\n' "listen: [\"127.0.0.1:$port\"]" "tokens:" \
                "  - {name: bench, role: admin, token: \"$TOKEN\"}" "state_dir: \"$TMP/snap\"" \
                "log_level: info" "sampler: {interval: 100ms, history: 1h}" >"$TMP/snap.yaml"
        "$@" "$CMSD_BIN" --config "$TMP/snap.yaml" --engine "unix://$SOCK" >>"$TMP/snap.log" 2>&1 &
        SNAP_PID=$!
        SNAP_URL=http://127.0.0.1:$port
        wait_http "$SNAP_URL/v1/health" 20 || bench_die "snapshot cmsd did not start"
        if [ $# -gt 0 ]; then # the PID under strace is strace's: cmsd is its child
                for ((i = 0; i < 50; i++)); do
                        SNAP_PID=$(awk '{ print $1 }' "/proc/$SNAP_PID/task/$SNAP_PID/children" 2>/dev/null)
                        [ -n "$SNAP_PID" ] && break
                        sleep 0.1
                done
        fi
}

# snap_kills N MAX_MS [PREFIX...]: N times a cmsd (under PREFIX) that runs 1 s, gets SIGTERM
# and, a random 0..MAX_MS ms later, SIGKILL; the snapshot checked after each kill.
snap_kills() {
        local n=$1 max=$2 i off now prev old=0 new=0 mid=0 torn=0 parent
        shift 2
        prev=$(snap_state "$TMP/snap/metrics.snapshot")
        for ((i = 0; i < n; i++)); do
                snap_cmsd "$@"
                parent=$!
                sleep 1
                off=$((RANDOM % (max + 1)))
                kill -TERM "$SNAP_PID"
                sleep "$(awk -v m="$off" 'BEGIN { printf "%.3f", m / 1000 }')"
                kill -KILL "$SNAP_PID" 2>/dev/null
                wait "$parent" 2>/dev/null
                [ -e "$TMP/snap/metrics.snapshot.tmp" ] && mid=$((mid + 1))
                now=$(snap_state "$TMP/snap/metrics.snapshot")
                case $now in
                torn | none) torn=$((torn + 1)) ;;
                "$prev") old=$((old + 1)) ;;
                *) new=$((new + 1)) ;;
                esac
                prev=$now
        done
        report "  $n kills: snapshot old and whole $old, new and whole $new, torn or missing $torn; temp file left by the kill $mid"
}

scenario_snapshot() {
        report "== snapshot: cmsd killed -9 while it writes the metrics snapshot at shutdown"
        local i t0 t1 down_ms size
        for ((i = 0; i < SNAP_CONTAINERS; i++)); do
                engine_call "$SOCK" POST "/containers/create?name=flt-snap$i" \
                        "{\"Image\":\"$IMG\",\"Cmd\":[\"sleep\",\"600\"],\"Labels\":{\"cmsd-faults\":\"1\"}}" |
                        jq -r .Id | xargs -I{} curl -s -m 60 --unix-socket "$SOCK" -X POST \
                        "http://engine/$BENCH_API/containers/{}/start"
        done
        snap_cmsd
        sleep 20 # 200 samples a container
        t0=$(date +%s%N)
        kill -TERM "$SNAP_PID"
        wait "$SNAP_PID"
        t1=$(date +%s%N)
        down_ms=$(((t1 - t0) / 1000000))
        size=$(stat -c %s "$TMP/snap/metrics.snapshot" 2>/dev/null || echo 0)
        report "  $SNAP_CONTAINERS containers, 20 s at 100 ms: snapshot $((size / 1024)) kB; a clean shutdown takes $down_ms ms"
        report "  kill at random 0..$((down_ms + 20)) ms after SIGTERM:"
        snap_kills "$SNAP_KILLS" $((down_ms + 20))
        report "  under strace, each fsync delayed 300 ms (kill 0..600 ms after SIGTERM):"
        snap_kills "$SNAP_KILLS" 600 strace -f -qq -o /dev/null -e trace=fsync -e inject=fsync:delay_enter=300000
        snap_cmsd
        local restored
        restored=$(grep -c 'history of [0-9]* containers restored' "$TMP/snap.log")
        report "  starts that restored history: $restored of the $((2 * SNAP_KILLS + 1)) that had a snapshot; refused snapshots: $(grep -c 'snapshot refused' "$TMP/snap.log"); temp file after the last start: $([ -e "$TMP/snap/metrics.snapshot.tmp" ] && echo PRESENT || echo none)"
        curl -s -m 10 "${H[@]}" "$SNAP_URL/v1/containers/flt-snap0/stats?points=36000" >"$TMP/snap.stats"
        report "  flt-snap0's history after it all: $(jq '.data.history | length' "$TMP/snap.stats") points from $(jq -r '.data.history[0].time' "$TMP/snap.stats")"
        stop_pid "$SNAP_PID" cmsd
}

# ---- a private Podman service killed under a pull and a deploy ----

# podman_start: a Podman API service of its own under $DD/p: its own root, runroot, tmp_dir,
# network config dir, file locks (not the shared /dev/shm/libpod_lock of the host's Podman),
# vfs storage, and the relay's address as an insecure (HTTP) registry; sets PODMAN_PID.
podman_start() {
        local pd="$DD/p" i
        mkdir -p "$pd/tmp" "$pd/net"
        printf '%s\n' "[containers]" "default_ulimits = []" "[engine]" 'lock_type = "file"' \
                'events_logger = "file"' 'cgroup_manager = "cgroupfs"' "tmp_dir = \"$pd/tmp\"" \
                "[network]" "network_config_dir = \"$pd/net\"" >"$pd/containers.conf"
        : >"$pd/registries.conf"
        [ -n "${RELAY_PORT:-}" ] && printf '%s\n' "[[registry]]" \
                "location = \"127.0.0.1:$RELAY_PORT\"" "insecure = true" >"$pd/registries.conf"
        rm -f "$pd/podman.sock"
        CONTAINERS_CONF="$pd/containers.conf" CONTAINERS_REGISTRIES_CONF="$pd/registries.conf" \
                podman --root "$pd/root" --runroot "$pd/run" --storage-driver vfs \
                system service --time=0 "unix://$pd/podman.sock" >>"$TMP/podman.log" 2>&1 &
        PODMAN_PID=$!
        PSOCK="$pd/podman.sock"
        for ((i = 0; i < 300; i++)); do
                engine_up "$PSOCK" && return 0
                sleep 0.1
        done
        tail -n 5 "$TMP/podman.log" >&2
        bench_die "private podman service did not answer within 30 s"
}

podman_stop() {
        stop_pid "$PODMAN_PID" podman
        PODMAN_PID=
        local c pid
        for c in /proc/[0-9]*/cmdline; do # conmon of the private service's containers
                pid=${c#/proc/}
                pid=${pid%/cmdline}
                if { tr '\0' ' ' <"$c"; } 2>/dev/null | grep -q "^/usr/bin/conmon .*$DD/p/"; then
                        stop_pid "$pid" conmon
                fi
        done
}

scenario_podman() {
        registry_setup
        local durl=$URL body b2 p
        report "== podman: a private Podman service killed -9 under a pull (SSE and envelope), a deploy that pulls, a log follow and a create loop"
        # The cleanup stops the docker cmsd by CMSD_PID: this one is PODMAN_CMSD.
        podman_cmsd
        URL=$PURL
        local c='{"image": $i, command: $c, network: {network: "none"}, labels: {"cmsd-faults": "1"}}'
        body=$(jq -cn --arg i "127.0.0.1:$RELAY_PORT/flt/big:1" '{image: $i}')
        b2=$(jq -cn --arg i "127.0.0.1:$RELAY_PORT/flt/big2:1" --argjson c '["sleep", "600"]' \
                "$c + {name: \"flt-pdep\"}")
        curl -s -o "$TMP/pbusy.body" -m 60 "${H[@]}" -H 'Content-Type: application/json' -X POST \
                -d "$(jq -cn --arg i "$IMG" --argjson c '["sh", "-c", "while :; do echo busy; sleep 0.01; done"]' \
                        "$c + {name: \"flt-pbusy\"}")" "$URL/v1/containers?start=true"
        BG_PIDS=()
        B0=$(relay_bytes)
        bg_req p-sse text/event-stream POST /v1/images/pull "$body"
        bg_req p-env application/json POST /v1/images/pull "$body"
        bg_req p-dep application/json POST /v1/deploy "$b2"
        (
                curl -sN -o "$TMP/p-follow.body" -w '%{http_code} %{time_total}\n' -m 300 "${H[@]}" \
                        -H 'Accept: text/event-stream' "$URL/v1/containers/flt-pbusy/logs?follow=true&tail=1" \
                        >"$TMP/p-follow.st"
                date +%s%N >"$TMP/p-follow.end"
        ) &
        BG_PIDS+=("$!")
        (
                for i in $(seq 1 500); do
                        curl -s -o "$TMP/pc.body" -w "%{http_code} %{time_total} $i" -m 60 "${H[@]}" \
                                -H 'Content-Type: application/json' -X POST \
                                -d "$(jq -cn --arg i "$IMG" --argjson c '["sleep", "600"]' "$c + {name: \"flt-pc$i\"}")" \
                                "$URL/v1/containers?start=true"
                        echo " $(date +%s%N) $(head -c 160 "$TMP/pc.body")"
                        sleep 0.5
                done
        ) >"$TMP/pcreate.out" 2>&1 &
        local loop=$!
        relay_wait $((8 << 20)) || report "  (the relay passed under 8 MB in 30 s)"
        report "  killed after $((($(relay_bytes) - B0) >> 20)) MB of the two 48 MB downloads had passed the relay, $(grep -c '^201 ' "$TMP/pcreate.out") containers created by the loop"
        T_KILL=$(date +%s%N)
        kill -KILL "$PODMAN_PID"
        wait "$PODMAN_PID" 2>/dev/null
        for p in "${BG_PIDS[@]}"; do wait "$p"; done
        sleep 3
        kill "$loop" 2>/dev/null
        wait "$loop" 2>/dev/null
        report "  SSE pull: $(req_after_kill p-sse): $(last_event p-sse)"
        report "  pull (envelope): $(req_after_kill p-env): $(head -c 200 "$TMP/p-env.body")"
        report "  deploy pulling: $(req_after_kill p-dep): $(head -c 200 "$TMP/p-dep.body")"
        report "  log follow: $(req_after_kill p-follow): $(last_event p-follow)"
        report "  create loop, the first requests after the kill (status s n, ms after the kill, body):"
        awk -v k="$T_KILL" '$4 >= k { printf "    %s %s %s, ended %d ms after, ", $1, $2, $3, ($4 - k) / 1e6; $1 = $2 = $3 = $4 = ""; print substr($0, 5) }' \
                "$TMP/pcreate.out" | head -n 3 | cut -c1-230 | tee -a "$TMP/report" >&2
        local st
        st=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$URL/v1/health")
        report "  cmsd after the kill: $(kill -0 "$PODMAN_CMSD" 2>/dev/null && echo up || echo DOWN), /v1/health $st"
        podman_start
        curl -s -o "$TMP/p2.body" -w '%{http_code} %{time_total}' -m 300 "${H[@]}" \
                -H 'Content-Type: application/json' -X POST -d "$body" "$URL/v1/images/pull" \
                >"$TMP/p2.st"
        report "  engine back; pull again: $(cat "$TMP/p2.st") s: $(head -c 120 "$TMP/p2.body")"
        curl -s -o "$TMP/p3.body" -w '%{http_code} %{time_total}' -m 300 "${H[@]}" \
                -H 'Content-Type: application/json' -X POST -d "$b2" "$URL/v1/deploy" >"$TMP/p3.st"
        report "  deploy again: $(cat "$TMP/p3.st") s: $(head -c 200 "$TMP/p3.body")"
        curl -s -o "$TMP/p4.body" -w '%{http_code} %{time_total}' -m 60 "${H[@]}" \
                -H 'Content-Type: application/json' -X POST \
                -d "$(jq -cn --arg i "$IMG" --argjson c '["sleep", "600"]' "$c + {name: \"flt-pc-after\"}")" \
                "$URL/v1/containers?start=true" >"$TMP/p4.st"
        report "  create again: $(cat "$TMP/p4.st") s: $(head -c 120 "$TMP/p4.body")"
        podman_cmsd_stop
        URL=$durl
}

# podman_cmsd: the private Podman service, a cmsd on it (PODMAN_CMSD, PURL; CMSD_PID, PORT and
# URL stay the docker cmsd's) and the test image copied into it from the private dockerd (it
# loads as localhost/NAME).
podman_cmsd() {
        local dcmsd=$CMSD_PID dport=$PORT
        podman_start
        bench_start_cmsd podman "$PSOCK" admin || bench_die "cmsd on podman did not start"
        PODMAN_CMSD=$CMSD_PID PURL="http://127.0.0.1:$PORT" CMSD_PID=$dcmsd PORT=$dport
        docker -H "unix://$SOCK" save "$IMG" | curl -sS --fail -m 120 --unix-socket "$PSOCK" \
                -X POST -H 'Content-Type: application/x-tar' --data-binary @- -o /dev/null \
                "http://engine/$BENCH_API/images/load" &&
                engine_call "$PSOCK" GET "/images/$IMG/json" >/dev/null ||
                bench_die "cannot copy $IMG into the private Podman"
}

# podman_cmsd_stop: the private Podman's containers removed, its cmsd and the service stopped.
podman_cmsd_stop() {
        local id
        for id in $(engine_call "$PSOCK" GET '/containers/json?all=1' | jq -r '.[].Id'); do
                engine_call "$PSOCK" DELETE "/containers/$id?force=1" >/dev/null 2>&1
        done
        stop_pid "$PODMAN_CMSD" cmsd
        PODMAN_CMSD=
        podman_stop
}

# pproject_count: the containers of flt-pproj on the private Podman (running with "running").
pproject_count() {
        local f
        f=$(jq -rn '{label: ["com.docker.compose.project=flt-pproj"]} | tojson | @uri')
        engine_call "$PSOCK" GET "/containers/json?filters=$f$([ "${1:-}" = running ] || echo '&all=1')" |
                jq length 2>/dev/null || echo "?"
}

scenario_pcompose() {
        report "== pcompose: a compose up of a 3-service project on a private Podman service, killed -9 once the up made its first container; then the service back and up again"
        local p=flt-pproj yml i n st
        podman_cmsd
        # network_mode none: no project network, so no bridge that could clash with the host
        # Podman's (this service has its own network config dir, and so its own bridge names).
        yml="services:
  a: {image: $IMG, command: [sleep, '600'], network_mode: none}
  b: {image: $IMG, command: [sleep, '600'], network_mode: none, depends_on: [a]}
  c: {image: $IMG, command: [sleep, '600'], network_mode: none, depends_on: [b]}"
        jq -n --arg n "$p" --arg c "$yml" '{name: $n, compose: $c}' >"$TMP/pup.json"
        (
                curl -s -o "$TMP/pup1.body" -w '%{http_code} %{time_total}\n' -m 120 "${H[@]}" \
                        -H 'Content-Type: application/json' -X POST --data-binary "@$TMP/pup.json" \
                        "$PURL/v1/projects" >"$TMP/pup1.st"
                date +%s%N >"$TMP/pup1.end"
        ) &
        local upid=$!
        for ((i = 0; i < 200; i++)); do
                n=$(pproject_count)
                [ "$n" != "?" ] && [ "$n" -ge 1 ] && break
                sleep 0.05
        done
        T_KILL=$(date +%s%N)
        kill -KILL "$PODMAN_PID"
        wait "$PODMAN_PID" 2>/dev/null
        wait "$upid"
        report "  killed with $n container(s) of the project made; the up: $(cut -d' ' -f1 "$TMP/pup1.st"), ended $((($(cat "$TMP/pup1.end") - T_KILL) / 1000000)) ms after the kill: $(head -c 220 "$TMP/pup1.body")"
        st=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$PURL/v1/health")
        report "  cmsd after the kill: $(kill -0 "$PODMAN_CMSD" 2>/dev/null && echo up || echo DOWN), /v1/health $st"
        podman_start
        curl -s -o "$TMP/pup2.body" -w '%{http_code} %{time_total}' -m 120 "${H[@]}" \
                -H 'Content-Type: application/json' -X POST --data-binary "@$TMP/pup.json" \
                "$PURL/v1/projects" >"$TMP/pup2.st"
        report "  service back; next up: $(cat "$TMP/pup2.st") s: $(jq -c '[.data.containers[]? | "\(.service) \(.action)"]' "$TMP/pup2.body" 2>/dev/null | head -c 300)"
        report "  containers of the project: $(pproject_count running) running of $(pproject_count) (the file has 3)"
        curl -s -o "$TMP/pdown.body" -w '%{http_code}' -m 120 "${H[@]}" -H 'Content-Type: application/json' \
                -X POST -d '{}' "$PURL/v1/projects/$p/down" >"$TMP/pdown.st"
        report "  down: $(cat "$TMP/pdown.st"); containers left: $(pproject_count)"
        podman_cmsd_stop
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
