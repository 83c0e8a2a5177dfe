#!/usr/bin/env bash
# cmsctl driven as a user drives it, against the suite's cmsd: its tables and its --format json
# compared with what the API returns, the lifecycle verbs seen on the engine, logs (and -f
# ending when the container stops), tag/rmi/history and network/volume create/inspect/rm, the
# exit codes of a bad token, a denied role, an unknown
# container, a stopped cmsd and bad usage, and a table cut to a narrow terminal (script(1)).
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
        local name pid
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

t lists_match_api lists_match_api
t lifecycle_verbs lifecycle_verbs
t logs_and_follow logs_and_follow
t exit_codes exit_codes
t objects_and_images objects_and_images
t narrow_terminal narrow_terminal
done_file
