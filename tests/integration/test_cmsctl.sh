#!/usr/bin/env bash
# cmsctl driven as a user drives it, against the suite's cmsd: its tables and its --format json
# compared with what the API returns, the lifecycle verbs seen on the engine, logs (and -f
# ending when the container stops), tag/rmi/history and network/volume create/inspect/rm, the
# exit codes of a bad token, a denied role, an unknown container, a stopped cmsd and bad usage,
# a table cut to a narrow terminal (script(1)); run attached (the container's exit code) and
# detached with its options seen on the engine, exec (-i, exit codes), health, deploy, templates,
# push/pull through the test registry (progress redrawn on a terminal, plain when piped), build
# from a directory with .dockerignore, stats, events, system info/df/prune, network
# connect/disconnect/prune, volume prune, audit and policy check.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

CTL="$(dirname "$CMSD_BIN")/cmsctl"

# ctl [TOKEN] -- ARGS...: runs cmsctl against the suite's cmsd; sets OUT, ERR, RC.
ctl() {
        local tok=$TOK_ADMIN
        if [ "$1" != -- ]; then
                tok=$1
                shift
        fi
        shift
        CMSD_URL=$CMSD_URL CMSD_TOKEN=$tok timeout 60 "$CTL" "$@" >"$T_TMP/ctl_out" 2>"$T_TMP/ctl_err"
        RC=$?
        OUT=$(cat "$T_TMP/ctl_out")
        ERR=$(cat "$T_TMP/ctl_err")
}

expect_rc() {
        [ "$RC" = "$1" ] || fail "cmsctl exited $RC, want $1; stderr: $(short "$ERR") stdout: $(short "$OUT")"
}

lists_match_api() {
        local name
        name=$(unique ctl)
        run_c "$name"
        ctl -- ps
        expect_rc 0
        head -n 1 <<<"$OUT" | grep -qE '^CONTAINER ID +IMAGE +CREATED +STATUS +PORTS +NAMES$' ||
                fail "ps header: $(head -n 1 <<<"$OUT")"
        grep -E "^${CID:0:12} .* $name\$" <<<"$OUT" | grep -q 'Up ' || fail "ps has no row for $name: $(short "$OUT")"
        # --format json is the API's data, exactly.
        ctl -- --format json ps
        expect_rc 0
        api GET /v1/containers
        expect_ok
        jq -e --argjson a "$OUT" --arg n "$name" '([.data[] | select(.name == $n)] == [$a[] | select(.name == $n)])' \
                <<<"$BODY" >/dev/null || fail "ps --format json differs from GET /v1/containers for $name"
        # -q: one short id a line, the same set as the API's (this run's containers).
        ctl -- ps -q --filter "label=cmsd-test-run=$RUN_ID"
        expect_rc 0
        api GET "/v1/containers?label=cmsd-test-run=$RUN_ID"
        [ "$(sort <<<"$OUT")" = "$(jq -r '.data[].id[0:12]' <<<"$BODY" | sort)" ] || fail "ps -q differs from the API's ids"
        ctl -- ps --filter "name=$name"
        [ "$(grep -c . <<<"$OUT")" = 2 ] || fail "ps --filter name=$name: $(short "$OUT")"
        # Networks and volumes of this test, by label (other tests may make and remove theirs).
        api POST /v1/networks "{\"name\": \"$name\", \"labels\": {\"cmsd-test\": \"1\", \"ctl\": \"$name\"}}" "$TOK_OPERATOR"
        expect_ok 201
        api POST /v1/volumes "{\"name\": \"$name\", \"labels\": {\"cmsd-test\": \"1\", \"ctl\": \"$name\"}}" "$TOK_OPERATOR"
        expect_ok 201
        for what in network volume; do
                ctl -- --format json "$what" ls --filter "label=ctl=$name"
                expect_rc 0
                api GET "/v1/${what}s?label=ctl=$name"
                jq -e --argjson a "$OUT" '.data == $a and (.data | length) == 1' <<<"$BODY" >/dev/null ||
                        fail "$what ls --format json differs from GET /v1/${what}s: $(short "$OUT")"
                ctl -- "$what" ls --filter "label=ctl=$name"
                grep -qF "$name" <<<"$OUT" || fail "$what ls has no row for $name: $(short "$OUT")"
                api DELETE "/v1/${what}s/$name" "" "$TOK_OPERATOR"
        done
        ctl -- --format json images
        expect_rc 0
        api GET /v1/images
        jq -e --argjson a "$OUT" '[.data[].id] - [$a[].id] == []' <<<"$BODY" >/dev/null ||
                fail "images --format json lacks images the API lists"
        ctl -- images
        grep -qE "^(localhost/)?${IMG} " <<<"$OUT" || fail "images has no row for $IMG: $(short "$OUT")"
        ctl -- inspect "$name"
        expect_rc 0
        jq -e --arg id "$CID" '.[0].id == $id' <<<"$OUT" >/dev/null || fail "inspect: $(short "$OUT")"
}

