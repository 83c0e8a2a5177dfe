#!/usr/bin/env bash
# Installs the Debian packages that cmsd, its tests and its engines need, and only those that are
# missing: `make deps` must be cheap and silent on a machine that already has everything.
set -euo pipefail

pkgs=(build-essential pkg-config libmicrohttpd-dev libgnutls28-dev nettle-dev libarchive-dev libcurl4-openssl-dev libjson-c-dev libyaml-dev
      libsystemd-dev libcmocka-dev jq curl busybox-static docker.io podman uidmap iptables wrk
      systemd docker-registry docker-compose apache2-utils openssl prometheus python3 gzip bzip2
      xz-utils zstd groff-base zsh python3-apt mmdebstrap chromium)

# chromium: the dashboard's browser tests (tests/ui/, through playwright-core, which npm ci
# installs with uplot from package-lock.json: mk/ui.mk) and bench/ui.sh.
# A newer node/npm installed outside apt (nvm, nodesource, a tarball) is fine for the OpenAPI
# linter and the dashboard's build; installing Debian's on top would only fight it over PATH.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        pkgs+=(nodejs npm)
fi

missing=()
for p in "${pkgs[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        if [ "$status" != "install ok installed" ]; then
                missing+=("$p")
        fi
done

if [ "${#missing[@]}" -eq 0 ]; then
        exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
                sudo=(sudo)
        else
                echo "deps.sh: missing packages (${missing[*]}) and not root and no sudo;" \
                     "install them as root: apt-get install ${missing[*]}" >&2
                exit 1
        fi
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        "${missing[@]}"
