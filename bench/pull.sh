#!/usr/bin/env bash
# Image transfer benchmark: build, push and pull a large image (busybox + a random file of
# BENCH_IMAGE_MB MiB, default 100) through cmsd and straight to the engine, against a local
# registry (Debian's docker-registry, TLS + htpasswd, on 127.0.0.1), in the same run; the build
# both from an uploaded tar and, as compose does it, from a directory that cmsd streams as a tar
# itself (against GNU tar piped into the engine). Prints
# cmsd / engine time ratios. cmsd runs under /usr/bin/time -v, once per image size (a small one,
# BENCH_SMALL_MB, and the large one), so its peak RSS shows whether its memory grows with the
# image or build-context size (it should not: the context is streamed through a 1 MiB ring and
# progress is read line by line).
# Usage: bench/pull.sh CMSD_BIN. Everything it starts it stops by recorded PID; it removes only
# the images it tagged and the registry data it wrote.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

CMSD_BIN=${1:-}
[ -n "$CMSD_BIN" ] && [ -x "$CMSD_BIN" ] || bench_die "usage: $0 CMSD_BIN (an executable cmsd)"
CMSD_BIN=$(cd "$(dirname "$CMSD_BIN")" && pwd)/$(basename "$CMSD_BIN")
BIG_MB=${BENCH_IMAGE_MB:-100}
SMALL_MB=${BENCH_SMALL_MB:-10}
ENGINES=${BENCH_ENGINES:-docker:/var/run/docker.sock podman:/run/podman/podman.sock}
BASE=${BENCH_IMAGE:-cmsd-test/busybox:latest}
RESULTS=${BENCH_RESULTS:-$HERE/results/pull-$(date +%F).txt}
TOKEN=bench-operator-token
for v in BIG_MB SMALL_MB; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] && [ "${!v}" -le 2048 ] || bench_die "$v must be 1..2048"
done
for t in curl jq docker-registry htpasswd openssl /usr/bin/time tar; do
	command -v "$t" >/dev/null || bench_die "$t not found (scripts/deps.sh installs it)"
done

TMP=$(mktemp -d /tmp/cmsd-bench-pull.XXXXXX) || bench_die "mktemp failed"
REG_PID= CMSD_PID= TIME_PID= CERTS_DIR= REG_ADDR= CUR_SOCK=
TAGGED=()
cleanup() {
	stop_pid "$CMSD_PID" cmsd
	for t in "${TAGGED[@]}"; do
		curl -s -o /dev/null -m 60 --unix-socket "$CUR_SOCK" -X DELETE \
			"http://engine/$BENCH_API/images/$(jq -rn --arg t "$t" '$t|@uri')" 2>/dev/null
	done
	TAGGED=()
}
finish() {
	cleanup
	stop_pid "$REG_PID" docker-registry
	if [ -n "$CERTS_DIR" ]; then rm -f "$CERTS_DIR/ca.crt"; rmdir "$CERTS_DIR" 2>/dev/null; fi
	rm -rf "$TMP"
}
trap finish EXIT
trap 'exit 130' INT TERM

start_registry() {
	local port
	port=$(free_port) || bench_die "no free port"
	htpasswd -Bbn bench benchpw >"$TMP/htpasswd" 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 1 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 || bench_die "openssl failed"
	printf '%s\n' "version: 0.1" "log: {level: error}" "storage:" \
		"  filesystem: {rootdirectory: \"$TMP/registry\"}" "  delete: {enabled: true}" \
		"http:" "  addr: 127.0.0.1:$port" "  tls: {certificate: \"$TMP/cert.pem\", key: \"$TMP/key.pem\"}" \
		"auth:" "  htpasswd: {realm: bench, path: \"$TMP/htpasswd\"}" >"$TMP/registry.yml"
	CERTS_DIR=/etc/containers/certs.d/127.0.0.1:$port
	if [ -e "$CERTS_DIR" ]; then CERTS_DIR=; else mkdir -p "$CERTS_DIR" && cp "$TMP/cert.pem" "$CERTS_DIR/ca.crt"; fi
	docker-registry serve "$TMP/registry.yml" >"$TMP/registry.log" 2>&1 &
	REG_PID=$!
	for ((i = 0; i < 50; i++)); do
		[ "$(curl -sk -o /dev/null -w '%{http_code}' -m 1 "https://127.0.0.1:$port/v2/")" = 401 ] && {
			REG_ADDR=127.0.0.1:$port
			return 0
		}
		sleep 0.1
	done
	bench_die "registry did not start: $(tail -n 3 "$TMP/registry.log")"
}