lifecycle_verbs() {
        local name
        name=$(unique ctlv)
        run_c "$name"
        ctl -- stop -t 1 "$name"
        expect_rc 0
        [ "$(engine_state "$CID")" = exited ] || fail "stop: engine says $(engine_state "$CID")"
        ctl -- start "$name"
        expect_rc 0
        [ "$(engine_state "$CID")" = running ] || fail "start: engine says $(engine_state "$CID")"
        ctl -- pause "$name"
        expect_rc 0
        [ "$(engine_state "$CID")" = paused ] || fail "pause: engine says $(engine_state "$CID")"
        ctl -- unpause "$name"
        ctl -- restart -t 1 "$name"
        expect_rc 0
        ctl -- kill -s KILL "$name"
        expect_rc 0
        wait_for "[ \"\$(engine_state '$CID')\" = exited ]" 20 || fail "kill: engine says $(engine_state "$CID")"
        ctl -- rm "$name"
        expect_rc 0
        [ "$(engine_state "$CID")" = missing ] || fail "rm: the container is still there"
        ctl -- rm "$name"
        expect_rc 3
        grep -q 'not_found' <<<"$ERR" || fail "rm of a gone container: $(short "$ERR")"
}

logs_and_follow() {
        local name
        name=$(unique ctll)
        run_c "$name" '{"command": ["sh", "-c", "echo out-one; echo err-one >&2; sleep 3; echo out-two"]}'
        wait_for "ctl -- logs '$name'; grep -q out-one <<<\"\$OUT\"" 20 || fail "logs: $(short "$OUT")"
        grep -q err-one <<<"$ERR" || fail "stderr lines do not go to stderr: $(short "$ERR")"
        ctl -- logs --tail 1 -t "$name"
        grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' <<<"$OUT$ERR" || fail "logs -t has no timestamps: $(short "$OUT$ERR")"
        # -f ends by itself when the container stops, with everything printed.
        ctl -- logs -f "$name"
        expect_rc 0
        grep -q out-two <<<"$OUT" || fail "logs -f missed the last line: $(short "$OUT")"
        ctl -- logs nope-not-here
        expect_rc 3
}

exit_codes() {
        ctl bad-token-xxxxxxxxxx -- ps
        expect_rc 4
        grep -q 'unauthorized' <<<"$ERR" || fail "bad token: $(short "$ERR")"
        local name
        name=$(unique ctle)
        run_c "$name"
        ctl "$TOK_VIEWER" -- stop "$name"
        expect_rc 4
        grep -q 'forbidden' <<<"$ERR" || fail "viewer stop: $(short "$ERR")"
        [ "$(engine_state "$CID")" = running ] || fail "a viewer's stop stopped it"
        ctl -- bogus-command
        expect_rc 2
        ctl -- logs
        expect_rc 2
        ctl -- ps --no-such-flag
        expect_rc 2
        CMSD_TOKEN=$TOK_ADMIN timeout 20 "$CTL" --url "http://127.0.0.1:$(free_port)" ps >/dev/null 2>&1
        RC=$?
        expect_rc 5
        # The token from a file; never from an argument.
        printf '%s\n' "$TOK_VIEWER" >"$T_TMP/tok"
        CMSD_URL=$CMSD_URL timeout 20 "$CTL" --token-file "$T_TMP/tok" whoami >"$T_TMP/w" 2>&1
        grep -q '^viewer (viewer' "$T_TMP/w" || fail "whoami with --token-file: $(cat "$T_TMP/w")"
        ctl -- version
        grep -q "Engine: $ENGINE" <<<"$OUT" || fail "version: $(short "$OUT")"
}

