#!/usr/bin/env bash
# A two-node Docker Swarm on this one machine, for the stack tests and bench/stack.sh: two PRIVATE
# dockerds (never the host's), each in a network namespace of its own (so its iptables rules,
# bridges and overlay VXLAN sockets are its own: two nodes in one namespace collide on the VXLAN
# port, "error creating vxlan interface: file exists"), with its own data and exec roots, socket,
# pidfile and containerd namespace. A veth pair joins the two namespaces (node 1 is 10.N.0.2,
# node 2 10.N.0.3: their traffic never crosses the host's firewall, whose FORWARD policy the
# host's Docker sets to DROP), another joins the host to node 1 (10.N.1.1 - 10.N.1.2, where the
# ingress mesh's published ports answer). Node 1 is the manager, node 2 joins as a worker. The given images are loaded into both. `down` stops
# exactly what `up` started, by the PIDs it recorded, and removes namespaces, links and files.
#
# usage: scripts/swarm.sh up DIR [IMAGE...]   (IMAGE: saved from the host's Docker into both nodes)
#        scripts/swarm.sh down DIR
# After `up`, DIR/env holds SWARM_SOCK1, SWARM_SOCK2 (unix socket paths; a unix socket is reached
# from any namespace), SWARM_ADDR1/2 (the nodes' swarm addresses), SWARM_HOST_ADDR1 (node 1 as
# the host reaches it: published ports) and the node ids SWARM_NODE1 (manager), SWARM_NODE2. DIR should be short: socket paths are limited to 107 bytes.
set -euo pipefail

die() {
        echo "swarm.sh: $*" >&2
        exit 1
}

