#!/usr/bin/env bash
# The body of `make test` after the build: engines up, unit tests, the layer and OpenAPI lints, the
# integration suite on both engines, engines down (also on failure or interrupt). Ends with one
# line "N passed, M failed" summing all parts; exits non-zero when anything failed.
#
# usage: scripts/test.sh BUILD_DIR UNIT_BIN...
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:?usage: scripts/test.sh BUILD_DIR UNIT_BIN...}
shift
cd "$root" || exit 1

passed=0
failed=0
engines_down_done=0
log=$(mktemp)

engines_down() {
        [ "$engines_down_done" = 1 ] && return
        engines_down_done=1
        echo "== engines down"
        "$root/scripts/engines.sh" down || echo "engines.sh down failed"
}
trap 'engines_down; rm -f "$log"' EXIT
trap 'exit 130' INT TERM

# count: adds the "N passed, M failed" totals from the last such line of $log; a part that
# printed none failed without reporting and counts as one failure.
count() {
        local line p f
        line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
        if [ -z "$line" ]; then
                echo "not ok - $1: ended without a result line"
                failed=$((failed + 1))
                return
        fi
        p=${line%% passed*}
        f=${line#*, }
        f=${f%% failed}
        passed=$((passed + p))
        failed=$((failed + f))
}

echo "== engines up"
engines_ok=1
if ! "$root/scripts/engines.sh" up; then
        engines_ok=0
        echo "not ok - engines: scripts/engines.sh up failed"
        failed=$((failed + 1))
fi

echo "== unit tests"
"$root/scripts/unit.sh" "$@" | tee "$log"
count unit

echo "== layers"
if "$root/scripts/lint-layers.py" "$build"; then
        echo "ok - lint-layers"
        passed=$((passed + 1))
else
        echo "not ok - lint-layers"
        failed=$((failed + 1))
fi

echo "== openapi lint"
if [ ! -x "$root/scripts/lint-openapi.sh" ]; then
        echo "not ok - lint-openapi: scripts/lint-openapi.sh missing"
        failed=$((failed + 1))
elif "$root/scripts/lint-openapi.sh"; then
        echo "ok - lint-openapi"
        passed=$((passed + 1))
else
        echo "not ok - lint-openapi"
        failed=$((failed + 1))
fi

# Extra parts, one script per area (scripts/test.d/NAME.sh BUILD_DIR), each ending with its own
# "N passed, M failed" line, e.g. the replay of the fuzzing corpora.
for part in "$root"/scripts/test.d/*.sh; do
        [ -e "$part" ] || continue
        name=$(basename "$part" .sh)
        echo "== $name"
        "$part" "$build" | tee "$log"
        count "$name"
done

echo "== integration"
if [ "$engines_ok" = 1 ]; then
        "$root/tests/integration/run.sh" "$build/cmsd" | tee "$log"
        count integration
else
        echo "not ok - integration: not run, the engines are not up"
        failed=$((failed + 1))
fi

engines_down
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
