#!/usr/bin/env bash
# Network routes: create with a subnet, gateway, ip_range, labels and options (checked on the
# engine), duplicates and bad input (each its own 400/409, nothing half-made), two containers
# with static IPs on a custom subnet reaching each other, inspect listing the attached
# containers, remove in use (409), connect/disconnect, DNS servers and extra hosts inside the
# container, and a label-scoped prune that leaves everything else alone.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2016
. "$(dirname "$0")/lib.sh"

NET_LABEL="cmsd-test-run=$RUN_ID"

# make_net NAME [EXTRA-JSON]: creates a network on a random 10.2xx.y.0/24 subnet (another one
# when the engine says the subnet is taken); sets NET_ID, SUBNET_PREFIX ("10.2xx.y").
make_net() {
        local i body x=${2-}
        [ -n "$x" ] || x='{}'
        for ((i = 0; i < 8; i++)); do
                SUBNET_PREFIX="10.$((200 + RANDOM % 50)).$((RANDOM % 256))"
                body=$(jq -cn --arg n "$1" --arg s "$SUBNET_PREFIX.0/24" --arg g "$SUBNET_PREFIX.1" \
                        --arg run "$RUN_ID" --argjson x "$x" \
                        '{name: $n, subnet: $s, gateway: $g, labels: {"cmsd-test-run": $run}} * $x')
                api POST /v1/networks "$body"
                [ "$STATUS" = 409 ] && grep -qi 'subnet\|overlap\|pool' <<<"$BODY" && continue
                break
        done
        expect_ok 201
        NET_ID=$(jq -r .data.id <<<"$BODY")
}

