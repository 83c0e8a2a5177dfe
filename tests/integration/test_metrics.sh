#!/usr/bin/env bash
# Metrics: the sampler's numbers against what the containers really do (a CPU burner's counter
# grows, 40 MiB written to a tmpfs shows in memory), the container set following the engine
# without a restart, /metrics accepted by `promtool check metrics` and scraped by a real
# Prometheus (bearer token) whose query API then returns the series, the JSON routes (since,
# ETag, export, monitor stream, stats), engine events as a stream, metrics_public and CORS, the
# rings surviving a restart (a corrupt snapshot refused), the engine stats API fallback, and the
# sampler following the engine through an outage.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

# scrape [URL] [TOKEN]: GET /metrics into $T_TMP/metrics; fails unless 200.
scrape() {
        local url=${1:-$CMSD_URL} tok=${2-$TOK_VIEWER} args=(-sS -o "$T_TMP/metrics" -w '%{http_code}' --max-time 20)
        [ "$tok" = - ] || args+=(-H "Authorization: Bearer $tok")
        STATUS=$(curl "${args[@]}" "$url/metrics") || STATUS=000
        [ "$STATUS" = 200 ] || fail "GET /metrics: HTTP $STATUS: $(head -c 300 "$T_TMP/metrics")"
}

# series_value METRIC NAME [EXTRA-REGEX]: the value of METRIC{...name="NAME"...} in the last scrape.
series_value() {
        grep -E "^$1\{" "$T_TMP/metrics" | grep -F "name=\"$2\"" | grep -E -- "${3:-.}" |
                head -n 1 | awk '{ print $NF }'
}

# has_series NAME: true when the last scrape has container series for NAME.
has_series() {
        scrape
        [ -n "$(series_value container_memory_usage_bytes "$1")" ]
}

# body_has FILTER: jq -e FILTER on BODY, false for an empty BODY (jq 1.6 -e says yes to no input).
body_has() {
        [ -n "$BODY" ] && jq -e "$1" <<<"$BODY" >/dev/null 2>&1
}

# prom_query URL QUERY: BODY = the query API's result vector; false when it did not answer.
prom_query() {
        BODY=$(curl -sf --max-time 5 "$1" --data-urlencode "query=$2" 2>/dev/null | jq -c '.data.result // empty' 2>/dev/null)
        [ -n "$BODY" ]
}

burner_cfg='{"command": ["sh", "-c", "while :; do :; done"]}'

cpu_burner() {
        local name v1 v2
        name=$(unique burn)
        run_c "$name" "$burner_cfg"
        wait_for "has_series '$name'" 15 || fail "$name never appeared in /metrics"
        v1=$(series_value container_cpu_usage_seconds_total "$name" 'cpu="total"')
        sleep 3
        scrape
        v2=$(series_value container_cpu_usage_seconds_total "$name" 'cpu="total"')
        awk -v a="$v1" -v b="$v2" 'BEGIN { exit !(b - a >= 0.5) }' ||
                fail "container_cpu_usage_seconds_total grew from $v1 to $v2 in 3 s (a busy loop)"
        grep -qE "^container_cpu_usage_seconds_total\{id=\"/[^\"]*${CID}[^\"]*\",image=\"[^\"]*busybox[^\"]*\",name=\"$name\"" \
                "$T_TMP/metrics" || fail "cAdvisor labels (id with the container id, image, name) missing"
        api GET "/v1/containers/$CID/stats?points=5" "" "$TOK_VIEWER"
        expect_ok
        expect_json .data.sampled true
        expect_json .data.mode cgroup
        expect_jq '.data.latest.cpu_percent > 20' "latest.cpu_percent > 20 for a busy loop"
        expect_jq '(.data.history | length) >= 2 and all(.data.history[]; .cpu_percent > 5)' \
                "history points with CPU"
}

