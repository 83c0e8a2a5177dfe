#!/usr/bin/env bash
# The web dashboard (/ui/): its files are the sources in ui/ and the vendored uPlot byte for
# byte, plain and gzip; the headers (Content-Type, ETag and 304, Cache-Control, CSP, nosniff);
# and the page itself in Debian's chromium driven by playwright-core (tests/ui/dashboard.mjs):
# sign-in by role, the viewer's missing buttons and its forced 403, the table against the API,
# the chart's values against /v1/metrics, live logs, stop and project up/down from the page, no
# console errors, no other origin, screenshots under the build dir (BUILD/ui-shots/ENGINE).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
UI_OUT="$WORK_DIR/ui-browser.out"
SHOTS="$(dirname "$CMSD_BIN")/ui-shots/$ENGINE"

# Every file the dashboard serves, as URLPATH=SOURCE.
ui_files() {
        (cd "$ROOT" && find ui -type f | sort | sed -E 's|^ui/(.*)$|\1=ui/\1|')
        echo "vendor/uPlot.iife.min.js=node_modules/uplot/dist/uPlot.iife.min.js"
        echo "vendor/uPlot.min.css=node_modules/uplot/dist/uPlot.min.css"
}

assets_equal_sources() {
        local pair path src n=0
        [ -f "$ROOT/node_modules/uplot/dist/uPlot.iife.min.js" ] ||
                fail "node_modules/uplot missing (make test installs it: npm ci)"
        while IFS= read -r pair; do
                path=${pair%%=*} src="$ROOT/${pair#*=}"
                curl -sS --max-time 10 -o "$T_TMP/plain" "$CMSD_URL/ui/$path" ||
                        fail "GET /ui/$path failed"
                cmp -s "$T_TMP/plain" "$src" ||
                        fail "/ui/$path differs from ${pair#*=} (stale build?)"
                curl -sS --max-time 10 -H 'Accept-Encoding: gzip' -D "$T_TMP/h" -o "$T_TMP/gz" \
                        "$CMSD_URL/ui/$path" || fail "GET /ui/$path (gzip) failed"
                grep -qi '^content-encoding: gzip' "$T_TMP/h" ||
                        fail "/ui/$path: no gzip when asked"
                gzip -dc "$T_TMP/gz" | cmp -s - "$src" ||
                        fail "/ui/$path gzip differs from its source"
                n=$((n + 1))
        done < <(ui_files)
        [ "$n" -ge 10 ] || fail "only $n files checked"
        # And nothing served that is not a source: the index names only files checked above.
        api GET /ui/ "" -
        grep -oE '(src|href)="[^"#]+"' <<<"$BODY" | sed -E 's/^[a-z]+="(.*)"$/\1/' |
                while read -r ref; do
                ui_files | grep -q "^$ref=" || fail "index.html refers to $ref, which is no source"
        done || exit 1
}

headers() {
        apix -H 'Accept-Encoding: gzip, deflate' -- GET /ui/ "" -
        expect_status 200
        expect_header Content-Type 'text/html; charset=utf-8'
        expect_header Content-Encoding gzip
        expect_header Content-Security-Policy "default-src 'self'"
        header_value Content-Security-Policy | grep -qE "unsafe-inline|unsafe-eval" &&
                fail "CSP allows inline or eval"
        expect_header X-Content-Type-Options nosniff
        expect_header Cache-Control no-cache
        expect_header Vary Accept-Encoding
        expect_header ETag '"[0-9a-f]{16}-gz"'
        local tag
        tag=$(header_value ETag)
        apix -H 'Accept-Encoding: gzip' -H "If-None-Match: $tag" -- GET /ui/ "" -
        expect_status 304
        # No gzip asked (or q=0): the plain bytes, another tag.
        apix -H 'Accept-Encoding: gzip;q=0, identity' -- GET /ui/js/app.js "" -
        expect_status 200
        expect_header Content-Type 'text/javascript; charset=utf-8'
        grep -qi '^content-encoding' <<<"$HEADERS" && fail "gzip sent though q=0"
        expect_header ETag '"[0-9a-f]{16}"'
        api GET /ui/app.css "" -
        expect_header Content-Type 'text/css; charset=utf-8'
        api GET /ui/icon.svg "" -
        expect_header Content-Type 'image/svg\+xml'
        api GET /ui "" -
        expect_status 308
        expect_header Location '/ui/'
        api GET /ui/no-such-file.js "" -
        expect_error 404 not_found
        # Only the table's files: a path climbing out of /ui/ names none of them.
        apix --path-as-is -- GET /ui/../openapi.yaml "" -
        expect_error 404 not_found
        apix --path-as-is -- GET /ui/js/../index.html "" -
        expect_error 404 not_found
        api POST /ui/ "" -
        expect_error 405 method_not_allowed
        # What the policy forbids, the sources do not need: no eval, no Function(), no inline
        # handlers or styles in markup made from strings.
        grep -rnE '\beval\(|new Function|setTimeout\(["'"'"'`]|innerHTML|insertAdjacentHTML' \
                "$ROOT/ui" && fail "the sources use eval or build markup from strings"
        grep -rn 'document\.write' "$ROOT/ui" && fail "the sources use document.write"
        # The files are open; the API behind them is not.
        api GET /v1/containers "" -
        expect_error 401 unauthorized
}