create_inspect() {
        local name
        name=$(unique net)
        make_net "$name" '{"options": {"com.docker.network.driver.mtu": "1400"}, "labels": {"tier": "db"}}'
        expect_json .data.name "$name"
        expect_jq --arg s "$SUBNET_PREFIX.0/24" '.data.subnets | any(.subnet == $s)' "the subnet"
        expect_json '.data.labels.tier' db
        engine_api GET "/networks/$name"
        [ "$ESTATUS" = 200 ] || fail "engine has no network $name: $ESTATUS"
        expect_engine --arg s "$SUBNET_PREFIX.0/24" --arg g "$SUBNET_PREFIX.1" \
                '.IPAM.Config | any(.Subnet == $s and .Gateway == $g)' "subnet and gateway on the engine"
        # Podman stores Docker's MTU option under its own name.
        expect_engine '.Labels.tier == "db" and
                (.Options["com.docker.network.driver.mtu"] // .Options.mtu) == "1400"' \
                "labels and options on the engine"
        api GET "/v1/networks/$name" "" "$TOK_VIEWER"
        expect_ok
        expect_jq --arg id "$NET_ID" '.data.id == $id and (.data.raw.Id == $id) and (.data.containers == [])'
        api GET "/v1/networks?label=tier=db&label=$NET_LABEL" "" "$TOK_VIEWER"
        expect_ok
        expect_jq --arg n "$name" '.data | map(.name) == [$n]' "only $name listed by label"
}

ip_range_internal() {
        local name
        name=$(unique net)
        make_net "$name" '{"internal": true}'
        engine_api GET "/networks/$name"
        expect_engine '.Internal == true' "an internal network"
        # ip_range inside the subnet is accepted (its own network: same subnet cannot be reused).
        name=$(unique net)
        local i p
        for ((i = 0; i < 8; i++)); do
                p="10.$((200 + RANDOM % 50)).$((RANDOM % 256))"
                api POST /v1/networks "$(jq -cn --arg n "$name" --arg p "$p" \
                        '{name: $n, subnet: ($p + ".0/24"), ip_range: ($p + ".128/25")}')"
                [ "$STATUS" = 409 ] && continue
                break
        done
        expect_ok 201
        engine_api GET "/networks/$name"
        [ "$ESTATUS" = 200 ] || fail "no network $name on the engine"
}

duplicate() {
        local name id
        name=$(unique net)
        make_net "$name"
        id=$NET_ID
        api POST /v1/networks "{\"name\": \"$name\"}"
        expect_error 409 conflict
        engine_api GET "/networks/$name"
        expect_engine --arg id "$id" '.Id == $id' "the first network kept"
}

bad_input() {
        local name body
        name=$(unique bad)
        while IFS='|' read -r body want; do
                body=${body//NAME/$name}
                api POST /v1/networks "$body"
                expect_error 400 bad_request
                grep -qi -- "$want" <<<"$BODY" || fail "$body: message should mention '$want': $(short "$BODY")"
                engine_api GET "/networks/$name"
                [ "$ESTATUS" = 404 ] || fail "a network $name exists after the refused $body"
        done <<'EOF'
{"name":"NAME","subnet":"10.250.0.0"}|subnet
{"name":"NAME","subnet":"10.250.0.0/33"}|subnet
{"name":"NAME","subnet":"banana"}|CIDR
{"name":"NAME","subnet":"10.250.0.7/24"}|host bits
{"name":"NAME","subnet":"10.250.0.0/24","gateway":"10.251.0.1"}|outside
{"name":"NAME","subnet":"10.250.0.0/24","gateway":"nope"}|gateway
{"name":"NAME","gateway":"10.250.0.1"}|needs body.subnet
{"name":"NAME","subnet":"10.250.0.0/24","ip_range":"10.250.1.0/25"}|ip_range
{"name":"NAME","bogus":1}|bogus
{"name":"NAME","internal":"yes"}|internal
{"name":"NAME","labels":{"a":1}}|labels
{"subnet":"10.250.0.0/24"}|name
{"name":"-x"}|name
EOF
        api POST /v1/networks 'not json'
        expect_error 400 bad_request
}

# Two containers with static IPs on a custom subnet reach each other: one placed at create,
# one connected afterwards (with an alias).
static_ips_reach() {
        local net a b ip_a ip_b
        net=$(unique net)
        make_net "$net"
        ip_a="$SUBNET_PREFIX.11" ip_b="$SUBNET_PREFIX.12"
        a=$(unique a) b=$(unique b)
        run_c "$a" "$(jq -cn --arg n "$net" --arg ip "$ip_a" \
                '{network: {network: $n, ip_address: $ip}, capabilities: {add: ["NET_RAW"]}}')"
        run_c "$b" '{"capabilities": {"add": ["NET_RAW"]}}'
        api POST "/v1/networks/$net/connect" "$(jq -cn --arg c "$b" --arg ip "$ip_b" \
                '{container: $c, ip_address: $ip, aliases: ["peer-b"]}')" "$TOK_OPERATOR"
        expect_ok
        expect_json .data.connected true
        engine_inspect "$b"
        expect_engine --arg n "$net" --arg ip "$ip_b" '.NetworkSettings.Networks[$n].IPAddress == $ip' \
                "$b at $ip_b on the engine"
        api POST "/v1/containers/$a/exec" "{\"command\": [\"ping\", \"-c\", \"1\", \"-W\", \"3\", \"$ip_b\"]}"
        expect_ok
        expect_json .data.exit_code 0
        api POST "/v1/containers/$b/exec" "{\"command\": [\"ping\", \"-c\", \"1\", \"-W\", \"3\", \"$ip_a\"]}"
        expect_ok
        expect_json .data.exit_code 0
        api GET "/v1/networks/$net"
        expect_ok
        expect_jq --arg a "$a" --arg b "$b" --arg ia "$ip_a" --arg ib "$ip_b" \
                '[.data.containers[] | select((.name == $a and .ipv4_address == $ia) or (.name == $b and .ipv4_address == $ib))] | length == 2' \
                "both containers with their IPs in inspect"
        # In use: 409 with the engine's reason; the network stays.
        api DELETE "/v1/networks/$net" "" "$TOK_OPERATOR"
        expect_error 409 conflict
        engine_api GET "/networks/$net"
        [ "$ESTATUS" = 200 ] || fail "network $net gone after a refused remove"
        api POST "/v1/networks/$net/disconnect" "{\"container\": \"$b\"}" "$TOK_OPERATOR"
        expect_ok
        expect_json .data.connected false
        engine_inspect "$b"
        expect_engine --arg n "$net" '.NetworkSettings.Networks | has($n) | not' "$b disconnected"
        api POST "/v1/networks/$net/disconnect" "{\"container\": \"$b\"}"
        expect_error 409 conflict
        api DELETE "/v1/containers/$a?force=true"
        expect_ok
        api DELETE "/v1/networks/$net" "" "$TOK_OPERATOR"
        expect_ok
        expect_json .data.removed true
        engine_api GET "/networks/$net"
        [ "$ESTATUS" = 404 ] || fail "network $net still on the engine after remove"
}

connect_bad() {
        local net plain c
        net=$(unique net)
        make_net "$net"
        c=$(unique c)
        run_c "$c"
        api POST "/v1/networks/$net/connect" "{\"container\": \"$c\", \"ip_address\": \"10.199.9.9\"}"
        expect_error 400 bad_request
        grep -q outside <<<"$BODY" || fail "message should say the IP is outside: $(short "$BODY")"
        api POST "/v1/networks/$net/connect" "{\"container\": \"$c\", \"ip_address\": \"not-an-ip\"}"
        expect_error 400 bad_request
        api POST "/v1/networks/$net/connect" '{"ip_address": "10.1.1.1"}'
        expect_error 400 bad_request
        api POST "/v1/networks/$net/connect" "{\"container\": \"$c\", \"aliases\": \"x\"}"
        expect_error 400 bad_request
        engine_inspect "$c"
        expect_engine --arg n "$net" '.NetworkSettings.Networks | has($n) | not' "not connected after refusals"
        api POST "/v1/networks/$(unique none)/connect" "{\"container\": \"$c\"}"
        expect_error 404 not_found
        api POST "/v1/networks/$net/connect" "{\"container\": \"$(unique nosuch)\"}"
        expect_error 404 not_found
        # A network made without a subnet: Docker refuses static IPs on it (400); Podman gives
        # every network a fixed subnet of its own and accepts an address inside it.
        plain=$(unique plain)
        api POST /v1/networks "{\"name\": \"$plain\"}"
        expect_ok 201
        local auto ip
        auto=$(jq -r '.data.subnets[0].subnet' <<<"$BODY")
        ip="${auto%.*}.77"
        api POST "/v1/networks/$plain/connect" "{\"container\": \"$c\", \"ip_address\": \"$ip\"}"
        if [ "$ENGINE" = docker ]; then
                expect_error 400 bad_request
                engine_inspect "$c"
                expect_engine --arg n "$plain" '.NetworkSettings.Networks | has($n) | not'
        else
                expect_ok
        fi
}

dns_extra_hosts() {
        local c
        c=$(unique dns)
        run_c "$c" '{"network": {"dns": ["192.0.2.53"], "extra_hosts": {"db.internal": "192.0.2.10"}}}'
        api POST "/v1/containers/$c/exec" '{"command": ["cat", "/etc/resolv.conf", "/etc/hosts"]}'
        expect_ok
        expect_jq '.data.stdout | test("nameserver 192\\.0\\.2\\.53")' "the DNS server in /etc/resolv.conf"
        expect_jq '.data.stdout | test("192\\.0\\.2\\.10\\s+db\\.internal")' "the extra host in /etc/hosts"
}

prune_labelled() {
        local keep gone1 gone2 used c
        keep=$(unique keep)
        api POST /v1/networks "{\"name\": \"$keep\", \"labels\": {\"other\": \"1\"}}"
        expect_ok 201
        gone1=$(unique gone)
        gone2=$(unique gone)
        used=$(unique used)
        for n in "$gone1" "$gone2" "$used"; do
                api POST /v1/networks "$(jq -cn --arg n "$n" --arg run "$RUN_ID" \
                        '{name: $n, labels: {"cmsd-test-run": $run, "cmsd-prune": "yes"}}')"
                expect_ok 201
        done
        c=$(unique c)
        run_c "$c" "{\"network\": {\"network\": \"$used\"}}"
        api POST "/v1/networks/prune?label=cmsd-prune=yes&label=$NET_LABEL" "" "$TOK_OPERATOR"
        expect_error 403 forbidden
        api POST "/v1/networks/prune?label=cmsd-prune=yes&label=$NET_LABEL" "" "$TOK_ADMIN"
        expect_ok
        expect_jq --arg a "$gone1" --arg b "$gone2" '(.data.networks | sort) == ([$a, $b] | sort)' \
                "exactly the two unused labelled networks pruned"
        for n in "$gone1" "$gone2"; do
                engine_api GET "/networks/$n"
                [ "$ESTATUS" = 404 ] || fail "pruned network $n still on the engine"
        done
        for n in "$keep" "$used"; do
                engine_api GET "/networks/$n"
                [ "$ESTATUS" = 200 ] || fail "prune removed $n"
        done
}

not_found() {
        api GET "/v1/networks/$(unique nosuch)"
        expect_error 404 not_found
        api DELETE "/v1/networks/$(unique nosuch)"
        expect_error 404 not_found
        api GET "/v1/networks/bad%20name"
        expect_error 400 bad_request
}

t create_inspect create_inspect
t ip_range_internal ip_range_internal
t duplicate duplicate
t bad_input bad_input
t static_ips_reach static_ips_reach
t connect_bad connect_bad
t dns_extra_hosts dns_extra_hosts
t prune_labelled prune_labelled
t not_found not_found
done_file