tmpfs_memory() {
        local name mem
        name=$(unique mem)
        run_c "$name" '{"command": ["sh", "-c", "sleep 1; dd if=/dev/zero of=/scratch/blob bs=1048576 count=40; sleep 600"],
                "volumes": [{"type": "tmpfs", "target": "/scratch"}]}'
        wait_for "has_series '$name' && [ \"\$(series_value container_memory_usage_bytes '$name')\" -ge 41943040 ]" 20 ||
                fail "container_memory_usage_bytes never reached 40 MiB: $(series_value container_memory_usage_bytes "$name")"
        mem=$(series_value container_memory_working_set_bytes "$name")
        [ "${mem:-0}" -ge 41943040 ] || fail "working set $mem < 40 MiB (tmpfs pages are not reclaimable)"
        api GET "/v1/containers/$name/stats" "" "$TOK_VIEWER"
        expect_ok
        expect_jq '.data.latest.memory.usage_bytes >= 41943040' "stats latest memory >= 40 MiB"
}

appear_disappear() {
        local name
        name=$(unique set)
        run_c "$name"
        wait_for "has_series '$name'" 15 || fail "a new container did not appear in /metrics within 15 s"
        api GET "/v1/metrics?container=$name&points=1" "" "$TOK_VIEWER"
        expect_ok
        expect_json '.data.containers[0].name' "$name"
        api DELETE "/v1/containers/$CID?force=true" "" "$TOK_OPERATOR"
        expect_ok
        wait_for "! has_series '$name'" 15 || fail "a removed container was still in /metrics after 15 s"
        api GET "/v1/metrics?container=$name" "" "$TOK_VIEWER"
        expect_error 404 not_found
}

promtool_clean() {
        local out name
        command -v promtool >/dev/null || fail "promtool not installed (apt-get install prometheus)"
        name=$(unique lint)
        run_c "$name" '{"labels": {"com.docker.compose.project": "shop \"x\"", "com.docker.compose.service": "web\\front"}}'
        wait_for "has_series '$name'" 15 || fail "$name never appeared in /metrics"
        grep -qF 'project="shop \"x\"",service="web\\front"' "$T_TMP/metrics" ||
                fail "compose project/service labels missing or badly escaped"
        out=$(promtool check metrics <"$T_TMP/metrics" 2>&1) || fail "promtool check metrics failed: $(short "$out")"
        [ -z "$out" ] || fail "promtool check metrics complained: $(short "$out")"
        for m in container_cpu_user_seconds_total container_cpu_system_seconds_total \
                container_memory_rss container_memory_cache container_memory_failcnt \
                container_spec_memory_limit_bytes container_network_receive_bytes_total \
                container_network_transmit_packets_total container_fs_reads_bytes_total \
                container_fs_writes_bytes_total container_processes cmsd_sampler_samples_total \
                cmsd_sampler_cpu_seconds_total cmsd_sampler_containers cmsd_http_requests_total \
                cmsd_engine_up; do
                grep -q "^# TYPE $m " "$T_TMP/metrics" || fail "no $m family in /metrics"
        done
        grep -qE '^container_network_receive_bytes_total\{.*interface="eth0"' "$T_TMP/metrics" ||
                fail "no per-interface network series"
        grep -qE '^cmsd_http_requests_total\{route="metrics",code="200"\} [1-9]' "$T_TMP/metrics" ||
                fail "cmsd_http_requests_total does not count /metrics"
        grep -q '^cmsd_engine_up 1$' "$T_TMP/metrics" || fail "cmsd_engine_up is not 1"
}

metrics_auth() {
        local code
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$CMSD_URL/metrics")
        [ "$code" = 401 ] || fail "GET /metrics without a token: $code (metrics_public is false)"
        scrape "$CMSD_URL" "$TOK_VIEWER"
        api GET /v1/metrics "" -
        expect_error 401 unauthorized
}

