#!/usr/bin/env bash
# Several engines behind one cmsd (engines: in the config, ?engine= on the routes, engine=* on
# the lists, GET /v1/engines, a token's engines): a private cmsd drives this run's engine and the
# other real engine of the suite (Docker and Podman), plus engines that are down or stop
# mid-test. Every claim is checked on the engines' own sockets.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

if [ "$ENGINE" = docker ]; then
        OTHER=podman OTHER_SOCK=/run/podman/podman.sock
else
        OTHER=docker OTHER_SOCK=/var/run/docker.sock
fi
TOK_ONE="t-one-engine"

other_pings() {
        [ "$(curl -sS --max-time 5 --unix-socket "$OTHER_SOCK" http://engine/_ping 2>/dev/null)" = OK ]
}

# other_api METHOD PATH [BODY]: engine_api against the other engine.
other_api() {
        local ENGINE_SOCK=$OTHER_SOCK
        engine_api "$@"
}

# Removes what a test made on the other engine (the suite's cleanup covers only its own).
other_cleanup() {
        local ENGINE_SOCK=$OTHER_SOCK
        cleanup_engine all
}

# The TLS row's private dockerd, its containerd and bridge, whether the row passed or not.
tls_cleanup() {
        local pid c x
        x=$(cat "$T_TMP/xroot" 2>/dev/null)
        pid=$(cat "$T_TMP/dockerd.pid" 2>/dev/null) && kill -TERM "$pid" 2>/dev/null &&
                wait_for "! kill -0 $pid 2>/dev/null" 20
        for c in /proc/[0-9]*/cmdline; do
                [ -n "$x" ] || break
                if { tr '\0' ' ' <"$c"; } 2>/dev/null | grep -q "containerd.* $x/"; then
                        kill -TERM "$(basename "$(dirname "$c")")" 2>/dev/null
                fi
        done
        [ -f "$T_TMP/bridge" ] && ip link del "$(cat "$T_TMP/bridge")" 2>/dev/null
        grep -e " $T_TMP/dd" ${x:+-e " $x"} /proc/mounts | cut -d' ' -f2 | sort -r |
                xargs -r -n1 umount -l 2>/dev/null
        [ -n "$x" ] && rm -rf "$x"
        return 0
}

# engines_cmsd [EXTRA_ENGINES_YAML] [EXTRA_YAML]: a private cmsd with this run's engine as
# "mine" (the default) and the other as "other"; sets MY_* as start_cmsd does.
engines_cmsd() {
        local port admin_sha
        port=$(free_port) || fail "no free port"
        admin_sha=$(printf '%s' "$TOK_ADMIN" | sha256sum | cut -d' ' -f1)
        mkdir -p "$T_TMP/state"
        cat >"$T_TMP/cmsd.yaml" <<EOF
listen: ["127.0.0.1:$port"]
engines:
  - {name: mine, url: "unix://$ENGINE_SOCK", default: true}
  - {name: other, url: "unix://$OTHER_SOCK"}
${1-}
tokens:
  - {name: admin, role: admin, sha256: "$admin_sha"}
  - {name: operator, role: operator, token: "$TOK_OPERATOR"}
  - {name: viewer, role: viewer, token: "$TOK_VIEWER"}
  - {name: one, role: operator, token: "$TOK_ONE", engines: [other]}
state_dir: "$T_TMP/state"
log_level: debug
limits: {request_timeout: 20s}
${2-}
EOF
        start_cmsd "$T_TMP/cmsd.yaml" "$port" "unix://$ENGINE_SOCK"
}

# my_create ENGINE NAME: creates and starts NAME on that engine through the private cmsd.
my_create() {
        my_api POST "/v1/containers?engine=$1&start=true" "$(cfg "$2")"
        expect_ok 201
        CID=$(jq -r .data.id <<<"$BODY")
}

need_other() {
        other_pings || fail "the $OTHER engine does not answer at $OTHER_SOCK (scripts/engines.sh up starts both)"
}