objects_and_images() {
        local tag net vol
        tag="cmsd-test/ctl-tag-$RUN_ID-$RANDOM:t1"
        ctl -- tag "$IMG" "$tag"
        expect_rc 0
        ctl -- images
        grep -qE "^(localhost/|docker.io/)?$tag " <<<"$OUT" || fail "images has no row for $tag: $(short "$OUT")"
        ctl -- history "$IMG"
        expect_rc 0
        head -n 1 <<<"$OUT" | grep -qE '^IMAGE +CREATED +CREATED BY +SIZE$' || fail "history: $(short "$OUT")"
        [ "$(grep -c . <<<"$OUT")" -ge 2 ] || fail "history has no layer rows: $(short "$OUT")"
        ctl "$TOK_VIEWER" -- rmi "$tag"
        expect_rc 4
        ctl -- rmi "$tag"
        expect_rc 0
        ctl -- rmi "$tag"
        expect_rc 3
        net=$(unique ctlnet) vol=$(unique ctlvol)
        ctl "$TOK_VIEWER" -- network create "$net"
        expect_rc 4
        for kind in network volume; do
                local n=$net
                [ "$kind" = volume ] && n=$vol
                ctl -- "$kind" create --label cmsd-test=1 --label "ctl=$n" "$n"
                expect_rc 0
                ctl -- "$kind" inspect "$n"
                expect_rc 0
                jq -e --arg n "$n" '.[0].name == $n and .[0].labels.ctl == $n' <<<"$OUT" >/dev/null ||
                        fail "$kind inspect: $(short "$OUT")"
                ctl -- "$kind" create "$n"
                expect_rc 1
                grep -q conflict <<<"$ERR" || fail "$kind create twice: $(short "$ERR")"
                ctl -- "$kind" rm "$n"
                expect_rc 0
                ctl -- "$kind" inspect "$n"
                expect_rc 3
                ctl -- "$kind" frobnicate
                expect_rc 2
        done
}

narrow_terminal() {
        local name out
        command -v script >/dev/null || fail "script(1) not installed (bsdutils)"
        name=$(unique ctl-a-long-name-that-does-not-fit-in-forty-columns)
        run_c "$name"
        out=$(COLUMNS=40 CMSD_URL=$CMSD_URL CMSD_TOKEN=$TOK_ADMIN script -qec "stty cols 40; '$CTL' ps --filter name=$name" /dev/null | tr -d '\r')
        # Colour on a terminal (a running container's status is green), none with NO_COLOR.
        grep -q $'\e\\[32m' <<<"$out" || fail "no colour on a terminal: $(short "$out")"
        NO_COLOR=1 CMSD_URL=$CMSD_URL CMSD_TOKEN=$TOK_ADMIN script -qec "'$CTL' ps --filter name=$name" /dev/null |
                grep -q $'\e' && fail "colour with NO_COLOR set"
        out=$(sed 's/\x1b\[[0-9;]*m//g' <<<"$out")
        # Columns, not bytes: the ellipsis is three bytes.
        while IFS= read -r l; do
                [ "$(printf '%s' "$l" | LC_ALL=C.UTF-8 wc -m)" -le 40 ] ||
                        fail "a line wider than 40 columns on a 40-column terminal: $out"
        done <<<"$out"
        grep -q $'\xe2\x80\xa6' <<<"$out" || fail "nothing cut with an ellipsis: $out"
        # Piped: nothing cut.
        ctl -- ps --filter "name=$name"
        grep -qF "$name" <<<"$OUT" || fail "the full name is missing when piped: $(short "$OUT")"
}

