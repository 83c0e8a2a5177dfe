#!/usr/bin/env bash
# `make run`: find an engine (or start a local dockerd), write a config with a fresh admin
# token, print how to call cmsd, and run it in the foreground on 127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."
LISTEN=${CMSD_LISTEN:-127.0.0.1:8080}
work=build/run
mkdir -p "$work/state"

ping_sock() { curl -fsS --max-time 2 --unix-socket "$1" http://engine/_ping >/dev/null 2>&1; }

engine=""
for s in /var/run/docker.sock /run/podman/podman.sock "${XDG_RUNTIME_DIR:-/nonexistent}/podman/podman.sock"; do
        if [ -S "$s" ] && ping_sock "$s"; then engine="unix://$s"; break; fi
done
started_pid=""
cleanup() {
        if [ -n "$started_pid" ]; then
                echo "stopping the dockerd this script started (pid $started_pid)"
                kill -TERM "$started_pid" 2>/dev/null || true
                for _ in $(seq 1 50); do kill -0 "$started_pid" 2>/dev/null || break; sleep 0.2; done
        fi
}
trap cleanup EXIT
if [ -z "$engine" ]; then
        command -v dockerd >/dev/null || { echo "no engine answers and dockerd is not installed (make deps)" >&2; exit 1; }
        echo "no Docker or Podman socket answers: starting a local dockerd (log: $work/dockerd.log)"
        dockerd --host unix:///var/run/docker.sock >"$work/dockerd.log" 2>&1 &
        started_pid=$!
        for _ in $(seq 1 120); do ping_sock /var/run/docker.sock && break; sleep 0.5; done
        ping_sock /var/run/docker.sock || { echo "dockerd did not come up; see $work/dockerd.log" >&2; exit 1; }
        engine=unix:///var/run/docker.sock
fi

token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
digest=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
cat >"$work/cmsd.yaml" <<YAML
listen: ["$LISTEN"]
engine: "$engine"
tokens:
  - {name: admin, role: admin, sha256: "$digest"}
state_dir: "$PWD/$work/state"
log_level: info
YAML
cat <<MSG

cmsd is starting on http://$LISTEN with engine $engine
admin token (stored only as its sha256 in $work/cmsd.yaml):

  export CMSD_TOKEN=$token
  curl -s http://$LISTEN/v1/health
  curl -s -H "Authorization: Bearer \$CMSD_TOKEN" http://$LISTEN/v1/system/info

Ctrl-C stops it.
MSG
build/cmsd --config "$work/cmsd.yaml" &
cmsd_pid=$!
trap 'kill -TERM "$cmsd_pid" 2>/dev/null || true' INT TERM
set +e
wait "$cmsd_pid"; rc=$?
# wait returns early when a trapped signal arrives: wait for cmsd itself to finish draining.
while kill -0 "$cmsd_pid" 2>/dev/null; do wait "$cmsd_pid"; rc=$?; done
exit "$rc"
