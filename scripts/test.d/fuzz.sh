#!/usr/bin/env bash
# make test's part for fuzzing: replays every harness of tests/fuzz/ over its checked-in corpus
# (tests/fuzz/corpus/<h>/) and crash reproducers (tests/fuzz/crashes/<h>/) with the replay build
# (BUILD/fuzz/<h>: the harness and a plain driver, no fuzzing engine). A harness that crashes,
# aborts or outlasts its time fails. Last line: "N passed, M failed".
#
# usage: scripts/test.d/fuzz.sh BUILD_DIR
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:?usage: scripts/test.d/fuzz.sh BUILD_DIR}
cd "$root" || exit 1

passed=0
failed=0
harnesses=$(ls tests/fuzz/fuzz_*.c 2>/dev/null | sed -E 's|.*/fuzz_(.*)\.c|\1|')
if [ -z "$harnesses" ]; then
        echo "not ok - fuzz: no harnesses in tests/fuzz/"
        failed=1
fi
for h in $harnesses; do
        bin=$build/fuzz/$h
        if [ ! -x "$bin" ]; then
                echo "not ok - fuzz.$h: replay binary missing ($bin; make BUILD=$build $bin)"
                failed=$((failed + 1))
                continue
        fi
        out=$(mktemp)
        timeout 120 "$bin" "tests/fuzz/corpus/$h" "tests/fuzz/crashes/$h" >"$out" 2>&1
        rc=$?
        n=$(sed -nE 's/^([0-9]+) inputs, slowest.*/\1/p' "$out" | tail -n 1)
        if [ "$rc" -eq 0 ] && [ "${n:-0}" -gt 0 ]; then
                echo "ok - fuzz.$h (${n} inputs)"
                passed=$((passed + 1))
        else
                why="exit status $rc"
                [ "$rc" -eq 124 ] && why="over 120 s"
                [ "$rc" -eq 0 ] && why="no inputs in tests/fuzz/corpus/$h"
                echo "not ok - fuzz.$h: $why"
                tail -n 20 "$out" | sed 's/^/    /'
                failed=$((failed + 1))
        fi
        rm -f "$out"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