engines_list() {
        need_other
        engines_cmsd '  - {name: gone, url: "unix://'"$T_TMP"'/no-engine.sock"}'
        my_api GET /v1/engines "" "$TOK_VIEWER"
        expect_ok
        expect_jq '[.data[].name] == ["mine", "other", "gone"]' "the three engines in config order"
        expect_jq --arg r "$ENGINE" '.data[0] | .runtime == $r and .default == true and .state == "up"
                and .last_error == null and (.counts.containers.running | type) == "number"' \
                "mine: $ENGINE, default, up, with counts"
        expect_jq --arg r "$OTHER" '.data[1] | .runtime == $r and .default == false and .state == "up"' \
                "other: $OTHER, up"
        engine_api GET /version
        expect_json .data[0].version "$(jq -r .Version <<<"$EBODY")"
        other_api GET /version
        expect_json .data[1].version "$(jq -r .Version <<<"$EBODY")"
        expect_jq '.data[2] | .state == "down" and (.last_error | test("no-engine.sock"))
                and .counts == null' "gone: down with the reason"
        # A token limited to one engine sees that one only.
        my_api GET /v1/engines "" "$TOK_ONE"
        expect_ok
        expect_jq '[.data[].name] == ["other"]' "only the token's engine"
        stop_cmsd
}

# The same lists asked of both engines at once, each item saying where it lives.
engines_fanout() {
        local a b mine_id other_id
        need_other
        engines_cmsd
        a=$(unique fan-a) b=$(unique fan-b)
        my_create mine "$a"
        mine_id=$CID
        my_create other "$b"
        other_id=$CID
        engine_inspect "$mine_id"
        other_api GET "/containers/$other_id/json"
        [ "$ESTATUS" = 200 ] || fail "$b is not on the $OTHER engine ($ESTATUS)"
        engine_api GET "/containers/$other_id/json"
        [ "$ESTATUS" = 404 ] || fail "$b is also on the $ENGINE engine"
        my_api GET "/v1/containers?engine=*&all=true&label=cmsd-test-run=$RUN_ID" "" "$TOK_VIEWER"
        expect_ok
        expect_jq '.warnings == []' "no warnings"
        expect_jq --arg m "$mine_id" --arg o "$other_id" \
                '(.data | map({id, engine}) | sort_by(.engine)) == [{id: $m, engine: "mine"}, {id: $o, engine: "other"}]' \
                "both containers, each with its engine"
        # Without engine=: the default only; ?engine=other: that one only.
        my_api GET "/v1/containers?all=true&label=cmsd-test-run=$RUN_ID"
        expect_jq --arg m "$mine_id" '[.data[].id] == [$m] and (.data[0] | has("engine") | not)' \
                "the default's container alone, no engine field"
        my_api GET "/v1/containers?engine=other&all=true&label=cmsd-test-run=$RUN_ID"
        expect_jq --arg o "$other_id" '[.data[].id] == [$o]' "the other's container alone"
        # Routes on one container go to the engine named.
        my_api POST "/v1/containers/$b/stop?engine=other" '{"timeout": 1}'
        expect_ok
        [ "$(ENGINE_SOCK=$OTHER_SOCK engine_state "$other_id")" = exited ] ||
                fail "stop ?engine=other did not stop $b on $OTHER"
        my_api POST "/v1/containers/$b/stop" '{"timeout": 1}'
        expect_error 404 not_found
        for list in images networks volumes projects; do
                my_api GET "/v1/$list?engine=*" "" "$TOK_VIEWER"
                expect_ok
                expect_jq '(.data | all(.engine == "mine" or .engine == "other")) and .warnings == []' \
                        "$list: every item with its engine"
        done
        my_api GET "/v1/images?engine=*"
        expect_jq '([.data[] | select(.engine == "mine")] | length) > 0 and
                ([.data[] | select(.engine == "other")] | length) > 0' "images of both engines"
        my_api DELETE "/v1/containers/$b?engine=other&force=true"
        expect_ok
        stop_cmsd
        other_cleanup
}

