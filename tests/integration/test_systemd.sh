#!/usr/bin/env bash
# cmsd as a systemd service, checked without a running systemd: the sd_notify protocol on a
# datagram socket bound here (READY with STATUS only once listening, WATCHDOG at half of
# WATCHDOG_USEC, RELOADING/READY around SIGHUP, STOPPING, all from cmsd's PID and in that order);
# watchdog pings stop while cmsd is frozen (SIGSTOP) and resume after SIGCONT; socket activation
# through Debian's systemd-socket-activate on TCP and on a unix socket (and a datagram socket
# refused); journald's native protocol on a socket bound in a private mount namespace (PRIORITY,
# CODE_*, METHOD/PATH/STATUS/DURATION_MS/TOKEN_NAME) only when JOURNAL_STREAM names stderr;
# SIGTERM under load; the units through systemd-analyze verify and security (exposure < 3.0);
# the sysusers/tmpfiles snippets applied to a scratch root; make install/uninstall in a DESTDIR.
# SIGHUP token reloads (new one works, old refused, broken config keeps the old) are in
# test_signals.sh.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

REPO=$(cd "$(dirname "$0")/../.." && pwd)
RECV="$WORK_DIR/dgram_recv"

# The datagram receiver standing in for systemd's notify socket and journald: built once per run
# with the C compiler cmsd itself needs.
build_recv() {
        [ -x "$RECV" ] && return 0
        "${CC:-cc}" -O2 -Wall -o "$RECV.tmp.$$" "$REPO/tests/integration/dgram_recv.c" \
                >"$WORK_DIR/dgram_recv.err" 2>&1 && mv -f "$RECV.tmp.$$" "$RECV"
}
build_recv
RECV_OK=$?

need_recv() {
        [ "$RECV_OK" -eq 0 ] || fail "cannot build dgram_recv: $(short "$(cat "$WORK_DIR/dgram_recv.err")")"
}

need_tool() {
        command -v "$1" >/dev/null 2>&1 || fail "$1 not found (Debian package: $2)"
}

# start_recv SOCKET OUT: a receiver in the background (killed by t() at the end of the test).
start_recv() {
        "$RECV" "$1" >"$2" 2>"$2.err" &
        echo "$!" >>"$T_TMP/pids"
        wait_for "[ -S '$1' ]" 5 || fail "receiver did not bind $1: $(cat "$2.err")"
}

# count PATTERN FILE: lines matching (grep -c without its exit status).
count() {
        grep -c -- "$1" "$2" 2>/dev/null || true
}

# line_of PATTERN FILE [NTH]: line number of the NTH (default 1st) line matching, or 0.
line_of() {
        grep -n -- "$1" "$2" 2>/dev/null | sed -n "${3:-1}p" | cut -d: -f1 | grep . || echo 0
}

# start_notified CONF PORT WATCHDOG_USEC: a private cmsd reporting to $T_TMP/notify.sock; waits
# for READY=1. Sets MY_PID, MY_URL, MY_LOG, NOTES (the receiver's output).
start_notified() {
        local conf=$1 port=$2 _
        NOTES="$T_TMP/notify.out"
        MY_LOG="$T_TMP/private-cmsd.log"
        mkdir -p "$T_TMP/state"
        start_recv "$T_TMP/notify.sock" "$NOTES"
        for _ in 1 2 3; do
                MY_URL="http://127.0.0.1:$port"
                NOTIFY_SOCKET="$T_TMP/notify.sock" WATCHDOG_USEC=$3 \
                        "$CMSD_BIN" --config "$conf" --listen "127.0.0.1:$port" \
                        --engine "unix://$ENGINE_SOCK" >>"$MY_LOG" 2>&1 &
                MY_PID=$!
                echo "$MY_PID" >>"$T_TMP/pids"
                wait_for "grep -q 'READY=1' '$NOTES' || ! kill -0 $MY_PID 2>/dev/null" 20
                if grep -q 'READY=1' "$NOTES"; then
                        return 0
                fi
                kill -0 "$MY_PID" 2>/dev/null && fail "no READY=1 within 20 s"
                tail -n 3 "$MY_LOG" | grep -qi 'address already in use' || break
                port=$(free_port) || break
                sed -i -E "s/127\.0\.0\.1:[0-9]+/127.0.0.1:$port/g" "$conf"
        done
        fail "cmsd exited before READY=1: $(tail -n 5 "$MY_LOG" | tr '\n' ' ')"
}

