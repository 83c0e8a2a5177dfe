#!/usr/bin/env bash
# Soak (issue #15 part 3): a mixed load at CONNS concurrent connections against a cmsd on a real
# engine for MINUTES: lists, inspects, /metrics, /v1/metrics with since, log follows opened and
# dropped, events streams opened and dropped, container create/start/stop/remove churn, compose
# up/down of a small project in a loop, and SIGHUP reloads every 30 s. Reports requests by route
# and status, p50/p99 per route, and cmsd's RSS, open fds and threads sampled every 10 s (with the
# change from the first sample after warm-up to the last). Everything it makes on the engine is
# named soak-PID-* and labelled cmsd-soak=PID, and removed by that label at the end.
#
# usage: bench/soak.sh CMSD_BIN [MINUTES] [OUT_FILE]   (MINUTES default 10; nice -n 10 on a shared
#        machine). env: CONNS (200), ENGINE_SOCK (/var/run/docker.sock), WARMUP_S (60)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

CMSD_BIN=${1:?usage: bench/soak.sh CMSD_BIN [MINUTES] [OUT_FILE]}
MINUTES=${2:-10}
OUT=${3:-}
CONNS=${CONNS:-200}
WARMUP_S=${WARMUP_S:-60}
SOCK=${ENGINE_SOCK:-/var/run/docker.sock}
IMG=cmsd-test/busybox:latest
TOKEN=soak-token
LOG_LEVEL=info
TMP=$(mktemp -d)
TAG="soak-$$"
CMSD_PID=
engine_up "$SOCK" || bench_die "no engine at $SOCK"
command -v python3 >/dev/null || bench_die "needs python3 (the load generator)"

cleanup() {
        stop_pid "$CMSD_PID" cmsd
        local f id
        f=$(jq -rn --arg l "cmsd-soak=$$" '{label: [$l]} | tojson | @uri')
        for id in $(engine_call "$SOCK" GET "/containers/json?all=1&filters=$f" | jq -r '.[].Id'); do
                engine_call "$SOCK" DELETE "/containers/$id?force=1" >/dev/null 2>&1
        done
        for id in $(engine_call "$SOCK" GET "/networks?filters=$f" | jq -r '.[].Id'); do
                engine_call "$SOCK" DELETE "/networks/$id" >/dev/null 2>&1
        done
        rm -rf "$TMP"
}
trap cleanup EXIT

bench_start_cmsd docker "$SOCK" admin || bench_die "cmsd did not start"
URL="http://127.0.0.1:$PORT"
# The load comes from one address: raise the per-address caps, keep the rest at their defaults.
sed -i 's/^limits: .*/limits: {max_connections_per_ip: 1024, max_streams_per_token: 256}/' \
        "$TMP/cmsd-docker.yaml"
kill -HUP "$CMSD_PID"
sleep 1

# A few long-lived containers to inspect, follow and sample.
for i in 1 2 3 4; do
        engine_call "$SOCK" POST "/containers/create?name=$TAG-base$i" \
                "{\"Image\":\"$IMG\",\"Cmd\":[\"sh\",\"-c\",\"while :; do echo line \$RANDOM; sleep 0.2; done\"],\"Labels\":{\"cmsd-soak\":\"$$\"}}" \
                >/dev/null || bench_die "cannot create the base containers"
        engine_call "$SOCK" POST "/containers/$TAG-base$i/start" >/dev/null
done

# cmsd's RSS, fds and threads every 10 s.
(
        while kill -0 "$CMSD_PID" 2>/dev/null; do
                printf '%s %s %s %s\n' "$SECONDS" "$(proc_kb "$CMSD_PID" VmRSS)" \
                        "$(ls "/proc/$CMSD_PID/fd" 2>/dev/null | wc -l)" \
                        "$(ls "/proc/$CMSD_PID/task" 2>/dev/null | wc -l)"
                sleep 10
        done
) >"$TMP/samples" &
SAMPLER=$!

# SIGHUP every 30 s.
(
        while sleep 30; do
                kill -HUP "$CMSD_PID" 2>/dev/null || break
        done
) &
HUPPER=$!

bench_log "soak: $CONNS connections for $MINUTES min against $URL (engine $SOCK)"
LOAD_START=$SECONDS
python3 - "$URL" "$TOKEN" "$TAG" "$$" "$IMG" "$CONNS" "$((MINUTES * 60))" >"$TMP/load.out" \
        2>"$TMP/load.err" <<'PY'
import http.client, json, random, sys, threading, time, urllib.parse
url, token, tag, run, img, conns, secs = sys.argv[1:8]
conns, secs = int(conns), int(secs)
host, port = urllib.parse.urlparse(url).hostname, urllib.parse.urlparse(url).port
H = {"Authorization": "Bearer " + token}
lock = threading.Lock()
stats = {}  # route -> {"lat": [...], "status": {code: n}}
errors = []
end = time.time() + secs
bases = ["%s-base%d" % (tag, i) for i in range(1, 5)]

