#!/usr/bin/env bash
# Makes the local test images on one engine, never pulling anything (the test machines have no
# registry): cmsd-test/busybox:latest imported from Debian's busybox-static, and
# cmsd-test/health:latest built from Dockerfile.health on top of it. An image already present is
# left alone, so engines started by someone else keep theirs.
#
# usage: make-images.sh docker|podman [SOCKET]
# env:   CMSD_TEST_IMAGE, CMSD_HEALTH_IMAGE override the names (used to verify this script without
#        touching the shared images); MAKE_IMAGES_FORCE=1 rebuilds even when present.
set -euo pipefail

engine=${1:?usage: make-images.sh docker|podman [SOCKET]}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
base_image=${CMSD_TEST_IMAGE:-cmsd-test/busybox:latest}
health_image=${CMSD_HEALTH_IMAGE:-cmsd-test/health:latest}
force=${MAKE_IMAGES_FORCE:-0}

case "$engine" in
docker)
        sock=${2:-/var/run/docker.sock}
        cli=(docker -H "unix://$sock")
        ;;
podman)
        sock=${2:-/run/podman/podman.sock}
        cli=(podman --remote --url "unix://$sock")
        ;;
*)
        echo "make-images.sh: unknown engine '$engine'" >&2
        exit 2
        ;;
esac
command -v "${cli[0]}" >/dev/null || { echo "make-images.sh: ${cli[0]} CLI not found" >&2; exit 1; }

# Asks the engine itself (compat API, same path on both) rather than parsing CLI output.
image_present() {
        local code
        code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 20 --unix-socket "$sock" \
                "http://engine/v1.41/images/$1/json") || return 1
        [ "$code" = 200 ]
}

# The rootfs is laid out by hand so that the image is small, reproducible (sorted, fixed mtimes)
# and has what the tests exec: every applet, users root/nobody/app(1000), writable /tmp.
make_rootfs_tar() {
        local out=$1 root applet
        local bb=/bin/busybox
        if ! [ -x "$bb" ] || ! "$bb" --list >/dev/null 2>&1; then
                echo "make-images.sh: $bb missing (apt-get install busybox-static)" >&2
                return 1
        fi
        file_is_static "$bb" || { echo "make-images.sh: $bb is not static" >&2; return 1; }
        root=$(mktemp -d)
        mkdir -p "$root"/{bin,etc,tmp,var/tmp,root,home/app,proc,sys,dev,run,usr/bin}
        cp "$bb" "$root/bin/busybox"
        while IFS= read -r applet; do
                [ -n "$applet" ] && [ "$applet" != busybox ] && ln -sf busybox "$root/bin/$applet"
        done < <("$bb" --list)
        ln -sf /bin/busybox "$root/usr/bin/env"
        printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'app:x:1000:1000:app:/home/app:/bin/sh' \
                'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$root/etc/passwd"
        printf '%s\n' 'root:x:0:' 'app:x:1000:' 'nogroup:x:65534:' >"$root/etc/group"
        printf '127.0.0.1\tlocalhost\n' >"$root/etc/hosts"
        : >"$root/etc/resolv.conf"
        : >"$root/etc/hostname"
        chmod 1777 "$root/tmp" "$root/var/tmp"
        chmod 0700 "$root/root"
        chown -R 1000:1000 "$root/home/app"
        tar --sort=name --mtime=@0 --numeric-owner -C "$root" -cf "$out" .
        rm -rf "$root"
}

# A dynamic busybox (Debian's "busybox" rather than "busybox-static") would not run in a rootfs
# without libc: a static ELF has no INTERP program header.
file_is_static() {
        command -v readelf >/dev/null 2>&1 || return 0
        ! readelf -lW "$1" 2>/dev/null | grep -q 'INTERP'
}

made=()
if [ "$force" = 1 ] || ! image_present "$base_image"; then
        tarball=$(mktemp --suffix=.tar)
        make_rootfs_tar "$tarball"
        "${cli[@]}" import --change 'CMD ["/bin/sh"]' "$tarball" "$base_image" >/dev/null
        rm -f "$tarball"
        image_present "$base_image" || { echo "make-images.sh: import of $base_image failed" >&2; exit 1; }
        made+=("$base_image")
fi

# The health image carries the hash of the Dockerfile it was built from, so that an edited
# Dockerfile.health is rebuilt rather than silently kept.
source_sum=$(sha256sum "$here/Dockerfile.health" | cut -c1-16)
health_current() {
        local label
        label=$(curl -sS --max-time 20 --unix-socket "$sock" \
                "http://engine/v1.41/images/$health_image/json" 2>/dev/null |
                jq -r '.Config.Labels["cmsd-test.source"] // empty' 2>/dev/null)
        [ "$label" = "$source_sum" ]
}

if [ "$force" = 1 ] || ! health_current; then
        old_id=$(curl -sS --max-time 20 --unix-socket "$sock" \
                "http://engine/v1.41/images/$health_image/json" 2>/dev/null | jq -r '.Id // empty' 2>/dev/null)
        log=$(mktemp)
        if [ "$engine" = docker ]; then
                # The legacy builder needs no BuildKit/buildx on the client and never pulls FROM
                # when it is present locally.
                build=(env DOCKER_BUILDKIT=0 "${cli[@]}" build)
        else
                # --format docker: the OCI image format has no HEALTHCHECK and podman would drop it.
                build=("${cli[@]}" build --pull=never --format docker)
        fi
        if ! "${build[@]}" --build-arg "BASE=$base_image" --label "cmsd-test.source=$source_sum" \
                -f "$here/Dockerfile.health" -t "$health_image" "$here" >"$log" 2>&1 ||
                ! health_current; then
                echo "make-images.sh: build of $health_image on $engine failed:" >&2
                tail -n 20 "$log" >&2
                rm -f "$log"
                exit 1
        fi
        rm -f "$log"
        # The outdated build, now untagged; left in place if a container still uses it.
        if [ -n "$old_id" ]; then
                curl -sS --max-time 20 --unix-socket "$sock" -o /dev/null -X DELETE \
                        "http://engine/v1.41/images/$old_id" 2>/dev/null || true
        fi
        made+=("$health_image")
fi

if [ "${#made[@]}" -gt 0 ]; then
        echo "make-images.sh: $engine: made ${made[*]}"
fi