has_image() {
        engine_api GET "/images/$(jq -rn --arg t "$1" '$t | @uri')/json"
        [ "$ESTATUS" = 200 ]
}

run_attached() {
        local name lab=(-l cmsd-test=1 -l "cmsd-test-run=$RUN_ID")
        name=$(unique ctlra)
        # Attached: the output as it comes, stdout and stderr apart, the container's exit code.
        ctl -- run --rm "${lab[@]}" --name "$name" "$IMG" sh -c 'echo out-a; echo err-a >&2; exit 7'
        expect_rc 7
        grep -qx out-a <<<"$OUT" || fail "run: stdout: $(short "$OUT")"
        grep -qx err-a <<<"$ERR" || fail "run: stderr: $(short "$ERR")"
        wait_for "engine_gone '$name'" 10 || fail "run --rm: $name is still there"
        name=$(unique ctlrb)
        ctl -- run "${lab[@]}" --name "$name" "$IMG" true
        expect_rc 0
        [ "$(engine_state "$name")" = exited ] || fail "run without --rm: engine says $(engine_state "$name")"
        ctl -- run "${lab[@]}" --pull never "cmsd-test/not-here-$RUN_ID:1" true
        expect_rc 3
        ctl "$TOK_VIEWER" -- run "${lab[@]}" "$IMG" true
        expect_rc 4
        ctl -- run --memory "$IMG"
        expect_rc 2
}

run_detached_options() {
        local name vol port lab=(-l cmsd-test=1 -l "cmsd-test-run=$RUN_ID")
        name=$(unique ctlrd) vol=$(unique ctlrv) port=$(free_port)
        printf 'FROM_FILE=f1\n# a comment\n' >"$T_TMP/envfile"
        ctl -- run -d "${lab[@]}" --name "$name" -p "127.0.0.1:$port:80" -e A=1 --env-file "$T_TMP/envfile" \
                -m 64m --pids-limit 50 --tmpfs /scratch:size=8m -v "$vol:/data" --health-cmd true \
                --health-interval 1s --restart unless-stopped --add-host db:10.1.2.3 "$IMG" sleep 600
        expect_rc 0
        grep -qE '^[0-9a-f]{64}$' <<<"$OUT" || fail "run -d prints the id: $(short "$OUT")"
        engine_inspect "$name"
        expect_engine '.HostConfig.Memory == 67108864 and .HostConfig.PidsLimit == 50'
        expect_engine --arg p "$port" '.HostConfig.PortBindings["80/tcp"][0].HostPort == $p'
        expect_engine '(.Config.Env | index("A=1")) and (.Config.Env | index("FROM_FILE=f1"))'
        expect_engine '.Config.Healthcheck.Test == ["CMD-SHELL", "true"]'
        expect_engine '.HostConfig.RestartPolicy.Name == "unless-stopped"'
        expect_engine '.HostConfig.ExtraHosts | index("db:10.1.2.3")'
        expect_engine --arg v "$vol" 'any(.Mounts[]; .Name == $v and .Destination == "/data")'
        expect_engine 'any(.Mounts[]?; .Destination == "/scratch") or (.HostConfig.Tmpfs["/scratch"] != null)
                or any(.HostConfig.Mounts[]?; .Target == "/scratch" and .Type == "tmpfs")'
        # exec: the command's exit code, stdout and stderr apart, stdin with -i.
        ctl -- exec -e B=2 "$name" sh -c 'echo "$A$B"; echo e >&2; exit 3'
        expect_rc 3
        [ "$OUT" = 12 ] || fail "exec stdout: $(short "$OUT")"
        [ "$ERR" = e ] || fail "exec stderr: $(short "$ERR")"
        printf 'one\ntwo\nthree\n' >"$T_TMP/in"
        ctl -- exec -i "$name" wc -l <"$T_TMP/in"
        expect_rc 0
        [ "$(tr -d ' ' <<<"$OUT")" = 3 ] || fail "exec -i: $(short "$OUT")"
        ctl "$TOK_VIEWER" -- exec "$name" true
        expect_rc 4
        ctl -- exec "$name"
        expect_rc 2
        # health: a table, and the API's document with --format json.
        wait_for "ctl -- health '$name'; grep -q '^Status: healthy' <<<\"\$OUT\"" 20 ||
                fail "health: $(short "$OUT")"
        ctl -- --format json health "$name"
        jq -e '.status == "healthy" and (.log | length) >= 1' <<<"$OUT" >/dev/null || fail "health json: $(short "$OUT")"
        # Templates.
        ctl -- ps --filter "name=$name" --format '{{.name}} {{.state}} {{json .labels}}'
        [ "$OUT" = "$name running {\"cmsd-test\":\"1\",\"cmsd-test-run\":\"$RUN_ID\"}" ] ||
                fail "ps --format template: $(short "$OUT")"
        ctl -- inspect -f '{{.name}}:{{.resources.memory}}' "$name"
        [ "$OUT" = "$name:67108864" ] || fail "inspect -f: $(short "$OUT")"
        ctl -- ps --format '{{.name'
        expect_rc 2
        # create: made, not started.
        name=$(unique ctlcr)
        ctl -- create "${lab[@]}" --name "$name" "$IMG" sleep 600
        expect_rc 0
        [ "$(engine_state "$name")" = created ] || fail "create: engine says $(engine_state "$name")"
        ctl -- create -d "$IMG"
        expect_rc 2
}

