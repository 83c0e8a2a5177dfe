#!/usr/bin/env bash
# TLS that verifies, with certificates made here by openssl: with tls.client_ca set, a client
# without a certificate, or with one from another CA, is refused (every route, open ones too);
# one from that CA is served; a token bound to a certificate authenticates by the certificate
# alone, or (with a secret) only together with it; TLS 1.0 and 1.1 are refused at the handshake
# while the same client speaks them to an openssl server (so the refusal is cmsd's).
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

# mk_ca NAME; mk_cert NAME CA [SAN]: keys and certificates in $T_TMP/pki.
mk_ca() {
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
                -keyout "$PKI/$1.key" -out "$PKI/$1.pem" >/dev/null 2>&1 || fail "openssl: CA $1"
}
mk_cert() {
        local ext="$PKI/$1.ext"
        printf 'basicConstraints=CA:FALSE\n%s\n' "${3:+subjectAltName=$3}" >"$ext"
        openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$PKI/$1.key" \
                -out "$PKI/$1.csr" >/dev/null 2>&1 &&
                openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/$2.pem" -CAkey "$PKI/$2.key" \
                        -CAcreateserial -days 2 -extfile "$ext" -out "$PKI/$1.pem" >/dev/null 2>&1 ||
                fail "openssl: certificate $1"
}
fingerprint() {
        openssl x509 -in "$PKI/$1.pem" -outform DER | sha256sum | cut -d' ' -f1
}

# tls_api CERT|- METHOD PATH [TOKEN|-]: sets STATUS and BODY (STATUS 000: no HTTP answer).
tls_api() {
        local args=(-sS --max-time 20 --cacert "$PKI/ca1.pem" -o "$T_TMP/tbody" -w '%{http_code}')
        [ "$1" = - ] || args+=(--cert "$PKI/$1.pem" --key "$PKI/$1.key")
        [ "${4:--}" = - ] || args+=(-H "Authorization: Bearer $4")
        : >"$T_TMP/tbody"
        STATUS=$(curl "${args[@]}" -X "$2" "https://127.0.0.1:$PORT$3" 2>"$T_TMP/terr") || true
        [ -n "$STATUS" ] || STATUS=000
        BODY=$(cat "$T_TMP/tbody")
}

