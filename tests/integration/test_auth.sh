#!/usr/bin/env bash
# Authentication and roles: each configured token (one of them given as sha256) maps to its name
# and role; missing/bad tokens are 401, a role too low is 403 and changes nothing on the engine;
# only /v1/health and /openapi.yaml are open.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

whoami_admin() {
        # The admin token is configured as its sha256 hex, not in clear.
        api GET /v1/auth/whoami "" "$TOK_ADMIN"
        expect_ok
        expect_json .data.name admin
        expect_json .data.role admin
}

whoami_operator() {
        api GET /v1/auth/whoami "" "$TOK_OPERATOR"
        expect_ok
        expect_json .data.name operator
        expect_json .data.role operator
}

whoami_viewer() {
        api GET /v1/auth/whoami "" "$TOK_VIEWER"
        expect_ok
        expect_json .data.name viewer
        expect_json .data.role viewer
}

no_token_401() {
        api GET /v1/containers "" -
        expect_error 401 unauthorized
        api GET /v1/auth/whoami "" -
        expect_error 401 unauthorized
}

bad_token_401() {
        api GET /v1/containers "" "not-a-token"
        expect_error 401 unauthorized
        # The sha256 itself is not a token.
        api GET /v1/containers "" "$(printf '%s' "$TOK_ADMIN" | sha256sum | cut -d' ' -f1)"
        expect_error 401 unauthorized
        apix -H "Authorization: Basic dC1hZG1pbjp4" -- GET /v1/containers "" -
        expect_error 401 unauthorized
}

viewer_can_read() {
        api GET /v1/containers "" "$TOK_VIEWER"
        expect_ok
        expect_jq '.data | type == "array"'
}

viewer_post_403() {
        local name
        name=$(unique viewer)
        api POST /v1/containers "$(cfg "$name")" "$TOK_VIEWER"
        expect_error 403 forbidden
        engine_gone "$name" || fail "a 403 create still created $name on the engine"
}

viewer_delete_403() {
        create "$(unique vdel)"
        api DELETE "/v1/containers/$CID?force=true" "" "$TOK_VIEWER"
        expect_error 403 forbidden
        engine_inspect "$CID"
}

operator_can_create() {
        local name
        name=$(unique op)
        api POST /v1/containers "$(cfg "$name")" "$TOK_OPERATOR"
        expect_ok 201
        engine_inspect "$name"
}

operator_prune_403() {
        api POST /v1/system/prune '{}' "$TOK_OPERATOR"
        expect_error 403 forbidden
        api POST /v1/system/prune '{}' "$TOK_VIEWER"
        expect_error 403 forbidden
}

openapi_open() {
        api GET /openapi.yaml "" -
        expect_status 200
        grep -q '^openapi:' <<<"$BODY" || fail "GET /openapi.yaml: no top-level 'openapi:' line"
        grep -q '^paths:' <<<"$BODY" || fail "GET /openapi.yaml: no top-level 'paths:' line"
        grep -q '/v1/containers' <<<"$BODY" || fail "GET /openapi.yaml: /v1/containers not described"
        expect_header Content-Type '.*yaml'
}

health_open() {
        api GET /v1/health "" -
        expect_ok
}

t whoami_admin_sha256 whoami_admin
t whoami_operator whoami_operator
t whoami_viewer whoami_viewer
t no_token_401 no_token_401
t bad_token_401 bad_token_401
t viewer_can_read viewer_can_read
t viewer_post_403 viewer_post_403
t viewer_delete_403 viewer_delete_403
t operator_can_create operator_can_create
t operator_prune_403 operator_prune_403
t openapi_yaml_open openapi_open
t health_open health_open
done_file