def record(route, status, ms):
    with lock:
        s = stats.setdefault(route, {"lat": [], "status": {}})
        s["lat"].append(ms)
        s["status"][status] = s["status"].get(status, 0) + 1

def call(c, route, method, path, body=None, ctype="application/json"):
    t0 = time.time()
    hdr = dict(H)
    if body is not None:
        hdr["Content-Type"] = ctype
    try:
        c.request(method, path, body=body, headers=hdr)
        r = c.getresponse()
        data = r.read()
        st = r.status
    except Exception as e:
        st, data = 0, str(e).encode()
        c.close()
    ms = (time.time() - t0) * 1000
    record(route, st, ms)
    if st >= 500 or st == 0:
        with lock:
            if len(errors) < 50:
                errors.append("%s %s -> %s %s" % (method, path, st, data[:200]))
    return st, data

def stream(route, path, accept, hold):
    t0 = time.time()
    try:
        c = http.client.HTTPConnection(host, port, timeout=30)
        c.request("GET", path, headers=dict(H, Accept=accept))
        r = c.getresponse()
        st = r.status
        record(route, st, (time.time() - t0) * 1000)
        stop = time.time() + hold
        while time.time() < stop:
            if not r.fp or not r.read1(4096):
                break
        c.close()  # dropped mid-stream
    except Exception as e:
        record(route, 0, (time.time() - t0) * 1000)

def reader(i):
    c = http.client.HTTPConnection(host, port, timeout=60)
    while time.time() < end:
        # A chart of the last 2 minutes, re-read: the reply's size stays the same through the run
        # (a since fixed at the start made every reply larger than the one before: 9 MB each
        # after 10 minutes, RSS climbing with them; results/soak-since-growing-2026-12-05b.txt).
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 120))
        k = random.random()
        if k < 0.25:
            call(c, "GET /v1/containers", "GET", "/v1/containers?all=true")
        elif k < 0.45:
            call(c, "GET /v1/containers/{id}", "GET", "/v1/containers/" + random.choice(bases))
        elif k < 0.60:
            call(c, "GET /metrics", "GET", "/metrics")
        elif k < 0.75:
            call(c, "GET /v1/metrics?since", "GET", "/v1/metrics?since=" + since)
        elif k < 0.80:
            call(c, "GET /v1/health", "GET", "/v1/health")
        elif k < 0.85:
            call(c, "GET /v1/projects", "GET", "/v1/projects")
        elif k < 0.93:
            stream("GET /v1/containers/{id}/logs follow", "/v1/containers/%s/logs?follow=true&tail=5"
                   % random.choice(bases), "application/x-ndjson", random.uniform(0.5, 3))
        else:
            stream("GET /v1/events follow", "/v1/events?follow=true", "text/event-stream",
                   random.uniform(1, 4))
        time.sleep(random.uniform(0.0, 0.05))

def churn():
    c = http.client.HTTPConnection(host, port, timeout=120)
    n = 0
    while time.time() < end:
        n += 1
        name = "%s-churn%d" % (tag, n)
        body = json.dumps({"name": name, "image": img, "command": ["sleep", "600"],
                           "labels": {"cmsd-soak": run}})
        st, _ = call(c, "POST /v1/containers?start=true", "POST", "/v1/containers?start=true", body)
        time.sleep(1)
        call(c, "POST /v1/containers/{id}/stop", "POST", "/v1/containers/%s/stop?timeout=0" % name)
        call(c, "DELETE /v1/containers/{id}", "DELETE", "/v1/containers/%s?force=true" % name)

def compose():
    c = http.client.HTTPConnection(host, port, timeout=180)
    p = tag + "-proj"
    yml = ("services:\n  a:\n    image: %s\n    command: [sleep, '600']\n    labels: {cmsd-soak: '%s'}\n"
           "  b:\n    image: %s\n    command: [sleep, '600']\n    labels: {cmsd-soak: '%s'}\n"
           % (img, run, img, run))
    while time.time() < end:
        call(c, "POST /v1/projects (up)", "POST", "/v1/projects", json.dumps({"name": p, "compose": yml}))
        time.sleep(2)
        call(c, "POST /v1/projects/{name}/down", "POST", "/v1/projects/%s/down" % p, "{}")
        time.sleep(1)

threads = [threading.Thread(target=churn), threading.Thread(target=compose)]
threads += [threading.Thread(target=reader, args=(i,)) for i in range(conns - 2)]
for t in threads:
    t.daemon = True
    t.start()
for t in threads:
    t.join(timeout=max(1, end - time.time() + 200))

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, max(0, int(round(p / 100 * len(v) + 0.5)) - 1))] if v else 0

