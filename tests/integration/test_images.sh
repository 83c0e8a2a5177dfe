#!/usr/bin/env bash
# Image routes: list/inspect/history of the local test image, tag and remove, malformed refs,
# builds that really run (ARG, RUN, LABEL; the result is run and checked; progress streams; a
# failing step's output in the error; bodies that are no tar, too big or empty), push and pull
# through a real registry with htpasswd credentials (wrong or missing credentials and unknown
# images are clear errors, never a 200), and a label-scoped prune that keeps the test images.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

# The repository names this run uses: lower-case, under the run's prefix (cleanup finds them).
REPO="$NAME_PREFIX/app"

# ctx_tar DIR OUT: a tar of DIR's contents.
ctx_tar() {
        tar -C "$1" -cf "$2" . || fail "tar of $1 failed"
}

# make_ctx DIR [RUN-COMMAND]: a small context FROM the test image with an ARG, a RUN and a LABEL.
make_ctx() {
        mkdir -p "$1"
        cat >"$1/Dockerfile" <<EOF
FROM $IMG
ARG GREETING=hello
RUN echo "\$GREETING from the build" > /greeting && echo step-output-marker
LABEL org.cmsd.test.built="yes"
${2:+RUN $2}
CMD ["cat", "/greeting"]
EOF
}

# build QUERY TAR [EXTRA-CURL-ARGS...]: POST /v1/images/build with a tar body.
build() {
        local q=$1 tar=$2
        shift 2
        apix -H 'Content-Type: application/x-tar' "$@" -- POST "/v1/images/build$q" "@$tar" "$TOK_OPERATOR"
}

engine_has_image() {
        engine_api GET "/images/$(jq -rn --arg t "$1" '$t | @uri')/json"
        [ "$ESTATUS" = 200 ]
}

auth_json() {
        jq -cn --arg u "${1:-$REGISTRY_USER}" --arg p "${2:-$REGISTRY_PASS}" '{username: $u, password: $p}'
}

list_inspect_history() {
        local id
        api GET /v1/images "" "$TOK_VIEWER"
        expect_ok
        expect_jq '.data | any(.tags | any(endswith("cmsd-test/busybox:latest")))' "the test image listed"
        expect_jq '.data | all(has("id") and has("tags") and has("size") and has("created") and has("labels"))'
        engine_api GET "/images/$IMG/json"
        id=$(jq -r .Id <<<"$EBODY")
        api GET "/v1/images/$IMG" "" "$TOK_VIEWER"
        expect_ok
        expect_json .data.id "$id"
        expect_jq --arg id "$id" '.data.raw.Id == $id and (.data.config.command | type) == "array"'
        api GET "/v1/images/$id" "" "$TOK_VIEWER"
        expect_ok
        expect_json .data.id "$id"
        api GET "/v1/images/$IMG/history" "" "$TOK_VIEWER"
        expect_ok
        expect_jq '(.data | length) >= 1 and (.data[0] | has("created_by") and has("size"))' "history layers"
        api GET "/v1/images?dangling=false&reference=cmsd-test/busybox" "" "$TOK_VIEWER"
        expect_ok
        expect_jq '(.data | length) >= 1 and all(.data[]; .dangling == false)'
}

bad_refs() {
        local p
        for p in "UPPER/case" "a..b" "x:" "bad:tag:" "repo@sha256:abc" "-lead"; do
                api GET "/v1/images/$(jq -rn --arg t "$p" '$t | @uri')"
                expect_error 400 bad_request
        done
        api GET "/v1/images/$NAME_PREFIX-nosuch:1"
        expect_error 404 not_found
        api DELETE "/v1/images/$NAME_PREFIX-nosuch:1"
        expect_error 404 not_found
        api POST "/v1/images/$IMG/tag" '{"target": "Not/Valid"}'
        expect_error 400 bad_request
        api POST "/v1/images/$IMG/tag" '{}'
        expect_error 400 bad_request
        api POST /v1/images/pull '{"image": "bad ref!"}'
        expect_error 400 bad_request
        api POST /v1/images/pull '{"image": "busybox:1", "tag": "2"}'
        expect_error 400 bad_request
        api POST /v1/images/pull '{"image": "busybox", "bogus": 1}'
        expect_error 400 bad_request
        api POST /v1/images/pull '{"image": "busybox", "auth": "user:pw"}'
        expect_error 400 bad_request
        api POST "/v1/images/$IMG/push" '{"tag": "x y"}'
        expect_error 400 bad_request
        api POST "/v1/images/$NAME_PREFIX-nosuch:1/push" '{}'
        expect_error 404 not_found
}