# An engine that stops while cmsd runs: lists give what the others have plus a warning, in
# bounded time, and the engine comes back by itself when it returns.
engines_partial() {
        local sock="$T_TMP/late.sock" ppid a t0 took
        need_other
        command -v podman >/dev/null || fail "podman is not installed"
        podman system service --time=0 "unix://$sock" >"$T_TMP/late.log" 2>&1 &
        ppid=$!
        echo "$ppid" >>"$T_TMP/pids"
        wait_for "[ -S '$sock' ] && curl -sf --max-time 2 --unix-socket '$sock' http://e/_ping >/dev/null" 30 ||
                fail "private podman service did not start: $(tail -n 3 "$T_TMP/late.log")"
        engines_cmsd '  - {name: late, url: "unix://'"$sock"'"}'
        a=$(unique part)
        my_create mine "$a"
        my_api GET "/v1/containers?engine=*&all=true&label=cmsd-test-run=$RUN_ID"
        expect_ok
        expect_jq '.warnings == [] and ([.data[].engine] | index("mine")) != null' "all three up"
        kill -9 "$ppid"
        wait "$ppid" 2>/dev/null
        t0=$SECONDS
        my_api GET "/v1/containers?engine=*&all=true&label=cmsd-test-run=$RUN_ID"
        took=$((SECONDS - t0))
        expect_ok
        expect_jq --arg n "$a" '[.data[] | select(.engine == "mine") | .name] == [$n]' \
                "the default's container still listed"
        expect_jq '[.warnings[].engine] == ["late"] and (.warnings[0].status == 503 or .warnings[0].status == 504)
                and (.warnings[0].message | length) > 0' "one warning naming the stopped engine"
        [ "$took" -le 8 ] || fail "the partial list took ${took}s (a stopped engine refuses at once)"
        my_api GET /v1/engines
        expect_jq '.data[] | select(.name == "late") | .state == "down"' "late: down"
        # It comes back: same socket, a new service.
        rm -f "$sock"
        podman system service --time=0 "unix://$sock" >>"$T_TMP/late.log" 2>&1 &
        ppid=$!
        echo "$ppid" >>"$T_TMP/pids"
        wait_for "my_api GET /v1/engines; jq -e '.data[] | select(.name == \"late\") | .state == \"up\"' <<<\"\$BODY\" >/dev/null" 30 ||
                fail "late did not come back up: $(short "$BODY")"
        my_api GET "/v1/containers?engine=*&all=true&label=cmsd-test-run=$RUN_ID"
        expect_jq '.warnings == []' "no warning once it is back"
        stop_cmsd
        kill -TERM "$ppid"
        wait "$ppid" 2>/dev/null
}

# A token limited to some engines: 403 elsewhere (the default included), engine=* lists only
# its engines, and what it does is audited with the engine.
engines_token() {
        local b
        need_other
        engines_cmsd
        my_api GET /v1/containers "" "$TOK_ONE"
        expect_error 403 forbidden
        expect_jq '.error.message | test("engine=")' "the message says how to name an engine"
        my_api GET "/v1/containers?engine=mine" "" "$TOK_ONE"
        expect_error 403 forbidden
        b=$(unique tok)
        my_api POST "/v1/containers?engine=mine" "$(cfg "$b")" "$TOK_ONE"
        expect_error 403 forbidden
        engine_api GET "/containers/$b/json"
        [ "$ESTATUS" = 404 ] || fail "the refused create made $b on $ENGINE anyway"
        my_api POST "/v1/containers?engine=other" "$(cfg "$b")" "$TOK_ONE"
        expect_ok 201
        my_api GET "/v1/containers?engine=*&all=true&label=cmsd-test-run=$RUN_ID" "" "$TOK_ONE"
        expect_ok
        expect_jq '(.data | map(.engine) | unique) == ["other"] and .warnings == []' \
                "only the token's engine asked"
        my_api GET "/v1/audit?route=containers_create&token=one"
        expect_ok
        expect_jq '[.data.records[] | {engine, status}] | (index({engine: "other", status: 201}) != null
                and index({engine: "mine", status: 403}) != null)' \
                "the audit trail names the engine of each create"
        stop_cmsd
        other_cleanup
}

