#!/usr/bin/env bash
# Exec through cmsd: exit code, separated stdout/stderr, stdin, env, workdir, user, and the errors
# for a stopped or unknown container.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

# xc BODY: exec in $CID, expects 200.
xc() {
        api POST "/v1/containers/$CID/exec" "$1"
        expect_ok
}

exit_code() {
        run_c "$(unique ex)"
        xc '{"command": ["sh", "-c", "exit 3"]}'
        expect_json .data.exit_code 3
        xc '{"command": ["true"]}'
        expect_json .data.exit_code 0
}

stdout_stderr() {
        run_c "$(unique exo)"
        xc '{"command": ["sh", "-c", "echo out; echo err >&2; echo out2"]}'
        expect_json .data.stdout $'out\nout2\n'
        expect_json .data.stderr $'err\n'
        expect_json .data.exit_code 0
}

large_output() {
        # More than a pipe buffer and several stream frames.
        run_c "$(unique exl)"
        xc '{"command": ["sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done"]}'
        expect_jq '.data.stdout | split("\n") | length == 3001' "3000 lines"
        expect_jq '.data.stdout | split("\n")[2999] == "line-2999-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"' "last line intact"
}

stdin_fed() {
        run_c "$(unique exi)"
        xc '{"command": ["cat"], "stdin": "hello stdin\nsecond line\n"}'
        expect_json .data.stdout $'hello stdin\nsecond line\n'
        expect_json .data.exit_code 0
        xc '{"command": ["wc", "-l"], "stdin": "a\nb\nc\n"}'
        expect_jq '.data.stdout | test("^ *3\n?$")' "wc -l counts 3 stdin lines"
}

env_var() {
        run_c "$(unique exe)" '{"environment": {"FROM_CTR": "c"}}'
        xc '{"command": ["sh", "-c", "echo \"$FOO-$FROM_CTR\""], "env": {"FOO": "bar baz"}}'
        expect_json .data.stdout $'bar baz-c\n'
}

workdir() {
        run_c "$(unique exw)"
        xc '{"command": ["sh", "-c", "pwd"], "workdir": "/etc"}'
        expect_json .data.stdout $'/etc\n'
}

user() {
        run_c "$(unique exu)"
        xc '{"command": ["id", "-u"], "user": "1000"}'
        expect_json .data.stdout $'1000\n'
        xc '{"command": ["id", "-u"]}'
        expect_json .data.stdout $'0\n'
}

stopped_409() {
        create "$(unique exs)"
        api POST "/v1/containers/$CID/exec" '{"command": ["true"]}'
        expect_error 409 conflict
}

unknown_404() {
        api POST "/v1/containers/$(unique nothere)/exec" '{"command": ["true"]}'
        expect_error 404 not_found
}

missing_command_400() {
        run_c "$(unique exm)"
        api POST "/v1/containers/$CID/exec" '{"env": {}}'
        expect_error 400 bad_request
}

t exit_code exit_code
t stdout_stderr_separated stdout_stderr
t large_output large_output
t stdin_fed stdin_fed
t env env_var
t workdir workdir
t user user
t stopped_container_409 stopped_409
t unknown_container_404 unknown_404
t missing_command_400 missing_command_400
done_file
