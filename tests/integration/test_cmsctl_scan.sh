#!/usr/bin/env bash
# cmsctl scan, sbom and vulndb against a private cmsd (its own state_dir, so that its imports
# do not meet test_scan.sh's): vulndb show before and after an import (a tar.gz file, stdin,
# --path on the daemon's host; a local directory refused with advice; admin only), the
# ecosystem table and --format json equal to GET /v1/vulndb; scan's findings table and summary
# line for the Debian test image (one made-up record on its zlib source package), --severity
# (the list filtered, the summary whole), --ignore-unfixed, -q (ids), --format json equal to the
# route's result, a template; --scanner trivy without trivy (501: exit 1 and cmsd's message);
# an unknown image (exit 3), a viewer (exit 4), bad usage (exit 2); deploy --scan-fail-on and
# compose up --scan-fail-on refused (exit 1, vulnerabilities_found) with nothing made.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

CTL="$(dirname "$CMSD_BIN")/cmsctl"
BASE_IMG=cmsd-test/debian:bookworm
SBOM_CACHE=${SBOM_CACHE:-$(cd "$(dirname "$CMSD_BIN")" && pwd)/sbom}
SBOM_DIR=$(cd "$(dirname "$0")/../sbom" && pwd)
API_TIMEOUT=300

# ctl [TOKEN] -- ARGS...: cmsctl against the private cmsd; sets OUT, ERR, RC.
ctl() {
        local tok=$TOK_ADMIN
        if [ "$1" != -- ]; then
                tok=$1
                shift
        fi
        shift
        CMSD_URL=$MY_URL CMSD_TOKEN=$tok timeout 300 "$CTL" "$@" >"$T_TMP/ctl_out" 2>"$T_TMP/ctl_err" <"${CTL_STDIN:-/dev/null}"
        RC=$?
        OUT=$(cat "$T_TMP/ctl_out")
        ERR=$(cat "$T_TMP/ctl_err")
}

expect_rc() {
        [ "$RC" = "$1" ] || fail "cmsctl exited $RC, want $1; stderr: $(short "$ERR") stdout: $(short "$OUT")"
}

make_images() {
        "$SBOM_DIR/make-sbom-images.sh" "$ENGINE" "$SBOM_CACHE" "$ENGINE_SOCK" ||
                fail "make-sbom-images.sh $ENGINE failed"
}

# Two records: zlib (the source of zlib1g) fixed in a version above any installed, CRITICAL;
# a PyPI one; and a malformed file.
records() {
        local d=$1
        mkdir -p "$d"
        jq -n '{schema_version: "1.6.0", id: "CMSC-1", modified: "2025-04-01T00:00:00Z",
                summary: "made-up zlib flaw", aliases: ["CVE-2099-9001"],
                affected: [{package: {ecosystem: "Debian:12", name: "zlib"},
                            ranges: [{type: "ECOSYSTEM", events: [{introduced: "0"}, {fixed: "9:9"}]}]}],
                database_specific: {severity: "CRITICAL"}}' >"$d/CMSC-1.json"
        jq -n '{schema_version: "1.6.0", id: "CMSC-2", modified: "2025-05-01T00:00:00Z",
                affected: [{package: {ecosystem: "PyPI", name: "Requests"}, versions: ["0.1"]}]}' \
                >"$d/CMSC-2.json"
        printf '{"id": ' >"$d/broken.json"
}