deploy_replace() {
        local name first lab=(-l cmsd-test=1 -l "cmsd-test-run=$RUN_ID")
        name=$(unique ctldp)
        ctl -- deploy "${lab[@]}" --name "$name" "$IMG" sleep 600
        expect_rc 0
        first=$(awk '{print $2}' <<<"$OUT")
        grep -q "^$name [0-9a-f]\{12\} running" <<<"$OUT" || fail "deploy: $(short "$OUT")"
        ctl -- deploy "${lab[@]}" --name "$name" "$IMG" sleep 600
        expect_rc 1
        grep -q conflict <<<"$ERR" || fail "deploy over an existing one: $(short "$ERR")"
        ctl -- deploy --replace --wait-healthy 20s "${lab[@]}" --name "$name" --health-cmd true \
                --health-interval 1s "$IMG" sleep 600
        expect_rc 0
        grep -q "^$name [0-9a-f]\{12\} running healthy" <<<"$OUT" || fail "deploy --replace: $(short "$OUT")"
        [ "$(awk '{print $2}' <<<"$OUT")" != "$first" ] || fail "deploy --replace kept the old container"
}

transfer_and_build() {
        [ -n "${REGISTRY_ADDR:-}" ] || fail "no test registry (see registry.starts)"
        local ref="$REGISTRY_ADDR/$NAME_PREFIX/ctlbb:v1" tag="$NAME_PREFIX-ctlbuild:1" out
        printf '%s\n' "$REGISTRY_PASS" >"$T_TMP/pw"
        api POST "/v1/images/$IMG/tag" "{\"target\": \"$ref\"}"
        expect_ok 201
        ctl -- push --username "$REGISTRY_USER" --password-stdin "$ref" <"$T_TMP/pw"
        expect_rc 0
        [ "$(tail -n 1 <<<"$OUT")" = "$ref" ] || fail "push prints the image: $(short "$OUT")"
        [ -n "$ERR" ] || fail "push: no progress lines"
        grep -q $'\e' <<<"$ERR" && fail "push piped: terminal escapes in: $(short "$ERR")"
        api DELETE "/v1/images/$ref"
        # On a terminal: lines redrawn in place.
        out=$(CMSD_URL=$CMSD_URL CMSD_TOKEN=$TOK_ADMIN script -qec \
                "'$CTL' pull --username '$REGISTRY_USER' --password-stdin '$ref' <'$T_TMP/pw'" /dev/null)
        grep -q $'\e\\[2K' <<<"$out" || fail "pull on a terminal: no progress redrawn: $(short "$out")"
        has_image "$ref" || fail "no $ref after cmsctl pull"
        api DELETE "/v1/images/$ref"
        ctl -- pull -q --username "$REGISTRY_USER" --password-stdin "$ref" <"$T_TMP/pw"
        expect_rc 0
        [ -z "$ERR" ] || fail "pull -q printed progress: $(short "$ERR")"
        ctl -- pull --username "$REGISTRY_USER" --password-stdin "$REGISTRY_ADDR/$NAME_PREFIX/nothere:1" <"$T_TMP/pw"
        expect_rc 3
        ctl "$TOK_VIEWER" -- pull "$ref"
        expect_rc 4
        # build: a local directory, .dockerignore honoured, progress on stderr, the id on stdout.
        mkdir -p "$T_TMP/ctx/sub"
        printf 'FROM %s\nARG X\nCOPY . /ctx\nRUN echo "x=$X" > /ctx/x\n' "$IMG" >"$T_TMP/ctx/Dockerfile"
        echo keep >"$T_TMP/ctx/sub/keep"
        echo secret >"$T_TMP/ctx/secret"
        echo secret >"$T_TMP/ctx/.dockerignore"
        ctl -- build -t "$tag" --build-arg X=42 --label "cmsd-test-run=$RUN_ID" "$T_TMP/ctx"
        expect_rc 0
        grep -qE '^[0-9a-f]{12,64}$' <<<"$OUT" || fail "build prints the id: $(short "$OUT")"
        grep -qi 'step\|COPY' <<<"$ERR" || fail "build output missing: $(short "$ERR")"
        ctl -- run --rm -l cmsd-test=1 -l "cmsd-test-run=$RUN_ID" "$tag" sh -c 'ls -R /ctx; cat /ctx/x'
        expect_rc 0
        grep -qx keep <<<"$OUT" || fail "the built image lacks sub/keep: $(short "$OUT")"
        grep -qx x=42 <<<"$OUT" || fail "--build-arg not passed: $(short "$OUT")"
        grep -qx secret <<<"$OUT" && fail ".dockerignore not honoured: $(short "$OUT")"
        # sbom: the route's CycloneDX document as is with --format json, a table otherwise.
        ctl "$TOK_VIEWER" -- sbom "$tag"
        expect_rc 0
        head -n 1 <<<"$OUT" | grep -qE '^NAME +VERSION +TYPE +PURL$' || fail "sbom table: $(short "$OUT")"
        ctl "$TOK_VIEWER" -- --format json sbom "$tag"
        expect_rc 0
        api GET "/v1/images/$tag/sbom" "" "$TOK_VIEWER"
        jq -e --argjson a "$OUT" '. == $a and .specVersion == "1.5"' <<<"$BODY" >/dev/null ||
                fail "sbom --format json differs from the route: $(short "$OUT")"
        ctl "$TOK_VIEWER" -- sbom "cmsd-test/not-here-$RUN_ID:1"
        expect_rc 3
        ctl "$TOK_VIEWER" -- build -t "$tag" "$T_TMP/ctx"
        expect_rc 4
        mkdir -p "$T_TMP/empty"
        ctl -- build "$T_TMP/empty"
        [ "$RC" != 0 ] || fail "build without a Dockerfile succeeded"
        grep -qi dockerfile <<<"$ERR" || fail "build without a Dockerfile: $(short "$ERR")"
}