# stop_pid PID: SIGTERM; it must exit 0 within 30 s.
stop_pid() {
        kill -TERM "$1" 2>/dev/null || fail "cmsd (pid $1) already gone"
        wait_pid_exit "$1" 30 || fail "cmsd did not exit within 30 s of SIGTERM"
        wait "$1"
        local rc=$?
        [ "$rc" -eq 0 ] || fail "cmsd exited $rc after SIGTERM"
}

notify_protocol() {
        need_recv
        local port conf="$T_TMP/cmsd.yaml" r1 r2 h s1 w1 ready2 st
        port=$(free_port) || fail "no free port"
        write_config "$conf" "$port" "unix://$ENGINE_SOCK"
        start_notified "$conf" "$port" 1000000
        # READY=1 means listening: the first request must be answered, with no retry.
        curl -sf --max-time 5 "$MY_URL/v1/health" >/dev/null ||
                fail "READY=1 sent but $MY_URL/v1/health does not answer"
        r1=$(grep -m1 'READY=1' "$NOTES")
        [[ "$r1" == *"READY=1|STATUS=engine $ENGINE "*" up; listening on 1 socket; "*" requests served; sampling "*" container"* ]] ||
                fail "READY line without the expected STATUS: $r1"

        wait_for "[ \$(count WATCHDOG=1 '$NOTES') -ge 4 ]" 6 ||
                fail "fewer than 4 WATCHDOG=1 in 6 s with WATCHDOG_USEC=1s: $(count WATCHDOG=1 "$NOTES")"
        # About half of WATCHDOG_USEC apart: never bunched up (a busy loop), never far late (some
        # slack for a loaded machine).
        awk '/WATCHDOG=1/ { if (p) { d = $1 - p; if (d < 250 || d > 1500) bad = bad " " d } p = $1 }
             END { if (bad) { print "gaps (ms):" bad; exit 1 } }' "$NOTES" ||
                fail "watchdog pings not every ~500 ms: $(awk '/WATCHDOG=1/' "$NOTES" | head -n 8 | tr '\n' ' ')"

        # STATUS follows the requests served.
        for _ in 1 2 3; do
                my_api GET /v1/auth/whoami
                expect_ok
        done
        wait_for "grep -Eq 'STATUS=.* [1-9][0-9]* requests served' '$NOTES'" 8 ||
                fail "no STATUS line counting the requests: $(grep STATUS "$NOTES" | tail -n 2)"

        # Reload: RELOADING=1, then READY=1 again; the new token works.
        write_config "$conf" "$port" "unix://$ENGINE_SOCK"
        printf '  - {name: late, role: viewer, token: "t-late"}\n' >"$T_TMP/extra"
        sed -i "/^tokens:/r $T_TMP/extra" "$conf"
        kill -HUP "$MY_PID"
        wait_for "[ \$(count READY=1 '$NOTES') -ge 2 ]" 10 || fail "no READY=1 after SIGHUP"
        my_api GET /v1/auth/whoami "" t-late
        expect_ok
        expect_json .data.name late
        # A broken file: refused, still RELOADING then READY, and STATUS says so.
        printf 'tokens: [ {name: x\nlisten: {{{\n' >"$conf"
        kill -HUP "$MY_PID"
        wait_for "[ \$(count READY=1 '$NOTES') -ge 3 ]" 10 || fail "no READY=1 after a refused reload"
        grep 'READY=1' "$NOTES" | sed -n 3p | grep -q 'STATUS=reload refused, running configuration kept; engine' ||
                fail "READY after a broken config does not say the reload was refused: $(grep READY=1 "$NOTES" | sed -n 3p)"
        my_api GET /v1/auth/whoami "" t-late
        expect_ok

        stop_pid "$MY_PID"
        sleep 0.2
        [ "$(count STOPPING=1 "$NOTES")" -eq 1 ] || fail "expected one STOPPING=1: $(cat "$NOTES")"
        grep -q 'STOPPING=1|STATUS=stopping: draining' "$NOTES" || fail "STOPPING without its STATUS"

        # Order: READY < WATCHDOG < RELOADING < READY < RELOADING < READY < STOPPING, nothing after.
        s1=$(line_of 'READY=1' "$NOTES")
        w1=$(line_of 'WATCHDOG=1' "$NOTES")
        r1=$(line_of 'RELOADING=1' "$NOTES")
        ready2=$(line_of 'READY=1' "$NOTES" 2)
        r2=$(line_of 'RELOADING=1' "$NOTES" 2)
        h=$(line_of 'READY=1' "$NOTES" 3)
        st=$(line_of 'STOPPING=1' "$NOTES")
        [ "$s1" -eq 1 ] || fail "READY=1 is not the first message: $(head -n 2 "$NOTES")"
        if ! [ "$s1" -lt "$w1" ] || ! [ "$w1" -lt "$r1" ] || ! [ "$r1" -lt "$ready2" ] ||
                ! [ "$ready2" -lt "$r2" ] || ! [ "$r2" -lt "$h" ] || ! [ "$h" -lt "$st" ]; then
                fail "order READY<WATCHDOG<RELOADING<READY<RELOADING<READY<STOPPING broken: $s1 $w1 $r1 $ready2 $r2 $h $st"
        fi
        # The drain may still ping the watchdog; nothing else follows STOPPING=1.
        ! tail -n "+$((st + 1))" "$NOTES" | grep -qv 'WATCHDOG=1$' ||
                fail "messages after STOPPING=1: $(tail -n "+$((st + 1))" "$NOTES" | head -n 3)"
        grep -q 'RELOADING=1|MONOTONIC_USEC=[0-9]*|STATUS=' "$NOTES" || fail "RELOADING without MONOTONIC_USEC"
        # Every message came from cmsd itself.
        [ "$(awk '{ print $2 }' "$NOTES" | sort -u)" = "pid=$MY_PID" ] ||
                fail "messages from other PIDs: $(awk '{ print $2 }' "$NOTES" | sort -u | tr '\n' ' ')"
}

