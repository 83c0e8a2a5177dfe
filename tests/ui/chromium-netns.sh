#!/bin/bash
# Chromium in a network namespace of its own (see netns.mjs for why), for playwright-core's
# executablePath. env: CHROMIUM (the browser, default chromium on PATH), RELAY_PORT and
# RELAY_SOCK (from relayOut). The DevTools pipe playwright talks over is inherited through
# unshare and exec.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec unshare --net bash -c '
        ip link set lo up
        node "$1/netns.mjs" in "$RELAY_PORT" "$RELAY_SOCK" &
        i=0
        while ! (exec 3<>"/dev/tcp/127.0.0.1/$RELAY_PORT") 2>/dev/null && [ "$i" -lt 50 ]; do
                sleep 0.1
                i=$((i + 1))
        done
        shift
        exec "${CHROMIUM:-chromium}" "$@"
' bash "$here" "$@"
