#!/usr/bin/env bash
# Runs the cmocka unit-test binaries and totals their results: cmocka prints per-group
# "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)" lines; a binary that crashes or exits
# non-zero without reporting a failure still counts as one failure, so nothing is lost silently.
#
# usage: scripts/unit.sh BIN...   (last line: "N passed, M failed"; exit 1 on any failure)
set -uo pipefail

passed=0
failed=0

if [ "$#" -eq 0 ]; then
        echo "unit: no unit-test binaries given"
        echo "0 passed, 1 failed"
        exit 1
fi

for bin in "$@"; do
        name=$(basename "$bin")
        if [ ! -x "$bin" ]; then
                echo "not ok - unit $name: binary missing ($bin)"
                failed=$((failed + 1))
                continue
        fi
        out=$(mktemp)
        "$bin" >"$out" 2>&1
        rc=$?
        p=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) test.*/\1/p' "$out" | awk '{ s += $1 } END { print s + 0 }')
        f=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) test.*/\1/p' "$out" | awk '{ s += $1 } END { print s + 0 }')
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
                # Crashed, aborted or failed outside a test: the binary's own verdict is lost.
                f=1
                why="exit status $rc without a cmocka failure report"
        else
                why="$f failed"
        fi
        passed=$((passed + p))
        failed=$((failed + f))
        if [ "$f" -eq 0 ] && [ "$p" -eq 0 ]; then
                echo "not ok - unit $name: ran no tests"
                failed=$((failed + 1))
        elif [ "$f" -eq 0 ]; then
                echo "ok - unit $name ($p passed)"
        else
                echo "not ok - unit $name: $why"
                sed -e 's/^/    /' "$out" | tail -n 40
        fi
        rm -f "$out"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
