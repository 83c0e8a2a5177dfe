#!/usr/bin/env python3
"""Checks DESIGN.md's layering on the built objects: which file calls which is read from the
symbols each object defines and needs (nm), so it sees calls, not includes.

- No circles between files: two files (or a ring of them) never call each other both ways.
- Folders call only downwards: api -> daemon's managers -> the domain folders -> engine, and the
  domain folders among themselves swarm -> projects -> containers -> images; compose/ is pure (it may call
  util and images/reference only); only daemon/main.c calls into api/.

usage: scripts/lint-layers.py BUILD_DIR
(from the repository root; prints what is wrong and exits 1 when anything is)
"""
import collections
import glob
import os
import subprocess
import sys

# Higher folders may call lower ones, never the reverse. daemon/ itself holds two layers: the
# process and the managers (TOP) above every domain, and the shared helpers (BASE) below them.
BASE = {"daemon/util.c", "daemon/log.c", "daemon/archive.c", "daemon/archive_dl.c",
        "daemon/config.c",
        "daemon/config_load.c", "daemon/config_yaml.c", "daemon/config_live.c",
        "daemon/config_policy.c", "daemon/sdnotify.c",
        "daemon/security/policy.c"}  # the pure evaluator: below everything that creates
RANK = {
    "api": 70,
    "daemon": 60,          # main, manager, housekeeping, system (BASE files rank 0)
    "daemon/swarm": 55,    # stacks read compose bodies through projects/
    "daemon/projects": 50,
    "daemon/containers": 40,
    "daemon/images": 30,
    "daemon/monitor": 30,
    "daemon/compose": 20,
    "daemon/scan": 20,     # pure: SBOM parsing, version order, CVSS, OSV (images calls it)
    "daemon/security": 25,  # enforce.c: the live config's policies, for the domain folders
    "daemon/engine": 10,
}
COMPOSE_MAY_CALL = BASE | {"daemon/images/reference.c"}


def rank(path):
    if path in BASE:
        return 0
    return RANK.get(os.path.dirname(path), 0)


def symbols(build):
    defs, needs = {}, collections.defaultdict(set)
    for obj in glob.glob(os.path.join(build, "obj", "**", "*.o"), recursive=True):
        rel = os.path.relpath(obj, os.path.join(build, "obj"))[:-2] + ".c"
        if not rel.startswith(("daemon/", "api/")) or not os.path.exists(rel):
            continue  # outside the layers, or left behind by a source since removed
        out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            f = line.split()
            if len(f) == 3 and f[1] in "TDBRC":
                defs[f[2]] = rel
            elif len(f) == 2 and f[0] == "U":
                needs[rel].add(f[1])
    return defs, needs


def cycles(edges, nodes):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def main():
    if len(sys.argv) != 2 or not os.path.isdir(os.path.join(sys.argv[1], "obj")):
        print("usage: scripts/lint-layers.py BUILD_DIR (after make)", file=sys.stderr)
        return 2
    defs, needs = symbols(sys.argv[1])
    if not defs:
        print("lint-layers: no objects found")
        return 1
    edges, why = collections.defaultdict(set), collections.defaultdict(set)
    for f, syms in needs.items():
        for s in syms:
            t = defs.get(s)
            if t and t != f:
                edges[f].add(t)
                why[(f, t)].add(s)
    bad = 0
    for comp in cycles(edges, set(needs) | set(defs.values())):
        bad += 1
        print("circle between files: " + ", ".join(comp))
        for a in comp:
            for b in comp:
                if b in edges[a]:
                    print(f"    {a} -> {b}: {' '.join(sorted(why[(a, b)])[:6])}")
    for a in sorted(edges):
        for b in sorted(edges[a]):
            reason = None
            if a.startswith("daemon/compose/") and not b.startswith("daemon/compose/"):
                if b not in COMPOSE_MAY_CALL:
                    reason = "compose/ is pure"
            elif b.startswith("api/") and not a.startswith("api/") and a != "daemon/main.c":
                reason = "only main.c calls into api/"
            elif a.startswith("api/") and b.startswith("daemon/engine/"):
                reason = "handlers reach the engine through a manager"
            elif os.path.dirname(a) != os.path.dirname(b) and rank(a) <= rank(b) \
                    and b not in BASE and a != "daemon/main.c":
                reason = "a lower folder calls up"
            if reason:
                bad += 1
                print(f"{reason}: {a} -> {b}: {' '.join(sorted(why[(a, b)])[:6])}")
    if bad:
        print(f"lint-layers: {bad} problem(s)")
        return 1
    print(f"lint-layers: {len(set(needs) | set(defs.values()))} files, {sum(map(len, edges.values()))} "
          "file-to-file calls, no circle, every call goes down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
