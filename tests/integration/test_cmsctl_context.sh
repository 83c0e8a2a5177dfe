#!/usr/bin/env bash
# cmsctl's config file, completion and man page against the suite's cmsd: `context
# add|use|ls|show|rm` (the file written 0600 in a 0700 directory, the token masked), a context's
# url and token used when CMSD_URL and CMSD_TOKEN are unset, the env winning over it, a context's
# token never sent to another server, a file with an inline token readable by the group refused
# (exit 2) and a typo reported with its line; `cmsctl __complete` listing this test's container,
# network and image from the server, and nothing (silently, exit 0) when cmsd is unreachable or
# the token denied; bash's and zsh's completion functions run for real; the man page rendering
# without a groff warning.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

CTL="$(dirname "$CMSD_BIN")/cmsctl"

# cx [VAR=VALUE...] -- ARGS...: cmsctl with CMSCTL_CONFIG=$CFG and none of CMSD_URL, CMSD_TOKEN,
# CMSD_CONTEXT unless given; stdin from $CX_IN (default /dev/null). Sets OUT, ERR, RC.
cx() {
        local envs=()
        while [ "$1" != -- ]; do
                envs+=("$1")
                shift
        done
        shift
        env -u CMSD_URL -u CMSD_TOKEN -u CMSD_CONTEXT CMSCTL_CONFIG="$CFG" "${envs[@]}" \
                timeout 30 "$CTL" "$@" <"${CX_IN:-/dev/null}" >"$T_TMP/cx_out" 2>"$T_TMP/cx_err"
        RC=$?
        OUT=$(cat "$T_TMP/cx_out")
        ERR=$(cat "$T_TMP/cx_err")
}

expect_rc() {
        [ "$RC" = "$1" ] || fail "cmsctl exited $RC, want $1; stderr: $(short "$ERR") stdout: $(short "$OUT")"
}

contexts() {
        CFG="$T_TMP/conf/cmsctl/config.yaml"
        printf '%s\n' "$TOK_ADMIN" >"$T_TMP/admin.token"
        chmod 600 "$T_TMP/admin.token"
        cx -- context ls
        expect_rc 0
        [ "$(grep -c . <<<"$OUT")" = 1 ] || fail "context ls without a file: $(short "$OUT")"
        cx -- context add suite --url "$CMSD_URL" --token-file "$T_TMP/admin.token"
        expect_rc 0
        printf '%s\n' "$TOK_VIEWER" >"$T_TMP/viewer.in"
        CX_IN="$T_TMP/viewer.in" cx -- context add viewer --url "$CMSD_URL" --token-stdin
        expect_rc 0
        [ "$(stat -c %a "$CFG")" = 600 ] || fail "config file mode $(stat -c %a "$CFG"), want 600"
        [ "$(stat -c %a "$(dirname "$CFG")")" = 700 ] || fail "config dir mode, want 700"
        [ "$(ls -A "$(dirname "$CFG")")" = config.yaml ] || fail "left beside the file: $(ls -A "$(dirname "$CFG")")"
        grep -qF "$TOK_VIEWER" "$CFG" || fail "the token from stdin is not kept in the file"
        cx -- context ls
        grep -qF '*' <<<"$OUT" && fail "a current context before any use: $OUT"
        cx -- context use suite
        expect_rc 0
        cx -- context ls
        grep -qE "^suite +$CMSD_URL +\*\$" <<<"$OUT" || fail "context ls: no * on suite: $OUT"
        grep -qE "^viewer +$CMSD_URL *\$" <<<"$OUT" || fail "context ls: viewer's row: $OUT"
        cx -- --format json context ls
        jq -e '([.[] | select(.current) | .name] == ["suite"]) and
                (.[] | select(.name == "viewer") | .token == "********")' <<<"$OUT" >/dev/null ||
                fail "context ls --format json: $(short "$OUT")"
        cx -- context show
        expect_rc 0
        { grep -qx 'name: suite' <<<"$OUT" && grep -qx "token-file: $T_TMP/admin.token" <<<"$OUT"; } ||
                fail "context show: $OUT"
        cx -- context show viewer
        grep -qx 'token: \*\*\*\*\*\*\*\* (inline)' <<<"$OUT" || fail "context show viewer: $OUT"
        grep -qF "$TOK_VIEWER" <<<"$OUT" && fail "context show prints the token"

        # Neither CMSD_URL nor CMSD_TOKEN: the context's url and token.
        cx -- whoami
        expect_rc 0
        [[ $OUT == "admin (admin,"* ]] || fail "whoami through the current context: $OUT"
        cx -- --context viewer whoami
        [[ $OUT == "viewer (viewer,"* ]] || fail "whoami --context viewer: $OUT"
        cx CMSD_CONTEXT=viewer -- whoami
        [[ $OUT == "viewer (viewer,"* ]] || fail "whoami with CMSD_CONTEXT=viewer: $OUT"
        # The env over the context; another server named gets none of the context's token.
        cx CMSD_URL="$CMSD_URL" CMSD_TOKEN="$TOK_VIEWER" -- whoami
        [[ $OUT == "viewer (viewer,"* ]] || fail "the env did not win over the context: $OUT"
        cx CMSD_TOKEN="$TOK_VIEWER" -- whoami
        [[ $OUT == "viewer (viewer,"* ]] || fail "CMSD_TOKEN did not win over the token-file: $OUT"
        cx CMSD_URL="${CMSD_URL/127.0.0.1/localhost}" -- whoami
        expect_rc 4 # no token went to a URL the context was not given for

        cx -- context use nope
        expect_rc 2
        cx -- --context nope ps
        expect_rc 2
        grep -qF "'nope'" <<<"$ERR" || fail "unknown context: $(short "$ERR")"
        cx -- context rm suite
        expect_rc 0
        grep -q current-context "$CFG" && fail "rm of the current context left current-context"
        cx -- context show
        expect_rc 2
        cx -- context ls
        [ "$(tail -n +2 <<<"$OUT" | awk '{ print $1 }')" = viewer ] || fail "after rm: $OUT"

        # $XDG_CONFIG_HOME/cmsctl/config.yaml when CMSCTL_CONFIG is unset.
        cx CMSCTL_CONFIG= XDG_CONFIG_HOME="$T_TMP/xdg" -- context add x --url "$CMSD_URL"
        expect_rc 0
        [ "$(stat -c %a "$T_TMP/xdg/cmsctl/config.yaml" 2>&1)" = 600 ] || fail "no file under XDG_CONFIG_HOME"
}