stats_and_events() {
        local name since
        since=$(date +%s)
        name=$(unique ctlst)
        run_c "$name"
        # A row with figures once the sampler has sampled it ("--" before).
        wait_for "ctl -- stats --no-stream '$name'; grep ' $name ' <<<\"\$OUT\" | grep -qE '[0-9.]+%'" 20 ||
                fail "stats: no row with figures for $name: $(short "$OUT")"
        head -n 1 <<<"$OUT" | grep -qE '^CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM %' ||
                fail "stats header: $(short "$OUT")"
        ctl -- stats --no-stream --format json "$name"
        jq -e --arg n "$name" '(.containers | length) == 1 and .containers[0].name == $n and
                (.containers[0].points | length) == 1 and has("interval")' \
                <<<"$OUT" >/dev/null || fail "stats --format json: $(short "$OUT")"
        ctl -- stats --no-stream --format '{{.name}}' "$name"
        [ "$OUT" = "$name" ] || fail "stats --format template: $(short "$OUT")"
        api POST "/v1/containers/$name/stop?timeout=1" ""
        ctl -- events --since "$since" --until "$(($(date +%s) + 1))" --filter "container=$name"
        expect_rc 0
        grep -q "container start $CID" <<<"$OUT" || fail "events: no start of $name: $(short "$OUT")"
        grep -q "container die $CID.*name=$name" <<<"$OUT" || fail "events: no die of $name: $(short "$OUT")"
        ctl -- events --filter bogus=1
        expect_rc 2
}

