#!/usr/bin/env bash
# Makes the SBOM test images on one engine, never pulling anything:
#   cmsd-test/debian:bookworm   a real Debian 12 (mmdebstrap --variant=minbase bookworm through the
#                               Debian mirror apt uses), imported; the tar is made once and kept
#                               in CACHE_DIR (the two engines' suites share it, under a lock);
#   cmsd-test/sbom-lang:1       FROM it: real Python metadata copied from the host's Debian
#                               packages (PyYAML and charset-normalizer dist-info, docker-compose's
#                               egg-info), a small node_modules tree (a scoped package, a nested
#                               dependency, a test fixture's package.json that is no package) and
#                               a RubyGems specification;
#   cmsd-test/sbom-wh:1         FROM sbom-lang, one RUN layer that hides things below it: diffutils
#                               purged (the dpkg status file replaced), node_modules/@types removed
#                               (a whiteout of a directory) and dist-packages emptied and refilled
#                               with one package (an opaque directory).
# An image already present is left alone; MAKE_IMAGES_FORCE=1 remakes the two built ones.
#
# usage: make-sbom-images.sh docker|podman CACHE_DIR [SOCKET]
set -euo pipefail

engine=${1:?usage: make-sbom-images.sh docker|podman CACHE_DIR [SOCKET]}
cache=${2:?usage: make-sbom-images.sh docker|podman CACHE_DIR [SOCKET]}
base=cmsd-test/debian:bookworm
lang=cmsd-test/sbom-lang:1
wh=cmsd-test/sbom-wh:1
case "$engine" in
docker) sock=${3:-/var/run/docker.sock}; cli=(docker -H "unix://$sock") ;;
podman) sock=${3:-/run/podman/podman.sock}; cli=(podman --remote --url "unix://$sock") ;;
*) echo "make-sbom-images.sh: unknown engine '$engine'" >&2; exit 2 ;;
esac

present() {
        [ "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 20 --unix-socket "$sock" \
                "http://engine/v1.41/images/$1/json")" = 200 ]
}

mkdir -p "$cache"
tar_file="$cache/debian-bookworm.tar"
(
        flock 9
        if ! [ -s "$tar_file" ]; then
                command -v mmdebstrap >/dev/null ||
                        { echo "make-sbom-images.sh: mmdebstrap missing (scripts/deps.sh)" >&2; exit 1; }
                # --format=tar: mmdebstrap guesses the format from the name, and a ".tmp" one
                # made a directory tree here (inside the build dir, where make then read its
                # etc/rc2.d as a dependency file).
                rm -rf "$tar_file.tmp"
                mmdebstrap --quiet --variant=minbase --format=tar bookworm "$tar_file.tmp" >&2
                mv "$tar_file.tmp" "$tar_file"
        fi
) 9>"$cache/.lock"

if ! present "$base"; then
        "${cli[@]}" import "$tar_file" "$base" >/dev/null
fi

force=${MAKE_IMAGES_FORCE:-0}
if [ "$force" != 0 ] || ! present "$lang"; then
        ctx=$(mktemp -d)
        trap 'rm -rf "$ctx"' EXIT
        dp="$ctx/rootfs/usr/lib/python3/dist-packages"
        mkdir -p "$dp"
        for d in PyYAML-6.0.dist-info charset_normalizer-3.0.1.dist-info; do
                src=$(ls -d /usr/lib/python3/dist-packages/"${d%%-*}"-*.dist-info | head -n 1)
                [ -f "$src/METADATA" ] || { echo "make-sbom-images.sh: no $d on the host" >&2; exit 1; }
                cp -r "$src" "$dp/"
        done
        src=$(ls -d /usr/lib/python3/dist-packages/docker_compose-*.egg-info | head -n 1)
        [ -f "$src/PKG-INFO" ] || { echo "make-sbom-images.sh: no docker_compose egg-info" >&2; exit 1; }
        cp -r "$src" "$dp/"
        nm="$ctx/rootfs/usr/lib/node_modules"
        mkdir -p "$nm/left-pad/node_modules/ms" "$nm/left-pad/test/fixtures" "$nm/@types/node"
        printf '{"name": "left-pad", "version": "1.3.0", "main": "index.js", "license": "WTFPL"}\n' \
                >"$nm/left-pad/package.json"
        printf '{"name": "ms", "version": "2.1.3", "license": "MIT"}\n' \
                >"$nm/left-pad/node_modules/ms/package.json"
        printf '{"name": "fixture-not-a-package", "version": "0.0.1"}\n' \
                >"$nm/left-pad/test/fixtures/package.json"
        printf '{"name": "@types/node", "version": "20.11.5", "types": "index.d.ts"}\n' \
                >"$nm/@types/node/package.json"
        gs="$ctx/rootfs/usr/share/rubygems-integration/all/specifications"
        mkdir -p "$gs"
        cat >"$gs/rake-13.0.6.gemspec" <<'GEM'
# -*- encoding: utf-8 -*-
# stub: rake 13.0.6 ruby lib

Gem::Specification.new do |s|
  s.name = "rake".freeze
  s.version = "13.0.6"

  s.required_rubygems_version = Gem::Requirement.new(">= 1.3.2".freeze) if s.respond_to? :required_rubygems_version=
  s.require_paths = ["lib".freeze]
  s.authors = ["Hiroshi SHIBATA".freeze, "Eric Hodel".freeze, "Jim Weirich".freeze]
  s.rubygems_version = "3.3.15".freeze
  s.summary = "Rake is a Make-like program implemented in Ruby".freeze
end
GEM
        printf 'FROM %s\nCOPY rootfs/ /\nLABEL cmsd-test.image="sbom-lang"\n' "$base" >"$ctx/Dockerfile"
        "${cli[@]}" build -q -t "$lang" "$ctx" >/dev/null
fi

if [ "$force" != 0 ] || ! present "$wh"; then
        ctx=$(mktemp -d)
        trap 'rm -rf "$ctx"' EXIT
        cat >"$ctx/Dockerfile" <<EOF
FROM $lang
RUN dpkg --purge --force-all diffutils >/dev/null 2>&1 && rm -rf /usr/lib/node_modules/@types \\
    && mv /usr/lib/python3/dist-packages /usr/lib/python3/old && mkdir /usr/lib/python3/dist-packages \\
    && cp -r /usr/lib/python3/old/PyYAML-*.dist-info /usr/lib/python3/dist-packages/ \\
    && rm -rf /usr/lib/python3/old
LABEL cmsd-test.image="sbom-wh"
EOF
        "${cli[@]}" build -q -t "$wh" "$ctx" >/dev/null
fi