public_and_cors() {
        local port conf="$T_TMP/cmsd.yaml" code
        port=$(free_port) || fail "no free port"
        write_config "$conf" "$port" "unix://$ENGINE_SOCK" 'metrics_public: true
cors_origins: ["http://dash.example"]'
        start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
        scrape "$MY_URL" -
        my_api GET /v1/metrics "" -
        expect_error 401 unauthorized
        code=$(curl -s -o /dev/null -D "$T_TMP/pre" -w '%{http_code}' -X OPTIONS --max-time 10 \
                -H 'Origin: http://dash.example' -H 'Access-Control-Request-Method: GET' \
                -H 'Access-Control-Request-Headers: authorization' "$MY_URL/v1/metrics")
        [ "$code" = 204 ] || [ "$code" = 200 ] || fail "CORS preflight: HTTP $code"
        grep -qi '^access-control-allow-origin: http://dash.example' "$T_TMP/pre" || fail "preflight without Allow-Origin"
        CMSD_URL=$MY_URL apix -H 'Origin: http://dash.example' -- GET /v1/metrics "" "$TOK_VIEWER"
        expect_ok
        expect_header Access-Control-Allow-Origin 'http://dash.example'
        expect_header Access-Control-Expose-Headers '.*ETag'
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
}

json_since_etag() {
        local name etag since
        name=$(unique json)
        run_c "$name"
        wait_for "api GET '/v1/containers/$name/stats?points=3' '' '$TOK_VIEWER'; body_has '(.data.history | length) >= 2'" 15 ||
                fail "no history for $name: $(short "$BODY")"
        api GET "/v1/metrics?container=$name&points=2" "" "$TOK_VIEWER"
        expect_ok
        expect_jq '.data.interval == "1s" and (.data.containers[0].points | length) == 2' "2 points"
        expect_jq '.data.containers[0].points[0] | has("time") and has("cpu_percent") and has("memory_bytes")
                and has("net_rx_bytes_per_s") and has("blk_write_bytes_per_s") and has("pids")' "point fields"
        expect_header ETag '"[0-9a-f]{16}"'
        etag=$(header_value ETag)
        since=$(jq -r .data.next_since <<<"$BODY")
        apix -H "If-None-Match: $etag" -- GET "/v1/metrics?container=$name&points=2" "" "$TOK_VIEWER"
        # The data may have moved on in between: a new round gives a new body and a 200.
        [ "$STATUS" = 304 ] || [ "$(header_value ETag)" != "$etag" ] ||
                fail "If-None-Match with the current ETag: $STATUS"
        sleep 2.5
        api GET "/v1/metrics?container=$name&since=$since" "" "$TOK_VIEWER"
        expect_ok
        expect_jq --arg s "$since" '(.data.containers[0].points | length) >= 1 and
                all(.data.containers[0].points[]; .time > $s)' "only points newer than since=$since"
        expect_jq --arg s "$since" '.data.next_since > $s' "next_since moves forward"
        api GET "/v1/metrics?since=yesterday" "" "$TOK_VIEWER"
        expect_error 400 bad_request
        api GET /v1/metrics/export "" "$TOK_VIEWER"
        expect_status 200
        expect_header Content-Disposition 'attachment; filename="cmsd-metrics-.*\.json"'
        expect_jq --arg n "$name" '.interval_ms == 1000 and any(.containers[]; .name == $n and (.points | length) >= 1)' \
                "the export holds $name's history"
}