tag_remove() {
        local target="$REPO:tagged" id
        api POST "/v1/images/$IMG/tag" "{\"target\": \"$target\"}" "$TOK_OPERATOR"
        expect_ok 201
        expect_json .data.target "$target"
        id=$(jq -r .data.id <<<"$BODY")
        engine_has_image "$target" || fail "the engine has no $target after tag"
        expect_engine --arg id "$id" '.Id == $id' "$target pointing at the source image"
        api DELETE "/v1/images/$target" "" "$TOK_VIEWER"
        expect_error 403 forbidden
        api DELETE "/v1/images/$target" "" "$TOK_OPERATOR"
        expect_ok
        expect_jq '(.data.untagged | length) >= 1' "the tag reported untagged"
        engine_has_image "$target" && fail "$target still on the engine after remove"
        engine_has_image "$IMG" || fail "removing a second tag removed the test image"
}

build_and_run() {
        local dir="$T_TMP/ctx" tag1="$REPO:b1" tag2="$REPO:b2" id c
        make_ctx "$dir"
        ctx_tar "$dir" "$T_TMP/ctx.tar"
        build "?tag=$tag1&tag=$tag2&buildarg=GREETING=hi-from-arg&label=cmsd-test-run=$RUN_ID&label=extra=1" \
                "$T_TMP/ctx.tar"
        expect_ok
        id=$(jq -r .data.id <<<"$BODY")
        expect_jq --arg a "$tag1" --arg b "$tag2" '.data.tags == [$a, $b] and (.data.id | startswith("sha256:"))'
        for t in "$tag1" "$tag2"; do
                engine_has_image "$t" || fail "no $t on the engine after the build"
                expect_engine --arg id "$id" '.Id == $id' "$t is the built image"
        done
        expect_engine '.Config.Labels["org.cmsd.test.built"] == "yes" and .Config.Labels.extra == "1"' \
                "the Dockerfile's LABEL and the label query on the image"
        api GET "/v1/images/$tag1"
        expect_ok
        expect_json '.data.labels["org.cmsd.test.built"]' yes
        # Run it: the CMD prints what the RUN step wrote with the ARG.
        c=$(unique built)
        create "$c" "{\"image\": \"$tag1\", \"command\": null}" '?start=true'
        wait_exited "$CID"
        api GET "/v1/containers/$c/logs"
        expect_ok
        expect_json '.data.lines[0].text' "hi-from-arg from the build"
        # Its last tag, used by a container: 409 conflict, and the image stays.
        api DELETE "/v1/images/$tag2"
        expect_ok
        api DELETE "/v1/images/$tag1" "" "$TOK_OPERATOR"
        expect_error 409 conflict
        engine_has_image "$tag1" || fail "$tag1 gone after a refused remove"
        api DELETE "/v1/containers/$c?force=true"
        expect_ok
        api DELETE "/v1/images/$tag1" "" "$TOK_OPERATOR"
        expect_ok
        expect_jq --arg id "$id" '.data.deleted | any(. == $id)' "the image deleted"
}

build_streams() {
        local dir="$T_TMP/ctx" tag="$REPO:s1"
        make_ctx "$dir"
        ctx_tar "$dir" "$T_TMP/ctx.tar"
        build "?tag=$tag&label=cmsd-test-run=$RUN_ID" "$T_TMP/ctx.tar" -H 'Accept: application/x-ndjson'
        expect_status 200
        expect_header Content-Type 'application/x-ndjson'
        jq -e -s 'all(has("type"))' <<<"$BODY" >/dev/null || fail "NDJSON objects without a type: $(short "$BODY")"
        jq -e -s 'any(.type == "output" and (.text | test("step-output-marker")))' <<<"$BODY" >/dev/null ||
                fail "the RUN step's output not in the stream: $(short "$BODY")"
        jq -e -s --arg t "$tag" 'last | .type == "done" and .tags == [$t] and (.id | startswith("sha256:"))' \
                <<<"$BODY" >/dev/null || fail "the stream does not end with done: $(short "$BODY")"
        build "?tag=$tag&nocache=true&label=cmsd-test-run=$RUN_ID" "$T_TMP/ctx.tar" -H 'Accept: text/event-stream'
        expect_status 200
        grep -q '^event: output' <<<"$BODY" || fail "no SSE output events: $(short "$BODY")"
        grep -q '^event: done' <<<"$BODY" || fail "no SSE done event: $(short "$BODY")"
}