AUTH_JSON='{"username":"bench","password":"benchpw"}'
AUTH_B64=$(printf '%s' "$AUTH_JSON" | basenc --base64url -w0)

# make_ctx MB SIDE -> $TMP/ctx-MB-SIDE.tar: FROM the base image, COPY a random file of MB MiB.
# cmsd and the engine get different random data, so neither finds the other's layers cached in
# the engine or already present in the registry.
make_ctx() {
	local d="$TMP/ctx-$1-$2"
	mkdir -p "$d"
	printf 'FROM %s\nCOPY blob /blob\n' "$BASE" >"$d/Dockerfile"
	head -c "$(($1 * 1024 * 1024))" /dev/urandom >"$d/blob"
	tar -C "$d" -cf "$TMP/ctx-$1-$2.tar" . && rm -rf "$d"
}

start_cmsd() { bench_timed_cmsd "$1" "$2"; } # SOCK LABEL

peak_kib() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# timed WHAT CMD...: runs CMD, checks it succeeded (HTTP 200 and no error in the output), prints s.
timed() {
	local what=$1 t0 t1 out
	shift
	t0=$(now)
	out=$("$@" 2>&1)
	t1=$(now)
	if grep -q '"error"\|"success":false' <<<"$out" || ! grep -q . <<<"$out"; then
		bench_die "$what failed: ${out:0:400}"
	fi
	elapsed "$t0" "$t1"
}