ctl_vulndb() {
        local port conf="$T_TMP/cmsd.yaml"
        port=$(free_port) || fail "no free port"
        write_config "$conf" "$port" "unix://$ENGINE_SOCK"
        start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
        records "$T_TMP/rec"
        tar -C "$T_TMP/rec" -czf "$T_TMP/rec.tar.gz" . || fail "tar failed"
        ctl "$TOK_VIEWER" -- vulndb show
        expect_rc 0
        grep -q '^no vulnerability data loaded' <<<"$OUT" || fail "show before: $(short "$OUT")"
        ctl "$TOK_OPERATOR" -- vulndb import "$T_TMP/rec.tar.gz"
        expect_rc 4
        ctl -- vulndb import "$T_TMP/rec.tar.gz"
        expect_rc 0
        [ "$OUT" = "imported 2 records (1 skipped), newest modified 2025-05-01T00:00:00Z" ] ||
                fail "import said: $(short "$OUT")"
        CTL_STDIN="$T_TMP/rec.tar.gz" ctl -- --format json vulndb import -
        expect_rc 0
        jq -e '.records == 2 and .skipped == 1' <<<"$OUT" >/dev/null || fail "import - : $(short "$OUT")"
        ctl -- vulndb import --path "$T_TMP/rec"
        expect_rc 0
        grep -q '^imported 2 records (1 skipped)' <<<"$OUT" || fail "import --path: $(short "$OUT")"
        ctl -- vulndb import "$T_TMP/rec"
        expect_rc 2
        grep -q 'a directory: send a zip or tar of it, or use --path' <<<"$ERR" || fail "local dir: $(short "$ERR")"
        ctl -- vulndb import "$T_TMP/none.tar"
        expect_rc 3
        ctl -- vulndb import
        expect_rc 2
        ctl "$TOK_VIEWER" -- vulndb show
        expect_rc 0
        grep -qx 'records: *2' <<<"$OUT" || fail "show: $(short "$OUT")"
        grep -qE '^Debian:12 +1$' <<<"$OUT" || fail "show: no Debian:12 row: $(short "$OUT")"
        grep -qE '^PyPI +1$' <<<"$OUT" || fail "show: no PyPI row: $(short "$OUT")"
        ctl "$TOK_VIEWER" -- vulndb show --format json
        expect_rc 0
        CMSD_URL=$MY_URL api GET /v1/vulndb "" "$TOK_VIEWER"
        jq -e --argjson a "$OUT" '.data == $a' <<<"$BODY" >/dev/null ||
                fail "vulndb show --format json differs from GET /v1/vulndb"

        # scan
        ctl "$TOK_OPERATOR" -- scan "$BASE_IMG"
        expect_rc 0
        head -n 1 <<<"$OUT" | grep -qE '^SEVERITY +ID +PACKAGE +VERSION +FIXED +ECOSYSTEM +SUMMARY$' ||
                fail "scan header: $(short "$OUT")"
        grep -qE '^CRITICAL +CMSC-1 +zlib1g +1:[^ ]+ +9:9 +Debian:12 +made-up zlib flaw$' <<<"$OUT" ||
                fail "scan: no zlib1g row: $(short "$OUT")"
        [ "$(grep -c '^CRITICAL' <<<"$OUT")" = 1 ] || fail "scan: one finding expected: $(short "$OUT")"
        [ "$(tail -n 1 <<<"$OUT")" = "summary: CRITICAL 1 HIGH 0 MEDIUM 0 LOW 0 UNKNOWN 0" ] ||
                fail "scan summary: $(tail -n 1 <<<"$OUT")"
        ctl "$TOK_OPERATOR" -- scan --severity HIGH,MEDIUM "$BASE_IMG"
        expect_rc 0
        ! grep -q CMSC-1 <<<"$OUT" || fail "--severity HIGH,MEDIUM listed a CRITICAL finding"
        [ "$(tail -n 1 <<<"$OUT")" = "summary: CRITICAL 1 HIGH 0 MEDIUM 0 LOW 0 UNKNOWN 0" ] ||
                fail "the summary counts every finding: $(tail -n 1 <<<"$OUT")"
        ctl "$TOK_OPERATOR" -- scan -q --ignore-unfixed "$BASE_IMG"
        expect_rc 0
        [ "$OUT" = CMSC-1 ] || fail "scan -q: $(short "$OUT")"
        ctl "$TOK_OPERATOR" -- scan "$BASE_IMG" --format json --severity critical
        expect_rc 0
        CMSD_URL=$MY_URL api POST "/v1/images/$BASE_IMG/scan" '{"severity": "critical"}' "$TOK_OPERATOR"
        expect_status 200
        jq -e --argjson a "$OUT" '(.data | del(.scanned_at)) == ($a | del(.scanned_at))' <<<"$BODY" >/dev/null ||
                fail "scan --format json differs from the route: $(short "$OUT")"
        ctl "$TOK_OPERATOR" -- scan --format '{{.summary.CRITICAL}} {{.scanner}}' "$BASE_IMG"
        expect_rc 0
        [ "$OUT" = "1 builtin" ] || fail "scan template: $(short "$OUT")"
        ctl "$TOK_OPERATOR" -- scan --scanner trivy "$BASE_IMG"
        expect_rc 1
        grep -q "no trivy on cmsd's PATH" <<<"$ERR" || fail "scan --scanner trivy: $(short "$ERR")"
        ctl "$TOK_OPERATOR" -- scan "cmsd-test/not-here-$RUN_ID:1"
        expect_rc 3
        ctl "$TOK_VIEWER" -- scan "$BASE_IMG"
        expect_rc 4
        ctl "$TOK_OPERATOR" -- scan --severity
        expect_rc 2
        ctl "$TOK_OPERATOR" -- scan --bogus "$BASE_IMG"
        expect_rc 2
        ctl "$TOK_OPERATOR" -- scan --severity SEVERE "$BASE_IMG"
        expect_rc 1
        grep -q 'unknown severity "SEVERE"' <<<"$ERR" || fail "bad severity: $(short "$ERR")"
        # deploy's and compose up's gate: the image has a CRITICAL finding, nothing is made
        ctl "$TOK_OPERATOR" -- deploy --scan-fail-on critical --name "$NAME_PREFIX-gate" \
                "$BASE_IMG" sleep 60
        expect_rc 1
        grep -q 'vulnerabilities_found' <<<"$ERR" || fail "deploy gate: $(short "$ERR")"
        engine_api GET "/containers/$NAME_PREFIX-gate/json"
        [ "$ESTATUS" = 404 ] || fail "deploy gate made a container ($ESTATUS)"
        printf 'services:\n  app:\n    image: %s\n    command: ["sleep", "60"]\n' "$BASE_IMG" \
                >"$T_TMP/gate.yml"
        ctl "$TOK_OPERATOR" -- compose -f "$T_TMP/gate.yml" -p "$NAME_PREFIX-gate" up -d \
                --scan-fail-on HIGH
        expect_rc 1
        grep -q 'vulnerabilities_found' <<<"$ERR" || fail "compose up gate: $(short "$ERR")"
        engine_api GET "/containers/$NAME_PREFIX-gate-app-1/json"
        [ "$ESTATUS" = 404 ] || fail "compose up gate made a container ($ESTATUS)"
        ctl "$TOK_OPERATOR" -- run --scan-fail-on HIGH "$BASE_IMG" true
        expect_rc 2
        # sbom (cmsctl sbom's own rows are in test_cmsctl.sh): the same packages scan matched.
        ctl "$TOK_VIEWER" -- sbom "$BASE_IMG"
        expect_rc 0
        grep -qE '^zlib1g +1:[^ ]+ +deb +pkg:deb/debian/zlib1g@' <<<"$OUT" || fail "sbom: no zlib1g: $(short "$OUT")"
        stop_cmsd
}

t images make_images
t vulndb_scan ctl_vulndb
done_file