setup_tls() {
        PKI="$T_TMP/pki"
        mkdir -p "$PKI"
        mk_ca ca1
        mk_ca ca2
        mk_cert server ca1 "IP:127.0.0.1"
        mk_cert robot ca1
        mk_cert other ca1
        mk_cert stranger ca2
        PORT=$(free_port)
        local conf="$T_TMP/cmsd.yaml"
        write_config "$conf" "$PORT" "unix://$ENGINE_SOCK" \
                "tls: {cert: \"$PKI/server.pem\", key: \"$PKI/server.key\", client_ca: \"$PKI/ca1.pem\"}"
        # Certificate-bound tokens: robot by the certificate alone, pinned with a secret too.
        sed -i "/^tokens:/a\\
  - {name: robot, role: viewer, client_cert_sha256: \"$(fingerprint robot)\"}\\
  - {name: pinned, role: operator, token: t-pinned, client_cert_sha256: \"$(fingerprint other)\"}" "$conf"
        START_SCHEME=https START_CURL="--cacert $PKI/ca1.pem --cert $PKI/other.pem --key $PKI/other.key" \
                start_cmsd "$conf" "$PORT" "unix://$ENGINE_SOCK"
        PORT=${MY_URL##*:}
}

client_certs() {
        setup_tls
        tls_api - GET /v1/auth/whoami "$TOK_ADMIN"
        [ "$STATUS" = 401 ] || fail "no client certificate: $STATUS $(short "$BODY")"
        jq -e '.error.message | test("client certificate")' <<<"$BODY" >/dev/null ||
                fail "401 without saying why: $BODY"
        tls_api - GET /v1/health
        [ "$STATUS" = 401 ] || fail "open route without a client certificate: $STATUS"
        tls_api stranger GET /v1/auth/whoami "$TOK_ADMIN"
        [ "$STATUS" = 401 ] || [ "$STATUS" = 000 ] ||
                fail "a certificate from another CA was served: $STATUS $(short "$BODY")"
        tls_api other GET /v1/auth/whoami "$TOK_ADMIN"
        [ "$STATUS" = 200 ] || fail "a certificate from tls.client_ca: $STATUS $(short "$BODY")"
        [ "$(jq -r .data.name <<<"$BODY")" = admin ] || fail "whoami: $BODY"
        tls_api other GET /v1/health
        [ "$STATUS" = 200 ] || fail "health with a good certificate: $STATUS"
        stop_cmsd
}

cert_bound_tokens() {
        setup_tls
        # The certificate alone authenticates robot.
        tls_api robot GET /v1/auth/whoami
        [ "$STATUS" = 200 ] || fail "certificate-bound token: $STATUS $(short "$BODY")"
        [ "$(jq -r .data.name <<<"$BODY")" = robot ] || fail "whoami by certificate: $BODY"
        tls_api robot POST /v1/volumes
        [ "$STATUS" = 403 ] || fail "robot is a viewer: $STATUS"
        # A good certificate no token is bound to, and no bearer: 401.
        tls_api other GET /v1/auth/whoami
        [ "$STATUS" = 401 ] || fail "an unbound certificate authenticated: $STATUS $BODY"
        # pinned: its secret counts only with its certificate.
        tls_api other GET /v1/auth/whoami t-pinned
        [ "$STATUS" = 200 ] && [ "$(jq -r .data.name <<<"$BODY")" = pinned ] ||
                fail "pinned token with its certificate: $STATUS $BODY"
        tls_api robot GET /v1/auth/whoami t-pinned
        [ "$STATUS" = 401 ] || fail "pinned token with another certificate: $STATUS $BODY"
        # The certificate's own fingerprint as a bearer is nothing.
        tls_api other GET /v1/auth/whoami "$(fingerprint robot)"
        [ "$STATUS" = 401 ] || fail "a fingerprint as bearer: $STATUS"
        stop_cmsd
}

# handshake PORT VERSION-FLAG: true when openssl completes a handshake at that version.
handshake() {
        timeout 10 openssl s_client -connect "127.0.0.1:$1" "$2" -cipher 'DEFAULT:@SECLEVEL=0' \
                -CAfile "$PKI/ca1.pem" -cert "$PKI/other.pem" -key "$PKI/other.key" </dev/null \
                >"$T_TMP/hs" 2>&1
        grep -q 'Cipher is [A-Z0-9]' "$T_TMP/hs" && ! grep -q 'Cipher is (NONE)' "$T_TMP/hs"
}

old_tls_refused() {
        setup_tls
        # The client can speak TLS 1.0 and 1.1: shown against an openssl server that accepts them.
        local cport spid v
        cport=$(free_port)
        openssl s_server -accept "$cport" -cert "$PKI/server.pem" -key "$PKI/server.key" \
                -cipher 'DEFAULT:@SECLEVEL=0' -www >"$T_TMP/s_server.log" 2>&1 &
        spid=$!
        echo "$spid" >>"$T_TMP/pids"
        wait_for "openssl s_client -connect 127.0.0.1:$cport </dev/null >/dev/null 2>&1" 10 ||
                fail "the control openssl server did not start"
        for v in -tls1 -tls1_1; do
                handshake "$cport" "$v" || fail "control: openssl cannot speak $v here: $(tail -n 3 "$T_TMP/hs")"
                handshake "$PORT" "$v" && fail "cmsd completed a $v handshake"
        done
        kill "$spid" 2>/dev/null
        handshake "$PORT" -tls1_2 || fail "TLS 1.2 refused: $(tail -n 3 "$T_TMP/hs")"
        handshake "$PORT" -tls1_3 || fail "TLS 1.3 refused: $(tail -n 3 "$T_TMP/hs")"
        stop_cmsd
}

t client_certs client_certs
t cert_bound_tokens cert_bound_tokens
t old_tls_refused old_tls_refused
done_file