build_fails() {
        local dir="$T_TMP/ctx" tag="$REPO:fails"
        make_ctx "$dir" 'echo failing-step-says-why && exit 3'
        ctx_tar "$dir" "$T_TMP/ctx.tar"
        build "?tag=$tag&label=cmsd-test-run=$RUN_ID" "$T_TMP/ctx.tar"
        expect_error 400 bad_request
        expect_jq '.error.message | test("failing-step-says-why") and test("exit 3")' \
                "the failing step and its output in the message"
        engine_has_image "$tag" && fail "a failed build left the tag $tag"
        # Asked as a stream, a failure that comes at once is still a plain error envelope (the
        # 200 of a stream is only sent once the work is under way).
        build "?tag=$tag&label=cmsd-test-run=$RUN_ID" "$T_TMP/ctx.tar" -H 'Accept: application/x-ndjson'
        expect_error 400 bad_request
        expect_jq '.error.message | test("failing-step-says-why")'
        # A failure after the stream started is its last event, typed "error": a step that fails
        # after a few seconds of output.
        make_ctx "$dir" 'echo late-step-output && sleep 3 && exit 4'
        ctx_tar "$dir" "$T_TMP/late.tar"
        build "?tag=$tag&label=cmsd-test-run=$RUN_ID&nocache=true" "$T_TMP/late.tar" -H 'Accept: application/x-ndjson'
        expect_status 200
        jq -e -s 'last | .type == "error" and .error.code == "bad_request" and
                (.error.message | test("late-step-output"))' <<<"$BODY" >/dev/null ||
                fail "streamed late build failure: $(short "$BODY")"
        engine_has_image "$tag" && fail "a failed build left the tag $tag"
        return 0
}

build_bad_bodies() {
        local tag="$REPO:badbody" dir="$T_TMP/ctx"
        printf 'this is not a tar archive, just some text long enough to fill a block\n%.0s' $(seq 20) \
                >"$T_TMP/notar"
        build "?tag=$tag" "$T_TMP/notar"
        expect_error 400 bad_request
        expect_jq '.error.message | test("not a tar")'
        : >"$T_TMP/empty"
        apix -H 'Content-Type: application/x-tar' -- POST "/v1/images/build?tag=$tag" "" "$TOK_OPERATOR"
        expect_error 400 bad_request
        apix -H 'Content-Type: application/json' -- POST "/v1/images/build?tag=$tag" '{"a":1}' "$TOK_OPERATOR"
        expect_error 415 unsupported_media_type
        make_ctx "$dir"
        ctx_tar "$dir" "$T_TMP/ctx.tar"
        build "?tag=$tag&dockerfile=../Dockerfile" "$T_TMP/ctx.tar"
        expect_error 400 bad_request
        build "?tag=$tag&dockerfile=NoSuchDockerfile" "$T_TMP/ctx.tar"
        expect_error 400 bad_request
        build "?tag=Bad/Tag" "$T_TMP/ctx.tar"
        expect_error 400 bad_request
        build "?tag=$tag&buildarg=novalue" "$T_TMP/ctx.tar"
        expect_error 400 bad_request
        apix -H 'Content-Type: application/x-tar' -- POST "/v1/images/build?tag=$tag" "@$T_TMP/ctx.tar" "$TOK_VIEWER"
        expect_error 403 forbidden
        engine_has_image "$tag" && fail "a refused build left $tag"
        return 0
}

# Compressed contexts as libarchive recognizes them: each compression builds (zstd only where the
# engine reads it: Podman, Docker 23+; an older Docker gets a clear 400 from cmsd, not its own
# "unexpected EOF"); bodies with no tar entry in them are refused before the engine sees them.
build_compressed() {
        local dir="$T_TMP/zctx" tag="$REPO:zipped" c ver
        make_ctx "$dir"
        ctx_tar "$dir" "$T_TMP/z.tar"
        engine_api GET /version
        ver=$(jq -r '.Version // "0"' <<<"$EBODY")
        for c in gzip bzip2 xz zstd; do
                "$c" -q -c "$T_TMP/z.tar" >"$T_TMP/z.$c" || fail "$c failed"
                build "?tag=$tag" "$T_TMP/z.$c"
                if [ "$c" = zstd ] && [ "$ENGINE" = docker ] && [ "${ver%%.*}" -lt 23 ]; then
                        expect_error 400 bad_request
                        expect_jq '.error.message | test("cannot read a zstd")'
                        continue
                fi
                expect_ok
                engine_has_image "$tag" || fail "no $tag after a $c context"
                api DELETE "/v1/images/$tag" "" "$TOK_OPERATOR"
                expect_ok
        done
        # gzip of something that is not a tar; the start of a gzip'd tar cut short; an empty tar.
        head -c 4096 /dev/urandom | gzip -c >"$T_TMP/junk.gz"
        build "?tag=$tag" "$T_TMP/junk.gz"
        expect_error 400 bad_request
        expect_jq '.error.message | test("not a tar")'
        head -c 20 "$T_TMP/z.gzip" >"$T_TMP/cut.gz"
        build "?tag=$tag" "$T_TMP/cut.gz"
        expect_error 400 bad_request
        tar -cf "$T_TMP/empty.tar" -T /dev/null
        build "?tag=$tag" "$T_TMP/empty.tar"
        expect_error 400 bad_request
        expect_jq '.error.message | test("holds no files")'
        engine_has_image "$tag" && fail "a refused body left $tag"
        return 0
}