config_refused() {
        CFG="$T_TMP/config.yaml"
        printf 'current-context: s\ncontexts:\n  - name: s\n    url: %s\n    token: %s\n' \
                "$CMSD_URL" "$TOK_ADMIN" >"$CFG"
        chmod 640 "$CFG"
        cx -- ps
        expect_rc 2
        grep -qF "chmod 600 $CFG" <<<"$ERR" || fail "group-readable file with a token: $(short "$ERR")"
        chmod 600 "$CFG"
        cx -- ps
        expect_rc 0
        printf '    cacrt: /etc/ssl/ca.pem\n' >>"$CFG"
        cx -- ps
        expect_rc 2
        grep -qF "$CFG:6: unknown key 'cacrt'" <<<"$ERR" || fail "a typo: $(short "$ERR")"
        printf 'contexts:\n  - name: [s\n' >"$CFG"
        cx -- ps
        expect_rc 2
        { grep -qF "$CFG:3:" <<<"$ERR" && grep -q 'malformed YAML' <<<"$ERR"; } || fail "bad YAML: $(short "$ERR")"
}

completion() {
        local name net out prefix
        CFG="$T_TMP/none.yaml"
        name=$(unique ctlc)
        run_c "$name"
        net=$(unique ctlcn)
        api POST /v1/networks "{\"name\": \"$net\", \"labels\": {\"cmsd-test\": \"1\"}}" "$TOK_OPERATOR"
        expect_ok 201
        cx CMSD_URL="$CMSD_URL" CMSD_TOKEN="$TOK_VIEWER" -- __complete logs ""
        expect_rc 0
        grep -qxF "$name" <<<"$OUT" || fail "__complete logs '': no $name in $(short "$OUT")"
        prefix=${name:0:${#name}-4}
        cx CMSD_URL="$CMSD_URL" CMSD_TOKEN="$TOK_VIEWER" -- __complete stop -t 1 "$prefix"
        grep -qxF "$name" <<<"$OUT" || fail "__complete stop -t 1 $prefix: $(short "$OUT")"
        grep -vqF "$prefix" <<<"$OUT" && fail "candidates without the prefix: $(short "$OUT")"
        cx CMSD_URL="$CMSD_URL" CMSD_TOKEN="$TOK_VIEWER" -- __complete network rm ""
        grep -qxF "$net" <<<"$OUT" || fail "__complete network rm '': no $net"
        cx CMSD_URL="$CMSD_URL" CMSD_TOKEN="$TOK_VIEWER" -- __complete history ""
        grep -qE "^(.*/)?$IMG\$" <<<"$OUT" || fail "__complete history '': no $IMG in $(short "$OUT")"
        # From the current context, the env unset.
        printf 'current-context: s\ncontexts:\n  - name: s\n    url: %s\n    token: %s\n' \
                "$CMSD_URL" "$TOK_VIEWER" >"$CFG"
        chmod 600 "$CFG"
        cx -- __complete inspect ""
        grep -qxF "$name" <<<"$OUT" || fail "__complete through the context: $(short "$OUT$ERR")"
        cx -- __complete --context ""
        [ "$OUT" = s ] || fail "__complete --context '': $OUT"
        rm -f "$CFG"
        # cmsd unreachable, a token denied: no candidates, no message, exit 0.
        cx CMSD_URL=http://127.0.0.1:1 CMSD_TOKEN="$TOK_VIEWER" -- __complete logs ""
        expect_rc 0
        [ -z "$OUT$ERR" ] || fail "unreachable cmsd: out '$OUT' err '$ERR'"
        cx CMSD_URL="$CMSD_URL" CMSD_TOKEN=bad-token-xxxxxxxx -- __complete logs ""
        expect_rc 0
        [ -z "$OUT$ERR" ] || fail "denied token: out '$OUT' err '$ERR'"

        # bash's completion function, for real (the script's own $1 is the prefix).
        # shellcheck disable=SC2016
        out=$(env PATH="$(dirname "$CTL"):$PATH" CMSCTL_CONFIG="$CFG" CMSD_URL="$CMSD_URL" \
                CMSD_TOKEN="$TOK_VIEWER" bash --norc --noprofile -c '
                source <(cmsctl completion bash) || exit 1
                COMP_WORDS=(cmsctl net); COMP_CWORD=1; _cmsctl; printf "%s\n" "${COMPREPLY[@]}"
                COMP_WORDS=(cmsctl logs "$1"); COMP_CWORD=2; _cmsctl; printf "%s\n" "${COMPREPLY[@]}"
                ' bash "$prefix" 2>&1)
        [ "$(head -n 1 <<<"$out")" = network ] || fail "bash: cmsctl net<TAB>: $(short "$out")"
        grep -qxF "$name" <<<"$out" || fail "bash: cmsctl logs $prefix<TAB>: $(short "$out")"
        # zsh's, with compadd and _files standing in for the completion system's.
        command -v zsh >/dev/null || fail "zsh not installed (scripts/deps.sh installs it)"
        # shellcheck disable=SC2016
        out=$(env PATH="$(dirname "$CTL"):$PATH" CMSCTL_CONFIG="$CFG" CMSD_URL="$CMSD_URL" \
                CMSD_TOKEN="$TOK_VIEWER" zsh -f -c '
                compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@"; }
                _files() { print FILES; }
                source <(cmsctl completion zsh) || exit 1
                words=(cmsctl volume ""); CURRENT=3; _cmsctl
                words=(cmsctl logs "$1"); CURRENT=3; _cmsctl
                words=(cmsctl build -f ""); CURRENT=4; _cmsctl
                ' zsh "$prefix" 2>&1)
        { grep -qx create <<<"$out" && grep -qx prune <<<"$out"; } || fail "zsh: cmsctl volume <TAB>: $(short "$out")"
        grep -qxF "$name" <<<"$out" || fail "zsh: cmsctl logs $prefix<TAB>: $(short "$out")"
        grep -qx FILES <<<"$out" || fail "zsh: cmsctl build -f <TAB> is not file names: $(short "$out")"
}

man_page() {
        local warn text
        CFG="$T_TMP/none.yaml"
        cx -- __man
        expect_rc 0
        printf '%s\n' "$OUT" >"$T_TMP/cmsctl.1"
        command -v groff >/dev/null || fail "groff not installed (scripts/deps.sh: groff-base)"
        warn=$(groff -ww -z -man "$T_TMP/cmsctl.1" 2>&1)
        [ -z "$warn" ] || fail "groff warns: $(short "$warn")"
        text=$(groff -man -Tascii -P -cbou "$T_TMP/cmsctl.1" 2>/dev/null)
        for want in 'cmsctl logs [-f]' 'cmsctl context add NAME --url URL' 'CMSCTL_CONFIG' 'EXIT STATUS'; do
                grep -qF -- "$want" <<<"$text" || fail "the rendered man page lacks '$want'"
        done
        bash -n <("$CTL" completion bash) || fail "the bash script does not parse"
        zsh -n <("$CTL" completion zsh) || fail "the zsh script does not parse"
}

t contexts contexts
t config_refused config_refused
t completion completion
t man_page man_page
done_file