call() { # SOCK METHOD PATH [BODY]
        local args=(-sS --max-time 60 --unix-socket "$1" -X "$2" -w '\n%{http_code}')
        [ -n "${4-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
        curl "${args[@]}" "http://engine/v1.41$3"
}

ok() { # the status line of call's output is 2xx
        [[ "$(tail -n 1 <<<"$1")" == 2* ]]
}

pings() {
        [ "$(curl -sS --max-time 3 --unix-socket "$1" http://engine/_ping 2>/dev/null)" = OK ]
}

start_node() { # N
        local n=$1 d="$dir/n$1" ns="cmsw${tag}n$1" i x
        mkdir -p "$d"
        # The exec root holds containerd's sockets, whose paths may not pass 107 bytes: a short
        # directory of its own (DIR may be deep), found again by down through the link d/x.
        x=$(mktemp -d /tmp/cmsw.XXXXXX) || die "no exec root"
        ln -sfn "$x" "$d/x"
        # nsenter, not ip netns exec: that one also mounts a fresh /sys, without the cgroups.
        nsenter --net="/run/netns/$ns" dockerd --data-root "$d/data" --exec-root "$x" -H "unix://$d/docker.sock" \
                --pidfile "$d/docker.pid" --containerd-namespace "$ns" \
                --containerd-plugins-namespace "${ns}p" >"$d/dockerd.log" 2>&1 &
        echo $! >"$d/dockerd.own.pid"
        for ((i = 0; i < 300; i++)); do
                pings "$d/docker.sock" && return 0
                kill -0 "$(cat "$d/dockerd.own.pid")" 2>/dev/null || break
                sleep 0.1
        done
        tail -n 5 "$d/dockerd.log" >&2
        die "dockerd of node $n did not answer"
}

up() {
        local net a1 a2 out token img s1 s2
        command -v dockerd >/dev/null || die "dockerd is not installed"
        [ "$(id -u)" = 0 ] || die "needs root"
        mkdir -p "$dir"
        : >"$dir/links"
        : >"$dir/netns"
        tag=$(printf '%04d' $((RANDOM % 10000)))
        net=$((100 + RANDOM % 100))
        a1="10.$net.0.2" a2="10.$net.0.3"
        local ns1="cmsw${tag}n1" ns2="cmsw${tag}n2"
        for ns in "$ns1" "$ns2"; do
                ip netns add "$ns" || die "cannot make network namespace $ns"
                echo "$ns" >>"$dir/netns"
                ip -n "$ns" link set lo up
        done
        ip link add "cmsw${tag}a" netns "$ns1" type veth peer name "cmsw${tag}b" netns "$ns2" ||
                die "cannot make the veth between the nodes"
        ip -n "$ns1" addr add "$a1/24" dev "cmsw${tag}a"
        ip -n "$ns2" addr add "$a2/24" dev "cmsw${tag}b"
        ip -n "$ns1" link set "cmsw${tag}a" up
        ip -n "$ns2" link set "cmsw${tag}b" up
        ip link add "cmsw${tag}h" type veth peer name "cmsw${tag}c" netns "$ns1" ||
                die "cannot make the veth to node 1"
        echo "cmsw${tag}h" >>"$dir/links"
        ip addr add "10.$net.1.1/24" dev "cmsw${tag}h"
        ip link set "cmsw${tag}h" up
        ip -n "$ns1" addr add "10.$net.1.2/24" dev "cmsw${tag}c"
        ip -n "$ns1" link set "cmsw${tag}c" up
        start_node 1
        start_node 2
        s1="$dir/n1/docker.sock" s2="$dir/n2/docker.sock"
        out=$(call "$s1" POST /swarm/init "{\"ListenAddr\": \"$a1:2377\", \"AdvertiseAddr\": \"$a1\"}")
        ok "$out" || die "swarm init: $out"
        token=$(call "$s1" GET /swarm | head -n -1 | jq -r .JoinTokens.Worker)
        out=$(call "$s2" POST /swarm/join "$(jq -cn --arg a "$a2" --arg m "$a1:2377" --arg t "$token" \
                '{ListenAddr: ($a + ":2377"), AdvertiseAddr: $a, RemoteAddrs: [$m], JoinToken: $t}')")
        ok "$out" || die "swarm join: $out"
        for img in "$@"; do
                docker save "$img" >"$dir/img.tar" || die "docker save $img"
                for s in "$s1" "$s2"; do
                        curl -sS --max-time 120 --unix-socket "$s" -X POST -H 'Content-Type: application/x-tar' \
                                --data-binary @"$dir/img.tar" http://engine/v1.41/images/load >/dev/null ||
                                die "loading $img into $s"
                done
                rm -f "$dir/img.tar"
        done
        local ids
        ids=$(call "$s1" GET /nodes | head -n -1 | jq -r '.[] | "\(.Spec.Role) \(.ID)"')
        {
                echo "SWARM_SOCK1=$s1"
                echo "SWARM_SOCK2=$s2"
                echo "SWARM_ADDR1=$a1"
                echo "SWARM_ADDR2=$a2"
                echo "SWARM_HOST_ADDR1=10.$net.1.2"
                echo "SWARM_NODE1=$(awk '$1 == "manager" {print $2}' <<<"$ids")"
                echo "SWARM_NODE2=$(awk '$1 == "worker" {print $2}' <<<"$ids")"
        } >"$dir/env"
        echo "swarm.sh: two nodes up ($a1 manager, $a2 worker) in $dir"
}

# Stops a process this script started, by its recorded PID, if it is still that program.
stop_pid() { # PID NAME
        local pid=$1 i
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
        grep -q "$2" "/proc/$pid/cmdline" 2>/dev/null || return 0
        kill -TERM "$pid" 2>/dev/null
        for ((i = 0; i < 150; i++)); do
                kill -0 "$pid" 2>/dev/null || return 0
                sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
}

down() {
        local n d s c pid br x
        [ -d "$dir" ] || return 0
        for n in 2 1; do
                d="$dir/n$n"
                x=$(readlink "$d/x" 2>/dev/null) || x=$d/x
                s="$d/docker.sock"
                if pings "$s"; then
                        call "$s" POST '/swarm/leave?force=1' >/dev/null 2>&1 || true
                        for c in $(call "$s" GET '/containers/json?all=1' | head -n -1 | jq -r '.[].Id' 2>/dev/null); do
                                call "$s" DELETE "/containers/$c?force=1" >/dev/null 2>&1 || true
                        done
                fi
                stop_pid "$(cat "$d/dockerd.own.pid" 2>/dev/null)" dockerd
                pid=$(cat "$x/containerd/containerd.pid" 2>/dev/null || true)
                if [ -n "$pid" ] && grep -q "$x" "/proc/$pid/cmdline" 2>/dev/null; then
                        stop_pid "$pid" containerd
                fi
                for c in /proc/[0-9]*/cmdline; do
                        pid=${c#/proc/}
                        pid=${pid%/cmdline}
                        if { tr '\0' ' ' <"$c"; } 2>/dev/null | grep -q "containerd-shim.* -address $x/"; then
                                stop_pid "$pid" containerd-shim
                        fi
                done
                # Its mounts first (below), then the directory.
                [ -L "$d/x" ] && echo "$x" >>"$dir/xroots"
        done
        local l
        while read -r l; do
                [ -n "$l" ] && ip netns del "$l" 2>/dev/null || true
        done <"$dir/netns"
        while read -r l; do
                [ -n "$l" ] && ip link del "$l" 2>/dev/null || true
        done <"$dir/links"
        # What the nodes mounted under their roots (overlay layers, network namespaces).
        grep " $dir" /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
        while read -r l; do
                grep " $l" /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
                rm -rf "$l"
        done < <(cat "$dir/xroots" 2>/dev/null)
        rm -rf "$dir"
}

cmd=${1:-}
dir=${2:-}
[ -n "$dir" ] || die "usage: swarm.sh up|down DIR [IMAGE...]"
shift 2
case $cmd in
up) up "$@" ;;
down) down ;;
*) die "usage: swarm.sh up|down DIR [IMAGE...]" ;;
esac