# A context over limits.max_build_context: 413, whether the size is announced or streamed.
build_too_large() {
        local port conf dir="$T_TMP/big" tag="$REPO:big"
        make_ctx "$dir"
        head -c 300000 /dev/urandom >"$dir/blob"
        ctx_tar "$dir" "$T_TMP/big.tar"
        port=$(free_port)
        conf="$T_TMP/cmsd.yaml"
        write_config "$conf" "$port" "unix://$ENGINE_SOCK"
        sed -i 's/^limits: .*/limits: {max_body: 1m, max_build_context: 64k}/' "$conf"
        start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
        local CMSD_URL=$MY_URL
        build "?tag=$tag" "$T_TMP/big.tar"
        expect_error 413 payload_too_large
        build "?tag=$tag" "$T_TMP/big.tar" -H 'Transfer-Encoding: chunked'
        expect_error 413 payload_too_large
        build "?tag=$tag" "$T_TMP/big.tar" -H 'Transfer-Encoding: chunked' -H 'Accept: application/x-ndjson'
        expect_error 413 payload_too_large
        engine_has_image "$tag" && fail "an oversized build left $tag"
        # A context under the cap still builds through the same cmsd.
        make_ctx "$T_TMP/small"
        ctx_tar "$T_TMP/small" "$T_TMP/small.tar"
        build "?tag=$tag&label=cmsd-test-run=$RUN_ID" "$T_TMP/small.tar"
        expect_ok
        stop_cmsd
        [ "$MY_RC" = 0 ] || fail "private cmsd exit status $MY_RC"
}

push_pull() {
        [ -n "${REGISTRY_ADDR:-}" ] || fail "no test registry (see registry.starts)"
        local ref="$REGISTRY_ADDR/$NAME_PREFIX/bb:v1" digest
        api POST "/v1/images/$IMG/tag" "{\"target\": \"$ref\"}"
        expect_ok 201
        api POST "/v1/images/$ref/push" "{\"auth\": $(auth_json "" wrong-password)}" "$TOK_OPERATOR"
        expect_error 502 engine_error
        expect_jq '.error.message | test("unauthorized|authentication"; "i")' "the registry's reason"
        api POST "/v1/images/$ref/push" '{}' "$TOK_OPERATOR"
        expect_error 502 engine_error
        api POST "/v1/images/$ref/push" "{\"auth\": $(auth_json)}" "$TOK_VIEWER"
        expect_error 403 forbidden
        api POST "/v1/images/$ref/push" "{\"auth\": $(auth_json)}" "$TOK_OPERATOR"
        expect_ok
        expect_json .data.image "$ref"
        expect_jq '.data.digest | startswith("sha256:")' "the pushed digest"
        digest=$(jq -r .data.digest <<<"$BODY")
        # The registry really has it (checked with the registry's own API).
        [ "$(curl -sk -o /dev/null -w '%{http_code}' -u "$REGISTRY_USER:$REGISTRY_PASS" \
                -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
                -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
                "https://$REGISTRY_ADDR/v2/$NAME_PREFIX/bb/manifests/$digest")" = 200 ] ||
                fail "the registry has no manifest $digest"
        api DELETE "/v1/images/$ref"
        expect_ok
        engine_has_image "$ref" && fail "$ref still local after remove"
        api POST /v1/images/pull "{\"image\": \"$ref\", \"auth\": $(auth_json "" wrong-password)}" "$TOK_OPERATOR"
        expect_error 502 engine_error
        expect_jq '.error.message | test("unauthorized|authentication"; "i")' "the registry's reason"
        engine_has_image "$ref" && fail "a refused pull left $ref"
        api POST /v1/images/pull "{\"image\": \"$REGISTRY_ADDR/$NAME_PREFIX/nothere\", \"tag\": \"v9\", \"auth\": $(auth_json)}"
        expect_error 404 not_found
        expect_jq '.error.message | test("nothere")'
        api POST /v1/images/pull '{"image": "127.0.0.1:1/cmsdt/none:1"}'
        expect_error 502 engine_error
        api POST /v1/images/pull "{\"image\": \"$REGISTRY_ADDR/$NAME_PREFIX/bb\", \"tag\": \"v1\", \"auth\": $(auth_json)}" "$TOK_OPERATOR"
        expect_ok
        expect_json .data.image "$ref"
        engine_has_image "$ref" || fail "no $ref on the engine after the pull"
}