watchdog_stops_when_frozen() {
        need_recv
        local port conf="$T_TMP/cmsd.yaml" n1 n2
        port=$(free_port) || fail "no free port"
        write_config "$conf" "$port" "unix://$ENGINE_SOCK"
        start_notified "$conf" "$port" 400000
        wait_for "[ \$(count WATCHDOG=1 '$NOTES') -ge 3 ]" 5 || fail "no watchdog pings"
        kill -STOP "$MY_PID"
        sleep 0.3 # a ping already sent reaches the receiver
        n1=$(count WATCHDOG=1 "$NOTES")
        sleep 2 # ten ping periods
        n2=$(count WATCHDOG=1 "$NOTES")
        kill -CONT "$MY_PID"
        [ "$n1" -eq "$n2" ] || fail "pings went on while cmsd was stopped: $n1 -> $n2"
        wait_for "[ \$(count WATCHDOG=1 '$NOTES') -gt $n2 ]" 3 || fail "pings did not resume after SIGCONT"
        curl -sf --max-time 5 "$MY_URL/v1/health" >/dev/null || fail "cmsd does not answer after SIGCONT"
        stop_pid "$MY_PID"
}

# activate ARGS...: systemd-socket-activate ARGS... cmsd (config $T_TMP/cmsd.yaml); retries on a
# port taken meanwhile. Sets MY_PID (the same process becomes cmsd) and MY_LOG.
activate() {
        MY_LOG="$T_TMP/private-cmsd.log"
        systemd-socket-activate "$@" "$CMSD_BIN" --config "$T_TMP/cmsd.yaml" \
                --engine "unix://$ENGINE_SOCK" >>"$MY_LOG" 2>&1 &
        MY_PID=$!
        echo "$MY_PID" >>"$T_TMP/pids"
        wait_for "grep -q '^Listening on' '$MY_LOG' || ! kill -0 $MY_PID 2>/dev/null" 10
        kill -0 "$MY_PID" 2>/dev/null || fail "systemd-socket-activate failed: $(tail -n 3 "$MY_LOG")"
}

