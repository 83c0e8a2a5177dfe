#!/usr/bin/env bash
# The fuzzing campaign behind `make fuzz` and `make fuzz-merge` (mk/fuzz.mk).
#
#   tests/fuzz/run.sh --check CC                 can CC build libFuzzer targets? (else: what to install)
#   tests/fuzz/run.sh BUILD SECONDS HARNESS...   runs each harness for SECONDS, one after the other
#   tests/fuzz/run.sh --merge BUILD HARNESS...   minimizes the found inputs into tests/fuzz/corpus/
#
# A campaign starts from the checked-in corpus (tests/fuzz/corpus/<h>/, read only) and grows a
# working corpus in BUILD/corpus/<h>/; crashes, timeouts and out-of-memory inputs land in
# BUILD/crashes/<h>/ (to be checked in under tests/fuzz/crashes/<h>/ once fixed). The figures of
# each run (executions, exec/s, coverage, features, crashes, slowest input of the corpus) are
# printed as a Markdown table and written to BUILD/results.md.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root" || exit 1

if [ "${1:-}" = "--check" ]; then
        cc=${2:-clang}
        tmp=$(mktemp -d)
        printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
                'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }' > "$tmp/t.c"
        if ! command -v "$cc" >/dev/null 2>&1; then
                echo "make fuzz: '$cc' not found. Install clang (Debian/Ubuntu:" \
                        "apt-get install clang; libFuzzer and the sanitizer runtimes come with it)," \
                        "or set FUZZ_CC." >&2
                rm -rf "$tmp"
                exit 1
        fi
        if ! "$cc" -fsanitize=fuzzer,address,undefined "$tmp/t.c" -o "$tmp/t" 2>"$tmp/err"; then
                echo "make fuzz: '$cc' cannot link a libFuzzer target:" >&2
                sed 's/^/  /' "$tmp/err" | head -5 >&2
                echo "Install clang with its compiler-rt (Debian/Ubuntu: apt-get install clang;" \
                        "elsewhere the package with libclang_rt.fuzzer), or set FUZZ_CC." >&2
                rm -rf "$tmp"
                exit 1
        fi
        rm -rf "$tmp"
        exit 0
fi

# Per-harness options: the longest input, and the dictionary when there is one.
opts() {
        local h=$1 max=4096
        case $h in
        compose | config | tar_dir | audit | snapshot) max=16384 ;;
        sbom | osv) max=32768 ;;
        esac
        echo "-max_len=$max -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048"
        [ -f "tests/fuzz/dict/$h.dict" ] && echo "-dict=tests/fuzz/dict/$h.dict"
}