# Ctrl-C: run (attached) forwards it to the container as SIGINT and follows on to its exit code;
# logs -f ends at once with 130, as a shell reports an interrupted command.
interrupts() {
        local name pid rc
        name=$(unique ctlint)
        CMSD_URL=$CMSD_URL CMSD_TOKEN=$TOK_ADMIN "$CTL" run -l cmsd-test=1 -l "cmsd-test-run=$RUN_ID" \
                --name "$name" "$IMG" sh -c 'trap "echo got-int; exit 5" INT; echo ready; while :; do sleep 1; done' \
                >"$T_TMP/int_out" 2>"$T_TMP/int_err" &
        pid=$!
        wait_for "grep -q ready '$T_TMP/int_out'" 20 || fail "run: no output: $(cat "$T_TMP/int_out" "$T_TMP/int_err")"
        kill -INT "$pid"
        wait_for "! kill -0 $pid 2>/dev/null" 20 || { kill -KILL "$pid"; fail "run did not end after Ctrl-C"; }
        wait "$pid"
        rc=$?
        [ "$rc" = 5 ] || fail "run after Ctrl-C exited $rc, want the container's 5: $(cat "$T_TMP/int_err")"
        grep -qx got-int "$T_TMP/int_out" || fail "the container did not get SIGINT: $(cat "$T_TMP/int_out")"
        run_c "$(unique ctlintl)"
        CMSD_URL=$CMSD_URL CMSD_TOKEN=$TOK_ADMIN "$CTL" logs -f "$CID" >/dev/null 2>"$T_TMP/intl_err" &
        pid=$!
        sleep 1
        kill -INT "$pid"
        wait_for "! kill -0 $pid 2>/dev/null" 10 || { kill -KILL "$pid"; fail "logs -f did not end after Ctrl-C"; }
        wait "$pid"
        rc=$?
        [ "$rc" = 130 ] || fail "logs -f after Ctrl-C exited $rc, want 130: $(cat "$T_TMP/intl_err")"
        [ ! -s "$T_TMP/intl_err" ] || fail "logs -f printed on Ctrl-C: $(cat "$T_TMP/intl_err")"
}