via_cmsd_build() { curl -sS -m 1800 -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/x-tar' \
	--data-binary "@$TMP/ctx-$1-c.tar" "$CMSD_URL/v1/images/build?tag=$2"; }
via_cmsd_push() { curl -sS -m 1800 -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	-d "{\"auth\":$AUTH_JSON}" "$CMSD_URL/v1/images/$1/push"; }
via_cmsd_pull() { curl -sS -m 1800 -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	-d "{\"image\":\"$1\",\"auth\":$AUTH_JSON}" "$CMSD_URL/v1/images/pull"; }
direct_build() { curl -sS -m 1800 --unix-socket "$CUR_SOCK" -H 'Content-Type: application/x-tar' \
	--data-binary "@$TMP/ctx-$1-d.tar" "http://engine/$BENCH_API/build?t=$(jq -rn --arg t "$2" '$t|@uri')&rm=1"; }
direct_push() { local repo=${1%:*} tag=${1##*:}
	curl -sS -m 1800 --unix-socket "$CUR_SOCK" -X POST -H "X-Registry-Auth: $AUTH_B64" \
	"http://engine/$BENCH_API/images/$(jq -rn --arg t "$repo" '$t|@uri')/push?tag=$tag"; }
direct_pull() { local repo=${1%:*} tag=${1##*:}
	curl -sS -m 1800 --unix-socket "$CUR_SOCK" -X POST -H "X-Registry-Auth: $AUTH_B64" \
	"http://engine/$BENCH_API/images/create?fromImage=$(jq -rn --arg t "$repo" '$t|@uri')&tag=$tag"; }
# A compose build from a directory on the daemon host (the context written by cmsd as the engine
# reads it) against the same tree piped by GNU tar straight into the engine's /build. The project
# is made first with a 1-byte blob; the measured build is of the big one.
make_dir_ctx() {
	local d="$TMP/dctx-$1-$2"
	mkdir -p "$d"
	printf 'FROM %s\nCOPY blob /blob\n' "$BASE" >"$d/Dockerfile"
	head -c "$(($1 * 1024 * 1024))" /dev/urandom >"$d/blob"
}
via_cmsd_project() { # via_cmsd_project NAME DIR TAG
	local y
	y=$(printf 'services:\n  s:\n    build: {context: "%s"}\n    image: "%s"\n    command: ["true"]\n' "$2" "$3")
	curl -sS -m 600 -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		-d "$(jq -n --arg n "$1" --arg y "$y" '{name: $n, compose: $y, build: true}')" "$CMSD_URL/v1/projects"; }
via_cmsd_dirbuild() { curl -sS -m 1800 -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	-d '{}' "$CMSD_URL/v1/projects/$1/build"; }
project_down() { curl -sS -o /dev/null -m 120 -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	-d '{}' "$CMSD_URL/v1/projects/$1/down"; }
direct_dirbuild() { tar -C "$1" -cf - . | curl -sS -m 1800 --unix-socket "$CUR_SOCK" -X POST -T - \
	-H 'Content-Type: application/x-tar' "http://engine/$BENCH_API/build?t=$(jq -rn --arg t "$2" '$t|@uri')&rm=1"; }

untag() { curl -s -o /dev/null -m 120 --unix-socket "$CUR_SOCK" -X DELETE \
	"http://engine/$BENCH_API/images/$(jq -rn --arg t "$1" '$t|@uri')"; }

# round ENGINE SOCK MB: build, push, pull (image removed before the pull) via cmsd and direct.
round() {
	local e=$1 mb=$3 id="$RANDOM$RANDOM" c d r
	local tc="$REG_ADDR/cmsd-bench/c$id:$mb" td="$REG_ADDR/cmsd-bench/d$id:$mb"
	TAGGED+=("$tc" "$td")
	start_cmsd "$2" "$e-$mb"
	c=$(timed "cmsd build" via_cmsd_build "$mb" "$tc")
	d=$(timed "direct build" direct_build "$mb" "$td")
	printf '%-7s %4s MiB  build  cmsd %7ss  engine %7ss  ratio %s\n' "$e" "$mb" "$c" "$d" \
		"$(awk -v a="$c" -v b="$d" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
	local pn="bench$id" dc="$TMP/dctx-$mb-c" tdc="cmsd-bench/dirc$id:$mb" tdd="cmsd-bench/dird$id:$mb"
	TAGGED+=("$tdc" "$tdd")
	head -c 1 /dev/urandom >"$dc/blob.big" && mv "$dc/blob" "$dc/blob.keep" && mv "$dc/blob.big" "$dc/blob"
	timed "cmsd project up" via_cmsd_project "$pn" "$dc" "$tdc" >/dev/null
	mv "$dc/blob.keep" "$dc/blob"
	c=$(timed "cmsd directory build" via_cmsd_dirbuild "$pn")
	d=$(timed "direct directory build" direct_dirbuild "$TMP/dctx-$mb-d" "$tdd")
	project_down "$pn"
	printf '%-7s %4s MiB  dirbld cmsd %7ss  engine %7ss  ratio %s\n' "$e" "$mb" "$c" "$d" \
		"$(awk -v a="$c" -v b="$d" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
	c=$(timed "cmsd push" via_cmsd_push "$tc")
	d=$(timed "direct push" direct_push "$td")
	printf '%-7s %4s MiB  push   cmsd %7ss  engine %7ss  ratio %s\n' "$e" "$mb" "$c" "$d" \
		"$(awk -v a="$c" -v b="$d" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
	untag "$tc"
	untag "$td"
	c=$(timed "cmsd pull" via_cmsd_pull "$tc")
	d=$(timed "direct pull" direct_pull "$td")
	printf '%-7s %4s MiB  pull   cmsd %7ss  engine %7ss  ratio %s\n' "$e" "$mb" "$c" "$d" \
		"$(awk -v a="$c" -v b="$d" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
	stop_pid "$CMSD_PID" cmsd
	wait "$TIME_PID" 2>/dev/null
	CMSD_PID=
	printf '%-7s %4s MiB  cmsd peak RSS %s KiB\n' "$e" "$mb" "$(peak_kib "$TMP/time-$e-$mb.txt")"
	cleanup
}

start_registry
for mb in "$SMALL_MB" "$BIG_MB"; do
	make_ctx "$mb" c
	make_ctx "$mb" d
	make_dir_ctx "$mb" c
	make_dir_ctx "$mb" d
done
mkdir -p "$(dirname "$RESULTS")"
{
	echo "# bench/pull.sh $(date -Is) image sizes ${SMALL_MB} and ${BIG_MB} MiB, registry $REG_ADDR"
	for spec in $ENGINES; do
		e=${spec%%:*} CUR_SOCK=${spec#*:}
		engine_up "$CUR_SOCK" || { echo "$e: skipped (no engine at $CUR_SOCK)"; continue; }
		round "$e" "$CUR_SOCK" "$SMALL_MB"
		round "$e" "$CUR_SOCK" "$BIG_MB"
	done
} | tee "$RESULTS"