if [ "${1:-}" = "--merge" ]; then
        build=${2:?usage: run.sh --merge BUILD HARNESS...}
        shift 2
        for h in "$@"; do
                bin=$build/fuzzer/$h
                new=$build/merged/$h
                rm -rf "$new" && mkdir -p "$new" "tests/fuzz/corpus/$h"
                # Edges, not hit counts (-use_counters=0): a few hundred inputs per harness.
                # shellcheck disable=SC2046
                "$bin" -merge=1 -use_counters=0 $(opts "$h") "$new" "tests/fuzz/corpus/$h" \
                        "$build/corpus/$h" \
                        >"$build/merge-$h.log" 2>&1 || {
                        echo "merge $h failed: $build/merge-$h.log"
                        continue
                }
                # An input the sanitizer build's replay does not survive is a reproducer of an open
                # defect, not corpus: make test (and make asan) must pass on the corpus.
                mkdir -p "$build/crashes/$h"
                held=0
                for f in "$new"/*; do
                        [ -f "$f" ] || continue
                        if ! timeout 20 "$build/fuzz/$h" "$f" >/dev/null 2>&1; then
                                mv "$f" "$build/crashes/$h/"
                                held=$((held + 1))
                        fi
                done
                [ "$held" -gt 0 ] && echo "$h: $held inputs fail the sanitizer replay," \
                        "moved to $build/crashes/$h/"
                rm -rf "tests/fuzz/corpus/$h" && mv "$new" "tests/fuzz/corpus/$h"
                echo "$h: $(find "tests/fuzz/corpus/$h" -type f | wc -l) inputs," \
                        "$(du -sk "tests/fuzz/corpus/$h" | cut -f1) KiB"
        done
        exit 0
fi

build=${1:?usage: run.sh BUILD SECONDS HARNESS...}
# The harnesses' scratch files (snapshots, audit logs, generated trees) on a tmpfs when there is
# one: fsync there costs nothing, so the figures measure the parsers, not the disk.
scratch_parent=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && scratch_parent=/dev/shm
TMPDIR=$(mktemp -d "$scratch_parent/cmsd-fuzz.XXXXXX") || exit 1
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
seconds=${2:?usage: run.sh BUILD SECONDS HARNESS...}
shift 2
fork=${FUZZ_FORK:-1}
# ASan's quarantine at 64 MiB instead of 256 (a freed block stays poisoned until 64 MiB more are
# freed: more than one input of these parsers allocates but for a few compose expansions) and no
# returning of free memory to the system every 5 s: fewer page faults on fresh memory (a replay
# of config's corpus: a third less CPU, most of it system time). The caller's ASAN_OPTIONS win.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=64:allocator_release_to_os_interval_ms=-1}
results=$build/results.md
{
        echo "| harness | seconds | executions | exec/s | cov | ft | corpus | crashes |" \
                "slowest input |"
        echo "|---|---|---|---|---|---|---|---|---|"
} | tee "$results"
failed=0
for h in "$@"; do
        bin=$build/fuzzer/$h
        work=$build/corpus/$h
        crashes=$build/crashes/$h
        log=$build/logs/$h.log
        mkdir -p "$work" "$crashes" "$(dirname "$log")" "tests/fuzz/corpus/$h"
        before=$(find "$crashes" -type f | wc -l)
        if [ "$fork" = 1 ]; then
                # Fork mode, one job: a crash, timeout or out-of-memory input is saved and the run
                # goes on (a parser with one known crash is still fuzzed for the whole time).
                # shellcheck disable=SC2046
                UBSAN_OPTIONS=print_stacktrace=1 "$bin" $(opts "$h") -max_total_time="$seconds" \
                        -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
                        -artifact_prefix="$crashes/" -close_fd_mask=1 "$work" \
                        "tests/fuzz/corpus/$h" >"$log" 2>&1
                rc=$?
                # The last progress line: "#EXECS: cov: C ft: F corp: N exec/s R ... time: Ts".
                last=$(grep -E '^#[0-9]+: cov: ' "$log" | tail -n 1)
                execs=$(echo "$last" | sed -nE 's/^#([0-9]+):.*/\1/p')
                secs=$(echo "$last" | sed -nE 's/.* time: ([0-9]+)s.*/\1/p')
        else
                # One process (FUZZ_FORK=0): no job start-up and corpus merge every few seconds,
                # so more executions; a crash, timeout or out-of-memory input ends the process, so
                # it is started again on the grown corpus for the time left. Executions are
                # libFuzzer's final stats (printed on a crash too), summed over the processes.
                : >"$log"
                t0=$(date +%s) execs=0 rc=0 saved=$before
                while left=$((seconds - ($(date +%s) - t0))) && [ "$left" -ge 5 ]; do
                        # shellcheck disable=SC2046
                        UBSAN_OPTIONS=print_stacktrace=1 "$bin" $(opts "$h") \
                                -max_total_time="$left" -print_final_stats=1 \
                                -artifact_prefix="$crashes/" -close_fd_mask=1 "$work" \
                                "tests/fuzz/corpus/$h" >"$log.part" 2>&1
                        r=$?
                        cat "$log.part" >>"$log"
                        n=$(sed -nE 's/^stat::number_of_executed_units: ([0-9]+).*/\1/p' \
                                "$log.part" | tail -n 1)
                        execs=$((execs + ${n:-0}))
                        # Started again only after it saved an input; anything else is a failure.
                        [ "$r" -eq 0 ] && break
                        now=$(find "$crashes" -type f | wc -l)
                        [ "$now" -gt "$saved" ] || {
                                rc=$r
                                break
                        }
                        saved=$now
                done
                rm -f "$log.part"
                secs=$(($(date +%s) - t0))
                # The last progress line: "#EXECS<tab>NEW|REDUCE|pulse|DONE  cov: C ft: F ...".
                last=$(grep -E '^#[0-9]+[[:space:]].* cov: ' "$log" | tail -n 1)
        fi
        rate=$([ -n "$execs" ] && [ "${secs:-0}" -gt 0 ] && echo $((execs / secs)))
        cov=$(echo "$last" | grep -oE 'cov: [0-9]+ ft: [0-9]+')
        found=$(($(find "$crashes" -type f | wc -l) - before))
        ninputs=$(find "$work" -type f | wc -l)
        # The slowest input of the working corpus, timed by the sanitizer build's replay driver.
        slow=$("$build/fuzz/$h" "$work" "tests/fuzz/corpus/$h" 2>/dev/null | tail -n 1 |
                sed -nE 's/.*slowest ([0-9.]+ ms).*/\1/p')
        { [ "$rc" -ne 0 ] || [ "$found" -gt 0 ]; } && failed=$((failed + 1))
        note=""
        [ "$rc" -ne 0 ] && note=" (exit $rc, $log)"
        echo "| $h | $seconds | ${execs:-?} | ${rate:-?} | $(echo "$cov" | awk '{print $2}') |" \
                "$(echo "$cov" | awk '{print $4}') | $ninputs | $found$note | ${slow:-?} |" |
                tee -a "$results"
done
echo "figures in $results; new inputs in $build/corpus/ (make fuzz-merge to keep them)"
[ "$failed" -gt 0 ] && echo "crashes, timeouts and out-of-memory inputs:" \
        "$build/crashes/<harness>/; the harness's log in $build/logs/ has the report"
[ "$failed" -eq 0 ]