monitor_stream() {
        local name
        name=$(unique mon)
        run_c "$name" "$burner_cfg"
        wait_for "has_series '$name'" 15 || fail "$name never appeared in /metrics"
        timeout 15 curl -sN -H "Authorization: Bearer $TOK_VIEWER" -H 'Accept: application/x-ndjson' \
                "$CMSD_URL/v1/monitor?duration=3s&container=$name" >"$T_TMP/mon"
        [ "$(wc -l <"$T_TMP/mon")" -ge 2 ] || fail "monitor gave $(wc -l <"$T_TMP/mon") lines in 3 s: $(head -c 300 "$T_TMP/mon")"
        jq -e --arg n "$name" '.containers | length == 1 and .[0].name == $n and .[0].cpu_percent > 5' \
                <"$T_TMP/mon" >/dev/null || fail "monitor samples: $(head -c 400 "$T_TMP/mon")"
        timeout 15 curl -sN -H "Authorization: Bearer $TOK_VIEWER" -H 'Accept: text/event-stream' \
                "$CMSD_URL/v1/monitor?duration=2s" >"$T_TMP/mon"
        grep -q '^event: sample' "$T_TMP/mon" || fail "no SSE sample events"
        grep -q '^event: end' "$T_TMP/mon" || fail "no SSE end event after the duration"
        api GET "/v1/monitor?duration=2s&container=$name" "" "$TOK_VIEWER"
        expect_ok
        expect_jq '(.data.samples | length) >= 2' "2 s of samples without a stream"
}

events_stream() {
        local name pid
        name=$(unique ev)
        run_c "$name"
        timeout 20 curl -sN -H "Authorization: Bearer $TOK_VIEWER" -H 'Accept: text/event-stream' \
                "$CMSD_URL/v1/events?type=container&container=$CID&event=pause&event=unpause" >"$T_TMP/ev" &
        pid=$!
        sleep 1
        api POST "/v1/containers/$CID/pause" "" "$TOK_OPERATOR"
        expect_ok
        api POST "/v1/containers/$CID/unpause" "" "$TOK_OPERATOR"
        expect_ok
        wait_for "grep -q '\"action\":\"unpause\"' '$T_TMP/ev'" 10 || { kill "$pid" 2>/dev/null; fail "no unpause event: $(head -c 400 "$T_TMP/ev")"; }
        kill "$pid" 2>/dev/null
        grep -q '^event: event' "$T_TMP/ev" || fail "SSE events are not named 'event'"
        grep '^data: ' "$T_TMP/ev" | sed 's/^data: //' | jq -se --arg id "$CID" --arg n "$name" \
                'length == 2 and .[0].action == "pause" and all(.[]; .id == $id and .name == $n and .type == "container")' \
                >/dev/null || fail "events: $(head -c 400 "$T_TMP/ev")"
        api GET "/v1/events?container=$CID&since=$(($(date +%s) - 60))" "" "$TOK_VIEWER"
        expect_ok
        expect_jq '[.data.events[].action] | index("start") != null and index("pause") != null' \
                "start and pause in the events of the last minute"
        api GET "/v1/events?type=nonsense" "" "$TOK_VIEWER"
        expect_error 400 bad_request
}

stats_edges() {
        create "$(unique idle)"
        api GET "/v1/containers/$CID/stats" "" "$TOK_VIEWER"
        expect_ok
        expect_json .data.sampled false
        expect_json .data.latest null
        api GET "/v1/containers/$NAME_PREFIX-no-such-thing/stats" "" "$TOK_VIEWER"
        expect_error 404 not_found
        api GET /v1/system/info "" "$TOK_VIEWER"
        expect_ok
        expect_jq '.data.sampler.running == true and .data.sampler.mode == "cgroup" and
                .data.sampler.interval == "1s" and (.data.sampler.containers | type) == "number"' \
                "sampler running in cgroup mode every 1s"
}