print("%-42s %8s %9s %9s  %s" % ("route", "requests", "p50 ms", "p99 ms", "statuses"))
total = 0
for route in sorted(stats):
    s = stats[route]
    total += len(s["lat"])
    sts = " ".join("%s:%d" % (k, s["status"][k]) for k in sorted(s["status"]))
    print("%-42s %8d %9.1f %9.1f  %s" % (route, len(s["lat"]), pct(s["lat"], 50), pct(s["lat"], 99), sts))
print("total requests: %d (%.0f/s)" % (total, total / secs))
print("5xx and failures (first %d):" % len(errors))
for e in errors:
    print("  " + e)
PY
LOAD_END=$SECONDS
kill "$HUPPER" 2>/dev/null
sleep 10
kill "$SAMPLER" 2>/dev/null
wait "$SAMPLER" 2>/dev/null

{
        echo "# bench/soak.sh $(date -u +%Y-%m-%dT%H:%MZ): $CONNS connections, $MINUTES min, engine $(engine_call "$SOCK" GET /version | jq -r '.Components[0].Name // "docker"' 2>/dev/null) $(engine_call "$SOCK" GET /version | jq -r .Version), SIGHUP every 30 s"
        echo "# cmsd: $CMSD_BIN"
        echo
        cat "$TMP/load.out"
        [ -s "$TMP/load.err" ] && { echo "load generator stderr:"; head -n 5 "$TMP/load.err"; }
        echo
        echo "cmsd every 10 s:  t(s)  RSS(kB)  fds  threads"
        awk '{ printf "                  %4d  %7d  %4d  %4d\n", $1, $2, $3, $4 }' "$TMP/samples"
        # Under load only (the load runs MINUTES from LOAD_START; the samples after it are the
        # cmsd draining and idle): the mean of the first three samples after the warm-up against
        # the mean of the last three.
        awk -v w="$((LOAD_START + WARMUP_S))" -v e="$((LOAD_START + MINUTES * 60 - 5))" 'BEGIN { n = 0 } $1 >= w && $1 <= e { t[n] = $1; r[n] = $2; d[n] = $3; h[n] = $4; n++ }
                END {
                        if (n < 6) { print "too few samples after the warm-up to compare"; exit }
                        for (i = 0; i < 3; i++) { r0 += r[i]; d0 += d[i]; h0 += h[i]
                                r1 += r[n-1-i]; d1 += d[n-1-i]; h1 += h[n-1-i] }
                        printf "under load, after warm-up (t %d-%d s vs %d-%d s, means of 3 samples): RSS %+.1f%%, fds %+.1f%%, threads %+.1f%%\n",
                                t[0], t[2], t[n-3], t[n-1], (r1 - r0) / r0 * 100, (d1 - d0) / d0 * 100, (h1 - h0) / h0 * 100 }' "$TMP/samples"
        # RSS swings with the requests in flight (+-10 MB between samples): the trend over every
        # sample under load, a least-squares line and the first third against the last.
        awk -v w="$((LOAD_START + WARMUP_S))" -v e="$((LOAD_START + MINUTES * 60 - 5))" '$1 >= w && $1 <= e {
                        n++; x += $1; y += $2; xx += $1 * $1; xy += $1 * $2; t[n] = $1; r[n] = $2 }
                END {
                        if (n < 6) exit
                        b = (n * xy - x * y) / (n * xx - x * x); a = (y - b * x) / n; k = int(n / 3)
                        for (i = 1; i <= k; i++) { s1 += r[i]; s3 += r[n - k + i] }
                        printf "RSS trend under load (%d samples): least squares %+.0f kB/min (%+.1f%% from t %d to %d s), first third %.0f kB, last third %.0f kB (%+.1f%%)\n",
                                n, b * 60, b * (t[n] - t[1]) / (a + b * t[1]) * 100, t[1], t[n], s1 / k, s3 / k, (s3 - s1) / s1 * 100 }' "$TMP/samples"
        echo "(fds follow the engine's container count: the sampler keeps each container's cgroup files open)"
        echo "cmsd VmHWM (peak RSS) $(proc_kb "$CMSD_PID" VmHWM) kB; VmRSS at the end (load over for $((SECONDS - LOAD_END)) s) $(proc_kb "$CMSD_PID" VmRSS) kB"
        echo "reloads: $(grep -c 'configuration reloaded' "$TMP/cmsd-docker.log"), cmsd warn/error lines: $(grep -cE ' (warn|error) ' "$TMP/cmsd-docker.log")"
        grep -E ' (warn|error) ' "$TMP/cmsd-docker.log" | cut -c26-160 | sort | uniq -c | sort -rn | head -n 8
        kill -0 "$CMSD_PID" 2>/dev/null && echo "cmsd still up at the end" || echo "cmsd DIED"
} >"$TMP/report"
if [ -n "$OUT" ]; then cp "$TMP/report" "$OUT"; fi
cat "$TMP/report"