# Bad ?engine= values and bad engines: configs; nothing reaches an engine.
engines_bad_input() {
        need_other
        engines_cmsd
        my_api GET "/v1/containers?engine="
        expect_error 400 bad_request
        my_api GET "/v1/containers?engine=nope"
        expect_error 404 not_found
        expect_jq '.error.message | test("/v1/engines")' "the message points to GET /v1/engines"
        my_api GET "/v1/containers/x?engine=*"
        expect_error 400 bad_request
        my_api POST "/v1/containers?engine=*" "$(cfg "$(unique star)")"
        expect_error 400 bad_request
        my_api GET "/v1/audit?engine=mine"
        expect_error 400 bad_request
        my_api POST "/v1/volumes/prune?engine=other" ''
        expect_ok
        stop_cmsd
        local base="listen: [\"127.0.0.1:1\"]"$'\n' bad
        for bad in \
                'engines: []|at least one' \
                'engines: [{name: a, url: "unix:///x"}, {name: a, url: "unix:///y"}]|duplicate engine name' \
                'engines: [{name: a, url: "unix:///x", default: true}, {name: b, url: "unix:///y", default: true}]|more than one' \
                'engines: [{name: a}]|engines\[0\].url: missing' \
                'engines: [{name: a, url: "auto"}]|name the engine' \
                'engines: [{name: a, url: "ftp://x"}]|expected' \
                'engines: [{name: "a b", url: "unix:///x"}]|engines\[0\].name' \
                'engines: [{name: a, url: "unix:///x", tls: {ca: /ca.pem}}]|only for a tcp' \
                'engines: [{name: a, url: "tcp://h:2376", tls: {ca: rel.pem}}]|absolute' \
                'engines: [{name: a, url: "unix:///x", color: red}]|unknown key' \
                'engine: "unix:///x"
engines: [{name: a, url: "unix:///y"}]|not both' \
                'engines: [{name: a, url: "unix:///x"}]
tokens: [{name: t, role: viewer, token: x, engines: [b]}]|no engine named .b.' \
                'tokens: [{name: t, role: viewer, token: x, engines: []}]|empty list'; do
                printf '%s%s\n' "$base" "${bad%%|*}" >"$T_TMP/bad.yaml"
                if "$CMSD_BIN" --config "$T_TMP/bad.yaml" --check-config >"$T_TMP/check.out" 2>&1; then
                        fail "--check-config accepted: ${bad%%|*}"
                fi
                grep -Eq "${bad##*|}" "$T_TMP/check.out" ||
                        fail "--check-config on '${bad%%|*}' said: $(short "$(cat "$T_TMP/check.out")")"
        done
}

# Compose projects of the same name on two engines are two projects, each stored apart.
engines_projects() {
        local p
        need_other
        engines_cmsd
        p="eng$RANDOM$RANDOM"
        printf 'services:\n  web:\n    image: %s\n    command: ["sleep", "600"]\n    labels: {cmsd-test: "1", cmsd-test-run: "%s"}\n' \
                "$IMG" "$RUN_ID" >"$T_TMP/c.yml"
        for e in mine other; do
                my_api POST "/v1/projects?engine=$e" "$(jq -n --arg n "$p" --rawfile c "$T_TMP/c.yml" '{name: $n, compose: $c}')"
                expect_ok 201
        done
        my_api GET "/v1/projects?engine=*"
        expect_jq --arg p "$p" '[.data[] | select(.name == $p) | .engine] | sort == ["mine", "other"]' \
                "the project on both engines"
        [ -f "$T_TMP/state/projects/$p.json" ] || fail "the default engine's record is not in state_dir/projects"
        [ -f "$T_TMP/state/engines/other/projects/$p.json" ] ||
                fail "the other engine's record is not in state_dir/engines/other/projects"
        my_api POST "/v1/projects/$p/down?engine=other" '{}'
        expect_ok
        other_api GET "/containers/json?all=1&filters=$(jq -rn --arg p "com.docker.compose.project=$p" '{label: [$p]} | tojson | @uri')"
        [ "$(jq length <<<"$EBODY")" = 0 ] || fail "down ?engine=other left containers on $OTHER"
        my_api GET "/v1/projects/$p"
        expect_ok
        expect_jq '[.data.services[].containers[]] | length == 1' \
                "the default engine's project still up after the other's down"
        my_api POST "/v1/projects/$p/down" '{}'
        expect_ok
        stop_cmsd
        other_cleanup
}

# The sampler runs per engine: a container on the other engine gets its series there.
engines_metrics() {
        local b
        need_other
        engines_cmsd
        b=$(unique met)
        my_create other "$b"
        wait_for "my_api GET '/v1/metrics?engine=other&container=$b'; [ \"\$STATUS\" = 200 ]" 20 ||
                fail "no series for $b on engine other: $STATUS $(short "$BODY")"
        my_api GET "/v1/metrics?container=$b"
        [ "$STATUS" = 404 ] || fail "the default engine's sampler has $b: $STATUS $(short "$BODY")"
        my_api GET "/v1/metrics?engine=other&container=$b"
        expect_json .data.engine other
        # /metrics: every engine's containers, each series labelled with its engine.
        wait_for "my_api GET /metrics; grep -q '^container_memory_usage_bytes{engine=\"other\",id=\"[^\"]*\",image=\"[^\"]*\",name=\"$b\"' <<<\"\$BODY\"" 20 ||
                fail "no engine=\"other\" series for $b on /metrics"
        grep -q '^cmsd_engine_up{engine="mine"} 1$' <<<"$BODY" || fail "no cmsd_engine_up{engine=\"mine\"}"
        grep -q '^cmsd_engine_up{engine="other"} 1$' <<<"$BODY" || fail "no cmsd_engine_up{engine=\"other\"}"
        [ "$(grep -c '^# TYPE container_memory_usage_bytes ' <<<"$BODY")" = 1 ] || fail "a family declared twice"
        my_api GET "/metrics?engine=mine"
        ! grep -q "name=\"$b\"" <<<"$BODY" || fail "/metrics?engine=mine shows the other engine's $b"
        grep -q '^cmsd_engine_up{engine="mine"} 1$' <<<"$BODY" || fail "?engine=mine: series not labelled"
        stop_cmsd
        other_cleanup
}