prometheus_scrape() {
        local pport pdir="$T_TMP/prom" ppid name host q
        command -v prometheus >/dev/null || fail "prometheus not installed (apt-get install prometheus)"
        name=$(unique prom)
        run_c "$name" "$burner_cfg"
        pport=$(free_port) || fail "no free port"
        host=${CMSD_URL#http://}
        mkdir -p "$pdir/data"
        cat >"$pdir/prometheus.yml" <<EOF
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: cmsd
    metrics_path: /metrics
    authorization: {type: Bearer, credentials: "$TOK_VIEWER"}
    static_configs: [{targets: ["$host"]}]
EOF
        prometheus --config.file="$pdir/prometheus.yml" --storage.tsdb.path="$pdir/data" \
                --web.listen-address="127.0.0.1:$pport" >"$pdir/log" 2>&1 &
        ppid=$!
        echo "$ppid" >>"$T_TMP/pids"
        q="http://127.0.0.1:$pport/api/v1/query"
        if ! wait_for "prom_query '$q' 'container_cpu_usage_seconds_total{name=\"$name\"}' &&
                body_has 'length == 1'" 40; then
                kill -TERM "$ppid"
                fail "Prometheus never returned the series: $(curl -s --max-time 2 "http://127.0.0.1:$pport/api/v1/targets" | head -c 300) $(tail -n 3 "$pdir/log")"
        fi
        prom_query "$q" 'up{job="cmsd"}'
        body_has '.[0].value[1] == "1"' || fail "up{job=\"cmsd\"} is not 1: $BODY"
        prom_query "$q" 'cmsd_sampler_samples_total'
        body_has '(.[0].value[1] | tonumber) > 0' || fail "cmsd_sampler_samples_total: $BODY"
        # A rate over the scraped counter, as a dashboard asks for it.
        sleep 4
        prom_query "$q" "rate(container_cpu_usage_seconds_total{name=\"$name\"}[5s])"
        body_has '(.[0].value[1] | tonumber) > 0.2' || fail "rate() of the burner's CPU: $BODY"
        kill -TERM "$ppid"
        wait_pid_exit "$ppid" 20 || fail "prometheus did not stop"
}

# cAdvisor parity: a table of PromQL expressions in the spirit of the dockprom dashboard and the
# usual cAdvisor alert rules, each run by a real Prometheus scraping a cmsd that reads the
# writable layers' sizes every 2 s, and each expected to return a series per test container with
# a plausible value: a CPU burner on a 0.2 CPU quota (throttled), a container that wrote 40 MiB
# into its writable layer, and one that carries compose labels (as container_label_*).
cadvisor_queries() {
        local port conf="$T_TMP/cmsd.yaml" pport pdir="$T_TMP/promc" ppid q burn disk web row expr want
        command -v prometheus >/dev/null || fail "prometheus not installed (apt-get install prometheus)"
        port=$(free_port) || fail "no free port"
        write_config "$conf" "$port" "unix://$ENGINE_SOCK" "sampler: {fs_interval: 2s, fs_timeout: 20s}"
        start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
        burn=$(unique qburn) disk=$(unique qdisk) web=$(unique qweb)
        run_c "$burn" '{"command": ["sh", "-c", "while :; do :; done"], "resources": {"cpus": 0.2, "memory": "64m"}}'
        run_c "$disk" '{"command": ["sh", "-c", "dd if=/dev/zero of=/blob bs=1048576 count=40 2>/dev/null; sleep 600"]}'
        run_c "$web" '{"labels": {"com.docker.compose.project": "shop", "com.docker.compose.service": "web", "tier": "front"}}'
        pport=$(free_port) || fail "no free port"
        mkdir -p "$pdir/data"
        printf '%s\n' "global: {scrape_interval: 1s, evaluation_interval: 1s}" "scrape_configs:" \
                "  - job_name: cmsd" "    authorization: {type: Bearer, credentials: \"$TOK_VIEWER\"}" \
                "    static_configs: [{targets: [\"${MY_URL#http://}\"]}]" >"$pdir/prometheus.yml"
        prometheus --config.file="$pdir/prometheus.yml" --storage.tsdb.path="$pdir/data" \
                --web.listen-address="127.0.0.1:$pport" >"$pdir/log" 2>&1 &
        ppid=$!
        echo "$ppid" >>"$T_TMP/pids"
        q="http://127.0.0.1:$pport/api/v1/query"
        wait_for "prom_query '$q' 'container_fs_usage_bytes{name=\"$disk\"} > 40e6' && body_has 'length == 1'" 60 ||
                fail "the writable layer's 40 MiB never showed: $(short "$BODY") $(tail -n 2 "$pdir/log")"
        sleep 5 # rates need a few scrapes
        # name ; expression ; jq test on the one result's value
        while IFS=';' read -r row expr want; do
                [ -n "$row" ] || continue
                expr=${expr//BURN/$burn}
                expr=${expr//DISK/$disk}
                expr=${expr//WEB/$web}
                prom_query "$q" "$expr" || fail "$row: Prometheus did not answer"
                body_has "length == 1 and (.[0].value[1] | tonumber | $want)" ||
                        fail "$row: $expr gave $(short "$BODY"), want one series with $want"
        done <<'ROWS'
cpu_pct_of_host;sum by (name) (rate(container_cpu_usage_seconds_total{name="BURN"}[10s])) / scalar(sum(machine_cpu_cores)) * 100;. > 1 and . <= 100
cpu_quota_cores;container_spec_cpu_quota{name="BURN"} / container_spec_cpu_period{name="BURN"};. > 0.19 and . < 0.21
throttled_ratio;rate(container_cpu_cfs_throttled_periods_total{name="BURN"}[10s]) / rate(container_cpu_cfs_periods_total{name="BURN"}[10s]);. > 0.5
mem_pct_of_limit;container_memory_working_set_bytes{name="BURN"} / container_spec_memory_limit_bytes{name="BURN"} * 100;. > 0 and . < 100
mem_pct_of_host;sum(container_memory_usage_bytes{name="DISK"}) / scalar(sum(machine_memory_bytes)) * 100;. > 0 and . < 100
net_rx_rate;sum by (name) (rate(container_network_receive_bytes_total{name="WEB"}[10s]));. >= 0
disk_io_rate;sum by (name) (rate(container_fs_reads_bytes_total{name="DISK"}[10s]) + rate(container_fs_writes_bytes_total{name="DISK"}[10s]));. >= 0
iops;sum by (name) (rate(container_fs_reads_total{name="DISK"}[10s]) + rate(container_fs_writes_total{name="DISK"}[10s]));. >= 0
disk_used;container_fs_usage_bytes{name="DISK"};. > 40e6
disk_pct_of_fs;container_fs_usage_bytes{name="DISK"} / container_fs_limit_bytes{name="DISK"} * 100;. > 0 and . < 100
last_seen;time() - container_last_seen{name="WEB"};. >= -2 and . < 10
up_count;count(container_last_seen{name=~"BURN|DISK|WEB"});. == 3
per_service;sum by (container_label_com_docker_compose_service) (container_memory_usage_bytes{container_label_com_docker_compose_service="web",name="WEB"});. > 0
custom_label;count(container_cpu_usage_seconds_total{name="WEB",container_label_tier="front",project="shop",service="web"});. == 1
threads;container_threads{name="BURN"};. >= 1
threads_max;container_threads_max{name="BURN"};. >= 0
fds;container_file_descriptors{name="BURN"};. >= 3
sockets;container_sockets{name="WEB"};. >= 0
running_tasks;sum(container_tasks_state{name="BURN",state="running"});. >= 1
processes;container_processes{name="DISK"};. >= 1
mapped_file;container_memory_mapped_file{name="DISK"};. >= 0
page_faults;sum(rate(container_memory_failures_total{name="BURN",failure_type="pgfault",scope="container"}[10s]));. >= 0
swap_limit;container_spec_memory_swap_limit_bytes{name="BURN"};. >= 0
reservation;container_spec_memory_reservation_limit_bytes{name="BURN"};. >= 0
ROWS
        # The classic ContainerKilled alert stays silent for containers that are up.
        prom_query "$q" "time() - container_last_seen{name=~\"$burn|$disk|$web\"} > 60"
        body_has 'length == 0' || fail "ContainerKilled would fire: $BODY"
        kill -TERM "$ppid"
        wait_pid_exit "$ppid" 20 || fail "prometheus did not stop"
        # Labels left out by the config: no container_label_* at all.
        stop_cmsd
        write_config "$conf" "$port" "unix://$ENGINE_SOCK" "sampler: {container_labels: false}"
        start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
        # the host facts come from the engine's info on a thread of their own: wait for them too
        wait_for "scrape '$MY_URL' && [ -n \"\$(series_value container_memory_usage_bytes '$web')\" ] &&
                grep -qE '^machine_cpu_cores' \"\$T_TMP/metrics\"" 20 ||
                fail "$web or machine_cpu_cores not in the scrape"
        ! grep -q 'container_label_' "$T_TMP/metrics" || fail "container_label_* with container_labels: false"
        grep -qE '^machine_cpu_cores(\{[^}]*\})? [1-9]' "$T_TMP/metrics" || fail "no machine_cpu_cores"
        stop_cmsd
}

snapshot_restart() {
        local port conf="$T_TMP/cmsd.yaml" name first count
        port=$(free_port) || fail "no free port"
        write_config "$conf" "$port" "unix://$ENGINE_SOCK"
        start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
        name=$(unique snap)
        run_c "$name"
        wait_for "my_api GET '/v1/containers/$name/stats?points=100' '' '$TOK_VIEWER'; body_has '(.data.history | length) >= 3'" 20 ||
                fail "no history for $name: $(short "$BODY")"
        first=$(jq -r '.data.history[0].time' <<<"$BODY")
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
        [ -s "$T_TMP/state/metrics.snapshot" ] || fail "no snapshot in state_dir after SIGTERM"
        [ ! -e "$T_TMP/state/metrics.snapshot.tmp" ] || fail "temp file left behind"
        start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
        my_api GET "/v1/containers/$name/stats?points=1000" "" "$TOK_VIEWER"
        expect_ok
        expect_jq --arg t "$first" 'any(.data.history[]; .time == $t)' "the point of $first kept across the restart"
        grep -q "history of [0-9]* containers restored" "$MY_LOG" || fail "no restore log line"
        # New samples go on after the restored ones.
        count=$(jq '.data.history | length' <<<"$BODY")
        wait_for "my_api GET '/v1/containers/$name/stats?points=1000' '' '$TOK_VIEWER'; [ \"\$(jq '.data.history | length' <<<\"\$BODY\")\" -gt $count ]" 10 ||
                fail "no new samples after the restored ones"
        stop_cmsd
        # A corrupt snapshot is refused, never trusted, and cmsd runs on.
        printf 'XXXX' | dd of="$T_TMP/state/metrics.snapshot" bs=1 seek=64 conv=notrunc 2>/dev/null
        start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
        grep -q "snapshot refused: .*checksum mismatch" "$MY_LOG" || fail "corrupt snapshot not refused in the log"
        my_api GET "/v1/containers/$name/stats?points=1000" "" "$TOK_VIEWER"
        expect_ok
        expect_jq --arg t "$first" 'all(.data.history[]; .time != $t)' "nothing from the corrupt snapshot"
        stop_cmsd
        echo "not a snapshot" >"$T_TMP/state/metrics.snapshot"
        start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
        grep -q "is not a cmsd metrics snapshot" "$MY_LOG" || fail "foreign file not refused in the log"
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
}

# Where cgroups cannot be read cmsd samples through the engine's stats API: forced here with
# CMSD_SAMPLER_MODE=engine (what a remote or rootless engine gets by itself).
engine_fallback() {
        local port conf="$T_TMP/cmsd.yaml" name
        port=$(free_port) || fail "no free port"
        write_config "$conf" "$port" "unix://$ENGINE_SOCK"
        CMSD_SAMPLER_MODE=engine start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
        name=$(unique fb)
        run_c "$name" "$burner_cfg"
        wait_for "my_api GET '/v1/containers/$name/stats?points=10' '' '$TOK_VIEWER'; body_has '(.data.history | length) >= 2'" 30 ||
                fail "no history through the engine's stats API: $(short "$BODY")"
        expect_json .data.mode engine
        expect_jq '.data.latest.cpu_percent > 20 and .data.latest.memory.usage_bytes > 0' \
                "CPU and memory from the engine's stats"
        my_api GET /v1/system/info "" "$TOK_VIEWER"
        expect_json .data.sampler.mode engine
        scrape "$MY_URL" "$TOK_VIEWER"
        grep -q '^cmsd_sampler_mode{mode="engine"} 1$' "$T_TMP/metrics" || fail "cmsd_sampler_mode is not engine"
        [ -n "$(series_value container_cpu_usage_seconds_total "$name")" ] || fail "no CPU series in engine mode"
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
}

# start_proxy SOCK: a unix-socket relay to the engine (python3), so that the test can make the
# "engine" go away and come back without touching the real one. Sets PROXY_PID.
start_proxy() {
        cat >"$T_TMP/proxy.py" <<'EOF'
import os, socket, sys, threading
path, target = sys.argv[1], sys.argv[2]
if os.path.exists(path):
    os.unlink(path)
srv = socket.socket(socket.AF_UNIX)
srv.bind(path)
srv.listen(64)
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
while True:
    c, _ = srv.accept()
    u = socket.socket(socket.AF_UNIX)
    u.connect(target)
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c), daemon=True).start()
EOF
        python3 "$T_TMP/proxy.py" "$1" "$ENGINE_SOCK" >"$T_TMP/proxy.log" 2>&1 &
        PROXY_PID=$!
        echo "$PROXY_PID" >>"$T_TMP/pids"
        wait_for "[ -S '$1' ]" 10 || fail "proxy did not start: $(cat "$T_TMP/proxy.log")"
}

# The engine goes away and comes back: the sampler's event stream reconnects by itself and a
# container started meanwhile shows up without a cmsd restart.
engine_restart() {
        local port conf="$T_TMP/cmsd.yaml" sock="$T_TMP/engine.sock" a b
        command -v python3 >/dev/null || fail "python3 needed for the engine relay"
        port=$(free_port) || fail "no free port"
        start_proxy "$sock"
        write_config "$conf" "$port" "unix://$sock"
        start_cmsd "$conf" "$port" "unix://$sock"
        a=$(unique before)
        run_c "$a"
        wait_for "scrape '$MY_URL' && [ -n \"\$(series_value container_memory_usage_bytes '$a')\" ]" 15 ||
                fail "$a never appeared in /metrics"
        kill -TERM "$PROXY_PID"
        wait_pid_exit "$PROXY_PID" 10 || fail "proxy did not stop"
        wait_for "my_api GET /v1/health '' -; body_has '.data.engine == \"down\"'" 15 ||
                fail "cmsd did not notice the engine going away: $(short "$BODY")"
        b=$(unique during)
        run_c "$b"
        start_proxy "$sock"
        wait_for "scrape '$MY_URL' && [ -n \"\$(series_value container_memory_usage_bytes '$b')\" ]" 30 ||
                fail "$b (started while the engine was away) never appeared after it came back"
        [ -n "$(series_value container_memory_usage_bytes "$a")" ] || fail "$a lost across the outage"
        grep -q '^cmsd_engine_up 1$' "$T_TMP/metrics" || fail "cmsd_engine_up is not back to 1"
        stop_cmsd
        [ "$MY_RC" -eq 0 ] || fail "cmsd exited $MY_RC on SIGTERM"
        kill -TERM "$PROXY_PID"
}

t metrics_auth metrics_auth
t cpu_burner cpu_burner
t tmpfs_memory tmpfs_memory
t appear_disappear appear_disappear
t promtool_clean promtool_clean
t json_since_etag json_since_etag
t monitor_stream monitor_stream
t events_stream events_stream
t stats_edges stats_edges
t public_and_cors public_and_cors
t prometheus_scrape prometheus_scrape
t cadvisor_queries cadvisor_queries
t snapshot_restart snapshot_restart
t engine_fallback engine_fallback
t engine_restart engine_restart
done_file