pull_streams() {
        [ -n "${REGISTRY_ADDR:-}" ] || fail "no test registry (see registry.starts)"
        local ref="$REGISTRY_ADDR/$NAME_PREFIX/bb:v2"
        api POST "/v1/images/$IMG/tag" "{\"target\": \"$ref\"}"
        expect_ok 201
        apix -H 'Accept: application/x-ndjson' -- POST "/v1/images/$ref/push" "{\"auth\": $(auth_json)}"
        expect_status 200
        jq -e -s 'any(.type == "progress" and has("id") and has("current") and has("total")) and
                (last | .type == "done" and (.digest | startswith("sha256:")))' <<<"$BODY" >/dev/null ||
                fail "push progress stream: $(short "$BODY")"
        api DELETE "/v1/images/$ref"
        expect_ok
        apix -H 'Accept: text/event-stream' -- POST /v1/images/pull "{\"image\": \"$ref\", \"auth\": $(auth_json)}"
        expect_status 200
        grep -q '^event: done' <<<"$BODY" || fail "no done event in the pull stream: $(short "$BODY")"
        engine_has_image "$ref" || fail "no $ref after the streamed pull"
        # Failing pulls and pushes asked as streams: still error envelopes with the registry's
        # reason, never a 200.
        apix -H 'Accept: application/x-ndjson' -- POST /v1/images/pull \
                "{\"image\": \"$ref\", \"auth\": $(auth_json "" wrong-password)}"
        expect_error 502 engine_error
        expect_jq '.error.message | test("unauthorized|authentication"; "i")' "the registry's reason"
        apix -H 'Accept: text/event-stream' -- POST /v1/images/pull \
                "{\"image\": \"$REGISTRY_ADDR/$NAME_PREFIX/nothere:1\", \"auth\": $(auth_json)}"
        expect_error 404 not_found
        apix -H 'Accept: application/x-ndjson' -- POST "/v1/images/$ref/push" \
                "{\"auth\": $(auth_json "" wrong-password)}"
        expect_error 502 engine_error
        apix -H 'Accept: application/x-ndjson' -- POST /v1/images/pull '{"image": "127.0.0.1:1/cmsdt/none:1"}'
        expect_error 502 engine_error
}

prune_labelled() {
        local dir="$T_TMP/ctx" id label="cmsd-prune-$RUN_ID"
        mkdir -p "$dir"
        printf 'FROM %s\nLABEL purpose=prune-test\nRUN echo %s > /marker\n' "$IMG" "$RANDOM" >"$dir/Dockerfile"
        ctx_tar "$dir" "$T_TMP/ctx.tar"
        # No tag: the result is dangling from the start.
        build "?label=cmsd-test-run=$RUN_ID&label=$label=1&nocache=true" "$T_TMP/ctx.tar"
        expect_ok
        id=$(jq -r .data.id <<<"$BODY")
        api GET "/v1/images?dangling=true&label=$label=1"
        expect_ok
        expect_jq --arg id "$id" '[.data[].id] == [$id]' "the dangling labelled image listed"
        api POST "/v1/images/prune?label=$label=1" '{}' "$TOK_OPERATOR"
        expect_error 403 forbidden
        api POST "/v1/images/prune?label=$label=1" '{}' "$TOK_ADMIN"
        expect_ok
        expect_jq --arg id "$id" '.data.images | any(. == $id)' "the labelled image pruned"
        expect_jq '(.data.space_reclaimed | type) == "number"'
        engine_api GET "/images/$id/json"
        [ "$ESTATUS" = 404 ] || fail "pruned image $id still on the engine"
        for img in "$IMG" "$HEALTH_IMG"; do
                engine_has_image "$img" || fail "prune removed the test image $img"
        done
}

t list_inspect_history list_inspect_history
t bad_refs bad_refs
t tag_remove tag_remove
t build_and_run build_and_run
t build_streams build_streams
t build_fails build_fails
t build_bad_bodies build_bad_bodies
t build_compressed build_compressed
t build_too_large build_too_large
t push_pull push_pull
t pull_streams pull_streams
t prune_labelled prune_labelled
done_file