# cmsctl: engine ls, --engine NAME and --engine '*' (an ENGINE column, a warning on stderr for
# an engine that is down, the others' rows still printed).
engines_cmsctl() {
        local ctl b out
        ctl="$(dirname "$CMSD_BIN")/cmsctl"
        need_other
        engines_cmsd '  - {name: gone, url: "unix://'"$T_TMP"'/no-engine.sock"}'
        printf '%s' "$TOK_ADMIN" >"$T_TMP/tok"
        export CMSD_URL=$MY_URL
        out=$("$ctl" --token-file "$T_TMP/tok" engine ls) || fail "engine ls failed: $out"
        grep -Eq "^mine +\* +$ENGINE +[^ ]+ +up " <<<"$out" || fail "engine ls, mine: $out"
        grep -Eq "^other +$OTHER +[^ ]+ +up " <<<"$out" || fail "engine ls, other: $out"
        grep -Eq "^gone +unknown +down .*no-engine.sock" <<<"$out" || fail "engine ls, gone: $out"
        b=$(unique ctl)
        my_create other "$b"
        out=$("$ctl" --token-file "$T_TMP/tok" --engine other ps) || fail "ps --engine other: $out"
        grep -q "$b" <<<"$out" || fail "ps --engine other does not show $b: $out"
        out=$("$ctl" --token-file "$T_TMP/tok" ps) || fail "ps: $out"
        ! grep -q "$b" <<<"$out" || fail "ps on the default engine shows $b of the other: $out"
        out=$("$ctl" --token-file "$T_TMP/tok" --engine '*' ps 2>"$T_TMP/err") || fail "ps --engine '*': $out"
        grep -Eq "^other +[0-9a-f]{12} .*$b\$" <<<"$out" || fail "ps --engine '*': no ENGINE column with $b: $out"
        grep -q "warning: engine gone:" "$T_TMP/err" || fail "no warning for the engine that is down: $(cat "$T_TMP/err")"
        "$ctl" --token-file "$T_TMP/tok" --engine nope ps >/dev/null 2>&1
        [ $? = 3 ] || fail "an unknown engine did not exit 3 (not found)"
        stop_cmsd
        other_cleanup
}

# A tcp:// engine behind TLS with client certificates: a private dockerd of this test's own (its
# own roots, pidfile, containerd namespace and bridge, no iptables), certificates made here.
tls_certs() { # DIR: ca.pem, server.pem/-key.pem (127.0.0.1), client.pem/-key.pem, other CA's client
        local d=$1 n
        mkdir -p "$d"
        for n in ca other; do
                openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
                        -keyout "$d/$n-key.pem" -out "$d/$n.pem" -subj "/CN=cmsd-test-$n" 2>/dev/null || return 1
        done
        printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$d/server.ext"
        printf 'extendedKeyUsage=clientAuth\n' >"$d/client.ext"
        for n in server client stranger; do
                openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
                        -keyout "$d/$n-key.pem" -out "$d/$n.csr" -subj "/CN=$n" 2>/dev/null || return 1
                local ca=ca ext=client
                [ "$n" = server ] && ext=server
                [ "$n" = stranger ] && ca=other
                openssl x509 -req -in "$d/$n.csr" -CA "$d/$ca.pem" -CAkey "$d/$ca-key.pem" \
                        -CAcreateserial -days 2 -extfile "$d/$ext.ext" -out "$d/$n.pem" 2>/dev/null || return 1
        done
}