# What a cold load of the containers page fetches (index, styles, every module), compressed.
page_weight() {
        local total=0 n
        for f in index.html app.css icon.svg $(cd "$ROOT/ui" && find js -name '*.js'); do
                n=$(curl -sS --max-time 10 -H 'Accept-Encoding: gzip' "$CMSD_URL/ui/$f" | wc -c)
                total=$((total + n))
        done
        n=$(curl -sS --max-time 10 -H 'Accept-Encoding: gzip' \
                "$CMSD_URL/ui/vendor/uPlot.iife.min.js" | wc -c)
        total=$((total + n))
        [ "$total" -lt $((150 * 1024)) ] ||
                fail "the whole page is $total bytes compressed (limit 150 KB)"
        echo "page: $total bytes compressed"
}

browser() {
        local chromium log stop
        command -v node >/dev/null || fail "node missing (scripts/deps.sh installs it)"
        chromium=$(command -v chromium || command -v chromium-browser) ||
                fail "chromium missing (scripts/deps.sh installs it)"
        [ -d "$ROOT/node_modules/playwright-core" ] ||
                fail "node_modules/playwright-core missing (npm ci)"
        log=$(unique uilog)
        run_c "$log" \
                '{"command": ["sh", "-c", "while true; do echo tick $(date +%s); sleep 1; done"]}'
        stop=$(unique uistop)
        run_c "$stop"
        rm -rf "$SHOTS"
        CMSD_URL=$CMSD_URL TOK_ADMIN=$TOK_ADMIN TOK_OPERATOR=$TOK_OPERATOR TOK_VIEWER=$TOK_VIEWER \
                ENGINE_SOCK=$ENGINE_SOCK CHROMIUM=$chromium SHOTS=$SHOTS C_LOG=$log C_STOP=$stop \
                PROJECT="$NAME_PREFIX-uiproj" IMG=$IMG RUN_LABEL="cmsd-test-run=$RUN_ID" \
                timeout 400 node "$ROOT/tests/ui/dashboard.mjs" >"$UI_OUT" 2>"$T_TMP/node.err"
        local rc=$?
        grep -q '^done$' "$UI_OUT" ||
                fail "tests/ui/dashboard.mjs did not finish (exit $rc):" \
                        "$(short "$(tail -n 5 "$T_TMP/node.err")")"
}

# One row per check of the browser run.
from_browser() {
        local line
        [ -f "$UI_OUT" ] || fail "the browser run did not happen"
        line=$(grep -E "^(ok|not ok) $1(:|$)" "$UI_OUT") ||
                fail "no result for $1 in the browser run"
        [[ "$line" == "ok $1" ]] || fail "${line#not ok $1: }"
}

t assets_equal_sources assets_equal_sources
t headers headers
t page_weight page_weight
t browser browser
for check in signin_wrong_token signin_roles csp_no_inline containers_table_equals_api \
        viewer_no_actions_and_403 chart_last_values_equal_metrics window_picker \
        logs_follow_new_line \
        operator_stops_container policy_denied_shown operator_ups_and_downs_project \
        screenshots_each_page \
        keyboard_navigation visibility_stops_polling no_console_errors same_origin_only; do
        eval "b_$check() { from_browser $check; }"
        t "$check" "b_$check"
done
done_file