socket_activation() {
        need_tool systemd-socket-activate systemd
        local port cport sock="$T_TMP/api.sock" rc
        port=$(free_port) || fail "no free port"
        cport=$(free_port) || fail "no free port"
        # The configured address must stay unused: the passed sockets replace it.
        write_config "$T_TMP/cmsd.yaml" "$cport" "unix://$ENGINE_SOCK"
        mkdir -p "$T_TMP/state"
        activate -l "127.0.0.1:$port" -l "$sock" --fdname=web:local
        # The first connection makes systemd-socket-activate exec cmsd; it waits in the backlog.
        local CMSD_URL="http://127.0.0.1:$port"
        api GET /v1/health "" -
        expect_ok
        [ "$(cat "/proc/$MY_PID/comm" 2>/dev/null)" = cmsd ] || fail "cmsd is not running in place"
        api GET /v1/auth/whoami
        expect_ok
        expect_json .data.name admin
        curl -sS --max-time 10 --unix-socket "$sock" -H "Authorization: Bearer $TOK_VIEWER" \
                -o "$T_TMP/unix.out" http://cmsd/v1/auth/whoami 2>"$T_TMP/unix.err" ||
                fail "no answer on the passed unix socket: $(cat "$T_TMP/unix.err")"
        jq -e '.data.name == "viewer"' "$T_TMP/unix.out" >/dev/null ||
                fail "unix socket reply: $(cat "$T_TMP/unix.out")"
        curl -s --max-time 3 -o /dev/null "http://127.0.0.1:$cport/v1/health"
        rc=$?
        [ "$rc" -eq 7 ] || fail "the configured listen address answered (curl $rc) under socket activation"
        grep -q "listening on 127.0.0.1:$port (from systemd, web)" "$MY_LOG" || fail "no log of the TCP socket"
        grep -q "listening on unix:$sock (from systemd, local)" "$MY_LOG" || fail "no log of the unix socket"
        grep -q 'socket activation: serving the 2 sockets' "$MY_LOG" || fail "no log of the activation"
        stop_pid "$MY_PID"
        # The socket file belongs to whoever made it (systemd): cmsd leaves it in place.
        [ -S "$sock" ] || fail "cmsd removed the unix socket systemd passed"
}

socket_activation_refuses_datagram() {
        need_tool systemd-socket-activate systemd
        local port rc
        port=$(free_port) || fail "no free port"
        write_config "$T_TMP/cmsd.yaml" "$port" "unix://$ENGINE_SOCK"
        mkdir -p "$T_TMP/state"
        activate --datagram -l "127.0.0.1:$port"
        echo wake >"/dev/udp/127.0.0.1/$port"
        wait_pid_exit "$MY_PID" 20 || fail "cmsd still running with a datagram socket passed"
        wait "$MY_PID"
        rc=$?
        [ "$rc" -eq 1 ] || fail "cmsd exited $rc, expected 1"
        grep -q 'is not a listening unix or TCP stream socket' "$MY_LOG" ||
                fail "no reason logged: $(tail -n 3 "$MY_LOG")"
}

# journal_run MATCH: cmsd in a private mount namespace where /run is a fresh tmpfs holding a
# receiver at journald's socket path; its stderr is $T_TMP/stderr and JOURNAL_STREAM names that
# file (MATCH=yes) or another one. The engine is absent: this is about logging.
journal_run() {
        need_recv
        need_tool unshare util-linux
        local port other="$T_TMP/other"
        port=$(free_port) || fail "no free port"
        write_config "$T_TMP/cmsd.yaml" "$port" "unix://$T_TMP/no-engine.sock"
        mkdir -p "$T_TMP/state"
        : >"$T_TMP/stderr"
        : >"$other"
        JOURNAL="$T_TMP/journal.out"
        MY_URL="http://127.0.0.1:$port"
        MY_LOG="$T_TMP/stderr"
        cat >"$T_TMP/ns.sh" <<EOF
set -e
mount -t tmpfs -o mode=0755 cmsd-test /run
mkdir -p /run/systemd/journal
"$RECV" /run/systemd/journal/socket >"$JOURNAL" 2>"$T_TMP/recv.err" &
echo \$! >>"$T_TMP/pids"
for i in \$(seq 50); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done
JOURNAL_STREAM=\$(stat -c '%d:%i' "$([ "$1" = yes ] && echo "$T_TMP/stderr" || echo "$other")")
export JOURNAL_STREAM
exec "$CMSD_BIN" --config "$T_TMP/cmsd.yaml" --listen "127.0.0.1:$port" \
        --engine "unix://$T_TMP/no-engine.sock" 2>>"$T_TMP/stderr"
EOF
        unshare -m --propagation private bash "$T_TMP/ns.sh" >"$T_TMP/ns.out" 2>&1 &
        MY_PID=$!
        echo "$MY_PID" >>"$T_TMP/pids"
        wait_for "curl -sf --max-time 2 '$MY_URL/v1/health' >/dev/null || ! kill -0 $MY_PID 2>/dev/null" 20
        kill -0 "$MY_PID" 2>/dev/null ||
                fail "cmsd in a mount namespace did not start: $(cat "$T_TMP/ns.out" "$T_TMP/stderr" | tail -n 5)"
        my_api GET /v1/auth/whoami
        expect_ok
        my_api GET /v1/auth/whoami "" t-wrong
        expect_status 401
}