admin_commands() {
        local name net vol stopped
        ctl -- system info
        expect_rc 0
        grep -q "^Engine: *$ENGINE " <<<"$OUT" || fail "system info: $(short "$OUT")"
        ctl "$TOK_VIEWER" -- system df
        expect_rc 0
        head -n 1 <<<"$OUT" | grep -qE '^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$' || fail "system df: $(short "$OUT")"
        grep -qE '^Images +[1-9]' <<<"$OUT" || fail "system df counts no image: $(short "$OUT")"
        ctl -- system df --format json
        api GET /v1/system/df "" "$TOK_VIEWER"
        expect_ok
        jq -e --argjson a "$OUT" '(.data | keys) == ($a | keys) and $a.images.count >= 1 and
                ($a.images.size >= $a.images.reclaimable)' <<<"$BODY" >/dev/null ||
                fail "system df json: $(short "$OUT")"
        # Prunes ask first: without -f and no terminal nothing is removed.
        stopped=$(unique ctlpr)
        create "$stopped"
        ctl -- system prune </dev/null
        expect_rc 1
        [ "$(engine_state "$CID")" = created ] || fail "system prune without -f removed a container"
        ctl "$TOK_OPERATOR" -- system prune -f
        expect_rc 4
        # network connect/disconnect/prune, volume prune, by this test's label only.
        name=$(unique ctlnc) net=$(unique ctlpn) vol=$(unique ctlpv)
        run_c "$name"
        ctl -- network create --label cmsd-test=1 --label "ctl=$net" "$net"
        ctl -- network connect --alias "al-$name" "$net" "$name"
        expect_rc 0
        engine_inspect "$CID"
        expect_engine --arg n "$net" '.NetworkSettings.Networks[$n] != null'
        ctl -- network disconnect "$net" "$name"
        expect_rc 0
        engine_inspect "$CID"
        expect_engine --arg n "$net" '.NetworkSettings.Networks[$n] == null'
        ctl -- network connect "$net"
        expect_rc 2
        # The filter goes to the engine: an unused network and volume without the label stay.
        ctl -- network create --label cmsd-test=1 "$net-keep"
        ctl -- volume create --label cmsd-test=1 "$vol-keep"
        ctl -- network prune -f --filter "label=ctl=$net"
        expect_rc 0
        grep -qx "$net" <<<"$OUT" || fail "network prune: $(short "$OUT")"
        grep -q "$net-keep" <<<"$OUT" && fail "network prune ignored the filter: $(short "$OUT")"
        ctl -- volume create --label cmsd-test=1 --label "ctl=$vol" "$vol"
        ctl -- volume prune -f --filter "label=ctl=$vol"
        expect_rc 0
        grep -qx "$vol" <<<"$OUT" || fail "volume prune: $(short "$OUT")"
        grep -q "$vol-keep" <<<"$OUT" && fail "volume prune ignored the filter: $(short "$OUT")"
        ctl -- volume inspect "$vol"
        expect_rc 3
        ctl -- network inspect "$net-keep"
        expect_rc 0
        ctl -- volume inspect "$vol-keep"
        expect_rc 0
        # audit (admin) and policy.
        ctl -- audit --limit 3
        expect_rc 0
        head -n 1 <<<"$OUT" | grep -qE '^TIME +TOKEN +ROLE +METHOD +ROUTE' || fail "audit: $(short "$OUT")"
        ctl -- audit --limit 3 --format json
        jq -e '(.records | length) == 3 and all(.records[]; has("route") and has("status"))' \
                <<<"$OUT" >/dev/null || fail "audit json: $(short "$OUT")"
        ctl "$TOK_VIEWER" -- audit
        expect_rc 4
        ctl "$TOK_CI" -- policy check --privileged "$IMG"
        expect_rc 4
        grep -q 'denied' <<<"$OUT" && grep -q 'privileged' <<<"$OUT" || fail "policy check: $(short "$OUT")"
        ctl "$TOK_CI" -- policy check -e A=1 "$IMG" sleep 1
        expect_rc 0
        grep -q 'policy ci: allowed' <<<"$OUT" || fail "policy check allowed: $(short "$OUT")"
        printf 'services:\n  s:\n    image: %s\n    volumes: ["/etc:/host-etc"]\n' "$IMG" >"$T_TMP/c.yaml"
        ctl "$TOK_CI" -- policy check --compose "$T_TMP/c.yaml"
        expect_rc 4
        grep -q 'services.s.volumes' <<<"$OUT" || fail "policy check --compose: $(short "$OUT")"
        ctl -- policy ls
        expect_rc 0
        jq -e '.policies | any(.name == "ci")' <<<"$OUT" >/dev/null || fail "policy ls: $(short "$OUT")"
}

t lists_match_api lists_match_api
t lifecycle_verbs lifecycle_verbs
t logs_and_follow logs_and_follow
t exit_codes exit_codes
t objects_and_images objects_and_images
t narrow_terminal narrow_terminal
t run_attached run_attached
t run_detached_options run_detached_options
t deploy_replace deploy_replace
t transfer_and_build transfer_and_build
t stats_and_events stats_and_events
t admin_commands admin_commands
t interrupts interrupts
done_file