engines_tls() {
        local d="$T_TMP/tls" dd="$T_TMP/dd" port br dpid out b cid x
        command -v openssl >/dev/null || fail "openssl is not installed"
        trap tls_cleanup EXIT
        tls_certs "$d" || fail "could not make the test certificates"
        port=$(free_port) || fail "no free port"
        br="cmsdt$((RANDOM % 10000))"
        ip link add "$br" type bridge || fail "cannot make bridge $br"
        echo "$br" >"$T_TMP/bridge"
        ip addr add "10.$((RANDOM % 50 + 200)).$((RANDOM % 250)).1/24" dev "$br"
        ip link set "$br" up
        mkdir -p "$dd"
        # The exec root holds containerd's sockets, whose paths may not pass 107 bytes: a short
        # directory of its own, not one under the (checkout-deep) work dir.
        x=$(mktemp -d /tmp/cmsdtls.XXXXXX) || fail "no exec root"
        echo "$x" >"$T_TMP/xroot"
        dockerd --data-root "$dd/data" --exec-root "$x" -H "tcp://127.0.0.1:$port" --tlsverify \
                --tlscacert "$d/ca.pem" --tlscert "$d/server.pem" --tlskey "$d/server-key.pem" \
                --pidfile "$dd/docker.pid" --iptables=false --ip-masq=false --bridge="$br" \
                --containerd-namespace "cmsdtls$$" --containerd-plugins-namespace "cmsdtls$$p" \
                >"$T_TMP/dockerd.log" 2>&1 &
        dpid=$!
        echo "$dpid" >"$T_TMP/dockerd.pid"
        local tc=(--cacert "$d/ca.pem" --cert "$d/client.pem" --key "$d/client-key.pem")
        wait_for "[ \"\$(curl -s --max-time 2 ${tc[*]} https://127.0.0.1:$port/_ping)\" = OK ]" 30 ||
                fail "the TLS dockerd did not answer: $(tail -n 3 "$T_TMP/dockerd.log")"
        docker save "$IMG" | curl -sS --max-time 120 "${tc[@]}" -H 'Content-Type: application/x-tar' \
                --data-binary @- "https://127.0.0.1:$port/v1.41/images/load" >/dev/null ||
                fail "could not load $IMG into the TLS dockerd"
        engines_cmsd "  - {name: tls, url: \"tcp://127.0.0.1:$port\", tls: {ca: \"$d/ca.pem\", cert: \"$d/client.pem\", key: \"$d/client-key.pem\"}}
  - {name: stranger, url: \"tcp://127.0.0.1:$port\", tls: {ca: \"$d/ca.pem\", cert: \"$d/stranger.pem\", key: \"$d/stranger-key.pem\"}}"
        my_api GET /v1/engines
        expect_ok
        expect_jq '.data[] | select(.name == "tls") | .state == "up" and .runtime == "docker"
                and .url == "tcp://127.0.0.1:'"$port"'"' "the TLS engine up"
        expect_jq '.data[] | select(.name == "stranger") | .state == "down" and (.last_error | length) > 0' \
                "a client certificate of another CA: down, with the reason"
        b=$(unique tls)
        my_create tls "$b"
        cid=$CID
        out=$(curl -sS --max-time 10 "${tc[@]}" "https://127.0.0.1:$port/v1.41/containers/$cid/json" | jq -r .State.Status)
        [ "$out" = running ] || fail "$b is not running on the TLS engine ($out)"
        my_api GET "/v1/containers?engine=*&label=cmsd-test-run=$RUN_ID"
        expect_jq --arg c "$cid" '(.data[] | select(.id == $c) | .engine) == "tls"
                and ([.warnings[].engine] == ["stranger"])' "listed with engine tls; the stranger warned"
        my_api POST "/v1/containers/$b/exec?engine=tls" '{"command": ["echo", "over-tls"]}'
        expect_ok
        expect_jq '.data.stdout | test("over-tls")' "exec without stdin over TLS"
        my_api POST "/v1/containers/$b/exec?engine=tls" '{"command": ["cat"], "stdin": "x"}'
        expect_error 501 not_implemented
        my_api DELETE "/v1/containers/$b?engine=tls&force=true"
        expect_ok
        stop_cmsd
        # A missing key file: cmsd refuses to start and says which.
        sed -i "s|$d/client-key.pem|$d/nope.pem|" "$T_TMP/cmsd.yaml"
        if "$CMSD_BIN" --config "$T_TMP/cmsd.yaml" >"$T_TMP/bad.out" 2>&1; then
                fail "cmsd started with a missing TLS key"
        fi
        grep -q "tls.key $d/nope.pem" "$T_TMP/bad.out" || fail "the refusal does not name the key: $(cat "$T_TMP/bad.out")"
}

t engines_tls engines_tls
t engines_list engines_list
t engines_cmsctl engines_cmsctl
t engines_fanout engines_fanout
t engines_partial engines_partial
t engines_token engines_token
t engines_bad_input engines_bad_input
t engines_projects engines_projects
t engines_metrics engines_metrics
done_file