journald_fields() {
        local req
        journal_run yes
        wait_for "grep -q 'MESSAGE=GET /v1/auth/whoami 401' '$JOURNAL'" 5 ||
                fail "no access-log entry in the journal: $(tail -n 3 "$JOURNAL")"
        req=$(grep 'MESSAGE=GET /v1/auth/whoami 200' "$JOURNAL" | head -n 1)
        for f in 'PRIORITY=6' 'SYSLOG_IDENTIFIER=cmsd' 'METHOD=GET' 'PATH=/v1/auth/whoami' 'STATUS=200' \
                'TOKEN_NAME=admin' 'CODE_FILE=api/server.c' 'CODE_FUNC=on_completed'; do
                [[ "$req" == *"|$f|"* ]] || fail "access entry lacks $f: $req"
        done
        [[ "$req" =~ \|DURATION_MS=[0-9]+\| ]] || fail "access entry lacks DURATION_MS: $req"
        [[ "$req" =~ \|CODE_LINE=[0-9]+\| ]] || fail "access entry lacks CODE_LINE: $req"
        req=$(grep 'MESSAGE=GET /v1/auth/whoami 401' "$JOURNAL" | head -n 1)
        [[ "$req" == *"|STATUS=401|"* && "$req" == *"|TOKEN_NAME=-|"* ]] || fail "401 entry: $req"
        # The failed authentication is an audit record, in the journal too, with its fields.
        req=$(grep '|AUDIT=1|' "$JOURNAL" | grep '|STATUS=401|' | head -n 1)
        for f in 'ROUTE=whoami' 'METHOD=GET' 'TOKEN_NAME=-' 'POLICY_DECISION=allowed'; do
                [[ "$req" == *"|$f|"* ]] || fail "audit journal entry lacks $f: $req"
        done
        [[ "$req" =~ \|REQUEST_ID=[0-9a-f]+-[0-9a-f]+\| ]] || fail "audit entry lacks REQUEST_ID: $req"
        # A warning keeps its priority and its source location.
        grep 'MESSAGE=engine unix://.* is not answering' "$JOURNAL" |
                grep -Eq '\|PRIORITY=4\|.*\|CODE_FILE=daemon/main\.c\|CODE_LINE=[0-9]+\|' ||
                fail "engine warning not at PRIORITY=4 with its location: $(grep -m1 'not answering' "$JOURNAL")"
        [ "$(awk '{ print $2 }' "$JOURNAL" | sort -u)" = "pid=$MY_PID" ] || fail "journal entries from other PIDs"
        ! grep -q 'whoami' "$T_TMP/stderr" || fail "lines went to stderr as well: $(head -n 3 "$T_TMP/stderr")"
        stop_pid "$MY_PID"
        grep -q 'MESSAGE=stopped|' "$JOURNAL" || fail "no 'stopped' entry"
}

journald_only_for_its_stream() {
        journal_run no
        wait_for "grep -q 'GET /v1/auth/whoami 401' '$T_TMP/stderr'" 5 ||
                fail "no access line on stderr: $(tail -n 3 "$T_TMP/stderr")"
        grep -Eq '^[0-9T:.-]+Z info  GET /v1/auth/whoami 200 [0-9]+ms token=admin peer=127\.0\.0\.1:[0-9]+$' "$T_TMP/stderr" ||
                fail "plain access line: $(grep whoami "$T_TMP/stderr" | head -n 1)"
        stop_pid "$MY_PID"
        [ ! -s "$JOURNAL" ] || fail "entries sent to the journal although JOURNAL_STREAM names another file: $(head -n 2 "$JOURNAL")"
}

# quick_loop N: GETs one after another until $T_TMP/stop exists; HTTP codes to $T_TMP/quick.N.
quick_loop() {
        while [ ! -e "$T_TMP/stop" ]; do
                curl -s --max-time 30 -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $TOK_ADMIN" \
                        "$MY_URL/v1/containers/$CID" >>"$T_TMP/quick.$1" 2>/dev/null
        done
}

sigterm_under_load() {
        local port conf="$T_TMP/cmsd.yaml" i bgs=() loops=() code rc bad
        port=$(free_port) || fail "no free port"
        write_config "$conf" "$port" "unix://$ENGINE_SOCK"
        start_cmsd "$conf" "$port" "unix://$ENGINE_SOCK"
        local CMSD_URL=$MY_URL
        run_c "$(unique load)"
        for i in 1 2 3 4; do
                quick_loop "$i" &
                loops+=($!)
        done
        for i in 1 2 3 4 5 6 7 8; do
                curl -sS --max-time 60 -X POST -H "Authorization: Bearer $TOK_ADMIN" \
                        -H 'Content-Type: application/json' -o "$T_TMP/exec.$i" -w '%{http_code}' \
                        -d "{\"command\": [\"sh\", \"-c\", \"sleep 2; echo done-$i\"]}" \
                        "$MY_URL/v1/containers/$CID/exec" >"$T_TMP/exec.$i.code" 2>/dev/null &
                bgs+=($!)
        done
        sleep 1
        kill -TERM "$MY_PID"
        sleep 0.3
        curl -s --max-time 3 -o /dev/null "$MY_URL/v1/health"
        rc=$?
        [ "$rc" -eq 7 ] || fail "a new connection during the drain was not refused (curl $rc)"
        for i in "${bgs[@]}"; do
                wait "$i"
        done
        wait_pid_exit "$MY_PID" 30 || fail "cmsd still running 30 s after SIGTERM"
        wait "$MY_PID"
        rc=$?
        touch "$T_TMP/stop"
        for i in "${loops[@]}"; do
                wait "$i"
        done
        [ "$rc" -eq 0 ] || fail "cmsd exited $rc after SIGTERM under load"
        for i in 1 2 3 4 5 6 7 8; do
                code=$(cat "$T_TMP/exec.$i.code")
                [ "$code" = 200 ] || fail "in-flight exec $i got '$code' after SIGTERM: $(cat "$T_TMP/exec.$i")"
                jq -e --arg want "done-$i" '.data.stdout | startswith($want)' "$T_TMP/exec.$i" >/dev/null ||
                        fail "in-flight exec $i reply: $(short "$(cat "$T_TMP/exec.$i")")"
        done
        # Requests racing the shutdown: answered (200), turned away (503) or not connected (000).
        bad=$(cat "$T_TMP"/quick.* | grep -Ev '^(200|503|000)$' | sort | uniq -c | tr '\n' ' ')
        [ -z "$bad" ] || fail "requests during the drain got: $bad"
        [ "$(cat "$T_TMP"/quick.* | grep -c '^200$')" -gt 10 ] || fail "the load loops got few answers"
}

# unit_copies: the units with ExecStart pointing at the binary under test (the installed path
# does not exist here). Sets UNITS.
unit_copies() {
        UNITS="$T_TMP/units"
        mkdir -p "$UNITS"
        sed "s|/usr/local/bin/cmsd|$CMSD_BIN|" "$REPO/systemd/cmsd.service" >"$UNITS/cmsd.service"
        cp "$REPO/systemd/cmsd.socket" "$UNITS/cmsd.socket"
}

units_verify() {
        need_tool systemd-analyze systemd
        local out
        unit_copies
        out=$(systemd-analyze verify --man=no "$UNITS/cmsd.socket" "$UNITS/cmsd.service" 2>&1) ||
                fail "systemd-analyze verify failed: $(short "$out")"
        [ -z "$out" ] || fail "systemd-analyze verify complained: $(short "$out")"
        grep -q '^Type=notify$' "$UNITS/cmsd.service" || fail "cmsd.service is not Type=notify"
        grep -q '^WatchdogSec=' "$UNITS/cmsd.service" || fail "cmsd.service has no WatchdogSec"
}

units_security() {
        need_tool systemd-analyze systemd
        local out level
        unit_copies
        out=$(systemd-analyze security --offline=true --no-pager "$UNITS/cmsd.service" 2>&1) ||
                fail "systemd-analyze security failed: $(short "$out")"
        level=$(sed -nE 's/.*Overall exposure level for cmsd\.service: ([0-9.]+).*/\1/p' <<<"$out")
        [ -n "$level" ] || fail "no exposure level in: $(short "$(tail -n 3 <<<"$out")")"
        echo "exposure level: $level"
        awk -v l="$level" 'BEGIN { exit !(l < 3.0) }' || fail "exposure level $level is not below 3.0"
}

sysusers_tmpfiles() {
        need_tool systemd-sysusers systemd
        need_tool systemd-tmpfiles systemd
        local root="$T_TMP/root" gid out
        mkdir -p "$root/etc"
        out=$(systemd-sysusers --root="$root" - <"$REPO/systemd/sysusers.conf" 2>&1) ||
                fail "systemd-sysusers: $out"
        grep -Eq '^cmsd:x:[0-9]+:[0-9]+:[^:]*:/var/lib/cmsd:/usr/sbin/nologin$' "$root/etc/passwd" ||
                fail "no cmsd system user: $(cat "$root/etc/passwd")"
        grep -Eq '^docker:x:[0-9]+:(.*,)?cmsd(,.*)?$' "$root/etc/group" ||
                fail "cmsd not in group docker: $(cat "$root/etc/group")"
        gid=$(awk -F: '$1 == "cmsd" { print $3 }' "$root/etc/group")
        [ -n "$gid" ] || fail "no cmsd group"
        mkdir -p "$root/etc/cmsd"
        : >"$root/etc/cmsd/cmsd.yaml"
        out=$(systemd-tmpfiles --root="$root" --create - <"$REPO/systemd/tmpfiles.conf" 2>&1) ||
                fail "systemd-tmpfiles: $out"
        [ "$(stat -c '%a %u %g' "$root/etc/cmsd")" = "750 0 $gid" ] ||
                fail "/etc/cmsd is $(stat -c '%a %u %g' "$root/etc/cmsd"), expected 750 0 $gid"
        [ "$(stat -c '%a %u %g' "$root/etc/cmsd/cmsd.yaml")" = "640 0 $gid" ] ||
                fail "cmsd.yaml is $(stat -c '%a %u %g' "$root/etc/cmsd/cmsd.yaml"), expected 640 0 $gid"
}

install_layout() {
        need_tool make make
        local dest="$T_TMP/dest" bdir out left
        bdir=$(dirname "$CMSD_BIN")
        # -o: the binaries under test are taken as built; install must not rebuild them (the other
        # engine's run may be installing from the same build dir at the same time).
        out=$(make --no-print-directory -C "$REPO" -o "$bdir/cmsd" -o "$bdir/cmsctl" BUILD="$bdir" DESTDIR="$dest" \
                PREFIX=/usr install 2>&1) || fail "make install: $(short "$out")"
        for f in usr/bin/cmsd usr/lib/systemd/system/cmsd.service usr/lib/systemd/system/cmsd.socket \
                usr/lib/sysusers.d/cmsd.conf usr/lib/tmpfiles.d/cmsd.conf etc/cmsd/cmsd.yaml.example; do
                [ -f "$dest/$f" ] || fail "make install did not put $f in place"
        done
        [ -x "$dest/usr/bin/cmsd" ] || fail "installed cmsd is not executable"
        grep -qx 'ExecStart=/usr/bin/cmsd --config /etc/cmsd/cmsd.yaml' "$dest/usr/lib/systemd/system/cmsd.service" ||
                fail "ExecStart not adjusted to PREFIX: $(grep ExecStart "$dest/usr/lib/systemd/system/cmsd.service")"
        out=$("$dest/usr/bin/cmsd" --check-config --config "$dest/etc/cmsd/cmsd.yaml.example" 2>&1) ||
                fail "the example configuration does not check: $out"
        out=$(make --no-print-directory -C "$REPO" BUILD="$bdir" DESTDIR="$dest" PREFIX=/usr uninstall 2>&1) ||
                fail "make uninstall: $(short "$out")"
        left=$(find "$dest" -type f)
        [ -z "$left" ] || fail "make uninstall left: $left"
}

t notify_protocol notify_protocol
t watchdog_stops_when_frozen watchdog_stops_when_frozen
t socket_activation_tcp_and_unix socket_activation
t socket_activation_refuses_datagram socket_activation_refuses_datagram
t journald_structured_fields journald_fields
t journald_only_for_its_stream journald_only_for_its_stream
t sigterm_under_load_completes_inflight sigterm_under_load
t units_verify units_verify
t units_security_exposure units_security
t sysusers_tmpfiles_snippets sysusers_tmpfiles
t make_install_uninstall install_layout
done_file
